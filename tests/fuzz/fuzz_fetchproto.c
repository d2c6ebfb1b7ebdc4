/* libFuzzer harness for the mailbox fetch protocol parsers: every parser
 * sees every input; none may crash, read out of bounds or accept a
 * message whose re-encoding differs. */
#include <stdint.h>
#include <string.h>

#include "common/fetchproto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct fetch_slot s;
	static uint8_t out[FETCH_MSG_MAX];
	uint8_t ch[FETCH_CHALLENGE_LEN], pk[ID_PK_LEN], sig[ID_SIG_LEN], n;
	struct fetch_ack a;

	(void)fetch_msg_type(data, size);
	(void)fetch_hello_parse(data, size);
	(void)fetch_challenge_parse(ch, data, size);
	(void)fetch_auth_parse(pk, sig, data, size);
	(void)fetch_fetch_parse(data, size);
	(void)fetch_acked_parse(&n, data, size);
	(void)fetch_refuse_parse(data, size);
	if (fetch_slot_parse(&s, data, size) == 0) {
		if (fetch_slot_encode(out, &s) != size || memcmp(out, data, size) != 0)
			__builtin_trap();
	}
	if (fetch_ack_parse(&a, data, size) == 0) {
		if (fetch_ack_encode(out, &a) != size || memcmp(out, data, size) != 0)
			__builtin_trap();
	}
	return 0;
}
