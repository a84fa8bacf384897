/* SPDX-License-Identifier: MIT */
/*
 * Lines the JSON codec's native form refuses (docs/JSON.md, "Errors"):
 * each with its error code, a piece of the explanation, and the place it
 * points at, given as the first occurrence of a marker string in the line
 * (err.offset, and err.line / err.column derived from it).  Also: a refused
 * line still yields its seq and type, so that a host can NACK it.
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

struct bad {
	const char *line;
	int rc;
	const char *text; /* must appear in err.text */
	const char *at;   /* err.offset is where this first appears; NULL: 0 */
};

#define S "{\"type\":\"scale\",\"vcpu\":0,"
#define P "{\"type\":\"policy_set\",\"kind\":\"time\","
#define R "{\"type\":\"query_state\",\"reply\":true,"

static const struct bad bad_cases[] = {
	/* values of the wrong type or range */
	{ S "\"op\":\"sideways\"}\n", -VPWR_E_PROTO,
	  "\"op\": \"sideways\" is not one of up, down, min, max or medium", "\"sideways\"" },
	{ S "\"op\":1}\n", -VPWR_E_PROTO, "\"op\" must be a string, not an integer", "1}" },
	{ "{\"type\":\"scale\",\"vcpu\":\"0\",\"op\":\"up\"}\n", -VPWR_E_PROTO,
	  "\"vcpu\" must be an integer, not a string", "\"0\"" },
	{ "{\"type\":\"set_freq\",\"vcpu\":0,\"freq_khz\":2.5e6}\n", -VPWR_E_PROTO,
	  "\"freq_khz\" must be an integer, not a real number", "2.5e6" },
	{ "{\"type\":\"set_freq\",\"vcpu\":0,\"freq_khz\":1000.0}\n", -VPWR_E_PROTO,
	  "not a real number", "1000.0" },
	{ "{\"type\":\"scale\",\"vcpu\":-1,\"op\":\"up\"}\n", -VPWR_E_PROTO,
	  "\"vcpu\" must not be negative", "-1" },
	{ "{\"type\":\"scale\",\"vcpu\":4294967295,\"op\":\"up\"}\n", -VPWR_E_PROTO,
	  "\"vcpu\" must be at most 4294967294", "4294967295" },
	{ "{\"type\":\"set_freq\",\"vcpu\":1,\"freq_khz\":4294967296}\n", -VPWR_E_PROTO,
	  "\"freq_khz\" must be at most 4294967295", "4294967296" },
	{ "{\"type\":\"set_epp\",\"vcpu\":1,\"epp\":256}\n", -VPWR_E_PROTO,
	  "\"epp\" must be at most 255, not 256", "256" },
	{ "{\"type\":\"turbo\",\"vcpu\":1,\"enable\":1}\n", -VPWR_E_PROTO,
	  "\"enable\" must be true or false, not an integer", "1}" },
	{ "{\"type\":\"turbo\",\"vcpu\":1,\"enable\":null}\n", -VPWR_E_PROTO,
	  "not null", "null" },
	{ "{\"seq\":-5,\"type\":\"release\"}\n", -VPWR_E_PROTO, "\"seq\" must not be negative", "-5" },
	{ "{\"seq\":\"5\",\"type\":\"release\"}\n", -VPWR_E_PROTO, "\"seq\" must be an integer", "\"5\"" },
	/* hours */
	{ P "\"busy_hours\":[1,24]}\n", -VPWR_E_PROTO, "\"busy_hours\"[1] must be at most 23, not 24", "24" },
	{ P "\"busy_hours\":[3,4,3]}\n", -VPWR_E_PROTO, "hour 3 appears twice in \"busy_hours\"", "3]" },
	{ P "\"quiet_hours\":[-1]}\n", -VPWR_E_PROTO, "\"quiet_hours\"[0] must not be negative", "-1" },
	{ P "\"quiet_hours\":[\"2\"]}\n", -VPWR_E_PROTO, "\"quiet_hours\"[0] must be an integer", "\"2\"" },
	{ P "\"quiet_hours\":3}\n", -VPWR_E_PROTO, "\"quiet_hours\" must be an array", "3}" },
	{ P "\"traffic_hours\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,0]}\n",
	  -VPWR_E_PROTO, "holds 25 hours, at most 24", "0]" },
	{ P "\"busy_hours\":[1],\"quiet_hours\":[1]}\n", -VPWR_E_PROTO, "both busy and quiet", NULL },
	/* vCPU sets */
	{ P "\"vcpus\":[1,2,1]}\n", -VPWR_E_PROTO, "vCPU 1 appears twice in \"vcpus\"", "1]" },
	{ P "\"vcpus\":[1024]}\n", -VPWR_E_PROTO, "\"vcpus\"[0] must be at most 1023, not 1024", "1024" },
	{ P "\"vcpus\":\"0-3,x\"}\n", -VPWR_E_PROTO, "is not a cpulist", "\"0-3,x\"" },
	{ P "\"vcpus\":\"0-1024\"}\n", -VPWR_E_PROTO, "is not a cpulist", "\"0-1024\"" },
	{ P "\"vcpus\":\" 1\"}\n", -VPWR_E_PROTO, "is not a cpulist", "\" 1\"" },
	{ P "\"vcpus\":\"3-1\"}\n", -VPWR_E_PROTO, "is not a cpulist", "\"3-1\"" },
	{ P "\"vcpus\":{}}\n", -VPWR_E_PROTO, "must be an array or a cpulist string, not an object", "{}" },
	/* MACs */
	{ P "\"macs\":[\"aa:bb:cc:dd:ee\"]}\n", -VPWR_E_PROTO, "is not a MAC address", "\"aa:bb:cc:dd:ee\"" },
	{ P "\"macs\":[\"aa-bb-cc-dd-ee-ff\"]}\n", -VPWR_E_PROTO, "is not a MAC address", "\"aa-" },
	{ P "\"macs\":[\"aa:bb:cc:dd:ee:fg\"]}\n", -VPWR_E_PROTO, "is not a MAC address", "\"aa:" },
	{ P "\"macs\":[1]}\n", -VPWR_E_PROTO, "\"macs\"[0] must be a MAC address string", "1]" },
	{ P "\"macs\":[\"0:0:0:0:0:1\",\"0:0:0:0:0:2\",\"0:0:0:0:0:3\",\"0:0:0:0:0:4\",\"0:0:0:0:0:5\","
	  "\"0:0:0:0:0:6\",\"0:0:0:0:0:7\",\"0:0:0:0:0:8\",\"0:0:0:0:0:9\",\"0:0:0:0:0:a\",\"0:0:0:0:0:b\"]}\n",
	  -VPWR_E_PROTO, "\"macs\" holds 11 MAC addresses, at most 10", "\"0:0:0:0:0:b\"" },
	/* names and flags */
	{ P "\"workload\":\"HIGH\"}\n", -VPWR_E_PROTO, "is not one of low, medium or high", "\"HIGH\"" },
	{ "{\"type\":\"policy_set\",\"kind\":\"all\"}\n", -VPWR_E_PROTO,
	  "\"all\" only selects what policy_remove removes", "\"all\"" },
	{ "{\"type\":\"policy_remove\",\"kind\":\"TIME\"}\n", -VPWR_E_PROTO,
	  "is not one of all, time, traffic, workload or branch_ratio", "\"TIME\"" },
	{ "{\"type\":\"query_vcpus\",\"want\":[\"freqs\",\"freqs\"]}\n", -VPWR_E_PROTO,
	  "\"want\"[1] repeats a flag", "\"freqs\"]" },
	{ "{\"type\":\"query_vcpus\",\"want\":[3]}\n", -VPWR_E_PROTO, "is not a single bit", "3]" },
	{ "{\"type\":\"query_vcpus\",\"want\":[1]}\n", -VPWR_E_PROTO, "is not a single bit without a name", "1]" },
	{ "{\"type\":\"query_vcpus\",\"want\":[\"all\"]}\n", -VPWR_E_PROTO, "is not one of freqs or caps", "\"all\"" },
	/* keys: unknown, misplaced, duplicated, missing */
	{ S "\"op\":\"up\",\"vpcu\":1}\n", -VPWR_E_PROTO, "unknown key \"vpcu\" in a scale request", "1}" },
	{ S "\"op\":\"up\",\"cur_khz\":5}\n", -VPWR_E_PROTO,
	  "\"cur_khz\" does not belong in a scale request", "5}" },
	{ S "\"op\":\"up\",\"status\":0}\n", -VPWR_E_PROTO, "\"status\" belongs only in replies", "0}" },
	{ S "\"op\":\"up\",\"reason\":\"x\"}\n", -VPWR_E_PROTO,
	  "\"reason\" belongs only in replies and notifications", "\"x\"" },
	{ S "\"op\":\"up\",\"op\":\"down\"}\n", -VPWR_E_PROTO, "duplicate object key", "\":\"down\"" },
	{ S "\"op\":\"up\",\"instruction\":{}}\n", -VPWR_E_PROTO,
	  "\"type\" cannot stand beside DPDK's \"instruction\"", "\"scale\"" },
	{ "{\"type\":\"scale\",\"vcpu\":0}\n", -VPWR_E_PROTO, "a scale request needs \"op\"", NULL },
	{ "{\"seq\":1}\n", -VPWR_E_PROTO, "the object has no \"type\"", NULL },
	{ "{}\n", -VPWR_E_PROTO, "the object has no \"type\"", NULL },
	/* types, versions, roles */
	{ "{\"type\":\"bogus\"}\n", -EBADMSG, "unknown message type \"bogus\"", "\"bogus\"" },
	{ "{\"type\":\"SCALE\",\"vcpu\":0,\"op\":\"up\"}\n", -EBADMSG, "unknown message type", "\"SCALE\"" },
	{ "{\"type\":99}\n", -EBADMSG, "unknown message type 99", "99" },
	{ "{\"type\":256,\"reply\":true,\"status\":-1}\n", -VPWR_E_PROTO, "at most 255", "256" },
	{ "{\"type\":[\"scale\"]}\n", -VPWR_E_PROTO, "\"type\" must be a message type name", "[" },
	{ "{\"type\":99,\"reply\":true,\"status\":0}\n", -EBADMSG, "unknown message type 99", "99" },
	{ "{\"type\":2,\"vcpu\":0,\"op\":\"up\"}\n", -VPWR_E_PROTO, "type 2 is written \"scale\"", "2," },
	{ "{\"type\":12,\"reply\":true,\"status\":-1}\n", -VPWR_E_PROTO, "type 12 is written \"release\"", "12," },
	{ "{\"v\":2,\"type\":\"release\"}\n", -VPWR_E_VERSION, "protocol version 2 is not 1", "2," },
	{ "{\"v\":\"1\",\"type\":\"release\"}\n", -VPWR_E_PROTO, "\"v\" must be an integer", "\"1\"" },
	{ "{\"v\":0,\"type\":\"release\"}\n", -VPWR_E_VERSION, "protocol version 0 is not 1", "0," },
	{ "{\"type\":\"limits_changed\",\"vcpu\":0}\n", -VPWR_E_PROTO,
	  "limits_changed is a host notification", "\"limits_changed\"" },
	{ "{\"type\":\"scale\",\"notify\":true,\"vcpu\":0}\n", -VPWR_E_PROTO,
	  "only limits_changed is", "true" },
	{ "{\"type\":\"limits_changed\",\"reply\":true,\"status\":0,\"vcpu\":0}\n", -VPWR_E_PROTO,
	  "limits_changed is a host notification", "\"limits_changed\"" },
	{ "{\"type\":\"release\",\"reply\":true,\"notify\":true,\"status\":0}\n", -VPWR_E_PROTO,
	  "both a reply and a notification", "true,\"status" },
	{ "{\"type\":\"release\",\"reply\":1,\"status\":0}\n", -VPWR_E_PROTO,
	  "\"reply\" must be true or false", "1," },
	{ "{\"type\":\"release\",\"reply\":true}\n", -VPWR_E_PROTO, "a reply needs \"status\"", NULL },
	{ "{\"type\":\"release\",\"reply\":true,\"status\":5}\n", -VPWR_E_PROTO,
	  "\"status\" must be 0 or a negative error code, not 5", "5}" },
	{ "{\"type\":\"release\",\"reply\":true,\"status\":-2147483649}\n", -VPWR_E_PROTO,
	  "must be 0 or a negative error code", "-2147483649" },
	{ "{\"type\":\"release\",\"reply\":true,\"status\":\"EINVAL\"}\n", -VPWR_E_PROTO,
	  "\"status\" must be an integer", "\"EINVAL\"" },
	{ "{\"type\":\"release\",\"reply\":true,\"status\":0,\"error\":\"EINVAL\"}\n", -VPWR_E_PROTO,
	  "\"error\" belongs only in refusals", "\"EINVAL\"" },
	{ "{\"type\":\"release\",\"reply\":true,\"status\":-22,\"error\":22}\n", -VPWR_E_PROTO,
	  "\"error\" must be a string", "22}" },
	{ R "\"status\":0,\"vcpu\":0,\"cur_khz\":1,\"min_khz\":1,\"max_khz\":1,\"turbo\":1}\n",
	  -VPWR_E_PROTO, "\"turbo\" must be true or false", "1}" },
	{ R "\"status\":0,\"vcpu\":0,\"cur_khz\":1}\n", -VPWR_E_PROTO,
	  "a reply to query_state needs \"min_khz\"", NULL },
	{ "{\"type\":\"query_vcpus\",\"reply\":true,\"status\":0,\"want\":[\"freqs\"],\"first\":0,"
	  "\"nr_vcpus\":4,\"cur_khz\":[1,2],\"turbo\":[true,false],\"priority\":[false]}\n",
	  -VPWR_E_PROTO, "have 2, 2 and 1 entries", "[true" },
	{ "{\"type\":\"query_freqs\",\"reply\":true,\"status\":0,\"cur_khz\":1,\"freqs_khz\":"
	  "[0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,"
	  "0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,0,9]}\n",
	  -VPWR_E_PROTO, "\"freqs_khz\" holds 65 entries, at most 64", "9]" },
	/* what vpwr_msg_validate refuses, at the object */
	{ "{\"type\":\"set_range\",\"vcpu\":0,\"min_khz\":3,\"max_khz\":2}\n", -VPWR_E_PROTO,
	  "SET_RANGE needs min <= max", NULL },
	{ "{\"type\":\"scale\",\"op\":\"up\"}\n", -VPWR_E_PROTO, "this request needs a vCPU", NULL },
	{ "{\"type\":\"hello\",\"version_min\":2,\"version_max\":1}\n", -VPWR_E_PROTO,
	  "HELLO needs 1 <= version_min <= version_max", NULL },
	{ "{\"type\":\"query_vcpus\",\"want\":[]}\n", -VPWR_E_PROTO, "QUERY_VCPUS wants", NULL },
	/* the line itself */
	{ S "\"op\":\"up\"} x\n", -VPWR_E_PROTO, "trailing data after the object", "x" },
	{ S "\"op\":\"up\"}{\"type\":\"release\"}\n", -VPWR_E_PROTO, "trailing data", "{\"type\":\"release" },
	{ "{\"type\":\n\"release\"}\n", -VPWR_E_PROTO, "continues past the end of its line", "\n" },
	{ "[{\"type\":\"release\"}]\n", -VPWR_E_PROTO, "a line must hold a JSON object", NULL },
	{ "\"release\"\n", -VPWR_E_PROTO, "invalid JSON", "\"\n" },
	{ "{\"type\":\"release\",}\n", -VPWR_E_PROTO, "invalid JSON", "}" },
	{ "{\"type\":\"release\"\n", -VPWR_E_PROTO, "invalid JSON: '}' expected", "\n" },
	{ "{'type':'release'}\n", -VPWR_E_PROTO, "invalid JSON", "'" },
	{ "{\"type\":\"rel\\u0000ease\"}\n", -VPWR_E_PROTO, "invalid JSON", "\"}" },
	{ "{\"type\":\"release\",\"seq\":99999999999999999999}\n", -VPWR_E_PROTO, "too big integer", "9}" },
	{ "\n", -VPWR_E_PROTO, "empty line", NULL },
	{ " \t\r\n", -VPWR_E_PROTO, "empty line", NULL },
};

START_TEST(refusals)
{
	const struct bad *c = &bad_cases[_i];
	struct vpwr_decode_error err;
	struct vpwr_msg m;
	size_t want_off = 0, line_start = 0;
	int rc, want_line = 1;

	if (c->at) {
		const char *p = strstr(c->line, c->at);

		ck_assert_msg(p, "%s: marker %s not in the line", c->line, c->at);
		want_off = (size_t)(p - c->line);
	}
	rc = vpwr_codec_decode(JSON, c->line, strlen(c->line), &m, &err);
	ck_assert_msg(rc == c->rc, "%s: want %s, got %s (%s)", c->line,
		      vpwr_strerror_name(c->rc), vpwr_strerror_name(rc), err.text);
	ck_assert_msg(strstr(err.text, c->text), "%s: '%s' not in '%s'", c->line,
		      c->text, err.text);
	ck_assert_msg(err.offset == want_off, "%s: offset %zu, want %zu (%s)",
		      c->line, err.offset, want_off, err.text);
	/* ASCII: the column counts bytes since the last newline. */
	for (size_t i = 0; i < want_off; i++)
		if (c->line[i] == '\n') {
			want_line++;
			line_start = i + 1;
		}
	ck_assert_int_eq(err.line, want_line);
	ck_assert_int_eq(err.column, (int)(want_off - line_start) + 1);
}
END_TEST

/* Columns count characters, lines count newlines before the error. */
START_TEST(line_and_column)
{
	static const char utf8[] = "{\"type\":\"release\",\"reply\":true,\"status\":-1,"
				   "\"reason\":\"\xc3\xa9\xc3\xa9\",\"x\":5}\n";
	static const char later[] = "\n\n  {\"type\":\"scale\",\"vcpu\":0,\"op\":\"x\"}\n";
	struct vpwr_decode_error err;
	struct vpwr_msg m;

	ck_assert_int_eq(vpwr_codec_decode(JSON, utf8, strlen(utf8), &m, &err),
			 -VPWR_E_PROTO);
	ck_assert_uint_eq(err.offset, (size_t)(strstr(utf8, "5}") - utf8));
	ck_assert_int_eq(err.line, 1);
	ck_assert_int_eq(err.column, (int)err.offset + 1 - 2); /* two 2-byte chars */
	ck_assert_int_eq(vpwr_codec_decode(JSON, later, strlen(later), &m, &err),
			 -VPWR_E_PROTO);
	ck_assert_int_eq(err.line, 3);
	ck_assert_int_eq(err.column, (int)(strstr(later, "\"x\"") - later) - 2 + 1);
}
END_TEST

/* A refused line is answered under its own seq and type. */
START_TEST(refused_lines_keep_seq_and_type)
{
	static const struct {
		const char *line;
		uint16_t type;
		uint32_t seq;
	} cases[] = {
		{ "{\"seq\":41,\"type\":\"scale\",\"vcpu\":0,\"op\":\"sideways\"}\n", VPWR_MSG_SCALE, 41 },
		{ "{\"type\":\"set_freq\",\"seq\":42,\"vcpu\":0,\"freq_khz\":\"fast\"}\n", VPWR_MSG_SET_FREQ, 42 },
		{ "{\"v\":9,\"seq\":43,\"type\":\"release\"}\n", VPWR_MSG_RELEASE, 43 },
		{ "{\"seq\":44,\"type\":\"mystery\"}\n", 0, 44 },
		{ "{\"seq\":45,\"type\":77,\"x\":1}\n", 77, 45 },
		{ "{\"seq\":46,\"type\":\"release\",\"oops\":1}\n", VPWR_MSG_RELEASE, 46 },
	};
	struct vpwr_msg m;

	for (size_t i = 0; i < VPWR_ARRAY_SIZE(cases); i++) {
		ck_assert_int_lt(vpwr_codec_decode(JSON, cases[i].line,
						   strlen(cases[i].line), &m, NULL), 0);
		ck_assert_uint_eq(m.type, cases[i].type);
		ck_assert_uint_eq(m.seq, cases[i].seq);
	}
}
END_TEST

START_TEST(size_limits)
{
	static char line[VPWR_JSON_MAX_LINE + 2];
	static const char obj[] = "{\"type\":\"release\"}";
	struct vpwr_decode_error err;
	struct vpwr_msg m;
	char reason[VPWR_REASON_MAX + 100];

	/* Exactly VPWR_JSON_MAX_LINE bytes with the newline: accepted. */
	memset(line, ' ', sizeof(line));
	memcpy(line, obj, strlen(obj));
	line[VPWR_JSON_MAX_LINE - 1] = '\n';
	ck_assert_int_eq(vpwr_codec_decode(JSON, line, VPWR_JSON_MAX_LINE, &m, &err), 0);
	line[VPWR_JSON_MAX_LINE - 1] = ' ';
	line[VPWR_JSON_MAX_LINE] = '\n';
	ck_assert_int_eq(vpwr_codec_decode(JSON, line, VPWR_JSON_MAX_LINE + 1, &m, &err),
			 -VPWR_E_TOOBIG);
	ck_assert_ptr_nonnull(strstr(err.text, "exceeds 4096"));

	/* A reason of 127 bytes fits the message, 128 do not. */
	snprintf(reason, sizeof(reason),
		 "{\"type\":\"release\",\"reply\":true,\"status\":-1,\"reason\":\"%0127d\"}\n", 0);
	ck_assert_int_eq(vpwr_codec_decode(JSON, reason, strlen(reason), &m, &err), 0);
	ck_assert_uint_eq(strlen(m.reason), 127);
	snprintf(reason, sizeof(reason),
		 "{\"type\":\"release\",\"reply\":true,\"status\":-1,\"reason\":\"%0128d\"}\n", 0);
	ck_assert_int_eq(vpwr_codec_decode(JSON, reason, strlen(reason), &m, &err),
			 -VPWR_E_PROTO);
	ck_assert_ptr_nonnull(strstr(err.text, "\"reason\" has 128 bytes, at most 127"));
}
END_TEST

/* 1025 vCPU numbers still fit a line; the set holds only 1024. */
START_TEST(vcpu_array_limit)
{
	static char line[VPWR_JSON_MAX_LINE];
	struct vpwr_decode_error err;
	struct vpwr_msg m;
	size_t n = (size_t)snprintf(line, sizeof(line),
				    "{\"type\":\"policy_set\",\"kind\":\"time\",\"vcpus\":[");

	for (int i = 0; i <= VPWR_MAX_CPUS; i++)
		n += (size_t)snprintf(line + n, sizeof(line) - n, "%s0", i ? "," : "");
	snprintf(line + n, sizeof(line) - n, "]}\n");
	ck_assert_int_eq(vpwr_codec_decode(JSON, line, strlen(line), &m, &err),
			 -VPWR_E_PROTO);
	ck_assert_ptr_nonnull(strstr(err.text, "holds 1025 vCPUs, at most 1024"));
	ck_assert_uint_eq(err.offset, strlen(line) - 4); /* the 1025th */
}
END_TEST

static Suite *errors_suite(void)
{
	Suite *s = suite_create("codec_json_errors");
	TCase *tc = tcase_create("refusals");

	tcase_add_loop_test(tc, refusals, 0, (int)VPWR_ARRAY_SIZE(bad_cases));
	tcase_add_test(tc, line_and_column);
	tcase_add_test(tc, refused_lines_keep_seq_and_type);
	tcase_add_test(tc, size_limits);
	tcase_add_test(tc, vcpu_array_limit);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(errors_suite());
}
