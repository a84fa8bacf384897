/* SPDX-License-Identifier: MIT */
/*
 * SR-IOV virtual functions of Ethernet adapters, found with libpci on
 * <sysfs_root>/bus/pci, for the traffic of a guest whose NIC is a VF:
 * which VF a guest interface is (by PCI address or by MAC), which PF it
 * belongs to and at which index, and whether the host sees it as a netdev
 * (a host driver) or not (vfio-pci: passed through).  Read when a policy
 * is set, never watched.
 */
#ifndef VPWR_PCI_VF_H
#define VPWR_PCI_VF_H

#include <net/if.h>
#include <stdbool.h>
#include <stdint.h>

#include "internal.h"

/* One VF, as sysfs shows it. */
struct pci_vf {
	char addr[VPWR_PCI_ADDR_LEN];    /* the VF: "DDDD:BB:SS.F" */
	char pf_addr[VPWR_PCI_ADDR_LEN]; /* its PF (the physfn link) */
	int index;                 /* N of the PF's virtfnN link; -1: none */
	char pf_ifname[IF_NAMESIZE]; /* the PF's netdev ("" if none) */
	int pf_ifindex;            /* its ifindex from sysfs (0: unknown) */
	char ifname[IF_NAMESIZE];  /* the VF's own netdev: bound to a host
				      driver; "" when passed through */
	uint8_t mac[6];            /* that netdev's address (zero if none) */
};

struct pci_vf_list {
	size_t nr;
	struct pci_vf *vf;
};

/*
 * Every Ethernet VF (class 0x0200 with a physfn link) under
 * <sysfs_root>/bus/pci, through libpci's linux-sysfs method pointed there.
 * libpci's errors never exit nor print: they come back as -EIO with
 * libpci's message in `why`; its warnings go to `log` (debug).  Returns
 * the number of VFs (0 is fine), or -ENOENT (no PCI bus there), -EIO,
 * -ENOMEM, -ENOTSUP (built without libpci).  `out` is emptied first.
 */
int pci_vf_scan(const char *sysfs_root, const struct vpwr_logger *log,
		struct pci_vf_list *out, char *why, size_t len);
void pci_vf_list_free(struct pci_vf_list *l);

/* The VF at PCI address `addr`, or NULL. */
const struct pci_vf *pci_vf_by_addr(const struct pci_vf_list *l,
				    const char *addr);
/* The VF whose own netdev has MAC `mac`, or NULL. */
const struct pci_vf *pci_vf_by_netdev_mac(const struct pci_vf_list *l,
					  const uint8_t mac[6]);

#endif
