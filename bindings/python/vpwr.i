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
#include <libvpwr/codec.h>
#include <libvpwr/meter.h>
#include <stddef.h>
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
VPWR_OUT_HANDLE(struct vpwr_meter)
VPWR_OUT_HANDLE(struct vpwr_channel)
VPWR_OUT_HANDLE(struct vpwr_listener)

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

%apply struct vpwr_cpuset *pcpus { struct vpwr_cpuset *set };
/* vpwr_backend_policy_cpus(): the only cpuset handed back as `out`. */
%apply struct vpwr_cpuset *pcpus { struct vpwr_cpuset *out };

/* Scalars handed back through pointers. */
%apply unsigned int *OUTPUT { uint32_t *khz, uint32_t *min_khz,
                              uint32_t *max_khz, uint32_t *cur_khz };
/* A CID is left alone on failure: start from 0. */
%typemap(in, numinputs=0, noblock=1) uint32_t *cid (uint32_t tmp = 0) {
  $1 = &tmp;
}
%typemap(argout, noblock=1) uint32_t *cid {
  $result = SWIG_Python_AppendOutput($result,
      PyLong_FromUnsignedLong(tmp$argnum));
}
%apply unsigned long long *OUTPUT { uint64_t *ns };
%apply double *OUTPUT { double *joules, double *watts };

/* ------------------------------------- whole structs as bytes objects */

/*
 * Messages, policies and vCPU lists cross into Python as bytes objects of
 * exactly the C struct's size, packed and unpacked by vpwr/message.py at
 * the offsets vpwr_py_layout() reports (computed here by the compiler, so
 * Python never guesses the layout).
 */
%{
static int vpwr_py_get_struct(PyObject *o, void *dst, size_t size,
			      const char *what)
{
	Py_buffer view;

	if (PyObject_GetBuffer(o, &view, PyBUF_SIMPLE) < 0) {
		PyErr_Clear();
		PyErr_Format(PyExc_TypeError, "%s must be a bytes-like object "
			     "of %zu bytes, not %.100s", what, size,
			     Py_TYPE(o)->tp_name);
		return -1;
	}
	if (view.len < 0 || (size_t)view.len != size) {
		PyErr_Format(PyExc_ValueError, "%s must be %zu bytes, not %zd",
			     what, size, view.len);
		PyBuffer_Release(&view);
		return -1;
	}
	memcpy(dst, view.buf, size);
	PyBuffer_Release(&view);
	return 0;
}
%}

%define VPWR_STRUCT_IN(TYPE, NAME, WHAT)
%typemap(in, noblock=1) const TYPE *NAME (TYPE tmp) {
  if (vpwr_py_get_struct($input, &tmp, sizeof(tmp), WHAT) < 0)
    SWIG_fail;
  $1 = &tmp;
}
%enddef
%define VPWR_STRUCT_OUT(TYPE, NAME)
%typemap(in, numinputs=0, noblock=1) TYPE *NAME (TYPE tmp) {
  memset(&tmp, 0, sizeof(tmp));
  $1 = &tmp;
}
%typemap(argout, noblock=1) TYPE *NAME {
  $result = SWIG_Python_AppendOutput($result,
      PyBytes_FromStringAndSize((const char *)&tmp$argnum, sizeof(tmp$argnum)));
}
%enddef
VPWR_STRUCT_IN(struct vpwr_msg, request, "request")
VPWR_STRUCT_IN(struct vpwr_msg, m, "message")
VPWR_STRUCT_IN(struct vpwr_policy, policy, "policy")
VPWR_STRUCT_OUT(struct vpwr_msg, reply)
VPWR_STRUCT_OUT(struct vpwr_msg, m)
/* SWIG falls back to the typemaps of the unqualified type: a const input
 * named like an output must say it has no output. */
%typemap(argout) const struct vpwr_msg *m ""
VPWR_STRUCT_OUT(struct vpwr_vcpu_list, list)

/* `why` of vpwr_msg_validate(): appended (None when there is none). */
%typemap(in, numinputs=0, noblock=1) const char **why (const char *tmp = NULL) {
  $1 = ($1_ltype)&tmp;
}
%typemap(argout, noblock=1) const char **why {
  if (tmp$argnum) {
    $result = SWIG_Python_AppendOutput($result, PyUnicode_FromString(tmp$argnum));
  } else {
    Py_INCREF(Py_None);
    $result = SWIG_Python_AppendOutput($result, Py_None);
  }
}

/* Input bytes for the codecs: any bytes-like object, held while C reads. */
%typemap(in, noblock=1) (const void *buf, size_t len) (Py_buffer view, int have = 0) {
  if (PyObject_GetBuffer($input, &view, PyBUF_SIMPLE) < 0) {
    PyErr_Clear();
    PyErr_Format(PyExc_TypeError, "data must be a bytes-like object, not %.100s",
                 Py_TYPE($input)->tp_name);
    SWIG_fail;
  }
  have = 1;
  $1 = view.buf;
  $2 = (size_t)view.len;
}
%typemap(freearg, noblock=1) (const void *buf, size_t len) {
  if (have$argnum)
    PyBuffer_Release(&view$argnum);
}

/* vpwr_codec_encode()'s output: the bytes written (None on failure). */
%typemap(in, numinputs=0, noblock=1) (void *buf, size_t cap) {
  $1 = calloc(1, 16384);
  if (!$1) {
    PyErr_NoMemory();
    SWIG_fail;
  }
  $2 = 16384;
}
%typemap(argout, noblock=1) (void *buf, size_t cap) {
  if (result > 0) {
    $result = SWIG_Python_AppendOutput($result,
        PyBytes_FromStringAndSize((const char *)$1, (Py_ssize_t)result));
  } else {
    Py_INCREF(Py_None);
    $result = SWIG_Python_AppendOutput($result, Py_None);
  }
}
%typemap(freearg, noblock=1) (void *buf, size_t cap) {
  free($1);
}

/* Where decoding failed: appended as (offset, line, column, text). */
%typemap(in, numinputs=0, noblock=1) struct vpwr_decode_error *err (struct vpwr_decode_error tmp) {
  memset(&tmp, 0, sizeof(tmp));
  $1 = &tmp;
}
%typemap(argout, noblock=1) struct vpwr_decode_error *err {
  $result = SWIG_Python_AppendOutput($result,
      Py_BuildValue("(niis)", (Py_ssize_t)tmp$argnum.offset, tmp$argnum.line,
                    tmp$argnum.column, tmp$argnum.text));
}

/* vpwr_codec_detect()'s err: appended. */
%apply int *OUTPUT { int *err };

/* ---------------------------------------- what is wrapped from headers */

/*
 * Only the functions and structs listed here are wrapped: one added to a
 * header is neither wrapped nor linked until it is listed (so the module
 * never depends on a symbol the library does not have yet).  Enums and
 * constants all come through.  Option structs with pointers and
 * callbacks, callbacks themselves and functions that take them
 * (vpwr_resolver_foreach_*, vpwr_virtio_serial_discover) are wrapped by
 * the vpwr_py_* helpers below; messages and policies cross as bytes.
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
VPWR_WRAP(vpwr_cpuset_parse)

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
VPWR_WRAP(vpwr_backend_get_epp)
VPWR_WRAP(vpwr_backend_set_epp)
VPWR_WRAP(vpwr_backend_policy_cpus)

VPWR_WRAP(vpwr_sim_advance)
VPWR_WRAP(vpwr_sim_now)
VPWR_WRAP(vpwr_sim_set_util)
VPWR_WRAP(vpwr_sim_energy)
VPWR_WRAP(vpwr_sim_power)
VPWR_WRAP(vpwr_sim_residency)
VPWR_WRAP(vpwr_sim_set_offered)
%rename("vpwr_sim_work_stats") vpwr_sim_work_stats(struct vpwr_backend *, unsigned, struct vpwr_sim_work_stats *);
%rename("vpwr_sim_work_stats_t", %$isclass) vpwr_sim_work_stats;

VPWR_WRAP(vpwr_msg_validate)
VPWR_WRAP(vpwr_msg_type_name)
VPWR_WRAP(vpwr_scale_op_name)

VPWR_WRAP(vpwr_codec_native)
VPWR_WRAP(vpwr_codec_dpdk)
VPWR_WRAP(vpwr_codec_dpdk_guest)
VPWR_WRAP(vpwr_codec_json)
VPWR_WRAP(vpwr_codec_by_name)
VPWR_WRAP(vpwr_codec_name)
VPWR_WRAP(vpwr_codec_detect)
VPWR_WRAP(vpwr_codec_frame_len)
VPWR_WRAP(vpwr_codec_decode)
VPWR_WRAP(vpwr_codec_encode)

VPWR_WRAP(vpwr_meter_free)
VPWR_WRAP(vpwr_meter_nr_domains)
VPWR_WRAP(vpwr_meter_domain_name)
VPWR_WRAP(vpwr_meter_read)

VPWR_WRAP(vpwr_resolver_free)
VPWR_WRAP(vpwr_resolver_nr_vcpus)
VPWR_WRAP(vpwr_resolver_lookup)
VPWR_WRAP(vpwr_resolver_domain_cid)
VPWR_WRAP(vpwr_resolver_domain_running)
VPWR_WRAP(vpwr_resolver_change_fd)
VPWR_WRAP(vpwr_resolver_refresh)

VPWR_WRAP(vpwr_channel_free)
VPWR_WRAP(vpwr_channel_fd)
VPWR_WRAP(vpwr_channel_scheme)
VPWR_WRAP(vpwr_listener_free)
VPWR_WRAP(vpwr_listener_fd)
VPWR_WRAP(vpwr_listener_accept)

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
VPWR_WRAP(vpwr_guest_query_vcpus)
VPWR_WRAP(vpwr_guest_send_policy)
VPWR_WRAP(vpwr_guest_remove_policy)
VPWR_WRAP(vpwr_guest_request)
VPWR_WRAP(vpwr_guest_last_reason)

VPWR_WRAP(vpwr_host_free)
VPWR_WRAP(vpwr_host_listen)
VPWR_WRAP(vpwr_host_connect)
VPWR_WRAP(vpwr_host_refresh)
VPWR_WRAP(vpwr_host_set_domain_bounds)
VPWR_WRAP(vpwr_host_control_listen)
VPWR_WRAP(vpwr_host_watch_dir)
VPWR_WRAP(vpwr_host_detach)
VPWR_WRAP(vpwr_host_remove_channel)
VPWR_WRAP(vpwr_host_fd)
VPWR_WRAP(vpwr_host_dispatch)
VPWR_WRAP(vpwr_host_run)
VPWR_WRAP(vpwr_host_stop)
VPWR_WRAP(vpwr_host_set_bounds)
VPWR_WRAP(vpwr_host_nr_channels)
VPWR_WRAP(vpwr_host_handle)
VPWR_WRAP(vpwr_host_evaluate)
/* C keeps struct tags apart from functions; Python cannot. */
%rename("vpwr_host_cpu_info") vpwr_host_cpu_info(struct vpwr_host *, unsigned, struct vpwr_host_cpu_info *);
%rename("vpwr_host_cpu_info_t", %$isclass) vpwr_host_cpu_info;

/* Result structs are filled by the library, never by Python. */
%immutable;
%include "libvpwr/common.h"
%include "libvpwr/version.h"
%include "libvpwr/error.h"
%include "libvpwr/message.h"
%include "libvpwr/transport.h"
%include "libvpwr/backend.h"
%include "libvpwr/sim.h"
%include "libvpwr/resolver.h"
%include "libvpwr/guest.h"
%include "libvpwr/host.h"
%include "libvpwr/codec.h"
%include "libvpwr/meter.h"
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
	int level;      /* the handle's log_level option */
};

/*
 * Every message is also handed to this Python callable, (level, text),
 * which passes it to the logging module (set once, at import).
 */
static PyObject *vpwr_py_log_handler;

#if PY_VERSION_HEX >= 0x030D0000
#define VPWR_PY_FINALIZING() Py_IsFinalizing()
#else
#define VPWR_PY_FINALIZING() _Py_IsFinalizing()
#endif

static void vpwr_py_log_fn(enum vpwr_log_level level, const char *msg,
			   void *userdata)
{
	struct vpwr_py_log *l = userdata;
	PyGILState_STATE st;
	PyObject *type, *value, *tb, *text, *res;

	if (!msg)
		return;
	/* Only problems explain a failure. */
	if (l && level <= VPWR_LOG_WARNING)
		snprintf(l->last, sizeof(l->last), "%s", msg);
	if (!vpwr_py_log_handler || VPWR_PY_FINALIZING())
		return;
	st = PyGILState_Ensure();
	/* A wrapper may call C with an exception already set. */
	PyErr_Fetch(&type, &value, &tb);
	text = PyUnicode_DecodeUTF8(msg, (Py_ssize_t)strlen(msg), "replace");
	res = text ? PyObject_CallFunction(vpwr_py_log_handler, "iO",
					   (int)level, text) : NULL;
	Py_XDECREF(text);
	Py_XDECREF(res);
	PyErr_Clear();      /* logging reports its own trouble */
	PyErr_Restore(type, value, tb);
	PyGILState_Release(st);
}

/* Hand every log message to `fn` (None: stop). */
static void vpwr_py_set_log_handler(PyObject *fn)
{
	PyObject *old = vpwr_py_log_handler;

	if (fn == Py_None || !PyCallable_Check(fn))
		fn = NULL;
	Py_XINCREF(fn);
	vpwr_py_log_handler = fn;
	Py_XDECREF(old);
}

static void vpwr_py_log_set_level(struct vpwr_py_log *l, int level)
{
	if (l)
		l->level = level;
}

#define VPWR_PY_LOG_LEVEL(l) ((l) ? (l)->level : 0)

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

/*
 * Callbacks from C into Python.  A vpwr_py_cb holds the Python callable of
 * one handle (a host's event function, a guest's notification function)
 * and the first exception a call of it raised, until the Python layer
 * takes it (vpwr_py_cb_take_error()) after the C call that ran the
 * callback returns, and re-raises it there.  The trampolines take the GIL
 * (the C call that runs them was made with it released); once a call has
 * raised, later events are not delivered until the error is taken.
 */
struct vpwr_py_cb {
	PyObject *fn;
	PyObject *exc_type, *exc_value, *exc_tb;
	int64_t last_now_ms;    /* what now_fn last returned */
};

/*
 * One vpwr_py_cb serves every callback of a handle: the trampolines call
 * fn(kind, *args) with one of these first, and the Python layer dispatches
 * on it.  So the first exception of any of them is the one re-raised, and
 * after it none of them runs until it is taken.
 */
enum {
	VPWR_PY_CB_EVENT = 0,   /* host event: (kind, 12 fields) */
	VPWR_PY_CB_NOTIFY = 1,  /* guest notification: (kind, msg bytes) */
	VPWR_PY_CB_NOW = 2,     /* host clock: (kind,) -> int ms */
	VPWR_PY_CB_TRAFFIC = 3, /* (kind, domain, policy bytes) -> int|None */
	VPWR_PY_CB_BRANCH = 4,  /* (kind, pcpu) -> (branches, misses)|None */
};

static struct vpwr_py_cb *vpwr_py_cb_new(PyObject *fn)
{
	struct vpwr_py_cb *cb;

	/* The Python layer checks; NULL (None) means no memory. */
	if (!PyCallable_Check(fn))
		return NULL;
	cb = calloc(1, sizeof(*cb));
	if (!cb)
		return NULL;
	Py_INCREF(fn);
	cb->fn = fn;
	return cb;
}

static void vpwr_py_cb_free(struct vpwr_py_cb *cb)
{
	if (!cb)
		return;
	Py_CLEAR(cb->fn);
	Py_CLEAR(cb->exc_type);
	Py_CLEAR(cb->exc_value);
	Py_CLEAR(cb->exc_tb);
	free(cb);
}

/* Re-raise what a callback raised (and forget it); None if nothing. */
static PyObject *vpwr_py_cb_take_error(struct vpwr_py_cb *cb)
{
	if (cb && cb->exc_type) {
		PyErr_Restore(cb->exc_type, cb->exc_value, cb->exc_tb);
		cb->exc_type = cb->exc_value = cb->exc_tb = NULL;
		return NULL;
	}
	Py_RETURN_NONE;
}

/* Keep the exception being raised for the caller (the first one only). */
static void vpwr_py_cb_keep_error(struct vpwr_py_cb *cb)
{
	if (!cb->exc_type)
		PyErr_Fetch(&cb->exc_type, &cb->exc_value, &cb->exc_tb);
	else
		PyErr_Clear();
}

/*
 * cb->fn(*args) with the GIL held; steals args.  The result (a new
 * reference), or NULL with the exception kept for the caller.
 */
static PyObject *vpwr_py_cb_invoke(struct vpwr_py_cb *cb, PyObject *args)
{
	PyObject *res;

	if (!args) {
		vpwr_py_cb_keep_error(cb);
		return NULL;
	}
	res = PyObject_CallObject(cb->fn, args);
	Py_DECREF(args);
	if (!res)
		vpwr_py_cb_keep_error(cb);
	return res;
}

/* The same, for callbacks whose result does not matter. */
static void vpwr_py_cb_call(struct vpwr_py_cb *cb, PyObject *args)
{
	Py_XDECREF(vpwr_py_cb_invoke(cb, args));
}

/* Keep a TypeError about what a callback returned. */
static void vpwr_py_cb_bad_result(struct vpwr_py_cb *cb, const char *what,
				  const char *expected, PyObject *res)
{
	PyErr_Format(PyExc_TypeError, "%s must return %s, not %.100s", what,
		     expected, Py_TYPE(res)->tp_name);
	vpwr_py_cb_keep_error(cb);
}

#define VPWR_PY_NOW_RESULT "an int (Unix time in ms)"
#define VPWR_PY_TRAFFIC_RESULT "an int >= 0 (a packet count) or None"
#define VPWR_PY_BRANCH_RESULT "a (branches, misses) pair of ints >= 0 or None"

/* An int >= 0 that fits in 64 bits; -1 (error kept) otherwise. */
static int vpwr_py_cb_u64(struct vpwr_py_cb *cb, const char *what,
			  const char *expected, PyObject *res, PyObject *item,
			  uint64_t *out)
{
	unsigned long long v;

	if (!PyLong_Check(item) || PyBool_Check(item)) {
		vpwr_py_cb_bad_result(cb, what, expected, res);
		return -1;
	}
	v = PyLong_AsUnsignedLongLong(item);
	if (v == (unsigned long long)-1 && PyErr_Occurred()) {
		PyErr_Clear();
		PyErr_Format(PyExc_ValueError, "%s returned a count outside "
			     "0 .. 2**64-1", what);
		vpwr_py_cb_keep_error(cb);
		return -1;
	}
	*out = v;
	return 0;
}

static PyObject *vpwr_py_msg_bytes(const struct vpwr_msg *m)
{
	if (!m)
		Py_RETURN_NONE;
	return PyBytes_FromStringAndSize((const char *)m, sizeof(*m));
}

static PyObject *vpwr_py_str_or_none(const char *s)
{
	if (!s)
		Py_RETURN_NONE;
	return PyUnicode_DecodeFSDefault(s);
}

static void vpwr_py_host_event_fn(const struct vpwr_host_event *ev,
				  void *userdata)
{
	struct vpwr_py_cb *cb = userdata;
	PyGILState_STATE st;

	if (!cb || !ev || VPWR_PY_FINALIZING())
		return;
	st = PyGILState_Ensure();
	if (cb->fn && !cb->exc_type)
		vpwr_py_cb_call(cb, Py_BuildValue("(iIINiNNIIIIIIN)",
			VPWR_PY_CB_EVENT, ev->type, ev->channel_id,
			vpwr_py_str_or_none(ev->domain), ev->status,
			vpwr_py_msg_bytes(ev->request),
			vpwr_py_msg_bytes(ev->reply), ev->pcpu, ev->old_khz,
			ev->new_khz, ev->min_khz, ev->max_khz, ev->turbo,
			vpwr_py_str_or_none(ev->winner)));
	PyGILState_Release(st);
}

static void vpwr_py_guest_notify_fn(const struct vpwr_msg *n, void *userdata)
{
	struct vpwr_py_cb *cb = userdata;
	PyGILState_STATE st;

	if (!cb || !n || VPWR_PY_FINALIZING())
		return;
	st = PyGILState_Ensure();
	if (cb->fn && !cb->exc_type)
		vpwr_py_cb_call(cb, Py_BuildValue("(iN)", VPWR_PY_CB_NOTIFY,
						  vpwr_py_msg_bytes(n)));
	PyGILState_Release(st);
}

/*
 * The host's policy sources.  What Python raises (or a result of the
 * wrong type, as a TypeError) is kept for the caller like an event
 * callback's; the host then sees a failed read, which skips the sample
 * (traffic, branches), or the clock's last good reading (now).
 */
static int64_t vpwr_py_now_fn(void *userdata)
{
	struct vpwr_py_cb *cb = userdata;
	PyGILState_STATE st;
	PyObject *res;
	int64_t ms;

	if (!cb || VPWR_PY_FINALIZING())
		return cb ? cb->last_now_ms : 0;
	st = PyGILState_Ensure();
	if (cb->fn && !cb->exc_type) {
		res = vpwr_py_cb_invoke(cb, Py_BuildValue("(i)", VPWR_PY_CB_NOW));
		if (res && res != Py_None) {
			long long v;

			if (!PyLong_Check(res) || PyBool_Check(res)) {
				vpwr_py_cb_bad_result(cb, "now_fn",
						      VPWR_PY_NOW_RESULT, res);
			} else {
				v = PyLong_AsLongLong(res);
				if (v == -1 && PyErr_Occurred())
					vpwr_py_cb_keep_error(cb);
				else
					cb->last_now_ms = v;
			}
		}
		Py_XDECREF(res);
	}
	ms = cb->last_now_ms;
	PyGILState_Release(st);
	return ms;
}

static int vpwr_py_traffic_fn(const char *domain,
			      const struct vpwr_policy *policy,
			      uint64_t *packets, void *userdata)
{
	struct vpwr_py_cb *cb = userdata;
	PyGILState_STATE st;
	PyObject *res;
	int rc = -ECANCELED;

	if (!cb || !domain || !policy || !packets || VPWR_PY_FINALIZING())
		return -EINVAL;
	st = PyGILState_Ensure();
	if (cb->fn && !cb->exc_type) {
		res = vpwr_py_cb_invoke(cb, Py_BuildValue("(iNN)",
			VPWR_PY_CB_TRAFFIC, vpwr_py_str_or_none(domain),
			PyBytes_FromStringAndSize((const char *)policy,
						  sizeof(*policy))));
		if (res == Py_None)
			rc = -ENODATA;
		else if (res && vpwr_py_cb_u64(cb, "traffic_fn",
					       VPWR_PY_TRAFFIC_RESULT, res, res,
					       packets) == 0)
			rc = 0;
		Py_XDECREF(res);
	}
	PyGILState_Release(st);
	return rc;
}

static int vpwr_py_branch_fn(unsigned pcpu, uint64_t *branches,
			     uint64_t *misses, void *userdata)
{
	struct vpwr_py_cb *cb = userdata;
	PyGILState_STATE st;
	PyObject *res;
	int rc = -ECANCELED;

	if (!cb || !branches || !misses || VPWR_PY_FINALIZING())
		return -EINVAL;
	st = PyGILState_Ensure();
	if (cb->fn && !cb->exc_type) {
		res = vpwr_py_cb_invoke(cb, Py_BuildValue("(iI)",
			VPWR_PY_CB_BRANCH, pcpu));
		if (res == Py_None) {
			rc = -ENODATA;
		} else if (res) {
			if (!PyTuple_Check(res) || PyTuple_GET_SIZE(res) != 2)
				vpwr_py_cb_bad_result(cb, "branch_fn",
						      VPWR_PY_BRANCH_RESULT, res);
			else if (vpwr_py_cb_u64(cb, "branch_fn",
						VPWR_PY_BRANCH_RESULT, res,
						PyTuple_GET_ITEM(res, 0),
						branches) == 0 &&
				 vpwr_py_cb_u64(cb, "branch_fn",
						VPWR_PY_BRANCH_RESULT, res,
						PyTuple_GET_ITEM(res, 1),
						misses) == 0)
				rc = 0;
		}
		Py_XDECREF(res);
	}
	PyGILState_Release(st);
	return rc;
}

static int vpwr_py_guest_open(const char *uri, int timeout_ms,
			      const char *codec, const char *dpdk_vm_name,
			      struct vpwr_py_cb *notify,
			      struct vpwr_py_log *log, struct vpwr_guest **out)
{
	VPWR_OPTS(vpwr_guest_opts, o, .timeout_ms = timeout_ms,
		  .codec = codec, .dpdk_vm_name = dpdk_vm_name,
		  .notify_fn = notify ? vpwr_py_guest_notify_fn : NULL,
		  .notify_userdata = notify,
		  .log_fn = vpwr_py_log_fn, .log_userdata = log,
		  .log_level = VPWR_PY_LOG_LEVEL(log));
	return vpwr_guest_open(uri, &o, out);
}

static int vpwr_py_guest_open_fd(int fd, int timeout_ms, const char *codec,
				 const char *dpdk_vm_name,
				 struct vpwr_py_cb *notify,
				 struct vpwr_py_log *log,
				 struct vpwr_guest **out)
{
	VPWR_OPTS(vpwr_channel_opts, co, .log_fn = vpwr_py_log_fn,
		  .log_userdata = log,
		  .log_level = VPWR_PY_LOG_LEVEL(log));
	VPWR_OPTS(vpwr_guest_opts, o, .timeout_ms = timeout_ms,
		  .codec = codec, .dpdk_vm_name = dpdk_vm_name,
		  .notify_fn = notify ? vpwr_py_guest_notify_fn : NULL,
		  .notify_userdata = notify,
		  .log_fn = vpwr_py_log_fn, .log_userdata = log,
		  .log_level = VPWR_PY_LOG_LEVEL(log));
	struct vpwr_channel *ch = NULL;
	int rc;

	rc = vpwr_channel_open_fd(fd, &co, &ch);
	if (rc < 0)
		return rc;
	return vpwr_guest_open_channel(ch, &o, out);
}

static int vpwr_py_backend_open(const char *name, const char *sysfs_root,
				const char *state_file,
				struct vpwr_py_log *log,
				struct vpwr_backend **out)
{
	VPWR_OPTS(vpwr_backend_opts, o, .sysfs_root = sysfs_root,
		  .state_file = state_file,
		  .log_fn = vpwr_py_log_fn, .log_userdata = log,
		  .log_level = VPWR_PY_LOG_LEVEL(log));
	return vpwr_backend_open(name, &o, out);
}

/* A sequence of ints (kHz) into a new array; -1 with an exception set. */
static int vpwr_py_khz_list(PyObject *o, uint32_t **out, size_t *n)
{
	PyObject *seq = PySequence_Fast(o, "a table must be a sequence of ints");
	Py_ssize_t len;

	*out = NULL;
	*n = 0;
	if (!seq)
		return -1;
	len = PySequence_Fast_GET_SIZE(seq);
	*out = calloc(len ? (size_t)len : 1, sizeof(uint32_t));
	if (!*out) {
		Py_DECREF(seq);
		PyErr_NoMemory();
		return -1;
	}
	for (Py_ssize_t i = 0; i < len; i++) {
		PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
		unsigned long v;

		if (!PyLong_Check(item)) {
			PyErr_SetString(PyExc_TypeError,
					"a table must be a sequence of ints");
			goto fail;
		}
		v = PyLong_AsUnsignedLong(item);
		if ((v == (unsigned long)-1 && PyErr_Occurred()) ||
		    v > UINT32_MAX) {
			PyErr_Clear();
			PyErr_SetString(PyExc_ValueError,
					"a frequency is outside 0 .. 2**32-1 kHz");
			goto fail;
		}
		(*out)[i] = (uint32_t)v;
	}
	Py_DECREF(seq);
	*n = (size_t)len;
	return 0;
fail:
	Py_DECREF(seq);
	free(*out);
	*out = NULL;
	return -1;
}

/*
 * vpwr_backend_open("sim") with struct vpwr_sim_opts as arguments.
 * `cpus` is None or one (freqs, turbo_khz) pair per CPU.  Keeps the GIL
 * (it reads Python objects); opening a simulator does not wait.
 */
static PyObject *vpwr_py_backend_open_sim(unsigned nr_cpus, PyObject *freqs,
					  uint32_t turbo_khz, double static_w,
					  double dyn_w_per_ghz_v2,
					  double v_min, double v_max,
					  double idle_fraction, double util,
					  int wallclock, PyObject *cpus,
					  double work_per_ghz,
					  double max_backlog,
					  unsigned cpus_per_policy,
					  struct vpwr_py_log *log)
{
	struct vpwr_sim_cpu *tabs = NULL;
	uint32_t *shared = NULL;
	size_t nr_shared = 0, nr_tabs = 0;
	struct vpwr_backend *b = NULL;
	PyObject *seq = NULL, *res = NULL;
	int rc;

	if (freqs != Py_None && vpwr_py_khz_list(freqs, &shared, &nr_shared) < 0)
		return NULL;
	if (cpus != Py_None) {
		seq = PySequence_Fast(cpus, "cpus must be a sequence of "
				      "(freqs, turbo_khz) pairs");
		if (!seq)
			goto out;
		nr_tabs = (size_t)PySequence_Fast_GET_SIZE(seq);
		if (nr_tabs != nr_cpus) {
			PyErr_Format(PyExc_ValueError, "cpus has %zu entries "
				     "for %u CPUs", nr_tabs, nr_cpus);
			goto out;
		}
		tabs = calloc(nr_tabs ? nr_tabs : 1, sizeof(*tabs));
		if (!tabs) {
			PyErr_NoMemory();
			goto out;
		}
		for (size_t i = 0; i < nr_tabs; i++) {
			PyObject *pair = PySequence_Fast_GET_ITEM(seq, (Py_ssize_t)i);
			PyObject *tbl, *turbo;
			uint32_t *khz;
			unsigned long t;

			if (!PyTuple_Check(pair) || PyTuple_GET_SIZE(pair) != 2) {
				PyErr_SetString(PyExc_TypeError, "each of cpus "
						"must be a (freqs, turbo_khz) tuple");
				goto out;
			}
			tbl = PyTuple_GET_ITEM(pair, 0);
			turbo = PyTuple_GET_ITEM(pair, 1);
			if (!PyLong_Check(turbo)) {
				PyErr_SetString(PyExc_TypeError,
						"turbo_khz must be an int");
				goto out;
			}
			t = PyLong_AsUnsignedLong(turbo);
			if ((t == (unsigned long)-1 && PyErr_Occurred()) ||
			    t > UINT32_MAX) {
				PyErr_Clear();
				PyErr_SetString(PyExc_ValueError, "turbo_khz is "
						"outside 0 .. 2**32-1 kHz");
				goto out;
			}
			if (vpwr_py_khz_list(tbl, &khz, &tabs[i].nr_freqs) < 0)
				goto out;
			tabs[i].freqs_khz = khz;
			tabs[i].turbo_khz = (uint32_t)t;
		}
	}
	{
		VPWR_OPTS(vpwr_sim_opts, so, .nr_cpus = nr_cpus,
			  .freqs_khz = shared, .nr_freqs = nr_shared,
			  .turbo_khz = turbo_khz, .static_w = static_w,
			  .dyn_w_per_ghz_v2 = dyn_w_per_ghz_v2, .v_min = v_min,
			  .v_max = v_max, .idle_fraction = idle_fraction,
			  .util = util, .wallclock = wallclock, .cpus = tabs,
			  .work_per_ghz = work_per_ghz,
			  .max_backlog = max_backlog,
			  .cpus_per_policy = cpus_per_policy);
		VPWR_OPTS(vpwr_backend_opts, o, .sim = &so,
			  .log_fn = vpwr_py_log_fn, .log_userdata = log,
		  .log_level = VPWR_PY_LOG_LEVEL(log));
		rc = vpwr_backend_open("sim", &o, &b);
	}
	res = Py_BuildValue("(iN)", rc, SWIG_NewPointerObj(SWIG_as_voidptr(b),
				SWIGTYPE_p_vpwr_backend, 0));
out:
	for (size_t i = 0; tabs && i < nr_tabs; i++)
		free((void *)tabs[i].freqs_khz);
	free(tabs);
	free(shared);
	Py_XDECREF(seq);
	return res;
}

static int vpwr_py_resolver_open(const char *uri, const char *module_dir,
				 unsigned port_events,
				 struct vpwr_py_log *log,
				 struct vpwr_resolver **out)
{
	VPWR_OPTS(vpwr_resolver_opts, o, .log_fn = vpwr_py_log_fn,
		  .log_userdata = log,
		  .log_level = VPWR_PY_LOG_LEVEL(log),
		  .module_dir = module_dir, .port_events = port_events);
	return vpwr_resolver_open(uri, &o, out);
}

#define VPWR_PY_HAS(cb, mask, kind) ((cb) && ((mask) & (1u << (kind))))

static int vpwr_py_host_new(struct vpwr_backend *backend,
			    struct vpwr_resolver *resolver, unsigned mode,
			    unsigned max_channels, unsigned allow_shared,
			    unsigned max_domain_channels, unsigned rate_per_s,
			    unsigned rate_burst, unsigned auto_channels,
			    const char *time_zone, const char *sysfs_root,
			    unsigned traffic_period_ms, unsigned grace_ms,
			    struct vpwr_py_cb *cb, unsigned callbacks,
			    struct vpwr_py_log *log, struct vpwr_host **out)
{
	VPWR_OPTS(vpwr_host_opts, o, .backend = backend,
		  .resolver = resolver, .mode = mode,
		  .max_channels = max_channels, .allow_shared = allow_shared,
		  .max_domain_channels = max_domain_channels,
		  .rate_per_s = rate_per_s, .rate_burst = rate_burst,
		  .auto_channels = auto_channels, .time_zone = time_zone,
		  .sysfs_root = sysfs_root,
		  .traffic_period_ms = traffic_period_ms, .grace_ms = grace_ms,
		  .event_fn = VPWR_PY_HAS(cb, callbacks, VPWR_PY_CB_EVENT)
				      ? vpwr_py_host_event_fn : NULL,
		  .event_userdata = cb,
		  .now_fn = VPWR_PY_HAS(cb, callbacks, VPWR_PY_CB_NOW)
				    ? vpwr_py_now_fn : NULL,
		  .now_userdata = cb,
		  .traffic_fn = VPWR_PY_HAS(cb, callbacks, VPWR_PY_CB_TRAFFIC)
					? vpwr_py_traffic_fn : NULL,
		  .traffic_userdata = cb,
		  .branch_fn = VPWR_PY_HAS(cb, callbacks, VPWR_PY_CB_BRANCH)
				       ? vpwr_py_branch_fn : NULL,
		  .branch_userdata = cb,
		  .log_fn = vpwr_py_log_fn, .log_userdata = log,
		  .log_level = VPWR_PY_LOG_LEVEL(log));
	return vpwr_host_new(&o, out);
}

static char *vpwr_py_host_control(struct vpwr_host *h, const char *request)
{
	char *reply = NULL;

	vpwr_host_control(h, request, &reply);
	return reply; /* NULL only without memory or arguments */
}

static int vpwr_py_host_add_fd(struct vpwr_host *h, const char *domain,
			       int fd, struct vpwr_py_log *log)
{
	VPWR_OPTS(vpwr_channel_opts, co, .log_fn = vpwr_py_log_fn,
		  .log_userdata = log,
		  .log_level = VPWR_PY_LOG_LEVEL(log));
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

static int vpwr_py_meter_open(const char *name, const char *sysfs_root,
			      struct vpwr_backend *backend,
			      struct vpwr_py_log *log, struct vpwr_meter **out)
{
	VPWR_OPTS(vpwr_meter_opts, o, .sysfs_root = sysfs_root,
		  .backend = backend, .log_fn = vpwr_py_log_fn,
		  .log_userdata = log,
		  .log_level = VPWR_PY_LOG_LEVEL(log));
	return vpwr_meter_open(name, &o, out);
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

/* ------------------------------------------- channels and listeners */

static int vpwr_py_channel_open(const char *uri, unsigned flags,
				struct vpwr_py_log *log,
				struct vpwr_channel **out)
{
	VPWR_OPTS(vpwr_channel_opts, o, .flags = flags,
		  .log_fn = vpwr_py_log_fn, .log_userdata = log,
		  .log_level = VPWR_PY_LOG_LEVEL(log));
	return vpwr_channel_open(uri, &o, out);
}

/* The fd is the channel's from then on, also on failure. */
static int vpwr_py_channel_open_fd(int fd, unsigned flags,
				   struct vpwr_py_log *log,
				   struct vpwr_channel **out)
{
	VPWR_OPTS(vpwr_channel_opts, o, .flags = flags,
		  .log_fn = vpwr_py_log_fn, .log_userdata = log,
		  .log_level = VPWR_PY_LOG_LEVEL(log));
	return vpwr_channel_open_fd(fd, &o, out);
}

static int vpwr_py_listener_open(const char *uri, unsigned flags,
				 struct vpwr_py_log *log,
				 struct vpwr_listener **out)
{
	VPWR_OPTS(vpwr_channel_opts, o, .flags = flags,
		  .log_fn = vpwr_py_log_fn, .log_userdata = log,
		  .log_level = VPWR_PY_LOG_LEVEL(log));
	return vpwr_listener_open(uri, &o, out);
}

/*
 * (rc, data): vpwr_channel_read() of up to `len` bytes; data is the bytes
 * read (b"" at end of stream) or None when rc < 0.  Builds Python objects,
 * so it is %nothread and releases the GIL itself around the read (a
 * blocking channel waits there).
 */
static PyObject *vpwr_py_channel_read(struct vpwr_channel *ch, size_t len)
{
	PyObject *buf;
	ssize_t n;

	if (len > (1u << 24)) {
		PyErr_SetString(PyExc_ValueError, "len must be at most 16 MiB");
		return NULL;
	}
	if (!ch)
		return Py_BuildValue("(iO)", -EINVAL, Py_None);
	buf = PyBytes_FromStringAndSize(NULL, (Py_ssize_t)(len ? len : 1));
	if (!buf)
		return NULL;
	Py_BEGIN_ALLOW_THREADS
	n = vpwr_channel_read(ch, PyBytes_AS_STRING(buf), len);
	Py_END_ALLOW_THREADS
	if (n < 0) {
		Py_DECREF(buf);
		return Py_BuildValue("(iO)", (int)n, Py_None);
	}
	if (_PyBytes_Resize(&buf, (Py_ssize_t)n) < 0)
		return NULL;
	return Py_BuildValue("(iN)", (int)n, buf); /* n <= 16 MiB */
}

/* vpwr_channel_write(): the count written or -errno. */
static long vpwr_py_channel_write(struct vpwr_channel *ch, const void *buf,
				  size_t len)
{
	return ch ? (long)vpwr_channel_write(ch, buf, len) : -EINVAL;
}

/* (rc, has_cred, pid, uid, gid, cid): vpwr_channel_peer(). */
static PyObject *vpwr_py_channel_peer(struct vpwr_channel *ch)
{
	struct vpwr_peer p;
	int rc;

	memset(&p, 0, sizeof(p));
	rc = ch ? vpwr_channel_peer(ch, &p) : -EINVAL;
	return Py_BuildValue("(iilIII)", rc, p.has_cred, (long)p.pid, p.uid,
			     p.gid, p.cid);
}

static int vpwr_py_discover_cb(const char *name, const char *uri,
			       void *userdata)
{
	PyObject *item = Py_BuildValue("(NN)", PyUnicode_DecodeFSDefault(name),
				       PyUnicode_DecodeFSDefault(uri));

	if (!item || PyList_Append(userdata, item) < 0) {
		Py_XDECREF(item);
		return 1; /* stop: the exception is set */
	}
	Py_DECREF(item);
	return 0;
}

/* (rc, [(name, uri), ...]): vpwr_virtio_serial_discover(root). */
static PyObject *vpwr_py_virtio_serial_discover(const char *root)
{
	PyObject *list = PyList_New(0);
	int rc;

	if (!list)
		return NULL;
	rc = vpwr_virtio_serial_discover(root, vpwr_py_discover_cb, list);
	if (PyErr_Occurred()) {
		Py_DECREF(list);
		return NULL;
	}
	return Py_BuildValue("(iN)", rc, list);
}

static int vpwr_py_channel_cb(const struct vpwr_resolver_channel *ch,
			      void *userdata)
{
	PyObject *item = Py_BuildValue("(NNNiiiI)",
				       vpwr_py_str_or_none(ch->domain),
				       vpwr_py_str_or_none(ch->path),
				       vpwr_py_str_or_none(ch->target_name),
				       ch->source_mode, ch->running,
				       ch->guest_open, ch->guest_port_events);

	if (!item || PyList_Append(userdata, item) < 0) {
		Py_XDECREF(item);
		return -ENOMEM; /* stop: the exception is set */
	}
	Py_DECREF(item);
	return 0;
}

/*
 * (rc, [(domain, path, target_name, source_mode, running, guest_open,
 * guest_port_events), ...]):
 * vpwr_resolver_foreach_channel() of `domain` (None: every domain).
 */
static PyObject *vpwr_py_resolver_channels(struct vpwr_resolver *r,
					   const char *domain)
{
	PyObject *list = PyList_New(0);
	int rc;

	if (!list)
		return NULL;
	rc = r ? vpwr_resolver_foreach_channel(r, domain, vpwr_py_channel_cb,
					       list)
	       : -EINVAL;
	if (PyErr_Occurred()) {
		Py_DECREF(list);
		return NULL;
	}
	return Py_BuildValue("(iN)", rc, list);
}

static int vpwr_py_interface_cb(const struct vpwr_resolver_interface *ifc,
				void *userdata)
{
	static const uint8_t zero[6];
	PyObject *mac, *item;

	if (memcmp(ifc->mac, zero, sizeof(zero)) == 0) {
		mac = Py_None;
		Py_INCREF(mac);
	} else {
		mac = PyUnicode_FromFormat("%02x:%02x:%02x:%02x:%02x:%02x",
					   ifc->mac[0], ifc->mac[1],
					   ifc->mac[2], ifc->mac[3],
					   ifc->mac[4], ifc->mac[5]);
	}
	item = mac ? Py_BuildValue("(NNNNNi)",
				   vpwr_py_str_or_none(ifc->domain), mac,
				   vpwr_py_str_or_none(ifc->type),
				   vpwr_py_str_or_none(ifc->target_dev),
				   vpwr_py_str_or_none(ifc->pci_addr),
				   ifc->running)
		   : NULL;
	if (!item || PyList_Append(userdata, item) < 0) {
		Py_XDECREF(item);
		return -ENOMEM; /* stop: the exception is set */
	}
	Py_DECREF(item);
	return 0;
}

/*
 * (rc, [(domain, mac, type, target_dev, pci_addr, running), ...]):
 * vpwr_resolver_foreach_interface() of `domain` (None: every domain); mac
 * is "aa:bb:cc:dd:ee:ff", None when unknown (all zero).
 */
static PyObject *vpwr_py_resolver_interfaces(struct vpwr_resolver *r,
					     const char *domain)
{
	PyObject *list = PyList_New(0);
	int rc;

	if (!list)
		return NULL;
	rc = r ? vpwr_resolver_foreach_interface(r, domain,
						 vpwr_py_interface_cb, list)
	       : -EINVAL;
	if (PyErr_Occurred()) {
		Py_DECREF(list);
		return NULL;
	}
	return Py_BuildValue("(iN)", rc, list);
}

/* The reply to `request` (vpwr_msg_reply()), as bytes. */
static PyObject *vpwr_py_msg_reply(const struct vpwr_msg *request,
				   int status, const char *reason)
{
	struct vpwr_msg m;

	if (reason)
		vpwr_msg_reply(&m, request, status, "%s", reason);
	else
		vpwr_msg_reply(&m, request, status, NULL);
	return PyBytes_FromStringAndSize((const char *)&m, sizeof(m));
}

/* vpwr_cpuset_format() of an iterable of CPU numbers. */
static PyObject *vpwr_py_cpuset_format(PyObject *cpus)
{
	struct vpwr_cpuset set;
	PyObject *it = PyObject_GetIter(cpus), *item;
	char buf[8192];
	int n;

	if (!it)
		return NULL;
	vpwr_cpuset_zero(&set);
	while ((item = PyIter_Next(it))) {
		long c = PyLong_Check(item) ? PyLong_AsLong(item) : -2;

		Py_DECREF(item);
		if (c == -2 || (c == -1 && PyErr_Occurred())) {
			PyErr_Clear();
			PyErr_SetString(PyExc_TypeError,
					"CPU numbers must be ints");
			Py_DECREF(it);
			return NULL;
		}
		if (c < 0 || c >= VPWR_MAX_CPUS) {
			PyErr_Format(PyExc_ValueError, "CPU %ld is outside "
				     "0..%d", c, VPWR_MAX_CPUS - 1);
			Py_DECREF(it);
			return NULL;
		}
		vpwr_cpuset_set(&set, (unsigned)c);
	}
	Py_DECREF(it);
	if (PyErr_Occurred())
		return NULL;
	n = vpwr_cpuset_format(&set, buf, sizeof(buf));
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		PyErr_SetString(PyExc_ValueError, "cannot format the CPU set");
		return NULL;
	}
	return PyUnicode_FromStringAndSize(buf, n);
}

/* vpwr_msg_format() into a str. */
static PyObject *vpwr_py_msg_format(const struct vpwr_msg *m)
{
	char buf[1024];
	int n = vpwr_msg_format(m, buf, sizeof(buf));

	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(buf))
		n = (int)sizeof(buf) - 1;
	return PyUnicode_DecodeUTF8(buf, n, "replace");
}

/*
 * The layout of the structs that cross as bytes: {name: offset} with
 * offsets from the start of struct vpwr_msg, and sizes.
 */
static PyObject *vpwr_py_layout(void)
{
	PyObject *d = PyDict_New();
	int bad = 0;

	if (!d)
		return NULL;
#define VPWR_PY_SET(key, value) do {                                         \
	PyObject *v_ = PyLong_FromSize_t(value);                             \
	if (!v_ || PyDict_SetItemString(d, key, v_) < 0)                     \
		bad = 1;                                                     \
	Py_XDECREF(v_);                                                      \
} while (0)
#define VPWR_PY_OFF(member) VPWR_PY_SET(#member, offsetof(struct vpwr_msg, member))
	VPWR_PY_SET("sizeof.msg", sizeof(struct vpwr_msg));
	VPWR_PY_SET("sizeof.policy", sizeof(struct vpwr_policy));
	VPWR_PY_SET("sizeof.vcpu_list", sizeof(struct vpwr_vcpu_list));
	VPWR_PY_SET("sizeof.cpuset", sizeof(struct vpwr_cpuset));
	VPWR_PY_OFF(type);
	VPWR_PY_OFF(flags);
	VPWR_PY_OFF(seq);
	VPWR_PY_OFF(status);
	VPWR_PY_OFF(vcpu);
	VPWR_PY_OFF(u);
	VPWR_PY_OFF(reason);
	VPWR_PY_OFF(u.hello.version_min);
	VPWR_PY_OFF(u.hello.version_max);
	VPWR_PY_OFF(u.hello.caps);
	VPWR_PY_OFF(u.hello.max_frame);
	VPWR_PY_OFF(u.hello.nr_vcpus);
	VPWR_PY_OFF(u.hello.rate_per_sec);
	VPWR_PY_OFF(u.scale.op);
	VPWR_PY_OFF(u.freq.khz);
	VPWR_PY_OFF(u.range.min_khz);
	VPWR_PY_OFF(u.range.max_khz);
	VPWR_PY_OFF(u.turbo.enable);
	VPWR_PY_OFF(u.epp.hint);
	VPWR_PY_OFF(u.policy);
	VPWR_PY_OFF(u.policy.kind);
	VPWR_PY_OFF(u.policy.workload);
	VPWR_PY_OFF(u.policy.vcpus);
	VPWR_PY_OFF(u.policy.busy_hours);
	VPWR_PY_OFF(u.policy.quiet_hours);
	VPWR_PY_OFF(u.policy.traffic_hours);
	VPWR_PY_OFF(u.policy.min_pps);
	VPWR_PY_OFF(u.policy.avg_pps);
	VPWR_PY_OFF(u.policy.max_pps);
	VPWR_PY_OFF(u.policy.branch_ratio_ppm);
	VPWR_PY_OFF(u.policy.nr_macs);
	VPWR_PY_OFF(u.policy.macs);
	VPWR_PY_OFF(u.freqs.cur_khz);
	VPWR_PY_OFF(u.freqs.nr);
	VPWR_PY_OFF(u.freqs.khz);
	VPWR_PY_OFF(u.state.cur_khz);
	VPWR_PY_OFF(u.state.min_khz);
	VPWR_PY_OFF(u.state.max_khz);
	VPWR_PY_OFF(u.state.turbo);
	VPWR_PY_OFF(u.state.req_min_khz);
	VPWR_PY_OFF(u.state.req_max_khz);
	VPWR_PY_OFF(u.state.clamped);
	VPWR_PY_OFF(u.state.epp);
	VPWR_PY_OFF(u.vcpus);
	VPWR_PY_OFF(u.vcpus.want);
	VPWR_PY_OFF(u.vcpus.first);
	VPWR_PY_OFF(u.vcpus.nr);
	VPWR_PY_OFF(u.vcpus.nr_vcpus);
	VPWR_PY_OFF(u.vcpus.cur_khz);
	VPWR_PY_OFF(u.vcpus.turbo_mask);
	VPWR_PY_OFF(u.vcpus.priority_mask);
#undef VPWR_PY_OFF
#undef VPWR_PY_SET
	if (bad) {
		Py_DECREF(d);
		return NULL;
	}
	return d;
}
%}

VPWR_WRAP(vpwr_py_log_new)
VPWR_WRAP(vpwr_py_log_free)
VPWR_WRAP(vpwr_py_log_last)
VPWR_WRAP(vpwr_py_log_clear)
VPWR_WRAP(vpwr_py_log_set_level)
VPWR_WRAP(vpwr_py_set_log_handler)
VPWR_WRAP(vpwr_py_cb_new)
VPWR_WRAP(vpwr_py_cb_free)
VPWR_WRAP(vpwr_py_cb_take_error)
VPWR_WRAP(vpwr_py_guest_open)
VPWR_WRAP(vpwr_py_guest_open_fd)
VPWR_WRAP(vpwr_py_backend_open)
VPWR_WRAP(vpwr_py_backend_open_sim)
VPWR_WRAP(vpwr_py_resolver_open)
VPWR_WRAP(vpwr_py_host_new)
VPWR_WRAP(vpwr_py_host_add_fd)
VPWR_WRAP(vpwr_py_host_control)
VPWR_WRAP(vpwr_py_meter_open)
VPWR_WRAP(vpwr_py_resolver_domains)
VPWR_WRAP(vpwr_py_msg_format)
VPWR_WRAP(vpwr_py_msg_reply)
VPWR_WRAP(vpwr_py_cpuset_format)
VPWR_WRAP(vpwr_py_layout)
VPWR_WRAP(vpwr_py_channel_open)
VPWR_WRAP(vpwr_py_channel_open_fd)
VPWR_WRAP(vpwr_py_channel_read)
VPWR_WRAP(vpwr_py_channel_write)
VPWR_WRAP(vpwr_py_channel_peer)
VPWR_WRAP(vpwr_py_listener_open)
VPWR_WRAP(vpwr_py_virtio_serial_discover)
VPWR_WRAP(vpwr_py_resolver_channels)
VPWR_WRAP(vpwr_py_resolver_interfaces)

/* An opaque sink for the library's log messages of one handle. */
struct vpwr_py_log;
struct vpwr_py_log *vpwr_py_log_new(void);
void vpwr_py_log_free(struct vpwr_py_log *l);
/* The last message logged since vpwr_py_log_clear(), or "". */
const char *vpwr_py_log_last(const struct vpwr_py_log *l);
void vpwr_py_log_clear(struct vpwr_py_log *l);
/* The log_level option of the handle it serves (0: warnings). */
void vpwr_py_log_set_level(struct vpwr_py_log *l, int level);
/* Every message also goes to fn(level, text); keeps the GIL. */
%nothread vpwr_py_set_log_handler;
void vpwr_py_set_log_handler(PyObject *fn);

/* A Python callable C calls back (keeps the GIL: Python objects), as
 * fn(kind, *args): one per handle serves all its callbacks. */
enum {
	VPWR_PY_CB_EVENT = 0,   /* (kind, type, channel_id, domain, status,
				   request, reply, pcpu, old_khz, new_khz,
				   min_khz, max_khz, turbo, winner) */
	VPWR_PY_CB_NOTIFY = 1,  /* (kind, message bytes) */
	VPWR_PY_CB_NOW = 2,     /* (kind,) -> Unix time in ms */
	VPWR_PY_CB_TRAFFIC = 3, /* (kind, domain, policy bytes) -> count|None */
	VPWR_PY_CB_BRANCH = 4,  /* (kind, pcpu) -> (branches, misses)|None */
};
struct vpwr_py_cb;
%nothread vpwr_py_cb_new;
%nothread vpwr_py_cb_free;
%nothread vpwr_py_cb_take_error;
struct vpwr_py_cb *vpwr_py_cb_new(PyObject *fn);
void vpwr_py_cb_free(struct vpwr_py_cb *cb);
/* Raises what the callback raised since the last call; else None. */
PyObject *vpwr_py_cb_take_error(struct vpwr_py_cb *cb);

/* vpwr_guest_open() with the options as arguments; `notify` may be None. */
int vpwr_py_guest_open(const char *uri, int timeout_ms, const char *codec,
		       const char *dpdk_vm_name, struct vpwr_py_cb *notify,
		       struct vpwr_py_log *log, struct vpwr_guest **out);
/* A guest on a connected stream fd, which is the library's from then on
 * (also on failure). */
int vpwr_py_guest_open_fd(int fd, int timeout_ms, const char *codec,
			  const char *dpdk_vm_name, struct vpwr_py_cb *notify,
			  struct vpwr_py_log *log, struct vpwr_guest **out);
/* vpwr_backend_open(name) for the sysfs backends. */
int vpwr_py_backend_open(const char *name, const char *sysfs_root,
			 const char *state_file, struct vpwr_py_log *log,
			 struct vpwr_backend **out);
/* (rc, backend): vpwr_backend_open("sim") with struct vpwr_sim_opts as
 * arguments; `freqs` and `cpus` may be None. */
%nothread vpwr_py_backend_open_sim;
PyObject *vpwr_py_backend_open_sim(unsigned nr_cpus, PyObject *freqs,
				   uint32_t turbo_khz, double static_w,
				   double dyn_w_per_ghz_v2, double v_min,
				   double v_max, double idle_fraction,
				   double util, int wallclock, PyObject *cpus,
				   double work_per_ghz, double max_backlog,
				   unsigned cpus_per_policy,
				   struct vpwr_py_log *log);
/* vpwr_resolver_open(uri); module_dir may be None (the default). */
int vpwr_py_resolver_open(const char *uri, const char *module_dir,
			  unsigned port_events, struct vpwr_py_log *log,
			  struct vpwr_resolver **out);
/* vpwr_host_new() with the options as arguments; backend and resolver
 * stay the caller's and must outlive the host.  `cb` (may be None) serves
 * the callbacks whose bit (1 << VPWR_PY_CB_*) is set in `callbacks`. */
int vpwr_py_host_new(struct vpwr_backend *backend,
		     struct vpwr_resolver *resolver, unsigned mode,
		     unsigned max_channels, unsigned allow_shared,
		     unsigned max_domain_channels, unsigned rate_per_s,
		     unsigned rate_burst, unsigned auto_channels,
		     const char *time_zone, const char *sysfs_root,
		     unsigned traffic_period_ms, unsigned grace_ms,
		     struct vpwr_py_cb *cb, unsigned callbacks,
		     struct vpwr_py_log *log, struct vpwr_host **out);
/* Serve a connected stream fd bound to `domain`; the fd is the library's
 * from then on (also on failure).  Returns the channel id or -errno. */
int vpwr_py_host_add_fd(struct vpwr_host *h, const char *domain, int fd,
			struct vpwr_py_log *log);
/* vpwr_host_control(): the JSON reply (NULL without memory). */
%newobject vpwr_py_host_control;
char *vpwr_py_host_control(struct vpwr_host *h, const char *request);
/* vpwr_meter_open(name) with the options as arguments. */
int vpwr_py_meter_open(const char *name, const char *sysfs_root,
		       struct vpwr_backend *backend, struct vpwr_py_log *log,
		       struct vpwr_meter **out);

/* (rc, [domain names]); builds Python objects, so it keeps the GIL. */
%nothread vpwr_py_resolver_domains;
PyObject *vpwr_py_resolver_domains(struct vpwr_resolver *r);
%nothread vpwr_py_msg_reply;
PyObject *vpwr_py_msg_reply(const struct vpwr_msg *request, int status,
			    const char *reason);
%nothread vpwr_py_cpuset_format;
PyObject *vpwr_py_cpuset_format(PyObject *cpus);
%nothread vpwr_py_msg_format;
PyObject *vpwr_py_msg_format(const struct vpwr_msg *m);
%nothread vpwr_py_layout;
PyObject *vpwr_py_layout(void);

/* Channels and listeners (transport.h) with the options as arguments
 * (flags: VPWR_CHANNEL_BLOCKING).  open_fd takes the fd, also on
 * failure. */
int vpwr_py_channel_open(const char *uri, unsigned flags,
			 struct vpwr_py_log *log, struct vpwr_channel **out);
int vpwr_py_channel_open_fd(int fd, unsigned flags, struct vpwr_py_log *log,
			    struct vpwr_channel **out);
int vpwr_py_listener_open(const char *uri, unsigned flags,
			  struct vpwr_py_log *log, struct vpwr_listener **out);
/* (rc, bytes or None); releases the GIL around the read itself. */
%nothread vpwr_py_channel_read;
PyObject *vpwr_py_channel_read(struct vpwr_channel *ch, size_t len);
long vpwr_py_channel_write(struct vpwr_channel *ch, const void *buf,
			   size_t len);
/* (rc, has_cred, pid, uid, gid, cid). */
%nothread vpwr_py_channel_peer;
PyObject *vpwr_py_channel_peer(struct vpwr_channel *ch);
/* (rc, [(name, uri), ...]); root may be None. */
%nothread vpwr_py_virtio_serial_discover;
PyObject *vpwr_py_virtio_serial_discover(const char *root);
/* (rc, [(domain, path, target_name, source_mode, running, guest_open,
 * guest_port_events), ...]) of
 * `domain`, None: of every domain. */
%nothread vpwr_py_resolver_channels;
PyObject *vpwr_py_resolver_channels(struct vpwr_resolver *r,
				    const char *domain);
/* (rc, [(domain, mac, type, target_dev, pci_addr, running), ...]) of
 * `domain`, None: of every domain; mac None when unknown. */
%nothread vpwr_py_resolver_interfaces;
PyObject *vpwr_py_resolver_interfaces(struct vpwr_resolver *r,
				      const char *domain);
