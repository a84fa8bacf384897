/* SPDX-License-Identifier: MIT */
/*
 * The native codec against its contract, docs/PROTOCOL.md.  Frames here are
 * built by hand from the numbers in that document, never from the codec's
 * own tables, so the two cannot drift apart silently: golden frames byte for
 * byte, round trips of every message, every decode error with its code and
 * offset, truncation, and a deterministic mutation fuzz.
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

/* Attribute numbers as docs/PROTOCOL.md gives them. */
enum {
	STATUS = 1, REASON = 2, VCPU = 3, OP = 4, FREQ_KHZ = 5, MIN_KHZ = 6,
	MAX_KHZ = 7, ENABLE = 8, EPP = 9, VERSION_MIN = 10, VERSION_MAX = 11,
	CAPS = 12, MAX_FRAME = 13, NR_VCPUS = 14, RATE = 15, CUR_KHZ = 16,
	FREQ_TABLE = 17, TURBO = 18, REQ_MIN_KHZ = 19, REQ_MAX_KHZ = 20,
	CLAMPED = 21, POLICY_KIND = 22, VCPU_SET = 23, BUSY_HOURS = 24,
	QUIET_HOURS = 25, TRAFFIC_HOURS = 26, MIN_PPS = 27, AVG_PPS = 28,
	MAX_PPS = 29, WORKLOAD = 30, BRANCH_RATIO_PPM = 31, MAC = 32,
	MANDATORY = 0x8000,
};

#define NATIVE vpwr_codec_native()

/* ------------------------------------------------ a hand frame builder */

struct fb {
	uint8_t b[2 * VPWR_NATIVE_MAX_FRAME];
	size_t len;
};

static void fb_hdr(struct fb *f, uint8_t type, uint16_t flags, uint32_t seq)
{
	static const uint8_t h[16] = { 'V', 'P', 'W', 'R', 1 };

	memcpy(f->b, h, sizeof(h));
	f->b[5] = type;
	f->b[6] = (uint8_t)flags;
	f->b[7] = (uint8_t)(flags >> 8);
	for (int i = 0; i < 4; i++)
		f->b[8 + i] = (uint8_t)(seq >> (8 * i));
	f->len = 16;
}

/* An attribute whose length field says `alen`, value `v`, zero padding. */
static size_t fb_raw(struct fb *f, uint16_t type, uint16_t alen, const void *v,
		     size_t vlen)
{
	size_t at = f->len;

	f->b[at] = (uint8_t)type;
	f->b[at + 1] = (uint8_t)(type >> 8);
	f->b[at + 2] = (uint8_t)alen;
	f->b[at + 3] = (uint8_t)(alen >> 8);
	if (vlen)
		memcpy(f->b + at + 4, v, vlen);
	f->len = (at + 4 + vlen + 3) & ~(size_t)3;
	memset(f->b + at + 4 + vlen, 0, f->len - at - 4 - vlen);
	return at;
}

static size_t fb_attr(struct fb *f, uint16_t type, const void *v, size_t vlen)
{
	return fb_raw(f, type, (uint16_t)(4 + vlen), v, vlen);
}

static size_t fb_u32(struct fb *f, uint16_t type, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 24) };
	return fb_attr(f, type, b, 4);
}

static size_t fb_end(struct fb *f)
{
	for (int i = 0; i < 4; i++)
		f->b[12 + i] = (uint8_t)(f->len >> (8 * i));
	return f->len;
}

/* ---------------------------------------- messages with every field set */

static void fill_state(struct vpwr_vcpu_state *s)
{
	s->cur_khz = 2100000;
	s->min_khz = 800001;
	s->max_khz = 3300002;
	s->turbo = 1;
	s->req_min_khz = 1000003;
	s->req_max_khz = 3000004;
	s->clamped = 5;
	s->epp = 128;
}

static void fill_request(struct vpwr_msg *m, unsigned type)
{
	struct vpwr_policy *p = &m->u.policy;

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
		p->avg_pps = 1800000;
		p->max_pps = 2000000;
		p->branch_ratio_ppm = 123456;
		p->nr_macs = VPWR_MSG_MAX_MACS;
		for (unsigned i = 0; i < VPWR_MSG_MAX_MACS; i++)
			for (unsigned j = 0; j < 6; j++)
				p->macs[i][j] = (uint8_t)(0x10 * i + j + 1);
		break;
	case VPWR_MSG_QUERY_VCPUS:
		m->u.vcpus.want = VPWR_VCPUS_FREQS | VPWR_VCPUS_CAPS;
		break;
	case VPWR_MSG_POLICY_REMOVE:
		p->kind = VPWR_POLICY_BRANCH_RATIO;
		break;
	default:
		break;
	}
}

static void fill_reply(struct vpwr_msg *m, unsigned type)
{
	struct vpwr_msg req;

	fill_request(&req, type);
	vpwr_msg_reply(m, &req, 0, "done for type %u", type);
	switch (type) {
	case VPWR_MSG_HELLO:
	case VPWR_MSG_QUERY_CAPS:
		m->u.hello = (struct vpwr_hello){ 1, 3, 0x1F, 4096, 48, 250 };
		break;
	case VPWR_MSG_QUERY_FREQS:
		m->u.freqs.cur_khz = 2400000;
		m->u.freqs.nr = VPWR_MSG_MAX_FREQS;
		for (unsigned i = 0; i < VPWR_MSG_MAX_FREQS; i++)
			m->u.freqs.khz[i] = 800000 + 50000 * i;
		break;
	case VPWR_MSG_QUERY_STATE:
	case VPWR_MSG_SCALE:
	case VPWR_MSG_SET_FREQ:
	case VPWR_MSG_SET_RANGE:
	case VPWR_MSG_TURBO:
	case VPWR_MSG_SET_EPP:
		fill_state(&m->u.state);
		break;
	default:
		break;
	}
}

static void fill_notification(struct vpwr_msg *m)
{
	vpwr_msg_init(m, VPWR_MSG_LIMITS_CHANGED, 0x55AA55AA, 6);
	m->flags = VPWR_MSG_F_NOTIFY;
	fill_state(&m->u.state);
	snprintf(m->reason, sizeof(m->reason), "operator bound");
}

/* Every kind of message the codec carries, numbered 0..nr_samples()-1. */
static int nr_samples(void)
{
	return 3 * VPWR_MSG_TYPE_MAX_ + 1;
}

static void sample(struct vpwr_msg *m, int i)
{
	unsigned type = (unsigned)(i % VPWR_MSG_TYPE_MAX_) + 1;
	struct vpwr_msg req;

	if (i == 3 * VPWR_MSG_TYPE_MAX_) {
		fill_notification(m);
	} else if (type == VPWR_MSG_LIMITS_CHANGED) {
		/* slots without a request/ACK of their own: odd refusals */
		vpwr_msg_init(&req, (enum vpwr_msg_type)(200 + i), 77, VPWR_VCPU_NONE);
		vpwr_msg_reply(m, &req, -EBADMSG, "unknown type");
	} else if (i < VPWR_MSG_TYPE_MAX_) {
		fill_request(m, type);
	} else if (i < 2 * VPWR_MSG_TYPE_MAX_) {
		fill_reply(m, type);
	} else {
		fill_request(&req, type);
		vpwr_msg_reply(m, &req, -VPWR_E_BAD_FREQ, "no %u", type);
	}
}

static int encode(const struct vpwr_msg *m, uint8_t *buf, size_t cap)
{
	const char *why = NULL;
	int n;

	ck_assert_msg(vpwr_msg_validate(m, &why) == 0, "sample invalid: %s", why);
	n = vpwr_codec_encode(NATIVE, m, buf, cap);
	ck_assert_msg(n > 0, "encode: %d", n);
	return n;
}

/* ------------------------------------------------------------ registry */

START_TEST(test_registry)
{
	const struct vpwr_codec *c = vpwr_codec_native();

	ck_assert_ptr_nonnull(c);
	ck_assert_str_eq(vpwr_codec_name(c), "native");
	ck_assert_ptr_eq(vpwr_codec_by_name("native"), c);
	ck_assert_ptr_null(vpwr_codec_by_name("Native"));
	ck_assert_ptr_null(vpwr_codec_by_name(""));
	ck_assert_ptr_null(vpwr_codec_by_name(NULL));
	ck_assert_ptr_null(vpwr_codec_name(NULL));
}
END_TEST

START_TEST(test_detect)
{
	static const char *const prefixes[] = { "", "V", "VP", "VPW" };
	/* Not native and not JSON: DPDK's packet, the catch-all. */
	static const char *const foreign[] = { "X", "v", "VX", "VPWX",
					       "\x01\x00\x00\x00", "{\x00" };
	int err = 12345;

	ck_assert_ptr_eq(vpwr_codec_detect("VPWR", 4, &err), NATIVE);
	ck_assert_int_eq(err, 0);
	ck_assert_ptr_eq(vpwr_codec_detect("VPWR\x02garbage", 12, NULL), NATIVE);
	ck_assert_ptr_eq(vpwr_codec_detect("{\"v\":1}", 7, NULL),
			 vpwr_codec_json());
	for (size_t i = 0; i < 4; i++) {
		err = 12345;
		ck_assert_ptr_null(vpwr_codec_detect(prefixes[i], i, &err));
		ck_assert_int_eq(err, 0);
	}
	for (size_t i = 0; i < sizeof(foreign) / sizeof(foreign[0]); i++) {
		size_t n = strlen(foreign[i]) ? strlen(foreign[i]) : 1;

		err = 12345;
		if (i == 5)
			n = 2;
		ck_assert_ptr_eq(vpwr_codec_detect(foreign[i], n, &err),
				 vpwr_codec_dpdk());
		ck_assert_int_eq(err, 0);
	}
	ck_assert_ptr_null(vpwr_codec_detect(NULL, 0, &err));
	ck_assert_int_eq(err, 0);
	ck_assert_ptr_null(vpwr_codec_detect(NULL, 4, &err));
	ck_assert_int_eq(err, -EINVAL);
	ck_assert_ptr_null(vpwr_codec_detect(NULL, 4, NULL));
}
END_TEST

/* -------------------------------------------------------- golden frames */

static void check_golden(const struct vpwr_msg *m, const uint8_t *want,
			 size_t len)
{
	uint8_t buf[VPWR_NATIVE_MAX_FRAME];
	struct vpwr_msg back;
	struct vpwr_decode_error err;
	int n = encode(m, buf, sizeof(buf));

	ck_assert_int_eq(n, (int)len);
	ck_assert_mem_eq(buf, want, len);
	ck_assert_int_eq(vpwr_codec_decode(NATIVE, want, len, &back, &err), 0);
	ck_assert_mem_eq(&back, m, sizeof(back));
}

/* The worked example of docs/PROTOCOL.md. */
START_TEST(test_golden_scale)
{
	static const uint8_t want[] = {
		'V', 'P', 'W', 'R', 0x01, 0x02, 0x00, 0x00, /* v1, SCALE, flags */
		0x78, 0x56, 0x34, 0x12, 0x20, 0x00, 0x00, 0x00, /* seq, length 32 */
		0x03, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00, /* VCPU 3 */
		0x04, 0x00, 0x08, 0x00, 0x05, 0x00, 0x00, 0x00, /* OP medium */
	};
	struct vpwr_msg m;

	vpwr_msg_init(&m, VPWR_MSG_SCALE, 0x12345678, 3);
	m.u.scale.op = VPWR_SCALE_MEDIUM;
	check_golden(&m, want, sizeof(want));
}
END_TEST

START_TEST(test_golden_query_freqs_reply)
{
	static const uint8_t want[] = {
		'V', 'P', 'W', 'R', 0x01, 0x09, 0x01, 0x00, /* QUERY_FREQS reply */
		0x2A, 0x00, 0x00, 0x00, 0x38, 0x00, 0x00, 0x00, /* seq 42, 56 */
		0x01, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, /* STATUS 0 */
		0x03, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, /* VCPU 1 */
		0x10, 0x00, 0x08, 0x00, 0x80, 0x84, 0x1E, 0x00, /* CUR 2000000 */
		0x11, 0x00, 0x10, 0x00,                         /* FREQ_TABLE */
		0x80, 0x4F, 0x12, 0x00,                         /* 1200000 */
		0x80, 0x84, 0x1E, 0x00,                         /* 2000000 */
		0x80, 0xB9, 0x2A, 0x00,                         /* 2800000 */
	};
	struct vpwr_msg req, m;

	vpwr_msg_init(&req, VPWR_MSG_QUERY_FREQS, 42, 1);
	vpwr_msg_reply(&m, &req, 0, NULL);
	m.u.freqs.cur_khz = 2000000;
	m.u.freqs.nr = 3;
	m.u.freqs.khz[0] = 1200000;
	m.u.freqs.khz[1] = 2000000;
	m.u.freqs.khz[2] = 2800000;
	check_golden(&m, want, sizeof(want));
}
END_TEST

/* A NACK: negative status, a padded REASON, no body. */
START_TEST(test_golden_nack)
{
	static const uint8_t want[] = {
		'V', 'P', 'W', 'R', 0x01, 0x03, 0x01, 0x00, /* SET_FREQ reply */
		0x01, 0x00, 0x00, 0x80, 0x2C, 0x00, 0x00, 0x00, /* seq, 44 */
		0x01, 0x00, 0x08, 0x00, 0xF0, 0xFF, 0xFF, 0xFF, /* STATUS -16 */
		0x02, 0x00, 0x09, 0x00, 'b', 'u', 's', 'y',    /* REASON, 9 */
		0x00, 0x00, 0x00, 0x00,                         /* NUL + pad */
		0x03, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, /* VCPU 0 */
	};
	struct vpwr_msg req, m;

	vpwr_msg_init(&req, VPWR_MSG_SET_FREQ, 0x80000001u, 0);
	req.u.freq.khz = 3000000;
	vpwr_msg_reply(&m, &req, -EBUSY, "busy");
	check_golden(&m, want, sizeof(want));
}
END_TEST

/* Bitmaps trimmed, MACs repeated, zero optional fields left out. */
START_TEST(test_golden_policy)
{
	static const uint8_t want[] = {
		'V', 'P', 'W', 'R', 0x01, 0x07, 0x00, 0x00, /* POLICY_SET */
		0x05, 0x00, 0x00, 0x00, 0x48, 0x00, 0x00, 0x00, /* seq 5, 72 */
		0x16, 0x00, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, /* KIND TIME */
		0x18, 0x00, 0x08, 0x00, 0x00, 0xFF, 0x00, 0x00, /* BUSY */
		0x19, 0x00, 0x08, 0x00, 0x3F, 0x00, 0x00, 0x00, /* QUIET */
		0x17, 0x00, 0x06, 0x00, 0x01, 0x02, 0x00, 0x00, /* VCPU_SET {0,9} */
		0x20, 0x00, 0x0A, 0x00, 0x52, 0x54, 0x00, 0xAB, /* MAC */
		0xCD, 0xEF, 0x00, 0x00,
		0x20, 0x00, 0x0A, 0x00, 0x02, 0x00, 0x00, 0x00, /* MAC */
		0x00, 0x01, 0x00, 0x00,
	};
	struct vpwr_msg m;

	vpwr_msg_init(&m, VPWR_MSG_POLICY_SET, 5, VPWR_VCPU_NONE);
	m.u.policy.kind = VPWR_POLICY_TIME;
	m.u.policy.busy_hours = 0x00FF00;
	m.u.policy.quiet_hours = 0x00003F;
	vpwr_cpuset_set(&m.u.policy.vcpus, 0);
	vpwr_cpuset_set(&m.u.policy.vcpus, 9);
	m.u.policy.nr_macs = 2;
	memcpy(m.u.policy.macs[0], "\x52\x54\x00\xAB\xCD\xEF", 6);
	memcpy(m.u.policy.macs[1], "\x02\x00\x00\x00\x00\x01", 6);
	check_golden(&m, want, sizeof(want));
}
END_TEST

/* ----------------------------------------------------------- round trip */

START_TEST(test_roundtrip)
{
	uint8_t buf[VPWR_NATIVE_MAX_FRAME], again[VPWR_NATIVE_MAX_FRAME];
	struct vpwr_decode_error err;
	struct vpwr_msg m, back;
	int n;

	sample(&m, _i);
	n = encode(&m, buf, sizeof(buf));
	ck_assert_int_eq(n % 4, 0);
	ck_assert_int_eq(vpwr_codec_frame_len(NATIVE, buf, (size_t)n, &err), n);
	/* a frame followed by the start of the next one */
	ck_assert_int_eq(vpwr_codec_frame_len(NATIVE, buf, sizeof(buf), &err), n);
	memset(&back, 0xAA, sizeof(back));
	ck_assert_msg(vpwr_codec_decode(NATIVE, buf, (size_t)n, &back, &err) == 0,
		      "sample %d: %s at %zu", _i, err.text, err.offset);
	ck_assert_mem_eq(&back, &m, sizeof(m));
	ck_assert_int_eq(vpwr_codec_encode(NATIVE, &back, again, sizeof(again)), n);
	ck_assert_mem_eq(again, buf, (size_t)n);
}
END_TEST

/* Whatever the host's byte order, the wire is little-endian. */
START_TEST(test_wire_is_little_endian)
{
	uint8_t buf[64];
	struct vpwr_msg m;

	vpwr_msg_init(&m, VPWR_MSG_SET_FREQ, 0x01020304, 0x0A0B0C0D);
	m.u.freq.khz = 0x00A1B2C3;
	ck_assert_int_eq(encode(&m, buf, sizeof(buf)), 32);
	ck_assert_mem_eq(buf + 8, "\x04\x03\x02\x01", 4);
	ck_assert_mem_eq(buf + 16, "\x03\x00\x08\x00\x0D\x0C\x0B\x0A", 8);
	ck_assert_mem_eq(buf + 24, "\x05\x00\x08\x00\xC3\xB2\xA1\x00", 8);
}
END_TEST

/* ---------------------------------------------------------------- encode */

START_TEST(test_encode_nobufs)
{
	uint8_t buf[VPWR_NATIVE_MAX_FRAME + 64], want[VPWR_NATIVE_MAX_FRAME];
	struct vpwr_msg m;
	int n;

	sample(&m, _i);
	n = encode(&m, want, sizeof(want));
	for (int cap = 0; cap < n; cap++) {
		memset(buf, 0xEE, sizeof(buf));
		ck_assert_int_eq(vpwr_codec_encode(NATIVE, &m, buf, (size_t)cap),
				 -ENOBUFS);
		for (size_t i = (size_t)cap; i < sizeof(buf); i++)
			if (buf[i] != 0xEE) /* plain test: ck_assert costs a syscall */
				ck_abort_msg("cap %d: wrote at %zu", cap, i);
	}
	ck_assert_int_eq(vpwr_codec_encode(NATIVE, &m, buf, (size_t)n), n);
	ck_assert_mem_eq(buf, want, (size_t)n);
	ck_assert_int_eq(vpwr_codec_encode(NATIVE, &m, NULL, 0), -ENOBUFS);
}
END_TEST

START_TEST(test_encode_invalid)
{
	uint8_t buf[VPWR_NATIVE_MAX_FRAME];
	struct vpwr_msg m;

	fill_request(&m, VPWR_MSG_SCALE);
	ck_assert_int_eq(vpwr_codec_encode(NULL, &m, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(vpwr_codec_encode(NATIVE, NULL, buf, sizeof(buf)), -EINVAL);
	ck_assert_int_eq(vpwr_codec_encode(NATIVE, &m, NULL, sizeof(buf)), -EINVAL);
	m.u.scale.op = 0;
	ck_assert_int_eq(vpwr_codec_encode(NATIVE, &m, buf, sizeof(buf)), -EINVAL);
	vpwr_msg_init(&m, (enum vpwr_msg_type)99, 1, VPWR_VCPU_NONE);
	ck_assert_int_eq(vpwr_codec_encode(NATIVE, &m, buf, sizeof(buf)), -EINVAL);
	fill_reply(&m, VPWR_MSG_HELLO);
	m.status = 1;
	ck_assert_int_eq(vpwr_codec_encode(NATIVE, &m, buf, sizeof(buf)), -EINVAL);
	fill_reply(&m, VPWR_MSG_HELLO);
	m.flags |= VPWR_MSG_F_NOTIFY;
	ck_assert_int_eq(vpwr_codec_encode(NATIVE, &m, buf, sizeof(buf)), -EINVAL);
	fill_request(&m, VPWR_MSG_HELLO);
	m.type = VPWR_MSG_LIMITS_CHANGED;
	m.flags = VPWR_MSG_F_NOTIFY; /* a notification with no vCPU */
	m.vcpu = VPWR_VCPU_NONE;
	ck_assert_int_eq(vpwr_codec_encode(NATIVE, &m, buf, sizeof(buf)), -EINVAL);
}
END_TEST

/* ----------------------------------------------------------------- decode */

struct decode_case {
	const char *name;
	int rc;
	int offset;      /* expected err.offset; -1: the attribute `at` */
	const char *text; /* a substring of err.text */
	/* build the frame; returns the length to decode, sets *at */
	size_t (*build)(struct fb *f, size_t *at);
};

static size_t scale_frame(struct fb *f)
{
	fb_hdr(f, VPWR_MSG_SCALE, 0, 0xC0FFEE);
	fb_u32(f, VCPU, 2);
	fb_u32(f, OP, VPWR_SCALE_UP);
	return fb_end(f);
}

#define BUILD(fn, body)                                                        \
	static size_t fn(struct fb *f, size_t *at)                             \
	{                                                                      \
		(void)at;                                                      \
		body                                                           \
	}

BUILD(bad_magic, scale_frame(f); f->b[3] = 'X'; return f->len;)
BUILD(bad_magic0, scale_frame(f); f->b[0] = 'v'; return f->len;)
BUILD(short_header, scale_frame(f); return 12;)
BUILD(version_2, scale_frame(f); f->b[4] = 2; return f->len;)
BUILD(version_0, scale_frame(f); f->b[4] = 0; return f->len;)
BUILD(type_99, scale_frame(f); f->b[5] = 99; return f->len;)
BUILD(type_0, scale_frame(f); f->b[5] = 0; return f->len;)
BUILD(flag_4, scale_frame(f); f->b[6] = 4; return f->len;)
BUILD(flag_high, scale_frame(f); f->b[7] = 0x80; return f->len;)
BUILD(reply_and_notify, scale_frame(f); f->b[6] = 3; return f->len;)
BUILD(limits_request, fb_hdr(f, VPWR_MSG_LIMITS_CHANGED, 0, 1);
      fb_u32(f, VCPU, 0); return fb_end(f);)
BUILD(notify_scale, scale_frame(f); f->b[6] = 2; return f->len;)
BUILD(ack_limits, fb_hdr(f, VPWR_MSG_LIMITS_CHANGED, 1, 1);
      fb_u32(f, STATUS, 0); return fb_end(f);)
BUILD(len_field_short, scale_frame(f); f->b[12] = 15; return f->len;)
BUILD(len_field_odd, scale_frame(f); f->b[12] = 30; return f->len;)
BUILD(len_field_big, scale_frame(f); f->b[12] = 0x04; f->b[13] = 0x10;
      return f->len;)
BUILD(len_field_huge, scale_frame(f); f->b[15] = 0x80; return f->len;)
BUILD(len_mismatch, scale_frame(f); fb_u32(f, OP, 1); return f->len;)
BUILD(len_over_given, scale_frame(f); return f->len - 4;)
BUILD(attr_len_3, fb_hdr(f, VPWR_MSG_SCALE, 0, 1); fb_u32(f, VCPU, 2);
      *at = fb_raw(f, OP, 3, "\0\0\0\0", 4); return fb_end(f);)
BUILD(attr_len_0, fb_hdr(f, VPWR_MSG_SCALE, 0, 1);
      *at = fb_raw(f, OP, 0, "\0\0\0\0", 4); return fb_end(f);)
BUILD(attr_past_end, fb_hdr(f, VPWR_MSG_SCALE, 0, 1); fb_u32(f, VCPU, 2);
      *at = fb_raw(f, OP, 12, "\1\0\0\0", 4); return fb_end(f);)
BUILD(attr_past_end_big, fb_hdr(f, VPWR_MSG_SCALE, 0, 1);
      *at = fb_raw(f, 0x7000, 0xFFFF, "\1\0\0\0", 4); return fb_end(f);)
BUILD(bad_padding, fb_hdr(f, VPWR_MSG_POLICY_SET, 0, 1);
      fb_u32(f, POLICY_KIND, 1); *at = fb_attr(f, VCPU_SET, "\x01", 1) + 7;
      f->b[*at] = 1; return fb_end(f);)
BUILD(vcpu_2_bytes, fb_hdr(f, VPWR_MSG_SCALE, 0, 1);
      *at = fb_attr(f, VCPU, "\2\0", 2); fb_u32(f, OP, 1); return fb_end(f);)
BUILD(vcpu_8_bytes, fb_hdr(f, VPWR_MSG_SCALE, 0, 1); fb_u32(f, OP, 1);
      *at = fb_attr(f, VCPU, "\2\0\0\0\0\0\0\0", 8); return fb_end(f);)
BUILD(dup_vcpu, fb_hdr(f, VPWR_MSG_SCALE, 0, 1); fb_u32(f, VCPU, 2);
      fb_u32(f, OP, 1); *at = fb_u32(f, VCPU, 2); return fb_end(f);)
BUILD(dup_op_mandatory, fb_hdr(f, VPWR_MSG_SCALE, 0, 1); fb_u32(f, VCPU, 2);
      fb_u32(f, OP, 1); *at = fb_u32(f, OP | MANDATORY, 1); return fb_end(f);)
BUILD(dup_status, fb_hdr(f, VPWR_MSG_RELEASE, 1, 1); fb_u32(f, STATUS, 0);
      *at = fb_u32(f, STATUS, 0); return fb_end(f);)
BUILD(no_vcpu, fb_hdr(f, VPWR_MSG_SCALE, 0, 1); fb_u32(f, OP, 1);
      return fb_end(f);)
BUILD(no_op, fb_hdr(f, VPWR_MSG_SCALE, 0, 1); fb_u32(f, VCPU, 1);
      return fb_end(f);)
BUILD(no_max, fb_hdr(f, VPWR_MSG_SET_RANGE, 0, 1); fb_u32(f, VCPU, 1);
      fb_u32(f, MIN_KHZ, 1); return fb_end(f);)
BUILD(no_version_max, fb_hdr(f, VPWR_MSG_HELLO, 0, 1);
      fb_u32(f, VERSION_MIN, 1); return fb_end(f);)
BUILD(no_kind, fb_hdr(f, VPWR_MSG_POLICY_REMOVE, 0, 1); return fb_end(f);)
BUILD(no_status, fb_hdr(f, VPWR_MSG_SCALE, 1, 1); return fb_end(f);)
BUILD(no_freq_table, fb_hdr(f, VPWR_MSG_QUERY_FREQS, 1, 1);
      fb_u32(f, STATUS, 0); fb_u32(f, CUR_KHZ, 5); return fb_end(f);)
BUILD(no_state_epp, fb_hdr(f, VPWR_MSG_QUERY_STATE, 1, 1);
      fb_u32(f, STATUS, 0); fb_u32(f, CUR_KHZ, 1); fb_u32(f, MIN_KHZ, 1);
      fb_u32(f, MAX_KHZ, 1); fb_u32(f, TURBO, 0); fb_u32(f, REQ_MIN_KHZ, 0);
      fb_u32(f, REQ_MAX_KHZ, 0); fb_u32(f, CLAMPED, 0); return fb_end(f);)
BUILD(notify_no_vcpu, fb_hdr(f, VPWR_MSG_LIMITS_CHANGED, 2, 1);
      fb_u32(f, CUR_KHZ, 1); return fb_end(f);)
BUILD(table_odd, fb_hdr(f, VPWR_MSG_QUERY_FREQS, 1, 1); fb_u32(f, STATUS, 0);
      fb_u32(f, CUR_KHZ, 5); *at = fb_attr(f, FREQ_TABLE, "\1\0\0\0\2\0", 6);
      return fb_end(f);)
BUILD(table_65, uint8_t t[4 * 65] = { 0 }; fb_hdr(f, VPWR_MSG_QUERY_FREQS, 1, 1);
      fb_u32(f, STATUS, 0); fb_u32(f, CUR_KHZ, 5);
      *at = fb_attr(f, FREQ_TABLE, t, sizeof(t)); return fb_end(f);)
BUILD(reason_no_nul, fb_hdr(f, VPWR_MSG_RELEASE, 1, 1); fb_u32(f, STATUS, -1);
      *at = fb_attr(f, REASON, "abc", 3); return fb_end(f);)
BUILD(reason_inner_nul, fb_hdr(f, VPWR_MSG_RELEASE, 1, 1); fb_u32(f, STATUS, -1);
      *at = fb_attr(f, REASON, "ab\0cd", 6); return fb_end(f);)
BUILD(reason_129, char r[129]; memset(r, 'r', 128); r[128] = 0;
      fb_hdr(f, VPWR_MSG_RELEASE, 1, 1); fb_u32(f, STATUS, -1);
      *at = fb_attr(f, REASON, r, sizeof(r)); return fb_end(f);)
BUILD(reason_empty, fb_hdr(f, VPWR_MSG_RELEASE, 1, 1); fb_u32(f, STATUS, -1);
      *at = fb_attr(f, REASON, NULL, 0); return fb_end(f);)
BUILD(vcpu_set_129, uint8_t s[129] = { 1 }; fb_hdr(f, VPWR_MSG_POLICY_SET, 0, 1);
      fb_u32(f, POLICY_KIND, 1); *at = fb_attr(f, VCPU_SET, s, sizeof(s));
      return fb_end(f);)
BUILD(macs_11, fb_hdr(f, VPWR_MSG_POLICY_SET, 0, 1); fb_u32(f, POLICY_KIND, 2);
      for (int i = 0; i < 11; i++) *at = fb_attr(f, MAC, "\2\0\0\0\0\1", 6);
      return fb_end(f);)
BUILD(mac_5, fb_hdr(f, VPWR_MSG_POLICY_SET, 0, 1); fb_u32(f, POLICY_KIND, 2);
      *at = fb_attr(f, MAC, "\2\0\0\0\0", 5); return fb_end(f);)
BUILD(op_9, fb_hdr(f, VPWR_MSG_SCALE, 0, 1); fb_u32(f, VCPU, 1);
      fb_u32(f, OP, 9); return fb_end(f);)
BUILD(workload_none, fb_hdr(f, VPWR_MSG_POLICY_SET, 0, 1);
      fb_u32(f, POLICY_KIND, 3); return fb_end(f);)
BUILD(status_positive, fb_hdr(f, VPWR_MSG_RELEASE, 1, 1); fb_u32(f, STATUS, 5);
      return fb_end(f);)
BUILD(mandatory_unknown, fb_hdr(f, VPWR_MSG_SCALE, 0, 1); fb_u32(f, VCPU, 1);
      *at = fb_u32(f, 0x7123 | MANDATORY, 1); fb_u32(f, OP, 1);
      return fb_end(f);)
BUILD(mandatory_foreign, fb_hdr(f, VPWR_MSG_SCALE, 0, 1); fb_u32(f, VCPU, 1);
      fb_u32(f, OP, 1); *at = fb_u32(f, FREQ_KHZ | MANDATORY, 1);
      return fb_end(f);)
BUILD(mandatory_status_in_request, fb_hdr(f, VPWR_MSG_RELEASE, 0, 1);
      *at = fb_u32(f, STATUS | MANDATORY, 0); return fb_end(f);)
BUILD(ack_unknown_type, fb_hdr(f, 200, 1, 1); fb_u32(f, STATUS, 0);
      return fb_end(f);)

static const struct decode_case decode_cases[] = {
	{ "bad magic", -VPWR_E_PROTO, 3, "magic", bad_magic },
	{ "bad magic first byte", -VPWR_E_PROTO, 0, "magic", bad_magic0 },
	{ "shorter than header", -VPWR_E_PROTO, 12, "header", short_header },
	{ "version 2", -VPWR_E_VERSION, 4, "version", version_2 },
	{ "version 0", -VPWR_E_VERSION, 4, "version", version_0 },
	{ "type 99", -EBADMSG, 5, "type 99", type_99 },
	{ "type 0", -EBADMSG, 5, "type 0", type_0 },
	{ "flag 0x4", -VPWR_E_PROTO, 6, "flags", flag_4 },
	{ "flag 0x8000", -VPWR_E_PROTO, 6, "flags", flag_high },
	{ "reply and notify", -VPWR_E_PROTO, 6, "flags", reply_and_notify },
	{ "LIMITS_CHANGED request", -VPWR_E_PROTO, 6, "flags", limits_request },
	{ "SCALE notification", -VPWR_E_PROTO, 6, "flags", notify_scale },
	{ "ACK of LIMITS_CHANGED", -VPWR_E_PROTO, 6, "flags", ack_limits },
	{ "length 15", -VPWR_E_PROTO, 12, "length", len_field_short },
	{ "length 30", -VPWR_E_PROTO, 12, "length", len_field_odd },
	{ "length 4100", -VPWR_E_TOOBIG, 12, "4100", len_field_big },
	{ "length 2^31", -VPWR_E_TOOBIG, 12, "exceeds", len_field_huge },
	{ "trailing bytes", -VPWR_E_PROTO, 12, "length field", len_mismatch },
	{ "fewer bytes than length", -VPWR_E_PROTO, 12, "length field",
	  len_over_given },
	{ "attr len 3", -VPWR_E_PROTO, -1, "below 4", attr_len_3 },
	{ "attr len 0", -VPWR_E_PROTO, -1, "below 4", attr_len_0 },
	{ "attr past end", -VPWR_E_PROTO, -1, "past the frame", attr_past_end },
	{ "attr len 65535", -VPWR_E_PROTO, -1, "past the frame", attr_past_end_big },
	{ "non-zero padding", -VPWR_E_PROTO, -1, "padding", bad_padding },
	{ "VCPU of 2 bytes", -VPWR_E_PROTO, -1, "VCPU", vcpu_2_bytes },
	{ "VCPU of 8 bytes", -VPWR_E_PROTO, -1, "VCPU", vcpu_8_bytes },
	{ "duplicate VCPU", -VPWR_E_PROTO, -1, "duplicate attribute VCPU", dup_vcpu },
	{ "duplicate OP, mandatory", -VPWR_E_PROTO, -1, "duplicate attribute OP",
	  dup_op_mandatory },
	{ "duplicate STATUS", -VPWR_E_PROTO, -1, "duplicate", dup_status },
	{ "SCALE without VCPU", -VPWR_E_PROTO, 16, "SCALE needs attribute VCPU",
	  no_vcpu },
	{ "SCALE without OP", -VPWR_E_PROTO, 16, "SCALE needs attribute OP", no_op },
	{ "SET_RANGE without MAX", -VPWR_E_PROTO, 16,
	  "SET_RANGE needs attribute MAX_KHZ", no_max },
	{ "HELLO without VERSION_MAX", -VPWR_E_PROTO, 16,
	  "HELLO needs attribute VERSION_MAX", no_version_max },
	{ "POLICY_REMOVE without kind", -VPWR_E_PROTO, 16,
	  "POLICY_REMOVE needs attribute POLICY_KIND", no_kind },
	{ "reply without STATUS", -VPWR_E_PROTO, 16,
	  "reply to SCALE needs attribute STATUS", no_status },
	{ "freqs reply without table", -VPWR_E_PROTO, 16,
	  "reply to QUERY_FREQS needs attribute FREQ_TABLE", no_freq_table },
	{ "state reply without EPP", -VPWR_E_PROTO, 16,
	  "reply to QUERY_STATE needs attribute EPP", no_state_epp },
	{ "notification without VCPU", -VPWR_E_PROTO, 16,
	  "LIMITS_CHANGED needs attribute VCPU", notify_no_vcpu },
	{ "FREQ_TABLE of 6 bytes", -VPWR_E_PROTO, -1, "FREQ_TABLE", table_odd },
	{ "FREQ_TABLE of 65", -VPWR_E_PROTO, -1, "FREQ_TABLE", table_65 },
	{ "REASON without NUL", -VPWR_E_PROTO, -1, "REASON", reason_no_nul },
	{ "REASON with inner NUL", -VPWR_E_PROTO, -1, "REASON", reason_inner_nul },
	{ "REASON of 129", -VPWR_E_PROTO, -1, "REASON", reason_129 },
	{ "REASON empty", -VPWR_E_PROTO, -1, "REASON", reason_empty },
	{ "VCPU_SET of 129", -VPWR_E_PROTO, -1, "VCPU_SET", vcpu_set_129 },
	{ "11 MACs", -VPWR_E_PROTO, -1, "MAC", macs_11 },
	{ "MAC of 5 bytes", -VPWR_E_PROTO, -1, "MAC", mac_5 },
	{ "op 9", -VPWR_E_PROTO, 16, "scale operation", op_9 },
	{ "WORKLOAD without level", -VPWR_E_PROTO, 16, "workload", workload_none },
	{ "status 5", -VPWR_E_PROTO, 16, "status", status_positive },
	{ "unknown mandatory", -EPROTONOSUPPORT, -1, "0xf123", mandatory_unknown },
	{ "foreign mandatory", -EPROTONOSUPPORT, -1, "0x8005", mandatory_foreign },
	{ "STATUS in a request", -EPROTONOSUPPORT, -1, "mandatory",
	  mandatory_status_in_request },
	{ "ACK of type 200", -EBADMSG, 5, "type 200", ack_unknown_type },
};

START_TEST(test_decode_error)
{
	const struct decode_case *c = &decode_cases[_i];
	uint8_t out[VPWR_NATIVE_MAX_FRAME];
	struct vpwr_decode_error err;
	struct vpwr_msg m, nack;
	static struct fb f;
	size_t at = 0, len;
	int rc;

	memset(&f, 0, sizeof(f));
	len = c->build(&f, &at);
	memset(&err, 0xAA, sizeof(err));
	rc = vpwr_codec_decode(NATIVE, f.b, len, &m, &err);
	ck_assert_msg(rc == c->rc, "%s: rc %d (%s), want %d", c->name, rc,
		      err.text, c->rc);
	ck_assert_msg(err.offset == (c->offset < 0 ? at : (size_t)c->offset),
		      "%s: offset %zu", c->name, err.offset);
	ck_assert_msg(strstr(err.text, c->text), "%s: text \"%s\"", c->name,
		      err.text);
	ck_assert_int_eq(err.line, 0);
	ck_assert_int_eq(err.column, 0);
	/* the header, once readable, is reported for the NACK */
	if (len >= 16 && c->offset != 0 && c->offset != 3) {
		ck_assert_uint_eq(m.type, f.b[5]);
		ck_assert_uint_eq(m.seq, (uint32_t)f.b[8] | (uint32_t)f.b[9] << 8 |
						 (uint32_t)f.b[10] << 16 |
						 (uint32_t)f.b[11] << 24);
	}
	/* and the host can always answer it */
	vpwr_msg_reply(&nack, &m, rc, "%s", err.text);
	ck_assert_int_gt(vpwr_codec_encode(NATIVE, &nack, out, sizeof(out)), 0);
	/* decoding must not depend on an err struct */
	ck_assert_int_eq(vpwr_codec_decode(NATIVE, f.b, len, &m, NULL), c->rc);
}
END_TEST

/* A frame with a bad version is still framed, so it can be answered. */
START_TEST(test_frame_len_bad_version)
{
	struct fb f;
	size_t len = scale_frame(&f);

	f.b[4] = 9;
	ck_assert_int_eq(vpwr_codec_frame_len(NATIVE, f.b, len, NULL), (int)len);
}
END_TEST

START_TEST(test_frame_len_errors)
{
	struct vpwr_decode_error err;
	struct fb f;
	size_t len = scale_frame(&f);

	/* a wrong byte is seen before the header is complete */
	for (size_t i = 0; i < 4; i++) {
		f.b[i] ^= 0x20;
		for (size_t k = i + 1; k <= len; k++) {
			memset(&err, 0, sizeof(err));
			ck_assert_int_eq(vpwr_codec_frame_len(NATIVE, f.b, k, &err),
					 -VPWR_E_PROTO);
			ck_assert_uint_eq(err.offset, i);
		}
		f.b[i] ^= 0x20;
	}
	f.b[12] = 12;
	ck_assert_int_eq(vpwr_codec_frame_len(NATIVE, f.b, 16, &err), -VPWR_E_PROTO);
	ck_assert_uint_eq(err.offset, 12);
	f.b[12] = 34;
	ck_assert_int_eq(vpwr_codec_frame_len(NATIVE, f.b, 16, &err), -VPWR_E_PROTO);
	f.b[12] = 0x04;
	f.b[13] = 0x10;
	ck_assert_int_eq(vpwr_codec_frame_len(NATIVE, f.b, 16, &err), -VPWR_E_TOOBIG);
	ck_assert_uint_eq(err.offset, 12);
	f.b[12] = 0x00; /* exactly the limit: fine, waits for the bytes */
	ck_assert_int_eq(vpwr_codec_frame_len(NATIVE, f.b, 16, &err), 0);
	ck_assert_int_eq(vpwr_codec_frame_len(NULL, f.b, 16, &err), -EINVAL);
	ck_assert_int_eq(vpwr_codec_frame_len(NATIVE, NULL, 16, &err), -EINVAL);
	ck_assert_int_eq(vpwr_codec_frame_len(NATIVE, NULL, 0, &err), 0);
}
END_TEST

START_TEST(test_truncation)
{
	uint8_t buf[VPWR_NATIVE_MAX_FRAME];
	struct vpwr_decode_error err;
	struct vpwr_msg m;
	int n;

	sample(&m, _i);
	n = encode(&m, buf, sizeof(buf));
	for (int k = 0; k < n; k++) {
		ck_assert_int_eq(vpwr_codec_frame_len(NATIVE, buf, (size_t)k, &err), 0);
		ck_assert_int_lt(vpwr_codec_decode(NATIVE, buf, (size_t)k, &m, &err), 0);
		ck_assert_msg(err.text[0], "no explanation at %d", k);
	}
}
END_TEST

/* ---------------------------------------------------- lenient decoding */

static void decode_ok(const struct fb *f, struct vpwr_msg *m)
{
	struct vpwr_decode_error err;
	int rc = vpwr_codec_decode(NATIVE, f->b, f->len, m, &err);

	ck_assert_msg(rc == 0, "rc %d: %s at %zu", rc, err.text, err.offset);
}

START_TEST(test_unknown_optional_skipped)
{
	struct vpwr_msg want, got;
	struct fb f;

	vpwr_msg_init(&want, VPWR_MSG_SCALE, 7, 2);
	want.u.scale.op = VPWR_SCALE_DOWN;
	fb_hdr(&f, VPWR_MSG_SCALE, 0, 7);
	fb_attr(&f, 0x7FFF, "hello", 5);     /* unknown everywhere */
	fb_u32(&f, OP, VPWR_SCALE_DOWN);     /* any order */
	fb_u32(&f, FREQ_KHZ, 1);             /* known, not part of SCALE */
	fb_u32(&f, STATUS, (uint32_t)-1);    /* replies only */
	fb_attr(&f, 0x1234, NULL, 0);        /* empty value */
	fb_u32(&f, VCPU | MANDATORY, 2);     /* known: the bit is moot */
	fb_end(&f);
	decode_ok(&f, &got);
	ck_assert_mem_eq(&got, &want, sizeof(got));
}
END_TEST

START_TEST(test_lenient_forms)
{
	struct vpwr_msg m;
	struct fb f;

	/* a refusal of a type this side does not know is still a reply */
	fb_hdr(&f, 201, 1, 99);
	fb_u32(&f, STATUS, (uint32_t)-EBADMSG);
	fb_u32(&f, CUR_KHZ, 5); /* body attributes of an error are ignored */
	fb_end(&f);
	decode_ok(&f, &m);
	ck_assert_uint_eq(m.type, 201);
	ck_assert_int_eq(m.status, -EBADMSG);
	ck_assert_uint_eq(m.vcpu, VPWR_VCPU_NONE);

	/* bitmaps with trailing zero bytes, a short one, an empty one */
	fb_hdr(&f, VPWR_MSG_POLICY_SET, 0, 1);
	fb_u32(&f, POLICY_KIND, VPWR_POLICY_TIME);
	fb_attr(&f, VCPU_SET, "\x80\x00\x01\x00\x00", 5);
	fb_end(&f);
	decode_ok(&f, &m);
	ck_assert_uint_eq(vpwr_cpuset_count(&m.u.policy.vcpus), 2);
	ck_assert(vpwr_cpuset_isset(&m.u.policy.vcpus, 7));
	ck_assert(vpwr_cpuset_isset(&m.u.policy.vcpus, 16));
	fb_hdr(&f, VPWR_MSG_POLICY_SET, 0, 1);
	fb_u32(&f, POLICY_KIND, VPWR_POLICY_TIME);
	fb_attr(&f, VCPU_SET, NULL, 0);
	fb_end(&f);
	decode_ok(&f, &m);
	ck_assert_uint_eq(vpwr_cpuset_count(&m.u.policy.vcpus), 0);

	/* an empty frequency table */
	fb_hdr(&f, VPWR_MSG_QUERY_FREQS, 1, 1);
	fb_u32(&f, STATUS, 0);
	fb_u32(&f, CUR_KHZ, 5);
	fb_attr(&f, FREQ_TABLE, NULL, 0);
	fb_end(&f);
	decode_ok(&f, &m);
	ck_assert_uint_eq(m.u.freqs.nr, 0);
	ck_assert_uint_eq(m.u.freqs.cur_khz, 5);

	/* a POLICY_REMOVE of every kind sends kind 0 explicitly */
	fb_hdr(&f, VPWR_MSG_POLICY_REMOVE, 0, 1);
	fb_u32(&f, POLICY_KIND, 0);
	fb_end(&f);
	decode_ok(&f, &m);
	ck_assert_uint_eq(m.u.policy.kind, 0);
}
END_TEST

START_TEST(test_decode_args)
{
	struct vpwr_decode_error err;
	struct vpwr_msg m;
	struct fb f;
	size_t len = scale_frame(&f);

	memset(&m, 0xAA, sizeof(m));
	memset(&err, 0xAA, sizeof(err));
	ck_assert_int_eq(vpwr_codec_decode(NULL, f.b, len, &m, &err), -EINVAL);
	ck_assert_uint_eq(m.type, 0); /* zeroed even then */
	ck_assert_uint_eq(m.seq, 0);
	ck_assert_uint_eq(err.line, 0);
	ck_assert_ptr_nonnull(memchr(err.text, '\0', sizeof(err.text)));
	ck_assert_int_eq(vpwr_codec_decode(NATIVE, NULL, len, &m, &err), -EINVAL);
	ck_assert_int_eq(vpwr_codec_decode(NATIVE, f.b, len, NULL, &err), -EINVAL);
	ck_assert_int_eq(vpwr_codec_decode(NATIVE, NULL, 0, &m, &err),
			 -VPWR_E_PROTO);
	/* a successful decode leaves no stale error text */
	ck_assert_int_eq(vpwr_codec_decode(NATIVE, f.b, len, &m, &err), 0);
	ck_assert_str_eq(err.text, "");
	ck_assert_uint_eq(err.offset, 0);
}
END_TEST

/* ------------------------------------------------------------------ fuzz */

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void set_len(uint8_t *b, size_t len)
{
	b[12] = (uint8_t)len;
	b[13] = (uint8_t)(len >> 8);
}

/* 1-4 random edits; some keep the length field consistent so that the
 * attribute parser, not just the header check, gets exercised. */
static void mutate(uint8_t *b, size_t *len, uint64_t *rng)
{
	static const uint8_t interesting[] = { 0, 1, 3, 4, 5, 0x7F, 0x80, 0xFF };
	int nr = 1 + (int)(rng_next(rng) % 4);

	for (int i = 0; i < nr; i++) {
		uint64_t r = rng_next(rng);
		size_t at = (size_t)(r >> 8) % *len;
		size_t words = (*len - 16) / 4; /* payload words */

		switch (r % 6) {
		case 0:
			b[at] ^= (uint8_t)(1u << ((r >> 40) % 8));
			break;
		case 1:
			b[at] = interesting[(r >> 40) % sizeof(interesting)];
			break;
		case 2:
			if (words)
				b[16 + at % (4 * words)] = (uint8_t)(r >> 32);
			break;
		case 3: /* cut at a word boundary */
			*len = 16 + 4 * ((r >> 40) % (words + 1));
			set_len(b, *len);
			break;
		case 4: /* append a copy of two payload words */
			if (words >= 2 && *len + 8 <= VPWR_NATIVE_MAX_FRAME) {
				memcpy(b + *len, b + 16 + 4 * ((r >> 40) % (words - 1)), 8);
				*len += 8;
				set_len(b, *len);
			}
			break;
		default:
			b[at] = (uint8_t)(r >> 48);
			break;
		}
	}
}

START_TEST(test_fuzz)
{
	static uint8_t seeds[3 * VPWR_MSG_TYPE_MAX_ + 1][VPWR_NATIVE_MAX_FRAME];
	static size_t seed_len[3 * VPWR_MSG_TYPE_MAX_ + 1];
	static uint8_t buf[VPWR_NATIVE_MAX_FRAME], again[VPWR_NATIVE_MAX_FRAME];
	const char *iters_env = getenv("VPWR_FUZZ_ITERS");
	long iters = iters_env ? atol(iters_env) : 200000;
	struct vpwr_decode_error err;
	struct vpwr_msg m, back;
	uint64_t rng = 0x9E3779B97F4A7C15ull;
	long ok = 0, failed = 0;

	for (int i = 0; i < nr_samples(); i++) {
		sample(&m, i);
		seed_len[i] = (size_t)encode(&m, seeds[i], sizeof(seeds[i]));
	}
	for (long it = 0; it < iters; it++) {
		int s = (int)(rng_next(&rng) % (uint64_t)nr_samples());
		size_t len = seed_len[s];
		int rc, n;

		memcpy(buf, seeds[s], len);
		mutate(buf, &len, &rng);
		n = vpwr_codec_frame_len(NATIVE, buf, len, &err);
		if (n > (int)len)
			ck_abort_msg("iteration %ld: frame_len %d > %zu", it, n, len);
		rc = vpwr_codec_decode(NATIVE, buf, len, &m, &err);
		if (rc) {
			/* plain tests in this loop: each ck_assert is a syscall */
			if (rc != -VPWR_E_PROTO && rc != -VPWR_E_VERSION &&
			    rc != -VPWR_E_TOOBIG && rc != -EBADMSG &&
			    rc != -EPROTONOSUPPORT)
				ck_abort_msg("iteration %ld: rc %d", it, rc);
			if (err.offset > len || !err.text[0])
				ck_abort_msg("iteration %ld: offset %zu, text \"%s\"",
					     it, err.offset, err.text);
			failed++;
			continue;
		}
		/* success: framed as such, valid, and stable under re-encoding */
		ok++;
		if (n != (int)len || vpwr_msg_validate(&m, NULL))
			ck_abort_msg("iteration %ld: frame_len %d, invalid", it, n);
		n = vpwr_codec_encode(NATIVE, &m, again, sizeof(again));
		if (n <= 0 ||
		    vpwr_codec_decode(NATIVE, again, (size_t)n, &back, &err) ||
		    memcmp(&back, &m, sizeof(m)))
			ck_abort_msg("iteration %ld: re-encoding differs (%d)", it, n);
	}
	/* the mutations must exercise both outcomes to mean anything */
	if (iters >= 10000) {
		ck_assert_int_gt(ok, iters / 100);
		ck_assert_int_gt(failed, iters / 10);
	}
}
END_TEST

static Suite *codec_native_suite(void)
{
	Suite *s = suite_create("codec_native");
	TCase *tc = tcase_create("core");
	TCase *fz = tcase_create("fuzz");

	tcase_add_test(tc, test_registry);
	tcase_add_test(tc, test_detect);
	tcase_add_test(tc, test_golden_scale);
	tcase_add_test(tc, test_golden_query_freqs_reply);
	tcase_add_test(tc, test_golden_nack);
	tcase_add_test(tc, test_golden_policy);
	tcase_add_loop_test(tc, test_roundtrip, 0, nr_samples());
	tcase_add_test(tc, test_wire_is_little_endian);
	tcase_add_loop_test(tc, test_encode_nobufs, 0, nr_samples());
	tcase_add_test(tc, test_encode_invalid);
	tcase_add_loop_test(tc, test_decode_error, 0,
			    (int)(sizeof(decode_cases) / sizeof(decode_cases[0])));
	tcase_add_test(tc, test_frame_len_bad_version);
	tcase_add_test(tc, test_frame_len_errors);
	tcase_add_loop_test(tc, test_truncation, 0, nr_samples());
	tcase_add_test(tc, test_unknown_optional_skipped);
	tcase_add_test(tc, test_lenient_forms);
	tcase_add_test(tc, test_decode_args);
	tcase_add_test(fz, test_fuzz);
	tcase_set_timeout(fz, 600);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, fz);
	return s;
}

int main(void)
{
	return vpwr_test_run(codec_native_suite());
}
