/* SPDX-License-Identifier: MIT */
/*
 * The operator's control interface: one JSON object per line in, one per
 * line out (docs/CONTROL.md).  vpwr_host_control() answers a request in
 * process; host.c serves the same requests on a control socket.
 *
 *   {"cmd":"domains"}   {"cmd":"channels"}   {"cmd":"cpus"}   {"cmd":"stats"}
 *   {"cmd":"set-bounds","pcpu":N,"min_khz":A,"max_khz":B}
 *   {"cmd":"set-bounds","domain":"vm1","min_khz":A,"max_khz":B}
 *   {"cmd":"add-channel","domain":"vm1","uri":"...","connect":false}
 *   {"cmd":"remove-channel","id":N}   {"cmd":"remove-channel","uri":"..."}
 *
 * Replies: {"ok":true,...} or {"ok":false,"error":"VPWR_E_...","errno":N,
 * "message":"..."}.
 */
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "host_internal.h"
#include "libvpwr/transport.h"

static const char *const kind_names[] = { "", "TIME", "TRAFFIC", "WORKLOAD",
					  "BRANCH_RATIO" };
static const char *const hour_names[] = { "other", "busy", "quiet",
					  "traffic" };
static const char *const level_names[] = { "none", "min", "medium", "max" };

static json_t *error_reply(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static json_t *error_reply(int err, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return json_pack("{s:b, s:s, s:i, s:s}", "ok", 0, "error",
			 vpwr_strerror_name(err), "errno", -err, "message", msg);
}

static json_t *request_json(const struct vcpu_request *r)
{
	json_t *o = json_object();

	if (!o)
		return NULL;
	if (r->hi_khz) {
		json_object_set_new(o, "min_khz", json_integer(r->lo_khz));
		json_object_set_new(o, "max_khz", json_integer(r->hi_khz));
	}
	if (r->turbo >= 0)
		json_object_set_new(o, "turbo", json_boolean(r->turbo));
	if (r->epp >= 0)
		json_object_set_new(o, "epp", json_integer(r->epp));
	return o;
}

/* Where the policies' evaluation stands (docs/POLICIES.md). */
static void evaluation_json(const struct host_domain *d, json_t *o)
{
	static const char *const keys[2] = { "traffic", "time_traffic" };

	if (d->policy_mask & (1u << VPWR_POLICY_TIME))
		json_object_set_new(o, "hour", json_string(hour_names[d->hour_class]));
	for (int k = 0; k < 2; k++) {
		const struct traffic_state *ts = &d->traffic[k];

		if (ts->sampling)
			json_object_set_new(
				o, keys[k],
				json_pack("{s:I, s:s}", "pps", (json_int_t)ts->pps,
					  "level", level_names[ts->level]));
	}
	if (d->grace_due_ns) {
		uint64_t now = vpwr_now_ns();

		json_object_set_new(
			o, "grace_ms_left",
			json_integer(d->grace_due_ns > now
					     ? (json_int_t)((d->grace_due_ns - now) / 1000000u)
					     : 0));
	}
}

static json_t *cmd_domains(struct vpwr_host *h)
{
	json_t *arr = json_array();

	for (const struct host_domain *d = h->domains; d; d = d->next) {
		json_t *vcpus = json_array(), *pols = json_array();
		json_t *o = json_pack("{s:s, s:i, s:i, s:o, s:o}", "name",
				      d->name, "nr_vcpus", d->nr_vcpus,
				      "channels", d->nr_channels, "vcpus",
				      vcpus, "policies", pols);

		if (!o)
			continue;
		/* Its wishes count for nothing while it does not run. */
		if (!host_domain_running(h, d->name))
			json_object_set_new(o, "running", json_false());
		if (d->bound_min || d->bound_max)
			json_object_set_new(o, "bounds",
					    json_pack("{s:i, s:i}", "min_khz",
						      d->bound_min, "max_khz",
						      d->bound_max));
		for (unsigned k = 1; k < VPWR_ARRAY_SIZE(kind_names); k++)
			if (d->policy_mask & (1u << k))
				json_array_append_new(pols,
						      json_string(kind_names[k]));
		evaluation_json(d, o);
		for (unsigned v = 0; v < d->nr_vcpus; v++) {
			struct vpwr_cpuset set;
			char list[256] = "";

			if (vpwr_resolver_lookup(h->resolver, d->name, v,
						 &set) == 0)
				vpwr_cpuset_format(&set, list, sizeof(list));
			json_array_append_new(
				vcpus, json_pack("{s:i, s:s, s:o, s:o}", "vcpu",
						 v, "pcpus", list, "request",
						 request_json(&d->req[v]),
						 "policy",
						 request_json(&d->pol[v])));
			if (d->policy_mask & (1u << VPWR_POLICY_BRANCH_RATIO))
				json_object_set_new(
					json_array_get(vcpus, v), "branch_level",
					json_string(level_names[d->branch[v].level]));
		}
		json_array_append_new(arr, o);
	}
	return json_pack("{s:b, s:o}", "ok", 1, "domains", arr);
}

static void channel_json(const struct host_channel_info *ci, void *ud)
{
	json_t *o = json_pack("{s:i, s:s, s:s, s:s, s:b, s:b, s:b, s:I}",
			      "id", ci->id, "domain", ci->domain, "transport",
			      ci->scheme, "codec",
			      ci->codec ? ci->codec : "", "notify", ci->notify,
			      "connector", ci->connector, "guest_closed",
			      ci->guest_closed, "tx_queued",
			      (json_int_t)ci->tx_queued);

	if (!o)
		return;
	if (ci->peer.has_cred)
		json_object_set_new(o, "peer",
				    json_pack("{s:i, s:i, s:i}", "pid",
					      ci->peer.pid, "uid",
					      (json_int_t)ci->peer.uid, "gid",
					      (json_int_t)ci->peer.gid));
	else if (ci->peer.cid)
		json_object_set_new(o, "peer", json_pack("{s:I}", "cid",
							 (json_int_t)ci->peer.cid));
	json_array_append_new(ud, o);
}

static json_t *cmd_channels(struct vpwr_host *h)
{
	json_t *arr = json_array();

	host_foreach_channel(h, channel_json, arr);
	return json_pack("{s:b, s:o}", "ok", 1, "channels", arr);
}

static json_t *cmd_cpus(struct vpwr_host *h)
{
	json_t *arr = json_array();

	for (unsigned p = 0; p < h->nr_pcpus; p++) {
		struct vpwr_host_cpu_info ci;
		json_t *o;

		if (vpwr_host_cpu_info(h, p, &ci) < 0)
			continue;
		o = json_pack("{s:i, s:I, s:I, s:I, s:b, s:b, s:i, s:s}",
			      "pcpu", p, "cur_khz", (json_int_t)ci.cur_khz,
			      "min_khz", (json_int_t)ci.min_khz, "max_khz",
			      (json_int_t)ci.max_khz, "turbo", ci.turbo,
			      "managed", ci.managed, "requests",
			      ci.nr_requests, "winner", ci.winner);
		if (o && (h->pcpu[p].bound_min || h->pcpu[p].bound_max))
			json_object_set_new(
				o, "bounds",
				json_pack("{s:I, s:I}", "min_khz",
					  (json_int_t)h->pcpu[p].bound_min,
					  "max_khz",
					  (json_int_t)h->pcpu[p].bound_max));
		/* CPUs sharing a cpufreq policy are decided together. */
		if (o && vpwr_cpuset_count(&h->pcpu[p].group) > 1) {
			char list[1024];

			vpwr_cpuset_format(&h->pcpu[p].group, list,
					   sizeof(list));
			json_object_set_new(o, "group", json_string(list));
		}
		json_array_append_new(arr, o);
	}
	return json_pack("{s:b, s:s, s:o}", "ok", 1, "backend",
			 vpwr_backend_name(h->backend), "cpus", arr);
}

static json_t *cmd_stats(struct vpwr_host *h)
{
	const struct host_stats *st = &h->stats;

	return json_pack("{s:b, s:I, s:I, s:I, s:I, s:I, s:i}", "ok", 1,
			 "requests", (json_int_t)st->requests, "refused",
			 (json_int_t)st->refused, "channels_opened",
			 (json_int_t)st->channels_opened, "channels_reset",
			 (json_int_t)st->channels_reset, "notifications",
			 (json_int_t)st->notifications, "channels",
			 h->nr_channels);
}

/* An unsigned 32-bit member, 0 when absent. */
static int get_u32(json_t *req, const char *key, uint32_t *out)
{
	json_t *v = json_object_get(req, key);

	*out = 0;
	if (!v)
		return 0;
	if (!json_is_integer(v) || json_integer_value(v) < 0 ||
	    json_integer_value(v) > UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)json_integer_value(v);
	return 0;
}

static json_t *cmd_set_bounds(struct vpwr_host *h, json_t *req)
{
	json_t *dom = json_object_get(req, "domain");
	json_t *cpu = json_object_get(req, "pcpu");
	uint32_t lo, hi, pcpu;
	int rc;

	if (get_u32(req, "min_khz", &lo) || get_u32(req, "max_khz", &hi))
		return error_reply(-EINVAL, "min_khz and max_khz must be "
				   "unsigned integers (kHz)");
	if (!dom == !cpu)
		return error_reply(-EINVAL, "set-bounds needs exactly one of "
				   "\"pcpu\" and \"domain\"");
	if (dom) {
		if (!json_is_string(dom))
			return error_reply(-EINVAL, "\"domain\" must be a string");
		rc = vpwr_host_set_domain_bounds(h, json_string_value(dom), lo,
						 hi);
	} else {
		if (get_u32(req, "pcpu", &pcpu))
			return error_reply(-EINVAL, "\"pcpu\" must be an "
					   "unsigned integer");
		rc = vpwr_host_set_bounds(h, pcpu, lo, hi);
	}
	if (rc < 0)
		return error_reply(rc, "set-bounds: %s", vpwr_strerror(rc));
	return json_pack("{s:b}", "ok", 1);
}

static json_t *cmd_add_channel(struct vpwr_host *h, json_t *req)
{
	json_t *dom = json_object_get(req, "domain");
	json_t *uri = json_object_get(req, "uri");
	json_t *conn = json_object_get(req, "connect");
	int rc;

	if ((dom && !json_is_string(dom)) || !json_is_string(uri) ||
	    (conn && !json_is_boolean(conn)))
		return error_reply(-EINVAL, "add-channel needs \"uri\" (a "
				   "string), \"domain\" (a string; absent: by "
				   "vsock CID) and optionally \"connect\" (a "
				   "boolean)");
	if (json_is_true(conn)) {
		if (!dom)
			return error_reply(-EINVAL, "a connecting channel "
					   "needs a domain");
		rc = vpwr_host_connect(h, json_string_value(dom),
				       json_string_value(uri));
	} else {
		rc = vpwr_host_listen(h, dom ? json_string_value(dom) : NULL,
				      json_string_value(uri));
	}
	if (rc < 0)
		return error_reply(rc, "%s: %s", json_string_value(uri),
				   vpwr_strerror(rc));
	return json_pack("{s:b}", "ok", 1);
}

static json_t *cmd_remove_channel(struct vpwr_host *h, json_t *req)
{
	json_t *id = json_object_get(req, "id");
	json_t *uri = json_object_get(req, "uri");
	int rc;

	if (json_is_string(uri) && !id) {
		rc = vpwr_host_detach(h, json_string_value(uri));
		if (rc < 0)
			return error_reply(rc, "%s: nothing serves it",
					   json_string_value(uri));
		return json_pack("{s:b, s:i}", "ok", 1, "detached", rc);
	}
	if (!json_is_integer(id) || json_integer_value(id) <= 0 ||
	    json_integer_value(id) > INT32_MAX || uri)
		return error_reply(-EINVAL, "remove-channel needs \"id\", a "
				   "channel id, or \"uri\", a URI the host "
				   "listens on or connects to");
	rc = vpwr_host_remove_channel(h, (int)json_integer_value(id));
	if (rc < 0)
		return error_reply(rc, "channel %lld: %s",
				   (long long)json_integer_value(id),
				   vpwr_strerror(rc));
	return json_pack("{s:b}", "ok", 1);
}

static json_t *dispatch(struct vpwr_host *h, const char *text, size_t len)
{
	json_error_t jerr;
	json_t *req, *out;
	const char *cmd;

	req = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
	if (!req)
		return error_reply(-VPWR_E_PROTO, "not JSON: %s (column %d)",
				   jerr.text, jerr.column);
	cmd = json_string_value(json_object_get(req, "cmd"));
	if (!json_is_object(req) || !cmd)
		out = error_reply(-VPWR_E_PROTO, "a request is an object with "
				  "\"cmd\"");
	else if (!strcmp(cmd, "domains"))
		out = cmd_domains(h);
	else if (!strcmp(cmd, "channels"))
		out = cmd_channels(h);
	else if (!strcmp(cmd, "cpus"))
		out = cmd_cpus(h);
	else if (!strcmp(cmd, "stats"))
		out = cmd_stats(h);
	else if (!strcmp(cmd, "set-bounds"))
		out = cmd_set_bounds(h, req);
	else if (!strcmp(cmd, "add-channel"))
		out = cmd_add_channel(h, req);
	else if (!strcmp(cmd, "remove-channel"))
		out = cmd_remove_channel(h, req);
	else
		out = error_reply(-EOPNOTSUPP, "unknown command \"%.64s\" "
				  "(domains, channels, cpus, stats, "
				  "set-bounds, add-channel, remove-channel)",
				  cmd);
	json_decref(req);
	return out;
}

int host_control_text(struct vpwr_host *h, const char *text, size_t len,
		      char **reply)
{
	json_t *out = dispatch(h, text, len);
	int ok;

	*reply = NULL;
	if (!out)
		return -ENOMEM;
	ok = json_is_true(json_object_get(out, "ok")) ? 0 :
		-(int)json_integer_value(json_object_get(out, "errno"));
	*reply = json_dumps(out, JSON_COMPACT);
	json_decref(out);
	if (!*reply)
		return -ENOMEM;
	return ok;
}

VPWR_API int vpwr_host_control(struct vpwr_host *h, const char *request,
			       char **reply)
{
	if (reply)
		*reply = NULL;
	if (!h || !request || !reply)
		return -EINVAL;
	return host_control_text(h, request, strlen(request), reply);
}
