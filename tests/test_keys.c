/* Tests for common/keys. */
#include <string.h>

#include <sodium.h>

#include "common/encode.h"
#include "common/keys.h"
#include "common/util.h"
#include "tests/check.h"

static void
test_sign_verify(void)
{
	struct id_keypair *kp = id_keypair_new();
	struct id_keypair *other = id_keypair_new();
	const uint8_t msg[] = "burrow descriptor";
	uint8_t sig[ID_SIG_LEN];

	id_sign(sig, msg, sizeof(msg), kp);
	CHECK_EQ(id_verify(sig, msg, sizeof(msg), kp->pk), 0);
	CHECK_EQ(id_verify(sig, msg, sizeof(msg) - 1, kp->pk), ERR_BAD_SIG);
	CHECK_EQ(id_verify(sig, msg, sizeof(msg), other->pk), ERR_BAD_SIG);
	for (size_t i = 0; i < ID_SIG_LEN * 8; i += 7) {
		sig[i / 8] ^= (uint8_t)(1u << (i % 8));
		CHECK_EQ(id_verify(sig, msg, sizeof(msg), kp->pk), ERR_BAD_SIG);
		sig[i / 8] ^= (uint8_t)(1u << (i % 8));
	}
	CHECK_EQ(id_verify(sig, msg, sizeof(msg), kp->pk), 0);
	/* Empty message. */
	id_sign(sig, NULL, 0, kp);
	CHECK_EQ(id_verify(sig, NULL, 0, kp->pk), 0);
	ID_KEYPAIR_FREE(kp);
	CHECK(kp == NULL);
	id_keypair_free(other);
	id_keypair_free(NULL);
	x_keypair_free(NULL);
}

static void
test_from_seed(void)
{
	uint8_t seed[ID_SEED_LEN];
	struct id_keypair *a, *b;

	randombytes_buf(seed, sizeof(seed));
	a = id_keypair_from_seed(seed);
	b = id_keypair_from_seed(seed);
	CHECK(sodium_memcmp(a->pk, b->pk, ID_PK_LEN) == 0);
	CHECK(sodium_memcmp(a->sk, b->sk, ID_SK_LEN) == 0);
	/* The Ed25519 secret key is seed ‖ public key. */
	CHECK(sodium_memcmp(a->sk, seed, ID_SEED_LEN) == 0);
	CHECK(sodium_memcmp(a->sk + ID_SEED_LEN, a->pk, ID_PK_LEN) == 0);
	id_keypair_free(a);
	id_keypair_free(b);
}

static void
test_x_keys(void)
{
	struct x_keypair *a = x_keypair_new(), *b = x_keypair_new(), *a2;
	uint8_t s1[32], s2[32];

	a2 = x_keypair_from_secret(a->sk);
	CHECK(sodium_memcmp(a->pk, a2->pk, X_PK_LEN) == 0);
	CHECK(sodium_memcmp(a->pk, b->pk, X_PK_LEN) != 0);
	CHECK_EQ(crypto_scalarmult(s1, a->sk, b->pk), 0);
	CHECK_EQ(crypto_scalarmult(s2, b->sk, a->pk), 0);
	CHECK(sodium_memcmp(s1, s2, 32) == 0);
	X_KEYPAIR_FREE(a);
	CHECK(a == NULL);
	x_keypair_free(a2);
	x_keypair_free(b);
}

static void
test_to_x(void)
{
	struct id_keypair *id = id_keypair_new();
	struct x_keypair *x = id_keypair_to_x(id), *peer = x_keypair_new();
	uint8_t xpk[X_PK_LEN], s1[32], s2[32];
	uint8_t zero[ID_PK_LEN] = { 0 };

	/* The public half derived from the identity's public key matches the
	 * pair derived from its secret key. */
	CHECK_EQ(id_pk_to_x(xpk, id->pk), 0);
	CHECK(sodium_memcmp(xpk, x->pk, X_PK_LEN) == 0);
	/* And it works for key agreement. */
	CHECK_EQ(crypto_scalarmult(s1, x->sk, peer->pk), 0);
	CHECK_EQ(crypto_scalarmult(s2, peer->sk, xpk), 0);
	CHECK(sodium_memcmp(s1, s2, 32) == 0);
	/* A small-order point is refused. */
	CHECK_EQ(id_pk_to_x(xpk, zero), ERR_WEAK_KEY);
	id_keypair_free(id);
	x_keypair_free(x);
	x_keypair_free(peer);
}

static void
test_node_id_fingerprint(void)
{
	uint8_t pk[ID_PK_LEN], pk2[ID_PK_LEN], id1[NODE_ID_LEN], id2[NODE_ID_LEN];
	char fp1[FINGERPRINT_LEN + 1], fp2[FINGERPRINT_LEN + 1], hex[2 * NODE_ID_LEN + 1];

	randombytes_buf(pk, sizeof(pk));
	memcpy(pk2, pk, sizeof(pk));
	pk2[31] ^= 1;
	node_id_of(id1, pk);
	node_id_of(id2, pk);
	CHECK(sodium_memcmp(id1, id2, NODE_ID_LEN) == 0);
	node_id_of(id2, pk2);
	CHECK(sodium_memcmp(id1, id2, NODE_ID_LEN) != 0);

	key_fingerprint(fp1, pk, sizeof(pk));
	key_fingerprint(fp2, pk, sizeof(pk));
	CHECK_STR(fp1, fp2);
	CHECK_EQ(strlen(fp1), FINGERPRINT_LEN);
	for (size_t i = 0; i < FINGERPRINT_LEN; i++)
		CHECK((fp1[i] >= '0' && fp1[i] <= '9') || (fp1[i] >= 'a' && fp1[i] <= 'f'));
	key_fingerprint(fp2, pk2, sizeof(pk2));
	CHECK(strcmp(fp1, fp2) != 0);
	/* An identity key's fingerprint is the start of its node id in hex. */
	node_id_of(id1, pk);
	hex_encode(hex, id1, NODE_ID_LEN);
	CHECK(strncmp(hex, fp1, FINGERPRINT_LEN) == 0);
}

static void
test_node_id_vector(void)
{
	/* Pinned value, so that a change to the construction is noticed:
	 * BLAKE2b-256 with personalization "burrow-node-id01" over 32 zero
	 * bytes (computed with Python's hashlib.blake2b). */
	uint8_t pk[ID_PK_LEN] = { 0 }, id[NODE_ID_LEN];
	char hex[2 * NODE_ID_LEN + 1], fp[FINGERPRINT_LEN + 1];

	node_id_of(id, pk);
	hex_encode(hex, id, NODE_ID_LEN);
	CHECK_STR(hex, "e4731f921632fcff6469254fa123cd0c284d9515e6cc1dbaf6d1fa0326884a77");
	key_fingerprint(fp, pk, sizeof(pk));
	CHECK_STR(fp, "e4731f921632fcff");
}

int
main(int argc, char **argv)
{
	check_begin(argv[0]);
	crypto_init();
	RUN(test_sign_verify);
	RUN(test_from_seed);
	RUN(test_x_keys);
	RUN(test_to_x);
	RUN(test_node_id_fingerprint);
	RUN(test_node_id_vector);
	return check_end();
}
