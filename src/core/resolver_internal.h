/* SPDX-License-Identifier: MIT */
/*
 * What a resolver scheme implements, and the handle they share.  One const
 * ops table per URI scheme ("static", "libvirt"), listed in the registry
 * in resolver.c.  resolver.c checks every argument, so a scheme
 * never sees NULL pointers; it does its own domain and vCPU range checks.
 */
#ifndef VPWR_RESOLVER_INTERNAL_H
#define VPWR_RESOLVER_INTERNAL_H

#include "internal.h"
#include "libvpwr/resolver.h"

/* Domain names are at most this long (libvirt allows more; we do not). */
#define VPWR_RESOLVER_NAME_MAX 63

struct vpwr_resolver;

struct vpwr_resolver_ops {
	const char *scheme;        /* the part of the URI before ':' */

	/*
	 * Build r->priv from `rest`, the URI after "scheme:" (r->ops and
	 * r->log are set).  free() releases it and must accept a half-built
	 * r (priv NULL or partly filled).
	 */
	int (*open)(struct vpwr_resolver *r, const char *rest);
	void (*free)(struct vpwr_resolver *r);

	/* ---- required ------------------------------------------------- */
	int (*nr_vcpus)(struct vpwr_resolver *r, const char *domain);
	int (*lookup)(struct vpwr_resolver *r, const char *domain,
		      unsigned vcpu, struct vpwr_cpuset *pcpus);
	/* Sorted by name, so that callers see a stable order. */
	int (*foreach_domain)(struct vpwr_resolver *r,
			      void (*fn)(const char *domain, void *userdata),
			      void *userdata);

	/* ---- optional ------------------------------------------------- */
	/* The domain's vsock CID, -ENOENT if it has none. */
	int (*domain_cid)(struct vpwr_resolver *r, const char *domain,
			  uint32_t *cid);
	/* 1 running, 0 known not to be.  NULL: the scheme cannot tell. */
	int (*domain_running)(struct vpwr_resolver *r, const char *domain);
	/*
	 * Change notification (libvirt: pinning and lifecycle events).
	 * change_fd() gives an fd that turns readable when the mapping may
	 * have changed; refresh() consumes the notification and reloads,
	 * returning 1 if anything changed, 0 if not, or -errno.
	 */
	int (*change_fd)(struct vpwr_resolver *r);
	int (*refresh)(struct vpwr_resolver *r);
	/* domain NULL: every domain.  See vpwr_resolver_foreach_channel(). */
	int (*foreach_channel)(struct vpwr_resolver *r, const char *domain,
			       int (*fn)(const struct vpwr_resolver_channel *ch,
					 void *userdata),
			       void *userdata);
	/* domain NULL: every domain.  See vpwr_resolver_foreach_interface(). */
	int (*foreach_interface)(
		struct vpwr_resolver *r, const char *domain,
		int (*fn)(const struct vpwr_resolver_interface *ifc,
			  void *userdata),
		void *userdata);
};

struct vpwr_resolver {
	const struct vpwr_resolver_ops *ops;
	struct vpwr_logger log;
	void *priv;                /* the scheme's */
	void *module;              /* dlopen() handle of the module `ops`
				    * lives in (libvirt:), or NULL */
	bool port_events;          /* vpwr_resolver_opts.port_events */
};

/* The registered schemes. */
extern const struct vpwr_resolver_ops vpwr_resolver_static_ops;

/* The domain whose vsock CID is `cid`: its name in name[len].
 * -VPWR_E_NO_DOMAIN when no domain has it.  (Not exported.) */
int vpwr_resolver_domain_by_cid(struct vpwr_resolver *r, uint32_t cid,
				char *name, size_t len);
#ifdef VPWR_WITH_LIBVIRT
/* In the libvirt objects: the module, or a static archive that has them
 * built in (resolver_libvirt_builtin.c). */
extern const struct vpwr_resolver_ops vpwr_resolver_libvirt_ops;

/*
 * The libvirt: ops this copy of the library has built in: the static
 * archives (unit tests, fuzzers) link the libvirt objects directly; the
 * shared library returns NULL and loads them from a module
 * (resolver_libvirt_load.c).
 */
const struct vpwr_resolver_ops *vpwr_resolver_libvirt_builtin(void);

/*
 * Load the libvirt resolver module from `dir` (NULL: the libvpwr-N
 * directory beside the loaded libvpwr.so) and check that it comes from
 * this very build.  On success *handle is its dlopen() handle (dlclose()
 * it after the resolver's free()) and *ops its table.  Errors:
 * -EPROTONOSUPPORT (missing, unloadable, or from another build; logged),
 * -ENAMETOOLONG.
 */
int vpwr_resolver_libvirt_load(const struct vpwr_logger *log, const char *dir,
			       void **handle,
			       const struct vpwr_resolver_ops **ops);
#endif

#endif
