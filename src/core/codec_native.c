/* SPDX-License-Identifier: MIT */
/*
 * The native codec, vpwr/1: a 16-byte header and netlink-style attributes,
 * little-endian.  docs/PROTOCOL.md is the contract; the tables below are its
 * executable form: which attributes exist (NATIVE_ATTRS) and which of them
 * each message carries (the bodies), so encode and decode cannot disagree.
 *
 * Every byte is read and written through explicit shifts: the code is the
 * same on every host byte order and never loads from an unaligned address.
 */
#include <stdio.h>

#include "codec_internal.h"
#include "internal.h"

#define HDR_LEN VPWR_NATIVE_HDR_LEN
#define MAX_FRAME VPWR_NATIVE_MAX_FRAME
#define NATIVE_VERSION 1
#define ATTR_HDR 4
#define ATTR_MANDATORY 0x8000u
#define ATTR_ID_MASK 0x7FFFu
#define VCPU_SET_MAX (VPWR_MAX_CPUS / 8)
#define MAC_LEN 6
#define KNOWN_FLAGS (VPWR_MSG_F_REPLY | VPWR_MSG_F_NOTIFY)

static const uint8_t magic[4] = { 'V', 'P', 'W', 'R' };

/* Wire numbers, 1 upwards in this order: only ever appended. */
#define NATIVE_ATTRS(X)                                                        \
	X(STATUS) X(REASON) X(VCPU) X(OP) X(FREQ_KHZ) X(MIN_KHZ) X(MAX_KHZ)    \
	X(ENABLE) X(EPP) X(VERSION_MIN) X(VERSION_MAX) X(CAPS) X(MAX_FRAME)    \
	X(NR_VCPUS) X(RATE) X(CUR_KHZ) X(FREQ_TABLE) X(TURBO) X(REQ_MIN_KHZ)   \
	X(REQ_MAX_KHZ) X(CLAMPED) X(POLICY_KIND) X(VCPU_SET) X(BUSY_HOURS)     \
	X(QUIET_HOURS) X(TRAFFIC_HOURS) X(MIN_PPS) X(AVG_PPS) X(MAX_PPS)       \
	X(WORKLOAD) X(BRANCH_RATIO_PPM) X(MAC) X(WANT) X(FIRST) X(NR)         \
	X(VCPU_KHZ) X(TURBO_MASK) X(PRIORITY_MASK)

enum attr {
	A_NONE_,
#define X(name) A_##name,
	NATIVE_ATTRS(X)
#undef X
	A_COUNT_
};

static const char *const attr_names[A_COUNT_] = {
#define X(name) [A_##name] = #name,
	NATIVE_ATTRS(X)
#undef X
};

/* Value sizes: everything not listed is a u32. */
static bool value_size_ok(unsigned id, size_t n)
{
	switch (id) {
	case A_REASON:
		return n >= 1 && n <= VPWR_REASON_MAX;
	case A_FREQ_TABLE:
		return n % 4 == 0 && n <= 4 * VPWR_MSG_MAX_FREQS;
	case A_VCPU_KHZ:
		return n % 4 == 0 && n <= 4 * VPWR_MSG_MAX_VCPUS;
	case A_TURBO_MASK:
	case A_PRIORITY_MASK:
		return n == 8;
	case A_VCPU_SET:
		return n <= VCPU_SET_MAX;
	case A_MAC:
		return n == MAC_LEN;
	default:
		return n == 4;
	}
}

/*
 * One attribute of a message body and the struct vpwr_msg field it fills.
 * Optional ones are sent only when non-zero and read as zero when absent;
 * the others are always sent and required.
 */
struct field {
	uint8_t attr;
	uint8_t optional;
	uint16_t off;
};

#define REQ(a, member) { a, 0, offsetof(struct vpwr_msg, member) }
#define OPT(a, member) { a, 1, offsetof(struct vpwr_msg, member) }

static const struct field hello_req_fields[] = {
	REQ(A_VERSION_MIN, u.hello.version_min),
	REQ(A_VERSION_MAX, u.hello.version_max),
};
static const struct field hello_reply_fields[] = {
	REQ(A_VERSION_MIN, u.hello.version_min),
	REQ(A_VERSION_MAX, u.hello.version_max),
	REQ(A_CAPS, u.hello.caps),
	REQ(A_MAX_FRAME, u.hello.max_frame),
	REQ(A_NR_VCPUS, u.hello.nr_vcpus),
	REQ(A_RATE, u.hello.rate_per_sec),
};
static const struct field scale_fields[] = { REQ(A_OP, u.scale.op) };
static const struct field freq_fields[] = { REQ(A_FREQ_KHZ, u.freq.khz) };
static const struct field range_fields[] = {
	REQ(A_MIN_KHZ, u.range.min_khz),
	REQ(A_MAX_KHZ, u.range.max_khz),
};
static const struct field turbo_fields[] = { REQ(A_ENABLE, u.turbo.enable) };
static const struct field epp_fields[] = { REQ(A_EPP, u.epp.hint) };
static const struct field policy_fields[] = {
	REQ(A_POLICY_KIND, u.policy.kind),
	OPT(A_WORKLOAD, u.policy.workload),
	OPT(A_BUSY_HOURS, u.policy.busy_hours),
	OPT(A_QUIET_HOURS, u.policy.quiet_hours),
	OPT(A_TRAFFIC_HOURS, u.policy.traffic_hours),
	OPT(A_MIN_PPS, u.policy.min_pps),
	OPT(A_AVG_PPS, u.policy.avg_pps),
	OPT(A_MAX_PPS, u.policy.max_pps),
	OPT(A_BRANCH_RATIO_PPM, u.policy.branch_ratio_ppm),
};
static const struct field policy_remove_fields[] = {
	REQ(A_POLICY_KIND, u.policy.kind),
};
static const struct field freqs_fields[] = { REQ(A_CUR_KHZ, u.freqs.cur_khz) };
static const struct field state_fields[] = {
	REQ(A_CUR_KHZ, u.state.cur_khz),
	REQ(A_MIN_KHZ, u.state.min_khz),
	REQ(A_MAX_KHZ, u.state.max_khz),
	REQ(A_TURBO, u.state.turbo),
	REQ(A_REQ_MIN_KHZ, u.state.req_min_khz),
	REQ(A_REQ_MAX_KHZ, u.state.req_max_khz),
	REQ(A_CLAMPED, u.state.clamped),
	REQ(A_EPP, u.state.epp),
};
static const struct field vcpus_req_fields[] = { REQ(A_WANT, u.vcpus.want) };
static const struct field vcpus_reply_fields[] = {
	REQ(A_WANT, u.vcpus.want),
	REQ(A_FIRST, u.vcpus.first),
	REQ(A_NR, u.vcpus.nr),
	REQ(A_NR_VCPUS, u.vcpus.nr_vcpus),
};
#undef REQ
#undef OPT

/* Attributes that do not map to one u32 field. */
enum extra { X_NONE, X_FREQ_TABLE, X_POLICY, X_VCPUS };

struct body {
	const struct field *fields;
	uint8_t nr;
	uint8_t extra;
	uint8_t needs_vcpu;
};

#define BODY(f, x, v) { f, VPWR_ARRAY_SIZE(f), x, v }
static const struct body no_body = { NULL, 0, X_NONE, 0 };
/* A refused list query still says which list it refuses (DPDK sizes its
 * replies by it). */
static const struct field vcpus_nack_fields[] = {
	{ A_WANT, 1, offsetof(struct vpwr_msg, u.vcpus.want) },
};
static const struct body vcpus_nack_body = BODY(vcpus_nack_fields, X_NONE, 0);
static const struct body notify_body = BODY(state_fields, X_NONE, 1);

static const struct body request_bodies[VPWR_MSG_TYPE_MAX_ + 1] = {
	[VPWR_MSG_HELLO] = BODY(hello_req_fields, X_NONE, 0),
	[VPWR_MSG_SCALE] = BODY(scale_fields, X_NONE, 1),
	[VPWR_MSG_SET_FREQ] = BODY(freq_fields, X_NONE, 1),
	[VPWR_MSG_SET_RANGE] = BODY(range_fields, X_NONE, 1),
	[VPWR_MSG_TURBO] = BODY(turbo_fields, X_NONE, 1),
	[VPWR_MSG_SET_EPP] = BODY(epp_fields, X_NONE, 1),
	[VPWR_MSG_POLICY_SET] = BODY(policy_fields, X_POLICY, 0),
	[VPWR_MSG_POLICY_REMOVE] = BODY(policy_remove_fields, X_NONE, 0),
	[VPWR_MSG_QUERY_FREQS] = { NULL, 0, X_NONE, 1 },
	[VPWR_MSG_QUERY_STATE] = { NULL, 0, X_NONE, 1 },
	[VPWR_MSG_QUERY_VCPUS] = BODY(vcpus_req_fields, X_NONE, 0),
};

/* ACKs; a NACK carries no body. */
static const struct body reply_bodies[VPWR_MSG_TYPE_MAX_ + 1] = {
	[VPWR_MSG_HELLO] = BODY(hello_reply_fields, X_NONE, 0),
	[VPWR_MSG_QUERY_CAPS] = BODY(hello_reply_fields, X_NONE, 0),
	[VPWR_MSG_QUERY_FREQS] = BODY(freqs_fields, X_FREQ_TABLE, 0),
	[VPWR_MSG_QUERY_STATE] = BODY(state_fields, X_NONE, 0),
	[VPWR_MSG_SCALE] = BODY(state_fields, X_NONE, 0),
	[VPWR_MSG_SET_FREQ] = BODY(state_fields, X_NONE, 0),
	[VPWR_MSG_SET_RANGE] = BODY(state_fields, X_NONE, 0),
	[VPWR_MSG_TURBO] = BODY(state_fields, X_NONE, 0),
	[VPWR_MSG_SET_EPP] = BODY(state_fields, X_NONE, 0),
	[VPWR_MSG_QUERY_VCPUS] = BODY(vcpus_reply_fields, X_VCPUS, 0),
};
#undef BODY

static bool known_type(unsigned type)
{
	return type >= 1 && type <= VPWR_MSG_TYPE_MAX_;
}

/*
 * What a message of this type, flags and status carries besides the common
 * attributes.  NULL: the combination is meaningless (unknown request type,
 * a request typed as a notification, ...).
 */
static const struct body *body_of(unsigned type, unsigned flags, int32_t status)
{
	if (flags & VPWR_MSG_F_NOTIFY)
		return type == VPWR_MSG_LIMITS_CHANGED ? &notify_body : NULL;
	if (flags & VPWR_MSG_F_REPLY) {
		if (status) /* a refusal of anything */
			return type == VPWR_MSG_QUERY_VCPUS ? &vcpus_nack_body
							    : &no_body;
		if (!known_type(type) || type == VPWR_MSG_LIMITS_CHANGED)
			return NULL;
		return &reply_bodies[type];
	}
	if (!known_type(type) || type == VPWR_MSG_LIMITS_CHANGED)
		return NULL;
	return &request_bodies[type];
}

static uint32_t get_field(const struct vpwr_msg *m, const struct field *f)
{
	uint32_t v;

	memcpy(&v, (const uint8_t *)m + f->off, sizeof(v));
	return v;
}

static void set_field(struct vpwr_msg *m, const struct field *f, uint32_t v)
{
	memcpy((uint8_t *)m + f->off, &v, sizeof(v));
}

/* "SCALE" / "reply to SCALE" for error texts. */
static void describe(const struct vpwr_msg *m, char *buf, size_t len)
{
	const char *name = vpwr_msg_type_name(m->type);
	const char *prefix = (m->flags & VPWR_MSG_F_REPLY) ? "reply to " : "";
	char upper[24];
	size_t i;

	if (!name) {
		snprintf(buf, len, "%smessage type %u", prefix, m->type);
		return;
	}
	for (i = 0; name[i] && i + 1 < sizeof(upper); i++)
		upper[i] = (char)(name[i] >= 'a' && name[i] <= 'z' ?
				  name[i] - 'a' + 'A' : name[i]);
	upper[i] = '\0';
	snprintf(buf, len, "%s%s", prefix, upper);
}

/* ------------------------------------------------------------ framing */

static int check_length(uint32_t flen, struct vpwr_decode_error *err)
{
	if (flen < HDR_LEN || flen % 4)
		return vpwr_decode_fail(err, -VPWR_E_PROTO, 12,
					"frame length %u is not a multiple of 4 of at least %d",
					flen, HDR_LEN);
	if (flen > MAX_FRAME)
		return vpwr_decode_fail(err, -VPWR_E_TOOBIG, 12,
					"frame length %u exceeds %d", flen,
					MAX_FRAME);
	return 0;
}

static int check_magic(const uint8_t *p, size_t len,
		       struct vpwr_decode_error *err)
{
	for (size_t i = 0; i < len && i < sizeof(magic); i++)
		if (p[i] != magic[i])
			return vpwr_decode_fail(err, -VPWR_E_PROTO, i,
						"bad magic: not a vpwr frame");
	return 0;
}

static int native_probe(const uint8_t *p, size_t len, struct vpwr_scan *scan)
{
	(void)scan;
	if (check_magic(p, len, NULL))
		return VPWR_PROBE_NO;
	return len < sizeof(magic) ? VPWR_PROBE_MAYBE : VPWR_PROBE_YES;
}

static int native_frame_len(const uint8_t *p, size_t len,
			    struct vpwr_scan *scan,
			    struct vpwr_decode_error *err)
{
	uint32_t flen;
	int rc;

	(void)scan;
	rc = check_magic(p, len, err);
	if (rc || len < HDR_LEN)
		return rc;
	flen = vpwr_get_le32(p + 12);
	rc = check_length(flen, err);
	if (rc)
		return rc;
	return len >= flen ? (int)flen : 0;
}

/* ------------------------------------------------------------- decode */

static uint64_t get_le64(const uint8_t *p)
{
	return (uint64_t)vpwr_get_le32(p) | (uint64_t)vpwr_get_le32(p + 4) << 32;
}

struct attr_view {
	uint16_t type;
	size_t off;          /* of the attribute header in the frame */
	const uint8_t *val;
	size_t vlen;
};

/* The next attribute at *off: 1 and *a, 0 at the end, < 0 malformed. */
static int next_attr(const uint8_t *p, size_t len, size_t *off,
		     struct attr_view *a, struct vpwr_decode_error *err)
{
	size_t o = *off, alen, padded;

	if (o >= len)
		return 0;
	if (len - o < ATTR_HDR)
		return vpwr_decode_fail(err, -VPWR_E_PROTO, o,
					"truncated attribute header");
	alen = vpwr_get_le16(p + o + 2);
	if (alen < ATTR_HDR)
		return vpwr_decode_fail(err, -VPWR_E_PROTO, o,
					"attribute length %zu is below 4", alen);
	if (alen > len - o)
		return vpwr_decode_fail(err, -VPWR_E_PROTO, o,
					"attribute of %zu bytes runs past the frame",
					alen);
	/* len - o is a multiple of 4, so the padding fits too. */
	padded = (alen + 3) & ~(size_t)3;
	for (size_t i = alen; i < padded; i++)
		if (p[o + i])
			return vpwr_decode_fail(err, -VPWR_E_PROTO, o + i,
						"non-zero attribute padding");
	a->type = vpwr_get_le16(p + o);
	a->off = o;
	a->val = p + o + ATTR_HDR;
	a->vlen = alen - ATTR_HDR;
	*off = o + padded;
	return 1;
}

static int decode_header(const uint8_t *p, size_t len, struct vpwr_msg *m,
			 struct vpwr_decode_error *err)
{
	uint32_t flen;
	int rc;

	rc = check_magic(p, len, err);
	if (rc)
		return rc;
	if (len < HDR_LEN)
		return vpwr_decode_fail(err, -VPWR_E_PROTO, len,
					"frame of %zu bytes is shorter than the header",
					len);
	m->type = p[5];
	m->flags = vpwr_get_le16(p + 6);
	m->seq = vpwr_get_le32(p + 8);
	flen = vpwr_get_le32(p + 12);
	rc = check_length(flen, err);
	if (rc)
		return rc;
	if (flen != len)
		return vpwr_decode_fail(err, -VPWR_E_PROTO, 12,
					"length field says %u bytes, the frame has %zu",
					flen, len);
	if (p[4] != NATIVE_VERSION)
		return vpwr_decode_fail(err, -VPWR_E_VERSION, 4,
					"protocol version %u is not %d", p[4],
					NATIVE_VERSION);
	if (m->flags & ~KNOWN_FLAGS)
		return vpwr_decode_fail(err, -VPWR_E_PROTO, 6,
					"unknown flags 0x%x", m->flags);
	return 0;
}

/* The STATUS value, looked up before the body is known (replies only). */
static int32_t peek_status(const uint8_t *p, size_t len)
{
	struct vpwr_decode_error ignored;
	struct attr_view a;
	size_t off = HDR_LEN;

	while (next_attr(p, len, &off, &a, &ignored) > 0)
		if ((a.type & ATTR_ID_MASK) == A_STATUS && a.vlen == 4)
			return (int32_t)vpwr_get_le32(a.val);
	return 0;
}

/* The value length of attribute `id` (decode_attrs has vetted the frame). */
static size_t attr_vlen(const uint8_t *p, size_t len, unsigned id)
{
	struct vpwr_decode_error ignored;
	struct attr_view a;
	size_t off = HDR_LEN;

	while (next_attr(p, len, &off, &a, &ignored) > 0)
		if ((a.type & ATTR_ID_MASK) == id)
			return a.vlen;
	return 0;
}

static const struct field *find_field(const struct body *b, unsigned id)
{
	for (unsigned i = 0; i < b->nr; i++)
		if (b->fields[i].attr == id)
			return &b->fields[i];
	return NULL;
}

/* Whether attribute `id` belongs in this message at all. */
static bool allowed(const struct vpwr_msg *m, const struct body *b, unsigned id)
{
	bool reply = m->flags & VPWR_MSG_F_REPLY;

	switch (id) {
	case A_VCPU:
		return true;
	case A_STATUS:
		return reply;
	case A_REASON:
		return reply || (m->flags & VPWR_MSG_F_NOTIFY);
	case A_FREQ_TABLE:
		return b->extra == X_FREQ_TABLE;
	case A_VCPU_SET:
	case A_MAC:
		return b->extra == X_POLICY;
	case A_VCPU_KHZ:
	case A_TURBO_MASK:
	case A_PRIORITY_MASK:
		return b->extra == X_VCPUS;
	default:
		return find_field(b, id) != NULL;
	}
}

static int store_reason(struct vpwr_msg *m, const struct attr_view *a,
			struct vpwr_decode_error *err)
{
	if (memchr(a->val, '\0', a->vlen) != a->val + a->vlen - 1)
		return vpwr_decode_fail(err, -VPWR_E_PROTO, a->off,
					"REASON must end at its first NUL byte");
	memcpy(m->reason, a->val, a->vlen);
	return 0;
}

static int store_attr(struct vpwr_msg *m, const struct body *b,
		      const struct attr_view *a, unsigned id,
		      struct vpwr_decode_error *err)
{
	struct vpwr_policy *pol = &m->u.policy;

	switch (id) {
	case A_STATUS:
		m->status = (int32_t)vpwr_get_le32(a->val);
		return 0;
	case A_VCPU:
		m->vcpu = vpwr_get_le32(a->val);
		return 0;
	case A_REASON:
		return store_reason(m, a, err);
	case A_FREQ_TABLE:
		m->u.freqs.nr = (uint32_t)(a->vlen / 4);
		for (size_t i = 0; i < a->vlen / 4; i++)
			m->u.freqs.khz[i] = vpwr_get_le32(a->val + 4 * i);
		return 0;
	case A_VCPU_SET:
		for (size_t i = 0; i < a->vlen; i++)
			pol->vcpus.bits[i / 8] |= (uint64_t)a->val[i] << (8 * (i % 8));
		return 0;
	case A_VCPU_KHZ:
		for (size_t i = 0; i < a->vlen / 4; i++)
			m->u.vcpus.cur_khz[i] = vpwr_get_le32(a->val + 4 * i);
		return 0;
	case A_TURBO_MASK:
		m->u.vcpus.turbo_mask = get_le64(a->val);
		return 0;
	case A_PRIORITY_MASK:
		m->u.vcpus.priority_mask = get_le64(a->val);
		return 0;
	case A_MAC:
		if (pol->nr_macs >= VPWR_MSG_MAX_MACS)
			return vpwr_decode_fail(err, -VPWR_E_PROTO, a->off,
						"more than %d MAC attributes",
						VPWR_MSG_MAX_MACS);
		memcpy(pol->macs[pol->nr_macs++], a->val, MAC_LEN);
		return 0;
	default: /* allowed() found it among the body's fields */
		set_field(m, find_field(b, id), vpwr_get_le32(a->val));
		return 0;
	}
}

static int decode_attrs(const uint8_t *p, size_t len, struct vpwr_msg *m,
			const struct body *b, uint64_t *seen,
			struct vpwr_decode_error *err)
{
	struct attr_view a;
	size_t off = HDR_LEN;
	int rc;

	while ((rc = next_attr(p, len, &off, &a, err)) > 0) {
		unsigned id = a.type & ATTR_ID_MASK;

		if (id == A_NONE_ || id >= A_COUNT_ || !allowed(m, b, id)) {
			if (a.type & ATTR_MANDATORY)
				return vpwr_decode_fail(err, -EPROTONOSUPPORT, a.off,
							"unknown mandatory attribute 0x%x",
							a.type);
			continue;
		}
		if (id != A_MAC && (*seen & ((uint64_t)1 << id)))
			return vpwr_decode_fail(err, -VPWR_E_PROTO, a.off,
						"duplicate attribute %s",
						attr_names[id]);
		*seen |= (uint64_t)1 << id;
		if (!value_size_ok(id, a.vlen))
			return vpwr_decode_fail(err, -VPWR_E_PROTO, a.off,
						"attribute %s has a %zu-byte value",
						attr_names[id], a.vlen);
		rc = store_attr(m, b, &a, id, err);
		if (rc)
			return rc;
	}
	return rc;
}

static int missing(const struct vpwr_msg *m, unsigned id,
		   struct vpwr_decode_error *err)
{
	char what[48];

	describe(m, what, sizeof(what));
	return vpwr_decode_fail(err, -VPWR_E_PROTO, HDR_LEN,
				"%s needs attribute %s", what,
				attr_names[id]);
}

/* A QUERY_VCPUS reply carries what its WANT says, VCPU_KHZ one per entry. */
static int check_vcpu_list(const struct vpwr_msg *m, uint64_t seen,
			   struct vpwr_decode_error *err)
{
	const struct vpwr_vcpu_list *l = &m->u.vcpus;

	if ((l->want & VPWR_VCPUS_FREQS) && !(seen & ((uint64_t)1 << A_VCPU_KHZ)))
		return missing(m, A_VCPU_KHZ, err);
	if ((l->want & VPWR_VCPUS_CAPS) && !(seen & ((uint64_t)1 << A_TURBO_MASK)))
		return missing(m, A_TURBO_MASK, err);
	if ((l->want & VPWR_VCPUS_CAPS) &&
	    !(seen & ((uint64_t)1 << A_PRIORITY_MASK)))
		return missing(m, A_PRIORITY_MASK, err);
	/* ... and nothing it does not ask for, which no encoder would send
	 * back: the message must survive a round trip unchanged. */
	if (!(l->want & VPWR_VCPUS_FREQS) && (seen & ((uint64_t)1 << A_VCPU_KHZ)))
		return vpwr_decode_fail(err, -VPWR_E_PROTO, HDR_LEN,
					"VCPU_KHZ in a list that does not "
					"want frequencies");
	if (!(l->want & VPWR_VCPUS_CAPS) &&
	    (seen & (((uint64_t)1 << A_TURBO_MASK) |
		     ((uint64_t)1 << A_PRIORITY_MASK))))
		return vpwr_decode_fail(err, -VPWR_E_PROTO, HDR_LEN,
					"capability masks in a list that does "
					"not want capabilities");
	return 0;
}

static int check_required(const struct vpwr_msg *m, const struct body *b,
			  uint64_t seen, struct vpwr_decode_error *err)
{
#define SEEN(id) (seen & ((uint64_t)1 << (id)))
	if (b->needs_vcpu && !SEEN(A_VCPU))
		return missing(m, A_VCPU, err);
	if ((m->flags & VPWR_MSG_F_REPLY) && !SEEN(A_STATUS))
		return missing(m, A_STATUS, err);
	for (unsigned i = 0; i < b->nr; i++)
		if (!b->fields[i].optional && !SEEN(b->fields[i].attr))
			return missing(m, b->fields[i].attr, err);
	if (b->extra == X_FREQ_TABLE && !SEEN(A_FREQ_TABLE))
		return missing(m, A_FREQ_TABLE, err);
	if (b->extra == X_VCPUS)
		return check_vcpu_list(m, seen, err);
	return 0;
#undef SEEN
}

static int native_decode(const uint8_t *p, size_t len, struct vpwr_msg *m,
			 struct vpwr_decode_error *err)
{
	const struct body *b;
	const char *why;
	uint64_t seen = 0;
	int rc;

	m->vcpu = VPWR_VCPU_NONE;
	rc = decode_header(p, len, m, err);
	if (rc)
		return rc;
	/* A reply of an unknown type is understood only as a refusal. */
	b = body_of(m->type, m->flags, peek_status(p, len));
	if (!b && !known_type(m->type))
		return vpwr_decode_fail(err, -EBADMSG, 5,
					"unknown message type %u", m->type);
	if (!b)
		return vpwr_decode_fail(err, -VPWR_E_PROTO, 6,
					"flags 0x%x do not fit message type %u",
					m->flags, m->type);
	rc = decode_attrs(p, len, m, b, &seen, err);
	if (!rc)
		rc = check_required(m, b, seen, err);
	if (rc)
		return rc;
	if (b->extra == X_VCPUS && (m->u.vcpus.want & VPWR_VCPUS_FREQS) &&
	    attr_vlen(p, len, A_VCPU_KHZ) != 4 * (size_t)m->u.vcpus.nr)
		return vpwr_decode_fail(err, -VPWR_E_PROTO, HDR_LEN,
					"VCPU_KHZ must hold NR (%u) entries",
					m->u.vcpus.nr);
	rc = vpwr_msg_validate(m, &why);
	if (rc)
		return vpwr_decode_fail(err, rc, HDR_LEN, "%s", why);
	return 0;
}

/* ------------------------------------------------------------- encode */

struct out {
	uint8_t *buf;
	size_t cap, len;
	int rc;
};

static void put_attr(struct out *o, unsigned type, const void *val, size_t vlen)
{
	size_t padded = (ATTR_HDR + vlen + 3) & ~(size_t)3;

	if (o->rc)
		return;
	if (padded > o->cap - o->len) {
		o->rc = -ENOBUFS;
		return;
	}
	vpwr_put_le16(o->buf + o->len, (uint16_t)type);
	vpwr_put_le16(o->buf + o->len + 2, (uint16_t)(ATTR_HDR + vlen));
	if (vlen)
		memcpy(o->buf + o->len + ATTR_HDR, val, vlen);
	memset(o->buf + o->len + ATTR_HDR + vlen, 0, padded - ATTR_HDR - vlen);
	o->len += padded;
}

static void put_u32(struct out *o, unsigned type, uint32_t v)
{
	uint8_t b[4];

	vpwr_put_le32(b, v);
	put_attr(o, type, b, sizeof(b));
}

static void put_freq_table(struct out *o, const struct vpwr_msg *m)
{
	uint8_t b[4 * VPWR_MSG_MAX_FREQS];

	for (uint32_t i = 0; i < m->u.freqs.nr; i++)
		vpwr_put_le32(b + 4 * i, m->u.freqs.khz[i]);
	put_attr(o, A_FREQ_TABLE, b, 4 * (size_t)m->u.freqs.nr);
}

static void put_u64(struct out *o, unsigned type, uint64_t v)
{
	uint8_t b[8];

	vpwr_put_le32(b, (uint32_t)v);
	vpwr_put_le32(b + 4, (uint32_t)(v >> 32));
	put_attr(o, type, b, sizeof(b));
}

static void put_vcpu_list(struct out *o, const struct vpwr_vcpu_list *l)
{
	uint8_t b[4 * VPWR_MSG_MAX_VCPUS];

	if (l->want & VPWR_VCPUS_FREQS) {
		for (uint32_t i = 0; i < l->nr; i++)
			vpwr_put_le32(b + 4 * i, l->cur_khz[i]);
		put_attr(o, A_VCPU_KHZ, b, 4 * (size_t)l->nr);
	}
	if (l->want & VPWR_VCPUS_CAPS) {
		put_u64(o, A_TURBO_MASK, l->turbo_mask);
		put_u64(o, A_PRIORITY_MASK, l->priority_mask);
	}
}

static void put_policy_extras(struct out *o, const struct vpwr_policy *p)
{
	uint8_t b[VCPU_SET_MAX];
	size_t n = 0;

	for (size_t i = 0; i < VCPU_SET_MAX; i++) {
		b[i] = (uint8_t)(p->vcpus.bits[i / 8] >> (8 * (i % 8)));
		if (b[i])
			n = i + 1; /* trailing zero bytes carry nothing */
	}
	if (n)
		put_attr(o, A_VCPU_SET, b, n);
	for (uint32_t i = 0; i < p->nr_macs; i++)
		put_attr(o, A_MAC, p->macs[i], MAC_LEN);
}

static int native_encode(const struct vpwr_msg *m, uint8_t *buf, size_t cap)
{
	struct out o = { buf, cap, HDR_LEN, 0 };
	const struct body *b;

	if (vpwr_msg_validate(m, NULL))
		return -EINVAL;
	b = body_of(m->type, m->flags, m->status);
	if (!b)
		return -EINVAL;
	if (cap < HDR_LEN)
		return -ENOBUFS;
	memcpy(buf, magic, sizeof(magic));
	buf[4] = NATIVE_VERSION;
	buf[5] = (uint8_t)m->type;
	vpwr_put_le16(buf + 6, m->flags);
	vpwr_put_le32(buf + 8, m->seq);
	if (m->flags & VPWR_MSG_F_REPLY)
		put_u32(&o, A_STATUS, (uint32_t)m->status);
	if (m->reason[0])
		put_attr(&o, A_REASON, m->reason, strlen(m->reason) + 1);
	if (m->vcpu != VPWR_VCPU_NONE)
		put_u32(&o, A_VCPU, m->vcpu);
	for (unsigned i = 0; i < b->nr; i++) {
		uint32_t v = get_field(m, &b->fields[i]);

		if (v || !b->fields[i].optional)
			put_u32(&o, b->fields[i].attr, v);
	}
	if (b->extra == X_FREQ_TABLE)
		put_freq_table(&o, m);
	else if (b->extra == X_POLICY)
		put_policy_extras(&o, &m->u.policy);
	else if (b->extra == X_VCPUS)
		put_vcpu_list(&o, &m->u.vcpus);
	if (o.rc)
		return o.rc;
	if (o.len > MAX_FRAME) /* cannot happen with today's bounded fields */
		return -EINVAL;
	vpwr_put_le32(buf + 12, (uint32_t)o.len);
	return (int)o.len;
}

const struct vpwr_codec vpwr_native_codec = {
	.name = "native",
	.max_frame = MAX_FRAME,
	.probe = native_probe,
	.frame_len = native_frame_len,
	.decode = native_decode,
	.encode = native_encode,
};
