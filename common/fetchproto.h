/* The mailbox fetch protocol: the messages an owner and its mailbox node
 * exchange over a link (one message per CONTROL frame) to prove the
 * mailbox key, fetch waiting messages in padded batches and acknowledge
 * them. Shared by relay/mailbox.c and the client. Bytes in docs/spec.md part 4.
 *
 *   client                          node
 *   HELLO                  ->
 *                          <-       CHALLENGE (32 random bytes, single use)
 *   AUTH (idpk, sig)       ->
 *   FETCH                  ->
 *                          <-       SLOT x FETCH_BATCH (fixed size each)
 *   ACK (ids)              ->
 *                          <-       ACKED (count)
 *   ... FETCH / ACK again ...
 *
 * Any failure before a good AUTH (bad signature, a second AUTH on a used
 * challenge, a malformed message, FETCH or ACK without proof) is answered
 * by one REFUSE, identical in every case, and the proof is lost: the
 * client must start again with HELLO. The signature is checked before the
 * store is looked at, so a refusal does not depend on whether the
 * mailbox exists or holds anything; a proven owner of an empty or
 * unknown mailbox gets a batch of empty slots. */
#ifndef BURROW_FETCHPROTO_H
#define BURROW_FETCHPROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/keys.h"
#include "common/sphinx.h"

#define FETCH_VERSION 1
#define FETCH_CHALLENGE_LEN 32
#define FETCH_HASH_LEN 32		/* link handshake hash */
#define FETCH_BOX_ID_LEN 32		/* mailbox id */
#define FETCH_MSG_ID_LEN 16		/* message (fragment) id */
#define FETCH_ENTRY_MAX SPHINX_DEPOSIT_LEN	/* one stored entry: a Sphinx deposit */
#define FETCH_BATCH 4			/* slots in every batch */

enum fetch_type {
	FETCH_T_HELLO = 0x01,
	FETCH_T_CHALLENGE = 0x02,
	FETCH_T_AUTH = 0x03,
	FETCH_T_FETCH = 0x04,
	FETCH_T_SLOT = 0x05,
	FETCH_T_ACK = 0x06,
	FETCH_T_ACKED = 0x07,
	FETCH_T_REFUSE = 0x08,
};

/* Fixed encoded sizes (type byte included). A SLOT fits in one link
 * record; a whole batch is FETCH_BATCH records. */
#define FETCH_HELLO_LEN 2				/* type, version */
#define FETCH_CHALLENGE_MSG_LEN (1 + FETCH_CHALLENGE_LEN)
#define FETCH_AUTH_LEN (1 + ID_PK_LEN + ID_SIG_LEN)
#define FETCH_FETCH_LEN 1
#define FETCH_SLOT_LEN (1 + 1 + 1 + FETCH_MSG_ID_LEN + 8 + 2 + FETCH_ENTRY_MAX)
#define FETCH_ACK_LEN (1 + 1 + FETCH_BATCH * FETCH_MSG_ID_LEN)
#define FETCH_ACKED_LEN 2
#define FETCH_REFUSE_LEN 2
#define FETCH_MSG_MAX FETCH_SLOT_LEN

/* SLOT flags. */
#define FETCH_SLOT_PRESENT 0x01	/* this slot holds a message */
#define FETCH_SLOT_MORE 0x02	/* (last slot) more messages wait after this batch */

struct fetch_slot {
	uint8_t index;			/* 0 .. FETCH_BATCH-1 */
	uint8_t flags;
	uint8_t msg_id[FETCH_MSG_ID_LEN];
	uint64_t received;		/* unix time, coarse */
	uint16_t len;			/* ≤ FETCH_ENTRY_MAX; 0 when not present */
	uint8_t entry[FETCH_ENTRY_MAX];
};

struct fetch_ack {
	uint8_t n;			/* 1 .. FETCH_BATCH */
	uint8_t ids[FETCH_BATCH][FETCH_MSG_ID_LEN];
};

/* A mailbox id: BLAKE2b-256, personalized "burrow-mailbox01", over the
 * owner's Ed25519 identity public key. The client names its mailbox by
 * the same key in its address, so sender and owner compute the same id. */
void fetch_box_id(uint8_t id[static FETCH_BOX_ID_LEN], const uint8_t idpk[static ID_PK_LEN]);

/* The bytes an owner signs: "burrow fetch auth v1\0" ‖ node id ‖ link
 * handshake hash ‖ challenge. out must hold FETCH_SIGNED_LEN bytes. */
#define FETCH_DOMAIN "burrow fetch auth v1"
#define FETCH_SIGNED_LEN (sizeof(FETCH_DOMAIN) + NODE_ID_LEN + FETCH_HASH_LEN + FETCH_CHALLENGE_LEN)
void fetch_signed_bytes(uint8_t out[static FETCH_SIGNED_LEN],
			const uint8_t node_id[static NODE_ID_LEN],
			const uint8_t hs_hash[static FETCH_HASH_LEN],
			const uint8_t challenge[static FETCH_CHALLENGE_LEN]);

/* Owner side: sign the challenge for this node and link. */
void fetch_auth_sign(uint8_t sig[static ID_SIG_LEN], const struct id_keypair *owner,
		     const uint8_t node_id[static NODE_ID_LEN],
		     const uint8_t hs_hash[static FETCH_HASH_LEN],
		     const uint8_t challenge[static FETCH_CHALLENGE_LEN]);
/* Node side: 0, or ERR_AUTH when the signature does not verify. */
int MUST_CHECK fetch_auth_verify(const uint8_t sig[static ID_SIG_LEN],
				 const uint8_t idpk[static ID_PK_LEN],
				 const uint8_t node_id[static NODE_ID_LEN],
				 const uint8_t hs_hash[static FETCH_HASH_LEN],
				 const uint8_t challenge[static FETCH_CHALLENGE_LEN]);

/* Type of a message (its first byte), or -1 when empty. */
int fetch_msg_type(const uint8_t *msg, size_t len);

/* Encoders write exactly the fixed length into out (which must hold it)
 * and return that length. */
size_t fetch_hello_encode(uint8_t out[static FETCH_HELLO_LEN]);
size_t fetch_challenge_encode(uint8_t out[static FETCH_CHALLENGE_MSG_LEN],
			      const uint8_t challenge[static FETCH_CHALLENGE_LEN]);
size_t fetch_auth_encode(uint8_t out[static FETCH_AUTH_LEN], const uint8_t idpk[static ID_PK_LEN],
			 const uint8_t sig[static ID_SIG_LEN]);
size_t fetch_fetch_encode(uint8_t out[static FETCH_FETCH_LEN]);
/* The slot's entry bytes past len are written as zeros. */
size_t fetch_slot_encode(uint8_t out[static FETCH_SLOT_LEN], const struct fetch_slot *s);
size_t fetch_ack_encode(uint8_t out[static FETCH_ACK_LEN], const struct fetch_ack *a);
size_t fetch_acked_encode(uint8_t out[static FETCH_ACKED_LEN], uint8_t n);
size_t fetch_refuse_encode(uint8_t out[static FETCH_REFUSE_LEN]);

/* Parsers: each checks the type byte, the exact length, reserved bytes
 * and value ranges. Return 0, ERR_TRUNCATED, ERR_TRAILING, ERR_MALFORMED
 * (wrong type, bad field value, non-zero padding) or ERR_UNSUPPORTED
 * (HELLO of another version). Outputs are zeroed on error. */
int MUST_CHECK fetch_hello_parse(const uint8_t *msg, size_t len);
int MUST_CHECK fetch_challenge_parse(uint8_t challenge[static FETCH_CHALLENGE_LEN],
				     const uint8_t *msg, size_t len);
int MUST_CHECK fetch_auth_parse(uint8_t idpk[static ID_PK_LEN], uint8_t sig[static ID_SIG_LEN],
				const uint8_t *msg, size_t len);
int MUST_CHECK fetch_fetch_parse(const uint8_t *msg, size_t len);
int MUST_CHECK fetch_slot_parse(struct fetch_slot *s, const uint8_t *msg, size_t len);
int MUST_CHECK fetch_ack_parse(struct fetch_ack *a, const uint8_t *msg, size_t len);
int MUST_CHECK fetch_acked_parse(uint8_t *n, const uint8_t *msg, size_t len);
int MUST_CHECK fetch_refuse_parse(const uint8_t *msg, size_t len);

#endif
