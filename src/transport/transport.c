/* SPDX-License-Identifier: MIT */
/*
 * The transport registry and the public channel/listener functions: URI
 * parsing, option handling, and the byte-moving defaults shared by every
 * stream transport.  What is specific to one transport lives in its own
 * file (unix.c, ...) behind struct vpwr_transport_ops.
 *
 * Error mapping of the default read/write:
 *   EINTR                      retried
 *   EAGAIN / EWOULDBLOCK       -EAGAIN
 *   read:  ECONNRESET          0, end of stream: a unix peer that closes
 *                              with our data still unread resets the
 *                              connection; for the reader that is the
 *                              same "peer has gone" as an orderly close,
 *                              and the next read() returns 0 anyway.
 *   write: EPIPE / ECONNRESET  -VPWR_E_CLOSED (never SIGPIPE: sockets are
 *                              written with MSG_NOSIGNAL)
 * A read of 0 bytes is -EINVAL, since 0 would read as end of stream; a
 * write of 0 bytes returns 0.
 */
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "transport_internal.h"

static const struct vpwr_transport_ops *const transports[] = {
	&vpwr_transport_unix,
	&vpwr_transport_virtio_serial,
	&vpwr_transport_virtio_serial_host,
	&vpwr_transport_vsock,
};

/*
 * For vpwr_channel_open_fd() on a socket of a family no transport claims
 * (TCP, ...): all defaults, reachable by no URI.
 */
static const struct vpwr_transport_ops fd_transport = { .name = "fd" };

const struct vpwr_transport_ops *
vpwr_transport_lookup(const char *scheme, size_t len,
		      enum vpwr_transport_role role)
{
	if (!scheme)
		return NULL;
	for (size_t i = 0; i < VPWR_ARRAY_SIZE(transports); i++) {
		const struct vpwr_transport_ops *t = transports[i];
		const char *s = role == VPWR_TRANSPORT_LISTEN ?
					t->listen_scheme : t->connect_scheme;

		if (s && strlen(s) == len && !memcmp(s, scheme, len))
			return t;
	}
	return NULL;
}

static const struct vpwr_transport_ops *lookup_family(int family)
{
	for (size_t i = 0; i < VPWR_ARRAY_SIZE(transports); i++)
		if (transports[i]->family && transports[i]->family == family)
			return transports[i];
	return &fd_transport;
}

int vpwr_transport_socket(int family, int type, unsigned flags)
{
	int nb = (flags & VPWR_CHANNEL_BLOCKING) ? 0 : SOCK_NONBLOCK;
	int fd = socket(family, type | SOCK_CLOEXEC | nb, 0);

	return fd < 0 ? -errno : fd;
}

static int set_nonblock(int fd, bool on)
{
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0)
		return -errno;
	if (!!(fl & O_NONBLOCK) == on)
		return 0;
	fl = on ? fl | O_NONBLOCK : fl & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, fl) < 0 ? -errno : 0;
}

static int load_opts(struct vpwr_channel_opts *o,
		     const struct vpwr_channel_opts *user,
		     struct vpwr_logger *log)
{
	int err = VPWR_OPTS_LOAD(o, user);

	if (err)
		return err;
	vpwr_logger_init(log, o->log_fn, o->log_userdata, o->log_level);
	if (o->flags & ~VPWR_CHANNEL_BLOCKING) {
		log_err(log, "unknown channel flags 0x%x", o->flags);
		return -EINVAL;
	}
	if (o->log_level < 0 || o->log_level > VPWR_LOG_DEBUG) {
		log_err(log, "log level %d out of range", o->log_level);
		return -EINVAL;
	}
	return 0;
}

/* "scheme:address" -> the transport serving scheme in `role`, address. */
static int parse_uri(const char *uri, enum vpwr_transport_role role,
		     const struct vpwr_logger *log,
		     const struct vpwr_transport_ops **t, const char **addr)
{
	const char *colon = uri ? strchr(uri, ':') : NULL;
	size_t len;

	if (!colon || colon == uri || !colon[1]) {
		log_err(log, "bad transport URI \"%s\": expected scheme:address",
			uri ? uri : "(null)");
		return -EINVAL;
	}
	len = (size_t)(colon - uri);
	*t = vpwr_transport_lookup(uri, len, role);
	if (!*t) {
		enum vpwr_transport_role r = role == VPWR_TRANSPORT_LISTEN ?
			VPWR_TRANSPORT_CONNECT : VPWR_TRANSPORT_LISTEN;
		bool other = vpwr_transport_lookup(uri, len, r);

		log_err(log, "transport scheme \"%.*s\" %s", (int)len, uri,
			other ? (role == VPWR_TRANSPORT_LISTEN ?
					 "cannot listen" : "can only listen") :
				"is unknown");
		return -EPROTONOSUPPORT;
	}
	*addr = colon + 1;
	return 0;
}

/* ------------------------------------------------------------ channels */

static struct vpwr_channel *channel_new(const struct vpwr_transport_ops *t,
					unsigned flags,
					const struct vpwr_logger *log)
{
	struct vpwr_channel *ch = calloc(1, sizeof(*ch));

	if (!ch)
		return NULL;
	ch->fd = -1;
	ch->flags = flags;
	ch->ops = t;
	ch->log = *log;
	return ch;
}

/* What the core guarantees of every channel, whoever built its fd. */
static int channel_finish(struct vpwr_channel *ch)
{
	struct stat st;

	if (fstat(ch->fd, &st) < 0)
		return -errno;
	ch->is_socket = S_ISSOCK(st.st_mode);
	return set_nonblock(ch->fd, !(ch->flags & VPWR_CHANNEL_BLOCKING));
}

VPWR_API void vpwr_channel_free(struct vpwr_channel *ch)
{
	if (!ch)
		return;
	if (ch->ops && ch->ops->close)
		ch->ops->close(ch);
	if (ch->fd >= 0)
		close(ch->fd);
	free(ch);
}

VPWR_API int vpwr_channel_open(const char *uri,
			       const struct vpwr_channel_opts *opts,
			       struct vpwr_channel **out)
{
	struct vpwr_channel_opts o;
	struct vpwr_logger log;
	const struct vpwr_transport_ops *t;
	struct vpwr_channel *ch;
	const char *addr;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	err = load_opts(&o, opts, &log);
	if (!err)
		err = parse_uri(uri, VPWR_TRANSPORT_CONNECT, &log, &t, &addr);
	if (err)
		return err;
	ch = channel_new(t, o.flags, &log);
	if (!ch)
		return -ENOMEM;
	err = t->connect(ch, addr);
	if (!err)
		err = channel_finish(ch);
	if (err) {
		log_debug(&log, "%s: %s", uri, vpwr_strerror(err));
		vpwr_channel_free(ch);
		return err;
	}
	*out = ch;
	return 0;
}

/* Which transport an inherited fd belongs to; refuses what is not a
 * connected byte stream. */
static int classify_fd(int fd, const struct vpwr_logger *log,
		       const struct vpwr_transport_ops **t)
{
	struct sockaddr_storage ss;
	struct stat st;
	int type, family;
	socklen_t len;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISCHR(st.st_mode)) {
		/* An inherited virtio-serial port (or another character
		 * device, which reads and writes the same way). */
		*t = &vpwr_transport_virtio_serial;
		return 0;
	}
	if (!S_ISSOCK(st.st_mode)) {
		log_err(log, "fd %d is neither a socket nor a character device",
			fd);
		return -ENOTSOCK;
	}
	len = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) < 0)
		return -errno;
	if (type != SOCK_STREAM) {
		log_err(log, "fd %d is not a stream socket", fd);
		return -EPROTOTYPE;
	}
	len = sizeof(family);
	if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, &family, &len) < 0)
		return -errno;
	len = sizeof(ss);
	if (getpeername(fd, (struct sockaddr *)&ss, &len) < 0) {
		int err = -errno;

		log_err(log, "fd %d is not connected", fd);
		return err;
	}
	*t = lookup_family(family);
	return 0;
}

VPWR_API int vpwr_channel_open_fd(int fd, const struct vpwr_channel_opts *opts,
				  struct vpwr_channel **out)
{
	struct vpwr_channel_opts o;
	struct vpwr_logger log;
	const struct vpwr_transport_ops *t = NULL;
	struct vpwr_channel *ch;
	int err;

	if (!out) {
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	*out = NULL;
	if (fd < 0)
		return -EBADF;
	err = load_opts(&o, opts, &log);
	if (!err)
		err = classify_fd(fd, &log, &t);
	if (err) {
		/* EBADF: fd is not open, and closing it could hit an fd that
		 * another thread opens meanwhile. */
		if (err != -EBADF)
			close(fd);
		return err;
	}
	ch = channel_new(t, o.flags, &log);
	if (!ch) {
		close(fd);
		return -ENOMEM;
	}
	ch->fd = fd;
	err = fcntl(fd, F_SETFD, FD_CLOEXEC) < 0 ? -errno : channel_finish(ch);
	if (err) {
		vpwr_channel_free(ch);
		return err;
	}
	*out = ch;
	return 0;
}

VPWR_API int vpwr_channel_fd(const struct vpwr_channel *ch)
{
	return ch ? ch->fd : -EINVAL;
}

bool vpwr_channel_hup_transient(const struct vpwr_channel *ch)
{
	return ch && ch->ops->hup_transient;
}

VPWR_API const char *vpwr_channel_scheme(const struct vpwr_channel *ch)
{
	return ch ? ch->ops->name : NULL;
}

static ssize_t stream_read(struct vpwr_channel *ch, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(ch->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return -EAGAIN;
	if (errno == ECONNRESET)
		return 0;
	return -errno;
}

static ssize_t stream_write(struct vpwr_channel *ch, const void *buf,
			    size_t len)
{
	ssize_t n;

	do
		n = ch->is_socket ? send(ch->fd, buf, len, MSG_NOSIGNAL) :
				    write(ch->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return -EAGAIN;
	if (errno == EPIPE || errno == ECONNRESET)
		return -VPWR_E_CLOSED;
	return -errno;
}

VPWR_API ssize_t vpwr_channel_read(struct vpwr_channel *ch, void *buf,
				   size_t len)
{
	if (!ch || !buf || !len)
		return -EINVAL;
	len = VPWR_MIN(len, (size_t)SSIZE_MAX);
	return ch->ops->read ? ch->ops->read(ch, buf, len) :
			       stream_read(ch, buf, len);
}

VPWR_API ssize_t vpwr_channel_write(struct vpwr_channel *ch, const void *buf,
				    size_t len)
{
	if (!ch || !buf)
		return -EINVAL;
	if (!len)
		return 0;
	len = VPWR_MIN(len, (size_t)SSIZE_MAX);
	return ch->ops->write ? ch->ops->write(ch, buf, len) :
				stream_write(ch, buf, len);
}

static int stream_peer(const struct vpwr_channel *ch, struct vpwr_peer *peer)
{
	struct ucred uc;
	socklen_t len;
	int family;

	if (!ch->is_socket)
		return 0;
	len = sizeof(family);
	if (getsockopt(ch->fd, SOL_SOCKET, SO_DOMAIN, &family, &len) < 0)
		return -errno;
	if (family != AF_UNIX)
		return 0;
	len = sizeof(uc);
	if (getsockopt(ch->fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0)
		return -errno;
	peer->has_cred = 1;
	peer->pid = uc.pid;
	peer->uid = uc.uid;
	peer->gid = uc.gid;
	return 0;
}

VPWR_API int vpwr_channel_peer(const struct vpwr_channel *ch,
			       struct vpwr_peer *peer)
{
	if (!ch || !peer)
		return -EINVAL;
	memset(peer, 0, sizeof(*peer));
	return ch->ops->peer ? ch->ops->peer(ch, peer) : stream_peer(ch, peer);
}

/* ----------------------------------------------------------- listeners */

VPWR_API void vpwr_listener_free(struct vpwr_listener *l)
{
	if (!l)
		return;
	if (l->ops && l->ops->listener_close)
		l->ops->listener_close(l);
	if (l->fd >= 0)
		close(l->fd);
	free(l);
}

VPWR_API int vpwr_listener_open(const char *uri,
				const struct vpwr_channel_opts *opts,
				struct vpwr_listener **out)
{
	struct vpwr_channel_opts o;
	struct vpwr_logger log;
	const struct vpwr_transport_ops *t;
	struct vpwr_listener *l;
	const char *addr;
	int err;

	if (!out)
		return -EINVAL;
	*out = NULL;
	err = load_opts(&o, opts, &log);
	if (!err)
		err = parse_uri(uri, VPWR_TRANSPORT_LISTEN, &log, &t, &addr);
	if (err)
		return err;
	l = calloc(1, sizeof(*l));
	if (!l)
		return -ENOMEM;
	l->fd = -1;
	l->flags = o.flags;
	l->ops = t;
	l->log = log;
	err = t->listen(l, addr);
	if (!err)
		err = set_nonblock(l->fd, !(o.flags & VPWR_CHANNEL_BLOCKING));
	if (err) {
		log_debug(&log, "%s: %s", uri, vpwr_strerror(err));
		vpwr_listener_free(l);
		return err;
	}
	*out = l;
	return 0;
}

VPWR_API int vpwr_listener_fd(const struct vpwr_listener *l)
{
	return l ? l->fd : -EINVAL;
}

static int stream_accept(struct vpwr_listener *l, struct vpwr_channel *ch)
{
	for (;;) {
		int fd = accept4(l->fd, NULL, NULL,
				 SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd >= 0) {
			ch->fd = fd;
			return 0;
		}
		/* A connection that died in the backlog is no fault of the
		 * listener: move on to the next one. */
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return -EAGAIN;
		return -errno;
	}
}

VPWR_API int vpwr_listener_accept(struct vpwr_listener *l,
				  struct vpwr_channel **out)
{
	struct vpwr_channel *ch;
	int err;

	if (!l || !out)
		return -EINVAL;
	*out = NULL;
	/* Allocated first so that running out of memory leaves the pending
	 * connection queued rather than accepted and dropped. */
	ch = channel_new(l->ops, 0, &l->log);
	if (!ch)
		return -ENOMEM;
	err = l->ops->accept ? l->ops->accept(l, ch) : stream_accept(l, ch);
	if (!err)
		err = channel_finish(ch);
	if (err) {
		if (err != -EAGAIN)
			log_warn(&l->log, "accept: %s", vpwr_strerror(err));
		vpwr_channel_free(ch);
		return err;
	}
	*out = ch;
	return 0;
}
