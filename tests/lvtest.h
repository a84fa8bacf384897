/* Helpers shared by the libvirt resolver suites (check_resolver_libvirt*.c):
 * the fixture node, a log capture, and a test:/// connection shared by the
 * test and a resolver.  Static inline so that a suite may leave some
 * unused. */
#ifndef VPWR_LVTEST_H
#define VPWR_LVTEST_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>

#include "libvpwr/error.h"
#include "libvpwr/resolver.h"
#include "resolver_libvirt.h"
#include "testutil.h"

#define NODE VPWR_FIXTURES "/libvirt/node.xml"
#define URI "test://" NODE

/* Everything the library logged, one message per line. */
struct logbuf {
	char text[16384];
	int count;
};

static inline void capture(enum vpwr_log_level level, const char *msg, void *ud)
{
	struct logbuf *lb = ud;
	size_t len = strlen(lb->text);

	(void)level;
	snprintf(lb->text + len, sizeof(lb->text) - len, "%s\n", msg);
	lb->count++;
}

static inline int occurrences(const char *text, const char *needle)
{
	int n = 0;

	for (const char *p = strstr(text, needle); p;
	     p = strstr(p + 1, needle))
		n++;
	return n;
}

static inline int open_logged(const char *uri, struct logbuf *lb,
		       struct vpwr_resolver **r)
{
	VPWR_OPTS(vpwr_resolver_opts, o, .log_fn = capture, .log_userdata = lb,
		  .log_level = VPWR_LOG_DEBUG);

	memset(lb, 0, sizeof(*lb));
	return vpwr_resolver_open(uri, &o, r);
}

static inline void quiet_libvirt(void *ud, virErrorPtr err)
{
	(void)ud, (void)err;
}

/*
 * The test and the resolver on one read-write test:/// connection: each
 * test:/// connection has a private copy of the node, so changes must be
 * made on the connection the resolver reads.
 */
struct shared {
	virConnectPtr conn;
	struct vpwr_resolver *r;
	struct logbuf lb;
};

static inline void shared_open(struct shared *s)
{
	VPWR_OPTS(vpwr_resolver_opts, o, .log_fn = capture,
		  .log_userdata = &s->lb, .log_level = VPWR_LOG_DEBUG);

	memset(s, 0, sizeof(*s));
	s->conn = virConnectOpen(URI);
	ck_assert_ptr_nonnull(s->conn);
	/* An adopted connection keeps its owner's error handler; without one
	 * libvirt prints each failed event registration. */
	virConnSetErrorFunc(s->conn, NULL, quiet_libvirt);
	ck_assert_int_eq(vpwr_resolver_libvirt_adopt(s->conn, &o, &s->r), 0);
	ck_assert_ptr_nonnull(s->r);
}

static inline void shared_close(struct shared *s)
{
	vpwr_resolver_free(s->r);
	ck_assert_int_eq(virConnectClose(s->conn), 0);
}

static inline virDomainPtr domain(struct shared *s, const char *name)
{
	virDomainPtr d = virDomainLookupByName(s->conn, name);

	ck_assert_ptr_nonnull(d);
	return d;
}

static inline void pin(struct shared *s, const char *name, unsigned vcpu,
		unsigned cpu)
{
	virDomainPtr d = domain(s, name);
	unsigned char map = (unsigned char)(1u << cpu);

	ck_assert_uint_lt(cpu, 8);
	ck_assert_int_eq(virDomainPinVcpu(d, vcpu, &map, 1), 0);
	virDomainFree(d);
}

static inline void lookup_eq(struct vpwr_resolver *r, const char *domain,
		      unsigned vcpu, const char *want)
{
	struct vpwr_cpuset set;
	char buf[64];

	ck_assert_int_eq(vpwr_resolver_lookup(r, domain, vcpu, &set), 0);
	vpwr_cpuset_format(&set, buf, sizeof(buf));
	ck_assert_str_eq(buf, want);
}

static inline bool readable(int fd, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };

	return poll(&p, 1, timeout_ms) == 1 && (p.revents & POLLIN);
}

struct names {
	char seen[16][64];
	int n;
};

static inline void collect(const char *domain, void *ud)
{
	struct names *nm = ud;

	if (nm->n < 16)
		snprintf(nm->seen[nm->n], sizeof(nm->seen[0]), "%s", domain);
	nm->n++;
}

/* The channels reported, as "domain|target|path|mode|running" lines. */
struct chans {
	char text[2048];
	int calls;
	int stop_at;               /* return -42 on this call (1-based) */
};

static inline int collect_channel(const struct vpwr_resolver_channel *ch, void *ud)
{
	struct chans *c = ud;
	size_t len = strlen(c->text);

	ck_assert_uint_ge(ch->sz, sizeof(*ch));
	c->calls++;
	if (c->calls == c->stop_at)
		return -42;
	snprintf(c->text + len, sizeof(c->text) - len, "%s|%s|%s|%s|%d\n",
		 ch->domain, ch->target_name, ch->path,
		 ch->source_mode == VPWR_CHANNEL_SOURCE_BIND	 ? "bind"
		 : ch->source_mode == VPWR_CHANNEL_SOURCE_CONNECT ? "connect"
								  : "?",
		 ch->running);
	return 0;
}

/* Interfaces as "domain|mac|type|target_dev|pci_addr|running" lines. */
static inline int collect_interface(const struct vpwr_resolver_interface *ifc,
				    void *ud)
{
	struct chans *c = ud;
	size_t len = strlen(c->text);

	ck_assert_uint_ge(ifc->sz, sizeof(*ifc));
	c->calls++;
	if (c->calls == c->stop_at)
		return -42;
	snprintf(c->text + len, sizeof(c->text) - len,
		 "%s|%02x:%02x:%02x:%02x:%02x:%02x|%s|%s|%s|%d\n", ifc->domain,
		 ifc->mac[0], ifc->mac[1], ifc->mac[2], ifc->mac[3],
		 ifc->mac[4], ifc->mac[5], ifc->type ? ifc->type : "-",
		 ifc->target_dev ? ifc->target_dev : "-",
		 ifc->pci_addr ? ifc->pci_addr : "-", ifc->running);
	return 0;
}

#endif
