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
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <dirent.h>
#include <sys/epoll.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <sys/eventfd.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "host_internal.h"
#include "resolver_internal.h"
#include "libvpwr/transport.h"

enum source_kind {
	SRC_CHANNEL,
	SRC_LISTENER,
	SRC_CONNECTOR,
	SRC_CTL_LISTENER,          /* the operator's control socket */
	SRC_CTL,                   /* one operator connection (JSON lines) */
};

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
	unsigned serial;           /* listener, connector: its own number */
	unsigned origin;           /* channel: serial of the listener that
				      accepted it; 0: none */
	uint64_t tokens;           /* channel: rate limit, in 1e-6 requests */
	uint64_t refill_ns;        /* when tokens were last topped up */
	unsigned over;             /* requests refused in a row */
	bool notify;               /* said HELLO: gets LIMITS_CHANGED */
	bool discovered;           /* listener/connector from the resolver's
				      channel list (auto_channels) */
	bool watched;              /* connector for a socket found in a
				      watched directory */
	bool port_closed;          /* channel: its guest closed the port
				      (QEMU keeps the socket connected);
				      counted in dom->nr_port_closed */
	bool port_was_open;        /* channel: a guest had it open */
	int port_report;           /* channel: the resolver's last guest_open
				      and guest_port_events acted on; -2:
				      none yet */
	unsigned port_report_events;
	char *port;                /* channel: the guest's port name, once
				      the resolver named it */
	bool closed;               /* closed during a dispatch, freed after */
	bool seen;                 /* ... and still on it */
	char *line;                /* control: the request being read */
	size_t line_len;
	int failed;                /* a notification could not be queued */
	struct host_source *next;
};

/* A control request line, a control reply, and operator connections. */
#define HOST_CTL_LINE_MAX (16 * 1024)
#define HOST_CTL_TX_CAP (8 * 1024 * 1024)
#define HOST_CTL_MAX 16
/* A refresh that could not reach the resolver is tried again after this. */
#define HOST_RESOLVER_RETRY_MS 2000

/* Reads per channel per dispatch: enough to drain, bounded for fairness. */
#define HOST_READS_PER_EVENT 8
/* How long a listener rests after accept failed (no fds, no memory). */
#define HOST_ACCEPT_RETRY_MS 500
/* A connector's waits between attempts: doubling from MIN up to MAX. */
#define HOST_CONNECT_MIN_MS 100
#define HOST_CONNECT_MAX_MS 5000

static void sync_channels(struct vpwr_host *h);
static void sync_ports(struct vpwr_host *h, const char *domain);

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
	h->epfd = h->stopfd = h->retryfd = h->timefd = h->resolver_fd = -1;
	h->watchfd = -1;
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
		h->opts.max_channels = 1024;
	if (!h->opts.max_domain_channels)
		h->opts.max_domain_channels = 64;
	if (h->opts.rate_per_s && !h->opts.rate_burst)
		h->opts.rate_burst = VPWR_MAX(h->opts.rate_per_s / 10, 1u);
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
	host_groups_init(h);
	rc = watch(h, EPOLL_CTL_ADD, h->stopfd, EPOLLIN, NULL);
	if (rc == 0) /* the host itself tags the retry timer */
		rc = watch(h, EPOLL_CTL_ADD, h->retryfd, EPOLLIN, h);
	if (rc == 0 && vpwr_resolver_change_fd(h->resolver) >= 0) {
		/* and &h->resolver tags the resolver's change fd */
		h->resolver_fd = vpwr_resolver_change_fd(h->resolver);
		rc = watch(h, EPOLL_CTL_ADD, h->resolver_fd, EPOLLIN,
			   &h->resolver);
	}
	if (rc == 0)
		rc = host_policy_init(h);
	if (rc < 0)
		goto fail;
	if (h->opts.auto_channels) {
		sync_channels(h);
		sync_ports(h, NULL);
	}
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
	if (h->resolver_due_ns && (!due || h->resolver_due_ns < due))
		due = h->resolver_due_ns;
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
		d->grace_due_ns = 0;
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
		if (why < 0 && why != -VPWR_E_CLOSED)
			h->stats.channels_reset++;
		bool was_live = !s->port_closed;

		log_info(&h->log, "domain %s: channel %d closed (%s)",
			 s->dom->name, s->id, vpwr_strerror(why));
		host_emit(h, &ev);
		if (s->port_closed)
			s->dom->nr_port_closed--;
		free(s->port);
		s->port = NULL;
		/* A channel whose guest had closed its port held nothing up
		 * any more: its going changes nothing, unless the operator
		 * removes the domain's last channel (release now). */
		if (--s->dom->nr_channels == s->dom->nr_port_closed &&
		    (was_live || (!why && !s->dom->nr_channels)))
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
		free(s->uri);
		if (s->dom)
			s->dom->nr_listeners--;
	} else if (s->kind == SRC_CONNECTOR) {
		if (s->link)
			s->link->link = NULL;
		free(s->uri);
		s->dom->nr_listeners--;
	} else if (s->kind == SRC_CTL_LISTENER) {
		epoll_ctl(h->epfd, EPOLL_CTL_DEL, vpwr_listener_fd(s->l), NULL);
		vpwr_listener_free(s->l);
	} else {
		epoll_ctl(h->epfd, EPOLL_CTL_DEL, vpwr_channel_fd(s->ch), NULL);
		vpwr_channel_free(s->ch);
		free(s->line);
		h->nr_ctl--;
	}
	if (s->dom)
		host_domain_put(h, s->dom);
	free(s->tx);
	s->tx = NULL;
	if (h->dispatching) {
		/* Events of this batch may still name it: keep the memory
		 * until the batch is over, marked closed. */
		s->closed = true;
		s->next = h->graveyard;
		h->graveyard = s;
	} else {
		free(s);
	}
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
	if (h->resolver_fd >= 0 && h->epfd >= 0)
		epoll_ctl(h->epfd, EPOLL_CTL_DEL, h->resolver_fd, NULL);
	while (h->watches) {
		struct host_watch *w = h->watches;

		h->watches = w->next;
		free(w->dir);
		free(w);
	}
	if (h->watchfd >= 0)
		close(h->watchfd);
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
	if (s->dom->nr_channels > h->opts.max_domain_channels) {
		log_warn(&h->log, "domain %s: channel refused, it has %u open "
			 "already", domain, s->dom->nr_channels - 1);
		s->dom->nr_channels--;
		host_domain_put(h, s->dom);
		free(s);
		vpwr_channel_free(ch);
		return -VPWR_E_LIMIT;
	}
	s->ch = ch;
	s->port_report = -2;
	s->tokens = (uint64_t)h->opts.rate_burst * 1000000u;
	h->stats.channels_opened++;
	s->refill_ns = vpwr_now_ns();
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
	s->serial = ++h->next_endpoint;
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
	rc = vpwr_host_add_listener(h, domain, l);
	if (rc < 0)
		return rc;
	/* add_listener put it first; vpwr_host_detach() finds it by URI. */
	h->sources->uri = strdup(uri);
	if (!h->sources->uri) {
		source_close(h, h->sources, -ENOMEM);
		return -ENOMEM;
	}
	return 0;
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
			if (c->discovered)
				sync_ports(h, c->dom->name);
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
	c->serial = ++h->next_endpoint;
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

/* Close listener or connector `s` and every channel it made. */
static void endpoint_close(struct vpwr_host *h, struct host_source *s)
{
	unsigned serial = s->serial;
	struct host_source *c, *next;

	if (s->kind == SRC_CONNECTOR && s->link)
		source_close(h, s->link, 0);
	source_close(h, s, 0);
	for (c = h->sources; c && serial; c = next) {
		next = c->next;
		if (c->kind == SRC_CHANNEL && c->origin == serial) {
			source_close(h, c, 0);
			next = h->sources; /* closing may have changed more */
		}
	}
}

VPWR_API int vpwr_host_detach(struct vpwr_host *h, const char *uri)
{
	struct host_source *s;
	int n = 0;

	if (!h || !uri)
		return -EINVAL;
	for (s = h->sources; s;) {
		if ((s->kind == SRC_LISTENER || s->kind == SRC_CONNECTOR) &&
		    s->uri && !strcmp(s->uri, uri)) {
			log_info(&h->log, "domain %s: %s detached",
				 s->dom ? s->dom->name : "(by CID)", uri);
			/* One the resolver lists comes back at the next
			 * vpwr_host_refresh(), changed or not. */
			if (s->discovered)
				h->resync = true;
			endpoint_close(h, s);
			n++;
			s = h->sources; /* the list changed: from the top */
			continue;
		}
		s = s->next;
	}
	return n ? n : -ENOENT;
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

/*
 * Queue `m` for the channel.  Replies are written once per read
 * (channel_input), so a pipelining guest gets them in one write, not one
 * each.  A full queue is written first: only what the peer will not take
 * then counts against it.
 */
static int queue_msg(struct vpwr_host *h, struct host_source *s,
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
		int rc = flush(h, s);

		if (rc < 0)
			return rc;
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
	return 0;
}

/* Queue `m` and write it now (notifications: nobody flushes for them). */
static int send_msg(struct vpwr_host *h, struct host_source *s,
		    const struct vpwr_msg *m)
{
	int rc = queue_msg(h, s, m);

	return rc < 0 ? rc : flush(h, s);
}

/*
 * Notifications are advice: a guest can always ask (QUERY_STATE).  One
 * whose earlier output is still queued is skipped rather than pushed
 * towards a reset, so a guest that reads only when it asks is never
 * punished for its neighbours' changes.
 */
/* The first CPU in both sets, or -1. */
static int first_common(const struct vpwr_cpuset *a,
			const struct vpwr_cpuset *b)
{
	for (size_t i = 0; i < VPWR_ARRAY_SIZE(a->bits); i++)
		if (a->bits[i] & b->bits[i])
			return (int)(i * 64) +
			       __builtin_ctzll(a->bits[i] & b->bits[i]);
	return -1;
}

void host_notify_limits(struct vpwr_host *h, const struct vpwr_cpuset *cpus)
{
	struct vpwr_cpuset set;

	for (struct host_source *s = h->sources; s; s = s->next) {
		if (s->kind != SRC_CHANNEL || !s->notify || s->failed ||
		    s->dom == h->acting || s->tx_len)
			continue;
		for (unsigned v = 0; v < s->dom->nr_vcpus; v++) {
			struct vpwr_msg m;
			int pcpu;

			if (!s->dom->req[v].hi_khz ||
			    vpwr_resolver_lookup(h->resolver, s->dom->name, v,
						 &set) < 0 ||
			    (pcpu = first_common(&set, cpus)) < 0)
				continue;
			vpwr_msg_init(&m, VPWR_MSG_LIMITS_CHANGED, 0, v);
			m.flags = VPWR_MSG_F_NOTIFY;
			host_fill_state(h, s->dom, v, (unsigned)pcpu,
					&m.u.state);
			s->failed = send_msg(h, s, &m);
			if (s->failed)
				break;
			h->stats.notifications++;
		}
	}
}

/*
 * Channels whose notification failed (the peer has gone) are closed here,
 * where nothing is walking the domains or sources: closing one may
 * release its domain.
 */
static void reap_failed(struct vpwr_host *h)
{
	struct host_source *s, *next;

	for (s = h->sources; s; s = next) {
		next = s->next;
		if (s->kind == SRC_CHANNEL && s->failed) {
			source_close(h, s, s->failed);
			next = h->sources; /* closing may have closed others */
		}
	}
}

/* -------------------------------------------------------------- input */

/*
 * Token bucket: rate_per_s requests a second, rate_burst at once.  False
 * when the channel has none left.
 */
static bool take_token(struct vpwr_host *h, struct host_source *s)
{
	uint64_t now, cap, add;

	if (!h->opts.rate_per_s)
		return true;
	now = vpwr_now_ns();
	cap = (uint64_t)h->opts.rate_burst * 1000000u;
	/* elapsed ns * rate / 1e9 requests, in millionths */
	add = (now - s->refill_ns) / 1000u * h->opts.rate_per_s;
	s->refill_ns = now;
	s->tokens = VPWR_MIN(s->tokens + add, cap);
	if (s->tokens < 1000000u)
		return false;
	s->tokens -= 1000000u;
	return true;
}

/* ---------------------------------------------------- guest ports */

/*
 * A guest process opening and closing its virtio-serial port is invisible
 * on the socket QEMU keeps connected to the host; libvirt reports it
 * (resolver channel guest_open, from QEMU's VSERPORT_CHANGE).  A closed
 * port is a hang-up of that channel as far as the domain's wishes go (the
 * grace period included), but the socket stays: the next process to open
 * the port talks on it.
 */
static const char *port_name(const struct host_source *s)
{
	return s->port ? s->port : "?";
}

static void port_closed(struct vpwr_host *h, struct host_source *s)
{
	struct host_domain *d = s->dom;

	if (s->port_closed)
		return;
	s->port_closed = true;
	d->nr_port_closed++;
	/* What the last process left half-sent is not the next one's, and
	 * the next one may speak another codec and not want notifications. */
	vpwr_framer_init(&s->rx, NULL);
	s->notify = false;
	s->over = 0;
	if (s->port_was_open)
		log_info(&h->log, "domain %s: guest closed port %s (channel "
			 "%d)", d->name, port_name(s), s->id);
	else
		log_debug(&h->log, "domain %s: guest has not opened port %s "
			  "(channel %d)", d->name, port_name(s), s->id);
	if (d->nr_channels == d->nr_port_closed)
		domain_orphaned(h, d, -VPWR_E_CLOSED);
}

/* `how`: what showed it (the resolver, or bytes from the guest). */
static void port_opened(struct vpwr_host *h, struct host_source *s,
			const char *how)
{
	struct host_domain *d = s->dom;

	s->port_was_open = true;
	if (!s->port_closed)
		return;
	s->port_closed = false;
	d->nr_port_closed--;
	log_info(&h->log, "domain %s: guest opened port %s (channel %d, %s)",
		 d->name, port_name(s), s->id, how);
	if (d->grace_due_ns) {
		d->grace_due_ns = 0;
		log_info(&h->log, "domain %s: back within its grace period; "
			 "its wishes stay", d->name);
		host_timer_arm(h);
	}
}

static int handle_frame(struct vpwr_host *h, struct host_source *s,
			const uint8_t *frame, size_t len)
{
	struct vpwr_decode_error err;
	struct vpwr_msg req, reply;
	int rc;

	rc = vpwr_codec_decode(vpwr_framer_codec(&s->rx), frame, len, &req,
			       &err);
	if (rc >= 0 && !take_token(h, s)) {
		if (++s->over > 2 * h->opts.rate_burst) {
			log_warn(&h->log, "domain %s: channel %d keeps sending "
				 "over its rate of %u requests/s; resetting it",
				 s->dom->name, s->id, h->opts.rate_per_s);
			return -VPWR_E_RATE_LIMIT;
		}
		vpwr_msg_reply(&reply, &req, -VPWR_E_RATE_LIMIT, "rate limit: %u "
			       "requests/s, %u at once", h->opts.rate_per_s,
			       h->opts.rate_burst);
		return queue_msg(h, s, &reply);
	}
	if (rc >= 0)
		s->over = 0;
	h->stats.requests++;
	if (rc < 0) {
		log_notice(&h->log, "domain %s: bad frame at byte %zu: %s",
			   s->dom->name, err.offset, err.text);
		vpwr_msg_reply(&reply, &req, rc, "%s", err.text);
	} else {
		h->acting = s->dom;
		host_handle_request(h, s->dom, &req, &reply, true);
		h->acting = NULL;
		if (req.type == VPWR_MSG_HELLO && reply.status == 0)
			s->notify = true;
	}
	if (reply.status < 0)
		h->stats.refused++;
	host_emit(h, &(struct vpwr_host_event){
			     .type = VPWR_HOST_EV_REQUEST,
			     .channel_id = (uint32_t)s->id,
			     .domain = s->dom->name,
			     .status = reply.status,
			     .request = &req,
			     .reply = &reply });
	return queue_msg(h, s, &reply);
}

static int channel_input(struct vpwr_host *h, struct host_source *s)
{
	struct vpwr_decode_error err;
	const uint8_t *frame;
	int len, rc;

	for (int i = 0; i < HOST_READS_PER_EVENT; i++) {
		size_t space = vpwr_framer_space(&s->rx);
		ssize_t n = vpwr_channel_read(s->ch, vpwr_framer_tail(&s->rx),
					      space);
		if (n == -EAGAIN)
			return 0;
		if (n == 0)
			return s->rx.len ? -VPWR_E_PROTO : -VPWR_E_CLOSED;
		if (n < 0)
			return (int)n;
		if (s->port_closed)
			port_opened(h, s, "sent data");
		vpwr_framer_commit(&s->rx, (size_t)n);
		while ((len = vpwr_framer_next(&s->rx, &frame, &err)) > 0) {
			rc = handle_frame(h, s, frame, (size_t)len);
			vpwr_framer_consume(&s->rx, (size_t)len);
			if (rc < 0) {
				flush(h, s); /* what was answered still goes */
				return rc;
			}
		}
		if (len < 0) {
			log_warn(&h->log, "domain %s: channel %d sent an "
				 "unframeable stream (%s); resetting it",
				 s->dom->name, s->id, err.text);
			flush(h, s);
			return len;
		}
		rc = flush(h, s);
		if (rc < 0)
			return rc;
		/* A short read emptied the socket: epoll (level-triggered)
		 * reports what comes next; another read() would only say
		 * EAGAIN. */
		if ((size_t)n < space)
			return 0;
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
	if (h->resolver_due_ns && h->resolver_due_ns <= now) {
		h->resolver_due_ns = 0;
		vpwr_host_refresh(h);
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
			else if (vpwr_host_add_channel(h, name, ch) > 0)
				h->sources->origin = s->serial;
			continue;
		}
		if (check_peer(h, s, ch) < 0) {
			vpwr_channel_free(ch);
			continue;
		}
		if (vpwr_host_add_channel(h, s->dom->name, ch) > 0) {
			h->sources->origin = s->serial; /* put first */
			if (s->discovered)
				sync_ports(h, s->dom->name);
		}
	}
}

/* ---------------------------------------------------------- discovery */

struct sync_ctx {
	struct vpwr_host *h;
};

/* The newest listener or connector, added since `old_head`. */
static struct host_source *newest_endpoint(struct vpwr_host *h,
					   const struct host_source *old_head)
{
	for (struct host_source *s = h->sources; s && s != old_head;
	     s = s->next)
		if (s->kind == SRC_LISTENER || s->kind == SRC_CONNECTOR)
			return s;
	return NULL;
}

static int sync_one(const struct vpwr_resolver_channel *c, void *userdata)
{
	struct sync_ctx *x = userdata;
	struct vpwr_host *h = x->h;
	bool connect = c->source_mode == VPWR_CHANNEL_SOURCE_BIND;
	enum source_kind kind = connect ? SRC_CONNECTOR : SRC_LISTENER;
	const struct host_source *old_head = h->sources;
	struct host_source *s;
	char uri[4200];
	int rc;

	/* QEMU listening (bind) is there only while the domain runs; QEMU
	 * connecting needs us listening before it starts. */
	if (connect && !c->running)
		return 0;
	snprintf(uri, sizeof(uri), "virtio-serial-host:%s", c->path);
	for (s = h->sources; s; s = s->next) {
		if (s->discovered && s->kind == kind && s->uri &&
		    !strcmp(s->uri, uri) && s->dom &&
		    !strcmp(s->dom->name, c->domain)) {
			s->seen = true;
			return 0;
		}
	}
	rc = connect ? vpwr_host_connect(h, c->domain, uri)
		     : vpwr_host_listen(h, c->domain, uri);
	if (rc < 0) {
		log_warn(&h->log, "domain %s: channel %s (%s): %s", c->domain,
			 c->path, c->target_name, vpwr_strerror(rc));
		return 0;
	}
	s = newest_endpoint(h, old_head);
	if (s) {
		s->discovered = s->seen = true;
		if (!s->uri)
			s->uri = strdup(uri);
		log_info(&h->log, "domain %s: %s %s (guest port %s)", c->domain,
			 connect ? "connecting to" : "listening on", c->path,
			 c->target_name);
	}
	return 0;
}

/* Attach what the resolver lists, detach what it no longer does. */
static void sync_channels(struct vpwr_host *h)
{
	struct sync_ctx x = { h };
	struct host_source *s, *next;
	int rc;

	h->resync = false;
	for (s = h->sources; s; s = s->next)
		s->seen = false;
	rc = vpwr_resolver_foreach_channel(h->resolver, NULL, sync_one, &x);
	if (rc < 0 && rc != -ENOTSUP) {
		log_warn(&h->log, "listing channels: %s", vpwr_strerror(rc));
		return; /* keep what is there */
	}
	for (s = h->sources; s; s = next) {
		next = s->next;
		if (!s->discovered || s->seen)
			continue;
		log_info(&h->log, "domain %s: %s is gone; detaching",
			 s->dom ? s->dom->name : "?", s->uri);
		/* A connector's channel goes with it: as a guest gone away
		 * (its wishes wait out the grace period, ignored while the
		 * domain is down) if the domain stopped, else as a channel
		 * taken out of its definition. */
		if (s->kind == SRC_CONNECTOR && s->link) {
			int run = vpwr_resolver_domain_running(h->resolver,
							       s->dom->name);

			/* Stopped, or gone from libvirt altogether (a
			 * transient domain): a guest gone away. */
			source_close(h, s->link,
				     run == 0 || run == -VPWR_E_NO_DOMAIN
					     ? -VPWR_E_CLOSED
					     : 0);
		}
		source_close(h, s, 0);
		next = h->sources;
	}
}

/* The listener or connector of the resolver's list that made channel s. */
static const struct host_source *channel_endpoint(const struct vpwr_host *h,
						  const struct host_source *s)
{
	if (s->link)
		return s->link->discovered ? s->link : NULL;
	for (const struct host_source *e = h->sources; e && s->origin;
	     e = e->next)
		if (e->kind == SRC_LISTENER && e->serial == s->origin)
			return e->discovered ? e : NULL;
	return NULL;
}

static int port_one(const struct vpwr_resolver_channel *c, void *userdata)
{
	struct vpwr_host *h = userdata;
	unsigned events = 0;
	char uri[4200];

	/* A resolver of an older build, a shut-off domain, or no word. */
	if (c->sz < offsetof(struct vpwr_resolver_channel, guest_open) +
			    sizeof(c->guest_open) ||
	    !c->running || c->guest_open < 0)
		return 0;
	if (c->sz >= offsetof(struct vpwr_resolver_channel,
			      guest_port_events) +
			     sizeof(c->guest_port_events))
		events = c->guest_port_events;
	snprintf(uri, sizeof(uri), "virtio-serial-host:%s", c->path);
	for (struct host_source *s = h->sources; s; s = s->next) {
		const struct host_source *e;

		if (s->kind != SRC_CHANNEL || strcmp(s->dom->name, c->domain))
			continue;
		e = channel_endpoint(h, s);
		if (!e || !e->uri || strcmp(e->uri, uri))
			continue;
		if (!s->port)
			s->port = strdup(c->target_name);
		/* Only a new report counts: the state read again by a refresh
		 * for something else may be older than the bytes that
		 * reopened the channel (QEMU holds back its event up to a
		 * second).  A new event with the same state is one: an open
		 * and a close within QEMU's window show as "closed" again,
		 * after the bytes of the process in between reopened it. */
		if (s->port_report == c->guest_open &&
		    s->port_report_events == events)
			continue;
		s->port_report = c->guest_open;
		s->port_report_events = events;
		if (c->guest_open)
			port_opened(h, s, "libvirt");
		else
			port_closed(h, s);
	}
	return 0;
}

/* Apply what the resolver says of the guests' ports (domain NULL: all). */
static void sync_ports(struct vpwr_host *h, const char *domain)
{
	int rc;

	if (!h->opts.auto_channels)
		return;
	rc = vpwr_resolver_foreach_channel(h->resolver, domain, port_one, h);
	if (rc < 0 && rc != -ENOTSUP && rc != -VPWR_E_NO_DOMAIN)
		log_warn(&h->log, "listing channels: %s", vpwr_strerror(rc));
}

VPWR_API int vpwr_host_refresh(struct vpwr_host *h)
{
	int rc;

	if (!h)
		return -EINVAL;
	rc = vpwr_resolver_refresh(h->resolver);
	if (rc == -ENOTSUP)
		rc = 0; /* static: nothing ever changes */
	if (rc < 0) {
		log_warn(&h->log, "resolver: %s; trying again in %d ms",
			 vpwr_strerror(rc), HOST_RESOLVER_RETRY_MS);
		h->resolver_due_ns = vpwr_now_ns() +
				     HOST_RESOLVER_RETRY_MS * 1000000ull;
		host_timer_arm(h);
		return rc;
	}
	if (rc > 0) {
		struct vpwr_cpuset all;

		/* A domain that stopped loses its channels.  Read shut off it
		 * has its defined pinning, where it does not run: its wishes,
		 * kept for the grace period, count for nothing until it runs
		 * again (collect() leaves them out), so the CPUs it ran on are
		 * restored below and the defined ones left alone. */
		if (h->opts.auto_channels)
			sync_channels(h);
		/* Pinning may have moved: policies decide for the vCPUs'
		 * new CPUs, and every CPU decides again (in one pass), so a
		 * vCPU's old CPU is restored and its new one gets the wish. */
		host_policy_repin(h);
		vpwr_cpuset_zero(&all);
		for (unsigned p = 0; p < h->nr_pcpus; p++)
			vpwr_cpuset_set(&all, p);
		host_rearbitrate_set(h, &all);
		reap_failed(h);
	} else if (h->resync && h->opts.auto_channels) {
		sync_channels(h); /* a detached discovered channel */
	}
	/* Even with nothing changed: see port_one(). */
	sync_ports(h, NULL);
	return rc;
}

/* ------------------------------------------------------------ control */

/* Queue a control reply line; control replies may be large, so their
 * buffer grows (to HOST_CTL_TX_CAP) rather than resetting the operator. */
static int ctl_send(struct vpwr_host *h, struct host_source *s,
		    const char *text)
{
	size_t n = strlen(text);
	uint8_t *tx;

	if (s->tx_len + n + 1 > HOST_CTL_TX_CAP)
		return -ENOBUFS;
	tx = realloc(s->tx, s->tx_len + n + 1);
	if (!tx)
		return -ENOMEM;
	s->tx = tx;
	memcpy(s->tx + s->tx_len, text, n);
	s->tx[s->tx_len + n] = '\n';
	s->tx_len += n + 1;
	return flush(h, s);
}

static int ctl_input(struct vpwr_host *h, struct host_source *s)
{
	char buf[4096];

	for (int i = 0; i < HOST_READS_PER_EVENT; i++) {
		ssize_t n = vpwr_channel_read(s->ch, buf, sizeof(buf));

		if (n == -EAGAIN)
			return 0;
		if (n <= 0)
			return n ? (int)n : -VPWR_E_CLOSED;
		for (ssize_t k = 0; k < n; k++) {
			char *reply;
			int rc;

			if (buf[k] != '\n') {
				if (s->line_len == HOST_CTL_LINE_MAX) {
					log_warn(&h->log, "control request "
						 "longer than %d bytes; closing",
						 HOST_CTL_LINE_MAX);
					return -VPWR_E_TOOBIG;
				}
				s->line[s->line_len++] = buf[k];
				continue;
			}
			rc = host_control_text(h, s->line, s->line_len, &reply);
			s->line_len = 0;
			if (!reply)
				return rc;
			log_info(&h->log, "control: %s", reply);
			rc = ctl_send(h, s, reply);
			free(reply);
			if (rc < 0)
				return rc;
		}
	}
	return 0;
}

/* Only root and the daemon's own user may steer it. */
static bool ctl_peer_allowed(struct vpwr_host *h, struct vpwr_channel *ch)
{
	struct vpwr_peer p;

	if (vpwr_channel_peer(ch, &p) < 0 || !p.has_cred) {
		log_warn(&h->log, "control connection without credentials "
			 "refused");
		return false;
	}
	if (p.uid == 0 || p.uid == geteuid())
		return true;
	log_warn(&h->log, "control connection from uid %u (pid %d) refused",
		 p.uid, (int)p.pid);
	return false;
}

static void ctl_listener_input(struct vpwr_host *h, struct host_source *l)
{
	for (int i = 0; i < HOST_READS_PER_EVENT; i++) {
		struct vpwr_channel *ch;
		struct host_source *s;
		int rc = vpwr_listener_accept(l->l, &ch);

		if (rc == -EAGAIN)
			return;
		if (rc < 0) {
			log_warn(&h->log, "control accept: %s", vpwr_strerror(rc));
			return;
		}
		if (!ctl_peer_allowed(h, ch) || h->nr_ctl >= HOST_CTL_MAX) {
			if (h->nr_ctl >= HOST_CTL_MAX)
				log_warn(&h->log, "control connection refused: "
					 "%d open", HOST_CTL_MAX);
			vpwr_channel_free(ch);
			continue;
		}
		s = calloc(1, sizeof(*s));
		if (s)
			s->line = malloc(HOST_CTL_LINE_MAX);
		if (!s || !s->line) {
			if (s)
				free(s);
			vpwr_channel_free(ch);
			return;
		}
		s->kind = SRC_CTL;
		s->ch = ch;
		s->next = h->sources;
		h->sources = s;
		h->nr_ctl++;
		rc = watch(h, EPOLL_CTL_ADD, vpwr_channel_fd(ch), EPOLLIN, s);
		if (rc < 0)
			source_close(h, s, rc);
	}
}

VPWR_API int vpwr_host_control_listen(struct vpwr_host *h, const char *uri)
{
	struct vpwr_channel_opts co;
	struct vpwr_listener *l;
	struct host_source *s;
	const char *path;
	int rc;

	if (!h || !uri)
		return -EINVAL;
	if (strncmp(uri, "unix-listen:", 12)) {
		log_err(&h->log, "control socket %s: only unix-listen: URIs "
			"(peer credentials are checked)", uri);
		return -EPROTONOSUPPORT;
	}
	co = host_channel_opts(h);
	rc = vpwr_listener_open(uri, &co, &l);
	if (rc < 0)
		return rc;
	path = uri + 12;
	/* Owner only; the credentials check is the second lock. */
	if (path[0] != '@' && chmod(path, 0600) < 0) {
		rc = -errno;
		log_err(&h->log, "chmod %s: %s", path, vpwr_strerror(rc));
		vpwr_listener_free(l);
		return rc;
	}
	s = calloc(1, sizeof(*s));
	if (!s) {
		vpwr_listener_free(l);
		return -ENOMEM;
	}
	s->kind = SRC_CTL_LISTENER;
	s->l = l;
	s->next = h->sources;
	h->sources = s;
	rc = watch(h, EPOLL_CTL_ADD, vpwr_listener_fd(l), EPOLLIN, s);
	if (rc < 0)
		source_close(h, s, rc);
	return rc;
}

void host_foreach_channel(struct vpwr_host *h,
			  void (*fn)(const struct host_channel_info *ci,
				     void *userdata),
			  void *userdata)
{
	for (struct host_source *s = h->sources; s; s = s->next) {
		struct host_channel_info ci = { 0 };
		const struct vpwr_codec *c;

		if (s->kind != SRC_CHANNEL)
			continue;
		c = vpwr_framer_codec(&s->rx);
		ci.id = s->id;
		ci.domain = s->dom->name;
		ci.scheme = vpwr_channel_scheme(s->ch);
		ci.codec = c ? vpwr_codec_name(c) : NULL;
		ci.notify = s->notify;
		ci.connector = s->link != NULL;
		ci.guest_closed = s->port_closed;
		ci.tx_queued = s->tx_len;
		vpwr_channel_peer(s->ch, &ci.peer);
		fn(&ci, userdata);
	}
}

/* ------------------------------------------------------ watched dirs */

/*
 * DOMAIN.N (N decimal: DPDK's /var/lib/power/<vm>.<channel> convention)
 * or DOMAIN.sock: the domain the socket at `name` serves, in dom[len].
 */
static bool watch_name_domain(const char *name, char *dom, size_t len)
{
	const char *dot = strrchr(name, '.');
	size_t n;

	if (!dot || dot == name)
		return false;
	if (strcmp(dot, ".sock")) {
		const char *p = dot + 1;

		if (!*p)
			return false;
		for (; *p; p++)
			if (*p < '0' || *p > '9')
				return false;
	}
	n = (size_t)(dot - name);
	if (n >= len)
		return false;
	memcpy(dom, name, n);
	dom[n] = '\0';
	return true;
}

static struct host_source *watched_connector(struct vpwr_host *h,
					     const char *uri)
{
	for (struct host_source *s = h->sources; s; s = s->next)
		if (s->kind == SRC_CONNECTOR && s->watched && s->uri &&
		    !strcmp(s->uri, uri))
			return s;
	return NULL;
}

/* A socket appeared (or was there at the start): connect to it. */
static void watch_add(struct vpwr_host *h, const char *dir, const char *name)
{
	char dom[HOST_DOMAIN_NAME_MAX], uri[4200];
	const struct host_source *old_head = h->sources;
	struct host_source *s;
	struct stat st;
	int rc;

	if (!watch_name_domain(name, dom, sizeof(dom)))
		return;
	snprintf(uri, sizeof(uri), "virtio-serial-host:%s/%s", dir, name);
	if (stat(uri + 19, &st) < 0 || !S_ISSOCK(st.st_mode) ||
	    watched_connector(h, uri))
		return;
	rc = vpwr_host_connect(h, dom, uri);
	if (rc < 0) {
		log_warn(&h->log, "%s/%s: %s", dir, name, vpwr_strerror(rc));
		return;
	}
	s = newest_endpoint(h, old_head);
	if (s)
		s->watched = true;
	log_info(&h->log, "domain %s: socket %s/%s appeared", dom, dir, name);
}

/* A socket went away: so does its connector (and channel). */
static void watch_remove(struct vpwr_host *h, const char *dir, const char *name)
{
	char uri[4200];
	struct host_source *c;

	snprintf(uri, sizeof(uri), "virtio-serial-host:%s/%s", dir, name);
	c = watched_connector(h, uri);
	if (!c)
		return;
	log_info(&h->log, "domain %s: socket %s/%s is gone; detaching",
		 c->dom->name, dir, name);
	if (c->link)
		source_close(h, c->link, 0);
	source_close(h, c, 0);
}

static void watch_event(struct vpwr_host *h)
{
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));

	for (;;) {
		ssize_t n = read(h->watchfd, buf, sizeof(buf));

		if (n <= 0)
			break;
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *ev = (const void *)p;
			struct host_watch *w;

			p += sizeof(*ev) + ev->len;
			for (w = h->watches; w && w->wd != ev->wd; w = w->next)
				;
			if (!w || !ev->len)
				continue;
			if (ev->mask & (IN_CREATE | IN_MOVED_TO))
				watch_add(h, w->dir, ev->name);
			else if (ev->mask & (IN_DELETE | IN_MOVED_FROM))
				watch_remove(h, w->dir, ev->name);
		}
	}
	reap_failed(h);
}

VPWR_API int vpwr_host_watch_dir(struct vpwr_host *h, const char *dir)
{
	struct host_watch *w;
	struct dirent *de;
	DIR *d;
	int rc;

	if (!h || !dir || !*dir)
		return -EINVAL;
	if (h->watchfd < 0) {
		h->watchfd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
		if (h->watchfd < 0)
			return -errno;
		rc = watch(h, EPOLL_CTL_ADD, h->watchfd, EPOLLIN, &h->watchfd);
		if (rc < 0) {
			close(h->watchfd);
			h->watchfd = -1;
			return rc;
		}
	}
	w = calloc(1, sizeof(*w));
	if (!w || !(w->dir = strdup(dir))) {
		free(w);
		return -ENOMEM;
	}
	w->wd = inotify_add_watch(h->watchfd, dir, IN_CREATE | IN_DELETE |
				  IN_MOVED_TO | IN_MOVED_FROM | IN_ONLYDIR);
	if (w->wd < 0) {
		rc = -errno;
		log_err(&h->log, "watching %s: %s", dir, vpwr_strerror(rc));
		free(w->dir);
		free(w);
		return rc;
	}
	w->next = h->watches;
	h->watches = w;
	/* What is there already. */
	d = opendir(dir);
	if (d) {
		while ((de = readdir(d)))
			if (de->d_name[0] != '.')
				watch_add(h, dir, de->d_name);
		closedir(d);
	}
	return 0;
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
	if ((void *)s == (void *)&h->resolver) {
		vpwr_host_refresh(h);
		return;
	}
	if ((void *)s == (void *)&h->timefd) {
		host_policy_time_event(h);
		return;
	}
	if ((void *)s == (void *)&h->watchfd) {
		watch_event(h);
		return;
	}
	if (s->kind == SRC_LISTENER) {
		listener_input(h, s);
		return;
	}
	if (s->kind == SRC_CTL_LISTENER) {
		ctl_listener_input(h, s);
		return;
	}
	if (ev->events & EPOLLOUT)
		rc = flush(h, s);
	if (rc == 0 && (ev->events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
		rc = s->kind == SRC_CTL ? ctl_input(h, s) : channel_input(h, s);
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
	h->dispatching = true;
	for (int i = 0; i < n; i++) {
		/* A source closed earlier in this batch is skipped: its
		 * memory is kept, marked, until the batch is over. */
		struct host_source *s = evs[i].data.ptr;
		bool special = !s || (void *)s == (void *)h ||
			       (void *)s == (void *)&h->timefd ||
			       (void *)s == (void *)&h->watchfd ||
			       (void *)s == (void *)&h->resolver;

		if (special || !s->closed)
			handle_event(h, &evs[i]);
	}
	reap_failed(h);
	h->dispatching = false;
	while (h->graveyard) {
		struct host_source *s = h->graveyard;

		h->graveyard = s->next;
		free(s);
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
	h->acting = d;
	rc = host_handle_request(h, d, request, reply, false);
	h->acting = NULL;
	host_domain_put(h, d);
	reap_failed(h);
	return rc;
}

VPWR_API int vpwr_host_set_bounds(struct vpwr_host *h, unsigned pcpu,
				  uint32_t min_khz, uint32_t max_khz)
{
	int rc;

	if (!h || pcpu >= h->nr_pcpus || (max_khz && min_khz > max_khz))
		return -EINVAL;
	h->pcpu[pcpu].bound_min = min_khz;
	h->pcpu[pcpu].bound_max = max_khz;
	/* Force a fresh decision under the new bounds. */
	h->pcpu[pcpu].min_khz = h->pcpu[pcpu].max_khz = 0;
	rc = host_rearbitrate(h, pcpu);
	reap_failed(h);
	return rc;
}

VPWR_API int vpwr_host_set_domain_bounds(struct vpwr_host *h,
					 const char *domain, uint32_t min_khz,
					 uint32_t max_khz)
{
	struct host_domain *d;
	int rc = 0;

	if (!h || !domain || (max_khz && min_khz > max_khz))
		return -EINVAL;
	d = host_domain_get(h, domain, &rc);
	if (!d)
		return rc;
	d->bound_min = min_khz;
	d->bound_max = max_khz;
	rc = host_rearbitrate_domain(h, d);
	host_domain_put(h, d);
	reap_failed(h);
	return rc;
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
