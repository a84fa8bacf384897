/* SPDX-License-Identifier: MIT */
/*
 * What every libFuzzer target of tests/fuzz/ checks about a decoder, in one
 * place so that the targets cannot drift apart.  A violated property is a
 * bug: fuzz_fail() prints what broke and abort()s, which libFuzzer reports
 * as a crash and saves the input.  Only the fuzz targets abort; the library
 * never does.
 */
#ifndef VPWR_FUZZ_COMMON_H
#define VPWR_FUZZ_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "libvpwr/libvpwr.h"

/* Re-encoding buffer: -ENOBUFS with this much room is a bug. */
#define FUZZ_ENCODE_CAP 8192

/*
 * How a decoded message goes back to bytes.  `encoder` writes the frame
 * that `decoder` reads again: the same codec, except for DPDK, whose host
 * role decodes requests and encodes replies (so a request decoded by
 * "dpdk" is re-encoded by "dpdk-guest", and the other way round).
 */
struct fuzz_codec {
	const struct vpwr_codec *decoder;
	const struct vpwr_codec *encoder;
	/* What the wire format cannot carry back (FUZZ_LOSS_*): 0 means
	 * dec(enc(m)) == m for every message the decoder accepts.  In every
	 * case the message must be a fixed point after one round trip. */
	unsigned losses;
};

/*
 * DPDK's ACK and NACK do not say what they answer: the guest role decodes
 * them with type 0, which only the guest client can fill in (from its one
 * outstanding request).  Re-encoding substitutes a request type and
 * expects type 0 back.
 */
#define FUZZ_LOSS_ACK_TYPE 0x1u
/*
 * DPDK's num_vcpu is a byte that the guest role reads as the domain's vCPU
 * count (u.vcpus.nr_vcpus, up to 255, as DPDK's host sends it), while the
 * list itself has 8 slots; the host role writes the number of slots it
 * filled.  A count above the filled slots does not come back.
 */
#define FUZZ_LOSS_NR_VCPUS 0x2u

/* Print why, the codec and the message (if any), then abort(). */
__attribute__((noreturn)) void fuzz_fail(const struct fuzz_codec *fc,
					 const struct vpwr_msg *m,
					 const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The decoder/encoder pair for a codec name ("native", "dpdk", ...). */
const struct fuzz_codec *fuzz_codec_get(const char *decoder_name);

/*
 * vpwr_codec_frame_len() on buf with its contract checked (a frame length
 * is within len; exactly that many bytes are a frame, one fewer are not;
 * errors are only the documented ones).  Returns what it returned.
 */
int fuzz_frame_len(const struct fuzz_codec *fc, const uint8_t *buf,
		   size_t len);

/*
 * vpwr_codec_decode() of exactly len bytes, and on success every property
 * above: a request validates; the message re-encodes into one whole frame
 * that decodes again to the same message (up to the codec's documented
 * losses), and from then on bytes and message are a fixed point.  Returns
 * the decode status.
 */
int fuzz_decode(const struct fuzz_codec *fc, const uint8_t *buf, size_t len);

/* The whole decode target: frame_len, then decode the frame (or the whole
 * input when it is not one frame: a decoder must survive any length). */
int fuzz_one_input(const char *codec_name, const uint8_t *data, size_t size);

#endif
