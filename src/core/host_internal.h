/* SPDX-License-Identifier: MIT */
/*
 * Host engine internals shared by host.c (event loop, channels, framing)
 * and arbiter.c (requests, per-pCPU arbitration, applying to the backend).
 */
#ifndef VPWR_HOST_INTERNAL_H
#define VPWR_HOST_INTERNAL_H

#include <stdbool.h>

#include "framer.h"
#include "internal.h"
#include "traffic_source.h"
#include "libvpwr/backend.h"
#include "libvpwr/host.h"
#include "libvpwr/resolver.h"
#include "libvpwr/transport.h"

#define HOST_DOMAIN_NAME_MAX 64
#define HOST_TX_CAP (64 * 1024)   /* unsent replies before a reset */
#define HOST_MAX_FREQS 256

/* What one vCPU of one domain has asked for; lo == 0 means nothing. */
struct vcpu_request {
	uint32_t lo_khz;
	uint32_t hi_khz;
	int turbo;                 /* -1: no wish, 0 off, 1 on */
	int epp;                   /* -1: no wish, else 0..255 */
};

#define VCPU_REQUEST_NONE ((struct vcpu_request){ .turbo = -1, .epp = -1 })

/* Whether r asks for anything. */
static inline bool host_request_active(const struct vcpu_request *r)
{
	return r->hi_khz || r->turbo >= 0 || r->epp >= 0;
}

/* What a policy wants for a vCPU: nothing, or a step of its table. */
enum policy_level {
	LEVEL_NONE = 0,
	LEVEL_MIN = 1,
	LEVEL_MEDIUM = 2,
	LEVEL_MAX = 3,
};

/* The current local hour, as a domain's TIME policy sees it. */
enum hour_class {
	HOUR_OTHER = 0,
	HOUR_BUSY = 1,
	HOUR_QUIET = 2,
	HOUR_TRAFFIC = 3,
};

/* The packet rate of one policy's interfaces, sampled on the period. */
struct traffic_state {
	bool sampling;             /* counted on every sampling round */
	bool based;                /* `packets` holds an earlier count */
	uint8_t level;             /* enum policy_level, with hysteresis */
	uint8_t below;             /* samples in a row that argue for less */
	uint64_t packets;          /* the cumulative count at at_ms */
	int64_t at_ms;
	uint64_t pps;              /* the last rate */
	struct tsrc_set *src;      /* the host's own sources (no traffic_fn) */
};

/* Which traffic_state of a domain. */
#define TRAFFIC_OF_TRAFFIC 0   /* its TRAFFIC policy */
#define TRAFFIC_OF_TIME 1      /* its TIME policy's own thresholds (DPDK) */

/* A BRANCH_RATIO decision for one vCPU. */
struct branch_state {
	uint8_t level;             /* enum policy_level */
	uint8_t below;             /* samples in a row at or below the ratio */
};

struct host_domain {
	char name[HOST_DOMAIN_NAME_MAX];
	unsigned nr_vcpus;
	unsigned nr_channels;       /* open channels */
	unsigned nr_port_closed;    /* ... of which the guest closed its
				       port (QEMU keeps the socket): they
				       hold no wishes up */
	unsigned nr_listeners;      /* listeners that make channels for it */
	struct vcpu_request *req;  /* nr_vcpus entries: direct requests */
	struct vcpu_request *pol;  /* nr_vcpus entries: what policies want */
	struct vpwr_policy policy[VPWR_POLICY_BRANCH_RATIO + 1]; /* by kind */
	unsigned policy_mask;      /* bit k: a policy of kind k is held */
	uint8_t hour_class;        /* enum hour_class, for its TIME policy */
	struct traffic_state traffic[2]; /* TRAFFIC_OF_* */
	struct branch_state *branch; /* nr_vcpus entries */
	uint64_t grace_due_ns;     /* no channel left: restore then; 0: no */
	uint32_t bound_min, bound_max; /* operator bounds for the domain,
					  0: none */
	int8_t ran;                /* at the last refresh: 1 running, 0 not,
				      -1 not seen yet */
	struct vpwr_cpuset blocked; /* vCPUs its policies may not steer now
				       (host_policy_repin) */
	struct host_domain *next;
};

/*
 * The host's view of one physical CPU.  CPUs that share a cpufreq policy
 * (vpwr_backend_policy_cpus) are one frequency domain, arbitrated as one
 * unit: the backend is driven through the group's `leader` (its lowest
 * CPU), and the applied state below (managed .. winner) is the same on
 * every CPU of the group.  Operator bounds stay per CPU.
 */
struct host_pcpu {
	bool managed;              /* the host has changed it */
	uint32_t min_khz, max_khz; /* applied effective limits */
	int turbo;                 /* applied turbo, -1: left alone */
	int epp;                   /* applied EPP hint, -1: left alone */
	uint32_t bound_min, bound_max; /* operator bounds, 0: none */
	uint32_t nr_requests;
	const struct host_domain *winner;
	unsigned leader;           /* the lowest CPU of its group */
	uint32_t was_khz;          /* scratch: its frequency before a change */
	struct vpwr_cpuset group;  /* every CPU of its group, itself too */
	/* BRANCH_RATIO counters of this CPU. */
	int perf_fds[2];           /* perf group (branches, misses); -1 */
	bool br_based;             /* br_* hold an earlier reading */
	bool br_fresh;             /* br_d_* hold this round's deltas */
	uint64_t br_branches, br_misses;
	uint64_t br_d_branches, br_d_misses;
};

struct host_stats {
	uint64_t requests;         /* frames decoded from guests */
	uint64_t refused;          /* answered with a NACK */
	uint64_t channels_opened;
	uint64_t channels_reset;   /* closed by the host for misbehaving */
	uint64_t notifications;
};

/* A directory of QEMU chardev sockets the host watches (watch_dir). */
struct host_watch {
	int wd;                    /* inotify watch descriptor */
	char *dir;
	struct host_watch *next;
};

struct vpwr_host {
	struct vpwr_host_opts opts;
	struct vpwr_logger log;
	struct vpwr_backend *backend;
	struct vpwr_resolver *resolver;
	unsigned nr_pcpus;
	struct host_pcpu *pcpu;
	struct host_domain *domains;

	int epfd;
	int stopfd;                /* eventfd written by vpwr_host_stop */
	int retryfd;               /* timerfd (monotonic): paused listeners,
				      connectors, policy samples, grace */
	int timefd;                /* timerfd (realtime): TIME policies'
				      hour boundaries; armed only while one
				      is held */
	bool stop_requested;
	const struct host_domain *acting; /* whose request is being handled */
	unsigned nr_ctl;           /* operator connections */
	int resolver_fd;           /* the resolver's change fd, or -1 */
	bool dispatching;          /* inside vpwr_host_dispatch()'s batch */
	struct host_source *graveyard; /* closed in this batch, freed after */
	int watchfd;               /* inotify on watched socket directories,
				      or -1 until vpwr_host_watch_dir() */
	struct host_watch *watches; /* the directories */
	uint64_t resolver_due_ns;  /* retry a refresh that could not reach
				      the resolver; 0: none */
	struct host_stats stats;
	uint64_t sample_due_ns;    /* next TRAFFIC/BRANCH_RATIO sample; 0:
				      nothing to sample */
	int64_t last_sample_ms;    /* policy clock at the last sample */
	struct vpwr_tz *tz;        /* the zone of TIME policies' hours */
	struct host_wish *wishes;  /* arbiter's scratch, nr_pcpus entries */
	char *sysfs_root;          /* where netdev statistics are read */
	struct tsrc_env tsrc;      /* what traffic sources read through (tests
				      replace tsrc.nl with crafted replies) */
	struct host_source *sources; /* channels and listeners */
	unsigned nr_channels;
	int next_channel_id;
	unsigned next_endpoint; /* serial of listeners and connectors */
	bool resync;               /* a discovered channel was detached:
				      sync at the next refresh */
};

/* arbiter.c */
bool host_domain_has_requests(const struct host_domain *d);
struct host_domain *host_domain_get(struct vpwr_host *h, const char *name,
				    int *err);
void host_domain_put(struct vpwr_host *h, struct host_domain *d);
void host_domain_release(struct vpwr_host *h, struct host_domain *d);
void host_domain_free(struct host_domain *d);
/* `validated`: req comes from a codec's decoder, which ran
 * vpwr_msg_validate() on it already. */
int host_handle_request(struct vpwr_host *h, struct host_domain *d,
			const struct vpwr_msg *req, struct vpwr_msg *reply,
			bool validated);
int host_rearbitrate(struct vpwr_host *h, unsigned pcpu);
int host_rearbitrate_set(struct vpwr_host *h, const struct vpwr_cpuset *cpus);
void host_restore_all(struct vpwr_host *h);
/* Read the groups of CPUs sharing a cpufreq policy from the backend. */
void host_groups_init(struct vpwr_host *h);
/* Add the groups of the CPUs of `cpus` to *out (CPUs >= nr_pcpus are
 * left out); the number of groups met. */
unsigned host_groups_of(const struct vpwr_host *h,
			const struct vpwr_cpuset *cpus, struct vpwr_cpuset *out);
/* Does the domain run, as far as the resolver knows?  Its wishes count
 * only then: a shut-off libvirt domain reads as its config pinning. */
bool host_domain_running(const struct vpwr_host *h, const char *name);
void host_emit(struct vpwr_host *h, const struct vpwr_host_event *ev);

/* host.c */
void host_timer_arm(struct vpwr_host *h);

/* host_request.c */
/* Whether domain d may steer vCPU `vcpu` now (host_resolve_vcpu's
 * checks); if not, why (into why[len]). */
bool host_vcpu_allowed(struct vpwr_host *h, struct host_domain *d,
		       unsigned vcpu, char *why, size_t len);
int host_resolve_vcpu(struct vpwr_host *h, struct host_domain *d,
		      unsigned vcpu, const struct vpwr_msg *req,
		      struct vpwr_cpuset *set, struct vpwr_msg *reply);
int host_freq_table(struct vpwr_host *h, unsigned pcpu, uint32_t *tbl);
int host_rearbitrate_domain(struct vpwr_host *h, struct host_domain *d);
void host_domain_cpus(struct vpwr_host *h, const struct host_domain *d,
		      struct vpwr_cpuset *cpus);

/* host_request.c: the state of `vcpu` (running on `pcpu`) as `d` sees it. */
void host_fill_state(struct vpwr_host *h, struct host_domain *d,
		     unsigned vcpu, unsigned pcpu, struct vpwr_vcpu_state *st);

/* host.c: the effective state of the CPUs of `cpus` (one group) changed;
 * tell the domains with a frequency wish on them (other than the one
 * whose request did it), once per vCPU. */
void host_notify_limits(struct vpwr_host *h, const struct vpwr_cpuset *cpus);

/* host.c: what the control interface shows of each channel. */
struct host_channel_info {
	int id;
	const char *domain;
	const char *scheme;
	const char *codec;         /* NULL until detected */
	bool notify;
	bool connector;            /* the host connected it (and reconnects) */
	bool guest_closed;         /* the guest closed its port (libvirt) */
	size_t tx_queued;
	struct vpwr_peer peer;
};
void host_foreach_channel(struct vpwr_host *h,
			  void (*fn)(const struct host_channel_info *ci,
				     void *userdata),
			  void *userdata);

/* host_ctl.c: answer one control request (JSON text); *reply is malloc'd
 * JSON.  Returns 0, or the request's error. */
int host_control_text(struct vpwr_host *h, const char *text, size_t len,
		      char **reply);

/* host_policy.c: policies, their evaluators and their timers */
int host_policy_init(struct vpwr_host *h);
void host_policy_fini(struct vpwr_host *h);
int host_policy_set(struct vpwr_host *h, struct host_domain *d,
		    const struct vpwr_msg *req, struct vpwr_msg *reply);
int host_policy_remove(struct vpwr_host *h, struct host_domain *d,
		       const struct vpwr_msg *req, struct vpwr_msg *reply);
/* Drop every policy of the domain (its wishes stay for the caller to
 * rearbitrate). */
void host_policy_drop(struct vpwr_host *h, struct host_domain *d);
void host_policy_domain_free(struct host_domain *d);
/* The realtime timer is readable; the monotonic one reached
 * sample_due_ns. */
void host_policy_time_event(struct vpwr_host *h);
void host_policy_sample_event(struct vpwr_host *h, uint64_t now_ns);
/* Pinning changed: policies' wishes for the vCPUs' new CPUs (the caller
 * re-decides the CPUs), and counters for the CPUs now watched. */
void host_policy_repin(struct vpwr_host *h);

#endif
