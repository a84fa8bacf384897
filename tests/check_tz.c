/*
 * Time zones of TIME policies: fixed offsets, the process's local time,
 * and IANA zones read from TZif files, checked against glibc (the test may
 * set TZ; the library never does) and against hand-made TZif files.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "testutil.h"
#include "tz.h"

/* 2024-01-01T00:00:00Z */
#define T2024 1704067200LL

static struct vpwr_tz *open_ok(const char *spec, const char *dir)
{
	struct vpwr_tz *tz = NULL;

	ck_assert_msg(vpwr_tz_open(spec, dir, &tz) == 0, "open %s", spec);
	ck_assert_ptr_nonnull(tz);
	return tz;
}

static int hour_at(const struct vpwr_tz *tz, int64_t t, int64_t *next)
{
	int64_t n;
	int hour;

	ck_assert_int_eq(vpwr_tz_hour(tz, t, &hour, next ? next : &n), 0);
	return hour;
}

START_TEST(utc_and_midnight)
{
	struct vpwr_tz *tz = open_ok("UTC", NULL);
	int64_t next;

	ck_assert_str_eq(vpwr_tz_name(tz), "UTC");
	ck_assert_int_eq(hour_at(tz, T2024, &next), 0);
	ck_assert_int_eq(next, T2024 + 3600);
	/* The last second of a day, then midnight. */
	ck_assert_int_eq(hour_at(tz, T2024 - 1, &next), 23);
	ck_assert_int_eq(next, T2024);
	ck_assert_int_eq(hour_at(tz, T2024 + 13 * 3600 + 1799, &next), 13);
	ck_assert_int_eq(next, T2024 + 14 * 3600);
	/* Before 1970 too. */
	ck_assert_int_eq(hour_at(tz, -1, &next), 23);
	ck_assert_int_eq(next, 0);
	vpwr_tz_free(tz);
}
END_TEST

START_TEST(fixed_offsets)
{
	static const struct {
		const char *spec;
		int32_t off;
	} ok[] = {
		{ "+05:30", 19800 }, { "-08:00", -28800 }, { "+0545", 20700 },
		{ "-03", -10800 },   { "Z", 0 },           { "GMT", 0 },
		{ "+14:00", 50400 }, { "-00:30", -1800 },
	};
	static const char *const bad[] = { "+5:30", "+24:00", "+05:60", "+05:3",
					   "05:30", "+05:30x", "", "+",
					   "../etc/passwd", "/etc/localtime",
					   "No/Such_Zone", "Europe/../Berlin" };
	struct vpwr_tz *tz;

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		tz = open_ok(ok[i].spec, NULL);
		for (int64_t t = T2024 - 86400; t < T2024 + 86400; t += 599) {
			int64_t local = t + ok[i].off, next;
			int h = hour_at(tz, t, &next);

			ck_assert_int_eq(h, (int)((local % 86400 + 86400) % 86400 / 3600));
			ck_assert_int_eq((next + ok[i].off) % 3600, 0);
			ck_assert_int_gt(next, t);
			ck_assert_int_le(next, t + 3600);
		}
		vpwr_tz_free(tz);
	}
	tz = open_ok("+05:30", NULL);
	/* 2024-01-01T00:00Z is 05:30 in India: hour 5 until 00:30Z. */
	ck_assert_int_eq(hour_at(tz, T2024, NULL), 5);
	ck_assert_int_eq(hour_at(tz, T2024 + 1799, NULL), 5);
	ck_assert_int_eq(hour_at(tz, T2024 + 1800, NULL), 6);
	/* Local midnight is 18:30Z. */
	ck_assert_int_eq(hour_at(tz, T2024 - 5 * 3600 - 1801, NULL), 23);
	ck_assert_int_eq(hour_at(tz, T2024 - 5 * 3600 - 1800, NULL), 0);
	vpwr_tz_free(tz);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		tz = (struct vpwr_tz *)1;
		ck_assert_msg(vpwr_tz_open(bad[i], NULL, &tz) == -EINVAL,
			      "accepted %s", bad[i]);
		ck_assert_ptr_null(tz);
	}
}
END_TEST

static bool have_zoneinfo(void)
{
	return access(VPWR_TZ_ZONEINFO "/Europe/Berlin", R_OK) == 0;
}

/* glibc's hour for `t` under TZ=spec (the test process may set TZ). */
static int glibc_hour(int64_t t)
{
	time_t tt = (time_t)t;
	struct tm tm;

	ck_assert_ptr_nonnull(localtime_r(&tt, &tm));
	return tm.tm_hour;
}

/*
 * Our hour against glibc's at pseudo-random instants from `from` to 2105
 * (the same every run), and each "next" against glibc's hour a second
 * before it.  Counted, then asserted once: check's assertions cost a
 * write to the parent each.
 */
static void compare_with_glibc(const char *spec, const char *dir,
			       const char *tzenv, int64_t from)
{
	struct vpwr_tz *tz = open_ok(spec, dir);
	uint64_t x = 88172645463325252ull;
	int64_t span = 4291747200LL - from, bad_t = 0;
	int bad = 0;

	setenv("TZ", tzenv, 1);
	tzset();
	for (int i = 0; i < 5000; i++) {
		int64_t t, next;
		int h;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		t = from + (int64_t)(x % (uint64_t)span);
		if (vpwr_tz_hour(tz, t, &h, &next) < 0 || h != glibc_hour(t) ||
		    next <= t || next > t + 3600 || glibc_hour(next - 1) != h) {
			bad++;
			bad_t = t;
		}
	}
	unsetenv("TZ");
	tzset();
	vpwr_tz_free(tz);
	ck_assert_msg(!bad, "%s: %d instants differ from glibc, e.g. %lld",
		      spec, bad, (long long)bad_t);
}

START_TEST(iana_zones_match_glibc)
{
	static const char *const zones[] = {
		"Europe/Berlin",      "America/New_York", "Australia/Lord_Howe",
		"Asia/Kolkata",       "America/Santiago", "Africa/Casablanca",
		"Europe/Dublin",      "Pacific/Chatham",  "Asia/Kathmandu",
		"Antarctica/Troll",   "America/St_Johns", "UTC",
	};

	if (!have_zoneinfo())
		return; /* no tzdata on this machine */
	for (size_t i = 0; i < sizeof(zones) / sizeof(zones[0]); i++)
		compare_with_glibc(zones[i], NULL, zones[i], -2170000000LL);
}
END_TEST

START_TEST(dst_transitions)
{
	struct vpwr_tz *tz;
	int64_t next, spring = 1711846800LL, fall = 1729990800LL;

	if (!have_zoneinfo())
		return;
	tz = open_ok("Europe/Berlin", NULL);
	/* 2024-03-31 01:00Z: 02:00 CET becomes 03:00 CEST; hour 2 never
	 * happens. */
	ck_assert_int_eq(hour_at(tz, spring - 1, &next), 1);
	ck_assert_int_eq(next, spring);
	ck_assert_int_eq(hour_at(tz, spring, &next), 3);
	ck_assert_int_eq(next, spring + 3600);
	/* 2024-10-27 01:00Z: 03:00 CEST becomes 02:00 CET; hour 2 twice. */
	ck_assert_int_eq(hour_at(tz, fall - 1, &next), 2);
	ck_assert_int_eq(next, fall);
	ck_assert_int_eq(hour_at(tz, fall, &next), 2);
	ck_assert_int_eq(next, fall + 3600);
	vpwr_tz_free(tz);
	/* Lord Howe moves by 30 minutes: 2024-04-07 02:00 local (+11)
	 * becomes 01:30 (+10:30), and the boundaries move to :30Z. */
	tz = open_ok("Australia/Lord_Howe", NULL);
	ck_assert_int_eq(hour_at(tz, 1712415600LL - 1, &next), 1);
	ck_assert_int_eq(next, 1712415600LL);
	ck_assert_int_eq(hour_at(tz, 1712415600LL, &next), 1);
	ck_assert_int_eq(next, 1712415600LL + 1800);
	vpwr_tz_free(tz);
}
END_TEST

/* glibc applies a POSIX rule to years before 1970 as if they were 1970. */
#define GLIBC_RULES_FROM 31536000LL

/* A TZif v2 file with no transitions: one type and a footer. */
static size_t make_tzif(uint8_t *buf, int32_t utoff, const char *footer)
{
	size_t n = 0;

	for (int block = 0; block < 2; block++) {
		static const uint32_t counts[6] = { 0, 0, 0, 0, 1, 4 };

		memcpy(buf + n, "TZif2", 5);
		memset(buf + n + 5, 0, 15);
		n += 20;
		for (int i = 0; i < 6; i++, n += 4) {
			buf[n] = (uint8_t)(counts[i] >> 24);
			buf[n + 1] = (uint8_t)(counts[i] >> 16);
			buf[n + 2] = (uint8_t)(counts[i] >> 8);
			buf[n + 3] = (uint8_t)counts[i];
		}
		buf[n++] = (uint8_t)((uint32_t)utoff >> 24);
		buf[n++] = (uint8_t)((uint32_t)utoff >> 16);
		buf[n++] = (uint8_t)((uint32_t)utoff >> 8);
		buf[n++] = (uint8_t)utoff;
		buf[n++] = 0; /* isdst */
		buf[n++] = 0; /* abbreviation index */
		memcpy(buf + n, "XST", 4);
		n += 4;
	}
	n += (size_t)sprintf((char *)buf + n, "\n%s\n", footer);
	return n;
}

static void write_bytes(const char *dir, const char *name, const uint8_t *b,
			size_t n)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(b, 1, n, f), n);
	fclose(f);
}

START_TEST(tzif_footer_rules)
{
	char *dir = vpwr_test_tmpdir();
	uint8_t buf[512];
	struct vpwr_tz *tz;
	size_t n;

	/* Rules beyond the table: US, southern hemisphere, Julian days,
	 * hours past 24 and negative, a fixed footer. */
	n = make_tzif(buf, -18000, "EST5EDT,M3.2.0,M11.1.0");
	write_bytes(dir, "us", buf, n);
	compare_with_glibc("us", dir, "EST5EDT,M3.2.0,M11.1.0",
			   GLIBC_RULES_FROM);
	n = make_tzif(buf, -10800, "<-03>3<-02>,M9.1.6/24,M4.1.6/24");
	write_bytes(dir, "south", buf, n);
	compare_with_glibc("south", dir, "<-03>3<-02>,M9.1.6/24,M4.1.6/24",
			   GLIBC_RULES_FROM);
	n = make_tzif(buf, 7200, "XST-2XDT,J60/-1,300/26:30");
	write_bytes(dir, "julian", buf, n);
	compare_with_glibc("julian", dir, "XST-2XDT,J60/-1,300/26:30",
			   GLIBC_RULES_FROM);
	n = make_tzif(buf, 20700, "<+0545>-5:45");
	write_bytes(dir, "fixed", buf, n);
	compare_with_glibc("fixed", dir, "<+0545>-5:45",
			   GLIBC_RULES_FROM);

	/* Broken files are refused. */
	n = make_tzif(buf, 0, "EST5EDT,M3.2.0");
	write_bytes(dir, "badrule", buf, n);
	write_bytes(dir, "short", buf, 30);
	buf[0] = 'X';
	write_bytes(dir, "magic", buf, 64);
	tz = (struct vpwr_tz *)1;
	ck_assert_int_eq(vpwr_tz_open("badrule", dir, &tz), -EINVAL);
	ck_assert_ptr_null(tz);
	ck_assert_int_eq(vpwr_tz_open("short", dir, &tz), -EINVAL);
	ck_assert_int_eq(vpwr_tz_open("magic", dir, &tz), -EINVAL);
	ck_assert_int_eq(vpwr_tz_open("missing", dir, &tz), -EINVAL);
	/* Leap-second zones are refused rather than read 27 s off. */
	if (access(VPWR_TZ_ZONEINFO "/right/UTC", R_OK) == 0)
		ck_assert_int_eq(vpwr_tz_open("right/UTC", NULL, &tz), -EINVAL);
	vpwr_test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(local_time_reads_tz_without_setting_it)
{
	struct vpwr_tz *tz;

	setenv("TZ", "<+0530>-5:30", 1);
	tzset();
	tz = open_ok(NULL, NULL);
	ck_assert_str_eq(vpwr_tz_name(tz), "local");
	ck_assert_int_eq(hour_at(tz, T2024, NULL), 5);
	ck_assert_int_eq(hour_at(tz, T2024 + 1800, NULL), 6);
	vpwr_tz_free(tz);
	tz = open_ok("local", NULL);
	ck_assert_int_eq(hour_at(tz, T2024 - 1, NULL), 5);
	vpwr_tz_free(tz);
	/* The library left TZ as the test set it. */
	ck_assert_str_eq(getenv("TZ"), "<+0530>-5:30");
	unsetenv("TZ");
	tzset();
}
END_TEST

START_TEST(out_of_range_instants)
{
	struct vpwr_tz *tz = open_ok("UTC", NULL);
	int64_t next;
	int hour;

	ck_assert_int_eq(vpwr_tz_hour(tz, INT64_MAX, &hour, &next), -EOVERFLOW);
	ck_assert_int_eq(vpwr_tz_hour(tz, INT64_MIN, &hour, &next), -EOVERFLOW);
	vpwr_tz_free(tz);
}
END_TEST

static Suite *tz_suite(void)
{
	Suite *s = suite_create("tz");
	TCase *tc = tcase_create("tz");

	tcase_add_test(tc, utc_and_midnight);
	tcase_add_test(tc, fixed_offsets);
	tcase_add_test(tc, iana_zones_match_glibc);
	tcase_add_test(tc, dst_transitions);
	tcase_add_test(tc, tzif_footer_rules);
	tcase_add_test(tc, local_time_reads_tz_without_setting_it);
	tcase_add_test(tc, out_of_range_instants);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(tz_suite());
}
