/* Identities: creating and unsealing the key, and safety numbers. */
#ifndef BURROW_CLIENT_IDENTITY_H
#define BURROW_CLIENT_IDENTITY_H

#include <stdint.h>

#include "common/err.h"
#include "common/keys.h"

#define SAFETY_DIGITS 60
/* 60 digits in 12 groups of 5 separated by spaces, and a NUL. */
#define SAFETY_STR_LEN (SAFETY_DIGITS + SAFETY_DIGITS / 5 - 1)
#define SAFETY_HALF_STR_LEN (SAFETY_DIGITS / 2 + SAFETY_DIGITS / 10 - 1)

/* The 30-digit half of a safety number contributed by one identity key,
 * as 6 groups of 5 digits: out holds SAFETY_HALF_STR_LEN + 1 bytes. */
void safety_half(char out[static SAFETY_HALF_STR_LEN + 1], const uint8_t pk[static ID_PK_LEN]);

/* The safety number two people compare: both halves, the smaller key's
 * first, so both sides compute the same string. */
void safety_number(char out[static SAFETY_STR_LEN + 1], const uint8_t a[static ID_PK_LEN],
		   const uint8_t b[static ID_PK_LEN]);

/* Write a new identity's seed to path sealed with passphrase (0600).
 * Returns 0, ERR_EXISTS if path exists, or ERR_IO. */
int MUST_CHECK identity_create(const char *path, const char *passphrase, struct id_keypair **out);

/* Unseal the identity at path: as keyfile_read, and check it matches
 * expect_pk (ERR_CORRUPT if not). */
int MUST_CHECK identity_load(const char *path, const char *passphrase,
			     const uint8_t expect_pk[static ID_PK_LEN], struct id_keypair **out);

/* Read a passphrase: from the file at path (first line, newline dropped)
 * when path is non-NULL, else from the terminal with echo off (twice when
 * confirm). *out is sodium_malloc'd; free with identity_passphrase_free.
 * Returns 0, ERR_IO (unreadable file, no terminal), ERR_MALFORMED (empty
 * or not matching the confirmation) or ERR_TOO_BIG. */
int MUST_CHECK identity_read_passphrase(const char *path, bool confirm, char **out);
void identity_passphrase_free(char *p);

#endif
