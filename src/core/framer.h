/* SPDX-License-Identifier: MIT */
/*
 * Frame reassembly: bytes arrive from a stream in arbitrary pieces; the
 * framer collects them, detects the peer's codec from the first bytes (or
 * uses a fixed one), and hands out whole frames.
 *
 *   vpwr_framer_init(&f, NULL);             // NULL: detect the codec
 *   n = read(fd, vpwr_framer_tail(&f), vpwr_framer_space(&f));
 *   vpwr_framer_commit(&f, n);              // or vpwr_framer_push(&f, p, n)
 *   while ((len = vpwr_framer_next(&f, &frame, &err)) > 0) {
 *           vpwr_codec_decode(vpwr_framer_codec(&f), frame, len, &m, &err);
 *           vpwr_framer_consume(&f, len);
 *   }
 *   if (len < 0) -> the stream is broken: reset the channel
 */
#ifndef VPWR_FRAMER_H
#define VPWR_FRAMER_H

#include <stddef.h>
#include <stdint.h>

#include "codec_internal.h"
#include "libvpwr/codec.h"

/* Twice the largest frame, so that one whole frame always fits after a
 * partial one has been consumed. */
#define VPWR_FRAMER_CAP (2 * VPWR_NATIVE_MAX_FRAME)

struct vpwr_framer {
	const struct vpwr_codec *codec; /* NULL until detected */
	size_t start;                   /* where the bytes held begin */
	size_t len;                     /* bytes held */
	/* How far detection or frame_len got in the bytes held: more bytes
	 * resume it, a consume starts it again. */
	struct vpwr_scan scan;
	uint8_t buf[VPWR_FRAMER_CAP];
};

/* `codec` NULL: detect it from the first bytes. */
void vpwr_framer_init(struct vpwr_framer *f, const struct vpwr_codec *codec);

/* The codec in use, NULL while not yet detected. */
const struct vpwr_codec *vpwr_framer_codec(const struct vpwr_framer *f);

/* Where the next bytes go, and how many fit. */
uint8_t *vpwr_framer_tail(struct vpwr_framer *f);
size_t vpwr_framer_space(const struct vpwr_framer *f);
/* Account for n bytes written at vpwr_framer_tail(). */
void vpwr_framer_commit(struct vpwr_framer *f, size_t n);

/* Copy bytes in.  0, or -ENOBUFS when they do not fit. */
int vpwr_framer_push(struct vpwr_framer *f, const void *data, size_t len);

/*
 * The next whole frame: > 0 its length (*frame points at it), 0 when more
 * bytes are needed, < 0 (-VPWR_E_PROTO, -VPWR_E_TOOBIG) when the stream
 * cannot be framed.  Detects the codec on first use.  `err` may be NULL.
 */
int vpwr_framer_next(struct vpwr_framer *f, const uint8_t **frame,
		     struct vpwr_decode_error *err);

/* Drop the first n bytes (a frame that has been handled). */
void vpwr_framer_consume(struct vpwr_framer *f, size_t n);

/* Bytes the codec has read to find frames since init: a stream of n bytes
 * costs O(n) however it is cut into pieces (tests check that). */
uint64_t vpwr_framer_examined(const struct vpwr_framer *f);

#endif
