/* The backend registry and wrappers, and the simulator: cpufreq semantics
 * (limits, rounding, turbo, restore), the power model, energy and
 * residency, option validation.  A fake driver reaches the wrapper paths
 * the simulator does not use (no set_freq, EPP, offline CPUs). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend/backend_internal.h"
#include "libvpwr/backend.h"
#include "libvpwr/error.h"
#include "libvpwr/sim.h"
#include "testutil.h"

#define DEF_LO 800000u
#define DEF_HI 2400000u
#define DEF_STEP 200000u
#define DEF_TURBO 3000000u
#define DEF_N ((DEF_HI - DEF_LO) / DEF_STEP + 1)

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

static struct vpwr_backend *open_sim(const struct vpwr_sim_opts *so)
{
	VPWR_OPTS(vpwr_backend_opts, o, .sim = so);
	struct vpwr_backend *b = NULL;

	ck_assert_int_eq(vpwr_backend_open("sim", &o, &b), 0);
	ck_assert_ptr_nonnull(b);
	return b;
}

static int open_sim_err(const struct vpwr_sim_opts *so, struct logbuf *lb)
{
	VPWR_OPTS(vpwr_backend_opts, o, .sim = so, .log_fn = capture,
		  .log_userdata = lb);
	struct vpwr_backend *b = (struct vpwr_backend *)&b;
	int err;

	memset(lb, 0, sizeof(*lb));
	err = vpwr_backend_open("sim", &o, &b);
	if (!err)
		vpwr_backend_free(b);
	else
		ck_assert_ptr_null(b);
	return err;
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

/* --------------------------------------------------------- registry */

START_TEST(test_open_defaults)
{
	struct vpwr_backend *b = NULL;

	ck_assert_int_eq(vpwr_backend_open("sim", NULL, &b), 0);
	ck_assert_str_eq(vpwr_backend_name(b), "sim");
	ck_assert_int_eq(vpwr_backend_nr_cpus(b), 4);
	vpwr_backend_free(b);
	vpwr_backend_free(NULL);
	ck_assert_ptr_null(vpwr_backend_name(NULL));
	ck_assert_int_eq(vpwr_backend_nr_cpus(NULL), -EINVAL);
}
END_TEST

START_TEST(test_open_errors)
{
	struct vpwr_backend *b = (struct vpwr_backend *)&b;
	struct logbuf lb = { 0 };
	VPWR_OPTS(vpwr_backend_opts, o, .log_fn = capture, .log_userdata = &lb);

	ck_assert_int_eq(vpwr_backend_open(NULL, NULL, &b), -EINVAL);
	ck_assert_ptr_null(b);
	ck_assert_int_eq(vpwr_backend_open("sim", NULL, NULL), -EINVAL);
	ck_assert_int_eq(vpwr_backend_open("warp-drive", &o, &b), -ENOENT);
	ck_assert_ptr_null(b);
	ck_assert_ptr_nonnull(strstr(lb.text, "\"warp-drive\""));
	ck_assert_int_eq(vpwr_backend_open("", NULL, &b), -ENOENT);
	ck_assert_int_eq(vpwr_backend_open("SIM", NULL, &b), -ENOENT);
	o.sz = 3;
	ck_assert_int_eq(vpwr_backend_open("sim", &o, &b), -EINVAL);
	ck_assert_ptr_null(b);
}
END_TEST

START_TEST(test_auto_no_driver)
{
	char *root = vpwr_test_tmpdir();
	struct vpwr_backend *b = (struct vpwr_backend *)&b;
	struct logbuf lb = { 0 };
	VPWR_OPTS(vpwr_backend_opts, o, .sysfs_root = root, .log_fn = capture,
		  .log_userdata = &lb);

	/* Nothing to detect, and the simulator is never a fallback. */
	vpwr_test_write_file(root, "devices/system/cpu/cpu0/cpufreq/"
			     "scaling_driver", "acpi-cpufreq\n");
	ck_assert_int_eq(vpwr_backend_open("auto", &o, &b), -ENODEV);
	ck_assert_ptr_null(b);
	ck_assert_ptr_nonnull(strstr(lb.text, root));
	ck_assert_int_eq(vpwr_backend_open("auto", NULL, &b), -ENODEV);
	ck_assert_ptr_null(b);
	vpwr_test_rmtree(root);
	free(root);
}
END_TEST

START_TEST(test_opts_tail)
{
	struct {
		struct vpwr_backend_opts o;
		uint64_t future[2];
	} big;
	struct {
		struct vpwr_sim_opts o;
		char future[8];
	} sbig;
	struct vpwr_backend *b = NULL;

	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big);
	big.future[1] = 42;
	ck_assert_int_eq(vpwr_backend_open("sim", &big.o, &b), -EINVAL);
	ck_assert_ptr_null(b);
	big.future[1] = 0;
	ck_assert_int_eq(vpwr_backend_open("sim", &big.o, &b), 0);
	vpwr_backend_free(b);

	memset(&sbig, 0, sizeof(sbig));
	sbig.o.sz = sizeof(sbig);
	sbig.o.nr_cpus = 2;
	sbig.future[7] = 1;
	big.o.sim = &sbig.o;
	ck_assert_int_eq(vpwr_backend_open("sim", &big.o, &b), -EINVAL);
	ck_assert_ptr_null(b);
	sbig.future[7] = 0;
	ck_assert_int_eq(vpwr_backend_open("sim", &big.o, &b), 0);
	ck_assert_int_eq(vpwr_backend_nr_cpus(b), 2);
	vpwr_backend_free(b);
	/* A sim struct too short to hold sz. */
	sbig.o.sz = 2;
	ck_assert_int_eq(vpwr_backend_open("sim", &big.o, &b), -EINVAL);
}
END_TEST

/* ------------------------------------------------- initial state */

START_TEST(test_initial_state)
{
	struct vpwr_backend *b = open_sim(NULL);
	uint32_t khz[16];

	for (unsigned cpu = 0; cpu < 4; cpu++) {
		ck_assert_int_eq(vpwr_backend_caps(b, cpu),
				 (VPWR_BACKEND_CAP_SET_FREQ |
				 VPWR_BACKEND_CAP_LIMITS |
				 VPWR_BACKEND_CAP_TURBO |
				 VPWR_BACKEND_CAP_EPP |
				 VPWR_BACKEND_CAP_TABLE) | VPWR_BACKEND_CAP_PER_CPU);
		ck_assert_int_eq(vpwr_backend_get_freqs(b, cpu, khz, 16),
				 DEF_N + 1);
		for (unsigned i = 0; i < DEF_N; i++)
			ck_assert_uint_eq(khz[i], DEF_LO + i * DEF_STEP);
		ck_assert_uint_eq(khz[DEF_N], DEF_TURBO);
		limits_eq(b, cpu, DEF_LO, DEF_TURBO);
		ck_assert_int_eq(vpwr_backend_get_turbo(b, cpu), 1);
		ck_assert_uint_eq(freq(b, cpu), DEF_HI);
	}
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_get_freqs_cap)
{
	struct vpwr_backend *b = open_sim(NULL);
	uint32_t khz[4] = { 7, 7, 7, 7 };

	/* The count, even when nothing may be written. */
	ck_assert_int_eq(vpwr_backend_get_freqs(b, 0, NULL, 0), DEF_N + 1);
	ck_assert_int_eq(vpwr_backend_get_freqs(b, 0, khz, 2), DEF_N + 1);
	ck_assert_uint_eq(khz[0], DEF_LO);
	ck_assert_uint_eq(khz[1], DEF_LO + DEF_STEP);
	ck_assert_uint_eq(khz[2], 7);
	ck_assert_int_eq(vpwr_backend_get_freqs(b, 0, NULL, 1), -EINVAL);
	vpwr_backend_free(b);
}
END_TEST

/* ------------------------------------------------------ operations */

START_TEST(test_set_freq)
{
	struct vpwr_backend *b = open_sim(NULL);

	ck_assert_int_eq(vpwr_backend_set_freq(b, 1, 1200000), 0);
	ck_assert_uint_eq(freq(b, 1), 1200000);
	/* Between entries: rounded down. */
	ck_assert_int_eq(vpwr_backend_set_freq(b, 1, 1999999), 0);
	ck_assert_uint_eq(freq(b, 1), 1800000);
	/* Turbo is an entry while on; just below it rounds down to the
	 * nominal max. */
	ck_assert_int_eq(vpwr_backend_set_freq(b, 1, DEF_TURBO), 0);
	ck_assert_uint_eq(freq(b, 1), DEF_TURBO);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 1, 2900000), 0);
	ck_assert_uint_eq(freq(b, 1), DEF_HI);
	/* Outside the limits. */
	ck_assert_int_eq(vpwr_backend_set_freq(b, 1, DEF_LO - 1),
			 -VPWR_E_BAD_FREQ);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 1, DEF_TURBO + 1),
			 -VPWR_E_BAD_FREQ);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 1, 0), -VPWR_E_BAD_FREQ);
	ck_assert_uint_eq(freq(b, 1), DEF_HI);
	/* Other CPUs are independent. */
	ck_assert_uint_eq(freq(b, 0), DEF_HI);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_set_freq_within_limits)
{
	struct vpwr_backend *b = open_sim(NULL);

	ck_assert_int_eq(vpwr_backend_set_limits(b, 2, 1000000, 2000000), 0);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 2, 2200000),
			 -VPWR_E_BAD_FREQ);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 2, 900000),
			 -VPWR_E_BAD_FREQ);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 2, 1000000), 0);
	ck_assert_uint_eq(freq(b, 2), 1000000);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 2, 2000000), 0);
	ck_assert_uint_eq(freq(b, 2), 2000000);
	/* Limits between entries: rounding down never leaves them. */
	ck_assert_int_eq(vpwr_backend_set_limits(b, 2, 1100000, 1500000), 0);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 2, 1150000), 0);
	ck_assert_uint_eq(freq(b, 2), 1200000);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 2, 1500000), 0);
	ck_assert_uint_eq(freq(b, 2), 1400000);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_set_limits_clamps)
{
	struct vpwr_backend *b = open_sim(NULL);

	/* Current 2.4 GHz above the new max: down to the highest entry. */
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, DEF_LO, 1500000), 0);
	limits_eq(b, 0, DEF_LO, 1500000);
	ck_assert_uint_eq(freq(b, 0), 1400000);
	/* Below the new min: up to the lowest entry at or above it. */
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 1700000, 2200000), 0);
	ck_assert_uint_eq(freq(b, 0), 1800000);
	/* Already inside: untouched. */
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 1600000, 2400000), 0);
	ck_assert_uint_eq(freq(b, 0), 1800000);
	/* The whole hardware range, turbo included, is allowed. */
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, DEF_TURBO, DEF_TURBO),
			 0);
	ck_assert_uint_eq(freq(b, 0), DEF_TURBO);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, DEF_LO, DEF_LO), 0);
	ck_assert_uint_eq(freq(b, 0), DEF_LO);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_set_limits_refused)
{
	struct vpwr_backend *b = open_sim(NULL);

	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 2000000, 1000000),
			 -EINVAL);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, DEF_LO - 1, DEF_HI),
			 -EINVAL);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, DEF_LO, DEF_TURBO + 1),
			 -EINVAL);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 0, 0), -EINVAL);
	/* No frequency of the table inside the range. */
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 1100000, 1150000),
			 -EINVAL);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 2500000, 2900000),
			 -EINVAL);
	/* Nothing moved. */
	limits_eq(b, 0, DEF_LO, DEF_TURBO);
	ck_assert_uint_eq(freq(b, 0), DEF_HI);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_turbo)
{
	struct vpwr_backend *b = open_sim(NULL);
	uint32_t khz[16];

	ck_assert_int_eq(vpwr_backend_set_freq(b, 3, DEF_TURBO), 0);
	ck_assert_int_eq(vpwr_backend_set_turbo(b, 3, 0), 0);
	ck_assert_int_eq(vpwr_backend_get_turbo(b, 3), 0);
	/* Turbo off: clamped to the nominal max, which is the new max. */
	ck_assert_uint_eq(freq(b, 3), DEF_HI);
	limits_eq(b, 3, DEF_LO, DEF_HI);
	ck_assert_int_eq(vpwr_backend_get_freqs(b, 3, khz, 16), DEF_N);
	ck_assert_uint_eq(khz[DEF_N - 1], DEF_HI);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 3, DEF_TURBO),
			 -VPWR_E_BAD_FREQ);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 3, 2500000),
			 -VPWR_E_BAD_FREQ);
	/* The hardware range still includes turbo. */
	ck_assert_int_eq(vpwr_backend_set_limits(b, 3, 1000000, DEF_TURBO), 0);
	limits_eq(b, 3, 1000000, DEF_HI);
	/* Back on: the requested max returns, the frequency stays. */
	ck_assert_int_eq(vpwr_backend_set_turbo(b, 3, 1), 0);
	ck_assert_int_eq(vpwr_backend_get_turbo(b, 3), 1);
	limits_eq(b, 3, 1000000, DEF_TURBO);
	ck_assert_uint_eq(freq(b, 3), DEF_HI);
	ck_assert_int_eq(vpwr_backend_get_freqs(b, 3, khz, 16), DEF_N + 1);
	ck_assert_int_eq(vpwr_backend_set_turbo(b, 3, 2), -EINVAL);
	ck_assert_int_eq(vpwr_backend_set_turbo(b, 3, -1), -EINVAL);
	ck_assert_int_eq(vpwr_backend_get_turbo(b, 2), 1);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_turbo_only_limits)
{
	struct vpwr_backend *b = open_sim(NULL);

	/* Limits that only turbo satisfies collapse onto the nominal max
	 * while turbo is off, and come back with it. */
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 2500000, DEF_TURBO), 0);
	ck_assert_uint_eq(freq(b, 0), DEF_TURBO);
	ck_assert_int_eq(vpwr_backend_set_turbo(b, 0, 0), 0);
	limits_eq(b, 0, DEF_HI, DEF_HI);
	ck_assert_uint_eq(freq(b, 0), DEF_HI);
	ck_assert_int_eq(vpwr_backend_set_turbo(b, 0, 1), 0);
	limits_eq(b, 0, 2500000, DEF_TURBO);
	ck_assert_uint_eq(freq(b, 0), DEF_TURBO);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_no_turbo_table)
{
	static const uint32_t table[] = { 1000000, 1500000, 2000000 };
	VPWR_OPTS(vpwr_sim_opts, so, .nr_cpus = 2, .freqs_khz = table,
		  .nr_freqs = 3);
	struct vpwr_backend *b = open_sim(&so);
	uint32_t khz[4];

	ck_assert_int_eq(vpwr_backend_nr_cpus(b), 2);
	ck_assert_int_eq(vpwr_backend_caps(b, 1),
			 (VPWR_BACKEND_CAP_SET_FREQ | VPWR_BACKEND_CAP_LIMITS |
			 VPWR_BACKEND_CAP_EPP | VPWR_BACKEND_CAP_TABLE) | VPWR_BACKEND_CAP_PER_CPU);
	ck_assert_int_eq(vpwr_backend_get_freqs(b, 1, khz, 4), 3);
	ck_assert_mem_eq(khz, table, sizeof(table));
	limits_eq(b, 1, 1000000, 2000000);
	ck_assert_uint_eq(freq(b, 1), 2000000);
	ck_assert_int_eq(vpwr_backend_get_turbo(b, 1), -VPWR_E_UNSUPPORTED);
	ck_assert_int_eq(vpwr_backend_set_turbo(b, 1, 1), -VPWR_E_UNSUPPORTED);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 1000000, 2000001),
			 -EINVAL);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 1, 1700000), 0);
	ck_assert_uint_eq(freq(b, 1), 1500000);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_default_table_custom_turbo)
{
	VPWR_OPTS(vpwr_sim_opts, so, .turbo_khz = 2800000);
	struct vpwr_backend *b = open_sim(&so);
	uint32_t khz[16];

	ck_assert_int_eq(vpwr_backend_get_freqs(b, 0, khz, 16), DEF_N + 1);
	ck_assert_uint_eq(khz[DEF_N], 2800000);
	limits_eq(b, 0, DEF_LO, 2800000);
	vpwr_backend_free(b);
}
END_TEST

/* Every CPU-taking call, with cpu == nr_cpus and with a NULL handle. */
START_TEST(test_bad_cpu_and_null)
{
	struct vpwr_backend *b = open_sim(NULL);
	struct vpwr_backend *nb = NULL;
	uint32_t khz[16], lo, hi;
	double d;
	uint64_t ns;

	for (int pass = 0; pass < 2; pass++) {
		struct vpwr_backend *x = pass ? nb : b;
		unsigned cpu = pass ? 0 : 4;

		ck_assert_int_eq(vpwr_backend_caps(x, cpu), -EINVAL);
		ck_assert_int_eq(vpwr_backend_get_freqs(x, cpu, khz, 16),
				 -EINVAL);
		ck_assert_int_eq(vpwr_backend_get_freq(x, cpu, &lo), -EINVAL);
		ck_assert_int_eq(vpwr_backend_set_freq(x, cpu, DEF_LO),
				 -EINVAL);
		ck_assert_int_eq(vpwr_backend_get_limits(x, cpu, &lo, &hi),
				 -EINVAL);
		ck_assert_int_eq(vpwr_backend_set_limits(x, cpu, DEF_LO,
							 DEF_HI), -EINVAL);
		ck_assert_int_eq(vpwr_backend_get_turbo(x, cpu), -EINVAL);
		ck_assert_int_eq(vpwr_backend_set_turbo(x, cpu, 0), -EINVAL);
		ck_assert_int_eq(vpwr_backend_restore(x, cpu), -EINVAL);
		ck_assert_int_eq(vpwr_sim_set_util(x, cpu, 0.5), -EINVAL);
		ck_assert_int_eq(vpwr_sim_energy(x, cpu, &d), -EINVAL);
		ck_assert_int_eq(vpwr_sim_power(x, cpu, DEF_LO, 1, &d),
				 -EINVAL);
		ck_assert_int_eq(vpwr_sim_residency(x, cpu, DEF_LO, &ns),
				 -EINVAL);
	}
	ck_assert_int_eq(vpwr_backend_caps(b, 4000000000u), -EINVAL);
	ck_assert_int_eq(vpwr_backend_get_freq(b, 0, NULL), -EINVAL);
	ck_assert_int_eq(vpwr_backend_get_limits(b, 0, NULL, &hi), -EINVAL);
	ck_assert_int_eq(vpwr_backend_get_limits(b, 0, &lo, NULL), -EINVAL);
	ck_assert_int_eq(vpwr_sim_advance(NULL, 1), -EINVAL);
	ck_assert_int_eq(vpwr_sim_now(NULL, &ns), -EINVAL);
	ck_assert_int_eq(vpwr_sim_now(b, NULL), -EINVAL);
	ck_assert_int_eq(vpwr_sim_energy(b, 0, NULL), -EINVAL);
	ck_assert_int_eq(vpwr_sim_power(b, 0, DEF_LO, 1, NULL), -EINVAL);
	ck_assert_int_eq(vpwr_sim_residency(b, 0, DEF_LO, NULL), -EINVAL);
	/* Nothing above changed CPU state. */
	ck_assert_uint_eq(freq(b, 3), DEF_HI);
	vpwr_backend_free(b);
}
END_TEST

/* ---------------------------------------------------------- restore */

struct snapshot {
	uint32_t cur, min, max;
	int turbo, nfreqs;
	uint32_t freqs[16];
};

static void snap(struct vpwr_backend *b, unsigned cpu, struct snapshot *s)
{
	memset(s, 0, sizeof(*s));
	s->cur = freq(b, cpu);
	ck_assert_int_eq(vpwr_backend_get_limits(b, cpu, &s->min, &s->max), 0);
	s->turbo = vpwr_backend_get_turbo(b, cpu);
	s->nfreqs = vpwr_backend_get_freqs(b, cpu, s->freqs, 16);
}

static void snap_eq(const struct snapshot *a, const struct snapshot *b)
{
	ck_assert_uint_eq(a->cur, b->cur);
	ck_assert_uint_eq(a->min, b->min);
	ck_assert_uint_eq(a->max, b->max);
	ck_assert_int_eq(a->turbo, b->turbo);
	ck_assert_int_eq(a->nfreqs, b->nfreqs);
	ck_assert_mem_eq(a->freqs, b->freqs, sizeof(a->freqs));
}

START_TEST(test_restore)
{
	struct vpwr_backend *b = open_sim(NULL);
	struct snapshot orig, other, now;

	snap(b, 1, &orig);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 1000000, 2000000), 0);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 1, 1300000), 0);
	ck_assert_int_eq(vpwr_backend_set_turbo(b, 1, 0), 0);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 1400000, 1600000), 0);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 2, DEF_LO, DEF_LO), 0);
	snap(b, 1, &now);
	ck_assert_uint_ne(now.cur, orig.cur);
	ck_assert_int_ne(now.turbo, orig.turbo);
	snap(b, 2, &other);

	ck_assert_int_eq(vpwr_backend_restore(b, 1), 0);
	snap(b, 1, &now);
	snap_eq(&now, &orig);
	/* Only that CPU. */
	snap(b, 2, &now);
	snap_eq(&now, &other);
	ck_assert_uint_eq(now.cur, DEF_LO);
	/* Again: nothing to do, still 0, still the original. */
	ck_assert_int_eq(vpwr_backend_restore(b, 1), 0);
	snap(b, 1, &now);
	snap_eq(&now, &orig);
	/* Restore saves afresh after the next change. */
	ck_assert_int_eq(vpwr_backend_set_freq(b, 1, DEF_LO), 0);
	ck_assert_int_eq(vpwr_backend_restore(b, 1), 0);
	snap(b, 1, &now);
	snap_eq(&now, &orig);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_restore_unchanged)
{
	struct vpwr_backend *b = open_sim(NULL);
	struct snapshot orig, now;

	snap(b, 0, &orig);
	ck_assert_int_eq(vpwr_backend_restore(b, 0), 0);
	snap(b, 0, &now);
	snap_eq(&now, &orig);
	/* Refused calls save nothing and change nothing. */
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 1), -VPWR_E_BAD_FREQ);
	ck_assert_int_eq(vpwr_backend_restore(b, 0), 0);
	snap(b, 0, &now);
	snap_eq(&now, &orig);
	vpwr_backend_free(b);
}
END_TEST

/* ------------------------------------------------------ power model */

/* sim.h's formula, written out independently of the library. */
static double model(double khz, double fmin_khz, double fmax_khz, double s,
		    double k, double vmin, double vmax, double idle, double u)
{
	double f = khz / 1e6;
	double v = vmin + (vmax - vmin) * (khz - fmin_khz) /
				  (fmax_khz - fmin_khz);

	return s + k * f * v * v * (idle + (1 - idle) * u);
}

START_TEST(test_power_defaults)
{
	struct vpwr_backend *b = open_sim(NULL);
	double w;

	/* Documented defaults: 1.0 W, 3.0, 0.7..1.2 V, idle 0.3, over the
	 * table 0.8..3.0 GHz including turbo. */
	ck_assert_int_eq(vpwr_sim_power(b, 0, 1200000, 0.5, &w), 0);
	ck_assert_double_eq_tol(w, model(1200000, DEF_LO, DEF_TURBO, 1.0, 3.0,
					 0.7, 1.2, 0.3, 0.5), 1e-9);
	ck_assert_int_eq(vpwr_sim_power(b, 3, DEF_TURBO, 1.0, &w), 0);
	ck_assert_double_eq_tol(w, model(DEF_TURBO, DEF_LO, DEF_TURBO, 1.0,
					 3.0, 0.7, 1.2, 0.3, 1.0), 1e-9);
	ck_assert_int_eq(vpwr_sim_power(b, 0, DEF_LO, 0.0, &w), 0);
	ck_assert_double_eq_tol(w, model(DEF_LO, DEF_LO, DEF_TURBO, 1.0, 3.0,
					 0.7, 1.2, 0.3, 0.0), 1e-9);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_power_custom)
{
	static const uint32_t table[] = { 1000000, 2000000, 2500000 };
	VPWR_OPTS(vpwr_sim_opts, so, .freqs_khz = table, .nr_freqs = 3,
		  .turbo_khz = 3500000, .static_w = 0.25,
		  .dyn_w_per_ghz_v2 = 2.5, .v_min = 0.6, .v_max = 1.3,
		  .idle_fraction = 0.1, .util = 0.4);
	struct vpwr_backend *b = open_sim(&so);
	double w, w_lo, w_hi;

	ck_assert_int_eq(vpwr_sim_power(b, 0, 2000000, 0.75, &w), 0);
	ck_assert_double_eq_tol(w, model(2000000, 1000000, 3500000, 0.25, 2.5,
					 0.6, 1.3, 0.1, 0.75), 1e-9);
	ck_assert_int_eq(vpwr_sim_power(b, 0, 1750000, 0.2, &w), 0);
	ck_assert_double_eq_tol(w, model(1750000, 1000000, 3500000, 0.25, 2.5,
					 0.6, 1.3, 0.1, 0.2), 1e-9);
	/* Monotonic in frequency and in utilisation. */
	ck_assert_int_eq(vpwr_sim_power(b, 0, 1000000, 1.0, &w_lo), 0);
	ck_assert_int_eq(vpwr_sim_power(b, 0, 3500000, 1.0, &w_hi), 0);
	ck_assert_double_lt(w_lo, w_hi);
	ck_assert_int_eq(vpwr_sim_power(b, 0, 3500000, 0.0, &w), 0);
	ck_assert_double_lt(w, w_hi);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_power_refused)
{
	struct vpwr_backend *b = open_sim(NULL);
	double w = -1;

	ck_assert_int_eq(vpwr_sim_power(b, 0, DEF_LO - 1, 1, &w), -EINVAL);
	ck_assert_int_eq(vpwr_sim_power(b, 0, DEF_TURBO + 1, 1, &w), -EINVAL);
	ck_assert_int_eq(vpwr_sim_power(b, 0, DEF_LO, 1.01, &w), -EINVAL);
	ck_assert_int_eq(vpwr_sim_power(b, 0, DEF_LO, -0.01, &w), -EINVAL);
	ck_assert_int_eq(vpwr_sim_power(b, 0, DEF_LO, NAN, &w), -EINVAL);
	ck_assert_double_eq(w, -1);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_energy_and_residency)
{
	VPWR_OPTS(vpwr_sim_opts, so, .nr_cpus = 2, .util = 0.6);
	struct vpwr_backend *b = open_sim(&so);
	double p_lo, p_hi, e0, e1, e0b;
	uint64_t ns, sum = 0, now;
	uint32_t khz[16];
	int n;

	ck_assert_int_eq(vpwr_sim_now(b, &now), 0);
	ck_assert_uint_eq(now, 0);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 1200000), 0);
	ck_assert_int_eq(vpwr_sim_power(b, 0, 1200000, 0.6, &p_lo), 0);
	ck_assert_int_eq(vpwr_sim_power(b, 1, DEF_HI, 0.6, &p_hi), 0);
	ck_assert_int_eq(vpwr_sim_advance(b, 2500000000u), 0);
	ck_assert_int_eq(vpwr_sim_energy(b, 0, &e0), 0);
	ck_assert_int_eq(vpwr_sim_energy(b, 1, &e1), 0);
	ck_assert_double_eq_tol(e0, p_lo * 2.5, 1e-9);
	ck_assert_double_eq_tol(e1, p_hi * 2.5, 1e-9);
	ck_assert_double_lt(e0, e1);
	ck_assert_int_eq(vpwr_sim_residency(b, 0, 1200000, &ns), 0);
	ck_assert_uint_eq(ns, 2500000000u);
	ck_assert_int_eq(vpwr_sim_residency(b, 0, DEF_HI, &ns), 0);
	ck_assert_uint_eq(ns, 0);

	/* A second interval at another frequency and utilisation. */
	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, DEF_TURBO), 0);
	ck_assert_int_eq(vpwr_sim_set_util(b, 0, 0.0), 0);
	ck_assert_int_eq(vpwr_sim_power(b, 0, DEF_TURBO, 0.0, &p_hi), 0);
	ck_assert_int_eq(vpwr_sim_advance(b, 500000000u), 0);
	ck_assert_int_eq(vpwr_sim_energy(b, 0, &e0b), 0);
	ck_assert_double_eq_tol(e0b - e0, p_hi * 0.5, 1e-9);
	ck_assert_int_eq(vpwr_sim_now(b, &now), 0);
	ck_assert_uint_eq(now, 3000000000u);
	n = vpwr_backend_get_freqs(b, 0, khz, 16);
	ck_assert_int_eq(n, DEF_N + 1);
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(vpwr_sim_residency(b, 0, khz[i], &ns), 0);
		sum += ns;
	}
	ck_assert_uint_eq(sum, now);
	ck_assert_int_eq(vpwr_sim_residency(b, 0, DEF_TURBO, &ns), 0);
	ck_assert_uint_eq(ns, 500000000u);
	/* Not a frequency of the table. */
	ck_assert_int_eq(vpwr_sim_residency(b, 0, 1200001, &ns), -EINVAL);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_advance_edges)
{
	struct vpwr_backend *b = open_sim(NULL);
	uint64_t now;
	double e;

	ck_assert_int_eq(vpwr_sim_advance(b, 0), 0);
	ck_assert_int_eq(vpwr_sim_energy(b, 0, &e), 0);
	ck_assert_double_eq(e, 0.0);
	ck_assert_int_eq(vpwr_sim_advance(b, UINT64_MAX - 5), 0);
	ck_assert_int_eq(vpwr_sim_advance(b, 6), -EOVERFLOW);
	ck_assert_int_eq(vpwr_sim_now(b, &now), 0);
	ck_assert_uint_eq(now, UINT64_MAX - 5);
	ck_assert_int_eq(vpwr_sim_advance(b, 5), 0);
	vpwr_backend_free(b);
}
END_TEST

START_TEST(test_util)
{
	struct vpwr_backend *b = open_sim(NULL);
	double busy, idle;

	ck_assert_int_eq(vpwr_sim_set_util(b, 0, 1.5), -EINVAL);
	ck_assert_int_eq(vpwr_sim_set_util(b, 0, -0.1), -EINVAL);
	ck_assert_int_eq(vpwr_sim_set_util(b, 0, NAN), -EINVAL);
	ck_assert_int_eq(vpwr_sim_set_util(b, 1, 0.0), 0);
	ck_assert_int_eq(vpwr_sim_advance(b, 1000000000u), 0);
	ck_assert_int_eq(vpwr_sim_energy(b, 0, &busy), 0);
	ck_assert_int_eq(vpwr_sim_energy(b, 1, &idle), 0);
	ck_assert_double_lt(idle, busy);
	vpwr_backend_free(b);
}
END_TEST

static void run_script(double out[4])
{
	VPWR_OPTS(vpwr_sim_opts, so, .util = 0.3);
	struct vpwr_backend *b = open_sim(&so);

	ck_assert_int_eq(vpwr_backend_set_freq(b, 0, 1000000), 0);
	ck_assert_int_eq(vpwr_sim_advance(b, 123456789), 0);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 1, 1400000, 1800000), 0);
	ck_assert_int_eq(vpwr_sim_set_util(b, 2, 0.9), 0);
	ck_assert_int_eq(vpwr_sim_advance(b, 987654321), 0);
	for (unsigned i = 0; i < 4; i++)
		ck_assert_int_eq(vpwr_sim_energy(b, i, &out[i]), 0);
	vpwr_backend_free(b);
}

START_TEST(test_deterministic)
{
	double a[4], c[4];

	run_script(a);
	run_script(c);
	ck_assert_mem_eq(a, c, sizeof(a));
	ck_assert_double_ne(a[0], a[1]);
	ck_assert_double_ne(a[2], a[3]);
}
END_TEST

/* ------------------------------------------------- option validation */

START_TEST(test_sim_opts_refused)
{
	static const uint32_t desc[] = { 2000000, 1000000 };
	static const uint32_t dup[] = { 1000000, 1000000 };
	static const uint32_t zero[] = { 0, 1000000 };
	static const uint32_t ok[] = { 1000000, 2000000 };
	const struct {
		struct vpwr_sim_opts o;
		const char *why;
	} cases[] = {
		{ { .freqs_khz = desc, .nr_freqs = 2 }, "freqs_khz[1]" },
		{ { .freqs_khz = dup, .nr_freqs = 2 }, "freqs_khz[1]" },
		{ { .freqs_khz = zero, .nr_freqs = 2 }, "freqs_khz[0]" },
		{ { .freqs_khz = ok, .nr_freqs = 0 }, "table" },
		{ { .nr_freqs = 3 }, "nr_freqs" },
		{ { .freqs_khz = ok, .nr_freqs = 2, .turbo_khz = 2000000 },
		  "turbo" },
		{ { .turbo_khz = 2400000 }, "turbo" },
		{ { .v_min = 1.3 }, "v_min" },
		{ { .v_min = -0.5 }, "v_min" },
		{ { .v_max = -1.0 }, "v_min" },
		{ { .v_min = 1.0, .v_max = 0.9 }, "v_min" },
		{ { .v_max = INFINITY }, "v_min" },
		{ { .static_w = -1 }, "power" },
		{ { .dyn_w_per_ghz_v2 = NAN }, "power" },
		{ { .util = 1.5 }, "util" },
		{ { .util = NAN }, "util" },
		{ { .idle_fraction = 1.01 }, "idle_fraction" },
		{ { .nr_cpus = VPWR_MAX_CPUS + 1 }, "nr_cpus" },
	};
	struct logbuf lb;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct vpwr_sim_opts o = cases[i].o;

		o.sz = sizeof(o);
		ck_assert_msg(open_sim_err(&o, &lb) == -EINVAL,
			      "case %zu accepted", i);
		ck_assert_msg(strstr(lb.text, cases[i].why),
			      "case %zu: log lacks %s: %s", i, cases[i].why,
			      lb.text);
	}
}
END_TEST

START_TEST(test_sim_opts_edges)
{
	static const uint32_t one[] = { 1500000 };
	VPWR_OPTS(vpwr_sim_opts, so, .freqs_khz = one, .nr_freqs = 1,
		  .nr_cpus = VPWR_MAX_CPUS, .idle_fraction = -1, .util = -1,
		  .v_min = 0.9, .v_max = 0.9);
	struct vpwr_backend *b = open_sim(&so);
	double w;

	/* Negative means 0: all static power, nothing dynamic at util 0 ... */
	ck_assert_int_eq(vpwr_backend_nr_cpus(b), VPWR_MAX_CPUS);
	ck_assert_uint_eq(freq(b, VPWR_MAX_CPUS - 1), 1500000);
	ck_assert_int_eq(vpwr_sim_advance(b, 1000000000u), 0);
	ck_assert_int_eq(vpwr_sim_energy(b, 7, &w), 0);
	ck_assert_double_eq_tol(w, 1.0, 1e-12);
	/* ... and a one-entry table does not divide by zero. */
	ck_assert_int_eq(vpwr_sim_power(b, 0, 1500000, 1.0, &w), 0);
	ck_assert_double_eq_tol(w, 1.0 + 3.0 * 1.5 * 0.9 * 0.9, 1e-9);
	ck_assert_int_eq(vpwr_backend_set_limits(b, 0, 1500000, 1500000), 0);
	vpwr_backend_free(b);
}
END_TEST

/* ------------------------------------ the wrappers, with a fake driver */

struct fake {
	uint32_t min, max;
	unsigned epp;
	int restores;
};

static int fake_init(struct vpwr_backend *b)
{
	(void)b;
	return 0;
}

static void fake_fini(struct vpwr_backend *b)
{
	(void)b;
}

static int fake_nr(const struct vpwr_backend *b)
{
	(void)b;
	return 3;
}

static int fake_freqs(struct vpwr_backend *b, unsigned cpu, uint32_t *k,
		      size_t cap)
{
	(void)b;
	(void)cpu;
	if (cap)
		k[0] = 1000000;
	return 1;
}

static int fake_freq(struct vpwr_backend *b, unsigned cpu, uint32_t *khz)
{
	(void)cpu;
	*khz = ((struct fake *)b->priv)->max;
	return 0;
}

static int fake_get_limits(struct vpwr_backend *b, unsigned cpu,
			   uint32_t *lo, uint32_t *hi)
{
	struct fake *f = b->priv;

	(void)cpu;
	*lo = f->min;
	*hi = f->max;
	return 0;
}

static int fake_set_limits(struct vpwr_backend *b, unsigned cpu, uint32_t lo,
			   uint32_t hi)
{
	struct fake *f = b->priv;

	(void)cpu;
	f->min = lo;
	f->max = hi;
	return 0;
}

/* CPU 2 is offline. */
static int fake_caps(struct vpwr_backend *b, unsigned cpu)
{
	(void)b;
	return cpu == 2 ? -ENODEV : (int)VPWR_BACKEND_CAP_ALL;
}

static int fake_get_epp(struct vpwr_backend *b, unsigned cpu)
{
	(void)cpu;
	return (int)((struct fake *)b->priv)->epp;
}

static int fake_set_epp(struct vpwr_backend *b, unsigned cpu, unsigned hint)
{
	(void)cpu;
	((struct fake *)b->priv)->epp = hint;
	return 0;
}

static const struct vpwr_backend_ops fake_ops = {
	.name = "fake",
	.caps = VPWR_BACKEND_CAP_ALL,
	.init = fake_init,
	.fini = fake_fini,
	.nr_cpus = fake_nr,
	.get_freqs = fake_freqs,
	.get_freq = fake_freq,
	.get_limits = fake_get_limits,
	.set_limits = fake_set_limits,
	.cpu_caps = fake_caps,
	.get_epp = fake_get_epp,
	.set_epp = fake_set_epp,
};

START_TEST(test_wrappers_fake_driver)
{
	struct fake f = { .min = 1, .max = 2 };
	struct vpwr_backend fb = { .ops = &fake_ops, .priv = &f };
	uint32_t lo, hi;
	double w;
	uint64_t ns;

	/* Caps only claim what the table implements, whatever it says. */
	ck_assert_int_eq(vpwr_backend_caps(&fb, 0),
			 VPWR_BACKEND_CAP_LIMITS | VPWR_BACKEND_CAP_EPP |
			 VPWR_BACKEND_CAP_TABLE);
	ck_assert_int_eq(vpwr_backend_set_freq(&fb, 0, 1000000),
			 -VPWR_E_UNSUPPORTED);
	ck_assert_int_eq(vpwr_backend_get_turbo(&fb, 0), -VPWR_E_UNSUPPORTED);
	ck_assert_int_eq(vpwr_backend_set_turbo(&fb, 0, 1),
			 -VPWR_E_UNSUPPORTED);
	ck_assert_int_eq(vpwr_backend_restore(&fb, 0), -VPWR_E_UNSUPPORTED);
	ck_assert_int_eq(vpwr_backend_set_limits(&fb, 1, 5, 9), 0);
	ck_assert_int_eq(vpwr_backend_get_limits(&fb, 1, &lo, &hi), 0);
	ck_assert_uint_eq(lo, 5);
	ck_assert_uint_eq(hi, 9);
	/* min > max never reaches the driver. */
	ck_assert_int_eq(vpwr_backend_set_limits(&fb, 1, 9, 5), -EINVAL);
	ck_assert_uint_eq(f.min, 5);
	/* EPP, internal for now. */
	ck_assert_int_eq(vpwr_backend_set_epp(&fb, 0, 192), 0);
	ck_assert_int_eq(vpwr_backend_get_epp(&fb, 0), 192);
	ck_assert_int_eq(vpwr_backend_set_epp(&fb, 0, 256), -EINVAL);
	ck_assert_int_eq(vpwr_backend_get_epp(&fb, 3), -EINVAL);
	ck_assert_int_eq(vpwr_backend_get_epp(NULL, 0), -EINVAL);
	ck_assert_uint_eq(f.epp, 192);
	/* An offline CPU: -ENODEV from the driver, not -EINVAL. */
	ck_assert_int_eq(vpwr_backend_caps(&fb, 2), -ENODEV);
	ck_assert_int_eq(vpwr_backend_set_limits(&fb, 2, 5, 9), -ENODEV);
	ck_assert_int_eq(vpwr_backend_set_epp(&fb, 2, 0), -ENODEV);
	/* The sim extras refuse a backend that is not the simulator. */
	ck_assert_int_eq(vpwr_sim_advance(&fb, 1), -EINVAL);
	ck_assert_int_eq(vpwr_sim_now(&fb, &ns), -EINVAL);
	ck_assert_int_eq(vpwr_sim_set_util(&fb, 0, 0.5), -EINVAL);
	ck_assert_int_eq(vpwr_sim_energy(&fb, 0, &w), -EINVAL);
	ck_assert_int_eq(vpwr_sim_power(&fb, 0, 1000000, 1, &w), -EINVAL);
	ck_assert_int_eq(vpwr_sim_residency(&fb, 0, 1000000, &ns), -EINVAL);
}
END_TEST

START_TEST(test_sim_epp)
{
	struct vpwr_backend *b = open_sim(NULL);

	ck_assert_int_eq(vpwr_backend_get_epp(b, 0), 128);
	ck_assert_int_eq(vpwr_backend_set_epp(b, 0, 0), 0);
	ck_assert_int_eq(vpwr_backend_get_epp(b, 0), 0);
	ck_assert_int_eq(vpwr_backend_set_epp(b, 0, 256), -EINVAL);
	ck_assert_int_eq(vpwr_backend_set_epp(b, 4, 0), -EINVAL);
	vpwr_backend_free(b);
}
END_TEST

static Suite *backend_suite(void)
{
	Suite *s = suite_create("backend_sim");
	TCase *reg = tcase_create("registry");
	TCase *ops = tcase_create("cpufreq");
	TCase *pwr = tcase_create("power");

	tcase_add_test(reg, test_open_defaults);
	tcase_add_test(reg, test_open_errors);
	tcase_add_test(reg, test_auto_no_driver);
	tcase_add_test(reg, test_opts_tail);
	tcase_add_test(reg, test_sim_opts_refused);
	tcase_add_test(reg, test_sim_opts_edges);
	tcase_add_test(reg, test_wrappers_fake_driver);
	tcase_add_test(reg, test_sim_epp);
	suite_add_tcase(s, reg);

	tcase_add_test(ops, test_initial_state);
	tcase_add_test(ops, test_get_freqs_cap);
	tcase_add_test(ops, test_set_freq);
	tcase_add_test(ops, test_set_freq_within_limits);
	tcase_add_test(ops, test_set_limits_clamps);
	tcase_add_test(ops, test_set_limits_refused);
	tcase_add_test(ops, test_turbo);
	tcase_add_test(ops, test_turbo_only_limits);
	tcase_add_test(ops, test_no_turbo_table);
	tcase_add_test(ops, test_default_table_custom_turbo);
	tcase_add_test(ops, test_bad_cpu_and_null);
	tcase_add_test(ops, test_restore);
	tcase_add_test(ops, test_restore_unchanged);
	suite_add_tcase(s, ops);

	tcase_add_test(pwr, test_power_defaults);
	tcase_add_test(pwr, test_power_custom);
	tcase_add_test(pwr, test_power_refused);
	tcase_add_test(pwr, test_energy_and_residency);
	tcase_add_test(pwr, test_advance_edges);
	tcase_add_test(pwr, test_util);
	tcase_add_test(pwr, test_deterministic);
	suite_add_tcase(s, pwr);
	return s;
}

int main(void)
{
	return vpwr_test_run(backend_suite());
}
