/* Sending: a message is queued in the outbox as fragments, then each
 * fragment goes out in its own packet over a fresh path with an ACK SURB
 * back to the sender's own mailbox; unacknowledged fragments are resent
 * over a new path after a timeout derived from the path's delays, up to
 * the configured number of tries, then marked failed. */
#ifndef BURROW_CLIENT_SEND_H
#define BURROW_CLIENT_SEND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/address.h"
#include "client/client.h"
#include "common/dirdoc.h"
#include "common/err.h"
#include "common/path.h"
#include "common/sphinx.h"

/* Bytes of fragment in every packet: each carries an ACK SURB. */
#define SEND_FRAG_SPACE SPHINX_MSG_ACK_LEN

/* Queue msg for `to` (label: what the user typed) in one transaction; sign
 * with c->id when is_signed (c->id must be unlocked). Returns 0 and *id;
 * ERR_TOO_BIG (over MSG_MAX_LEN), ERR_IO. */
int MUST_CHECK send_queue(struct client *c, const struct address *to, const char *label,
			  const uint8_t *msg, size_t len, bool is_signed, int64_t *id);

struct send_stats {
	size_t sent;		/* packets sent this call */
	size_t resent;		/* of which retransmissions */
	size_t failed;		/* fragments that ran out of tries this call */
	size_t unreachable;	/* first hops that could not be reached */
	/* The forward path of the first packet sent by this call, by
	 * nickname (for --json reports and simulations). */
	unsigned first_nhops;
	char first_path[PATH_MAX_HOPS][DIRDOC_NICK_MAX + 1];
};

/* Send every due fragment (msg > 0: of that message only), at most max
 * (0: no limit), over fresh paths from the verified consensus. Fragments
 * out of tries are marked failed. Returns 0; ERR_NOT_FOUND (a mailbox
 * node is not in the consensus: printed); ERR_CLOSED (no first hop
 * reachable); a consensus error; ERR_IO. */
int MUST_CHECK send_pump(struct client *c, int64_t msg, size_t max, bool progress,
			 struct send_stats *stats);

/* Print what failed in message id, by name: "message 3 to alice: 2 of 40
 * fragments failed after 5 tries (4, 17)". */
void send_report_failed(struct client *c, int64_t id);

#endif
