/* SPDX-License-Identifier: MIT */
/*
 * The guest client: one channel to the host, requests sent one at a time
 * and answered in order of sequence numbers.  Every call is blocking with
 * a deadline; the channel itself stays non-blocking so that a slow or
 * absent host can never hang the caller past that deadline.
 */
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>
#include <time.h>

#include "codec_dpdk.h"
#include "codec_internal.h"
#include "framer.h"
#include "internal.h"
#include "libvpwr/codec.h"
#include "libvpwr/guest.h"
#include "libvpwr/transport.h"
#include "transport/transport_internal.h"

/* Waits between attempts to reach a host that is away: doubling up to
 * this, always within the request's deadline. */
#define GUEST_RETRY_MIN_MS 5
#define GUEST_RETRY_MAX_MS 200

struct vpwr_guest {
	struct vpwr_guest_opts opts;
	char dpdk_vm_name[32];
	struct vpwr_logger log;
	struct vpwr_channel *ch;
	const struct vpwr_codec *codec;
	uint32_t next_seq;
	/* The byte stream is out of step (unframeable input from the host,
	 * or a request only partly sent): every later call fails at once. */
	int broken;
	/* Opened from a URI: after the host hangs up (daemon restarted),
	 * the next request connects again. */
	char *uri;
	bool down;                 /* the connection has gone */
	char reason[VPWR_REASON_MAX];
	struct vpwr_framer rx;
};

/*
 * Where a handle's sequence numbers start.  A virtio-serial port outlives
 * the processes that open it: a reply to a request that timed out can
 * wait in QEMU for the next process, which must not take it for the
 * answer to its own request with the same number.  So every handle starts
 * somewhere else.
 */
static uint32_t first_seq(void)
{
	uint32_t seq = 0;

	if (getrandom(&seq, sizeof(seq), GRND_NONBLOCK) != sizeof(seq))
		seq = (uint32_t)vpwr_now_ns() ^ ((uint32_t)getpid() << 16);
	return seq ? seq : 1;
}

VPWR_API int vpwr_guest_open_channel(struct vpwr_channel *ch,
				     const struct vpwr_guest_opts *opts,
				     struct vpwr_guest **out)
{
	struct vpwr_guest *g;
	int rc;

	if (!out || !ch) {
		vpwr_channel_free(ch);
		return -EINVAL;
	}
	*out = NULL;
	g = calloc(1, sizeof(*g));
	if (!g) {
		vpwr_channel_free(ch);
		return -ENOMEM;
	}
	rc = VPWR_OPTS_LOAD(&g->opts, opts);
	if (rc == 0) {
		/* A guest speaks DPDK's protocol in its guest role. */
		if (!g->opts.codec)
			g->codec = vpwr_codec_native();
		else if (!strcmp(g->opts.codec, "dpdk"))
			g->codec = vpwr_codec_dpdk_guest();
		else
			g->codec = vpwr_codec_by_name(g->opts.codec);
		if (!g->codec)
			rc = -EPROTONOSUPPORT;
	}
	if (rc < 0) {
		vpwr_channel_free(ch);
		free(g);
		return rc;
	}
	vpwr_logger_init(&g->log, g->opts.log_fn, g->opts.log_userdata,
			 g->opts.log_level);
	if (!g->opts.timeout_ms)
		g->opts.timeout_ms = 2000;
	/* Strings are not kept: the caller's may go away. */
	if (g->opts.dpdk_vm_name &&
	    vpwr_strlcpy(g->dpdk_vm_name, g->opts.dpdk_vm_name,
			 sizeof(g->dpdk_vm_name)) >= sizeof(g->dpdk_vm_name)) {
		vpwr_channel_free(ch);
		free(g);
		return -ENAMETOOLONG;
	}
	g->opts.codec = NULL;
	g->opts.dpdk_vm_name = NULL;
	g->ch = ch;
	g->next_seq = first_seq();
	vpwr_framer_init(&g->rx, g->codec);
	*out = g;
	return 0;
}

VPWR_API int vpwr_guest_open(const char *uri,
			     const struct vpwr_guest_opts *opts,
			     struct vpwr_guest **out)
{
	struct vpwr_guest_opts o;
	struct vpwr_channel *ch;
	int rc;

	if (!uri || !out)
		return -EINVAL;
	rc = VPWR_OPTS_LOAD(&o, opts);
	if (rc < 0)
		return rc;
	rc = vpwr_channel_open(uri,
			       &(struct vpwr_channel_opts){
				       .sz = sizeof(struct vpwr_channel_opts),
				       .log_fn = o.log_fn,
				       .log_userdata = o.log_userdata,
				       .log_level = o.log_level },
			       &ch);
	if (rc < 0)
		return rc;
	rc = vpwr_guest_open_channel(ch, opts, out);
	if (rc == 0) {
		(*out)->uri = strdup(uri);
		if (!(*out)->uri) {
			vpwr_guest_free(*out);
			*out = NULL;
			return -ENOMEM;
		}
	}
	return rc;
}

VPWR_API void vpwr_guest_free(struct vpwr_guest *g)
{
	if (!g)
		return;
	vpwr_channel_free(g->ch);
	free(g->uri);
	free(g);
}

VPWR_API int vpwr_guest_fd(const struct vpwr_guest *g)
{
	return g ? vpwr_channel_fd(g->ch) : -EINVAL;
}

VPWR_API const char *vpwr_guest_last_reason(const struct vpwr_guest *g)
{
	return g ? g->reason : "";
}

/* Milliseconds left until `deadline` (ns), or -1 for no deadline. */
static int remaining_ms(uint64_t deadline)
{
	uint64_t now;

	if (!deadline)
		return -1;
	now = vpwr_now_ns();
	return now >= deadline ? 0 : (int)((deadline - now + 999999) / 1000000);
}

static int wait_fd(struct vpwr_guest *g, short events, uint64_t deadline)
{
	struct pollfd p = { .fd = vpwr_channel_fd(g->ch), .events = events };
	int n;

	do {
		n = poll(&p, 1, remaining_ms(deadline));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* POLLHUP on a channel whose far end only comes and goes (virtio-serial). */
static bool host_away(struct vpwr_guest *g)
{
	struct pollfd p = { .fd = vpwr_channel_fd(g->ch), .events = POLLOUT };

	return vpwr_channel_hup_transient(g->ch) && poll(&p, 1, 0) > 0 &&
	       (p.revents & POLLHUP);
}

/* A fresh stream from the host: whatever was buffered or half-sent on the
 * old one no longer matters. */
static void stream_reset(struct vpwr_guest *g)
{
	vpwr_framer_init(&g->rx, g->codec);
	g->broken = 0;
}

/*
 * The host side of a virtio-serial port is not connected (its daemon is
 * restarting): poll() only says POLLHUP until it is back, so look again in
 * growing steps until then or the deadline.
 */
static int wait_host(struct vpwr_guest *g, uint64_t deadline)
{
	int step = GUEST_RETRY_MIN_MS;
	bool logged = false;

	while (host_away(g)) {
		int left = remaining_ms(deadline);

		if (left == 0) {
			log_warn(&g->log, "the host side of %s is not "
				 "connected", g->uri ? g->uri : "the port");
			return -ETIMEDOUT;
		}
		if (!logged) {
			log_info(&g->log, "waiting for the host to connect");
			logged = true;
		}
		sleep_ms(left < 0 ? step : VPWR_MIN(step, left));
		step = VPWR_MIN(step * 2, GUEST_RETRY_MAX_MS);
	}
	if (logged)
		stream_reset(g);
	return 0;
}

/* Connect again to g->uri, retrying within the deadline while nobody
 * listens there yet. */
static int reconnect(struct vpwr_guest *g, uint64_t deadline)
{
	struct vpwr_channel_opts co = { .sz = sizeof(co),
					.log_fn = g->opts.log_fn,
					.log_userdata = g->opts.log_userdata,
					.log_level = g->opts.log_level };
	int step = GUEST_RETRY_MIN_MS;

	for (;;) {
		struct vpwr_channel *ch;
		int left, rc = vpwr_channel_open(g->uri, &co, &ch);

		if (rc == 0) {
			vpwr_channel_free(g->ch);
			g->ch = ch;
			g->down = false;
			stream_reset(g);
			log_info(&g->log, "reconnected to %s", g->uri);
			return 0;
		}
		left = remaining_ms(deadline);
		if (left == 0 || (rc != -ENOENT && rc != -ECONNREFUSED &&
				  rc != -EAGAIN && rc != -ETIMEDOUT &&
				  rc != -ECONNRESET)) {
			log_warn(&g->log, "cannot reconnect to %s: %s", g->uri,
				 vpwr_strerror(rc));
			return rc == -ENOENT || rc == -ECONNREFUSED ?
				       -VPWR_E_CLOSED : rc;
		}
		sleep_ms(left < 0 ? step : VPWR_MIN(step, left));
		step = VPWR_MIN(step * 2, GUEST_RETRY_MAX_MS);
	}
}

/*
 * Before a request: make sure someone is there.  A socket known to have
 * lost its host (end of stream, EPIPE, an out-of-step stream) is connected
 * again when the guest was opened from a URI; a virtio-serial port waits
 * for its host side to come back.
 */
static int ensure_host(struct vpwr_guest *g, uint64_t deadline)
{
	if (vpwr_channel_hup_transient(g->ch))
		return wait_host(g, deadline);
	/* An out-of-step stream is mended by a new connection.  A host that
	 * hung up since the last request needs no look here (no system call
	 * per request): the write fails with EPIPE, and the request goes out
	 * again on a new connection (vpwr_guest_request). */
	if (g->broken && g->uri)
		g->down = true;
	if (!g->down)
		return 0;
	if (!g->uri)
		return -VPWR_E_CLOSED;
	return reconnect(g, deadline);
}

static int send_all(struct vpwr_guest *g, const uint8_t *buf, size_t len,
		    uint64_t deadline)
{
	while (len) {
		ssize_t n = vpwr_channel_write(g->ch, buf, len);

		if (n == -EAGAIN) {
			int rc = host_away(g) ? wait_host(g, deadline)
					      : wait_fd(g, POLLOUT, deadline);
			if (rc < 0)
				return rc;
			continue;
		}
		if (n < 0)
			return (int)n;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The next whole message from the host. */
static int recv_msg(struct vpwr_guest *g, struct vpwr_msg *m,
		    uint64_t deadline, bool sent)
{
	struct vpwr_decode_error err;
	const uint8_t *frame;

	for (;;) {
		int len = vpwr_framer_next(&g->rx, &frame, &err);
		ssize_t n;

		if (len > 0) {
			int rc = vpwr_codec_decode(g->codec, frame, (size_t)len,
						   m, &err);
			vpwr_framer_consume(&g->rx, (size_t)len);
			if (rc < 0)
				log_warn(&g->log, "bad frame from the host: %s",
					 err.text);
			return rc;
		}
		if (len < 0) {
			log_err(&g->log, "host stream cannot be framed: %s",
				err.text);
			g->broken = len;
			return len;
		}
		/* A request has just gone out: its reply cannot be here yet,
		 * so wait before reading rather than read only to hear
		 * EAGAIN. */
		if (sent) {
			int rc = wait_fd(g, POLLIN, deadline);

			if (rc < 0)
				return rc;
			sent = false;
		}
		n = vpwr_channel_read(g->ch, vpwr_framer_tail(&g->rx),
				      vpwr_framer_space(&g->rx));
		if (n == -EAGAIN) {
			int rc = wait_fd(g, POLLIN, deadline);
			if (rc < 0)
				return rc;
			continue;
		}
		if (n == 0 || n == -VPWR_E_CLOSED) {
			/* The host went away with our request: whether it was
			 * applied is unknown (a host that stops restores
			 * what it changed).  The next request finds it again. */
			if (vpwr_channel_hup_transient(g->ch))
				stream_reset(g);
			else
				g->down = true;
			return -VPWR_E_CLOSED;
		}
		if (n < 0)
			return (int)n;
		vpwr_framer_commit(&g->rx, (size_t)n);
	}
}

VPWR_API int vpwr_guest_request(struct vpwr_guest *g,
				const struct vpwr_msg *request,
				struct vpwr_msg *reply)
{
	uint8_t buf[VPWR_NATIVE_MAX_FRAME];
	struct vpwr_msg req;
	uint64_t deadline = 0;
	bool sent = true;
	int n, rc;

	if (!g || !request || !reply)
		return -EINVAL;
	if (g->opts.timeout_ms > 0)
		deadline = vpwr_now_ns() + (uint64_t)g->opts.timeout_ms * 1000000u;
	rc = ensure_host(g, deadline);
	if (rc < 0)
		return rc;
	if (g->broken)
		return g->broken;
	req = *request;
	req.seq = g->next_seq++;
	if (!g->next_seq)
		g->next_seq = 1;
	req.flags = 0;
	g->reason[0] = '\0';
	if (g->codec == vpwr_codec_dpdk_guest())
		n = vpwr_dpdk_guest_encode_named(&req, g->dpdk_vm_name, buf,
						 sizeof(buf));
	else
		n = vpwr_codec_encode(g->codec, &req, buf, sizeof(buf));
	if (n < 0)
		return n;
	rc = send_all(g, buf, (size_t)n, deadline);
	if (rc == -VPWR_E_CLOSED && g->uri &&
	    !vpwr_channel_hup_transient(g->ch)) {
		/* Hung up before the request went out (EPIPE): it reached
		 * nobody, so it is safe to send on a new connection. */
		g->down = true;
		rc = reconnect(g, deadline);
		if (rc == 0)
			rc = send_all(g, buf, (size_t)n, deadline);
	}
	if (rc == -VPWR_E_CLOSED)
		g->down = !vpwr_channel_hup_transient(g->ch);
	else if (rc < 0)
		g->broken = -VPWR_E_PROTO; /* maybe half a frame is out */
	while (rc == 0) {
		if (deadline && remaining_ms(deadline) == 0) {
			rc = -ETIMEDOUT;
			break;
		}
		rc = recv_msg(g, reply, deadline, sent);
		sent = false;
		if (g->broken)
			break;
		if (rc == -VPWR_E_PROTO || rc == -EBADMSG ||
		    rc == -EPROTONOSUPPORT || rc == -VPWR_E_VERSION)
			rc = 0; /* one bad frame: keep waiting for ours */
		else if (rc < 0)
			break;
		else if (reply->flags & VPWR_MSG_F_NOTIFY) {
			if (g->opts.notify_fn)
				g->opts.notify_fn(reply, g->opts.notify_userdata);
		} else if ((reply->flags & VPWR_MSG_F_REPLY) &&
			   ((reply->seq == req.seq &&
			     reply->type == req.type) ||
			    (g->codec->flags & VPWR_CODEC_F_NO_SEQ))) {
			/* Without sequence numbers (DPDK) the next reply is
			 * ours: a reply that arrives after its request timed
			 * out would be taken for the next one's, so a timeout
			 * there leaves the channel out of step. */
			vpwr_strlcpy(g->reason, reply->reason,
				     sizeof(g->reason));
			return reply->status;
		} else {
			/* The late answer to a request that timed out (maybe
			 * another process's, on a virtio-serial port). */
			log_debug(&g->log, "dropping %s reply seq %u",
				  vpwr_msg_type_name(reply->type), reply->seq);
		}
		reply->status = 0;
	}
	if (rc == -ETIMEDOUT)
		log_warn(&g->log, "no reply to %s (seq %u) within %d ms",
			 vpwr_msg_type_name(req.type), req.seq,
			 g->opts.timeout_ms);
	return rc;
}

static int simple(struct vpwr_guest *g, struct vpwr_msg *req)
{
	struct vpwr_msg reply;

	return vpwr_guest_request(g, req, &reply);
}

VPWR_API int vpwr_guest_hello(struct vpwr_guest *g, struct vpwr_hello *info)
{
	struct vpwr_msg req, reply;
	int rc;

	vpwr_msg_init(&req, VPWR_MSG_HELLO, 0, VPWR_VCPU_NONE);
	req.u.hello.version_min = 1;
	req.u.hello.version_max = VPWR_PROTO_VERSION;
	rc = vpwr_guest_request(g, &req, &reply);
	if (rc == 0 && info)
		*info = reply.u.hello;
	return rc;
}

VPWR_API int vpwr_guest_scale(struct vpwr_guest *g, unsigned vcpu,
			      enum vpwr_scale_op op)
{
	struct vpwr_msg req;

	vpwr_msg_init(&req, VPWR_MSG_SCALE, 0, vcpu);
	req.u.scale.op = (uint32_t)op;
	return simple(g, &req);
}

VPWR_API int vpwr_guest_set_freq(struct vpwr_guest *g, unsigned vcpu,
				 uint32_t khz)
{
	struct vpwr_msg req;

	vpwr_msg_init(&req, VPWR_MSG_SET_FREQ, 0, vcpu);
	req.u.freq.khz = khz;
	return simple(g, &req);
}

VPWR_API int vpwr_guest_set_range(struct vpwr_guest *g, unsigned vcpu,
				  uint32_t min_khz, uint32_t max_khz)
{
	struct vpwr_msg req;

	vpwr_msg_init(&req, VPWR_MSG_SET_RANGE, 0, vcpu);
	req.u.range.min_khz = min_khz;
	req.u.range.max_khz = max_khz;
	return simple(g, &req);
}

VPWR_API int vpwr_guest_set_turbo(struct vpwr_guest *g, unsigned vcpu,
				  int enable)
{
	struct vpwr_msg req;

	vpwr_msg_init(&req, VPWR_MSG_TURBO, 0, vcpu);
	req.u.turbo.enable = enable ? 1 : 0;
	return simple(g, &req);
}

VPWR_API int vpwr_guest_set_epp(struct vpwr_guest *g, unsigned vcpu,
				unsigned hint)
{
	struct vpwr_msg req;

	vpwr_msg_init(&req, VPWR_MSG_SET_EPP, 0, vcpu);
	req.u.epp.hint = hint;
	return simple(g, &req);
}

VPWR_API int vpwr_guest_query_freqs(struct vpwr_guest *g, unsigned vcpu,
				    uint32_t *khz, size_t cap,
				    uint32_t *cur_khz)
{
	struct vpwr_msg req, reply;
	int rc;

	if (!khz && cap)
		return -EINVAL;
	vpwr_msg_init(&req, VPWR_MSG_QUERY_FREQS, 0, vcpu);
	rc = vpwr_guest_request(g, &req, &reply);
	if (rc < 0)
		return rc;
	if (reply.u.freqs.nr > VPWR_MSG_MAX_FREQS)
		return -VPWR_E_PROTO;
	memcpy(khz, reply.u.freqs.khz,
	       VPWR_MIN(cap, reply.u.freqs.nr) * sizeof(*khz));
	if (cur_khz)
		*cur_khz = reply.u.freqs.cur_khz;
	return (int)reply.u.freqs.nr;
}

VPWR_API int vpwr_guest_query_state(struct vpwr_guest *g, unsigned vcpu,
				    struct vpwr_vcpu_state *state)
{
	struct vpwr_msg req, reply;
	int rc;

	vpwr_msg_init(&req, VPWR_MSG_QUERY_STATE, 0, vcpu);
	rc = vpwr_guest_request(g, &req, &reply);
	if (rc == 0 && state)
		*state = reply.u.state;
	return rc;
}

VPWR_API int vpwr_guest_query_vcpus(struct vpwr_guest *g, unsigned vcpu,
				    unsigned want, struct vpwr_vcpu_list *list)
{
	struct vpwr_msg req, reply;
	int rc;

	vpwr_msg_init(&req, VPWR_MSG_QUERY_VCPUS, 0, vcpu);
	req.u.vcpus.want = want;
	rc = vpwr_guest_request(g, &req, &reply);
	if (rc < 0)
		return rc;
	/* DPDK answers a one-vCPU query in that vCPU's slot of a list that
	 * starts at 0: hand it back in the shape every other codec uses. */
	if (vcpu != VPWR_VCPU_NONE && reply.u.vcpus.first == 0 && vcpu > 0 &&
	    (g->codec->flags & VPWR_CODEC_F_NO_SEQ)) {
		struct vpwr_vcpu_list *l = &reply.u.vcpus;

		if (vcpu >= VPWR_MSG_MAX_VCPUS || vcpu >= l->nr)
			return -VPWR_E_PROTO;
		l->cur_khz[0] = l->cur_khz[vcpu];
		l->turbo_mask = (l->turbo_mask >> vcpu) & 1;
		l->priority_mask = (l->priority_mask >> vcpu) & 1;
		memset(&l->cur_khz[1], 0, sizeof(l->cur_khz) - sizeof(l->cur_khz[0]));
		l->first = vcpu;
		l->nr = 1;
	}
	if (list)
		*list = reply.u.vcpus;
	return 0;
}

VPWR_API int vpwr_guest_send_policy(struct vpwr_guest *g,
				    const struct vpwr_policy *policy)
{
	struct vpwr_msg req;

	if (!policy)
		return -EINVAL;
	vpwr_msg_init(&req, VPWR_MSG_POLICY_SET, 0, VPWR_VCPU_NONE);
	/* Fields only: the caller's struct padding is not ours to send, and
	 * a request's unused bytes must be zero. */
	memcpy(&req.u.policy, policy, offsetof(struct vpwr_policy, macs) +
					      sizeof(policy->macs));
	return simple(g, &req);
}

VPWR_API int vpwr_guest_remove_policy(struct vpwr_guest *g,
				      enum vpwr_policy_kind kind)
{
	struct vpwr_msg req;

	vpwr_msg_init(&req, VPWR_MSG_POLICY_REMOVE, 0, VPWR_VCPU_NONE);
	req.u.policy.kind = (uint32_t)kind;
	return simple(g, &req);
}

VPWR_API int vpwr_guest_release(struct vpwr_guest *g)
{
	struct vpwr_msg req;

	vpwr_msg_init(&req, VPWR_MSG_RELEASE, 0, VPWR_VCPU_NONE);
	return simple(g, &req);
}
