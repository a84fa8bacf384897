/* SPDX-License-Identifier: MIT */
/*
 * The host's own counter sources for policies: packet counts of the host
 * network interfaces a guest's traffic passes through (found by MAC under
 * <sysfs>/class/net), and branch counters of a physical CPU through
 * perf_event_open.  Embedders and tests replace either with a callback
 * (vpwr_host_opts.traffic_fn, .branch_fn).
 */
#ifndef VPWR_POLICY_SOURCE_H
#define VPWR_POLICY_SOURCE_H

#include <net/if.h>
#include <stdint.h>

#include "libvpwr/message.h"

#define NETDEV_MAX 16

/* The host interfaces whose statistics count for one policy. */
struct netdev_set {
	unsigned nr;
	char name[NETDEV_MAX][IF_NAMESIZE];
};

/*
 * Every interface under <root>/class/net whose address is one of the
 * policy's MACs (macvtap, SR-IOV VFs bound to a host driver) or, by
 * libvirt's convention for tap devices, that MAC with its first byte set
 * to 0xfe.  Returns 0 (s->nr > 0), -ENODEV (none), -errno.
 */
int netdev_find(const char *root, const struct vpwr_policy *p,
		struct netdev_set *s);

/* Sum of rx_packets + tx_packets of every interface of `s`. */
int netdev_packets(const char *root, const struct netdev_set *s,
		   uint64_t *packets);

/* "aa:bb:cc:dd:ee:ff" of mac into buf (18 bytes). */
void netdev_format_mac(const uint8_t mac[6], char buf[18]);

/*
 * Branch instructions and branch misses of physical CPU `cpu`, counted
 * for every task (perf_event_open, pid -1): fds[0] leads the group,
 * fds[1] counts misses.  Returns 0 or -errno (-ENOENT: no such hardware
 * event, as in most VMs; -EACCES: perf_event_paranoid).
 */
int perf_branch_open(unsigned cpu, int fds[2]);
int perf_branch_read(const int fds[2], uint64_t *branches, uint64_t *misses);
void perf_branch_close(int fds[2]);

#endif
