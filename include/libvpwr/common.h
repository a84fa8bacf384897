/* SPDX-License-Identifier: MIT */
/*
 * Definitions shared by every public header: the export macro and the
 * helpers used by option structs.
 */
#ifndef LIBVPWR_COMMON_H
#define LIBVPWR_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Only symbols marked VPWR_API are exported; everything else is hidden. */
#if defined(VPWR_BUILDING) && defined(__GNUC__)
#define VPWR_API __attribute__((visibility("default")))
#else
#define VPWR_API
#endif

/*
 * Option structs begin with `size_t sz`, set by the caller to
 * sizeof(struct ...).  A library built later accepts older, shorter structs
 * (missing fields read as zero); a library built earlier refuses a longer
 * struct whose unknown tail is not all zero (-EINVAL).
 *
 *   VPWR_OPTS(vpwr_host_opts, o, .backend = b);
 */
#define VPWR_OPTS(type, name, ...)                                             \
	struct type name = { .sz = sizeof(struct type), __VA_ARGS__ }

/* Log levels, syslog-compatible values. */
enum vpwr_log_level {
	VPWR_LOG_ERR = 3,
	VPWR_LOG_WARNING = 4,
	VPWR_LOG_NOTICE = 5,
	VPWR_LOG_INFO = 6,
	VPWR_LOG_DEBUG = 7,
};

/*
 * The library never prints.  Each handle takes an optional log callback in
 * its options; messages at or below the handle's log level (default
 * VPWR_LOG_WARNING) are passed to it, without a trailing newline.  The
 * callback is called from the thread that is using the handle.
 */
typedef void (*vpwr_log_fn)(enum vpwr_log_level level, const char *msg,
			    void *userdata);

/* A set of CPUs (physical or virtual), 1024 bits. */
#define VPWR_MAX_CPUS 1024
struct vpwr_cpuset {
	uint64_t bits[VPWR_MAX_CPUS / 64];
};

static inline void vpwr_cpuset_zero(struct vpwr_cpuset *s)
{
	for (size_t i = 0; i < VPWR_MAX_CPUS / 64; i++)
		s->bits[i] = 0;
}

static inline void vpwr_cpuset_set(struct vpwr_cpuset *s, unsigned cpu)
{
	if (cpu < VPWR_MAX_CPUS)
		s->bits[cpu / 64] |= (uint64_t)1 << (cpu % 64);
}

static inline int vpwr_cpuset_isset(const struct vpwr_cpuset *s, unsigned cpu)
{
	return cpu < VPWR_MAX_CPUS &&
	       ((s->bits[cpu / 64] >> (cpu % 64)) & 1);
}

static inline unsigned vpwr_cpuset_count(const struct vpwr_cpuset *s)
{
	unsigned n = 0;
	for (size_t i = 0; i < VPWR_MAX_CPUS / 64; i++)
		if (s->bits[i])
			n += (unsigned)__builtin_popcountll(s->bits[i]);
	return n;
}

/* The next set CPU at or after `from`, or -1.  A word at a time: the host
 * walks vCPU sets on every request, and they are mostly empty words. */
static inline int vpwr_cpuset_next(const struct vpwr_cpuset *s, unsigned from)
{
	for (unsigned i = from / 64; i < VPWR_MAX_CPUS / 64; i++) {
		uint64_t w = s->bits[i];

		if (i == from / 64)
			w &= ~(uint64_t)0 << (from % 64);
		if (w)
			return (int)(i * 64 + (unsigned)__builtin_ctzll(w));
	}
	return -1;
}

#define vpwr_cpuset_foreach(cpu, set)                                          \
	for (int cpu = vpwr_cpuset_next((set), 0); cpu >= 0;                   \
	     cpu = vpwr_cpuset_next((set), (unsigned)cpu + 1))

/*
 * Parse a cpulist ("0-3,8,10-11", libvirt/kernel syntax) into `set`.
 * Returns 0 or -EINVAL.
 */
VPWR_API int vpwr_cpuset_parse(struct vpwr_cpuset *set, const char *list);

/*
 * Format `set` as a cpulist into buf (NUL-terminated).  Returns the length
 * that the full string needs (excluding NUL), like snprintf.
 */
VPWR_API int vpwr_cpuset_format(const struct vpwr_cpuset *set, char *buf,
				size_t len);

#ifdef __cplusplus
}
#endif
#endif
