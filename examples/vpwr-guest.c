/* SPDX-License-Identifier: MIT */
/*
 * vpwr-guest: send requests to the host from inside a guest (or anywhere
 * with a channel to it) and print each request and its reply.  Argument
 * parsing and library calls only.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libvpwr/libvpwr.h>

static void usage(FILE *f)
{
	fputs("usage: vpwr-guest [--timeout MS] [--verbose] URI COMMAND [ARGS]...\n"
	      "\n"
	      "Connects to the host at URI (unix:PATH, ...) and runs the commands\n"
	      "in order, printing each request and the host's reply.\n"
	      "\n"
	      "commands:\n"
	      "  hello                       negotiate the protocol version\n"
	      "  scale VCPU up|down|min|max|medium\n"
	      "  set-freq VCPU KHZ           pin a vCPU to one frequency\n"
	      "  set-range VCPU MIN MAX      keep a vCPU within [MIN, MAX] kHz\n"
	      "  turbo VCPU on|off\n"
	      "  epp VCPU HINT               energy-performance hint 0..255\n"
	      "  query-freqs VCPU            the frequencies a vCPU can run at\n"
	      "  query-state VCPU            what the host holds for a vCPU\n"
	      "  query-caps                  the host's capabilities\n"
	      "  workload VCPUS low|medium|high\n"
	      "                              a WORKLOAD policy for a vCPU list\n"
	      "                              (\"0,2-3\"; \"all\": every vCPU)\n"
	      "  release                     drop every request of this guest\n"
	      "  sleep MS                    wait, keeping the requests in place\n"
	      "  wait                        wait for a line on standard input (or\n"
	      "                              its end), keeping the requests in place\n"
	      "\n"
	      "options:\n"
	      "  -t, --timeout MS            per-request timeout (default 2000)\n"
	      "  -n, --name NAME             label printed before each line\n"
	      "  -v, --verbose               log library messages to stderr\n"
	      "  -h, --help                  this text\n"
	      "\n"
	      "Exit status: 0 when every request succeeded, 1 when the host\n"
	      "refused one, 2 on a usage or connection error.\n", f);
}

static void log_stderr(enum vpwr_log_level level, const char *msg, void *ud)
{
	(void)ud;
	fprintf(stderr, "vpwr-guest: <%d> %s\n", (int)level, msg);
}

static int parse_u32(const char *s, uint32_t *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || end == s || v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_workload(const char *s, uint32_t *level)
{
	static const char *const names[] = { "", "low", "medium", "high" };

	for (uint32_t i = VPWR_WORKLOAD_LOW; i <= VPWR_WORKLOAD_HIGH; i++) {
		if (!strcmp(s, names[i])) {
			*level = i;
			return 0;
		}
	}
	return -1;
}

static int parse_op(const char *s, uint32_t *op)
{
	for (uint32_t i = VPWR_SCALE_UP; i <= VPWR_SCALE_MEDIUM; i++) {
		if (!strcmp(s, vpwr_scale_op_name(i))) {
			*op = i;
			return 0;
		}
	}
	return -1;
}

struct command {
	const char *name;
	enum vpwr_msg_type type;
	int nargs;              /* after the command name */
};

static const struct command commands[] = {
	{ "hello", VPWR_MSG_HELLO, 0 },
	{ "scale", VPWR_MSG_SCALE, 2 },
	{ "set-freq", VPWR_MSG_SET_FREQ, 2 },
	{ "set-range", VPWR_MSG_SET_RANGE, 3 },
	{ "turbo", VPWR_MSG_TURBO, 2 },
	{ "epp", VPWR_MSG_SET_EPP, 2 },
	{ "query-freqs", VPWR_MSG_QUERY_FREQS, 1 },
	{ "query-state", VPWR_MSG_QUERY_STATE, 1 },
	{ "query-caps", VPWR_MSG_QUERY_CAPS, 0 },
	{ "workload", VPWR_MSG_POLICY_SET, 2 },
	{ "release", VPWR_MSG_RELEASE, 0 },
	{ "sleep", 0, 1 },
	{ "wait", 0, 0 },
};

#define WAIT_FOR_INPUT UINT32_MAX /* *sleep_ms of the "wait" command */

/* Build the request for argv[0..]; returns the words used or -1. */
static int build(char **argv, int argc, struct vpwr_msg *m, uint32_t *sleep_ms)
{
	const struct command *c = NULL;
	struct vpwr_cpuset vcpus = { 0 };
	uint32_t a[3] = { 0 };

	memset(m, 0, sizeof(*m));

	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[0], commands[i].name))
			c = &commands[i];
	if (!c || argc < 1 + c->nargs) {
		fprintf(stderr, "vpwr-guest: %s: %s\n", argv[0],
			c ? "missing arguments" : "unknown command");
		return -1;
	}
	for (int i = 0; i < c->nargs; i++) {
		const char *w = argv[1 + i];
		int bad;

		if (c->type == VPWR_MSG_SCALE && i == 1)
			bad = parse_op(w, &a[1]);
		else if (c->type == VPWR_MSG_POLICY_SET && i == 0)
			bad = strcmp(w, "all") ? vpwr_cpuset_parse(&vcpus, w)
				: (vpwr_cpuset_zero(&vcpus), 0);
		else if (c->type == VPWR_MSG_POLICY_SET)
			bad = parse_workload(w, &a[1]);
		else if (c->type == VPWR_MSG_TURBO && i == 1)
			bad = strcmp(w, "on") && strcmp(w, "off") ? -1
				: ((a[1] = !strcmp(w, "on")), 0);
		else
			bad = parse_u32(w, &a[i]);
		if (bad) {
			fprintf(stderr, "vpwr-guest: %s: bad argument '%s'\n",
				c->name, w);
			return -1;
		}
	}
	*sleep_ms = 0;
	if (!c->type) {
		*sleep_ms = c->nargs ? a[0] : WAIT_FOR_INPUT;
		return 1 + c->nargs;
	}
	vpwr_msg_init(m, c->type, 0, c->nargs && c->type != VPWR_MSG_POLICY_SET
				     ? a[0] : VPWR_VCPU_NONE);
	switch (c->type) {
	case VPWR_MSG_HELLO:
		m->u.hello.version_min = 1;
		m->u.hello.version_max = VPWR_PROTO_VERSION;
		break;
	case VPWR_MSG_SCALE: m->u.scale.op = a[1]; break;
	case VPWR_MSG_SET_FREQ: m->u.freq.khz = a[1]; break;
	case VPWR_MSG_SET_RANGE:
		m->u.range.min_khz = a[1];
		m->u.range.max_khz = a[2];
		break;
	case VPWR_MSG_TURBO: m->u.turbo.enable = a[1]; break;
	case VPWR_MSG_SET_EPP: m->u.epp.hint = a[1]; break;
	case VPWR_MSG_POLICY_SET:
		m->u.policy.kind = VPWR_POLICY_WORKLOAD;
		m->u.policy.workload = a[1];
		m->u.policy.vcpus = vcpus;
		break;
	default: break;
	}
	return 1 + c->nargs;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "name", required_argument, NULL, 'n' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	VPWR_OPTS(vpwr_guest_opts, opts, .timeout_ms = 2000);
	const char *label = NULL;
	struct vpwr_guest *g;
	int c, rc, refused = 0;

	while ((c = getopt_long(argc, argv, "+t:n:vh", longopts, NULL)) != -1) {
		switch (c) {
		case 't': opts.timeout_ms = atoi(optarg); break;
		case 'n': label = optarg; break;
		case 'v':
			opts.log_fn = log_stderr;
			opts.log_level = VPWR_LOG_DEBUG;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (argc - optind < 2) {
		usage(stderr);
		return 2;
	}
	rc = vpwr_guest_open(argv[optind], &opts, &g);
	if (rc < 0) {
		fprintf(stderr, "vpwr-guest: %s: %s\n", argv[optind],
			vpwr_strerror(rc));
		return 2;
	}
	for (int i = optind + 1; i < argc;) {
		struct vpwr_msg req, reply;
		uint32_t sleep_ms;
		char text[512];
		int used = build(argv + i, argc - i, &req, &sleep_ms);

		if (used < 0) {
			vpwr_guest_free(g);
			return 2;
		}
		i += used;
		if (!req.type && sleep_ms == WAIT_FOR_INPUT) {
			char line[256];

			if (!fgets(line, sizeof(line), stdin))
				clearerr(stdin);
			continue;
		}
		if (!req.type) { /* sleep */
			struct timespec ts = { sleep_ms / 1000,
					       (long)(sleep_ms % 1000) * 1000000 };
			nanosleep(&ts, NULL);
			continue;
		}
		memset(&reply, 0, sizeof(reply));
		rc = vpwr_guest_request(g, &req, &reply);
		req.seq = reply.seq; /* the client numbers requests itself */
		vpwr_msg_format(&req, text, sizeof(text));
		printf("%s%s%s\n", label ? label : "", label ? ": " : "", text);
		if (rc < 0 && !(reply.flags & VPWR_MSG_F_REPLY)) {
			printf("%s%s  -> %s\n", label ? label : "",
			       label ? ": " : "", vpwr_strerror(rc));
			vpwr_guest_free(g);
			return 2;
		}
		vpwr_msg_format(&reply, text, sizeof(text));
		printf("%s%s  -> %s%s\n", label ? label : "", label ? ": " : "",
		       rc < 0 ? "REFUSED " : "", text);
		fflush(stdout);
		refused |= rc < 0;
	}
	vpwr_guest_free(g);
	return refused ? 1 : 0;
}
