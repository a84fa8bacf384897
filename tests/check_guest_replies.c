/*
 * The guest client takes only its own reply: same sequence number and
 * same type.  A late reply meant for an earlier request — perhaps another
 * process's, left in a virtio-serial port between two openers — is
 * dropped, and each handle numbers its requests from a different start.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "libvpwr/libvpwr.h"
#include "testutil.h"

static int host_fd;
static uint32_t seen_seq;

static void put(const struct vpwr_msg *m)
{
	uint8_t buf[VPWR_NATIVE_MAX_FRAME];
	int n = vpwr_codec_encode(vpwr_codec_native(), m, buf, sizeof(buf));

	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(write(host_fd, buf, (size_t)n), n);
}

/* A host that answers the one request with two stale replies first. */
static void *fake_host(void *arg)
{
	const struct vpwr_codec *c = vpwr_codec_native();
	uint8_t buf[VPWR_NATIVE_MAX_FRAME];
	struct vpwr_decode_error err;
	struct vpwr_msg req, m;
	size_t have = 0;
	int n = 0;

	(void)arg;
	while (n <= 0 || (size_t)n > have) {
		ssize_t r = read(host_fd, buf + have, sizeof(buf) - have);

		if (r <= 0)
			return NULL;
		have += (size_t)r;
		n = vpwr_codec_frame_len(c, buf, have, &err);
	}
	if (vpwr_codec_decode(c, buf, (size_t)n, &req, &err) < 0)
		return NULL;
	seen_seq = req.seq;
	/* the same number, another request's type */
	vpwr_msg_init(&m, VPWR_MSG_QUERY_STATE, req.seq, req.vcpu);
	vpwr_msg_reply(&m, &m, -EIO, "stale");
	put(&m);
	/* the same type, an earlier number */
	vpwr_msg_reply(&m, &req, -EIO, "stale");
	m.seq = req.seq - 1;
	put(&m);
	/* ours */
	vpwr_msg_reply(&m, &req, 0, NULL);
	put(&m);
	return NULL;
}

static struct vpwr_guest *open_pair(void)
{
	VPWR_OPTS(vpwr_guest_opts, go, .timeout_ms = 3000);
	struct vpwr_channel *ch;
	struct vpwr_guest *g;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(vpwr_channel_open_fd(sv[0], NULL, &ch), 0);
	ck_assert_int_eq(vpwr_guest_open_channel(ch, &go, &g), 0);
	host_fd = sv[1];
	return g;
}

START_TEST(test_only_its_own_reply)
{
	struct vpwr_guest *g = open_pair();
	pthread_t t;

	ck_assert_int_eq(pthread_create(&t, NULL, fake_host, NULL), 0);
	ck_assert_int_eq(vpwr_guest_scale(g, 0, VPWR_SCALE_MIN), 0);
	ck_assert_str_eq(vpwr_guest_last_reason(g), "");
	pthread_join(t, NULL);
	vpwr_guest_free(g);
	close(host_fd);
}
END_TEST

START_TEST(test_handles_start_apart)
{
	uint32_t first[4];

	for (int i = 0; i < 4; i++) {
		struct vpwr_guest *g = open_pair();
		pthread_t t;

		ck_assert_int_eq(pthread_create(&t, NULL, fake_host, NULL), 0);
		ck_assert_int_eq(vpwr_guest_scale(g, 0, VPWR_SCALE_MIN), 0);
		pthread_join(t, NULL);
		first[i] = seen_seq;
		vpwr_guest_free(g);
		close(host_fd);
	}
	/* 32 random bits each: four equal ones would be a broken start. */
	ck_assert(!(first[0] == first[1] && first[1] == first[2] &&
		    first[2] == first[3]));
	ck_assert_uint_ne(first[0], 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("guest_replies");
	TCase *tc = tcase_create("replies");

	tcase_add_test(tc, test_only_its_own_reply);
	tcase_add_test(tc, test_handles_start_apart);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(suite());
}
