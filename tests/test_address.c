/* Tests for client/address: round trip, every single-character typo
 * caught, clear errors for malformed input. */
#include <ctype.h>
#include <string.h>

#include <sodium.h>

#include "client/address.h"
#include "common/util.h"
#include "tests/check.h"

static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";

static void
fixed_address(struct address *a, uint8_t seed)
{
	size_t i;

	for (i = 0; i < NODE_ID_LEN; i++)
		a->node_id[i] = (uint8_t)(seed + i * 7);
	for (i = 0; i < ID_PK_LEN; i++)
		a->id_pk[i] = (uint8_t)(seed * 3 + i * 13);
}

static void
test_round_trip(void)
{
	struct address a, b;
	char s[ADDRESS_STR_LEN + 1];
	int k;

	for (k = 0; k < 50; k++) {
		randombytes_buf(a.node_id, sizeof(a.node_id));
		randombytes_buf(a.id_pk, sizeof(a.id_pk));
		address_encode(s, &a);
		CHECK_EQ(strlen(s), ADDRESS_STR_LEN);
		CHECK(strncmp(s, "brw1", 4) == 0);
		CHECK_EQ(address_parse(&b, s, NULL), 0);
		CHECK(address_equal(&a, &b));
	}
}

static void
test_case_and_spaces(void)
{
	struct address a, b;
	char s[ADDRESS_STR_LEN + 1], wrapped[ADDRESS_STR_LEN + 16];
	size_t i, j = 0;

	fixed_address(&a, 1);
	address_encode(s, &a);
	for (i = 0; s[i]; i++)
		s[i] = (char)toupper((unsigned char)s[i]);
	CHECK_EQ(address_parse(&b, s, NULL), 0);
	CHECK(address_equal(&a, &b));
	address_encode(s, &a);
	/* A copy wrapped over lines with a trailing newline still parses. */
	for (i = 0; s[i]; i++) {
		wrapped[j++] = s[i];
		if (i == 40 || i == 80)
			wrapped[j++] = '\n';
	}
	wrapped[j++] = '\n';
	wrapped[j] = '\0';
	CHECK_EQ(address_parse(&b, wrapped, NULL), 0);
	CHECK(address_equal(&a, &b));
}

/* Every single-character substitution in the body is caught: either the
 * checksum or the tail-bit check fails; never a silent wrong address. */
static void
test_every_typo(void)
{
	struct address a, b;
	char s[ADDRESS_STR_LEN + 1], t[ADDRESS_STR_LEN + 1];
	size_t i, k, tried = 0, caught = 0;
	int seed;

	for (seed = 0; seed < 3; seed++) {
		fixed_address(&a, (uint8_t)(seed * 41 + 5));
		address_encode(s, &a);
		for (i = 4; i < ADDRESS_STR_LEN; i++) {
			for (k = 0; k < 32; k++) {
				if (alphabet[k] == s[i])
					continue;
				memcpy(t, s, sizeof(t));
				t[i] = alphabet[k];
				tried++;
				if (address_parse(&b, t, NULL) == ERR_CHECKSUM)
					caught++;
			}
		}
	}
	CHECK_EQ(caught, tried);
	CHECK(tried > 3000);
}

static void
test_transpositions(void)
{
	struct address a, b;
	char s[ADDRESS_STR_LEN + 1], t[ADDRESS_STR_LEN + 1];
	size_t i;

	fixed_address(&a, 99);
	address_encode(s, &a);
	for (i = 4; i + 1 < ADDRESS_STR_LEN; i++) {
		if (s[i] == s[i + 1])
			continue;
		memcpy(t, s, sizeof(t));
		t[i] = s[i + 1];
		t[i + 1] = s[i];
		CHECK_EQ(address_parse(&b, t, NULL), ERR_CHECKSUM);
	}
}

static void
test_malformed(void)
{
	struct address a, b;
	char s[ADDRESS_STR_LEN + 1], t[ADDRESS_STR_LEN + 8];
	int pos;

	fixed_address(&a, 7);
	address_encode(s, &a);
	CHECK_EQ(address_parse(&b, "", &pos), ERR_MALFORMED);
	CHECK_EQ(address_parse(&b, "bob", &pos), ERR_MALFORMED);
	CHECK_EQ(pos, 0);
	memcpy(t, s, sizeof(s));
	t[10] = '0';	/* not in the alphabet */
	CHECK_EQ(address_parse(&b, t, &pos), ERR_MALFORMED);
	CHECK_EQ(pos, 10);
	memcpy(t, s, sizeof(s));
	t[ADDRESS_STR_LEN - 1] = '\0';	/* one short */
	CHECK_EQ(address_parse(&b, t, NULL), ERR_TRUNCATED);
	memcpy(t, s, ADDRESS_STR_LEN);
	t[ADDRESS_STR_LEN] = 'a';	/* one long */
	t[ADDRESS_STR_LEN + 1] = '\0';
	CHECK_EQ(address_parse(&b, t, NULL), ERR_TRAILING);
	CHECK_STR(address_err_str(ERR_CHECKSUM), "address checksum mismatch: check for a typo");
	/* Every truncated prefix fails, none crashes. */
	for (size_t n = 0; n < ADDRESS_STR_LEN; n++) {
		memcpy(t, s, n);
		t[n] = '\0';
		CHECK(address_parse(&b, t, NULL) != 0);
	}
}

int
main(int argc, char **argv)
{
	(void)argc;
	check_begin(argv[0]);
	crypto_init();
	RUN(test_round_trip);
	RUN(test_case_and_spaces);
	RUN(test_every_typo);
	RUN(test_transpositions);
	RUN(test_malformed);
	return check_end();
}
