/* SPDX-License-Identifier: MIT */
/*
 * What the cpufreq drivers (acpi_cpufreq.c, intel_pstate.c,
 * cppc_cpufreq.c, amd_pstate.c) share.
 *
 * - File I/O goes through a small ops table, struct vpwr_sysfs_io, so the
 *   unit tests can slide a fake kernel under the drivers (tests/fakesysfs.c)
 *   while production uses real open/pread/pwrite under the sysfs root.
 * - The per-policy work every cpufreq driver does the same way: limits in
 *   an order the kernel accepts, the userspace governor and
 *   scaling_setspeed, the machine-wide turbo knob, EPP, and saving the
 *   originals (state.h) before the first write to a CPU.  sysfs.c holds
 *   the I/O; cpufreq.c each CPU's view and the files kept open;
 *   acpi_cpufreq.c the generic writes;
 *   intel_pstate.c EPP and the synthesised tables; state.c the restore.
 *
 * A driver describes itself with a struct vpwr_cpufreq_desc and fills its
 * ops table with the vpwr_cpufreq_* functions below, adding what is its own
 * (how its frequency list is built, its EPP names).
 */
#ifndef VPWR_BACKEND_SYSFS_H
#define VPWR_BACKEND_SYSFS_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "backend/backend_internal.h"
#include "backend/state.h"

/* ------------------------------------------------------------- file I/O */

enum vpwr_sysfs_mode {
	VPWR_SYSFS_READ,  /* read-only */
	VPWR_SYSFS_WRITE, /* one write, replacing the content (O_TRUNC) */
	VPWR_SYSFS_RDWR,  /* kept open, read and written again and again */
};

/*
 * How the helpers reach files.  Paths are absolute (the sysfs root
 * prepended).  Every function returns -errno on failure, which for a write
 * is the kernel's answer to the value (-EINVAL, -EBUSY, ...).
 */
struct vpwr_sysfs_io {
	/* A handle >= 0 for `path`. */
	int (*open)(void *ctx, const char *path, enum vpwr_sysfs_mode mode);
	/* The content from its start, at most cap bytes: the length read. */
	ssize_t (*read)(void *ctx, int h, char *buf, size_t cap);
	/* Replace the whole content with buf[0..len). */
	int (*write)(void *ctx, int h, const char *buf, size_t len);
	void (*close)(void *ctx, int h);
};

/*
 * open(2), pread(2) and pwrite(2) at offset 0; ctx unused.  A sysfs
 * attribute takes its whole value in one write at offset 0, so a write is
 * one pwrite(2).
 */
extern const struct vpwr_sysfs_io vpwr_sysfs_io_default;
/*
 * The same for a tree of plain files (a copy of /sys on tmpfs, as the tests
 * and the benchmark use): a file kept open keeps the tail of a longer old
 * value, so each write is followed by ftruncate(2).
 */
extern const struct vpwr_sysfs_io vpwr_sysfs_io_files;
/* vpwr_sysfs_io_default if <root>/devices/system/cpu is sysfs (or cannot be
 * looked at), else vpwr_sysfs_io_files. */
const struct vpwr_sysfs_io *vpwr_sysfs_io_for(const char *root);

/* Where one backend's files are, and how to reach them. */
struct vpwr_sysfs {
	const struct vpwr_sysfs_io *io;
	void *ctx;
	const char *root;
	const struct vpwr_logger *log;
};

/* The accessor for b (io, root and logger of the handle). */
struct vpwr_sysfs vpwr_sysfs_of(const struct vpwr_backend *b);

/*
 * Attribute paths are relative to <root>/devices/system/cpu: with cpu >= 0,
 * to its cpu<N>/ directory ("cpufreq/scaling_max_freq", "online"), with
 * cpu < 0 to the directory itself ("cpufreq/boost", "present").
 */
int vpwr_sysfs_path(const struct vpwr_sysfs *fs, int cpu, const char *rel,
		    char *buf, size_t len);

/*
 * Read an attribute, trailing whitespace removed: its length, or -errno
 * (-ENOENT when it does not exist; not logged, callers decide).
 */
int vpwr_sysfs_read(const struct vpwr_sysfs *fs, int cpu, const char *rel,
		    char *buf, size_t cap);
/* A decimal attribute; content that is not one is -EPROTO (logged). */
int vpwr_sysfs_read_u32(const struct vpwr_sysfs *fs, int cpu, const char *rel,
			uint32_t *out);
/* Write `val` in one go; a refusal is logged with the CPU and the path. */
int vpwr_sysfs_write(const struct vpwr_sysfs *fs, int cpu, const char *rel,
		     const char *val);
/* 1 if the attribute exists, 0 if not, or -errno. */
int vpwr_sysfs_exists(const struct vpwr_sysfs *fs, int cpu, const char *rel);

/* Strict decimal: digits only, no sign, fits in 32 bits. */
bool vpwr_sysfs_parse_u32(const char *s, uint32_t *out);

/* Is `word` one of the space-separated words of `list`? */
bool vpwr_sysfs_word_in(const char *list, const char *word);

/* ------------------------------------------------------ the shared engine */

#define VPWR_CPUFREQ_MAX_FREQS 256u /* entries beyond are left out */
#define VPWR_CPUFREQ_GRID_KHZ 100000u /* synthesised lists: 100 MHz steps */

/* What a driver has; a CPU only gets what its files also offer. */
#define VPWR_CPUFREQ_SETSPEED 0x01u  /* generic governors: userspace + setspeed */
#define VPWR_CPUFREQ_TABLE 0x02u     /* a discrete table (CAP_TABLE) */
#define VPWR_CPUFREQ_BOOST 0x04u     /* cpufreq/boost, 1 = on */
#define VPWR_CPUFREQ_NO_TURBO 0x08u  /* intel_pstate/no_turbo, 1 = off */
#define VPWR_CPUFREQ_EPP 0x10u       /* energy_performance_preference */
#define VPWR_CPUFREQ_EPP_NUMBERS 0x20u /* it may also take 0..255 */

/* An EPP name and the hint it stands for (0 performance .. 255 power). */
struct vpwr_epp_name {
	const char *name;
	unsigned value;
};

#define VPWR_CPUFREQ_MAX_EPP 8u /* names in a vpwr_cpufreq_desc */

struct vpwr_cpufreq_desc {
	const char *driver; /* what scaling_driver says */
	unsigned flags;     /* VPWR_CPUFREQ_* */
	const struct vpwr_epp_name *epp; /* with VPWR_CPUFREQ_EPP */
	size_t nr_epp;                   /* <= VPWR_CPUFREQ_MAX_EPP */
	/*
	 * The CPU's frequencies as the kernel shows them now, ascending, at
	 * most VPWR_CPUFREQ_MAX_FREQS into khz: how many, or -errno.  Reads
	 * only; the CPU has a policy.
	 */
	int (*list)(struct vpwr_backend *b, unsigned cpu, uint32_t *khz);
};

/* The attributes a host reads and writes all the time, kept open. */
#define VPWR_CPUFREQ_SETSPEED_F "cpufreq/scaling_setspeed"
#define VPWR_CPUFREQ_CUR "cpufreq/scaling_cur_freq"
#define VPWR_CPUFREQ_MIN "cpufreq/scaling_min_freq"
#define VPWR_CPUFREQ_MAX "cpufreq/scaling_max_freq"
#define VPWR_CPUFREQ_GOVERNOR "cpufreq/scaling_governor"
#define VPWR_CPUFREQ_EPP_F "cpufreq/energy_performance_preference"
#define VPWR_CPUFREQ_EPP_AVAIL                                                 \
	"cpufreq/energy_performance_available_preferences"
#define VPWR_CPUFREQ_MAX_OPEN 256 /* kept-open descriptors per backend */

enum vpwr_cpufreq_hot {
	VPWR_CPUFREQ_SETSPEED_H,
	VPWR_CPUFREQ_CUR_H,
	VPWR_CPUFREQ_MIN_H,
	VPWR_CPUFREQ_MAX_H,
	VPWR_CPUFREQ_NR_HOT,
};

/*
 * The backend's view of one CPU: what its files hold, so that a call that
 * changes nothing costs no system call.  The backend takes itself for the
 * only writer of these files: what it wrote is not read again.  All of it
 * is read again after any failed or refused access (refresh), `known` is
 * cleared when a turbo change moves the limits and lists of every CPU, and
 * the queries (get_limits, get_epp, get_turbo) take in what they find.
 */
struct vpwr_cpufreq_cpu {
	bool policy;        /* online, with a cpufreq policy */
	bool userspace;     /* "userspace" is an available governor */
	bool setspeed;      /* scaling_setspeed exists (and the driver uses it) */
	bool epp;           /* energy_performance_preference exists */
	bool epp_names_only; /* the kernel refused a number: write names */
	bool shared;        /* related_cpus names other CPUs too */
	unsigned policy_id; /* the lowest of related_cpus */
	char governor[VPWR_STATE_STR];
	int hot[VPWR_CPUFREQ_NR_HOT]; /* handles, -1 when closed */
	unsigned hot_rw;    /* bit i: hot[i] is open for writing too */

	/* ---- loaded together (vpwr_cpufreq_view), valid while `known` */
	bool known;
	uint32_t min_khz, max_khz; /* scaling_min/max_freq as sysfs shows them */
	uint32_t *freqs;           /* the driver's list, ascending */
	unsigned nr_freqs;         /* 1 .. VPWR_CPUFREQ_MAX_FREQS */
	unsigned epp_offered;      /* bit i: desc->epp[i] is offered */
	/* ---- what was last written (or read), valid while `known` */
	uint32_t min_req, max_req; /* the limits asked for (the kernel may
				    * show less: turbo off, a global cap) */
	uint32_t setspeed_khz;     /* 0: not known (not written since the
				    * governor last changed) */
	char epp_now[VPWR_STATE_STR]; /* "": not known */
};

/* A cpufreq driver's b->priv. */
struct vpwr_cpufreq {
	struct vpwr_sysfs fs;
	const struct vpwr_cpufreq_desc *desc;
	unsigned nr_cpus;
	struct vpwr_cpufreq_cpu *cpu;
	bool has_turbo;                /* the turbo knob exists */
	int turbo_raw;                 /* its content, 0 or 1; -1: not known */
	unsigned nr_open;              /* kept-open handles */
	unsigned max_open;             /* at most VPWR_CPUFREQ_MAX_OPEN; lower
					* once the process ran out of fds */
	struct vpwr_state saved;       /* the originals (state.c) */
	/* Saved only because turbo, which is machine-wide, changed them: put
	 * back when turbo is. */
	struct vpwr_cpuset collateral;
};

static inline struct vpwr_cpufreq *vpwr_cpufreq_of(const struct vpwr_backend *b)
{
	return b->priv;
}

/* probe(): 0 if the first online CPU's scaling_driver is `driver`. */
int vpwr_cpufreq_probe(const struct vpwr_backend *b, const char *driver);

int vpwr_cpufreq_init(struct vpwr_backend *b,
		      const struct vpwr_cpufreq_desc *desc);
void vpwr_cpufreq_fini(struct vpwr_backend *b);

/* The parts of struct vpwr_backend_ops every cpufreq driver shares. */
int vpwr_cpufreq_nr_cpus(const struct vpwr_backend *b);
/* The view's list (desc->list, read at open and after changes). */
int vpwr_cpufreq_get_freqs(struct vpwr_backend *b, unsigned cpu,
			   uint32_t *khz, size_t cap);
int vpwr_cpufreq_cpu_caps(struct vpwr_backend *b, unsigned cpu);
int vpwr_cpufreq_get_freq(struct vpwr_backend *b, unsigned cpu, uint32_t *khz);
int vpwr_cpufreq_get_limits(struct vpwr_backend *b, unsigned cpu,
			    uint32_t *min_khz, uint32_t *max_khz);
/* The online CPUs sharing cpu's policy (related_cpus, as read at open). */
int vpwr_cpufreq_policy_cpus(struct vpwr_backend *b, unsigned cpu,
			     struct vpwr_cpuset *out);
/*
 * acpi_cpufreq.c: the generic cpufreq interface acpi-cpufreq is the
 * plainest user of: limits, the userspace governor and scaling_setspeed,
 * the turbo knob (cpufreq/boost, or intel_pstate/no_turbo inverted).
 */
int vpwr_cpufreq_set_limits(struct vpwr_backend *b, unsigned cpu,
			    uint32_t min_khz, uint32_t max_khz);
int vpwr_cpufreq_set_freq(struct vpwr_backend *b, unsigned cpu, uint32_t khz);
int vpwr_cpufreq_get_turbo(struct vpwr_backend *b, unsigned cpu);
int vpwr_cpufreq_set_turbo(struct vpwr_backend *b, unsigned cpu, bool enable);
/* intel_pstate.c: the EPP interface, which amd-pstate-epp shares. */
int vpwr_cpufreq_get_epp(struct vpwr_backend *b, unsigned cpu);
int vpwr_cpufreq_set_epp(struct vpwr_backend *b, unsigned cpu, unsigned hint);
/* state.c: the originals. */
int vpwr_cpufreq_restore(struct vpwr_backend *b, unsigned cpu);
const struct vpwr_state *vpwr_cpufreq_saved(struct vpwr_backend *b);
int vpwr_cpufreq_adopt(struct vpwr_backend *b, const struct vpwr_state *st);

/* Frequency lists for vpwr_cpufreq_desc.list. */
/* acpi_cpufreq.c: scaling_available_frequencies up to cpuinfo_max_freq. */
int vpwr_cpufreq_table_list(struct vpwr_backend *b, unsigned cpu,
			    uint32_t *khz);
/* intel_pstate.c: lo, every multiple of 100 MHz between, then hi. */
int vpwr_cpufreq_grid(uint32_t lo, uint32_t hi, uint32_t *khz, size_t cap);
/* intel_pstate.c: the grid across cpuinfo_min/max_freq (continuous CPPC). */
int vpwr_cpufreq_range_list(struct vpwr_backend *b, unsigned cpu,
			    uint32_t *khz);

/* The entries of an ops table every cpufreq driver shares. */
#define VPWR_CPUFREQ_COMMON_OPS                                                \
	.fini = vpwr_cpufreq_fini, .nr_cpus = vpwr_cpufreq_nr_cpus,           \
	.get_freqs = vpwr_cpufreq_get_freqs,                                   \
	.get_freq = vpwr_cpufreq_get_freq,                                     \
	.get_limits = vpwr_cpufreq_get_limits,                                 \
	.set_limits = vpwr_cpufreq_set_limits,                                 \
	.cpu_caps = vpwr_cpufreq_cpu_caps, .get_turbo = vpwr_cpufreq_get_turbo, \
	.set_turbo = vpwr_cpufreq_set_turbo, .restore = vpwr_cpufreq_restore,  \
	.policy_cpus = vpwr_cpufreq_policy_cpus,                              \
	.saved = vpwr_cpufreq_saved, .adopt = vpwr_cpufreq_adopt

/* ----------------------------------------- the engine's internal helpers */

/* CPU ids (0 .. n-1): n, or -errno. */
int vpwr_sysfs_nr_cpus(const struct vpwr_sysfs *fs);
/* 1 online, 0 offline, or -errno; no online file means online. */
int vpwr_sysfs_online(const struct vpwr_sysfs *fs, unsigned cpu);

/*
 * A CPU's attribute (relative to its cpu<N>/ directory).  Failures are
 * logged with the CPU and the path; the view of the CPU is then re-read
 * and -ENODEV returned if it has gone offline.
 */
int vpwr_cpufreq_read(struct vpwr_backend *b, unsigned cpu, const char *rel,
		      char *buf, size_t cap);
int vpwr_cpufreq_read_u32(struct vpwr_backend *b, unsigned cpu,
			  const char *rel, uint32_t *out);
int vpwr_cpufreq_write(struct vpwr_backend *b, unsigned cpu, const char *rel,
		       const char *val);
int vpwr_cpufreq_write_u32(struct vpwr_backend *b, unsigned cpu,
			   const char *rel, uint32_t val);
/* 0 if cpu has a usable policy, else -ENODEV. */
int vpwr_cpufreq_check(struct vpwr_backend *b, unsigned cpu);
/*
 * Re-read what the view says of `cpu` itself (online, policy, governor,
 * which files exist) and forget the rest: 0, or -errno if that failed.
 */
int vpwr_cpufreq_refresh(struct vpwr_backend *b, unsigned cpu);
/* 0 once cpu has a usable policy and its view is loaded, else -errno. */
int vpwr_cpufreq_view(struct vpwr_backend *b, unsigned cpu);
/* Forget the loaded part of cpu's view (the next use reads it again). */
void vpwr_cpufreq_forget(struct vpwr_backend *b, unsigned cpu);
/* The same for every CPU: the turbo knob moved all of them. */
void vpwr_cpufreq_forget_all(struct vpwr_backend *b);
/*
 * scaling_min/max_freq of cpu as just read, into the view of cpu and of
 * the CPUs sharing its policy.  taken: a query found them (someone else,
 * or the kernel, may have moved them), so they also stand for what was
 * asked; else they were read back after the backend's own write, which
 * stays what was asked even where the kernel shows less.
 */
void vpwr_cpufreq_seen_limits(struct vpwr_backend *b, unsigned cpu,
			      uint32_t min_khz, uint32_t max_khz, bool taken);
/*
 * acpi_cpufreq.c: move scaling_min/max_freq to (lo, hi), lo <= hi, in an
 * order the kernel accepts at every step: raise max before min going up,
 * lower min before max going down, judged by what sysfs shows (cur).  A
 * limit equal to req[] (what was last asked for) is not written.  Then the
 * limits are read back into the view.
 */
int vpwr_cpufreq_move_limits(struct vpwr_backend *b, unsigned cpu,
			     const uint32_t cur[2], const uint32_t req[2],
			     uint32_t lo, uint32_t hi);
/* The turbo knob's path, relative to devices/system/cpu; NULL: none. */
const char *vpwr_cpufreq_turbo_rel(const struct vpwr_cpufreq *cf);
/*
 * acpi_cpufreq.c: the knob's content, 0 or 1 (no_turbo not inverted), as
 * last seen, read if not known yet; or -errno.
 */
int vpwr_cpufreq_turbo_raw(struct vpwr_backend *b);
/*
 * acpi_cpufreq.c: save the originals of `cpu` (and of the CPUs sharing its
 * policy) and write them to the state file, unless saved already.  Called
 * before every write; an error means the write must not happen.
 */
int vpwr_cpufreq_save(struct vpwr_backend *b, unsigned cpu);
/* acpi_cpufreq.c: the same for the turbo knob, `cpu` asking. */
int vpwr_cpufreq_save_turbo(struct vpwr_backend *b, unsigned cpu);

#endif
