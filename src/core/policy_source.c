/* SPDX-License-Identifier: MIT */
/*
 * Counter sources of TRAFFIC and BRANCH_RATIO policies that the host reads
 * itself: netdev statistics by MAC from sysfs, and per-CPU branch counters
 * from perf.  Both are read at sampling time only, never watched.
 */
#include <dirent.h>
#include <fcntl.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "internal.h"
#include "policy_source.h"

/* The whole of a small file, NUL-terminated. */
static int read_small(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC), err;

	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, len - 1);
	while (n < 0 && errno == EINTR);
	err = n < 0 ? -errno : 0;
	close(fd);
	if (err)
		return err;
	buf[n] = '\0';
	return (int)n;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned v[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &tail) < 6)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)v[i];
	return 0;
}

void netdev_format_mac(const uint8_t mac[6], char buf[18])
{
	snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", mac[0], mac[1],
		 mac[2], mac[3], mac[4], mac[5]);
}

static bool mac_wanted(const struct vpwr_policy *p, const uint8_t mac[6])
{
	for (uint32_t i = 0; i < p->nr_macs && i < VPWR_MSG_MAX_MACS; i++) {
		if (!memcmp(p->macs[i], mac, 6))
			return true;
		/* libvirt gives a guest NIC's tap the guest's MAC with the
		 * first byte 0xfe, so that a bridge never takes it over. */
		if (mac[0] == 0xfe && !memcmp(p->macs[i] + 1, mac + 1, 5))
			return true;
	}
	return false;
}

int netdev_find(const char *root, const struct vpwr_policy *p,
		struct netdev_set *s)
{
	char path[4096], buf[64];
	struct dirent *e;
	uint8_t mac[6];
	DIR *dir;

	s->nr = 0;
	snprintf(path, sizeof(path), "%s/class/net", root);
	dir = opendir(path);
	if (!dir)
		return errno == ENOENT ? -ENODEV : -errno;
	while ((e = readdir(dir)) && s->nr < NETDEV_MAX) {
		if (e->d_name[0] == '.' || strlen(e->d_name) >= IF_NAMESIZE)
			continue;
		snprintf(path, sizeof(path), "%s/class/net/%s/address", root,
			 e->d_name);
		if (read_small(path, buf, sizeof(buf)) < 0 ||
		    parse_mac(buf, mac) < 0 || !mac_wanted(p, mac))
			continue;
		vpwr_strlcpy(s->name[s->nr++], e->d_name, IF_NAMESIZE);
	}
	closedir(dir);
	return s->nr ? 0 : -ENODEV;
}

static int read_stat(const char *root, const char *ifname, const char *stat,
		     uint64_t *v)
{
	char path[4096], buf[32], *end;
	int rc;

	snprintf(path, sizeof(path), "%s/class/net/%s/statistics/%s", root,
		 ifname, stat);
	rc = read_small(path, buf, sizeof(buf));
	if (rc < 0)
		return rc;
	errno = 0;
	*v = strtoull(buf, &end, 10);
	if (end == buf || errno || (*end && *end != '\n'))
		return -EIO;
	return 0;
}

int netdev_packets(const char *root, const struct netdev_set *s,
		   uint64_t *packets)
{
	uint64_t sum = 0, v;
	int rc;

	if (!s->nr)
		return -ENODEV;
	for (unsigned i = 0; i < s->nr; i++) {
		rc = read_stat(root, s->name[i], "rx_packets", &v);
		if (rc < 0)
			return rc;
		sum += v;
		rc = read_stat(root, s->name[i], "tx_packets", &v);
		if (rc < 0)
			return rc;
		sum += v;
	}
	*packets = sum;
	return 0;
}

/* ---------------------------------------------------------------- perf */

static int perf_open(uint64_t config, unsigned cpu, int group)
{
	struct perf_event_attr a;
	long fd;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_HARDWARE;
	a.size = sizeof(a);
	a.config = config;
	a.read_format = PERF_FORMAT_GROUP;
	fd = syscall(SYS_perf_event_open, &a, -1, (int)cpu, group,
		     PERF_FLAG_FD_CLOEXEC);
	return fd < 0 ? -errno : (int)fd;
}

int perf_branch_open(unsigned cpu, int fds[2])
{
	fds[0] = perf_open(PERF_COUNT_HW_BRANCH_INSTRUCTIONS, cpu, -1);
	if (fds[0] < 0) {
		int err = fds[0];

		fds[0] = fds[1] = -1;
		return err;
	}
	fds[1] = perf_open(PERF_COUNT_HW_BRANCH_MISSES, cpu, fds[0]);
	if (fds[1] < 0) {
		int err = fds[1];

		perf_branch_close(fds);
		return err;
	}
	return 0;
}

int perf_branch_read(const int fds[2], uint64_t *branches, uint64_t *misses)
{
	uint64_t v[3]; /* nr, branches, misses */
	ssize_t n;

	do
		n = read(fds[0], v, sizeof(v));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if (n != (ssize_t)sizeof(v) || v[0] != 2)
		return -EIO;
	*branches = v[1];
	*misses = v[2];
	return 0;
}

void perf_branch_close(int fds[2])
{
	for (int i = 0; i < 2; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}
