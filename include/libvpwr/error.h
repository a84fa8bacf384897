/* SPDX-License-Identifier: MIT */
/*
 * Errors.  Every function that can fail returns an int: 0 or a positive
 * value on success, a negative errno (-EINVAL, -ENOMEM, ...) or a negative
 * library code -VPWR_E_* (all >= 4000) on failure.
 *
 * Library codes are only ever appended; a retired code keeps its number.
 */
#ifndef LIBVPWR_ERROR_H
#define LIBVPWR_ERROR_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* X(name, value, message): the one table codes and messages come from. */
#define VPWR_ERROR_TABLE(X)                                                    \
	X(PROTO, 4000, "malformed message")                                    \
	X(VERSION, 4001, "unsupported protocol version")                       \
	X(TOOBIG, 4002, "frame exceeds the size limit")                        \
	X(NO_DOMAIN, 4003, "unknown domain")                                   \
	X(VCPU_RANGE, 4004, "vCPU out of range for this domain")               \
	X(NOT_PINNED, 4005, "vCPU has no physical CPU")                        \
	X(SHARED_CPU, 4006, "physical CPU is shared with another domain")      \
	X(UNSUPPORTED, 4007, "operation not supported by the backend")         \
	X(CLOSED, 4008, "channel closed by the peer")                          \
	X(RATE_LIMIT, 4009, "request rate limit exceeded")                     \
	X(LIMIT, 4010, "resource limit reached")                               \
	X(CONFIG, 4011, "invalid configuration")                               \
	X(NOT_SERVING, 4012, "no server is listening on this channel")         \
	X(BAD_FREQ, 4013, "frequency outside the CPU's range")

enum vpwr_error {
#define VPWR_X_ENUM(name, value, msg) VPWR_E_##name = value,
	VPWR_ERROR_TABLE(VPWR_X_ENUM)
#undef VPWR_X_ENUM
};

/*
 * A static, human-readable message for `err` (negative or positive errno or
 * VPWR_E_* code).  Never returns NULL.  Thread-safe.
 */
VPWR_API const char *vpwr_strerror(int err);

/*
 * The symbolic name of `err` ("EINVAL", "VPWR_E_PROTO"), or NULL if
 * unknown.  Thread-safe.
 */
VPWR_API const char *vpwr_strerror_name(int err);

#ifdef __cplusplus
}
#endif
#endif
