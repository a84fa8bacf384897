/*
 * CPUs that share a cpufreq policy are one frequency domain, and the host
 * arbitrates them as one: every wish of every domain on any CPU of the
 * group and the operator bounds of all of them decide one setting, applied
 * once; each CPU of the group shows it, with its winner, and gets its
 * CPU_CHANGED event; exclusive mode sees the sharing; one domain letting
 * go leaves the other's wish in place, and the group is restored only
 * when no wish is left on any of its CPUs.  On the simulator
 * (cpus_per_policy) and on a fake acpi-cpufreq kernel whose CPUs 0 and 2
 * share one set of files.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "fakesysfs.c"
#include "host_internal.h"
#include "libvpwr/libvpwr.h"
#include "testutil.h"

/*
 * Sim, 4 CPUs, 2 per policy: {0,1} {2,3}.  vm1 on 2, vm2 on 3 (one
 * policy), vm3 on 0, vm4 floats over 2-3 (within one policy), vm5 floats
 * over 1-2 (across two).
 */
static const char *pins =
	"{\"domains\": {\"vm1\": {\"vcpus\": [\"2\"]},"
	" \"vm2\": {\"vcpus\": [\"3\"]}, \"vm3\": {\"vcpus\": [\"0\"]},"
	" \"vm4\": {\"vcpus\": [\"2-3\"]}, \"vm5\": {\"vcpus\": [\"1-2\"]}}}";

static char *dir;
static struct fakesysfs *fk;
static struct vpwr_backend *b;
static struct vpwr_resolver *r;
static struct vpwr_host *h;
static uint32_t lo, mid, hi, orig;

/* CPU_CHANGED events, by pCPU, once `counting`. */
static unsigned changed[8];
static char winner_seen[8][64];

static void on_event(const struct vpwr_host_event *ev, void *ud)
{
	(void)ud;
	if (ev->type != VPWR_HOST_EV_CPU_CHANGED || ev->pcpu >= 8)
		return;
	changed[ev->pcpu]++;
	snprintf(winner_seen[ev->pcpu], sizeof(winner_seen[0]), "%s",
		 ev->winner ? ev->winner : "");
}

static void open_host(unsigned mode, const char *map)
{
	VPWR_OPTS(vpwr_host_opts, ho, .backend = b, .mode = mode,
		  .event_fn = on_event);
	char uri[4200];
	uint32_t t[64];
	int n;

	dir = vpwr_test_tmpdir();
	vpwr_test_write_file(dir, "pins.json", map);
	snprintf(uri, sizeof(uri), "static:%s/pins.json", dir);
	ck_assert_int_eq(vpwr_resolver_open(uri, NULL, &r), 0);
	ho.resolver = r;
	ck_assert_int_eq(vpwr_host_new(&ho, &h), 0);
	n = vpwr_backend_get_freqs(b, 0, t, 64);
	ck_assert_int_gt(n, 2);
	lo = t[0];
	mid = t[(n - 1) / 2];
	hi = t[n - 1];
	ck_assert_int_eq(vpwr_backend_get_freq(b, 0, &orig), 0);
	memset(changed, 0, sizeof(changed));
	memset(winner_seen, 0, sizeof(winner_seen));
}

static void open_sim(unsigned mode)
{
	VPWR_OPTS(vpwr_sim_opts, so, .nr_cpus = 4, .cpus_per_policy = 2);
	VPWR_OPTS(vpwr_backend_opts, bo, .sim = &so);

	ck_assert_int_eq(vpwr_backend_open("sim", &bo, &b), 0);
	open_host(mode, pins);
}

static void teardown(void)
{
	vpwr_host_free(h);
	h = NULL;
	vpwr_resolver_free(r);
	r = NULL;
	vpwr_backend_free(b);
	b = NULL;
	if (fk)
		fakesysfs_free(fk);
	fk = NULL;
	vpwr_test_rmtree(dir);
	free(dir);
	dir = NULL;
}

static int request(const char *dom, unsigned type, unsigned op)
{
	struct vpwr_msg req, reply;

	vpwr_msg_init(&req, type, 1,
		      type == VPWR_MSG_RELEASE ? VPWR_VCPU_NONE : 0);
	req.u.scale.op = op;
	return vpwr_host_handle(h, dom, &req, &reply);
}

static int scale(const char *dom, unsigned op)
{
	return request(dom, VPWR_MSG_SCALE, op);
}

static int release(const char *dom)
{
	return request(dom, VPWR_MSG_RELEASE, 0);
}

static uint32_t freq(unsigned cpu)
{
	uint32_t f = 0;

	ck_assert_int_eq(vpwr_backend_get_freq(b, cpu, &f), 0);
	return f;
}

/* What the host holds for `cpu`: its limits' top (0: not managed, as the
 * backend has it), winner and requests. */
static void holds(unsigned cpu, uint32_t max_khz, const char *winner,
		  unsigned nr)
{
	struct vpwr_host_cpu_info ci;

	ck_assert_int_eq(vpwr_host_cpu_info(h, cpu, &ci), 0);
	ck_assert_msg(!max_khz || ci.max_khz == max_khz, "pCPU %u: max %u, not %u", cpu,
		      ci.max_khz, max_khz);
	ck_assert_msg(!strcmp(ci.winner, winner), "pCPU %u: winner \"%s\", "
		      "not \"%s\"", cpu, ci.winner, winner);
	ck_assert_msg(ci.nr_requests == nr, "pCPU %u: %u requests, not %u",
		      cpu, ci.nr_requests, nr);
	ck_assert_uint_eq(ci.managed, nr > 0);
}

/* ---------------------------------------------------------------- sim */

START_TEST(test_performance)
{
	open_sim(VPWR_ARB_PERFORMANCE);
	ck_assert_int_eq(scale("vm1", VPWR_SCALE_MIN), 0);
	ck_assert_uint_eq(freq(2), lo);
	ck_assert_uint_eq(freq(3), lo);
	holds(2, lo, "vm1", 1);
	holds(3, lo, "vm1", 1);
	/* vm2, on the other CPU of the policy, wants more: it wins both. */
	ck_assert_int_eq(scale("vm2", VPWR_SCALE_MAX), 0);
	ck_assert_uint_eq(freq(2), hi);
	ck_assert_uint_eq(freq(3), hi);
	holds(2, hi, "vm2", 2);
	holds(3, hi, "vm2", 2);
	/* The other policy is untouched. */
	holds(0, 0, "", 0);
	ck_assert_uint_eq(freq(0), orig);
}
END_TEST

START_TEST(test_powersave)
{
	open_sim(VPWR_ARB_POWERSAVE);
	ck_assert_int_eq(scale("vm2", VPWR_SCALE_MAX), 0);
	ck_assert_int_eq(scale("vm1", VPWR_SCALE_MIN), 0);
	ck_assert_uint_eq(freq(2), lo);
	ck_assert_uint_eq(freq(3), lo);
	holds(2, lo, "vm1", 2);
	holds(3, lo, "vm1", 2);
	/* The winner lets go: the other's wish decides both. */
	ck_assert_int_eq(release("vm1"), 0);
	ck_assert_uint_eq(freq(2), hi);
	holds(2, hi, "vm2", 1);
	holds(3, hi, "vm2", 1);
}
END_TEST

/* Releasing one CPU's domain must not restore the policy under the
 * other's wish; the group goes back only when both have let go. */
START_TEST(test_release_keeps_the_other)
{
	open_sim(VPWR_ARB_PERFORMANCE);
	ck_assert_int_eq(scale("vm1", VPWR_SCALE_MIN), 0);
	ck_assert_int_eq(scale("vm2", VPWR_SCALE_MAX), 0);
	ck_assert_int_eq(release("vm2"), 0);
	ck_assert_uint_eq(freq(2), lo);
	ck_assert_uint_eq(freq(3), lo);
	holds(2, lo, "vm1", 1);
	holds(3, lo, "vm1", 1);
	memset(changed, 0, sizeof(changed));
	ck_assert_int_eq(release("vm1"), 0);
	ck_assert_uint_eq(freq(2), orig);
	ck_assert_uint_eq(freq(3), orig);
	holds(2, 0, "", 0);
	holds(3, 0, "", 0);
	/* One restore event per CPU of the group, saying nobody won. */
	ck_assert_uint_eq(changed[2], 1);
	ck_assert_uint_eq(changed[3], 1);
	ck_assert_str_eq(winner_seen[3], "");
}
END_TEST

/* A change to the group is an event on each of its CPUs, with the
 * group's winner; other CPUs hear nothing. */
START_TEST(test_events)
{
	open_sim(VPWR_ARB_PERFORMANCE);
	ck_assert_int_eq(scale("vm2", VPWR_SCALE_MAX), 0);
	ck_assert_uint_eq(changed[2], 1);
	ck_assert_uint_eq(changed[3], 1);
	ck_assert_str_eq(winner_seen[2], "vm2");
	ck_assert_str_eq(winner_seen[3], "vm2");
	ck_assert_uint_eq(changed[0] + changed[1], 0);
	/* A wish that changes nothing is no event. */
	ck_assert_int_eq(scale("vm1", VPWR_SCALE_MIN), 0);
	ck_assert_uint_eq(changed[2], 1);
	ck_assert_uint_eq(changed[3], 1);
	holds(2, hi, "vm2", 2);
}
END_TEST

START_TEST(test_exclusive)
{
	open_sim(VPWR_ARB_EXCLUSIVE);
	/* vm1's pCPU 2 shares its policy with vm2's (and vm4's) pCPU 3. */
	ck_assert_int_eq(scale("vm1", VPWR_SCALE_MAX), -VPWR_E_SHARED_CPU);
	ck_assert_int_eq(scale("vm2", VPWR_SCALE_MAX), -VPWR_E_SHARED_CPU);
	ck_assert_uint_eq(freq(2), orig);
	holds(3, 0, "", 0);
	/* vm3 is alone on policy {0,1}... except for vm5's vCPU on 1. */
	ck_assert_int_eq(scale("vm3", VPWR_SCALE_MAX), -VPWR_E_SHARED_CPU);
}
END_TEST

START_TEST(test_exclusive_alone)
{
	const char *alone = "{\"domains\": {\"vm1\": {\"vcpus\": [\"2\"]},"
			    " \"vm3\": {\"vcpus\": [\"0\"]}}}";
	VPWR_OPTS(vpwr_sim_opts, so, .nr_cpus = 4, .cpus_per_policy = 2);
	VPWR_OPTS(vpwr_backend_opts, bo, .sim = &so);

	ck_assert_int_eq(vpwr_backend_open("sim", &bo, &b), 0);
	open_host(VPWR_ARB_EXCLUSIVE, alone);
	ck_assert_int_eq(scale("vm1", VPWR_SCALE_MAX), 0);
	ck_assert_int_eq(scale("vm3", VPWR_SCALE_MIN), 0);
	holds(3, hi, "vm1", 1);
	holds(1, lo, "vm3", 1);
}
END_TEST

/* A vCPU floating over the CPUs of one policy has one frequency: it is
 * steered like a pinned one next to the group's other domains.  Floating
 * across two policies it is refused while another domain is on either. */
START_TEST(test_floating)
{
	open_sim(VPWR_ARB_PERFORMANCE);
	ck_assert_int_eq(scale("vm2", VPWR_SCALE_MIN), 0);
	ck_assert_int_eq(scale("vm4", VPWR_SCALE_MAX), 0);
	holds(2, hi, "vm4", 2);
	holds(3, hi, "vm4", 2);
	ck_assert_int_eq(scale("vm5", VPWR_SCALE_MAX), -VPWR_E_SHARED_CPU);
}
END_TEST

/* The group's bounds are those of all its CPUs together. */
START_TEST(test_bounds_intersect)
{
	open_sim(VPWR_ARB_PERFORMANCE);
	ck_assert_int_eq(vpwr_host_set_bounds(h, 3, 0, mid), 0);
	ck_assert_int_eq(scale("vm1", VPWR_SCALE_MAX), 0);
	ck_assert_uint_eq(freq(2), mid);
	holds(2, mid, "vm1", 1);
	holds(3, mid, "vm1", 1);
	ck_assert_int_eq(vpwr_host_set_bounds(h, 3, 0, 0), 0);
	ck_assert_uint_eq(freq(2), hi);
}
END_TEST

/* The control interface names the group of each CPU. */
START_TEST(test_control_shows_group)
{
	char *text = NULL;

	open_sim(VPWR_ARB_PERFORMANCE);
	ck_assert_int_eq(vpwr_host_control(h, "{\"cmd\":\"cpus\"}", &text), 0);
	ck_assert_ptr_nonnull(strstr(text, "\"pcpu\":3,"));
	ck_assert_ptr_nonnull(strstr(text, "\"group\":\"2-3\""));
	ck_assert_ptr_nonnull(strstr(text, "\"group\":\"0-1\""));
	free(text);
}
END_TEST

/* ----------------------------------------------- LIMITS_CHANGED, once */

struct peer {
	int fd;
	uint8_t buf[16 * 1024];
	size_t have;
};

static void attach(struct peer *p, const char *domain)
{
	struct vpwr_channel *ch;
	int sv[2];

	memset(p, 0, sizeof(*p));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0,
				    sv), 0);
	ck_assert_int_eq(vpwr_channel_open_fd(sv[0], NULL, &ch), 0);
	ck_assert_int_gt(vpwr_host_add_channel(h, domain, ch), 0);
	p->fd = sv[1];
}

static bool next_msg(struct peer *p, struct vpwr_msg *m)
{
	const struct vpwr_codec *c = vpwr_codec_native();
	struct vpwr_decode_error err;

	for (int idle = 0; idle < 10;) {
		int len = vpwr_codec_frame_len(c, p->buf, p->have, &err);
		ssize_t n;

		if (len > 0 && (size_t)len <= p->have) {
			ck_assert_int_eq(vpwr_codec_decode(c, p->buf,
							   (size_t)len, m,
							   &err), 0);
			memmove(p->buf, p->buf + len, p->have - (size_t)len);
			p->have -= (size_t)len;
			return true;
		}
		vpwr_host_dispatch(h, 10);
		n = read(p->fd, p->buf + p->have, sizeof(p->buf) - p->have);
		if (n > 0)
			p->have += (size_t)n;
		else
			idle++;
	}
	return false;
}

static int ask(struct peer *p, uint16_t type, uint32_t op)
{
	uint8_t buf[VPWR_NATIVE_MAX_FRAME];
	struct vpwr_msg m;
	int len;

	vpwr_msg_init(&m, type, 7, type == VPWR_MSG_HELLO ? VPWR_VCPU_NONE : 0);
	if (type == VPWR_MSG_HELLO)
		m.u.hello.version_min = m.u.hello.version_max = 1;
	else
		m.u.scale.op = op;
	len = vpwr_codec_encode(vpwr_codec_native(), &m, buf, sizeof(buf));
	ck_assert_int_gt(len, 0);
	ck_assert_int_eq(write(p->fd, buf, (size_t)len), len);
	ck_assert(next_msg(p, &m));
	ck_assert(!(m.flags & VPWR_MSG_F_NOTIFY));
	return m.status;
}

/* vm1 on pCPU 2 hears once that vm2's wish on pCPU 3 clamped it, and
 * once that it is free again; vm3 on the other policy hears nothing. */
START_TEST(test_notify_the_group)
{
	struct peer a, c;
	struct vpwr_msg m;

	open_sim(VPWR_ARB_PERFORMANCE);
	attach(&a, "vm1");
	attach(&c, "vm3");
	ck_assert_int_eq(ask(&a, VPWR_MSG_HELLO, 0), 0);
	ck_assert_int_eq(ask(&c, VPWR_MSG_HELLO, 0), 0);
	ck_assert_int_eq(ask(&a, VPWR_MSG_SCALE, VPWR_SCALE_MIN), 0);
	ck_assert_int_eq(ask(&c, VPWR_MSG_SCALE, VPWR_SCALE_MIN), 0);
	ck_assert_int_eq(scale("vm2", VPWR_SCALE_MAX), 0);
	ck_assert(next_msg(&a, &m));
	ck_assert_uint_eq(m.type, VPWR_MSG_LIMITS_CHANGED);
	ck_assert_uint_eq(m.u.state.clamped, 1);
	ck_assert_uint_eq(m.u.state.max_khz, hi);
	ck_assert_uint_eq(m.u.state.req_max_khz, lo);
	ck_assert(!next_msg(&a, &m));
	ck_assert(!next_msg(&c, &m));
	ck_assert_int_eq(release("vm2"), 0);
	ck_assert(next_msg(&a, &m));
	ck_assert_uint_eq(m.type, VPWR_MSG_LIMITS_CHANGED);
	ck_assert_uint_eq(m.u.state.clamped, 0);
	ck_assert_uint_eq(m.u.state.max_khz, lo);
	ck_assert(!next_msg(&c, &m));
	close(a.fd);
	close(c.fd);
}
END_TEST

/* ------------------------------------------------ a fake acpi-cpufreq */

#define CPU0 "cpu0/cpufreq/"

/* CPUs 0 and 2 share cpu0's policy files; 1 has its own; 3 is offline. */
static void open_fake(unsigned mode)
{
	const char *map = "{\"domains\": {\"vm1\": {\"vcpus\": [\"0\"]},"
			  " \"vm2\": {\"vcpus\": [\"2\"]},"
			  " \"vm3\": {\"vcpus\": [\"1\"]}}}";
	VPWR_OPTS(vpwr_backend_opts, bo);

	fk = fakesysfs_new("acpi-cpufreq");
	fakesysfs_share_policy(fk, 2, 0);
	ck_assert_int_eq(fakesysfs_open(fk, "acpi-cpufreq", &bo, &b), 0);
	open_host(mode, map);
}

START_TEST(test_fake_shared_policy)
{
	open_fake(VPWR_ARB_PERFORMANCE);
	ck_assert_int_eq(scale("vm1", VPWR_SCALE_MIN), 0);
	memset(changed, 0, sizeof(changed));
	ck_assert_int_eq(scale("vm2", VPWR_SCALE_MAX), 0);
	ck_assert_uint_eq(fakesysfs_get_u32(fk, CPU0 "scaling_setspeed"), hi);
	holds(0, hi, "vm2", 2);
	holds(2, hi, "vm2", 2);
	holds(1, 0, "", 0);
	ck_assert_uint_eq(changed[0], 1);
	ck_assert_uint_eq(changed[2], 1);
	/* vm2 lets go: vm1's wish stays on the shared files. */
	ck_assert_int_eq(release("vm2"), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_governor"),
			 "userspace");
	ck_assert_uint_eq(fakesysfs_get_u32(fk, CPU0 "scaling_setspeed"), lo);
	holds(0, lo, "vm1", 1);
	holds(2, lo, "vm1", 1);
	/* and when vm1 goes too, the policy is put back. */
	ck_assert_int_eq(release("vm1"), 0);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_governor"),
			 "ondemand");
	holds(0, 0, "", 0);
	holds(2, 0, "", 0);
	ck_assert_uint_eq(fakesysfs_refused(fk), 0);
}
END_TEST

START_TEST(test_fake_powersave)
{
	open_fake(VPWR_ARB_POWERSAVE);
	ck_assert_int_eq(scale("vm2", VPWR_SCALE_MAX), 0);
	ck_assert_int_eq(scale("vm1", VPWR_SCALE_MIN), 0);
	ck_assert_uint_eq(fakesysfs_get_u32(fk, CPU0 "scaling_setspeed"), lo);
	ck_assert_uint_eq(fakesysfs_get_u32(fk, CPU0 "scaling_max_freq"), lo);
	holds(2, lo, "vm1", 2);
	ck_assert_uint_eq(fakesysfs_refused(fk), 0);
}
END_TEST

START_TEST(test_fake_exclusive)
{
	open_fake(VPWR_ARB_EXCLUSIVE);
	ck_assert_int_eq(scale("vm1", VPWR_SCALE_MAX), -VPWR_E_SHARED_CPU);
	ck_assert_int_eq(scale("vm2", VPWR_SCALE_MAX), -VPWR_E_SHARED_CPU);
	ck_assert_str_eq(fakesysfs_get(fk, CPU0 "scaling_governor"),
			 "ondemand");
	/* CPU 1 has its own policy and only vm3 on it. */
	ck_assert_int_eq(scale("vm3", VPWR_SCALE_MAX), 0);
	holds(1, hi, "vm3", 1);
}
END_TEST

static Suite *group_suite(void)
{
	Suite *s = suite_create("host_group");
	TCase *sim = tcase_create("sim");
	TCase *fake = tcase_create("fake_sysfs");

	tcase_add_checked_fixture(sim, NULL, teardown);
	tcase_add_test(sim, test_performance);
	tcase_add_test(sim, test_powersave);
	tcase_add_test(sim, test_release_keeps_the_other);
	tcase_add_test(sim, test_events);
	tcase_add_test(sim, test_exclusive);
	tcase_add_test(sim, test_exclusive_alone);
	tcase_add_test(sim, test_floating);
	tcase_add_test(sim, test_bounds_intersect);
	tcase_add_test(sim, test_control_shows_group);
	tcase_add_test(sim, test_notify_the_group);
	suite_add_tcase(s, sim);
	tcase_add_checked_fixture(fake, NULL, teardown);
	tcase_add_test(fake, test_fake_shared_policy);
	tcase_add_test(fake, test_fake_powersave);
	tcase_add_test(fake, test_fake_exclusive);
	suite_add_tcase(s, fake);
	return s;
}

int main(void)
{
	return vpwr_test_run(group_suite());
}
