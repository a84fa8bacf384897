/* SPDX-License-Identifier: MIT */
/*
 * The simulator backend ("sim"): N CPUs that behave like a kernel cpufreq
 * driver under the userspace governor, each with its own frequency table
 * (or the shared one).  This file holds the driver ops; the options, the
 * power model and clock, and the work model live beside it (see
 * sim_internal.h).  Nothing here reads the real clock outside wallclock
 * mode or touches files, so the same calls always give the same figures.
 *
 * Limits are kept as requested and narrowed on the fly while turbo is off,
 * the way the kernel's frequency QoS keeps a user's scaling_max_freq across
 * a boost toggle: switching turbo back on gives the old limit back.
 *
 * EPP: every CPU keeps a hint 0..255 (default 128), saved and restored like
 * its limits, so hosts can exercise their EPP path.  It is only recorded:
 * the power model ignores it, because what EPP does is up to the hardware
 * and the model has no autonomous frequency selection for it to steer.
 *
 * Shared policies (opts.cpus_per_policy): a change to one CPU of a policy
 * is made to every CPU of it, as the kernel's one set of files per policy
 * does, so their settings never differ; utilisation, work, energy and
 * residency stay per CPU.
 */
#include <stdlib.h>

#include "backend/sim_internal.h"

/* Every CPU of cpu's policy, as i (cpu itself when it has its own). */
#define POLICY_FOREACH(s, cpu, i)                                              \
	for (unsigned i = sim_policy_first((s), (cpu));                        \
	     i < sim_policy_end((s), (cpu)); i++)

/* Entries currently usable: the turbo one only while turbo is on. */
static size_t nr_avail(const struct sim_cpu *c)
{
	return c->st.turbo ? c->tab->nr_table : c->tab->nr_nominal;
}

static void eff_limits(const struct sim_cpu *c, uint32_t *min_khz,
		       uint32_t *max_khz)
{
	uint32_t top = c->tab->khz[nr_avail(c) - 1];

	*max_khz = VPWR_MIN(c->st.max_khz, top);
	*min_khz = VPWR_MIN(c->st.min_khz, *max_khz);
}

/*
 * The entry for target khz (already within the effective limits): the
 * highest usable entry at or below it that respects the min limit, else
 * the lowest one above the min (the kernel's RELATION_L).  set_limits
 * guarantees some entry lies within the limits.
 */
static size_t resolve(const struct sim_cpu *c, uint32_t khz)
{
	const uint32_t *t = c->tab->khz;
	uint32_t lo, hi;
	size_t n = nr_avail(c);

	eff_limits(c, &lo, &hi);
	for (size_t i = n; i-- > 0;)
		if (t[i] <= khz && t[i] >= lo)
			return i;
	for (size_t i = 0; i < n; i++)
		if (t[i] >= lo)
			return i;
	return n - 1;
}

static void clamp_cur(struct sim_cpu *c)
{
	uint32_t lo, hi, cur = c->tab->khz[c->st.cur];

	eff_limits(c, &lo, &hi);
	if (cur < lo || cur > hi || c->st.cur >= nr_avail(c))
		c->st.cur = resolve(c, VPWR_MIN(VPWR_MAX(cur, lo), hi));
}

static void save_once(struct sim_cpu *c)
{
	if (!c->saved) {
		c->orig = c->st;
		c->saved = true;
	}
}

struct sim *sim_of(const struct vpwr_backend *b)
{
	return b && b->ops == &vpwr_backend_sim_ops ? b->priv : NULL;
}

/* ----------------------------------------------------- init and fini */

static int sim_init(struct vpwr_backend *b)
{
	struct vpwr_sim_opts o;
	struct sim *s;
	double util;
	int err;

	err = VPWR_OPTS_LOAD(&o, b->opts.sim);
	if (err) {
		log_err(&b->log, "sim: options not understood by this library");
		return err;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	b->priv = s;
	s->wallclock = o.wallclock != 0;
	s->wall_ns = s->wallclock ? vpwr_now_ns() : 0;
	err = sim_load_opts(b, s, &o, &util);
	if (err)
		return err;
	for (unsigned i = 0; i < s->nr_cpus; i++) {
		struct sim_cpu *c = &s->cpu[i];

		/* A poll-mode CPU under the performance governor. */
		c->st.min_khz = sim_hw_min(c->tab);
		c->st.max_khz = sim_hw_max(c->tab);
		c->st.turbo = sim_has_turbo(c->tab);
		c->st.cur = c->tab->nr_nominal - 1;
		c->st.epp = SIM_DEFAULT_EPP;
		c->util = util;
	}
	return 0;
}

static void sim_fini(struct vpwr_backend *b)
{
	struct sim *s = b->priv;

	if (!s)
		return;
	sim_free_tables(s);
	free(s->residency_ns);
	free(s->cpu);
	free(s);
	b->priv = NULL;
}

/* ------------------------------------------------------ cpufreq model */

static int sim_nr_cpus(const struct vpwr_backend *b)
{
	return (int)((const struct sim *)b->priv)->nr_cpus;
}

static int sim_cpu_caps(struct vpwr_backend *b, unsigned cpu)
{
	const struct sim *s = b->priv;
	unsigned c = VPWR_BACKEND_CAP_SET_FREQ | VPWR_BACKEND_CAP_LIMITS |
		     VPWR_BACKEND_CAP_EPP | VPWR_BACKEND_CAP_TABLE;
	if (sim_policy_end(s, cpu) - sim_policy_first(s, cpu) == 1)
		c |= VPWR_BACKEND_CAP_PER_CPU;
	if (sim_has_turbo(s->cpu[cpu].tab))
		c |= VPWR_BACKEND_CAP_TURBO;
	return (int)c;
}

static int sim_policy_cpus(struct vpwr_backend *b, unsigned cpu,
			   struct vpwr_cpuset *out)
{
	const struct sim *s = b->priv;

	POLICY_FOREACH(s, cpu, i)
		vpwr_cpuset_set(out, i);
	return (int)(sim_policy_end(s, cpu) - sim_policy_first(s, cpu));
}

static int sim_get_freqs(struct vpwr_backend *b, unsigned cpu, uint32_t *khz,
			 size_t cap)
{
	const struct sim_cpu *c = &((struct sim *)b->priv)->cpu[cpu];
	size_t n = nr_avail(c);

	for (size_t i = 0; i < n && i < cap; i++)
		khz[i] = c->tab->khz[i];
	return (int)n;
}

static int sim_get_freq(struct vpwr_backend *b, unsigned cpu, uint32_t *khz)
{
	const struct sim_cpu *c = &((struct sim *)b->priv)->cpu[cpu];

	*khz = c->tab->khz[c->st.cur];
	return 0;
}

static int sim_get_limits(struct vpwr_backend *b, unsigned cpu,
			  uint32_t *min_khz, uint32_t *max_khz)
{
	eff_limits(&((struct sim *)b->priv)->cpu[cpu], min_khz, max_khz);
	return 0;
}

static int sim_set_freq(struct vpwr_backend *b, unsigned cpu, uint32_t khz)
{
	struct sim *s = b->priv;
	struct sim_cpu *c = &s->cpu[cpu];
	uint32_t lo, hi;

	sim_sync_wallclock(s);
	eff_limits(c, &lo, &hi);
	if (khz < lo || khz > hi) {
		log_debug(&b->log, "sim: cpu %u: %u kHz outside [%u, %u]", cpu,
			  khz, lo, hi);
		return -VPWR_E_BAD_FREQ;
	}
	POLICY_FOREACH(s, cpu, i) {
		save_once(&s->cpu[i]);
		s->cpu[i].st.cur = resolve(&s->cpu[i], khz);
	}
	return 0;
}

static int sim_set_limits(struct vpwr_backend *b, unsigned cpu,
			  uint32_t min_khz, uint32_t max_khz)
{
	struct sim *s = b->priv;
	struct sim_cpu *c = &s->cpu[cpu];
	const struct sim_table *t = c->tab;
	bool any = false;

	sim_sync_wallclock(s);
	if (min_khz < sim_hw_min(t) || max_khz > sim_hw_max(t)) {
		log_debug(&b->log, "sim: cpu %u: limits [%u, %u] outside the "
			  "hardware range [%u, %u]", cpu, min_khz, max_khz,
			  sim_hw_min(t), sim_hw_max(t));
		return -EINVAL;
	}
	/* Like the kernel's table verify, a range must hold a frequency
	 * (the kernel widens it; silently moving a limit is worse). */
	for (size_t i = 0; i < t->nr_table && !any; i++)
		any = t->khz[i] >= min_khz && t->khz[i] <= max_khz;
	if (!any) {
		log_debug(&b->log, "sim: cpu %u: no table frequency within "
			  "[%u, %u]", cpu, min_khz, max_khz);
		return -EINVAL;
	}
	POLICY_FOREACH(s, cpu, i) {
		save_once(&s->cpu[i]);
		s->cpu[i].st.min_khz = min_khz;
		s->cpu[i].st.max_khz = max_khz;
		clamp_cur(&s->cpu[i]);
	}
	return 0;
}

static int sim_get_turbo(struct vpwr_backend *b, unsigned cpu)
{
	return ((struct sim *)b->priv)->cpu[cpu].st.turbo ? 1 : 0;
}

/* Only reached on CPUs whose caps include turbo (backend.c checks). */
static int sim_set_turbo(struct vpwr_backend *b, unsigned cpu, bool enable)
{
	struct sim *s = b->priv;
	struct sim_cpu *c = &s->cpu[cpu];

	sim_sync_wallclock(s);
	if (!sim_has_turbo(c->tab))
		return -VPWR_E_UNSUPPORTED;
	POLICY_FOREACH(s, cpu, i) {
		save_once(&s->cpu[i]);
		s->cpu[i].st.turbo = enable;
		clamp_cur(&s->cpu[i]);
	}
	return 0;
}

static int sim_get_epp(struct vpwr_backend *b, unsigned cpu)
{
	return (int)((struct sim *)b->priv)->cpu[cpu].st.epp;
}

/* hint is 0..255 (backend.c checks); recorded, not modelled. */
static int sim_set_epp(struct vpwr_backend *b, unsigned cpu, unsigned hint)
{
	struct sim *s = b->priv;

	POLICY_FOREACH(s, cpu, i) {
		save_once(&s->cpu[i]);
		s->cpu[i].st.epp = hint;
	}
	return 0;
}

static int sim_restore(struct vpwr_backend *b, unsigned cpu)
{
	struct sim *s = b->priv;

	sim_sync_wallclock(s);
	POLICY_FOREACH(s, cpu, i) {
		struct sim_cpu *c = &s->cpu[i];

		if (c->saved) {
			c->st = c->orig;
			c->saved = false;
		}
	}
	return 0;
}

const struct vpwr_backend_ops vpwr_backend_sim_ops = {
	.name = "sim",
	.caps = VPWR_BACKEND_CAP_SET_FREQ | VPWR_BACKEND_CAP_LIMITS |
		VPWR_BACKEND_CAP_TURBO | VPWR_BACKEND_CAP_EPP |
		VPWR_BACKEND_CAP_TABLE,
	.probe = NULL, /* never auto-detected: see backend.c */
	.init = sim_init,
	.fini = sim_fini,
	.nr_cpus = sim_nr_cpus,
	.get_freqs = sim_get_freqs,
	.get_freq = sim_get_freq,
	.get_limits = sim_get_limits,
	.set_freq = sim_set_freq,
	.set_limits = sim_set_limits,
	.cpu_caps = sim_cpu_caps,
	.get_turbo = sim_get_turbo,
	.set_turbo = sim_set_turbo,
	.get_epp = sim_get_epp,
	.set_epp = sim_set_epp,
	.restore = sim_restore,
	.policy_cpus = sim_policy_cpus,
};
