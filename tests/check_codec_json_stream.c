/* SPDX-License-Identifier: MIT */
/*
 * The JSON codec on a stream: detection from the first bytes (and DPDK's
 * binary packets that start with '{' not taken for JSON), frame lengths,
 * blank lines and CRLF, a stream cut at every byte through the framer, and
 * a deterministic mutation fuzz of the decoder.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framer.h"
#include "libvpwr/codec.h"
#include "libvpwr/error.h"
#include "libvpwr/message.h"
#include "internal.h"
#include "testutil.h"

#define JSON vpwr_codec_json()

/* ------------------------------------------------------------ detection */

START_TEST(detection)
{
	static const struct {
		const char *bytes;
		size_t len;
		int json; /* 1: json, 0: wait (NULL, err 0), -1: not json */
	} cases[] = {
		{ "", 0, 0 },
		{ " ", 1, 0 },
		{ "\r\n\t ", 4, 0 },
		{ "{", 1, 0 },
		{ "{ \n", 3, 0 },
		{ "{\"", 2, 1 },
		{ "{}", 2, 1 },
		{ "\n {\t\"type\"", 10, 1 },
		{ "{\0", 2, -1 },      /* DPDK: resource_id 0x7B, little-endian */
		{ "{ \0", 3, -1 },     /* resource_id 0x207B */
		{ " \0\0\0", 4, -1 },  /* resource_id 0x20 */
		{ "\n\0\0\0", 4, -1 }, /* resource_id 10 */
		{ "{{", 2, -1 },
		{ "{'", 2, -1 },
		{ "[{\"", 3, -1 },
		{ "x", 1, -1 },
		{ "VPWR", 4, -1 },
	};
	int err;

	for (size_t i = 0; i < VPWR_ARRAY_SIZE(cases); i++) {
		const struct vpwr_codec *c =
			vpwr_codec_detect(cases[i].bytes, cases[i].len, &err);

		switch (cases[i].json) {
		case 1:
			ck_assert_msg(c == JSON, "case %zu: not json", i);
			break;
		case 0:
			ck_assert_msg(!c && !err, "case %zu: did not wait", i);
			break;
		default:
			ck_assert_msg(c != JSON, "case %zu: taken for json", i);
			ck_assert_msg(c || err, "case %zu: waits", i);
		}
	}
}
END_TEST

/* A whole DPDK packet whose first byte is '{' goes to the dpdk codec. */
START_TEST(dpdk_packet_with_brace)
{
	uint8_t pkt[VPWR_DPDK_PKT_LEN] = { 0x7B };
	struct vpwr_framer f;
	const uint8_t *frame;

	ck_assert_ptr_ne(vpwr_codec_detect(pkt, sizeof(pkt), NULL), JSON);
	ck_assert_ptr_eq(vpwr_codec_detect(pkt, sizeof(pkt), NULL),
			 vpwr_codec_dpdk());
	vpwr_framer_init(&f, NULL);
	ck_assert_int_eq(vpwr_framer_push(&f, pkt, 1), 0);
	ck_assert_int_eq(vpwr_framer_next(&f, &frame, NULL), 0); /* waits */
	ck_assert_int_eq(vpwr_framer_push(&f, pkt + 1, sizeof(pkt) - 1), 0);
	vpwr_framer_next(&f, &frame, NULL);
	ck_assert_ptr_eq(vpwr_framer_codec(&f), vpwr_codec_dpdk());
}
END_TEST

/* -------------------------------------------------------------- framing */

static int flen(const char *s, size_t len)
{
	return vpwr_codec_frame_len(JSON, s, len, NULL);
}

START_TEST(frame_lengths)
{
	static char big[VPWR_JSON_MAX_LINE + 1];
	struct vpwr_decode_error err;
	const char *two = "{\"type\":\"release\"}\n{\"type\":\"query_caps\"}\n";

	ck_assert_int_eq(flen("", 0), 0);
	ck_assert_int_eq(flen("{\"type\":\"release\"}", 18), 0);
	ck_assert_int_eq(flen(two, strlen(two)), 19);
	ck_assert_int_eq(flen("{}\r\n", 4), 4);
	/* Blank lines belong to the next line's frame. */
	ck_assert_int_eq(flen("\n", 1), 0);
	ck_assert_int_eq(flen(" \r\n\t\n", 5), 0);
	ck_assert_int_eq(flen(" \r\n\t\n{}\n", 8), 8);
	/* The limit counts the newline: 4095 bytes and '\n' is a frame. */
	memset(big, ' ', sizeof(big));
	ck_assert_int_eq(flen(big, VPWR_JSON_MAX_LINE - 1), 0);
	big[VPWR_JSON_MAX_LINE - 1] = '\n';
	big[0] = '{';
	ck_assert_int_eq(flen(big, VPWR_JSON_MAX_LINE), VPWR_JSON_MAX_LINE);
	big[VPWR_JSON_MAX_LINE - 1] = ' ';
	ck_assert_int_eq(vpwr_codec_frame_len(JSON, big, VPWR_JSON_MAX_LINE, &err),
			 -VPWR_E_TOOBIG);
	ck_assert_ptr_nonnull(strstr(err.text, "no end of line within 4096 bytes"));
	ck_assert_int_eq(flen(big, sizeof(big)), -VPWR_E_TOOBIG);
	/* White space alone cannot grow without bound either. */
	memset(big, '\n', sizeof(big));
	ck_assert_int_eq(flen(big, sizeof(big)), -VPWR_E_TOOBIG);
}
END_TEST

/* What a stream of lines decodes to, and the bytes. */
static const char stream[] =
	"{\"v\":1,\"seq\":1,\"type\":\"hello\",\"version_min\":1,\"version_max\":1}\n"
	"\n"
	"  \r\n"
	"{\"seq\":2,\"type\":\"scale\",\"vcpu\":3,\"op\":\"down\"}\r\n"
	"{\"instruction\":{\"name\":\"vm\",\"command\":\"power\",\"unit\":\"DISABLE_TURBO\",\"resource_id\":4}}\n"
	"{\"seq\":5,\"type\":\"policy_set\",\"kind\":\"workload\",\"workload\":\"low\",\"vcpus\":\"0-7\"}\n"
	"{\"seq\":6,\"type\":\"scale\",\"vcpu\":0,\"op\":\"warp\"}\n"
	"{\"seq\":7,\"type\":\"query_vcpus\",\"want\":[\"caps\",\"freqs\"]}\n";

static unsigned expected(struct vpwr_msg *m, int *rc)
{
	vpwr_msg_init(&m[0], VPWR_MSG_HELLO, 1, VPWR_VCPU_NONE);
	m[0].u.hello.version_min = m[0].u.hello.version_max = 1;
	rc[0] = 0;
	vpwr_msg_init(&m[1], VPWR_MSG_SCALE, 2, 3);
	m[1].u.scale.op = VPWR_SCALE_DOWN;
	rc[1] = 0;
	vpwr_msg_init(&m[2], VPWR_MSG_TURBO, 0, 4);
	rc[2] = 0;
	vpwr_msg_init(&m[3], VPWR_MSG_POLICY_SET, 5, VPWR_VCPU_NONE);
	m[3].u.policy.kind = VPWR_POLICY_WORKLOAD;
	m[3].u.policy.workload = VPWR_WORKLOAD_LOW;
	m[3].u.policy.vcpus.bits[0] = 0xFF;
	rc[3] = 0;
	/* A refused line: only its seq, type and vCPU are known. */
	vpwr_msg_init(&m[4], VPWR_MSG_SCALE, 6, 0);
	rc[4] = -VPWR_E_PROTO;
	vpwr_msg_init(&m[5], VPWR_MSG_QUERY_VCPUS, 7, VPWR_VCPU_NONE);
	m[5].u.vcpus.want = VPWR_VCPUS_FREQS | VPWR_VCPUS_CAPS;
	rc[5] = 0;
	return 6;
}

/* Feed the stream in two pieces cut at `cut`; decode what comes out. */
static void run_split(size_t cut, const struct vpwr_msg *want, const int *want_rc,
		      unsigned nr)
{
	const size_t len = sizeof(stream) - 1;
	struct vpwr_framer f;
	unsigned got = 0;

	vpwr_framer_init(&f, NULL);
	for (int piece = 0; piece < 2; piece++) {
		const uint8_t *frame;
		int n;

		if (vpwr_framer_push(&f, stream + (piece ? cut : 0),
				     piece ? len - cut : cut))
			ck_abort_msg("cut %zu: push failed", cut);
		while ((n = vpwr_framer_next(&f, &frame, NULL)) > 0) {
			struct vpwr_msg m;
			int rc;

			if (vpwr_framer_codec(&f) != JSON)
				ck_abort_msg("cut %zu: not detected as json", cut);
			rc = vpwr_codec_decode(JSON, frame, (size_t)n, &m, NULL);
			if (got >= nr || rc != want_rc[got])
				ck_abort_msg("cut %zu: frame %u: rc %d", cut, got, rc);
			if (!rc && memcmp(&m, &want[got], sizeof(m)))
				ck_abort_msg("cut %zu: frame %u differs", cut, got);
			if (rc && (m.seq != want[got].seq || m.type != want[got].type))
				ck_abort_msg("cut %zu: frame %u: seq/type lost", cut, got);
			got++;
			vpwr_framer_consume(&f, (size_t)n);
		}
		if (n < 0)
			ck_abort_msg("cut %zu: stream broken (%d)", cut, n);
	}
	if (got != nr || f.len)
		ck_abort_msg("cut %zu: %u frames, %zu bytes left", cut, got, f.len);
}

START_TEST(stream_split_at_every_byte)
{
	struct vpwr_msg want[8];
	int want_rc[8];
	unsigned nr = expected(want, want_rc);

	for (size_t cut = 0; cut < sizeof(stream); cut++)
		run_split(cut, want, want_rc, nr);
}
END_TEST

/* One byte at a time, as a slow virtio-serial port delivers them. */
START_TEST(stream_byte_by_byte)
{
	struct vpwr_framer f;
	const uint8_t *frame;
	unsigned frames = 0;

	vpwr_framer_init(&f, NULL);
	for (size_t i = 0; i < sizeof(stream) - 1; i++) {
		int n;

		ck_assert_int_eq(vpwr_framer_push(&f, stream + i, 1), 0);
		while ((n = vpwr_framer_next(&f, &frame, NULL)) > 0) {
			frames++;
			vpwr_framer_consume(&f, (size_t)n);
		}
		ck_assert_int_eq(n, 0);
	}
	ck_assert_uint_eq(frames, 6);
}
END_TEST

/* ----------------------------------------------------------------- fuzz */

static const char *const seeds[] = {
	"{\"v\":1,\"seq\":7,\"type\":\"scale\",\"vcpu\":0,\"op\":\"up\"}\n",
	"{\"type\":\"hello\",\"seq\":1,\"version_min\":1,\"version_max\":2}\n",
	"{\"type\":\"set_range\",\"vcpu\":1,\"min_khz\":1200000,\"max_khz\":2400000}\n",
	"{\"type\":\"turbo\",\"vcpu\":5,\"enable\":true}\n",
	"{\"type\":\"set_epp\",\"vcpu\":0,\"epp\":128}\n",
	"{\"type\":\"policy_set\",\"seq\":3,\"kind\":\"traffic\",\"vcpus\":\"0-3,8\",\"busy_hours\":[1,2],"
	"\"quiet_hours\":[5],\"min_pps\":1,\"avg_pps\":2,\"max_pps\":3,\"macs\":[\"aa:bb:cc:dd:ee:ff\"]}\n",
	"{\"type\":\"policy_remove\",\"kind\":\"all\"}\n",
	"{\"type\":\"query_vcpus\",\"want\":[\"freqs\",\"caps\"]}\n",
	"{\"v\":1,\"seq\":42,\"type\":\"query_freqs\",\"reply\":true,\"status\":0,\"vcpu\":1,"
	"\"cur_khz\":2000000,\"freqs_khz\":[1200000,2000000,2800000]}\n",
	"{\"v\":1,\"seq\":7,\"type\":\"scale\",\"reply\":true,\"status\":0,\"vcpu\":0,\"cur_khz\":2400000,"
	"\"min_khz\":800000,\"max_khz\":3000000,\"turbo\":true,\"req_min_khz\":0,\"req_max_khz\":0,"
	"\"clamped\":false,\"epp\":128}\n",
	"{\"v\":1,\"seq\":3,\"type\":\"set_freq\",\"reply\":true,\"status\":-16,\"error\":\"EBUSY\","
	"\"vcpu\":0,\"reason\":\"busy \\u00e9\"}\n",
	"{\"type\":\"query_caps\",\"reply\":true,\"status\":0,\"version_min\":1,\"version_max\":1,"
	"\"caps\":[\"turbo\",\"notify\",64],\"max_frame\":4096,\"nr_vcpus\":4,\"rate_per_sec\":0}\n",
	"{\"type\":\"query_vcpus\",\"reply\":true,\"status\":0,\"want\":[\"freqs\"],\"first\":0,"
	"\"nr_vcpus\":2,\"cur_khz\":[1,2],\"turbo\":[true,false],\"priority\":[false,true]}\n",
	"{\"type\":\"limits_changed\",\"notify\":true,\"vcpu\":2,\"cur_khz\":1,\"min_khz\":1,\"max_khz\":2,"
	"\"turbo\":false,\"req_min_khz\":0,\"req_max_khz\":0,\"clamped\":true,\"epp\":0}\n",
	"{\"instruction\":{\"name\":\"vm\",\"command\":\"power\",\"unit\":\"SCALE_UP\",\"resource_id\":3}}\n",
	"{\"policy\":{\"command\":\"create\",\"policy_type\":\"TRAFFIC\",\"avg_packet_thresh\":1,"
	"\"max_packet_thresh\":2,\"mac_list\":[\"de:ad:be:ef:01:01\"],\"core_list\":[1,2],"
	"\"busy_hours\":[3],\"workload\":\"LOW\"}}\n",
	"{\"policy\":{\"command\":\"destroy\",\"policy_type\":\"TIME\"}}\n",
};

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

/* Bytes JSON cares about, so mutations reach past the tokenizer. */
static const char alphabet[] = "{}[]\":,0123456789-.e truefalsn\\\n\r\t";

static size_t mutate(uint8_t *b, size_t len, size_t cap)
{
	for (unsigned k = 0, n = 1 + rnd(3); k < n; k++) {
		size_t at = len ? rnd((uint32_t)len) : 0;
		uint8_t c = rnd(4) ? (uint8_t)alphabet[rnd(sizeof(alphabet) - 1)]
				   : (uint8_t)rnd(256);

		switch (rnd(5)) {
		case 0: /* replace */
			if (len)
				b[at] = c;
			break;
		case 1: /* insert */
			if (len < cap) {
				memmove(b + at + 1, b + at, len - at);
				b[at] = c;
				len++;
			}
			break;
		case 2: /* delete */
			if (len) {
				memmove(b + at, b + at + 1, len - at - 1);
				len--;
			}
			break;
		case 3: { /* copy a piece elsewhere */
			size_t from = rnd((uint32_t)len + 1), n2 = rnd(12);

			if (from + n2 <= len && len + n2 <= cap) {
				memmove(b + at + n2, b + at, len - at);
				memmove(b + at, b + from + (from >= at ? n2 : 0), n2);
				len += n2;
			}
			break;
		}
		default: /* truncate */
			len = at;
		}
	}
	return len;
}

START_TEST(mutation_fuzz)
{
	const char *env = getenv("VPWR_FUZZ_ITERATIONS");
	long iterations = env ? atol(env) : 100000;
	unsigned accepted = 0, refused = 0;
	uint8_t buf[VPWR_JSON_MAX_LINE + 64], out[VPWR_JSON_MAX_LINE];

	for (long it = 0; it < iterations; it++) {
		const char *seed = seeds[rnd(VPWR_ARRAY_SIZE(seeds))];
		struct vpwr_decode_error err;
		struct vpwr_msg m, back;
		size_t len = strlen(seed);
		int n, rc, elen;

		memcpy(buf, seed, len);
		len = mutate(buf, len, sizeof(buf));
		n = vpwr_codec_frame_len(JSON, buf, len, &err);
		if (n <= 0)
			n = (int)len; /* decode what is there anyway */
		rc = vpwr_codec_decode(JSON, buf, (size_t)n, &m, &err);
		if (rc) {
			if (rc > 0 || err.offset > (size_t)n || !err.text[0])
				ck_abort_msg("iteration %ld: rc %d, offset %zu, '%s'",
					     it, rc, err.offset, err.text);
			refused++;
			continue;
		}
		accepted++;
		if (vpwr_msg_validate(&m, NULL))
			ck_abort_msg("iteration %ld: accepted an invalid message", it);
		elen = vpwr_codec_encode(JSON, &m, out, sizeof(out));
		if (elen <= 0)
			ck_abort_msg("iteration %ld: accepted, cannot re-encode (%d)",
				     it, elen);
		if (vpwr_codec_decode(JSON, out, (size_t)elen, &back, NULL) ||
		    memcmp(&m, &back, sizeof(m)))
			ck_abort_msg("iteration %ld: re-encoding changed: %.*s", it,
				     elen, (const char *)out);
	}
	/* Not a fuzz of the tokenizer only: some mutants must get through. */
	if (iterations >= 1000) {
		ck_assert_uint_gt(accepted, iterations / 100);
		ck_assert_uint_gt(refused, iterations / 10);
	}
}
END_TEST

static Suite *stream_suite(void)
{
	Suite *s = suite_create("codec_json_stream");
	TCase *tc = tcase_create("stream");

	tcase_add_test(tc, detection);
	tcase_add_test(tc, dpdk_packet_with_brace);
	tcase_add_test(tc, frame_lengths);
	tcase_add_test(tc, stream_split_at_every_byte);
	tcase_add_test(tc, stream_byte_by_byte);
	tcase_add_test(tc, mutation_fuzz);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(stream_suite());
}
