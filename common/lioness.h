/* LIONESS: a wide-block cipher built from ChaCha20 and keyed BLAKE2b-256,
 * used for the Sphinx payload so that changing any ciphertext bit garbles
 * every plaintext byte. The block is split into L (32 bytes) and R (the
 * rest); four Feistel rounds, keys used once each (no IV):
 *
 *   R ^= ChaCha20(L ^ k1)   L ^= BLAKE2b-256_k2(R)
 *   R ^= ChaCha20(L ^ k3)   L ^= BLAKE2b-256_k4(R)
 *
 * ChaCha20 is the original variant (crypto_stream_chacha20) with an
 * all-zero 8-byte nonce; a key must never encrypt two different blocks. */
#ifndef BURROW_LIONESS_H
#define BURROW_LIONESS_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define LIONESS_KEY_LEN 128	/* k1 ‖ k2 ‖ k3 ‖ k4, 32 bytes each */
#define LIONESS_L_LEN 32
#define LIONESS_MIN_LEN (LIONESS_L_LEN + 1)
#define LIONESS_MAX_LEN (1u << 20)

/* Encrypt / decrypt buf in place (len in [LIONESS_MIN_LEN, LIONESS_MAX_LEN]).
 * Return 0, or ERR_INTERNAL (logged as a bug) for a length out of range. */
int MUST_CHECK lioness_encrypt(uint8_t *buf, size_t len, const uint8_t key[static LIONESS_KEY_LEN]);
int MUST_CHECK lioness_decrypt(uint8_t *buf, size_t len, const uint8_t key[static LIONESS_KEY_LEN]);

#endif
