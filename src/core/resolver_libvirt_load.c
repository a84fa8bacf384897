/* SPDX-License-Identifier: MIT */
/*
 * Loading the libvirt: resolver from its module, so that libvpwr.so itself
 * does not link libvirt and libxml2 (and their dependency trees): only a
 * process that opens a libvirt: URI loads them.
 *
 * Where: the module directory the caller names (vpwr_resolver_opts's
 * module_dir), else libvpwr-N/ beside the libvpwr.so this code was loaded
 * from (dladdr()), in the build tree as in any install prefix, with no
 * path compiled in.
 *
 * How: dlopen(RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE).  The handle lives in
 * the resolver and is dlclose()d after it, but the module stays mapped:
 * the resolver hands libvirt function pointers into it (event callbacks
 * and their free callbacks, which libvirt may run from its event loop
 * after a deregistration has returned), and libvirt itself is NODELETE, so
 * unmapping the module would only trade a few pages for a crash.  Nothing
 * is cached here: a second open dlopen()s again (the dynamic linker's
 * reference count does the rest).
 */
#include <dlfcn.h>
#include <limits.h>
#include <link.h>
#include <stdio.h>
#include <sys/stat.h>

#include "resolver_internal.h"
#include "resolver_module.h"

/* DIR/FILE, or libvpwr-N/FILE beside the loaded libvpwr.so. */
static int module_path(const struct vpwr_logger *log, const char *dir,
		       char *buf, size_t len)
{
	char origin[PATH_MAX];
	struct link_map *self = NULL;
	Dl_info info;
	int n;

	if (dir) {
		n = snprintf(buf, len, "%s/%s", dir, VPWR_LIBVIRT_MODULE_FILE);
	} else {
		/* The directory the dynamic loader found libvpwr in, made
		 * absolute when it was loaded (a relative LD_LIBRARY_PATH
		 * entry stays right after a chdir). */
		if (!dladdr1((void *)vpwr_resolver_libvirt_load, &info,
			     (void **)&self, RTLD_DL_LINKMAP) ||
		    !self || dlinfo(self, RTLD_DI_ORIGIN, origin) != 0) {
			log_err(log, "libvirt: cannot tell where libvpwr was "
				"loaded from, so not where its libvirt resolver "
				"module is: set module_dir");
			return -EPROTONOSUPPORT;
		}
		n = snprintf(buf, len, "%s/%s/%s", origin, VPWR_MODULE_SUBDIR,
			     VPWR_LIBVIRT_MODULE_FILE);
	}
	if (n < 0 || (size_t)n >= len) {
		log_err(log, "libvirt: the resolver module's path is too long");
		return -ENAMETOOLONG;
	}
	return 0;
}

int vpwr_resolver_libvirt_load(const struct vpwr_logger *log, const char *dir,
			       void **handle,
			       const struct vpwr_resolver_ops **ops)
{
	vpwr_resolver_module_get_ops_fn *get_ops;
	const struct vpwr_resolver_ops *o = NULL;
	const char *stamp = NULL;
	char path[4096];
	struct stat st;
	void *h;
	int err;

	*handle = NULL;
	*ops = NULL;
	err = module_path(log, dir, path, sizeof(path));
	if (err)
		return err;
	if (stat(path, &st)) {
		log_err(log, "libvirt: no libvirt resolver module at %s (%s): "
			"the libvirt resolver package is not installed",
			path, strerror(errno));
		return -EPROTONOSUPPORT;
	}
	h = dlopen(path, RTLD_NOW | RTLD_LOCAL | RTLD_NODELETE);
	if (!h) {
		log_err(log, "libvirt: cannot load the libvirt resolver module: "
			"%s", dlerror());
		return -EPROTONOSUPPORT;
	}
	get_ops = (vpwr_resolver_module_get_ops_fn *)dlsym(
		h, VPWR_RESOLVER_MODULE_ENTRY);
	if (!get_ops) {
		log_err(log, "libvirt: %s is not a libvpwr resolver module (no "
			"%s)", path, VPWR_RESOLVER_MODULE_ENTRY);
		dlclose(h);
		return -EPROTONOSUPPORT;
	}
	/* Both sides check: an old module may not know how to refuse. */
	err = get_ops(VPWR_MODULE_STAMP, sizeof(struct vpwr_resolver_ops),
		      sizeof(struct vpwr_resolver), &stamp, &o);
	if (err || !o || !stamp || strcmp(stamp, VPWR_MODULE_STAMP) ||
	    !o->scheme || strcmp(o->scheme, "libvirt")) {
		log_err(log, "libvirt: refusing the libvirt resolver module %s: "
			"it is from another libvpwr build (module stamp \"%s\", "
			"library \"%s\"); install the libvirt resolver package "
			"of the same build as libvpwr", path,
			stamp ? stamp : "none", VPWR_MODULE_STAMP);
		dlclose(h);
		return -EPROTONOSUPPORT;
	}
	log_debug(log, "libvirt: resolver module %s (%s)", path, stamp);
	*handle = h;
	*ops = o;
	return 0;
}
