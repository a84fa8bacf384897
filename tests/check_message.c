/* SPDX-License-Identifier: MIT */
/*
 * The message model: builders, names, and vpwr_msg_validate() accepting
 * every well-formed message (boundary values included) and rejecting each
 * kind of inconsistency for the reason it claims.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "libvpwr/error.h"
#include "libvpwr/message.h"
#include "internal.h"
#include "testutil.h"

/* A valid request of each type, every used field set. */
static void good_request(struct vpwr_msg *m, unsigned type)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };
	struct vpwr_policy *p = &m->u.policy;

	vpwr_msg_init(m, (enum vpwr_msg_type)type, 42, 3);
	switch (type) {
	case VPWR_MSG_HELLO:
		m->vcpu = VPWR_VCPU_NONE;
		m->u.hello.version_min = 1;
		m->u.hello.version_max = 2;
		break;
	case VPWR_MSG_SCALE:
		m->u.scale.op = VPWR_SCALE_DOWN;
		break;
	case VPWR_MSG_SET_FREQ:
		m->u.freq.khz = 1800000;
		break;
	case VPWR_MSG_SET_RANGE:
		m->u.range.min_khz = 1200000;
		m->u.range.max_khz = 2400000;
		break;
	case VPWR_MSG_TURBO:
		m->u.turbo.enable = 1;
		break;
	case VPWR_MSG_SET_EPP:
		m->u.epp.hint = VPWR_EPP_BALANCE_POWER;
		break;
	case VPWR_MSG_POLICY_SET:
		m->vcpu = VPWR_VCPU_NONE;
		p->kind = VPWR_POLICY_TRAFFIC;
		p->workload = VPWR_WORKLOAD_MEDIUM;
		vpwr_cpuset_set(&p->vcpus, 1);
		p->busy_hours = 0x00FF00;
		p->quiet_hours = 0x0000FF;
		p->traffic_hours = 0xFF0000;
		p->min_pps = 1000;
		p->avg_pps = 2000;
		p->max_pps = 3000;
		p->branch_ratio_ppm = 5000;
		p->nr_macs = 1;
		memcpy(p->macs[0], mac, sizeof(mac));
		break;
	case VPWR_MSG_QUERY_VCPUS:
		m->u.vcpus.want = VPWR_VCPUS_FREQS | VPWR_VCPUS_CAPS;
		break;
	case VPWR_MSG_POLICY_REMOVE:
		m->vcpu = VPWR_VCPU_NONE;
		p->kind = VPWR_POLICY_TIME;
		break;
	default:
		break;
	}
}

static void good_notification(struct vpwr_msg *m)
{
	vpwr_msg_init(m, VPWR_MSG_LIMITS_CHANGED, 0, 1);
	m->flags = VPWR_MSG_F_NOTIFY;
	m->u.state.cur_khz = 1000000;
	m->u.state.max_khz = 1000000;
	m->u.state.clamped = 1;
}

static int validate(const struct vpwr_msg *m, const char **why)
{
	*why = "untouched";
	return vpwr_msg_validate(m, why);
}

START_TEST(test_init)
{
	struct vpwr_msg m, want;

	memset(&m, 0xAA, sizeof(m));
	vpwr_msg_init(&m, VPWR_MSG_SET_FREQ, 0xDEADBEEF, 7);
	memset(&want, 0, sizeof(want));
	want.type = VPWR_MSG_SET_FREQ;
	want.seq = 0xDEADBEEF;
	want.vcpu = 7;
	ck_assert_mem_eq(&m, &want, sizeof(m));
	vpwr_msg_init(NULL, VPWR_MSG_HELLO, 1, 1); /* must not crash */
}
END_TEST

START_TEST(test_reply)
{
	struct vpwr_msg req, m;

	good_request(&req, VPWR_MSG_SET_RANGE);
	memset(&m, 0xAA, sizeof(m));
	vpwr_msg_reply(&m, &req, -EBUSY, "vcpu %u is %s", 3u, "busy");
	ck_assert_uint_eq(m.type, VPWR_MSG_SET_RANGE);
	ck_assert_uint_eq(m.flags, VPWR_MSG_F_REPLY);
	ck_assert_uint_eq(m.seq, 42);
	ck_assert_uint_eq(m.vcpu, 3);
	ck_assert_int_eq(m.status, -EBUSY);
	ck_assert_str_eq(m.reason, "vcpu 3 is busy");
	/* the request's body is not carried over into the reply */
	ck_assert_uint_eq(m.u.range.min_khz, 0);
	ck_assert_uint_eq(m.u.range.max_khz, 0);
	ck_assert_int_eq(vpwr_msg_validate(&m, NULL), 0);

	vpwr_msg_reply(&m, &req, 0, NULL);
	ck_assert_str_eq(m.reason, "");
	ck_assert_int_eq(m.status, 0);

	vpwr_msg_reply(&m, NULL, -EINVAL, "no request");
	ck_assert_uint_eq(m.type, 0);
	ck_assert_uint_eq(m.seq, 0);
	ck_assert_uint_eq(m.vcpu, VPWR_VCPU_NONE);
	ck_assert_str_eq(m.reason, "no request");

	vpwr_msg_reply(NULL, &req, 0, "x"); /* must not crash */
}
END_TEST

/* m may be req, and the reason may quote req's own fields. */
START_TEST(test_reply_aliasing)
{
	struct vpwr_msg m;

	good_request(&m, VPWR_MSG_SCALE);
	vpwr_msg_reply(&m, &m, -EIO, "first");
	ck_assert_uint_eq(m.type, VPWR_MSG_SCALE);
	ck_assert_uint_eq(m.seq, 42);
	vpwr_msg_reply(&m, &m, -EIO, "%s, then second", m.reason);
	ck_assert_str_eq(m.reason, "first, then second");
}
END_TEST

START_TEST(test_reply_truncates_reason)
{
	char longer[VPWR_REASON_MAX * 2];
	struct vpwr_msg req, m;

	memset(longer, 'r', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	good_request(&req, VPWR_MSG_HELLO);
	vpwr_msg_reply(&m, &req, -E2BIG, "%s", longer);
	ck_assert_uint_eq(strlen(m.reason), VPWR_REASON_MAX - 1);
	ck_assert_int_eq(memcmp(m.reason, longer, VPWR_REASON_MAX - 1), 0);
}
END_TEST

START_TEST(test_names)
{
	static const char *const want[] = {
		NULL, "hello", "scale", "set_freq", "set_range", "turbo",
		"set_epp", "policy_set", "policy_remove", "query_freqs",
		"query_state", "query_caps", "release", "limits_changed",
	};
	static const char *const ops[] = { NULL, "up", "down", "min", "max",
					   "medium" };

	for (unsigned t = 0; t < sizeof(want) / sizeof(want[0]); t++) {
		if (want[t])
			ck_assert_str_eq(vpwr_msg_type_name(t), want[t]);
		else
			ck_assert_ptr_null(vpwr_msg_type_name(t));
	}
	ck_assert_ptr_null(vpwr_msg_type_name(VPWR_MSG_TYPE_MAX_ + 1));
	ck_assert_ptr_null(vpwr_msg_type_name(UINT_MAX));
	for (unsigned o = 0; o < sizeof(ops) / sizeof(ops[0]); o++) {
		if (ops[o])
			ck_assert_str_eq(vpwr_scale_op_name(o), ops[o]);
		else
			ck_assert_ptr_null(vpwr_scale_op_name(o));
	}
	ck_assert_ptr_null(vpwr_scale_op_name(VPWR_SCALE_MEDIUM + 1));
	ck_assert_ptr_null(vpwr_scale_op_name(UINT_MAX));
}
END_TEST

START_TEST(test_valid_requests)
{
	const char *why;
	struct vpwr_msg m;

	for (unsigned t = 1; t <= VPWR_MSG_TYPE_MAX_; t++) {
		if (t == VPWR_MSG_LIMITS_CHANGED)
			continue;
		good_request(&m, t);
		ck_assert_msg(validate(&m, &why) == 0, "type %u: %s", t, why);
		ck_assert_ptr_null(why);
	}
	ck_assert_int_eq(vpwr_msg_validate(&m, NULL), 0);
}
END_TEST

/* Values at the edge of what is allowed must pass. */
START_TEST(test_valid_boundaries)
{
	struct vpwr_msg m;
	const char *why;

#define OK(msg) ck_assert_msg(validate(&(msg), &why) == 0, "%s", why)
	good_request(&m, VPWR_MSG_SCALE);
	for (unsigned op = VPWR_SCALE_UP; op <= VPWR_SCALE_MEDIUM; op++) {
		m.u.scale.op = op;
		OK(m);
	}
	m.vcpu = 0;
	OK(m);
	good_request(&m, VPWR_MSG_SET_FREQ);
	m.u.freq.khz = 1;
	OK(m);
	good_request(&m, VPWR_MSG_SET_RANGE);
	m.u.range.min_khz = m.u.range.max_khz;
	OK(m);
	m.u.range.min_khz = 0;
	OK(m);
	good_request(&m, VPWR_MSG_TURBO);
	m.u.turbo.enable = 0;
	OK(m);
	good_request(&m, VPWR_MSG_SET_EPP);
	m.u.epp.hint = 255;
	OK(m);
	m.u.epp.hint = 0;
	OK(m);
	good_request(&m, VPWR_MSG_HELLO);
	m.u.hello.version_max = 1;
	OK(m);
	m.vcpu = 5; /* a vCPU on a request that needs none is harmless */
	OK(m);
	good_request(&m, VPWR_MSG_POLICY_SET);
	m.u.policy.busy_hours = 0xFFFFFF;
	m.u.policy.quiet_hours = 0;
	m.u.policy.min_pps = m.u.policy.avg_pps = m.u.policy.max_pps = 7;
	m.u.policy.branch_ratio_ppm = 1000000;
	m.u.policy.nr_macs = VPWR_MSG_MAX_MACS;
	memset(m.u.policy.macs, 0x11, sizeof(m.u.policy.macs));
	OK(m);
	m.u.policy.kind = VPWR_POLICY_WORKLOAD;
	m.u.policy.workload = VPWR_WORKLOAD_HIGH;
	m.u.policy.min_pps = 9; /* thresholds only bind TRAFFIC policies */
	OK(m);
	m.u.policy.kind = VPWR_POLICY_TIME;
	m.u.policy.workload = 0;
	vpwr_cpuset_zero(&m.u.policy.vcpus);
	OK(m);
	good_request(&m, VPWR_MSG_POLICY_REMOVE);
	m.u.policy.kind = 0; /* all */
	OK(m);
	m.u.policy.kind = VPWR_POLICY_BRANCH_RATIO;
	OK(m);
	good_notification(&m);
	OK(m);
	snprintf(m.reason, sizeof(m.reason), "operator bound");
	OK(m);
#undef OK
}
END_TEST

START_TEST(test_valid_replies)
{
	struct vpwr_msg req, m;
	const char *why;

	for (unsigned t = 1; t <= VPWR_MSG_TYPE_MAX_; t++) {
		if (t == VPWR_MSG_LIMITS_CHANGED)
			continue;
		good_request(&req, t);
		vpwr_msg_reply(&m, &req, 0, "ok");
		ck_assert_msg(validate(&m, &why) == 0, "type %u: %s", t, why);
		vpwr_msg_reply(&m, &req, -EPERM, "refused");
		ck_assert_msg(validate(&m, &why) == 0, "type %u: %s", t, why);
	}
	/* a host must be able to refuse anything it received */
	for (unsigned t = 0; t <= 255; t++) {
		vpwr_msg_init(&req, (enum vpwr_msg_type)t, 9, VPWR_VCPU_NONE);
		vpwr_msg_reply(&m, &req, -EBADMSG, "what is %u?", t);
		ck_assert_msg(validate(&m, &why) == 0, "type %u: %s", t, why);
	}
	good_request(&req, VPWR_MSG_QUERY_FREQS);
	vpwr_msg_reply(&m, &req, 0, NULL);
	m.u.freqs.nr = VPWR_MSG_MAX_FREQS;
	ck_assert_int_eq(validate(&m, &why), 0);
}
END_TEST

struct bad_case {
	const char *name;
	unsigned type;   /* start from good_request(type), 0: a notification */
	void (*mutate)(struct vpwr_msg *m);
	const char *why; /* a substring of the explanation */
};

#define MUT(fn, body)                                                          \
	static void fn(struct vpwr_msg *m)                                     \
	{                                                                      \
		body;                                                          \
	}

MUT(type_zero, m->type = 0)
MUT(type_past_max, m->type = VPWR_MSG_TYPE_MAX_ + 1)
MUT(type_limits_req, m->type = VPWR_MSG_LIMITS_CHANGED)
MUT(flag_unknown, m->flags = 0x4)
MUT(flag_both, m->flags = VPWR_MSG_F_REPLY | VPWR_MSG_F_NOTIFY)
MUT(req_status, m->status = -1)
MUT(req_reason, m->reason[0] = 'x')
MUT(req_reason_tail, m->reason[VPWR_REASON_MAX - 1] = 'x')
MUT(no_vcpu, m->vcpu = VPWR_VCPU_NONE)
MUT(op_zero, m->u.scale.op = 0)
MUT(op_past, m->u.scale.op = VPWR_SCALE_MEDIUM + 1)
MUT(khz_zero, m->u.freq.khz = 0)
MUT(range_inverted, m->u.range.min_khz = m->u.range.max_khz + 1)
MUT(range_max_zero, m->u.range.min_khz = m->u.range.max_khz = 0)
MUT(turbo_two, m->u.turbo.enable = 2)
MUT(epp_256, m->u.epp.hint = 256)
MUT(hello_min_zero, m->u.hello.version_min = 0)
MUT(hello_inverted, m->u.hello.version_min = 3)
MUT(hello_caps, m->u.hello.caps = 1)
MUT(scale_extra, m->u.range.max_khz = 1)
MUT(tail_nonzero, m->u.reserved_[sizeof(m->u) - 1] = 1)
MUT(kind_zero, m->u.policy.kind = 0)
MUT(kind_past, m->u.policy.kind = VPWR_POLICY_BRANCH_RATIO + 1)
MUT(workload_past, m->u.policy.workload = VPWR_WORKLOAD_HIGH + 1)
MUT(workload_missing, (m->u.policy.kind = VPWR_POLICY_WORKLOAD,
		       m->u.policy.workload = 0))
MUT(busy_bit24, m->u.policy.busy_hours = 1u << 24)
MUT(quiet_bit31, (m->u.policy.busy_hours = 0,
		  m->u.policy.quiet_hours = 1u << 31))
MUT(traffic_bit24, m->u.policy.traffic_hours = 0x1000000)
MUT(busy_quiet_overlap, m->u.policy.quiet_hours |= 0x000100)
MUT(pps_min_above_avg, m->u.policy.min_pps = m->u.policy.avg_pps + 1)
MUT(pps_avg_above_max, m->u.policy.avg_pps = m->u.policy.max_pps + 1)
MUT(ppm_past, m->u.policy.branch_ratio_ppm = 1000001)
MUT(macs_past, m->u.policy.nr_macs = VPWR_MSG_MAX_MACS + 1)
MUT(mac_beyond_nr, m->u.policy.macs[1][5] = 1)
MUT(remove_kind_past, m->u.policy.kind = 5)
MUT(remove_extra, m->u.policy.workload = 1)
MUT(to_reply_positive, (m->flags = VPWR_MSG_F_REPLY, m->status = 1))
MUT(to_reply_unterminated, (m->flags = VPWR_MSG_F_REPLY,
			    memset(m->reason, 'x', sizeof(m->reason))))
MUT(to_reply_type_256, (m->flags = VPWR_MSG_F_REPLY, m->status = -1,
			m->type = 256))
MUT(to_ack_type_zero, (m->flags = VPWR_MSG_F_REPLY, m->type = 0))
MUT(to_ack_type_past, (m->flags = VPWR_MSG_F_REPLY, m->type = VPWR_MSG_TYPE_MAX_ + 1))
MUT(to_ack_limits, (m->flags = VPWR_MSG_F_REPLY,
		    m->type = VPWR_MSG_LIMITS_CHANGED, m->vcpu = 1))
MUT(to_freqs_reply_too_many, (m->flags = VPWR_MSG_F_REPLY,
			      m->u.freqs.nr = VPWR_MSG_MAX_FREQS + 1))
MUT(notify_scale, m->type = VPWR_MSG_SCALE)
MUT(notify_status, m->status = -5)
MUT(notify_no_vcpu, m->vcpu = VPWR_VCPU_NONE)
MUT(notify_unterminated, memset(m->reason, 'n', sizeof(m->reason)))

static const struct bad_case bad_cases[] = {
	{ "type 0", VPWR_MSG_QUERY_CAPS, type_zero, "unknown message type" },
	{ "type past the last", VPWR_MSG_QUERY_CAPS, type_past_max, "unknown message type" },
	{ "LIMITS_CHANGED request", VPWR_MSG_QUERY_CAPS, type_limits_req,
	  "notification" },
	{ "unknown flag", VPWR_MSG_SCALE, flag_unknown, "flags" },
	{ "reply and notify", VPWR_MSG_SCALE, flag_both, "both" },
	{ "request status", VPWR_MSG_SCALE, req_status, "status" },
	{ "request reason", VPWR_MSG_SCALE, req_reason, "reason" },
	{ "request reason tail", VPWR_MSG_RELEASE, req_reason_tail, "reason" },
	{ "SCALE no vcpu", VPWR_MSG_SCALE, no_vcpu, "vCPU" },
	{ "SET_FREQ no vcpu", VPWR_MSG_SET_FREQ, no_vcpu, "vCPU" },
	{ "SET_RANGE no vcpu", VPWR_MSG_SET_RANGE, no_vcpu, "vCPU" },
	{ "TURBO no vcpu", VPWR_MSG_TURBO, no_vcpu, "vCPU" },
	{ "SET_EPP no vcpu", VPWR_MSG_SET_EPP, no_vcpu, "vCPU" },
	{ "QUERY_FREQS no vcpu", VPWR_MSG_QUERY_FREQS, no_vcpu, "vCPU" },
	{ "QUERY_STATE no vcpu", VPWR_MSG_QUERY_STATE, no_vcpu, "vCPU" },
	{ "op 0", VPWR_MSG_SCALE, op_zero, "scale operation" },
	{ "op 6", VPWR_MSG_SCALE, op_past, "scale operation" },
	{ "khz 0", VPWR_MSG_SET_FREQ, khz_zero, "frequency" },
	{ "min > max", VPWR_MSG_SET_RANGE, range_inverted, "min <= max" },
	{ "max 0", VPWR_MSG_SET_RANGE, range_max_zero, "max > 0" },
	{ "turbo 2", VPWR_MSG_TURBO, turbo_two, "0 or 1" },
	{ "epp 256", VPWR_MSG_SET_EPP, epp_256, "0..255" },
	{ "hello min 0", VPWR_MSG_HELLO, hello_min_zero, "version_min" },
	{ "hello min > max", VPWR_MSG_HELLO, hello_inverted, "version_min" },
	{ "hello request caps", VPWR_MSG_HELLO, hello_caps, "must be zero" },
	{ "scale extra field", VPWR_MSG_SCALE, scale_extra, "must be zero" },
	{ "union tail", VPWR_MSG_QUERY_CAPS, tail_nonzero, "must be zero" },
	{ "union tail policy", VPWR_MSG_POLICY_SET, tail_nonzero, "must be zero" },
	{ "policy kind 0", VPWR_MSG_POLICY_SET, kind_zero, "policy kind" },
	{ "policy kind 5", VPWR_MSG_POLICY_SET, kind_past, "policy kind" },
	{ "workload 4", VPWR_MSG_POLICY_SET, workload_past, "workload" },
	{ "WORKLOAD without level", VPWR_MSG_POLICY_SET, workload_missing,
	  "workload level" },
	{ "busy bit 24", VPWR_MSG_POLICY_SET, busy_bit24, "24 bits" },
	{ "quiet bit 31", VPWR_MSG_POLICY_SET, quiet_bit31, "24 bits" },
	{ "traffic bit 24", VPWR_MSG_POLICY_SET, traffic_bit24, "24 bits" },
	{ "busy and quiet", VPWR_MSG_POLICY_SET, busy_quiet_overlap, "busy and quiet" },
	{ "min_pps > avg", VPWR_MSG_POLICY_SET, pps_min_above_avg, "thresholds" },
	{ "avg_pps > max", VPWR_MSG_POLICY_SET, pps_avg_above_max, "thresholds" },
	{ "ppm > 1e6", VPWR_MSG_POLICY_SET, ppm_past, "branch ratio" },
	{ "11 MACs", VPWR_MSG_POLICY_SET, macs_past, "MAC" },
	{ "MAC beyond nr", VPWR_MSG_POLICY_SET, mac_beyond_nr, "MAC slots" },
	{ "remove kind 5", VPWR_MSG_POLICY_REMOVE, remove_kind_past, "policy kind" },
	{ "remove extra", VPWR_MSG_POLICY_REMOVE, remove_extra, "must be zero" },
	{ "reply status > 0", VPWR_MSG_SCALE, to_reply_positive, "status" },
	{ "reply reason", VPWR_MSG_SCALE, to_reply_unterminated, "NUL" },
	{ "reply type 256", VPWR_MSG_SCALE, to_reply_type_256, "wire" },
	{ "ACK of type 0", VPWR_MSG_QUERY_CAPS, to_ack_type_zero, "error reply" },
	{ "ACK of a type past the last", VPWR_MSG_QUERY_CAPS, to_ack_type_past, "error reply" },
	{ "ACK of LIMITS_CHANGED", VPWR_MSG_QUERY_CAPS, to_ack_limits,
	  "error reply" },
	{ "65 frequencies", VPWR_MSG_QUERY_FREQS, to_freqs_reply_too_many,
	  "frequencies" },
	{ "notify SCALE", 0, notify_scale, "notification" },
	{ "notify status", 0, notify_status, "status" },
	{ "notify no vcpu", 0, notify_no_vcpu, "vCPU" },
	{ "notify reason", 0, notify_unterminated, "NUL" },
};

START_TEST(test_invalid)
{
	const struct bad_case *c = &bad_cases[_i];
	struct vpwr_msg m;
	const char *why;

	if (c->type)
		good_request(&m, c->type);
	else
		good_notification(&m);
	/* the starting point is valid, so the mutation is what fails */
	ck_assert_msg(validate(&m, &why) == 0, "%s: base: %s", c->name, why);
	c->mutate(&m);
	ck_assert_msg(validate(&m, &why) == -VPWR_E_PROTO, "%s: accepted",
		      c->name);
	ck_assert_ptr_nonnull(why);
	ck_assert_msg(strstr(why, c->why), "%s: why = \"%s\"", c->name, why);
	ck_assert_int_eq(vpwr_msg_validate(&m, NULL), -VPWR_E_PROTO);
}
END_TEST

/* Bytes at the start of u that a request of this type uses (the rest of
 * the union must be zero), written out here rather than taken from the
 * library. */
static size_t used_body(unsigned type)
{
	switch (type) {
	case VPWR_MSG_HELLO:
	case VPWR_MSG_SET_RANGE:
		return 8;
	case VPWR_MSG_SCALE:
	case VPWR_MSG_SET_FREQ:
	case VPWR_MSG_TURBO:
	case VPWR_MSG_SET_EPP:
	case VPWR_MSG_POLICY_REMOVE:
	case VPWR_MSG_QUERY_VCPUS:
		return 4;
	case VPWR_MSG_POLICY_SET:
		/* up to and including the one MAC good_request() sets */
		return offsetof(struct vpwr_policy, macs) + 6;
	default:
		return 0;
	}
}

/* One stray bit anywhere in what a request leaves unused, at every byte
 * offset and alignment (low and high bit), is refused: the zero checks
 * cover every byte, with no gap at the start or the end of a range, and
 * none at the padding after struct vpwr_policy's last MAC either. */
START_TEST(test_every_unused_byte)
{
	static const uint8_t bits[] = { 0x01, 0x80 };
	struct vpwr_msg m;
	const char *why;

	for (unsigned t = 1; t <= VPWR_MSG_TYPE_MAX_; t++) {
		if (t == VPWR_MSG_LIMITS_CHANGED)
			continue;
		for (size_t b = 0; b < sizeof(bits); b++) {
			for (size_t i = used_body(t); i < sizeof(m.u); i++) {
				good_request(&m, t);
				m.u.reserved_[i] ^= bits[b];
				ck_assert_msg(validate(&m, &why) == -VPWR_E_PROTO,
					      "type %u: u byte %zu bit 0x%x accepted",
					      t, i, bits[b]);
			}
			for (size_t i = 0; i < sizeof(m.reason); i++) {
				good_request(&m, t);
				m.reason[i] ^= (char)bits[b];
				ck_assert_msg(validate(&m, &why) == -VPWR_E_PROTO,
					      "type %u: reason byte %zu bit 0x%x accepted",
					      t, i, bits[b]);
			}
		}
		good_request(&m, t);
		ck_assert_msg(validate(&m, &why) == 0, "type %u: %s", t, why);
	}
}
END_TEST

START_TEST(test_validate_null)
{
	const char *why = NULL;

	ck_assert_int_eq(vpwr_msg_validate(NULL, &why), -EINVAL);
	ck_assert_ptr_nonnull(why);
	ck_assert_int_eq(vpwr_msg_validate(NULL, NULL), -EINVAL);
}
END_TEST

static Suite *message_suite(void)
{
	Suite *s = suite_create("message");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_init);
	tcase_add_test(tc, test_reply);
	tcase_add_test(tc, test_reply_aliasing);
	tcase_add_test(tc, test_reply_truncates_reason);
	tcase_add_test(tc, test_names);
	tcase_add_test(tc, test_valid_requests);
	tcase_add_test(tc, test_valid_boundaries);
	tcase_add_test(tc, test_valid_replies);
	tcase_add_loop_test(tc, test_invalid, 0,
			    (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(tc, test_every_unused_byte);
	tcase_add_test(tc, test_validate_null);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(message_suite());
}
