/*
 * Channels that come and go: the host connecting to a QEMU chardev socket
 * itself and again after QEMU restarts (vpwr_host_connect), listeners that
 * bind connections by vsock CID, and a guest whose host daemon restarts.
 * The test plays QEMU with a unix listener of its own and pumps the host's
 * loop by hand, so every step is deterministic.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libvpwr/libvpwr.h"
#include "testutil.h"

static const char *pins =
	"{\"domains\": {\"vm1\": {\"vcpus\": [\"0\", \"1\"]},"
	" \"vm2\": {\"vcpus\": [\"2\"], \"cid\": 7}}}";

static struct vpwr_test_host th;
static int ups, downs;
static struct vpwr_peer last_peer;
static char qemu_uri[4200], host_uri[4200];

static void on_event(const struct vpwr_host_event *ev, void *ud)
{
	(void)ud;
	if (ev->type == VPWR_HOST_EV_CHANNEL_UP) {
		ups++;
		ck_assert_ptr_nonnull(ev->peer);
		last_peer = *ev->peer;
	}
	else if (ev->type == VPWR_HOST_EV_CHANNEL_DOWN)
		downs++;
}

static void setup(void)
{
	VPWR_OPTS(vpwr_host_opts, ho, .event_fn = on_event);

	ups = downs = 0;
	vpwr_test_host_open(&th, pins, 4, &ho);
	snprintf(qemu_uri, sizeof(qemu_uri), "unix-listen:%s/vm1.0", th.dir);
	snprintf(host_uri, sizeof(host_uri), "virtio-serial-host:%s/vm1.0",
		 th.dir);
}

static void teardown(void)
{
	vpwr_test_host_close(&th);
}

/* Dispatch until cond() or `ms` pass; returns cond(). */
static bool pump_until(bool (*cond)(void), int ms)
{
	uint64_t end = vpwr_test_now_ms() + (uint64_t)ms;

	while (!cond() && vpwr_test_now_ms() < end)
		ck_assert_int_ge(vpwr_host_dispatch(th.h, 20), 0);
	return cond();
}

static bool one_channel(void)
{
	return vpwr_host_nr_channels(th.h) == 1;
}

static bool no_channel(void)
{
	return vpwr_host_nr_channels(th.h) == 0;
}

/* QEMU's side: send a SCALE request for vCPU 0 and read the reply. */
static int request(struct vpwr_channel *q, uint32_t seq)
{
	const struct vpwr_codec *c = vpwr_codec_native();
	uint8_t buf[VPWR_NATIVE_MAX_FRAME];
	struct vpwr_decode_error err;
	struct vpwr_msg m;
	size_t have = 0;
	int n;

	vpwr_msg_init(&m, VPWR_MSG_SCALE, seq, 0);
	m.u.scale.op = VPWR_SCALE_MAX;
	n = vpwr_codec_encode(c, &m, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(vpwr_channel_write(q, buf, (size_t)n), n);
	for (int i = 0; i < 200; i++) {
		ssize_t r;

		vpwr_host_dispatch(th.h, 10);
		r = vpwr_channel_read(q, buf + have, sizeof(buf) - have);
		if (r == -EAGAIN)
			continue;
		ck_assert_int_gt(r, 0);
		have += (size_t)r;
		n = vpwr_codec_frame_len(c, buf, have, &err);
		if (n > 0 && (size_t)n <= have)
			break;
	}
	ck_assert_int_eq(vpwr_codec_decode(c, buf, have, &m, &err), 0);
	ck_assert_uint_eq(m.seq, seq);
	return m.status;
}

START_TEST(test_connect_and_reconnect)
{
	struct vpwr_listener *qemu;
	struct vpwr_channel *q;
	int id = -1;

	ck_assert_int_eq(vpwr_listener_open(qemu_uri, NULL, &qemu), 0);
	ck_assert_int_eq(vpwr_host_connect(th.h, "vm1", host_uri), 0);
	/* Connected at once, as one channel of vm1. */
	ck_assert_int_eq(vpwr_host_nr_channels(th.h), 1);
	ck_assert_int_eq(ups, 1);
	/* Who is on the other end, for authorisation: QEMU's credentials
	 * (here, this process). */
	ck_assert_int_eq(last_peer.has_cred, 1);
	ck_assert_int_eq(last_peer.pid, getpid());
	ck_assert_int_eq(vpwr_listener_accept(qemu, &q), 0);
	ck_assert_int_eq(request(q, 1), 0);

	/* QEMU goes away (VM shut down): the channel closes, and the host
	 * keeps trying while nothing is there. */
	vpwr_channel_free(q);
	vpwr_listener_free(qemu);
	ck_assert(pump_until(no_channel, 2000));
	ck_assert_int_eq(downs, 1);
	pump_until(one_channel, 400); /* attempts fail: nobody listens */
	ck_assert_int_eq(vpwr_host_nr_channels(th.h), 0);

	/* QEMU is back: the host connects again on its own. */
	ck_assert_int_eq(vpwr_listener_open(qemu_uri, NULL, &qemu), 0);
	ck_assert(pump_until(one_channel, 6000));
	ck_assert_int_eq(ups, 2);
	ck_assert_int_eq(vpwr_listener_accept(qemu, &q), 0);
	ck_assert_int_eq(request(q, 2), 0);

	/* Removing the channel ends the connector too: no more attempts. */
	for (id = 1; id < 10 && vpwr_host_remove_channel(th.h, id) == -ENOENT;
	     id++)
		;
	ck_assert_int_lt(id, 10);
	vpwr_channel_free(q);
	ck_assert_int_eq(vpwr_host_dispatch(th.h, 300), 0);
	ck_assert_int_eq(vpwr_listener_accept(qemu, &q), -EAGAIN);
	ck_assert_int_eq(vpwr_host_nr_channels(th.h), 0);
	vpwr_listener_free(qemu);
}
END_TEST

START_TEST(test_connect_before_qemu)
{
	struct vpwr_listener *qemu;
	struct vpwr_channel *q;

	/* QEMU not started yet: not an error, the host waits for it. */
	ck_assert_int_eq(vpwr_host_connect(th.h, "vm1", host_uri), 0);
	ck_assert_int_eq(vpwr_host_nr_channels(th.h), 0);
	ck_assert_int_eq(vpwr_host_dispatch(th.h, 50), 0);
	ck_assert_int_eq(vpwr_listener_open(qemu_uri, NULL, &qemu), 0);
	ck_assert(pump_until(one_channel, 3000));
	ck_assert_int_eq(vpwr_listener_accept(qemu, &q), 0);
	ck_assert_int_eq(request(q, 9), 0);
	vpwr_channel_free(q);
	vpwr_listener_free(qemu);
}
END_TEST

START_TEST(test_connect_errors)
{
	ck_assert_int_eq(vpwr_host_connect(th.h, "vm1", "nope:/x"),
			 -EPROTONOSUPPORT);
	ck_assert_int_eq(vpwr_host_connect(th.h, "vm1", "virtio-serial-host:"),
			 -EINVAL);
	ck_assert_int_eq(vpwr_host_connect(th.h, "nosuch", host_uri),
			 -VPWR_E_NO_DOMAIN);
	ck_assert_int_eq(vpwr_host_connect(NULL, "vm1", host_uri), -EINVAL);
	ck_assert_int_eq(vpwr_host_connect(th.h, NULL, host_uri), -EINVAL);
	ck_assert_int_eq(vpwr_host_connect(th.h, "vm1", NULL), -EINVAL);
	/* Nothing was left behind waiting: an idle host does not wake. */
	ck_assert_int_eq(vpwr_host_dispatch(th.h, 300), 0);
}
END_TEST

/*
 * A listener without a domain binds by vsock CID; a unix peer has none
 * and is turned away, and the daemon carries on.
 */
START_TEST(test_listener_by_cid)
{
	char uri[4200];
	struct vpwr_channel *c;
	char buf[8];
	ssize_t n = -EAGAIN;

	snprintf(uri, sizeof(uri), "unix-listen:%s/any.sock", th.dir);
	ck_assert_int_eq(vpwr_host_listen(th.h, NULL, uri), 0);
	snprintf(uri, sizeof(uri), "unix:%s/any.sock", th.dir);
	ck_assert_int_eq(vpwr_channel_open(uri, NULL, &c), 0);
	for (int i = 0; i < 100 && n == -EAGAIN; i++) {
		vpwr_host_dispatch(th.h, 10);
		n = vpwr_channel_read(c, buf, sizeof(buf));
	}
	ck_assert_int_eq(n, 0); /* closed by the host */
	ck_assert_int_eq(vpwr_host_nr_channels(th.h), 0);
	ck_assert_int_eq(ups, 0);
	vpwr_channel_free(c);
}
END_TEST

static bool two_channels(void)
{
	return vpwr_host_nr_channels(th.h) == 2;
}

/* Hosts without libvirt: a directory of QEMU sockets, DOMAIN.N or
 * DOMAIN.sock, attached as they appear and detached as they go. */
START_TEST(test_watch_dir)
{
	char wdir[4200], uri[4300], file[4300];
	struct vpwr_listener *q1, *q2, *q3;
	struct vpwr_channel *c;

	snprintf(wdir, sizeof(wdir), "%s/power", th.dir);
	vpwr_test_write_file(th.dir, "power/vm1.txt", "not a socket");
	snprintf(uri, sizeof(uri), "unix-listen:%s/vm1.0", wdir);
	ck_assert_int_eq(vpwr_listener_open(uri, NULL, &q1), 0);
	/* there before the watch: attached at once */
	ck_assert_int_eq(vpwr_host_watch_dir(th.h, wdir), 0);
	ck_assert_int_eq(vpwr_host_nr_channels(th.h), 1);
	ck_assert_int_eq(vpwr_listener_accept(q1, &c), 0);
	ck_assert_int_eq(request(c, 5), 0);

	/* appears later */
	snprintf(uri, sizeof(uri), "unix-listen:%s/vm2.sock", wdir);
	ck_assert_int_eq(vpwr_listener_open(uri, NULL, &q2), 0);
	ck_assert(pump_until(two_channels, 3000));
	/* a domain nobody knows is left alone */
	snprintf(uri, sizeof(uri), "unix-listen:%s/nosuch.0", wdir);
	ck_assert_int_eq(vpwr_listener_open(uri, NULL, &q3), 0);
	pump_until(no_channel, 200);
	ck_assert_int_eq(vpwr_host_nr_channels(th.h), 2);

	/* vm2's socket goes: detached, and not connected to again */
	vpwr_listener_free(q2);
	ck_assert(pump_until(one_channel, 3000));
	ck_assert_int_eq(downs, 1);

	ck_assert_int_eq(vpwr_host_watch_dir(th.h, "/nonexistent/dir"), -ENOENT);
	snprintf(file, sizeof(file), "%s/vm1.txt", wdir);
	ck_assert_int_eq(vpwr_host_watch_dir(th.h, file), -ENOTDIR);
	ck_assert_int_eq(vpwr_host_watch_dir(th.h, NULL), -EINVAL);
	vpwr_channel_free(c);
	vpwr_listener_free(q1);
	vpwr_listener_free(q3);
}
END_TEST

/* ---- a guest whose host daemon restarts ---- */

static struct vpwr_host *h2;
static pthread_t thread;

static void *serve(void *arg)
{
	vpwr_host_run(arg);
	return NULL;
}

static struct vpwr_host *start_host(const char *uri)
{
	VPWR_OPTS(vpwr_host_opts, ho, .backend = th.b, .resolver = th.r);
	struct vpwr_host *h;

	ck_assert_int_eq(vpwr_host_new(&ho, &h), 0);
	ck_assert_int_eq(vpwr_host_listen(h, "vm1", uri), 0);
	ck_assert_int_eq(pthread_create(&thread, NULL, serve, h), 0);
	return h;
}

static void stop_host(struct vpwr_host *h)
{
	vpwr_host_stop(h);
	pthread_join(thread, NULL);
	vpwr_host_free(h);
}

START_TEST(test_guest_reconnects)
{
	char luri[4200], guri[4200];
	VPWR_OPTS(vpwr_guest_opts, go, .timeout_ms = 300);
	struct vpwr_guest *g;
	uint32_t hi, f;
	uint32_t t[64];
	int n;

	n = vpwr_backend_get_freqs(th.b, 0, t, 64);
	ck_assert_int_gt(n, 2);
	hi = t[n - 1];
	snprintf(luri, sizeof(luri), "unix-listen:%s/d.sock", th.dir);
	snprintf(guri, sizeof(guri), "unix:%s/d.sock", th.dir);
	/* The suite's own host is not used here. */
	vpwr_host_free(th.h);
	th.h = NULL;

	h2 = start_host(luri);
	ck_assert_int_eq(vpwr_guest_open(guri, &go, &g), 0);
	ck_assert_int_eq(vpwr_guest_scale(g, 0, VPWR_SCALE_MAX), 0);
	ck_assert_int_eq(vpwr_backend_get_freq(th.b, 0, &f), 0);
	ck_assert_uint_eq(f, hi);

	/* The daemon stops (and restores); nobody listens for a while. */
	stop_host(h2);
	ck_assert_int_eq(vpwr_guest_scale(g, 0, VPWR_SCALE_MAX),
			 -VPWR_E_CLOSED);

	/* A new daemon: the guest's next request finds it. */
	h2 = start_host(luri);
	ck_assert_int_eq(vpwr_guest_scale(g, 1, VPWR_SCALE_MAX), 0);
	ck_assert_int_eq(vpwr_backend_get_freq(th.b, 1, &f), 0);
	ck_assert_uint_eq(f, hi);
	vpwr_guest_free(g);
	stop_host(h2);
}
END_TEST

/* A guest on a channel it was handed (no URI) cannot reconnect: it says
 * the host has gone, at once. */
START_TEST(test_guest_without_uri)
{
	VPWR_OPTS(vpwr_guest_opts, go, .timeout_ms = 5000);
	struct vpwr_channel *ch;
	struct vpwr_guest *g;
	uint64_t t0;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(vpwr_channel_open_fd(sv[0], NULL, &ch), 0);
	ck_assert_int_eq(vpwr_guest_open_channel(ch, &go, &g), 0);
	close(sv[1]);
	t0 = vpwr_test_now_ms();
	ck_assert_int_eq(vpwr_guest_scale(g, 0, VPWR_SCALE_UP), -VPWR_E_CLOSED);
	ck_assert_uint_lt(vpwr_test_now_ms() - t0, 1000);
	vpwr_guest_free(g);
}
END_TEST

/*
 * vpwr_host_detach(): stop serving a URI.  A listener goes with the
 * channels it accepted (their wishes restored at once), a connector with
 * its channel and its retries; other listeners are untouched.
 */
START_TEST(test_detach)
{
	char l1[4200], l2[4200];
	struct vpwr_listener *qemu;
	struct vpwr_channel *g1, *g2, *q, *c;
	struct vpwr_host_cpu_info info;

	snprintf(l1, sizeof(l1), "unix-listen:%s/vm1.sock", th.dir);
	snprintf(l2, sizeof(l2), "unix-listen:%s/vm2.sock", th.dir);
	ck_assert_int_eq(vpwr_host_listen(th.h, "vm1", l1), 0);
	ck_assert_int_eq(vpwr_host_listen(th.h, "vm2", l2), 0);
	snprintf(l1, sizeof(l1), "unix:%s/vm1.sock", th.dir);
	ck_assert_int_eq(vpwr_channel_open(l1, NULL, &g1), 0);
	snprintf(l2, sizeof(l2), "unix:%s/vm2.sock", th.dir);
	ck_assert_int_eq(vpwr_channel_open(l2, NULL, &g2), 0);
	ck_assert(pump_until(two_channels, 2000));
	ck_assert_int_eq(request(g1, 1), 0); /* vm1: pCPUs 0-1 to max */
	ck_assert_int_eq(vpwr_host_cpu_info(th.h, 0, &info), 0);
	ck_assert_int_eq(info.managed, 1);

	/* Spelled differently: not found, nothing closed. */
	ck_assert_int_eq(vpwr_host_detach(th.h, l1), -ENOENT);
	ck_assert_int_eq(vpwr_host_detach(th.h, NULL), -EINVAL);
	ck_assert_int_eq(vpwr_host_nr_channels(th.h), 2);

	snprintf(l1, sizeof(l1), "unix-listen:%s/vm1.sock", th.dir);
	ck_assert_int_eq(vpwr_host_detach(th.h, l1), 1);
	/* vm1's channel went with its listener, and its wish with it. */
	ck_assert_int_eq(vpwr_host_nr_channels(th.h), 1);
	ck_assert_int_eq(downs, 1);
	ck_assert_int_eq(vpwr_host_cpu_info(th.h, 0, &info), 0);
	ck_assert_int_eq(info.managed, 0);
	ck_assert_int_eq(vpwr_host_detach(th.h, l1), -ENOENT);
	/* Nobody listens there any more; vm2's listener still does. */
	snprintf(l1, sizeof(l1), "unix:%s/vm1.sock", th.dir);
	ck_assert_int_lt(vpwr_channel_open(l1, NULL, &c), 0);
	ck_assert_int_eq(vpwr_channel_open(l2, NULL, &c), 0);
	ck_assert(pump_until(two_channels, 2000));
	vpwr_channel_free(c);
	ck_assert(pump_until(one_channel, 2000));

	/* A connector: its channel and its retries go. */
	ck_assert_int_eq(vpwr_listener_open(qemu_uri, NULL, &qemu), 0);
	ck_assert_int_eq(vpwr_host_connect(th.h, "vm1", host_uri), 0);
	ck_assert_int_eq(vpwr_listener_accept(qemu, &q), 0);
	ck_assert(pump_until(two_channels, 2000));
	ck_assert_int_eq(vpwr_host_detach(th.h, host_uri), 1);
	ck_assert(pump_until(one_channel, 2000));
	vpwr_channel_free(q);
	ck_assert_int_ge(vpwr_host_dispatch(th.h, 300), 0);
	ck_assert_int_eq(vpwr_listener_accept(qemu, &q), -EAGAIN);
	vpwr_listener_free(qemu);
	vpwr_channel_free(g1);
	vpwr_channel_free(g2);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("host_connect");
	TCase *tc = tcase_create("connect");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_connect_and_reconnect);
	tcase_add_test(tc, test_connect_before_qemu);
	tcase_add_test(tc, test_connect_errors);
	tcase_add_test(tc, test_listener_by_cid);
	tcase_add_test(tc, test_watch_dir);
	tcase_add_test(tc, test_guest_reconnects);
	tcase_add_test(tc, test_guest_without_uri);
	tcase_add_test(tc, test_detach);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(suite());
}
