/* SPDX-License-Identifier: MIT */
/*
 * The codec registry and the public entry points.  The wrappers here own
 * argument checking and the zeroing of caller-owned outputs, so that every
 * codec's ops can assume sane arguments and a clean message.
 */
#include <limits.h>
#include <stdio.h>

#include "codec_internal.h"
#include "internal.h"

/*
 * Probe order matters (see struct vpwr_codec.probe): dpdk takes whatever
 * the others refuse, so it comes last.  Codecs without a probe (the DPDK
 * guest role) are found by name only.
 */
static const struct vpwr_codec *const registry[] = {
	&vpwr_native_codec,
	&vpwr_json_codec,
	&vpwr_dpdk_codec,
	&vpwr_dpdk_guest_codec,
};

int vpwr_decode_fail(struct vpwr_decode_error *err, int rc, size_t offset,
		     const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return rc;
	err->offset = offset;
	va_start(ap, fmt);
	vsnprintf(err->text, sizeof(err->text), fmt, ap);
	va_end(ap);
	return rc;
}

VPWR_API const struct vpwr_codec *vpwr_codec_native(void)
{
	return &vpwr_native_codec;
}

VPWR_API const struct vpwr_codec *vpwr_codec_dpdk(void)
{
	return &vpwr_dpdk_codec;
}

VPWR_API const struct vpwr_codec *vpwr_codec_dpdk_guest(void)
{
	return &vpwr_dpdk_guest_codec;
}

VPWR_API const struct vpwr_codec *vpwr_codec_json(void)
{
	return &vpwr_json_codec;
}

VPWR_API const struct vpwr_codec *vpwr_codec_by_name(const char *name)
{
	if (!name)
		return NULL;
	for (size_t i = 0; i < VPWR_ARRAY_SIZE(registry); i++)
		if (!strcmp(registry[i]->name, name))
			return registry[i];
	return NULL;
}

VPWR_API const char *vpwr_codec_name(const struct vpwr_codec *c)
{
	return c ? c->name : NULL;
}

const struct vpwr_codec *vpwr_codec_detect_scan(const uint8_t *buf,
						size_t len,
						struct vpwr_scan *scan,
						int *err)
{
	*err = 0;
	for (size_t i = 0; i < VPWR_ARRAY_SIZE(registry); i++) {
		if (!registry[i]->probe)
			continue;
		switch (registry[i]->probe(buf, len, scan)) {
		case VPWR_PROBE_YES:
			return registry[i];
		case VPWR_PROBE_MAYBE:
			return NULL; /* an earlier codec may still match */
		default:
			break;
		}
	}
	*err = -VPWR_E_PROTO;
	return NULL;
}

VPWR_API const struct vpwr_codec *vpwr_codec_detect(const void *buf,
						    size_t len, int *err)
{
	struct vpwr_scan scan = { 0 };
	int dummy;

	if (!err)
		err = &dummy;
	*err = 0;
	if (!buf && len) {
		*err = -EINVAL;
		return NULL;
	}
	return vpwr_codec_detect_scan(buf, len, &scan, err);
}

VPWR_API int vpwr_codec_frame_len(const struct vpwr_codec *c, const void *buf,
				  size_t len, struct vpwr_decode_error *err)
{
	struct vpwr_decode_error dummy;
	struct vpwr_scan scan = { 0 };

	if (!err)
		err = &dummy;
	memset(err, 0, sizeof(*err));
	if (!c || (!buf && len))
		return vpwr_decode_fail(err, -EINVAL, 0, "invalid argument");
	return c->frame_len(buf, len, &scan, err);
}

VPWR_API int vpwr_codec_decode(const struct vpwr_codec *c, const void *buf,
			       size_t len, struct vpwr_msg *m,
			       struct vpwr_decode_error *err)
{
	struct vpwr_decode_error dummy;

	if (!err)
		err = &dummy;
	memset(err, 0, sizeof(*err));
	if (m)
		memset(m, 0, sizeof(*m));
	if (!c || !m || (!buf && len))
		return vpwr_decode_fail(err, -EINVAL, 0, "invalid argument");
	return c->decode(buf, len, m, err);
}

VPWR_API int vpwr_codec_encode(const struct vpwr_codec *c,
			       const struct vpwr_msg *m, void *buf,
			       size_t cap)
{
	if (!c || !m || (!buf && cap))
		return -EINVAL;
	/* The return value is the frame length: keep it representable. */
	if (cap > INT_MAX)
		cap = INT_MAX;
	return c->encode(m, buf, cap);
}
