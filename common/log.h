/* Logging with domains and levels: one lowercase line per event, no
 * trailing period, to stderr or a file that SIGHUP can reopen.
 *
 * The log sink is the one piece of process-wide state outside *_main.c:
 * a process has one stderr, and sim/'s in-process nodes share it, naming
 * themselves through log_ident. */
#ifndef BURROW_LOG_H
#define BURROW_LOG_H

#include <stdbool.h>

enum log_level { LOG_DEBUG, LOG_INFO, LOG_NOTICE, LOG_WARN, LOG_ERR, LOG_OFF };

enum log_domain {
	LD_GENERAL, LD_CRYPTO, LD_NET, LD_DIR, LD_MIX, LD_MBOX, LD_CLIENT,
	LD_SIM, LD_CONFIG, LD_BUG, LD_HTTP, LD_N
};

/* Set the lowest level logged (default LOG_NOTICE). */
void log_set_level(enum log_level level);
enum log_level log_get_level(void);
/* Parse "debug", "info", "notice", "warn" or "err": 0 or ERR_MALFORMED. */
int log_level_parse(const char *s, enum log_level *out);
/* Set a short name shown on every line (for example the node's nickname). */
void log_set_ident(const char *ident);
/* Log to a file (appending), or to stderr when path is NULL: 0 or ERR_IO. */
int log_open(const char *path);
/* Reopen the current log file (after rotation): 0 or ERR_IO. */
int log_reopen(void);
bool log_enabled(enum log_level level);

__attribute__((format(printf, 3, 4)))
void log_msg(enum log_level level, enum log_domain domain, const char *fmt, ...);

/* Like log_msg at LOG_INFO, but at most `per_min` lines a minute for
 * this key (a static counter at the call site): for peer faults. */
struct log_ratelim { long window; unsigned n; unsigned suppressed; };
__attribute__((format(printf, 4, 5)))
void log_ratelim(struct log_ratelim *rl, unsigned per_min, enum log_domain domain,
		 const char *fmt, ...);

#define log_debug(d, ...) do { if (log_enabled(LOG_DEBUG)) log_msg(LOG_DEBUG, d, __VA_ARGS__); } while (0)
#define log_info(d, ...) log_msg(LOG_INFO, d, __VA_ARGS__)
#define log_notice(d, ...) log_msg(LOG_NOTICE, d, __VA_ARGS__)
#define log_warn(d, ...) log_msg(LOG_WARN, d, __VA_ARGS__)
#define log_err(d, ...) log_msg(LOG_ERR, d, __VA_ARGS__)

#endif
