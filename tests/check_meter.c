/*
 * Energy meters: the registry and its argument checks, the "rapl" meter
 * against a fake powercap tree written here (zones, names, order,
 * wrap-around, missing files, bad content), and the "sim" meter against
 * vpwr_sim_energy().
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "backend/backend_internal.h"
#include "libvpwr/backend.h"
#include "libvpwr/meter.h"
#include "libvpwr/sim.h"
#include "testutil.h"

#define PC "class/powercap/"
#define MAXR 262143328850ull  /* a real max_energy_range_uj */

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

/* A fresh fake sysfs root with nothing in it. */
static char *root;

static void setup(void)
{
	root = vpwr_test_tmpdir();
}

static void teardown(void)
{
	vpwr_test_rmtree(root);
	free(root);
	root = NULL;
}

static void put(const char *zone, const char *file, const char *text)
{
	char name[256];

	snprintf(name, sizeof(name), PC "%s/%s", zone, file);
	vpwr_test_write_file(root, name, text);
}

static void put_u64(const char *zone, const char *file, unsigned long long v)
{
	char text[32];

	snprintf(text, sizeof(text), "%llu\n", v);
	put(zone, file, text);
}

static void zone(const char *z, const char *name, unsigned long long max,
		 unsigned long long energy)
{
	put(z, "name", name);
	put_u64(z, "max_energy_range_uj", max);
	put_u64(z, "energy_uj", energy);
}

static void drop(const char *z, const char *file)
{
	char path[4096];

	snprintf(path, sizeof(path), "%s/" PC "%s/%s", root, z, file);
	ck_assert_int_eq(unlink(path), 0);
}

static int open_rapl(struct vpwr_meter **m, struct logbuf *lb)
{
	VPWR_OPTS(vpwr_meter_opts, o, .sysfs_root = root, .log_fn = capture,
		  .log_userdata = lb);

	if (lb)
		memset(lb, 0, sizeof(*lb));
	else
		o.log_fn = NULL;
	return vpwr_meter_open("rapl", &o, m);
}

static double rd(struct vpwr_meter *m, unsigned d)
{
	double j = -1;

	ck_assert_int_eq(vpwr_meter_read(m, d, &j), 0);
	return j;
}

/* ---------------------------------------------------------- registry */

START_TEST(test_registry)
{
	struct vpwr_meter *m = (struct vpwr_meter *)&m;
	struct logbuf lb = { { 0 } };
	VPWR_OPTS(vpwr_meter_opts, o, .log_fn = capture, .log_userdata = &lb);
	double j;

	ck_assert_int_eq(vpwr_meter_open("joulemeter", &o, &m), -ENOENT);
	ck_assert_ptr_null(m);
	ck_assert_ptr_nonnull(strstr(lb.text, "\"joulemeter\""));
	ck_assert_int_eq(vpwr_meter_open("RAPL", NULL, &m), -ENOENT);
	ck_assert_int_eq(vpwr_meter_open(NULL, NULL, &m), -EINVAL);
	ck_assert_int_eq(vpwr_meter_open("sim", NULL, NULL), -EINVAL);
	o.sz = 3;
	ck_assert_int_eq(vpwr_meter_open("rapl", &o, &m), -EINVAL);
	o.sz = sizeof(o);
	o.sysfs_root = "";
	ck_assert_int_eq(vpwr_meter_open("rapl", &o, &m), -EINVAL);
	ck_assert_ptr_null(m);
	vpwr_meter_free(NULL);
	ck_assert_int_eq(vpwr_meter_nr_domains(NULL), -EINVAL);
	ck_assert_ptr_null(vpwr_meter_domain_name(NULL, 0));
	ck_assert_int_eq(vpwr_meter_read(NULL, 0, &j), -EINVAL);
}
END_TEST

START_TEST(test_opts_tail)
{
	struct {
		struct vpwr_meter_opts o;
		uint64_t future;
	} big;
	struct vpwr_meter *m = NULL;

	zone("intel-rapl:0", "package-0\n", MAXR, 5);
	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big);
	big.o.sysfs_root = root;
	big.future = 1;
	ck_assert_int_eq(vpwr_meter_open("rapl", &big.o, &m), -EINVAL);
	big.future = 0;
	ck_assert_int_eq(vpwr_meter_open("rapl", &big.o, &m), 0);
	ck_assert_int_eq(vpwr_meter_nr_domains(m), 1);
	vpwr_meter_free(m);
}
END_TEST

/* -------------------------------------------------------------- rapl */

START_TEST(test_rapl_zones)
{
	struct vpwr_meter *m = NULL;
	double j;

	/* Top-level zones in numeric order; the control type, sub-zones
	 * and the MMIO duplicate are not domains. */
	zone("intel-rapl:10", "psys\n", MAXR, 7);
	zone("intel-rapl:1", "package-1\n", MAXR, 2000);
	zone("intel-rapl:0", "package-0\n", MAXR, 1000);
	zone("intel-rapl:0:0", "core\n", MAXR, 1);
	zone("intel-rapl:1:2", "dram\n", MAXR, 1);
	zone("intel-rapl-mmio:0", "package-0\n", MAXR, 1);
	zone("intel-rapl:01", "package-x\n", MAXR, 1);
	put("intel-rapl", "enabled", "1\n");
	ck_assert_int_eq(open_rapl(&m, NULL), 0);
	ck_assert_int_eq(vpwr_meter_nr_domains(m), 3);
	ck_assert_str_eq(vpwr_meter_domain_name(m, 0), "package-0");
	ck_assert_str_eq(vpwr_meter_domain_name(m, 1), "package-1");
	ck_assert_str_eq(vpwr_meter_domain_name(m, 2), "psys");
	ck_assert_ptr_null(vpwr_meter_domain_name(m, 3));
	/* Counted from open, per zone, in joules. */
	ck_assert_double_eq(rd(m, 0), 0.0);
	put_u64("intel-rapl:0", "energy_uj", 1000 + 2500000);
	put_u64("intel-rapl:1", "energy_uj", 2000 + 1);
	ck_assert_double_eq_tol(rd(m, 0), 2.5, 1e-12);
	ck_assert_double_eq_tol(rd(m, 1), 1e-6, 1e-15);
	ck_assert_double_eq(rd(m, 2), 0.0);
	put_u64("intel-rapl:0", "energy_uj", 1000 + 4000000);
	ck_assert_double_eq_tol(rd(m, 0), 4.0, 1e-12);
	ck_assert_int_eq(vpwr_meter_read(m, 3, &j), -EINVAL);
	ck_assert_int_eq(vpwr_meter_read(m, 0, NULL), -EINVAL);
	vpwr_meter_free(m);
}
END_TEST

START_TEST(test_rapl_wrap)
{
	const unsigned long long max = 1000000000ull; /* 1 kJ */
	struct vpwr_meter *m = NULL;
	unsigned long long last = max - 300000, total = 0;
	static const unsigned long long seq[] = {
		max - 100000, 50000,   /* wraps: max - last + now */
		900000000,    400000,  /* wraps again */
		400000,       max,     /* unchanged, then up to max itself */
		0,                     /* from max to 0: no energy */
	};

	zone("intel-rapl:0", "package-0\n", max, last);
	ck_assert_int_eq(open_rapl(&m, NULL), 0);
	for (size_t i = 0; i < sizeof(seq) / sizeof(seq[0]); i++) {
		unsigned long long now = seq[i];
		double j;

		total += now >= last ? now - last : max - last + now;
		last = now;
		put_u64("intel-rapl:0", "energy_uj", now);
		j = rd(m, 0);
		if (j < total / 1e6 - 1e-9 || j > total / 1e6 + 1e-9)
			ck_abort_msg("read %zu: %.9f J, expected %.9f J", i, j,
				     total / 1e6);
	}
	/* By hand, in µJ: 200000 + 150000 + 899950000 + 100400000 + 0 +
	 * 999600000 + 0. */
	ck_assert_double_eq_tol(rd(m, 0), 2000.3, 1e-9);
	ck_assert_double_eq_tol(rd(m, 0), total / 1e6, 1e-9);
	ck_assert_double_gt(total / 1e6, 1999.0);
	vpwr_meter_free(m);
}
END_TEST

START_TEST(test_rapl_no_zones)
{
	struct vpwr_meter *m = (struct vpwr_meter *)&m;
	struct logbuf lb;

	/* No powercap class at all (these machines), then an empty one, then
	 * only what is not a top-level zone. */
	ck_assert_int_eq(open_rapl(&m, &lb), -ENODEV);
	ck_assert_ptr_null(m);
	ck_assert_ptr_nonnull(strstr(lb.text, root));
	put("intel-rapl", "enabled", "0\n");
	ck_assert_int_eq(open_rapl(&m, &lb), -ENODEV);
	zone("intel-rapl:0:1", "dram\n", MAXR, 1);
	zone("intel-rapl-mmio:0", "package-0\n", MAXR, 1);
	zone("intel-rapl:x", "package-0\n", MAXR, 1);
	ck_assert_int_eq(open_rapl(&m, &lb), -ENODEV);
	ck_assert_ptr_null(m);
	ck_assert_ptr_nonnull(strstr(lb.text, "no intel-rapl:N zone"));
}
END_TEST

START_TEST(test_rapl_missing_files)
{
	static const char *const files[] = { "name", "max_energy_range_uj",
					     "energy_uj" };
	struct vpwr_meter *m = (struct vpwr_meter *)&m;
	struct logbuf lb;

	/* Each file is needed; a broken zone fails the open rather than
	 * leaving a package uncounted. */
	zone("intel-rapl:0", "package-0\n", MAXR, 1);
	for (size_t i = 0; i < 3; i++) {
		zone("intel-rapl:1", "package-1\n", MAXR, 1);
		drop("intel-rapl:1", files[i]);
		ck_assert_int_eq(open_rapl(&m, &lb), -ENOENT);
		ck_assert_ptr_null(m);
		ck_assert_msg(strstr(lb.text, files[i]), "%s", lb.text);
	}
}
END_TEST

START_TEST(test_rapl_read_errors_keep_count)
{
	struct vpwr_meter *m = NULL;
	struct logbuf lb;
	double j = -1;

	zone("intel-rapl:0", "package-0\n", MAXR, 100);
	ck_assert_int_eq(open_rapl(&m, &lb), 0);
	put_u64("intel-rapl:0", "energy_uj", 300);
	ck_assert_double_eq_tol(rd(m, 0), 200e-6, 1e-15);
	/* The counter vanishes, then holds junk, then a value past its
	 * range: errors, and the total is untouched ... */
	drop("intel-rapl:0", "energy_uj");
	ck_assert_int_eq(vpwr_meter_read(m, 0, &j), -ENOENT);
	put("intel-rapl:0", "energy_uj", "lots\n");
	ck_assert_int_eq(vpwr_meter_read(m, 0, &j), -EIO);
	put_u64("intel-rapl:0", "energy_uj", MAXR + 1);
	ck_assert_int_eq(vpwr_meter_read(m, 0, &j), -EIO);
	ck_assert_double_eq(j, -1);
	ck_assert_ptr_nonnull(strstr(lb.text, "energy_uj"));
	/* ... so the next good read counts from the last good one. */
	put_u64("intel-rapl:0", "energy_uj", 1300);
	ck_assert_double_eq_tol(rd(m, 0), 1200e-6, 1e-15);
	vpwr_meter_free(m);
}
END_TEST

START_TEST(test_rapl_bad_content)
{
	static const struct {
		const char *file, *text;
	} cases[] = {
		{ "energy_uj", "" },
		{ "energy_uj", "\n" },
		{ "energy_uj", "abc\n" },
		{ "energy_uj", "12x\n" },
		{ "energy_uj", "-5\n" },
		{ "energy_uj", " 5\n" },
		{ "energy_uj", "5\n\n" },
		{ "energy_uj", "99999999999999999999999\n" },
		{ "energy_uj", "262143328851\n" },    /* above the range */
		{ "energy_uj", "000000000000000000000000000000000001\n" },
		{ "max_energy_range_uj", "0\n" },
		{ "max_energy_range_uj", "0x10\n" },
		{ "name", "" },
		{ "name", "\n" },
		{ "name", "package 0\n" },
		{ "name", "package-0\nextra\n" },
		{ "name", "pkg\x01\n" },
		{ "name", "a-name-far-longer-than-any-powercap-zone-name-"
			  "the-kernel-has-ever-used\n" },
	};
	struct vpwr_meter *m = (struct vpwr_meter *)&m;
	struct logbuf lb;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		zone("intel-rapl:0", "package-0\n", MAXR, 1);
		put("intel-rapl:0", cases[i].file, cases[i].text);
		ck_assert_msg(open_rapl(&m, &lb) == -EIO, "case %zu", i);
		ck_assert_ptr_null(m);
		ck_assert_msg(strstr(lb.text, cases[i].file), "case %zu: %s", i,
			      lb.text);
	}
	/* The same zone, well formed, opens. */
	zone("intel-rapl:0", "package-0\n", MAXR, MAXR);
	ck_assert_int_eq(open_rapl(&m, NULL), 0);
	vpwr_meter_free(m);
}
END_TEST

START_TEST(test_rapl_name_without_newline)
{
	struct vpwr_meter *m = NULL;

	zone("intel-rapl:0", "package-0", MAXR, 1);
	put("intel-rapl:0", "energy_uj", "1");
	ck_assert_int_eq(open_rapl(&m, NULL), 0);
	ck_assert_str_eq(vpwr_meter_domain_name(m, 0), "package-0");
	vpwr_meter_free(m);
}
END_TEST

/* --------------------------------------------------------------- sim */

static const struct vpwr_backend_ops other_ops = { .name = "other" };

START_TEST(test_sim_refused)
{
	struct vpwr_backend other = { .ops = &other_ops };
	struct vpwr_meter *m = (struct vpwr_meter *)&m;
	struct logbuf lb = { { 0 } };
	VPWR_OPTS(vpwr_meter_opts, o, .log_fn = capture, .log_userdata = &lb);

	ck_assert_int_eq(vpwr_meter_open("sim", &o, &m), -EINVAL);
	ck_assert_ptr_null(m);
	ck_assert_ptr_nonnull(strstr(lb.text, "backend"));
	o.backend = &other;
	ck_assert_int_eq(vpwr_meter_open("sim", &o, &m), -EINVAL);
	ck_assert_ptr_null(m);
}
END_TEST

START_TEST(test_sim_agrees)
{
	VPWR_OPTS(vpwr_sim_opts, so, .nr_cpus = 3, .util = 0.5);
	VPWR_OPTS(vpwr_backend_opts, bo, .sim = &so);
	struct vpwr_backend *b = NULL;
	struct vpwr_meter *m = NULL;
	double base[3], now, j;

	ck_assert_int_eq(vpwr_backend_open("sim", &bo, &b), 0);
	/* Energy before the meter opens is not the meter's. */
	ck_assert_int_eq(vpwr_sim_advance(b, 1500000000u), 0);
	for (unsigned c = 0; c < 3; c++)
		ck_assert_int_eq(vpwr_sim_energy(b, c, &base[c]), 0);
	ck_assert_double_gt(base[0], 1.0);
	{
		VPWR_OPTS(vpwr_meter_opts, o, .backend = b);

		ck_assert_int_eq(vpwr_meter_open("sim", &o, &m), 0);
	}
	ck_assert_int_eq(vpwr_meter_nr_domains(m), 3);
	ck_assert_str_eq(vpwr_meter_domain_name(m, 0), "cpu0");
	ck_assert_str_eq(vpwr_meter_domain_name(m, 2), "cpu2");
	ck_assert_ptr_null(vpwr_meter_domain_name(m, 3));
	ck_assert_double_eq(rd(m, 1), 0.0);
	ck_assert_int_eq(vpwr_backend_set_freq(b, 1, 800000), 0);
	ck_assert_int_eq(vpwr_sim_set_offered(b, 2, 5e5), 0);
	ck_assert_int_eq(vpwr_sim_advance(b, 2000000000u), 0);
	for (unsigned c = 0; c < 3; c++) {
		ck_assert_int_eq(vpwr_sim_energy(b, c, &now), 0);
		ck_assert_double_eq_tol(rd(m, c), now - base[c], 1e-12);
	}
	/* The slowed CPU used less than the one left alone. */
	ck_assert_double_lt(rd(m, 1), rd(m, 0));
	ck_assert_int_eq(vpwr_meter_read(m, 3, &j), -EINVAL);
	vpwr_meter_free(m);
	vpwr_backend_free(b);
}
END_TEST

static Suite *meter_suite(void)
{
	Suite *s = suite_create("meter");
	TCase *reg = tcase_create("registry");
	TCase *rapl = tcase_create("rapl");
	TCase *sim = tcase_create("sim");

	tcase_add_test(reg, test_registry);
	suite_add_tcase(s, reg);
	tcase_add_checked_fixture(rapl, setup, teardown);
	tcase_add_test(rapl, test_opts_tail);
	tcase_add_test(rapl, test_rapl_zones);
	tcase_add_test(rapl, test_rapl_wrap);
	tcase_add_test(rapl, test_rapl_no_zones);
	tcase_add_test(rapl, test_rapl_missing_files);
	tcase_add_test(rapl, test_rapl_read_errors_keep_count);
	tcase_add_test(rapl, test_rapl_bad_content);
	tcase_add_test(rapl, test_rapl_name_without_newline);
	suite_add_tcase(s, rapl);
	tcase_add_test(sim, test_sim_refused);
	tcase_add_test(sim, test_sim_agrees);
	suite_add_tcase(s, sim);
	return s;
}

int main(void)
{
	return vpwr_test_run(meter_suite());
}
