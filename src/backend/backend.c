/* SPDX-License-Identifier: MIT */
/*
 * The backend registry and the public vpwr_backend_* wrappers.  Every
 * argument and capability is checked here, once, so drivers only see valid
 * CPU ids and operations they implement.  Conventions: a bad argument
 * (NULL pointer, cpu >= nr_cpus, min > max, enable not 0/1) is -EINVAL; an
 * operation the backend or that CPU lacks is -VPWR_E_UNSUPPORTED; -ENODEV
 * is kept for CPUs the driver reports offline and for absent drivers.
 */
#include <stdlib.h>

#include "backend/backend_internal.h"
#include "backend/state.h"
#include "backend/sysfs.h"

/*
 * Lookup by name, and the fixed order "auto" probes in.  Each cpufreq
 * driver answers to exactly one scaling_driver string, so the order only
 * decides who is asked first: the specific modes before the generic
 * drivers they fall back to.
 */
static const struct vpwr_backend_ops *const registry[] = {
	&vpwr_backend_sim_ops, /* no probe: by name only */
	&vpwr_backend_intel_pstate_ops,
	&vpwr_backend_intel_cpufreq_ops,
	&vpwr_backend_amd_pstate_epp_ops,
	&vpwr_backend_amd_pstate_ops,
	&vpwr_backend_cppc_cpufreq_ops,
	&vpwr_backend_acpi_cpufreq_ops,
};

static const struct vpwr_backend_ops *find_ops(const char *name)
{
	for (size_t i = 0; i < VPWR_ARRAY_SIZE(registry); i++)
		if (!strcmp(registry[i]->name, name))
			return registry[i];
	return NULL;
}

/* The first driver whose probe says it runs this machine, or NULL. */
static const struct vpwr_backend_ops *detect(const struct vpwr_backend *b)
{
	for (size_t i = 0; i < VPWR_ARRAY_SIZE(registry); i++) {
		int err;

		if (!registry[i]->probe)
			continue;
		err = registry[i]->probe(b);
		if (!err)
			return registry[i];
		log_debug(&b->log, "backend %s not present under %s: %s",
			  registry[i]->name, b->sysfs_root, vpwr_strerror(err));
	}
	return NULL;
}

static bool ops_valid(const struct vpwr_backend_ops *ops)
{
	return ops->name && ops->init && ops->fini && ops->nr_cpus &&
	       ops->get_freqs && ops->get_freq && ops->get_limits &&
	       (ops->set_freq || ops->set_limits) &&
	       !ops->saved == !ops->adopt && (!ops->saved || ops->restore);
}

/* The driver `name` stands for on this machine, or -errno. */
static int pick_ops(const struct vpwr_backend *b, const char *name,
		    const struct vpwr_backend_ops **out)
{
	const struct vpwr_backend_ops *ops;
	int err;

	if (!strcmp(name, "auto")) {
		/* Never the simulator: a host that meant real CPUs must not
		 * quietly manage imaginary ones. */
		ops = detect(b);
		if (!ops) {
			log_err(&b->log, "no cpufreq backend detected under %s",
				b->sysfs_root);
			return -ENODEV;
		}
	} else {
		ops = find_ops(name);
		if (!ops) {
			log_err(&b->log, "unknown backend \"%s\"", name);
			return -ENOENT;
		}
		if (ops->probe && (err = ops->probe(b))) {
			log_err(&b->log, "backend %s not usable under %s: %s",
				name, b->sysfs_root, vpwr_strerror(err));
			return err;
		}
	}
	if (!ops_valid(ops))
		return -EINVAL; /* a driver bug; refuse rather than crash */
	*out = ops;
	return 0;
}

/* The same directory, whatever trailing slashes each spelling has. */
static bool same_root(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);

	while (la > 1 && a[la - 1] == '/')
		la--;
	while (lb > 1 && b[lb - 1] == '/')
		lb--;
	return la == lb && !memcmp(a, b, la);
}

/* Restore the CPUs in `cpus` with the state file's updates batched. */
static void restore_batch(struct vpwr_backend *b, const struct vpwr_cpuset *cpus)
{
	int n = b->ops->nr_cpus(b);

	b->sync_deferred = true;
	for (int cpu = 0; cpu < n; cpu++) {
		int err;

		if (!vpwr_cpuset_isset(cpus, (unsigned)cpu))
			continue;
		err = b->ops->restore(b, (unsigned)cpu);
		if (err && err != -ENODEV)
			log_warn(&b->log, "cpu %d: restore failed: %s", cpu,
				 vpwr_strerror(err));
		else if (err)
			log_warn(&b->log, "cpu %d is offline: its original "
				 "settings could not be put back", cpu);
	}
	b->sync_deferred = false;
	vpwr_backend_state_sync(b);
}

/*
 * A state file that holds originals was left by a process that died
 * before putting them back: put them back now, then clear it.  Nothing is
 * written unless the whole file passes its checks.
 */
static int recover(struct vpwr_backend *b)
{
	struct vpwr_cpuset cpus;
	struct vpwr_state st;
	int err;

	if (!b->state_file || !b->ops->saved)
		return 0;
	err = vpwr_state_load(b->state_file, &b->log, &st);
	if (err)
		return err == -ENOENT ? 0 : err;
	if (strcmp(st.backend, b->ops->name) ||
	    !same_root(st.sysfs_root, b->sysfs_root)) {
		log_err(&b->log, "state file %s was left by backend %s under "
			"%s, this is %s under %s: refused, nothing restored",
			b->state_file, st.backend, st.sysfs_root, b->ops->name,
			b->sysfs_root);
		vpwr_state_fini(&st);
		return -EBADMSG;
	}
	err = b->ops->adopt(b, &st);
	cpus = st.saved;
	vpwr_state_fini(&st);
	if (err)
		return err;
	log_warn(&b->log, "state file %s: putting back the original "
		 "settings of %u CPU(s) a previous process left changed",
		 b->state_file, vpwr_cpuset_count(&cpus));
	restore_batch(b, &cpus);
	return 0;
}

int vpwr_backend_state_sync(struct vpwr_backend *b)
{
	if (!b->state_file || !b->ops->saved || b->sync_deferred)
		return 0;
	return vpwr_state_store(b->state_file, &b->log, b->ops->saved(b));
}

static void backend_destroy(struct vpwr_backend *b)
{
	free(b->state_file);
	free(b->sysfs_root);
	free(b);
}

int vpwr_backend_open_io(const char *name, const struct vpwr_backend_opts *opts,
			 const struct vpwr_sysfs_io *io, void *io_ctx,
			 struct vpwr_backend **out)
{
	struct vpwr_backend_opts o;
	const struct vpwr_backend_ops *ops = NULL;
	struct vpwr_backend *b;
	int err;

	if (out)
		*out = NULL;
	if (!name || !out || !io)
		return -EINVAL;
	err = VPWR_OPTS_LOAD(&o, opts);
	if (err)
		return err;
	b = calloc(1, sizeof(*b));
	if (!b)
		return -ENOMEM;
	vpwr_logger_init(&b->log, o.log_fn, o.log_userdata, o.log_level);
	b->opts = o;
	b->io = io;
	b->io_ctx = io_ctx;
	b->sysfs_root = strdup(o.sysfs_root ? o.sysfs_root : "/sys");
	b->state_file = o.state_file ? strdup(o.state_file) : NULL;
	if (!b->sysfs_root || (o.state_file && !b->state_file)) {
		backend_destroy(b);
		return -ENOMEM;
	}
	b->opts.sysfs_root = b->sysfs_root;
	b->opts.state_file = b->state_file;
	/* Real system calls: one write per value on sysfs, a truncate too on
	 * a tree of plain files. */
	if (io == &vpwr_sysfs_io_default)
		b->io = vpwr_sysfs_io_for(b->sysfs_root);
	err = pick_ops(b, name, &ops);
	if (!err) {
		b->ops = ops;
		err = ops->init(b);
		b->opts.sim = NULL;
		if (!err)
			err = recover(b);
		if (err)
			ops->fini(b);
	}
	if (err) {
		backend_destroy(b);
		return err;
	}
	*out = b;
	return 0;
}

VPWR_API int vpwr_backend_open(const char *name,
			       const struct vpwr_backend_opts *opts,
			       struct vpwr_backend **out)
{
	return vpwr_backend_open_io(name, opts, &vpwr_sysfs_io_default, NULL,
				    out);
}

VPWR_API void vpwr_backend_free(struct vpwr_backend *b)
{
	if (!b)
		return;
	if (b->ops) {
		struct vpwr_cpuset all;

		vpwr_cpuset_zero(&all);
		for (int cpu = 0; cpu < b->ops->nr_cpus(b); cpu++)
			vpwr_cpuset_set(&all, (unsigned)cpu);
		if (b->ops->restore)
			restore_batch(b, &all);
		if (b->state_file && b->ops->saved &&
		    !vpwr_state_empty(b->ops->saved(b)))
			log_warn(&b->log, "state file %s keeps what could not "
				 "be put back, for the next open",
				 b->state_file);
		b->ops->fini(b);
	}
	backend_destroy(b);
}

VPWR_API const char *vpwr_backend_name(const struct vpwr_backend *b)
{
	return b ? b->ops->name : NULL;
}

VPWR_API int vpwr_backend_nr_cpus(const struct vpwr_backend *b)
{
	return b ? b->ops->nr_cpus(b) : -EINVAL;
}

static int check_cpu(const struct vpwr_backend *b, unsigned cpu)
{
	int n;

	if (!b)
		return -EINVAL;
	n = b->ops->nr_cpus(b);
	if (n < 0)
		return n;
	return cpu < (unsigned)n ? 0 : -EINVAL;
}

/* What the ops table implements, whatever the CPU. */
static unsigned ops_caps(const struct vpwr_backend_ops *ops)
{
	unsigned c = ops->caps & VPWR_BACKEND_CAP_ALL;

	if (!ops->set_freq)
		c &= ~VPWR_BACKEND_CAP_SET_FREQ;
	if (!ops->set_limits)
		c &= ~VPWR_BACKEND_CAP_LIMITS;
	if (!ops->get_turbo || !ops->set_turbo)
		c &= ~VPWR_BACKEND_CAP_TURBO;
	if (!ops->get_epp || !ops->set_epp)
		c &= ~VPWR_BACKEND_CAP_EPP;
	return c;
}

/* Caps of a valid cpu, or -errno. */
static int cpu_caps(struct vpwr_backend *b, unsigned cpu)
{
	/* Per-CPU control unless the driver says otherwise for this CPU. */
	unsigned c = ops_caps(b->ops) | VPWR_BACKEND_CAP_PER_CPU;

	if (b->ops->cpu_caps) {
		int r = b->ops->cpu_caps(b, cpu);

		if (r < 0)
			return r;
		c &= (unsigned)r;
	}
	return (int)c;
}

/* 0 if `cpu` is valid and has capability `cap`, else -errno. */
static int check_cap(struct vpwr_backend *b, unsigned cpu, unsigned cap)
{
	int c = check_cpu(b, cpu);

	if (c)
		return c;
	c = cpu_caps(b, cpu);
	if (c < 0)
		return c;
	return ((unsigned)c & cap) ? 0 : -VPWR_E_UNSUPPORTED;
}

VPWR_API int vpwr_backend_caps(struct vpwr_backend *b, unsigned cpu)
{
	int err = check_cpu(b, cpu);

	return err ? err : cpu_caps(b, cpu);
}

VPWR_API int vpwr_backend_get_freqs(struct vpwr_backend *b, unsigned cpu,
				    uint32_t *khz, size_t cap)
{
	int err = check_cpu(b, cpu);

	if (err)
		return err;
	if (!khz && cap)
		return -EINVAL;
	return b->ops->get_freqs(b, cpu, khz, cap);
}

VPWR_API int vpwr_backend_get_freq(struct vpwr_backend *b, unsigned cpu,
				   uint32_t *khz)
{
	int err = check_cpu(b, cpu);

	if (err)
		return err;
	if (!khz)
		return -EINVAL;
	return b->ops->get_freq(b, cpu, khz);
}

VPWR_API int vpwr_backend_set_freq(struct vpwr_backend *b, unsigned cpu,
				   uint32_t khz)
{
	int err = check_cap(b, cpu, VPWR_BACKEND_CAP_SET_FREQ);

	return err ? err : b->ops->set_freq(b, cpu, khz);
}

VPWR_API int vpwr_backend_get_limits(struct vpwr_backend *b, unsigned cpu,
				     uint32_t *min_khz, uint32_t *max_khz)
{
	int err = check_cpu(b, cpu);

	if (err)
		return err;
	if (!min_khz || !max_khz)
		return -EINVAL;
	return b->ops->get_limits(b, cpu, min_khz, max_khz);
}

VPWR_API int vpwr_backend_set_limits(struct vpwr_backend *b, unsigned cpu,
				     uint32_t min_khz, uint32_t max_khz)
{
	int err = check_cpu(b, cpu);

	if (err)
		return err;
	if (min_khz > max_khz)
		return -EINVAL;
	err = check_cap(b, cpu, VPWR_BACKEND_CAP_LIMITS);
	return err ? err : b->ops->set_limits(b, cpu, min_khz, max_khz);
}

VPWR_API int vpwr_backend_get_turbo(struct vpwr_backend *b, unsigned cpu)
{
	int err = check_cap(b, cpu, VPWR_BACKEND_CAP_TURBO);

	return err ? err : b->ops->get_turbo(b, cpu);
}

VPWR_API int vpwr_backend_set_turbo(struct vpwr_backend *b, unsigned cpu,
				    int enable)
{
	int err = check_cpu(b, cpu);

	if (err)
		return err;
	if (enable != 0 && enable != 1)
		return -EINVAL;
	err = check_cap(b, cpu, VPWR_BACKEND_CAP_TURBO);
	return err ? err : b->ops->set_turbo(b, cpu, enable);
}

VPWR_API int vpwr_backend_get_epp(struct vpwr_backend *b, unsigned cpu)
{
	int err = check_cap(b, cpu, VPWR_BACKEND_CAP_EPP);

	return err ? err : b->ops->get_epp(b, cpu);
}

VPWR_API int vpwr_backend_set_epp(struct vpwr_backend *b, unsigned cpu,
				  unsigned hint)
{
	int err = check_cpu(b, cpu);

	if (err)
		return err;
	if (hint > VPWR_BACKEND_EPP_MAX)
		return -EINVAL;
	err = check_cap(b, cpu, VPWR_BACKEND_CAP_EPP);
	return err ? err : b->ops->set_epp(b, cpu, hint);
}

VPWR_API int vpwr_backend_policy_cpus(struct vpwr_backend *b, unsigned cpu,
				      struct vpwr_cpuset *out)
{
	int err = check_cpu(b, cpu);

	if (err || !out)
		return err ? err : -EINVAL;
	vpwr_cpuset_zero(out);
	if (!b->ops->policy_cpus) {
		vpwr_cpuset_set(out, cpu);
		return 1;
	}
	err = b->ops->policy_cpus(b, cpu, out);
	if (err >= 0 && !vpwr_cpuset_isset(out, cpu)) {
		/* A driver bug; the CPU is at least in its own domain. */
		vpwr_cpuset_set(out, cpu);
		err = (int)vpwr_cpuset_count(out);
	}
	return err;
}

VPWR_API int vpwr_backend_restore(struct vpwr_backend *b, unsigned cpu)
{
	int err = check_cpu(b, cpu);

	if (err)
		return err;
	return b->ops->restore ? b->ops->restore(b, cpu) : -VPWR_E_UNSUPPORTED;
}
