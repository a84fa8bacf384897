/* SPDX-License-Identifier: MIT */
/*
 * The "static:PATH" resolver: vCPU pinning read once from a JSON file,
 *
 *   { "domains": { "vm1": { "vcpus": ["2", "3", "4-5", 7], "cid": 3,
 *       "interfaces": [ { "mac": "52:54:00:12:34:56", "dev": "tap0" },
 *                       { "mac": "52:54:00:aa:bb:cc",
 *                         "pci": "0000:03:10.1", "type": "hostdev" } ]
 *   } } }
 *
 * where element i of "vcpus" is the cpulist (or CPU number) vCPU i may run
 * on, the optional "cid" is the domain's vsock CID, and the optional
 * "interfaces" are its network interfaces: each has a "mac" (unicast, not
 * all zero), a "pci" address "DDDD:BB:SS.F" (a VF passed through), or
 * both, and optionally "dev" (its host netdev: a tap, a macvtap) and
 * "type" (free text, reported as libvirt's interface type).  A domain
 * without "interfaces" does not say (foreach_interface: -ENOTSUP).  The file is
 * checked strictly: anything unexpected, unknown keys included, refuses the
 * whole file with a message naming the file, the domain and the element,
 * because a typo that silently unpins a VM is worse than a daemon that does
 * not start.
 */
#include <fcntl.h>
#include <jansson.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "resolver_internal.h"

#define CID_MIN 3u                 /* 0-2 are the hypervisor, local, host */
#define CID_LOCAL 1u               /* allowed: this machine's own peers over
				      vsock_loopback, for tests */
#define CID_MAX 0xFFFFFFFEu        /* VMADDR_CID_ANY is 0xFFFFFFFF */

#define TYPE_MAX 32                /* "type" of an interface, with NUL */
#define INTERFACES_MAX 64          /* per domain */

struct static_interface {
	uint8_t mac[6];            /* all zero: none given */
	char dev[IF_NAMESIZE];     /* "": none */
	char pci[VPWR_PCI_ADDR_LEN]; /* "": none */
	char type[TYPE_MAX];       /* "": none */
};

struct static_domain {
	char name[VPWR_RESOLVER_NAME_MAX + 1];
	uint32_t cid;              /* 0: none given */
	unsigned nr_vcpus;
	struct vpwr_cpuset *vcpus;
	bool has_interfaces;       /* "interfaces" given (maybe empty) */
	size_t nr_interfaces;
	struct static_interface *interfaces;
};

struct static_pins {
	size_t nr;
	struct static_domain *domains; /* sorted by name */
};

/* Context for the messages of one file being parsed. */
struct parse {
	const struct vpwr_logger *log;
	const char *path;
	const char *domain;
};

#define perr(p, fmt, ...)                                                      \
	log_err((p)->log, "%s: domain \"%s\": " fmt, (p)->path, (p)->domain,   \
		__VA_ARGS__)

/*
 * Open it ourselves rather than with json_load_file(): that gives the real
 * errno (ENOENT vs EACCES), O_CLOEXEC for a library inside a daemon, and a
 * refusal of FIFOs and directories instead of a hang or an odd error.
 */
static int load_json(const struct vpwr_logger *log, const char *path,
		     json_t **out)
{
	json_error_t jerr;
	struct stat st;
	FILE *f;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0) {
		int err = -errno;

		log_err(log, "%s: cannot open: %s", path, vpwr_strerror(err));
		return err;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		log_err(log, "%s: not a regular file", path);
		close(fd);
		return -VPWR_E_CONFIG;
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	*out = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (!*out) {
		if (json_error_code(&jerr) == json_error_out_of_memory)
			return -ENOMEM;
		log_err(log, "%s:%d:%d: %s", path, jerr.line, jerr.column,
			jerr.text);
		return -VPWR_E_CONFIG;
	}
	return 0;
}

static int check_name(const struct parse *p, const char *name)
{
	size_t len = strlen(name);

	if (!len) {
		log_err(p->log, "%s: a domain name is empty", p->path);
		return -VPWR_E_CONFIG;
	}
	if (len > VPWR_RESOLVER_NAME_MAX) {
		log_err(p->log, "%s: domain \"%.40s...\": name is %zu bytes, "
			"longer than %d", p->path, name, len,
			VPWR_RESOLVER_NAME_MAX);
		return -VPWR_E_CONFIG;
	}
	for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
		/* They end up in logs and events: keep them printable. */
		if (*c < 0x20 || *c == 0x7f) {
			log_err(p->log, "%s: domain name with a control "
				"character (byte %zu)", p->path,
				(size_t)(c - (const unsigned char *)name));
			return -VPWR_E_CONFIG;
		}
	}
	return 0;
}

static int parse_cid(const struct parse *p, const json_t *v, uint32_t *cid)
{
	json_int_t n;

	if (!v)
		return 0;
	n = json_is_integer(v) ? json_integer_value(v) : -1;
	if ((n < (json_int_t)CID_MIN && n != (json_int_t)CID_LOCAL) ||
	    n > (json_int_t)CID_MAX) {
		perr(p, "\"cid\" must be %u (vsock_loopback) or an integer "
		     "in %u..%u", CID_LOCAL, CID_MIN, CID_MAX);
		return -VPWR_E_CONFIG;
	}
	*cid = (uint32_t)n;
	return 0;
}

static int parse_vcpu(const struct parse *p, size_t i, const json_t *v,
		      struct vpwr_cpuset *set)
{
	if (json_is_string(v)) {
		if (vpwr_cpuset_parse(set, json_string_value(v))) {
			perr(p, "vcpus[%zu]: bad cpulist \"%.64s\"", i,
			     json_string_value(v));
			return -VPWR_E_CONFIG;
		}
		return 0;
	}
	if (json_is_integer(v)) {
		json_int_t cpu = json_integer_value(v);

		if (cpu < 0 || cpu >= VPWR_MAX_CPUS) {
			perr(p, "vcpus[%zu]: CPU %lld outside 0..%d", i,
			     (long long)cpu, VPWR_MAX_CPUS - 1);
			return -VPWR_E_CONFIG;
		}
		vpwr_cpuset_zero(set);
		vpwr_cpuset_set(set, (unsigned)cpu);
		return 0;
	}
	perr(p, "vcpus[%zu] is neither a cpulist string nor a CPU number", i);
	return -VPWR_E_CONFIG;
}

static int parse_vcpus(const struct parse *p, const json_t *v,
		       struct static_domain *d)
{
	size_t n = json_array_size(v);

	if (!v) {
		perr(p, "%s", "no \"vcpus\" array");
		return -VPWR_E_CONFIG;
	}
	if (!json_is_array(v)) {
		perr(p, "%s", "\"vcpus\" must be an array");
		return -VPWR_E_CONFIG;
	}
	if (!n || n > VPWR_MAX_CPUS) {
		perr(p, "\"vcpus\" has %zu entries, needs 1..%d", n,
		     VPWR_MAX_CPUS);
		return -VPWR_E_CONFIG;
	}
	d->vcpus = calloc(n, sizeof(*d->vcpus));
	if (!d->vcpus)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int err = parse_vcpu(p, i, json_array_get(v, i), &d->vcpus[i]);

		if (err)
			return err;
	}
	d->nr_vcpus = (unsigned)n;
	return 0;
}

static bool mac_zero(const uint8_t mac[6])
{
	static const uint8_t zero[6];

	return !memcmp(mac, zero, 6);
}

/* A string member of interfaces[i], NULL if absent; logs a non-string. */
static int member_string(const struct parse *p, size_t i, const json_t *ifc,
			 const char *key, const char **out)
{
	const json_t *v = json_object_get(ifc, key);

	*out = NULL;
	if (!v)
		return 0;
	if (!json_is_string(v)) {
		perr(p, "interfaces[%zu]: \"%s\" must be a string", i, key);
		return -VPWR_E_CONFIG;
	}
	*out = json_string_value(v);
	return 0;
}

/* A Linux interface name: 1..15 bytes, no '/', ':' or white space, not
 * "." or "..", as dev_valid_name() wants. */
static bool ifname_valid(const char *s)
{
	size_t len = strlen(s);

	if (!len || len >= IF_NAMESIZE || !strcmp(s, ".") || !strcmp(s, ".."))
		return false;
	for (; *s; s++)
		if (*s == '/' || *s == ':' || (unsigned char)*s <= ' ' ||
		    *s == 0x7f)
			return false;
	return true;
}

static int parse_interface(const struct parse *p, size_t i, const json_t *v,
			   struct static_interface *ifc)
{
	const char *key, *mac, *dev, *pci, *type;
	json_t *val;
	int err;

	if (!json_is_object(v)) {
		perr(p, "interfaces[%zu] must be an object", i);
		return -VPWR_E_CONFIG;
	}
	json_object_foreach((json_t *)v, key, val) {
		if (strcmp(key, "mac") && strcmp(key, "dev") &&
		    strcmp(key, "pci") && strcmp(key, "type")) {
			perr(p, "interfaces[%zu]: unknown key \"%.64s\" (expected "
			     "\"mac\", \"dev\", \"pci\" or \"type\")", i, key);
			return -VPWR_E_CONFIG;
		}
	}
	err = member_string(p, i, v, "mac", &mac);
	if (!err)
		err = member_string(p, i, v, "dev", &dev);
	if (!err)
		err = member_string(p, i, v, "pci", &pci);
	if (!err)
		err = member_string(p, i, v, "type", &type);
	if (err)
		return err;
	if (!mac && !pci) {
		perr(p, "interfaces[%zu] needs a \"mac\" or a \"pci\" address "
		     "(or both)", i);
		return -VPWR_E_CONFIG;
	}
	if (mac && (vpwr_mac_parse(mac, ifc->mac) || strchr(mac, '\n') ||
		    mac_zero(ifc->mac) || (ifc->mac[0] & 1))) {
		perr(p, "interfaces[%zu]: \"mac\" \"%.32s\" is not a unicast "
		     "MAC address aa:bb:cc:dd:ee:ff", i, mac);
		return -VPWR_E_CONFIG;
	}
	if (pci && vpwr_pci_addr_parse(pci, ifc->pci)) {
		perr(p, "interfaces[%zu]: \"pci\" \"%.32s\" is not a PCI "
		     "address DDDD:BB:SS.F (slot up to 1f, function up to 7)",
		     i, pci);
		return -VPWR_E_CONFIG;
	}
	if (dev && !ifname_valid(dev)) {
		perr(p, "interfaces[%zu]: \"dev\" \"%.32s\" is not an interface "
		     "name (1 to %d bytes, no '/', ':' or spaces)", i, dev,
		     IF_NAMESIZE - 1);
		return -VPWR_E_CONFIG;
	}
	if (dev)
		vpwr_strlcpy(ifc->dev, dev, sizeof(ifc->dev));
	if (type && (!*type || strlen(type) >= TYPE_MAX)) {
		perr(p, "interfaces[%zu]: \"type\" must be 1 to %d bytes", i,
		     TYPE_MAX - 1);
		return -VPWR_E_CONFIG;
	}
	if (type)
		vpwr_strlcpy(ifc->type, type, sizeof(ifc->type));
	return 0;
}

/* The same MAC, device or PCI function twice in one domain is a typo. */
static int check_duplicates(const struct parse *p,
			    const struct static_domain *d, size_t i)
{
	const struct static_interface *a = &d->interfaces[i];

	for (size_t j = 0; j < i; j++) {
		const struct static_interface *b = &d->interfaces[j];
		const char *what = NULL;

		if (!mac_zero(a->mac) && !memcmp(a->mac, b->mac, 6))
			what = "\"mac\"";
		else if (a->dev[0] && !strcmp(a->dev, b->dev))
			what = "\"dev\"";
		else if (a->pci[0] && !strcmp(a->pci, b->pci))
			what = "\"pci\"";
		if (what) {
			perr(p, "interfaces[%zu] has the %s of interfaces[%zu]",
			     i, what, j);
			return -VPWR_E_CONFIG;
		}
	}
	return 0;
}

static int parse_interfaces(const struct parse *p, const json_t *v,
			    struct static_domain *d)
{
	size_t n = json_array_size(v);

	if (!v)
		return 0;
	if (!json_is_array(v)) {
		perr(p, "%s", "\"interfaces\" must be an array");
		return -VPWR_E_CONFIG;
	}
	if (n > INTERFACES_MAX) {
		perr(p, "\"interfaces\" has %zu entries, at most %d", n,
		     INTERFACES_MAX);
		return -VPWR_E_CONFIG;
	}
	d->has_interfaces = true;
	d->interfaces = calloc(n + 1, sizeof(*d->interfaces));
	if (!d->interfaces)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int err = parse_interface(p, i, json_array_get(v, i),
					  &d->interfaces[i]);

		if (!err)
			err = check_duplicates(p, d, i);
		if (err)
			return err;
		d->nr_interfaces++;
	}
	return 0;
}

static int parse_domain(struct parse *p, const char *name, json_t *v,
			struct static_domain *d)
{
	const char *key;
	json_t *val;
	int err = check_name(p, name);

	if (err)
		return err;
	p->domain = name;
	vpwr_strlcpy(d->name, name, sizeof(d->name));
	if (!json_is_object(v)) {
		perr(p, "%s", "must be an object");
		return -VPWR_E_CONFIG;
	}
	json_object_foreach(v, key, val) {
		if (strcmp(key, "vcpus") && strcmp(key, "cid") &&
		    strcmp(key, "interfaces")) {
			perr(p, "unknown key \"%.64s\" (expected \"vcpus\", "
			     "\"cid\" or \"interfaces\")", key);
			return -VPWR_E_CONFIG;
		}
	}
	err = parse_cid(p, json_object_get(v, "cid"), &d->cid);
	if (!err)
		err = parse_vcpus(p, json_object_get(v, "vcpus"), d);
	return err ? err
		   : parse_interfaces(p, json_object_get(v, "interfaces"), d);
}

static int parse_root(struct parse *p, json_t *root, struct static_pins *pins)
{
	json_t *domains, *val;
	const char *key;

	if (!json_is_object(root)) {
		log_err(p->log, "%s: the top level must be an object",
			p->path);
		return -VPWR_E_CONFIG;
	}
	json_object_foreach(root, key, val) {
		if (strcmp(key, "domains")) {
			log_err(p->log, "%s: unknown key \"%.64s\" at the top "
				"level (expected \"domains\")", p->path, key);
			return -VPWR_E_CONFIG;
		}
	}
	domains = json_object_get(root, "domains");
	if (!json_is_object(domains)) {
		log_err(p->log, "%s: %s", p->path,
			domains ? "\"domains\" must be an object"
				: "no \"domains\" object");
		return -VPWR_E_CONFIG;
	}
	pins->domains = calloc(json_object_size(domains) + 1,
			       sizeof(*pins->domains));
	if (!pins->domains)
		return -ENOMEM;
	json_object_foreach(domains, key, val) {
		/* Counted first so that free() sees a half-parsed domain. */
		int err = parse_domain(p, key, val, &pins->domains[pins->nr++]);

		if (err)
			return err;
	}
	return 0;
}

static int cmp_domain(const void *a, const void *b)
{
	return strcmp(((const struct static_domain *)a)->name,
		      ((const struct static_domain *)b)->name);
}

static void static_free(struct vpwr_resolver *r)
{
	struct static_pins *pins = r->priv;

	if (!pins)
		return;
	for (size_t i = 0; i < pins->nr; i++) {
		free(pins->domains[i].vcpus);
		free(pins->domains[i].interfaces);
	}
	free(pins->domains);
	free(pins);
	r->priv = NULL;
}

static int static_open(struct vpwr_resolver *r, const char *path)
{
	struct parse p = { .log = &r->log, .path = path };
	struct static_pins *pins;
	json_t *root;
	int err;

	if (!*path) {
		log_err(&r->log, "static resolver: no file name after "
			"\"static:\"");
		return -EINVAL;
	}
	err = load_json(&r->log, path, &root);
	if (err)
		return err;
	pins = calloc(1, sizeof(*pins));
	if (!pins) {
		json_decref(root);
		return -ENOMEM;
	}
	r->priv = pins;
	err = parse_root(&p, root, pins);
	json_decref(root);
	if (err)
		return err;
	qsort(pins->domains, pins->nr, sizeof(*pins->domains), cmp_domain);
	log_info(&r->log, "%s: %zu domains", path, pins->nr);
	return 0;
}

static const struct static_domain *find(struct vpwr_resolver *r,
					const char *name)
{
	const struct static_pins *pins = r->priv;
	struct static_domain key;

	if (strlen(name) > VPWR_RESOLVER_NAME_MAX)
		return NULL;
	vpwr_strlcpy(key.name, name, sizeof(key.name));
	return bsearch(&key, pins->domains, pins->nr, sizeof(*pins->domains),
		       cmp_domain);
}

static int static_nr_vcpus(struct vpwr_resolver *r, const char *domain)
{
	const struct static_domain *d = find(r, domain);

	return d ? (int)d->nr_vcpus : -VPWR_E_NO_DOMAIN;
}

static int static_lookup(struct vpwr_resolver *r, const char *domain,
			 unsigned vcpu, struct vpwr_cpuset *pcpus)
{
	const struct static_domain *d = find(r, domain);

	if (!d)
		return -VPWR_E_NO_DOMAIN;
	if (vcpu >= d->nr_vcpus)
		return -VPWR_E_VCPU_RANGE;
	if (!vpwr_cpuset_count(&d->vcpus[vcpu]))
		return -VPWR_E_NOT_PINNED;
	*pcpus = d->vcpus[vcpu];
	return 0;
}

static int static_foreach_domain(struct vpwr_resolver *r,
				 void (*fn)(const char *domain, void *userdata),
				 void *userdata)
{
	const struct static_pins *pins = r->priv;

	for (size_t i = 0; i < pins->nr; i++)
		fn(pins->domains[i].name, userdata);
	return (int)pins->nr;
}

static int static_domain_cid(struct vpwr_resolver *r, const char *domain,
			     uint32_t *cid)
{
	const struct static_domain *d = find(r, domain);

	if (!d)
		return -VPWR_E_NO_DOMAIN;
	if (!d->cid)
		return -ENOENT;
	*cid = d->cid;
	return 0;
}

/* Report d's interfaces; *count grows.  Returns fn's non-zero value. */
static int report_interfaces(const struct static_domain *d,
			     int (*fn)(const struct vpwr_resolver_interface *,
				       void *userdata),
			     void *userdata, int *count)
{
	for (size_t i = 0; i < d->nr_interfaces; i++) {
		const struct static_interface *si = &d->interfaces[i];
		struct vpwr_resolver_interface ifc = {
			.sz = sizeof(ifc),
			.domain = d->name,
			.type = si->type[0] ? si->type : NULL,
			.target_dev = si->dev[0] ? si->dev : NULL,
			.pci_addr = si->pci[0] ? si->pci : NULL,
			.running = 1,
		};
		int rc;

		memcpy(ifc.mac, si->mac, sizeof(ifc.mac));
		rc = fn(&ifc, userdata);
		if (rc)
			return rc;
		(*count)++;
	}
	return 0;
}

/* domain NULL: every domain that lists its interfaces (-ENOTSUP if none
 * does). */
static int static_foreach_interface(
	struct vpwr_resolver *r, const char *domain,
	int (*fn)(const struct vpwr_resolver_interface *ifc, void *userdata),
	void *userdata)
{
	const struct static_pins *pins = r->priv;
	bool any = false;
	int count = 0, rc = 0;

	if (domain) {
		const struct static_domain *d = find(r, domain);

		if (!d)
			return -VPWR_E_NO_DOMAIN;
		if (!d->has_interfaces)
			return -ENOTSUP;
		rc = report_interfaces(d, fn, userdata, &count);
		return rc ? rc : count;
	}
	for (size_t i = 0; !rc && i < pins->nr; i++) {
		any |= pins->domains[i].has_interfaces;
		rc = report_interfaces(&pins->domains[i], fn, userdata, &count);
	}
	return rc ? rc : any ? count : -ENOTSUP;
}

const struct vpwr_resolver_ops vpwr_resolver_static_ops = {
	.scheme = "static",
	.open = static_open,
	.free = static_free,
	.nr_vcpus = static_nr_vcpus,
	.lookup = static_lookup,
	.foreach_domain = static_foreach_domain,
	.domain_cid = static_domain_cid,
	.foreach_interface = static_foreach_interface,
	/* A file read once changes never: no change_fd/refresh. */
};
