/*
 * A libvirt resolver module from "another build", for
 * check_resolver_libvirt_module.c and the install test: the right entry
 * point and file name, a stamp no libvpwr has, and none of the module's own
 * caution (it hands out its table whatever the library's stamp), so that
 * the library's check is the one that must refuse it.  Its table is never
 * to be called.
 */
#include <stddef.h>

struct vpwr_resolver_ops;

/* Shaped like the start of struct vpwr_resolver_ops: a scheme name. */
static const struct {
	const char *scheme;
	void *fns[16];
} bogus_ops = { "libvirt", { 0 } };

__attribute__((visibility("default"))) int
vpwr_resolver_module_get_ops(const char *stamp, size_t ops_size,
			     size_t resolver_size, const char **module_stamp,
			     const struct vpwr_resolver_ops **ops);

int vpwr_resolver_module_get_ops(const char *stamp, size_t ops_size,
				 size_t resolver_size,
				 const char **module_stamp,
				 const struct vpwr_resolver_ops **ops)
{
	(void)stamp, (void)ops_size, (void)resolver_size;
	*module_stamp = "libvpwr 0.0.0 bogus";
	*ops = (const struct vpwr_resolver_ops *)&bogus_ops;
	return 0;
}
