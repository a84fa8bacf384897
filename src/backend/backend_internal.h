/* SPDX-License-Identifier: MIT */
/*
 * What a frequency backend driver implements, and the handle every driver
 * shares.  Modelled on the kernel's struct cpufreq_driver: one const ops
 * table per driver, its operations sectioned by obligation, plus the
 * capabilities it can offer.  backend.c owns the handle, checks every
 * argument and capability, then calls the driver; a driver never sees a
 * NULL pointer or a cpu >= nr_cpus().
 *
 * Adding a driver (acpi-cpufreq, intel_pstate, cppc, amd-pstate): one file
 * under src/backend/ defining a `const struct vpwr_backend_ops`, declared
 * below and listed in the registry in backend.c (auto-detection tries
 * drivers with a probe() in that list's order).
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

struct vpwr_backend_ops {
	const char *name;

	/*
	 * VPWR_BACKEND_CAP_* this driver can offer at most.  A capability is
	 * only reported when the matching operations below exist too;
	 * cpu_caps() may narrow it per CPU.
	 */
	unsigned caps;

	/*
	 * Is this driver in charge of the machine under sysfs_root?  Reads
	 * only (typically cpu0/cpufreq/scaling_driver).  0: yes, -ENODEV: no,
	 * other -errno: could not tell.  NULL: never auto-detected (sim).
	 * Also run before init() when the driver is opened by name.
	 */
	int (*probe)(const char *sysfs_root);

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
};

/*
 * The handle.  backend.c allocates it and fills everything but priv, which
 * belongs to the driver.  opts is the caller's struct copied with
 * VPWR_OPTS_LOAD; its pointers are borrowed, so opts.sysfs_root points at
 * the owned copy below and opts.sim is cleared after init().
 */
struct vpwr_backend {
	const struct vpwr_backend_ops *ops;
	struct vpwr_logger log;
	struct vpwr_backend_opts opts;
	char *sysfs_root;          /* owned; "/sys" by default */
	void *priv;                /* the driver's */
};

/* The registered drivers. */
extern const struct vpwr_backend_ops vpwr_backend_sim_ops;

/*
 * EPP has no public entry point yet (the host engine may use these).  Same
 * checks as the public wrappers; hint 0..255, else -EINVAL.
 */
int vpwr_backend_get_epp(struct vpwr_backend *b, unsigned cpu);
int vpwr_backend_set_epp(struct vpwr_backend *b, unsigned cpu, unsigned hint);

#endif
