/* SPDX-License-Identifier: MIT */
/*
 * The originals of every CPU a cpufreq backend changed: saved before the
 * first write to a CPU, put back in an order the kernel accepts, and
 * written to the state file before the change so that a process killed
 * with SIGKILL leaves behind what the next one needs to put the machine
 * back.  The file is JSON (jansson), versioned, and checked field by field
 * on the way in: a file that fails any check is refused whole, before
 * anything is written to sysfs.
 */
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "backend/state.h"
#include "backend/sysfs.h"

#define STATE_FORMAT "libvpwr-backend-state"

int vpwr_state_init(struct vpwr_state *st, const char *backend,
		    const char *sysfs_root, unsigned nr_cpus)
{
	memset(st, 0, sizeof(*st));
	if (!nr_cpus || nr_cpus > VPWR_MAX_CPUS ||
	    strlen(backend) >= sizeof(st->backend))
		return -EINVAL;
	vpwr_strlcpy(st->backend, backend, sizeof(st->backend));
	st->min_perf_pct = -1;
	st->sysfs_root = strdup(sysfs_root);
	st->cpu = calloc(nr_cpus, sizeof(*st->cpu));
	if (!st->sysfs_root || !st->cpu) {
		vpwr_state_fini(st);
		return -ENOMEM;
	}
	st->nr_cpus = nr_cpus;
	return 0;
}

void vpwr_state_fini(struct vpwr_state *st)
{
	free(st->sysfs_root);
	free(st->cpu);
	memset(st, 0, sizeof(*st));
}

bool vpwr_state_empty(const struct vpwr_state *st)
{
	return !st->turbo_saved && !vpwr_cpuset_count(&st->saved);
}

/* ----------------------------------------------------------------- out */

static json_t *cpu_json(unsigned cpu, const struct vpwr_orig *o)
{
	return json_pack("{s:I, s:s, s:I, s:I, s:o*, s:s*}", "cpu",
			 (json_int_t)cpu, "scaling_governor", o->governor,
			 "scaling_min_freq", (json_int_t)o->min_khz,
			 "scaling_max_freq", (json_int_t)o->max_khz,
			 "scaling_setspeed",
			 o->setspeed_khz ? json_integer(o->setspeed_khz) : NULL,
			 "energy_performance_preference",
			 o->epp[0] ? o->epp : NULL);
}

/* The CPUs of `set`, as a JSON array (cpu_json objects with `orig`). */
static json_t *cpus_json(const struct vpwr_state *st,
			 const struct vpwr_cpuset *set, bool orig)
{
	json_t *a = json_array();

	for (unsigned i = 0; a && i < st->nr_cpus; i++)
		if (vpwr_cpuset_isset(set, i) &&
		    json_array_append_new(a, orig ? cpu_json(i, &st->cpu[i])
						  : json_integer(i))) {
			json_decref(a);
			return NULL;
		}
	return a;
}

static json_t *state_json(const struct vpwr_state *st)
{
	json_t *turbo = NULL;

	if (st->turbo_saved &&
	    !(turbo = json_pack("{s:s, s:s, s:o*, s:o}", "file", st->turbo_file,
				"value", st->turbo_value, "min_perf_pct",
				st->min_perf_pct >= 0
					? json_integer(st->min_perf_pct)
					: NULL,
				"cpus", cpus_json(st, &st->turbo_cpus, false))))
		return NULL;
	return json_pack("{s:s, s:i, s:s, s:s, s:I, s:o, s:o*}", "format",
			 STATE_FORMAT, "version", VPWR_STATE_VERSION, "backend",
			 st->backend, "sysfs_root", st->sysfs_root, "nr_cpus",
			 (json_int_t)st->nr_cpus, "cpus",
			 cpus_json(st, &st->saved, true), "turbo", turbo);
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* fsync the directory holding `path`, so a rename or unlink is durable. */
static int sync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, err = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0 || fsync(fd))
		err = -errno;
	if (fd >= 0)
		close(fd);
	free(copy);
	return err;
}

static int store_text(const char *path, const char *text)
{
	char *tmp = NULL;
	int fd, err;

	if (asprintf(&tmp, "%s.XXXXXX", path) < 0)
		return -ENOMEM;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		free(tmp);
		return err;
	}
	err = write_all(fd, text, strlen(text));
	if (!err)
		err = write_all(fd, "\n", 1);
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	free(tmp);
	return err ? err : sync_dir(path);
}

int vpwr_state_store(const char *path, const struct vpwr_logger *log,
		     const struct vpwr_state *st)
{
	json_t *j;
	char *text;
	int err;

	if (vpwr_state_empty(st))
		return vpwr_state_remove(path, log);
	j = state_json(st);
	text = j ? json_dumps(j, JSON_INDENT(1)) : NULL;
	json_decref(j);
	if (!text)
		return -ENOMEM;
	err = store_text(path, text);
	free(text);
	if (err)
		log_err(log, "state file %s: cannot write it: %s", path,
			vpwr_strerror(err));
	return err;
}

int vpwr_state_remove(const char *path, const struct vpwr_logger *log)
{
	int err;

	if (!unlink(path))
		return sync_dir(path);
	if (errno == ENOENT)
		return 0;
	err = -errno;
	log_err(log, "state file %s: cannot remove it: %s", path,
		vpwr_strerror(err));
	return err;
}

/* ------------------------------------------------------------------ in */

bool vpwr_state_name_ok(const char *s)
{
	size_t n = strlen(s);

	if (!n || n >= VPWR_STATE_STR)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || *s == '_' || *s == '-'))
			return false;
	return true;
}

struct load_ctx {
	const struct vpwr_logger *log;
	const char *path;
};

static int bad(const struct load_ctx *lc, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Log why the file is refused; -EBADMSG. */
static int bad(const struct load_ctx *lc, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_err(lc->log, "state file %s refused, nothing restored: %s",
		lc->path, msg);
	return -EBADMSG;
}

/* A kHz value: an integer in 1 .. UINT32_MAX. */
static int get_khz(const struct load_ctx *lc, json_t *o, const char *key,
		   bool required, unsigned cpu, uint32_t *out)
{
	json_t *v = json_object_get(o, key);
	json_int_t i;

	*out = 0;
	if (!v && !required)
		return 0;
	if (!json_is_integer(v) || (i = json_integer_value(v)) < 1 ||
	    i > (json_int_t)UINT32_MAX)
		return bad(lc, "cpu %u: %s must be a frequency in kHz", cpu,
			   key);
	*out = (uint32_t)i;
	return 0;
}

static int get_name(const struct load_ctx *lc, json_t *o, const char *key,
		    bool required, unsigned cpu, char *out)
{
	json_t *v = json_object_get(o, key);

	out[0] = '\0';
	if (!v && !required)
		return 0;
	if (!json_is_string(v) || !vpwr_state_name_ok(json_string_value(v)))
		return bad(lc, "cpu %u: %s must be a sysfs word", cpu, key);
	vpwr_strlcpy(out, json_string_value(v), VPWR_STATE_STR);
	return 0;
}

static const char *const cpu_keys[] = {
	"cpu", "scaling_governor", "scaling_min_freq", "scaling_max_freq",
	"scaling_setspeed", "energy_performance_preference",
};

static int unknown_key(json_t *o, const char *const *keys, size_t n)
{
	const char *k;
	json_t *v;

	json_object_foreach(o, k, v) {
		size_t i = 0;

		while (i < n && strcmp(keys[i], k))
			i++;
		if (i == n)
			return 1;
	}
	return 0;
}

static int load_cpu(const struct load_ctx *lc, json_t *o,
		    struct vpwr_state *st)
{
	json_t *id = json_object_get(o, "cpu");
	struct vpwr_orig *c;
	json_int_t cpu;
	int err;

	if (!json_is_object(o) || !json_is_integer(id) ||
	    (cpu = json_integer_value(id)) < 0 || cpu >= st->nr_cpus)
		return bad(lc, "every cpus[] entry needs a \"cpu\" below "
			   "nr_cpus %u", st->nr_cpus);
	if (unknown_key(o, cpu_keys, VPWR_ARRAY_SIZE(cpu_keys)))
		return bad(lc, "cpu %d: unknown field", (int)cpu);
	if (vpwr_cpuset_isset(&st->saved, (unsigned)cpu))
		return bad(lc, "cpu %d appears twice", (int)cpu);
	c = &st->cpu[cpu];
	if ((err = get_name(lc, o, "scaling_governor", true, cpu, c->governor)) ||
	    (err = get_khz(lc, o, "scaling_min_freq", true, cpu, &c->min_khz)) ||
	    (err = get_khz(lc, o, "scaling_max_freq", true, cpu, &c->max_khz)) ||
	    (err = get_khz(lc, o, "scaling_setspeed", false, cpu,
			   &c->setspeed_khz)) ||
	    (err = get_name(lc, o, "energy_performance_preference", false, cpu,
			    c->epp)))
		return err;
	if (c->min_khz > c->max_khz)
		return bad(lc, "cpu %d: scaling_min_freq above scaling_max_freq",
			   (int)cpu);
	vpwr_cpuset_set(&st->saved, (unsigned)cpu);
	return 0;
}

static int load_turbo(const struct load_ctx *lc, json_t *t,
		      struct vpwr_state *st)
{
	const char *file = NULL, *value = NULL;
	json_t *cpus = NULL, *v;
	json_int_t pct = -1;
	size_t i;

	if (json_unpack(t, "{s:s, s:s, s?I, s:o !}", "file", &file, "value",
			&value, "min_perf_pct", &pct, "cpus", &cpus) ||
	    (strcmp(file, "boost") && strcmp(file, "no_turbo")) ||
	    (strcmp(value, "0") && strcmp(value, "1")) ||
	    !json_is_array(cpus) || !json_array_size(cpus))
		return bad(lc, "turbo needs file boost|no_turbo, value 0|1 and "
			   "the CPUs that changed it");
	if (json_object_get(t, "min_perf_pct") &&
	    (strcmp(file, "no_turbo") || pct < 0 || pct > 100))
		return bad(lc, "turbo.min_perf_pct goes with no_turbo, 0..100");
	json_array_foreach(cpus, i, v) {
		json_int_t cpu = json_integer_value(v);

		if (!json_is_integer(v) || cpu < 0 || cpu >= st->nr_cpus ||
		    !vpwr_cpuset_isset(&st->saved, (unsigned)cpu))
			return bad(lc, "turbo.cpus[%zu] is not a saved CPU", i);
		vpwr_cpuset_set(&st->turbo_cpus, (unsigned)cpu);
	}
	vpwr_strlcpy(st->turbo_file, file, sizeof(st->turbo_file));
	vpwr_strlcpy(st->turbo_value, value, sizeof(st->turbo_value));
	st->min_perf_pct = (int)pct;
	st->turbo_saved = true;
	return 0;
}

static int load_json(const struct load_ctx *lc, json_t *j,
		     struct vpwr_state *st)
{
	const char *format = NULL, *backend = NULL, *root = NULL;
	json_t *cpus = NULL, *turbo = NULL, *c;
	json_int_t version = 0, nr = 0;
	size_t i;
	int err;

	if (json_unpack(j, "{s:s, s:I, s:s, s:s, s:I, s:o, s?o !}", "format",
			&format, "version", &version, "backend", &backend,
			"sysfs_root", &root, "nr_cpus", &nr, "cpus", &cpus,
			"turbo", &turbo) ||
	    strcmp(format, STATE_FORMAT))
		return bad(lc, "not a libvpwr backend state file (format, "
			   "version, backend, sysfs_root, nr_cpus, cpus)");
	if (version != VPWR_STATE_VERSION)
		return bad(lc, "version %lld, this library reads version %d",
			   (long long)version, VPWR_STATE_VERSION);
	if (!vpwr_state_name_ok(backend) || nr < 1 || nr > VPWR_MAX_CPUS ||
	    !json_is_array(cpus))
		return bad(lc, "bad backend name, nr_cpus or cpus");
	err = vpwr_state_init(st, backend, root, (unsigned)nr);
	if (err)
		return err;
	json_array_foreach(cpus, i, c)
		if ((err = load_cpu(lc, c, st)))
			return err;
	if (turbo && (err = load_turbo(lc, turbo, st)))
		return err;
	return 0;
}

int vpwr_state_load(const char *path, const struct vpwr_logger *log,
		    struct vpwr_state *st)
{
	const struct load_ctx lc = { .log = log, .path = path };
	json_error_t jerr;
	json_t *j;
	int fd, err;

	memset(st, 0, sizeof(*st));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err = -errno;
		if (err != -ENOENT)
			log_err(log, "state file %s: cannot open it: %s", path,
				vpwr_strerror(err));
		return err;
	}
	j = json_loadfd(fd, JSON_REJECT_DUPLICATES, &jerr);
	close(fd);
	if (!j)
		return bad(&lc, "line %d: %s", jerr.line, jerr.text);
	err = load_json(&lc, j, st);
	json_decref(j);
	if (err)
		vpwr_state_fini(st);
	return err;
}

/* ------------------------------------------------ putting them back */

static int restore_epp(struct vpwr_backend *b, unsigned cpu, const char *epp)
{
	char cur[VPWR_STATE_STR];
	int n = vpwr_cpufreq_read(b, cpu, VPWR_CPUFREQ_EPP_F, cur, sizeof(cur));

	if (n < 0 || !strcmp(cur, epp))
		return n < 0 ? n : 0;
	return vpwr_cpufreq_write(b, cpu, VPWR_CPUFREQ_EPP_F, epp);
}

/*
 * Limits first (ordered), then the governor, then what depends on it: EPP
 * (refused under intel_pstate's and amd-pstate-epp's performance
 * governor, so tried before the governor changes too) and setspeed (only
 * taken by the userspace governor).  Every step is tried; the first error
 * is returned.
 */
static int restore_cpu(struct vpwr_backend *b, unsigned cpu)
{
	struct vpwr_cpufreq_cpu *c = &vpwr_cpufreq_of(b)->cpu[cpu];
	const struct vpwr_orig *o = &vpwr_cpufreq_of(b)->saved.cpu[cpu];
	uint32_t now[2], v;
	int err, e;

	if (!c->policy && (vpwr_cpufreq_refresh(b, cpu) || !c->policy))
		return -ENODEV;
	/* What the kernel shows now, not the view: written unless equal. */
	err = vpwr_cpufreq_get_limits(b, cpu, &now[0], &now[1]);
	if (!err)
		err = vpwr_cpufreq_move_limits(b, cpu, now, now, o->min_khz,
					       o->max_khz);
	if (err == -ENODEV)
		return err;
	if (o->epp[0] && c->epp && strcmp(c->governor, "performance") &&
	    (e = restore_epp(b, cpu, o->epp)) && !err)
		err = e;
	if (strcmp(c->governor, o->governor)) {
		e = vpwr_cpufreq_write(b, cpu, VPWR_CPUFREQ_GOVERNOR,
				       o->governor);
		err = err ? err : e;
	}
	if (o->epp[0] && c->epp && (e = restore_epp(b, cpu, o->epp)) && !err)
		err = e;
	if (o->setspeed_khz && c->setspeed &&
	    !strcmp(c->governor, "userspace")) {
		e = vpwr_cpufreq_read_u32(b, cpu, VPWR_CPUFREQ_SETSPEED_F, &v);
		if (!e && v != o->setspeed_khz)
			e = vpwr_cpufreq_write_u32(b, cpu,
						   VPWR_CPUFREQ_SETSPEED_F,
						   o->setspeed_khz);
		err = err ? err : e;
	}
	return err;
}

/*
 * A global file of the machine's (relative to devices/system/cpu), unless
 * it already holds val: 0 or -errno.
 */
static int restore_global(struct vpwr_cpufreq *cf, const char *rel,
			  const char *val)
{
	char cur[16];
	int err = vpwr_sysfs_read(&cf->fs, -1, rel, cur, sizeof(cur));

	if (err >= 0 && strcmp(cur, val))
		err = vpwr_sysfs_write(&cf->fs, -1, rel, val);
	return err < 0 ? err : 0;
}

/*
 * Put the knob back, then intel_pstate's min_perf_pct, which turning
 * turbo off lowered for good, then the CPUs saved only because of it.
 */
static int restore_turbo(struct vpwr_backend *b)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	struct vpwr_state *st = &cf->saved;
	char pct[16];
	int err = restore_global(cf, vpwr_cpufreq_turbo_rel(cf),
				 st->turbo_value);

	/* Every CPU's limits and list may have moved with it. */
	cf->turbo_raw = -1;
	vpwr_cpufreq_forget_all(b);
	if (!err && st->min_perf_pct >= 0) {
		snprintf(pct, sizeof(pct), "%d", st->min_perf_pct);
		err = restore_global(cf, "intel_pstate/min_perf_pct", pct);
	}
	if (err < 0)
		return err;
	st->turbo_saved = false;
	st->min_perf_pct = -1;
	for (unsigned i = 0; i < cf->nr_cpus; i++) {
		if (!vpwr_cpuset_isset(&cf->collateral, i))
			continue;
		if ((err = restore_cpu(b, i))) {
			log_warn(&b->log, "cpu %u: restore failed: %s", i,
				 vpwr_strerror(err));
			continue;
		}
		vpwr_state_cpuset_clear(&cf->collateral, i);
		vpwr_state_cpuset_clear(&st->saved, i);
	}
	return 0;
}

int vpwr_cpufreq_restore(struct vpwr_backend *b, unsigned cpu)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	struct vpwr_state *st = &cf->saved;
	bool changed = false;
	int err = 0, e;

	if (st->turbo_saved && vpwr_cpuset_isset(&st->turbo_cpus, cpu)) {
		vpwr_state_cpuset_clear(&st->turbo_cpus, cpu);
		changed = true;
		if (!vpwr_cpuset_count(&st->turbo_cpus) &&
		    (err = restore_turbo(b)))
			vpwr_cpuset_set(&st->turbo_cpus, cpu); /* try again */
	}
	if (vpwr_cpuset_isset(&st->saved, cpu)) {
		changed = true;
		e = restore_cpu(b, cpu);
		err = err ? err : e;
		if (!e && st->turbo_saved)
			vpwr_cpuset_set(&cf->collateral, cpu); /* see above */
		else if (!e)
			vpwr_state_cpuset_clear(&st->saved, cpu);
	}
	if (changed && (e = vpwr_backend_state_sync(b)) && !err)
		err = e;
	return err;
}

const struct vpwr_state *vpwr_cpufreq_saved(struct vpwr_backend *b)
{
	return &vpwr_cpufreq_of(b)->saved;
}

int vpwr_cpufreq_adopt(struct vpwr_backend *b, const struct vpwr_state *st)
{
	struct vpwr_cpufreq *cf = vpwr_cpufreq_of(b);
	const char *rel = vpwr_cpufreq_turbo_rel(cf);

	for (unsigned i = cf->nr_cpus; i < st->nr_cpus; i++)
		if (vpwr_cpuset_isset(&st->saved, i)) {
			log_err(&b->log, "state file: cpu %u, but %s has %u "
				"CPUs", i, b->sysfs_root, cf->nr_cpus);
			return -EBADMSG;
		}
	if (st->turbo_saved && (!cf->has_turbo ||
				strcmp(strrchr(rel, '/') + 1, st->turbo_file))) {
		log_err(&b->log, "state file: turbo knob %s, which %s does not "
			"have", st->turbo_file, b->ops->name);
		return -EBADMSG;
	}
	for (unsigned i = 0; i < st->nr_cpus && i < cf->nr_cpus; i++)
		if (vpwr_cpuset_isset(&st->saved, i)) {
			cf->saved.cpu[i] = st->cpu[i];
			vpwr_cpuset_set(&cf->saved.saved, i);
		}
	if (st->turbo_saved) {
		cf->saved.turbo_saved = true;
		cf->saved.min_perf_pct = st->min_perf_pct;
		memcpy(cf->saved.turbo_file, st->turbo_file,
		       sizeof(st->turbo_file));
		memcpy(cf->saved.turbo_value, st->turbo_value,
		       sizeof(st->turbo_value));
		cf->saved.turbo_cpus = st->turbo_cpus;
	}
	return 0;
}
