/* SPDX-License-Identifier: MIT */
/*
 * DPDK's JSON forms, as its vm_power_manager documents them:
 *
 *   {"instruction": {"name": ..., "command": "power", "unit": "SCALE_UP",
 *                    "resource_id": 3}}
 *   {"policy": {"name": ..., "command": "create"|"destroy",
 *               "policy_type": "TIME"|"TRAFFIC"|"WORKLOAD"|"BRANCH_RATIO",
 *               "busy_hours": [...], "quiet_hours": [...],
 *               "core_list": [...], "mac_list": [...],
 *               "avg_packet_thresh": N, "max_packet_thresh": N,
 *               "workload": "HIGH"|"MEDIUM"|"LOW"}}
 *
 * decoded into SCALE, TURBO, POLICY_SET and POLICY_REMOVE.  "name" (the VM)
 * is checked to be a string and then ignored: who is asking comes from the
 * channel, never from the message.
 *
 * DPDK's own parser takes these leniently: wrong types read as 0, unknown
 * keys and a missing command are logged and carried on with defaults, a
 * missing policy_type makes a TIME policy, more than 24 hours or 10 MACs
 * run past its arrays, and "policy" and "instruction" nest in any order.
 * Everything of that kind is refused here, with the place it happened.
 */
#include <stdio.h>

#include "codec_json_internal.h"
#include "internal.h"

/* Units, in DPDK's order (RTE_POWER_SCALE_UP = 1 ...). */
static const struct {
	const char *name;
	uint16_t type;
	uint32_t arg; /* scale op, or turbo enable */
} units[] = {
	{ "SCALE_UP", VPWR_MSG_SCALE, VPWR_SCALE_UP },
	{ "SCALE_DOWN", VPWR_MSG_SCALE, VPWR_SCALE_DOWN },
	{ "SCALE_MAX", VPWR_MSG_SCALE, VPWR_SCALE_MAX },
	{ "SCALE_MIN", VPWR_MSG_SCALE, VPWR_SCALE_MIN },
	{ "ENABLE_TURBO", VPWR_MSG_TURBO, 1 },
	{ "DISABLE_TURBO", VPWR_MSG_TURBO, 0 },
};

static const char *const policy_types[] = {
	[VPWR_POLICY_TIME] = "TIME",
	[VPWR_POLICY_TRAFFIC] = "TRAFFIC",
	[VPWR_POLICY_WORKLOAD] = "WORKLOAD",
	[VPWR_POLICY_BRANCH_RATIO] = "BRANCH_RATIO",
};
static const struct vpwr_json_names policy_type_names = {
	policy_types, VPWR_ARRAY_SIZE(policy_types)
};

static const char *const workloads[] = {
	[VPWR_WORKLOAD_LOW] = "LOW",
	[VPWR_WORKLOAD_MEDIUM] = "MEDIUM",
	[VPWR_WORKLOAD_HIGH] = "HIGH",
};
static const struct vpwr_json_names workload_names = {
	workloads, VPWR_ARRAY_SIZE(workloads)
};

/* Keys each request may hold. */
static const char *const instruction_keys[] = {
	"name", "command", "unit", "resource_id", NULL,
};
static const char *const create_keys[] = {
	"name", "command", "policy_type", "busy_hours", "quiet_hours",
	"core_list", "vcpu_list", "mac_list", "avg_packet_thresh",
	"max_packet_thresh", "workload", NULL,
};
static const char *const destroy_keys[] = {
	"name", "command", "policy_type", "core_list", "vcpu_list", NULL,
};

enum command { CMD_POWER, CMD_CREATE, CMD_DESTROY };

/* DPDK's parser wants lower case; its documentation writes upper case. */
static const char *const commands[][2] = {
	[CMD_POWER] = { "power", "POWER" },
	[CMD_CREATE] = { "create", "CREATE" },
	[CMD_DESTROY] = { "destroy", "DESTROY" },
};

struct ddec {
	const struct vpwr_json_in *in;
	const struct vpwr_jv *obj; /* the inner object */
	size_t off;                /* its offset */
	const char *wrapper;       /* "instruction" or "policy" */
	struct vpwr_msg *m;
};

static size_t at(const struct ddec *d, const char *key)
{
	return vpwr_json_member(d->in, d->off, key);
}

static const struct vpwr_jv *get(const struct ddec *d, const char *key)
{
	return vpwr_jv_get(d->obj, key);
}

static int fail(const struct ddec *d, size_t off, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail(const struct ddec *d, size_t off, const char *fmt, ...)
{
	char text[sizeof(d->in->err->text)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	return vpwr_json_fail(d->in, -VPWR_E_PROTO, off, "%s", text);
}

static int check_keys(const struct ddec *d, const char *const *allowed,
		      const char *what)
{
	const struct vpwr_jv *k;

	vpwr_jv_foreach_key(d->obj, k) {
		size_t i;

		for (i = 0; allowed[i] && strcmp(allowed[i], k->s); i++)
			;
		if (!allowed[i])
			return fail(d, at(d, k->s),
				    "\"%.32s\" has no place in a DPDK %s",
				    k->s, what);
	}
	if (get(d, "core_list") && get(d, "vcpu_list"))
		return fail(d, at(d, "vcpu_list"),
			    "\"core_list\" and \"vcpu_list\" are the same list: give one");
	return 0;
}

static int need(const struct ddec *d, const char *key, const char *what)
{
	if (get(d, key))
		return 0;
	return fail(d, d->off, "a DPDK %s needs \"%s\"", what, key);
}

static int read_command(const struct ddec *d, enum command *cmd)
{
	const struct vpwr_jv *v = get(d, "command");
	const char *s;
	int rc;

	if (!v)
		return fail(d, d->off, "\"%s\" has no \"command\"", d->wrapper);
	rc = vpwr_json_get_string(d->in, v, d->off, "command", &s);
	if (rc)
		return rc;
	for (size_t c = 0; c < VPWR_ARRAY_SIZE(commands); c++) {
		if (strcmp(s, commands[c][0]) && strcmp(s, commands[c][1]))
			continue;
		if ((c == CMD_POWER) != !strcmp(d->wrapper, "instruction"))
			return fail(d, at(d, "command"),
				    "\"command\": \"%s\" does not go in a \"%s\"",
				    s, d->wrapper);
		*cmd = (enum command)c;
		return 0;
	}
	return fail(d, at(d, "command"),
		    "\"command\": \"%.24s\" is not power, create or destroy", s);
}

/* "name" names the VM; the channel already says which VM this is. */
static int skip_name(const struct ddec *d)
{
	const struct vpwr_jv *v = get(d, "name");
	const char *s;

	return v ? vpwr_json_get_string(d->in, v, d->off, "name", &s) : 0;
}

static int decode_instruction(const struct ddec *d)
{
	struct vpwr_msg *m = d->m;
	const struct vpwr_jv *unit;
	const char *s;
	size_t i;
	int rc;

	rc = check_keys(d, instruction_keys, "instruction");
	if (!rc)
		rc = need(d, "unit", "instruction");
	if (!rc)
		rc = need(d, "resource_id", "instruction");
	if (!rc)
		rc = vpwr_json_get_u32(d->in, get(d, "resource_id"),
				       d->off, "resource_id",
				       VPWR_VCPU_NONE - 1, &m->vcpu);
	unit = get(d, "unit");
	if (!rc)
		rc = vpwr_json_get_string(d->in, unit, d->off, "unit", &s);
	if (rc)
		return rc;
	for (i = 0; i < VPWR_ARRAY_SIZE(units) && strcmp(units[i].name, s); i++)
		;
	if (i == VPWR_ARRAY_SIZE(units))
		return fail(d, at(d, "unit"),
			    "\"unit\": \"%.24s\" is not SCALE_UP, SCALE_DOWN, SCALE_MAX, SCALE_MIN, ENABLE_TURBO or DISABLE_TURBO",
			    s);
	m->type = units[i].type;
	if (m->type == VPWR_MSG_SCALE)
		m->u.scale.op = units[i].arg;
	else
		m->u.turbo.enable = units[i].arg;
	return 0;
}

static int read_policy_type(const struct ddec *d, uint32_t *kind)
{
	unsigned k = 0;
	int rc = vpwr_json_get_name(d->in, get(d, "policy_type"),
				    d->off, "policy_type",
				    &policy_type_names, &k);

	*kind = k;
	return rc;
}

/* core_list (DPDK's documented key) or vcpu_list (its guest's option). */
static int read_vcpus(const struct ddec *d, struct vpwr_cpuset *set)
{
	const char *key = get(d, "core_list") ? "core_list" : "vcpu_list";
	const struct vpwr_jv *v = get(d, key);

	return v ? vpwr_json_get_vcpus(d->in, v, d->off, key, set, false)
		 : 0;
}

static int read_traffic(const struct ddec *d, struct vpwr_policy *p)
{
	const struct vpwr_jv *avg = get(d, "avg_packet_thresh");
	const struct vpwr_jv *max = get(d, "max_packet_thresh");
	int rc = 0;

	if (avg)
		rc = vpwr_json_get_u32(d->in, avg, d->off,
				       "avg_packet_thresh", UINT32_MAX,
				       &p->avg_pps);
	if (!rc && max)
		rc = vpwr_json_get_u32(d->in, max, d->off,
				       "max_packet_thresh", UINT32_MAX,
				       &p->max_pps);
	if (!rc && avg && max && p->avg_pps > p->max_pps)
		rc = fail(d, at(d, "avg_packet_thresh"),
			  "\"avg_packet_thresh\" %u is above \"max_packet_thresh\" %u",
			  p->avg_pps, p->max_pps);
	return rc;
}

/* What DPDK would silently default: each policy type's own keys. */
static int check_required(const struct ddec *d, uint32_t kind)
{
	int rc = 0;

	if (kind == VPWR_POLICY_TIME && !get(d, "busy_hours") &&
	    !get(d, "quiet_hours"))
		rc = fail(d, d->off,
			  "a TIME policy needs \"busy_hours\" or \"quiet_hours\"");
	if (kind == VPWR_POLICY_TRAFFIC) {
		rc = need(d, "avg_packet_thresh", "TRAFFIC policy");
		if (!rc)
			rc = need(d, "max_packet_thresh", "TRAFFIC policy");
	}
	if (kind == VPWR_POLICY_WORKLOAD)
		rc = need(d, "workload", "WORKLOAD policy");
	return rc;
}

static int read_hours(const struct ddec *d, const char *key, uint32_t *mask)
{
	const struct vpwr_jv *v = get(d, key);

	return v ? vpwr_json_get_hours(d->in, v, d->off, key, mask) : 0;
}

static int decode_create(const struct ddec *d)
{
	struct vpwr_policy *p = &d->m->u.policy;
	const struct vpwr_jv *v;
	unsigned w = 0;
	int rc;

	d->m->type = VPWR_MSG_POLICY_SET;
	rc = check_keys(d, create_keys, "policy create");
	if (!rc)
		rc = need(d, "policy_type", "policy create");
	if (!rc)
		rc = read_policy_type(d, &p->kind);
	if (!rc)
		rc = check_required(d, p->kind);
	if (!rc)
		rc = read_hours(d, "busy_hours", &p->busy_hours);
	if (!rc)
		rc = read_hours(d, "quiet_hours", &p->quiet_hours);
	if (!rc && (p->busy_hours & p->quiet_hours))
		rc = fail(d, at(d, "quiet_hours"),
			  "hour %d is both busy and quiet",
			  __builtin_ctz(p->busy_hours & p->quiet_hours));
	if (!rc)
		rc = read_vcpus(d, &p->vcpus);
	if (!rc && (v = get(d, "mac_list")))
		rc = vpwr_json_get_macs(d->in, v, d->off, "mac_list",
					p);
	if (!rc)
		rc = read_traffic(d, p);
	if (!rc && (v = get(d, "workload")))
		rc = vpwr_json_get_name(d->in, v, d->off, "workload",
					&workload_names, &w);
	p->workload = w;
	return rc;
}

static int decode_destroy(const struct ddec *d)
{
	struct vpwr_cpuset ignored;
	int rc;

	d->m->type = VPWR_MSG_POLICY_REMOVE;
	rc = check_keys(d, destroy_keys, "policy destroy");
	/* DPDK removes the VM's policy whatever its vCPUs; so does
	 * POLICY_REMOVE, which has no vCPU set: check the list, drop it. */
	if (!rc)
		rc = read_vcpus(d, &ignored);
	/* Without a type: every policy of this guest, as DPDK does. */
	if (!rc && get(d, "policy_type"))
		rc = read_policy_type(d, &d->m->u.policy.kind);
	return rc;
}

int vpwr_json_decode_dpdk(const struct vpwr_json_in *in,
			  const struct vpwr_jv *root,
			  size_t obj, struct vpwr_msg *m)
{
	struct ddec d = { .in = in, .m = m };
	enum command cmd = CMD_POWER;
	const struct vpwr_jv *k;
	int rc;

	/* Exactly one wrapper: DPDK's parser would merge a second one. */
	d.wrapper = vpwr_jv_get(root, "instruction") ? "instruction"
						     : "policy";
	d.obj = vpwr_jv_get(root, d.wrapper);
	vpwr_jv_foreach_key(root, k)
		if (strcmp(k->s, d.wrapper))
			return vpwr_json_fail(in, -VPWR_E_PROTO,
					      vpwr_json_member(in, obj, k->s),
					      "\"%.32s\" cannot stand beside DPDK's \"%s\"",
					      k->s, d.wrapper);
	d.off = vpwr_json_member(in, obj, d.wrapper);
	if (!vpwr_jv_is(d.obj, VJ_OBJECT))
		return fail(&d, d.off, "\"%s\" must be an object", d.wrapper);
	rc = read_command(&d, &cmd);
	if (!rc)
		rc = skip_name(&d);
	if (rc)
		return rc;
	switch (cmd) {
	case CMD_CREATE:
		return decode_create(&d);
	case CMD_DESTROY:
		return decode_destroy(&d);
	default:
		return decode_instruction(&d);
	}
}
