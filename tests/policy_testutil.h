/*
 * Helpers of the policy suites: a sim host whose wall clock, packet
 * counters and branch counters the test moves by hand, and a look at the
 * host's timers (the suites link the internal library).
 */
#ifndef VPWR_POLICY_TESTUTIL_H
#define VPWR_POLICY_TESTUTIL_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/timerfd.h>

#include "host_internal.h"
#include "testutil.h"

#define PT_CPUS 8
#define PT_TZ_PROCESS "(process)"

struct pt_env {
	struct vpwr_test_host th;
	struct vpwr_host *h;
	int64_t now_ms;            /* the wall clock the host reads */
	uint64_t packets;          /* the packet counter traffic_fn gives */
	int traffic_rc;            /* what traffic_fn returns */
	unsigned traffic_calls;
	char traffic_domain[64];   /* the domain of the last call */
	uint64_t branches[PT_CPUS], misses[PT_CPUS];
	uint32_t lo, mid, hi, orig; /* frequencies of the sim's CPUs */
};

/* 2024-01-01T00:00:00Z in ms, and an hour. */
#define PT_DAY0_MS 1704067200000LL
#define PT_HOUR_MS 3600000LL

static inline int64_t pt_now(void *ud)
{
	return ((struct pt_env *)ud)->now_ms;
}

static inline int pt_traffic(const char *domain, const struct vpwr_policy *p,
			     uint64_t *packets, void *ud)
{
	struct pt_env *e = ud;

	(void)p;
	e->traffic_calls++;
	snprintf(e->traffic_domain, sizeof(e->traffic_domain), "%s", domain);
	*packets = e->packets;
	return e->traffic_rc;
}

static inline int pt_branch(unsigned pcpu, uint64_t *b, uint64_t *m, void *ud)
{
	struct pt_env *e = ud;

	if (pcpu >= PT_CPUS)
		return -ENODEV;
	*b = e->branches[pcpu];
	*m = e->misses[pcpu];
	return 0;
}

/*
 * Open a host on `pins` with `o` (NULL: defaults) whose unset clock and
 * sources are the env's: now_fn unless o->now_fn is (void *)-1 (then the
 * real clock), traffic_fn unless o->sysfs_root is set, branch_fn unless
 * o->branch_fn is (void *)-1 (then perf).  The zone is UTC unless set;
 * PT_TZ_PROCESS is NULL, the process's local time.
 */
static inline void pt_open(struct pt_env *e, const char *pins,
			   const struct vpwr_host_opts *o)
{
	struct vpwr_host_opts ho = { .sz = sizeof(ho) };
	uint32_t t[64];
	int n;

	memset(e, 0, sizeof(*e));
	e->now_ms = PT_DAY0_MS;
	if (o)
		ho = *o;
	if (!ho.now_fn) {
		ho.now_fn = pt_now;
		ho.now_userdata = e;
	} else if (ho.now_fn == (vpwr_clock_fn)(intptr_t)-1) {
		ho.now_fn = NULL;
	}
	if (!ho.traffic_fn && !ho.sysfs_root) {
		ho.traffic_fn = pt_traffic;
		ho.traffic_userdata = e;
	}
	if (!ho.branch_fn) {
		ho.branch_fn = pt_branch;
		ho.branch_userdata = e;
	} else if (ho.branch_fn == (vpwr_branch_fn)(intptr_t)-1) {
		ho.branch_fn = NULL;
	}
	if (!ho.time_zone)
		ho.time_zone = "UTC";
	else if (!strcmp(ho.time_zone, PT_TZ_PROCESS))
		ho.time_zone = NULL;
	vpwr_test_host_open(&e->th, pins, PT_CPUS, &ho);
	e->h = e->th.h;
	n = vpwr_backend_get_freqs(e->th.b, 0, t, 64);
	ck_assert_int_gt(n, 2);
	e->lo = t[0];
	e->hi = t[n - 1];
	e->mid = t[(n - 1) / 2];
	ck_assert_int_eq(vpwr_backend_get_freq(e->th.b, 0, &e->orig), 0);
	ck_assert(e->orig != e->lo && e->orig != e->mid && e->orig != e->hi);
}

static inline void pt_close(struct pt_env *e)
{
	vpwr_test_host_close(&e->th);
}

static inline uint32_t pt_freq(struct pt_env *e, unsigned cpu)
{
	uint32_t khz = 0;

	ck_assert_int_eq(vpwr_backend_get_freq(e->th.b, cpu, &khz), 0);
	return khz;
}

static inline int pt_set(struct pt_env *e, const char *dom,
			 const struct vpwr_policy *p, struct vpwr_msg *reply)
{
	struct vpwr_msg req, tmp;

	vpwr_msg_init(&req, VPWR_MSG_POLICY_SET, 1, VPWR_VCPU_NONE);
	req.u.policy = *p;
	return vpwr_host_handle(e->h, dom, &req, reply ? reply : &tmp);
}

static inline int pt_request(struct pt_env *e, const char *dom, unsigned type,
			     uint32_t arg)
{
	struct vpwr_msg req, reply;

	vpwr_msg_init(&req, type, 2, type == VPWR_MSG_SCALE ? 0 : VPWR_VCPU_NONE);
	if (type == VPWR_MSG_POLICY_REMOVE)
		req.u.policy.kind = arg;
	else if (type == VPWR_MSG_SCALE)
		req.u.scale.op = arg;
	return vpwr_host_handle(e->h, dom, &req, &reply);
}

static inline struct vpwr_policy pt_policy(unsigned kind)
{
	struct vpwr_policy p;

	memset(&p, 0, sizeof(p));
	p.kind = kind;
	return p;
}

/* Hours a..b-1 as a mask. */
static inline uint32_t pt_hours(int a, int b)
{
	uint32_t m = 0;

	for (int i = a; i < b; i++)
		m |= 1u << i;
	return m;
}

static inline bool pt_timer_armed(int fd)
{
	struct itimerspec its;

	ck_assert_int_eq(timerfd_gettime(fd, &its), 0);
	return its.it_value.tv_sec || its.it_value.tv_nsec;
}

/* Seconds until the realtime (TIME) timer fires; -1 if disarmed. */
static inline double pt_time_timer_in(struct pt_env *e)
{
	struct itimerspec its;

	ck_assert_int_eq(timerfd_gettime(e->h->timefd, &its), 0);
	if (!its.it_value.tv_sec && !its.it_value.tv_nsec)
		return -1;
	return (double)its.it_value.tv_sec + (double)its.it_value.tv_nsec * 1e-9;
}

/* No timer of the host is armed: it would sleep forever. */
static inline void pt_assert_idle(struct pt_env *e)
{
	ck_assert(!pt_timer_armed(e->h->retryfd));
	ck_assert(!pt_timer_armed(e->h->timefd));
	ck_assert_int_eq(vpwr_host_dispatch(e->h, 200), 0);
}

#endif
