/* Message fragments: encode, parse, and the message signature. */
#include <string.h>

#include <sodium.h>

#include "client/fragment.h"
#include "common/buf.h"
#include "common/util.h"

static const char hash_personal[crypto_generichash_blake2b_PERSONALBYTES + 1] =
	"burrow-msg-hash1";
static const char sig_context[] = "burrow message signature v1";

size_t
frag_chunk_len(size_t space, bool is_signed)
{
	size_t over = FRAG_HDR_LEN + (is_signed ? FRAG_SIG_BLOCK_LEN : 0);

	return space > over ? MIN(space - over, (size_t)UINT16_MAX) : 0;
}

uint32_t
frag_count_for(uint64_t len, size_t space, bool is_signed)
{
	size_t c = frag_chunk_len(space, is_signed);

	if (c == 0)
		return 0;
	if (len == 0)
		return 1;
	return (uint32_t)((len + c - 1) / c);
}

void
msg_hash(uint8_t out[static MSG_HASH_LEN], const uint8_t *msg, size_t len)
{
	crypto_generichash_blake2b_salt_personal(out, MSG_HASH_LEN, msg, len, NULL, 0, NULL,
						 (const uint8_t *)hash_personal);
}

static void
sig_input(uint8_t *buf, size_t cap, size_t *n, const uint8_t id[static MSG_ID_LEN], uint64_t len,
	  const uint8_t hash[static MSG_HASH_LEN], const uint8_t rcpt_pk[static ID_PK_LEN])
{
	struct wbuf w = wbuf_fixed(buf, cap);

	wbuf_put(&w, sig_context, sizeof(sig_context) - 1);
	wbuf_put(&w, id, MSG_ID_LEN);
	wbuf_u64(&w, len);
	wbuf_put(&w, hash, MSG_HASH_LEN);
	wbuf_put(&w, rcpt_pk, ID_PK_LEN);
	*n = BUG(wbuf_done(&w) != 0) ? 0 : w.len;
}

void
msg_sign(uint8_t sig[static ID_SIG_LEN], const uint8_t id[static MSG_ID_LEN], uint64_t len,
	 const uint8_t hash[static MSG_HASH_LEN], const uint8_t rcpt_pk[static ID_PK_LEN],
	 const struct id_keypair *sender)
{
	uint8_t buf[128];
	size_t n;

	sig_input(buf, sizeof(buf), &n, id, len, hash, rcpt_pk);
	id_sign(sig, buf, n, sender);
}

int
msg_verify(const uint8_t sig[static ID_SIG_LEN], const uint8_t id[static MSG_ID_LEN], uint64_t len,
	   const uint8_t hash[static MSG_HASH_LEN], const uint8_t rcpt_pk[static ID_PK_LEN],
	   const uint8_t sender_pk[static ID_PK_LEN])
{
	uint8_t buf[128];
	size_t n;

	sig_input(buf, sizeof(buf), &n, id, len, hash, rcpt_pk);
	return id_verify(sig, buf, n, sender_pk) == 0 ? 0 : ERR_BAD_SIG;
}

int
frag_encode(uint8_t *out, size_t space, const struct frag *f)
{
	bool is_signed = (f->flags & FRAG_FLAG_SIGNED) != 0;
	struct wbuf w;

	if (space < FRAG_SPACE_MIN || space > FRAG_SPACE_MAX)
		return ERR_RANGE;
	if (f->chunk_len > frag_chunk_len(space, is_signed))
		return ERR_TOO_BIG;
	w = wbuf_fixed(out, space);
	wbuf_u8(&w, FRAG_VERSION);
	wbuf_u8(&w, f->flags);
	wbuf_put(&w, f->msg_id, MSG_ID_LEN);
	wbuf_u32(&w, f->index);
	wbuf_u32(&w, f->count);
	wbuf_u64(&w, f->total_len);
	wbuf_put(&w, f->hash, MSG_HASH_LEN);
	if (is_signed) {
		wbuf_put(&w, f->sender_pk, ID_PK_LEN);
		wbuf_put(&w, f->sig, ID_SIG_LEN);
	}
	wbuf_u16(&w, f->chunk_len);
	wbuf_put(&w, f->chunk, f->chunk_len);
	wbuf_zeros(&w, space - w.len);
	return wbuf_done(&w);
}

int
frag_parse(struct frag *f, const uint8_t *in, size_t len)
{
	struct rbuf r = rbuf_of(in, len);
	uint8_t version;
	bool is_signed;
	int rc;

	memset(f, 0, sizeof(*f));
	version = rbuf_u8(&r);
	f->flags = rbuf_u8(&r);
	if (r.bad)
		return ERR_TRUNCATED;
	if (version != FRAG_VERSION || (f->flags & ~FRAG_FLAG_SIGNED) != 0)
		return ERR_UNSUPPORTED;
	is_signed = (f->flags & FRAG_FLAG_SIGNED) != 0;
	rbuf_copy(&r, f->msg_id, MSG_ID_LEN);
	f->index = rbuf_u32(&r);
	f->count = rbuf_u32(&r);
	f->total_len = rbuf_u64(&r);
	rbuf_copy(&r, f->hash, MSG_HASH_LEN);
	if (is_signed) {
		rbuf_copy(&r, f->sender_pk, ID_PK_LEN);
		rbuf_copy(&r, f->sig, ID_SIG_LEN);
	}
	f->chunk_len = rbuf_u16(&r);
	f->chunk = rbuf_view(&r, f->chunk_len);
	if (r.bad) {
		memset(f, 0, sizeof(*f));
		return ERR_TRUNCATED;
	}
	if (f->total_len > MSG_MAX_LEN) {
		memset(f, 0, sizeof(*f));
		return ERR_TOO_BIG;
	}
	/* Each fragment holds at least one byte (an empty message is one
	 * empty fragment); the store checks at reassembly that the pieces
	 * add up to total_len and hash to the message hash. */
	if (f->count == 0 || f->index >= f->count || f->count > MAX(f->total_len, 1) ||
	    f->chunk_len > f->total_len || (f->chunk_len == 0 && f->total_len != 0))
		rbuf_fail(&r);
	rbuf_zeros(&r, r.left);
	rc = rbuf_done(&r);
	if (rc != 0)
		memset(f, 0, sizeof(*f));
	return rc;
}

bool
frag_same_message(const struct frag *a, const struct frag *b)
{
	if (sodium_memcmp(a->msg_id, b->msg_id, MSG_ID_LEN) != 0 || a->flags != b->flags ||
	    a->count != b->count || a->total_len != b->total_len ||
	    sodium_memcmp(a->hash, b->hash, MSG_HASH_LEN) != 0)
		return false;
	if (a->flags & FRAG_FLAG_SIGNED)
		return sodium_memcmp(a->sender_pk, b->sender_pk, ID_PK_LEN) == 0 &&
		       sodium_memcmp(a->sig, b->sig, ID_SIG_LEN) == 0;
	return true;
}
