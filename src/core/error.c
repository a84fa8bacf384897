/* SPDX-License-Identifier: MIT */
/* Error messages and names, from the one table in error.h. */
#include <string.h>

#include "internal.h"

VPWR_API const char *vpwr_strerror(int err)
{
	const char *s;

	if (err < 0)
		err = -err;
	switch (err) {
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
	s = strerrordesc_np(err);
	return s ? s : "unknown error";
}

VPWR_API const char *vpwr_strerror_name(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
#define VPWR_X_NAME(name, value, msg)                                          \
	case value:                                                            \
		return "VPWR_E_" #name;
		VPWR_ERROR_TABLE(VPWR_X_NAME)
#undef VPWR_X_NAME
	default:
		return err ? strerrorname_np(err) : NULL;
	}
}

