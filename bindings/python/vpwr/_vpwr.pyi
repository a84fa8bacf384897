# SPDX-License-Identifier: MIT
"""Types of the SWIG module vpwr._vpwr (built from bindings/python/vpwr.i):
the C API almost as it is, for the pythonic layer to build on.

Conventions (see vpwr.i): functions return the C int (0/positive, or
-errno/-VPWR_E_*) with what C hands back through out-parameters appended,
so ``rc, handle = vpwr_py_guest_open(...)``; opaque handles are SWIG
pointer objects (_Ptr); messages, policies and vCPU lists cross as bytes of
exactly the C struct's size (layout from vpwr_py_layout()).

tests/test_stub.py checks that every name here exists in the module and
that every public function and constant of the module is here.
"""

from typing import (Any, Callable, Dict, Iterable, List, Optional, Sequence,
                    Tuple, Union)

# An opaque C handle (struct vpwr_backend *, ...): a SWIG pointer object.
_Ptr = Any
# The per-handle log sink and callback holder (vpwr_py_log, vpwr_py_cb).
_LogSink = Any
_CallbackSink = Any
# Any bytes-like object (bytes, bytearray, memoryview).
_Buffer = Union[bytes, bytearray, memoryview]
# (offset, line, column, text) of a decoding failure.
_DecodeErrorInfo = Tuple[int, int, int, str]


class vpwr_hello:
    """What HELLO negotiated (filled by vpwr_guest_hello())."""
    def __init__(self) -> None: ...
    version_min: int
    version_max: int
    caps: int
    max_frame: int
    nr_vcpus: int
    rate_per_sec: int


class vpwr_vcpu_state:
    """A vCPU's state (filled by vpwr_guest_query_state())."""
    def __init__(self) -> None: ...
    cur_khz: int
    min_khz: int
    max_khz: int
    turbo: int
    req_min_khz: int
    req_max_khz: int
    clamped: int
    epp: int


class vpwr_host_cpu_info_t:
    """struct vpwr_host_cpu_info (filled by vpwr_host_cpu_info())."""
    def __init__(self) -> None: ...
    cur_khz: int
    min_khz: int
    max_khz: int
    turbo: int
    nr_requests: int
    managed: int
    winner: str


class vpwr_sim_work_stats_t:
    """struct vpwr_sim_work_stats (filled by vpwr_sim_work_stats())."""
    def __init__(self) -> None: ...
    offered: float
    served: float
    dropped: float
    backlog: float
    wait_unit_s: float
    reserved_: Any


# ---------------------------------------------------------------- constants
VPWR_ARB_EXCLUSIVE: int
VPWR_ARB_PERFORMANCE: int
VPWR_ARB_POWERSAVE: int
VPWR_BACKEND_CAP_EPP: int
VPWR_BACKEND_CAP_LIMITS: int
VPWR_BACKEND_CAP_PER_CPU: int
VPWR_BACKEND_CAP_SET_FREQ: int
VPWR_BACKEND_CAP_TABLE: int
VPWR_BACKEND_CAP_TURBO: int
VPWR_CAP_EPP: int
VPWR_CAP_NOTIFY: int
VPWR_CAP_POLICY: int
VPWR_CAP_RANGE: int
VPWR_CAP_TURBO: int
VPWR_CHANNEL_BLOCKING: int
VPWR_CHANNEL_SOURCE_BIND: int
VPWR_CHANNEL_SOURCE_CONNECT: int
VPWR_DPDK_CAPS_LIST_LEN: int
VPWR_DPDK_FREQ_LIST_LEN: int
VPWR_DPDK_PKT_LEN: int
VPWR_EPP_BALANCE_PERFORMANCE: int
VPWR_EPP_BALANCE_POWER: int
VPWR_EPP_PERFORMANCE: int
VPWR_EPP_POWER: int
VPWR_E_BAD_FREQ: int
VPWR_E_CLOSED: int
VPWR_E_CONFIG: int
VPWR_E_LIMIT: int
VPWR_E_NOT_PINNED: int
VPWR_E_NOT_SERVING: int
VPWR_E_NO_DOMAIN: int
VPWR_E_PROTO: int
VPWR_E_RATE_LIMIT: int
VPWR_E_SHARED_CPU: int
VPWR_E_TOOBIG: int
VPWR_E_UNSUPPORTED: int
VPWR_E_VCPU_RANGE: int
VPWR_E_VERSION: int
VPWR_HOST_EV_CHANNEL_DOWN: int
VPWR_HOST_EV_CHANNEL_UP: int
VPWR_HOST_EV_CPU_CHANGED: int
VPWR_HOST_EV_REQUEST: int
VPWR_JSON_MAX_LINE: int
VPWR_LOG_DEBUG: int
VPWR_LOG_ERR: int
VPWR_LOG_INFO: int
VPWR_LOG_NOTICE: int
VPWR_LOG_WARNING: int
VPWR_MAX_CPUS: int
VPWR_MSG_F_NOTIFY: int
VPWR_MSG_F_REPLY: int
VPWR_MSG_HELLO: int
VPWR_MSG_LIMITS_CHANGED: int
VPWR_MSG_MAX_FREQS: int
VPWR_MSG_MAX_MACS: int
VPWR_MSG_MAX_VCPUS: int
VPWR_MSG_POLICY_REMOVE: int
VPWR_MSG_POLICY_SET: int
VPWR_MSG_QUERY_CAPS: int
VPWR_MSG_QUERY_FREQS: int
VPWR_MSG_QUERY_STATE: int
VPWR_MSG_QUERY_VCPUS: int
VPWR_MSG_RELEASE: int
VPWR_MSG_SCALE: int
VPWR_MSG_SET_EPP: int
VPWR_MSG_SET_FREQ: int
VPWR_MSG_SET_RANGE: int
VPWR_MSG_SIZE: int
VPWR_MSG_TURBO: int
VPWR_NATIVE_HDR_LEN: int
VPWR_NATIVE_MAX_FRAME: int
VPWR_POLICY_BRANCH_RATIO: int
VPWR_POLICY_TIME: int
VPWR_POLICY_TRAFFIC: int
VPWR_POLICY_WORKLOAD: int
VPWR_PROTO_VERSION: int
VPWR_PY_CB_BRANCH: int
VPWR_PY_CB_EVENT: int
VPWR_PY_CB_NOTIFY: int
VPWR_PY_CB_NOW: int
VPWR_PY_CB_TRAFFIC: int
VPWR_REASON_MAX: int
VPWR_SCALE_DOWN: int
VPWR_SCALE_MAX: int
VPWR_SCALE_MEDIUM: int
VPWR_SCALE_MIN: int
VPWR_SCALE_UP: int
VPWR_VCPUS_CAPS: int
VPWR_VCPUS_FREQS: int
VPWR_VCPU_NONE: int
VPWR_VERSION: int
VPWR_VERSION_MAJOR: int
VPWR_VERSION_MINOR: int
VPWR_VERSION_PATCH: int
VPWR_WORKLOAD_HIGH: int
VPWR_WORKLOAD_LOW: int
VPWR_WORKLOAD_MEDIUM: int

# ---------------------------------------------------------------- functions
def vpwr_backend_caps(b: _Ptr, cpu: int) -> int: ...
def vpwr_backend_free(b: _Ptr) -> None: ...
def vpwr_backend_get_epp(b: _Ptr, cpu: int) -> int: ...
def vpwr_backend_get_freq(b: _Ptr, cpu: int) -> Tuple[int, int]: ...
# `khz` is how many frequencies to return at most (the C array's size).
def vpwr_backend_get_freqs(b: _Ptr, cpu: int,
                           khz: int) -> Tuple[int, List[int]]: ...
def vpwr_backend_get_limits(b: _Ptr, cpu: int) -> Tuple[int, int, int]: ...
def vpwr_backend_get_turbo(b: _Ptr, cpu: int) -> int: ...
def vpwr_backend_name(b: _Ptr) -> str: ...
def vpwr_backend_nr_cpus(b: _Ptr) -> int: ...
def vpwr_backend_policy_cpus(b: _Ptr, cpu: int) -> Tuple[int, List[int]]: ...
def vpwr_backend_restore(b: _Ptr, cpu: int) -> int: ...
def vpwr_backend_set_epp(b: _Ptr, cpu: int, hint: int) -> int: ...
def vpwr_backend_set_freq(b: _Ptr, cpu: int, khz: int) -> int: ...
def vpwr_backend_set_limits(
    b: _Ptr,
    cpu: int,
    min_khz: int,
    max_khz: int,
) -> int: ...
def vpwr_backend_set_turbo(b: _Ptr, cpu: int, enable: int) -> int: ...
def vpwr_channel_fd(ch: _Ptr) -> int: ...
def vpwr_channel_free(ch: _Ptr) -> None: ...
def vpwr_channel_scheme(ch: _Ptr) -> str: ...
def vpwr_codec_by_name(name: str) -> Optional[_Ptr]: ...
def vpwr_codec_decode(
        c: _Ptr, buf: _Buffer) -> Tuple[int, bytes, _DecodeErrorInfo]: ...
# (codec, err); SWIG drops a NULL codec in front of err: then just err.
def vpwr_codec_detect(
        buf: _Buffer) -> Union[int, Tuple[Optional[_Ptr], int]]: ...
def vpwr_codec_dpdk() -> _Ptr: ...
def vpwr_codec_dpdk_guest() -> _Ptr: ...
def vpwr_codec_encode(c: _Ptr, m: _Buffer) -> Tuple[int, Optional[bytes]]: ...
def vpwr_codec_frame_len(
        c: _Ptr, buf: _Buffer) -> Tuple[int, _DecodeErrorInfo]: ...
def vpwr_codec_json() -> _Ptr: ...
def vpwr_codec_name(c: _Ptr) -> str: ...
def vpwr_codec_native() -> _Ptr: ...
def vpwr_cpuset_parse(list: str) -> Tuple[int, List[int]]: ...
def vpwr_guest_fd(g: _Ptr) -> int: ...
def vpwr_guest_free(g: _Ptr) -> None: ...
def vpwr_guest_hello(g: _Ptr, info: vpwr_hello) -> int: ...
def vpwr_guest_last_reason(g: _Ptr) -> str: ...
# `khz` is how many frequencies to return at most; (rc, khz, cur_khz).
def vpwr_guest_query_freqs(g: _Ptr, vcpu: int,
                           khz: int) -> Tuple[int, List[int], int]: ...
def vpwr_guest_query_state(
    g: _Ptr,
    vcpu: int,
    state: vpwr_vcpu_state,
) -> int: ...
def vpwr_guest_query_vcpus(
    g: _Ptr,
    vcpu: int,
    want: int,
) -> Tuple[int, bytes]: ...
def vpwr_guest_release(g: _Ptr) -> int: ...
def vpwr_guest_remove_policy(g: _Ptr, kind: int) -> int: ...
def vpwr_guest_request(g: _Ptr, request: _Buffer) -> Tuple[int, bytes]: ...
def vpwr_guest_scale(g: _Ptr, vcpu: int, op: int) -> int: ...
def vpwr_guest_send_policy(g: _Ptr, policy: _Buffer) -> int: ...
def vpwr_guest_set_epp(g: _Ptr, vcpu: int, hint: int) -> int: ...
def vpwr_guest_set_freq(g: _Ptr, vcpu: int, khz: int) -> int: ...
def vpwr_guest_set_range(
    g: _Ptr,
    vcpu: int,
    min_khz: int,
    max_khz: int,
) -> int: ...
def vpwr_guest_set_turbo(g: _Ptr, vcpu: int, enable: int) -> int: ...
def vpwr_host_connect(h: _Ptr, domain: str, uri: str) -> int: ...
def vpwr_host_control_listen(h: _Ptr, uri: str) -> int: ...
def vpwr_host_cpu_info(
    h: _Ptr,
    pcpu: int,
    info: vpwr_host_cpu_info_t,
) -> int: ...
def vpwr_host_detach(h: _Ptr, uri: str) -> int: ...
def vpwr_host_dispatch(h: _Ptr, timeout_ms: int) -> int: ...
def vpwr_host_evaluate(h: _Ptr) -> int: ...
def vpwr_host_fd(h: _Ptr) -> int: ...
def vpwr_host_free(h: _Ptr) -> None: ...
def vpwr_host_handle(
    h: _Ptr,
    domain: str,
    request: _Buffer,
) -> Tuple[int, bytes]: ...
def vpwr_host_listen(h: _Ptr, domain: Optional[str], uri: str) -> int: ...
def vpwr_host_nr_channels(h: _Ptr) -> int: ...
def vpwr_host_refresh(h: _Ptr) -> int: ...
def vpwr_host_remove_channel(h: _Ptr, id: int) -> int: ...
def vpwr_host_run(h: _Ptr) -> int: ...
def vpwr_host_set_bounds(
    h: _Ptr,
    pcpu: int,
    min_khz: int,
    max_khz: int,
) -> int: ...
def vpwr_host_set_domain_bounds(
    h: _Ptr,
    domain: str,
    min_khz: int,
    max_khz: int,
) -> int: ...
def vpwr_host_stop(h: _Ptr) -> None: ...
def vpwr_host_watch_dir(h: _Ptr, dir: str) -> int: ...
def vpwr_listener_accept(l: _Ptr) -> Tuple[int, Optional[_Ptr]]: ...
def vpwr_listener_fd(l: _Ptr) -> int: ...
def vpwr_listener_free(l: _Ptr) -> None: ...
def vpwr_meter_domain_name(m: _Ptr, domain: int) -> Optional[str]: ...
def vpwr_meter_free(m: _Ptr) -> None: ...
def vpwr_meter_nr_domains(m: _Ptr) -> int: ...
def vpwr_meter_read(m: _Ptr, domain: int) -> Tuple[int, float]: ...
def vpwr_msg_type_name(type: int) -> Optional[str]: ...
def vpwr_msg_validate(m: _Buffer) -> Tuple[int, Optional[str]]: ...
def vpwr_py_backend_open(
    name: str,
    sysfs_root: Optional[str],
    state_file: Optional[str],
    log: Optional[_LogSink],
) -> Tuple[int, Optional[_Ptr]]: ...
def vpwr_py_backend_open_sim(
    nr_cpus: int,
    freqs: Optional[Sequence[int]],
    turbo_khz: int,
    static_w: float,
    dyn_w_per_ghz_v2: float,
    v_min: float,
    v_max: float,
    idle_fraction: float,
    util: float,
    wallclock: int,
    cpus: Optional[Sequence[Tuple[Sequence[int], int]]],
    work_per_ghz: float,
    max_backlog: float,
    cpus_per_policy: int,
    log: Optional[_LogSink],
) -> Tuple[int, Optional[_Ptr]]: ...
def vpwr_py_cb_free(cb: Optional[_CallbackSink]) -> None: ...
def vpwr_py_cb_new(fn: Callable[..., Any]) -> Optional[_CallbackSink]: ...
def vpwr_py_cb_take_error(cb: Optional[_CallbackSink]) -> None: ...
def vpwr_py_channel_open(
    uri: str,
    flags: int,
    log: Optional[_LogSink],
) -> Tuple[int, Optional[_Ptr]]: ...
def vpwr_py_channel_open_fd(
    fd: int,
    flags: int,
    log: Optional[_LogSink],
) -> Tuple[int, Optional[_Ptr]]: ...
def vpwr_py_channel_peer(ch: _Ptr) -> Tuple[int, int, int, int, int, int]: ...
def vpwr_py_channel_read(
    ch: _Ptr, len: int) -> Tuple[int, Optional[bytes]]: ...
def vpwr_py_channel_write(ch: _Ptr, buf: _Buffer) -> int: ...
def vpwr_py_cpuset_format(cpus: Iterable[int]) -> str: ...
def vpwr_py_guest_open(
    uri: str,
    timeout_ms: int,
    codec: Optional[str],
    dpdk_vm_name: Optional[str],
    notify: Optional[_CallbackSink],
    log: Optional[_LogSink],
) -> Tuple[int, Optional[_Ptr]]: ...
def vpwr_py_guest_open_fd(
    fd: int,
    timeout_ms: int,
    codec: Optional[str],
    dpdk_vm_name: Optional[str],
    notify: Optional[_CallbackSink],
    log: Optional[_LogSink],
) -> Tuple[int, Optional[_Ptr]]: ...
def vpwr_py_host_add_fd(
    h: _Ptr,
    domain: str,
    fd: int,
    log: Optional[_LogSink],
) -> int: ...
def vpwr_py_host_control(h: _Ptr, request: str) -> Optional[str]: ...
def vpwr_py_host_new(
    backend: _Ptr,
    resolver: _Ptr,
    mode: int,
    max_channels: int,
    allow_shared: int,
    max_domain_channels: int,
    rate_per_s: int,
    rate_burst: int,
    auto_channels: int,
    time_zone: Optional[str],
    sysfs_root: Optional[str],
    traffic_period_ms: int,
    grace_ms: int,
    cb: Optional[_CallbackSink],
    callbacks: int,
    log: Optional[_LogSink],
) -> Tuple[int, Optional[_Ptr]]: ...
def vpwr_py_layout() -> Dict[str, int]: ...
def vpwr_py_listener_open(
    uri: str,
    flags: int,
    log: Optional[_LogSink],
) -> Tuple[int, Optional[_Ptr]]: ...
def vpwr_py_log_clear(l: Optional[_LogSink]) -> None: ...
def vpwr_py_log_free(l: Optional[_LogSink]) -> None: ...
def vpwr_py_log_last(l: Optional[_LogSink]) -> str: ...
def vpwr_py_log_new() -> Optional[_LogSink]: ...
def vpwr_py_log_set_level(l: Optional[_LogSink], level: int) -> None: ...
def vpwr_py_meter_open(
    name: str,
    sysfs_root: Optional[str],
    backend: Optional[_Ptr],
    log: Optional[_LogSink],
) -> Tuple[int, Optional[_Ptr]]: ...
def vpwr_py_msg_format(m: _Buffer) -> str: ...
def vpwr_py_msg_reply(
    request: _Buffer,
    status: int,
    reason: Optional[str],
) -> bytes: ...
def vpwr_py_resolver_channels(
    r: _Ptr,
    domain: Optional[str],
) -> Tuple[int, List[Tuple[str, str, str, int, int]]]: ...
def vpwr_py_resolver_domains(r: _Ptr) -> Tuple[int, List[str]]: ...
# (domain, mac or None, type, target_dev, pci_addr, running)
def vpwr_py_resolver_interfaces(
    r: _Ptr,
    domain: Optional[str],
) -> Tuple[int, List[Tuple[str, Optional[str], Optional[str], Optional[str],
                           Optional[str], int]]]: ...
def vpwr_py_resolver_open(
    uri: str,
    module_dir: Optional[str],
    port_events: int,
    log: Optional[_LogSink],
) -> Tuple[int, Optional[_Ptr]]: ...
def vpwr_py_set_log_handler(
    fn: Optional[Callable[[int, str], Any]],
) -> None: ...
def vpwr_py_virtio_serial_discover(
    root: Optional[str],
) -> Tuple[int, List[Tuple[str, str]]]: ...
def vpwr_resolver_change_fd(r: _Ptr) -> int: ...
def vpwr_resolver_domain_cid(r: _Ptr, domain: str) -> Tuple[int, int]: ...
def vpwr_resolver_domain_running(r: _Ptr, domain: str) -> int: ...
def vpwr_resolver_free(r: _Ptr) -> None: ...
def vpwr_resolver_lookup(
    r: _Ptr,
    domain: str,
    vcpu: int,
) -> Tuple[int, List[int]]: ...
def vpwr_resolver_nr_vcpus(r: _Ptr, domain: str) -> int: ...
def vpwr_resolver_refresh(r: _Ptr) -> int: ...
def vpwr_scale_op_name(op: int) -> Optional[str]: ...
def vpwr_sim_advance(b: _Ptr, ns: int) -> int: ...
def vpwr_sim_energy(b: _Ptr, cpu: int) -> Tuple[int, float]: ...
def vpwr_sim_now(b: _Ptr) -> Tuple[int, int]: ...
def vpwr_sim_power(
    b: _Ptr,
    cpu: int,
    khz: int,
    util: float,
) -> Tuple[int, float]: ...
def vpwr_sim_residency(b: _Ptr, cpu: int, khz: int) -> Tuple[int, int]: ...
def vpwr_sim_set_offered(b: _Ptr, cpu: int, per_s: float) -> int: ...
def vpwr_sim_set_util(b: _Ptr, cpu: int, util: float) -> int: ...
def vpwr_sim_work_stats(
    b: _Ptr,
    cpu: int,
    stats: vpwr_sim_work_stats_t,
) -> int: ...
def vpwr_strerror(err: int) -> str: ...
def vpwr_strerror_name(err: int) -> Optional[str]: ...
def vpwr_version() -> int: ...
def vpwr_version_string() -> str: ...
