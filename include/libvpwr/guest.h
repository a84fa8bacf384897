/* SPDX-License-Identifier: MIT */
/*
 * The guest client: runs inside a VM (or anywhere that has a channel to the
 * host) and asks the host to change the frequency of the guest's own vCPUs.
 *
 *   struct vpwr_guest *g;
 *   if (vpwr_guest_open("unix:/run/vpwr/vm1.sock", NULL, &g) == 0) {
 *           vpwr_guest_scale(g, 0, VPWR_SCALE_MAX);
 *           vpwr_guest_free(g);
 *   }
 *
 * Every call blocks until the host's reply with the same sequence number
 * arrives or the timeout expires (-ETIMEDOUT).  A request the host refuses
 * returns the host's status (negative) and vpwr_guest_last_reason() says
 * why.  Host notifications that arrive meanwhile are passed to the
 * notification callback, if any.  A handle is used by one thread at a time.
 */
#ifndef LIBVPWR_GUEST_H
#define LIBVPWR_GUEST_H

#include "common.h"
#include "message.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vpwr_guest;
struct vpwr_channel;

typedef void (*vpwr_guest_notify_fn)(const struct vpwr_msg *notification,
				     void *userdata);

struct vpwr_guest_opts {
	size_t sz;
	int timeout_ms;              /* per request; 0: 2000, -1: forever */
	const char *codec;           /* NULL: "native"; also "json", and
					"dpdk" to talk to DPDK's own host
					daemon (replies are then matched in
					order: DPDK has no sequence numbers) */
	vpwr_guest_notify_fn notify_fn;
	void *notify_userdata;
	vpwr_log_fn log_fn;
	void *log_userdata;
	int log_level;
	const char *dpdk_vm_name;    /* "dpdk": the name DPDK's own host
					daemon knows this VM by (it finds
					the VM of queries and policies by
					name); NULL: empty */
};

/* Connect to the host at `uri` (see transport.h). */
VPWR_API int vpwr_guest_open(const char *uri,
			     const struct vpwr_guest_opts *opts,
			     struct vpwr_guest **out);

/* Use an open channel; takes ownership of ch, also on failure. */
VPWR_API int vpwr_guest_open_channel(struct vpwr_channel *ch,
				     const struct vpwr_guest_opts *opts,
				     struct vpwr_guest **out);

/* Closes the channel (the host then drops this channel's requests). */
VPWR_API void vpwr_guest_free(struct vpwr_guest *g);

VPWR_API int vpwr_guest_fd(const struct vpwr_guest *g);

/*
 * Negotiate the protocol version; *info (may be NULL) receives the host's
 * chosen version, capabilities and limits.
 */
VPWR_API int vpwr_guest_hello(struct vpwr_guest *g, struct vpwr_hello *info);

VPWR_API int vpwr_guest_scale(struct vpwr_guest *g, unsigned vcpu,
			      enum vpwr_scale_op op);
VPWR_API int vpwr_guest_set_freq(struct vpwr_guest *g, unsigned vcpu,
				 uint32_t khz);
VPWR_API int vpwr_guest_set_range(struct vpwr_guest *g, unsigned vcpu,
				  uint32_t min_khz, uint32_t max_khz);
VPWR_API int vpwr_guest_set_turbo(struct vpwr_guest *g, unsigned vcpu,
				  int enable);
VPWR_API int vpwr_guest_set_epp(struct vpwr_guest *g, unsigned vcpu,
				unsigned hint);

/*
 * The frequencies vCPU `vcpu` can run at: up to `cap` entries into khz
 * (ascending); *cur_khz (may be NULL) gets the current one.  Returns the
 * number of entries the host reported.
 */
VPWR_API int vpwr_guest_query_freqs(struct vpwr_guest *g, unsigned vcpu,
				    uint32_t *khz, size_t cap,
				    uint32_t *cur_khz);

VPWR_API int vpwr_guest_query_state(struct vpwr_guest *g, unsigned vcpu,
				    struct vpwr_vcpu_state *state);

/*
 * Per-vCPU facts (VPWR_VCPUS_FREQS | VPWR_VCPUS_CAPS) of `vcpu`, or of every
 * vCPU from 0 when vcpu is VPWR_VCPU_NONE (at most VPWR_MSG_MAX_VCPUS per
 * reply).
 */
VPWR_API int vpwr_guest_query_vcpus(struct vpwr_guest *g, unsigned vcpu,
				    unsigned want, struct vpwr_vcpu_list *list);

/*
 * Hand the host a policy to apply on the guest's behalf; it replaces an
 * earlier policy of the same kind.
 */
VPWR_API int vpwr_guest_send_policy(struct vpwr_guest *g,
				    const struct vpwr_policy *policy);

/* Withdraw the policy of `kind` (0: every policy); the host restores. */
VPWR_API int vpwr_guest_remove_policy(struct vpwr_guest *g,
				      enum vpwr_policy_kind kind);

/* Drop every request this guest made; the host restores what it changed. */
VPWR_API int vpwr_guest_release(struct vpwr_guest *g);

/*
 * Send any request and wait for its reply.  request->seq is replaced by
 * the client's own.  Returns reply->status, or -errno for local failures.
 */
VPWR_API int vpwr_guest_request(struct vpwr_guest *g,
				const struct vpwr_msg *request,
				struct vpwr_msg *reply);

/* The host's reason for the last refused request, or "". */
VPWR_API const char *vpwr_guest_last_reason(const struct vpwr_guest *g);

#ifdef __cplusplus
}
#endif
#endif
