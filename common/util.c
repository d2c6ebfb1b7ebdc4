#include "common/util.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "common/log.h"

void
bug_report(const char *what, const char *file, int line)
{
	log_err(LD_BUG, "%s at %s:%d", what, file, line);
}

void
fatal(const char *fmt, ...)
{
	va_list ap;
	char msg[512];

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_err(LD_GENERAL, "fatal: %s", msg);
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		fatal("out of memory (%zu bytes)", n);
	return p;
}

void *
xcalloc(size_t n, size_t size)
{
	void *p = calloc(n ? n : 1, size ? size : 1);

	if (!p)
		fatal("out of memory (%zu x %zu bytes)", n, size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		fatal("out of memory (%zu bytes)", n);
	return q;
}

char *
xstrdup(const char *s)
{
	size_t n = strlen(s) + 1;

	return memcpy(xmalloc(n), s, n);
}

char *
xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *s;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		fatal("out of memory in xasprintf");
	va_end(ap);
	return s;
}

int
parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
	unsigned long long v;
	char *end;

	*out = 0;
	if (!s || *s < '0' || *s > '9')
		return ERR_MALFORMED;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0')
		return ERR_MALFORMED;
	if (errno == ERANGE || v < min || v > max)
		return ERR_RANGE;
	*out = v;
	return 0;
}

int
parse_hostport(const char *s, char host[static 64], uint16_t *port)
{
	const char *colon = strrchr(s, ':');
	unsigned a, b, c, d;
	char tail;
	uint64_t p;
	size_t hl;
	int r;

	host[0] = '\0';
	*port = 0;
	if (!colon || colon == s)
		return ERR_MALFORMED;
	hl = (size_t)(colon - s);
	if (hl >= 64)
		return ERR_TOO_BIG;
	memcpy(host, s, hl);
	host[hl] = '\0';
	if (sscanf(host, "%3u.%3u.%3u.%3u%c", &a, &b, &c, &d, &tail) != 4 ||
	    a > 255 || b > 255 || c > 255 || d > 255) {
		host[0] = '\0';
		return ERR_MALFORMED;
	}
	if ((r = parse_u64(colon + 1, 1, 65535, &p)) < 0) {
		host[0] = '\0';
		return r;
	}
	*port = (uint16_t)p;
	return 0;
}

uint64_t
time_now(void)
{
	return (uint64_t)time(NULL);
}

uint64_t
mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
crypto_init(void)
{
	if (sodium_init() < 0)
		fatal("sodium_init failed");
}
