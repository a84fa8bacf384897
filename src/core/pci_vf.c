/* SPDX-License-Identifier: MIT */
/*
 * Ethernet SR-IOV VFs through libpci (pci_vf.h).  libpci enumerates the
 * functions and their classes; the SR-IOV topology (physfn, virtfnN) and
 * the netdevs are sysfs links and directories libpci does not read, so we
 * read them beside it.
 *
 * libpci's error callback must not return (libpci's own prints and calls
 * exit(1)) and takes no context argument.  We longjmp out of it to the
 * libpci call in progress, found through `pci_guard`, a thread-local
 * pointer set only for the duration of one guarded call and restored
 * after it: the one piece of thread-local state in the library, because
 * libpci's callbacks give us no other way back to our caller.  Nothing
 * persists across calls, and threads do not share it.  With only
 * PCI_FILL_IDENT | PCI_FILL_CLASS asked for, libpci 3.9's linux-sysfs
 * method reads <dev>/vendor, device and class (no config space, resource
 * or irq); its errors then leak nothing except on an entry of devices/
 * whose name does not parse (its directory handle), which we refuse
 * before libpci sees it.
 *
 * libpci (and the libudev it links) is loaded with dlopen() for the one
 * scan and unloaded after it, so that programs that never scan -- every
 * guest -- do not load it: only its header is needed at build time.
 */
#include <dirent.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#ifdef VPWR_WITH_LIBPCI
#include <dlfcn.h>
#include <pci/pci.h>
#endif

#include "pci_vf.h"

#define PCI_CLASS_ETHERNET 0x0200
/* Paths grow from the root by a few names: each buffer has room for the
 * one it extends (sysfs_root is at most ROOT_LEN). */
#define ROOT_LEN 2048
#define PATH_LEN 4096

void pci_vf_list_free(struct pci_vf_list *l)
{
	free(l->vf);
	l->vf = NULL;
	l->nr = 0;
}

const struct pci_vf *pci_vf_by_addr(const struct pci_vf_list *l,
				    const char *addr)
{
	for (size_t i = 0; i < l->nr; i++)
		if (!strcmp(l->vf[i].addr, addr))
			return &l->vf[i];
	return NULL;
}

const struct pci_vf *pci_vf_by_netdev_mac(const struct pci_vf_list *l,
					  const uint8_t mac[6])
{
	for (size_t i = 0; i < l->nr; i++)
		if (l->vf[i].ifname[0] && !memcmp(l->vf[i].mac, mac, 6))
			return &l->vf[i];
	return NULL;
}

#ifdef VPWR_WITH_LIBPCI

/* ------------------------------------------------------ sysfs links */

/* The last component of symlink `path` into buf, "" if it is none. */
static void link_name(const char *path, char *buf, size_t len)
{
	char target[PATH_LEN];
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	const char *base;

	buf[0] = '\0';
	if (n <= 0)
		return;
	target[n] = '\0';
	base = strrchr(target, '/');
	vpwr_strlcpy(buf, base ? base + 1 : target, len);
}

/* A small sysfs file, NUL-terminated; 0 or -errno. */
static int read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	do
		n = read(fd, buf, len - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = '\0';
	return 0;
}

/* The first netdev under <dev>/net into ifname ("" if none). */
static void first_netdev(const char *dev, char ifname[IF_NAMESIZE])
{
	char path[PATH_LEN + 8];
	struct dirent *e;
	DIR *dir;

	ifname[0] = '\0';
	snprintf(path, sizeof(path), "%s/net", dev);
	dir = opendir(path);
	if (!dir)
		return;
	while ((e = readdir(dir))) {
		if (e->d_name[0] != '.' && strlen(e->d_name) < IF_NAMESIZE) {
			vpwr_strlcpy(ifname, e->d_name, IF_NAMESIZE);
			break;
		}
	}
	closedir(dir);
}

/* The N of the PF's virtfnN link that points at `vf`; -1 if none. */
static int virtfn_index(const char *pf_dir, const char *vf)
{
	char path[PATH_LEN + 512], name[64];
	struct dirent *e;
	int index = -1;
	DIR *dir = opendir(pf_dir);

	if (!dir)
		return -1;
	while (index < 0 && (e = readdir(dir))) {
		char *end;
		long n;

		if (strncmp(e->d_name, "virtfn", 6))
			continue;
		n = strtol(e->d_name + 6, &end, 10);
		if (end == e->d_name + 6 || *end || n < 0 || n > 0xffff)
			continue;
		snprintf(path, sizeof(path), "%s/%s", pf_dir, e->d_name);
		link_name(path, name, sizeof(name));
		if (!strcmp(name, vf))
			index = (int)n;
	}
	closedir(dir);
	return index;
}

/* What sysfs says of VF `addr` besides libpci; false if not a VF. */
static bool describe_vf(const char *devices, const char *addr,
			struct pci_vf *vf)
{
	char dir[PATH_LEN], path[PATH_LEN + 64], text[64];

	memset(vf, 0, sizeof(*vf));
	if (strlen(devices) > ROOT_LEN + 32)
		return false;
	vpwr_strlcpy(vf->addr, addr, sizeof(vf->addr));
	snprintf(dir, sizeof(dir), "%s/%s", devices, addr);
	snprintf(path, sizeof(path), "%s/physfn", dir);
	link_name(path, text, sizeof(text));
	if (vpwr_pci_addr_parse(text, vf->pf_addr))
		return false;
	first_netdev(dir, vf->ifname);
	if (vf->ifname[0]) {
		snprintf(path, sizeof(path), "%s/net/%s/address", dir,
			 vf->ifname);
		if (read_text(path, text, sizeof(text)) ||
		    vpwr_mac_parse(text, vf->mac))
			memset(vf->mac, 0, sizeof(vf->mac));
	}
	snprintf(dir, sizeof(dir), "%s/%s", devices, vf->pf_addr);
	vf->index = virtfn_index(dir, addr);
	first_netdev(dir, vf->pf_ifname);
	if (vf->pf_ifname[0]) {
		snprintf(path, sizeof(path), "%s/net/%s/ifindex", dir,
			 vf->pf_ifname);
		if (!read_text(path, text, sizeof(text)))
			vf->pf_ifindex = atoi(text);
	}
	return true;
}

/* ------------------------------------------------------------ libpci */

struct pci_guard {
	jmp_buf env;
	const struct vpwr_logger *log;
	char *why;
	size_t len;
};

static _Thread_local struct pci_guard *pci_guard;

__attribute__((noreturn, format(printf, 1, 2)))
static void pci_on_error(char *msg, ...)
{
	struct pci_guard *g = pci_guard;
	va_list ap;

	va_start(ap, msg);
	vsnprintf(g->why, g->len, msg, ap);
	va_end(ap);
	longjmp(g->env, 1);
}

__attribute__((format(printf, 1, 2)))
static void pci_on_warning(char *msg, ...)
{
	char text[512];
	va_list ap;

	va_start(ap, msg);
	vsnprintf(text, sizeof(text), msg, ap);
	va_end(ap);
	log_debug(pci_guard->log, "libpci: %s", text);
}

static void pci_on_debug(char *msg, ...)
{
	(void)msg; /* asked for only with a->debugging, which we never set */
}

/* Every name under devices/ must be a PCI address: libpci leaks its
 * directory handle when it errors out on one that is not. */
static int check_names(const char *devices, char *why, size_t len)
{
	char addr[VPWR_PCI_ADDR_LEN];
	struct dirent *e;
	DIR *dir = opendir(devices);
	int err = 0;

	if (!dir) {
		err = -errno;
		snprintf(why, len, "cannot open %s: %s", devices,
			 vpwr_strerror(err));
		return err == -ENOENT || err == -ENOTDIR ? -ENOENT : err;
	}
	while (!err && (e = readdir(dir))) {
		if (e->d_name[0] != '.' &&
		    vpwr_pci_addr_parse(e->d_name, addr)) {
			snprintf(why, len, "%s: \"%.40s\" is not a PCI address",
				 devices, e->d_name);
			err = -EIO;
		}
	}
	closedir(dir);
	return err;
}

static int add_vf(struct pci_vf_list *out, const struct pci_vf *vf)
{
	struct pci_vf *grown = realloc(out->vf, (out->nr + 1) * sizeof(*grown));

	if (!grown)
		return -ENOMEM;
	out->vf = grown;
	out->vf[out->nr++] = *vf;
	return 0;
}

/*
 * The guarded part: everything that calls into libpci.  `acc` and `out`
 * live in the caller so that they survive a longjmp.
 */
/* The part of libpci we call, from its shared object. */
struct libpci {
	void *so;
	__typeof__(pci_alloc) *alloc;
	__typeof__(pci_init) *init;
	__typeof__(pci_cleanup) *cleanup;
	__typeof__(pci_scan_bus) *scan_bus;
	__typeof__(pci_fill_info) *fill_info;
	__typeof__(pci_set_param) *set_param;
};

#define LIBPCI_SONAME "libpci.so.3"

static int libpci_open(struct libpci *p, char *why, size_t len)
{
	const char *name = NULL;

	p->so = dlopen(LIBPCI_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!p->so) {
		snprintf(why, len, "cannot load %s: %s", LIBPCI_SONAME,
			 dlerror());
		return -ENOTSUP;
	}
#define SYM(field, sym)                                                        \
	do {                                                                   \
		*(void **)&p->field = dlsym(p->so, #sym);                      \
		if (!p->field && !name)                                        \
			name = #sym;                                           \
	} while (0)
	SYM(alloc, pci_alloc);
	SYM(init, pci_init);
	SYM(cleanup, pci_cleanup);
	SYM(scan_bus, pci_scan_bus);
	SYM(fill_info, pci_fill_info);
	SYM(set_param, pci_set_param);
#undef SYM
	if (name) {
		snprintf(why, len, "%s has no %s", LIBPCI_SONAME, name);
		dlclose(p->so);
		p->so = NULL;
		return -ENOTSUP;
	}
	return 0;
}

static int scan_guarded(const struct libpci *lib, struct pci_access *acc,
			const char *devices, struct pci_vf_list *out)
{
	char addr[VPWR_PCI_ADDR_LEN];
	struct pci_vf vf;
	int err = 0;

	lib->init(acc);
	lib->scan_bus(acc);
	for (struct pci_dev *d = acc->devices; d && !err; d = d->next) {
		lib->fill_info(d, PCI_FILL_IDENT | PCI_FILL_CLASS);
		if (d->device_class != PCI_CLASS_ETHERNET ||
		    vpwr_pci_addr_format(addr, (unsigned long)d->domain, d->bus,
					 d->dev, d->func))
			continue;
		if (describe_vf(devices, addr, &vf))
			err = add_vf(out, &vf);
	}
	return err;
}

int pci_vf_scan(const char *sysfs_root, const struct vpwr_logger *log,
		struct pci_vf_list *out, char *why, size_t len)
{
	struct pci_guard g = { .log = log, .why = why, .len = len };
	struct pci_guard *saved = pci_guard;
	char bus[ROOT_LEN + 16], devices[ROOT_LEN + 32];
	struct pci_access *volatile acc = NULL;
	struct libpci lib;
	volatile int err;

	pci_vf_list_free(out);
	why[0] = '\0';
	if (strlen(sysfs_root) > ROOT_LEN) {
		snprintf(why, len, "sysfs root longer than %d bytes", ROOT_LEN);
		return -ENAMETOOLONG;
	}
	snprintf(bus, sizeof(bus), "%s/bus/pci", sysfs_root);
	snprintf(devices, sizeof(devices), "%s/devices", bus);
	err = check_names(devices, why, len);
	if (err)
		return err;
	err = libpci_open(&lib, why, len);
	if (err)
		return err;
	pci_guard = &g;
	if (setjmp(g.env)) {
		err = -EIO;
	} else {
		acc = lib.alloc();
		if (!acc) {
			err = -ENOMEM;
		} else {
			acc->error = pci_on_error;
			acc->warning = pci_on_warning;
			acc->debug = pci_on_debug;
			/* sysfs only: never probe port I/O or /proc. */
			acc->method = PCI_ACCESS_SYS_BUS_PCI;
			if (lib.set_param(acc, "sysfs.path", bus)) {
				snprintf(why, len, "libpci has no sysfs.path");
				err = -ENOTSUP;
			} else {
				err = scan_guarded(&lib, acc, devices, out);
			}
		}
	}
	if (acc)
		lib.cleanup(acc); /* frees what libpci held when it failed */
	pci_guard = saved;
	dlclose(lib.so);
	if (err < 0) {
		pci_vf_list_free(out);
		return err;
	}
	return (int)out->nr;
}

#else /* !VPWR_WITH_LIBPCI */

int pci_vf_scan(const char *sysfs_root, const struct vpwr_logger *log,
		struct pci_vf_list *out, char *why, size_t len)
{
	(void)sysfs_root, (void)log;
	pci_vf_list_free(out);
	snprintf(why, len, "this libvpwr was built without libpci");
	return -ENOTSUP;
}

#endif
