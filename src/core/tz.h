/* SPDX-License-Identifier: MIT */
/*
 * Time zones for TIME policies, without touching process-global state (no
 * setenv("TZ"), no tzset): the process's local time through localtime_r,
 * fixed offsets, or an IANA zone read from its TZif file.
 */
#ifndef VPWR_TZ_H
#define VPWR_TZ_H

#include <stdint.h>

struct vpwr_tz;

#define VPWR_TZ_ZONEINFO "/usr/share/zoneinfo"

/*
 * `spec`: NULL or "local" (the process's local time, localtime_r),
 * "UTC"/"GMT"/"Z", a fixed ISO 8601 offset "+05:30", "-08", "+0545", or an
 * IANA name ("Europe/Berlin") read from `zoneinfo` (NULL: the system's).
 * Returns 0, -EINVAL (bad syntax, unknown zone, unreadable or malformed
 * TZif, zones with leap seconds) or -ENOMEM.
 */
int vpwr_tz_open(const char *spec, const char *zoneinfo, struct vpwr_tz **out);
void vpwr_tz_free(struct vpwr_tz *tz);

/* What it was opened with ("local" for NULL), for logs. */
const char *vpwr_tz_name(const struct vpwr_tz *tz);

/*
 * The local hour (0..23) at Unix time `t` (seconds), and the first instant
 * after t at which the local hour changes (an hour boundary, or a change of
 * offset such as a DST transition).  Returns 0 or -EOVERFLOW.
 */
int vpwr_tz_hour(const struct vpwr_tz *tz, int64_t t, int *hour,
		 int64_t *next);

#endif
