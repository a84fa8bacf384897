/* SPDX-License-Identifier: MIT */
/*
 * DPDK's guest channel, host role ("dpdk"): requests from guests written
 * against DPDK's rte_power guest API (struct rte_power_channel_packet, 464
 * bytes) are decoded into messages, and replies are encoded the way DPDK's
 * guests read them.  Both codec tables live here; the guest role's ops are
 * in codec_dpdk_guest.c, the policy fields in codec_dpdk_policy.c.
 *
 * Where DPDK's own host trusts the packet, this one does not: identity
 * comes from the channel (vm_name is never read), a guest cannot name
 * physical CPUs, every count is bounded by its array, and every reply is
 * built in a zeroed buffer so nothing of the host's memory reaches a guest.
 * Every field is read and written at its offset, byte by byte: the code
 * does not depend on the compiler laying out a struct like DPDK's.
 */
#include <stdio.h>

#include "codec_dpdk.h"
#include "internal.h"

#define PKT_LEN VPWR_DPDK_PKT_LEN
#define FREQ_LIST_LEN VPWR_DPDK_FREQ_LIST_LEN
#define CAPS_LIST_LEN VPWR_DPDK_CAPS_LIST_LEN

/* Detection: probed last, dpdk takes whatever native and JSON left. */
static int dpdk_probe(const uint8_t *buf, size_t len, struct vpwr_scan *scan)
{
	(void)buf;
	(void)scan;
	return len ? VPWR_PROBE_YES : VPWR_PROBE_MAYBE;
}

/* Every request has the same size: no byte can break the stream. */
static int dpdk_frame_len(const uint8_t *buf, size_t len,
			  struct vpwr_scan *scan, struct vpwr_decode_error *err)
{
	(void)buf;
	(void)scan;
	(void)err;
	return len >= PKT_LEN ? PKT_LEN : 0;
}

/* ------------------------------------------------------------- decode */

/* resource_id as a vCPU number; it is a u64 on the wire. */
static int read_vcpu(const uint8_t *pkt, struct vpwr_msg *m,
		     struct vpwr_decode_error *err)
{
	uint64_t id = vpwr_dpdk_get64(pkt + VPWR_DPDK_OFF_RESOURCE_ID);

	if (id >= VPWR_VCPU_NONE)
		return vpwr_decode_fail(err, -VPWR_E_PROTO,
					VPWR_DPDK_OFF_RESOURCE_ID,
					"resource_id %llu is not a vCPU number",
					(unsigned long long)id);
	m->vcpu = (uint32_t)id;
	return 0;
}

static int decode_cpu_power(const uint8_t *pkt, struct vpwr_msg *m,
			    struct vpwr_decode_error *err)
{
	uint32_t unit = vpwr_get_le32(pkt + VPWR_DPDK_OFF_UNIT);
	int rc;

	/* Type and vCPU first: a refusal is answered under them. */
	m->type = (unit == VPWR_DPDK_ENABLE_TURBO ||
		   unit == VPWR_DPDK_DISABLE_TURBO) ? VPWR_MSG_TURBO
						    : VPWR_MSG_SCALE;
	rc = read_vcpu(pkt, m, err);
	if (!rc)
		rc = vpwr_dpdk_check_core_type(pkt, err);
	if (rc)
		return rc;
	switch (unit) {
	case VPWR_DPDK_SCALE_UP:
		m->u.scale.op = VPWR_SCALE_UP;
		return 0;
	case VPWR_DPDK_SCALE_DOWN:
		m->u.scale.op = VPWR_SCALE_DOWN;
		return 0;
	case VPWR_DPDK_SCALE_MAX:
		m->u.scale.op = VPWR_SCALE_MAX;
		return 0;
	case VPWR_DPDK_SCALE_MIN:
		m->u.scale.op = VPWR_SCALE_MIN;
		return 0;
	case VPWR_DPDK_ENABLE_TURBO:
		m->u.turbo.enable = 1;
		return 0;
	case VPWR_DPDK_DISABLE_TURBO:
		m->u.turbo.enable = 0;
		return 0;
	default:
		return vpwr_decode_fail(err, -VPWR_E_PROTO, VPWR_DPDK_OFF_UNIT,
					"CPU_POWER unit %u is not one of 1..6", unit);
	}
}

/*
 * The four queries.  The answer lists hold vCPUs 0..7 at their own index,
 * so a single vCPU past 7 cannot be answered in DPDK's format at all.
 */
static int decode_query(const uint8_t *pkt, uint32_t cmd, struct vpwr_msg *m,
			struct vpwr_decode_error *err)
{
	int rc;

	m->type = VPWR_MSG_QUERY_VCPUS;
	m->u.vcpus.want = (cmd == VPWR_DPDK_QUERY_FREQ_LIST ||
			   cmd == VPWR_DPDK_QUERY_FREQ) ? VPWR_VCPUS_FREQS
							: VPWR_VCPUS_CAPS;
	if (cmd == VPWR_DPDK_QUERY_FREQ_LIST || cmd == VPWR_DPDK_QUERY_CAPS_LIST)
		return 0; /* every vCPU: DPDK reads no resource_id */
	rc = read_vcpu(pkt, m, err);
	if (rc)
		return rc;
	if (m->vcpu >= VPWR_DPDK_MAX_VCPUS)
		return vpwr_decode_fail(err, -VPWR_E_VCPU_RANGE,
					VPWR_DPDK_OFF_RESOURCE_ID,
					"vCPU %u: DPDK's reply lists hold vCPUs 0..%d only",
					m->vcpu, VPWR_DPDK_MAX_VCPUS - 1);
	return 0;
}

static int decode_command(const uint8_t *pkt, struct vpwr_msg *m,
			  struct vpwr_decode_error *err)
{
	uint32_t cmd = vpwr_get_le32(pkt + VPWR_DPDK_OFF_COMMAND);

	switch (cmd) {
	case VPWR_DPDK_CPU_POWER:
		return decode_cpu_power(pkt, m, err);
	case VPWR_DPDK_CONNECT:
		/* DPDK's guest library sends CONNECT from an uninitialised
		 * struct: nothing but the command may be read. */
		m->type = VPWR_MSG_HELLO;
		m->u.hello.version_min = 1;
		m->u.hello.version_max = 1;
		return 0;
	case VPWR_DPDK_PKT_POLICY:
		return vpwr_dpdk_decode_policy(pkt, m, err);
	case VPWR_DPDK_PKT_POLICY_REMOVE:
		/* DPDK keeps one policy per VM: removing it removes all. */
		m->type = VPWR_MSG_POLICY_REMOVE;
		m->u.policy.kind = 0;
		return 0;
	case VPWR_DPDK_QUERY_FREQ_LIST:
	case VPWR_DPDK_QUERY_FREQ:
	case VPWR_DPDK_QUERY_CAPS_LIST:
	case VPWR_DPDK_QUERY_CAPS:
		return decode_query(pkt, cmd, m, err);
	default:
		return vpwr_decode_fail(err, -EBADMSG, VPWR_DPDK_OFF_COMMAND,
					"unknown command %u", cmd);
	}
}

static int dpdk_decode(const uint8_t *pkt, size_t len, struct vpwr_msg *m,
		       struct vpwr_decode_error *err)
{
	const char *why;
	int rc;

	m->vcpu = VPWR_VCPU_NONE; /* seq stays 0: replies go out in order */
	if (len != PKT_LEN)
		return vpwr_decode_fail(err, -VPWR_E_PROTO, 0,
					"a DPDK request has %d bytes, not %zu",
					PKT_LEN, len);
	rc = decode_command(pkt, m, err);
	if (rc)
		return rc;
	rc = vpwr_msg_validate(m, &why);
	if (rc)
		return vpwr_decode_fail(err, rc, 0, "%s", why);
	return 0;
}

/* ------------------------------------------------------------- encode */

/*
 * FREQ_LIST or CAPS_LIST.  Slot i holds vCPU i (DPDK's guest reads the
 * answer to a one-vCPU query at the vCPU's own index); num_vcpu never
 * exceeds the 8 slots, whatever the domain's size.  A refused query gets
 * the list its guest waits for with num_vcpu 0: a NACK would be longer
 * than what a DPDK guest reads and leave the rest of it in the stream.
 */
static int encode_list(const struct vpwr_msg *m, uint8_t *buf, size_t cap)
{
	const struct vpwr_vcpu_list *l = &m->u.vcpus;
	bool caps = l->want == VPWR_VCPUS_CAPS;
	size_t len = caps ? CAPS_LIST_LEN : FREQ_LIST_LEN;
	uint32_t end;

	if (!m->status && l->want != VPWR_VCPUS_FREQS && !caps)
		return -EINVAL; /* one kind per DPDK reply */
	/* nr 0 would read as a refusal; slots end at vCPU 7 */
	if (!m->status && (!l->nr || l->first >= VPWR_DPDK_MAX_VCPUS))
		return -EINVAL;
	if (cap < len)
		return -ENOBUFS;
	memset(buf, 0, len);
	vpwr_put_le32(buf + VPWR_DPDK_OFF_COMMAND,
		      caps ? VPWR_DPDK_CAPS_LIST : VPWR_DPDK_FREQ_LIST);
	if (m->status)
		return (int)len;
	end = VPWR_MIN(l->first + l->nr, (uint32_t)VPWR_DPDK_MAX_VCPUS);
	for (uint32_t v = l->first; v < end; v++) {
		uint32_t i = v - l->first;

		if (!caps) {
			vpwr_put_le32(buf + VPWR_DPDK_FL_OFF_FREQ + 4 * v,
				      l->cur_khz[i]);
			continue;
		}
		vpwr_dpdk_put64(buf + VPWR_DPDK_CL_OFF_TURBO + 8 * v,
				(l->turbo_mask >> i) & 1);
		vpwr_dpdk_put64(buf + VPWR_DPDK_CL_OFF_PRIORITY + 8 * v,
				(l->priority_mask >> i) & 1);
	}
	buf[caps ? VPWR_DPDK_CL_OFF_NUM_VCPU : VPWR_DPDK_FL_OFF_NUM_VCPU] =
		(uint8_t)end;
	return (int)len;
}

/* ACK or NACK: the command and the vCPU, nothing else (DPDK's guests
 * read only the command; DPDK's host echoed the whole request). */
static int encode_ack(const struct vpwr_msg *m, uint8_t *buf, size_t cap)
{
	if (cap < PKT_LEN)
		return -ENOBUFS;
	memset(buf, 0, PKT_LEN);
	if (m->vcpu != VPWR_VCPU_NONE)
		vpwr_dpdk_put64(buf + VPWR_DPDK_OFF_RESOURCE_ID, m->vcpu);
	vpwr_put_le32(buf + VPWR_DPDK_OFF_COMMAND,
		      m->status ? VPWR_DPDK_NACK : VPWR_DPDK_ACK);
	return PKT_LEN;
}

static int dpdk_encode(const struct vpwr_msg *m, uint8_t *buf, size_t cap)
{
	/* The host role sends replies only: DPDK has no notifications. */
	if (m->flags != VPWR_MSG_F_REPLY || vpwr_msg_validate(m, NULL))
		return -EINVAL;
	if (m->type == VPWR_MSG_QUERY_VCPUS)
		return encode_list(m, buf, cap);
	return encode_ack(m, buf, cap);
}

const struct vpwr_codec vpwr_dpdk_codec = {
	.name = "dpdk",
	.max_frame = PKT_LEN,
	.probe = dpdk_probe,
	.frame_len = dpdk_frame_len,
	.decode = dpdk_decode,
	.encode = dpdk_encode,
};

/* Found by name only: its frames cannot be told from the host role's. */
const struct vpwr_codec vpwr_dpdk_guest_codec = {
	.name = "dpdk-guest",
	.max_frame = PKT_LEN,
	.frame_len = vpwr_dpdk_guest_frame_len,
	.decode = vpwr_dpdk_guest_decode,
	.encode = vpwr_dpdk_guest_encode,
	.flags = VPWR_CODEC_F_NO_SEQ,
};
