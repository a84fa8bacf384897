/*
 * TRAFFIC policies on the resolver's interfaces: a tap's netdev
 * statistics, SR-IOV VFs found with libpci on a fake <sysfs>/bus/pci (by
 * PCI address, by the MAC of their host netdev, by the MAC their PF gives
 * them), their counters from the VF's netdev or from the PF over
 * rtnetlink (crafted replies, and the real kernel on the loopback
 * device), a foreign MAC refused, and a tree libpci refuses giving an
 * error instead of an exit.
 */
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pci_vf.h"
#include "policy_testutil.h"
#include "traffic_source.h"
#include "vf_netlink.h"

/* ------------------------------------------------ a fake sysfs tree */

#define PF "0000:03:00.0"
#define VF0 "0000:03:10.0"         /* bound to a host driver: netdev eth5 */
#define VF1 "0000:03:10.1"         /* vfio-pci, found by PCI address */
#define VF2 "0000:03:10.2"         /* vfio-pci, found by its PF's MAC */
#define PF_IFINDEX 7

static void write_rel(const char *root, const char *rel, const char *text)
{
	vpwr_test_write_file(root, rel, text);
}

static void link_rel(const char *root, const char *rel, const char *target)
{
	char path[4200];

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	ck_assert_int_eq(symlink(target, path), 0);
}

/* A PCI function with what libpci's sysfs method reads (vendor, device,
 * class) and, for realism, a config space header. */
static void pci_function(const char *root, const char *addr, const char *class)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/vendor", addr);
	write_rel(root, rel, "0x8086\n");
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/device", addr);
	write_rel(root, rel, "0x154c\n");
	snprintf(rel, sizeof(rel), "bus/pci/devices/%s/class", addr);
	write_rel(root, rel, class);
}

static void stats(const char *root, const char *dir, uint64_t rx, uint64_t tx)
{
	char rel[512], num[32];

	snprintf(rel, sizeof(rel), "%s/statistics/rx_packets", dir);
	snprintf(num, sizeof(num), "%llu\n", (unsigned long long)rx);
	write_rel(root, rel, num);
	snprintf(rel, sizeof(rel), "%s/statistics/tx_packets", dir);
	snprintf(num, sizeof(num), "%llu\n", (unsigned long long)tx);
	write_rel(root, rel, num);
}

/*
 * An X710-like PF with three VFs, a GPU, and a tap:
 *   PF   0000:03:00.0  netdev eth2 (ifindex 7), virtfn0..2
 *   VF0  0000:03:10.0  host netdev eth5, MAC ...:05 (class/net/eth5 links
 *                      to it, as in the kernel)
 *   VF1  0000:03:10.1  no netdev (vfio-pci)
 *   VF2  0000:03:10.2  no netdev (vfio-pci)
 *   GPU  0000:00:02.0  class 0x030000
 *   tap  class/net/vnet7, MAC fe:54:00:00:00:01
 */
static char *fake_tree(void)
{
	char *root = vpwr_test_tmpdir();

	pci_function(root, PF, "0x020000\n");
	write_rel(root, "bus/pci/devices/" PF "/net/eth2/ifindex", "7\n");
	write_rel(root, "bus/pci/devices/" PF "/net/eth2/address",
		  "3c:fd:fe:00:00:01\n");
	pci_function(root, VF0, "0x020000\n");
	pci_function(root, VF1, "0x020000\n");
	pci_function(root, VF2, "0x020000\n");
	pci_function(root, "0000:00:02.0", "0x030000\n");
	link_rel(root, "bus/pci/devices/" PF "/virtfn0", "../" VF0);
	link_rel(root, "bus/pci/devices/" PF "/virtfn1", "../" VF1);
	link_rel(root, "bus/pci/devices/" PF "/virtfn2", "../" VF2);
	link_rel(root, "bus/pci/devices/" VF0 "/physfn", "../" PF);
	link_rel(root, "bus/pci/devices/" VF1 "/physfn", "../" PF);
	link_rel(root, "bus/pci/devices/" VF2 "/physfn", "../" PF);
	write_rel(root, "bus/pci/devices/" VF0 "/net/eth5/address",
		  "52:54:00:00:00:05\n");
	stats(root, "bus/pci/devices/" VF0 "/net/eth5", 500, 500);
	write_rel(root, "class/net/.keep", "");
	link_rel(root, "class/net/eth5",
		 "../../bus/pci/devices/" VF0 "/net/eth5");
	write_rel(root, "class/net/vnet7/address", "fe:54:00:00:00:01\n");
	stats(root, "class/net/vnet7", 100, 100);
	return root;
}

/* --------------------------------------- crafted rtnetlink replies */

struct nlbuf {
	char data[8192];
	size_t len;
};

static size_t nl_put(struct nlbuf *b, uint16_t type, const void *v,
		     size_t len)
{
	struct nlattr *a = (struct nlattr *)(b->data + b->len);
	size_t at = b->len;

	a->nla_type = type;
	a->nla_len = (uint16_t)(NLA_HDRLEN + len);
	if (len)
		memcpy(b->data + b->len + NLA_HDRLEN, v, len);
	b->len += NLA_ALIGN(NLA_HDRLEN + len);
	return at;
}

static void nl_end(struct nlbuf *b, size_t at)
{
	((struct nlattr *)(b->data + at))->nla_len = (uint16_t)(b->len - at);
}

/* What the fake PF says of its VFs. */
struct fake_pf {
	unsigned calls;
	int ifindex_seen;
	int error;                 /* answer NLMSG_ERROR with it */
	bool no_stats;             /* VF_INFO without IFLA_VF_STATS */
	uint64_t rx[3], tx[3];
	uint8_t mac[3][6];
};

static void vf_info(struct nlbuf *b, const struct fake_pf *pf, uint32_t i)
{
	size_t info = nl_put(b, NLA_F_NESTED | IFLA_VF_INFO, NULL, 0);
	struct ifla_vf_mac m = { .vf = i };
	size_t st;

	memcpy(m.mac, pf->mac[i], 6);
	nl_put(b, IFLA_VF_MAC, &m, sizeof(m));
	if (!pf->no_stats) {
		st = nl_put(b, NLA_F_NESTED | IFLA_VF_STATS, NULL, 0);
		nl_put(b, IFLA_VF_STATS_RX_BYTES, &pf->rx[i], 8);
		nl_put(b, IFLA_VF_STATS_RX_PACKETS, &pf->rx[i], 8);
		nl_put(b, IFLA_VF_STATS_TX_PACKETS, &pf->tx[i], 8);
		nl_end(b, st);
	}
	nl_end(b, info);
}

static int fake_exchange(void *ud, const struct nlmsghdr *req, void **reply,
			 size_t *len)
{
	struct fake_pf *pf = ud;
	const struct ifinfomsg *ifi = NLMSG_DATA(req);
	const struct nlattr *a =
		(const void *)((const char *)req + NLMSG_LENGTH(sizeof(*ifi)));
	struct nlbuf *b = calloc(1, sizeof(*b));
	struct nlmsghdr *nh = (struct nlmsghdr *)b->data;
	uint32_t mask;
	size_t list;

	pf->calls++;
	pf->ifindex_seen = ifi->ifi_index;
	/* What the kernel needs to include the VFs. */
	ck_assert_int_eq(req->nlmsg_type, RTM_GETLINK);
	ck_assert(req->nlmsg_flags & NLM_F_REQUEST);
	ck_assert_int_eq(a->nla_type, IFLA_EXT_MASK);
	memcpy(&mask, (const char *)a + NLA_HDRLEN, 4);
	ck_assert(mask & RTEXT_FILTER_VF);
	nh->nlmsg_seq = req->nlmsg_seq;
	if (pf->error) {
		struct nlmsgerr *e = NLMSG_DATA(nh);

		nh->nlmsg_type = NLMSG_ERROR;
		nh->nlmsg_len = NLMSG_LENGTH(sizeof(*e));
		e->error = pf->error;
		*len = nh->nlmsg_len;
	} else {
		nh->nlmsg_type = RTM_NEWLINK;
		b->len = NLMSG_LENGTH(sizeof(struct ifinfomsg));
		((struct ifinfomsg *)NLMSG_DATA(nh))->ifi_index = ifi->ifi_index;
		nl_put(b, IFLA_IFNAME, "eth2", 5);
		list = nl_put(b, NLA_F_NESTED | IFLA_VFINFO_LIST, NULL, 0);
		for (uint32_t i = 0; i < 3; i++)
			vf_info(b, pf, i);
		nl_end(b, list);
		nh->nlmsg_len = (uint32_t)b->len;
		*len = b->len;
	}
	*reply = b; /* data is its first member */
	return 0;
}

/* ------------------------------------------------------ pci_vf alone */

static struct vpwr_logger quiet;

START_TEST(libpci_finds_the_vfs)
{
	char *root = fake_tree(), why[256];
	struct pci_vf_list l = { 0 };
	const struct pci_vf *vf;
	static const uint8_t eth5[6] = { 0x52, 0x54, 0, 0, 0, 5 };

	ck_assert_int_eq(pci_vf_scan(root, &quiet, &l, why, sizeof(why)), 3);
	/* Not the PF, not the GPU. */
	ck_assert_ptr_null(pci_vf_by_addr(&l, PF));
	ck_assert_ptr_null(pci_vf_by_addr(&l, "0000:00:02.0"));
	vf = pci_vf_by_addr(&l, VF1);
	ck_assert_ptr_nonnull(vf);
	ck_assert_str_eq(vf->pf_addr, PF);
	ck_assert_int_eq(vf->index, 1);
	ck_assert_str_eq(vf->pf_ifname, "eth2");
	ck_assert_int_eq(vf->pf_ifindex, PF_IFINDEX);
	ck_assert_str_eq(vf->ifname, "");
	vf = pci_vf_by_netdev_mac(&l, eth5);
	ck_assert_ptr_nonnull(vf);
	ck_assert_str_eq(vf->addr, VF0);
	ck_assert_str_eq(vf->ifname, "eth5");
	ck_assert_int_eq(vf->index, 0);
	pci_vf_list_free(&l);
	vpwr_test_rmtree(root);
	free(root);
}
END_TEST

/* libpci's error handler exits; ours comes back with its message. */
START_TEST(libpci_refusing_a_tree_is_an_error)
{
	char *root = fake_tree(), why[256], path[4200];
	struct pci_vf_list l = { 0 };

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/class", root, VF2);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(pci_vf_scan(root, &quiet, &l, why, sizeof(why)), -EIO);
	ck_assert_ptr_nonnull(strstr(why, "Cannot open"));
	ck_assert_ptr_nonnull(strstr(why, VF2 "/class"));
	ck_assert_uint_eq(l.nr, 0);
	/* Again: no state left behind by the jump. */
	ck_assert_int_eq(pci_vf_scan(root, &quiet, &l, why, sizeof(why)), -EIO);
	/* A name libpci cannot parse is refused before libpci sees it. */
	write_rel(root, "bus/pci/devices/" VF2 "/class", "0x020000\n");
	write_rel(root, "bus/pci/devices/junk/vendor", "0x8086\n");
	ck_assert_int_eq(pci_vf_scan(root, &quiet, &l, why, sizeof(why)), -EIO);
	ck_assert_ptr_nonnull(strstr(why, "\"junk\" is not a PCI address"));
	/* No PCI bus at all. */
	snprintf(path, sizeof(path), "%s/bus", root);
	vpwr_test_rmtree(path);
	ck_assert_int_eq(pci_vf_scan(root, &quiet, &l, why, sizeof(why)),
			 -ENOENT);
	vpwr_test_rmtree(root);
	free(root);
}
END_TEST

/* ----------------------------------------------------- rtnetlink alone */

struct seen {
	unsigned n;
	struct vf_nl_info vf[4];
};

static int see(const struct vf_nl_info *vf, void *ud)
{
	struct seen *s = ud;

	if (s->n < 4)
		s->vf[s->n] = *vf;
	s->n++;
	return 0;
}

START_TEST(netlink_replies_parsed)
{
	struct fake_pf pf = { .rx = { 1, 2, 3 }, .tx = { 10, 20, 30 } };
	struct seen s = { 0 };
	char req[VF_NL_REQUEST_LEN];
	void *reply;
	size_t len;

	pf.mac[2][5] = 0x33;
	ck_assert_int_eq(vf_nl_query(fake_exchange, &pf, PF_IFINDEX, see, &s),
			 3);
	ck_assert_int_eq(pf.ifindex_seen, PF_IFINDEX);
	ck_assert_uint_eq(s.vf[1].vf, 1);
	ck_assert(s.vf[1].has_stats);
	ck_assert_uint_eq(s.vf[1].rx_packets, 2);
	ck_assert_uint_eq(s.vf[1].tx_packets, 20);
	ck_assert_uint_eq(s.vf[2].mac[5], 0x33);
	/* The kernel's error. */
	pf.error = -ENODEV;
	ck_assert_int_eq(vf_nl_query(fake_exchange, &pf, 99, see, &s), -ENODEV);
	pf.error = 0;
	/* Every truncation of a good reply is refused, never overrun. */
	vf_nl_request(req, PF_IFINDEX, PF_IFINDEX);
	ck_assert_int_eq(fake_exchange(&pf, (void *)req, &reply, &len), 0);
	for (size_t cut = 0; cut < len; cut += 4) {
		struct nlmsghdr *nh = reply;
		uint32_t full = nh->nlmsg_len;

		memset(&s, 0, sizeof(s));
		ck_assert_int_lt(vf_nl_parse(reply, cut, PF_IFINDEX, see, &s),
				 0);
		/* ... and a header that claims less than there is. */
		if (cut >= NLMSG_LENGTH(sizeof(struct ifinfomsg)) + 8) {
			nh->nlmsg_len = (uint32_t)cut;
			ck_assert_int_le(vf_nl_parse(reply, len, PF_IFINDEX, see,
						     &s), 0);
			nh->nlmsg_len = full;
		}
	}
	/* Another request's answer is not ours. */
	ck_assert_int_eq(vf_nl_parse(reply, len, PF_IFINDEX + 1, see, &s),
			 -EPROTO);
	free(reply);
}
END_TEST

/* The real kernel: the loopback device has no VFs. */
START_TEST(netlink_kernel_loopback)
{
	struct seen s = { 0 };
	int lo = (int)if_nametoindex("lo");

	ck_assert_int_gt(lo, 0);
	ck_assert_int_eq(vf_nl_query(vf_nl_exchange_kernel, NULL, lo, see, &s),
			 0);
	ck_assert_uint_eq(s.n, 0);
	/* A device that does not exist: the kernel's NLMSG_ERROR. */
	ck_assert_int_eq(vf_nl_query(vf_nl_exchange_kernel, NULL, 0x7ffffff0,
				     see, &s), -ENODEV);
}
END_TEST

/* ------------------------------------------------------ the host */

/* vm1's NICs: a tap, a VF by PCI address, a VF with a host netdev, a VF
 * its PF knows by MAC; vm2's: a tap.  vm3 lists none: MAC search. */
static const char *pins =
	"{\"domains\": {"
	" \"vm1\": {\"vcpus\": [\"0\", \"1\"], \"interfaces\": ["
	"   {\"mac\": \"52:54:00:00:00:01\", \"dev\": \"vnet7\"},"
	"   {\"mac\": \"52:54:00:00:00:02\", \"pci\": \"" VF1 "\"},"
	"   {\"mac\": \"52:54:00:00:00:05\"},"
	"   {\"mac\": \"52:54:00:00:00:03\"}]},"
	" \"vm2\": {\"vcpus\": [\"2\"], \"interfaces\": ["
	"   {\"mac\": \"52:54:00:00:00:09\", \"dev\": \"vnet9\"}]},"
	" \"vm3\": {\"vcpus\": [\"3\"]}}}";

static struct pt_env e;
static struct fake_pf pf;
static char *root;

static void setup(void)
{
	VPWR_OPTS(vpwr_host_opts, o, .sysfs_root = NULL);

	root = fake_tree();
	o.sysfs_root = root;
	pt_open(&e, pins, &o);
	memset(&pf, 0, sizeof(pf));
	pf.mac[0][5] = 0x05;
	pf.mac[1][5] = 0x02;
	pf.mac[2][5] = 0x03;
	for (int i = 0; i < 3; i++)
		pf.mac[i][0] = 0x52, pf.mac[i][1] = 0x54;
	e.h->tsrc.nl = fake_exchange;
	e.h->tsrc.nl_userdata = &pf;
}

static void teardown(void)
{
	pt_close(&e);
	vpwr_test_rmtree(root);
	free(root);
}

static struct vpwr_policy traffic_of(int mac_last_byte)
{
	struct vpwr_policy p = pt_policy(VPWR_POLICY_TRAFFIC);

	p.min_pps = 100;
	p.avg_pps = 1000;
	p.max_pps = 10000;
	if (mac_last_byte >= 0) {
		uint8_t mac[6] = { 0x52, 0x54, 0, 0, 0, (uint8_t)mac_last_byte };

		memcpy(p.macs[0], mac, 6);
		p.nr_macs = 1;
	}
	return p;
}

static void second(void)
{
	e.now_ms += 1000;
	ck_assert_int_eq(vpwr_host_evaluate(e.h), 0);
}

START_TEST(tap_statistics_by_target_dev)
{
	struct vpwr_policy p = traffic_of(1);
	struct vpwr_msg reply;

	ck_assert_int_eq(pt_set(&e, "vm1", &p, &reply), 0);
	ck_assert_str_eq(reply.reason, "TRAFFIC counting packets of vnet7");
	stats(root, "class/net/vnet7", 10100, 100); /* +10,000 in 1 s */
	second();
	ck_assert_uint_eq(pt_freq(&e, 0), e.hi);
	ck_assert_uint_eq(pf.calls, 0); /* no VF was needed */
}
END_TEST

START_TEST(a_foreign_mac_is_refused)
{
	struct vpwr_policy p = traffic_of(9); /* vm2's NIC */
	struct vpwr_msg reply;

	ck_assert_int_eq(pt_set(&e, "vm1", &p, &reply), -EPERM);
	ck_assert_ptr_nonnull(strstr(reply.reason, "52:54:00:00:00:09 is not "
						   "one of domain vm1's"));
	/* vm2 has no netdev vnet9 here: nothing to count. */
	ck_assert_int_eq(pt_set(&e, "vm2", &p, &reply), -ENODEV);
	ck_assert_str_eq(reply.reason, "TRAFFIC policy refused: "
				       "52:54:00:00:00:09: no netdev vnet9, no "
				       "VF with its MAC");
	pt_assert_idle(&e);
}
END_TEST

START_TEST(passed_through_vf_by_pci_address)
{
	struct vpwr_policy p = traffic_of(2);
	struct vpwr_msg reply;

	ck_assert_int_eq(pt_set(&e, "vm1", &p, &reply), 0);
	ck_assert_ptr_nonnull(strstr(reply.reason, "VF 1 of eth2 (" VF1 ")"));
	ck_assert_int_eq(pf.ifindex_seen, PF_IFINDEX);
	/* 2,000 packets/s in both directions of VF 1 only: medium. */
	pf.rx[1] += 1500;
	pf.tx[1] += 500;
	pf.rx[2] += 1000000;
	second();
	ck_assert_uint_eq(pt_freq(&e, 0), e.mid);
	/* The PF stops listing counters: the sample is skipped, nothing
	 * moves. */
	pf.no_stats = true;
	second();
	ck_assert_uint_eq(pt_freq(&e, 0), e.mid);
}
END_TEST

START_TEST(vf_with_a_host_netdev_by_mac)
{
	struct vpwr_policy p = traffic_of(5);
	struct vpwr_msg reply;

	ck_assert_int_eq(pt_set(&e, "vm1", &p, &reply), 0);
	ck_assert_ptr_nonnull(strstr(reply.reason, "eth5 (VF " VF0 ")"));
	stats(root, "bus/pci/devices/" VF0 "/net/eth5", 20500, 500);
	second();
	ck_assert_uint_eq(pt_freq(&e, 0), e.hi);
	ck_assert_uint_eq(pf.calls, 0);
}
END_TEST

START_TEST(passed_through_vf_by_its_pf_mac)
{
	struct vpwr_policy p = traffic_of(3);
	struct vpwr_msg reply;

	ck_assert_int_eq(pt_set(&e, "vm1", &p, &reply), 0);
	ck_assert_ptr_nonnull(strstr(reply.reason, "VF 2 of eth2 (" VF2 ")"));
	pf.tx[2] += 50;
	second();
	ck_assert_uint_eq(pt_freq(&e, 0), e.lo);
	/* The PF no longer answers: refused at the next set. */
	pf.error = -EOPNOTSUPP;
	ck_assert_int_eq(pt_set(&e, "vm1", &p, &reply), -ENODEV);
	ck_assert_ptr_nonnull(strstr(reply.reason, "52:54:00:00:00:03"));
}
END_TEST

START_TEST(no_mac_counts_every_interface)
{
	struct vpwr_policy p = traffic_of(-1);
	struct vpwr_msg reply;

	ck_assert_int_eq(pt_set(&e, "vm1", &p, &reply), 0);
	ck_assert_ptr_nonnull(strstr(reply.reason, "vnet7, VF 1 of eth2 ("));
	ck_assert_ptr_nonnull(strstr(reply.reason, ", eth5 (VF "));
	ck_assert_ptr_nonnull(strstr(reply.reason, ", VF 2 of eth2 ("));
	/* 250 packets/s on each of the four: 1,000, medium. */
	stats(root, "class/net/vnet7", 100 + 250, 100);
	stats(root, "bus/pci/devices/" VF0 "/net/eth5", 500 + 250, 500);
	pf.rx[1] += 250;
	pf.tx[2] += 250;
	second();
	ck_assert_uint_eq(pt_freq(&e, 0), e.mid);
	/* A resolver that does not say (vm3): today's MAC search, which
	 * needs a MAC. */
	ck_assert_int_eq(pt_set(&e, "vm3", &p, &reply), -EINVAL);
	ck_assert_ptr_nonnull(strstr(reply.reason, "no MAC"));
	p = traffic_of(1); /* vnet7 by the tap convention */
	ck_assert_int_eq(pt_set(&e, "vm3", &p, &reply), 0);
	ck_assert_ptr_nonnull(strstr(reply.reason, "vnet7"));
}
END_TEST

START_TEST(a_broken_pci_tree_refuses_the_policy)
{
	struct vpwr_policy p = traffic_of(2);
	struct vpwr_msg reply;
	char path[4200];

	snprintf(path, sizeof(path), "%s/bus/pci/devices/%s/vendor", root, VF1);
	ck_assert_int_eq(unlink(path), 0);
	ck_assert_int_eq(pt_set(&e, "vm1", &p, &reply), -ENODEV);
	ck_assert_msg(strstr(reply.reason, "52:54:00:00:00:02: libpci: Cannot "
				       "open /"), "%s", reply.reason);
	/* The tap needs no libpci. */
	p = traffic_of(1);
	ck_assert_int_eq(pt_set(&e, "vm1", &p, &reply), 0);
}
END_TEST

static Suite *traffic_vf_suite(void)
{
	Suite *s = suite_create("host_traffic_vf");
	TCase *alone = tcase_create("alone");
	TCase *host = tcase_create("host");

	tcase_add_test(alone, libpci_finds_the_vfs);
	tcase_add_test(alone, libpci_refusing_a_tree_is_an_error);
	tcase_add_test(alone, netlink_replies_parsed);
	tcase_add_test(alone, netlink_kernel_loopback);
	suite_add_tcase(s, alone);
	tcase_add_checked_fixture(host, setup, teardown);
	tcase_add_test(host, tap_statistics_by_target_dev);
	tcase_add_test(host, a_foreign_mac_is_refused);
	tcase_add_test(host, passed_through_vf_by_pci_address);
	tcase_add_test(host, vf_with_a_host_netdev_by_mac);
	tcase_add_test(host, passed_through_vf_by_its_pf_mac);
	tcase_add_test(host, no_mac_counts_every_interface);
	tcase_add_test(host, a_broken_pci_tree_refuses_the_policy);
	suite_add_tcase(s, host);
	return s;
}

int main(void)
{
	return vpwr_test_run(traffic_vf_suite());
}
