/*
 * The simulator's work model (sim.h): offered work, capacity
 * work_per_ghz * f, backlog, drops past max_backlog, the wait integral,
 * and power following served / capacity.  Expected figures are worked out
 * here from sim.h's words, by hand for simple cases and by a fine-stepped
 * reference simulation for a long script; the library integrates each
 * interval in closed form.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "backend/backend_internal.h"
#include "libvpwr/backend.h"
#include "libvpwr/error.h"
#include "libvpwr/sim.h"
#include "testutil.h"

#define GHZ1 1000000u
#define GHZ2 2000000u
#define WPG 1000.0    /* work_per_ghz of the small machine */
#define QMAX 500.0    /* its max_backlog */
#define SEC 1000000000ull

static const uint32_t table[] = { GHZ1, GHZ2 };

/* sim.h's power model, written out again with the default coefficients. */
static double model(double khz, double fmin_khz, double fmax_khz, double u)
{
	double f = khz / 1e6;
	double v = 0.7 + (1.2 - 0.7) * (khz - fmin_khz) / (fmax_khz - fmin_khz);

	return 1.0 + 3.0 * f * v * v * (0.3 + 0.7 * u);
}

/* Power of the small machine (1..2 GHz table) at khz and u. */
static double pw(double khz, double u)
{
	return model(khz, GHZ1, GHZ2, u);
}

/* Two CPUs at 1 and 2 GHz, 1000 units/s per GHz, at most 500 queued. */
static struct vpwr_backend *open_small(void)
{
	VPWR_OPTS(vpwr_sim_opts, so, .nr_cpus = 2, .freqs_khz = table,
		  .nr_freqs = 2, .work_per_ghz = WPG, .max_backlog = QMAX);
	VPWR_OPTS(vpwr_backend_opts, o, .sim = &so);
	struct vpwr_backend *b = NULL;

	ck_assert_int_eq(vpwr_backend_open("sim", &o, &b), 0);
	return b;
}

static struct vpwr_sim_work_stats stats(struct vpwr_backend *b, unsigned cpu)
{
	struct vpwr_sim_work_stats st;

	memset(&st, 0xa5, sizeof(st));
	ck_assert_int_eq(vpwr_sim_work_stats(b, cpu, &st), 0);
	return st;
}

static double energy(struct vpwr_backend *b, unsigned cpu)
{
	double j = -1;

	ck_assert_int_eq(vpwr_sim_energy(b, cpu, &j), 0);
	return j;
}

#define TOL 1e-9

static void stats_eq(const struct vpwr_sim_work_stats *st, double offered,
		     double served, double dropped, double backlog,
		     double wait)
{
	ck_assert_double_eq_tol(st->offered, offered, TOL * (1 + offered));
	ck_assert_double_eq_tol(st->served, served, TOL * (1 + served));
	ck_assert_double_eq_tol(st->dropped, dropped, TOL * (1 + dropped));
	ck_assert_double_eq_tol(st->backlog, backlog, TOL * (1 + backlog));
	ck_assert_double_eq_tol(st->wait_unit_s, wait, TOL * (1 + wait));
}

/* ------------------------------------------------------- hand-worked */

START_TEST(test_idle_until_offered)
{
	struct vpwr_backend *b = open_small();
	struct vpwr_sim_work_stats st = stats(b, 0);

	/* Nothing offered: all zero, reserved too, and the power is the
	 * poll-mode default utilisation (1.0). */
	stats_eq(&st, 0, 0, 0, 0, 0);
	for (size_t i = 0; i < 8; i++)
		ck_assert_uint_eq(st.reserved_[i], 0);
	ck_assert_int_eq(vpwr_sim_advance(b, 2 * SEC), 0);
	st = stats(b, 0);
	stats_eq(&st, 0, 0, 0, 0, 0);
	ck_assert_double_eq_tol(energy(b, 0), pw(GHZ2, 1.0) * 2, TOL);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_under_capacity)
{
	struct vpwr_backend *b = open_small();
	struct vpwr_sim_work_stats st;

	/* 500/s against 2000/s: everything served as it comes, a quarter
	 * busy, so power drops from the poll-mode 1.0 to u = 0.25. */
	ck_assert_int_eq(vpwr_sim_set_offered(b, 0, 500), 0);
	ck_assert_int_eq(vpwr_sim_advance(b, 4 * SEC), 0);
	st = stats(b, 0);
	stats_eq(&st, 2000, 2000, 0, 0, 0);
	ck_assert_double_eq_tol(energy(b, 0), pw(GHZ2, 0.25) * 4, TOL);
	ck_assert_double_lt(energy(b, 0), energy(b, 1));
	/* The other CPU saw none of it. */
	st = stats(b, 1);
	stats_eq(&st, 0, 0, 0, 0, 0);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_overload_fills_and_drops)
{
	struct vpwr_backend *b = open_small();
	struct vpwr_sim_work_stats st;

	/* 1500/s against 1000/s: the backlog grows at 500/s, reaches 500
	 * after 1 s, then 500/s is dropped.  Wait: the triangle 500*1/2, then
	 * 500 for 2 s. */
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, GHZ1), 0);
	ck_assert_int_eq(vpwr_sim_set_offered(b, 0, 1500), 0);
	ck_assert_int_eq(vpwr_sim_advance(b, 3 * SEC), 0);
	st = stats(b, 0);
	stats_eq(&st, 4500, 3000, 1000, 500, 250 + 1000);
	ck_assert_double_eq_tol(st.offered, st.served + st.dropped + st.backlog,
				TOL * st.offered);
	ck_assert_double_eq_tol(energy(b, 0), pw(GHZ1, 1.0) * 3, TOL);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_backlog_below_bound)
{
	struct vpwr_backend *b = open_small();
	struct vpwr_sim_work_stats st;

	/* 0.4 s of 500/s excess: 200 queued, nothing dropped. */
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, GHZ1), 0);
	ck_assert_int_eq(vpwr_sim_set_offered(b, 0, 1500), 0);
	ck_assert_int_eq(vpwr_sim_advance(b, 400000000u), 0);
	st = stats(b, 0);
	stats_eq(&st, 600, 400, 0, 200, 200 * 0.4 / 2);
	/* Exactly at capacity: the backlog holds and keeps waiting. */
	ck_assert_int_eq(vpwr_sim_set_offered(b, 0, 1000), 0);
	ck_assert_int_eq(vpwr_sim_advance(b, SEC), 0);
	st = stats(b, 0);
	stats_eq(&st, 1600, 1400, 0, 200, 40 + 200);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_drain_mid_interval)
{
	struct vpwr_backend *b = open_small();
	struct vpwr_sim_work_stats st;
	double e0, e1;

	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, GHZ1), 0);
	ck_assert_int_eq(vpwr_sim_set_offered(b, 0, 1500), 0);
	ck_assert_int_eq(vpwr_sim_advance(b, 3 * SEC), 0);
	e0 = energy(b, 0);
	/* To 2 GHz (2000/s): the 500 queued drain at 500/s, gone after 1 s
	 * of the 3; then 1500/s is served as it comes (u = 0.75). */
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, GHZ2), 0);
	ck_assert_int_eq(vpwr_sim_advance(b, 3 * SEC), 0);
	st = stats(b, 0);
	stats_eq(&st, 9000, 3000 + 2000 + 3000, 1000, 0, 1250 + 250);
	e1 = energy(b, 0) - e0;
	ck_assert_double_eq_tol(e1, pw(GHZ2, 1.0) * 1 + pw(GHZ2, 0.75) * 2,
				TOL);
	/* Which is the interval's served / capacity: 5000 / 6000. */
	ck_assert_double_eq_tol(e1, pw(GHZ2, 5000.0 / 6000.0) * 3, TOL);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_drain_with_nothing_offered)
{
	struct vpwr_backend *b = open_small();
	struct vpwr_sim_work_stats st;
	double e0, e1;

	ck_assert_int_eq(vpwr_backend_set_freq(b, 1, GHZ1), 0);
	ck_assert_int_eq(vpwr_sim_set_offered(b, 1, 1500), 0);
	ck_assert_int_eq(vpwr_sim_advance(b, SEC), 0);
	e0 = energy(b, 1);
	/* Offer stops with 500 queued: busy 0.5 s at 1000/s, then the CPU
	 * is back at its own utilisation. */
	ck_assert_int_eq(vpwr_sim_set_offered(b, 1, 0), 0);
	ck_assert_int_eq(vpwr_sim_set_util(b, 1, 0.2), 0);
	ck_assert_int_eq(vpwr_sim_advance(b, 2 * SEC), 0);
	st = stats(b, 1);
	stats_eq(&st, 1500, 1000 + 500, 0, 0, 250 + 500 * 0.5 / 2);
	e1 = energy(b, 1) - e0;
	ck_assert_double_eq_tol(e1, pw(GHZ1, 1.0) * 0.5 + pw(GHZ1, 0.2) * 1.5,
				TOL);
	/* Idle from then on. */
	ck_assert_int_eq(vpwr_sim_advance(b, SEC), 0);
	ck_assert_double_eq_tol(energy(b, 1) - e0 - e1, pw(GHZ1, 0.2), TOL);
	st = stats(b, 1);
	stats_eq(&st, 1500, 1500, 0, 0, 375);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_defaults)
{
	VPWR_OPTS(vpwr_sim_opts, so, .nr_cpus = 1);
	VPWR_OPTS(vpwr_backend_opts, o, .sim = &so);
	struct vpwr_backend *b = NULL;
	struct vpwr_sim_work_stats st;

	/* Defaults: 1e6 units/s per GHz (2.4e6/s at the initial 2.4 GHz),
	 * at most 1e6 queued.  3.4e6/s fills the backlog in exactly 1 s. */
	ck_assert_int_eq(vpwr_backend_open("sim", &o, &b), 0);
	ck_assert_int_eq(vpwr_sim_set_offered(b, 0, 3.4e6), 0);
	ck_assert_int_eq(vpwr_sim_advance(b, 2 * SEC), 0);
	st = stats(b, 0);
	stats_eq(&st, 6.8e6, 4.8e6, 1e6, 1e6, 0.5e6 + 1e6);
	vpwr_backend_free(b);
}
END_TEST

/* ---------------------------------------------------- a long script */

/* What sim.h describes, stepped finely: arrivals, then service up to the
 * capacity of the step, then drops past the bound. */
struct ref {
	double offered, served, dropped, backlog, wait, energy;
};

static void ref_run(struct ref *r, double per_s, double khz, double util,
		    double secs)
{
	const double h = 1e-5;
	double cap = WPG * khz / 1e6;

	for (long i = 0, n = lround(secs / h); i < n; i++) {
		bool active = per_s > 0 || r->backlog > 0;
		double serve;

		r->offered += per_s * h;
		r->backlog += per_s * h;
		serve = fmin(r->backlog, cap * h);
		r->served += serve;
		r->backlog -= serve;
		if (r->backlog > QMAX) {
			r->dropped += r->backlog - QMAX;
			r->backlog = QMAX;
		}
		r->wait += r->backlog * h;
		r->energy += pw(khz, active ? serve / (cap * h) : util) * h;
	}
}

/* Offered rates (per s) and frequencies for 100 ms each. */
static const struct step {
	double per_s;
	uint32_t khz;
} script[] = {
	{ 1700, GHZ1 }, { 1700, GHZ1 }, { 2600, GHZ2 }, { 300, GHZ2 },
	{ 0, GHZ2 },    { 0, GHZ1 },    { 2400, GHZ1 }, { 2400, GHZ1 },
	{ 2400, GHZ1 }, { 2400, GHZ1 }, { 2400, GHZ1 }, { 1900, GHZ2 },
	{ 1100, GHZ2 }, { 1000, GHZ1 }, { 650, GHZ1 },  { 0, GHZ1 },
};

/* Play the script on cpu 0, advancing in steps of step_ns. */
static void play(struct vpwr_backend *b, uint64_t step_ns)
{
	for (size_t i = 0; i < VPWR_ARRAY_SIZE(script); i++) {
		ck_assert_int_eq(vpwr_sim_set_offered(b, 0, script[i].per_s),
				 0);
		ck_assert_int_eq(vpwr_backend_set_freq(b, 0, script[i].khz), 0);
		for (uint64_t t = 0; t < 100000000u; t += step_ns)
			if (vpwr_sim_advance(b, step_ns))
				ck_abort_msg("advance failed");
	}
}

START_TEST(test_script_against_reference)
{
	struct vpwr_backend *whole = open_small(), *fine = open_small();
	struct vpwr_sim_work_stats a, c;
	struct ref r = { 0 };
	double ea, ec;

	for (size_t i = 0; i < VPWR_ARRAY_SIZE(script); i++)
		ref_run(&r, script[i].per_s, script[i].khz, 1.0, 0.1);
	play(whole, 100000000u);
	play(fine, 1000000u);
	a = stats(whole, 0);
	c = stats(fine, 0);
	ea = energy(whole, 0);
	ec = energy(fine, 0);
	/* The script drops, queues and drains: it tests something. */
	ck_assert_double_gt(r.dropped, 100);
	ck_assert_double_gt(r.wait, 10);
	ck_assert_double_eq_tol(a.offered, r.offered, 1e-6 * r.offered);
	ck_assert_double_eq_tol(a.served, r.served, 1e-3 * r.served);
	ck_assert_double_eq_tol(a.dropped, r.dropped, 1e-3 * r.dropped);
	ck_assert_double_eq_tol(a.backlog, r.backlog, 1e-3 * (1 + r.backlog));
	ck_assert_double_eq_tol(a.wait_unit_s, r.wait, 1e-3 * r.wait);
	ck_assert_double_eq_tol(ea, r.energy, 1e-4 * r.energy);
	/* Exact per interval: 100 ms at once or in 1 ms steps agree to
	 * rounding, not to a step size. */
	ck_assert_double_eq_tol(c.served, a.served, 1e-9 * a.served);
	ck_assert_double_eq_tol(c.dropped, a.dropped, 1e-9 * a.dropped);
	ck_assert_double_eq_tol(c.wait_unit_s, a.wait_unit_s,
				1e-9 * a.wait_unit_s);
	ck_assert_double_eq_tol(c.backlog, a.backlog, 1e-9 * (1 + a.backlog));
	ck_assert_double_eq_tol(ec, ea, 1e-9 * ea);
	vpwr_backend_free(whole);
	vpwr_backend_free(fine);
}
END_TEST

START_TEST(test_deterministic)
{
	struct vpwr_backend *x = open_small(), *y = open_small();
	struct vpwr_sim_work_stats a, c;
	double ea, ec;

	play(x, 7000000u);
	play(y, 7000000u);
	a = stats(x, 0);
	c = stats(y, 0);
	ea = energy(x, 0);
	ec = energy(y, 0);
	ck_assert_mem_eq(&a, &c, sizeof(a));
	ck_assert_mem_eq(&ea, &ec, sizeof(ea));
	vpwr_backend_free(x);
	vpwr_backend_free(y);
}
END_TEST

/* ------------------------------------------------------ refusals */

static const struct vpwr_backend_ops other_ops = { .name = "other" };

START_TEST(test_refused)
{
	struct vpwr_backend *b = open_small();
	struct vpwr_backend other = { .ops = &other_ops };
	struct vpwr_sim_work_stats st;

	ck_assert_int_eq(vpwr_sim_set_offered(b, 0, 100), 0);
	ck_assert_int_eq(vpwr_sim_set_offered(b, 0, -1), -EINVAL);
	ck_assert_int_eq(vpwr_sim_set_offered(b, 0, NAN), -EINVAL);
	ck_assert_int_eq(vpwr_sim_set_offered(b, 0, -NAN), -EINVAL);
	ck_assert_int_eq(vpwr_sim_set_offered(b, 0, INFINITY), -EINVAL);
	ck_assert_int_eq(vpwr_sim_set_offered(b, 0, -INFINITY), -EINVAL);
	ck_assert_int_eq(vpwr_sim_set_offered(b, 2, 100), -EINVAL);
	ck_assert_int_eq(vpwr_sim_set_offered(NULL, 0, 100), -EINVAL);
	ck_assert_int_eq(vpwr_sim_set_offered(&other, 0, 100), -EINVAL);
	ck_assert_int_eq(vpwr_sim_work_stats(b, 2, &st), -EINVAL);
	ck_assert_int_eq(vpwr_sim_work_stats(b, 0, NULL), -EINVAL);
	ck_assert_int_eq(vpwr_sim_work_stats(NULL, 0, &st), -EINVAL);
	ck_assert_int_eq(vpwr_sim_work_stats(&other, 0, &st), -EINVAL);
	/* The refused calls left the rate of 100/s in place. */
	ck_assert_int_eq(vpwr_sim_advance(b, SEC), 0);
	st = stats(b, 0);
	stats_eq(&st, 100, 100, 0, 0, 0);
	vpwr_backend_free(b);
}
END_TEST

struct logbuf {
	char text[2048];
};

static void capture(enum vpwr_log_level level, const char *msg, void *ud)
{
	struct logbuf *lb = ud;
	size_t len = strlen(lb->text);

	(void)level;
	snprintf(lb->text + len, sizeof(lb->text) - len, "%s\n", msg);
}

START_TEST(test_opts_refused)
{
	static const struct {
		double wpg, qmax;
		const char *why;
	} cases[] = {
		{ -1, 0, "work_per_ghz" },  { NAN, 0, "work_per_ghz" },
		{ INFINITY, 0, "work_per_ghz" }, { 0, -5, "max_backlog" },
		{ 0, NAN, "max_backlog" },  { 0, INFINITY, "max_backlog" },
	};

	for (size_t i = 0; i < VPWR_ARRAY_SIZE(cases); i++) {
		struct logbuf lb = { { 0 } };
		VPWR_OPTS(vpwr_sim_opts, so, .work_per_ghz = cases[i].wpg,
			  .max_backlog = cases[i].qmax);
		VPWR_OPTS(vpwr_backend_opts, o, .sim = &so, .log_fn = capture,
			  .log_userdata = &lb);
		struct vpwr_backend *b = (struct vpwr_backend *)&lb;

		ck_assert_msg(vpwr_backend_open("sim", &o, &b) == -EINVAL,
			      "case %zu accepted", i);
		ck_assert_ptr_null(b);
		ck_assert_msg(strstr(lb.text, cases[i].why), "case %zu: %s", i,
			      lb.text);
	}
}
END_TEST

START_TEST(test_wallclock)
{
	VPWR_OPTS(vpwr_sim_opts, so, .nr_cpus = 1, .wallclock = 1);
	VPWR_OPTS(vpwr_backend_opts, o, .sim = &so);
	struct timespec ts = { 0, 30000000 };
	struct vpwr_backend *b = NULL;
	struct vpwr_sim_work_stats st;
	uint64_t now;

	/* Real time is charged to the rate that held during it. */
	ck_assert_int_eq(vpwr_backend_open("sim", &o, &b), 0);
	ck_assert_int_eq(vpwr_sim_set_offered(b, 0, 1000), 0);
	ck_assert_int_eq(vpwr_sim_now(b, &now), 0);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	ck_assert_int_eq(vpwr_sim_set_offered(b, 0, 0), 0);
	st = stats(b, 0);
	ck_assert_double_ge(st.offered, 1000 * 0.03);
	ck_assert_int_eq(vpwr_sim_now(b, &now), 0);
	ck_assert_double_le(st.offered, 1000 * (now / 1e9));
	ck_assert_double_eq(st.offered, st.served);
	vpwr_backend_free(b);
}
END_TEST

static Suite *work_suite(void)
{
	Suite *s = suite_create("sim_work");
	TCase *hand = tcase_create("hand");
	TCase *script_tc = tcase_create("script");
	TCase *bad = tcase_create("refused");

	tcase_add_test(hand, test_idle_until_offered);
	tcase_add_test(hand, test_under_capacity);
	tcase_add_test(hand, test_overload_fills_and_drops);
	tcase_add_test(hand, test_backlog_below_bound);
	tcase_add_test(hand, test_drain_mid_interval);
	tcase_add_test(hand, test_drain_with_nothing_offered);
	tcase_add_test(hand, test_defaults);
	suite_add_tcase(s, hand);
	tcase_add_test(script_tc, test_script_against_reference);
	tcase_add_test(script_tc, test_deterministic);
	tcase_add_test(script_tc, test_wallclock);
	suite_add_tcase(s, script_tc);
	tcase_add_test(bad, test_refused);
	tcase_add_test(bad, test_opts_refused);
	suite_add_tcase(s, bad);
	return s;
}

int main(void)
{
	return vpwr_test_run(work_suite());
}
