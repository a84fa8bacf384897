/* SPDX-License-Identifier: MIT */
/*
 * The simulator's options (struct vpwr_sim_opts): every field is checked,
 * logged by name when refused, and turned into the tables and model
 * parameters of struct sim.  A refused option is -EINVAL; nothing is ever
 * clamped or guessed.
 *
 * Per-CPU tables: opts.cpus has one entry per CPU (so it needs an explicit
 * nr_cpus).  An entry with a table is checked exactly like the shared one;
 * an entry left all zero (freqs_khz NULL, nr_freqs 0, turbo_khz 0) means
 * "the shared table", so only the CPUs that differ need spelling out.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/sim_internal.h"

#define SIM_DEFAULT_CPUS 4u
#define SIM_DEFAULT_LO 800000u
#define SIM_DEFAULT_HI 2400000u
#define SIM_DEFAULT_STEP 200000u
#define SIM_DEFAULT_TURBO 3000000u
#define SIM_DEFAULT_N                                                          \
	((SIM_DEFAULT_HI - SIM_DEFAULT_LO) / SIM_DEFAULT_STEP + 1)
#define SIM_DEFAULT_WORK_PER_GHZ 1e6
#define SIM_DEFAULT_MAX_BACKLOG 1e6

/*
 * A caller's table: 1..SIM_MAX_FREQS positive, strictly ascending entries
 * and, if set, a turbo frequency above them.  `who` prefixes the log
 * ("" or "cpus[3]: ").
 */
static int load_table(struct vpwr_backend *b, const char *who,
		      const uint32_t *freqs, size_t n, uint32_t turbo,
		      struct sim_table *t)
{
	if (!n || n > SIM_MAX_FREQS) {
		log_err(&b->log, "sim: %sfrequency table needs 1..%u entries",
			who, SIM_MAX_FREQS);
		return -EINVAL;
	}
	t->khz = calloc(n + 1, sizeof(*t->khz));
	if (!t->khz)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		t->khz[i] = freqs[i];
		if (!freqs[i] || (i && freqs[i] <= freqs[i - 1])) {
			log_err(&b->log, "sim: %sfreqs_khz[%zu] = %u: the "
				"table must be positive and strictly ascending",
				who, i, freqs[i]);
			return -EINVAL;
		}
	}
	t->nr_nominal = t->nr_table = n;
	if (turbo) {
		if (turbo <= t->khz[n - 1]) {
			log_err(&b->log, "sim: %sturbo_khz %u is not above the "
				"table's maximum %u", who, turbo,
				t->khz[n - 1]);
			return -EINVAL;
		}
		t->khz[t->nr_table++] = turbo;
	}
	return 0;
}

static int load_shared(struct vpwr_backend *b, struct sim *s,
		       const struct vpwr_sim_opts *o)
{
	uint32_t dflt[SIM_DEFAULT_N];

	if (o->freqs_khz)
		return load_table(b, "", o->freqs_khz, o->nr_freqs,
				  o->turbo_khz, &s->shared);
	if (o->nr_freqs) {
		log_err(&b->log, "sim: nr_freqs set without freqs_khz");
		return -EINVAL;
	}
	for (size_t i = 0; i < SIM_DEFAULT_N; i++)
		dflt[i] = SIM_DEFAULT_LO + (uint32_t)i * SIM_DEFAULT_STEP;
	return load_table(b, "", dflt, SIM_DEFAULT_N,
			  o->turbo_khz ? o->turbo_khz : SIM_DEFAULT_TURBO,
			  &s->shared);
}

/* Point every CPU at its table: its own from opts.cpus, else the shared. */
static int load_cpus(struct vpwr_backend *b, struct sim *s,
		     const struct vpwr_sim_opts *o)
{
	if (!o->cpus) {
		for (unsigned i = 0; i < s->nr_cpus; i++)
			s->cpu[i].tab = &s->shared;
		return 0;
	}
	if (!o->nr_cpus) {
		log_err(&b->log, "sim: cpus needs an explicit nr_cpus");
		return -EINVAL;
	}
	s->own = calloc(s->nr_cpus, sizeof(*s->own));
	if (!s->own)
		return -ENOMEM;
	for (unsigned i = 0; i < s->nr_cpus; i++) {
		const struct vpwr_sim_cpu *e = &o->cpus[i];
		char who[32];
		int err;

		s->cpu[i].tab = &s->shared;
		if (!e->freqs_khz && !e->nr_freqs && !e->turbo_khz)
			continue;
		snprintf(who, sizeof(who), "cpus[%u]: ", i);
		if (!e->freqs_khz) {
			log_err(&b->log, "sim: %snr_freqs or turbo_khz set "
				"without freqs_khz", who);
			return -EINVAL;
		}
		err = load_table(b, who, e->freqs_khz, e->nr_freqs,
				 e->turbo_khz, &s->own[i]);
		if (err)
			return err;
		s->cpu[i].tab = &s->own[i];
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

/* "0: default" fields that must be finite and positive. */
static int load_positive(struct vpwr_backend *b, const char *what, double v,
			 double dflt, double *out)
{
	if (!isfinite(v) || v < 0.0) {
		log_err(&b->log, "sim: %s must be finite and positive (got %g)",
			what, v);
		return -EINVAL;
	}
	*out = v == 0.0 ? dflt : v;
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
	if ((err = load_fraction(b, "idle_fraction", o->idle_fraction, 0.3,
				 &s->idle_fraction)) ||
	    (err = load_fraction(b, "util", o->util, 1.0, util)))
		return err;
	if ((err = load_positive(b, "work_per_ghz", o->work_per_ghz,
				 SIM_DEFAULT_WORK_PER_GHZ, &s->work_per_ghz)))
		return err;
	return load_positive(b, "max_backlog", o->max_backlog,
			     SIM_DEFAULT_MAX_BACKLOG, &s->max_backlog);
}

/* Every CPU's residency array, back to back in one allocation. */
static int alloc_residency(struct sim *s)
{
	size_t total = 0;

	for (unsigned i = 0; i < s->nr_cpus; i++)
		total += s->cpu[i].tab->nr_table;
	s->residency_ns = calloc(total, sizeof(*s->residency_ns));
	if (!s->residency_ns)
		return -ENOMEM;
	total = 0;
	for (unsigned i = 0; i < s->nr_cpus; i++) {
		s->cpu[i].residency_ns = s->residency_ns + total;
		total += s->cpu[i].tab->nr_table;
	}
	return 0;
}

/* The CPUs of a policy move together: they must be able to. */
static int load_policies(struct vpwr_backend *b, struct sim *s,
			 const struct vpwr_sim_opts *o)
{
	s->per_policy = o->cpus_per_policy ? o->cpus_per_policy : 1;
	if (s->per_policy > VPWR_MAX_CPUS) {
		log_err(&b->log, "sim: cpus_per_policy %u above %u",
			o->cpus_per_policy, VPWR_MAX_CPUS);
		return -EINVAL;
	}
	for (unsigned i = 0; i < s->nr_cpus; i++) {
		const struct sim_table *t = s->cpu[i].tab;
		const struct sim_table *l = s->cpu[sim_policy_first(s, i)].tab;

		if (t != l && (t->nr_nominal != l->nr_nominal ||
			       t->nr_table != l->nr_table ||
			       memcmp(t->khz, l->khz,
				      t->nr_table * sizeof(*t->khz)))) {
			log_err(&b->log, "sim: cpus[%u]: its table differs "
				"from cpus[%u]'s, whose policy it shares "
				"(cpus_per_policy %u)", i,
				sim_policy_first(s, i), s->per_policy);
			return -EINVAL;
		}
	}
	return 0;
}

int sim_load_opts(struct vpwr_backend *b, struct sim *s,
		  const struct vpwr_sim_opts *o, double *util)
{
	int err;

	if (o->nr_cpus > VPWR_MAX_CPUS) {
		log_err(&b->log, "sim: nr_cpus %u above %u", o->nr_cpus,
			VPWR_MAX_CPUS);
		return -EINVAL;
	}
	s->nr_cpus = o->nr_cpus ? o->nr_cpus : SIM_DEFAULT_CPUS;
	s->cpu = calloc(s->nr_cpus, sizeof(*s->cpu));
	if (!s->cpu)
		return -ENOMEM;
	if ((err = load_shared(b, s, o)) || (err = load_cpus(b, s, o)) ||
	    (err = load_model(b, s, o, util)) ||
	    (err = load_policies(b, s, o)))
		return err;
	return alloc_residency(s);
}

void sim_free_tables(struct sim *s)
{
	if (s->own)
		for (unsigned i = 0; i < s->nr_cpus; i++)
			free(s->own[i].khz);
	free(s->own);
	free(s->shared.khz);
	s->own = NULL;
	s->shared.khz = NULL;
}
