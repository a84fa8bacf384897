/* SPDX-License-Identifier: MIT */
/*
 * Per-VF counters of an SR-IOV PF over rtnetlink: RTM_GETLINK on the PF
 * with IFLA_EXT_MASK = RTEXT_FILTER_VF, whose RTM_NEWLINK reply carries
 * IFLA_VFINFO_LIST -> IFLA_VF_INFO (one per VF) -> IFLA_VF_MAC and
 * IFLA_VF_STATS.  That is how the host counts the packets of a VF it has
 * passed through to a guest (vfio-pci: no host netdev, no sysfs
 * statistics).  The exchange with the kernel is a function the caller
 * passes in, so that tests feed crafted replies.
 */
#ifndef VPWR_VF_NETLINK_H
#define VPWR_VF_NETLINK_H

#include <linux/netlink.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/*
 * Send `req` (one complete netlink message) and hand back the reply: one
 * or more netlink messages in *reply (malloc()ed, the caller frees it) of
 * *len bytes.  Returns 0 or -errno.
 */
typedef int (*vf_nl_exchange_fn)(void *userdata, const struct nlmsghdr *req,
				 void **reply, size_t *len);

/* The kernel's: an rtnetlink socket per call (userdata unused). */
int vf_nl_exchange_kernel(void *userdata, const struct nlmsghdr *req,
			  void **reply, size_t *len);

/* What the PF says of one VF. */
struct vf_nl_info {
	uint32_t vf;               /* its index on the PF */
	uint8_t mac[6];            /* as the PF set it (zero: none) */
	bool has_stats;            /* IFLA_VF_STATS was there */
	uint64_t rx_packets, tx_packets;
};

/*
 * The request: RTM_GETLINK for `ifindex` with RTEXT_FILTER_VF, sequence
 * `seq`, into buf (at least VF_NL_REQUEST_LEN bytes).  Returns its length.
 */
#define VF_NL_REQUEST_LEN 64
size_t vf_nl_request(void *buf, int ifindex, uint32_t seq);

/*
 * Ask for PF `ifindex`'s VFs and call fn for each IFLA_VF_INFO (fn
 * returns 0 to go on, anything else stops and is returned).  Returns the
 * number of VFs seen (0: the device reports none, as a non-SR-IOV device
 * does), -errno from the kernel's NLMSG_ERROR or the exchange, or -EPROTO
 * (a reply that does not parse).
 */
int vf_nl_query(vf_nl_exchange_fn ex, void *ex_userdata, int ifindex,
		int (*fn)(const struct vf_nl_info *vf, void *userdata),
		void *userdata);

/* Parse a reply on its own (what vf_nl_query() does after the exchange). */
int vf_nl_parse(const void *reply, size_t len, uint32_t seq,
		int (*fn)(const struct vf_nl_info *vf, void *userdata),
		void *userdata);

#endif
