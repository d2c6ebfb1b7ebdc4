#include "common/lioness.h"

#include <sodium.h>

#include "common/util.h"

static const uint8_t zero_nonce[crypto_stream_chacha20_NONCEBYTES];

/* R ^= ChaCha20(L ^ k) */
static void
stream_round(uint8_t *buf, size_t len, const uint8_t k[32])
{
	uint8_t sk[32];

	for (size_t i = 0; i < 32; i++)
		sk[i] = buf[i] ^ k[i];
	crypto_stream_chacha20_xor(buf + LIONESS_L_LEN, buf + LIONESS_L_LEN,
				   len - LIONESS_L_LEN, zero_nonce, sk);
	sodium_memzero(sk, sizeof(sk));
}

/* L ^= BLAKE2b-256_k(R) */
static void
hash_round(uint8_t *buf, size_t len, const uint8_t k[32])
{
	uint8_t h[32];

	crypto_generichash(h, sizeof(h), buf + LIONESS_L_LEN, len - LIONESS_L_LEN, k, 32);
	for (size_t i = 0; i < 32; i++)
		buf[i] ^= h[i];
	sodium_memzero(h, sizeof(h));
}

int
lioness_encrypt(uint8_t *buf, size_t len, const uint8_t key[static LIONESS_KEY_LEN])
{
	if (BUG(len < LIONESS_MIN_LEN || len > LIONESS_MAX_LEN))
		return ERR_INTERNAL;
	stream_round(buf, len, key);
	hash_round(buf, len, key + 32);
	stream_round(buf, len, key + 64);
	hash_round(buf, len, key + 96);
	return 0;
}

int
lioness_decrypt(uint8_t *buf, size_t len, const uint8_t key[static LIONESS_KEY_LEN])
{
	if (BUG(len < LIONESS_MIN_LEN || len > LIONESS_MAX_LEN))
		return ERR_INTERNAL;
	hash_round(buf, len, key + 96);
	stream_round(buf, len, key + 64);
	hash_round(buf, len, key + 32);
	stream_round(buf, len, key);
	return 0;
}
