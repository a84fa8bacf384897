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

#endif
