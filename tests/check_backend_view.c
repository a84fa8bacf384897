/*
 * What a cpufreq backend keeps of each CPU (its view, sysfs.h): a call
 * that changes nothing costs no system call on any driver, a change costs
 * one write per value, and the view comes back in line with sysfs when
 * the kernel refuses a write, when a query finds other values, when turbo
 * moves every CPU, and across CPUs that share one policy.  The fake kernel
 * counts every open, read and write the backend makes.
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
#define CPU2 "cpu2/cpufreq/"

static struct fakesysfs *fk;
static struct fakesysfs_log lg;
static struct vpwr_backend *b;

static void open_driver(const char *name)
{
	VPWR_OPTS(vpwr_backend_opts, o, .log_fn = fakesysfs_log_fn,
		  .log_userdata = &lg);

	ck_assert_int_eq(fakesysfs_open(fk, name, &o, &b), 0);
}

static void setup(void)
{
	memset(&lg, 0, sizeof(lg));
	fk = fakesysfs_new("acpi-cpufreq");
	open_driver("acpi-cpufreq");
}

static void teardown(void)
{
	vpwr_backend_free(b);
	b = NULL;
	fakesysfs_free(fk);
}

static void limits_are(unsigned cpu, uint32_t lo, uint32_t hi)
{
	uint32_t min = 0, max = 0;

	ck_assert_int_eq(vpwr_backend_get_limits(b, cpu, &min, &max), 0);
	ck_assert_uint_eq(min, lo);
	ck_assert_uint_eq(max, hi);
}

/* ------------------------------------------------ no I/O when unchanged */

static const char *const drivers[] = {
	"acpi-cpufreq", "intel_pstate", "intel_cpufreq",
	"cppc_cpufreq", "amd-pstate",   "amd-pstate-epp",
};

/*
 * What the host engine does for a decision (set_limits, get_freqs for the
 * reachable frequency, set_freq), and EPP: once to change, then again
 * unchanged, which must not reach the kernel at all.
 */
START_TEST(test_unchanged_no_io)
{
	uint32_t f[64], lo, hi;
	unsigned io;
	int n, caps;

	memset(&lg, 0, sizeof(lg));
	fk = fakesysfs_new(drivers[_i]);
	open_driver(drivers[_i]);
	caps = vpwr_backend_caps(b, 1);
	ck_assert_int_gt(caps, 0);
	n = vpwr_backend_get_freqs(b, 1, f, 64);
	ck_assert_int_ge(n, 3);
	lo = f[1];
	hi = f[n - 2];
	for (int round = 0; round < 2; round++) {
		io = fakesysfs_calls(fk);
		ck_assert_int_eq(vpwr_backend_set_limits(b, 1, lo, hi), 0);
		ck_assert_int_eq(vpwr_backend_get_freqs(b, 1, f, 64), n);
		if (caps & VPWR_BACKEND_CAP_SET_FREQ)
			ck_assert_int_eq(vpwr_backend_set_freq(b, 1, hi), 0);
		if (caps & VPWR_BACKEND_CAP_EPP)
			ck_assert_int_eq(vpwr_backend_set_epp(b, 1, 255), 0);
		ck_assert_int_eq(vpwr_backend_caps(b, 1), caps);
		if (round == 0)
			ck_assert_uint_gt(fakesysfs_writes(fk), 0);
		else
			ck_assert_msg(fakesysfs_calls(fk) == io,
				      "%s: %u calls into the kernel for "
				      "nothing", drivers[_i],
				      fakesysfs_calls(fk) - io);
	}
	/* And it all did happen. */
	limits_are(1, lo, hi);
	if (caps & VPWR_BACKEND_CAP_SET_FREQ) {
		ck_assert_uint_eq(fakesysfs_get_u32(fk, CPU1 "scaling_setspeed"),
				  hi);
		ck_assert_str_eq(fakesysfs_get(fk, CPU1 "scaling_governor"),
				 "userspace");
	}
	if (caps & VPWR_BACKEND_CAP_EPP)
		ck_assert_str_eq(fakesysfs_get(fk, CPU1
					       "energy_performance_preference"),
				 "power");
	ck_assert_uint_eq(fakesysfs_refused(fk), 0);
}
END_TEST

/* A change is one write on a file kept open: no open, no read. */
START_TEST(test_change_is_one_write)
{
	unsigned w, r, o;

	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 2000000), 0);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 1200000), 0);
	w = fakesysfs_writes(fk);
	r = fakesysfs_reads(fk);
	o = fakesysfs_opens(fk);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 2000000), 0);
	ck_assert_uint_eq(fakesysfs_writes(fk), w + 1);
	ck_assert_uint_eq(fakesysfs_reads(fk), r);
	ck_assert_uint_eq(fakesysfs_opens(fk), o);
	/* Limits: the writes, then both read back (what the kernel made of
	 * them goes into the view). */
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 1200000, 2000000), 0);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 800000, 2401000), 0);
	w = fakesysfs_writes(fk);
	r = fakesysfs_reads(fk);
	o = fakesysfs_opens(fk);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 1200000, 2000000), 0);
	ck_assert_uint_eq(fakesysfs_writes(fk), w + 2);
	ck_assert_uint_eq(fakesysfs_reads(fk), r + 2);
	ck_assert_uint_eq(fakesysfs_opens(fk), o);
	ck_assert_uint_eq(fakesysfs_refused(fk), 0);
}
END_TEST

/* ------------------------------------------------------ back in line */

/*
 * Someone else raises the min behind the backend's back.  The backend,
 * not having read it, orders its writes by what it knew; the kernel
 * refuses one, and that makes the backend read the CPU again: the next
 * call gets there.
 */
START_TEST(test_resync_after_refusal)
{
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 800000, 2000000), 0);
	ck_assert_int_eq(fakesysfs_write(fk, CPU0 "scaling_min_freq", "2000000"),
			 0);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 800000, 1200000),
			 -EINVAL);
	ck_assert_ptr_nonnull(strstr(fakesysfs_last_refusal(fk),
				     "scaling_max_freq=1200000"));
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 800000, 1200000), 0);
	limits_are(0, 800000, 1200000);
	/* The governor switched away under set_freq: refused once, then
	 * switched back. */
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 1200000), 0);
	ck_assert_int_eq(fakesysfs_write(fk, CPU0 "scaling_governor",
					 "ondemand"), 0);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 800000), -EINVAL);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 800000), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_governor"), "userspace");
	ck_assert_uint_eq(fakesysfs_get_u32(fk, CPU0 "scaling_cur_freq"), 800000);
}
END_TEST

/* A query that finds other limits than the view had takes them in: the
 * next set_limits to the old values writes them. */
START_TEST(test_query_takes_in)
{
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 800000, 2000000), 0);
	ck_assert_int_eq(fakesysfs_write(fk, CPU1 "scaling_max_freq", "1200000"),
			 0);
	limits_are(1, 800000, 1200000);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 800000, 2000000), 0);
	ck_assert_uint_eq(fakesysfs_get_u32(fk, CPU1 "scaling_max_freq"),
			  2000000);
}
END_TEST

/*
 * Someone else turns boost off: the list and limits of every CPU shrink,
 * which the backend, not reading what it holds, does not see by itself.
 * get_turbo (a host's status poll) finds the knob moved and renews every
 * CPU's view.
 */
START_TEST(test_turbo_behind_its_back)
{
	uint32_t f[8];

	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 2401000), 0);
	ck_assert_int_eq(fakesysfs_write(fk, "cpufreq/boost", "0"), 0);
	ck_assert_int_eq(vpwr_backend_get_freqs(b, 1, f, 8), 6); /* old */
	ck_assert_int_eq(vpwr_backend_get_turbo(b, 0), 0);
	ck_assert_ptr_nonnull(strstr(lg.text, "switched by someone else"));
	ck_assert_int_eq(vpwr_backend_get_freqs(b, 1, f, 8), 5);
	ck_assert_uint_eq(f[4], 2400000);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 1, 2401000),
			 -VPWR_E_BAD_FREQ);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 800000, 2401000),
			 -EINVAL);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 2400000), 0);
	ck_assert_uint_eq(fakesysfs_get_u32(fk, CPU0 "scaling_cur_freq"),
			  2400000);
	ck_assert_uint_eq(fakesysfs_refused(fk), 0);
}
END_TEST

/*
 * The other way round: boost comes back on behind its back.  A value the
 * old view does not allow is checked against a fresh view before it is
 * refused, and goes through.
 */
START_TEST(test_fresh_view_before_refusing)
{
	uint32_t f[8];

	ck_assert_int_eq(vpwr_backend_set_turbo(b, 0, 0), 0);
	ck_assert_int_eq(vpwr_backend_get_freqs(b, 1, f, 8), 5);
	ck_assert_int_eq(fakesysfs_write(fk, "cpufreq/boost", "1"), 0);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 800000, 2401000), 0);
	ck_assert_uint_eq(fakesysfs_get_u32(fk, CPU1 "scaling_max_freq"),
			  2401000);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 1, 2401000), 0);
	ck_assert_uint_eq(fakesysfs_get_u32(fk, CPU1 "scaling_cur_freq"),
			  2401000);
	ck_assert_int_eq(vpwr_backend_get_freqs(b, 1, f, 8), 6);
	ck_assert_uint_eq(fakesysfs_refused(fk), 0);
}
END_TEST

/* The backend's own turbo change moves every CPU's view with it. */
START_TEST(test_turbo_own_change)
{
	uint32_t f[8];

	ck_assert_int_eq(vpwr_backend_set_limits(b, 2, 2000000, 2401000), 0);
	ck_assert_int_eq(vpwr_backend_set_turbo(b, 0, 0), 0);
	ck_assert_int_eq(vpwr_backend_get_freqs(b, 2, f, 8), 5);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 2, 2401000),
			 -VPWR_E_BAD_FREQ);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 2, 2400000), 0);
	ck_assert_int_eq(vpwr_backend_set_turbo(b, 0, 1), 0);
	ck_assert_int_eq(vpwr_backend_get_freqs(b, 2, f, 8), 6);
	/* Boost back on leaves the max at 2.4 GHz; asking 2.401 again is a
	 * change the kernel must see. */
	ck_assert_int_eq(vpwr_backend_set_limits(b, 2, 2000000, 2401000), 0);
	ck_assert_uint_eq(fakesysfs_get_u32(fk, CPU2 "scaling_max_freq"),
			  2401000);
	ck_assert_uint_eq(fakesysfs_refused(fk), 0);
}
END_TEST

/* CPUs sharing a policy share its files: a write through one is seen by
 * the view of the other. */
START_TEST(test_shared_policy)
{
	struct vpwr_cpuset set;
	unsigned io;

	teardown();
	memset(&lg, 0, sizeof(lg));
	fk = fakesysfs_new("acpi-cpufreq");
	fakesysfs_share_policy(fk, 2, 0);
	open_driver("acpi-cpufreq");
	/* The capability says so: 0 and 2 are not their own, 1 is. */
	ck_assert_int_eq(vpwr_backend_caps(b, 0) & VPWR_BACKEND_CAP_PER_CPU, 0);
	ck_assert_int_eq(vpwr_backend_caps(b, 2) & VPWR_BACKEND_CAP_PER_CPU, 0);
	ck_assert_int_ne(vpwr_backend_caps(b, 1) & VPWR_BACKEND_CAP_PER_CPU, 0);
	/* and the group is named, from related_cpus, with no system call */
	io = fakesysfs_calls(fk);
	ck_assert_int_eq(vpwr_backend_policy_cpus(b, 2, &set), 2);
	ck_assert(vpwr_cpuset_isset(&set, 0) && vpwr_cpuset_isset(&set, 2));
	ck_assert_int_eq(vpwr_backend_policy_cpus(b, 0, &set), 2);
	ck_assert(vpwr_cpuset_isset(&set, 0) && vpwr_cpuset_isset(&set, 2));
	ck_assert_int_eq(vpwr_backend_policy_cpus(b, 1, &set), 1);
	ck_assert(vpwr_cpuset_isset(&set, 1));
	ck_assert_uint_eq(fakesysfs_calls(fk), io);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 800000, 2000000), 0);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 2, 1200000, 2401000), 0);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 800000, 2000000), 0);
	limits_are(2, 800000, 2000000);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 1200000), 0);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 2, 2000000), 0);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 1200000), 0);
	ck_assert_uint_eq(fakesysfs_get_u32(fk, CPU2 "scaling_setspeed"),
			  1200000);
	ck_assert_uint_eq(fakesysfs_refused(fk), 0);
	/* Restoring one puts the shared files back for both. */
	ck_assert_int_eq(vpwr_backend_restore(b, 2), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_governor"), "ondemand");
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 1200000), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_governor"), "userspace");
	/* An offline CPU (3, from the start) is in no frequency domain. */
	ck_assert_int_eq(vpwr_backend_policy_cpus(b, 3, &set), -ENODEV);
}
END_TEST

/* EPP: the intel_pstate governor rule moves EPP, which the view follows. */
START_TEST(test_epp_follows_governor)
{
	teardown();
	memset(&lg, 0, sizeof(lg));
	fk = fakesysfs_new("intel_pstate");
	open_driver("intel_pstate");
	ck_assert_int_eq(vpwr_backend_set_epp(b, 0, 255), 0);
	/* Someone else: performance (EPP pinned), then back to powersave,
	 * which gives power back... then sets balance_power himself. */
	ck_assert_int_eq(fakesysfs_write(fk, CPU0 "energy_performance_preference",
					 "balance_power"), 0);
	ck_assert_int_eq(vpwr_backend_get_epp(b, 0), 192); /* taken in */
	ck_assert_int_eq(vpwr_backend_set_epp(b, 0, 255), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "energy_performance_preference"),
			 "power");
	ck_assert_uint_eq(fakesysfs_refused(fk), 0);
}
END_TEST

static Suite *view_suite(void)
{
	Suite *s = suite_create("backend_view");
	TCase *each = tcase_create("every driver");
	TCase *t = tcase_create("acpi-cpufreq");

	tcase_add_loop_test(each, test_unchanged_no_io, 0,
			    (int)(sizeof(drivers) / sizeof(drivers[0])));
	tcase_add_checked_fixture(each, NULL, teardown);
	suite_add_tcase(s, each);
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, test_change_is_one_write);
	tcase_add_test(t, test_resync_after_refusal);
	tcase_add_test(t, test_query_takes_in);
	tcase_add_test(t, test_turbo_behind_its_back);
	tcase_add_test(t, test_fresh_view_before_refusing);
	tcase_add_test(t, test_turbo_own_change);
	tcase_add_test(t, test_shared_policy);
	tcase_add_test(t, test_epp_follows_governor);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return vpwr_test_run(view_suite());
}
