# SPDX-License-Identifier: MIT
"""Callbacks from C into Python: host events and guest notifications.
They run with the GIL taken back, what they raise comes out of the call
that ran them, and calling back into the caller raises instead of
deadlocking."""

import gc
import socket
import threading
import weakref

import pytest

import vpwr
from vpwr import Message, MsgFlags, MsgType
from conftest import Dispatcher

NATIVE = vpwr.Codec("native")


def send_request(sock, msg, seq=1):
    msg.seq = seq
    sock.sendall(NATIVE.encode(msg))


def read_frame(sock, codec=NATIVE, timeout=5):
    sock.settimeout(timeout)
    buf = b""
    while True:
        n = codec.frame_len(buf) if buf else 0
        if n:
            return codec.decode(buf[:n]), buf[n:]
        chunk = sock.recv(4096)
        assert chunk, "peer closed"
        buf += chunk


def test_events_of_a_request(sim, resolver):
    events = []
    with vpwr.Host(sim, resolver, on_event=events.append) as host:
        ours, theirs = socket.socketpair()
        with theirs:
            cid = host.add_channel("vm1", theirs)
        with ours:
            send_request(ours, Message.scale(0, "max"), seq=7)
            while not any(e.type == vpwr.HostEventType.REQUEST
                          for e in events):
                host.dispatch(1000)
            reply, _ = read_frame(ours)
        assert reply.seq == 7 and reply.ok and reply.body.cur_khz == 3000000
        types = [e.type for e in events]
        assert vpwr.HostEventType.CPU_CHANGED in types
        req = next(e for e in events if e.type == vpwr.HostEventType.REQUEST)
        assert req.channel_id == cid and req.domain == "vm1"
        assert req.request.type is MsgType.SCALE and req.request.seq == 7
        assert req.reply.is_reply and req.reply.body.cur_khz == 3000000
        cpu = next(e for e in events
                   if e.type == vpwr.HostEventType.CPU_CHANGED)
        assert (cpu.pcpu, cpu.new_khz, cpu.winner) == (0, 3000000, "vm1")
        assert cpu.domain is None
        # The peer hangs up: the channel goes down on the next dispatch.
        while not any(e.type == vpwr.HostEventType.CHANNEL_DOWN
                      for e in events):
            assert host.dispatch(1000) >= 0
    # Freeing restores pCPU 0: a last CPU_CHANGED with no winner.
    assert events[-1].type == vpwr.HostEventType.CPU_CHANGED
    assert events[-1].winner is None


def test_exception_in_event_callback_propagates(sim, resolver):
    raise_on = set()

    def on_event(ev):
        if ev.type in raise_on:
            raise KeyError(f"from the callback: {ev.type.name}")

    with vpwr.Host(sim, resolver, on_event=on_event) as host:
        # From handle() (which reports the CPU changes it makes) ...
        raise_on.add(vpwr.HostEventType.CPU_CHANGED)
        with pytest.raises(KeyError, match="CPU_CHANGED"):
            host.handle("vm1", Message.scale(1, "min"))
        assert host.cpu_info(1).cur_khz == 800000   # the request was done
        with pytest.raises(KeyError, match="CPU_CHANGED"):
            host.set_bounds(1, 1000000, 2000000)
        raise_on.clear()
        # ... and from dispatch().
        raise_on.add(vpwr.HostEventType.REQUEST)
        ours, theirs = socket.socketpair()
        with theirs:
            host.add_channel("vm1", theirs)
        with ours:
            send_request(ours, Message.query_state(0))
            with pytest.raises(KeyError, match="REQUEST"):
                for _ in range(50):
                    host.dispatch(100)
            reply, _ = read_frame(ours)      # the guest was answered
            assert reply.ok
        raise_on.clear()
        # The host carries on.
        host.handle("vm1", Message.scale(1, "max")).check()


def test_exception_while_closing_comes_out_of_close(sim, resolver):
    def on_event(ev):
        if ev.winner is None:
            raise RuntimeError("restore seen")

    host = vpwr.Host(sim, resolver, on_event=on_event)
    host.handle("vm1", Message.scale(0, "min")).check()
    with pytest.raises(RuntimeError, match="restore seen"):
        host.close()
    assert host.closed
    assert sim.freq(0) == 2400000       # restored all the same


def test_callback_must_not_call_back(sim, resolver):
    host = None
    call_back = [True]

    def on_event(ev):
        if call_back[0]:
            host.cpu_info(0)

    host = vpwr.Host(sim, resolver, on_event=on_event)
    with host:
        with pytest.raises(RuntimeError, match="must not call back"):
            host.handle("vm1", Message.scale(0, "max"))
        with pytest.raises(RuntimeError):
            host.set_bounds(0, 800000, 1000000)
        # Also while the host is freed (restoring pCPU 0): close() raises.
        with pytest.raises(RuntimeError):
            host.close()
        call_back[0] = False


def test_event_callbacks_in_a_dispatch_thread(sim, resolver):
    """Callbacks run in the dispatching thread while the main thread
    runs Python (a guest's requests): the GIL goes back and forth."""
    seen = []
    lock = threading.Lock()

    def on_event(ev):
        with lock:
            seen.append((threading.get_ident(), ev.type))

    with vpwr.Host(sim, resolver, on_event=on_event) as host:
        d = Dispatcher(host).start()
        ours, theirs = socket.socketpair()
        with ours, theirs:
            host.add_channel("vm1", theirs)
            g = vpwr.Guest.from_socket(ours, timeout_ms=5000)
        with g:
            for i in range(50):
                g.scale(i % 2, "up" if i % 4 < 2 else "down")
        d.stop()
    threads = {t for t, ty in seen if ty == vpwr.HostEventType.REQUEST}
    assert threads == {d.thread.ident}
    assert sum(ty == vpwr.HostEventType.REQUEST for _, ty in seen) == 50


def test_run_propagates_a_callback_exception(sim, resolver):
    def on_event(ev):
        if ev.type == vpwr.HostEventType.REQUEST:
            raise ValueError("stop here")

    with vpwr.Host(sim, resolver, on_event=on_event) as host:
        ours, theirs = socket.socketpair()
        with theirs:
            host.add_channel("vm1", theirs)
        with ours:
            send_request(ours, Message.release())
            with pytest.raises(ValueError, match="stop here"):
                host.run()


def test_no_hidden_reference_cycle(sim, resolver):
    class Owner:
        def __init__(self):
            self.host = vpwr.Host(sim, resolver, on_event=self.on_event)

        def on_event(self, ev):
            pass

    owner = Owner()
    ref = weakref.ref(owner.host)
    del owner
    gc.collect()
    assert ref() is None


def test_on_event_must_be_callable(sim, resolver):
    with pytest.raises(TypeError):
        vpwr.Host(sim, resolver, on_event=42)
    with pytest.raises(TypeError):
        vpwr.Guest.from_socket(socket.socket(), on_notify="x")


# ------------------------------------------------------------ guest side

class FakeHost:
    """A host written in Python with vpwr.Codec: answers every request,
    and sends a LIMITS_CHANGED notification before each reply."""

    STATE = vpwr.VcpuState(cur_khz=1000000, min_khz=800000,
                           max_khz=1200000, turbo=False, req_min_khz=0,
                           req_max_khz=0, clamped=True, epp=128)

    def __init__(self, sock):
        self.sock = sock
        self.requests = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        buf = b""
        self.sock.settimeout(10)
        while True:
            n = NATIVE.frame_len(buf) if buf else 0
            if not n:
                try:
                    chunk = self.sock.recv(4096)
                except OSError:
                    return
                if not chunk:
                    return
                buf += chunk
                continue
            req = NATIVE.decode(buf[:n])
            buf = buf[n:]
            self.requests.append(req)
            note = Message(MsgType.LIMITS_CHANGED, req.vcpu or 0, self.STATE,
                           flags=MsgFlags.NOTIFY, reason="operator bounds")
            body = self.STATE if req.type == MsgType.SCALE else None
            reply = Message(req.type, req.vcpu, body, seq=req.seq,
                            flags=MsgFlags.REPLY)
            self.sock.sendall(NATIVE.encode(note) + NATIVE.encode(reply))


def test_guest_notifications():
    notes = []
    ours, theirs = socket.socketpair()
    with ours, theirs:
        fake = FakeHost(theirs)
        g = vpwr.Guest.from_socket(ours, timeout_ms=5000,
                                   on_notify=notes.append)
        with g:
            g.scale(1, "down")
            assert len(notes) == 1
            n = notes[0]
            assert n.type is MsgType.LIMITS_CHANGED and n.is_notification
            assert n.body == FakeHost.STATE and n.reason == "operator bounds"
            reply = g.request(Message.release())
            assert reply.ok and reply.is_reply and len(notes) == 2
        assert [r.type for r in fake.requests] == [MsgType.SCALE,
                                                   MsgType.RELEASE]


def test_exception_in_notify_callback_propagates():
    def on_notify(msg):
        raise LookupError("notified")

    ours, theirs = socket.socketpair()
    with ours, theirs:
        FakeHost(theirs)
        with vpwr.Guest.from_socket(ours, timeout_ms=5000,
                                    on_notify=on_notify) as g:
            with pytest.raises(LookupError, match="notified"):
                g.scale(0, "up")
            # The reply was still consumed: the next request works.
            with pytest.raises(LookupError):
                g.release()


def test_notify_callback_must_not_use_the_guest():
    g = None

    def on_notify(msg):
        g.last_reason

    ours, theirs = socket.socketpair()
    with ours, theirs:
        FakeHost(theirs)
        g = vpwr.Guest.from_socket(ours, timeout_ms=5000,
                                   on_notify=on_notify)
        with g:
            with pytest.raises(RuntimeError, match="must not call back"):
                g.scale(0, "up")
