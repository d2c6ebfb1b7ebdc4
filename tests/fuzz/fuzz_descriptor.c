/* Fuzz the descriptor parser over arbitrary bytes; on success, the
 * published-time check and the relay lookups must hold up too. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/dirdoc.h"
#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct dirdoc_relay r;
	char why[200];

	crypto_init();
	if (dirdoc_descriptor_parse((const char *)data, size, &r, why, sizeof(why)) == 0) {
		if (r.key_epoch[1] != r.key_epoch[0] + 1 || r.nickname[0] == '\0' ||
		    r.roles == 0 || r.nfamily > DIRDOC_FAMILY_MAX)
			__builtin_trap();
		(void)dirdoc_descriptor_check_time(&r, 1700000000u, 7200, why, sizeof(why));
		(void)dirdoc_relay_packet_key(&r, r.key_epoch[1]);
	}
	if (strlen(why) >= sizeof(why))
		__builtin_trap();
	return 0;
}
