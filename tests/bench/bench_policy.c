/* SPDX-License-Identifier: MIT */
/*
 * Host benchmark: what policies and channels cost a host, through the
 * public API, on the simulator backend and a static resolver.
 *
 *   bench_policy [-s SECONDS] [-c CHANNELS] [-p POLICIES] [-r REQUESTS]
 *   bench_policy --smoke
 *
 * (a) Idle: a host with 100 channels (guests connected, silent) and 100
 *     domains holding TIME policies, run by vpwr_host_run() in a thread
 *     for -s seconds (default 10): the thread's CPU time (getrusage
 *     RUSAGE_THREAD) as a share of one CPU, and its wake-ups per second
 *     (context switches).  DPDK's vm_power_manager burns ~54 % here.
 * (b) TRAFFIC evaluation: 1,000 domains each holding a TRAFFIC policy
 *     sampled every 10 ms.  Rounds of vpwr_host_evaluate() on a clock the
 *     benchmark moves 10 ms a round: us per round with steady rates, and
 *     with 10 % of the domains changing level every round (each change
 *     re-arbitrates its CPU).  Then the same host on its own 10 ms timer,
 *     run for -s seconds in a thread: its CPU share.
 * (c) Memory per channel: heap in use (mallinfo2) before and after adding
 *     1,000 channels, divided by 1,000.  Kernel socket buffers are not
 *     counted.
 * (d) Request latency with 1,000 connected channels: QUERY_STATE round
 *     trips from guests chosen at random (vpwr_guest_query_state over a
 *     unix socketpair) to a host thread; p50 and p99, with the host on
 *     the client's CPU and on another CPU, next to a raw socketpair
 *     ping-pong measured in the same run the same two ways.
 *
 * --smoke runs every part on a few iterations (CTest's bench-policy-smoke).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <ftw.h>
#include <malloc.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "libvpwr/libvpwr.h"

#ifndef VPWR_BENCH_BUILD_TYPE
#define VPWR_BENCH_BUILD_TYPE "?"
#endif

#define SIM_CPUS 8u
#define VPWR_BENCH_MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX_DOMAINS 1000u

static double run_seconds = 10;
static unsigned idle_channels = 100, traffic_policies = 1000;
static unsigned latency_channels = 1000, nr_requests = 20000;
static unsigned eval_rounds = 2000;
static char *tmpdir;

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "bench_policy: %s: %s\n", what, vpwr_strerror(rc));
	exit(1);
}

/* ------------------------------------------------------------- a host */

struct bench_host {
	struct vpwr_backend *b;
	struct vpwr_resolver *r;
	struct vpwr_host *h;
	int *peers;                /* the guests' ends */
	unsigned nr_peers;
};

/* vm0 .. vm<n-1>, one vCPU each, on the sim's CPUs in turn. */
static void write_pins(unsigned n, char *path, size_t len)
{
	FILE *f;

	snprintf(path, len, "%s/pins.json", tmpdir);
	f = fopen(path, "w");
	if (!f)
		die("pins.json", -errno);
	fprintf(f, "{\"domains\": {");
	for (unsigned i = 0; i < n; i++)
		fprintf(f, "%s\"vm%u\": {\"vcpus\": [\"%u\"]}", i ? "," : "", i,
			i % SIM_CPUS);
	fprintf(f, "}}\n");
	fclose(f);
}

static void host_open(struct bench_host *bh, unsigned nr_domains,
		      struct vpwr_host_opts *o)
{
	VPWR_OPTS(vpwr_sim_opts, sim, .nr_cpus = SIM_CPUS);
	VPWR_OPTS(vpwr_backend_opts, bo, .sim = &sim);
	char path[4096], uri[4200];
	int rc;

	memset(bh, 0, sizeof(*bh));
	write_pins(nr_domains, path, sizeof(path));
	snprintf(uri, sizeof(uri), "static:%s", path);
	if ((rc = vpwr_backend_open("sim", &bo, &bh->b)) < 0)
		die("sim backend", rc);
	if ((rc = vpwr_resolver_open(uri, NULL, &bh->r)) < 0)
		die("resolver", rc);
	o->backend = bh->b;
	o->resolver = bh->r;
	o->max_channels = 4 * MAX_DOMAINS;
	o->max_domain_channels = 4 * MAX_DOMAINS;
	if ((rc = vpwr_host_new(o, &bh->h)) < 0)
		die("vpwr_host_new", rc);
}

/* n channels, spread over the domains; the guests' ends kept open. */
static void add_channels(struct bench_host *bh, unsigned n, unsigned nr_domains)
{
	if (!bh->peers)
		bh->peers = calloc(n, sizeof(*bh->peers));
	if (!bh->peers)
		die("calloc", -ENOMEM);
	for (unsigned i = 0; i < n; i++) {
		struct vpwr_channel *ch;
		char dom[32];
		int sv[2], rc;

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
			die("socketpair", -errno);
		if ((rc = vpwr_channel_open_fd(sv[0], NULL, &ch)) < 0)
			die("channel", rc);
		snprintf(dom, sizeof(dom), "vm%u", i % nr_domains);
		if ((rc = vpwr_host_add_channel(bh->h, dom, ch)) < 0)
			die("vpwr_host_add_channel", rc);
		bh->peers[bh->nr_peers++] = sv[1];
	}
}

static void host_close(struct bench_host *bh)
{
	vpwr_host_free(bh->h);
	for (unsigned i = 0; i < bh->nr_peers; i++)
		if (bh->peers[i] >= 0)
			close(bh->peers[i]);
	free(bh->peers);
	vpwr_resolver_free(bh->r);
	vpwr_backend_free(bh->b);
}

static void set_policy(struct vpwr_host *h, unsigned dom,
		       const struct vpwr_policy *p)
{
	struct vpwr_msg req, reply;
	char name[32];
	int rc;

	snprintf(name, sizeof(name), "vm%u", dom);
	vpwr_msg_init(&req, VPWR_MSG_POLICY_SET, 1, VPWR_VCPU_NONE);
	req.u.policy = *p;
	rc = vpwr_host_handle(h, name, &req, &reply);
	if (rc < 0) {
		fprintf(stderr, "bench_policy: policy on %s: %s (%s)\n", name,
			vpwr_strerror(rc), reply.reason);
		exit(1);
	}
}

/* ------------------------------------------- a host thread, measured */

struct runner {
	struct vpwr_host *h;
	int cpu;                   /* pin to it; -1: anywhere */
	struct rusage ru0, ru1;
	pthread_t t;
};

static void pin_self(int cpu)
{
	cpu_set_t set;

	if (cpu < 0)
		return;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *runner_main(void *arg)
{
	struct runner *r = arg;

	pin_self(r->cpu);
	getrusage(RUSAGE_THREAD, &r->ru0);
	vpwr_host_run(r->h);
	getrusage(RUSAGE_THREAD, &r->ru1);
	return NULL;
}

static void runner_start(struct runner *r, struct vpwr_host *h, int cpu)
{
	r->h = h;
	r->cpu = cpu;
	if (pthread_create(&r->t, NULL, runner_main, r))
		die("pthread_create", -EAGAIN);
}

static void runner_stop(struct runner *r)
{
	vpwr_host_stop(r->h);
	pthread_join(r->t, NULL);
}

static double tv_s(struct timeval tv)
{
	return (double)tv.tv_sec + (double)tv.tv_usec * 1e-6;
}

/* CPU share (% of one CPU) and wake-ups per second of the host thread
 * over `secs` seconds of vpwr_host_run(). */
static void run_measured(struct vpwr_host *h, double secs, double *pct,
			 double *wakeups)
{
	struct runner r;
	struct timespec ts = { .tv_sec = (time_t)secs,
			       .tv_nsec = (long)((secs - (double)(time_t)secs) * 1e9) };
	double t0, wall, cpu;

	runner_start(&r, h, -1);
	t0 = now_s();
	nanosleep(&ts, NULL);
	runner_stop(&r);
	wall = now_s() - t0;
	cpu = tv_s(r.ru1.ru_utime) + tv_s(r.ru1.ru_stime) -
	      tv_s(r.ru0.ru_utime) - tv_s(r.ru0.ru_stime);
	*pct = 100.0 * cpu / wall;
	/* Less the stop's own wake-up. */
	*wakeups = ((double)(r.ru1.ru_nvcsw - r.ru0.ru_nvcsw) +
		    (double)(r.ru1.ru_nivcsw - r.ru0.ru_nivcsw) - 1) / wall;
	if (*wakeups < 0)
		*wakeups = 0;
}

/* ---------------------------------------------------------- (a) idle */

static void bench_idle(void)
{
	VPWR_OPTS(vpwr_host_opts, o, .time_zone = "UTC");
	struct vpwr_policy p;
	struct bench_host bh;
	double pct, wake;

	host_open(&bh, idle_channels, &o);
	add_channels(&bh, idle_channels, idle_channels);
	memset(&p, 0, sizeof(p));
	p.kind = VPWR_POLICY_TIME;
	p.busy_hours = 0x00ff00;   /* 08-15 busy, */
	p.quiet_hours = 0x00003f;  /* 00-05 quiet */
	for (unsigned i = 0; i < idle_channels; i++)
		set_policy(bh.h, i, &p);
	run_measured(bh.h, run_seconds, &pct, &wake);
	printf("(a) idle host, %u channels, %u TIME policies, %.1f s:\n"
	       "    CPU %.4f %% of one CPU, %.2f wake-ups/s (target <= 0.1 %%)\n",
	       idle_channels, idle_channels, run_seconds, pct, wake);
	host_close(&bh);
}

/* ---------------------------------------------------- (b) TRAFFIC eval */

struct traffic_sim {
	int64_t now_ms;            /* the clock of the evaluate rounds */
	uint64_t packets[MAX_DOMAINS];
	uint64_t pps[MAX_DOMAINS];
	int live;                  /* counters from real time instead */
};

static struct traffic_sim ts;

static int64_t sim_now(void *ud)
{
	(void)ud;
	return ts.now_ms;
}

static int sim_traffic(const char *dom, const struct vpwr_policy *p,
		       uint64_t *packets, void *ud)
{
	unsigned i = 0;

	/* "vm<N>": cheaper than atoi, which would be timed with the host. */
	for (dom += 2; *dom >= '0' && *dom <= '9'; dom++)
		i = i * 10 + (unsigned)(*dom - '0');
	(void)p;
	(void)ud;
	if (i >= MAX_DOMAINS)
		return -ENOENT;
	if (ts.live) /* steady rates on the real clock */
		*packets = (uint64_t)(now_s() * 1000.0) * ts.pps[i] / 1000;
	else
		*packets = ts.packets[i];
	return 0;
}

/* One 10 ms round: every domain's counter moves at its rate. */
static void traffic_round(unsigned n)
{
	ts.now_ms += 10;
	for (unsigned i = 0; i < n; i++)
		ts.packets[i] += ts.pps[i] / 100;
}

static double eval_rounds_us(struct vpwr_host *h, unsigned n, unsigned rounds,
			     unsigned churn_pct)
{
	double t0, total = 0;

	for (unsigned r = 0; r < rounds; r++) {
		/* churn: a tenth of the domains swap between far above max
		 * and far below min (an up at once, then a down at once). */
		for (unsigned i = 0; i < n && churn_pct; i++)
			if ((i + r) % (100 / churn_pct) == 0)
				ts.pps[i] = ts.pps[i] >= 1000000 ? 10 : 5000000;
		traffic_round(n);
		t0 = now_s();
		vpwr_host_evaluate(h);
		total += now_s() - t0;
	}
	return total / rounds * 1e6;
}

static void bench_traffic(void)
{
	VPWR_OPTS(vpwr_host_opts, o, .time_zone = "UTC", .now_fn = sim_now,
		  .traffic_fn = sim_traffic, .traffic_period_ms = 10);
	unsigned n = traffic_policies;
	struct bench_host bh;
	struct vpwr_policy p;
	double steady, churn, pct, wake;

	memset(&ts, 0, sizeof(ts));
	ts.now_ms = 1704067200000LL;
	host_open(&bh, n, &o);
	memset(&p, 0, sizeof(p));
	p.kind = VPWR_POLICY_TRAFFIC;
	p.min_pps = 1000;
	p.avg_pps = 100000;
	p.max_pps = 1000000;
	for (unsigned i = 0; i < n; i++) {
		ts.pps[i] = 50000 + 1000 * (i % 100); /* 50k..149k: steady */
		set_policy(bh.h, i, &p);
	}
	traffic_round(n);
	vpwr_host_evaluate(bh.h); /* first rates: levels settle */
	steady = eval_rounds_us(bh.h, n, eval_rounds, 0);
	churn = eval_rounds_us(bh.h, n, eval_rounds / 10 ? eval_rounds / 10 : 1, 10);
	host_close(&bh);

	/* The same on the host's own 10 ms timer and the real clock. */
	o.now_fn = NULL;
	ts.live = 1;
	for (unsigned i = 0; i < n; i++)
		ts.pps[i] = 50000 + 1000 * (i % 100);
	host_open(&bh, n, &o);
	for (unsigned i = 0; i < n; i++)
		set_policy(bh.h, i, &p);
	run_measured(bh.h, run_seconds, &pct, &wake);
	host_close(&bh);
	ts.live = 0;
	printf("(b) %u TRAFFIC policies, 10 ms period:\n"
	       "    evaluation round: %.1f us steady, %.1f us with 10 %% of "
	       "domains changing level\n"
	       "    on the host's timer for %.1f s: CPU %.2f %% of one CPU, "
	       "%.1f wake-ups/s\n", n, steady, churn, run_seconds, pct, wake);
}

/* ------------------------------------------------------- (c) memory */

static double heap_per_channel(unsigned n, unsigned nr_domains)
{
	VPWR_OPTS(vpwr_host_opts, o, .time_zone = "UTC");
	struct bench_host bh;
	struct mallinfo2 m0, m1;

	host_open(&bh, n, &o);
	bh.peers = calloc(n, sizeof(*bh.peers)); /* outside the count */
	m0 = mallinfo2();
	add_channels(&bh, n, nr_domains);
	m1 = mallinfo2();
	host_close(&bh);
	return ((double)m1.uordblks - (double)m0.uordblks) / n;
}

static void bench_memory(void)
{
	unsigned n = latency_channels;

	printf("(c) memory, heap in use per channel (%u channels):\n"
	       "    %.0f bytes with a domain each, %.0f bytes for more "
	       "channels of one domain\n", n, heap_per_channel(n, n),
	       heap_per_channel(n, 1));
}

/* ------------------------------------------------------ (d) latency */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static void percentiles(double *v, unsigned n, double *p50, double *p99)
{
	qsort(v, n, sizeof(*v), cmp_double);
	*p50 = v[n / 2];
	*p99 = v[(unsigned)((double)n * 0.99)];
}

struct pong {
	int fd;
	int cpu;
	unsigned n;
};

static void *pong_main(void *arg)
{
	struct pong *p = arg;
	char c;

	pin_self(p->cpu);
	for (unsigned i = 0; i < p->n; i++) {
		if (read(p->fd, &c, 1) != 1 || write(p->fd, &c, 1) != 1)
			break;
	}
	return NULL;
}

/* A raw socketpair ping-pong between this thread (on CPU 0) and one on
 * `cpu`: p50 and p99 in us. */
static void raw_pingpong(int cpu, unsigned n, double *p50, double *p99)
{
	struct pong p = { .cpu = cpu, .n = n };
	double *lat = calloc(n, sizeof(*lat));
	pthread_t t;
	int sv[2];
	char c = 'x';

	if (!lat || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		die("ping-pong", -errno);
	p.fd = sv[1];
	pthread_create(&t, NULL, pong_main, &p);
	for (unsigned i = 0; i < n; i++) {
		double t0 = now_s();

		if (write(sv[0], &c, 1) != 1 || read(sv[0], &c, 1) != 1)
			die("ping-pong", -errno);
		lat[i] = (now_s() - t0) * 1e6;
	}
	pthread_join(t, NULL);
	close(sv[0]);
	close(sv[1]);
	percentiles(lat, n, p50, p99);
	free(lat);
}

static void latency_run(struct bench_host *bh, struct vpwr_guest **g,
			unsigned n, int host_cpu, double *p50, double *p99)
{
	double *lat = calloc(nr_requests, sizeof(*lat));
	uint64_t x = 88172645463325252ull;
	struct vpwr_vcpu_state st;
	struct runner r;

	if (!lat)
		die("calloc", -ENOMEM);
	runner_start(&r, bh->h, host_cpu);
	for (unsigned i = 0; i < nr_requests; i++) {
		double t0;
		int rc;

		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		t0 = now_s();
		rc = vpwr_guest_query_state(g[x % n], 0, &st);
		lat[i] = (now_s() - t0) * 1e6;
		if (rc < 0)
			die("vpwr_guest_query_state", rc);
	}
	runner_stop(&r);
	percentiles(lat, nr_requests, p50, p99);
	free(lat);
}

static void bench_latency(void)
{
	VPWR_OPTS(vpwr_host_opts, o, .time_zone = "UTC");
	unsigned n = latency_channels;
	struct vpwr_guest **g = calloc(n, sizeof(*g));
	double same50, same99, cross50, cross99;
	double raw_same50, raw_same99, raw_cross50, raw_cross99;
	struct bench_host bh;
	int ncpu = (int)sysconf(_SC_NPROCESSORS_ONLN);

	if (!g)
		die("calloc", -ENOMEM);
	host_open(&bh, n, &o);
	add_channels(&bh, n, n);
	for (unsigned i = 0; i < n; i++) {
		struct vpwr_channel *ch;
		int rc = vpwr_channel_open_fd(bh.peers[i], NULL, &ch);

		if (rc < 0)
			die("guest channel", rc);
		bh.peers[i] = -1; /* the guest owns it now */
		if ((rc = vpwr_guest_open_channel(ch, NULL, &g[i])) < 0)
			die("vpwr_guest_open_channel", rc);
	}
	pin_self(0);
	latency_run(&bh, g, n, 0, &same50, &same99);
	raw_pingpong(0, nr_requests, &raw_same50, &raw_same99);
	if (ncpu > 1) {
		latency_run(&bh, g, n, 1, &cross50, &cross99);
		raw_pingpong(1, nr_requests, &raw_cross50, &raw_cross99);
	}
	pin_self(-1);
	printf("(d) request latency, %u channels connected, %u QUERY_STATE "
	       "round trips from random guests:\n"
	       "    host on the client's CPU: p50 %.1f us, p99 %.1f us "
	       "(raw socketpair ping-pong: p50 %.1f us, p99 %.1f us)\n",
	       n, nr_requests, same50, same99, raw_same50, raw_same99);
	if (ncpu > 1)
		printf("    host on another CPU:      p50 %.1f us, p99 %.1f us "
		       "(raw socketpair ping-pong: p50 %.1f us, p99 %.1f us)\n",
		       cross50, cross99, raw_cross50, raw_cross99);
	for (unsigned i = 0; i < n; i++)
		vpwr_guest_free(g[i]);
	free(g);
	host_close(&bh);
}

/* ---------------------------------------------------------------- main */

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void raise_fd_limit(unsigned need)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < need) {
		rl.rlim_cur = need;
		if (rl.rlim_max < need)
			rl.rlim_max = need;
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
			getrlimit(RLIMIT_NOFILE, &rl);
			latency_channels = VPWR_BENCH_MIN(
				latency_channels, (unsigned)(rl.rlim_cur - 64) / 2);
		}
	}
}

int main(int argc, char **argv)
{
	char tmpl[] = "/tmp/vpwr-bench-XXXXXX";

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--smoke")) {
			run_seconds = 0.2;
			idle_channels = 10;
			traffic_policies = 50;
			latency_channels = 20;
			nr_requests = 200;
			eval_rounds = 20;
		} else if (!strcmp(argv[i], "-s") && i + 1 < argc) {
			run_seconds = atof(argv[++i]);
		} else if (!strcmp(argv[i], "-c") && i + 1 < argc) {
			latency_channels = (unsigned)atoi(argv[++i]);
		} else if (!strcmp(argv[i], "-p") && i + 1 < argc) {
			traffic_policies = (unsigned)atoi(argv[++i]);
		} else if (!strcmp(argv[i], "-r") && i + 1 < argc) {
			nr_requests = (unsigned)atoi(argv[++i]);
		} else {
			fprintf(stderr, "usage: bench_policy [-s SECONDS] [-c "
				"CHANNELS] [-p POLICIES] [-r REQUESTS] | --smoke\n");
			return 2;
		}
	}
	if (traffic_policies > MAX_DOMAINS || latency_channels > MAX_DOMAINS ||
	    idle_channels > MAX_DOMAINS || !traffic_policies ||
	    !latency_channels || !idle_channels || !nr_requests) {
		fprintf(stderr, "bench_policy: counts are 1..%u\n", MAX_DOMAINS);
		return 2;
	}
	raise_fd_limit(2 * latency_channels + 256);
	tmpdir = mkdtemp(tmpl);
	if (!tmpdir)
		die("mkdtemp", -errno);
	printf("bench_policy: libvpwr %s (%s), sim backend %u CPUs, %ld online "
	       "CPUs\n", vpwr_version_string(), VPWR_BENCH_BUILD_TYPE, SIM_CPUS,
	       sysconf(_SC_NPROCESSORS_ONLN));
	bench_idle();
	bench_traffic();
	bench_memory();
	bench_latency();
	nftw(tmpdir, rm_one, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}
