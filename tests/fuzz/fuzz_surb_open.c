/* libFuzzer harness for the parsers and openers a client and a mailbox
 * node run on bytes they did not make: sphinx_surb_parse (then reply with
 * the SURB), sphinx_surb_secret_parse, sphinx_deposit_parse / _id,
 * sphinx_open and sphinx_surb_open of arbitrary deposit entries.
 * Input: one mode byte, then data. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/err.h"
#include "common/sphinx.h"
#include "common/util.h"

static uint8_t rsk[32], rpk[32];
static struct sphinx_surb_secret fixed_sec;

static void
init(void)
{
	static int done;
	uint8_t nsk[32], seed[32] = { 2 };
	struct sphinx_hop hop;
	struct sphinx_dest dest;
	struct sphinx_surb surb;

	if (done)
		return;
	done = 1;
	crypto_init();
	memset(rsk, 0x66, 32);
	memset(nsk, 0x11, 32);
	if (crypto_scalarmult_base(rpk, rsk) != 0 || crypto_scalarmult_base(hop.node_pk, nsk) != 0)
		abort();
	memset(hop.node_id, 0, 32);
	hop.delay_ms = 0;
	memset(&dest, 0, sizeof(dest));
	memcpy(dest.recipient_pk, rpk, 32);
	if (sphinx_surb_create_det(&surb, &fixed_sec, &hop, 1, &dest, seed) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t msg[SPHINX_MSG_LEN], pkt[SPHINX_PACKET_LEN], first[SPHINX_ID_LEN];
	uint8_t enc[SPHINX_SURB_LEN], senc[SPHINX_SURB_SECRET_MAX_LEN], id[16];
	struct sphinx_surb surb;
	struct sphinx_surb_secret sec;
	struct sphinx_deposit d;
	size_t len;
	uint8_t *copy;

	init();
	if (size < 1)
		return 0;
	/* An exact-size heap copy lets ASan see any over-read. */
	copy = malloc(size - 1 ? size - 1 : 1);
	memcpy(copy, data + 1, size - 1);
	size--;
	switch (data[0] % 3) {
	case 0:
		if (sphinx_surb_parse(&surb, copy, size) == 0) {
			sphinx_surb_encode(enc, &surb);
			if (size != SPHINX_SURB_LEN || memcmp(enc, copy, size) != 0)
				abort();
			if (sphinx_surb_reply(pkt, first, &surb, copy, MIN(size, 100)) != 0)
				abort();
		}
		break;
	case 1:
		if (sphinx_surb_secret_parse(&sec, copy, size) == 0) {
			len = sphinx_surb_secret_encode(senc, &sec);
			if (len != size || memcmp(senc, copy, size) != 0)
				abort();
			if (size >= SPHINX_DEPOSIT_ACK_LEN)
				(void)sphinx_surb_open(msg, &len, copy, size, &sec);
			sphinx_surb_secret_clear(&sec);
		}
		break;
	default:
		if (sphinx_deposit_parse(&d, copy, size) == 0 &&
		    d.body_len + SPHINX_ALPHA_LEN != size)
			abort();
		(void)sphinx_deposit_id(id, copy, size);
		if (sphinx_open(msg, &len, copy, size, rsk, rpk) == 0 && len > SPHINX_MSG_LEN)
			abort();
		(void)sphinx_surb_open(msg, &len, copy, size, &fixed_sec);
		break;
	}
	free(copy);
	return 0;
}
