/* SPDX-License-Identifier: MIT */
/*
 * What a codec is inside the library: one const ops table per wire format,
 * defined in its own file (codec_native.c, later codec_dpdk.c and
 * codec_json.c) and listed once in codec.c's registry.  Callers only ever
 * hold a `const struct vpwr_codec *` and go through the public wrappers in
 * codec.c, which check arguments, zero the error struct and the message,
 * and never pass a NULL `err` down: ops need no NULL checks of their own.
 */
#ifndef VPWR_CODEC_INTERNAL_H
#define VPWR_CODEC_INTERNAL_H

#include <stdint.h>

#include "libvpwr/codec.h"

/* What probe() says about the first bytes of a stream. */
enum vpwr_probe {
	VPWR_PROBE_NO = -1,   /* these bytes cannot start this codec's frames */
	VPWR_PROBE_MAYBE = 0, /* a prefix of something this codec would accept */
	VPWR_PROBE_YES = 1,   /* this codec's frames start like this */
};

/*
 * What a codec learnt from the first bytes of a stream that did not yet
 * hold a whole frame (or enough to tell the codec), so that the next call,
 * on the same bytes and more, does not read them again: a line that
 * arrives a byte at a time is framed in linear time, not quadratic.  All
 * zero: nothing known yet.  The framer keeps one per stream and clears
 * pos and state whenever the bytes before pos change (a frame consumed);
 * one-shot callers pass a zeroed one.
 */
struct vpwr_scan {
	size_t pos;        /* bytes read without finding an end (or an answer) */
	unsigned state;    /* the codec's own note about those bytes */
	uint64_t examined; /* bytes read in all, never cleared: for tests */
};

struct vpwr_codec {
	const char *name;
	/* The largest frame this codec produces or accepts, in bytes. */
	size_t max_frame;
	/*
	 * Detection (NULL: found by name only).  The registry is probed in
	 * order and the first YES wins,
	 * but a MAYBE from an earlier codec means "wait for more bytes", so a
	 * catch-all codec (dpdk: anything that is neither native nor JSON)
	 * belongs last.  A probe that reads more than a few fixed bytes
	 * keeps its progress in `scan` while it answers MAYBE; only one codec
	 * of the registry may (json: leading white space), since they share
	 * it during detection.
	 */
	int (*probe)(const uint8_t *buf, size_t len, struct vpwr_scan *scan);
	/* Same contract as vpwr_codec_frame_len(); len may be 0.  A codec
	 * whose frames end with a delimiter keeps its progress in `scan`
	 * while it answers 0. */
	int (*frame_len)(const uint8_t *buf, size_t len, struct vpwr_scan *scan,
			 struct vpwr_decode_error *err);
	/* Same contract as vpwr_codec_decode(); m arrives zeroed. */
	int (*decode)(const uint8_t *buf, size_t len, struct vpwr_msg *m,
		      struct vpwr_decode_error *err);
	/* Same contract as vpwr_codec_encode(); never writes past cap. */
	int (*encode)(const struct vpwr_msg *m, uint8_t *buf, size_t cap);
	/* VPWR_CODEC_F_* */
	unsigned flags;
};

/* Replies carry no sequence number: the guest matches them in order. */
#define VPWR_CODEC_F_NO_SEQ 0x1u

extern const struct vpwr_codec vpwr_native_codec;
extern const struct vpwr_codec vpwr_json_codec;       /* codec_json.c */
extern const struct vpwr_codec vpwr_dpdk_codec;       /* codec_dpdk.c */
extern const struct vpwr_codec vpwr_dpdk_guest_codec; /* codec_dpdk.c */

/* vpwr_codec_detect() resuming from, and updating, `scan`. */
const struct vpwr_codec *vpwr_codec_detect_scan(const uint8_t *buf,
						size_t len,
						struct vpwr_scan *scan,
						int *err);

/*
 * Fill `err` (offset and printf-style text) and return `rc`, so that ops
 * can write `return vpwr_decode_fail(err, -VPWR_E_PROTO, off, "...")`.
 */
int vpwr_decode_fail(struct vpwr_decode_error *err, int rc, size_t offset,
		     const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Little-endian access byte by byte: no alignment or host-order games. */
static inline uint16_t vpwr_get_le16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (unsigned)p[1] << 8);
}

static inline uint32_t vpwr_get_le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline void vpwr_put_le16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void vpwr_put_le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

#endif
