/* SPDX-License-Identifier: MIT */
/*
 * The JSON codec's native form against docs/JSON.md: every message of the
 * model survives encode -> decode unchanged, the lines the encoder writes
 * are exactly the documented ones, lines written by hand decode to the
 * fields they name, and the encoder refuses what it cannot say.
 * Refusals of bad lines: check_codec_json_errors.c; DPDK's forms:
 * check_codec_json_dpdk.c; detection, framing and fuzz:
 * check_codec_json_stream.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libvpwr/codec.h"
#include "libvpwr/error.h"
#include "libvpwr/message.h"
#include "internal.h"
#include "testutil.h"

#define JSON vpwr_codec_json()

/* ---------------------------------------- messages with every field set */

static void fill_state(struct vpwr_vcpu_state *s)
{
	s->cur_khz = 2100000;
	s->min_khz = 800001;
	s->max_khz = 3300002;
	s->turbo = 1;
	s->req_min_khz = 1000003;
	s->req_max_khz = 3000004;
	s->clamped = 1;
	s->epp = 128;
}

static void fill_policy(struct vpwr_policy *p)
{
	p->kind = VPWR_POLICY_TRAFFIC;
	p->workload = VPWR_WORKLOAD_HIGH;
	vpwr_cpuset_set(&p->vcpus, 0);
	vpwr_cpuset_set(&p->vcpus, 63);
	vpwr_cpuset_set(&p->vcpus, 64);
	vpwr_cpuset_set(&p->vcpus, VPWR_MAX_CPUS - 1);
	p->busy_hours = 0x0F0F00;
	p->quiet_hours = 0x000003;
	p->traffic_hours = 0xA00000;
	p->min_pps = 96000;
	p->avg_pps = 97000;
	p->max_pps = 98000;
	p->branch_ratio_ppm = 123456;
	p->nr_macs = VPWR_MSG_MAX_MACS;
	for (int i = 0; i < VPWR_MSG_MAX_MACS; i++)
		for (int j = 0; j < 6; j++)
			p->macs[i][j] = (uint8_t)(0xA0 + 16 * i + j);
}

static void fill_request(struct vpwr_msg *m, unsigned type)
{
	vpwr_msg_init(m, (enum vpwr_msg_type)type, 0x80000000u + type, 17 + type);
	switch (type) {
	case VPWR_MSG_HELLO:
		m->u.hello.version_min = 1;
		m->u.hello.version_max = 7;
		break;
	case VPWR_MSG_SCALE:
		m->u.scale.op = VPWR_SCALE_MEDIUM;
		break;
	case VPWR_MSG_SET_FREQ:
		m->u.freq.khz = 2345678;
		break;
	case VPWR_MSG_SET_RANGE:
		m->u.range.min_khz = 1111111;
		m->u.range.max_khz = 2222222;
		break;
	case VPWR_MSG_TURBO:
		m->u.turbo.enable = 1;
		break;
	case VPWR_MSG_SET_EPP:
		m->u.epp.hint = 201;
		break;
	case VPWR_MSG_POLICY_SET:
		fill_policy(&m->u.policy);
		break;
	case VPWR_MSG_POLICY_REMOVE:
		m->u.policy.kind = VPWR_POLICY_BRANCH_RATIO;
		break;
	case VPWR_MSG_QUERY_VCPUS:
		m->u.vcpus.want = VPWR_VCPUS_FREQS | VPWR_VCPUS_CAPS;
		break;
	default:
		break;
	}
}

/* The ACK of `type`, its body filled. */
static void fill_ack(struct vpwr_msg *m, unsigned type)
{
	struct vpwr_vcpu_list *l = &m->u.vcpus;
	struct vpwr_msg req;

	fill_request(&req, type);
	vpwr_msg_reply(m, &req, 0, "ack of %u", type);
	switch (type) {
	case VPWR_MSG_HELLO:
	case VPWR_MSG_QUERY_CAPS:
		m->u.hello.version_min = 1;
		m->u.hello.version_max = 3;
		m->u.hello.caps = 0x1F | 0x80; /* 0x80: a bit without a name */
		m->u.hello.max_frame = 4096;
		m->u.hello.nr_vcpus = 12;
		m->u.hello.rate_per_sec = 50;
		break;
	case VPWR_MSG_QUERY_FREQS:
		m->u.freqs.cur_khz = 2000000;
		m->u.freqs.nr = VPWR_MSG_MAX_FREQS;
		for (uint32_t i = 0; i < VPWR_MSG_MAX_FREQS; i++)
			m->u.freqs.khz[i] = 800000 + 50000 * i;
		break;
	case VPWR_MSG_SCALE:
	case VPWR_MSG_SET_FREQ:
	case VPWR_MSG_SET_RANGE:
	case VPWR_MSG_TURBO:
	case VPWR_MSG_SET_EPP:
	case VPWR_MSG_QUERY_STATE:
		fill_state(&m->u.state);
		break;
	case VPWR_MSG_QUERY_VCPUS:
		l->want = VPWR_VCPUS_FREQS | VPWR_VCPUS_CAPS;
		l->first = 2;
		l->nr = 5;
		l->nr_vcpus = 9;
		for (uint32_t i = 0; i < l->nr; i++)
			l->cur_khz[i] = 1000000 + 100 * i;
		l->turbo_mask = 0x16;
		l->priority_mask = 0x09;
		break;
	default:
		break;
	}
}

/* Every message of the model, each role, distinct non-zero values. */
static unsigned all_messages(struct vpwr_msg *out)
{
	static const uint16_t nack_types[] = { 0, VPWR_MSG_SCALE,
					       VPWR_MSG_LIMITS_CHANGED, 200 };
	unsigned n = 0;

	for (unsigned t = 1; t <= VPWR_MSG_TYPE_MAX_; t++) {
		if (t == VPWR_MSG_LIMITS_CHANGED)
			continue;
		fill_request(&out[n++], t);
		fill_ack(&out[n++], t);
	}
	/* POLICY_REMOVE of every kind ("all"), and a request without vCPU. */
	vpwr_msg_init(&out[n++], VPWR_MSG_POLICY_REMOVE, 5, VPWR_VCPU_NONE);
	vpwr_msg_init(&out[n], VPWR_MSG_QUERY_VCPUS, 6, VPWR_VCPU_NONE);
	out[n++].u.vcpus.want = VPWR_VCPUS_CAPS;
	for (size_t i = 0; i < VPWR_ARRAY_SIZE(nack_types); i++) {
		struct vpwr_msg req;

		vpwr_msg_init(&req, VPWR_MSG_SCALE, 900 + (uint32_t)i, 3);
		req.type = nack_types[i];
		vpwr_msg_reply(&out[n++], &req, -VPWR_E_VCPU_RANGE - (int)i,
			       "refused \"%zu\" \\ \t\xc3\xa9", i);
	}
	vpwr_msg_init(&out[n], VPWR_MSG_LIMITS_CHANGED, 0, 4);
	out[n].flags = VPWR_MSG_F_NOTIFY;
	fill_state(&out[n].u.state);
	strcpy(out[n++].reason, "operator cap");
	return n;
}

#define MAX_MSGS 64

START_TEST(round_trip_every_message)
{
	struct vpwr_msg msgs[MAX_MSGS], back;
	struct vpwr_decode_error err;
	unsigned n = all_messages(msgs);

	for (unsigned i = 0; i < n; i++) {
		char line[VPWR_JSON_MAX_LINE], what[256];
		int len, rc;

		vpwr_msg_format(&msgs[i], what, sizeof(what));
		ck_assert_msg(!vpwr_msg_validate(&msgs[i], NULL), "%s", what);
		len = vpwr_codec_encode(JSON, &msgs[i], line, sizeof(line));
		ck_assert_msg(len > 0, "%s: %d", what, len);
		/* One compact line, its newline the last byte. */
		ck_assert_int_eq(line[len - 1], '\n');
		ck_assert_ptr_eq(memchr(line, '\n', (size_t)len), line + len - 1);
		ck_assert_int_eq(vpwr_codec_frame_len(JSON, line, (size_t)len,
						      &err), len);
		rc = vpwr_codec_decode(JSON, line, (size_t)len, &back, &err);
		ck_assert_msg(rc == 0, "%s: %.*s -> %s", what, len, line, err.text);
		ck_assert_msg(!memcmp(&back, &msgs[i], sizeof(back)),
			      "%s changed: %.*s", what, len, line);
	}
}
END_TEST

/* ------------------------------------------------ exact lines (JSON.md) */

static void assert_encodes(const struct vpwr_msg *m, const char *want)
{
	char line[VPWR_JSON_MAX_LINE];
	int len = vpwr_codec_encode(JSON, m, line, sizeof(line));

	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(len, (int)strlen(want));
	ck_assert_msg(!memcmp(line, want, (size_t)len), "want %s got  %.*s",
		      want, len, line);
}

START_TEST(encodes_documented_lines)
{
	struct vpwr_msg m, req;

	vpwr_msg_init(&m, VPWR_MSG_SCALE, 7, 0);
	m.u.scale.op = VPWR_SCALE_UP;
	assert_encodes(&m, "{\"v\":1,\"seq\":7,\"type\":\"scale\",\"vcpu\":0,\"op\":\"up\"}\n");

	req = m;
	vpwr_msg_reply(&m, &req, 0, NULL);
	m.u.state.cur_khz = 2400000;
	m.u.state.min_khz = 800000;
	m.u.state.max_khz = 3000000;
	m.u.state.turbo = 1;
	m.u.state.epp = 128;
	assert_encodes(&m, "{\"v\":1,\"seq\":7,\"type\":\"scale\",\"reply\":true,\"status\":0,"
			   "\"vcpu\":0,\"cur_khz\":2400000,\"min_khz\":800000,\"max_khz\":3000000,"
			   "\"turbo\":true,\"req_min_khz\":0,\"req_max_khz\":0,\"clamped\":false,"
			   "\"epp\":128}\n");

	vpwr_msg_init(&req, VPWR_MSG_SET_FREQ, 0x80000001u, 0);
	vpwr_msg_reply(&m, &req, -EBUSY, "busy");
	assert_encodes(&m, "{\"v\":1,\"seq\":2147483649,\"type\":\"set_freq\",\"reply\":true,"
			   "\"status\":-16,\"error\":\"EBUSY\",\"vcpu\":0,\"reason\":\"busy\"}\n");

	req.type = 200;
	req.vcpu = VPWR_VCPU_NONE;
	vpwr_msg_reply(&m, &req, -EBADMSG, NULL);
	assert_encodes(&m, "{\"v\":1,\"seq\":2147483649,\"type\":200,\"reply\":true,"
			   "\"status\":-74,\"error\":\"EBADMSG\"}\n");

	vpwr_msg_init(&req, VPWR_MSG_QUERY_FREQS, 42, 1);
	vpwr_msg_reply(&m, &req, 0, NULL);
	m.u.freqs.cur_khz = 2000000;
	m.u.freqs.nr = 3;
	m.u.freqs.khz[0] = 1200000;
	m.u.freqs.khz[1] = 2000000;
	m.u.freqs.khz[2] = 2800000;
	assert_encodes(&m, "{\"v\":1,\"seq\":42,\"type\":\"query_freqs\",\"reply\":true,"
			   "\"status\":0,\"vcpu\":1,\"cur_khz\":2000000,"
			   "\"freqs_khz\":[1200000,2000000,2800000]}\n");

	vpwr_msg_init(&m, VPWR_MSG_POLICY_SET, 9, VPWR_VCPU_NONE);
	fill_policy(&m.u.policy);
	m.u.policy.nr_macs = 1;
	memset(m.u.policy.macs[1], 0, sizeof(m.u.policy.macs) - 6);
	assert_encodes(&m, "{\"v\":1,\"seq\":9,\"type\":\"policy_set\",\"kind\":\"traffic\","
			   "\"workload\":\"high\",\"vcpus\":\"0,63-64,1023\","
			   "\"busy_hours\":[8,9,10,11,16,17,18,19],\"quiet_hours\":[0,1],"
			   "\"traffic_hours\":[21,23],\"min_pps\":96000,\"avg_pps\":97000,"
			   "\"max_pps\":98000,\"branch_ratio_ppm\":123456,"
			   "\"macs\":[\"a0:a1:a2:a3:a4:a5\"]}\n");

	vpwr_msg_init(&m, VPWR_MSG_POLICY_REMOVE, 10, VPWR_VCPU_NONE);
	assert_encodes(&m, "{\"v\":1,\"seq\":10,\"type\":\"policy_remove\",\"kind\":\"all\"}\n");

	fill_ack(&m, VPWR_MSG_QUERY_CAPS);
	m.reason[0] = '\0';
	assert_encodes(&m, "{\"v\":1,\"seq\":2147483659,\"type\":\"query_caps\",\"reply\":true,"
			   "\"status\":0,\"vcpu\":28,\"version_min\":1,\"version_max\":3,"
			   "\"caps\":[\"turbo\",\"epp\",\"policy\",\"range\",\"notify\",128],"
			   "\"max_frame\":4096,\"nr_vcpus\":12,\"rate_per_sec\":50}\n");

	fill_ack(&m, VPWR_MSG_QUERY_VCPUS);
	m.reason[0] = '\0';
	m.u.vcpus.nr = 3;
	assert_encodes(&m, "{\"v\":1,\"seq\":2147483662,\"type\":\"query_vcpus\",\"reply\":true,"
			   "\"status\":0,\"vcpu\":31,\"want\":[\"freqs\",\"caps\"],\"first\":2,"
			   "\"nr_vcpus\":9,\"cur_khz\":[1000000,1000100,1000200],"
			   "\"turbo\":[false,true,true],\"priority\":[true,false,false]}\n");

	vpwr_msg_init(&m, VPWR_MSG_LIMITS_CHANGED, 0, 4);
	m.flags = VPWR_MSG_F_NOTIFY;
	fill_state(&m.u.state);
	strcpy(m.reason, "operator cap");
	assert_encodes(&m, "{\"v\":1,\"seq\":0,\"type\":\"limits_changed\",\"notify\":true,"
			   "\"vcpu\":4,\"cur_khz\":2100000,\"min_khz\":800001,\"max_khz\":3300002,"
			   "\"turbo\":true,\"req_min_khz\":1000003,\"req_max_khz\":3000004,"
			   "\"clamped\":true,\"epp\":128,\"reason\":\"operator cap\"}\n");
}
END_TEST

/* The wire names are the model's own names for types and operations. */
START_TEST(names_are_the_model_names)
{
	char line[VPWR_JSON_MAX_LINE], want[64];
	struct vpwr_msg m;

	for (unsigned t = 1; t <= VPWR_MSG_TYPE_MAX_; t++) {
		if (t == VPWR_MSG_LIMITS_CHANGED)
			continue;
		fill_request(&m, t);
		ck_assert_int_gt(vpwr_codec_encode(JSON, &m, line, sizeof(line)), 0);
		ck_assert_ptr_nonnull(vpwr_msg_type_name(t));
		snprintf(want, sizeof(want), "\"type\":\"%s\"", vpwr_msg_type_name(t));
		ck_assert_msg(strstr(line, want), "%s not in %s", want, line);
	}
	for (unsigned op = VPWR_SCALE_UP; op <= VPWR_SCALE_MEDIUM; op++) {
		vpwr_msg_init(&m, VPWR_MSG_SCALE, 1, 0);
		m.u.scale.op = op;
		ck_assert_int_gt(vpwr_codec_encode(JSON, &m, line, sizeof(line)), 0);
		snprintf(want, sizeof(want), "\"op\":\"%s\"", vpwr_scale_op_name(op));
		ck_assert_msg(strstr(line, want), "%s not in %s", want, line);
	}
}
END_TEST

/* ------------------------------------------------- lines written by hand */

struct hand_case {
	const char *line;
	void (*expect)(struct vpwr_msg *m);
};

static void x_hello(struct vpwr_msg *m)
{
	vpwr_msg_init(m, VPWR_MSG_HELLO, 1, VPWR_VCPU_NONE);
	m->u.hello.version_min = 1;
	m->u.hello.version_max = 2;
}
static void x_scale(struct vpwr_msg *m)
{
	vpwr_msg_init(m, VPWR_MSG_SCALE, 7, 0);
	m->u.scale.op = VPWR_SCALE_UP;
}
static void x_set_freq(struct vpwr_msg *m)
{
	vpwr_msg_init(m, VPWR_MSG_SET_FREQ, 0, 3);
	m->u.freq.khz = 1800000;
}
static void x_set_range(struct vpwr_msg *m)
{
	vpwr_msg_init(m, VPWR_MSG_SET_RANGE, 4294967295u, 1);
	m->u.range.min_khz = 1200000;
	m->u.range.max_khz = 2400000;
}
static void x_turbo(struct vpwr_msg *m)
{
	vpwr_msg_init(m, VPWR_MSG_TURBO, 2, 5);
}
static void x_set_epp(struct vpwr_msg *m)
{
	vpwr_msg_init(m, VPWR_MSG_SET_EPP, 3, 0);
	m->u.epp.hint = 255;
}
static void x_policy_time(struct vpwr_msg *m)
{
	vpwr_msg_init(m, VPWR_MSG_POLICY_SET, 11, VPWR_VCPU_NONE);
	m->u.policy.kind = VPWR_POLICY_TIME;
	for (unsigned c = 0; c <= 3; c++)
		vpwr_cpuset_set(&m->u.policy.vcpus, c);
	vpwr_cpuset_set(&m->u.policy.vcpus, 8);
	m->u.policy.busy_hours = 1u << 17 | 1u << 18 | 1u << 23;
	m->u.policy.quiet_hours = 1u << 2 | 1u << 3;
}
static void x_policy_traffic(struct vpwr_msg *m)
{
	static const uint8_t mac[6] = { 0xde, 0xad, 0xbe, 0xef, 0x01, 0x0A };

	vpwr_msg_init(m, VPWR_MSG_POLICY_SET, 12, VPWR_VCPU_NONE);
	m->u.policy.kind = VPWR_POLICY_TRAFFIC;
	vpwr_cpuset_set(&m->u.policy.vcpus, 2);
	vpwr_cpuset_set(&m->u.policy.vcpus, 1000);
	m->u.policy.min_pps = 10;
	m->u.policy.avg_pps = 100;
	m->u.policy.max_pps = 1000;
	m->u.policy.nr_macs = 1;
	memcpy(m->u.policy.macs[0], mac, 6);
}
static void x_policy_workload(struct vpwr_msg *m)
{
	vpwr_msg_init(m, VPWR_MSG_POLICY_SET, 13, VPWR_VCPU_NONE);
	m->u.policy.kind = VPWR_POLICY_WORKLOAD;
	m->u.policy.workload = VPWR_WORKLOAD_MEDIUM;
}
static void x_policy_branch(struct vpwr_msg *m)
{
	vpwr_msg_init(m, VPWR_MSG_POLICY_SET, 14, VPWR_VCPU_NONE);
	m->u.policy.kind = VPWR_POLICY_BRANCH_RATIO;
	m->u.policy.branch_ratio_ppm = 1000000;
	m->u.policy.traffic_hours = 0xFFFFFF;
}
static void x_policy_remove(struct vpwr_msg *m)
{
	vpwr_msg_init(m, VPWR_MSG_POLICY_REMOVE, 15, VPWR_VCPU_NONE);
	m->u.policy.kind = VPWR_POLICY_WORKLOAD;
}
static void x_query_freqs(struct vpwr_msg *m)
{
	vpwr_msg_init(m, VPWR_MSG_QUERY_FREQS, 16, 2);
}
static void x_query_state(struct vpwr_msg *m)
{
	vpwr_msg_init(m, VPWR_MSG_QUERY_STATE, 17, 4294967294u);
}
static void x_query_caps(struct vpwr_msg *m)
{
	vpwr_msg_init(m, VPWR_MSG_QUERY_CAPS, 18, VPWR_VCPU_NONE);
}
static void x_release(struct vpwr_msg *m)
{
	vpwr_msg_init(m, VPWR_MSG_RELEASE, 0, VPWR_VCPU_NONE);
}
static void x_query_vcpus(struct vpwr_msg *m)
{
	vpwr_msg_init(m, VPWR_MSG_QUERY_VCPUS, 19, VPWR_VCPU_NONE);
	m->u.vcpus.want = VPWR_VCPUS_FREQS;
}
static void x_nack_unknown(struct vpwr_msg *m)
{
	vpwr_msg_init(m, 0, 20, VPWR_VCPU_NONE);
	m->type = 99;
	m->flags = VPWR_MSG_F_REPLY;
	m->status = -EBADMSG;
	strcpy(m->reason, "what is \"99\"? \xe2\x82\xac");
}

static const struct hand_case hand_cases[] = {
	{ "{\"type\":\"hello\",\"seq\":1,\"version_min\":1,\"version_max\":2}\n", x_hello },
	{ "{\"v\":1,\"seq\":7,\"type\":\"scale\",\"vcpu\":0,\"op\":\"up\"}\n", x_scale },
	{ " {  \"freq_khz\" : 1800000 , \"vcpu\":3, \"type\" : \"set_freq\"}  \r\n", x_set_freq },
	{ "{\"type\":\"set_range\",\"seq\":4294967295,\"vcpu\":1,\"min_khz\":1200000,\"max_khz\":2400000}\n",
	  x_set_range },
	{ "{\"type\":\"turbo\",\"seq\":2,\"vcpu\":5,\"enable\":false,\"reply\":false}\n", x_turbo },
	{ "{\"type\":\"set_epp\",\"seq\":3,\"vcpu\":0,\"epp\":255}", x_set_epp },
	{ "{\"type\":\"policy_set\",\"seq\":11,\"kind\":\"time\",\"vcpus\":\"0-3,8\","
	  "\"busy_hours\":[23,17,18],\"quiet_hours\":[2,3]}\n", x_policy_time },
	{ "{\"type\":\"policy_set\",\"seq\":12,\"kind\":\"traffic\",\"vcpus\":[1000,2],"
	  "\"min_pps\":10,\"avg_pps\":100,\"max_pps\":1000,\"macs\":[\"DE:AD:be:ef:01:0a\"]}\n",
	  x_policy_traffic },
	{ "{\"type\":\"policy_set\",\"seq\":13,\"kind\":\"workload\",\"workload\":\"medium\","
	  "\"vcpus\":[],\"macs\":[],\"busy_hours\":[]}\n", x_policy_workload },
	{ "{\"type\":\"policy_set\",\"seq\":14,\"kind\":\"branch_ratio\",\"branch_ratio_ppm\":1000000,"
	  "\"traffic_hours\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23]}\n",
	  x_policy_branch },
	{ "{\"type\":\"policy_remove\",\"seq\":15,\"kind\":\"workload\"}\n", x_policy_remove },
	{ "{\"type\":\"query_freqs\",\"seq\":16,\"vcpu\":2}\n", x_query_freqs },
	{ "{\"type\":\"query_state\",\"seq\":17,\"vcpu\":4294967294}\n", x_query_state },
	{ "{\"type\":\"query_caps\",\"seq\":18}\n", x_query_caps },
	{ "{\"type\":\"release\"}\n", x_release },
	{ "{\"type\":\"query_vcpus\",\"seq\":19,\"want\":[\"freqs\"]}\n", x_query_vcpus },
	{ "{\"type\":99,\"seq\":20,\"reply\":true,\"status\":-74,\"error\":\"whatever\","
	  "\"reason\":\"what is \\\"99\\\"? \\u20ac\"}\n", x_nack_unknown },
	{ "\n \r\n\t\n{\"type\":\"release\"}\n", x_release },
};

START_TEST(hand_written_lines)
{
	const struct hand_case *c = &hand_cases[_i];
	struct vpwr_decode_error err;
	struct vpwr_msg got, want;
	char a[256], b[256];
	int rc;

	c->expect(&want);
	rc = vpwr_codec_decode(JSON, c->line, strlen(c->line), &got, &err);
	ck_assert_msg(rc == 0, "%s: %s", c->line, err.text);
	vpwr_msg_format(&want, a, sizeof(a));
	vpwr_msg_format(&got, b, sizeof(b));
	ck_assert_msg(!memcmp(&got, &want, sizeof(got)), "%s\n want %s\n got  %s",
		      c->line, a, b);
}
END_TEST

/* ------------------------------------------------------------- encoding */

START_TEST(encode_never_writes_past_cap)
{
	struct vpwr_msg m;
	uint8_t buf[VPWR_JSON_MAX_LINE + 16];
	int need;

	fill_ack(&m, VPWR_MSG_QUERY_VCPUS);
	need = vpwr_codec_encode(JSON, &m, buf, sizeof(buf));
	ck_assert_int_gt(need, 0);
	for (int cap = 0; cap < need; cap++) {
		memset(buf, 0xEE, sizeof(buf));
		if (vpwr_codec_encode(JSON, &m, buf, (size_t)cap) != -ENOBUFS)
			ck_abort_msg("cap %d: not -ENOBUFS", cap);
		for (size_t i = (size_t)cap; i < sizeof(buf); i++)
			if (buf[i] != 0xEE)
				ck_abort_msg("cap %d: byte %zu written", cap, i);
	}
	ck_assert_int_eq(vpwr_codec_encode(JSON, &m, buf, (size_t)need), need);
	ck_assert_int_eq(vpwr_codec_encode(JSON, &m, NULL, 0), -ENOBUFS);
}
END_TEST

START_TEST(encode_refuses_what_it_cannot_say)
{
	struct vpwr_msg m;
	uint8_t buf[VPWR_JSON_MAX_LINE];

	vpwr_msg_init(&m, VPWR_MSG_SCALE, 1, 0);
	m.u.scale.op = 9; /* invalid message */
	ck_assert_int_eq(vpwr_codec_encode(JSON, &m, buf, sizeof(buf)), -EINVAL);
	fill_ack(&m, VPWR_MSG_QUERY_STATE);
	m.u.state.clamped = 2; /* a boolean cannot say 2 */
	ck_assert_int_eq(vpwr_codec_encode(JSON, &m, buf, sizeof(buf)), -EINVAL);
	fill_ack(&m, VPWR_MSG_QUERY_STATE);
	m.u.state.turbo = 7;
	ck_assert_int_eq(vpwr_codec_encode(JSON, &m, buf, sizeof(buf)), -EINVAL);
	vpwr_msg_init(&m, VPWR_MSG_LIMITS_CHANGED, 1, 0); /* not a request */
	ck_assert_int_eq(vpwr_codec_encode(JSON, &m, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(vpwr_codec_encode(JSON, NULL, buf, sizeof(buf)), -EINVAL);
}
END_TEST

/* Reasons are bytes; a JSON string is UTF-8: bad bytes become '?'. */
START_TEST(encode_repairs_reason_bytes)
{
	struct vpwr_msg m, back, req;
	char line[VPWR_JSON_MAX_LINE];
	int len;

	vpwr_msg_init(&req, VPWR_MSG_RELEASE, 1, VPWR_VCPU_NONE);
	vpwr_msg_reply(&m, &req, -EIO, "a\xff" "b\xc3(\xed\xa0\x80\xc3\xa9");
	len = vpwr_codec_encode(JSON, &m, line, sizeof(line));
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(vpwr_codec_decode(JSON, line, (size_t)len, &back, NULL), 0);
	ck_assert_str_eq(back.reason, "a?b?(???\xc3\xa9");
}
END_TEST

/* The largest messages of the model still fit one line. */
START_TEST(worst_cases_fit_a_line)
{
	struct vpwr_msg m[3], back;
	char line[2 * VPWR_JSON_MAX_LINE];

	vpwr_msg_init(&m[0], VPWR_MSG_POLICY_SET, UINT32_MAX, 4000000000u);
	fill_policy(&m[0].u.policy);
	for (unsigned c = 0; c < VPWR_MAX_CPUS; c += 2)
		vpwr_cpuset_set(&m[0].u.policy.vcpus, c);
	m[0].u.policy.quiet_hours = 0xFFFFFF & ~m[0].u.policy.busy_hours;
	fill_ack(&m[1], VPWR_MSG_QUERY_VCPUS);
	m[1].u.vcpus.first = 0;
	m[1].u.vcpus.nr = m[1].u.vcpus.nr_vcpus = VPWR_MSG_MAX_VCPUS;
	for (int i = 0; i < VPWR_MSG_MAX_VCPUS; i++)
		m[1].u.vcpus.cur_khz[i] = UINT32_MAX;
	memset(m[1].reason, 1, VPWR_REASON_MAX - 1);
	fill_ack(&m[2], VPWR_MSG_QUERY_FREQS);
	m[2].status = INT32_MIN;
	memset(m[2].reason, '"', VPWR_REASON_MAX - 1);
	for (int i = 0; i < 3; i++) {
		int len = vpwr_codec_encode(JSON, &m[i], line, sizeof(line));

		ck_assert_int_gt(len, 0);
		ck_assert_int_le(len, VPWR_JSON_MAX_LINE);
		ck_assert_int_eq(vpwr_codec_decode(JSON, line, (size_t)len, &back,
						   NULL), 0);
		if (i < 2) /* the NACK drops its body */
			ck_assert_mem_eq(&back, &m[i], sizeof(back));
	}
}
END_TEST

static Suite *json_suite(void)
{
	Suite *s = suite_create("codec_json");
	TCase *tc = tcase_create("native form");

	tcase_add_test(tc, round_trip_every_message);
	tcase_add_test(tc, encodes_documented_lines);
	tcase_add_test(tc, names_are_the_model_names);
	tcase_add_loop_test(tc, hand_written_lines, 0,
			    (int)VPWR_ARRAY_SIZE(hand_cases));
	tcase_add_test(tc, encode_never_writes_past_cap);
	tcase_add_test(tc, encode_refuses_what_it_cannot_say);
	tcase_add_test(tc, encode_repairs_reason_bytes);
	tcase_add_test(tc, worst_cases_fit_a_line);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(json_suite());
}
