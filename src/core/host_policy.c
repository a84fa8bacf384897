/* SPDX-License-Identifier: MIT */
/*
 * Policies a guest hands to the host, and their evaluators.  A domain holds
 * at most one policy of each kind; each vCPU gets the level (min, medium,
 * max of its CPU's table) that the first kind with an opinion gives, in
 * the order TIME, TRAFFIC, BRANCH_RATIO, WORKLOAD (docs/POLICIES.md).
 *
 * Nothing here polls.  TIME policies are evaluated when a CLOCK_REALTIME
 * timerfd reaches the next local hour boundary (or the clock is set);
 * TRAFFIC and BRANCH_RATIO counters are sampled when the host's monotonic
 * timer reaches sample_due_ns.  Either timer is armed only while a policy
 * needs it, so a host without such policies never wakes up.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "host_internal.h"
#include "policy_source.h"
#include "tz.h"

#define NACK(reply, req, rc, ...)                                              \
	(vpwr_msg_reply((reply), (req), (rc), __VA_ARGS__), (rc))

#define TRAFFIC_PERIOD_MS 1000u    /* default sampling period */
#define DOWN_SAMPLES 3             /* samples in a row before a step down */
#define TRAFFIC_MARGIN_PCT 10      /* a step down needs the rate this far
				      below the threshold it came in by */
#define BRANCH_DEFAULT_PPM 1000u   /* DPDK's default threshold, 0.1 % */
#define BRANCH_IDLE_PER_MS 100u    /* fewer branches per ms: an idle CPU
				      (DPDK's rule), counted as below */
#define PPS_CAP ((uint64_t)1 << 40)

static const char *const policy_names[] = { "", "TIME ", "TRAFFIC ",
					    "WORKLOAD ", "BRANCH_RATIO " };
static const char *const level_names[] = { "none", "min", "medium", "max" };

static bool held(const struct host_domain *d, unsigned kind)
{
	return d->policy_mask & (1u << kind);
}

static bool cpuset_empty(const struct vpwr_cpuset *s)
{
	for (size_t i = 0; i < VPWR_ARRAY_SIZE(s->bits); i++)
		if (s->bits[i])
			return false;
	return true;
}

static bool policy_covers(const struct vpwr_policy *p, unsigned vcpu)
{
	/* An empty vCPU set means every vCPU of the domain. */
	return vpwr_cpuset_isset(&p->vcpus, vcpu) || cpuset_empty(&p->vcpus);
}

/* Every vCPU of the domain that `a` covers, `b` covers too. */
static bool covers_all(const struct host_domain *d, const struct vpwr_policy *a,
		       const struct vpwr_policy *b)
{
	for (unsigned v = 0; v < d->nr_vcpus; v++)
		if (policy_covers(a, v) && !policy_covers(b, v))
			return false;
	return true;
}

static int64_t clock_ms(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The wall clock TIME policies read: Unix time in ms. */
static int64_t wall_ms(struct vpwr_host *h)
{
	return h->opts.now_fn ? h->opts.now_fn(h->opts.now_userdata)
			      : clock_ms(CLOCK_REALTIME);
}

/* The clock rates are measured on: the embedder's, else monotonic. */
static int64_t rate_ms(struct vpwr_host *h)
{
	return h->opts.now_fn ? h->opts.now_fn(h->opts.now_userdata)
			      : clock_ms(CLOCK_MONOTONIC);
}

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* ------------------------------------------------------------- wishes */

static uint8_t vcpu_level(const struct host_domain *d, unsigned v)
{
	const struct vpwr_policy *tm = &d->policy[VPWR_POLICY_TIME];
	const struct vpwr_policy *tr = &d->policy[VPWR_POLICY_TRAFFIC];
	const struct vpwr_policy *wl = &d->policy[VPWR_POLICY_WORKLOAD];
	bool traffic = held(d, VPWR_POLICY_TRAFFIC) && policy_covers(tr, v);
	uint8_t lv;

	if (held(d, VPWR_POLICY_TIME) && policy_covers(tm, v)) {
		switch (d->hour_class) {
		case HOUR_BUSY:
			return LEVEL_MAX;
		case HOUR_QUIET:
			return LEVEL_MIN;
		case HOUR_TRAFFIC:
			lv = d->traffic[traffic ? TRAFFIC_OF_TRAFFIC
						: TRAFFIC_OF_TIME].level;
			if (lv)
				return lv;
			break;
		default:
			/* Hours it names for traffic are the only ones the
			 * TRAFFIC policy runs in. */
			if (tm->traffic_hours)
				traffic = false;
		}
	}
	if (traffic && (lv = d->traffic[TRAFFIC_OF_TRAFFIC].level))
		return lv;
	if (held(d, VPWR_POLICY_BRANCH_RATIO) &&
	    policy_covers(&d->policy[VPWR_POLICY_BRANCH_RATIO], v) &&
	    (lv = d->branch[v].level))
		return lv;
	if (held(d, VPWR_POLICY_WORKLOAD) && policy_covers(wl, v)) {
		switch (wl->workload) {
		case VPWR_WORKLOAD_HIGH:
			return LEVEL_MAX;
		case VPWR_WORKLOAD_MEDIUM:
			return LEVEL_MEDIUM;
		default:
			return LEVEL_MIN;
		}
	}
	return LEVEL_NONE;
}

static uint32_t level_khz(const uint32_t *tbl, int n, uint8_t level)
{
	switch (level) {
	case LEVEL_MAX:
		return tbl[n - 1];
	case LEVEL_MEDIUM:
		return tbl[(n - 1) / 2];
	default:
		return tbl[0];
	}
}

/* What the domain's policies want for each vCPU now; true if it
 * changed. */
static bool domain_wishes(struct vpwr_host *h, struct host_domain *d)
{
	uint32_t tbl[HOST_MAX_FREQS];
	struct vpwr_cpuset set;
	bool changed = false;

	for (unsigned v = 0; v < d->nr_vcpus; v++) {
		struct vcpu_request w = VCPU_REQUEST_NONE;
		uint8_t lv = vcpu_level(d, v);
		int n, pcpu;

		/* Pinning may have changed since the policy was checked. */
		if (vpwr_cpuset_isset(&d->blocked, v))
			lv = 0;
		if (lv && vpwr_resolver_lookup(h->resolver, d->name, v, &set) == 0 &&
		    (pcpu = vpwr_cpuset_next(&set, 0)) >= 0 &&
		    (unsigned)pcpu < h->nr_pcpus &&
		    (n = host_freq_table(h, (unsigned)pcpu, tbl)) > 0)
			w.lo_khz = w.hi_khz = level_khz(tbl, n, lv);
		if (w.lo_khz != d->pol[v].lo_khz || w.hi_khz != d->pol[v].hi_khz) {
			d->pol[v] = w;
			changed = true;
		}
	}
	return changed;
}

/* The same, then re-decide the domain's CPUs if it changed.  Returns 0 or
 * the backend's error. */
static int domain_update(struct vpwr_host *h, struct host_domain *d)
{
	return domain_wishes(h, d) ? host_rearbitrate_domain(h, d) : 0;
}

/*
 * Many domains changing at once (an hour boundary, a sampling round):
 * every CPU they touch is decided once, from one pass over all wishes.
 */
struct batch {
	struct vpwr_cpuset cpus;
	bool any;
};

static void batch_add(struct vpwr_host *h, struct batch *b,
		      struct host_domain *d)
{
	if (!domain_wishes(h, d))
		return;
	host_domain_cpus(h, d, &b->cpus);
	b->any = true;
}

static int batch_apply(struct vpwr_host *h, const struct batch *b)
{
	return b->any ? host_rearbitrate_set(h, &b->cpus) : 0;
}

/* ---------------------------------------------------------------- TIME */

static uint8_t hour_class_of(const struct vpwr_policy *p, int hour)
{
	uint32_t bit = 1u << hour;

	if (p->busy_hours & bit)
		return HOUR_BUSY;
	if (p->quiet_hours & bit)
		return HOUR_QUIET;
	if (p->traffic_hours & bit)
		return HOUR_TRAFFIC;
	return HOUR_OTHER;
}

/*
 * Arm the realtime timer for `next_s` (Unix seconds by the policy clock),
 * or disarm it (next_s < 0).  Absolute and cancelled when the clock is set,
 * so that a clock step or a resume re-evaluates at once.  An embedder's
 * clock is mapped onto the real one by its distance to the boundary.
 */
static void time_arm(struct vpwr_host *h, int64_t now_ms, int64_t next_s)
{
	struct itimerspec its = { 0 };
	int flags = 0;

	if (next_s >= 0) {
		flags = TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET;
		if (h->opts.now_fn) {
			int64_t wait = VPWR_MAX(next_s * 1000 - now_ms, 1), ns;
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ns = ts.tv_nsec + (wait % 1000) * 1000000;
			its.it_value.tv_sec = ts.tv_sec + (time_t)(wait / 1000) +
					      (time_t)(ns / 1000000000);
			its.it_value.tv_nsec = (long)(ns % 1000000000);
		} else {
			its.it_value.tv_sec = (time_t)next_s;
			its.it_value.tv_nsec = next_s ? 0 : 1; /* 0 disarms */
		}
	}
	if (timerfd_settime(h->timefd, flags, &its, NULL) < 0)
		log_err(&h->log, "timerfd_settime (TIME policies): %s",
			vpwr_strerror(-errno));
}

/* The local hour now (-1 if unknown); arms the timer while TIME is held. */
static int time_hour_now(struct vpwr_host *h)
{
	int64_t now, next_s;
	bool any = false;
	int hour, rc;

	for (struct host_domain *d = h->domains; d && !any; d = d->next)
		any = held(d, VPWR_POLICY_TIME);
	if (!any) {
		time_arm(h, 0, -1);
		return -1;
	}
	now = wall_ms(h);
	rc = vpwr_tz_hour(h->tz, floor_div(now, 1000), &hour, &next_s);
	if (rc < 0) {
		log_warn(&h->log, "TIME policies: the clock reads %lld ms: %s",
			 (long long)now, vpwr_strerror(rc));
		time_arm(h, now, -1);
		return -1;
	}
	time_arm(h, now, next_s);
	return hour;
}

static void time_classify(struct vpwr_host *h, struct host_domain *d, int hour)
{
	uint8_t c = HOUR_OTHER;

	if (held(d, VPWR_POLICY_TIME) && hour >= 0)
		c = hour_class_of(&d->policy[VPWR_POLICY_TIME], hour);
	if (c != d->hour_class && held(d, VPWR_POLICY_TIME))
		log_info(&h->log, "domain %s: hour %d (%s) is %s", d->name, hour,
			 vpwr_tz_name(h->tz),
			 c == HOUR_BUSY    ? "busy"
			 : c == HOUR_QUIET ? "quiet"
			 : c == HOUR_TRAFFIC ? "a traffic hour"
					     : "neither busy nor quiet");
	d->hour_class = c;
}

static void sampling_update(struct vpwr_host *h);

/*
 * Classify the hour for every TIME policy, re-arm, and re-decide every
 * domain but `skip` (whose caller does that itself).  Returns 0 or the
 * first backend error.
 */
static int time_evaluate(struct vpwr_host *h, struct host_domain *skip)
{
	int hour = time_hour_now(h);
	struct batch b = { .any = false };

	vpwr_cpuset_zero(&b.cpus);
	for (struct host_domain *d = h->domains; d; d = d->next)
		time_classify(h, d, hour);
	sampling_update(h);
	for (struct host_domain *d = h->domains; d; d = d->next)
		if (d != skip && held(d, VPWR_POLICY_TIME))
			batch_add(h, &b, d);
	return batch_apply(h, &b);
}

void host_policy_time_event(struct vpwr_host *h)
{
	uint64_t ticks;

	if (read(h->timefd, &ticks, sizeof(ticks)) < 0 && errno == ECANCELED)
		log_info(&h->log, "the wall clock was set: evaluating TIME "
			 "policies again");
	time_evaluate(h, NULL);
}

/* ------------------------------------------------------------- TRAFFIC */

static bool traffic_source(const struct vpwr_host *h,
			   const struct traffic_state *ts)
{
	return h->opts.traffic_fn || ts->src;
}

/* Whether the rate of traffic[k] can decide anything now. */
static bool traffic_needed(const struct vpwr_host *h,
			   const struct host_domain *d, int k)
{
	const struct vpwr_policy *tm = &d->policy[VPWR_POLICY_TIME];
	const struct vpwr_policy *tr = &d->policy[VPWR_POLICY_TRAFFIC];
	bool time = held(d, VPWR_POLICY_TIME);

	if (!traffic_source(h, &d->traffic[k]))
		return false;
	/* A domain that does not run has no traffic to count (its taps are
	 * gone), and its wishes count for nothing until it runs again. */
	if (d->ran == 0) /* as of the last refresh: no lookup per sample */
		return false;
	if (k == TRAFFIC_OF_TRAFFIC) {
		if (!held(d, VPWR_POLICY_TRAFFIC))
			return false;
		if (!time || !covers_all(d, tr, tm))
			return true;
		return d->hour_class == HOUR_TRAFFIC ||
		       (d->hour_class == HOUR_OTHER && !tm->traffic_hours);
	}
	if (!time || !tm->max_pps || d->hour_class != HOUR_TRAFFIC)
		return false;
	return !held(d, VPWR_POLICY_TRAFFIC) || !covers_all(d, tm, tr);
}

static const struct vpwr_policy *traffic_policy(const struct host_domain *d,
						int k)
{
	return &d->policy[k == TRAFFIC_OF_TIME ? VPWR_POLICY_TIME
					       : VPWR_POLICY_TRAFFIC];
}

static int traffic_read(struct vpwr_host *h, struct host_domain *d, int k,
			uint64_t *packets)
{
	const struct vpwr_policy *p = traffic_policy(d, k);
	struct traffic_state *ts = &d->traffic[k];
	char why[VPWR_REASON_MAX];
	int rc;

	if (h->opts.traffic_fn)
		return h->opts.traffic_fn(d->name, p, packets,
					  h->opts.traffic_userdata);
	rc = tsrc_read(&h->tsrc, ts->src, packets);
	if (rc < 0 && rc != -ENOMEM &&
	    tsrc_prepare(&h->tsrc, d->name, p, ts->src, why, sizeof(why)) == 0) {
		/* Interfaces come and go with the guest's NICs: count
		 * afresh over the ones there are now. */
		ts->based = false;
		rc = tsrc_read(&h->tsrc, ts->src, packets);
	}
	return rc;
}

/* The level a rate asks for, with thresholds scaled to pct percent. */
static uint8_t traffic_classify(const struct vpwr_policy *p, uint64_t pps,
				unsigned pct)
{
	if (pps * 100 >= (uint64_t)p->max_pps * pct)
		return LEVEL_MAX;
	if (pps * 100 >= (uint64_t)p->avg_pps * pct)
		return LEVEL_MEDIUM;
	return LEVEL_MIN;
}

/*
 * Hysteresis: up at once when the rate reaches a threshold; down only
 * when the rate has stayed below the threshold minus the margin for
 * DOWN_SAMPLES samples in a row, or at once to min when it falls below
 * min_pps (the interfaces have gone quiet).
 */
static void traffic_step(const struct vpwr_policy *p, struct traffic_state *ts)
{
	uint8_t up = traffic_classify(p, ts->pps, 100);
	uint8_t down = traffic_classify(p, ts->pps, 100 - TRAFFIC_MARGIN_PCT);

	if (ts->level == LEVEL_NONE || up > ts->level) {
		ts->level = up;
		ts->below = 0;
	} else if (ts->pps < p->min_pps) {
		ts->level = LEVEL_MIN;
		ts->below = 0;
	} else if (down >= ts->level) {
		ts->below = 0;
	} else if (++ts->below >= DOWN_SAMPLES) {
		ts->level = down;
		ts->below = 0;
	}
}

/* One sample of traffic[k]; true if its level changed. */
static bool traffic_sample(struct vpwr_host *h, struct host_domain *d, int k,
			   int64_t now)
{
	struct traffic_state *ts = &d->traffic[k];
	uint8_t old = ts->level;
	uint64_t pk;
	int rc = traffic_read(h, d, k, &pk);

	if (rc < 0) {
		log_debug(&h->log, "domain %s: %spolicy: no packet count: %s",
			  d->name, policy_names[k == TRAFFIC_OF_TIME ? 1 : 2],
			  vpwr_strerror(rc));
		return false;
	}
	if (ts->based && now == ts->at_ms)
		return false; /* no time has passed: wait for some */
	if (!ts->based || pk < ts->packets || now < ts->at_ms) {
		/* A first count, a counter reset, or a clock set back. */
		ts->based = true;
		ts->packets = pk;
		ts->at_ms = now;
		return false;
	}
	ts->pps = (uint64_t)VPWR_MIN((unsigned __int128)(pk - ts->packets) *
					     1000 / (uint64_t)(now - ts->at_ms),
				     (unsigned __int128)PPS_CAP);
	ts->packets = pk;
	ts->at_ms = now;
	traffic_step(traffic_policy(d, k), ts);
	if (ts->level != old)
		log_info(&h->log, "domain %s: %llu packets/s: %s", d->name,
			 (unsigned long long)ts->pps, level_names[ts->level]);
	return ts->level != old;
}

static void traffic_stop(struct traffic_state *ts)
{
	ts->sampling = ts->based = false;
	ts->level = LEVEL_NONE;
	ts->below = 0;
}

/*
 * Start and stop samplers as policies and hours change, and keep the
 * sampling timer armed exactly while something is sampled.
 */
static void sampling_update(struct vpwr_host *h)
{
	uint64_t period_ns = (uint64_t)h->opts.traffic_period_ms * 1000000u;
	bool any = false;

	for (struct host_domain *d = h->domains; d; d = d->next) {
		for (int k = 0; k < 2; k++) {
			struct traffic_state *ts = &d->traffic[k];
			bool need = traffic_needed(h, d, k);

			if (need && !ts->sampling) {
				ts->sampling = true;
				/* The first count: rates start from here. */
				traffic_sample(h, d, k, rate_ms(h));
			} else if (!need && ts->sampling) {
				traffic_stop(ts);
			}
			any |= need;
		}
		any |= held(d, VPWR_POLICY_BRANCH_RATIO);
	}
	if (any && !h->sample_due_ns) {
		h->sample_due_ns = vpwr_now_ns() + period_ns;
		host_timer_arm(h);
	} else if (!any && h->sample_due_ns) {
		h->sample_due_ns = 0;
		h->last_sample_ms = INT64_MIN;
		host_timer_arm(h);
	}
}

/* Where a policy's packets come from: the embedder's callback, or the
 * host's own sources (traffic_source.h).  0, or -errno with `why` filled. */
static int traffic_prepare(struct vpwr_host *h, const struct host_domain *d,
			   const struct vpwr_policy *p, struct tsrc_set **out,
			   char *why, size_t len)
{
	struct tsrc_set *src;
	int rc;

	*out = NULL;
	if (h->opts.traffic_fn)
		return 0;
	src = calloc(1, sizeof(*src));
	if (!src)
		return -ENOMEM;
	rc = tsrc_prepare(&h->tsrc, d->name, p, src, why, len);
	if (rc < 0) {
		free(src);
		return rc;
	}
	*out = src;
	return 0;
}

/* -------------------------------------------------------- BRANCH_RATIO */

/* The physical CPUs BRANCH_RATIO policies watch now. */
static void branch_cpus(struct vpwr_host *h, struct vpwr_cpuset *need)
{
	struct vpwr_cpuset set;

	vpwr_cpuset_zero(need);
	for (struct host_domain *d = h->domains; d; d = d->next) {
		const struct vpwr_policy *p = &d->policy[VPWR_POLICY_BRANCH_RATIO];

		if (!held(d, VPWR_POLICY_BRANCH_RATIO))
			continue;
		for (unsigned v = 0; v < d->nr_vcpus; v++) {
			if (!policy_covers(p, v) ||
			    vpwr_resolver_lookup(h->resolver, d->name, v, &set) < 0)
				continue;
			vpwr_cpuset_foreach(c, &set)
				if ((unsigned)c < h->nr_pcpus)
					vpwr_cpuset_set(need, (unsigned)c);
		}
	}
}

static int branch_counters(struct vpwr_host *h, unsigned pcpu, uint64_t *b,
			   uint64_t *m)
{
	struct host_pcpu *pc = &h->pcpu[pcpu];
	int rc;

	if (h->opts.branch_fn)
		return h->opts.branch_fn(pcpu, b, m, h->opts.branch_userdata);
	if (pc->perf_fds[0] < 0) {
		rc = perf_branch_open(pcpu, pc->perf_fds);
		if (rc < 0)
			return rc;
	}
	return perf_branch_read(pc->perf_fds, b, m);
}

/* Read the counters of `pcpu`; fresh deltas when there was a reading. */
static void branch_read(struct vpwr_host *h, unsigned pcpu)
{
	struct host_pcpu *pc = &h->pcpu[pcpu];
	uint64_t b, m;
	int rc = branch_counters(h, pcpu, &b, &m);

	pc->br_fresh = false;
	if (rc < 0) {
		log_debug(&h->log, "pCPU %u: no branch counters: %s", pcpu,
			  vpwr_strerror(rc));
		return;
	}
	if (pc->br_based && b >= pc->br_branches && m >= pc->br_misses) {
		pc->br_d_branches = b - pc->br_branches;
		pc->br_d_misses = m - pc->br_misses;
		pc->br_fresh = true;
	}
	pc->br_branches = b;
	pc->br_misses = m;
	pc->br_based = true;
}

/* Forget the counters of CPUs no policy watches; read the others if
 * `read`. */
static void branch_sync(struct vpwr_host *h, bool read)
{
	struct vpwr_cpuset need;

	branch_cpus(h, &need);
	for (unsigned p = 0; p < h->nr_pcpus; p++) {
		struct host_pcpu *pc = &h->pcpu[p];

		if (vpwr_cpuset_isset(&need, p)) {
			if (read || !pc->br_based)
				branch_read(h, p);
			continue;
		}
		perf_branch_close(pc->perf_fds);
		pc->br_based = pc->br_fresh = false;
	}
}

/* One decision per covered vCPU from its CPUs' deltas; true if a level
 * changed. */
static bool branch_sample(struct vpwr_host *h, struct host_domain *d,
			  int64_t elapsed_ms)
{
	const struct vpwr_policy *p = &d->policy[VPWR_POLICY_BRANCH_RATIO];
	uint64_t thr = p->branch_ratio_ppm ? p->branch_ratio_ppm
					   : BRANCH_DEFAULT_PPM;
	struct vpwr_cpuset set;
	bool changed = false;

	for (unsigned v = 0; v < d->nr_vcpus; v++) {
		struct branch_state *bs = &d->branch[v];
		uint64_t b = 0, m = 0;
		uint8_t old = bs->level;
		bool fresh = false, above;

		if (!policy_covers(p, v) ||
		    vpwr_resolver_lookup(h->resolver, d->name, v, &set) < 0)
			continue;
		vpwr_cpuset_foreach(c, &set) {
			const struct host_pcpu *pc;

			if ((unsigned)c >= h->nr_pcpus)
				continue;
			pc = &h->pcpu[c];
			if (pc->br_fresh) {
				b += pc->br_d_branches;
				m += pc->br_d_misses;
				fresh = true;
			}
		}
		if (!fresh)
			continue;
		above = b && b >= BRANCH_IDLE_PER_MS * (uint64_t)VPWR_MAX(elapsed_ms, 0) &&
			(unsigned __int128)m * 1000000u > (unsigned __int128)thr * b;
		if (above) {
			bs->level = LEVEL_MAX;
			bs->below = 0;
		} else if (++bs->below >= DOWN_SAMPLES) {
			bs->level = LEVEL_MIN;
			bs->below = 0;
		}
		if (bs->level != old) {
			changed = true;
			log_info(&h->log, "domain %s: vCPU %u: %llu of %llu "
				 "branches missed: %s", d->name, v,
				 (unsigned long long)m, (unsigned long long)b,
				 level_names[bs->level]);
		}
	}
	return changed;
}

/* Open the counters of every CPU the policy would watch. */
static int branch_prepare(struct vpwr_host *h, struct host_domain *d,
			  const struct vpwr_policy *p, char *why, size_t len)
{
	struct vpwr_cpuset set;
	int rc;

	if (h->opts.branch_fn)
		return 0;
	for (unsigned v = 0; v < d->nr_vcpus; v++) {
		if (!policy_covers(p, v) ||
		    vpwr_resolver_lookup(h->resolver, d->name, v, &set) < 0)
			continue;
		vpwr_cpuset_foreach(c, &set) {
			if ((unsigned)c >= h->nr_pcpus ||
			    h->pcpu[c].perf_fds[0] >= 0)
				continue;
			rc = perf_branch_open((unsigned)c, h->pcpu[c].perf_fds);
			if (rc < 0) {
				snprintf(why, len, "no branch counters on "
					 "pCPU %d (perf_event_open: %s)", c,
					 vpwr_strerror(rc));
				return -VPWR_E_UNSUPPORTED;
			}
		}
	}
	return 0;
}

/* ------------------------------------------------------------ sampling */

static int sample_round(struct vpwr_host *h)
{
	int64_t now = rate_ms(h);
	int64_t elapsed = h->last_sample_ms == INT64_MIN
				  ? 0 : now - h->last_sample_ms;
	struct batch b = { .any = false };
	bool branch = false;

	vpwr_cpuset_zero(&b.cpus);
	for (struct host_domain *d = h->domains; d && !branch; d = d->next)
		branch = held(d, VPWR_POLICY_BRANCH_RATIO);
	if (branch)
		branch_sync(h, true);
	for (struct host_domain *d = h->domains; d; d = d->next) {
		bool changed = false;

		for (int k = 0; k < 2; k++)
			if (d->traffic[k].sampling)
				changed |= traffic_sample(h, d, k, now);
		if (held(d, VPWR_POLICY_BRANCH_RATIO))
			changed |= branch_sample(h, d, elapsed);
		if (changed)
			batch_add(h, &b, d);
	}
	h->last_sample_ms = now;
	return batch_apply(h, &b);
}

void host_policy_sample_event(struct vpwr_host *h, uint64_t now_ns)
{
	uint64_t period_ns = (uint64_t)h->opts.traffic_period_ms * 1000000u;

	if (!h->sample_due_ns || h->sample_due_ns > now_ns)
		return;
	sample_round(h);
	/* On the period's grid, unless the loop fell a period behind. */
	h->sample_due_ns += period_ns;
	if (h->sample_due_ns <= now_ns)
		h->sample_due_ns = now_ns + period_ns;
}

VPWR_API int vpwr_host_evaluate(struct vpwr_host *h)
{
	int rc, r;

	if (!h)
		return -EINVAL;
	rc = time_evaluate(h, NULL);
	if (h->sample_due_ns) {
		r = sample_round(h);
		if (r < 0 && !rc)
			rc = r;
	}
	return rc;
}

/*
 * A domain that starts again with wishes kept through its grace period
 * gets only those that pass the checks a new request would (exclusive
 * mode, floating vCPUs), against the domains that ran meanwhile: what
 * they were granted while it was down stays theirs.
 */
static void revalidate_returning(struct vpwr_host *h, struct host_domain *d)
{
	char why[VPWR_REASON_MAX];
	int run = vpwr_resolver_domain_running(h->resolver, d->name);

	run = run != 0; /* static: runs */
	if (!(run && d->ran == 0)) {
		d->ran = (int8_t)run;
		return;
	}
	d->ran = 1;
	vpwr_cpuset_zero(&d->blocked);
	for (unsigned v = 0; v < d->nr_vcpus; v++) {
		bool req = host_request_active(&d->req[v]);

		if ((!req && !vcpu_level(d, v)) ||
		    host_vcpu_allowed(h, d, v, why, sizeof(why)))
			continue;
		log_info(&h->log, "domain %s is back: vCPU %u's wishes "
			 "dropped: %s", d->name, v, why);
		d->req[v] = VCPU_REQUEST_NONE;
		vpwr_cpuset_set(&d->blocked, v);
	}
}

void host_policy_repin(struct vpwr_host *h)
{
	for (struct host_domain *d = h->domains; d; d = d->next)
		revalidate_returning(h, d);
	for (struct host_domain *d = h->domains; d; d = d->next)
		if (d->policy_mask)
			domain_wishes(h, d);
	branch_sync(h, false);
	sampling_update(h); /* domains that stopped or started */
}

/* ------------------------------------------------------ set and remove */

static int check_vcpus(struct vpwr_host *h, struct host_domain *d,
		       const struct vpwr_msg *req, struct vpwr_msg *reply)
{
	const struct vpwr_policy *p = &req->u.policy;
	bool all = cpuset_empty(&p->vcpus);
	struct vpwr_cpuset set;
	int rc;

	/* Every vCPU it names must be one the domain may steer. */
	for (unsigned v = 0; v < VPWR_MAX_CPUS; v++) {
		if (!vpwr_cpuset_isset(&p->vcpus, v) && (!all || v >= d->nr_vcpus))
			continue;
		rc = host_resolve_vcpu(h, d, v, req, &set, reply);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* The decisions of kind `kind` start over (its counters too). */
static void policy_state_reset(struct host_domain *d, unsigned kind)
{
	if (kind == VPWR_POLICY_BRANCH_RATIO) {
		for (unsigned v = 0; v < d->nr_vcpus; v++)
			d->branch[v] = (struct branch_state){ 0 };
	} else if (kind == VPWR_POLICY_TIME || kind == VPWR_POLICY_TRAFFIC) {
		int k = kind == VPWR_POLICY_TIME ? TRAFFIC_OF_TIME
						 : TRAFFIC_OF_TRAFFIC;

		free(d->traffic[k].src);
		memset(&d->traffic[k], 0, sizeof(d->traffic[k]));
	}
	if (kind == VPWR_POLICY_TIME)
		d->hour_class = HOUR_OTHER;
}

/* After policies changed: timers, samplers, counters, then the CPUs. */
static int policies_changed(struct vpwr_host *h, struct host_domain *d)
{
	time_evaluate(h, d);
	branch_sync(h, false);
	return domain_update(h, d);
}

/* What a TRAFFIC or TIME policy will count, or why it cannot. */
static int prepare_source(struct vpwr_host *h, struct host_domain *d,
			  const struct vpwr_policy *p, struct tsrc_set **nd,
			  char *why, size_t len)
{
	*nd = NULL;
	if (p->kind == VPWR_POLICY_TRAFFIC) {
		if (!p->max_pps) {
			snprintf(why, len, "max_pps is 0: every rate would "
				 "be max");
			return -EINVAL;
		}
		return traffic_prepare(h, d, p, nd, why, len);
	}
	if (p->kind == VPWR_POLICY_TIME && p->traffic_hours && p->max_pps) {
		char detail[VPWR_REASON_MAX];
		int rc = traffic_prepare(h, d, p, nd, detail, sizeof(detail));

		/* Its busy and quiet hours still work: accept, and say so. */
		if (rc == -ENOMEM)
			return rc;
		if (rc < 0)
			snprintf(why, len, "traffic hours follow a TRAFFIC "
				 "policy only: %.80s", detail);
		return 0;
	}
	if (p->kind == VPWR_POLICY_BRANCH_RATIO) {
		int rc = branch_prepare(h, d, p, why, len);

		if (rc < 0)
			branch_sync(h, false); /* close what did open */
		return rc;
	}
	return 0;
}

int host_policy_set(struct vpwr_host *h, struct host_domain *d,
		    const struct vpwr_msg *req, struct vpwr_msg *reply)
{
	const struct vpwr_policy *p = &req->u.policy;
	unsigned kind = p->kind, saved_mask = d->policy_mask;
	int k = kind == VPWR_POLICY_TIME ? TRAFFIC_OF_TIME : TRAFFIC_OF_TRAFFIC;
	bool counts = kind == VPWR_POLICY_TIME || kind == VPWR_POLICY_TRAFFIC;
	struct vpwr_policy saved = d->policy[kind];
	struct traffic_state saved_ts = d->traffic[k];
	char why[VPWR_REASON_MAX] = "";
	struct tsrc_set *nd;
	int rc;

	rc = check_vcpus(h, d, req, reply);
	if (rc < 0)
		return rc;
	vpwr_cpuset_zero(&d->blocked); /* checked again just now */
	rc = prepare_source(h, d, p, &nd, why, sizeof(why));
	if (rc < 0)
		return NACK(reply, req, rc, "%spolicy refused: %s",
			    policy_names[kind], why);
	if (nd && !why[0])
		tsrc_describe(nd, why, sizeof(why));
	if (counts) /* the old state is kept until the new one holds */
		memset(&d->traffic[k], 0, sizeof(d->traffic[k]));
	policy_state_reset(d, kind);
	if (counts)
		d->traffic[k].src = nd;
	d->policy[kind] = *p;
	d->policy_mask |= 1u << kind;
	rc = policies_changed(h, d);
	if (rc < 0) {
		/* Leave every CPU as it was (the old policy's evaluation
		 * starts over). */
		policy_state_reset(d, kind);
		if (counts)
			d->traffic[k] = saved_ts;
		d->policy[kind] = saved;
		d->policy_mask = saved_mask;
		policies_changed(h, d);
		return NACK(reply, req, rc, "backend refused the change: %s",
			    vpwr_strerror(rc));
	}
	if (counts)
		free(saved_ts.src);
	vpwr_msg_reply(reply, req, 0, why[0] ? "%s%s" : NULL,
		       policy_names[kind], why);
	return 0;
}

int host_policy_remove(struct vpwr_host *h, struct host_domain *d,
		       const struct vpwr_msg *req, struct vpwr_msg *reply)
{
	unsigned kind = req->u.policy.kind;
	unsigned mask = kind ? 1u << kind : d->policy_mask;

	if (!(d->policy_mask & mask))
		return NACK(reply, req, -ENOENT, "no %spolicy to remove",
			    policy_names[kind]);
	d->policy_mask &= ~mask;
	for (unsigned k = VPWR_POLICY_TIME; k <= VPWR_POLICY_BRANCH_RATIO; k++)
		if (mask & (1u << k))
			policy_state_reset(d, k);
	policies_changed(h, d);
	vpwr_msg_reply(reply, req, 0, NULL);
	return 0;
}

void host_policy_drop(struct vpwr_host *h, struct host_domain *d)
{
	if (!d->policy_mask)
		return; /* nothing held: no timer or counter to change */
	d->policy_mask = 0;
	for (unsigned k = VPWR_POLICY_TIME; k <= VPWR_POLICY_BRANCH_RATIO; k++)
		policy_state_reset(d, k);
	time_evaluate(h, d);
	branch_sync(h, false);
}

void host_policy_domain_free(struct host_domain *d)
{
	free(d->traffic[0].src);
	free(d->traffic[1].src);
	free(d->branch);
}

/* ----------------------------------------------------------- lifetime */

int host_policy_init(struct vpwr_host *h)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &h->timefd };
	const char *zone = h->opts.time_zone;
	int rc;

	/* The option strings are borrowed for vpwr_host_new() only. */
	h->opts.time_zone = NULL;
	rc = vpwr_tz_open(zone, NULL, &h->tz);
	if (rc < 0) {
		log_err(&h->log, "time zone \"%s\": not \"UTC\", an offset such "
			"as \"+05:30\", or a zone of %s", zone, VPWR_TZ_ZONEINFO);
		return rc;
	}
	h->sysfs_root = strdup(h->opts.sysfs_root ? h->opts.sysfs_root : "/sys");
	h->opts.sysfs_root = NULL;
	if (!h->sysfs_root)
		return -ENOMEM;
	h->tsrc = (struct tsrc_env){
		.sysfs_root = h->sysfs_root,
		.resolver = h->resolver,
		.log = &h->log,
		.nl = vf_nl_exchange_kernel,
	};
	if (!h->opts.traffic_period_ms)
		h->opts.traffic_period_ms = TRAFFIC_PERIOD_MS;
	h->last_sample_ms = INT64_MIN;
	h->timefd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
	if (h->timefd < 0)
		return -errno;
	/* The timer is tagged by the address of its fd. */
	if (epoll_ctl(h->epfd, EPOLL_CTL_ADD, h->timefd, &ev) < 0)
		return -errno;
	return 0;
}

void host_policy_fini(struct vpwr_host *h)
{
	for (unsigned p = 0; h->pcpu && p < h->nr_pcpus; p++)
		perf_branch_close(h->pcpu[p].perf_fds);
	if (h->timefd >= 0)
		close(h->timefd);
	vpwr_tz_free(h->tz);
	free(h->sysfs_root);
}
