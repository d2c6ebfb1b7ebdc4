/* Tests for common/sphinx, common/lioness and common/sphinx_replay.
 *
 * Known-answer vectors live in tests/vectors/sphinx_*.txt. To regenerate
 * them after a deliberate format change, run
 *   BURROW_REGEN_VECTORS=1 build/tests/test_sphinx
 * from the top of the tree, and review the diff. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/buf.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/lioness.h"
#include "common/sphinx.h"
#include "common/sphinx_replay.h"
#include "common/util.h"
#include "tests/check.h"

#define NNODES 8

/* A small deterministic network: node i has key pair and id derived from i. */
struct net {
	uint8_t sk[NNODES][32], pk[NNODES][32], id[NNODES][32];
	uint8_t rsk[32], rpk[32];	/* recipient's mailbox key */
	uint8_t ssk[32], spk[32];	/* sender's own mailbox key (ACKs, SURBs) */
};

static struct net net;
static const char *argv0;

static void
derive_key(uint8_t sk[32], uint8_t pk[32], const char *label, int i)
{
	char buf[64];

	snprintf(buf, sizeof(buf), "burrow test key %s %d", label, i);
	crypto_generichash(sk, 32, (const uint8_t *)buf, strlen(buf), NULL, 0);
	if (crypto_scalarmult_base(pk, sk) != 0)
		abort();
}

static void
net_init(void)
{
	for (int i = 0; i < NNODES; i++) {
		derive_key(net.sk[i], net.pk[i], "node", i);
		crypto_generichash(net.id[i], 32, net.pk[i], 32, NULL, 0);
	}
	derive_key(net.rsk, net.rpk, "recipient", 0);
	derive_key(net.ssk, net.spk, "sender", 0);
}

/* Path over nodes idx[0..n). */
static void
path_of(struct sphinx_hop *hops, const int *idx, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		memcpy(hops[i].node_pk, net.pk[idx[i]], 32);
		memcpy(hops[i].node_id, net.id[idx[i]], 32);
		hops[i].delay_ms = (uint32_t)(1000 * i + 7);
	}
}

static void
dest_of(struct sphinx_dest *d, const uint8_t *rpk, uint8_t tagbyte)
{
	memset(d->mailbox_id, 0xa0 + tagbyte, sizeof(d->mailbox_id));
	memcpy(d->recipient_pk, rpk, 32);
	memset(d->msg_id, 0x50 + tagbyte, sizeof(d->msg_id));
}

static int
node_index(const uint8_t id[32])
{
	for (int i = 0; i < NNODES; i++)
		if (sodium_memcmp(id, net.id[i], 32) == 0)
			return i;
	return -1;
}

/* Carry pkt from the node with id first through the network until a node
 * delivers; checks each hop against idx. Returns the last unwrap's code. */
static int
walk(struct sphinx_result *res, uint8_t pkt[SPHINX_PACKET_LEN], const int *idx, size_t n,
     uint8_t tags[][SPHINX_REPLAY_TAG_LEN])
{
	for (size_t i = 0; i < n; i++) {
		int r = sphinx_unwrap(res, pkt, SPHINX_PACKET_LEN, net.sk[idx[i]], net.pk[idx[i]]);

		if (r)
			return r;
		if (tags)
			memcpy(tags[i], res->replay_tag, SPHINX_REPLAY_TAG_LEN);
		if (i + 1 < n) {
			CHECK_EQ(res->cmd, SPHINX_CMD_RELAY);
			CHECK_EQ(node_index(res->next_id), idx[i + 1]);
			CHECK_EQ(res->delay_ms, 1000 * i + 7);
		} else {
			CHECK_EQ(res->cmd, SPHINX_CMD_DELIVER);
		}
		if (res->cmd == SPHINX_CMD_DELIVER && i + 1 < n)
			return ERR_INTERNAL;
	}
	return 0;
}

static void
fill_msg(uint8_t *m, size_t len, int salt)
{
	for (size_t i = 0; i < len; i++)
		m[i] = (uint8_t)(i * 31 + salt);
}

static const int route[] = { 0, 1, 2, 3, 4 };
static const int back_route[] = { 5, 6, 7, 2, 1 };

/* ---- LIONESS ---- */

static void
test_lioness(void)
{
	uint8_t key[LIONESS_KEY_LEN], a[SPHINX_PAYLOAD_LEN], b[SPHINX_PAYLOAD_LEN];
	size_t lens[] = { LIONESS_MIN_LEN, 64, 1000, SPHINX_PAYLOAD_LEN };

	randombytes_buf(key, sizeof(key));
	for (size_t t = 0; t < ARRAY_LEN(lens); t++) {
		size_t len = lens[t];

		randombytes_buf(a, len);
		memcpy(b, a, len);
		CHECK_EQ(lioness_encrypt(b, len, key), 0);
		CHECK(memcmp(a, b, len) != 0);
		CHECK_EQ(lioness_decrypt(b, len, key), 0);
		CHECK(memcmp(a, b, len) == 0);
	}
	/* One flipped ciphertext bit changes (nearly) every plaintext byte. */
	memset(a, 0, sizeof(a));
	CHECK_EQ(lioness_encrypt(a, sizeof(a), key), 0);
	for (size_t pos = 0; pos < sizeof(a); pos += 97) {
		size_t same = 0;

		memcpy(b, a, sizeof(b));
		b[pos] ^= 0x10;
		CHECK_EQ(lioness_decrypt(b, sizeof(b), key), 0);
		for (size_t i = 0; i < sizeof(b); i++)
			same += b[i] == 0;
		CHECK(same < 30);	/* ~ 1678/256 expected by chance */
	}
	CHECK_EQ(lioness_encrypt(a, LIONESS_MIN_LEN - 1, key), ERR_INTERNAL);
}

/* ---- forward packets ---- */

static void
test_sizes(void)
{
	CHECK_EQ(SPHINX_HEADER_LEN, 370);
	CHECK_EQ(SPHINX_PAYLOAD_LEN, 1678);
	CHECK_EQ(SPHINX_MSG_LEN, 1662);
	CHECK_EQ(SPHINX_SURB_LEN, 434);
	CHECK_EQ(SPHINX_MSG_ACK_LEN, 1212);
	CHECK_EQ(SPHINX_DEPOSIT_LEN, 1710);
	CHECK_EQ(SPHINX_DEPOSIT_ACK_LEN, 1260);
	CHECK_EQ(SPHINX_SURB_SECRET_MAX_LEN, 209);
}

static void
test_forward_roundtrip(void)
{
	uint8_t pkt[SPHINX_PACKET_LEN], msg[SPHINX_MSG_LEN], out[SPHINX_MSG_LEN];
	struct sphinx_hop hops[SPHINX_MAX_HOPS];
	struct sphinx_dest dest;
	static struct sphinx_result res;
	size_t len;

	dest_of(&dest, net.rpk, 1);
	for (size_t n = 1; n <= SPHINX_MAX_HOPS; n++) {
		path_of(hops, route, n);
		fill_msg(msg, sizeof(msg), (int)n);
		CHECK_EQ(sphinx_create(pkt, hops, n, &dest, NULL, msg, sizeof(msg)), 0);
		CHECK_EQ(walk(&res, pkt, route, n, NULL), 0);
		CHECK(memcmp(res.mailbox_id, dest.mailbox_id, 32) == 0);
		CHECK(memcmp(res.msg_id, dest.msg_id, 16) == 0);
		CHECK(!res.has_ack);
		CHECK_EQ(res.deposit_len, SPHINX_DEPOSIT_LEN);
		CHECK_EQ(sphinx_open(out, &len, res.deposit, res.deposit_len, net.rsk, net.rpk), 0);
		CHECK_EQ(len, SPHINX_MSG_LEN);
		CHECK(memcmp(out, msg, sizeof(msg)) == 0);
		/* The wrong key fails; so does a key with the wrong public half. */
		CHECK_EQ(sphinx_open(out, &len, res.deposit, res.deposit_len, net.ssk, net.spk),
			 ERR_AUTH);
		CHECK_EQ(len, 0);
		CHECK_EQ(sphinx_open(out, &len, res.deposit, res.deposit_len, net.rsk, net.spk),
			 ERR_AUTH);
	}
	/* Short messages are zero-padded. */
	path_of(hops, route, 2);
	CHECK_EQ(sphinx_create(pkt, hops, 2, &dest, NULL, (const uint8_t *)"hi", 2), 0);
	CHECK_EQ(walk(&res, pkt, route, 2, NULL), 0);
	CHECK_EQ(sphinx_open(out, &len, res.deposit, res.deposit_len, net.rsk, net.rpk), 0);
	CHECK(out[0] == 'h' && out[1] == 'i' && sodium_is_zero(out + 2, len - 2));
	CHECK_EQ(sphinx_create(pkt, hops, 2, &dest, NULL, NULL, 0), 0);
}

static void
test_create_errors(void)
{
	uint8_t pkt[SPHINX_PACKET_LEN], msg[SPHINX_MSG_LEN + 1] = { 0 };
	struct sphinx_hop hops[SPHINX_MAX_HOPS + 1];
	struct sphinx_dest dest;
	struct sphinx_surb surb;
	struct sphinx_surb_secret sec;
	const int six[] = { 0, 1, 2, 3, 4, 5 };

	path_of(hops, six, 6);
	dest_of(&dest, net.rpk, 1);
	CHECK_EQ(sphinx_create(pkt, hops, 0, &dest, NULL, msg, 1), ERR_RANGE);
	CHECK_EQ(sphinx_create(pkt, hops, 6, &dest, NULL, msg, 1), ERR_RANGE);
	CHECK_EQ(sphinx_create(pkt, hops, 3, &dest, NULL, msg, SPHINX_MSG_LEN + 1), ERR_TOO_BIG);
	CHECK_EQ(sphinx_surb_create(&surb, &sec, hops, 0, &dest), ERR_RANGE);
	CHECK_EQ(sphinx_surb_create(&surb, &sec, hops, 2, &dest), 0);
	CHECK_EQ(sphinx_create(pkt, hops, 3, &dest, &surb, msg, SPHINX_MSG_ACK_LEN + 1),
		 ERR_TOO_BIG);
	CHECK_EQ(sphinx_create(pkt, hops, 3, &dest, &surb, msg, SPHINX_MSG_ACK_LEN), 0);
	CHECK_EQ(sphinx_surb_reply(pkt, dest.mailbox_id, &surb, msg, SPHINX_MSG_LEN + 1),
		 ERR_TOO_BIG);
	/* Low-order keys for a hop or the recipient. */
	memset(hops[1].node_pk, 0, 32);
	CHECK_EQ(sphinx_create(pkt, hops, 3, &dest, NULL, msg, 1), ERR_WEAK_KEY);
	path_of(hops, six, 3);
	memset(dest.recipient_pk, 0, 32);
	dest.recipient_pk[0] = 1;
	CHECK_EQ(sphinx_create(pkt, hops, 3, &dest, NULL, msg, 1), ERR_WEAK_KEY);
	CHECK_EQ(sphinx_surb_create(&surb, &sec, hops, 3, &dest), ERR_WEAK_KEY);
	sphinx_surb_secret_clear(&sec);
}

static void
test_header_tamper(void)
{
	uint8_t pkt[SPHINX_PACKET_LEN], ref[SPHINX_PACKET_LEN], t[SPHINX_PACKET_LEN];
	uint8_t msg[16] = "header tamper";
	struct sphinx_hop hops[3];
	struct sphinx_dest dest;
	static struct sphinx_result res;

	path_of(hops, route, 3);
	dest_of(&dest, net.rpk, 2);
	CHECK_EQ(sphinx_create(pkt, hops, 3, &dest, NULL, msg, sizeof(msg)), 0);
	memcpy(ref, pkt, sizeof(ref));
	/* At the first node, and at the second node after one honest hop. */
	for (int hop = 0; hop < 2; hop++) {
		for (size_t i = 0; i < SPHINX_HEADER_LEN; i++) {
			int r;

			memcpy(t, ref, sizeof(t));
			t[i] ^= (uint8_t)(1u << (i % 8));
			r = sphinx_unwrap(&res, t, sizeof(t), net.sk[hop], net.pk[hop]);
			CHECK(r == ERR_AUTH || r == ERR_WEAK_KEY || r == ERR_UNSUPPORTED);
			if (i < SPHINX_AD_LEN)
				CHECK_EQ(r, ERR_UNSUPPORTED);
			/* Untouched after an authentication failure. */
			t[i] ^= (uint8_t)(1u << (i % 8));
			CHECK(memcmp(t, ref, sizeof(t)) == 0);
		}
		CHECK_EQ(sphinx_unwrap(&res, ref, sizeof(ref), net.sk[hop], net.pk[hop]), 0);
	}
	/* The wrong node's key (as after a key rotation) fails and leaves it intact. */
	memcpy(t, ref, sizeof(t));
	CHECK_EQ(sphinx_unwrap(&res, t, sizeof(t), net.sk[0], net.pk[0]), ERR_AUTH);
	CHECK(memcmp(t, ref, sizeof(t)) == 0);
	CHECK_EQ(sphinx_unwrap(&res, t, sizeof(t), net.sk[2], net.pk[2]), 0);
	CHECK_EQ(res.cmd, SPHINX_CMD_DELIVER);
	/* Wrong lengths. */
	CHECK_EQ(sphinx_unwrap(&res, ref, SPHINX_PACKET_LEN - 1, net.sk[2], net.pk[2]),
		 ERR_TRUNCATED);
	CHECK_EQ(sphinx_unwrap(&res, ref, 0, net.sk[2], net.pk[2]), ERR_TRUNCATED);
	{
		uint8_t big[SPHINX_PACKET_LEN + 1] = { 0 };

		memcpy(big, ref, SPHINX_PACKET_LEN);
		CHECK_EQ(sphinx_unwrap(&res, big, sizeof(big), net.sk[2], net.pk[2]), ERR_TRAILING);
	}
}

static void
test_payload_tamper(void)
{
	uint8_t pkt[SPHINX_PACKET_LEN], ref[SPHINX_PACKET_LEN], out[SPHINX_MSG_LEN];
	uint8_t msg[32] = "payload tamper";
	struct sphinx_hop hops[2];
	struct sphinx_dest dest;
	static struct sphinx_result res;
	size_t len;
	int bad = 0;

	path_of(hops, route, 2);
	dest_of(&dest, net.rpk, 3);
	CHECK_EQ(sphinx_create(ref, hops, 2, &dest, NULL, msg, sizeof(msg)), 0);
	for (size_t i = SPHINX_HEADER_LEN; i < SPHINX_PACKET_LEN; i++) {
		memcpy(pkt, ref, sizeof(pkt));
		pkt[i] ^= 0x80;
		if (walk(&res, pkt, route, 2, NULL) != 0 ||
		    sphinx_open(out, &len, res.deposit, res.deposit_len, net.rsk, net.rpk) !=
			    ERR_AUTH)
			bad++;
	}
	CHECK_EQ(bad, 0);
	/* Tampering with a stored deposit is caught too. */
	memcpy(pkt, ref, sizeof(pkt));
	CHECK_EQ(walk(&res, pkt, route, 2, NULL), 0);
	for (size_t i = 0; i < res.deposit_len; i += 13) {
		res.deposit[i] ^= 1;
		CHECK(sphinx_open(out, &len, res.deposit, res.deposit_len, net.rsk, net.rpk) != 0);
		res.deposit[i] ^= 1;
	}
	CHECK_EQ(sphinx_open(out, &len, res.deposit, res.deposit_len, net.rsk, net.rpk), 0);
}

static void
test_replay_tag(void)
{
	uint8_t a[SPHINX_PACKET_LEN], b[SPHINX_PACKET_LEN], c[SPHINX_PACKET_LEN];
	uint8_t t1[3][SPHINX_REPLAY_TAG_LEN], t2[3][SPHINX_REPLAY_TAG_LEN];
	uint8_t t3[3][SPHINX_REPLAY_TAG_LEN];
	struct sphinx_hop hops[3];
	struct sphinx_dest dest;
	static struct sphinx_result res;

	path_of(hops, route, 3);
	dest_of(&dest, net.rpk, 4);
	CHECK_EQ(sphinx_create(a, hops, 3, &dest, NULL, (const uint8_t *)"x", 1), 0);
	memcpy(b, a, sizeof(b));
	CHECK_EQ(sphinx_create(c, hops, 3, &dest, NULL, (const uint8_t *)"x", 1), 0);
	CHECK_EQ(walk(&res, a, route, 3, t1), 0);
	CHECK_EQ(walk(&res, b, route, 3, t2), 0);
	CHECK_EQ(walk(&res, c, route, 3, t3), 0);
	CHECK(memcmp(t1, t2, sizeof(t1)) == 0);
	for (int i = 0; i < 3; i++) {
		CHECK(memcmp(t1[i], t3[i], SPHINX_REPLAY_TAG_LEN) != 0);
		for (int j = 0; j < i; j++)
			CHECK(memcmp(t1[i], t1[j], SPHINX_REPLAY_TAG_LEN) != 0);
	}
}

static void
test_weak_alpha(void)
{
	/* Points of order 1, 2, 4 and 8 on Curve25519 and non-canonical forms
	 * of them, with and without the ignored top bit. */
	static const char *const low[] = {
		"0000000000000000000000000000000000000000000000000000000000000000",
		"0100000000000000000000000000000000000000000000000000000000000000",
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
		"0000000000000000000000000000000000000000000000000000000000000080",
		"e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b880",
		"5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f11d7",
		"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	};
	uint8_t pkt[SPHINX_PACKET_LEN], out[SPHINX_MSG_LEN], entry[SPHINX_DEPOSIT_LEN];
	struct sphinx_hop hops[1];
	struct sphinx_dest dest;
	static struct sphinx_result res;
	size_t len;

	path_of(hops, route, 1);
	dest_of(&dest, net.rpk, 5);
	CHECK_EQ(sphinx_create(pkt, hops, 1, &dest, NULL, (const uint8_t *)"w", 1), 0);
	memcpy(entry, pkt + SPHINX_HEADER_LEN - 32, 32);
	memcpy(entry + 32, pkt + SPHINX_HEADER_LEN, SPHINX_PAYLOAD_LEN);
	for (size_t i = 0; i < ARRAY_LEN(low); i++) {
		CHECK_EQ(hex_decode(pkt + SPHINX_AD_LEN, 32, low[i]), 0);
		CHECK_EQ(sphinx_unwrap(&res, pkt, sizeof(pkt), net.sk[0], net.pk[0]), ERR_WEAK_KEY);
		CHECK_EQ(hex_decode(entry, 32, low[i]), 0);
		CHECK_EQ(sphinx_open(out, &len, entry, sizeof(entry), net.rsk, net.rpk),
			 ERR_WEAK_KEY);
	}
}

static uint8_t crafted_pl[SPHINX_PAYLOAD_LEN];

/* Build a packet whose hop `at` (of n) finds `slot` and whose last node
 * finds crafted_pl; return hop at's code. */
static int
unwrap_crafted(const uint8_t slot[SPHINX_SLOT_LEN], size_t n, size_t at)
{
	uint8_t slots[SPHINX_MAX_HOPS][SPHINX_SLOT_LEN];
	uint8_t pkt[SPHINX_PACKET_LEN], seed[32] = { 9 };
	struct sphinx_hop hops[SPHINX_MAX_HOPS];
	static struct sphinx_result res;
	int r = 0;

	path_of(hops, route, n);
	memset(slots, 0, sizeof(slots));
	for (size_t i = 0; i + 1 < n; i++) {
		slots[i][0] = SPHINX_CMD_RELAY;
		memcpy(slots[i] + 6, net.id[route[i + 1]], 32);
	}
	slots[n - 1][0] = SPHINX_CMD_DELIVER;
	memcpy(slots[at], slot, SPHINX_SLOT_LEN);
	if (sphinx_test_create_slots(pkt, hops, n, net.rpk, (const uint8_t (*)[64])slots, crafted_pl,
				     seed) != 0)
		return ERR_INTERNAL;
	for (size_t i = 0; i <= at && r == 0; i++)
		r = sphinx_unwrap(&res, pkt, sizeof(pkt), net.sk[route[i]], net.pk[route[i]]);
	return r;
}

static void
test_bad_slots(void)
{
	uint8_t s[SPHINX_SLOT_LEN];

	/* Sanity: the hook builds good packets. */
	memset(s, 0, sizeof(s));
	s[0] = SPHINX_CMD_RELAY;
	memcpy(s + 6, net.id[1], 32);
	CHECK_EQ(unwrap_crafted(s, 2, 0), 0);
	memset(s, 0, sizeof(s));
	s[0] = SPHINX_CMD_DELIVER;
	CHECK_EQ(unwrap_crafted(s, 2, 1), 0);
	CHECK_EQ(unwrap_crafted(s, 1, 0), 0);

	for (int cmd = 0; cmd < 256; cmd += (cmd < 8 ? 1 : 37)) {
		if (cmd == SPHINX_CMD_RELAY || cmd == SPHINX_CMD_DELIVER)
			continue;
		memset(s, 0, sizeof(s));
		s[0] = (uint8_t)cmd;
		CHECK_EQ(unwrap_crafted(s, 2, 0), ERR_UNSUPPORTED);
		CHECK_EQ(unwrap_crafted(s, 2, 1), ERR_UNSUPPORTED);
	}
	/* RELAY: any flag; any reserved byte (54..63). */
	memset(s, 0, sizeof(s));
	s[0] = SPHINX_CMD_RELAY;
	s[1] = 1;
	CHECK_EQ(unwrap_crafted(s, 3, 1), ERR_UNSUPPORTED);
	for (size_t i = 54; i < 64; i++) {
		memset(s, 0, sizeof(s));
		s[0] = SPHINX_CMD_RELAY;
		s[i] = 0x40;
		CHECK_EQ(unwrap_crafted(s, 3, 0), ERR_MALFORMED);
	}
	/* DELIVER: unknown flags; reserved bytes 50..63. */
	for (int f = 2; f < 256; f <<= 1) {
		memset(s, 0, sizeof(s));
		s[0] = SPHINX_CMD_DELIVER;
		s[1] = (uint8_t)f;
		CHECK_EQ(unwrap_crafted(s, 2, 1), ERR_UNSUPPORTED);
	}
	for (size_t i = 50; i < 64; i++) {
		memset(s, 0, sizeof(s));
		s[0] = SPHINX_CMD_DELIVER;
		s[i] = 1;
		CHECK_EQ(unwrap_crafted(s, 2, 1), ERR_MALFORMED);
	}
	/* DELIVER with the ACK flag: a SURB with the wrong version, then a
	 * mailbox layer without its zero tag. */
	memset(s, 0, sizeof(s));
	s[0] = SPHINX_CMD_DELIVER;
	s[1] = SPHINX_DELIVER_F_ACK;
	CHECK_EQ(unwrap_crafted(s, 2, 1), ERR_MALFORMED);
	crafted_pl[SPHINX_ZERO_TAG_LEN + SPHINX_ID_LEN] = SPHINX_VERSION >> 8;
	CHECK_EQ(unwrap_crafted(s, 2, 1), 0);
	crafted_pl[15] = 1;
	CHECK_EQ(unwrap_crafted(s, 2, 1), ERR_AUTH);
	memset(crafted_pl, 0, sizeof(crafted_pl));
}

/* ---- SURBs ---- */

static void
test_surb_roundtrip(void)
{
	uint8_t pkt[SPHINX_PACKET_LEN], msg[SPHINX_MSG_LEN], out[SPHINX_MSG_LEN];
	uint8_t enc[SPHINX_SURB_LEN], senc[SPHINX_SURB_SECRET_MAX_LEN], first[32];
	uint8_t id[SPHINX_DEPOSIT_ID_LEN];
	struct sphinx_hop hops[SPHINX_MAX_HOPS];
	struct sphinx_dest dest;
	struct sphinx_surb surb, surb2;
	struct sphinx_surb_secret sec, sec2;
	static struct sphinx_result res;
	size_t len, slen;

	dest_of(&dest, net.spk, 6);
	for (size_t n = 1; n <= SPHINX_MAX_HOPS; n++) {
		path_of(hops, back_route, n);
		CHECK_EQ(sphinx_surb_create(&surb, &sec, hops, n, &dest), 0);
		/* It travels as bytes. */
		sphinx_surb_encode(enc, &surb);
		CHECK_EQ(sphinx_surb_parse(&surb2, enc, sizeof(enc)), 0);
		slen = sphinx_surb_secret_encode(senc, &sec);
		CHECK_EQ(slen, 49 + 32 * n);
		CHECK_EQ(sphinx_surb_secret_parse(&sec2, senc, slen), 0);
		CHECK(memcmp(&sec2, &sec, sizeof(sec)) == 0);

		fill_msg(msg, sizeof(msg), 100 + (int)n);
		CHECK_EQ(sphinx_surb_reply(pkt, first, &surb2, msg, sizeof(msg)), 0);
		CHECK_EQ(node_index(first), back_route[0]);
		CHECK_EQ(walk(&res, pkt, back_route, n, NULL), 0);
		CHECK(memcmp(res.mailbox_id, dest.mailbox_id, 32) == 0);
		CHECK_EQ(res.deposit_len, SPHINX_DEPOSIT_LEN);
		CHECK_EQ(sphinx_deposit_id(id, res.deposit, res.deposit_len), 0);
		CHECK(memcmp(id, sec2.id, sizeof(id)) == 0);
		CHECK_EQ(sphinx_surb_open(out, &len, res.deposit, res.deposit_len, &sec2), 0);
		CHECK_EQ(len, SPHINX_MSG_LEN);
		CHECK(memcmp(out, msg, sizeof(msg)) == 0);
		/* A reply is not a forward message for the mailbox key ... */
		CHECK_EQ(sphinx_open(out, &len, res.deposit, res.deposit_len, net.ssk, net.spk),
			 ERR_AUTH);
		/* ... and tampering or another SURB's secret fails. */
		res.deposit[100] ^= 4;
		CHECK_EQ(sphinx_surb_open(out, &len, res.deposit, res.deposit_len, &sec2), ERR_AUTH);
		res.deposit[100] ^= 4;
		CHECK_EQ(sphinx_surb_create(&surb, &sec, hops, n, &dest), 0);
		CHECK_EQ(sphinx_surb_open(out, &len, res.deposit, res.deposit_len, &sec), ERR_AUTH);
		sec.id[0] = sec2.id[0];
		memcpy(sec.id, sec2.id, sizeof(sec.id));
		CHECK_EQ(sphinx_surb_open(out, &len, res.deposit, res.deposit_len, &sec), ERR_AUTH);
		sphinx_surb_secret_clear(&sec);
		sphinx_surb_secret_clear(&sec2);
	}
}

/* Forward packet with an ACK SURB: the mailbox node reads the SURB and the
 * message id, stores the shorter deposit, and ACKs through the SURB. */
static void
test_ack_roundtrip(void)
{
	uint8_t pkt[SPHINX_PACKET_LEN], msg[SPHINX_MSG_ACK_LEN], out[SPHINX_MSG_LEN];
	uint8_t first[32], id[SPHINX_DEPOSIT_ID_LEN], ref[SPHINX_PACKET_LEN];
	struct sphinx_hop hops[SPHINX_MAX_HOPS], back[SPHINX_MAX_HOPS];
	struct sphinx_dest dest, home;
	struct sphinx_surb ack;
	struct sphinx_surb_secret sec;
	static struct sphinx_result res, res2;
	size_t len;
	int bad = 0;

	dest_of(&dest, net.rpk, 7);
	dest_of(&home, net.spk, 8);
	for (size_t n = 1; n <= SPHINX_MAX_HOPS; n++) {
		path_of(hops, route, n);
		path_of(back, back_route, n);
		CHECK_EQ(sphinx_surb_create(&ack, &sec, back, n, &home), 0);
		fill_msg(msg, sizeof(msg), 200 + (int)n);
		CHECK_EQ(sphinx_create(pkt, hops, n, &dest, &ack, msg, sizeof(msg)), 0);
		CHECK_EQ(walk(&res, pkt, route, n, NULL), 0);
		CHECK(res.has_ack);
		CHECK(memcmp(res.msg_id, dest.msg_id, 16) == 0);
		CHECK(memcmp(&res.ack, &ack, sizeof(ack)) == 0);
		CHECK_EQ(res.deposit_len, SPHINX_DEPOSIT_ACK_LEN);
		CHECK_EQ(sphinx_open(out, &len, res.deposit, res.deposit_len, net.rsk, net.rpk), 0);
		CHECK_EQ(len, SPHINX_MSG_ACK_LEN);
		CHECK(memcmp(out, msg, sizeof(msg)) == 0);
		/* The mailbox node acknowledges the message id. */
		CHECK_EQ(sphinx_surb_reply(pkt, first, &res.ack, res.msg_id, 16), 0);
		CHECK_EQ(node_index(first), back_route[0]);
		CHECK_EQ(walk(&res2, pkt, back_route, n, NULL), 0);
		CHECK(!res2.has_ack);
		CHECK_EQ(sphinx_deposit_id(id, res2.deposit, res2.deposit_len), 0);
		CHECK(memcmp(id, sec.id, sizeof(id)) == 0);
		CHECK_EQ(sphinx_surb_open(out, &len, res2.deposit, res2.deposit_len, &sec), 0);
		CHECK(memcmp(out, dest.msg_id, 16) == 0 && sodium_is_zero(out + 16, len - 16));
		sphinx_surb_secret_clear(&sec);
	}
	/* Any payload change makes the mailbox node drop it (zero tag or SURB
	 * garbled), before anything is stored or acknowledged. */
	path_of(hops, route, 2);
	path_of(back, back_route, 2);
	CHECK_EQ(sphinx_surb_create(&ack, &sec, back, 2, &home), 0);
	CHECK_EQ(sphinx_create(ref, hops, 2, &dest, &ack, msg, 10), 0);
	for (size_t i = SPHINX_HEADER_LEN; i < SPHINX_PACKET_LEN; i++) {
		int r;

		memcpy(pkt, ref, sizeof(pkt));
		pkt[i] ^= 2;
		r = walk(&res, pkt, route, 2, NULL);
		if (r != ERR_AUTH)
			bad++;
	}
	CHECK_EQ(bad, 0);
	sphinx_surb_secret_clear(&sec);
}

/* ---- parsers: every truncated prefix ---- */

static void
test_parsers_truncated(void)
{
	uint8_t enc[SPHINX_SURB_LEN + 1], senc[SPHINX_SURB_SECRET_MAX_LEN + 1];
	uint8_t pkt[SPHINX_PACKET_LEN], out[SPHINX_MSG_LEN], id[16];
	struct sphinx_hop hops[SPHINX_MAX_HOPS];
	struct sphinx_dest dest;
	struct sphinx_surb surb, s2;
	struct sphinx_surb_secret sec, sec2;
	struct sphinx_deposit d;
	static struct sphinx_result res;
	size_t slen, len;

	path_of(hops, route, SPHINX_MAX_HOPS);
	dest_of(&dest, net.rpk, 9);
	CHECK_EQ(sphinx_surb_create(&surb, &sec, hops, SPHINX_MAX_HOPS, &dest), 0);
	sphinx_surb_encode(enc, &surb);
	enc[SPHINX_SURB_LEN] = 0;
	for (size_t l = 0; l < SPHINX_SURB_LEN; l++)
		CHECK_EQ(sphinx_surb_parse(&s2, enc, l), ERR_TRUNCATED);
	CHECK_EQ(sphinx_surb_parse(&s2, enc, SPHINX_SURB_LEN + 1), ERR_TRAILING);
	CHECK_EQ(sphinx_surb_parse(&s2, enc, SPHINX_SURB_LEN), 0);
	enc[SPHINX_ID_LEN] ^= 1;
	CHECK_EQ(sphinx_surb_parse(&s2, enc, SPHINX_SURB_LEN), ERR_UNSUPPORTED);

	slen = sphinx_surb_secret_encode(senc, &sec);
	CHECK_EQ(slen, SPHINX_SURB_SECRET_MAX_LEN);
	senc[slen] = 0;
	for (size_t l = 0; l < slen; l++)
		CHECK_EQ(sphinx_surb_secret_parse(&sec2, senc, l), ERR_TRUNCATED);
	CHECK_EQ(sphinx_surb_secret_parse(&sec2, senc, slen + 1), ERR_TRAILING);
	senc[48] = 0;
	CHECK_EQ(sphinx_surb_secret_parse(&sec2, senc, slen), ERR_RANGE);
	senc[48] = 6;
	CHECK_EQ(sphinx_surb_secret_parse(&sec2, senc, slen), ERR_RANGE);

	/* Deposit entries: every prefix fails to parse or to open. */
	CHECK_EQ(sphinx_create(pkt, hops, 2, &dest, NULL, (const uint8_t *)"p", 1), 0);
	CHECK_EQ(walk(&res, pkt, route, 2, NULL), 0);
	for (size_t l = 0; l < SPHINX_DEPOSIT_LEN; l++) {
		int r = sphinx_deposit_parse(&d, res.deposit, l);

		if (l == SPHINX_DEPOSIT_ACK_LEN)
			CHECK_EQ(r, 0);
		else
			CHECK_EQ(r, ERR_TRUNCATED);
		r = sphinx_open(out, &len, res.deposit, l, net.rsk, net.rpk);
		CHECK(r == ERR_TRUNCATED || (l == SPHINX_DEPOSIT_ACK_LEN && r == ERR_AUTH));
		r = sphinx_surb_open(out, &len, res.deposit, l, &sec);
		CHECK(r == ERR_TRUNCATED || (l == SPHINX_DEPOSIT_ACK_LEN && r == ERR_AUTH));
		r = sphinx_deposit_id(id, res.deposit, l);
		CHECK(r == ERR_TRUNCATED || l == SPHINX_DEPOSIT_ACK_LEN);
	}
	CHECK_EQ(sphinx_deposit_parse(&d, res.deposit, SPHINX_DEPOSIT_LEN + 1), ERR_TRAILING);
	CHECK_EQ(sphinx_deposit_parse(&d, res.deposit, SPHINX_DEPOSIT_LEN), 0);
	CHECK_EQ(d.body_len, SPHINX_PAYLOAD_LEN);
	sphinx_surb_secret_clear(&sec);
}

/* ---- replay cache ---- */

static void
test_replay_cache(void)
{
	struct sphinx_replay *rc = sphinx_replay_new(1000);
	uint8_t tags[1001][SPHINX_REPLAY_TAG_LEN];

	for (size_t i = 0; i < ARRAY_LEN(tags); i++)
		randombytes_buf(tags[i], SPHINX_REPLAY_TAG_LEN);
	memset(tags[7], 0, SPHINX_REPLAY_TAG_LEN);	/* the all-zero tag is a tag */
	CHECK_EQ(sphinx_replay_max(rc), 1000);
	for (size_t i = 0; i < 1000; i++) {
		CHECK(!sphinx_replay_has(rc, tags[i]));
		CHECK_EQ(sphinx_replay_add(rc, tags[i]), 0);
		CHECK(sphinx_replay_has(rc, tags[i]));
	}
	CHECK_EQ(sphinx_replay_count(rc), 1000);
	for (size_t i = 0; i < 1000; i++)
		CHECK_EQ(sphinx_replay_add(rc, tags[i]), ERR_REPLAY);
	CHECK_EQ(sphinx_replay_add(rc, tags[1000]), ERR_FULL);
	CHECK(!sphinx_replay_has(rc, tags[1000]));
	sphinx_replay_clear(rc);
	CHECK_EQ(sphinx_replay_count(rc), 0);
	CHECK(!sphinx_replay_has(rc, tags[3]));
	CHECK_EQ(sphinx_replay_add(rc, tags[1000]), 0);
	SPHINX_REPLAY_FREE(rc);
	CHECK(rc == NULL);
	sphinx_replay_free(NULL);

	/* A bound of one, and the relay's use: unwrap, then add the tag. */
	rc = sphinx_replay_new(0);
	{
		uint8_t pkt[SPHINX_PACKET_LEN], copy[SPHINX_PACKET_LEN];
		struct sphinx_hop hops[2];
		struct sphinx_dest dest;
		static struct sphinx_result res;

		path_of(hops, route, 2);
		dest_of(&dest, net.rpk, 10);
		CHECK_EQ(sphinx_create(pkt, hops, 2, &dest, NULL, NULL, 0), 0);
		memcpy(copy, pkt, sizeof(copy));
		CHECK_EQ(sphinx_unwrap(&res, pkt, sizeof(pkt), net.sk[0], net.pk[0]), 0);
		CHECK_EQ(sphinx_replay_add(rc, res.replay_tag), 0);
		CHECK_EQ(sphinx_unwrap(&res, copy, sizeof(copy), net.sk[0], net.pk[0]), 0);
		CHECK_EQ(sphinx_replay_add(rc, res.replay_tag), ERR_REPLAY);
	}
	sphinx_replay_free(rc);

	/* Many entries: every one is found, nothing else is. */
	rc = sphinx_replay_new(50000);
	for (uint32_t i = 0; i < 50000; i++) {
		uint8_t t[16] = { 0 };

		memcpy(t, &i, sizeof(i));
		CHECK_EQ(sphinx_replay_add(rc, t), 0);
	}
	for (uint32_t i = 0; i < 60000; i++) {
		uint8_t t[16] = { 0 };

		memcpy(t, &i, sizeof(i));
		CHECK_EQ(sphinx_replay_has(rc, t), i < 50000);
	}
	sphinx_replay_free(rc);
}

/* ---- known-answer vectors ---- */

static void
put_hex(struct wbuf *w, const char *name, const uint8_t *p, size_t n)
{
	char *h = xmalloc(2 * n + 1);

	hex_encode(h, p, n);
	wbuf_printf(w, "%s = %s\n", name, h);
	free(h);
}

static void
seed_of(uint8_t seed[32], const char *label)
{
	crypto_generichash(seed, 32, (const uint8_t *)label, strlen(label), NULL, 0);
}

static void
vec_keys(struct wbuf *w)
{
	for (int i = 0; i < NNODES; i++) {
		char name[32];

		snprintf(name, sizeof(name), "node%d_sk", i);
		put_hex(w, name, net.sk[i], 32);
		snprintf(name, sizeof(name), "node%d_pk", i);
		put_hex(w, name, net.pk[i], 32);
		snprintf(name, sizeof(name), "node%d_id", i);
		put_hex(w, name, net.id[i], 32);
	}
	put_hex(w, "recipient_sk", net.rsk, 32);
	put_hex(w, "recipient_pk", net.rpk, 32);
	put_hex(w, "sender_sk", net.ssk, 32);
	put_hex(w, "sender_pk", net.spk, 32);
}

static void
vec_walk(struct wbuf *w, uint8_t pkt[SPHINX_PACKET_LEN], const int *idx, size_t n,
	 struct sphinx_result *res)
{
	uint8_t tags[SPHINX_MAX_HOPS][SPHINX_REPLAY_TAG_LEN];
	char name[32];

	CHECK_EQ(walk(res, pkt, idx, n, tags), 0);
	for (size_t i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "replay_tag%zu", i);
		put_hex(w, name, tags[i], SPHINX_REPLAY_TAG_LEN);
	}
	put_hex(w, "deposit", res->deposit, res->deposit_len);
}

/* Produce the text of one vector file. */
static char *
vectors_text(const char *which)
{
	struct wbuf w = wbuf_dyn(1 << 20);
	uint8_t seed[32], pkt[SPHINX_PACKET_LEN], msg[SPHINX_MSG_LEN], first[32];
	uint8_t enc[SPHINX_SURB_LEN], senc[SPHINX_SURB_SECRET_MAX_LEN];
	struct sphinx_hop hops[SPHINX_MAX_HOPS], back[SPHINX_MAX_HOPS];
	struct sphinx_dest dest, home;
	struct sphinx_surb surb;
	struct sphinx_surb_secret sec;
	static struct sphinx_result res;
	size_t len;

	wbuf_printf(&w, "# Burrow Sphinx known-answer vectors (%s); see docs/spec.md part 1.\n"
		    "# Regenerate: BURROW_REGEN_VECTORS=1 build/tests/test_sphinx\n", which);
	dest_of(&dest, net.rpk, 1);
	dest_of(&home, net.spk, 2);
	if (strcmp(which, "lioness") == 0) {
		uint8_t key[LIONESS_KEY_LEN], buf[100];

		seed_of(seed, "lioness key");
		crypto_stream_chacha20(key, sizeof(key), (const uint8_t *)"lioness0", seed);
		for (size_t i = 0; i < sizeof(buf); i++)
			buf[i] = (uint8_t)i;
		put_hex(&w, "key", key, sizeof(key));
		put_hex(&w, "plaintext", buf, sizeof(buf));
		CHECK_EQ(lioness_encrypt(buf, sizeof(buf), key), 0);
		put_hex(&w, "ciphertext", buf, sizeof(buf));
	} else if (strcmp(which, "forward") == 0) {
		vec_keys(&w);
		put_hex(&w, "mailbox_id", dest.mailbox_id, 32);
		put_hex(&w, "msg_id", dest.msg_id, 16);
		for (size_t n = 1; n <= SPHINX_MAX_HOPS; n++) {
			char label[32];

			snprintf(label, sizeof(label), "forward %zu", n);
			seed_of(seed, label);
			path_of(hops, route, n);
			fill_msg(msg, 40, (int)n);
			wbuf_printf(&w, "\n# %zu hops over nodes 0..%zu, delay_ms = 1000 i + 7\n", n,
				    n - 1);
			put_hex(&w, "seed", seed, 32);
			put_hex(&w, "msg", msg, 40);
			CHECK_EQ(sphinx_create_det(pkt, hops, n, &dest, NULL, msg, 40, seed), 0);
			put_hex(&w, "packet", pkt, sizeof(pkt));
			vec_walk(&w, pkt, route, n, &res);
		}
	} else if (strcmp(which, "surb") == 0) {
		vec_keys(&w);
		put_hex(&w, "mailbox_id", home.mailbox_id, 32);
		put_hex(&w, "msg_id", home.msg_id, 16);
		seed_of(seed, "surb 3");
		path_of(back, back_route, 3);
		wbuf_printf(&w, "\n# SURB over nodes 5, 6, 7 to the sender's mailbox\n");
		put_hex(&w, "seed", seed, 32);
		CHECK_EQ(sphinx_surb_create_det(&surb, &sec, back, 3, &home, seed), 0);
		sphinx_surb_encode(enc, &surb);
		put_hex(&w, "surb", enc, sizeof(enc));
		len = sphinx_surb_secret_encode(senc, &sec);
		put_hex(&w, "surb_secret", senc, len);
		fill_msg(msg, 40, 77);
		put_hex(&w, "reply_msg", msg, 40);
		CHECK_EQ(sphinx_surb_reply(pkt, first, &surb, msg, 40), 0);
		put_hex(&w, "reply_packet", pkt, sizeof(pkt));
		vec_walk(&w, pkt, back_route, 3, &res);

		wbuf_printf(&w, "\n# forward packet over nodes 0, 1, 2 carrying that SURB as ACK\n");
		seed_of(seed, "ack 3");
		path_of(hops, route, 3);
		put_hex(&w, "seed", seed, 32);
		fill_msg(msg, 40, 78);
		put_hex(&w, "msg", msg, 40);
		CHECK_EQ(sphinx_create_det(pkt, hops, 3, &dest, &surb, msg, 40, seed), 0);
		put_hex(&w, "packet", pkt, sizeof(pkt));
		vec_walk(&w, pkt, route, 3, &res);
		sphinx_surb_secret_clear(&sec);
	}
	{
		char *s = wbuf_take(&w, &len);

		if (!s)
			abort();
		return s;
	}
}

static char *
vector_path(const char *which)
{
	const char *dir = getenv("BURROW_VECTORS_DIR");
	char *p;
	FILE *f;

	if (dir)
		return xasprintf("%s/sphinx_%s.txt", dir, which);
	p = xasprintf("tests/vectors/sphinx_%s.txt", which);
	if ((f = fopen(p, "r")) != NULL || getenv("BURROW_REGEN_VECTORS")) {
		if (f)
			fclose(f);
		return p;
	}
	free(p);
	/* Run from elsewhere: build/tests/test_sphinx → ../../tests/vectors. */
	{
		const char *slash = strrchr(argv0, '/');
		int dlen = slash ? (int)(slash - argv0) : 1;

		return xasprintf("%.*s/../../tests/vectors/sphinx_%s.txt", dlen,
				 slash ? argv0 : ".", which);
	}
}

static void
test_vectors(void)
{
	static const char *const files[] = { "lioness", "forward", "surb" };
	bool regen = getenv("BURROW_REGEN_VECTORS") != NULL;

	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		char *want = vectors_text(files[i]), *path = vector_path(files[i]);
		FILE *f = fopen(path, regen ? "w" : "r");

		CHECK(f != NULL);
		if (!f) {
			fprintf(stderr, "  cannot open %s\n", path);
		} else if (regen) {
			CHECK(fputs(want, f) >= 0);
			CHECK_EQ(fclose(f), 0);
			fprintf(stderr, "  wrote %s\n", path);
		} else {
			size_t n = strlen(want);
			char *got = xmalloc(n + 2);
			size_t g = fread(got, 1, n + 1, f);

			fclose(f);
			CHECK_EQ(g, n);
			CHECK(g == n && memcmp(got, want, n) == 0);
			free(got);
		}
		free(path);
		free(want);
	}
}

int
main(int argc, char **argv)
{
	argv0 = argv[0];
	check_begin(argv[0]);
	crypto_init();
	net_init();
	RUN(test_sizes);
	RUN(test_lioness);
	RUN(test_forward_roundtrip);
	RUN(test_create_errors);
	RUN(test_header_tamper);
	RUN(test_payload_tamper);
	RUN(test_replay_tag);
	RUN(test_weak_alpha);
	RUN(test_bad_slots);
	RUN(test_surb_roundtrip);
	RUN(test_ack_roundtrip);
	RUN(test_parsers_truncated);
	RUN(test_replay_cache);
	RUN(test_vectors);
	return check_end();
}
