/* SPDX-License-Identifier: MIT */
/*
 * The "libvirt:URI" resolver: a read-only libvirt connection, a cache of
 * every domain (resolver_libvirt_read.c), and change notification.
 *
 * Threads.  libvirt calls event and close callbacks from whatever thread
 * runs its event loop, which the application owns (the library never
 * registers one: that is process-wide state).  Those callbacks touch only
 * `struct notify`: an atomic flag and an eventfd.  Everything else, the
 * re-read included, happens in vpwr_resolver_refresh() on the caller's
 * thread.  libvirt may call an event callback after its deregistration
 * has returned (one already being dispatched), and frees it later through
 * its free callback, so `struct notify` is reference-counted: one
 * reference for the resolver, one per registered event callback.  The
 * close callback needs none: libvirt runs it and its unregistration under
 * one lock.
 *
 * Port events (opts.port_events).  QEMU's VSERPORT_CHANGE (a guest opened
 * or closed a virtio-serial port) reaches a libvirt client only as a raw
 * QEMU monitor event (libvirt-qemu), whose registration libvirt refuses on
 * a read-only connection.  So for that one event the resolver opens a
 * second, read-write connection to the same URI; everything else is still
 * read on the read-only one.  Its callback, like the others, only wakes
 * the change fd: refresh() reads the port's state from the live XML,
 * where libvirt keeps it.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>

#include "resolver_libvirt.h"

struct notify {
	atomic_int refs;
	atomic_bool lost;          /* the connection closed under us */
	atomic_uint port_events;   /* VSERPORT_CHANGE events seen */
	int efd;                   /* readable: refresh() is worth calling */
};

/* The domain events after which the mapping may differ. */
enum { EV_LIFECYCLE, EV_TUNABLE, EV_DEVICE_ADDED, EV_DEVICE_REMOVED, EV_NR };

struct libvirt_resolver {
	char *uri;                 /* as libvirt resolved it: reconnections */
	virConnectPtr conn;        /* NULL while reconnection fails */
	virConnectPtr rw;          /* port events only, or NULL */
	int port_event_id;         /* -1: not registered */
	bool said_no_port_events;  /* the warning, once per handle */
	unsigned port_events;      /* notify->port_events at the last read */
	struct notify *notify;
	int event_ids[EV_NR];      /* -1: not registered */
	bool close_cb;
	bool events;               /* at least one event registered */
	bool said_no_events;       /* the info message, once per handle */
	struct vpwr_lv_snapshot snap;
};

/* ------------------------------------------------------------ notify */

static struct notify *notify_new(void)
{
	struct notify *n = calloc(1, sizeof(*n));

	if (!n)
		return NULL;
	n->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (n->efd < 0) {
		free(n);
		return NULL;
	}
	atomic_init(&n->refs, 1);
	atomic_init(&n->lost, false);
	atomic_init(&n->port_events, 0);
	return n;
}

/* Also libvirt's free callback for the event registrations. */
static void notify_unref(void *opaque)
{
	struct notify *n = opaque;

	if (atomic_fetch_sub(&n->refs, 1) == 1) {
		close(n->efd);
		free(n);
	}
}

static void notify_wake(struct notify *n)
{
	uint64_t one = 1;

	/* EAGAIN means the counter is full: readable already. */
	while (write(n->efd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

static void notify_drain(struct notify *n)
{
	uint64_t v;

	while (read(n->efd, &v, sizeof(v)) < 0 && errno == EINTR)
		;
}

/* --------------------------------------------- libvirt's callbacks */

static int on_lifecycle(virConnectPtr conn, virDomainPtr dom, int event,
			int detail, void *opaque)
{
	(void)conn, (void)dom, (void)event, (void)detail;
	notify_wake(opaque);
	return 0;
}

static void on_tunable(virConnectPtr conn, virDomainPtr dom,
		       virTypedParameterPtr params, int nparams, void *opaque)
{
	(void)conn, (void)dom, (void)params, (void)nparams;
	notify_wake(opaque);
}

static void on_device(virConnectPtr conn, virDomainPtr dom,
		      const char *alias, void *opaque)
{
	(void)conn, (void)dom, (void)alias;
	notify_wake(opaque);
}

static void on_port(virConnectPtr conn, virDomainPtr dom, const char *event,
		    long long seconds, unsigned int micros,
		    const char *details, void *opaque)
{
	struct notify *n = opaque;

	(void)conn, (void)dom, (void)event, (void)seconds, (void)micros,
		(void)details;
	atomic_fetch_add(&n->port_events, 1);
	notify_wake(n);
}

static void on_close(virConnectPtr conn, int reason, void *opaque)
{
	struct notify *n = opaque;

	(void)conn, (void)reason;
	atomic_store(&n->lost, true);
	notify_wake(n);
}

/* Errors on our own connection go to the log at the call site, where we
 * know what failed, instead of libvirt's default handler (stderr). */
static void swallow_error(void *userdata, virErrorPtr err)
{
	(void)userdata, (void)err;
}

static const struct {
	int id;
	virConnectDomainEventGenericCallback cb;
	const char *name;
} events[EV_NR] = {
	[EV_LIFECYCLE] = { VIR_DOMAIN_EVENT_ID_LIFECYCLE,
			   VIR_DOMAIN_EVENT_CALLBACK(on_lifecycle),
			   "lifecycle" },
	[EV_TUNABLE] = { VIR_DOMAIN_EVENT_ID_TUNABLE,
			 VIR_DOMAIN_EVENT_CALLBACK(on_tunable), "tunable" },
	[EV_DEVICE_ADDED] = { VIR_DOMAIN_EVENT_ID_DEVICE_ADDED,
			      VIR_DOMAIN_EVENT_CALLBACK(on_device),
			      "device-added" },
	[EV_DEVICE_REMOVED] = { VIR_DOMAIN_EVENT_ID_DEVICE_REMOVED,
				VIR_DOMAIN_EVENT_CALLBACK(on_device),
				"device-removed" },
};

/* -------------------------------------------------------- connection */

/* Say once per handle why there are no port events. */
static void no_port_events(struct vpwr_resolver *r, const char *why)
{
	struct libvirt_resolver *lv = r->priv;

	if (lv->said_no_port_events)
		return;
	lv->said_no_port_events = true;
	log_warn(&r->log, "libvirt: %s: no port events (%s): a guest closing "
		 "its port is seen only at the next refresh", lv->uri, why);
}

/*
 * VSERPORT_CHANGE on a read-write connection of our own (a read-only one
 * is refused it).  Failure leaves the resolver as it was, without them.
 */
static void subscribe_ports(struct vpwr_resolver *r)
{
	struct libvirt_resolver *lv = r->priv;
	char why[320];

	if (!lv->events) {
		no_port_events(r, "no libvirt event loop");
		return;
	}
	lv->rw = virConnectOpen(lv->uri);
	if (!lv->rw) {
		snprintf(why, sizeof(why), "a read-write connection is "
			 "refused: %s", vpwr_lv_error_message());
		no_port_events(r, why);
		return;
	}
	virConnSetErrorFunc(lv->rw, NULL, swallow_error);
	atomic_fetch_add(&lv->notify->refs, 1);
	lv->port_event_id = virConnectDomainQemuMonitorEventRegister(
		lv->rw, NULL, "VSERPORT_CHANGE", on_port, lv->notify,
		notify_unref, 0);
	if (lv->port_event_id < 0) {
		/* A failed registration never calls the free callback. */
		notify_unref(lv->notify);
		snprintf(why, sizeof(why), "VSERPORT_CHANGE: %s",
			 vpwr_lv_error_message());
		virConnectClose(lv->rw);
		lv->rw = NULL;
		no_port_events(r, why);
		return;
	}
	log_info(&r->log, "libvirt: %s: port events on", lv->uri);
}

static void unsubscribe_ports(struct libvirt_resolver *lv)
{
	if (!lv->rw)
		return;
	if (lv->port_event_id >= 0)
		virConnectDomainQemuMonitorEventDeregister(lv->rw,
							   lv->port_event_id);
	lv->port_event_id = -1;
	virConnectClose(lv->rw);
	lv->rw = NULL;
}

/*
 * Subscribe to the events and the close callback.  Registration fails when
 * the application has registered no event loop: that is how we find out.
 */
static void subscribe(struct vpwr_resolver *r)
{
	struct libvirt_resolver *lv = r->priv;
	char why[256] = "";
	int nr = 0;

	for (int i = 0; i < EV_NR; i++) {
		atomic_fetch_add(&lv->notify->refs, 1);
		lv->event_ids[i] = virConnectDomainEventRegisterAny(
			lv->conn, NULL, events[i].id, events[i].cb, lv->notify,
			notify_unref);
		if (lv->event_ids[i] >= 0) {
			nr++;
			continue;
		}
		/* A failed registration never calls the free callback. */
		notify_unref(lv->notify);
		if (!*why)
			snprintf(why, sizeof(why), "%s event: %s",
				 events[i].name, vpwr_lv_error_message());
	}
	lv->events = nr > 0;
	if (nr && nr < EV_NR)
		log_info(&r->log, "libvirt: %s: some events unavailable (%s)",
			 lv->uri, why);
	if (!nr && !lv->said_no_events) {
		log_info(&r->log, "libvirt: %s: no domain events (%s): has the "
			 "application registered a libvirt event loop? Changes "
			 "are seen only when vpwr_resolver_refresh() is called",
			 lv->uri, why);
		lv->said_no_events = true;
	}
	lv->close_cb = !virConnectRegisterCloseCallback(lv->conn, on_close,
							lv->notify, NULL);
	if (r->port_events)
		subscribe_ports(r);
}

static void unsubscribe(struct libvirt_resolver *lv)
{
	unsubscribe_ports(lv);
	if (lv->close_cb)
		virConnectUnregisterCloseCallback(lv->conn, on_close);
	lv->close_cb = false;
	for (int i = 0; i < EV_NR; i++) {
		/* On failure libvirt keeps the callback, and our reference,
		 * until the connection goes. */
		if (lv->event_ids[i] >= 0)
			virConnectDomainEventDeregisterAny(lv->conn,
							   lv->event_ids[i]);
		lv->event_ids[i] = -1;
	}
	lv->events = false;
}

static void disconnect(struct libvirt_resolver *lv)
{
	if (!lv->conn)
		return;
	unsubscribe(lv);
	virConnectClose(lv->conn);
	lv->conn = NULL;
}

static int connect_uri(struct vpwr_resolver *r, const char *uri,
		       virConnectPtr *out)
{
	/* Read-only: we only look, and libvirt's read-only socket is open
	 * to more users than the read-write one. */
	virConnectPtr conn = virConnectOpenReadOnly(uri);

	if (!conn) {
		int err = vpwr_lv_error_code(-ENOTCONN);

		log_err(&r->log, "libvirt: cannot connect to %s: %s",
			uri ? uri : "the default URI", vpwr_lv_error_message());
		return err;
	}
	virConnSetErrorFunc(conn, NULL, swallow_error);
	*out = conn;
	return 0;
}

/* Take over `conn` (one reference), remember its URI, subscribe. */
static int attach(struct vpwr_resolver *r, virConnectPtr conn)
{
	struct libvirt_resolver *lv = r->priv;
	char *uri = virConnectGetURI(conn);

	lv->conn = conn;
	if (uri) {
		free(lv->uri);
		lv->uri = uri;
	} else if (!lv->uri) {
		log_err(&r->log, "libvirt: cannot read the connection's URI: "
			"%s", vpwr_lv_error_message());
		return vpwr_lv_error_code(-EIO);
	}
	subscribe(r);
	return 0;
}

static int reconnect(struct vpwr_resolver *r)
{
	struct libvirt_resolver *lv = r->priv;
	virConnectPtr conn;
	bool had_events = lv->events;

	disconnect(lv);
	atomic_store(&lv->notify->lost, false);
	if (connect_uri(r, lv->uri, &conn))
		return -ENOTCONN;
	if (attach(r, conn)) {
		disconnect(lv);
		return -ENOTCONN;
	}
	log_notice(&r->log, "libvirt: reconnected to %s%s", lv->uri,
		   had_events && !lv->events ? " (without events now)" : "");
	return 0;
}

static bool connection_lost(struct libvirt_resolver *lv)
{
	return !lv->conn || atomic_exchange(&lv->notify->lost, false) ||
	       virConnectIsAlive(lv->conn) <= 0;
}

/* ------------------------------------------------------------- ops */

static void lv_free(struct vpwr_resolver *r)
{
	struct libvirt_resolver *lv = r->priv;

	if (!lv)
		return;
	disconnect(lv);
	vpwr_lv_snapshot_free(&lv->snap);
	free(lv->uri);
	if (lv->notify)
		notify_unref(lv->notify);
	free(lv);
	r->priv = NULL;
}

static int lv_alloc(struct vpwr_resolver *r)
{
	struct libvirt_resolver *lv = calloc(1, sizeof(*lv));

	if (!lv)
		return -ENOMEM;
	r->priv = lv;
	for (int i = 0; i < EV_NR; i++)
		lv->event_ids[i] = -1;
	lv->port_event_id = -1;
	lv->notify = notify_new();
	return lv->notify ? 0 : -ENOMEM;
}

/* The first read: a resolver that cannot read libvirt does not open. */
static int start(struct vpwr_resolver *r, virConnectPtr conn)
{
	struct libvirt_resolver *lv = r->priv;
	int err = attach(r, conn);

	if (err)
		return err;
	err = vpwr_lv_snapshot_read(lv->conn, &r->log, &lv->snap);
	if (err)
		return err;
	log_info(&r->log, "libvirt: %s: %zu domains, events %s", lv->uri,
		 lv->snap.nr, lv->events ? "on" : "off");
	return 0;
}

static int lv_open(struct vpwr_resolver *r, const char *rest)
{
	virConnectPtr conn;
	int err = lv_alloc(r);

	if (err)
		return err;
	err = connect_uri(r, *rest ? rest : NULL, &conn);
	return err ? err : start(r, conn);
}

static int lv_refresh(struct vpwr_resolver *r)
{
	struct libvirt_resolver *lv = r->priv;
	struct vpwr_lv_snapshot snap = { 0 };
	unsigned port_events;
	bool changed;
	int err;

	/* Emptied first: an event during the read re-arms it. */
	notify_drain(lv->notify);
	/* Before the read: the state read is at least as new as the events
	 * counted. */
	port_events = atomic_load(&lv->notify->port_events);
	for (int attempt = 0;; attempt++) {
		if (connection_lost(lv)) {
			err = reconnect(r);
			if (err)
				return err;
		}
		err = vpwr_lv_snapshot_read(lv->conn, &r->log, &snap);
		if (!err)
			break;
		/* Failed because libvirt went away: reconnect, read again. */
		if (attempt || virConnectIsAlive(lv->conn) > 0)
			return err;
	}
	changed = !vpwr_lv_snapshot_equal(&lv->snap, &snap) ||
		  port_events != lv->port_events;
	lv->port_events = port_events;
	vpwr_lv_snapshot_free(&lv->snap);
	lv->snap = snap;
	if (changed)
		log_debug(&r->log, "libvirt: %s: the mapping changed (%zu "
			  "domains)", lv->uri, lv->snap.nr);
	return changed;
}

static int lv_change_fd(struct vpwr_resolver *r)
{
	return ((struct libvirt_resolver *)r->priv)->notify->efd;
}

static const struct vpwr_lv_domain *find(struct vpwr_resolver *r,
					 const char *name)
{
	return vpwr_lv_snapshot_find(
		&((struct libvirt_resolver *)r->priv)->snap, name);
}

static int lv_nr_vcpus(struct vpwr_resolver *r, const char *domain)
{
	const struct vpwr_lv_domain *d = find(r, domain);

	return d ? (int)d->nr_vcpus : -VPWR_E_NO_DOMAIN;
}

static int lv_lookup(struct vpwr_resolver *r, const char *domain,
		     unsigned vcpu, struct vpwr_cpuset *pcpus)
{
	const struct vpwr_lv_domain *d = find(r, domain);

	if (!d)
		return -VPWR_E_NO_DOMAIN;
	if (vcpu >= d->nr_vcpus)
		return -VPWR_E_VCPU_RANGE;
	if (!vpwr_cpuset_count(&d->pins[vcpu]))
		return -VPWR_E_NOT_PINNED;
	*pcpus = d->pins[vcpu];
	return 0;
}

static int lv_foreach_domain(struct vpwr_resolver *r,
			     void (*fn)(const char *domain, void *userdata),
			     void *userdata)
{
	const struct vpwr_lv_snapshot *s =
		&((struct libvirt_resolver *)r->priv)->snap;

	for (size_t i = 0; i < s->nr; i++)
		fn(s->domains[i].name, userdata);
	return (int)s->nr;
}

static int lv_domain_cid(struct vpwr_resolver *r, const char *domain,
			 uint32_t *cid)
{
	const struct vpwr_lv_domain *d = find(r, domain);

	if (!d)
		return -VPWR_E_NO_DOMAIN;
	if (!d->cid)
		return -ENOENT;
	*cid = d->cid;
	return 0;
}

static int lv_domain_running(struct vpwr_resolver *r, const char *domain)
{
	const struct vpwr_lv_domain *d = find(r, domain);

	return d ? d->running : -VPWR_E_NO_DOMAIN;
}

/* Report d's channels; *count grows.  Returns fn's non-zero value. */
static int report_channels(const struct libvirt_resolver *lv,
			   const struct vpwr_lv_domain *d,
			   int (*fn)(const struct vpwr_resolver_channel *ch,
				     void *userdata),
			   void *userdata, int *count)
{
	for (size_t i = 0; i < d->nr_channels; i++) {
		struct vpwr_resolver_channel ch = {
			.sz = sizeof(ch),
			.domain = d->name,
			.path = d->channels[i].path,
			.target_name = d->channels[i].target_name,
			.source_mode = d->channels[i].source_mode,
			.running = d->running,
			.guest_open = d->running ? d->channels[i].guest_open
						 : -1,
			.guest_port_events = lv->port_events,
		};
		int rc = fn(&ch, userdata);

		if (rc)
			return rc;
		(*count)++;
	}
	return 0;
}

static int lv_foreach_channel(struct vpwr_resolver *r, const char *domain,
			      int (*fn)(const struct vpwr_resolver_channel *ch,
					void *userdata),
			      void *userdata)
{
	const struct vpwr_lv_snapshot *s =
		&((struct libvirt_resolver *)r->priv)->snap;
	int count = 0, rc = 0;

	if (domain) {
		const struct vpwr_lv_domain *d = find(r, domain);

		if (!d)
			return -VPWR_E_NO_DOMAIN;
		rc = report_channels(r->priv, d, fn, userdata, &count);
	}
	for (size_t i = 0; !domain && !rc && i < s->nr; i++)
		rc = report_channels(r->priv, &s->domains[i], fn, userdata,
				     &count);
	return rc ? rc : count;
}

/* Report d's interfaces; *count grows.  Returns fn's non-zero value. */
static int report_interfaces(const struct vpwr_lv_domain *d,
			     int (*fn)(const struct vpwr_resolver_interface *,
				       void *userdata),
			     void *userdata, int *count)
{
	for (size_t i = 0; i < d->nr_interfaces; i++) {
		const struct vpwr_lv_interface *li = &d->interfaces[i];
		struct vpwr_resolver_interface ifc = {
			.sz = sizeof(ifc),
			.domain = d->name,
			.type = li->type,
			.target_dev = li->target_dev,
			.pci_addr = li->pci_addr,
			.running = d->running,
		};
		int rc;

		memcpy(ifc.mac, li->mac, sizeof(ifc.mac));
		rc = fn(&ifc, userdata);
		if (rc)
			return rc;
		(*count)++;
	}
	return 0;
}

static int lv_foreach_interface(
	struct vpwr_resolver *r, const char *domain,
	int (*fn)(const struct vpwr_resolver_interface *ifc, void *userdata),
	void *userdata)
{
	const struct vpwr_lv_snapshot *s =
		&((struct libvirt_resolver *)r->priv)->snap;
	int count = 0, rc = 0;

	if (domain) {
		const struct vpwr_lv_domain *d = find(r, domain);

		if (!d)
			return -VPWR_E_NO_DOMAIN;
		rc = report_interfaces(d, fn, userdata, &count);
	}
	for (size_t i = 0; !domain && !rc && i < s->nr; i++)
		rc = report_interfaces(&s->domains[i], fn, userdata, &count);
	return rc ? rc : count;
}

const struct vpwr_resolver_ops vpwr_resolver_libvirt_ops = {
	.scheme = "libvirt",
	.open = lv_open,
	.free = lv_free,
	.nr_vcpus = lv_nr_vcpus,
	.lookup = lv_lookup,
	.foreach_domain = lv_foreach_domain,
	.domain_cid = lv_domain_cid,
	.domain_running = lv_domain_running,
	.change_fd = lv_change_fd,
	.refresh = lv_refresh,
	.foreach_channel = lv_foreach_channel,
	.foreach_interface = lv_foreach_interface,
};

/* ------------------------------------------------ test entry points */

int vpwr_resolver_libvirt_adopt(virConnectPtr conn,
				const struct vpwr_resolver_opts *opts,
				struct vpwr_resolver **out)
{
	struct vpwr_resolver_opts o;
	struct vpwr_resolver *r;
	int err;

	if (out)
		*out = NULL;
	if (!conn || !out)
		return -EINVAL;
	err = VPWR_OPTS_LOAD(&o, opts);
	if (err)
		return err;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->ops = &vpwr_resolver_libvirt_ops;
	vpwr_logger_init(&r->log, o.log_fn, o.log_userdata, o.log_level);
	r->port_events = o.port_events != 0;
	err = lv_alloc(r);
	if (!err && virConnectRef(conn) < 0)
		err = -EINVAL;
	/* The caller's connection keeps the caller's error handler. */
	if (!err)
		err = start(r, conn);
	if (err) {
		/* What vpwr_resolver_free() does, without needing resolver.c
		 * in the module. */
		lv_free(r);
		free(r);
		return err;
	}
	*out = r;
	return 0;
}

void vpwr_resolver_libvirt_connection_lost(struct vpwr_resolver *r)
{
	if (r && r->ops == &vpwr_resolver_libvirt_ops && r->priv)
		on_close(NULL, VIR_CONNECT_CLOSE_REASON_ERROR,
			 ((struct libvirt_resolver *)r->priv)->notify);
}
