/*
 * intel_pstate against the fake kernel: active mode ("intel_pstate":
 * limits, no_turbo, EPP names and numbers, EBUSY under the performance
 * governor, the synthesised 100 MHz table), an EPB-only machine whose EPP
 * takes names only, and passive mode ("intel_cpufreq": userspace governor
 * and scaling_setspeed on the grid).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_internal.h"
#include "fakesysfs.c"
#include "libvpwr/backend.h"
#include "testutil.h"

#define CPU0 "cpu0/cpufreq/"
#define CPU1 "cpu1/cpufreq/"

static struct fakesysfs *fk;
static struct fakesysfs_log lg;
static struct vpwr_backend *b;
static char *orig;

static void open_fixture(const char *name, const char *driver)
{
	VPWR_OPTS(vpwr_backend_opts, o, .log_fn = fakesysfs_log_fn,
		  .log_userdata = &lg);

	memset(&lg, 0, sizeof(lg));
	fk = fakesysfs_new(name);
	orig = fakesysfs_snapshot(fk);
	ck_assert_int_eq(fakesysfs_open(fk, driver, &o, &b), 0);
}

/* Open again on the tree as it is now, which teardown expects back. */
static void reopen(const char *driver)
{
	VPWR_OPTS(vpwr_backend_opts, o, .log_fn = fakesysfs_log_fn,
		  .log_userdata = &lg);

	vpwr_backend_free(b);
	free(orig);
	orig = fakesysfs_snapshot(fk);
	ck_assert_int_eq(fakesysfs_open(fk, driver, &o, &b), 0);
}

static void setup_active(void)
{
	open_fixture("intel_pstate", "intel_pstate");
}

static void setup_passive(void)
{
	open_fixture("intel_cpufreq", "intel_cpufreq");
}

/* Every test ends with the backend freed and the tree as it was. */
static void teardown(void)
{
	char *now;

	vpwr_backend_free(b);
	b = NULL;
	now = fakesysfs_snapshot(fk);
	fakesysfs_assert_same(orig, now);
	free(now);
	free(orig);
	fakesysfs_free(fk);
}

static void limits_are(unsigned cpu, uint32_t lo, uint32_t hi)
{
	uint32_t min = 0, max = 0;

	ck_assert_int_eq(vpwr_backend_get_limits(b, cpu, &min, &max), 0);
	ck_assert_uint_eq(min, lo);
	ck_assert_uint_eq(max, hi);
}

START_TEST(test_active_view)
{
	uint32_t f[64] = { 0 };

	ck_assert_int_eq(vpwr_backend_caps(b, 0),
			 (VPWR_BACKEND_CAP_LIMITS | VPWR_BACKEND_CAP_TURBO |
			 VPWR_BACKEND_CAP_EPP | VPWR_BACKEND_CAP_TABLE) | VPWR_BACKEND_CAP_PER_CPU);
	ck_assert_int_eq(vpwr_backend_caps(b, 3), -ENODEV);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 2000000),
			 -VPWR_E_UNSUPPORTED);
	/* 0.4 .. 3.5 GHz in 100 MHz steps. */
	ck_assert_int_eq(vpwr_backend_get_freqs(b, 0, f, 64), 32);
	ck_assert_uint_eq(f[0], 400000);
	ck_assert_uint_eq(f[1], 500000);
	ck_assert_uint_eq(f[31], 3500000);
	ck_assert_int_eq(vpwr_backend_get_freqs(b, 0, NULL, 0), 32);
	ck_assert_int_eq(vpwr_backend_get_turbo(b, 0), 1);
	ck_assert_int_eq(vpwr_backend_get_epp(b, 0), 128);
}
END_TEST

START_TEST(test_active_limits)
{
	uint32_t khz;

	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 2000000, 3000000), 0);
	limits_are(0, 2000000, 3000000);
	ck_assert_int_eq(vpwr_backend_get_freq(b, 0, &khz), 0);
	ck_assert_uint_eq(khz, 2000000); /* powersave's 1.9 GHz, clamped */
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 400000, 800000), 0);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 3500000, 3500000), 0);
	limits_are(0, 3500000, 3500000);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 300000, 3500000),
			 -EINVAL);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 400000, 3600000),
			 -EINVAL);
	ck_assert_uint_eq(fakesysfs_refused(fk), 0);
}
END_TEST

/* no_turbo: 1 means off; cpuinfo_max_freq stays, the limits come down. */
START_TEST(test_no_turbo)
{
	uint32_t f[64];

	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 3000000, 3500000), 0);
	ck_assert_int_eq(vpwr_backend_set_turbo(b, 1, 0), 0);
	ck_assert_str_eq(fakesysfs_get(fk, "intel_pstate/no_turbo"), "1");
	ck_assert_int_eq(vpwr_backend_get_turbo(b, 0), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "cpuinfo_max_freq"), "3500000");
	limits_are(0, 400000, 2800000);
	limits_are(1, 2800000, 2800000);
	ck_assert_int_eq(vpwr_backend_get_freqs(b, 0, f, 64), 25);
	ck_assert_uint_eq(f[24], 2800000); /* base_frequency */
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 400000, 3000000),
			 -EINVAL);
	ck_assert_int_eq(vpwr_backend_set_turbo(b, 1, 1), 0);
	ck_assert_str_eq(fakesysfs_get(fk, "intel_pstate/no_turbo"), "0");
	limits_are(1, 3000000, 3500000); /* the kernel gave them back */
	ck_assert_int_eq(vpwr_backend_get_freqs(b, 0, f, 64), 32);
}
END_TEST

START_TEST(test_epp)
{
	unsigned w;

	ck_assert_int_eq(vpwr_backend_set_epp(b, 0, 192), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "energy_performance_preference"),
			 "balance_power");
	ck_assert_int_eq(vpwr_backend_get_epp(b, 0), 192);
	/* Not a name's value: written as a number. */
	ck_assert_int_eq(vpwr_backend_set_epp(b, 0, 100), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "energy_performance_preference"),
			 "100");
	ck_assert_int_eq(vpwr_backend_get_epp(b, 0), 100);
	w = fakesysfs_writes(fk);
	ck_assert_int_eq(vpwr_backend_set_epp(b, 0, 100), 0);
	ck_assert_uint_eq(fakesysfs_writes(fk), w);
	ck_assert_int_eq(vpwr_backend_set_epp(b, 0, 256), -EINVAL);
	ck_assert_int_eq(vpwr_backend_set_epp(b, 1, 0), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU1 "energy_performance_preference"),
			 "performance");
	ck_assert_uint_eq(fakesysfs_refused(fk), 0);
}
END_TEST

/* Under intel_pstate's performance governor EPP is pinned: EBUSY. */
START_TEST(test_epp_busy)
{
	fakesysfs_poke(fk, CPU1 "scaling_governor", "performance");
	fakesysfs_poke(fk, CPU1 "energy_performance_preference", "performance");
	reopen("intel_pstate"); /* a fresh view of the governor */
	ck_assert_int_eq(vpwr_backend_set_epp(b, 1, 255), -EBUSY);
	ck_assert_ptr_nonnull(strstr(lg.text, "cpu 1: writing \"power\" to "));
	ck_assert_ptr_nonnull(strstr(lg.text, "energy_performance_preference"));
	ck_assert_ptr_nonnull(strstr(lg.text, "performance governor"));
	ck_assert_int_eq(vpwr_backend_get_epp(b, 1), 0);
	ck_assert_int_eq(vpwr_backend_set_epp(b, 1, 0), 0); /* as it is */
	ck_assert_int_eq(vpwr_backend_set_epp(b, 0, 255), 0); /* powersave */
}
END_TEST

/* The fake kernel's intel_pstate rules, written to directly. */
START_TEST(test_fake_kernel_rules)
{
	const char *epp = CPU0 "energy_performance_preference";

	ck_assert_int_eq(fakesysfs_write(fk, "intel_pstate/no_turbo", "x"),
			 -EINVAL);
	ck_assert_int_eq(fakesysfs_write(fk, "intel_pstate/no_turbo", "7"), 0);
	ck_assert_str_eq(fakesysfs_get(fk, "intel_pstate/no_turbo"), "1");
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_max_freq"), "2800000");
	ck_assert_int_eq(fakesysfs_write(fk, CPU0 "scaling_max_freq", "3000000"),
			 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_max_freq"), "2800000");
	ck_assert_int_eq(fakesysfs_write(fk, "intel_pstate/no_turbo", "0"), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_max_freq"), "2800000");
	ck_assert_str_eq(fakesysfs_get(fk, CPU1 "scaling_max_freq"), "3500000");
	ck_assert_int_eq(fakesysfs_write(fk, CPU0 "scaling_setspeed", "1"),
			 -ENOENT);
	ck_assert_int_eq(fakesysfs_write(fk, epp, "fast"), -EINVAL);
	ck_assert_int_eq(fakesysfs_write(fk, epp, "256"), -EINVAL);
	ck_assert_int_eq(fakesysfs_write(fk, epp, "64"), 0);
	ck_assert_int_eq(fakesysfs_write(fk, epp, "default"), 0);
	ck_assert_str_eq(fakesysfs_get(fk, epp), "balance_performance");
	ck_assert_int_eq(fakesysfs_write(fk, epp, "power"), 0);
	ck_assert_int_eq(fakesysfs_write(fk, CPU0 "scaling_governor",
					 "performance"), 0);
	ck_assert_str_eq(fakesysfs_get(fk, epp), "performance");
	ck_assert_int_eq(fakesysfs_write(fk, epp, "balance_power"), -EBUSY);
	ck_assert_int_eq(fakesysfs_write(fk, epp, "performance"), 0);
	ck_assert_int_eq(fakesysfs_write(fk, CPU0 "scaling_governor",
					 "powersave"), 0);
	ck_assert_str_eq(fakesysfs_get(fk, epp), "power");
	/* Put back what teardown expects. */
	ck_assert_int_eq(fakesysfs_write(fk, epp, "balance_performance"), 0);
	ck_assert_int_eq(fakesysfs_write(fk, CPU0 "scaling_max_freq", "3500000"),
			 0);
}
END_TEST

#define MAX_PCT "intel_pstate/max_perf_pct"
#define MIN_PCT "intel_pstate/min_perf_pct"

/*
 * The fake kernel's global percentages, as store_max/min_perf_pct and
 * store_no_turbo treat them: clamped, not refused; no_turbo squashing the
 * min for good.
 */
START_TEST(test_perf_pct_rules)
{
	ck_assert_str_eq(fakesysfs_get(fk, MIN_PCT), "11"); /* 0.4 of 3.5 */
	ck_assert_int_eq(fakesysfs_write(fk, MAX_PCT, "x"), -EINVAL);
	ck_assert_int_eq(fakesysfs_write(fk, MAX_PCT, "150"), 0);
	ck_assert_str_eq(fakesysfs_get(fk, MAX_PCT), "100");
	ck_assert_int_eq(fakesysfs_write(fk, MIN_PCT, "5"), 0);
	ck_assert_str_eq(fakesysfs_get(fk, MIN_PCT), "11");
	ck_assert_int_eq(fakesysfs_write(fk, MAX_PCT, "70"), 0);
	ck_assert_int_eq(fakesysfs_write(fk, MIN_PCT, "90\n"), 0);
	ck_assert_str_eq(fakesysfs_get(fk, MIN_PCT), "70"); /* <= max */
	ck_assert_int_eq(fakesysfs_write(fk, MAX_PCT, "50"), 0);
	ck_assert_str_eq(fakesysfs_get(fk, MAX_PCT), "70"); /* >= min */
	ck_assert_int_eq(fakesysfs_write(fk, MAX_PCT, "100"), 0);
	ck_assert_int_eq(fakesysfs_write(fk, MIN_PCT, "90"), 0);
	ck_assert_int_eq(fakesysfs_write(fk, "intel_pstate/no_turbo", "1"), 0);
	ck_assert_str_eq(fakesysfs_get(fk, MIN_PCT), "80"); /* 2.8 of 3.5 */
	ck_assert_int_eq(fakesysfs_write(fk, "intel_pstate/no_turbo", "0"), 0);
	ck_assert_str_eq(fakesysfs_get(fk, MIN_PCT), "80"); /* not given back */
	ck_assert_int_eq(fakesysfs_write(fk, MIN_PCT, "11"), 0);
}
END_TEST

/*
 * Turning turbo off lowered min_perf_pct for good: restoring puts it back
 * with no_turbo (teardown compares every file with the original).
 */
START_TEST(test_perf_pct_restored)
{
	ck_assert_int_eq(fakesysfs_write(fk, MIN_PCT, "90"), 0);
	reopen("intel_pstate");
	ck_assert_int_eq(vpwr_backend_set_turbo(b, 1, 0), 0);
	ck_assert_str_eq(fakesysfs_get(fk, MIN_PCT), "80");
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 2000000, 2800000), 0);
	ck_assert_int_eq(vpwr_backend_restore(b, 1), 0);
	ck_assert_str_eq(fakesysfs_get(fk, "intel_pstate/no_turbo"), "0");
	ck_assert_str_eq(fakesysfs_get(fk, MIN_PCT), "90");
	ck_assert_uint_eq(fakesysfs_refused(fk), 0);
}
END_TEST

/*
 * The backend leaves the global percentages alone; in active mode they
 * bound what the CPU runs at, the policy's min winning over the global
 * max, which get_freq shows.
 */
START_TEST(test_perf_pct_cap)
{
	uint32_t khz;

	ck_assert_int_eq(fakesysfs_write(fk, MAX_PCT, "50"), 0);
	ck_assert_int_eq(vpwr_backend_get_freq(b, 0, &khz), 0);
	ck_assert_uint_eq(khz, 1800000); /* powersave's 1.9 GHz, capped */
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 3000000, 3500000), 0);
	ck_assert_int_eq(vpwr_backend_get_freq(b, 0, &khz), 0);
	ck_assert_uint_eq(khz, 3000000);
	limits_are(0, 3000000, 3500000);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 400000, 1000000), 0);
	ck_assert_int_eq(fakesysfs_write(fk, MIN_PCT, "40"), 0);
	ck_assert_int_eq(vpwr_backend_get_freq(b, 0, &khz), 0);
	ck_assert_uint_eq(khz, 1000000); /* the policy's max over the min */
	vpwr_backend_free(b);
	b = NULL;
	ck_assert_str_eq(fakesysfs_get(fk, MAX_PCT), "50");
	ck_assert_str_eq(fakesysfs_get(fk, MIN_PCT), "40");
	ck_assert_uint_eq(fakesysfs_refused(fk), 0);
	/* Put back what teardown expects. */
	ck_assert_int_eq(fakesysfs_write(fk, MIN_PCT, "11"), 0);
	ck_assert_int_eq(fakesysfs_write(fk, MAX_PCT, "100"), 0);
}
END_TEST

static void setup_epb(void)
{
	open_fixture("intel_pstate-epb", "intel_pstate");
}

/* Without the EPP feature numbers are refused; names are used instead. */
START_TEST(test_epp_names_only)
{
	ck_assert_int_eq(vpwr_backend_set_epp(b, 0, 230), 0);
	ck_assert_uint_eq(fakesysfs_refused(fk), 1); /* "230", once */
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "energy_performance_preference"),
			 "power");
	ck_assert_int_eq(vpwr_backend_set_epp(b, 0, 100), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "energy_performance_preference"),
			 "balance_performance");
	ck_assert_int_eq(vpwr_backend_set_epp(b, 0, 170), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "energy_performance_preference"),
			 "balance_power");
	ck_assert_uint_eq(fakesysfs_refused(fk), 1);
	ck_assert_int_eq(vpwr_backend_get_epp(b, 0), 192);
}
END_TEST

START_TEST(test_passive)
{
	uint32_t khz;

	ck_assert_int_eq(vpwr_backend_caps(b, 0),
			 (VPWR_BACKEND_CAP_SET_FREQ | VPWR_BACKEND_CAP_LIMITS |
			 VPWR_BACKEND_CAP_TURBO | VPWR_BACKEND_CAP_EPP |
			 VPWR_BACKEND_CAP_TABLE) | VPWR_BACKEND_CAP_PER_CPU);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 2150000), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_governor"), "userspace");
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_setspeed"), "2100000");
	ck_assert_int_eq(vpwr_backend_get_freq(b, 0, &khz), 0);
	ck_assert_uint_eq(khz, 2100000);
	ck_assert_int_eq(vpwr_backend_set_turbo(b, 0, 0), 0);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 3000000),
			 -VPWR_E_BAD_FREQ);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 1, 2800000), 0);
	ck_assert_int_eq(vpwr_backend_set_epp(b, 1, 255), 0);
	ck_assert_uint_eq(fakesysfs_refused(fk), 0);
}
END_TEST

static Suite *intel_suite(void)
{
	Suite *s = suite_create("backend_intel");
	TCase *act = tcase_create("intel_pstate");
	TCase *epb = tcase_create("intel_pstate-epb");
	TCase *pas = tcase_create("intel_cpufreq");

	tcase_add_checked_fixture(act, setup_active, teardown);
	tcase_add_test(act, test_active_view);
	tcase_add_test(act, test_active_limits);
	tcase_add_test(act, test_no_turbo);
	tcase_add_test(act, test_epp);
	tcase_add_test(act, test_epp_busy);
	tcase_add_test(act, test_fake_kernel_rules);
	tcase_add_test(act, test_perf_pct_rules);
	tcase_add_test(act, test_perf_pct_restored);
	tcase_add_test(act, test_perf_pct_cap);
	suite_add_tcase(s, act);
	tcase_add_checked_fixture(epb, setup_epb, teardown);
	tcase_add_test(epb, test_epp_names_only);
	suite_add_tcase(s, epb);
	tcase_add_checked_fixture(pas, setup_passive, teardown);
	tcase_add_test(pas, test_passive);
	suite_add_tcase(s, pas);
	return s;
}

int main(void)
{
	return vpwr_test_run(intel_suite());
}
