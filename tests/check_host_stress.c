/*
 * The host under hostile input: a running host (sim backend, static
 * resolver, vpwr_host_run() in a thread, real unix sockets) receives a long
 * stream of random bytes and of mutated valid frames of every codec, over
 * many connections, some of them dropped in the middle of a frame.
 *
 * What must hold, and why these checks cannot be flaky:
 *
 *  - The host thread is still running afterwards and a fresh guest on the
 *    same socket gets correct answers.
 *
 *  - Mutated frames CAN be valid requests (flip the op of a SCALE from MIN
 *    to MAX and it is still a fine request), so "nothing changed" would be
 *    wrong.  Instead the test watches the host's own events, which it emits
 *    synchronously from its thread in a fixed order: every CPU change made
 *    while handling a frame is followed by that frame's REQUEST event.  So
 *    a CPU_CHANGED is only allowed when the REQUEST that follows was
 *    accepted (status 0), passes vpwr_msg_validate() and is of a type that
 *    may change a CPU; a refused request, a query, a HELLO or a frame that
 *    did not decode must never move one.  Changes after the CHANNEL_DOWN
 *    of the domain's last channel are its restore and must have no winner
 *    (the next stress request needs a new channel, whose CHANNEL_UP ends
 *    that phase).  This is exact: it does not depend on timing or on how
 *    the kernel splits the stream, only on the host's contract.
 *
 *  - The stress domain's vCPUs map to pCPUs 0-1 only: no other pCPU may
 *    change while the stress runs (a second domain, "probe", holds a wish
 *    on pCPU 2 through it all, and it must still hold afterwards).
 *
 *  - Once every stress connection is closed, the host restores what the
 *    domain asked for (its last channel closed), so pCPUs 0-1 must be
 *    exactly as before the stress (frequency, limits, turbo), unmanaged
 *    and without requests, whatever valid requests got through.
 *
 * Bounded: VPWR_STRESS_FRAMES frames (default 100000, under a second here) or
 * VPWR_STRESS_SECONDS seconds (default 5) of sending, whichever comes
 * first; tests/run-all.sh sets fewer frames under valgrind.
 * VPWR_STRESS_SEED picks another byte sequence.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "libvpwr/libvpwr.h"
#include "testutil.h"

#define NR_PCPUS 8
#define MAX_CONNS 6
#define MAX_TEMPLATES 32
#define FRAME_CAP 4096
#define PROBE_KHZ 1200000u

enum { C_NATIVE, C_JSON, C_DPDK, C_RANDOM, NR_KINDS };
static const char *const kind_names[NR_KINDS] = { "native", "json", "dpdk",
						   "random" };

static const char *pins =
	"{\"domains\": {"
	" \"stress\": {\"vcpus\": [\"0\", \"1\"]},"
	" \"probe\": {\"vcpus\": [\"2\", \"3\"]}}}";

/* ------------------------------------------------- the host's events */

/* Written by the host thread only; read by the test after the join or
 * through the atomics. */
static struct {
	atomic_int stress_up, stress_down;
	atomic_int stressing;       /* 1 while the stress runs */
	atomic_int violations;
	atomic_int host_returned;
	char first_violation[512];
	/* host thread only */
	int pending_changes;        /* CPU_CHANGED since the last REQUEST */
	int open_stress;            /* stress channels open */
	int closing;                /* the last stress channel just closed */
	unsigned accepted, refused, changes, restores;
} ev;

static void violation(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

static void violation(const char *fmt, ...)
{
	va_list ap;

	if (atomic_fetch_add(&ev.violations, 1) == 0) {
		va_start(ap, fmt);
		vsnprintf(ev.first_violation, sizeof(ev.first_violation), fmt, ap);
		va_end(ap);
	}
}

static int may_change_cpus(const struct vpwr_msg *req)
{
	switch (req->type) {
	case VPWR_MSG_SCALE:
	case VPWR_MSG_SET_FREQ:
	case VPWR_MSG_SET_RANGE:
	case VPWR_MSG_TURBO:
	case VPWR_MSG_SET_EPP:
	case VPWR_MSG_RELEASE:
	case VPWR_MSG_POLICY_SET:
	case VPWR_MSG_POLICY_REMOVE:
		return 1;
	default:
		return 0;
	}
}

static void on_request(const struct vpwr_host_event *e)
{
	char text[200] = "";

	ev.closing = 0;
	if (e->status == 0)
		ev.accepted++;
	else
		ev.refused++;
	if (!ev.pending_changes)
		return;
	if (e->request)
		vpwr_msg_format(e->request, text, sizeof(text));
	if (e->status != 0)
		violation("a refused request (status %d) changed %d pCPU(s): %s",
			  e->status, ev.pending_changes, text);
	else if (!e->request || vpwr_msg_validate(e->request, NULL) ||
		 (e->request->flags & (VPWR_MSG_F_REPLY | VPWR_MSG_F_NOTIFY)) ||
		 !may_change_cpus(e->request))
		violation("a request that may not change anything changed "
			  "%d pCPU(s): %s", ev.pending_changes, text);
	ev.pending_changes = 0;
}

static void on_event(const struct vpwr_host_event *e, void *ud)
{
	int stress = e->domain && !strcmp(e->domain, "stress");

	(void)ud;
	switch (e->type) {
	case VPWR_HOST_EV_CHANNEL_UP:
		ev.closing = 0;
		if (stress) {
			ev.open_stress++;
			atomic_fetch_add(&ev.stress_up, 1);
		}
		break;
	case VPWR_HOST_EV_CHANNEL_DOWN:
		if (ev.pending_changes)
			violation("%d pCPU change(s) not followed by their "
				  "request", ev.pending_changes);
		ev.pending_changes = 0;
		/* Only the domain's last channel takes its wishes along. */
		ev.closing = stress && --ev.open_stress == 0;
		if (stress)
			atomic_fetch_add(&ev.stress_down, 1);
		break;
	case VPWR_HOST_EV_REQUEST:
		on_request(e);
		break;
	case VPWR_HOST_EV_CPU_CHANGED:
		if (!atomic_load(&ev.stressing))
			break;
		if (e->pcpu > 1)
			violation("pCPU %u, outside the stress domain, changed "
				  "(%u -> %u kHz, winner %s)", e->pcpu,
				  e->old_khz, e->new_khz,
				  e->winner ? e->winner : "none");
		if (ev.closing) {
			ev.restores++;
			if (e->winner)
				violation("closing the last stress channel left "
					  "pCPU %u to %s", e->pcpu, e->winner);
		} else {
			ev.changes++;
			ev.pending_changes++;
		}
		break;
	}
}

/* ---------------------------------------------------------- fixture */

static char *dir;
static char sock[512], probe_sock[512];
static struct vpwr_backend *b;
static struct vpwr_resolver *r;
static struct vpwr_host *h;
static pthread_t host_thread;

struct cpu_snap {
	uint32_t khz, lo, hi;
	int turbo;
};

static void *serve(void *arg)
{
	(void)arg;
	vpwr_host_run(h);
	atomic_store(&ev.host_returned, 1);
	return NULL;
}

static void snap(unsigned cpu, struct cpu_snap *s)
{
	ck_assert_int_eq(vpwr_backend_get_freq(b, cpu, &s->khz), 0);
	ck_assert_int_eq(vpwr_backend_get_limits(b, cpu, &s->lo, &s->hi), 0);
	s->turbo = vpwr_backend_get_turbo(b, cpu);
}

static unsigned long env_ulong(const char *name, unsigned long dflt)
{
	const char *v = getenv(name);
	char *end;
	unsigned long n;

	if (!v || !*v)
		return dflt;
	n = strtoul(v, &end, 0);
	return *end ? dflt : n;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ------------------------------------------------- what gets sent */

static uint32_t rng_state;

static uint32_t rnd(void)
{
	uint32_t x = rng_state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return rng_state = x;
}

struct frame {
	uint8_t b[FRAME_CAP];
	size_t len;
};

/* Valid encodings of valid requests, per codec kind. */
static struct frame templates[NR_KINDS][MAX_TEMPLATES];
static unsigned nr_templates[NR_KINDS];

static const struct vpwr_codec *writer(int kind)
{
	return kind == C_NATIVE ? vpwr_codec_native()
	     : kind == C_JSON ? vpwr_codec_json()
	     : vpwr_codec_dpdk_guest(); /* requests, as a DPDK guest writes */
}

static const struct vpwr_codec *reader(int kind)
{
	return kind == C_NATIVE ? vpwr_codec_native()
	     : kind == C_JSON ? vpwr_codec_json() : vpwr_codec_dpdk();
}

static void add_template(const struct vpwr_msg *m)
{
	for (int k = C_NATIVE; k <= C_DPDK; k++) {
		struct frame *f = &templates[k][nr_templates[k]];
		int n = vpwr_codec_encode(writer(k), m, f->b, sizeof(f->b));

		if (n > 0 && nr_templates[k] < MAX_TEMPLATES) {
			f->len = (size_t)n;
			nr_templates[k]++;
		}
	}
}

static void make_templates(void)
{
	struct vpwr_msg m;

	for (unsigned op = VPWR_SCALE_UP; op <= VPWR_SCALE_MEDIUM; op++) {
		vpwr_msg_init(&m, VPWR_MSG_SCALE, op, op % 2);
		m.u.scale.op = op;
		add_template(&m);
	}
	vpwr_msg_init(&m, VPWR_MSG_SCALE, 6, 5); /* not the domain's vCPU */
	m.u.scale.op = VPWR_SCALE_MAX;
	add_template(&m);
	vpwr_msg_init(&m, VPWR_MSG_SET_FREQ, 7, 0);
	m.u.freq.khz = 2000000;
	add_template(&m);
	vpwr_msg_init(&m, VPWR_MSG_SET_RANGE, 8, 1);
	m.u.range.min_khz = 1000000;
	m.u.range.max_khz = 1800000;
	add_template(&m);
	vpwr_msg_init(&m, VPWR_MSG_TURBO, 9, 1);
	add_template(&m);
	vpwr_msg_init(&m, VPWR_MSG_SET_EPP, 10, 0);
	m.u.epp.hint = 128;
	add_template(&m);
	vpwr_msg_init(&m, VPWR_MSG_HELLO, 11, VPWR_VCPU_NONE);
	m.u.hello.version_min = m.u.hello.version_max = 1;
	add_template(&m);
	vpwr_msg_init(&m, VPWR_MSG_QUERY_FREQS, 12, 0);
	add_template(&m);
	vpwr_msg_init(&m, VPWR_MSG_QUERY_STATE, 13, 1);
	add_template(&m);
	vpwr_msg_init(&m, VPWR_MSG_QUERY_CAPS, 14, VPWR_VCPU_NONE);
	add_template(&m);
	vpwr_msg_init(&m, VPWR_MSG_RELEASE, 15, VPWR_VCPU_NONE);
	add_template(&m);
	vpwr_msg_init(&m, VPWR_MSG_POLICY_SET, 16, VPWR_VCPU_NONE);
	m.u.policy.kind = VPWR_POLICY_WORKLOAD;
	m.u.policy.workload = VPWR_WORKLOAD_HIGH;
	vpwr_cpuset_set(&m.u.policy.vcpus, 0);
	add_template(&m);
	vpwr_msg_init(&m, VPWR_MSG_POLICY_REMOVE, 17, VPWR_VCPU_NONE);
	add_template(&m);
}

static void mutate(struct frame *f)
{
	static const uint8_t magic[] = { 0, 0xff, 0x7f, 0x80, '\n', '{', '}',
					 '"', ':', ',', '0', '9', ' ' };
	unsigned k = 1 + rnd() % 4;

	while (k--) {
		size_t pos = f->len ? rnd() % f->len : 0;

		switch (rnd() % 6) {
		case 0:
			if (f->len)
				f->b[pos] ^= (uint8_t)(1u << (rnd() % 8));
			break;
		case 1:
			if (f->len)
				f->b[pos] = magic[rnd() % sizeof(magic)];
			break;
		case 2:
			if (f->len < sizeof(f->b)) {
				memmove(f->b + pos + 1, f->b + pos, f->len - pos);
				f->b[pos] = (uint8_t)rnd();
				f->len++;
			}
			break;
		case 3:
			if (f->len > 1) {
				memmove(f->b + pos, f->b + pos + 1, f->len - pos - 1);
				f->len--;
			}
			break;
		case 4:
			if (f->len > 1)
				f->len = 1 + rnd() % f->len;
			break;
		default:
			if (f->len >= 4) {
				uint32_t v = rnd() % 3 ? rnd() : rnd() % 8192;

				pos = rnd() % (f->len - 3);
				memcpy(f->b + pos, &v, 4);
			}
			break;
		}
	}
}

/* The next thing a connection of `kind` sends. */
static void next_frame(int kind, struct frame *f, int first)
{
	unsigned roll = rnd() % 16;

	if (kind == C_RANDOM || (!first && roll == 0)) {
		f->len = 1 + rnd() % 600;
		for (size_t i = 0; i < f->len; i++)
			f->b[i] = (uint8_t)rnd();
		return;
	}
	*f = templates[kind][rnd() % nr_templates[kind]];
	/* The first frame stays valid so that the host detects the codec. */
	if (!first && roll > 3)
		mutate(f);
}

/* ------------------------------------------------------ connections */

struct conn {
	int fd;
	int kind;
	unsigned left;       /* frames before it closes */
	int halfway;         /* closes in the middle of its last frame */
};

static struct {
	unsigned long frames, bytes, connects, halfway, reset_by_host;
	unsigned long valid_requests[NR_KINDS], sent[NR_KINDS];
} st;

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	ck_assert_int_ge(fd, 0);
	ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* The backlog may be full for a moment while the host catches up. */
	for (int tries = 0; connect(fd, (struct sockaddr *)&sa, sizeof(sa)); tries++) {
		ck_assert_msg(errno == EAGAIN && tries < 500, "connect: %s",
			      strerror(errno));
		usleep(10000);
	}
	return fd;
}


static void drain(int fd)
{
	static uint8_t sink[65536];

	while (recv(fd, sink, sizeof(sink), MSG_DONTWAIT) > 0)
		;
}

/* Send all of it; 0, or -1 when the host has reset the connection. */
static int send_all(struct conn *c, const uint8_t *p, size_t n)
{
	double give_up = now() + 2.0;

	while (n) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);

		if (w > 0) {
			p += w;
			n -= (size_t)w;
			continue;
		}
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			return -1; /* EPIPE, ECONNRESET: the host reset it */
		drain(c->fd);
		if (now() > give_up)
			return -1;
		poll(&(struct pollfd){ .fd = c->fd, .events = POLLOUT }, 1, 20);
	}
	drain(c->fd);
	return 0;
}

/* Decode what was sent the way the host would, for the statistics. */
static void count_valid(int kind, const struct frame *f)
{
	struct vpwr_msg m;

	st.sent[kind]++;
	if (kind == C_RANDOM)
		return;
	if (vpwr_codec_frame_len(reader(kind), f->b, f->len, NULL) ==
		    (int)f->len &&
	    vpwr_codec_decode(reader(kind), f->b, f->len, &m, NULL) == 0 &&
	    !(m.flags & (VPWR_MSG_F_REPLY | VPWR_MSG_F_NOTIFY)) &&
	    vpwr_msg_validate(&m, NULL) == 0)
		st.valid_requests[kind]++;
}

/* Send one frame; -1 when the host has reset the connection. */
static int conn_send(struct conn *c, const struct frame *f)
{
	count_valid(c->kind, f);
	st.frames++;
	st.bytes += f->len;
	if (send_all(c, f->b, f->len) == 0)
		return 0;
	st.reset_by_host++;
	return -1;
}

/*
 * A new connection of a random kind.  It starts with a valid frame of its
 * codec, so that the host detects the codec it will then be fed garbage
 * of; a reset that early just leaves a closed connection for the next step.
 */
static void conn_open(struct conn *c)
{
	struct frame f;

	c->fd = connect_to(sock);
	c->kind = (int)(rnd() % NR_KINDS);
	if (!nr_templates[c->kind])
		c->kind = C_RANDOM; /* a codec that cannot encode anything */
	c->left = 1 + rnd() % 100;
	c->halfway = rnd() % 3 == 0;
	st.connects++;
	if (c->kind != C_RANDOM) {
		next_frame(c->kind, &f, 1);
		if (conn_send(c, &f) < 0)
			c->left = 0;
	}
}

/*
 * Let the host read everything that was sent before the connection goes:
 * closing a unix socket with unread replies makes the host's next read
 * fail with ECONNRESET and drops what it had not read yet.
 */
static void conn_close_gracefully(struct conn *c)
{
	static uint8_t sink[65536];
	double give_up = now() + 2.0;

	shutdown(c->fd, SHUT_WR);
	while (now() < give_up) {
		ssize_t n = recv(c->fd, sink, sizeof(sink), MSG_DONTWAIT);

		if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			break;
		if (n < 0)
			poll(&(struct pollfd){ .fd = c->fd, .events = POLLIN }, 1, 50);
	}
	close(c->fd);
}

/* One step of connection c: a frame, or its end. */
static void conn_step(struct conn *c)
{
	struct frame f;

	next_frame(c->kind, &f, 0);
	if (c->left == 0) {
		if (c->halfway && f.len > 1) {
			(void)send_all(c, f.b, f.len / 2);
			st.halfway++;
			close(c->fd); /* abrupt: unread replies reset the host's end */
		} else {
			conn_close_gracefully(c);
		}
		conn_open(c);
		return;
	}
	c->left--;
	if (conn_send(c, &f) < 0) {
		close(c->fd);
		conn_open(c);
	}
}

static void run_stress(unsigned long max_frames, double seconds)
{
	struct conn conns[MAX_CONNS];
	double end = now() + seconds;

	for (int i = 0; i < MAX_CONNS; i++)
		conn_open(&conns[i]);
	while (st.frames < max_frames && now() < end)
		conn_step(&conns[rnd() % MAX_CONNS]);
	for (int i = 0; i < MAX_CONNS; i++)
		conn_close_gracefully(&conns[i]);
}

/* ------------------------------------------------------------- test */

static void wait_for_downs(int expected)
{
	double end = now() + 20.0;

	while (atomic_load(&ev.stress_down) < expected && now() < end)
		usleep(5000);
	ck_assert_msg(atomic_load(&ev.stress_down) == expected,
		      "%d of %d stress channels closed by the host",
		      atomic_load(&ev.stress_down), expected);
}

START_TEST(host_survives_hostile_input)
{
	struct cpu_snap before[NR_PCPUS], after;
	struct vpwr_host_cpu_info info;
	struct vpwr_guest *probe, *fresh;
	struct vpwr_vcpu_state vs;
	struct vpwr_hello hi;
	char uri[600];
	uint32_t tbl[64];
	int nfreqs;
	unsigned long max_frames = env_ulong("VPWR_STRESS_FRAMES", 100000);
	double seconds = (double)env_ulong("VPWR_STRESS_SECONDS", 5);
	VPWR_OPTS(vpwr_sim_opts, sim, .nr_cpus = NR_PCPUS);
	VPWR_OPTS(vpwr_backend_opts, bo, .sim = &sim);
	VPWR_OPTS(vpwr_host_opts, ho, .event_fn = on_event);
	VPWR_OPTS(vpwr_guest_opts, go, .timeout_ms = 10000);

	rng_state = (uint32_t)env_ulong("VPWR_STRESS_SEED", 0x5eed1234u) | 1;
	make_templates();
	ck_assert_uint_gt(nr_templates[C_NATIVE], 10);

	dir = vpwr_test_tmpdir();
	vpwr_test_write_file(dir, "pins.json", pins);
	snprintf(uri, sizeof(uri), "static:%s/pins.json", dir);
	snprintf(sock, sizeof(sock), "%s/stress.sock", dir);
	snprintf(probe_sock, sizeof(probe_sock), "%s/probe.sock", dir);
	ck_assert_int_eq(vpwr_backend_open("sim", &bo, &b), 0);
	ck_assert_int_eq(vpwr_resolver_open(uri, NULL, &r), 0);
	ho.backend = b;
	ho.resolver = r;
	ck_assert_int_eq(vpwr_host_new(&ho, &h), 0);
	for (unsigned c = 0; c < NR_PCPUS; c++)
		snap(c, &before[c]);
	nfreqs = vpwr_backend_get_freqs(b, 1, tbl, 64);
	ck_assert_int_gt(nfreqs, 1);
	snprintf(uri, sizeof(uri), "unix-listen:%s", sock);
	ck_assert_int_eq(vpwr_host_listen(h, "stress", uri), 0);
	snprintf(uri, sizeof(uri), "unix-listen:%s", probe_sock);
	ck_assert_int_eq(vpwr_host_listen(h, "probe", uri), 0);
	ck_assert_int_eq(pthread_create(&host_thread, NULL, serve, NULL), 0);

	/* A bystander with a wish on pCPU 2 that must outlive the stress. */
	snprintf(uri, sizeof(uri), "unix:%s", probe_sock);
	ck_assert_int_eq(vpwr_guest_open(uri, &go, &probe), 0);
	ck_assert_int_eq(vpwr_guest_set_freq(probe, 0, PROBE_KHZ), 0);

	atomic_store(&ev.stressing, 1);
	run_stress(max_frames, seconds);
	wait_for_downs((int)st.connects);
	ck_assert_int_eq(atomic_load(&ev.stress_up), (int)st.connects);

	printf("stress: %lu frames (%lu bytes) over %lu connections, %lu "
	       "dropped halfway, %lu reset by the host\n", st.frames, st.bytes,
	       st.connects, st.halfway, st.reset_by_host);
	for (int k = 0; k < NR_KINDS; k++)
		printf("stress: %-6s %6lu frames sent, %5lu of them valid "
		       "requests\n", kind_names[k], st.sent[k],
		       st.valid_requests[k]);
	fflush(stdout);

	/* The host still runs and answers a fresh guest correctly. */
	ck_assert_int_eq(atomic_load(&ev.host_returned), 0);
	snprintf(uri, sizeof(uri), "unix:%s", sock);
	ck_assert_int_eq(vpwr_guest_open(uri, &go, &fresh), 0);
	ck_assert_int_eq(vpwr_guest_hello(fresh, &hi), 0);
	ck_assert_uint_eq(hi.nr_vcpus, 2);
	ck_assert_int_eq(vpwr_guest_scale(fresh, 1, VPWR_SCALE_MIN), 0);
	ck_assert_int_eq(vpwr_guest_query_state(fresh, 1, &vs), 0);
	ck_assert_uint_eq(vs.cur_khz, tbl[0]);
	ck_assert_int_eq(vpwr_guest_scale(fresh, 7, VPWR_SCALE_MIN),
			 -VPWR_E_VCPU_RANGE);
	vpwr_guest_free(fresh);
	wait_for_downs((int)st.connects + 1);
	ck_assert_int_eq(vpwr_guest_query_state(probe, 0, &vs), 0);
	ck_assert_uint_eq(vs.cur_khz, PROBE_KHZ);

	vpwr_host_stop(h);
	pthread_join(host_thread, NULL);
	atomic_store(&ev.stressing, 0);

	printf("stress: host saw %u accepted and %u refused frames, "
	       "%u pCPU changes, %u restores\n", ev.accepted, ev.refused,
	       ev.changes, ev.restores);
	ck_assert_msg(atomic_load(&ev.violations) == 0, "%d violation(s), first: %s",
		      atomic_load(&ev.violations), ev.first_violation);
	/* Every stress channel is gone: pCPUs 0-1 are as they were. */
	for (unsigned c = 0; c < NR_PCPUS; c++) {
		snap(c, &after);
		if (c == 2) {
			ck_assert_uint_eq(after.khz, PROBE_KHZ);
			continue;
		}
		ck_assert_msg(after.khz == before[c].khz &&
			      after.lo == before[c].lo &&
			      after.hi == before[c].hi &&
			      after.turbo == before[c].turbo,
			      "pCPU %u: %u kHz [%u, %u] turbo %d, was %u kHz "
			      "[%u, %u] turbo %d", c, after.khz, after.lo,
			      after.hi, after.turbo, before[c].khz,
			      before[c].lo, before[c].hi, before[c].turbo);
		if (c < 2) {
			ck_assert_int_eq(vpwr_host_cpu_info(h, c, &info), 0);
			ck_assert_uint_eq(info.managed, 0);
			ck_assert_uint_eq(info.nr_requests, 0);
		}
	}

	vpwr_guest_free(probe);
	vpwr_host_free(h);
	vpwr_resolver_free(r);
	vpwr_backend_free(b);
	vpwr_test_rmtree(dir);
	free(dir);
}
END_TEST

static Suite *stress_suite(void)
{
	Suite *s = suite_create("host_stress");
	TCase *tc = tcase_create("hostile input");

	tcase_add_test(tc, host_survives_hostile_input);
	tcase_set_timeout(tc, 90);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(stress_suite());
}
