/* SPDX-License-Identifier: MIT */
/* Error messages and names, from the one table in error.h. */
#include <string.h>

#include "internal.h"

/* |err| without the undefined -INT_MIN. */
static unsigned magnitude(int err)
{
	return err < 0 ? 0u - (unsigned)err : (unsigned)err;
}

VPWR_API const char *vpwr_strerror(int err)
{
	unsigned e = magnitude(err);
	const char *s;

	if (e > 0xFFFF) /* no errno or library code is that large */
		return "unknown error";
	switch (e) {
#define VPWR_X_MSG(name, value, msg)                                           \
	case value:                                                            \
		return msg;
		VPWR_ERROR_TABLE(VPWR_X_MSG)
#undef VPWR_X_MSG
	case 0:
		return "success";
	default:
		break;
	}
	/* strerrordesc_np returns static, untranslated text: thread-safe. */
	s = strerrordesc_np((int)e);
	return s ? s : "unknown error";
}

VPWR_API const char *vpwr_strerror_name(int err)
{
	unsigned e = magnitude(err);

	if (e > 0xFFFF)
		return NULL;
	switch (e) {
#define VPWR_X_NAME(name, value, msg)                                          \
	case value:                                                            \
		return "VPWR_E_" #name;
		VPWR_ERROR_TABLE(VPWR_X_NAME)
#undef VPWR_X_NAME
	default:
		return e ? strerrorname_np((int)e) : NULL;
	}
}

