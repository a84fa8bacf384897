/* SPDX-License-Identifier: MIT */
/*
 * What the libvirt resolver takes from a domain's XML description: the
 * vsock CID, the power-agent channels and the network interfaces (with
 * PCI <hostdev>s, which may be VFs passed without an <interface>).  libxml2 parses it; we walk the
 * few elements we need.  No XPath: its errors go to libxml2's process-wide
 * handler, which prints.  Parser errors are kept off stderr with
 * XML_PARSE_NOERROR and logged through the resolver's logger instead.
 */
#include <limits.h>
#include <stdlib.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "resolver_libvirt.h"

#define CID_MIN 3u                 /* 0-2: hypervisor, local, host */
#define CID_MAX 0xFFFFFFFEu        /* 0xFFFFFFFF is VMADDR_CID_ANY */

/* DPDK's guest agent opens virtio.serial.port.poweragent.<lcore>. */
#define DPDK_PREFIX "virtio.serial.port.poweragent."
#define OUR_PREFIX "org.libvpwr."

bool vpwr_lv_channel_name_ours(const char *name)
{
	size_t n = strlen(DPDK_PREFIX);

	if (!strncmp(name, DPDK_PREFIX, n)) {
		if (!name[n])
			return false;
		for (const char *c = name + n; *c; c++)
			if (*c < '0' || *c > '9')
				return false;
		return true;
	}
	return !strncmp(name, OUR_PREFIX, strlen(OUR_PREFIX)) &&
	       name[strlen(OUR_PREFIX)];
}

static bool is(const xmlNode *n, const char *name)
{
	return n->type == XML_ELEMENT_NODE &&
	       !strcmp((const char *)n->name, name);
}

static const xmlNode *child(const xmlNode *n, const char *name)
{
	for (const xmlNode *c = n->children; c; c = c->next)
		if (is(c, name))
			return c;
	return NULL;
}

/* An attribute as a malloc()ed string (not xmlChar: freed with free()). */
static int attr(const xmlNode *n, const char *name, char **out)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);

	*out = NULL;
	if (!v)
		return 0;
	*out = strdup((const char *)v);
	xmlFree(v);
	return *out ? 0 : -ENOMEM;
}

static bool attr_is(const xmlNode *n, const char *name, const char *want)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
	bool eq = v && !strcmp((const char *)v, want);

	xmlFree(v);
	return eq;
}

static void parse_cid(const xmlNode *vsock, const struct vpwr_logger *log,
		      struct vpwr_lv_domain *d)
{
	const xmlNode *cid = child(vsock, "cid");
	unsigned long long v;
	char *s, *end;

	if (!cid || attr(cid, "address", &s) || !s)
		return;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || s[0] == '-' || v < CID_MIN ||
	    v > CID_MAX)
		log_warn(log, "libvirt: domain \"%s\": vsock CID \"%.20s\" is "
			 "not in %u..%u: ignored", d->name, s, CID_MIN,
			 CID_MAX);
	else
		d->cid = (uint32_t)v;
	free(s);
}

/* One <channel>: appended to d->channels if it is ours. */
static int parse_channel(const xmlNode *ch, const struct vpwr_logger *log,
			 struct vpwr_lv_domain *d)
{
	const xmlNode *target = child(ch, "target");
	const xmlNode *source = child(ch, "source");
	struct vpwr_lv_channel c = { 0 }, *grown;
	char *mode = NULL;
	int err;

	if (!attr_is(ch, "type", "unix") || !target ||
	    !attr_is(target, "type", "virtio"))
		return 0;
	err = attr(target, "name", &c.target_name);
	if (err || !c.target_name || !vpwr_lv_channel_name_ours(c.target_name))
		goto out;
	if (source)
		err = attr(source, "path", &c.path);
	if (err)
		goto out;
	if (!c.path || !*c.path) {
		/* A shut-off domain's bind-mode channel gets its path only
		 * when libvirt starts it. */
		log_debug(log, "libvirt: domain \"%s\": channel \"%s\" has no "
			  "path yet", d->name, c.target_name);
		goto out;
	}
	err = attr(source, "mode", &mode);
	if (err)
		goto out;
	/* libvirt's default for a unix source is connect. */
	c.source_mode = mode && !strcmp(mode, "bind")
				? VPWR_CHANNEL_SOURCE_BIND
				: VPWR_CHANNEL_SOURCE_CONNECT;
	/* Whether a guest process has the port open: libvirt keeps it in
	 * the live XML from QEMU's VSERPORT_CHANGE events; a config has
	 * none worth reading. */
	c.guest_open = -1;
	if (d->running && attr_is(target, "state", "connected"))
		c.guest_open = 1;
	else if (d->running && attr_is(target, "state", "disconnected"))
		c.guest_open = 0;
	grown = realloc(d->channels, (d->nr_channels + 1) * sizeof(*grown));
	if (!grown) {
		err = -ENOMEM;
		goto out;
	}
	d->channels = grown;
	d->channels[d->nr_channels++] = c;
	c.path = c.target_name = NULL;
out:
	free(mode);
	free(c.path);
	free(c.target_name);
	return err;
}

/*
 * A <source><address> of a PCI device as "DDDD:BB:SS.F" into *out (NULL
 * when there is none, or a bad one: logged).  libvirt writes the numbers
 * as 0x-prefixed hex; a missing domain is 0.
 */
static int parse_pci_source(const xmlNode *dev, const char *what,
			    const struct vpwr_logger *log,
			    const struct vpwr_lv_domain *d, char **out)
{
	static const char *const names[4] = { "domain", "bus", "slot",
					       "function" };
	const xmlNode *source = child(dev, "source");
	const xmlNode *addr = source ? child(source, "address") : NULL;
	char buf[VPWR_PCI_ADDR_LEN];
	unsigned long v[4] = { 0 };

	*out = NULL;
	if (!addr)
		return 0;
	for (int i = 0; i < 4; i++) {
		char *s, *end;
		int err = attr(addr, names[i], &s);

		if (err)
			return err;
		if (!s && i == 0)
			continue;
		errno = 0;
		v[i] = s ? strtoul(s, &end, 0) : 0;
		if (!s || errno || end == s || *end || s[0] == '-') {
			log_warn(log, "libvirt: domain \"%s\": %s: PCI address "
				 "%s \"%.20s\" is not a number: ignored",
				 d->name, what, names[i], s ? s : "(none)");
			free(s);
			return 0;
		}
		free(s);
	}
	if (vpwr_pci_addr_format(buf, v[0], v[1], v[2], v[3])) {
		log_warn(log, "libvirt: domain \"%s\": %s: PCI address "
			 "%lx:%lx:%lx.%lx out of range: ignored", d->name, what,
			 v[0], v[1], v[2], v[3]);
		return 0;
	}
	*out = strdup(buf);
	return *out ? 0 : -ENOMEM;
}

static int add_interface(struct vpwr_lv_domain *d,
			 struct vpwr_lv_interface *ifc)
{
	struct vpwr_lv_interface *grown =
		realloc(d->interfaces, (d->nr_interfaces + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	d->interfaces = grown;
	d->interfaces[d->nr_interfaces++] = *ifc;
	memset(ifc, 0, sizeof(*ifc));
	return 0;
}

static void interface_clear(struct vpwr_lv_interface *ifc)
{
	free(ifc->type);
	free(ifc->target_dev);
	free(ifc->pci_addr);
	memset(ifc, 0, sizeof(*ifc));
}

/* One <interface>. */
static int parse_interface(const xmlNode *n, const struct vpwr_logger *log,
			   struct vpwr_lv_domain *d)
{
	const xmlNode *mac = child(n, "mac"), *target = child(n, "target");
	struct vpwr_lv_interface ifc = { 0 };
	char *s = NULL;
	int err = attr(n, "type", &ifc.type);

	if (!err && mac)
		err = attr(mac, "address", &s);
	if (s && vpwr_mac_parse(s, ifc.mac))
		log_warn(log, "libvirt: domain \"%s\": interface MAC \"%.20s\" "
			 "does not parse: ignored", d->name, s);
	free(s);
	/* A shut-off domain's <target dev> is a wish at most (libvirt drops
	 * generated names): only a live one names a netdev. */
	if (!err && target && d->running)
		err = attr(target, "dev", &ifc.target_dev);
	if (!err && ifc.type && !strcmp(ifc.type, "hostdev"))
		err = parse_pci_source(n, "interface", log, d, &ifc.pci_addr);
	if (!err)
		err = add_interface(d, &ifc);
	interface_clear(&ifc);
	return err;
}

/* A <hostdev mode='subsystem' type='pci'>, unless an <interface
 * type='hostdev'> already stands for it. */
static int parse_hostdev(const xmlNode *n, const struct vpwr_logger *log,
			 struct vpwr_lv_domain *d)
{
	struct vpwr_lv_interface ifc = { 0 };
	int err;

	if (!attr_is(n, "mode", "subsystem") || !attr_is(n, "type", "pci"))
		return 0;
	err = parse_pci_source(n, "hostdev", log, d, &ifc.pci_addr);
	if (err || !ifc.pci_addr)
		return err;
	for (size_t i = 0; i < d->nr_interfaces; i++) {
		const char *a = d->interfaces[i].pci_addr;

		if (a && !strcmp(a, ifc.pci_addr)) {
			interface_clear(&ifc);
			return 0;
		}
	}
	ifc.type = strdup("hostdev");
	err = ifc.type ? add_interface(d, &ifc) : -ENOMEM;
	interface_clear(&ifc);
	return err;
}

static int walk_devices(const xmlNode *devices, const struct vpwr_logger *log,
			struct vpwr_lv_domain *d)
{
	for (const xmlNode *n = devices->children; n; n = n->next) {
		int err = 0;

		if (is(n, "vsock") && !d->cid)
			parse_cid(n, log, d);
		else if (is(n, "channel"))
			err = parse_channel(n, log, d);
		else if (is(n, "interface"))
			err = parse_interface(n, log, d);
		if (err)
			return err;
	}
	/* After every <interface>, whatever the order of the elements. */
	for (const xmlNode *n = devices->children; n; n = n->next) {
		int err = is(n, "hostdev") ? parse_hostdev(n, log, d) : 0;

		if (err)
			return err;
	}
	return 0;
}

int vpwr_lv_parse_domain_xml(const char *xml, const struct vpwr_logger *log,
			     struct vpwr_lv_domain *d)
{
	xmlParserCtxtPtr ctxt;
	const xmlNode *root, *devices;
	xmlDocPtr doc;
	size_t len = strlen(xml);
	int err = 0;

	if (len > INT_MAX)
		return -VPWR_E_CONFIG;
	/* Idempotent and thread-safe; libxml2 asks for it in threaded
	 * programs.  Its counterpart xmlCleanupParser() is the application's
	 * to call, never a library's. */
	xmlInitParser();
	ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return -ENOMEM;
	doc = xmlCtxtReadMemory(ctxt, xml, (int)len, "domain.xml", NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR |
					XML_PARSE_NOWARNING);
	if (!doc) {
		const xmlError *e = xmlCtxtGetLastError(ctxt);
		const char *msg = e && e->message ? e->message : "?";

		/* libxml2's messages end with a newline; ours do not. */
		log_err(log, "libvirt: domain \"%s\": XML description does "
			"not parse: line %d: %.*s", d->name, e ? e->line : 0,
			(int)strcspn(msg, "\n"), msg);
		err = e && e->code == XML_ERR_NO_MEMORY ? -ENOMEM
							: -VPWR_E_CONFIG;
		goto out;
	}
	root = xmlDocGetRootElement(doc);
	if (!root || !is(root, "domain")) {
		log_err(log, "libvirt: domain \"%s\": XML description is not "
			"a <domain>", d->name);
		err = -VPWR_E_CONFIG;
		goto out;
	}
	devices = child(root, "devices");
	if (devices)
		err = walk_devices(devices, log, d);
out:
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctxt);
	return err;
}
