/* Burrow addresses: encode, parse and check. */
#include <ctype.h>
#include <string.h>

#include <sodium.h>

#include "client/address.h"
#include "common/buf.h"
#include "common/encode.h"
#include "common/util.h"

static const char check_personal[crypto_generichash_blake2b_PERSONALBYTES + 1] =
	"burrow-address01";

#define BODY_LEN (ADDRESS_RAW_LEN - ADDRESS_CHECK_LEN)
#define B32_LEN BASE32_LEN(ADDRESS_RAW_LEN)

static void
address_check(uint8_t out[static ADDRESS_CHECK_LEN], const uint8_t body[static BODY_LEN])
{
	uint8_t h[16];

	crypto_generichash_blake2b_salt_personal(h, sizeof(h), body, BODY_LEN, NULL, 0, NULL,
						 (const uint8_t *)check_personal);
	memcpy(out, h, ADDRESS_CHECK_LEN);
}

void
address_encode(char out[static ADDRESS_STR_LEN + 1], const struct address *a)
{
	uint8_t raw[ADDRESS_RAW_LEN];
	struct wbuf w = wbuf_fixed(raw, sizeof(raw));

	wbuf_u8(&w, ADDRESS_VERSION);
	wbuf_put(&w, a->node_id, NODE_ID_LEN);
	wbuf_put(&w, a->id_pk, ID_PK_LEN);
	address_check(raw + BODY_LEN, raw);
	memcpy(out, ADDRESS_PREFIX, 4);
	base32_encode(out + 4, raw, sizeof(raw));
}

static int
is_b32(int c)
{
	c = tolower(c);
	return (c >= 'a' && c <= 'z') || (c >= '2' && c <= '7');
}

int
address_parse(struct address *a, const char *s, int *errpos)
{
	char clean[B32_LEN + 2];
	uint8_t raw[ADDRESS_RAW_LEN], want[ADDRESS_CHECK_LEN];
	size_t n = 0, i;
	int r;

	memset(a, 0, sizeof(*a));
	if (errpos)
		*errpos = -1;
	while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
		s++;
	if (strncasecmp(s, ADDRESS_PREFIX, 4) != 0) {
		if (errpos)
			*errpos = 0;
		return ERR_MALFORMED;
	}
	for (i = 4; s[i]; i++) {
		int c = (unsigned char)s[i];

		if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '-')
			continue;
		if (!is_b32(c)) {
			if (errpos)
				*errpos = (int)i;
			return ERR_MALFORMED;
		}
		if (n > B32_LEN)
			return ERR_TRAILING;
		clean[n++] = (char)tolower(c);
	}
	if (n < B32_LEN)
		return ERR_TRUNCATED;
	if (n > B32_LEN)
		return ERR_TRAILING;
	clean[n] = '\0';
	/* Every character is in the alphabet and the length is right, so a
	 * decode failure can only be non-zero tail bits: a typo in the last
	 * character, reported as one. */
	if (base32_decode(raw, sizeof(raw), clean) != 0)
		return ERR_CHECKSUM;
	address_check(want, raw);
	if (sodium_memcmp(want, raw + BODY_LEN, ADDRESS_CHECK_LEN) != 0)
		return ERR_CHECKSUM;
	struct rbuf rb = rbuf_of(raw, BODY_LEN);
	if (rbuf_u8(&rb) != ADDRESS_VERSION)
		return ERR_UNSUPPORTED;
	rbuf_copy(&rb, a->node_id, NODE_ID_LEN);
	rbuf_copy(&rb, a->id_pk, ID_PK_LEN);
	r = rbuf_done(&rb);
	if (r != 0)
		memset(a, 0, sizeof(*a));
	return r;
}

const char *
address_err_str(int err)
{
	switch (err) {
	case 0:
		return "valid address";
	case ERR_CHECKSUM:
		return "address checksum mismatch: check for a typo";
	case ERR_MALFORMED:
		return "not a burrow address (it starts with brw1 and uses only a-z and 2-7)";
	case ERR_TRUNCATED:
		return "address too short: part of it is missing";
	case ERR_TRAILING:
		return "address too long: extra characters at the end";
	case ERR_UNSUPPORTED:
		return "address from a newer version of burrow";
	default:
		return err_str(err);
	}
}

int
address_equal(const struct address *a, const struct address *b)
{
	return sodium_memcmp(a->node_id, b->node_id, NODE_ID_LEN) == 0 &&
	       sodium_memcmp(a->id_pk, b->id_pk, ID_PK_LEN) == 0;
}
