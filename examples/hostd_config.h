/* SPDX-License-Identifier: MIT */
/*
 * vpwr-hostd's configuration: a JSON file (docs/HOSTD.md) and the command
 * line, merged.  Not part of the library.
 */
#ifndef VPWR_HOSTD_CONFIG_H
#define VPWR_HOSTD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libvpwr/libvpwr.h>

/* Every number is a long: -1 means "not set here". */
#define HOSTD_UNSET (-1L)

enum hostd_log_target {
	HOSTD_LOG_AUTO = 0,  /* journal if stderr is the journal, syslog when
				detached, stderr otherwise */
	HOSTD_LOG_STDERR,
	HOSTD_LOG_JOURNAL,   /* stderr lines with "<N>" level prefixes */
	HOSTD_LOG_SYSLOG,
};

struct hostd_channel {
	char *domain;        /* NULL: bind peers by vsock CID */
	char *uri;
	bool connect;        /* connect to uri instead of listening on it */
};

struct hostd_bound {
	char *domain;        /* per domain, or NULL: per pCPU (cpus) */
	char *cpus;          /* a cpulist, "2-3,6" */
	long min_khz, max_khz;
};

struct hostd_config {
	char *backend, *sysfs_root, *state_file;
	long sim_cpus, sim_wallclock;
	char *resolver;
	long auto_channels;
	long port_events;    /* libvirt: hear guests open/close their ports */
	char *watch_dir, *control, *pid_file, *time_zone;
	long mode;           /* enum vpwr_arbitration */
	long allow_shared;
	long max_channels, max_domain_channels, rate_per_s, rate_burst;
	long traffic_period_ms, grace_ms;
	long log_level;      /* enum vpwr_log_level */
	long log_target;     /* enum hostd_log_target */
	struct hostd_channel *channels;
	size_t nr_channels;
	struct hostd_bound *bounds;
	size_t nr_bounds;
};

void hostd_config_init(struct hostd_config *c);
void hostd_config_free(struct hostd_config *c);

/*
 * Read `path` into c (on top of what c holds).  0, or -1 with the reason
 * in err: a file that is not JSON (with line and column), an unknown key,
 * a value of the wrong type or range (naming the key).
 */
int hostd_config_load(struct hostd_config *c, const char *path, char *err,
		      size_t errlen);

/* Everything set in `over` replaces c's; channels and bounds are added. */
int hostd_config_overlay(struct hostd_config *c,
			 const struct hostd_config *over);

/* Defaults for what is still unset; -1 with err if it cannot run. */
int hostd_config_finish(struct hostd_config *c, char *err, size_t errlen);

/* Parsers shared with the command line; 0 or -1. */
int hostd_parse_mode(const char *s, long *mode);
int hostd_parse_level(const char *s, long *level);
int hostd_parse_target(const char *s, long *target);
int hostd_parse_count(const char *s, long *v);
/* "DOMAIN=URI" ("=URI": by vsock CID) into a new channel of c. */
int hostd_add_channel(struct hostd_config *c, const char *arg, bool connect);

const char *hostd_mode_name(long mode);
const char *hostd_level_name(long level);
const char *hostd_target_name(long target);

bool hostd_channel_equal(const struct hostd_channel *a,
			 const struct hostd_channel *b);
bool hostd_bound_equal(const struct hostd_bound *a,
		       const struct hostd_bound *b);

/* fn(name) for each setting SIGHUP cannot change whose value differs
 * between a and b ("backend", "limits.rate_per_s", ...). */
void hostd_config_fixed_changes(const struct hostd_config *a,
				const struct hostd_config *b,
				void (*fn)(const char *name, void *ud),
				void *ud);

/* The whole configuration as JSON text (malloc'd), for --print-config. */
char *hostd_config_dump(const struct hostd_config *c);

#endif
