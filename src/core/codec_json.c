/* SPDX-License-Identifier: MIT */
/*
 * The JSON codec: NDJSON, one object per line (docs/JSON.md).  This file
 * holds what is about lines rather than messages: detection, framing, and
 * the decode entry that hands a parsed object to the native form
 * (codec_json_native.c) or to DPDK's forms (codec_json_dpdk.c).
 *
 * Lines that hold only white space are not messages: the framer folds them
 * into the frame of the next line, whose leading white space the parser
 * skips, so a person who presses Enter twice gets no error back (NDJSON
 * lets readers ignore empty lines).
 *
 * A line is parsed by codec_json_doc.c (yajl).  A line it refuses is
 * handed to jansson, which refuses it too, only to have it worded: the
 * texts and places of syntax errors are jansson's, as docs/JSON.md says
 * and the tests check.
 */
#include <jansson.h>

#include "codec_json_internal.h"
#include "internal.h"

#define MAX_LINE VPWR_JSON_MAX_LINE

static bool is_ws(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static size_t skip_ws(const uint8_t *p, size_t len, size_t i)
{
	while (i < len && is_ws(p[i]))
		i++;
	return i;
}

/* scan->state: what the bytes before scan->pos held besides white space */
#define SCAN_BRACE 0x1u /* probe: the '{' */
#define SCAN_TEXT 0x1u  /* frame_len: something, so a '\n' ends the line */

/* Where to resume in a stream of len bytes: scan->pos, unless it cannot
 * be about these bytes (then from the start, knowing nothing). */
static size_t resume(struct vpwr_scan *scan, size_t len)
{
	if (scan->pos > len) {
		scan->pos = 0;
		scan->state = 0;
	}
	return scan->pos;
}

/*
 * YES only for '{' followed by '"' or '}': DPDK's binary packets begin with
 * a little-endian u64, so a resource id of 0x7B starts with '{' and 0x00,
 * and must fall through to the dpdk codec.
 */
static int json_probe(const uint8_t *p, size_t len, struct vpwr_scan *scan)
{
	size_t from = resume(scan, len), i = from;
	bool brace = from && (scan->state & SCAN_BRACE);

	for (; i < len; i++) {
		if (is_ws(p[i]))
			continue;
		if (brace || p[i] != '{')
			break;
		brace = true;
	}
	scan->examined += i - from;
	if (i == len) {
		scan->pos = len;
		scan->state = brace ? SCAN_BRACE : 0;
		return VPWR_PROBE_MAYBE;
	}
	if (!brace)
		return VPWR_PROBE_NO;
	return p[i] == '"' || p[i] == '}' ? VPWR_PROBE_YES : VPWR_PROBE_NO;
}

static int json_frame_len(const uint8_t *p, size_t len,
			  struct vpwr_scan *scan, struct vpwr_decode_error *err)
{
	size_t lim = VPWR_MIN(len, (size_t)MAX_LINE);
	size_t from = resume(scan, lim), i = from;
	bool blank = !from || !(scan->state & SCAN_TEXT);
	const uint8_t *nl;

	/* White space up to the first text: a '\n' there ends a blank line,
	 * which is folded into this frame. */
	for (; blank && i < lim; i++)
		if (!is_ws(p[i]))
			blank = false;
	nl = blank ? NULL : memchr(p + i, '\n', lim - i);
	if (nl) {
		scan->examined += (size_t)(nl - p) + 1 - from;
		return (int)(nl - p) + 1;
	}
	scan->examined += lim - from;
	if (len >= MAX_LINE)
		return vpwr_decode_fail(err, -VPWR_E_TOOBIG, 0,
					"no end of line within %d bytes",
					MAX_LINE);
	scan->pos = lim;
	scan->state = blank ? 0 : SCAN_TEXT;
	return 0;
}

/* After the object: only white space, and no second line. */
static int check_rest(const struct vpwr_json_in *in, size_t start, size_t end)
{
	const uint8_t *nl = memchr(in->text + start, '\n', end - start);

	if (nl)
		return vpwr_json_fail(in, -VPWR_E_PROTO,
				      (size_t)(nl - in->text),
				      "the object continues past the end of its line");
	for (size_t i = end; i < in->len; i++)
		if (!is_ws(in->text[i]))
			return vpwr_json_fail(in, -VPWR_E_PROTO, i,
					      "trailing data after the object");
	return 0;
}

/* The line `doc` refused, in jansson's words. */
static int syntax_error(const struct vpwr_json_in *in,
			const struct vpwr_json_doc *doc)
{
	json_error_t je;
	json_t *root;
	size_t off;

	root = json_loadb((const char *)in->text, in->len,
			  JSON_REJECT_DUPLICATES | JSON_DISABLE_EOF_CHECK, &je);
	if (root) {
		/* Only a NUL byte after a number or literal, which jansson
		 * drops (codec_json_doc.c); fuzz_json checks that jansson
		 * refuses every other line that codec_json_doc.c refuses. */
		json_decref(root);
		return vpwr_json_fail(in, -VPWR_E_PROTO, doc->at,
				      "invalid JSON: %s", doc->why);
	}
	off = je.position > 0 ? (size_t)je.position - 1 : 0;
	if (json_error_code(&je) == json_error_out_of_memory)
		return vpwr_json_fail(in, -ENOMEM, off, "out of memory");
	return vpwr_json_fail(in, -VPWR_E_PROTO, off, "invalid JSON: %s",
			      je.text);
}

static int decode_object(const struct vpwr_json_in *in,
			 const struct vpwr_jv *root,
			 size_t obj, struct vpwr_msg *m)
{
	const char *why;
	int rc;

	if (vpwr_jv_get(root, "instruction") || vpwr_jv_get(root, "policy"))
		rc = vpwr_json_decode_dpdk(in, root, obj, m);
	else
		rc = vpwr_json_decode_native(in, root, obj, m);
	if (rc)
		return rc;
	rc = vpwr_msg_validate(m, &why);
	if (rc)
		return vpwr_json_fail(in, rc, obj, "%s", why);
	return 0;
}

static int json_decode(const uint8_t *p, size_t len, struct vpwr_msg *m,
		       struct vpwr_decode_error *err)
{
	struct vpwr_json_in in = { p, len, err };
	struct vpwr_json_doc doc;
	size_t start;
	int rc;

	m->vcpu = VPWR_VCPU_NONE;
	if (len > MAX_LINE)
		return vpwr_json_fail(&in, -VPWR_E_TOOBIG, MAX_LINE,
				      "a line of %zu bytes exceeds %d", len,
				      MAX_LINE);
	start = skip_ws(p, len, 0);
	if (start == len)
		return vpwr_json_fail(&in, -VPWR_E_PROTO, 0, "empty line");
	rc = vpwr_json_parse(&doc, p, len);
	if (rc == -VPWR_E_PROTO)
		rc = syntax_error(&in, &doc);
	else if (rc)
		rc = vpwr_json_fail(&in, rc, doc.at, "out of memory");
	/* The parse stopped where the object ended. */
	if (!rc)
		rc = check_rest(&in, start, doc.end);
	if (!rc && doc.root->type != VJ_OBJECT)
		rc = vpwr_json_fail(&in, -VPWR_E_PROTO, start,
				    "a line must hold a JSON object");
	if (!rc)
		rc = decode_object(&in, doc.root, start, m);
	vpwr_json_doc_free(&doc);
	return rc;
}

const struct vpwr_codec vpwr_json_codec = {
	.name = "json",
	.max_frame = MAX_LINE,
	.probe = json_probe,
	.frame_len = json_frame_len,
	.decode = json_decode,
	.encode = vpwr_json_encode,
	.flags = 0,
};
