/* Tests for directory/vote: vote encoding and parsing, and the consensus
 * rule (listed by more than half of all authorities, flags by majority,
 * newest descriptor wins, independent of vote order). */
#include <stdlib.h>
#include <string.h>

#include "common/dirdoc.h"
#include "common/keys.h"
#include "common/util.h"
#include "directory/vote.h"
#include "tests/check.h"

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
	teardown();
	return check_end();
}
