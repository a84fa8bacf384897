/* SPDX-License-Identifier: MIT */
/*
 * virtio-serial, both ends.
 *
 * Guest side, "virtio-serial:PORT": a character device of the virtio_console
 * driver.  PORT is a path (/dev/virtio-ports/virtio.serial.port.poweragent.0),
 * a bare port name (looked up under /dev/virtio-ports/), or "auto" (the
 * first port vpwr_virtio_serial_discover() finds).  What the kernel does
 * that a socket does not:
 *   - the device opens fine while nothing is connected on the host side;
 *     then read() returns 0, poll() says POLLHUP and a non-blocking write()
 *     says EAGAIN;
 *   - when the host side connects again the same open file works again.
 * So end of stream here means "the host is away for now", not "closed for
 * good": the ops table says so (hup_transient) and the guest client waits
 * for the host instead of giving up.  A port can be open only once (EBUSY).
 *
 * Host side, "virtio-serial-host:PATH": the unix socket of a QEMU
 * `-chardev socket`.  Connecting (QEMU listens: server=on) and listening
 * (QEMU connects: server=off,reconnect=N) are plain unix stream sockets; the
 * host engine reconnects with back-off (vpwr_host_connect()).
 */
#include <ctype.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "transport_internal.h"

#define VIRTIO_PORTS_DEV "/dev/virtio-ports"
#define VIRTIO_PORTS_SYS "/sys/class/virtio-ports"

static bool libvpwr_port_name(const char *name)
{
	static const char agent[] = "virtio.serial.port.poweragent.";
	static const char ours[] = "org.libvpwr.";
	const char *p;

	if (!strncmp(name, ours, sizeof(ours) - 1))
		return name[sizeof(ours) - 1] != '\0';
	if (strncmp(name, agent, sizeof(agent) - 1))
		return false;
	p = name + sizeof(agent) - 1;
	if (!*p)
		return false;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return false;
	return true;
}

struct port_list {
	char (*names)[NAME_MAX + 1];
	size_t n, cap;
};

static int port_add(struct port_list *pl, const char *name)
{
	for (size_t i = 0; i < pl->n; i++)
		if (!strcmp(pl->names[i], name))
			return 0;
	if (pl->n == pl->cap) {
		size_t cap = pl->cap ? pl->cap * 2 : 8;
		void *p = realloc(pl->names, cap * sizeof(*pl->names));

		if (!p)
			return -ENOMEM;
		pl->names = p;
		pl->cap = cap;
	}
	vpwr_strlcpy(pl->names[pl->n++], name, sizeof(*pl->names));
	return 0;
}

/* Natural order: poweragent.2 before poweragent.10. */
static int port_cmp(const void *a, const void *b)
{
	const char *x = a, *y = b;

	while (*x && *x == *y && !isdigit((unsigned char)*x)) {
		x++;
		y++;
	}
	if (isdigit((unsigned char)*x) && isdigit((unsigned char)*y)) {
		char *ex, *ey;
		unsigned long u = strtoul(x, &ex, 10), v = strtoul(y, &ey, 10);

		if (u != v)
			return u < v ? -1 : 1;
		return strcmp(ex, ey);
	}
	return strcmp(x, y);
}

/* Names from sysfs: /sys/class/virtio-ports/vportNpM/name. */
static int scan_sys(const char *root, struct port_list *pl)
{
	char dir[PATH_MAX], path[PATH_MAX], name[NAME_MAX + 2];
	struct dirent *de;
	DIR *d;
	int err = 0;

	if ((size_t)snprintf(dir, sizeof(dir), "%s%s", root,
			     VIRTIO_PORTS_SYS) >= sizeof(dir))
		return -ENAMETOOLONG;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!err && (de = readdir(d))) {
		FILE *f;
		size_t n;

		if (de->d_name[0] == '.')
			continue;
		if ((size_t)snprintf(path, sizeof(path), "%s/%s/name", dir,
				     de->d_name) >= sizeof(path))
			continue;
		f = fopen(path, "re");
		if (!f)
			continue;
		n = fread(name, 1, sizeof(name) - 1, f);
		fclose(f);
		name[n] = '\0';
		while (n && (name[n - 1] == '\n' || name[n - 1] == ' '))
			name[--n] = '\0';
		if (n && n <= NAME_MAX && libvpwr_port_name(name))
			err = port_add(pl, name);
	}
	closedir(d);
	return err;
}

/* Names from the links udev makes: /dev/virtio-ports/NAME. */
static int scan_dev(const char *root, struct port_list *pl)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int err = 0;

	if ((size_t)snprintf(dir, sizeof(dir), "%s%s", root,
			     VIRTIO_PORTS_DEV) >= sizeof(dir))
		return -ENAMETOOLONG;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while (!err && (de = readdir(d)))
		if (de->d_name[0] != '.' && libvpwr_port_name(de->d_name))
			err = port_add(pl, de->d_name);
	closedir(d);
	return err;
}

VPWR_API int vpwr_virtio_serial_discover(const char *root,
					 int (*fn)(const char *name,
						   const char *uri,
						   void *userdata),
					 void *userdata)
{
	struct port_list pl = { 0 };
	char uri[PATH_MAX + 32];
	int err;

	if (!root || !*root)
		root = "";
	else if (root[0] == '/' && !root[1])
		root = "";
	err = scan_sys(root, &pl);
	if (!err)
		err = scan_dev(root, &pl);
	if (!err && pl.n)
		qsort(pl.names, pl.n, sizeof(*pl.names), port_cmp);
	for (size_t i = 0; !err && fn && i < pl.n; i++) {
		snprintf(uri, sizeof(uri), "virtio-serial:%s%s/%s", root,
			 VIRTIO_PORTS_DEV, pl.names[i]);
		err = fn(pl.names[i], uri, userdata);
	}
	free(pl.names);
	if (err < 0)
		return err;
	return err > 0 ? err : (int)VPWR_MIN(pl.n, (size_t)INT_MAX);
}

static int first_port(const char *name, const char *uri, void *userdata)
{
	(void)name;
	vpwr_strlcpy(userdata, uri + strlen("virtio-serial:"), PATH_MAX);
	return 1; /* stop at the first */
}

static int vs_connect(struct vpwr_channel *ch, const char *addr)
{
	char path[PATH_MAX];
	struct stat st;
	int fd, nb = (ch->flags & VPWR_CHANNEL_BLOCKING) ? 0 : O_NONBLOCK;

	if (!strcmp(addr, "auto")) {
		int n = vpwr_virtio_serial_discover(NULL, first_port, path);

		if (n < 0)
			return n;
		if (n == 0) {
			log_err(&ch->log, "no virtio-serial port named "
				"virtio.serial.port.poweragent.N or "
				"org.libvpwr.* in this guest");
			return -ENOENT;
		}
	} else if (!strchr(addr, '/')) {
		if ((size_t)snprintf(path, sizeof(path), "%s/%s",
				     VIRTIO_PORTS_DEV, addr) >= sizeof(path))
			return -ENAMETOOLONG;
	} else if (vpwr_strlcpy(path, addr, sizeof(path)) >= sizeof(path)) {
		return -ENAMETOOLONG;
	}
	fd = open(path, O_RDWR | O_CLOEXEC | O_NOCTTY | nb);
	if (fd < 0) {
		int err = -errno;

		if (err == -EBUSY)
			log_err(&ch->log, "%s is already open (a virtio-serial "
				"port has one user at a time)", path);
		else
			log_err(&ch->log, "open %s: %s", path,
				vpwr_strerror(err));
		return err;
	}
	ch->fd = fd;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (!S_ISCHR(st.st_mode)) {
		log_err(&ch->log, "%s is not a character device", path);
		return -ENOTTY;
	}
	return 0;
}

/* virtio_console says ENODEV once the port is hot-unplugged: gone. */
static ssize_t vs_read(struct vpwr_channel *ch, void *buf, size_t len)
{
	ssize_t n;

	do
		n = read(ch->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return -EAGAIN;
	return errno == ENODEV ? -VPWR_E_CLOSED : -errno;
}

static ssize_t vs_write(struct vpwr_channel *ch, const void *buf, size_t len)
{
	ssize_t n;

	do
		n = write(ch->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n >= 0)
		return n;
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return -EAGAIN;
	return errno == ENODEV ? -VPWR_E_CLOSED : -errno;
}

const struct vpwr_transport_ops vpwr_transport_virtio_serial = {
	.name = "virtio-serial",
	.connect_scheme = "virtio-serial",
	.hup_transient = true,
	.connect = vs_connect,
	.read = vs_read,
	.write = vs_write,
};

/* The host side is a unix socket under another name. */
static int vsh_connect(struct vpwr_channel *ch, const char *addr)
{
	return vpwr_transport_unix.connect(ch, addr);
}

static int vsh_listen(struct vpwr_listener *l, const char *addr)
{
	return vpwr_transport_unix.listen(l, addr);
}

static void vsh_listener_close(struct vpwr_listener *l)
{
	vpwr_transport_unix.listener_close(l);
}

const struct vpwr_transport_ops vpwr_transport_virtio_serial_host = {
	.name = "virtio-serial-host",
	.connect_scheme = "virtio-serial-host",
	.listen_scheme = "virtio-serial-host",
	.connect = vsh_connect,
	.listen = vsh_listen,
	.listener_close = vsh_listener_close,
};
