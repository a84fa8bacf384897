/* SPDX-License-Identifier: MIT */
/*
 * The DPDK codec against DPDK's own header (Debian's libdpdk-dev,
 * rte_power_guest_channel.h): the sizes and field offsets the codec uses
 * (src/core/codec_dpdk.h) are those the compiler gives DPDK's structs, the
 * numbers of commands, units and enums agree, and packets pass through
 * DPDK's structs both ways: filled as a DPDK guest or host fills them and
 * decoded by libvpwr, encoded by libvpwr and read as DPDK reads them.
 *
 * The header is found with the include path tests/CMakeLists.txt gives this
 * test (DPDK's include directory).  Without it the same checks run against
 * a copy of the layout written down from the header, which still catches a
 * wrong offset in codec_dpdk.h but not a change in DPDK: the test says so.
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "codec_dpdk.h"
#include "internal.h"
#include "libvpwr/codec.h"
#include "testutil.h"

#if defined(__has_include)
#if __has_include(<rte_power_guest_channel.h>)
#include <rte_power_guest_channel.h>
#define HAVE_DPDK_HEADER 1
#endif
#endif

#ifndef HAVE_DPDK_HEADER
/* DPDK >= 21.02's layout, from rte_power_guest_channel.h (x86-64). */
#define RTE_POWER_MAX_VFS 10
#define RTE_POWER_VM_MAX_NAME_SZ 32
#define RTE_POWER_MAX_VCPU_PER_VM 8
#define RTE_POWER_HOURS_PER_DAY 24
#define RTE_POWER_CPU_POWER 1
#define RTE_POWER_CPU_POWER_CONNECT 2
#define RTE_POWER_PKT_POLICY 3
#define RTE_POWER_PKT_POLICY_REMOVE 4
#define RTE_POWER_CORE_TYPE_VIRTUAL 0
#define RTE_POWER_CORE_TYPE_PHYSICAL 1
#define RTE_POWER_SCALE_UP 1
#define RTE_POWER_SCALE_DOWN 2
#define RTE_POWER_SCALE_MAX 3
#define RTE_POWER_SCALE_MIN 4
#define RTE_POWER_ENABLE_TURBO 5
#define RTE_POWER_DISABLE_TURBO 6
#define RTE_POWER_QUERY_FREQ_LIST 7
#define RTE_POWER_QUERY_FREQ 8
#define RTE_POWER_QUERY_CAPS_LIST 9
#define RTE_POWER_QUERY_CAPS 10
#define RTE_POWER_CMD_ACK 1
#define RTE_POWER_CMD_NACK 2
#define RTE_POWER_FREQ_LIST 3
#define RTE_POWER_CAPS_LIST 4

enum rte_power_workload_level { RTE_POWER_WL_HIGH, RTE_POWER_WL_MEDIUM,
				RTE_POWER_WL_LOW };
enum rte_power_policy { RTE_POWER_POLICY_TRAFFIC, RTE_POWER_POLICY_TIME,
			RTE_POWER_POLICY_WORKLOAD, RTE_POWER_POLICY_BRANCH_RATIO };

struct rte_power_channel_packet {
	uint64_t resource_id;
	uint32_t unit;
	uint32_t command;
	char vm_name[RTE_POWER_VM_MAX_NAME_SZ];
	uint64_t vfid[RTE_POWER_MAX_VFS];
	int nb_mac_to_monitor;
	struct {
		uint32_t min_packet_thresh;
		uint32_t avg_max_packet_thresh;
		uint32_t max_max_packet_thresh;
	} traffic_policy;
	uint8_t vcpu_to_control[RTE_POWER_MAX_VCPU_PER_VM];
	uint8_t num_vcpu;
	struct {
		int busy_hours[RTE_POWER_HOURS_PER_DAY];
		int quiet_hours[RTE_POWER_HOURS_PER_DAY];
		int hours_to_use_traffic_profile[RTE_POWER_HOURS_PER_DAY];
	} timer_policy;
	bool core_type;
	enum rte_power_workload_level workload;
	enum rte_power_policy policy_to_use;
	struct { bool tbEnabled; } t_boost_status;
};

struct rte_power_channel_packet_freq_list {
	uint64_t resource_id;
	uint32_t unit;
	uint32_t command;
	char vm_name[RTE_POWER_VM_MAX_NAME_SZ];
	uint32_t freq_list[RTE_POWER_MAX_VCPU_PER_VM];
	uint8_t num_vcpu;
};

struct rte_power_channel_packet_caps_list {
	uint64_t resource_id;
	uint32_t unit;
	uint32_t command;
	char vm_name[RTE_POWER_VM_MAX_NAME_SZ];
	uint64_t turbo[RTE_POWER_MAX_VCPU_PER_VM];
	uint64_t priority[RTE_POWER_MAX_VCPU_PER_VM];
	uint8_t num_vcpu;
};
#endif

typedef struct rte_power_channel_packet pkt_t;
typedef struct rte_power_channel_packet_freq_list freq_t;
typedef struct rte_power_channel_packet_caps_list caps_t;

#define OFF(type, field, want)                                                 \
	ck_assert_msg(offsetof(type, field) == (size_t)(want),                 \
		      #type "." #field " at %zu, codec uses %zu",              \
		      offsetof(type, field), (size_t)(want))
#define EQ(a, b) ck_assert_msg((long)(a) == (long)(b), #a " != " #b)

START_TEST(test_sizes)
{
	EQ(sizeof(pkt_t), VPWR_DPDK_PKT_LEN);
	EQ(sizeof(freq_t), VPWR_DPDK_FREQ_LIST_LEN);
	EQ(sizeof(caps_t), VPWR_DPDK_CAPS_LIST_LEN);
	EQ(sizeof(((pkt_t *)0)->vm_name), VPWR_DPDK_NAME_LEN);
	EQ(sizeof(((pkt_t *)0)->vfid), 8 * VPWR_DPDK_MAX_VFS);
	EQ(sizeof(((pkt_t *)0)->nb_mac_to_monitor), 4);
	EQ(sizeof(((pkt_t *)0)->vcpu_to_control), VPWR_DPDK_MAX_VCPUS);
	EQ(sizeof(((pkt_t *)0)->timer_policy.busy_hours), 4 * VPWR_DPDK_HOURS);
	EQ(sizeof(((pkt_t *)0)->core_type), 1);
	EQ(sizeof(((pkt_t *)0)->workload), 4);
	EQ(sizeof(((pkt_t *)0)->policy_to_use), 4);
	EQ(sizeof(((freq_t *)0)->freq_list), 4 * VPWR_DPDK_MAX_VCPUS);
	EQ(sizeof(((caps_t *)0)->turbo), 8 * VPWR_DPDK_MAX_VCPUS);
	EQ(sizeof(((caps_t *)0)->priority), 8 * VPWR_DPDK_MAX_VCPUS);
}
END_TEST

START_TEST(test_offsets)
{
	OFF(pkt_t, resource_id, VPWR_DPDK_OFF_RESOURCE_ID);
	OFF(pkt_t, unit, VPWR_DPDK_OFF_UNIT);
	OFF(pkt_t, command, VPWR_DPDK_OFF_COMMAND);
	OFF(pkt_t, vm_name, VPWR_DPDK_OFF_VM_NAME);
	OFF(pkt_t, vfid, VPWR_DPDK_OFF_VFID);
	OFF(pkt_t, nb_mac_to_monitor, VPWR_DPDK_OFF_NB_MAC);
	OFF(pkt_t, traffic_policy.min_packet_thresh, VPWR_DPDK_OFF_MIN_PKT);
	OFF(pkt_t, traffic_policy.avg_max_packet_thresh, VPWR_DPDK_OFF_AVG_PKT);
	OFF(pkt_t, traffic_policy.max_max_packet_thresh, VPWR_DPDK_OFF_MAX_PKT);
	OFF(pkt_t, vcpu_to_control, VPWR_DPDK_OFF_VCPU_TO_CONTROL);
	OFF(pkt_t, num_vcpu, VPWR_DPDK_OFF_NUM_VCPU);
	OFF(pkt_t, timer_policy.busy_hours, VPWR_DPDK_OFF_BUSY_HOURS);
	OFF(pkt_t, timer_policy.quiet_hours, VPWR_DPDK_OFF_QUIET_HOURS);
	OFF(pkt_t, timer_policy.hours_to_use_traffic_profile,
	    VPWR_DPDK_OFF_TRAFFIC_HOURS);
	OFF(pkt_t, core_type, VPWR_DPDK_OFF_CORE_TYPE);
	OFF(pkt_t, workload, VPWR_DPDK_OFF_WORKLOAD);
	OFF(pkt_t, policy_to_use, VPWR_DPDK_OFF_POLICY);
	OFF(pkt_t, t_boost_status.tbEnabled, VPWR_DPDK_OFF_TURBO_STATUS);
	OFF(freq_t, resource_id, VPWR_DPDK_OFF_RESOURCE_ID);
	OFF(freq_t, unit, VPWR_DPDK_OFF_UNIT);
	OFF(freq_t, command, VPWR_DPDK_OFF_COMMAND);
	OFF(freq_t, vm_name, VPWR_DPDK_OFF_VM_NAME);
	OFF(freq_t, freq_list, VPWR_DPDK_FL_OFF_FREQ);
	OFF(freq_t, num_vcpu, VPWR_DPDK_FL_OFF_NUM_VCPU);
	OFF(caps_t, resource_id, VPWR_DPDK_OFF_RESOURCE_ID);
	OFF(caps_t, unit, VPWR_DPDK_OFF_UNIT);
	OFF(caps_t, command, VPWR_DPDK_OFF_COMMAND);
	OFF(caps_t, vm_name, VPWR_DPDK_OFF_VM_NAME);
	OFF(caps_t, turbo, VPWR_DPDK_CL_OFF_TURBO);
	OFF(caps_t, priority, VPWR_DPDK_CL_OFF_PRIORITY);
	OFF(caps_t, num_vcpu, VPWR_DPDK_CL_OFF_NUM_VCPU);
}
END_TEST

START_TEST(test_numbers)
{
	EQ(RTE_POWER_MAX_VFS, VPWR_DPDK_MAX_VFS);
	EQ(RTE_POWER_VM_MAX_NAME_SZ, VPWR_DPDK_NAME_LEN);
	EQ(RTE_POWER_MAX_VCPU_PER_VM, VPWR_DPDK_MAX_VCPUS);
	EQ(RTE_POWER_HOURS_PER_DAY, VPWR_DPDK_HOURS);
	EQ(RTE_POWER_CPU_POWER, VPWR_DPDK_CPU_POWER);
	EQ(RTE_POWER_CPU_POWER_CONNECT, VPWR_DPDK_CONNECT);
	EQ(RTE_POWER_PKT_POLICY, VPWR_DPDK_PKT_POLICY);
	EQ(RTE_POWER_PKT_POLICY_REMOVE, VPWR_DPDK_PKT_POLICY_REMOVE);
	EQ(RTE_POWER_QUERY_FREQ_LIST, VPWR_DPDK_QUERY_FREQ_LIST);
	EQ(RTE_POWER_QUERY_FREQ, VPWR_DPDK_QUERY_FREQ);
	EQ(RTE_POWER_QUERY_CAPS_LIST, VPWR_DPDK_QUERY_CAPS_LIST);
	EQ(RTE_POWER_QUERY_CAPS, VPWR_DPDK_QUERY_CAPS);
	EQ(RTE_POWER_CMD_ACK, VPWR_DPDK_ACK);
	EQ(RTE_POWER_CMD_NACK, VPWR_DPDK_NACK);
	EQ(RTE_POWER_FREQ_LIST, VPWR_DPDK_FREQ_LIST);
	EQ(RTE_POWER_CAPS_LIST, VPWR_DPDK_CAPS_LIST);
	EQ(RTE_POWER_SCALE_UP, VPWR_DPDK_SCALE_UP);
	EQ(RTE_POWER_SCALE_DOWN, VPWR_DPDK_SCALE_DOWN);
	EQ(RTE_POWER_SCALE_MAX, VPWR_DPDK_SCALE_MAX);
	EQ(RTE_POWER_SCALE_MIN, VPWR_DPDK_SCALE_MIN);
	EQ(RTE_POWER_ENABLE_TURBO, VPWR_DPDK_ENABLE_TURBO);
	EQ(RTE_POWER_DISABLE_TURBO, VPWR_DPDK_DISABLE_TURBO);
	EQ(RTE_POWER_CORE_TYPE_VIRTUAL, VPWR_DPDK_CORE_VIRTUAL);
	EQ(RTE_POWER_CORE_TYPE_PHYSICAL, VPWR_DPDK_CORE_PHYSICAL);
	EQ(RTE_POWER_WL_HIGH, VPWR_DPDK_WL_HIGH);
	EQ(RTE_POWER_WL_MEDIUM, VPWR_DPDK_WL_MEDIUM);
	EQ(RTE_POWER_WL_LOW, VPWR_DPDK_WL_LOW);
	EQ(RTE_POWER_POLICY_TRAFFIC, VPWR_DPDK_POLICY_TRAFFIC);
	EQ(RTE_POWER_POLICY_TIME, VPWR_DPDK_POLICY_TIME);
	EQ(RTE_POWER_POLICY_WORKLOAD, VPWR_DPDK_POLICY_WORKLOAD);
	EQ(RTE_POWER_POLICY_BRANCH_RATIO, VPWR_DPDK_POLICY_BRANCH_RATIO);
}
END_TEST

static void host_decode(const void *pkt, struct vpwr_msg *m)
{
	struct vpwr_decode_error e;
	uint8_t bytes[sizeof(pkt_t)];
	int rc;

	memcpy(bytes, pkt, sizeof(bytes));
	rc = vpwr_codec_decode(vpwr_codec_dpdk(), bytes, sizeof(bytes), m, &e);
	ck_assert_msg(rc == 0, "decode: %d %s", rc, e.text);
}

/* A TIME policy with a distinct value in every field DPDK reads. */
START_TEST(test_decode_dpdk_struct)
{
	pkt_t pkt;
	struct vpwr_msg m;
	const struct vpwr_policy *p = &m.u.policy;

	memset(&pkt, 0, sizeof(pkt));
	pkt.resource_id = 0x1122334455667788ull; /* not read for a policy */
	pkt.unit = 0xDEADBEEF;
	pkt.command = RTE_POWER_PKT_POLICY;
	snprintf(pkt.vm_name, sizeof(pkt.vm_name), "some-other-vm");
	for (int i = 0; i < RTE_POWER_MAX_VFS; i++)
		pkt.vfid[i] = 0xFFFF000000000000ull | (0x0A0B0C0D0E00ull + (uint64_t)i);
	pkt.nb_mac_to_monitor = 3;
	pkt.traffic_policy.min_packet_thresh = 1001;
	pkt.traffic_policy.avg_max_packet_thresh = 2002;
	pkt.traffic_policy.max_max_packet_thresh = 3003;
	for (int i = 0; i < RTE_POWER_MAX_VCPU_PER_VM; i++)
		pkt.vcpu_to_control[i] = (uint8_t)(10 + 3 * i);
	pkt.num_vcpu = 5;
	for (int i = 0; i < RTE_POWER_HOURS_PER_DAY; i++) {
		pkt.timer_policy.busy_hours[i] = i < 2 ? 6 + i : -1;
		pkt.timer_policy.quiet_hours[i] = i < 3 ? 20 + i : -1;
		pkt.timer_policy.hours_to_use_traffic_profile[i] = i < 1 ? 12 : -1;
	}
	pkt.core_type = RTE_POWER_CORE_TYPE_VIRTUAL;
	pkt.workload = RTE_POWER_WL_MEDIUM;
	pkt.policy_to_use = RTE_POWER_POLICY_TIME;
	pkt.t_boost_status.tbEnabled = true;
	host_decode(&pkt, &m);
	ck_assert_uint_eq(m.type, VPWR_MSG_POLICY_SET);
	ck_assert_uint_eq(m.vcpu, VPWR_VCPU_NONE);
	ck_assert_uint_eq(p->kind, VPWR_POLICY_TIME);
	ck_assert_uint_eq(vpwr_cpuset_count(&p->vcpus), 5);
	for (int i = 0; i < 5; i++)
		ck_assert(vpwr_cpuset_isset(&p->vcpus, (unsigned)(10 + 3 * i)));
	ck_assert_uint_eq(p->min_pps, 1001);
	ck_assert_uint_eq(p->avg_pps, 2002);
	ck_assert_uint_eq(p->max_pps, 3003);
	ck_assert_uint_eq(p->busy_hours, 0xC0);
	ck_assert_uint_eq(p->quiet_hours, 0x700000);
	ck_assert_uint_eq(p->traffic_hours, 0x1000);
	ck_assert_uint_eq(p->nr_macs, 3);
	for (uint32_t i = 0; i < 3; i++) { /* the MAC as DPDK's union holds it */
		uint8_t mac[8];

		memcpy(mac, &pkt.vfid[i], 8);
		ck_assert_mem_eq(p->macs[i], mac, 6);
	}
	ck_assert_uint_eq(p->workload, 0); /* not read for TIME */

	pkt.policy_to_use = RTE_POWER_POLICY_WORKLOAD;
	host_decode(&pkt, &m);
	ck_assert_uint_eq(p->workload, VPWR_WORKLOAD_MEDIUM);

	memset(&pkt, 0, sizeof(pkt)); /* as power_kvm_vm.c sends it */
	pkt.command = RTE_POWER_CPU_POWER;
	pkt.resource_id = 7;
	pkt.unit = RTE_POWER_SCALE_MIN;
	host_decode(&pkt, &m);
	ck_assert_uint_eq(m.type, VPWR_MSG_SCALE);
	ck_assert_uint_eq(m.vcpu, 7);
	ck_assert_uint_eq(m.u.scale.op, VPWR_SCALE_MIN);
	pkt.core_type = RTE_POWER_CORE_TYPE_PHYSICAL;
	ck_assert_int_eq(vpwr_codec_decode(vpwr_codec_dpdk(), &pkt, sizeof(pkt),
					   &m, NULL), -EPERM);
}
END_TEST

static void guest_encode(const struct vpwr_msg *m, pkt_t *pkt)
{
	uint8_t bytes[sizeof(pkt_t)];

	ck_assert_int_eq(vpwr_dpdk_guest_encode_named(m, "vm-7", bytes,
						      sizeof(bytes)),
			 (int)sizeof(bytes));
	memcpy(pkt, bytes, sizeof(*pkt));
	ck_assert_str_eq(pkt->vm_name, "vm-7");
}

START_TEST(test_encode_dpdk_struct)
{
	static const uint8_t mac[6] = { 1, 2, 3, 4, 5, 6 };
	struct vpwr_msg m;
	pkt_t pkt;
	uint8_t mac8[8];

	vpwr_msg_init(&m, VPWR_MSG_POLICY_SET, 1, VPWR_VCPU_NONE);
	m.u.policy.kind = VPWR_POLICY_TRAFFIC;
	m.u.policy.workload = VPWR_WORKLOAD_HIGH;
	vpwr_cpuset_set(&m.u.policy.vcpus, 2);
	vpwr_cpuset_set(&m.u.policy.vcpus, 5);
	m.u.policy.busy_hours = 1u << 17;
	m.u.policy.min_pps = 10;
	m.u.policy.avg_pps = 20;
	m.u.policy.max_pps = 30;
	m.u.policy.nr_macs = 2;
	memcpy(m.u.policy.macs[0], mac, 6);
	memcpy(m.u.policy.macs[1], mac, 6);
	m.u.policy.macs[1][5] = 7;
	guest_encode(&m, &pkt);
	ck_assert_uint_eq(pkt.command, RTE_POWER_PKT_POLICY);
	ck_assert_uint_eq(pkt.resource_id, 0);
	ck_assert_uint_eq(pkt.unit, 0);
	ck_assert_uint_eq(pkt.num_vcpu, 2);
	ck_assert_uint_eq(pkt.vcpu_to_control[0], 2);
	ck_assert_uint_eq(pkt.vcpu_to_control[1], 5);
	ck_assert_int_eq(pkt.nb_mac_to_monitor, 2);
	memcpy(mac8, &pkt.vfid[1], 8);
	ck_assert_mem_eq(mac8, "\x01\x02\x03\x04\x05\x07\x00\x00", 8);
	ck_assert_uint_eq(pkt.vfid[2], 0);
	ck_assert_uint_eq(pkt.traffic_policy.min_packet_thresh, 10);
	ck_assert_uint_eq(pkt.traffic_policy.avg_max_packet_thresh, 20);
	ck_assert_uint_eq(pkt.traffic_policy.max_max_packet_thresh, 30);
	ck_assert_int_eq(pkt.timer_policy.busy_hours[0], 17);
	ck_assert_int_eq(pkt.timer_policy.busy_hours[1], -1);
	ck_assert_int_eq(pkt.timer_policy.quiet_hours[0], -1);
	ck_assert_int_eq(pkt.timer_policy.hours_to_use_traffic_profile[23], -1);
	ck_assert(pkt.core_type == RTE_POWER_CORE_TYPE_VIRTUAL);
	ck_assert_int_eq(pkt.workload, RTE_POWER_WL_HIGH);
	ck_assert_int_eq(pkt.policy_to_use, RTE_POWER_POLICY_TRAFFIC);
	ck_assert(!pkt.t_boost_status.tbEnabled);

	vpwr_msg_init(&m, VPWR_MSG_TURBO, 1, 6);
	m.u.turbo.enable = 1;
	guest_encode(&m, &pkt);
	ck_assert_uint_eq(pkt.command, RTE_POWER_CPU_POWER);
	ck_assert_uint_eq(pkt.resource_id, 6);
	ck_assert_uint_eq(pkt.unit, RTE_POWER_ENABLE_TURBO);
	ck_assert(pkt.core_type == RTE_POWER_CORE_TYPE_VIRTUAL);

	vpwr_msg_init(&m, VPWR_MSG_QUERY_VCPUS, 1, 3);
	m.u.vcpus.want = VPWR_VCPUS_CAPS;
	guest_encode(&m, &pkt);
	ck_assert_uint_eq(pkt.command, RTE_POWER_QUERY_CAPS);
	ck_assert_uint_eq(pkt.resource_id, 3);
}
END_TEST

/* Replies as DPDK's guest_cli reads them, and DPDK host's replies. */
START_TEST(test_replies_dpdk_structs)
{
	struct vpwr_msg req, m;
	uint8_t bytes[sizeof(pkt_t)];
	freq_t fl;
	caps_t cl;
	pkt_t ack;

	vpwr_msg_init(&req, VPWR_MSG_QUERY_VCPUS, 0, VPWR_VCPU_NONE);
	req.u.vcpus.want = VPWR_VCPUS_FREQS;
	vpwr_msg_reply(&m, &req, 0, NULL);
	m.u.vcpus = (struct vpwr_vcpu_list){ .want = VPWR_VCPUS_FREQS, .nr = 3,
					     .nr_vcpus = 3,
					     .cur_khz = { 100, 200, 300 } };
	ck_assert_int_eq(vpwr_codec_encode(vpwr_codec_dpdk(), &m, bytes,
					   sizeof(bytes)), (int)sizeof(fl));
	memcpy(&fl, bytes, sizeof(fl));
	ck_assert_uint_eq(fl.command, RTE_POWER_FREQ_LIST);
	ck_assert_uint_eq(fl.num_vcpu, 3);
	ck_assert_uint_eq(fl.freq_list[2], 300);
	ck_assert_uint_eq(fl.freq_list[3], 0);

	m.u.vcpus = (struct vpwr_vcpu_list){ .want = VPWR_VCPUS_CAPS, .first = 4,
					     .nr = 1, .nr_vcpus = 8,
					     .turbo_mask = 1, .priority_mask = 1 };
	ck_assert_int_eq(vpwr_codec_encode(vpwr_codec_dpdk(), &m, bytes,
					   sizeof(bytes)), (int)sizeof(cl));
	memcpy(&cl, bytes, sizeof(cl));
	ck_assert_uint_eq(cl.command, RTE_POWER_CAPS_LIST);
	ck_assert_uint_eq(cl.turbo[4], 1);
	ck_assert_uint_eq(cl.priority[4], 1);
	ck_assert_uint_eq(cl.turbo[3], 0);
	ck_assert_uint_eq(cl.num_vcpu, 5);

	vpwr_msg_init(&req, VPWR_MSG_SCALE, 0, 2);
	vpwr_msg_reply(&m, &req, -EIO, "no");
	ck_assert_int_eq(vpwr_codec_encode(vpwr_codec_dpdk(), &m, bytes,
					   sizeof(bytes)), (int)sizeof(ack));
	memcpy(&ack, bytes, sizeof(ack));
	ck_assert_uint_eq(ack.command, RTE_POWER_CMD_NACK);
	ck_assert_uint_eq(ack.resource_id, 2);

	/* DPDK's host: a freq list of a 3-vCPU VM */
	memset(&fl, 0x5A, sizeof(fl));
	fl.command = RTE_POWER_FREQ_LIST;
	fl.num_vcpu = 3;
	for (int i = 0; i < 3; i++)
		fl.freq_list[i] = 1000000u * (unsigned)(i + 1);
	memcpy(bytes, &fl, sizeof(fl));
	ck_assert_int_eq(vpwr_codec_decode(vpwr_codec_dpdk_guest(), bytes,
					   sizeof(fl), &m, NULL), 0);
	ck_assert_uint_eq(m.u.vcpus.nr, 3);
	ck_assert_uint_eq(m.u.vcpus.cur_khz[2], 3000000);
	memset(&cl, 0, sizeof(cl));
	cl.command = RTE_POWER_CAPS_LIST;
	cl.num_vcpu = 2;
	cl.turbo[1] = 1;
	cl.priority[0] = 1;
	memcpy(bytes, &cl, sizeof(cl));
	ck_assert_int_eq(vpwr_codec_decode(vpwr_codec_dpdk_guest(), bytes,
					   sizeof(cl), &m, NULL), 0);
	ck_assert_uint_eq(m.u.vcpus.turbo_mask, 2);
	ck_assert_uint_eq(m.u.vcpus.priority_mask, 1);
}
END_TEST

static Suite *layout_suite(void)
{
	Suite *s = suite_create("codec_dpdk_layout");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_sizes);
	tcase_add_test(tc, test_offsets);
	tcase_add_test(tc, test_numbers);
	tcase_add_test(tc, test_decode_dpdk_struct);
	tcase_add_test(tc, test_encode_dpdk_struct);
	tcase_add_test(tc, test_replies_dpdk_structs);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
#ifndef HAVE_DPDK_HEADER
	fprintf(stderr,
		"SKIP (partly): DPDK's rte_power_guest_channel.h is not on the "
		"include path (libdpdk-dev; tests/CMakeLists.txt adds its "
		"directory to this test); checking against a copy of its "
		"layout instead\n");
#endif
	return vpwr_test_run(layout_suite());
}
