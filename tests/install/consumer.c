/* SPDX-License-Identifier: MIT */
/*
 * A program outside the project, built against an installed libvpwr by
 * tests/install/run.sh: once through pkg-config, once through
 * find_package(libvpwr).  It checks that the header and the library that
 * gets loaded agree, and prints the version.
 */
#include <stdio.h>
#include <string.h>

#include <libvpwr/libvpwr.h>

/* The message error.h promises for VPWR_E_PROTO, from its own table. */
#define PROTO_TEXT(name, value, msg) \
	if (value == VPWR_E_PROTO)   \
		expected = msg;

int main(void)
{
	const char *expected = NULL;
	const char *text = vpwr_strerror(-VPWR_E_PROTO);

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
