/* Fuzz the authorities' vote parser and the consensus rule. Each input is
 * tried twice: as it is (so the signature check at the end is fuzzed),
 * and as the unsigned part of a vote that the harness signs with a fixed
 * authority key, so that the relay lines behind the signature are reached
 * too. A vote that parses is fed to vote_compute, whose consensus must
 * encode and parse back with the same relays. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/dirdoc.h"
#include "common/encode.h"
#include "common/util.h"
#include "directory/vote.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The seeds are voted by the identity whose 32-byte seed is all 0x01. */
static struct id_keypair *kp;
static uint8_t allowed[2][32];

static void
init_keys(void)
{
	uint8_t seed[32];

	if (kp)
		return;
	memset(seed, 1, sizeof(seed));
	kp = id_keypair_from_seed(seed);
	memcpy(allowed[0], kp->pk, 32);
	memset(allowed[1], 0x55, 32);
}

static void
check_compute(struct vote *v)
{
	struct vote *votes[2] = { v, v };
	struct dirdoc_consensus *c = NULL, *back = NULL;
	char *body, *text;
	size_t len, tlen;

	if (vote_compute(votes, 2, 3, v->epoch, 60, &c) < 0)
		return;	/* an epoch out of range for 60 s */
	if (dirdoc_consensus_encode_body(c, &body, &len) == 0) {
		if (dirdoc_consensus_assemble(body, len, NULL, 0, &text, &tlen) != 0 ||
		    dirdoc_consensus_parse(text, tlen, &back, NULL, 0) != 0 ||
		    back->nrelays != c->nrelays || back->body_len != len)
			__builtin_trap();
		dirdoc_consensus_free(back);
		free(text);
		free(body);
	}
	dirdoc_consensus_free(c);
}

static void
try_parse(const char *text, size_t len)
{
	struct vote *v = NULL;
	char why[200];

	if (vote_parse(text, len, (const uint8_t(*)[32])allowed, 2, &v, why, sizeof(why)) == 0) {
		for (size_t i = 1; i < v->nrelays; i++)
			if (memcmp(v->relays[i - 1].node_id, v->relays[i].node_id, NODE_ID_LEN) >= 0)
				__builtin_trap();
		check_compute(v);
		vote_free(v);
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char kw[] = "vote-signature ";
	char hex[HEX_LEN(ID_SIG_LEN) + 1], *signed_text;
	uint8_t sig[ID_SIG_LEN];
	size_t n;

	crypto_init();
	init_keys();
	if (size > (1u << 20))
		return 0;
	try_parse((const char *)data, size);
	id_sign(sig, data, size, kp);
	hex_encode(hex, sig, ID_SIG_LEN);
	n = size + sizeof(kw) - 1 + HEX_LEN(ID_SIG_LEN) + 1;
	signed_text = xmalloc(n);
	memcpy(signed_text, data, size);
	memcpy(signed_text + size, kw, sizeof(kw) - 1);
	memcpy(signed_text + size + sizeof(kw) - 1, hex, HEX_LEN(ID_SIG_LEN));
	signed_text[n - 1] = '\n';
	try_parse(signed_text, n);
	free(signed_text);
	return 0;
}
