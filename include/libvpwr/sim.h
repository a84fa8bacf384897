/* SPDX-License-Identifier: MIT */
/*
 * The simulator backend ("sim"): N CPUs with a frequency table, limits,
 * turbo and a power model, under a virtual clock that only moves when told.
 * Given the same calls it produces the same figures.
 *
 * Power of one CPU at frequency f (GHz) and utilisation u (0..1):
 *
 *   V(f) = v_min + (v_max - v_min) * (f - f_min) / (f_max - f_min)
 *   P    = static_w + dyn_w_per_ghz_v2 * f * V^2 * (idle_fraction
 *                                                  + (1 - idle_fraction) * u)
 *
 * where f_min/f_max span the table including turbo.  Energy is the integral
 * of P over virtual time, accumulated by vpwr_sim_advance() (or, with
 * `wallclock` set, by real time passing).
 */
#ifndef LIBVPWR_SIM_H
#define LIBVPWR_SIM_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vpwr_backend;

/* One CPU's own table, overriding the shared one (heterogeneous cores). */
struct vpwr_sim_cpu {
	const uint32_t *freqs_khz; /* ascending, without turbo */
	size_t nr_freqs;
	uint32_t turbo_khz;        /* 0: no turbo */
};

struct vpwr_sim_opts {
	size_t sz;
	unsigned nr_cpus;          /* 0: 4 */
	const uint32_t *freqs_khz; /* ascending, without turbo; NULL: default
				      800000 .. 2400000 in 200 MHz steps */
	size_t nr_freqs;
	uint32_t turbo_khz;        /* 0 with freqs_khz set: no turbo;
				      default table: 3000000 */
	double static_w;           /* 0: 1.0 W */
	double dyn_w_per_ghz_v2;   /* 0: 3.0 */
	double v_min;              /* 0: 0.7 V */
	double v_max;              /* 0: 1.2 V */
	double idle_fraction;      /* dynamic power share drawn when idle;
				      0: 0.3 (negative for 0) */
	double util;               /* initial utilisation of every CPU;
				      0: 1.0 (poll mode; negative for 0) */
	int wallclock;             /* 1: the virtual clock follows the
				      monotonic clock (for demos); every
				      call brings it up to date first */
	const struct vpwr_sim_cpu *cpus; /* nr_cpus entries, or NULL: every
				      CPU uses the shared table above */
	double work_per_ghz;       /* work model: units of work one CPU
				      serves per second per GHz; 0: 1e6
				      (packets/s at 1 GHz) */
	double max_backlog;        /* work queued beyond this is dropped;
				      0: 1e6 units */
	/*
	 * CPUs that share one cpufreq policy, as on hardware whose cores
	 * are clocked together: CPUs k*n .. k*n+n-1 form policy k (the last
	 * one may be smaller).  Setting the limits, frequency, turbo or EPP
	 * of one sets them for all, restoring one restores all, and they
	 * lack VPWR_BACKEND_CAP_PER_CPU (vpwr_backend_policy_cpus() names
	 * them).  With `cpus`, the CPUs of a policy must have equal tables.
	 * 0 or 1: every CPU is its own policy.
	 */
	unsigned cpus_per_policy;
};

/*
 * The work model.  A poll-mode CPU is offered work (e.g. packets/s from a
 * trace) and serves it at a capacity proportional to its frequency:
 * capacity = work_per_ghz * f.  What it cannot serve waits in a backlog;
 * past max_backlog it is dropped.  While work is offered, the CPU's
 * utilisation follows served / capacity.  Statistics accumulate with
 * virtual time.
 */
struct vpwr_sim_work_stats {
	double offered;            /* units offered so far */
	double served;
	double dropped;
	double backlog;            /* units waiting now */
	double wait_unit_s;        /* integral of backlog over time: divided
				      by served it gives the mean wait (s) */
	uint32_t reserved_[8];
};

/* Offer work to `cpu` at `per_s` units per second from now on (0: none). */
VPWR_API int vpwr_sim_set_offered(struct vpwr_backend *b, unsigned cpu,
				  double per_s);

VPWR_API int vpwr_sim_work_stats(struct vpwr_backend *b, unsigned cpu,
				 struct vpwr_sim_work_stats *stats);

/*
 * Move the virtual clock forward by ns, accumulating energy and residency
 * at the current frequencies.  -EINVAL if `b` is not a sim backend.
 */
VPWR_API int vpwr_sim_advance(struct vpwr_backend *b, uint64_t ns);

/* Virtual time elapsed since open, in ns. */
VPWR_API int vpwr_sim_now(struct vpwr_backend *b, uint64_t *ns);

/* Set the utilisation (0..1) of `cpu`. */
VPWR_API int vpwr_sim_set_util(struct vpwr_backend *b, unsigned cpu,
			       double util);

/* Energy used by `cpu` so far, in joules. */
VPWR_API int vpwr_sim_energy(struct vpwr_backend *b, unsigned cpu,
			     double *joules);

/* The model's power draw of `cpu` at `khz` and `util`, in watts. */
VPWR_API int vpwr_sim_power(struct vpwr_backend *b, unsigned cpu,
			    uint32_t khz, double util, double *watts);

/* Time `cpu` has spent at `khz`, in ns. */
VPWR_API int vpwr_sim_residency(struct vpwr_backend *b, unsigned cpu,
				uint32_t khz, uint64_t *ns);

#ifdef __cplusplus
}
#endif
#endif
