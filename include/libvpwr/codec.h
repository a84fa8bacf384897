/* SPDX-License-Identifier: MIT */
/*
 * Codecs turn struct vpwr_msg into bytes and back.  They never touch a
 * transport.  Decoding is split in two so that a stream can be cut into
 * frames before anything is interpreted:
 *
 *   n = vpwr_codec_frame_len(c, buf, len);    // > 0: a whole frame of n bytes
 *                                              // 0: need more bytes
 *                                              // < 0: the stream is broken
 *   rc = vpwr_codec_decode(c, buf, n, &msg, &err);
 *
 * A frame that is well delimited but whose content is invalid makes
 * vpwr_codec_decode() fail while still filling msg.type and msg.seq as far
 * as they could be read, so that the peer can be answered with a NACK.
 * A broken stream (bad magic, oversized length) cannot be resynchronised:
 * the channel must be reset.
 *
 * Codec tables are static and immutable: thread-safe.
 */
#ifndef LIBVPWR_CODEC_H
#define LIBVPWR_CODEC_H

#include "common.h"
#include "message.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vpwr_codec;

/* Where and why input was rejected.  Caller-owned. */
struct vpwr_decode_error {
	size_t offset;  /* byte offset of the offending data in the frame */
	int line;       /* text codecs: 1-based line, else 0 */
	int column;     /* text codecs: 1-based column, else 0 */
	char text[160]; /* NUL-terminated explanation */
};

/* Native frames: 16-byte header, at most this many bytes in all. */
#define VPWR_NATIVE_HDR_LEN 16
#define VPWR_NATIVE_MAX_FRAME 4096

/* DPDK's guest channel (struct rte_power_channel_packet, x86-64). */
#define VPWR_DPDK_PKT_LEN 464       /* requests, ACK and NACK */
#define VPWR_DPDK_FREQ_LIST_LEN 88  /* reply to QUERY_FREQ(_LIST) */
#define VPWR_DPDK_CAPS_LIST_LEN 184 /* reply to QUERY_CAPS(_LIST) */

/* JSON: one object per line, at most this many bytes with the newline. */
#define VPWR_JSON_MAX_LINE 4096

/* The native protocol, vpwr/1 (docs/PROTOCOL.md). */
VPWR_API const struct vpwr_codec *vpwr_codec_native(void);

/*
 * DPDK's guest channel protocol.  Its packets carry no direction and no
 * sequence number, and the same command numbers mean a request from a
 * guest and a reply from the host, so the codec comes in two roles:
 * vpwr_codec_dpdk() is the host's (decodes requests, encodes replies),
 * vpwr_codec_dpdk_guest() the guest's (encodes requests, decodes replies).
 * By name: "dpdk" and "dpdk-guest".
 */
VPWR_API const struct vpwr_codec *vpwr_codec_dpdk(void);
/* A DPDK ACK/NACK does not say what it answers: the guest role decodes it
 * with type 0, and the guest client matches it to its one open request. */
VPWR_API const struct vpwr_codec *vpwr_codec_dpdk_guest(void);

/*
 * NDJSON: the native messages with readable names, one object per line
 * ({"v":1,"seq":7,"type":"scale","vcpu":0,"op":"up"}); also accepts DPDK's
 * JSON forms ({"instruction":{...}}, {"policy":{...}}).  By name: "json".
 */
VPWR_API const struct vpwr_codec *vpwr_codec_json(void);

/* Look a codec up by name ("native", ...).  NULL if unknown. */
VPWR_API const struct vpwr_codec *vpwr_codec_by_name(const char *name);

VPWR_API const char *vpwr_codec_name(const struct vpwr_codec *c);

/*
 * Pick the codec a guest speaks from the first bytes it sent: "VPWR" ->
 * native, '{' (after optional white space) -> json, anything else -> dpdk
 * (the host role).  Returns the codec, or NULL when `len` bytes are not
 * enough to tell (*err 0) or no codec matches (*err -VPWR_E_PROTO).  `err`
 * may be NULL.
 */
VPWR_API const struct vpwr_codec *vpwr_codec_detect(const void *buf,
						    size_t len, int *err);

/*
 * Length of the frame at the start of buf: > 0 when a whole frame is
 * present, 0 when more bytes are needed, -VPWR_E_PROTO or -VPWR_E_TOOBIG
 * when the stream cannot be framed.  `err` may be NULL.
 */
VPWR_API int vpwr_codec_frame_len(const struct vpwr_codec *c, const void *buf,
				  size_t len, struct vpwr_decode_error *err);

/*
 * Decode exactly one frame of `len` bytes into `m`.  Returns 0, or
 * -VPWR_E_PROTO (malformed), -VPWR_E_TOOBIG (length over the codec's
 * limit), -VPWR_E_VERSION, -EPROTONOSUPPORT (an unknown mandatory
 * attribute), -EBADMSG (unknown message type), -EINVAL (bad arguments);
 * the dpdk codec also -EPERM (a guest naming physical CPUs) and
 * -VPWR_E_VCPU_RANGE (a one-vCPU query DPDK's 8-slot lists cannot answer);
 * `err` (may be NULL) says where and why.  On failure m->type and m->seq
 * hold what could be read, so that the frame can be answered with a NACK
 * of its own type and seq (a NACK may carry any type number).
 */
VPWR_API int vpwr_codec_decode(const struct vpwr_codec *c, const void *buf,
			       size_t len, struct vpwr_msg *m,
			       struct vpwr_decode_error *err);

/*
 * Encode `m` into buf.  Returns the number of bytes written, -ENOBUFS if
 * `cap` is too small, -EINVAL if `m` cannot be expressed by this codec.
 */
VPWR_API int vpwr_codec_encode(const struct vpwr_codec *c,
			       const struct vpwr_msg *m, void *buf,
			       size_t cap);

#ifdef __cplusplus
}
#endif
#endif
