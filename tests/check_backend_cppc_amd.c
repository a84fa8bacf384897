/*
 * The CPPC drivers against the fake kernel: cppc_cpufreq and amd-pstate
 * (continuous range: no CAP_TABLE, a 100 MHz grid for callers that step,
 * values written unrounded; boost moving cpuinfo_max_freq between nominal
 * and highest), and amd-pstate-epp (limits and EPP by name only, EBUSY
 * under the performance governor, no scaling_setspeed).
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

static void open_fixture(const char *name)
{
	VPWR_OPTS(vpwr_backend_opts, o, .log_fn = fakesysfs_log_fn,
		  .log_userdata = &lg);

	memset(&lg, 0, sizeof(lg));
	fk = fakesysfs_new(name);
	orig = fakesysfs_snapshot(fk);
	ck_assert_int_eq(fakesysfs_open(fk, name, &o, &b), 0);
}

static void setup_cppc(void)
{
	open_fixture("cppc_cpufreq");
}

static void setup_amd(void)
{
	open_fixture("amd-pstate");
}

static void setup_amd_epp(void)
{
	open_fixture("amd-pstate-epp");
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

static uint32_t cur(unsigned cpu)
{
	uint32_t khz = 0;

	ck_assert_int_eq(vpwr_backend_get_freq(b, cpu, &khz), 0);
	return khz;
}

START_TEST(test_cppc)
{
	uint32_t f[32] = { 0 };

	ck_assert_int_eq(vpwr_backend_caps(b, 0),
			 (VPWR_BACKEND_CAP_SET_FREQ | VPWR_BACKEND_CAP_LIMITS |
			 VPWR_BACKEND_CAP_TURBO) | VPWR_BACKEND_CAP_PER_CPU);
	ck_assert_int_eq(vpwr_backend_caps(b, 2), -ENODEV);
	/* Boost off: 1.0 .. 2.6 GHz (nominal). */
	ck_assert_int_eq(vpwr_backend_get_turbo(b, 0), 0);
	ck_assert_int_eq(vpwr_backend_get_freqs(b, 0, f, 32), 17);
	ck_assert_uint_eq(f[16], 2600000);
	/* Any value within range, unrounded. */
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 2345000), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_setspeed"), "2345000");
	ck_assert_uint_eq(cur(0), 2345000);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 1234000, 2345678), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU1 "scaling_max_freq"), "2345678");
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 1000000, 2700000),
			 -EINVAL);
	/* Boost on: up to 3.05 GHz, the last step uneven. */
	ck_assert_int_eq(vpwr_backend_set_turbo(b, 0, 1), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU1 "cpuinfo_max_freq"), "3050000");
	ck_assert_int_eq(vpwr_backend_get_freqs(b, 0, f, 32), 22);
	ck_assert_uint_eq(f[20], 3000000);
	ck_assert_uint_eq(f[21], 3050000);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 1000000, 3050000), 0);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 3050000), 0);
	ck_assert_uint_eq(cur(0), 3050000);
	ck_assert_uint_eq(fakesysfs_refused(fk), 0);
}
END_TEST

START_TEST(test_amd_passive)
{
	ck_assert_int_eq(vpwr_backend_caps(b, 0),
			 (VPWR_BACKEND_CAP_SET_FREQ | VPWR_BACKEND_CAP_LIMITS |
			 VPWR_BACKEND_CAP_TURBO) | VPWR_BACKEND_CAP_PER_CPU);
	ck_assert_int_eq(vpwr_backend_get_epp(b, 0), -VPWR_E_UNSUPPORTED);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 1000000, 1500000), 0);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 1234567), 0);
	ck_assert_uint_eq(cur(0), 1234567);
	/* Boost off clamps every CPU's max to nominal. */
	ck_assert_int_eq(vpwr_backend_set_turbo(b, 1, 0), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU1 "scaling_max_freq"), "3300000");
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_max_freq"), "1500000");
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 400000, 4000000),
			 -EINVAL);
	ck_assert_uint_eq(fakesysfs_refused(fk), 0);
}
END_TEST

START_TEST(test_amd_epp)
{
	ck_assert_int_eq(vpwr_backend_caps(b, 0),
			 (VPWR_BACKEND_CAP_LIMITS | VPWR_BACKEND_CAP_TURBO |
			 VPWR_BACKEND_CAP_EPP) | VPWR_BACKEND_CAP_PER_CPU);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 2000000),
			 -VPWR_E_UNSUPPORTED);
	ck_assert_int_eq(vpwr_backend_get_epp(b, 0), 128);
	ck_assert_int_eq(vpwr_backend_set_epp(b, 0, 191), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "energy_performance_preference"),
			 "balance_power");
	/* Names only, and no number tried: the nearest name. */
	ck_assert_int_eq(vpwr_backend_set_epp(b, 0, 200), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "energy_performance_preference"),
			 "balance_power");
	ck_assert_int_eq(vpwr_backend_set_epp(b, 0, 240), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "energy_performance_preference"),
			 "power");
	ck_assert_int_eq(vpwr_backend_set_epp(b, 1, 60), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU1 "energy_performance_preference"),
			 "performance");
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 2000000, 3000000), 0);
	ck_assert_uint_eq(cur(1), 2500000); /* the firmware's pick, in range */
	ck_assert_uint_eq(fakesysfs_refused(fk), 0);
}
END_TEST

START_TEST(test_amd_epp_busy)
{
	VPWR_OPTS(vpwr_backend_opts, o, .log_fn = fakesysfs_log_fn,
		  .log_userdata = &lg);

	vpwr_backend_free(b);
	fakesysfs_poke(fk, CPU1 "scaling_governor", "performance");
	fakesysfs_poke(fk, CPU1 "energy_performance_preference", "performance");
	free(orig);
	orig = fakesysfs_snapshot(fk);
	ck_assert_int_eq(fakesysfs_open(fk, "amd-pstate-epp", &o, &b), 0);
	ck_assert_int_eq(vpwr_backend_set_epp(b, 1, 128), -EBUSY);
	ck_assert_ptr_nonnull(strstr(lg.text, "cpu 1: writing "
					      "\"balance_performance\""));
	ck_assert_int_eq(vpwr_backend_get_epp(b, 1), 0);
}
END_TEST

static Suite *cppc_amd_suite(void)
{
	Suite *s = suite_create("backend_cppc_amd");
	TCase *cppc = tcase_create("cppc_cpufreq");
	TCase *amd = tcase_create("amd-pstate");
	TCase *epp = tcase_create("amd-pstate-epp");

	tcase_add_checked_fixture(cppc, setup_cppc, teardown);
	tcase_add_test(cppc, test_cppc);
	suite_add_tcase(s, cppc);
	tcase_add_checked_fixture(amd, setup_amd, teardown);
	tcase_add_test(amd, test_amd_passive);
	suite_add_tcase(s, amd);
	tcase_add_checked_fixture(epp, setup_amd_epp, teardown);
	tcase_add_test(epp, test_amd_epp);
	tcase_add_test(epp, test_amd_epp_busy);
	suite_add_tcase(s, epp);
	return s;
}

int main(void)
{
	return vpwr_test_run(cppc_amd_suite());
}
