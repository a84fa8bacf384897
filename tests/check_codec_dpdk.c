/* SPDX-License-Identifier: MIT */
/*
 * DPDK's guest channel codec, host role ("dpdk"), against packets built by
 * hand at the offsets of DPDK's struct rte_power_channel_packet (x86-64;
 * the layout itself is checked against DPDK's header in
 * check_codec_dpdk_layout.c, the guest role in check_codec_dpdk_guest.c).
 * Besides every command and unit, each fault of DPDK's own host that
 * libvpwr fixes has a test here that fails without the fix: an answerable
 * decode for every request, zero-filled replies, vm_name never trusted,
 * PHYSICAL core ids refused, bounded resource_id / num_vcpu / nb_mac /
 * hours, bounded lists for domains above 8 vCPUs, and packets reassembled
 * from any number of reads.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "codec_internal.h"
#include "dpdk_pkt.h"
#include "framer.h"

/* ------------------------------------------------------ registry/framing */

START_TEST(test_registry)
{
	uint8_t p[PKT];
	int err = 1;

	ck_assert_ptr_eq(vpwr_codec_by_name("dpdk"), HOST);
	ck_assert_ptr_eq(vpwr_codec_by_name("dpdk-guest"), GUEST);
	ck_assert_str_eq(vpwr_codec_name(HOST), "dpdk");
	ck_assert_str_eq(vpwr_codec_name(GUEST), "dpdk-guest");
	ck_assert(GUEST->flags & VPWR_CODEC_F_NO_SEQ);
	ck_assert(!(HOST->flags & VPWR_CODEC_F_NO_SEQ));
	ck_assert_ptr_null(GUEST->probe);
	cpu_power(p, 3, 1);
	ck_assert_ptr_eq(vpwr_codec_detect(p, 1, &err), HOST);
	ck_assert_int_eq(err, 0);
	ck_assert_ptr_eq(vpwr_codec_detect(p, PKT, NULL), HOST);
	ck_assert_ptr_null(vpwr_codec_detect(p, 0, &err));
	ck_assert_int_eq(err, 0);
	ck_assert_ptr_eq(vpwr_codec_detect("VPWR", 4, NULL), vpwr_codec_native());
}
END_TEST

START_TEST(test_frame_len)
{
	static const struct { uint32_t cmd; int len; } replies[] = {
		{ 1, PKT }, { 2, PKT }, { 3, FL }, { 4, CL },
	};
	struct vpwr_decode_error e;
	uint8_t p[PKT + 8] = { 0 };

	for (size_t n = 0; n < PKT; n++)
		if (vpwr_codec_frame_len(HOST, p, n, NULL) != 0)
			ck_abort_msg("host: %zu bytes are not a frame yet", n);
	ck_assert_int_eq(vpwr_codec_frame_len(HOST, p, PKT, NULL), PKT);
	ck_assert_int_eq(vpwr_codec_frame_len(HOST, p, sizeof(p), NULL), PKT);
	for (size_t i = 0; i < 4; i++) {
		put32(p, CMD, replies[i].cmd);
		for (size_t n = 0; n < (size_t)replies[i].len; n++)
			if (vpwr_codec_frame_len(GUEST, p, n, NULL) != 0)
				ck_abort_msg("guest: command %u, %zu bytes",
					     replies[i].cmd, n);
		ck_assert_int_eq(vpwr_codec_frame_len(GUEST, p, sizeof(p), NULL),
				 replies[i].len);
	}
	put32(p, CMD, 0);
	ck_assert_int_eq(vpwr_codec_frame_len(GUEST, p, 15, &e), 0);
	ck_assert_int_eq(vpwr_codec_frame_len(GUEST, p, 16, &e), -VPWR_E_PROTO);
	ck_assert_uint_eq(e.offset, CMD);
	put32(p, CMD, 5);
	ck_assert_int_eq(vpwr_codec_frame_len(GUEST, p, sizeof(p), &e),
			 -VPWR_E_PROTO);
}
END_TEST

/* DPDK's host reads a packet with read() calls that each must return the
 * rest of it; here any split is reassembled, detection included. */
START_TEST(test_framer_one_byte_at_a_time)
{
	static struct vpwr_framer f;
	uint8_t two[2 * PKT];
	const uint8_t *frame;
	struct vpwr_msg m;
	int frames = 0;

	cpu_power(two, 3, 1);
	pkt_init(two + PKT, 7);
	vpwr_framer_init(&f, NULL);
	for (size_t i = 0; i < sizeof(two); i++) {
		int n;

		ck_assert_int_eq(vpwr_framer_push(&f, two + i, 1), 0);
		n = vpwr_framer_next(&f, &frame, NULL);
		if (n < 0 || (n > 0 && i != PKT - 1 && i != 2 * PKT - 1))
			ck_abort_msg("byte %zu: framer says %d", i, n);
		if (n == 0)
			continue;
		ck_assert_int_eq(n, PKT);
		ck_assert_ptr_eq(vpwr_framer_codec(&f), HOST);
		ck_assert_int_eq(vpwr_codec_decode(HOST, frame, PKT, &m, NULL), 0);
		ck_assert_uint_eq(m.type, frames ? VPWR_MSG_QUERY_VCPUS
						 : VPWR_MSG_SCALE);
		vpwr_framer_consume(&f, (size_t)n);
		frames++;
	}
	ck_assert_int_eq(frames, 2);
}
END_TEST

/* Half a packet and then the end of the stream: "need more", no error;
 * only a decode of the stub (which a host never attempts) fails. */
START_TEST(test_half_packet)
{
	struct vpwr_decode_error e;
	struct vpwr_msg m;
	uint8_t p[PKT];

	cpu_power(p, 0, 1);
	ck_assert_int_eq(vpwr_codec_frame_len(HOST, p, PKT / 2, &e), 0);
	ck_assert_str_eq(e.text, "");
	ck_assert_int_eq(vpwr_codec_decode(HOST, p, PKT / 2, &m, &e),
			 -VPWR_E_PROTO);
	ck_assert_int_eq(vpwr_codec_decode(HOST, p, PKT - 1, &m, &e),
			 -VPWR_E_PROTO);
}
END_TEST

/* ---------------------------------------------------------- host decode */

START_TEST(test_cpu_power_units)
{
	static const struct { uint32_t unit; uint16_t type; uint32_t val; } u[] = {
		{ 1, VPWR_MSG_SCALE, VPWR_SCALE_UP },
		{ 2, VPWR_MSG_SCALE, VPWR_SCALE_DOWN },
		{ 3, VPWR_MSG_SCALE, VPWR_SCALE_MAX },
		{ 4, VPWR_MSG_SCALE, VPWR_SCALE_MIN },
		{ 5, VPWR_MSG_TURBO, 1 },
		{ 6, VPWR_MSG_TURBO, 0 },
	};
	struct vpwr_msg m, want;
	uint8_t p[PKT];

	for (size_t i = 0; i < sizeof(u) / sizeof(u[0]); i++) {
		cpu_power(p, 5, u[i].unit);
		decode_ok(p, &m);
		vpwr_msg_init(&want, u[i].type, 0, 5);
		if (u[i].type == VPWR_MSG_SCALE)
			want.u.scale.op = u[i].val;
		else
			want.u.turbo.enable = u[i].val;
		ck_assert_msg(!memcmp(&m, &want, sizeof(m)), "unit %u", u[i].unit);
	}
}
END_TEST

START_TEST(test_connect_ignores_garbage)
{
	struct vpwr_msg m, clean;
	uint8_t p[PKT];

	/* DPDK's guest library sends CONNECT from an uninitialised struct. */
	memset(p, 0xA5, sizeof(p));
	put32(p, CMD, 2);
	decode_ok(p, &m);
	pkt_init(p, 2);
	decode_ok(p, &clean);
	ck_assert_mem_eq(&m, &clean, sizeof(m));
	ck_assert_uint_eq(m.type, VPWR_MSG_HELLO);
	ck_assert_uint_eq(m.vcpu, VPWR_VCPU_NONE);
	ck_assert_uint_eq(m.u.hello.version_min, 1);
	ck_assert_uint_eq(m.u.hello.version_max, 1);
}
END_TEST

START_TEST(test_policy_dpdk_sample)
{
	static const uint8_t mac[6] = { 0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF };
	struct vpwr_msg m;
	uint8_t p[PKT];

	dpdk_sample_policy(p);
	decode_ok(p, &m);
	ck_assert_uint_eq(m.type, VPWR_MSG_POLICY_SET);
	ck_assert_uint_eq(m.vcpu, VPWR_VCPU_NONE);
	ck_assert_uint_eq(m.u.policy.kind, VPWR_POLICY_TIME);
	ck_assert_uint_eq(vpwr_cpuset_count(&m.u.policy.vcpus), 2);
	ck_assert(vpwr_cpuset_isset(&m.u.policy.vcpus, 0));
	ck_assert(vpwr_cpuset_isset(&m.u.policy.vcpus, 1));
	ck_assert_uint_eq(m.u.policy.busy_hours, 0x38);
	ck_assert_uint_eq(m.u.policy.quiet_hours, 0x3800);
	/* DPDK's host reads the zero padding as midnight: slot 2 of the
	 * traffic hours is the first to say 0. */
	ck_assert_uint_eq(m.u.policy.traffic_hours, 0x501);
	ck_assert_uint_eq(m.u.policy.min_pps, 96000);
	ck_assert_uint_eq(m.u.policy.avg_pps, 1800000);
	ck_assert_uint_eq(m.u.policy.max_pps, 2000000);
	ck_assert_uint_eq(m.u.policy.workload, 0); /* not read for TIME */
	ck_assert_uint_eq(m.u.policy.nr_macs, 1);
	ck_assert_mem_eq(m.u.policy.macs[0], mac, 6);
}
END_TEST

/* The first slot that names an hour decides, busy before quiet before
 * traffic, as DPDK's host walks them; -1 names no hour. */
START_TEST(test_policy_hours_as_dpdk_reads_them)
{
	struct vpwr_msg m;
	uint8_t p[PKT];

	pkt_init(p, 3);
	put32(p, POLICY, 1);
	for (int x = 0; x < 24; x++) {
		put32(p, BUSY + 4 * (size_t)x, (uint32_t)-1);
		put32(p, QUIET + 4 * (size_t)x, (uint32_t)-1);
		put32(p, TRAFFIC + 4 * (size_t)x, (uint32_t)-1);
	}
	put32(p, BUSY + 4 * 5, 7);   /* 7 busy in slot 5 ... */
	put32(p, QUIET + 4 * 2, 7);  /* ... but quiet in slot 2 first */
	put32(p, BUSY + 4 * 3, 9);   /* same slot: busy wins */
	put32(p, QUIET + 4 * 3, 9);
	put32(p, TRAFFIC + 4 * 3, 9);
	put32(p, TRAFFIC + 4 * 0, 23);
	put32(p, BUSY + 4 * 23, 23); /* later than traffic's slot 0 */
	decode_ok(p, &m);
	ck_assert_uint_eq(m.u.policy.busy_hours, 1u << 9);
	ck_assert_uint_eq(m.u.policy.quiet_hours, 1u << 7);
	ck_assert_uint_eq(m.u.policy.traffic_hours, 1u << 23);
}
END_TEST

START_TEST(test_policy_kinds)
{
	static const uint32_t wl[] = { VPWR_WORKLOAD_HIGH, VPWR_WORKLOAD_MEDIUM,
				       VPWR_WORKLOAD_LOW };
	struct vpwr_msg m;
	uint8_t p[PKT];

	dpdk_sample_policy(p);
	put32(p, POLICY, 0);
	decode_ok(p, &m);
	ck_assert_uint_eq(m.u.policy.kind, VPWR_POLICY_TRAFFIC);
	ck_assert_uint_eq(m.u.policy.max_pps, 2000000);
	ck_assert_uint_eq(m.u.policy.nr_macs, 1);
	ck_assert_uint_eq(m.u.policy.busy_hours | m.u.policy.quiet_hours |
			  m.u.policy.traffic_hours, 0); /* TIME only */
	for (uint32_t w = 0; w < 3; w++) {
		put32(p, POLICY, 2);
		put32(p, WORKLOAD, w);
		put32(p, NB_MAC, 99); /* not read for WORKLOAD */
		put32(p, BUSY, 77);   /* nor hours */
		decode_ok(p, &m);
		ck_assert_uint_eq(m.u.policy.kind, VPWR_POLICY_WORKLOAD);
		ck_assert_uint_eq(m.u.policy.workload, wl[w]);
		ck_assert_uint_eq(m.u.policy.nr_macs, 0);
		ck_assert_uint_eq(m.u.policy.min_pps, 0);
	}
	put32(p, POLICY, 3);
	put32(p, WORKLOAD, 1234); /* not read for BRANCH_RATIO */
	p[NUM_VCPU] = 8;
	for (int i = 0; i < 8; i++)
		p[VCPUS + i] = (uint8_t)(7 - i);
	decode_ok(p, &m);
	ck_assert_uint_eq(m.u.policy.kind, VPWR_POLICY_BRANCH_RATIO);
	ck_assert_uint_eq(m.u.policy.vcpus.bits[0], 0xFF);
	ck_assert_uint_eq(m.u.policy.workload, 0);
	ck_assert_uint_eq(m.u.policy.branch_ratio_ppm, 0);
}
END_TEST

START_TEST(test_policy_remove_and_queries)
{
	static const struct { uint32_t cmd, want; uint32_t vcpu; } q[] = {
		{ 7, VPWR_VCPUS_FREQS, VPWR_VCPU_NONE },
		{ 8, VPWR_VCPUS_FREQS, 6 },
		{ 9, VPWR_VCPUS_CAPS, VPWR_VCPU_NONE },
		{ 10, VPWR_VCPUS_CAPS, 6 },
	};
	struct vpwr_msg m;
	uint8_t p[PKT];

	memset(p, 0x77, sizeof(p)); /* nothing but the command is read */
	put32(p, CMD, 4);
	decode_ok(p, &m);
	ck_assert_uint_eq(m.type, VPWR_MSG_POLICY_REMOVE);
	ck_assert_uint_eq(m.u.policy.kind, 0);
	ck_assert_uint_eq(m.vcpu, VPWR_VCPU_NONE);
	for (size_t i = 0; i < 4; i++) {
		pkt_init(p, q[i].cmd);
		put64(p, RID, 6);
		decode_ok(p, &m);
		ck_assert_uint_eq(m.type, VPWR_MSG_QUERY_VCPUS);
		ck_assert_uint_eq(m.u.vcpus.want, q[i].want);
		ck_assert_uint_eq(m.vcpu, q[i].vcpu);
	}
}
END_TEST

/* DPDK's host silently drops what it does not understand; here the
 * decode fails with the type filled, so the host can answer. */
START_TEST(test_unknown_command_answerable)
{
	static const uint32_t cmds[] = { 0, 5, 6, 11, 0x7FFFFFFF, 0xFFFFFFFF };
	struct vpwr_decode_error e;
	struct vpwr_msg m, nack;
	uint8_t p[PKT], out[PKT];

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		pkt_init(p, cmds[i]);
		ck_assert_int_eq(decode(p, &m, &e), -EBADMSG);
		ck_assert_uint_eq(e.offset, CMD);
		ck_assert_ptr_nonnull(strstr(e.text, "unknown command"));
		vpwr_msg_reply(&nack, &m, -EBADMSG, "%s", e.text);
		ck_assert_int_eq(vpwr_codec_encode(HOST, &nack, out, sizeof(out)),
				 PKT);
		ck_assert_uint_eq(out[CMD], 2);
	}
}
END_TEST

struct refusal {
	const char *name;
	void (*build)(uint8_t *p);
	int rc;
	size_t offset;
	const char *text;
	uint16_t type; /* filled despite the failure */
};

#define BUILD(fn, body)                                                        \
	static void fn(uint8_t *p)                                             \
	{                                                                      \
		body;                                                          \
	}

BUILD(rid_none, cpu_power(p, 0xFFFFFFFFu, 1))
BUILD(rid_2_32, cpu_power(p, 1ull << 32, 3))
BUILD(rid_huge, cpu_power(p, ~0ull, 5))
BUILD(unit_0, cpu_power(p, 1, 0))
BUILD(unit_7, cpu_power(p, 1, 7))
BUILD(phys_power, (cpu_power(p, 1, 1), p[CORE_TYPE] = 1))
BUILD(core_2, (cpu_power(p, 1, 1), p[CORE_TYPE] = 2))
BUILD(phys_policy, (dpdk_sample_policy(p), p[CORE_TYPE] = 1))
BUILD(num_vcpu_9, (dpdk_sample_policy(p), p[NUM_VCPU] = 9))
BUILD(num_vcpu_255, (dpdk_sample_policy(p), p[NUM_VCPU] = 255))
BUILD(policy_4, (dpdk_sample_policy(p), put32(p, POLICY, 4)))
BUILD(workload_3, (dpdk_sample_policy(p), put32(p, POLICY, 2),
		   put32(p, WORKLOAD, 3)))
BUILD(nb_mac_neg, (dpdk_sample_policy(p), put32(p, NB_MAC, (uint32_t)-1)))
BUILD(nb_mac_11, (dpdk_sample_policy(p), put32(p, NB_MAC, 11)))
BUILD(busy_24, (dpdk_sample_policy(p), put32(p, BUSY + 4 * 3, 24)))
BUILD(quiet_neg2, (dpdk_sample_policy(p), put32(p, QUIET + 4 * 23,
						 (uint32_t)-2)))
BUILD(traffic_big, (dpdk_sample_policy(p), put32(p, TRAFFIC, 0x80000000u)))
BUILD(pps_reversed, (dpdk_sample_policy(p), put32(p, POLICY, 0),
		     put32(p, MIN_PKT, 3000000)))
BUILD(freq_vcpu_8, (pkt_init(p, 8), put64(p, RID, 8)))
BUILD(caps_rid_none, (pkt_init(p, 10), put64(p, RID, 0xFFFFFFFFu)))

static const struct refusal refusals[] = {
	{ "resource_id NONE", rid_none, -VPWR_E_PROTO, RID, "resource_id", VPWR_MSG_SCALE },
	{ "resource_id 2^32", rid_2_32, -VPWR_E_PROTO, RID, "resource_id", VPWR_MSG_SCALE },
	{ "resource_id ~0", rid_huge, -VPWR_E_PROTO, RID, "resource_id", VPWR_MSG_TURBO },
	{ "unit 0", unit_0, -VPWR_E_PROTO, UNIT, "unit 0", VPWR_MSG_SCALE },
	{ "unit 7", unit_7, -VPWR_E_PROTO, UNIT, "unit 7", VPWR_MSG_SCALE },
	{ "PHYSICAL CPU_POWER", phys_power, -EPERM, CORE_TYPE, "PHYSICAL", VPWR_MSG_SCALE },
	{ "core_type 2", core_2, -VPWR_E_PROTO, CORE_TYPE, "core_type 2", VPWR_MSG_SCALE },
	{ "PHYSICAL policy", phys_policy, -EPERM, CORE_TYPE, "PHYSICAL", VPWR_MSG_POLICY_SET },
	{ "num_vcpu 9", num_vcpu_9, -VPWR_E_PROTO, NUM_VCPU, "num_vcpu 9", VPWR_MSG_POLICY_SET },
	{ "num_vcpu 255", num_vcpu_255, -VPWR_E_PROTO, NUM_VCPU, "num_vcpu", VPWR_MSG_POLICY_SET },
	{ "policy_to_use 4", policy_4, -VPWR_E_PROTO, POLICY, "policy_to_use 4", VPWR_MSG_POLICY_SET },
	{ "workload 3", workload_3, -VPWR_E_PROTO, WORKLOAD, "workload 3", VPWR_MSG_POLICY_SET },
	{ "nb_mac -1", nb_mac_neg, -VPWR_E_PROTO, NB_MAC, "nb_mac_to_monitor -1", VPWR_MSG_POLICY_SET },
	{ "nb_mac 11", nb_mac_11, -VPWR_E_PROTO, NB_MAC, "nb_mac_to_monitor 11", VPWR_MSG_POLICY_SET },
	{ "busy hour 24", busy_24, -VPWR_E_PROTO, BUSY + 12, "busy_hours[3] is 24", VPWR_MSG_POLICY_SET },
	{ "quiet hour -2", quiet_neg2, -VPWR_E_PROTO, QUIET + 92, "quiet_hours[23] is -2", VPWR_MSG_POLICY_SET },
	{ "traffic hour INT_MIN", traffic_big, -VPWR_E_PROTO, TRAFFIC, "hours_to_use_traffic_profile[0]", VPWR_MSG_POLICY_SET },
	{ "thresholds reversed", pps_reversed, -VPWR_E_PROTO, 0, "min <= avg <= max", VPWR_MSG_POLICY_SET },
	{ "QUERY_FREQ vCPU 8", freq_vcpu_8, -VPWR_E_VCPU_RANGE, RID, "0..7", VPWR_MSG_QUERY_VCPUS },
	{ "QUERY_CAPS NONE", caps_rid_none, -VPWR_E_PROTO, RID, "resource_id", VPWR_MSG_QUERY_VCPUS },
};

START_TEST(test_refusals)
{
	const struct refusal *r = &refusals[_i];
	struct vpwr_decode_error e;
	struct vpwr_msg m, nack;
	uint8_t p[PKT], out[PKT];
	int n, rc;

	r->build(p);
	rc = decode(p, &m, &e);
	ck_assert_msg(rc == r->rc, "%s: %d (%s)", r->name, rc, e.text);
	ck_assert_msg(e.offset == r->offset, "%s: offset %zu", r->name, e.offset);
	ck_assert_msg(strstr(e.text, r->text), "%s: \"%s\"", r->name, e.text);
	ck_assert_uint_eq(m.type, r->type);
	/* and the host can answer it */
	vpwr_msg_reply(&nack, &m, r->rc, "%s", e.text);
	n = vpwr_codec_encode(HOST, &nack, out, sizeof(out));
	if (r->type == VPWR_MSG_QUERY_VCPUS) {
		/* The refusal is the (empty) list of the kind asked for. */
		bool caps = m.u.vcpus.want & VPWR_VCPUS_CAPS;

		ck_assert_int_eq(n, caps ? CL : FL);
		ck_assert_uint_eq(out[CMD], caps ? 4 : 3);
	} else {
		ck_assert_int_eq(n, PKT);
		ck_assert_uint_eq(out[CMD], 2);
	}
}
END_TEST

/* vm_name is whatever the guest claims: never read, never checked (even
 * without a NUL), so it cannot select another VM as in DPDK's host. */
START_TEST(test_vm_name_ignored)
{
	void (*const builds[])(uint8_t *) = { unit_7, phys_policy };
	struct vpwr_msg a, b;
	uint8_t p[PKT];
	const uint32_t cmds[] = { 1, 2, 3, 4, 7, 8, 9, 10 };

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (cmds[i] == 3)
			dpdk_sample_policy(p);
		else
			cpu_power(p, 2, 3);
		put32(p, CMD, cmds[i]);
		memset(p + NAME, 0, 32);
		decode_ok(p, &a);
		memset(p + NAME, 'Z', 32);
		decode_ok(p, &b);
		ck_assert_msg(!memcmp(&a, &b, sizeof(a)), "command %u", cmds[i]);
	}
	for (size_t i = 0; i < 2; i++) { /* refusals say the same too */
		struct vpwr_decode_error e1, e2;

		builds[i](p);
		memset(p + NAME, 0, 32);
		ck_assert_int_lt(decode(p, &a, &e1), 0);
		memset(p + NAME, 0xFF, 32);
		ck_assert_int_lt(decode(p, &b, &e2), 0);
		ck_assert_str_eq(e1.text, e2.text);
	}
}
END_TEST

/* Fields a command does not use are not read: junk there changes nothing. */
START_TEST(test_unused_fields_ignored)
{
	struct vpwr_msg a, b;
	uint8_t p[PKT];

	cpu_power(p, 4, 2);
	decode_ok(p, &a);
	memset(p + VFID, 0xEE, CORE_TYPE - VFID);
	memset(p + WORKLOAD, 0xEE, PKT - WORKLOAD);
	decode_ok(p, &b);
	ck_assert_mem_eq(&a, &b, sizeof(a));
	pkt_init(p, 9);
	decode_ok(p, &a);
	memset(p, 0xEE, PKT);
	put32(p, CMD, 9);
	decode_ok(p, &b);
	ck_assert_mem_eq(&a, &b, sizeof(a));
}
END_TEST
/* ---------------------------------------------------------- host encode */


START_TEST(test_ack_nack_zero_filled)
{
	struct vpwr_msg req, m;
	uint8_t want[PKT];

	vpwr_msg_init(&req, VPWR_MSG_SCALE, 9, 3);
	req.u.scale.op = VPWR_SCALE_UP;
	vpwr_msg_reply(&m, &req, 0, "clamped by the operator");
	m.u.state.cur_khz = 2400000; /* state DPDK cannot carry: dropped */
	pkt_init(want, 1);
	put64(want, RID, 3);
	check_encoded(HOST, &m, want, PKT);
	vpwr_msg_reply(&m, &req, -VPWR_E_SHARED_CPU, "pCPU 4 is shared");
	put32(want, CMD, 2);
	check_encoded(HOST, &m, want, PKT);
	vpwr_msg_init(&req, VPWR_MSG_POLICY_REMOVE, 0, VPWR_VCPU_NONE);
	vpwr_msg_reply(&m, &req, 0, NULL);
	pkt_init(want, 1); /* resource_id 0 when no vCPU */
	check_encoded(HOST, &m, want, PKT);
	vpwr_msg_init(&req, VPWR_MSG_HELLO, 0, VPWR_VCPU_NONE);
	vpwr_msg_reply(&m, &req, 0, NULL);
	m.u.hello.version_min = m.u.hello.version_max = 1;
	check_encoded(HOST, &m, want, PKT);
}
END_TEST

START_TEST(test_freq_list_reply)
{
	struct vpwr_msg m;
	uint8_t want[FL];

	vcpus_reply(&m, VPWR_VCPU_NONE, VPWR_VCPUS_FREQS, 0, 4, 4);
	memset(want, 0, sizeof(want));
	put32(want, CMD, 3);
	for (uint32_t i = 0; i < 4; i++)
		put32(want, FL_FREQ + 4 * i, 1000000 + 100000 * i);
	want[FL_NUM] = 4;
	check_encoded(HOST, &m, want, FL);
}
END_TEST

/* DPDK's host writes num_vcpus entries into an array of 8 and tells the
 * guest to read that many: a 12-vCPU domain gets 8, and num_vcpu 8. */
START_TEST(test_freq_list_bounded)
{
	struct vpwr_msg m;
	uint8_t want[FL];

	vcpus_reply(&m, VPWR_VCPU_NONE, VPWR_VCPUS_FREQS, 0, 12, 12);
	memset(want, 0, sizeof(want));
	put32(want, CMD, 3);
	for (uint32_t i = 0; i < 8; i++)
		put32(want, FL_FREQ + 4 * i, 1000000 + 100000 * i);
	want[FL_NUM] = 8;
	check_encoded(HOST, &m, want, FL);
	m.u.vcpus.nr = VPWR_MSG_MAX_VCPUS;
	m.u.vcpus.nr_vcpus = 200;
	check_encoded(HOST, &m, want, FL);
}
END_TEST

/* One vCPU: DPDK's guest reads freq_list[vcpu]; the slots before it are
 * zero, not the host's stack. */
START_TEST(test_freq_single_reply)
{
	struct vpwr_msg m;
	uint8_t want[FL];

	vcpus_reply(&m, 5, VPWR_VCPUS_FREQS, 5, 1, 10);
	memset(want, 0, sizeof(want));
	put32(want, CMD, 3);
	put32(want, FL_FREQ + 4 * 5, 1500000);
	want[FL_NUM] = 6;
	check_encoded(HOST, &m, want, FL);
}
END_TEST

START_TEST(test_caps_list_reply)
{
	struct vpwr_msg m;
	uint8_t want[CL];

	vcpus_reply(&m, VPWR_VCPU_NONE, VPWR_VCPUS_CAPS, 0, 9, 9);
	m.u.vcpus.turbo_mask = 0x1FE;    /* vCPU 0 has no turbo */
	m.u.vcpus.priority_mask = 0x105; /* bit 8: past the 8 slots */
	memset(want, 0, sizeof(want));
	put32(want, CMD, 4);
	for (int i = 1; i < 8; i++)
		put64(want, CL_TURBO + 8 * (size_t)i, 1);
	put64(want, CL_PRIO + 0, 1);
	put64(want, CL_PRIO + 16, 1);
	want[CL_NUM] = 8;
	check_encoded(HOST, &m, want, CL);
	vcpus_reply(&m, 2, VPWR_VCPUS_CAPS, 2, 1, 4);
	m.u.vcpus.turbo_mask = 1;
	m.u.vcpus.priority_mask = 0;
	memset(want, 0, sizeof(want));
	put32(want, CMD, 4);
	put64(want, CL_TURBO + 16, 1);
	want[CL_NUM] = 3;
	check_encoded(HOST, &m, want, CL);
}
END_TEST

/* A refused query gets the list its guest waits for, empty: a 464-byte
 * NACK would leave 376 or 280 bytes in a DPDK guest's stream. */
START_TEST(test_query_refused)
{
	struct vpwr_msg req, m;
	uint8_t want[CL];

	vpwr_msg_init(&req, VPWR_MSG_QUERY_VCPUS, 0, 3);
	req.u.vcpus.want = VPWR_VCPUS_CAPS;
	vpwr_msg_reply(&m, &req, -VPWR_E_NOT_PINNED, "vCPU 3 floats");
	memset(want, 0, sizeof(want));
	/* vpwr_msg_reply keeps want: the caps list the guest waits for. */
	ck_assert_uint_eq(m.u.vcpus.want, VPWR_VCPUS_CAPS);
	put32(want, CMD, 4);
	check_encoded(HOST, &m, want, CL);
	m.u.vcpus.want = 0; /* a reply that lost it: the shorter list */
	memset(want, 0, sizeof(want));
	put32(want, CMD, 3);
	check_encoded(HOST, &m, want, FL);
}
END_TEST

START_TEST(test_host_encode_invalid)
{
	struct vpwr_msg m;
	uint8_t buf[PKT];

	vpwr_msg_init(&m, VPWR_MSG_SCALE, 0, 1); /* a request */
	m.u.scale.op = VPWR_SCALE_UP;
	ck_assert_int_eq(vpwr_codec_encode(HOST, &m, buf, sizeof(buf)), -EINVAL);
	vpwr_msg_init(&m, VPWR_MSG_LIMITS_CHANGED, 0, 1);
	m.flags = VPWR_MSG_F_NOTIFY;
	ck_assert_int_eq(vpwr_codec_encode(HOST, &m, buf, sizeof(buf)), -EINVAL);
	vcpus_reply(&m, VPWR_VCPU_NONE, VPWR_VCPUS_FREQS | VPWR_VCPUS_CAPS, 0,
		    2, 2);
	ck_assert_int_eq(vpwr_codec_encode(HOST, &m, buf, sizeof(buf)), -EINVAL);
	vcpus_reply(&m, VPWR_VCPU_NONE, VPWR_VCPUS_FREQS, 0, 0, 2);
	ck_assert_int_eq(vpwr_codec_encode(HOST, &m, buf, sizeof(buf)), -EINVAL);
	vcpus_reply(&m, 8, VPWR_VCPUS_FREQS, 8, 1, 9);
	ck_assert_int_eq(vpwr_codec_encode(HOST, &m, buf, sizeof(buf)), -EINVAL);
	vcpus_reply(&m, VPWR_VCPU_NONE, VPWR_VCPUS_FREQS, 0, 3, 2); /* invalid */
	ck_assert_int_eq(vpwr_codec_encode(HOST, &m, buf, sizeof(buf)), -EINVAL);
}
END_TEST
static Suite *codec_dpdk_suite(void)
{
	Suite *s = suite_create("codec_dpdk");
	TCase *fr = tcase_create("framing");
	TCase *hd = tcase_create("decode");
	TCase *he = tcase_create("encode");

	tcase_add_test(fr, test_registry);
	tcase_add_test(fr, test_frame_len);
	tcase_add_test(fr, test_framer_one_byte_at_a_time);
	tcase_add_test(fr, test_half_packet);
	tcase_add_test(hd, test_cpu_power_units);
	tcase_add_test(hd, test_connect_ignores_garbage);
	tcase_add_test(hd, test_policy_dpdk_sample);
	tcase_add_test(hd, test_policy_hours_as_dpdk_reads_them);
	tcase_add_test(hd, test_policy_kinds);
	tcase_add_test(hd, test_policy_remove_and_queries);
	tcase_add_test(hd, test_unknown_command_answerable);
	tcase_add_loop_test(hd, test_refusals, 0,
			    (int)(sizeof(refusals) / sizeof(refusals[0])));
	tcase_add_test(hd, test_vm_name_ignored);
	tcase_add_test(hd, test_unused_fields_ignored);
	tcase_add_test(he, test_ack_nack_zero_filled);
	tcase_add_test(he, test_freq_list_reply);
	tcase_add_test(he, test_freq_list_bounded);
	tcase_add_test(he, test_freq_single_reply);
	tcase_add_test(he, test_caps_list_reply);
	tcase_add_test(he, test_query_refused);
	tcase_add_test(he, test_host_encode_invalid);
	suite_add_tcase(s, fr);
	suite_add_tcase(s, hd);
	suite_add_tcase(s, he);
	return s;
}

int main(void)
{
	return vpwr_test_run(codec_dpdk_suite());
}
