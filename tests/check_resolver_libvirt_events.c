/* The libvirt: resolver's change fd driven by libvirt domain events: the
 * test registers libvirt's default event loop, as an application would
 * (the library never does), and runs it on its own thread or on the
 * test's.  The test:/// driver emits lifecycle events, not TUNABLE ones
 * for virDomainPinVcpu. */
#include <pthread.h>
#include <stdatomic.h>
#include <time.h>

#include "lvtest.h"

static pthread_once_t event_once = PTHREAD_ONCE_INIT;

static void register_event_loop(void)
{
	ck_assert_int_eq(virEventRegisterDefaultImpl(), 0);
}

static void events_setup(void)
{
	pthread_once(&event_once, register_event_loop);
}

static void tick(int timer, void *opaque)
{
	(void)timer, (void)opaque;
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* Run libvirt's loop on this thread until fd is readable or time is up;
 * a 20 ms timer keeps each iteration short. */
static bool pump_until_readable(int fd, int timeout_ms)
{
	long long end = now_ms() + timeout_ms;
	int timer = virEventAddTimeout(20, tick, NULL, NULL);

	ck_assert_int_ge(timer, 0);
	while (!readable(fd, 0) && now_ms() < end)
		ck_assert_int_eq(virEventRunDefaultImpl(), 0);
	virEventRemoveTimeout(timer);
	return readable(fd, 0);
}

/* Run libvirt's loop a little: it frees removed callbacks and timers
 * there, which keeps valgrind's and ASan's leak reports clean. */
static void pump(int ms)
{
	ck_assert(!pump_until_readable(-1, ms));
}

START_TEST(test_events_pumped)
{
	struct shared s;
	virDomainPtr d;
	int fd;

	shared_open(&s);
	ck_assert_ptr_null(strstr(s.lb.text, "no domain events"));
	ck_assert_ptr_nonnull(strstr(s.lb.text, "events on"));
	fd = vpwr_resolver_change_fd(s.r);
	ck_assert(!pump_until_readable(fd, 50));

	d = domain(&s, "pinned");
	ck_assert_int_eq(virDomainDestroy(d), 0);
	ck_assert(pump_until_readable(fd, 5000));
	ck_assert_int_eq(vpwr_resolver_refresh(s.r), 1);
	ck_assert(!readable(fd, 0));
	ck_assert_int_eq(vpwr_resolver_foreach_channel(s.r, "pinned",
						       collect_channel,
						       &(struct chans){ 0 }),
			 2);

	ck_assert_int_eq(virDomainCreate(d), 0);
	ck_assert(pump_until_readable(fd, 5000));
	ck_assert_int_eq(vpwr_resolver_refresh(s.r), 1);
	virDomainFree(d);

	/* The test driver emits no TUNABLE event for virDomainPinVcpu (QEMU
	 * does): refresh() still sees it. */
	pin(&s, "pinned", 0, 1);
	ck_assert_int_eq(vpwr_resolver_refresh(s.r), 1);
	lookup_eq(s.r, "pinned", 0, "1");

	/* A lost connection wakes the fd too, and the reconnection
	 * subscribes again. */
	vpwr_resolver_libvirt_connection_lost(s.r);
	ck_assert(readable(fd, 0));
	ck_assert_int_eq(vpwr_resolver_refresh(s.r), 1);
	ck_assert_ptr_nonnull(strstr(s.lb.text, "reconnected to " URI "\n"));
	shared_close(&s);
	pump(50);
}
END_TEST

/* Defining and undefining a domain are lifecycle events too. */
START_TEST(test_events_define)
{
	struct shared s;
	virDomainPtr d;
	int fd;

	shared_open(&s);
	fd = vpwr_resolver_change_fd(s.r);
	d = virDomainDefineXML(s.conn,
			       "<domain type='test'><name>late</name>"
			       "<memory>65536</memory><vcpu>1</vcpu>"
			       "<os><type>hvm</type></os></domain>");
	ck_assert_ptr_nonnull(d);
	ck_assert(pump_until_readable(fd, 5000));
	ck_assert_int_eq(vpwr_resolver_refresh(s.r), 1);
	ck_assert_int_eq(vpwr_resolver_nr_vcpus(s.r, "late"), 1);
	ck_assert_int_eq(virDomainUndefine(d), 0);
	virDomainFree(d);
	ck_assert(pump_until_readable(fd, 5000));
	ck_assert_int_eq(vpwr_resolver_refresh(s.r), 1);
	ck_assert_int_eq(vpwr_resolver_nr_vcpus(s.r, "late"),
			 -VPWR_E_NO_DOMAIN);
	/* Nothing more happened: nothing more to read. */
	ck_assert(!pump_until_readable(fd, 50));
	ck_assert_int_eq(vpwr_resolver_refresh(s.r), 0);
	shared_close(&s);
	pump(50);
}
END_TEST

/*
 * port_events where libvirt cannot give QEMU's VSERPORT_CHANGE (the test
 * driver is not QEMU): the reason once, and the events of the read-only
 * connection work as before, after a reconnection too.
 */
START_TEST(test_port_events_refused)
{
	VPWR_OPTS(vpwr_resolver_opts, o, .log_fn = capture,
		  .log_level = VPWR_LOG_DEBUG, .port_events = 1);
	virConnectPtr conn = virConnectOpen(URI);
	struct vpwr_resolver *r = NULL;
	struct logbuf lb = { 0 };
	int fd;

	ck_assert_ptr_nonnull(conn);
	virConnSetErrorFunc(conn, NULL, quiet_libvirt);
	o.log_userdata = &lb;
	ck_assert_int_eq(vpwr_resolver_libvirt_adopt(conn, &o, &r), 0);
	ck_assert_ptr_nonnull(strstr(lb.text, "events on"));
	/* libvirt's reason follows. */
	ck_assert_ptr_nonnull(strstr(lb.text, "no port events (VSERPORT_CHANGE: "
					      "this function is not supported"));
	ck_assert_ptr_null(strstr(lb.text, "port events on"));
	fd = vpwr_resolver_change_fd(r);
	vpwr_resolver_libvirt_connection_lost(r);
	ck_assert(readable(fd, 0));
	ck_assert_int_ge(vpwr_resolver_refresh(r), 0);
	ck_assert_ptr_nonnull(strstr(lb.text, "reconnected to " URI "\n"));
	/* Once per handle; the other events are still there. */
	ck_assert_int_eq(occurrences(lb.text, "no port events"), 1);
	ck_assert_ptr_null(strstr(lb.text, "without events now"));
	vpwr_resolver_free(r);
	ck_assert_int_eq(virConnectClose(conn), 0);
	pump(50);
}
END_TEST

/* libvirt's loop on its own thread, as a daemon would run it. */
struct loop_thread {
	pthread_t tid;
	atomic_bool stop;
	int timer;
};

static void *loop_main(void *arg)
{
	struct loop_thread *lt = arg;

	while (!atomic_load(&lt->stop))
		virEventRunDefaultImpl();
	return NULL;
}

static void loop_start(struct loop_thread *lt)
{
	atomic_init(&lt->stop, false);
	lt->timer = virEventAddTimeout(10, tick, NULL, NULL);
	ck_assert_int_ge(lt->timer, 0);
	ck_assert_int_eq(pthread_create(&lt->tid, NULL, loop_main, lt), 0);
}

static void loop_stop(struct loop_thread *lt)
{
	atomic_store(&lt->stop, true);
	ck_assert_int_eq(pthread_join(lt->tid, NULL), 0);
	virEventRemoveTimeout(lt->timer);
}

START_TEST(test_events_thread)
{
	struct loop_thread lt;
	struct shared s;
	virDomainPtr d;
	int fd;

	shared_open(&s);
	fd = vpwr_resolver_change_fd(s.r);
	loop_start(&lt);

	d = domain(&s, "partial");
	ck_assert_int_eq(virDomainDestroy(d), 0);
	ck_assert(readable(fd, 5000));
	ck_assert_int_eq(vpwr_resolver_refresh(s.r), 1);
	lookup_eq(s.r, "partial", 1, "4-5");
	ck_assert_int_eq(virDomainCreate(d), 0);
	ck_assert(readable(fd, 5000));
	ck_assert_int_eq(vpwr_resolver_refresh(s.r), 1);
	/* Freed while the loop runs and events are still arriving. */
	ck_assert_int_eq(virDomainDestroy(d), 0);
	vpwr_resolver_free(s.r);
	s.r = NULL;
	virDomainFree(d);
	loop_stop(&lt);
	shared_close(&s);
	pump(50);
}
END_TEST

static Suite *resolver_libvirt_events_suite(void)
{
	Suite *s = suite_create("resolver_libvirt_events");
	TCase *ev = tcase_create("events");

	tcase_add_checked_fixture(ev, events_setup, NULL);
	tcase_add_test(ev, test_events_pumped);
	tcase_add_test(ev, test_events_define);
	tcase_add_test(ev, test_events_thread);
	tcase_add_test(ev, test_port_events_refused);
	tcase_set_timeout(ev, 30);
	suite_add_tcase(s, ev);
	return s;
}

int main(void)
{
	return vpwr_test_run(resolver_libvirt_events_suite());
}
