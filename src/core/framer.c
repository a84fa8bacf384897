/* SPDX-License-Identifier: MIT */
/*
 * Frame reassembly for stream transports: collects bytes as they come,
 * detects the peer's codec from the first ones unless it was fixed, and
 * hands out whole frames, each one contiguous.  Consuming a frame only
 * moves `start`: a read that brought many frames (a pipelining peer) is
 * not shifted down once per frame.  What is left of a partial frame moves
 * to the front when vpwr_framer_next() needs more bytes, so a read always
 * finds the rest of the buffer free.  The scan state counts from `start`,
 * so that move does not disturb it.
 */
#include "framer.h"

#include "codec_internal.h"
#include "internal.h"

void vpwr_framer_init(struct vpwr_framer *f, const struct vpwr_codec *codec)
{
	if (!f)
		return;
	f->codec = codec;
	f->start = 0;
	f->len = 0;
	memset(&f->scan, 0, sizeof(f->scan));
}

const struct vpwr_codec *vpwr_framer_codec(const struct vpwr_framer *f)
{
	return f ? f->codec : NULL;
}

/* Move the bytes held to the front of the buffer. */
static void compact(struct vpwr_framer *f)
{
	if (!f->start)
		return;
	if (f->len)
		memmove(f->buf, f->buf + f->start, f->len);
	f->start = 0;
}

uint8_t *vpwr_framer_tail(struct vpwr_framer *f)
{
	return f ? f->buf + f->start + f->len : NULL;
}

size_t vpwr_framer_space(const struct vpwr_framer *f)
{
	return f ? sizeof(f->buf) - f->start - f->len : 0;
}

void vpwr_framer_commit(struct vpwr_framer *f, size_t n)
{
	if (!f)
		return;
	/* More than the space handed out cannot have been written there. */
	f->len += VPWR_MIN(n, vpwr_framer_space(f));
}

int vpwr_framer_push(struct vpwr_framer *f, const void *data, size_t len)
{
	if (!f || (!data && len))
		return -EINVAL;
	if (len > vpwr_framer_space(f))
		compact(f);
	if (len > vpwr_framer_space(f))
		return -ENOBUFS;
	if (len)
		memcpy(vpwr_framer_tail(f), data, len);
	f->len += len;
	return 0;
}

int vpwr_framer_next(struct vpwr_framer *f, const uint8_t **frame,
		     struct vpwr_decode_error *err)
{
	struct vpwr_decode_error dummy;
	int rc;

	if (!err)
		err = &dummy;
	memset(err, 0, sizeof(*err));
	if (frame)
		*frame = NULL;
	if (!f || !frame)
		return vpwr_decode_fail(err, -EINVAL, 0, "invalid argument");
	if (!f->codec) {
		f->codec = vpwr_codec_detect_scan(f->buf + f->start, f->len,
						  &f->scan, &rc);
		if (rc)
			return vpwr_decode_fail(err, rc, 0,
						"no codec speaks this stream");
		if (!f->codec) {
			compact(f); /* the caller reads next: give it the room */
			/* Blank lines can keep JSON's probe undecided forever. */
			if (f->len == sizeof(f->buf))
				return vpwr_decode_fail(err, -VPWR_E_TOOBIG, 0,
							"no codec told within "
							"%zu bytes",
							sizeof(f->buf));
			return 0;
		}
		/* What the probe noted is not the codec's framing state. */
		f->scan.pos = 0;
		f->scan.state = 0;
	}
	rc = f->codec->frame_len(f->buf + f->start, f->len, &f->scan, err);
	if (rc > 0) {
		*frame = f->buf + f->start;
		return rc;
	}
	if (!rc)
		compact(f);
	/* A codec whose frames end with a delimiter cannot say "too big"
	 * before the delimiter: a full buffer without a frame is one. */
	if (!rc && f->len == sizeof(f->buf))
		return vpwr_decode_fail(err, -VPWR_E_TOOBIG, 0,
					"no frame within %zu bytes",
					sizeof(f->buf));
	return rc;
}

void vpwr_framer_consume(struct vpwr_framer *f, size_t n)
{
	if (!f)
		return;
	/* The bytes a scan went over are gone. */
	f->scan.pos = 0;
	f->scan.state = 0;
	if (n >= f->len) {
		f->start = f->len = 0;
		return;
	}
	f->start += n;
	f->len -= n;
}

uint64_t vpwr_framer_examined(const struct vpwr_framer *f)
{
	return f ? f->scan.examined : 0;
}
