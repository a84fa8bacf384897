/*
 * Errors, version, cpusets, option structs, logging and message formatting:
 * the small shared pieces every other module leans on.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"
#include "libvpwr/libvpwr.h"
#include "testutil.h"

START_TEST(strerror_covers_library_codes_and_errno)
{
	ck_assert_str_eq(vpwr_strerror(-VPWR_E_PROTO), "malformed message");
	ck_assert_str_eq(vpwr_strerror(VPWR_E_PROTO), "malformed message");
	ck_assert_str_eq(vpwr_strerror(-VPWR_E_BAD_FREQ),
			 "frequency outside the CPU's range");
	ck_assert_str_eq(vpwr_strerror(-EINVAL), "Invalid argument");
	ck_assert_str_eq(vpwr_strerror(0), "success");
	ck_assert_str_eq(vpwr_strerror(-3999), "unknown error");
	ck_assert_str_eq(vpwr_strerror_name(-VPWR_E_SHARED_CPU),
			 "VPWR_E_SHARED_CPU");
	ck_assert_str_eq(vpwr_strerror_name(-ETIMEDOUT), "ETIMEDOUT");
	ck_assert_ptr_null(vpwr_strerror_name(0));
	/* INT_MIN has no positive counterpart: no undefined negation. */
	ck_assert_str_eq(vpwr_strerror(INT_MIN), "unknown error");
	ck_assert_ptr_null(vpwr_strerror_name(INT_MIN));
	/* Every library code has its own message and name. */
	for (int e = VPWR_E_PROTO; e <= VPWR_E_BAD_FREQ; e++) {
		ck_assert_str_ne(vpwr_strerror(-e), "unknown error");
		ck_assert_ptr_nonnull(vpwr_strerror_name(-e));
		for (int f = VPWR_E_PROTO; f < e; f++)
			ck_assert_str_ne(vpwr_strerror(-e), vpwr_strerror(-f));
	}
}
END_TEST

START_TEST(version_matches_header)
{
	char want[32];

	snprintf(want, sizeof(want), "%d.%d.%d", VPWR_VERSION_MAJOR,
		 VPWR_VERSION_MINOR, VPWR_VERSION_PATCH);
	ck_assert_uint_eq(vpwr_version(), VPWR_VERSION);
	ck_assert_str_eq(vpwr_version_string(), want);
}
END_TEST

START_TEST(cpuset_next_walks_every_set_cpu)
{
	static const unsigned cpus[] = { 0, 1, 62, 63, 64, 127, 128, 700, 1023 };
	struct vpwr_cpuset s;
	unsigned i = 0;

	vpwr_cpuset_zero(&s);
	ck_assert_int_eq(vpwr_cpuset_next(&s, 0), -1);
	for (size_t k = 0; k < sizeof(cpus) / sizeof(cpus[0]); k++)
		vpwr_cpuset_set(&s, cpus[k]);
	vpwr_cpuset_foreach(c, &s)
		ck_assert_int_eq(c, (int)cpus[i++]);
	ck_assert_uint_eq(i, sizeof(cpus) / sizeof(cpus[0]));
	/* From inside a word, at a set bit, past the end. */
	ck_assert_int_eq(vpwr_cpuset_next(&s, 2), 62);
	ck_assert_int_eq(vpwr_cpuset_next(&s, 64), 64);
	ck_assert_int_eq(vpwr_cpuset_next(&s, 65), 127);
	ck_assert_int_eq(vpwr_cpuset_next(&s, 701), 1023);
	ck_assert_int_eq(vpwr_cpuset_next(&s, 1024), -1);
	ck_assert_int_eq(vpwr_cpuset_next(&s, 5000), -1);
}
END_TEST

START_TEST(cpuset_parse_and_format)
{
	struct vpwr_cpuset s;
	char buf[64];

	ck_assert_int_eq(vpwr_cpuset_parse(&s, "0-3,8,10-11"), 0);
	ck_assert_uint_eq(vpwr_cpuset_count(&s), 7);
	ck_assert(vpwr_cpuset_isset(&s, 2) && vpwr_cpuset_isset(&s, 8));
	ck_assert(!vpwr_cpuset_isset(&s, 9));
	ck_assert_int_eq(vpwr_cpuset_format(&s, buf, sizeof(buf)), 11);
	ck_assert_str_eq(buf, "0-3,8,10-11");
	/* Truncated output still says how much it needed. */
	ck_assert_int_eq(vpwr_cpuset_format(&s, buf, 4), 11);
	ck_assert_uint_lt(strlen(buf), 4);
	ck_assert_int_eq(vpwr_cpuset_parse(&s, "1023"), 0);
	ck_assert_int_eq(vpwr_cpuset_next(&s, 0), 1023);
	ck_assert_int_eq(vpwr_cpuset_parse(&s, ""), 0);
	ck_assert_uint_eq(vpwr_cpuset_count(&s), 0);
	ck_assert_int_eq(vpwr_cpuset_format(&s, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "");
	static const char *bad[] = { "1024", "3-1", "a", "1,", "-1", "1-",
				     "1 2", "0x1", "99999999999999999999" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(vpwr_cpuset_parse(&s, bad[i]) == -EINVAL,
			      "accepted '%s'", bad[i]);
	ck_assert_int_eq(vpwr_cpuset_parse(NULL, "1"), -EINVAL);
	ck_assert_int_eq(vpwr_cpuset_parse(&s, NULL), -EINVAL);
}
END_TEST

/* vpwr_cpuset_next() goes a word at a time: it must agree with a walk bit
 * by bit from every start, across word boundaries and at both ends. */
START_TEST(cpuset_next_every_start)
{
	static const char *sets[] = { "", "0", "63", "64", "0,63-64,127,128",
				      "5,200-260,1000,1023", "0-1023" };
	struct vpwr_cpuset s;

	for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
		ck_assert_int_eq(vpwr_cpuset_parse(&s, sets[i]), 0);
		for (unsigned from = 0; from <= VPWR_MAX_CPUS + 1; from++) {
			int want = -1;

			for (unsigned c = from; c < VPWR_MAX_CPUS; c++)
				if (vpwr_cpuset_isset(&s, c)) {
					want = (int)c;
					break;
				}
			ck_assert_msg(vpwr_cpuset_next(&s, from) == want,
				      "set \"%s\" from %u: %d, want %d",
				      sets[i], from, vpwr_cpuset_next(&s, from),
				      want);
		}
	}
}
END_TEST

START_TEST(opts_load_old_new_and_unknown)
{
	struct { size_t sz; int a; int c; } mine;
	struct { size_t sz; } older = { sizeof(older) };

	ck_assert_int_eq(VPWR_OPTS_LOAD(&mine, NULL), 0);
	ck_assert_uint_eq(mine.sz, sizeof(mine));
	ck_assert_int_eq(mine.a, 0);
	/* An older, shorter struct: the rest reads as zero. */
	mine.a = 9;
	ck_assert_int_eq(VPWR_OPTS_LOAD(&mine, &older), 0);
	ck_assert_int_eq(mine.a, 0);
	/* sz too small to be an options struct. */
	struct { size_t sz; } tiny = { 3 };
	ck_assert_int_eq(VPWR_OPTS_LOAD(&mine, &tiny), -EINVAL);
	/* A longer struct whose tail is zero is fine; non-zero is refused. */
	struct { size_t sz; int a; int c; int extra; } longer;

	/* memset, not an initialiser: padding must be zero too. */
	memset(&longer, 0, sizeof(longer));
	longer.sz = sizeof(longer);
	longer.a = 7;
	ck_assert_int_eq(VPWR_OPTS_LOAD(&mine, &longer), 0);
	ck_assert_int_eq(mine.a, 7);
	longer.extra = 1;
	ck_assert_int_eq(VPWR_OPTS_LOAD(&mine, &longer), -EINVAL);
}
END_TEST

static char last_log[512];
static int log_calls;

static void capture(enum vpwr_log_level level, const char *msg, void *ud)
{
	(void)level;
	ck_assert_ptr_eq(ud, &log_calls);
	snprintf(last_log, sizeof(last_log), "%s", msg);
	log_calls++;
}

START_TEST(logging_respects_level_and_userdata)
{
	struct vpwr_logger l;

	vpwr_logger_init(&l, capture, &log_calls, 0);
	log_calls = 0;
	log_warn(&l, "cpu %d is %s", 3, "hot");
	ck_assert_int_eq(log_calls, 1);
	ck_assert_str_eq(last_log, "cpu 3 is hot");
	log_info(&l, "not shown at the default level");
	ck_assert_int_eq(log_calls, 1);
	vpwr_logger_init(&l, capture, &log_calls, VPWR_LOG_DEBUG);
	log_debug(&l, "shown");
	ck_assert_int_eq(log_calls, 2);
	vpwr_logger_init(&l, NULL, NULL, VPWR_LOG_DEBUG);
	log_err(&l, "dropped without a callback");
	ck_assert_int_eq(log_calls, 2);
}
END_TEST

START_TEST(msg_format_is_readable)
{
	struct vpwr_msg m, r;
	char buf[256];
	int n;

	vpwr_msg_init(&m, VPWR_MSG_SCALE, 3, 1);
	m.u.scale.op = VPWR_SCALE_MAX;
	n = vpwr_msg_format(&m, buf, sizeof(buf));
	ck_assert_str_eq(buf, "scale seq=3 vcpu=1 op=max");
	ck_assert_int_eq(n, (int)strlen(buf));
	vpwr_msg_reply(&r, &m, -VPWR_E_VCPU_RANGE, "vCPU %u is not yours", 1u);
	vpwr_msg_format(&r, buf, sizeof(buf));
	ck_assert_str_eq(buf, "reply scale seq=3 vcpu=1 status=-4004 "
			      "reason=\"vCPU 1 is not yours\"");
	/* Truncation keeps a terminated string and reports the full need. */
	ck_assert_int_eq(vpwr_msg_format(&m, buf, 5), n);
	ck_assert_str_eq(buf, "scal");
	ck_assert_int_eq(vpwr_msg_format(&m, NULL, 0), n);
	ck_assert_int_eq(vpwr_msg_format(NULL, buf, 5), -EINVAL);
}
END_TEST

static Suite *util_suite(void)
{
	Suite *s = suite_create("util");
	TCase *tc = tcase_create("util");

	tcase_add_test(tc, strerror_covers_library_codes_and_errno);
	tcase_add_test(tc, version_matches_header);
	tcase_add_test(tc, cpuset_next_walks_every_set_cpu);
	tcase_add_test(tc, cpuset_parse_and_format);
	tcase_add_test(tc, cpuset_next_every_start);
	tcase_add_test(tc, opts_load_old_new_and_unknown);
	tcase_add_test(tc, logging_respects_level_and_userdata);
	tcase_add_test(tc, msg_format_is_readable);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(util_suite());
}
