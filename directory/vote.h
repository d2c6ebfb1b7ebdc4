/* Authority votes and the deterministic consensus computed from them.
 *
 * A vote is the list of relay descriptors one authority accepted for a
 * target epoch, each with the flags that authority assigns, signed by the
 * authority (docs/spec.md, "Votes"). Every authority computes the consensus
 * from the votes it holds with vote_compute(), which depends only on the
 * set of votes, so authorities holding the same votes produce
 * byte-identical bodies. */
#ifndef BURROW_DIRECTORY_VOTE_H
#define BURROW_DIRECTORY_VOTE_H

#include <stddef.h>
#include <stdint.h>

#include "common/dirdoc.h"
#include "common/err.h"
#include "common/keys.h"

#define VOTE_MAX ((size_t)32 << 20)	/* bytes in a vote */
#define VOTE_DESC_LINES 14		/* lines in one descriptor */

struct vote {
	uint64_t epoch;			/* the consensus epoch voted for */
	uint8_t auth_pk[ID_PK_LEN];
	uint64_t published;
	size_t nrelays;
	struct dirdoc_relay *relays;	/* sorted by node_id; flags set */
};

/* One relay in a vote being built: its descriptor text (as the relay
 * signed it) and the flags this authority assigns. */
struct vote_item {
	const char *desc;
	size_t desc_len;
	const uint8_t *node_id;		/* for sorting */
	uint32_t flags;
};

/* Encode and sign a vote; items are sorted here by node_id (they must be
 * distinct). *out is a NUL-terminated heap string owned by the caller.
 * Returns 0, ERR_DUPLICATE or ERR_TOO_BIG. */
int MUST_CHECK vote_encode(uint64_t epoch, uint64_t published, struct vote_item *items, size_t n,
			   const struct id_keypair *kp, char **out, size_t *len);

/* Parse a vote: when allowed is non-NULL the signer must be one of its
 * nallowed keys (checked first, else ERR_UNKNOWN_SIGNER); then the vote
 * signature (before any relay is parsed), every descriptor's signature, and
 * that each relay has a packet key for the vote's epoch. On success *out is
 * a new vote owned by the caller. Returns 0, ERR_TOO_BIG, ERR_TRUNCATED,
 * ERR_MALFORMED, ERR_UNSUPPORTED, ERR_UNKNOWN_SIGNER or ERR_BAD_SIG, with
 * one line in why. */
int MUST_CHECK vote_parse(const char *text, size_t len, const uint8_t (*allowed)[32],
			  size_t nallowed, struct vote **out, char *why, size_t whylen);

void vote_free(struct vote *v);
#define VOTE_FREE(p) do { vote_free(p); (p) = NULL; } while (0)

/* Compute the consensus for epoch from votes (at most one per authority;
 * nauth is the number of configured authorities). "A relay is listed when
 * more than half of all the authorities list it"; its fields come from the
 * most recently published descriptor among the votes (ties: the smaller
 * signature bytes); a flag is set when more than half of the votes listing
 * the relay set it. On success *out is a new consensus (unsigned) owned by
 * the caller. Returns 0 or ERR_MALFORMED (a vote for another epoch). */
int MUST_CHECK vote_compute(struct vote *const *votes, size_t nvotes, size_t nauth,
			    uint64_t epoch, uint64_t epoch_len, struct dirdoc_consensus **out);

#endif
