/* SPDX-License-Identifier: MIT */
/*
 * vpwr-ctl: the operator's tool.  Sends one request to a host daemon's
 * control socket (vpwr-hostd --control PATH) and prints the answer as a
 * table, or as the daemon's JSON with --json.  Argument parsing, one
 * socket and printing only; the daemon does the work (docs/CONTROL.md).
 */
#include <errno.h>
#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libvpwr/libvpwr.h>

static void usage(FILE *f)
{
	fputs("usage: vpwr-ctl [--socket PATH] [--json] COMMAND [ARGS]\n"
	      "\n"
	      "commands:\n"
	      "  domains                      domains, vCPU -> pCPU maps, requests, policies\n"
	      "  channels                     open guest channels and who is on them\n"
	      "  cpus                         each pCPU's state and who set it\n"
	      "  stats                        counters\n"
	      "  bounds PCPU MIN MAX          operator bounds of a pCPU (kHz; 0 0: none)\n"
	      "  domain-bounds DOM MIN MAX    operator bounds of a domain\n"
	      "  add-channel DOM URI          listen for DOM's guest on URI\n"
	      "  connect DOM URI              connect to URI for DOM (QEMU server=on)\n"
	      "  remove-channel ID|URI\n"
	      "\n"
	      "options:\n"
	      "  -s, --socket PATH   control socket (default /run/vpwr/control.sock)\n"
	      "  -j, --json          print the daemon's JSON reply\n"
	      "  -h, --help          this text\n"
	      "\n"
	      "Exit status: 0 done, 1 refused by the daemon, 2 usage or connection error.\n",
	      f);
}

static unsigned long num(const char *s)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || !*s || s[0] == '-') {
		fprintf(stderr, "vpwr-ctl: '%s' is not a number\n", s);
		exit(2);
	}
	return v;
}

static json_t *build(int argc, char **argv)
{
	const char *cmd = argv[0];

	if (!strcmp(cmd, "domains") || !strcmp(cmd, "channels") ||
	    !strcmp(cmd, "cpus") || !strcmp(cmd, "stats"))
		return argc == 1 ? json_pack("{s:s}", "cmd", cmd) : NULL;
	if (!strcmp(cmd, "bounds") && argc == 4)
		return json_pack("{s:s, s:I, s:I, s:I}", "cmd", "set-bounds",
				 "pcpu", (json_int_t)num(argv[1]), "min_khz",
				 (json_int_t)num(argv[2]), "max_khz",
				 (json_int_t)num(argv[3]));
	if (!strcmp(cmd, "domain-bounds") && argc == 4)
		return json_pack("{s:s, s:s, s:I, s:I}", "cmd", "set-bounds",
				 "domain", argv[1], "min_khz",
				 (json_int_t)num(argv[2]), "max_khz",
				 (json_int_t)num(argv[3]));
	if ((!strcmp(cmd, "add-channel") || !strcmp(cmd, "connect")) &&
	    argc == 3)
		return json_pack("{s:s, s:s, s:s, s:b}", "cmd", "add-channel",
				 "domain", argv[1], "uri", argv[2], "connect",
				 !strcmp(cmd, "connect"));
	if (!strcmp(cmd, "remove-channel") && argc == 2 &&
	    strchr(argv[1], ':'))
		return json_pack("{s:s, s:s}", "cmd", "remove-channel", "uri",
				 argv[1]);
	if (!strcmp(cmd, "remove-channel") && argc == 2)
		return json_pack("{s:s, s:I}", "cmd", "remove-channel", "id",
				 (json_int_t)num(argv[1]));
	return NULL;
}

static long long ival(json_t *o, const char *k)
{
	return (long long)json_integer_value(json_object_get(o, k));
}

static const char *sval(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s && *s ? s : "-";
}

static void print_range(json_t *r)
{
	if (json_object_get(r, "max_khz"))
		printf("%lld-%lld MHz", ival(r, "min_khz") / 1000,
		       ival(r, "max_khz") / 1000);
	else
		printf("-");
}

static void print_table(const char *cmd, json_t *rep)
{
	size_t i, k;
	json_t *e, *v, *p;

	if (!strcmp(cmd, "cpus")) {
		printf("backend %s\n%-5s %9s %19s %6s %-8s %s\n", sval(rep, "backend"),
		       "pCPU", "cur MHz", "limits MHz", "turbo", "managed",
		       "winner (requests)");
		json_array_foreach(json_object_get(rep, "cpus"), i, e) {
			printf("%-5lld %9lld %9lld-%-9lld %6s %-8s %s (%lld)",
			       ival(e, "pcpu"), ival(e, "cur_khz") / 1000,
			       ival(e, "min_khz") / 1000, ival(e, "max_khz") / 1000,
			       json_is_true(json_object_get(e, "turbo")) ? "on" : "off",
			       json_is_true(json_object_get(e, "managed")) ? "yes" : "no",
			       sval(e, "winner"), ival(e, "requests"));
			if (json_object_get(e, "bounds")) {
				printf("  bounds ");
				print_range(json_object_get(e, "bounds"));
			}
			if (json_object_get(e, "group"))
				printf("  policy of %s", sval(e, "group"));
			printf("\n");
		}
	} else if (!strcmp(cmd, "domains")) {
		json_array_foreach(json_object_get(rep, "domains"), i, e) {
			printf("%s: %lld vCPUs, %lld channels", sval(e, "name"),
			       ival(e, "nr_vcpus"), ival(e, "channels"));
			if (json_is_false(json_object_get(e, "running")))
				printf(", not running (wishes on hold)");
			if (json_array_size(json_object_get(e, "policies"))) {
				printf(", policies");
				json_array_foreach(json_object_get(e, "policies"), k, p)
					printf(" %s", json_string_value(p));
			}
			if (json_object_get(e, "bounds")) {
				printf(", bounds ");
				print_range(json_object_get(e, "bounds"));
			}
			printf("\n");
			json_array_foreach(json_object_get(e, "vcpus"), k, v) {
				printf("  vCPU %-3lld -> pCPU %-8s request ",
				       ival(v, "vcpu"), sval(v, "pcpus"));
				print_range(json_object_get(v, "request"));
				printf("  policy ");
				print_range(json_object_get(v, "policy"));
				printf("\n");
			}
		}
	} else if (!strcmp(cmd, "channels")) {
		printf("%-4s %-16s %-20s %-7s %s\n", "id", "domain", "transport",
		       "codec", "peer");
		json_array_foreach(json_object_get(rep, "channels"), i, e) {
			json_t *peer = json_object_get(e, "peer");

			printf("%-4lld %-16s %-20s %-7s ", ival(e, "id"),
			       sval(e, "domain"), sval(e, "transport"),
			       sval(e, "codec"));
			if (json_object_get(peer, "pid"))
				printf("pid %lld uid %lld", ival(peer, "pid"),
				       ival(peer, "uid"));
			else if (json_object_get(peer, "cid"))
				printf("cid %lld", ival(peer, "cid"));
			printf("%s\n", json_is_true(json_object_get(e, "connector"))
					       ? " (connected by the host)" : "");
		}
	} else if (!strcmp(cmd, "stats")) {
		const char *key;

		json_object_foreach(rep, key, v)
			if (json_is_integer(v))
				printf("%-16s %lld\n", key,
				       (long long)json_integer_value(v));
	} else {
		printf("done\n");
	}
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *path = "/run/vpwr/control.sock";
	char uri[4200], *text, buf[65536];
	VPWR_OPTS(vpwr_channel_opts, co, .flags = VPWR_CHANNEL_BLOCKING);
	struct vpwr_channel *ch;
	size_t have = 0;
	int c, rc, as_json = 0;
	json_t *req, *rep;
	char *nl = NULL;

	while ((c = getopt_long(argc, argv, "s:jh", longopts, NULL)) != -1) {
		switch (c) {
		case 's': path = optarg; break;
		case 'j': as_json = 1; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind >= argc || !(req = build(argc - optind, argv + optind))) {
		usage(stderr);
		return 2;
	}
	snprintf(uri, sizeof(uri), "unix:%s", path);
	rc = vpwr_channel_open(uri, &co, &ch);
	if (rc < 0) {
		fprintf(stderr, "vpwr-ctl: %s: %s\n", path, vpwr_strerror(rc));
		return 2;
	}
	text = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!text || vpwr_channel_write(ch, text, strlen(text)) < 0 ||
	    vpwr_channel_write(ch, "\n", 1) != 1) {
		fprintf(stderr, "vpwr-ctl: cannot send the request\n");
		return 2;
	}
	free(text);
	while (!nl && have < sizeof(buf) - 1) {
		ssize_t n = vpwr_channel_read(ch, buf + have, sizeof(buf) - 1 - have);

		if (n <= 0) {
			fprintf(stderr, "vpwr-ctl: the daemon closed the "
				"connection without an answer\n");
			return 2;
		}
		have += (size_t)n;
		nl = memchr(buf, '\n', have);
	}
	vpwr_channel_free(ch);
	if (!nl) {
		fprintf(stderr, "vpwr-ctl: answer too long\n");
		return 2;
	}
	*nl = '\0';
	rep = json_loads(buf, 0, NULL);
	if (!rep) {
		fprintf(stderr, "vpwr-ctl: the answer is not JSON\n");
		return 2;
	}
	if (as_json)
		puts(buf);
	else if (!json_is_true(json_object_get(rep, "ok")))
		fprintf(stderr, "vpwr-ctl: %s: %s\n", sval(rep, "error"),
			sval(rep, "message"));
	else
		print_table(argv[optind], rep);
	rc = json_is_true(json_object_get(rep, "ok")) ? 0 : 1;
	json_decref(rep);
	return rc;
}
