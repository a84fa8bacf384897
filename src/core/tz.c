/* SPDX-License-Identifier: MIT */
/*
 * Time zones for TIME policies.  A library inside a daemon must not change
 * the process's TZ to learn another zone's hour, so an IANA zone is read
 * here from its TZif file (RFC 8536, versions 1-4): the transition table,
 * then the POSIX TZ rule of its footer for instants after the table.
 * Leap-second ("right/") zones are refused.  The process's own local time
 * goes through localtime_r, which reads TZ but never sets it.
 */
#include <ctype.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "tz.h"

#define TZ_NAME_MAX 128
#define TZIF_MAX_SIZE (1u << 20)
#define TZ_T_LIMIT ((int64_t)1 << 40) /* ~35,000 years either side */

enum tz_kind { TZ_LOCAL, TZ_FIXED, TZ_TZIF };

/* One end of a POSIX TZ rule: Mm.w.d, Jn (1..365, no Feb 29) or n. */
struct tz_date {
	char kind;                 /* 'M', 'J' or 'D' */
	int month, week, day;      /* M: 1..12, 1..5 (5: last), 0 (Sun)..6 */
	int n;                     /* J: 1..365, D: 0..365 */
	int32_t secs;              /* local time of the change */
};

struct tz_rule {
	int32_t std_off, dst_off;  /* seconds east of UTC */
	bool has_dst;
	struct tz_date start, end; /* into DST (std time), out (DST time) */
};

struct vpwr_tz {
	enum tz_kind kind;
	char name[TZ_NAME_MAX];
	int32_t fixed_off;
	size_t nr_trans;
	int64_t *trans;            /* ascending */
	int32_t *trans_off;        /* the offset from trans[i] on */
	int32_t first_off;         /* before trans[0] (time type 0) */
	bool has_rule;             /* the footer holds after the table */
	struct tz_rule rule;
};

/* ------------------------------------------------------------ calendar */

static int64_t floor_div(int64_t a, int64_t b)
{
	int64_t q = a / b;

	return (a % b && ((a < 0) != (b < 0))) ? q - 1 : q;
}

static int64_t floor_mod(int64_t a, int64_t b)
{
	return a - floor_div(a, b) * b;
}

static bool is_leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(int64_t y, int m)
{
	static const int dim[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = floor_div(y, 400);
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static int64_t year_of_day(int64_t z)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = floor_div(z, 146097);
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	return yoe + era * 400 + (mp >= 10);
}

/* --------------------------------------------------------- POSIX rules */

/* Local wall-clock seconds of `dt` in `year`. */
static int64_t rule_local(const struct tz_date *dt, int64_t year)
{
	int64_t jan1 = days_from_civil(year, 1, 1), day;

	if (dt->kind == 'J') {
		day = jan1 + dt->n - 1 + (is_leap(year) && dt->n >= 60);
	} else if (dt->kind == 'D') {
		day = jan1 + dt->n;
	} else {
		int64_t first = days_from_civil(year, dt->month, 1);
		int dow = (int)floor_mod(first + 4, 7); /* 1970-01-01: Thursday */
		int mday = 1 + (dt->day - dow + 7) % 7 + (dt->week - 1) * 7;

		while (mday > days_in_month(year, dt->month))
			mday -= 7;
		day = first + mday - 1;
	}
	return day * 86400 + dt->secs;
}

static int64_t rule_start(const struct tz_rule *r, int64_t y)
{
	return rule_local(&r->start, y) - r->std_off;
}

static int64_t rule_end(const struct tz_rule *r, int64_t y)
{
	return rule_local(&r->end, y) - r->dst_off;
}

static int32_t rule_offset(const struct tz_rule *r, int64_t t)
{
	int64_t y, s, e;
	bool dst;

	if (!r->has_dst)
		return r->std_off;
	y = year_of_day(floor_div(t + r->std_off, 86400));
	s = rule_start(r, y);
	e = rule_end(r, y);
	/* Southern zones start DST late in the year and end it early. */
	dst = s < e ? (t >= s && t < e) : !(t >= e && t < s);
	return dst ? r->dst_off : r->std_off;
}

static int64_t rule_next(const struct tz_rule *r, int64_t t)
{
	int64_t best = INT64_MAX, y;

	if (!r->has_dst)
		return best;
	y = year_of_day(floor_div(t + r->std_off, 86400));
	for (int64_t yy = y - 1; yy <= y + 1; yy++) {
		int64_t c[2] = { rule_start(r, yy), rule_end(r, yy) };

		for (int i = 0; i < 2; i++)
			if (c[i] > t && c[i] < best)
				best = c[i];
	}
	return best;
}

static const char *parse_zname(const char *p)
{
	const char *s = p;

	if (*p == '<') {
		p = strchr(p, '>');
		return p && p - s > 1 ? p + 1 : NULL;
	}
	while (isalpha((unsigned char)*p))
		p++;
	return p - s >= 3 ? p : NULL;
}

static const char *parse_2digits(const char *p, long *v)
{
	if (!isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[1]))
		return NULL;
	*v = (p[0] - '0') * 10 + (p[1] - '0');
	return *v < 60 ? p + 2 : NULL;
}

/* [+-]h[hh][:mm[:ss]], hours at most max_h. */
static const char *parse_hms(const char *p, long max_h, int32_t *out)
{
	long sign = 1, h = 0, m = 0, s = 0;
	int nd = 0;

	if (*p == '+' || *p == '-')
		sign = *p++ == '-' ? -1 : 1;
	while (isdigit((unsigned char)*p) && nd < 3) {
		h = h * 10 + (*p++ - '0');
		nd++;
	}
	if (!nd || h > max_h)
		return NULL;
	if (*p == ':' && !(p = parse_2digits(p + 1, &m)))
		return NULL;
	if (*p == ':' && !(p = parse_2digits(p + 1, &s)))
		return NULL;
	*out = (int32_t)(sign * (h * 3600 + m * 60 + s));
	return p;
}

static const char *parse_num(const char *p, int lo, int hi, int *v)
{
	char *end;
	long n = strtol(p, &end, 10);

	if (end == p || !isdigit((unsigned char)*p) || n < lo || n > hi)
		return NULL;
	*v = (int)n;
	return end;
}

static const char *parse_date(const char *p, struct tz_date *d)
{
	d->secs = 7200;
	if (*p == 'M') {
		d->kind = 'M';
		if (!(p = parse_num(p + 1, 1, 12, &d->month)) || *p != '.' ||
		    !(p = parse_num(p + 1, 1, 5, &d->week)) || *p != '.' ||
		    !(p = parse_num(p + 1, 0, 6, &d->day)))
			return NULL;
	} else if (*p == 'J') {
		d->kind = 'J';
		if (!(p = parse_num(p + 1, 1, 365, &d->n)))
			return NULL;
	} else {
		d->kind = 'D';
		if (!(p = parse_num(p, 0, 365, &d->n)))
			return NULL;
	}
	if (*p == '/')
		p = parse_hms(p + 1, 167, &d->secs);
	return p;
}

/* A POSIX TZ string such as "CET-1CEST,M3.5.0,M10.5.0/3". */
static int parse_rule(const char *s, struct tz_rule *r)
{
	const char *p = parse_zname(s);
	int32_t off;

	memset(r, 0, sizeof(*r));
	if (!p || !(p = parse_hms(p, 24, &off)))
		return -EINVAL;
	r->std_off = -off; /* POSIX counts west of Greenwich */
	if (!*p)
		return 0;
	if (!(p = parse_zname(p)))
		return -EINVAL;
	r->dst_off = r->std_off + 3600;
	if (*p && *p != ',') {
		if (!(p = parse_hms(p, 24, &off)))
			return -EINVAL;
		r->dst_off = -off;
	}
	r->has_dst = true;
	if (!*p) /* POSIX leaves it to the implementation: glibc's US rule */
		p = ",M3.2.0,M11.1.0";
	if (*p != ',' || !(p = parse_date(p + 1, &r->start)) || *p != ',' ||
	    !(p = parse_date(p + 1, &r->end)) || *p)
		return -EINVAL;
	return 0;
}

/* ---------------------------------------------------------------- TZif */

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const uint8_t *p)
{
	return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

struct tzif_counts {
	size_t isut, isstd, leap, time, type, chars;
};

static int tzif_header(const uint8_t *p, size_t len, struct tzif_counts *c)
{
	if (len < 44 || memcmp(p, "TZif", 4))
		return -EINVAL;
	c->isut = be32(p + 20);
	c->isstd = be32(p + 24);
	c->leap = be32(p + 28);
	c->time = be32(p + 32);
	c->type = be32(p + 36);
	c->chars = be32(p + 40);
	if (!c->type || c->type > 256 || !c->chars || c->time > 100000 ||
	    (c->isut && c->isut != c->type) || (c->isstd && c->isstd != c->type))
		return -EINVAL;
	return 0;
}

static size_t tzif_data_len(const struct tzif_counts *c, size_t tsz)
{
	return c->time * tsz + c->time + c->type * 6 + c->chars +
	       c->leap * (tsz + 4) + c->isstd + c->isut;
}

static int tzif_parse(struct vpwr_tz *tz, const uint8_t *buf, size_t len)
{
	struct tzif_counts c;
	const uint8_t *p = buf, *idx, *types;
	size_t tsz = 4, dlen;
	int rc = tzif_header(p, len, &c);

	if (rc < 0)
		return rc;
	if (buf[4] >= '2') { /* skip the 32-bit block for the 64-bit one */
		size_t skip = 44 + tzif_data_len(&c, 4);

		if (skip > len || (rc = tzif_header(buf + skip, len - skip, &c)) < 0)
			return -EINVAL;
		p = buf + skip;
		tsz = 8;
	}
	dlen = tzif_data_len(&c, tsz);
	if (c.leap || (size_t)(p + 44 - buf) + dlen > len)
		return -EINVAL;
	p += 44;
	idx = p + c.time * tsz;
	types = idx + c.time;
	tz->trans = calloc(c.time ? c.time : 1, sizeof(*tz->trans));
	tz->trans_off = calloc(c.time ? c.time : 1, sizeof(*tz->trans_off));
	if (!tz->trans || !tz->trans_off)
		return -ENOMEM;
	for (size_t i = 0; i < c.time; i++) {
		int64_t t = tsz == 8 ? be64(p + 8 * i) : (int32_t)be32(p + 4 * i);

		if (idx[i] >= c.type || (i && t <= tz->trans[i - 1]))
			return -EINVAL;
		tz->trans[i] = t;
		tz->trans_off[i] = (int32_t)be32(types + 6 * idx[i]);
	}
	tz->nr_trans = c.time;
	tz->first_off = (int32_t)be32(types);
	p += dlen;
	if (tsz == 8 && p < buf + len && *p == '\n') {
		const uint8_t *nl = memchr(p + 1, '\n', (size_t)(buf + len - p - 1));
		char footer[128];

		if (!nl || (size_t)(nl - p - 1) >= sizeof(footer))
			return -EINVAL;
		memcpy(footer, p + 1, (size_t)(nl - p - 1));
		footer[nl - p - 1] = '\0';
		if (footer[0]) {
			if (parse_rule(footer, &tz->rule) < 0)
				return -EINVAL;
			tz->has_rule = true;
		}
	}
	return 0;
}

/* IANA names: letters, digits, "_+-./"; relative; no "..". */
static bool zone_name_ok(const char *s)
{
	if (!*s || *s == '/' || *s == '.' || strstr(s, "..") ||
	    strlen(s) >= TZ_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_+-./", *s))
			return false;
	return true;
}

static int tzif_load(struct vpwr_tz *tz, const char *dir, const char *name)
{
	char path[4096];
	struct stat st;
	uint8_t *buf;
	size_t got = 0;
	int fd, rc;

	if (!zone_name_ok(name))
		return -EINVAL;
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >=
	    sizeof(path))
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -EINVAL; /* not a zone this host knows */
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 44 ||
	    (uint64_t)st.st_size > TZIF_MAX_SIZE) {
		close(fd);
		return -EINVAL;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	rc = got == (size_t)st.st_size ? tzif_parse(tz, buf, got) : -EINVAL;
	free(buf);
	return rc;
}

static int32_t tzif_offset(const struct vpwr_tz *tz, int64_t t, int64_t *next)
{
	size_t n = tz->nr_trans, lo, hi;

	if (!n || t >= tz->trans[n - 1]) {
		if (tz->has_rule) {
			*next = rule_next(&tz->rule, t);
			return rule_offset(&tz->rule, t);
		}
		*next = INT64_MAX;
		return n ? tz->trans_off[n - 1] : tz->first_off;
	}
	if (t < tz->trans[0]) {
		*next = tz->trans[0];
		return tz->first_off;
	}
	lo = 0; /* trans[lo] <= t < trans[hi] */
	hi = n - 1;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (tz->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	*next = tz->trans[hi];
	return tz->trans_off[lo];
}

/* ------------------------------------------------------------- the API */

/* 1: a fixed offset in *off; 0: not one; -EINVAL: a malformed one. */
static int parse_fixed(const char *s, int32_t *off)
{
	long h, m = 0, sign;

	if (!strcmp(s, "UTC") || !strcmp(s, "GMT") || !strcmp(s, "Z")) {
		*off = 0;
		return 1;
	}
	if (*s != '+' && *s != '-')
		return 0;
	sign = *s++ == '-' ? -1 : 1;
	if (!(s = parse_2digits(s, &h)) || h > 23)
		return -EINVAL;
	if (*s == ':')
		s++;
	if (*s && (!(s = parse_2digits(s, &m)) || *s))
		return -EINVAL;
	*off = (int32_t)(sign * (h * 3600 + m * 60));
	return 1;
}

int vpwr_tz_open(const char *spec, const char *zoneinfo, struct vpwr_tz **out)
{
	struct vpwr_tz *tz;
	int rc;

	*out = NULL;
	tz = calloc(1, sizeof(*tz));
	if (!tz)
		return -ENOMEM;
	if (!spec || !strcmp(spec, "local")) {
		tz->kind = TZ_LOCAL;
		vpwr_strlcpy(tz->name, "local", sizeof(tz->name));
		*out = tz;
		return 0;
	}
	if (strlen(spec) >= TZ_NAME_MAX) {
		free(tz);
		return -EINVAL;
	}
	vpwr_strlcpy(tz->name, spec, sizeof(tz->name));
	rc = parse_fixed(spec, &tz->fixed_off);
	if (rc > 0) {
		tz->kind = TZ_FIXED;
		*out = tz;
		return 0;
	}
	tz->kind = TZ_TZIF;
	if (rc == 0)
		rc = tzif_load(tz, zoneinfo ? zoneinfo : VPWR_TZ_ZONEINFO, spec);
	if (rc < 0) {
		vpwr_tz_free(tz);
		return rc;
	}
	*out = tz;
	return 0;
}

void vpwr_tz_free(struct vpwr_tz *tz)
{
	if (!tz)
		return;
	free(tz->trans);
	free(tz->trans_off);
	free(tz);
}

const char *vpwr_tz_name(const struct vpwr_tz *tz)
{
	return tz->name;
}

int vpwr_tz_hour(const struct vpwr_tz *tz, int64_t t, int *hour, int64_t *next)
{
	int64_t change = INT64_MAX, b;
	int32_t off;

	if (t < -TZ_T_LIMIT || t > TZ_T_LIMIT)
		return -EOVERFLOW;
	if (tz->kind == TZ_LOCAL) {
		time_t tt = (time_t)t;
		struct tm tm;

		if (!localtime_r(&tt, &tm))
			return -EOVERFLOW;
		off = (int32_t)tm.tm_gmtoff;
	} else if (tz->kind == TZ_FIXED) {
		off = tz->fixed_off;
	} else {
		off = tzif_offset(tz, t, &change);
	}
	*hour = (int)(floor_mod(t + off, 86400) / 3600);
	b = t + 3600 - floor_mod(t + off, 3600);
	*next = b < change ? b : change;
	return 0;
}
