/* Configuration files: `Key value` lines, `#` comments, blank lines.
 * Every bad line and unknown key is reported as "file:line: what is
 * wrong", all of them, not just the first. */
#ifndef BURROW_CONFIG_H
#define BURROW_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define CONFIG_MAX_BYTES (1u << 20)
#define CONFIG_MAX_LINE 4096

/* What a program accepts: its keys (matched case-sensitively), whether a
 * key may repeat, and whether it must appear. */
struct config_key {
	const char *name;
	bool multi;
	bool required;
};

struct config_entry {
	char *key;
	char *value;	/* trimmed; may contain spaces; never empty */
	unsigned line;
};

struct config {
	char *path;
	struct config_entry *e;
	size_t n;
	char *errors;	/* "file:line: message\n" lines, or NULL */
	unsigned nerrors;
};

/* Parse text (len bytes) named path against the known keys. Always returns
 * a config (free with config_free); errors land in cfg->errors. */
struct config *config_parse(const char *path, const char *text, size_t len,
			    const struct config_key *known, size_t nknown);
/* Read and parse a file; a file that cannot be read or is over
 * CONFIG_MAX_BYTES is reported as "file: reason" in errors. Never NULL. */
struct config *config_load(const char *path, const struct config_key *known, size_t nknown);
void config_free(struct config *cfg);

/* Record an error about an entry (e may be NULL for the file as a whole). */
__attribute__((format(printf, 3, 4)))
void config_error(struct config *cfg, const struct config_entry *e, const char *fmt, ...);

/* The last entry for key, or NULL. */
const struct config_entry *config_find(const struct config *cfg, const char *key);
/* The value for key, or def when absent. */
const char *config_str(const struct config *cfg, const char *key, const char *def);
/* Typed getters: return def when absent; on a bad value record a
 * "file:line: Key: ..." error and return def. */
uint64_t config_u64(struct config *cfg, const char *key, uint64_t min, uint64_t max, uint64_t def);
bool config_bool(struct config *cfg, const char *key, bool def);	/* 0/1, yes/no, true/false */
/* HOST:PORT into host/port; 0, or ERR_NOT_FOUND if absent, or ERR_CONFIG
 * after recording an error. */
int config_hostport(struct config *cfg, const char *key, char host[static 64], uint16_t *port);
/* Iterate over every entry for key: pass NULL first, then the previous. */
const struct config_entry *config_next(const struct config *cfg, const char *key,
				       const struct config_entry *prev);
/* Write the errors to stderr; return ERR_CONFIG if there were any, else 0. */
int config_report(const struct config *cfg);

#endif
