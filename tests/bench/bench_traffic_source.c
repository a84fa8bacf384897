/*
 * The cost of one TRAFFIC sample by source (docs/TESTING.md): a netdev's
 * statistics from sysfs (two small files; the real /sys/class/net/lo), one
 * rtnetlink RTM_GETLINK + RTEXT_FILTER_VF round trip to the kernel (on lo,
 * which has no VFs: the reply of a PF with VFs is larger), and the parse
 * of a crafted reply listing 64 VFs.  Links the internal library: these
 * are not public functions.
 *
 *   bench_traffic_source [-n ITERATIONS]
 */
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "policy_source.h"
#include "vf_netlink.h"

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static int count_vf(const struct vf_nl_info *vf, void *ud)
{
	*(uint64_t *)ud += vf->rx_packets + vf->tx_packets;
	return 0;
}

static size_t put(char *b, size_t at, uint16_t type, const void *v, size_t len)
{
	struct nlattr *a = (struct nlattr *)(b + at);

	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len)
		memcpy(b + at + NLA_HDRLEN, v, len);
	return at + NLA_ALIGN(NLA_HDRLEN + len);
}

/* An RTM_NEWLINK with 64 IFLA_VF_INFO, each with its MAC and stats. */
static size_t crafted(char *b, uint32_t seq)
{
	struct nlmsghdr *nh = (struct nlmsghdr *)b;
	size_t at = NLMSG_LENGTH(sizeof(struct ifinfomsg)), list = at;

	at = put(b, at, NLA_F_NESTED | IFLA_VFINFO_LIST, NULL, 0);
	for (uint32_t i = 0; i < 64; i++) {
		struct ifla_vf_mac m = { .vf = i };
		uint64_t v = i * 1000u;
		size_t info = at, st;

		at = put(b, at, NLA_F_NESTED | IFLA_VF_INFO, NULL, 0);
		at = put(b, at, IFLA_VF_MAC, &m, sizeof(m));
		st = at;
		at = put(b, at, NLA_F_NESTED | IFLA_VF_STATS, NULL, 0);
		for (uint16_t k = IFLA_VF_STATS_RX_PACKETS;
		     k <= IFLA_VF_STATS_MULTICAST; k++)
			at = put(b, at, k, &v, 8);
		((struct nlattr *)(b + st))->nla_len = (uint16_t)(at - st);
		((struct nlattr *)(b + info))->nla_len = (uint16_t)(at - info);
	}
	((struct nlattr *)(b + list))->nla_len = (uint16_t)(at - list);
	nh->nlmsg_len = (uint32_t)at;
	nh->nlmsg_type = RTM_NEWLINK;
	nh->nlmsg_seq = seq;
	return at;
}

int main(int argc, char **argv)
{
	unsigned n = 20000;
	struct netdev_set lo = { .nr = 1, .name = { "lo" } };
	static char reply[65536];
	int ifindex = (int)if_nametoindex("lo"), opt, rc;
	uint64_t sum = 0, pk;
	size_t len;
	double t;

	while ((opt = getopt(argc, argv, "n:")) != -1)
		n = (unsigned)strtoul(optarg, NULL, 10);
	if (!n)
		n = 1;
	t = now_s();
	for (unsigned i = 0; i < n; i++) {
		rc = netdev_packets("/sys", &lo, &pk);
		if (rc < 0) {
			fprintf(stderr, "sysfs: %s\n", strerror(-rc));
			return 1;
		}
		sum += pk;
	}
	printf("netdev sysfs (/sys/class/net/lo, rx+tx_packets): %.2f us/sample\n",
	       (now_s() - t) * 1e6 / n);
	t = now_s();
	for (unsigned i = 0; i < n; i++) {
		rc = vf_nl_query(vf_nl_exchange_kernel, NULL, ifindex, count_vf,
				 &sum);
		if (rc < 0) {
			fprintf(stderr, "rtnetlink: %s\n", strerror(-rc));
			return 1;
		}
	}
	printf("rtnetlink RTM_GETLINK+RTEXT_FILTER_VF (lo, kernel round trip): "
	       "%.2f us/sample\n", (now_s() - t) * 1e6 / n);
	len = crafted(reply, 1);
	t = now_s();
	for (unsigned i = 0; i < n; i++)
		if (vf_nl_parse(reply, len, 1, count_vf, &sum) != 64)
			return 1;
	printf("parse of a 64-VF reply (%zu bytes): %.2f us/sample\n", len,
	       (now_s() - t) * 1e6 / n);
	return sum == 42; /* keep the loops */
}
