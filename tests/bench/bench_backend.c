/* SPDX-License-Identifier: MIT */
/*
 * Backend benchmark: how fast the simulator runs, and what one frequency
 * change costs per call, through the public API.
 *
 *   bench_backend [-n ITERATIONS] [-t SECONDS] [-r REPEATS]
 *
 * (a) The simulator: 64 CPUs with the work model on, advanced in 1 ms
 *     steps.  "load changes" offers every CPU a new rate before each step
 *     (a 2 s trace replayed at 1 kHz), with overload, drops and draining;
 *     "load steady" only advances.  Reported as ns per step and simulated
 *     CPU-seconds per wall-clock second (64 CPUs x 1 ms per step).
 * (b) vpwr_backend_set_freq / set_limits per call: alternating between two
 *     values on every call ("change"), and the same value again ("same").
 * (c) The same calls through the sysfs drivers against a fake tree on
 *     tmpfs (/dev/shm): what a host pays in system calls.  On a tree of
 *     plain files a changed value costs a pwrite and an ftruncate (on
 *     sysfs only the pwrite); the raw cost of those calls on the same
 *     tmpfs is measured first, for reference.  A driver that is
 *     not in this build, or that will not open the fake tree, is reported
 *     and skipped; add a driver by adding a row to sysfs_drivers[].  A
 *     driver without scaling_setspeed (intel_pstate and amd-pstate-epp
 *     choose the frequency themselves) has set_limits rows only.
 *
 * Without -n, each cell is calibrated to run about -t seconds (default
 * 0.2) and measured -r times (default 5); the median is printed.  With -n
 * every cell runs exactly that many iterations once (a smoke run).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "libvpwr/libvpwr.h"
#include "libvpwr/sim.h"

#ifndef VPWR_BENCH_BUILD_TYPE
#define VPWR_BENCH_BUILD_TYPE "?"
#endif

#define SIM_CPUS 64u
#define STEP_NS 1000000u
#define PATTERN 2000u     /* steps: 2 s of trace, then it repeats */

static unsigned long fixed_iters;
static double cell_seconds = 0.2;
static int repeats = 5;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* One benchmark: run `iters` units of work on ctx; 0 or -errno. */
struct cell {
	int (*run)(void *ctx, unsigned long iters);
	void *ctx;
	int err;                   /* the failure, when measure() gives -1 */
};

/* The last message a backend logged (sysfs drivers explain refusals). */
static char last_log[256];

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* ns per unit: the median of `repeats` runs of about cell_seconds each. */
static double measure(struct cell *c)
{
	double t0, dt, runs[16];
	unsigned long n = 1;

	if (fixed_iters) {
		t0 = now();
		if ((c->err = c->run(c->ctx, fixed_iters)))
			return -1;
		return (now() - t0) * 1e9 / (double)fixed_iters;
	}
	for (;;) { /* calibrate: grow n until a run takes a tenth */
		t0 = now();
		if ((c->err = c->run(c->ctx, n)))
			return -1;
		dt = now() - t0;
		if (dt >= cell_seconds / 10 || n > (1ul << 40))
			break;
		n *= 2;
	}
	n = (unsigned long)((double)n * cell_seconds / (dt > 0 ? dt : 1e-9));
	n = n ? n : 1;
	for (int r = 0; r < repeats; r++) {
		t0 = now();
		if ((c->err = c->run(c->ctx, n)))
			return -1;
		runs[r] = (now() - t0) * 1e9 / (double)n;
	}
	qsort(runs, (size_t)repeats, sizeof(runs[0]), cmp_double);
	return runs[repeats / 2];
}

/* ------------------------------------------------- (a) the simulator */

struct sim_ctx {
	struct vpwr_backend *b;
	unsigned long step;
	double rate[PATTERN];      /* offered units/s, a fixed pseudo-trace */
};

/* A slow triangle wave (period 2 s) with noise on top, from 0.3 to 1.5
 * times the capacity at 2.4 GHz (2.4e6/s): overloaded stretches fill the
 * backlog (max_backlog 1e5, about 40 ms of service) and drop, the rest
 * drains. */
static void make_pattern(struct sim_ctx *x)
{
	uint32_t lcg = 12345;

	for (unsigned i = 0; i < PATTERN; i++) {
		double phase = 2.0 * i / PATTERN; /* 0 .. 2 */
		double wave = phase < 1.0 ? phase : 2.0 - phase;
		double noise;

		lcg = lcg * 1103515245u + 12345u;
		noise = (double)(lcg >> 8) / (1 << 24);
		x->rate[i] = 2.4e6 * (0.3 + 0.9 * wave + 0.3 * noise);
	}
}

static int run_load_changes(void *ctx, unsigned long iters)
{
	struct sim_ctx *x = ctx;
	int err = 0;

	for (unsigned long i = 0; i < iters && !err; i++, x->step++) {
		for (unsigned cpu = 0; cpu < SIM_CPUS && !err; cpu++)
			err = vpwr_sim_set_offered(
				x->b, cpu,
				x->rate[(x->step + cpu * 37u) % PATTERN]);
		if (!err)
			err = vpwr_sim_advance(x->b, STEP_NS);
	}
	return err;
}

static int run_advance(void *ctx, unsigned long iters)
{
	struct sim_ctx *x = ctx;
	int err = 0;

	for (unsigned long i = 0; i < iters && !err; i++)
		err = vpwr_sim_advance(x->b, STEP_NS);
	return err;
}

static int open_sim(unsigned nr_cpus, struct vpwr_backend **b)
{
	VPWR_OPTS(vpwr_sim_opts, so, .nr_cpus = nr_cpus, .max_backlog = 1e5);
	VPWR_OPTS(vpwr_backend_opts, o, .sim = &so);

	return vpwr_backend_open("sim", &o, b);
}

static void sim_row(const char *what, struct cell *c)
{
	double ns = measure(c);

	if (ns < 0)
		printf("%-44s %12s %s\n", what, "error", vpwr_strerror(c->err));
	else
		printf("%-44s %12.1f %16.0f\n", what, ns,
		       SIM_CPUS * (STEP_NS / 1e9) / (ns / 1e9));
	fflush(stdout);
}

static int bench_sim(void)
{
	struct sim_ctx x = { 0 };
	struct vpwr_sim_work_stats st;
	struct cell c = { .ctx = &x };
	int err;

	if ((err = open_sim(SIM_CPUS, &x.b)))
		return err;
	make_pattern(&x);
	printf("%-44s %12s %16s\n", "(a) simulator, 64 CPUs, 1 ms steps",
	       "ns/step", "sim CPU-s/wall-s");
	c.run = run_advance;
	sim_row("work model off (poll mode, util only)", &c);
	c.run = run_load_changes;
	sim_row("work model on, load changes every step", &c);
	c.run = run_advance;
	sim_row("work model on, load steady", &c);
	/* Show the work model really was busy: queueing and dropping. */
	err = vpwr_sim_work_stats(x.b, 0, &st);
	if (!err)
		printf("  cpu0 after the runs: offered %.3g, served %.3g, "
		       "dropped %.3g, backlog %.3g, mean wait %.3g s\n",
		       st.offered, st.served, st.dropped, st.backlog,
		       st.served > 0 ? st.wait_unit_s / st.served : 0.0);
	vpwr_backend_free(x.b);
	return err;
}

/* ------------------------------------- (b), (c) cost of one change */

struct set_ctx {
	struct vpwr_backend *b;
	unsigned nr_cpus;
	uint32_t lo, hi;           /* two valid frequencies */
	int change;                /* alternate, or repeat lo */
	int limits;                /* set_limits, else set_freq */
};

static int run_set(void *ctx, unsigned long iters)
{
	struct set_ctx *x = ctx;
	int err = 0;

	for (unsigned long i = 0; i < iters && !err; i++) {
		unsigned cpu = (unsigned)(i % x->nr_cpus);
		uint32_t khz = x->change && (i / x->nr_cpus) % 2 ? x->hi
								 : x->lo;

		err = x->limits ? vpwr_backend_set_limits(x->b, cpu, x->lo, khz)
				: vpwr_backend_set_freq(x->b, cpu, khz);
	}
	return err;
}

static void set_row(const char *backend, struct set_ctx *x)
{
	struct cell c = { .run = run_set, .ctx = x };
	char what[96];
	double ns;

	snprintf(what, sizeof(what), "%s %s, %s", backend,
		 x->limits ? "set_limits" : "set_freq",
		 x->change ? "change" : "same");
	last_log[0] = '\0';
	ns = measure(&c);
	if (ns < 0)
		printf("%-44s %12s %s (%s)\n", what, "error",
		       vpwr_strerror(c.err), last_log);
	else
		printf("%-44s %12.1f %16.0f\n", what, ns, 1e9 / ns);
	fflush(stdout);
}

/* Every combination of set_freq/set_limits and change/same on b. */
static int bench_sets(const char *label, struct vpwr_backend *b)
{
	uint32_t khz[64];
	int n = vpwr_backend_get_freqs(b, 0, khz, 64);
	struct set_ctx x = { .b = b };

	if (n < 2)
		return n < 0 ? n : -EINVAL;
	x.nr_cpus = (unsigned)vpwr_backend_nr_cpus(b);
	x.lo = khz[0];
	x.hi = khz[n - 1];
	/* Wide limits first, so that set_freq can reach both values. */
	for (unsigned cpu = 0; cpu < x.nr_cpus; cpu++)
		vpwr_backend_set_limits(b, cpu, x.lo, x.hi);
	for (x.limits = 0; x.limits < 2; x.limits++)
		for (x.change = 1; x.change >= 0; x.change--)
			if (x.limits ||
			    (vpwr_backend_caps(b, 0) & VPWR_BACKEND_CAP_SET_FREQ))
				set_row(label, &x);
			else
				printf("%s set_freq, %-*s %12s (the driver picks "
				       "the frequency)\n", label,
				       (int)(44 - strlen(label) - 11),
				       x.change ? "change" : "same", "n/a");
	return 0;
}

static int bench_sim_sets(void)
{
	struct vpwr_backend *b;
	int err = open_sim(SIM_CPUS, &b);

	if (err)
		return err;
	printf("\n%-44s %12s %16s\n", "(b) one call", "ns/call", "calls/s");
	err = bench_sets("sim", b);
	vpwr_backend_free(b);
	return err;
}

/* ----------------------------------------- (c) sysfs drivers on tmpfs */

#define FAKE_CPUS 4u

static void put(const char *root, const char *rel, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	for (char *p = path + strlen(root) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	f = fopen(path, "w");
	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/*
 * What one driver's tree looks like: every CPU alike, online, and already
 * under the governor the benchmark needs (userspace where the driver has
 * scaling_setspeed: from another governor the kernel would fill
 * scaling_setspeed in when the backend switches; a static tree cannot).
 */
struct fake_driver {
	const char *name;        /* backend and scaling_driver */
	const char *governors;
	const char *governor;
	const char *frequencies; /* scaling_available_frequencies, or NULL */
	const char *min, *max;   /* cpuinfo_min/max_freq */
	const char *base;        /* base_frequency, or NULL */
	const char *turbo_rel;   /* the turbo knob, relative to .../cpu */
	const char *turbo_val;
	int setspeed;            /* has scaling_setspeed */
	const char *epp;         /* energy_performance_preference, or NULL */
	const char *status;      /* intel_pstate/status or amd_pstate/status */
};

#define GENERIC_GOVS                                                           \
	"conservative ondemand userspace powersave performance schedutil\n"
#define EPP_NAMES                                                              \
	"default performance balance_performance balance_power power\n"

static const struct fake_driver sysfs_drivers[] = {
	{ "acpi-cpufreq", GENERIC_GOVS, "userspace\n",
	  "2400000 2200000 2000000 1800000 1600000 1400000 1200000 1000000 "
	  "800000\n",
	  "800000\n", "2400000\n", NULL, "cpufreq/boost", "1\n", 1, NULL,
	  NULL },
	{ "intel_pstate", "performance powersave\n", "powersave\n", NULL,
	  "400000\n", "3500000\n", "2800000\n", "intel_pstate/no_turbo", "0\n",
	  0, "balance_performance\n", "intel_pstate/status" },
	{ "intel_cpufreq", GENERIC_GOVS, "userspace\n", NULL, "400000\n",
	  "3500000\n", "2800000\n", "intel_pstate/no_turbo", "0\n", 1,
	  "balance_performance\n", "intel_pstate/status" },
	{ "cppc_cpufreq", GENERIC_GOVS, "userspace\n", NULL, "1000000\n",
	  "3050000\n", NULL, "cpufreq/boost", "1\n", 1, NULL, NULL },
	{ "amd-pstate", GENERIC_GOVS, "userspace\n", NULL, "400000\n",
	  "4680000\n", NULL, "cpufreq/boost", "1\n", 1, NULL,
	  "amd_pstate/status" },
	{ "amd-pstate-epp", "performance powersave\n", "powersave\n", NULL,
	  "400000\n", "4680000\n", NULL, "cpufreq/boost", "1\n", 0,
	  "balance_performance\n", "amd_pstate/status" },
};

static void put_cpu(const char *root, unsigned cpu, const char *attr,
		    const char *text)
{
	char rel[256];

	if (!text)
		return;
	snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%u/cpufreq/%s", cpu,
		 attr);
	put(root, rel, text);
}

static void build_tree(const char *root, const struct fake_driver *d)
{
	char rel[256], drv[64];

	snprintf(drv, sizeof(drv), "%s\n", d->name);
	put(root, "devices/system/cpu/present", "0-3\n");
	put(root, "devices/system/cpu/possible", "0-3\n");
	put(root, "devices/system/cpu/online", "0-3\n");
	snprintf(rel, sizeof(rel), "devices/system/cpu/%s", d->turbo_rel);
	put(root, rel, d->turbo_val);
	if (d->status) {
		snprintf(rel, sizeof(rel), "devices/system/cpu/%s", d->status);
		put(root, rel, strstr(d->name, "epp") || !strcmp(d->name,
			"intel_pstate") ? "active\n" : "passive\n");
	}
	for (unsigned cpu = 0; cpu < FAKE_CPUS; cpu++) {
		snprintf(rel, sizeof(rel), "devices/system/cpu/cpu%u/online",
			 cpu);
		put(root, rel, "1\n");
		put_cpu(root, cpu, "scaling_driver", drv);
		put_cpu(root, cpu, "scaling_governor", d->governor);
		put_cpu(root, cpu, "scaling_available_governors", d->governors);
		put_cpu(root, cpu, "scaling_available_frequencies",
			d->frequencies);
		put_cpu(root, cpu, "cpuinfo_min_freq", d->min);
		put_cpu(root, cpu, "cpuinfo_max_freq", d->max);
		put_cpu(root, cpu, "scaling_min_freq", d->min);
		put_cpu(root, cpu, "scaling_max_freq", d->max);
		put_cpu(root, cpu, "scaling_cur_freq", d->max);
		put_cpu(root, cpu, "base_frequency", d->base);
		put_cpu(root, cpu, "scaling_setspeed",
			d->setspeed ? d->max : NULL);
		put_cpu(root, cpu, "energy_performance_preference", d->epp);
		put_cpu(root, cpu, "energy_performance_available_preferences",
			d->epp ? EPP_NAMES : NULL);
	}
}

static void keep_last(enum vpwr_log_level level, const char *msg, void *ud)
{
	(void)level;
	(void)ud;
	snprintf(last_log, sizeof(last_log), "%s", msg);
}

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

/* The system calls a set costs, alone, on a tmpfs file. */
struct raw_ctx {
	int fd;
	int what; /* 0 pwrite, 1 pwrite + ftruncate, 2 pread */
};

static int run_raw(void *ctx, unsigned long iters)
{
	struct raw_ctx *x = ctx;
	char buf[32];

	for (unsigned long i = 0; i < iters; i++) {
		const char *v = i % 2 ? "800000" : "2400000";
		size_t len = strlen(v);

		if (x->what == 2 ? pread(x->fd, buf, sizeof(buf), 0) < 0
				 : pwrite(x->fd, v, len, 0) != (ssize_t)len)
			return -errno;
		if (x->what == 1 && ftruncate(x->fd, (off_t)len))
			return -errno;
	}
	return 0;
}

static void bench_raw(const char *root)
{
	static const char *const what[] = {
		"reference: pwrite on tmpfs",
		"reference: pwrite + ftruncate on tmpfs",
		"reference: pread on tmpfs",
	};
	struct raw_ctx x;
	struct cell c = { .run = run_raw, .ctx = &x };
	char path[4096];

	snprintf(path, sizeof(path), "%s/raw", root);
	x.fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
	if (x.fd < 0)
		return;
	for (x.what = 0; x.what < 3; x.what++) {
		double ns = measure(&c);

		if (ns < 0)
			printf("%-44s %12s %s\n", what[x.what], "error",
			       vpwr_strerror(c.err));
		else
			printf("%-44s %12.1f %16.0f\n", what[x.what], ns,
			       1e9 / ns);
	}
	close(x.fd);
	unlink(path);
}

static void bench_sysfs(void)
{
	char raw[] = "/dev/shm/vpwr-bench-XXXXXX";

	printf("\n%-44s %12s %16s\n", "(c) sysfs drivers, fake tree on tmpfs",
	       "ns/call", "calls/s");
	if (mkdtemp(raw)) {
		bench_raw(raw);
		rmdir(raw);
	}
	for (size_t i = 0; i < sizeof(sysfs_drivers) / sizeof(sysfs_drivers[0]);
	     i++) {
		char root[] = "/dev/shm/vpwr-bench-XXXXXX";
		VPWR_OPTS(vpwr_backend_opts, o, .sysfs_root = root,
			  .log_fn = keep_last);
		struct vpwr_backend *b = NULL;
		int err;

		if (!mkdtemp(root)) {
			printf("%s: no tmpfs at /dev/shm: %s\n",
			       sysfs_drivers[i].name, strerror(errno));
			continue;
		}
		build_tree(root, &sysfs_drivers[i]);
		last_log[0] = '\0';
		err = vpwr_backend_open(sysfs_drivers[i].name, &o, &b);
		if (err == -ENOENT && strstr(last_log, "unknown backend"))
			printf("%s: not in this build, skipped\n",
			       sysfs_drivers[i].name);
		else if (err)
			printf("%s: does not open the fake tree: %s (%s)\n",
			       sysfs_drivers[i].name, vpwr_strerror(err),
			       last_log);
		else if ((err = bench_sets(sysfs_drivers[i].name, b)))
			printf("%s: %s (%s)\n", sysfs_drivers[i].name,
			       vpwr_strerror(err), last_log);
		vpwr_backend_free(b);
		nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	}
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [-n ITERATIONS] [-t SECONDS] [-r REPEATS]\n",
		argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	int err;

	for (int i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage(argv[0]);
		if (!strcmp(argv[i], "-n"))
			fixed_iters = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "-t"))
			cell_seconds = strtod(argv[++i], NULL);
		else if (!strcmp(argv[i], "-r"))
			repeats = atoi(argv[++i]);
		else
			usage(argv[0]);
	}
	if (cell_seconds <= 0 || repeats < 1 || repeats > 16)
		usage(argv[0]);
	printf("libvpwr %s backend benchmark (%s build), %s\n\n",
	       vpwr_version_string(), VPWR_BENCH_BUILD_TYPE,
	       fixed_iters ? "fixed iterations" : "median of calibrated runs");
	if ((err = bench_sim()) || (err = bench_sim_sets())) {
		fprintf(stderr, "bench_backend: %s\n", vpwr_strerror(err));
		return 1;
	}
	bench_sysfs();
	return 0;
}
