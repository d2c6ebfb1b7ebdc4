/* Internals shared by authority.c (state, storage, HTTP server) and
 * round.c (the voting schedule). */
#ifndef BURROW_DIRECTORY_AUTHORITY_INT_H
#define BURROW_DIRECTORY_AUTHORITY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/dirdoc.h"
#include "common/keys.h"
#include "directory/authority.h"
#include "directory/vote.h"

#define AUTH_KEEP_CONS 8		/* consensuses kept in memory and on disk */
#define AUTH_MAX_DESCS DIRDOC_CONS_MAX_RELAYS
#define AUTH_VOTE_AT 200		/* per mille of the epoch */
#define AUTH_CONS_AT 500
#define AUTH_HTTP_TIMEOUT 10		/* seconds, server and client side */

struct desc {
	struct dirdoc_relay r;
	char *text;
	size_t len;
};

struct cons_doc {
	uint64_t epoch;
	char *body;
	size_t body_len;
	struct dirdoc_sig sigs[DIRDOC_AUTH_MAX];
	size_t nsigs;
	char *text;			/* body + signatures, served as is */
	size_t text_len;
	struct dirdoc_consensus *parsed;
};

struct peer {
	uint8_t pk[ID_PK_LEN];
	char host[64];
	uint16_t port;
	char fp[FINGERPRINT_LEN + 1];
	bool self;
	/* state for the current round */
	struct vote *vote;		/* its vote (ours too, for self) */
	bool vote_sent, vote_busy;
	bool sig_sent, sig_busy;
	bool vote_used;			/* its vote went into our consensus */
	bool fetch_busy;		/* GET /vote/ROUND in flight */
	uint64_t vote_next_ms, sig_next_ms, fetch_next_ms;	/* earliest next attempt */
};

struct authority {
	struct event_base *base;
	struct evhttp *http;
	struct event *timer;
	struct id_keypair *id;
	char fp[FINGERPRINT_LEN + 1];
	struct peer peers[DIRDOC_AUTH_MAX];
	size_t npeers;			/* all authorities, self included */
	uint64_t epoch_len, max_age;
	char *datadir;
	struct desc *descs;		/* unsorted; found by node id */
	size_t ndescs, cap;
	uint64_t round;			/* target epoch of the current round */
	char *my_vote;
	size_t my_vote_len;
	bool computed;			/* our consensus for round exists */
	bool short_logged;		/* "too few votes" said this round */
	bool resync;			/* a peer signed another body: reconcile votes */
	struct cons_doc cons[AUTH_KEEP_CONS];	/* epoch 0 = empty slot */
};

uint64_t auth_now_ms(void);
struct cons_doc *auth_cons_find(struct authority *a, uint64_t epoch);
/* Add a consensus body we computed or loaded (takes ownership of body). A
 * body already held for the same epoch is replaced, with its signatures. */
struct cons_doc *auth_cons_add(struct authority *a, uint64_t epoch, char *body, size_t body_len);
/* Add a signature after checking it over d's body, reassemble the text and
 * store it: 0, ERR_BAD_SIG (not over this body; nothing stored), ERR_FULL
 * or ERR_IO. So a served document never carries a signature that does
 * not verify. */
int auth_cons_add_sig(struct authority *a, struct cons_doc *d, const uint8_t pk[static 32],
		      const uint8_t sig[static 64]);
struct peer *auth_peer_find(struct authority *a, const uint8_t pk[static 32]);

/* round.c */
void round_tick(struct authority *a);
/* Handle POST /vote and POST /signature: an HTTP status, why set. A
 * signature that does not verify over our body for its epoch is refused
 * with 409 and never stored; for the epoch being voted on it also starts
 * a reconciliation (see docs/spec.md part 3, section 7). */
int round_on_vote(struct authority *a, const char *text, size_t len, char *why, size_t whylen);
int round_on_signature(struct authority *a, const char *text, size_t len, char *why,
		       size_t whylen);

#endif
