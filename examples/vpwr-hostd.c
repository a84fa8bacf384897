/* SPDX-License-Identifier: MIT */
/*
 * vpwr-hostd: the host daemon.  Serves each domain's guest channel, prints
 * what guests ask for and what every physical CPU is set to, and on exit
 * (SIGINT/SIGTERM) restores every CPU it changed.  On the simulator it also
 * reports the energy used against an untouched, all-max host.  Argument
 * parsing and library calls only.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libvpwr/libvpwr.h>

#ifdef VPWR_WITH_LIBVIRT
#include <pthread.h>
#include <libvirt/libvirt.h>

/*
 * libvirt delivers domain events (start, stop, re-pin) only to a process
 * that registered an event loop: the daemon does, on a thread of its own;
 * the resolver's callbacks just wake the host's change fd.
 */
static void *libvirt_loop(void *arg)
{
	(void)arg;
	for (;;)
		if (virEventRunDefaultImpl() < 0)
			return NULL;
}

static void libvirt_events_start(void)
{
	static pthread_t tid;

	if (virEventRegisterDefaultImpl() < 0 ||
	    pthread_create(&tid, NULL, libvirt_loop, NULL) != 0)
		fprintf(stderr, "vpwr-hostd: no libvirt event loop; domain "
			"changes are seen only on refresh\n");
	else
		pthread_detach(tid);
}
#endif

#define MAX_CHANNELS 64

static struct vpwr_host *host;

static void usage(FILE *f)
{
	fputs("usage: vpwr-hostd --resolver URI --channel DOMAIN=URI... [options]\n"
	      "\n"
	      "Serves power requests from guests.  Each --channel binds a listening\n"
	      "URI to one domain: whoever connects there speaks for that domain.\n"
	      "Each --connect makes the daemon connect to a URI itself (a QEMU\n"
	      "chardev socket with server=on) and again whenever it goes away.\n"
	      "\n"
	      "options:\n"
	      "  -r, --resolver URI        vCPU pinning: static:PINS.json or\n"
	      "                            libvirt:qemu:///system\n"
	      "  -a, --auto-channels       serve the power-agent channels of the\n"
	      "                            domains' XML (libvirt), as they start and stop\n"
	      "  -c, --channel DOM=URI     e.g. vm1=unix-listen:/run/vpwr/vm1.sock,\n"
	      "                            vm1=virtio-serial-host:/run/vpwr/vm1.0;\n"
	      "                            =vsock-listen:PORT binds each guest by\n"
	      "                            its vsock CID\n"
	      "  -C, --connect DOM=URI     e.g. vm1=virtio-serial-host:/run/vpwr/vm1.0\n"
	      "  -b, --backend NAME        sim (default), auto, or a driver name\n"
	      "      --sysfs-root DIR      root of the sysfs tree (default /sys)\n"
	      "      --sim-cpus N          simulated CPUs (default 4)\n"
	      "      --sim-wallclock       simulated time follows real time\n"
	      "  -m, --mode MODE           performance (default), powersave, exclusive\n"
	      "      --allow-shared        steer vCPUs that float over shared pCPUs\n"
	      "      --control PATH        serve vpwr-ctl on a unix socket (mode 0600)\n"
	      "  -w, --watch-dir DIR       connect to the QEMU sockets DOMAIN.N or\n"
	      "                            DOMAIN.sock that appear in DIR (no libvirt)\n"
	      "      --rate N              requests/s one channel may send (default\n"
	      "                            1000; 0: no limit)\n"
	      "      --time-zone ZONE      hours of TIME policies: UTC, +05:30,\n"
	      "                            Europe/Berlin (default: local time)\n"
	      "      --traffic-period MS   TRAFFIC/BRANCH_RATIO sampling (default 1000)\n"
	      "      --grace MS            keep a vanished guest's wishes this long\n"
	      "                            (default 0: restore at once)\n"
	      "  -q, --quiet               do not print requests and changes\n"
	      "  -v, --verbose             log library messages to stderr\n"
	      "  -h, --help                this text\n", f);
}

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
	vpwr_host_stop(host);
}

static void log_stderr(enum vpwr_log_level level, const char *msg, void *ud)
{
	(void)ud;
	fprintf(stderr, "vpwr-hostd: <%d> %s\n", (int)level, msg);
}

/* CPU changes happen while a request is handled; print them after it. */
static char pending[8192];
static size_t pending_len;

static void flush_pending(void)
{
	fputs(pending, stdout);
	pending_len = 0;
	pending[0] = '\0';
}

static void on_event(const struct vpwr_host_event *ev, void *ud)
{
	char req[512], reply[512], *p = pending + pending_len;
	size_t room = sizeof(pending) - pending_len;
	int n = 0;

	(void)ud;
	switch (ev->type) {
	case VPWR_HOST_EV_CHANNEL_UP:
		printf("[%s] channel %u connected\n", ev->domain, ev->channel_id);
		break;
	case VPWR_HOST_EV_CHANNEL_DOWN:
		printf("[%s] channel %u closed\n", ev->domain, ev->channel_id);
		flush_pending();
		break;
	case VPWR_HOST_EV_REQUEST:
		vpwr_msg_format(ev->request, req, sizeof(req));
		vpwr_msg_format(ev->reply, reply, sizeof(reply));
		printf("[%s] asks:  %s\n[%s] %s %s\n", ev->domain, req,
		       ev->domain, ev->status ? "REFUSED" : "ok:", reply);
		flush_pending();
		break;
	case VPWR_HOST_EV_CPU_CHANGED:
		if (ev->winner)
			n = snprintf(p, room, "    pCPU %u: %u -> %u MHz (limits "
				     "%u-%u MHz, turbo %s, set for %s)\n",
				     ev->pcpu, ev->old_khz / 1000,
				     ev->new_khz / 1000, ev->min_khz / 1000,
				     ev->max_khz / 1000,
				     ev->turbo ? "on" : "off", ev->winner);
		else
			n = snprintf(p, room, "    pCPU %u: %u -> %u MHz "
				     "(restored)\n", ev->pcpu,
				     ev->old_khz / 1000, ev->new_khz / 1000);
		if (n > 0 && (size_t)n < room)
			pending_len += (size_t)n;
		else
			flush_pending();
		break;
	}
	fflush(stdout);
}

/* Energy so far against every CPU held at the frequency it started at. */
static void energy_report(struct vpwr_backend *b, const uint32_t *start_khz)
{
	double total = 0, base = 0;
	uint64_t ns = 0;
	int n = vpwr_backend_nr_cpus(b);

	if (vpwr_sim_now(b, &ns) < 0 || ns == 0)
		return;
	printf("\nsimulated energy over %.2f s:\n", (double)ns / 1e9);
	for (int c = 0; c < n; c++) {
		double j = 0, w = 0;

		vpwr_sim_energy(b, (unsigned)c, &j);
		vpwr_sim_power(b, (unsigned)c, start_khz[c], 1.0, &w);
		printf("  pCPU %d: %8.3f J   (all-max at %u MHz: %8.3f J)\n", c,
		       j, start_khz[c] / 1000, w * (double)ns / 1e9);
		total += j;
		base += w * (double)ns / 1e9;
	}
	printf("  total:  %8.3f J   vs all-max %8.3f J  -> %.1f %% saved\n",
	       total, base, base > 0 ? 100.0 * (base - total) / base : 0.0);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "resolver", required_argument, NULL, 'r' },
		{ "channel", required_argument, NULL, 'c' },
		{ "connect", required_argument, NULL, 'C' },
		{ "backend", required_argument, NULL, 'b' },
		{ "sysfs-root", required_argument, NULL, 'S' },
		{ "sim-cpus", required_argument, NULL, 'N' },
		{ "sim-wallclock", no_argument, NULL, 'W' },
		{ "mode", required_argument, NULL, 'm' },
		{ "allow-shared", no_argument, NULL, 'A' },
		{ "rate", required_argument, NULL, 'R' },
		{ "control", required_argument, NULL, 'K' },
		{ "auto-channels", no_argument, NULL, 'a' },
		{ "watch-dir", required_argument, NULL, 'w' },
		{ "time-zone", required_argument, NULL, 'Z' },
		{ "traffic-period", required_argument, NULL, 'P' },
		{ "grace", required_argument, NULL, 'G' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	VPWR_OPTS(vpwr_sim_opts, sim);
	VPWR_OPTS(vpwr_backend_opts, bopts, .sim = &sim);
	VPWR_OPTS(vpwr_resolver_opts, ropts);
	VPWR_OPTS(vpwr_host_opts, hopts, .event_fn = on_event,
		  .rate_per_s = 1000);
	const char *backend_name = "sim", *resolver_uri = NULL;
	const char *control = NULL, *watch_dir = NULL;
	char *channels[MAX_CHANNELS];
	bool connects[MAX_CHANNELS];
	int nr_channels = 0, c, rc;
	struct vpwr_backend *b = NULL;
	struct vpwr_resolver *r = NULL;
	uint32_t *start_khz = NULL;

	while ((c = getopt_long(argc, argv, "r:c:C:b:m:aw:qvh", longopts, NULL)) != -1) {
		switch (c) {
		case 'r': resolver_uri = optarg; break;
		case 'c':
		case 'C':
			if (nr_channels == MAX_CHANNELS || !strchr(optarg, '=') ||
			    (c == 'C' && optarg[0] == '=')) {
				fprintf(stderr, "vpwr-hostd: bad --%s '%s'\n",
					c == 'c' ? "channel" : "connect", optarg);
				return 2;
			}
			connects[nr_channels] = c == 'C';
			channels[nr_channels++] = optarg;
			break;
		case 'b': backend_name = optarg; break;
		case 'S': bopts.sysfs_root = optarg; break;
		case 'N': sim.nr_cpus = (unsigned)atoi(optarg); break;
		case 'W': sim.wallclock = 1; break;
		case 'm':
			if (!strcmp(optarg, "performance"))
				hopts.mode = VPWR_ARB_PERFORMANCE;
			else if (!strcmp(optarg, "powersave"))
				hopts.mode = VPWR_ARB_POWERSAVE;
			else if (!strcmp(optarg, "exclusive"))
				hopts.mode = VPWR_ARB_EXCLUSIVE;
			else {
				fprintf(stderr, "vpwr-hostd: bad --mode '%s'\n",
					optarg);
				return 2;
			}
			break;
		case 'A': hopts.allow_shared = 1; break;
		case 'R': hopts.rate_per_s = (unsigned)atoi(optarg); break;
		case 'K': control = optarg; break;
		case 'a': hopts.auto_channels = 1; break;
		case 'w': watch_dir = optarg; break;
		case 'Z': hopts.time_zone = optarg; break;
		case 'P': hopts.traffic_period_ms = (unsigned)atoi(optarg); break;
		case 'G': hopts.grace_ms = (unsigned)atoi(optarg); break;
		case 'q': hopts.event_fn = NULL; break;
		case 'v':
			bopts.log_fn = ropts.log_fn = hopts.log_fn = log_stderr;
			bopts.log_level = ropts.log_level = hopts.log_level =
				VPWR_LOG_DEBUG;
			break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!resolver_uri ||
	    (!nr_channels && !hopts.auto_channels && !watch_dir) ||
	    optind != argc) {
		usage(stderr);
		return 2;
	}
	if (!ropts.log_fn) /* configuration errors are worth seeing */
		ropts.log_fn = log_stderr;

	rc = vpwr_backend_open(backend_name, &bopts, &b);
	if (rc < 0) {
		fprintf(stderr, "vpwr-hostd: backend %s: %s\n", backend_name,
			vpwr_strerror(rc));
		return 1;
	}
#ifdef VPWR_WITH_LIBVIRT
	if (!strncmp(resolver_uri, "libvirt:", 8))
		libvirt_events_start();
#endif
	rc = vpwr_resolver_open(resolver_uri, &ropts, &r);
	if (rc < 0) {
		fprintf(stderr, "vpwr-hostd: resolver %s: %s\n", resolver_uri,
			vpwr_strerror(rc));
		goto out;
	}
	hopts.backend = b;
	hopts.resolver = r;
	rc = vpwr_host_new(&hopts, &host);
	if (rc < 0) {
		fprintf(stderr, "vpwr-hostd: %s\n", vpwr_strerror(rc));
		goto out;
	}
	for (int i = 0; i < nr_channels; i++) {
		char *eq = strchr(channels[i], '=');

		const char *dom = channels[i];

		*eq = '\0';
		if (connects[i])
			rc = vpwr_host_connect(host, dom, eq + 1);
		else
			rc = vpwr_host_listen(host, *dom ? dom : NULL, eq + 1);
		if (rc < 0) {
			fprintf(stderr, "vpwr-hostd: domain %s on %s: %s\n",
				*dom ? dom : "(by CID)", eq + 1,
				vpwr_strerror(rc));
			goto out;
		}
		printf("[%s] %s %s\n", *dom ? dom : "*",
		       connects[i] ? "connecting to" : "listening on", eq + 1);
	}
	if (watch_dir) {
		rc = vpwr_host_watch_dir(host, watch_dir);
		if (rc < 0) {
			fprintf(stderr, "vpwr-hostd: watching %s: %s\n",
				watch_dir, vpwr_strerror(rc));
			goto out;
		}
		printf("watching %s for QEMU sockets\n", watch_dir);
	}
	if (control) {
		char curi[4200];

		snprintf(curi, sizeof(curi), "unix-listen:%s", control);
		rc = vpwr_host_control_listen(host, curi);
		if (rc < 0) {
			fprintf(stderr, "vpwr-hostd: control socket %s: %s\n",
				control, vpwr_strerror(rc));
			goto out;
		}
		printf("control socket %s\n", control);
	}
	start_khz = calloc((size_t)vpwr_backend_nr_cpus(b), sizeof(*start_khz));
	for (int i = 0; start_khz && i < vpwr_backend_nr_cpus(b); i++)
		vpwr_backend_get_freq(b, (unsigned)i, &start_khz[i]);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	fflush(stdout);

	/* vpwr_host_run(), printing after each dispatch what it changed: a
	 * channel that goes restores its CPUs after CHANNEL_DOWN, with no
	 * request to print them behind. */
	rc = 0;
	while (!stopping && rc >= 0) {
		rc = vpwr_host_dispatch(host, -1);
		flush_pending();
		fflush(stdout);
	}
	if (rc < 0)
		fprintf(stderr, "vpwr-hostd: %s\n", vpwr_strerror(rc));
	if (start_khz && !strcmp(vpwr_backend_name(b), "sim"))
		energy_report(b, start_khz);
	printf("restoring every CPU and exiting\n");
out:
	vpwr_host_free(host);
	flush_pending();
	vpwr_resolver_free(r);
	vpwr_backend_free(b);
	free(start_khz);
	return rc < 0 ? 1 : 0;
}
