/* SPDX-License-Identifier: MIT */
/*
 * Whether this copy of the library has the libvirt: resolver built in.
 * Compiled twice: with VPWR_LIBVIRT_AS_MODULE for libvpwr.so, which loads
 * it from libvpwr-resolver-libvirt.so on demand, and without for the static
 * archives that link the libvirt objects directly (the unit tests'
 * vpwr_internal, the fuzzers' copy).
 */
#include "resolver_internal.h"

const struct vpwr_resolver_ops *vpwr_resolver_libvirt_builtin(void)
{
#ifdef VPWR_LIBVIRT_AS_MODULE
	return NULL;
#else
	return &vpwr_resolver_libvirt_ops;
#endif
}
