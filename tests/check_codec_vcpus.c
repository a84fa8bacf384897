/* SPDX-License-Identifier: MIT */
/*
 * QUERY_VCPUS (message type 14) in the message model and the native codec:
 * frames built by hand from docs/PROTOCOL.md (attributes 33..38), round
 * trips of every shape of request and reply, each decode error, and what
 * vpwr_msg_validate() accepts and refuses.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "libvpwr/codec.h"
#include "testutil.h"

#define NATIVE vpwr_codec_native()

/* docs/PROTOCOL.md, §4 */
enum {
	STATUS = 1, VCPU = 3, NR_VCPUS = 14, WANT = 33, FIRST = 34, NR = 35,
	VCPU_KHZ = 36, TURBO_MASK = 37, PRIORITY_MASK = 38, TYPE = 14,
};

struct fb {
	uint8_t b[1024];
	size_t len;
};

static void fb_start(struct fb *f, uint16_t flags, uint32_t seq)
{
	static const uint8_t h[16] = { 'V', 'P', 'W', 'R', 1, TYPE };

	memcpy(f->b, h, sizeof(h));
	f->b[6] = (uint8_t)flags;
	for (int i = 0; i < 4; i++)
		f->b[8 + i] = (uint8_t)(seq >> (8 * i));
	f->len = 16;
}

static void fb_attr(struct fb *f, uint16_t type, const void *val, size_t n)
{
	size_t len = 4 + n;

	f->b[f->len] = (uint8_t)type;
	f->b[f->len + 1] = (uint8_t)(type >> 8);
	f->b[f->len + 2] = (uint8_t)len;
	f->b[f->len + 3] = (uint8_t)(len >> 8);
	memcpy(f->b + f->len + 4, val, n);
	memset(f->b + f->len + len, 0, (4 - len % 4) % 4);
	f->len += (len + 3) & ~(size_t)3;
}

static void fb_u32(struct fb *f, uint16_t type, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 24) };

	fb_attr(f, type, b, 4);
}

static void fb_u64(struct fb *f, uint16_t type, uint64_t v)
{
	uint8_t b[8];

	for (int i = 0; i < 8; i++)
		b[i] = (uint8_t)(v >> (8 * i));
	fb_attr(f, type, b, 8);
}

static void fb_khz(struct fb *f, const uint32_t *khz, size_t n)
{
	uint8_t b[4 * 80];

	for (size_t i = 0; i < n; i++)
		for (int j = 0; j < 4; j++)
			b[4 * i + (size_t)j] = (uint8_t)(khz[i] >> (8 * j));
	fb_attr(f, VCPU_KHZ, b, 4 * n);
}

static void fb_end(struct fb *f)
{
	for (int i = 0; i < 4; i++)
		f->b[12 + i] = (uint8_t)(f->len >> (8 * i));
}

static void request(struct vpwr_msg *m, uint32_t seq, uint32_t vcpu,
		    uint32_t want)
{
	vpwr_msg_init(m, VPWR_MSG_QUERY_VCPUS, seq, vcpu);
	m->u.vcpus.want = want;
}

static void reply(struct vpwr_msg *m, uint32_t want, uint32_t first,
		  uint32_t nr, uint32_t nr_vcpus)
{
	struct vpwr_msg req;

	request(&req, 5, VPWR_VCPU_NONE, want);
	vpwr_msg_reply(m, &req, 0, NULL);
	m->u.vcpus.want = want;
	m->u.vcpus.first = first;
	m->u.vcpus.nr = nr;
	m->u.vcpus.nr_vcpus = nr_vcpus;
	for (uint32_t i = 0; i < nr; i++)
		m->u.vcpus.cur_khz[i] = (want & VPWR_VCPUS_FREQS) ?
			1200000 * (i % 2 + 1) : 0;
	if (want & VPWR_VCPUS_CAPS) {
		m->u.vcpus.turbo_mask = nr == 64 ? ~0ull : ((1ull << nr) - 1) & 0x2A;
		m->u.vcpus.priority_mask = 1;
	}
}

/* Encode gives exactly the frame, and the frame decodes back to m. */
static void check_frame(const struct vpwr_msg *m, const struct fb *f)
{
	uint8_t buf[VPWR_NATIVE_MAX_FRAME];
	struct vpwr_decode_error e;
	struct vpwr_msg back;

	ck_assert_int_eq(vpwr_codec_encode(NATIVE, m, buf, sizeof(buf)),
			 (int)f->len);
	ck_assert_mem_eq(buf, f->b, f->len);
	ck_assert_msg(vpwr_codec_decode(NATIVE, f->b, f->len, &back, &e) == 0,
		      "%s", e.text);
	ck_assert_mem_eq(&back, m, sizeof(back));
}

START_TEST(test_golden_request)
{
	struct vpwr_msg m;
	struct fb f;

	request(&m, 5, VPWR_VCPU_NONE, VPWR_VCPUS_FREQS);
	fb_start(&f, 0, 5);
	fb_u32(&f, WANT, 1);
	fb_end(&f);
	ck_assert_uint_eq(f.len, 24);
	check_frame(&m, &f);
	request(&m, 6, 2, VPWR_VCPUS_FREQS | VPWR_VCPUS_CAPS);
	fb_start(&f, 0, 6);
	fb_u32(&f, VCPU, 2);
	fb_u32(&f, WANT, 3);
	fb_end(&f);
	check_frame(&m, &f);
	ck_assert_str_eq(vpwr_msg_type_name(VPWR_MSG_QUERY_VCPUS), "query_vcpus");
}
END_TEST

/* The worked example of docs/PROTOCOL.md. */
START_TEST(test_golden_reply)
{
	static const uint8_t want[92] = {
		'V', 'P', 'W', 'R', 1, 14, 1, 0, 5, 0, 0, 0, 92, 0, 0, 0,
		1, 0, 8, 0, 0, 0, 0, 0,          /* STATUS 0 */
		33, 0, 8, 0, 3, 0, 0, 0,         /* WANT freqs|caps */
		34, 0, 8, 0, 0, 0, 0, 0,         /* FIRST 0 */
		35, 0, 8, 0, 2, 0, 0, 0,         /* NR 2 */
		14, 0, 8, 0, 2, 0, 0, 0,         /* NR_VCPUS 2 */
		36, 0, 12, 0, 0x80, 0x4F, 0x12, 0, 0x00, 0x9F, 0x24, 0,
		37, 0, 12, 0, 2, 0, 0, 0, 0, 0, 0, 0, /* TURBO_MASK */
		38, 0, 12, 0, 1, 0, 0, 0, 0, 0, 0, 0, /* PRIORITY_MASK */
	};
	struct vpwr_msg m;
	struct fb f;

	reply(&m, VPWR_VCPUS_FREQS | VPWR_VCPUS_CAPS, 0, 2, 2);
	ck_assert_uint_eq(m.u.vcpus.cur_khz[1], 2400000);
	ck_assert_uint_eq(m.u.vcpus.turbo_mask, 2);
	memcpy(f.b, want, sizeof(want));
	f.len = sizeof(want);
	check_frame(&m, &f);
}
END_TEST

/* Only what WANT asks for travels. */
START_TEST(test_roundtrip_shapes)
{
	static const struct { uint32_t want, first, nr, nr_vcpus; } r[] = {
		{ VPWR_VCPUS_FREQS, 0, 0, 0 },
		{ VPWR_VCPUS_FREQS, 0, 64, 100 },
		{ VPWR_VCPUS_FREQS, 3, 1, 4 },
		{ VPWR_VCPUS_CAPS, 0, 64, 64 },
		{ VPWR_VCPUS_CAPS, 64, 36, 100 },
		{ VPWR_VCPUS_FREQS | VPWR_VCPUS_CAPS, 0, 7, 7 },
	};
	uint8_t buf[VPWR_NATIVE_MAX_FRAME];
	struct vpwr_msg m, back;
	int n;

	for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++) {
		reply(&m, r[i].want, r[i].first, r[i].nr, r[i].nr_vcpus);
		n = vpwr_codec_encode(NATIVE, &m, buf, sizeof(buf));
		ck_assert_int_gt(n, 0);
		/* 16 header, 8 STATUS, 4 u32s, then the lists */
		ck_assert_int_eq(n, 16 + 8 + 32 +
				 ((r[i].want & VPWR_VCPUS_FREQS) ? 4 + 4 * (int)r[i].nr : 0) +
				 ((r[i].want & VPWR_VCPUS_CAPS) ? 24 : 0));
		ck_assert_int_eq(vpwr_codec_decode(NATIVE, buf, (size_t)n, &back,
						   NULL), 0);
		ck_assert_msg(!memcmp(&back, &m, sizeof(m)), "shape %zu", i);
		ck_assert_int_eq(vpwr_codec_encode(NATIVE, &m, buf, (size_t)n - 1),
				 -ENOBUFS);
	}
	request(&m, 1, 9, VPWR_VCPUS_CAPS);
	vpwr_msg_reply(&m, &m, -VPWR_E_VCPU_RANGE, "no vCPU 9");
	m.u.vcpus.nr = 3; /* a NACK carries no list, only which list */
	n = vpwr_codec_encode(NATIVE, &m, buf, sizeof(buf));
	ck_assert_int_eq(n, 16 + 8 + 16 + 8 + 8); /* STATUS, REASON, VCPU, WANT */
	ck_assert_int_eq(vpwr_codec_decode(NATIVE, buf, (size_t)n, &back, NULL), 0);
	ck_assert_uint_eq(back.u.vcpus.nr, 0);
	ck_assert_uint_eq(back.u.vcpus.want, VPWR_VCPUS_CAPS);
	ck_assert_int_eq(back.status, -VPWR_E_VCPU_RANGE);
}
END_TEST

struct bad_frame {
	const char *name;
	int reply;
	uint32_t want, nr, nr_vcpus, nkhz;
	int masks;          /* 0 none, 1 turbo only, 2 both, 3 a short turbo */
	const char *text;
};

static const struct bad_frame bad_frames[] = {
	{ "request without WANT", 0, 0, 0, 0, 0, 0, "needs attribute WANT" },
	{ "request WANT 0", 0, 0x100, 0, 0, 0, 0, "frequencies, capabilities" },
	{ "request WANT 4", 0, 4, 0, 0, 0, 0, "frequencies, capabilities" },
	{ "reply without VCPU_KHZ", 1, 1, 2, 2, 0xFFFF, 0, "needs attribute VCPU_KHZ" },
	{ "VCPU_KHZ short of NR", 1, 1, 3, 3, 2, 0, "NR (3)" },
	{ "VCPU_KHZ past NR", 1, 1, 1, 3, 2, 0, "NR (1)" },
	{ "VCPU_KHZ of 65", 1, 1, 64, 64, 65, 0, "VCPU_KHZ has a 260-byte" },
	{ "reply without TURBO_MASK", 1, 2, 1, 1, 0xFFFF, 0, "needs attribute TURBO_MASK" },
	{ "reply without PRIORITY_MASK", 1, 2, 1, 1, 0xFFFF, 1, "needs attribute PRIORITY_MASK" },
	{ "a 4-byte mask", 1, 2, 1, 1, 0xFFFF, 3, "TURBO_MASK has a 4-byte" },
	{ "NR 65", 1, 2, 65, 65, 0xFFFF, 2, "more than 64" },
	{ "past the domain", 1, 2, 5, 4, 0xFFFF, 2, "past the domain" },
	{ "reply WANT 8", 1, 8, 0, 0, 0xFFFF, 0, "want bits" },
};

START_TEST(test_decode_errors)
{
	const struct bad_frame *c = &bad_frames[_i];
	uint32_t khz[80] = { 0 };
	struct vpwr_decode_error e;
	struct vpwr_msg m;
	struct fb f;
	int rc;

	fb_start(&f, c->reply ? 1 : 0, 9);
	if (c->reply)
		fb_u32(&f, STATUS, 0);
	if (c->want && c->want != 0x100)
		fb_u32(&f, WANT, c->want);
	if (c->want == 0x100)
		fb_u32(&f, WANT, 0);
	if (c->reply) {
		fb_u32(&f, FIRST, 0);
		fb_u32(&f, NR, c->nr);
		fb_u32(&f, NR_VCPUS, c->nr_vcpus);
		if (c->nkhz != 0xFFFF)
			fb_khz(&f, khz, c->nkhz);
		if (c->masks == 3)
			fb_u32(&f, TURBO_MASK, 1);
		else if (c->masks)
			fb_u64(&f, TURBO_MASK, 1);
		if (c->masks == 2)
			fb_u64(&f, PRIORITY_MASK, 1);
	}
	fb_end(&f);
	rc = vpwr_codec_decode(NATIVE, f.b, f.len, &m, &e);
	ck_assert_msg(rc == -VPWR_E_PROTO, "%s: %d %s", c->name, rc, e.text);
	ck_assert_msg(strstr(e.text, c->text), "%s: \"%s\"", c->name, e.text);
	ck_assert_uint_eq(m.type, VPWR_MSG_QUERY_VCPUS);
	ck_assert_uint_eq(m.seq, 9);
}
END_TEST

/* A request with a vCPU or without; anything but WANT must be zero. */
START_TEST(test_validate_request)
{
	struct vpwr_msg m;
	const char *why;

	for (uint32_t w = 0; w < 8; w++) {
		request(&m, 1, w == 3 ? 7 : VPWR_VCPU_NONE, w);
		ck_assert_int_eq(vpwr_msg_validate(&m, &why),
				 (w >= 1 && w <= 3) ? 0 : -VPWR_E_PROTO);
	}
	request(&m, 1, VPWR_VCPU_NONE, VPWR_VCPUS_FREQS);
	m.u.vcpus.first = 1;
	ck_assert_int_eq(vpwr_msg_validate(&m, &why), -VPWR_E_PROTO);
	ck_assert_ptr_nonnull(strstr(why, "must be zero"));
}
END_TEST

START_TEST(test_validate_reply)
{
	struct vpwr_msg m;
	const char *why = NULL;

	reply(&m, VPWR_VCPUS_FREQS, 0, 64, 64);
	ck_assert_int_eq(vpwr_msg_validate(&m, &why), 0);
	m.u.vcpus.nr = 65;
	m.u.vcpus.nr_vcpus = 65;
	ck_assert_int_eq(vpwr_msg_validate(&m, &why), -VPWR_E_PROTO);
	ck_assert_ptr_nonnull(strstr(why, "64"));
	reply(&m, VPWR_VCPUS_FREQS, 0xFFFFFFFFu, 2, 0xFFFFFFFFu);
	ck_assert_int_eq(vpwr_msg_validate(&m, &why), -VPWR_E_PROTO);
	ck_assert_ptr_nonnull(strstr(why, "past the domain"));
	reply(&m, VPWR_VCPUS_CAPS | 4, 0, 1, 1);
	ck_assert_int_eq(vpwr_msg_validate(&m, &why), -VPWR_E_PROTO);
	m.status = -EIO; /* a refusal may hold anything */
	ck_assert_int_eq(vpwr_msg_validate(&m, &why), 0);
}
END_TEST

static Suite *codec_vcpus_suite(void)
{
	Suite *s = suite_create("codec_vcpus");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_golden_request);
	tcase_add_test(tc, test_golden_reply);
	tcase_add_test(tc, test_roundtrip_shapes);
	tcase_add_loop_test(tc, test_decode_errors, 0,
			    (int)(sizeof(bad_frames) / sizeof(bad_frames[0])));
	tcase_add_test(tc, test_validate_request);
	tcase_add_test(tc, test_validate_reply);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(codec_vcpus_suite());
}
