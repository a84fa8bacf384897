/*
 * The virtio-serial and vsock transports, as far as one machine without
 * virtio devices or a vsock transport can take them: port discovery on a
 * fake sysfs/dev tree, opening ports by path, name and "auto", refusing
 * what is not a port; the host side of a QEMU chardev socket in both
 * modes; vsock address parsing and listening.  A real guest exercises the
 * rest (tests/e2e).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>
#include <linux/vm_sockets.h>

#include "libvpwr/error.h"
#include "libvpwr/transport.h"
#include "testutil.h"

static char *dir;

static void setup(void)
{
	dir = vpwr_test_tmpdir();
}

static void teardown(void)
{
	vpwr_test_rmtree(dir);
	free(dir);
}

/* A fake guest: sysfs port names and /dev/virtio-ports links. */
static void fake_port(const char *vport, const char *name, bool dev_link)
{
	char rel[256];

	snprintf(rel, sizeof(rel), "sys/class/virtio-ports/%s/name", vport);
	vpwr_test_write_file(dir, rel, name);
	if (dev_link) {
		char link[512];

		snprintf(rel, sizeof(rel), "dev/virtio-ports/%s", name);
		/* the name file's newline must not reach the link name */
		rel[strcspn(rel, "\n")] = '\0';
		vpwr_test_write_file(dir, rel, "");
		snprintf(link, sizeof(link), "%s/%s", dir, rel);
		ck_assert_int_eq(access(link, F_OK), 0);
	}
}

struct seen {
	char names[8][128];
	char uris[8][512];
	int n;
	int stop_at;            /* return 1 from the callback at this index */
};

static int collect(const char *name, const char *uri, void *ud)
{
	struct seen *s = ud;

	ck_assert_int_lt(s->n, 8);
	snprintf(s->names[s->n], sizeof(s->names[0]), "%s", name);
	snprintf(s->uris[s->n], sizeof(s->uris[0]), "%s", uri);
	return ++s->n == s->stop_at ? 7 : 0;
}

START_TEST(test_discover)
{
	struct seen s = { .stop_at = -1 };
	char want[512];

	fake_port("vport0p1", "virtio.serial.port.poweragent.10\n", true);
	fake_port("vport0p2", "virtio.serial.port.poweragent.2\n", false);
	fake_port("vport0p3", "org.qemu.guest_agent.0\n", true);
	fake_port("vport0p4", "org.libvpwr.ctl\n", false);
	fake_port("vport0p5", "virtio.serial.port.poweragent.x\n", false);
	fake_port("vport0p6", "virtio.serial.port.poweragent.\n", false);
	/* only under /dev (no sysfs entry): still found */
	vpwr_test_write_file(dir, "dev/virtio-ports/org.libvpwr.extra", "");

	ck_assert_int_eq(vpwr_virtio_serial_discover(dir, collect, &s), 4);
	ck_assert_int_eq(s.n, 4);
	ck_assert_str_eq(s.names[0], "org.libvpwr.ctl");
	ck_assert_str_eq(s.names[1], "org.libvpwr.extra");
	ck_assert_str_eq(s.names[2], "virtio.serial.port.poweragent.2");
	ck_assert_str_eq(s.names[3], "virtio.serial.port.poweragent.10");
	snprintf(want, sizeof(want),
		 "virtio-serial:%s/dev/virtio-ports/virtio.serial.port.poweragent.2",
		 dir);
	ck_assert_str_eq(s.uris[2], want);

	/* counting only, and stopping early */
	ck_assert_int_eq(vpwr_virtio_serial_discover(dir, NULL, NULL), 4);
	s = (struct seen){ .stop_at = 2 };
	ck_assert_int_eq(vpwr_virtio_serial_discover(dir, collect, &s), 7);
	ck_assert_int_eq(s.n, 2);
}
END_TEST

START_TEST(test_discover_none)
{
	struct seen s = { .stop_at = -1 };

	ck_assert_int_eq(vpwr_virtio_serial_discover(dir, collect, &s), 0);
	fake_port("vport0p1", "org.qemu.guest_agent.0\n", true);
	ck_assert_int_eq(vpwr_virtio_serial_discover(dir, collect, &s), 0);
	ck_assert_int_eq(s.n, 0);
}
END_TEST

START_TEST(test_open_port)
{
	struct vpwr_channel *ch;
	char uri[512];

	/* A character device is what a port is. */
	ck_assert_int_eq(vpwr_channel_open("virtio-serial:/dev/null", NULL, &ch), 0);
	ck_assert_str_eq(vpwr_channel_scheme(ch), "virtio-serial");
	ck_assert(fcntl(vpwr_channel_fd(ch), F_GETFL) & O_NONBLOCK);
	ck_assert(fcntl(vpwr_channel_fd(ch), F_GETFD) & FD_CLOEXEC);
	ck_assert_int_eq(vpwr_channel_write(ch, "x", 1), 1);
	vpwr_channel_free(ch);

	/* A plain file is not. */
	vpwr_test_write_file(dir, "plain", "");
	snprintf(uri, sizeof(uri), "virtio-serial:%s/plain", dir);
	ck_assert_int_eq(vpwr_channel_open(uri, NULL, &ch), -ENOTTY);
	ck_assert_ptr_null(ch);
	snprintf(uri, sizeof(uri), "virtio-serial:%s/missing", dir);
	ck_assert_int_eq(vpwr_channel_open(uri, NULL, &ch), -ENOENT);
	/* A bare name is looked up in /dev/virtio-ports, which this machine
	 * does not have. */
	ck_assert_int_eq(vpwr_channel_open("virtio-serial:org.libvpwr.nothere",
					   NULL, &ch), -ENOENT);
	/* The host side scheme cannot be used the other way round. */
	ck_assert_int_eq(vpwr_listener_open("virtio-serial:/dev/null", NULL,
					    &(struct vpwr_listener *){ NULL }),
			 -EPROTONOSUPPORT);
}
END_TEST

/* QEMU listening (server=on) and the host connecting, then the other way
 * round (server=off): both are plain unix stream sockets. */
START_TEST(test_host_side)
{
	struct vpwr_listener *l;
	struct vpwr_channel *a, *b;
	struct vpwr_peer p;
	char uri[512], buf[8];

	snprintf(uri, sizeof(uri), "virtio-serial-host:%s/vm0.0", dir);
	ck_assert_int_eq(vpwr_channel_open(uri, NULL, &a), -ENOENT);
	ck_assert_int_eq(vpwr_listener_open(uri, NULL, &l), 0);
	ck_assert_int_eq(vpwr_channel_open(uri, NULL, &a), 0);
	ck_assert_int_eq(vpwr_listener_accept(l, &b), 0);
	ck_assert_str_eq(vpwr_channel_scheme(a), "virtio-serial-host");
	ck_assert_str_eq(vpwr_channel_scheme(b), "virtio-serial-host");
	ck_assert_int_eq(vpwr_channel_write(a, "ping", 4), 4);
	ck_assert_int_eq(vpwr_channel_read(b, buf, sizeof(buf)), 4);
	ck_assert_int_eq(memcmp(buf, "ping", 4), 0);
	/* Peer credentials, for authorisation. */
	ck_assert_int_eq(vpwr_channel_peer(b, &p), 0);
	ck_assert_int_eq(p.has_cred, 1);
	ck_assert_int_eq(p.pid, getpid());
	ck_assert_uint_eq(p.uid, getuid());
	vpwr_channel_free(a);
	ck_assert_int_eq(vpwr_channel_read(b, buf, sizeof(buf)), 0);
	vpwr_channel_free(b);
	/* The socket file goes with the listener. */
	vpwr_listener_free(l);
	snprintf(uri, sizeof(uri), "%s/vm0.0", dir);
	ck_assert_int_eq(access(uri, F_OK), -1);
}
END_TEST

START_TEST(test_vsock_addresses)
{
	static const char *const bad[] = {
		"vsock:5000",          /* no CID */
		"vsock:x:5000",
		"vsock:2:",
		"vsock:2:50a",
		"vsock:2:4294967295",  /* VMADDR_PORT_ANY */
		"vsock:2:4294967296",
		"vsock:any:5000",      /* nobody to connect to */
		"vsock:-1:5000",
	};
	struct vpwr_channel *ch;
	struct vpwr_listener *l;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(vpwr_channel_open(bad[i], NULL, &ch) == -EINVAL,
			      "%s accepted", bad[i]);
	ck_assert_int_eq(vpwr_listener_open("vsock-listen:port", NULL, &l),
			 -EINVAL);
	ck_assert_int_eq(vpwr_listener_open("vsock-listen:1:2:3", NULL, &l),
			 -EINVAL);
	ck_assert_int_eq(vpwr_listener_open("vsock:5000", NULL, &l),
			 -EPROTONOSUPPORT);
	ck_assert_int_eq(vpwr_channel_open("vsock-listen:5000", NULL, &ch),
			 -EPROTONOSUPPORT);
}
END_TEST

START_TEST(test_vsock_listen)
{
	struct vpwr_listener *l, *l2;
	struct vpwr_channel *ch;
	struct sockaddr_vm sa;
	socklen_t len = sizeof(sa);
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);

	if (fd < 0) {
		fprintf(stderr, "skipped: no AF_VSOCK here (%s)\n",
			strerror(errno));
		return;
	}
	close(fd);
	/* Any free port; VMADDR_PORT_ANY is refused in a URI, so look for
	 * one from a high number down. */
	for (unsigned port = 52000; port > 51000; port--) {
		char uri[64];

		snprintf(uri, sizeof(uri), "vsock-listen:%u", port);
		if (vpwr_listener_open(uri, NULL, &l) == 0)
			break;
		l = NULL;
	}
	ck_assert_ptr_nonnull(l);
	ck_assert_int_eq(getsockname(vpwr_listener_fd(l), (struct sockaddr *)&sa,
				     &len), 0);
	ck_assert_int_eq(sa.svm_family, AF_VSOCK);
	ck_assert_uint_eq(sa.svm_cid, VMADDR_CID_ANY);
	ck_assert(fcntl(vpwr_listener_fd(l), F_GETFL) & O_NONBLOCK);
	ck_assert_int_eq(vpwr_listener_accept(l, &ch), -EAGAIN);
	/* The same port twice is in use. */
	{
		char uri[64];

		snprintf(uri, sizeof(uri), "vsock-listen:any:%u", sa.svm_port);
		ck_assert_int_eq(vpwr_listener_open(uri, NULL, &l2),
				 -EADDRINUSE);
	}
	vpwr_listener_free(l);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("transport_virtio");
	TCase *tc = tcase_create("virtio_vsock");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_discover);
	tcase_add_test(tc, test_discover_none);
	tcase_add_test(tc, test_open_port);
	tcase_add_test(tc, test_host_side);
	tcase_add_test(tc, test_vsock_addresses);
	tcase_add_test(tc, test_vsock_listen);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(suite());
}
