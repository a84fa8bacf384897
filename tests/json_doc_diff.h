/* SPDX-License-Identifier: MIT */
/*
 * The JSON codec's parsed line (src/core/codec_json_doc.c: yajl plus the
 * checks that make it refuse what jansson refuses) against jansson's
 * json_loadb() with the flags the codec used before: both must accept or
 * both refuse, and when they accept, hold the same values (types,
 * integers, strings byte for byte, keys in order) and stop at the same
 * byte.  Shared by tests/check_codec_json_doc.c and tests/fuzz/fuzz_json.c
 * (which include it; it defines static functions).
 */
#ifndef VPWR_JSON_DOC_DIFF_H
#define VPWR_JSON_DOC_DIFF_H

#include <jansson.h>
#include <string.h>

#include "codec_json_internal.h"
#include "internal.h"

enum json_doc_diff {
	JDD_ACCEPTED,  /* both accept, the same values */
	JDD_REFUSED,   /* both refuse */
	JDD_NUL,       /* only jansson accepts, by dropping a NUL byte */
	JDD_DIFFERENT, /* a bug: *why says how */
};

/* Why a and b differ, or NULL. */
static const char *json_doc_differ(const struct vpwr_jv *a, json_t *b)
{
	const struct vpwr_jv *k;
	const char *key, *why;
	json_t *v;
	size_t i = 0;

	switch (json_typeof(b)) {
	case JSON_NULL:
		return a->type == VJ_NULL ? NULL : "not null";
	case JSON_TRUE:
		return a->type == VJ_TRUE ? NULL : "not true";
	case JSON_FALSE:
		return a->type == VJ_FALSE ? NULL : "not false";
	case JSON_REAL:
		return a->type == VJ_REAL ? NULL : "not a real";
	case JSON_INTEGER:
		if (a->type != VJ_INTEGER)
			return "not an integer";
		return a->i == json_integer_value(b) ? NULL : "another integer";
	case JSON_STRING:
		if (a->type != VJ_STRING)
			return "not a string";
		if (a->n != json_string_length(b) ||
		    memcmp(a->s, json_string_value(b), a->n) || a->s[a->n])
			return "another string";
		return NULL;
	case JSON_ARRAY:
		if (a->type != VJ_ARRAY || a->n != json_array_size(b))
			return "not an array of that size";
		for (k = vpwr_jv_first(a); k; k = vpwr_jv_next(k), i++)
			if ((why = json_doc_differ(k, json_array_get(b, i))))
				return why;
		return i == a->n ? NULL : "elements miscounted";
	case JSON_OBJECT:
		if (a->type != VJ_OBJECT || a->n != json_object_size(b))
			return "not an object of that size";
		k = vpwr_jv_first(a);
		json_object_foreach(b, key, v) {
			if (!k || strcmp(k->s, key))
				return "other keys, or in another order";
			if ((why = json_doc_differ(k + 1, v)))
				return why;
			if (vpwr_jv_get(a, key) != k + 1)
				return "vpwr_jv_get() finds another value";
			k = vpwr_jv_next(k);
		}
		return k ? "more keys" : NULL;
	}
	return "unknown type";
}

/*
 * Whether jansson accepted the line only by dropping NUL bytes: one that
 * follows a number or a literal is ungot, then taken for the end of the
 * lexer's buffer and skipped, and the position lags one byte for each.
 * codec_json_doc.c refuses such lines (the codec refused them before all
 * the same, as "trailing data after the object").
 */
static bool json_doc_dropped_nul(const void *text, size_t len, size_t pos)
{
	const char *p = text;
	size_t end = pos, nuls;

	for (;;) {
		nuls = 0;
		for (size_t i = 0; i < end && i < len; i++)
			nuls += !p[i];
		if (pos + nuls == end)
			return nuls > 0;
		end = pos + nuls;
	}
}

/* Both parsers on text[0..len) (len <= VPWR_JSON_MAX_LINE). */
static enum json_doc_diff json_doc_diff(const void *text, size_t len,
					const char **why)
{
	struct vpwr_json_doc doc;
	json_error_t je;
	json_t *j = json_loadb(text, len,
			       JSON_REJECT_DUPLICATES | JSON_DISABLE_EOF_CHECK,
			       &je);
	int rc = vpwr_json_parse(&doc, text, len);
	enum json_doc_diff res = JDD_DIFFERENT;

	*why = NULL;
	if (rc && rc != -VPWR_E_PROTO)
		*why = "vpwr_json_parse() failed";
	else if (!j && rc)
		res = JDD_REFUSED;
	else if (!j)
		*why = je.text;
	else if (rc && json_doc_dropped_nul(text, len, (size_t)je.position))
		res = JDD_NUL;
	else if (rc)
		*why = doc.why;
	else if (doc.end != (size_t)je.position)
		*why = "the value ends elsewhere";
	else if (!(*why = json_doc_differ(doc.root, j)))
		res = JDD_ACCEPTED;
	vpwr_json_doc_free(&doc);
	json_decref(j);
	return res;
}

#endif
