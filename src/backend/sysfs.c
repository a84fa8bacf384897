/* SPDX-License-Identifier: MIT */
/*
 * File I/O under the sysfs root, and CPU enumeration, for the cpufreq
 * drivers.  Everything goes through a struct vpwr_sysfs_io, so the same code
 * runs on /sys and, in the tests, on a fake kernel.  A failed read or write
 * of a CPU's file is logged with the CPU and the path, and the caller gets
 * the kernel's -errno back; a CPU found offline turns it into -ENODEV.
 */
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "backend/sysfs.h"

/* --------------------------------------------------------- default I/O */

static int real_open(void *ctx, const char *path, enum vpwr_sysfs_mode mode)
{
	int flags = mode == VPWR_SYSFS_READ    ? O_RDONLY
		    : mode == VPWR_SYSFS_WRITE ? O_WRONLY | O_TRUNC
					       : O_RDWR;
	int fd;

	(void)ctx;
	fd = open(path, flags | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static ssize_t real_read(void *ctx, int h, char *buf, size_t cap)
{
	ssize_t n;

	(void)ctx;
	do
		n = pread(h, buf, cap, 0);
	while (n < 0 && errno == EINTR);
	return n < 0 ? -errno : n;
}

/*
 * A sysfs attribute takes its value in one write at offset 0 and has no
 * length to cut.  A regular file (a copied tree) kept open would keep the
 * tail of a longer old value, so it is truncated to the new one.
 */
static int real_write(void *ctx, int h, const char *buf, size_t len)
{
	struct statfs sfs;
	struct stat st;
	ssize_t n;

	(void)ctx;
	do
		n = pwrite(h, buf, len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != len)
		return -EIO;
	if (!fstat(h, &st) && S_ISREG(st.st_mode) && st.st_size > (off_t)len &&
	    !fstatfs(h, &sfs) && sfs.f_type != SYSFS_MAGIC &&
	    ftruncate(h, (off_t)len))
		return -errno;
	return 0;
}

static void real_close(void *ctx, int h)
{
	(void)ctx;
	close(h);
}

const struct vpwr_sysfs_io vpwr_sysfs_io_default = {
	.open = real_open,
	.read = real_read,
	.write = real_write,
	.close = real_close,
};

/* ---------------------------------------------------------- attributes */

struct vpwr_sysfs vpwr_sysfs_of(const struct vpwr_backend *b)
{
	struct vpwr_sysfs fs = {
		.io = b->io ? b->io : &vpwr_sysfs_io_default,
		.ctx = b->io_ctx,
		.root = b->sysfs_root,
		.log = &b->log,
	};

	return fs;
}

int vpwr_sysfs_path(const struct vpwr_sysfs *fs, int cpu, const char *rel,
		    char *buf, size_t len)
{
	int n = cpu >= 0 ? snprintf(buf, len, "%s/devices/system/cpu/cpu%d/%s",
				    fs->root, cpu, rel)
			 : snprintf(buf, len, "%s/devices/system/cpu/%s",
				    fs->root, rel);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

static int read_path(const struct vpwr_sysfs *fs, const char *path, char *buf,
		     size_t cap)
{
	int h = fs->io->open(fs->ctx, path, VPWR_SYSFS_READ);
	ssize_t n;

	if (h < 0)
		return h;
	n = fs->io->read(fs->ctx, h, buf, cap - 1);
	fs->io->close(fs->ctx, h);
	if (n < 0)
		return (int)n;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' ' ||
			 buf[n - 1] == '\t'))
		n--;
	buf[n] = '\0';
	return (int)n;
}

int vpwr_sysfs_read(const struct vpwr_sysfs *fs, int cpu, const char *rel,
		    char *buf, size_t cap)
{
	char path[4096];
	int err = vpwr_sysfs_path(fs, cpu, rel, path, sizeof(path));

	return err ? err : read_path(fs, path, buf, cap);
}

bool vpwr_sysfs_parse_u32(const char *s, uint32_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
		if (v > UINT32_MAX)
			return false;
	}
	*out = (uint32_t)v;
	return true;
}

int vpwr_sysfs_read_u32(const struct vpwr_sysfs *fs, int cpu, const char *rel,
			uint32_t *out)
{
	char buf[64];
	int n = vpwr_sysfs_read(fs, cpu, rel, buf, sizeof(buf));

	if (n < 0)
		return n;
	if (!vpwr_sysfs_parse_u32(buf, out)) {
		char path[4096];

		vpwr_sysfs_path(fs, cpu, rel, path, sizeof(path));
		log_err(fs->log, "%s holds \"%s\", not a number", path, buf);
		return -EPROTO;
	}
	return 0;
}

int vpwr_sysfs_write(const struct vpwr_sysfs *fs, int cpu, const char *rel,
		     const char *val)
{
	char path[4096];
	int h, err = vpwr_sysfs_path(fs, cpu, rel, path, sizeof(path));

	if (err)
		return err;
	h = fs->io->open(fs->ctx, path, VPWR_SYSFS_WRITE);
	if (h >= 0) {
		err = fs->io->write(fs->ctx, h, val, strlen(val));
		fs->io->close(fs->ctx, h);
	} else {
		err = h;
	}
	if (err && cpu >= 0)
		log_warn(fs->log, "cpu %d: writing \"%s\" to %s: %s", cpu, val,
			 path, vpwr_strerror(err));
	else if (err)
		log_warn(fs->log, "writing \"%s\" to %s: %s", val, path,
			 vpwr_strerror(err));
	return err;
}

int vpwr_sysfs_exists(const struct vpwr_sysfs *fs, int cpu, const char *rel)
{
	char path[4096];
	int h, err = vpwr_sysfs_path(fs, cpu, rel, path, sizeof(path));

	if (err)
		return err;
	h = fs->io->open(fs->ctx, path, VPWR_SYSFS_READ);
	if (h < 0)
		return h == -ENOENT || h == -ENOTDIR ? 0 : h;
	fs->io->close(fs->ctx, h);
	return 1;
}

bool vpwr_sysfs_word_in(const char *list, const char *word)
{
	size_t n = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += n)
		if ((p == list || p[-1] == ' ') && (p[n] == ' ' || !p[n]))
			return true;
	return false;
}

/* --------------------------------------------------------------- CPUs */

/* The highest CPU id in a cpulist ("0-3,6"), or -EPROTO. */
static int cpulist_max(const char *s)
{
	long max = -1;

	while (*s) {
		char *end;
		long a = strtol(s, &end, 10), b = a;

		if (end == s || a < 0)
			return -EPROTO;
		if (*end == '-') {
			s = end + 1;
			b = strtol(s, &end, 10);
			if (end == s || b < a)
				return -EPROTO;
		}
		max = VPWR_MAX(max, b);
		if (*end == ',')
			end++;
		else if (*end)
			return -EPROTO;
		s = end;
	}
	return max < 0 || max >= VPWR_MAX_CPUS ? -EPROTO : (int)max;
}

/*
 * How many CPU ids there are: from the "present" list, or else by looking
 * for cpu0, cpu1, ... until one has neither an online file nor a policy.
 */
int vpwr_sysfs_nr_cpus(const struct vpwr_sysfs *fs)
{
	char buf[1024];
	int n = vpwr_sysfs_read(fs, -1, "present", buf, sizeof(buf));

	if (n >= 0) {
		n = cpulist_max(buf);
		if (n < 0)
			log_err(fs->log, "%s/devices/system/cpu/present holds "
				"\"%s\", not a CPU list", fs->root, buf);
		return n < 0 ? n : n + 1;
	}
	if (n != -ENOENT)
		return n;
	for (n = 0; n < VPWR_MAX_CPUS; n++) {
		int a = vpwr_sysfs_exists(fs, n, "online");
		int c = a ? a : vpwr_sysfs_exists(fs, n, "cpufreq/scaling_driver");

		if (a < 0 || c < 0)
			return a < 0 ? a : c;
		if (!a && !c)
			break;
	}
	return n;
}

int vpwr_sysfs_online(const struct vpwr_sysfs *fs, unsigned cpu)
{
	uint32_t v;
	int err = vpwr_sysfs_read_u32(fs, (int)cpu, "online", &v);

	if (err == -ENOENT)
		return 1; /* not hot-pluggable (cpu0, typically) */
	return err ? err : v != 0;
}

int vpwr_cpufreq_probe(const struct vpwr_backend *b, const char *driver)
{
	struct vpwr_sysfs fs = vpwr_sysfs_of(b);
	char name[64];
	int n = vpwr_sysfs_nr_cpus(&fs);

	for (int cpu = 0; cpu < n; cpu++) {
		int on = vpwr_sysfs_online(&fs, (unsigned)cpu), err;

		if (on < 0)
			return on;
		if (!on)
			continue;
		err = vpwr_sysfs_read(&fs, cpu, "cpufreq/scaling_driver", name,
				      sizeof(name));
		if (err == -ENOENT)
			return -ENODEV;
		if (err < 0)
			return err;
		return strcmp(name, driver) ? -ENODEV : 0;
	}
	return n < 0 && n != -ENOENT ? n : -ENODEV;
}

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

/* The kept-open handle for rel, or -1: not a hot attribute, or no room. */
static int hot_handle(struct vpwr_cpufreq *cf, unsigned cpu, const char *rel,
		      const char *path)
{
	int i = 0, *h;

	while (i < VPWR_CPUFREQ_NR_HOT && strcmp(hot_rel[i], rel))
		i++;
	if (i == VPWR_CPUFREQ_NR_HOT)
		return -1;
	h = &cf->cpu[cpu].hot[i];
	if (*h < 0 && cf->nr_open < VPWR_CPUFREQ_MAX_OPEN) {
		*h = cf->fs.io->open(cf->fs.ctx, path,
				     i == VPWR_CPUFREQ_CUR_H ? VPWR_SYSFS_READ
							     : VPWR_SYSFS_RDWR);
		if (*h >= 0)
			cf->nr_open++;
		else
			*h = -1; /* the one-shot path will say why */
	}
	return *h;
}

int vpwr_cpufreq_refresh(struct vpwr_backend *b, unsigned cpu)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	struct vpwr_cpufreq_cpu *c = &cf->cpu[cpu];
	const struct vpwr_sysfs *fs = &cf->fs;
	char govs[512];
	int on = vpwr_sysfs_online(fs, cpu), err;

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
	c->policy = true;
	return 0;
}

/*
 * After a failed access to one of cpu's files: its handles may point at a
 * policy that is gone, so close them, look again, and say -ENODEV if the
 * CPU went offline or lost its policy.
 */
static int cpu_failed(struct vpwr_backend *b, unsigned cpu, int err)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);

	close_hot(cf, cpu);
	if (vpwr_cpufreq_refresh(b, cpu) == 0 && !cf->cpu[cpu].policy) {
		log_warn(&b->log, "cpu %u is offline or has no cpufreq policy",
			 cpu);
		return -ENODEV;
	}
	return err;
}

/* Read (val NULL: into buf, trimmed; the length) or write one attribute. */
static int cpu_access(struct vpwr_backend *b, unsigned cpu, const char *rel,
		      const char *val, char *buf, size_t cap)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	const struct vpwr_sysfs_io *io = cf->fs.io;
	char path[4096];
	ssize_t n = 0;
	int h, err = vpwr_sysfs_path(&cf->fs, (int)cpu, rel, path, sizeof(path));
	bool kept;

	if (err)
		return err;
	h = hot_handle(cf, cpu, rel, path);
	kept = h >= 0;
	if (!kept)
		h = io->open(cf->fs.ctx, path,
			     val ? VPWR_SYSFS_WRITE : VPWR_SYSFS_READ);
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
	if (!err) {
		while (!val && n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
			n--;
		if (!val)
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
	return vpwr_state_init(&cf->saved, b->ops->name, b->sysfs_root,
			       cf->nr_cpus);
}

void vpwr_cpufreq_fini(struct vpwr_backend *b)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);

	if (!cf)
		return;
	for (unsigned i = 0; cf->cpu && i < cf->nr_cpus; i++)
		close_hot(cf, i);
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
	return (int)caps;
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

int vpwr_cpufreq_get_limits(struct vpwr_backend *b, unsigned cpu,
			    uint32_t *min_khz, uint32_t *max_khz)
{
	int err = vpwr_cpufreq_check(b, cpu);

	if (!err)
		err = vpwr_cpufreq_read_u32(b, cpu, VPWR_CPUFREQ_MIN, min_khz);
	return err ? err
		   : vpwr_cpufreq_read_u32(b, cpu, VPWR_CPUFREQ_MAX, max_khz);
}
