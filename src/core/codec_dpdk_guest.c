/* SPDX-License-Identifier: MIT */
/*
 * DPDK's guest channel, guest role ("dpdk-guest"): requests encoded the
 * way DPDK's own guest library and guest_cli build them, so a libvpwr guest
 * can talk to DPDK's vm_power_manager, and the host's replies decoded:
 * ACK/NACK (464 bytes), FREQ_LIST (88) and CAPS_LIST (184), told apart by
 * their command alone.
 *
 * DPDK's replies carry no sequence number, and an ACK or NACK does not say
 * what it answers (DPDK's host overwrites the command it echoes): a
 * decoded reply has seq 0 and, for ACK/NACK, type 0.  The guest client
 * matches replies to its one outstanding request in order
 * (VPWR_CODEC_F_NO_SEQ).  Only the command and the list fields are read:
 * DPDK's host leaves the rest of a list uninitialised.
 */
#include <stdio.h>

#include "codec_dpdk.h"
#include "internal.h"

#define PKT_LEN VPWR_DPDK_PKT_LEN
#define FREQ_LIST_LEN VPWR_DPDK_FREQ_LIST_LEN
#define CAPS_LIST_LEN VPWR_DPDK_CAPS_LIST_LEN
#define HDR_LEN (VPWR_DPDK_OFF_COMMAND + 4) /* enough to read the command */

/* The length of a reply with this command; 0 if it is none. */
static size_t reply_len(uint32_t cmd)
{
	switch (cmd) {
	case VPWR_DPDK_ACK:
	case VPWR_DPDK_NACK:
		return PKT_LEN;
	case VPWR_DPDK_FREQ_LIST:
		return FREQ_LIST_LEN;
	case VPWR_DPDK_CAPS_LIST:
		return CAPS_LIST_LEN;
	default:
		return 0;
	}
}

int vpwr_dpdk_guest_frame_len(const uint8_t *buf, size_t len,
			      struct vpwr_scan *scan,
			      struct vpwr_decode_error *err)
{
	uint32_t cmd;
	size_t need;

	(void)scan;
	if (len < HDR_LEN)
		return 0;
	cmd = vpwr_get_le32(buf + VPWR_DPDK_OFF_COMMAND);
	need = reply_len(cmd);
	if (!need)
		return vpwr_decode_fail(err, -VPWR_E_PROTO, VPWR_DPDK_OFF_COMMAND,
					"command %u is not a DPDK reply (ACK 1, NACK 2, FREQ_LIST 3, CAPS_LIST 4)",
					cmd);
	return len >= need ? (int)need : 0;
}

static void refused(struct vpwr_msg *m)
{
	m->status = VPWR_DPDK_REFUSED;
	snprintf(m->reason, sizeof(m->reason), "%s", VPWR_DPDK_REFUSED_TEXT);
}

/*
 * A list of up to 8 vCPUs from vCPU 0.  num_vcpu is the domain's vCPU
 * count as DPDK's host sends it, possibly above 8 (DPDK then writes past
 * its own array): entries stop at 8, nr_vcpus keeps the count.  num_vcpu 0
 * is how libvpwr's host refuses a query without breaking the stream, and
 * a domain always has a vCPU.
 */
static void decode_list(const uint8_t *buf, bool caps, struct vpwr_msg *m)
{
	struct vpwr_vcpu_list *l = &m->u.vcpus;
	unsigned num = buf[caps ? VPWR_DPDK_CL_OFF_NUM_VCPU
				: VPWR_DPDK_FL_OFF_NUM_VCPU];

	m->type = VPWR_MSG_QUERY_VCPUS;
	if (!num) {
		refused(m);
		return;
	}
	l->want = caps ? VPWR_VCPUS_CAPS : VPWR_VCPUS_FREQS;
	l->nr = VPWR_MIN(num, (unsigned)VPWR_DPDK_MAX_VCPUS);
	l->nr_vcpus = num;
	for (uint32_t i = 0; i < l->nr; i++) {
		if (!caps) {
			l->cur_khz[i] = vpwr_get_le32(buf + VPWR_DPDK_FL_OFF_FREQ +
						      4 * i);
			continue;
		}
		if (vpwr_dpdk_get64(buf + VPWR_DPDK_CL_OFF_TURBO + 8 * i))
			l->turbo_mask |= (uint64_t)1 << i;
		if (vpwr_dpdk_get64(buf + VPWR_DPDK_CL_OFF_PRIORITY + 8 * i))
			l->priority_mask |= (uint64_t)1 << i;
	}
}

int vpwr_dpdk_guest_decode(const uint8_t *buf, size_t len, struct vpwr_msg *m,
			   struct vpwr_decode_error *err)
{
	uint32_t cmd;
	size_t need;

	m->vcpu = VPWR_VCPU_NONE;
	m->flags = VPWR_MSG_F_REPLY;
	if (len < HDR_LEN)
		return vpwr_decode_fail(err, -VPWR_E_PROTO, len,
					"%zu bytes do not reach the command", len);
	cmd = vpwr_get_le32(buf + VPWR_DPDK_OFF_COMMAND);
	need = reply_len(cmd);
	if (!need)
		return vpwr_decode_fail(err, -VPWR_E_PROTO, VPWR_DPDK_OFF_COMMAND,
					"command %u is not a DPDK reply", cmd);
	if (len != need)
		return vpwr_decode_fail(err, -VPWR_E_PROTO, 0,
					"reply command %u has %zu bytes, not %zu",
					cmd, need, len);
	switch (cmd) {
	case VPWR_DPDK_ACK:
		return 0;
	case VPWR_DPDK_NACK:
		refused(m);
		return 0;
	default:
		decode_list(buf, cmd == VPWR_DPDK_CAPS_LIST, m);
		return 0;
	}
}

/* ------------------------------------------------------------- encode */

static int encode_cpu_power(const struct vpwr_msg *m, uint8_t *pkt)
{
	static const uint32_t units[] = {
		[VPWR_SCALE_UP] = VPWR_DPDK_SCALE_UP,
		[VPWR_SCALE_DOWN] = VPWR_DPDK_SCALE_DOWN,
		[VPWR_SCALE_MIN] = VPWR_DPDK_SCALE_MIN,
		[VPWR_SCALE_MAX] = VPWR_DPDK_SCALE_MAX,
		[VPWR_SCALE_MEDIUM] = 0, /* DPDK has no medium */
	};
	uint32_t unit;

	if (m->type == VPWR_MSG_TURBO)
		unit = m->u.turbo.enable ? VPWR_DPDK_ENABLE_TURBO
					 : VPWR_DPDK_DISABLE_TURBO;
	else
		unit = units[m->u.scale.op]; /* validated: 1..5 */
	if (!unit)
		return -EINVAL;
	vpwr_dpdk_put64(pkt + VPWR_DPDK_OFF_RESOURCE_ID, m->vcpu);
	vpwr_put_le32(pkt + VPWR_DPDK_OFF_UNIT, unit);
	vpwr_put_le32(pkt + VPWR_DPDK_OFF_COMMAND, VPWR_DPDK_CPU_POWER);
	return 0;
}

/* VCPU_NONE asks for the list of every vCPU, else one vCPU, which DPDK's
 * host (and its guest's reply) only knows below 8. */
static int encode_query(const struct vpwr_msg *m, uint8_t *pkt)
{
	uint32_t want = m->u.vcpus.want;
	bool all = m->vcpu == VPWR_VCPU_NONE;
	uint32_t cmd;

	if (want == VPWR_VCPUS_FREQS)
		cmd = all ? VPWR_DPDK_QUERY_FREQ_LIST : VPWR_DPDK_QUERY_FREQ;
	else if (want == VPWR_VCPUS_CAPS)
		cmd = all ? VPWR_DPDK_QUERY_CAPS_LIST : VPWR_DPDK_QUERY_CAPS;
	else
		return -EINVAL; /* one kind per DPDK query */
	if (!all && m->vcpu >= VPWR_DPDK_MAX_VCPUS)
		return -EINVAL;
	if (!all)
		vpwr_dpdk_put64(pkt + VPWR_DPDK_OFF_RESOURCE_ID, m->vcpu);
	vpwr_put_le32(pkt + VPWR_DPDK_OFF_COMMAND, cmd);
	return 0;
}

static int encode_request(const struct vpwr_msg *m, uint8_t *pkt)
{
	int rc;

	switch (m->type) {
	case VPWR_MSG_HELLO:
		vpwr_put_le32(pkt + VPWR_DPDK_OFF_COMMAND, VPWR_DPDK_CONNECT);
		return 0;
	case VPWR_MSG_SCALE:
	case VPWR_MSG_TURBO:
		return encode_cpu_power(m, pkt);
	case VPWR_MSG_POLICY_SET:
		rc = vpwr_dpdk_encode_policy(&m->u.policy, pkt);
		if (!rc)
			vpwr_put_le32(pkt + VPWR_DPDK_OFF_COMMAND,
				      VPWR_DPDK_PKT_POLICY);
		return rc;
	case VPWR_MSG_POLICY_REMOVE:
		/* DPDK removes the VM's one policy, whatever its kind. */
		if (m->u.policy.kind)
			return -EINVAL;
		vpwr_put_le32(pkt + VPWR_DPDK_OFF_COMMAND,
			      VPWR_DPDK_PKT_POLICY_REMOVE);
		return 0;
	case VPWR_MSG_QUERY_VCPUS:
		return encode_query(m, pkt);
	default:
		return -EINVAL; /* SET_FREQ, SET_RANGE, EPP, ...: not in DPDK */
	}
}

int vpwr_dpdk_guest_encode_named(const struct vpwr_msg *m, const char *vm_name,
				 uint8_t *buf, size_t cap)
{
	uint8_t pkt[PKT_LEN];
	size_t name_len = vm_name ? strlen(vm_name) : 0;
	int rc;

	if (!m || (!buf && cap))
		return -EINVAL;
	/* A guest sends requests only. */
	if (m->flags || vpwr_msg_validate(m, NULL))
		return -EINVAL;
	if (name_len >= VPWR_DPDK_NAME_LEN)
		return -EINVAL;
	/* Built aside: nothing is written to buf unless all of it is. */
	memset(pkt, 0, sizeof(pkt));
	rc = encode_request(m, pkt);
	if (rc)
		return rc;
	memcpy(pkt + VPWR_DPDK_OFF_VM_NAME, vm_name ? vm_name : "", name_len);
	if (cap < PKT_LEN)
		return -ENOBUFS;
	memcpy(buf, pkt, PKT_LEN);
	return PKT_LEN;
}

int vpwr_dpdk_guest_encode(const struct vpwr_msg *m, uint8_t *buf, size_t cap)
{
	return vpwr_dpdk_guest_encode_named(m, NULL, buf, cap);
}
