/* SPDX-License-Identifier: MIT */
/*
 * acpi-cpufreq, and the generic cpufreq interface it is the plainest user
 * of, which the other drivers here reuse: limits through
 * scaling_min/max_freq, a target frequency through the userspace governor
 * and scaling_setspeed, the machine-wide turbo knob (cpufreq/boost, or
 * intel_pstate's inverted no_turbo), and a frequency table from
 * scaling_available_frequencies (the ACPI _PSS states).  Every write here
 * is preceded by saving the CPU's originals (state.c puts them back).
 */
#include <stdio.h>
#include <stdlib.h>

#include "backend/sysfs.h"

/* ------------------------------------------------ saving the originals */

/* What restore needs of `cpu`, as the kernel shows it now. */
static int read_orig(struct vpwr_backend *b, unsigned cpu, struct vpwr_orig *o)
{
	const struct vpwr_cpufreq_cpu *c = &vpwr_cpufreq_of(b)->cpu[cpu];
	int err;

	memset(o, 0, sizeof(*o));
	err = vpwr_cpufreq_read(b, cpu, VPWR_CPUFREQ_GOVERNOR, o->governor,
				sizeof(o->governor));
	if (err >= 0 && !vpwr_state_name_ok(o->governor))
		err = -EPROTO;
	if (err >= 0)
		err = vpwr_cpufreq_get_limits(b, cpu, &o->min_khz, &o->max_khz);
	if (!err && c->setspeed && !strcmp(o->governor, "userspace"))
		err = vpwr_cpufreq_read_u32(b, cpu, VPWR_CPUFREQ_SETSPEED_F,
					    &o->setspeed_khz);
	if (!err && c->epp &&
	    (err = vpwr_cpufreq_read(b, cpu, VPWR_CPUFREQ_EPP_F, o->epp,
				     sizeof(o->epp))) >= 0)
		err = vpwr_state_name_ok(o->epp) ? 0 : -EPROTO;
	return err < 0 ? err : 0;
}

/*
 * CPUs sharing cpu's policy (related_cpus: one cpufreq/ directory for
 * them all) are saved with it: a change to one is a change to all, and a
 * sibling saved later would record the changed values as its originals.
 */
static void save_siblings(struct vpwr_backend *b, unsigned cpu,
			  const struct vpwr_orig *o)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	char list[1024], *save = NULL;
	uint32_t s;

	if (vpwr_sysfs_read(&cf->fs, (int)cpu, "cpufreq/related_cpus", list,
			    sizeof(list)) < 0)
		return;
	for (char *t = strtok_r(list, " ", &save); t;
	     t = strtok_r(NULL, " ", &save))
		if (vpwr_sysfs_parse_u32(t, &s) && s != cpu &&
		    s < cf->nr_cpus && !vpwr_cpuset_isset(&cf->saved.saved, s)) {
			cf->saved.cpu[s] = *o;
			vpwr_cpuset_set(&cf->saved.saved, s);
		}
}

int vpwr_cpufreq_save(struct vpwr_backend *b, unsigned cpu)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	struct vpwr_cpuset before;
	struct vpwr_orig o;
	int err;

	if (vpwr_cpuset_isset(&cf->saved.saved, cpu)) {
		/* Changed directly now, not only through turbo. */
		vpwr_state_cpuset_clear(&cf->collateral, cpu);
		return 0;
	}
	if ((err = read_orig(b, cpu, &o)))
		return err;
	before = cf->saved.saved;
	cf->saved.cpu[cpu] = o;
	vpwr_cpuset_set(&cf->saved.saved, cpu);
	save_siblings(b, cpu, &o);
	err = vpwr_backend_state_sync(b);
	if (err)
		cf->saved.saved = before;
	return err;
}

/*
 * intel_pstate/min_perf_pct, which the kernel lowers to the non-turbo
 * maximum's percent when no_turbo goes to 1, and never raises again.
 */
static int save_min_perf_pct(struct vpwr_backend *b, struct vpwr_state *st)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	uint32_t v;
	int err;

	st->min_perf_pct = -1;
	if (!(cf->desc->flags & VPWR_CPUFREQ_NO_TURBO))
		return 0;
	err = vpwr_sysfs_read_u32(&cf->fs, -1, "intel_pstate/min_perf_pct",
				  &v);
	if (err == -ENOENT)
		return 0;
	if (!err && v > 100) {
		log_err(&b->log, "%s/devices/system/cpu/intel_pstate/"
			"min_perf_pct holds %u, not a percentage",
			b->sysfs_root, v);
		err = -EPROTO;
	}
	if (!err)
		st->min_perf_pct = (int)v;
	return err;
}

/*
 * Turbo is one knob for every CPU, and switching it moves every CPU's
 * limits (the kernel clamps scaling_max_freq), so the first change saves
 * the knob and, as "collateral", every CPU not saved yet.  The CPUs that
 * asked for a change hold it; when the last one is restored, the knob and
 * the collateral CPUs are put back.
 */
int vpwr_cpufreq_save_turbo(struct vpwr_backend *b, unsigned cpu)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	struct vpwr_state *st = &cf->saved;
	struct vpwr_cpuset added;
	const char *rel = vpwr_cpufreq_turbo_rel(cf);
	bool first = !st->turbo_saved;
	int err = 0;

	if (vpwr_cpuset_isset(&st->turbo_cpus, cpu))
		return 0;
	vpwr_cpuset_zero(&added);
	for (unsigned i = 0; !st->turbo_saved && !err && i < cf->nr_cpus; i++) {
		if (!cf->cpu[i].policy || vpwr_cpuset_isset(&st->saved, i))
			continue;
		if (!(err = read_orig(b, i, &st->cpu[i])))
			vpwr_cpuset_set(&added, i);
	}
	if (!err && first)
		err = vpwr_sysfs_read(&cf->fs, -1, rel, st->turbo_value,
				      sizeof(st->turbo_value));
	if (err >= 0 && first)
		err = save_min_perf_pct(b, st);
	if (err >= 0) {
		vpwr_strlcpy(st->turbo_file, strrchr(rel, '/') + 1,
			     sizeof(st->turbo_file));
		for (unsigned i = 0; i < cf->nr_cpus; i++)
			if (vpwr_cpuset_isset(&added, i)) {
				vpwr_cpuset_set(&st->saved, i);
				vpwr_cpuset_set(&cf->collateral, i);
			}
		vpwr_cpuset_set(&st->turbo_cpus, cpu);
		st->turbo_saved = true;
		err = vpwr_backend_state_sync(b);
	}
	if (err < 0) { /* as if nothing had been saved */
		for (unsigned i = 0; i < cf->nr_cpus; i++)
			if (vpwr_cpuset_isset(&added, i)) {
				vpwr_state_cpuset_clear(&st->saved, i);
				vpwr_state_cpuset_clear(&cf->collateral, i);
			}
		vpwr_state_cpuset_clear(&st->turbo_cpus, cpu);
		st->turbo_saved = vpwr_cpuset_count(&st->turbo_cpus) > 0;
		if (first)
			st->min_perf_pct = -1;
	}
	return err < 0 ? err : 0;
}

/* -------------------------------------------------------------- limits */

int vpwr_cpufreq_move_limits(struct vpwr_backend *b, unsigned cpu,
			     const uint32_t cur[2], const uint32_t req[2],
			     uint32_t lo, uint32_t hi)
{
	bool w_min = lo != req[0], w_max = hi != req[1];
	uint32_t min, max;
	int err = 0;

	if (!w_min && !w_max)
		return 0;
	if (hi >= cur[1]) {
		if (w_max)
			err = vpwr_cpufreq_write_u32(b, cpu, VPWR_CPUFREQ_MAX,
						     hi);
		if (!err && w_min)
			err = vpwr_cpufreq_write_u32(b, cpu, VPWR_CPUFREQ_MIN,
						     lo);
	} else {
		if (w_min)
			err = vpwr_cpufreq_write_u32(b, cpu, VPWR_CPUFREQ_MIN,
						     lo);
		if (!err && w_max)
			err = vpwr_cpufreq_write_u32(b, cpu, VPWR_CPUFREQ_MAX,
						     hi);
	}
	/* What the kernel made of it: it clamps into cpuinfo_min/max_freq,
	 * below the non-turbo maximum while turbo is off, and may lower the
	 * max for a global cap (intel_pstate's max_perf_pct, passive). */
	if (!err &&
	    !(err = vpwr_cpufreq_read_u32(b, cpu, VPWR_CPUFREQ_MIN, &min)) &&
	    !(err = vpwr_cpufreq_read_u32(b, cpu, VPWR_CPUFREQ_MAX, &max)))
		vpwr_cpufreq_seen_limits(b, cpu, min, max, false);
	return err;
}

/* Does [lo, hi] lie within cpu's list, holding an entry of a table? */
static bool limits_fit(const struct vpwr_cpufreq *cf,
		       const struct vpwr_cpufreq_cpu *c, uint32_t lo,
		       uint32_t hi)
{
	const uint32_t *f = c->freqs;
	unsigned n = c->nr_freqs, i = 0;

	if (lo < f[0] || hi > f[n - 1])
		return false;
	if (!(cf->desc->flags & VPWR_CPUFREQ_TABLE))
		return true;
	while (i < n && f[i] < lo)
		i++;
	return i < n && f[i] <= hi;
}

/*
 * Before a value is refused for not fitting the view, the view is read
 * again: it may be old (someone else switched turbo, say).
 */
static int view_again(struct vpwr_backend *b, unsigned cpu)
{
	vpwr_cpufreq_forget(b, cpu);
	return vpwr_cpufreq_view(b, cpu);
}

int vpwr_cpufreq_set_limits(struct vpwr_backend *b, unsigned cpu,
			    uint32_t min_khz, uint32_t max_khz)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	const struct vpwr_cpufreq_cpu *c = &cf->cpu[cpu];
	uint32_t cur[2], req[2];
	int err = vpwr_cpufreq_view(b, cpu);

	if (err)
		return err;
	if (!limits_fit(cf, c, min_khz, max_khz) &&
	    ((err = view_again(b, cpu)) ||
	     !limits_fit(cf, c, min_khz, max_khz))) {
		if (!err)
			log_debug(&b->log, "cpu %u: limits [%u, %u] kHz outside "
				  "[%u, %u] kHz or holding no frequency of its "
				  "table", cpu, min_khz, max_khz, c->freqs[0],
				  c->freqs[c->nr_freqs - 1]);
		return err ? err : -EINVAL;
	}
	if (min_khz == c->min_req && max_khz == c->max_req)
		return 0;
	if ((err = vpwr_cpufreq_save(b, cpu)))
		return err;
	/* After save(), which may have read newer limits into the view. */
	cur[0] = c->min_khz;
	cur[1] = c->max_khz;
	req[0] = c->min_req;
	req[1] = c->max_req;
	return vpwr_cpufreq_move_limits(b, cpu, cur, req, min_khz, max_khz);
}

/* --------------------------------------------------------------- turbo */

/*
 * The knob's content, 0 or 1, read now.  Another value than the one last
 * seen means someone else switched it, which moved every CPU's limits and
 * list: the views are read again.
 */
static int turbo_read(struct vpwr_backend *b)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	const char *rel = vpwr_cpufreq_turbo_rel(cf);
	uint32_t v;
	int err = vpwr_sysfs_read_u32(&cf->fs, -1, rel, &v);

	if (err)
		log_warn(&b->log, "reading %s/devices/system/cpu/%s: %s",
			 b->sysfs_root, rel, vpwr_strerror(err));
	else if (v > 1)
		err = -EPROTO;
	if (err)
		return err;
	if (cf->turbo_raw >= 0 && cf->turbo_raw != (int)v) {
		log_warn(&b->log, "%s was switched by someone else: reading "
			 "every CPU's limits again", rel);
		vpwr_cpufreq_forget_all(b);
	}
	cf->turbo_raw = (int)v;
	return (int)v;
}

int vpwr_cpufreq_turbo_raw(struct vpwr_backend *b)
{
	int raw = vpwr_cpufreq_of(b)->turbo_raw;

	return raw >= 0 ? raw : turbo_read(b);
}

int vpwr_cpufreq_get_turbo(struct vpwr_backend *b, unsigned cpu)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	int raw = vpwr_cpufreq_check(b, cpu);

	if (!raw)
		raw = turbo_read(b);
	if (raw < 0)
		return raw;
	return (cf->desc->flags & VPWR_CPUFREQ_NO_TURBO) ? !raw : raw;
}

/*
 * Turbo is one knob for the whole machine; see state.c for its restore.
 * Read every time: it is rarely set, and it moves every CPU.
 */
int vpwr_cpufreq_set_turbo(struct vpwr_backend *b, unsigned cpu, bool enable)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	int on = vpwr_cpufreq_get_turbo(b, cpu), err;
	bool inverted = cf->desc->flags & VPWR_CPUFREQ_NO_TURBO;

	if (on < 0)
		return on;
	if (on == enable && !cf->saved.turbo_saved)
		return 0; /* as it was: nothing to save or put back */
	err = vpwr_cpufreq_save_turbo(b, cpu);
	if (err || on == enable)
		return err;
	err = vpwr_sysfs_write(&cf->fs, -1, vpwr_cpufreq_turbo_rel(cf),
			       enable != inverted ? "1" : "0");
	/* The kernel moved every CPU's limits and list (or, refusing, may
	 * have been in another state than we thought). */
	cf->turbo_raw = err ? -1 : enable != inverted;
	for (unsigned i = 0; i < cf->nr_cpus; i++)
		if (err)
			vpwr_cpufreq_refresh(b, i);
		else
			vpwr_cpufreq_forget(b, i);
	return err;
}

/* ------------------------------------------------------------ setspeed */

/*
 * The table entry for khz (within [lo, hi]): the highest at or below it
 * that respects lo, else the lowest within the limits; 0 if none.
 */
static uint32_t table_pick(const uint32_t *f, unsigned n, uint32_t khz,
			   uint32_t lo, uint32_t hi)
{
	uint32_t best = 0;

	for (unsigned i = 0; i < n; i++)
		if (f[i] >= lo && f[i] <= khz)
			best = f[i];
	for (unsigned i = 0; !best && i < n; i++)
		if (f[i] >= lo && f[i] <= hi)
			best = f[i];
	return best;
}

/* What setspeed gets for khz under the view's limits; 0: not allowed. */
static uint32_t freq_pick(const struct vpwr_cpufreq *cf,
			  const struct vpwr_cpufreq_cpu *c, uint32_t khz)
{
	if (khz < c->min_khz || khz > c->max_khz)
		return 0;
	if (cf->desc->flags & VPWR_CPUFREQ_TABLE)
		return table_pick(c->freqs, c->nr_freqs, khz, c->min_khz,
				  c->max_khz);
	return khz;
}

int vpwr_cpufreq_set_freq(struct vpwr_backend *b, unsigned cpu, uint32_t khz)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	const struct vpwr_cpufreq_cpu *c = &cf->cpu[cpu];
	uint32_t want;
	int err = vpwr_cpufreq_view(b, cpu);

	if (err)
		return err;
	if (!(want = freq_pick(cf, c, khz)) &&
	    ((err = view_again(b, cpu)) || !(want = freq_pick(cf, c, khz)))) {
		if (!err)
			log_debug(&b->log, "cpu %u: %u kHz outside the limits "
				  "[%u, %u]", cpu, khz, c->min_khz, c->max_khz);
		return err ? err : -VPWR_E_BAD_FREQ;
	}
	/* scaling_setspeed only takes a value under the userspace governor;
	 * switching to it starts from the current frequency.  If someone
	 * else switched the governor away, the kernel refuses the setspeed
	 * write and the view is read again: the next call switches back. */
	if (strcmp(c->governor, "userspace") &&
	    ((err = vpwr_cpufreq_save(b, cpu)) ||
	     (err = vpwr_cpufreq_write(b, cpu, VPWR_CPUFREQ_GOVERNOR,
				       "userspace"))))
		return err;
	if (c->setspeed_khz == want)
		return 0;
	err = vpwr_cpufreq_save(b, cpu);
	return err ? err
		   : vpwr_cpufreq_write_u32(b, cpu, VPWR_CPUFREQ_SETSPEED_F,
					    want);
}

/* --------------------------------------------------------------- table */

int vpwr_cpufreq_table_list(struct vpwr_backend *b, unsigned cpu,
			    uint32_t *khz)
{
	uint32_t top;
	char buf[4096], *save = NULL;
	unsigned n = 0;
	int err = vpwr_cpufreq_read(b, cpu,
				    "cpufreq/scaling_available_frequencies",
				    buf, sizeof(buf));

	if (err >= 0)
		err = vpwr_cpufreq_read_u32(b, cpu, "cpufreq/cpuinfo_max_freq",
					    &top);
	if (err < 0)
		return err;
	/* Kept ascending and unique; turbo entries (above cpuinfo_max_freq
	 * while boost is off) left out. */
	for (char *t = strtok_r(buf, " \t\n", &save); t;
	     t = strtok_r(NULL, " \t\n", &save)) {
		uint32_t v;
		unsigned i = 0;

		if (!vpwr_sysfs_parse_u32(t, &v) || !v) {
			log_err(&b->log, "cpu %u: scaling_available_frequencies "
				"holds \"%s\", not a frequency", cpu, t);
			return -EPROTO;
		}
		while (i < n && khz[i] < v)
			i++;
		if (v > top || (i < n && khz[i] == v) ||
		    n == VPWR_CPUFREQ_MAX_FREQS)
			continue;
		memmove(&khz[i + 1], &khz[i], (n - i) * sizeof(*khz));
		khz[i] = v;
		n++;
	}
	return (int)n;
}

/* -------------------------------------------------------------- driver */

static const struct vpwr_cpufreq_desc acpi_desc = {
	.driver = "acpi-cpufreq",
	.flags = VPWR_CPUFREQ_SETSPEED | VPWR_CPUFREQ_TABLE |
		 VPWR_CPUFREQ_BOOST,
	.list = vpwr_cpufreq_table_list,
};

static int acpi_probe(const struct vpwr_backend *b)
{
	return vpwr_cpufreq_probe(b, acpi_desc.driver);
}

static int acpi_init(struct vpwr_backend *b)
{
	return vpwr_cpufreq_init(b, &acpi_desc);
}

const struct vpwr_backend_ops vpwr_backend_acpi_cpufreq_ops = {
	.name = "acpi-cpufreq",
	.caps = VPWR_BACKEND_CAP_SET_FREQ | VPWR_BACKEND_CAP_LIMITS |
		VPWR_BACKEND_CAP_TURBO | VPWR_BACKEND_CAP_TABLE,
	.probe = acpi_probe,
	.init = acpi_init,
	.set_freq = vpwr_cpufreq_set_freq,
	VPWR_CPUFREQ_COMMON_OPS,
};
