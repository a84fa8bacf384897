/* SPDX-License-Identifier: MIT */
/*
 * The originals: each CPU's cpufreq settings as they were before libvpwr
 * first changed them, and the machine-wide turbo knob.  The cpufreq drivers
 * keep them in a struct vpwr_state (saved by acpi_cpufreq.c before each
 * first write, put back by state.c); with
 * opts.state_file they are also written to disk, atomically, before the
 * first write to a CPU, so that the next vpwr_backend_open() can put them
 * back after a crash.  The file format is described in docs/BACKENDS.md.
 */
#ifndef VPWR_BACKEND_STATE_H
#define VPWR_BACKEND_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "internal.h"

#define VPWR_STATE_VERSION 1
#define VPWR_STATE_STR 32 /* governor names, EPP strings, backend names */

/* One CPU's settings before the first change. */
struct vpwr_orig {
	char governor[VPWR_STATE_STR];
	uint32_t min_khz, max_khz;
	uint32_t setspeed_khz; /* 0: the governor was not userspace */
	char epp[VPWR_STATE_STR]; /* "": the CPU has no EPP */
};

struct vpwr_state {
	char backend[VPWR_STATE_STR];
	char *sysfs_root;             /* owned */
	unsigned nr_cpus;             /* entries of cpu[] */
	struct vpwr_cpuset saved;     /* CPUs whose cpu[] entry is valid */
	struct vpwr_orig *cpu;
	/* The turbo knob, when changed: its file and original content. */
	bool turbo_saved;
	char turbo_file[VPWR_STATE_STR]; /* "boost" or "no_turbo" */
	char turbo_value[4];             /* "0" or "1" */
	struct vpwr_cpuset turbo_cpus;   /* CPUs that asked for the change */
	/*
	 * With no_turbo: intel_pstate/min_perf_pct as it was (0..100), which
	 * the kernel lowers when turbo goes off and never raises again; -1:
	 * no such file.
	 */
	int min_perf_pct;
};

/* An empty record for nr_cpus CPUs.  0 or -ENOMEM/-EINVAL. */
int vpwr_state_init(struct vpwr_state *st, const char *backend,
		    const char *sysfs_root, unsigned nr_cpus);
/* Frees what init/load allocated; accepts a zeroed struct. */
void vpwr_state_fini(struct vpwr_state *st);
/* Nothing to put back. */
bool vpwr_state_empty(const struct vpwr_state *st);

/*
 * Read the state file at `path` into `st` (initialised by this call).
 * -ENOENT: no file (st is left zeroed); -EBADMSG: not a valid state file of
 * this version (logged with the reason; st zeroed); other -errno: could not
 * read it.
 */
int vpwr_state_load(const char *path, const struct vpwr_logger *log,
		    struct vpwr_state *st);

/*
 * Write `st` to `path` so that a crash leaves the old or the new file, never
 * a torn one: a temporary file in the same directory, fsync, rename, fsync
 * of the directory.  An empty record removes the file instead.
 */
int vpwr_state_store(const char *path, const struct vpwr_logger *log,
		     const struct vpwr_state *st);

/* A word as the kernel shows governors and EPP names: 1..31 of
 * [A-Za-z0-9_-]. */
bool vpwr_state_name_ok(const char *s);

static inline void vpwr_state_cpuset_clear(struct vpwr_cpuset *s, unsigned cpu)
{
	if (cpu < VPWR_MAX_CPUS)
		s->bits[cpu / 64] &= ~((uint64_t)1 << (cpu % 64));
}

/* Remove the file (no error if it does not exist). */
int vpwr_state_remove(const char *path, const struct vpwr_logger *log);

#endif
