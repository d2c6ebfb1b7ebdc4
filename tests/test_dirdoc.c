/* Tests for common/dirdoc: descriptors and consensuses. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/dirdoc.h"
#include "common/err.h"
#include "common/keys.h"
#include "common/util.h"
#include "tests/check.h"

#define EPOCH_LEN 3600u
#define EPOCH 480000u	/* an epoch in 2024 */

static struct id_keypair *
seeded_id(uint8_t n)
{
	uint8_t seed[ID_SEED_LEN];

	memset(seed, n, sizeof(seed));
	return id_keypair_from_seed(seed);
}

static void
fill_relay(struct dirdoc_relay *r, const struct id_keypair *kp, int i, uint64_t published)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->nickname, sizeof(r->nickname), "relay%d", i);
	memcpy(r->id_pk, kp->pk, ID_PK_LEN);
	node_id_of(r->node_id, r->id_pk);
	memset(r->link_pk, 0x10 + i, X_PK_LEN);
	r->key_epoch[0] = EPOCH;
	r->key_epoch[1] = EPOCH + 1;
	memset(r->packet_pk[0], 0x20 + i, X_PK_LEN);
	memset(r->packet_pk[1], 0x30 + i, X_PK_LEN);
	snprintf(r->host, sizeof(r->host), "10.0.%d.1", i);
	r->port = (uint16_t)(5000 + i);
	r->roles = DIRDOC_ROLE_MIX | (i % 2 ? DIRDOC_ROLE_MAILBOX : 0);
	r->bandwidth = 1000000u + (uint64_t)i;
	if (i % 3 == 0) {
		r->nfamily = 2;
		memset(r->family[0], 0x01, NODE_ID_LEN);
		memset(r->family[1], 0x02, NODE_ID_LEN);
	}
	snprintf(r->contact, sizeof(r->contact), "operator %d <op@example.org>", i);
	snprintf(r->software, sizeof(r->software), "burrow 0.1");
	r->published = published;
}

static char *
make_descriptor(int i, uint64_t published, size_t *len)
{
	struct id_keypair *kp = seeded_id((uint8_t)(100 + i));
	struct dirdoc_relay r;
	char *text = NULL;

	fill_relay(&r, kp, i, published);
	CHECK_EQ(dirdoc_descriptor_encode(&r, kp, &text, len), 0);
	id_keypair_free(kp);
	return text;
}

static void
test_descriptor_round_trip(void)
{
	struct id_keypair *kp = seeded_id(7);
	struct dirdoc_relay in, out;
	char *text, *again, why[160];
	size_t len, len2;

	fill_relay(&in, kp, 3, 1700000000u);
	CHECK_EQ(dirdoc_descriptor_encode(&in, kp, &text, &len), 0);
	CHECK_EQ(dirdoc_descriptor_parse(text, len, &out, why, sizeof(why)), 0);
	CHECK_STR(out.nickname, "relay3");
	CHECK(memcmp(out.id_pk, kp->pk, ID_PK_LEN) == 0);
	CHECK(memcmp(out.node_id, in.node_id, NODE_ID_LEN) == 0);
	CHECK(memcmp(out.packet_pk[1], in.packet_pk[1], X_PK_LEN) == 0);
	CHECK_EQ(out.key_epoch[1], EPOCH + 1);
	CHECK_STR(out.host, "10.0.3.1");
	CHECK_EQ(out.port, 5003);
	CHECK_EQ(out.roles, DIRDOC_ROLE_MIX | DIRDOC_ROLE_MAILBOX);
	CHECK_EQ(out.nfamily, 2);
	CHECK_STR(out.contact, in.contact);
	CHECK_STR(out.software, "burrow 0.1");
	CHECK_EQ(out.published, 1700000000u);
	/* re-encoding gives the same bytes (Ed25519 is deterministic) */
	CHECK_EQ(dirdoc_descriptor_encode(&out, kp, &again, &len2), 0);
	CHECK_EQ(len2, len);
	CHECK(again && strcmp(again, text) == 0);
	free(again);
	/* empty contact and family encode and parse too */
	in.contact[0] = '\0';
	in.nfamily = 0;
	free(text);
	CHECK_EQ(dirdoc_descriptor_encode(&in, kp, &text, &len), 0);
	CHECK_EQ(dirdoc_descriptor_parse(text, len, &out, why, sizeof(why)), 0);
	CHECK(strstr(text, "\ncontact\n") != NULL);
	CHECK(strstr(text, "\nfamily\n") != NULL);
	free(text);
	id_keypair_free(kp);
}

static void
test_descriptor_encode_refuses(void)
{
	struct id_keypair *kp = seeded_id(7);
	struct dirdoc_relay r;
	char *text;
	size_t len;

	fill_relay(&r, kp, 1, 1);
	snprintf(r.nickname, sizeof(r.nickname), "bad nick");
	CHECK_EQ(dirdoc_descriptor_encode(&r, kp, &text, &len), ERR_MALFORMED);
	fill_relay(&r, kp, 1, 1);
	r.roles = 4;
	CHECK_EQ(dirdoc_descriptor_encode(&r, kp, &text, &len), ERR_MALFORMED);
	fill_relay(&r, kp, 1, 1);
	r.key_epoch[1] = r.key_epoch[0] + 2;
	CHECK_EQ(dirdoc_descriptor_encode(&r, kp, &text, &len), ERR_MALFORMED);
	fill_relay(&r, kp, 1, 1);
	snprintf(r.contact, sizeof(r.contact), "tab\there");
	CHECK_EQ(dirdoc_descriptor_encode(&r, kp, &text, &len), ERR_MALFORMED);
	id_keypair_free(kp);
}

/* Replace the first occurrence of from with to in text (same length or
 * not) and re-sign the result with kp, so only the field check fails. */
static char *
edit_resign(const char *text, const char *from, const char *to, const struct id_keypair *kp,
	    size_t *len)
{
	const char *at = strstr(text, from), *sigline;
	char *body, *out;
	uint8_t sig[ID_SIG_LEN];
	char hex[129];
	size_t blen;

	if (!at)
		return NULL;
	body = xasprintf("%.*s%s%s", (int)(at - text), text, to, at + strlen(from));
	sigline = strstr(body, "\nsignature ");
	if (!sigline) {
		*len = strlen(body);
		return body;
	}
	blen = (size_t)(sigline - body) + 1;
	id_sign(sig, (const uint8_t *)body, blen, kp);
	for (int i = 0; i < ID_SIG_LEN; i++)
		snprintf(hex + 2 * i, 3, "%02x", sig[i]);
	out = xasprintf("%.*ssignature %s\n", (int)blen, body, hex);
	free(body);
	*len = strlen(out);
	return out;
}

static void
expect_desc(const char *text, size_t len, int want, const char *why_part)
{
	struct dirdoc_relay r;
	char why[200];
	int got;

	CHECK(text != NULL);
	if (!text)
		return;
	got = dirdoc_descriptor_parse(text, len, &r, why, sizeof(why));

	CHECK_EQ(got, want);
	if (why_part && !strstr(why, why_part)) {
		fprintf(stderr, "  reason \"%s\" lacks \"%s\"\n", why, why_part);
		CHECK(0);
	}
}

static void
test_descriptor_refusals(void)
{
	struct id_keypair *kp = seeded_id(103);
	size_t len, elen;
	char *text = make_descriptor(3, 1700000000u, &len), *e;
	char *dup;

	CHECK(text != NULL);
	expect_desc(text, len, 0, NULL);
	/* bad signature: one changed hex digit in the body, not re-signed */
	e = xstrdup(text);
	e[strstr(e, "bandwidth ") - e + 10] = '9';
	expect_desc(e, len, ERR_BAD_SIG, "bad signature");
	free(e);
	/* forged signature line */
	e = xstrdup(text);
	memset(strstr(e, "\nsignature ") + 11, 'a', 128);
	expect_desc(e, len, ERR_BAD_SIG, "bad signature");
	free(e);
	e = edit_resign(text, "roles mix", "roles mix exit", kp, &elen);
	expect_desc(e, elen, ERR_MALFORMED, "unknown role 'exit'");
	free(e);
	e = edit_resign(text, "roles mix mailbox", "roles mailbox mix", kp, &elen);
	expect_desc(e, elen, ERR_MALFORMED, "out of order");
	free(e);
	e = edit_resign(text, "bandwidth ", "bandwidth 0", kp, &elen);
	expect_desc(e, elen, ERR_MALFORMED, "bandwidth");
	free(e);
	e = edit_resign(text, "address 10.0.3.1", "address 10.0.03.1", kp, &elen);
	expect_desc(e, elen, ERR_MALFORMED, "address");
	free(e);
	e = edit_resign(text, "nickname relay3\n", "nickname relay3\nnickname relay3\n", kp, &elen);
	expect_desc(e, elen, ERR_MALFORMED, "duplicate keyword 'nickname'");
	free(e);
	e = edit_resign(text, "software", "colour blue\nsoftware", kp, &elen);
	expect_desc(e, elen, ERR_MALFORMED, "unknown keyword 'colour'");
	free(e);
	e = edit_resign(text, "contact", "CONTACT", kp, &elen);
	expect_desc(e, elen, ERR_MALFORMED, NULL);
	free(e);
	e = edit_resign(text, "published ", "published  ", kp, &elen);
	expect_desc(e, elen, ERR_MALFORMED, NULL);
	free(e);
	/* trailing data, oversize */
	dup = xasprintf("%sx\n", text);
	expect_desc(dup, len + 2, ERR_MALFORMED, "after the signature");
	free(dup);
	e = xcalloc(1, DIRDOC_DESC_MAX + 2);
	memcpy(e, text, len);
	memset(e + len, '#', DIRDOC_DESC_MAX + 1 - len);
	expect_desc(e, DIRDOC_DESC_MAX + 1, ERR_TOO_BIG, "over the");
	free(e);
	/* a NUL inside */
	e = xstrdup(text);
	e[30] = '\0';
	expect_desc(e, len, ERR_MALFORMED, NULL);
	free(e);
	free(text);
	id_keypair_free(kp);
}

static void
test_descriptor_time(void)
{
	struct dirdoc_relay r;
	char why[160];

	memset(&r, 0, sizeof(r));
	r.published = 10000;
	CHECK_EQ(dirdoc_descriptor_check_time(&r, 10000, 7200, why, sizeof(why)), 0);
	CHECK_EQ(dirdoc_descriptor_check_time(&r, 17200, 7200, why, sizeof(why)), 0);
	CHECK_EQ(dirdoc_descriptor_check_time(&r, 17201, 7200, why, sizeof(why)), ERR_STALE);
	CHECK(strstr(why, "stale") != NULL);
	CHECK_EQ(dirdoc_descriptor_check_time(&r, 10000 - DIRDOC_MAX_SKEW, 7200, why, sizeof(why)),
		 0);
	CHECK_EQ(dirdoc_descriptor_check_time(&r, 9000, 7200, why, sizeof(why)), ERR_FUTURE);
	CHECK(strstr(why, "future") != NULL);
	r.published = UINT64_MAX;
	CHECK_EQ(dirdoc_descriptor_check_time(&r, 9000, 7200, why, sizeof(why)), ERR_STALE);
}

static void
test_descriptor_prefixes(void)
{
	size_t len;
	char *text = make_descriptor(4, 1700000000u, &len);
	struct dirdoc_relay r;
	char why[160];

	for (size_t n = 0; n < len; n++) {
		char *p = xmalloc(n ? n : 1);

		memcpy(p, text, n);	/* exact-size copy so ASan sees overreads */
		CHECK(dirdoc_descriptor_parse(p, n, &r, why, sizeof(why)) < 0);
		free(p);
	}
	free(text);
}

/* --- consensus ------------------------------------------------------- */

struct fixture {
	struct id_keypair *auth[3];
	uint8_t pks[3][32];
	char *body;
	size_t body_len;
	struct dirdoc_sig sigs[3];
};

static void
fixture_init(struct fixture *f, size_t nrelays)
{
	struct dirdoc_consensus *c = dirdoc_consensus_new(nrelays);

	for (int i = 0; i < 3; i++) {
		f->auth[i] = seeded_id((uint8_t)(1 + i));
		memcpy(f->pks[i], f->auth[i]->pk, 32);
	}
	c->epoch = EPOCH;
	c->epoch_len = EPOCH_LEN;
	dirdoc_epoch_window(EPOCH, EPOCH_LEN, &c->valid_after, &c->fresh_until, &c->valid_until);
	for (size_t i = 0; i < nrelays; i++) {
		struct id_keypair *kp = seeded_id((uint8_t)(50 + i));

		fill_relay(&c->relays[i], kp, (int)i, 0);
		c->relays[i].contact[0] = c->relays[i].software[0] = '\0';
		c->relays[i].published = 0;
		c->relays[i].flags = DIRDOC_FLAG_RUNNING | DIRDOC_FLAG_VALID;
		id_keypair_free(kp);
	}
	dirdoc_consensus_sort(c);
	CHECK_EQ(dirdoc_consensus_encode_body(c, &f->body, &f->body_len), 0);
	for (int i = 0; i < 3; i++) {
		memcpy(f->sigs[i].auth_pk, f->pks[i], 32);
		dirdoc_consensus_sign(f->sigs[i].sig, f->body, f->body_len, f->auth[i]);
	}
	dirdoc_consensus_free(c);
}

static void
fixture_clear(struct fixture *f)
{
	for (int i = 0; i < 3; i++)
		id_keypair_free(f->auth[i]);
	free(f->body);
}

static char *
assemble(struct fixture *f, const struct dirdoc_sig *sigs, size_t n, size_t *len)
{
	char *text = NULL;

	CHECK_EQ(dirdoc_consensus_assemble(f->body, f->body_len, sigs, n, &text, len), 0);
	return text;
}

static int
verify(struct fixture *f, const char *text, size_t len, uint64_t now, char *why)
{
	return dirdoc_consensus_verify(text, len, (const uint8_t(*)[32])f->pks, 3, now, NULL, why,
				       200);
}

static void
test_consensus_round_trip(void)
{
	struct fixture f;
	struct dirdoc_consensus *c = NULL;
	struct dirdoc_sig rev[3];
	uint64_t now = (uint64_t)EPOCH * EPOCH_LEN + 10;
	char *text, *text2, why[200];
	size_t len, len2;

	fixture_init(&f, 6);
	text = assemble(&f, f.sigs, 3, &len);
	CHECK_EQ(dirdoc_consensus_verify(text, len, (const uint8_t(*)[32])f.pks, 3, now, &c, why,
					 sizeof(why)), 0);
	CHECK(c != NULL);
	if (c) {
		CHECK_EQ(c->nrelays, 6);
		CHECK_EQ(c->nsigs, 3);
		CHECK_EQ(c->epoch, EPOCH);
		CHECK_EQ(c->body_len, f.body_len);
		for (size_t i = 0; i < c->nrelays; i++) {
			const struct dirdoc_relay *r = dirdoc_relay_find(c, c->relays[i].node_id);

			CHECK(r == &c->relays[i]);
			CHECK(dirdoc_relay_packet_key(r, EPOCH) == r->packet_pk[0]);
			CHECK(dirdoc_relay_packet_key(r, EPOCH + 1) == r->packet_pk[1]);
			CHECK(dirdoc_relay_packet_key(r, EPOCH + 2) == NULL);
			CHECK_EQ(r->flags, DIRDOC_FLAG_RUNNING | DIRDOC_FLAG_VALID);
		}
		CHECK(dirdoc_relay_find(c, f.pks[0]) == NULL);
	}
	dirdoc_consensus_free(c);
	/* signature order does not matter: the text is the same */
	rev[0] = f.sigs[2];
	rev[1] = f.sigs[0];
	rev[2] = f.sigs[1];
	text2 = assemble(&f, rev, 3, &len2);
	CHECK(len2 == len && memcmp(text, text2, len) == 0);
	free(text2);
	free(text);
	fixture_clear(&f);
}

static void
test_consensus_quorum(void)
{
	struct fixture f;
	uint64_t now = (uint64_t)EPOCH * EPOCH_LEN + 10;
	char *text, why[200];
	size_t len;

	fixture_init(&f, 3);
	text = assemble(&f, f.sigs, 2, &len);	/* 2 of 3 */
	CHECK_EQ(verify(&f, text, len, now, why), 0);
	free(text);
	text = assemble(&f, &f.sigs[1], 2, &len);
	CHECK_EQ(verify(&f, text, len, now, why), 0);
	free(text);
	text = assemble(&f, &f.sigs[2], 1, &len);	/* 1 of 3 */
	CHECK_EQ(verify(&f, text, len, now, why), ERR_QUORUM);
	CHECK(strstr(why, "1 of 3") != NULL);
	free(text);
	text = assemble(&f, f.sigs, 0, &len);
	CHECK_EQ(verify(&f, text, len, now, why), ERR_QUORUM);
	free(text);
	/* 2 of 4 pinned is not more than half */
	{
		uint8_t four[4][32];

		memcpy(four, f.pks, sizeof(f.pks));
		memset(four[3], 0x77, 32);
		text = assemble(&f, f.sigs, 2, &len);
		CHECK_EQ(dirdoc_consensus_verify(text, len, (const uint8_t(*)[32])four, 4, now,
						 NULL, why, sizeof(why)), ERR_QUORUM);
		free(text);
	}
	fixture_clear(&f);
}

static void
test_consensus_refusals(void)
{
	struct fixture f;
	uint64_t now = (uint64_t)EPOCH * EPOCH_LEN + 10;
	struct id_keypair *stranger = seeded_id(99);
	struct dirdoc_sig sigs[3];
	char *text, *e, why[200];
	size_t len;

	fixture_init(&f, 3);
	text = assemble(&f, f.sigs, 3, &len);
	/* one flipped byte in the body: a hex digit changed to another */
	e = xstrdup(text);
	{
		char *p = strstr(e, "link-key ") + 20;

		*p = *p == 'a' ? 'b' : 'a';
	}
	CHECK_EQ(verify(&f, e, len, now, why), ERR_BAD_SIG);
	CHECK(strstr(why, "does not verify") != NULL);
	free(e);
	/* one forged signature among three */
	memcpy(sigs, f.sigs, sizeof(sigs));
	sigs[1].sig[5] ^= 0x40;
	free(text);
	text = assemble(&f, sigs, 3, &len);
	CHECK_EQ(verify(&f, text, len, now, why), ERR_BAD_SIG);
	free(text);
	/* an unknown signer, even with a valid signature and a quorum */
	memcpy(sigs, f.sigs, sizeof(sigs));
	memcpy(sigs[2].auth_pk, stranger->pk, 32);
	dirdoc_consensus_sign(sigs[2].sig, f.body, f.body_len, stranger);
	text = assemble(&f, sigs, 3, &len);
	CHECK_EQ(verify(&f, text, len, now, why), ERR_UNKNOWN_SIGNER);
	CHECK(strstr(why, "not a pinned authority") != NULL);
	free(text);
	/* time window */
	text = assemble(&f, f.sigs, 3, &len);
	CHECK_EQ(verify(&f, text, len, (uint64_t)EPOCH * EPOCH_LEN - 1, why), ERR_NOT_YET_VALID);
	CHECK_EQ(verify(&f, text, len, (uint64_t)(EPOCH + 3) * EPOCH_LEN - 1, why), 0);
	CHECK_EQ(verify(&f, text, len, (uint64_t)(EPOCH + 3) * EPOCH_LEN, why), ERR_EXPIRED);
	CHECK(strstr(why, "expired") != NULL);
	/* every single-byte change is refused */
	for (size_t i = 0; i < len; i++) {
		e = xstrdup(text);
		e[i] ^= 0x01;
		if (verify(&f, e, len, now, why) == 0) {
			fprintf(stderr, "  flipped byte %zu accepted\n", i);
			CHECK(0);
		}
		free(e);
	}
	free(text);
	id_keypair_free(stranger);
	fixture_clear(&f);
}

static void
test_consensus_malformed(void)
{
	struct fixture f;
	struct dirdoc_consensus *c;
	struct dirdoc_sig dup[2];
	char *text, *e, why[200];
	size_t len, elen;

	fixture_init(&f, 2);
	text = assemble(&f, f.sigs, 3, &len);
	/* duplicate signature lines are refused by parse (assemble drops them) */
	dup[0] = dup[1] = f.sigs[0];
	free(text);
	text = assemble(&f, dup, 2, &len);
	CHECK(strstr(text + f.body_len, "directory-signature") ==
	      text + f.body_len);
	CHECK(strstr(text + f.body_len + 1, "directory-signature") == NULL);
	{
		size_t sl = len - f.body_len - 4;	/* the one signature line */

		e = xasprintf("%.*s%.*s%.*send\n", (int)f.body_len, text, (int)sl,
			      text + f.body_len, (int)sl, text + f.body_len);
	}
	elen = strlen(e);
	CHECK_EQ(dirdoc_consensus_parse(e, elen, &c, why, sizeof(why)), ERR_MALFORMED);
	CHECK(strstr(why, "repeated") != NULL);
	free(e);
	/* relay-count bigger than the document */
	e = xstrdup(text);
	memcpy(strstr(e, "relay-count ") + 12, "9", 1);
	CHECK_EQ(dirdoc_consensus_parse(e, len, &c, why, sizeof(why)), ERR_MALFORMED);
	free(e);
	/* window not matching the epoch */
	e = xstrdup(text);
	{
		char *p = strstr(e, "valid-until ") + 12;

		*p = *p == '1' ? '2' : '1';
	}
	CHECK_EQ(dirdoc_consensus_parse(e, len, &c, why, sizeof(why)), ERR_MALFORMED);
	free(e);
	free(text);
	fixture_clear(&f);
}

static void
test_consensus_prefixes(void)
{
	struct fixture f;
	uint64_t now = (uint64_t)EPOCH * EPOCH_LEN + 10;
	struct dirdoc_consensus *c;
	char *text, why[200];
	size_t len;

	fixture_init(&f, 2);
	text = assemble(&f, f.sigs, 3, &len);
	CHECK_EQ(verify(&f, text, len, now, why), 0);
	for (size_t n = 0; n < len; n++) {
		char *p = xmalloc(n ? n : 1);

		memcpy(p, text, n);
		CHECK(dirdoc_consensus_parse(p, n, &c, why, sizeof(why)) < 0);
		CHECK(verify(&f, p, n, now, why) < 0);
		free(p);
	}
	free(text);
	fixture_clear(&f);
}

static void
test_authority_line(void)
{
	uint8_t pk[32];
	char host[64];
	uint16_t port;
	char line[200];

	memset(line, 'a', 64);
	snprintf(line + 64, sizeof(line) - 64, " 127.0.0.1:7000");
	CHECK_EQ(dirdoc_authority_parse(line, pk, host, &port), 0);
	CHECK_EQ(pk[0], 0xaa);
	CHECK_STR(host, "127.0.0.1");
	CHECK_EQ(port, 7000);
	line[3] = 'g';
	CHECK_EQ(dirdoc_authority_parse(line, pk, host, &port), ERR_MALFORMED);
	CHECK_EQ(dirdoc_authority_parse("abc 1.2.3.4:5", pk, host, &port), ERR_MALFORMED);
	CHECK_EQ(dirdoc_epoch_of(7199, 3600), 1);
	CHECK_EQ(dirdoc_epoch_of(7200, 3600), 2);
}

int
main(int argc, char **argv)
{
	(void)argc;
	check_begin(argv[0]);
	crypto_init();
	RUN(test_descriptor_round_trip);
	RUN(test_descriptor_encode_refuses);
	RUN(test_descriptor_refusals);
	RUN(test_descriptor_time);
	RUN(test_descriptor_prefixes);
	RUN(test_consensus_round_trip);
	RUN(test_consensus_quorum);
	RUN(test_consensus_refusals);
	RUN(test_consensus_malformed);
	RUN(test_consensus_prefixes);
	RUN(test_authority_line);
	return check_end();
}
