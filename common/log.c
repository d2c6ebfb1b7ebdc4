#include "common/log.h"

#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "common/err.h"

static enum log_level min_level = LOG_NOTICE;
static FILE *sink;
static char *sink_path;
static char ident[32];
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static const char *const level_names[] = { "debug", "info", "notice", "warn", "err" };
static const char *const domain_names[LD_N] = {
	"general", "crypto", "net", "dir", "mix", "mbox", "client", "sim", "config", "bug", "http"
};

void
log_set_level(enum log_level level)
{
	min_level = level;
}

enum log_level
log_get_level(void)
{
	return min_level;
}

bool
log_enabled(enum log_level level)
{
	return level >= min_level && min_level != LOG_OFF;
}

int
log_level_parse(const char *s, enum log_level *out)
{
	for (unsigned i = 0; i < 5; i++) {
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	}
	if (strcmp(s, "warning") == 0) {
		*out = LOG_WARN;
		return 0;
	}
	return ERR_MALFORMED;
}

void
log_set_ident(const char *s)
{
	snprintf(ident, sizeof(ident), "%s", s ? s : "");
}

int
log_open(const char *path)
{
	FILE *f = NULL;

	if (path) {
		f = fopen(path, "a");
		if (!f)
			return ERR_IO;
		setvbuf(f, NULL, _IOLBF, 0);
	}
	pthread_mutex_lock(&lock);
	if (sink)
		fclose(sink);
	sink = f;
	free(sink_path);
	sink_path = path ? strdup(path) : NULL;
	pthread_mutex_unlock(&lock);
	return 0;
}

int
log_reopen(void)
{
	FILE *f;
	int r = 0;

	pthread_mutex_lock(&lock);
	if (sink_path) {
		f = fopen(sink_path, "a");
		if (f) {
			setvbuf(f, NULL, _IOLBF, 0);
			fclose(sink);
			sink = f;
		} else {
			r = ERR_IO;
		}
	}
	pthread_mutex_unlock(&lock);
	return r;
}

static void
emit(enum log_level level, enum log_domain domain, const char *fmt, va_list ap)
{
	char line[1024], stamp[32];
	struct timeval tv;
	struct tm tm;
	int n;

	gettimeofday(&tv, NULL);
	gmtime_r(&tv.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	n = snprintf(line, sizeof(line), "%s.%03ldZ [%s] %s%s%s: ", stamp, (long)tv.tv_usec / 1000,
		     level_names[level], ident, ident[0] ? " " : "",
		     (unsigned)domain < LD_N ? domain_names[domain] : "?");
	if (n < 0 || (size_t)n >= sizeof(line))
		n = 0;
	vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
	pthread_mutex_lock(&lock);
	fprintf(sink ? sink : stderr, "%s\n", line);
	pthread_mutex_unlock(&lock);
}

void
log_msg(enum log_level level, enum log_domain domain, const char *fmt, ...)
{
	va_list ap;

	if (!log_enabled(level))
		return;
	va_start(ap, fmt);
	emit(level, domain, fmt, ap);
	va_end(ap);
}

void
log_ratelim(struct log_ratelim *rl, unsigned per_min, enum log_domain domain, const char *fmt, ...)
{
	long minute = (long)(time(NULL) / 60);
	va_list ap;

	if (!log_enabled(LOG_INFO))
		return;
	if (rl->window != minute) {
		if (rl->suppressed)
			log_msg(LOG_INFO, domain, "(%u similar messages suppressed)", rl->suppressed);
		rl->window = minute;
		rl->n = 0;
		rl->suppressed = 0;
	}
	if (rl->n >= per_min) {
		rl->suppressed++;
		return;
	}
	rl->n++;
	va_start(ap, fmt);
	emit(LOG_INFO, domain, fmt, ap);
	va_end(ap);
}
