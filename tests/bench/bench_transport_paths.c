/* SPDX-License-Identifier: MIT */
/*
 * The transport benchmark's plumbing: how each transport path connects a
 * guest-side channel to a host engine, the raw socket pairs of the
 * baseline, the server threads, and logging.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "bench_transport.h"

/* ------------------------------------------------------------ logging */

/* The last thing the library logged, for error messages. */
static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static char last_log[256];
int bench_quiet;

void bench_log(enum vpwr_log_level level, const char *msg, void *ud)
{
	(void)ud;
	pthread_mutex_lock(&log_lock);
	snprintf(last_log, sizeof(last_log), "%s", msg);
	pthread_mutex_unlock(&log_lock);
	if (level <= VPWR_LOG_WARNING && !bench_quiet)
		fprintf(stderr, "bench_transport: libvpwr: %s\n", msg);
}

void bench_die(const char *what, int err)
{
	pthread_mutex_lock(&log_lock);
	fprintf(stderr, "bench_transport: %s: %s (%s)\n", what,
		vpwr_strerror(err), last_log);
	pthread_mutex_unlock(&log_lock);
	exit(1);
}

const struct vpwr_channel_opts bench_chopts = {
	.sz = sizeof(bench_chopts), .log_fn = bench_log,
};

/* ------------------------------------------------------------- threads */

int pin_self(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

int write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int read_all(int fd, void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len) {
		ssize_t n = read(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EPIPE;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * The raw server: reads whatever has arrived and answers every whole
 * request in it with one reply frame, all in one write.  Ends at EOF.
 */
static void *raw_server(void *arg)
{
	struct server *s = arg;
	uint64_t c0 = thread_cpu_ns();
	size_t rq = s->wl->req_len, rp = s->wl->rep_len, have = 0;
	size_t batch = 4096;
	uint8_t *in = malloc(64 * 1024), *out = malloc(batch * rp);

	if (!in || !out) {
		s->rc = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < batch; i++)
		memcpy(out + i * rp, s->wl->rep, rp);
	for (;;) {
		ssize_t n = read(s->fd, in, 64 * 1024);
		size_t k;

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			s->rc = n < 0 ? -errno : 0;
			break;
		}
		have += (size_t)n;
		k = have / rq;
		have %= rq;
		while (k) {
			size_t now = k < batch ? k : batch;

			if ((s->rc = write_all(s->fd, out, now * rp)) < 0)
				goto out;
			k -= now;
		}
	}
out:
	free(in);
	free(out);
	s->cpu_ns = thread_cpu_ns() - c0;
	return NULL;
}

static void *host_server(void *arg)
{
	struct server *s = arg;

	uint64_t c0 = thread_cpu_ns();

	s->rc = vpwr_host_run(s->h);
	s->cpu_ns = thread_cpu_ns() - c0;
	return NULL;
}

void server_start(struct server *s, int cpu)
{
	pthread_attr_t attr;
	cpu_set_t set;
	int rc;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	pthread_attr_init(&attr);
	pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
	rc = pthread_create(&s->thread, &attr, s->h ? host_server : raw_server,
			    s);
	pthread_attr_destroy(&attr);
	if (rc)
		bench_die("pthread_create", -rc);
}

/* ------------------------------------------------------------- paths */

static int why_fail(char *why, size_t len, int rc, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int why_fail(char *why, size_t len, int rc, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(why, len, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < len)
		snprintf(why + n, len - (size_t)n, ": %s",
			 rc == -EPROTONOSUPPORT ? "scheme not in this build"
						: vpwr_strerror(rc));
	return rc == -EPROTONOSUPPORT ? SKIP : rc;
}

static int open_socketpair(struct vpwr_host *h, struct vpwr_channel **client,
			   char *why, size_t len)
{
	struct vpwr_channel *hc;
	int sv[2], rc;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return why_fail(why, len, -errno, "socketpair");
	if ((rc = vpwr_channel_open_fd(sv[0], &bench_chopts, &hc)) < 0) {
		close(sv[1]);
		return why_fail(why, len, rc, "vpwr_channel_open_fd");
	}
	if ((rc = vpwr_host_add_channel(h, "vm1", hc)) < 0) {
		close(sv[1]);
		return why_fail(why, len, rc, "vpwr_host_add_channel");
	}
	rc = vpwr_channel_open_fd(sv[1], &bench_chopts, client);
	return rc < 0 ? why_fail(why, len, rc, "vpwr_channel_open_fd") : 0;
}

/* The host listens on listen_uri; the client connects to connect_uri. */
static int open_listen(struct vpwr_host *h, const char *listen_uri,
		       const char *connect_uri, struct vpwr_channel **client,
		       char *why, size_t len)
{
	int rc = vpwr_host_listen(h, "vm1", listen_uri);

	if (rc < 0)
		return why_fail(why, len, rc, "vpwr_host_listen(%s)",
				listen_uri);
	rc = vpwr_channel_open(connect_uri, &bench_chopts, client);
	if (rc < 0)
		return why_fail(why, len, rc == -EPROTONOSUPPORT ? -EIO : rc,
				"vpwr_channel_open(%s)", connect_uri);
	return 0;
}

static int open_unix(struct vpwr_host *h, struct vpwr_channel **client,
		     char *why, size_t len)
{
	char l[200], c[200];

	snprintf(l, sizeof(l), "unix-listen:%s/unix.sock", bench_dir);
	snprintf(c, sizeof(c), "unix:%s/unix.sock", bench_dir);
	return open_listen(h, l, c, client, why, len);
}

/* QEMU with "-chardev socket,server=off": it connects, the host listens. */
static int open_vs_listen(struct vpwr_host *h, struct vpwr_channel **client,
			  char *why, size_t len)
{
	char l[200], c[200];

	snprintf(l, sizeof(l), "virtio-serial-host:%s/vs.sock", bench_dir);
	snprintf(c, sizeof(c), "unix:%s/vs.sock", bench_dir);
	return open_listen(h, l, c, client, why, len);
}

/* A unix socket listening at `path`, as QEMU's "-chardev socket,server=on"
 * does; the fd or -errno. */
static int listen_unix(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(fd, 4) < 0) {
		rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* QEMU with "-chardev socket,server=on": it listens, the host connects
 * (vpwr_host_connect(), which tries at once, then on its timer). */
static int open_vs_connect(struct vpwr_host *h, struct vpwr_channel **client,
			   char *why, size_t len)
{
	char path[200], uri[220];
	struct pollfd p;
	int lfd, fd, rc;

	snprintf(path, sizeof(path), "%s/qemu.sock", bench_dir);
	lfd = listen_unix(path);
	if (lfd < 0)
		return why_fail(why, len, lfd, "listening on %s", path);
	snprintf(uri, sizeof(uri), "virtio-serial-host:%s", path);
	rc = vpwr_host_connect(h, "vm1", uri);
	if (rc < 0) {
		close(lfd);
		unlink(path);
		return why_fail(why, len, rc, "vpwr_host_connect(%s)", uri);
	}
	p = (struct pollfd){ .fd = lfd, .events = POLLIN };
	fd = poll(&p, 1, 2000) == 1 ? accept4(lfd, NULL, NULL, SOCK_CLOEXEC)
				    : (errno = ETIMEDOUT, -1);
	rc = fd < 0 ? -errno : 0;
	close(lfd);
	unlink(path);
	if (rc < 0)
		return why_fail(why, len, rc, "the host did not connect to %s",
				path);
	rc = vpwr_channel_open_fd(fd, &bench_chopts, client);
	return rc < 0 ? why_fail(why, len, rc, "vpwr_channel_open_fd") : 0;
}

static unsigned vsock_port(void)
{
	return 20000u + (unsigned)getpid() % 20000u;
}

/* The host listens for vm1, whose CID (pins.json) is the one the client
 * connects from: vsock_cid, through vsock_loopback for CID 1. */
static int open_vsock(struct vpwr_host *h, struct vpwr_channel **client,
		      char *why, size_t len)
{
	char l[64], c[64];
	int rc;

	snprintf(l, sizeof(l), "vsock-listen:%u", vsock_port());
	snprintf(c, sizeof(c), "vsock:%u:%u", vsock_cid, vsock_port());
	rc = vpwr_host_listen(h, "vm1", l);
	if (rc < 0)
		return why_fail(why, len, rc, "vpwr_host_listen(%s)", l);
	/* Where a raw AF_VSOCK pair cannot connect, neither can the library
	 * (and its connect would wait 2 s to say so). */
	if (families[FAMILY_VSOCK].skip) {
		snprintf(why, len, "%s", families[FAMILY_VSOCK].why);
		return SKIP;
	}
	rc = vpwr_channel_open(c, &bench_chopts, client);
	if (rc < 0) {
		why_fail(why, len, rc, "vpwr_channel_open(%s)", c);
		return rc == -ENOMEM ? rc : SKIP;
	}
	return 0;
}

struct path paths[] = {
	{ .name = "socketpair", .family = "AF_UNIX", .open = open_socketpair },
	{ .name = "unix", .family = "AF_UNIX", .open = open_unix },
	{ .name = "virtio-serial-host listen", .family = "AF_UNIX",
	  .open = open_vs_listen },
	{ .name = "virtio-serial-host connect", .family = "AF_UNIX",
	  .open = open_vs_connect },
	{ .name = "vsock", .family = "AF_VSOCK", .open = open_vsock },
};

/* --------------------------------------------------- raw socket pairs */

static int raw_pair_unix(int fds[2], char *why, size_t len)
{
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) < 0)
		return why_fail(why, len, -errno, "socketpair");
	return 0;
}

/* A connected AF_VSOCK pair through the local CID, or SKIP. */
static int raw_pair_vsock(int fds[2], char *why, size_t len)
{
	struct sockaddr_vm sa = { .svm_family = AF_VSOCK,
				  .svm_cid = VMADDR_CID_ANY,
				  .svm_port = vsock_port() + 1 };
	struct pollfd p;
	int lfd, fd = -1, rc = 0, err = 0;
	socklen_t el = sizeof(err);

	fds[0] = fds[1] = -1;
	lfd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    listen(lfd, 4) < 0) {
		rc = why_fail(why, len, -errno, "AF_VSOCK listen on port %u",
			      sa.svm_port);
		goto out;
	}
	fd = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	sa.svm_cid = vsock_cid;
	if (fd < 0 || (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 &&
		       errno != EINPROGRESS)) {
		rc = why_fail(why, len, -errno, "AF_VSOCK connect to CID %u",
			      vsock_cid);
		goto out;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLOUT };
	if (poll(&p, 1, 1000) != 1) {
		rc = why_fail(why, len, -ETIMEDOUT, "AF_VSOCK connect to CID "
			      "%u (no loopback transport? vsock_loopback)",
			      vsock_cid);
		goto out;
	}
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
	if (err) {
		rc = why_fail(why, len, -err, "AF_VSOCK connect to CID %u",
			      vsock_cid);
		goto out;
	}
	fds[1] = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fds[1] < 0) {
		rc = why_fail(why, len, -errno, "AF_VSOCK accept");
		goto out;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	fds[0] = fd;
	fd = -1;
out:
	if (fd >= 0)
		close(fd);
	if (lfd >= 0)
		close(lfd);
	return rc < 0 ? SKIP : rc;
}

struct raw_family families[] = {
	[FAMILY_UNIX] = { .name = "AF_UNIX", .pair = raw_pair_unix },
	[FAMILY_VSOCK] = { .name = "AF_VSOCK", .pair = raw_pair_vsock },
};
