/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the "json" decoder on arbitrary bytes (frame_len, then
 * decode; on success validate, re-encode, decode again: fuzz_common.c).
 * First, the parse under the decoder (codec_json_doc.c: yajl and its
 * checks) against jansson, which the codec used before, on the first
 * VPWR_JSON_MAX_LINE bytes: the same lines accepted, to the same values
 * (../json_doc_diff.h).
 */
#include "fuzz_common.h"
#include "../json_doc_diff.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *why;

	if (json_doc_diff(data, VPWR_MIN(size, (size_t)VPWR_JSON_MAX_LINE),
			  &why) == JDD_DIFFERENT)
		fuzz_fail(fuzz_codec_get("json"), NULL,
			  "the parse differs from jansson's: %s", why);
	return fuzz_one_input("json", data, size);
}
