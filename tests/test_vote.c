/* Tests for directory/vote: vote encoding and parsing, and the consensus
 * rule (listed by more than half of all authorities, flags by majority,
 * newest descriptor wins, independent of vote order). */
#include <stdlib.h>
#include <string.h>

#include "common/dirdoc.h"
#include "common/keys.h"
#include "common/util.h"
#include "common/encode.h"
#include "directory/authority_int.h"
#include "directory/vote.h"
#include "tests/check.h"

#include <stdio.h>
#include <unistd.h>

#define EPOCH 500000u
#define LEN 60u

struct relay_fx {
	struct id_keypair *kp;
	struct dirdoc_relay r;
	char *text[2];		/* two descriptors: published 1000 and 2000 */
	size_t len[2];
};

static struct relay_fx relays[4];
static struct id_keypair *auth[3];

static void
setup(void)
{
	uint8_t seed[ID_SEED_LEN];

	for (int i = 0; i < 3; i++) {
		memset(seed, 0xa0 + i, sizeof(seed));
		auth[i] = id_keypair_from_seed(seed);
	}
	for (int i = 0; i < 4; i++) {
		struct relay_fx *f = &relays[i];

		memset(seed, 0x10 + i, sizeof(seed));
		f->kp = id_keypair_from_seed(seed);
		memset(&f->r, 0, sizeof(f->r));
		snprintf(f->r.nickname, sizeof(f->r.nickname), "r%d", i);
		memcpy(f->r.id_pk, f->kp->pk, ID_PK_LEN);
		node_id_of(f->r.node_id, f->r.id_pk);
		f->r.key_epoch[0] = EPOCH;
		f->r.key_epoch[1] = EPOCH + 1;
		snprintf(f->r.host, sizeof(f->r.host), "127.0.0.%d", i + 1);
		f->r.port = 4000;
		f->r.roles = DIRDOC_ROLE_MIX;
		for (int v = 0; v < 2; v++) {
			f->r.published = 1000u * (unsigned)(v + 1);
			f->r.bandwidth = 100u + (unsigned)v;	/* tells the versions apart */
			CHECK_EQ(dirdoc_descriptor_encode(&f->r, f->kp, &f->text[v], &f->len[v]), 0);
		}
	}
}

static void
teardown(void)
{
	for (int i = 0; i < 3; i++)
		id_keypair_free(auth[i]);
	for (int i = 0; i < 4; i++) {
		id_keypair_free(relays[i].kp);
		free(relays[i].text[0]);
		free(relays[i].text[1]);
	}
}

/* A vote by authority a listing relays in mask, version ver, with flags. */
static struct vote *
make_vote(int a, unsigned mask, int ver, uint32_t flags)
{
	struct vote_item items[4];
	struct vote *v = NULL;
	size_t n = 0, len;
	char *text, why[200];

	for (int i = 0; i < 4; i++) {
		if (!(mask & (1u << i)))
			continue;
		items[n].desc = relays[i].text[ver];
		items[n].desc_len = relays[i].len[ver];
		items[n].node_id = relays[i].r.node_id;
		items[n].flags = flags;
		n++;
	}
	CHECK_EQ(vote_encode(EPOCH, 5000, items, n, auth[a], &text, &len), 0);
	CHECK_EQ(vote_parse(text, len, NULL, 0, &v, why, sizeof(why)), 0);
	free(text);
	return v;
}

static void
test_vote_round_trip(void)
{
	struct vote *v = make_vote(0, 0xf, 1, DIRDOC_FLAG_RUNNING | DIRDOC_FLAG_VALID);

	CHECK(v != NULL);
	if (!v)
		return;
	CHECK_EQ(v->epoch, EPOCH);
	CHECK_EQ(v->nrelays, 4);
	CHECK(memcmp(v->auth_pk, auth[0]->pk, ID_PK_LEN) == 0);
	for (size_t i = 1; i < v->nrelays; i++)
		CHECK(memcmp(v->relays[i - 1].node_id, v->relays[i].node_id, NODE_ID_LEN) < 0);
	CHECK_EQ(v->relays[0].flags, DIRDOC_FLAG_RUNNING | DIRDOC_FLAG_VALID);
	vote_free(v);
}

static void
test_vote_refusals(void)
{
	struct vote_item item = { relays[0].text[0], relays[0].len[0], relays[0].r.node_id, 0 };
	struct vote_item two[2] = { item, item };
	struct vote *v;
	char *text, why[200];
	size_t len;

	CHECK_EQ(vote_encode(EPOCH, 1, two, 2, auth[0], &text, &len), ERR_DUPLICATE);
	CHECK_EQ(vote_encode(EPOCH, 1, &item, 1, auth[0], &text, &len), 0);
	/* a changed byte in the body: the vote signature fails */
	text[strstr(text, "published ") - text + 10] = '2';
	CHECK_EQ(vote_parse(text, len, NULL, 0, &v, why, sizeof(why)), ERR_BAD_SIG);
	free(text);
	/* a signer outside the allowed list is refused before anything else */
	CHECK_EQ(vote_encode(EPOCH, 1, &item, 1, auth[0], &text, &len), 0);
	{
		uint8_t ok[1][32];

		memcpy(ok[0], auth[1]->pk, 32);
		CHECK_EQ(vote_parse(text, len, (const uint8_t(*)[32])ok, 1, &v, why, sizeof(why)),
			 ERR_UNKNOWN_SIGNER);
		memcpy(ok[0], auth[0]->pk, 32);
		CHECK_EQ(vote_parse(text, len, (const uint8_t(*)[32])ok, 1, &v, why, sizeof(why)),
			 0);
		vote_free(v);
	}
	free(text);
	/* a vote for an epoch the relay has no key for */
	CHECK_EQ(vote_encode(EPOCH + 5, 1, &item, 1, auth[0], &text, &len), 0);
	CHECK_EQ(vote_parse(text, len, NULL, 0, &v, why, sizeof(why)), ERR_MALFORMED);
	CHECK(strstr(why, "no packet key") != NULL);
	free(text);
	/* every truncated prefix */
	CHECK_EQ(vote_encode(EPOCH, 1, &item, 1, auth[0], &text, &len), 0);
	for (size_t n = 0; n < len; n++) {
		char *p = xmalloc(n ? n : 1);

		memcpy(p, text, n);
		CHECK(vote_parse(p, n, NULL, 0, &v, why, sizeof(why)) < 0);
		free(p);
	}
	free(text);
}

static void
test_compute_majority(void)
{
	const uint32_t rv = DIRDOC_FLAG_RUNNING | DIRDOC_FLAG_VALID;
	struct vote *v[3], *rev[3];
	struct dirdoc_consensus *c = NULL, *c2 = NULL;
	char *b1, *b2;
	size_t l1, l2;

	/* relay 0: all three; relay 1: two; relay 2: one; relay 3: none */
	v[0] = make_vote(0, 0x7, 0, rv | DIRDOC_FLAG_STABLE);
	v[1] = make_vote(1, 0x3, 1, rv);
	v[2] = make_vote(2, 0x1, 0, rv | DIRDOC_FLAG_STABLE);
	CHECK_EQ(vote_compute(v, 3, 3, EPOCH, LEN, &c), 0);
	CHECK_EQ(c->nrelays, 2);
	{
		const struct dirdoc_relay *r0 = dirdoc_relay_find(c, relays[0].r.node_id);
		const struct dirdoc_relay *r1 = dirdoc_relay_find(c, relays[1].r.node_id);

		CHECK(r0 && r1);
		CHECK(dirdoc_relay_find(c, relays[2].r.node_id) == NULL);
		if (r0 && r1) {
			/* the newest descriptor (version 1 from vote 1) wins */
			CHECK_EQ(r0->bandwidth, 101);
			CHECK_EQ(r1->bandwidth, 101);
			/* Stable by 2 of 3 listing relay 0; 1 of 2 for relay 1 */
			CHECK_EQ(r0->flags, rv | DIRDOC_FLAG_STABLE);
			CHECK_EQ(r1->flags, rv);
		}
	}
	/* the same votes in another order give the same bytes */
	rev[0] = v[2];
	rev[1] = v[0];
	rev[2] = v[1];
	CHECK_EQ(vote_compute(rev, 3, 3, EPOCH, LEN, &c2), 0);
	CHECK_EQ(dirdoc_consensus_encode_body(c, &b1, &l1), 0);
	CHECK_EQ(dirdoc_consensus_encode_body(c2, &b2, &l2), 0);
	CHECK(l1 == l2 && memcmp(b1, b2, l1) == 0);
	free(b1);
	free(b2);
	dirdoc_consensus_free(c2);
	dirdoc_consensus_free(c);
	/* with 2 of 3 votes, a relay both list is in; one listed by one is out */
	CHECK_EQ(vote_compute(&v[1], 2, 3, EPOCH, LEN, &c), 0);
	CHECK_EQ(c->nrelays, 1);
	dirdoc_consensus_free(c);
	/* a vote for another epoch is refused */
	v[2]->epoch = EPOCH + 1;
	CHECK_EQ(vote_compute(v, 3, 3, EPOCH, LEN, &c), ERR_MALFORMED);
	for (int i = 0; i < 3; i++)
		vote_free(v[i]);
}

/* An authority state without network: authority 0 of three, holding the
 * votes of authorities 0 and 1 for EPOCH, its datadir under /tmp. */
static struct authority *
fake_authority(char *dir, size_t dirlen)
{
	struct authority *a = xcalloc(1, sizeof(*a));

	snprintf(dir, dirlen, "/tmp/test_vote.XXXXXX");
	CHECK(mkdtemp(dir) != NULL);
	a->datadir = xstrdup(dir);
	a->epoch_len = LEN;
	a->round = EPOCH;
	a->npeers = 3;
	for (int i = 0; i < 3; i++) {
		memcpy(a->peers[i].pk, auth[i]->pk, ID_PK_LEN);
		snprintf(a->peers[i].fp, sizeof(a->peers[i].fp), "auth%d", i);
	}
	a->peers[0].self = true;
	a->id = auth[0];
	return a;
}

static void
fake_authority_free(struct authority *a, const char *dir)
{
	char *path;

	for (size_t i = 0; i < AUTH_KEEP_CONS; i++) {
		if (!a->cons[i].body)
			continue;
		path = xasprintf("%s/consensus-%llu", dir, (unsigned long long)a->cons[i].epoch);
		unlink(path);
		free(path);
		free(a->cons[i].body);
		free(a->cons[i].text);
		dirdoc_consensus_free(a->cons[i].parsed);
	}
	for (size_t i = 0; i < a->npeers; i++)
		vote_free(a->peers[i].vote);
	rmdir(dir);
	free(a->datadir);
	free(a);
}

/* The body vote_compute makes from votes (a heap string). */
static char *
body_of(struct vote **votes, size_t n, size_t *len)
{
	struct dirdoc_consensus *c = NULL;
	char *body = NULL;

	CHECK_EQ(vote_compute(votes, n, 3, EPOCH, LEN, &c), 0);
	CHECK_EQ(dirdoc_consensus_encode_body(c, &body, len), 0);
	dirdoc_consensus_free(c);
	return body;
}

static char *
sig_line(const char *body, size_t len, int signer)
{
	char pk[HEX_LEN(ID_PK_LEN) + 1], sig[HEX_LEN(ID_SIG_LEN) + 1];
	uint8_t s[ID_SIG_LEN];

	dirdoc_consensus_sign(s, body, len, auth[signer]);
	hex_encode(pk, auth[signer]->pk, ID_PK_LEN);
	hex_encode(sig, s, ID_SIG_LEN);
	return xasprintf("consensus-signature %u %s %s\n", EPOCH, pk, sig);
}

static bool
served_verifies(const struct cons_doc *d, size_t want_sigs)
{
	uint8_t pks[3][32];
	struct dirdoc_consensus *c = NULL;
	char why[200];
	bool ok;
	int r;

	for (int i = 0; i < 3; i++)
		memcpy(pks[i], auth[i]->pk, 32);
	/* every signature must verify; below quorum is fine for this check */
	r = dirdoc_consensus_verify(d->text, d->text_len, (const uint8_t(*)[32])pks, 3,
				    (uint64_t)EPOCH * LEN + 1, NULL, why, sizeof(why));
	ok = (r == 0 || (r == ERR_QUORUM && want_sigs * 2 <= 3)) &&
	     dirdoc_consensus_parse(d->text, d->text_len, &c, NULL, 0) == 0 &&
	     c->nsigs == want_sigs;
	if (!ok)
		fprintf(stderr, "served consensus: %s\n", why);
	dirdoc_consensus_free(c);
	return ok;
}

/* The old failure: authority 2 computed its consensus from all three votes
 * (vote 2 reached only it), authority 0 from votes 0 and 1. Authority 2's
 * signature over its own body must be refused with 409 and never appear in
 * what authority 0 serves; authority 0 then reconciles: with the late
 * vote in hand it recomputes, the old signatures go, and the signatures
 * over the common body are accepted. */
static void
test_signature_over_other_body(void)
{
	struct vote *v0 = make_vote(0, 0x7, 0, DIRDOC_FLAG_RUNNING);
	struct vote *v1 = make_vote(1, 0x7, 0, DIRDOC_FLAG_RUNNING);
	struct vote *v2 = make_vote(2, 0xf, 1, DIRDOC_FLAG_RUNNING);
	struct vote *two[2] = { v0, v1 }, *all[3] = { v0, v1, v2 };
	struct authority *a;
	struct cons_doc *d;
	char dir[64], why[320], *body, *body3, *line;
	size_t len, len3;
	uint8_t s[ID_SIG_LEN];

	a = fake_authority(dir, sizeof(dir));
	body = body_of(two, 2, &len);
	body3 = body_of(all, 3, &len3);
	CHECK(len != len3 || memcmp(body, body3, len) != 0);
	/* authority 0's consensus from votes 0 and 1, self-signed */
	d = auth_cons_add(a, EPOCH, xstrdup(body), len);
	dirdoc_consensus_sign(s, d->body, d->body_len, auth[0]);
	CHECK_EQ(auth_cons_add_sig(a, d, auth[0]->pk, s), 0);
	a->computed = true;
	a->peers[0].vote = v0;
	a->peers[1].vote = v1;
	a->peers[0].vote_used = a->peers[1].vote_used = true;

	/* a signature over the other body: 409, not stored, resync armed */
	line = sig_line(body3, len3, 2);
	CHECK_EQ(round_on_signature(a, line, strlen(line), why, sizeof(why)), 409);
	CHECK(strstr(why, "does not verify") != NULL);
	CHECK(a->resync);
	CHECK_EQ(d->nsigs, 1);
	CHECK(served_verifies(d, 1));
	free(line);
	/* the store itself refuses it too, whoever calls */
	dirdoc_consensus_sign(s, body3, len3, auth[2]);
	CHECK_EQ(auth_cons_add_sig(a, d, auth[2]->pk, s), ERR_BAD_SIG);
	CHECK(served_verifies(d, 1));

	/* a matching signature from authority 1 is taken */
	line = sig_line(body, len, 1);
	CHECK_EQ(round_on_signature(a, line, strlen(line), why, sizeof(why)), 200);
	CHECK(served_verifies(d, 2));
	free(line);

	/* recomputation replaces the body in place and drops the signatures
	 * made over the old one: no stale signature is ever served */
	d = auth_cons_add(a, EPOCH, xstrdup(body3), len3);
	CHECK(auth_cons_find(a, EPOCH) == d);
	CHECK_EQ(d->nsigs, 0);
	dirdoc_consensus_sign(s, d->body, d->body_len, auth[0]);
	CHECK_EQ(auth_cons_add_sig(a, d, auth[0]->pk, s), 0);
	line = sig_line(body3, len3, 2);
	CHECK_EQ(round_on_signature(a, line, strlen(line), why, sizeof(why)), 200);
	free(line);
	/* authority 1's old signature (over the old body) is now refused */
	line = sig_line(body, len, 1);
	CHECK_EQ(round_on_signature(a, line, strlen(line), why, sizeof(why)), 409);
	free(line);
	CHECK(served_verifies(d, 2));
	{
		size_t n = 0;

		for (size_t i = 0; i < AUTH_KEEP_CONS; i++)
			n += a->cons[i].body && a->cons[i].epoch == EPOCH;
		CHECK_EQ(n, 1);
	}
	/* other epochs keep their own slots */
	CHECK(auth_cons_add(a, EPOCH - 1, xstrdup(body), len) != d);
	CHECK(auth_cons_add(a, EPOCH - 2, xstrdup(body), len) != d);
	CHECK(auth_cons_find(a, EPOCH) == d && auth_cons_find(a, EPOCH - 1) &&
	      auth_cons_find(a, EPOCH - 2));
	/* a late vote is kept, unused, for reconciliation */
	CHECK(a->peers[2].vote == NULL);
	a->peers[2].vote = v2;
	CHECK(!a->peers[2].vote_used);

	free(body);
	free(body3);
	a->id = NULL;
	fake_authority_free(a, dir);
}

int
main(int argc, char **argv)
{
	(void)argc;
	check_begin(argv[0]);
	crypto_init();
	setup();
	RUN(test_vote_round_trip);
	RUN(test_vote_refusals);
	RUN(test_compute_majority);
	RUN(test_signature_over_other_body);
	teardown();
	return check_end();
}
