/* SPDX-License-Identifier: MIT */
/* The version of the loaded library. */
#include "internal.h"
#include "libvpwr/version.h"

VPWR_API unsigned vpwr_version(void)
{
	return VPWR_VERSION;
}

#define VPWR_STR_(x) #x
#define VPWR_STR(x) VPWR_STR_(x)

VPWR_API const char *vpwr_version_string(void)
{
	return VPWR_STR(VPWR_VERSION_MAJOR) "." VPWR_STR(
		VPWR_VERSION_MINOR) "." VPWR_STR(VPWR_VERSION_PATCH);
}
