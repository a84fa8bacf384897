/* SPDX-License-Identifier: MIT */
/*
 * The host engine's event loop: one epoll set holding a stop eventfd, the
 * listeners and the channels.  Bytes from a channel are reassembled into
 * frames, each frame is decoded with the codec detected for that channel
 * and handed to the request handler, and every request is answered in the
 * channel's codec.  Replies that cannot be written at once wait in a
 * bounded per-channel buffer; a peer that lets it fill up, or whose stream
 * cannot be framed, is reset.  Nothing one channel does can block another.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "host_internal.h"
#include "resolver_internal.h"
#include "libvpwr/transport.h"

enum source_kind { SRC_CHANNEL, SRC_LISTENER, SRC_CONNECTOR };

/*
 * Channels, listeners and connectors.  A connector is a URI the host
 * connects to itself (the socket of a QEMU chardev that listens) and
 * connects to again, with back-off, whenever its channel goes away.
 * A listener without a domain (dom NULL) binds each connection by the
 * peer's vsock CID.
 */
struct host_source {
	enum source_kind kind;
	int id;
	struct host_domain *dom;
	struct vpwr_channel *ch;
	struct vpwr_listener *l;
	struct vpwr_framer rx;
	uint8_t *tx;
	size_t tx_len;
	bool want_out;
	bool paused;               /* listener out of epoll until retry */
	uint64_t due_ns;           /* paused listener / idle connector:
				      when to try again; 0: not waiting */
	char *uri;                 /* connector: where to connect */
	unsigned backoff_ms;       /* connector: the next wait */
	struct host_source *link;  /* connector <-> the channel it made */
	struct host_source *next;
};

/* Reads per channel per dispatch: enough to drain, bounded for fairness. */
#define HOST_READS_PER_EVENT 8
/* How long a listener rests after accept failed (no fds, no memory). */
#define HOST_ACCEPT_RETRY_MS 500
/* A connector's waits between attempts: doubling from MIN up to MAX. */
#define HOST_CONNECT_MIN_MS 100
#define HOST_CONNECT_MAX_MS 5000

static int watch(struct vpwr_host *h, int op, int fd, uint32_t events,
		 void *ptr)
{
	struct epoll_event ev = { .events = events, .data.ptr = ptr };

	return epoll_ctl(h->epfd, op, fd, &ev) < 0 ? -errno : 0;
}

VPWR_API int vpwr_host_new(const struct vpwr_host_opts *opts,
			   struct vpwr_host **out)
{
	struct vpwr_host *h;
	int n, rc;

	if (!out)
		return -EINVAL;
	*out = NULL;
	h = calloc(1, sizeof(*h));
	if (!h)
		return -ENOMEM;
	h->epfd = h->stopfd = h->retryfd = h->timefd = -1;
	rc = VPWR_OPTS_LOAD(&h->opts, opts);
	if (rc < 0 || !h->opts.backend || !h->opts.resolver ||
	    h->opts.mode > VPWR_ARB_EXCLUSIVE) {
		free(h);
		return -EINVAL;
	}
	vpwr_logger_init(&h->log, h->opts.log_fn, h->opts.log_userdata,
			 h->opts.log_level);
	h->backend = h->opts.backend;
	h->resolver = h->opts.resolver;
	if (!h->opts.max_channels)
		h->opts.max_channels = 64;
	h->next_channel_id = 1;
	n = vpwr_backend_nr_cpus(h->backend);
	if (n <= 0) {
		free(h);
		return n < 0 ? n : -ENODEV;
	}
	h->nr_pcpus = (unsigned)VPWR_MIN(n, VPWR_MAX_CPUS);
	h->pcpu = calloc(h->nr_pcpus, sizeof(*h->pcpu));
	for (unsigned p = 0; h->pcpu && p < h->nr_pcpus; p++) {
		h->pcpu[p].turbo = h->pcpu[p].epp = -1;
		h->pcpu[p].perf_fds[0] = h->pcpu[p].perf_fds[1] = -1;
	}
	h->epfd = epoll_create1(EPOLL_CLOEXEC);
	h->stopfd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	h->retryfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	if (!h->pcpu || h->epfd < 0 || h->stopfd < 0 || h->retryfd < 0) {
		rc = h->pcpu ? -errno : -ENOMEM;
		goto fail;
	}
	rc = watch(h, EPOLL_CTL_ADD, h->stopfd, EPOLLIN, NULL);
	if (rc == 0) /* the host itself tags the retry timer */
		rc = watch(h, EPOLL_CTL_ADD, h->retryfd, EPOLLIN, h);
	if (rc == 0)
		rc = host_policy_init(h);
	if (rc < 0)
		goto fail;
	*out = h;
	return 0;
fail:
	vpwr_host_free(h);
	return rc;
}

/*
 * One monotonic timerfd serves everything that waits (sources, policy
 * samples, domains in their grace period): it is armed for the earliest
 * due time, or disarmed when nothing waits (an idle host never wakes up).
 */
void host_timer_arm(struct vpwr_host *h)
{
	uint64_t due = h->sample_due_ns;
	struct itimerspec its = { 0 };

	for (struct host_source *s = h->sources; s; s = s->next)
		if (s->due_ns && (!due || s->due_ns < due))
			due = s->due_ns;
	for (struct host_domain *d = h->domains; d; d = d->next)
		if (d->grace_due_ns && (!due || d->grace_due_ns < due))
			due = d->grace_due_ns;
	if (due) {
		its.it_value.tv_sec = (time_t)(due / 1000000000u);
		its.it_value.tv_nsec = (long)(due % 1000000000u);
	}
	if (timerfd_settime(h->retryfd, due ? TFD_TIMER_ABSTIME : 0, &its,
			    NULL) < 0)
		log_err(&h->log, "timerfd_settime: %s", vpwr_strerror(-errno));
}

static void connector_schedule(struct vpwr_host *h, struct host_source *c)
{
	c->due_ns = vpwr_now_ns() + (uint64_t)c->backoff_ms * 1000000u;
	log_debug(&h->log, "domain %s: connecting to %s again in %u ms",
		  c->dom->name, c->uri, c->backoff_ms);
	c->backoff_ms = VPWR_MIN(c->backoff_ms * 2, HOST_CONNECT_MAX_MS);
	host_timer_arm(h);
}

/*
 * The domain's last channel is gone: its wishes go with it, at once when
 * the operator removed the channel (why 0), else after the grace period,
 * unless a channel of the domain comes back before.
 */
static void domain_orphaned(struct vpwr_host *h, struct host_domain *d,
			    int why)
{
	if (!why || !h->opts.grace_ms || !host_domain_has_requests(d)) {
		host_domain_release(h, d);
		return;
	}
	d->grace_due_ns = vpwr_now_ns() + h->opts.grace_ms * 1000000ull;
	log_info(&h->log, "domain %s: no channel left; keeping its wishes "
		 "for %u ms", d->name, h->opts.grace_ms);
	host_timer_arm(h);
}

/* Domains whose grace period is over go back to the original settings. */
static void grace_expired(struct vpwr_host *h, uint64_t now)
{
	struct host_domain *d, *next;

	for (d = h->domains; d; d = next) {
		next = d->next;
		if (!d->grace_due_ns || d->grace_due_ns > now)
			continue;
		d->grace_due_ns = 0;
		log_info(&h->log, "domain %s: no channel came back within %u "
			 "ms; restoring", d->name, h->opts.grace_ms);
		host_domain_release(h, d);
		host_domain_put(h, d);
	}
}

static void source_close(struct vpwr_host *h, struct host_source *s, int why)
{
	struct host_source **pp;
	bool s_was_due = s->due_ns != 0;

	for (pp = &h->sources; *pp; pp = &(*pp)->next) {
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	}
	if (s->kind == SRC_CHANNEL) {
		struct host_source *c = s->link;
		struct vpwr_host_event ev = {
			.type = VPWR_HOST_EV_CHANNEL_DOWN,
			.channel_id = (uint32_t)s->id,
			.domain = s->dom->name,
			.status = why,
		};
		epoll_ctl(h->epfd, EPOLL_CTL_DEL, vpwr_channel_fd(s->ch), NULL);
		vpwr_channel_free(s->ch);
		h->nr_channels--;
		log_info(&h->log, "domain %s: channel %d closed (%s)",
			 s->dom->name, s->id, vpwr_strerror(why));
		host_emit(h, &ev);
		if (--s->dom->nr_channels == 0)
			domain_orphaned(h, s->dom, why);
		if (c) {
			/* Its connector tries again (QEMU restarting, the VM
			 * rebooting). */
			c->link = NULL;
			connector_schedule(h, c);
		}
	} else if (s->kind == SRC_LISTENER) {
		if (!s->paused)
			epoll_ctl(h->epfd, EPOLL_CTL_DEL, vpwr_listener_fd(s->l),
				  NULL);
		vpwr_listener_free(s->l);
		if (s->dom)
			s->dom->nr_listeners--;
	} else {
		if (s->link)
			s->link->link = NULL;
		free(s->uri);
		s->dom->nr_listeners--;
	}
	if (s->dom)
		host_domain_put(h, s->dom);
	free(s->tx);
	free(s);
	if (s_was_due)
		host_timer_arm(h);
}

VPWR_API void vpwr_host_free(struct vpwr_host *h)
{
	if (!h)
		return;
	while (h->sources)
		source_close(h, h->sources, 0);
	if (h->pcpu)
		host_restore_all(h);
	while (h->domains) {
		struct host_domain *d = h->domains;
		h->domains = d->next;
		host_domain_free(d);
	}
	host_policy_fini(h);
	if (h->epfd >= 0)
		close(h->epfd);
	if (h->stopfd >= 0)
		close(h->stopfd);
	if (h->retryfd >= 0)
		close(h->retryfd);
	free(h->wishes);
	free(h->pcpu);
	free(h);
}

static struct host_source *source_new(struct vpwr_host *h, const char *domain,
				      enum source_kind kind, int *rc)
{
	struct host_source *s = calloc(1, sizeof(*s));

	if (!s) {
		*rc = -ENOMEM;
		return NULL;
	}
	s->kind = kind;
	if (!domain) /* a listener binding by vsock CID */
		return s;
	s->dom = host_domain_get(h, domain, rc);
	if (!s->dom) {
		free(s);
		return NULL;
	}
	/* Counted before anything can fail, so source_close() balances. */
	if (kind == SRC_CHANNEL) {
		s->dom->nr_channels++;
		if (s->dom->grace_due_ns) {
			s->dom->grace_due_ns = 0;
			log_info(&h->log, "domain %s: back within its grace "
				 "period; its wishes stay", domain);
			host_timer_arm(h);
		}
	} else
		s->dom->nr_listeners++;
	return s;
}

VPWR_API int vpwr_host_add_channel(struct vpwr_host *h, const char *domain,
				   struct vpwr_channel *ch)
{
	struct vpwr_peer peer;
	struct host_source *s;
	int rc;

	if (!h || !domain || !ch) {
		vpwr_channel_free(ch);
		return -EINVAL;
	}
	if (h->nr_channels >= h->opts.max_channels) {
		log_warn(&h->log, "domain %s: channel refused, %u open already",
			 domain, h->nr_channels);
		vpwr_channel_free(ch);
		return -VPWR_E_LIMIT;
	}
	s = source_new(h, domain, SRC_CHANNEL, &rc);
	if (!s) {
		vpwr_channel_free(ch);
		return rc;
	}
	s->ch = ch;
	s->id = h->next_channel_id;
	/* Ids stay positive (a negative return means an error). */
	h->next_channel_id = h->next_channel_id == INT_MAX ? 1
							   : h->next_channel_id + 1;
	vpwr_framer_init(&s->rx, NULL);
	s->next = h->sources;
	h->sources = s;
	h->nr_channels++;
	rc = watch(h, EPOLL_CTL_ADD, vpwr_channel_fd(ch), EPOLLIN, s);
	if (rc < 0) {
		source_close(h, s, rc);
		return rc;
	}
	log_info(&h->log, "domain %s: channel %d up (%s)", domain, s->id,
		 vpwr_channel_scheme(ch));
	host_emit(h, &(struct vpwr_host_event){
			     .type = VPWR_HOST_EV_CHANNEL_UP,
			     .channel_id = (uint32_t)s->id,
			     .domain = s->dom->name,
			     .peer = vpwr_channel_peer(ch, &peer) == 0 ? &peer
								       : NULL });
	return s->id;
}

VPWR_API int vpwr_host_add_listener(struct vpwr_host *h, const char *domain,
				    struct vpwr_listener *l)
{
	struct host_source *s;
	int rc;

	if (!h || !l) {
		vpwr_listener_free(l);
		return -EINVAL;
	}
	s = source_new(h, domain, SRC_LISTENER, &rc);
	if (!s) {
		vpwr_listener_free(l);
		return rc;
	}
	s->l = l;
	s->next = h->sources;
	h->sources = s;
	rc = watch(h, EPOLL_CTL_ADD, vpwr_listener_fd(l), EPOLLIN, s);
	if (rc < 0) {
		source_close(h, s, rc);
		return rc;
	}
	return 0;
}

static struct vpwr_channel_opts host_channel_opts(const struct vpwr_host *h)
{
	return (struct vpwr_channel_opts){ .sz = sizeof(struct vpwr_channel_opts),
					   .log_fn = h->opts.log_fn,
					   .log_userdata = h->opts.log_userdata,
					   .log_level = h->opts.log_level };
}

VPWR_API int vpwr_host_listen(struct vpwr_host *h, const char *domain,
			      const char *uri)
{
	struct vpwr_channel_opts co;
	struct vpwr_listener *l;
	int rc;

	if (!h || !uri)
		return -EINVAL;
	co = host_channel_opts(h);
	/* Check the domain before creating a socket file for it. */
	rc = domain ? vpwr_resolver_nr_vcpus(h->resolver, domain) : 0;
	if (rc < 0)
		return rc;
	rc = vpwr_listener_open(uri, &co, &l);
	if (rc < 0)
		return rc;
	return vpwr_host_add_listener(h, domain, l);
}

/* Errors that will not go away by trying again. */
static bool connect_error_final(int err)
{
	return err == -EINVAL || err == -EPROTONOSUPPORT ||
	       err == -ENAMETOOLONG || err == -ENOMEM;
}

/* One attempt; on failure the connector waits for its next turn. */
static int connector_try(struct vpwr_host *h, struct host_source *c)
{
	struct vpwr_channel_opts co = host_channel_opts(h);
	struct vpwr_channel *ch;
	int rc = vpwr_channel_open(c->uri, &co, &ch);

	if (rc == 0) {
		rc = vpwr_host_add_channel(h, c->dom->name, ch);
		if (rc > 0) {
			for (struct host_source *s = h->sources; s; s = s->next)
				if (s->kind == SRC_CHANNEL && s->id == rc) {
					s->link = c;
					c->link = s;
				}
			c->backoff_ms = HOST_CONNECT_MIN_MS;
			log_info(&h->log, "domain %s: connected to %s",
				 c->dom->name, c->uri);
			return 0;
		}
	}
	if (c->backoff_ms == HOST_CONNECT_MIN_MS)
		log_notice(&h->log, "domain %s: cannot connect to %s (%s); "
			   "trying again with back-off", c->dom->name, c->uri,
			   vpwr_strerror(rc));
	connector_schedule(h, c);
	return rc;
}

VPWR_API int vpwr_host_connect(struct vpwr_host *h, const char *domain,
			       const char *uri)
{
	struct host_source *c;
	int rc;

	if (!h || !domain || !uri)
		return -EINVAL;
	rc = vpwr_resolver_nr_vcpus(h->resolver, domain);
	if (rc < 0)
		return rc;
	c = source_new(h, domain, SRC_CONNECTOR, &rc);
	if (!c)
		return rc;
	c->uri = strdup(uri);
	if (!c->uri) {
		c->dom->nr_listeners--;
		host_domain_put(h, c->dom);
		free(c);
		return -ENOMEM;
	}
	c->backoff_ms = HOST_CONNECT_MIN_MS;
	c->next = h->sources;
	h->sources = c;
	rc = connector_try(h, c);
	if (rc < 0 && connect_error_final(rc)) {
		source_close(h, c, rc);
		return rc;
	}
	return 0;
}

VPWR_API int vpwr_host_remove_channel(struct vpwr_host *h, int id)
{
	if (!h)
		return -EINVAL;
	for (struct host_source *s = h->sources; s; s = s->next) {
		if (s->kind == SRC_CHANNEL && s->id == id) {
			/* A channel the host connected itself goes for
			 * good: its connector goes with it. */
			if (s->link)
				source_close(h, s->link, 0);
			source_close(h, s, 0);
			return 0;
		}
	}
	return -ENOENT;
}

/* ------------------------------------------------------------- output */

static int flush(struct vpwr_host *h, struct host_source *s)
{
	while (s->tx_len) {
		ssize_t n = vpwr_channel_write(s->ch, s->tx, s->tx_len);

		if (n == -EAGAIN)
			break;
		if (n < 0)
			return (int)n;
		memmove(s->tx, s->tx + n, s->tx_len - (size_t)n);
		s->tx_len -= (size_t)n;
	}
	if (!!s->tx_len != s->want_out) {
		s->want_out = s->tx_len > 0;
		return watch(h, EPOLL_CTL_MOD, vpwr_channel_fd(s->ch),
			     EPOLLIN | (s->want_out ? EPOLLOUT : 0), s);
	}
	return 0;
}

static int send_msg(struct vpwr_host *h, struct host_source *s,
		    const struct vpwr_msg *m)
{
	uint8_t buf[VPWR_NATIVE_MAX_FRAME];
	const struct vpwr_codec *c = vpwr_framer_codec(&s->rx);
	int n = vpwr_codec_encode(c, m, buf, sizeof(buf));

	if (n < 0) {
		/* The codec cannot say this (DPDK's lists are short): a
		 * refusal still keeps the guest's replies in step. */
		struct vpwr_msg nack;

		log_err(&h->log, "domain %s: cannot encode a %s reply in %s: %s",
			s->dom->name, vpwr_msg_type_name(m->type),
			vpwr_codec_name(c), vpwr_strerror(n));
		vpwr_msg_reply(&nack, m, n, "the %s protocol cannot express "
			       "this reply", vpwr_codec_name(c));
		n = vpwr_codec_encode(c, &nack, buf, sizeof(buf));
		if (n < 0)
			return 0;
	}
	if (s->tx_len + (size_t)n > HOST_TX_CAP) {
		log_warn(&h->log, "domain %s: channel %d does not read its "
			 "replies; resetting it", s->dom->name, s->id);
		return -ENOBUFS;
	}
	if (!s->tx) {
		s->tx = malloc(HOST_TX_CAP);
		if (!s->tx)
			return -ENOMEM;
	}
	memcpy(s->tx + s->tx_len, buf, (size_t)n);
	s->tx_len += (size_t)n;
	return flush(h, s);
}

/* -------------------------------------------------------------- input */

static int handle_frame(struct vpwr_host *h, struct host_source *s,
			const uint8_t *frame, size_t len)
{
	struct vpwr_decode_error err;
	struct vpwr_msg req, reply;
	int rc;

	rc = vpwr_codec_decode(vpwr_framer_codec(&s->rx), frame, len, &req,
			       &err);
	if (rc < 0) {
		log_notice(&h->log, "domain %s: bad frame at byte %zu: %s",
			   s->dom->name, err.offset, err.text);
		vpwr_msg_reply(&reply, &req, rc, "%s", err.text);
	} else {
		host_handle_request(h, s->dom, &req, &reply);
	}
	host_emit(h, &(struct vpwr_host_event){
			     .type = VPWR_HOST_EV_REQUEST,
			     .channel_id = (uint32_t)s->id,
			     .domain = s->dom->name,
			     .status = reply.status,
			     .request = &req,
			     .reply = &reply });
	return send_msg(h, s, &reply);
}

static int channel_input(struct vpwr_host *h, struct host_source *s)
{
	struct vpwr_decode_error err;
	const uint8_t *frame;
	int len, rc;

	for (int i = 0; i < HOST_READS_PER_EVENT; i++) {
		ssize_t n = vpwr_channel_read(s->ch, vpwr_framer_tail(&s->rx),
					      vpwr_framer_space(&s->rx));
		if (n == -EAGAIN)
			return 0;
		if (n == 0)
			return s->rx.len ? -VPWR_E_PROTO : -VPWR_E_CLOSED;
		if (n < 0)
			return (int)n;
		vpwr_framer_commit(&s->rx, (size_t)n);
		while ((len = vpwr_framer_next(&s->rx, &frame, &err)) > 0) {
			rc = handle_frame(h, s, frame, (size_t)len);
			vpwr_framer_consume(&s->rx, (size_t)len);
			if (rc < 0)
				return rc;
		}
		if (len < 0) {
			log_warn(&h->log, "domain %s: channel %d sent an "
				 "unframeable stream (%s); resetting it",
				 s->dom->name, s->id, err.text);
			return len;
		}
	}
	return 0;
}

/*
 * accept() failing for want of fds or memory leaves the connection queued
 * and the listener readable: watching it would spin.  Take it out of the
 * epoll set and try again a little later.
 */
static const char *source_domain(const struct host_source *s)
{
	return s->dom ? s->dom->name : "(by vsock CID)";
}

static void pause_listener(struct vpwr_host *h, struct host_source *s, int rc)
{
	log_warn(&h->log, "domain %s: accept: %s; pausing for %d ms",
		 source_domain(s), vpwr_strerror(rc), HOST_ACCEPT_RETRY_MS);
	epoll_ctl(h->epfd, EPOLL_CTL_DEL, vpwr_listener_fd(s->l), NULL);
	s->paused = true;
	s->due_ns = vpwr_now_ns() + HOST_ACCEPT_RETRY_MS * 1000000ull;
	host_timer_arm(h);
}

/* The timer fired: resume paused listeners, run connectors that are due,
 * sample policies' counters, end grace periods. */
static void timer_expired(struct vpwr_host *h)
{
	uint64_t ticks, now = vpwr_now_ns();
	struct host_source *s, *next;

	if (read(h->retryfd, &ticks, sizeof(ticks)) < 0) {
		/* Spurious: the timer had not expired. */
	}
	for (s = h->sources; s; s = next) {
		next = s->next;
		if (!s->due_ns || s->due_ns > now)
			continue;
		s->due_ns = 0;
		if (s->kind == SRC_LISTENER && s->paused) {
			if (watch(h, EPOLL_CTL_ADD, vpwr_listener_fd(s->l),
				  EPOLLIN, s) == 0)
				s->paused = false;
			else
				s->due_ns = now + HOST_ACCEPT_RETRY_MS *
							  1000000ull;
		} else if (s->kind == SRC_CONNECTOR) {
			/* New channels go to the head of the list: `next`
			 * stays valid. */
			connector_try(h, s);
		}
	}
	host_policy_sample_event(h, now);
	grace_expired(h, now);
	host_timer_arm(h);
}

/*
 * A connection on a listener without a domain: the domain whose vsock CID
 * the peer has.  Anyone else is turned away.
 */
static int domain_by_peer(struct vpwr_host *h, struct vpwr_channel *ch,
			  char *name, size_t len)
{
	struct vpwr_peer peer;
	int rc = vpwr_channel_peer(ch, &peer);

	if (rc < 0)
		return rc;
	if (!peer.cid) {
		log_warn(&h->log, "a %s connection without a vsock CID cannot "
			 "be bound to a domain; closing it",
			 vpwr_channel_scheme(ch));
		return -VPWR_E_NO_DOMAIN;
	}
	rc = vpwr_resolver_domain_by_cid(h->resolver, peer.cid, name, len);
	if (rc < 0)
		log_warn(&h->log, "vsock peer CID %u belongs to no known "
			 "domain; closing the connection", peer.cid);
	return rc;
}

/* On a listener bound to a domain, a vsock peer must be that domain. */
static int check_peer(struct vpwr_host *h, const struct host_source *s,
		      struct vpwr_channel *ch)
{
	struct vpwr_peer peer;
	uint32_t cid;
	int rc = vpwr_channel_peer(ch, &peer);

	if (rc < 0 || !peer.cid)
		return rc < 0 ? rc : 0;
	rc = vpwr_resolver_domain_cid(h->resolver, s->dom->name, &cid);
	if (rc == 0 && cid == peer.cid)
		return 0;
	log_warn(&h->log, "domain %s: vsock peer CID %u is not the domain's "
		 "(%s); closing the connection", s->dom->name, peer.cid,
		 rc == 0 ? "it has another" : "it has none configured");
	return -VPWR_E_NO_DOMAIN;
}

static void listener_input(struct vpwr_host *h, struct host_source *s)
{
	for (int i = 0; i < HOST_READS_PER_EVENT; i++) {
		struct vpwr_channel *ch;
		int rc = vpwr_listener_accept(s->l, &ch);

		if (rc == -EAGAIN)
			return;
		if (rc < 0) {
			pause_listener(h, s, rc);
			return;
		}
		if (!s->dom) {
			char name[HOST_DOMAIN_NAME_MAX];

			if (domain_by_peer(h, ch, name, sizeof(name)) < 0)
				vpwr_channel_free(ch);
			else
				vpwr_host_add_channel(h, name, ch);
			continue;
		}
		if (check_peer(h, s, ch) < 0) {
			vpwr_channel_free(ch);
			continue;
		}
		vpwr_host_add_channel(h, s->dom->name, ch);
	}
}

static void handle_event(struct vpwr_host *h, struct epoll_event *ev)
{
	struct host_source *s = ev->data.ptr;
	int rc = 0;

	if (!s) {
		uint64_t v;
		if (read(h->stopfd, &v, sizeof(v)) == sizeof(v))
			h->stop_requested = true;
		return;
	}
	if ((void *)s == (void *)h) {
		timer_expired(h);
		return;
	}
	if ((void *)s == (void *)&h->timefd) {
		host_policy_time_event(h);
		return;
	}
	if (s->kind == SRC_LISTENER) {
		listener_input(h, s);
		return;
	}
	if (ev->events & EPOLLOUT)
		rc = flush(h, s);
	if (rc == 0 && (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		rc = channel_input(h, s);
	if (rc < 0)
		source_close(h, s, rc);
}

VPWR_API int vpwr_host_dispatch(struct vpwr_host *h, int timeout_ms)
{
	struct epoll_event evs[32];
	int n;

	if (!h)
		return -EINVAL;
	do {
		n = epoll_wait(h->epfd, evs, (int)VPWR_ARRAY_SIZE(evs),
			       timeout_ms);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		/* A source closed earlier in this batch is skipped. */
		struct host_source *s = evs[i].data.ptr;
		bool live = !s || (void *)s == (void *)h ||
			    (void *)s == (void *)&h->timefd;

		for (struct host_source *t = h->sources; t && !live; t = t->next)
			live = t == s;
		if (live)
			handle_event(h, &evs[i]);
	}
	return n;
}

VPWR_API int vpwr_host_run(struct vpwr_host *h)
{
	if (!h)
		return -EINVAL;
	while (!h->stop_requested) {
		int rc = vpwr_host_dispatch(h, -1);
		if (rc < 0)
			return rc;
	}
	h->stop_requested = false;
	return 0;
}

VPWR_API void vpwr_host_stop(struct vpwr_host *h)
{
	uint64_t one = 1;

	if (h && write(h->stopfd, &one, sizeof(one)) < 0) {
		/* Already signalled: the counter cannot overflow in practice. */
	}
}

VPWR_API int vpwr_host_fd(const struct vpwr_host *h)
{
	return h ? h->epfd : -EINVAL;
}

VPWR_API int vpwr_host_nr_channels(const struct vpwr_host *h)
{
	return h ? (int)h->nr_channels : -EINVAL;
}

VPWR_API int vpwr_host_handle(struct vpwr_host *h, const char *domain,
			      const struct vpwr_msg *request,
			      struct vpwr_msg *reply)
{
	struct host_domain *d;
	int rc = 0;

	if (!h || !domain || !request || !reply)
		return -EINVAL;
	d = host_domain_get(h, domain, &rc);
	if (!d) {
		vpwr_msg_reply(reply, request, rc, "domain %s: %s", domain,
			       vpwr_strerror(rc));
		return rc;
	}
	rc = host_handle_request(h, d, request, reply);
	host_domain_put(h, d);
	return rc;
}

VPWR_API int vpwr_host_set_bounds(struct vpwr_host *h, unsigned pcpu,
				  uint32_t min_khz, uint32_t max_khz)
{
	if (!h || pcpu >= h->nr_pcpus || (max_khz && min_khz > max_khz))
		return -EINVAL;
	h->pcpu[pcpu].bound_min = min_khz;
	h->pcpu[pcpu].bound_max = max_khz;
	/* Force a fresh decision under the new bounds. */
	h->pcpu[pcpu].min_khz = h->pcpu[pcpu].max_khz = 0;
	return host_rearbitrate(h, pcpu);
}

VPWR_API int vpwr_host_cpu_info(struct vpwr_host *h, unsigned pcpu,
				struct vpwr_host_cpu_info *info)
{
	const struct host_pcpu *pc;
	int rc, t;

	if (!h || !info || pcpu >= h->nr_pcpus)
		return -EINVAL;
	pc = &h->pcpu[pcpu];
	memset(info, 0, sizeof(*info));
	rc = vpwr_backend_get_freq(h->backend, pcpu, &info->cur_khz);
	if (rc < 0)
		return rc;
	if (pc->managed && pc->max_khz) {
		info->min_khz = pc->min_khz;
		info->max_khz = pc->max_khz;
	} else {
		rc = vpwr_backend_get_limits(h->backend, pcpu, &info->min_khz,
					     &info->max_khz);
		if (rc < 0)
			return rc;
	}
	t = vpwr_backend_get_turbo(h->backend, pcpu);
	info->turbo = t > 0;
	info->nr_requests = pc->nr_requests;
	info->managed = pc->managed;
	if (pc->winner)
		vpwr_strlcpy(info->winner, pc->winner->name,
			     sizeof(info->winner));
	return 0;
}
