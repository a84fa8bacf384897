/* SPDX-License-Identifier: MIT */
/*
 * The cpufreq drivers' view of each CPU (struct vpwr_cpufreq_cpu): what
 * its files hold, so that a call changing nothing makes no system call;
 * the files kept open, within a budget of descriptors and giving them back
 * when the process runs out; every read and write of a CPU's file, which
 * keeps the view in line (a write the kernel took is noted for the CPU and
 * those sharing its policy; a failure makes the CPU read again); and the
 * shared init, fini and queries.  sysfs.c holds the file I/O underneath.
 */
#include <stdio.h>
#include <stdlib.h>

#include "backend/sysfs.h"

/* ----------------------------------------------------- the CPU's view */

/*
 * Attributes a host reads or writes all the time are kept open, up to a
 * budget of descriptors per backend; past it they are opened per access.
 */
static const char *const hot_rel[VPWR_CPUFREQ_NR_HOT] = {
	[VPWR_CPUFREQ_SETSPEED_H] = VPWR_CPUFREQ_SETSPEED_F,
	[VPWR_CPUFREQ_CUR_H] = VPWR_CPUFREQ_CUR,
	[VPWR_CPUFREQ_MIN_H] = VPWR_CPUFREQ_MIN,
	[VPWR_CPUFREQ_MAX_H] = VPWR_CPUFREQ_MAX,
};

static void close_hot(struct vpwr_cpufreq *cf, unsigned cpu)
{
	struct vpwr_cpufreq_cpu *c = &cf->cpu[cpu];

	for (int i = 0; i < VPWR_CPUFREQ_NR_HOT; i++) {
		if (c->hot[i] < 0)
			continue;
		cf->fs.io->close(cf->fs.ctx, c->hot[i]);
		c->hot[i] = -1;
		cf->nr_open--;
	}
}

/* The process (EMFILE) or the system (ENFILE) has no descriptor left. */
static bool out_of_fds(int err)
{
	return err == -EMFILE || err == -ENFILE;
}

/*
 * Out of descriptors with some kept open: give them all back, and keep at
 * most half as many from now on, so that the opens per access (and the
 * application) find descriptors again.
 */
static void shed_hot(struct vpwr_backend *b)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	unsigned had = cf->nr_open;

	for (unsigned i = 0; i < cf->nr_cpus; i++)
		close_hot(cf, i);
	cf->max_open = had / 2;
	log_warn(&b->log, "out of file descriptors: closed the %u cpufreq "
		 "files kept open, keeping at most %u from now on", had,
		 cf->max_open);
}

/*
 * The kept-open handle for rel, or -1: not a hot attribute, or no room.
 * A file is kept open for reading until it is first written (so that a
 * backend only looked at opens nothing for writing), then for both.
 */
static int hot_handle(struct vpwr_cpufreq *cf, unsigned cpu, const char *rel,
		      const char *path, bool write)
{
	struct vpwr_cpufreq_cpu *c = &cf->cpu[cpu];
	int i = 0, *h;

	while (i < VPWR_CPUFREQ_NR_HOT && strcmp(hot_rel[i], rel))
		i++;
	if (i == VPWR_CPUFREQ_NR_HOT)
		return -1;
	h = &c->hot[i];
	if (*h >= 0 && write && !(c->hot_rw & (1u << i))) {
		cf->fs.io->close(cf->fs.ctx, *h);
		*h = -1;
		cf->nr_open--;
	}
	if (*h < 0 && cf->nr_open < cf->max_open) {
		int fd = cf->fs.io->open(cf->fs.ctx, path,
					 write ? VPWR_SYSFS_RDWR
					       : VPWR_SYSFS_READ);

		if (fd >= 0) {
			*h = fd;
			cf->nr_open++;
			c->hot_rw = write ? c->hot_rw | (1u << i)
					  : c->hot_rw & ~(1u << i);
		} else if (out_of_fds(fd)) {
			cf->max_open = cf->nr_open; /* no more than now */
		} /* else the one-shot path will say why */
	}
	return *h;
}

/* Does cpu i share cpu's policy, that is, its files?  cpu itself does. */
static bool same_policy(const struct vpwr_cpufreq *cf, unsigned cpu,
			unsigned i)
{
	const struct vpwr_cpufreq_cpu *c = &cf->cpu[cpu], *o = &cf->cpu[i];

	return i == cpu || (c->shared && o->shared && o->policy &&
			    o->policy_id == c->policy_id);
}

/* The CPUs to look at for cpu's policy: [*first, *end). */
static void policy_span(const struct vpwr_cpufreq *cf, unsigned cpu,
			unsigned *first, unsigned *end)
{
	*first = cf->cpu[cpu].shared ? 0 : cpu;
	*end = cf->cpu[cpu].shared ? cf->nr_cpus : cpu + 1;
}

/* related_cpus: which CPUs share cpu's policy (one set of files). */
static void read_related(struct vpwr_cpufreq *cf, unsigned cpu)
{
	struct vpwr_cpufreq_cpu *c = &cf->cpu[cpu];
	char list[1024], *save = NULL;
	unsigned n = 0;
	uint32_t v;

	c->policy_id = cpu;
	c->shared = false;
	if (vpwr_sysfs_read(&cf->fs, (int)cpu, "cpufreq/related_cpus", list,
			    sizeof(list)) < 0)
		return;
	for (char *t = strtok_r(list, " ", &save); t;
	     t = strtok_r(NULL, " ", &save))
		if (vpwr_sysfs_parse_u32(t, &v) && ++n)
			c->policy_id = VPWR_MIN(c->policy_id, v);
	c->shared = n > 1;
}

void vpwr_cpufreq_forget(struct vpwr_backend *b, unsigned cpu)
{
	struct vpwr_cpufreq_cpu *c = &vpwr_cpufreq_of(b)->cpu[cpu];

	c->known = false;
	c->setspeed_khz = 0;
	c->epp_now[0] = '\0';
}

void vpwr_cpufreq_forget_all(struct vpwr_backend *b)
{
	for (unsigned i = 0; i < vpwr_cpufreq_of(b)->nr_cpus; i++)
		vpwr_cpufreq_forget(b, i);
}

int vpwr_cpufreq_refresh(struct vpwr_backend *b, unsigned cpu)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	struct vpwr_cpufreq_cpu *c = &cf->cpu[cpu];
	const struct vpwr_sysfs *fs = &cf->fs;
	char govs[512];
	int on = vpwr_sysfs_online(fs, cpu), err;

	vpwr_cpufreq_forget(b, cpu);
	c->policy = false;
	if (on <= 0) {
		close_hot(cf, cpu);
		return on;
	}
	err = vpwr_sysfs_read(fs, (int)cpu, VPWR_CPUFREQ_GOVERNOR,
			      c->governor, sizeof(c->governor));
	if (err >= 0)
		err = vpwr_sysfs_read(fs, (int)cpu,
				      "cpufreq/scaling_available_governors",
				      govs, sizeof(govs));
	/* No policy (-ENOENT), or an inactive one (-EBUSY): not usable. */
	if (err == -ENOENT || err == -ENOTDIR || err == -EBUSY)
		return 0;
	if (err < 0)
		return err;
	c->userspace = vpwr_sysfs_word_in(govs, "userspace");
	c->setspeed = (cf->desc->flags & VPWR_CPUFREQ_SETSPEED) &&
		      vpwr_sysfs_exists(fs, (int)cpu,
					VPWR_CPUFREQ_SETSPEED_F) > 0;
	c->epp = (cf->desc->flags & VPWR_CPUFREQ_EPP) &&
		 vpwr_sysfs_exists(fs, (int)cpu,
				   VPWR_CPUFREQ_EPP_F) > 0;
	read_related(cf, cpu);
	c->policy = true;
	return 0;
}

/*
 * After a failed access to one of cpu's files: its handles may point at a
 * policy that is gone, so close them, look again, and say -ENODEV if the
 * CPU went offline or lost its policy.  The rest of the view is read again
 * at the next use: a refusal often means someone else changed something.
 */
static int cpu_failed(struct vpwr_backend *b, unsigned cpu, int err)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	unsigned first, end;

	close_hot(cf, cpu);
	policy_span(cf, cpu, &first, &end);
	for (unsigned i = first; i < end; i++)
		if (i != cpu && same_policy(cf, cpu, i))
			vpwr_cpufreq_forget(b, i);
	if (vpwr_cpufreq_refresh(b, cpu) == 0 && !cf->cpu[cpu].policy) {
		log_warn(&b->log, "cpu %u is offline or has no cpufreq policy",
			 cpu);
		return -ENODEV;
	}
	return err;
}

/* What a write the kernel took means for the view of one CPU. */
static void note_one(struct vpwr_cpufreq_cpu *c, const char *rel,
		     const char *val)
{
	uint32_t v = 0;
	bool num = vpwr_sysfs_parse_u32(val, &v);

	if (!strcmp(rel, VPWR_CPUFREQ_GOVERNOR)) {
		/* A new governor starts setspeed at the current frequency,
		 * and under intel_pstate's performance EPP moves. */
		if (strcmp(c->governor, val)) {
			c->setspeed_khz = 0;
			c->epp_now[0] = '\0';
		}
		vpwr_strlcpy(c->governor, val, sizeof(c->governor));
	} else if (!strcmp(rel, VPWR_CPUFREQ_SETSPEED_F)) {
		c->setspeed_khz = num ? v : 0;
	} else if (!strcmp(rel, VPWR_CPUFREQ_MIN) && num) {
		c->min_req = v;
	} else if (!strcmp(rel, VPWR_CPUFREQ_MAX) && num) {
		c->max_req = v;
	} else if (!strcmp(rel, VPWR_CPUFREQ_EPP_F)) {
		vpwr_strlcpy(c->epp_now, val, sizeof(c->epp_now));
	}
}

/* ... for cpu and every CPU sharing its files. */
static void note_write(struct vpwr_cpufreq *cf, unsigned cpu, const char *rel,
		       const char *val)
{
	unsigned first, end;

	policy_span(cf, cpu, &first, &end);
	for (unsigned i = first; i < end; i++)
		if (same_policy(cf, cpu, i))
			note_one(&cf->cpu[i], rel, val);
}

void vpwr_cpufreq_seen_limits(struct vpwr_backend *b, unsigned cpu,
			      uint32_t min_khz, uint32_t max_khz, bool taken)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	unsigned first, end;

	policy_span(cf, cpu, &first, &end);
	for (unsigned i = first; i < end; i++) {
		struct vpwr_cpufreq_cpu *c = &cf->cpu[i];

		if (!same_policy(cf, cpu, i) || !c->known)
			continue;
		if (taken && c->min_khz != min_khz)
			c->min_req = min_khz;
		if (taken && c->max_khz != max_khz)
			c->max_req = max_khz;
		c->min_khz = min_khz;
		c->max_khz = max_khz;
	}
}

/* Read (val NULL: into buf, trimmed; the length) or write one attribute. */
static int cpu_access(struct vpwr_backend *b, unsigned cpu, const char *rel,
		      const char *val, char *buf, size_t cap)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	const struct vpwr_sysfs_io *io = cf->fs.io;
	enum vpwr_sysfs_mode mode = val ? VPWR_SYSFS_WRITE : VPWR_SYSFS_READ;
	char path[4096];
	ssize_t n = 0;
	int h, err = vpwr_sysfs_path(&cf->fs, (int)cpu, rel, path, sizeof(path));
	bool kept;

	if (err)
		return err;
	h = hot_handle(cf, cpu, rel, path, val != NULL);
	kept = h >= 0;
	if (!kept) {
		h = io->open(cf->fs.ctx, path, mode);
		if (out_of_fds(h) && cf->nr_open) {
			shed_hot(b);
			h = io->open(cf->fs.ctx, path, mode);
		}
	}
	if (h >= 0 && val) {
		err = io->write(cf->fs.ctx, h, val, strlen(val));
	} else if (h >= 0) {
		n = io->read(cf->fs.ctx, h, buf, cap - 1);
		err = n < 0 ? (int)n : 0;
	} else {
		err = h;
	}
	if (h >= 0 && !kept)
		io->close(cf->fs.ctx, h);
	if (!err && val) {
		note_write(cf, cpu, rel, val);
		return 0;
	}
	if (!err) {
		while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
			n--;
		buf[n] = '\0';
		return (int)n;
	}
	if (val)
		log_warn(&b->log, "cpu %u: writing \"%s\" to %s: %s", cpu, val,
			 path, vpwr_strerror(err));
	else
		log_warn(&b->log, "cpu %u: reading %s: %s", cpu, path,
			 vpwr_strerror(err));
	return cpu_failed(b, cpu, err);
}

int vpwr_cpufreq_read(struct vpwr_backend *b, unsigned cpu, const char *rel,
		      char *buf, size_t cap)
{
	return cpu_access(b, cpu, rel, NULL, buf, cap);
}

int vpwr_cpufreq_read_u32(struct vpwr_backend *b, unsigned cpu,
			  const char *rel, uint32_t *out)
{
	char buf[64];
	int n = cpu_access(b, cpu, rel, NULL, buf, sizeof(buf));

	if (n < 0)
		return n;
	if (!vpwr_sysfs_parse_u32(buf, out)) {
		log_err(&b->log, "cpu %u: %s holds \"%s\", not a number", cpu,
			rel, buf);
		return -EPROTO;
	}
	return 0;
}

int vpwr_cpufreq_write(struct vpwr_backend *b, unsigned cpu, const char *rel,
		       const char *val)
{
	int err = cpu_access(b, cpu, rel, val, NULL, 0);

	return err < 0 ? err : 0;
}

int vpwr_cpufreq_write_u32(struct vpwr_backend *b, unsigned cpu,
			   const char *rel, uint32_t val)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%u", val);
	return vpwr_cpufreq_write(b, cpu, rel, buf);
}

/*
 * Read what the view keeps of cpu: the limits, the driver's list of
 * frequencies and, where the CPU has EPP, the offered names and the hint.
 */
static int view_load(struct vpwr_backend *b, unsigned cpu)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	struct vpwr_cpufreq_cpu *c = &cf->cpu[cpu];
	const struct vpwr_cpufreq_desc *d = cf->desc;
	uint32_t f[VPWR_CPUFREQ_MAX_FREQS], lo, hi, *p;
	char avail[256], epp[VPWR_STATE_STR] = "";
	unsigned offered = 0;
	int n, err;

	vpwr_cpufreq_forget(b, cpu);
	if ((err = vpwr_cpufreq_read_u32(b, cpu, VPWR_CPUFREQ_MIN, &lo)) ||
	    (err = vpwr_cpufreq_read_u32(b, cpu, VPWR_CPUFREQ_MAX, &hi)))
		return err;
	n = d->list(b, cpu, f);
	if (n == 0) {
		log_err(&b->log, "cpu %u: no frequencies", cpu);
		return -EPROTO;
	}
	if (n < 0)
		return n;
	if (c->epp) {
		if ((err = vpwr_cpufreq_read(b, cpu, VPWR_CPUFREQ_EPP_AVAIL,
					     avail, sizeof(avail))) < 0 ||
		    (err = vpwr_cpufreq_read(b, cpu, VPWR_CPUFREQ_EPP_F, epp,
					     sizeof(epp))) < 0)
			return err;
		for (size_t i = 0; i < d->nr_epp && i < VPWR_CPUFREQ_MAX_EPP; i++)
			if (vpwr_sysfs_word_in(avail, d->epp[i].name))
				offered |= 1u << i;
	}
	p = realloc(c->freqs, (size_t)n * sizeof(*p));
	if (!p)
		return -ENOMEM;
	memcpy(p, f, (size_t)n * sizeof(*p));
	c->freqs = p;
	c->nr_freqs = (unsigned)n;
	c->epp_offered = offered;
	c->min_khz = c->min_req = lo;
	c->max_khz = c->max_req = hi;
	vpwr_strlcpy(c->epp_now, epp, sizeof(c->epp_now));
	c->known = true;
	return 0;
}

int vpwr_cpufreq_view(struct vpwr_backend *b, unsigned cpu)
{
	int err = vpwr_cpufreq_check(b, cpu);

	if (err || vpwr_cpufreq_of(b)->cpu[cpu].known)
		return err;
	return view_load(b, cpu);
}

/* ------------------------------------------------------- init and fini */

const char *vpwr_cpufreq_turbo_rel(const struct vpwr_cpufreq *cf)
{
	if (cf->desc->flags & VPWR_CPUFREQ_BOOST)
		return "cpufreq/boost";
	if (cf->desc->flags & VPWR_CPUFREQ_NO_TURBO)
		return "intel_pstate/no_turbo";
	return NULL;
}

int vpwr_cpufreq_init(struct vpwr_backend *b,
		      const struct vpwr_cpufreq_desc *desc)
{
	struct vpwr_cpufreq *cf = calloc(1, sizeof(*cf));
	unsigned usable = 0;
	int n, err;

	if (!cf)
		return -ENOMEM;
	b->priv = cf;
	cf->fs = vpwr_sysfs_of(b);
	cf->desc = desc;
	n = vpwr_sysfs_nr_cpus(&cf->fs);
	if (n <= 0) {
		log_err(&b->log, "%s: no CPUs under %s/devices/system/cpu: %s",
			desc->driver, b->sysfs_root, vpwr_strerror(n ? n : -ENOENT));
		return -ENODEV;
	}
	cf->cpu = calloc((size_t)n, sizeof(*cf->cpu));
	if (!cf->cpu)
		return -ENOMEM;
	cf->nr_cpus = (unsigned)n;
	cf->max_open = VPWR_CPUFREQ_MAX_OPEN;
	cf->turbo_raw = -1;
	for (unsigned i = 0; i < cf->nr_cpus; i++)
		for (int h = 0; h < VPWR_CPUFREQ_NR_HOT; h++)
			cf->cpu[i].hot[h] = -1;
	for (unsigned i = 0; i < cf->nr_cpus; i++) {
		if ((err = vpwr_cpufreq_refresh(b, i))) {
			log_err(&b->log, "%s: cpu %u: %s", desc->driver, i,
				vpwr_strerror(err));
			return err;
		}
		usable += cf->cpu[i].policy;
	}
	if (!usable) {
		log_err(&b->log, "%s: no online CPU under %s has a cpufreq "
			"policy", desc->driver, b->sysfs_root);
		return -ENODEV;
	}
	err = vpwr_cpufreq_turbo_rel(cf)
		      ? vpwr_sysfs_exists(&cf->fs, -1, vpwr_cpufreq_turbo_rel(cf))
		      : 0;
	if (err < 0)
		return err;
	cf->has_turbo = err > 0;
	err = vpwr_state_init(&cf->saved, b->ops->name, b->sysfs_root,
			      cf->nr_cpus);
	/* Load every view now, so that the first call is as cheap as the
	 * next; a CPU that fails here says why when it is used.  The turbo
	 * knob too, so that a change by someone else can be told. */
	if (!err && cf->has_turbo)
		vpwr_cpufreq_turbo_raw(b);
	for (unsigned i = 0; !err && i < cf->nr_cpus; i++)
		if (cf->cpu[i].policy)
			vpwr_cpufreq_view(b, i);
	return err;
}

void vpwr_cpufreq_fini(struct vpwr_backend *b)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);

	if (!cf)
		return;
	for (unsigned i = 0; cf->cpu && i < cf->nr_cpus; i++) {
		close_hot(cf, i);
		free(cf->cpu[i].freqs);
	}
	vpwr_state_fini(&cf->saved);
	free(cf->cpu);
	free(cf);
	b->priv = NULL;
}

/* ------------------------------------------------------------ queries */

int vpwr_cpufreq_nr_cpus(const struct vpwr_backend *b)
{
	return (int)vpwr_cpufreq_of(b)->nr_cpus;
}

int vpwr_cpufreq_cpu_caps(struct vpwr_backend *b, unsigned cpu)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	const struct vpwr_cpufreq_cpu *c = &cf->cpu[cpu];
	unsigned caps = VPWR_BACKEND_CAP_LIMITS;
	int err = 0;

	/* An offline CPU may have come back: that costs one read. */
	if (!c->policy && ((err = vpwr_cpufreq_refresh(b, cpu)) || !c->policy))
		return err ? err : -ENODEV;
	if (c->setspeed && c->userspace)
		caps |= VPWR_BACKEND_CAP_SET_FREQ;
	if (cf->has_turbo)
		caps |= VPWR_BACKEND_CAP_TURBO;
	if (c->epp)
		caps |= VPWR_BACKEND_CAP_EPP;
	if (cf->desc->flags & VPWR_CPUFREQ_TABLE)
		caps |= VPWR_BACKEND_CAP_TABLE;
	if (!c->shared)
		caps |= VPWR_BACKEND_CAP_PER_CPU;
	return (int)caps;
}

int vpwr_cpufreq_policy_cpus(struct vpwr_backend *b, unsigned cpu,
			     struct vpwr_cpuset *out)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	unsigned first, end;
	int n = 0;

	if (vpwr_cpufreq_check(b, cpu))
		return -ENODEV;
	policy_span(cf, cpu, &first, &end);
	for (unsigned i = first; i < end; i++) {
		if (same_policy(cf, cpu, i)) {
			vpwr_cpuset_set(out, i);
			n++;
		}
	}
	return n;
}

int vpwr_cpufreq_check(struct vpwr_backend *b, unsigned cpu)
{
	return vpwr_cpufreq_cpu_caps(b, cpu) < 0 ? -ENODEV : 0;
}

int vpwr_cpufreq_get_freq(struct vpwr_backend *b, unsigned cpu, uint32_t *khz)
{
	int err = vpwr_cpufreq_check(b, cpu);

	return err ? err
		   : vpwr_cpufreq_read_u32(b, cpu, VPWR_CPUFREQ_CUR, khz);
}

/* Read now: what the kernel shows is taken into the view. */
int vpwr_cpufreq_get_limits(struct vpwr_backend *b, unsigned cpu,
			    uint32_t *min_khz, uint32_t *max_khz)
{
	int err = vpwr_cpufreq_check(b, cpu);

	if (!err)
		err = vpwr_cpufreq_read_u32(b, cpu, VPWR_CPUFREQ_MIN, min_khz);
	if (!err)
		err = vpwr_cpufreq_read_u32(b, cpu, VPWR_CPUFREQ_MAX, max_khz);
	if (!err)
		vpwr_cpufreq_seen_limits(b, cpu, *min_khz, *max_khz, true);
	return err;
}

/* From the view: read at open, after a turbo change and after errors. */
int vpwr_cpufreq_get_freqs(struct vpwr_backend *b, unsigned cpu,
			   uint32_t *khz, size_t cap)
{
	const struct vpwr_cpufreq_cpu *c = &vpwr_cpufreq_of(b)->cpu[cpu];
	int err = vpwr_cpufreq_view(b, cpu);

	if (err)
		return err;
	if (cap) /* khz may be NULL otherwise */
		memcpy(khz, c->freqs, VPWR_MIN(cap, c->nr_freqs) * sizeof(*khz));
	return (int)c->nr_freqs;
}
