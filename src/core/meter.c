/* SPDX-License-Identifier: MIT */
/*
 * The energy meter registry and the public vpwr_meter_* calls: options,
 * the handle, domain names, argument checks.  What is measured and how is
 * up to each driver (meter_rapl.c, meter_sim.c).
 */
#include <stdlib.h>

#include "meter_internal.h"

static const struct vpwr_meter_ops *const registry[] = {
	&vpwr_meter_rapl_ops,
	&vpwr_meter_sim_ops,
};

static const struct vpwr_meter_ops *find_ops(const char *name)
{
	for (size_t i = 0; i < VPWR_ARRAY_SIZE(registry); i++)
		if (!strcmp(registry[i]->name, name))
			return registry[i];
	return NULL;
}

int vpwr_meter_add_domain(struct vpwr_meter *m, const char *name)
{
	char **names = realloc(m->names, (m->nr_domains + 1) * sizeof(*names));
	char *copy;

	if (!names)
		return -ENOMEM;
	m->names = names;
	copy = strdup(name);
	if (!copy)
		return -ENOMEM;
	m->names[m->nr_domains++] = copy;
	return 0;
}

static void meter_release(struct vpwr_meter *m)
{
	if (m->ops)
		m->ops->fini(m);
	for (unsigned i = 0; i < m->nr_domains; i++)
		free(m->names[i]);
	free(m->names);
	free(m->sysfs_root);
	free(m);
}

/* Checks that do not depend on the driver. */
static int check_opts(const struct vpwr_meter *m)
{
	if (m->opts.sysfs_root && !m->opts.sysfs_root[0]) {
		log_err(&m->log, "meter: sysfs_root is empty");
		return -EINVAL;
	}
	return 0;
}

VPWR_API int vpwr_meter_open(const char *name,
			     const struct vpwr_meter_opts *opts,
			     struct vpwr_meter **out)
{
	const struct vpwr_meter_ops *ops = NULL;
	struct vpwr_meter *m;
	int err;

	if (out)
		*out = NULL;
	if (!name || !out)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	err = VPWR_OPTS_LOAD(&m->opts, opts);
	if (err) {
		free(m);
		return err;
	}
	vpwr_logger_init(&m->log, m->opts.log_fn, m->opts.log_userdata,
			 m->opts.log_level);
	err = check_opts(m);
	if (!err && !(ops = find_ops(name))) {
		log_err(&m->log, "unknown meter \"%s\"", name);
		err = -ENOENT;
	}
	if (!err) {
		m->sysfs_root = strdup(m->opts.sysfs_root ? m->opts.sysfs_root
							  : "/sys");
		m->opts.sysfs_root = m->sysfs_root;
		err = m->sysfs_root ? 0 : -ENOMEM;
	}
	if (!err) {
		m->ops = ops;
		err = ops->init(m);
	}
	if (err) {
		meter_release(m);
		return err;
	}
	*out = m;
	return 0;
}

VPWR_API void vpwr_meter_free(struct vpwr_meter *m)
{
	if (m)
		meter_release(m);
}

VPWR_API int vpwr_meter_nr_domains(const struct vpwr_meter *m)
{
	return m ? (int)m->nr_domains : -EINVAL;
}

VPWR_API const char *vpwr_meter_domain_name(const struct vpwr_meter *m,
					    unsigned domain)
{
	return m && domain < m->nr_domains ? m->names[domain] : NULL;
}

VPWR_API int vpwr_meter_read(struct vpwr_meter *m, unsigned domain,
			     double *joules)
{
	if (!m || !joules || domain >= m->nr_domains)
		return -EINVAL;
	return m->ops->read(m, domain, joules);
}
