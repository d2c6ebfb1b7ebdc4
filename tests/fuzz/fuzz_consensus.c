/* Fuzz the consensus parser and verifier over arbitrary bytes. A document
 * that parses must re-encode to exactly its signed body, so the format has
 * one spelling per meaning. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/dirdoc.h"
#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The seed corpus is signed by the identities whose 32-byte seeds are all
 * 0x01, all 0x02 and all 0x03, for epoch 480000 of 3600 s. */
static uint8_t pinned[3][32];
static const uint64_t now = 480000ull * 3600 + 10;

static void
init_keys(void)
{
	static int done;
	uint8_t seed[32];

	if (done)
		return;
	for (int i = 0; i < 3; i++) {
		struct id_keypair *kp;

		memset(seed, i + 1, sizeof(seed));
		kp = id_keypair_from_seed(seed);
		memcpy(pinned[i], kp->pk, 32);
		id_keypair_free(kp);
	}
	done = 1;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dirdoc_consensus *c = NULL;
	char why[200], *body;
	size_t len;

	crypto_init();
	init_keys();
	if (dirdoc_consensus_parse((const char *)data, size, &c, why, sizeof(why)) == 0) {
		if (dirdoc_consensus_encode_body(c, &body, &len) != 0 || len != c->body_len ||
		    memcmp(body, data, len) != 0)
			__builtin_trap();
		free(body);
		for (size_t i = 0; i < c->nrelays; i++)
			if (dirdoc_relay_find(c, c->relays[i].node_id) != &c->relays[i])
				__builtin_trap();
		DIRDOC_CONSENSUS_FREE(c);
	}
	if (dirdoc_consensus_verify((const char *)data, size, (const uint8_t(*)[32])pinned, 3, now, &c, why,
				    sizeof(why)) == 0)
		dirdoc_consensus_free(c);
	return 0;
}
