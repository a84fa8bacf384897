/*
 * Limits that keep one guest from hurting the others: a per-channel rate
 * (token bucket) answered with NACKs and then a reset, and a cap on the
 * channels one domain may hold.  The daemon and other guests carry on.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "libvpwr/libvpwr.h"
#include "testutil.h"

static const char *pins =
	"{\"domains\": {\"vm1\": {\"vcpus\": [\"0\"]},"
	" \"vm2\": {\"vcpus\": [\"1\"]}}}";

static struct vpwr_test_host th;

static void open_host(unsigned rate, unsigned burst, unsigned per_domain)
{
	VPWR_OPTS(vpwr_host_opts, ho, .rate_per_s = rate, .rate_burst = burst,
		  .max_domain_channels = per_domain);

	vpwr_test_host_open(&th, pins, 2, &ho);
}

static void teardown(void)
{
	vpwr_test_host_close(&th);
}

/* A channel of `domain`; returns the test's end, non-blocking. */
static int attach(const char *domain)
{
	struct vpwr_channel *ch;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
				    sv), 0);
	ck_assert_int_eq(vpwr_channel_open_fd(sv[0], NULL, &ch), 0);
	ck_assert_int_gt(vpwr_host_add_channel(th.h, domain, ch), 0);
	return sv[1];
}

static void send_queries(int fd, unsigned n, uint32_t first_seq)
{
	uint8_t buf[VPWR_NATIVE_MAX_FRAME];

	for (unsigned i = 0; i < n; i++) {
		struct vpwr_msg m;
		int len;

		vpwr_msg_init(&m, VPWR_MSG_QUERY_STATE, first_seq + i, 0);
		len = vpwr_codec_encode(vpwr_codec_native(), &m, buf,
					sizeof(buf));
		ck_assert_int_gt(len, 0);
		ck_assert_int_eq(write(fd, buf, (size_t)len), len);
	}
}

/* Pump the host and collect up to `max` reply statuses; stops at EOF
 * (*eof set) or when nothing more comes. */
static unsigned replies(int fd, int *status, unsigned max, bool *eof)
{
	static uint8_t buf[64 * 1024];
	size_t have = 0, off = 0;
	unsigned n = 0;

	*eof = false;
	for (int idle = 0; idle < 10 && n < max && !*eof;) {
		ssize_t r;

		vpwr_host_dispatch(th.h, 10);
		r = read(fd, buf + have, sizeof(buf) - have);
		if (r < 0) {
			ck_assert_int_eq(errno, EAGAIN);
			idle++;
			continue;
		}
		if (r == 0)
			*eof = true;
		have += (size_t)r;
		for (;;) {
			struct vpwr_decode_error err;
			struct vpwr_msg m;
			int len = vpwr_codec_frame_len(vpwr_codec_native(),
						       buf + off, have - off,
						       &err);

			if (len <= 0 || (size_t)len > have - off)
				break;
			ck_assert_int_eq(vpwr_codec_decode(vpwr_codec_native(),
							   buf + off,
							   (size_t)len, &m,
							   &err), 0);
			status[n++] = m.status;
			off += (size_t)len;
		}
	}
	return n;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { 0, ms * 1000000L };

	nanosleep(&ts, NULL);
}

START_TEST(test_rate_nacks_then_recovers)
{
	int st[16];
	bool eof;
	int fd;

	open_host(10, 2, 0);
	fd = attach("vm1");
	send_queries(fd, 4, 1);
	ck_assert_uint_eq(replies(fd, st, 16, &eof), 4);
	ck_assert(!eof);
	ck_assert_int_eq(st[0], 0);
	ck_assert_int_eq(st[1], 0);
	ck_assert_int_eq(st[2], -VPWR_E_RATE_LIMIT);
	ck_assert_int_eq(st[3], -VPWR_E_RATE_LIMIT);
	/* 10/s: after 250 ms two more are allowed, not three. */
	sleep_ms(250);
	send_queries(fd, 3, 10);
	ck_assert_uint_eq(replies(fd, st, 16, &eof), 3);
	ck_assert_int_eq(st[0], 0);
	ck_assert_int_eq(st[1], 0);
	ck_assert_int_eq(st[2], -VPWR_E_RATE_LIMIT);
	close(fd);
}
END_TEST

START_TEST(test_flood_resets_only_that_channel)
{
	int st[64];
	bool eof;
	int bad, good;

	open_host(10, 2, 0);
	bad = attach("vm1");
	good = attach("vm2");
	send_queries(bad, 20, 1);
	/* 2 answered, 4 refused (twice the burst), then the reset. */
	ck_assert_uint_eq(replies(bad, st, 64, &eof), 6);
	ck_assert(eof);
	ck_assert_int_eq(st[1], 0);
	ck_assert_int_eq(st[5], -VPWR_E_RATE_LIMIT);
	ck_assert_int_eq(vpwr_host_nr_channels(th.h), 1);
	send_queries(good, 1, 1);
	ck_assert_uint_eq(replies(good, st, 64, &eof), 1);
	ck_assert_int_eq(st[0], 0);
	close(bad);
	close(good);
}
END_TEST

START_TEST(test_no_rate_by_default)
{
	int st[64];
	bool eof;
	int fd;

	open_host(0, 0, 0);
	fd = attach("vm1");
	send_queries(fd, 50, 1);
	ck_assert_uint_eq(replies(fd, st, 64, &eof), 50);
	for (int i = 0; i < 50; i++)
		ck_assert_int_eq(st[i], 0);
	close(fd);
}
END_TEST

START_TEST(test_channels_per_domain)
{
	struct vpwr_channel *ch;
	int fds[3], sv[2];

	open_host(0, 0, 2);
	fds[0] = attach("vm1");
	fds[1] = attach("vm1");
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(vpwr_channel_open_fd(sv[0], NULL, &ch), 0);
	ck_assert_int_eq(vpwr_host_add_channel(th.h, "vm1", ch), -VPWR_E_LIMIT);
	/* the refused channel was closed */
	ck_assert_int_eq(read(sv[1], &(char){ 0 }, 1), 0);
	close(sv[1]);
	ck_assert_int_eq(vpwr_host_nr_channels(th.h), 2);
	/* another domain is not affected */
	fds[2] = attach("vm2");
	ck_assert_int_eq(vpwr_host_nr_channels(th.h), 3);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("host_limits");
	TCase *tc = tcase_create("limits");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, test_rate_nacks_then_recovers);
	tcase_add_test(tc, test_flood_resets_only_that_channel);
	tcase_add_test(tc, test_no_rate_by_default);
	tcase_add_test(tc, test_channels_per_domain);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(suite());
}
