/* Resolvers: the registry and URI handling, and the static JSON scheme with
 * every refusal it owes a mistyped pins file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libvpwr/error.h"
#include "libvpwr/resolver.h"
#include "resolver_internal.h"
#include "testutil.h"

#define PINS VPWR_FIXTURES "/pins/"

/* Everything the library logged, one message per line. */
struct logbuf {
	char text[8192];
	int count;
};

static void capture(enum vpwr_log_level level, const char *msg, void *ud)
{
	struct logbuf *lb = ud;
	size_t len = strlen(lb->text);

	(void)level;
	snprintf(lb->text + len, sizeof(lb->text) - len, "%s\n", msg);
	lb->count++;
}

static int open_logged(const char *uri, struct logbuf *lb,
		       struct vpwr_resolver **r)
{
	VPWR_OPTS(vpwr_resolver_opts, o, .log_fn = capture, .log_userdata = lb);

	memset(lb, 0, sizeof(*lb));
	return vpwr_resolver_open(uri, &o, r);
}

static struct vpwr_resolver *open_good(void)
{
	struct vpwr_resolver *r = NULL;
	struct logbuf lb;

	ck_assert_int_eq(open_logged("static:" PINS "good.json", &lb, &r), 0);
	ck_assert_ptr_nonnull(r);
	return r;
}

static void cpus_eq(const struct vpwr_cpuset *set, const char *want)
{
	char buf[64];

	vpwr_cpuset_format(set, buf, sizeof(buf));
	ck_assert_str_eq(buf, want);
}

/* ------------------------------------------------------------ lookups */

START_TEST(test_lookup)
{
	struct vpwr_resolver *r = open_good();
	struct vpwr_cpuset set;

	ck_assert_int_eq(vpwr_resolver_lookup(r, "web", 0, &set), 0);
	cpus_eq(&set, "2");
	ck_assert_int_eq(vpwr_resolver_lookup(r, "web", 1, &set), 0);
	cpus_eq(&set, "3");
	/* db vCPU 0 floats over two pCPUs. */
	ck_assert_int_eq(vpwr_resolver_lookup(r, "db", 0, &set), 0);
	ck_assert_uint_eq(vpwr_cpuset_count(&set), 2);
	cpus_eq(&set, "4-5");
	/* db vCPU 1 is an integer element and shares pCPU 3 with web. */
	ck_assert_int_eq(vpwr_resolver_lookup(r, "db", 1, &set), 0);
	cpus_eq(&set, "3");
	ck_assert_int_eq(vpwr_resolver_lookup(r, "batch", 0, &set), 0);
	cpus_eq(&set, "6");
	vpwr_resolver_free(r);
}
END_TEST

START_TEST(test_nr_vcpus)
{
	struct vpwr_resolver *r = open_good();

	ck_assert_int_eq(vpwr_resolver_nr_vcpus(r, "web"), 2);
	ck_assert_int_eq(vpwr_resolver_nr_vcpus(r, "db"), 3);
	ck_assert_int_eq(vpwr_resolver_nr_vcpus(r, "batch"), 1);
	ck_assert_int_eq(vpwr_resolver_nr_vcpus(r, "nope"), -VPWR_E_NO_DOMAIN);
	ck_assert_int_eq(vpwr_resolver_nr_vcpus(r, ""), -VPWR_E_NO_DOMAIN);
	/* Names differing only in case are different domains. */
	ck_assert_int_eq(vpwr_resolver_nr_vcpus(r, "WEB"), -VPWR_E_NO_DOMAIN);
	vpwr_resolver_free(r);
}
END_TEST

START_TEST(test_lookup_errors)
{
	struct vpwr_resolver *r = open_good();
	struct vpwr_cpuset set;
	char longname[200];

	memset(longname, 'w', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	memset(&set, 0xff, sizeof(set));
	ck_assert_int_eq(vpwr_resolver_lookup(r, "db", 2, &set),
			 -VPWR_E_NOT_PINNED);
	ck_assert_uint_eq(vpwr_cpuset_count(&set), 0);
	ck_assert_int_eq(vpwr_resolver_lookup(r, "db", 3, &set),
			 -VPWR_E_VCPU_RANGE);
	ck_assert_int_eq(vpwr_resolver_lookup(r, "web", 2, &set),
			 -VPWR_E_VCPU_RANGE);
	ck_assert_int_eq(vpwr_resolver_lookup(r, "web", 4000000000u, &set),
			 -VPWR_E_VCPU_RANGE);
	ck_assert_int_eq(vpwr_resolver_lookup(r, "nope", 0, &set),
			 -VPWR_E_NO_DOMAIN);
	ck_assert_int_eq(vpwr_resolver_lookup(r, longname, 0, &set),
			 -VPWR_E_NO_DOMAIN);
	ck_assert_int_eq(vpwr_resolver_lookup(NULL, "web", 0, &set), -EINVAL);
	ck_assert_int_eq(vpwr_resolver_lookup(r, NULL, 0, &set), -EINVAL);
	ck_assert_int_eq(vpwr_resolver_lookup(r, "web", 0, NULL), -EINVAL);
	ck_assert_int_eq(vpwr_resolver_nr_vcpus(NULL, "web"), -EINVAL);
	ck_assert_int_eq(vpwr_resolver_nr_vcpus(r, NULL), -EINVAL);
	vpwr_resolver_free(r);
}
END_TEST

struct names {
	char seen[8][64];
	int n;
};

static void collect(const char *domain, void *ud)
{
	struct names *nm = ud;

	if (nm->n < 8)
		snprintf(nm->seen[nm->n], sizeof(nm->seen[0]), "%s", domain);
	nm->n++;
}

START_TEST(test_foreach_sorted)
{
	struct vpwr_resolver *r = open_good();
	struct names nm = { 0 };

	/* The file lists web, db, batch: the order must not follow it. */
	ck_assert_int_eq(vpwr_resolver_foreach_domain(r, collect, &nm), 3);
	ck_assert_int_eq(nm.n, 3);
	ck_assert_str_eq(nm.seen[0], "batch");
	ck_assert_str_eq(nm.seen[1], "db");
	ck_assert_str_eq(nm.seen[2], "web");
	ck_assert_int_eq(vpwr_resolver_foreach_domain(r, NULL, &nm), -EINVAL);
	ck_assert_int_eq(vpwr_resolver_foreach_domain(NULL, collect, &nm),
			 -EINVAL);
	ck_assert_int_eq(nm.n, 3);
	vpwr_resolver_free(r);
}
END_TEST

static int count_channel(const struct vpwr_resolver_channel *ch, void *ud)
{
	(void)ch;
	++*(int *)ud;
	return 0;
}

START_TEST(test_optional_features)
{
	struct vpwr_resolver *r = open_good();
	uint32_t cid = 0;
	int n = 0;

	ck_assert_int_eq(vpwr_resolver_domain_cid(r, "web", &cid), 0);
	ck_assert_uint_eq(cid, 5);
	ck_assert_int_eq(vpwr_resolver_domain_cid(r, "db", &cid), -ENOENT);
	ck_assert_int_eq(vpwr_resolver_domain_cid(r, "nope", &cid),
			 -VPWR_E_NO_DOMAIN);
	ck_assert_int_eq(vpwr_resolver_domain_cid(r, "web", NULL), -EINVAL);
	ck_assert_int_eq(vpwr_resolver_domain_cid(NULL, "web", &cid), -EINVAL);
	/* It cannot tell whether a domain runs (callers take it for yes). */
	ck_assert_int_eq(vpwr_resolver_domain_running(r, "web"), -ENOTSUP);
	ck_assert_int_eq(vpwr_resolver_domain_running(r, "nosuch"),
			 -VPWR_E_NO_DOMAIN);
	ck_assert_int_eq(vpwr_resolver_domain_running(r, NULL), -EINVAL);
	/* A file read once never changes: no notification. */
	ck_assert_int_eq(vpwr_resolver_change_fd(r), -ENOTSUP);
	ck_assert_int_eq(vpwr_resolver_refresh(r), -ENOTSUP);
	/* and it knows no channels. */
	ck_assert_int_eq(vpwr_resolver_foreach_channel(r, "web", count_channel,
						       &n), -ENOTSUP);
	ck_assert_int_eq(vpwr_resolver_foreach_channel(r, NULL, count_channel,
						       &n), -ENOTSUP);
	ck_assert_int_eq(n, 0);
	ck_assert_int_eq(vpwr_resolver_foreach_channel(r, "web", NULL, &n),
			 -EINVAL);
	ck_assert_int_eq(vpwr_resolver_foreach_channel(NULL, "web",
						       count_channel, &n),
			 -EINVAL);
	ck_assert_int_eq(vpwr_resolver_change_fd(NULL), -EINVAL);
	ck_assert_int_eq(vpwr_resolver_refresh(NULL), -EINVAL);
	vpwr_resolver_free(r);
}
END_TEST

/* ---------------------------------------------------- open and URIs */

START_TEST(test_open_args)
{
	struct vpwr_resolver *r = (struct vpwr_resolver *)&r;
	struct logbuf lb;

	ck_assert_int_eq(vpwr_resolver_open(NULL, NULL, &r), -EINVAL);
	ck_assert_ptr_null(r);
	ck_assert_int_eq(vpwr_resolver_open("static:" PINS "good.json", NULL,
					    NULL), -EINVAL);
	ck_assert_int_eq(open_logged("nocolon", &lb, &r), -EINVAL);
	ck_assert_ptr_nonnull(strstr(lb.text, "nocolon"));
	ck_assert_int_eq(open_logged(":" PINS "good.json", &lb, &r), -EINVAL);
	ck_assert_int_eq(open_logged("static:", &lb, &r), -EINVAL);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(lb.text, "static"));
	vpwr_resolver_free(NULL);
}
END_TEST

START_TEST(test_unknown_scheme)
{
	struct vpwr_resolver *r = NULL;
	struct logbuf lb;

	ck_assert_int_eq(open_logged("bogus:" PINS "good.json", &lb, &r),
			 -EPROTONOSUPPORT);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(lb.text, "\"bogus\""));
	/* A prefix of a known scheme is not that scheme. */
	ck_assert_int_eq(open_logged("stat:" PINS "good.json", &lb, &r),
			 -EPROTONOSUPPORT);
	ck_assert_int_eq(open_logged("statics:" PINS "good.json", &lb, &r),
			 -EPROTONOSUPPORT);
	ck_assert_int_eq(open_logged("STATIC:" PINS "good.json", &lb, &r),
			 -EPROTONOSUPPORT);
}
END_TEST

START_TEST(test_missing_file)
{
	struct vpwr_resolver *r = NULL;
	struct logbuf lb;

	ck_assert_int_eq(open_logged("static:" PINS "no-such-file.json", &lb,
				     &r), -ENOENT);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(lb.text, "no-such-file.json"));
}
END_TEST

START_TEST(test_not_regular)
{
	struct vpwr_resolver *r = NULL;
	struct logbuf lb;

	ck_assert_int_eq(open_logged("static:" PINS, &lb, &r),
			 -VPWR_E_CONFIG);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(lb.text, "not a regular file"));
}
END_TEST

START_TEST(test_opts_tail)
{
	struct {
		struct vpwr_resolver_opts o;
		char tail[16];
	} big;
	struct vpwr_resolver *r = NULL;

	memset(&big, 0, sizeof(big));
	big.o.sz = sizeof(big);
	big.tail[5] = 1;
	ck_assert_int_eq(vpwr_resolver_open("static:" PINS "good.json", &big.o,
					    &r), -EINVAL);
	ck_assert_ptr_null(r);
	/* Zeroes the library does not know are fine. */
	big.tail[5] = 0;
	ck_assert_int_eq(vpwr_resolver_open("static:" PINS "good.json", &big.o,
					    &r), 0);
	ck_assert_int_eq(vpwr_resolver_nr_vcpus(r, "db"), 3);
	vpwr_resolver_free(r);
	big.o.sz = 1;
	ck_assert_int_eq(vpwr_resolver_open("static:" PINS "good.json", &big.o,
					    &r), -EINVAL);
}
END_TEST

/* ------------------------------------------------- every bad file */

static const struct {
	const char *file;
	const char *why;    /* must appear in the log */
} bad_files[] = {
	{ "bad-syntax.json", "bad-syntax.json:3:" },
	{ "bad-duplicate-domain.json", "duplicate" },
	{ "bad-toplevel-array.json", "top level must be an object" },
	{ "bad-no-domains.json", "no \"domains\" object" },
	{ "bad-domains-array.json", "\"domains\" must be an object" },
	{ "bad-toplevel-key.json", "unknown key \"domain\" at the top level" },
	{ "bad-domain-array.json", "domain \"vm1\": must be an object" },
	{ "bad-no-vcpus.json", "domain \"vm1\": no \"vcpus\" array" },
	{ "bad-vcpus-string.json", "domain \"vm1\": \"vcpus\" must be an array" },
	{ "bad-vcpus-empty.json", "domain \"vm1\": \"vcpus\" has 0 entries" },
	{ "bad-vcpu-real.json", "domain \"vm1\": vcpus[1] is neither" },
	{ "bad-vcpu-null.json", "domain \"vm1\": vcpus[1] is neither" },
	{ "bad-cpulist-reversed.json", "vcpus[1]: bad cpulist \"3-1\"" },
	{ "bad-cpulist-junk.json", "vcpus[1]: bad cpulist \"2,x\"" },
	{ "bad-cpu-negative.json", "domain \"vm1\": vcpus[0]: CPU -1" },
	{ "bad-cpu-too-big.json", "domain \"vm1\": vcpus[0]: CPU 1024" },
	{ "bad-domain-key.json", "domain \"vm1\": unknown key \"cpus\"" },
	{ "bad-cid-reserved.json", "domain \"vm1\": \"cid\" must be" },
	{ "bad-cid-any.json", "domain \"vm1\": \"cid\" must be" },
	{ "bad-cid-string.json", "domain \"vm1\": \"cid\" must be" },
	{ "bad-name-empty.json", "domain name is empty" },
	{ "bad-name-long.json", "name is 65 bytes" },
	{ "bad-name-control.json", "control character" },
	{ "bad-ifc-array.json", "domain \"vm1\": \"interfaces\" must be an array" },
	{ "bad-ifc-element.json", "domain \"vm1\": interfaces[0] must be an object" },
	{ "bad-ifc-key.json", "interfaces[0]: unknown key \"ifname\"" },
	{ "bad-ifc-nothing.json", "interfaces[0] needs a \"mac\" or a \"pci\"" },
	{ "bad-ifc-mac.json", "interfaces[0]: \"mac\" \"52:54:00:12:34\" is not" },
	{ "bad-ifc-mac-multicast.json", "\"01:00:5e:00:00:01\" is not a unicast" },
	{ "bad-ifc-mac-zero.json", "\"00:00:00:00:00:00\" is not a unicast" },
	{ "bad-ifc-mac-number.json", "interfaces[0]: \"mac\" must be a string" },
	{ "bad-ifc-pci.json", "\"pci\" \"03:10.1\" is not a PCI address" },
	{ "bad-ifc-pci-slot.json", "\"pci\" \"0000:03:20.1\" is not a PCI" },
	{ "bad-ifc-dev.json", "\"dev\" \"../eth0\" is not an interface name" },
	{ "bad-ifc-dev-long.json", "\"a-name-of-16-byt\" is not an interface" },
	{ "bad-ifc-type.json", "interfaces[0]: \"type\" must be 1 to 31" },
	{ "bad-ifc-duplicate-mac.json", "interfaces[1] has the \"mac\" of "
					"interfaces[0]" },
	{ "bad-ifc-duplicate-pci.json", "interfaces[1] has the \"pci\" of "
					"interfaces[0]" },
};

START_TEST(test_bad_file)
{
	struct vpwr_resolver *r = (struct vpwr_resolver *)&r;
	struct logbuf lb;
	char uri[512];

	snprintf(uri, sizeof(uri), "static:%s%s", PINS, bad_files[_i].file);
	ck_assert_int_eq(open_logged(uri, &lb, &r), -VPWR_E_CONFIG);
	ck_assert_ptr_null(r);
	ck_assert_msg(strstr(lb.text, bad_files[_i].file),
		      "%s: log does not name the file: %s", bad_files[_i].file,
		      lb.text);
	ck_assert_msg(strstr(lb.text, bad_files[_i].why),
		      "%s: log lacks \"%s\": %s", bad_files[_i].file,
		      bad_files[_i].why, lb.text);
}
END_TEST

/* ----------------------------------------------- limits, from a tmpdir */

/* A file with one domain `name` holding `n` vCPUs pinned to CPU 1. */
static char *write_pins(const char *dir, const char *name, unsigned n,
			const char *extra)
{
	size_t cap = 64 + strlen(name) + strlen(extra) + n * 4;
	char *text = malloc(cap), *uri;
	size_t len;

	ck_assert_ptr_nonnull(text);
	len = (size_t)snprintf(text, cap, "{\"domains\": {\"%s\": {%s\"vcpus\": [",
			       name, extra);
	for (unsigned i = 0; i < n; i++)
		len += (size_t)snprintf(text + len, cap - len, "%s1",
					i ? "," : "");
	snprintf(text + len, cap - len, "]}}}");
	vpwr_test_write_file(dir, "pins.json", text);
	free(text);
	ck_assert_int_ge(asprintf(&uri, "static:%s/pins.json", dir), 0);
	return uri;
}

START_TEST(test_vcpu_count_limit)
{
	char *dir = vpwr_test_tmpdir(), *uri;
	struct vpwr_resolver *r = NULL;
	struct vpwr_cpuset set;
	struct logbuf lb;

	uri = write_pins(dir, "vm1", 1024, "");
	ck_assert_int_eq(open_logged(uri, &lb, &r), 0);
	ck_assert_int_eq(vpwr_resolver_nr_vcpus(r, "vm1"), 1024);
	ck_assert_int_eq(vpwr_resolver_lookup(r, "vm1", 1023, &set), 0);
	cpus_eq(&set, "1");
	vpwr_resolver_free(r);
	free(uri);

	uri = write_pins(dir, "vm1", 1025, "");
	ck_assert_int_eq(open_logged(uri, &lb, &r), -VPWR_E_CONFIG);
	ck_assert_ptr_nonnull(strstr(lb.text, "\"vcpus\" has 1025 entries"));
	free(uri);
	vpwr_test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_name_length_limit)
{
	char *dir = vpwr_test_tmpdir(), *uri;
	struct vpwr_resolver *r = NULL;
	struct logbuf lb;
	struct names nm = { 0 };
	char name[65];

	memset(name, 'n', 63);
	name[63] = '\0';
	uri = write_pins(dir, name, 1, "");
	ck_assert_int_eq(open_logged(uri, &lb, &r), 0);
	ck_assert_int_eq(vpwr_resolver_nr_vcpus(r, name), 1);
	ck_assert_int_eq(vpwr_resolver_foreach_domain(r, collect, &nm), 1);
	ck_assert_str_eq(nm.seen[0], name);
	vpwr_resolver_free(r);
	free(uri);

	name[63] = 'n';
	name[64] = '\0';
	uri = write_pins(dir, name, 1, "");
	ck_assert_int_eq(open_logged(uri, &lb, &r), -VPWR_E_CONFIG);
	ck_assert_ptr_nonnull(strstr(lb.text, "name is 64 bytes"));
	free(uri);
	vpwr_test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_cid_bounds)
{
	char *dir = vpwr_test_tmpdir(), *uri;
	struct vpwr_resolver *r = NULL;
	struct logbuf lb;
	uint32_t cid = 0;

	uri = write_pins(dir, "vm1", 1, "\"cid\": 3, ");
	ck_assert_int_eq(open_logged(uri, &lb, &r), 0);
	ck_assert_int_eq(vpwr_resolver_domain_cid(r, "vm1", &cid), 0);
	ck_assert_uint_eq(cid, 3);
	vpwr_resolver_free(r);
	free(uri);

	uri = write_pins(dir, "vm1", 1, "\"cid\": 4294967294, ");
	ck_assert_int_eq(open_logged(uri, &lb, &r), 0);
	ck_assert_int_eq(vpwr_resolver_domain_cid(r, "vm1", &cid), 0);
	ck_assert_uint_eq(cid, 0xFFFFFFFEu);
	vpwr_resolver_free(r);
	free(uri);

	uri = write_pins(dir, "vm1", 1, "\"cid\": 1.5e3, ");
	ck_assert_int_eq(open_logged(uri, &lb, &r), -VPWR_E_CONFIG);
	ck_assert_ptr_nonnull(strstr(lb.text, "\"cid\""));
	free(uri);
	vpwr_test_rmtree(dir);
	free(dir);
}
END_TEST

START_TEST(test_empty_domains_ok)
{
	char *dir = vpwr_test_tmpdir(), *uri;
	struct vpwr_resolver *r = NULL;
	struct names nm = { 0 };
	struct logbuf lb;

	vpwr_test_write_file(dir, "pins.json", "{\"domains\": {}}\n");
	ck_assert_int_ge(asprintf(&uri, "static:%s/pins.json", dir), 0);
	ck_assert_int_eq(open_logged(uri, &lb, &r), 0);
	ck_assert_int_eq(vpwr_resolver_foreach_domain(r, collect, &nm), 0);
	ck_assert_int_eq(nm.n, 0);
	ck_assert_int_eq(vpwr_resolver_nr_vcpus(r, "vm1"), -VPWR_E_NO_DOMAIN);
	vpwr_resolver_free(r);
	free(uri);
	vpwr_test_rmtree(dir);
	free(dir);
}
END_TEST

/* ------------------------------------------------------ interfaces */

struct ifcs {
	char text[1024];
	int calls, stop_at;
};

static int collect_interface(const struct vpwr_resolver_interface *ifc,
			     void *ud)
{
	struct ifcs *c = ud;
	size_t len = strlen(c->text);

	ck_assert_uint_eq(ifc->sz, sizeof(*ifc));
	snprintf(c->text + len, sizeof(c->text) - len,
		 "%s|%02x:%02x:%02x:%02x:%02x:%02x|%s|%s|%s|%d\n", ifc->domain,
		 ifc->mac[0], ifc->mac[1], ifc->mac[2], ifc->mac[3],
		 ifc->mac[4], ifc->mac[5], ifc->type ? ifc->type : "-",
		 ifc->target_dev ? ifc->target_dev : "-",
		 ifc->pci_addr ? ifc->pci_addr : "-", ifc->running);
	return ++c->calls == c->stop_at ? -42 : 0;
}

START_TEST(test_interfaces)
{
	struct vpwr_resolver *r = NULL;
	struct ifcs c = { 0 };
	struct logbuf lb;

	ck_assert_int_eq(open_logged("static:" PINS "good-interfaces.json",
				     &lb, &r), 0);
	ck_assert_int_eq(vpwr_resolver_foreach_interface(
				 r, "web", collect_interface, &c), 3);
	ck_assert_str_eq(c.text,
			 "web|52:54:00:12:34:56|ethernet|tap0|-|1\n"
			 "web|52:54:00:aa:bb:cc|hostdev|-|0000:03:10.1|1\n"
			 "web|00:00:00:00:00:00|-|-|0000:03:10.3|1\n");
	/* An empty list says "none"; no list says nothing. */
	memset(&c, 0, sizeof(c));
	ck_assert_int_eq(vpwr_resolver_foreach_interface(
				 r, "db", collect_interface, &c), 0);
	ck_assert_int_eq(vpwr_resolver_foreach_interface(
				 r, "batch", collect_interface, &c), -ENOTSUP);
	ck_assert_int_eq(c.calls, 0);
	/* Every domain that lists them; the callback stops the walk. */
	ck_assert_int_eq(vpwr_resolver_foreach_interface(
				 r, NULL, collect_interface, &c), 3);
	memset(&c, 0, sizeof(c));
	c.stop_at = 2;
	ck_assert_int_eq(vpwr_resolver_foreach_interface(
				 r, NULL, collect_interface, &c), -42);
	ck_assert_int_eq(vpwr_resolver_foreach_interface(
				 r, "nope", collect_interface, &c),
			 -VPWR_E_NO_DOMAIN);
	ck_assert_int_eq(vpwr_resolver_foreach_interface(r, "web", NULL, &c),
			 -EINVAL);
	ck_assert_int_eq(vpwr_resolver_foreach_interface(
				 NULL, "web", collect_interface, &c), -EINVAL);
	vpwr_resolver_free(r);
	/* A file where no domain lists them. */
	r = open_good();
	ck_assert_int_eq(vpwr_resolver_foreach_interface(
				 r, NULL, collect_interface, &c), -ENOTSUP);
	ck_assert_int_eq(vpwr_resolver_foreach_interface(
				 r, "web", collect_interface, &c), -ENOTSUP);
	vpwr_resolver_free(r);
}
END_TEST

static Suite *resolver_suite(void)
{
	Suite *s = suite_create("resolver");
	TCase *tc = tcase_create("static");

	tcase_add_test(tc, test_lookup);
	tcase_add_test(tc, test_nr_vcpus);
	tcase_add_test(tc, test_lookup_errors);
	tcase_add_test(tc, test_foreach_sorted);
	tcase_add_test(tc, test_optional_features);
	tcase_add_test(tc, test_open_args);
	tcase_add_test(tc, test_unknown_scheme);
	tcase_add_test(tc, test_missing_file);
	tcase_add_test(tc, test_not_regular);
	tcase_add_test(tc, test_opts_tail);
	tcase_add_loop_test(tc, test_bad_file, 0,
			    (int)(sizeof(bad_files) / sizeof(bad_files[0])));
	tcase_add_test(tc, test_vcpu_count_limit);
	tcase_add_test(tc, test_name_length_limit);
	tcase_add_test(tc, test_cid_bounds);
	tcase_add_test(tc, test_empty_domains_ok);
	tcase_add_test(tc, test_interfaces);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(resolver_suite());
}
