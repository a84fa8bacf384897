/* SPDX-License-Identifier: MIT */
/*
 * The contract between libvpwr.so and a resolver module it dlopen()s
 * (libvpwr-N/libvpwr-resolver-libvirt.so): one exported entry point.  A
 * module is built from the same tree as the library and uses its internal
 * structures (struct vpwr_resolver, vpwr_resolver_ops, vpwr_logger), so the
 * two must come from the same build: the entry hands out its ops table only
 * when the library's stamp is its own, and the library checks the module's
 * stamp as well.
 *
 * The entry's name and signature are frozen for every SONAME major: they
 * are the one thing a library and a module of different builds must agree
 * on to tell each other so.  Everything else may change with the stamp.
 */
#ifndef VPWR_RESOLVER_MODULE_H
#define VPWR_RESOLVER_MODULE_H

#include <stddef.h>

#include "vpwr-build/module_stamp.h"

struct vpwr_resolver_ops;

#define VPWR_RESOLVER_MODULE_ENTRY "vpwr_resolver_module_get_ops"

/*
 * `stamp` is the library's VPWR_MODULE_STAMP, `ops_size` its
 * sizeof(struct vpwr_resolver_ops), `resolver_size` its
 * sizeof(struct vpwr_resolver).  Sets *module_stamp to the module's own
 * stamp, always.  If all three match the module's, sets *ops to its table
 * and returns 0; otherwise leaves *ops NULL and returns -EPROTONOSUPPORT.
 */
typedef int vpwr_resolver_module_get_ops_fn(
	const char *stamp, size_t ops_size, size_t resolver_size,
	const char **module_stamp, const struct vpwr_resolver_ops **ops);

#endif
