/* The libvirt: resolver against libvirt's test:/// driver (no daemon) and
 * tests/fixtures/libvirt/node.xml, with no libvirt event loop in the
 * process: lookups, channels, CIDs, the domain XML parser, re-pinning,
 * lifecycle and refresh(), reconnection, bad URIs.  The events path is in
 * check_resolver_libvirt_events.c: registering an event loop is
 * process-wide and for ever. */
#include <fcntl.h>
#include <stddef.h>
#include <unistd.h>

#include "lvtest.h"

#define LONG_NAME "a-domain-name-that-is-far-too-long-for-libvpwr-to-carry-around-x"

/* ------------------------------------------------------- the cache */

START_TEST(test_open_and_domains)
{
	struct vpwr_resolver *r = NULL;
	struct names nm = { 0 };
	struct logbuf lb;
	int fd;

	ck_assert_int_eq(open_logged("libvirt:" URI, &lb, &r), 0);
	/* Every defined domain, running or not, sorted; the long name is
	 * left out with a warning. */
	ck_assert_int_eq(vpwr_resolver_foreach_domain(r, collect, &nm), 6);
	ck_assert_int_eq(nm.n, 6);
	ck_assert_str_eq(nm.seen[0], "floating");
	ck_assert_str_eq(nm.seen[1], "hotplug");
	ck_assert_str_eq(nm.seen[2], "off");
	ck_assert_str_eq(nm.seen[3], "partial");
	ck_assert_str_eq(nm.seen[4], "pinned");
	ck_assert_str_eq(nm.seen[5], "unpinned");
	ck_assert_ptr_nonnull(strstr(lb.text, "longer than 63: ignored"));
	/* No event loop in this process: said once, at info level. */
	ck_assert_int_eq(occurrences(lb.text, "no domain events"), 1);
	ck_assert_ptr_nonnull(strstr(lb.text, "6 domains, events off"));

	fd = vpwr_resolver_change_fd(r);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_ge(fcntl(fd, F_GETFD), 0);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	ck_assert(!readable(fd, 0));
	ck_assert_int_eq(vpwr_resolver_change_fd(r), fd);

	/* Nothing changed: 0, and still not said twice. */
	ck_assert_int_eq(vpwr_resolver_refresh(r), 0);
	ck_assert_int_eq(vpwr_resolver_refresh(r), 0);
	ck_assert_int_eq(occurrences(lb.text, "no domain events"), 1);
	vpwr_resolver_free(r);
}
END_TEST

START_TEST(test_nr_vcpus)
{
	struct vpwr_resolver *r = NULL;
	struct logbuf lb;

	ck_assert_int_eq(open_logged("libvirt:" URI, &lb, &r), 0);
	ck_assert_int_eq(vpwr_resolver_nr_vcpus(r, "pinned"), 2);
	ck_assert_int_eq(vpwr_resolver_nr_vcpus(r, "partial"), 3);
	ck_assert_int_eq(vpwr_resolver_nr_vcpus(r, "floating"), 2);
	ck_assert_int_eq(vpwr_resolver_nr_vcpus(r, "unpinned"), 1);
	/* current='2' of 4: the online ones. */
	ck_assert_int_eq(vpwr_resolver_nr_vcpus(r, "hotplug"), 2);
	ck_assert_int_eq(vpwr_resolver_nr_vcpus(r, "off"), 2);
	ck_assert_int_eq(vpwr_resolver_nr_vcpus(r, LONG_NAME),
			 -VPWR_E_NO_DOMAIN);
	ck_assert_int_eq(vpwr_resolver_nr_vcpus(r, "nope"), -VPWR_E_NO_DOMAIN);
	ck_assert_int_eq(vpwr_resolver_nr_vcpus(r, "PINNED"),
			 -VPWR_E_NO_DOMAIN);
	vpwr_resolver_free(r);
}
END_TEST

START_TEST(test_lookup)
{
	struct vpwr_resolver *r = NULL;
	struct logbuf lb;

	ck_assert_int_eq(open_logged("libvirt:" URI, &lb, &r), 0);
	lookup_eq(r, "pinned", 0, "2");
	lookup_eq(r, "pinned", 1, "3");
	/* Unpinned vCPUs may run on every host CPU. */
	lookup_eq(r, "partial", 0, "0-7");
	lookup_eq(r, "partial", 1, "4-5");
	lookup_eq(r, "partial", 2, "0-7");
	/* <vcpu cpuset='6-7'> without vcpupin. */
	lookup_eq(r, "floating", 0, "6-7");
	lookup_eq(r, "floating", 1, "6-7");
	lookup_eq(r, "unpinned", 0, "0-7");
	lookup_eq(r, "hotplug", 0, "0");
	lookup_eq(r, "hotplug", 1, "1");
	/* Shut off: the config's pinning. */
	lookup_eq(r, "off", 0, "6");
	lookup_eq(r, "off", 1, "7");
	vpwr_resolver_free(r);
}
END_TEST

START_TEST(test_lookup_errors)
{
	struct vpwr_resolver *r = NULL;
	struct vpwr_cpuset set;
	struct logbuf lb;
	char longname[200];

	memset(longname, 'w', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	ck_assert_int_eq(open_logged("libvirt:" URI, &lb, &r), 0);
	/* vCPU 3 of hotplug is pinned in the XML but offline. */
	memset(&set, 0xff, sizeof(set));
	ck_assert_int_eq(vpwr_resolver_lookup(r, "hotplug", 2, &set),
			 -VPWR_E_VCPU_RANGE);
	ck_assert_uint_eq(vpwr_cpuset_count(&set), 0);
	ck_assert_int_eq(vpwr_resolver_lookup(r, "hotplug", 3, &set),
			 -VPWR_E_VCPU_RANGE);
	ck_assert_int_eq(vpwr_resolver_lookup(r, "pinned", 2, &set),
			 -VPWR_E_VCPU_RANGE);
	ck_assert_int_eq(vpwr_resolver_lookup(r, "pinned", 4000000000u, &set),
			 -VPWR_E_VCPU_RANGE);
	ck_assert_int_eq(vpwr_resolver_lookup(r, "nope", 0, &set),
			 -VPWR_E_NO_DOMAIN);
	ck_assert_int_eq(vpwr_resolver_lookup(r, LONG_NAME, 0, &set),
			 -VPWR_E_NO_DOMAIN);
	ck_assert_int_eq(vpwr_resolver_lookup(r, longname, 0, &set),
			 -VPWR_E_NO_DOMAIN);
	ck_assert_int_eq(vpwr_resolver_lookup(r, "", 0, &set),
			 -VPWR_E_NO_DOMAIN);
	ck_assert_int_eq(vpwr_resolver_lookup(NULL, "pinned", 0, &set),
			 -EINVAL);
	ck_assert_int_eq(vpwr_resolver_lookup(r, NULL, 0, &set), -EINVAL);
	ck_assert_int_eq(vpwr_resolver_lookup(r, "pinned", 0, NULL), -EINVAL);
	vpwr_resolver_free(r);
}
END_TEST

START_TEST(test_cid)
{
	struct vpwr_resolver *r = NULL;
	struct logbuf lb;
	uint32_t cid = 0;

	ck_assert_int_eq(open_logged("libvirt:" URI, &lb, &r), 0);
	ck_assert_int_eq(vpwr_resolver_domain_cid(r, "pinned", &cid), 0);
	ck_assert_uint_eq(cid, 5);
	ck_assert_int_eq(vpwr_resolver_domain_cid(r, "off", &cid), 0);
	ck_assert_uint_eq(cid, 9);
	/* <cid auto='yes'/> with no address yet, and no <vsock> at all. */
	cid = 77;
	ck_assert_int_eq(vpwr_resolver_domain_cid(r, "unpinned", &cid),
			 -ENOENT);
	ck_assert_int_eq(vpwr_resolver_domain_cid(r, "partial", &cid),
			 -ENOENT);
	ck_assert_uint_eq(cid, 77);
	ck_assert_int_eq(vpwr_resolver_domain_cid(r, "nope", &cid),
			 -VPWR_E_NO_DOMAIN);
	ck_assert_int_eq(vpwr_resolver_domain_cid(r, "pinned", NULL), -EINVAL);
	ck_assert_int_eq(vpwr_resolver_domain_cid(NULL, "pinned", &cid),
			 -EINVAL);
	vpwr_resolver_free(r);
}
END_TEST

/* Running or shut off, from the same read as the rest. */
START_TEST(test_running)
{
	struct vpwr_resolver *r = NULL;
	struct logbuf lb;

	ck_assert_int_eq(open_logged("libvirt:" URI, &lb, &r), 0);
	ck_assert_int_eq(vpwr_resolver_domain_running(r, "pinned"), 1);
	ck_assert_int_eq(vpwr_resolver_domain_running(r, "off"), 0);
	ck_assert_int_eq(vpwr_resolver_domain_running(r, "nope"),
			 -VPWR_E_NO_DOMAIN);
	ck_assert_int_eq(vpwr_resolver_domain_running(r, NULL), -EINVAL);
	ck_assert_int_eq(vpwr_resolver_domain_running(NULL, "off"), -EINVAL);
	vpwr_resolver_free(r);
}
END_TEST

START_TEST(test_channels)
{
	struct vpwr_resolver *r = NULL;
	struct chans c = { 0 };
	struct logbuf lb;

	ck_assert_int_eq(open_logged("libvirt:" URI, &lb, &r), 0);
	/* Ours only: not the guest agent, not a pty, not a poweragent name
	 * without a number, not a bare "org.libvpwr.". */
	ck_assert_int_eq(vpwr_resolver_foreach_channel(r, "pinned",
						       collect_channel, &c), 2);
	ck_assert_str_eq(c.text,
			 "pinned|virtio.serial.port.poweragent.0|"
			 "/run/vpwr-test/pinned.agent0|bind|1\n"
			 "pinned|org.libvpwr.ctl|/run/vpwr-test/pinned.ctl|"
			 "connect|1\n");
	/* A shut-off domain's come from its config. */
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(vpwr_resolver_foreach_channel(r, "off",
						       collect_channel, &c), 1);
	ck_assert_str_eq(c.text,
			 "off|org.libvpwr.0|/run/vpwr-test/off.0|connect|0\n");
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(vpwr_resolver_foreach_channel(r, "partial",
						       collect_channel, &c), 0);
	ck_assert_int_eq(c.calls, 0);
	/* Every domain, in domain order. */
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(vpwr_resolver_foreach_channel(r, NULL,
						       collect_channel, &c), 3);
	ck_assert_str_eq(c.text,
			 "off|org.libvpwr.0|/run/vpwr-test/off.0|connect|0\n"
			 "pinned|virtio.serial.port.poweragent.0|"
			 "/run/vpwr-test/pinned.agent0|bind|1\n"
			 "pinned|org.libvpwr.ctl|/run/vpwr-test/pinned.ctl|"
			 "connect|1\n");
	/* The callback stops the walk. */
	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	ck_assert_int_eq(vpwr_resolver_foreach_channel(r, NULL,
						       collect_channel, &c),
			 -42);
	ck_assert_int_eq(c.calls, 2);
	ck_assert_int_eq(vpwr_resolver_foreach_channel(r, "nope",
						       collect_channel, &c),
			 -VPWR_E_NO_DOMAIN);
	ck_assert_int_eq(vpwr_resolver_foreach_channel(r, "pinned", NULL, &c),
			 -EINVAL);
	vpwr_resolver_free(r);
}
END_TEST

START_TEST(test_channel_names)
{
	ck_assert(vpwr_lv_channel_name_ours("virtio.serial.port.poweragent.0"));
	ck_assert(vpwr_lv_channel_name_ours("virtio.serial.port.poweragent.17"));
	ck_assert(vpwr_lv_channel_name_ours("org.libvpwr.0"));
	ck_assert(vpwr_lv_channel_name_ours("org.libvpwr.ctl.x"));
	ck_assert(!vpwr_lv_channel_name_ours("virtio.serial.port.poweragent."));
	ck_assert(!vpwr_lv_channel_name_ours("virtio.serial.port.poweragent.1a"));
	ck_assert(!vpwr_lv_channel_name_ours("virtio.serial.port.poweragent"));
	ck_assert(!vpwr_lv_channel_name_ours("org.libvpwr."));
	ck_assert(!vpwr_lv_channel_name_ours("org.libvpwr"));
	ck_assert(!vpwr_lv_channel_name_ours("org.qemu.guest_agent.0"));
	ck_assert(!vpwr_lv_channel_name_ours(""));
}
END_TEST

/* The domain XML parser on its own: what libvirt never sends us. */
START_TEST(test_parse_xml)
{
	struct vpwr_lv_domain d;
	struct logbuf lb;
	struct vpwr_logger log;

	memset(&lb, 0, sizeof(lb));
	vpwr_logger_init(&log, capture, &lb, VPWR_LOG_DEBUG);
	memset(&d, 0, sizeof(d));
	strcpy(d.name, "x");
	ck_assert_int_eq(vpwr_lv_parse_domain_xml("<domain><devices>", &log,
						  &d), -VPWR_E_CONFIG);
	ck_assert_ptr_nonnull(strstr(lb.text, "does not parse: line 1"));
	/* One message, libxml2's trailing newline dropped. */
	ck_assert_int_eq(lb.count, 1);
	ck_assert_int_eq(occurrences(lb.text, "\n"), 1);
	ck_assert_int_eq(vpwr_lv_parse_domain_xml("<node/>", &log, &d),
			 -VPWR_E_CONFIG);
	/* CIDs outside 3..2^32-2 are ignored with a warning. */
	memset(&lb, 0, sizeof(lb));
	ck_assert_int_eq(vpwr_lv_parse_domain_xml(
				 "<domain><devices><vsock><cid address='2'/>"
				 "</vsock></devices></domain>", &log, &d), 0);
	ck_assert_uint_eq(d.cid, 0);
	ck_assert_ptr_nonnull(strstr(lb.text, "vsock CID \"2\""));
	ck_assert_int_eq(vpwr_lv_parse_domain_xml(
				 "<domain><devices><vsock><cid "
				 "address='4294967295'/></vsock></devices>"
				 "</domain>", &log, &d), 0);
	ck_assert_uint_eq(d.cid, 0);
	ck_assert_int_eq(vpwr_lv_parse_domain_xml(
				 "<domain><devices><vsock><cid address='-3'/>"
				 "</vsock></devices></domain>", &log, &d), 0);
	ck_assert_uint_eq(d.cid, 0);
	ck_assert_int_eq(vpwr_lv_parse_domain_xml(
				 "<domain><devices><vsock><cid "
				 "address='4294967294'/></vsock></devices>"
				 "</domain>", &log, &d), 0);
	ck_assert_uint_eq(d.cid, 4294967294u);
	/* A channel without a source path, or without a mode (libvirt's
	 * default: connect); an external entity is never fetched. */
	ck_assert_int_eq(vpwr_lv_parse_domain_xml(
				 "<domain><devices>"
				 "<channel type='unix'><source mode='bind'/>"
				 "<target type='virtio' name='org.libvpwr.a'/>"
				 "</channel>"
				 "<channel type='unix'><source path='/p'/>"
				 "<target type='virtio' name='org.libvpwr.b'/>"
				 "</channel>"
				 "<channel type='unix'><source path='/q'/>"
				 "<target type='xen' name='org.libvpwr.c'/>"
				 "</channel>"
				 "</devices></domain>", &log, &d), 0);
	ck_assert_uint_eq(d.nr_channels, 1);
	ck_assert_str_eq(d.channels[0].path, "/p");
	ck_assert_str_eq(d.channels[0].target_name, "org.libvpwr.b");
	ck_assert_int_eq(d.channels[0].source_mode,
			 VPWR_CHANNEL_SOURCE_CONNECT);
	free(d.channels[0].path);
	free(d.channels[0].target_name);
	free(d.channels);
}
END_TEST

/* A guest has its port open or not: the live <target state=...>, which
 * the test:/// driver does not keep (so the parser is tested on its own),
 * and a change of it is a change of the snapshot. */
START_TEST(test_parse_port_state)
{
	static const char xml[] =
		"<domain><devices>"
		"<channel type='unix'><source mode='bind' path='/a'/>"
		"<target type='virtio' name='org.libvpwr.a' state='connected'/>"
		"</channel>"
		"<channel type='unix'><source mode='bind' path='/b'/>"
		"<target type='virtio' name='org.libvpwr.b' "
		"state='disconnected'/></channel>"
		"<channel type='unix'><source mode='bind' path='/c'/>"
		"<target type='virtio' name='org.libvpwr.c'/></channel>"
		"<channel type='unix'><source mode='bind' path='/d'/>"
		"<target type='virtio' name='org.libvpwr.d' state='ajar'/>"
		"</channel>"
		"</devices></domain>";
	struct vpwr_lv_snapshot a = { 0 }, b = { 0 };
	struct vpwr_lv_domain d[2];
	struct vpwr_logger log;

	vpwr_logger_init(&log, NULL, NULL, VPWR_LOG_DEBUG);
	memset(d, 0, sizeof(d));
	strcpy(d[0].name, "x");
	d[0].running = true;
	ck_assert_int_eq(vpwr_lv_parse_domain_xml(xml, &log, &d[0]), 0);
	ck_assert_uint_eq(d[0].nr_channels, 4);
	ck_assert_int_eq(d[0].channels[0].guest_open, 1);
	ck_assert_int_eq(d[0].channels[1].guest_open, 0);
	ck_assert_int_eq(d[0].channels[2].guest_open, -1);
	ck_assert_int_eq(d[0].channels[3].guest_open, -1);
	/* A config (shut off) says nothing of a guest. */
	strcpy(d[1].name, "x");
	ck_assert_int_eq(vpwr_lv_parse_domain_xml(xml, &log, &d[1]), 0);
	ck_assert_uint_eq(d[1].nr_channels, 4);
	for (int i = 0; i < 4; i++)
		ck_assert_int_eq(d[1].channels[i].guest_open, -1);
	/* Two snapshots that differ only there differ. */
	d[1].running = true;
	for (int i = 0; i < 4; i++)
		d[1].channels[i].guest_open = d[0].channels[i].guest_open;
	a.nr = b.nr = 1;
	a.domains = &d[0];
	b.domains = &d[1];
	ck_assert(vpwr_lv_snapshot_equal(&a, &b));
	d[1].channels[0].guest_open = 0;
	ck_assert(!vpwr_lv_snapshot_equal(&a, &b));
	d[1].channels[0].guest_open = -1;
	ck_assert(!vpwr_lv_snapshot_equal(&a, &b));
	for (int k = 0; k < 2; k++) {
		for (size_t i = 0; i < d[k].nr_channels; i++) {
			free(d[k].channels[i].path);
			free(d[k].channels[i].target_name);
		}
		free(d[k].channels);
	}
}
END_TEST

static int collect_guest_open(const struct vpwr_resolver_channel *ch,
			      void *ud)
{
	struct chans *c = ud;
	size_t len = strlen(c->text);

	ck_assert_uint_ge(ch->sz, offsetof(struct vpwr_resolver_channel,
					   guest_open) +
					  sizeof(ch->guest_open));
	snprintf(c->text + len, sizeof(c->text) - len, "%s:%d ", ch->path,
		 ch->guest_open);
	return 0;
}

/*
 * The test:/// driver keeps no port state: unknown.  port_events without
 * an event loop: one warning with the reason, then the resolver works as
 * without.
 */
START_TEST(test_port_events_no_loop)
{
	VPWR_OPTS(vpwr_resolver_opts, o, .log_fn = capture,
		  .log_level = VPWR_LOG_DEBUG, .port_events = 1);
	struct vpwr_resolver *r = NULL;
	struct chans c = { 0 };
	struct logbuf lb = { 0 };

	o.log_userdata = &lb;
	ck_assert_int_eq(vpwr_resolver_open("libvirt:" URI, &o, &r), 0);
	ck_assert_int_eq(vpwr_resolver_foreach_channel(r, NULL,
						       collect_guest_open, &c),
			 3);
	ck_assert_str_eq(c.text, "/run/vpwr-test/off.0:-1 "
				 "/run/vpwr-test/pinned.agent0:-1 "
				 "/run/vpwr-test/pinned.ctl:-1 ");
	ck_assert_ptr_nonnull(strstr(lb.text, "no port events (no libvirt "
					      "event loop)"));
	vpwr_resolver_libvirt_connection_lost(r);
	ck_assert_int_ge(vpwr_resolver_refresh(r), 0);
	ck_assert_int_eq(occurrences(lb.text, "no port events"), 1);
	ck_assert_ptr_null(strstr(lb.text, "port events on"));
	vpwr_resolver_free(r);
}
END_TEST

START_TEST(test_interfaces)
{
	struct vpwr_resolver *r = NULL;
	struct chans c = { 0 };
	struct logbuf lb;

	ck_assert_int_eq(open_logged("libvirt:" URI, &lb, &r), 0);
	/* In the XML's order, the bare PCI <hostdev>s after the interfaces;
	 * the interface's VF not twice, the USB one not at all.  The test
	 * driver names the live target devs of a running domain testnetN
	 * (QEMU's driver: vnetN, and none for type='hostdev'). */
	ck_assert_int_eq(vpwr_resolver_foreach_interface(
				 r, "pinned", collect_interface, &c), 3);
	ck_assert_str_eq(c.text,
			 "pinned|52:54:00:00:00:01|network|testnet0|-|1\n"
			 "pinned|52:54:00:00:00:02|hostdev|testnet1|"
			 "0000:03:10.1|1\n"
			 "pinned|00:00:00:00:00:00|hostdev|-|0000:03:10.3|1\n");
	/* A shut-off domain's config: no live target dev. */
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(vpwr_resolver_foreach_interface(
				 r, "off", collect_interface, &c), 1);
	ck_assert_str_eq(c.text, "off|52:54:00:00:00:09|direct|-|-|0\n");
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(vpwr_resolver_foreach_interface(
				 r, "partial", collect_interface, &c), 0);
	ck_assert_int_eq(vpwr_resolver_foreach_interface(
				 r, NULL, collect_interface, &c), 4);
	ck_assert_ptr_nonnull(strstr(c.text, "off|"));
	ck_assert(strstr(c.text, "off|") < strstr(c.text, "pinned|"));
	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	ck_assert_int_eq(vpwr_resolver_foreach_interface(
				 r, NULL, collect_interface, &c), -42);
	ck_assert_int_eq(vpwr_resolver_foreach_interface(
				 r, "nope", collect_interface, &c),
			 -VPWR_E_NO_DOMAIN);
	vpwr_resolver_free(r);
}
END_TEST

/* Interfaces and PCI <hostdev>s the parser meets. */
START_TEST(test_parse_interfaces)
{
	struct vpwr_lv_domain d;
	struct logbuf lb;
	struct vpwr_logger log;

	memset(&lb, 0, sizeof(lb));
	vpwr_logger_init(&log, capture, &lb, VPWR_LOG_DEBUG);
	memset(&d, 0, sizeof(d));
	strcpy(d.name, "x");
	d.running = true;
	ck_assert_int_eq(vpwr_lv_parse_domain_xml(
		"<domain><devices>"
		/* no MAC, no type: still an interface, zero MAC */
		"<interface><target dev='tap9'/></interface>"
		/* a MAC that does not parse: zero, with a warning */
		"<interface type='bridge'><mac address='52:54:00'/></interface>"
		/* hostdev without a source address; one out of range */
		"<interface type='hostdev'><mac address='02:00:00:00:00:01'/>"
		"</interface>"
		"<hostdev mode='subsystem' type='pci'><source><address "
		"domain='0x0000' bus='0x03' slot='0x20' function='0x0'/>"
		"</source></hostdev>"
		/* decimal numbers and no domain: libvirt accepts both */
		"<hostdev mode='subsystem' type='pci'><source><address "
		"bus='3' slot='16' function='5'/></source></hostdev>"
		"<hostdev mode='subsystem' type='pci'><source><address "
		"bus='x3' slot='16' function='5'/></source></hostdev>"
		"</devices></domain>", &log, &d), 0);
	ck_assert_uint_eq(d.nr_interfaces, 4);
	ck_assert_ptr_null(d.interfaces[0].type);
	ck_assert_str_eq(d.interfaces[0].target_dev, "tap9");
	ck_assert_str_eq(d.interfaces[1].type, "bridge");
	ck_assert_int_eq(d.interfaces[1].mac[0], 0);
	ck_assert_ptr_nonnull(strstr(lb.text, "interface MAC \"52:54:00\""));
	ck_assert_ptr_null(d.interfaces[2].pci_addr);
	ck_assert_int_eq(d.interfaces[2].mac[5], 1);
	ck_assert_str_eq(d.interfaces[3].pci_addr, "0000:03:10.5");
	ck_assert_ptr_nonnull(strstr(lb.text, "3:20.0 out of range"));
	ck_assert_ptr_nonnull(strstr(lb.text, "bus \"x3\" is not a number"));
	for (size_t i = 0; i < d.nr_interfaces; i++) {
		free(d.interfaces[i].type);
		free(d.interfaces[i].target_dev);
		free(d.interfaces[i].pci_addr);
	}
	free(d.interfaces);
}
END_TEST

/* ------------------------------------------- changes, no event loop */

START_TEST(test_repin_refresh)
{
	struct shared s;

	shared_open(&s);
	lookup_eq(s.r, "pinned", 0, "2");
	pin(&s, "pinned", 0, 7);
	/* The cache answers until refresh(). */
	lookup_eq(s.r, "pinned", 0, "2");
	ck_assert_int_eq(vpwr_resolver_refresh(s.r), 1);
	lookup_eq(s.r, "pinned", 0, "7");
	lookup_eq(s.r, "pinned", 1, "3");
	ck_assert_int_eq(vpwr_resolver_refresh(s.r), 0);
	/* Pinning an unpinned vCPU of another domain. */
	pin(&s, "partial", 2, 1);
	ck_assert_int_eq(vpwr_resolver_refresh(s.r), 1);
	lookup_eq(s.r, "partial", 2, "1");
	lookup_eq(s.r, "partial", 0, "0-7");
	/* The same pinning again is no change. */
	pin(&s, "partial", 2, 1);
	ck_assert_int_eq(vpwr_resolver_refresh(s.r), 0);
	shared_close(&s);
}
END_TEST

START_TEST(test_lifecycle_refresh)
{
	struct shared s;
	struct chans c = { 0 };
	struct names nm = { 0 };
	virDomainPtr d;

	shared_open(&s);
	pin(&s, "pinned", 1, 6);
	ck_assert_int_eq(vpwr_resolver_refresh(s.r), 1);
	lookup_eq(s.r, "pinned", 1, "6");

	/* Stopped: the config again (the live re-pin is gone), channels
	 * from the config. */
	d = domain(&s, "pinned");
	ck_assert_int_eq(vpwr_resolver_domain_running(s.r, "pinned"), 1);
	ck_assert_int_eq(virDomainDestroy(d), 0);
	ck_assert_int_eq(vpwr_resolver_refresh(s.r), 1);
	ck_assert_int_eq(vpwr_resolver_domain_running(s.r, "pinned"), 0);
	lookup_eq(s.r, "pinned", 1, "3");
	ck_assert_int_eq(vpwr_resolver_foreach_channel(s.r, "pinned",
						       collect_channel, &c), 2);
	ck_assert_ptr_nonnull(strstr(c.text, "pinned.agent0|bind|0\n"));
	ck_assert_int_eq(vpwr_resolver_refresh(s.r), 0);

	/* Started again. */
	ck_assert_int_eq(virDomainCreate(d), 0);
	ck_assert_int_eq(vpwr_resolver_refresh(s.r), 1);
	ck_assert_int_eq(vpwr_resolver_domain_running(s.r, "pinned"), 1);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(vpwr_resolver_foreach_channel(s.r, "pinned",
						       collect_channel, &c), 2);
	ck_assert_ptr_nonnull(strstr(c.text, "pinned.agent0|bind|1\n"));
	virDomainFree(d);

	/* Undefined: gone from every answer. */
	d = domain(&s, "off");
	ck_assert_int_eq(virDomainUndefine(d), 0);
	virDomainFree(d);
	ck_assert_int_eq(vpwr_resolver_refresh(s.r), 1);
	ck_assert_int_eq(vpwr_resolver_nr_vcpus(s.r, "off"),
			 -VPWR_E_NO_DOMAIN);
	ck_assert_int_eq(vpwr_resolver_foreach_domain(s.r, collect, &nm), 5);

	/* Defined and started: appears, sorted in. */
	d = virDomainDefineXML(s.conn,
			       "<domain type='test'><name>added</name>"
			       "<memory>65536</memory><vcpu>3</vcpu>"
			       "<cputune><vcpupin vcpu='2' cpuset='5'/>"
			       "</cputune><os><type>hvm</type></os></domain>");
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(virDomainCreate(d), 0);
	virDomainFree(d);
	ck_assert_int_eq(vpwr_resolver_refresh(s.r), 1);
	ck_assert_int_eq(vpwr_resolver_nr_vcpus(s.r, "added"), 3);
	lookup_eq(s.r, "added", 2, "5");
	memset(&nm, 0, sizeof(nm));
	ck_assert_int_eq(vpwr_resolver_foreach_domain(s.r, collect, &nm), 6);
	ck_assert_str_eq(nm.seen[0], "added");
	shared_close(&s);
}
END_TEST

/* A new interface in a domain's config is a change; so is a start, which
 * makes its target dev live. */
START_TEST(test_interfaces_refresh)
{
	struct shared s;
	struct chans c = { 0 };
	virDomainPtr d;
	char *xml, *at, *grown;

	shared_open(&s);
	d = domain(&s, "off");
	xml = virDomainGetXMLDesc(d, VIR_DOMAIN_XML_INACTIVE);
	ck_assert_ptr_nonnull(xml);
	at = strstr(xml, "</devices>");
	ck_assert_ptr_nonnull(at);
	ck_assert_int_ge(asprintf(&grown, "%.*s<interface type='ethernet'>"
				  "<mac address='52:54:00:00:00:0a'/>"
				  "<target dev='tap-off'/></interface>%s",
				  (int)(at - xml), xml, at), 0);
	free(xml);
	virDomainFree(d);
	d = virDomainDefineXML(s.conn, grown);
	free(grown);
	ck_assert_ptr_nonnull(d);
	ck_assert_int_eq(vpwr_resolver_refresh(s.r), 1);
	ck_assert_int_eq(vpwr_resolver_foreach_interface(
				 s.r, "off", collect_interface, &c), 2);
	ck_assert_ptr_nonnull(strstr(c.text, "off|52:54:00:00:00:0a|ethernet|-|-|0\n"));
	ck_assert_int_eq(vpwr_resolver_refresh(s.r), 0);
	ck_assert_int_eq(virDomainCreate(d), 0);
	ck_assert_int_eq(vpwr_resolver_refresh(s.r), 1);
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(vpwr_resolver_foreach_interface(
				 s.r, "off", collect_interface, &c), 2);
	/* Live now: the target dev it asked for (the test driver renames
	 * only the ones libvirt would generate). */
	ck_assert_ptr_nonnull(strstr(c.text, "|ethernet|tap-off|-|1\n"));
	virDomainFree(d);
	shared_close(&s);
}
END_TEST

/*
 * A dropped connection: the close callback's work, then refresh()
 * reconnects to the same URI.  A new test:/// connection starts from the
 * file again, which shows the resolver really is on a new one.
 */
START_TEST(test_reconnect)
{
	struct shared s;
	int fd;

	shared_open(&s);
	fd = vpwr_resolver_change_fd(s.r);
	pin(&s, "pinned", 0, 4);
	ck_assert_int_eq(vpwr_resolver_refresh(s.r), 1);
	lookup_eq(s.r, "pinned", 0, "4");

	vpwr_resolver_libvirt_connection_lost(s.r);
	ck_assert(readable(fd, 0));
	/* Lookups keep the last good read meanwhile. */
	lookup_eq(s.r, "pinned", 0, "4");
	ck_assert_int_eq(vpwr_resolver_refresh(s.r), 1);
	ck_assert(!readable(fd, 0));
	ck_assert_ptr_nonnull(strstr(s.lb.text, "reconnected to " URI));
	lookup_eq(s.r, "pinned", 0, "2");
	/* Changes on the old connection are no longer ours. */
	pin(&s, "pinned", 0, 5);
	ck_assert_int_eq(vpwr_resolver_refresh(s.r), 0);
	lookup_eq(s.r, "pinned", 0, "2");
	/* Same fd across the reconnection. */
	ck_assert_int_eq(vpwr_resolver_change_fd(s.r), fd);
	shared_close(&s);
}
END_TEST

/*
 * libvirt gone for a while: refresh() says -ENOTCONN and keeps trying;
 * lookups answer from the last good read meanwhile.  The node file of a
 * test:/// URI stands in for the daemon: removed, nothing can connect.
 */
START_TEST(test_reconnect_fails)
{
	VPWR_OPTS(vpwr_resolver_opts, o, .log_fn = capture);
	struct vpwr_resolver *r = NULL;
	struct logbuf lb = { 0 };
	char *dir = vpwr_test_tmpdir(), *text = NULL, *path, *uri;
	size_t len = 0;
	FILE *f = fopen(NODE, "r");
	uint32_t cid;
	int fd;

	o.log_userdata = &lb;
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(getdelim(&text, &len, '\0', f) > 0, 1);
	fclose(f);
	ck_assert_int_gt(asprintf(&path, "%s/node.xml", dir), 0);
	ck_assert_int_gt(asprintf(&uri, "libvirt:test://%s", path), 0);
	vpwr_test_write_file(dir, "node.xml", text);
	ck_assert_int_eq(vpwr_resolver_open(uri, &o, &r), 0);
	fd = vpwr_resolver_change_fd(r);

	ck_assert_int_eq(unlink(path), 0);
	vpwr_resolver_libvirt_connection_lost(r);
	virSetErrorFunc(NULL, quiet_libvirt);
	ck_assert_int_eq(vpwr_resolver_refresh(r), -ENOTCONN);
	ck_assert_int_eq(vpwr_resolver_refresh(r), -ENOTCONN);
	virSetErrorFunc(NULL, NULL);
	ck_assert_ptr_nonnull(strstr(lb.text, "cannot connect to test://"));
	ck_assert(!readable(fd, 0));
	lookup_eq(r, "pinned", 1, "3");
	ck_assert_int_eq(vpwr_resolver_nr_vcpus(r, "partial"), 3);
	ck_assert_int_eq(vpwr_resolver_domain_cid(r, "pinned", &cid), 0);
	ck_assert_int_eq(vpwr_resolver_foreach_channel(r, NULL,
						       collect_channel,
						       &(struct chans){ 0 }),
			 3);

	/* Back: the same node, so nothing changed. */
	vpwr_test_write_file(dir, "node.xml", text);
	ck_assert_int_eq(vpwr_resolver_refresh(r), 0);
	ck_assert_int_eq(vpwr_resolver_change_fd(r), fd);
	vpwr_resolver_free(r);
	free(text);
	free(path);
	free(uri);
	vpwr_test_rmtree(dir);
	free(dir);
}
END_TEST

/* A bare "libvirt:" is libvirt's default URI. */
START_TEST(test_default_uri)
{
	struct vpwr_resolver *r = NULL;
	struct logbuf lb;

	ck_assert_int_eq(setenv("LIBVIRT_DEFAULT_URI", URI, 1), 0);
	ck_assert_int_eq(open_logged("libvirt:", &lb, &r), 0);
	unsetenv("LIBVIRT_DEFAULT_URI");
	lookup_eq(r, "pinned", 1, "3");
	ck_assert_ptr_nonnull(strstr(lb.text, URI ": 6 domains"));
	vpwr_resolver_free(r);
}
END_TEST

static const struct {
	const char *uri;
	int err;
} bad_uris[] = {
	/* The test driver's file is missing. */
	{ "libvirt:test:///nonexistent/node.xml", -VPWR_E_CONFIG },
	/* The test driver wants a path. */
	{ "libvirt:test://", -EINVAL },
	/* Not a URI at all. */
	{ "libvirt:::", -EINVAL },
	/* No libvirt driver by that name. */
	{ "libvirt:nope", -EPROTONOSUPPORT },
	/* A daemon that is not there. */
	{ "libvirt:qemu+unix:///system?socket=/nonexistent/libvirt-sock",
	  -ENOTCONN },
};

START_TEST(test_bad_uri)
{
	struct vpwr_resolver *r = (struct vpwr_resolver *)&r;
	struct logbuf lb;
	const char *uri = bad_uris[_i].uri;

	/* Failed opens go to libvirt's process-wide handler: the
	 * application's to set; this one keeps the test output clean. */
	virSetErrorFunc(NULL, quiet_libvirt);
	ck_assert_int_eq(open_logged(uri, &lb, &r), bad_uris[_i].err);
	virSetErrorFunc(NULL, NULL);
	ck_assert_ptr_null(r);
	/* The log names the URI and carries libvirt's reason. */
	ck_assert_ptr_nonnull(strstr(lb.text, "cannot connect to"));
	ck_assert_ptr_nonnull(strstr(lb.text, uri + strlen("libvirt:")));
}
END_TEST

/* Errors on the resolver's own connection never reach stderr. */
START_TEST(test_never_prints)
{
	struct vpwr_resolver *r = NULL;
	struct vpwr_cpuset set;
	struct logbuf lb;
	char path[] = "/tmp/vpwr-stderr-XXXXXX";
	int tmp = mkstemp(path), saved = dup(2);
	off_t size;

	ck_assert_int_ge(tmp, 0);
	ck_assert_int_ge(saved, 0);
	fflush(stderr);
	ck_assert_int_eq(dup2(tmp, 2), 2);
	/* Without an event loop every event registration fails inside
	 * libvirt: its default handler would print each. */
	ck_assert_int_eq(open_logged("libvirt:" URI, &lb, &r), 0);
	ck_assert_int_eq(vpwr_resolver_refresh(r), 0);
	vpwr_resolver_lookup(r, "nope", 0, &set);
	vpwr_resolver_free(r);
	fflush(stderr);
	ck_assert_int_eq(dup2(saved, 2), 2);
	close(saved);
	size = lseek(tmp, 0, SEEK_END);
	close(tmp);
	unlink(path);
	ck_assert_int_eq(size, 0);
	ck_assert_ptr_nonnull(strstr(lb.text, "could not initialize"));
}
END_TEST

START_TEST(test_adopt_args)
{
	struct vpwr_resolver *r = (struct vpwr_resolver *)&r;
	struct vpwr_resolver_opts big[2];

	ck_assert_int_eq(vpwr_resolver_libvirt_adopt(NULL, NULL, &r), -EINVAL);
	ck_assert_ptr_null(r);
	memset(big, 0, sizeof(big));
	big[0].sz = sizeof(big);
	((unsigned char *)big)[sizeof(big) - 1] = 1;
	ck_assert_int_eq(vpwr_resolver_libvirt_adopt((virConnectPtr)&r, big,
						     &r), -EINVAL);
	ck_assert_int_eq(vpwr_resolver_libvirt_adopt((virConnectPtr)&r, NULL,
						     NULL), -EINVAL);
	/* Not a libvirt resolver: ignored. */
	vpwr_resolver_libvirt_connection_lost(NULL);
}
END_TEST

static Suite *resolver_libvirt_suite(void)
{
	Suite *s = suite_create("resolver_libvirt");
	TCase *tc = tcase_create("cache");
	TCase *ch = tcase_create("changes");

	tcase_add_test(tc, test_open_and_domains);
	tcase_add_test(tc, test_nr_vcpus);
	tcase_add_test(tc, test_lookup);
	tcase_add_test(tc, test_lookup_errors);
	tcase_add_test(tc, test_cid);
	tcase_add_test(tc, test_running);
	tcase_add_test(tc, test_channels);
	tcase_add_test(tc, test_channel_names);
	tcase_add_test(tc, test_parse_xml);
	tcase_add_test(tc, test_parse_port_state);
	tcase_add_test(tc, test_port_events_no_loop);
	tcase_add_test(tc, test_interfaces);
	tcase_add_test(tc, test_parse_interfaces);
	suite_add_tcase(s, tc);

	tcase_add_test(ch, test_repin_refresh);
	tcase_add_test(ch, test_lifecycle_refresh);
	tcase_add_test(ch, test_interfaces_refresh);
	tcase_add_test(ch, test_reconnect);
	tcase_add_test(ch, test_reconnect_fails);
	tcase_add_test(ch, test_default_uri);
	tcase_add_loop_test(ch, test_bad_uri, 0,
			    (int)(sizeof(bad_uris) / sizeof(bad_uris[0])));
	tcase_add_test(ch, test_never_prints);
	tcase_add_test(ch, test_adopt_args);
	suite_add_tcase(s, ch);
	return s;
}

int main(void)
{
	return vpwr_test_run(resolver_libvirt_suite());
}
