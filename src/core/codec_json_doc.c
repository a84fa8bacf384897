/* SPDX-License-Identifier: MIT */
/*
 * A parsed JSON line, for the readers of codec_json_value.c,
 * codec_json_native.c and codec_json_dpdk.c.
 *
 * yajl's event parser checks the syntax and reports the values in document
 * order; they go into a flat array of struct vpwr_jv (a container followed
 * by its contents), strings into a text buffer, both in storage that
 * belongs to the decode call: arrays in struct vpwr_json_doc on the
 * decoder's stack, which hold the lines of every message but the longest
 * lists, or else one heap block each, sized by the line's length (a line
 * of n bytes holds fewer than n values and n bytes of strings).  yajl
 * allocates its handle, lexer and stacks through yajl_alloc_funcs from an
 * arena in the same struct (per handle: no process-wide allocator).
 *
 * What is accepted is exactly what jansson's json_loadb() accepted with
 * JSON_REJECT_DUPLICATES | JSON_DISABLE_EOF_CHECK, which the codec used
 * before (docs/JSON.md pins its behaviour, fuzz_json compares the two).
 * yajl is more lenient in a few places, which the code here refuses:
 *
 *   - the line must start with an object or an array (yajl takes any
 *     value);
 *   - duplicate keys, compared after unescaping;
 *   - strings: strict UTF-8 (yajl checks only the pattern of lead and
 *     continuation bytes, so it takes overlong forms, surrogates and code
 *     points above U+10FFFF), no \u0000, no unpaired surrogate escape
 *     (yajl writes '?' for it), and a high surrogate only before a low one;
 *   - integers must fit a long long, reals must not overflow a double
 *     (yajl hands numbers over as text);
 *   - white space is space, tab, CR and LF (yajl also skips VT and FF);
 *   - at most 2048 levels of nesting, jansson's limit (a line of 4096
 *     bytes cannot close more than 2048 levels anyway).
 *
 * One difference is deliberate: jansson drops a NUL byte that follows a
 * number or a literal (its lexer ungets the byte, then takes the 0 for an
 * empty buffer) and accepts `[1\0]`, at a position one byte short.  The
 * codec refused such lines all the same, as "trailing data after the
 * object" (the root's last byte was seen again); here yajl refuses them.
 *
 * The refusals are not worded here: codec_json.c asks jansson about the
 * refused line, for the texts and places the documentation and the tests
 * pin.  doc->why says what this code saw, for a line jansson takes.
 *
 * Where a token ends: yajl_get_bytes_consumed(), read in a callback, is
 * the offset just past the token being reported (yajl 2's parser keeps it
 * current as it lexes).  It places the root's end, a string with escapes
 * and a refusal; the comparison with jansson's positions checks it.
 */
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_parse.h>

#include "codec_json_internal.h"
#include "internal.h"

#define MAX_DEPTH 2048 /* jansson's JSON_PARSER_MAX_DEPTH */

/* The heap blocks a long line may need. */
enum { HEAP_VALUES, HEAP_TEXT, HEAP_KEYS };

/* -------------------------------------------------- yajl's allocations */

/*
 * A bump allocator over doc->arena, which holds what yajl allocates for a
 * line (handle, lexer, state stack; 2 KiB more for its unescaping buffer
 * when a string has escapes).  Past the arena, malloc: the deepest
 * nesting and the longest escaped string a line can hold bound it.
 */
#define ARENA_HDR ((size_t)16) /* the block's size; keeps data aligned */

static bool in_arena(const struct vpwr_json_doc *d, const void *p)
{
	uintptr_t a = (uintptr_t)d->arena, q = (uintptr_t)p;

	return q >= a && q < a + sizeof(d->arena);
}

static size_t block_size(const void *p)
{
	size_t size;

	memcpy(&size, (const unsigned char *)p - ARENA_HDR, sizeof(size));
	return size;
}

/* The arena bytes a block of `size` takes. */
static size_t block_need(size_t size)
{
	return ARENA_HDR + ((size + ARENA_HDR - 1) & ~(ARENA_HDR - 1));
}

static void *arena_malloc(void *ctx, size_t size)
{
	struct vpwr_json_doc *d = ctx;
	size_t need = block_need(size);
	unsigned char *p;

	if (size > sizeof(d->arena) || need > sizeof(d->arena) - d->arena_used)
		return malloc(size);
	p = d->arena + d->arena_used;
	d->arena_used += need;
	memcpy(p, &size, sizeof(size));
	return p + ARENA_HDR;
}

static void arena_free(void *ctx, void *p)
{
	if (!in_arena(ctx, p))
		free(p);
}

static void *arena_realloc(void *ctx, void *p, size_t size)
{
	struct vpwr_json_doc *d = ctx;
	size_t old;
	void *q;

	if (!p)
		return arena_malloc(ctx, size);
	if (!in_arena(d, p))
		return realloc(p, size);
	old = block_size(p);
	if (size <= old)
		return p;
	/* The last block (yajl's state stack, as the nesting deepens)
	 * grows where it is. */
	if ((unsigned char *)p - ARENA_HDR + block_need(old) ==
		    d->arena + d->arena_used &&
	    size <= sizeof(d->arena) &&
	    block_need(size) - block_need(old) <=
		    sizeof(d->arena) - d->arena_used) {
		d->arena_used += block_need(size) - block_need(old);
		memcpy((unsigned char *)p - ARENA_HDR, &size, sizeof(size));
		return p;
	}
	q = arena_malloc(ctx, size);
	if (q)
		memcpy(q, p, old);
	return q;
}

/* --------------------------------------------------------- the values */

/* Stop the parse: this line is not taken (or memory ran out). */
static int refuse(struct vpwr_json_doc *d, int rc, const char *why)
{
	size_t at = yajl_get_bytes_consumed(d->yajl);

	d->rc = rc;
	d->why = why;
	d->at = at ? at - 1 : 0;
	return 0; /* a callback's 0 cancels the parse */
}

/*
 * Past the arrays of struct vpwr_json_doc, one heap block, for the whole
 * line: every value and key starts at a byte of its own, and every key
 * takes four ("":0), so these can never fill.
 */
static bool grow_values(struct vpwr_json_doc *d)
{
	struct vpwr_jv *p;

	if (d->heap[HEAP_VALUES] || !(p = malloc((d->len + 1) * sizeof(*p))))
		return false;
	memcpy(p, d->v, d->nr * sizeof(*p));
	d->heap[HEAP_VALUES] = d->v = p;
	d->cap = (uint32_t)d->len + 1;
	return true;
}

static bool grow_keys(struct vpwr_json_doc *d)
{
	uint32_t cap = (uint32_t)(d->len / 4 + 2);
	unsigned char *p;

	if (d->heap[HEAP_KEYS] ||
	    !(p = malloc(cap * (sizeof(*d->key_hash) + sizeof(*d->key_at)))))
		return false;
	memcpy(p, d->key_hash, d->nr_keys * sizeof(*d->key_hash));
	memcpy(p + cap * sizeof(*d->key_hash), d->key_at,
	       d->nr_keys * sizeof(*d->key_at));
	d->heap[HEAP_KEYS] = p;
	d->key_hash = (uint32_t *)(void *)p;
	d->key_at = (uint16_t *)(void *)(p + cap * sizeof(*d->key_hash));
	d->keys_cap = cap;
	return true;
}

/* A new value or key, linked to its container. */
static struct vpwr_jv *add(struct vpwr_json_doc *d, uint8_t type, bool key)
{
	struct vpwr_jv *v, *c;
	uint32_t i = d->nr;

	if (d->cur < 0 && type != VJ_OBJECT && type != VJ_ARRAY) {
		refuse(d, -VPWR_E_PROTO, "'[' or '{' expected");
		return NULL;
	}
	if (!key && d->depth >= MAX_DEPTH) {
		refuse(d, -VPWR_E_PROTO, "maximum parsing depth reached");
		return NULL;
	}
	if (i == d->cap && !grow_values(d)) {
		refuse(d, -ENOMEM, "out of memory");
		return NULL;
	}
	v = &d->v[i];
	v->type = type;
	v->next = 0;
	v->n = 0;
	v->up = 0;
	v->i = 0;
	d->nr++;
	if (d->cur < 0)
		return v;
	c = &d->v[d->cur];
	/* An object links its keys; a value follows its key. */
	if (key || c->type == VJ_ARRAY) {
		if (d->last >= 0)
			d->v[d->last].next = (uint16_t)(i - (uint32_t)d->last);
		d->last = (int32_t)i;
		c->n++;
	}
	return v;
}

static int open_container(struct vpwr_json_doc *d, uint8_t type)
{
	struct vpwr_jv *v = add(d, type, false);
	int32_t i = (int32_t)d->nr - 1;

	if (!v)
		return 0;
	v->up = d->cur < 0 ? 0 : (uint16_t)(i - d->cur);
	d->cur = i;
	d->last = -1;
	d->depth++;
	return 1;
}

static int close_container(struct vpwr_json_doc *d)
{
	int32_t i = d->cur;
	struct vpwr_jv *v = &d->v[i];

	if (v->type == VJ_OBJECT)
		d->nr_keys -= v->n;
	d->depth--;
	if (!d->depth) {
		/* The root: stop here, as jansson does, and let the codec
		 * look at the rest of the line. */
		d->end = yajl_get_bytes_consumed(d->yajl);
		d->done = true;
		return 0;
	}
	d->cur = i - v->up;
	v->up = 0;
	/* The container is the parent's last element, or the value of its
	 * last key. */
	d->last = d->v[d->cur].type == VJ_ARRAY ? i : i - 1;
	return 1;
}

/* ------------------------------------------------------------ strings */

static int hex_value(uint8_t c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* The code unit of "\uXXXX" at p (n bytes left), or -1. */
static int32_t u_escape(const uint8_t *p, size_t n)
{
	int32_t cp = 0;

	if (n < 6 || p[0] != '\\' || p[1] != 'u')
		return -1;
	for (int i = 2; i < 6; i++) {
		int h = hex_value(p[i]);

		if (h < 0)
			return -1;
		cp = cp << 4 | h;
	}
	return cp;
}

static size_t put_utf8(char *out, uint32_t cp)
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/* The length of the well-formed UTF-8 character at p (n bytes left; p[0]
 * >= 0x80), or 0: RFC 3629, as jansson's utf8_check_full(). */
static size_t utf8_char(const uint8_t *p, size_t n)
{
	uint8_t c = p[0];
	size_t len;
	uint32_t cp, min;

	if (c >= 0xC2 && c <= 0xDF) {
		len = 2;
		cp = c & 0x1F;
		min = 0x80;
	} else if (c >= 0xE0 && c <= 0xEF) {
		len = 3;
		cp = c & 0x0F;
		min = 0x800;
	} else if (c >= 0xF0 && c <= 0xF4) {
		len = 4;
		cp = c & 0x07;
		min = 0x10000;
	} else {
		return 0;
	}
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((p[i] & 0xC0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3F);
	}
	if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return 0;
	return len;
}

/*
 * The string between the quotes, p[0..n), into out (n + 1 bytes), with
 * its escapes decoded; *len receives its length.  false: not a string
 * jansson takes.
 */
static bool unescape(const uint8_t *p, size_t n, char *out, size_t *len)
{
	size_t o = 0, i = 0;

	while (i < n) {
		uint8_t c = p[i];
		int32_t cp, lo;
		size_t k;

		if (c >= 0x20 && c < 0x80 && c != '\\') {
			out[o++] = (char)c;
			i++;
			continue;
		}
		if (c >= 0x80) {
			k = utf8_char(p + i, n - i);
			if (!k)
				return false;
			memcpy(out + o, p + i, k);
			o += k;
			i += k;
			continue;
		}
		if (c < 0x20 || i + 1 == n)
			return false;
		k = 2;
		switch (p[i + 1]) {
		case '"': case '\\': case '/':
			out[o++] = (char)p[i + 1];
			break;
		case 'b': out[o++] = '\b'; break;
		case 'f': out[o++] = '\f'; break;
		case 'n': out[o++] = '\n'; break;
		case 'r': out[o++] = '\r'; break;
		case 't': out[o++] = '\t'; break;
		case 'u':
			cp = u_escape(p + i, n - i);
			k = 6;
			if (cp >= 0xD800 && cp <= 0xDBFF) {
				lo = u_escape(p + i + 6, n - i - 6);
				if (lo < 0xDC00 || lo > 0xDFFF)
					return false;
				cp = 0x10000 + ((cp - 0xD800) << 10) +
				     (lo - 0xDC00);
				k = 12;
			}
			/* \u0000: jansson takes it only with JSON_ALLOW_NUL */
			if (cp <= 0 || (cp >= 0xDC00 && cp <= 0xDFFF))
				return false;
			o += put_utf8(out + o, (uint32_t)cp);
			break;
		default:
			return false;
		}
		i += k;
	}
	out[o] = '\0';
	*len = o;
	return true;
}

/* Room for n bytes of decoded strings. */
static char *text_room(struct vpwr_json_doc *d, size_t n)
{
	char *p;

	if (n > d->text_cap - d->used) {
		/* Every string is shorter than its quoted text: the line's
		 * length holds them all. */
		if (d->heap[HEAP_TEXT] || !(p = malloc(d->len + 1)))
			return NULL;
		d->heap[HEAP_TEXT] = d->text = p;
		d->used = 0;
		d->text_cap = d->len + 1;
	}
	p = d->text + d->used;
	d->used += n;
	return p;
}

/*
 * The string yajl reports.  Without escapes it points into the line; with
 * them, yajl has decoded it into its own buffer in its own way, so it is
 * decoded again from the line, where it ends just before the byte yajl
 * has consumed to, and starts at the quote that no backslash escapes.
 */
static const char *take_string(struct vpwr_json_doc *d, const uint8_t *s,
			       size_t n, uint16_t *len)
{
	uintptr_t at = (uintptr_t)s, in = (uintptr_t)d->in;
	char *out;
	size_t got;

	if (at < in || at >= in + d->len) {
		size_t end = yajl_get_bytes_consumed(d->yajl) - 1, start = end;

		for (;;) {
			size_t bs = 0;

			while (d->in[--start] != '"')
				;
			while (d->in[start - 1 - bs] == '\\')
				bs++;
			if (!(bs & 1))
				break;
		}
		s = d->in + start + 1;
		n = end - start - 1;
	}
	out = text_room(d, n + 1);
	if (!out) {
		refuse(d, -ENOMEM, "out of memory");
		return NULL;
	}
	if (!unescape(s, n, out, &got)) {
		refuse(d, -VPWR_E_PROTO, "invalid string");
		return NULL;
	}
	*len = (uint16_t)got;
	d->used -= n - got; /* give back what unescaping saved */
	return out;
}

static int on_string(void *ctx, const unsigned char *s, size_t n)
{
	struct vpwr_json_doc *d = ctx;
	struct vpwr_jv *v = add(d, VJ_STRING, false);
	uint16_t len;

	if (!v || !(v->s = take_string(d, s, n, &len)))
		return 0;
	v->n = len;
	return 1;
}

static uint32_t hash_key(const char *s, size_t n)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (size_t i = 0; i < n; i++)
		h = (h ^ (uint8_t)s[i]) * 16777619u;
	return h;
}

/*
 * The keys of the open objects are kept in a stack of (hash, value index),
 * innermost object last: a key is compared with the hashes of its own
 * object's keys, the top `n` of the stack, and with a key only where the
 * hashes agree.
 */
static int on_key(void *ctx, const unsigned char *s, size_t n)
{
	struct vpwr_json_doc *d = ctx;
	struct vpwr_jv *v;
	uint16_t len;
	uint32_t h, before;

	if (!(v = add(d, VJ_STRING, true)) ||
	    !(v->s = take_string(d, s, n, &len)))
		return 0;
	v->n = len;
	h = hash_key(v->s, len);
	before = d->v[d->cur].n - 1u; /* the object's other keys */
	for (uint32_t k = d->nr_keys - before; k < d->nr_keys; k++) {
		const struct vpwr_jv *o = &d->v[d->key_at[k]];

		if (d->key_hash[k] == h && o->n == len &&
		    !memcmp(o->s, v->s, len))
			return refuse(d, -VPWR_E_PROTO, "duplicate object key");
	}
	if (d->nr_keys == d->keys_cap && !grow_keys(d))
		return refuse(d, -ENOMEM, "out of memory");
	d->key_hash[d->nr_keys] = h;
	d->key_at[d->nr_keys++] = (uint16_t)(d->nr - 1);
	return 1;
}

/* ------------------------------------------------------------ numbers */

/*
 * The integer at s (yajl has checked the syntax) into *out; false if it
 * does not fit a long long, jansson's json_int_t.  *real: it is not an
 * integer at all (a fraction or an exponent follows the digits).
 */
static bool parse_integer(const char *s, size_t n, int64_t *out, bool *real)
{
	bool neg = s[0] == '-';
	uint64_t u = 0, limit = neg ? (uint64_t)INT64_MAX + 1 : INT64_MAX;
	size_t i = neg;

	/* 18 digits cannot overflow */
	for (; i < n && i < 18u + neg && s[i] >= '0' && s[i] <= '9'; i++)
		u = u * 10 + (unsigned)(s[i] - '0');
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		unsigned digit = (unsigned)(s[i] - '0');

		if (u > (limit - digit) / 10) {
			*real = memchr(s, '.', n) || memchr(s, 'e', n) ||
				memchr(s, 'E', n);
			return false;
		}
		u = u * 10 + digit;
	}
	*real = i < n;
	*out = neg && u ? -(int64_t)(u - 1) - 1 : (int64_t)u;
	return true;
}

/*
 * Whether strtod() would overflow on this real, which jansson refuses: a
 * magnitude of at least 2^1024 - 2^970, halfway between DBL_MAX and
 * 2^1024, rounds to infinity.  Decided on the decimal digits, as that
 * number's are known, so that neither the locale's decimal point nor the
 * exponent's size matter.
 */
static bool real_overflows(const char *s, size_t n)
{
	static const char limit[] =
		"1797693134862315807937289714053034150799341327100378269361737789"
		"8044496829276475094664901797758720709633028641669288791094655554"
		"7851940402630657488671505820681908902000708383676273854845817711"
		"5317644757302700698555713669596228429148198608349364752927190741"
		"68444365510704342711559699508093042880177904174497792";
	const long limit_exp = 309; /* limit = 0.1797... * 10^309 */
	char digits[sizeof(limit)];
	size_t nd = 0, i = s[0] == '-';
	long exp = 0, e = 0;
	bool neg_e = false, seen = false;

	/* 0.<digits> * 10^exp, digits without leading zeros, as many as
	 * the comparison needs. */
	for (; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
		seen |= s[i] != '0';
		if (seen) {
			exp++;
			if (nd < sizeof(digits))
				digits[nd++] = s[i];
		}
	}
	if (i < n && s[i] == '.')
		for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++) {
			seen |= s[i] != '0';
			if (!seen)
				exp--;
			else if (nd < sizeof(digits))
				digits[nd++] = s[i];
		}
	if (!seen)
		return false; /* zero */
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			neg_e = s[i++] == '-';
		for (; i < n; i++)
			if (e < 100000) /* any more is far past either way */
				e = e * 10 + (s[i] - '0');
	}
	exp += neg_e ? -e : e;
	if (exp != limit_exp)
		return exp > limit_exp;
	for (i = 0; i < sizeof(limit) - 1; i++) {
		char c = i < nd ? digits[i] : '0';

		if (c != limit[i])
			return c > limit[i];
	}
	return true; /* exactly the halfway point: rounds to even, up */
}

static int on_number(void *ctx, const char *s, size_t n)
{
	struct vpwr_json_doc *d = ctx;
	int64_t i = 0;
	bool real, fits = parse_integer(s, n, &i, &real);
	struct vpwr_jv *v = add(d, real ? VJ_REAL : VJ_INTEGER, false);

	if (!v)
		return 0;
	if (real && real_overflows(s, n))
		return refuse(d, -VPWR_E_PROTO, "real number overflow");
	if (!real && !fits)
		return refuse(d, -VPWR_E_PROTO, "too big integer");
	v->i = real ? 0 : i;
	return 1;
}

/* ---------------------------------------------------------- the rest */

static int on_null(void *ctx)
{
	return add(ctx, VJ_NULL, false) != NULL;
}

static int on_boolean(void *ctx, int b)
{
	return add(ctx, b ? VJ_TRUE : VJ_FALSE, false) != NULL;
}

static int on_start_map(void *ctx)
{
	return open_container(ctx, VJ_OBJECT);
}

static int on_start_array(void *ctx)
{
	return open_container(ctx, VJ_ARRAY);
}

static int on_end(void *ctx)
{
	return close_container(ctx);
}

static const yajl_callbacks callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_boolean,
	.yajl_number = on_number, /* as text: integers are not doubles */
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_key,
	.yajl_end_map = on_end,
	.yajl_start_array = on_start_array,
	.yajl_end_array = on_end,
};

int vpwr_json_parse(struct vpwr_json_doc *d, const uint8_t *text, size_t len)
{
	yajl_alloc_funcs alloc = { arena_malloc, arena_realloc, arena_free, d };
	yajl_handle h;
	yajl_status st;

	/* 16-bit distances and counts in struct vpwr_jv */
	if (len > VPWR_JSON_MAX_LINE)
		return -VPWR_E_TOOBIG;
	d->root = NULL;
	d->end = 0;
	d->why = NULL;
	d->at = 0;
	d->in = text;
	d->len = len;
	d->v = d->stack_v;
	d->nr = 0;
	d->cap = VPWR_JSON_STACK_VALUES;
	d->text = d->stack_text;
	d->used = 0;
	d->text_cap = sizeof(d->stack_text);
	d->key_hash = d->stack_key_hash;
	d->key_at = d->stack_key_at;
	d->nr_keys = 0;
	d->keys_cap = VPWR_JSON_STACK_KEYS;
	d->cur = d->last = -1;
	d->depth = 0;
	d->rc = 0;
	d->done = false;
	d->arena_used = 0;
	memset(d->heap, 0, sizeof(d->heap));

	h = yajl_alloc(&callbacks, &alloc, d);
	if (!h)
		return -ENOMEM;
	d->yajl = h;
	/* Strings are checked here, more strictly (unescape()). */
	yajl_config(h, yajl_dont_validate_strings, 1);
	st = yajl_parse(h, text, len);
	if (!d->done && !d->rc) {
		/* A syntax error yajl found, or the line ended inside the
		 * value (yajl waits for more). */
		d->rc = -VPWR_E_PROTO;
		d->why = st == yajl_status_ok ? "premature end of input"
					      : "syntax error";
		d->at = len ? len - 1 : 0;
		if (st != yajl_status_ok && yajl_get_bytes_consumed(h))
			d->at = yajl_get_bytes_consumed(h) - 1;
		if (d->at < len && !text[d->at])
			d->why = "a NUL byte outside a string";
	}
	yajl_free(h);
	d->yajl = NULL;
	/* Outside strings (inside, yajl refuses them), yajl skips these as
	 * white space; jansson does not. */
	if (!d->rc &&
	    (memchr(text, '\v', d->end) || memchr(text, '\f', d->end))) {
		d->rc = -VPWR_E_PROTO;
		d->why = "vertical tab or form feed";
		d->at = 0;
	}
	if (!d->rc)
		d->root = &d->v[0];
	return d->rc;
}

void vpwr_json_doc_free(struct vpwr_json_doc *d)
{
	for (size_t i = 0; i < VPWR_ARRAY_SIZE(d->heap); i++) {
		free(d->heap[i]);
		d->heap[i] = NULL;
	}
}
