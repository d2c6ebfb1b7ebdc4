/* Encoding and parsing of the mailbox fetch protocol's messages; see
 * common/fetchproto.h and docs/spec.md part 4. */
#include <string.h>

#include <sodium.h>

#include "common/buf.h"
#include "common/fetchproto.h"
#include "common/util.h"

static const char box_personal[crypto_generichash_blake2b_PERSONALBYTES + 1] =
	"burrow-mailbox01";

void
fetch_box_id(uint8_t id[static FETCH_BOX_ID_LEN], const uint8_t idpk[static ID_PK_LEN])
{
	if (crypto_generichash_blake2b_salt_personal(id, FETCH_BOX_ID_LEN, idpk, ID_PK_LEN, NULL,
						     0, NULL,
						     (const uint8_t *)box_personal) != 0)
		fatal("blake2b failed");
}

void
fetch_signed_bytes(uint8_t out[static FETCH_SIGNED_LEN], const uint8_t node_id[static NODE_ID_LEN],
		   const uint8_t hs_hash[static FETCH_HASH_LEN],
		   const uint8_t challenge[static FETCH_CHALLENGE_LEN])
{
	uint8_t *p = out;

	memcpy(p, FETCH_DOMAIN, sizeof(FETCH_DOMAIN));	/* with its NUL */
	p += sizeof(FETCH_DOMAIN);
	memcpy(p, node_id, NODE_ID_LEN);
	p += NODE_ID_LEN;
	memcpy(p, hs_hash, FETCH_HASH_LEN);
	p += FETCH_HASH_LEN;
	memcpy(p, challenge, FETCH_CHALLENGE_LEN);
}

void
fetch_auth_sign(uint8_t sig[static ID_SIG_LEN], const struct id_keypair *owner,
		const uint8_t node_id[static NODE_ID_LEN], const uint8_t hs_hash[static FETCH_HASH_LEN],
		const uint8_t challenge[static FETCH_CHALLENGE_LEN])
{
	uint8_t m[FETCH_SIGNED_LEN];

	fetch_signed_bytes(m, node_id, hs_hash, challenge);
	id_sign(sig, m, sizeof(m), owner);
}

int
fetch_auth_verify(const uint8_t sig[static ID_SIG_LEN], const uint8_t idpk[static ID_PK_LEN],
		  const uint8_t node_id[static NODE_ID_LEN], const uint8_t hs_hash[static FETCH_HASH_LEN],
		  const uint8_t challenge[static FETCH_CHALLENGE_LEN])
{
	uint8_t m[FETCH_SIGNED_LEN];

	fetch_signed_bytes(m, node_id, hs_hash, challenge);
	return id_verify(sig, m, sizeof(m), idpk) == 0 ? 0 : ERR_AUTH;
}

int
fetch_msg_type(const uint8_t *msg, size_t len)
{
	return len == 0 ? -1 : msg[0];
}

size_t
fetch_hello_encode(uint8_t out[static FETCH_HELLO_LEN])
{
	out[0] = FETCH_T_HELLO;
	out[1] = FETCH_VERSION;
	return FETCH_HELLO_LEN;
}

size_t
fetch_challenge_encode(uint8_t out[static FETCH_CHALLENGE_MSG_LEN],
		       const uint8_t challenge[static FETCH_CHALLENGE_LEN])
{
	out[0] = FETCH_T_CHALLENGE;
	memcpy(out + 1, challenge, FETCH_CHALLENGE_LEN);
	return FETCH_CHALLENGE_MSG_LEN;
}

size_t
fetch_auth_encode(uint8_t out[static FETCH_AUTH_LEN], const uint8_t idpk[static ID_PK_LEN],
		  const uint8_t sig[static ID_SIG_LEN])
{
	out[0] = FETCH_T_AUTH;
	memcpy(out + 1, idpk, ID_PK_LEN);
	memcpy(out + 1 + ID_PK_LEN, sig, ID_SIG_LEN);
	return FETCH_AUTH_LEN;
}

size_t
fetch_fetch_encode(uint8_t out[static FETCH_FETCH_LEN])
{
	out[0] = FETCH_T_FETCH;
	return FETCH_FETCH_LEN;
}

size_t
fetch_slot_encode(uint8_t out[static FETCH_SLOT_LEN], const struct fetch_slot *s)
{
	struct wbuf w = wbuf_fixed(out, FETCH_SLOT_LEN);
	size_t len = s->len > FETCH_ENTRY_MAX ? FETCH_ENTRY_MAX : s->len;
	bool present = (s->flags & FETCH_SLOT_PRESENT) != 0;

	wbuf_u8(&w, FETCH_T_SLOT);
	wbuf_u8(&w, s->index);
	wbuf_u8(&w, s->flags & (FETCH_SLOT_PRESENT | FETCH_SLOT_MORE));
	if (present) {
		wbuf_put(&w, s->msg_id, FETCH_MSG_ID_LEN);
		wbuf_u64(&w, s->received);
		wbuf_u16(&w, (uint16_t)len);
		wbuf_put(&w, s->entry, len);
	}
	wbuf_zeros(&w, FETCH_SLOT_LEN - w.len);
	BUG(wbuf_done(&w) != 0 || w.len != FETCH_SLOT_LEN);
	return FETCH_SLOT_LEN;
}

size_t
fetch_ack_encode(uint8_t out[static FETCH_ACK_LEN], const struct fetch_ack *a)
{
	unsigned n = a->n > FETCH_BATCH ? FETCH_BATCH : a->n;

	memset(out, 0, FETCH_ACK_LEN);
	out[0] = FETCH_T_ACK;
	out[1] = (uint8_t)n;
	for (unsigned i = 0; i < n; i++)
		memcpy(out + 2 + i * FETCH_MSG_ID_LEN, a->ids[i], FETCH_MSG_ID_LEN);
	return FETCH_ACK_LEN;
}

size_t
fetch_acked_encode(uint8_t out[static FETCH_ACKED_LEN], uint8_t n)
{
	out[0] = FETCH_T_ACKED;
	out[1] = n;
	return FETCH_ACKED_LEN;
}

size_t
fetch_refuse_encode(uint8_t out[static FETCH_REFUSE_LEN])
{
	out[0] = FETCH_T_REFUSE;
	out[1] = 0;	/* one reason for every refusal */
	return FETCH_REFUSE_LEN;
}

/* Read the type byte and check it. */
static void
expect_type(struct rbuf *r, enum fetch_type t)
{
	if (rbuf_u8(r) != t)
		rbuf_fail(r);
}

int
fetch_hello_parse(const uint8_t *msg, size_t len)
{
	struct rbuf r = rbuf_of(msg, len);
	uint8_t v;
	int rc;

	expect_type(&r, FETCH_T_HELLO);
	v = rbuf_u8(&r);
	if ((rc = rbuf_done(&r)) != 0)
		return rc;
	return v == FETCH_VERSION ? 0 : ERR_UNSUPPORTED;
}

int
fetch_challenge_parse(uint8_t challenge[static FETCH_CHALLENGE_LEN], const uint8_t *msg, size_t len)
{
	struct rbuf r = rbuf_of(msg, len);
	int rc;

	expect_type(&r, FETCH_T_CHALLENGE);
	rbuf_copy(&r, challenge, FETCH_CHALLENGE_LEN);
	if ((rc = rbuf_done(&r)) != 0)
		memset(challenge, 0, FETCH_CHALLENGE_LEN);
	return rc;
}

int
fetch_auth_parse(uint8_t idpk[static ID_PK_LEN], uint8_t sig[static ID_SIG_LEN],
		 const uint8_t *msg, size_t len)
{
	struct rbuf r = rbuf_of(msg, len);
	int rc;

	expect_type(&r, FETCH_T_AUTH);
	rbuf_copy(&r, idpk, ID_PK_LEN);
	rbuf_copy(&r, sig, ID_SIG_LEN);
	if ((rc = rbuf_done(&r)) != 0) {
		memset(idpk, 0, ID_PK_LEN);
		memset(sig, 0, ID_SIG_LEN);
	}
	return rc;
}

int
fetch_fetch_parse(const uint8_t *msg, size_t len)
{
	struct rbuf r = rbuf_of(msg, len);

	expect_type(&r, FETCH_T_FETCH);
	return rbuf_done(&r);
}

int
fetch_slot_parse(struct fetch_slot *s, const uint8_t *msg, size_t len)
{
	struct rbuf r = rbuf_of(msg, len);
	int rc;

	memset(s, 0, sizeof(*s));
	if (len < FETCH_SLOT_LEN)
		return ERR_TRUNCATED;
	if (len > FETCH_SLOT_LEN)
		return ERR_TRAILING;
	expect_type(&r, FETCH_T_SLOT);
	s->index = rbuf_u8(&r);
	s->flags = rbuf_u8(&r);
	if (s->index >= FETCH_BATCH || (s->flags & ~(FETCH_SLOT_PRESENT | FETCH_SLOT_MORE)))
		rbuf_fail(&r);
	if (s->flags & FETCH_SLOT_PRESENT) {
		rbuf_copy(&r, s->msg_id, FETCH_MSG_ID_LEN);
		s->received = rbuf_u64(&r);
		s->len = rbuf_u16(&r);
		if (s->len == 0 || s->len > FETCH_ENTRY_MAX) {
			rbuf_fail(&r);
			s->len = 0;
		}
		rbuf_copy(&r, s->entry, s->len);
	}
	/* What is left is padding and must be zero. */
	rbuf_zeros(&r, r.left);
	if ((rc = rbuf_done(&r)) != 0)
		memset(s, 0, sizeof(*s));
	return rc;
}

int
fetch_ack_parse(struct fetch_ack *a, const uint8_t *msg, size_t len)
{
	struct rbuf r = rbuf_of(msg, len);
	int rc;

	memset(a, 0, sizeof(*a));
	expect_type(&r, FETCH_T_ACK);
	a->n = rbuf_u8(&r);
	if (a->n == 0 || a->n > FETCH_BATCH) {
		rbuf_fail(&r);
		a->n = 0;
	}
	for (unsigned i = 0; i < a->n; i++)
		rbuf_copy(&r, a->ids[i], FETCH_MSG_ID_LEN);
	rbuf_zeros(&r, (size_t)(FETCH_BATCH - a->n) * FETCH_MSG_ID_LEN);
	if ((rc = rbuf_done(&r)) != 0)
		memset(a, 0, sizeof(*a));
	return rc;
}

int
fetch_acked_parse(uint8_t *n, const uint8_t *msg, size_t len)
{
	struct rbuf r = rbuf_of(msg, len);
	int rc;

	expect_type(&r, FETCH_T_ACKED);
	*n = rbuf_u8(&r);
	if (*n > FETCH_BATCH)
		rbuf_fail(&r);
	if ((rc = rbuf_done(&r)) != 0)
		*n = 0;
	return rc;
}

int
fetch_refuse_parse(const uint8_t *msg, size_t len)
{
	struct rbuf r = rbuf_of(msg, len);

	expect_type(&r, FETCH_T_REFUSE);
	rbuf_zeros(&r, 1);
	return rbuf_done(&r);
}
