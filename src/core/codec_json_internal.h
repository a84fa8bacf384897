/* SPDX-License-Identifier: MIT */
/*
 * What the files of the JSON codec share (docs/JSON.md is the contract):
 *
 *   codec_json.c         the codec table: probe, framing, decode entry
 *   codec_json_doc.c     a parsed line: yajl's event parser fills a flat
 *                        array of values that the readers walk
 *   codec_json_schema.c  names and the field table of every message, the
 *                        one source both directions read
 *   codec_json_native.c  decoding the native form
 *   codec_json_encode.c  encoding (always the native form, with jansson)
 *   codec_json_dpdk.c    decoding DPDK's {"instruction"} / {"policy"} forms
 *   codec_json_value.c   typed readers of JSON values, and the error
 *                        reports that say where in the line things went wrong
 *
 * yajl checks the syntax of a line, and codec_json_doc.c adds what jansson
 * (the codec's parser before) refuses and yajl takes, then stores the
 * values.  A line refused there is described by jansson (codec_json.c),
 * whose wording the documentation and the tests pin.  Nothing else here reads
 * JSON syntax except the locator in codec_json_value.c, which walks text
 * already accepted to find the byte offset of a key or array element for
 * an error (only for an error: decoding a valid line never walks it).
 */
#ifndef VPWR_CODEC_JSON_INTERNAL_H
#define VPWR_CODEC_JSON_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "codec_internal.h"

#define VPWR_JSON_VERSION 1

/* One decode: the frame, and where errors go. */
struct vpwr_json_in {
	const uint8_t *text;
	size_t len;
	struct vpwr_decode_error *err;
};

/* ------------------------------------------------------------ values */

enum vpwr_jv_type {
	VJ_NULL,
	VJ_FALSE,
	VJ_TRUE,
	VJ_INTEGER,
	VJ_REAL,   /* its value is never needed: every field is an integer */
	VJ_STRING,
	VJ_ARRAY,
	VJ_OBJECT,
};

/*
 * One value of a parsed line.  The values are stored in document order: a
 * container is followed by its contents, an object's members as a key (a
 * VJ_STRING) and then its value.  Elements and keys lead to their next
 * sibling by `next`.
 */
struct vpwr_jv {
	uint8_t type;  /* enum vpwr_jv_type */
	uint8_t pad_;
	uint16_t next; /* the next element or key is this + next; 0: none */
	uint16_t n;    /* string: bytes; array: elements; object: members */
	uint16_t up;   /* while parsing: distance to the enclosing container */
	union {
		int64_t i;     /* VJ_INTEGER */
		const char *s; /* VJ_STRING: UTF-8, NUL-terminated, no NUL */
	};
};

static inline bool vpwr_jv_is(const struct vpwr_jv *v, enum vpwr_jv_type t)
{
	return v && v->type == t;
}

static inline bool vpwr_jv_is_bool(const struct vpwr_jv *v)
{
	return v && (v->type == VJ_TRUE || v->type == VJ_FALSE);
}

/* The first element or key of a container, or NULL. */
static inline const struct vpwr_jv *vpwr_jv_first(const struct vpwr_jv *c)
{
	return c->n ? c + 1 : NULL;
}

/* The element or key after `v`, or NULL. */
static inline const struct vpwr_jv *vpwr_jv_next(const struct vpwr_jv *v)
{
	return v->next ? v + v->next : NULL;
}

/* An object's keys k, in the order of the line; each one's value is k + 1. */
#define vpwr_jv_foreach_key(obj, k) \
	for ((k) = vpwr_jv_first(obj); (k); (k) = vpwr_jv_next(k))

/* The value of member `key` of object `obj`, or NULL.  Inline: with a
 * literal key, its length and the comparison fold into a few loads. */
static inline const struct vpwr_jv *vpwr_jv_get(const struct vpwr_jv *obj,
						const char *key)
{
	size_t n = strlen(key);
	const struct vpwr_jv *k;

	vpwr_jv_foreach_key(obj, k)
		if (k->n == n && !memcmp(k->s, key, n))
			return k + 1;
	return NULL;
}

/* Storage for the values and strings of most lines, in the decode call. */
#define VPWR_JSON_STACK_VALUES 128
#define VPWR_JSON_STACK_TEXT 768
#define VPWR_JSON_STACK_KEYS 64
#define VPWR_JSON_ARENA 2560 /* yajl's own allocations */

/*
 * A parsed line.  Lives on the decoder's stack; longer lines than the
 * arrays here take one heap block each, of a size the line length bounds.
 */
struct vpwr_json_doc {
	const struct vpwr_jv *root; /* after vpwr_json_parse(): v[0] */
	size_t end;                 /* the offset just past the root */
	const char *why;            /* a refusal: what, for the record */
	size_t at;                  /* and where (codec_json.c asks jansson) */

	/* the rest is codec_json_doc.c's */
	void *yajl;
	const uint8_t *in;
	size_t len;
	struct vpwr_jv *v;
	uint32_t nr, cap;
	char *text;
	size_t used, text_cap;
	uint32_t *key_hash; /* the keys of the open objects, innermost last */
	uint16_t *key_at;
	uint32_t nr_keys, keys_cap;
	int32_t cur, last; /* the open container, its last element or key */
	uint32_t depth;
	int rc;
	bool done;
	size_t arena_used;
	void *heap[3];
	struct vpwr_jv stack_v[VPWR_JSON_STACK_VALUES];
	uint32_t stack_key_hash[VPWR_JSON_STACK_KEYS];
	uint16_t stack_key_at[VPWR_JSON_STACK_KEYS];
	char stack_text[VPWR_JSON_STACK_TEXT];
	_Alignas(16) unsigned char arena[VPWR_JSON_ARENA];
};

/*
 * Parse the JSON value that starts `text` (after white space), which must
 * be an object or an array, and stop after it, at doc->end; doc->root is
 * then the value, valid until vpwr_json_doc_free().  Returns 0,
 * -VPWR_E_PROTO for what jansson refuses too (doc->why and doc->at say
 * what was seen where), -ENOMEM, or -VPWR_E_TOOBIG for more than
 * VPWR_JSON_MAX_LINE bytes (nothing to free then).  Call
 * vpwr_json_doc_free() after any other return.
 */
int vpwr_json_parse(struct vpwr_json_doc *doc, const uint8_t *text,
		    size_t len);
void vpwr_json_doc_free(struct vpwr_json_doc *doc);

/* ------------------------------------------------------------ schema */

/* How a field's JSON value maps to struct vpwr_msg. */
enum vpwr_json_kind {
	JK_U32,       /* number, 0 .. max */
	JK_BOOL,      /* true/false <-> u32 1/0 */
	JK_OP,        /* scale operation name */
	JK_KIND,      /* policy kind name */
	JK_KIND_ALL,  /* policy kind name, or "all" for 0 */
	JK_WORKLOAD,  /* workload level name */
	JK_HOURS,     /* array of hours <-> 24-bit mask */
	JK_VCPUS,     /* cpulist string or array of numbers <-> vpwr_cpuset */
	JK_MACS,      /* array of "aa:bb:cc:dd:ee:ff" <-> nr_macs, macs */
	JK_FREQS,     /* array of kHz <-> u.freqs.nr, u.freqs.khz */
	JK_CAPS,      /* array of capability names <-> bit mask */
	JK_WANT,      /* array of QUERY_VCPUS item names <-> bit mask */
	JK_VL_KHZ,    /* array of kHz <-> u.vcpus.nr, u.vcpus.cur_khz */
	JK_VL_TURBO,  /* array of booleans <-> u.vcpus.turbo_mask */
	JK_VL_PRIO,   /* array of booleans <-> u.vcpus.priority_mask */
};

struct vpwr_json_field {
	const char *key;
	uint8_t kind;     /* enum vpwr_json_kind */
	uint8_t optional; /* omitted when zero/empty, read as zero if absent */
	uint16_t off;     /* into struct vpwr_msg */
	uint32_t max;     /* JK_U32: the largest value */
};

struct vpwr_json_body {
	const struct vpwr_json_field *fields;
	unsigned nr;
};

/* A name for each value of a small enumeration or each bit of a mask. */
struct vpwr_json_names {
	const char *const *names; /* NULL entries have no name */
	unsigned nr;
};

extern const struct vpwr_json_names vpwr_json_types, vpwr_json_ops,
	vpwr_json_kinds, vpwr_json_workloads, vpwr_json_caps, vpwr_json_wants;

/*
 * The body a message of this type, flags and status carries besides the
 * common keys; NULL when the combination is meaningless.
 */
const struct vpwr_json_body *vpwr_json_body_of(unsigned type, unsigned flags,
					       int32_t status);
/* Whether any message has a body field called `key`. */
bool vpwr_json_known_key(const char *key);
/* The name of value `v`, or NULL. */
const char *vpwr_json_name(const struct vpwr_json_names *t, unsigned v);
/* "scale request", "reply to scale", ... for error texts. */
void vpwr_json_describe(const struct vpwr_msg *m, char *buf, size_t len);

/* ----------------------------------------------------- errors, places */

/* Fill in->err (offset, line, column from the offset; text) and return rc. */
int vpwr_json_fail(const struct vpwr_json_in *in, int rc, size_t off,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/* Offset of the value of member `key` of the object at `obj`, or `obj`. */
size_t vpwr_json_member(const struct vpwr_json_in *in, size_t obj,
			const char *key);
/* Offset of element `idx` of the array at `arr`, or `arr`. */
size_t vpwr_json_element(const struct vpwr_json_in *in, size_t arr,
			 size_t idx);

/* ----------------------------------------------------------- readers */

/*
 * Each reads the value `v` of member `key` of the object at offset `obj`,
 * and fails with -VPWR_E_PROTO and a located explanation when it does not
 * fit.  The value's own offset is looked up only then: accepted values
 * cost no walk of the text.
 */
int vpwr_json_get_uint(const struct vpwr_json_in *in, const struct vpwr_jv *v,
		       size_t obj, const char *key, uint64_t max,
		       uint64_t *out);
int vpwr_json_get_u32(const struct vpwr_json_in *in, const struct vpwr_jv *v,
		      size_t obj, const char *key, uint32_t max, uint32_t *out);
int vpwr_json_get_bool(const struct vpwr_json_in *in, const struct vpwr_jv *v,
		       size_t obj, const char *key, uint32_t *out);
int vpwr_json_get_string(const struct vpwr_json_in *in, const struct vpwr_jv *v,
			 size_t obj, const char *key, const char **out);
/* A name of table `t` (matched exactly); *out is its value. */
int vpwr_json_get_name(const struct vpwr_json_in *in, const struct vpwr_jv *v,
		       size_t obj, const char *key,
		       const struct vpwr_json_names *t, unsigned *out);
/* Distinct hours 0..23 as a mask. */
int vpwr_json_get_hours(const struct vpwr_json_in *in, const struct vpwr_jv *v,
			size_t obj, const char *key, uint32_t *mask);
/* Distinct vCPU numbers below VPWR_MAX_CPUS, or a cpulist string. */
int vpwr_json_get_vcpus(const struct vpwr_json_in *in, const struct vpwr_jv *v,
			size_t obj, const char *key, struct vpwr_cpuset *set,
			bool allow_cpulist);
/* Up to VPWR_MSG_MAX_MACS MAC strings into p->macs / p->nr_macs. */
int vpwr_json_get_macs(const struct vpwr_json_in *in, const struct vpwr_jv *v,
		       size_t obj, const char *key, struct vpwr_policy *pol);
/* Names of table `t` (or single-bit numbers for unnamed bits) as a mask. */
int vpwr_json_get_flags(const struct vpwr_json_in *in, const struct vpwr_jv *v,
			size_t obj, const char *key,
			const struct vpwr_json_names *t, uint32_t *mask);
/* Up to `max` numbers; *nr receives the count. */
int vpwr_json_get_u32_list(const struct vpwr_json_in *in,
			   const struct vpwr_jv *v,
			   size_t obj, const char *key, uint32_t *out,
			   uint32_t max, uint32_t *nr);
/* Up to 64 booleans as a mask; *nr receives the count. */
int vpwr_json_get_bool_list(const struct vpwr_json_in *in,
			    const struct vpwr_jv *v,
			    size_t obj, const char *key, uint64_t *mask,
			    uint32_t *nr);

/* --------------------------------------------------- the three halves */

/* The object `root` (at offset `obj`) in the native form. */
int vpwr_json_decode_native(const struct vpwr_json_in *in,
			    const struct vpwr_jv *root,
			    size_t obj, struct vpwr_msg *m);
/* The object `root` (at offset `obj`) in one of DPDK's forms. */
int vpwr_json_decode_dpdk(const struct vpwr_json_in *in,
			  const struct vpwr_jv *root,
			  size_t obj, struct vpwr_msg *m);
/* vpwr_codec_encode() for json. */
int vpwr_json_encode(const struct vpwr_msg *m, uint8_t *buf, size_t cap);

#endif
