/* SPDX-License-Identifier: MIT */
/*
 * One snapshot of every domain libvirt knows: state, vCPU count, pinning,
 * and what the XML says (CID, channels, interfaces).  Always read whole
 * and compared whole: the resolver swaps snapshots, so a lookup never
 * sees half of one, and "did anything change" is a plain comparison.
 */
#include <stdlib.h>

#include <libvirt/virterror.h>

#include "resolver_libvirt.h"

/* read_domain()'s verdicts besides 0 and -errno. */
#define SKIP 1                     /* gone, or a name we cannot carry */
#define RETRY 2                    /* it started or stopped under us */

int vpwr_lv_error_code(int fallback)
{
	virErrorPtr e = virGetLastError();

	if (!e)
		return fallback;
	switch (e->code) {
	case VIR_ERR_NO_MEMORY:
		return -ENOMEM;
	case VIR_ERR_NO_DOMAIN:
		return -VPWR_E_NO_DOMAIN;
	case VIR_ERR_NO_SUPPORT:
		return -ENOTSUP;
	case VIR_ERR_NO_CONNECT:   /* no driver for this URI */
		return -EPROTONOSUPPORT;
	case VIR_ERR_INVALID_CONN:
		return -ENOTCONN;
	case VIR_ERR_OPERATION_DENIED:
	case VIR_ERR_AUTH_FAILED:
	case VIR_ERR_AUTH_CANCELLED:
	case VIR_ERR_AUTH_UNAVAILABLE:
	case VIR_ERR_ACCESS_DENIED:
		return -EACCES;
	case VIR_ERR_INVALID_ARG:
		return -EINVAL;
	case VIR_ERR_XML_ERROR:
	case VIR_ERR_XML_DETAIL:
	case VIR_ERR_CONFIG_UNSUPPORTED:
		return -VPWR_E_CONFIG;
	default:
		break;
	}
	return e->domain == VIR_FROM_URI ? -EINVAL : fallback;
}

const char *vpwr_lv_error_message(void)
{
	return virGetLastErrorMessage();
}

static void domain_free(struct vpwr_lv_domain *d)
{
	for (size_t i = 0; i < d->nr_channels; i++) {
		free(d->channels[i].path);
		free(d->channels[i].target_name);
	}
	free(d->channels);
	for (size_t i = 0; i < d->nr_interfaces; i++) {
		free(d->interfaces[i].type);
		free(d->interfaces[i].target_dev);
		free(d->interfaces[i].pci_addr);
	}
	free(d->interfaces);
	free(d->pins);
	memset(d, 0, sizeof(*d));
}

void vpwr_lv_snapshot_free(struct vpwr_lv_snapshot *s)
{
	for (size_t i = 0; i < s->nr; i++)
		domain_free(&s->domains[i]);
	free(s->domains);
	s->domains = NULL;
	s->nr = 0;
}

static int cmp_domain(const void *a, const void *b)
{
	return strcmp(((const struct vpwr_lv_domain *)a)->name,
		      ((const struct vpwr_lv_domain *)b)->name);
}

const struct vpwr_lv_domain *
vpwr_lv_snapshot_find(const struct vpwr_lv_snapshot *s, const char *name)
{
	struct vpwr_lv_domain key;

	if (strlen(name) > VPWR_RESOLVER_NAME_MAX || !s->nr)
		return NULL;
	vpwr_strlcpy(key.name, name, sizeof(key.name));
	return bsearch(&key, s->domains, s->nr, sizeof(*s->domains),
		       cmp_domain);
}

static bool channel_equal(const struct vpwr_lv_channel *a,
			  const struct vpwr_lv_channel *b)
{
	return a->source_mode == b->source_mode &&
	       a->guest_open == b->guest_open &&
	       !strcmp(a->path, b->path) &&
	       !strcmp(a->target_name, b->target_name);
}

/* Two optional strings. */
static bool str_equal(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool interface_equal(const struct vpwr_lv_interface *a,
			    const struct vpwr_lv_interface *b)
{
	return !memcmp(a->mac, b->mac, sizeof(a->mac)) &&
	       str_equal(a->type, b->type) &&
	       str_equal(a->target_dev, b->target_dev) &&
	       str_equal(a->pci_addr, b->pci_addr);
}

static bool domain_equal(const struct vpwr_lv_domain *a,
			 const struct vpwr_lv_domain *b)
{
	if (strcmp(a->name, b->name) || a->running != b->running ||
	    a->nr_vcpus != b->nr_vcpus || a->cid != b->cid ||
	    a->nr_channels != b->nr_channels ||
	    a->nr_interfaces != b->nr_interfaces)
		return false;
	if (a->nr_vcpus &&
	    memcmp(a->pins, b->pins, a->nr_vcpus * sizeof(*a->pins)))
		return false;
	for (size_t i = 0; i < a->nr_channels; i++)
		if (!channel_equal(&a->channels[i], &b->channels[i]))
			return false;
	for (size_t i = 0; i < a->nr_interfaces; i++)
		if (!interface_equal(&a->interfaces[i], &b->interfaces[i]))
			return false;
	return true;
}

bool vpwr_lv_snapshot_equal(const struct vpwr_lv_snapshot *a,
			    const struct vpwr_lv_snapshot *b)
{
	if (a->nr != b->nr)
		return false;
	for (size_t i = 0; i < a->nr; i++)
		if (!domain_equal(&a->domains[i], &b->domains[i]))
			return false;
	return true;
}

/* The host's CPU count, which sizes libvirt's CPU maps. */
static int host_cpus(virConnectPtr conn)
{
	virNodeInfo info;
	int n = virNodeGetCPUMap(conn, NULL, NULL, 0);

	if (n > 0)
		return n;
	if (!virNodeGetInfo(conn, &info) && VIR_NODEINFO_MAXCPUS(info) > 0)
		return (int)VIR_NODEINFO_MAXCPUS(info);
	return -1;
}

static bool name_usable(const char *name, const struct vpwr_logger *log)
{
	size_t len = strlen(name);

	if (!len || len > VPWR_RESOLVER_NAME_MAX) {
		log_warn(log, "libvirt: domain \"%.40s...\": name is %zu bytes, "
			 "longer than %d: ignored", name, len,
			 VPWR_RESOLVER_NAME_MAX);
		return false;
	}
	for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
		if (*c < 0x20 || *c == 0x7f) {
			log_warn(log, "libvirt: a domain name has a control "
				 "character: ignored");
			return false;
		}
	}
	return true;
}

/*
 * After a failed call on `name`: SKIP if the domain is gone, RETRY if it
 * changed state, else the error (logged).
 */
static int failed(const struct vpwr_logger *log, const char *name,
		  const char *what)
{
	virErrorPtr e = virGetLastError();

	if (e && e->code == VIR_ERR_NO_DOMAIN)
		return SKIP;
	if (e && e->code == VIR_ERR_OPERATION_INVALID)
		return RETRY;
	log_err(log, "libvirt: domain \"%s\": %s: %s", name, what,
		vpwr_lv_error_message());
	return vpwr_lv_error_code(-EIO);
}

static int read_pins(virDomainPtr dom, int ncpus, unsigned flags,
		     const struct vpwr_logger *log, struct vpwr_lv_domain *d)
{
	int maplen = VIR_CPU_MAPLEN(ncpus), got;
	unsigned usable = (unsigned)VPWR_MIN(ncpus, VPWR_MAX_CPUS);
	unsigned char *maps;

	d->pins = calloc(d->nr_vcpus, sizeof(*d->pins));
	maps = calloc(d->nr_vcpus, (size_t)maplen);
	if (!d->pins || !maps) {
		free(maps);
		return -ENOMEM;
	}
	got = virDomainGetVcpuPinInfo(dom, (int)d->nr_vcpus, maps, maplen,
				      flags);
	if (got < 0) {
		free(maps);
		return failed(log, d->name, "virDomainGetVcpuPinInfo");
	}
	/* A vCPU libvirt gave no map for keeps an empty set: not pinned. */
	for (unsigned v = 0; v < (unsigned)got && v < d->nr_vcpus; v++) {
		const unsigned char *map = VIR_GET_CPUMAP(maps, maplen, v);

		for (unsigned cpu = 0; cpu < usable; cpu++)
			if (VIR_CPU_USED(map, cpu))
				vpwr_cpuset_set(&d->pins[v], cpu);
	}
	free(maps);
	return 0;
}

/* 0, SKIP, RETRY or -errno (logged).  `d` is zeroed and may be half-filled
 * on return: the caller frees it. */
static int read_domain(virDomainPtr dom, int ncpus,
		       const struct vpwr_logger *log, struct vpwr_lv_domain *d)
{
	const char *name = virDomainGetName(dom);
	unsigned flags;
	char *xml;
	int active, nr, err;

	if (!name || !name_usable(name, log))
		return SKIP;
	vpwr_strlcpy(d->name, name, sizeof(d->name));
	active = virDomainIsActive(dom);
	if (active < 0)
		return failed(log, d->name, "virDomainIsActive");
	d->running = active;
	flags = active ? VIR_DOMAIN_AFFECT_LIVE : VIR_DOMAIN_AFFECT_CONFIG;
	nr = virDomainGetVcpusFlags(dom, flags);
	if (nr < 0)
		return failed(log, d->name, "virDomainGetVcpusFlags");
	d->nr_vcpus = (unsigned)VPWR_MIN(nr, VPWR_MAX_CPUS);
	if (d->nr_vcpus) {
		err = read_pins(dom, ncpus, flags, log, d);
		if (err)
			return err;
	}
	xml = virDomainGetXMLDesc(dom, active ? 0 : VIR_DOMAIN_XML_INACTIVE);
	if (!xml)
		return failed(log, d->name, "virDomainGetXMLDesc");
	err = vpwr_lv_parse_domain_xml(xml, log, d);
	free(xml);
	return err;
}

/* Read one domain into s->domains[s->nr], retrying once if it started or
 * stopped between two calls. */
static int add_domain(virDomainPtr dom, int ncpus,
		      const struct vpwr_logger *log, struct vpwr_lv_snapshot *s)
{
	struct vpwr_lv_domain *d = &s->domains[s->nr];
	int rc = RETRY;

	for (int attempt = 0; rc == RETRY && attempt < 2; attempt++) {
		domain_free(d);
		rc = read_domain(dom, ncpus, log, d);
	}
	if (rc == RETRY) {
		log_err(log, "libvirt: domain \"%s\" keeps changing state "
			"while being read", d->name);
		rc = -EAGAIN;
	}
	if (rc) {
		domain_free(d);
		return rc == SKIP ? 0 : rc;
	}
	s->nr++;
	return 0;
}

int vpwr_lv_snapshot_read(virConnectPtr conn, const struct vpwr_logger *log,
			  struct vpwr_lv_snapshot *out)
{
	virDomainPtr *doms = NULL;
	int n, ncpus, err = 0;

	vpwr_lv_snapshot_free(out);
	ncpus = host_cpus(conn);
	if (ncpus < 0) {
		log_err(log, "libvirt: cannot read the host's CPUs: %s",
			vpwr_lv_error_message());
		return vpwr_lv_error_code(-EIO);
	}
	if (ncpus > VPWR_MAX_CPUS)
		log_warn(log, "libvirt: the host has %d CPUs; pinning to CPUs "
			 "from %d on is not seen", ncpus, VPWR_MAX_CPUS);
	n = virConnectListAllDomains(conn, &doms, 0);
	if (n < 0) {
		log_err(log, "libvirt: cannot list domains: %s",
			vpwr_lv_error_message());
		return vpwr_lv_error_code(-EIO);
	}
	out->domains = calloc((size_t)n + 1, sizeof(*out->domains));
	if (!out->domains)
		err = -ENOMEM;
	for (int i = 0; i < n; i++) {
		if (!err)
			err = add_domain(doms[i], ncpus, log, out);
		virDomainFree(doms[i]);
	}
	free(doms);
	if (err) {
		vpwr_lv_snapshot_free(out);
		return err;
	}
	qsort(out->domains, out->nr, sizeof(*out->domains), cmp_domain);
	return 0;
}
