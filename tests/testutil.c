/* Helpers shared by the check suites. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "testutil.h"

int vpwr_test_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}

char *vpwr_test_tmpdir(void)
{
	const char *base = getenv("TMPDIR");
	char *path;

	if (asprintf(&path, "%s/vpwr-test-XXXXXX", base ? base : "/tmp") < 0)
		abort();
	if (!mkdtemp(path))
		abort();
	return path;
}

static int rm_one(const char *p, const struct stat *st, int flag,
		  struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(p);
}

void vpwr_test_rmtree(const char *path)
{
	if (path)
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void vpwr_test_write_file(const char *dir, const char *name, const char *text)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	for (char *p = path + strlen(dir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		mkdir(path, 0755);
		*p = '/';
	}
	f = fopen(path, "w");
	if (!f)
		abort();
	fputs(text, f);
	fclose(f);
}

void vpwr_test_host_open(struct vpwr_test_host *t, const char *pins,
			 unsigned nr_cpus, const struct vpwr_host_opts *ho)
{
	char uri[4200];
	VPWR_OPTS(vpwr_sim_opts, sim, .nr_cpus = nr_cpus);
	VPWR_OPTS(vpwr_backend_opts, bo, .sim = &sim);
	struct vpwr_host_opts o = { .sz = sizeof(o) };

	if (ho)
		o = *ho;
	t->dir = vpwr_test_tmpdir();
	vpwr_test_write_file(t->dir, "pins.json", pins);
	snprintf(uri, sizeof(uri), "static:%s/pins.json", t->dir);
	ck_assert_int_eq(vpwr_backend_open("sim", &bo, &t->b), 0);
	ck_assert_int_eq(vpwr_resolver_open(uri, NULL, &t->r), 0);
	o.backend = t->b;
	o.resolver = t->r;
	ck_assert_int_eq(vpwr_host_new(&o, &t->h), 0);
}

void vpwr_test_host_close(struct vpwr_test_host *t)
{
	vpwr_host_free(t->h);
	vpwr_resolver_free(t->r);
	vpwr_backend_free(t->b);
	vpwr_test_rmtree(t->dir);
	free(t->dir);
	memset(t, 0, sizeof(*t));
}

uint64_t vpwr_test_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}
