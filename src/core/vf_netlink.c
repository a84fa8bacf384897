/* SPDX-License-Identifier: MIT */
/*
 * rtnetlink's view of a PF's VFs (vf_netlink.h): build RTM_GETLINK with
 * RTEXT_FILTER_VF, exchange it, and walk the nested attributes of the
 * reply with every length checked, since a reply is input like any other.
 */
#include <errno.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "internal.h"
#include "vf_netlink.h"

/* The payload of attribute `a` and its length. */
#define ATTR_DATA(a) ((const char *)(a) + NLA_HDRLEN)
#define ATTR_LEN(a) ((size_t)(a)->nla_len - NLA_HDRLEN)

size_t vf_nl_request(void *buf, int ifindex, uint32_t seq)
{
	struct nlmsghdr *nh = buf;
	struct ifinfomsg *ifi;
	struct nlattr *a;
	uint32_t mask = RTEXT_FILTER_VF;
	size_t len = NLMSG_LENGTH(sizeof(*ifi)) + NLA_HDRLEN + sizeof(mask);

	memset(buf, 0, VF_NL_REQUEST_LEN);
	nh->nlmsg_len = (uint32_t)len;
	nh->nlmsg_type = RTM_GETLINK;
	nh->nlmsg_flags = NLM_F_REQUEST;
	nh->nlmsg_seq = seq;
	ifi = NLMSG_DATA(nh);
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = ifindex;
	a = (struct nlattr *)((char *)buf + NLMSG_LENGTH(sizeof(*ifi)));
	a->nla_type = IFLA_EXT_MASK;
	a->nla_len = (uint16_t)(NLA_HDRLEN + sizeof(mask));
	memcpy((char *)a + NLA_HDRLEN, &mask, sizeof(mask));
	return len;
}

int vf_nl_exchange_kernel(void *userdata, const struct nlmsghdr *req,
			  void **reply, size_t *len)
{
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };
	struct timeval tv = { .tv_sec = 2 };
	ssize_t n;
	char *buf;
	int fd, err = 0;

	(void)userdata;
	*reply = NULL;
	*len = 0;
	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	/* The kernel answers a GETLINK at once; never hang the host on it. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (sendto(fd, req, req->nlmsg_len, 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0) {
		err = -errno;
		goto out;
	}
	/* How big the reply is (a PF with many VFs: tens of KiB). */
	do
		n = recv(fd, NULL, 0, MSG_PEEK | MSG_TRUNC);
	while (n < 0 && errno == EINTR);
	if (n <= 0) {
		err = n < 0 ? (errno == EAGAIN ? -ETIMEDOUT : -errno) : -EPROTO;
		goto out;
	}
	buf = malloc((size_t)n);
	if (!buf) {
		err = -ENOMEM;
		goto out;
	}
	do
		n = recv(fd, buf, (size_t)n, 0);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		err = -errno;
		free(buf);
		goto out;
	}
	*reply = buf;
	*len = (size_t)n;
out:
	close(fd);
	return err;
}

/* Next attribute in [*a, end), or NULL; its length is checked. */
static const struct nlattr *attr_next(const char **pos, const char *end)
{
	const struct nlattr *a = (const struct nlattr *)*pos;

	if ((size_t)(end - *pos) < NLA_HDRLEN || a->nla_len < NLA_HDRLEN ||
	    a->nla_len > (size_t)(end - *pos))
		return NULL;
	*pos += VPWR_MIN((size_t)NLA_ALIGN(a->nla_len), (size_t)(end - *pos));
	return a;
}

static int parse_stats(const struct nlattr *stats, struct vf_nl_info *vf)
{
	const char *pos = ATTR_DATA(stats), *end = pos + ATTR_LEN(stats);
	const struct nlattr *a;

	while ((a = attr_next(&pos, end))) {
		uint64_t *dst = NULL;

		switch (a->nla_type & NLA_TYPE_MASK) {
		case IFLA_VF_STATS_RX_PACKETS:
			dst = &vf->rx_packets;
			break;
		case IFLA_VF_STATS_TX_PACKETS:
			dst = &vf->tx_packets;
			break;
		default:
			continue;
		}
		if (ATTR_LEN(a) != sizeof(*dst))
			return -EPROTO;
		memcpy(dst, ATTR_DATA(a), sizeof(*dst));
	}
	vf->has_stats = true;
	return pos == end ? 0 : -EPROTO;
}

/* One IFLA_VF_INFO. */
static int parse_vf(const struct nlattr *info, struct vf_nl_info *vf)
{
	const char *pos = ATTR_DATA(info), *end = pos + ATTR_LEN(info);
	const struct nlattr *a;
	bool have_mac = false;
	int err = 0;

	memset(vf, 0, sizeof(*vf));
	while (!err && (a = attr_next(&pos, end))) {
		struct ifla_vf_mac m;

		switch (a->nla_type & NLA_TYPE_MASK) {
		case IFLA_VF_MAC:
			if (ATTR_LEN(a) < sizeof(m))
				return -EPROTO;
			memcpy(&m, ATTR_DATA(a), sizeof(m));
			vf->vf = m.vf;
			memcpy(vf->mac, m.mac, sizeof(vf->mac));
			have_mac = true;
			break;
		case IFLA_VF_STATS:
			err = parse_stats(a, vf);
			break;
		default:
			break;
		}
	}
	/* The index comes with the MAC: every VF_INFO carries one. */
	return err ? err : pos == end && have_mac ? 0 : -EPROTO;
}

static int parse_vf_list(const struct nlattr *list,
			 int (*fn)(const struct vf_nl_info *, void *),
			 void *userdata)
{
	const char *pos = ATTR_DATA(list), *end = pos + ATTR_LEN(list);
	const struct nlattr *a;
	int count = 0;

	while ((a = attr_next(&pos, end))) {
		struct vf_nl_info vf;
		int rc;

		if ((a->nla_type & NLA_TYPE_MASK) != IFLA_VF_INFO)
			continue;
		rc = parse_vf(a, &vf);
		if (!rc)
			rc = fn(&vf, userdata);
		if (rc)
			return rc;
		count++;
	}
	return pos == end ? count : -EPROTO;
}

int vf_nl_parse(const void *reply, size_t len, uint32_t seq,
		int (*fn)(const struct vf_nl_info *vf, void *userdata),
		void *userdata)
{
	const char *pos = reply, *end = pos + len;

	while ((size_t)(end - pos) >= NLMSG_HDRLEN) {
		const struct nlmsghdr *nh = (const struct nlmsghdr *)pos;
		const char *apos, *aend;
		const struct nlattr *a;

		if (nh->nlmsg_len < NLMSG_HDRLEN ||
		    nh->nlmsg_len > (size_t)(end - pos))
			return -EPROTO;
		pos += VPWR_MIN(NLMSG_ALIGN(nh->nlmsg_len),
				(size_t)(end - pos));
		if (nh->nlmsg_seq != seq)
			continue; /* not ours (a late reply to another) */
		if (nh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nh);

			if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
				return -EPROTO;
			return e->error < 0 ? e->error : -EPROTO;
		}
		if (nh->nlmsg_type != RTM_NEWLINK)
			continue;
		if (nh->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg)))
			return -EPROTO;
		apos = (const char *)NLMSG_DATA(nh) +
		       NLMSG_ALIGN(sizeof(struct ifinfomsg));
		aend = (const char *)nh + nh->nlmsg_len;
		if (apos > aend)
			return -EPROTO;
		while ((a = attr_next(&apos, aend)))
			if ((a->nla_type & NLA_TYPE_MASK) == IFLA_VFINFO_LIST)
				return parse_vf_list(a, fn, userdata);
		return apos == aend ? 0 : -EPROTO; /* no VFs */
	}
	return -EPROTO; /* no answer to our request */
}

int vf_nl_query(vf_nl_exchange_fn ex, void *ex_userdata, int ifindex,
		int (*fn)(const struct vf_nl_info *vf, void *userdata),
		void *userdata)
{
	char req[VF_NL_REQUEST_LEN];
	void *reply = NULL;
	size_t len = 0;
	int rc;

	if (ifindex <= 0)
		return -ENODEV;
	vf_nl_request(req, ifindex, (uint32_t)ifindex);
	rc = ex(ex_userdata, (const struct nlmsghdr *)req, &reply, &len);
	if (!rc)
		rc = vf_nl_parse(reply, len, (uint32_t)ifindex, fn, userdata);
	free(reply);
	return rc;
}
