/* SPDX-License-Identifier: MIT */
/*
 * Resolvers map a domain's vCPUs to the physical CPUs they run on.
 *
 *   static:/etc/vpwr/pins.json   a JSON file:
 *       { "domains": { "vm1": { "vcpus": ["2", "3", "4-5"] } } }
 *     element i of "vcpus" is the cpulist vCPU i may run on.
 *
 * (libvirt:URI follows.)
 * A handle is used by one thread at a time.
 */
#ifndef LIBVPWR_RESOLVER_H
#define LIBVPWR_RESOLVER_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vpwr_resolver;

struct vpwr_resolver_opts {
	size_t sz;
	vpwr_log_fn log_fn;
	void *log_userdata;
	int log_level;
};

/*
 * Open a resolver.  Errors: -EPROTONOSUPPORT (unknown scheme), -ENOENT,
 * -VPWR_E_CONFIG (the file is not valid; the log says where and why),
 * -ENOMEM.
 */
VPWR_API int vpwr_resolver_open(const char *uri,
				const struct vpwr_resolver_opts *opts,
				struct vpwr_resolver **out);

VPWR_API void vpwr_resolver_free(struct vpwr_resolver *r);

/* Number of vCPUs of `domain`, or -VPWR_E_NO_DOMAIN. */
VPWR_API int vpwr_resolver_nr_vcpus(struct vpwr_resolver *r,
				    const char *domain);

/*
 * The physical CPUs vCPU `vcpu` of `domain` may run on.  Errors:
 * -VPWR_E_NO_DOMAIN, -VPWR_E_VCPU_RANGE, -VPWR_E_NOT_PINNED (empty set).
 */
VPWR_API int vpwr_resolver_lookup(struct vpwr_resolver *r, const char *domain,
				  unsigned vcpu, struct vpwr_cpuset *pcpus);

/*
 * The names of the known domains: calls fn once per domain, in a stable
 * order, and returns how many there are.
 */
VPWR_API int vpwr_resolver_foreach_domain(struct vpwr_resolver *r,
					  void (*fn)(const char *domain,
						     void *userdata),
					  void *userdata);

#ifdef __cplusplus
}
#endif
#endif
