/*
 * mkfakesysfs FIXTURE DIR: materialise tests/fixtures/cpufreq/FIXTURE.json
 * as a sysfs tree of plain files rooted at DIR (DIR/devices/system/cpu/...),
 * for a daemon run with --sysfs-root DIR.  The tree is the one the backend
 * suites start from (tests/fakesysfs.c builds it); DIR must not exist or be
 * empty.  Plain files enforce nothing: writes land as they are written.
 */
#include <errno.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fakesysfs.c"

static const char *fixture, *dest;

/* The fake's helpers assert with check: run them as a (forkless) test. */
START_TEST(materialise)
{
	struct fakesysfs *f = fakesysfs_new(fixture);
	int err = rename(fakesysfs_root(f), dest) ? errno : 0;

	ck_assert_msg(!err, "%s -> %s: %s", fakesysfs_root(f), dest,
		      strerror(err));
	fakesysfs_free(f);
}
END_TEST

int main(int argc, char **argv)
{
	Suite *s = suite_create("mkfakesysfs");
	TCase *tc = tcase_create("materialise");
	SRunner *sr;
	char *copy;
	int failed;

	if (argc != 3) {
		fprintf(stderr, "usage: mkfakesysfs FIXTURE DIR\n");
		return 2;
	}
	fixture = argv[1];
	dest = argv[2];
	/* Built next to DIR so that one rename moves it there. */
	copy = strdup(dest);
	if (!copy || setenv("TMPDIR", dirname(copy), 1)) {
		perror("mkfakesysfs");
		return 1;
	}
	tcase_add_test(tc, materialise);
	suite_add_tcase(s, tc);
	sr = srunner_create(s);
	srunner_set_fork_status(sr, CK_NOFORK);
	srunner_run_all(sr, CK_SILENT);
	failed = srunner_ntests_failed(sr);
	if (failed) {
		TestResult **r = srunner_failures(sr);

		fprintf(stderr, "mkfakesysfs: %s\n", tr_msg(r[0]));
		free(r);
	}
	srunner_free(sr);
	free(copy);
	return failed ? 1 : 0;
}
