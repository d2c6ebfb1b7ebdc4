/* Key files: one secret per file, written 0600 through a temporary file
 * and rename(), optionally sealed under a passphrase (Argon2id via
 * crypto_pwhash, then XChaCha20-Poly1305). Format in docs/spec.md. */
#ifndef BURROW_KEYFILE_H
#define BURROW_KEYFILE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

enum keyfile_kind {
	KEYFILE_ED25519_SEED = 1,	/* 32-byte Ed25519 seed (identities) */
	KEYFILE_X25519 = 2,		/* 32-byte X25519 secret (link, packet keys) */
};

#define KEYFILE_SECRET_MAX 64
#define KEYFILE_MAX_LEN 512

/* Passphrase cost: interactive for clients; tests may lower it with
 * keyfile_set_cost_for_tests(). */
void keyfile_set_cost_for_tests(int cheap);

/* Write secret (len ≤ KEYFILE_SECRET_MAX) of this kind to path, mode 0600,
 * atomically; sealed when passphrase is non-NULL. 0 or ERR_IO. */
int MUST_CHECK keyfile_write(const char *path, enum keyfile_kind kind, const uint8_t *secret,
			     size_t len, const char *passphrase);

/* Read a key file into secret (exactly len bytes). Returns 0; ERR_NOT_FOUND
 * if missing; ERR_PERM if readable by group or others; ERR_PASSPHRASE for a
 * wrong passphrase (or a sealed file whose ciphertext was altered);
 * ERR_AUTH if the file is sealed and passphrase is NULL; ERR_CORRUPT,
 * ERR_TRUNCATED, ERR_TRAILING or ERR_MALFORMED for a damaged file;
 * ERR_UNSUPPORTED for another kind or version. secret is zeroed on error. */
int MUST_CHECK keyfile_read(const char *path, enum keyfile_kind kind, uint8_t *secret, size_t len,
			    const char *passphrase);

/* The same parse over bytes in memory (used by keyfile_read and fuzzing). */
int MUST_CHECK keyfile_parse(const uint8_t *data, size_t n, enum keyfile_kind kind,
			     uint8_t *secret, size_t len, const char *passphrase);

/* 1 if the file at path is passphrase-sealed, 0 if not, or a negative ERR_*. */
int keyfile_is_sealed(const char *path);

#endif
