/* SPDX-License-Identifier: MIT */
/*
 * libFuzzer target: the "dpdk-guest" decoder (the guest's side of DPDK's
 * channel: host replies) on arbitrary bytes (frame_len, then decode; on
 * success validate, re-encode, decode again: fuzz_common.c).
 */
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	return fuzz_one_input("dpdk-guest", data, size);
}
