/* SPDX-License-Identifier: MIT */
/*
 * A TRAFFIC policy's packet sources (traffic_source.h): from the
 * resolver's interfaces when it knows them, by MAC under class/net when it
 * does not.  Everything is decided when the policy is set; a sample only
 * reads counters.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "internal.h"
#include "pci_vf.h"
#include "traffic_source.h"

static const uint8_t zero_mac[6];

/* The domain's interfaces, copied out of the resolver's callback. */
struct ifc {
	uint8_t mac[6];
	char type[32];
	char target_dev[IF_NAMESIZE];
	char pci[VPWR_PCI_ADDR_LEN];
	bool chosen;
};

struct ifc_list {
	unsigned nr;
	bool truncated;
	struct ifc ifc[TSRC_MAX];
};

static int collect(const struct vpwr_resolver_interface *ri, void *userdata)
{
	struct ifc_list *l = userdata;
	struct ifc *c;

	if (l->nr == TSRC_MAX) {
		l->truncated = true;
		return 0;
	}
	c = &l->ifc[l->nr++];
	memset(c, 0, sizeof(*c));
	memcpy(c->mac, ri->mac, 6);
	if (ri->type)
		vpwr_strlcpy(c->type, ri->type, sizeof(c->type));
	if (ri->target_dev && strlen(ri->target_dev) < IF_NAMESIZE &&
	    !strchr(ri->target_dev, '/'))
		vpwr_strlcpy(c->target_dev, ri->target_dev,
			     sizeof(c->target_dev));
	if (ri->pci_addr)
		vpwr_strlcpy(c->pci, ri->pci_addr, sizeof(c->pci));
	return 0;
}

/* What the search for a VF found out, kept for the rest of a prepare. */
struct vf_search {
	bool scanned;
	int scan_rc;
	char scan_why[160];
	struct pci_vf_list vfs;
};

static bool netdev_exists(const char *root, const char *ifname)
{
	char path[4200];
	struct stat st;

	snprintf(path, sizeof(path), "%s/class/net/%s/statistics", root,
		 ifname);
	return !stat(path, &st) && S_ISDIR(st.st_mode);
}

static int vf_scan(const struct tsrc_env *env, struct vf_search *vs)
{
	if (!vs->scanned) {
		vs->scanned = true;
		vs->scan_rc = pci_vf_scan(env->sysfs_root, env->log, &vs->vfs,
					  vs->scan_why, sizeof(vs->scan_why));
	}
	return vs->scan_rc;
}

/* The PF's answer for one VF: by index (want_index) or by MAC. */
struct vf_pick {
	bool by_mac;
	uint32_t index;
	uint8_t mac[6];
	bool found;
	struct vf_nl_info info;
};

static int pick_vf(const struct vf_nl_info *vf, void *userdata)
{
	struct vf_pick *p = userdata;

	if (p->found)
		return 0;
	if (p->by_mac ? !memcmp(vf->mac, p->mac, 6) : vf->vf == p->index) {
		p->found = true;
		p->info = *vf;
	}
	return 0;
}

static void add_netdev(struct tsrc_set *s, const char *ifname,
		       const char *what)
{
	struct tsrc_item *it = &s->item[s->nr++];

	memset(it, 0, sizeof(*it));
	it->kind = TSRC_NETDEV;
	vpwr_strlcpy(it->ifname, ifname, sizeof(it->ifname));
	vpwr_strlcpy(it->what, what, sizeof(it->what));
}

/*
 * A passed-through VF, counted by its PF: asked once now (unless `pick`
 * has the answer already), so that a PF that lists no counters for it
 * refuses the policy rather than failing every sample.
 */
static int add_vf(const struct tsrc_env *env, struct tsrc_set *s,
		  const struct pci_vf *vf, struct vf_pick *pick, char *why,
		  size_t len)
{
	struct tsrc_item *it;
	int rc = 0;

	if (!vf->pf_ifname[0] || vf->pf_ifindex <= 0) {
		snprintf(why, len, "VF %s: its PF %s has no netdev", vf->addr,
			 vf->pf_addr);
		return -ENODEV;
	}
	if (!pick->found)
		rc = vf_nl_query(env->nl, env->nl_userdata, vf->pf_ifindex,
				 pick_vf, pick);
	if (rc < 0 || !pick->found || !pick->info.has_stats) {
		snprintf(why, len, "VF %s: %s (rtnetlink, PF %s)%s%s", vf->addr,
			 rc < 0 ? "no VF list" : !pick->found ? "not listed"
							      : "no counters",
			 vf->pf_ifname, rc < 0 ? ": " : "",
			 rc < 0 ? vpwr_strerror(rc) : "");
		return rc == -ENOMEM ? rc : -ENODEV;
	}
	it = &s->item[s->nr++];
	memset(it, 0, sizeof(*it));
	it->kind = TSRC_VF;
	vpwr_strlcpy(it->ifname, vf->pf_ifname, sizeof(it->ifname));
	it->ifindex = vf->pf_ifindex;
	it->vf = pick->info.vf;
	snprintf(it->what, sizeof(it->what), "VF %u of %s (%s)", it->vf,
		 vf->pf_ifname, vf->addr);
	return 0;
}

/* A VF as it is: its own netdev if the host has one, else the PF's view. */
static int add_found_vf(const struct tsrc_env *env, struct tsrc_set *s,
			const struct pci_vf *vf, char *why, size_t len)
{
	struct vf_pick pick = { .index = (uint32_t)vf->index };
	char what[64];

	if (vf->ifname[0] && netdev_exists(env->sysfs_root, vf->ifname)) {
		snprintf(what, sizeof(what), "%s (VF %s)", vf->ifname,
			 vf->addr);
		add_netdev(s, vf->ifname, what);
		return 0;
	}
	if (vf->index < 0) {
		snprintf(why, len, "VF %s: no virtfn link of its PF %s names "
			 "it", vf->addr, vf->pf_addr);
		return -ENODEV;
	}
	return add_vf(env, s, vf, &pick, why, len);
}

/* A passed-through VF known only by its MAC: ask every PF. */
static int vf_by_pf_mac(const struct tsrc_env *env, struct tsrc_set *s,
			struct vf_search *vs, const uint8_t mac[6], char *why,
			size_t len)
{
	for (size_t i = 0; i < vs->vfs.nr; i++) {
		const struct pci_vf *vf = &vs->vfs.vf[i];
		struct vf_pick pick = { .by_mac = true };
		bool asked = false;

		/* One question per PF: the first of its VFs asks it. */
		for (size_t j = 0; j < i && !asked; j++)
			asked = vs->vfs.vf[j].pf_ifindex == vf->pf_ifindex;
		if (asked || vf->pf_ifindex <= 0)
			continue;
		memcpy(pick.mac, mac, 6);
		if (vf_nl_query(env->nl, env->nl_userdata, vf->pf_ifindex,
				pick_vf, &pick) < 0 || !pick.found)
			continue;
		/* Name it by the PF's VF of that index, as sysfs has it. */
		for (size_t j = 0; j < vs->vfs.nr; j++)
			if (vs->vfs.vf[j].pf_ifindex == vf->pf_ifindex &&
			    vs->vfs.vf[j].index == (int)pick.info.vf)
				vf = &vs->vfs.vf[j];
		return add_vf(env, s, vf, &pick, why, len);
	}
	return -ENODEV;
}

/*
 * One chosen interface into s; -ENODEV with why if it cannot be counted.
 * The reasons are short: a guest's reply holds VPWR_REASON_MAX bytes.
 */
static int add_interface(const struct tsrc_env *env, struct tsrc_set *s,
			 struct vf_search *vs, const struct ifc *c, char *why,
			 size_t len)
{
	char netdev[IF_NAMESIZE + 16] = "";
	const struct pci_vf *vf;
	int rc;

	if (c->target_dev[0] && netdev_exists(env->sysfs_root, c->target_dev)) {
		add_netdev(s, c->target_dev, c->target_dev);
		return 0;
	}
	if (c->target_dev[0])
		snprintf(netdev, sizeof(netdev), "no netdev %s, ",
			 c->target_dev);
	if (!c->pci[0] && !memcmp(c->mac, zero_mac, 6)) {
		snprintf(why, len, "%s", c->target_dev[0] ? netdev
							  : "no target dev");
		why[strcspn(why, ",")] = '\0';
		return -ENODEV;
	}
	rc = vf_scan(env, vs);
	if (rc < 0) {
		snprintf(why, len, "%slibpci: %s", netdev, vs->scan_why);
		return rc == -ENOMEM ? rc : -ENODEV;
	}
	if (c->pci[0]) {
		vf = pci_vf_by_addr(&vs->vfs, c->pci);
		if (!vf) {
			snprintf(why, len, "%sPCI %s is no Ethernet VF", netdev,
				 c->pci);
			return -ENODEV;
		}
		return add_found_vf(env, s, vf, why, len);
	}
	vf = pci_vf_by_netdev_mac(&vs->vfs, c->mac);
	if (vf)
		return add_found_vf(env, s, vf, why, len);
	rc = vf_by_pf_mac(env, s, vs, c->mac, why, len);
	if (rc == -ENODEV)
		snprintf(why, len, "%sno VF with its MAC", netdev);
	return rc;
}

static const char *mac_text(const uint8_t mac[6], char buf[18])
{
	netdev_format_mac(mac, buf);
	return buf;
}

/* Choose the interfaces p counts: its MACs, or all; -EPERM for a stranger. */
static int choose(const char *domain, const struct vpwr_policy *p,
		  struct ifc_list *l, char *why, size_t len)
{
	char mac[18];

	for (unsigned i = 0; i < l->nr; i++)
		l->ifc[i].chosen = !p->nr_macs;
	for (uint32_t m = 0; m < p->nr_macs && m < VPWR_MSG_MAX_MACS; m++) {
		bool found = false;

		for (unsigned i = 0; i < l->nr; i++) {
			if (!memcmp(l->ifc[i].mac, p->macs[m], 6) &&
			    memcmp(p->macs[m], zero_mac, 6)) {
				l->ifc[i].chosen = found = true;
			}
		}
		if (!found) {
			snprintf(why, len, "MAC %s is not one of domain %s's "
				 "interfaces", mac_text(p->macs[m], mac),
				 domain);
			return -EPERM;
		}
	}
	if (!l->nr) {
		snprintf(why, len, "domain %s has no network interfaces",
			 domain);
		return -ENODEV;
	}
	return 0;
}

static int prepare_resolver(const struct tsrc_env *env, const char *domain,
			    const struct vpwr_policy *p, struct ifc_list *l,
			    struct tsrc_set *s, char *why, size_t len)
{
	struct vf_search vs = { 0 };
	char first[256] = "", mac[18];
	int rc = choose(domain, p, l, why, len);

	if (rc < 0)
		return rc;
	s->by_resolver = true;
	if (l->truncated)
		log_warn(env->log, "domain %s: more than %d interfaces: the "
			 "others are not counted", domain, TSRC_MAX);
	for (unsigned i = 0; i < l->nr && rc != -ENOMEM; i++) {
		char one[200];
		const struct ifc *c = &l->ifc[i];

		if (!c->chosen)
			continue;
		rc = add_interface(env, s, &vs, c, one, sizeof(one));
		if (rc < 0) {
			char label[40];

			snprintf(label, sizeof(label), "%s%s%s",
				 memcmp(c->mac, zero_mac, 6)
					 ? mac_text(c->mac, mac)
					 : c->pci,
				 c->type[0] ? " " : "", c->type);
			log_info(env->log, "domain %s: interface %s not "
				 "counted: %s", domain, label, one);
			if (!first[0])
				snprintf(first, sizeof(first), "%s: %s", label,
					 one);
		}
	}
	pci_vf_list_free(&vs.vfs);
	if (rc == -ENOMEM)
		return rc;
	if (!s->nr) {
		/* The first reason; the log has every one. */
		snprintf(why, len, "%s", first);
		return -ENODEV;
	}
	return 0;
}

/* 2.: today's search by MAC under class/net. */
static int prepare_by_mac(const struct tsrc_env *env,
			  const struct vpwr_policy *p, struct tsrc_set *s,
			  char *why, size_t len)
{
	struct netdev_set nd;
	char mac[18];
	int rc;

	if (!p->nr_macs) {
		snprintf(why, len, "no MAC address given to count the "
			 "packets of");
		return -EINVAL;
	}
	rc = netdev_find(env->sysfs_root, p, &nd);
	if (rc < 0) {
		snprintf(why, len, "no interface under %s/class/net has MAC "
			 "%s%s", env->sysfs_root, mac_text(p->macs[0], mac),
			 p->nr_macs > 1 ? " (or the others)" : "");
		return rc;
	}
	for (unsigned i = 0; i < nd.nr && s->nr < TSRC_MAX; i++)
		add_netdev(s, nd.name[i], nd.name[i]);
	return 0;
}

int tsrc_prepare(const struct tsrc_env *env, const char *domain,
		 const struct vpwr_policy *p, struct tsrc_set *s, char *why,
		 size_t len)
{
	struct ifc_list *l = calloc(1, sizeof(*l));
	int rc;

	memset(s, 0, sizeof(*s));
	if (!l)
		return -ENOMEM;
	rc = vpwr_resolver_foreach_interface(env->resolver, domain, collect, l);
	if (rc == -ENOTSUP)
		rc = prepare_by_mac(env, p, s, why, len);
	else if (rc < 0)
		snprintf(why, len, "the resolver cannot list domain %s's "
			 "interfaces: %s", domain, vpwr_strerror(rc));
	else
		rc = prepare_resolver(env, domain, p, l, s, why, len);
	free(l);
	if (rc < 0)
		memset(s, 0, sizeof(*s));
	return rc < 0 ? rc : 0;
}

static int read_vf(const struct tsrc_env *env, const struct tsrc_item *it,
		   uint64_t *packets)
{
	struct vf_pick pick = { .index = it->vf };
	int rc = vf_nl_query(env->nl, env->nl_userdata, it->ifindex, pick_vf,
			     &pick);

	if (rc < 0)
		return rc;
	if (!pick.found || !pick.info.has_stats)
		return -ENODEV;
	*packets = pick.info.rx_packets + pick.info.tx_packets;
	return 0;
}

int tsrc_read(const struct tsrc_env *env, const struct tsrc_set *s,
	      uint64_t *packets)
{
	uint64_t sum = 0;

	if (!s->nr)
		return -ENODEV;
	for (unsigned i = 0; i < s->nr; i++) {
		const struct tsrc_item *it = &s->item[i];
		struct netdev_set one = { .nr = 1 };
		uint64_t v;
		int rc;

		if (it->kind == TSRC_VF) {
			rc = read_vf(env, it, &v);
		} else {
			vpwr_strlcpy(one.name[0], it->ifname, IF_NAMESIZE);
			rc = netdev_packets(env->sysfs_root, &one, &v);
		}
		if (rc < 0)
			return rc;
		sum += v;
	}
	*packets = sum;
	return 0;
}

void tsrc_describe(const struct tsrc_set *s, char *buf, size_t len)
{
	size_t off = (size_t)snprintf(buf, len, "counting packets of");

	for (unsigned i = 0; i < s->nr && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%s %s",
					i ? "," : "", s->item[i].what);
}
