/*
 * The acpi-cpufreq backend against the fake kernel (fakesysfs.c): the
 * userspace governor and scaling_setspeed, the table, limits written in an
 * order the kernel accepts, boost, the kernel's refusals coming back with
 * the CPU and file named, offline CPUs, restore, kept-open files; and once
 * with real system calls on a plain generated tree.
 */
#include <dirent.h>
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
#define ALL_CAPS                                                               \
	(VPWR_BACKEND_CAP_SET_FREQ | VPWR_BACKEND_CAP_LIMITS |                 \
	 VPWR_BACKEND_CAP_TURBO | VPWR_BACKEND_CAP_TABLE)

static struct fakesysfs *fk;
static struct fakesysfs_log lg;
static struct vpwr_backend *b;

static void setup(void)
{
	VPWR_OPTS(vpwr_backend_opts, o, .log_fn = fakesysfs_log_fn,
		  .log_userdata = &lg);

	memset(&lg, 0, sizeof(lg));
	fk = fakesysfs_new("acpi-cpufreq");
	ck_assert_int_eq(fakesysfs_open(fk, "acpi-cpufreq", &o, &b), 0);
}

static void teardown(void)
{
	vpwr_backend_free(b);
	b = NULL;
	fakesysfs_free(fk);
}

static uint32_t cur(unsigned cpu)
{
	uint32_t khz = 0;

	ck_assert_int_eq(vpwr_backend_get_freq(b, cpu, &khz), 0);
	return khz;
}

static void limits_are(unsigned cpu, uint32_t lo, uint32_t hi)
{
	uint32_t min = 0, max = 0;

	ck_assert_int_eq(vpwr_backend_get_limits(b, cpu, &min, &max), 0);
	ck_assert_uint_eq(min, lo);
	ck_assert_uint_eq(max, hi);
}

START_TEST(test_view)
{
	static const uint32_t want[] = { 800000, 1200000, 1600000, 2000000,
					 2400000, 2401000 };
	uint32_t f[8] = { 0 };

	ck_assert_str_eq(vpwr_backend_name(b), "acpi-cpufreq");
	ck_assert_int_eq(vpwr_backend_nr_cpus(b), 4);
	ck_assert_int_eq(vpwr_backend_caps(b, 0), (ALL_CAPS) | VPWR_BACKEND_CAP_PER_CPU);
	ck_assert_int_eq(vpwr_backend_caps(b, 3), -ENODEV); /* offline */
	ck_assert_int_eq(vpwr_backend_get_freqs(b, 0, f, 8), 6);
	ck_assert_mem_eq(f, want, sizeof(want)); /* ascending, from "... \n" */
	ck_assert_int_eq(vpwr_backend_get_freqs(b, 0, NULL, 0), 6);
	ck_assert_uint_eq(cur(0), 1600000);
	limits_are(1, 800000, 2401000);
	ck_assert_int_eq(vpwr_backend_get_turbo(b, 0), 1);
	ck_assert_int_eq(vpwr_backend_get_epp(b, 0), -VPWR_E_UNSUPPORTED);
	ck_assert_int_eq(vpwr_backend_get_freq(b, 3, f), -ENODEV);
	/* Opening and looking wrote nothing. */
	ck_assert_uint_eq(fakesysfs_writes(fk) + fakesysfs_refused(fk), 0);
}
END_TEST

START_TEST(test_set_freq)
{
	unsigned w;

	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 2000000), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_governor"), "userspace");
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_setspeed"), "2000000");
	ck_assert_uint_eq(cur(0), 2000000);
	/* Between entries: rounded down. */
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 1999999), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_setspeed"), "1600000");
	/* The same again: nothing written. */
	w = fakesysfs_writes(fk);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 1600000), 0);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 1700000), 0);
	ck_assert_uint_eq(fakesysfs_writes(fk), w);
	/* Outside the limits: refused before the kernel sees it. */
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 800000, 2000000), 0);
	w = fakesysfs_writes(fk);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 2400000),
			 -VPWR_E_BAD_FREQ);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 700000), -VPWR_E_BAD_FREQ);
	ck_assert_uint_eq(fakesysfs_writes(fk), w);
	ck_assert_uint_eq(fakesysfs_refused(fk), 0);
	/* Other CPUs untouched. */
	ck_assert_str_eq(fakesysfs_get(fk, CPU1 "scaling_governor"), "ondemand");
}
END_TEST

/* Each move would be refused by the kernel if min and max were written in
 * the wrong order. */
START_TEST(test_limits_order)
{
	unsigned w;

	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 2000000, 2400000), 0);
	limits_are(1, 2000000, 2400000);
	ck_assert_uint_eq(cur(1), 2000000); /* ondemand's 1.6 GHz clamped up */
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 800000, 1200000), 0);
	limits_are(1, 800000, 1200000);
	ck_assert_uint_eq(cur(1), 1200000);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 2000000, 2401000), 0);
	limits_are(1, 2000000, 2401000);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 1200000, 1200000), 0);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 2400000, 2400000), 0);
	limits_are(1, 2400000, 2400000);
	ck_assert_uint_eq(fakesysfs_refused(fk), 0);
	/* Unchanged, outside the hardware, or holding no table entry: no
	 * write. */
	w = fakesysfs_writes(fk);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 2400000, 2400000), 0);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 700000, 2400000),
			 -EINVAL);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 800000, 2500000),
			 -EINVAL);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 2100000, 2300000),
			 -EINVAL);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 2000000, 1900000),
			 -EINVAL);
	ck_assert_uint_eq(fakesysfs_writes(fk), w);
}
END_TEST

/* What the host engine does: set_limits, then set_freq. */
START_TEST(test_arbiter_sequence)
{
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 1600000, 1600000), 0);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 1600000), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_governor"), "userspace");
	ck_assert_uint_eq(cur(0), 1600000);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 2401000, 2401000), 0);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 2401000), 0);
	ck_assert_uint_eq(cur(0), 2401000);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 800000, 1200000), 0);
	ck_assert_uint_eq(cur(0), 1200000); /* the kernel clamped it */
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 800000), 0);
	ck_assert_uint_eq(cur(0), 800000);
	ck_assert_uint_eq(fakesysfs_refused(fk), 0);
}
END_TEST

START_TEST(test_boost)
{
	uint32_t f[8];

	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 2401000), 0);
	ck_assert_int_eq(vpwr_backend_set_turbo(b, 0, 0), 0);
	ck_assert_str_eq(fakesysfs_get(fk, "cpufreq/boost"), "0");
	ck_assert_int_eq(vpwr_backend_get_turbo(b, 1), 0); /* machine-wide */
	ck_assert_int_eq(vpwr_backend_get_freqs(b, 0, f, 8), 5);
	ck_assert_uint_eq(f[4], 2400000);
	limits_are(1, 800000, 2400000);
	ck_assert_uint_eq(cur(0), 2400000);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 800000, 2401000),
			 -EINVAL);
	ck_assert_int_eq(vpwr_backend_set_turbo(b, 0, 1), 0);
	ck_assert_int_eq(vpwr_backend_get_freqs(b, 0, f, 8), 6);
	ck_assert_int_eq(vpwr_backend_set_turbo(b, 0, 2), -EINVAL);
}
END_TEST

START_TEST(test_kernel_refusals)
{
	/* A refusal comes back as the kernel's errno, CPU and file named. */
	fakesysfs_fail_next(fk, CPU0 "scaling_setspeed", EBUSY);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 2000000), -EBUSY);
	ck_assert_ptr_nonnull(strstr(lg.text, "cpu 0: writing \"2000000\" to "));
	ck_assert_ptr_nonnull(strstr(lg.text, "/devices/system/cpu/cpu0/"
					      "cpufreq/scaling_setspeed"));
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 2000000), 0);
	fakesysfs_fail_next(fk, CPU1 "scaling_max_freq", EACCES);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 800000, 1200000),
			 -EACCES);
	ck_assert_ptr_nonnull(strstr(lg.text, "cpu1/cpufreq/scaling_max_freq"));
	/* Someone else switched the governor: the kernel refuses setspeed,
	 * the backend looks again, and the next call puts userspace back. */
	fakesysfs_poke(fk, CPU0 "scaling_governor", "ondemand");
	fakesysfs_poke(fk, CPU0 "scaling_setspeed", "<unsupported>");
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 1200000), -EINVAL);
	ck_assert_ptr_nonnull(strstr(fakesysfs_last_refusal(fk),
				     "scaling_setspeed=1200000"));
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 1200000), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_governor"), "userspace");
	ck_assert_uint_eq(cur(0), 1200000);
}
END_TEST

START_TEST(test_offline)
{
	ck_assert_int_eq(vpwr_backend_set_freq(b, 2, 2000000), 0);
	fakesysfs_set_online(fk, 2, false);
	memset(&lg, 0, sizeof(lg));
	ck_assert_int_eq(vpwr_backend_set_freq(b, 2, 1200000), -ENODEV);
	ck_assert_ptr_nonnull(strstr(lg.text, "cpu 2 is offline"));
	ck_assert_int_eq(vpwr_backend_caps(b, 2), -ENODEV);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 2, 800000, 1200000),
			 -ENODEV);
	ck_assert_int_eq(vpwr_backend_caps(b, 0), (ALL_CAPS) | VPWR_BACKEND_CAP_PER_CPU);
	fakesysfs_set_online(fk, 2, true);
	ck_assert_int_eq(vpwr_backend_caps(b, 2), (ALL_CAPS) | VPWR_BACKEND_CAP_PER_CPU);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 2, 1200000), 0);
	ck_assert_uint_eq(cur(2), 1200000);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 3, 1200000), -ENODEV);
}
END_TEST

START_TEST(test_restore)
{
	char *orig = fakesysfs_snapshot(fk), *now;

	ck_assert_int_eq(vpwr_backend_restore(b, 0), 0); /* nothing to do */
	ck_assert_uint_eq(fakesysfs_write_opens(fk), 0);
	ck_assert_uint_eq(fakesysfs_writes(fk), 0);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 1200000, 2000000), 0);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 2000000), 0);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 2000000, 2401000), 0);
	ck_assert_int_eq(vpwr_backend_restore(b, 0), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_governor"), "ondemand");
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_setspeed"),
			 "<unsupported>");
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_max_freq"), "2401000");
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_min_freq"), "800000");
	ck_assert_str_eq(fakesysfs_get(fk, CPU1 "scaling_min_freq"), "2000000");
	vpwr_backend_free(b);
	b = NULL;
	now = fakesysfs_snapshot(fk);
	fakesysfs_assert_same(orig, now);
	ck_assert_uint_eq(fakesysfs_refused(fk), 0);
	free(orig);
	free(now);
}
END_TEST

/* A CPU found under the userspace governor gets its setspeed back. */
START_TEST(test_restore_setspeed)
{
	VPWR_OPTS(vpwr_backend_opts, o);
	char *orig;

	vpwr_backend_free(b);
	fakesysfs_poke(fk, CPU1 "scaling_governor", "userspace");
	fakesysfs_poke(fk, CPU1 "scaling_setspeed", "1200000");
	fakesysfs_poke(fk, CPU1 "scaling_cur_freq", "1200000");
	orig = fakesysfs_snapshot(fk);
	ck_assert_int_eq(fakesysfs_open(fk, "acpi-cpufreq", &o, &b), 0);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 2000000, 2000000), 0);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 1, 2000000), 0);
	ck_assert_int_eq(vpwr_backend_restore(b, 1), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU1 "scaling_setspeed"), "1200000");
	ck_assert_str_eq(fakesysfs_get(fk, CPU1 "scaling_cur_freq"), "1200000");
	ck_assert_uint_eq(fakesysfs_refused(fk), 0);
	free(orig);
}
END_TEST

/* setspeed and the limits stay open between calls, and are closed. */
START_TEST(test_kept_open)
{
	unsigned h;

	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 2000000), 0);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 1, 2000000), 0);
	h = fakesysfs_handles(fk);
	ck_assert_uint_ge(h, 4);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 1200000), 0);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 1, 1200000), 0);
	ck_assert_uint_eq(fakesysfs_handles(fk), h);
	/* An offline CPU's handles are dropped. */
	fakesysfs_set_online(fk, 1, false);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 1, 1600000), -ENODEV);
	ck_assert_uint_lt(fakesysfs_handles(fk), h);
	fakesysfs_set_online(fk, 1, true);
	vpwr_backend_free(b);
	b = NULL;
	ck_assert_uint_eq(fakesysfs_handles(fk), 0);
}
END_TEST

START_TEST(test_wrong_driver)
{
	VPWR_OPTS(vpwr_backend_opts, o, .log_fn = fakesysfs_log_fn,
		  .log_userdata = &lg);
	struct vpwr_backend *x = (struct vpwr_backend *)&x;

	ck_assert_int_eq(fakesysfs_open(fk, "intel_pstate", &o, &x), -ENODEV);
	ck_assert_ptr_null(x);
	ck_assert_int_eq(fakesysfs_open(fk, "amd-pstate", &o, &x), -ENODEV);
	ck_assert_ptr_nonnull(strstr(lg.text, "amd-pstate not usable"));
}
END_TEST

/* The fake kernel's own rules, written to directly. */
START_TEST(test_fake_kernel_rules)
{
	ck_assert_int_eq(fakesysfs_write(fk, CPU0 "cpuinfo_max_freq", "1"),
			 -EACCES);
	ck_assert_int_eq(fakesysfs_write(fk, CPU0 "scaling_driver", "x"),
			 -EACCES);
	ck_assert_int_eq(fakesysfs_write(fk, "cpu3/cpufreq/scaling_max_freq",
					 "800000"), -ENOENT);
	ck_assert_int_eq(fakesysfs_write(fk, CPU0 "scaling_governor", "turbo"),
			 -EINVAL);
	ck_assert_int_eq(fakesysfs_write(fk, CPU0 "scaling_setspeed", "800000"),
			 -EINVAL); /* ondemand */
	ck_assert_int_eq(fakesysfs_write(fk, CPU0 "scaling_max_freq", "0x10"),
			 -EINVAL);
	ck_assert_int_eq(fakesysfs_write(fk, CPU0 "scaling_min_freq", "2000000"),
			 0);
	ck_assert_int_eq(fakesysfs_write(fk, CPU0 "scaling_max_freq", "1200000"),
			 -EINVAL); /* below min */
	ck_assert_int_eq(fakesysfs_write(fk, CPU0 "scaling_min_freq", "2401001"),
			 -EINVAL); /* above max */
	ck_assert_int_eq(fakesysfs_write(fk, CPU0 "scaling_max_freq", "9999999"),
			 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_max_freq"), "2401000");
	ck_assert_int_eq(fakesysfs_write(fk, CPU0 "scaling_governor",
					 "userspace\n"), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_setspeed"), "2000000");
	ck_assert_int_eq(fakesysfs_write(fk, CPU0 "scaling_setspeed", "2100000"),
			 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_cur_freq"), "2400000");
	/* A frequency outside the limits: the userspace governor clamps it
	 * into them (cpufreq_driver_target), it does not refuse it. */
	ck_assert_int_eq(fakesysfs_write(fk, CPU0 "scaling_setspeed", "800000"),
			 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_cur_freq"), "2000000");
	ck_assert_int_eq(fakesysfs_write(fk, "cpufreq/boost", "2"), -EINVAL);
	ck_assert_int_eq(fakesysfs_write(fk, "cpufreq/boost", "0"), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU1 "cpuinfo_max_freq"), "2400000");
	ck_assert_str_eq(fakesysfs_get(fk, CPU1 "scaling_available_frequencies"),
			 "2400000 2000000 1600000 1200000 800000 ");
	fakesysfs_set_online(fk, 2, false);
	ck_assert_int_eq(fakesysfs_write(fk, "cpu2/cpufreq/scaling_governor",
					 "performance"), -EBUSY);
	ck_assert_int_eq(fakesysfs_write(fk, "cpu2/online", "1"), -EACCES);
	fakesysfs_set_online(fk, 2, true);
}
END_TEST

/* ------------------------------------------- real system calls */

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

START_TEST(test_real_io)
{
	VPWR_OPTS(vpwr_backend_opts, o, .sysfs_root = fakesysfs_root(fk));
	struct vpwr_backend *r;
	int fds;
	uint32_t khz;

	vpwr_backend_free(b);
	b = NULL;
	fds = count_fds();
	ck_assert_int_eq(vpwr_backend_open("acpi-cpufreq", &o, &r), 0);
	ck_assert_int_eq(vpwr_backend_caps(r, 0), (ALL_CAPS) | VPWR_BACKEND_CAP_PER_CPU);
	/* Shorter values over longer ones: no tail of the old ones left,
	 * through kept-open descriptors too. */
	ck_assert_int_eq(vpwr_backend_set_limits(r, 0, 800000, 1200000), 0);
	ck_assert_int_eq(vpwr_backend_set_limits(r, 0, 800000, 2000000), 0);
	ck_assert_int_eq(vpwr_backend_set_limits(r, 0, 800000, 1200000), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_max_freq"), "1200000");
	ck_assert_int_eq(vpwr_backend_set_freq(r, 0, 1200000), 0);
	ck_assert_int_eq(vpwr_backend_set_freq(r, 0, 800000), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_setspeed"), "800000");
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_governor"), "userspace");
	ck_assert_int_eq(vpwr_backend_get_freq(r, 0, &khz), 0);
	ck_assert_uint_eq(khz, 1600000); /* no kernel behind a plain tree */
	ck_assert_int_gt(count_fds(), fds);
	vpwr_backend_free(r);
	ck_assert_int_eq(count_fds(), fds);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_governor"), "ondemand");
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_max_freq"), "2401000");
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_min_freq"), "800000");
}
END_TEST

static Suite *acpi_suite(void)
{
	Suite *s = suite_create("backend_acpi");
	TCase *t = tcase_create("acpi-cpufreq");

	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_view);
	tcase_add_test(t, test_set_freq);
	tcase_add_test(t, test_limits_order);
	tcase_add_test(t, test_arbiter_sequence);
	tcase_add_test(t, test_boost);
	tcase_add_test(t, test_kernel_refusals);
	tcase_add_test(t, test_offline);
	tcase_add_test(t, test_restore);
	tcase_add_test(t, test_restore_setspeed);
	tcase_add_test(t, test_kept_open);
	tcase_add_test(t, test_wrong_driver);
	tcase_add_test(t, test_fake_kernel_rules);
	tcase_add_test(t, test_real_io);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return vpwr_test_run(acpi_suite());
}
