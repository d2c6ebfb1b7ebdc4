/* Benchmark: build, sign and verify a consensus of 10,000 synthetic relays,
 * and express the verification cost in Ed25519 verifications measured in
 * the same run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/dirdoc.h"
#include "common/keys.h"
#include "common/util.h"

#define NRELAYS 10000
#define NAUTH 3
#define REPS 3

static double
ms_since(uint64_t t0)
{
	return (double)(mono_ns() - t0) / 1e6;
}

static struct dirdoc_consensus *
synthetic(uint64_t epoch, uint64_t len)
{
	struct dirdoc_consensus *c = dirdoc_consensus_new(NRELAYS);

	c->epoch = epoch;
	c->epoch_len = len;
	dirdoc_epoch_window(epoch, len, &c->valid_after, &c->fresh_until, &c->valid_until);
	for (size_t i = 0; i < NRELAYS; i++) {
		struct dirdoc_relay *r = &c->relays[i];

		snprintf(r->nickname, sizeof(r->nickname), "relay%zu", i);
		randombytes_buf(r->id_pk, sizeof(r->id_pk));
		randombytes_buf(r->link_pk, sizeof(r->link_pk));
		randombytes_buf(r->packet_pk, sizeof(r->packet_pk));
		r->key_epoch[0] = epoch;
		r->key_epoch[1] = epoch + 1;
		snprintf(r->host, sizeof(r->host), "10.%zu.%zu.1", (i >> 8) & 255, i & 255);
		r->port = 4000;
		r->roles = DIRDOC_ROLE_MIX | (i % 4 == 0 ? DIRDOC_ROLE_MAILBOX : 0);
		r->flags = DIRDOC_FLAG_RUNNING | DIRDOC_FLAG_VALID | DIRDOC_FLAG_STABLE |
			   (i % 4 == 0 ? DIRDOC_FLAG_MAILBOX : 0);
		r->bandwidth = 1000000 + i;
	}
	return c;
}

int
main(void)
{
	struct id_keypair *auth[NAUTH];
	uint8_t pks[NAUTH][32];
	struct dirdoc_sig sigs[NAUTH];
	uint64_t epoch = 490000, len = 3600, now = epoch * len + 5, t0;
	double build_ms = 1e30, verify_ms = 1e30, parse_ms = 1e30, per_s;
	char *text = NULL, why[200];
	size_t text_len = 0;
	uint8_t msg[64], sig[64];
	long nver = 0;

	crypto_init();
	for (int i = 0; i < NAUTH; i++) {
		auth[i] = id_keypair_new();
		memcpy(pks[i], auth[i]->pk, 32);
	}
	for (int rep = 0; rep < REPS; rep++) {
		struct dirdoc_consensus *c = synthetic(epoch, len);
		char *body;
		size_t body_len;
		double ms;

		free(text);
		t0 = mono_ns();
		dirdoc_consensus_sort(c);
		if (dirdoc_consensus_encode_body(c, &body, &body_len) < 0)
			fatal("encode failed");
		for (int i = 0; i < NAUTH; i++) {
			memcpy(sigs[i].auth_pk, pks[i], 32);
			dirdoc_consensus_sign(sigs[i].sig, body, body_len, auth[i]);
		}
		if (dirdoc_consensus_assemble(body, body_len, sigs, NAUTH, &text, &text_len) < 0)
			fatal("assemble failed");
		ms = ms_since(t0);
		build_ms = ms < build_ms ? ms : build_ms;
		free(body);
		dirdoc_consensus_free(c);
	}
	for (int rep = 0; rep < REPS; rep++) {
		struct dirdoc_consensus *c = NULL;
		double ms;

		t0 = mono_ns();
		if (dirdoc_consensus_verify(text, text_len, (const uint8_t(*)[32])pks, NAUTH, now, &c,
					    why, sizeof(why)) < 0)
			fatal("verify failed: %s", why);
		ms = ms_since(t0);
		verify_ms = ms < verify_ms ? ms : verify_ms;
		dirdoc_consensus_free(c);
		t0 = mono_ns();
		if (dirdoc_consensus_parse(text, text_len, &c, why, sizeof(why)) < 0)
			fatal("parse failed: %s", why);
		ms = ms_since(t0);
		parse_ms = ms < parse_ms ? ms : parse_ms;
		dirdoc_consensus_free(c);
	}
	/* the baseline: Ed25519 verifications of a short message, 300 ms */
	randombytes_buf(msg, sizeof(msg));
	id_sign(sig, msg, sizeof(msg), auth[0]);
	t0 = mono_ns();
	while (mono_ns() - t0 < 300000000ull) {
		for (int i = 0; i < 100; i++)
			if (id_verify(sig, msg, sizeof(msg), pks[0]) < 0)
				fatal("baseline verify failed");
		nver += 100;
	}
	per_s = (double)nver / (ms_since(t0) / 1000.0);
	printf("consensus_10k_build_sign_ms: %.1f\n", build_ms);
	printf("consensus_10k_bytes: %zu\n", text_len);
	printf("consensus_10k_verify_ms: %.1f\n", verify_ms);
	printf("consensus_10k_parse_only_ms: %.1f\n", parse_ms);
	printf("ed25519_verify_per_s: %.0f\n", per_s);
	printf("consensus_verify_cost_in_ed25519_verifies: %.1f\n", verify_ms / 1000.0 * per_s);
	free(text);
	for (int i = 0; i < NAUTH; i++)
		id_keypair_free(auth[i]);
	return 0;
}
