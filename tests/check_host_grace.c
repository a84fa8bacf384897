/*
 * The grace period: when a domain's last channel goes away, its requests
 * and policies stay for grace_ms; a channel of the domain that comes back
 * within it keeps them; after it, the domain's CPUs are restored.  The
 * operator's vpwr_host_remove_channel() restores at once.
 */
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "policy_testutil.h"

static const char *pins =
	"{\"domains\": {"
	" \"vm1\": {\"vcpus\": [\"0\"]},"
	" \"vm2\": {\"vcpus\": [\"1\"]}}}";

static struct pt_env e;

static void open_with_grace(unsigned grace_ms)
{
	VPWR_OPTS(vpwr_host_opts, o, .grace_ms = grace_ms);

	pt_open(&e, pins, &o);
}

static void teardown(void)
{
	pt_close(&e);
}

/* A channel of `dom` over a socketpair; *peer is the guest's end. */
static int add_channel(const char *dom, int *peer)
{
	struct vpwr_channel *ch;
	int sv[2], id;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	ck_assert_int_eq(vpwr_channel_open_fd(sv[0], NULL, &ch), 0);
	id = vpwr_host_add_channel(e.h, dom, ch);
	ck_assert_int_gt(id, 0);
	*peer = sv[1];
	return id;
}

/* The guest hangs up; the host notices. */
static void hang_up(int peer)
{
	int before = vpwr_host_nr_channels(e.h);
	uint64_t t0 = vpwr_test_now_ms();

	close(peer);
	while (vpwr_host_nr_channels(e.h) == before &&
	       vpwr_test_now_ms() - t0 < 10000)
		vpwr_host_dispatch(e.h, 1000);
	ck_assert_int_eq(vpwr_host_nr_channels(e.h), before - 1);
}

static struct host_domain *domain(const char *name)
{
	for (struct host_domain *d = e.h->domains; d; d = d->next)
		if (!strcmp(d->name, name))
			return d;
	return NULL;
}

START_TEST(kept_within_and_on_return)
{
	struct vpwr_policy t = pt_policy(VPWR_POLICY_TIME);
	char *text = NULL;
	int peer, id;

	open_with_grace(60000);
	add_channel("vm1", &peer);
	ck_assert_int_eq(pt_request(&e, "vm1", VPWR_MSG_SCALE, VPWR_SCALE_MAX), 0);
	t.quiet_hours = pt_hours(0, 24);
	ck_assert_int_eq(pt_set(&e, "vm2", &t, NULL), 0);
	ck_assert_uint_eq(pt_freq(&e, 0), e.hi);
	hang_up(peer);
	/* Kept, with the grace period on the monotonic timer. */
	ck_assert_uint_eq(pt_freq(&e, 0), e.hi);
	ck_assert_ptr_nonnull(domain("vm1"));
	ck_assert_uint_ne(domain("vm1")->grace_due_ns, 0);
	ck_assert(pt_timer_armed(e.h->retryfd));
	ck_assert_int_eq(vpwr_host_control(e.h, "{\"cmd\":\"domains\"}", &text), 0);
	ck_assert_ptr_nonnull(strstr(text, "\"grace_ms_left\":"));
	free(text);
	/* Back within it: everything stays, and the timer is off. */
	id = add_channel("vm1", &peer);
	ck_assert_uint_eq(domain("vm1")->grace_due_ns, 0);
	ck_assert(!pt_timer_armed(e.h->retryfd));
	ck_assert_uint_eq(pt_freq(&e, 0), e.hi);
	/* The operator's removal does not wait. */
	ck_assert_int_eq(vpwr_host_remove_channel(e.h, id), 0);
	ck_assert_uint_eq(pt_freq(&e, 0), e.orig);
	ck_assert_ptr_null(domain("vm1"));
	close(peer);
	ck_assert_uint_eq(pt_freq(&e, 1), e.lo); /* vm2 never had a channel */
}
END_TEST

START_TEST(policies_kept_too)
{
	struct vpwr_policy t = pt_policy(VPWR_POLICY_TIME);
	int peer;

	open_with_grace(60000);
	add_channel("vm1", &peer);
	t.busy_hours = pt_hours(0, 24);
	ck_assert_int_eq(pt_set(&e, "vm1", &t, NULL), 0);
	ck_assert_uint_eq(pt_freq(&e, 0), e.hi);
	hang_up(peer);
	/* Still held and still evaluated. */
	ck_assert(pt_timer_armed(e.h->timefd));
	e.now_ms += 5 * PT_HOUR_MS;
	ck_assert_int_eq(vpwr_host_evaluate(e.h), 0);
	ck_assert_uint_eq(pt_freq(&e, 0), e.hi);
}
END_TEST

START_TEST(restored_after)
{
	int peer, peer2;
	uint64_t t0;

	open_with_grace(100);
	add_channel("vm1", &peer);
	add_channel("vm2", &peer2);
	ck_assert_int_eq(pt_request(&e, "vm1", VPWR_MSG_SCALE, VPWR_SCALE_MAX), 0);
	ck_assert_int_eq(pt_request(&e, "vm2", VPWR_MSG_SCALE, VPWR_SCALE_MIN), 0);
	t0 = vpwr_test_now_ms();
	hang_up(peer);
	while (pt_freq(&e, 0) != e.orig && vpwr_test_now_ms() - t0 < 10000)
		vpwr_host_dispatch(e.h, 1000);
	ck_assert_uint_eq(pt_freq(&e, 0), e.orig);
	ck_assert_uint_ge(vpwr_test_now_ms() - t0, 100);
	ck_assert_ptr_null(domain("vm1"));
	ck_assert_uint_eq(pt_freq(&e, 1), e.lo); /* vm2 keeps its channel */
	hang_up(peer2);
	while (pt_freq(&e, 1) != e.orig && vpwr_test_now_ms() - t0 < 10000)
		vpwr_host_dispatch(e.h, 1000);
	ck_assert_uint_eq(pt_freq(&e, 1), e.orig);
	pt_assert_idle(&e);
}
END_TEST

START_TEST(only_the_last_channel_counts)
{
	int a, b;

	open_with_grace(60000);
	add_channel("vm1", &a);
	add_channel("vm1", &b);
	ck_assert_int_eq(pt_request(&e, "vm1", VPWR_MSG_SCALE, VPWR_SCALE_MAX), 0);
	hang_up(a);
	ck_assert_uint_eq(domain("vm1")->grace_due_ns, 0);
	ck_assert(!pt_timer_armed(e.h->retryfd));
	hang_up(b);
	ck_assert_uint_ne(domain("vm1")->grace_due_ns, 0);
	ck_assert_uint_eq(pt_freq(&e, 0), e.hi);
}
END_TEST

START_TEST(nothing_to_keep_arms_nothing)
{
	int peer;

	open_with_grace(60000);
	add_channel("vm1", &peer);
	hang_up(peer);
	ck_assert_ptr_null(domain("vm1"));
	pt_assert_idle(&e);
}
END_TEST

START_TEST(no_grace_restores_at_once)
{
	int peer;

	open_with_grace(0);
	add_channel("vm1", &peer);
	ck_assert_int_eq(pt_request(&e, "vm1", VPWR_MSG_SCALE, VPWR_SCALE_MAX), 0);
	hang_up(peer);
	ck_assert_uint_eq(pt_freq(&e, 0), e.orig);
	ck_assert_ptr_null(domain("vm1"));
	pt_assert_idle(&e);
}
END_TEST

static Suite *grace_suite(void)
{
	Suite *s = suite_create("host_grace");
	TCase *tc = tcase_create("grace");

	tcase_add_checked_fixture(tc, NULL, teardown);
	tcase_add_test(tc, kept_within_and_on_return);
	tcase_add_test(tc, policies_kept_too);
	tcase_add_test(tc, restored_after);
	tcase_add_test(tc, only_the_last_channel_counts);
	tcase_add_test(tc, nothing_to_keep_arms_nothing);
	tcase_add_test(tc, no_grace_restores_at_once);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(grace_suite());
}
