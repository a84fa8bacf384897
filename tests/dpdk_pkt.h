/* SPDX-License-Identifier: MIT */
/*
 * What the DPDK codec suites share: DPDK's offsets written down from its
 * header (not taken from the codec), packet builders, and the check that an
 * encoded frame is exactly the expected bytes with nothing else written.
 */
#ifndef VPWR_TEST_DPDK_PKT_H
#define VPWR_TEST_DPDK_PKT_H

#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "internal.h"
#include "libvpwr/codec.h"
#include "testutil.h"

#define HOST vpwr_codec_dpdk()
#define GUEST vpwr_codec_dpdk_guest()
#define PKT 464
#define FL 88
#define CL 184

/* DPDK's offsets, written down from its header (not from the codec). */
enum {
	RID = 0, UNIT = 8, CMD = 12, NAME = 16, VFID = 48, NB_MAC = 128,
	MIN_PKT = 132, AVG_PKT = 136, MAX_PKT = 140, VCPUS = 144, NUM_VCPU = 152,
	BUSY = 156, QUIET = 252, TRAFFIC = 348, CORE_TYPE = 444, WORKLOAD = 448,
	POLICY = 452, TBOOST = 456,
	FL_FREQ = 48, FL_NUM = 80, CL_TURBO = 48, CL_PRIO = 112, CL_NUM = 176,
};

static inline void put32(uint8_t *b, size_t off, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		b[off + i] = (uint8_t)(v >> (8 * i));
}

static inline void put64(uint8_t *b, size_t off, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		b[off + i] = (uint8_t)(v >> (8 * i));
}

static inline void pkt_init(uint8_t *p, uint32_t cmd)
{
	memset(p, 0, PKT);
	put32(p, CMD, cmd);
}

static inline void cpu_power(uint8_t *p, uint64_t vcpu, uint32_t unit)
{
	pkt_init(p, 1);
	put64(p, RID, vcpu);
	put32(p, UNIT, unit);
}

static inline void fill_hours(uint8_t *p, size_t off, const int *h, int n)
{
	for (int i = 0; i < 24; i++)
		put32(p, off + 4 * (size_t)i, (uint32_t)(i < n ? h[i] : 0));
}

/* guest_cli's set_policy_defaults(): DPDK's own sample policy. */
static inline void dpdk_sample_policy(uint8_t *p)
{
	static const int busy[] = { 3, 4, 5 }, quiet[] = { 11, 12, 13 },
			 traffic[] = { 8, 10 };
	static const uint8_t mac[8] = { 0x52, 0x54, 0x00, 0xAB, 0xCD, 0xEF,
					0x5A, 0x5A }; /* last two: junk */

	pkt_init(p, 3);
	memcpy(p + NAME, "ubuntu2", 8);
	memcpy(p + VFID, mac, sizeof(mac));
	put32(p, NB_MAC, 1);
	put32(p, MIN_PKT, 96000);
	put32(p, AVG_PKT, 1800000);
	put32(p, MAX_PKT, 2000000);
	p[VCPUS] = 0;
	p[VCPUS + 1] = 1;
	p[NUM_VCPU] = 2;
	fill_hours(p, BUSY, busy, 3);
	fill_hours(p, QUIET, quiet, 3);
	fill_hours(p, TRAFFIC, traffic, 2);
	put32(p, WORKLOAD, 2); /* LOW */
	put32(p, POLICY, 1);   /* TIME */
}

static inline int decode(const uint8_t *p, struct vpwr_msg *m,
		  struct vpwr_decode_error *e)
{
	return vpwr_codec_decode(HOST, p, PKT, m, e);
}

static inline void decode_ok(const uint8_t *p, struct vpwr_msg *m)
{
	struct vpwr_decode_error e;
	int rc = decode(p, m, &e);

	ck_assert_msg(rc == 0, "decode: %d %s", rc, e.text);
	ck_assert_uint_eq(m->seq, 0);
	ck_assert_uint_eq(m->flags, 0);
}

/*
 * Encode into a buffer full of 0xAA: the frame must equal `want` (every
 * byte without a value zero: DPDK's host sends its stack) and nothing
 * past it may be touched.
 */
static inline void check_encoded(const struct vpwr_codec *c, const struct vpwr_msg *m,
			  const uint8_t *want, int len)
{
	uint8_t buf[PKT + 64];

	memset(buf, 0xAA, sizeof(buf));
	ck_assert_int_eq(vpwr_codec_encode(c, m, buf, sizeof(buf)), len);
	for (int i = 0; i < len; i++)
		if (buf[i] != want[i])
			ck_abort_msg("byte %d is 0x%02x, not 0x%02x", i, buf[i],
				     want[i]);
	for (size_t i = (size_t)len; i < sizeof(buf); i++)
		if (buf[i] != 0xAA)
			ck_abort_msg("byte %zu past the frame written", i);
	ck_assert_int_eq(vpwr_codec_encode(c, m, buf, (size_t)len - 1), -ENOBUFS);
}

static inline void vcpus_reply(struct vpwr_msg *m, uint32_t vcpu, uint32_t want,
			uint32_t first, uint32_t nr, uint32_t nr_vcpus)
{
	struct vpwr_msg req;

	vpwr_msg_init(&req, VPWR_MSG_QUERY_VCPUS, 0, vcpu);
	req.u.vcpus.want = want;
	vpwr_msg_reply(m, &req, 0, "a reason no DPDK packet carries");
	m->u.vcpus.want = want;
	m->u.vcpus.first = first;
	m->u.vcpus.nr = nr;
	m->u.vcpus.nr_vcpus = nr_vcpus;
	for (uint32_t i = 0; i < nr; i++)
		m->u.vcpus.cur_khz[i] = 1000000 + 100000 * (first + i);
	m->u.vcpus.turbo_mask = 0x3; /* not sent in a FREQ_LIST */
	m->u.vcpus.priority_mask = 0x5;
}

#endif
