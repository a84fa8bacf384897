/* SPDX-License-Identifier: MIT */
/*
 * Energy meters: one interface to how much energy has been used, whether
 * a simulator integrates it or the hardware counts it.
 *
 *   rapl   Intel/AMD RAPL through powercap sysfs
 *          (<root>/class/powercap/intel-rapl:N/energy_uj, with the counter's
 *          wrap-around at max_energy_range_uj handled)
 *   sim    the simulator's energy counters (opts.backend: a "sim" backend)
 *
 * A handle is used by one thread at a time.
 */
#ifndef LIBVPWR_METER_H
#define LIBVPWR_METER_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vpwr_meter;
struct vpwr_backend;

struct vpwr_meter_opts {
	size_t sz;
	const char *sysfs_root;       /* rapl; NULL: "/sys" */
	struct vpwr_backend *backend; /* sim; borrowed */
	vpwr_log_fn log_fn;
	void *log_userdata;
	int log_level;
};

/* Errors: -ENOENT (unknown name), -ENODEV (no such meter here), -EINVAL. */
VPWR_API int vpwr_meter_open(const char *name,
			     const struct vpwr_meter_opts *opts,
			     struct vpwr_meter **out);

VPWR_API void vpwr_meter_free(struct vpwr_meter *m);

/* Number of domains measured (RAPL packages; simulated CPUs). */
VPWR_API int vpwr_meter_nr_domains(const struct vpwr_meter *m);

/* "package-0", "cpu3", ...; NULL if out of range. */
VPWR_API const char *vpwr_meter_domain_name(const struct vpwr_meter *m,
					    unsigned domain);

/*
 * Energy used by `domain` since the meter was opened, in joules.  Reading
 * at least once per counter wrap period keeps wrap-arounds accounted for.
 */
VPWR_API int vpwr_meter_read(struct vpwr_meter *m, unsigned domain,
			     double *joules);

#ifdef __cplusplus
}
#endif
#endif
