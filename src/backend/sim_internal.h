/* SPDX-License-Identifier: MIT */
/*
 * The simulator's state, shared by the files that make it up:
 *
 *   sim.c        the cpufreq driver ops (limits, rounding, turbo, EPP,
 *                restore), init and fini
 *   sim_opts.c   struct vpwr_sim_opts: validation, defaults, tables
 *   sim_model.c  the power model, the virtual clock and the vpwr_sim_*
 *                calls that read it
 *   sim_work.c   the work model (offered work, capacity, backlog) and its
 *                exact integration over one interval
 *
 * Never installed.  Everything here is hidden inside the library.
 */
#ifndef VPWR_SIM_INTERNAL_H
#define VPWR_SIM_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/backend_internal.h"
#include "libvpwr/sim.h"

#define SIM_MAX_FREQS 1024u  /* bounds each table and its residency array */
#define SIM_DEFAULT_EPP 128u /* the kernel's "balance_performance" region */

/* One frequency table: several CPUs may share it. */
struct sim_table {
	uint32_t *khz;             /* nominal entries, then turbo if any */
	size_t nr_nominal;
	size_t nr_table;
};

struct sim_state {             /* what restore puts back */
	uint32_t min_khz, max_khz; /* as requested, turbo entry included */
	size_t cur;                /* index into the CPU's table */
	bool turbo;
	unsigned epp;              /* 0..255; a hint only, see sim.c */
};

/* The work model of one CPU (sim.h); amounts in units of work. */
struct sim_work {
	double per_s;              /* offered rate now */
	double offered, served, dropped, backlog, wait_unit_s;
};

struct sim_cpu {
	const struct sim_table *tab;
	struct sim_state st;
	struct sim_state orig;
	bool saved;
	double util;               /* used while the work model is idle */
	double energy_j;
	uint64_t *residency_ns;    /* one per entry of tab */
	struct sim_work work;
};

struct sim {
	unsigned nr_cpus;
	struct sim_table shared;   /* opts.freqs_khz or the default table */
	struct sim_table *own;     /* opts.cpus given: nr_cpus tables (unused
				      entries have khz == NULL) */
	double static_w, dyn_w, v_min, v_max, idle_fraction;
	double work_per_ghz, max_backlog;
	uint64_t now_ns;
	bool wallclock;            /* virtual time follows the monotonic one */
	uint64_t wall_ns;          /* monotonic time last accounted for */
	struct sim_cpu *cpu;
	uint64_t *residency_ns;    /* every CPU's array, back to back */
	unsigned per_policy;       /* CPUs per cpufreq policy, >= 1 */
};

/* The CPUs of cpu's policy: sim_policy_first() .. sim_policy_end() - 1. */
static inline unsigned sim_policy_first(const struct sim *s, unsigned cpu)
{
	return cpu - cpu % s->per_policy;
}

static inline unsigned sim_policy_end(const struct sim *s, unsigned cpu)
{
	unsigned end = sim_policy_first(s, cpu) + s->per_policy;

	return end < s->nr_cpus ? end : s->nr_cpus;
}

static inline bool sim_has_turbo(const struct sim_table *t)
{
	return t->nr_table > t->nr_nominal;
}

static inline uint32_t sim_hw_min(const struct sim_table *t)
{
	return t->khz[0];
}

static inline uint32_t sim_hw_max(const struct sim_table *t)
{
	return t->khz[t->nr_table - 1];
}

/* The simulator behind `b`, or NULL if `b` is NULL or another backend. */
struct sim *sim_of(const struct vpwr_backend *b);

/* sim_opts.c: fill s (tables, model, work parameters) from o; *util gets
 * the initial utilisation.  -EINVAL (logged) or -ENOMEM. */
int sim_load_opts(struct vpwr_backend *b, struct sim *s,
		  const struct vpwr_sim_opts *o, double *util);
void sim_free_tables(struct sim *s);

/* sim_model.c */
double sim_power_w(const struct sim *s, const struct sim_cpu *c,
		   uint32_t khz, double util);
int sim_advance(struct sim *s, uint64_t ns);
/* In wallclock mode, charge the real time since the last call to the state
 * that held during it; call before every change and every read. */
void sim_sync_wallclock(struct sim *s);

/* sim_work.c: is there work to serve (offered or queued)? */
static inline bool sim_work_active(const struct sim_work *w)
{
	return w->per_s > 0.0 || w->backlog > 0.0;
}

/*
 * Run the work model for dt seconds at capacity cap (units/s) with at most
 * max_backlog queued.  Returns how long, within dt, the CPU served at full
 * capacity (the rest it served the offered rate as it came, or nothing).
 */
double sim_work_run(struct sim_work *w, double cap, double max_backlog,
		    double dt);

#endif
