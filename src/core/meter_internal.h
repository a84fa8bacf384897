/* SPDX-License-Identifier: MIT */
/*
 * What an energy meter driver implements (libvpwr/meter.h): one const ops
 * table per kind of meter, in its own file (meter_rapl.c, meter_sim.c),
 * listed once in meter.c's registry.  meter.c owns the handle and the
 * domain names and checks every argument, so a driver's read() only sees
 * a valid domain and a non-NULL result pointer.  Never installed.
 */
#ifndef VPWR_METER_INTERNAL_H
#define VPWR_METER_INTERNAL_H

#include "internal.h"
#include "libvpwr/meter.h"

struct vpwr_meter;

struct vpwr_meter_ops {
	const char *name;
	/*
	 * Build the driver's state in m->priv from m->opts and add each
	 * domain with vpwr_meter_add_domain(), in a stable order.  Records
	 * the counters' starting point: reads count from here.  -ENODEV when
	 * there is nothing to measure.
	 */
	int (*init)(struct vpwr_meter *m);
	/* Free m->priv; accepts a half-built m (priv NULL or partly set). */
	void (*fini)(struct vpwr_meter *m);
	/* Energy of `domain` since init, in joules. */
	int (*read)(struct vpwr_meter *m, unsigned domain, double *joules);
};

/*
 * The handle.  opts is the caller's struct copied with VPWR_OPTS_LOAD; its
 * sysfs_root points at the owned copy below ("/sys" by default).
 */
struct vpwr_meter {
	const struct vpwr_meter_ops *ops;
	struct vpwr_logger log;
	struct vpwr_meter_opts opts;
	char *sysfs_root;
	char **names;              /* nr_domains, owned */
	unsigned nr_domains;
	void *priv;                /* the driver's */
};

/* Append a domain named `name` (copied).  0 or -ENOMEM. */
int vpwr_meter_add_domain(struct vpwr_meter *m, const char *name);

extern const struct vpwr_meter_ops vpwr_meter_rapl_ops;  /* meter_rapl.c */
extern const struct vpwr_meter_ops vpwr_meter_sim_ops;   /* meter_sim.c */

#endif
