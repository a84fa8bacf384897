/* SPDX-License-Identifier: MIT */
/*
 * A program outside the project, built against an installed libvpwr by
 * tests/install/run.sh: once through pkg-config, once through
 * find_package(libvpwr).  It checks that the header and the library that
 * gets loaded agree, and prints the version.
 *
 *   consumer URI [MODULE_DIR]
 * opens a resolver instead (module_dir = MODULE_DIR), prints what the
 * library logs (debug level) and then "URI: N domains" or
 * "URI: error -E (text)"; exits 0 only if it opened.
 */
#include <stdio.h>
#include <string.h>

#include <libvpwr/libvpwr.h>

/* The message error.h promises for VPWR_E_PROTO, from its own table. */
#define PROTO_TEXT(name, value, msg) \
	if (value == VPWR_E_PROTO)   \
		expected = msg;

static void print_log(enum vpwr_log_level level, const char *msg, void *ud)
{
	(void)ud;
	printf("log %d: %s\n", (int)level, msg);
}

static void count(const char *domain, void *ud)
{
	(void)domain;
	++*(int *)ud;
}

static int open_resolver(const char *uri, const char *module_dir)
{
	struct vpwr_resolver *r = NULL;
	int n = 0, err;
	VPWR_OPTS(vpwr_resolver_opts, o, .log_fn = print_log,
		  .log_level = VPWR_LOG_DEBUG, .module_dir = module_dir);

	err = vpwr_resolver_open(uri, &o, &r);
	if (err) {
		printf("%s: error %d (%s)\n", uri, err, vpwr_strerror(err));
		return 1;
	}
	vpwr_resolver_foreach_domain(r, count, &n);
	printf("%s: %d domains\n", uri, n);
	vpwr_resolver_free(r);
	return 0;
}

int main(int argc, char **argv)
{
	const char *expected = NULL;
	const char *text = vpwr_strerror(-VPWR_E_PROTO);

	if (argc > 1)
		return open_resolver(argv[1], argc > 2 ? argv[2] : NULL);
	VPWR_ERROR_TABLE(PROTO_TEXT)
	if (vpwr_version() != VPWR_VERSION) {
		fprintf(stderr, "consumer: header version 0x%06x, library 0x%06x\n",
			(unsigned)VPWR_VERSION, vpwr_version());
		return 1;
	}
	if (!text || !*text || !expected || strcmp(text, expected) != 0) {
		fprintf(stderr, "consumer: vpwr_strerror(-VPWR_E_PROTO) = \"%s\", "
			"expected \"%s\"\n", text ? text : "(null)",
			expected ? expected : "(null)");
		return 1;
	}
	printf("libvpwr %s\n", vpwr_version_string());
	return 0;
}
