/* Scenario files for `burrow-sim run`: one directive per line, `#`
 * comments. The grammar is in docs/simulation.md#scenarios. */
#ifndef BURROW_SIM_SCENARIO_H
#define BURROW_SIM_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

enum scen_action {
	SCEN_KILL,	/* SIGKILL a node */
	SCEN_STOP,	/* SIGTERM a node (clean stop) */
	SCEN_RESTART,	/* start a stopped or killed node again */
	SCEN_NETEM,	/* netns only: latency, jitter, loss on a node's link */
	SCEN_CUT,	/* netns only: cut a node off */
	SCEN_HEAL,	/* netns only: undo netem/cut/shape */
	SCEN_SHAPE,	/* netns only: limit the node's outgoing rate */
};

struct scen_event {
	double at;			/* seconds after the load starts */
	enum scen_action action;
	char node[32];
	unsigned delay_ms, jitter_ms;
	unsigned rate_kbit;
	double loss_pct;
	unsigned line;
};

struct scen_expect {
	char node[32];
	bool up;
	unsigned line;
};

enum scen_size_dist { SIZE_CONST, SIZE_UNIFORM, SIZE_EXP };

struct scenario {
	char *path;
	unsigned authorities, relays, mailboxes, epoch;
	bool netns;
	bool needs_netem;		/* a netem directive is present */
	unsigned senders, messages;
	double rate;			/* messages per second over all senders */
	unsigned mean_delay_ms;
	enum scen_size_dist size_dist;
	unsigned size_a, size_b;	/* const: a; uniform: [a, b]; exp: mean a, cap b */
	unsigned timeout_s;		/* whole run bound */
	unsigned settle_s;		/* after the last send, keep fetching this long */
	bool require_all_delivered;
	bool require_exactly_once;
	struct scen_event *events;
	size_t nevents;
	struct scen_expect *expects;
	size_t nexpects;
	char *errors;			/* "file:line: message\n" lines */
	unsigned nerrors;
};

/* Parse a scenario file; always returns a scenario (free it); errors are
 * collected in sc->errors as "file:line: message" lines. */
struct scenario *scenario_load(const char *path);
struct scenario *scenario_parse(const char *path, const char *text, size_t len);
void scenario_free(struct scenario *sc);

#endif
