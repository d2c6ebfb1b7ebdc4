/* Tests for client/fragment (encode, parse, signatures) and reassembly in
 * the inbox (client/store_in.c): any order, duplicates, partial, hash
 * mismatch, forged signature. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client/fragment.h"
#include "client/store.h"
#include "common/keys.h"
#include "common/util.h"
#include "tests/check.h"

#define SPACE 1212

/* Cut msg into encoded fragments of SPACE bytes; returns the count. */
static uint32_t
cut(const uint8_t *msg, size_t len, const struct id_keypair *signer,
    const uint8_t rcpt[static ID_PK_LEN], uint8_t (**out)[SPACE])
{
	struct frag f;
	size_t chunk = frag_chunk_len(SPACE, signer != NULL);
	uint32_t i;

	memset(&f, 0, sizeof(f));
	f.flags = signer ? FRAG_FLAG_SIGNED : 0;
	randombytes_buf(f.msg_id, MSG_ID_LEN);
	f.total_len = len;
	f.count = frag_count_for(len, SPACE, signer != NULL);
	msg_hash(f.hash, msg, len);
	if (signer) {
		memcpy(f.sender_pk, signer->pk, ID_PK_LEN);
		msg_sign(f.sig, f.msg_id, len, f.hash, rcpt, signer);
	}
	*out = xcalloc(f.count, SPACE);
	for (i = 0; i < f.count; i++) {
		f.index = i;
		f.chunk = msg + (size_t)i * chunk;
		f.chunk_len = (uint16_t)MIN(chunk, len - (size_t)i * chunk);
		CHECK_EQ(frag_encode((*out)[i], SPACE, &f), 0);
	}
	return f.count;
}

static void
test_round_trip(void)
{
	uint8_t msg[3000], rcpt[ID_PK_LEN], (*fr)[SPACE];
	struct frag f;
	uint32_t n, i;

	randombytes_buf(msg, sizeof(msg));
	randombytes_buf(rcpt, sizeof(rcpt));
	n = cut(msg, sizeof(msg), NULL, rcpt, &fr);
	CHECK_EQ(n, 3);
	for (i = 0; i < n; i++) {
		CHECK_EQ(frag_parse(&f, fr[i], SPACE), 0);
		CHECK_EQ(f.index, i);
		CHECK_EQ(f.count, 3);
		CHECK_EQ(f.total_len, sizeof(msg));
		CHECK(memcmp(f.chunk, msg + i * frag_chunk_len(SPACE, false), f.chunk_len) == 0);
	}
	free(fr);
	CHECK_EQ(frag_count_for(0, SPACE, false), 1);
	CHECK_EQ(frag_chunk_len(SPACE, false), SPACE - FRAG_HDR_LEN);
	CHECK_EQ(frag_chunk_len(SPACE, true), SPACE - FRAG_HDR_LEN - FRAG_SIG_BLOCK_LEN);
}

static void
test_parse_rejects(void)
{
	uint8_t msg[100], rcpt[ID_PK_LEN], (*fr)[SPACE], bad[SPACE];
	struct frag f;
	size_t n;

	randombytes_buf(msg, sizeof(msg));
	randombytes_buf(rcpt, sizeof(rcpt));
	CHECK_EQ(cut(msg, sizeof(msg), NULL, rcpt, &fr), 1);
	/* every truncated prefix: the padding is part of the format */
	for (n = 0; n < FRAG_HDR_LEN + sizeof(msg); n++)
		CHECK(frag_parse(&f, fr[0], n) != 0);
	memcpy(bad, fr[0], SPACE);
	bad[0] = 2;					/* version */
	CHECK_EQ(frag_parse(&f, bad, SPACE), ERR_UNSUPPORTED);
	memcpy(bad, fr[0], SPACE);
	bad[1] = 0x80;					/* unknown flag */
	CHECK_EQ(frag_parse(&f, bad, SPACE), ERR_UNSUPPORTED);
	memcpy(bad, fr[0], SPACE);
	bad[SPACE - 1] = 1;				/* padding */
	CHECK_EQ(frag_parse(&f, bad, SPACE), ERR_MALFORMED);
	memcpy(bad, fr[0], SPACE);
	bad[2 + 16 + 3] = 5;				/* index 5 of 1 */
	CHECK_EQ(frag_parse(&f, bad, SPACE), ERR_MALFORMED);
	memcpy(bad, fr[0], SPACE);
	bad[2 + 16 + 8 + 2] = 0xff;			/* total length huge */
	CHECK_EQ(frag_parse(&f, bad, SPACE), ERR_TOO_BIG);
	free(fr);
}

static void
test_signature(void)
{
	struct id_keypair *alice = id_keypair_new(), *bob = id_keypair_new();
	struct id_keypair *carol = id_keypair_new();
	uint8_t id[MSG_ID_LEN], h[MSG_HASH_LEN], sig[ID_SIG_LEN];

	randombytes_buf(id, sizeof(id));
	msg_hash(h, (const uint8_t *)"hi", 2);
	msg_sign(sig, id, 2, h, bob->pk, alice);
	CHECK_EQ(msg_verify(sig, id, 2, h, bob->pk, alice->pk), 0);
	/* not replayable to another recipient, nor for another message */
	CHECK_EQ(msg_verify(sig, id, 2, h, carol->pk, alice->pk), ERR_BAD_SIG);
	CHECK_EQ(msg_verify(sig, id, 3, h, bob->pk, alice->pk), ERR_BAD_SIG);
	CHECK_EQ(msg_verify(sig, id, 2, h, bob->pk, carol->pk), ERR_BAD_SIG);
	id_keypair_free(alice);
	id_keypair_free(bob);
	id_keypair_free(carol);
}

static struct store *
mem_store(void)
{
	struct store *st = NULL;
	char why[256];

	CHECK_EQ(store_open(&st, ":memory:", why, sizeof(why)), 0);
	return st;
}

/* Feed fragments in a shuffled order with duplicates: one message, each
 * fragment counted once, complete only at the end, body identical. */
static void
test_reassembly_any_order(void)
{
	struct store *st = mem_store();
	size_t len = 50000, i;
	uint8_t *msg = xmalloc(len), rcpt[ID_PK_LEN], (*fr)[SPACE], *body;
	uint32_t n, *order;
	struct store_in_msg m;
	enum store_in_add res;
	int64_t id = 0;
	size_t blen, completed = 0, dups = 0;

	randombytes_buf(msg, len);
	randombytes_buf(rcpt, sizeof(rcpt));
	n = cut(msg, len, NULL, rcpt, &fr);
	order = xcalloc(2 * n, sizeof(*order));
	for (i = 0; i < 2 * n; i++)
		order[i] = (uint32_t)(i % n);
	for (i = 2 * n - 1; i > 0; i--) {
		uint32_t j = randombytes_uniform((uint32_t)i + 1), t = order[i];

		order[i] = order[j];
		order[j] = t;
	}
	for (i = 0; i < 2 * n; i++) {
		struct frag f;

		CHECK_EQ(frag_parse(&f, fr[order[i]], SPACE), 0);
		CHECK_EQ(store_in_add(st, &f, rcpt, 1000, &res, &id), 0);
		if (res == IN_ADD_COMPLETED)
			completed++;
		if (res == IN_ADD_DUPLICATE)
			dups++;
		CHECK_EQ(store_in_get(st, id, &m), 0);
		if (completed == 0) {
			CHECK_EQ(m.state, IN_PARTIAL);
			CHECK_EQ(store_in_body(st, id, &body, &blen), ERR_CORRUPT);
		}
	}
	CHECK_EQ(completed, 1);
	CHECK_EQ(dups, n);
	CHECK_EQ(store_in_get(st, id, &m), 0);
	CHECK_EQ(m.state, IN_COMPLETE);
	CHECK_EQ(m.have, n);
	CHECK_EQ(m.sig, SIG_NONE);
	CHECK_EQ(store_in_body(st, id, &body, &blen), 0);
	CHECK_EQ(blen, len);
	CHECK(memcmp(body, msg, len) == 0);
	free(body);
	free(order);
	free(fr);
	free(msg);
	store_free(st);
}

static void
test_partial_never_complete(void)
{
	struct store *st = mem_store();
	uint8_t msg[5000], rcpt[ID_PK_LEN], (*fr)[SPACE], *body;
	struct store_in_msg *list;
	enum store_in_add res;
	struct frag f;
	size_t n, blen;
	uint32_t k, i;
	int64_t id;

	randombytes_buf(msg, sizeof(msg));
	randombytes_buf(rcpt, sizeof(rcpt));
	k = cut(msg, sizeof(msg), NULL, rcpt, &fr);
	for (i = 1; i < k; i++) {	/* all but fragment 0 */
		CHECK_EQ(frag_parse(&f, fr[i], SPACE), 0);
		CHECK_EQ(store_in_add(st, &f, rcpt, 1, &res, &id), 0);
		CHECK_EQ(res, IN_ADD_NEW);
	}
	CHECK_EQ(store_in_list(st, &list, &n), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(list[0].state, IN_PARTIAL);
	CHECK_EQ(list[0].have, k - 1);
	free(list);
	CHECK_EQ(store_in_body(st, id, &body, &blen), ERR_CORRUPT);
	free(fr);
	store_free(st);
}

/* A sender that lies about the hash gets a corrupt message, not a
 * complete one; a fragment disagreeing with the others is dropped. */
static void
test_hash_mismatch_and_conflict(void)
{
	struct store *st = mem_store();
	uint8_t msg[3000], rcpt[ID_PK_LEN], (*fr)[SPACE], *body;
	struct store_in_msg m;
	enum store_in_add res;
	struct frag f;
	size_t blen;
	uint32_t k, i;
	int64_t id;

	randombytes_buf(msg, sizeof(msg));
	randombytes_buf(rcpt, sizeof(rcpt));
	k = cut(msg, sizeof(msg), NULL, rcpt, &fr);
	/* flip a byte of fragment 1's chunk: its header still agrees */
	fr[1][FRAG_HDR_LEN + 3] ^= 0x40;
	for (i = 0; i < k; i++) {
		CHECK_EQ(frag_parse(&f, fr[i], SPACE), 0);
		CHECK_EQ(store_in_add(st, &f, rcpt, 1, &res, &id), 0);
	}
	CHECK_EQ(res, IN_ADD_COMPLETED);
	CHECK_EQ(store_in_get(st, id, &m), 0);
	CHECK_EQ(m.state, IN_CORRUPT);
	CHECK_EQ(store_in_body(st, id, &body, &blen), ERR_CORRUPT);
	free(fr);

	/* conflict: same id, another length */
	k = cut(msg, sizeof(msg), NULL, rcpt, &fr);
	CHECK_EQ(frag_parse(&f, fr[0], SPACE), 0);
	CHECK_EQ(store_in_add(st, &f, rcpt, 1, &res, &id), 0);
	CHECK_EQ(res, IN_ADD_NEW);
	CHECK_EQ(frag_parse(&f, fr[1], SPACE), 0);
	f.total_len += 1;
	CHECK_EQ(store_in_add(st, &f, rcpt, 1, &res, &id), 0);
	CHECK_EQ(res, IN_ADD_CONFLICT);
	CHECK_EQ(store_in_get(st, id, &m), 0);
	CHECK_EQ(m.have, 1);
	free(fr);
	store_free(st);
}

static void
test_signed_and_forged(void)
{
	struct store *st = mem_store();
	struct id_keypair *alice = id_keypair_new(), *bob = id_keypair_new();
	uint8_t msg[2500], (*fr)[SPACE];
	struct store_in_msg m;
	enum store_in_add res;
	struct frag f;
	uint32_t k, i;
	int64_t id;

	randombytes_buf(msg, sizeof(msg));
	k = cut(msg, sizeof(msg), alice, bob->pk, &fr);
	for (i = 0; i < k; i++) {
		CHECK_EQ(frag_parse(&f, fr[i], SPACE), 0);
		CHECK(f.flags & FRAG_FLAG_SIGNED);
		CHECK_EQ(store_in_add(st, &f, bob->pk, 1, &res, &id), 0);
	}
	CHECK_EQ(store_in_get(st, id, &m), 0);
	CHECK_EQ(m.state, IN_COMPLETE);
	CHECK_EQ(m.sig, SIG_VALID);
	CHECK(memcmp(m.sender_pk, alice->pk, ID_PK_LEN) == 0);
	free(fr);

	/* forged: the signature is flipped in every fragment */
	k = cut(msg, sizeof(msg), alice, bob->pk, &fr);
	for (i = 0; i < k; i++) {
		fr[i][FRAG_HDR_LEN - 2 + ID_PK_LEN] ^= 1;
		CHECK_EQ(frag_parse(&f, fr[i], SPACE), 0);
		CHECK_EQ(store_in_add(st, &f, bob->pk, 1, &res, &id), 0);
	}
	CHECK_EQ(store_in_get(st, id, &m), 0);
	CHECK_EQ(m.state, IN_COMPLETE);
	CHECK_EQ(m.sig, SIG_INVALID);
	free(fr);

	/* signed for bob, delivered to carol's inbox: flagged */
	k = cut(msg, sizeof(msg), alice, bob->pk, &fr);
	for (i = 0; i < k; i++) {
		CHECK_EQ(frag_parse(&f, fr[i], SPACE), 0);
		CHECK_EQ(store_in_add(st, &f, alice->pk, 1, &res, &id), 0);
	}
	CHECK_EQ(store_in_get(st, id, &m), 0);
	CHECK_EQ(m.sig, SIG_INVALID);
	free(fr);
	id_keypair_free(alice);
	id_keypair_free(bob);
	store_free(st);
}

static void
test_empty_and_large(void)
{
	struct store *st = mem_store();
	uint8_t rcpt[ID_PK_LEN], (*fr)[SPACE], *body;
	size_t len = 4u << 20, blen;
	uint8_t *msg = xmalloc(len);
	enum store_in_add res;
	struct frag f;
	uint32_t k, i;
	int64_t id;

	randombytes_buf(rcpt, sizeof(rcpt));
	k = cut((const uint8_t *)"", 0, NULL, rcpt, &fr);
	CHECK_EQ(k, 1);
	CHECK_EQ(frag_parse(&f, fr[0], SPACE), 0);
	CHECK_EQ(store_in_add(st, &f, rcpt, 1, &res, &id), 0);
	CHECK_EQ(res, IN_ADD_COMPLETED);
	CHECK_EQ(store_in_body(st, id, &body, &blen), 0);
	CHECK_EQ(blen, 0);
	free(body);
	free(fr);
	/* 4 MiB in reverse order, in one transaction */
	randombytes_buf(msg, len);
	k = cut(msg, len, NULL, rcpt, &fr);
	CHECK_EQ(store_begin(st), 0);
	for (i = k; i-- > 0;) {
		CHECK_EQ(frag_parse(&f, fr[i], SPACE), 0);
		CHECK_EQ(store_in_add(st, &f, rcpt, 1, &res, &id), 0);
	}
	CHECK_EQ(store_commit(st), 0);
	CHECK_EQ(res, IN_ADD_COMPLETED);
	CHECK_EQ(store_in_body(st, id, &body, &blen), 0);
	CHECK_EQ(blen, len);
	CHECK(blen == len && memcmp(body, msg, len) == 0);
	free(body);
	free(fr);
	free(msg);
	store_free(st);
}

int
main(int argc, char **argv)
{
	(void)argc;
	check_begin(argv[0]);
	crypto_init();
	RUN(test_round_trip);
	RUN(test_parse_rejects);
	RUN(test_signature);
	RUN(test_reassembly_any_order);
	RUN(test_partial_never_complete);
	RUN(test_hash_mismatch_and_conflict);
	RUN(test_signed_and_forged);
	RUN(test_empty_and_large);
	return check_end();
}
