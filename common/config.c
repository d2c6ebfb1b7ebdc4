/* Configuration files: one `Key value` per line, checked against the keys a
 * program knows, every problem reported as "file:line: what is wrong".
 * Grammar in docs/spec.md part 7. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/config.h"
#include "common/util.h"

/* Past this many errors the rest are counted in nerrors but not spelled
 * out: a binary file fed as a config must not produce megabytes of text. */
#define CONFIG_MAX_ERROR_LINES 100
/* Unknown keys longer than this get no "did you mean" suggestion. */
#define SUGGEST_MAX_LEN 64

static void
verror(struct config *cfg, unsigned line, const char *fmt, va_list ap)
{
	char msg[512];
	char *old = cfg->errors;
	size_t oldlen = old ? strlen(old) : 0;
	char *line_text;
	size_t n;

	cfg->nerrors++;
	if (cfg->nerrors > CONFIG_MAX_ERROR_LINES + 1)
		return;
	if (cfg->nerrors == CONFIG_MAX_ERROR_LINES + 1) {
		line_text = xasprintf("%s: too many errors; the rest are not shown\n", cfg->path);
	} else {
		vsnprintf(msg, sizeof(msg), fmt, ap);
		if (line)
			line_text = xasprintf("%s:%u: %s\n", cfg->path, line, msg);
		else
			line_text = xasprintf("%s: %s\n", cfg->path, msg);
	}
	n = strlen(line_text);
	cfg->errors = xrealloc(old, oldlen + n + 1);
	memcpy(cfg->errors + oldlen, line_text, n + 1);
	free(line_text);
}

__attribute__((format(printf, 3, 4))) static void
line_error(struct config *cfg, unsigned line, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(cfg, line, fmt, ap);
	va_end(ap);
}

void
config_error(struct config *cfg, const struct config_entry *e, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	verror(cfg, e ? e->line : 0, fmt, ap);
	va_end(ap);
}

static char *
xstrndup_bytes(const char *p, size_t n)
{
	char *s = xmalloc(n + 1);

	memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

static bool
is_space(char c)
{
	return c == ' ' || c == '\t';
}

static bool
is_alpha(char c)
{
	return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static char
fold(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Levenshtein distance ignoring case, for "did you mean" hints. */
static size_t
edit_distance(const char *a, size_t na, const char *b)
{
	size_t nb = strlen(b);
	size_t row[SUGGEST_MAX_LEN + 1];

	if (na > SUGGEST_MAX_LEN || nb > SUGGEST_MAX_LEN)
		return SIZE_MAX;
	for (size_t j = 0; j <= nb; j++)
		row[j] = j;
	for (size_t i = 1; i <= na; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= nb; j++) {
			size_t up = row[j];
			size_t best = diag + (fold(a[i - 1]) == fold(b[j - 1]) ? 0 : 1);

			best = MIN(best, up + 1);
			best = MIN(best, row[j - 1] + 1);
			row[j] = best;
			diag = up;
		}
	}
	return row[nb];
}

static const struct config_key *
find_known(const struct config_key *known, size_t nknown, const char *key)
{
	for (size_t i = 0; i < nknown; i++)
		if (strcmp(known[i].name, key) == 0)
			return &known[i];
	return NULL;
}

static const char *
suggest(const struct config_key *known, size_t nknown, const char *key, size_t klen)
{
	const char *best = NULL;
	size_t bestd = 3;	/* suggest only within distance 2 */

	for (size_t i = 0; i < nknown; i++) {
		size_t d = edit_distance(key, klen, known[i].name);

		if (d < bestd) {
			bestd = d;
			best = known[i].name;
		}
	}
	return best;
}

static void
add_entry(struct config *cfg, const char *key, size_t klen, const char *val, size_t vlen,
	  unsigned line)
{
	struct config_entry *e;

	cfg->e = xrealloc(cfg->e, (cfg->n + 1) * sizeof(*cfg->e));
	e = &cfg->e[cfg->n++];
	e->key = xstrndup_bytes(key, klen);
	e->value = xstrndup_bytes(val, vlen);
	e->line = line;
}

/* Check one line's bytes (without its newline); 0 if usable. */
static int
check_bytes(struct config *cfg, unsigned lineno, const char *p, size_t n)
{
	if (n > CONFIG_MAX_LINE) {
		line_error(cfg, lineno, "line is longer than %u bytes", CONFIG_MAX_LINE);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];

		if (c == 0) {
			line_error(cfg, lineno, "NUL byte in line");
			return -1;
		}
		if ((c < 0x20 && c != '\t') || c == 0x7f) {
			line_error(cfg, lineno, "control character 0x%02x in line", c);
			return -1;
		}
	}
	return 0;
}

static void
parse_line(struct config *cfg, unsigned lineno, const char *p, size_t n,
	   const struct config_key *known, size_t nknown)
{
	const char *key, *val;
	size_t klen, vlen, start = 0, end;
	const struct config_key *k;
	char *keystr;

	if (check_bytes(cfg, lineno, p, n) != 0)
		return;
	while (start < n && is_space(p[start]))
		start++;
	if (start == n || p[start] == '#')
		return;		/* blank or comment line */
	/* A trailing comment starts at a '#' that follows whitespace. */
	end = start;
	while (end < n && !(p[end] == '#' && is_space(p[end - 1])))
		end++;
	while (end > start && is_space(p[end - 1]))
		end--;

	key = p + start;
	klen = 0;
	while (start + klen < end && !is_space(key[klen]))
		klen++;
	val = key + klen;
	while (val < p + end && is_space(*val))
		val++;
	vlen = (size_t)(p + end - val);

	if (!is_alpha(key[0])) {
		line_error(cfg, lineno, "bad key '%.*s': keys start with a letter", (int)MIN(klen, 64),
			   key);
		return;
	}
	for (size_t i = 1; i < klen; i++) {
		if (!is_alpha(key[i]) && !is_digit(key[i])) {
			line_error(cfg, lineno, "bad key '%.*s': keys are letters and digits",
				   (int)MIN(klen, 64), key);
			return;
		}
	}

	keystr = xstrndup_bytes(key, klen);
	if (known != NULL) {
		k = find_known(known, nknown, keystr);
		if (k == NULL) {
			const char *hint = suggest(known, nknown, keystr, klen);

			if (hint)
				line_error(cfg, lineno, "unknown key '%.64s'; did you mean '%s'?",
					   keystr, hint);
			else
				line_error(cfg, lineno, "unknown key '%.64s'", keystr);
			goto out;
		}
		if (vlen == 0) {
			line_error(cfg, lineno, "%s: missing value", keystr);
			goto out;
		}
		if (!k->multi) {
			const struct config_entry *prev = config_find(cfg, keystr);

			if (prev) {
				line_error(cfg, lineno, "%s: repeated (first set on line %u)",
					   keystr, prev->line);
				goto out;
			}
		}
	} else if (vlen == 0) {
		line_error(cfg, lineno, "%s: missing value", keystr);
		goto out;
	}
	add_entry(cfg, key, klen, val, vlen, lineno);
out:
	free(keystr);
}

struct config *
config_parse(const char *path, const char *text, size_t len, const struct config_key *known,
	     size_t nknown)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));
	size_t pos = 0;
	unsigned lineno = 0;

	cfg->path = xstrdup(path ? path : "(config)");
	if (len > CONFIG_MAX_BYTES) {
		line_error(cfg, 0, "file is larger than %u bytes", CONFIG_MAX_BYTES);
		return cfg;
	}
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;

		lineno++;
		/* Accept CRLF line ends: drop one CR before the newline. */
		parse_line(cfg, lineno, text + pos, (n > 0 && text[pos + n - 1] == '\r') ? n - 1 : n,
			   known, nknown);
		pos += n + (nl ? 1 : 0);
	}
	for (size_t i = 0; known != NULL && i < nknown; i++)
		if (known[i].required && config_find(cfg, known[i].name) == NULL)
			line_error(cfg, 0, "missing required key '%s'", known[i].name);
	return cfg;
}

/* A config holding only one error about the file as a whole. */
static struct config *
file_failure(const char *path, const char *msg, const char *detail)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));

	cfg->path = xstrdup(path);
	if (detail)
		line_error(cfg, 0, "%s: %s", msg, detail);
	else
		line_error(cfg, 0, "%s", msg);
	return cfg;
}

struct config *
config_load(const char *path, const struct config_key *known, size_t nknown)
{
	struct config *cfg;
	struct stat st;
	char *text;
	size_t len = 0;
	int fd, err;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return file_failure(path, "cannot read", strerror(errno));
	if (fstat(fd, &st) != 0) {
		err = errno;
		close(fd);
		return file_failure(path, "cannot read", strerror(err));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return file_failure(path, "not a regular file", NULL);
	}
	/* Read at most one byte past the limit, whatever fstat said. */
	text = xmalloc(CONFIG_MAX_BYTES + 1);
	for (;;) {
		ssize_t r = read(fd, text + len, CONFIG_MAX_BYTES + 1 - len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err = errno;
			close(fd);
			free(text);
			return file_failure(path, "cannot read", strerror(err));
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > CONFIG_MAX_BYTES)
			break;
	}
	close(fd);
	cfg = config_parse(path, text, len, known, nknown);
	free(text);
	return cfg;
}

void
config_free(struct config *cfg)
{
	if (cfg == NULL)
		return;
	for (size_t i = 0; i < cfg->n; i++) {
		free(cfg->e[i].key);
		free(cfg->e[i].value);
	}
	free(cfg->e);
	free(cfg->errors);
	free(cfg->path);
	free(cfg);
}

const struct config_entry *
config_find(const struct config *cfg, const char *key)
{
	for (size_t i = cfg->n; i > 0; i--)
		if (strcmp(cfg->e[i - 1].key, key) == 0)
			return &cfg->e[i - 1];
	return NULL;
}

const struct config_entry *
config_next(const struct config *cfg, const char *key, const struct config_entry *prev)
{
	size_t i = prev ? (size_t)(prev - cfg->e) + 1 : 0;

	for (; i < cfg->n; i++)
		if (strcmp(cfg->e[i].key, key) == 0)
			return &cfg->e[i];
	return NULL;
}

const char *
config_str(const struct config *cfg, const char *key, const char *def)
{
	const struct config_entry *e = config_find(cfg, key);

	return e ? e->value : def;
}

uint64_t
config_u64(struct config *cfg, const char *key, uint64_t min, uint64_t max, uint64_t def)
{
	const struct config_entry *e = config_find(cfg, key);
	uint64_t v;

	if (e == NULL)
		return def;
	if (parse_u64(e->value, min, max, &v) != 0) {
		config_error(cfg, e, "%s: must be an integer between %llu and %llu", e->key,
			     (unsigned long long)min, (unsigned long long)max);
		return def;
	}
	return v;
}

bool
config_bool(struct config *cfg, const char *key, bool def)
{
	static const char *const yes[] = { "1", "yes", "true" };
	static const char *const no[] = { "0", "no", "false" };
	const struct config_entry *e = config_find(cfg, key);

	if (e == NULL)
		return def;
	for (size_t i = 0; i < ARRAY_LEN(yes); i++) {
		if (strcmp(e->value, yes[i]) == 0)
			return true;
		if (strcmp(e->value, no[i]) == 0)
			return false;
	}
	config_error(cfg, e, "%s: must be one of 0, 1, yes, no, true, false", e->key);
	return def;
}

int
config_hostport(struct config *cfg, const char *key, char host[static 64], uint16_t *port)
{
	const struct config_entry *e = config_find(cfg, key);

	host[0] = '\0';
	*port = 0;
	if (e == NULL)
		return ERR_NOT_FOUND;
	if (parse_hostport(e->value, host, port) != 0) {
		host[0] = '\0';
		*port = 0;
		config_error(cfg, e, "%s: must be IPV4:PORT with a port between 1 and 65535",
			     e->key);
		return ERR_CONFIG;
	}
	return 0;
}

int
config_report(const struct config *cfg)
{
	if (cfg->nerrors == 0)
		return 0;
	if (cfg->errors)
		fputs(cfg->errors, stderr);
	return ERR_CONFIG;
}
