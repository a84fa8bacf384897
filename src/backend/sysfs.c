/* SPDX-License-Identifier: MIT */
/*
 * File I/O under the sysfs root, CPU enumeration and the probe, for the
 * cpufreq drivers.  Everything goes through a struct vpwr_sysfs_io, so the
 * same code runs on /sys and, in the tests, on a fake kernel.  A CPU's
 * files are read and written through cpufreq.c, which keeps its view.
 */
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
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
 * A sysfs attribute takes its whole value in one write at offset 0 (the
 * kernel hands it to the driver's store function as is): one pwrite.
 */
static int real_write(void *ctx, int h, const char *buf, size_t len)
{
	ssize_t n;

	(void)ctx;
	do
		n = pwrite(h, buf, len, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/* A plain file kept open would keep the tail of a longer old value. */
static int files_write(void *ctx, int h, const char *buf, size_t len)
{
	int err = real_write(ctx, h, buf, len);

	return err ? err : ftruncate(h, (off_t)len) ? -errno : 0;
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

const struct vpwr_sysfs_io vpwr_sysfs_io_files = {
	.open = real_open,
	.read = real_read,
	.write = files_write,
	.close = real_close,
};

const struct vpwr_sysfs_io *vpwr_sysfs_io_for(const char *root)
{
	struct statfs sfs;
	char path[4096];
	int n = snprintf(path, sizeof(path), "%s/devices/system/cpu", root);

	if (n < 0 || (size_t)n >= sizeof(path) || statfs(path, &sfs) ||
	    sfs.f_type == SYSFS_MAGIC)
		return &vpwr_sysfs_io_default;
	return &vpwr_sysfs_io_files;
}

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

