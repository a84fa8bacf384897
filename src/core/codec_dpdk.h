/* SPDX-License-Identifier: MIT */
/*
 * DPDK's guest channel inside the library: where every field of DPDK's
 * three packets sits (x86-64 layout, native byte order, which is what
 * DPDK's VM power management runs on), the numbers DPDK gives its commands,
 * units and enums, and what the host role (codec_dpdk.c), the guest role
 * (codec_dpdk_guest.c) and the policy translation (codec_dpdk_policy.c)
 * share.  The library never includes DPDK's header: these facts are checked
 * against it by tests/check_codec_dpdk_layout.c.  docs/PROTOCOL.md, "DPDK
 * compatibility", is the contract.
 */
#ifndef VPWR_CODEC_DPDK_H
#define VPWR_CODEC_DPDK_H

#include <errno.h>
#include <stdint.h>

#include "codec_internal.h"

#define VPWR_DPDK_NAME_LEN 32  /* vm_name, NUL included */
#define VPWR_DPDK_MAX_VFS 10   /* vfid[] */
#define VPWR_DPDK_MAX_VCPUS 8  /* vcpu_to_control[], the reply lists */
#define VPWR_DPDK_HOURS 24     /* each timer_policy array */

/* struct rte_power_channel_packet: requests, ACK and NACK (464 bytes). */
enum vpwr_dpdk_pkt_off {
	VPWR_DPDK_OFF_RESOURCE_ID = 0,   /* u64: the vCPU (or pCPU) */
	VPWR_DPDK_OFF_UNIT = 8,          /* u32: CPU_POWER's operation */
	VPWR_DPDK_OFF_COMMAND = 12,      /* u32 */
	VPWR_DPDK_OFF_VM_NAME = 16,      /* char[32] */
	VPWR_DPDK_OFF_VFID = 48,         /* u64[10]: MACs in the low 6 bytes */
	VPWR_DPDK_OFF_NB_MAC = 128,      /* int: vfid[] entries in use */
	VPWR_DPDK_OFF_MIN_PKT = 132,     /* u32 traffic_policy.min_packet_thresh */
	VPWR_DPDK_OFF_AVG_PKT = 136,     /* u32 ...avg_max_packet_thresh */
	VPWR_DPDK_OFF_MAX_PKT = 140,     /* u32 ...max_max_packet_thresh */
	VPWR_DPDK_OFF_VCPU_TO_CONTROL = 144, /* u8[8] */
	VPWR_DPDK_OFF_NUM_VCPU = 152,    /* u8 */
	VPWR_DPDK_OFF_BUSY_HOURS = 156,  /* int[24] timer_policy.busy_hours */
	VPWR_DPDK_OFF_QUIET_HOURS = 252, /* int[24] ...quiet_hours */
	VPWR_DPDK_OFF_TRAFFIC_HOURS = 348, /* int[24] ...hours_to_use_traffic_profile */
	VPWR_DPDK_OFF_CORE_TYPE = 444,   /* bool */
	VPWR_DPDK_OFF_WORKLOAD = 448,    /* enum rte_power_workload_level */
	VPWR_DPDK_OFF_POLICY = 452,      /* enum rte_power_policy */
	VPWR_DPDK_OFF_TURBO_STATUS = 456, /* bool t_boost_status.tbEnabled */
};

/* struct rte_power_channel_packet_freq_list (88 bytes); the first 48
 * bytes are those of the packet above. */
enum vpwr_dpdk_freq_list_off {
	VPWR_DPDK_FL_OFF_FREQ = 48,      /* u32[8] freq_list */
	VPWR_DPDK_FL_OFF_NUM_VCPU = 80,  /* u8 */
};

/* struct rte_power_channel_packet_caps_list (184 bytes). */
enum vpwr_dpdk_caps_list_off {
	VPWR_DPDK_CL_OFF_TURBO = 48,     /* u64[8] */
	VPWR_DPDK_CL_OFF_PRIORITY = 112, /* u64[8] */
	VPWR_DPDK_CL_OFF_NUM_VCPU = 176, /* u8 */
};

/* command, guest -> host */
enum vpwr_dpdk_command {
	VPWR_DPDK_CPU_POWER = 1,
	VPWR_DPDK_CONNECT = 2,
	VPWR_DPDK_PKT_POLICY = 3,
	VPWR_DPDK_PKT_POLICY_REMOVE = 4,
	VPWR_DPDK_QUERY_FREQ_LIST = 7,
	VPWR_DPDK_QUERY_FREQ = 8,
	VPWR_DPDK_QUERY_CAPS_LIST = 9,
	VPWR_DPDK_QUERY_CAPS = 10,
};

/* command, host -> guest: the same field, other meanings */
enum vpwr_dpdk_reply {
	VPWR_DPDK_ACK = 1,
	VPWR_DPDK_NACK = 2,
	VPWR_DPDK_FREQ_LIST = 3,
	VPWR_DPDK_CAPS_LIST = 4,
};

/* unit of CPU_POWER */
enum vpwr_dpdk_unit {
	VPWR_DPDK_SCALE_UP = 1,
	VPWR_DPDK_SCALE_DOWN = 2,
	VPWR_DPDK_SCALE_MAX = 3,
	VPWR_DPDK_SCALE_MIN = 4,
	VPWR_DPDK_ENABLE_TURBO = 5,
	VPWR_DPDK_DISABLE_TURBO = 6,
};

#define VPWR_DPDK_CORE_VIRTUAL 0
#define VPWR_DPDK_CORE_PHYSICAL 1

/* enum rte_power_workload_level */
#define VPWR_DPDK_WL_HIGH 0
#define VPWR_DPDK_WL_MEDIUM 1
#define VPWR_DPDK_WL_LOW 2

/* enum rte_power_policy */
#define VPWR_DPDK_POLICY_TRAFFIC 0
#define VPWR_DPDK_POLICY_TIME 1
#define VPWR_DPDK_POLICY_WORKLOAD 2
#define VPWR_DPDK_POLICY_BRANCH_RATIO 3

/*
 * A timer_policy slot that names no hour.  DPDK compares every slot with
 * the current hour, so a value that is never an hour is ignored, while the
 * zero padding DPDK's own guests leave means midnight.  libvpwr writes -1
 * and accepts -1; any other value outside 0..23 is refused.
 */
#define VPWR_DPDK_HOUR_UNUSED (-1)

/* What a guest sees for a NACK: DPDK's replies carry no error code. */
#define VPWR_DPDK_REFUSED (-EPERM)
#define VPWR_DPDK_REFUSED_TEXT "refused by the host"

static inline uint64_t vpwr_dpdk_get64(const uint8_t *p)
{
	return (uint64_t)vpwr_get_le32(p) | (uint64_t)vpwr_get_le32(p + 4) << 32;
}

static inline void vpwr_dpdk_put64(uint8_t *p, uint64_t v)
{
	vpwr_put_le32(p, (uint32_t)v);
	vpwr_put_le32(p + 4, (uint32_t)(v >> 32));
}

/* A C int on the wire (two's complement). */
static inline int32_t vpwr_dpdk_get_s32(const uint8_t *p)
{
	uint32_t v = vpwr_get_le32(p);

	return v > INT32_MAX ? (int32_t)(v - 0x80000000u) + INT32_MIN
			     : (int32_t)v;
}

/* codec_dpdk_policy.c */

/*
 * core_type of a request that names CPUs: only VIRTUAL is accepted; a
 * guest naming physical CPUs gets -EPERM, any other byte -VPWR_E_PROTO.
 */
int vpwr_dpdk_check_core_type(const uint8_t *pkt,
			      struct vpwr_decode_error *err);

/* PKT_POLICY (464 bytes at pkt) into m: POLICY_SET, as DPDK's host reads
 * it.  m->type is set first, so a failure can be answered. */
int vpwr_dpdk_decode_policy(const uint8_t *pkt, struct vpwr_msg *m,
			    struct vpwr_decode_error *err);

/* The policy fields of a zeroed 464-byte packet; -EINVAL when DPDK cannot
 * carry the policy (more than 8 vCPUs, a vCPU above 255, a branch-ratio
 * threshold). */
int vpwr_dpdk_encode_policy(const struct vpwr_policy *pol, uint8_t *pkt);

/* codec_dpdk_guest.c: the guest role's ops */
int vpwr_dpdk_guest_frame_len(const uint8_t *buf, size_t len,
			      struct vpwr_scan *scan,
			      struct vpwr_decode_error *err);
int vpwr_dpdk_guest_decode(const uint8_t *buf, size_t len, struct vpwr_msg *m,
			   struct vpwr_decode_error *err);
int vpwr_dpdk_guest_encode(const struct vpwr_msg *m, uint8_t *buf, size_t cap);

/*
 * As vpwr_dpdk_guest_encode(), with vm_name filled in.  DPDK's own host
 * finds the VM of a query, a policy or a policy removal by this name (its
 * libvirt domain name), not by the channel; libvpwr's host ignores it.
 * vm_name NULL or "" leaves the field zero; a name of 32 bytes or more is
 * -EINVAL.
 */
int vpwr_dpdk_guest_encode_named(const struct vpwr_msg *m, const char *vm_name,
				 uint8_t *buf, size_t cap);

#endif
