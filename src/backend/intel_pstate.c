/* SPDX-License-Identifier: MIT */
/*
 * intel_pstate, in its two modes, as Documentation/admin-guide/pm/
 * intel_pstate.rst describes them:
 *
 *   intel_pstate   active mode: the driver's own performance/powersave
 *                  algorithms, so limits (scaling_min/max_freq) but no
 *                  scaling_setspeed; EPP hints
 *   intel_cpufreq  passive mode: generic governors, so the userspace
 *                  governor and scaling_setspeed like acpi-cpufreq
 *
 * Both: turbo through the global intel_pstate/no_turbo (1 = off), which
 * leaves cpuinfo_max_freq alone but caps the limits at the highest
 * non-turbo frequency (base_frequency).  The driver has no table of
 * frequencies; P-states being 100 MHz apart, one is synthesised.
 *
 * Also here: the EPP interface (energy_performance_preference), which
 * amd-pstate-epp copies, and the 100 MHz grid the CPPC drivers use.
 */
#include <stdio.h>
#include <stdlib.h>

#include "backend/sysfs.h"

/* ------------------------------------------------------------------ EPP */

/* The hint an EPP string stands for: a name of the driver's, or a number. */
static int epp_value(const struct vpwr_cpufreq_desc *d, const char *s)
{
	uint32_t v;

	for (size_t i = 0; i < d->nr_epp; i++)
		if (!strcmp(d->epp[i].name, s))
			return (int)d->epp[i].value;
	return vpwr_sysfs_parse_u32(s, &v) && v <= VPWR_BACKEND_EPP_MAX
		       ? (int)v
		       : -EPROTO;
}

/*
 * The offered name (bit i of `offered`: d->epp[i]) nearest to hint, a tie
 * going to performance; NULL if none is offered.
 */
static const struct vpwr_epp_name *
epp_nearest(const struct vpwr_cpufreq_desc *d, unsigned offered, unsigned hint)
{
	const struct vpwr_epp_name *best = NULL;
	unsigned best_d = 0;

	for (size_t i = 0; i < d->nr_epp; i++) {
		const struct vpwr_epp_name *e = &d->epp[i];
		unsigned dist = e->value > hint ? e->value - hint
						: hint - e->value;

		if (!(offered & (1u << i)))
			continue;
		if (!best || dist < best_d ||
		    (dist == best_d && e->value < best->value)) {
			best = e;
			best_d = dist;
		}
	}
	return best;
}

/* Read now: what the kernel shows is taken into the view. */
int vpwr_cpufreq_get_epp(struct vpwr_backend *b, unsigned cpu)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	struct vpwr_cpufreq_cpu *c = &cf->cpu[cpu];
	char s[VPWR_STATE_STR];
	int v, n = vpwr_cpufreq_check(b, cpu);

	if (!n)
		n = vpwr_cpufreq_read(b, cpu, VPWR_CPUFREQ_EPP_F, s, sizeof(s));
	if (n < 0)
		return n;
	if (c->known)
		vpwr_strlcpy(c->epp_now, s, sizeof(c->epp_now));
	v = epp_value(cf->desc, s);
	if (v < 0)
		log_err(&b->log, "cpu %u: energy_performance_preference holds "
			"\"%s\", which has no hint value", cpu, s);
	return v;
}

static int epp_write(struct vpwr_backend *b, unsigned cpu, const char *val)
{
	struct vpwr_cpufreq_cpu *c = &vpwr_cpufreq_of(b)->cpu[cpu];
	int err = vpwr_cpufreq_write(b, cpu, VPWR_CPUFREQ_EPP_F, val);

	if (err == -EBUSY && !strcmp(c->governor, "performance"))
		log_warn(&b->log, "cpu %u: the performance governor holds EPP "
			 "at performance; use powersave to set it", cpu);
	return err;
}

/*
 * A hint that is one of the offered names' values is written as that name;
 * any other as a number where the driver takes numbers (intel_pstate with
 * the EPP feature), else as the nearest offered name.
 */
int vpwr_cpufreq_set_epp(struct vpwr_backend *b, unsigned cpu, unsigned hint)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	struct vpwr_cpufreq_cpu *c = &cf->cpu[cpu];
	const struct vpwr_epp_name *e;
	char num[8];
	bool numbers;
	int now, err = vpwr_cpufreq_view(b, cpu);

	if (err)
		return err;
	/* Not known (a governor change moved it) or unknown: read again;
	 * still no value (< 0): always written. */
	if (epp_value(cf->desc, c->epp_now) < 0 &&
	    (err = vpwr_cpufreq_read(b, cpu, VPWR_CPUFREQ_EPP_F, c->epp_now,
				     sizeof(c->epp_now))) < 0)
		return err;
	now = epp_value(cf->desc, c->epp_now);
	e = epp_nearest(cf->desc, c->epp_offered, hint);
	numbers = (cf->desc->flags & VPWR_CPUFREQ_EPP_NUMBERS) &&
		  !c->epp_names_only && !(e && e->value == hint);
	if (!numbers && !e) {
		log_err(&b->log, "cpu %u: none of %s's EPP names is offered in "
			"%s", cpu, cf->desc->driver, VPWR_CPUFREQ_EPP_AVAIL);
		return -EPROTO;
	}
	if (now == (int)(numbers ? hint : e->value))
		return 0;
	if ((err = vpwr_cpufreq_save(b, cpu)))
		return err;
	if (numbers) {
		snprintf(num, sizeof(num), "%u", hint);
		err = epp_write(b, cpu, num);
		if (err != -EINVAL || !e)
			return err;
		/* Without the EPP feature (EPB only) it takes names only. */
		log_info(&b->log, "cpu %u: EPP takes names only, using %s",
			 cpu, e->name);
		c->epp_names_only = true;
		if (now == (int)e->value)
			return 0;
	}
	return epp_write(b, cpu, e->name);
}

/* -------------------------------------------------------------- tables */

int vpwr_cpufreq_grid(uint32_t lo, uint32_t hi, uint32_t *khz, size_t cap)
{
	size_t n = 0;
	uint32_t f = lo;

	while (f <= hi) {
		if (n < cap)
			khz[n] = f;
		n++;
		if (f == hi)
			break;
		f = VPWR_MIN((f / VPWR_CPUFREQ_GRID_KHZ + 1) *
				     VPWR_CPUFREQ_GRID_KHZ, hi);
	}
	return (int)n;
}

int vpwr_cpufreq_range_list(struct vpwr_backend *b, unsigned cpu,
			    uint32_t *khz)
{
	uint32_t lo, hi;
	int n, err = vpwr_cpufreq_read_u32(b, cpu, "cpufreq/cpuinfo_min_freq",
					   &lo);

	if (!err)
		err = vpwr_cpufreq_read_u32(b, cpu, "cpufreq/cpuinfo_max_freq",
					    &hi);
	if (!err && lo > hi) {
		log_err(&b->log, "cpu %u: cpuinfo_min_freq %u above "
			"cpuinfo_max_freq %u", cpu, lo, hi);
		err = -EPROTO;
	}
	if (err)
		return err;
	n = vpwr_cpufreq_grid(lo, hi, khz, VPWR_CPUFREQ_MAX_FREQS);
	return (int)VPWR_MIN((unsigned)n, VPWR_CPUFREQ_MAX_FREQS);
}

/* The grid up to cpuinfo_max_freq, or to base_frequency if turbo is off. */
static int intel_list(struct vpwr_backend *b, unsigned cpu, uint32_t *khz)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	uint32_t base;
	int n = vpwr_cpufreq_range_list(b, cpu, khz);
	int raw = cf->has_turbo && n > 0 ? vpwr_cpufreq_turbo_raw(b) : 0;

	if (n < 0 || raw < 0)
		return n < 0 ? n : raw;
	if (raw == 1 && /* no_turbo */
	    !vpwr_sysfs_read_u32(&cf->fs, (int)cpu, "cpufreq/base_frequency",
				 &base) &&
	    base >= khz[0] && base < khz[n - 1])
		n = (int)VPWR_MIN((unsigned)vpwr_cpufreq_grid(
					  khz[0], base, khz,
					  VPWR_CPUFREQ_MAX_FREQS),
				  VPWR_CPUFREQ_MAX_FREQS);
	return n;
}

/* -------------------------------------------------------------- drivers */

/* The hardware EPP values the kernel writes for each name. */
static const struct vpwr_epp_name intel_epp[] = {
	{ "performance", 0 },
	{ "balance_performance", 128 },
	{ "balance_power", 192 },
	{ "power", 255 },
};

static const struct vpwr_cpufreq_desc active_desc = {
	.driver = "intel_pstate",
	.flags = VPWR_CPUFREQ_TABLE | VPWR_CPUFREQ_NO_TURBO | VPWR_CPUFREQ_EPP |
		 VPWR_CPUFREQ_EPP_NUMBERS,
	.epp = intel_epp,
	.nr_epp = VPWR_ARRAY_SIZE(intel_epp),
	.list = intel_list,
};

static const struct vpwr_cpufreq_desc passive_desc = {
	.driver = "intel_cpufreq",
	.flags = VPWR_CPUFREQ_SETSPEED | VPWR_CPUFREQ_TABLE |
		 VPWR_CPUFREQ_NO_TURBO | VPWR_CPUFREQ_EPP |
		 VPWR_CPUFREQ_EPP_NUMBERS,
	.epp = intel_epp,
	.nr_epp = VPWR_ARRAY_SIZE(intel_epp),
	.list = intel_list,
};

static int active_probe(const struct vpwr_backend *b)
{
	return vpwr_cpufreq_probe(b, active_desc.driver);
}

static int active_init(struct vpwr_backend *b)
{
	return vpwr_cpufreq_init(b, &active_desc);
}

static int passive_probe(const struct vpwr_backend *b)
{
	return vpwr_cpufreq_probe(b, passive_desc.driver);
}

static int passive_init(struct vpwr_backend *b)
{
	return vpwr_cpufreq_init(b, &passive_desc);
}

const struct vpwr_backend_ops vpwr_backend_intel_pstate_ops = {
	.name = "intel_pstate",
	.caps = VPWR_BACKEND_CAP_LIMITS | VPWR_BACKEND_CAP_TURBO |
		VPWR_BACKEND_CAP_EPP | VPWR_BACKEND_CAP_TABLE,
	.probe = active_probe,
	.init = active_init,
	.get_epp = vpwr_cpufreq_get_epp,
	.set_epp = vpwr_cpufreq_set_epp,
	VPWR_CPUFREQ_COMMON_OPS,
};

const struct vpwr_backend_ops vpwr_backend_intel_cpufreq_ops = {
	.name = "intel_cpufreq",
	.caps = VPWR_BACKEND_CAP_SET_FREQ | VPWR_BACKEND_CAP_LIMITS |
		VPWR_BACKEND_CAP_TURBO | VPWR_BACKEND_CAP_EPP |
		VPWR_BACKEND_CAP_TABLE,
	.probe = passive_probe,
	.init = passive_init,
	.set_freq = vpwr_cpufreq_set_freq,
	.get_epp = vpwr_cpufreq_get_epp,
	.set_epp = vpwr_cpufreq_set_epp,
	VPWR_CPUFREQ_COMMON_OPS,
};
