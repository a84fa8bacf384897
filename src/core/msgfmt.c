/* SPDX-License-Identifier: MIT */
/*
 * One-line, human-readable rendering of a message, for command-line tools,
 * logs and the Python repr.  Not a wire format: codecs own those.
 */
#include <stdarg.h>
#include <stdio.h>

#include "internal.h"
#include "libvpwr/message.h"

struct out {
	char *buf;
	size_t len;
	size_t used;
};

static void put(struct out *o, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void put(struct out *o, const char *fmt, ...)
{
	size_t room = o->used < o->len ? o->len - o->used : 0;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(room ? o->buf + o->used : NULL, room, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->used += (size_t)n;
}

static void put_state(struct out *o, const struct vpwr_vcpu_state *st)
{
	put(o, " cur=%ukHz limits=%u-%ukHz turbo=%u", st->cur_khz, st->min_khz,
	    st->max_khz, st->turbo);
	if (st->req_max_khz)
		put(o, " asked=%u-%ukHz", st->req_min_khz, st->req_max_khz);
	if (st->clamped)
		put(o, " clamped");
}

static void put_want(struct out *o, uint32_t want)
{
	put(o, " want=%s%s%s", want & VPWR_VCPUS_FREQS ? "freqs" : "",
	    (want & VPWR_VCPUS_FREQS) && (want & VPWR_VCPUS_CAPS) ? "|" : "",
	    want & VPWR_VCPUS_CAPS ? "caps" : "");
}

static void put_vcpu_list(struct out *o, const struct vpwr_vcpu_list *l)
{
	uint32_t nr = VPWR_MIN(l->nr, (uint32_t)VPWR_MSG_MAX_VCPUS);

	put_want(o, l->want);
	put(o, " first=%u nr=%u/%u", l->first, l->nr, l->nr_vcpus);
	if (l->want & VPWR_VCPUS_FREQS) {
		put(o, " khz=");
		for (uint32_t i = 0; i < nr; i++)
			put(o, "%s%u", i ? "," : "", l->cur_khz[i]);
	}
	if (l->want & VPWR_VCPUS_CAPS)
		put(o, " turbo=0x%llx priority=0x%llx",
		    (unsigned long long)l->turbo_mask,
		    (unsigned long long)l->priority_mask);
}

static void put_hours(struct out *o, const char *name, uint32_t mask)
{
	char set[96];
	struct vpwr_cpuset s;

	if (!mask)
		return;
	vpwr_cpuset_zero(&s);
	s.bits[0] = mask;
	vpwr_cpuset_format(&s, set, sizeof(set));
	put(o, " %s=%s", name, set);
}

static void put_policy(struct out *o, const struct vpwr_policy *p)
{
	static const char *const kinds[] = { "?", "time", "traffic",
					     "workload", "branch_ratio" };
	char vcpus[128];

	put(o, " kind=%s", p->kind < VPWR_ARRAY_SIZE(kinds) ? kinds[p->kind]
							   : "?");
	if (vpwr_cpuset_count(&p->vcpus)) {
		vpwr_cpuset_format(&p->vcpus, vcpus, sizeof(vcpus));
		put(o, " vcpus=%s", vcpus);
	}
	put_hours(o, "busy", p->busy_hours);
	put_hours(o, "quiet", p->quiet_hours);
	if (p->kind == VPWR_POLICY_TRAFFIC)
		put(o, " pps=%u/%u/%u", p->min_pps, p->avg_pps, p->max_pps);
	if (p->kind == VPWR_POLICY_WORKLOAD)
		put(o, " workload=%u", p->workload);
	if (p->kind == VPWR_POLICY_BRANCH_RATIO)
		put(o, " ratio=%uppm", p->branch_ratio_ppm);
}

static void put_request(struct out *o, const struct vpwr_msg *m)
{
	const char *op;

	switch (m->type) {
	case VPWR_MSG_HELLO:
		put(o, " versions=%u-%u", m->u.hello.version_min,
		    m->u.hello.version_max);
		break;
	case VPWR_MSG_SCALE:
		op = vpwr_scale_op_name(m->u.scale.op);
		put(o, " op=%s", op ? op : "?");
		break;
	case VPWR_MSG_SET_FREQ:
		put(o, " freq=%ukHz", m->u.freq.khz);
		break;
	case VPWR_MSG_SET_RANGE:
		put(o, " range=%u-%ukHz", m->u.range.min_khz,
		    m->u.range.max_khz);
		break;
	case VPWR_MSG_TURBO:
		put(o, " turbo=%s", m->u.turbo.enable ? "on" : "off");
		break;
	case VPWR_MSG_SET_EPP:
		put(o, " epp=%u", m->u.epp.hint);
		break;
	case VPWR_MSG_POLICY_SET:
	case VPWR_MSG_POLICY_REMOVE:
		put_policy(o, &m->u.policy);
		break;
	case VPWR_MSG_QUERY_VCPUS:
		put_want(o, m->u.vcpus.want);
		break;
	default:
		break;
	}
}

static void put_reply(struct out *o, const struct vpwr_msg *m)
{
	put(o, " status=%d", m->status);
	if (m->status == 0) {
		switch (m->type) {
		case VPWR_MSG_HELLO:
		case VPWR_MSG_QUERY_CAPS:
			put(o, " version=%u caps=0x%x nr_vcpus=%u",
			    m->u.hello.version_max, m->u.hello.caps,
			    m->u.hello.nr_vcpus);
			break;
		case VPWR_MSG_QUERY_FREQS:
			put(o, " cur=%ukHz freqs=%u", m->u.freqs.cur_khz,
			    m->u.freqs.nr);
			if (m->u.freqs.nr && m->u.freqs.nr <= VPWR_MSG_MAX_FREQS)
				put(o, "(%u-%ukHz)", m->u.freqs.khz[0],
				    m->u.freqs.khz[m->u.freqs.nr - 1]);
			break;
		case VPWR_MSG_SCALE:
		case VPWR_MSG_SET_FREQ:
		case VPWR_MSG_SET_RANGE:
		case VPWR_MSG_TURBO:
		case VPWR_MSG_SET_EPP:
		case VPWR_MSG_QUERY_STATE:
			put_state(o, &m->u.state);
			break;
		case VPWR_MSG_QUERY_VCPUS:
			put_vcpu_list(o, &m->u.vcpus);
			break;
		default:
			break;
		}
	}
	if (m->reason[0])
		put(o, " reason=\"%.*s\"", VPWR_REASON_MAX, m->reason);
}

VPWR_API int vpwr_msg_format(const struct vpwr_msg *m, char *buf, size_t len)
{
	struct out o = { .buf = buf, .len = len };
	const char *name;

	if (!m || (!buf && len))
		return -EINVAL;
	if (len)
		buf[0] = '\0';
	name = vpwr_msg_type_name(m->type);
	if (m->flags & VPWR_MSG_F_REPLY)
		put(&o, "reply ");
	else if (m->flags & VPWR_MSG_F_NOTIFY)
		put(&o, "notify ");
	if (name)
		put(&o, "%s", name);
	else
		put(&o, "type%u", m->type);
	put(&o, " seq=%u", m->seq);
	if (m->vcpu != VPWR_VCPU_NONE)
		put(&o, " vcpu=%u", m->vcpu);
	if (m->flags & VPWR_MSG_F_NOTIFY)
		put_state(&o, &m->u.state);
	else if (m->flags & VPWR_MSG_F_REPLY)
		put_reply(&o, m);
	else
		put_request(&o, m);
	return (int)o.used;
}
