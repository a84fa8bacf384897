/*
 * LIMITS_CHANGED: a guest that said HELLO is told when another domain or
 * the operator changes what its vCPU runs at (its request clamped, or
 * freed again); a guest that did not (DPDK's never do) gets nothing
 * unasked; and a guest that does not read is skipped, never reset.
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

/* vm1 and vm2 share pCPU 0 (each pinned to it); vm3 is alone on 1. */
static const char *pins =
	"{\"domains\": {\"vm1\": {\"vcpus\": [\"0\"]},"
	" \"vm2\": {\"vcpus\": [\"0\"]}, \"vm3\": {\"vcpus\": [\"1\"]}}}";

static struct vpwr_test_host th;
static uint32_t lo, hi, mid;

static void setup(void)
{
	uint32_t t[64];
	int n;

	vpwr_test_host_open(&th, pins, 2, NULL);
	n = vpwr_backend_get_freqs(th.b, 0, t, 64);
	ck_assert_int_gt(n, 2);
	lo = t[0];
	mid = t[n / 2];
	hi = t[n - 1];
}

static void teardown(void)
{
	vpwr_test_host_close(&th);
}

struct peer {
	int fd;
	uint8_t buf[16 * 1024];
	size_t have;
	uint32_t seq;
};

static void attach(struct peer *p, const char *domain)
{
	struct vpwr_channel *ch;
	int sv[2];

	memset(p, 0, sizeof(*p));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
				    sv), 0);
	ck_assert_int_eq(vpwr_channel_open_fd(sv[0], NULL, &ch), 0);
	ck_assert_int_gt(vpwr_host_add_channel(th.h, domain, ch), 0);
	p->fd = sv[1];
}

/* The next message from the host, or false after ~100 ms of nothing. */
static bool next_msg(struct peer *p, struct vpwr_msg *m)
{
	const struct vpwr_codec *c = vpwr_codec_native();
	struct vpwr_decode_error err;

	for (int idle = 0; idle < 10;) {
		int len = vpwr_codec_frame_len(c, p->buf, p->have, &err);
		ssize_t r;

		if (len > 0 && (size_t)len <= p->have) {
			ck_assert_int_eq(vpwr_codec_decode(c, p->buf,
							   (size_t)len, m,
							   &err), 0);
			memmove(p->buf, p->buf + len, p->have - (size_t)len);
			p->have -= (size_t)len;
			return true;
		}
		vpwr_host_dispatch(th.h, 10);
		r = read(p->fd, p->buf + p->have, sizeof(p->buf) - p->have);
		if (r > 0)
			p->have += (size_t)r;
		else
			idle++;
	}
	return false;
}

/* Send a request and return its reply's status; notifications that
 * arrive first are counted in *notes (may be NULL: none allowed). */
static int ask(struct peer *p, uint16_t type, uint32_t arg)
{
	uint8_t buf[VPWR_NATIVE_MAX_FRAME];
	struct vpwr_msg m;
	int len;

	vpwr_msg_init(&m, type, ++p->seq, type == VPWR_MSG_HELLO ?
						  VPWR_VCPU_NONE : 0);
	if (type == VPWR_MSG_HELLO) {
		m.u.hello.version_min = 1;
		m.u.hello.version_max = 1;
	} else if (type == VPWR_MSG_SCALE) {
		m.u.scale.op = arg;
	} else if (type == VPWR_MSG_SET_FREQ) {
		m.u.freq.khz = arg;
	}
	len = vpwr_codec_encode(vpwr_codec_native(), &m, buf, sizeof(buf));
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(write(p->fd, buf, (size_t)len), len);
	ck_assert(next_msg(p, &m));
	ck_assert_msg(!(m.flags & VPWR_MSG_F_NOTIFY), "unexpected notification");
	ck_assert_uint_eq(m.seq, p->seq);
	if (type == VPWR_MSG_HELLO && m.status == 0)
		ck_assert(m.u.hello.caps & VPWR_CAP_NOTIFY);
	return m.status;
}

START_TEST(test_clamped_and_freed)
{
	struct peer a, b;
	struct vpwr_msg m;

	attach(&a, "vm1");
	attach(&b, "vm2");
	ck_assert_int_eq(ask(&a, VPWR_MSG_HELLO, 0), 0);
	ck_assert_int_eq(ask(&a, VPWR_MSG_SCALE, VPWR_SCALE_MIN), 0);
	/* vm2 (no HELLO) wins pCPU 0: vm1 hears that it was clamped. */
	ck_assert_int_eq(ask(&b, VPWR_MSG_SCALE, VPWR_SCALE_MAX), 0);
	ck_assert(next_msg(&a, &m));
	ck_assert_uint_eq(m.type, VPWR_MSG_LIMITS_CHANGED);
	ck_assert_uint_eq(m.flags, VPWR_MSG_F_NOTIFY);
	ck_assert_uint_eq(m.vcpu, 0);
	ck_assert_uint_eq(m.u.state.clamped, 1);
	ck_assert_uint_eq(m.u.state.max_khz, hi);
	ck_assert_uint_eq(m.u.state.cur_khz, hi);
	ck_assert_uint_eq(m.u.state.req_max_khz, lo);
	ck_assert(!next_msg(&a, &m)); /* one change, one notification */

	/* vm1 changing things itself is answered, not notified; vm2 never
	 * said HELLO and hears nothing unasked. */
	ck_assert_int_eq(ask(&a, VPWR_MSG_SET_FREQ, mid), 0);
	ck_assert(!next_msg(&b, &m));

	/* vm2 lets go: vm1's wish is its own again, and it is told. */
	ck_assert_int_eq(ask(&b, VPWR_MSG_RELEASE, 0), 0);
	ck_assert(next_msg(&a, &m));
	ck_assert_uint_eq(m.type, VPWR_MSG_LIMITS_CHANGED);
	ck_assert_uint_eq(m.u.state.clamped, 0);
	ck_assert_uint_eq(m.u.state.max_khz, mid);
	close(a.fd);
	close(b.fd);
}
END_TEST

START_TEST(test_operator_bounds_notify)
{
	struct peer a;
	struct vpwr_msg m;

	attach(&a, "vm3");
	ck_assert_int_eq(ask(&a, VPWR_MSG_HELLO, 0), 0);
	ck_assert_int_eq(ask(&a, VPWR_MSG_SCALE, VPWR_SCALE_MAX), 0);
	ck_assert_int_eq(vpwr_host_set_bounds(th.h, 1, 0, mid), 0);
	ck_assert(next_msg(&a, &m));
	ck_assert_uint_eq(m.type, VPWR_MSG_LIMITS_CHANGED);
	ck_assert_uint_eq(m.u.state.clamped, 1);
	ck_assert_uint_eq(m.u.state.max_khz, mid);
	/* Bounds on a CPU it does not use: nothing. */
	ck_assert_int_eq(vpwr_host_set_bounds(th.h, 0, 0, mid), 0);
	ck_assert(!next_msg(&a, &m));
	close(a.fd);
}
END_TEST

/* A guest that never reads: notifications stop once its output backs up,
 * and the channel is not reset for it. */
START_TEST(test_silent_guest_not_reset)
{
	struct peer a, b;
	int sndbuf = 4096;

	attach(&a, "vm1");
	attach(&b, "vm2");
	ck_assert_int_eq(ask(&a, VPWR_MSG_HELLO, 0), 0);
	ck_assert_int_eq(ask(&a, VPWR_MSG_SCALE, VPWR_SCALE_MIN), 0);
	/* a small receive buffer fills fast */
	setsockopt(a.fd, SOL_SOCKET, SO_RCVBUF, &sndbuf, sizeof(sndbuf));
	for (int i = 0; i < 2000; i++)
		ck_assert_int_eq(ask(&b, VPWR_MSG_SCALE,
				     i % 2 ? VPWR_SCALE_MAX : VPWR_SCALE_MIN), 0);
	ck_assert_int_eq(vpwr_host_nr_channels(th.h), 2);
	/* and it still gets its answers */
	a.have = 0;
	while (read(a.fd, a.buf, sizeof(a.buf)) > 0)
		;
	ck_assert_int_eq(ask(&b, VPWR_MSG_RELEASE, 0), 0);
	close(a.fd);
	close(b.fd);
}
END_TEST

/* The guest client hands notifications to its notify_fn. */
static int notes;
static uint32_t note_max;

static void on_note(const struct vpwr_msg *m, void *ud)
{
	(void)ud;
	if (m->type == VPWR_MSG_LIMITS_CHANGED) {
		notes++;
		note_max = m->u.state.max_khz;
	}
}

static void *serve(void *arg)
{
	vpwr_host_run(arg);
	return NULL;
}

START_TEST(test_guest_client_notify_fn)
{
	VPWR_OPTS(vpwr_guest_opts, go, .notify_fn = on_note, .timeout_ms = 5000);
	struct vpwr_guest *g1, *g2;
	struct vpwr_channel *ch;
	struct vpwr_vcpu_state st;
	pthread_t t;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(vpwr_channel_open_fd(sv[0], NULL, &ch), 0);
	ck_assert_int_gt(vpwr_host_add_channel(th.h, "vm1", ch), 0);
	ck_assert_int_eq(vpwr_channel_open_fd(sv[1], NULL, &ch), 0);
	ck_assert_int_eq(vpwr_guest_open_channel(ch, &go, &g1), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(vpwr_channel_open_fd(sv[0], NULL, &ch), 0);
	ck_assert_int_gt(vpwr_host_add_channel(th.h, "vm2", ch), 0);
	ck_assert_int_eq(vpwr_channel_open_fd(sv[1], NULL, &ch), 0);
	ck_assert_int_eq(vpwr_guest_open_channel(ch, &go, &g2), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, serve, th.h), 0);

	notes = 0;
	ck_assert_int_eq(vpwr_guest_hello(g1, NULL), 0);
	ck_assert_int_eq(vpwr_guest_scale(g1, 0, VPWR_SCALE_MIN), 0);
	ck_assert_int_eq(vpwr_guest_scale(g2, 0, VPWR_SCALE_MAX), 0);
	ck_assert_int_eq(vpwr_guest_query_state(g1, 0, &st), 0);
	ck_assert_int_eq(notes, 1);
	ck_assert_uint_eq(note_max, hi);
	ck_assert_uint_eq(st.clamped, 1);

	vpwr_host_stop(th.h);
	pthread_join(t, NULL);
	vpwr_guest_free(g1);
	vpwr_guest_free(g2);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("host_notify");
	TCase *tc = tcase_create("notify");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_clamped_and_freed);
	tcase_add_test(tc, test_operator_bounds_notify);
	tcase_add_test(tc, test_silent_guest_not_reset);
	tcase_add_test(tc, test_guest_client_notify_fn);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(suite());
}
