/* SPDX-License-Identifier: MIT */
/*
 * The embeddable host engine.  It owns channels to guests, each bound by the
 * host (never by the guest) to one domain; decodes their requests; checks
 * them against the domain's vCPUs and pinning; evaluates the policies
 * guests hand it (TIME, TRAFFIC, WORKLOAD, BRANCH_RATIO: docs/POLICIES.md);
 * arbitrates every physical CPU between all requesters and the operator's
 * bounds; applies the result through the backend; and answers every
 * request.
 *
 * Single-threaded around one epoll set, whose timers are armed only while
 * something needs them (a TIME policy: the next hour boundary; a TRAFFIC or
 * BRANCH_RATIO policy: the sampling period; a grace period; a reconnecting
 * connector): a host with nothing to wait for never wakes up by itself.
 * Embed it by polling vpwr_host_fd() for readability and calling
 * vpwr_host_dispatch(h, 0), or let vpwr_host_run() do the loop.  A handle is used by one thread at a
 * time, except vpwr_host_stop(), which any thread or a signal handler may
 * call.
 */
#ifndef LIBVPWR_HOST_H
#define LIBVPWR_HOST_H

#include "common.h"
#include "message.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vpwr_host;
struct vpwr_backend;
struct vpwr_resolver;
struct vpwr_channel;
struct vpwr_listener;
struct vpwr_peer;

/*
 * How requests of several domains on one physical CPU combine.  CPUs that
 * share a cpufreq policy (vpwr_backend_policy_cpus()) count as one CPU
 * here: their wishes and operator bounds are combined and applied once,
 * and exclusive mode refuses a domain when another is on any of them.
 */
enum vpwr_arbitration {
	VPWR_ARB_PERFORMANCE = 0, /* the highest request wins (default) */
	VPWR_ARB_POWERSAVE = 1,   /* the lowest request wins */
	VPWR_ARB_EXCLUSIVE = 2,   /* refuse domains that share the CPU */
};

enum vpwr_host_event_type {
	VPWR_HOST_EV_CHANNEL_UP = 1,   /* channel_id, domain */
	VPWR_HOST_EV_CHANNEL_DOWN = 2, /* channel_id, domain, status */
	VPWR_HOST_EV_REQUEST = 3,      /* request, reply, status */
	VPWR_HOST_EV_CPU_CHANGED = 4,  /* pcpu, old/new state, winner */
};

struct vpwr_host_event {
	uint32_t type;                 /* enum vpwr_host_event_type */
	uint32_t channel_id;
	const char *domain;            /* NULL for CPU_CHANGED */
	int status;
	const struct vpwr_msg *request;
	const struct vpwr_msg *reply;
	uint32_t pcpu;
	uint32_t old_khz, new_khz;     /* CPU_CHANGED: frequency */
	uint32_t min_khz, max_khz;     /* CPU_CHANGED: effective limits */
	uint32_t turbo;
	const char *winner;            /* CPU_CHANGED: domain that won, or
					  NULL when restored */
	const struct vpwr_peer *peer;  /* CHANNEL_UP: who connected (unix:
					  pid/uid/gid; vsock: CID), for
					  authorisation; else NULL */
};

/*
 * Called from vpwr_host_dispatch() (and from vpwr_host_handle(),
 * vpwr_host_evaluate(), vpwr_host_set_bounds() and vpwr_host_free() for
 * the changes they make);
 * pointers are valid during the call only.  The callback must not call
 * back into the host.
 */
typedef void (*vpwr_host_event_fn)(const struct vpwr_host_event *ev,
				   void *userdata);

/*
 * Policy sources (docs/POLICIES.md).  Each is called from the thread that
 * is using the host (in vpwr_host_dispatch(), vpwr_host_evaluate() and
 * vpwr_host_handle()), must not call back into the host, and returns 0 or
 * -errno; a failed read skips that sample.
 */

/* The wall clock, as Unix time in milliseconds. */
typedef int64_t (*vpwr_clock_fn)(void *userdata);

/*
 * A cumulative count of the packets of `domain`'s interfaces that `policy`
 * (a TRAFFIC policy, or a TIME policy with its own thresholds) names, in
 * *packets.  The host derives rates from differences; a count that goes
 * down starts the count afresh.
 */
typedef int (*vpwr_traffic_fn)(const char *domain,
			       const struct vpwr_policy *policy,
			       uint64_t *packets, void *userdata);

/* Cumulative branch instructions and branch misses of physical CPU pcpu. */
typedef int (*vpwr_branch_fn)(unsigned pcpu, uint64_t *branches,
			      uint64_t *misses, void *userdata);

struct vpwr_host_opts {
	size_t sz;
	struct vpwr_backend *backend;   /* required; borrowed */
	struct vpwr_resolver *resolver; /* required; borrowed */
	unsigned mode;                  /* enum vpwr_arbitration */
	unsigned max_channels;          /* open channels in all; 0: 1024 */
	unsigned allow_shared;          /* 1: apply to pCPUs other domains
					   may also run on */
	vpwr_host_event_fn event_fn;
	void *event_userdata;
	vpwr_log_fn log_fn;
	void *log_userdata;
	int log_level;
	/* Limits that keep one guest from hurting the others.  A channel
	 * over its rate gets NACKs (-VPWR_E_RATE_LIMIT); one that keeps sending
	 * past twice its burst without waiting is reset. */
	unsigned max_domain_channels;   /* open channels per domain (DPDK
					   opens one per lcore); 0: 64 */
	unsigned rate_per_s;            /* requests per second per channel;
					   0: no limit */
	unsigned rate_burst;            /* requests allowed at once above the
					   rate; 0: rate_per_s / 10, at
					   least 1 */
	/* 1: serve the power-agent channels the resolver reports (libvirt
	 * domain XML, vpwr_resolver_foreach_channel()): connect to those
	 * QEMU listens on while their domain runs, listen on those QEMU
	 * connects to, and drop them when they go from the XML.  When the
	 * resolver reports that the guest closed such a channel's port
	 * (vpwr_resolver_channel.guest_open 0: a guest process exited;
	 * QEMU keeps the socket connected), the channel counts as gone for
	 * the domain's wishes (grace_ms below) but stays open, its partial
	 * frame dropped; it counts again when the resolver reports the port
	 * open or the guest sends bytes.  libvirt reports it at once only
	 * with the resolver's port_events (docs/TRANSPORTS.md). */
	unsigned auto_channels;

	/* ---- policies (docs/POLICIES.md); zero is the default ---------- */
	/*
	 * The zone of TIME policies' hours: NULL or "local" (the process's
	 * local time, localtime_r), "UTC", a fixed ISO 8601 offset east of
	 * UTC ("+05:30", "-08:00", "+0545", "-03"), or an IANA zone
	 * ("Europe/Berlin") read from /usr/share/zoneinfo.  Read during
	 * vpwr_host_new() only.
	 */
	const char *time_zone;
	/* The wall clock of TIME policies, and the clock of rates; NULL:
	 * CLOCK_REALTIME (rates: CLOCK_MONOTONIC). */
	vpwr_clock_fn now_fn;
	void *now_userdata;
	/* How often TRAFFIC and BRANCH_RATIO counters are sampled, while
	 * such a policy is held; 0: 1000 ms. */
	unsigned traffic_period_ms;
	/* Packet counts; NULL: the statistics of host interfaces found by
	 * the policy's MACs under <sysfs_root>/class/net. */
	vpwr_traffic_fn traffic_fn;
	void *traffic_userdata;
	/* Root of sysfs for netdev statistics; NULL: "/sys".  Copied. */
	const char *sysfs_root;
	/* Branch counters; NULL: perf_event_open per physical CPU. */
	vpwr_branch_fn branch_fn;
	void *branch_userdata;
	/*
	 * When a domain's last channel goes away (not by
	 * vpwr_host_remove_channel()), or its guest closed the port of its
	 * last open one (auto_channels), keep its requests and policies this
	 * long for a channel of the domain to come back; 0: restore at once.
	 * While the resolver says the domain is not running
	 * (vpwr_resolver_domain_running() 0) they are kept but not applied:
	 * its CPUs are restored, and they apply again, on its live pinning,
	 * if it runs again within the grace period.
	 */
	unsigned grace_ms;
};

/* Errors: -EINVAL (missing backend/resolver, bad mode, unknown time
 * zone), -ENOMEM, -errno. */
VPWR_API int vpwr_host_new(const struct vpwr_host_opts *opts,
			   struct vpwr_host **out);

/*
 * Closes every channel and listener, restores every physical CPU the host
 * changed, and frees.  Accepts NULL.  The backend and resolver stay the
 * caller's.
 */
VPWR_API void vpwr_host_free(struct vpwr_host *h);

/*
 * Serve `ch`, bound to `domain`.  Takes ownership of ch, also on failure.
 * Returns the channel id (> 0), or -VPWR_E_NO_DOMAIN, -VPWR_E_LIMIT, -errno.
 */
VPWR_API int vpwr_host_add_channel(struct vpwr_host *h, const char *domain,
				   struct vpwr_channel *ch);

/*
 * Accept connections on `l`; each becomes a channel bound to `domain`.
 * With domain NULL (a vsock-listen: listener serving every guest) each
 * connection is bound to the domain whose vsock CID the peer has, and
 * turned away when no domain has it.  On a listener with a domain, a vsock
 * peer must have that domain's CID.  Takes ownership of l, also on
 * failure.  Returns 0 or -errno.
 */
VPWR_API int vpwr_host_add_listener(struct vpwr_host *h, const char *domain,
				    struct vpwr_listener *l);

/* vpwr_listener_open(uri) + vpwr_host_add_listener(); domain may be
 * NULL as there. */
VPWR_API int vpwr_host_listen(struct vpwr_host *h, const char *domain,
			      const char *uri);

/*
 * Connect to `uri` and serve the channel for `domain`; whenever it goes
 * away (QEMU restarting, the VM rebooting) or cannot be opened yet,
 * connect again after a back-off doubling from 100 ms to 5 s, on the
 * host's own timer.  For virtio-serial-host:PATH, a QEMU chardev with
 * server=on.  Returns 0 (connected or waiting to), -VPWR_E_NO_DOMAIN, or
 * the error of a URI that can never work (-EINVAL, -EPROTONOSUPPORT).
 * vpwr_host_remove_channel() on its channel ends it.
 */
VPWR_API int vpwr_host_connect(struct vpwr_host *h, const char *domain,
			       const char *uri);

/*
 * For hosts without libvirt: watch directory `dir` for the unix sockets of
 * QEMU chardevs that listen (server=on), named DOMAIN.N (DPDK's
 * /var/lib/power/<vm>.<channel>) or DOMAIN.sock.  Each socket there now or
 * later is served as vpwr_host_connect(h, DOMAIN, "virtio-serial-host:...")
 * would; one that is removed is detached.  Names of domains the resolver
 * does not know are logged and left alone.  0 or -errno (-ENOENT, -ENOTDIR).
 */
VPWR_API int vpwr_host_watch_dir(struct vpwr_host *h, const char *dir);

/*
 * Stop serving `uri`: close the listener vpwr_host_listen() opened on it or
 * the connector vpwr_host_connect() made for it (also one the host
 * attached itself: auto_channels, a watched directory), and every channel
 * it has made, dropping their requests at once as
 * vpwr_host_remove_channel() does.  Returns how many listeners and
 * connectors were closed (> 0), or -ENOENT if none serves `uri`, which
 * must be spelled as it was given.  A channel the host discovered comes
 * back at the next vpwr_host_refresh() if the resolver still lists it.
 */
VPWR_API int vpwr_host_detach(struct vpwr_host *h, const char *uri);

/*
 * Close channel `id` and drop its requests (as a RELEASE would, at once:
 * no grace period).  -ENOENT if there is no such channel.
 */
VPWR_API int vpwr_host_remove_channel(struct vpwr_host *h, int id);

/* The epoll fd to poll for readability. */
VPWR_API int vpwr_host_fd(const struct vpwr_host *h);

/*
 * Wait up to timeout_ms (0: do not wait, -1: forever) for events and
 * handle them.  Returns the number of events handled, or -errno.  Trouble
 * on one channel never fails the call: that channel is answered or reset.
 */
VPWR_API int vpwr_host_dispatch(struct vpwr_host *h, int timeout_ms);

/* Dispatch until vpwr_host_stop().  Returns 0 or -errno. */
VPWR_API int vpwr_host_run(struct vpwr_host *h);

/* Make vpwr_host_run() return.  Async-signal-safe. */
VPWR_API void vpwr_host_stop(struct vpwr_host *h);

/*
 * Handle one request of `domain` as if it had come over a channel and fill
 * `reply`.  Returns reply->status.
 */
VPWR_API int vpwr_host_handle(struct vpwr_host *h, const char *domain,
			      const struct vpwr_msg *request,
			      struct vpwr_msg *reply);

/*
 * Operator bounds of physical CPU `pcpu`: no guest may push it outside
 * [min_khz, max_khz].  0, 0 removes them.  Re-arbitrates at once.
 */
VPWR_API int vpwr_host_set_bounds(struct vpwr_host *h, unsigned pcpu,
				  uint32_t min_khz, uint32_t max_khz);

/*
 * Operator bounds of one domain: none of its requests or policies pushes
 * a CPU outside [min_khz, max_khz] (other domains' may, on CPUs they
 * share).  Kept while the host runs, also for a domain with no channel
 * yet.  0, 0 removes them.  Re-arbitrates at once.  -VPWR_E_NO_DOMAIN for
 * a domain the resolver does not know.
 */
VPWR_API int vpwr_host_set_domain_bounds(struct vpwr_host *h,
					 const char *domain, uint32_t min_khz,
					 uint32_t max_khz);

struct vpwr_host_cpu_info {
	uint32_t cur_khz;       /* as the backend reports it */
	uint32_t min_khz;       /* effective limits */
	uint32_t max_khz;
	uint32_t turbo;
	uint32_t nr_requests;   /* live requests on this CPU (on its cpufreq
				   policy's CPUs, which show the same) */
	uint32_t managed;       /* 1 if the host has changed this CPU */
	char winner[64];        /* the domain whose request won, or "" */
};

/* What the host holds for physical CPU `pcpu`. */
VPWR_API int vpwr_host_cpu_info(struct vpwr_host *h, unsigned pcpu,
				struct vpwr_host_cpu_info *info);

/*
 * The operator's control interface (docs/CONTROL.md): answer one request,
 * a JSON object such as {"cmd":"cpus"}, with a JSON object in *reply
 * (malloc'd; free() it).  Returns 0, or the error of a refused request
 * (*reply then says why), -ENOMEM, -EINVAL.
 */
VPWR_API int vpwr_host_control(struct vpwr_host *h, const char *request,
			       char **reply);

/*
 * Serve the control interface on a unix socket (unix-listen:PATH), one
 * JSON request per line: the socket file is made mode 0600 and only root
 * and this process's user are served (SO_PEERCRED).  0 or -errno.
 */
VPWR_API int vpwr_host_control_listen(struct vpwr_host *h, const char *uri);

/*
 * Re-read the resolver now and re-decide every physical CPU (a vCPU
 * re-pinned elsewhere leaves its old CPU restored and moves its wish);
 * with auto_channels, attach and detach channels to match.  The host does
 * this by itself when the resolver's change fd fires (libvirt events);
 * call it for changes that come without one.  Returns 1 if anything
 * changed, 0 if not, or the resolver's error (-ENOTCONN: the host retries
 * on its own timer).
 */
VPWR_API int vpwr_host_refresh(struct vpwr_host *h);

/*
 * Evaluate every policy now: the hour of TIME policies by now_fn, and one
 * sample of TRAFFIC and BRANCH_RATIO counters (which counts towards their
 * hysteresis like a sample on the period).  For embedders and simulations
 * that drive their own clock; a host run by vpwr_host_dispatch() does this
 * on its timers.  Returns 0, or the first error the backend gave while
 * applying a change (-errno), or -EINVAL.
 */
VPWR_API int vpwr_host_evaluate(struct vpwr_host *h);

/* Number of open channels. */
VPWR_API int vpwr_host_nr_channels(const struct vpwr_host *h);

#ifdef __cplusplus
}
#endif
#endif
