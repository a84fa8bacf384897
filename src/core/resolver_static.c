/* SPDX-License-Identifier: MIT */
/*
 * The "static:PATH" resolver: vCPU pinning read once from a JSON file,
 *
 *   { "domains": { "vm1": { "vcpus": ["2", "3", "4-5", 7], "cid": 3 } } }
 *
 * where element i of "vcpus" is the cpulist (or CPU number) vCPU i may run
 * on, and the optional "cid" is the domain's vsock CID.  The file is
 * checked strictly: anything unexpected, unknown keys included, refuses the
 * whole file with a message naming the file, the domain and the element,
 * because a typo that silently unpins a VM is worse than a daemon that does
 * not start.
 */
#include <fcntl.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "resolver_internal.h"

#define CID_MIN 3u                 /* 0-2 are the hypervisor, local, host */
#define CID_LOCAL 1u               /* allowed: this machine's own peers over
				      vsock_loopback, for tests */
#define CID_MAX 0xFFFFFFFEu        /* VMADDR_CID_ANY is 0xFFFFFFFF */

struct static_domain {
	char name[VPWR_RESOLVER_NAME_MAX + 1];
	uint32_t cid;              /* 0: none given */
	unsigned nr_vcpus;
	struct vpwr_cpuset *vcpus;
};

struct static_pins {
	size_t nr;
	struct static_domain *domains; /* sorted by name */
};

/* Context for the messages of one file being parsed. */
struct parse {
	const struct vpwr_logger *log;
	const char *path;
	const char *domain;
};

#define perr(p, fmt, ...)                                                      \
	log_err((p)->log, "%s: domain \"%s\": " fmt, (p)->path, (p)->domain,   \
		__VA_ARGS__)

/*
 * Open it ourselves rather than with json_load_file(): that gives the real
 * errno (ENOENT vs EACCES), O_CLOEXEC for a library inside a daemon, and a
 * refusal of FIFOs and directories instead of a hang or an odd error.
 */
static int load_json(const struct vpwr_logger *log, const char *path,
		     json_t **out)
{
	json_error_t jerr;
	struct stat st;
	FILE *f;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);

	if (fd < 0) {
		int err = -errno;

		log_err(log, "%s: cannot open: %s", path, vpwr_strerror(err));
		return err;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		log_err(log, "%s: not a regular file", path);
		close(fd);
		return -VPWR_E_CONFIG;
	}
	f = fdopen(fd, "r");
	if (!f) {
		close(fd);
		return -ENOMEM;
	}
	*out = json_loadf(f, JSON_REJECT_DUPLICATES, &jerr);
	fclose(f);
	if (!*out) {
		if (json_error_code(&jerr) == json_error_out_of_memory)
			return -ENOMEM;
		log_err(log, "%s:%d:%d: %s", path, jerr.line, jerr.column,
			jerr.text);
		return -VPWR_E_CONFIG;
	}
	return 0;
}

static int check_name(const struct parse *p, const char *name)
{
	size_t len = strlen(name);

	if (!len) {
		log_err(p->log, "%s: a domain name is empty", p->path);
		return -VPWR_E_CONFIG;
	}
	if (len > VPWR_RESOLVER_NAME_MAX) {
		log_err(p->log, "%s: domain \"%.40s...\": name is %zu bytes, "
			"longer than %d", p->path, name, len,
			VPWR_RESOLVER_NAME_MAX);
		return -VPWR_E_CONFIG;
	}
	for (const unsigned char *c = (const unsigned char *)name; *c; c++) {
		/* They end up in logs and events: keep them printable. */
		if (*c < 0x20 || *c == 0x7f) {
			log_err(p->log, "%s: domain name with a control "
				"character (byte %zu)", p->path,
				(size_t)(c - (const unsigned char *)name));
			return -VPWR_E_CONFIG;
		}
	}
	return 0;
}

static int parse_cid(const struct parse *p, const json_t *v, uint32_t *cid)
{
	json_int_t n;

	if (!v)
		return 0;
	n = json_is_integer(v) ? json_integer_value(v) : -1;
	if ((n < (json_int_t)CID_MIN && n != (json_int_t)CID_LOCAL) ||
	    n > (json_int_t)CID_MAX) {
		perr(p, "\"cid\" must be %u (vsock_loopback) or an integer "
		     "in %u..%u", CID_LOCAL, CID_MIN, CID_MAX);
		return -VPWR_E_CONFIG;
	}
	*cid = (uint32_t)n;
	return 0;
}

static int parse_vcpu(const struct parse *p, size_t i, const json_t *v,
		      struct vpwr_cpuset *set)
{
	if (json_is_string(v)) {
		if (vpwr_cpuset_parse(set, json_string_value(v))) {
			perr(p, "vcpus[%zu]: bad cpulist \"%.64s\"", i,
			     json_string_value(v));
			return -VPWR_E_CONFIG;
		}
		return 0;
	}
	if (json_is_integer(v)) {
		json_int_t cpu = json_integer_value(v);

		if (cpu < 0 || cpu >= VPWR_MAX_CPUS) {
			perr(p, "vcpus[%zu]: CPU %lld outside 0..%d", i,
			     (long long)cpu, VPWR_MAX_CPUS - 1);
			return -VPWR_E_CONFIG;
		}
		vpwr_cpuset_zero(set);
		vpwr_cpuset_set(set, (unsigned)cpu);
		return 0;
	}
	perr(p, "vcpus[%zu] is neither a cpulist string nor a CPU number", i);
	return -VPWR_E_CONFIG;
}

static int parse_vcpus(const struct parse *p, const json_t *v,
		       struct static_domain *d)
{
	size_t n = json_array_size(v);

	if (!v) {
		perr(p, "%s", "no \"vcpus\" array");
		return -VPWR_E_CONFIG;
	}
	if (!json_is_array(v)) {
		perr(p, "%s", "\"vcpus\" must be an array");
		return -VPWR_E_CONFIG;
	}
	if (!n || n > VPWR_MAX_CPUS) {
		perr(p, "\"vcpus\" has %zu entries, needs 1..%d", n,
		     VPWR_MAX_CPUS);
		return -VPWR_E_CONFIG;
	}
	d->vcpus = calloc(n, sizeof(*d->vcpus));
	if (!d->vcpus)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		int err = parse_vcpu(p, i, json_array_get(v, i), &d->vcpus[i]);

		if (err)
			return err;
	}
	d->nr_vcpus = (unsigned)n;
	return 0;
}

static int parse_domain(struct parse *p, const char *name, json_t *v,
			struct static_domain *d)
{
	const char *key;
	json_t *val;
	int err = check_name(p, name);

	if (err)
		return err;
	p->domain = name;
	vpwr_strlcpy(d->name, name, sizeof(d->name));
	if (!json_is_object(v)) {
		perr(p, "%s", "must be an object");
		return -VPWR_E_CONFIG;
	}
	json_object_foreach(v, key, val) {
		if (strcmp(key, "vcpus") && strcmp(key, "cid")) {
			perr(p, "unknown key \"%.64s\" (expected \"vcpus\" or "
			     "\"cid\")", key);
			return -VPWR_E_CONFIG;
		}
	}
	err = parse_cid(p, json_object_get(v, "cid"), &d->cid);
	return err ? err : parse_vcpus(p, json_object_get(v, "vcpus"), d);
}

static int parse_root(struct parse *p, json_t *root, struct static_pins *pins)
{
	json_t *domains, *val;
	const char *key;

	if (!json_is_object(root)) {
		log_err(p->log, "%s: the top level must be an object",
			p->path);
		return -VPWR_E_CONFIG;
	}
	json_object_foreach(root, key, val) {
		if (strcmp(key, "domains")) {
			log_err(p->log, "%s: unknown key \"%.64s\" at the top "
				"level (expected \"domains\")", p->path, key);
			return -VPWR_E_CONFIG;
		}
	}
	domains = json_object_get(root, "domains");
	if (!json_is_object(domains)) {
		log_err(p->log, "%s: %s", p->path,
			domains ? "\"domains\" must be an object"
				: "no \"domains\" object");
		return -VPWR_E_CONFIG;
	}
	pins->domains = calloc(json_object_size(domains) + 1,
			       sizeof(*pins->domains));
	if (!pins->domains)
		return -ENOMEM;
	json_object_foreach(domains, key, val) {
		/* Counted first so that free() sees a half-parsed domain. */
		int err = parse_domain(p, key, val, &pins->domains[pins->nr++]);

		if (err)
			return err;
	}
	return 0;
}

static int cmp_domain(const void *a, const void *b)
{
	return strcmp(((const struct static_domain *)a)->name,
		      ((const struct static_domain *)b)->name);
}

static void static_free(struct vpwr_resolver *r)
{
	struct static_pins *pins = r->priv;

	if (!pins)
		return;
	for (size_t i = 0; i < pins->nr; i++)
		free(pins->domains[i].vcpus);
	free(pins->domains);
	free(pins);
	r->priv = NULL;
}

static int static_open(struct vpwr_resolver *r, const char *path)
{
	struct parse p = { .log = &r->log, .path = path };
	struct static_pins *pins;
	json_t *root;
	int err;

	if (!*path) {
		log_err(&r->log, "static resolver: no file name after "
			"\"static:\"");
		return -EINVAL;
	}
	err = load_json(&r->log, path, &root);
	if (err)
		return err;
	pins = calloc(1, sizeof(*pins));
	if (!pins) {
		json_decref(root);
		return -ENOMEM;
	}
	r->priv = pins;
	err = parse_root(&p, root, pins);
	json_decref(root);
	if (err)
		return err;
	qsort(pins->domains, pins->nr, sizeof(*pins->domains), cmp_domain);
	log_info(&r->log, "%s: %zu domains", path, pins->nr);
	return 0;
}

static const struct static_domain *find(struct vpwr_resolver *r,
					const char *name)
{
	const struct static_pins *pins = r->priv;
	struct static_domain key;

	if (strlen(name) > VPWR_RESOLVER_NAME_MAX)
		return NULL;
	vpwr_strlcpy(key.name, name, sizeof(key.name));
	return bsearch(&key, pins->domains, pins->nr, sizeof(*pins->domains),
		       cmp_domain);
}

static int static_nr_vcpus(struct vpwr_resolver *r, const char *domain)
{
	const struct static_domain *d = find(r, domain);

	return d ? (int)d->nr_vcpus : -VPWR_E_NO_DOMAIN;
}

static int static_lookup(struct vpwr_resolver *r, const char *domain,
			 unsigned vcpu, struct vpwr_cpuset *pcpus)
{
	const struct static_domain *d = find(r, domain);

	if (!d)
		return -VPWR_E_NO_DOMAIN;
	if (vcpu >= d->nr_vcpus)
		return -VPWR_E_VCPU_RANGE;
	if (!vpwr_cpuset_count(&d->vcpus[vcpu]))
		return -VPWR_E_NOT_PINNED;
	*pcpus = d->vcpus[vcpu];
	return 0;
}

static int static_foreach_domain(struct vpwr_resolver *r,
				 void (*fn)(const char *domain, void *userdata),
				 void *userdata)
{
	const struct static_pins *pins = r->priv;

	for (size_t i = 0; i < pins->nr; i++)
		fn(pins->domains[i].name, userdata);
	return (int)pins->nr;
}

static int static_domain_cid(struct vpwr_resolver *r, const char *domain,
			     uint32_t *cid)
{
	const struct static_domain *d = find(r, domain);

	if (!d)
		return -VPWR_E_NO_DOMAIN;
	if (!d->cid)
		return -ENOENT;
	*cid = d->cid;
	return 0;
}

const struct vpwr_resolver_ops vpwr_resolver_static_ops = {
	.scheme = "static",
	.open = static_open,
	.free = static_free,
	.nr_vcpus = static_nr_vcpus,
	.lookup = static_lookup,
	.foreach_domain = static_foreach_domain,
	.domain_cid = static_domain_cid,
	/* A file read once changes never: no change_fd/refresh. */
};
