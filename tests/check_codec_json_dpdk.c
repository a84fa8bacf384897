/* SPDX-License-Identifier: MIT */
/*
 * DPDK's JSON forms through the json codec (docs/JSON.md, "DPDK's forms"):
 * every unit, every policy type, DPDK's own documented examples, the VM
 * name never mattering, replies in the native form, and every kind of
 * input DPDK's parser would silently mangle refused with its place.
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

static void decode_ok(const char *line, struct vpwr_msg *m)
{
	struct vpwr_decode_error err;
	int rc = vpwr_codec_decode(JSON, line, strlen(line), m, &err);

	ck_assert_msg(rc == 0, "%s: %s", line, err.text);
	ck_assert_int_eq(vpwr_msg_validate(m, NULL), 0);
}

START_TEST(every_unit)
{
	static const struct {
		const char *unit;
		uint16_t type;
		uint32_t arg;
	} units[] = {
		{ "SCALE_UP", VPWR_MSG_SCALE, VPWR_SCALE_UP },
		{ "SCALE_DOWN", VPWR_MSG_SCALE, VPWR_SCALE_DOWN },
		{ "SCALE_MAX", VPWR_MSG_SCALE, VPWR_SCALE_MAX },
		{ "SCALE_MIN", VPWR_MSG_SCALE, VPWR_SCALE_MIN },
		{ "ENABLE_TURBO", VPWR_MSG_TURBO, 1 },
		{ "DISABLE_TURBO", VPWR_MSG_TURBO, 0 },
	};
	char line[256];
	struct vpwr_msg m, want;

	for (size_t i = 0; i < VPWR_ARRAY_SIZE(units); i++) {
		snprintf(line, sizeof(line),
			 "{\"instruction\":{\"name\":\"ubuntu\",\"command\":\"power\","
			 "\"unit\":\"%s\",\"resource_id\":%zu}}\n", units[i].unit, 10 + i);
		decode_ok(line, &m);
		vpwr_msg_init(&want, (enum vpwr_msg_type)units[i].type, 0,
			      (uint32_t)(10 + i));
		if (units[i].type == VPWR_MSG_SCALE)
			want.u.scale.op = units[i].arg;
		else
			want.u.turbo.enable = units[i].arg;
		ck_assert_mem_eq(&m, &want, sizeof(m));
	}
}
END_TEST

/* Identity comes from the channel: the name changes nothing. */
START_TEST(name_is_ignored)
{
	struct vpwr_msg a, b, c;

	decode_ok("{\"instruction\":{\"name\":\"vm1\",\"command\":\"power\","
		  "\"unit\":\"SCALE_MIN\",\"resource_id\":2}}", &a);
	decode_ok("{\"instruction\":{\"name\":\"someone-else\",\"command\":\"power\","
		  "\"unit\":\"SCALE_MIN\",\"resource_id\":2}}", &b);
	decode_ok("{\"instruction\":{\"command\":\"POWER\","
		  "\"unit\":\"SCALE_MIN\",\"resource_id\":2}}", &c);
	ck_assert_mem_eq(&a, &b, sizeof(a));
	ck_assert_mem_eq(&a, &c, sizeof(a));
}
END_TEST

/*
 * The examples of DPDK's vm_power_management guide, each on one line as
 * NDJSON needs (the destroy example also loses its trailing comma, which no
 * JSON parser takes, DPDK's neither).
 */
START_TEST(dpdk_guide_examples)
{
	struct vpwr_msg m, want;

	decode_ok("{\"policy\": { \"name\": \"ubuntu\", \"command\": \"create\", "
		  "\"policy_type\": \"TIME\", \"busy_hours\":[ 17, 18, 19, 20, 21, 22, 23 ], "
		  "\"quiet_hours\":[ 2, 3, 4, 5, 6 ], \"core_list\":[ 11 ] }}\n", &m);
	vpwr_msg_init(&want, VPWR_MSG_POLICY_SET, 0, VPWR_VCPU_NONE);
	want.u.policy.kind = VPWR_POLICY_TIME;
	want.u.policy.busy_hours = 0xFE0000;
	want.u.policy.quiet_hours = 0x7C;
	vpwr_cpuset_set(&want.u.policy.vcpus, 11);
	ck_assert_mem_eq(&m, &want, sizeof(m));

	decode_ok("{\"policy\": {\"name\": \"ubuntu\", \"command\": \"destroy\"}}\n", &m);
	vpwr_msg_init(&want, VPWR_MSG_POLICY_REMOVE, 0, VPWR_VCPU_NONE);
	ck_assert_mem_eq(&m, &want, sizeof(m));

	decode_ok("{\"instruction\": {\"name\": \"ubuntu\", \"command\": \"power\", "
		  "\"unit\": \"SCALE_MAX\", \"resource_id\": 10}}\n", &m);
	vpwr_msg_init(&want, VPWR_MSG_SCALE, 0, 10);
	want.u.scale.op = VPWR_SCALE_MAX;
	ck_assert_mem_eq(&m, &want, sizeof(m));
}
END_TEST

START_TEST(every_policy_type)
{
	static const uint8_t mac0[6] = { 0xde, 0xad, 0xbe, 0xef, 0x01, 0x01 };
	static const uint8_t mac1[6] = { 0xde, 0xad, 0xbe, 0xef, 0x01, 0x02 };
	struct vpwr_msg m;

	decode_ok("{\"policy\":{\"command\":\"create\",\"policy_type\":\"TRAFFIC\","
		  "\"mac_list\":[\"de:ad:be:ef:01:01\",\"DE:AD:BE:EF:01:02\"],"
		  "\"avg_packet_thresh\":100000,\"max_packet_thresh\":500000,"
		  "\"vcpu_list\":[0,1]}}\n", &m);
	ck_assert_uint_eq(m.type, VPWR_MSG_POLICY_SET);
	ck_assert_uint_eq(m.u.policy.kind, VPWR_POLICY_TRAFFIC);
	ck_assert_uint_eq(m.u.policy.min_pps, 0);
	ck_assert_uint_eq(m.u.policy.avg_pps, 100000);
	ck_assert_uint_eq(m.u.policy.max_pps, 500000);
	ck_assert_uint_eq(m.u.policy.nr_macs, 2);
	ck_assert_mem_eq(m.u.policy.macs[0], mac0, 6);
	ck_assert_mem_eq(m.u.policy.macs[1], mac1, 6);
	ck_assert_uint_eq(m.u.policy.vcpus.bits[0], 3);

	static const struct {
		const char *name;
		uint32_t level;
	} levels[] = { { "LOW", VPWR_WORKLOAD_LOW },
		       { "MEDIUM", VPWR_WORKLOAD_MEDIUM },
		       { "HIGH", VPWR_WORKLOAD_HIGH } };
	for (size_t i = 0; i < VPWR_ARRAY_SIZE(levels); i++) {
		char line[160];

		snprintf(line, sizeof(line),
			 "{\"policy\":{\"command\":\"CREATE\",\"policy_type\":\"WORKLOAD\","
			 "\"workload\":\"%s\",\"core_list\":[5]}}\n", levels[i].name);
		decode_ok(line, &m);
		ck_assert_uint_eq(m.u.policy.kind, VPWR_POLICY_WORKLOAD);
		ck_assert_uint_eq(m.u.policy.workload, levels[i].level);
		ck_assert_uint_eq(m.u.policy.vcpus.bits[0], 1u << 5);
	}

	decode_ok("{\"policy\":{\"command\":\"create\",\"policy_type\":\"BRANCH_RATIO\","
		  "\"core_list\":[2,3,4]}}\n", &m);
	ck_assert_uint_eq(m.u.policy.kind, VPWR_POLICY_BRANCH_RATIO);
	ck_assert_uint_eq(m.u.policy.vcpus.bits[0], 0x1C);

	/* No vCPU list: the policy covers every vCPU (the model's empty set). */
	decode_ok("{\"policy\":{\"command\":\"create\",\"policy_type\":\"TIME\","
		  "\"busy_hours\":[0]}}\n", &m);
	ck_assert_uint_eq(m.u.policy.kind, VPWR_POLICY_TIME);
	ck_assert_uint_eq(m.u.policy.busy_hours, 1);
	ck_assert_uint_eq(vpwr_cpuset_count(&m.u.policy.vcpus), 0);
}
END_TEST

START_TEST(destroy_forms)
{
	struct vpwr_msg m;

	decode_ok("{\"policy\":{\"command\":\"destroy\",\"policy_type\":\"TRAFFIC\"}}\n", &m);
	ck_assert_uint_eq(m.type, VPWR_MSG_POLICY_REMOVE);
	ck_assert_uint_eq(m.u.policy.kind, VPWR_POLICY_TRAFFIC);
	/* DPDK documents core_list for destroy; it selects nothing. */
	decode_ok("{\"policy\":{\"name\":\"x\",\"command\":\"DESTROY\",\"core_list\":[1,2]}}\n", &m);
	ck_assert_uint_eq(m.type, VPWR_MSG_POLICY_REMOVE);
	ck_assert_uint_eq(m.u.policy.kind, 0);
	ck_assert_uint_eq(vpwr_cpuset_count(&m.u.policy.vcpus), 0);
}
END_TEST

/* DPDK's JSON channel has no replies: ours are in the native form. */
START_TEST(replies_use_the_native_form)
{
	static const char want[] = "{\"v\":1,\"seq\":0,\"type\":\"turbo\",\"reply\":true,"
				   "\"status\":-4007,\"error\":\"VPWR_E_UNSUPPORTED\","
				   "\"vcpu\":3,\"reason\":\"no turbo\"}\n";
	struct vpwr_msg req, reply;
	char line[VPWR_JSON_MAX_LINE];
	int len;

	decode_ok("{\"instruction\":{\"command\":\"power\",\"unit\":\"ENABLE_TURBO\","
		  "\"resource_id\":3}}\n", &req);
	vpwr_msg_reply(&reply, &req, -VPWR_E_UNSUPPORTED, "no turbo");
	len = vpwr_codec_encode(JSON, &reply, line, sizeof(line));
	ck_assert_int_eq(len, (int)strlen(want));
	ck_assert_mem_eq(line, want, (size_t)len);
}
END_TEST

/* ------------------------------------------------------------ refusals */

struct bad {
	const char *line;
	const char *text;
	const char *at; /* err.offset: the first occurrence; NULL: the object */
};

#define I "{\"instruction\":{\"command\":\"power\","
#define C "{\"policy\":{\"command\":\"create\","
#define T C "\"policy_type\":\"TIME\","

static const struct bad bad_cases[] = {
	/* wrong value types */
	{ I "\"unit\":\"SCALE_UP\",\"resource_id\":\"3\"}}\n",
	  "\"resource_id\" must be an integer, not a string", "\"3\"" },
	{ I "\"unit\":\"SCALE_UP\",\"resource_id\":-1}}\n", "\"resource_id\" must not be negative", "-1" },
	{ I "\"unit\":\"SCALE_UP\",\"resource_id\":2.0}}\n",
	  "\"resource_id\" must be an integer, not a real number", "2.0" },
	{ I "\"unit\":\"SCALE_UP\",\"resource_id\":4294967295}}\n", "at most 4294967294", "4294967295" },
	{ I "\"unit\":\"SCALE_UP\",\"resource_id\":true}}\n", "not a boolean", "true" },
	{ I "\"unit\":1,\"resource_id\":1}}\n", "\"unit\" must be a string, not an integer", "1," },
	{ "{\"instruction\":{\"command\":1,\"unit\":\"SCALE_UP\",\"resource_id\":1}}\n",
	  "\"command\" must be a string", "1," },
	{ I "\"name\":7,\"unit\":\"SCALE_UP\",\"resource_id\":1}}\n", "\"name\" must be a string", "7," },
	{ T "\"busy_hours\":[\"1\"]}}\n", "\"busy_hours\"[0] must be an integer, not a string", "\"1\"" },
	{ T "\"busy_hours\":[1.5]}}\n", "not a real number", "1.5" },
	{ T "\"busy_hours\":17}}\n", "\"busy_hours\" must be an array", "17}" },
	{ C "\"policy_type\":\"TRAFFIC\",\"avg_packet_thresh\":\"100\",\"max_packet_thresh\":9}}\n",
	  "\"avg_packet_thresh\" must be an integer", "\"100\"" },
	{ C "\"policy_type\":\"TRAFFIC\",\"avg_packet_thresh\":1,\"max_packet_thresh\":-9}}\n",
	  "\"max_packet_thresh\" must not be negative", "-9" },
	{ C "\"policy_type\":\"WORKLOAD\",\"workload\":2}}\n", "\"workload\" must be a string", "2}" },
	{ T "\"busy_hours\":[1],\"mac_list\":\"de:ad:be:ef:01:01\"}}\n",
	  "\"mac_list\" must be an array", "\"de:" },
	{ T "\"busy_hours\":[1],\"core_list\":\"0-3\"}}\n", "\"core_list\" must be an array", "\"0-3\"" },
	{ T "\"busy_hours\":[1],\"core_list\":[-2]}}\n", "\"core_list\"[0] must not be negative", "-2" },
	/* hours outside 0-23, repeated, too many, busy and quiet at once */
	{ T "\"busy_hours\":[23,24]}}\n", "\"busy_hours\"[1] must be at most 23, not 24", "24" },
	{ T "\"quiet_hours\":[-1]}}\n", "\"quiet_hours\"[0] must not be negative", "-1" },
	{ T "\"quiet_hours\":[0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,7]}}\n",
	  "\"quiet_hours\" holds 25 hours, at most 24", "7]" },
	{ T "\"busy_hours\":[5,5]}}\n", "hour 5 appears twice", "5]" },
	{ T "\"busy_hours\":[1,2],\"quiet_hours\":[2]}}\n", "hour 2 is both busy and quiet", "[2]" },
	/* lists longer than the message holds */
	{ C "\"policy_type\":\"TRAFFIC\",\"avg_packet_thresh\":1,\"max_packet_thresh\":2,\"mac_list\":"
	  "[\"0:0:0:0:0:1\",\"0:0:0:0:0:2\",\"0:0:0:0:0:3\",\"0:0:0:0:0:4\",\"0:0:0:0:0:5\",\"0:0:0:0:0:6\","
	  "\"0:0:0:0:0:7\",\"0:0:0:0:0:8\",\"0:0:0:0:0:9\",\"0:0:0:0:0:a\",\"0:0:0:0:0:b\"]}}\n",
	  "\"mac_list\" holds 11 MAC addresses, at most 10", "\"0:0:0:0:0:b\"" },
	{ T "\"busy_hours\":[1],\"core_list\":[1024]}}\n", "\"core_list\"[0] must be at most 1023", "1024" },
	{ T "\"busy_hours\":[1],\"vcpu_list\":[7,7]}}\n", "vCPU 7 appears twice in \"vcpu_list\"", "7]" },
	{ T "\"busy_hours\":[1],\"mac_list\":[\"dead:beef:0101\"]}}\n", "is not a MAC address", "\"dead" },
	/* no command, unknown command / unit / policy type / workload */
	{ "{\"instruction\":{\"unit\":\"SCALE_UP\",\"resource_id\":1}}\n",
	  "\"instruction\" has no \"command\"", "{\"unit" },
	{ "{\"policy\":{\"policy_type\":\"TIME\",\"busy_hours\":[1]}}\n",
	  "\"policy\" has no \"command\"", "{\"policy_type" },
	{ "{\"instruction\":{\"command\":\"scale\",\"unit\":\"SCALE_UP\",\"resource_id\":1}}\n",
	  "\"command\": \"scale\" is not power, create or destroy", "\"scale\"" },
	{ "{\"instruction\":{\"command\":\"Power\",\"unit\":\"SCALE_UP\",\"resource_id\":1}}\n",
	  "is not power, create or destroy", "\"Power\"" },
	{ I "\"unit\":\"SCALE_MEDIUM\",\"resource_id\":1}}\n",
	  "\"unit\": \"SCALE_MEDIUM\" is not SCALE_UP", "\"SCALE_MEDIUM\"" },
	{ I "\"unit\":\"scale_up\",\"resource_id\":1}}\n", "is not SCALE_UP", "\"scale_up\"" },
	{ C "\"policy_type\":\"time\",\"busy_hours\":[1]}}\n",
	  "\"policy_type\": \"time\" is not one of TIME, TRAFFIC, WORKLOAD or BRANCH_RATIO", "\"time\"" },
	{ C "\"policy_type\":\"WORKLOAD\",\"workload\":\"EXTREME\"}}\n",
	  "is not one of LOW, MEDIUM or HIGH", "\"EXTREME\"" },
	/* a command in the wrong wrapper */
	{ "{\"instruction\":{\"command\":\"create\",\"policy_type\":\"TIME\"}}\n",
	  "\"command\": \"create\" does not go in a \"instruction\"", "\"create\"" },
	{ "{\"policy\":{\"command\":\"power\",\"unit\":\"SCALE_UP\",\"resource_id\":1}}\n",
	  "\"command\": \"power\" does not go in a \"policy\"", "\"power\"" },
	/* unknown or misplaced keys */
	{ I "\"unit\":\"SCALE_UP\",\"resource_id\":1,\"vcpu\":1}}\n",
	  "\"vcpu\" has no place in a DPDK instruction", "1}}" },
	{ I "\"unit\":\"SCALE_UP\",\"resource_id\":1,\"policy_type\":\"TIME\"}}\n",
	  "\"policy_type\" has no place in a DPDK instruction", "\"TIME\"" },
	{ T "\"busy_hours\":[1],\"core_lists\":[1]}}\n",
	  "\"core_lists\" has no place in a DPDK policy create", "[1]}}" },
	{ "{\"policy\":{\"command\":\"destroy\",\"busy_hours\":[1]}}\n",
	  "\"busy_hours\" has no place in a DPDK policy destroy", "[1]" },
	{ T "\"busy_hours\":[1],\"core_list\":[1],\"vcpu_list\":[2]}}\n",
	  "\"core_list\" and \"vcpu_list\" are the same list", "[2]" },
	{ "{\"instruction\":{\"command\":\"power\",\"unit\":\"SCALE_UP\",\"resource_id\":1},\"v\":1}\n",
	  "\"v\" cannot stand beside DPDK's \"instruction\"", "1}\n" },
	{ "{\"policy\":{\"command\":\"destroy\"},\"instruction\":{\"command\":\"power\"}}\n",
	  "\"policy\" cannot stand beside DPDK's \"instruction\"", "{\"command\":\"destroy" },
	{ "{\"policy\":{\"policy\":{\"command\":\"create\",\"policy_type\":\"TIME\"}}}\n",
	  "\"policy\" has no \"command\"", "{\"policy\":{\"command" },
	{ "{\"instruction\":[\"power\"]}\n", "\"instruction\" must be an object", "[" },
	/* what DPDK would default */
	{ I "\"unit\":\"SCALE_UP\"}}\n", "a DPDK instruction needs \"resource_id\"", "{\"command" },
	{ I "\"resource_id\":1}}\n", "a DPDK instruction needs \"unit\"", "{\"command" },
	{ C "\"busy_hours\":[1]}}\n", "a DPDK policy create needs \"policy_type\"", "{\"command" },
	{ T "\"core_list\":[1]}}\n", "a TIME policy needs \"busy_hours\" or \"quiet_hours\"", "{\"command" },
	{ C "\"policy_type\":\"TRAFFIC\",\"max_packet_thresh\":5}}\n",
	  "a DPDK TRAFFIC policy needs \"avg_packet_thresh\"", "{\"command" },
	{ C "\"policy_type\":\"TRAFFIC\",\"avg_packet_thresh\":5}}\n",
	  "a DPDK TRAFFIC policy needs \"max_packet_thresh\"", "{\"command" },
	{ C "\"policy_type\":\"WORKLOAD\"}}\n", "a DPDK WORKLOAD policy needs \"workload\"", "{\"command" },
	{ C "\"policy_type\":\"TRAFFIC\",\"avg_packet_thresh\":600,\"max_packet_thresh\":500}}\n",
	  "\"avg_packet_thresh\" 600 is above \"max_packet_thresh\" 500", "600" },
	/* duplicate keys, trailing garbage */
	{ I "\"unit\":\"SCALE_UP\",\"unit\":\"SCALE_DOWN\",\"resource_id\":1}}\n",
	  "duplicate object key", "\":\"SCALE_DOWN" },
	{ I "\"unit\":\"SCALE_UP\",\"resource_id\":1}} {\"instruction\":{}}\n",
	  "trailing data after the object", "{\"instruction\":{}}" },
	{ I "\"unit\":\"SCALE_UP\",\"resource_id\":1}}}\n", "trailing data after the object", "}\n" },
};

START_TEST(refusals)
{
	const struct bad *c = &bad_cases[_i];
	struct vpwr_decode_error err;
	struct vpwr_msg m;
	size_t want_off = 0;
	int rc;

	if (c->at) {
		const char *p = strstr(c->line, c->at);

		ck_assert_msg(p, "%s: marker %s not in the line", c->line, c->at);
		want_off = (size_t)(p - c->line);
	}
	rc = vpwr_codec_decode(JSON, c->line, strlen(c->line), &m, &err);
	ck_assert_msg(rc == -VPWR_E_PROTO, "%s: got %s (%s)", c->line,
		      vpwr_strerror_name(rc), err.text);
	ck_assert_msg(strstr(err.text, c->text), "%s: '%s' not in '%s'",
		      c->line, c->text, err.text);
	ck_assert_msg(err.offset == want_off, "%s: offset %zu, want %zu (%s)",
		      c->line, err.offset, want_off, err.text);
	ck_assert_int_eq(err.line, 1);
	ck_assert_int_eq(err.column, (int)want_off + 1);
}
END_TEST

static Suite *dpdk_suite(void)
{
	Suite *s = suite_create("codec_json_dpdk");
	TCase *tc = tcase_create("dpdk forms");

	tcase_add_test(tc, every_unit);
	tcase_add_test(tc, name_is_ignored);
	tcase_add_test(tc, dpdk_guide_examples);
	tcase_add_test(tc, every_policy_type);
	tcase_add_test(tc, destroy_forms);
	tcase_add_test(tc, replies_use_the_native_form);
	tcase_add_loop_test(tc, refusals, 0, (int)VPWR_ARRAY_SIZE(bad_cases));
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(dpdk_suite());
}
