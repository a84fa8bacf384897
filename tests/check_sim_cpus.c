/*
 * The simulator's heterogeneous CPUs (opts.cpus: a table per CPU, or the
 * shared one), its EPP hint (kept per CPU, saved and restored, not part
 * of the power model), and CPUs that share a cpufreq policy
 * (opts.cpus_per_policy: a change to one is a change to all).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libvpwr/backend.h"
#include "libvpwr/error.h"
#include "libvpwr/sim.h"
#include "testutil.h"

#define DEF_LO 800000u
#define DEF_HI 2400000u
#define DEF_TURBO 3000000u
#define DEF_N 9

/* cpu0: 1.0/1.5/2.0 GHz + turbo 2.5; cpu1: the shared default table;
 * cpu2: 0.6/1.2 GHz, no turbo. */
static const uint32_t big[] = { 1000000, 1500000, 2000000 };
static const uint32_t little[] = { 600000, 1200000 };
static const struct vpwr_sim_cpu hetero[] = {
	{ .freqs_khz = big, .nr_freqs = 3, .turbo_khz = 2500000 },
	{ 0 },
	{ .freqs_khz = little, .nr_freqs = 2 },
};

static struct vpwr_backend *open_hetero(void)
{
	VPWR_OPTS(vpwr_sim_opts, so, .nr_cpus = 3, .cpus = hetero,
		  .util = 0.5);
	VPWR_OPTS(vpwr_backend_opts, o, .sim = &so);
	struct vpwr_backend *b = NULL;

	ck_assert_int_eq(vpwr_backend_open("sim", &o, &b), 0);
	return b;
}

static uint32_t freq(struct vpwr_backend *b, unsigned cpu)
{
	uint32_t khz = 0;

	ck_assert_int_eq(vpwr_backend_get_freq(b, cpu, &khz), 0);
	return khz;
}

static void limits_eq(struct vpwr_backend *b, unsigned cpu, uint32_t lo,
		      uint32_t hi)
{
	uint32_t min = 0, max = 0;

	ck_assert_int_eq(vpwr_backend_get_limits(b, cpu, &min, &max), 0);
	ck_assert_uint_eq(min, lo);
	ck_assert_uint_eq(max, hi);
}

/* sim.h's model with the default coefficients, f_min/f_max given. */
static double model(double khz, double fmin, double fmax, double u)
{
	double f = khz / 1e6;
	double v = 0.7 + 0.5 * (khz - fmin) / (fmax - fmin);

	return 1.0 + 3.0 * f * v * v * (0.3 + 0.7 * u);
}

/* ------------------------------------------------------- tables */

START_TEST(test_tables_per_cpu)
{
	struct vpwr_backend *b = open_hetero();
	uint32_t khz[16];

	ck_assert_int_eq(vpwr_backend_get_freqs(b, 0, khz, 16), 4);
	ck_assert_mem_eq(khz, big, sizeof(big));
	ck_assert_uint_eq(khz[3], 2500000);
	ck_assert_int_eq(vpwr_backend_get_freqs(b, 1, khz, 16), DEF_N + 1);
	ck_assert_uint_eq(khz[0], DEF_LO);
	ck_assert_uint_eq(khz[DEF_N], DEF_TURBO);
	ck_assert_int_eq(vpwr_backend_get_freqs(b, 2, khz, 16), 2);
	ck_assert_mem_eq(khz, little, sizeof(little));
	/* Each starts at its own nominal max, limits over its own range. */
	ck_assert_uint_eq(freq(b, 0), 2000000);
	ck_assert_uint_eq(freq(b, 1), DEF_HI);
	ck_assert_uint_eq(freq(b, 2), 1200000);
	limits_eq(b, 0, 1000000, 2500000);
	limits_eq(b, 1, DEF_LO, DEF_TURBO);
	limits_eq(b, 2, 600000, 1200000);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_caps_per_cpu)
{
	struct vpwr_backend *b = open_hetero();
	const int base = VPWR_BACKEND_CAP_SET_FREQ | VPWR_BACKEND_CAP_LIMITS |
			 VPWR_BACKEND_CAP_EPP | VPWR_BACKEND_CAP_TABLE;
	const int turbo = base | VPWR_BACKEND_CAP_TURBO;

	ck_assert_int_eq(vpwr_backend_caps(b, 0), (turbo) | VPWR_BACKEND_CAP_PER_CPU);
	ck_assert_int_eq(vpwr_backend_caps(b, 1), (turbo) | VPWR_BACKEND_CAP_PER_CPU);
	ck_assert_int_eq(vpwr_backend_caps(b, 2), (base) | VPWR_BACKEND_CAP_PER_CPU);
	/* Turbo exists on cpu0 only by its own table. */
	ck_assert_int_eq(vpwr_backend_get_turbo(b, 2), -VPWR_E_UNSUPPORTED);
	ck_assert_int_eq(vpwr_backend_set_turbo(b, 2, 1), -VPWR_E_UNSUPPORTED);
	ck_assert_int_eq(vpwr_backend_set_turbo(b, 0, 0), 0);
	limits_eq(b, 0, 1000000, 2000000);
	ck_assert_int_eq(vpwr_backend_get_turbo(b, 1), 1);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_ops_use_own_table)
{
	struct vpwr_backend *b = open_hetero();

	/* Rounding down within cpu0's table, not the shared one. */
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 1900000), 0);
	ck_assert_uint_eq(freq(b, 0), 1500000);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 1, 1900000), 0);
	ck_assert_uint_eq(freq(b, 1), 1800000);
	/* 0.6 GHz exists only on cpu2. */
	ck_assert_int_eq(vpwr_backend_set_freq(b, 2, 600000), 0);
	ck_assert_uint_eq(freq(b, 2), 600000);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 600000),
			 -VPWR_E_BAD_FREQ);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 2, 600000, 1200000), 0);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 2, 600000, 1300000),
			 -EINVAL);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 600000, 1200000),
			 -EINVAL);
	/* A range that holds none of cpu0's entries, though the shared
	 * table has 1.2 GHz. */
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 1100000, 1300000),
			 -EINVAL);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 2500000, 2500000), 0);
	ck_assert_uint_eq(freq(b, 0), 2500000);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_power_per_cpu)
{
	struct vpwr_backend *b = open_hetero();
	double w;

	/* V spans each CPU's own table, turbo included. */
	ck_assert_int_eq(vpwr_sim_power(b, 0, 1500000, 0.4, &w), 0);
	ck_assert_double_eq_tol(w, model(1500000, 1000000, 2500000, 0.4), 1e-9);
	ck_assert_int_eq(vpwr_sim_power(b, 1, 1500000, 0.4, &w), 0);
	ck_assert_double_eq_tol(w, model(1500000, DEF_LO, DEF_TURBO, 0.4),
				1e-9);
	ck_assert_int_eq(vpwr_sim_power(b, 2, 1200000, 1.0, &w), 0);
	ck_assert_double_eq_tol(w, model(1200000, 600000, 1200000, 1.0), 1e-9);
	/* Outside a CPU's own range. */
	ck_assert_int_eq(vpwr_sim_power(b, 2, 2000000, 1.0, &w), -EINVAL);
	ck_assert_int_eq(vpwr_sim_power(b, 0, 800000, 1.0, &w), -EINVAL);
	ck_assert_int_eq(vpwr_sim_power(b, 1, 800000, 1.0, &w), 0);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_energy_and_residency_per_cpu)
{
	struct vpwr_backend *b = open_hetero();
	uint64_t ns;
	double e;

	ck_assert_int_eq(vpwr_backend_set_freq(b, 2, 600000), 0);
	ck_assert_int_eq(vpwr_sim_advance(b, 2000000000u), 0);
	ck_assert_int_eq(vpwr_sim_energy(b, 0, &e), 0);
	ck_assert_double_eq_tol(e, 2 * model(2000000, 1000000, 2500000, 0.5),
				1e-9);
	ck_assert_int_eq(vpwr_sim_energy(b, 2, &e), 0);
	ck_assert_double_eq_tol(e, 2 * model(600000, 600000, 1200000, 0.5),
				1e-9);
	ck_assert_int_eq(vpwr_sim_residency(b, 2, 600000, &ns), 0);
	ck_assert_uint_eq(ns, 2000000000u);
	ck_assert_int_eq(vpwr_sim_residency(b, 0, 2500000, &ns), 0);
	ck_assert_uint_eq(ns, 0);
	ck_assert_int_eq(vpwr_sim_residency(b, 1, DEF_HI, &ns), 0);
	ck_assert_uint_eq(ns, 2000000000u);
	/* Frequencies of another CPU's table are not this one's. */
	ck_assert_int_eq(vpwr_sim_residency(b, 2, DEF_HI, &ns), -EINVAL);
	ck_assert_int_eq(vpwr_sim_residency(b, 0, 600000, &ns), -EINVAL);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_work_capacity_per_cpu)
{
	VPWR_OPTS(vpwr_sim_opts, so, .nr_cpus = 3, .cpus = hetero,
		  .work_per_ghz = 100);
	VPWR_OPTS(vpwr_backend_opts, o, .sim = &so);
	struct vpwr_backend *b = NULL;
	struct vpwr_sim_work_stats st;

	/* 1000/s offered everywhere: capacity is 100/GHz times each CPU's own
	 * frequency (2.0, 2.4, 1.2 GHz). */
	ck_assert_int_eq(vpwr_backend_open("sim", &o, &b), 0);
	for (unsigned cpu = 0; cpu < 3; cpu++)
		ck_assert_int_eq(vpwr_sim_set_offered(b, cpu, 1000), 0);
	ck_assert_int_eq(vpwr_sim_advance(b, 1000000000u), 0);
	ck_assert_int_eq(vpwr_sim_work_stats(b, 0, &st), 0);
	ck_assert_double_eq_tol(st.served, 200, 1e-9);
	ck_assert_int_eq(vpwr_sim_work_stats(b, 1, &st), 0);
	ck_assert_double_eq_tol(st.served, 240, 1e-9);
	ck_assert_int_eq(vpwr_sim_work_stats(b, 2, &st), 0);
	ck_assert_double_eq_tol(st.served, 120, 1e-9);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_all_shared_by_zero_entries)
{
	static const struct vpwr_sim_cpu zeros[2];
	static const uint32_t shared[] = { 1000000, 3000000 };
	VPWR_OPTS(vpwr_sim_opts, so, .nr_cpus = 2, .cpus = zeros,
		  .freqs_khz = shared, .nr_freqs = 2);
	VPWR_OPTS(vpwr_backend_opts, o, .sim = &so);
	struct vpwr_backend *b = NULL;
	uint32_t khz[4];

	ck_assert_int_eq(vpwr_backend_open("sim", &o, &b), 0);
	ck_assert_int_eq(vpwr_backend_get_freqs(b, 1, khz, 4), 2);
	ck_assert_mem_eq(khz, shared, sizeof(shared));
	vpwr_backend_free(b);
}
END_TEST

struct logbuf {
	char text[4096];
};

static void capture(enum vpwr_log_level level, const char *msg, void *ud)
{
	struct logbuf *lb = ud;
	size_t len = strlen(lb->text);

	(void)level;
	snprintf(lb->text + len, sizeof(lb->text) - len, "%s\n", msg);
}

static int open_err(const struct vpwr_sim_opts *so, struct logbuf *lb)
{
	VPWR_OPTS(vpwr_backend_opts, o, .sim = so, .log_fn = capture,
		  .log_userdata = lb);
	struct vpwr_backend *b = (struct vpwr_backend *)lb;
	int err;

	memset(lb, 0, sizeof(*lb));
	err = vpwr_backend_open("sim", &o, &b);
	if (!err)
		vpwr_backend_free(b);
	else
		ck_assert_ptr_null(b);
	return err;
}

START_TEST(test_cpus_refused)
{
	static const uint32_t desc[] = { 2000000, 1000000 };
	static const uint32_t zero[] = { 0, 1000000 };
	static const uint32_t ok[] = { 1000000, 2000000 };
	static uint32_t huge[1025];
	const struct {
		struct vpwr_sim_cpu second; /* cpu1's entry; cpu0 is fine */
		const char *why;
	} cases[] = {
		{ { desc, 2, 0 }, "cpus[1]: freqs_khz[1]" },
		{ { zero, 2, 0 }, "cpus[1]: freqs_khz[0]" },
		{ { ok, 0, 0 }, "cpus[1]: frequency table" },
		{ { huge, 1025, 0 }, "cpus[1]: frequency table" },
		{ { ok, 2, 2000000 }, "cpus[1]: turbo_khz" },
		{ { ok, 2, 1500000 }, "cpus[1]: turbo_khz" },
		{ { NULL, 2, 0 }, "cpus[1]: nr_freqs" },
		{ { NULL, 0, 2500000 }, "cpus[1]: nr_freqs or turbo_khz" },
	};
	struct logbuf lb;

	for (size_t i = 0; i < 1025; i++)
		huge[i] = 1000 + (uint32_t)i;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vpwr_sim_cpu cpus[2] = { { ok, 2, 0 }, cases[i].second };
		VPWR_OPTS(vpwr_sim_opts, so, .nr_cpus = 2, .cpus = cpus);

		ck_assert_msg(open_err(&so, &lb) == -EINVAL,
			      "case %zu accepted", i);
		ck_assert_msg(strstr(lb.text, cases[i].why),
			      "case %zu: log lacks \"%s\": %s", i,
			      cases[i].why, lb.text);
	}
}
END_TEST

START_TEST(test_cpus_need_nr_cpus)
{
	VPWR_OPTS(vpwr_sim_opts, so, .cpus = hetero);
	struct logbuf lb;

	/* nr_cpus 0 means "4", but hetero has 3 entries: never guess. */
	ck_assert_int_eq(open_err(&so, &lb), -EINVAL);
	ck_assert_ptr_nonnull(strstr(lb.text, "nr_cpus"));
	/* The shared table is still checked when every CPU has its own. */
	so.nr_cpus = 3;
	so.nr_freqs = 2;
	ck_assert_int_eq(open_err(&so, &lb), -EINVAL);
	ck_assert_ptr_nonnull(strstr(lb.text, "nr_freqs"));
	so.nr_freqs = 0;
	ck_assert_int_eq(open_err(&so, &lb), 0);
}
END_TEST

/* ---------------------------------------------------------- EPP */

START_TEST(test_epp_default_and_set)
{
	struct vpwr_backend *b = open_hetero();

	for (unsigned cpu = 0; cpu < 3; cpu++)
		ck_assert_int_eq(vpwr_backend_get_epp(b, cpu), 128);
	ck_assert_int_eq(vpwr_backend_set_epp(b, 1, 0), 0);
	ck_assert_int_eq(vpwr_backend_set_epp(b, 2, 255), 0);
	ck_assert_int_eq(vpwr_backend_get_epp(b, 0), 128);
	ck_assert_int_eq(vpwr_backend_get_epp(b, 1), 0);
	ck_assert_int_eq(vpwr_backend_get_epp(b, 2), 255);
	ck_assert_int_eq(vpwr_backend_set_epp(b, 2, 256), -EINVAL);
	ck_assert_int_eq(vpwr_backend_set_epp(b, 3, 1), -EINVAL);
	ck_assert_int_eq(vpwr_backend_get_epp(b, 3), -EINVAL);
	ck_assert_int_eq(vpwr_backend_get_epp(b, 2), 255);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_epp_restored)
{
	struct vpwr_backend *b = open_hetero();

	/* EPP alone is a change to put back ... */
	ck_assert_int_eq(vpwr_backend_set_epp(b, 0, 10), 0);
	ck_assert_int_eq(vpwr_backend_restore(b, 0), 0);
	ck_assert_int_eq(vpwr_backend_get_epp(b, 0), 128);
	/* ... and goes back with the rest, to the state before the first
	 * change. */
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 1000000), 0);
	ck_assert_int_eq(vpwr_backend_set_epp(b, 0, 200), 0);
	ck_assert_int_eq(vpwr_backend_set_epp(b, 0, 201), 0);
	ck_assert_int_eq(vpwr_backend_restore(b, 0), 0);
	ck_assert_int_eq(vpwr_backend_get_epp(b, 0), 128);
	ck_assert_uint_eq(freq(b, 0), 2000000);
	/* Restoring one CPU leaves another's hint alone. */
	ck_assert_int_eq(vpwr_backend_set_epp(b, 1, 64), 0);
	ck_assert_int_eq(vpwr_backend_restore(b, 2), 0);
	ck_assert_int_eq(vpwr_backend_get_epp(b, 1), 64);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_epp_not_in_power)
{
	VPWR_OPTS(vpwr_sim_opts, so, .nr_cpus = 2);
	VPWR_OPTS(vpwr_backend_opts, o, .sim = &so);
	struct vpwr_backend *b = NULL;
	double e0, e1;

	/* Documented: the hint is recorded, not modelled. */
	ck_assert_int_eq(vpwr_backend_open("sim", &o, &b), 0);
	ck_assert_int_eq(vpwr_backend_set_epp(b, 0, 0), 0);
	ck_assert_int_eq(vpwr_backend_set_epp(b, 1, 255), 0);
	ck_assert_int_eq(vpwr_sim_advance(b, 1000000000u), 0);
	ck_assert_int_eq(vpwr_sim_energy(b, 0, &e0), 0);
	ck_assert_int_eq(vpwr_sim_energy(b, 1, &e1), 0);
	ck_assert_double_eq(e0, e1);
	ck_assert_double_eq_tol(e0, model(DEF_HI, DEF_LO, DEF_TURBO, 1.0),
				1e-9);
	vpwr_backend_free(b);
}
END_TEST

/* ------------------------------------------------- shared policies */

static struct vpwr_backend *open_policies(unsigned nr, unsigned per)
{
	VPWR_OPTS(vpwr_sim_opts, so, .nr_cpus = nr, .cpus_per_policy = per);
	VPWR_OPTS(vpwr_backend_opts, o, .sim = &so);
	struct vpwr_backend *b = NULL;

	ck_assert_int_eq(vpwr_backend_open("sim", &o, &b), 0);
	return b;
}

static void policy_is(struct vpwr_backend *b, unsigned cpu, const char *want)
{
	struct vpwr_cpuset set;
	char text[64];
	int n = vpwr_backend_policy_cpus(b, cpu, &set);

	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq((unsigned)n, vpwr_cpuset_count(&set));
	vpwr_cpuset_format(&set, text, sizeof(text));
	ck_assert_str_eq(text, want);
}

/* 5 CPUs, 2 per policy: {0,1} {2,3} {4}. */
START_TEST(test_policy_groups)
{
	struct vpwr_backend *b = open_policies(5, 2);
	struct vpwr_cpuset set;

	policy_is(b, 0, "0-1");
	policy_is(b, 1, "0-1");
	policy_is(b, 3, "2-3");
	policy_is(b, 4, "4");
	ck_assert_int_eq(vpwr_backend_caps(b, 2) & VPWR_BACKEND_CAP_PER_CPU, 0);
	ck_assert_int_ne(vpwr_backend_caps(b, 4) & VPWR_BACKEND_CAP_PER_CPU, 0);
	ck_assert_int_eq(vpwr_backend_policy_cpus(b, 5, &set), -EINVAL);
	ck_assert_int_eq(vpwr_backend_policy_cpus(b, 0, NULL), -EINVAL);
	vpwr_backend_free(b);
	/* Without the option every CPU is its own policy. */
	b = open_policies(2, 0);
	policy_is(b, 1, "1");
	ck_assert_int_ne(vpwr_backend_caps(b, 1) & VPWR_BACKEND_CAP_PER_CPU, 0);
	vpwr_backend_free(b);
}
END_TEST

/* Like the kernel's one set of files: setting one sets them all, and
 * restoring one restores them all; other policies do not move. */
START_TEST(test_policy_moves_together)
{
	struct vpwr_backend *b = open_policies(4, 2);
	uint32_t orig = freq(b, 0);

	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, DEF_LO, 1600000), 0);
	limits_eq(b, 0, DEF_LO, 1600000);
	limits_eq(b, 1, DEF_LO, 1600000);
	limits_eq(b, 2, DEF_LO, DEF_TURBO);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 1200000), 0);
	ck_assert_uint_eq(freq(b, 1), 1200000);
	ck_assert_uint_eq(freq(b, 2), orig);
	ck_assert_int_eq(vpwr_backend_set_turbo(b, 1, 0), 0);
	ck_assert_int_eq(vpwr_backend_get_turbo(b, 0), 0);
	ck_assert_int_eq(vpwr_backend_get_turbo(b, 2), 1);
	ck_assert_int_eq(vpwr_backend_set_epp(b, 0, 7), 0);
	ck_assert_int_eq(vpwr_backend_get_epp(b, 1), 7);
	ck_assert_int_eq(vpwr_backend_restore(b, 1), 0);
	ck_assert_uint_eq(freq(b, 0), orig);
	limits_eq(b, 0, DEF_LO, DEF_TURBO);
	ck_assert_int_eq(vpwr_backend_get_turbo(b, 0), 1);
	ck_assert_int_eq(vpwr_backend_get_epp(b, 0), 128);
	vpwr_backend_free(b);
}
END_TEST

/* A policy's CPUs must have the same table; refused with a reason. */
START_TEST(test_policy_tables_must_match)
{
	VPWR_OPTS(vpwr_sim_opts, so, .nr_cpus = 3, .cpus = hetero,
		  .cpus_per_policy = 2);
	VPWR_OPTS(vpwr_backend_opts, o, .sim = &so);
	static const struct vpwr_sim_cpu same[] = {
		{ .freqs_khz = big, .nr_freqs = 3 },
		{ .freqs_khz = big, .nr_freqs = 3 },
		{ 0 },
	};
	struct vpwr_backend *b = NULL;

	ck_assert_int_eq(vpwr_backend_open("sim", &o, &b), -EINVAL);
	so.cpus = same;
	ck_assert_int_eq(vpwr_backend_open("sim", &o, &b), 0);
	policy_is(b, 1, "0-1");
	vpwr_backend_free(b);
}
END_TEST

static Suite *cpus_suite(void)
{
	Suite *s = suite_create("sim_cpus");
	TCase *tab = tcase_create("tables");
	TCase *epp = tcase_create("epp");
	TCase *pol = tcase_create("policies");

	tcase_add_test(tab, test_tables_per_cpu);
	tcase_add_test(tab, test_caps_per_cpu);
	tcase_add_test(tab, test_ops_use_own_table);
	tcase_add_test(tab, test_power_per_cpu);
	tcase_add_test(tab, test_energy_and_residency_per_cpu);
	tcase_add_test(tab, test_work_capacity_per_cpu);
	tcase_add_test(tab, test_all_shared_by_zero_entries);
	tcase_add_test(tab, test_cpus_refused);
	tcase_add_test(tab, test_cpus_need_nr_cpus);
	suite_add_tcase(s, tab);
	tcase_add_test(epp, test_epp_default_and_set);
	tcase_add_test(epp, test_epp_restored);
	tcase_add_test(epp, test_epp_not_in_power);
	suite_add_tcase(s, epp);
	tcase_add_test(pol, test_policy_groups);
	tcase_add_test(pol, test_policy_moves_together);
	tcase_add_test(pol, test_policy_tables_must_match);
	suite_add_tcase(s, pol);
	return s;
}

int main(void)
{
	return vpwr_test_run(cpus_suite());
}
