/* SPDX-License-Identifier: MIT */
/*
 * The simulator backend ("sim"): N CPUs that behave like a kernel cpufreq
 * driver under the userspace governor, with the power model, virtual clock,
 * energy and residency counters documented in libvpwr/sim.h.  Nothing here
 * reads the real clock or touches files, so the same calls always give the
 * same figures.
 *
 * Limits are kept as requested and narrowed on the fly while turbo is off,
 * the way the kernel's frequency QoS keeps a user's scaling_max_freq across
 * a boost toggle: switching turbo back on gives the old limit back.
 */
#include <math.h>
#include <stdlib.h>

#include "backend/backend_internal.h"
#include "libvpwr/sim.h"

#define SIM_DEFAULT_CPUS 4u
#define SIM_DEFAULT_LO 800000u
#define SIM_DEFAULT_HI 2400000u
#define SIM_DEFAULT_STEP 200000u
#define SIM_DEFAULT_TURBO 3000000u
#define SIM_MAX_FREQS 1024u  /* bounds the residency arrays */

struct sim_state {             /* what restore puts back */
	uint32_t min_khz, max_khz; /* as requested, turbo entry included */
	size_t cur;                /* index into the table */
	bool turbo;
};

struct sim_cpu {
	struct sim_state st;
	struct sim_state orig;
	bool saved;
	double util;
	double energy_j;
	uint64_t *residency_ns;    /* one per table entry */
};

struct sim {
	unsigned nr_cpus;
	uint32_t *table;           /* nominal entries, then turbo if any */
	size_t nr_nominal;
	size_t nr_table;
	double static_w, dyn_w, v_min, v_max, idle_fraction;
	uint64_t now_ns;
	bool wallclock;            /* virtual time follows the monotonic clock */
	uint64_t wall_ns;          /* monotonic time last accounted for */
	struct sim_cpu *cpu;
	uint64_t *residency_ns;    /* nr_cpus * nr_table */
};

static bool has_turbo(const struct sim *s)
{
	return s->nr_table > s->nr_nominal;
}

static uint32_t hw_max(const struct sim *s)
{
	return s->table[s->nr_table - 1];
}

/* Entries currently usable: the turbo one only while turbo is on. */
static size_t nr_avail(const struct sim *s, const struct sim_cpu *c)
{
	return c->st.turbo ? s->nr_table : s->nr_nominal;
}

static void eff_limits(const struct sim *s, const struct sim_cpu *c,
		       uint32_t *min_khz, uint32_t *max_khz)
{
	uint32_t top = s->table[nr_avail(s, c) - 1];

	*max_khz = VPWR_MIN(c->st.max_khz, top);
	*min_khz = VPWR_MIN(c->st.min_khz, *max_khz);
}

/*
 * The entry for target khz (already within the effective limits): the
 * highest usable entry at or below it that respects the min limit, else
 * the lowest one above the min (the kernel's RELATION_L).  set_limits
 * guarantees some entry lies within the limits.
 */
static size_t resolve(const struct sim *s, const struct sim_cpu *c,
		      uint32_t khz)
{
	uint32_t lo, hi;
	size_t n = nr_avail(s, c);

	eff_limits(s, c, &lo, &hi);
	for (size_t i = n; i-- > 0;)
		if (s->table[i] <= khz && s->table[i] >= lo)
			return i;
	for (size_t i = 0; i < n; i++)
		if (s->table[i] >= lo)
			return i;
	return n - 1;
}

static void clamp_cur(const struct sim *s, struct sim_cpu *c)
{
	uint32_t lo, hi, cur = s->table[c->st.cur];

	eff_limits(s, c, &lo, &hi);
	if (cur < lo || cur > hi || c->st.cur >= nr_avail(s, c))
		c->st.cur = resolve(s, c, VPWR_MIN(VPWR_MAX(cur, lo), hi));
}

static void sync_wallclock(struct sim *s);

static void save_once(struct sim_cpu *c)
{
	if (!c->saved) {
		c->orig = c->st;
		c->saved = true;
	}
}

static struct sim *sim_of(const struct vpwr_backend *b)
{
	return b && b->ops == &vpwr_backend_sim_ops ? b->priv : NULL;
}

/* ------------------------------------------------------------- options */

static int load_table(struct vpwr_backend *b, struct sim *s,
		      const struct vpwr_sim_opts *o)
{
	uint32_t turbo = o->turbo_khz;
	size_t n = o->nr_freqs;

	if (!o->freqs_khz) {
		if (n) {
			log_err(&b->log, "sim: nr_freqs set without freqs_khz");
			return -EINVAL;
		}
		n = (SIM_DEFAULT_HI - SIM_DEFAULT_LO) / SIM_DEFAULT_STEP + 1;
		if (!turbo)
			turbo = SIM_DEFAULT_TURBO;
	} else if (!n || n > SIM_MAX_FREQS) {
		log_err(&b->log, "sim: frequency table needs 1..%u entries",
			SIM_MAX_FREQS);
		return -EINVAL;
	}
	s->table = calloc(n + 1, sizeof(*s->table));
	if (!s->table)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		s->table[i] = o->freqs_khz ? o->freqs_khz[i]
					   : SIM_DEFAULT_LO + i * SIM_DEFAULT_STEP;
		if (!s->table[i] || (i && s->table[i] <= s->table[i - 1])) {
			log_err(&b->log, "sim: freqs_khz[%zu] = %u: the table "
				"must be positive and strictly ascending", i,
				s->table[i]);
			return -EINVAL;
		}
	}
	s->nr_nominal = s->nr_table = n;
	if (turbo) {
		if (turbo <= s->table[n - 1]) {
			log_err(&b->log, "sim: turbo_khz %u is not above the "
				"table's maximum %u", turbo, s->table[n - 1]);
			return -EINVAL;
		}
		s->table[s->nr_table++] = turbo;
	}
	return 0;
}

/* "0: default, negative: 0" fields, which must end in [0, 1]. */
static int load_fraction(struct vpwr_backend *b, const char *what, double v,
			 double dflt, double *out)
{
	if (isnan(v) || v > 1.0) {
		log_err(&b->log, "sim: %s must lie in [0, 1]", what);
		return -EINVAL;
	}
	*out = v == 0.0 ? dflt : v < 0.0 ? 0.0 : v;
	return 0;
}

static int load_model(struct vpwr_backend *b, struct sim *s,
		      const struct vpwr_sim_opts *o, double *util)
{
	int err;

	s->static_w = o->static_w == 0.0 ? 1.0 : o->static_w;
	s->dyn_w = o->dyn_w_per_ghz_v2 == 0.0 ? 3.0 : o->dyn_w_per_ghz_v2;
	s->v_min = o->v_min == 0.0 ? 0.7 : o->v_min;
	s->v_max = o->v_max == 0.0 ? 1.2 : o->v_max;
	if (!isfinite(s->static_w) || s->static_w < 0.0 ||
	    !isfinite(s->dyn_w) || s->dyn_w < 0.0) {
		log_err(&b->log, "sim: power coefficients must be finite and "
			"non-negative");
		return -EINVAL;
	}
	if (!isfinite(s->v_min) || !isfinite(s->v_max) || s->v_min <= 0.0 ||
	    s->v_max < s->v_min) {
		log_err(&b->log, "sim: voltages need 0 < v_min <= v_max "
			"(got %g, %g)", s->v_min, s->v_max);
		return -EINVAL;
	}
	err = load_fraction(b, "idle_fraction", o->idle_fraction, 0.3,
			    &s->idle_fraction);
	return err ? err : load_fraction(b, "util", o->util, 1.0, util);
}

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
	if (o.nr_cpus > VPWR_MAX_CPUS) {
		log_err(&b->log, "sim: nr_cpus %u above %u", o.nr_cpus,
			VPWR_MAX_CPUS);
		return -EINVAL;
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	b->priv = s;
	s->nr_cpus = o.nr_cpus ? o.nr_cpus : SIM_DEFAULT_CPUS;
	s->wallclock = o.wallclock != 0;
	s->wall_ns = s->wallclock ? vpwr_now_ns() : 0;
	if ((err = load_table(b, s, &o)) || (err = load_model(b, s, &o, &util)))
		return err;
	s->cpu = calloc(s->nr_cpus, sizeof(*s->cpu));
	s->residency_ns = calloc((size_t)s->nr_cpus * s->nr_table,
				 sizeof(*s->residency_ns));
	if (!s->cpu || !s->residency_ns)
		return -ENOMEM;
	for (unsigned i = 0; i < s->nr_cpus; i++) {
		struct sim_cpu *c = &s->cpu[i];

		/* A poll-mode CPU under the performance governor. */
		c->st.min_khz = s->table[0];
		c->st.max_khz = hw_max(s);
		c->st.turbo = has_turbo(s);
		c->st.cur = s->nr_nominal - 1;
		c->util = util;
		c->residency_ns = s->residency_ns + (size_t)i * s->nr_table;
	}
	return 0;
}

static void sim_fini(struct vpwr_backend *b)
{
	struct sim *s = b->priv;

	if (!s)
		return;
	free(s->residency_ns);
	free(s->cpu);
	free(s->table);
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
		     VPWR_BACKEND_CAP_TABLE;

	(void)cpu;
	return (int)(has_turbo(s) ? c | VPWR_BACKEND_CAP_TURBO : c);
}

static int sim_get_freqs(struct vpwr_backend *b, unsigned cpu, uint32_t *khz,
			 size_t cap)
{
	const struct sim *s = b->priv;
	size_t n = nr_avail(s, &s->cpu[cpu]);

	for (size_t i = 0; i < n && i < cap; i++)
		khz[i] = s->table[i];
	return (int)n;
}

static int sim_get_freq(struct vpwr_backend *b, unsigned cpu, uint32_t *khz)
{
	const struct sim *s = b->priv;

	*khz = s->table[s->cpu[cpu].st.cur];
	return 0;
}

static int sim_get_limits(struct vpwr_backend *b, unsigned cpu,
			  uint32_t *min_khz, uint32_t *max_khz)
{
	const struct sim *s = b->priv;

	eff_limits(s, &s->cpu[cpu], min_khz, max_khz);
	return 0;
}

static int sim_set_freq(struct vpwr_backend *b, unsigned cpu, uint32_t khz)
{
	struct sim *s = b->priv;
	struct sim_cpu *c = &s->cpu[cpu];
	uint32_t lo, hi;

	sync_wallclock(s);
	eff_limits(s, c, &lo, &hi);
	if (khz < lo || khz > hi) {
		log_debug(&b->log, "sim: cpu %u: %u kHz outside [%u, %u]", cpu,
			  khz, lo, hi);
		return -VPWR_E_BAD_FREQ;
	}
	save_once(c);
	c->st.cur = resolve(s, c, khz);
	return 0;
}

static int sim_set_limits(struct vpwr_backend *b, unsigned cpu,
			  uint32_t min_khz, uint32_t max_khz)
{
	struct sim *s = b->priv;
	struct sim_cpu *c = &s->cpu[cpu];
	bool any = false;

	sync_wallclock(s);
	if (min_khz < s->table[0] || max_khz > hw_max(s)) {
		log_debug(&b->log, "sim: cpu %u: limits [%u, %u] outside the "
			  "hardware range [%u, %u]", cpu, min_khz, max_khz,
			  s->table[0], hw_max(s));
		return -EINVAL;
	}
	/* Like the kernel's table verify, a range must hold a frequency
	 * (the kernel widens it; silently moving a limit is worse). */
	for (size_t i = 0; i < s->nr_table && !any; i++)
		any = s->table[i] >= min_khz && s->table[i] <= max_khz;
	if (!any) {
		log_debug(&b->log, "sim: cpu %u: no table frequency within "
			  "[%u, %u]", cpu, min_khz, max_khz);
		return -EINVAL;
	}
	save_once(c);
	c->st.min_khz = min_khz;
	c->st.max_khz = max_khz;
	clamp_cur(s, c);
	return 0;
}

static int sim_get_turbo(struct vpwr_backend *b, unsigned cpu)
{
	const struct sim *s = b->priv;

	return s->cpu[cpu].st.turbo ? 1 : 0;
}

static int sim_set_turbo(struct vpwr_backend *b, unsigned cpu, bool enable)
{
	struct sim *s = b->priv;
	struct sim_cpu *c = &s->cpu[cpu];

	sync_wallclock(s);
	if (!has_turbo(s))
		return -VPWR_E_UNSUPPORTED;
	save_once(c);
	c->st.turbo = enable;
	clamp_cur(s, c);
	return 0;
}

static int sim_restore(struct vpwr_backend *b, unsigned cpu)
{
	struct sim *s = b->priv;
	struct sim_cpu *c = &s->cpu[cpu];

	sync_wallclock(s);
	if (c->saved) {
		c->st = c->orig;
		c->saved = false;
	}
	return 0;
}

const struct vpwr_backend_ops vpwr_backend_sim_ops = {
	.name = "sim",
	.caps = VPWR_BACKEND_CAP_SET_FREQ | VPWR_BACKEND_CAP_LIMITS |
		VPWR_BACKEND_CAP_TURBO | VPWR_BACKEND_CAP_TABLE,
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
	.restore = sim_restore,
};

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

/* sim.h's model; f_min/f_max span the whole table, turbo included. */
static double power_w(const struct sim *s, uint32_t khz, double util)
{
	double f = khz / 1e6, fmin = s->table[0] / 1e6, fmax = hw_max(s) / 1e6;
	/* A one-entry table has no slope: it sits at v_min. */
	double v = fmax > fmin ? s->v_min + (s->v_max - s->v_min) *
					    (f - fmin) / (fmax - fmin)
			       : s->v_min;
	double activity = s->idle_fraction + (1.0 - s->idle_fraction) * util;

	return s->static_w + s->dyn_w * f * v * v * activity;
}

static int advance(struct sim *s, uint64_t ns)
{
	if (ns > UINT64_MAX - s->now_ns)
		return -EOVERFLOW;
	for (unsigned i = 0; i < s->nr_cpus; i++) {
		struct sim_cpu *c = &s->cpu[i];

		c->energy_j += power_w(s, s->table[c->st.cur], c->util) *
			       ((double)ns / 1e9);
		c->residency_ns[c->st.cur] += ns;
	}
	s->now_ns += ns;
	return 0;
}

/*
 * In wallclock mode, account for the real time since the last call at the
 * state that held during it.  Called before every change and every read
 * of the counters, so each interval is charged to the right frequency.
 */
static void sync_wallclock(struct sim *s)
{
	uint64_t now;

	if (!s->wallclock)
		return;
	now = vpwr_now_ns();
	if (now > s->wall_ns)
		advance(s, now - s->wall_ns);
	s->wall_ns = now;
}

VPWR_API int vpwr_sim_advance(struct vpwr_backend *b, uint64_t ns)
{
	struct sim *s = sim_of(b);

	if (!s)
		return -EINVAL;
	sync_wallclock(s);
	return advance(s, ns);
}

VPWR_API int vpwr_sim_now(struct vpwr_backend *b, uint64_t *ns)
{
	struct sim *s = sim_of(b);

	if (!s || !ns)
		return -EINVAL;
	sync_wallclock(s);
	*ns = s->now_ns;
	return 0;
}

VPWR_API int vpwr_sim_set_util(struct vpwr_backend *b, unsigned cpu,
			       double util)
{
	struct sim *s = sim_cpu_of(b, cpu);

	if (!s || !util_ok(util))
		return -EINVAL;
	sync_wallclock(s);
	s->cpu[cpu].util = util;
	return 0;
}

VPWR_API int vpwr_sim_energy(struct vpwr_backend *b, unsigned cpu,
			     double *joules)
{
	struct sim *s = sim_cpu_of(b, cpu);

	if (!s || !joules)
		return -EINVAL;
	sync_wallclock(s);
	*joules = s->cpu[cpu].energy_j;
	return 0;
}

VPWR_API int vpwr_sim_power(struct vpwr_backend *b, unsigned cpu,
			    uint32_t khz, double util, double *watts)
{
	struct sim *s = sim_cpu_of(b, cpu);

	if (!s || !watts || !util_ok(util) || khz < s->table[0] ||
	    khz > hw_max(s))
		return -EINVAL;
	*watts = power_w(s, khz, util);
	return 0;
}

VPWR_API int vpwr_sim_residency(struct vpwr_backend *b, unsigned cpu,
				uint32_t khz, uint64_t *ns)
{
	struct sim *s = sim_cpu_of(b, cpu);

	if (!s || !ns)
		return -EINVAL;
	sync_wallclock(s);
	for (size_t i = 0; i < s->nr_table; i++) {
		if (s->table[i] == khz) {
			*ns = s->cpu[cpu].residency_ns[i];
			return 0;
		}
	}
	return -EINVAL; /* not a frequency this CPU can run at */
}
