#include "common/encode.h"

#include <string.h>

/* Branch-free digit arithmetic in the style of libsodium's sodium_bin2hex:
 * no table lookups indexed by secret bytes, no data-dependent branches. */

void
hex_encode(char *out, const uint8_t *in, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned c = in[i] & 0xf, b = in[i] >> 4;

		out[2 * i] = (char)(87U + b + (((b - 10U) >> 8) & ~38U));
		out[2 * i + 1] = (char)(87U + c + (((c - 10U) >> 8) & ~38U));
	}
	out[2 * n] = '\0';
}

/* Return the value of hex digit c, or a value with bit 8 set if invalid. */
static unsigned
hexval(unsigned c)
{
	unsigned num = c ^ 48U;
	unsigned num0 = (num - 10U) >> 8;		/* 0xff.. if digit */
	unsigned alpha = (c & ~32U) - 55U;
	unsigned alpha0 = ((alpha - 10U) ^ (alpha - 16U)) >> 8;	/* if a..f */
	unsigned ok = (num0 | alpha0) & 1U;

	return (((num0 & num) | (alpha0 & alpha)) & 0xfU) | ((ok ^ 1U) << 8);
}

int
hex_decode(uint8_t *out, size_t n, const char *s)
{
	size_t len = strlen(s);
	unsigned bad = 0;

	memset(out, 0, n);
	if (len < 2 * n)
		return ERR_TRUNCATED;
	if (len > 2 * n)
		return ERR_TRAILING;
	for (size_t i = 0; i < n; i++) {
		unsigned hi = hexval((unsigned char)s[2 * i]);
		unsigned lo = hexval((unsigned char)s[2 * i + 1]);

		bad |= (hi | lo) & 0x100U;
		out[i] = (uint8_t)((hi << 4) | (lo & 0xfU));
	}
	if (bad) {
		memset(out, 0, n);
		return ERR_MALFORMED;
	}
	return 0;
}

/* Map 0..31 to 'a'..'z','2'..'7' without a table. */
static char
b32char(unsigned v)
{
	unsigned is_digit = ((v - 26U) >> 8) ^ 0xffU;	/* 0xff when v ≥ 26 */

	is_digit &= 0xffU;
	return (char)(((97U + v) & ~is_digit) | ((24U + v) & is_digit));
}

/* Return 0..31, or a value with bit 8 set if c is not a base32 char. */
static unsigned
b32val(unsigned c)
{
	unsigned lc = c | 32U;
	unsigned a = lc - 97U;				/* 'a'..'z' -> 0..25 */
	unsigned a_ok = ((a - 26U) >> 31) & ~(a >> 31) & 1U;
	unsigned d = c - 50U;				/* '2'..'7' -> 0..5 */
	unsigned d_ok = ((d - 6U) >> 31) & ~(d >> 31) & 1U;
	unsigned v = ((0U - a_ok) & a) | ((0U - d_ok) & (d + 26U));

	return (v & 31U) | (((a_ok | d_ok) ^ 1U) << 8);
}

void
base32_encode(char *out, const uint8_t *in, size_t n)
{
	size_t o = 0;
	unsigned acc = 0, bits = 0;

	for (size_t i = 0; i < n; i++) {
		acc = (acc << 8) | in[i];
		bits += 8;
		while (bits >= 5) {
			bits -= 5;
			out[o++] = b32char((acc >> bits) & 31U);
		}
	}
	if (bits)
		out[o++] = b32char((acc << (5 - bits)) & 31U);
	out[o] = '\0';
}

int
base32_decode(uint8_t *out, size_t n, const char *s)
{
	size_t len = strlen(s), o = 0;
	unsigned acc = 0, bits = 0, bad = 0;

	memset(out, 0, n);
	if (len < BASE32_LEN(n))
		return ERR_TRUNCATED;
	if (len > BASE32_LEN(n))
		return ERR_TRAILING;
	for (size_t i = 0; i < len; i++) {
		unsigned v = b32val((unsigned char)s[i]);

		bad |= v & 0x100U;
		acc = (acc << 5) | (v & 31U);
		bits += 5;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (uint8_t)(acc >> bits);
		}
	}
	bad |= acc & ((1U << bits) - 1U);	/* non-zero tail bits */
	if (bad) {
		memset(out, 0, n);
		return ERR_MALFORMED;
	}
	return 0;
}
