/* SPDX-License-Identifier: MIT */
/*
 * Codec benchmark: encode and decode rates of every codec on a few
 * representative messages, through the public API of the shared library
 * (what an application gets).  Prints one table row per codec and message.
 *
 *   bench_codec [-c] [-n ITERATIONS] [-t SECONDS] [-r REPEATS]
 *
 * Without -n, each cell is calibrated to run about -t seconds (default
 * 0.2) and measured -r times (default 5); the median is printed.  With -n
 * every cell runs exactly that many iterations once (CTest's bench-smoke
 * uses -n 50 so that the program cannot rot; the numbers mean nothing).
 * With -c the clock is the thread's CPU time instead of the wall clock: on
 * a machine shared with other busy processes it leaves out the time they
 * had the CPU (caches and the other hyperthread they still share).
 *
 * Messages: a SCALE request, a QUERY_FREQS reply (16 frequencies; not in
 * DPDK), a QUERY_VCPUS reply (8 vCPUs' frequencies: DPDK's FREQ_LIST) and
 * a TRAFFIC policy.  DPDK has two roles: "dpdk" is the host's (decodes
 * requests, encodes replies), "dpdk-guest" the guest's (encodes requests,
 * decodes replies).
 * A cell a codec or role cannot do shows "-".  A frame that does not
 * decode back is an error (exit 1).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "libvpwr/libvpwr.h"

#ifndef VPWR_BENCH_BUILD_TYPE
#define VPWR_BENCH_BUILD_TYPE "?"
#endif

#define FRAME_CAP 8192

struct sample {
	const char *name;
	struct vpwr_msg m;
};

static struct sample samples[4];
static unsigned long fixed_iters;
static double cell_seconds = 0.2;
static int repeats = 5;
static volatile int sink;
static clockid_t clock_id = CLOCK_MONOTONIC;

static double now(void)
{
	struct timespec ts;

	clock_gettime(clock_id, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void make_samples(void)
{
	struct vpwr_msg req, *m;

	samples[0].name = "scale request";
	m = &samples[0].m;
	vpwr_msg_init(m, VPWR_MSG_SCALE, 12345, 3);
	m->u.scale.op = VPWR_SCALE_MAX;

	samples[1].name = "query_freqs reply";
	m = &samples[1].m;
	vpwr_msg_init(&req, VPWR_MSG_QUERY_FREQS, 12346, 3);
	vpwr_msg_reply(m, &req, 0, NULL);
	m->u.freqs.nr = 16;
	for (unsigned i = 0; i < 16; i++)
		m->u.freqs.khz[i] = 800000 + 100000 * i;
	m->u.freqs.cur_khz = 1600000;

	samples[2].name = "query_vcpus reply";
	m = &samples[2].m;
	vpwr_msg_init(&req, VPWR_MSG_QUERY_VCPUS, 12347, VPWR_VCPU_NONE);
	vpwr_msg_reply(m, &req, 0, NULL);
	m->u.vcpus.want = VPWR_VCPUS_FREQS;
	m->u.vcpus.nr = m->u.vcpus.nr_vcpus = 8;
	for (unsigned i = 0; i < 8; i++)
		m->u.vcpus.cur_khz[i] = 1200000 + 100000 * i;

	samples[3].name = "policy (traffic)";
	m = &samples[3].m;
	vpwr_msg_init(m, VPWR_MSG_POLICY_SET, 12348, VPWR_VCPU_NONE);
	m->u.policy.kind = VPWR_POLICY_TRAFFIC;
	vpwr_cpuset_parse(&m->u.policy.vcpus, "0-3");
	m->u.policy.traffic_hours = 0xffffff;
	m->u.policy.min_pps = 1000;
	m->u.policy.avg_pps = 50000;
	m->u.policy.max_pps = 1000000;
	m->u.policy.nr_macs = 2;
	memcpy(m->u.policy.macs[0], "\x52\x54\x00\x12\x34\x56", 6);
	memcpy(m->u.policy.macs[1], "\x52\x54\x00\xab\xcd\xef", 6);
}

/* One measured operation, run `n` times. */
struct op {
	const struct vpwr_codec *c;
	const struct vpwr_msg *m;
	const uint8_t *frame;
	size_t len;
	int decode;
};

static double run(const struct op *op, unsigned long n)
{
	static uint8_t buf[FRAME_CAP];
	struct vpwr_msg out;
	struct vpwr_decode_error err;
	double t0 = now();
	int acc = 0;

	if (op->decode) {
		for (unsigned long i = 0; i < n; i++)
			acc += vpwr_codec_decode(op->c, op->frame, op->len,
						 &out, &err);
	} else {
		for (unsigned long i = 0; i < n; i++)
			acc += vpwr_codec_encode(op->c, op->m, buf, sizeof(buf));
	}
	sink += acc;
	return now() - t0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Nanoseconds per operation: the median of `repeats` calibrated runs. */
static double measure(const struct op *op)
{
	double per[16];
	unsigned long n = 1000;
	double t;

	if (fixed_iters)
		return run(op, fixed_iters) * 1e9 / (double)fixed_iters;
	run(op, n); /* warm the caches and the branch predictors */
	while ((t = run(op, n)) < cell_seconds / 10 && n < (1ul << 40))
		n *= 4;
	n = (unsigned long)((double)n * cell_seconds / (t > 0 ? t : 1e-9)) + 1;
	for (int r = 0; r < repeats; r++)
		per[r] = run(op, n) * 1e9 / (double)n;
	qsort(per, (size_t)repeats, sizeof(per[0]), cmp_double);
	return per[repeats / 2];
}

static int is_request(const struct vpwr_msg *m)
{
	return !(m->flags & (VPWR_MSG_F_REPLY | VPWR_MSG_F_NOTIFY));
}

/*
 * Who writes the frame `reader` decodes for this message: the codec
 * itself, except that a DPDK host reads what a DPDK guest writes and the
 * other way round.  NULL: this role never reads such a message.
 */
static const struct vpwr_codec *writer_for(const struct vpwr_codec *reader,
					   const struct vpwr_msg *m)
{
	if (reader == vpwr_codec_dpdk())
		return is_request(m) ? vpwr_codec_dpdk_guest() : NULL;
	if (reader == vpwr_codec_dpdk_guest())
		return is_request(m) ? NULL : vpwr_codec_dpdk();
	return reader;
}

static void print_cell(double ns)
{
	if (ns < 0)
		printf(" %9s %11s", "-", "-");
	else
		printf(" %9.1f %11.0f", ns, 1e9 / ns);
}

static int is_dpdk(const struct vpwr_codec *c)
{
	return c == vpwr_codec_dpdk() || c == vpwr_codec_dpdk_guest();
}

static int bench(const struct vpwr_codec *c, const struct sample *s)
{
	uint8_t frame[FRAME_CAP];
	struct vpwr_decode_error err;
	struct vpwr_msg back;
	const struct vpwr_codec *w = writer_for(c, &s->m);
	struct op op = { .c = c, .m = &s->m };
	double enc_ns = -1, dec_ns = -1;
	int n, len, rc;

	/* DPDK has no QUERY_FREQS: its host role would answer with a bare
	 * ACK, which is not the same work.  QUERY_VCPUS is its list. */
	if (is_dpdk(c) && s->m.type == VPWR_MSG_QUERY_FREQS)
		return 0;
	n = vpwr_codec_encode(c, &s->m, frame, sizeof(frame));
	if (n > 0)
		enc_ns = measure(&op);
	if (!w)
		len = -1;
	else if (w == c)
		len = n;
	else
		len = vpwr_codec_encode(w, &s->m, frame, sizeof(frame));
	if (len > 0) {
		rc = vpwr_codec_decode(c, frame, (size_t)len, &back, &err);
		if (rc) {
			fprintf(stderr, "bench_codec: %s: %s written by %s does "
				"not decode: %d (%s)\n", vpwr_codec_name(c),
				s->name, vpwr_codec_name(w), rc, err.text);
			return -1;
		}
		op.decode = 1;
		op.frame = frame;
		op.len = (size_t)len;
		dec_ns = measure(&op);
	}
	if (n <= 0 && len <= 0)
		return 0; /* nothing this codec does with this message */
	printf("%-11s %-18s", vpwr_codec_name(c), s->name);
	printf(" %5d", n > 0 ? n : len);
	print_cell(enc_ns);
	print_cell(dec_ns);
	printf("\n");
	fflush(stdout);
	return 0;
}

static void usage(const char *argv0)
{
	fprintf(stderr, "usage: %s [-c] [-n ITERATIONS] [-t SECONDS] "
		"[-r REPEATS]\n", argv0);
	exit(2);
}

int main(int argc, char **argv)
{
	const struct vpwr_codec *codecs[] = {
		vpwr_codec_native(), vpwr_codec_dpdk(),
		vpwr_codec_dpdk_guest(), vpwr_codec_json(),
	};
	int failed = 0;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-c")) {
			clock_id = CLOCK_THREAD_CPUTIME_ID;
			continue;
		}
		if (i + 1 >= argc)
			usage(argv[0]);
		if (!strcmp(argv[i], "-n"))
			fixed_iters = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "-t"))
			cell_seconds = strtod(argv[++i], NULL);
		else if (!strcmp(argv[i], "-r"))
			repeats = atoi(argv[++i]);
		else
			usage(argv[0]);
	}
	if (cell_seconds <= 0 || repeats < 1 || repeats > 16)
		usage(argv[0]);
	make_samples();
	printf("libvpwr %s codec benchmark (%s build), %s, %s\n",
	       vpwr_version_string(), VPWR_BENCH_BUILD_TYPE,
	       fixed_iters ? "fixed iterations" : "median of calibrated runs",
	       clock_id == CLOCK_MONOTONIC ? "wall clock" : "thread CPU time");
	printf("%-11s %-18s %5s %9s %11s %9s %11s\n", "codec", "message",
	       "bytes", "enc ns", "enc msg/s", "dec ns", "dec msg/s");
	for (size_t c = 0; c < sizeof(codecs) / sizeof(codecs[0]); c++)
		for (size_t s = 0; s < sizeof(samples) / sizeof(samples[0]); s++)
			if (bench(codecs[c], &samples[s]) < 0)
				failed = 1;
	return failed;
}
