/* libFuzzer harness for sphinx_unwrap and what a node does with its result.
 *
 * Input: one mode byte, then data.
 *   mode 0: data is a packet of any length, unwrapped by a fixed node key
 *           (almost always dropped at the MAC: exercises length, version
 *           and DH checks on arbitrary bytes).
 *   mode 1: data = nhops byte ‖ at byte ‖ slot (64) ‖ payload (1678),
 *           zero-extended: a valid packet is built whose hop `at` finds
 *           this plaintext slot and whose last node finds this payload,
 *           so slot parsing, the ACK layer and SURB parsing see arbitrary
 *           bytes behind a good MAC. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/err.h"
#include "common/sphinx.h"
#include "common/util.h"

static uint8_t sk[SPHINX_MAX_HOPS + 1][32], pk[SPHINX_MAX_HOPS + 1][32];
static struct sphinx_result res;

static void
init(void)
{
	static int done;

	if (done)
		return;
	done = 1;
	crypto_init();
	for (int i = 0; i <= SPHINX_MAX_HOPS; i++) {
		memset(sk[i], 0x11 * (i + 1), 32);
		if (crypto_scalarmult_base(pk[i], sk[i]) != 0)
			abort();
	}
}

static void
after_deliver(void)
{
	uint8_t msg[SPHINX_MSG_LEN], id[SPHINX_DEPOSIT_ID_LEN], pkt[SPHINX_PACKET_LEN];
	uint8_t first[SPHINX_ID_LEN];
	size_t len;

	if (res.deposit_len != SPHINX_DEPOSIT_LEN && res.deposit_len != SPHINX_DEPOSIT_ACK_LEN)
		abort();
	if (sphinx_deposit_id(id, res.deposit, res.deposit_len) != 0)
		abort();
	(void)sphinx_open(msg, &len, res.deposit, res.deposit_len, sk[SPHINX_MAX_HOPS],
			  pk[SPHINX_MAX_HOPS]);
	if (res.has_ack && sphinx_surb_reply(pkt, first, &res.ack, res.msg_id, 16) != 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *pkt;
	int r;

	init();
	if (size < 1)
		return 0;
	if (data[0] % 2 == 0) {
		pkt = malloc(size - 1 ? size - 1 : 1);
		memcpy(pkt, data + 1, size - 1);
		r = sphinx_unwrap(&res, pkt, size - 1, sk[0], pk[0]);
		if (r == 0 && res.cmd == SPHINX_CMD_DELIVER)
			after_deliver();
		free(pkt);
		return 0;
	}
	{
		uint8_t in[2 + SPHINX_SLOT_LEN + SPHINX_PAYLOAD_LEN] = { 0 };
		uint8_t slots[SPHINX_MAX_HOPS][SPHINX_SLOT_LEN], seed[32] = { 1 };
		uint8_t p[SPHINX_PACKET_LEN];
		struct sphinx_hop hops[SPHINX_MAX_HOPS];
		size_t n, at;

		memcpy(in, data + 1, MIN(size - 1, sizeof(in)));
		n = 1 + in[0] % SPHINX_MAX_HOPS;
		at = in[1] % n;
		memset(slots, 0, sizeof(slots));
		for (size_t i = 0; i < n; i++) {
			memcpy(hops[i].node_pk, pk[i], 32);
			memset(hops[i].node_id, (int)i, 32);
			hops[i].delay_ms = 0;
			slots[i][0] = i + 1 < n ? SPHINX_CMD_RELAY : SPHINX_CMD_DELIVER;
		}
		memcpy(slots[at], in + 2, SPHINX_SLOT_LEN);
		if (sphinx_test_create_slots(p, hops, n, pk[SPHINX_MAX_HOPS],
					     (const uint8_t (*)[SPHINX_SLOT_LEN])slots,
					     in + 2 + SPHINX_SLOT_LEN, seed) != 0)
			abort();
		for (size_t i = 0; i < n; i++) {
			r = sphinx_unwrap(&res, p, sizeof(p), sk[i], pk[i]);
			if (r != 0)
				break;
			if (i < at && res.cmd != SPHINX_CMD_RELAY)
				abort();	/* the builder's own slots must work */
			if (res.cmd == SPHINX_CMD_DELIVER) {
				after_deliver();
				break;
			}
		}
	}
	return 0;
}
