/* SPDX-License-Identifier: MIT */
/*
 * Decoding the native JSON form: one object whose common keys (v, seq,
 * type, reply, notify, status, error, reason, vcpu) say what the message
 * is, and whose other keys are exactly the body the schema lists for it.
 * A key the message does not use is refused rather than skipped, so that a
 * typo ("vpcu") or a field sent to the wrong message fails loudly instead
 * of being silently ignored.
 */
#include <limits.h>
#include <stdio.h>

#include "codec_json_internal.h"
#include "internal.h"

static const char *const common_keys[] = {
	"v", "seq", "type", "reply", "notify", "status", "error", "reason",
	"vcpu",
};

/* The three lists of a QUERY_VCPUS reply, which must agree in length. */
enum { VL_KHZ, VL_TURBO, VL_PRIO, VL_COUNT };

struct ndec {
	const struct vpwr_json_in *in;
	const struct vpwr_jv *root;
	size_t obj;           /* offset of the object in the frame */
	struct vpwr_msg *m;
	bool vl;              /* a QUERY_VCPUS list was read */
	uint32_t vl_nr[VL_COUNT];
};

/* Keys are compared for every member of every line: look at the first
 * byte before calling strcmp. */
static bool same_key(const char *a, const char *b)
{
	return a[0] == b[0] && !strcmp(a, b);
}

static size_t at(const struct ndec *d, const char *key)
{
	return vpwr_json_member(d->in, d->obj, key);
}

static const struct vpwr_jv *get(const struct ndec *d, const char *key)
{
	return vpwr_jv_get(d->root, key);
}

static void put_u32(struct vpwr_msg *m, uint16_t off, uint32_t v)
{
	memcpy((uint8_t *)m + off, &v, sizeof(v));
}

/*
 * Take seq and type from the line before anything is checked, when they
 * are well-formed, so that a refused line is answered under its own seq
 * and type.
 */
static void peek_header(struct ndec *d)
{
	const struct vpwr_jv *seq = get(d, "seq"), *type = get(d, "type");
	int64_t n;

	n = vpwr_jv_is(seq, VJ_INTEGER) ? seq->i : -1;
	if (n >= 0 && n <= UINT32_MAX)
		d->m->seq = (uint32_t)n;
	for (unsigned t = 0;
	     vpwr_jv_is(type, VJ_STRING) && t < vpwr_json_types.nr; t++)
		if (vpwr_json_types.names[t] &&
		    same_key(vpwr_json_types.names[t], type->s))
			d->m->type = (uint16_t)t;
	n = vpwr_jv_is(type, VJ_INTEGER) ? type->i : -1;
	if (n >= 0 && n <= UINT8_MAX)
		d->m->type = (uint16_t)n;
}

static int read_type(struct ndec *d)
{
	const struct vpwr_jv *v = get(d, "type");
	uint32_t n;

	if (!v)
		return vpwr_json_fail(d->in, -VPWR_E_PROTO, d->obj,
				      "the object has no \"type\"");
	if (vpwr_jv_is(v, VJ_STRING)) {
		if (!d->m->type)
			return vpwr_json_fail(d->in, -EBADMSG, at(d, "type"),
					      "unknown message type \"%.32s\"",
					      v->s);
		return 0;
	}
	/* Numbers are for NACKs of types that have no name. */
	if (!vpwr_jv_is(v, VJ_INTEGER))
		return vpwr_json_fail(d->in, -VPWR_E_PROTO, at(d, "type"),
				      "\"type\" must be a message type name");
	if (vpwr_json_get_u32(d->in, v, d->obj, "type", UINT8_MAX, &n))
		return -VPWR_E_PROTO;
	d->m->type = (uint16_t)n;
	return 0;
}

/* One spelling per type: a number only where there is no name, and only
 * in a NACK (the only message that can have such a type). */
static int check_type_number(struct ndec *d)
{
	const char *name = vpwr_json_name(&vpwr_json_types, d->m->type);

	if (!vpwr_jv_is(get(d, "type"), VJ_INTEGER))
		return 0;
	if (name)
		return vpwr_json_fail(d->in, -VPWR_E_PROTO, at(d, "type"),
				      "type %u is written \"%s\"", d->m->type,
				      name);
	if (!(d->m->flags & VPWR_MSG_F_REPLY) || !d->m->status)
		return vpwr_json_fail(d->in, -EBADMSG, at(d, "type"),
				      "unknown message type %u", d->m->type);
	return 0;
}

static int read_version(struct ndec *d)
{
	const struct vpwr_jv *v = get(d, "v");
	uint32_t n;
	int rc;

	if (!v) /* absent means version 1 */
		return 0;
	rc = vpwr_json_get_u32(d->in, v, d->obj, "v", UINT32_MAX, &n);
	if (!rc && n != VPWR_JSON_VERSION)
		rc = vpwr_json_fail(d->in, -VPWR_E_VERSION, at(d, "v"),
				    "protocol version %u is not %d", n,
				    VPWR_JSON_VERSION);
	return rc;
}

static int read_flag(struct ndec *d, const char *key, uint16_t flag)
{
	const struct vpwr_jv *v = get(d, key);
	uint32_t b = 0;
	int rc = v ? vpwr_json_get_bool(d->in, v, d->obj, key, &b) : 0;

	if (b)
		d->m->flags |= flag;
	return rc;
}

static int refuse(struct ndec *d, const char *key, const char *why)
{
	char what[48];

	vpwr_json_describe(d->m, what, sizeof(what));
	return vpwr_json_fail(d->in, -VPWR_E_PROTO, at(d, key),
			      "\"%s\" %s, and this is a %s", key, why, what);
}

static int read_status(struct ndec *d)
{
	const struct vpwr_jv *v = get(d, "status");
	int64_t n;

	if (!(d->m->flags & VPWR_MSG_F_REPLY))
		return v ? refuse(d, "status", "belongs only in replies") : 0;
	if (!v)
		return vpwr_json_fail(d->in, -VPWR_E_PROTO, d->obj,
				      "a reply needs \"status\"");
	if (!vpwr_jv_is(v, VJ_INTEGER))
		return vpwr_json_fail(d->in, -VPWR_E_PROTO, at(d, "status"),
				      "\"status\" must be an integer");
	n = v->i;
	if (n > 0 || n < INT32_MIN)
		return vpwr_json_fail(d->in, -VPWR_E_PROTO, at(d, "status"),
				      "\"status\" must be 0 or a negative error code, not %lld",
				      (long long)n);
	d->m->status = (int32_t)n;
	return 0;
}

/* "error" names the status for people; receivers go by "status" alone. */
static int read_error_reason(struct ndec *d)
{
	const struct vpwr_jv *e = get(d, "error"), *r = get(d, "reason");
	const char *s;
	int rc;

	if (e && !d->m->status)
		return refuse(d, "error", "belongs only in refusals");
	if (e && (rc = vpwr_json_get_string(d->in, e, d->obj, "error",
					    &s)))
		return rc;
	if (!r)
		return 0;
	if (!(d->m->flags & (VPWR_MSG_F_REPLY | VPWR_MSG_F_NOTIFY)))
		return refuse(d, "reason", "belongs only in replies and notifications");
	rc = vpwr_json_get_string(d->in, r, d->obj, "reason", &s);
	if (!rc && strlen(s) >= VPWR_REASON_MAX)
		rc = vpwr_json_fail(d->in, -VPWR_E_PROTO, at(d, "reason"),
				    "\"reason\" has %zu bytes, at most %d",
				    strlen(s), VPWR_REASON_MAX - 1);
	if (!rc)
		memcpy(d->m->reason, s, strlen(s) + 1);
	return rc;
}

static int read_vcpu(struct ndec *d)
{
	const struct vpwr_jv *v = get(d, "vcpu");

	/* Absent is VPWR_VCPU_NONE, which therefore cannot be written. */
	return v ? vpwr_json_get_u32(d->in, v, d->obj, "vcpu",
				     VPWR_VCPU_NONE - 1, &d->m->vcpu)
		 : 0;
}

static int no_body(struct ndec *d)
{
	struct vpwr_msg *m = d->m;
	char what[48];

	vpwr_json_describe(m, what, sizeof(what));
	if (m->type < 1 || m->type > VPWR_MSG_TYPE_MAX_)
		return vpwr_json_fail(d->in, -EBADMSG, at(d, "type"),
				      "unknown message type %u", m->type);
	if (m->flags & VPWR_MSG_F_NOTIFY)
		return vpwr_json_fail(d->in, -VPWR_E_PROTO, at(d, "notify"),
				      "a %s cannot be: only limits_changed is",
				      what);
	return vpwr_json_fail(d->in, -VPWR_E_PROTO, at(d, "type"),
			      "limits_changed is a host notification: a %s cannot be",
			      what);
}

/* The kinds whose values are lists and fill more than one u32. */
static int read_list_field(struct ndec *d, const struct vpwr_json_field *f,
			   const struct vpwr_jv *v)
{
	const struct vpwr_json_in *in = d->in;
	struct vpwr_msg *m = d->m;
	size_t where = d->obj;

	switch (f->kind) {
	case JK_VCPUS:
		return vpwr_json_get_vcpus(in, v, where, f->key,
					   &m->u.policy.vcpus, true);
	case JK_MACS:
		return vpwr_json_get_macs(in, v, where, f->key, &m->u.policy);
	case JK_FREQS:
		return vpwr_json_get_u32_list(in, v, where, f->key,
					      m->u.freqs.khz, VPWR_MSG_MAX_FREQS,
					      &m->u.freqs.nr);
	case JK_VL_KHZ:
		d->vl = true;
		return vpwr_json_get_u32_list(in, v, where, f->key,
					      m->u.vcpus.cur_khz,
					      VPWR_MSG_MAX_VCPUS,
					      &d->vl_nr[VL_KHZ]);
	case JK_VL_TURBO:
		d->vl = true;
		return vpwr_json_get_bool_list(in, v, where, f->key,
					       &m->u.vcpus.turbo_mask,
					       &d->vl_nr[VL_TURBO]);
	case JK_VL_PRIO:
		d->vl = true;
		return vpwr_json_get_bool_list(in, v, where, f->key,
					       &m->u.vcpus.priority_mask,
					       &d->vl_nr[VL_PRIO]);
	default:
		return vpwr_json_fail(in, -EINVAL, at(d, f->key), "schema error");
	}
}

static int read_field(struct ndec *d, const struct vpwr_json_field *f,
		      const struct vpwr_jv *v)
{
	const struct vpwr_json_in *in = d->in;
	size_t where = d->obj; /* the readers find the value for an error */
	uint32_t u = 0;
	unsigned n = 0;
	int rc;

	switch (f->kind) {
	case JK_U32:
		rc = vpwr_json_get_u32(in, v, where, f->key, f->max, &u);
		break;
	case JK_BOOL:
		rc = vpwr_json_get_bool(in, v, where, f->key, &u);
		break;
	case JK_OP:
		rc = vpwr_json_get_name(in, v, where, f->key, &vpwr_json_ops, &n);
		u = n;
		break;
	case JK_KIND:
	case JK_KIND_ALL:
		rc = vpwr_json_get_name(in, v, where, f->key, &vpwr_json_kinds,
					&n);
		if (!rc && !n && f->kind == JK_KIND)
			rc = vpwr_json_fail(in, -VPWR_E_PROTO, at(d, f->key),
					    "\"kind\": \"all\" only selects what policy_remove removes");
		u = n;
		break;
	case JK_WORKLOAD:
		rc = vpwr_json_get_name(in, v, where, f->key,
					&vpwr_json_workloads, &n);
		u = n;
		break;
	case JK_HOURS:
		rc = vpwr_json_get_hours(in, v, where, f->key, &u);
		break;
	case JK_CAPS:
	case JK_WANT:
		rc = vpwr_json_get_flags(in, v, where, f->key,
					 f->kind == JK_CAPS ? &vpwr_json_caps
							    : &vpwr_json_wants,
					 &u);
		break;
	default:
		return read_list_field(d, f, v);
	}
	if (!rc)
		put_u32(d->m, f->off, u);
	return rc;
}

static bool is_common(const char *key)
{
	for (size_t i = 0; i < VPWR_ARRAY_SIZE(common_keys); i++)
		if (same_key(common_keys[i], key))
			return true;
	return false;
}

static int stray_key(struct ndec *d, const char *key)
{
	char what[48];

	vpwr_json_describe(d->m, what, sizeof(what));
	if (vpwr_json_known_key(key))
		return vpwr_json_fail(d->in, -VPWR_E_PROTO, at(d, key),
				      "\"%.32s\" does not belong in a %s", key,
				      what);
	return vpwr_json_fail(d->in, -VPWR_E_PROTO, at(d, key),
			      "unknown key \"%.32s\" in a %s", key, what);
}

static int read_body(struct ndec *d, const struct vpwr_json_body *b)
{
	uint64_t seen = 0;
	const struct vpwr_jv *k;
	char what[48];
	int rc;

	vpwr_jv_foreach_key(d->root, k) {
		const char *key = k->s;
		unsigned i;

		if (is_common(key))
			continue;
		for (i = 0; i < b->nr && !same_key(b->fields[i].key, key); i++)
			;
		if (i == b->nr)
			return stray_key(d, key);
		rc = read_field(d, &b->fields[i], k + 1);
		if (rc)
			return rc;
		seen |= (uint64_t)1 << i;
	}
	for (unsigned i = 0; i < b->nr; i++) {
		if (b->fields[i].optional || (seen & ((uint64_t)1 << i)))
			continue;
		vpwr_json_describe(d->m, what, sizeof(what));
		return vpwr_json_fail(d->in, -VPWR_E_PROTO, d->obj,
				      "a %s needs \"%s\"", what,
				      b->fields[i].key);
	}
	if (!d->vl)
		return 0;
	if (d->vl_nr[VL_KHZ] != d->vl_nr[VL_TURBO] ||
	    d->vl_nr[VL_KHZ] != d->vl_nr[VL_PRIO])
		return vpwr_json_fail(d->in, -VPWR_E_PROTO, at(d, "turbo"),
				      "\"cur_khz\", \"turbo\" and \"priority\" have %u, %u and %u entries: one per vCPU each",
				      d->vl_nr[VL_KHZ], d->vl_nr[VL_TURBO],
				      d->vl_nr[VL_PRIO]);
	d->m->u.vcpus.nr = d->vl_nr[VL_KHZ];
	return 0;
}

int vpwr_json_decode_native(const struct vpwr_json_in *in,
			    const struct vpwr_jv *root,
			    size_t obj, struct vpwr_msg *m)
{
	struct ndec d = { .in = in, .root = root, .obj = obj, .m = m };
	const struct vpwr_json_body *b;
	int rc;

	peek_header(&d);
	rc = read_type(&d);
	if (!rc && get(&d, "seq")) /* absent means 0 */
		rc = vpwr_json_get_u32(in, get(&d, "seq"), d.obj, "seq",
				       UINT32_MAX, &m->seq);
	if (!rc)
		rc = read_version(&d);
	if (!rc)
		rc = read_flag(&d, "reply", VPWR_MSG_F_REPLY);
	if (!rc)
		rc = read_flag(&d, "notify", VPWR_MSG_F_NOTIFY);
	if (!rc && m->flags == (VPWR_MSG_F_REPLY | VPWR_MSG_F_NOTIFY))
		rc = vpwr_json_fail(in, -VPWR_E_PROTO, at(&d, "notify"),
				    "a message cannot be both a reply and a notification");
	if (!rc)
		rc = read_status(&d);
	if (!rc)
		rc = read_error_reason(&d);
	if (!rc)
		rc = read_vcpu(&d);
	if (!rc)
		rc = check_type_number(&d);
	if (rc)
		return rc;
	b = vpwr_json_body_of(m->type, m->flags, m->status);
	return b ? read_body(&d, b) : no_body(&d);
}
