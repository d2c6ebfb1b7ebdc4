/* The link protocol: a transport-independent state machine for one
 * encrypted, authenticated hop-to-hop or client-to-relay connection
 * (docs/spec.md part 2).
 *
 * No sockets and no event loop: feed it the bytes that arrived, send the
 * bytes it hands back, act on the frames it decodes. The relay, the client,
 * the mailbox fetch and the tests all drive the same code.
 *
 * Handshake (a Noise NK pattern plus Ed25519 signatures over the handshake
 * hash, three fixed-size messages):
 *
 *	<- s
 *	...
 *	-> ver, e, es, {flags}                      57 bytes
 *	<- e, ee, {idR, sigR(h), ssR}              168 bytes
 *	-> {idI, sigI(h), ssI}                     136 bytes (zeros if anonymous)
 *
 * then one crypto_secretstream_xchacha20poly1305 state in each direction.
 * Every record on the wire after the handshake is LINK_RECORD_LEN bytes,
 * whatever it carries, so packets, control messages and keepalives look
 * alike to an observer.
 *
 * A link never allocates after link_new_*: it buffers at most one record. */
#ifndef BURROW_LINK_H
#define BURROW_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/keys.h"

#define LINK_VERSION 1
#define LINK_MSG1_LEN 57	/* ver(1) ‖ e(32) ‖ AEAD(flags ‖ 7 zero bytes)(8+16) */
#define LINK_MSG2_LEN 168	/* e(32) ‖ AEAD(idR ‖ sigR ‖ ssR)(120+16) */
#define LINK_MSG3_LEN 136	/* AEAD(idI ‖ sigI ‖ ssI)(120+16) */
#define LINK_HASH_LEN 32	/* the handshake hash h */

#define LINK_PACKET_LEN 2048	/* a Sphinx packet */
#define LINK_BODY_LEN 2048	/* payload room in one record */
#define LINK_PLAIN_LEN (4 + LINK_BODY_LEN)	/* type ‖ flags ‖ length ‖ body+padding */
#define LINK_RECORD_LEN (LINK_PLAIN_LEN + 17)	/* + secretstream ABYTES: 2,069 */
#define LINK_CONTROL_MAX 8192	/* largest control message: 4 records */
#define LINK_CONTROL_RECORDS (LINK_CONTROL_MAX / LINK_BODY_LEN)

enum link_frame_type {
	LINK_FRAME_PACKET = 1,		/* exactly LINK_PACKET_LEN bytes */
	LINK_FRAME_KEEPALIVE = 2,	/* empty */
	LINK_FRAME_CLOSE = 3,		/* one reason byte; the last record in its direction */
	LINK_FRAME_CONTROL = 4		/* application payload, 0..LINK_CONTROL_MAX bytes */
};

/* Reasons carried by a CLOSE frame. Unknown values are accepted. */
enum link_close_reason {
	LINK_CLOSE_NORMAL = 0,
	LINK_CLOSE_SHUTDOWN = 1,	/* the node is going away */
	LINK_CLOSE_IDLE = 2,
	LINK_CLOSE_PROTOCOL = 3,	/* the peer broke the protocol */
	LINK_CLOSE_LIMIT = 4,		/* a limit was hit */
	LINK_CLOSE_UNKNOWN_PEER = 5	/* not a relay in the consensus */
};

enum link_event {
	LINK_EV_NONE = 0,	/* bytes consumed; no complete message yet */
	LINK_EV_OUTPUT,		/* a handshake message is ready in link_output() */
	LINK_EV_ESTABLISHED,	/* handshake done (link_output() may hold the last message) */
	LINK_EV_FRAME		/* *fr holds one decoded frame */
};

/* A decoded frame. data points into the link and stays valid until the
 * next call to link_feed() or link_free(). */
struct link_frame {
	enum link_frame_type type;
	const uint8_t *data;
	size_t len;
	uint8_t close_reason;	/* for LINK_FRAME_CLOSE */
};

struct link;

/* Start an initiator towards a responder whose X25519 link key (rs) and
 * Ed25519 identity (expect_id) come from the consensus. self_id is the
 * initiator's relay identity, or NULL for an anonymous client, which then
 * reveals no long-term key. On success *lp holds the new link and the
 * first handshake message is ready in link_output(). self_id is borrowed
 * and must outlive the link. Return 0, or ERR_WEAK_KEY if rs is a
 * low-order point (*lp is then NULL). */
int MUST_CHECK link_new_initiator(struct link **lp, const uint8_t rs[static X_PK_LEN],
				  const uint8_t expect_id[static ID_PK_LEN],
				  const struct id_keypair *self_id);

/* Start a responder with its link key pair and identity (both borrowed,
 * both must outlive the link). Never returns NULL. */
struct link *link_new_responder(const struct x_keypair *link_kp, const struct id_keypair *self_id);

/* Wipe and free (NULL allowed). */
void link_free(struct link *l);
#define LINK_FREE(p) do { link_free(p); (p) = NULL; } while (0)

/* Consume bytes from the peer, stopping at the end of one handshake
 * message or one record, so *used may be less than len: call again with
 * the rest. Partial input is buffered (at most one record). On success
 * *ev says what happened and, for LINK_EV_FRAME, *fr holds the frame; a
 * CLOSE frame ends the link (later calls return ERR_CLOSED).
 * Returns 0; ERR_UNSUPPORTED (unknown version); ERR_AUTH (a handshake
 * message or a record fails authentication, is replayed or reordered, or
 * the peer's identity is not the expected one); ERR_WEAK_KEY (low-order
 * ephemeral key); ERR_MALFORMED (bad frame type, flags, length or
 * padding); ERR_TOO_BIG (a control message over LINK_CONTROL_MAX);
 * ERR_CLOSED (the link already failed or closed). After any error the
 * link is dead: close the connection. */
int MUST_CHECK link_feed(struct link *l, const uint8_t *in, size_t len, size_t *used,
			 enum link_event *ev, struct link_frame *fr);

/* Bytes the link needs to finish the message or record in progress
 * (0 once dead or closed). */
size_t link_want(const struct link *l);

/* Take the pending handshake output: return a pointer to it and store its
 * length in *len (0 and NULL when none). The bytes stay valid until the
 * next call on this link; they are handed out only once. */
const uint8_t *link_output(struct link *l, size_t *len);

/* Seal one frame into out (exactly LINK_RECORD_LEN bytes).
 * Return 0, or ERR_CLOSED if the link is not established, has failed, or
 * has sent CLOSE. link_send_close makes the link refuse later sends. */
int MUST_CHECK link_send_packet(struct link *l, const uint8_t pkt[static LINK_PACKET_LEN],
				uint8_t out[static LINK_RECORD_LEN]);
int MUST_CHECK link_send_keepalive(struct link *l, uint8_t out[static LINK_RECORD_LEN]);
int MUST_CHECK link_send_close(struct link *l, uint8_t reason, uint8_t out[static LINK_RECORD_LEN]);

/* Seal a control message of len bytes (0..LINK_CONTROL_MAX) into out as
 * ceil(len / LINK_BODY_LEN) records (one if len is 0); *outlen gets the
 * byte count. Return 0, ERR_TOO_BIG (len over the limit or cap too small;
 * nothing is sealed) or ERR_CLOSED. */
int MUST_CHECK link_send_control(struct link *l, const uint8_t *p, size_t len, uint8_t *out,
				 size_t cap, size_t *outlen);
/* Records link_send_control needs for a len-byte message. */
size_t link_control_records(size_t len);

/* For tests and fuzzing only: seal an arbitrary record plaintext (final
 * selects the secretstream FINAL tag) so that malformed frames can be
 * produced. Return 0 or ERR_CLOSED. */
int MUST_CHECK link_seal_raw(struct link *l, const uint8_t plain[static LINK_PLAIN_LEN],
			     bool final, uint8_t out[static LINK_RECORD_LEN]);

bool link_is_established(const struct link *l);
bool link_is_initiator(const struct link *l);
/* True once the link failed or a CLOSE was sent or received. */
bool link_is_dead(const struct link *l);

/* The authenticated peer: copy its Ed25519 identity into id_pk. Return 0,
 * ERR_NOT_FOUND if the peer is an anonymous client (id_pk zeroed), or
 * ERR_CLOSED if the handshake has not completed. */
int MUST_CHECK link_peer_identity(const struct link *l, uint8_t id_pk[static ID_PK_LEN]);
/* True if the established peer is an anonymous client. */
bool link_peer_is_anonymous(const struct link *l);

/* Copy the handshake hash h, which binds both ephemeral keys, the
 * responder's link key and every handshake byte: the channel binding for
 * protocols run over this link. Return 0 or ERR_CLOSED (not established). */
int MUST_CHECK link_handshake_hash(const struct link *l, uint8_t h[static LINK_HASH_LEN]);

#endif
