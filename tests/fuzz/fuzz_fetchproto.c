/* libFuzzer harness: every mailbox fetch protocol parser (common/fetchproto.c)
 * over arbitrary bytes; what parses must re-encode to the same bytes. */
#include <stdint.h>
#include <string.h>

#include "common/fetchproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t ch[FETCH_CHALLENGE_LEN], pk[ID_PK_LEN], sig[ID_SIG_LEN], n;
	static struct fetch_slot slot;
	static struct fetch_ack ack;
	static uint8_t out[FETCH_SLOT_LEN + FETCH_ACK_LEN];

	(void)fetch_msg_type(data, size);
	(void)fetch_hello_parse(data, size);
	(void)fetch_challenge_parse(ch, data, size);
	(void)fetch_auth_parse(pk, sig, data, size);
	(void)fetch_fetch_parse(data, size);
	(void)fetch_acked_parse(&n, data, size);
	(void)fetch_refuse_parse(data, size);
	if (fetch_slot_parse(&slot, data, size) == 0) {
		size_t len = fetch_slot_encode(out, &slot);

		if (len != size || memcmp(out, data, size) != 0)
			__builtin_trap();
	}
	if (fetch_ack_parse(&ack, data, size) == 0) {
		size_t len = fetch_ack_encode(out, &ack);

		if (len != size || memcmp(out, data, size) != 0)
			__builtin_trap();
	}
	return 0;
}
