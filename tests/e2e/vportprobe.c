/*
 * vportprobe PORT [WATCH_MS]: what a virtio-serial port does at the system
 * call level, printed for the end-to-end test's log (no libvpwr).
 *
 * Opens PORT non-blocking and prints, on one line each:
 *   open     the result
 *   poll     revents of poll(POLLIN|POLLOUT|POLLRDHUP, 0)
 *   read     read(fd, buf, 64): the count or the errno
 *   write    write(fd, "\n", 1) only when poll said POLLHUP (the byte
 *            cannot reach anyone then; a connected host would get it)
 * With WATCH_MS, then watches the port for that long: a blocking
 * poll(POLLIN|POLLRDHUP) while revents are 0, 50 ms naps while they are not
 * (POLLHUP is level-triggered), printing every change of revents with the
 * time it was seen and whether a blocking poll() woke up for it.  It stops
 * early once it has seen the host leave and come back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static const char *revents_text(short r)
{
	static char buf[128];

	buf[0] = '\0';
	if (r & POLLIN) strcat(buf, "|POLLIN");
	if (r & POLLOUT) strcat(buf, "|POLLOUT");
	if (r & POLLHUP) strcat(buf, "|POLLHUP");
	if (r & POLLRDHUP) strcat(buf, "|POLLRDHUP");
	if (r & POLLERR) strcat(buf, "|POLLERR");
	if (r & POLLNVAL) strcat(buf, "|POLLNVAL");
	return buf[0] ? buf + 1 : "0";
}

static void result(const char *what, ssize_t n)
{
	if (n < 0)
		printf("vportprobe: %s = -1 %s (%s)\n", what,
		       strerrorname_np(errno), strerror(errno));
	else
		printf("vportprobe: %s = %zd\n", what, n);
}

int main(int argc, char **argv)
{
	struct pollfd p;
	char buf[64];
	long watch = argc > 2 ? atol(argv[2]) : 0, t0, end;
	short last;
	int fd, left, away = 0, back = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: vportprobe PORT [WATCH_MS]\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	fd = open(argv[1], O_RDWR | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
	result("open(O_RDWR|O_NONBLOCK)", fd);
	if (fd < 0)
		return 1;
	p = (struct pollfd){ .fd = fd, .events = POLLIN | POLLOUT | POLLRDHUP };
	result("poll(POLLIN|POLLOUT|POLLRDHUP, 0)", poll(&p, 1, 0));
	printf("vportprobe: revents = %s\n", revents_text(p.revents));
	result("read(64)", read(fd, buf, sizeof(buf)));
	if (p.revents & POLLHUP)
		result("write(1)", write(fd, "\n", 1));

	last = p.revents & ~POLLOUT;
	away = !!(last & POLLHUP);
	t0 = now_ms();
	end = t0 + watch;
	while (watch && (left = (int)(end - now_ms())) > 0 && !(away && back)) {
		int blocking = last == 0, n;

		p = (struct pollfd){ .fd = fd, .events = POLLIN | POLLRDHUP };
		n = poll(&p, 1, blocking ? left : 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (p.revents != last) {
			printf("vportprobe: +%ld ms revents %s -> %s (%s)\n",
			       now_ms() - t0, revents_text(last),
			       revents_text(p.revents),
			       blocking ? "a blocking poll() woke up"
					: "seen by polling every 50 ms");
			if (p.revents & POLLHUP)
				away = 1;
			else if (away)
				back = 1;
			if (p.revents & POLLIN)
				result("read(64)", read(fd, buf, sizeof(buf)));
			last = p.revents;
		}
		if (!blocking || p.revents)
			usleep(50000);
	}
	if (watch)
		printf("vportprobe: watched %ld ms: host %s\n", now_ms() - t0,
		       away && back ? "left and came back"
		       : away ? "left" : "stayed");
	close(fd);
	return 0;
}
