/* Fuzz keyfile_parse over arbitrary bytes, with the cheap passphrase cost
 * and a fixed passphrase. The first byte picks the kind, the length and
 * whether a passphrase is given; the rest is the file. A fuzzing build
 * (BURROW_FUZZ) caps the accepted Argon2 memory at 1 MiB so each input
 * stays fast. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <sodium.h>

#include "common/keyfile.h"
#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	uint8_t secret[KEYFILE_SECRET_MAX];
	enum keyfile_kind kind;
	size_t len;
	int rc;

	if (!ready) {
		crypto_init();
		keyfile_set_cost_for_tests(1);
		ready = 1;
	}
	if (size < 1)
		return 0;
	kind = (data[0] & 1) ? KEYFILE_X25519 : KEYFILE_ED25519_SEED;
	len = (data[0] & 2) ? 1 + (data[0] >> 3) % KEYFILE_SECRET_MAX : 32;
	rc = keyfile_parse(data + 1, size - 1, kind, secret, len,
			   (data[0] & 4) ? NULL : "fuzz passphrase");
	if (rc > 0 || rc <= ERR_ERR_MIN)
		abort();
	if (rc != 0) {
		/* The output is zeroed on every error. */
		for (size_t i = 0; i < len; i++)
			if (secret[i] != 0)
				abort();
	}
	sodium_memzero(secret, sizeof(secret));
	return 0;
}
