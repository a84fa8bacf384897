/* SPDX-License-Identifier: MIT */
/*
 * The simulator's work model (libvpwr/sim.h): a poll-mode CPU offered
 * `per_s` units of work per second serves them at capacity
 * cap = work_per_ghz * f(GHz), queues what it cannot serve up to
 * max_backlog and drops the rest.
 *
 * Within one interval the rate and the capacity are constant, so the
 * backlog is piecewise linear and everything has a closed form: the
 * interval splits at most once, where the backlog reaches max_backlog
 * (growing) or empties (draining).  No time steps, so a 1 s advance and a
 * thousand 1 ms advances agree to rounding, and the same calls give the
 * same figures.
 */
#include <math.h>

#include "backend/sim_internal.h"

/* per_s >= cap: serving at capacity throughout, the backlog grows. */
static double run_growing(struct sim_work *w, double cap, double max_backlog,
			  double dt)
{
	double excess = w->per_s - cap, q = w->backlog;
	/* When the backlog reaches its bound; never, if it cannot grow. */
	double t_fill = excess > 0.0 ? VPWR_MAX(max_backlog - q, 0.0) / excess
				     : INFINITY;

	w->served += cap * dt;
	if (dt <= t_fill) {
		w->wait_unit_s += q * dt + excess * dt * dt / 2.0;
		w->backlog = q + excess * dt;
	} else {
		w->wait_unit_s += q * t_fill + excess * t_fill * t_fill / 2.0 +
				  max_backlog * (dt - t_fill);
		w->dropped += excess * (dt - t_fill);
		w->backlog = max_backlog;
	}
	return dt;
}

/* per_s < cap: at capacity while the backlog lasts, then as work comes. */
static double run_draining(struct sim_work *w, double cap, double dt)
{
	double deficit = cap - w->per_s, q = w->backlog;
	double t_empty = q / deficit;

	if (dt < t_empty) {
		w->served += cap * dt;
		w->wait_unit_s += q * dt - deficit * dt * dt / 2.0;
		w->backlog = VPWR_MAX(q - deficit * dt, 0.0); /* rounding */
		return dt;
	}
	w->served += cap * t_empty + w->per_s * (dt - t_empty);
	w->wait_unit_s += q * t_empty / 2.0;
	w->backlog = 0.0;
	return t_empty;
}

double sim_work_run(struct sim_work *w, double cap, double max_backlog,
		    double dt)
{
	w->offered += w->per_s * dt;
	if (w->per_s >= cap)
		return run_growing(w, cap, max_backlog, dt);
	return run_draining(w, cap, dt);
}

VPWR_API int vpwr_sim_set_offered(struct vpwr_backend *b, unsigned cpu,
				  double per_s)
{
	struct sim *s = sim_of(b);

	/* !(per_s >= 0) also refuses NaN. */
	if (!s || cpu >= s->nr_cpus || !(per_s >= 0.0) || !isfinite(per_s))
		return -EINVAL;
	sim_sync_wallclock(s);
	s->cpu[cpu].work.per_s = per_s;
	return 0;
}

VPWR_API int vpwr_sim_work_stats(struct vpwr_backend *b, unsigned cpu,
				 struct vpwr_sim_work_stats *stats)
{
	struct sim *s = sim_of(b);
	const struct sim_work *w;

	if (!s || cpu >= s->nr_cpus || !stats)
		return -EINVAL;
	sim_sync_wallclock(s);
	w = &s->cpu[cpu].work;
	memset(stats, 0, sizeof(*stats));
	stats->offered = w->offered;
	stats->served = w->served;
	stats->dropped = w->dropped;
	stats->backlog = w->backlog;
	stats->wait_unit_s = w->wait_unit_s;
	return 0;
}
