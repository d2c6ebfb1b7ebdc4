/* Key pairs in guarded memory, identity signatures, node ids and
 * fingerprints. */
#include <string.h>

#include <sodium.h>

#include "common/keys.h"
#include "common/util.h"

/* Personalization for node ids and fingerprints (BLAKE2b reads exactly 16
 * bytes; the array has room for the NUL). It separates them from every
 * other hash of the same key. A fingerprint is the first 8 bytes of the same
 * hash, so an identity key's fingerprint is the first 16 hex digits of its
 * node id. */
static const char node_id_personal[crypto_generichash_blake2b_PERSONALBYTES + 1] =
	"burrow-node-id01";

static void *
guarded_alloc(size_t n)
{
	void *p = sodium_malloc(n);

	if (p == NULL)
		fatal("sodium_malloc(%zu) failed", n);
	return p;
}

struct id_keypair *
id_keypair_new(void)
{
	struct id_keypair *kp = guarded_alloc(sizeof(*kp));

	crypto_sign_ed25519_keypair(kp->pk, kp->sk);
	return kp;
}

struct x_keypair *
x_keypair_new(void)
{
	struct x_keypair *kp = guarded_alloc(sizeof(*kp));

	randombytes_buf(kp->sk, sizeof(kp->sk));
	crypto_scalarmult_base(kp->pk, kp->sk);
	return kp;
}

struct id_keypair *
id_keypair_from_seed(const uint8_t seed[static ID_SEED_LEN])
{
	struct id_keypair *kp = guarded_alloc(sizeof(*kp));

	crypto_sign_ed25519_seed_keypair(kp->pk, kp->sk, seed);
	return kp;
}

struct x_keypair *
x_keypair_from_secret(const uint8_t sk[static X_SK_LEN])
{
	struct x_keypair *kp = guarded_alloc(sizeof(*kp));

	memcpy(kp->sk, sk, X_SK_LEN);
	/* crypto_scalarmult_base clamps; it fails only for an all-zero
	 * result, which a clamped scalar cannot produce. */
	if (crypto_scalarmult_base(kp->pk, kp->sk) != 0)
		fatal("crypto_scalarmult_base failed");
	return kp;
}

void
id_keypair_free(struct id_keypair *kp)
{
	/* sodium_free wipes the region before releasing it. */
	if (kp != NULL)
		sodium_free(kp);
}

void
x_keypair_free(struct x_keypair *kp)
{
	if (kp != NULL)
		sodium_free(kp);
}

struct x_keypair *
id_keypair_to_x(const struct id_keypair *id)
{
	struct x_keypair *kp = guarded_alloc(sizeof(*kp));

	crypto_sign_ed25519_sk_to_curve25519(kp->sk, id->sk);
	/* Derive the public half from the secret so the pair is consistent
	 * even for an identity whose public key we did not check. */
	if (crypto_scalarmult_base(kp->pk, kp->sk) != 0)
		fatal("crypto_scalarmult_base failed");
	return kp;
}

int
id_pk_to_x(uint8_t xpk[static X_PK_LEN], const uint8_t idpk[static ID_PK_LEN])
{
	if (crypto_sign_ed25519_pk_to_curve25519(xpk, idpk) != 0) {
		memset(xpk, 0, X_PK_LEN);
		return ERR_WEAK_KEY;
	}
	return 0;
}

void
id_sign(uint8_t sig[static ID_SIG_LEN], const uint8_t *msg, size_t len,
	const struct id_keypair *kp)
{
	crypto_sign_ed25519_detached(sig, NULL, msg, len, kp->sk);
}

int
id_verify(const uint8_t sig[static ID_SIG_LEN], const uint8_t *msg, size_t len,
	  const uint8_t pk[static ID_PK_LEN])
{
	if (crypto_sign_ed25519_verify_detached(sig, msg, len, pk) != 0)
		return ERR_BAD_SIG;
	return 0;
}

void
node_id_of(uint8_t id[static NODE_ID_LEN], const uint8_t idpk[static ID_PK_LEN])
{
	crypto_generichash_blake2b_salt_personal(id, NODE_ID_LEN, idpk, ID_PK_LEN, NULL, 0,
						 NULL, (const uint8_t *)node_id_personal);
}

void
key_fingerprint(char out[static FINGERPRINT_LEN + 1], const uint8_t *pk, size_t len)
{
	uint8_t h[NODE_ID_LEN];
	static const char digits[] = "0123456789abcdef";

	crypto_generichash_blake2b_salt_personal(h, sizeof(h), pk, len, NULL, 0, NULL,
						 (const uint8_t *)node_id_personal);
	for (size_t i = 0; i < FINGERPRINT_LEN / 2; i++) {
		out[2 * i] = digits[h[i] >> 4];
		out[2 * i + 1] = digits[h[i] & 15];
	}
	out[FINGERPRINT_LEN] = '\0';
}
