/* SPDX-License-Identifier: MIT */
/*
 * DPDK's guest channel codec, guest role ("dpdk-guest"): requests encoded
 * byte for byte as DPDK's guests build them (and nothing it cannot say),
 * replies of DPDK's host and of libvpwr's decoded, and both roles reading
 * each other's packets back unchanged.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "codec_dpdk.h"
#include "dpdk_pkt.h"

static void request(struct vpwr_msg *m, uint16_t type, uint32_t vcpu)
{
	vpwr_msg_init(m, type, 77, vcpu);
}

START_TEST(test_guest_encode_cpu_power)
{
	static const uint32_t units[] = { 0, 1, 2, 4, 3 }; /* by VPWR_SCALE_* */
	struct vpwr_msg m;
	uint8_t want[PKT], buf[PKT];

	for (uint32_t op = VPWR_SCALE_UP; op <= VPWR_SCALE_MAX; op++) {
		request(&m, VPWR_MSG_SCALE, 6);
		m.u.scale.op = op;
		cpu_power(want, 6, units[op]);
		check_encoded(GUEST, &m, want, PKT);
	}
	m.u.scale.op = VPWR_SCALE_MEDIUM; /* DPDK has no medium */
	ck_assert_int_eq(vpwr_codec_encode(GUEST, &m, buf, sizeof(buf)), -EINVAL);
	request(&m, VPWR_MSG_TURBO, 1);
	m.u.turbo.enable = 1;
	cpu_power(want, 1, 5);
	check_encoded(GUEST, &m, want, PKT);
	m.u.turbo.enable = 0;
	cpu_power(want, 1, 6);
	check_encoded(GUEST, &m, want, PKT);
	request(&m, VPWR_MSG_HELLO, VPWR_VCPU_NONE);
	m.u.hello.version_min = 1;
	m.u.hello.version_max = 1;
	pkt_init(want, 2);
	check_encoded(GUEST, &m, want, PKT);
}
END_TEST

START_TEST(test_guest_encode_queries_remove)
{
	struct vpwr_msg m;
	uint8_t want[PKT], buf[PKT];

	request(&m, VPWR_MSG_QUERY_VCPUS, VPWR_VCPU_NONE);
	m.u.vcpus.want = VPWR_VCPUS_FREQS;
	pkt_init(want, 7);
	check_encoded(GUEST, &m, want, PKT);
	m.u.vcpus.want = VPWR_VCPUS_CAPS;
	pkt_init(want, 9);
	check_encoded(GUEST, &m, want, PKT);
	m.vcpu = 7;
	put32(want, CMD, 10);
	put64(want, RID, 7);
	check_encoded(GUEST, &m, want, PKT);
	m.u.vcpus.want = VPWR_VCPUS_FREQS;
	put32(want, CMD, 8);
	check_encoded(GUEST, &m, want, PKT);
	m.vcpu = 8; /* no DPDK reply can carry it */
	ck_assert_int_eq(vpwr_codec_encode(GUEST, &m, buf, sizeof(buf)), -EINVAL);
	m.vcpu = 0;
	m.u.vcpus.want = VPWR_VCPUS_FREQS | VPWR_VCPUS_CAPS;
	ck_assert_int_eq(vpwr_codec_encode(GUEST, &m, buf, sizeof(buf)), -EINVAL);
	request(&m, VPWR_MSG_POLICY_REMOVE, VPWR_VCPU_NONE);
	pkt_init(want, 4);
	check_encoded(GUEST, &m, want, PKT);
	m.u.policy.kind = VPWR_POLICY_TIME; /* DPDK removes every kind */
	ck_assert_int_eq(vpwr_codec_encode(GUEST, &m, buf, sizeof(buf)), -EINVAL);
}
END_TEST

START_TEST(test_guest_encode_policy)
{
	static const uint8_t mac[6] = { 0x02, 0, 0, 0, 0, 0x2A };
	struct vpwr_msg m, back;
	uint8_t want[PKT], buf[PKT];

	request(&m, VPWR_MSG_POLICY_SET, VPWR_VCPU_NONE);
	m.u.policy.kind = VPWR_POLICY_TIME;
	vpwr_cpuset_set(&m.u.policy.vcpus, 1);
	vpwr_cpuset_set(&m.u.policy.vcpus, 200);
	m.u.policy.busy_hours = 0x000300;  /* 8, 9 */
	m.u.policy.quiet_hours = 0x000001; /* midnight, which -1 keeps apart */
	m.u.policy.traffic_hours = 0x800200; /* 9 is busy already: dropped */
	m.u.policy.min_pps = 1;
	m.u.policy.avg_pps = 2;
	m.u.policy.max_pps = 3;
	m.u.policy.nr_macs = 1;
	memcpy(m.u.policy.macs[0], mac, 6);
	pkt_init(want, 3);
	memcpy(want + VFID, mac, 6);
	put32(want, NB_MAC, 1);
	put32(want, MIN_PKT, 1);
	put32(want, AVG_PKT, 2);
	put32(want, MAX_PKT, 3);
	want[VCPUS] = 1;
	want[VCPUS + 1] = 200;
	want[NUM_VCPU] = 2;
	memset(want + BUSY, 0xFF, 3 * 96);
	put32(want, BUSY, 8);
	put32(want, BUSY + 4, 9);
	put32(want, QUIET, 0);
	put32(want, TRAFFIC, 23);
	put32(want, WORKLOAD, 2); /* LOW, DPDK's default */
	put32(want, POLICY, 1);
	check_encoded(GUEST, &m, want, PKT);
	ck_assert_int_eq(decode(want, &back, NULL), 0);
	m.u.policy.traffic_hours = 1u << 23;
	m.seq = 0;
	ck_assert_mem_eq(&back, &m, sizeof(m));
	vpwr_cpuset_set(&m.u.policy.vcpus, 256); /* not a u8 */
	ck_assert_int_eq(vpwr_codec_encode(GUEST, &m, buf, sizeof(buf)), -EINVAL);
	vpwr_cpuset_zero(&m.u.policy.vcpus);
	for (unsigned v = 0; v < 9; v++) /* more than 8 */
		vpwr_cpuset_set(&m.u.policy.vcpus, v);
	ck_assert_int_eq(vpwr_codec_encode(GUEST, &m, buf, sizeof(buf)), -EINVAL);
	vpwr_cpuset_zero(&m.u.policy.vcpus);
	m.u.policy.kind = VPWR_POLICY_BRANCH_RATIO;
	m.u.policy.branch_ratio_ppm = 1000; /* DPDK's host has its own */
	ck_assert_int_eq(vpwr_codec_encode(GUEST, &m, buf, sizeof(buf)), -EINVAL);
}
END_TEST

START_TEST(test_guest_encode_invalid)
{
	static const uint16_t types[] = { VPWR_MSG_SET_FREQ, VPWR_MSG_SET_RANGE,
		VPWR_MSG_SET_EPP, VPWR_MSG_QUERY_FREQS, VPWR_MSG_QUERY_STATE,
		VPWR_MSG_QUERY_CAPS, VPWR_MSG_RELEASE };
	struct vpwr_msg m, req;
	uint8_t buf[PKT];

	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		request(&m, types[i], 0);
		/* the first u32 of the body is khz, min_khz or the hint */
		if (types[i] < VPWR_MSG_QUERY_FREQS)
			m.u.range.min_khz = 1;
		if (types[i] == VPWR_MSG_SET_RANGE)
			m.u.range.max_khz = 1;
		ck_assert_msg(vpwr_msg_validate(&m, NULL) == 0, "type %u", types[i]);
		ck_assert_int_eq(vpwr_codec_encode(GUEST, &m, buf, sizeof(buf)),
				 -EINVAL);
	}
	request(&req, VPWR_MSG_SCALE, 0);
	req.u.scale.op = VPWR_SCALE_UP;
	vpwr_msg_reply(&m, &req, 0, NULL); /* a guest sends no replies */
	ck_assert_int_eq(vpwr_codec_encode(GUEST, &m, buf, sizeof(buf)), -EINVAL);
	req.u.scale.op = 9; /* nor invalid requests */
	ck_assert_int_eq(vpwr_codec_encode(GUEST, &req, buf, sizeof(buf)), -EINVAL);
}
END_TEST

START_TEST(test_guest_encode_named)
{
	char name[40];
	struct vpwr_msg m;
	uint8_t buf[PKT + 1];

	request(&m, VPWR_MSG_QUERY_VCPUS, VPWR_VCPU_NONE);
	m.u.vcpus.want = VPWR_VCPUS_FREQS;
	memset(buf, 0xAA, sizeof(buf));
	ck_assert_int_eq(vpwr_dpdk_guest_encode_named(&m, "vm1", buf, sizeof(buf)),
			 PKT);
	ck_assert_mem_eq(buf + NAME, "vm1\0\0\0\0", 8);
	for (int i = NAME + 3; i < NAME + 32; i++)
		ck_assert_uint_eq(buf[i], 0);
	ck_assert_uint_eq(buf[PKT], 0xAA);
	memset(name, 'n', sizeof(name));
	name[31] = '\0';
	ck_assert_int_eq(vpwr_dpdk_guest_encode_named(&m, name, buf, PKT), PKT);
	ck_assert_uint_eq(buf[NAME + 30], 'n');
	ck_assert_uint_eq(buf[NAME + 31], 0);
	name[31] = 'n';
	name[32] = '\0'; /* no room for the NUL DPDK's strcmp needs */
	ck_assert_int_eq(vpwr_dpdk_guest_encode_named(&m, name, buf, PKT), -EINVAL);
	ck_assert_int_eq(vpwr_dpdk_guest_encode_named(&m, "", buf, PKT - 1),
			 -ENOBUFS);
}
END_TEST

/* What the guest role sends, the host role reads back unchanged. */
START_TEST(test_guest_to_host)
{
	struct vpwr_msg m[6], back;
	uint8_t buf[PKT];

	for (int i = 0; i < 6; i++)
		request(&m[i], VPWR_MSG_SCALE, (uint32_t)i);
	m[0].u.scale.op = VPWR_SCALE_MIN;
	m[1].type = VPWR_MSG_TURBO;
	m[1].u.turbo.enable = 1;
	m[2].type = VPWR_MSG_QUERY_VCPUS;
	m[2].u.vcpus.want = VPWR_VCPUS_CAPS;
	m[3].type = VPWR_MSG_POLICY_SET;
	m[3].vcpu = VPWR_VCPU_NONE;
	m[3].u.policy.kind = VPWR_POLICY_WORKLOAD;
	m[3].u.policy.workload = VPWR_WORKLOAD_MEDIUM;
	vpwr_cpuset_set(&m[3].u.policy.vcpus, 255);
	m[4].type = VPWR_MSG_POLICY_SET;
	m[4].vcpu = VPWR_VCPU_NONE;
	m[4].u.policy.kind = VPWR_POLICY_TRAFFIC;
	m[4].u.policy.max_pps = 10;
	m[4].u.policy.nr_macs = VPWR_MSG_MAX_MACS;
	memset(m[4].u.policy.macs, 0xC3, sizeof(m[4].u.policy.macs));
	m[5].type = VPWR_MSG_POLICY_REMOVE;
	m[5].vcpu = VPWR_VCPU_NONE;
	for (int i = 0; i < 6; i++) {
		ck_assert_int_eq(vpwr_codec_encode(GUEST, &m[i], buf, sizeof(buf)),
				 PKT);
		ck_assert_int_eq(decode(buf, &back, NULL), 0);
		m[i].seq = 0; /* DPDK has none */
		ck_assert_msg(!memcmp(&back, &m[i], sizeof(back)), "message %d", i);
	}
}
END_TEST

static int guest_decode(const uint8_t *p, size_t len, struct vpwr_msg *m,
			struct vpwr_decode_error *e)
{
	return vpwr_codec_decode(GUEST, p, len, m, e);
}

START_TEST(test_guest_decode_ack_nack)
{
	struct vpwr_msg m;
	uint8_t p[PKT];

	/* DPDK's host echoes the whole request with the command replaced */
	dpdk_sample_policy(p);
	put32(p, CMD, 1);
	ck_assert_int_eq(guest_decode(p, PKT, &m, NULL), 0);
	ck_assert_uint_eq(m.flags, VPWR_MSG_F_REPLY);
	ck_assert_uint_eq(m.type, 0); /* an ACK does not say what it answers */
	ck_assert_uint_eq(m.seq, 0);
	ck_assert_uint_eq(m.vcpu, VPWR_VCPU_NONE);
	ck_assert_int_eq(m.status, 0);
	ck_assert_str_eq(m.reason, "");
	put32(p, CMD, 2);
	ck_assert_int_eq(guest_decode(p, PKT, &m, NULL), 0);
	ck_assert_int_eq(m.status, -EPERM);
	ck_assert_str_eq(m.reason, "refused by the host");
}
END_TEST

START_TEST(test_guest_decode_lists)
{
	struct vpwr_msg m;
	uint8_t p[CL];

	/* DPDK's host does not zero its lists: junk outside the entries */
	memset(p, 0xEE, sizeof(p));
	put32(p, CMD, 3);
	for (uint32_t i = 0; i < 8; i++)
		put32(p, FL_FREQ + 4 * i, 800000 + i);
	p[FL_NUM] = 3;
	ck_assert_int_eq(guest_decode(p, FL, &m, NULL), 0);
	ck_assert_uint_eq(m.type, VPWR_MSG_QUERY_VCPUS);
	ck_assert_uint_eq(m.flags, VPWR_MSG_F_REPLY);
	ck_assert_int_eq(m.status, 0);
	ck_assert_uint_eq(m.u.vcpus.want, VPWR_VCPUS_FREQS);
	ck_assert_uint_eq(m.u.vcpus.first, 0);
	ck_assert_uint_eq(m.u.vcpus.nr, 3);
	ck_assert_uint_eq(m.u.vcpus.nr_vcpus, 3);
	ck_assert_uint_eq(m.u.vcpus.cur_khz[2], 800002);
	ck_assert_uint_eq(m.u.vcpus.cur_khz[3], 0);
	ck_assert_int_eq(vpwr_msg_validate(&m, NULL), 0);
	p[FL_NUM] = 12; /* DPDK's host sends the domain's count */
	ck_assert_int_eq(guest_decode(p, FL, &m, NULL), 0);
	ck_assert_uint_eq(m.u.vcpus.nr, 8);
	ck_assert_uint_eq(m.u.vcpus.nr_vcpus, 12);
	ck_assert_uint_eq(m.u.vcpus.cur_khz[7], 800007);
	ck_assert_uint_eq(m.u.vcpus.cur_khz[8], 0);
	p[FL_NUM] = 0; /* libvpwr's host refusing a query */
	ck_assert_int_eq(guest_decode(p, FL, &m, NULL), 0);
	ck_assert_int_eq(m.status, -EPERM);
	ck_assert_uint_eq(m.u.vcpus.nr, 0);

	memset(p, 0, sizeof(p));
	put32(p, CMD, 4);
	put64(p, CL_TURBO + 8, 1);
	put64(p, CL_PRIO + 16, 1);
	put64(p, CL_TURBO + 8 * 7, 0x100000000ull); /* any non-zero value */
	put64(p, CL_PRIO + 8 * 5, 0x5A); /* past num_vcpu: not read */
	p[CL_NUM] = 5;
	ck_assert_int_eq(guest_decode(p, CL, &m, NULL), 0);
	ck_assert_uint_eq(m.u.vcpus.want, VPWR_VCPUS_CAPS);
	ck_assert_uint_eq(m.u.vcpus.nr, 5);
	ck_assert_uint_eq(m.u.vcpus.turbo_mask, 0x2);
	ck_assert_uint_eq(m.u.vcpus.priority_mask, 0x4);
	p[CL_NUM] = 8;
	ck_assert_int_eq(guest_decode(p, CL, &m, NULL), 0);
	ck_assert_uint_eq(m.u.vcpus.turbo_mask, 0x82);
	ck_assert_uint_eq(m.u.vcpus.priority_mask, 0x24);
}
END_TEST

START_TEST(test_guest_decode_errors)
{
	struct vpwr_decode_error e;
	struct vpwr_msg m;
	uint8_t p[PKT] = { 0 };

	ck_assert_int_eq(guest_decode(p, 10, &m, &e), -VPWR_E_PROTO);
	put32(p, CMD, 5);
	ck_assert_int_eq(guest_decode(p, PKT, &m, &e), -VPWR_E_PROTO);
	ck_assert_uint_eq(e.offset, CMD);
	put32(p, CMD, 3); /* a FREQ_LIST of the wrong size */
	ck_assert_int_eq(guest_decode(p, PKT, &m, &e), -VPWR_E_PROTO);
	ck_assert_ptr_nonnull(strstr(e.text, "88"));
	put32(p, CMD, 1);
	ck_assert_int_eq(guest_decode(p, FL, &m, &e), -VPWR_E_PROTO);
	put32(p, CMD, 4);
	ck_assert_int_eq(guest_decode(p, FL, &m, &e), -VPWR_E_PROTO);
}
END_TEST

/* What the host role sends, the guest role reads as the same answer. */
START_TEST(test_host_to_guest)
{
	struct vpwr_msg m, back;
	uint8_t buf[PKT];
	int n;

	vcpus_reply(&m, VPWR_VCPU_NONE, VPWR_VCPUS_FREQS, 0, 6, 6);
	n = vpwr_codec_encode(HOST, &m, buf, sizeof(buf));
	ck_assert_int_eq(vpwr_codec_frame_len(GUEST, buf, (size_t)n, NULL), n);
	ck_assert_int_eq(guest_decode(buf, (size_t)n, &back, NULL), 0);
	ck_assert_uint_eq(back.u.vcpus.nr, 6);
	ck_assert_mem_eq(back.u.vcpus.cur_khz, m.u.vcpus.cur_khz,
			 sizeof(m.u.vcpus.cur_khz));
	vcpus_reply(&m, VPWR_VCPU_NONE, VPWR_VCPUS_CAPS, 0, 8, 8);
	m.u.vcpus.turbo_mask = 0xC3;
	m.u.vcpus.priority_mask = 0x18;
	n = vpwr_codec_encode(HOST, &m, buf, sizeof(buf));
	ck_assert_int_eq(guest_decode(buf, (size_t)n, &back, NULL), 0);
	ck_assert_uint_eq(back.u.vcpus.turbo_mask, 0xC3);
	ck_assert_uint_eq(back.u.vcpus.priority_mask, 0x18);
	m.status = -VPWR_E_VCPU_RANGE; /* want kept: the CAPS_LIST shape */
	n = vpwr_codec_encode(HOST, &m, buf, sizeof(buf));
	ck_assert_int_eq(n, CL);
	ck_assert_int_eq(guest_decode(buf, (size_t)n, &back, NULL), 0);
	ck_assert_int_lt(back.status, 0);
}
END_TEST
static Suite *codec_dpdk_guest_suite(void)
{
	Suite *s = suite_create("codec_dpdk_guest");
	TCase *gu = tcase_create("guest");

	tcase_add_test(gu, test_guest_encode_cpu_power);
	tcase_add_test(gu, test_guest_encode_queries_remove);
	tcase_add_test(gu, test_guest_encode_policy);
	tcase_add_test(gu, test_guest_encode_invalid);
	tcase_add_test(gu, test_guest_encode_named);
	tcase_add_test(gu, test_guest_to_host);
	tcase_add_test(gu, test_guest_decode_ack_nack);
	tcase_add_test(gu, test_guest_decode_lists);
	tcase_add_test(gu, test_guest_decode_errors);
	tcase_add_test(gu, test_host_to_guest);
	suite_add_tcase(s, gu);
	return s;
}

int main(void)
{
	return vpwr_test_run(codec_dpdk_guest_suite());
}
