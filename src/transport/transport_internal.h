/* SPDX-License-Identifier: MIT */
/*
 * Transport internals: the const ops table each transport provides, the
 * per-channel and per-listener state the core keeps, and the registry
 * lookup.  Never installed.
 *
 * Adding a transport (virtio-serial, vsock, ...) takes one new file and two
 * lines elsewhere:
 *
 *   1. src/transport/<name>.c defines
 *        const struct vpwr_transport_ops vpwr_transport_<name> = { ... };
 *      with its URI scheme(s) and the operations it needs.  Operations left
 *      NULL get the defaults for plain stream fds (see the table below).
 *   2. Declare it at the bottom of this header and add it to `transports[]`
 *      in transport.c.  Callers never change: they only ever see URIs.
 *
 * Contract for every op:
 *   - Return 0 or -errno / -VPWR_E_*; log through ch->log / l->log only.
 *   - Create fds with CLOEXEC and honour VPWR_CHANNEL_BLOCKING in ->flags;
 *     vpwr_transport_socket() does both.  The core enforces O_NONBLOCK
 *     afterwards anyway, so a transport cannot leave it wrong.
 *   - The core hands over a zeroed object with fd = -1.  On failure the op
 *     may leave fd and priv set: the core then calls close/listener_close
 *     and closes fd, exactly as for a fully built object.
 */
#ifndef VPWR_TRANSPORT_INTERNAL_H
#define VPWR_TRANSPORT_INTERNAL_H

#include <stdbool.h>
#include <sys/types.h>

#include "internal.h"
#include "libvpwr/transport.h"

struct vpwr_channel {
	int fd;                 /* -1 until the transport sets it */
	unsigned flags;         /* VPWR_CHANNEL_* */
	bool is_socket;         /* set by the core: send(MSG_NOSIGNAL) or write() */
	const struct vpwr_transport_ops *ops;
	struct vpwr_logger log;
	void *priv;             /* the transport's; released by ops->close */
};

struct vpwr_listener {
	int fd;
	unsigned flags;
	const struct vpwr_transport_ops *ops;
	struct vpwr_logger log;
	void *priv;             /* released by ops->listener_close */
};

struct vpwr_transport_ops {
	/* Reported by vpwr_channel_scheme() for channels of this transport. */
	const char *name;
	/* URI schemes served; NULL when the role is not supported.  Both may
	 * be the same string. */
	const char *connect_scheme;
	const char *listen_scheme;
	/* Socket family that vpwr_channel_open_fd() maps to this transport,
	 * or 0 (AF_UNSPEC). */
	int family;
	/* End of stream and POLLHUP mean "the far end is away for now" (a
	 * virtio-serial port whose host side is not connected): the channel
	 * stays usable and works again once the far end is back. */
	bool hup_transient;

	/* Required with connect_scheme: set ch->fd to a connected fd for
	 * `addr` (the URI after "scheme:", never empty). */
	int (*connect)(struct vpwr_channel *ch, const char *addr);
	/* Required with listen_scheme: set l->fd to a listening fd. */
	int (*listen)(struct vpwr_listener *l, const char *addr);

	/* Optional.  NULL: accept4() on l->fd, -EAGAIN when none pending.
	 * Sets ch->fd; ch->ops and ch->log are already the listener's. */
	int (*accept)(struct vpwr_listener *l, struct vpwr_channel *ch);
	/* Optional.  NULL: read()/send(MSG_NOSIGNAL)/write() retried on EINTR,
	 * with the error mapping documented in transport.c.  len is > 0. */
	ssize_t (*read)(struct vpwr_channel *ch, void *buf, size_t len);
	ssize_t (*write)(struct vpwr_channel *ch, const void *buf, size_t len);
	/* Optional.  *peer arrives zeroed.  NULL: SO_PEERCRED on AF_UNIX
	 * sockets, nothing otherwise. */
	int (*peer)(const struct vpwr_channel *ch, struct vpwr_peer *peer);
	/* Optional: release ch->priv.  The core closes ch->fd afterwards. */
	void (*close)(struct vpwr_channel *ch);
	/* Optional: release l->priv.  Called while l->fd is still open (the
	 * unix transport relies on that); the core closes it afterwards. */
	void (*listener_close)(struct vpwr_listener *l);
};

enum vpwr_transport_role {
	VPWR_TRANSPORT_CONNECT,
	VPWR_TRANSPORT_LISTEN,
};

/* The transport serving `scheme` (len bytes, not NUL-terminated) in
 * `role`, or NULL. */
const struct vpwr_transport_ops *
vpwr_transport_lookup(const char *scheme, size_t len,
		      enum vpwr_transport_role role);

/* socket(family, type) with CLOEXEC, and NONBLOCK unless `flags` has
 * VPWR_CHANNEL_BLOCKING.  The fd, or -errno. */
int vpwr_transport_socket(int family, int type, unsigned flags);

/* True when end of stream on `ch` only means the far end is away for now
 * (see hup_transient). */
bool vpwr_channel_hup_transient(const struct vpwr_channel *ch);

/* The registered transports. */
extern const struct vpwr_transport_ops vpwr_transport_unix;
extern const struct vpwr_transport_ops vpwr_transport_virtio_serial;
extern const struct vpwr_transport_ops vpwr_transport_virtio_serial_host;
extern const struct vpwr_transport_ops vpwr_transport_vsock;

#endif
