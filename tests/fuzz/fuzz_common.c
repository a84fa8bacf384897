/* SPDX-License-Identifier: MIT */
/*
 * The properties every decoder must keep on any input, checked for the
 * libFuzzer targets (see fuzz_common.h and docs/TESTING.md).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec_internal.h" /* max_frame: what the framer relies on */
#include "fuzz_common.h"

static const struct fuzz_codec *table(size_t *n)
{
	/* Filled on first use: the codec getters are functions. */
	static struct fuzz_codec t[4];

	if (!t[0].decoder) {
		t[0] = (struct fuzz_codec){ vpwr_codec_native(),
					    vpwr_codec_native(), 0 };
		t[1] = (struct fuzz_codec){ vpwr_codec_json(),
					    vpwr_codec_json(), 0 };
		t[2] = (struct fuzz_codec){ vpwr_codec_dpdk(),
					    vpwr_codec_dpdk_guest(), 0 };
		t[3] = (struct fuzz_codec){ vpwr_codec_dpdk_guest(),
					    vpwr_codec_dpdk(),
					    FUZZ_LOSS_ACK_TYPE |
					    FUZZ_LOSS_NR_VCPUS };
	}
	*n = 4;
	return t;
}

const struct fuzz_codec *fuzz_codec_get(const char *decoder_name)
{
	size_t n;
	const struct fuzz_codec *t = table(&n);

	for (size_t i = 0; i < n; i++)
		if (!strcmp(vpwr_codec_name(t[i].decoder), decoder_name))
			return &t[i];
	fprintf(stderr, "fuzz: no codec named %s\n", decoder_name);
	abort();
}

void fuzz_fail(const struct fuzz_codec *fc, const struct vpwr_msg *m,
	       const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nfuzz: codec %s: %s\n",
		fc ? vpwr_codec_name(fc->decoder) : "?", text);
	if (m) {
		vpwr_msg_format(m, text, sizeof(text));
		fprintf(stderr, "fuzz: message: %s\n", text);
	}
	abort();
}

/*
 * codec.h lists what decode returns.  A codec may refuse with a more
 * precise status (the host NACKs with it), so another negative code is
 * reported once per code, not a crash; -EINVAL (the arguments were fine),
 * -ENOMEM, -ENOBUFS and anything positive are bugs.
 */
static void check_decode_status(const struct fuzz_codec *fc, int rc,
				const char *text)
{
	static int seen[16];
	static unsigned nr_seen;

	switch (rc) {
	case 0:
	case -VPWR_E_PROTO:
	case -VPWR_E_TOOBIG:
	case -VPWR_E_VERSION:
	case -EPROTONOSUPPORT:
	case -EBADMSG:
		return;
	case -EINVAL:
	case -ENOMEM:
	case -ENOBUFS:
		fuzz_fail(fc, NULL, "decode returned %d (%s)", rc, text);
	default:
		if (rc > 0)
			fuzz_fail(fc, NULL, "decode returned %d", rc);
		for (unsigned i = 0; i < nr_seen; i++)
			if (seen[i] == rc)
				return;
		if (nr_seen < 16)
			seen[nr_seen++] = rc;
		fprintf(stderr, "fuzz: codec %s: decode returned %d (%s), "
			"which codec.h does not list: \"%s\"\n",
			vpwr_codec_name(fc->decoder), rc, vpwr_strerror(rc),
			text);
	}
}

static void check_error_struct(const struct fuzz_codec *fc,
			       const struct vpwr_decode_error *err, size_t len)
{
	if (!memchr(err->text, '\0', sizeof(err->text)))
		fuzz_fail(fc, NULL, "decode error text is not NUL-terminated");
	if (err->offset > len)
		fuzz_fail(fc, NULL, "decode error offset %zu past %zu bytes",
			  err->offset, len);
	if (err->line < 0 || err->column < 0)
		fuzz_fail(fc, NULL, "negative error line/column");
}

int fuzz_frame_len(const struct fuzz_codec *fc, const uint8_t *buf,
		   size_t len)
{
	struct vpwr_decode_error err;
	int n = vpwr_codec_frame_len(fc->decoder, buf, len, &err);

	if (n < 0 && n != -VPWR_E_PROTO && n != -VPWR_E_TOOBIG)
		fuzz_fail(fc, NULL, "frame_len returned %d", n);
	if (n > 0 && (size_t)n > len)
		fuzz_fail(fc, NULL, "frame_len %d past the %zu bytes", n, len);
	if (n > 0 && (size_t)n > fc->decoder->max_frame)
		fuzz_fail(fc, NULL, "frame_len %d above the codec's maximum %zu",
			  n, fc->decoder->max_frame);
	if (!memchr(err.text, '\0', sizeof(err.text)))
		fuzz_fail(fc, NULL, "frame_len error text not NUL-terminated");
	if (n > 0) {
		/* The frame is delimited by its own bytes: what follows it
		 * does not matter, and one byte less is not a frame yet. */
		int again = vpwr_codec_frame_len(fc->decoder, buf, (size_t)n,
						 NULL);
		int shorter = vpwr_codec_frame_len(fc->decoder, buf,
						   (size_t)n - 1, NULL);
		if (again != n)
			fuzz_fail(fc, NULL, "frame_len %d, but %d on exactly "
				  "those bytes", n, again);
		if (shorter != 0)
			fuzz_fail(fc, NULL, "frame_len %d, but %d on one byte "
				  "less (a frame's prefix must need more)",
				  n, shorter);
	}
	return n;
}

/* a and b equal up to the codec's documented losses. */
static void check_same(const struct fuzz_codec *fc, const struct vpwr_msg *a,
		       const struct vpwr_msg *b)
{
	struct vpwr_msg x = *a, y = *b;

	if ((fc->losses & FUZZ_LOSS_NR_VCPUS) &&
	    x.type == VPWR_MSG_QUERY_VCPUS &&
	    x.u.vcpus.nr_vcpus > x.u.vcpus.nr) {
		if (y.u.vcpus.nr_vcpus != y.u.vcpus.nr)
			fuzz_fail(fc, a, "nr_vcpus %u came back as %u, not as "
				  "the %u slots", x.u.vcpus.nr_vcpus,
				  y.u.vcpus.nr_vcpus, y.u.vcpus.nr);
		x.u.vcpus.nr_vcpus = y.u.vcpus.nr_vcpus;
	}
	if (x.type != y.type || x.flags != y.flags || x.seq != y.seq ||
	    x.status != y.status || x.vcpu != y.vcpu)
		fuzz_fail(fc, a, "round trip changed the header: type %u->%u "
			  "flags %u->%u seq %u->%u status %d->%d vcpu %u->%u",
			  x.type, y.type, x.flags, y.flags, x.seq, y.seq,
			  x.status, y.status, x.vcpu, y.vcpu);
	if (memcmp(x.reason, y.reason, sizeof(x.reason)))
		fuzz_fail(fc, a, "round trip changed the reason \"%.*s\"",
			  (int)sizeof(x.reason), x.reason);
	if (memcmp(&x.u, &y.u, sizeof(x.u)))
		fuzz_fail(fc, a, "round trip changed the message body");
	if (memcmp(&x, &y, sizeof(x)))
		fuzz_fail(fc, a, "decode(encode(m)) != m");
}

/* The message the encoder is given for decoded `m`. */
static void encodable(const struct fuzz_codec *fc, const struct vpwr_msg *m,
		      struct vpwr_msg *out)
{
	*out = *m;
	if ((fc->losses & FUZZ_LOSS_ACK_TYPE) && !out->type)
		out->type = VPWR_MSG_SCALE;
}

static int reencode(const struct fuzz_codec *fc, const struct vpwr_msg *m,
		    uint8_t *out)
{
	int n = vpwr_codec_encode(fc->encoder, m, out, FUZZ_ENCODE_CAP);
	int framed;

	if (n == -ENOBUFS)
		fuzz_fail(fc, m, "re-encode: -ENOBUFS with %d bytes of room",
			  FUZZ_ENCODE_CAP);
	if (n <= 0)
		fuzz_fail(fc, m, "a decoded message does not re-encode "
			  "with %s: %d", vpwr_codec_name(fc->encoder), n);
	if (n > FUZZ_ENCODE_CAP)
		fuzz_fail(fc, m, "encode claims %d bytes in a %d-byte buffer",
			  n, FUZZ_ENCODE_CAP);
	if ((size_t)n > fc->encoder->max_frame)
		fuzz_fail(fc, m, "encoded %d bytes, above the codec's maximum "
			  "%zu", n, fc->encoder->max_frame);
	framed = vpwr_codec_frame_len(fc->decoder, out, (size_t)n, NULL);
	if (framed != n)
		fuzz_fail(fc, m, "the re-encoded %d bytes frame as %d", n,
			  framed);
	return n;
}

static void redecode(const struct fuzz_codec *fc, const uint8_t *buf,
		     size_t len, struct vpwr_msg *out,
		     const struct vpwr_msg *orig)
{
	struct vpwr_decode_error err;
	int rc = vpwr_codec_decode(fc->decoder, buf, len, out, &err);

	if (rc)
		fuzz_fail(fc, orig, "the re-encoded frame does not decode: "
			  "%d (%s at %zu)", rc, err.text, err.offset);
}

static void check_decoded(const struct fuzz_codec *fc, const struct vpwr_msg *m)
{
	static uint8_t a[FUZZ_ENCODE_CAP], b[FUZZ_ENCODE_CAP];
	struct vpwr_msg in, m2, m3;
	const char *why = NULL;
	char text[256];
	int na, nb;

	if (!(m->flags & (VPWR_MSG_F_REPLY | VPWR_MSG_F_NOTIFY)) &&
	    vpwr_msg_validate(m, &why))
		fuzz_fail(fc, m, "decoded request does not validate: %s",
			  why ? why : "?");
	if (!memchr(m->reason, '\0', sizeof(m->reason)))
		fuzz_fail(fc, m, "decoded reason is not NUL-terminated");
	if (vpwr_msg_format(m, text, sizeof(text)) < 0)
		fuzz_fail(fc, m, "vpwr_msg_format failed");

	encodable(fc, m, &in);
	na = reencode(fc, &in, a);
	redecode(fc, a, (size_t)na, &m2, m);
	check_same(fc, m, &m2);
	/* From here on the codec must be stable: same bytes, same message. */
	encodable(fc, &m2, &in);
	nb = reencode(fc, &in, b);
	if (nb != na || memcmp(a, b, (size_t)na))
		fuzz_fail(fc, &m2, "encode(decode(encode(m))) != encode(m)");
	redecode(fc, b, (size_t)nb, &m3, &m2);
	if (memcmp(&m2, &m3, sizeof(m2)))
		fuzz_fail(fc, &m2, "the message is not a fixed point after "
			  "one round trip");
}

int fuzz_decode(const struct fuzz_codec *fc, const uint8_t *buf, size_t len)
{
	struct vpwr_decode_error err;
	struct vpwr_msg m;
	int rc = vpwr_codec_decode(fc->decoder, buf, len, &m, &err);

	check_error_struct(fc, &err, len);
	check_decode_status(fc, rc, err.text);
	if (rc == 0)
		check_decoded(fc, &m);
	return rc;
}

int fuzz_one_input(const char *codec_name, const uint8_t *data, size_t size)
{
	const struct fuzz_codec *fc = fuzz_codec_get(codec_name);
	int n = fuzz_frame_len(fc, data, size);

	if (n > 0)
		fuzz_decode(fc, data, (size_t)n);
	if (n <= 0 || (size_t)n != size)
		fuzz_decode(fc, data, size);
	return 0;
}
