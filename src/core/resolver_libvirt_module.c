/* SPDX-License-Identifier: MIT */
/*
 * The entry point of libvpwr-resolver-libvirt.so, the libvirt: resolver as
 * a module that libvpwr.so dlopen()s when a libvirt: URI is opened, so that
 * only the programs that use it load libvirt and libxml2.  The module is
 * this entry, the libvirt objects and a copy of the internal helpers they
 * use (util.c); its version script exports the entry alone.  See
 * resolver_module.h for the contract.
 */
#include "resolver_libvirt.h"
#include "resolver_module.h"

__attribute__((visibility("default"))) vpwr_resolver_module_get_ops_fn
	vpwr_resolver_module_get_ops;

int vpwr_resolver_module_get_ops(const char *stamp, size_t ops_size,
				 size_t resolver_size,
				 const char **module_stamp,
				 const struct vpwr_resolver_ops **ops)
{
	if (module_stamp)
		*module_stamp = VPWR_MODULE_STAMP;
	if (!ops)
		return -EINVAL;
	*ops = NULL;
	if (!stamp || strcmp(stamp, VPWR_MODULE_STAMP) ||
	    ops_size != sizeof(struct vpwr_resolver_ops) ||
	    resolver_size != sizeof(struct vpwr_resolver))
		return -EPROTONOSUPPORT;
	*ops = &vpwr_resolver_libvirt_ops;
	return 0;
}
