/* SPDX-License-Identifier: MIT */
/*
 * vpwr-hostd: the host daemon (docs/HOSTD.md).  Serves each domain's guest
 * channel, prints what guests ask for and what every physical CPU is set
 * to, and on SIGTERM/SIGINT restores every CPU it changed.  Configuration
 * from a JSON file (--config) with command-line overrides; SIGHUP re-reads
 * it.  Detaches unless --foreground; speaks systemd's readiness protocol
 * (NOTIFY_SOCKET) and logs to stderr, the journal or syslog.  On the
 * simulator it also reports the energy used against an all-max host.
 *
 * It is also an example of embedding the host engine in a program's own
 * event loop: vpwr_host_fd() and a signalfd in one poll().
 */
#define _GNU_SOURCE /* pipe2 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <libvpwr/libvpwr.h>

#include "hostd_config.h"

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

static int libvirt_events_start(void)
{
	static pthread_t tid;

	if (virEventRegisterDefaultImpl() < 0 ||
	    pthread_create(&tid, NULL, libvirt_loop, NULL) != 0)
		return -1;
	pthread_detach(tid);
	return 0;
}
#endif

static void usage(FILE *f)
{
	fputs("usage: vpwr-hostd [--config FILE] [options]\n"
	      "\n"
	      "Serves power requests from guests.  Each --channel binds a listening\n"
	      "URI to one domain: whoever connects there speaks for that domain.\n"
	      "Each --connect makes the daemon connect to a URI itself (a QEMU\n"
	      "chardev socket with server=on) and again whenever it goes away.\n"
	      "Options override the configuration file; channels and bounds add to\n"
	      "its own.  SIGHUP reloads the file; SIGTERM/SIGINT restore every CPU\n"
	      "and exit.\n"
	      "\n"
	      "options:\n"
	      "  -f, --config FILE         JSON configuration (docs/HOSTD.md)\n"
	      "  -F, --foreground          do not detach (as under systemd)\n"
	      "      --pid-file PATH       write the daemon's pid there\n"
	      "      --print-config        print the merged configuration and exit\n"
	      "  -r, --resolver URI        vCPU pinning: static:PINS.json or\n"
	      "                            libvirt:qemu:///system\n"
	      "  -a, --auto-channels       serve the power-agent channels of the\n"
	      "                            domains' XML (libvirt), as they start and stop\n"
	      "      --port-events         libvirt: hear at once when a guest closes its\n"
	      "                            port (a read-write libvirt connection)\n"
	      "  -c, --channel DOM=URI     e.g. vm1=unix-listen:/run/vpwr/vm1.sock,\n"
	      "                            vm1=virtio-serial-host:/run/vpwr/vm1.0;\n"
	      "                            =vsock-listen:PORT binds each guest by\n"
	      "                            its vsock CID\n"
	      "  -C, --connect DOM=URI     e.g. vm1=virtio-serial-host:/run/vpwr/vm1.0\n"
	      "  -b, --backend NAME        sim (default), auto, or a driver name\n"
	      "      --sysfs-root DIR      root of the sysfs tree (default /sys)\n"
	      "      --state-file PATH     crash-safe record of the CPUs' originals\n"
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
	      "      --log-level LEVEL     error, warning (default), notice, info, debug\n"
	      "      --log-target TARGET   auto (default), stderr, journal, syslog\n"
	      "  -q, --quiet               do not print requests and changes\n"
	      "  -v, --verbose             --log-level debug\n"
	      "  -h, --help                this text\n", f);
}

/* --------------------------------------------------------------- logs */

static struct {
	long level;          /* what is shown */
	long target;         /* enum hostd_log_target, decided */
	bool echo;           /* detached, not ready yet: stderr too, so that
				whoever started it sees why it failed */
} logs = { VPWR_LOG_WARNING, HOSTD_LOG_STDERR, false };

static void log_write(enum vpwr_log_level level, const char *msg)
{
	if ((long)level > logs.level)
		return;
	if (logs.echo && logs.target == HOSTD_LOG_SYSLOG)
		fprintf(stderr, "vpwr-hostd: <%d> %s\n", (int)level, msg);
	switch (logs.target) {
	case HOSTD_LOG_SYSLOG:
		syslog((int)level, "%s", msg);
		break;
	case HOSTD_LOG_JOURNAL:
		/* journald reads a "<N>" prefix as the priority */
		fprintf(stderr, "<%d>%s\n", (int)level, msg);
		break;
	default:
		fprintf(stderr, "vpwr-hostd: <%d> %s\n", (int)level, msg);
	}
}

static void log_lib(enum vpwr_log_level level, const char *msg, void *ud)
{
	(void)ud;
	log_write(level, msg);
}

static void say(enum vpwr_log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void say(enum vpwr_log_level level, const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_write(level, msg);
}

/* Whether stderr is a stream to the journal (systemd sets JOURNAL_STREAM
 * to its device and inode). */
static bool stderr_is_journal(void)
{
	const char *js = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	return js && sscanf(js, "%llu:%llu", &dev, &ino) == 2 &&
	       fstat(STDERR_FILENO, &st) == 0 &&
	       (unsigned long long)st.st_dev == dev &&
	       (unsigned long long)st.st_ino == ino;
}

static void logs_setup(const struct hostd_config *c, bool detached)
{
	logs.level = c->log_level;
	logs.target = c->log_target;
	if (logs.target == HOSTD_LOG_AUTO)
		logs.target = stderr_is_journal() ? HOSTD_LOG_JOURNAL
			      : detached	  ? HOSTD_LOG_SYSLOG
						  : HOSTD_LOG_STDERR;
	if (logs.target == HOSTD_LOG_SYSLOG)
		openlog("vpwr-hostd", LOG_PID, LOG_DAEMON);
	logs.echo = detached;
}

/* ------------------------------------------------------------ systemd */

/*
 * sd_notify(3)'s datagram to $NOTIFY_SOCKET, written out rather than
 * linking libsystemd: the protocol is a documented, stable interface, and
 * the static build of the tools (a guest's initramfs) has no libsystemd.
 */
static void notify(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void notify(const char *fmt, ...)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char msg[512];
	size_t len;
	va_list ap;
	int fd;

	if (!path || (path[0] != '/' && path[0] != '@') ||
	    (len = strlen(path)) >= sizeof(sa.sun_path))
		return;
	memcpy(sa.sun_path, path, len);
	if (path[0] == '@')
		sa.sun_path[0] = '\0'; /* abstract namespace */
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return;
	if (sendto(fd, msg, strlen(msg), MSG_NOSIGNAL, (struct sockaddr *)&sa,
		   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)) < 0)
		say(VPWR_LOG_WARNING, "NOTIFY_SOCKET %s: %s", path,
		    strerror(errno));
	close(fd);
}

static unsigned long long monotonic_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (unsigned long long)ts.tv_sec * 1000000ull +
	       (unsigned long long)ts.tv_nsec / 1000;
}

/* ---------------------------------------------------------- detaching */

/*
 * Detach: fork twice, start a session, and leave the parent waiting on a
 * pipe until the daemon is ready (exit 0) or has failed (exit 1), so that
 * whoever started it sees startup errors and an honest exit status.
 * Returns the write end of the pipe in the daemon, -1 on failure.
 */
static int detach(void)
{
	int p[2];
	pid_t pid;
	char ok;

	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0) {
		int st;

		close(p[1]);
		/* The intermediate child exits at once. */
		waitpid(pid, &st, 0);
		_exit(read(p[0], &ok, 1) == 1 && ok == 0 ? 0 : 1);
	}
	close(p[0]);
	if (setsid() < 0)
		_exit(1);
	pid = fork();
	if (pid < 0)
		_exit(1);
	if (pid > 0)
		_exit(0);
	/* The working directory stays: relative paths in the options and
	 * the file keep their meaning, at start and on reload. */
	umask(022);
	return p[1];
}

/* In the detached daemon, once ready: tell the parent, let go of the
 * terminal. */
static void detached_ready(int *ready_fd)
{
	char ok = 0;
	int null;

	if (*ready_fd < 0)
		return;
	logs.echo = false;
	null = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (null >= 0) {
		dup2(null, STDIN_FILENO);
		dup2(null, STDOUT_FILENO);
		if (logs.target != HOSTD_LOG_STDERR &&
		    logs.target != HOSTD_LOG_JOURNAL)
			dup2(null, STDERR_FILENO);
		close(null);
	}
	if (write(*ready_fd, &ok, 1) != 1) {
		/* the parent went: nobody to tell */
	}
	close(*ready_fd);
	*ready_fd = -1;
}

static int write_pid_file(const char *path)
{
	char tmp[4200], buf[32];
	int fd, n;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= (int)sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	n = snprintf(buf, sizeof(buf), "%ld\n", (long)getpid());
	if (write(fd, buf, (size_t)n) != n || close(fd) < 0 ||
	    rename(tmp, path) < 0) {
		int err = -errno;

		unlink(tmp);
		return err;
	}
	return 0;
}

/* ------------------------------------------------------------ running */

static struct vpwr_host *host;
static struct vpwr_backend *backend;
static bool print_events = true;

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


/* -------------------------------------------------- applying a config */

static int serve_channel(const struct hostd_channel *ch)
{
	int rc = ch->connect ? vpwr_host_connect(host, ch->domain, ch->uri)
			     : vpwr_host_listen(host, ch->domain, ch->uri);

	if (rc < 0) {
		say(VPWR_LOG_ERR, "domain %s on %s: %s",
		    ch->domain ? ch->domain : "(by CID)", ch->uri,
		    vpwr_strerror(rc));
		return rc;
	}
	printf("[%s] %s %s\n", ch->domain ? ch->domain : "*",
	       ch->connect ? "connecting to" : "listening on", ch->uri);
	return 0;
}

/* Operator bounds; clear: remove them (0, 0). */
static int apply_bound(const struct hostd_bound *b, bool clear)
{
	uint32_t lo = clear ? 0 : (uint32_t)b->min_khz;
	uint32_t hi = clear ? 0 : (uint32_t)b->max_khz;
	struct vpwr_cpuset set;
	int rc = 0, nr = vpwr_backend_nr_cpus(backend);

	if (b->domain) {
		rc = vpwr_host_set_domain_bounds(host, b->domain, lo, hi);
		if (rc < 0)
			say(VPWR_LOG_ERR, "bounds of domain %s: %s", b->domain,
			    vpwr_strerror(rc));
		return rc;
	}
	if (vpwr_cpuset_parse(&set, b->cpus) < 0)
		return -EINVAL; /* checked when read */
	vpwr_cpuset_foreach(cpu, &set) {
		int r = cpu < nr ? vpwr_host_set_bounds(host, (unsigned)cpu, lo,
							hi)
				 : -ENODEV;

		if (r < 0) {
			say(VPWR_LOG_ERR, "bounds of pCPU %d: %s", cpu,
			    vpwr_strerror(r));
			rc = r;
		}
	}
	return rc;
}

/* What SIGHUP cannot change: said, and left as it runs. */
static void reload_warn_fixed(const char *name, void *ud)
{
	(void)ud;
	say(VPWR_LOG_WARNING, "reload: %s changed; it takes effect at the "
	    "next start", name);
}

/*
 * Operator bounds from `o` to `n` without lifting a cap on the way: a
 * target (a pCPU, a domain) that no bound of `n` names any more is
 * cleared; every bound of `n` is then set once, to its final value.
 */
static void reload_bounds(const struct hostd_config *o,
			  const struct hostd_config *n)
{
	struct vpwr_cpuset kept, set;
	size_t i, j;

	vpwr_cpuset_zero(&kept);
	for (j = 0; j < n->nr_bounds; j++) {
		if (n->bounds[j].domain ||
		    vpwr_cpuset_parse(&set, n->bounds[j].cpus) < 0)
			continue;
		vpwr_cpuset_foreach(cpu, &set)
			vpwr_cpuset_set(&kept, (unsigned)cpu);
	}
	for (i = 0; i < o->nr_bounds; i++) {
		const struct hostd_bound *b = &o->bounds[i];

		if (b->domain) {
			for (j = 0; j < n->nr_bounds; j++)
				if (n->bounds[j].domain &&
				    !strcmp(n->bounds[j].domain, b->domain))
					break;
			if (j == n->nr_bounds)
				apply_bound(b, true);
			continue;
		}
		if (vpwr_cpuset_parse(&set, b->cpus) < 0)
			continue;
		vpwr_cpuset_foreach(cpu, &set) {
			struct hostd_bound one = { .cpus = NULL };
			char name[16];

			if (vpwr_cpuset_isset(&kept, (unsigned)cpu))
				continue;
			snprintf(name, sizeof(name), "%d", cpu);
			one.cpus = name;
			apply_bound(&one, true);
		}
	}
	for (j = 0; j < n->nr_bounds; j++)
		apply_bound(&n->bounds[j], false);
}

/*
 * SIGHUP: read the file again (on top of the command line's options) and
 * apply what can change while running: channels (new ones served, gone
 * ones detached), operator bounds, the log level; then re-read the
 * resolver.  A file that does not parse changes nothing.
 */
static void reload(const char *path, const struct hostd_config *cli,
		   struct hostd_config *cur)
{
	struct hostd_config n;
	char err[600];
	size_t i, j;

	notify("RELOADING=1\nMONOTONIC_USEC=%llu", monotonic_usec());
	hostd_config_init(&n);
	err[0] = '\0';
	if (path && hostd_config_load(&n, path, err, sizeof(err)) < 0) {
		say(VPWR_LOG_ERR, "reload: %s; the running configuration "
		    "stays", err);
		goto out;
	}
	if (hostd_config_overlay(&n, cli) < 0)
		snprintf(err, sizeof(err), "out of memory");
	if (err[0] || hostd_config_finish(&n, err, sizeof(err)) < 0) {
		say(VPWR_LOG_ERR, "reload: %s; the running configuration "
		    "stays", err);
		goto out;
	}
	hostd_config_fixed_changes(cur, &n, reload_warn_fixed, NULL);
	for (i = 0; i < cur->nr_channels; i++) {
		for (j = 0; j < n.nr_channels; j++)
			if (hostd_channel_equal(&cur->channels[i],
						&n.channels[j]))
				break;
		if (j == n.nr_channels &&
		    vpwr_host_detach(host, cur->channels[i].uri) > 0)
			printf("[%s] no longer %s %s\n",
			       cur->channels[i].domain ? cur->channels[i].domain
						       : "*",
			       cur->channels[i].connect ? "connecting to"
							: "listening on",
			       cur->channels[i].uri);
	}
	for (j = 0; j < n.nr_channels;) {
		for (i = 0; i < cur->nr_channels; i++)
			if (hostd_channel_equal(&cur->channels[i],
						&n.channels[j]))
				break;
		if (i < cur->nr_channels || serve_channel(&n.channels[j]) == 0) {
			j++;
			continue;
		}
		/* Not served: not remembered either, so that the next reload
		 * tries it again. */
		free(n.channels[j].domain);
		free(n.channels[j].uri);
		memmove(&n.channels[j], &n.channels[j + 1],
			(n.nr_channels - j - 1) * sizeof(n.channels[0]));
		n.nr_channels--;
	}
	reload_bounds(cur, &n);
	logs.level = n.log_level;
	/* Keep what cannot change as it runs, so that the next reload
	 * compares against what is in effect. */
	{
		struct hostd_config keep = *cur;

		keep.channels = n.channels;
		keep.nr_channels = n.nr_channels;
		keep.bounds = n.bounds;
		keep.nr_bounds = n.nr_bounds;
		keep.log_level = n.log_level;
		n.channels = cur->channels;
		n.nr_channels = cur->nr_channels;
		n.bounds = cur->bounds;
		n.nr_bounds = cur->nr_bounds;
		cur->channels = keep.channels;
		cur->nr_channels = keep.nr_channels;
		cur->bounds = keep.bounds;
		cur->nr_bounds = keep.nr_bounds;
		cur->log_level = keep.log_level;
	}
	vpwr_host_refresh(host);
	say(VPWR_LOG_NOTICE, "reloaded %s: %zu channels, %zu bounds",
	    path ? path : "(command line)", cur->nr_channels, cur->nr_bounds);
out:
	hostd_config_free(&n);
	flush_pending(); /* what the new bounds changed */
	fflush(stdout);
	notify("READY=1\nSTATUS=serving %zu channels", cur->nr_channels);
}

/* ---------------------------------------------------------------- main */

enum {
	OPT_SYSFS = 256, OPT_SIM_CPUS, OPT_SIM_WALL, OPT_SHARED, OPT_RATE,
	OPT_CONTROL, OPT_TZ, OPT_PERIOD, OPT_GRACE, OPT_STATE, OPT_PID,
	OPT_PRINT, OPT_LEVEL, OPT_TARGET, OPT_PORT_EVENTS,
};

/* The command line into *c; 0, or 2 (usage) after saying why. */
static int parse_args(int argc, char **argv, struct hostd_config *c,
		      const char **config, bool *foreground, bool *print)
{
	static const struct option longopts[] = {
		{ "config", required_argument, NULL, 'f' },
		{ "foreground", no_argument, NULL, 'F' },
		{ "pid-file", required_argument, NULL, OPT_PID },
		{ "print-config", no_argument, NULL, OPT_PRINT },
		{ "resolver", required_argument, NULL, 'r' },
		{ "channel", required_argument, NULL, 'c' },
		{ "connect", required_argument, NULL, 'C' },
		{ "backend", required_argument, NULL, 'b' },
		{ "sysfs-root", required_argument, NULL, OPT_SYSFS },
		{ "state-file", required_argument, NULL, OPT_STATE },
		{ "sim-cpus", required_argument, NULL, OPT_SIM_CPUS },
		{ "sim-wallclock", no_argument, NULL, OPT_SIM_WALL },
		{ "mode", required_argument, NULL, 'm' },
		{ "allow-shared", no_argument, NULL, OPT_SHARED },
		{ "rate", required_argument, NULL, OPT_RATE },
		{ "control", required_argument, NULL, OPT_CONTROL },
		{ "auto-channels", no_argument, NULL, 'a' },
		{ "port-events", no_argument, NULL, OPT_PORT_EVENTS },
		{ "watch-dir", required_argument, NULL, 'w' },
		{ "time-zone", required_argument, NULL, OPT_TZ },
		{ "traffic-period", required_argument, NULL, OPT_PERIOD },
		{ "grace", required_argument, NULL, OPT_GRACE },
		{ "log-level", required_argument, NULL, OPT_LEVEL },
		{ "log-target", required_argument, NULL, OPT_TARGET },
		{ "quiet", no_argument, NULL, 'q' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	char **str;
	long *num;
	int o;

	while ((o = getopt_long(argc, argv, "f:Fr:c:C:b:m:aw:qvh", longopts,
				NULL)) != -1) {
		str = NULL;
		num = NULL;
		switch (o) {
		case 'f': *config = optarg; break;
		case 'F': *foreground = true; break;
		case OPT_PRINT: *print = true; break;
		case OPT_PID: str = &c->pid_file; break;
		case 'r': str = &c->resolver; break;
		case 'b': str = &c->backend; break;
		case OPT_SYSFS: str = &c->sysfs_root; break;
		case OPT_STATE: str = &c->state_file; break;
		case OPT_CONTROL: str = &c->control; break;
		case 'w': str = &c->watch_dir; break;
		case OPT_TZ: str = &c->time_zone; break;
		case 'c':
		case 'C':
			if (hostd_add_channel(c, optarg, o == 'C') < 0) {
				fprintf(stderr, "vpwr-hostd: bad --%s '%s'\n",
					o == 'c' ? "channel" : "connect",
					optarg);
				return 2;
			}
			break;
		case OPT_SIM_CPUS: num = &c->sim_cpus; break;
		case OPT_RATE: num = &c->rate_per_s; break;
		case OPT_PERIOD: num = &c->traffic_period_ms; break;
		case OPT_GRACE: num = &c->grace_ms; break;
		case OPT_SIM_WALL: c->sim_wallclock = 1; break;
		case OPT_SHARED: c->allow_shared = 1; break;
		case 'a': c->auto_channels = 1; break;
		case OPT_PORT_EVENTS: c->port_events = 1; break;
		case 'q': print_events = false; break;
		case 'v': c->log_level = VPWR_LOG_DEBUG; break;
		case 'm':
			if (hostd_parse_mode(optarg, &c->mode) < 0) {
				fprintf(stderr, "vpwr-hostd: bad --mode '%s'\n",
					optarg);
				return 2;
			}
			break;
		case OPT_LEVEL:
			if (hostd_parse_level(optarg, &c->log_level) < 0) {
				fprintf(stderr, "vpwr-hostd: bad --log-level "
					"'%s'\n", optarg);
				return 2;
			}
			break;
		case OPT_TARGET:
			if (hostd_parse_target(optarg, &c->log_target) < 0) {
				fprintf(stderr, "vpwr-hostd: bad --log-target "
					"'%s'\n", optarg);
				return 2;
			}
			break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return 2;
		}
		if (str) {
			free(*str);
			*str = strdup(optarg);
		} else if (num && hostd_parse_count(optarg, num) < 0) {
			fprintf(stderr, "vpwr-hostd: bad number '%s'\n", optarg);
			return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return 0;
}

int main(int argc, char **argv)
{
	struct hostd_config cli, cfg;
	const char *config = NULL;
	bool foreground = false, print = false;
	struct vpwr_backend *b = NULL;
	struct vpwr_resolver *r = NULL;
	uint32_t *start_khz = NULL;
	int rc, sfd = -1, ready_fd = -1;
	sigset_t sigs;
	char err[600];

	hostd_config_init(&cli);
	hostd_config_init(&cfg);
	rc = parse_args(argc, argv, &cli, &config, &foreground, &print);
	if (rc) {
		hostd_config_free(&cli);
		return rc;
	}
	/* A broken pipe on stdout or stderr (a reader that went away) must
	 * not end the daemon before it restores the CPUs. */
	signal(SIGPIPE, SIG_IGN);
	err[0] = '\0';
	if ((config && hostd_config_load(&cfg, config, err, sizeof(err)) < 0) ||
	    (hostd_config_overlay(&cfg, &cli) < 0 &&
	     snprintf(err, sizeof(err), "out of memory") > 0) ||
	    hostd_config_finish(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "vpwr-hostd: %s\n", err);
		rc = 2;
		goto out_cfg;
	}
	if (print) {
		char *text = hostd_config_dump(&cfg);

		rc = text ? 0 : 1;
		if (text)
			puts(text);
		free(text);
		goto out_cfg;
	}
	if (!foreground) {
		ready_fd = detach();
		if (ready_fd < 0) {
			fprintf(stderr, "vpwr-hostd: cannot detach: %s\n",
				strerror(errno));
			rc = 1;
			goto out_cfg;
		}
		print_events = false; /* stdout goes to /dev/null */
	}
	logs_setup(&cfg, !foreground);
	/* Signals arrive as reads on a descriptor polled beside the host's:
	 * no handler runs inside the library.  Blocked before any thread
	 * starts (libvirt's event loop), so that every thread has them
	 * blocked and none dies of them. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);

	{
		VPWR_OPTS(vpwr_sim_opts, sim, .nr_cpus = (unsigned)cfg.sim_cpus,
			  .wallclock = cfg.sim_wallclock > 0);
		VPWR_OPTS(vpwr_backend_opts, bopts, .sim = &sim,
			  .sysfs_root = cfg.sysfs_root,
			  .state_file = cfg.state_file, .log_fn = log_lib,
			  .log_level = (int)cfg.log_level);
		VPWR_OPTS(vpwr_resolver_opts, ropts, .log_fn = log_lib,
			  .log_level = (int)cfg.log_level,
			  .port_events = cfg.port_events > 0);
		VPWR_OPTS(vpwr_host_opts, hopts,
			  .event_fn = print_events ? on_event : NULL,
			  .mode = (unsigned)cfg.mode,
			  .allow_shared = cfg.allow_shared > 0,
			  .max_channels = (unsigned)cfg.max_channels,
			  .max_domain_channels =
				  (unsigned)cfg.max_domain_channels,
			  .rate_per_s = (unsigned)cfg.rate_per_s,
			  .rate_burst = (unsigned)cfg.rate_burst,
			  .auto_channels = cfg.auto_channels > 0,
			  .time_zone = cfg.time_zone,
			  .traffic_period_ms = (unsigned)cfg.traffic_period_ms,
			  .sysfs_root = cfg.sysfs_root,
			  .grace_ms = (unsigned)cfg.grace_ms, .log_fn = log_lib,
			  .log_level = (int)cfg.log_level);

		rc = vpwr_backend_open(cfg.backend, &bopts, &b);
		backend = b;
		if (rc < 0) {
			say(VPWR_LOG_ERR, "backend %s: %s", cfg.backend,
			    vpwr_strerror(rc));
			goto out;
		}
#ifdef VPWR_WITH_LIBVIRT
		if (!strncmp(cfg.resolver, "libvirt:", 8) &&
		    libvirt_events_start() < 0)
			say(VPWR_LOG_WARNING, "no libvirt event loop; domain "
			    "changes are seen only on refresh (SIGHUP)");
#endif
		rc = vpwr_resolver_open(cfg.resolver, &ropts, &r);
		if (rc < 0) {
			say(VPWR_LOG_ERR, "resolver %s: %s", cfg.resolver,
			    vpwr_strerror(rc));
			goto out;
		}
		hopts.backend = b;
		hopts.resolver = r;
		rc = vpwr_host_new(&hopts, &host);
		if (rc < 0) {
			say(VPWR_LOG_ERR, "%s", vpwr_strerror(rc));
			goto out;
		}
	}
	for (size_t i = 0; i < cfg.nr_channels; i++) {
		rc = serve_channel(&cfg.channels[i]);
		if (rc < 0)
			goto out;
	}
	for (size_t i = 0; i < cfg.nr_bounds; i++) {
		rc = apply_bound(&cfg.bounds[i], false);
		if (rc < 0)
			goto out;
	}
	if (cfg.watch_dir) {
		rc = vpwr_host_watch_dir(host, cfg.watch_dir);
		if (rc < 0) {
			say(VPWR_LOG_ERR, "watching %s: %s", cfg.watch_dir,
			    vpwr_strerror(rc));
			goto out;
		}
		printf("watching %s for QEMU sockets\n", cfg.watch_dir);
	}
	if (cfg.control) {
		char curi[4200];

		snprintf(curi, sizeof(curi), "unix-listen:%s", cfg.control);
		rc = vpwr_host_control_listen(host, curi);
		if (rc < 0) {
			say(VPWR_LOG_ERR, "control socket %s: %s", cfg.control,
			    vpwr_strerror(rc));
			goto out;
		}
		printf("control socket %s\n", cfg.control);
	}
	start_khz = calloc((size_t)vpwr_backend_nr_cpus(b), sizeof(*start_khz));
	for (int i = 0; start_khz && i < vpwr_backend_nr_cpus(b); i++)
		vpwr_backend_get_freq(b, (unsigned)i, &start_khz[i]);

	sfd = signalfd(-1, &sigs, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0) {
		rc = -errno;
		say(VPWR_LOG_ERR, "signalfd: %s", strerror(errno));
		goto out;
	}
	if (cfg.pid_file && (rc = write_pid_file(cfg.pid_file)) < 0) {
		say(VPWR_LOG_ERR, "pid file %s: %s", cfg.pid_file,
		    strerror(-rc));
		goto out;
	}
	fflush(stdout);
	detached_ready(&ready_fd);
	notify("READY=1\nSTATUS=serving %zu channels\nMAINPID=%ld",
	       cfg.nr_channels, (long)getpid());
	say(VPWR_LOG_NOTICE, "ready: %s backend, resolver %s, %zu channels",
	    vpwr_backend_name(b), cfg.resolver, cfg.nr_channels);

	for (bool stop = false; !stop;) {
		struct pollfd p[2] = {
			{ .fd = vpwr_host_fd(host), .events = POLLIN },
			{ .fd = sfd, .events = POLLIN },
		};
		struct signalfd_siginfo si;

		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (p[0].revents) {
			rc = vpwr_host_dispatch(host, 0);
			flush_pending();
			fflush(stdout);
			if (rc < 0)
				break;
		}
		while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
			if (si.ssi_signo == SIGHUP) {
				reload(config, &cli, &cfg);
			} else {
				say(VPWR_LOG_NOTICE, "signal %u: restoring "
				    "every CPU and exiting", si.ssi_signo);
				stop = true;
			}
		}
	}
	notify("STOPPING=1");
	if (rc < 0)
		say(VPWR_LOG_ERR, "%s", vpwr_strerror(rc));
	if (foreground && start_khz && !strcmp(vpwr_backend_name(b), "sim"))
		energy_report(b, start_khz);
	printf("restoring every CPU and exiting\n");
	if (cfg.pid_file)
		unlink(cfg.pid_file);
out:
	vpwr_host_free(host);
	flush_pending();
	vpwr_resolver_free(r);
	vpwr_backend_free(b);
	free(start_khz);
	if (sfd >= 0)
		close(sfd);
	rc = rc < 0 ? 1 : 0;
out_cfg:
	hostd_config_free(&cfg);
	hostd_config_free(&cli);
	return rc;
}
