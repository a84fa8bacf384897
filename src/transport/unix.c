/* SPDX-License-Identifier: MIT */
/*
 * Unix stream sockets: "unix:PATH" connects, "unix-listen:PATH" listens.
 * A PATH starting with '@' names a socket in Linux's abstract namespace.
 * Listening replaces a stale socket file (one nobody accepts on any more,
 * left by a process that died) but never a live socket or a file that is
 * not a socket, and removes on close only the file it created.
 * Reading, writing, accepting and SO_PEERCRED are the core's defaults.
 */
#include <stddef.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "transport_internal.h"

#define UNIX_BACKLOG 16

struct unix_listener {
	bool own_file;  /* dev/ino below identify the file we bound */
	dev_t dev;
	ino_t ino;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
};

static int unix_addr(const char *addr, struct sockaddr_un *sa,
		     socklen_t *sa_len)
{
	size_t n = strlen(addr);

	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (addr[0] == '@') {
		/* Abstract names are counted, not NUL-terminated: the
		 * address length is what tells them apart. */
		n--;
		if (!n)
			return -EINVAL;
		if (n > sizeof(sa->sun_path) - 1)
			return -ENAMETOOLONG;
		memcpy(sa->sun_path + 1, addr + 1, n);
		*sa_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) +
				      1 + n);
		return 0;
	}
	if (!n)
		return -EINVAL;
	/* Linux would take a path that fills sun_path without its NUL, but
	 * other tools reading the address would not: insist on the NUL. */
	if (n >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, addr, n + 1);
	*sa_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
	return 0;
}

static int sock_connect(int fd, const struct sockaddr_un *sa,
			socklen_t sa_len)
{
	int r;

	do
		r = connect(fd, (const struct sockaddr *)sa, sa_len);
	while (r < 0 && errno == EINTR);
	if (!r)
		return 0;
	/* Unix sockets never say EINPROGRESS: a non-blocking connect either
	 * completes or fails, with EAGAIN when the server's backlog is full. */
	return -errno;
}

static int unix_connect(struct vpwr_channel *ch, const char *addr)
{
	struct sockaddr_un sa;
	socklen_t sa_len;
	int err, fd;

	err = unix_addr(addr, &sa, &sa_len);
	if (err) {
		log_err(&ch->log, "unix socket address \"%s\": %s", addr,
			vpwr_strerror(err));
		return err;
	}
	fd = vpwr_transport_socket(AF_UNIX, SOCK_STREAM, ch->flags);
	if (fd < 0)
		return fd;
	ch->fd = fd;
	return sock_connect(fd, &sa, sa_len);
}

/*
 * 0 when the socket file at `path` may be replaced: nobody accepts on it
 * (or it has just vanished).  The probe connection, when a server is alive,
 * shows up there as a client that closes at once.
 */
static int check_stale(struct vpwr_listener *l, const struct sockaddr_un *sa,
		       socklen_t sa_len, const char *path)
{
	struct stat st;
	int fd, err;

	if (lstat(path, &st) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode)) {
		log_err(&l->log, "%s exists and is not a socket", path);
		return -EEXIST;
	}
	/* Non-blocking, so a live server with a full backlog answers EAGAIN
	 * instead of stalling us. */
	fd = vpwr_transport_socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		return fd;
	err = sock_connect(fd, sa, sa_len);
	close(fd);
	if (err == -ECONNREFUSED || err == -ENOENT)
		return 0;
	if (!err || err == -EAGAIN) {
		log_err(&l->log, "a server is already listening on %s", path);
		return -EADDRINUSE;
	}
	log_err(&l->log, "cannot tell whether %s is in use: %s", path,
		vpwr_strerror(err));
	return err;
}

static int bind_or_replace(struct vpwr_listener *l,
			   const struct sockaddr_un *sa, socklen_t sa_len,
			   const char *path, bool abstract)
{
	int err;

	if (!bind(l->fd, (const struct sockaddr *)sa, sa_len))
		return 0;
	err = -errno;
	/* Abstract names vanish with their last socket: in use means live. */
	if (err != -EADDRINUSE || abstract) {
		log_err(&l->log, "bind %s: %s", path, vpwr_strerror(err));
		return err;
	}
	err = check_stale(l, sa, sa_len, path);
	if (err)
		return err;
	if (unlink(path) < 0 && errno != ENOENT) {
		err = -errno;
		log_err(&l->log, "removing stale socket %s: %s", path,
			vpwr_strerror(err));
		return err;
	}
	log_notice(&l->log, "replaced stale socket %s", path);
	if (!bind(l->fd, (const struct sockaddr *)sa, sa_len))
		return 0;
	err = -errno;
	log_err(&l->log, "bind %s: %s", path, vpwr_strerror(err));
	return err;
}

static int unix_listen(struct vpwr_listener *l, const char *addr)
{
	struct unix_listener *u;
	struct sockaddr_un sa;
	socklen_t sa_len;
	bool abstract = addr[0] == '@';
	struct stat st;
	int err, fd;

	err = unix_addr(addr, &sa, &sa_len);
	if (err) {
		log_err(&l->log, "unix socket address \"%s\": %s", addr,
			vpwr_strerror(err));
		return err;
	}
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	l->priv = u;
	fd = vpwr_transport_socket(AF_UNIX, SOCK_STREAM, l->flags);
	if (fd < 0)
		return fd;
	l->fd = fd;
	err = bind_or_replace(l, &sa, sa_len, addr, abstract);
	if (err)
		return err;
	if (!abstract) {
		/* The socket fd's own inode is sockfs's; the file's must come
		 * from the path. */
		if (lstat(addr, &st) < 0)
			return -errno;
		u->own_file = true;
		u->dev = st.st_dev;
		u->ino = st.st_ino;
		memcpy(u->path, addr, strlen(addr) + 1);
	}
	if (listen(fd, UNIX_BACKLOG) < 0) {
		err = -errno;
		log_err(&l->log, "listen %s: %s", addr, vpwr_strerror(err));
		return err;
	}
	return 0;
}

static void unix_listener_close(struct vpwr_listener *l)
{
	struct unix_listener *u = l->priv;
	struct stat st;

	if (!u)
		return;
	/*
	 * l->fd is still open here, and a bound socket holds on to its file's
	 * inode: if someone removed our file and made a new one at the path,
	 * the new one cannot have been given our inode number.
	 */
	if (u->own_file && !lstat(u->path, &st) && S_ISSOCK(st.st_mode) &&
	    st.st_dev == u->dev && st.st_ino == u->ino)
		unlink(u->path);
	free(u);
	l->priv = NULL;
}

const struct vpwr_transport_ops vpwr_transport_unix = {
	.name = "unix",
	.connect_scheme = "unix",
	.listen_scheme = "unix-listen",
	.family = AF_UNIX,
	.connect = unix_connect,
	.listen = unix_listen,
	.listener_close = unix_listener_close,
};
