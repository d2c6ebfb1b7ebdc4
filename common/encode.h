/* Hex and base32 (RFC 4648 alphabet, lowercase, no padding).
 * Both run in time independent of the byte values, so they may touch
 * secrets (key files, passphrase-derived material). */
#ifndef BURROW_ENCODE_H
#define BURROW_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define HEX_LEN(n) ((n) * 2)
#define BASE32_LEN(n) (((n) * 8 + 4) / 5)

/* Write 2n lowercase hex digits and a NUL to out (size ≥ 2n + 1). */
void hex_encode(char *out, const uint8_t *in, size_t n);
/* Decode exactly n bytes from the whole string s (2n hex digits, either
 * case): 0, ERR_MALFORMED (bad digit) or ERR_TRUNCATED/ERR_TRAILING (length). */
int MUST_CHECK hex_decode(uint8_t *out, size_t n, const char *s);
/* Write BASE32_LEN(n) chars and a NUL to out. */
void base32_encode(char *out, const uint8_t *in, size_t n);
/* Decode exactly n bytes from the whole string s (either case): 0,
 * ERR_MALFORMED, ERR_TRUNCATED or ERR_TRAILING. Unused tail bits must be 0. */
int MUST_CHECK base32_decode(uint8_t *out, size_t n, const char *s);

#endif
