/* SPDX-License-Identifier: MIT */
/*
 * Message model helpers: building requests and replies, names for logs and
 * text codecs, and the self-consistency check that every codec runs on what
 * it encodes and decodes.
 *
 * Requests are checked strictly because they end up driving hardware, and
 * because a request that passes here survives any codec's round trip
 * unchanged: fields a request type does not use must be zero.  Replies and
 * notifications only need what a receiver relies on to read them.
 */
#include <stdio.h>

#include "internal.h"
#include "libvpwr/message.h"

#define HOURS_MASK 0xFFFFFFu
#define PPM_MAX 1000000u
#define WIRE_TYPE_MAX 255u /* message types are one byte on the native wire */
#define VCPUS_WANT_ALL (VPWR_VCPUS_FREQS | VPWR_VCPUS_CAPS)

static const char *const type_names[] = {
	[VPWR_MSG_HELLO] = "hello",
	[VPWR_MSG_SCALE] = "scale",
	[VPWR_MSG_SET_FREQ] = "set_freq",
	[VPWR_MSG_SET_RANGE] = "set_range",
	[VPWR_MSG_TURBO] = "turbo",
	[VPWR_MSG_SET_EPP] = "set_epp",
	[VPWR_MSG_POLICY_SET] = "policy_set",
	[VPWR_MSG_POLICY_REMOVE] = "policy_remove",
	[VPWR_MSG_QUERY_FREQS] = "query_freqs",
	[VPWR_MSG_QUERY_STATE] = "query_state",
	[VPWR_MSG_QUERY_CAPS] = "query_caps",
	[VPWR_MSG_RELEASE] = "release",
	[VPWR_MSG_LIMITS_CHANGED] = "limits_changed",
	[VPWR_MSG_QUERY_VCPUS] = "query_vcpus",
};

static const char *const op_names[] = {
	[VPWR_SCALE_UP] = "up",
	[VPWR_SCALE_DOWN] = "down",
	[VPWR_SCALE_MIN] = "min",
	[VPWR_SCALE_MAX] = "max",
	[VPWR_SCALE_MEDIUM] = "medium",
};

VPWR_API const char *vpwr_msg_type_name(unsigned type)
{
	return type < VPWR_ARRAY_SIZE(type_names) ? type_names[type] : NULL;
}

VPWR_API const char *vpwr_scale_op_name(unsigned op)
{
	return op < VPWR_ARRAY_SIZE(op_names) ? op_names[op] : NULL;
}

VPWR_API void vpwr_msg_init(struct vpwr_msg *m, enum vpwr_msg_type type,
			    uint32_t seq, uint32_t vcpu)
{
	if (!m)
		return;
	memset(m, 0, sizeof(*m));
	m->type = (uint16_t)type;
	m->seq = seq;
	m->vcpu = vcpu;
}

VPWR_API void vpwr_msg_reply(struct vpwr_msg *m, const struct vpwr_msg *req,
			     int status, const char *fmt, ...)
{
	char reason[VPWR_REASON_MAX] = "";
	uint16_t type = 0;
	uint32_t seq = 0, vcpu = VPWR_VCPU_NONE, want = 0;
	va_list ap;

	if (!m)
		return;
	/* Format and copy out of req before zeroing m: m may be req, and the
	 * arguments may point into it (a NACK that quotes the request). */
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(reason, sizeof(reason), fmt, ap);
		va_end(ap);
	}
	if (req) {
		type = req->type;
		seq = req->seq;
		vcpu = req->vcpu;
		/* A list query's reply, even a refusal, says which list it is:
		 * DPDK guests wait for a list of that kind's size. */
		if (type == VPWR_MSG_QUERY_VCPUS)
			want = req->u.vcpus.want;
	}
	memset(m, 0, sizeof(*m));
	m->type = type;
	m->flags = VPWR_MSG_F_REPLY;
	m->seq = seq;
	m->vcpu = vcpu;
	m->status = status;
	m->u.vcpus.want = want;
	memcpy(m->reason, reason, sizeof(reason));
}

static int bad(const char **why, const char *text)
{
	if (why)
		*why = text;
	return -VPWR_E_PROTO;
}

/*
 * Every request passes here, and most of its ~640 bytes are the unused
 * tail of the union and the empty reason: OR them together eight bytes at
 * a time (memcpy: any alignment) without an early exit, which the compiler
 * turns into a few vector instructions instead of a byte loop.
 */
static bool all_zero(const void *p, size_t n)
{
	const unsigned char *b = p;
	uint64_t acc = 0, w;
	size_t i = 0;

	for (; i + sizeof(w) <= n; i += sizeof(w)) {
		memcpy(&w, b + i, sizeof(w));
		acc |= w;
	}
	for (; i < n; i++)
		acc |= b[i];
	return !acc;
}

static bool addresses_vcpu(unsigned type)
{
	switch (type) {
	case VPWR_MSG_SCALE:
	case VPWR_MSG_SET_FREQ:
	case VPWR_MSG_SET_RANGE:
	case VPWR_MSG_TURBO:
	case VPWR_MSG_SET_EPP:
	case VPWR_MSG_QUERY_FREQS:
	case VPWR_MSG_QUERY_STATE:
		return true;
	default:
		return false;
	}
}

/* Bytes at the start of m->u that a request of this type uses. */
static size_t request_body_size(const struct vpwr_msg *m)
{
	switch (m->type) {
	case VPWR_MSG_HELLO:
		return offsetof(struct vpwr_hello, caps);
	case VPWR_MSG_SCALE:
		return sizeof(m->u.scale);
	case VPWR_MSG_SET_FREQ:
		return sizeof(m->u.freq);
	case VPWR_MSG_SET_RANGE:
		return sizeof(m->u.range);
	case VPWR_MSG_TURBO:
		return sizeof(m->u.turbo);
	case VPWR_MSG_SET_EPP:
		return sizeof(m->u.epp);
	case VPWR_MSG_POLICY_SET:
		/* Not sizeof: the struct's tail padding is unused too. */
		return offsetof(struct vpwr_policy, macs) +
		       sizeof(m->u.policy.macs);
	case VPWR_MSG_POLICY_REMOVE:
		return sizeof(m->u.policy.kind);
	case VPWR_MSG_QUERY_VCPUS:
		return sizeof(m->u.vcpus.want);
	default:
		return 0;
	}
}

static int validate_policy(const struct vpwr_policy *p, const char **why)
{
	if (p->kind < VPWR_POLICY_TIME || p->kind > VPWR_POLICY_BRANCH_RATIO)
		return bad(why, "unknown policy kind");
	if (p->workload > VPWR_WORKLOAD_HIGH)
		return bad(why, "unknown workload level");
	if (p->kind == VPWR_POLICY_WORKLOAD && p->workload < VPWR_WORKLOAD_LOW)
		return bad(why, "a WORKLOAD policy needs a workload level 1..3");
	if ((p->busy_hours | p->quiet_hours | p->traffic_hours) & ~HOURS_MASK)
		return bad(why, "hour masks have only 24 bits");
	if (p->busy_hours & p->quiet_hours)
		return bad(why, "an hour cannot be both busy and quiet");
	if (p->kind == VPWR_POLICY_TRAFFIC &&
	    (p->min_pps > p->avg_pps || p->avg_pps > p->max_pps))
		return bad(why, "traffic thresholds need min <= avg <= max");
	if (p->branch_ratio_ppm > PPM_MAX)
		return bad(why, "branch ratio above one million ppm");
	if (p->nr_macs > VPWR_MSG_MAX_MACS)
		return bad(why, "too many MAC addresses");
	if (!all_zero(p->macs[p->nr_macs],
		      sizeof(p->macs) - p->nr_macs * sizeof(p->macs[0])))
		return bad(why, "MAC slots beyond nr_macs must be zero");
	return 0;
}

static int validate_body(const struct vpwr_msg *m, const char **why)
{
	switch (m->type) {
	case VPWR_MSG_HELLO:
		if (m->u.hello.version_min < 1 ||
		    m->u.hello.version_min > m->u.hello.version_max)
			return bad(why, "HELLO needs 1 <= version_min <= version_max");
		return 0;
	case VPWR_MSG_SCALE:
		if (!vpwr_scale_op_name(m->u.scale.op))
			return bad(why, "unknown scale operation");
		return 0;
	case VPWR_MSG_SET_FREQ:
		if (!m->u.freq.khz)
			return bad(why, "SET_FREQ needs a non-zero frequency");
		return 0;
	case VPWR_MSG_SET_RANGE:
		if (!m->u.range.max_khz || m->u.range.min_khz > m->u.range.max_khz)
			return bad(why, "SET_RANGE needs min <= max and max > 0");
		return 0;
	case VPWR_MSG_TURBO:
		if (m->u.turbo.enable > 1)
			return bad(why, "TURBO enable must be 0 or 1");
		return 0;
	case VPWR_MSG_SET_EPP:
		if (m->u.epp.hint > VPWR_EPP_POWER)
			return bad(why, "EPP hint must be 0..255");
		return 0;
	case VPWR_MSG_POLICY_SET:
		return validate_policy(&m->u.policy, why);
	case VPWR_MSG_POLICY_REMOVE:
		if (m->u.policy.kind > VPWR_POLICY_BRANCH_RATIO)
			return bad(why, "unknown policy kind");
		return 0;
	case VPWR_MSG_QUERY_VCPUS:
		if (!m->u.vcpus.want || (m->u.vcpus.want & ~VCPUS_WANT_ALL))
			return bad(why, "QUERY_VCPUS wants frequencies, capabilities or both");
		return 0;
	default:
		return 0;
	}
}

static int validate_request(const struct vpwr_msg *m, const char **why)
{
	size_t used;

	if (m->type < 1 || m->type > VPWR_MSG_TYPE_MAX_)
		return bad(why, "unknown message type");
	if (m->type == VPWR_MSG_LIMITS_CHANGED)
		return bad(why, "LIMITS_CHANGED is a host notification, not a request");
	if (m->status)
		return bad(why, "requests carry no status");
	if (!all_zero(m->reason, sizeof(m->reason)))
		return bad(why, "requests carry no reason");
	if (addresses_vcpu(m->type) && m->vcpu == VPWR_VCPU_NONE)
		return bad(why, "this request needs a vCPU");
	used = request_body_size(m);
	if (!all_zero(m->u.reserved_ + used, sizeof(m->u) - used))
		return bad(why, "fields this message type does not use must be zero");
	return validate_body(m, why);
}

/* What a receiver indexes by: the entries must be real vCPUs. */
static int validate_vcpu_list(const struct vpwr_vcpu_list *l, const char **why)
{
	if (l->want & ~VCPUS_WANT_ALL)
		return bad(why, "unknown QUERY_VCPUS want bits");
	if (l->nr > VPWR_MSG_MAX_VCPUS)
		return bad(why, "more than 64 vCPUs in one reply");
	if ((uint64_t)l->first + l->nr > l->nr_vcpus)
		return bad(why, "vCPU list runs past the domain's vCPUs");
	return 0;
}

static int validate_reply(const struct vpwr_msg *m, const char **why)
{
	/* Any frame may be refused with its own type, even one this library
	 * does not know or one that is not a request, so that a host can
	 * always NACK what it received. */
	if (m->type > WIRE_TYPE_MAX)
		return bad(why, "message type does not fit the wire");
	if (m->status > 0)
		return bad(why, "status must be 0 or a negative error code");
	if (!m->status && (m->type < 1 || m->type > VPWR_MSG_TYPE_MAX_ ||
			   m->type == VPWR_MSG_LIMITS_CHANGED))
		return bad(why, "only an error reply may have this type");
	if (!memchr(m->reason, '\0', sizeof(m->reason)))
		return bad(why, "reason is not NUL-terminated");
	if (!m->status && m->type == VPWR_MSG_QUERY_FREQS &&
	    m->u.freqs.nr > VPWR_MSG_MAX_FREQS)
		return bad(why, "too many frequencies");
	if (!m->status && m->type == VPWR_MSG_QUERY_VCPUS)
		return validate_vcpu_list(&m->u.vcpus, why);
	return 0;
}

static int validate_notification(const struct vpwr_msg *m, const char **why)
{
	if (m->type != VPWR_MSG_LIMITS_CHANGED)
		return bad(why, "only LIMITS_CHANGED is a notification");
	if (m->status)
		return bad(why, "notifications carry no status");
	if (m->vcpu == VPWR_VCPU_NONE)
		return bad(why, "LIMITS_CHANGED needs a vCPU");
	if (!memchr(m->reason, '\0', sizeof(m->reason)))
		return bad(why, "reason is not NUL-terminated");
	return 0;
}

VPWR_API int vpwr_msg_validate(const struct vpwr_msg *m, const char **why)
{
	if (why)
		*why = NULL;
	if (!m) {
		if (why)
			*why = "no message";
		return -EINVAL;
	}
	if (m->flags & ~(VPWR_MSG_F_REPLY | VPWR_MSG_F_NOTIFY))
		return bad(why, "unknown flags");
	if ((m->flags & VPWR_MSG_F_REPLY) && (m->flags & VPWR_MSG_F_NOTIFY))
		return bad(why, "a message cannot be both a reply and a notification");
	if (m->flags & VPWR_MSG_F_REPLY)
		return validate_reply(m, why);
	if (m->flags & VPWR_MSG_F_NOTIFY)
		return validate_notification(m, why);
	return validate_request(m, why);
}
