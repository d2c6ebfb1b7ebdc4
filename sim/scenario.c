#include "sim/scenario.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

#define SCEN_MAX_BYTES (256u * 1024u)
#define SCEN_MAX_WORDS 16

__attribute__((format(printf, 3, 4))) static void
fail(struct scenario *sc, unsigned line, const char *fmt, ...)
{
	char msg[256];
	char *s;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (line)
		s = xasprintf("%s%s:%u: %s\n", sc->errors ? sc->errors : "", sc->path, line, msg);
	else
		s = xasprintf("%s%s: %s\n", sc->errors ? sc->errors : "", sc->path, msg);
	free(sc->errors);
	sc->errors = s;
	sc->nerrors++;
}

static bool
num(struct scenario *sc, unsigned line, const char *what, const char *s, uint64_t min,
    uint64_t max, unsigned *out)
{
	uint64_t v;

	if (!s || parse_u64(s, min, max, &v) < 0) {
		fail(sc, line, "%s: expected a whole number from %llu to %llu, got '%s'", what,
		     (unsigned long long)min, (unsigned long long)max, s ? s : "");
		return false;
	}
	*out = (unsigned)v;
	return true;
}

static bool
real(struct scenario *sc, unsigned line, const char *what, const char *s, double min, double max,
     double *out)
{
	char *end;
	double v;

	if (!s || !*s) {
		fail(sc, line, "%s: missing number", what);
		return false;
	}
	v = strtod(s, &end);
	if (*end || !(v >= min && v <= max)) {
		fail(sc, line, "%s: expected a number from %g to %g, got '%s'", what, min, max, s);
		return false;
	}
	*out = v;
	return true;
}

/* Parse "50ms", "2s" or "50" (ms) into milliseconds. */
static bool
duration_ms(struct scenario *sc, unsigned line, const char *what, const char *s, unsigned *out)
{
	char buf[32];
	size_t n = s ? strlen(s) : 0;
	unsigned mult = 1;

	if (n == 0 || n >= sizeof(buf)) {
		fail(sc, line, "%s: expected a duration like 50ms or 2s", what);
		return false;
	}
	memcpy(buf, s, n + 1);
	if (n > 2 && strcmp(buf + n - 2, "ms") == 0) {
		buf[n - 2] = '\0';
	} else if (n > 1 && buf[n - 1] == 's') {
		buf[n - 1] = '\0';
		mult = 1000;
	}
	if (!num(sc, line, what, buf, 0, 600000 / mult, out))
		return false;
	*out *= mult;
	return true;
}

static bool
node_name(struct scenario *sc, unsigned line, const char *s, char out[32])
{
	static const char *const prefixes[] = { "auth", "relay", "mbox" };
	uint64_t idx;

	for (size_t i = 0; s && i < ARRAY_LEN(prefixes); i++) {
		size_t pl = strlen(prefixes[i]);

		if (strncmp(s, prefixes[i], pl) == 0 && parse_u64(s + pl, 1, 999, &idx) == 0) {
			snprintf(out, 32, "%s", s);
			return true;
		}
	}
	fail(sc, line, "expected a node name like auth1, relay2 or mbox1, got '%s'", s ? s : "");
	return false;
}

/* key value pairs: "authorities 3 relays 5" */
static void
parse_pairs(struct scenario *sc, unsigned line, char **w, size_t nw)
{
	for (size_t i = 1; i < nw; i += 2) {
		const char *k = w[i], *v = i + 1 < nw ? w[i + 1] : NULL;

		if (!v) {
			fail(sc, line, "'%s' needs a value", k);
			return;
		}
		if (strcmp(w[0], "network") == 0) {
			if (strcmp(k, "authorities") == 0)
				num(sc, line, k, v, 1, 9, &sc->authorities);
			else if (strcmp(k, "relays") == 0)
				num(sc, line, k, v, 3, 200, &sc->relays);
			else if (strcmp(k, "mailboxes") == 0)
				num(sc, line, k, v, 1, 50, &sc->mailboxes);
			else if (strcmp(k, "epoch") == 0)
				num(sc, line, k, v, 4, 86400, &sc->epoch);
			else
				fail(sc, line, "network: unknown setting '%s' (authorities, relays, "
				     "mailboxes, epoch)", k);
		} else {
			if (strcmp(k, "senders") == 0)
				num(sc, line, k, v, 1, 1000, &sc->senders);
			else if (strcmp(k, "messages") == 0)
				num(sc, line, k, v, 1, 1000000, &sc->messages);
			else if (strcmp(k, "rate") == 0)
				real(sc, line, k, v, 0.01, 10000, &sc->rate);
			else if (strcmp(k, "delay") == 0)
				duration_ms(sc, line, k, v, &sc->mean_delay_ms);
			else
				fail(sc, line, "load: unknown setting '%s' (senders, messages, rate, "
				     "delay)", k);
		}
	}
}

static void
parse_size(struct scenario *sc, unsigned line, char **w, size_t nw)
{
	const uint64_t max = 64u << 20;

	if (nw == 3 && strcmp(w[1], "const") == 0) {
		sc->size_dist = SIZE_CONST;
		num(sc, line, "size", w[2], 1, max, &sc->size_a);
	} else if (nw == 4 && (strcmp(w[1], "uniform") == 0 || strcmp(w[1], "exp") == 0)) {
		sc->size_dist = w[1][0] == 'u' ? SIZE_UNIFORM : SIZE_EXP;
		if (num(sc, line, "size", w[2], 1, max, &sc->size_a) &&
		    num(sc, line, "size", w[3], 1, max, &sc->size_b) && sc->size_b < sc->size_a)
			fail(sc, line, "size: the second number must not be below the first");
	} else {
		fail(sc, line, "size: expected 'size const N', 'size uniform MIN MAX' or "
		     "'size exp MEAN CAP'");
	}
}

static void
parse_at(struct scenario *sc, unsigned line, char **w, size_t nw)
{
	struct scen_event ev = { .line = line };

	if (nw < 4) {
		fail(sc, line, "expected 'at SECONDS ACTION NODE ...'");
		return;
	}
	if (!real(sc, line, "at", w[1], 0, 86400, &ev.at))
		return;
	if (strcmp(w[2], "kill") == 0)
		ev.action = SCEN_KILL;
	else if (strcmp(w[2], "stop") == 0)
		ev.action = SCEN_STOP;
	else if (strcmp(w[2], "restart") == 0)
		ev.action = SCEN_RESTART;
	else if (strcmp(w[2], "netem") == 0)
		ev.action = SCEN_NETEM;
	else if (strcmp(w[2], "cut") == 0)
		ev.action = SCEN_CUT;
	else if (strcmp(w[2], "heal") == 0)
		ev.action = SCEN_HEAL;
	else if (strcmp(w[2], "shape") == 0)
		ev.action = SCEN_SHAPE;
	else {
		fail(sc, line, "unknown action '%s' (kill, stop, restart, netem, shape, cut, heal)",
		     w[2]);
		return;
	}
	if (!node_name(sc, line, w[3], ev.node))
		return;
	if (ev.action == SCEN_NETEM) {
		for (size_t i = 4; i < nw; i += 2) {
			const char *v = i + 1 < nw ? w[i + 1] : NULL;

			if (strcmp(w[i], "delay") == 0) {
				duration_ms(sc, line, "delay", v, &ev.delay_ms);
			} else if (strcmp(w[i], "jitter") == 0) {
				duration_ms(sc, line, "jitter", v, &ev.jitter_ms);
			} else if (strcmp(w[i], "loss") == 0) {
				char buf[16];
				size_t n = v ? strlen(v) : 0;

				if (n && n < sizeof(buf) && v[n - 1] == '%') {
					memcpy(buf, v, n - 1);
					buf[n - 1] = '\0';
					real(sc, line, "loss", buf, 0, 100, &ev.loss_pct);
				} else {
					fail(sc, line, "loss: expected a percentage like 5%%");
				}
			} else {
				fail(sc, line, "netem: unknown setting '%s' (delay, jitter, loss)",
				     w[i]);
			}
		}
	} else if (ev.action == SCEN_SHAPE) {
		if (nw != 6 || strcmp(w[4], "rate") != 0) {
			fail(sc, line, "expected 'at SECONDS shape NODE rate KBIT'");
			return;
		}
		if (!num(sc, line, "rate", w[5], 8, 10000000, &ev.rate_kbit))
			return;
	} else if (nw != 4) {
		fail(sc, line, "'%s' takes only a node name", w[2]);
		return;
	}
	if (ev.action >= SCEN_NETEM)
		sc->netns = true;
	if (ev.action == SCEN_NETEM)
		sc->needs_netem = true;
	sc->events = xrealloc(sc->events, (sc->nevents + 1) * sizeof(*sc->events));
	sc->events[sc->nevents++] = ev;
}

static void
parse_line(struct scenario *sc, unsigned line, char *s)
{
	char *w[SCEN_MAX_WORDS], *save = NULL, *tok;
	size_t nw = 0;

	for (tok = strtok_r(s, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (nw == SCEN_MAX_WORDS) {
			fail(sc, line, "too many words");
			return;
		}
		w[nw++] = tok;
	}
	if (nw == 0)
		return;
	if (strcmp(w[0], "network") == 0 || strcmp(w[0], "load") == 0) {
		parse_pairs(sc, line, w, nw);
	} else if (strcmp(w[0], "size") == 0) {
		parse_size(sc, line, w, nw);
	} else if (strcmp(w[0], "at") == 0) {
		parse_at(sc, line, w, nw);
	} else if (strcmp(w[0], "expect") == 0) {
		struct scen_expect ex = { .line = line };

		if (nw != 3 || (strcmp(w[2], "up") != 0 && strcmp(w[2], "down") != 0)) {
			fail(sc, line, "expected 'expect NODE up' or 'expect NODE down'");
			return;
		}
		if (!node_name(sc, line, w[1], ex.node))
			return;
		ex.up = strcmp(w[2], "up") == 0;
		sc->expects = xrealloc(sc->expects, (sc->nexpects + 1) * sizeof(*sc->expects));
		sc->expects[sc->nexpects++] = ex;
	} else if (strcmp(w[0], "timeout") == 0 && nw == 2) {
		num(sc, line, "timeout", w[1], 10, 86400, &sc->timeout_s);
	} else if (strcmp(w[0], "settle") == 0 && nw == 2) {
		num(sc, line, "settle", w[1], 0, 3600, &sc->settle_s);
	} else if (strcmp(w[0], "require") == 0 && nw == 2) {
		if (strcmp(w[1], "all-delivered") == 0)
			sc->require_all_delivered = true;
		else if (strcmp(w[1], "exactly-once") == 0)
			sc->require_exactly_once = true;
		else
			fail(sc, line, "require: expected all-delivered or exactly-once");
	} else if (strcmp(w[0], "netns") == 0 && nw == 1) {
		sc->netns = true;
	} else {
		fail(sc, line, "unknown directive '%s' (network, load, size, at, expect, timeout, "
		     "settle, require, netns)", w[0]);
	}
}

/* Check that each node named exists in the network the file describes. */
static void
check_nodes(struct scenario *sc, const char *name, unsigned line)
{
	unsigned idx = 0, max = 0;

	if (sscanf(name, "auth%u", &idx) == 1)
		max = sc->authorities;
	else if (sscanf(name, "relay%u", &idx) == 1)
		max = sc->relays;
	else if (sscanf(name, "mbox%u", &idx) == 1)
		max = sc->mailboxes;
	if (idx == 0 || idx > max)
		fail(sc, line, "no node '%s' in a network of %u authorities, %u relays and %u "
		     "mailbox nodes", name, sc->authorities, sc->relays, sc->mailboxes);
}

struct scenario *
scenario_parse(const char *path, const char *text, size_t len)
{
	struct scenario *sc = xcalloc(1, sizeof(*sc));
	unsigned line = 0;
	size_t off = 0;

	sc->path = xstrdup(path);
	sc->authorities = 3;
	sc->relays = 5;
	sc->mailboxes = 1;
	sc->epoch = 8;
	sc->senders = 1;
	sc->messages = 10;
	sc->rate = 1;
	sc->size_dist = SIZE_CONST;
	sc->size_a = sc->size_b = 256;
	sc->timeout_s = 300;
	sc->settle_s = 30;
	while (off < len) {
		const char *nl = memchr(text + off, '\n', len - off);
		size_t n = nl ? (size_t)(nl - (text + off)) : len - off;
		char buf[1024], *hash;

		line++;
		if (n >= sizeof(buf)) {
			fail(sc, line, "line too long");
		} else if (memchr(text + off, '\0', n)) {
			fail(sc, line, "NUL byte in line");
		} else {
			memcpy(buf, text + off, n);
			buf[n] = '\0';
			if ((hash = strchr(buf, '#')))
				*hash = '\0';
			if (n && buf[n - 1] == '\r')
				buf[n - 1] = '\0';
			parse_line(sc, line, buf);
		}
		off += n + (nl ? 1 : 0);
	}
	/* Events run in time order; equal times keep their order in the file. */
	for (size_t i = 1; i < sc->nevents; i++) {
		struct scen_event ev = sc->events[i];
		size_t j = i;

		for (; j > 0 && sc->events[j - 1].at > ev.at; j--)
			sc->events[j] = sc->events[j - 1];
		sc->events[j] = ev;
	}
	for (size_t i = 0; i < sc->nevents; i++)
		check_nodes(sc, sc->events[i].node, sc->events[i].line);
	for (size_t i = 0; i < sc->nexpects; i++)
		check_nodes(sc, sc->expects[i].node, sc->expects[i].line);
	return sc;
}

struct scenario *
scenario_load(const char *path)
{
	FILE *f = fopen(path, "rb");
	struct scenario *sc;
	char *text;
	size_t n;

	if (!f) {
		sc = scenario_parse(path, "", 0);
		fail(sc, 0, "cannot open: %s", strerror(errno));
		return sc;
	}
	text = xmalloc(SCEN_MAX_BYTES + 1);
	n = fread(text, 1, SCEN_MAX_BYTES + 1, f);
	fclose(f);
	if (n > SCEN_MAX_BYTES) {
		sc = scenario_parse(path, "", 0);
		fail(sc, 0, "file over %u bytes", SCEN_MAX_BYTES);
	} else {
		sc = scenario_parse(path, text, n);
	}
	free(text);
	return sc;
}

void
scenario_free(struct scenario *sc)
{
	if (!sc)
		return;
	free(sc->path);
	free(sc->events);
	free(sc->expects);
	free(sc->errors);
	free(sc);
}
