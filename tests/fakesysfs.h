/*
 * A fake kernel for the cpufreq backends: a sysfs tree of real files in a
 * temporary directory, built from tests/fixtures/cpufreq/<name>.json, and a
 * struct vpwr_sysfs_io that enforces on every write what the real drivers
 * enforce (refusals with the kernel's errno, and side effects such as
 * scaling_cur_freq following the limits).  The rules are listed in
 * docs/BACKENDS.md and at the top of fakesysfs.c.
 *
 * Suites #include "fakesysfs.c" (the test targets link only testutil.c).
 * Test-side accessors abort the test on error.  Attribute paths are
 * relative to <root>/devices/system/cpu ("cpu0/cpufreq/scaling_max_freq",
 * "cpufreq/boost").  The kernel's own state (counters, hidden driver
 * state) lives in shared memory, so a forked child's writes are seen by
 * the parent as a real kernel's would be.
 */
#ifndef VPWR_TEST_FAKESYSFS_H
#define VPWR_TEST_FAKESYSFS_H

#include <stdbool.h>
#include <stdint.h>

#include "backend/backend_internal.h"
#include "backend/sysfs.h"

struct fakesysfs;

/* The io ops; their ctx is the struct fakesysfs. */
extern const struct vpwr_sysfs_io fakesysfs_io;

/* Build fixtures/cpufreq/<name>.json's tree; fakesysfs_free removes it. */
struct fakesysfs *fakesysfs_new(const char *name);
void fakesysfs_free(struct fakesysfs *f);

/* The temporary directory (for state files) and the sysfs root in it. */
const char *fakesysfs_dir(const struct fakesysfs *f);
const char *fakesysfs_root(const struct fakesysfs *f);

/* vpwr_backend_open_io() on this fake, o->sysfs_root set to its root. */
int fakesysfs_open(struct fakesysfs *f, const char *name,
		   struct vpwr_backend_opts *o, struct vpwr_backend **out);

/* An attribute's content without the newline (a rotating static buffer). */
const char *fakesysfs_get(struct fakesysfs *f, const char *rel);
uint32_t fakesysfs_get_u32(struct fakesysfs *f, const char *rel);
/* Change a file behind the backend's back: no rules, no side effects. */
void fakesysfs_poke(struct fakesysfs *f, const char *rel, const char *text);
/* Write rel through the fake kernel as a backend would: 0 or -errno. */
int fakesysfs_write(struct fakesysfs *f, const char *rel, const char *val);
/* Remove a file behind the backend's back. */
void fakesysfs_remove(struct fakesysfs *f, const char *rel);
/* Take a CPU offline (its policy turns inactive: -EBUSY) or back. */
void fakesysfs_set_online(struct fakesysfs *f, unsigned cpu, bool online);
/* The next write to rel fails with -err, whatever the value. */
void fakesysfs_fail_next(struct fakesysfs *f, const char *rel, int err);
/* Called before each write is judged (NULL: none). */
void fakesysfs_on_write(struct fakesysfs *f,
			void (*fn)(void *ud, const char *rel, const char *val),
			void *ud);

unsigned fakesysfs_writes(const struct fakesysfs *f);  /* accepted */
unsigned fakesysfs_refused(const struct fakesysfs *f); /* refused */
unsigned fakesysfs_handles(const struct fakesysfs *f); /* open now */
unsigned fakesysfs_write_opens(const struct fakesysfs *f); /* ever */
unsigned fakesysfs_opens(const struct fakesysfs *f); /* ever, any mode */
unsigned fakesysfs_reads(const struct fakesysfs *f); /* ever */
/* Every call a backend made: opens + reads + writes (taken or refused). */
unsigned fakesysfs_calls(const struct fakesysfs *f);
/*
 * Make cpu share owner's policy, as CPUs coordinated in hardware do: its
 * cpufreq/ becomes a link to owner's (one set of files), and owner's
 * related_cpus and affected_cpus name both.  Before the backend opens.
 */
void fakesysfs_share_policy(struct fakesysfs *f, unsigned cpu, unsigned owner);
/* "rel=value: error" of the last refused write, "" if none. */
const char *fakesysfs_last_refusal(const struct fakesysfs *f);

/* A log callback collecting messages, one a line. */
struct fakesysfs_log {
	char text[16384];
};
void fakesysfs_log_fn(enum vpwr_log_level level, const char *msg, void *ud);

/* Every file of the tree, "rel=content" lines, sorted (free() it). */
char *fakesysfs_snapshot(struct fakesysfs *f);
/* Assert two snapshots are equal, naming the first differing file. */
void fakesysfs_assert_same(const char *want, const char *got);

#endif
