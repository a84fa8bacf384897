/* SPDX-License-Identifier: MIT */
/*
 * Typed readers for the JSON codec, and error reports that point into the
 * line.  The parsed values (codec_json_doc.c) do not say where they sit,
 * so the locator below walks the (already accepted) text to find the byte
 * offset of a key's value or of an array element; a person debugging a
 * refused line, or a host logging it, then sees the exact column.
 *
 * Locating and labelling cost a walk of the text and a snprintf, several
 * times the cost of reading the value: readers are told only which object
 * holds the key, and both are done when a value is refused, never for the
 * values that are accepted.
 *
 * Every reader is strict: integers are JSON integers (not strings, reals or
 * booleans) within their range, lists are arrays within their limits and
 * without repeats, names match exactly.
 */
#include <stdio.h>

#include "codec_json_internal.h"
#include "internal.h"

#define LABEL_MAX 48
#define HOURS_PER_DAY 24
#define MAC_TEXT_LEN 17

/* ------------------------------------------------------------- errors */

int vpwr_json_fail(const struct vpwr_json_in *in, int rc, size_t off,
		   const char *fmt, ...)
{
	struct vpwr_decode_error *err = in->err;
	size_t line_start = 0;
	va_list ap;
	int line = 1, col = 1;

	if (off > in->len)
		off = in->len;
	for (size_t i = 0; i < off; i++)
		if (in->text[i] == '\n') {
			line++;
			line_start = i + 1;
		}
	/* Columns count characters, as jansson's do: skip UTF-8 tails. */
	for (size_t i = line_start; i < off; i++)
		if ((in->text[i] & 0xC0) != 0x80)
			col++;
	err->offset = off;
	err->line = line;
	err->column = col;
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	return rc;
}

/* ------------------------------------------------------------ locator */

static bool is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static size_t skip_ws(const struct vpwr_json_in *in, size_t i)
{
	while (i < in->len && is_ws(in->text[i]))
		i++;
	return i;
}

/* From the opening quote to just past the closing one. */
static size_t skip_string(const struct vpwr_json_in *in, size_t i)
{
	for (i++; i < in->len; i++) {
		if (in->text[i] == '\\')
			i++;
		else if (in->text[i] == '"')
			return i + 1;
	}
	return in->len;
}

static size_t skip_value(const struct vpwr_json_in *in, size_t i)
{
	unsigned depth = 0;

	i = skip_ws(in, i);
	if (i < in->len && in->text[i] == '"')
		return skip_string(in, i);
	if (i < in->len && (in->text[i] == '{' || in->text[i] == '[')) {
		while (i < in->len) {
			uint8_t c = in->text[i];

			if (c == '"') {
				i = skip_string(in, i);
				continue;
			}
			if (c == '{' || c == '[')
				depth++;
			else if ((c == '}' || c == ']') && --depth == 0)
				return i + 1;
			i++;
		}
		return in->len;
	}
	while (i < in->len && !is_ws(in->text[i]) && in->text[i] != ',' &&
	       in->text[i] != '}' && in->text[i] != ']')
		i++;
	return i;
}

/* Past the ',' after a member or element; in->len at the closing bracket. */
static size_t next_item(const struct vpwr_json_in *in, size_t i)
{
	i = skip_ws(in, skip_value(in, i));
	return i < in->len && in->text[i] == ',' ? skip_ws(in, i + 1) : in->len;
}

size_t vpwr_json_member(const struct vpwr_json_in *in, size_t obj,
			const char *key)
{
	size_t klen = strlen(key), i = skip_ws(in, obj);

	if (i >= in->len || in->text[i] != '{')
		return obj;
	for (i = skip_ws(in, i + 1); i < in->len && in->text[i] == '"';) {
		size_t kend = skip_string(in, i), val;

		val = skip_ws(in, kend);
		if (val >= in->len || in->text[val] != ':')
			return obj;
		val = skip_ws(in, val + 1);
		/* Keys written with escapes are not matched: the object's
		 * own offset is then the best answer. */
		if (kend - i == klen + 2 && !memcmp(in->text + i + 1, key, klen))
			return val;
		i = next_item(in, val);
	}
	return obj;
}

size_t vpwr_json_element(const struct vpwr_json_in *in, size_t arr,
			 size_t idx)
{
	size_t i = skip_ws(in, arr);

	if (i >= in->len || in->text[i] != '[')
		return arr;
	i = skip_ws(in, i + 1);
	for (size_t n = 0; n < idx && i < in->len; n++)
		i = next_item(in, i);
	return i < in->len ? i : arr;
}

/* ------------------------------------------------------------ readers */

static const char *type_of(const struct vpwr_jv *v)
{
	switch (v->type) {
	case VJ_OBJECT:
		return "an object";
	case VJ_ARRAY:
		return "an array";
	case VJ_STRING:
		return "a string";
	case VJ_INTEGER:
		return "an integer";
	case VJ_REAL:
		return "a real number";
	case VJ_TRUE:
	case VJ_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

/*
 * A value being read: member `key` of the object at offset `obj`, or (idx
 * >= 0) element idx of the array that member holds.  Cheap to make; turned
 * into an offset and a label only for an error.
 */
struct place {
	size_t obj;
	const char *key;
	long idx;
	bool bare_label; /* label an element "key" rather than "key"[idx] */
};

static struct place member(size_t obj, const char *key)
{
	return (struct place){ obj, key, -1, false };
}

static struct place element(const struct place *arr, size_t idx)
{
	return (struct place){ arr->obj, arr->key, (long)idx, false };
}

static size_t where(const struct vpwr_json_in *in, const struct place *p)
{
	size_t off = vpwr_json_member(in, p->obj, p->key);

	return p->idx < 0 ? off : vpwr_json_element(in, off, (size_t)p->idx);
}

/* "\"key\"" or "\"key\"[i]" for error texts. */
static const char *label(char *buf, const struct place *p)
{
	if (p->idx < 0 || p->bare_label)
		snprintf(buf, LABEL_MAX, "\"%s\"", p->key);
	else
		snprintf(buf, LABEL_MAX, "\"%s\"[%ld]", p->key, p->idx);
	return buf;
}

static int wrong_type(const struct vpwr_json_in *in, const struct vpwr_jv *v,
		      const struct place *p, const char *want)
{
	char lbl[LABEL_MAX];

	return vpwr_json_fail(in, -VPWR_E_PROTO, where(in, p),
			      "%s must be %s, not %s", label(lbl, p), want,
			      type_of(v));
}

static int get_uint(const struct vpwr_json_in *in, const struct vpwr_jv *v,
		    const struct place *p, uint64_t max, uint64_t *out)
{
	char lbl[LABEL_MAX];
	int64_t n;

	if (!vpwr_jv_is(v, VJ_INTEGER))
		return wrong_type(in, v, p, "an integer");
	n = v->i;
	if (n < 0)
		return vpwr_json_fail(in, -VPWR_E_PROTO, where(in, p),
				      "%s must not be negative (%lld)",
				      label(lbl, p), (long long)n);
	if ((uint64_t)n > max)
		return vpwr_json_fail(in, -VPWR_E_PROTO, where(in, p),
				      "%s must be at most %llu, not %lld",
				      label(lbl, p), (unsigned long long)max,
				      (long long)n);
	*out = (uint64_t)n;
	return 0;
}

int vpwr_json_get_uint(const struct vpwr_json_in *in, const struct vpwr_jv *v,
		       size_t obj, const char *key, uint64_t max,
		       uint64_t *out)
{
	struct place p = member(obj, key);

	return get_uint(in, v, &p, max, out);
}

int vpwr_json_get_u32(const struct vpwr_json_in *in, const struct vpwr_jv *v,
		      size_t obj, const char *key, uint32_t max, uint32_t *out)
{
	uint64_t n;
	int rc = vpwr_json_get_uint(in, v, obj, key, max, &n);

	if (!rc)
		*out = (uint32_t)n;
	return rc;
}

int vpwr_json_get_bool(const struct vpwr_json_in *in, const struct vpwr_jv *v,
		       size_t obj, const char *key, uint32_t *out)
{
	struct place p = member(obj, key);

	if (!vpwr_jv_is_bool(v))
		return wrong_type(in, v, &p, "true or false");
	*out = v->type == VJ_TRUE;
	return 0;
}

int vpwr_json_get_string(const struct vpwr_json_in *in, const struct vpwr_jv *v,
			 size_t obj, const char *key, const char **out)
{
	struct place p = member(obj, key);

	if (!vpwr_jv_is(v, VJ_STRING))
		return wrong_type(in, v, &p, "a string");
	*out = v->s;
	return 0;
}

/* "a, b or c" */
static void list_names(const struct vpwr_json_names *t, char *buf, size_t len)
{
	size_t used = 0, left = 0;

	for (unsigned i = 0; i < t->nr; i++)
		left += t->names[i] != NULL;
	buf[0] = '\0';
	for (unsigned i = 0; i < t->nr && used < len; i++) {
		if (!t->names[i])
			continue;
		left--;
		used += (size_t)snprintf(buf + used, len - used, "%s%s",
					 t->names[i],
					 !left ? "" : left == 1 ? " or " : ", ");
	}
}

static int get_name(const struct vpwr_json_in *in, const struct vpwr_jv *v,
		    const struct place *p, const struct vpwr_json_names *t,
		    unsigned *out)
{
	char lbl[LABEL_MAX], names[96];
	const char *s;

	if (!vpwr_jv_is(v, VJ_STRING))
		return wrong_type(in, v, p, "a string");
	s = v->s;
	for (unsigned i = 0; i < t->nr; i++)
		if (t->names[i] && !strcmp(t->names[i], s)) {
			*out = i;
			return 0;
		}
	list_names(t, names, sizeof(names));
	return vpwr_json_fail(in, -VPWR_E_PROTO, where(in, p),
			      "%s: \"%.24s\" is not one of %s", label(lbl, p),
			      s, names);
}

int vpwr_json_get_name(const struct vpwr_json_in *in, const struct vpwr_jv *v,
		       size_t obj, const char *key,
		       const struct vpwr_json_names *t, unsigned *out)
{
	struct place p = member(obj, key);

	return get_name(in, v, &p, t, out);
}

/* The array `v` with at most `max` elements. */
static int get_array(const struct vpwr_json_in *in, const struct vpwr_jv *v,
		     const struct place *p, size_t max, const char *what)
{
	char lbl[LABEL_MAX];
	struct place past = element(p, max);

	if (!vpwr_jv_is(v, VJ_ARRAY))
		return wrong_type(in, v, p, "an array");
	if (v->n > max)
		return vpwr_json_fail(in, -VPWR_E_PROTO, where(in, &past),
				      "%s holds %zu %s, at most %zu",
				      label(lbl, p), (size_t)v->n, what, max);
	return 0;
}

int vpwr_json_get_hours(const struct vpwr_json_in *in, const struct vpwr_jv *v,
			size_t obj, const char *key, uint32_t *mask)
{
	struct place p = member(obj, key);
	int rc = get_array(in, v, &p, HOURS_PER_DAY, "hours");
	const struct vpwr_jv *e = rc ? NULL : vpwr_jv_first(v);

	*mask = 0;
	for (size_t i = 0; e; i++, e = vpwr_jv_next(e)) {
		struct place el = element(&p, i);
		uint64_t h;

		rc = get_uint(in, e, &el, HOURS_PER_DAY - 1, &h);
		if (rc)
			break;
		if (*mask & (1u << h))
			return vpwr_json_fail(in, -VPWR_E_PROTO, where(in, &el),
					      "hour %u appears twice in \"%s\"",
					      (unsigned)h, key);
		*mask |= 1u << h;
	}
	return rc;
}

static int get_cpulist(const struct vpwr_json_in *in, const struct vpwr_jv *v,
		       const struct place *p, struct vpwr_cpuset *set)
{
	const char *s = v->s;

	/* vpwr_cpuset_parse() forgives spaces; a wire format need not. */
	if (strspn(s, "0123456789,-") != strlen(s) || vpwr_cpuset_parse(set, s))
		return vpwr_json_fail(in, -VPWR_E_PROTO, where(in, p),
				      "\"%s\": \"%.24s\" is not a cpulist of vCPUs below %d such as \"0-3,8\"",
				      p->key, s, VPWR_MAX_CPUS);
	return 0;
}

int vpwr_json_get_vcpus(const struct vpwr_json_in *in, const struct vpwr_jv *v,
			size_t obj, const char *key, struct vpwr_cpuset *set,
			bool allow_cpulist)
{
	struct place p = member(obj, key);
	const struct vpwr_jv *e;
	int rc;

	vpwr_cpuset_zero(set);
	if (allow_cpulist && vpwr_jv_is(v, VJ_STRING))
		return get_cpulist(in, v, &p, set);
	if (allow_cpulist && !vpwr_jv_is(v, VJ_ARRAY))
		return wrong_type(in, v, &p, "an array or a cpulist string");
	rc = get_array(in, v, &p, VPWR_MAX_CPUS, "vCPUs");
	e = rc ? NULL : vpwr_jv_first(v);
	for (size_t i = 0; !rc && e; i++, e = vpwr_jv_next(e)) {
		struct place el = element(&p, i);
		uint64_t c;

		rc = get_uint(in, e, &el, VPWR_MAX_CPUS - 1, &c);
		if (!rc && vpwr_cpuset_isset(set, (unsigned)c))
			rc = vpwr_json_fail(in, -VPWR_E_PROTO, where(in, &el),
					    "vCPU %u appears twice in \"%s\"",
					    (unsigned)c, key);
		if (!rc)
			vpwr_cpuset_set(set, (unsigned)c);
	}
	return rc;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly "xx:xx:xx:xx:xx:xx", hex digits of either case. */
static bool parse_mac(const char *s, uint8_t mac[6])
{
	if (strlen(s) != MAC_TEXT_LEN)
		return false;
	for (int i = 0; i < 6; i++) {
		int hi = hex_digit(s[3 * i]), lo = hex_digit(s[3 * i + 1]);

		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

int vpwr_json_get_macs(const struct vpwr_json_in *in, const struct vpwr_jv *v,
		       size_t obj, const char *key, struct vpwr_policy *pol)
{
	char lbl[LABEL_MAX];
	struct place p = member(obj, key);
	int rc = get_array(in, v, &p, VPWR_MSG_MAX_MACS, "MAC addresses");
	const struct vpwr_jv *e = rc ? NULL : vpwr_jv_first(v);

	for (size_t i = 0; e; i++, e = vpwr_jv_next(e)) {
		struct place el = element(&p, i);

		if (!vpwr_jv_is(e, VJ_STRING))
			return wrong_type(in, e, &el, "a MAC address string");
		if (!parse_mac(e->s, pol->macs[i]))
			return vpwr_json_fail(in, -VPWR_E_PROTO, where(in, &el),
					      "%s: \"%.24s\" is not a MAC address like \"aa:bb:cc:dd:ee:ff\"",
					      label(lbl, &el), e->s);
		pol->nr_macs = (uint32_t)i + 1;
	}
	return rc;
}

/* One element of a flag list: a name of `t`, or the number of a bit that
 * has no name (so that a newer peer's flags survive). */
static int get_flag(const struct vpwr_json_in *in, const struct vpwr_jv *e,
		    const struct place *el, const struct vpwr_json_names *t,
		    unsigned *bit)
{
	char lbl[LABEL_MAX];
	uint64_t n;
	int rc;

	if (vpwr_jv_is(e, VJ_STRING)) {
		struct place named = *el;

		/* "\"caps\": \"x\" is not one of ...", at the element */
		named.bare_label = true;
		return get_name(in, e, &named, t, bit);
	}
	if (!vpwr_jv_is(e, VJ_INTEGER))
		return wrong_type(in, e, el, "a name");
	rc = get_uint(in, e, el, UINT32_MAX, &n);
	if (rc)
		return rc;
	if (!n || (n & (n - 1)) ||
	    vpwr_json_name(t, (unsigned)__builtin_ctzll(n)))
		return vpwr_json_fail(in, -VPWR_E_PROTO, where(in, el),
				      "%s: %llu is not a single bit without a name",
				      label(lbl, el), (unsigned long long)n);
	*bit = (unsigned)__builtin_ctzll(n);
	return 0;
}

int vpwr_json_get_flags(const struct vpwr_json_in *in, const struct vpwr_jv *v,
			size_t obj, const char *key,
			const struct vpwr_json_names *t, uint32_t *mask)
{
	char lbl[LABEL_MAX];
	struct place p = member(obj, key);
	int rc = get_array(in, v, &p, 32, "flags");
	const struct vpwr_jv *e = rc ? NULL : vpwr_jv_first(v);

	*mask = 0;
	for (size_t i = 0; e; i++, e = vpwr_jv_next(e)) {
		struct place el = element(&p, i);
		unsigned bit;

		rc = get_flag(in, e, &el, t, &bit);
		if (rc)
			break;
		if (*mask & (1u << bit))
			return vpwr_json_fail(in, -VPWR_E_PROTO, where(in, &el),
					      "%s repeats a flag",
					      label(lbl, &el));
		*mask |= 1u << bit;
	}
	return rc;
}

int vpwr_json_get_u32_list(const struct vpwr_json_in *in,
			   const struct vpwr_jv *v,
			   size_t obj, const char *key, uint32_t *out,
			   uint32_t max, uint32_t *nr)
{
	struct place p = member(obj, key);
	int rc = get_array(in, v, &p, max, "entries");
	const struct vpwr_jv *e = rc ? NULL : vpwr_jv_first(v);

	*nr = 0;
	for (size_t i = 0; !rc && e; i++, e = vpwr_jv_next(e)) {
		struct place el = element(&p, i);
		uint64_t n;

		rc = get_uint(in, e, &el, UINT32_MAX, &n);
		if (!rc)
			out[i] = (uint32_t)n;
	}
	if (!rc)
		*nr = v->n;
	return rc;
}

int vpwr_json_get_bool_list(const struct vpwr_json_in *in,
			    const struct vpwr_jv *v,
			    size_t obj, const char *key, uint64_t *mask,
			    uint32_t *nr)
{
	struct place p = member(obj, key);
	int rc = get_array(in, v, &p, 64, "entries");
	const struct vpwr_jv *e = rc ? NULL : vpwr_jv_first(v);

	*mask = 0;
	*nr = 0;
	for (size_t i = 0; e; i++, e = vpwr_jv_next(e)) {
		struct place el = element(&p, i);

		if (!vpwr_jv_is_bool(e))
			return wrong_type(in, e, &el, "true or false");
		if (e->type == VJ_TRUE)
			*mask |= (uint64_t)1 << i;
	}
	if (!rc)
		*nr = v->n;
	return rc;
}
