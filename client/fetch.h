/* Fetching the home mailbox: prove the identity key to the mailbox node,
 * pull waiting entries in batches, store each locally (fragments into the
 * inbox, SURB replies as acknowledgements of our own sends), commit, and
 * only then acknowledge them to the node, so nothing received is lost if
 * the client dies mid-fetch. */
#ifndef BURROW_CLIENT_FETCH_H
#define BURROW_CLIENT_FETCH_H

#include <stddef.h>

#include "client/client.h"
#include "common/err.h"

struct fetch_stats {
	size_t entries;		/* entries taken from the node */
	size_t fragments;	/* new message fragments stored */
	size_t duplicates;	/* fragments already held */
	size_t completed;	/* messages completed by this fetch */
	size_t acks;		/* acknowledgements of our own fragments */
	size_t unreadable;	/* entries that opened to nothing (dropped) */
};

/* Run one fetch session against the home mailbox node. c->id must be
 * unlocked. Returns 0; ERR_NOT_FOUND (home node not in the consensus);
 * ERR_AUTH (the node refused the proof); ERR_CLOSED / ERR_TIMEOUT / ERR_IO
 * (network); a consensus error; ERR_MALFORMED (the node broke the
 * protocol). Errors are logged, not printed. */
int MUST_CHECK fetch_run(struct client *c, struct fetch_stats *stats);

#endif
