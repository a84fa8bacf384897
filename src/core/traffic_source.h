/* SPDX-License-Identifier: MIT */
/*
 * Where the host counts the packets of a TRAFFIC policy (or of a TIME
 * policy's traffic hours) when the embedder gives no traffic_fn: decided
 * once when the policy is set (tsrc_prepare), then read on every sample
 * (tsrc_read).
 *
 *   1. The resolver knows the domain's interfaces
 *      (vpwr_resolver_foreach_interface): the policy's MACs must be among
 *      them (a guest reads no other domain's traffic); no MAC means all of
 *      them.  Each is counted by its live target dev's netdev statistics
 *      under <sysfs>/class/net (tap, macvtap); otherwise as an SR-IOV VF
 *      (pci_vf.h), found by PCI address or by MAC: a VF with a host netdev
 *      by that netdev's statistics, a passed-through one by its PF's
 *      per-VF counters over rtnetlink (vf_netlink.h).
 *   2. The resolver cannot say (-ENOTSUP): every netdev under
 *      <sysfs>/class/net whose address is one of the policy's MACs or its
 *      tap form (policy_source.h, netdev_find).
 */
#ifndef VPWR_TRAFFIC_SOURCE_H
#define VPWR_TRAFFIC_SOURCE_H

#include "libvpwr/resolver.h"
#include "policy_source.h"
#include "vf_netlink.h"

#define TSRC_MAX NETDEV_MAX

enum tsrc_kind {
	TSRC_NETDEV = 1,           /* <sysfs>/class/net/<ifname>/statistics */
	TSRC_VF = 2,               /* the PF's IFLA_VF_STATS for VF `vf` */
};

struct tsrc_item {
	uint8_t kind;              /* enum tsrc_kind */
	char ifname[IF_NAMESIZE];  /* NETDEV: the netdev; VF: the PF's */
	int ifindex;               /* VF: the PF's */
	uint32_t vf;               /* VF: its index on the PF */
	char what[64];             /* how the ACK names it */
};

struct tsrc_set {
	bool by_resolver;          /* 1. above; else 2. */
	unsigned nr;
	struct tsrc_item item[TSRC_MAX];
};

/* What the sources need from the host. */
struct tsrc_env {
	const char *sysfs_root;
	struct vpwr_resolver *resolver;
	const struct vpwr_logger *log;
	vf_nl_exchange_fn nl;      /* rtnetlink: vf_nl_exchange_kernel, or a
				      test's */
	void *nl_userdata;
};

/*
 * Decide what `p` of `domain` counts, into s.  Returns 0 (s->nr > 0), or
 * -errno with `why` filled: -EINVAL (no MAC and no interface list),
 * -EPERM (a MAC that is not one of the domain's interfaces), -ENODEV
 * (nothing countable), -ENOMEM, or the resolver's error.
 */
int tsrc_prepare(const struct tsrc_env *env, const char *domain,
		 const struct vpwr_policy *p, struct tsrc_set *s, char *why,
		 size_t len);

/* The sum of received and sent packets of every item of s. */
int tsrc_read(const struct tsrc_env *env, const struct tsrc_set *s,
	      uint64_t *packets);

/* "counting packets of tap0, VF 3 of eth2" into buf. */
void tsrc_describe(const struct tsrc_set *s, char *buf, size_t len);

#endif
