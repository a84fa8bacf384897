/*
 * The transport layer over unix sockets, all in one process: listen,
 * connect and accept without blocking; bytes, end of stream and a vanished
 * peer; stale, live and foreign files at the socket path; URI and argument
 * checking; inherited fds.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "libvpwr/error.h"
#include "libvpwr/transport.h"
#include "testutil.h"

static char *dir;
static char path[256];  /* dir/s.sock */
static char uri[300];   /* scheme:path, filled by mkuri() */

static void setup(void)
{
	dir = vpwr_test_tmpdir();
	snprintf(path, sizeof(path), "%s/s.sock", dir);
}

static void teardown(void)
{
	vpwr_test_rmtree(dir);
	free(dir);
}

static const char *mkuri(const char *scheme, const char *p)
{
	snprintf(uri, sizeof(uri), "%s:%s", scheme, p);
	return uri;
}

#define LISTEN(p, o, l) vpwr_listener_open(mkuri("unix-listen", (p)), (o), (l))
#define CONNECT(p, o, c) vpwr_channel_open(mkuri("unix", (p)), (o), (c))

static void free_pair(struct vpwr_channel *a, struct vpwr_channel *b)
{
	vpwr_channel_free(a);
	vpwr_channel_free(b);
}

static bool has_fl(int fd, int cmd, int bit)
{
	int fl = fcntl(fd, cmd);

	ck_assert_int_ge(fl, 0);
	return fl & bit;
}

static ino_t ino_of(const char *p)
{
	struct stat st;

	ck_assert_int_eq(lstat(p, &st), 0);
	return st.st_ino;
}

/* A listener on `p` plus one connected pair; *ln may be NULL to skip. */
static void open_pair(const char *p, struct vpwr_listener **ln,
		      struct vpwr_channel **cli, struct vpwr_channel **srv)
{
	struct vpwr_listener *l;

	ck_assert_int_eq(LISTEN(p, NULL, &l), 0);
	ck_assert_int_eq(CONNECT(p, NULL, cli), 0);
	ck_assert_int_eq(vpwr_listener_accept(l, srv), 0);
	if (ln)
		*ln = l;
	else
		vpwr_listener_free(l);
}

/* A socket file at `p` that nobody listens on, as a crashed server leaves. */
static void make_stale(const char *p)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", p);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	close(fd);
}

START_TEST(test_listen_connect_accept)
{
	struct vpwr_listener *l;
	struct vpwr_channel *c, *s = (void *)1, *none = (void *)1;

	ck_assert_int_eq(LISTEN(path, NULL, &l), 0);
	ck_assert_int_eq(vpwr_listener_accept(l, &s), -EAGAIN);
	ck_assert_ptr_null(s);
	ck_assert_int_eq(CONNECT(path, NULL, &c), 0);
	ck_assert_int_eq(vpwr_listener_accept(l, &s), 0);
	ck_assert_int_eq(vpwr_listener_accept(l, &none), -EAGAIN);
	ck_assert_ptr_null(none);
	ck_assert_str_eq(vpwr_channel_scheme(c), "unix");
	ck_assert_str_eq(vpwr_channel_scheme(s), "unix");
	for (int i = 0; i < 3; i++) {
		int fd = i == 0 ? vpwr_listener_fd(l) :
			 i == 1 ? vpwr_channel_fd(c) : vpwr_channel_fd(s);
		ck_assert(has_fl(fd, F_GETFL, O_NONBLOCK));
		ck_assert(has_fl(fd, F_GETFD, FD_CLOEXEC));
	}
	ck_assert_int_ne(vpwr_channel_fd(c), vpwr_channel_fd(s));
	free_pair(c, s);
	vpwr_listener_free(l);
}
END_TEST

START_TEST(test_bytes_both_ways)
{
	struct vpwr_channel *c, *s;
	char buf[16];

	open_pair(path, NULL, &c, &s);
	ck_assert_int_eq(vpwr_channel_read(s, buf, sizeof(buf)), -EAGAIN);
	ck_assert_int_eq(vpwr_channel_write(c, "ping", 4), 4);
	ck_assert_int_eq(vpwr_channel_read(s, buf, sizeof(buf)), 4);
	ck_assert_mem_eq(buf, "ping", 4);
	ck_assert_int_eq(vpwr_channel_write(s, "pong!", 5), 5);
	ck_assert_int_eq(vpwr_channel_read(c, buf, sizeof(buf)), 5);
	ck_assert_mem_eq(buf, "pong!", 5);
	ck_assert_int_eq(vpwr_channel_read(c, buf, sizeof(buf)), -EAGAIN);
	free_pair(c, s);
}
END_TEST

START_TEST(test_partial_reads)
{
	struct vpwr_channel *c, *s;
	unsigned char out[3000], in[3000];
	size_t got = 0;
	int reads = 0;

	for (size_t i = 0; i < sizeof(out); i++)
		out[i] = (unsigned char)(i * 7 % 251);
	open_pair(path, NULL, &c, &s);
	ck_assert_int_eq(vpwr_channel_write(c, out, sizeof(out)), sizeof(out));
	while (got < sizeof(in)) {
		ssize_t n = vpwr_channel_read(s, in + got,
					      sizeof(in) - got < 7 ? sizeof(in) - got : 7);
		ck_assert_int_gt(n, 0);
		ck_assert_int_le(n, 7);
		got += (size_t)n;
		reads++;
	}
	ck_assert_int_eq(reads, (3000 + 6) / 7);
	ck_assert_mem_eq(in, out, sizeof(out));
	ck_assert_int_eq(vpwr_channel_read(s, in, sizeof(in)), -EAGAIN);
	free_pair(c, s);
}
END_TEST

/* A peer that has gone: end of stream for reads, -VPWR_E_CLOSED and no
 * SIGPIPE for writes. */
START_TEST(test_peer_gone)
{
	struct vpwr_channel *c, *s;
	struct sigaction sa;
	char buf[8];

	/* The point is that SIGPIPE would kill us: make sure it still can. */
	ck_assert_int_eq(sigaction(SIGPIPE, NULL, &sa), 0);
	ck_assert_ptr_eq(sa.sa_handler, SIG_DFL);
	open_pair(path, NULL, &c, &s);
	ck_assert_int_eq(vpwr_channel_write(c, "bye", 3), 3);
	vpwr_channel_free(c);
	ck_assert_int_eq(vpwr_channel_read(s, buf, sizeof(buf)), 3);
	ck_assert_int_eq(vpwr_channel_read(s, buf, sizeof(buf)), 0);
	ck_assert_int_eq(vpwr_channel_read(s, buf, sizeof(buf)), 0);
	ck_assert_int_eq(vpwr_channel_write(s, "x", 1), -VPWR_E_CLOSED);
	ck_assert_int_eq(vpwr_channel_write(s, "x", 1), -VPWR_E_CLOSED);
	vpwr_channel_free(s);

	/* Closing with our data unread resets the connection (ECONNRESET):
	 * to the reader that is end of stream too. */
	open_pair(path, NULL, &c, &s);
	ck_assert_int_eq(vpwr_channel_write(c, "unread", 6), 6);
	vpwr_channel_free(s);
	ck_assert_int_eq(vpwr_channel_read(c, buf, sizeof(buf)), 0);
	vpwr_channel_free(c);
}
END_TEST

/* TCP, through open_fd: an RST gives ECONNRESET on read and on write. */
START_TEST(test_tcp_reset)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
				  .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	socklen_t len = sizeof(sa);
	struct vpwr_channel *ch[2];
	int ls, fd, acc[2];
	char buf[4];

	ls = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_eq(bind(ls, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(ls, 2), 0);
	ck_assert_int_eq(getsockname(ls, (struct sockaddr *)&sa, &len), 0);
	for (int i = 0; i < 2; i++) {
		fd = socket(AF_INET, SOCK_STREAM, 0);
		ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, len), 0);
		acc[i] = accept(ls, NULL, NULL);
		ck_assert_int_ge(acc[i], 0);
		ck_assert_int_eq(vpwr_channel_open_fd(fd, NULL, &ch[i]), 0);
		ck_assert_str_eq(vpwr_channel_scheme(ch[i]), "fd");
	}
	close(ls);
	for (int i = 0; i < 2; i++) {
		setsockopt(acc[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
		close(acc[i]);  /* linger 0: an RST, not a FIN */
	}
	usleep(50000);
	ck_assert_int_eq(vpwr_channel_read(ch[0], buf, sizeof(buf)), 0);
	ck_assert_int_eq(vpwr_channel_write(ch[1], "x", 1), -VPWR_E_CLOSED);
	vpwr_channel_free(ch[0]);
	vpwr_channel_free(ch[1]);
}
END_TEST

START_TEST(test_write_full_then_drain)
{
	struct vpwr_channel *c, *s;
	static char big[65536], sink[65536];
	size_t total = 0;
	ssize_t n;

	open_pair(path, NULL, &c, &s);
	while ((n = vpwr_channel_write(c, big, sizeof(big))) > 0) {
		total += (size_t)n;
		ck_assert_uint_lt(total, 64u << 20);
	}
	ck_assert_int_eq(n, -EAGAIN);
	ck_assert_uint_gt(total, 0);
	while ((n = vpwr_channel_read(s, sink, sizeof(sink))) > 0)
		total -= (size_t)n;
	ck_assert_int_eq(n, -EAGAIN);
	ck_assert_uint_eq(total, 0);
	ck_assert_int_eq(vpwr_channel_write(c, big, 10), 10);
	free_pair(c, s);
}
END_TEST

/* The listener queues 16 connections (Linux takes one more); beyond that
 * a non-blocking connect says so instead of waiting. */
START_TEST(test_backlog_full)
{
	struct vpwr_listener *l;
	struct vpwr_channel *c[20], *s;
	int n = 0, err;

	ck_assert_int_eq(LISTEN(path, NULL, &l), 0);
	mkuri("unix", path);
	while (n < 20 && !(err = vpwr_channel_open(uri, NULL, &c[n])))
		n++;
	ck_assert_int_eq(err, -EAGAIN);
	ck_assert_int_ge(n, 16);
	ck_assert_int_le(n, 17);
	ck_assert_int_eq(vpwr_listener_accept(l, &s), 0);
	vpwr_channel_free(s);
	ck_assert_int_eq(vpwr_channel_open(uri, NULL, &c[n]), 0);
	while (n >= 0)
		vpwr_channel_free(c[n--]);
	vpwr_listener_free(l);
}
END_TEST

START_TEST(test_peer_credentials)
{
	struct vpwr_channel *c, *s;
	struct vpwr_peer p;

	open_pair(path, NULL, &c, &s);
	for (int i = 0; i < 2; i++) {
		memset(&p, 0xff, sizeof(p));
		ck_assert_int_eq(vpwr_channel_peer(i ? c : s, &p), 0);
		ck_assert_int_eq(p.has_cred, 1);
		ck_assert_int_eq(p.pid, getpid());
		ck_assert_uint_eq(p.uid, getuid());
		ck_assert_uint_eq(p.gid, getgid());
		ck_assert_uint_eq(p.cid, 0);
		ck_assert_uint_eq(p.reserved_[6], 0);
	}
	ck_assert_int_eq(vpwr_channel_peer(NULL, &p), -EINVAL);
	ck_assert_int_eq(vpwr_channel_peer(s, NULL), -EINVAL);
	free_pair(c, s);
}
END_TEST

static int nlogs;
static char last_log[512];

static void log_cb(enum vpwr_log_level level, const char *msg, void *ud)
{
	(void)level;
	(void)ud;
	nlogs++;
	snprintf(last_log, sizeof(last_log), "%s", msg);
}

START_TEST(test_stale_socket_replaced)
{
	VPWR_OPTS(vpwr_channel_opts, o, .log_fn = log_cb,
		  .log_level = VPWR_LOG_NOTICE);
	struct vpwr_listener *l;
	struct vpwr_channel *c, *s;

	ck_assert_int_eq(CONNECT(path, NULL, &c), -ENOENT);
	make_stale(path);
	ck_assert_int_eq(CONNECT(path, NULL, &c), -ECONNREFUSED);
	ck_assert_ptr_null(c);
	nlogs = 0;
	ck_assert_int_eq(LISTEN(path, &o, &l), 0);
	ck_assert_int_eq(nlogs, 1);
	ck_assert_ptr_nonnull(strstr(last_log, "stale"));
	ck_assert_int_eq(CONNECT(path, NULL, &c), 0);
	ck_assert_int_eq(vpwr_listener_accept(l, &s), 0);
	free_pair(c, s);
	vpwr_listener_free(l);
}
END_TEST

START_TEST(test_live_socket_in_use)
{
	struct vpwr_listener *a, *b = (void *)1;
	struct vpwr_channel *c, *s;
	ino_t ino;

	ck_assert_int_eq(LISTEN(path, NULL, &a), 0);
	ino = ino_of(path);
	ck_assert_int_eq(vpwr_listener_open(uri, NULL, &b), -EADDRINUSE);
	ck_assert_ptr_null(b);
	ck_assert_uint_eq(ino_of(path), ino);
	/* The probe connection is all `a` saw of it: it still serves. */
	while (vpwr_listener_accept(a, &s) == 0)
		vpwr_channel_free(s);
	ck_assert_int_eq(CONNECT(path, NULL, &c), 0);
	ck_assert_int_eq(vpwr_listener_accept(a, &s), 0);
	ck_assert_int_eq(vpwr_channel_write(c, "k", 1), 1);
	free_pair(c, s);
	vpwr_listener_free(a);
}
END_TEST

START_TEST(test_regular_file_kept)
{
	struct vpwr_listener *l;
	struct stat st;
	char buf[16] = "", target[300];
	FILE *f;

	vpwr_test_write_file(dir, "s.sock", "precious");
	ck_assert_int_eq(LISTEN(path, NULL, &l), -EEXIST);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
	f = fopen(path, "r");
	ck_assert_ptr_nonnull(fgets(buf, sizeof(buf), f));
	fclose(f);
	ck_assert_str_eq(buf, "precious");
	/* Nor a symlink, even one that points at a stale socket. */
	ck_assert_int_eq(unlink(path), 0);
	snprintf(target, sizeof(target), "%s/target.sock", dir);
	make_stale(target);
	ck_assert_int_eq(symlink(target, path), 0);
	ck_assert_int_eq(LISTEN(path, NULL, &l), -EEXIST);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
}
END_TEST

START_TEST(test_free_removes_only_own_socket)
{
	struct vpwr_listener *l;
	struct stat st;
	ino_t theirs;

	ck_assert_int_eq(LISTEN(path, NULL, &l), 0);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	vpwr_listener_free(l);
	ck_assert_int_eq(lstat(path, &st), -1);
	ck_assert_int_eq(errno, ENOENT);

	ck_assert_int_eq(LISTEN(path, NULL, &l), 0);
	ck_assert_int_eq(unlink(path), 0);
	make_stale(path);
	theirs = ino_of(path);
	vpwr_listener_free(l);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISSOCK(st.st_mode));
	ck_assert_uint_eq(st.st_ino, theirs);

	unlink(path);
	ck_assert_int_eq(LISTEN(path, NULL, &l), 0);
	ck_assert_int_eq(unlink(path), 0);
	vpwr_test_write_file(dir, "s.sock", "x");
	vpwr_listener_free(l);
	ck_assert_int_eq(lstat(path, &st), 0);
	ck_assert(S_ISREG(st.st_mode));
}
END_TEST

START_TEST(test_bad_uris)
{
	static const struct {
		const char *uri;
		int err;
	} cases[] = {
		{ NULL, -EINVAL },     { "", -EINVAL },
		{ "unix", -EINVAL },   { "unix:", -EINVAL },
		{ ":/x", -EINVAL },    { "unix-listen:", -EINVAL },
		{ "bogus:x", -EPROTONOSUPPORT },
		{ "UNIX:/x", -EPROTONOSUPPORT },
		{ "unixx:/x", -EPROTONOSUPPORT },
	};
	struct vpwr_channel *c;
	struct vpwr_listener *l;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		c = (void *)1;
		l = (void *)1;
		ck_assert_int_eq(vpwr_channel_open(cases[i].uri, NULL, &c), cases[i].err);
		ck_assert_ptr_null(c);
		ck_assert_int_eq(vpwr_listener_open(cases[i].uri, NULL, &l),
				 cases[i].err);
		ck_assert_ptr_null(l);
	}
	/* Each scheme serves one role. */
	ck_assert_int_eq(vpwr_channel_open(mkuri("unix-listen", path), NULL, &c),
			 -EPROTONOSUPPORT);
	ck_assert_int_eq(vpwr_listener_open(mkuri("unix", path), NULL, &l),
			 -EPROTONOSUPPORT);
	ck_assert_int_eq(access(path, F_OK), -1);
	ck_assert_int_eq(CONNECT(path, NULL, NULL), -EINVAL);
	ck_assert_int_eq(LISTEN(path, NULL, NULL), -EINVAL);
	ck_assert_int_eq(access(path, F_OK), -1);
}
END_TEST

START_TEST(test_name_too_long)
{
	struct vpwr_channel *c;
	struct vpwr_listener *l;
	char p[200];

	/* sun_path holds 108 bytes: 107 characters and the NUL. */
	memset(p, 'a', sizeof(p));
	p[0] = '/';
	p[108] = '\0';
	ck_assert_int_eq(CONNECT(p, NULL, &c), -ENAMETOOLONG);
	ck_assert_int_eq(LISTEN(p, NULL, &l), -ENAMETOOLONG);
	p[107] = '\0';
	ck_assert_int_eq(CONNECT(p, NULL, &c), -ENOENT);
	/* Abstract: a NUL and 107 bytes of name. */
	memset(p, 'z', sizeof(p));
	p[0] = '@';
	p[109] = '\0';
	ck_assert_int_eq(CONNECT(p, NULL, &c), -ENAMETOOLONG);
	ck_assert_int_eq(LISTEN(p, NULL, &l), -ENAMETOOLONG);
	p[108] = '\0';
	ck_assert_int_eq(CONNECT(p, NULL, &c), -ECONNREFUSED);
	ck_assert_int_eq(vpwr_channel_open("unix:@", NULL, &c), -EINVAL);
	ck_assert_int_eq(vpwr_listener_open("unix-listen:@", NULL, &l), -EINVAL);
}
END_TEST

START_TEST(test_abstract_round_trip)
{
	struct vpwr_listener *l, *l2;
	struct vpwr_channel *c, *s, *c2;
	struct vpwr_peer p;
	char name[64], buf[8];

	snprintf(name, sizeof(name), "@vpwr-test-%d-%s", (int)getpid(),
		 strrchr(dir, '-') + 1);
	open_pair(name, &l, &c, &s);
	ck_assert_int_eq(LISTEN(name, NULL, &l2), -EADDRINUSE);
	ck_assert_int_eq(vpwr_channel_write(c, "abs", 3), 3);
	ck_assert_int_eq(vpwr_channel_read(s, buf, sizeof(buf)), 3);
	ck_assert_mem_eq(buf, "abs", 3);
	ck_assert_int_eq(vpwr_channel_write(s, "ok", 2), 2);
	ck_assert_int_eq(vpwr_channel_read(c, buf, sizeof(buf)), 2);
	ck_assert_mem_eq(buf, "ok", 2);
	ck_assert_int_eq(vpwr_channel_peer(s, &p), 0);
	ck_assert_int_eq(p.pid, getpid());
	vpwr_listener_free(l);
	ck_assert_int_eq(CONNECT(name, NULL, &c2), -ECONNREFUSED);
	free_pair(c, s);
}
END_TEST

START_TEST(test_open_fd_socketpair)
{
	struct vpwr_channel *ch;
	struct vpwr_peer p;
	int sv[2], fd;
	char buf[8];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert(!has_fl(sv[0], F_GETFL, O_NONBLOCK));
	ck_assert_int_eq(vpwr_channel_open_fd(sv[0], NULL, &ch), 0);
	fd = vpwr_channel_fd(ch);
	ck_assert_int_eq(fd, sv[0]);
	ck_assert_str_eq(vpwr_channel_scheme(ch), "unix");
	ck_assert(has_fl(fd, F_GETFL, O_NONBLOCK));
	ck_assert(has_fl(fd, F_GETFD, FD_CLOEXEC));
	ck_assert_int_eq(vpwr_channel_read(ch, buf, sizeof(buf)), -EAGAIN);
	ck_assert_int_eq(vpwr_channel_write(ch, "sp", 2), 2);
	ck_assert_int_eq(read(sv[1], buf, sizeof(buf)), 2);
	ck_assert_mem_eq(buf, "sp", 2);
	ck_assert_int_eq(vpwr_channel_peer(ch, &p), 0);
	ck_assert_int_eq(p.has_cred, 1);
	ck_assert_int_eq(p.pid, getpid());
	vpwr_channel_free(ch);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);  /* closed with the channel */
	ck_assert_int_eq(read(sv[1], buf, sizeof(buf)), 0);
	close(sv[1]);
}
END_TEST

/* Each refused fd must have been closed (ownership passes on failure). */
static void refuse_fd(int fd, const struct vpwr_channel_opts *o, int err,
		      bool null_out)
{
	struct vpwr_channel *ch = (void *)1;

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(vpwr_channel_open_fd(fd, o, null_out ? NULL : &ch), err);
	ck_assert_int_eq(fcntl(fd, F_GETFD), -1);
	if (!null_out)
		ck_assert_ptr_null(ch);
}

START_TEST(test_open_fd_bad)
{
	VPWR_OPTS(vpwr_channel_opts, bad, .flags = 0x80);
	struct vpwr_channel *ch;
	char plain[300];
	int sv[2], fd;

	ck_assert_int_eq(vpwr_channel_open_fd(-1, NULL, &ch), -EBADF);
	ck_assert_int_eq(vpwr_channel_open_fd(-1, NULL, NULL), -EINVAL);
	fd = open("/dev/null", O_RDONLY);
	close(fd);
	ck_assert_int_eq(vpwr_channel_open_fd(fd, NULL, &ch), -EBADF);
	vpwr_test_write_file(dir, "plain", "x");
	snprintf(plain, sizeof(plain), "%s/plain", dir);
	refuse_fd(open(plain, O_RDONLY), NULL, -ENOTSOCK, false);
	refuse_fd(socket(AF_UNIX, SOCK_STREAM, 0), NULL, -ENOTCONN, false);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_DGRAM, 0, sv), 0);
	refuse_fd(sv[0], NULL, -EPROTOTYPE, false);
	close(sv[1]);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	refuse_fd(sv[0], &bad, -EINVAL, false);
	refuse_fd(sv[1], NULL, -EINVAL, true);
}
END_TEST

START_TEST(test_open_fd_chardev)
{
	struct vpwr_channel *ch;
	struct vpwr_peer p;
	char buf[4];

	ck_assert_int_eq(vpwr_channel_open_fd(open("/dev/null", O_RDWR), NULL, &ch), 0);
	/* A character device is taken for an inherited virtio-serial port. */
	ck_assert_str_eq(vpwr_channel_scheme(ch), "virtio-serial");
	ck_assert_int_eq(vpwr_channel_write(ch, "abc", 3), 3);
	ck_assert_int_eq(vpwr_channel_read(ch, buf, sizeof(buf)), 0);
	p.has_cred = 7;
	ck_assert_int_eq(vpwr_channel_peer(ch, &p), 0);
	ck_assert_int_eq(p.has_cred, 0);
	vpwr_channel_free(ch);
}
END_TEST

START_TEST(test_blocking_flag)
{
	VPWR_OPTS(vpwr_channel_opts, o, .flags = VPWR_CHANNEL_BLOCKING);
	struct vpwr_listener *l;
	struct vpwr_channel *c, *s, *p;
	int sv[2];

	ck_assert_int_eq(LISTEN(path, &o, &l), 0);
	ck_assert(!has_fl(vpwr_listener_fd(l), F_GETFL, O_NONBLOCK));
	ck_assert_int_eq(CONNECT(path, &o, &c), 0);
	ck_assert(!has_fl(vpwr_channel_fd(c), F_GETFL, O_NONBLOCK));
	ck_assert(has_fl(vpwr_channel_fd(c), F_GETFD, FD_CLOEXEC));
	/* Accepted channels are non-blocking whatever the listener is. */
	ck_assert_int_eq(vpwr_listener_accept(l, &s), 0);
	ck_assert(has_fl(vpwr_channel_fd(s), F_GETFL, O_NONBLOCK));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	ck_assert_int_eq(vpwr_channel_open_fd(sv[0], &o, &p), 0);
	ck_assert(!has_fl(sv[0], F_GETFL, O_NONBLOCK));
	vpwr_channel_free(p);
	close(sv[1]);
	free_pair(c, s);
	vpwr_listener_free(l);
}
END_TEST

START_TEST(test_opts_checked)
{
	struct {
		struct vpwr_channel_opts o;
		char tail[8];
	} big = { .o.sz = sizeof(big) };
	struct vpwr_channel_opts o = { .sz = 0 };
	struct vpwr_channel *c;
	struct vpwr_listener *l;

	ck_assert_int_eq(LISTEN(path, &o, &l), -EINVAL);
	o = (struct vpwr_channel_opts){ .sz = sizeof(o), .flags = 0x2 };
	ck_assert_int_eq(vpwr_listener_open(uri, &o, &l), -EINVAL);
	o = (struct vpwr_channel_opts){ .sz = sizeof(o), .log_level = 42 };
	ck_assert_int_eq(vpwr_listener_open(uri, &o, &l), -EINVAL);
	o.log_level = -1;
	ck_assert_int_eq(vpwr_listener_open(uri, &o, &l), -EINVAL);
	big.tail[5] = 1;
	ck_assert_int_eq(vpwr_listener_open(uri, &big.o, &l), -EINVAL);
	ck_assert_int_eq(access(path, F_OK), -1);
	big.tail[5] = 0;
	ck_assert_int_eq(vpwr_listener_open(uri, &big.o, &l), 0);
	/* An older, shorter struct: only sz. */
	o = (struct vpwr_channel_opts){ .sz = sizeof(size_t), .flags = 0x80 };
	ck_assert_int_eq(CONNECT(path, &o, &c), 0);
	vpwr_channel_free(c);
	vpwr_listener_free(l);
}
END_TEST

START_TEST(test_errors_logged)
{
	VPWR_OPTS(vpwr_channel_opts, o, .log_fn = log_cb);
	struct vpwr_channel *c;

	nlogs = 0;
	ck_assert_int_eq(vpwr_channel_open("bogus:x", &o, &c), -EPROTONOSUPPORT);
	ck_assert_int_eq(nlogs, 1);
	ck_assert_ptr_nonnull(strstr(last_log, "bogus"));
	ck_assert_int_eq(vpwr_channel_open("nocolon", &o, &c), -EINVAL);
	ck_assert_int_eq(nlogs, 2);
	/* Debug messages stay below the default level. */
	ck_assert_int_eq(CONNECT(path, &o, &c), -ENOENT);
	ck_assert_int_eq(nlogs, 2);
	o.log_level = VPWR_LOG_DEBUG;
	ck_assert_int_eq(vpwr_channel_open(uri, &o, &c), -ENOENT);
	ck_assert_int_eq(nlogs, 3);
}
END_TEST

START_TEST(test_null_arguments)
{
	struct vpwr_channel *c, *s;
	struct vpwr_listener *l;
	char buf[4];

	vpwr_channel_free(NULL);
	vpwr_listener_free(NULL);
	ck_assert_int_eq(vpwr_channel_fd(NULL), -EINVAL);
	ck_assert_ptr_null(vpwr_channel_scheme(NULL));
	ck_assert_int_eq(vpwr_listener_fd(NULL), -EINVAL);
	ck_assert_int_eq(vpwr_listener_accept(NULL, &s), -EINVAL);
	ck_assert_int_eq(vpwr_channel_read(NULL, buf, 1), -EINVAL);
	ck_assert_int_eq(vpwr_channel_write(NULL, buf, 1), -EINVAL);
	open_pair(path, &l, &c, &s);
	ck_assert_int_eq(vpwr_listener_accept(l, NULL), -EINVAL);
	ck_assert_int_eq(vpwr_channel_read(c, NULL, 1), -EINVAL);
	ck_assert_int_eq(vpwr_channel_write(c, NULL, 1), -EINVAL);
	/* A 0-byte read would look like end of stream. */
	ck_assert_int_eq(vpwr_channel_read(c, buf, 0), -EINVAL);
	ck_assert_int_eq(vpwr_channel_write(c, buf, 0), 0);
	ck_assert_int_eq(vpwr_channel_read(s, buf, sizeof(buf)), -EAGAIN);
	free_pair(c, s);
	vpwr_listener_free(l);
}
END_TEST

static Suite *transport_suite(void)
{
	Suite *s = suite_create("transport");
	TCase *tc = tcase_create("unix");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_listen_connect_accept);
	tcase_add_test(tc, test_bytes_both_ways);
	tcase_add_test(tc, test_partial_reads);
	tcase_add_test(tc, test_peer_gone);
	tcase_add_test(tc, test_tcp_reset);
	tcase_add_test(tc, test_write_full_then_drain);
	tcase_add_test(tc, test_backlog_full);
	tcase_add_test(tc, test_peer_credentials);
	tcase_add_test(tc, test_stale_socket_replaced);
	tcase_add_test(tc, test_live_socket_in_use);
	tcase_add_test(tc, test_regular_file_kept);
	tcase_add_test(tc, test_free_removes_only_own_socket);
	tcase_add_test(tc, test_bad_uris);
	tcase_add_test(tc, test_name_too_long);
	tcase_add_test(tc, test_abstract_round_trip);
	tcase_add_test(tc, test_open_fd_socketpair);
	tcase_add_test(tc, test_open_fd_bad);
	tcase_add_test(tc, test_open_fd_chardev);
	tcase_add_test(tc, test_blocking_flag);
	tcase_add_test(tc, test_opts_checked);
	tcase_add_test(tc, test_errors_logged);
	tcase_add_test(tc, test_null_arguments);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(transport_suite());
}
