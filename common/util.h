/* Small process-independent helpers: BUG(), fatal(), allocation that
 * aborts instead of returning NULL, strict number parsing, time. */
#ifndef BURROW_UTIL_H
#define BURROW_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define MIN(a, b) ((a) < (b) ? (a) : (b))
#define MAX(a, b) ((a) > (b) ? (a) : (b))

/* Log an internal bug with its location; evaluates to cond. */
#define BUG(cond) ((cond) ? (bug_report(#cond, __FILE__, __LINE__), 1) : 0)
void bug_report(const char *what, const char *file, int line);

/* Log at error level and abort the process: RNG or sodium_init failure. */
__attribute__((noreturn, format(printf, 1, 2))) void fatal(const char *fmt, ...);

/* Allocate or abort: never return NULL. */
void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
__attribute__((format(printf, 1, 2))) char *xasprintf(const char *fmt, ...);

/* Free *pp (NULL allowed) and set it to NULL. */
#define FREE_AND_NULL(pp) do { free(pp); (pp) = NULL; } while (0)

/* Parse a whole decimal string into [min, max]: 0, ERR_MALFORMED or ERR_RANGE. */
int MUST_CHECK parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);

/* Parse "HOST:PORT" (IPv4 dotted quad) into host (≤ 63 chars) and port (1..65535). */
int MUST_CHECK parse_hostport(const char *s, char host[static 64], uint16_t *port);

/* Wall clock in seconds, and a monotonic clock in nanoseconds. */
uint64_t time_now(void);
uint64_t mono_ns(void);

/* sodium_init() or fatal(). Safe to call many times. */
void crypto_init(void);

#endif
