/* SPDX-License-Identifier: MIT */
/*
 * The "libvirt:URI" resolver's pieces, shared by its three files:
 *   resolver_libvirt.c       the connection, libvirt events, the ops table
 *   resolver_libvirt_read.c  one snapshot of every domain, read from libvirt
 *   resolver_libvirt_xml.c   what a domain's XML says (vsock CID, channels,
 *                            interfaces)
 * and two entry points the unit tests use.  Never installed: libvirt types
 * stay out of the public headers.
 */
#ifndef VPWR_RESOLVER_LIBVIRT_H
#define VPWR_RESOLVER_LIBVIRT_H

#include <libvirt/libvirt.h>

#include "resolver_internal.h"

/* A <channel type='unix'> of a domain whose virtio target is ours. */
struct vpwr_lv_channel {
	char *path;
	char *target_name;
	int source_mode;           /* enum vpwr_channel_source_mode */
	int guest_open;            /* live <target state=...>: 1 connected,
				    * 0 disconnected, -1 not said */
};

/* An <interface>, or a PCI <hostdev> (mac all zero, type "hostdev"). */
struct vpwr_lv_interface {
	uint8_t mac[6];
	char *type;
	char *target_dev;          /* live only; NULL if none */
	char *pci_addr;            /* "DDDD:BB:SS.F"; NULL if none */
};

/* What the resolver knows of one domain. */
struct vpwr_lv_domain {
	char name[VPWR_RESOLVER_NAME_MAX + 1];
	bool running;              /* read from the live definition */
	unsigned nr_vcpus;         /* current (online) vCPUs */
	struct vpwr_cpuset *pins;  /* nr_vcpus entries; empty: not pinned */
	uint32_t cid;              /* 0: no vsock CID */
	size_t nr_channels;
	struct vpwr_lv_channel *channels;
	size_t nr_interfaces;
	struct vpwr_lv_interface *interfaces;
};

/* Every domain at one moment, sorted by name. */
struct vpwr_lv_snapshot {
	size_t nr;
	struct vpwr_lv_domain *domains;
};

/* ---- resolver_libvirt_read.c ------------------------------------- */

/*
 * Read every defined domain of `conn` into `out` (emptied first).  Domains
 * that vanish while being read are left out.  Returns 0 or a negative
 * error; on error `out` is empty and the reason is logged.
 */
int vpwr_lv_snapshot_read(virConnectPtr conn, const struct vpwr_logger *log,
			  struct vpwr_lv_snapshot *out);
void vpwr_lv_snapshot_free(struct vpwr_lv_snapshot *s);
bool vpwr_lv_snapshot_equal(const struct vpwr_lv_snapshot *a,
			    const struct vpwr_lv_snapshot *b);
const struct vpwr_lv_domain *
vpwr_lv_snapshot_find(const struct vpwr_lv_snapshot *s, const char *name);

/*
 * The error libvirt left on this thread as a -errno / -VPWR_E_* code.
 * `fallback` is what an error without a better match becomes.
 */
int vpwr_lv_error_code(int fallback);
/* libvirt's message for that error ("no error" if none). */
const char *vpwr_lv_error_message(void);

/* ---- resolver_libvirt_xml.c -------------------------------------- */

/*
 * Fill d->cid, d->channels and d->interfaces from a domain's XML
 * description (d->name and d->running are set: the messages, and whether
 * <target dev> and a channel's <target state> are live).  Returns 0, -ENOMEM, or -VPWR_E_CONFIG (XML that does not
 * parse; logged).
 */
int vpwr_lv_parse_domain_xml(const char *xml, const struct vpwr_logger *log,
			     struct vpwr_lv_domain *d);
/* Is `name` a power-agent channel target we report? */
bool vpwr_lv_channel_name_ours(const char *name);

/* ---- test entry points (resolver_libvirt.c; not exported) ---------- */

/*
 * A libvirt resolver on a connection the caller already holds (it takes a
 * reference of its own, virConnectRef).  The test:/// driver gives every
 * connection a private copy of its state, so a test that changes pinning
 * must do it on the connection the resolver reads.  A reconnection (see
 * refresh) opens a fresh read-only connection to the same URI.
 */
int vpwr_resolver_libvirt_adopt(virConnectPtr conn,
				const struct vpwr_resolver_opts *opts,
				struct vpwr_resolver **out);

/*
 * What the libvirt close callback does when the connection drops: mark
 * it lost and wake the change fd.  Thread-safe.
 */
void vpwr_resolver_libvirt_connection_lost(struct vpwr_resolver *r);

#endif
