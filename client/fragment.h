/* The message body inside the recipient layer: a message of up to
 * MSG_MAX_LEN bytes is cut into fragments, one per packet, each carrying
 * the message's id, its place, the whole message's length and BLAKE2b-256
 * hash, and, when signed, the sender's identity key and signature.
 * Format in docs/spec.md part 6. */
#ifndef BURROW_CLIENT_FRAGMENT_H
#define BURROW_CLIENT_FRAGMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/keys.h"

#define FRAG_VERSION 1
#define FRAG_FLAG_SIGNED 0x01
#define MSG_ID_LEN 16
#define MSG_HASH_LEN 32
#define MSG_MAX_LEN (128u * 1024 * 1024)	/* 128 MiB */
/* version 1, flags 1, id 16, index 4, count 4, total 8, hash 32, chunk length 2 */
#define FRAG_HDR_LEN 68
#define FRAG_SIG_BLOCK_LEN (ID_PK_LEN + ID_SIG_LEN)
/* The smallest fragment space that still carries one byte of a signed message. */
#define FRAG_SPACE_MIN (FRAG_HDR_LEN + FRAG_SIG_BLOCK_LEN + 1)
#define FRAG_SPACE_MAX 65535

struct frag {
	uint8_t flags;
	uint8_t msg_id[MSG_ID_LEN];
	uint32_t index;
	uint32_t count;
	uint64_t total_len;
	uint8_t hash[MSG_HASH_LEN];	/* BLAKE2b-256 of the whole message */
	uint8_t sender_pk[ID_PK_LEN];	/* when FRAG_FLAG_SIGNED */
	uint8_t sig[ID_SIG_LEN];
	const uint8_t *chunk;		/* borrowed from the parsed bytes */
	uint16_t chunk_len;
};

/* Bytes of message per fragment when each fragment has `space` bytes. */
size_t frag_chunk_len(size_t space, bool is_signed);
/* Number of fragments for a message of len bytes (at least 1). */
uint32_t frag_count_for(uint64_t len, size_t space, bool is_signed);

/* Hash a whole message. */
void msg_hash(uint8_t out[static MSG_HASH_LEN], const uint8_t *msg, size_t len);

/* Sign / verify a message for one recipient: the signature covers the
 * message id, length and hash and the recipient's identity key, so it
 * cannot be replayed to anyone else. verify: 0 or ERR_BAD_SIG. */
void msg_sign(uint8_t sig[static ID_SIG_LEN], const uint8_t id[static MSG_ID_LEN], uint64_t len,
	      const uint8_t hash[static MSG_HASH_LEN], const uint8_t rcpt_pk[static ID_PK_LEN],
	      const struct id_keypair *sender);
int MUST_CHECK msg_verify(const uint8_t sig[static ID_SIG_LEN], const uint8_t id[static MSG_ID_LEN],
			  uint64_t len, const uint8_t hash[static MSG_HASH_LEN],
			  const uint8_t rcpt_pk[static ID_PK_LEN],
			  const uint8_t sender_pk[static ID_PK_LEN]);

/* Encode fragment f (whose chunk/chunk_len are set) into exactly `space`
 * bytes at out, zero-padded. Returns 0, ERR_TOO_BIG if the chunk does not
 * fit, ERR_RANGE if space is outside [FRAG_SPACE_MIN, FRAG_SPACE_MAX]. */
int MUST_CHECK frag_encode(uint8_t *out, size_t space, const struct frag *f);

/* Parse a fragment from `len` bytes; f->chunk points into in. Returns 0;
 * ERR_UNSUPPORTED for another version or unknown flags; ERR_MALFORMED for
 * an inconsistent header (index ≥ count, more fragments than bytes,
 * a chunk longer than the message, non-zero padding); ERR_TOO_BIG over
 * MSG_MAX_LEN; ERR_TRUNCATED. */
int MUST_CHECK frag_parse(struct frag *f, const uint8_t *in, size_t len);

/* True when two fragments claim the same message the same way (count,
 * length, hash, flags, and sender and signature when signed). */
bool frag_same_message(const struct frag *a, const struct frag *b);

#endif
