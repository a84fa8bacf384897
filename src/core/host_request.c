/* SPDX-License-Identifier: MIT */
/*
 * One request of one domain, start to finish: who may ask for what (the
 * vCPU must be the domain's own and sit on physical CPUs the host may
 * touch), what the request means as a [lo, hi] wish for that vCPU, and the
 * reply.  A request that cannot be applied leaves every CPU as it was.
 */
#include <stdio.h>

#include "host_internal.h"
#include "libvpwr/codec.h"

#define NACK(reply, req, rc, ...)                                              \
	(vpwr_msg_reply((reply), (req), (rc), __VA_ARGS__), (rc))

struct share_probe {
	struct vpwr_host *h;
	const char *self;
	const struct vpwr_cpuset *set;
	char other[HOST_DOMAIN_NAME_MAX];
	int pcpu;
};

static void probe_domain(const char *name, void *userdata)
{
	struct share_probe *sp = userdata;
	struct vpwr_cpuset theirs;
	int n;

	/* A domain that does not run uses no CPU; its config pinning says
	 * where it would, not where it is. */
	if (sp->pcpu >= 0 || !strcmp(name, sp->self) ||
	    !host_domain_running(sp->h, name))
		return;
	n = vpwr_resolver_nr_vcpus(sp->h->resolver, name);
	for (int v = 0; v < n; v++) {
		if (vpwr_resolver_lookup(sp->h->resolver, name, (unsigned)v,
					 &theirs) < 0)
			continue;
		vpwr_cpuset_foreach(c, sp->set) {
			if (vpwr_cpuset_isset(&theirs, (unsigned)c)) {
				sp->pcpu = c;
				vpwr_strlcpy(sp->other, name, sizeof(sp->other));
				return;
			}
		}
	}
}

/* The CPU of `set` that shares pcpu's policy. */
static int first_in_group(const struct vpwr_host *h,
			  const struct vpwr_cpuset *set, unsigned pcpu)
{
	vpwr_cpuset_foreach(c, set)
		if (h->pcpu[c].leader == h->pcpu[pcpu].leader)
			return c;
	return -1;
}

/*
 * The physical CPUs of vCPU `vcpu`, if the domain may act on them.  A vCPU
 * that floats over several CPUs is only steered when the domain has them
 * to itself (or the operator allowed sharing); exclusive mode refuses any
 * CPU another domain may run on.
 */
int host_resolve_vcpu(struct vpwr_host *h, struct host_domain *d,
		      unsigned vcpu, const struct vpwr_msg *req,
		      struct vpwr_cpuset *set, struct vpwr_msg *reply)
{
	struct vpwr_cpuset reach;
	unsigned n;
	int rc;

	if (vcpu == VPWR_VCPU_NONE || vcpu >= d->nr_vcpus)
		return NACK(reply, req, -VPWR_E_VCPU_RANGE,
			    "vCPU %u out of range: domain %s has %u vCPUs",
			    vcpu, d->name, d->nr_vcpus);
	if (!host_domain_running(h, d->name))
		return NACK(reply, req, -VPWR_E_NOT_PINNED,
			    "domain %s is not running: its vCPUs have no "
			    "physical CPU", d->name);
	rc = vpwr_resolver_lookup(h->resolver, d->name, vcpu, set);
	if (rc < 0)
		return NACK(reply, req, rc, "vCPU %u: %s", vcpu,
			    vpwr_strerror(rc));
	n = vpwr_cpuset_count(set);
	if (!n)
		return NACK(reply, req, -VPWR_E_NOT_PINNED,
			    "vCPU %u is not pinned to any physical CPU", vcpu);
	vpwr_cpuset_foreach(c, set) {
		if ((unsigned)c >= h->nr_pcpus)
			return NACK(reply, req, -VPWR_E_NOT_PINNED,
				    "vCPU %u runs on pCPU %d, which the %s "
				    "backend does not have",
				    vcpu, c, vpwr_backend_name(h->backend));
	}
	/* CPUs that share a cpufreq policy are one frequency domain: a vCPU
	 * floating within one floats nowhere, frequency-wise, and another
	 * domain on any CPU of it shares its frequency. */
	vpwr_cpuset_zero(&reach);
	n = host_groups_of(h, set, &reach);
	if ((n > 1 && !h->opts.allow_shared) ||
	    h->opts.mode == VPWR_ARB_EXCLUSIVE) {
		struct share_probe sp = { .h = h, .self = d->name,
					  .set = &reach, .pcpu = -1 };

		vpwr_resolver_foreach_domain(h->resolver, probe_domain, &sp);
		if (sp.pcpu >= 0 && vpwr_cpuset_isset(set, (unsigned)sp.pcpu))
			return NACK(reply, req, -VPWR_E_SHARED_CPU,
				    "vCPU %u: pCPU %d is shared with domain %s",
				    vcpu, sp.pcpu, sp.other);
		if (sp.pcpu >= 0)
			return NACK(reply, req, -VPWR_E_SHARED_CPU,
				    "vCPU %u: pCPU %d, which shares a cpufreq "
				    "policy with its pCPU %d, is used by domain "
				    "%s", vcpu, sp.pcpu,
				    first_in_group(h, set, (unsigned)sp.pcpu),
				    sp.other);
	}
	return 0;
}

bool host_vcpu_allowed(struct vpwr_host *h, struct host_domain *d,
		       unsigned vcpu, char *why, size_t len)
{
	struct vpwr_msg req, reply;
	struct vpwr_cpuset set;

	vpwr_msg_init(&req, VPWR_MSG_SCALE, 0, vcpu);
	if (host_resolve_vcpu(h, d, vcpu, &req, &set, &reply) == 0)
		return true;
	if (why)
		vpwr_strlcpy(why, reply.reason, len);
	return false;
}

int host_freq_table(struct vpwr_host *h, unsigned pcpu, uint32_t *tbl)
{
	int n = vpwr_backend_get_freqs(h->backend, pcpu, tbl, HOST_MAX_FREQS);

	if (n == 0)
		return -VPWR_E_UNSUPPORTED;
	return n < 0 ? n : VPWR_MIN(n, HOST_MAX_FREQS);
}

/* Where SCALE goes: relative to the guest's own wish, else to now. */
static uint32_t scale_target(struct vpwr_host *h, unsigned pcpu,
			     const struct vcpu_request *own, unsigned op,
			     const uint32_t *tbl, int n)
{
	uint32_t base = own->hi_khz;

	if (!base)
		vpwr_backend_get_freq(h->backend, pcpu, &base);
	switch (op) {
	case VPWR_SCALE_MIN:
		return tbl[0];
	case VPWR_SCALE_MAX:
		return tbl[n - 1];
	case VPWR_SCALE_MEDIUM:
		return tbl[(n - 1) / 2];
	case VPWR_SCALE_UP:
		for (int i = 0; i < n; i++)
			if (tbl[i] > base)
				return tbl[i];
		return tbl[n - 1];
	default: /* VPWR_SCALE_DOWN */
		for (int i = n - 1; i >= 0; i--)
			if (tbl[i] < base)
				return tbl[i];
		return tbl[0];
	}
}

/* Turn a change request into the vCPU's new wish; 0 or a NACK. */
static int make_wish(struct vpwr_host *h, const struct vpwr_msg *req,
		     unsigned pcpu, struct vcpu_request *w,
		     struct vpwr_msg *reply)
{
	uint32_t tbl[HOST_MAX_FREQS];
	int n, caps;

	if (req->type == VPWR_MSG_TURBO || req->type == VPWR_MSG_SET_EPP) {
		bool turbo = req->type == VPWR_MSG_TURBO;
		unsigned need = turbo ? VPWR_BACKEND_CAP_TURBO
				      : VPWR_BACKEND_CAP_EPP;

		caps = vpwr_backend_caps(h->backend, pcpu);
		if (caps < 0 || !(caps & need))
			return NACK(reply, req, -VPWR_E_UNSUPPORTED,
				    "the %s backend cannot %s on pCPU %u",
				    vpwr_backend_name(h->backend),
				    turbo ? "switch turbo" : "set EPP", pcpu);
		if (turbo)
			w->turbo = (int)req->u.turbo.enable;
		else
			w->epp = (int)req->u.epp.hint;
		return 0;
	}
	n = host_freq_table(h, pcpu, tbl);
	if (n < 0)
		return NACK(reply, req, n, "pCPU %u: no frequency table: %s",
			    pcpu, vpwr_strerror(n));
	switch (req->type) {
	case VPWR_MSG_SCALE:
		w->lo_khz = w->hi_khz =
			scale_target(h, pcpu, w, req->u.scale.op, tbl, n);
		return 0;
	case VPWR_MSG_SET_FREQ:
		if (req->u.freq.khz < tbl[0] || req->u.freq.khz > tbl[n - 1])
			break;
		for (int i = 0; i < n; i++)
			if (tbl[i] <= req->u.freq.khz)
				w->lo_khz = w->hi_khz = tbl[i];
		return 0;
	default: /* VPWR_MSG_SET_RANGE */
		if (req->u.range.min_khz < tbl[0] ||
		    req->u.range.max_khz > tbl[n - 1])
			break;
		w->lo_khz = req->u.range.min_khz;
		w->hi_khz = req->u.range.max_khz;
		return 0;
	}
	return NACK(reply, req, -VPWR_E_BAD_FREQ,
		    "frequency outside pCPU %u's range %u..%u kHz", pcpu,
		    tbl[0], tbl[n - 1]);
}

void host_fill_state(struct vpwr_host *h, struct host_domain *d,
		       unsigned vcpu, unsigned pcpu, struct vpwr_vcpu_state *st)
{
	const struct host_pcpu *pc = &h->pcpu[pcpu];
	const struct vcpu_request *own = &d->req[vcpu];
	int t = vpwr_backend_get_turbo(h->backend, pcpu);

	memset(st, 0, sizeof(*st));
	vpwr_backend_get_freq(h->backend, pcpu, &st->cur_khz);
	if (pc->managed && pc->max_khz) {
		st->min_khz = pc->min_khz;
		st->max_khz = pc->max_khz;
	} else {
		vpwr_backend_get_limits(h->backend, pcpu, &st->min_khz,
					&st->max_khz);
	}
	st->turbo = t > 0;
	t = vpwr_backend_get_epp(h->backend, pcpu);
	st->epp = t > 0 ? (uint32_t)t : 0;
	st->req_min_khz = own->lo_khz;
	st->req_max_khz = own->hi_khz;
	st->clamped = own->hi_khz && (own->hi_khz != st->max_khz ||
				      own->lo_khz != st->min_khz);
}

static int change(struct vpwr_host *h, struct host_domain *d,
		  const struct vpwr_msg *req, struct vpwr_msg *reply)
{
	struct vpwr_cpuset set;
	struct vcpu_request *own, saved;
	int first, rc;

	rc = host_resolve_vcpu(h, d, req->vcpu, req, &set, reply);
	if (rc < 0)
		return rc;
	first = vpwr_cpuset_next(&set, 0);
	own = &d->req[req->vcpu];
	saved = *own;
	rc = make_wish(h, req, (unsigned)first, own, reply);
	if (rc < 0)
		return rc;
	vpwr_cpuset_foreach(c, &set) {
		rc = host_rearbitrate(h, (unsigned)c);
		if (rc < 0)
			break;
	}
	if (rc < 0) {
		/* Leave every CPU as it was before this request. */
		*own = saved;
		vpwr_cpuset_foreach(c, &set)
			host_rearbitrate(h, (unsigned)c);
		return NACK(reply, req, rc, "backend refused the change: %s",
			    vpwr_strerror(rc));
	}
	vpwr_msg_reply(reply, req, 0, NULL);
	host_fill_state(h, d, req->vcpu, (unsigned)first, &reply->u.state);
	return 0;
}

static int query(struct vpwr_host *h, struct host_domain *d,
		 const struct vpwr_msg *req, struct vpwr_msg *reply)
{
	uint32_t tbl[HOST_MAX_FREQS];
	struct vpwr_cpuset set;
	int first, n, rc;

	rc = host_resolve_vcpu(h, d, req->vcpu, req, &set, reply);
	if (rc < 0)
		return rc;
	first = vpwr_cpuset_next(&set, 0);
	vpwr_msg_reply(reply, req, 0, NULL);
	if (req->type == VPWR_MSG_QUERY_STATE) {
		host_fill_state(h, d, req->vcpu, (unsigned)first, &reply->u.state);
		return 0;
	}
	n = host_freq_table(h, (unsigned)first, tbl);
	if (n < 0)
		return NACK(reply, req, n, "pCPU %d: %s", first,
			    vpwr_strerror(n));
	reply->u.freqs.nr = (uint32_t)VPWR_MIN(n, VPWR_MSG_MAX_FREQS);
	memcpy(reply->u.freqs.khz, tbl, reply->u.freqs.nr * sizeof(*tbl));
	vpwr_backend_get_freq(h->backend, (unsigned)first,
			      &reply->u.freqs.cur_khz);
	return 0;
}

static int hello(struct vpwr_host *h, struct host_domain *d,
		 const struct vpwr_msg *req, struct vpwr_msg *reply)
{
	const struct vpwr_hello *in = &req->u.hello;
	struct vpwr_hello *out = &reply->u.hello;
	int caps = vpwr_backend_caps(h->backend, 0);

	if (req->type == VPWR_MSG_HELLO &&
	    (in->version_min > VPWR_PROTO_VERSION || in->version_max < 1))
		return NACK(reply, req, -VPWR_E_VERSION,
			    "guest speaks versions %u..%u, host speaks 1..%u",
			    in->version_min, in->version_max,
			    VPWR_PROTO_VERSION);
	vpwr_msg_reply(reply, req, 0, NULL);
	out->version_min = 1;
	out->version_max = VPWR_PROTO_VERSION;
	if (req->type == VPWR_MSG_HELLO && in->version_max < VPWR_PROTO_VERSION)
		out->version_max = in->version_max;
	/* After a HELLO the channel also gets LIMITS_CHANGED notifications
	 * (host.c). */
	out->caps = VPWR_CAP_RANGE | VPWR_CAP_POLICY | VPWR_CAP_NOTIFY;
	out->rate_per_sec = h->opts.rate_per_s;
	if (caps > 0 && (caps & VPWR_BACKEND_CAP_TURBO))
		out->caps |= VPWR_CAP_TURBO;
	if (caps > 0 && (caps & VPWR_BACKEND_CAP_EPP))
		out->caps |= VPWR_CAP_EPP;
	out->max_frame = VPWR_NATIVE_MAX_FRAME;
	out->nr_vcpus = d->nr_vcpus;
	return 0;
}

/* Re-decide every physical CPU any vCPU of the domain may run on. */
int host_rearbitrate_domain(struct vpwr_host *h, struct host_domain *d)
{
	struct vpwr_cpuset touched;

	vpwr_cpuset_zero(&touched);
	host_domain_cpus(h, d, &touched);
	return host_rearbitrate_set(h, &touched);
}

/* Add every physical CPU any vCPU of the domain may run on to *cpus. */
void host_domain_cpus(struct vpwr_host *h, const struct host_domain *d,
		      struct vpwr_cpuset *cpus)
{
	struct vpwr_cpuset set;

	for (unsigned v = 0; v < d->nr_vcpus; v++) {
		if (vpwr_resolver_lookup(h->resolver, d->name, v, &set) < 0)
			continue;
		for (size_t i = 0; i < VPWR_ARRAY_SIZE(set.bits); i++)
			cpus->bits[i] |= set.bits[i];
	}
}

/* Drop every wish and policy of the domain and let its CPUs go back. */
void host_domain_release(struct vpwr_host *h, struct host_domain *d)
{
	for (unsigned v = 0; v < d->nr_vcpus; v++) {
		d->req[v] = d->pol[v] = VCPU_REQUEST_NONE;
	}
	host_policy_drop(h, d);
	host_rearbitrate_domain(h, d);
}

/* Frequencies and capabilities of every vCPU (or one), for DPDK's lists. */
static int query_vcpus(struct vpwr_host *h, struct host_domain *d,
		       const struct vpwr_msg *req, struct vpwr_msg *reply)
{
	struct vpwr_vcpu_list *l = &reply->u.vcpus;
	unsigned first = req->vcpu == VPWR_VCPU_NONE ? 0 : req->vcpu;
	struct vpwr_cpuset set;

	if (req->vcpu != VPWR_VCPU_NONE && req->vcpu >= d->nr_vcpus)
		return NACK(reply, req, -VPWR_E_VCPU_RANGE,
			    "vCPU %u out of range: domain %s has %u vCPUs",
			    req->vcpu, d->name, d->nr_vcpus);
	vpwr_msg_reply(reply, req, 0, NULL);
	l->want = req->u.vcpus.want;
	l->first = first;
	l->nr_vcpus = d->nr_vcpus;
	l->nr = req->vcpu == VPWR_VCPU_NONE
			? VPWR_MIN(d->nr_vcpus, (unsigned)VPWR_MSG_MAX_VCPUS)
			: 1;
	for (unsigned i = 0; i < l->nr; i++) {
		int pcpu, caps;

		/* A vCPU without a CPU of ours reports 0 kHz, no turbo. */
		if (vpwr_resolver_lookup(h->resolver, d->name, first + i,
					 &set) < 0)
			continue;
		pcpu = vpwr_cpuset_next(&set, 0);
		if (pcpu < 0 || (unsigned)pcpu >= h->nr_pcpus)
			continue;
		vpwr_backend_get_freq(h->backend, (unsigned)pcpu,
				      &l->cur_khz[i]);
		caps = vpwr_backend_caps(h->backend, (unsigned)pcpu);
		if (caps > 0 && (caps & VPWR_BACKEND_CAP_TURBO))
			l->turbo_mask |= (uint64_t)1 << i;
	}
	return 0;
}

int host_handle_request(struct vpwr_host *h, struct host_domain *d,
			const struct vpwr_msg *req, struct vpwr_msg *reply,
			bool validated)
{
	const char *why = NULL;
	int rc;

	if (req->flags & (VPWR_MSG_F_REPLY | VPWR_MSG_F_NOTIFY))
		return NACK(reply, req, -EBADMSG,
			    "the host accepts only requests");
	/* A decoder has validated what came over a channel; only a message
	 * handed to vpwr_host_handle() still needs it. */
	rc = validated ? 0 : vpwr_msg_validate(req, &why);
	if (rc < 0)
		return NACK(reply, req, rc, "%s", why ? why : "invalid request");
	switch (req->type) {
	case VPWR_MSG_HELLO:
	case VPWR_MSG_QUERY_CAPS:
		return hello(h, d, req, reply);
	case VPWR_MSG_SCALE:
	case VPWR_MSG_SET_FREQ:
	case VPWR_MSG_SET_RANGE:
	case VPWR_MSG_TURBO:
	case VPWR_MSG_SET_EPP:
		return change(h, d, req, reply);
	case VPWR_MSG_QUERY_FREQS:
	case VPWR_MSG_QUERY_STATE:
		return query(h, d, req, reply);
	case VPWR_MSG_RELEASE:
		host_domain_release(h, d);
		vpwr_msg_reply(reply, req, 0, NULL);
		return 0;
	case VPWR_MSG_POLICY_SET:
		return host_policy_set(h, d, req, reply);
	case VPWR_MSG_POLICY_REMOVE:
		return host_policy_remove(h, d, req, reply);
	case VPWR_MSG_QUERY_VCPUS:
		return query_vcpus(h, d, req, reply);
	default:
		return NACK(reply, req, -EBADMSG, "%s is not a request",
			    vpwr_msg_type_name(req->type));
	}
}
