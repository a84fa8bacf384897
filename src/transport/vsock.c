/* SPDX-License-Identifier: MIT */
/*
 * AF_VSOCK stream sockets.
 *
 *   vsock:CID:PORT          connect (a guest reaches its host at CID 2,
 *                           "host" for short; "local" is CID 1, the
 *                           kernel's vsock_loopback)
 *   vsock-listen:PORT       listen on every CID of this machine
 *   vsock-listen:CID:PORT   listen on one
 *
 * The peer's CID is what the host binds a channel to a domain with
 * (vpwr_channel_peer() fills peer->cid).  Unlike unix sockets, a
 * non-blocking vsock connect() says EINPROGRESS: the connection is waited
 * for here, for at most VSOCK_CONNECT_MS, so that vpwr_channel_open()
 * returns a connected channel or a clear error.
 */
#include <poll.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <linux/vm_sockets.h>

#include "transport_internal.h"

#define VSOCK_BACKLOG 16
#define VSOCK_CONNECT_MS 2000

static int parse_u32(const char *s, const char *end, uint32_t *out)
{
	uint64_t v = 0;

	if (s == end)
		return -EINVAL;
	for (const char *p = s; p < end; p++) {
		if (*p < '0' || *p > '9')
			return -EINVAL;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return -ERANGE;
	}
	*out = (uint32_t)v;
	return 0;
}

static int parse_cid(const char *s, const char *end, uint32_t *cid)
{
	size_t n = (size_t)(end - s);

	if (n == 4 && !memcmp(s, "host", 4)) {
		*cid = VMADDR_CID_HOST;
		return 0;
	}
	if (n == 5 && !memcmp(s, "local", 5)) {
		*cid = 1; /* VMADDR_CID_LOCAL, newer headers only */
		return 0;
	}
	if (n == 3 && !memcmp(s, "any", 3)) {
		*cid = VMADDR_CID_ANY;
		return 0;
	}
	return parse_u32(s, end, cid);
}

/* "[CID:]PORT"; CID required when `need_cid`. */
static int vsock_addr(const char *addr, bool need_cid, struct sockaddr_vm *sa,
		      const struct vpwr_logger *log)
{
	const char *colon = strchr(addr, ':'), *end = addr + strlen(addr);
	uint32_t cid = VMADDR_CID_ANY, port;
	int err = 0;

	if (colon)
		err = parse_cid(addr, colon, &cid);
	else if (need_cid)
		err = -EINVAL;
	if (!err)
		err = parse_u32(colon ? colon + 1 : addr, end, &port);
	if (!err && port == VMADDR_PORT_ANY)
		err = -EINVAL;
	if (!err && need_cid && cid == VMADDR_CID_ANY)
		err = -EINVAL;
	if (err) {
		log_err(log, "vsock address \"%s\": expected %sPORT (numbers, "
			"CID may be host, local%s)", addr,
			need_cid ? "CID:" : "[CID:]", need_cid ? "" : " or any");
		return -EINVAL;
	}
	memset(sa, 0, sizeof(*sa));
	sa->svm_family = AF_VSOCK;
	sa->svm_cid = cid;
	sa->svm_port = port;
	return 0;
}

static int vsock_connect(struct vpwr_channel *ch, const char *addr)
{
	struct sockaddr_vm sa;
	struct pollfd p;
	socklen_t len;
	int err, fd, n, so_err;

	err = vsock_addr(addr, true, &sa, &ch->log);
	if (err)
		return err;
	fd = vpwr_transport_socket(AF_VSOCK, SOCK_STREAM, ch->flags);
	if (fd < 0) {
		log_err(&ch->log, "vsock socket: %s%s", vpwr_strerror(fd),
			fd == -EAFNOSUPPORT ? " (is the vsock module loaded?)"
					    : "");
		return fd;
	}
	ch->fd = fd;
	do
		err = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
	while (err < 0 && errno == EINTR);
	if (!err)
		return 0;
	if (errno != EINPROGRESS) {
		err = -errno;
		goto fail;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	do
		n = poll(&p, 1, VSOCK_CONNECT_MS);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		err = -errno;
		goto fail;
	}
	if (n == 0) {
		err = -ETIMEDOUT;
		goto fail;
	}
	len = sizeof(so_err);
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &so_err, &len) < 0)
		so_err = errno;
	if (!so_err)
		return 0;
	err = -so_err;
fail:
	log_debug(&ch->log, "vsock connect to CID %u port %u: %s", sa.svm_cid,
		  sa.svm_port, vpwr_strerror(err));
	return err;
}

static int vsock_listen(struct vpwr_listener *l, const char *addr)
{
	struct sockaddr_vm sa;
	int err, fd;

	err = vsock_addr(addr, false, &sa, &l->log);
	if (err)
		return err;
	fd = vpwr_transport_socket(AF_VSOCK, SOCK_STREAM, l->flags);
	if (fd < 0) {
		log_err(&l->log, "vsock socket: %s", vpwr_strerror(fd));
		return fd;
	}
	l->fd = fd;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, VSOCK_BACKLOG) < 0) {
		err = -errno;
		log_err(&l->log, "vsock listen on port %u: %s", sa.svm_port,
			vpwr_strerror(err));
		return err;
	}
	return 0;
}

static int vsock_peer(const struct vpwr_channel *ch, struct vpwr_peer *peer)
{
	struct sockaddr_vm sa;
	socklen_t len = sizeof(sa);

	if (getpeername(ch->fd, (struct sockaddr *)&sa, &len) < 0)
		return -errno;
	if (sa.svm_family != AF_VSOCK)
		return -EAFNOSUPPORT;
	peer->cid = sa.svm_cid;
	return 0;
}

const struct vpwr_transport_ops vpwr_transport_vsock = {
	.name = "vsock",
	.connect_scheme = "vsock",
	.listen_scheme = "vsock-listen",
	.family = AF_VSOCK,
	.connect = vsock_connect,
	.listen = vsock_listen,
	.peer = vsock_peer,
};
