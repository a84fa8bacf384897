/*
 * The files a cpufreq backend keeps open: at most VPWR_CPUFREQ_MAX_OPEN
 * (256) per backend, the rest opened per access, on a machine with more
 * CPUs than that covers; and a process that runs out of descriptors (a
 * low RLIMIT_NOFILE, with real system calls) still gets every call
 * through, the kept files being given back.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "backend/backend_internal.h"
#include "fakesysfs.c"
#include "libvpwr/backend.h"
#include "testutil.h"

#define NR_CPUS 100 /* fixtures/cpufreq/acpi-cpufreq-100cpus.json */

static char rel_buf[64];

static const char *rel(unsigned cpu, const char *attr)
{
	snprintf(rel_buf, sizeof(rel_buf), "cpu%u/cpufreq/%s", cpu, attr);
	return rel_buf;
}

/* Every CPU driven (limits and a frequency), twice. */
START_TEST(test_budget)
{
	struct fakesysfs *fk = fakesysfs_new("acpi-cpufreq-100cpus");
	VPWR_OPTS(vpwr_backend_opts, o);
	struct vpwr_backend *b = NULL;
	unsigned opens, writes;

	ck_assert_int_eq(fakesysfs_open(fk, "acpi-cpufreq", &o, &b), 0);
	ck_assert_int_eq(vpwr_backend_nr_cpus(b), NR_CPUS);
	ck_assert_uint_le(fakesysfs_handles(fk), VPWR_CPUFREQ_MAX_OPEN);
	for (int round = 0; round < 2; round++)
		for (unsigned cpu = 0; cpu < NR_CPUS; cpu++) {
			uint32_t hi = round ? 2000000 : 2401000;

			ck_assert_int_eq(vpwr_backend_set_limits(b, cpu, 800000,
								 hi), 0);
			ck_assert_int_eq(vpwr_backend_set_freq(b, cpu, hi), 0);
			ck_assert_uint_le(fakesysfs_handles(fk),
					  VPWR_CPUFREQ_MAX_OPEN);
		}
	ck_assert_uint_eq(fakesysfs_handles(fk), VPWR_CPUFREQ_MAX_OPEN);
	for (unsigned cpu = 0; cpu < NR_CPUS; cpu++) {
		ck_assert_uint_eq(fakesysfs_get_u32(fk, rel(cpu,
				"scaling_setspeed")), 2000000);
		ck_assert_uint_eq(fakesysfs_get_u32(fk, rel(cpu,
				"scaling_max_freq")), 2000000);
	}
	/* cpu0's setspeed is kept open: a change is a write, no open; the
	 * last CPU's is past the budget: opened for the write, closed. */
	opens = fakesysfs_opens(fk);
	writes = fakesysfs_writes(fk);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 1200000), 0);
	ck_assert_uint_eq(fakesysfs_opens(fk), opens);
	ck_assert_int_eq(vpwr_backend_set_freq(b, NR_CPUS - 1, 1200000), 0);
	ck_assert_uint_eq(fakesysfs_opens(fk), opens + 1);
	ck_assert_uint_eq(fakesysfs_writes(fk), writes + 2);
	ck_assert_uint_eq(fakesysfs_handles(fk), VPWR_CPUFREQ_MAX_OPEN);
	/* Unchanged, past the budget too: nothing at all. */
	opens = fakesysfs_calls(fk);
	ck_assert_int_eq(vpwr_backend_set_freq(b, NR_CPUS - 1, 1200000), 0);
	ck_assert_int_eq(vpwr_backend_set_limits(b, NR_CPUS - 1, 800000,
						 2000000), 0);
	ck_assert_uint_eq(fakesysfs_calls(fk), opens);
	vpwr_backend_free(b);
	ck_assert_uint_eq(fakesysfs_handles(fk), 0);
	ck_assert_uint_eq(fakesysfs_refused(fk), 0);
	ck_assert_str_eq(fakesysfs_get(fk, rel(NR_CPUS - 1, "scaling_governor")),
			 "ondemand");
	fakesysfs_free(fk);
}
END_TEST

/*
 * The lowest limit under which `spare` descriptor numbers are free: a
 * limit only stops new descriptors, those open above it stay.
 */
static int limit_for(int spare)
{
	bool used[4096] = { false };
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int fd = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.' && atoi(e->d_name) < 4096 &&
		    atoi(e->d_name) != dirfd(d))
			used[atoi(e->d_name)] = true;
	closedir(d);
	for (; spare > 0 || used[fd]; fd++)
		if (!used[fd])
			spare--;
	return fd;
}

/*
 * Lower the soft RLIMIT_NOFILE so that `spare` descriptors are left; *old
 * keeps the limit to put back.  Whether opens past it fail:
 * under valgrind, which keeps descriptors of its own at the top and its
 * own idea of the limit, it may not be set or not hold.
 */
static bool limit_fds(int spare, struct rlimit *old)
{
	struct rlimit rl;
	int fds[64], n = 0;
	bool enforced;

	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, old), 0);
	rl = *old;
	rl.rlim_cur = (rlim_t)limit_for(spare);
	if (setrlimit(RLIMIT_NOFILE, &rl))
		return false;
	while (n < 64 && (fds[n] = open("/dev/null", O_RDONLY)) >= 0)
		n++;
	enforced = n == spare && errno == EMFILE;
	while (n--)
		close(fds[n]);
	return enforced;
}

/*
 * With `spare` descriptors, real system calls on the generated tree: open
 * the backend and drive three CPUs twice; every call must get through.
 */
static void drive_with_few_fds(int spare)
{
	struct fakesysfs *fk = fakesysfs_new("acpi-cpufreq");
	struct fakesysfs_log lg = { { 0 } };
	VPWR_OPTS(vpwr_backend_opts, o, .sysfs_root = fakesysfs_root(fk),
		  .log_fn = fakesysfs_log_fn, .log_userdata = &lg);
	struct vpwr_backend *b = NULL;
	struct rlimit old;
	bool enforced = limit_fds(spare, &old);
	int err = vpwr_backend_open("acpi-cpufreq", &o, &b), step = 0;

	for (unsigned cpu = 0; !err && cpu < 3; cpu++, step++)
		if ((err = vpwr_backend_set_limits(b, cpu, 800000, 2000000)) ||
		    (err = vpwr_backend_set_freq(b, cpu, 1200000)))
			break;
	for (unsigned cpu = 0; !err && cpu < 3; cpu++, step++)
		if ((err = vpwr_backend_set_freq(b, cpu, 1200000)) ||
		    (err = vpwr_backend_set_freq(b, cpu, 2000000)))
			break;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	ck_assert_msg(!err, "step %d: %s; log: %s", step, vpwr_strerror(err),
		      lg.text);
	if (enforced)
		ck_assert_ptr_nonnull(strstr(lg.text, "out of file descriptors"));
	for (unsigned cpu = 0; cpu < 3; cpu++) {
		ck_assert_str_eq(fakesysfs_get(fk, rel(cpu, "scaling_governor")),
				 "userspace");
		ck_assert_uint_eq(fakesysfs_get_u32(fk, rel(cpu,
				"scaling_setspeed")), 2000000);
		ck_assert_uint_eq(fakesysfs_get_u32(fk, rel(cpu,
				"scaling_max_freq")), 2000000);
	}
	vpwr_backend_free(b);
	ck_assert_str_eq(fakesysfs_get(fk, rel(2, "scaling_governor")),
			 "ondemand");
	fakesysfs_free(fk);
}

/* A few: some files kept, then all given back when an open fails. */
START_TEST(test_out_of_fds)
{
	drive_with_few_fds(3);
}
END_TEST

/* One: nothing can stay open at all. */
START_TEST(test_one_fd)
{
	drive_with_few_fds(1);
}
END_TEST

static Suite *fds_suite(void)
{
	Suite *s = suite_create("backend_fds");
	TCase *t = tcase_create("kept-open files");

	tcase_set_timeout(t, 60); /* 100 CPUs through the fake kernel */
	tcase_add_test(t, test_budget);
	tcase_add_test(t, test_out_of_fds);
	tcase_add_test(t, test_one_fd);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return vpwr_test_run(fds_suite());
}
