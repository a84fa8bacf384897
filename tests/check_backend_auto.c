/*
 * "auto": the driver comes from the first online CPU's scaling_driver,
 * probes go in the registry's fixed order, nothing is opened for writing
 * while detecting and opening, and an unknown driver or a missing one is
 * -ENODEV.  Once with real system calls too.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_internal.h"
#include "fakesysfs.c"
#include "libvpwr/backend.h"
#include "testutil.h"

static const char *const drivers[] = {
	"acpi-cpufreq", "intel_pstate", "intel_cpufreq",
	"cppc_cpufreq", "amd-pstate",   "amd-pstate-epp",
};

START_TEST(test_auto_each_driver)
{
	struct fakesysfs *fk = fakesysfs_new(drivers[_i]);
	VPWR_OPTS(vpwr_backend_opts, o);
	struct vpwr_backend *b = NULL;
	char *orig = fakesysfs_snapshot(fk), *now;

	ck_assert_int_eq(fakesysfs_open(fk, "auto", &o, &b), 0);
	ck_assert_str_eq(vpwr_backend_name(b), drivers[_i]);
	ck_assert_int_gt(vpwr_backend_caps(b, 0), 0);
	/* Detecting and opening opened nothing for writing. */
	ck_assert_uint_eq(fakesysfs_write_opens(fk), 0);
	vpwr_backend_free(b);
	ck_assert_uint_eq(fakesysfs_write_opens(fk), 0);
	now = fakesysfs_snapshot(fk);
	fakesysfs_assert_same(orig, now);
	free(orig);
	free(now);
	fakesysfs_free(fk);
}
END_TEST

/* The first online CPU decides, not cpu0 when cpu0 is offline. */
START_TEST(test_first_online_cpu)
{
	struct fakesysfs *fk = fakesysfs_new("acpi-cpufreq");
	VPWR_OPTS(vpwr_backend_opts, o);
	struct vpwr_backend *b = NULL;

	fakesysfs_poke(fk, "cpu0/online", "0");
	fakesysfs_poke(fk, "cpu0/cpufreq/scaling_driver", "intel_pstate");
	ck_assert_int_eq(fakesysfs_open(fk, "auto", &o, &b), 0);
	ck_assert_str_eq(vpwr_backend_name(b), "acpi-cpufreq");
	ck_assert_int_eq(vpwr_backend_caps(b, 0), -ENODEV);
	ck_assert_int_gt(vpwr_backend_caps(b, 1), 0);
	vpwr_backend_free(b);
	fakesysfs_poke(fk, "cpu0/online", "1");
	ck_assert_int_eq(fakesysfs_open(fk, "auto", &o, &b), 0);
	ck_assert_str_eq(vpwr_backend_name(b), "intel_pstate");
	vpwr_backend_free(b);
	fakesysfs_free(fk);
}
END_TEST

START_TEST(test_unknown_driver)
{
	struct fakesysfs *fk = fakesysfs_new("acpi-cpufreq");
	struct fakesysfs_log lg = { { 0 } };
	VPWR_OPTS(vpwr_backend_opts, o, .log_fn = fakesysfs_log_fn,
		  .log_userdata = &lg);
	struct vpwr_backend *b = (struct vpwr_backend *)&b;

	fakesysfs_poke(fk, "cpu0/cpufreq/scaling_driver", "cpufreq-dt");
	ck_assert_int_eq(fakesysfs_open(fk, "auto", &o, &b), -ENODEV);
	ck_assert_ptr_null(b);
	ck_assert_ptr_nonnull(strstr(lg.text, "no cpufreq backend detected"));
	/* By name, a driver that is not the machine's is not usable. */
	ck_assert_int_eq(fakesysfs_open(fk, "acpi-cpufreq", &o, &b), -ENODEV);
	ck_assert_uint_eq(fakesysfs_write_opens(fk), 0);
	fakesysfs_free(fk);
}
END_TEST

/* Specific modes are asked before the generic drivers. */
START_TEST(test_probe_order)
{
	static const char *const order[] = {
		"intel_pstate", "intel_cpufreq", "amd-pstate-epp",
		"amd-pstate",   "cppc_cpufreq",
	};
	struct fakesysfs *fk = fakesysfs_new("acpi-cpufreq");
	struct fakesysfs_log lg = { { 0 } };
	VPWR_OPTS(vpwr_backend_opts, o, .log_fn = fakesysfs_log_fn,
		  .log_userdata = &lg, .log_level = VPWR_LOG_DEBUG);
	struct vpwr_backend *b = NULL;
	const char *p = lg.text;
	char want[64];

	ck_assert_int_eq(fakesysfs_open(fk, "auto", &o, &b), 0);
	for (size_t i = 0; i < sizeof(order) / sizeof(*order); i++) {
		snprintf(want, sizeof(want), "backend %s not present", order[i]);
		p = strstr(p, want);
		ck_assert_msg(p != NULL, "%s not probed in order: %s", order[i],
			      lg.text);
	}
	vpwr_backend_free(b);
	fakesysfs_free(fk);
}
END_TEST

/* CPU ids from "present", else by looking for cpuN directories. */
START_TEST(test_cpu_ids)
{
	struct fakesysfs *fk = fakesysfs_new("intel_pstate");
	struct fakesysfs_log lg = { { 0 } };
	VPWR_OPTS(vpwr_backend_opts, o, .log_fn = fakesysfs_log_fn,
		  .log_userdata = &lg);
	struct vpwr_backend *b = (struct vpwr_backend *)&b;

	fakesysfs_poke(fk, "present", "0-1");
	ck_assert_int_eq(fakesysfs_open(fk, "auto", &o, &b), 0);
	ck_assert_int_eq(vpwr_backend_nr_cpus(b), 2);
	vpwr_backend_free(b);
	fakesysfs_remove(fk, "present");
	ck_assert_int_eq(fakesysfs_open(fk, "auto", &o, &b), 0);
	ck_assert_int_eq(vpwr_backend_nr_cpus(b), 4); /* cpu3: offline */
	ck_assert_int_eq(vpwr_backend_caps(b, 3), -ENODEV);
	vpwr_backend_free(b);
	fakesysfs_poke(fk, "present", "0-x");
	ck_assert_int_eq(fakesysfs_open(fk, "intel_pstate", &o, &b), -EPROTO);
	ck_assert_ptr_nonnull(strstr(lg.text, "not a CPU list"));
	fakesysfs_free(fk);
}
END_TEST

START_TEST(test_auto_real_io)
{
	struct fakesysfs *fk = fakesysfs_new("amd-pstate-epp");
	VPWR_OPTS(vpwr_backend_opts, o, .sysfs_root = fakesysfs_root(fk));
	struct vpwr_backend *b = NULL;

	ck_assert_int_eq(vpwr_backend_open("auto", &o, &b), 0);
	ck_assert_str_eq(vpwr_backend_name(b), "amd-pstate-epp");
	ck_assert_int_eq(vpwr_backend_set_epp(b, 1, 255), 0);
	ck_assert_str_eq(fakesysfs_get(fk, "cpu1/cpufreq/"
				       "energy_performance_preference"),
			 "power");
	vpwr_backend_free(b);
	ck_assert_str_eq(fakesysfs_get(fk, "cpu1/cpufreq/"
				       "energy_performance_preference"),
			 "balance_performance");
	fakesysfs_free(fk);
}
END_TEST

static Suite *auto_suite(void)
{
	Suite *s = suite_create("backend_auto");
	TCase *t = tcase_create("auto");

	tcase_add_loop_test(t, test_auto_each_driver, 0,
			    (int)(sizeof(drivers) / sizeof(*drivers)));
	tcase_add_test(t, test_first_online_cpu);
	tcase_add_test(t, test_unknown_driver);
	tcase_add_test(t, test_probe_order);
	tcase_add_test(t, test_cpu_ids);
	tcase_add_test(t, test_auto_real_io);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return vpwr_test_run(auto_suite());
}
