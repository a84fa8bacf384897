/* SPDX-License-Identifier: MIT */
/*
 * The low-level SWIG module vpwr._vpwr: the C API almost as it is, for the
 * pythonic layer in vpwr/ to build on.  Users should not need it.
 *
 * Conventions of this layer:
 *  - functions return the C int (0/positive or -errno/-VPWR_E_*); values
 *    that C hands back through out-parameters are appended, so
 *    `rc, handle = vpwr_py_guest_open(...)`;
 *  - option structs with pointers and callbacks are not exposed: small
 *    vpwr_py_* helpers take plain arguments and fill them (with sz set);
 *  - result structs (vpwr_hello, vpwr_vcpu_state, and vpwr_host_cpu_info
 *    as vpwr_host_cpu_info_t) are allocated by the caller as SWIG objects
 *    and filled in place; their fields are read-only;
 *  - the module is built with -threads: every wrapper releases the GIL
 *    around the C call, so a blocking guest request in one Python thread
 *    can be answered by vpwr_host_dispatch() in another.  The few helpers
 *    that build Python objects themselves are marked %nothread.
 */
%module(package="vpwr") _vpwr

%{
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
/* Not the umbrella libvpwr.h: it includes "version.h", which in the build
 * tree is generated elsewhere. */
#include <libvpwr/version.h>
#include <libvpwr/error.h>
#include <libvpwr/message.h>
#include <libvpwr/transport.h>
#include <libvpwr/backend.h>
#include <libvpwr/sim.h>
#include <libvpwr/resolver.h>
#include <libvpwr/guest.h>
#include <libvpwr/host.h>
%}

%include <stdint.i>
%include <typemaps.i>

/* What SWIG's parser must not see: export and attribute macros. */
#define VPWR_API
#define __attribute__(x)

/* ------------------------------------------------------------ typemaps */

/* Opaque handles returned through `TYPE **out`: appended to the result
 * (None when the call failed). */
%define VPWR_OUT_HANDLE(TYPE)
%typemap(in, numinputs=0, noblock=1) TYPE **out (TYPE *tmp = NULL) {
  $1 = &tmp;
}
%typemap(argout, noblock=1) TYPE **out {
  $result = SWIG_Python_AppendOutput($result,
      SWIG_NewPointerObj(SWIG_as_voidptr(tmp$argnum), $*1_descriptor, 0));
}
%enddef
VPWR_OUT_HANDLE(struct vpwr_guest)
VPWR_OUT_HANDLE(struct vpwr_host)
VPWR_OUT_HANDLE(struct vpwr_backend)
VPWR_OUT_HANDLE(struct vpwr_resolver)

/* (khz, cap): Python passes cap, gets back a list of up to cap entries. */
%typemap(in, noblock=1) (uint32_t *khz, size_t cap) (size_t n = 0) {
  n = PyLong_AsSize_t($input);
  if (n == (size_t)-1 && PyErr_Occurred())
    SWIG_fail;
  if (n > 4096) {
    PyErr_SetString(PyExc_ValueError, "cap must be at most 4096");
    SWIG_fail;
  }
  $1 = calloc(n ? n : 1, sizeof(uint32_t));
  if (!$1) {
    PyErr_NoMemory();
    SWIG_fail;
  }
  $2 = n;
}
%typemap(argout, noblock=1) (uint32_t *khz, size_t cap) {
  {
    size_t count = result > 0 ? (size_t)result : 0;
    PyObject *list;
    if (count > $2)
      count = $2;
    list = PyList_New((Py_ssize_t)count);
    if (!list)
      SWIG_fail;
    for (size_t i = 0; i < count; i++) {
      PyObject *v = PyLong_FromUnsignedLong($1[i]);
      if (!v) {
        Py_DECREF(list);
        SWIG_fail;
      }
      PyList_SET_ITEM(list, (Py_ssize_t)i, v);
    }
    $result = SWIG_Python_AppendOutput($result, list);
  }
}
%typemap(freearg, noblock=1) (uint32_t *khz, size_t cap) {
  free($1);
}

/* (freqs_khz, nr_freqs) from a sequence of ints, or None for the default. */
%typemap(in, noblock=1) (const uint32_t *freqs_khz, size_t nr_freqs) {
  $1 = NULL;
  $2 = 0;
  if ($input != Py_None) {
    PyObject *seq = PySequence_Fast($input, "freqs must be a sequence of ints");
    Py_ssize_t len;
    if (!seq)
      SWIG_fail;
    len = PySequence_Fast_GET_SIZE(seq);
    $1 = calloc(len ? (size_t)len : 1, sizeof(uint32_t));
    if (!$1) {
      Py_DECREF(seq);
      PyErr_NoMemory();
      SWIG_fail;
    }
    for (Py_ssize_t i = 0; i < len; i++) {
      PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
      unsigned long v;
      if (!PyLong_Check(item)) {
        Py_DECREF(seq);
        PyErr_SetString(PyExc_TypeError, "freqs must be a sequence of ints");
        SWIG_fail;
      }
      v = PyLong_AsUnsignedLong(item);
      if ((v == (unsigned long)-1 && PyErr_Occurred()) || v > UINT32_MAX) {
        Py_DECREF(seq);
        PyErr_Clear();
        PyErr_SetString(PyExc_ValueError, "a frequency is outside 0 .. 2**32-1 kHz");
        SWIG_fail;
      }
      $1[i] = (uint32_t)v;
    }
    $2 = (size_t)len;
    Py_DECREF(seq);
  }
}
%typemap(freearg, noblock=1) (const uint32_t *freqs_khz, size_t nr_freqs) {
  free((void *)$1);
}

/* A CPU set handed back: a sorted list of CPU numbers. */
%typemap(in, numinputs=0, noblock=1) struct vpwr_cpuset *pcpus (struct vpwr_cpuset tmp) {
  memset(&tmp, 0, sizeof(tmp));
  $1 = &tmp;
}
%typemap(argout, noblock=1) struct vpwr_cpuset *pcpus {
  {
    PyObject *list = PyList_New(0);
    if (!list)
      SWIG_fail;
    for (unsigned c = 0; c < VPWR_MAX_CPUS; c++) {
      if ((tmp$argnum.bits[c / 64] >> (c % 64)) & 1) {
        PyObject *v = PyLong_FromUnsignedLong(c);
        if (!v || PyList_Append(list, v) < 0) {
          Py_XDECREF(v);
          Py_DECREF(list);
          SWIG_fail;
        }
        Py_DECREF(v);
      }
    }
    $result = SWIG_Python_AppendOutput($result, list);
  }
}

/* Scalars handed back through pointers. */
%apply unsigned int *OUTPUT { uint32_t *khz, uint32_t *min_khz,
                              uint32_t *max_khz, uint32_t *cur_khz };
%apply unsigned long long *OUTPUT { uint64_t *ns };
%apply double *OUTPUT { double *joules, double *watts };

/* ---------------------------------------- what is wrapped from headers */

/*
 * Only the functions and structs listed here are wrapped: one added to a
 * header is neither wrapped nor linked until it is listed (so the module
 * never depends on a symbol the library does not have yet).  Enums and
 * constants all come through.  Not wrapped yet: option structs with
 * pointers and callbacks (the helpers below fill them), the raw
 * channel/listener API (Python has sockets), whole messages, policies and
 * the host's event callback.
 */
%rename("$ignore", %$isfunction) "";
%rename("$ignore", %$isclass) "";

%define VPWR_WRAP(name)
%rename("%s") name;
%enddef

VPWR_WRAP(vpwr_version)
VPWR_WRAP(vpwr_version_string)
VPWR_WRAP(vpwr_strerror)
VPWR_WRAP(vpwr_strerror_name)

VPWR_WRAP(vpwr_hello)
VPWR_WRAP(vpwr_vcpu_state)

VPWR_WRAP(vpwr_backend_free)
VPWR_WRAP(vpwr_backend_name)
VPWR_WRAP(vpwr_backend_nr_cpus)
VPWR_WRAP(vpwr_backend_caps)
VPWR_WRAP(vpwr_backend_get_freqs)
VPWR_WRAP(vpwr_backend_get_freq)
VPWR_WRAP(vpwr_backend_set_freq)
VPWR_WRAP(vpwr_backend_get_limits)
VPWR_WRAP(vpwr_backend_set_limits)
VPWR_WRAP(vpwr_backend_get_turbo)
VPWR_WRAP(vpwr_backend_set_turbo)
VPWR_WRAP(vpwr_backend_restore)

VPWR_WRAP(vpwr_sim_advance)
VPWR_WRAP(vpwr_sim_now)
VPWR_WRAP(vpwr_sim_set_util)
VPWR_WRAP(vpwr_sim_energy)
VPWR_WRAP(vpwr_sim_power)
VPWR_WRAP(vpwr_sim_residency)

VPWR_WRAP(vpwr_resolver_free)
VPWR_WRAP(vpwr_resolver_nr_vcpus)
VPWR_WRAP(vpwr_resolver_lookup)

VPWR_WRAP(vpwr_guest_free)
VPWR_WRAP(vpwr_guest_fd)
VPWR_WRAP(vpwr_guest_hello)
VPWR_WRAP(vpwr_guest_scale)
VPWR_WRAP(vpwr_guest_set_freq)
VPWR_WRAP(vpwr_guest_set_range)
VPWR_WRAP(vpwr_guest_set_turbo)
VPWR_WRAP(vpwr_guest_set_epp)
VPWR_WRAP(vpwr_guest_query_freqs)
VPWR_WRAP(vpwr_guest_query_state)
VPWR_WRAP(vpwr_guest_release)
VPWR_WRAP(vpwr_guest_last_reason)

VPWR_WRAP(vpwr_host_free)
VPWR_WRAP(vpwr_host_listen)
VPWR_WRAP(vpwr_host_remove_channel)
VPWR_WRAP(vpwr_host_fd)
VPWR_WRAP(vpwr_host_dispatch)
VPWR_WRAP(vpwr_host_run)
VPWR_WRAP(vpwr_host_stop)
VPWR_WRAP(vpwr_host_set_bounds)
VPWR_WRAP(vpwr_host_nr_channels)
/* C keeps struct tags apart from functions; Python cannot. */
%rename("vpwr_host_cpu_info") vpwr_host_cpu_info(struct vpwr_host *, unsigned, struct vpwr_host_cpu_info *);
%rename("vpwr_host_cpu_info_t", %$isclass) vpwr_host_cpu_info;

/* Result structs are filled by the library, never by Python. */
%immutable;
%include "libvpwr/common.h"
%include "libvpwr/version.h"
%include "libvpwr/error.h"
%include "libvpwr/message.h"
%include "libvpwr/backend.h"
%include "libvpwr/sim.h"
%include "libvpwr/resolver.h"
%include "libvpwr/guest.h"
%include "libvpwr/host.h"
%mutable;

/* ------------------------------------------------------------- helpers */

/*
 * Small C helpers: fill the option structs (with sz set) from plain
 * arguments, and wrap fds into channels.  Defined here, declared to SWIG
 * below.
 */
%{
/*
 * A log sink: the log callback of one handle writes the last message here,
 * so that a failure can be reported with the library's own explanation (a
 * syntax error in a pins file, a refused write...).  Owned by the Python
 * object of the handle and freed after the handle.  Written only by the
 * thread using the handle, without the GIL.
 */
struct vpwr_py_log {
	char last[512];
};

static void vpwr_py_log_fn(enum vpwr_log_level level, const char *msg,
			   void *userdata)
{
	struct vpwr_py_log *l = userdata;

	(void)level;
	if (l && msg)
		snprintf(l->last, sizeof(l->last), "%s", msg);
}

static struct vpwr_py_log *vpwr_py_log_new(void)
{
	return calloc(1, sizeof(struct vpwr_py_log));
}

static void vpwr_py_log_free(struct vpwr_py_log *l)
{
	free(l);
}

static const char *vpwr_py_log_last(const struct vpwr_py_log *l)
{
	return l ? l->last : "";
}

static void vpwr_py_log_clear(struct vpwr_py_log *l)
{
	if (l)
		l->last[0] = '\0';
}

static int vpwr_py_guest_open(const char *uri, int timeout_ms,
			      const char *codec, struct vpwr_py_log *log,
			      struct vpwr_guest **out)
{
	VPWR_OPTS(vpwr_guest_opts, o, .timeout_ms = timeout_ms,
		  .codec = codec, .log_fn = vpwr_py_log_fn,
		  .log_userdata = log);
	return vpwr_guest_open(uri, &o, out);
}

static int vpwr_py_guest_open_fd(int fd, int timeout_ms, const char *codec,
				 struct vpwr_py_log *log,
				 struct vpwr_guest **out)
{
	VPWR_OPTS(vpwr_channel_opts, co, .log_fn = vpwr_py_log_fn,
		  .log_userdata = log);
	VPWR_OPTS(vpwr_guest_opts, o, .timeout_ms = timeout_ms,
		  .codec = codec, .log_fn = vpwr_py_log_fn,
		  .log_userdata = log);
	struct vpwr_channel *ch = NULL;
	int rc;

	rc = vpwr_channel_open_fd(fd, &co, &ch);
	if (rc < 0)
		return rc;
	return vpwr_guest_open_channel(ch, &o, out);
}

static int vpwr_py_backend_open(const char *name, const char *sysfs_root,
				struct vpwr_py_log *log,
				struct vpwr_backend **out)
{
	VPWR_OPTS(vpwr_backend_opts, o, .sysfs_root = sysfs_root,
		  .log_fn = vpwr_py_log_fn, .log_userdata = log);
	return vpwr_backend_open(name, &o, out);
}

static int vpwr_py_backend_open_sim(unsigned nr_cpus,
				    const uint32_t *freqs_khz,
				    size_t nr_freqs, uint32_t turbo_khz,
				    double static_w, double dyn_w_per_ghz_v2,
				    double v_min, double v_max,
				    double idle_fraction, double util,
				    int wallclock, struct vpwr_py_log *log,
				    struct vpwr_backend **out)
{
	VPWR_OPTS(vpwr_sim_opts, so, .nr_cpus = nr_cpus,
		  .freqs_khz = freqs_khz, .nr_freqs = nr_freqs,
		  .turbo_khz = turbo_khz, .static_w = static_w,
		  .dyn_w_per_ghz_v2 = dyn_w_per_ghz_v2, .v_min = v_min,
		  .v_max = v_max, .idle_fraction = idle_fraction,
		  .util = util, .wallclock = wallclock);
	VPWR_OPTS(vpwr_backend_opts, o, .sim = &so, .log_fn = vpwr_py_log_fn,
		  .log_userdata = log);
	return vpwr_backend_open("sim", &o, out);
}

static int vpwr_py_resolver_open(const char *uri, struct vpwr_py_log *log,
				 struct vpwr_resolver **out)
{
	VPWR_OPTS(vpwr_resolver_opts, o, .log_fn = vpwr_py_log_fn,
		  .log_userdata = log);
	return vpwr_resolver_open(uri, &o, out);
}

static int vpwr_py_host_new(struct vpwr_backend *backend,
			    struct vpwr_resolver *resolver, unsigned mode,
			    unsigned max_channels, unsigned allow_shared,
			    struct vpwr_py_log *log, struct vpwr_host **out)
{
	VPWR_OPTS(vpwr_host_opts, o, .backend = backend,
		  .resolver = resolver, .mode = mode,
		  .max_channels = max_channels, .allow_shared = allow_shared,
		  .log_fn = vpwr_py_log_fn, .log_userdata = log);
	return vpwr_host_new(&o, out);
}

static int vpwr_py_host_add_fd(struct vpwr_host *h, const char *domain,
			       int fd, struct vpwr_py_log *log)
{
	VPWR_OPTS(vpwr_channel_opts, co, .log_fn = vpwr_py_log_fn,
		  .log_userdata = log);
	struct vpwr_channel *ch = NULL;
	int rc;

	if (!h || !domain) {
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	rc = vpwr_channel_open_fd(fd, &co, &ch);
	if (rc < 0)
		return rc;
	return vpwr_host_add_channel(h, domain, ch);
}

static void vpwr_py_domain_cb(const char *domain, void *userdata)
{
	PyObject *list = userdata;
	PyObject *s;

	if (PyErr_Occurred())
		return;
	s = PyUnicode_DecodeFSDefault(domain);
	if (s) {
		PyList_Append(list, s);
		Py_DECREF(s);
	}
}

static PyObject *vpwr_py_resolver_domains(struct vpwr_resolver *r)
{
	PyObject *list = PyList_New(0);
	int rc;

	if (!list)
		return NULL;
	rc = r ? vpwr_resolver_foreach_domain(r, vpwr_py_domain_cb, list)
	       : -EINVAL;
	if (PyErr_Occurred()) {
		Py_DECREF(list);
		return NULL;
	}
	return Py_BuildValue("(iN)", rc, list);
}
%}

VPWR_WRAP(vpwr_py_log_new)
VPWR_WRAP(vpwr_py_log_free)
VPWR_WRAP(vpwr_py_log_last)
VPWR_WRAP(vpwr_py_log_clear)
VPWR_WRAP(vpwr_py_guest_open)
VPWR_WRAP(vpwr_py_guest_open_fd)
VPWR_WRAP(vpwr_py_backend_open)
VPWR_WRAP(vpwr_py_backend_open_sim)
VPWR_WRAP(vpwr_py_resolver_open)
VPWR_WRAP(vpwr_py_host_new)
VPWR_WRAP(vpwr_py_host_add_fd)
VPWR_WRAP(vpwr_py_resolver_domains)

/* An opaque sink for the library's log messages of one handle. */
struct vpwr_py_log;
struct vpwr_py_log *vpwr_py_log_new(void);
void vpwr_py_log_free(struct vpwr_py_log *l);
/* The last message logged since vpwr_py_log_clear(), or "". */
const char *vpwr_py_log_last(const struct vpwr_py_log *l);
void vpwr_py_log_clear(struct vpwr_py_log *l);

/* vpwr_guest_open() with the options as arguments. */
int vpwr_py_guest_open(const char *uri, int timeout_ms, const char *codec,
		       struct vpwr_py_log *log, struct vpwr_guest **out);
/* A guest on a connected stream fd, which is the library's from then on
 * (also on failure). */
int vpwr_py_guest_open_fd(int fd, int timeout_ms, const char *codec,
			  struct vpwr_py_log *log, struct vpwr_guest **out);
/* vpwr_backend_open(name) for the sysfs backends. */
int vpwr_py_backend_open(const char *name, const char *sysfs_root,
			 struct vpwr_py_log *log, struct vpwr_backend **out);
/* vpwr_backend_open("sim") with struct vpwr_sim_opts as arguments. */
int vpwr_py_backend_open_sim(unsigned nr_cpus, const uint32_t *freqs_khz,
			     size_t nr_freqs, uint32_t turbo_khz,
			     double static_w, double dyn_w_per_ghz_v2,
			     double v_min, double v_max, double idle_fraction,
			     double util, int wallclock, struct vpwr_py_log *log,
			     struct vpwr_backend **out);
/* vpwr_resolver_open(uri). */
int vpwr_py_resolver_open(const char *uri, struct vpwr_py_log *log,
			  struct vpwr_resolver **out);
/* vpwr_host_new() with the options as arguments; backend and resolver
 * stay the caller's and must outlive the host. */
int vpwr_py_host_new(struct vpwr_backend *backend,
		     struct vpwr_resolver *resolver, unsigned mode,
		     unsigned max_channels, unsigned allow_shared,
		     struct vpwr_py_log *log, struct vpwr_host **out);
/* Serve a connected stream fd bound to `domain`; the fd is the library's
 * from then on (also on failure).  Returns the channel id or -errno. */
int vpwr_py_host_add_fd(struct vpwr_host *h, const char *domain, int fd,
			struct vpwr_py_log *log);

/* (rc, [domain names]); builds Python objects, so it keeps the GIL. */
%nothread vpwr_py_resolver_domains;
PyObject *vpwr_py_resolver_domains(struct vpwr_resolver *r);
