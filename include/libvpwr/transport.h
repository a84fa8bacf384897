/* SPDX-License-Identifier: MIT */
/*
 * Transports move bytes between a guest and the host; they never parse
 * messages.  A transport is chosen by the scheme of a URI:
 *
 *   unix:/run/vpwr/vm1.sock          connect to a unix stream socket
 *   unix-listen:/run/vpwr/vm1.sock   listen on one (the host side)
 *   virtio-serial:/dev/virtio-ports/virtio.serial.port.poweragent.0
 *   virtio-serial:NAME               the same, NAME under /dev/virtio-ports
 *   virtio-serial:auto               the first port
 *                                    vpwr_virtio_serial_discover() finds
 *       (guest side: a virtio_console character device)
 *   virtio-serial-host:/var/lib/vpwr/vm1.0
 *       (host side: the unix socket of a QEMU -chardev socket; opened as a
 *       channel it connects to QEMU listening there, opened as a listener
 *       it waits for QEMU to connect)
 *   vsock:2:5000, vsock:host:5000    guest to host over AF_VSOCK
 *   vsock-listen:5000                the host, on every CID
 *
 * A virtio-serial port stays open while its host side comes and goes: end
 * of stream there means "nobody is connected on the host side now", and
 * the guest client (guest.h) waits for the host instead of failing.
 *
 * Channels and listeners are non-blocking unless opened with
 * VPWR_CHANNEL_BLOCKING; their fds can be put in any poll loop.  A handle is
 * used by one thread at a time.
 */
#ifndef LIBVPWR_TRANSPORT_H
#define LIBVPWR_TRANSPORT_H

#include <sys/types.h>
#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vpwr_channel;
struct vpwr_listener;

#define VPWR_CHANNEL_BLOCKING 0x1u

struct vpwr_channel_opts {
	size_t sz;
	unsigned flags;         /* VPWR_CHANNEL_* */
	vpwr_log_fn log_fn;
	void *log_userdata;
	int log_level;          /* 0: VPWR_LOG_WARNING */
};

/* Who is on the other end, as far as the transport can tell. */
struct vpwr_peer {
	int has_cred;           /* unix: SO_PEERCRED filled pid/uid/gid */
	int32_t pid;
	uint32_t uid;
	uint32_t gid;
	uint32_t cid;           /* vsock: the peer's CID, else 0 */
	uint32_t reserved_[7];
};

/*
 * Connect to `uri`.  On success *out owns the connection; free it with
 * vpwr_channel_free().  Errors: -EINVAL (bad URI), -EPROTONOSUPPORT
 * (unknown scheme), -errno from the system (-ENOENT, -ECONNREFUSED, ...).
 */
VPWR_API int vpwr_channel_open(const char *uri,
			       const struct vpwr_channel_opts *opts,
			       struct vpwr_channel **out);

/*
 * Wrap a connected stream fd (a socketpair end, an inherited socket).  The
 * channel takes ownership of fd, also on failure.
 */
VPWR_API int vpwr_channel_open_fd(int fd, const struct vpwr_channel_opts *opts,
				  struct vpwr_channel **out);

/* Closes the connection.  Accepts NULL. */
VPWR_API void vpwr_channel_free(struct vpwr_channel *ch);

/* The fd to poll for readability.  Stays valid until vpwr_channel_free(). */
VPWR_API int vpwr_channel_fd(const struct vpwr_channel *ch);

/* "unix", ... */
VPWR_API const char *vpwr_channel_scheme(const struct vpwr_channel *ch);

/*
 * Read up to len bytes.  Returns the count (> 0), 0 at end of stream,
 * -EAGAIN when nothing is available on a non-blocking channel, or -errno.
 */
VPWR_API ssize_t vpwr_channel_read(struct vpwr_channel *ch, void *buf,
				   size_t len);

/*
 * Write up to len bytes.  Returns the count written (possibly short),
 * -EAGAIN when none could be written without blocking, -VPWR_E_CLOSED when
 * the peer has gone, or -errno.  Never raises SIGPIPE.
 */
VPWR_API ssize_t vpwr_channel_write(struct vpwr_channel *ch, const void *buf,
				    size_t len);

/* Fill *peer with what is known of the other end.  0 or -errno. */
VPWR_API int vpwr_channel_peer(const struct vpwr_channel *ch,
			       struct vpwr_peer *peer);

/*
 * Listen on `uri` (unix-listen:PATH).  A stale socket file left by a dead
 * process is replaced; a live one is -EADDRINUSE.
 */
VPWR_API int vpwr_listener_open(const char *uri,
				const struct vpwr_channel_opts *opts,
				struct vpwr_listener **out);

/* Stops listening and removes the socket file it created.  Accepts NULL. */
VPWR_API void vpwr_listener_free(struct vpwr_listener *l);

VPWR_API int vpwr_listener_fd(const struct vpwr_listener *l);

/*
 * Accept one connection: 0 and *out set, -EAGAIN when none is pending, or
 * -errno.  The accepted channel is non-blocking.
 */
VPWR_API int vpwr_listener_accept(struct vpwr_listener *l,
				  struct vpwr_channel **out);

/*
 * Guest side: the virtio-serial ports meant for libvpwr, i.e. named
 * virtio.serial.port.poweragent.N (DPDK's convention) or org.libvpwr.*,
 * found in /sys/class/virtio-ports/<port>/name and /dev/virtio-ports/
 * under `root` (NULL or "/" for the real ones; a directory for tests).
 * Calls fn (may be NULL) with each port's name and URI, in natural order
 * (poweragent.2 before poweragent.10); a positive return from fn stops the
 * walk and is returned.  Returns the number of ports, or -errno.
 */
VPWR_API int vpwr_virtio_serial_discover(const char *root,
					 int (*fn)(const char *name,
						   const char *uri,
						   void *userdata),
					 void *userdata);

#ifdef __cplusplus
}
#endif
#endif
