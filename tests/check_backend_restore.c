/*
 * Putting CPUs back: restore order with a machine-wide turbo knob, and the
 * state file.  The originals reach the state file before the first write
 * to a CPU; a process that dies with SIGKILL leaves them there and the
 * next open with that file puts every file of the tree back; a corrupt or
 * foreign state file is refused before anything is written; a clean free
 * removes it.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "backend/backend_internal.h"
#include "backend/state.h"
#include "fakesysfs.c"
#include "libvpwr/backend.h"
#include "testutil.h"

#define CPU0 "cpu0/cpufreq/"
#define CPU1 "cpu1/cpufreq/"

static struct fakesysfs_log lg;

static struct vpwr_backend *open_state(struct fakesysfs *fk, const char *name,
				       const char *state)
{
	VPWR_OPTS(vpwr_backend_opts, o, .state_file = state,
		  .log_fn = fakesysfs_log_fn, .log_userdata = &lg);
	struct vpwr_backend *b = NULL;

	ck_assert_int_eq(fakesysfs_open(fk, name, &o, &b), 0);
	return b;
}

static char *state_path(struct fakesysfs *fk)
{
	char *p;

	ck_assert(asprintf(&p, "%s/backend.state", fakesysfs_dir(fk)) > 0);
	return p;
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* -------------------------------------------------------- turbo */

/* Turning boost off lowers every CPU's max; putting boost back puts those
 * CPUs back too, once the last CPU that asked is restored. */
START_TEST(test_turbo_collateral)
{
	struct fakesysfs *fk = fakesysfs_new("acpi-cpufreq");
	struct vpwr_backend *b = open_state(fk, "acpi-cpufreq", NULL);
	char *orig = fakesysfs_snapshot(fk), *now;

	ck_assert_int_eq(vpwr_backend_set_turbo(b, 0, 0), 0);
	ck_assert_int_eq(vpwr_backend_set_turbo(b, 1, 0), 0); /* holds it too */
	ck_assert_str_eq(fakesysfs_get(fk, CPU1 "scaling_max_freq"), "2400000");
	ck_assert_str_eq(fakesysfs_get(fk, "cpu2/cpufreq/scaling_max_freq"),
			 "2400000");
	ck_assert_int_eq(vpwr_backend_restore(b, 0), 0);
	ck_assert_str_eq(fakesysfs_get(fk, "cpufreq/boost"), "0");
	ck_assert_int_eq(vpwr_backend_restore(b, 1), 0);
	ck_assert_str_eq(fakesysfs_get(fk, "cpufreq/boost"), "1");
	ck_assert_str_eq(fakesysfs_get(fk, "cpu2/cpufreq/scaling_max_freq"),
			 "2401000");
	now = fakesysfs_snapshot(fk);
	fakesysfs_assert_same(orig, now);
	/* A CPU restored while another holds turbo off is put back again
	 * when turbo is. */
	ck_assert_int_eq(vpwr_backend_set_freq(b, 2, 2401000), 0);
	ck_assert_int_eq(vpwr_backend_set_turbo(b, 0, 0), 0);
	ck_assert_int_eq(vpwr_backend_restore(b, 2), 0);
	ck_assert_str_eq(fakesysfs_get(fk, "cpu2/cpufreq/scaling_governor"),
			 "ondemand");
	ck_assert_int_eq(vpwr_backend_restore(b, 0), 0);
	ck_assert_str_eq(fakesysfs_get(fk, "cpu2/cpufreq/scaling_max_freq"),
			 "2401000");
	vpwr_backend_free(b);
	free(now);
	now = fakesysfs_snapshot(fk);
	fakesysfs_assert_same(orig, now);
	free(orig);
	free(now);
	fakesysfs_free(fk);
}
END_TEST

/* CPUs sharing a policy are saved together, before the first write. */
START_TEST(test_shared_policy)
{
	struct fakesysfs *fk = fakesysfs_new("acpi-cpufreq");
	char *path = state_path(fk);
	struct vpwr_backend *b = open_state(fk, "acpi-cpufreq", path);
	struct vpwr_logger quiet = { 0 };
	struct vpwr_state st;

	fakesysfs_poke(fk, CPU0 "related_cpus", "0 2 ");
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 2000000), 0);
	ck_assert_int_eq(vpwr_state_load(path, &quiet, &st), 0);
	ck_assert(vpwr_cpuset_isset(&st.saved, 2));
	ck_assert(!vpwr_cpuset_isset(&st.saved, 1));
	ck_assert_str_eq(st.cpu[2].governor, "ondemand");
	vpwr_state_fini(&st);
	vpwr_backend_free(b);
	ck_assert(!exists(path));
	free(path);
	fakesysfs_free(fk);
}
END_TEST

/* ---------------------------------------------------- state file */

struct first_write {
	const char *path;
	bool seen;
	bool cpu1_saved; /* in the file at cpu1's first write */
	bool turbo_saved;
};

static void check_file(void *ud, const char *rel, const char *val)
{
	struct first_write *fw = ud;
	struct vpwr_state st;
	struct vpwr_logger quiet = { 0 };

	(void)val;
	if (fw->seen || strncmp(rel, "cpu1/", 5))
		return;
	fw->seen = true;
	if (vpwr_state_load(fw->path, &quiet, &st))
		return;
	fw->cpu1_saved = vpwr_cpuset_isset(&st.saved, 1) &&
			 !strcmp(st.cpu[1].governor, "ondemand") &&
			 st.cpu[1].max_khz == 2401000;
	fw->turbo_saved = st.turbo_saved;
	vpwr_state_fini(&st);
}

START_TEST(test_written_before_first_write)
{
	struct fakesysfs *fk = fakesysfs_new("acpi-cpufreq");
	char *path = state_path(fk);
	struct first_write fw = { .path = path };
	struct vpwr_backend *b = open_state(fk, "acpi-cpufreq", path);

	ck_assert(!exists(path)); /* nothing changed yet */
	fakesysfs_on_write(fk, check_file, &fw);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 1, 2000000), 0);
	ck_assert(fw.seen);
	ck_assert(fw.cpu1_saved);
	ck_assert(!fw.turbo_saved);
	ck_assert(exists(path));
	ck_assert_int_eq(vpwr_backend_restore(b, 1), 0);
	ck_assert(!exists(path)); /* nothing left to put back */
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 2000000), 0);
	ck_assert(exists(path));
	vpwr_backend_free(b);
	ck_assert(!exists(path)); /* a clean free removes it */
	free(path);
	fakesysfs_free(fk);
}
END_TEST

/* What a host does to a machine before it dies, per driver. */
static void change_things(struct vpwr_backend *b, const char *driver)
{
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 1200000, 2000000), 0);
	ck_assert_int_eq(vpwr_backend_set_turbo(b, 2, 0), 0);
	if (!strcmp(driver, "acpi-cpufreq")) {
		ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 1200000), 0);
	} else {
		ck_assert_int_eq(vpwr_backend_set_epp(b, 0, 255), 0);
		ck_assert_int_eq(vpwr_backend_set_epp(b, 2, 60), 0);
	}
}

static void kill_and_recover(const char *driver)
{
	struct fakesysfs *fk = fakesysfs_new(driver);
	char *path = state_path(fk), *orig, *now;
	struct vpwr_backend *b;
	int status;
	pid_t pid;

	/* A global minimum that turning turbo off lowers for good. */
	if (!strcmp(driver, "intel_pstate"))
		ck_assert_int_eq(fakesysfs_write(fk, "intel_pstate/min_perf_pct",
						 "90"), 0);
	orig = fakesysfs_snapshot(fk);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		b = open_state(fk, driver, path);
		change_things(b, driver);
		raise(SIGKILL);
		_exit(1); /* not reached */
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
	ck_assert(exists(path));
	now = fakesysfs_snapshot(fk);
	ck_assert_str_ne(now, orig); /* the child did change the machine */
	free(now);
	if (!strcmp(driver, "intel_pstate"))
		ck_assert_str_eq(fakesysfs_get(fk, "intel_pstate/min_perf_pct"),
				 "80");
	memset(&lg, 0, sizeof(lg));
	b = open_state(fk, driver, path);
	ck_assert_ptr_nonnull(strstr(lg.text, "putting back the original "
					      "settings of 3 CPU(s)"));
	ck_assert(!exists(path));
	now = fakesysfs_snapshot(fk);
	fakesysfs_assert_same(orig, now);
	ck_assert_uint_eq(fakesysfs_refused(fk), 0);
	vpwr_backend_free(b);
	free(now);
	free(orig);
	free(path);
	fakesysfs_free(fk);
}

START_TEST(test_sigkill_acpi)
{
	kill_and_recover("acpi-cpufreq");
}
END_TEST

START_TEST(test_sigkill_intel)
{
	kill_and_recover("intel_pstate");
}
END_TEST

START_TEST(test_sigkill_amd_epp)
{
	kill_and_recover("amd-pstate-epp");
}
END_TEST

static const char *const bad_files[] = {
	"",
	"{",
	"[]",
	"{\"format\": \"something-else\", \"version\": 1, \"backend\": "
	"\"acpi-cpufreq\", \"sysfs_root\": \"@\", \"nr_cpus\": 4, \"cpus\": []}",
	"{\"format\": \"libvpwr-backend-state\", \"version\": 2, \"backend\": "
	"\"acpi-cpufreq\", \"sysfs_root\": \"@\", \"nr_cpus\": 4, \"cpus\": []}",
	/* another backend, another root */
	"{\"format\": \"libvpwr-backend-state\", \"version\": 1, \"backend\": "
	"\"intel_pstate\", \"sysfs_root\": \"@\", \"nr_cpus\": 4, \"cpus\": []}",
	"{\"format\": \"libvpwr-backend-state\", \"version\": 1, \"backend\": "
	"\"acpi-cpufreq\", \"sysfs_root\": \"/sys\", \"nr_cpus\": 4, "
	"\"cpus\": []}",
	/* an unknown field, at the top and in a CPU */
	"{\"format\": \"libvpwr-backend-state\", \"version\": 1, \"backend\": "
	"\"acpi-cpufreq\", \"sysfs_root\": \"@\", \"nr_cpus\": 4, \"cpus\": [],"
	" \"extra\": 1}",
	"{\"format\": \"libvpwr-backend-state\", \"version\": 1, \"backend\": "
	"\"acpi-cpufreq\", \"sysfs_root\": \"@\", \"nr_cpus\": 4, \"cpus\": "
	"[{\"cpu\": 0, \"scaling_governor\": \"ondemand\", \"scaling_min_freq\":"
	" 800000, \"scaling_max_freq\": 2401000, \"colour\": \"red\"}]}",
	/* a governor that is not a sysfs word */
	"{\"format\": \"libvpwr-backend-state\", \"version\": 1, \"backend\": "
	"\"acpi-cpufreq\", \"sysfs_root\": \"@\", \"nr_cpus\": 4, \"cpus\": "
	"[{\"cpu\": 0, \"scaling_governor\": \"../x\", \"scaling_min_freq\":"
	" 800000, \"scaling_max_freq\": 2401000}]}",
	/* min above max, a missing max, a CPU twice, a CPU past nr_cpus */
	"{\"format\": \"libvpwr-backend-state\", \"version\": 1, \"backend\": "
	"\"acpi-cpufreq\", \"sysfs_root\": \"@\", \"nr_cpus\": 4, \"cpus\": "
	"[{\"cpu\": 0, \"scaling_governor\": \"ondemand\", \"scaling_min_freq\":"
	" 2401000, \"scaling_max_freq\": 800000}]}",
	"{\"format\": \"libvpwr-backend-state\", \"version\": 1, \"backend\": "
	"\"acpi-cpufreq\", \"sysfs_root\": \"@\", \"nr_cpus\": 4, \"cpus\": "
	"[{\"cpu\": 0, \"scaling_governor\": \"ondemand\", \"scaling_min_freq\":"
	" 800000}]}",
	"{\"format\": \"libvpwr-backend-state\", \"version\": 1, \"backend\": "
	"\"acpi-cpufreq\", \"sysfs_root\": \"@\", \"nr_cpus\": 4, \"cpus\": "
	"[{\"cpu\": 1, \"scaling_governor\": \"ondemand\", \"scaling_min_freq\":"
	" 800000, \"scaling_max_freq\": 2401000}, {\"cpu\": 1, "
	"\"scaling_governor\": \"ondemand\", \"scaling_min_freq\": 800000, "
	"\"scaling_max_freq\": 2401000}]}",
	"{\"format\": \"libvpwr-backend-state\", \"version\": 1, \"backend\": "
	"\"acpi-cpufreq\", \"sysfs_root\": \"@\", \"nr_cpus\": 8, \"cpus\": "
	"[{\"cpu\": 6, \"scaling_governor\": \"ondemand\", \"scaling_min_freq\":"
	" 800000, \"scaling_max_freq\": 2401000}]}",
	/* turbo: a foreign knob, a holder that is not saved */
	"{\"format\": \"libvpwr-backend-state\", \"version\": 1, \"backend\": "
	"\"acpi-cpufreq\", \"sysfs_root\": \"@\", \"nr_cpus\": 4, \"cpus\": "
	"[{\"cpu\": 0, \"scaling_governor\": \"ondemand\", \"scaling_min_freq\":"
	" 800000, \"scaling_max_freq\": 2401000}], \"turbo\": {\"file\": "
	"\"no_turbo\", \"value\": \"0\", \"cpus\": [0]}}",
	"{\"format\": \"libvpwr-backend-state\", \"version\": 1, \"backend\": "
	"\"acpi-cpufreq\", \"sysfs_root\": \"@\", \"nr_cpus\": 4, \"cpus\": "
	"[{\"cpu\": 0, \"scaling_governor\": \"ondemand\", \"scaling_min_freq\":"
	" 800000, \"scaling_max_freq\": 2401000}], \"turbo\": {\"file\": "
	"\"boost\", \"value\": \"1\", \"cpus\": [2]}}",
	/* min_perf_pct: with boost, or not a percentage */
	"{\"format\": \"libvpwr-backend-state\", \"version\": 1, \"backend\": "
	"\"acpi-cpufreq\", \"sysfs_root\": \"@\", \"nr_cpus\": 4, \"cpus\": "
	"[{\"cpu\": 0, \"scaling_governor\": \"ondemand\", \"scaling_min_freq\":"
	" 800000, \"scaling_max_freq\": 2401000}], \"turbo\": {\"file\": "
	"\"boost\", \"value\": \"1\", \"min_perf_pct\": 20, \"cpus\": [0]}}",
	"{\"format\": \"libvpwr-backend-state\", \"version\": 1, \"backend\": "
	"\"acpi-cpufreq\", \"sysfs_root\": \"@\", \"nr_cpus\": 4, \"cpus\": "
	"[{\"cpu\": 0, \"scaling_governor\": \"ondemand\", \"scaling_min_freq\":"
	" 800000, \"scaling_max_freq\": 2401000}], \"turbo\": {\"file\": "
	"\"no_turbo\", \"value\": \"0\", \"min_perf_pct\": 101, \"cpus\": "
	"[0]}}",
};

/* bad_files[i] with "@" standing for the fake's sysfs root. */
static void write_bad(struct fakesysfs *fk, const char *path, size_t i)
{
	const char *at = strchr(bad_files[i], '@');
	FILE *fp = fopen(path, "w");

	ck_assert_ptr_nonnull(fp);
	if (at)
		fprintf(fp, "%.*s%s%s", (int)(at - bad_files[i]), bad_files[i],
			fakesysfs_root(fk), at + 1);
	else
		fputs(bad_files[i], fp);
	fclose(fp);
}

START_TEST(test_corrupt_state_file)
{
	struct fakesysfs *fk = fakesysfs_new("acpi-cpufreq");
	char *path = state_path(fk), *orig = fakesysfs_snapshot(fk), *now;
	VPWR_OPTS(vpwr_backend_opts, o, .state_file = path,
		  .log_fn = fakesysfs_log_fn, .log_userdata = &lg);
	struct vpwr_backend *b = NULL;

	memset(&lg, 0, sizeof(lg));
	write_bad(fk, path, (size_t)_i);
	ck_assert_int_eq(fakesysfs_open(fk, "acpi-cpufreq", &o, &b), -EBADMSG);
	ck_assert_ptr_null(b);
	ck_assert_msg(strstr(lg.text, path) || strstr(lg.text, "state file"),
		      "log: %s", lg.text);
	ck_assert_uint_eq(fakesysfs_writes(fk) + fakesysfs_refused(fk), 0);
	ck_assert(exists(path)); /* kept for whoever looks into it */
	now = fakesysfs_snapshot(fk);
	fakesysfs_assert_same(orig, now);
	free(now);
	free(orig);
	free(path);
	fakesysfs_free(fk);
}
END_TEST

/* A state file that cannot be written: the change is refused whole. */
START_TEST(test_state_file_unwritable)
{
	struct fakesysfs *fk = fakesysfs_new("acpi-cpufreq");
	char *path;
	struct vpwr_backend *b;

	ck_assert(asprintf(&path, "%s/no/such/dir/state", fakesysfs_dir(fk)) > 0);
	b = open_state(fk, "acpi-cpufreq", path);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 2000000), -ENOENT);
	ck_assert_int_eq(vpwr_backend_set_turbo(b, 0, 0), -ENOENT);
	ck_assert_ptr_nonnull(strstr(lg.text, "cannot write it"));
	ck_assert_uint_eq(fakesysfs_writes(fk) + fakesysfs_refused(fk), 0);
	vpwr_backend_free(b);
	ck_assert_uint_eq(fakesysfs_writes(fk), 0);
	free(path);
	fakesysfs_free(fk);
}
END_TEST

/* A CPU offline at free stays in the file, and is put back next time. */
START_TEST(test_offline_kept_for_later)
{
	struct fakesysfs *fk = fakesysfs_new("acpi-cpufreq");
	char *path = state_path(fk), *orig = fakesysfs_snapshot(fk), *now;
	struct vpwr_backend *b = open_state(fk, "acpi-cpufreq", path);
	struct vpwr_logger quiet = { 0 };
	struct vpwr_state st;

	ck_assert_int_eq(vpwr_backend_set_freq(b, 1, 2000000), 0);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 2, 2000000), 0);
	fakesysfs_set_online(fk, 2, false);
	vpwr_backend_free(b);
	ck_assert_ptr_nonnull(strstr(lg.text, "cpu 2 is offline"));
	ck_assert_int_eq(vpwr_state_load(path, &quiet, &st), 0);
	ck_assert(vpwr_cpuset_isset(&st.saved, 2));
	ck_assert(!vpwr_cpuset_isset(&st.saved, 1));
	vpwr_state_fini(&st);
	fakesysfs_set_online(fk, 2, true);
	b = open_state(fk, "acpi-cpufreq", path);
	ck_assert(!exists(path));
	now = fakesysfs_snapshot(fk);
	fakesysfs_assert_same(orig, now);
	vpwr_backend_free(b);
	free(now);
	free(orig);
	free(path);
	fakesysfs_free(fk);
}
END_TEST

static Suite *restore_suite(void)
{
	Suite *s = suite_create("backend_restore");
	TCase *t = tcase_create("restore");
	TCase *f = tcase_create("state_file");

	tcase_add_test(t, test_turbo_collateral);
	tcase_add_test(t, test_shared_policy);
	suite_add_tcase(s, t);
	tcase_add_test(f, test_written_before_first_write);
	tcase_add_test(f, test_sigkill_acpi);
	tcase_add_test(f, test_sigkill_intel);
	tcase_add_test(f, test_sigkill_amd_epp);
	tcase_add_loop_test(f, test_corrupt_state_file, 0,
			    (int)(sizeof(bad_files) / sizeof(*bad_files)));
	tcase_add_test(f, test_state_file_unwritable);
	tcase_add_test(f, test_offline_kept_for_later);
	suite_add_tcase(s, f);
	return s;
}

int main(void)
{
	return vpwr_test_run(restore_suite());
}
