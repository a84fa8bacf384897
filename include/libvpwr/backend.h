/* SPDX-License-Identifier: MIT */
/*
 * Frequency backends: the only code that changes a physical CPU.  A backend
 * is chosen by name; every frequency is in kHz.
 *
 *   sim             a simulated machine (see sim.h); no files touched
 *   acpi-cpufreq    userspace governor + scaling_setspeed, boost
 *   intel_pstate    active mode: min/max limits, no_turbo, EPP
 *   intel_cpufreq   intel_pstate in passive mode (userspace governor)
 *   cppc_cpufreq    ACPI CPPC (ARM servers): limits, continuous range
 *   amd-pstate      AMD: limits (and EPP with amd-pstate-epp)
 *   auto            whichever cpufreq driver sysfs reports (never sim)
 *
 * sysfs backends read and write under a configurable root (default /sys).
 * A backend saves each CPU's original settings before the first change and
 * puts them back on vpwr_backend_restore() and vpwr_backend_free().  With
 * a state file, the originals are also written there before any change,
 * so that a process killed without cleaning up has them put back by the
 * next vpwr_backend_open() with the same state file.
 * A handle is used by one thread at a time.
 */
#ifndef LIBVPWR_BACKEND_H
#define LIBVPWR_BACKEND_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vpwr_backend;
struct vpwr_sim_opts;

/* Capabilities of one CPU, vpwr_backend_caps(). */
#define VPWR_BACKEND_CAP_SET_FREQ 0x1u  /* a target frequency can be set */
#define VPWR_BACKEND_CAP_LIMITS 0x2u    /* min/max limits can be set */
#define VPWR_BACKEND_CAP_TURBO 0x4u     /* turbo can be toggled */
#define VPWR_BACKEND_CAP_EPP 0x8u       /* an EPP hint can be set */
#define VPWR_BACKEND_CAP_TABLE 0x10u    /* discrete frequency table */
#define VPWR_BACKEND_CAP_PER_CPU 0x20u  /* its own frequency: no other CPU
					   shares its cpufreq policy (a
					   change to it changes only it) */

struct vpwr_backend_opts {
	size_t sz;
	const char *sysfs_root;  /* sysfs backends; NULL: "/sys" */
	const struct vpwr_sim_opts *sim; /* "sim"; NULL: defaults */
	vpwr_log_fn log_fn;
	void *log_userdata;
	int log_level;           /* 0: VPWR_LOG_WARNING */
	const char *state_file;  /* crash-safe record of the originals; NULL:
				    none.  Opening restores what it holds. */
};

/*
 * Open backend `name`.  Errors: -ENOENT (unknown name), -ENODEV (the
 * driver is not present), -EINVAL (bad options), -ENOMEM, -EBADMSG (the
 * state file is corrupt or from another machine: nothing is restored or
 * written), -errno from reading or writing the state file.
 */
VPWR_API int vpwr_backend_open(const char *name,
			       const struct vpwr_backend_opts *opts,
			       struct vpwr_backend **out);

/* Restores every CPU the backend changed, then frees.  Accepts NULL. */
VPWR_API void vpwr_backend_free(struct vpwr_backend *b);

VPWR_API const char *vpwr_backend_name(const struct vpwr_backend *b);

/* Number of CPUs (ids 0 .. n-1; offline ones report -ENODEV). */
VPWR_API int vpwr_backend_nr_cpus(const struct vpwr_backend *b);

/* VPWR_BACKEND_CAP_* of `cpu` (>= 0), or -errno. */
VPWR_API int vpwr_backend_caps(struct vpwr_backend *b, unsigned cpu);

/*
 * The available frequencies of `cpu`, ascending, without turbo unless
 * turbo is on.  Writes at most `cap` entries to khz (may be NULL when cap
 * is 0) and returns how many there are.
 */
VPWR_API int vpwr_backend_get_freqs(struct vpwr_backend *b, unsigned cpu,
				    uint32_t *khz, size_t cap);

/* The current frequency of `cpu`. */
VPWR_API int vpwr_backend_get_freq(struct vpwr_backend *b, unsigned cpu,
				   uint32_t *khz);

/*
 * Set the target frequency of `cpu`.  It must lie within the CPU's
 * current limits (-VPWR_E_BAD_FREQ otherwise); a value between table
 * entries is rounded down to the nearest entry.
 */
VPWR_API int vpwr_backend_set_freq(struct vpwr_backend *b, unsigned cpu,
				   uint32_t khz);

/* The current min/max limits of `cpu`. */
VPWR_API int vpwr_backend_get_limits(struct vpwr_backend *b, unsigned cpu,
				     uint32_t *min_khz, uint32_t *max_khz);

/*
 * Set the limits of `cpu`, min <= max, both within the hardware range
 * (-EINVAL otherwise).  The current frequency is clamped into them.
 *
 * Every set_* call may also fail with what the kernel said (-EBUSY,
 * -EACCES, -EPERM, -EINVAL; -ENODEV for a CPU gone offline) or with an
 * error writing the state file; the backend's view is then re-read.
 *
 * The cpufreq backends keep a view of each CPU and take themselves for
 * the only writer of its files: a set_* call asking for what was last set
 * makes no system call, and a change someone else makes is only seen at a
 * refusal, a get_* query or a turbo change (docs/BACKENDS.md).
 */
VPWR_API int vpwr_backend_set_limits(struct vpwr_backend *b, unsigned cpu,
				     uint32_t min_khz, uint32_t max_khz);

/* Turbo of `cpu`: 1 on, 0 off. */
VPWR_API int vpwr_backend_get_turbo(struct vpwr_backend *b, unsigned cpu);
VPWR_API int vpwr_backend_set_turbo(struct vpwr_backend *b, unsigned cpu,
				    int enable);

/*
 * The energy-performance preference of `cpu`, 0 (performance) .. 255
 * (power); -VPWR_E_UNSUPPORTED where the driver has none.
 */
VPWR_API int vpwr_backend_get_epp(struct vpwr_backend *b, unsigned cpu);
VPWR_API int vpwr_backend_set_epp(struct vpwr_backend *b, unsigned cpu,
				  unsigned hint);

/*
 * The CPUs whose frequency changes whenever `cpu`'s does, `cpu` included,
 * into *out: the online CPUs that share its cpufreq policy (the kernel's
 * cpufreq/related_cpus; the sim's cpus_per_policy).  Writing the limits,
 * target frequency or EPP of any of them writes them for all: they are
 * one frequency domain.  A CPU with its own policy
 * (VPWR_BACKEND_CAP_PER_CPU) gives just itself.  Returns how many CPUs
 * the set holds (>= 1), or -EINVAL (NULL, cpu out of range), -ENODEV
 * (offline, or no cpufreq policy).  The cpufreq backends answer from what
 * they read when they opened (and again after a failed access to the
 * CPU), without a system call.
 */
VPWR_API int vpwr_backend_policy_cpus(struct vpwr_backend *b, unsigned cpu,
				      struct vpwr_cpuset *out);

/*
 * Put back what the backend changed on `cpu`.  0 if nothing was changed.
 * On CPUs that share a policy this puts back the shared settings, which
 * are those of every CPU of the policy.
 */
VPWR_API int vpwr_backend_restore(struct vpwr_backend *b, unsigned cpu);

#ifdef __cplusplus
}
#endif
#endif
