/*
 * The host engine on the libvirt: resolver (test:/// driver, no daemon):
 * a domain's power-agent channels are attached when it starts and
 * detached when it stops, from its XML; a vCPU re-pinned while it runs
 * moves its wish to the new pCPU and restores the old one; a domain that
 * stops has its wishes kept for the grace period but not applied (shut
 * off it reads as its config pinning), and gets them back on its live
 * pinning if it starts again within it.  The test
 * registers libvirt's event loop on a thread of its own, as a daemon
 * would (the library never does), and plays QEMU on the sockets.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "host_internal.h"
#include "libvpwr/libvpwr.h"
#include "lvtest.h"

static pthread_once_t event_once = PTHREAD_ONCE_INIT;
static pthread_t loop_tid;
static atomic_bool loop_stop;
static int loop_timer;

static void register_event_loop(void)
{
	ck_assert_int_eq(virEventRegisterDefaultImpl(), 0);
}

static void tick(int timer, void *opaque)
{
	(void)timer, (void)opaque;
}

static void *loop_main(void *arg)
{
	(void)arg;
	while (!atomic_load(&loop_stop))
		virEventRunDefaultImpl();
	return NULL;
}

static char *dir;
static virConnectPtr conn;
static virDomainPtr dom;
static struct vpwr_backend *b;
static struct vpwr_resolver *r;
static struct vpwr_host *h;
static uint32_t lo, hi;

static const char *xml_fmt =
	"<domain type='test'><name>agent</name><memory>1024</memory>"
	"<vcpu>2</vcpu><cputune><vcpupin vcpu='0' cpuset='0'/>"
	"<vcpupin vcpu='1' cpuset='1'/></cputune><os><type>hvm</type></os>"
	"<devices>"
	"<channel type='unix'><source mode='bind' path='%s/agent.0'/>"
	"<target type='virtio' name='virtio.serial.port.poweragent.0'/></channel>"
	"<channel type='unix'><source mode='connect' path='%s/agent.1'/>"
	"<target type='virtio' name='org.libvpwr.ctl'/></channel>"
	"</devices></domain>";

static void setup(void)
{
	VPWR_OPTS(vpwr_sim_opts, sim, .nr_cpus = 4);
	VPWR_OPTS(vpwr_backend_opts, bo, .sim = &sim);
	VPWR_OPTS(vpwr_resolver_opts, ro);
	char xml[4096];
	uint32_t t[64];
	int n;

	pthread_once(&event_once, register_event_loop);
	atomic_init(&loop_stop, false);
	loop_timer = virEventAddTimeout(10, tick, NULL, NULL);
	ck_assert_int_eq(pthread_create(&loop_tid, NULL, loop_main, NULL), 0);

	dir = vpwr_test_tmpdir();
	conn = virConnectOpen(URI);
	ck_assert_ptr_nonnull(conn);
	snprintf(xml, sizeof(xml), xml_fmt, dir, dir);
	dom = virDomainDefineXML(conn, xml);
	ck_assert_ptr_nonnull(dom);
	ck_assert_int_eq(vpwr_backend_open("sim", &bo, &b), 0);
	ck_assert_int_eq(vpwr_resolver_libvirt_adopt(conn, &ro, &r), 0);
	n = vpwr_backend_get_freqs(b, 0, t, 64);
	ck_assert_int_gt(n, 2);
	lo = t[0];
	hi = t[n - 1];
}

static void teardown(void)
{
	vpwr_host_free(h);
	h = NULL;
	vpwr_resolver_free(r);
	vpwr_backend_free(b);
	virDomainFree(dom);
	virConnectClose(conn);
	atomic_store(&loop_stop, true);
	pthread_join(loop_tid, NULL);
	virEventRemoveTimeout(loop_timer);
	vpwr_test_rmtree(dir);
	free(dir);
}

static bool pump_until(bool (*cond)(void), int ms)
{
	uint64_t end = vpwr_test_now_ms() + (uint64_t)ms;

	while (!cond() && vpwr_test_now_ms() < end)
		vpwr_host_dispatch(h, 20);
	return cond();
}

/* pCPU changes made for a domain (not restores) once `watching` is set. */
static bool watching;
static int sets_seen;

static void on_event(const struct vpwr_host_event *ev, void *ud)
{
	(void)ud;
	if (watching && ev->type == VPWR_HOST_EV_CPU_CHANGED && ev->winner)
		sets_seen++;
}

static bool one_channel(void) { return vpwr_host_nr_channels(h) == 1; }
static bool no_channel(void) { return vpwr_host_nr_channels(h) == 0; }

static bool is_socket(const char *name)
{
	char p[4200];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return stat(p, &st) == 0 && S_ISSOCK(st.st_mode);
}

static bool listener_gone(void) { return !is_socket("agent.1"); }

static uint32_t freq(unsigned cpu)
{
	uint32_t f = 0;

	ck_assert_int_eq(vpwr_backend_get_freq(b, cpu, &f), 0);
	return f;
}

/* QEMU's side of the channel: one SCALE request, its status. */
static int scale_max(struct vpwr_channel *q, unsigned vcpu)
{
	const struct vpwr_codec *c = vpwr_codec_native();
	uint8_t buf[VPWR_NATIVE_MAX_FRAME];
	struct vpwr_decode_error err;
	struct vpwr_msg m;
	size_t have = 0;
	int n;

	vpwr_msg_init(&m, VPWR_MSG_SCALE, 1, vcpu);
	m.u.scale.op = VPWR_SCALE_MAX;
	n = vpwr_codec_encode(c, &m, buf, sizeof(buf));
	ck_assert_int_eq(vpwr_channel_write(q, buf, (size_t)n), n);
	for (int i = 0; i < 200; i++) {
		ssize_t got;

		vpwr_host_dispatch(h, 10);
		got = vpwr_channel_read(q, buf + have, sizeof(buf) - have);
		if (got > 0)
			have += (size_t)got;
		n = vpwr_codec_frame_len(c, buf, have, &err);
		if (n > 0 && (size_t)n <= have)
			break;
	}
	ck_assert_int_eq(vpwr_codec_decode(c, buf, have, &m, &err), 0);
	return m.status;
}

START_TEST(test_lifecycle_and_repin)
{
	VPWR_OPTS(vpwr_host_opts, ho, .backend = b, .resolver = r,
		  .auto_channels = 1, .event_fn = on_event);
	struct vpwr_listener *qemu;
	struct vpwr_channel *q;
	unsigned char map = 1u << 2;
	uint32_t orig0 = freq(0), orig2 = freq(2);
	char uri[4300];

	/* QEMU will listen on agent.0 (mode='bind'). */
	snprintf(uri, sizeof(uri), "unix-listen:%s/agent.0", dir);
	ck_assert_int_eq(vpwr_listener_open(uri, NULL, &qemu), 0);

	ck_assert_int_eq(vpwr_host_new(&ho, &h), 0);
	/* Shut off: the host already listens where QEMU will connect
	 * (mode='connect'), and does not connect to agent.0 yet. */
	ck_assert(is_socket("agent.1"));
	for (int i = 0; i < 5; i++)
		vpwr_host_dispatch(h, 20); /* the define's event, if late */
	ck_assert_int_eq(vpwr_host_nr_channels(h), 0);

	/* The domain starts: the lifecycle event makes the host connect. */
	ck_assert_int_eq(virDomainCreate(dom), 0);
	ck_assert(pump_until(one_channel, 3000));
	ck_assert_int_eq(vpwr_listener_accept(qemu, &q), 0);
	ck_assert_int_eq(scale_max(q, 0), 0);
	ck_assert_uint_eq(freq(0), hi);

	/* Re-pinned while it runs (the test driver sends no event for it,
	 * so the refresh is asked for): the wish follows vCPU 0. */
	ck_assert_int_eq(virDomainPinVcpu(dom, 0, &map, 1), 0);
	ck_assert_int_eq(vpwr_host_refresh(h), 1);
	ck_assert_uint_eq(freq(0), orig0);
	ck_assert_uint_eq(freq(2), hi);

	/* The domain stops: its channel is detached and its CPUs restored,
	 * with QEMU's end of the channel still open (libvirt's event can come
	 * before the end of file).  Shut off, the domain reads as its defined
	 * pinning (vCPU 0 on pCPU 0): its wishes must not be put there on the
	 * way out. */
	watching = true;
	sets_seen = 0;
	ck_assert_int_eq(virDomainDestroy(dom), 0);
	ck_assert(pump_until(no_channel, 3000));
	ck_assert_int_eq(sets_seen, 0);
	ck_assert_uint_eq(freq(0), orig0);
	ck_assert_uint_eq(freq(2), orig2);
	watching = false;
	vpwr_channel_free(q); /* QEMU's end goes with it */
	ck_assert(is_socket("agent.1"));
	/* and the host does not connect again */
	for (int i = 0; i < 10; i++)
		vpwr_host_dispatch(h, 30);
	ck_assert_int_eq(vpwr_listener_accept(qemu, &q), -EAGAIN);

	/* Undefined: the listener goes too. */
	ck_assert_int_eq(virDomainUndefine(dom), 0);
	ck_assert(pump_until(listener_gone, 3000));
	vpwr_listener_free(qemu);
	(void)lo;
}
END_TEST

static struct host_domain *host_dom(const char *name)
{
	for (struct host_domain *d = h->domains; d; d = d->next)
		if (!strcmp(d->name, name))
			return d;
	return NULL;
}

/* A channel of "agent" over a socketpair, the way a QEMU socket is one;
 * closing *peer is QEMU going away. */
static void add_agent_channel(int *peer)
{
	struct vpwr_channel *ch;
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0,
				    sv), 0);
	ck_assert_int_eq(vpwr_channel_open_fd(sv[0], NULL, &ch), 0);
	ck_assert_int_gt(vpwr_host_add_channel(h, "agent", ch), 0);
	*peer = sv[1];
}

static int handle_scale_max(unsigned vcpu)
{
	struct vpwr_msg req, reply;

	vpwr_msg_init(&req, VPWR_MSG_SCALE, 1, vcpu);
	req.u.scale.op = VPWR_SCALE_MAX;
	return vpwr_host_handle(h, "agent", &req, &reply);
}

/* Running, re-pinned live (vCPU 0: config pCPU 0, live pCPU 2), with a
 * wish on vCPU 0 and a channel that then goes away: kept, grace. */
static void wish_then_orphan(void)
{
	unsigned char map = 1u << 2;
	int peer;

	ck_assert_int_eq(virDomainCreate(dom), 0);
	ck_assert_int_eq(virDomainPinVcpu(dom, 0, &map, 1), 0);
	vpwr_host_refresh(h);
	add_agent_channel(&peer);
	ck_assert_int_eq(handle_scale_max(0), 0);
	ck_assert_uint_eq(freq(2), hi);
	close(peer);
	ck_assert(pump_until(no_channel, 3000));
	ck_assert_ptr_nonnull(host_dom("agent"));
	ck_assert_uint_ne(host_dom("agent")->grace_due_ns, 0);
	ck_assert_uint_eq(freq(2), hi); /* still running: still applied */
}

START_TEST(test_stopped_within_grace)
{
	VPWR_OPTS(vpwr_host_opts, ho, .backend = b, .resolver = r,
		  .grace_ms = 60000, .event_fn = on_event);
	uint32_t orig0 = freq(0), orig2 = freq(2);
	unsigned char map = 1u << 3;
	char *text = NULL;

	ck_assert_int_eq(vpwr_host_new(&ho, &h), 0);
	wish_then_orphan();

	/* Stopped: its pCPU is restored at once, grace or not, and nothing
	 * lands on its config pinning (vCPU 0 on pCPU 0). */
	watching = true;
	sets_seen = 0;
	ck_assert_int_eq(virDomainDestroy(dom), 0);
	ck_assert_int_ge(vpwr_host_refresh(h), 0);
	ck_assert_uint_eq(freq(2), orig2);
	ck_assert_uint_eq(freq(0), orig0);
	ck_assert_int_eq(sets_seen, 0);
	/* Kept for the grace period, marked as not running. */
	ck_assert_ptr_nonnull(host_dom("agent"));
	ck_assert_uint_eq(host_dom("agent")->req[0].hi_khz, hi);
	ck_assert_int_eq(vpwr_host_control(h, "{\"cmd\":\"domains\"}",
					   &text), 0);
	ck_assert_ptr_nonnull(strstr(text, "\"running\":false"));
	free(text);
	/* A request for a domain that does not run is refused. */
	ck_assert_int_eq(handle_scale_max(1), -VPWR_E_NOT_PINNED);
	ck_assert_uint_eq(freq(1), orig0);
	ck_assert_int_eq(sets_seen, 0);
	watching = false;

	/* Started again within the grace period, on other pCPUs: the kept
	 * wish follows vCPU 0's live pinning (pCPU 3), not its config. */
	ck_assert_int_eq(virDomainCreate(dom), 0);
	ck_assert_int_eq(virDomainPinVcpu(dom, 0, &map, 1), 0);
	ck_assert_int_eq(vpwr_host_refresh(h), 1);
	ck_assert_uint_eq(freq(3), hi);
	ck_assert_uint_eq(freq(0), orig0);
	ck_assert_uint_eq(freq(2), orig2);
}
END_TEST

START_TEST(test_stopped_past_grace)
{
	VPWR_OPTS(vpwr_host_opts, ho, .backend = b, .resolver = r,
		  .grace_ms = 200);
	uint32_t orig0 = freq(0), orig2 = freq(2);
	uint64_t t0;

	ck_assert_int_eq(vpwr_host_new(&ho, &h), 0);
	wish_then_orphan();
	ck_assert_int_eq(virDomainDestroy(dom), 0);
	ck_assert_int_ge(vpwr_host_refresh(h), 0);
	ck_assert_uint_eq(freq(2), orig2);
	ck_assert_uint_eq(freq(0), orig0);
	/* The grace period ends while it is down: its wishes are dropped. */
	t0 = vpwr_test_now_ms();
	while (host_dom("agent") && vpwr_test_now_ms() - t0 < 5000)
		vpwr_host_dispatch(h, 50);
	ck_assert_ptr_null(host_dom("agent"));
	/* and a start after it brings nothing back. */
	ck_assert_int_eq(virDomainCreate(dom), 0);
	vpwr_host_refresh(h);
	ck_assert_uint_eq(freq(0), orig0);
	ck_assert_uint_eq(freq(2), orig2);
}
END_TEST

/*
 * Exclusive mode: a domain shares a pCPU only with domains that run.
 * "hotplug" (node.xml) pins its vCPU 0 to pCPU 0 as "agent" does; shut
 * off, it is no neighbour.
 */
START_TEST(test_exclusive_ignores_stopped)
{
	VPWR_OPTS(vpwr_host_opts, ho, .backend = b, .resolver = r,
		  .mode = VPWR_ARB_EXCLUSIVE);
	virDomainPtr other = virDomainLookupByName(conn, "hotplug");

	virDomainPtr *all;
	int n = virConnectListAllDomains(conn, &all,
					 VIR_CONNECT_LIST_DOMAINS_ACTIVE);

	/* Only "hotplug" runs beside "agent" (the unpinned ones float over
	 * every pCPU). */
	ck_assert_int_ge(n, 0);
	for (int i = 0; i < n; i++) {
		if (strcmp(virDomainGetName(all[i]), "hotplug"))
			ck_assert_int_eq(virDomainDestroy(all[i]), 0);
		virDomainFree(all[i]);
	}
	free(all);
	ck_assert_ptr_nonnull(other);
	ck_assert_int_eq(virDomainIsActive(other), 1);
	ck_assert_int_eq(virDomainCreate(dom), 0);
	ck_assert_int_eq(vpwr_host_new(&ho, &h), 0);
	ck_assert_int_ge(vpwr_host_refresh(h), 0);
	ck_assert_int_eq(handle_scale_max(0), -VPWR_E_SHARED_CPU);
	ck_assert_int_eq(virDomainDestroy(other), 0);
	ck_assert_int_ge(vpwr_host_refresh(h), 0);
	ck_assert_int_eq(handle_scale_max(0), 0);
	ck_assert_uint_eq(freq(0), hi);
	ck_assert_int_eq(virDomainCreate(other), 0);
	ck_assert_int_ge(vpwr_host_refresh(h), 0);
	ck_assert_int_eq(handle_scale_max(0), -VPWR_E_SHARED_CPU);
	virDomainFree(other);
}
END_TEST

/*
 * auto_channels with a grace period: the channel the host attached goes
 * when the domain stops, which counts as its guest going away: the wishes
 * are kept (not applied: it does not run) and come back when the domain
 * starts again within the grace period, on its live pinning.
 */
START_TEST(test_auto_channels_grace)
{
	VPWR_OPTS(vpwr_host_opts, ho, .backend = b, .resolver = r,
		  .auto_channels = 1, .grace_ms = 60000, .event_fn = on_event);
	struct vpwr_listener *qemu;
	struct vpwr_channel *q;
	unsigned char map = 1u << 3;
	uint32_t orig0 = freq(0);
	char uri[4300];

	snprintf(uri, sizeof(uri), "unix-listen:%s/agent.0", dir);
	ck_assert_int_eq(vpwr_listener_open(uri, NULL, &qemu), 0);
	ck_assert_int_eq(vpwr_host_new(&ho, &h), 0);
	ck_assert_int_eq(virDomainCreate(dom), 0);
	ck_assert(pump_until(one_channel, 3000));
	ck_assert_int_eq(vpwr_listener_accept(qemu, &q), 0);
	ck_assert_int_eq(scale_max(q, 0), 0);
	ck_assert_uint_eq(freq(0), hi);

	ck_assert_int_eq(virDomainDestroy(dom), 0);
	ck_assert(pump_until(no_channel, 3000));
	vpwr_channel_free(q);
	ck_assert_uint_eq(freq(0), orig0);
	ck_assert_ptr_nonnull(host_dom("agent"));
	ck_assert_uint_ne(host_dom("agent")->grace_due_ns, 0);

	/* Back within the grace period, vCPU 0 now on pCPU 3. */
	ck_assert_int_eq(virDomainCreate(dom), 0);
	ck_assert_int_eq(virDomainPinVcpu(dom, 0, &map, 1), 0);
	ck_assert_int_ge(vpwr_host_refresh(h), 0);
	ck_assert(pump_until(one_channel, 3000));
	ck_assert_uint_eq(freq(3), hi);
	ck_assert_uint_eq(freq(0), orig0);
	ck_assert_uint_eq(host_dom("agent")->grace_due_ns, 0);
	ck_assert_int_eq(vpwr_listener_accept(qemu, &q), 0);
	vpwr_channel_free(q);
	vpwr_listener_free(qemu);
}
END_TEST

/* A discovered channel the operator detached comes back at the next
 * refresh, although the resolver reports no change. */
START_TEST(test_detach_discovered)
{
	VPWR_OPTS(vpwr_host_opts, ho, .backend = b, .resolver = r,
		  .auto_channels = 1);
	struct vpwr_listener *qemu;
	struct vpwr_channel *q;
	char uri[4300];

	snprintf(uri, sizeof(uri), "unix-listen:%s/agent.0", dir);
	ck_assert_int_eq(vpwr_listener_open(uri, NULL, &qemu), 0);
	ck_assert_int_eq(vpwr_host_new(&ho, &h), 0);
	ck_assert_int_eq(virDomainCreate(dom), 0);
	ck_assert(pump_until(one_channel, 3000));
	ck_assert_int_eq(vpwr_listener_accept(qemu, &q), 0);
	vpwr_channel_free(q);
	/* Every event of the start handled: nothing pending. */
	for (int i = 0; i < 10; i++)
		vpwr_host_dispatch(h, 20);
	ck_assert_int_eq(vpwr_host_refresh(h), 0);
	ck_assert(pump_until(one_channel, 3000));
	ck_assert_int_eq(vpwr_listener_accept(qemu, &q), 0);
	vpwr_channel_free(q);

	snprintf(uri, sizeof(uri), "virtio-serial-host:%s/agent.0", dir);
	ck_assert_int_eq(vpwr_host_detach(h, uri), 1);
	ck_assert_int_eq(vpwr_host_nr_channels(h), 0);
	ck_assert_int_eq(vpwr_host_refresh(h), 0); /* nothing changed */
	ck_assert(pump_until(one_channel, 3000));
	ck_assert_int_eq(vpwr_listener_accept(qemu, &q), 0);
	vpwr_channel_free(q);
	vpwr_listener_free(qemu);
}
END_TEST

static unsigned traffic_calls;

static int count_traffic(const char *domain, const struct vpwr_policy *p,
			 uint64_t *packets, void *ud)
{
	(void)domain, (void)p, (void)ud;
	traffic_calls++;
	*packets = traffic_calls * 1000;
	return 0;
}

/* A domain that does not run has no traffic to sample: its TRAFFIC
 * policy's sampling stops while it is down (kept for the grace period)
 * and starts again when it runs. */
START_TEST(test_traffic_paused_while_stopped)
{
	VPWR_OPTS(vpwr_host_opts, ho, .backend = b, .resolver = r,
		  .grace_ms = 60000, .traffic_fn = count_traffic,
		  .traffic_period_ms = 10);
	struct vpwr_msg req, reply;
	unsigned before;
	int peer;

	ck_assert_int_eq(vpwr_host_new(&ho, &h), 0);
	ck_assert_int_eq(virDomainCreate(dom), 0);
	ck_assert_int_ge(vpwr_host_refresh(h), 0);
	add_agent_channel(&peer);
	vpwr_msg_init(&req, VPWR_MSG_POLICY_SET, 1, VPWR_VCPU_NONE);
	req.u.policy.kind = VPWR_POLICY_TRAFFIC;
	req.u.policy.min_pps = 1000;
	req.u.policy.avg_pps = 10000;
	req.u.policy.max_pps = 100000;
	ck_assert_int_eq(vpwr_host_handle(h, "agent", &req, &reply), 0);
	for (int i = 0; i < 10; i++)
		vpwr_host_dispatch(h, 20);
	ck_assert_uint_gt(traffic_calls, 2);

	close(peer);
	ck_assert(pump_until(no_channel, 3000));
	ck_assert_int_eq(virDomainDestroy(dom), 0);
	ck_assert_int_ge(vpwr_host_refresh(h), 0);
	before = traffic_calls;
	for (int i = 0; i < 10; i++)
		vpwr_host_dispatch(h, 20);
	ck_assert_uint_eq(traffic_calls, before);
	ck_assert_ptr_nonnull(host_dom("agent")); /* kept: grace */

	ck_assert_int_eq(virDomainCreate(dom), 0);
	ck_assert_int_ge(vpwr_host_refresh(h), 0);
	for (int i = 0; i < 10; i++)
		vpwr_host_dispatch(h, 20);
	ck_assert_uint_gt(traffic_calls, before);
}
END_TEST

/*
 * Exclusive mode and the grace period: what "hotplug" was granted on
 * pCPU 0 while "agent" was down stays hotplug's when agent comes back
 * with a kept wish for the same pCPU; agent's wish is dropped.
 */
START_TEST(test_exclusive_kept_wish_returns)
{
	VPWR_OPTS(vpwr_host_opts, ho, .backend = b, .resolver = r,
		  .mode = VPWR_ARB_EXCLUSIVE, .grace_ms = 60000);
	virDomainPtr other = virDomainLookupByName(conn, "hotplug");
	struct vpwr_host_cpu_info info;
	struct vpwr_msg req, reply;
	virDomainPtr *all;
	int n = virConnectListAllDomains(conn, &all,
					 VIR_CONNECT_LIST_DOMAINS_ACTIVE);
	int peer;

	ck_assert_int_ge(n, 0);
	for (int i = 0; i < n; i++) {
		ck_assert_int_eq(virDomainDestroy(all[i]), 0);
		virDomainFree(all[i]);
	}
	free(all);
	ck_assert_ptr_nonnull(other);
	ck_assert_int_eq(vpwr_host_new(&ho, &h), 0);
	ck_assert_int_eq(virDomainCreate(dom), 0);
	ck_assert_int_ge(vpwr_host_refresh(h), 0);
	add_agent_channel(&peer);
	ck_assert_int_eq(handle_scale_max(0), 0);
	ck_assert_uint_eq(freq(0), hi);
	close(peer);
	ck_assert(pump_until(no_channel, 3000));
	ck_assert_int_eq(virDomainDestroy(dom), 0);
	ck_assert_int_ge(vpwr_host_refresh(h), 0);

	/* hotplug runs on pCPU 0 meanwhile, and is granted min. */
	ck_assert_int_eq(virDomainCreate(other), 0);
	ck_assert_int_ge(vpwr_host_refresh(h), 0);
	vpwr_msg_init(&req, VPWR_MSG_SCALE, 1, 0);
	req.u.scale.op = VPWR_SCALE_MIN;
	ck_assert_int_eq(vpwr_host_handle(h, "hotplug", &req, &reply), 0);
	ck_assert_uint_eq(freq(0), lo);

	/* agent is back: its kept wish for pCPU 0 is dropped. */
	ck_assert_int_eq(virDomainCreate(dom), 0);
	ck_assert_int_ge(vpwr_host_refresh(h), 0);
	ck_assert_uint_eq(freq(0), lo);
	ck_assert_int_eq(vpwr_host_cpu_info(h, 0, &info), 0);
	ck_assert_str_eq(info.winner, "hotplug");
	ck_assert_uint_eq(info.nr_requests, 1);
	virDomainFree(other);
}
END_TEST

/* ------------------------------------------------------ guest ports */

/*
 * The test:/// driver keeps no port state (<target state=...>): the
 * resolver's channel list is patched on its way to the host, as if libvirt
 * said that a guest has the port of agent.0 open (1), closed (0) or does
 * not say (-1).
 */
static int port_state = -1;
static unsigned port_events;       /* guest_port_events reported */
static struct vpwr_resolver_ops patched_ops;
static const struct vpwr_resolver_ops *real_ops;

struct patch_ctx {
	int (*fn)(const struct vpwr_resolver_channel *ch, void *userdata);
	void *userdata;
};

static int patch_one(const struct vpwr_resolver_channel *ch, void *ud)
{
	struct patch_ctx *x = ud;
	struct vpwr_resolver_channel c = *ch;
	size_t n = strlen(c.path);

	if (c.running && n >= 8 && !strcmp(c.path + n - 8, "/agent.0"))
		c.guest_open = port_state;
	c.guest_port_events = port_events;
	return x->fn(&c, x->userdata);
}

static int patched_foreach_channel(
	struct vpwr_resolver *res, const char *domain,
	int (*fn)(const struct vpwr_resolver_channel *ch, void *userdata),
	void *userdata)
{
	struct patch_ctx x = { fn, userdata };

	return real_ops->foreach_channel(res, domain, patch_one, &x);
}

static void patch_resolver(void)
{
	port_state = -1;
	if (r->ops == &patched_ops)
		return;
	real_ops = r->ops;
	patched_ops = *r->ops;
	patched_ops.foreach_channel = patched_foreach_channel;
	r->ops = &patched_ops;
	port_state = -1;
}

static struct logbuf hlog;

/* Running, the host connected to agent.0 (QEMU listening: *qemu), a
 * guest with the port open that asked for the maximum on vCPU 0. */
static struct vpwr_channel *port_setup(unsigned grace_ms,
				       struct vpwr_listener **qemu)
{
	VPWR_OPTS(vpwr_host_opts, ho, .backend = b, .resolver = r,
		  .auto_channels = 1, .grace_ms = grace_ms,
		  .log_fn = capture, .log_userdata = &hlog,
		  .log_level = VPWR_LOG_DEBUG);
	struct vpwr_channel *q;
	char uri[4300];

	memset(&hlog, 0, sizeof(hlog));
	patch_resolver();
	snprintf(uri, sizeof(uri), "unix-listen:%s/agent.0", dir);
	ck_assert_int_eq(vpwr_listener_open(uri, NULL, qemu), 0);
	ck_assert_int_eq(virDomainCreate(dom), 0);
	ck_assert_int_eq(vpwr_host_new(&ho, &h), 0);
	ck_assert(pump_until(one_channel, 3000));
	ck_assert_int_eq(vpwr_listener_accept(*qemu, &q), 0);
	port_state = 1;
	ck_assert_int_ge(vpwr_host_refresh(h), 0);
	ck_assert_int_eq(scale_max(q, 0), 0);
	ck_assert_uint_eq(freq(0), hi);
	return q;
}

static void port_teardown(struct vpwr_channel *q, struct vpwr_listener *qemu)
{
	vpwr_host_free(h);
	h = NULL;
	vpwr_channel_free(q);
	vpwr_listener_free(qemu);
}

static bool guest_closed_shown(void)
{
	char *text = NULL;
	bool yes;

	ck_assert_int_eq(vpwr_host_control(h, "{\"cmd\":\"channels\"}",
					   &text), 0);
	yes = strstr(text, "\"guest_closed\":true") != NULL;
	free(text);
	return yes;
}

/*
 * No grace: the guest closing its port releases the domain's wishes at
 * once, the channel stays, what the process left half-sent is dropped,
 * and the next process's bytes open it again.
 */
START_TEST(test_port_closed)
{
	const struct vpwr_codec *c = vpwr_codec_native();
	struct vpwr_listener *qemu;
	struct vpwr_channel *q = port_setup(0, &qemu);
	uint32_t orig0 = freq(1);
	uint8_t buf[VPWR_NATIVE_MAX_FRAME];
	struct vpwr_msg m;
	int n;

	/* Half a frame, then the process goes. */
	vpwr_msg_init(&m, VPWR_MSG_SCALE, 7, 1);
	m.u.scale.op = VPWR_SCALE_MAX;
	n = vpwr_codec_encode(c, &m, buf, sizeof(buf));
	ck_assert_int_eq(vpwr_channel_write(q, buf, 10), 10);
	for (int i = 0; i < 5; i++)
		vpwr_host_dispatch(h, 10);
	ck_assert(!guest_closed_shown());
	port_state = 0;
	ck_assert_int_ge(vpwr_host_refresh(h), 0);
	ck_assert_uint_eq(freq(0), orig0);
	ck_assert_int_eq(vpwr_host_nr_channels(h), 1);
	ck_assert(guest_closed_shown());
	ck_assert_ptr_nonnull(strstr(hlog.text, "domain agent: guest closed "
				     "port virtio.serial.port.poweragent.0"));
	/* Said once: the next refresh finds it closed already. */
	ck_assert_int_ge(vpwr_host_refresh(h), 0);
	ck_assert_int_eq(occurrences(hlog.text, "guest closed port"), 1);
	/* The next process: its whole frames are understood (the old half
	 * is gone) and its bytes show the port open before libvirt does. */
	ck_assert_int_eq(scale_max(q, 0), 0);
	ck_assert_uint_eq(freq(0), hi);
	ck_assert(!guest_closed_shown());
	ck_assert_ptr_nonnull(strstr(hlog.text, "guest opened port "
				     "virtio.serial.port.poweragent.0 "
				     "(channel 1, sent data)"));
	/* libvirt still says closed (QEMU sends at most one event a second
	 * per port): a refresh for something else reads that old state and
	 * changes nothing... */
	ck_assert_int_ge(vpwr_host_refresh(h), 0);
	ck_assert_uint_eq(freq(0), hi);
	ck_assert(!guest_closed_shown());
	/* ...but a new port event saying "closed" again (the open and the
	 * close of a short-lived process folded into one) closes it. */
	port_events++;
	ck_assert_int_ge(vpwr_host_refresh(h), 0);
	ck_assert_uint_eq(freq(0), orig0);
	ck_assert(guest_closed_shown());
	ck_assert_int_eq(occurrences(hlog.text, "guest closed port"), 2);
	(void)n;
	port_teardown(q, qemu);
}
END_TEST

/* With a grace period: kept while it lasts, back if the port opens again
 * within it, released after it; the channel stays throughout. */
START_TEST(test_port_closed_grace)
{
	struct vpwr_listener *qemu;
	struct vpwr_channel *q = port_setup(300, &qemu);
	uint32_t orig0 = freq(1);
	uint64_t t0;

	port_state = 0;
	ck_assert_int_ge(vpwr_host_refresh(h), 0);
	ck_assert_uint_eq(freq(0), hi);
	ck_assert_uint_ne(host_dom("agent")->grace_due_ns, 0);
	port_state = 1;
	ck_assert_int_ge(vpwr_host_refresh(h), 0);
	ck_assert_uint_eq(host_dom("agent")->grace_due_ns, 0);
	ck_assert_ptr_nonnull(strstr(hlog.text, "guest opened port "
				     "virtio.serial.port.poweragent.0 "
				     "(channel 1, libvirt)"));
	t0 = vpwr_test_now_ms();
	while (vpwr_test_now_ms() - t0 < 500)
		vpwr_host_dispatch(h, 50);
	ck_assert_uint_eq(freq(0), hi);

	port_state = 0;
	ck_assert_int_ge(vpwr_host_refresh(h), 0);
	t0 = vpwr_test_now_ms();
	while (freq(0) == hi && vpwr_test_now_ms() - t0 < 5000)
		vpwr_host_dispatch(h, 50);
	ck_assert_uint_eq(freq(0), orig0);
	ck_assert_uint_ge(vpwr_test_now_ms() - t0, 250);
	ck_assert_int_eq(vpwr_host_nr_channels(h), 1);
	ck_assert_ptr_nonnull(strstr(hlog.text, "no channel came back"));
	port_teardown(q, qemu);
}
END_TEST

/* Another channel of the domain still open: a closed port is one channel
 * of several going, which leaves the wishes alone; when the other goes
 * too, they go.  A port never opened since the start is no event. */
START_TEST(test_port_closed_other_channel)
{
	struct vpwr_listener *qemu;
	struct vpwr_channel *q = port_setup(0, &qemu);
	uint32_t orig0 = freq(1);
	int peer;

	add_agent_channel(&peer);
	port_state = 0;
	ck_assert_int_ge(vpwr_host_refresh(h), 0);
	ck_assert_uint_eq(freq(0), hi);
	ck_assert_int_eq(vpwr_host_nr_channels(h), 2);
	close(peer);
	ck_assert(pump_until(one_channel, 3000));
	ck_assert_uint_eq(freq(0), orig0);
	port_teardown(q, qemu);

	/* A fresh host finding the port not yet opened says so quietly. */
	memset(&hlog, 0, sizeof(hlog));
	ck_assert_int_eq(virDomainDestroy(dom), 0);
	q = port_setup(0, &qemu);
	ck_assert_ptr_null(strstr(hlog.text, "guest closed port"));
	port_teardown(q, qemu);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("resolver_libvirt_host");
	TCase *tc = tcase_create("host");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, test_lifecycle_and_repin);
	tcase_add_test(tc, test_stopped_within_grace);
	tcase_add_test(tc, test_stopped_past_grace);
	tcase_add_test(tc, test_exclusive_ignores_stopped);
	tcase_add_test(tc, test_auto_channels_grace);
	tcase_add_test(tc, test_detach_discovered);
	tcase_add_test(tc, test_traffic_paused_while_stopped);
	tcase_add_test(tc, test_exclusive_kept_wish_returns);
	tcase_add_test(tc, test_port_closed);
	tcase_add_test(tc, test_port_closed_grace);
	tcase_add_test(tc, test_port_closed_other_channel);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(suite());
}
