/* SPDX-License-Identifier: MIT */
/*
 * Internal helpers shared by every part of the library: logging through the
 * caller's callback, option-struct handling, small utilities.  Never
 * installed.
 */
#ifndef VPWR_INTERNAL_H
#define VPWR_INTERNAL_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "libvpwr/common.h"
#include "libvpwr/error.h"
#include "libvpwr/message.h"

/* Per-handle logger; a zeroed one drops everything. */
struct vpwr_logger {
	vpwr_log_fn fn;
	void *userdata;
	int level;
};

void vpwr_logger_init(struct vpwr_logger *l, vpwr_log_fn fn, void *userdata,
		      int level);
void vpwr_logf(const struct vpwr_logger *l, enum vpwr_log_level level,
	       const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_err(l, ...) vpwr_logf((l), VPWR_LOG_ERR, __VA_ARGS__)
#define log_warn(l, ...) vpwr_logf((l), VPWR_LOG_WARNING, __VA_ARGS__)
#define log_notice(l, ...) vpwr_logf((l), VPWR_LOG_NOTICE, __VA_ARGS__)
#define log_info(l, ...) vpwr_logf((l), VPWR_LOG_INFO, __VA_ARGS__)
#define log_debug(l, ...) vpwr_logf((l), VPWR_LOG_DEBUG, __VA_ARGS__)

/*
 * Copy a caller's option struct (which starts with size_t sz) into `dst`,
 * a zeroed struct of the library's own size.  NULL src gives all defaults.
 * A src shorter than sizeof(size_t), or longer than dst with a non-zero
 * tail (fields this library does not know), is -EINVAL.
 */
int vpwr_opts_load(void *dst, size_t dst_sz, const void *src);

#define VPWR_OPTS_LOAD(dst, src) vpwr_opts_load((dst), sizeof(*(dst)), (src))

/* strlcpy-like: always NUL-terminates when len > 0; returns strlen(src). */
size_t vpwr_strlcpy(char *dst, const char *src, size_t len);

/*
 * "aa:bb:cc:dd:ee:ff" (hex, either case, nothing else; a trailing newline
 * allowed, as sysfs has it) into mac.  0 or -EINVAL.
 */
int vpwr_mac_parse(const char *s, uint8_t mac[6]);

/* A PCI address "DDDD:BB:SS.F" as sysfs names functions (lower case). */
#define VPWR_PCI_ADDR_LEN 13       /* with the NUL */
int vpwr_pci_addr_format(char buf[VPWR_PCI_ADDR_LEN], unsigned long domain,
			 unsigned long bus, unsigned long slot,
			 unsigned long function);
/* Check and canonicalise "DDDD:BB:SS.F" (hex, either case): 0 or -EINVAL. */
int vpwr_pci_addr_parse(const char *s, char buf[VPWR_PCI_ADDR_LEN]);

/* Monotonic clock in ns. */
uint64_t vpwr_now_ns(void);

/* The highest message type this library knows (not public: it grows). */
#define VPWR_MSG_TYPE_MAX_ VPWR_MSG_QUERY_VCPUS

#define VPWR_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define VPWR_MIN(a, b) ((a) < (b) ? (a) : (b))
#define VPWR_MAX(a, b) ((a) > (b) ? (a) : (b))

#endif
