# SPDX-License-Identifier: MIT
"""What every vpwr object shares: the C handle behind it, freed exactly
once and in the right order, a lock that keeps one thread at a time in the
handle (libvpwr's rule), and argument checks that turn wrong types into
TypeError before they reach C.
"""

import logging
import operator
import os
import threading
import weakref

from . import _vpwr
from ._errors import Error

U32_MAX = 0xFFFFFFFF

# ----------------------------------------------------------------- logging
#
# What the library logs goes to the logger "vpwr" (nothing is printed
# unless the application configures logging).  Each handle passes the
# library the level the logger has when the handle is created.

LOGGER = logging.getLogger("vpwr")
LOGGER.addHandler(logging.NullHandler())

# libvpwr's levels (syslog's) -> logging's.
_TO_LOGGING = {0: logging.CRITICAL, 1: logging.CRITICAL, 2: logging.CRITICAL,
               3: logging.ERROR, 4: logging.WARNING, 5: logging.INFO,
               6: logging.INFO, 7: logging.DEBUG}


def _log(level, text):
    LOGGER.log(_TO_LOGGING.get(level, logging.ERROR), "%s", text)


_vpwr.vpwr_py_set_log_handler(_log)


def _c_log_level():
    """The log_level option for a new handle, from the logger's level."""
    level = LOGGER.getEffectiveLevel()
    if level <= logging.DEBUG:
        return _vpwr.VPWR_LOG_DEBUG
    if level <= logging.INFO:
        return _vpwr.VPWR_LOG_INFO
    if level <= logging.WARNING:
        return _vpwr.VPWR_LOG_WARNING
    return _vpwr.VPWR_LOG_ERR


class FairLock:
    """A FIFO lock: threads get it in the order they asked for it, so a
    thread that loops on a handle (a dispatcher) cannot starve the others.

    acquire(on_wait) calls on_wait() while it waits, every 50 ms, to make
    the holder let go sooner (wake a host's dispatch).
    """

    __slots__ = ("_cond", "_next", "_serving", "_abandoned", "_owner")

    def __init__(self):
        self._cond = threading.Condition(threading.Lock())
        self._next = 0
        self._serving = 0
        self._abandoned = set()
        self._owner = None

    def acquire(self, on_wait=None):
        me = threading.get_ident()
        if self._owner == me:
            # Only a callback from C (a host event, a guest notification)
            # runs while its own thread holds the handle.
            raise RuntimeError("a vpwr callback must not call back into "
                               "the object that called it (or into what "
                               "that object uses)")
        with self._cond:
            ticket = self._next
            self._next += 1
            try:
                while self._serving != ticket:
                    if on_wait is None:
                        self._cond.wait()
                    else:
                        on_wait()
                        self._cond.wait(0.05)
            except BaseException:  # KeyboardInterrupt while waiting
                self._abandoned.add(ticket)
                self._skip()
                raise
            self._owner = me

    def release(self):
        with self._cond:
            self._owner = None
            self._serving += 1
            self._skip()

    def _skip(self):
        while self._serving in self._abandoned:
            self._abandoned.remove(self._serving)
            self._serving += 1
        self._cond.notify_all()

    def __enter__(self):
        self.acquire()
        return self

    def __exit__(self, *exc):
        self.release()


class CallbackSlot:
    """Holds a user's callback for Ref.set_callback()."""

    __slots__ = ("fn", "__weakref__")

    def __init__(self, fn):
        self.fn = fn


class Ref:
    """The C handle of one Python object.

    `owners` are the Refs this handle borrows (a host borrows its backend
    and resolver) and are kept alive by it; an owner knows its dependents
    only weakly, and frees them before itself when closed explicitly.  So a
    host is always freed before its backend and resolver, whichever Python
    object goes first, and no reference cycle (which the garbage collector
    would finalize in any order) can form.  The handle is freed when the
    Ref dies, or by close().

    Locks: `lock` is held while a thread uses the handle; a call that uses
    a handle and the handles it borrows takes them in the order dependent,
    then owners.  A thread waiting for the lock of a host, or of a backend
    or resolver a host uses, wakes that host's dispatch (through
    vpwr_host_stop(), whose eventfd is in the host's epoll set; Python's
    run() keeps its own stop flag, so a wake-up does not stop it).
    `_ptr_lock` only guards reading `ptr` against its free, for stop() and
    wake-ups, which must not wait for `lock`.
    """

    __slots__ = ("ptr", "kind", "lock", "owners", "dependents", "log",
                 "running", "stop_requested", "_ptr_lock", "_free",
                 "_log_free", "cb", "_cb_free", "_cb_take", "_cb_slots",
                 "__weakref__")

    def __init__(self, kind, free, owners=()):
        self.ptr = None
        self.log = None
        self.kind = kind
        self.lock = FairLock()
        self.owners = tuple(owners)
        self.dependents = weakref.WeakSet()
        self.running = False
        self.stop_requested = False
        self._ptr_lock = threading.RLock()
        # Kept on the instance: finalizers at interpreter exit must not
        # depend on module globals.
        self._free = free
        self._log_free = _vpwr.vpwr_py_log_free
        self._cb_free = _vpwr.vpwr_py_cb_free
        self._cb_take = _vpwr.vpwr_py_cb_take_error
        self.cb = None
        self._cb_slots = None
        self.log = _vpwr.vpwr_py_log_new()
        if self.log is None:
            raise MemoryError
        _vpwr.vpwr_py_log_set_level(self.log, _c_log_level())

    # ------------------------------------------------------- callbacks
    def set_callback(self, kind, fn, convert, result=None):
        """Have C call fn(*convert(*raw)) back for the callback `kind` (a
        VPWR_PY_CB_* value: a host's events, clock, traffic and branch
        counters, a guest's notifications).  `result`, if given, checks
        and converts what fn returns before C sees it (TypeError or
        ValueError for a wrong one).  Set before the handle is created;
        freed after it.

        Returns the slot that holds `fn`: the Python object that owns this
        Ref must keep it.  One C callback object (self.cb) serves every
        kind, so the first exception any of them raises is the one
        re-raised after the C call, and none runs after it until then.  C
        holds only a trampoline with weak references to the slots, so a
        callback that refers to its owner (a bound method) makes a cycle
        the garbage collector sees and can free; a slot already collected
        answers None (the host then skips that sample, or keeps its
        clock's last reading)."""
        slot = CallbackSlot(fn)
        if self.cb is None:
            slots = {}

            def trampoline(k, *raw):
                entry = slots.get(k)
                s = entry[0]() if entry is not None else None
                if s is None:
                    return None
                out = s.fn(*entry[1](*raw))
                return entry[2](out) if entry[2] is not None else None
            self.cb = _vpwr.vpwr_py_cb_new(trampoline)
            if self.cb is None:
                raise MemoryError
            self._cb_slots = slots
        self._cb_slots[kind] = (weakref.ref(slot), convert, result)
        return slot

    @property
    def callback_kinds(self):
        """The bit mask (1 << VPWR_PY_CB_*) of the callbacks set."""
        mask = 0
        for k in self._cb_slots or ():
            mask |= 1 << k
        return mask

    def raise_callback_error(self):
        """Re-raise what the callback raised during the last C call."""
        if self.cb is not None:
            self._cb_take(self.cb)

    # ---------------------------------------------------------- errors
    def last_log(self):
        """The last message the library logged for this handle, or ""."""
        return _vpwr.vpwr_py_log_last(self.log) if self.log is not None else ""

    def clear_log(self):
        if self.log is not None:
            _vpwr.vpwr_py_log_clear(self.log)

    def check(self, rc, reason=""):
        """rc if >= 0, else raise Error with `reason` or the last log line."""
        if rc < 0:
            raise Error(-rc, reason=reason or self.last_log())
        return rc

    # -------------------------------------------------- hosts' waiting
    def _wake_host(self):
        with self._ptr_lock:
            if self.kind == "host" and self.ptr is not None:
                _vpwr.vpwr_host_stop(self.ptr)

    def wake(self):
        """Make a dispatch in progress on this host, or on a host using
        this backend or resolver, return soon."""
        self._wake_host()
        try:
            deps = list(self.dependents)
        except RuntimeError:  # changed by another thread meanwhile
            return
        for d in deps:
            d._wake_host()

    def stop(self):
        """Host.stop(): make run() return; never waits for `lock`."""
        with self._ptr_lock:
            self.stop_requested = True
        self._wake_host()

    def interrupt(self):
        """Make a run() in progress return, and a dispatch in progress."""
        with self._ptr_lock:
            if self.running:
                self.stop_requested = True
        self.wake()

    # --------------------------------------------------------- freeing
    def close(self):
        """Free the handle, its dependents first, taking every lock.

        Waits for calls in progress in other threads; a run() in progress
        returns first.
        """
        while True:
            self.interrupt()
            self.lock.acquire(on_wait=self.interrupt)
            try:
                deps = list(self.dependents)
                if not deps:
                    held = []
                    try:
                        for o in self.owners:
                            o.lock.acquire(on_wait=o.wake)
                            held.append(o)
                        self.finalize(raise_callback_error=True)
                    finally:
                        for o in reversed(held):
                            o.lock.release()
                    return
            finally:
                self.lock.release()
            for d in deps:
                d.close()

    def finalize(self, raise_callback_error=False):
        """Free now, dependents first, without locks (from __del__, when no
        other thread can hold the object).  Harmless when already freed.
        With raise_callback_error, what a callback raised while the handle
        was freed is raised here (after everything is freed)."""
        for d in list(self.dependents):
            d.finalize()
        with self._ptr_lock:
            ptr, self.ptr = self.ptr, None
        if ptr is not None:
            self._free(ptr)
        error = None
        cb, self.cb = self.cb, None
        if cb is not None:
            if raise_callback_error:
                try:
                    self._cb_take(cb)
                except BaseException as e:  # re-raised below
                    error = e
            self._cb_free(cb)
        log, self.log = self.log, None
        if log is not None:
            self._log_free(log)
        for o in self.owners:
            o.dependents.discard(self)
        if error is not None:
            raise error

    def __del__(self):
        self.finalize()


class Locked:
    """`with Locked(obj) as ptr`: hold the locks of obj's Ref and of the
    Refs it borrows, in order, and give its C pointer.  ValueError if obj
    is closed, or None with closed_ok=True."""

    __slots__ = ("_obj", "_refs", "_held", "_closed_ok")

    def __init__(self, obj, closed_ok=False):
        self._obj = obj
        ref = obj._ref
        self._refs = (ref,) + ref.owners if ref is not None else ()
        self._held = []
        self._closed_ok = closed_ok

    def __enter__(self):
        try:
            for ref in self._refs:
                ref.lock.acquire(on_wait=ref.wake)
                self._held.append(ref)
            ref = self._obj._ref
            if self._closed_ok and (ref is None or ref.ptr is None):
                return None
            return self._obj._use()
        except BaseException:
            self.__exit__()
            raise

    def __exit__(self, *exc):
        while self._held:
            self._held.pop().lock.release()


class Handle:
    """Base of the classes that own a C handle: close(), closed and the
    context manager protocol.  The handle is also freed when the object is
    garbage-collected (by its Ref)."""

    _ref = None
    _kind = "handle"

    def _use(self):
        """The C pointer; ValueError if closed.  Call with the lock held."""
        ref = self._ref
        if ref is None or ref.ptr is None:
            raise ValueError(f"operation on a closed {type(self).__name__}")
        return ref.ptr

    def close(self):
        """Free the handle.  Calling it again does nothing."""
        ref = self._ref
        if ref is not None:
            ref.close()

    @property
    def closed(self):
        """True once close() has been called (or the object it depends on
        has been closed)."""
        ref = self._ref
        return ref is None or ref.ptr is None

    def __enter__(self):
        self._use()
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()

    def _repr(self, detail):
        state = "closed" if self.closed else detail
        package = type(self).__module__.split(".")[0]
        return f"<{package}.{type(self).__name__} {state}>"


# ----------------------------------------------------------- arguments

def as_uint(value, what, maximum=U32_MAX):
    """An int in 0..maximum, else TypeError/ValueError naming `what`."""
    if isinstance(value, bool):
        raise TypeError(f"{what} must be an int, not bool")
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{what} must be an int, not "
                        f"{type(value).__name__}") from None
    if not 0 <= value <= maximum:
        raise ValueError(f"{what} must be in 0..{maximum}, not {value}")
    return value


def as_bool(value, what):
    """A bool from a bool or an int 0/1."""
    if isinstance(value, bool):
        return value
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{what} must be a bool, not "
                        f"{type(value).__name__}") from None
    if value not in (0, 1):
        raise ValueError(f"{what} must be True or False, not {value}")
    return bool(value)


def as_float(value, what):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{what} must be a number, not "
                        f"{type(value).__name__}")
    return float(value)


def as_str(value, what):
    """A str without NUL characters (C strings end at the first)."""
    if not isinstance(value, str):
        raise TypeError(f"{what} must be a str, not {type(value).__name__}")
    if "\0" in value:
        raise ValueError(f"{what} contains a NUL character")
    return value


def as_path(value, what):
    """A str path from a str or os.PathLike."""
    try:
        value = os.fspath(value)
    except TypeError:
        raise TypeError(f"{what} must be a str or os.PathLike, not "
                        f"{type(value).__name__}") from None
    if isinstance(value, bytes):
        value = os.fsdecode(value)
    return as_str(value, what)


def as_timeout(value, what="timeout_ms"):
    """Milliseconds for C: None (wait forever) -> -1, else an int >= 0."""
    if value is None:
        return -1
    return as_uint(value, what, 0x7FFFFFFF)


def fd_of(sock, what="sock"):
    """The fd of a socket-like object (anything with fileno()) or an int."""
    if isinstance(sock, bool):
        raise TypeError(f"{what} must be a socket or an fd, not bool")
    if isinstance(sock, int):
        fd = sock
    elif callable(getattr(sock, "fileno", None)):
        fd = sock.fileno()
        if not isinstance(fd, int):
            raise TypeError(f"{what}.fileno() returned "
                            f"{type(fd).__name__}, not int")
    else:
        raise TypeError(f"{what} must be a socket or an fd, not "
                        f"{type(sock).__name__}")
    if fd < 0:
        raise ValueError(f"{what} is closed")
    return fd
