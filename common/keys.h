/* Key pairs: Ed25519 identity keys and X25519 keys (link, packet,
 * mailbox). Secret halves live in sodium_malloc memory and are wiped when
 * freed. */
#ifndef BURROW_KEYS_H
#define BURROW_KEYS_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"

#define ID_PK_LEN 32		/* Ed25519 public key */
#define ID_SK_LEN 64		/* Ed25519 secret key (seed ‖ public key) */
#define ID_SEED_LEN 32
#define ID_SIG_LEN 64
#define X_PK_LEN 32		/* X25519 public key */
#define X_SK_LEN 32
#define NODE_ID_LEN 32		/* BLAKE2b-256 of a node's Ed25519 identity key */
#define FINGERPRINT_LEN 16	/* hex digits shown in logs and listings */

struct id_keypair {
	uint8_t pk[ID_PK_LEN];
	uint8_t sk[ID_SK_LEN];
};

struct x_keypair {
	uint8_t pk[X_PK_LEN];
	uint8_t sk[X_SK_LEN];
};

/* Generate a fresh key pair in guarded memory. Never returns NULL. */
struct id_keypair *id_keypair_new(void);
struct x_keypair *x_keypair_new(void);
/* Rebuild a pair from its 32-byte seed / secret scalar. Never NULL. */
struct id_keypair *id_keypair_from_seed(const uint8_t seed[static ID_SEED_LEN]);
struct x_keypair *x_keypair_from_secret(const uint8_t sk[static X_SK_LEN]);
/* Wipe and free (NULL allowed). */
void id_keypair_free(struct id_keypair *kp);
void x_keypair_free(struct x_keypair *kp);
#define ID_KEYPAIR_FREE(p) do { id_keypair_free(p); (p) = NULL; } while (0)
#define X_KEYPAIR_FREE(p) do { x_keypair_free(p); (p) = NULL; } while (0)

/* The X25519 pair matching an Ed25519 identity (a client's mailbox key):
 * crypto_sign_ed25519_{pk,sk}_to_curve25519. Never NULL. */
struct x_keypair *id_keypair_to_x(const struct id_keypair *id);
/* The X25519 public key matching an Ed25519 public key: 0 or ERR_WEAK_KEY. */
int MUST_CHECK id_pk_to_x(uint8_t xpk[static X_PK_LEN], const uint8_t idpk[static ID_PK_LEN]);

/* Sign / verify a message with an identity key. verify: 0 or ERR_BAD_SIG. */
void id_sign(uint8_t sig[static ID_SIG_LEN], const uint8_t *msg, size_t len,
	     const struct id_keypair *kp);
int MUST_CHECK id_verify(const uint8_t sig[static ID_SIG_LEN], const uint8_t *msg, size_t len,
			 const uint8_t pk[static ID_PK_LEN]);

/* A node's id: BLAKE2b-256 over its Ed25519 public key. */
void node_id_of(uint8_t id[static NODE_ID_LEN], const uint8_t idpk[static ID_PK_LEN]);
/* Write FINGERPRINT_LEN hex digits of BLAKE2b(pk) and a NUL: for logs. */
void key_fingerprint(char out[static FINGERPRINT_LEN + 1], const uint8_t *pk, size_t len);

#endif
