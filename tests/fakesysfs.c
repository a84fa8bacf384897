/*
 * The fake kernel of fakesysfs.h.  What it enforces on every write, after
 * Documentation/admin-guide/pm/{cpufreq,intel_pstate,amd-pstate}.rst:
 *
 * every policy (cpuN/cpufreq/)
 *   - only scaling_governor, scaling_min_freq, scaling_max_freq,
 *     scaling_setspeed and energy_performance_preference are writable;
 *     opening any other attribute for writing: EACCES
 *   - numbers are plain decimal (a trailing newline allowed), else EINVAL
 *   - scaling_governor must be a word of scaling_available_governors
 *   - scaling_min_freq above scaling_max_freq, or scaling_max_freq below
 *     scaling_min_freq: EINVAL (the documented rule; kernels with frequency
 *     QoS, 5.3 and later, accept the write and let max win)
 *   - limits outside cpuinfo_min/max_freq are clamped into them, and with
 *     intel_pstate's no_turbo set, to the highest non-turbo frequency
 *   - scaling_setspeed without the userspace governor: EINVAL; it shows
 *     <unsupported> then; switching to userspace starts it at the current
 *     frequency
 *   - scaling_cur_freq follows the governor: performance runs at the max,
 *     powersave at the min (generic governors), userspace at setspeed,
 *     the others at the fixture's demand_khz; always within the limits,
 *     on a table entry for table drivers
 *   - an offline CPU: no cpufreq directory when offline from the start;
 *     taken offline later, its policy is inactive and every read or write
 *     of its files fails with EBUSY
 * EPP (energy_performance_preference)
 *   - a word of energy_performance_available_preferences ("default" being
 *     the firmware's value), or 0..255 where the fixture says numbers are
 *     taken (intel_pstate with HWP EPP), else EINVAL
 *   - intel_pstate (active) and amd-pstate-epp: under the performance
 *     governor EPP shows performance and anything else is refused with
 *     EBUSY; leaving performance gives the previous EPP back
 * turbo
 *   - cpufreq/boost takes 0 or 1 only (EINVAL); 0 brings every policy's
 *     cpuinfo_max_freq down to the nominal frequency, clamps scaling_min/
 *     max_freq to it and hides the turbo entries of
 *     scaling_available_frequencies; 1 raises cpuinfo_max_freq again and
 *     leaves the limits where they are
 *   - intel_pstate/no_turbo takes a number, clamped to 0..1 (as the driver
 *     does); 1 lowers scaling_min/max_freq to the non-turbo maximum but
 *     leaves cpuinfo_max_freq; 0 gives back the limits it lowered unless
 *     they were written in between
 *   - intel_pstate/max_perf_pct and min_perf_pct (percent of the highest
 *     turbo P-state) take a number, clamped as store_max/min_perf_pct do:
 *     max into [min_perf_pct, 100], min into [the lowest P-state's
 *     percent, max_perf_pct]; non-numbers EINVAL.  no_turbo 1 squashes
 *     min_perf_pct to the non-turbo maximum's percent and 0 does not give
 *     it back.  In active mode (the driver's own governors) they bound the
 *     frequency the CPU runs at as intel_pstate_update_perf_limits() does,
 *     a policy's min winning over the global max and its max over the
 *     global min; scaling_min/max_freq do not show them.  (In passive mode
 *     the kernel turns them into frequency QoS requests that
 *     scaling_min/max_freq show: not modelled.)
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fakesysfs.h"
#include "testutil.h"

#define FK_CPUS 128
#define FK_HANDLES 1024
#define FK_STR 64
#define FK_FREQS 64

struct fk_model { /* the fixture; read-only once loaded */
	char driver[FK_STR];
	unsigned nr_cpus;
	bool offline[FK_CPUS];
	char governors[256];
	uint32_t cpuinfo_min, cpuinfo_max, nominal, demand;
	uint32_t freqs[FK_FREQS]; /* descending, as the kernel lists them */
	unsigned nr_freqs;
	bool setspeed, setpolicy;
	int boost, no_turbo; /* -1: no such knob */
	bool epp, epp_numeric, epp_busy;
	char epp_available[256];
	struct { char name[FK_STR]; unsigned value; } epp_names[8];
	unsigned nr_epp_names, epp_default;
};

struct fk_shared { /* the kernel's state, shared with forked children */
	unsigned writes, refused, write_opens, opens, reads;
	char last_refusal[256];
	bool inactive[FK_CPUS];
	uint32_t nt_min[FK_CPUS], nt_max[FK_CPUS]; /* before no_turbo; 0 */
	char epp_perf[FK_CPUS][FK_STR]; /* EPP before performance */
	char fail_rel[128];
	int fail_err;
};

struct fakesysfs {
	char *dir;
	char root[1024], cpu_dir[1100];
	struct fk_model m;
	struct fk_shared *sh;
	struct { int fd; char rel[128]; } h[FK_HANDLES];
	unsigned nr_handles;
	void (*on_write)(void *ud, const char *rel, const char *val);
	void *ud;
	char get[4][4096];
	unsigned get_i;
};

/* ------------------------------------------------------------- files */

static int fk_read(struct fakesysfs *f, const char *rel, char *buf, size_t cap)
{
	char path[2048];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", f->cpu_dir, rel);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n < 0)
		return -errno;
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	return 0;
}

static void fk_set(struct fakesysfs *f, const char *rel, const char *text)
{
	char full[4096];

	snprintf(full, sizeof(full), "%s\n", text);
	vpwr_test_write_file(f->cpu_dir, rel, full);
}

static bool fk_parse(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || v > UINT32_MAX || (*end && strcmp(end, "\n")))
		return false;
	*out = (uint32_t)v;
	return true;
}

static uint32_t cpu_u32(struct fakesysfs *f, unsigned cpu, const char *attr)
{
	char rel[256], buf[64];
	uint32_t v = 0;

	snprintf(rel, sizeof(rel), "cpu%u/cpufreq/%s", cpu, attr);
	if (!fk_read(f, rel, buf, sizeof(buf)))
		fk_parse(buf, &v);
	return v;
}

static void cpu_get(struct fakesysfs *f, unsigned cpu, const char *attr,
		    char *buf, size_t cap)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "cpu%u/cpufreq/%s", cpu, attr);
	if (fk_read(f, rel, buf, cap))
		buf[0] = '\0';
}

static void cpu_set(struct fakesysfs *f, unsigned cpu, const char *attr,
		    const char *text)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "cpu%u/cpufreq/%s", cpu, attr);
	fk_set(f, rel, text);
}

static void cpu_set_u32(struct fakesysfs *f, unsigned cpu, const char *attr,
			uint32_t v)
{
	char text[16];

	snprintf(text, sizeof(text), "%u", v);
	cpu_set(f, cpu, attr, text);
}

static bool word_in(const char *list, const char *w)
{
	return vpwr_sysfs_word_in(list, w);
}

/* A policy the kernel acts on: it exists and its CPU is online. */
static bool active(const struct fakesysfs *f, unsigned cpu)
{
	return !f->m.offline[cpu] && !f->sh->inactive[cpu];
}

/* ------------------------------------------------------- the policy */

/* intel_pstate/<name>_perf_pct, or -1 without one. */
static int perf_pct(struct fakesysfs *f, const char *name)
{
	char rel[64], buf[16];
	uint32_t v;

	snprintf(rel, sizeof(rel), "intel_pstate/%s_perf_pct", name);
	if (f->m.no_turbo < 0 || fk_read(f, rel, buf, sizeof(buf)) ||
	    !fk_parse(buf, &v))
		return -1;
	return (int)v;
}

/* A P-state ratio (100 MHz units) of the highest turbo one times pct%,
 * rounded up as the driver does, in kHz. */
static uint32_t pct_khz(const struct fakesysfs *f, int pct)
{
	uint32_t turbo = f->m.cpuinfo_max / 100000;

	return (turbo * (uint32_t)pct + 99) / 100 * 100000;
}

/*
 * intel_pstate in active mode: the limits a CPU runs within, from its
 * policy's and the global percentages, as intel_pstate_update_perf_limits.
 */
static void global_window(struct fakesysfs *f, uint32_t *lo, uint32_t *hi)
{
	int gmax = perf_pct(f, "max"), gmin = perf_pct(f, "min");
	uint32_t max_khz, min_khz;

	if (!f->m.setpolicy || gmax < 0 || gmin < 0)
		return;
	max_khz = pct_khz(f, gmax);
	min_khz = pct_khz(f, gmin);
	min_khz = min_khz > max_khz ? max_khz : min_khz;
	max_khz = *hi < max_khz ? *hi : max_khz;
	max_khz = *lo > max_khz ? *lo : max_khz;
	min_khz = *lo > min_khz ? *lo : min_khz;
	*lo = min_khz < max_khz ? min_khz : max_khz;
	*hi = max_khz;
}

static uint32_t top(struct fakesysfs *f, unsigned cpu)
{
	char nt[8];

	if (f->m.no_turbo >= 0 && !fk_read(f, "intel_pstate/no_turbo", nt,
					   sizeof(nt)) && !strcmp(nt, "1"))
		return f->m.nominal;
	return cpu_u32(f, cpu, "cpuinfo_max_freq");
}

/*
 * Where x lands within [lo, hi]: as is on a continuous scale; on a table,
 * the lowest entry at or above x (high: the highest at or below x).
 */
static uint32_t resolve(struct fakesysfs *f, unsigned cpu, uint32_t x,
			uint32_t lo, uint32_t hi, bool high)
{
	uint32_t cap = cpu_u32(f, cpu, "cpuinfo_max_freq"), best = 0;

	x = x < lo ? lo : x > hi ? hi : x;
	if (!f->m.nr_freqs)
		return x;
	for (unsigned i = 0; i < f->m.nr_freqs; i++) {
		uint32_t e = f->m.freqs[i]; /* descending */

		if (e > cap || e < lo || e > hi)
			continue;
		if (high ? e <= x && !best : e >= x)
			best = e;
	}
	return best ? best : x;
}

static void apply(struct fakesysfs *f, unsigned cpu)
{
	char gov[FK_STR];
	uint32_t lo = cpu_u32(f, cpu, "scaling_min_freq");
	uint32_t hi = cpu_u32(f, cpu, "scaling_max_freq"), t;
	bool high = false;

	cpu_get(f, cpu, "scaling_governor", gov, sizeof(gov));
	if (!strcmp(gov, "performance"))
		t = hi, high = true;
	else if (!strcmp(gov, "powersave") && !f->m.setpolicy)
		t = lo;
	else if (!strcmp(gov, "userspace"))
		t = cpu_u32(f, cpu, "scaling_setspeed");
	else
		t = f->m.demand;
	global_window(f, &lo, &hi);
	cpu_set_u32(f, cpu, "scaling_cur_freq", resolve(f, cpu, t, lo, hi, high));
}

static void set_table(struct fakesysfs *f, unsigned cpu)
{
	uint32_t cap = cpu_u32(f, cpu, "cpuinfo_max_freq");
	char list[1024] = "";
	size_t len = 0;

	for (unsigned i = 0; i < f->m.nr_freqs; i++)
		if (f->m.freqs[i] <= cap)
			len += (size_t)snprintf(list + len, sizeof(list) - len,
						"%u ", f->m.freqs[i]);
	if (f->m.nr_freqs)
		cpu_set(f, cpu, "scaling_available_frequencies", list);
}

static int w_limit(struct fakesysfs *f, unsigned cpu, bool is_max,
		   const char *val)
{
	uint32_t v, min = cpu_u32(f, cpu, "scaling_min_freq");
	uint32_t max = cpu_u32(f, cpu, "scaling_max_freq"), hi = top(f, cpu);

	if (!fk_parse(val, &v) || (is_max ? v < min : v > max))
		return -EINVAL;
	v = v < f->m.cpuinfo_min ? f->m.cpuinfo_min : v > hi ? hi : v;
	cpu_set_u32(f, cpu, is_max ? "scaling_max_freq" : "scaling_min_freq", v);
	(is_max ? f->sh->nt_max : f->sh->nt_min)[cpu] = 0;
	apply(f, cpu);
	return 0;
}

static int w_setspeed(struct fakesysfs *f, unsigned cpu, const char *val)
{
	char gov[FK_STR];
	uint32_t v;

	cpu_get(f, cpu, "scaling_governor", gov, sizeof(gov));
	if (strcmp(gov, "userspace") || !fk_parse(val, &v))
		return -EINVAL;
	cpu_set_u32(f, cpu, "scaling_setspeed", v);
	apply(f, cpu);
	return 0;
}

static int w_governor(struct fakesysfs *f, unsigned cpu, const char *val)
{
	char gov[FK_STR], old[FK_STR], epp[FK_STR];

	snprintf(gov, sizeof(gov), "%.*s", (int)strcspn(val, "\n"), val);
	if (!*gov || !word_in(f->m.governors, gov))
		return -EINVAL;
	cpu_get(f, cpu, "scaling_governor", old, sizeof(old));
	if (f->m.setspeed && strcmp(old, gov) && !strcmp(gov, "userspace"))
		cpu_set_u32(f, cpu, "scaling_setspeed",
			    cpu_u32(f, cpu, "scaling_cur_freq"));
	else if (f->m.setspeed && strcmp(gov, "userspace"))
		cpu_set(f, cpu, "scaling_setspeed", "<unsupported>");
	if (f->m.epp && f->m.epp_busy && !strcmp(gov, "performance") &&
	    strcmp(old, "performance")) {
		cpu_get(f, cpu, "energy_performance_preference", epp, sizeof(epp));
		snprintf(f->sh->epp_perf[cpu], FK_STR, "%s", epp);
		cpu_set(f, cpu, "energy_performance_preference", "performance");
	} else if (f->m.epp && f->m.epp_busy && strcmp(gov, "performance") &&
		   !strcmp(old, "performance") && f->sh->epp_perf[cpu][0]) {
		cpu_set(f, cpu, "energy_performance_preference",
			f->sh->epp_perf[cpu]);
		f->sh->epp_perf[cpu][0] = '\0';
	}
	cpu_set(f, cpu, "scaling_governor", gov);
	apply(f, cpu);
	return 0;
}

static int w_epp(struct fakesysfs *f, unsigned cpu, const char *val)
{
	char gov[FK_STR], name[FK_STR], avail[256];
	const char *shown = NULL;
	uint32_t raw = UINT32_MAX;

	snprintf(name, sizeof(name), "%.*s", (int)strcspn(val, "\n"), val);
	cpu_get(f, cpu, "energy_performance_available_preferences", avail,
		sizeof(avail));
	if (word_in(avail, name) && !strcmp(name, "default"))
		raw = f->m.epp_default;
	for (unsigned i = 0; i < f->m.nr_epp_names; i++)
		if (word_in(avail, name) && !strcmp(f->m.epp_names[i].name, name))
			raw = f->m.epp_names[i].value;
	if (raw == UINT32_MAX && !(f->m.epp_numeric && fk_parse(val, &raw) &&
				   raw <= 255))
		return -EINVAL;
	cpu_get(f, cpu, "scaling_governor", gov, sizeof(gov));
	if (f->m.epp_busy && !strcmp(gov, "performance") && raw)
		return -EBUSY;
	for (unsigned i = 0; i < f->m.nr_epp_names; i++)
		if (f->m.epp_names[i].value == raw)
			shown = f->m.epp_names[i].name;
	snprintf(name, sizeof(name), "%u", raw);
	cpu_set(f, cpu, "energy_performance_preference", shown ? shown : name);
	return 0;
}

/* ------------------------------------------------------------- global */

static int w_boost(struct fakesysfs *f, const char *val)
{
	char cur[8];
	bool on;

	if (strcmp(val, "0") && strcmp(val, "1") && strcmp(val, "0\n") &&
	    strcmp(val, "1\n"))
		return -EINVAL;
	on = val[0] == '1';
	fk_read(f, "cpufreq/boost", cur, sizeof(cur));
	fk_set(f, "cpufreq/boost", on ? "1" : "0");
	for (unsigned cpu = 0; cur[0] != val[0] && cpu < f->m.nr_cpus; cpu++) {
		uint32_t cap = on ? f->m.cpuinfo_max : f->m.nominal;

		if (!active(f, cpu))
			continue;
		cpu_set_u32(f, cpu, "cpuinfo_max_freq", cap);
		if (!on && cpu_u32(f, cpu, "scaling_max_freq") > cap)
			cpu_set_u32(f, cpu, "scaling_max_freq", cap);
		if (!on && cpu_u32(f, cpu, "scaling_min_freq") > cap)
			cpu_set_u32(f, cpu, "scaling_min_freq", cap);
		set_table(f, cpu);
		apply(f, cpu);
	}
	return 0;
}

/* Lower one limit to the non-turbo maximum, or give it back. */
static void no_turbo_limit(struct fakesysfs *f, unsigned cpu, bool off,
			   const char *attr, uint32_t *saved)
{
	uint32_t v = cpu_u32(f, cpu, attr);

	if (off && v > f->m.nominal) {
		*saved = v;
		cpu_set_u32(f, cpu, attr, f->m.nominal);
	} else if (!off && *saved) {
		cpu_set_u32(f, cpu, attr, *saved);
		*saved = 0;
	}
}

static int w_no_turbo(struct fakesysfs *f, const char *val)
{
	char cur[8];
	uint32_t v;

	if (!fk_parse(val, &v))
		return -EINVAL;
	v = v ? 1 : 0;
	fk_read(f, "intel_pstate/no_turbo", cur, sizeof(cur));
	fk_set(f, "intel_pstate/no_turbo", v ? "1" : "0");
	/* "Squash the global minimum into the permitted range", never
	 * given back. */
	if (v && cur[0] != '1' && perf_pct(f, "min") >
	    (int)(f->m.nominal / 100000 * 100 / (f->m.cpuinfo_max / 100000))) {
		char pct[16];

		snprintf(pct, sizeof(pct), "%u", f->m.nominal / 100000 * 100 /
			 (f->m.cpuinfo_max / 100000));
		fk_set(f, "intel_pstate/min_perf_pct", pct);
	}
	for (unsigned cpu = 0; cur[0] - '0' != (int)v && cpu < f->m.nr_cpus;
	     cpu++) {
		if (!active(f, cpu))
			continue;
		no_turbo_limit(f, cpu, v, "scaling_min_freq",
			       &f->sh->nt_min[cpu]);
		no_turbo_limit(f, cpu, v, "scaling_max_freq",
			       &f->sh->nt_max[cpu]);
		apply(f, cpu);
	}
	return 0;
}

/* store_max_perf_pct, store_min_perf_pct: clamped, never refused. */
static int w_perf_pct(struct fakesysfs *f, bool is_max, uint32_t v)
{
	int in = (int)v, lo, hi; /* the driver's clamp_t(int, ...) */
	unsigned cpu;
	char text[16];

	if (is_max) {
		lo = perf_pct(f, "min");
		hi = 100;
	} else {
		lo = (int)(f->m.cpuinfo_min / 100000 * 100 /
			   (f->m.cpuinfo_max / 100000));
		hi = perf_pct(f, "max");
	}
	in = in < lo ? lo : in > hi ? hi : in;
	snprintf(text, sizeof(text), "%d", in);
	fk_set(f, is_max ? "intel_pstate/max_perf_pct"
			 : "intel_pstate/min_perf_pct", text);
	for (cpu = 0; cpu < f->m.nr_cpus; cpu++)
		if (active(f, cpu))
			apply(f, cpu);
	return 0;
}

/* ------------------------------------------------------------ the io */

static const char *const policy_rw[] = {
	"scaling_governor", "scaling_min_freq", "scaling_max_freq",
	"scaling_setspeed", "energy_performance_preference",
};
static const char *const global_rw[] = {
	"cpufreq/boost", "intel_pstate/no_turbo", "intel_pstate/max_perf_pct",
	"intel_pstate/min_perf_pct",
};

/* For cpuN/cpufreq/<attr>: N and attr; else -1. */
static int policy_of(const char *rel, const char **attr)
{
	unsigned cpu;
	int n = 0;

	if (sscanf(rel, "cpu%u/cpufreq/%n", &cpu, &n) != 1 || !n ||
	    cpu >= FK_CPUS)
		return -1;
	*attr = rel + n;
	return (int)cpu;
}

static bool writable(const char *rel)
{
	const char *attr;

	if (policy_of(rel, &attr) >= 0) {
		for (size_t i = 0; i < sizeof(policy_rw) / sizeof(*policy_rw); i++)
			if (!strcmp(attr, policy_rw[i]))
				return true;
		return false;
	}
	for (size_t i = 0; i < sizeof(global_rw) / sizeof(*global_rw); i++)
		if (!strcmp(rel, global_rw[i]))
			return true;
	return false;
}

static int judge(struct fakesysfs *f, const char *rel, const char *val)
{
	const char *attr;
	int cpu = policy_of(rel, &attr);
	uint32_t v;

	if (cpu >= 0 && !strcmp(attr, "scaling_governor"))
		return w_governor(f, (unsigned)cpu, val);
	if (cpu >= 0 && !strcmp(attr, "scaling_min_freq"))
		return w_limit(f, (unsigned)cpu, false, val);
	if (cpu >= 0 && !strcmp(attr, "scaling_max_freq"))
		return w_limit(f, (unsigned)cpu, true, val);
	if (cpu >= 0 && !strcmp(attr, "scaling_setspeed"))
		return w_setspeed(f, (unsigned)cpu, val);
	if (cpu >= 0)
		return w_epp(f, (unsigned)cpu, val);
	if (!strcmp(rel, "cpufreq/boost"))
		return w_boost(f, val);
	if (!strcmp(rel, "intel_pstate/no_turbo"))
		return w_no_turbo(f, val);
	if (!fk_parse(val, &v))
		return -EINVAL;
	return w_perf_pct(f, !strcmp(rel, "intel_pstate/max_perf_pct"), v);
}

/* -EBUSY for the files of a policy made inactive. */
static int inactive_file(const struct fakesysfs *f, const char *rel)
{
	const char *attr;
	int cpu = policy_of(rel, &attr);

	return cpu >= 0 && f->sh->inactive[cpu] ? -EBUSY : 0;
}

static int fk_open(void *ctx, const char *path, enum vpwr_sysfs_mode mode)
{
	struct fakesysfs *f = ctx;
	size_t len = strlen(f->cpu_dir);
	const char *rel = path + len + 1;
	unsigned i = 0;
	int fd;

	if (strncmp(path, f->cpu_dir, len) || path[len] != '/')
		return -ENOENT; /* nothing of this kernel's */
	f->sh->opens++;
	if (mode != VPWR_SYSFS_READ)
		f->sh->write_opens++;
	if (mode != VPWR_SYSFS_READ && !writable(rel))
		return access(path, F_OK) ? -ENOENT : -EACCES;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	while (i < FK_HANDLES && f->h[i].fd >= 0)
		i++;
	ck_assert_msg(i < FK_HANDLES, "fakesysfs: out of handles");
	f->h[i].fd = fd;
	snprintf(f->h[i].rel, sizeof(f->h[i].rel), "%s", rel);
	f->nr_handles++;
	return (int)i;
}

static ssize_t fk_read_h(void *ctx, int h, char *buf, size_t cap)
{
	struct fakesysfs *f = ctx;
	int err = inactive_file(f, f->h[h].rel);
	ssize_t n;

	f->sh->reads++;
	if (err)
		return err;
	n = pread(f->h[h].fd, buf, cap, 0);
	return n < 0 ? -errno : n;
}

static int fk_write_h(void *ctx, int h, const char *buf, size_t len)
{
	struct fakesysfs *f = ctx;
	const char *rel = f->h[h].rel;
	char val[128];
	int err;

	snprintf(val, sizeof(val), "%.*s", (int)len, buf);
	if (f->on_write)
		f->on_write(f->ud, rel, val);
	err = inactive_file(f, rel);
	if (!err && f->sh->fail_err && !strcmp(f->sh->fail_rel, rel)) {
		err = -f->sh->fail_err;
		f->sh->fail_err = 0;
	}
	if (!err)
		err = len >= sizeof(val) ? -EINVAL : judge(f, rel, val);
	if (err) {
		f->sh->refused++;
		snprintf(f->sh->last_refusal, sizeof(f->sh->last_refusal),
			 "%s=%s: %s", rel, val, strerror(-err));
	} else {
		f->sh->writes++;
	}
	return err;
}

static void fk_close(void *ctx, int h)
{
	struct fakesysfs *f = ctx;

	close(f->h[h].fd);
	f->h[h].fd = -1;
	f->nr_handles--;
}

const struct vpwr_sysfs_io fakesysfs_io = {
	.open = fk_open,
	.read = fk_read_h,
	.write = fk_write_h,
	.close = fk_close,
};

/* ------------------------------------------------------- the fixture */

static uint32_t j_u32(json_t *o, const char *key, uint32_t dflt)
{
	json_t *v = json_object_get(o, key);

	return json_is_integer(v) ? (uint32_t)json_integer_value(v) : dflt;
}

static void j_str(json_t *o, const char *key, char *out, size_t cap)
{
	json_t *v = json_object_get(o, key);

	snprintf(out, cap, "%s", json_is_string(v) ? json_string_value(v) : "");
}

static void load_model(struct fk_model *m, json_t *j)
{
	json_t *a, *v;
	const char *k;
	size_t i;

	j_str(j, "driver", m->driver, sizeof(m->driver));
	m->nr_cpus = j_u32(j, "cpus", 0);
	ck_assert_msg(m->driver[0] && m->nr_cpus && m->nr_cpus <= FK_CPUS,
		      "fixture: driver and cpus (1..%d) are required", FK_CPUS);
	json_array_foreach(json_object_get(j, "offline"), i, v)
		m->offline[json_integer_value(v)] = true;
	j_str(j, "governors", m->governors, sizeof(m->governors));
	m->cpuinfo_min = j_u32(j, "cpuinfo_min_freq", 0);
	m->cpuinfo_max = j_u32(j, "cpuinfo_max_freq", 0);
	m->nominal = j_u32(j, "nominal_freq", m->cpuinfo_max);
	m->demand = j_u32(j, "demand_khz", m->cpuinfo_max);
	a = json_object_get(j, "frequencies");
	json_array_foreach(a, i, v)
		if (i < FK_FREQS)
			m->freqs[m->nr_freqs++] = (uint32_t)json_integer_value(v);
	m->setspeed = json_is_true(json_object_get(j, "setspeed"));
	m->setpolicy = json_is_true(json_object_get(j, "setpolicy"));
	m->boost = (int)j_u32(j, "boost", UINT32_MAX);
	m->no_turbo = (int)j_u32(j, "no_turbo", UINT32_MAX);
	j_str(j, "epp_available", m->epp_available, sizeof(m->epp_available));
	m->epp = m->epp_available[0] != '\0';
	m->epp_numeric = json_is_true(json_object_get(j, "epp_numeric"));
	m->epp_busy = json_is_true(json_object_get(j, "epp_busy"));
	m->epp_default = j_u32(j, "epp_default", 128);
	json_object_foreach(json_object_get(j, "epp_values"), k, v) {
		ck_assert(m->nr_epp_names < 8);
		snprintf(m->epp_names[m->nr_epp_names].name, FK_STR, "%s", k);
		m->epp_names[m->nr_epp_names++].value =
			(unsigned)json_integer_value(v);
	}
}

static void build_policy(struct fakesysfs *f, json_t *j, unsigned cpu)
{
	const struct fk_model *m = &f->m;
	uint32_t cap = m->boost == 0 ? m->nominal : m->cpuinfo_max;
	char gov[FK_STR], epp[FK_STR], n[16];

	snprintf(n, sizeof(n), "%u", cpu);
	cpu_set(f, cpu, "scaling_driver", m->driver);
	cpu_set(f, cpu, "affected_cpus", n);
	cpu_set(f, cpu, "related_cpus", n);
	cpu_set(f, cpu, "scaling_available_governors", m->governors);
	j_str(j, "governor", gov, sizeof(gov));
	cpu_set(f, cpu, "scaling_governor", gov);
	cpu_set_u32(f, cpu, "cpuinfo_min_freq", m->cpuinfo_min);
	cpu_set_u32(f, cpu, "cpuinfo_max_freq", cap);
	cpu_set_u32(f, cpu, "scaling_min_freq",
		    j_u32(j, "scaling_min_freq", m->cpuinfo_min));
	cpu_set_u32(f, cpu, "scaling_max_freq", j_u32(j, "scaling_max_freq", cap));
	set_table(f, cpu);
	if (m->setspeed)
		cpu_set(f, cpu, "scaling_setspeed", "<unsupported>");
	if (m->setspeed && !strcmp(gov, "userspace"))
		cpu_set_u32(f, cpu, "scaling_setspeed", m->demand);
	if (m->epp) {
		j_str(j, "epp", epp, sizeof(epp));
		cpu_set(f, cpu, "energy_performance_preference", epp);
		cpu_set(f, cpu, "energy_performance_available_preferences",
			m->epp_available);
	}
	if (json_is_true(json_object_get(j, "base_frequency")))
		cpu_set_u32(f, cpu, "base_frequency", m->nominal);
	if (json_is_true(json_object_get(j, "acpi_cppc"))) {
		char rel[64];

		snprintf(rel, sizeof(rel), "cpu%u/acpi_cppc/nominal_freq", cpu);
		snprintf(n, sizeof(n), "%u", m->nominal / 1000);
		fk_set(f, rel, n);
	}
	apply(f, cpu);
}

static void build_tree(struct fakesysfs *f, json_t *j)
{
	const struct fk_model *m = &f->m;
	char list[32], rel[64];
	const char *k;
	json_t *v;

	snprintf(list, sizeof(list), "0-%u", m->nr_cpus - 1);
	fk_set(f, "present", list);
	fk_set(f, "possible", list);
	for (unsigned cpu = 0; cpu < m->nr_cpus; cpu++) {
		snprintf(rel, sizeof(rel), "cpu%u/online", cpu);
		if (cpu) /* cpu0 cannot go offline: no online file */
			fk_set(f, rel, m->offline[cpu] ? "0" : "1");
		else
			ck_assert_msg(!m->offline[0], "fixture: cpu0 offline");
		if (!m->offline[cpu])
			build_policy(f, j, cpu);
	}
	if (m->boost >= 0)
		fk_set(f, "cpufreq/boost", m->boost ? "1" : "0");
	if (m->no_turbo >= 0)
		fk_set(f, "intel_pstate/no_turbo", m->no_turbo ? "1" : "0");
	json_object_foreach(json_object_get(j, "files"), k, v)
		fk_set(f, k, json_string_value(v));
}

struct fakesysfs *fakesysfs_new(const char *name)
{
	struct fakesysfs *f = calloc(1, sizeof(*f));
	char path[1024];
	json_error_t err;
	json_t *j;

	ck_assert_ptr_nonnull(f);
	snprintf(path, sizeof(path), "%s/cpufreq/%s.json", VPWR_FIXTURES, name);
	j = json_load_file(path, JSON_REJECT_DUPLICATES, &err);
	ck_assert_msg(j != NULL, "%s:%d: %s", path, err.line, err.text);
	f->sh = mmap(NULL, sizeof(*f->sh), PROT_READ | PROT_WRITE,
		     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ck_assert(f->sh != MAP_FAILED);
	memset(f->sh, 0, sizeof(*f->sh));
	for (unsigned i = 0; i < FK_HANDLES; i++)
		f->h[i].fd = -1;
	f->dir = vpwr_test_tmpdir();
	snprintf(f->root, sizeof(f->root), "%s/sys", f->dir);
	snprintf(f->cpu_dir, sizeof(f->cpu_dir), "%s/devices/system/cpu",
		 f->root);
	vpwr_test_write_file(f->dir, "sys/devices/system/cpu/.keep", "");
	unlink(strcat(strcpy(path, f->cpu_dir), "/.keep"));
	load_model(&f->m, j);
	build_tree(f, j);
	json_decref(j);
	return f;
}

void fakesysfs_free(struct fakesysfs *f)
{
	if (!f)
		return;
	for (unsigned i = 0; i < FK_HANDLES; i++)
		if (f->h[i].fd >= 0)
			close(f->h[i].fd);
	vpwr_test_rmtree(f->dir);
	free(f->dir);
	munmap(f->sh, sizeof(*f->sh));
	free(f);
}

/* ------------------------------------------------------- test access */

const char *fakesysfs_dir(const struct fakesysfs *f)
{
	return f->dir;
}

const char *fakesysfs_root(const struct fakesysfs *f)
{
	return f->root;
}

int fakesysfs_open(struct fakesysfs *f, const char *name,
		   struct vpwr_backend_opts *o, struct vpwr_backend **out)
{
	o->sysfs_root = f->root;
	return vpwr_backend_open_io(name, o, &fakesysfs_io, f, out);
}

const char *fakesysfs_get(struct fakesysfs *f, const char *rel)
{
	char *buf = f->get[f->get_i++ % 4];
	int err = fk_read(f, rel, buf, sizeof(f->get[0]));

	ck_assert_msg(!err, "fakesysfs: reading %s: %s", rel, strerror(-err));
	return buf;
}

uint32_t fakesysfs_get_u32(struct fakesysfs *f, const char *rel)
{
	const char *s = fakesysfs_get(f, rel);
	uint32_t v = 0;

	ck_assert_msg(fk_parse(s, &v), "fakesysfs: %s holds \"%s\"", rel, s);
	return v;
}

void fakesysfs_poke(struct fakesysfs *f, const char *rel, const char *text)
{
	fk_set(f, rel, text);
}

int fakesysfs_write(struct fakesysfs *f, const char *rel, const char *val)
{
	char path[2048];
	int h, err;

	snprintf(path, sizeof(path), "%s/%s", f->cpu_dir, rel);
	h = fk_open(f, path, VPWR_SYSFS_WRITE);
	if (h < 0)
		return h;
	err = fk_write_h(f, h, val, strlen(val));
	fk_close(f, h);
	return err;
}

void fakesysfs_remove(struct fakesysfs *f, const char *rel)
{
	char path[2048];

	snprintf(path, sizeof(path), "%s/%s", f->cpu_dir, rel);
	ck_assert_int_eq(unlink(path), 0);
}

void fakesysfs_set_online(struct fakesysfs *f, unsigned cpu, bool online)
{
	char rel[64];

	ck_assert(cpu > 0 && cpu < f->m.nr_cpus);
	snprintf(rel, sizeof(rel), "cpu%u/online", cpu);
	fk_set(f, rel, online ? "1" : "0");
	f->sh->inactive[cpu] = !online;
}

void fakesysfs_fail_next(struct fakesysfs *f, const char *rel, int err)
{
	snprintf(f->sh->fail_rel, sizeof(f->sh->fail_rel), "%s", rel);
	f->sh->fail_err = err;
}

void fakesysfs_on_write(struct fakesysfs *f,
			void (*fn)(void *ud, const char *rel, const char *val),
			void *ud)
{
	f->on_write = fn;
	f->ud = ud;
}

unsigned fakesysfs_writes(const struct fakesysfs *f)
{
	return f->sh->writes;
}

unsigned fakesysfs_refused(const struct fakesysfs *f)
{
	return f->sh->refused;
}

unsigned fakesysfs_write_opens(const struct fakesysfs *f)
{
	return f->sh->write_opens;
}

unsigned fakesysfs_opens(const struct fakesysfs *f)
{
	return f->sh->opens;
}

unsigned fakesysfs_reads(const struct fakesysfs *f)
{
	return f->sh->reads;
}

unsigned fakesysfs_calls(const struct fakesysfs *f)
{
	return f->sh->opens + f->sh->reads + f->sh->writes + f->sh->refused;
}

void fakesysfs_share_policy(struct fakesysfs *f, unsigned cpu, unsigned owner)
{
	char path[2048], target[64], list[64];

	ck_assert(cpu != owner && cpu < f->m.nr_cpus && owner < f->m.nr_cpus);
	ck_assert(!f->m.offline[cpu] && !f->m.offline[owner]);
	snprintf(path, sizeof(path), "%s/cpu%u/cpufreq", f->cpu_dir, cpu);
	vpwr_test_rmtree(path);
	snprintf(target, sizeof(target), "../cpu%u/cpufreq", owner);
	ck_assert_int_eq(symlink(target, path), 0);
	snprintf(list, sizeof(list), "%u %u", VPWR_MIN(cpu, owner),
		 VPWR_MAX(cpu, owner));
	cpu_set(f, owner, "related_cpus", list);
	cpu_set(f, owner, "affected_cpus", list);
}

void fakesysfs_log_fn(enum vpwr_log_level level, const char *msg, void *ud)
{
	struct fakesysfs_log *l = ud;
	size_t len = strlen(l->text);

	(void)level;
	snprintf(l->text + len, sizeof(l->text) - len, "%s\n", msg);
}

unsigned fakesysfs_handles(const struct fakesysfs *f)
{
	return f->nr_handles;
}

const char *fakesysfs_last_refusal(const struct fakesysfs *f)
{
	return f->sh->last_refusal;
}

/* ----------------------------------------------------------- snapshots */

static struct {
	char **lines;
	size_t n, cap, skip;
} snap; /* nftw has no user pointer; tests are single-threaded */

static int snap_one(const char *p, const struct stat *st, int flag,
		    struct FTW *ftw)
{
	char buf[4096] = "", *line;
	FILE *fp;
	size_t n;

	(void)st;
	(void)ftw;
	if (flag != FTW_F)
		return 0;
	fp = fopen(p, "r");
	ck_assert_ptr_nonnull(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	fclose(fp);
	while (n && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	ck_assert(asprintf(&line, "%s=%s", p + snap.skip, buf) > 0);
	if (snap.n == snap.cap) {
		snap.cap = snap.cap ? 2 * snap.cap : 64;
		snap.lines = realloc(snap.lines, snap.cap * sizeof(*snap.lines));
		ck_assert_ptr_nonnull(snap.lines);
	}
	snap.lines[snap.n++] = line;
	return 0;
}

static int snap_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *fakesysfs_snapshot(struct fakesysfs *f)
{
	size_t len = 1;
	char *out;

	memset(&snap, 0, sizeof(snap));
	snap.skip = strlen(f->root) + 1;
	ck_assert_int_eq(nftw(f->root, snap_one, 16, FTW_PHYS), 0);
	qsort(snap.lines, snap.n, sizeof(*snap.lines), snap_cmp);
	for (size_t i = 0; i < snap.n; i++)
		len += strlen(snap.lines[i]) + 1;
	out = calloc(1, len);
	ck_assert_ptr_nonnull(out);
	for (size_t i = 0; i < snap.n; i++) {
		strcat(strcat(out, snap.lines[i]), "\n");
		free(snap.lines[i]);
	}
	free(snap.lines);
	return out;
}

void fakesysfs_assert_same(const char *want, const char *got)
{
	size_t i = 0, line;

	if (!strcmp(want, got))
		return;
	while (want[i] && want[i] == got[i])
		i++;
	while (i && want[i - 1] != '\n')
		i--;
	line = strcspn(want + i, "\n");
	ck_abort_msg("sysfs tree differs: want \"%.*s\", got \"%.*s\"",
		     (int)line, want + i, (int)strcspn(got + i, "\n"), got + i);
}
