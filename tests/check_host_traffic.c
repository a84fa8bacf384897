/*
 * TRAFFIC and BRANCH_RATIO policies: packet rates against min/avg/max with
 * hysteresis, from traffic_fn and from netdev statistics found by MAC in a
 * fake sysfs tree; branch-miss ratios from branch_fn, and a clear refusal
 * where perf counters are missing; sampling on the host's period timer only
 * while such a policy is held.
 */
#include <linux/perf_event.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "policy_testutil.h"

/* vm1: vCPUs on 0, 1; vm2: vCPU0 on 2; vm3: vCPU0 on 3, vCPU1 on 4. */
static const char *pins =
	"{\"domains\": {"
	" \"vm1\": {\"vcpus\": [\"0\", \"1\"]},"
	" \"vm2\": {\"vcpus\": [\"2\"]},"
	" \"vm3\": {\"vcpus\": [\"3\", \"4\"]}}}";

static struct pt_env e;

static void setup(void)
{
	pt_open(&e, pins, NULL);
}

static void teardown(void)
{
	pt_close(&e);
}

static struct vpwr_policy traffic(uint32_t min, uint32_t avg, uint32_t max)
{
	struct vpwr_policy p = pt_policy(VPWR_POLICY_TRAFFIC);

	p.min_pps = min;
	p.avg_pps = avg;
	p.max_pps = max;
	return p;
}

/* `pps` packets per second for one second, then a sample. */
static void second_at(uint64_t pps)
{
	e.packets += pps;
	e.now_ms += 1000;
	ck_assert_int_eq(vpwr_host_evaluate(e.h), 0);
}

START_TEST(thresholds_and_hysteresis)
{
	struct vpwr_policy p = traffic(1000, 10000, 100000);
	struct vpwr_msg reply;

	ck_assert_int_eq(pt_set(&e, "vm1", &p, &reply), 0);
	ck_assert_ptr_null(strstr(reply.reason, "not evaluate"));
	/* The first count gives no rate: nothing is wanted yet. */
	ck_assert_uint_eq(pt_freq(&e, 0), e.orig);
	second_at(50000);
	ck_assert_uint_eq(pt_freq(&e, 0), e.mid);
	ck_assert_uint_eq(pt_freq(&e, 1), e.mid);
	second_at(100000); /* at max_pps: max, at once */
	ck_assert_uint_eq(pt_freq(&e, 0), e.hi);
	/* Within the 10 % margin below max_pps: max holds however long. */
	for (int i = 0; i < 10; i++) {
		second_at(91000);
		ck_assert_uint_eq(pt_freq(&e, 0), e.hi);
	}
	/* Below the margin: down after three samples in a row... */
	second_at(80000);
	second_at(80000);
	ck_assert_uint_eq(pt_freq(&e, 0), e.hi);
	second_at(95000); /* ...which a sample in the margin interrupts */
	second_at(80000);
	second_at(80000);
	ck_assert_uint_eq(pt_freq(&e, 0), e.hi);
	second_at(80000);
	ck_assert_uint_eq(pt_freq(&e, 0), e.mid);
	/* From medium, by way of the margin below avg_pps... */
	second_at(9500);
	second_at(9500);
	second_at(9500);
	ck_assert_uint_eq(pt_freq(&e, 0), e.mid);
	second_at(5000);
	second_at(5000);
	second_at(5000);
	ck_assert_uint_eq(pt_freq(&e, 0), e.lo);
	/* Up again at once; and below min_pps the link has gone quiet: min
	 * at once. */
	second_at(200000);
	ck_assert_uint_eq(pt_freq(&e, 0), e.hi);
	second_at(999);
	ck_assert_uint_eq(pt_freq(&e, 0), e.lo);
	/* Removal restores. */
	ck_assert_int_eq(pt_request(&e, "vm1", VPWR_MSG_POLICY_REMOVE,
				    VPWR_POLICY_TRAFFIC), 0);
	ck_assert_uint_eq(pt_freq(&e, 0), e.orig);
	pt_assert_idle(&e);
}
END_TEST

START_TEST(rates_over_the_time_that_passed)
{
	struct vpwr_policy p = traffic(0, 1000, 10000);

	ck_assert_int_eq(pt_set(&e, "vm2", &p, NULL), 0);
	/* 5,000 packets in 250 ms is 20,000 packets/s. */
	e.packets += 5000;
	e.now_ms += 250;
	ck_assert_int_eq(vpwr_host_evaluate(e.h), 0);
	ck_assert_uint_eq(pt_freq(&e, 2), e.hi);
	/* No time passed: no sample. */
	e.packets += 1;
	ck_assert_int_eq(vpwr_host_evaluate(e.h), 0);
	ck_assert_uint_eq(pt_freq(&e, 2), e.hi);
	/* A counter that goes back (an interface re-created) starts over,
	 * and a source that fails skips the sample: neither decides. */
	e.packets = 3;
	for (int i = 0; i < 5; i++) {
		e.now_ms += 1000;
		ck_assert_int_eq(vpwr_host_evaluate(e.h), 0);
		e.traffic_rc = -EIO;
	}
	ck_assert_uint_eq(pt_freq(&e, 2), e.hi);
	/* 1,000 packets in the 4 s since the new first count: 250/s, below
	 * avg for three samples. */
	e.traffic_rc = 0;
	e.packets += 1000;
	ck_assert_int_eq(vpwr_host_evaluate(e.h), 0);
	second_at(200);
	second_at(200);
	ck_assert_uint_eq(pt_freq(&e, 2), e.lo);
}
END_TEST

START_TEST(refusals)
{
	struct vpwr_policy p = traffic(0, 0, 0);
	struct vpwr_msg reply;

	ck_assert_int_eq(pt_set(&e, "vm1", &p, &reply), -EINVAL);
	ck_assert_ptr_nonnull(strstr(reply.reason, "max_pps"));
	p = traffic(10, 5, 100); /* min > avg: malformed */
	ck_assert_int_eq(pt_set(&e, "vm1", &p, &reply), -VPWR_E_PROTO);
	ck_assert_uint_eq(e.traffic_calls, 0);
	pt_assert_idle(&e);
}
END_TEST

START_TEST(the_operator_sees_rates)
{
	struct vpwr_policy p = traffic(1000, 10000, 100000);
	char *text = NULL;

	ck_assert_int_eq(pt_set(&e, "vm2", &p, NULL), 0);
	second_at(50000);
	ck_assert_int_eq(vpwr_host_control(e.h, "{\"cmd\":\"domains\"}", &text), 0);
	ck_assert_ptr_nonnull(strstr(text, "\"traffic\":{\"pps\":50000,"
					   "\"level\":\"medium\"}"));
	free(text);
}
END_TEST

START_TEST(traffic_precedes_workload)
{
	struct vpwr_policy w = pt_policy(VPWR_POLICY_WORKLOAD);
	struct vpwr_policy p = traffic(1000, 10000, 100000);

	w.workload = VPWR_WORKLOAD_HIGH;
	ck_assert_int_eq(pt_set(&e, "vm1", &w, NULL), 0);
	ck_assert_int_eq(pt_set(&e, "vm1", &p, NULL), 0);
	/* Until a rate is known, the WORKLOAD policy decides. */
	ck_assert_uint_eq(pt_freq(&e, 0), e.hi);
	second_at(10);
	ck_assert_uint_eq(pt_freq(&e, 0), e.lo);
	ck_assert_int_eq(pt_request(&e, "vm1", VPWR_MSG_POLICY_REMOVE,
				    VPWR_POLICY_TRAFFIC), 0);
	ck_assert_uint_eq(pt_freq(&e, 0), e.hi);
}
END_TEST

/* A clock of the test's own for the period timer: real time. */
static int counting_traffic(const char *dom, const struct vpwr_policy *p,
			    uint64_t *packets, void *ud)
{
	(void)dom;
	(void)p;
	(void)ud;
	*packets = vpwr_test_now_ms() * 200; /* 200,000 packets/s */
	return 0;
}

START_TEST(sampled_on_the_period_timer)
{
	VPWR_OPTS(vpwr_host_opts, o, .now_fn = (vpwr_clock_fn)(intptr_t)-1,
		  .traffic_fn = counting_traffic, .traffic_period_ms = 20);
	struct vpwr_policy p = traffic(1000, 10000, 100000);
	uint64_t t0;
	int events = 0;

	pt_close(&e);
	pt_open(&e, pins, &o);
	pt_assert_idle(&e);
	ck_assert_int_eq(pt_set(&e, "vm2", &p, NULL), 0);
	ck_assert(pt_timer_armed(e.h->retryfd));
	t0 = vpwr_test_now_ms();
	while (pt_freq(&e, 2) != e.hi && vpwr_test_now_ms() - t0 < 10000)
		events += vpwr_host_dispatch(e.h, 1000);
	ck_assert_uint_eq(pt_freq(&e, 2), e.hi);
	ck_assert_int_ge(events, 1);
	ck_assert_int_eq(pt_request(&e, "vm2", VPWR_MSG_RELEASE, 0), 0);
	ck_assert_uint_eq(pt_freq(&e, 2), e.orig);
	pt_assert_idle(&e);
}
END_TEST

/* ------------------------------------------------------ netdev sysfs */

static const uint8_t guest_mac[6] = { 0x52, 0x54, 0x00, 0x12, 0x34, 0x56 };

static void netdev(const char *root, const char *name, const char *mac,
		   uint64_t rx, uint64_t tx)
{
	char path[512], num[32];

	snprintf(path, sizeof(path), "class/net/%s/address", name);
	snprintf(num, sizeof(num), "%s\n", mac);
	vpwr_test_write_file(root, path, num);
	snprintf(path, sizeof(path), "class/net/%s/statistics/rx_packets", name);
	snprintf(num, sizeof(num), "%llu\n", (unsigned long long)rx);
	vpwr_test_write_file(root, path, num);
	snprintf(path, sizeof(path), "class/net/%s/statistics/tx_packets", name);
	snprintf(num, sizeof(num), "%llu\n", (unsigned long long)tx);
	vpwr_test_write_file(root, path, num);
}

START_TEST(netdev_statistics_by_mac)
{
	char *root = vpwr_test_tmpdir();
	VPWR_OPTS(vpwr_host_opts, o, .sysfs_root = root);
	struct vpwr_policy p = traffic(100, 1000, 10000);
	struct vpwr_msg reply;
	char path[4200];

	/* A macvtap with the guest's MAC, the tap libvirt made for another
	 * NIC of the guest (its MAC with 0xfe first), and strangers. */
	netdev(root, "macvtap0", "52:54:00:12:34:56", 100, 100);
	netdev(root, "vnet3", "fe:54:00:aa:bb:cc", 50, 50);
	netdev(root, "eth0", "02:fc:00:00:00:01", 7, 7);
	netdev(root, "vnet9", "fe:54:00:12:34:57", 9, 9);
	pt_close(&e);
	pt_open(&e, pins, &o);
	memcpy(p.macs[0], guest_mac, 6);
	p.macs[1][0] = 0x52;
	p.macs[1][1] = 0x54;
	p.macs[1][3] = 0xaa;
	p.macs[1][4] = 0xbb;
	p.macs[1][5] = 0xcc;
	p.nr_macs = 2;
	ck_assert_int_eq(pt_set(&e, "vm2", &p, &reply), 0);
	ck_assert_ptr_nonnull(strstr(reply.reason, "counting packets of"));
	ck_assert_ptr_nonnull(strstr(reply.reason, "macvtap0"));
	ck_assert_ptr_nonnull(strstr(reply.reason, "vnet3"));
	ck_assert_ptr_null(strstr(reply.reason, "eth0"));
	ck_assert_ptr_null(strstr(reply.reason, "vnet9"));
	/* 20,300 - 300 packets over a second, both directions, both
	 * interfaces: max. */
	netdev(root, "macvtap0", "52:54:00:12:34:56", 10100, 100);
	netdev(root, "vnet3", "fe:54:00:aa:bb:cc", 50, 10050);
	netdev(root, "eth0", "02:fc:00:00:00:01", 1 << 30, 7);
	e.now_ms += 1000;
	ck_assert_int_eq(vpwr_host_evaluate(e.h), 0);
	ck_assert_uint_eq(pt_freq(&e, 2), e.hi);
	/* The guest's NIC comes back as another macvtap: found again,
	 * counted afresh (no rate from the jump). */
	snprintf(path, sizeof(path), "%s/class/net/macvtap0", root);
	vpwr_test_rmtree(path);
	netdev(root, "macvtap1", "52:54:00:12:34:56", 5, 5);
	e.now_ms += 1000;
	ck_assert_int_eq(vpwr_host_evaluate(e.h), 0);
	ck_assert_uint_eq(pt_freq(&e, 2), e.hi);
	for (int i = 0; i < 3; i++) { /* then quiet: below min_pps */
		e.now_ms += 1000;
		ck_assert_int_eq(vpwr_host_evaluate(e.h), 0);
	}
	ck_assert_uint_eq(pt_freq(&e, 2), e.lo);

	/* No interface with the MAC, or no MAC at all: refused, saying why. */
	p.macs[0][5] = 0x99;
	p.macs[1][5] = 0x99;
	ck_assert_int_eq(pt_set(&e, "vm1", &p, &reply), -ENODEV);
	ck_assert_ptr_nonnull(strstr(reply.reason, "52:54:00:12:34:99"));
	ck_assert_ptr_nonnull(strstr(reply.reason, "/class/net"));
	memset(p.macs, 0, sizeof(p.macs));
	p.nr_macs = 0;
	ck_assert_int_eq(pt_set(&e, "vm1", &p, &reply), -EINVAL);
	ck_assert_ptr_nonnull(strstr(reply.reason, "MAC"));
	ck_assert_uint_eq(pt_freq(&e, 0), e.orig);
	vpwr_test_rmtree(root);
	free(root);
}
END_TEST

/* -------------------------------------------------------- BRANCH_RATIO */

/* One period of `branches` on `cpu`, `ppm` of them missed. */
static void branch_period(unsigned cpu, uint64_t branches, uint64_t ppm)
{
	e.branches[cpu] += branches;
	e.misses[cpu] += branches * ppm / 1000000;
}

static void branch_second(uint64_t ppm0, uint64_t ppm1)
{
	branch_period(3, 10000000, ppm0);
	branch_period(4, 10000000, ppm1);
	e.now_ms += 1000;
	ck_assert_int_eq(vpwr_host_evaluate(e.h), 0);
}

START_TEST(branch_ratio_per_vcpu)
{
	struct vpwr_policy p = pt_policy(VPWR_POLICY_BRANCH_RATIO);
	struct vpwr_msg reply;

	p.branch_ratio_ppm = 5000; /* 0.5 % */
	ck_assert_int_eq(pt_set(&e, "vm3", &p, &reply), 0);
	ck_assert_ptr_null(strstr(reply.reason, "not evaluate"));
	ck_assert(pt_timer_armed(e.h->retryfd));
	ck_assert_uint_eq(pt_freq(&e, 3), e.orig);
	/* Above the ratio: that vCPU's CPU up at once; the other, below,
	 * down after three samples. */
	branch_second(10000, 1000);
	ck_assert_uint_eq(pt_freq(&e, 3), e.hi);
	ck_assert_uint_eq(pt_freq(&e, 4), e.orig);
	branch_second(10000, 1000);
	branch_second(5000, 1000); /* at the ratio is not above it */
	ck_assert_uint_eq(pt_freq(&e, 3), e.hi);
	ck_assert_uint_eq(pt_freq(&e, 4), e.lo);
	branch_second(100, 1000);
	ck_assert_uint_eq(pt_freq(&e, 3), e.hi);
	branch_second(100, 1000);
	ck_assert_uint_eq(pt_freq(&e, 3), e.lo);
	/* An idle CPU (under 100 branches a ms) counts as below, whatever
	 * its ratio. */
	branch_second(10000, 10000);
	ck_assert_uint_eq(pt_freq(&e, 4), e.hi);
	for (int i = 0; i < 3; i++) {
		branch_period(4, 1000, 500000);
		e.now_ms += 1000;
		ck_assert_int_eq(vpwr_host_evaluate(e.h), 0);
	}
	ck_assert_uint_eq(pt_freq(&e, 4), e.lo);
	ck_assert_int_eq(pt_request(&e, "vm3", VPWR_MSG_POLICY_REMOVE,
				    VPWR_POLICY_BRANCH_RATIO), 0);
	ck_assert_uint_eq(pt_freq(&e, 3), e.orig);
	ck_assert_uint_eq(pt_freq(&e, 4), e.orig);
	pt_assert_idle(&e);
}
END_TEST

START_TEST(branch_ratio_default_threshold)
{
	struct vpwr_policy p = pt_policy(VPWR_POLICY_BRANCH_RATIO);

	/* 0: DPDK's default, 0.1 %. */
	vpwr_cpuset_set(&p.vcpus, 1);
	ck_assert_int_eq(pt_set(&e, "vm3", &p, NULL), 0);
	branch_second(0, 1001);
	ck_assert_uint_eq(pt_freq(&e, 4), e.hi);
	ck_assert_uint_eq(pt_freq(&e, 3), e.orig); /* vCPU0 not named */
}
END_TEST

static bool perf_branches_work(void)
{
	struct perf_event_attr a;
	long fd;

	memset(&a, 0, sizeof(a));
	a.type = PERF_TYPE_HARDWARE;
	a.size = sizeof(a);
	a.config = PERF_COUNT_HW_BRANCH_MISSES;
	fd = syscall(SYS_perf_event_open, &a, -1, 3, -1, 0);
	if (fd >= 0)
		close((int)fd);
	return fd >= 0;
}

START_TEST(branch_ratio_without_counters_is_refused)
{
	VPWR_OPTS(vpwr_host_opts, o, .branch_fn = (vpwr_branch_fn)(intptr_t)-1);
	struct vpwr_policy p = pt_policy(VPWR_POLICY_BRANCH_RATIO);
	struct vpwr_msg reply;
	int rc;

	pt_close(&e);
	pt_open(&e, pins, &o);
	rc = pt_set(&e, "vm3", &p, &reply);
	if (perf_branches_work()) {
		/* A host with a PMU: the kernel's counters. */
		ck_assert_int_eq(rc, 0);
		ck_assert_int_eq(pt_request(&e, "vm3", VPWR_MSG_RELEASE, 0), 0);
	} else {
		/* A VM without one, as here: a NACK that says why, rather
		 * than a policy held and never evaluated. */
		ck_assert_int_eq(rc, -VPWR_E_UNSUPPORTED);
		ck_assert_ptr_nonnull(strstr(reply.reason, "perf_event_open"));
		ck_assert_ptr_nonnull(strstr(reply.reason, "BRANCH_RATIO"));
		for (unsigned c = 0; c < PT_CPUS; c++)
			ck_assert_int_eq(e.h->pcpu[c].perf_fds[0], -1);
	}
	pt_assert_idle(&e);
}
END_TEST

static Suite *traffic_suite(void)
{
	Suite *s = suite_create("host_traffic");
	TCase *tc = tcase_create("traffic");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, thresholds_and_hysteresis);
	tcase_add_test(tc, rates_over_the_time_that_passed);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, traffic_precedes_workload);
	tcase_add_test(tc, the_operator_sees_rates);
	tcase_add_test(tc, sampled_on_the_period_timer);
	tcase_add_test(tc, netdev_statistics_by_mac);
	tcase_add_test(tc, branch_ratio_per_vcpu);
	tcase_add_test(tc, branch_ratio_default_threshold);
	tcase_add_test(tc, branch_ratio_without_counters_is_refused);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(traffic_suite());
}
