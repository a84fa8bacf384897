/*
 * A running host serving guests in each of the three protocols over real
 * sockets: the host detects the codec from the first bytes and answers in
 * it, and a libvpwr guest in DPDK mode gets every DPDK request served.
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

static const char *pins =
	"{\"domains\": {\"vm1\": {\"vcpus\": [\"0\", \"1\", \"2\"]}}}";

static char *dir;
static struct vpwr_backend *b;
static struct vpwr_resolver *r;
static struct vpwr_host *h;
static pthread_t thread;
static uint32_t lo_khz, hi_khz, orig_khz;

static void *serve(void *arg)
{
	(void)arg;
	vpwr_host_run(h);
	return NULL;
}

static struct vpwr_test_host th;

static void setup(void)
{
	char uri[4200];
	uint32_t t[64];
	int n;

	vpwr_test_host_open(&th, pins, 4, NULL);
	dir = th.dir;
	b = th.b;
	r = th.r;
	h = th.h;
	snprintf(uri, sizeof(uri), "unix-listen:%s/vm1.sock", dir);
	ck_assert_int_eq(vpwr_host_listen(h, "vm1", uri), 0);
	n = vpwr_backend_get_freqs(b, 0, t, 64);
	ck_assert_int_gt(n, 2);
	lo_khz = t[0];
	hi_khz = t[n - 1];
	ck_assert_int_eq(vpwr_backend_get_freq(b, 0, &orig_khz), 0);
	ck_assert_int_eq(pthread_create(&thread, NULL, serve, NULL), 0);
}

static void teardown(void)
{
	vpwr_host_stop(h);
	pthread_join(thread, NULL);
	vpwr_test_host_close(&th);
}

static struct vpwr_guest *open_guest(const char *codec)
{
	char uri[4200];
	struct vpwr_guest *g;
	VPWR_OPTS(vpwr_guest_opts, go, .codec = codec, .timeout_ms = 5000);

	snprintf(uri, sizeof(uri), "unix:%s/vm1.sock", dir);
	ck_assert_int_eq(vpwr_guest_open(uri, &go, &g), 0);
	return g;
}

/* The host's view of pCPU `cpu`, read through a native guest. */
static uint32_t freq_via_native(unsigned vcpu)
{
	struct vpwr_guest *g = open_guest(NULL);
	struct vpwr_vcpu_state st;

	ck_assert_int_eq(vpwr_guest_query_state(g, vcpu, &st), 0);
	vpwr_guest_free(g);
	return st.cur_khz;
}

START_TEST(dpdk_guest_is_served)
{
	struct vpwr_guest *g = open_guest("dpdk");
	struct vpwr_vcpu_list l;
	struct vpwr_policy p;

	ck_assert_int_eq(vpwr_guest_hello(g, NULL), 0);       /* CONNECT */
	ck_assert_int_eq(vpwr_guest_scale(g, 0, VPWR_SCALE_MIN), 0);
	ck_assert_int_eq(vpwr_guest_scale(g, 1, VPWR_SCALE_MAX), 0);
	ck_assert_int_eq(vpwr_guest_scale(g, 1, VPWR_SCALE_DOWN), 0);
	ck_assert_int_eq(vpwr_guest_set_turbo(g, 2, 0), 0);
	/* QUERY_FREQ_LIST */
	ck_assert_int_eq(vpwr_guest_query_vcpus(g, VPWR_VCPU_NONE,
						VPWR_VCPUS_FREQS, &l), 0);
	ck_assert_uint_eq(l.nr, 3);
	ck_assert_uint_eq(l.cur_khz[0], lo_khz);
	ck_assert_uint_lt(l.cur_khz[1], hi_khz);
	ck_assert_uint_gt(l.cur_khz[1], lo_khz);
	/* QUERY_FREQ of one vCPU, handed back as entry 0 */
	ck_assert_int_eq(vpwr_guest_query_vcpus(g, 1, VPWR_VCPUS_FREQS, &l), 0);
	ck_assert_uint_eq(l.first, 1);
	ck_assert_uint_eq(l.nr, 1);
	ck_assert_uint_gt(l.cur_khz[0], lo_khz);
	/* QUERY_CAPS_LIST */
	ck_assert_int_eq(vpwr_guest_query_vcpus(g, VPWR_VCPU_NONE,
						VPWR_VCPUS_CAPS, &l), 0);
	ck_assert_uint_eq(l.turbo_mask, 0x7);
	/* A refused request: a DPDK NACK. */
	ck_assert_int_lt(vpwr_guest_scale(g, 7, VPWR_SCALE_MAX), 0);
	/* PKT_POLICY (WORKLOAD low on vCPU 2) and PKT_POLICY_REMOVE */
	memset(&p, 0, sizeof(p));
	p.kind = VPWR_POLICY_WORKLOAD;
	p.workload = VPWR_WORKLOAD_LOW;
	vpwr_cpuset_set(&p.vcpus, 2);
	ck_assert_int_eq(vpwr_guest_send_policy(g, &p), 0);
	ck_assert_uint_eq(freq_via_native(2), lo_khz);
	ck_assert_int_eq(vpwr_guest_remove_policy(g, 0), 0);
	ck_assert_uint_eq(freq_via_native(2), orig_khz);
	/* The scales above are still held while the DPDK guest is here. */
	ck_assert_uint_eq(freq_via_native(0), lo_khz);
	vpwr_guest_free(g);
}
END_TEST

START_TEST(json_guest_is_served)
{
	struct vpwr_guest *g = open_guest("json");
	struct vpwr_hello hi;
	struct vpwr_vcpu_state st;
	uint32_t khz[64], cur;

	ck_assert_int_eq(vpwr_guest_hello(g, &hi), 0);
	ck_assert_uint_eq(hi.nr_vcpus, 3);
	ck_assert_int_eq(vpwr_guest_set_freq(g, 1, 1600000), 0);
	ck_assert_int_eq(vpwr_guest_query_state(g, 1, &st), 0);
	ck_assert_uint_eq(st.cur_khz, 1600000);
	ck_assert_int_gt(vpwr_guest_query_freqs(g, 0, khz, 64, &cur), 2);
	ck_assert_int_eq(vpwr_guest_set_range(g, 5, 800000, 900000),
			 -VPWR_E_VCPU_RANGE);
	ck_assert_ptr_nonnull(strstr(vpwr_guest_last_reason(g), "vCPU 5"));
	vpwr_guest_free(g);
}
END_TEST

START_TEST(three_protocols_at_once)
{
	struct vpwr_guest *n = open_guest(NULL), *j = open_guest("json"),
			  *d = open_guest("dpdk");

	/* Three channels of one domain in three codecs: they speak for the
	 * same domain, so its latest request for a vCPU replaces the last. */
	ck_assert_int_eq(vpwr_guest_scale(d, 0, VPWR_SCALE_MIN), 0);
	ck_assert_uint_eq(freq_via_native(0), lo_khz);
	ck_assert_int_eq(vpwr_guest_set_freq(j, 0, 1200000), 0);
	ck_assert_uint_eq(freq_via_native(0), 1200000);
	ck_assert_int_eq(vpwr_guest_set_freq(n, 0, 1000000), 0);
	ck_assert_uint_eq(freq_via_native(0), 1000000);
	/* The domain keeps its wishes while any of its channels is open. */
	vpwr_guest_free(n);
	vpwr_guest_free(j);
	ck_assert_uint_eq(freq_via_native(0), 1000000);
	vpwr_guest_free(d);
}
END_TEST

static Suite *codecs_suite(void)
{
	Suite *s = suite_create("host_codecs");
	TCase *tc = tcase_create("codecs");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, dpdk_guest_is_served);
	tcase_add_test(tc, json_guest_is_served);
	tcase_add_test(tc, three_protocols_at_once);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(codecs_suite());
}
