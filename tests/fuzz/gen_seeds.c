/* SPDX-License-Identifier: MIT */
/*
 * Writes the seed corpora of the fuzz targets from real messages encoded by
 * the library's own encoders, so that the fuzzers start from frames every
 * codec accepts.  Deterministic: the same library writes the same files.
 * Run through tests/fuzz/make-seeds.sh, which empties the corpus
 * directories first:
 *
 *   fuzz_seeds OUTDIR       writes OUTDIR/<target>/<case>.bin
 *
 * A message a codec cannot express (encode says -EINVAL) is skipped for
 * that codec; a seed its target's decoder refuses is an error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "libvpwr/libvpwr.h"

#define MAX_MSGS 96
#define FRAME_CAP 8192
#define STREAM_CAP 6000 /* framer seeds stay well inside its 8 KiB */

struct named_msg {
	const char *name;
	struct vpwr_msg m;
};

static struct named_msg msgs[MAX_MSGS];
static size_t nr_msgs;
static const char *outdir;
static int failures;

static struct vpwr_msg *add(const char *name, unsigned type, uint32_t seq,
			    uint32_t vcpu)
{
	struct named_msg *n;

	if (nr_msgs == MAX_MSGS) {
		fprintf(stderr, "fuzz_seeds: raise MAX_MSGS\n");
		exit(1);
	}
	n = &msgs[nr_msgs++];
	n->name = name;
	vpwr_msg_init(&n->m, type, seq, vcpu);
	return &n->m;
}

static struct vpwr_msg *add_reply(const char *name, unsigned type,
				  uint32_t seq, uint32_t vcpu, int status,
				  const char *reason)
{
	struct vpwr_msg req, *m;

	vpwr_msg_init(&req, type, seq, vcpu);
	m = add(name, type, seq, vcpu);
	if (reason)
		vpwr_msg_reply(m, &req, status, "%s", reason);
	else
		vpwr_msg_reply(m, &req, status, NULL);
	return m;
}

static void fill_state(struct vpwr_vcpu_state *st, uint32_t cur)
{
	st->cur_khz = cur;
	st->min_khz = 800000;
	st->max_khz = 2400000;
	st->turbo = 1;
	st->req_min_khz = cur;
	st->req_max_khz = cur;
	st->epp = 128;
}

static void requests(void)
{
	static const char *const scale_names[] = {
		NULL, "req-scale-up", "req-scale-down", "req-scale-min",
		"req-scale-max", "req-scale-medium",
	};
	struct vpwr_msg *m;

	m = add("req-hello", VPWR_MSG_HELLO, 1, VPWR_VCPU_NONE);
	m->u.hello.version_min = m->u.hello.version_max = 1;
	m = add("req-hello-1-3", VPWR_MSG_HELLO, 2, VPWR_VCPU_NONE);
	m->u.hello.version_min = 1;
	m->u.hello.version_max = 3;
	for (unsigned op = VPWR_SCALE_UP; op <= VPWR_SCALE_MEDIUM; op++) {
		m = add(scale_names[op], VPWR_MSG_SCALE, 10 + op, op % 2);
		m->u.scale.op = op;
	}
	m = add("req-scale-max-vcpu63", VPWR_MSG_SCALE, 0xfffffffe, 63);
	m->u.scale.op = VPWR_SCALE_MAX;
	m = add("req-set-freq", VPWR_MSG_SET_FREQ, 20, 0);
	m->u.freq.khz = 1200000;
	m = add("req-set-freq-vcpu1", VPWR_MSG_SET_FREQ, 21, 1);
	m->u.freq.khz = 2400000;
	m = add("req-set-range", VPWR_MSG_SET_RANGE, 22, 0);
	m->u.range.min_khz = 1000000;
	m->u.range.max_khz = 1800000;
	m = add("req-turbo-on", VPWR_MSG_TURBO, 23, 2);
	m->u.turbo.enable = 1;
	add("req-turbo-off", VPWR_MSG_TURBO, 24, 2);
	m = add("req-set-epp", VPWR_MSG_SET_EPP, 25, 0);
	m->u.epp.hint = VPWR_EPP_BALANCE_POWER;

	m = add("req-policy-time", VPWR_MSG_POLICY_SET, 30, VPWR_VCPU_NONE);
	m->u.policy.kind = VPWR_POLICY_TIME;
	vpwr_cpuset_parse(&m->u.policy.vcpus, "0-3");
	m->u.policy.busy_hours = 0x00ff00;
	m->u.policy.quiet_hours = 0x0000ff;
	m = add("req-policy-traffic", VPWR_MSG_POLICY_SET, 31, VPWR_VCPU_NONE);
	m->u.policy.kind = VPWR_POLICY_TRAFFIC;
	vpwr_cpuset_parse(&m->u.policy.vcpus, "0,2");
	m->u.policy.traffic_hours = 0xffffff;
	m->u.policy.min_pps = 1000;
	m->u.policy.avg_pps = 50000;
	m->u.policy.max_pps = 1000000;
	m->u.policy.nr_macs = 2;
	memcpy(m->u.policy.macs[0], "\x52\x54\x00\x12\x34\x56", 6);
	memcpy(m->u.policy.macs[1], "\x52\x54\x00\xab\xcd\xef", 6);
	m = add("req-policy-workload", VPWR_MSG_POLICY_SET, 32, VPWR_VCPU_NONE);
	m->u.policy.kind = VPWR_POLICY_WORKLOAD;
	m->u.policy.workload = VPWR_WORKLOAD_HIGH;
	vpwr_cpuset_parse(&m->u.policy.vcpus, "1");
	m = add("req-policy-branch", VPWR_MSG_POLICY_SET, 33, VPWR_VCPU_NONE);
	m->u.policy.kind = VPWR_POLICY_BRANCH_RATIO;
	m->u.policy.branch_ratio_ppm = 50000;
	vpwr_cpuset_parse(&m->u.policy.vcpus, "0-1");
	add("req-policy-remove-all", VPWR_MSG_POLICY_REMOVE, 34, VPWR_VCPU_NONE);
	m = add("req-policy-remove-traffic", VPWR_MSG_POLICY_REMOVE, 35,
		VPWR_VCPU_NONE);
	m->u.policy.kind = VPWR_POLICY_TRAFFIC;

	for (unsigned op = VPWR_SCALE_UP; op <= VPWR_SCALE_MEDIUM; op++) {
		static const char *const names[] = {
			NULL, "req-scale-up-vcpu7", "req-scale-down-vcpu7",
			"req-scale-min-vcpu7", "req-scale-max-vcpu7",
			"req-scale-medium-vcpu7",
		};
		m = add(names[op], VPWR_MSG_SCALE, 50 + op, 7);
		m->u.scale.op = op;
	}
	m = add("req-turbo-on-vcpu0", VPWR_MSG_TURBO, 56, 0);
	m->u.turbo.enable = 1;
	m = add("req-policy-workload-low", VPWR_MSG_POLICY_SET, 57,
		VPWR_VCPU_NONE);
	m->u.policy.kind = VPWR_POLICY_WORKLOAD;
	m->u.policy.workload = VPWR_WORKLOAD_LOW;
	vpwr_cpuset_parse(&m->u.policy.vcpus, "0-7");
	m = add("req-policy-time-traffic", VPWR_MSG_POLICY_SET, 58,
		VPWR_VCPU_NONE);
	m->u.policy.kind = VPWR_POLICY_TIME;
	vpwr_cpuset_parse(&m->u.policy.vcpus, "3");
	m->u.policy.busy_hours = 0xf00000;
	m->u.policy.traffic_hours = 0x0ff000;
	m->u.policy.min_pps = 10;
	m->u.policy.avg_pps = 20;
	m->u.policy.max_pps = 30;
	m->u.policy.nr_macs = 1;
	memcpy(m->u.policy.macs[0], "\x02\x00\x00\x00\x00\x01", 6);
	add("req-query-freqs", VPWR_MSG_QUERY_FREQS, 40, 0);
	add("req-query-state", VPWR_MSG_QUERY_STATE, 41, 1);
	add("req-query-caps", VPWR_MSG_QUERY_CAPS, 42, VPWR_VCPU_NONE);
	add("req-release", VPWR_MSG_RELEASE, 43, VPWR_VCPU_NONE);
	m = add("req-query-vcpus-all", VPWR_MSG_QUERY_VCPUS, 44, VPWR_VCPU_NONE);
	m->u.vcpus.want = VPWR_VCPUS_FREQS | VPWR_VCPUS_CAPS;
	m = add("req-query-vcpus-one", VPWR_MSG_QUERY_VCPUS, 45, 2);
	m->u.vcpus.want = VPWR_VCPUS_FREQS;
	add("req-query-vcpus-plain", VPWR_MSG_QUERY_VCPUS, 46, VPWR_VCPU_NONE);
	m = add("req-query-vcpus-freqs-all", VPWR_MSG_QUERY_VCPUS, 47,
		VPWR_VCPU_NONE);
	m->u.vcpus.want = VPWR_VCPUS_FREQS;
	m = add("req-query-vcpus-caps-all", VPWR_MSG_QUERY_VCPUS, 48,
		VPWR_VCPU_NONE);
	m->u.vcpus.want = VPWR_VCPUS_CAPS;
	m = add("req-query-vcpus-caps-one", VPWR_MSG_QUERY_VCPUS, 49, 5);
	m->u.vcpus.want = VPWR_VCPUS_CAPS;
	m = add("req-query-vcpus-freqs-vcpu7", VPWR_MSG_QUERY_VCPUS, 60, 7);
	m->u.vcpus.want = VPWR_VCPUS_FREQS;
}

static void replies(void)
{
	struct vpwr_msg *m;

	m = add_reply("rep-hello", VPWR_MSG_HELLO, 1, VPWR_VCPU_NONE, 0, NULL);
	m->u.hello.version_min = m->u.hello.version_max = 1;
	m->u.hello.caps = VPWR_CAP_TURBO | VPWR_CAP_RANGE;
	m->u.hello.max_frame = VPWR_NATIVE_MAX_FRAME;
	m->u.hello.nr_vcpus = 4;
	m = add_reply("rep-query-caps", VPWR_MSG_QUERY_CAPS, 2, VPWR_VCPU_NONE,
		      0, NULL);
	m->u.hello.version_min = m->u.hello.version_max = 1;
	m->u.hello.caps = VPWR_CAP_TURBO;
	m->u.hello.max_frame = VPWR_NATIVE_MAX_FRAME;
	m->u.hello.nr_vcpus = 2;
	m = add_reply("rep-scale-ack", VPWR_MSG_SCALE, 3, 0, 0, NULL);
	fill_state(&m->u.state, 2400000);
	m = add_reply("rep-set-freq-ack", VPWR_MSG_SET_FREQ, 4, 1, 0, NULL);
	fill_state(&m->u.state, 1200000);
	m->u.state.clamped = 1;
	m = add_reply("rep-turbo-ack", VPWR_MSG_TURBO, 5, 0, 0, NULL);
	fill_state(&m->u.state, 3000000);
	add_reply("rep-scale-nack", VPWR_MSG_SCALE, 6, 5, -VPWR_E_VCPU_RANGE,
		  "vCPU 5 out of range: domain vm1 has 4 vCPUs");
	add_reply("rep-policy-nack", VPWR_MSG_POLICY_SET, 7, VPWR_VCPU_NONE,
		  -EOPNOTSUPP, "this host does not run policies yet");
	add_reply("rep-unknown-type-nack", 99, 8, VPWR_VCPU_NONE, -EBADMSG,
		  "unknown message type 99");
	m = add_reply("rep-query-freqs", VPWR_MSG_QUERY_FREQS, 9, 0, 0, NULL);
	m->u.freqs.cur_khz = 1600000;
	m->u.freqs.nr = 9;
	for (unsigned i = 0; i < 9; i++)
		m->u.freqs.khz[i] = 800000 + 200000 * i;
	m = add_reply("rep-query-freqs-64", VPWR_MSG_QUERY_FREQS, 10, 3, 0, NULL);
	m->u.freqs.nr = VPWR_MSG_MAX_FREQS;
	for (unsigned i = 0; i < VPWR_MSG_MAX_FREQS; i++)
		m->u.freqs.khz[i] = 400000 + 50000 * i;
	m->u.freqs.cur_khz = m->u.freqs.khz[10];
	m = add_reply("rep-query-state", VPWR_MSG_QUERY_STATE, 11, 1, 0, NULL);
	fill_state(&m->u.state, 1800000);
	m = add_reply("rep-query-vcpus", VPWR_MSG_QUERY_VCPUS, 12,
		      VPWR_VCPU_NONE, 0, NULL);
	m->u.vcpus.want = VPWR_VCPUS_FREQS | VPWR_VCPUS_CAPS;
	m->u.vcpus.nr = m->u.vcpus.nr_vcpus = 4;
	for (unsigned i = 0; i < 4; i++)
		m->u.vcpus.cur_khz[i] = 1000000 + 400000 * i;
	m->u.vcpus.turbo_mask = 0x5;
	m->u.vcpus.priority_mask = 0x2;
	m = add_reply("rep-query-vcpus-freqs", VPWR_MSG_QUERY_VCPUS, 14,
		      VPWR_VCPU_NONE, 0, NULL);
	m->u.vcpus.want = VPWR_VCPUS_FREQS;
	m->u.vcpus.nr = m->u.vcpus.nr_vcpus = 8;
	for (unsigned i = 0; i < 8; i++)
		m->u.vcpus.cur_khz[i] = 800000 + 200000 * i;
	m = add_reply("rep-query-vcpus-caps", VPWR_MSG_QUERY_VCPUS, 15,
		      VPWR_VCPU_NONE, 0, NULL);
	m->u.vcpus.want = VPWR_VCPUS_CAPS;
	m->u.vcpus.nr = m->u.vcpus.nr_vcpus = 6;
	m->u.vcpus.turbo_mask = 0x3c;
	m->u.vcpus.priority_mask = 0x21;
	add_reply("rep-query-vcpus-nack", VPWR_MSG_QUERY_VCPUS, 16,
		  VPWR_VCPU_NONE, -VPWR_E_VCPU_RANGE, "vCPU 9 out of range");
	add_reply("rep-release", VPWR_MSG_RELEASE, 13, VPWR_VCPU_NONE, 0, NULL);
	m = add("notify-limits-changed", VPWR_MSG_LIMITS_CHANGED, 0, 2);
	m->flags = VPWR_MSG_F_NOTIFY;
	fill_state(&m->u.state, 1400000);
}

static int is_request(const struct vpwr_msg *m)
{
	return !(m->flags & (VPWR_MSG_F_REPLY | VPWR_MSG_F_NOTIFY));
}

static int is_from_host(const struct vpwr_msg *m)
{
	return !is_request(m);
}

static void write_file(const char *target, const char *name,
		       const uint8_t *buf, size_t len)
{
	char path[4096];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", outdir, target);
	mkdir(path, 0755);
	snprintf(path, sizeof(path), "%s/%s/%s.bin", outdir, target, name);
	f = fopen(path, "wb");
	if (!f || fwrite(buf, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

/* The frames one codec wrote, in order, for the framer's streams. */
struct frames {
	uint8_t buf[MAX_MSGS * 512];
	size_t off[MAX_MSGS + 1];
	unsigned nr;
};

/*
 * Encode every message `which` selects with `enc`, check `dec` reads it
 * back, write it as a seed of `target` and keep it in `fr`.
 */
static void encode_all(const char *target, const struct vpwr_codec *enc,
		       const struct vpwr_codec *dec,
		       int (*which)(const struct vpwr_msg *), struct frames *fr)
{
	uint8_t buf[FRAME_CAP];

	fr->nr = 0;
	fr->off[0] = 0;
	for (size_t i = 0; i < nr_msgs; i++) {
		struct vpwr_decode_error err;
		struct vpwr_msg back;
		int n, rc;

		if (which && !which(&msgs[i].m))
			continue;
		n = vpwr_codec_encode(enc, &msgs[i].m, buf, sizeof(buf));
		if (n == -EINVAL)
			continue; /* not expressible in this codec */
		if (n <= 0) {
			fprintf(stderr, "fuzz_seeds: %s: encode %s: %d\n",
				vpwr_codec_name(enc), msgs[i].name, n);
			failures++;
			continue;
		}
		rc = vpwr_codec_frame_len(dec, buf, (size_t)n, &err);
		if (rc == n)
			rc = vpwr_codec_decode(dec, buf, (size_t)n, &back, &err);
		else
			rc = rc < 0 ? rc : -1;
		if (rc) {
			fprintf(stderr, "fuzz_seeds: %s: %s does not read back "
				"(%d: %s)\n", vpwr_codec_name(dec),
				msgs[i].name, rc, err.text);
			failures++;
			continue;
		}
		write_file(target, msgs[i].name, buf, (size_t)n);
		if (fr->off[fr->nr] + (size_t)n <= sizeof(fr->buf)) {
			memcpy(fr->buf + fr->off[fr->nr], buf, (size_t)n);
			fr->nr++;
			fr->off[fr->nr] = fr->off[fr->nr - 1] + (size_t)n;
		}
	}
	printf("%-16s %2u seeds (%s encoder)\n", target, fr->nr,
	       vpwr_codec_name(enc));
}

/*
 * Seeds of the framer target: byte 0 = codec pick | piece size << 3,
 * byte 1 = piece seed, then frames [first, first + count) back to back.
 * Small streams keep the fuzzer fast; one longer stream per codec gets
 * near the framer's 8 KiB.
 */
static void streams(const char *prefix, const struct frames *fr,
		    unsigned pick_detect, unsigned pick_fixed)
{
	static const char *const split_names[] = { "bytes", "small", "medium",
						   "large" };
	uint8_t buf[2 + STREAM_CAP];
	char name[128];
	unsigned group = 0;

	for (unsigned first = 0; first < fr->nr; first += 5, group++) {
		unsigned last = first + 5 < fr->nr ? first + 5 : fr->nr;
		unsigned split = group % 4;
		unsigned pick = group % 3 == 2 ? pick_fixed : pick_detect;
		size_t len = fr->off[last] - fr->off[first];

		if (len > STREAM_CAP)
			continue;
		buf[0] = (uint8_t)(pick | split << 3);
		buf[1] = (uint8_t)(0x5a + group);
		memcpy(buf + 2, fr->buf + fr->off[first], len);
		snprintf(name, sizeof(name), "%s-%02u-%s-%s", prefix, first,
			 pick == pick_fixed ? "fixed" : "detect",
			 split_names[split]);
		write_file("fuzz_framer", name, buf, 2 + len);
	}
	for (unsigned last = fr->nr; last > 0; last--) {
		if (fr->off[last] <= STREAM_CAP) {
			buf[0] = (uint8_t)(pick_detect | 3u << 3);
			buf[1] = 0xa5;
			memcpy(buf + 2, fr->buf, fr->off[last]);
			snprintf(name, sizeof(name), "%s-long", prefix);
			write_file("fuzz_framer", name, buf, 2 + fr->off[last]);
			break;
		}
	}
}

int main(int argc, char **argv)
{
	static struct frames fr;

	if (argc != 2) {
		fprintf(stderr, "usage: %s OUTDIR\n", argv[0]);
		return 2;
	}
	outdir = argv[1];
	mkdir(outdir, 0755);
	requests();
	replies();

	/* Codec picks of the framer target: 0-3 detect, 4 native, 5 json,
	 * 6 dpdk, 7 dpdk-guest (fuzz_framer.c). */
	encode_all("fuzz_native", vpwr_codec_native(), vpwr_codec_native(),
		   NULL, &fr);
	streams("native", &fr, 0, 4);
	encode_all("fuzz_json", vpwr_codec_json(), vpwr_codec_json(), NULL, &fr);
	streams("json", &fr, 1, 5);
	/* What a DPDK host reads: requests, written by the guest role. */
	encode_all("fuzz_dpdk", vpwr_codec_dpdk_guest(), vpwr_codec_dpdk(),
		   is_request, &fr);
	streams("dpdk", &fr, 2, 6);
	/* What a DPDK guest reads: the host role's replies (no detection:
	 * the guest role is chosen by name). */
	encode_all("fuzz_dpdk_guest", vpwr_codec_dpdk(), vpwr_codec_dpdk_guest(),
		   is_from_host, &fr);
	streams("dpdk-guest", &fr, 7, 7);
	return failures ? 1 : 0;
}
