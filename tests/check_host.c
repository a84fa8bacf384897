/*
 * The host engine: identity and pinning checks, arbitration modes, operator
 * bounds, apply-on-change, restore, and the channel path with bad input.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "libvpwr/libvpwr.h"
#include "testutil.h"

/* pCPU layout (8 simulated CPUs):
 *   vm1: vCPU0 -> 0, vCPU1 -> 1 (shared with vm2), vCPU2 floats over 4-5
 *   vm2: vCPU0 -> 2, vCPU1 -> 1, vCPU2 -> 3
 *   vm3: vCPU0 floats over 6-7, which vm4 also uses
 *   vm4: vCPU0 -> 7, vCPU1 -> 9 (a CPU the backend does not have) */
static const char *pins =
	"{\"domains\": {"
	" \"vm1\": {\"vcpus\": [\"0\", \"1\", \"4-5\"]},"
	" \"vm2\": {\"vcpus\": [\"2\", \"1\", \"3\"]},"
	" \"vm3\": {\"vcpus\": [\"6-7\"]},"
	" \"vm4\": {\"vcpus\": [\"7\", \"9\"]}}}";

static char *dir;
static struct vpwr_backend *b;
static struct vpwr_resolver *r;
static struct vpwr_host *h;
static int cpu_events;

static void count_events(const struct vpwr_host_event *ev, void *ud)
{
	(void)ud;
	if (ev->type == VPWR_HOST_EV_CPU_CHANGED)
		cpu_events++;
}

static struct vpwr_test_host th;

static void start(unsigned mode, unsigned allow_shared)
{
	VPWR_OPTS(vpwr_host_opts, ho, .mode = mode,
		  .allow_shared = allow_shared, .event_fn = count_events);

	vpwr_test_host_open(&th, pins, 8, &ho);
	dir = th.dir;
	b = th.b;
	r = th.r;
	h = th.h;
	cpu_events = 0;
}

static void setup(void) { start(VPWR_ARB_PERFORMANCE, 0); }

static void teardown(void)
{
	th.h = h; /* a test may have freed it already */
	vpwr_test_host_close(&th);
	h = NULL;
}

static uint32_t freq_of(unsigned cpu)
{
	uint32_t khz = 0;
	ck_assert_int_eq(vpwr_backend_get_freq(b, cpu, &khz), 0);
	return khz;
}

static uint32_t table_edge(unsigned cpu, int top)
{
	uint32_t t[64];
	int n = vpwr_backend_get_freqs(b, cpu, t, 64);
	ck_assert_int_gt(n, 1);
	return top ? t[n - 1] : t[0];
}

static int ask(const char *dom, unsigned type, unsigned vcpu, uint32_t a,
	       uint32_t bb, struct vpwr_msg *reply)
{
	struct vpwr_msg req, tmp;

	vpwr_msg_init(&req, type, 7, vcpu);
	switch (type) {
	case VPWR_MSG_SCALE: req.u.scale.op = a; break;
	case VPWR_MSG_SET_FREQ: req.u.freq.khz = a; break;
	case VPWR_MSG_SET_RANGE:
		req.u.range.min_khz = a;
		req.u.range.max_khz = bb;
		break;
	case VPWR_MSG_TURBO: req.u.turbo.enable = a; break;
	case VPWR_MSG_SET_EPP: req.u.epp.hint = a; break;
	case VPWR_MSG_HELLO:
		req.u.hello.version_min = a;
		req.u.hello.version_max = bb;
		break;
	default: break;
	}
	return vpwr_host_handle(h, dom, &req, reply ? reply : &tmp);
}

START_TEST(scale_moves_only_the_pinned_cpu)
{
	struct vpwr_msg reply;
	uint32_t before[8];

	for (unsigned c = 0; c < 8; c++)
		before[c] = freq_of(c);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SCALE, 0, VPWR_SCALE_MIN, 0, &reply), 0);
	ck_assert_int_eq(reply.flags & VPWR_MSG_F_REPLY, VPWR_MSG_F_REPLY);
	ck_assert_uint_eq(reply.seq, 7);
	ck_assert_uint_eq(freq_of(0), table_edge(0, 0));
	ck_assert_uint_eq(reply.u.state.cur_khz, table_edge(0, 0));
	for (unsigned c = 1; c < 8; c++)
		ck_assert_uint_eq(freq_of(c), before[c]);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SCALE, 0, VPWR_SCALE_MAX, 0, NULL), 0);
	ck_assert_uint_eq(freq_of(0), table_edge(0, 1));
}
END_TEST

START_TEST(scale_up_and_down_step_through_the_table)
{
	uint32_t t[64];
	int n = vpwr_backend_get_freqs(b, 0, t, 64);

	ck_assert_int_eq(ask("vm1", VPWR_MSG_SCALE, 0, VPWR_SCALE_MIN, 0, NULL), 0);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SCALE, 0, VPWR_SCALE_UP, 0, NULL), 0);
	ck_assert_uint_eq(freq_of(0), t[1]);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SCALE, 0, VPWR_SCALE_UP, 0, NULL), 0);
	ck_assert_uint_eq(freq_of(0), t[2]);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SCALE, 0, VPWR_SCALE_DOWN, 0, NULL), 0);
	ck_assert_uint_eq(freq_of(0), t[1]);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SCALE, 0, VPWR_SCALE_MEDIUM, 0, NULL), 0);
	ck_assert_uint_eq(freq_of(0), t[(n - 1) / 2]);
}
END_TEST

START_TEST(refusals_change_nothing)
{
	struct vpwr_msg reply;
	uint32_t before[8];

	for (unsigned c = 0; c < 8; c++)
		before[c] = freq_of(c);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SCALE, 3, VPWR_SCALE_MIN, 0, &reply),
			 -VPWR_E_VCPU_RANGE);
	ck_assert_ptr_nonnull(strstr(reply.reason, "out of range"));
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SCALE, VPWR_VCPU_NONE,
			     VPWR_SCALE_MIN, 0, NULL), -VPWR_E_PROTO);
	ck_assert_int_eq(ask("nosuch", VPWR_MSG_SCALE, 0, VPWR_SCALE_MIN, 0, &reply),
			 -VPWR_E_NO_DOMAIN);
	ck_assert_int_eq(ask("vm4", VPWR_MSG_SCALE, 1, VPWR_SCALE_MIN, 0, &reply),
			 -VPWR_E_NOT_PINNED);
	ck_assert_ptr_nonnull(strstr(reply.reason, "pCPU 9"));
	ck_assert_int_eq(ask("vm3", VPWR_MSG_SCALE, 0, VPWR_SCALE_MIN, 0, &reply),
			 -VPWR_E_SHARED_CPU);
	ck_assert_ptr_nonnull(strstr(reply.reason, "vm4"));
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SET_FREQ, 0, 100, 0, NULL),
			 -VPWR_E_BAD_FREQ);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SET_RANGE, 0, 800000, 9000000, NULL),
			 -VPWR_E_BAD_FREQ);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SET_RANGE, 0, 2000000, 1000000, NULL),
			 -VPWR_E_PROTO);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SCALE, 0, 42, 0, NULL), -VPWR_E_PROTO);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SET_EPP, 0, 256, 0, &reply),
			 -VPWR_E_PROTO);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_POLICY_REMOVE, 0, 0, 0, &reply),
			 -ENOENT);
	ck_assert_str_eq(reply.reason, "no policy to remove");
	for (unsigned c = 0; c < 8; c++)
		ck_assert_uint_eq(freq_of(c), before[c]);
	ck_assert_int_eq(cpu_events, 0);
}
END_TEST

START_TEST(floating_vcpu_owned_alone_moves_all_its_cpus)
{
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SCALE, 2, VPWR_SCALE_MIN, 0, NULL), 0);
	ck_assert_uint_eq(freq_of(4), table_edge(4, 0));
	ck_assert_uint_eq(freq_of(5), table_edge(5, 0));
}
END_TEST

START_TEST(performance_mode_highest_wins)
{
	struct vpwr_host_cpu_info info;
	struct vpwr_msg reply;
	uint32_t orig = freq_of(1);

	ck_assert_int_eq(ask("vm1", VPWR_MSG_SCALE, 1, VPWR_SCALE_MIN, 0, NULL), 0);
	ck_assert_uint_eq(freq_of(1), table_edge(1, 0));
	ck_assert_int_eq(ask("vm2", VPWR_MSG_SET_FREQ, 1, 2000000, 0, NULL), 0);
	ck_assert_uint_eq(freq_of(1), 2000000);
	ck_assert_int_eq(vpwr_host_cpu_info(h, 1, &info), 0);
	ck_assert_str_eq(info.winner, "vm2");
	ck_assert_uint_eq(info.nr_requests, 2);
	/* vm1 sees that it lost. */
	ck_assert_int_eq(ask("vm1", VPWR_MSG_QUERY_STATE, 1, 0, 0, &reply), 0);
	ck_assert_uint_eq(reply.u.state.cur_khz, 2000000);
	ck_assert_uint_eq(reply.u.state.req_max_khz, table_edge(1, 0));
	ck_assert_uint_eq(reply.u.state.clamped, 1);
	/* vm2 lets go: vm1's wish takes over; vm1 lets go: restored. */
	ck_assert_int_eq(ask("vm2", VPWR_MSG_RELEASE, VPWR_VCPU_NONE, 0, 0, NULL), 0);
	ck_assert_uint_eq(freq_of(1), table_edge(1, 0));
	ck_assert_int_eq(ask("vm1", VPWR_MSG_RELEASE, VPWR_VCPU_NONE, 0, 0, NULL), 0);
	ck_assert_uint_eq(freq_of(1), orig);
	ck_assert_int_eq(vpwr_host_cpu_info(h, 1, &info), 0);
	ck_assert_uint_eq(info.managed, 0);
	ck_assert_str_eq(info.winner, "");
}
END_TEST

START_TEST(powersave_mode_lowest_wins)
{
	teardown();
	start(VPWR_ARB_POWERSAVE, 0);
	ck_assert_int_eq(ask("vm2", VPWR_MSG_SET_FREQ, 1, 2000000, 0, NULL), 0);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SET_FREQ, 1, 1200000, 0, NULL), 0);
	ck_assert_uint_eq(freq_of(1), 1200000);
}
END_TEST

START_TEST(exclusive_mode_refuses_shared_cpus)
{
	teardown();
	start(VPWR_ARB_EXCLUSIVE, 0);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SET_FREQ, 1, 1200000, 0, NULL),
			 -VPWR_E_SHARED_CPU);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SET_FREQ, 0, 1200000, 0, NULL), 0);
	ck_assert_uint_eq(freq_of(0), 1200000);
}
END_TEST

START_TEST(allow_shared_steers_floating_vcpus)
{
	teardown();
	start(VPWR_ARB_PERFORMANCE, 1);
	ck_assert_int_eq(ask("vm3", VPWR_MSG_SCALE, 0, VPWR_SCALE_MIN, 0, NULL), 0);
	ck_assert_uint_eq(freq_of(6), table_edge(6, 0));
	ck_assert_uint_eq(freq_of(7), table_edge(7, 0));
}
END_TEST

START_TEST(set_freq_rounds_down_and_range_sets_limits)
{
	uint32_t lo, hi;

	ck_assert_int_eq(ask("vm1", VPWR_MSG_SET_FREQ, 0, 1300000, 0, NULL), 0);
	ck_assert_uint_eq(freq_of(0), 1200000);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SET_RANGE, 0, 1000000, 1600000, NULL), 0);
	ck_assert_int_eq(vpwr_backend_get_limits(b, 0, &lo, &hi), 0);
	ck_assert_uint_eq(lo, 1000000);
	ck_assert_uint_eq(hi, 1600000);
	ck_assert_uint_eq(freq_of(0), 1600000);
}
END_TEST

START_TEST(turbo_is_switched_and_restored)
{
	int orig = vpwr_backend_get_turbo(b, 0);

	ck_assert_int_eq(orig, 1);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_TURBO, 0, 0, 0, NULL), 0);
	ck_assert_int_eq(vpwr_backend_get_turbo(b, 0), 0);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_RELEASE, VPWR_VCPU_NONE, 0, 0, NULL), 0);
	ck_assert_int_eq(vpwr_backend_get_turbo(b, 0), orig);
}
END_TEST

START_TEST(dropping_a_frequency_wish_keeps_turbo_wish)
{
	uint32_t orig = freq_of(0);
	struct vpwr_msg req, reply;

	/* vm1's vCPU0 (pCPU0): turbo off by request, frequency by policy. */
	ck_assert_int_eq(ask("vm1", VPWR_MSG_TURBO, 0, 0, 0, NULL), 0);
	vpwr_msg_init(&req, VPWR_MSG_POLICY_SET, 1, VPWR_VCPU_NONE);
	req.u.policy.kind = VPWR_POLICY_WORKLOAD;
	req.u.policy.workload = VPWR_WORKLOAD_LOW;
	vpwr_cpuset_set(&req.u.policy.vcpus, 0);
	ck_assert_int_eq(vpwr_host_handle(h, "vm1", &req, &reply), 0);
	ck_assert_uint_eq(freq_of(0), table_edge(0, 0));
	/* The policy goes: the frequency comes back, turbo stays off. */
	vpwr_msg_init(&req, VPWR_MSG_POLICY_REMOVE, 2, VPWR_VCPU_NONE);
	ck_assert_int_eq(vpwr_host_handle(h, "vm1", &req, &reply), 0);
	ck_assert_uint_eq(freq_of(0), orig);
	ck_assert_int_eq(vpwr_backend_get_turbo(b, 0), 0);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_RELEASE, VPWR_VCPU_NONE, 0, 0, NULL), 0);
	ck_assert_int_eq(vpwr_backend_get_turbo(b, 0), 1);
}
END_TEST

START_TEST(epp_is_arbitrated_and_restored)
{
	int orig = vpwr_backend_get_epp(b, 1);

	ck_assert_int_ge(orig, 0);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SET_EPP, 1, 200, 0, NULL), 0);
	ck_assert_int_eq(vpwr_backend_get_epp(b, 1), 200);
	/* vm2 shares pCPU1 and leans to performance: it wins. */
	ck_assert_int_eq(ask("vm2", VPWR_MSG_SET_EPP, 1, 64, 0, NULL), 0);
	ck_assert_int_eq(vpwr_backend_get_epp(b, 1), 64);
	ck_assert_int_eq(ask("vm2", VPWR_MSG_RELEASE, VPWR_VCPU_NONE, 0, 0, NULL), 0);
	ck_assert_int_eq(vpwr_backend_get_epp(b, 1), 200);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_RELEASE, VPWR_VCPU_NONE, 0, 0, NULL), 0);
	ck_assert_int_eq(vpwr_backend_get_epp(b, 1), orig);
}
END_TEST

START_TEST(operator_bounds_clamp_guests)
{
	struct vpwr_msg reply;

	ck_assert_int_eq(vpwr_host_set_bounds(h, 0, 1000000, 1600000), 0);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SCALE, 0, VPWR_SCALE_MAX, 0, &reply), 0);
	ck_assert_uint_eq(freq_of(0), 1600000);
	ck_assert_uint_eq(reply.u.state.clamped, 1);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SCALE, 0, VPWR_SCALE_MIN, 0, NULL), 0);
	ck_assert_uint_eq(freq_of(0), 1000000);
	/* Lifting the bounds lets the wish through. */
	ck_assert_int_eq(vpwr_host_set_bounds(h, 0, 0, 0), 0);
	ck_assert_uint_eq(freq_of(0), table_edge(0, 0));
	ck_assert_int_eq(vpwr_host_set_bounds(h, 0, 2000000, 1000000), -EINVAL);
	ck_assert_int_eq(vpwr_host_set_bounds(h, 99, 0, 0), -EINVAL);
}
END_TEST

/* Bounds on one domain hold its wishes only; a neighbour on the same
 * pCPU is not bounded by them. */
START_TEST(domain_bounds_clamp_only_that_domain)
{
	struct vpwr_msg reply;

	ck_assert_int_eq(vpwr_host_set_domain_bounds(h, "vm2", 0, 1600000), 0);
	ck_assert_int_eq(ask("vm2", VPWR_MSG_SCALE, 1, VPWR_SCALE_MAX, 0, &reply), 0);
	ck_assert_uint_eq(freq_of(1), 1600000);
	ck_assert_uint_eq(reply.u.state.clamped, 1);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SCALE, 1, VPWR_SCALE_MAX, 0, NULL), 0);
	ck_assert_uint_eq(freq_of(1), table_edge(1, 1));
	ck_assert_int_eq(ask("vm1", VPWR_MSG_RELEASE, VPWR_VCPU_NONE, 0, 0, NULL), 0);
	ck_assert_uint_eq(freq_of(1), 1600000);
	/* A lower bound lifts its minimum too; lifting the bounds lets its
	 * wish through at once. */
	ck_assert_int_eq(ask("vm2", VPWR_MSG_SCALE, 2, VPWR_SCALE_MIN, 0, NULL), 0);
	ck_assert_int_eq(vpwr_host_set_domain_bounds(h, "vm2", 1400000, 0), 0);
	ck_assert_uint_eq(freq_of(3), 1400000);
	ck_assert_uint_eq(freq_of(1), table_edge(1, 1));
	ck_assert_int_eq(vpwr_host_set_domain_bounds(h, "vm2", 0, 0), 0);
	ck_assert_uint_eq(freq_of(3), table_edge(3, 0));
	/* Kept for a domain that has no channel and no request yet. */
	ck_assert_int_eq(vpwr_host_set_domain_bounds(h, "vm4", 0, 1200000), 0);
	ck_assert_int_eq(ask("vm4", VPWR_MSG_SCALE, 0, VPWR_SCALE_MAX, 0, NULL), 0);
	ck_assert_uint_eq(freq_of(7), 1200000);
	ck_assert_int_eq(vpwr_host_set_domain_bounds(h, "nosuch", 0, 1), -VPWR_E_NO_DOMAIN);
	ck_assert_int_eq(vpwr_host_set_domain_bounds(h, "vm2", 2, 1), -EINVAL);
	ck_assert_int_eq(vpwr_host_set_domain_bounds(h, NULL, 0, 0), -EINVAL);
}
END_TEST

START_TEST(applies_only_on_change)
{
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SCALE, 0, VPWR_SCALE_MIN, 0, NULL), 0);
	ck_assert_int_eq(cpu_events, 1);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SCALE, 0, VPWR_SCALE_MIN, 0, NULL), 0);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SET_FREQ, 0, table_edge(0, 0), 0, NULL), 0);
	ck_assert_int_eq(cpu_events, 1);
	/* vm2 asks for less than vm1 holds on the shared CPU: no change. */
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SCALE, 1, VPWR_SCALE_MAX, 0, NULL), 0);
	ck_assert_int_eq(cpu_events, 2);
	ck_assert_int_eq(ask("vm2", VPWR_MSG_SCALE, 1, VPWR_SCALE_MAX, 0, NULL), 0);
	ck_assert_int_eq(cpu_events, 2);
}
END_TEST

START_TEST(free_restores_every_cpu)
{
	uint32_t orig[8];

	for (unsigned c = 0; c < 8; c++)
		orig[c] = freq_of(c);
	ck_assert_int_eq(ask("vm1", VPWR_MSG_SCALE, 0, VPWR_SCALE_MIN, 0, NULL), 0);
	ck_assert_int_eq(ask("vm2", VPWR_MSG_SET_FREQ, 2, 1000000, 0, NULL), 0);
	ck_assert_int_eq(ask("vm2", VPWR_MSG_TURBO, 0, 0, 0, NULL), 0);
	ck_assert_uint_ne(freq_of(0), orig[0]);
	vpwr_host_free(h);
	h = NULL;
	for (unsigned c = 0; c < 8; c++)
		ck_assert_uint_eq(freq_of(c), orig[c]);
	ck_assert_int_eq(vpwr_backend_get_turbo(b, 2), 1);
}
END_TEST

START_TEST(hello_negotiates)
{
	struct vpwr_msg reply;

	ck_assert_int_eq(ask("vm2", VPWR_MSG_HELLO, VPWR_VCPU_NONE, 1, 5, &reply), 0);
	ck_assert_uint_eq(reply.u.hello.version_max, VPWR_PROTO_VERSION);
	ck_assert_uint_eq(reply.u.hello.nr_vcpus, 3);
	ck_assert(reply.u.hello.caps & VPWR_CAP_TURBO);
	ck_assert(reply.u.hello.caps & VPWR_CAP_POLICY);
	ck_assert(reply.u.hello.caps & VPWR_CAP_EPP);
	ck_assert_int_eq(ask("vm2", VPWR_MSG_HELLO, VPWR_VCPU_NONE, 2, 5, &reply),
			 -VPWR_E_VERSION);
	ck_assert_ptr_nonnull(strstr(reply.reason, "2..5"));
}
END_TEST

START_TEST(bad_arguments)
{
	struct vpwr_host *x = NULL;
	struct vpwr_host_cpu_info info;
	VPWR_OPTS(vpwr_host_opts, ho, .backend = b);

	ck_assert_int_eq(vpwr_host_new(&ho, &x), -EINVAL);
	ck_assert_ptr_null(x);
	ho.resolver = r;
	ho.mode = 17;
	ck_assert_int_eq(vpwr_host_new(&ho, &x), -EINVAL);
	ck_assert_int_eq(vpwr_host_new(NULL, &x), -EINVAL);
	ck_assert_int_eq(vpwr_host_cpu_info(h, 8, &info), -EINVAL);
	ck_assert_int_eq(vpwr_host_remove_channel(h, 12345), -ENOENT);
	ck_assert_int_eq(vpwr_host_add_channel(h, "vm1", NULL), -EINVAL);
	ck_assert_int_eq(vpwr_host_listen(h, "nosuch", "unix-listen:/tmp/x"),
			 -VPWR_E_NO_DOMAIN);
	vpwr_host_free(NULL);
}
END_TEST

/* ------------------------------------------------- over real channels */

static int add_pair(const char *dom, int *peer)
{
	int sv[2];
	struct vpwr_channel *ch;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(vpwr_channel_open_fd(sv[0], NULL, &ch), 0);
	*peer = sv[1];
	return vpwr_host_add_channel(h, dom, ch);
}

static void pump(void)
{
	for (int i = 0; i < 4; i++)
		ck_assert_int_ge(vpwr_host_dispatch(h, 20), 0);
}

/* Read one reply from a raw peer; -1 at end of stream. */
static int read_reply(int fd, struct vpwr_msg *m)
{
	uint8_t buf[8192];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	int len;

	if (n <= 0)
		return -1;
	len = vpwr_codec_frame_len(vpwr_codec_native(), buf, (size_t)n, NULL);
	ck_assert_int_eq(len, n);
	ck_assert_int_eq(vpwr_codec_decode(vpwr_codec_native(), buf,
					   (size_t)len, m, NULL), 0);
	return 0;
}

static size_t encode_scale(uint8_t *buf, uint32_t seq, unsigned vcpu,
			   unsigned op)
{
	struct vpwr_msg m;
	int n;

	vpwr_msg_init(&m, VPWR_MSG_SCALE, seq, vcpu);
	m.u.scale.op = op;
	n = vpwr_codec_encode(vpwr_codec_native(), &m, buf, 4096);
	ck_assert_int_gt(n, 0);
	return (size_t)n;
}

START_TEST(channel_request_split_in_bytes)
{
	uint8_t buf[4096];
	struct vpwr_msg reply;
	size_t n = encode_scale(buf, 41, 0, VPWR_SCALE_MIN);
	int fd;

	ck_assert_int_gt(add_pair("vm1", &fd), 0);
	ck_assert_int_eq(vpwr_host_nr_channels(h), 1);
	for (size_t i = 0; i < n; i++) {
		ck_assert_int_eq(write(fd, buf + i, 1), 1);
		pump();
	}
	ck_assert_int_eq(read_reply(fd, &reply), 0);
	ck_assert_uint_eq(reply.seq, 41);
	ck_assert_int_eq(reply.status, 0);
	ck_assert_uint_eq(freq_of(0), table_edge(0, 0));
	close(fd);
	pump();
	/* The guest went away: its wish goes with it. */
	ck_assert_int_eq(vpwr_host_nr_channels(h), 0);
	ck_assert_uint_ne(freq_of(0), table_edge(0, 0));
}
END_TEST

START_TEST(garbage_resets_only_that_channel)
{
	uint8_t buf[4096];
	struct vpwr_msg reply;
	int bad, good;
	uint32_t orig = freq_of(0);
	size_t n;

	/* A stream that claims to be native but is not: reset, no reply. */
	ck_assert_int_gt(add_pair("vm1", &bad), 0);
	ck_assert_int_gt(add_pair("vm2", &good), 0);
	memcpy(buf, "VPWR", 4);
	memset(buf + 4, 0x5a, 60);
	ck_assert_int_eq(write(bad, buf, 64), 64);
	pump();
	ck_assert_int_eq(read_reply(bad, &reply), -1);
	ck_assert_int_eq(vpwr_host_nr_channels(h), 1);
	n = encode_scale(buf, 5, 0, VPWR_SCALE_MIN);
	ck_assert_int_eq(write(good, buf, n), (ssize_t)n);
	pump();
	ck_assert_int_eq(read_reply(good, &reply), 0);
	ck_assert_int_eq(reply.status, 0);
	ck_assert_uint_eq(freq_of(0), orig);
	close(bad);
	close(good);
}
END_TEST

/* Bytes that are neither native nor JSON are DPDK's 464-byte packet: a
 * nonsensical one is answered with a DPDK NACK, and nothing changes. */
START_TEST(arbitrary_bytes_get_a_dpdk_nack)
{
	uint8_t buf[VPWR_DPDK_PKT_LEN];
	struct vpwr_msg reply;
	uint32_t before[8];
	ssize_t n;
	int fd;

	for (unsigned c = 0; c < 8; c++)
		before[c] = freq_of(c);
	ck_assert_int_gt(add_pair("vm1", &fd), 0);
	memset(buf, 0x5a, sizeof(buf));
	ck_assert_int_eq(write(fd, buf, sizeof(buf)), (ssize_t)sizeof(buf));
	pump();
	n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	ck_assert_int_eq(n, VPWR_DPDK_PKT_LEN);
	ck_assert_int_eq(vpwr_codec_decode(vpwr_codec_dpdk_guest(), buf,
					   (size_t)n, &reply, NULL), 0);
	ck_assert_int_lt(reply.status, 0);
	ck_assert_int_eq(vpwr_host_nr_channels(h), 1);
	for (unsigned c = 0; c < 8; c++)
		ck_assert_uint_eq(freq_of(c), before[c]);
	close(fd);
}
END_TEST

START_TEST(oversized_and_truncated_frames_reset)
{
	uint8_t buf[4096];
	struct vpwr_msg reply;
	size_t n = encode_scale(buf, 9, 0, VPWR_SCALE_MIN);
	uint32_t orig = freq_of(0);
	int a, c;

	/* Length field 1 MiB. */
	ck_assert_int_gt(add_pair("vm1", &a), 0);
	buf[12] = 0; buf[13] = 0; buf[14] = 0x10; buf[15] = 0;
	ck_assert_int_eq(write(a, buf, n), (ssize_t)n);
	pump();
	ck_assert_int_eq(read_reply(a, &reply), -1);
	/* Half a frame, then the guest hangs up. */
	n = encode_scale(buf, 9, 0, VPWR_SCALE_MIN);
	ck_assert_int_gt(add_pair("vm1", &c), 0);
	ck_assert_int_eq(write(c, buf, n / 2), (ssize_t)(n / 2));
	shutdown(c, SHUT_WR);
	pump();
	ck_assert_int_eq(read_reply(c, &reply), -1);
	ck_assert_int_eq(vpwr_host_nr_channels(h), 0);
	ck_assert_uint_eq(freq_of(0), orig);
	close(a);
	close(c);
}
END_TEST

START_TEST(unknown_type_and_bad_vcpu_get_nacks)
{
	uint8_t buf[4096];
	struct vpwr_msg reply;
	size_t n = encode_scale(buf, 77, 0, VPWR_SCALE_MIN);
	uint32_t orig = freq_of(0);
	int fd;

	ck_assert_int_gt(add_pair("vm1", &fd), 0);
	buf[5] = 99; /* message type */
	ck_assert_int_eq(write(fd, buf, n), (ssize_t)n);
	pump();
	ck_assert_int_eq(read_reply(fd, &reply), 0);
	ck_assert_uint_eq(reply.seq, 77);
	ck_assert_int_lt(reply.status, 0);
	n = encode_scale(buf, 78, 200, VPWR_SCALE_MIN);
	ck_assert_int_eq(write(fd, buf, n), (ssize_t)n);
	pump();
	ck_assert_int_eq(read_reply(fd, &reply), 0);
	ck_assert_uint_eq(reply.seq, 78);
	ck_assert_int_eq(reply.status, -VPWR_E_VCPU_RANGE);
	ck_assert_int_eq(vpwr_host_nr_channels(h), 1);
	ck_assert_uint_eq(freq_of(0), orig);
	close(fd);
}
END_TEST

START_TEST(peer_that_never_reads_is_reset)
{
	uint8_t buf[4096], many[65536];
	size_t n = encode_scale(buf, 1, 0, VPWR_SCALE_MIN);
	int fd, sndbuf = 4096;
	size_t fill = 0;

	ck_assert_int_gt(add_pair("vm1", &fd), 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sndbuf, sizeof(sndbuf));
	while (fill + n <= sizeof(many)) {
		memcpy(many + fill, buf, n);
		fill += n;
	}
	/* Thousands of requests whose replies are never read. */
	for (int round = 0; round < 64 && vpwr_host_nr_channels(h); round++) {
		ssize_t w = send(fd, many, fill, MSG_DONTWAIT | MSG_NOSIGNAL);
		(void)w;
		pump();
	}
	ck_assert_int_eq(vpwr_host_nr_channels(h), 0);
	close(fd);
}
END_TEST

/* ------------------------------------------- a guest client and a host */

static void *serve(void *arg)
{
	(void)arg;
	vpwr_host_run(h);
	return NULL;
}

START_TEST(guest_client_end_to_end)
{
	struct vpwr_guest *g;
	struct vpwr_vcpu_state st;
	struct vpwr_hello hi;
	uint32_t khz[64], cur = 0;
	pthread_t t;
	int fd, n;
	uint32_t orig2 = freq_of(2);
	VPWR_OPTS(vpwr_guest_opts, go, .timeout_ms = 5000);

	ck_assert_int_gt(add_pair("vm2", &fd), 0);
	ck_assert_int_eq(pthread_create(&t, NULL, serve, NULL), 0);
	struct vpwr_channel *ch;
	ck_assert_int_eq(vpwr_channel_open_fd(fd, NULL, &ch), 0);
	ck_assert_int_eq(vpwr_guest_open_channel(ch, &go, &g), 0);

	ck_assert_int_eq(vpwr_guest_hello(g, &hi), 0);
	ck_assert_uint_eq(hi.nr_vcpus, 3);
	ck_assert_int_eq(vpwr_guest_scale(g, 0, VPWR_SCALE_MIN), 0);
	ck_assert_int_eq(vpwr_guest_set_freq(g, 2, 1400000), 0);
	ck_assert_int_eq(vpwr_guest_set_range(g, 1, 1000000, 1800000), 0);
	ck_assert_int_eq(vpwr_guest_set_turbo(g, 2, 0), 0);
	n = vpwr_guest_query_freqs(g, 0, khz, 64, &cur);
	ck_assert_int_ge(n, 2);
	ck_assert_uint_eq(cur, khz[0]);
	ck_assert_int_eq(vpwr_guest_query_state(g, 2, &st), 0);
	ck_assert_uint_eq(st.cur_khz, 1400000);
	ck_assert_uint_eq(st.turbo, 0);
	ck_assert_int_eq(vpwr_guest_scale(g, 5, VPWR_SCALE_MAX), -VPWR_E_VCPU_RANGE);
	ck_assert_ptr_nonnull(strstr(vpwr_guest_last_reason(g), "out of range"));
	ck_assert_int_eq(vpwr_guest_set_epp(g, 0, 32), 0);
	ck_assert_int_eq(vpwr_guest_query_state(g, 0, &st), 0);
	ck_assert_uint_eq(st.epp, 32);
	ck_assert_int_eq(vpwr_guest_release(g), 0);
	ck_assert_int_eq(vpwr_guest_query_state(g, 2, &st), 0);
	ck_assert_uint_eq(st.req_max_khz, 0);
	vpwr_guest_free(g);
	vpwr_host_stop(h);
	pthread_join(t, NULL);
	/* The guest hung up: what it changed is back. */
	ck_assert_uint_eq(freq_of(2), orig2);
}
END_TEST

START_TEST(guest_times_out_without_host)
{
	int sv[2];
	struct vpwr_channel *ch;
	struct vpwr_guest *g;
	VPWR_OPTS(vpwr_guest_opts, go, .timeout_ms = 100);

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(vpwr_channel_open_fd(sv[0], NULL, &ch), 0);
	ck_assert_int_eq(vpwr_guest_open_channel(ch, &go, &g), 0);
	ck_assert_int_eq(vpwr_guest_scale(g, 0, VPWR_SCALE_MAX), -ETIMEDOUT);
	close(sv[1]);
	ck_assert_int_eq(vpwr_guest_scale(g, 0, VPWR_SCALE_MAX), -VPWR_E_CLOSED);
	vpwr_guest_free(g);
	ck_assert_int_eq(vpwr_guest_open("bogus:x", NULL, &g), -EPROTONOSUPPORT);
}
END_TEST

/* A peer that is not a vpwr host: the guest gives up within its timeout
 * and stays failed, instead of spinning on bytes it cannot frame. */
START_TEST(guest_gives_up_on_unframeable_host)
{
	int sv[2];
	struct vpwr_channel *ch;
	struct vpwr_guest *g;
	uint64_t t0;
	VPWR_OPTS(vpwr_guest_opts, go, .timeout_ms = 300);

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(vpwr_channel_open_fd(sv[0], NULL, &ch), 0);
	ck_assert_int_eq(vpwr_guest_open_channel(ch, &go, &g), 0);
	ck_assert_int_eq(write(sv[1], "VPWRGARBAGE!GARBAGE!", 20), 20);
	t0 = (uint64_t)time(NULL);
	ck_assert_int_eq(vpwr_guest_hello(g, NULL), -VPWR_E_PROTO);
	ck_assert_int_eq(vpwr_guest_scale(g, 0, VPWR_SCALE_MAX), -VPWR_E_PROTO);
	ck_assert_uint_le((uint64_t)time(NULL) - t0, 2);
	vpwr_guest_free(g);
	close(sv[1]);
}
END_TEST

/* With no fds left, accept fails and the connection stays queued: the
 * host must not spin on it, and must take it once fds are back. */
START_TEST(accept_without_fds_pauses_the_listener)
{
	char path[4200], uri[4300];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct rlimit old, low;
	int client, fds[256], nfd = 0, events = 0;

	snprintf(path, sizeof(path), "%s/vm1.sock", dir);
	snprintf(uri, sizeof(uri), "unix-listen:%s", path);
	ck_assert_int_eq(vpwr_host_listen(h, "vm1", uri), 0);
	client = socket(AF_UNIX, SOCK_STREAM, 0);
	ck_assert_int_ge(client, 0);
	/* Use up every fd under a low limit, then connect (which needs none
	 * on this side beyond the socket we already have). */
	ck_assert_int_eq(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	low.rlim_cur = (rlim_t)client + 64;
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &low), 0);
	while (nfd < 256 && (fds[nfd] = dup(0)) >= 0)
		nfd++;
	ck_assert_int_lt(nfd, 256);
	ck_assert_uint_lt(strlen(path), sizeof(sa.sun_path));
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ck_assert_int_eq(connect(client, (struct sockaddr *)&sa, sizeof(sa)), 0);
	/* The first dispatch finds accept failing; later ones must sleep. */
	for (int i = 0; i < 5; i++) {
		int n = vpwr_host_dispatch(h, 20);
		ck_assert_int_ge(n, 0);
		events += n;
	}
	ck_assert_int_le(events, 2);
	ck_assert_int_eq(vpwr_host_nr_channels(h), 0);
	while (nfd > 0)
		close(fds[--nfd]);
	ck_assert_int_eq(setrlimit(RLIMIT_NOFILE, &old), 0);
	for (int i = 0; i < 50 && vpwr_host_nr_channels(h) == 0; i++)
		vpwr_host_dispatch(h, 50);
	/* Valgrind closes an accepted fd above the limit itself, which
	 * drops the queued connection: only the no-spin half holds there. */
	if (!getenv("LD_PRELOAD") || !strstr(getenv("LD_PRELOAD"), "vgpreload"))
		ck_assert_int_eq(vpwr_host_nr_channels(h), 1);
	close(client);
}
END_TEST

static Suite *host_suite(void)
{
	Suite *s = suite_create("host");
	TCase *tc = tcase_create("engine");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, scale_moves_only_the_pinned_cpu);
	tcase_add_test(tc, scale_up_and_down_step_through_the_table);
	tcase_add_test(tc, refusals_change_nothing);
	tcase_add_test(tc, floating_vcpu_owned_alone_moves_all_its_cpus);
	tcase_add_test(tc, performance_mode_highest_wins);
	tcase_add_test(tc, powersave_mode_lowest_wins);
	tcase_add_test(tc, exclusive_mode_refuses_shared_cpus);
	tcase_add_test(tc, allow_shared_steers_floating_vcpus);
	tcase_add_test(tc, set_freq_rounds_down_and_range_sets_limits);
	tcase_add_test(tc, turbo_is_switched_and_restored);
	tcase_add_test(tc, dropping_a_frequency_wish_keeps_turbo_wish);
	tcase_add_test(tc, epp_is_arbitrated_and_restored);
	tcase_add_test(tc, operator_bounds_clamp_guests);
	tcase_add_test(tc, domain_bounds_clamp_only_that_domain);
	tcase_add_test(tc, applies_only_on_change);
	tcase_add_test(tc, free_restores_every_cpu);
	tcase_add_test(tc, hello_negotiates);
	tcase_add_test(tc, bad_arguments);
	suite_add_tcase(s, tc);

	tc = tcase_create("channels");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, channel_request_split_in_bytes);
	tcase_add_test(tc, garbage_resets_only_that_channel);
	tcase_add_test(tc, arbitrary_bytes_get_a_dpdk_nack);
	tcase_add_test(tc, oversized_and_truncated_frames_reset);
	tcase_add_test(tc, unknown_type_and_bad_vcpu_get_nacks);
	tcase_add_test(tc, peer_that_never_reads_is_reset);
	tcase_add_test(tc, guest_client_end_to_end);
	tcase_add_test(tc, guest_times_out_without_host);
	tcase_add_test(tc, guest_gives_up_on_unframeable_host);
	tcase_add_test(tc, accept_without_fds_pauses_the_listener);
	tcase_set_timeout(tc, 30);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(host_suite());
}
