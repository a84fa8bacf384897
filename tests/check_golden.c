/*
 * Golden vectors: every case directory under tests/golden/ is decoded and
 * compared with what it says it must decode to.
 *
 *   valid/<case>/    input.bin, codec, expected.txt (vpwr_msg_format of the
 *                    decoded message)
 *   invalid/<case>/  input.bin, codec, error (line 1: the error's name as
 *                    vpwr_strerror_name() gives it; optional line 2: text
 *                    the decoder's explanation must contain)
 *
 * Host-role codecs must also be picked by vpwr_codec_detect() from the
 * bytes alone, as the host does for a new channel.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libvpwr/libvpwr.h"
#include "testutil.h"

#define GOLDEN VPWR_FIXTURES "/../golden"

/* Read a whole file; returns its length or -1. */
static long slurp(const char *dir, const char *name, char *buf, size_t cap)
{
	char path[4096];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "rb");
	if (!f)
		return -1;
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (long)n;
}

static void chomp(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		s[--n] = '\0';
}

static const struct vpwr_codec *case_codec(const char *dir)
{
	char name[64];

	if (slurp(dir, "codec", name, sizeof(name)) < 0)
		ck_abort_msg("%s: no codec file", dir);
	chomp(name);
	if (!vpwr_codec_by_name(name))
		ck_abort_msg("%s: unknown codec '%s'", dir, name);
	return vpwr_codec_by_name(name);
}

static void check_valid(const char *dir)
{
	static char input[65536];
	char want[1024], got[1024];
	const struct vpwr_codec *c = case_codec(dir);
	struct vpwr_decode_error err;
	struct vpwr_msg m;
	long n = slurp(dir, "input.bin", input, sizeof(input));
	int rc, len;

	ck_assert_msg(n > 0, "%s: no input.bin", dir);
	ck_assert_msg(slurp(dir, "expected.txt", want, sizeof(want)) >= 0,
		      "%s: no expected.txt", dir);
	chomp(want);
	if (strcmp(vpwr_codec_name(c), "dpdk-guest"))
		ck_assert_msg(vpwr_codec_detect(input, (size_t)n, NULL) == c,
			      "%s: not detected as %s", dir, vpwr_codec_name(c));
	len = vpwr_codec_frame_len(c, input, (size_t)n, &err);
	ck_assert_msg(len == n, "%s: frame_len %d, file has %ld bytes (%s)",
		      dir, len, n, err.text);
	rc = vpwr_codec_decode(c, input, (size_t)len, &m, &err);
	ck_assert_msg(rc == 0, "%s: decode failed: %s: %s", dir,
		      vpwr_strerror(rc), err.text);
	vpwr_msg_format(&m, got, sizeof(got));
	ck_assert_msg(!strcmp(got, want), "%s:\n  want %s\n  got  %s", dir,
		      want, got);
}

static void check_invalid(const char *dir)
{
	static char input[65536];
	char want[512], *detail;
	const struct vpwr_codec *c = case_codec(dir);
	struct vpwr_decode_error err;
	struct vpwr_msg m;
	const char *name;
	long n = slurp(dir, "input.bin", input, sizeof(input));
	int rc;

	ck_assert_msg(n >= 0, "%s: no input.bin", dir);
	ck_assert_msg(slurp(dir, "error", want, sizeof(want)) > 0,
		      "%s: no error file", dir);
	detail = strchr(want, '\n');
	if (detail) {
		*detail++ = '\0';
		chomp(detail);
	}
	rc = vpwr_codec_frame_len(c, input, (size_t)n, &err);
	ck_assert_msg(rc != 0, "%s: frame_len wants more bytes", dir);
	if (rc > 0)
		rc = vpwr_codec_decode(c, input, (size_t)rc, &m, &err);
	name = vpwr_strerror_name(rc);
	ck_assert_msg(rc < 0, "%s: accepted", dir);
	ck_assert_msg(name && !strcmp(name, want), "%s: want %s, got %s (%s)",
		      dir, want, name ? name : "?", err.text);
	if (detail && *detail)
		ck_assert_msg(strstr(err.text, detail), "%s: '%s' not in '%s'",
			      dir, detail, err.text);
}

static int run_dir(const char *kind, void (*check)(const char *))
{
	char base[4096], path[8192];
	struct dirent **names;
	int n, cases = 0;

	snprintf(base, sizeof(base), "%s/%s", GOLDEN, kind);
	n = scandir(base, &names, NULL, alphasort);
	ck_assert_msg(n >= 0, "%s: %s", base, strerror(errno));
	for (int i = 0; i < n; i++) {
		if (names[i]->d_name[0] != '.') {
			snprintf(path, sizeof(path), "%s/%s", base,
				 names[i]->d_name);
			check(path);
			cases++;
		}
		free(names[i]);
	}
	free(names);
	return cases;
}

/* Each codec must have cases of both kinds: a runner that finds nothing
 * must not pass. */
static void require_cases(const char *kind, const char *prefix)
{
	char base[4096];
	struct dirent **names;
	int n, found = 0;

	snprintf(base, sizeof(base), "%s/%s", GOLDEN, kind);
	n = scandir(base, &names, NULL, alphasort);
	ck_assert_int_ge(n, 0);
	for (int i = 0; i < n; i++) {
		found += !strncmp(names[i]->d_name, prefix, strlen(prefix));
		free(names[i]);
	}
	free(names);
	ck_assert_msg(found > 0, "no %s cases named %s*", kind, prefix);
}

START_TEST(valid_cases)
{
	ck_assert_int_gt(run_dir("valid", check_valid), 0);
	require_cases("valid", "native-");
	require_cases("valid", "dpdk-");
	require_cases("valid", "json-");
}
END_TEST

START_TEST(invalid_cases)
{
	ck_assert_int_gt(run_dir("invalid", check_invalid), 0);
	require_cases("invalid", "native-");
	require_cases("invalid", "dpdk-");
	require_cases("invalid", "json-");
}
END_TEST

static Suite *golden_suite(void)
{
	Suite *s = suite_create("golden");
	TCase *tc = tcase_create("golden");

	tcase_add_test(tc, valid_cases);
	tcase_add_test(tc, invalid_cases);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(golden_suite());
}
