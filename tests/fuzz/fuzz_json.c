/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the "json" decoder on arbitrary bytes (frame_len, then
 * decode; on success validate, re-encode, decode again: fuzz_common.c).
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_one_input("json", data, size);
}
