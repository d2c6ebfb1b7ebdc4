/* Burrow addresses: one printable, copy-paste-safe string naming a
 * recipient's mailbox node (its node id) and identity key.
 *
 *   "brw1" ‖ base32(version 1 ‖ mailbox node id 32 ‖ identity pk 32 ‖ check 4)
 *
 * where check is the first 4 bytes of a personalized BLAKE2b-128 over the
 * 65 bytes before it. 115 characters in all. Format in docs/spec.md part 6. */
#ifndef BURROW_CLIENT_ADDRESS_H
#define BURROW_CLIENT_ADDRESS_H

#include <stdint.h>

#include "common/err.h"
#include "common/keys.h"

#define ADDRESS_VERSION 1
#define ADDRESS_PREFIX "brw1"
#define ADDRESS_CHECK_LEN 4
#define ADDRESS_RAW_LEN (1 + NODE_ID_LEN + ID_PK_LEN + ADDRESS_CHECK_LEN)
#define ADDRESS_STR_LEN (4 + ((ADDRESS_RAW_LEN * 8 + 4) / 5))	/* without the NUL */

struct address {
	uint8_t node_id[NODE_ID_LEN];	/* the home mailbox node */
	uint8_t id_pk[ID_PK_LEN];	/* the owner's Ed25519 identity key */
};

/* Write the address string and a NUL to out. */
void address_encode(char out[static ADDRESS_STR_LEN + 1], const struct address *a);

/* Parse an address string. Spaces, tabs, newlines and '-' anywhere are
 * ignored (line-wrapped copies), case is ignored. Returns 0;
 * ERR_MALFORMED if it does not start with "brw1" or holds a character
 * outside the alphabet; ERR_TRUNCATED / ERR_TRAILING if too short / long;
 * ERR_CHECKSUM if the checksum does not match (a typo); ERR_UNSUPPORTED for
 * another version. If errpos is not NULL it receives the 0-based offset of
 * the first bad character for ERR_MALFORMED, else -1. */
int MUST_CHECK address_parse(struct address *a, const char *s, int *errpos);

/* A one-line human explanation of an address_parse error. */
const char *address_err_str(int err);

/* True when a and b name the same mailbox and key. */
int address_equal(const struct address *a, const struct address *b);

#endif
