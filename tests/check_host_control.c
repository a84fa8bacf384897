/*
 * The operator's control interface: every command in process
 * (vpwr_host_control), and the same over the control socket, which only
 * the daemon's own user (or root) may use.
 */
#include <errno.h>
#include <signal.h>
#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libvpwr/libvpwr.h"
#include "testutil.h"

static const char *pins =
	"{\"domains\": {\"vm1\": {\"vcpus\": [\"0\", \"1\"]},"
	" \"vm2\": {\"vcpus\": [\"2\"]}}}";

static struct vpwr_test_host th;

static void setup(void)
{
	vpwr_test_host_open(&th, pins, 4, NULL);
}

static void teardown(void)
{
	vpwr_test_host_close(&th);
}

/* Run `req`; returns the parsed reply, and the status in *rc. */
static json_t *ctl(const char *req, int *rc)
{
	char *text = NULL;
	json_t *j;

	*rc = vpwr_host_control(th.h, req, &text);
	ck_assert_ptr_nonnull(text);
	j = json_loads(text, 0, NULL);
	ck_assert_msg(j != NULL, "reply is not JSON: %s", text);
	free(text);
	ck_assert(json_is_boolean(json_object_get(j, "ok")));
	ck_assert_int_eq(json_is_true(json_object_get(j, "ok")), *rc == 0);
	return j;
}

static json_t *ctl_ok(const char *req)
{
	int rc;
	json_t *j = ctl(req, &rc);

	ck_assert_msg(rc == 0, "%s failed: %s", req,
		      json_string_value(json_object_get(j, "message")));
	return j;
}

static void ctl_fails(const char *req, int want)
{
	int rc;
	json_t *j = ctl(req, &rc);

	ck_assert_msg(rc == want, "%s: %d, wanted %d", req, rc, want);
	ck_assert_str_eq(json_string_value(json_object_get(j, "error")),
			 vpwr_strerror_name(want));
	ck_assert(json_string_length(json_object_get(j, "message")) > 0);
	json_decref(j);
}

START_TEST(test_cpus_and_bounds)
{
	struct vpwr_msg req, reply;
	json_t *j, *cpu;

	j = ctl_ok("{\"cmd\":\"cpus\"}");
	ck_assert_str_eq(json_string_value(json_object_get(j, "backend")), "sim");
	ck_assert_uint_eq(json_array_size(json_object_get(j, "cpus")), 4);
	json_decref(j);

	vpwr_msg_init(&req, VPWR_MSG_SCALE, 1, 1);
	req.u.scale.op = VPWR_SCALE_MIN;
	ck_assert_int_eq(vpwr_host_handle(th.h, "vm1", &req, &reply), 0);
	json_decref(ctl_ok("{\"cmd\":\"set-bounds\",\"pcpu\":3,"
			   "\"min_khz\":1000000,\"max_khz\":2000000}"));
	j = ctl_ok("{\"cmd\":\"cpus\"}");
	cpu = json_array_get(json_object_get(j, "cpus"), 1);
	ck_assert(json_is_true(json_object_get(cpu, "managed")));
	ck_assert_str_eq(json_string_value(json_object_get(cpu, "winner")), "vm1");
	ck_assert_int_eq(json_integer_value(json_object_get(cpu, "requests")), 1);
	cpu = json_array_get(json_object_get(j, "cpus"), 3);
	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_object_get(cpu, "bounds"), "max_khz")),
			 2000000);
	json_decref(j);

	json_decref(ctl_ok("{\"cmd\":\"set-bounds\",\"domain\":\"vm2\","
			   "\"max_khz\":1500000}"));
	j = ctl_ok("{\"cmd\":\"domains\"}");
	ck_assert_uint_eq(json_array_size(json_object_get(j, "domains")), 2);
	json_decref(j);

	ctl_fails("{\"cmd\":\"set-bounds\",\"pcpu\":99}", -EINVAL);
	ctl_fails("{\"cmd\":\"set-bounds\",\"domain\":\"nosuch\"}",
		  -VPWR_E_NO_DOMAIN);
	ctl_fails("{\"cmd\":\"set-bounds\",\"pcpu\":1,\"domain\":\"vm1\"}",
		  -EINVAL);
	ctl_fails("{\"cmd\":\"set-bounds\",\"pcpu\":1,\"max_khz\":-5}", -EINVAL);
	ctl_fails("{\"cmd\":\"set-bounds\",\"pcpu\":1,\"min_khz\":3,"
		  "\"max_khz\":2}", -EINVAL);
}
END_TEST

START_TEST(test_domains_show_requests)
{
	struct vpwr_msg req, reply;
	json_t *j, *d, *v;

	vpwr_msg_init(&req, VPWR_MSG_SET_FREQ, 1, 1);
	req.u.freq.khz = 2000000;
	ck_assert_int_eq(vpwr_host_handle(th.h, "vm1", &req, &reply), 0);
	j = ctl_ok("{\"cmd\":\"domains\"}");
	d = json_array_get(json_object_get(j, "domains"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(d, "name")), "vm1");
	ck_assert_int_eq(json_integer_value(json_object_get(d, "nr_vcpus")), 2);
	v = json_array_get(json_object_get(d, "vcpus"), 1);
	ck_assert_str_eq(json_string_value(json_object_get(v, "pcpus")), "1");
	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_object_get(v, "request"), "max_khz")),
			 2000000);
	json_decref(j);
}
END_TEST

START_TEST(test_bad_requests)
{
	int rc;

	ctl_fails("not json", -VPWR_E_PROTO);
	ctl_fails("[1,2]", -VPWR_E_PROTO);
	ctl_fails("{\"cmd\":7}", -VPWR_E_PROTO);
	ctl_fails("{\"cmd\":\"reboot\"}", -EOPNOTSUPP);
	ctl_fails("{\"cmd\":\"cpus\",\"cmd\":\"stats\"}", -VPWR_E_PROTO);
	ctl_fails("{\"cmd\":\"remove-channel\",\"id\":\"x\"}", -EINVAL);
	ctl_fails("{\"cmd\":\"remove-channel\",\"id\":12345}", -ENOENT);
	ctl_fails("{\"cmd\":\"add-channel\",\"domain\":\"vm1\"}", -EINVAL);
	ctl_fails("{\"cmd\":\"add-channel\",\"uri\":\"unix:/x\",\"connect\":true}",
		  -EINVAL);
	ctl_fails("{\"cmd\":\"add-channel\",\"domain\":\"vm1\",\"uri\":\"bogus:x\"}",
		  -EPROTONOSUPPORT);
	ck_assert_int_eq(vpwr_host_control(NULL, "{}", &(char *){ NULL }), -EINVAL);
	ck_assert_int_eq(vpwr_host_control(th.h, NULL, &(char *){ NULL }), -EINVAL);
	ck_assert_int_eq(vpwr_host_control(th.h, "{}", NULL), -EINVAL);
	(void)rc;
}
END_TEST

/* Channels added and removed by the operator, as listed. */
START_TEST(test_channels)
{
	char req[4400], uri[4200];
	struct vpwr_channel *c;
	json_t *j, *ch, *st;
	json_int_t id;

	snprintf(req, sizeof(req), "{\"cmd\":\"add-channel\",\"domain\":\"vm1\","
		 "\"uri\":\"unix-listen:%s/vm1.sock\"}", th.dir);
	json_decref(ctl_ok(req));
	snprintf(uri, sizeof(uri), "unix:%s/vm1.sock", th.dir);
	ck_assert_int_eq(vpwr_channel_open(uri, NULL, &c), 0);
	for (int i = 0; i < 50 && vpwr_host_nr_channels(th.h) == 0; i++)
		vpwr_host_dispatch(th.h, 10);
	j = ctl_ok("{\"cmd\":\"channels\"}");
	ck_assert_uint_eq(json_array_size(json_object_get(j, "channels")), 1);
	ch = json_array_get(json_object_get(j, "channels"), 0);
	ck_assert_str_eq(json_string_value(json_object_get(ch, "domain")), "vm1");
	ck_assert_str_eq(json_string_value(json_object_get(ch, "transport")), "unix");
	ck_assert_int_eq(json_integer_value(json_object_get(
				 json_object_get(ch, "peer"), "pid")), getpid());
	id = json_integer_value(json_object_get(ch, "id"));
	json_decref(j);
	snprintf(req, sizeof(req), "{\"cmd\":\"remove-channel\",\"id\":%lld}",
		 (long long)id);
	json_decref(ctl_ok(req));
	ck_assert_int_eq(vpwr_host_nr_channels(th.h), 0);
	st = ctl_ok("{\"cmd\":\"stats\"}");
	ck_assert_int_eq(json_integer_value(json_object_get(st, "channels_opened")), 1);
	ck_assert_int_eq(json_integer_value(json_object_get(st, "channels")), 0);
	json_decref(st);
	vpwr_channel_free(c);
}
END_TEST

/* Read one reply line from the control socket, pumping the host. */
static json_t *read_line(int fd, char *buf, size_t cap, size_t *have)
{
	for (int i = 0; i < 200; i++) {
		char *nl = memchr(buf, '\n', *have);
		ssize_t r;

		if (nl) {
			json_t *j = json_loadb(buf, (size_t)(nl - buf), 0, NULL);
			size_t used = (size_t)(nl - buf) + 1;

			memmove(buf, nl + 1, *have - used);
			*have -= used;
			return j;
		}
		vpwr_host_dispatch(th.h, 10);
		r = recv(fd, buf + *have, cap - *have, MSG_DONTWAIT);
		if (r == 0)
			return NULL;
		if (r > 0)
			*have += (size_t)r;
	}
	return NULL;
}

START_TEST(test_control_socket)
{
	char path[4200], uri[4300], buf[65536];
	static const char two[] = "{\"cmd\":\"stats\"}\n{\"cmd\":\"nope\"}\n";
	struct vpwr_channel *c;
	struct stat st;
	size_t have = 0;
	json_t *j;
	int fd;

	snprintf(path, sizeof(path), "%s/ctl.sock", th.dir);
	snprintf(uri, sizeof(uri), "unix-listen:%s", path);
	ck_assert_int_eq(vpwr_host_control_listen(th.h, uri), 0);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 0777, 0600);
	ck_assert_int_eq(vpwr_host_control_listen(th.h, "unix:/x"),
			 -EPROTONOSUPPORT);
	snprintf(uri, sizeof(uri), "unix:%s", path);
	ck_assert_int_eq(vpwr_channel_open(uri, NULL, &c), 0);
	fd = vpwr_channel_fd(c);
	ck_assert_int_eq(write(fd, two, sizeof(two) - 1), sizeof(two) - 1);
	j = read_line(fd, buf, sizeof(buf), &have);
	ck_assert_ptr_nonnull(j);
	ck_assert(json_is_true(json_object_get(j, "ok")));
	ck_assert(json_is_integer(json_object_get(j, "requests")));
	json_decref(j);
	j = read_line(fd, buf, sizeof(buf), &have);
	ck_assert_ptr_nonnull(j);
	ck_assert(json_is_false(json_object_get(j, "ok")));
	json_decref(j);
	/* Operators are not guests: no channel was counted. */
	ck_assert_int_eq(vpwr_host_nr_channels(th.h), 0);

	/* A request line without end is cut off. */
	memset(buf, 'x', sizeof(buf));
	for (int i = 0; i < 3; i++) {
		ssize_t w = send(fd, buf, 8192, MSG_NOSIGNAL | MSG_DONTWAIT);
		(void)w;
		vpwr_host_dispatch(th.h, 10);
	}
	have = 0;
	ck_assert_ptr_null(read_line(fd, buf, sizeof(buf), &have));
	vpwr_channel_free(c);
}
END_TEST

/* Another user is turned away (needs root to become one). */
START_TEST(test_control_other_user)
{
	char path[4200], uri[4300];
	pid_t pid;
	int status = -1;

	if (geteuid() != 0) {
		fprintf(stderr, "skipped: needs root to act as another user\n");
		return;
	}
	snprintf(path, sizeof(path), "%s/ctl.sock", th.dir);
	snprintf(uri, sizeof(uri), "unix-listen:%s", path);
	ck_assert_int_eq(vpwr_host_control_listen(th.h, uri), 0);
	/* the directory must let the other user reach the socket */
	chmod(th.dir, 0755);
	chmod(path, 0666);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct vpwr_channel *c;
		char b[256];
		ssize_t n = 1;

		snprintf(uri, sizeof(uri), "unix:%s", path);
		if (setgid(65534) || setuid(65534) ||
		    vpwr_channel_open(uri, &(struct vpwr_channel_opts){
				.sz = sizeof(struct vpwr_channel_opts),
				.flags = VPWR_CHANNEL_BLOCKING }, &c))
			_exit(2);
		/* The host may close us before the request is even out. */
		signal(SIGPIPE, SIG_IGN);
		if (write(vpwr_channel_fd(c), "{\"cmd\":\"cpus\"}\n", 15) != 15)
			_exit(errno == EPIPE || errno == ECONNRESET ? 0 : 3);
		/* the host closes us without an answer */
		while (n > 0)
			n = read(vpwr_channel_fd(c), b, sizeof(b));
		_exit(n == 0 || errno == ECONNRESET ? 0 : 4);
	}
	for (int i = 0; i < 300; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			break;
		vpwr_host_dispatch(th.h, 10);
	}
	ck_assert(WIFEXITED(status));
	ck_assert_int_eq(WEXITSTATUS(status), 0);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("host_control");
	TCase *tc = tcase_create("control");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_cpus_and_bounds);
	tcase_add_test(tc, test_domains_show_requests);
	tcase_add_test(tc, test_bad_requests);
	tcase_add_test(tc, test_channels);
	tcase_add_test(tc, test_control_socket);
	tcase_add_test(tc, test_control_other_user);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(suite());
}
