/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: frame reassembly (src/core/framer.h) as the host runs
 * it, on a stream cut into arbitrary pieces.
 *
 * Input: byte 0 picks the codec (low 3 bits: 0-3 detect it from the
 * stream, 4 native, 5 json, 6 dpdk, 7 dpdk-guest) and, with byte 1, seeds
 * the piece sizes; the rest is the stream.  Every frame the framer yields
 * is decoded and checked like in the decode targets.  The stream is then
 * fed a second time in the largest pieces that fit, and both runs must
 * yield the same frames and end the same way: where a frame ends never
 * depends on how the bytes arrived.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "framer.h"
#include "fuzz_common.h"

struct outcome {
	const struct vpwr_codec *codec;
	unsigned frames;
	uint64_t hash;      /* FNV-1a over the frames and their lengths */
	int end;            /* < 0: the stream broke with this error */
	size_t left;        /* end == 0: bytes held, not yet a frame */
};

struct splitter {
	uint32_t state;     /* 0: largest pieces that fit */
	uint32_t max;
};

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const uint8_t *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	return h;
}

static size_t min_size(size_t a, size_t b)
{
	return a < b ? a : b;
}

static size_t next_piece(struct splitter *s, size_t room)
{
	uint32_t x = s->state;

	if (!x)
		return room;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	s->state = x;
	return min_size(room, 1 + x % s->max);
}

static const struct fuzz_codec *fixed_codec(unsigned pick)
{
	static const char *const names[] = { "native", "json", "dpdk",
					     "dpdk-guest" };

	return pick < 4 ? NULL : fuzz_codec_get(names[pick - 4]);
}

static void feed(const uint8_t *s, size_t len, unsigned pick,
		 struct splitter *sp, bool decode, struct outcome *out)
{
	static struct vpwr_framer f;
	const struct fuzz_codec *fixed = fixed_codec(pick);
	struct vpwr_decode_error err;
	size_t pos = 0;

	memset(out, 0, sizeof(*out));
	out->hash = 0xcbf29ce484222325ull;
	vpwr_framer_init(&f, fixed ? fixed->decoder : NULL);
	while (pos < len) {
		size_t room = vpwr_framer_space(&f);
		size_t n = next_piece(sp, min_size(room, len - pos));
		const uint8_t *frame;
		int flen;

		/* framer.h: a full buffer is a frame or an error, never
		 * "need more" (the host would read into 0 bytes of room). */
		if (!room)
			fuzz_fail(fixed, NULL, "framer full (%zu bytes) with "
				  "neither a frame nor an error", f.len);
		if (vpwr_framer_push(&f, s + pos, n))
			fuzz_fail(fixed, NULL, "push of %zu bytes into %zu "
				  "free failed", n, room);
		pos += n;
		while ((flen = vpwr_framer_next(&f, &frame, &err)) > 0) {
			const struct vpwr_codec *c = vpwr_framer_codec(&f);
			const struct fuzz_codec *fc;

			if (!c || frame != f.buf + f.start ||
			    (size_t)flen > f.len)
				fuzz_fail(fixed, NULL, "bad frame %d of %zu "
					  "held", flen, f.len);
			fc = fuzz_codec_get(vpwr_codec_name(c));
			if (decode)
				fuzz_decode(fc, frame, (size_t)flen);
			out->codec = c;
			out->frames++;
			out->hash = fnv(out->hash, &flen, sizeof(flen));
			out->hash = fnv(out->hash, frame, (size_t)flen);
			vpwr_framer_consume(&f, (size_t)flen);
		}
		if (flen < 0) {
			if (flen != -VPWR_E_PROTO && flen != -VPWR_E_TOOBIG)
				fuzz_fail(fixed, NULL, "framer_next: %d", flen);
			if (!memchr(err.text, '\0', sizeof(err.text)))
				fuzz_fail(fixed, NULL, "unterminated error");
			out->codec = vpwr_framer_codec(&f);
			out->end = flen;
			return;
		}
	}
	out->codec = vpwr_framer_codec(&f);
	out->left = f.len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t max_piece[4] = { 1, 7, 97, 1500 };
	struct outcome split, whole;
	struct splitter sp, all = { 0, 0 };
	unsigned pick;
	int err;

	if (size < 2)
		return 0;
	pick = data[0] & 7;
	sp.state = ((uint32_t)data[0] << 8 | data[1]) * 2654435761u | 1;
	sp.max = max_piece[(data[0] >> 3) & 3];
	data += 2;
	size -= 2;

	/* Detection on its own, on whatever prefix this is. */
	vpwr_codec_detect(data, size, &err);
	if (err && err != -VPWR_E_PROTO)
		fuzz_fail(NULL, NULL, "detect: %d", err);

	feed(data, size, pick, &sp, true, &split);
	feed(data, size, pick, &all, false, &whole);
	if (split.codec != whole.codec || split.frames != whole.frames ||
	    split.hash != whole.hash || split.end != whole.end ||
	    split.left != whole.left)
		fuzz_fail(fixed_codec(pick), NULL,
			  "frames depend on how the bytes arrived: "
			  "%s %u frames end %d left %zu, in one piece "
			  "%s %u frames end %d left %zu",
			  split.codec ? vpwr_codec_name(split.codec) : "-",
			  split.frames, split.end, split.left,
			  whole.codec ? vpwr_codec_name(whole.codec) : "-",
			  whole.frames, whole.end, whole.left);
	return 0;
}
