/* SPDX-License-Identifier: MIT */
/*
 * What a frequency backend driver implements, and the handle every driver
 * shares.  Modelled on the kernel's struct cpufreq_driver: one const ops
 * table per driver, its operations sectioned by obligation, plus the
 * capabilities it can offer.  backend.c owns the handle, checks every
 * argument and capability, then calls the driver; a driver never sees a
 * NULL pointer or a cpu >= nr_cpus().
 *
 * Adding a driver: one file under src/backend/ defining a
 * `const struct vpwr_backend_ops`, declared below and listed in the
 * registry in backend.c (auto-detection tries drivers with a probe() in
 * that list's order).  The cpufreq drivers share their machinery in
 * sysfs.h and state.h.
 *
 * Drivers that touch files do it through b->io (struct vpwr_sysfs_io,
 * sysfs.h), which vpwr_backend_open() sets to real system calls and the
 * tests to a fake kernel through vpwr_backend_open_io().
 */
#ifndef VPWR_BACKEND_INTERNAL_H
#define VPWR_BACKEND_INTERNAL_H

#include <stdbool.h>

#include "internal.h"
#include "libvpwr/backend.h"

/* VPWR_BACKEND_CAP_* bits a backend may report. */
#define VPWR_BACKEND_CAP_ALL                                                   \
	(VPWR_BACKEND_CAP_SET_FREQ | VPWR_BACKEND_CAP_LIMITS |                 \
	 VPWR_BACKEND_CAP_TURBO | VPWR_BACKEND_CAP_EPP |                       \
	 VPWR_BACKEND_CAP_TABLE)

/* EPP hints use the kernel's scale, 0 (performance) .. 255 (power). */
#define VPWR_BACKEND_EPP_MAX 255u

struct vpwr_backend;
struct vpwr_state;
struct vpwr_sysfs_io;

struct vpwr_backend_ops {
	const char *name;

	/*
	 * VPWR_BACKEND_CAP_* this driver can offer at most.  A capability is
	 * only reported when the matching operations below exist too;
	 * cpu_caps() may narrow it per CPU.
	 */
	unsigned caps;

	/*
	 * Is this driver in charge of the machine under b->sysfs_root?  Reads
	 * only, through b->io (typically the first online CPU's
	 * cpufreq/scaling_driver); b->ops and b->priv are not set yet.  0:
	 * yes, -ENODEV: no, other -errno: could not tell.  NULL: never
	 * auto-detected (sim).  Also run before init() when the driver is
	 * opened by name.
	 */
	int (*probe)(const struct vpwr_backend *b);

	/*
	 * init() builds the driver's state in b->priv from b->opts (b->ops,
	 * b->log and b->sysfs_root are set; b->opts.sim is valid only during
	 * this call).  fini() frees it and must accept a half-built b (priv
	 * NULL or partly filled).  backend.c restores every CPU before fini().
	 */
	int (*init)(struct vpwr_backend *b);
	void (*fini)(struct vpwr_backend *b);

	/* ---- required ------------------------------------------------- */
	int (*nr_cpus)(const struct vpwr_backend *b);
	/* Ascending; turbo entries only while turbo is on. */
	int (*get_freqs)(struct vpwr_backend *b, unsigned cpu, uint32_t *khz,
			 size_t cap);
	int (*get_freq)(struct vpwr_backend *b, unsigned cpu, uint32_t *khz);
	int (*get_limits)(struct vpwr_backend *b, unsigned cpu,
			  uint32_t *min_khz, uint32_t *max_khz);

	/* ---- at least one of ------------------------------------------ */
	/* khz is not range-checked by backend.c: the driver knows limits. */
	int (*set_freq)(struct vpwr_backend *b, unsigned cpu, uint32_t khz);
	/* min <= max is checked by backend.c; the hardware range is not. */
	int (*set_limits)(struct vpwr_backend *b, unsigned cpu,
			  uint32_t min_khz, uint32_t max_khz);

	/* ---- optional ------------------------------------------------- */
	/*
	 * Narrows `caps` for one CPU (a CPU without a boost control, an
	 * offline CPU: -ENODEV).  NULL: every CPU has `caps`.
	 */
	int (*cpu_caps)(struct vpwr_backend *b, unsigned cpu);
	int (*get_turbo)(struct vpwr_backend *b, unsigned cpu);
	int (*set_turbo)(struct vpwr_backend *b, unsigned cpu, bool enable);
	int (*get_epp)(struct vpwr_backend *b, unsigned cpu);
	int (*set_epp)(struct vpwr_backend *b, unsigned cpu, unsigned hint);
	/*
	 * Put back what was saved before the first change to `cpu`; 0 when
	 * nothing was changed.  Drivers save before their first write.
	 */
	int (*restore)(struct vpwr_backend *b, unsigned cpu);
	/*
	 * The CPUs sharing cpu's policy, cpu included, into *out (zeroed by
	 * backend.c): how many, or -errno (-ENODEV: offline).  NULL: every
	 * CPU is its own policy.
	 */
	int (*policy_cpus)(struct vpwr_backend *b, unsigned cpu,
			   struct vpwr_cpuset *out);

	/* ---- crash-safe restore: opts.state_file (optional, both) ------ */
	/*
	 * The originals saved so far (state.h; borrowed, valid until the next
	 * call on b).  A driver calls vpwr_backend_state_sync() whenever they
	 * change, before the write that needed them.
	 */
	const struct vpwr_state *(*saved)(struct vpwr_backend *b);
	/*
	 * Take the originals a dead process left in the state file as if this
	 * handle had saved them, so restore() puts them back.  Checks them
	 * against the machine first: -EBADMSG (logged) and nothing taken if
	 * they do not fit.
	 */
	int (*adopt)(struct vpwr_backend *b, const struct vpwr_state *st);
};

/*
 * The handle.  backend.c allocates it and fills everything but priv, which
 * belongs to the driver.  opts is the caller's struct copied with
 * VPWR_OPTS_LOAD; its pointers are borrowed, so opts.sysfs_root and
 * opts.state_file point at the owned copies below and opts.sim is cleared
 * after init().
 */
struct vpwr_backend {
	const struct vpwr_backend_ops *ops;
	struct vpwr_logger log;
	struct vpwr_backend_opts opts;
	char *sysfs_root;          /* owned; "/sys" by default */
	char *state_file;          /* owned; NULL: none */
	const struct vpwr_sysfs_io *io; /* file access; never NULL */
	void *io_ctx;
	bool sync_deferred;        /* state file written once, at the end */
	void *priv;                /* the driver's */
};

/*
 * vpwr_backend_open() with file access through `io` (borrowed, with
 * io_ctx, for the handle's lifetime) instead of real system calls: how the
 * tests put a fake kernel under the drivers.  Internal only.
 */
int vpwr_backend_open_io(const char *name, const struct vpwr_backend_opts *opts,
			 const struct vpwr_sysfs_io *io, void *io_ctx,
			 struct vpwr_backend **out);

/*
 * Write the driver's originals (ops->saved) to opts.state_file, or remove
 * the file when there are none.  0 when there is no state file or the
 * driver keeps none; else the file's -errno (logged).
 */
int vpwr_backend_state_sync(struct vpwr_backend *b);

/* The registered drivers. */
extern const struct vpwr_backend_ops vpwr_backend_sim_ops;
extern const struct vpwr_backend_ops vpwr_backend_acpi_cpufreq_ops;
extern const struct vpwr_backend_ops vpwr_backend_intel_pstate_ops;
extern const struct vpwr_backend_ops vpwr_backend_intel_cpufreq_ops;
extern const struct vpwr_backend_ops vpwr_backend_cppc_cpufreq_ops;
extern const struct vpwr_backend_ops vpwr_backend_amd_pstate_ops;
extern const struct vpwr_backend_ops vpwr_backend_amd_pstate_epp_ops;


#endif
