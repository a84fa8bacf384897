/* SPDX-License-Identifier: MIT */
/*
 * The message model: what every codec decodes to and encodes from, and what
 * the host engine and the guest client speak.  Plain data, owned by whoever
 * declares it; no pointers inside, so a message can be copied with `=`.
 *
 * ABI: struct vpwr_msg has a fixed size (VPWR_MSG_SIZE); new fields are only
 * ever carved out of the reserved tails of the union members, which are zero
 * in every message the library produces and must be zero in every message a
 * caller passes in.
 */
#ifndef LIBVPWR_MESSAGE_H
#define LIBVPWR_MESSAGE_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Message types.  Numbers are wire values of the native codec. */
enum vpwr_msg_type {
	VPWR_MSG_HELLO = 1,          /* version/capability negotiation */
	VPWR_MSG_SCALE = 2,          /* u.scale: step a vCPU up/down/min/max */
	VPWR_MSG_SET_FREQ = 3,       /* u.freq: pin a vCPU to one frequency */
	VPWR_MSG_SET_RANGE = 4,      /* u.range: min/max limits of a vCPU */
	VPWR_MSG_TURBO = 5,          /* u.turbo: enable/disable turbo */
	VPWR_MSG_SET_EPP = 6,        /* u.epp: energy-performance hint */
	VPWR_MSG_POLICY_SET = 7,     /* u.policy */
	VPWR_MSG_POLICY_REMOVE = 8,  /* u.policy.kind (0 = all) */
	VPWR_MSG_QUERY_FREQS = 9,    /* reply: u.freqs */
	VPWR_MSG_QUERY_STATE = 10,   /* reply: u.state */
	VPWR_MSG_QUERY_CAPS = 11,    /* reply: u.hello (caps and limits) */
	VPWR_MSG_RELEASE = 12,       /* drop every request of this channel */
	VPWR_MSG_LIMITS_CHANGED = 13, /* host notification: u.state */
	VPWR_MSG_QUERY_VCPUS = 14,   /* reply: u.vcpus, every vCPU of the
					domain (or msg.vcpu only) */
};

/* msg.flags */
#define VPWR_MSG_F_REPLY 0x1u  /* a reply to the request with the same seq */
#define VPWR_MSG_F_NOTIFY 0x2u /* an unsolicited host notification */

/* u.scale.op */
enum vpwr_scale_op {
	VPWR_SCALE_UP = 1,
	VPWR_SCALE_DOWN = 2,
	VPWR_SCALE_MIN = 3,
	VPWR_SCALE_MAX = 4,
	VPWR_SCALE_MEDIUM = 5,
};

/* u.epp.hint: the kernel's EPP scale, 0 (performance) ... 255 (power). */
#define VPWR_EPP_PERFORMANCE 0
#define VPWR_EPP_BALANCE_PERFORMANCE 128
#define VPWR_EPP_BALANCE_POWER 192
#define VPWR_EPP_POWER 255

enum vpwr_policy_kind {
	VPWR_POLICY_TIME = 1,
	VPWR_POLICY_TRAFFIC = 2,
	VPWR_POLICY_WORKLOAD = 3,
	VPWR_POLICY_BRANCH_RATIO = 4,
};

enum vpwr_workload {
	VPWR_WORKLOAD_LOW = 1,
	VPWR_WORKLOAD_MEDIUM = 2,
	VPWR_WORKLOAD_HIGH = 3,
};

/* Host capabilities, u.hello.caps */
#define VPWR_CAP_TURBO 0x1u
#define VPWR_CAP_EPP 0x2u
#define VPWR_CAP_POLICY 0x4u
#define VPWR_CAP_RANGE 0x8u
#define VPWR_CAP_NOTIFY 0x10u

#define VPWR_PROTO_VERSION 1   /* the newest native protocol version */
#define VPWR_VCPU_NONE 0xFFFFFFFFu
#define VPWR_MSG_MAX_FREQS 64
#define VPWR_MSG_MAX_MACS 10
#define VPWR_REASON_MAX 128
#define VPWR_MSG_MAX_VCPUS 64

struct vpwr_hello {
	uint32_t version_min;   /* request: oldest version the guest speaks */
	uint32_t version_max;   /* request: newest; reply: the chosen one */
	uint32_t caps;          /* reply: VPWR_CAP_* */
	uint32_t max_frame;     /* reply: largest frame the host accepts */
	uint32_t nr_vcpus;      /* reply: vCPUs of the guest's domain */
	uint32_t rate_per_sec;  /* reply: request rate allowed (0: none) */
};

/*
 * The state of one vCPU as the host sees it: the frequency its physical
 * CPU(s) run at after arbitration, and the effective limits.
 */
struct vpwr_vcpu_state {
	uint32_t cur_khz;       /* effective frequency */
	uint32_t min_khz;       /* effective lower limit */
	uint32_t max_khz;       /* effective upper limit */
	uint32_t turbo;         /* 1 if turbo is on */
	uint32_t req_min_khz;   /* what this guest asked for (0: nothing) */
	uint32_t req_max_khz;
	uint32_t clamped;       /* 1 if another requester or the operator won */
	uint32_t epp;
};

/* What a QUERY_VCPUS asks for, u.vcpus.want (a reply keeps the request's). */
#define VPWR_VCPUS_FREQS 0x1u  /* current frequencies */
#define VPWR_VCPUS_CAPS 0x2u   /* turbo and priority capabilities */

/* Per-vCPU facts for a range of vCPUs (one reply holds up to 64). */
struct vpwr_vcpu_list {
	uint32_t want;          /* VPWR_VCPUS_* */
	uint32_t first;         /* vCPU number of entry 0 */
	uint32_t nr;            /* entries filled */
	uint32_t nr_vcpus;      /* vCPUs the domain has */
	uint32_t cur_khz[VPWR_MSG_MAX_VCPUS];
	uint64_t turbo_mask;    /* bit i: entry i can use turbo */
	uint64_t priority_mask; /* bit i: entry i runs on a high-priority core */
};

struct vpwr_policy {
	uint32_t kind;          /* enum vpwr_policy_kind */
	uint32_t workload;      /* WORKLOAD: enum vpwr_workload */
	struct vpwr_cpuset vcpus; /* the vCPUs it applies to */
	uint32_t busy_hours;    /* TIME: bit h set = hour h is busy (24 bits) */
	uint32_t quiet_hours;   /* TIME */
	uint32_t traffic_hours; /* TIME: hours when TRAFFIC rules apply */
	uint32_t min_pps;       /* TRAFFIC: below -> min frequency */
	uint32_t avg_pps;       /* TRAFFIC: below -> medium */
	uint32_t max_pps;       /* TRAFFIC: above -> max */
	uint32_t branch_ratio_ppm; /* BRANCH_RATIO: misses per million branches */
	uint32_t nr_macs;
	uint8_t macs[VPWR_MSG_MAX_MACS][6];
};

struct vpwr_msg {
	uint16_t type;          /* enum vpwr_msg_type */
	uint16_t flags;         /* VPWR_MSG_F_* */
	uint32_t seq;           /* chosen by the requester, echoed */
	int32_t status;         /* replies: 0 or -errno / -VPWR_E_* */
	uint32_t vcpu;          /* the vCPU addressed, or VPWR_VCPU_NONE */
	union {
		struct vpwr_hello hello;
		struct { uint32_t op; } scale;            /* SCALE */
		struct { uint32_t khz; } freq;            /* SET_FREQ */
		struct { uint32_t min_khz, max_khz; } range; /* SET_RANGE */
		struct { uint32_t enable; } turbo;        /* TURBO */
		struct { uint32_t hint; } epp;            /* SET_EPP */
		struct vpwr_policy policy;                /* POLICY_* */
		struct {
			uint32_t cur_khz;
			uint32_t nr;
			uint32_t khz[VPWR_MSG_MAX_FREQS]; /* ascending */
		} freqs;                                  /* QUERY_FREQS reply */
		struct vpwr_vcpu_state state;  /* QUERY_STATE reply, ACKs of
						  changes, LIMITS_CHANGED */
		struct vpwr_vcpu_list vcpus;   /* QUERY_VCPUS */
		uint8_t reserved_[512];
	} u;
	char reason[VPWR_REASON_MAX]; /* replies: why, NUL-terminated */
};

#define VPWR_MSG_SIZE 656

/* Zero `m` and set its type, seq and vcpu. */
VPWR_API void vpwr_msg_init(struct vpwr_msg *m, enum vpwr_msg_type type,
			    uint32_t seq, uint32_t vcpu);

/*
 * Turn `m` into the reply to request `req`: same type, seq and vcpu (and,
 * for QUERY_VCPUS, the same u.vcpus.want), F_REPLY, the given status and
 * an optional printf-style reason (NULL for none).  m may be req.
 */
VPWR_API void vpwr_msg_reply(struct vpwr_msg *m, const struct vpwr_msg *req,
			     int status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/*
 * Check that a message is well-formed on its own (known type, known scale
 * op, min <= max, hours within 24 bits, ...; a request leaves every field
 * its type does not use zero).  Returns 0, -VPWR_E_PROTO, or -EINVAL for a
 * NULL message; `why`, if not NULL, receives a static explanation.
 */
VPWR_API int vpwr_msg_validate(const struct vpwr_msg *m, const char **why);

/*
 * Render `m` on one line for people ("scale vcpu=0 op=max",
 * "reply scale seq=3 status=0 cur=2400000kHz ...").  Returns the length the
 * whole text needs, like snprintf; buf is always NUL-terminated when len > 0.
 */
VPWR_API int vpwr_msg_format(const struct vpwr_msg *m, char *buf, size_t len);

/* "scale", "set_freq", ...; NULL if unknown. */
VPWR_API const char *vpwr_msg_type_name(unsigned type);
/* "up", "down", ...; NULL if unknown. */
VPWR_API const char *vpwr_scale_op_name(unsigned op);

#ifdef __cplusplus
}
#endif
#endif
