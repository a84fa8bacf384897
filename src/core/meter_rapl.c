/* SPDX-License-Identifier: MIT */
/*
 * The "rapl" meter: RAPL energy counters through the powercap class,
 * <root>/class/powercap/intel-rapl:N (AMD's RAPL appears there too).  One
 * domain per top-level zone (a package, or "psys"), named by its `name`
 * file and ordered by N; sub-zones (intel-rapl:N:M, e.g. core or dram) are
 * parts of their package and are not counted again.
 *
 * energy_uj is a counter in microjoules that wraps to 0 past
 * max_energy_range_uj.  Each read adds the difference to the last value,
 * counting a smaller value as one wrap (max - last + now): a caller that
 * reads at least once per wrap period (minutes to hours at package power)
 * never loses energy.  A file that is missing or unreadable gives -errno
 * (-EACCES for non-root readers on kernels that restrict energy_uj); one
 * that holds something other than a number in range gives -EIO.
 */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "meter_internal.h"

#define RAPL_PREFIX "intel-rapl:"
#define RAPL_MAX_ZONES 1024u /* far above any machine's packages */

struct rapl_zone {
	char *energy_path;
	uint64_t max_uj;           /* max_energy_range_uj */
	uint64_t last_uj;          /* energy_uj at the last read */
	uint64_t total_uj;         /* since open */
};

struct rapl {
	struct rapl_zone *zones;   /* nr_domains of the handle */
	unsigned nr_zones;
};

/* The whole of a small sysfs file, NUL-terminated; -errno or -EIO if it
 * does not fit. */
static int read_small(const char *path, char *buf, size_t len)
{
	size_t got = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, buf + got, len - 1 - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;

			close(fd);
			return err;
		}
		got += (size_t)n;
		if (!n || got == len - 1)
			break;
	}
	close(fd);
	buf[got] = '\0';
	return got == len - 1 ? -EIO : 0;
}

/* A decimal counter: digits, then at most a newline. */
static int read_u64(const struct vpwr_meter *m, const char *path,
		    uint64_t *out)
{
	char buf[32], *end;
	unsigned long long v;
	int err = read_small(path, buf, sizeof(buf));

	if (!err && (buf[0] < '0' || buf[0] > '9'))
		err = -EIO;
	if (!err) {
		errno = 0;
		v = strtoull(buf, &end, 10);
		if (errno || (*end && strcmp(end, "\n")))
			err = -EIO;
	}
	if (err) {
		log_err(&m->log, "rapl: %s: %s", path, vpwr_strerror(err));
		return err;
	}
	*out = v;
	return 0;
}

/* The zone's name: one line of printable characters without spaces. */
static int read_name(const struct vpwr_meter *m, const char *path,
		     char *name, size_t len)
{
	int err = read_small(path, name, len);
	size_t n;

	if (!err) {
		n = strcspn(name, "\n");
		if (!n || (name[n] && name[n + 1]))
			err = -EIO;
		name[n] = '\0';
		for (size_t i = 0; !err && i < n; i++)
			if (name[i] <= ' ' || name[i] > '~')
				err = -EIO;
	}
	if (err)
		log_err(&m->log, "rapl: %s: %s", path, vpwr_strerror(err));
	return err;
}

/* N of a top-level "intel-rapl:N" entry, or -1. */
static long zone_index(const char *entry)
{
	char *end;
	unsigned long n;

	if (strncmp(entry, RAPL_PREFIX, strlen(RAPL_PREFIX)))
		return -1;
	entry += strlen(RAPL_PREFIX);
	/* Digits only, no leading zero: one spelling per zone. */
	if (*entry < '0' || *entry > '9' || (entry[0] == '0' && entry[1]))
		return -1;
	errno = 0;
	n = strtoul(entry, &end, 10);
	if (errno || *end || n >= RAPL_MAX_ZONES)
		return -1;
	return (long)n;
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* The sorted N of every top-level zone: count, or -errno. */
static int list_zones(struct vpwr_meter *m, const char *dir, long *idx)
{
	struct dirent *de;
	DIR *d = opendir(dir);
	int n = 0;

	if (!d) {
		int e = errno;

		log_err(&m->log, "rapl: %s: %s", dir, vpwr_strerror(-e));
		return e == ENOENT || e == ENOTDIR ? -ENODEV : -e;
	}
	while ((de = readdir(d))) {
		long i = zone_index(de->d_name);

		if (i >= 0 && n < (int)RAPL_MAX_ZONES)
			idx[n++] = i;
	}
	closedir(d);
	qsort(idx, (size_t)n, sizeof(*idx), cmp_long);
	return n;
}

static int path_of(char *buf, size_t len, const char *dir, long zone,
		   const char *file)
{
	int n = snprintf(buf, len, "%s/" RAPL_PREFIX "%ld/%s", dir, zone,
			 file);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Read one zone's name, range and starting count into z. */
static int open_zone(struct vpwr_meter *m, const char *dir, long zone,
		     struct rapl_zone *z)
{
	char path[PATH_MAX], name[64];
	int err;

	if ((err = path_of(path, sizeof(path), dir, zone, "name")) ||
	    (err = read_name(m, path, name, sizeof(name))))
		return err;
	if ((err = path_of(path, sizeof(path), dir, zone,
			   "max_energy_range_uj")) ||
	    (err = read_u64(m, path, &z->max_uj)))
		return err;
	if ((err = path_of(path, sizeof(path), dir, zone, "energy_uj")))
		return err;
	z->energy_path = strdup(path);
	if (!z->energy_path)
		return -ENOMEM;
	if ((err = read_u64(m, path, &z->last_uj)))
		return err;
	if (!z->max_uj || z->last_uj > z->max_uj) {
		log_err(&m->log, "rapl: %s: %llu outside [0, "
			"max_energy_range_uj %llu]", path,
			(unsigned long long)z->last_uj,
			(unsigned long long)z->max_uj);
		return -EIO;
	}
	return vpwr_meter_add_domain(m, name);
}

static int rapl_init(struct vpwr_meter *m)
{
	char dir[PATH_MAX];
	long *idx;
	struct rapl *r;
	int n, err = 0;

	if (snprintf(dir, sizeof(dir), "%s/class/powercap",
		     m->sysfs_root) >= (int)sizeof(dir))
		return -ENAMETOOLONG;
	idx = calloc(RAPL_MAX_ZONES, sizeof(*idx));
	r = calloc(1, sizeof(*r));
	m->priv = r;
	if (!idx || !r) {
		free(idx);
		return -ENOMEM;
	}
	n = list_zones(m, dir, idx);
	if (n == 0) {
		log_err(&m->log, "rapl: no " RAPL_PREFIX "N zone under %s",
			dir);
		n = -ENODEV;
	}
	if (n > 0 && !(r->zones = calloc((size_t)n, sizeof(*r->zones))))
		n = -ENOMEM;
	for (int i = 0; i < n && !err; i++) {
		err = open_zone(m, dir, idx[i], &r->zones[i]);
		r->nr_zones = (unsigned)i + 1; /* fini frees even a half-built */
	}
	free(idx);
	return n < 0 ? n : err;
}

static void rapl_fini(struct vpwr_meter *m)
{
	struct rapl *r = m->priv;

	if (!r)
		return;
	for (unsigned i = 0; i < r->nr_zones; i++)
		free(r->zones[i].energy_path);
	free(r->zones);
	free(r);
	m->priv = NULL;
}

static int rapl_read(struct vpwr_meter *m, unsigned domain, double *joules)
{
	struct rapl_zone *z = &((struct rapl *)m->priv)->zones[domain];
	uint64_t now;
	int err = read_u64(m, z->energy_path, &now);

	if (err)
		return err;
	if (now > z->max_uj) {
		log_err(&m->log, "rapl: %s: %llu above max_energy_range_uj "
			"%llu", z->energy_path, (unsigned long long)now,
			(unsigned long long)z->max_uj);
		return -EIO;
	}
	z->total_uj += now >= z->last_uj ? now - z->last_uj
					 : z->max_uj - z->last_uj + now;
	z->last_uj = now;
	*joules = (double)z->total_uj / 1e6;
	return 0;
}

const struct vpwr_meter_ops vpwr_meter_rapl_ops = {
	.name = "rapl",
	.init = rapl_init,
	.fini = rapl_fini,
	.read = rapl_read,
};
