/*
 * Policies a guest hands to the host, and the per-vCPU list queries that
 * DPDK guests use: held per domain, combined with direct requests and
 * other domains, dropped on removal, release and hang-up.  The evaluators
 * of TIME, TRAFFIC and BRANCH_RATIO have suites of their own
 * (check_host_time.c, check_host_traffic.c).
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

/* vm1: vCPU0 -> 0, vCPU1 -> 1, vCPU2 -> 2; vm2: vCPU0 -> 1; vm3 floats
 * over 4-5 which vm2's vCPU1 also uses. */
static const char *pins =
	"{\"domains\": {"
	" \"vm1\": {\"vcpus\": [\"0\", \"1\", \"2\"]},"
	" \"vm2\": {\"vcpus\": [\"1\", \"5\"]},"
	" \"vm3\": {\"vcpus\": [\"4-5\"]}}}";

static char *dir;
static struct vpwr_backend *b;
static struct vpwr_resolver *r;
static struct vpwr_host *h;
static uint32_t lo_khz, hi_khz, mid_khz, orig_khz;

static struct vpwr_test_host th;

static void setup(void)
{
	uint32_t t[64];
	int n;

	vpwr_test_host_open(&th, pins, 6, NULL);
	dir = th.dir;
	b = th.b;
	r = th.r;
	h = th.h;
	n = vpwr_backend_get_freqs(b, 0, t, 64);
	ck_assert_int_gt(n, 2);
	lo_khz = t[0];
	hi_khz = t[n - 1];
	mid_khz = t[(n - 1) / 2];
	ck_assert_int_eq(vpwr_backend_get_freq(b, 0, &orig_khz), 0);
}

static void teardown(void)
{
	vpwr_test_host_close(&th);
}

static uint32_t freq_of(unsigned cpu)
{
	uint32_t khz = 0;
	ck_assert_int_eq(vpwr_backend_get_freq(b, cpu, &khz), 0);
	return khz;
}

static int workload(const char *dom, uint32_t level, const char *vcpus,
		    struct vpwr_msg *reply)
{
	struct vpwr_msg req, tmp;

	vpwr_msg_init(&req, VPWR_MSG_POLICY_SET, 1, VPWR_VCPU_NONE);
	req.u.policy.kind = VPWR_POLICY_WORKLOAD;
	req.u.policy.workload = level;
	ck_assert_int_eq(vpwr_cpuset_parse(&req.u.policy.vcpus, vcpus), 0);
	return vpwr_host_handle(h, dom, &req, reply ? reply : &tmp);
}

static int simple(const char *dom, unsigned type, unsigned vcpu,
		  uint32_t arg, struct vpwr_msg *reply)
{
	struct vpwr_msg req, tmp;

	vpwr_msg_init(&req, type, 2, vcpu);
	if (type == VPWR_MSG_POLICY_REMOVE)
		req.u.policy.kind = arg;
	else if (type == VPWR_MSG_SCALE)
		req.u.scale.op = arg;
	else if (type == VPWR_MSG_QUERY_VCPUS)
		req.u.vcpus.want = arg;
	return vpwr_host_handle(h, dom, &req, reply ? reply : &tmp);
}

START_TEST(workload_levels_map_to_min_medium_max)
{
	ck_assert_int_eq(workload("vm1", VPWR_WORKLOAD_LOW, "0", NULL), 0);
	ck_assert_uint_eq(freq_of(0), lo_khz);
	ck_assert_uint_eq(freq_of(2), orig_khz); /* not named: untouched */
	ck_assert_int_eq(workload("vm1", VPWR_WORKLOAD_MEDIUM, "0", NULL), 0);
	ck_assert_uint_eq(freq_of(0), mid_khz);
	ck_assert_int_eq(workload("vm1", VPWR_WORKLOAD_HIGH, "0", NULL), 0);
	ck_assert_uint_eq(freq_of(0), hi_khz);
}
END_TEST

START_TEST(empty_vcpu_set_means_every_vcpu)
{
	ck_assert_int_eq(workload("vm1", VPWR_WORKLOAD_LOW, "", NULL), 0);
	for (unsigned c = 0; c < 3; c++)
		ck_assert_uint_eq(freq_of(c), lo_khz);
}
END_TEST

START_TEST(removal_restores)
{
	struct vpwr_msg reply;

	ck_assert_int_eq(workload("vm1", VPWR_WORKLOAD_LOW, "0-2", NULL), 0);
	ck_assert_int_eq(simple("vm1", VPWR_MSG_POLICY_REMOVE, 0,
				VPWR_POLICY_TIME, &reply), -ENOENT);
	ck_assert_str_eq(reply.reason, "no TIME policy to remove");
	ck_assert_uint_eq(freq_of(1), lo_khz);
	ck_assert_int_eq(simple("vm1", VPWR_MSG_POLICY_REMOVE, 0,
				VPWR_POLICY_WORKLOAD, NULL), 0);
	for (unsigned c = 0; c < 3; c++)
		ck_assert_uint_eq(freq_of(c), orig_khz);
	ck_assert_int_eq(simple("vm1", VPWR_MSG_POLICY_REMOVE, 0, 0, NULL),
			 -ENOENT);
}
END_TEST

START_TEST(policy_and_request_combine)
{
	/* Performance mode: the higher of the policy and the request wins,
	 * and dropping the request hands the CPU back to the policy. */
	ck_assert_int_eq(workload("vm1", VPWR_WORKLOAD_LOW, "1", NULL), 0);
	ck_assert_int_eq(simple("vm1", VPWR_MSG_SCALE, 1, VPWR_SCALE_MEDIUM,
				NULL), 0);
	ck_assert_uint_eq(freq_of(1), mid_khz);
	/* vm2 shares pCPU1; its policy outbids both. */
	ck_assert_int_eq(workload("vm2", VPWR_WORKLOAD_HIGH, "0", NULL), 0);
	ck_assert_uint_eq(freq_of(1), hi_khz);
	ck_assert_int_eq(simple("vm2", VPWR_MSG_RELEASE, VPWR_VCPU_NONE, 0,
				NULL), 0);
	ck_assert_uint_eq(freq_of(1), mid_khz);
	/* RELEASE drops the policy along with the requests. */
	ck_assert_int_eq(simple("vm1", VPWR_MSG_RELEASE, VPWR_VCPU_NONE, 0,
				NULL), 0);
	ck_assert_uint_eq(freq_of(1), orig_khz);
}
END_TEST

START_TEST(policy_refusals)
{
	struct vpwr_msg reply;

	ck_assert_int_eq(workload("vm1", VPWR_WORKLOAD_LOW, "0,7", &reply),
			 -VPWR_E_VCPU_RANGE);
	ck_assert_ptr_nonnull(strstr(reply.reason, "vCPU 7"));
	ck_assert_int_eq(workload("vm3", VPWR_WORKLOAD_LOW, "0", &reply),
			 -VPWR_E_SHARED_CPU);
	ck_assert_int_eq(workload("vm1", 9, "0", NULL), -VPWR_E_PROTO);
	for (unsigned c = 0; c < 6; c++)
		ck_assert_uint_eq(freq_of(c), orig_khz);
}
END_TEST

START_TEST(time_policy_is_evaluated_at_once)
{
	struct vpwr_msg req, reply;

	/* Busy around the clock, whatever the hour of this run. */
	vpwr_msg_init(&req, VPWR_MSG_POLICY_SET, 3, VPWR_VCPU_NONE);
	req.u.policy.kind = VPWR_POLICY_TIME;
	req.u.policy.busy_hours = 0x00ffffff;
	ck_assert_int_eq(vpwr_host_handle(h, "vm1", &req, &reply), 0);
	ck_assert_ptr_null(strstr(reply.reason, "not evaluate"));
	for (unsigned c = 0; c < 3; c++)
		ck_assert_uint_eq(freq_of(c), hi_khz);
	ck_assert_int_eq(simple("vm1", VPWR_MSG_POLICY_REMOVE, 0,
				VPWR_POLICY_TIME, NULL), 0);
	for (unsigned c = 0; c < 3; c++)
		ck_assert_uint_eq(freq_of(c), orig_khz);
}
END_TEST

START_TEST(query_vcpus_lists_every_vcpu)
{
	struct vpwr_msg reply;

	ck_assert_int_eq(simple("vm1", VPWR_MSG_SCALE, 2, VPWR_SCALE_MIN, NULL), 0);
	ck_assert_int_eq(simple("vm1", VPWR_MSG_QUERY_VCPUS, VPWR_VCPU_NONE,
				VPWR_VCPUS_FREQS | VPWR_VCPUS_CAPS, &reply), 0);
	ck_assert_uint_eq(reply.u.vcpus.want, VPWR_VCPUS_FREQS | VPWR_VCPUS_CAPS);
	ck_assert_uint_eq(reply.u.vcpus.nr, 3);
	ck_assert_uint_eq(reply.u.vcpus.nr_vcpus, 3);
	ck_assert_uint_eq(reply.u.vcpus.first, 0);
	ck_assert_uint_eq(reply.u.vcpus.cur_khz[0], orig_khz);
	ck_assert_uint_eq(reply.u.vcpus.cur_khz[2], lo_khz);
	ck_assert_uint_eq(reply.u.vcpus.turbo_mask, 0x7);
	ck_assert_int_eq(simple("vm1", VPWR_MSG_QUERY_VCPUS, 2,
				VPWR_VCPUS_FREQS, &reply), 0);
	ck_assert_uint_eq(reply.u.vcpus.first, 2);
	ck_assert_uint_eq(reply.u.vcpus.nr, 1);
	ck_assert_uint_eq(reply.u.vcpus.cur_khz[0], lo_khz);
	ck_assert_int_eq(simple("vm1", VPWR_MSG_QUERY_VCPUS, 3,
				VPWR_VCPUS_FREQS, &reply), -VPWR_E_VCPU_RANGE);
}
END_TEST

static void *serve(void *arg)
{
	(void)arg;
	vpwr_host_run(h);
	return NULL;
}

START_TEST(guest_client_policy_calls)
{
	struct vpwr_channel *ch;
	struct vpwr_guest *g;
	struct vpwr_vcpu_list list;
	struct vpwr_policy p;
	pthread_t t;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(vpwr_channel_open_fd(sv[0], NULL, &ch), 0);
	ck_assert_int_gt(vpwr_host_add_channel(h, "vm1", ch), 0);
	ck_assert_int_eq(vpwr_channel_open_fd(sv[1], NULL, &ch), 0);
	ck_assert_int_eq(vpwr_guest_open_channel(ch, NULL, &g), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, serve, NULL), 0);

	memset(&p, 0, sizeof(p));
	/* Whatever a caller's struct padding holds is not a field. */
	memset((uint8_t *)&p + offsetof(struct vpwr_policy, macs) +
		       sizeof(p.macs),
	       0xA5, sizeof(p) - offsetof(struct vpwr_policy, macs) -
			     sizeof(p.macs));
	p.kind = VPWR_POLICY_WORKLOAD;
	p.workload = VPWR_WORKLOAD_LOW;
	vpwr_cpuset_set(&p.vcpus, 1);
	ck_assert_int_eq(vpwr_guest_send_policy(g, &p), 0);
	ck_assert_int_eq(vpwr_guest_query_vcpus(g, VPWR_VCPU_NONE,
						VPWR_VCPUS_FREQS, &list), 0);
	ck_assert_uint_eq(list.nr, 3);
	ck_assert_uint_eq(list.cur_khz[1], lo_khz);
	ck_assert_int_eq(vpwr_guest_remove_policy(g, VPWR_POLICY_WORKLOAD), 0);
	ck_assert_int_eq(vpwr_guest_query_vcpus(g, 1, VPWR_VCPUS_FREQS, &list), 0);
	ck_assert_uint_eq(list.cur_khz[0], orig_khz);
	ck_assert_int_eq(vpwr_guest_remove_policy(g, VPWR_POLICY_WORKLOAD),
			 -ENOENT);
	ck_assert_int_eq(vpwr_guest_send_policy(g, NULL), -EINVAL);
	/* A policy left in place goes when the guest hangs up. */
	ck_assert_int_eq(vpwr_guest_send_policy(g, &p), 0);
	vpwr_guest_free(g);
	vpwr_host_stop(h);
	pthread_join(t, NULL);
	for (int i = 0; i < 5 && vpwr_host_nr_channels(h); i++)
		vpwr_host_dispatch(h, 50);
	ck_assert_uint_eq(freq_of(1), orig_khz);
}
END_TEST

static Suite *policy_suite(void)
{
	Suite *s = suite_create("host_policy");
	TCase *tc = tcase_create("policy");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, workload_levels_map_to_min_medium_max);
	tcase_add_test(tc, empty_vcpu_set_means_every_vcpu);
	tcase_add_test(tc, removal_restores);
	tcase_add_test(tc, policy_and_request_combine);
	tcase_add_test(tc, policy_refusals);
	tcase_add_test(tc, time_policy_is_evaluated_at_once);
	tcase_add_test(tc, query_vcpus_lists_every_vcpu);
	tcase_add_test(tc, guest_client_policy_calls);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(policy_suite());
}
