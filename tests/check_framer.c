/* SPDX-License-Identifier: MIT */
/*
 * Frame reassembly: the same stream cut at every possible place yields the
 * same messages, codec detection waits for enough bytes, and broken streams
 * (garbage, oversized frames, overflowing input) are reported, not guessed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "framer.h"
#include "libvpwr/codec.h"
#include "libvpwr/error.h"
#include "libvpwr/message.h"
#include "testutil.h"

#define NATIVE vpwr_codec_native()
#define NR_MSGS 6

struct stream {
	struct vpwr_msg msgs[NR_MSGS];
	uint8_t bytes[VPWR_FRAMER_CAP];
	size_t len;
};

static void make_stream(struct stream *s)
{
	struct vpwr_msg *m = s->msgs;

	vpwr_msg_init(&m[0], VPWR_MSG_HELLO, 1, VPWR_VCPU_NONE);
	m[0].u.hello.version_min = 1;
	m[0].u.hello.version_max = 1;
	vpwr_msg_init(&m[1], VPWR_MSG_SCALE, 2, 3);
	m[1].u.scale.op = VPWR_SCALE_UP;
	vpwr_msg_reply(&m[2], &m[1], -VPWR_E_VCPU_RANGE, "vCPU 3 of 2");
	vpwr_msg_init(&m[3], VPWR_MSG_QUERY_FREQS, 3, 0);
	vpwr_msg_reply(&m[3], &m[3], 0, NULL);
	m[3].u.freqs.cur_khz = 1500000;
	m[3].u.freqs.nr = VPWR_MSG_MAX_FREQS;
	for (unsigned i = 0; i < VPWR_MSG_MAX_FREQS; i++)
		m[3].u.freqs.khz[i] = 1000000 + 25000 * i;
	vpwr_msg_init(&m[4], VPWR_MSG_LIMITS_CHANGED, 0, 1);
	m[4].flags = VPWR_MSG_F_NOTIFY;
	m[4].u.state.cur_khz = m[4].u.state.max_khz = 1200000;
	vpwr_msg_init(&m[5], VPWR_MSG_POLICY_SET, 4, VPWR_VCPU_NONE);
	m[5].u.policy.kind = VPWR_POLICY_WORKLOAD;
	m[5].u.policy.workload = VPWR_WORKLOAD_LOW;
	vpwr_cpuset_set(&m[5].u.policy.vcpus, 100);

	s->len = 0;
	for (int i = 0; i < NR_MSGS; i++) {
		int n = vpwr_codec_encode(NATIVE, &m[i], s->bytes + s->len,
					  sizeof(s->bytes) - s->len);
		ck_assert_int_gt(n, 0);
		s->len += (size_t)n;
	}
}

/* Hand out every whole frame; checks them against the stream in order. */
static void drain(struct vpwr_framer *f, const struct stream *s, int *next)
{
	struct vpwr_decode_error err;
	const uint8_t *frame;
	struct vpwr_msg m;
	int len;

	while ((len = vpwr_framer_next(f, &frame, &err)) > 0) {
		ck_assert_ptr_eq(vpwr_framer_codec(f), NATIVE);
		ck_assert_int_lt(*next, NR_MSGS);
		ck_assert_int_eq(vpwr_codec_decode(vpwr_framer_codec(f), frame,
						   (size_t)len, &m, &err), 0);
		ck_assert_mem_eq(&m, &s->msgs[*next], sizeof(m));
		(*next)++;
		vpwr_framer_consume(f, (size_t)len);
	}
	ck_assert_msg(len == 0, "framer: %d (%s)", len, err.text);
	ck_assert_ptr_null(frame);
}

static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

/* _i: 0 detect the codec, 1 fix it up front */
START_TEST(test_all_at_once)
{
	static struct stream s;
	static struct vpwr_framer f;
	int next = 0;

	make_stream(&s);
	vpwr_framer_init(&f, _i ? NATIVE : NULL);
	ck_assert_int_eq(vpwr_framer_push(&f, s.bytes, s.len), 0);
	drain(&f, &s, &next);
	ck_assert_int_eq(next, NR_MSGS);
	ck_assert_uint_eq(vpwr_framer_space(&f), VPWR_FRAMER_CAP);
}
END_TEST

START_TEST(test_byte_by_byte)
{
	static struct stream s;
	static struct vpwr_framer f;
	int next = 0;

	make_stream(&s);
	vpwr_framer_init(&f, _i ? NATIVE : NULL);
	for (size_t i = 0; i < s.len; i++) {
		ck_assert_int_eq(vpwr_framer_push(&f, s.bytes + i, 1), 0);
		drain(&f, &s, &next);
	}
	ck_assert_int_eq(next, NR_MSGS);
}
END_TEST

/* Pieces of random size written through tail/commit, as read(2) would. */
START_TEST(test_random_splits)
{
	static struct stream s;
	static struct vpwr_framer f;
	uint64_t rng = 0x2545F4914F6CDD1Dull;

	make_stream(&s);
	for (int round = 0; round < 200; round++) {
		size_t at = 0;
		int next = 0;

		vpwr_framer_init(&f, (round & 1) ? NATIVE : NULL);
		while (at < s.len) {
			size_t piece = 1 + (size_t)(rng_next(&rng) % 700);

			piece = piece < s.len - at ? piece : s.len - at;
			ck_assert_uint_ge(vpwr_framer_space(&f), piece);
			memcpy(vpwr_framer_tail(&f), s.bytes + at, piece);
			vpwr_framer_commit(&f, piece);
			at += piece;
			drain(&f, &s, &next);
		}
		ck_assert_int_eq(next, NR_MSGS);
	}
}
END_TEST

START_TEST(test_detection_waits)
{
	static struct vpwr_framer f;
	const uint8_t *frame = (const uint8_t *)"x";
	struct vpwr_msg m;
	uint8_t buf[64];
	int n;

	vpwr_msg_init(&m, VPWR_MSG_RELEASE, 1, VPWR_VCPU_NONE);
	n = vpwr_codec_encode(NATIVE, &m, buf, sizeof(buf));
	ck_assert_int_eq(n, 16);
	vpwr_framer_init(&f, NULL);
	ck_assert_int_eq(vpwr_framer_next(&f, &frame, NULL), 0);
	ck_assert_ptr_null(frame);
	for (int i = 0; i < 3; i++) {
		ck_assert_int_eq(vpwr_framer_push(&f, buf + i, 1), 0);
		ck_assert_int_eq(vpwr_framer_next(&f, &frame, NULL), 0);
		ck_assert_ptr_null(vpwr_framer_codec(&f));
	}
	ck_assert_int_eq(vpwr_framer_push(&f, buf + 3, 1), 0);
	ck_assert_int_eq(vpwr_framer_next(&f, &frame, NULL), 0);
	ck_assert_ptr_eq(vpwr_framer_codec(&f), NATIVE);
	ck_assert_int_eq(vpwr_framer_push(&f, buf + 4, (size_t)n - 4), 0);
	ck_assert_int_eq(vpwr_framer_next(&f, &frame, NULL), n);
	ck_assert_ptr_eq(frame, f.buf);
}
END_TEST

START_TEST(test_garbage_prefix)
{
	/* Bytes that start neither a native frame nor a JSON object are
	 * DPDK's fixed-size packet (the catch-all): framed by length, never
	 * skipped, and left for the DPDK decoder to judge. */
	static const char *const junk[] = { "GET / HTTP/1.0\r\n", "X", "VPX",
					    "\0\0\0\0VPWR" };
	static struct vpwr_framer f;
	static uint8_t zeros[VPWR_DPDK_PKT_LEN];
	struct vpwr_decode_error err;
	const uint8_t *frame;

	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		size_t n = strlen(junk[i]) ? strlen(junk[i]) : 8;

		vpwr_framer_init(&f, NULL);
		ck_assert_int_eq(vpwr_framer_push(&f, junk[i], n), 0);
		ck_assert_int_eq(vpwr_framer_next(&f, &frame, &err), 0);
		ck_assert_ptr_eq(vpwr_framer_codec(&f), vpwr_codec_dpdk());
		ck_assert_int_eq(vpwr_framer_push(&f, zeros, sizeof(zeros) - n), 0);
		ck_assert_int_eq(vpwr_framer_next(&f, &frame, &err),
				 VPWR_DPDK_PKT_LEN);
		ck_assert_int_eq(memcmp(frame, junk[i], n), 0);
	}
	/* a fixed codec rejects it */
	vpwr_framer_init(&f, NATIVE);
	ck_assert_int_eq(vpwr_framer_push(&f, "GET", 3), 0);
	ck_assert_int_eq(vpwr_framer_next(&f, &frame, &err), -VPWR_E_PROTO);
	ck_assert_uint_eq(err.offset, 0);
}
END_TEST

/* Garbage between frames, once the codec is known. */
START_TEST(test_garbage_after_frame)
{
	static struct stream s;
	static struct vpwr_framer f;
	const uint8_t *frame;
	int len;

	make_stream(&s);
	vpwr_framer_init(&f, NULL);
	len = (int)vpwr_codec_encode(NATIVE, &s.msgs[1], s.bytes, sizeof(s.bytes));
	ck_assert_int_eq(vpwr_framer_push(&f, s.bytes, (size_t)len), 0);
	ck_assert_int_eq(vpwr_framer_push(&f, "VPWQ", 4), 0);
	ck_assert_int_eq(vpwr_framer_next(&f, &frame, NULL), len);
	vpwr_framer_consume(&f, (size_t)len);
	ck_assert_int_eq(vpwr_framer_next(&f, &frame, NULL), -VPWR_E_PROTO);
}
END_TEST

START_TEST(test_oversized)
{
	static const uint8_t hdr[16] = { 'V', 'P', 'W', 'R', 1, 2, 0, 0,
					 1, 0, 0, 0, 0x04, 0x10, 0, 0 };
	static struct vpwr_framer f;
	struct vpwr_decode_error err;
	const uint8_t *frame;

	vpwr_framer_init(&f, NULL);
	ck_assert_int_eq(vpwr_framer_push(&f, hdr, 15), 0);
	ck_assert_int_eq(vpwr_framer_next(&f, &frame, &err), 0);
	/* known as soon as the length field is complete */
	ck_assert_int_eq(vpwr_framer_push(&f, hdr + 15, 1), 0);
	ck_assert_int_eq(vpwr_framer_next(&f, &frame, &err), -VPWR_E_TOOBIG);
	ck_assert_uint_eq(err.offset, 12);
}
END_TEST

/* The largest frame still fits behind a partial one (VPWR_FRAMER_CAP). */
START_TEST(test_max_frame_after_partial)
{
	static uint8_t big[VPWR_NATIVE_MAX_FRAME], small[64];
	static struct vpwr_framer f;
	const uint8_t *frame;
	struct vpwr_msg m, got;
	int n;

	vpwr_msg_init(&m, VPWR_MSG_SCALE, 9, 1);
	m.u.scale.op = VPWR_SCALE_MAX;
	n = vpwr_codec_encode(NATIVE, &m, small, sizeof(small));
	ck_assert_int_gt(n, 0);
	/* the same message padded to the limit with an unknown attribute */
	memcpy(big, small, (size_t)n);
	big[n] = 0x00;
	big[n + 1] = 0x70;
	big[n + 2] = (uint8_t)(VPWR_NATIVE_MAX_FRAME - n);
	big[n + 3] = (uint8_t)((VPWR_NATIVE_MAX_FRAME - n) >> 8);
	big[12] = 0x00;
	big[13] = 0x10;

	vpwr_framer_init(&f, NULL);
	ck_assert_int_eq(vpwr_framer_push(&f, small, (size_t)n), 0);
	ck_assert_int_eq(vpwr_framer_push(&f, big, VPWR_NATIVE_MAX_FRAME - 1), 0);
	ck_assert_int_eq(vpwr_framer_next(&f, &frame, NULL), n);
	vpwr_framer_consume(&f, (size_t)n);
	ck_assert_int_eq(vpwr_framer_next(&f, &frame, NULL), 0);
	ck_assert_int_eq(vpwr_framer_push(&f, big + VPWR_NATIVE_MAX_FRAME - 1, 1), 0);
	ck_assert_int_eq(vpwr_framer_next(&f, &frame, NULL), VPWR_NATIVE_MAX_FRAME);
	ck_assert_int_eq(vpwr_codec_decode(NATIVE, frame, VPWR_NATIVE_MAX_FRAME,
					   &got, NULL), 0);
	ck_assert_mem_eq(&got, &m, sizeof(m));
}
END_TEST

START_TEST(test_buffer_full)
{
	static uint8_t junk[VPWR_FRAMER_CAP + 1];
	static struct vpwr_framer f;
	const uint8_t *frame;

	vpwr_framer_init(&f, NULL);
	ck_assert_int_eq(vpwr_framer_push(&f, junk, sizeof(junk)), -ENOBUFS);
	ck_assert_uint_eq(vpwr_framer_space(&f), VPWR_FRAMER_CAP);
	ck_assert_int_eq(vpwr_framer_push(&f, junk, 100), 0);
	ck_assert_int_eq(vpwr_framer_push(&f, junk, VPWR_FRAMER_CAP - 99), -ENOBUFS);
	ck_assert_uint_eq(vpwr_framer_space(&f), VPWR_FRAMER_CAP - 100);
	ck_assert_int_eq(vpwr_framer_push(&f, junk, VPWR_FRAMER_CAP - 100), 0);
	ck_assert_uint_eq(vpwr_framer_space(&f), 0);
	ck_assert_int_eq(vpwr_framer_push(&f, junk, 1), -ENOBUFS);
	ck_assert_int_eq(vpwr_framer_push(&f, junk, 0), 0);
	/* a full buffer of blank lines: no codec, and no waiting for more */
	vpwr_framer_init(&f, NULL);
	memset(junk, '\n', sizeof(junk));
	ck_assert_int_eq(vpwr_framer_push(&f, junk, VPWR_FRAMER_CAP - 1), 0);
	ck_assert_int_eq(vpwr_framer_next(&f, &frame, NULL), 0);
	ck_assert_int_eq(vpwr_framer_push(&f, junk, 1), 0);
	ck_assert_int_eq(vpwr_framer_next(&f, &frame, NULL), -VPWR_E_TOOBIG);
	ck_assert_ptr_null(vpwr_framer_codec(&f));
	/* commit cannot count more than the space it handed out */
	vpwr_framer_init(&f, NULL);
	vpwr_framer_commit(&f, 10);
	vpwr_framer_commit(&f, (size_t)-1);
	ck_assert_uint_eq(vpwr_framer_space(&f), 0);
	ck_assert_ptr_eq(vpwr_framer_tail(&f), f.buf + VPWR_FRAMER_CAP);
}
END_TEST

START_TEST(test_consume)
{
	static struct stream s;
	static struct vpwr_framer f;
	const uint8_t *frame;
	int next = 0;

	make_stream(&s);
	vpwr_framer_init(&f, NULL);
	ck_assert_int_eq(vpwr_framer_push(&f, s.bytes, s.len), 0);
	vpwr_framer_consume(&f, 0);
	ck_assert_uint_eq(vpwr_framer_space(&f), VPWR_FRAMER_CAP - s.len);
	drain(&f, &s, &next);
	ck_assert_int_eq(next, NR_MSGS);
	ck_assert_int_eq(vpwr_framer_push(&f, s.bytes, 40), 0);
	vpwr_framer_consume(&f, 1000); /* more than held: empties */
	ck_assert_uint_eq(vpwr_framer_space(&f), VPWR_FRAMER_CAP);
	ck_assert_int_eq(vpwr_framer_next(&f, &frame, NULL), 0);
}
END_TEST

/*
 * A pipelining peer: every read brings hundreds of frames and a piece of
 * the next one.  Each is handed out in order, and once the framer asks
 * for more bytes the piece sits at the front, with the rest of the buffer
 * free for the next read.
 */
START_TEST(test_many_frames_per_read)
{
	enum { NR = 1000 };
	static uint8_t bytes[NR * 64];
	static struct vpwr_framer f;
	struct vpwr_decode_error err;
	const uint8_t *frame;
	size_t len = 0, fed = 0;
	uint32_t want = 1;
	struct vpwr_msg m;
	int n;

	for (uint32_t i = 1; i <= NR; i++) {
		vpwr_msg_init(&m, VPWR_MSG_SCALE, i, i % 7);
		m.u.scale.op = VPWR_SCALE_UP;
		n = vpwr_codec_encode(NATIVE, &m, bytes + len, sizeof(bytes) - len);
		ck_assert_int_gt(n, 0);
		len += (size_t)n;
	}
	vpwr_framer_init(&f, NULL);
	while (fed < len) {
		/* a read of everything that fits: it ends inside a frame */
		size_t k = vpwr_framer_space(&f);

		if (k > len - fed)
			k = len - fed;

		memcpy(vpwr_framer_tail(&f), bytes + fed, k);
		vpwr_framer_commit(&f, k);
		fed += k;
		while ((n = vpwr_framer_next(&f, &frame, &err)) > 0) {
			ck_assert_int_eq(vpwr_codec_decode(NATIVE, frame,
							   (size_t)n, &m, &err), 0);
			ck_assert_uint_eq(m.seq, want++);
			vpwr_framer_consume(&f, (size_t)n);
		}
		ck_assert_int_eq(n, 0);
		ck_assert_ptr_eq(vpwr_framer_tail(&f), f.buf + f.len);
		ck_assert_uint_eq(vpwr_framer_space(&f), VPWR_FRAMER_CAP - f.len);
	}
	ck_assert_uint_eq(want, NR + 1);
	ck_assert_uint_eq(f.len, 0);
}
END_TEST

START_TEST(test_null_args)
{
	static struct vpwr_framer f;
	struct vpwr_decode_error err;
	const uint8_t *frame = (const uint8_t *)"x";

	vpwr_framer_init(NULL, NATIVE);
	ck_assert_ptr_null(vpwr_framer_codec(NULL));
	ck_assert_ptr_null(vpwr_framer_tail(NULL));
	ck_assert_uint_eq(vpwr_framer_space(NULL), 0);
	vpwr_framer_commit(NULL, 5);
	vpwr_framer_consume(NULL, 5);
	ck_assert_int_eq(vpwr_framer_push(NULL, "a", 1), -EINVAL);
	ck_assert_int_eq(vpwr_framer_next(NULL, &frame, &err), -EINVAL);
	ck_assert_ptr_null(frame);
	ck_assert(err.text[0]);
	vpwr_framer_init(&f, NULL);
	ck_assert_int_eq(vpwr_framer_push(&f, NULL, 1), -EINVAL);
	ck_assert_int_eq(vpwr_framer_push(&f, NULL, 0), 0);
	ck_assert_int_eq(vpwr_framer_next(&f, NULL, &err), -EINVAL);
	ck_assert_uint_eq(vpwr_framer_space(&f), VPWR_FRAMER_CAP);
}
END_TEST

/*
 * A stream that arrives a byte at a time costs the codec a number of bytes
 * read proportional to its length, not to its length squared: blank lines
 * (which detection and JSON framing both skip), a long line, a short one,
 * and a long line that never ends.  Counted by the framer, not timed.
 * _i: 0 detect the codec, 1 fix it up front.
 */
START_TEST(test_linear_scan)
{
	static uint8_t s[VPWR_FRAMER_CAP];
	static struct vpwr_framer f;
	const struct vpwr_codec *json = vpwr_codec_json();
	const uint8_t *frame;
	size_t n = 0, at = 0, nr = 0, want[2];
	int len;

	while (n < 600)
		n += (size_t)snprintf((char *)s + n, sizeof(s) - n, " \t\r\n");
	n += (size_t)snprintf((char *)s + n, sizeof(s) - n,
			      "{\"type\":\"release\",\"pad\":\"");
	memset(s + n, 'x', 3000);
	n += 3000;
	n += (size_t)snprintf((char *)s + n, sizeof(s) - n, "\"}\n{}\n{\"");
	memset(s + n, 'y', 3500);
	n += 3500;
	/* the frames, found in one call each on the whole stream */
	want[0] = (size_t)vpwr_codec_frame_len(json, s, n, NULL);
	want[1] = (size_t)vpwr_codec_frame_len(json, s + want[0], n - want[0],
					       NULL);
	ck_assert_uint_eq(want[1], 3);
	ck_assert_uint_gt(want[0], 3600);

	vpwr_framer_init(&f, _i ? json : NULL);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(vpwr_framer_push(&f, s + i, 1), 0);
		while ((len = vpwr_framer_next(&f, &frame, NULL)) > 0) {
			ck_assert_uint_lt(nr, 2);
			ck_assert_uint_eq((size_t)len, want[nr]);
			ck_assert_mem_eq(frame, s + at, (size_t)len);
			at += (size_t)len;
			nr++;
			vpwr_framer_consume(&f, (size_t)len);
		}
		ck_assert_int_eq(len, 0);
	}
	ck_assert_uint_eq(nr, 2);
	ck_assert_ptr_eq(vpwr_framer_codec(&f), json);
	/* each byte read once to detect and once to frame, at most */
	ck_assert_msg(vpwr_framer_examined(&f) <= 2 * n,
		      "%llu bytes read to frame a stream of %zu",
		      (unsigned long long)vpwr_framer_examined(&f), n);
	/* and the unfinished line still runs into the limit */
	memset(s, 'z', VPWR_JSON_MAX_LINE);
	ck_assert_int_eq(vpwr_framer_push(&f, s, VPWR_JSON_MAX_LINE - (n - at)),
			 0);
	ck_assert_int_eq(vpwr_framer_next(&f, &frame, NULL), -VPWR_E_TOOBIG);
}
END_TEST

static Suite *framer_suite(void)
{
	Suite *s = suite_create("framer");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_all_at_once, 0, 2);
	tcase_add_loop_test(tc, test_byte_by_byte, 0, 2);
	tcase_add_test(tc, test_random_splits);
	tcase_add_test(tc, test_detection_waits);
	tcase_add_test(tc, test_garbage_prefix);
	tcase_add_test(tc, test_garbage_after_frame);
	tcase_add_test(tc, test_oversized);
	tcase_add_test(tc, test_max_frame_after_partial);
	tcase_add_test(tc, test_buffer_full);
	tcase_add_test(tc, test_consume);
	tcase_add_test(tc, test_many_frames_per_read);
	tcase_add_test(tc, test_null_args);
	tcase_add_loop_test(tc, test_linear_scan, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(framer_suite());
}
