/* SPDX-License-Identifier: MIT */
/*
 * The "sim" meter: the simulator's per-CPU energy counters seen through the
 * meter interface, so code written against meters runs unchanged on a
 * simulated machine.  One domain per simulated CPU ("cpu0", "cpu1", ...),
 * each reading vpwr_sim_energy() minus its value when the meter opened.
 * opts.backend must be a "sim" backend (-EINVAL otherwise); it is borrowed
 * and must outlive the meter.
 */
#include <stdio.h>
#include <stdlib.h>

#include "libvpwr/backend.h"
#include "libvpwr/sim.h"
#include "meter_internal.h"

struct sim_meter {
	struct vpwr_backend *b;
	double *base_j;            /* energy of each CPU at open */
};

static int sim_meter_init(struct vpwr_meter *m)
{
	struct vpwr_backend *b = m->opts.backend;
	struct sim_meter *sm;
	double j;
	int n, err;

	/* vpwr_sim_energy refuses anything but a sim backend. */
	if (!b || vpwr_sim_energy(b, 0, &j)) {
		log_err(&m->log, "sim meter: opts.backend must be a \"sim\" "
			"backend");
		return -EINVAL;
	}
	n = vpwr_backend_nr_cpus(b);
	if (n <= 0)
		return n < 0 ? n : -ENODEV;
	sm = calloc(1, sizeof(*sm));
	if (!sm)
		return -ENOMEM;
	m->priv = sm;
	sm->b = b;
	sm->base_j = calloc((size_t)n, sizeof(*sm->base_j));
	if (!sm->base_j)
		return -ENOMEM;
	for (int cpu = 0; cpu < n; cpu++) {
		char name[16];

		if ((err = vpwr_sim_energy(b, (unsigned)cpu, &sm->base_j[cpu])))
			return err;
		snprintf(name, sizeof(name), "cpu%d", cpu);
		if ((err = vpwr_meter_add_domain(m, name)))
			return err;
	}
	return 0;
}

static void sim_meter_fini(struct vpwr_meter *m)
{
	struct sim_meter *sm = m->priv;

	if (!sm)
		return;
	free(sm->base_j);
	free(sm);
	m->priv = NULL;
}

static int sim_meter_read(struct vpwr_meter *m, unsigned domain,
			  double *joules)
{
	struct sim_meter *sm = m->priv;
	double j;
	int err = vpwr_sim_energy(sm->b, domain, &j);

	if (err)
		return err;
	*joules = j - sm->base_j[domain];
	return 0;
}

const struct vpwr_meter_ops vpwr_meter_sim_ops = {
	.name = "sim",
	.init = sim_meter_init,
	.fini = sim_meter_fini,
	.read = sim_meter_read,
};
