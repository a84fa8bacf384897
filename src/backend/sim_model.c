/* SPDX-License-Identifier: MIT */
/*
 * The simulator's power model and virtual clock (libvpwr/sim.h): advancing
 * the clock charges each CPU's energy and residency to the state that held
 * during the interval, running the work model on the way; the vpwr_sim_*
 * calls here read and steer that.
 *
 * Utilisation over an interval: while a CPU has work (offered or queued)
 * it is busy whenever it serves at capacity and at offered/capacity when it
 * keeps up, so the interval's mean utilisation is served / capacity; the
 * model's power is affine in utilisation, so charging the two parts
 * separately is exact.  Without work, the CPU sits at the utilisation of
 * vpwr_sim_set_util() (or opts.util); a backlog that drains with nothing
 * offered hands back to it from the moment it is empty.
 */
#include <math.h>

#include "backend/sim_internal.h"

/* The dynamic part at full activity, dyn * f * V^2, in watts. */
static double dyn_full_w(const struct sim *s, const struct sim_cpu *c,
			 uint32_t khz)
{
	double f = khz / 1e6, fmin = sim_hw_min(c->tab) / 1e6;
	double fmax = sim_hw_max(c->tab) / 1e6;
	/* A one-entry table has no slope: it sits at v_min. */
	double v = fmax > fmin ? s->v_min + (s->v_max - s->v_min) *
					    (f - fmin) / (fmax - fmin)
			       : s->v_min;

	return s->dyn_w * f * v * v;
}

/* sim.h's model; f_min/f_max span the CPU's table, turbo included. */
double sim_power_w(const struct sim *s, const struct sim_cpu *c,
		   uint32_t khz, double util)
{
	double activity = s->idle_fraction + (1.0 - s->idle_fraction) * util;

	return s->static_w + dyn_full_w(s, c, khz) * activity;
}

static void account_cpu(const struct sim *s, struct sim_cpu *c, uint64_t ns)
{
	uint32_t khz = c->tab->khz[c->st.cur];
	double dt = (double)ns / 1e9;
	double cap, per_s, busy, rest_u, util_s;

	c->residency_ns[c->st.cur] += ns;
	if (!sim_work_active(&c->work)) {
		c->energy_j += sim_power_w(s, c, khz, c->util) * dt;
		return;
	}
	cap = s->work_per_ghz * (khz / 1e6);
	per_s = c->work.per_s;
	busy = sim_work_run(&c->work, cap, s->max_backlog, dt);
	/* After `busy` the CPU keeps up (per_s < cap) or has nothing left. */
	rest_u = per_s > 0.0 ? VPWR_MIN(per_s / cap, 1.0) : c->util;
	/* Power is affine in utilisation: integrate utilisation instead. */
	util_s = busy + rest_u * (dt - busy);
	c->energy_j += s->static_w * dt +
		       dyn_full_w(s, c, khz) *
			       (s->idle_fraction * dt +
				(1.0 - s->idle_fraction) * util_s);
}

int sim_advance(struct sim *s, uint64_t ns)
{
	if (ns > UINT64_MAX - s->now_ns)
		return -EOVERFLOW;
	for (unsigned i = 0; i < s->nr_cpus; i++)
		account_cpu(s, &s->cpu[i], ns);
	s->now_ns += ns;
	return 0;
}

void sim_sync_wallclock(struct sim *s)
{
	uint64_t now;

	if (!s->wallclock)
		return;
	now = vpwr_now_ns();
	if (now > s->wall_ns)
		sim_advance(s, now - s->wall_ns);
	s->wall_ns = now;
}

/* ------------------------------------------------ the vpwr_sim_* extras */

static struct sim *sim_cpu_of(struct vpwr_backend *b, unsigned cpu)
{
	struct sim *s = sim_of(b);

	return s && cpu < s->nr_cpus ? s : NULL;
}

static bool util_ok(double u)
{
	return u >= 0.0 && u <= 1.0; /* false for NaN */
}

VPWR_API int vpwr_sim_advance(struct vpwr_backend *b, uint64_t ns)
{
	struct sim *s = sim_of(b);

	if (!s)
		return -EINVAL;
	sim_sync_wallclock(s);
	return sim_advance(s, ns);
}

VPWR_API int vpwr_sim_now(struct vpwr_backend *b, uint64_t *ns)
{
	struct sim *s = sim_of(b);

	if (!s || !ns)
		return -EINVAL;
	sim_sync_wallclock(s);
	*ns = s->now_ns;
	return 0;
}

VPWR_API int vpwr_sim_set_util(struct vpwr_backend *b, unsigned cpu,
			       double util)
{
	struct sim *s = sim_cpu_of(b, cpu);

	if (!s || !util_ok(util))
		return -EINVAL;
	sim_sync_wallclock(s);
	s->cpu[cpu].util = util;
	return 0;
}

VPWR_API int vpwr_sim_energy(struct vpwr_backend *b, unsigned cpu,
			     double *joules)
{
	struct sim *s = sim_cpu_of(b, cpu);

	if (!s || !joules)
		return -EINVAL;
	sim_sync_wallclock(s);
	*joules = s->cpu[cpu].energy_j;
	return 0;
}

VPWR_API int vpwr_sim_power(struct vpwr_backend *b, unsigned cpu,
			    uint32_t khz, double util, double *watts)
{
	struct sim *s = sim_cpu_of(b, cpu);
	const struct sim_cpu *c;

	if (!s || !watts || !util_ok(util))
		return -EINVAL;
	c = &s->cpu[cpu];
	if (khz < sim_hw_min(c->tab) || khz > sim_hw_max(c->tab))
		return -EINVAL;
	*watts = sim_power_w(s, c, khz, util);
	return 0;
}

VPWR_API int vpwr_sim_residency(struct vpwr_backend *b, unsigned cpu,
				uint32_t khz, uint64_t *ns)
{
	struct sim *s = sim_cpu_of(b, cpu);
	const struct sim_cpu *c;

	if (!s || !ns)
		return -EINVAL;
	sim_sync_wallclock(s);
	c = &s->cpu[cpu];
	for (size_t i = 0; i < c->tab->nr_table; i++) {
		if (c->tab->khz[i] == khz) {
			*ns = c->residency_ns[i];
			return 0;
		}
	}
	return -EINVAL; /* not a frequency this CPU can run at */
}
