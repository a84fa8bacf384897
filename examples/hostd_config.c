/* SPDX-License-Identifier: MIT */
/*
 * vpwr-hostd's configuration file, read with jansson.  Strict: an unknown
 * key, a duplicate key or a value of the wrong type is an error that names
 * it, so that a typo never silently means "the default".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "hostd_config.h"

static const char *const mode_names[] = { "performance", "powersave",
					  "exclusive" };
static const char *const target_names[] = { "auto", "stderr", "journal",
					    "syslog" };
static const char *const level_names[] = { [VPWR_LOG_ERR] = "error",
					   [VPWR_LOG_WARNING] = "warning",
					   [VPWR_LOG_NOTICE] = "notice",
					   [VPWR_LOG_INFO] = "info",
					   [VPWR_LOG_DEBUG] = "debug" };

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/*
 * Every scalar setting, once: how the file names it (a section and a key:
 * "limits.rate_per_s"), its type, where it lives, its default, and whether
 * SIGHUP can change it.  Reading, merging, defaults, freeing and the
 * reload's comparison all walk this table.
 */
enum field_kind { F_STR, F_COUNT, F_BOOL, F_NAME };

struct field {
	const char *name;
	enum field_kind kind;
	size_t off;
	long dflt;                                /* numbers */
	int (*parse)(const char *s, long *v);     /* F_NAME */
	const char *choices;                      /* F_NAME */
	bool reloadable;
};

#define STR(n, m) { n, F_STR, offsetof(struct hostd_config, m), 0, NULL, NULL, false }
#define NUM(n, k, m, d) { n, k, offsetof(struct hostd_config, m), d, NULL, NULL, false }
#define NAME(n, m, d, p, ch, rl) { n, F_NAME, offsetof(struct hostd_config, m), d, p, ch, rl }

static const struct field fields[] = {
	STR("backend", backend),
	STR("sysfs_root", sysfs_root),
	STR("state_file", state_file),
	STR("resolver", resolver),
	STR("watch_dir", watch_dir),
	STR("control", control),
	STR("pid_file", pid_file),
	STR("time_zone", time_zone),
	NUM("sim.cpus", F_COUNT, sim_cpus, 0),
	NUM("sim.wallclock", F_BOOL, sim_wallclock, 0),
	NUM("auto_channels", F_BOOL, auto_channels, 0),
	NUM("port_events", F_BOOL, port_events, 0),
	NAME("mode", mode, VPWR_ARB_PERFORMANCE, hostd_parse_mode,
	     "performance, powersave, exclusive", false),
	NUM("allow_shared", F_BOOL, allow_shared, 0),
	NUM("limits.max_channels", F_COUNT, max_channels, 0),
	NUM("limits.max_domain_channels", F_COUNT, max_domain_channels, 0),
	NUM("limits.rate_per_s", F_COUNT, rate_per_s, 1000),
	NUM("limits.rate_burst", F_COUNT, rate_burst, 0),
	NUM("traffic_period_ms", F_COUNT, traffic_period_ms, 0),
	NUM("grace_ms", F_COUNT, grace_ms, 0),
	NAME("log.level", log_level, VPWR_LOG_WARNING, hostd_parse_level,
	     "error, warning, notice, info, debug", true),
	NAME("log.target", log_target, HOSTD_LOG_AUTO, hostd_parse_target,
	     "auto, stderr, journal, syslog", false),
};

#undef STR
#undef NUM
#undef NAME

static char **str_at(const struct hostd_config *c, const struct field *f)
{
	return (char **)((const char *)c + f->off);
}

static long *num_at(const struct hostd_config *c, const struct field *f)
{
	return (long *)((const char *)c + f->off);
}

void hostd_config_init(struct hostd_config *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (fields[i].kind != F_STR)
			*num_at(c, &fields[i]) = HOSTD_UNSET;
}

void hostd_config_free(struct hostd_config *c)
{
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (fields[i].kind == F_STR)
			free(*str_at(c, &fields[i]));
	for (size_t i = 0; i < c->nr_channels; i++) {
		free(c->channels[i].domain);
		free(c->channels[i].uri);
	}
	free(c->channels);
	for (size_t i = 0; i < c->nr_bounds; i++) {
		free(c->bounds[i].domain);
		free(c->bounds[i].cpus);
	}
	free(c->bounds);
	hostd_config_init(c);
}

static int pick(const char *s, const char *const *names, size_t n, long *out)
{
	for (size_t i = 0; i < n; i++) {
		if (names[i] && !strcmp(s, names[i])) {
			*out = (long)i;
			return 0;
		}
	}
	return -1;
}

int hostd_parse_mode(const char *s, long *mode)
{
	return pick(s, mode_names, ARRAY_SIZE(mode_names), mode);
}

int hostd_parse_level(const char *s, long *level)
{
	return pick(s, level_names, ARRAY_SIZE(level_names), level);
}

int hostd_parse_target(const char *s, long *target)
{
	return pick(s, target_names, ARRAY_SIZE(target_names), target);
}

int hostd_parse_count(const char *s, long *v)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(s, &end, 10);
	if (end == s || *end || errno || n < 0 || n > (long)UINT32_MAX)
		return -1;
	*v = n;
	return 0;
}

const char *hostd_mode_name(long mode)
{
	return mode >= 0 && (size_t)mode < ARRAY_SIZE(mode_names)
		       ? mode_names[mode] : "?";
}

const char *hostd_level_name(long level)
{
	return level >= 0 && (size_t)level < ARRAY_SIZE(level_names) &&
			       level_names[level]
		       ? level_names[level] : "?";
}

const char *hostd_target_name(long target)
{
	return target >= 0 && (size_t)target < ARRAY_SIZE(target_names)
		       ? target_names[target] : "?";
}

static int push_channel(struct hostd_config *c, const char *domain,
			const char *uri, bool connect)
{
	struct hostd_channel *n = realloc(c->channels, (c->nr_channels + 1) *
						       sizeof(*n));

	if (!n)
		return -1;
	c->channels = n;
	n += c->nr_channels;
	n->domain = domain ? strdup(domain) : NULL;
	n->uri = strdup(uri);
	n->connect = connect;
	if (!n->uri || (domain && !n->domain)) {
		free(n->domain);
		free(n->uri);
		return -1;
	}
	c->nr_channels++;
	return 0;
}

int hostd_add_channel(struct hostd_config *c, const char *arg, bool connect)
{
	const char *eq = strchr(arg, '=');
	char dom[256];
	size_t len;

	if (!eq || !eq[1])
		return -1;
	len = (size_t)(eq - arg);
	/* A connector needs a domain: there is no peer to bind it by. */
	if (len >= sizeof(dom) || (connect && len == 0))
		return -1;
	memcpy(dom, arg, len);
	dom[len] = '\0';
	return push_channel(c, len ? dom : NULL, eq + 1, connect);
}

static int push_bound(struct hostd_config *c, const char *domain,
		      const char *cpus, long min_khz, long max_khz)
{
	struct hostd_bound *n = realloc(c->bounds,
					(c->nr_bounds + 1) * sizeof(*n));

	if (!n)
		return -1;
	c->bounds = n;
	n += c->nr_bounds;
	n->domain = domain ? strdup(domain) : NULL;
	n->cpus = cpus ? strdup(cpus) : NULL;
	n->min_khz = min_khz;
	n->max_khz = max_khz;
	if ((domain && !n->domain) || (cpus && !n->cpus)) {
		free(n->domain);
		free(n->cpus);
		return -1;
	}
	c->nr_bounds++;
	return 0;
}

bool hostd_channel_equal(const struct hostd_channel *a,
			 const struct hostd_channel *b)
{
	return a->connect == b->connect && !strcmp(a->uri, b->uri) &&
	       !a->domain == !b->domain &&
	       (!a->domain || !strcmp(a->domain, b->domain));
}

static bool str_eq(const char *a, const char *b)
{
	return !a == !b && (!a || !strcmp(a, b));
}

bool hostd_bound_equal(const struct hostd_bound *a,
		       const struct hostd_bound *b)
{
	return str_eq(a->domain, b->domain) && str_eq(a->cpus, b->cpus) &&
	       a->min_khz == b->min_khz && a->max_khz == b->max_khz;
}

/* ------------------------------------------------------------ reading */

struct reader {
	const char *path;
	char *err;
	size_t errlen;
};

static int bad(struct reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int bad(struct reader *r, const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	snprintf(r->err, r->errlen, "%s: %s", r->path, msg);
	return -1;
}

static int get_string(struct reader *r, const char *key, json_t *v,
		      char **out)
{
	char *s;

	if (json_is_null(v)) { /* as --print-config writes "not set" */
		free(*out);
		*out = NULL;
		return 0;
	}
	if (!json_is_string(v) || !json_string_length(v))
		return bad(r, "\"%s\" must be a non-empty string or null", key);
	s = strdup(json_string_value(v));
	if (!s)
		return bad(r, "out of memory");
	free(*out);
	*out = s;
	return 0;
}

static int get_count(struct reader *r, const char *key, json_t *v, long *out)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > (json_int_t)UINT32_MAX)
		return bad(r, "\"%s\" must be an integer from 0 to %u", key,
			   UINT32_MAX);
	*out = (long)json_integer_value(v);
	return 0;
}

static int get_bool(struct reader *r, const char *key, json_t *v, long *out)
{
	if (!json_is_boolean(v))
		return bad(r, "\"%s\" must be true or false", key);
	*out = json_is_true(v);
	return 0;
}

static int get_name(struct reader *r, const char *key, json_t *v, long *out,
		    int (*parse)(const char *, long *), const char *choices)
{
	if (!json_is_string(v) || parse(json_string_value(v), out) < 0)
		return bad(r, "\"%s\" must be one of %s", key, choices);
	return 0;
}

static const struct field *field_named(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (!strcmp(fields[i].name, name))
			return &fields[i];
	return NULL;
}

static int read_field(struct reader *r, struct hostd_config *c,
		      const struct field *f, json_t *v)
{
	switch (f->kind) {
	case F_STR:
		return get_string(r, f->name, v, str_at(c, f));
	case F_COUNT:
		return get_count(r, f->name, v, num_at(c, f));
	case F_BOOL:
		return get_bool(r, f->name, v, num_at(c, f));
	default:
		return get_name(r, f->name, v, num_at(c, f), f->parse,
				f->choices);
	}
}

/* Whether some setting lives in section `sect` ("sim", "limits", "log"). */
static bool is_section(const char *sect)
{
	size_t n = strlen(sect);

	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (!strncmp(fields[i].name, sect, n) && fields[i].name[n] == '.')
			return true;
	return false;
}

static int read_section(struct reader *r, struct hostd_config *c,
			const char *sect, json_t *o)
{
	size_t n = strlen(sect);
	const char *k;
	json_t *v;

	if (!json_is_object(o))
		return bad(r, "\"%s\" must be an object", sect);
	json_object_foreach(o, k, v) {
		const struct field *f;
		char name[64], keys[256] = "";

		snprintf(name, sizeof(name), "%s.%s", sect, k);
		f = field_named(name);
		if (f) {
			if (read_field(r, c, f, v) < 0)
				return -1;
			continue;
		}
		for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
			if (!strncmp(fields[i].name, sect, n) &&
			    fields[i].name[n] == '.')
				snprintf(keys + strlen(keys),
					 sizeof(keys) - strlen(keys), "%s%s",
					 keys[0] ? ", " : "",
					 fields[i].name + n + 1);
		return bad(r, "unknown key \"%s\" (%s)", name, keys);
	}
	return 0;
}

static int read_channels(struct reader *r, struct hostd_config *c, json_t *a)
{
	size_t i;
	json_t *o;

	if (!json_is_array(a))
		return bad(r, "\"channels\" must be an array");
	json_array_foreach(a, i, o) {
		json_t *dom, *listen, *conn;
		const char *k;
		json_t *v;

		if (!json_is_object(o))
			return bad(r, "channels[%zu] must be an object", i);
		json_object_foreach(o, k, v) {
			if (strcmp(k, "domain") && strcmp(k, "listen") &&
			    strcmp(k, "connect"))
				return bad(r, "unknown key \"channels[%zu].%s\" "
					   "(domain, listen, connect)", i, k);
			if (!json_is_string(v) || !json_string_length(v))
				return bad(r, "\"channels[%zu].%s\" must be a "
					   "non-empty string", i, k);
		}
		dom = json_object_get(o, "domain");
		listen = json_object_get(o, "listen");
		conn = json_object_get(o, "connect");
		if (!listen == !conn)
			return bad(r, "channels[%zu] needs one of \"listen\" "
				   "(a URI to listen on) or \"connect\" (a URI "
				   "to connect to)", i);
		if (conn && !dom)
			return bad(r, "channels[%zu] connects, so it needs a "
				   "\"domain\"", i);
		if (push_channel(c, dom ? json_string_value(dom) : NULL,
				 json_string_value(listen ? listen : conn),
				 conn != NULL) < 0)
			return bad(r, "out of memory");
	}
	return 0;
}

static int read_bounds(struct reader *r, struct hostd_config *c, json_t *a)
{
	size_t i;
	json_t *o;

	if (!json_is_array(a))
		return bad(r, "\"bounds\" must be an array");
	json_array_foreach(a, i, o) {
		long lim[2] = { 0, 0 };
		json_t *dom, *cpus;
		const char *k;
		json_t *v;

		if (!json_is_object(o))
			return bad(r, "bounds[%zu] must be an object", i);
		json_object_foreach(o, k, v) {
			char name[64];

			snprintf(name, sizeof(name), "bounds[%zu].%s", i, k);
			if (!strcmp(k, "min_khz") || !strcmp(k, "max_khz")) {
				if (get_count(r, name, v, &lim[k[1] == 'a']) < 0)
					return -1;
			} else if (strcmp(k, "domain") && strcmp(k, "cpus")) {
				return bad(r, "unknown key \"%s\" (domain or "
					   "cpus, min_khz, max_khz)", name);
			} else if (!json_is_string(v) || !json_string_length(v)) {
				return bad(r, "\"%s\" must be a non-empty "
					   "string", name);
			}
		}
		dom = json_object_get(o, "domain");
		cpus = json_object_get(o, "cpus");
		if (!dom == !cpus)
			return bad(r, "bounds[%zu] needs one of \"domain\" or "
				   "\"cpus\" (a cpulist such as \"2-3\")", i);
		if (cpus) {
			struct vpwr_cpuset set;

			if (vpwr_cpuset_parse(&set, json_string_value(cpus)) < 0)
				return bad(r, "bounds[%zu].cpus: \"%s\" is not a "
					   "cpulist", i, json_string_value(cpus));
		}
		if (lim[1] && lim[0] > lim[1])
			return bad(r, "bounds[%zu]: min_khz %ld is above "
				   "max_khz %ld", i, lim[0], lim[1]);
		if (push_bound(c, dom ? json_string_value(dom) : NULL,
			       cpus ? json_string_value(cpus) : NULL, lim[0],
			       lim[1]) < 0)
			return bad(r, "out of memory");
	}
	return 0;
}

int hostd_config_load(struct hostd_config *c, const char *path, char *err,
		      size_t errlen)
{
	struct reader r = { path, err, errlen };
	json_error_t jerr;
	const char *k;
	json_t *root, *v;
	int rc = 0;

	root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
	if (!root) {
		if (jerr.line < 1)
			return bad(&r, "%s", jerr.text);
		return bad(&r, "line %d, column %d: %s", jerr.line,
			   jerr.column, jerr.text);
	}
	if (!json_is_object(root)) {
		json_decref(root);
		return bad(&r, "the configuration must be a JSON object");
	}
	json_object_foreach(root, k, v) {
		const struct field *f = strchr(k, '.') ? NULL : field_named(k);

		if (f)
			rc = read_field(&r, c, f, v);
		else if (is_section(k))
			rc = read_section(&r, c, k, v);
		else if (!strcmp(k, "channels"))
			rc = read_channels(&r, c, v);
		else if (!strcmp(k, "bounds"))
			rc = read_bounds(&r, c, v);
		else
			rc = bad(&r, "unknown key \"%s\"", k);
		if (rc < 0)
			break;
	}
	json_decref(root);
	return rc;
}

/* ----------------------------------------------------------- merging */

static int over_str(char **dst, const char *src)
{
	char *s;

	if (!src)
		return 0;
	s = strdup(src);
	if (!s)
		return -1;
	free(*dst);
	*dst = s;
	return 0;
}

int hostd_config_overlay(struct hostd_config *c,
			 const struct hostd_config *o)
{
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		const struct field *f = &fields[i];

		if (f->kind == F_STR) {
			if (over_str(str_at(c, f), *str_at(o, f)) < 0)
				return -1;
		} else if (*num_at(o, f) != HOSTD_UNSET) {
			*num_at(c, f) = *num_at(o, f);
		}
	}
	for (size_t i = 0; i < o->nr_channels; i++)
		if (push_channel(c, o->channels[i].domain, o->channels[i].uri,
				 o->channels[i].connect) < 0)
			return -1;
	for (size_t i = 0; i < o->nr_bounds; i++)
		if (push_bound(c, o->bounds[i].domain, o->bounds[i].cpus,
			       o->bounds[i].min_khz, o->bounds[i].max_khz) < 0)
			return -1;
	return 0;
}

int hostd_config_finish(struct hostd_config *c, char *err, size_t errlen)
{
	if (!c->backend && over_str(&c->backend, "sim") < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++)
		if (fields[i].kind != F_STR &&
		    *num_at(c, &fields[i]) == HOSTD_UNSET)
			*num_at(c, &fields[i]) = fields[i].dflt;
	if (!c->resolver) {
		snprintf(err, errlen, "no resolver: give \"resolver\" in the "
			 "configuration or --resolver");
		return -1;
	}
	if (!c->nr_channels && !c->auto_channels && !c->watch_dir) {
		snprintf(err, errlen, "nothing to serve: give channels, "
			 "auto_channels or watch_dir (--channel, --connect, "
			 "--auto-channels, --watch-dir)");
		return -1;
	}
	return 0;
}

void hostd_config_fixed_changes(const struct hostd_config *a,
				const struct hostd_config *b,
				void (*fn)(const char *name, void *ud),
				void *ud)
{
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		const struct field *f = &fields[i];
		bool same;

		if (f->reloadable)
			continue;
		if (f->kind == F_STR) {
			const char *x = *str_at(a, f), *y = *str_at(b, f);

			same = !x == !y && (!x || !strcmp(x, y));
		} else {
			same = *num_at(a, f) == *num_at(b, f);
		}
		if (!same)
			fn(f->name, ud);
	}
}

/* ----------------------------------------------------------- dumping */

static json_t *opt_str(const char *s)
{
	return s ? json_string(s) : json_null();
}

char *hostd_config_dump(const struct hostd_config *c)
{
	json_t *root, *chans = json_array(), *bounds = json_array();
	char *text;

	for (size_t i = 0; chans && i < c->nr_channels; i++) {
		const struct hostd_channel *ch = &c->channels[i];

		json_array_append_new(
			chans, json_pack("{s:o, s:s}", "domain",
					 opt_str(ch->domain),
					 ch->connect ? "connect" : "listen",
					 ch->uri));
	}
	for (size_t i = 0; bounds && i < c->nr_bounds; i++) {
		const struct hostd_bound *b = &c->bounds[i];

		json_array_append_new(
			bounds, json_pack("{s:s, s:I, s:I}",
					  b->domain ? "domain" : "cpus",
					  b->domain ? b->domain : b->cpus,
					  "min_khz", (json_int_t)b->min_khz,
					  "max_khz", (json_int_t)b->max_khz));
	}
	root = json_pack(
		"{s:o, s:o, s:o, s:{s:I, s:b}, s:o, s:b, s:b, s:o, s:o, s:o, s:o,"
		" s:s, s:b, s:{s:I, s:I, s:I, s:I}, s:I, s:I, s:{s:s, s:s},"
		" s:o, s:o}",
		"backend", opt_str(c->backend), "sysfs_root",
		opt_str(c->sysfs_root), "state_file", opt_str(c->state_file),
		"sim", "cpus", (json_int_t)c->sim_cpus, "wallclock",
		(int)(c->sim_wallclock > 0), "resolver", opt_str(c->resolver),
		"auto_channels", (int)(c->auto_channels > 0), "port_events",
		(int)(c->port_events > 0), "watch_dir",
		opt_str(c->watch_dir), "control", opt_str(c->control),
		"pid_file", opt_str(c->pid_file), "time_zone",
		opt_str(c->time_zone), "mode", hostd_mode_name(c->mode),
		"allow_shared", (int)(c->allow_shared > 0), "limits",
		"max_channels", (json_int_t)c->max_channels,
		"max_domain_channels", (json_int_t)c->max_domain_channels,
		"rate_per_s", (json_int_t)c->rate_per_s, "rate_burst",
		(json_int_t)c->rate_burst, "traffic_period_ms",
		(json_int_t)c->traffic_period_ms, "grace_ms",
		(json_int_t)c->grace_ms, "log", "level",
		hostd_level_name(c->log_level), "target",
		hostd_target_name(c->log_target), "channels", chans, "bounds",
		bounds);
	if (!root)
		return NULL;
	text = json_dumps(root, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(root);
	return text;
}
