# SPDX-License-Identifier: MIT
"""The guest client: ask the host to change the frequency of this VM's vCPUs.

    with vpwr.Guest("unix:/run/vpwr/vm1.sock") as g:
        g.scale(0, "max")
        freqs, cur = g.query_freqs(0)
"""

from __future__ import annotations

import os
from typing import Callable, List, Optional, Tuple, Union

from . import _vpwr
from ._handle import (Handle, Ref, as_bool, as_str, as_timeout, as_uint,
                      fd_of)
from .message import (Epp, HelloInfo, HostCaps, Message, Policy, PolicyKind,
                      ScaleOp, VcpuList, VcpusWant, VcpuState, _NamedEnum)

__all__ = ["Guest", "ScaleOp", "Epp", "HostCaps", "HelloInfo", "VcpuState"]

# _NamedEnum is imported for older code that took it from here.
_ = _NamedEnum


class Guest(Handle):
    """A client of the host's power service, over one channel.

    Guest(uri, timeout_ms=2000, *, codec=None, dpdk_vm_name=None,
    on_notify=None) connects to `uri` ("unix:/run/vpwr/vm1.sock",
    "virtio-serial:/dev/virtio-ports/...", "vsock:2:5000");
    Guest.from_socket() uses a socket you already have.

    `codec` is "native" (default), "json", or "dpdk" to talk to DPDK's own
    host daemon (vm_power_manager), which knows this VM by `dpdk_vm_name`.
    `on_notify(msg)` is called with each host notification (a Message,
    LIMITS_CHANGED) that arrives while a request waits for its reply; what
    it raises propagates out of that request.  It must not use the guest.

    Every request blocks until the host answers or `timeout_ms` passes
    (None: wait forever); the GIL is released meanwhile.  A refused request
    raises vpwr.Error with the host's status as errno and its explanation
    in .reason (also in last_reason).  Use it as a context manager, or call
    close(); the host then drops this channel's requests.

    One thread at a time uses a guest; other threads wait their turn.
    """

    _kind = "guest"

    def __init__(self, uri: str, timeout_ms: Optional[int] = 2000, *,
                 codec: Optional[str] = None,
                 dpdk_vm_name: Optional[str] = None,
                 on_notify: Optional[Callable[[Message], None]] = None):
        uri = as_str(uri, "uri")
        timeout, codec, vm_name = self._opts(timeout_ms, codec, dpdk_vm_name)
        ref, self._on_notify = self._new_ref(on_notify)
        rc, ptr = _vpwr.vpwr_py_guest_open(uri, timeout, codec, vm_name,
                                           ref.cb, ref.log)
        ref.check(rc)
        ref.ptr = ptr
        self._ref = ref
        self._codec = codec or "native"

    @classmethod
    def from_socket(cls, sock, timeout_ms: Optional[int] = 2000, *,
                    codec: Optional[str] = None,
                    dpdk_vm_name: Optional[str] = None,
                    on_notify: Optional[Callable[[Message], None]] = None
                    ) -> "Guest":
        """A guest on a connected stream socket (or its fd), e.g. one end
        of socket.socketpair().

        The guest uses its own duplicate of the fd and switches the
        connection to non-blocking mode, which the socket object shares: close
        the socket object (the connection stays up) rather than using it
        further.
        """
        fd = fd_of(sock)
        timeout, codec, vm_name = cls._opts(timeout_ms, codec, dpdk_vm_name)
        self = cls.__new__(cls)
        ref, self._on_notify = self._new_ref(on_notify)
        # From here the duplicate is the library's, also on failure.
        rc, ptr = _vpwr.vpwr_py_guest_open_fd(os.dup(fd), timeout, codec,
                                              vm_name, ref.cb, ref.log)
        ref.check(rc)
        ref.ptr = ptr
        self._ref = ref
        self._codec = codec or "native"
        return self

    @staticmethod
    def _opts(timeout_ms, codec, dpdk_vm_name):
        timeout = as_timeout(timeout_ms)
        if timeout == 0:
            raise ValueError("timeout_ms must be > 0, or None to wait "
                             "forever")
        if codec is not None:
            codec = as_str(codec, "codec")
        if dpdk_vm_name is not None:
            dpdk_vm_name = as_str(dpdk_vm_name, "dpdk_vm_name")
        return timeout, codec, dpdk_vm_name

    @staticmethod
    def _new_ref(on_notify):
        if on_notify is not None and not callable(on_notify):
            raise TypeError("on_notify must be callable, not "
                            f"{type(on_notify).__name__}")
        ref = Ref("guest", _vpwr.vpwr_guest_free)
        slot = None
        if on_notify is not None:
            slot = ref.set_callback(_vpwr.VPWR_PY_CB_NOTIFY, on_notify,
                                    _notification)
        return ref, slot

    def _request(self, fn, *args):
        """Send one request; raise with the host's reason if refused, or
        what the notification callback raised meanwhile."""
        ref = self._ref
        with ref.lock:
            ptr = self._use()
            ref.clear_log()
            res = fn(ptr, *args)
            ref.raise_callback_error()
            rc = res[0] if isinstance(res, (list, tuple)) else res
            if rc < 0:
                ref.check(rc, _vpwr.vpwr_guest_last_reason(ptr))
            return res

    # -------------------------------------------------------- requests
    def hello(self) -> HelloInfo:
        """Negotiate the protocol version; returns a HelloInfo."""
        info = _vpwr.vpwr_hello()
        self._request(_vpwr.vpwr_guest_hello, info)
        return HelloInfo(version=info.version_max, caps=HostCaps(info.caps),
                         max_frame=info.max_frame, nr_vcpus=info.nr_vcpus,
                         rate_per_sec=info.rate_per_sec)

    def scale(self, vcpu: int, op: Union[ScaleOp, str, int]) -> None:
        """Move `vcpu` through its frequency table: `op` is a ScaleOp or
        one of "up", "down", "min", "max", "medium"."""
        vcpu = as_uint(vcpu, "vcpu")
        op = ScaleOp.coerce(op, "op")
        self._request(_vpwr.vpwr_guest_scale, vcpu, int(op))

    def set_freq(self, vcpu: int, khz: int) -> None:
        """Pin `vcpu` to the frequency `khz`."""
        vcpu = as_uint(vcpu, "vcpu")
        khz = as_uint(khz, "khz")
        self._request(_vpwr.vpwr_guest_set_freq, vcpu, khz)

    def set_range(self, vcpu: int, min_khz: int, max_khz: int) -> None:
        """Limit `vcpu` to [min_khz, max_khz]."""
        vcpu = as_uint(vcpu, "vcpu")
        min_khz = as_uint(min_khz, "min_khz")
        max_khz = as_uint(max_khz, "max_khz")
        self._request(_vpwr.vpwr_guest_set_range, vcpu, min_khz, max_khz)

    def set_turbo(self, vcpu: int, enable: bool) -> None:
        """Turn turbo of `vcpu` on (True) or off (False)."""
        vcpu = as_uint(vcpu, "vcpu")
        enable = as_bool(enable, "enable")
        self._request(_vpwr.vpwr_guest_set_turbo, vcpu, int(enable))

    def set_epp(self, vcpu: int, hint: Union[int, str, Epp]) -> None:
        """Set the energy-performance hint of `vcpu`: an int from 0
        (performance) to 255 (power), an Epp, or an Epp name such as
        "balance_power"."""
        vcpu = as_uint(vcpu, "vcpu")
        if isinstance(hint, str):
            hint = Epp.coerce(hint, "hint")
        hint = as_uint(hint, "hint", 255)
        self._request(_vpwr.vpwr_guest_set_epp, vcpu, hint)

    def query_freqs(self, vcpu: int) -> Tuple[List[int], int]:
        """The frequencies `vcpu` can run at: (list of kHz ascending,
        current kHz)."""
        vcpu = as_uint(vcpu, "vcpu")
        _, khz, cur = self._request(_vpwr.vpwr_guest_query_freqs, vcpu,
                                    _vpwr.VPWR_MSG_MAX_FREQS)
        return khz, cur

    def query_state(self, vcpu: int) -> VcpuState:
        """What the host holds for `vcpu`, as a VcpuState."""
        vcpu = as_uint(vcpu, "vcpu")
        st = _vpwr.vpwr_vcpu_state()
        self._request(_vpwr.vpwr_guest_query_state, vcpu, st)
        return VcpuState(cur_khz=st.cur_khz, min_khz=st.min_khz,
                         max_khz=st.max_khz, turbo=bool(st.turbo),
                         req_min_khz=st.req_min_khz,
                         req_max_khz=st.req_max_khz,
                         clamped=bool(st.clamped), epp=st.epp)

    def query_vcpus(self, vcpu: Optional[int] = None,
                    want: Union[VcpusWant, int] = VcpusWant.FREQS
                    | VcpusWant.CAPS) -> VcpuList:
        """Per-vCPU facts (current frequencies, turbo and priority
        capabilities) of `vcpu`, or of every vCPU from 0 when None (at most
        64 per reply), as a VcpuList."""
        vcpu = _vpwr.VPWR_VCPU_NONE if vcpu is None else as_uint(
            vcpu, "vcpu", _vpwr.VPWR_VCPU_NONE - 1)
        want = as_uint(want, "want")
        _, raw = self._request(_vpwr.vpwr_guest_query_vcpus, vcpu, want)
        return VcpuList.from_bytes(raw)

    def send_policy(self, policy: Policy) -> None:
        """Hand the host a Policy to apply on this guest's behalf; it
        replaces an earlier policy of the same kind.  The host's reply
        reason (in last_reason) may say what it counts (TRAFFIC's
        interfaces); a policy it cannot evaluate is refused with the
        reason."""
        if not isinstance(policy, Policy):
            raise TypeError("policy must be a vpwr.Policy, not "
                            f"{type(policy).__name__}")
        self._request(_vpwr.vpwr_guest_send_policy, policy.to_bytes())

    def remove_policy(self, kind: Union[PolicyKind, str, int, None] = None
                      ) -> None:
        """Withdraw the policy of `kind` (None: every policy); the host
        restores what it changed for it."""
        kind = 0 if kind is None else int(PolicyKind.coerce(kind, "kind"))
        self._request(_vpwr.vpwr_guest_remove_policy, kind)

    def release(self) -> None:
        """Drop every request this guest made; the host restores what it
        changed for them."""
        self._request(_vpwr.vpwr_guest_release)

    def request(self, msg: Message) -> Message:
        """Send any request Message and return the host's reply Message
        (its seq is the client's own).  A refused request is not raised:
        look at reply.status, or call reply.check()."""
        if not isinstance(msg, Message):
            raise TypeError("msg must be a vpwr.Message, not "
                            f"{type(msg).__name__}")
        ref = self._ref
        with ref.lock:
            ptr = self._use()
            ref.clear_log()
            rc, raw = _vpwr.vpwr_guest_request(ptr, msg.to_bytes())
            ref.raise_callback_error()
            reply = Message.from_bytes(raw)
            if rc < 0 and not reply.is_reply:
                # A local failure (timeout, broken channel): no reply.
                ref.check(rc, _vpwr.vpwr_guest_last_reason(ptr))
            return reply

    # ------------------------------------------------------ properties
    @property
    def codec(self) -> str:
        """The codec this guest speaks ("native", "json", "dpdk")."""
        return self._codec

    @property
    def last_reason(self) -> str:
        """The host's reason for the last refused request, or ""."""
        ref = self._ref
        with ref.lock:
            return _vpwr.vpwr_guest_last_reason(self._use())

    @property
    def fd(self) -> int:
        """The channel's fd (readable when the host sends a notification)."""
        return self.fileno()

    def fileno(self) -> int:
        """The channel's fd, so a guest can be given to select/selectors."""
        ref = self._ref
        with ref.lock:
            return ref.check(_vpwr.vpwr_guest_fd(self._use()))

    def __repr__(self):
        if self.closed:
            return self._repr("")
        return self._repr(f"fd={self.fileno()}")


def _notification(raw):
    return (Message.from_bytes(raw),)
