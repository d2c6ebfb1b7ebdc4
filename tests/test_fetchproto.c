/* Tests for common/fetchproto: encodings round-trip, every truncated
 * prefix and every trailing byte is refused, padding is checked, the
 * signed proof binds the node, the link and the challenge. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/fetchproto.h"
#include "common/keys.h"
#include "common/util.h"
#include "tests/check.h"

typedef int (*parse_fn)(const uint8_t *msg, size_t len);

static int
p_hello(const uint8_t *m, size_t n)
{
	return fetch_hello_parse(m, n);
}

static int
p_challenge(const uint8_t *m, size_t n)
{
	uint8_t c[FETCH_CHALLENGE_LEN];

	return fetch_challenge_parse(c, m, n);
}

static int
p_auth(const uint8_t *m, size_t n)
{
	uint8_t pk[ID_PK_LEN], sig[ID_SIG_LEN];

	return fetch_auth_parse(pk, sig, m, n);
}

static int
p_fetch(const uint8_t *m, size_t n)
{
	return fetch_fetch_parse(m, n);
}

static int
p_slot(const uint8_t *m, size_t n)
{
	static struct fetch_slot s;

	return fetch_slot_parse(&s, m, n);
}

static int
p_ack(const uint8_t *m, size_t n)
{
	struct fetch_ack a;

	return fetch_ack_parse(&a, m, n);
}

static int
p_acked(const uint8_t *m, size_t n)
{
	uint8_t k;

	return fetch_acked_parse(&k, m, n);
}

static int
p_refuse(const uint8_t *m, size_t n)
{
	return fetch_refuse_parse(m, n);
}

/* A valid message parses; each prefix and one extra byte are refused. */
static void
prefixes(parse_fn fn, const uint8_t *msg, size_t len)
{
	uint8_t *buf = xmalloc(len + 1);

	memcpy(buf, msg, len);
	buf[len] = 0;
	CHECK_EQ(fn(buf, len), 0);
	for (size_t i = 0; i < len; i++)
		CHECK(fn(buf, i) != 0);
	CHECK_EQ(fn(buf, len + 1), ERR_TRAILING);
	free(buf);
}

static void
test_roundtrip_and_prefixes(void)
{
	uint8_t m[FETCH_MSG_MAX], ch[FETCH_CHALLENGE_LEN], ch2[FETCH_CHALLENGE_LEN];
	uint8_t pk[ID_PK_LEN], sig[ID_SIG_LEN], pk2[ID_PK_LEN], sig2[ID_SIG_LEN], k;
	static struct fetch_slot s, s2;
	struct fetch_ack a, a2;
	size_t n;

	n = fetch_hello_encode(m);
	CHECK_EQ(n, FETCH_HELLO_LEN);
	prefixes(p_hello, m, n);
	m[1] = 9;
	CHECK_EQ(fetch_hello_parse(m, n), ERR_UNSUPPORTED);

	randombytes_buf(ch, sizeof(ch));
	n = fetch_challenge_encode(m, ch);
	CHECK_EQ(fetch_challenge_parse(ch2, m, n), 0);
	CHECK(sodium_memcmp(ch, ch2, sizeof(ch)) == 0);
	prefixes(p_challenge, m, n);

	randombytes_buf(pk, sizeof(pk));
	randombytes_buf(sig, sizeof(sig));
	n = fetch_auth_encode(m, pk, sig);
	CHECK_EQ(n, FETCH_AUTH_LEN);
	CHECK_EQ(fetch_auth_parse(pk2, sig2, m, n), 0);
	CHECK(sodium_memcmp(pk, pk2, sizeof(pk)) == 0 && sodium_memcmp(sig, sig2, sizeof(sig)) == 0);
	prefixes(p_auth, m, n);

	n = fetch_fetch_encode(m);
	prefixes(p_fetch, m, n);

	memset(&s, 0, sizeof(s));
	s.index = 2;
	s.flags = FETCH_SLOT_PRESENT | FETCH_SLOT_MORE;
	randombytes_buf(s.msg_id, sizeof(s.msg_id));
	s.received = 1234567;
	s.len = 1000;
	randombytes_buf(s.entry, s.len);
	n = fetch_slot_encode(m, &s);
	CHECK_EQ(n, FETCH_SLOT_LEN);
	CHECK_EQ(fetch_slot_parse(&s2, m, n), 0);
	CHECK_EQ(s2.index, 2);
	CHECK_EQ(s2.len, 1000);
	CHECK_EQ(s2.received, 1234567);
	CHECK(memcmp(s.entry, s2.entry, 1000) == 0);
	prefixes(p_slot, m, n);
	m[FETCH_SLOT_LEN - 1] = 1;	/* padding must be zero */
	CHECK_EQ(fetch_slot_parse(&s2, m, n), ERR_MALFORMED);

	memset(&s, 0, sizeof(s));	/* an empty slot has the same size */
	s.index = 3;
	CHECK_EQ(fetch_slot_encode(m, &s), FETCH_SLOT_LEN);
	CHECK_EQ(fetch_slot_parse(&s2, m, FETCH_SLOT_LEN), 0);
	CHECK_EQ(s2.flags, 0);
	m[2] = FETCH_SLOT_PRESENT;	/* present with length 0 */
	CHECK_EQ(fetch_slot_parse(&s2, m, FETCH_SLOT_LEN), ERR_MALFORMED);
	m[2] = 0;
	m[1] = FETCH_BATCH;		/* index out of range */
	CHECK_EQ(fetch_slot_parse(&s2, m, FETCH_SLOT_LEN), ERR_MALFORMED);

	memset(&a, 0, sizeof(a));
	a.n = 2;
	randombytes_buf(a.ids, 2 * FETCH_MSG_ID_LEN);
	n = fetch_ack_encode(m, &a);
	CHECK_EQ(n, FETCH_ACK_LEN);
	CHECK_EQ(fetch_ack_parse(&a2, m, n), 0);
	CHECK_EQ(a2.n, 2);
	CHECK(memcmp(a.ids, a2.ids, 2 * FETCH_MSG_ID_LEN) == 0);
	prefixes(p_ack, m, n);
	m[1] = 0;
	CHECK_EQ(fetch_ack_parse(&a2, m, n), ERR_MALFORMED);
	m[1] = 1;			/* the unused second id is not zero */
	CHECK_EQ(fetch_ack_parse(&a2, m, n), ERR_MALFORMED);

	n = fetch_acked_encode(m, 3);
	CHECK_EQ(fetch_acked_parse(&k, m, n), 0);
	CHECK_EQ(k, 3);
	prefixes(p_acked, m, n);

	n = fetch_refuse_encode(m);
	prefixes(p_refuse, m, n);
	m[1] = 1;
	CHECK_EQ(fetch_refuse_parse(m, n), ERR_MALFORMED);

	/* A message of one type is not accepted as another. */
	n = fetch_fetch_encode(m);
	CHECK(fetch_hello_parse(m, n) != 0);
	CHECK(fetch_refuse_parse(m, n) != 0);
	CHECK_EQ(fetch_msg_type(m, n), FETCH_T_FETCH);
	CHECK_EQ(fetch_msg_type(m, 0), -1);
}

static void
test_auth_binding(void)
{
	struct id_keypair *owner = id_keypair_new(), *other = id_keypair_new();
	uint8_t node[NODE_ID_LEN], hs[FETCH_HASH_LEN], ch[FETCH_CHALLENGE_LEN], sig[ID_SIG_LEN];
	uint8_t x[32];

	randombytes_buf(node, sizeof(node));
	randombytes_buf(hs, sizeof(hs));
	randombytes_buf(ch, sizeof(ch));
	fetch_auth_sign(sig, owner, node, hs, ch);
	CHECK_EQ(fetch_auth_verify(sig, owner->pk, node, hs, ch), 0);
	CHECK_EQ(fetch_auth_verify(sig, other->pk, node, hs, ch), ERR_AUTH);
	memcpy(x, node, 32);
	x[0] ^= 1;
	CHECK_EQ(fetch_auth_verify(sig, owner->pk, x, hs, ch), ERR_AUTH);
	memcpy(x, hs, 32);
	x[31] ^= 1;
	CHECK_EQ(fetch_auth_verify(sig, owner->pk, node, x, ch), ERR_AUTH);
	memcpy(x, ch, 32);
	x[5] ^= 1;
	CHECK_EQ(fetch_auth_verify(sig, owner->pk, node, hs, x), ERR_AUTH);
	sig[0] ^= 1;
	CHECK_EQ(fetch_auth_verify(sig, owner->pk, node, hs, ch), ERR_AUTH);
	id_keypair_free(owner);
	id_keypair_free(other);
}

static void
test_box_id(void)
{
	struct id_keypair *a = id_keypair_new(), *b = id_keypair_new();
	uint8_t ia[FETCH_BOX_ID_LEN], ia2[FETCH_BOX_ID_LEN], ib[FETCH_BOX_ID_LEN];
	uint8_t nid[NODE_ID_LEN];

	fetch_box_id(ia, a->pk);
	fetch_box_id(ia2, a->pk);
	fetch_box_id(ib, b->pk);
	node_id_of(nid, a->pk);
	CHECK(sodium_memcmp(ia, ia2, sizeof(ia)) == 0);
	CHECK(sodium_memcmp(ia, ib, sizeof(ia)) != 0);
	CHECK(sodium_memcmp(ia, nid, sizeof(ia)) != 0);	/* not the node id */
	id_keypair_free(a);
	id_keypair_free(b);
}

int
main(int argc, char **argv)
{
	check_begin(argv[0]);
	crypto_init();
	RUN(test_roundtrip_and_prefixes);
	RUN(test_auth_binding);
	RUN(test_box_id);
	return check_end();
}
