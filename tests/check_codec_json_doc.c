/* SPDX-License-Identifier: MIT */
/*
 * The JSON codec's parsed lines (src/core/codec_json_doc.c) against
 * jansson, which the codec used before (json_doc_diff.h says what must
 * agree).  The inputs: the places where yajl alone is more lenient than
 * jansson, the limits of numbers, nesting and of the storage on the
 * decoder's stack, then mutations of valid lines (VPWR_FUZZ_ITERS of
 * them).  fuzz_json makes the same comparison on whatever libFuzzer finds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_doc_diff.h"
#include "testutil.h"

static unsigned nr_accepted, nr_refused, nr_nul;

/* Both parsers on text[0..len); abort the test where they disagree. */
static void compare(const void *text, size_t len, const char *what)
{
	const char *why;

	switch (json_doc_diff(text, len, &why)) {
	case JDD_ACCEPTED:
		nr_accepted++;
		break;
	case JDD_REFUSED:
		nr_refused++;
		break;
	case JDD_NUL:
		nr_nul++;
		break;
	default:
		ck_abort_msg("%s: jansson and vpwr_json_parse() differ (%s): %.*s",
			     what, why, (int)VPWR_MIN(len, 300),
			     (const char *)text);
	}
}

#define CASE(s) { s, sizeof(s) - 1 }

static const struct {
	const char *text;
	size_t len;
} cases[] = {
	/* what yajl takes and jansson does not */
	CASE("\"release\""), CASE("1"), CASE("true"), CASE("null"),
	CASE("{\"a\":\v1}"), CASE("{\"a\":\f1}"), CASE("\f{}"), CASE("{}\v"),
	CASE("{\"a\":\"\xc0\x80\"}"), CASE("{\"a\":\"\xc1\xbf\"}"),
	CASE("{\"a\":\"\xe0\x80\x80\"}"), CASE("{\"a\":\"\xed\xa0\x80\"}"),
	CASE("{\"a\":\"\xed\xbf\xbf\"}"), CASE("{\"a\":\"\xf0\x80\x80\x80\"}"),
	CASE("{\"a\":\"\xf4\x90\x80\x80\"}"), CASE("{\"a\":\"\xf5\x80\x80\x80\"}"),
	CASE("{\"a\":\"\xf8\x88\x80\x80\x80\"}"), CASE("{\"a\":\"\x80\"}"),
	CASE("{\"\xc0\x80\":1}"), CASE("{\"a\":\"\xe2\x82\"}"),
	CASE("{\"a\":\"\\ud800\"}"), CASE("{\"a\":\"\\udc00\"}"),
	CASE("{\"a\":\"\\ud800x\"}"), CASE("{\"a\":\"\\ud800\\u0041\"}"),
	CASE("{\"a\":\"\\ud800\\ud800\"}"), CASE("{\"a\":\"\\udbff\\udfff\"}"),
	CASE("{\"a\":\"\\ud83d\\ude00\"}"), CASE("{\"a\":\"\\uDBFF\\uDFFF\"}"),
	CASE("{\"a\":\"\\u0000\"}"), CASE("{\"\\u0000\":1}"),
	CASE("{\"a\":\"x\\u0000y\"}"), CASE("{\"a\":\"\\u0001\\u001f\\u007f\"}"),
	CASE("{\"a\":1,\"a\":2}"), CASE("{\"a\":1,\"b\":2,\"a\":3}"),
	CASE("{\"a\":1,\"\\u0061\":2}"), CASE("{\"\\\"\":1,\"\\u0022\":2}"),
	CASE("{\"a\":{\"a\":1},\"b\":{\"a\":1,\"b\":{\"a\":2}},\"c\":[{\"a\":1},{\"a\":1}]}"),
	CASE("{\"a\":{\"b\":1,\"b\":2}}"), CASE("[{\"a\":1},{\"b\":1,\"b\":1}]"),
	CASE("{\"\":1,\"\":2}"), CASE("{\"ab\":1,\"ba\":2,\"a\":3,\"b\":4}"),
	/* numbers */
	CASE("[9223372036854775807]"), CASE("[9223372036854775808]"),
	CASE("[-9223372036854775808]"), CASE("[-9223372036854775809]"),
	CASE("[99999999999999999999]"), CASE("[-0]"), CASE("[0]"),
	CASE("[00]"), CASE("[01]"), CASE("[-]"), CASE("[-01]"), CASE("[1.]"),
	CASE("[.5]"), CASE("[+1]"), CASE("[1e]"), CASE("[1e+]"), CASE("[0x10]"),
	CASE("[1.5]"), CASE("[-0.0]"), CASE("[1e5]"), CASE("[1E-5]"),
	CASE("[1e308]"), CASE("[1e309]"), CASE("[-1e309]"), CASE("[1e-400]"),
	CASE("[0e999999999999999999999]"), CASE("[0.0e400]"),
	CASE("[1e999999999999999999999]"), CASE("[1e-999999999999999999999]"),
	CASE("[1.7976931348623157e308]"), CASE("[1.7976931348623158e308]"),
	CASE("[1.7976931348623159e308]"), CASE("[-1.7976931348623159e308]"),
	CASE("[0.17976931348623159e309]"), CASE("[179769313486231570000e288]"),
	CASE("[179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792]"),
	CASE("[179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791.9999]"),
	CASE("[179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497791e0]"),
	CASE("[0.000179769313486231580793728971405303415079934132710037826936173778980444968292764750946649017977587207096330286416692887910946555547851940402630657488671505820681908902000708383676273854845817711531764475730270069855571366959622842914819860834936475292719074168444365510704342711559699508093042880177904174497792e313]"),
	CASE("[1true]"), CASE("[1\"a\"]"), CASE("[1,]"), CASE("[,1]"),
	/* strings, literals, structure */
	CASE("{\"a\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\u20AC\"}"),
	CASE("{\"a\\\\\":\"\\\\\"}"), CASE("{\"a\":\"\\\\\\\"\"}"),
	CASE("{\"a\":\"\\x\"}"), CASE("{\"a\":\"\\u12\"}"), CASE("{\"a\":\"\\u12G4\"}"),
	CASE("{\"a\":\"\t\"}"), CASE("{\"a\":\"\x7f\"}"), CASE("{\"a\":\"\x1f\"}"),
	CASE("{\"a\":tru}"), CASE("{\"a\":truex}"), CASE("{\"a\":nul}"),
	CASE("{\"a\":NaN}"), CASE("{'a':1}"), CASE("{a:1}"), CASE("{\"a\" 1}"),
	CASE("{\"a\":1,}"), CASE("{,}"), CASE("{\"a\"}"), CASE("{\"a\":}"),
	CASE("{1:1}"), CASE("{}"), CASE("[]"), CASE("[[]]"), CASE("[{}]"),
	CASE("{\"a\":[]}"), CASE("{\"a\":{}}"), CASE("{"), CASE("["), CASE("{\"a"),
	CASE("{\"a\":1"), CASE("{\"a\":1}}"), CASE("{\"a\":1} x"), CASE("{} {}"),
	CASE(" \t\r\n{ \"a\" : [ 1 , 2 ] }\n"), CASE("{/*x*/}"), CASE("{}//"),
	CASE("\xef\xbb\xbf{}"), CASE("{\"a\":1}\0"), CASE("\0{}"),
	CASE("{\"a\":\"b\0\"}"), CASE("{\"a\":\xc3\xa9}"),
	/* what jansson takes by dropping a NUL byte */
	CASE("[1\0]"), CASE("[true\0]"), CASE("{\"a\":null\0\0}"), CASE("[1]\0"),
	CASE("[1\0,2\0]\0"), CASE("[1\0 2]"), CASE("[\"a\"\0]"), CASE("[\0]"),
};

START_TEST(edge_cases)
{
	char what[32];

	for (size_t i = 0; i < VPWR_ARRAY_SIZE(cases); i++) {
		snprintf(what, sizeof(what), "case %zu", i);
		compare(cases[i].text, cases[i].len, what);
	}
}
END_TEST

/* Lines that outgrow the storage on the stack, and nesting. */
START_TEST(limits)
{
	static char line[VPWR_JSON_MAX_LINE + 1];
	size_t n, i;

	/* 2048 levels close in 4096 bytes; 2049 cannot, but are refused
	 * before the line ends. */
	for (size_t depth = 2047; depth <= 2049; depth++) {
		n = VPWR_MIN(2 * depth, sizeof(line) - 1);
		memset(line, '[', depth);
		memset(line + depth, ']', n - depth);
		compare(line, n, "nesting");
		compare(line, depth, "nesting, unclosed");
	}
	/* Objects in objects: 819 levels fit a line, 1024 open ones with a
	 * key each fill it. */
	for (i = 0; i < 1024; i++)
		memcpy(line + 4 * i, "{\"\":", 4);
	compare(line, 4096, "open objects");
	memcpy(line + 4 * 819, "0", 1);
	memset(line + 4 * 819 + 1, '}', 819);
	compare(line, 5 * 819 + 1, "nested objects");

	/* Many values, many keys, long strings (with escapes: yajl's own
	 * buffer leaves its arena), each past its stack array. */
	n = (size_t)snprintf(line, sizeof(line), "{\"v\":[");
	for (i = 0; n < 4000; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s%zu",
				      i ? "," : "", i);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "]}");
	compare(line, n, "many values");
	n = (size_t)snprintf(line, sizeof(line), "{");
	for (i = 0; n < 4000; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s\"k%zu\":%zu",
				      i ? "," : "", i, i);
	n += (size_t)snprintf(line + n, sizeof(line) - n, "}");
	compare(line, n, "many keys");
	line[n - 1] = ',';
	n += (size_t)snprintf(line + n, sizeof(line) - n, "\"k7\":1}");
	compare(line, n, "many keys, the last repeated");
	for (int esc = 0; esc < 2; esc++) {
		n = (size_t)snprintf(line, sizeof(line), "{\"s\":\"");
		while (n < 4000)
			n += (size_t)snprintf(line + n, sizeof(line) - n, "%s",
					      esc ? "\\u00e9\\n" : "ab\xc3\xa9");
		n += (size_t)snprintf(line + n, sizeof(line) - n, "\",\"t\":\"x\"}");
		compare(line, n, "a long string");
	}
	n = (size_t)snprintf(line, sizeof(line), "[");
	for (i = 0; n < 4000; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s\"%s\"",
				      i ? "," : "", i % 2 ? "\\\\" : "\\\"x");
	n += (size_t)snprintf(line + n, sizeof(line) - n, "]");
	compare(line, n, "many escaped strings");
	ck_assert_int_eq(vpwr_json_parse(&(struct vpwr_json_doc){ 0 },
					 (const uint8_t *)line,
					 VPWR_JSON_MAX_LINE + 1),
			 -VPWR_E_TOOBIG);
}
END_TEST

/* The codec refused those lines before (as "trailing data after the
 * object", where jansson's position lagged), and refuses them now at the
 * NUL byte. */
START_TEST(nul_after_a_literal)
{
	static const char line[] = "{\"type\":\"turbo\",\"vcpu\":1,\"enable\":true\0}\n";
	struct vpwr_decode_error err;
	struct vpwr_msg m;

	ck_assert_int_eq(vpwr_codec_decode(vpwr_codec_json(), line,
					   sizeof(line) - 1, &m, &err),
			 -VPWR_E_PROTO);
	ck_assert_str_eq(err.text, "invalid JSON: a NUL byte outside a string");
	ck_assert_uint_eq(err.offset, strlen(line));
}
END_TEST

static const char *const seeds[] = {
	"{\"v\":1,\"seq\":7,\"type\":\"scale\",\"vcpu\":0,\"op\":\"up\"}\n",
	"{\"type\":\"policy_set\",\"seq\":3,\"kind\":\"traffic\",\"vcpus\":\"0-3,8\",\"busy_hours\":[1,2],"
	"\"quiet_hours\":[5],\"min_pps\":1,\"avg_pps\":2,\"max_pps\":3,\"macs\":[\"aa:bb:cc:dd:ee:ff\"]}\n",
	"{\"v\":1,\"seq\":3,\"type\":\"set_freq\",\"reply\":true,\"status\":-16,\"error\":\"EBUSY\","
	"\"vcpu\":0,\"reason\":\"busy \\u00e9 \\ud83d\\ude00 \\\"q\\\" \xc3\xa9\"}\n",
	"{\"type\":\"query_vcpus\",\"reply\":true,\"status\":0,\"want\":[\"freqs\"],\"first\":0,"
	"\"nr_vcpus\":2,\"cur_khz\":[1,2],\"turbo\":[true,false],\"priority\":[false,true]}\n",
	"{\"policy\":{\"command\":\"create\",\"policy_type\":\"TRAFFIC\",\"avg_packet_thresh\":1,"
	"\"max_packet_thresh\":2,\"mac_list\":[\"de:ad:be:ef:01:01\"],\"core_list\":[1,2],"
	"\"busy_hours\":[3],\"workload\":\"LOW\"}}\n",
	"[{\"a\":{\"b\":[null,-0,1.5e3,{\"c\":{}}]},\"d\":[[],[[]]]}]\n",
};

/* Pieces that reach the places where the two parsers could part. */
static const char *const pieces[] = {
	"{", "}", "[", "]", ":", ",", "\"", "\\", " ", "\n", "\v", "\f", "\t",
	"\"a\"", "\"a\":1,", "\"a\":", "0", "-", ".", "e", "E", "+", "1e400",
	"9223372036854775807", "9223372036854775808", "-9223372036854775809",
	"\\u0000", "\\ud800", "\\udc00", "\\ud83d\\ude00", "\\u00e9", "\\\"",
	"\xc0\x80", "\xed\xa0\x80", "\xf4\x90\x80\x80", "\xc3\xa9", "\xf0\x9f\x98\x80",
	"\x80", "\xff", "true", "false", "null", "tru", "\0",
};

static uint64_t rng_state = 0x2545F4914F6CDD1Dull;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state % n);
}

static size_t mutate(uint8_t *b, size_t len, size_t cap)
{
	for (unsigned k = 0, n = 1 + rnd(4); k < n; k++) {
		size_t at = len ? rnd((uint32_t)len) : 0;
		const char *p = pieces[rnd(VPWR_ARRAY_SIZE(pieces))];
		size_t plen = *p ? strlen(p) : 1;

		switch (rnd(4)) {
		case 0: /* insert a piece */
			if (len + plen <= cap) {
				memmove(b + at + plen, b + at, len - at);
				memcpy(b + at, p, plen);
				len += plen;
			}
			break;
		case 1: /* replace a byte */
			if (len)
				b[at] = rnd(2) ? (uint8_t)p[0] : (uint8_t)rnd(256);
			break;
		case 2: /* delete a few bytes */
			plen = rnd(4);
			plen = VPWR_MIN(len - at, plen);
			memmove(b + at, b + at + plen, len - at - plen);
			len -= plen;
			break;
		default: { /* copy a piece of the line elsewhere */
			size_t from = rnd((uint32_t)len + 1), n2 = rnd(16);

			if (from + n2 <= len && len + n2 <= cap) {
				memmove(b + at + n2, b + at, len - at);
				memmove(b + at, b + from + (from >= at ? n2 : 0), n2);
				len += n2;
			}
		}
		}
	}
	return len;
}

START_TEST(mutations)
{
	const char *env = getenv("VPWR_FUZZ_ITERS");
	long iterations = env ? atol(env) : 200000;
	uint8_t buf[VPWR_JSON_MAX_LINE];
	char what[48];

	nr_accepted = nr_refused = nr_nul = 0;
	for (long it = 0; it < iterations; it++) {
		const char *seed = seeds[rnd(VPWR_ARRAY_SIZE(seeds))];
		size_t len = strlen(seed);

		memcpy(buf, seed, len);
		len = mutate(buf, len, sizeof(buf));
		snprintf(what, sizeof(what), "mutation %ld", it);
		compare(buf, len, what);
	}
	/* Both sides of the line must be reached. */
	printf("%ld mutations: %u accepted, %u refused, %u with a NUL byte "
	       "jansson drops\n", iterations, nr_accepted, nr_refused, nr_nul);
	if (iterations >= 1000) {
		ck_assert_uint_gt(nr_accepted, iterations / 20);
		ck_assert_uint_gt(nr_refused, iterations / 5);
	}
}
END_TEST

static Suite *doc_suite(void)
{
	Suite *s = suite_create("codec_json_doc");
	TCase *tc = tcase_create("against jansson");

	tcase_add_test(tc, edge_cases);
	tcase_add_test(tc, limits);
	tcase_add_test(tc, nul_after_a_literal);
	tcase_add_test(tc, mutations);
	tcase_set_timeout(tc, 120);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(doc_suite());
}
