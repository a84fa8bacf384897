/* SPDX-License-Identifier: MIT */
/*
 * The host's decisions: turn a domain's request into a wish for one vCPU,
 * check that the vCPU is the domain's own and where it runs, combine every
 * wish that lands on a physical CPU with the operator's bounds, and apply
 * the result through the backend only when it changes.  Transport-free:
 * host.c feeds it decoded messages, vpwr_host_handle() feeds it directly.
 */
#include <stdio.h>
#include <stdlib.h>

#include "host_internal.h"

/* ------------------------------------------------------------ domains */

struct host_domain *host_domain_get(struct vpwr_host *h, const char *name,
				    int *err)
{
	struct host_domain *d;
	int n;

	for (d = h->domains; d; d = d->next)
		if (!strcmp(d->name, name))
			return d;
	if (strlen(name) >= HOST_DOMAIN_NAME_MAX) {
		*err = -ENAMETOOLONG;
		return NULL;
	}
	n = vpwr_resolver_nr_vcpus(h->resolver, name);
	if (n < 0) {
		*err = n;
		return NULL;
	}
	d = calloc(1, sizeof(*d));
	if (d && n > 0) {
		d->req = calloc((size_t)n, sizeof(*d->req));
		d->pol = calloc((size_t)n, sizeof(*d->pol));
		d->branch = calloc((size_t)n, sizeof(*d->branch));
	}
	if (!d || (n > 0 && (!d->req || !d->pol || !d->branch))) {
		host_domain_free(d);
		*err = -ENOMEM;
		return NULL;
	}
	vpwr_strlcpy(d->name, name, sizeof(d->name));
	d->nr_vcpus = (unsigned)n;
	for (unsigned v = 0; v < d->nr_vcpus; v++)
		d->req[v] = d->pol[v] = VCPU_REQUEST_NONE;
	d->next = h->domains;
	h->domains = d;
	return d;
}

static bool request_active(const struct vcpu_request *r)
{
	return r->hi_khz || r->turbo >= 0 || r->epp >= 0;
}

bool host_domain_has_requests(const struct host_domain *d)
{
	if (d->policy_mask)
		return true;
	for (unsigned v = 0; v < d->nr_vcpus; v++)
		if (request_active(&d->req[v]) || request_active(&d->pol[v]))
			return true;
	return false;
}

void host_domain_free(struct host_domain *d)
{
	if (!d)
		return;
	host_policy_domain_free(d);
	free(d->req);
	free(d->pol);
	free(d);
}

/* Forget a domain nobody talks to and that holds no request. */
void host_domain_put(struct vpwr_host *h, struct host_domain *d)
{
	struct host_domain **pp;

	if (d->nr_channels || d->nr_listeners || host_domain_has_requests(d) ||
	    d->bound_min || d->bound_max)
		return;
	for (unsigned p = 0; p < h->nr_pcpus; p++)
		if (h->pcpu[p].winner == d)
			h->pcpu[p].winner = NULL;
	for (pp = &h->domains; *pp; pp = &(*pp)->next) {
		if (*pp == d) {
			*pp = d->next;
			break;
		}
	}
	host_domain_free(d);
}

void host_emit(struct vpwr_host *h, const struct vpwr_host_event *ev)
{
	if (h->opts.event_fn)
		h->opts.event_fn(ev, h->opts.event_userdata);
}

/* ---------------------------------------------------------- arbitration */

struct host_wish {
	uint32_t lo, hi;
	int turbo;
	int epp;
	unsigned nr;
	const struct host_domain *winner;
};

/* A domain's wish within the operator's bounds for that domain. */
static struct vcpu_request domain_bounded(const struct host_domain *d,
					  const struct vcpu_request *in)
{
	struct vcpu_request r = *in;

	if (!r.hi_khz)
		return r;
	if (d->bound_max) {
		r.hi_khz = VPWR_MIN(r.hi_khz, d->bound_max);
		r.lo_khz = VPWR_MIN(r.lo_khz, d->bound_max);
	}
	if (d->bound_min) {
		r.lo_khz = VPWR_MAX(r.lo_khz, d->bound_min);
		r.hi_khz = VPWR_MAX(r.hi_khz, d->bound_min);
	}
	return r;
}

static void combine(const struct vpwr_host *h, struct host_wish *w,
		    const struct host_domain *d, const struct vcpu_request *in)
{
	bool lowest = h->opts.mode == VPWR_ARB_POWERSAVE;
	struct vcpu_request bounded = domain_bounded(d, in);
	const struct vcpu_request *r = &bounded;

	w->nr++;
	if (r->hi_khz) {
		if (!w->hi || (lowest ? r->hi_khz < w->hi : r->hi_khz > w->hi)) {
			w->hi = r->hi_khz;
			w->winner = d;
		}
		if (!w->lo || (lowest ? r->lo_khz < w->lo : r->lo_khz > w->lo))
			w->lo = r->lo_khz;
	}
	/* Turbo follows the same rule: in performance mode one "on" wins. */
	if (r->turbo >= 0) {
		if (!w->winner)
			w->winner = d;
		if (w->turbo < 0)
			w->turbo = r->turbo;
		else if (lowest)
			w->turbo = w->turbo && r->turbo;
		else
			w->turbo = w->turbo || r->turbo;
	}
	/* EPP 0 is all performance: performance mode takes the lowest hint. */
	if (r->epp >= 0) {
		if (!w->winner)
			w->winner = d;
		if (w->epp < 0 || (lowest ? r->epp > w->epp : r->epp < w->epp))
			w->epp = r->epp;
	}
}

/*
 * Every live wish on the CPUs of `cpus`, into w[pcpu], in one pass over
 * the domains: each vCPU is looked up once however many CPUs are decided.
 */
static void collect(struct vpwr_host *h, const struct vpwr_cpuset *cpus,
		    struct host_wish *w)
{
	struct vpwr_cpuset set;

	vpwr_cpuset_foreach(c, cpus) {
		memset(&w[c], 0, sizeof(w[c]));
		w[c].turbo = -1;
		w[c].epp = -1;
	}
	/* A domain's policy counts as one more requester next to its own
	 * direct requests, and both next to every other domain's. */
	for (struct host_domain *d = h->domains; d; d = d->next) {
		for (unsigned v = 0; v < d->nr_vcpus; v++) {
			bool req = request_active(&d->req[v]);
			bool pol = request_active(&d->pol[v]);

			if (!req && !pol)
				continue;
			if (vpwr_resolver_lookup(h->resolver, d->name, v, &set) < 0)
				continue;
			/* Word by word: a lookup per vCPU is the cost here,
			 * not 1024 bit tests. */
			for (size_t i = 0; i < VPWR_ARRAY_SIZE(set.bits); i++) {
				for (uint64_t m = set.bits[i] & cpus->bits[i]; m;
				     m &= m - 1) {
					unsigned c = (unsigned)(i * 64) +
						     (unsigned)__builtin_ctzll(m);

					if (req)
						combine(h, &w[c], d, &d->req[v]);
					if (pol)
						combine(h, &w[c], d, &d->pol[v]);
				}
			}
		}
	}
}

static void clamp_to_bounds(const struct host_pcpu *pc, struct host_wish *w)
{
	if (!w->hi)
		return;
	if (pc->bound_max) {
		w->hi = VPWR_MIN(w->hi, pc->bound_max);
		w->lo = VPWR_MIN(w->lo, pc->bound_max);
	}
	if (pc->bound_min) {
		w->lo = VPWR_MAX(w->lo, pc->bound_min);
		w->hi = VPWR_MAX(w->hi, pc->bound_min);
	}
}

/* The highest frequency the CPU can run at now, at most `khz`. */
static uint32_t reachable(struct vpwr_host *h, unsigned pcpu, uint32_t khz)
{
	uint32_t tbl[HOST_MAX_FREQS];
	int n = vpwr_backend_get_freqs(h->backend, pcpu, tbl, HOST_MAX_FREQS);
	uint32_t best = 0;

	if (n <= 0)
		return khz;
	n = VPWR_MIN(n, HOST_MAX_FREQS);
	for (int i = 0; i < n; i++)
		if (tbl[i] <= khz)
			best = tbl[i];
	return best ? best : tbl[0];
}

static int apply(struct vpwr_host *h, unsigned pcpu, const struct host_wish *w)
{
	struct host_pcpu *pc = &h->pcpu[pcpu];
	int caps = vpwr_backend_caps(h->backend, pcpu);
	int rc;

	if (caps < 0)
		return caps;
	if (w->turbo >= 0 && w->turbo != pc->turbo) {
		rc = vpwr_backend_set_turbo(h->backend, pcpu, w->turbo);
		if (rc < 0)
			return rc;
		pc->managed = true;
		pc->turbo = w->turbo;
	}
	if (w->epp >= 0 && w->epp != pc->epp) {
		rc = vpwr_backend_set_epp(h->backend, pcpu, (unsigned)w->epp);
		if (rc < 0)
			return rc;
		pc->managed = true;
		pc->epp = w->epp;
	}
	if (w->hi && (w->lo != pc->min_khz || w->hi != pc->max_khz)) {
		if (caps & VPWR_BACKEND_CAP_LIMITS) {
			rc = vpwr_backend_set_limits(h->backend, pcpu, w->lo, w->hi);
			if (rc < 0)
				return rc;
		}
		pc->managed = true;
		pc->min_khz = w->lo;
		pc->max_khz = w->hi;
	}
	/* A poll-mode CPU always looks busy: run it at the top of its range. */
	if (w->hi && (caps & VPWR_BACKEND_CAP_SET_FREQ)) {
		rc = vpwr_backend_set_freq(h->backend, pcpu,
					   reachable(h, pcpu, w->hi));
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void emit_cpu(struct vpwr_host *h, unsigned pcpu, uint32_t old_khz)
{
	struct host_pcpu *pc = &h->pcpu[pcpu];
	struct vpwr_host_event ev = {
		.type = VPWR_HOST_EV_CPU_CHANGED,
		.pcpu = pcpu,
		.old_khz = old_khz,
		.min_khz = pc->min_khz,
		.max_khz = pc->max_khz,
		.winner = pc->winner ? pc->winner->name : NULL,
	};
	int t = vpwr_backend_get_turbo(h->backend, pcpu);

	vpwr_backend_get_freq(h->backend, pcpu, &ev.new_khz);
	ev.turbo = t > 0;
	if (!pc->managed || !pc->max_khz) /* no frequency wish: as is */
		vpwr_backend_get_limits(h->backend, pcpu, &ev.min_khz,
					&ev.max_khz);
	host_emit(h, &ev);
}

static void unmanage(struct vpwr_host *h, unsigned pcpu)
{
	struct host_pcpu *pc = &h->pcpu[pcpu];
	uint32_t old = 0;
	int rc;

	if (!pc->managed)
		return;
	vpwr_backend_get_freq(h->backend, pcpu, &old);
	rc = vpwr_backend_restore(h->backend, pcpu);
	if (rc < 0)
		log_err(&h->log, "pCPU %u: restoring the original settings: %s",
			pcpu, vpwr_strerror(rc));
	pc->managed = false;
	pc->min_khz = pc->max_khz = 0;
	pc->turbo = pc->epp = -1;
	pc->winner = NULL;
	emit_cpu(h, pcpu, old);
}

/* Apply what the wishes `w` on `pcpu` come to, if it differs from what is
 * applied. */
static int decide(struct vpwr_host *h, unsigned pcpu, struct host_wish w)
{
	struct host_pcpu *pc = &h->pcpu[pcpu];
	uint32_t old = 0;
	int rc;

	pc->nr_requests = w.nr;
	if (!w.nr) {
		unmanage(h, pcpu);
		return 0;
	}
	clamp_to_bounds(pc, &w);
	/* A setting applied earlier that nobody wants any more goes back to
	 * the original: restore the CPU, then apply what is still wanted. */
	if ((!w.hi && pc->max_khz) || (w.turbo < 0 && pc->turbo >= 0) ||
	    (w.epp < 0 && pc->epp >= 0)) {
		int r = vpwr_backend_restore(h->backend, pcpu);

		if (r < 0)
			log_err(&h->log, "pCPU %u: restoring: %s", pcpu,
				vpwr_strerror(r));
		pc->min_khz = pc->max_khz = 0;
		pc->turbo = pc->epp = -1;
		/* Still ours to restore at the end if that failed. */
		pc->managed = r < 0;
	}
	if ((!w.hi || (w.lo == pc->min_khz && w.hi == pc->max_khz)) &&
	    (w.turbo < 0 || w.turbo == pc->turbo) &&
	    (w.epp < 0 || w.epp == pc->epp)) {
		pc->winner = w.winner;
		return 0;
	}
	vpwr_backend_get_freq(h->backend, pcpu, &old);
	rc = apply(h, pcpu, &w);
	if (rc < 0) {
		log_warn(&h->log, "pCPU %u: backend refused [%u, %u] kHz: %s",
			 pcpu, w.lo, w.hi, vpwr_strerror(rc));
		/* Part of it may have reached the hardware: forget what we
		 * think is applied, so that the next decision writes again,
		 * and keep the CPU on the list of those to restore. */
		pc->min_khz = pc->max_khz = 0;
		pc->turbo = pc->epp = -1;
		pc->managed = true;
		return rc;
	}
	pc->winner = w.winner;
	emit_cpu(h, pcpu, old);
	if (w.hi)
		host_notify_limits(h, pcpu);
	return 0;
}

/*
 * Recompute what physical CPU `pcpu` should do from every live request and
 * apply it if it differs from what is applied.
 */
int host_rearbitrate(struct vpwr_host *h, unsigned pcpu)
{
	struct vpwr_cpuset one;

	vpwr_cpuset_zero(&one);
	vpwr_cpuset_set(&one, pcpu);
	return host_rearbitrate_set(h, &one);
}

/* The same for every CPU of `cpus`; 0 or the first error. */
int host_rearbitrate_set(struct vpwr_host *h, const struct vpwr_cpuset *cpus)
{
	struct vpwr_cpuset mine;
	int rc = 0;

	if (!h->wishes) {
		h->wishes = calloc(h->nr_pcpus, sizeof(*h->wishes));
		if (!h->wishes)
			return -ENOMEM;
	}
	vpwr_cpuset_zero(&mine);
	vpwr_cpuset_foreach(c, cpus)
		if ((unsigned)c < h->nr_pcpus)
			vpwr_cpuset_set(&mine, (unsigned)c);
	collect(h, &mine, h->wishes);
	vpwr_cpuset_foreach(c, &mine) {
		int r = decide(h, (unsigned)c, h->wishes[c]);

		if (r < 0 && !rc)
			rc = r;
	}
	return rc;
}

void host_restore_all(struct vpwr_host *h)
{
	for (unsigned p = 0; p < h->nr_pcpus; p++)
		unmanage(h, p);
}
