/* SPDX-License-Identifier: MIT */
/*
 * Encoding a message as one NDJSON line in the native form, from the same
 * schema the decoder reads (codec_json_schema.c).  Replies always use the
 * native form, also to a peer that wrote DPDK's: DPDK's JSON channel has no
 * replies at all, so there is no form of DPDK's to follow.
 *
 * jansson builds and prints the object (JSON_COMPACT, keys in insertion
 * order); the line is then checked against the buffer and VPWR_JSON_MAX_LINE.
 */
#include <jansson.h>
#include <stdio.h>

#include "codec_json_internal.h"
#include "internal.h"

struct enc {
	json_t *root;
	int rc;      /* first failure: -ENOMEM or -EINVAL */
};

/* Takes ownership of `v` (NULL: allocation failed). */
static void put(struct enc *e, const char *key, json_t *v)
{
	if (!v) {
		if (!e->rc)
			e->rc = -ENOMEM;
		return;
	}
	if (json_object_set_new(e->root, key, v) && !e->rc)
		e->rc = -ENOMEM;
}

static void fail(struct enc *e, int rc)
{
	if (!e->rc)
		e->rc = rc;
}

static void put_name(struct enc *e, const char *key,
		     const struct vpwr_json_names *t, uint32_t v)
{
	const char *name = vpwr_json_name(t, v);

	if (name)
		put(e, key, json_string(name));
	else
		fail(e, -EINVAL);
}

static json_t *append(json_t *a, json_t *v)
{
	if (a && json_array_append_new(a, v)) {
		json_decref(a);
		return NULL;
	}
	return a;
}

static json_t *hours_array(uint32_t mask)
{
	json_t *a = json_array();

	for (unsigned h = 0; h < 24; h++)
		if (mask & (1u << h))
			a = append(a, json_integer(h));
	return a;
}

static json_t *flags_array(const struct vpwr_json_names *t, uint32_t mask)
{
	json_t *a = json_array();

	for (unsigned b = 0; b < 32; b++) {
		const char *name = vpwr_json_name(t, b);

		if (!(mask & (1u << b)))
			continue;
		a = append(a, name ? json_string(name)
				   : json_integer((json_int_t)1 << b));
	}
	return a;
}

static json_t *u32_array(const uint32_t *v, uint32_t n)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < n; i++)
		a = append(a, json_integer(v[i]));
	return a;
}

static json_t *bool_array(uint64_t mask, uint32_t n)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < n; i++)
		a = append(a, json_boolean((mask >> i) & 1));
	return a;
}

static json_t *mac_array(const struct vpwr_policy *p)
{
	json_t *a = json_array();
	char s[18];

	for (uint32_t i = 0; i < p->nr_macs; i++) {
		const uint8_t *b = p->macs[i];

		snprintf(s, sizeof(s), "%02x:%02x:%02x:%02x:%02x:%02x", b[0],
			 b[1], b[2], b[3], b[4], b[5]);
		a = append(a, json_string(s));
	}
	return a;
}

/*
 * A cpulist rather than an array: all 1024 vCPUs as numbers would not fit
 * a line, "0-1023" does, and the worst case (every other vCPU) still fits.
 */
static json_t *cpulist(const struct vpwr_cpuset *set)
{
	char buf[VPWR_MAX_CPUS * 3];

	if (vpwr_cpuset_format(set, buf, sizeof(buf)) >= (int)sizeof(buf))
		return NULL;
	return json_string(buf);
}

static bool is_zero(const struct vpwr_msg *m, const struct vpwr_json_field *f)
{
	const struct vpwr_policy *p = &m->u.policy;
	uint32_t u;

	switch (f->kind) {
	case JK_VCPUS:
		return !vpwr_cpuset_count(&p->vcpus);
	case JK_MACS:
		return !p->nr_macs;
	case JK_FREQS:
	case JK_VL_KHZ:
	case JK_VL_TURBO:
	case JK_VL_PRIO:
		return false; /* lists of replies are always sent */
	default:
		memcpy(&u, (const uint8_t *)m + f->off, sizeof(u));
		return !u;
	}
}

/* The kinds whose values are lists built from more than one u32. */
static void put_list_field(struct enc *e, const struct vpwr_msg *m,
			   const struct vpwr_json_field *f)
{
	const struct vpwr_vcpu_list *l = &m->u.vcpus;

	switch (f->kind) {
	case JK_VCPUS:
		put(e, f->key, cpulist(&m->u.policy.vcpus));
		break;
	case JK_MACS:
		put(e, f->key, mac_array(&m->u.policy));
		break;
	case JK_FREQS:
		put(e, f->key, u32_array(m->u.freqs.khz, m->u.freqs.nr));
		break;
	case JK_VL_KHZ:
	case JK_VL_TURBO:
	case JK_VL_PRIO:
		if (l->nr > VPWR_MSG_MAX_VCPUS)
			fail(e, -EINVAL);
		else if (f->kind == JK_VL_KHZ)
			put(e, f->key, u32_array(l->cur_khz, l->nr));
		else
			put(e, f->key, bool_array(f->kind == JK_VL_TURBO
							  ? l->turbo_mask
							  : l->priority_mask,
						  l->nr));
		break;
	default:
		fail(e, -EINVAL);
	}
}

static void put_field(struct enc *e, const struct vpwr_msg *m,
		      const struct vpwr_json_field *f)
{
	uint32_t u;

	memcpy(&u, (const uint8_t *)m + f->off, sizeof(u));
	switch (f->kind) {
	case JK_U32:
		if (u > f->max)
			fail(e, -EINVAL);
		put(e, f->key, json_integer(u));
		break;
	case JK_BOOL:
		if (u > 1) /* true/false cannot say 2 */
			fail(e, -EINVAL);
		put(e, f->key, json_boolean(u));
		break;
	case JK_OP:
		put_name(e, f->key, &vpwr_json_ops, u);
		break;
	case JK_KIND:
	case JK_KIND_ALL:
		put_name(e, f->key, &vpwr_json_kinds, u);
		break;
	case JK_WORKLOAD:
		put_name(e, f->key, &vpwr_json_workloads, u);
		break;
	case JK_HOURS:
		if (u >> 24)
			fail(e, -EINVAL);
		put(e, f->key, hours_array(u));
		break;
	case JK_CAPS:
		put(e, f->key, flags_array(&vpwr_json_caps, u));
		break;
	case JK_WANT:
		put(e, f->key, flags_array(&vpwr_json_wants, u));
		break;
	default:
		put_list_field(e, m, f);
	}
}

static int utf8_len(const uint8_t *s, size_t n)
{
	uint32_t c;
	int len;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		len = 2;
	else if (s[0] >= 0xE0 && s[0] <= 0xEF)
		len = 3;
	else if (s[0] >= 0xF0 && s[0] <= 0xF4)
		len = 4;
	else
		return 0;
	if ((size_t)len > n)
		return 0;
	c = s[0] & (0x7Fu >> len);
	for (int i = 1; i < len; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3F);
	}
	/* Overlong forms, surrogates and code points past U+10FFFF. */
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    (c >= 0xD800 && c <= 0xDFFF) || c > 0x10FFFF)
		return 0;
	return len;
}

/*
 * JSON strings are UTF-8; a reason is whatever bytes the host formatted.
 * Bytes that are not UTF-8 become '?' rather than costing the peer its
 * reply.
 */
static json_t *reason_string(const char *reason)
{
	char buf[VPWR_REASON_MAX];
	size_t n = strnlen(reason, sizeof(buf) - 1);

	for (size_t i = 0; i < n;) {
		int l = utf8_len((const uint8_t *)reason + i, n - i);

		if (l) {
			memcpy(buf + i, reason + i, (size_t)l);
			i += (size_t)l;
		} else {
			buf[i++] = '?';
		}
	}
	buf[n] = '\0';
	return json_string(buf);
}

static void put_header(struct enc *e, const struct vpwr_msg *m)
{
	const char *type = vpwr_json_name(&vpwr_json_types, m->type);
	/* vpwr_strerror_name() negates its argument: keep INT32_MIN away. */
	const char *error = m->status && m->status != INT32_MIN
				    ? vpwr_strerror_name(m->status)
				    : NULL;

	put(e, "v", json_integer(VPWR_JSON_VERSION));
	put(e, "seq", json_integer(m->seq));
	/* Only a NACK may carry a type without a name (validated). */
	put(e, "type", type ? json_string(type) : json_integer(m->type));
	if (m->flags & VPWR_MSG_F_REPLY) {
		put(e, "reply", json_true());
		put(e, "status", json_integer(m->status));
		if (m->status && error)
			put(e, "error", json_string(error));
	}
	if (m->flags & VPWR_MSG_F_NOTIFY)
		put(e, "notify", json_true());
	if (m->vcpu != VPWR_VCPU_NONE)
		put(e, "vcpu", json_integer(m->vcpu));
}

int vpwr_json_encode(const struct vpwr_msg *m, uint8_t *buf, size_t cap)
{
	const struct vpwr_json_body *b;
	struct enc e = { 0 };
	size_t n;

	if (vpwr_msg_validate(m, NULL))
		return -EINVAL;
	b = vpwr_json_body_of(m->type, m->flags, m->status);
	if (!b)
		return -EINVAL;
	e.root = json_object();
	if (!e.root)
		return -ENOMEM;
	put_header(&e, m);
	for (unsigned i = 0; i < b->nr; i++)
		if (!b->fields[i].optional || !is_zero(m, &b->fields[i]))
			put_field(&e, m, &b->fields[i]);
	if (m->reason[0] && (m->flags & (VPWR_MSG_F_REPLY | VPWR_MSG_F_NOTIFY)))
		put(&e, "reason", reason_string(m->reason));
	n = e.rc ? 0 : json_dumpb(e.root, (char *)buf, cap, JSON_COMPACT);
	json_decref(e.root);
	if (e.rc)
		return e.rc;
	if (!n || n + 1 > VPWR_JSON_MAX_LINE)
		return -EINVAL; /* cannot happen with bounded fields */
	if (n + 1 > cap)
		return -ENOBUFS;
	buf[n] = '\n';
	return (int)n + 1;
}
