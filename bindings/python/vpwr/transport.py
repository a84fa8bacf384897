# SPDX-License-Identifier: MIT
"""Raw transports: libvpwr's channels and listeners (libvpwr/transport.h),
which move bytes and never parse them.

    with vpwr.Listener("unix-listen:/run/vpwr/vm1.sock") as l:
        ch = l.accept()                   # None while nobody is waiting
    with vpwr.Channel("unix:/run/vpwr/vm1.sock", blocking=True) as ch:
        ch.write(vpwr.Codec("native").encode(vpwr.Message.hello()))
        print(ch.read(4096), ch.peer)

URIs: unix:PATH, unix-listen:PATH, virtio-serial:PATH|NAME|auto (a guest's
port), virtio-serial-host:PATH (a QEMU chardev socket, host side),
vsock:CID:PORT, vsock-listen:PORT.  Channels and listeners are
non-blocking unless opened with blocking=True; give them (or their
fileno()) to select/selectors.  A Channel can be handed to
Host.add_channel() or Guest.from_socket() like a socket.
"""

from __future__ import annotations

import errno
import os
from typing import List, NamedTuple, Optional, Union

from . import _vpwr
from ._errors import Error
from ._handle import (Handle, Locked, Ref, as_bool, as_path, as_str, as_uint,
                      fd_of)

__all__ = ["Channel", "Listener", "Peer", "VirtioPort",
           "discover_virtio_serial"]

# A read larger than this is cut to it (the library's frames are < 16 KiB).
MAX_READ = 1 << 24


class Peer(NamedTuple):
    """Who is on the other end of a Channel, as far as its transport can
    tell: pid, uid and gid of a unix socket's peer (SO_PEERCRED; None where
    unknown) and the vsock CID of a vsock peer (None otherwise)."""
    pid: Optional[int]
    uid: Optional[int]
    gid: Optional[int]
    cid: Optional[int]


class VirtioPort(NamedTuple):
    """A guest's virtio-serial port meant for libvpwr
    (discover_virtio_serial())."""
    name: str   #: "virtio.serial.port.poweragent.0", "org.libvpwr.ctl"
    uri: str    #: "virtio-serial:/dev/virtio-ports/<name>"


def _flags(blocking):
    return _vpwr.VPWR_CHANNEL_BLOCKING if as_bool(blocking, "blocking") \
        else 0


class Channel(Handle):
    """A connection that moves bytes: Channel(uri, *, blocking=False)
    connects to `uri`; Channel.from_socket(sock) wraps a connected stream
    socket (or fd).  Closing it closes the connection.

    read() and write() follow io.RawIOBase: on a non-blocking channel
    they return None when nothing can be read or written now.  Other
    failures raise vpwr.Error (an OSError): errno ECONNREFUSED, ENOENT...
    from connecting, ErrorCode.CLOSED from write() once the peer has gone.
    One thread at a time uses a channel; a blocking read() holds it until
    data comes.
    """

    _kind = "channel"

    def __init__(self, uri: str, *, blocking: bool = False):
        uri = as_str(uri, "uri")
        flags = _flags(blocking)
        ref = Ref("channel", _vpwr.vpwr_channel_free)
        rc, ptr = _vpwr.vpwr_py_channel_open(uri, flags, ref.log)
        self._adopt(ref, rc, ptr, bool(flags))

    @classmethod
    def from_socket(cls, sock, *, blocking: bool = False) -> "Channel":
        """A channel on its own duplicate of the connected stream socket
        `sock` (a socket object, anything with fileno(), or an fd).  The
        duplicate shares the connection's blocking mode, which the channel
        sets: close `sock` rather than using it further."""
        fd = fd_of(sock)
        flags = _flags(blocking)
        self = cls.__new__(cls)
        ref = Ref("channel", _vpwr.vpwr_channel_free)
        # The duplicate is the library's from here, also on failure.
        rc, ptr = _vpwr.vpwr_py_channel_open_fd(os.dup(fd), flags, ref.log)
        self._adopt(ref, rc, ptr, bool(flags))
        return self

    @classmethod
    def _accepted(cls, ptr) -> "Channel":
        self = cls.__new__(cls)
        ref = Ref("channel", _vpwr.vpwr_channel_free)
        self._adopt(ref, 0, ptr, False)
        return self

    def _adopt(self, ref, rc, ptr, blocking):
        ref.check(rc)
        ref.ptr = ptr
        self._ref = ref
        self._blocking = blocking

    @property
    def blocking(self) -> bool:
        """True if read(), write() wait (opened with blocking=True)."""
        return self._blocking

    @property
    def scheme(self) -> str:
        """The transport: "unix", "virtio-serial", "vsock", ..."""
        with Locked(self) as ptr:
            return _vpwr.vpwr_channel_scheme(ptr)

    def fileno(self) -> int:
        """The fd to poll (valid until close(); do not close it)."""
        with Locked(self) as ptr:
            return _vpwr.vpwr_channel_fd(ptr)

    @property
    def fd(self) -> int:
        """The same as fileno()."""
        return self.fileno()

    def read(self, size: int = 4096) -> Optional[bytes]:
        """Up to `size` bytes: b"" at the end of the stream, None when
        nothing is available now (a non-blocking channel)."""
        size = as_uint(size, "size", MAX_READ)
        ref = self._ref
        with Locked(self) as ptr:
            ref.clear_log()
            rc, data = _vpwr.vpwr_py_channel_read(ptr, size)
        if rc == -errno.EAGAIN:
            return None
        ref.check(rc)
        return data

    def write(self, data) -> Optional[int]:
        """Write some of `data` (any bytes-like object); the count written,
        possibly fewer than len(data), or None when none could be written
        now (a non-blocking channel).  vpwr.Error with
        ErrorCode.CLOSED when the peer has gone (never SIGPIPE)."""
        if isinstance(data, str):
            raise TypeError("data must be a bytes-like object, not str")
        ref = self._ref
        with Locked(self) as ptr:
            ref.clear_log()
            rc = _vpwr.vpwr_py_channel_write(ptr, data)
        if rc == -errno.EAGAIN:
            return None
        return ref.check(rc)

    @property
    def peer(self) -> Peer:
        """Who is on the other end, as a Peer."""
        with Locked(self) as ptr:
            rc, has_cred, pid, uid, gid, cid = \
                _vpwr.vpwr_py_channel_peer(ptr)
        self._ref.check(rc)
        if has_cred:
            return Peer(pid, uid, gid, cid or None)
        return Peer(None, None, None, cid or None)

    def __repr__(self):
        if self.closed:
            return self._repr("")
        return self._repr(f"{self.scheme} fd={self.fileno()}")


class Listener(Handle):
    """Listener(uri, *, blocking=False) listens on `uri`
    ("unix-listen:PATH", "vsock-listen:PORT", "virtio-serial-host:PATH").
    A stale unix socket file left by a dead process is replaced; a live one
    is vpwr.Error EADDRINUSE.  Closing it stops listening and removes the
    socket file it made.  accept() gives each connection as a Channel."""

    _kind = "listener"

    def __init__(self, uri: str, *, blocking: bool = False):
        uri = as_str(uri, "uri")
        flags = _flags(blocking)
        ref = Ref("listener", _vpwr.vpwr_listener_free)
        rc, ptr = _vpwr.vpwr_py_listener_open(uri, flags, ref.log)
        ref.check(rc)
        ref.ptr = ptr
        self._ref = ref
        self._uri = uri
        self._blocking = bool(flags)

    @property
    def uri(self) -> str:
        """The URI it listens on."""
        return self._uri

    @property
    def blocking(self) -> bool:
        """True if accept() waits for a connection."""
        return self._blocking

    def fileno(self) -> int:
        """The fd to poll for a pending connection."""
        with Locked(self) as ptr:
            return _vpwr.vpwr_listener_fd(ptr)

    @property
    def fd(self) -> int:
        """The same as fileno()."""
        return self.fileno()

    def accept(self) -> Optional[Channel]:
        """The next connection as a non-blocking Channel, or None when none
        is pending (a non-blocking listener)."""
        ref = self._ref
        with Locked(self) as ptr:
            ref.clear_log()
            rc, ch = _vpwr.vpwr_listener_accept(ptr)
        if rc == -errno.EAGAIN:
            return None
        ref.check(rc)
        return Channel._accepted(ch)

    def __repr__(self):
        return self._repr(repr(self._uri))


def discover_virtio_serial(root: Union[str, os.PathLike, None] = None
                           ) -> List[VirtioPort]:
    """A guest's virtio-serial ports meant for libvpwr (named
    virtio.serial.port.poweragent.N or org.libvpwr.*), from
    /sys/class/virtio-ports and /dev/virtio-ports under `root` (None: the
    real ones), in natural order (poweragent.2 before poweragent.10)."""
    if root is not None:
        root = as_path(root, "root")
    rc, ports = _vpwr.vpwr_py_virtio_serial_discover(root)
    if rc < 0:
        raise Error(-rc, reason=f"discovering virtio-serial ports under "
                    f"{root or '/'}")
    return [VirtioPort(name, uri) for name, uri in ports]
