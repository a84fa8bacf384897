/* Helpers shared by the check suites. */
#ifndef VPWR_TESTUTIL_H
#define VPWR_TESTUTIL_H

#include <check.h>
#include <stddef.h>

/* Run `s` and return the process exit status for main(). */
int vpwr_test_run(Suite *s);

/* A fresh temporary directory (mkdtemp), removed with vpwr_test_rmtree. */
char *vpwr_test_tmpdir(void);
void vpwr_test_rmtree(const char *path);

/* Write `text` to dir/name, creating parent directories. */
void vpwr_test_write_file(const char *dir, const char *name, const char *text);

#include "libvpwr/libvpwr.h"

/* CLOCK_MONOTONIC in milliseconds. */
uint64_t vpwr_test_now_ms(void);

/* A host on the simulator and a static resolver, as most host suites use. */
struct vpwr_test_host {
	char *dir;                 /* temp dir holding pins.json */
	struct vpwr_backend *b;
	struct vpwr_resolver *r;
	struct vpwr_host *h;
};

/*
 * Write `pins` to a fresh temp dir, open a sim backend of `nr_cpus` CPUs,
 * a static resolver on it, and a host with `ho` (NULL: defaults; its
 * backend and resolver are filled in).  Aborts the test on failure.
 */
void vpwr_test_host_open(struct vpwr_test_host *t, const char *pins,
			 unsigned nr_cpus, const struct vpwr_host_opts *ho);

/* Free the host (if still there), resolver, backend and temp dir. */
void vpwr_test_host_close(struct vpwr_test_host *t);

#endif
