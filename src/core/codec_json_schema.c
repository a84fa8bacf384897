/* SPDX-License-Identifier: MIT */
/*
 * The JSON form's vocabulary: the names of types, operations, kinds and
 * flags, and which keys each message carries.  Decoding and encoding both
 * read these tables, so the two directions cannot disagree; docs/JSON.md
 * lists the same keys for people.
 *
 * Names are the wire contract.  The type and operation names are those of
 * vpwr_msg_type_name() and vpwr_scale_op_name() (tests/check_codec_json.c
 * compares them), but kept here so that renaming a log word can never
 * change the protocol.
 */
#include <stdio.h>

#include "codec_json_internal.h"
#include "internal.h"

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

/* 0 is "all" in POLICY_REMOVE only; JK_KIND refuses it. */
static const char *const kind_names[] = {
	[0] = "all",
	[VPWR_POLICY_TIME] = "time",
	[VPWR_POLICY_TRAFFIC] = "traffic",
	[VPWR_POLICY_WORKLOAD] = "workload",
	[VPWR_POLICY_BRANCH_RATIO] = "branch_ratio",
};

static const char *const workload_names[] = {
	[VPWR_WORKLOAD_LOW] = "low",
	[VPWR_WORKLOAD_MEDIUM] = "medium",
	[VPWR_WORKLOAD_HIGH] = "high",
};

/* Bit i is named names[i]. */
static const char *const cap_names[] = { "turbo", "epp", "policy", "range",
					 "notify" };
static const char *const want_names[] = { "freqs", "caps" };

#define NAMES(t) { t, VPWR_ARRAY_SIZE(t) }
const struct vpwr_json_names vpwr_json_types = NAMES(type_names);
const struct vpwr_json_names vpwr_json_ops = NAMES(op_names);
const struct vpwr_json_names vpwr_json_kinds = NAMES(kind_names);
const struct vpwr_json_names vpwr_json_workloads = NAMES(workload_names);
const struct vpwr_json_names vpwr_json_caps = NAMES(cap_names);
const struct vpwr_json_names vpwr_json_wants = NAMES(want_names);
#undef NAMES

const char *vpwr_json_name(const struct vpwr_json_names *t, unsigned v)
{
	return v < t->nr ? t->names[v] : NULL;
}

/* ------------------------------------------------------------- bodies */

#define OFF(member) ((uint16_t)offsetof(struct vpwr_msg, member))
#define REQ(key, kind, member) { key, kind, 0, OFF(member), UINT32_MAX }
#define OPT(key, kind, member) { key, kind, 1, OFF(member), UINT32_MAX }
#define REQ_MAX(key, member, max) { key, JK_U32, 0, OFF(member), max }
#define OPT_MAX(key, member, max) { key, JK_U32, 1, OFF(member), max }

static const struct vpwr_json_field hello_req[] = {
	REQ("version_min", JK_U32, u.hello.version_min),
	REQ("version_max", JK_U32, u.hello.version_max),
};
static const struct vpwr_json_field hello_reply[] = {
	REQ("version_min", JK_U32, u.hello.version_min),
	REQ("version_max", JK_U32, u.hello.version_max),
	REQ("caps", JK_CAPS, u.hello.caps),
	REQ("max_frame", JK_U32, u.hello.max_frame),
	REQ("nr_vcpus", JK_U32, u.hello.nr_vcpus),
	REQ("rate_per_sec", JK_U32, u.hello.rate_per_sec),
};
static const struct vpwr_json_field scale_req[] = {
	REQ("op", JK_OP, u.scale.op),
};
static const struct vpwr_json_field freq_req[] = {
	REQ("freq_khz", JK_U32, u.freq.khz),
};
static const struct vpwr_json_field range_req[] = {
	REQ("min_khz", JK_U32, u.range.min_khz),
	REQ("max_khz", JK_U32, u.range.max_khz),
};
static const struct vpwr_json_field turbo_req[] = {
	REQ("enable", JK_BOOL, u.turbo.enable),
};
static const struct vpwr_json_field epp_req[] = {
	REQ_MAX("epp", u.epp.hint, VPWR_EPP_POWER),
};
static const struct vpwr_json_field policy_req[] = {
	REQ("kind", JK_KIND, u.policy.kind),
	OPT("workload", JK_WORKLOAD, u.policy.workload),
	OPT("vcpus", JK_VCPUS, u.policy.vcpus),
	OPT("busy_hours", JK_HOURS, u.policy.busy_hours),
	OPT("quiet_hours", JK_HOURS, u.policy.quiet_hours),
	OPT("traffic_hours", JK_HOURS, u.policy.traffic_hours),
	OPT("min_pps", JK_U32, u.policy.min_pps),
	OPT("avg_pps", JK_U32, u.policy.avg_pps),
	OPT("max_pps", JK_U32, u.policy.max_pps),
	OPT_MAX("branch_ratio_ppm", u.policy.branch_ratio_ppm, 1000000),
	OPT("macs", JK_MACS, u.policy),
};
static const struct vpwr_json_field policy_remove_req[] = {
	REQ("kind", JK_KIND_ALL, u.policy.kind),
};
static const struct vpwr_json_field vcpus_req[] = {
	REQ("want", JK_WANT, u.vcpus.want),
};
static const struct vpwr_json_field freqs_reply[] = {
	REQ("cur_khz", JK_U32, u.freqs.cur_khz),
	REQ("freqs_khz", JK_FREQS, u.freqs),
};
static const struct vpwr_json_field state_fields[] = {
	REQ("cur_khz", JK_U32, u.state.cur_khz),
	REQ("min_khz", JK_U32, u.state.min_khz),
	REQ("max_khz", JK_U32, u.state.max_khz),
	REQ("turbo", JK_BOOL, u.state.turbo),
	REQ("req_min_khz", JK_U32, u.state.req_min_khz),
	REQ("req_max_khz", JK_U32, u.state.req_max_khz),
	REQ("clamped", JK_BOOL, u.state.clamped),
	REQ("epp", JK_U32, u.state.epp),
};
static const struct vpwr_json_field vcpus_reply[] = {
	REQ("want", JK_WANT, u.vcpus.want),
	REQ("first", JK_U32, u.vcpus.first),
	REQ("nr_vcpus", JK_U32, u.vcpus.nr_vcpus),
	REQ("cur_khz", JK_VL_KHZ, u.vcpus),
	REQ("turbo", JK_VL_TURBO, u.vcpus),
	REQ("priority", JK_VL_PRIO, u.vcpus),
};
#undef OFF
#undef REQ
#undef OPT
#undef REQ_MAX
#undef OPT_MAX

#define BODY(f) { f, VPWR_ARRAY_SIZE(f) }
static const struct vpwr_json_body no_body = { NULL, 0 };
static const struct vpwr_json_body state_body = BODY(state_fields);

/* Types without an entry (QUERY_FREQS, QUERY_STATE, ...) carry no body. */
static const struct vpwr_json_body request_bodies[VPWR_MSG_TYPE_MAX_ + 1] = {
	[VPWR_MSG_HELLO] = BODY(hello_req),
	[VPWR_MSG_SCALE] = BODY(scale_req),
	[VPWR_MSG_SET_FREQ] = BODY(freq_req),
	[VPWR_MSG_SET_RANGE] = BODY(range_req),
	[VPWR_MSG_TURBO] = BODY(turbo_req),
	[VPWR_MSG_SET_EPP] = BODY(epp_req),
	[VPWR_MSG_POLICY_SET] = BODY(policy_req),
	[VPWR_MSG_POLICY_REMOVE] = BODY(policy_remove_req),
	[VPWR_MSG_QUERY_VCPUS] = BODY(vcpus_req),
};

/* ACKs (status 0); a NACK carries no body. */
static const struct vpwr_json_body reply_bodies[VPWR_MSG_TYPE_MAX_ + 1] = {
	[VPWR_MSG_HELLO] = BODY(hello_reply),
	[VPWR_MSG_QUERY_CAPS] = BODY(hello_reply),
	[VPWR_MSG_QUERY_FREQS] = BODY(freqs_reply),
	[VPWR_MSG_QUERY_STATE] = BODY(state_fields),
	[VPWR_MSG_SCALE] = BODY(state_fields),
	[VPWR_MSG_SET_FREQ] = BODY(state_fields),
	[VPWR_MSG_SET_RANGE] = BODY(state_fields),
	[VPWR_MSG_TURBO] = BODY(state_fields),
	[VPWR_MSG_SET_EPP] = BODY(state_fields),
	[VPWR_MSG_QUERY_VCPUS] = BODY(vcpus_reply),
};
#undef BODY

static bool known_type(unsigned type)
{
	return type >= 1 && type <= VPWR_MSG_TYPE_MAX_;
}

const struct vpwr_json_body *vpwr_json_body_of(unsigned type, unsigned flags,
					       int32_t status)
{
	if (flags & VPWR_MSG_F_NOTIFY)
		return type == VPWR_MSG_LIMITS_CHANGED ? &state_body : NULL;
	if (!(flags & VPWR_MSG_F_REPLY) || !status) {
		if (!known_type(type) || type == VPWR_MSG_LIMITS_CHANGED)
			return NULL;
		return (flags & VPWR_MSG_F_REPLY) ? &reply_bodies[type]
						  : &request_bodies[type];
	}
	return &no_body; /* a refusal of anything */
}

static bool body_has(const struct vpwr_json_body *b, const char *key)
{
	for (unsigned i = 0; i < b->nr; i++)
		if (!strcmp(b->fields[i].key, key))
			return true;
	return false;
}

bool vpwr_json_known_key(const char *key)
{
	/* The state body of LIMITS_CHANGED is also that of the ACKs. */
	for (unsigned t = 1; t <= VPWR_MSG_TYPE_MAX_; t++)
		if (body_has(&request_bodies[t], key) ||
		    body_has(&reply_bodies[t], key))
			return true;
	return false;
}

void vpwr_json_describe(const struct vpwr_msg *m, char *buf, size_t len)
{
	const char *name = vpwr_json_name(&vpwr_json_types, m->type);
	char num[16];

	if (!name) {
		snprintf(num, sizeof(num), "type %u", m->type);
		name = num;
	}
	if (m->flags & VPWR_MSG_F_NOTIFY)
		snprintf(buf, len, "%s notification", name);
	else if (m->flags & VPWR_MSG_F_REPLY)
		snprintf(buf, len, "%s to %s", m->status ? "NACK" : "reply",
			 name);
	else
		snprintf(buf, len, "%s request", name);
}
