/* libFuzzer harness: the client's parsers of untrusted input — message
 * fragments (client/fragment.c, from opened deposits) and addresses
 * (client/address.c, from users and contacts). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client/address.h"
#include "client/fragment.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct frag f;
	struct address a;
	char *s;
	int pos;

	if (frag_parse(&f, data, size) == 0) {
		if (f.chunk_len && (f.chunk < data || f.chunk + f.chunk_len > data + size))
			__builtin_trap();
		if (f.count == 0 || f.index >= f.count)
			__builtin_trap();
	}
	s = malloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	if (address_parse(&a, s, &pos) == 0) {
		char back[ADDRESS_STR_LEN + 1];
		struct address b;

		address_encode(back, &a);
		if (address_parse(&b, back, &pos) != 0 || !address_equal(&a, &b))
			__builtin_trap();
	}
	free(s);
	return 0;
}
