/* SPDX-License-Identifier: MIT */
/*
 * The resolver registry and the public vpwr_resolver_* wrappers: split the
 * URI into "scheme:rest", pick the scheme's ops, and check arguments once
 * so the schemes do not have to.  The libvirt: scheme is not in the
 * registry: libvpwr.so loads it from a module when a libvirt: URI is
 * opened (resolver_libvirt_load.c); the static archives have it built in.
 */
#include <stdlib.h>
#ifdef VPWR_WITH_LIBVIRT
#include <dlfcn.h>
#endif

#include "resolver_internal.h"

static const struct vpwr_resolver_ops *const registry[] = {
	&vpwr_resolver_static_ops,
};

static const struct vpwr_resolver_ops *find_scheme(const char *uri,
						   size_t len)
{
	for (size_t i = 0; i < VPWR_ARRAY_SIZE(registry); i++) {
		const char *s = registry[i]->scheme;

		if (strlen(s) == len && !memcmp(s, uri, len))
			return registry[i];
	}
	return NULL;
}

VPWR_API int vpwr_resolver_open(const char *uri,
				const struct vpwr_resolver_opts *opts,
				struct vpwr_resolver **out)
{
	struct vpwr_resolver_opts o;
	struct vpwr_logger log;
	const struct vpwr_resolver_ops *ops;
	struct vpwr_resolver *r;
	const char *colon;
	void *module = NULL;
	int err;

	if (out)
		*out = NULL;
	if (!uri || !out)
		return -EINVAL;
	err = VPWR_OPTS_LOAD(&o, opts);
	if (err)
		return err;
	vpwr_logger_init(&log, o.log_fn, o.log_userdata, o.log_level);
	colon = strchr(uri, ':');
	if (!colon || colon == uri) {
		log_err(&log, "resolver URI \"%s\" is not scheme:rest", uri);
		return -EINVAL;
	}
	ops = find_scheme(uri, (size_t)(colon - uri));
#ifdef VPWR_WITH_LIBVIRT
	if (!ops && colon - uri == 7 && !memcmp(uri, "libvirt", 7)) {
		/* An explicit module directory wins over a built-in copy,
		 * so that tests of a static archive can load the module. */
		ops = o.module_dir ? NULL : vpwr_resolver_libvirt_builtin();
		if (!ops) {
			err = vpwr_resolver_libvirt_load(&log, o.module_dir,
							 &module, &ops);
			if (err)
				return err;
		}
	}
#endif
	if (!ops) {
		log_err(&log, "unknown resolver scheme \"%.*s\"%s",
			(int)(colon - uri), uri,
			colon - uri == 7 && !memcmp(uri, "libvirt", 7)
				? " (this libvpwr was built without libvirt)"
				: "");
		return -EPROTONOSUPPORT;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
#ifdef VPWR_WITH_LIBVIRT
		if (module)
			dlclose(module);
#endif
		return -ENOMEM;
	}
	r->ops = ops;
	r->log = log;
	r->module = module;
	r->port_events = o.port_events != 0;
	err = ops->open(r, colon + 1);
	if (err) {
		vpwr_resolver_free(r);
		return err;
	}
	*out = r;
	return 0;
}

VPWR_API void vpwr_resolver_free(struct vpwr_resolver *r)
{
	if (!r)
		return;
	if (r->ops)
		r->ops->free(r);
#ifdef VPWR_WITH_LIBVIRT
	/* After free(): the ops live in the module. */
	if (r->module)
		dlclose(r->module);
#endif
	free(r);
}

VPWR_API int vpwr_resolver_nr_vcpus(struct vpwr_resolver *r,
				    const char *domain)
{
	if (!r || !domain)
		return -EINVAL;
	return r->ops->nr_vcpus(r, domain);
}

VPWR_API int vpwr_resolver_lookup(struct vpwr_resolver *r, const char *domain,
				  unsigned vcpu, struct vpwr_cpuset *pcpus)
{
	if (!r || !domain || !pcpus)
		return -EINVAL;
	vpwr_cpuset_zero(pcpus);
	return r->ops->lookup(r, domain, vcpu, pcpus);
}

VPWR_API int vpwr_resolver_foreach_domain(struct vpwr_resolver *r,
					  void (*fn)(const char *domain,
						     void *userdata),
					  void *userdata)
{
	if (!r || !fn)
		return -EINVAL;
	return r->ops->foreach_domain(r, fn, userdata);
}

VPWR_API int vpwr_resolver_domain_cid(struct vpwr_resolver *r,
				      const char *domain, uint32_t *cid)
{
	if (!r || !domain || !cid)
		return -EINVAL;
	if (!r->ops->domain_cid)
		return -ENOTSUP;
	return r->ops->domain_cid(r, domain, cid);
}

VPWR_API int vpwr_resolver_domain_running(struct vpwr_resolver *r,
					  const char *domain)
{
	if (!r || !domain)
		return -EINVAL;
	if (!r->ops->domain_running) {
		/* Which domains exist, every scheme can say. */
		int rc = r->ops->nr_vcpus(r, domain);

		return rc < 0 ? rc : -ENOTSUP;
	}
	return r->ops->domain_running(r, domain);
}

struct by_cid {
	struct vpwr_resolver *r;
	uint32_t cid;
	char *name;
	size_t len;
	int found;
};

static void match_cid(const char *domain, void *userdata)
{
	struct by_cid *b = userdata;
	uint32_t cid;

	if (b->found || vpwr_resolver_domain_cid(b->r, domain, &cid) < 0 ||
	    cid != b->cid)
		return;
	b->found = vpwr_strlcpy(b->name, domain, b->len) < b->len ? 1
								 : -ENAMETOOLONG;
}

int vpwr_resolver_domain_by_cid(struct vpwr_resolver *r, uint32_t cid,
				char *name, size_t len)
{
	struct by_cid b = { r, cid, name, len, 0 };
	int rc;

	if (!r || !name || !len)
		return -EINVAL;
	if (!r->ops->domain_cid)
		return -VPWR_E_NO_DOMAIN;
	rc = r->ops->foreach_domain(r, match_cid, &b);
	if (rc < 0)
		return rc;
	return b.found < 0 ? b.found : b.found ? 0 : -VPWR_E_NO_DOMAIN;
}

VPWR_API int vpwr_resolver_change_fd(struct vpwr_resolver *r)
{
	if (!r)
		return -EINVAL;
	return r->ops->change_fd ? r->ops->change_fd(r) : -ENOTSUP;
}

VPWR_API int vpwr_resolver_refresh(struct vpwr_resolver *r)
{
	if (!r)
		return -EINVAL;
	return r->ops->refresh ? r->ops->refresh(r) : -ENOTSUP;
}

VPWR_API int vpwr_resolver_foreach_channel(
	struct vpwr_resolver *r, const char *domain,
	int (*fn)(const struct vpwr_resolver_channel *ch, void *userdata),
	void *userdata)
{
	if (!r || !fn)
		return -EINVAL;
	if (!r->ops->foreach_channel)
		return -ENOTSUP;
	return r->ops->foreach_channel(r, domain, fn, userdata);
}

VPWR_API int vpwr_resolver_foreach_interface(
	struct vpwr_resolver *r, const char *domain,
	int (*fn)(const struct vpwr_resolver_interface *ifc, void *userdata),
	void *userdata)
{
	if (!r || !fn)
		return -EINVAL;
	if (!r->ops->foreach_interface)
		return -ENOTSUP;
	return r->ops->foreach_interface(r, domain, fn, userdata);
}
