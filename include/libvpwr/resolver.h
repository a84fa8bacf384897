/* SPDX-License-Identifier: MIT */
/*
 * Resolvers map a domain's vCPUs to the physical CPUs they run on.
 *
 *   static:/etc/vpwr/pins.json   a JSON file:
 *       { "domains": { "vm1": { "vcpus": ["2", "3", "4-5"], "cid": 3,
 *           "interfaces": [ { "mac": "52:54:00:12:34:56", "dev": "tap0" },
 *                           { "pci": "0000:03:10.1" } ] } } }
 *     element i of "vcpus" is the cpulist vCPU i may run on; "cid" and
 *     "interfaces" are optional.  Read once: no change notification.
 *
 *   libvirt:URI                  any libvirt connection URI after the
 *     "libvirt:" prefix: libvirt:qemu:///system,
 *     libvirt:test:///abs/path/node.xml; a bare "libvirt:" uses libvirt's
 *     default URI (LIBVIRT_DEFAULT_URI, then libvirt's own configuration).
 *     Opens a read-only connection (virConnectOpenReadOnly) and fails if
 *     it cannot (with port_events, a read-write one as well, for QEMU's
 *     port events alone; see vpwr_resolver_opts).  Every defined domain is known, running or shut off:
 *       - vCPUs: the current (online) vCPU count, live for a running
 *         domain, from the persistent config for a shut-off one;
 *       - pinning: virDomainGetVcpuPinInfo(), live (VIR_DOMAIN_AFFECT_LIVE)
 *         for a running domain, config otherwise.  A vCPU without
 *         <vcpupin> may run anywhere libvirt allows it: all host CPUs (or
 *         the domain's <vcpu cpuset=...>), reported as that full set, which
 *         the host then handles as a floating vCPU;
 *       - the vsock CID: <devices><vsock><cid address='N'/>;
 *       - channels: see vpwr_resolver_foreach_channel();
 *       - network interfaces: see vpwr_resolver_foreach_interface().
 *     Everything is read into a cache when the resolver opens and again by
 *     vpwr_resolver_refresh(); lookups only read the cache and never block
 *     on libvirt.
 *
 *     Change notification.  libvirt delivers domain events only to a
 *     process that has registered an event loop implementation
 *     (virEventRegisterDefaultImpl() or virEventRegisterImpl(), then runs
 *     it).  That is process-wide state, so the library never registers
 *     one: if the application has, the resolver subscribes to the
 *     LIFECYCLE (start, stop, define, undefine, migrate...), TUNABLE
 *     (vcpupin changes, e.g. virsh vcpupin on QEMU), DEVICE_ADDED and
 *     DEVICE_REMOVED events of every domain, and to the connection's close
 *     callback.  Those callbacks run on whatever thread runs libvirt's
 *     loop; they only set a flag and make the change fd readable.  The
 *     re-read happens in vpwr_resolver_refresh(), on the caller's thread.
 *     Without an event loop the resolver logs this once (info level) and
 *     the caller must call vpwr_resolver_refresh() itself, e.g. on a timer;
 *     the change fd then only turns readable on the resolver's own account.
 *     Some changes come with no event on some drivers (the test:/// driver
 *     emits none for virDomainPinVcpu; vCPU hot-plug may have none): a
 *     caller that must not miss them refreshes on a timer as well.
 *
 *     Losing libvirt.  When the connection drops (libvirtd restarted), the
 *     close callback (with an event loop) or the next failing call
 *     (without) marks it lost; vpwr_resolver_refresh() then reconnects to
 *     the same URI and re-subscribes.  While libvirt cannot be reached,
 *     refresh() fails with -ENOTCONN and lookups keep answering from the
 *     last good read; call refresh() again later.
 *
 *     libvirt reports errors on the resolver's connection to a handler the
 *     resolver installs (virConnSetErrorFunc): they reach the log callback,
 *     never stderr.  A failure to connect at all happens before there is a
 *     connection, so libvirt passes it to its process-wide handler, which
 *     prints to stderr unless the application set one (virSetErrorFunc);
 *     the resolver also logs it.
 *
 * A handle is used by one thread at a time; vpwr_resolver_change_fd()'s fd
 * may be polled from any thread.
 */
#ifndef LIBVPWR_RESOLVER_H
#define LIBVPWR_RESOLVER_H

#include "common.h"

#ifdef __cplusplus
extern "C" {
#endif

struct vpwr_resolver;

struct vpwr_resolver_opts {
	size_t sz;
	vpwr_log_fn log_fn;
	void *log_userdata;
	int log_level;
	/*
	 * libvirt: the directory holding libvpwr-resolver-libvirt.so, the
	 * module libvpwr loads the libvirt: resolver from when such a URI is
	 * opened.  NULL (the default): libvpwr-N/ beside the libvpwr.so in
	 * use (N is the SONAME's major), where the build tree and an install
	 * put it.  Set it for tests and relocated installs.  Borrowed during
	 * vpwr_resolver_open() only.  Ignored by the other schemes.
	 */
	const char *module_dir;
	/*
	 * libvirt: non-zero to hear at once when a guest opens or closes one
	 * of its virtio-serial ports (vpwr_resolver_channel.guest_open).
	 * QEMU reports it with its VSERPORT_CHANGE monitor event, which
	 * libvirt passes on only through virConnectDomainQemuMonitorEvent-
	 * Register() (libvirt-qemu) on a read-write connection: the resolver
	 * then opens a second, read-write connection to the same URI for that
	 * event alone (QEMU domains only; needs an event loop, see above).
	 * If it cannot (not allowed to write, not QEMU, no event loop), it
	 * logs libvirt's reason once and goes on without: the state is then
	 * seen only when something else makes the caller refresh.  0 (the
	 * default): no read-write connection.  Ignored by the other schemes.
	 */
	unsigned port_events;
};

/*
 * Open a resolver.  libvirt: URIs load the libvirt resolver module first
 * (see module_dir above); libvirt and libxml2 are loaded with it, so only
 * programs that open such a URI load them.  Errors: -EPROTONOSUPPORT
 * (unknown scheme, or a libvirt URI no libvirt driver handles, or a library
 * built without libvirt, or the libvirt resolver module missing, not
 * loadable or from another libvpwr build: the log says which and where),
 * -ENOENT, -VPWR_E_CONFIG (the file is not valid; the log says where and
 * why), -EINVAL (a libvirt URI that does not parse), -ENOTCONN (libvirt
 * cannot be reached), -EACCES (libvirt refused us), -ENOMEM.
 */
VPWR_API int vpwr_resolver_open(const char *uri,
				const struct vpwr_resolver_opts *opts,
				struct vpwr_resolver **out);

VPWR_API void vpwr_resolver_free(struct vpwr_resolver *r);

/* Number of vCPUs of `domain`, or -VPWR_E_NO_DOMAIN. */
VPWR_API int vpwr_resolver_nr_vcpus(struct vpwr_resolver *r,
				    const char *domain);

/*
 * The physical CPUs vCPU `vcpu` of `domain` may run on.  Errors:
 * -VPWR_E_NO_DOMAIN, -VPWR_E_VCPU_RANGE, -VPWR_E_NOT_PINNED (empty set).
 */
VPWR_API int vpwr_resolver_lookup(struct vpwr_resolver *r, const char *domain,
				  unsigned vcpu, struct vpwr_cpuset *pcpus);

/*
 * The names of the known domains: calls fn once per domain, in a stable
 * order (sorted by name, byte-wise), and returns how many there are.
 * libvirt: every defined domain, running or not.
 */
VPWR_API int vpwr_resolver_foreach_domain(struct vpwr_resolver *r,
					  void (*fn)(const char *domain,
						     void *userdata),
					  void *userdata);

/*
 * The vsock CID of `domain` into *cid.  Errors: -VPWR_E_NO_DOMAIN, -ENOENT
 * (the domain has no fixed CID), -ENOTSUP (the scheme knows no CIDs).
 */
VPWR_API int vpwr_resolver_domain_cid(struct vpwr_resolver *r,
				      const char *domain, uint32_t *cid);

/*
 * Is `domain` running?  1 if it is (libvirt: active, paused included), 0
 * if it is known not to be (libvirt: a defined domain that is shut off,
 * whose vCPUs and pinning then come from its config: where it would run,
 * not where it runs).  Answers from the same cache as the lookups.
 * Errors: -VPWR_E_NO_DOMAIN, -ENOTSUP (the scheme cannot tell: static:,
 * whose domains a caller should take for running), -EINVAL.
 */
VPWR_API int vpwr_resolver_domain_running(struct vpwr_resolver *r,
					  const char *domain);

/*
 * A file descriptor that turns readable when the mapping may have changed
 * (libvirt: a domain event or a lost connection).  Poll it for reading,
 * then call vpwr_resolver_refresh(), which also empties it.  The resolver
 * owns it: do not read or close it, and remove it from your poll set
 * before vpwr_resolver_free().  It stays the same across reconnections.
 * Errors: -ENOTSUP (the scheme never changes: static:).
 */
VPWR_API int vpwr_resolver_change_fd(struct vpwr_resolver *r);

/*
 * Re-read the mapping (libvirt: reconnecting first if the connection was
 * lost) and empty the change fd.  Returns 1 if anything a lookup, a
 * foreach, the CID, the channels or the interfaces report is now
 * different, 0 if not.
 * On error the previous mapping stays in place.  Errors: -ENOTCONN
 * (libvirt unreachable: retry later), -ENOTSUP (static:), -ENOMEM, or
 * another -errno libvirt's failure maps to (the log has libvirt's text).
 */
VPWR_API int vpwr_resolver_refresh(struct vpwr_resolver *r);

/* libvirt's <source mode=...> of a unix channel, seen from the host. */
enum vpwr_channel_source_mode {
	/* mode='bind': QEMU listens on the path; the host connects. */
	VPWR_CHANNEL_SOURCE_BIND = 1,
	/* mode='connect': QEMU connects to the path; the host listens, and
	 * must before the domain starts (QEMU fails to start without a
	 * listener unless the channel has <reconnect enabled='yes'/>). */
	VPWR_CHANNEL_SOURCE_CONNECT = 2,
};

/*
 * One power-agent channel of a domain, as vpwr_resolver_foreach_channel()
 * reports it.  The library fills it; the strings are valid only during the
 * callback.  Fields are only ever appended: `sz` is the size of the struct
 * the library filled, so a caller built against a later header checks
 * `offsetof(struct vpwr_resolver_channel, field) < ch->sz` before reading
 * a newer field.
 */
struct vpwr_resolver_channel {
	size_t sz;
	const char *domain;
	const char *path;          /* <source path=...>: the socket */
	const char *target_name;   /* <target name=...>: the guest's port name */
	int source_mode;           /* enum vpwr_channel_source_mode */
	int running;               /* 1: the domain runs and the channel is
				    * live; 0: shut off, from its config */
	int guest_open;            /* 1: a guest process has the port open;
				    * 0: closed (or never opened since the
				    * domain started); -1: unknown (shut off,
				    * or libvirt does not say).  libvirt: the
				    * live <target state=...>; see
				    * port_events in vpwr_resolver_opts */
	unsigned guest_port_events; /* libvirt with port_events: how many
				    * times any guest port of any domain was
				    * reported opening or closing since the
				    * resolver opened (wraps).  When it moves,
				    * guest_open is a fresh report even if it
				    * reads as before: QEMU's one-second window
				    * can fold an open and a close into one
				    * more "closed".  0 otherwise */
};

/*
 * The power-agent channels of `domain` (NULL: of every domain, in domain
 * order): the <channel type='unix'> elements of its XML whose
 * <target type='virtio' name=...> is "virtio.serial.port.poweragent.N"
 * (N a decimal number, DPDK's name) or starts with "org.libvpwr." and
 * whose <source> has a path.  A running domain's come from its live XML
 * (paths libvirt generated included), a shut-off one's from its config
 * (with running = 0), so that a host can listen on connect-mode paths
 * before the domain starts and connect to bind-mode ones once it runs.
 *
 * fn returns 0 to go on; any other value stops the walk and is returned
 * (return a negative errno to tell it from a count).  Otherwise returns
 * the number of channels reported.  fn must not refresh or free the
 * resolver.  Errors: -VPWR_E_NO_DOMAIN, -ENOTSUP
 * (the scheme knows no channels: static:), -EINVAL.
 *
 * guest_open comes from the state libvirt keeps for every virtio channel
 * of a running QEMU domain (<target ... state='connected'|'disconnected'/>
 * in its live XML), which QEMU's VSERPORT_CHANGE event updates.  QEMU
 * sends that event at most once a second per port (the last state after
 * the window), so an open and a close within a second may show as no
 * change at all (guest_port_events tells that one from nothing).  A change
 * of guest_open or guest_port_events makes vpwr_resolver_refresh() return
 * 1; without port_events nothing wakes the caller for it.
 */
VPWR_API int vpwr_resolver_foreach_channel(
	struct vpwr_resolver *r, const char *domain,
	int (*fn)(const struct vpwr_resolver_channel *ch, void *userdata),
	void *userdata);

/*
 * One network interface of a domain, as vpwr_resolver_foreach_interface()
 * reports it.  The library fills it; the strings are valid only during the
 * callback.  Fields are only ever appended: `sz` is the size of the struct
 * the library filled, so a caller built against a later header checks
 * `offsetof(struct vpwr_resolver_interface, field) < ifc->sz` before
 * reading a newer field.
 */
struct vpwr_resolver_interface {
	size_t sz;
	const char *domain;
	uint8_t mac[6];            /* the guest's MAC; all zero: unknown (a
				    * PCI device passed with <hostdev>) */
	const char *type;          /* libvirt's interface type: "network",
				    * "bridge", "direct", "hostdev",
				    * "ethernet"...; "hostdev" too for a bare
				    * <hostdev>; NULL if the scheme does not
				    * say */
	const char *target_dev;    /* the host netdev (<target dev=...>: a
				    * tap, a macvtap), live only; NULL if
				    * none */
	const char *pci_addr;      /* a passed-through PCI function (a VF):
				    * "DDDD:BB:SS.F", lower case; NULL if
				    * none */
	int running;               /* 1: the domain runs and this is its live
				    * definition; 0: shut off, from its
				    * config */
};

/*
 * The network interfaces of `domain` (NULL: of every domain, in domain
 * order), in the order of the domain's definition.
 *
 * libvirt: every <devices><interface> of the domain's XML (live for a
 * running domain, the config for a shut-off one: no target_dev then), with
 * its <mac address>, its type, <target dev> and, for type='hostdev', the
 * PCI address of its <source><address type='pci'>.  A
 * <hostdev mode='subsystem' type='pci'> (a VF passed without an
 * <interface>: libvirt knows no MAC for it) is reported too, after the
 * interfaces, with an all-zero MAC, type "hostdev" and its PCI address;
 * it may be any PCI device, not only a NIC: the caller checks.
 * static: the domain's optional "interfaces" array (resolver_static.c);
 * a domain without one gives -ENOTSUP (the file does not say), an empty
 * one 0.
 *
 * fn returns 0 to go on; any other value stops the walk and is returned
 * (return a negative errno to tell it from a count).  Otherwise returns
 * the number of interfaces reported.  fn must not refresh or free the
 * resolver.  Errors: -VPWR_E_NO_DOMAIN, -ENOTSUP (the scheme, or the
 * static file for this domain, knows no interfaces), -EINVAL.
 */
VPWR_API int vpwr_resolver_foreach_interface(
	struct vpwr_resolver *r, const char *domain,
	int (*fn)(const struct vpwr_resolver_interface *ifc, void *userdata),
	void *userdata);

#ifdef __cplusplus
}
#endif
#endif
