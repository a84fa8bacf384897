/* SPDX-License-Identifier: MIT */
/*
 * DPDK's PKT_POLICY packet <-> struct vpwr_policy.  A policy is read the
 * way DPDK's own host (vm_power_manager's channel_monitor.c) reads it, so
 * a guest moved from DPDK's host to libvpwr's gets the same behaviour, with
 * what DPDK reads unchecked refused instead: physical CPU numbers, counts
 * beyond the arrays, hours that are not hours, values outside the enums.
 *
 * Only the fields DPDK's host consults for the policy's kind are read:
 * vcpu_to_control for every kind, the workload for WORKLOAD, the traffic
 * thresholds and MACs for TRAFFIC and TIME (whose traffic hours run the
 * traffic profile), the hours for TIME.  The others are ignored like the
 * rest of the 464 bytes DPDK never looks at.
 */
#include <stdio.h>

#include "codec_dpdk.h"
#include "internal.h"

#define MAC_LEN 6
#define VFID_LEN 8

int vpwr_dpdk_check_core_type(const uint8_t *pkt,
			      struct vpwr_decode_error *err)
{
	uint8_t t = pkt[VPWR_DPDK_OFF_CORE_TYPE];

	if (t == VPWR_DPDK_CORE_PHYSICAL)
		return vpwr_decode_fail(err, -EPERM, VPWR_DPDK_OFF_CORE_TYPE,
					"core_type PHYSICAL: a guest may only name its own virtual CPUs");
	if (t != VPWR_DPDK_CORE_VIRTUAL)
		return vpwr_decode_fail(err, -VPWR_E_PROTO, VPWR_DPDK_OFF_CORE_TYPE,
					"core_type %u is neither VIRTUAL (0) nor PHYSICAL (1)",
					t);
	return 0;
}

static int decode_vcpus(const uint8_t *pkt, struct vpwr_policy *pol,
			struct vpwr_decode_error *err)
{
	unsigned n = pkt[VPWR_DPDK_OFF_NUM_VCPU];

	if (n > VPWR_DPDK_MAX_VCPUS)
		return vpwr_decode_fail(err, -VPWR_E_PROTO, VPWR_DPDK_OFF_NUM_VCPU,
					"num_vcpu %u exceeds the %d entries of vcpu_to_control",
					n, VPWR_DPDK_MAX_VCPUS);
	for (unsigned i = 0; i < n; i++)
		vpwr_cpuset_set(&pol->vcpus,
				pkt[VPWR_DPDK_OFF_VCPU_TO_CONTROL + i]);
	return 0;
}

static int decode_workload(const uint8_t *pkt, struct vpwr_policy *pol,
			   struct vpwr_decode_error *err)
{
	uint32_t wl = vpwr_get_le32(pkt + VPWR_DPDK_OFF_WORKLOAD);

	switch (wl) {
	case VPWR_DPDK_WL_HIGH:
		pol->workload = VPWR_WORKLOAD_HIGH;
		return 0;
	case VPWR_DPDK_WL_MEDIUM:
		pol->workload = VPWR_WORKLOAD_MEDIUM;
		return 0;
	case VPWR_DPDK_WL_LOW:
		pol->workload = VPWR_WORKLOAD_LOW;
		return 0;
	default:
		return vpwr_decode_fail(err, -VPWR_E_PROTO, VPWR_DPDK_OFF_WORKLOAD,
					"workload %u is not HIGH (0), MEDIUM (1) or LOW (2)",
					wl);
	}
}

/* The traffic profile: thresholds and the MACs whose packets count. */
static int decode_traffic(const uint8_t *pkt, struct vpwr_policy *pol,
			  struct vpwr_decode_error *err)
{
	int32_t nb = vpwr_dpdk_get_s32(pkt + VPWR_DPDK_OFF_NB_MAC);

	pol->min_pps = vpwr_get_le32(pkt + VPWR_DPDK_OFF_MIN_PKT);
	pol->avg_pps = vpwr_get_le32(pkt + VPWR_DPDK_OFF_AVG_PKT);
	pol->max_pps = vpwr_get_le32(pkt + VPWR_DPDK_OFF_MAX_PKT);
	if (nb < 0 || nb > VPWR_DPDK_MAX_VFS)
		return vpwr_decode_fail(err, -VPWR_E_PROTO, VPWR_DPDK_OFF_NB_MAC,
					"nb_mac_to_monitor %d is outside 0..%d",
					(int)nb, VPWR_DPDK_MAX_VFS);
	/* DPDK stores a MAC in the first 6 bytes of a u64 whose last two it
	 * never initialises: those are not read. */
	for (int i = 0; i < nb; i++)
		memcpy(pol->macs[i], pkt + VPWR_DPDK_OFF_VFID + VFID_LEN * i,
		       MAC_LEN);
	pol->nr_macs = (uint32_t)nb;
	return 0;
}

static int read_hours(const uint8_t *pkt, size_t off, const char *name,
		      int32_t *hours, struct vpwr_decode_error *err)
{
	for (int x = 0; x < VPWR_DPDK_HOURS; x++) {
		hours[x] = vpwr_dpdk_get_s32(pkt + off + 4 * (size_t)x);
		if (hours[x] != VPWR_DPDK_HOUR_UNUSED &&
		    (hours[x] < 0 || hours[x] >= VPWR_DPDK_HOURS))
			return vpwr_decode_fail(err, -VPWR_E_PROTO,
						off + 4 * (size_t)x,
						"%s[%d] is %d: hours are 0..23, -1 for none",
						name, x, (int)hours[x]);
	}
	return 0;
}

/*
 * DPDK walks the three arrays side by side, slot by slot, and the first
 * slot that names the current hour decides: busy before quiet before
 * traffic within a slot.  Doing the same for every hour gives three
 * disjoint masks that behave exactly as DPDK's host would, zero padding
 * included (it names midnight there too).
 */
static int decode_hours(const uint8_t *pkt, struct vpwr_policy *pol,
			struct vpwr_decode_error *err)
{
	int32_t busy[VPWR_DPDK_HOURS], quiet[VPWR_DPDK_HOURS],
		traffic[VPWR_DPDK_HOURS];
	int rc;

	rc = read_hours(pkt, VPWR_DPDK_OFF_BUSY_HOURS, "busy_hours", busy, err);
	if (!rc)
		rc = read_hours(pkt, VPWR_DPDK_OFF_QUIET_HOURS, "quiet_hours",
				quiet, err);
	if (!rc)
		rc = read_hours(pkt, VPWR_DPDK_OFF_TRAFFIC_HOURS,
				"hours_to_use_traffic_profile", traffic, err);
	if (rc)
		return rc;
	for (int h = 0; h < VPWR_DPDK_HOURS; h++) {
		uint32_t bit = 1u << h;

		for (int x = 0; x < VPWR_DPDK_HOURS; x++) {
			if (busy[x] == h) {
				pol->busy_hours |= bit;
				break;
			}
			if (quiet[x] == h) {
				pol->quiet_hours |= bit;
				break;
			}
			if (traffic[x] == h) {
				pol->traffic_hours |= bit;
				break;
			}
		}
	}
	return 0;
}

int vpwr_dpdk_decode_policy(const uint8_t *pkt, struct vpwr_msg *m,
			    struct vpwr_decode_error *err)
{
	struct vpwr_policy *pol = &m->u.policy;
	uint32_t kind = vpwr_get_le32(pkt + VPWR_DPDK_OFF_POLICY);
	int rc;

	m->type = VPWR_MSG_POLICY_SET;
	rc = vpwr_dpdk_check_core_type(pkt, err);
	if (rc)
		return rc;
	switch (kind) {
	case VPWR_DPDK_POLICY_TRAFFIC:
		pol->kind = VPWR_POLICY_TRAFFIC;
		break;
	case VPWR_DPDK_POLICY_TIME:
		pol->kind = VPWR_POLICY_TIME;
		break;
	case VPWR_DPDK_POLICY_WORKLOAD:
		pol->kind = VPWR_POLICY_WORKLOAD;
		break;
	case VPWR_DPDK_POLICY_BRANCH_RATIO:
		pol->kind = VPWR_POLICY_BRANCH_RATIO;
		break;
	default:
		return vpwr_decode_fail(err, -VPWR_E_PROTO, VPWR_DPDK_OFF_POLICY,
					"policy_to_use %u is not TRAFFIC (0), TIME (1), WORKLOAD (2) or BRANCH_RATIO (3)",
					kind);
	}
	rc = decode_vcpus(pkt, pol, err);
	if (!rc && kind == VPWR_DPDK_POLICY_WORKLOAD)
		rc = decode_workload(pkt, pol, err);
	if (!rc && (kind == VPWR_DPDK_POLICY_TRAFFIC ||
		    kind == VPWR_DPDK_POLICY_TIME))
		rc = decode_traffic(pkt, pol, err);
	if (!rc && kind == VPWR_DPDK_POLICY_TIME)
		rc = decode_hours(pkt, pol, err);
	return rc;
}

/* ------------------------------------------------------------- encode */

/* The hours of `mask`, ascending, then -1 so DPDK never reads midnight. */
static void put_hours(uint8_t *pkt, size_t off, uint32_t mask)
{
	int x = 0;

	for (int h = 0; h < VPWR_DPDK_HOURS; h++)
		if (mask & (1u << h))
			vpwr_put_le32(pkt + off + 4 * (size_t)x++, (uint32_t)h);
	for (; x < VPWR_DPDK_HOURS; x++)
		vpwr_put_le32(pkt + off + 4 * (size_t)x,
			      (uint32_t)VPWR_DPDK_HOUR_UNUSED);
}

static uint32_t dpdk_kind(uint32_t kind)
{
	switch (kind) {
	case VPWR_POLICY_TRAFFIC:
		return VPWR_DPDK_POLICY_TRAFFIC;
	case VPWR_POLICY_WORKLOAD:
		return VPWR_DPDK_POLICY_WORKLOAD;
	case VPWR_POLICY_BRANCH_RATIO:
		return VPWR_DPDK_POLICY_BRANCH_RATIO;
	default:
		return VPWR_DPDK_POLICY_TIME;
	}
}

static uint32_t dpdk_workload(uint32_t wl)
{
	switch (wl) {
	case VPWR_WORKLOAD_HIGH:
		return VPWR_DPDK_WL_HIGH;
	case VPWR_WORKLOAD_MEDIUM:
		return VPWR_DPDK_WL_MEDIUM;
	default: /* LOW, and DPDK's own default when none is given */
		return VPWR_DPDK_WL_LOW;
	}
}

int vpwr_dpdk_encode_policy(const struct vpwr_policy *pol, uint8_t *pkt)
{
	unsigned n = 0;

	/* DPDK's host takes the branch-miss threshold from its own command
	 * line: a guest's would be lost without a word. */
	if (pol->branch_ratio_ppm)
		return -EINVAL;
	vpwr_cpuset_foreach(v, &pol->vcpus) {
		if (n == VPWR_DPDK_MAX_VCPUS || v > UINT8_MAX)
			return -EINVAL;
		pkt[VPWR_DPDK_OFF_VCPU_TO_CONTROL + n++] = (uint8_t)v;
	}
	pkt[VPWR_DPDK_OFF_NUM_VCPU] = (uint8_t)n;
	if (pol->nr_macs > VPWR_DPDK_MAX_VFS)
		return -EINVAL;
	for (uint32_t i = 0; i < pol->nr_macs; i++)
		memcpy(pkt + VPWR_DPDK_OFF_VFID + VFID_LEN * i, pol->macs[i],
		       MAC_LEN);
	vpwr_put_le32(pkt + VPWR_DPDK_OFF_NB_MAC, pol->nr_macs);
	vpwr_put_le32(pkt + VPWR_DPDK_OFF_MIN_PKT, pol->min_pps);
	vpwr_put_le32(pkt + VPWR_DPDK_OFF_AVG_PKT, pol->avg_pps);
	vpwr_put_le32(pkt + VPWR_DPDK_OFF_MAX_PKT, pol->max_pps);
	/* Busy and quiet hours never overlap (vpwr_msg_validate); traffic
	 * hours under them are dominated, and leaving them out keeps DPDK's
	 * slot order from mattering. */
	put_hours(pkt, VPWR_DPDK_OFF_BUSY_HOURS, pol->busy_hours);
	put_hours(pkt, VPWR_DPDK_OFF_QUIET_HOURS, pol->quiet_hours);
	put_hours(pkt, VPWR_DPDK_OFF_TRAFFIC_HOURS,
		  pol->traffic_hours & ~(pol->busy_hours | pol->quiet_hours));
	pkt[VPWR_DPDK_OFF_CORE_TYPE] = VPWR_DPDK_CORE_VIRTUAL;
	vpwr_put_le32(pkt + VPWR_DPDK_OFF_WORKLOAD, dpdk_workload(pol->workload));
	vpwr_put_le32(pkt + VPWR_DPDK_OFF_POLICY, dpdk_kind(pol->kind));
	return 0;
}
