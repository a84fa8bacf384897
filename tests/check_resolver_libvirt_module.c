/* The libvirt: resolver loaded from its module (resolver_libvirt_load.c):
 * the module of this build (in the build tree's libvpwr-N/), a directory
 * without it, a file that is not a module, a module of another build
 * (resolver_module_bogus.c), and the module's own stamp check.  This suite
 * links the static archive, which has the resolver built in: setting
 * module_dir makes even that copy load the module, which is how the loader
 * is reached here.  Loading from beside libvpwr.so (dladdr) is exercised
 * through the shared library by the Python tests and tests/install. */
#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

#include "lvtest.h"
#include "resolver_module.h"

#define MODULE_PATH VPWR_MODULE_DIR "/" VPWR_LIBVIRT_MODULE_FILE

static int open_from(const char *uri, const char *dir, struct logbuf *lb,
		     struct vpwr_resolver **r)
{
	VPWR_OPTS(vpwr_resolver_opts, o, .log_fn = capture, .log_userdata = lb,
		  .log_level = VPWR_LOG_DEBUG, .module_dir = dir);

	memset(lb, 0, sizeof(*lb));
	return vpwr_resolver_open(uri, &o, r);
}

/* The module of this build loads and serves like the built-in copy. */
START_TEST(test_module_loads)
{
	struct vpwr_resolver *r = NULL;
	struct logbuf lb;

	ck_assert_int_eq(open_from("libvirt:" URI, VPWR_MODULE_DIR, &lb, &r), 0);
	ck_assert_ptr_nonnull(r->module);
	/* The module's own table, not the one linked into this program. */
	ck_assert_ptr_ne(r->ops, &vpwr_resolver_libvirt_ops);
	ck_assert_str_eq(r->ops->scheme, "libvirt");
	ck_assert_ptr_nonnull(strstr(lb.text, "resolver module " MODULE_PATH
				     " (" VPWR_MODULE_STAMP ")"));
	ck_assert_int_eq(vpwr_resolver_nr_vcpus(r, "pinned"), 2);
	lookup_eq(r, "pinned", 1, "3");
	/* Its logging (its own copy of util.c) reaches our callback. */
	ck_assert_ptr_nonnull(strstr(lb.text, URI ": 6 domains"));
	ck_assert_int_eq(vpwr_resolver_refresh(r), 0);
	vpwr_resolver_free(r);
}
END_TEST

/* Open and free again and again: each open dlopen()s, each free
 * dlclose()s, a failed open included. */
START_TEST(test_module_again)
{
	struct vpwr_resolver *r;
	struct logbuf lb;

	for (int i = 0; i < 5; i++) {
		r = NULL;
		ck_assert_int_eq(open_from("libvirt:" URI, VPWR_MODULE_DIR, &lb,
					   &r), 0);
		vpwr_resolver_free(r);
	}
	virSetErrorFunc(NULL, quiet_libvirt);
	ck_assert_int_eq(open_from("libvirt:nope", VPWR_MODULE_DIR, &lb, &r),
			 -EPROTONOSUPPORT);
	virSetErrorFunc(NULL, NULL);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(lb.text, "cannot connect to nope"));
}
END_TEST

/* No module: the package is not installed, and the log says where we
 * looked. */
START_TEST(test_module_missing)
{
	struct vpwr_resolver *r = (struct vpwr_resolver *)&r;
	char *dir = vpwr_test_tmpdir(), want[512];
	struct logbuf lb;

	ck_assert_int_eq(open_from("libvirt:" URI, dir, &lb, &r),
			 -EPROTONOSUPPORT);
	ck_assert_ptr_null(r);
	snprintf(want, sizeof(want), "no libvirt resolver module at %s/%s",
		 dir, VPWR_LIBVIRT_MODULE_FILE);
	ck_assert_ptr_nonnull(strstr(lb.text, want));
	ck_assert_ptr_nonnull(
		strstr(lb.text, "the libvirt resolver package is not installed"));
	ck_assert_int_eq(lb.count, 1);
	vpwr_test_rmtree(dir);
	free(dir);
}
END_TEST

/* A file of that name that is not a shared object. */
START_TEST(test_module_not_elf)
{
	struct vpwr_resolver *r = (struct vpwr_resolver *)&r;
	char *dir = vpwr_test_tmpdir();
	struct logbuf lb;

	vpwr_test_write_file(dir, VPWR_LIBVIRT_MODULE_FILE, "not a module\n");
	ck_assert_int_eq(open_from("libvirt:" URI, dir, &lb, &r),
			 -EPROTONOSUPPORT);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(
		lb.text, "cannot load the libvirt resolver module: "));
	ck_assert_ptr_nonnull(strstr(lb.text, dir));
	vpwr_test_rmtree(dir);
	free(dir);
}
END_TEST

/* A module of another build is refused by the library even when the
 * module itself does not check. */
START_TEST(test_module_other_build)
{
	struct vpwr_resolver *r = (struct vpwr_resolver *)&r;
	struct logbuf lb;

	ck_assert_int_eq(open_from("libvirt:" URI, VPWR_BOGUS_MODULE_DIR, &lb,
				   &r), -EPROTONOSUPPORT);
	ck_assert_ptr_null(r);
	ck_assert_ptr_nonnull(strstr(lb.text, "refusing the libvirt resolver "
				     "module " VPWR_BOGUS_MODULE_DIR "/"));
	ck_assert_ptr_nonnull(strstr(lb.text, "from another libvpwr build "
				     "(module stamp \"libvpwr 0.0.0 bogus\", "
				     "library \"" VPWR_MODULE_STAMP "\")"));
}
END_TEST

/* The module refuses a library whose stamp or structures differ. */
START_TEST(test_module_checks_stamp)
{
	void *h = dlopen(MODULE_PATH, RTLD_NOW | RTLD_LOCAL);
	vpwr_resolver_module_get_ops_fn *get;
	const struct vpwr_resolver_ops *ops = (void *)&ops;
	const char *stamp = NULL;
	const size_t osz = sizeof(struct vpwr_resolver_ops),
		     rsz = sizeof(struct vpwr_resolver);

	ck_assert_msg(h, "%s", dlerror());
	get = (vpwr_resolver_module_get_ops_fn *)dlsym(h,
						       VPWR_RESOLVER_MODULE_ENTRY);
	ck_assert_ptr_nonnull(get);
	ck_assert_int_eq(get("libvpwr 0.0.0 other", osz, rsz, &stamp, &ops),
			 -EPROTONOSUPPORT);
	ck_assert_ptr_null(ops);
	ck_assert_str_eq(stamp, VPWR_MODULE_STAMP);
	ck_assert_int_eq(get(VPWR_MODULE_STAMP, osz + 8, rsz, &stamp, &ops),
			 -EPROTONOSUPPORT);
	ck_assert_int_eq(get(VPWR_MODULE_STAMP, osz, rsz - 8, &stamp, &ops),
			 -EPROTONOSUPPORT);
	ck_assert_int_eq(get(NULL, osz, rsz, &stamp, &ops), -EPROTONOSUPPORT);
	ck_assert_ptr_null(ops);
	ck_assert_int_eq(get(VPWR_MODULE_STAMP, osz, rsz, &stamp, &ops), 0);
	ck_assert_str_eq(ops->scheme, "libvirt");
	/* Nothing but the entry is exported. */
	ck_assert_ptr_null(dlsym(h, "vpwr_resolver_libvirt_ops"));
	ck_assert_ptr_null(dlsym(h, "vpwr_logf"));
	ck_assert_ptr_null(dlsym(h, "vpwr_cpuset_parse"));
	dlclose(h);
}
END_TEST

/* module_dir is the libvirt: scheme's business only. */
START_TEST(test_module_dir_other_schemes)
{
	struct vpwr_resolver *r = (struct vpwr_resolver *)&r;
	struct logbuf lb;

	ck_assert_int_eq(open_from("static:/nonexistent.json", "/nonexistent",
				   &lb, &r), -ENOENT);
	ck_assert_ptr_null(strstr(lb.text, "module"));
	ck_assert_int_eq(open_from("nope:x", "/nonexistent", &lb, &r),
			 -EPROTONOSUPPORT);
}
END_TEST

static Suite *resolver_libvirt_module_suite(void)
{
	Suite *s = suite_create("resolver_libvirt_module");
	TCase *tc = tcase_create("module");

	tcase_add_test(tc, test_module_loads);
	tcase_add_test(tc, test_module_again);
	tcase_add_test(tc, test_module_missing);
	tcase_add_test(tc, test_module_not_elf);
	tcase_add_test(tc, test_module_other_build);
	tcase_add_test(tc, test_module_checks_stamp);
	tcase_add_test(tc, test_module_dir_other_schemes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return vpwr_test_run(resolver_libvirt_module_suite());
}
