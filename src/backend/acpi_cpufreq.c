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
	if (!err && !st->turbo_saved)
		err = vpwr_sysfs_read(&cf->fs, -1, rel, st->turbo_value,
				      sizeof(st->turbo_value));
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
	}
	return err < 0 ? err : 0;
}

/* -------------------------------------------------------------- limits */

int vpwr_cpufreq_freqs(struct vpwr_backend *b, unsigned cpu, uint32_t *khz)
{
	int n = b->ops->get_freqs(b, cpu, khz, VPWR_CPUFREQ_MAX_FREQS);

	if (n == 0) {
		log_err(&b->log, "cpu %u: no frequencies", cpu);
		return -EPROTO;
	}
	return n < 0 ? n : (int)VPWR_MIN((unsigned)n, VPWR_CPUFREQ_MAX_FREQS);
}

int vpwr_cpufreq_move_limits(struct vpwr_backend *b, unsigned cpu,
			     uint32_t cmin, uint32_t cmax, uint32_t lo,
			     uint32_t hi)
{
	int err = 0;

	if (hi >= cmax) {
		if (hi != cmax)
			err = vpwr_cpufreq_write_u32(b, cpu, VPWR_CPUFREQ_MAX,
						     hi);
		if (!err && lo != cmin)
			err = vpwr_cpufreq_write_u32(b, cpu, VPWR_CPUFREQ_MIN,
						     lo);
	} else {
		if (lo != cmin)
			err = vpwr_cpufreq_write_u32(b, cpu, VPWR_CPUFREQ_MIN,
						     lo);
		if (!err)
			err = vpwr_cpufreq_write_u32(b, cpu, VPWR_CPUFREQ_MAX,
						     hi);
	}
	return err;
}

int vpwr_cpufreq_set_limits(struct vpwr_backend *b, unsigned cpu,
			    uint32_t min_khz, uint32_t max_khz)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	uint32_t f[VPWR_CPUFREQ_MAX_FREQS], cmin, cmax;
	int n = vpwr_cpufreq_freqs(b, cpu, f), i = 0, err;

	if (n < 0)
		return n;
	if (min_khz < f[0] || max_khz > f[n - 1]) {
		log_debug(&b->log, "cpu %u: limits [%u, %u] kHz outside the "
			  "range [%u, %u] kHz", cpu, min_khz, max_khz, f[0],
			  f[n - 1]);
		return -EINVAL;
	}
	while (i < n && f[i] < min_khz)
		i++;
	if ((cf->desc->flags & VPWR_CPUFREQ_TABLE) && f[i] > max_khz) {
		log_debug(&b->log, "cpu %u: no table frequency within [%u, %u] "
			  "kHz", cpu, min_khz, max_khz);
		return -EINVAL;
	}
	if ((err = vpwr_cpufreq_get_limits(b, cpu, &cmin, &cmax)))
		return err;
	if (cmin == min_khz && cmax == max_khz)
		return 0;
	err = vpwr_cpufreq_save(b, cpu);
	return err ? err
		   : vpwr_cpufreq_move_limits(b, cpu, cmin, cmax, min_khz,
					      max_khz);
}

/* --------------------------------------------------------------- turbo */

/* The knob's content, 0 or 1, or -errno. */
static int turbo_raw(struct vpwr_backend *b)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	uint32_t v;
	int err = vpwr_sysfs_read_u32(&cf->fs, -1, vpwr_cpufreq_turbo_rel(cf),
				      &v);

	if (err)
		log_warn(&b->log, "reading %s/devices/system/cpu/%s: %s",
			 b->sysfs_root, vpwr_cpufreq_turbo_rel(cf),
			 vpwr_strerror(err));
	else if (v > 1)
		err = -EPROTO;
	return err ? err : (int)v;
}

int vpwr_cpufreq_get_turbo(struct vpwr_backend *b, unsigned cpu)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	int raw = vpwr_cpufreq_check(b, cpu);

	if (!raw)
		raw = turbo_raw(b);
	if (raw < 0)
		return raw;
	return (cf->desc->flags & VPWR_CPUFREQ_NO_TURBO) ? !raw : raw;
}

/* Turbo is one knob for the whole machine; see state.c for its restore. */
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
	if (err)
		for (unsigned i = 0; i < cf->nr_cpus; i++)
			vpwr_cpufreq_refresh(b, i);
	return err;
}

/* ------------------------------------------------------------ setspeed */

/*
 * The table entry for khz (within [lo, hi]): the highest at or below it
 * that respects lo, else the lowest within the limits; 0 if none.
 */
static uint32_t table_pick(const uint32_t *f, int n, uint32_t khz,
			   uint32_t lo, uint32_t hi)
{
	uint32_t best = 0;

	for (int i = 0; i < n; i++)
		if (f[i] >= lo && f[i] <= khz)
			best = f[i];
	for (int i = 0; !best && i < n; i++)
		if (f[i] >= lo && f[i] <= hi)
			best = f[i];
	return best;
}

int vpwr_cpufreq_set_freq(struct vpwr_backend *b, unsigned cpu, uint32_t khz)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	struct vpwr_cpufreq_cpu *c = &cf->cpu[cpu];
	uint32_t f[VPWR_CPUFREQ_MAX_FREQS], lo, hi, cur;
	char buf[32];
	int n, err = vpwr_cpufreq_get_limits(b, cpu, &lo, &hi);

	if (err)
		return err;
	if (khz < lo || khz > hi) {
		log_debug(&b->log, "cpu %u: %u kHz outside the limits [%u, %u]",
			  cpu, khz, lo, hi);
		return -VPWR_E_BAD_FREQ;
	}
	if (cf->desc->flags & VPWR_CPUFREQ_TABLE) {
		if ((n = vpwr_cpufreq_freqs(b, cpu, f)) < 0)
			return n;
		if (!(khz = table_pick(f, n, khz, lo, hi)))
			return -VPWR_E_BAD_FREQ;
	}
	/* scaling_setspeed only takes a value under the userspace governor;
	 * switching to it starts from the current frequency. */
	if (strcmp(c->governor, "userspace")) {
		if ((err = vpwr_cpufreq_save(b, cpu)) ||
		    (err = vpwr_cpufreq_write(b, cpu, VPWR_CPUFREQ_GOVERNOR,
					      "userspace")))
			return err;
		vpwr_strlcpy(c->governor, "userspace", sizeof(c->governor));
	}
	/* Not a number ("<unsupported>"): the governor changed behind our
	 * back; the write gets the kernel's answer and the view is renewed. */
	err = vpwr_cpufreq_read(b, cpu, VPWR_CPUFREQ_SETSPEED_F, buf,
				sizeof(buf));
	if (err < 0 || (vpwr_sysfs_parse_u32(buf, &cur) && cur == khz))
		return err < 0 ? err : 0;
	err = vpwr_cpufreq_save(b, cpu);
	return err ? err
		   : vpwr_cpufreq_write_u32(b, cpu, VPWR_CPUFREQ_SETSPEED_F,
					    khz);
}

/* --------------------------------------------------------------- table */

int vpwr_cpufreq_table_freqs(struct vpwr_backend *b, unsigned cpu,
			     uint32_t *khz, size_t cap)
{
	uint32_t f[VPWR_CPUFREQ_MAX_FREQS], top;
	char buf[4096], *save = NULL;
	size_t n = 0;
	int err = vpwr_cpufreq_check(b, cpu);

	if (!err)
		err = vpwr_cpufreq_read(b, cpu,
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
		size_t i = 0;

		if (!vpwr_sysfs_parse_u32(t, &v) || !v) {
			log_err(&b->log, "cpu %u: scaling_available_frequencies "
				"holds \"%s\", not a frequency", cpu, t);
			return -EPROTO;
		}
		while (i < n && f[i] < v)
			i++;
		if (v > top || (i < n && f[i] == v) ||
		    n == VPWR_CPUFREQ_MAX_FREQS)
			continue;
		memmove(&f[i + 1], &f[i], (n - i) * sizeof(*f));
		f[i] = v;
		n++;
	}
	if (cap) /* khz may be NULL then */
		memcpy(khz, f, VPWR_MIN(n, cap) * sizeof(*f));
	return (int)n;
}

/* -------------------------------------------------------------- driver */

static const struct vpwr_cpufreq_desc acpi_desc = {
	.driver = "acpi-cpufreq",
	.flags = VPWR_CPUFREQ_SETSPEED | VPWR_CPUFREQ_TABLE |
		 VPWR_CPUFREQ_BOOST,
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
	.get_freqs = vpwr_cpufreq_table_freqs,
	.set_freq = vpwr_cpufreq_set_freq,
	VPWR_CPUFREQ_COMMON_OPS,
};
