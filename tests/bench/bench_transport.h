/* SPDX-License-Identifier: MIT */
/*
 * The transport benchmark's three parts and what they share:
 *   bench_transport.c        options, rounds of cells, the report
 *   bench_transport_loops.c  the client's requests and how they are timed
 *   bench_transport_paths.c  the transport paths, raw socket pairs, and the
 *                            server threads (host engine or raw server)
 */
#ifndef BENCH_TRANSPORT_H
#define BENCH_TRANSPORT_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "libvpwr/libvpwr.h"

/* A path or raw family that cannot run here (returned next to -errno). */
#define SKIP 1

/* Options (bench_transport.c). */
extern unsigned long n_closed, n_pipe, n_warm, window;
extern unsigned vsock_cid;
extern char bench_dir[];          /* temp dir for sockets and pins.json */

/* ------------------------------------------- bench_transport_loops.c */

enum { WL_QUERY, WL_SCALE, NR_WORKLOADS };

/* One kind of request, and its frames as the native codec writes them. */
struct workload {
	const char *name;
	uint8_t req[2][64];       /* two alternating requests (raw server) */
	uint8_t rep[256];         /* the host's reply */
	size_t req_len, rep_len;
};

extern struct workload workloads[NR_WORKLOADS];

/* What one cell measured in one round. */
struct result {
	double p50, p99, mean;    /* ns; closed loop only */
	double rate;              /* requests/s */
	double cli_cpu, srv_cpu;  /* CPU time of client/server thread, ns per
				     request: what the wall clock cannot
				     tell apart from waiting for a CPU */
};

/* Request number i of workload wl (scale: max, min, max, ...). */
void make_request(int wl, unsigned long i, uint32_t seq, struct vpwr_msg *m);

/* Closed loop on a blocking socket: write a request, read its reply. */
int raw_closed(int fd, const struct workload *wl, struct result *r);
/* Closed loop through the guest client. */
int lib_closed(struct vpwr_guest *g, int wl, struct result *r);
/* Pipelined on a channel; check_seq: replies carry the requests' seqs. */
int pipe_run(struct vpwr_channel *ch, int wl, int check_seq,
	     struct result *r);

static inline uint64_t clock_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* CPU time the calling thread has used. */
static inline uint64_t thread_cpu_ns(void)
{
	return clock_ns(CLOCK_THREAD_CPUTIME_ID);
}

/* ------------------------------------------- bench_transport_paths.c */

/* Channel options that log through bench_log(). */
extern const struct vpwr_channel_opts bench_chopts;
extern int bench_quiet;           /* probing: expected failures */

void bench_log(enum vpwr_log_level level, const char *msg, void *ud);
/* Print what failed (and what the library said last), exit 1. */
void bench_die(const char *what, int err) __attribute__((noreturn));

int pin_self(int cpu);

/* The server side of one cell, on a thread of its own. */
struct server {
	pthread_t thread;
	struct vpwr_host *h;      /* libvpwr: vpwr_host_run(h) */
	int fd;                   /* raw: answer requests on this socket */
	const struct workload *wl;
	int rc;
	uint64_t cpu_ns;          /* CPU time the thread used */
};

void server_start(struct server *s, int cpu);

/*
 * A transport path: set up a fresh host `h` (not running yet) with a
 * channel whose other end is *client.  0, SKIP (with `why`), or -errno.
 */
struct path {
	const char *name;
	const char *family;       /* the raw baseline it is compared with */
	int (*open)(struct vpwr_host *h, struct vpwr_channel **client,
		    char *why, size_t len);
	int skip;                 /* set by probing */
	char why[200];
};

#define NR_PATHS 5
extern struct path paths[NR_PATHS];

/* Raw baseline: a connected pair of blocking stream sockets. */
struct raw_family {
	const char *name;
	int (*pair)(int fds[2], char *why, size_t len);
	int skip;
	char why[200];
};

enum { FAMILY_UNIX, FAMILY_VSOCK, NR_FAMILIES };
extern struct raw_family families[NR_FAMILIES];

int write_all(int fd, const void *buf, size_t len);
int read_all(int fd, void *buf, size_t len);

#endif
