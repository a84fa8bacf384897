/* SPDX-License-Identifier: MIT */
/*
 * What the client of the transport benchmark does, and how it is timed:
 * the two workloads, closed-loop requests (one CLOCK_MONOTONIC sample per
 * request) and pipelined requests on one channel.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench_transport.h"

#define RX_CAP (256 * 1024)

/* ----------------------------------------------------------- workloads */

struct workload workloads[NR_WORKLOADS] = {
	[WL_QUERY] = { .name = "query_state" },
	[WL_SCALE] = { .name = "scale" },
};

/* Request number i of a workload (scale: max, min, max, ...). */
void make_request(int wl, unsigned long i, uint32_t seq, struct vpwr_msg *m)
{
	if (wl == WL_QUERY) {
		vpwr_msg_init(m, VPWR_MSG_QUERY_STATE, seq, 0);
	} else {
		vpwr_msg_init(m, VPWR_MSG_SCALE, seq, 0);
		m->u.scale.op = i % 2 ? VPWR_SCALE_MIN : VPWR_SCALE_MAX;
	}
}

/* ---------------------------------------------------------- measuring */

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static void summarise(uint64_t *lat, unsigned long n, uint64_t elapsed,
		      uint64_t cpu, struct result *r)
{
	double sum = 0;

	qsort(lat, n, sizeof(*lat), cmp_u64);
	for (unsigned long i = 0; i < n; i++)
		sum += (double)lat[i];
	r->p50 = (double)lat[n / 2];
	r->p99 = (double)lat[(n * 99 + 99) / 100 - 1]; /* nearest rank */
	r->mean = sum / (double)n;
	r->rate = (double)n * 1e9 / (double)elapsed;
	r->cli_cpu = (double)cpu / (double)n;
}

/* Raw closed loop on a blocking fd: write a request, read its reply. */
int raw_closed(int fd, const struct workload *wl, struct result *r)
{
	uint64_t *lat = malloc(n_closed * sizeof(*lat)), t0 = 0, prev = 0, c0 = 0;
	uint8_t buf[256];
	int rc = 0;

	if (!lat)
		return -ENOMEM;
	for (unsigned long i = 0; i < n_warm + n_closed && !rc; i++) {
		if (i == n_warm) {
			c0 = thread_cpu_ns();
			t0 = prev = now_ns();
		}
		rc = write_all(fd, wl->req[i % 2], wl->req_len);
		if (!rc)
			rc = read_all(fd, buf, wl->rep_len);
		if (i >= n_warm) {
			uint64_t t = now_ns();

			lat[i - n_warm] = t - prev;
			prev = t;
		}
	}
	if (!rc)
		summarise(lat, n_closed, prev - t0, thread_cpu_ns() - c0, r);
	free(lat);
	return rc;
}

/* One libvpwr request through the guest client. */
static int guest_call(struct vpwr_guest *g, int wl, unsigned long i)
{
	struct vpwr_vcpu_state st;

	if (wl == WL_QUERY)
		return vpwr_guest_query_state(g, 0, &st);
	return vpwr_guest_scale(g, 0, i % 2 ? VPWR_SCALE_MIN : VPWR_SCALE_MAX);
}

int lib_closed(struct vpwr_guest *g, int wl, struct result *r)
{
	uint64_t *lat = malloc(n_closed * sizeof(*lat)), t0 = 0, prev = 0, c0 = 0;
	int rc = 0;

	if (!lat)
		return -ENOMEM;
	for (unsigned long i = 0; i < n_warm + n_closed && !rc; i++) {
		if (i == n_warm) {
			c0 = thread_cpu_ns();
			t0 = prev = now_ns();
		}
		rc = guest_call(g, wl, i);
		if (i >= n_warm) {
			uint64_t t = now_ns();

			lat[i - n_warm] = t - prev;
			prev = t;
		}
	}
	if (rc)
		fprintf(stderr, "bench_transport: request failed: %s (%s)\n",
			vpwr_strerror(rc), vpwr_guest_last_reason(g));
	else
		summarise(lat, n_closed, prev - t0, thread_cpu_ns() - c0, r);
	free(lat);
	return rc;
}

/*
 * Pipelined: `n` pre-encoded requests written as fast as the channel
 * takes them, at most `window` unanswered, replies read and decoded in the
 * same loop.  `check_seq`: replies must come in order, seq first_seq + i
 * (the raw server answers every request with the same frame).
 */
static int pipeline(struct vpwr_channel *ch, int wl, unsigned long n,
		    uint32_t first_seq, int check_seq, uint64_t *elapsed,
		    uint64_t *cpu)
{
	const struct vpwr_codec *c = vpwr_codec_native();
	size_t len = workloads[wl].req_len, sent = 0, total = n * len;
	size_t rxlen = 0;
	uint8_t *tx = malloc(total), *rx = malloc(RX_CAP);
	unsigned long got = 0;
	uint64_t t0, c0;
	int rc = 0;

	if (!tx || !rx) {
		rc = -ENOMEM;
		goto out;
	}
	for (unsigned long i = 0; i < n && rc >= 0; i++) {
		struct vpwr_msg m;

		make_request(wl, i, first_seq + (uint32_t)i, &m);
		rc = vpwr_codec_encode(c, &m, tx + i * len, len);
		if (rc >= 0 && (size_t)rc != len)
			rc = -EINVAL;
	}
	if (rc < 0)
		goto out;
	rc = 0;
	c0 = thread_cpu_ns();
	t0 = now_ns();
	while (got < n && !rc) {
		size_t limit = window ? (got + window) * len : total;
		int progress = 0;
		ssize_t k;

		if (limit > total)
			limit = total;
		if (sent < limit) {
			k = vpwr_channel_write(ch, tx + sent, limit - sent);
			if (k > 0) {
				sent += (size_t)k;
				progress = 1;
			} else if (k != -EAGAIN) {
				rc = (int)k;
				break;
			}
		}
		k = vpwr_channel_read(ch, rx + rxlen, RX_CAP - rxlen);
		if (k > 0) {
			size_t off = 0;
			int flen;

			rxlen += (size_t)k;
			progress = 1;
			while ((flen = vpwr_codec_frame_len(c, rx + off,
							    rxlen - off,
							    NULL)) > 0) {
				struct vpwr_msg m;

				rc = vpwr_codec_decode(c, rx + off,
						       (size_t)flen, &m, NULL);
				if (!rc && m.status)
					rc = m.status;
				if (!rc && check_seq &&
				    m.seq != first_seq + (uint32_t)got)
					rc = -EBADMSG;
				if (rc)
					break;
				off += (size_t)flen;
				got++;
			}
			if (flen < 0)
				rc = flen;
			memmove(rx, rx + off, rxlen - off);
			rxlen -= off;
		} else if (k == 0) {
			rc = -VPWR_E_CLOSED;
		} else if (k != -EAGAIN) {
			rc = (int)k;
		}
		if (!progress && !rc) {
			struct pollfd p = { .fd = vpwr_channel_fd(ch),
					    .events = POLLIN };

			if (sent < limit)
				p.events |= POLLOUT;
			if (poll(&p, 1, 5000) == 0)
				rc = -ETIMEDOUT;
		}
	}
	*elapsed = now_ns() - t0;
	*cpu = thread_cpu_ns() - c0;
	if (rc)
		fprintf(stderr, "bench_transport: pipelined %s: %s after %lu "
			"of %lu replies\n", workloads[wl].name,
			vpwr_strerror(rc), got, n);
out:
	free(tx);
	free(rx);
	return rc;
}

int pipe_run(struct vpwr_channel *ch, int wl, int check_seq,
	     struct result *r)
{
	uint64_t t, cpu;
	unsigned long warm = n_warm < n_pipe ? n_warm : n_pipe;
	int rc = warm ? pipeline(ch, wl, warm, 1, check_seq, &t, &cpu) : 0;

	if (!rc)
		rc = pipeline(ch, wl, n_pipe, 1 + (uint32_t)warm, check_seq,
			      &t, &cpu);
	if (!rc) {
		r->rate = (double)n_pipe * 1e9 / (double)t;
		r->cli_cpu = (double)cpu / (double)n_pipe;
	}
	return rc;
}
