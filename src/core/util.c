/* SPDX-License-Identifier: MIT */
/* Logging, option structs, cpusets and other small shared helpers. */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "internal.h"

void vpwr_logger_init(struct vpwr_logger *l, vpwr_log_fn fn, void *userdata,
		      int level)
{
	l->fn = fn;
	l->userdata = userdata;
	l->level = level > 0 ? level : VPWR_LOG_WARNING;
}

void vpwr_logf(const struct vpwr_logger *l, enum vpwr_log_level level,
	       const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	if (!l || !l->fn || (int)level > l->level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	l->fn(level, buf, l->userdata);
}

int vpwr_opts_load(void *dst, size_t dst_sz, const void *src)
{
	size_t sz;

	memset(dst, 0, dst_sz);
	if (!src) {
		*(size_t *)dst = dst_sz;
		return 0;
	}
	sz = *(const size_t *)src;
	if (sz < sizeof(size_t))
		return -EINVAL;
	if (sz > dst_sz) {
		const unsigned char *p = src;
		for (size_t i = dst_sz; i < sz; i++)
			if (p[i])
				return -EINVAL;
		sz = dst_sz;
	}
	memcpy(dst, src, sz);
	*(size_t *)dst = dst_sz;
	return 0;
}

size_t vpwr_strlcpy(char *dst, const char *src, size_t len)
{
	size_t n = strlen(src);

	if (len) {
		size_t c = n < len - 1 ? n : len - 1;
		memcpy(dst, src, c);
		dst[c] = '\0';
	}
	return n;
}

uint64_t vpwr_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int vpwr_mac_parse(const char *s, uint8_t mac[6])
{
	uint8_t v[6];

	for (int i = 0; i < 6; i++, s += 3) {
		int hi = hexval(s[0]), lo = hi < 0 ? -1 : hexval(s[1]);

		if (lo < 0 || (i < 5 && s[2] != ':'))
			return -EINVAL;
		v[i] = (uint8_t)(hi << 4 | lo);
	}
	s -= 1; /* the byte after the last pair */
	if (*s && (s[0] != '\n' || s[1]))
		return -EINVAL;
	memcpy(mac, v, sizeof(v));
	return 0;
}

int vpwr_pci_addr_format(char buf[VPWR_PCI_ADDR_LEN], unsigned long domain,
			 unsigned long bus, unsigned long slot,
			 unsigned long function)
{
	if (domain > 0xffff || bus > 0xff || slot > 0x1f || function > 7)
		return -EINVAL;
	snprintf(buf, VPWR_PCI_ADDR_LEN, "%04lx:%02lx:%02lx.%lx", domain, bus,
		 slot, function);
	return 0;
}

/* `n` hex digits at *p, exactly. */
static int hex_field(const char **p, int n, unsigned long *out)
{
	*out = 0;
	for (int i = 0; i < n; i++) {
		int v = hexval((*p)[i]);

		if (v < 0)
			return -EINVAL;
		*out = *out << 4 | (unsigned long)v;
	}
	*p += n;
	return 0;
}

int vpwr_pci_addr_parse(const char *s, char buf[VPWR_PCI_ADDR_LEN])
{
	unsigned long d, b, sl, f;

	if (hex_field(&s, 4, &d) || *s++ != ':' || hex_field(&s, 2, &b) ||
	    *s++ != ':' || hex_field(&s, 2, &sl) || *s++ != '.' ||
	    hex_field(&s, 1, &f) || *s)
		return -EINVAL;
	return vpwr_pci_addr_format(buf, d, b, sl, f);
}

static int parse_uint(const char **p, unsigned *out)
{
	char *end;
	unsigned long v;

	if (**p < '0' || **p > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(*p, &end, 10);
	if (errno || v >= VPWR_MAX_CPUS)
		return -EINVAL;
	*out = (unsigned)v;
	*p = end;
	return 0;
}

VPWR_API int vpwr_cpuset_parse(struct vpwr_cpuset *set, const char *list)
{
	const char *p = list;

	if (!set || !list)
		return -EINVAL;
	vpwr_cpuset_zero(set);
	while (*p == ' ')
		p++;
	if (!*p)
		return 0;
	for (;;) {
		unsigned lo, hi;

		if (parse_uint(&p, &lo))
			return -EINVAL;
		hi = lo;
		if (*p == '-') {
			p++;
			if (parse_uint(&p, &hi) || hi < lo)
				return -EINVAL;
		}
		for (unsigned c = lo; c <= hi; c++)
			vpwr_cpuset_set(set, c);
		if (*p == ',') {
			p++;
			continue;
		}
		while (*p == ' ' || *p == '\n')
			p++;
		return *p ? -EINVAL : 0;
	}
}

VPWR_API int vpwr_cpuset_format(const struct vpwr_cpuset *set, char *buf,
				size_t len)
{
	size_t need = 0;
	int c = vpwr_cpuset_next(set, 0);

	if (len)
		buf[0] = '\0';
	while (c >= 0) {
		int end = c;
		char tmp[32];
		int n;

		while (end + 1 < VPWR_MAX_CPUS &&
		       vpwr_cpuset_isset(set, (unsigned)end + 1))
			end++;
		if (end == c)
			n = snprintf(tmp, sizeof(tmp), "%s%d", need ? "," : "", c);
		else
			n = snprintf(tmp, sizeof(tmp), "%s%d-%d", need ? "," : "",
				     c, end);
		if (need + (size_t)n < len)
			memcpy(buf + need, tmp, (size_t)n + 1);
		else if (len)
			buf[need < len ? need : len - 1] = '\0';
		need += (size_t)n;
		c = end + 1 < VPWR_MAX_CPUS ? vpwr_cpuset_next(set, (unsigned)end + 1) : -1;
	}
	return (int)need;
}
