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
	d->ran = -1;
	d->nr_vcpus = (unsigned)n;
	for (unsigned v = 0; v < d->nr_vcpus; v++)
		d->req[v] = d->pol[v] = VCPU_REQUEST_NONE;
	d->next = h->domains;
	h->domains = d;
	return d;
}

bool host_domain_has_requests(const struct host_domain *d)
{
	if (d->policy_mask)
		return true;
	for (unsigned v = 0; v < d->nr_vcpus; v++)
		if (host_request_active(&d->req[v]) || host_request_active(&d->pol[v]))
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
	unsigned seen;             /* collect(): the last vCPU counted here */
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
 * Every live wish on the groups led by the CPUs of `leaders`, into
 * w[leader], in one pass over the domains: each vCPU is looked up once
 * however many CPUs are decided, and counts once per group however many
 * CPUs of the group it may run on.  A domain known not to run is left
 * out: its pinning is then its config's, where it does not run.
 */
static void collect(struct vpwr_host *h, const struct vpwr_cpuset *leaders,
		    struct host_wish *w)
{
	struct vpwr_cpuset set, reach;
	unsigned stamp = 0;

	vpwr_cpuset_zero(&reach);
	host_groups_of(h, leaders, &reach);
	vpwr_cpuset_foreach(c, leaders) {
		memset(&w[c], 0, sizeof(w[c]));
		w[c].turbo = -1;
		w[c].epp = -1;
	}
	/* A domain's policy counts as one more requester next to its own
	 * direct requests, and both next to every other domain's. */
	for (struct host_domain *d = h->domains; d; d = d->next) {
		int running = -1;

		for (unsigned v = 0; v < d->nr_vcpus; v++) {
			bool req = host_request_active(&d->req[v]);
			bool pol = host_request_active(&d->pol[v]);

			if (!req && !pol)
				continue;
			if (running < 0)
				running = host_domain_running(h, d->name);
			if (!running)
				break;
			if (vpwr_resolver_lookup(h->resolver, d->name, v, &set) < 0)
				continue;
			stamp++;
			/* Word by word: a lookup per vCPU is the cost here,
			 * not 1024 bit tests. */
			for (size_t i = 0; i < VPWR_ARRAY_SIZE(set.bits); i++) {
				for (uint64_t m = set.bits[i] & reach.bits[i]; m;
				     m &= m - 1) {
					unsigned c = (unsigned)(i * 64) +
						     (unsigned)__builtin_ctzll(m);
					struct host_wish *g =
						&w[h->pcpu[c].leader];

					if (g->seen == stamp)
						continue;
					g->seen = stamp;
					if (req)
						combine(h, g, d, &d->req[v]);
					if (pol)
						combine(h, g, d, &d->pol[v]);
				}
			}
		}
	}
}

/* The operator bounds of a group: the intersection of its CPUs'.  Where
 * they do not meet, the highest min wins (as for one CPU, below). */
static void group_bounds(const struct vpwr_host *h, unsigned leader,
			 uint32_t *bmin, uint32_t *bmax)
{
	*bmin = *bmax = 0;
	vpwr_cpuset_foreach(c, &h->pcpu[leader].group) {
		const struct host_pcpu *pc = &h->pcpu[c];

		*bmin = VPWR_MAX(*bmin, pc->bound_min);
		if (pc->bound_max && (!*bmax || pc->bound_max < *bmax))
			*bmax = pc->bound_max;
	}
}

static void clamp_to_bounds(uint32_t bmin, uint32_t bmax, struct host_wish *w)
{
	if (!w->hi)
		return;
	if (bmax) {
		w->hi = VPWR_MIN(w->hi, bmax);
		w->lo = VPWR_MIN(w->lo, bmax);
	}
	if (bmin) {
		w->lo = VPWR_MAX(w->lo, bmin);
		w->hi = VPWR_MAX(w->hi, bmin);
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

static void forget_applied(struct host_pcpu *pc)
{
	pc->min_khz = pc->max_khz = 0;
	pc->turbo = pc->epp = -1;
}

/* Every CPU of the leader's group shows what the leader's record holds:
 * they are one frequency domain. */
static void group_sync(struct vpwr_host *h, unsigned leader)
{
	const struct host_pcpu *l = &h->pcpu[leader];

	vpwr_cpuset_foreach(c, &l->group) {
		struct host_pcpu *pc = &h->pcpu[c];

		if ((unsigned)c == leader)
			continue;
		pc->managed = l->managed;
		pc->min_khz = l->min_khz;
		pc->max_khz = l->max_khz;
		pc->turbo = l->turbo;
		pc->epp = l->epp;
		pc->nr_requests = l->nr_requests;
		pc->winner = l->winner;
	}
}

/* Each CPU's frequency before a change, for its CPU_CHANGED event. */
static void group_note_freqs(struct vpwr_host *h, unsigned leader)
{
	vpwr_cpuset_foreach(c, &h->pcpu[leader].group) {
		h->pcpu[c].was_khz = 0;
		vpwr_backend_get_freq(h->backend, (unsigned)c,
				      &h->pcpu[c].was_khz);
	}
}

/*
 * Ask the backend to put back every CPU of the group: one restore puts
 * back a shared policy's files, and each CPU's own call drops its record
 * (a no-op write-wise once the first has run).  0 or the first error.
 */
static int group_restore(struct vpwr_host *h, unsigned leader)
{
	int rc = 0;

	vpwr_cpuset_foreach(c, &h->pcpu[leader].group) {
		int r = vpwr_backend_restore(h->backend, (unsigned)c);

		if (r < 0) {
			log_err(&h->log, "pCPU %d: restoring the original "
				"settings: %s", c, vpwr_strerror(r));
			rc = rc ? rc : r;
		}
	}
	return rc;
}

/* Nobody wants anything of the group any more: put it back, if the host
 * changed it, and say so for each of its CPUs. */
static void unmanage_group(struct vpwr_host *h, unsigned leader)
{
	struct host_pcpu *l = &h->pcpu[leader];

	if (!l->managed)
		return;
	group_note_freqs(h, leader);
	group_restore(h, leader);
	l->managed = false;
	forget_applied(l);
	l->winner = NULL;
	group_sync(h, leader);
	vpwr_cpuset_foreach(c, &l->group)
		emit_cpu(h, (unsigned)c, h->pcpu[c].was_khz);
}

/* Apply what the wishes `w` on the group led by `leader` come to, if it
 * differs from what is applied. */
static int decide(struct vpwr_host *h, unsigned leader, struct host_wish w)
{
	struct host_pcpu *pc = &h->pcpu[leader];
	uint32_t bmin, bmax;
	int rc;

	pc->nr_requests = w.nr;
	group_sync(h, leader);
	if (!w.nr) {
		unmanage_group(h, leader);
		return 0;
	}
	group_bounds(h, leader, &bmin, &bmax);
	clamp_to_bounds(bmin, bmax, &w);
	/* A setting applied earlier that nobody wants any more goes back to
	 * the original: restore the CPUs, then apply what is still wanted. */
	if ((!w.hi && pc->max_khz) || (w.turbo < 0 && pc->turbo >= 0) ||
	    (w.epp < 0 && pc->epp >= 0)) {
		int r = group_restore(h, leader);

		forget_applied(pc);
		/* Still ours to restore at the end if that failed. */
		pc->managed = r < 0;
		group_sync(h, leader);
	}
	if ((!w.hi || (w.lo == pc->min_khz && w.hi == pc->max_khz)) &&
	    (w.turbo < 0 || w.turbo == pc->turbo) &&
	    (w.epp < 0 || w.epp == pc->epp)) {
		pc->winner = w.winner;
		group_sync(h, leader);
		return 0;
	}
	group_note_freqs(h, leader);
	rc = apply(h, leader, &w);
	if (rc < 0) {
		log_warn(&h->log, "pCPU %u: backend refused [%u, %u] kHz: %s",
			 leader, w.lo, w.hi, vpwr_strerror(rc));
		/* Part of it may have reached the hardware: forget what we
		 * think is applied, so that the next decision writes again,
		 * and keep the CPUs on the list of those to restore. */
		forget_applied(pc);
		pc->managed = true;
		group_sync(h, leader);
		return rc;
	}
	pc->winner = w.winner;
	group_sync(h, leader);
	vpwr_cpuset_foreach(c, &pc->group)
		emit_cpu(h, (unsigned)c, h->pcpu[c].was_khz);
	if (w.hi)
		host_notify_limits(h, &pc->group);
	return 0;
}

/*
 * Recompute what physical CPU `pcpu` (and the CPUs sharing its policy)
 * should do from every live request and apply it if it differs from what
 * is applied.
 */
int host_rearbitrate(struct vpwr_host *h, unsigned pcpu)
{
	struct vpwr_cpuset one;

	vpwr_cpuset_zero(&one);
	vpwr_cpuset_set(&one, pcpu);
	return host_rearbitrate_set(h, &one);
}

/* The same for every CPU of `cpus`, each group once; 0 or the first
 * error. */
int host_rearbitrate_set(struct vpwr_host *h, const struct vpwr_cpuset *cpus)
{
	struct vpwr_cpuset leaders;
	int rc = 0;

	if (!h->wishes) {
		h->wishes = calloc(h->nr_pcpus, sizeof(*h->wishes));
		if (!h->wishes)
			return -ENOMEM;
	}
	vpwr_cpuset_zero(&leaders);
	vpwr_cpuset_foreach(c, cpus)
		if ((unsigned)c < h->nr_pcpus)
			vpwr_cpuset_set(&leaders, h->pcpu[c].leader);
	collect(h, &leaders, h->wishes);
	vpwr_cpuset_foreach(c, &leaders) {
		int r = decide(h, (unsigned)c, h->wishes[c]);

		if (r < 0 && !rc)
			rc = r;
	}
	return rc;
}

void host_restore_all(struct vpwr_host *h)
{
	for (unsigned p = 0; p < h->nr_pcpus; p++)
		if (h->pcpu[p].leader == p)
			unmanage_group(h, p);
}

/* ------------------------------------------------- frequency domains */

/* While groups are built, `leader` links each CPU towards its root. */
static unsigned group_root(const struct vpwr_host *h, unsigned c)
{
	while (h->pcpu[c].leader != c)
		c = h->pcpu[c].leader;
	return c;
}

/*
 * Groups from what the backend says of each CPU, joined transitively (a
 * backend that names a CPU in two groups gets one group of both), each
 * led by its lowest CPU.
 */
void host_groups_init(struct vpwr_host *h)
{
	unsigned n = h->nr_pcpus;
	struct vpwr_cpuset set;
	char text[256];

	for (unsigned p = 0; p < n; p++)
		h->pcpu[p].leader = p;
	for (unsigned p = 0; p < n; p++) {
		if (vpwr_backend_policy_cpus(h->backend, p, &set) <= 1)
			continue;
		vpwr_cpuset_foreach(c, &set) {
			unsigned a, b;

			if ((unsigned)c >= n)
				continue;
			a = group_root(h, p);
			b = group_root(h, (unsigned)c);
			if (a < b)
				h->pcpu[b].leader = a;
			else
				h->pcpu[a].leader = b;
		}
	}
	for (unsigned p = 0; p < n; p++) {
		h->pcpu[p].leader = group_root(h, p);
		vpwr_cpuset_zero(&h->pcpu[p].group);
	}
	for (unsigned p = 0; p < n; p++)
		vpwr_cpuset_set(&h->pcpu[h->pcpu[p].leader].group, p);
	for (unsigned p = 0; p < n; p++) {
		const struct host_pcpu *l = &h->pcpu[h->pcpu[p].leader];

		h->pcpu[p].group = l->group;
		if (l == &h->pcpu[p] && vpwr_cpuset_count(&l->group) > 1) {
			vpwr_cpuset_format(&l->group, text, sizeof(text));
			log_info(&h->log, "pCPUs %s share a cpufreq policy: "
				 "arbitrated as one", text);
		}
	}
}

unsigned host_groups_of(const struct vpwr_host *h,
			const struct vpwr_cpuset *cpus, struct vpwr_cpuset *out)
{
	struct vpwr_cpuset seen;
	unsigned n = 0;

	vpwr_cpuset_zero(&seen);
	vpwr_cpuset_foreach(c, cpus) {
		unsigned l;

		if ((unsigned)c >= h->nr_pcpus)
			break;
		l = h->pcpu[c].leader;
		if (vpwr_cpuset_isset(&seen, l))
			continue;
		vpwr_cpuset_set(&seen, l);
		n++;
		for (size_t i = 0; i < VPWR_ARRAY_SIZE(out->bits); i++)
			out->bits[i] |= h->pcpu[l].group.bits[i];
	}
	return n;
}

bool host_domain_running(const struct vpwr_host *h, const char *name)
{
	/* 0 only when the resolver knows it does not run; a scheme that
	 * cannot tell (static:) runs every domain it knows. */
	return vpwr_resolver_domain_running(h->resolver, name) != 0;
}
