/*
 * TIME policies: busy hours at max, quiet hours at min, traffic hours run
 * the traffic rule, other hours leave the CPUs alone; evaluated at hour
 * boundaries of a configurable zone (with an injected clock through
 * vpwr_host_evaluate(), and on the host's own realtime timer), correct at
 * midnight; and a host arms timers only while a policy needs them.
 */
#include <stdlib.h>
#include <unistd.h>

#include "policy_testutil.h"

/* vm1: vCPUs on 0, 1, 2; vm2 and vm3: vCPU0 on 3. */
static const char *pins =
	"{\"domains\": {"
	" \"vm1\": {\"vcpus\": [\"0\", \"1\", \"2\"]},"
	" \"vm2\": {\"vcpus\": [\"3\"]},"
	" \"vm3\": {\"vcpus\": [\"3\"]}}}";

static struct pt_env e;

static void setup(void)
{
	pt_open(&e, pins, NULL);
}

static void teardown(void)
{
	pt_close(&e);
}

/* Move the clock to day `day`, h:m:s.ms UTC and evaluate. */
static void at(int day, int h, int m, int s, int ms)
{
	e.now_ms = PT_DAY0_MS + day * 24 * PT_HOUR_MS + h * PT_HOUR_MS +
		   m * 60000LL + s * 1000LL + ms;
	ck_assert_int_eq(vpwr_host_evaluate(e.h), 0);
}

static void assert_vm1(uint32_t khz)
{
	for (unsigned c = 0; c < 3; c++)
		ck_assert_uint_eq(pt_freq(&e, c), khz);
}

START_TEST(busy_quiet_and_other_hours)
{
	struct vpwr_policy p = pt_policy(VPWR_POLICY_TIME);
	struct vpwr_msg reply;

	p.busy_hours = pt_hours(9, 17);
	p.quiet_hours = pt_hours(0, 6) | pt_hours(22, 24);
	at(0, 8, 59, 59, 999);
	ck_assert_int_eq(pt_set(&e, "vm1", &p, &reply), 0);
	ck_assert_ptr_null(strstr(reply.reason, "not evaluate"));
	assert_vm1(e.orig); /* hour 8: neither busy nor quiet */
	at(0, 9, 0, 0, 0);
	assert_vm1(e.hi);
	at(0, 16, 59, 59, 999);
	assert_vm1(e.hi);
	at(0, 17, 0, 0, 0);
	assert_vm1(e.orig);
	at(0, 22, 0, 0, 0);
	assert_vm1(e.lo);
	at(0, 23, 59, 59, 999);
	assert_vm1(e.lo);
	at(1, 0, 0, 0, 0); /* past midnight: hour 0 is quiet too */
	assert_vm1(e.lo);
	at(1, 6, 0, 0, 0);
	assert_vm1(e.orig);
	ck_assert_uint_eq(pt_freq(&e, 3), e.orig); /* other domains: alone */
}
END_TEST

START_TEST(midnight_is_hour_zero_only_when_named)
{
	struct vpwr_policy p = pt_policy(VPWR_POLICY_TIME);

	/* DPDK reads the unused slots of its hour arrays as hour 0, so every
	 * policy turns busy at midnight.  Here only the named hours count. */
	p.busy_hours = 1u << 23;
	at(0, 23, 30, 0, 0);
	ck_assert_int_eq(pt_set(&e, "vm1", &p, NULL), 0);
	assert_vm1(e.hi);
	at(0, 23, 59, 59, 999);
	assert_vm1(e.hi);
	at(1, 0, 0, 0, 0);
	assert_vm1(e.orig);
	at(1, 0, 59, 0, 0);
	assert_vm1(e.orig);

	p.busy_hours = 1u << 0;
	ck_assert_int_eq(pt_set(&e, "vm1", &p, NULL), 0);
	assert_vm1(e.hi);
	at(1, 1, 0, 0, 0);
	assert_vm1(e.orig);
	at(1, 23, 59, 59, 999);
	assert_vm1(e.orig);
	at(2, 0, 0, 0, 0);
	assert_vm1(e.hi);
}
END_TEST

START_TEST(removal_and_release_restore)
{
	struct vpwr_policy p = pt_policy(VPWR_POLICY_TIME);

	p.busy_hours = pt_hours(0, 24);
	ck_assert_int_eq(pt_set(&e, "vm1", &p, NULL), 0);
	assert_vm1(e.hi);
	ck_assert_int_eq(pt_request(&e, "vm1", VPWR_MSG_POLICY_REMOVE,
				    VPWR_POLICY_TIME), 0);
	assert_vm1(e.orig);
	ck_assert_int_eq(pt_set(&e, "vm1", &p, NULL), 0);
	assert_vm1(e.hi);
	ck_assert_int_eq(pt_request(&e, "vm1", VPWR_MSG_RELEASE, 0), 0);
	assert_vm1(e.orig);
	pt_assert_idle(&e);
}
END_TEST

/* At a boundary every domain that changes is decided together: on a
 * shared CPU the arbitration mode picks the winner as for requests. */
static void shared_cpu_at_nine(unsigned mode, uint32_t khz, const char *winner)
{
	VPWR_OPTS(vpwr_host_opts, o, .mode = mode);
	struct vpwr_policy busy = pt_policy(VPWR_POLICY_TIME);
	struct vpwr_policy quiet = pt_policy(VPWR_POLICY_TIME);
	struct vpwr_host_cpu_info info;

	pt_close(&e);
	pt_open(&e, pins, &o);
	busy.busy_hours = pt_hours(9, 17);
	quiet.quiet_hours = pt_hours(9, 17);
	at(0, 8, 0, 0, 0);
	ck_assert_int_eq(pt_set(&e, "vm2", &busy, NULL), 0);
	ck_assert_int_eq(pt_set(&e, "vm3", &quiet, NULL), 0);
	ck_assert_uint_eq(pt_freq(&e, 3), e.orig);
	at(0, 9, 0, 0, 0);
	ck_assert_uint_eq(pt_freq(&e, 3), khz);
	ck_assert_int_eq(vpwr_host_cpu_info(e.h, 3, &info), 0);
	ck_assert_str_eq(info.winner, winner);
	ck_assert_uint_eq(info.nr_requests, 2);
	at(0, 17, 0, 0, 0);
	ck_assert_uint_eq(pt_freq(&e, 3), e.orig);
	ck_assert_int_eq(vpwr_host_cpu_info(e.h, 3, &info), 0);
	ck_assert_uint_eq(info.nr_requests, 0);
}

START_TEST(shared_cpu_at_the_boundary)
{
	shared_cpu_at_nine(VPWR_ARB_PERFORMANCE, e.hi, "vm2");
	shared_cpu_at_nine(VPWR_ARB_POWERSAVE, e.lo, "vm3");
}
END_TEST

START_TEST(timers_only_while_needed)
{
	struct vpwr_policy t = pt_policy(VPWR_POLICY_TIME);
	struct vpwr_policy w = pt_policy(VPWR_POLICY_WORKLOAD);

	pt_assert_idle(&e); /* no policy */
	w.workload = VPWR_WORKLOAD_HIGH;
	ck_assert_int_eq(pt_set(&e, "vm1", &w, NULL), 0);
	pt_assert_idle(&e); /* WORKLOAD needs no clock */
	t.busy_hours = pt_hours(9, 17);
	e.now_ms = PT_DAY0_MS + 10 * PT_HOUR_MS + 15 * 60000;
	ck_assert_int_eq(pt_set(&e, "vm2", &t, NULL), 0);
	ck_assert_int_eq(pt_set(&e, "vm3", &t, NULL), 0);
	/* The next boundary, 11:00, is 45 minutes away by the host's
	 * clock; nothing is sampled. */
	ck_assert_double_gt(pt_time_timer_in(&e), 45 * 60 - 5);
	ck_assert_double_le(pt_time_timer_in(&e), 45 * 60);
	ck_assert(!pt_timer_armed(e.h->retryfd));
	ck_assert_int_eq(pt_request(&e, "vm2", VPWR_MSG_POLICY_REMOVE, 0), 0);
	ck_assert(pt_timer_armed(e.h->timefd)); /* vm3 still has one */
	ck_assert_int_eq(pt_request(&e, "vm3", VPWR_MSG_RELEASE, 0), 0);
	pt_assert_idle(&e);
	ck_assert_uint_eq(pt_freq(&e, 0), e.hi); /* the WORKLOAD stays */
}
END_TEST

START_TEST(clock_jumps)
{
	struct vpwr_policy p = pt_policy(VPWR_POLICY_TIME);

	/* When the wall clock is set, the kernel cancels the realtime timer
	 * (ECANCELED) and the host's handler evaluates again from the new
	 * time; here the handler runs as the cancel would make it run. */
	p.busy_hours = pt_hours(9, 17);
	e.now_ms = PT_DAY0_MS + 10 * PT_HOUR_MS + 30 * 60000;
	ck_assert_int_eq(pt_set(&e, "vm1", &p, NULL), 0);
	assert_vm1(e.hi);
	e.now_ms = PT_DAY0_MS + 7 * PT_HOUR_MS + 15 * 60000; /* set back */
	host_policy_time_event(e.h);
	assert_vm1(e.orig);
	ck_assert_double_gt(pt_time_timer_in(&e), 45 * 60 - 5);
	ck_assert_double_le(pt_time_timer_in(&e), 45 * 60);
	e.now_ms += 3 * 24 * PT_HOUR_MS + 5 * PT_HOUR_MS; /* days ahead */
	host_policy_time_event(e.h);
	assert_vm1(e.hi);
	ck_assert_double_le(pt_time_timer_in(&e), 45 * 60);
}
END_TEST

/* A clock that starts at e.now_ms and runs with the real one. */
static int64_t anchor_ms;

static int64_t running_now(void *ud)
{
	return ((struct pt_env *)ud)->now_ms +
	       ((int64_t)vpwr_test_now_ms() - anchor_ms);
}

START_TEST(the_timer_fires_at_the_boundary)
{
	VPWR_OPTS(vpwr_host_opts, o, .now_fn = running_now, .now_userdata = &e);
	struct vpwr_policy p = pt_policy(VPWR_POLICY_TIME);
	uint64_t t0;
	int events = 0;

	pt_close(&e);
	pt_open(&e, pins, &o);
	/* 300 ms before 11:00 by the host's clock. */
	e.now_ms = PT_DAY0_MS + 11 * PT_HOUR_MS - 300;
	anchor_ms = (int64_t)vpwr_test_now_ms();
	p.busy_hours = 1u << 11;
	ck_assert_int_eq(pt_set(&e, "vm1", &p, NULL), 0);
	assert_vm1(e.orig);
	ck_assert_double_le(pt_time_timer_in(&e), 0.3);
	t0 = vpwr_test_now_ms();
	while (pt_freq(&e, 0) != e.hi && vpwr_test_now_ms() - t0 < 10000)
		events += vpwr_host_dispatch(e.h, 1000);
	assert_vm1(e.hi);
	ck_assert_int_ge(events, 1);
	ck_assert_uint_ge(vpwr_test_now_ms() - t0, 250);
	/* Armed again for 12:00. */
	ck_assert_double_gt(pt_time_timer_in(&e), 3590);
	ck_assert_double_le(pt_time_timer_in(&e), 3600);
}
END_TEST

/* Busy hour 9 local time: before and after it, in `zone`, given the UTC
 * hour and minute at which local 09:00 falls. */
static void busy_at_nine(const char *zone, int utc_h, int utc_m)
{
	VPWR_OPTS(vpwr_host_opts, o, .time_zone = zone);
	struct vpwr_policy p = pt_policy(VPWR_POLICY_TIME);

	pt_close(&e);
	pt_open(&e, pins, &o);
	p.busy_hours = 1u << 9;
	e.now_ms = PT_DAY0_MS + utc_h * PT_HOUR_MS + utc_m * 60000LL - 1;
	ck_assert_int_eq(pt_set(&e, "vm1", &p, NULL), 0);
	ck_assert_msg(pt_freq(&e, 0) == e.orig, "%s: busy before 09:00", zone);
	at(0, utc_h, utc_m, 0, 0);
	ck_assert_msg(pt_freq(&e, 0) == e.hi, "%s: not busy at 09:00", zone);
	at(0, utc_h + 1, utc_m, 0, 0);
	ck_assert_msg(pt_freq(&e, 0) == e.orig, "%s: busy at 10:00", zone);
}

START_TEST(time_zones)
{
	busy_at_nine("UTC", 9, 0);
	busy_at_nine("+05:30", 3, 30);
	busy_at_nine("-08:00", 17, 0);
	busy_at_nine("+0545", 3, 15);
	if (access("/usr/share/zoneinfo/Europe/Berlin", R_OK) == 0) {
		busy_at_nine("Europe/Berlin", 8, 0);   /* CET in January */
		busy_at_nine("Asia/Kolkata", 3, 30);
	}
	/* The process's local time, as TZ says (the test sets it; the
	 * library only reads it). */
	setenv("TZ", "<-03>3", 1);
	tzset();
	busy_at_nine(PT_TZ_PROCESS, 12, 0);
	busy_at_nine("local", 12, 0);
	unsetenv("TZ");
	tzset();
}
END_TEST

START_TEST(unknown_time_zone_is_refused)
{
	static const char *const bad[] = { "Mars/Olympus_Mons", "+25:00",
					   "UTC+1", "../../etc/passwd" };

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		VPWR_OPTS(vpwr_host_opts, o, .backend = e.th.b,
			  .resolver = e.th.r, .time_zone = bad[i]);
		struct vpwr_host *h = (struct vpwr_host *)1;

		ck_assert_int_eq(vpwr_host_new(&o, &h), -EINVAL);
		ck_assert_ptr_null(h);
	}
}
END_TEST

START_TEST(traffic_hours_run_the_traffic_policy)
{
	struct vpwr_policy t = pt_policy(VPWR_POLICY_TIME);
	struct vpwr_policy tr = pt_policy(VPWR_POLICY_TRAFFIC);

	t.busy_hours = pt_hours(9, 12);
	t.traffic_hours = pt_hours(12, 18);
	tr.min_pps = 1000;
	tr.avg_pps = 10000;
	tr.max_pps = 100000;
	at(0, 10, 0, 0, 0);
	ck_assert_int_eq(pt_set(&e, "vm1", &t, NULL), 0);
	ck_assert_int_eq(pt_set(&e, "vm1", &tr, NULL), 0);
	assert_vm1(e.hi);
	/* Busy: the rate decides nothing, so nothing is sampled. */
	ck_assert_uint_eq(e.h->sample_due_ns, 0);
	ck_assert(!pt_timer_armed(e.h->retryfd));
	at(0, 12, 0, 0, 0); /* a traffic hour: the first count */
	ck_assert_uint_ne(e.h->sample_due_ns, 0);
	assert_vm1(e.orig);
	e.packets += 50000; /* 50,000 packets/s: medium */
	at(0, 12, 0, 1, 0);
	assert_vm1(e.mid);
	e.packets += 500000;
	at(0, 12, 0, 2, 0);
	assert_vm1(e.hi);
	/* 18:00 is a TIME hour of neither kind: the TRAFFIC policy runs in
	 * the traffic hours only, and sampling stops. */
	at(0, 18, 0, 0, 0);
	assert_vm1(e.orig);
	ck_assert_uint_eq(e.h->sample_due_ns, 0);
	/* Without traffic hours, TRAFFIC runs whenever TIME does not
	 * decide. */
	t.traffic_hours = 0;
	ck_assert_int_eq(pt_set(&e, "vm1", &t, NULL), 0);
	e.packets += 500000;
	at(0, 18, 0, 1, 0);
	assert_vm1(e.hi);
	at(1, 9, 0, 0, 0); /* busy */
	assert_vm1(e.hi);
	ck_assert_int_eq(pt_request(&e, "vm1", VPWR_MSG_RELEASE, 0), 0);
	assert_vm1(e.orig);
	pt_assert_idle(&e);
}
END_TEST

START_TEST(time_with_its_own_thresholds)
{
	/* DPDK's TIME packet carries the traffic profile for its traffic
	 * hours, with no TRAFFIC policy beside it. */
	struct vpwr_policy t = pt_policy(VPWR_POLICY_TIME);

	t.traffic_hours = pt_hours(0, 24);
	t.min_pps = 100;
	t.avg_pps = 1000;
	t.max_pps = 10000;
	at(0, 3, 0, 0, 0);
	ck_assert_int_eq(pt_set(&e, "vm2", &t, NULL), 0);
	ck_assert_uint_eq(e.traffic_calls, 1);
	ck_assert_str_eq(e.traffic_domain, "vm2");
	e.packets += 20000;
	at(0, 3, 0, 1, 0);
	ck_assert_uint_eq(pt_freq(&e, 3), e.hi);
	e.packets += 10;
	at(0, 3, 0, 2, 0); /* 10/s, below min_pps: min at once */
	ck_assert_uint_eq(pt_freq(&e, 3), e.lo);
}
END_TEST

static Suite *time_suite(void)
{
	Suite *s = suite_create("host_time");
	TCase *tc = tcase_create("time");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, busy_quiet_and_other_hours);
	tcase_add_test(tc, midnight_is_hour_zero_only_when_named);
	tcase_add_test(tc, removal_and_release_restore);
	tcase_add_test(tc, shared_cpu_at_the_boundary);
	tcase_add_test(tc, timers_only_while_needed);
	tcase_add_test(tc, the_timer_fires_at_the_boundary);
	tcase_add_test(tc, clock_jumps);
	tcase_add_test(tc, time_zones);
	tcase_add_test(tc, unknown_time_zone_is_refused);
	tcase_add_test(tc, traffic_hours_run_the_traffic_policy);
	tcase_add_test(tc, time_with_its_own_thresholds);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(time_suite());
}
