/*
 * The simulator's wall-clock mode: virtual time follows real time, and each
 * interval is charged to the frequency that held during it.
 */
#include <errno.h>
#include <time.h>

#include "libvpwr/libvpwr.h"
#include "testutil.h"

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static struct vpwr_backend *open_sim(int wallclock)
{
	VPWR_OPTS(vpwr_sim_opts, so, .nr_cpus = 1, .wallclock = wallclock);
	VPWR_OPTS(vpwr_backend_opts, bo, .sim = &so);
	struct vpwr_backend *b;

	ck_assert_int_eq(vpwr_backend_open("sim", &bo, &b), 0);
	return b;
}

START_TEST(virtual_clock_stands_still_by_default)
{
	struct vpwr_backend *b = open_sim(0);
	uint64_t ns = 1;
	double j = 1;

	sleep_ms(30);
	ck_assert_int_eq(vpwr_sim_now(b, &ns), 0);
	ck_assert_uint_eq(ns, 0);
	ck_assert_int_eq(vpwr_sim_energy(b, 0, &j), 0);
	ck_assert(j == 0.0);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(wallclock_charges_each_interval_to_its_frequency)
{
	struct vpwr_backend *b = open_sim(1);
	uint64_t ns, at_max, at_min;
	uint32_t lo, hi;
	double j, w_hi, w_lo;

	ck_assert_int_eq(vpwr_backend_get_limits(b, 0, &lo, &hi), 0);
	ck_assert_int_eq(vpwr_backend_get_freq(b, 0, &hi), 0);
	sleep_ms(60);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, lo), 0);
	sleep_ms(60);
	/* Each read brings the clock up to date: read the energy first, and
	 * allow for the few microseconds the later reads add at `lo`. */
	ck_assert_int_eq(vpwr_sim_energy(b, 0, &j), 0);
	ck_assert_int_eq(vpwr_sim_residency(b, 0, hi, &at_max), 0);
	ck_assert_int_eq(vpwr_sim_residency(b, 0, lo, &at_min), 0);
	ck_assert_int_eq(vpwr_sim_now(b, &ns), 0);
	ck_assert_uint_ge(at_max, 60000000u);
	ck_assert_uint_ge(at_min, 60000000u);
	ck_assert_uint_ge(ns, at_max + at_min);
	ck_assert_uint_lt(ns - (at_max + at_min), 10000000u);
	ck_assert_int_eq(vpwr_sim_power(b, 0, hi, 1.0, &w_hi), 0);
	ck_assert_int_eq(vpwr_sim_power(b, 0, lo, 1.0, &w_lo), 0);
	ck_assert(w_hi > w_lo);
	ck_assert_double_eq_tol(j, w_hi * at_max / 1e9 + w_lo * at_min / 1e9,
				w_lo * 0.01);
	ck_assert(j > w_hi * at_max / 1e9);
	vpwr_backend_free(b);
}
END_TEST

static Suite *clock_suite(void)
{
	Suite *s = suite_create("sim_clock");
	TCase *tc = tcase_create("clock");

	tcase_add_test(tc, virtual_clock_stands_still_by_default);
	tcase_add_test(tc, wallclock_charges_each_interval_to_its_frequency);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(clock_suite());
}
