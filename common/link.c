/* The link protocol state machine (docs/spec.md part 2). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/buf.h"
#include "common/keys.h"
#include "common/link.h"
#include "common/util.h"

/* "Protocol name: hashed once into h and ck before anything else." */
static const char link_protocol_name[] = "Burrow_link_v1_NK+Ed25519_25519_ChaChaPoly_BLAKE2b";
/* "Signature contexts: each role signs its label followed by h." */
static const char label_resp[] = "burrow link v1 responder signature";
static const char label_init[] = "burrow link v1 initiator signature";
#define SIG_LABEL_MAX 48
_Static_assert(sizeof(label_resp) - 1 <= SIG_LABEL_MAX && sizeof(label_init) - 1 <= SIG_LABEL_MAX,
	       "signature labels fit");

#define HS_FLAG_RELAY 0x01	/* msg1 flags: the initiator will prove a relay identity */
#define CTL_FLAG_MORE 0x01	/* record flags: another CONTROL record follows */
#define PAYLOAD1_LEN 8
#define PAYLOAD23_LEN (ID_PK_LEN + ID_SIG_LEN + crypto_secretstream_xchacha20poly1305_HEADERBYTES)
#define AEAD_TAG crypto_aead_chacha20poly1305_ietf_ABYTES
#define SS_HDR crypto_secretstream_xchacha20poly1305_HEADERBYTES
#define SS_TAG_MSG crypto_secretstream_xchacha20poly1305_TAG_MESSAGE
#define SS_TAG_FINAL crypto_secretstream_xchacha20poly1305_TAG_FINAL

_Static_assert(LINK_MSG1_LEN == 1 + X_PK_LEN + PAYLOAD1_LEN + AEAD_TAG, "msg1 size");
_Static_assert(LINK_MSG2_LEN == X_PK_LEN + PAYLOAD23_LEN + AEAD_TAG, "msg2 size");
_Static_assert(LINK_MSG3_LEN == PAYLOAD23_LEN + AEAD_TAG, "msg3 size");
_Static_assert(LINK_RECORD_LEN == LINK_PLAIN_LEN + crypto_secretstream_xchacha20poly1305_ABYTES,
	       "record size");
_Static_assert(LINK_CONTROL_MAX % LINK_BODY_LEN == 0, "control max is whole records");

enum link_state {
	ST_I_WAIT2,	/* initiator sent msg1, waits for msg2 */
	ST_R_WAIT1,	/* responder waits for msg1 */
	ST_R_WAIT3,	/* responder sent msg2, waits for msg3 */
	ST_OPEN,
	ST_DEAD		/* failed */
};

struct link {
	enum link_state state;
	bool initiator;
	bool tx_closed;		/* we sealed a CLOSE */
	bool rx_closed;		/* the peer's CLOSE arrived */
	bool peer_anon;
	const struct x_keypair *link_kp;	/* responder only */
	const struct id_keypair *self_id;	/* NULL: anonymous initiator */
	uint8_t rs[X_PK_LEN];
	uint8_t expect_id[ID_PK_LEN];
	uint8_t peer_id[ID_PK_LEN];

	/* Handshake symmetric state, wiped once the link is open. */
	uint8_t h[LINK_HASH_LEN];
	uint8_t ck[32];
	uint8_t k[32];
	uint64_t n;
	uint8_t e_sk[X_SK_LEN];
	uint8_t e_pk[X_PK_LEN];
	uint8_t re[X_PK_LEN];
	uint8_t k_rx[32];	/* key of the peer's stream until its header arrives */

	crypto_secretstream_xchacha20poly1305_state tx, rx;

	uint8_t out[LINK_MSG2_LEN];
	size_t out_len;
	uint8_t in[LINK_RECORD_LEN];	/* one partial message or record */
	size_t in_len;
	uint8_t plain[LINK_PLAIN_LEN];	/* last record opened: frames point here */
	uint8_t tx_plain[LINK_PLAIN_LEN];	/* separate, so a frame can be sent back as is */
	uint8_t ctl[LINK_CONTROL_MAX];	/* control message being reassembled */
	size_t ctl_len;
};

static void
blake2b_256(uint8_t out[static 32], const uint8_t *key, size_t keylen, const uint8_t *a,
	    size_t alen, const uint8_t *b, size_t blen)
{
	crypto_generichash_blake2b_state st;

	crypto_generichash_blake2b_init(&st, key, keylen, 32);
	crypto_generichash_blake2b_update(&st, a, alen);
	if (blen)
		crypto_generichash_blake2b_update(&st, b, blen);
	crypto_generichash_blake2b_final(&st, out, 32);
	sodium_memzero(&st, sizeof(st));
}

/* "MixHash(data): h = BLAKE2b-256(h ‖ data)." */
static void
mix_hash(struct link *l, const uint8_t *p, size_t n)
{
	blake2b_256(l->h, NULL, 0, l->h, sizeof(l->h), p, n);
}

/* "KDF2(ck, ikm): t = BLAKE2b-256(key = ck, ikm); o1 = BLAKE2b-256(key = t,
 * 0x01); o2 = BLAKE2b-256(key = t, o1 ‖ 0x02)" — HKDF with keyed BLAKE2b
 * in place of HMAC. */
static void
kdf2(const uint8_t ck[static 32], const uint8_t *ikm, size_t ikmlen, uint8_t o1[static 32],
     uint8_t o2[static 32])
{
	static const uint8_t one = 1, two = 2;
	uint8_t t[32], a[32];

	blake2b_256(t, ck, 32, ikm, ikmlen, NULL, 0);
	blake2b_256(a, t, sizeof(t), &one, 1, NULL, 0);
	blake2b_256(o2, t, sizeof(t), a, sizeof(a), &two, 1);
	memcpy(o1, a, sizeof(a));
	sodium_memzero(t, sizeof(t));
	sodium_memzero(a, sizeof(a));
}

/* "MixKey(ikm): ck, k = KDF2(ck, ikm); n = 0." */
static void
mix_key(struct link *l, const uint8_t ikm[static 32])
{
	uint8_t ck[32];

	kdf2(l->ck, ikm, 32, ck, l->k);
	memcpy(l->ck, ck, sizeof(ck));
	sodium_memzero(ck, sizeof(ck));
	l->n = 0;
}

/* DH then MixKey; a low-order point gives an all-zero secret, refused. */
static int
mix_dh(struct link *l, const uint8_t sk[static 32], const uint8_t pk[static 32])
{
	uint8_t s[32];
	int r = 0;

	if (crypto_scalarmult(s, sk, pk) != 0) {
		r = ERR_WEAK_KEY;
		goto out;
	}
	mix_key(l, s);
out:
	sodium_memzero(s, sizeof(s));
	return r;
}

static void
aead_nonce(uint8_t nonce[static 12], uint64_t n)
{
	memset(nonce, 0, 4);
	for (int i = 0; i < 8; i++)
		nonce[4 + i] = (uint8_t)(n >> (8 * i));
}

/* "EncryptAndHash(p): c = ChaCha20-Poly1305(k, n, ad = h, p); n++; MixHash(c)." */
static void
encrypt_and_hash(struct link *l, const uint8_t *p, size_t plen, uint8_t *c)
{
	uint8_t nonce[12];

	aead_nonce(nonce, l->n++);
	crypto_aead_chacha20poly1305_ietf_encrypt(c, NULL, p, plen, l->h, sizeof(l->h), NULL,
						  nonce, l->k);
	mix_hash(l, c, plen + AEAD_TAG);
}

static int
decrypt_and_hash(struct link *l, const uint8_t *c, size_t clen, uint8_t *p)
{
	uint8_t nonce[12];

	aead_nonce(nonce, l->n++);
	if (crypto_aead_chacha20poly1305_ietf_decrypt(p, NULL, NULL, c, clen, l->h, sizeof(l->h),
						      nonce, l->k) != 0)
		return ERR_AUTH;
	mix_hash(l, c, clen);
	return 0;
}

/* "Split: k_ir, k_ri = KDF2(ck, empty)." Stream keys in each direction. */
static void
split(struct link *l, uint8_t k_ir[static 32], uint8_t k_ri[static 32])
{
	kdf2(l->ck, NULL, 0, k_ir, k_ri);
}

static void
hs_begin(struct link *l, const uint8_t rs[static X_PK_LEN])
{
	static const uint8_t ver = LINK_VERSION;

	crypto_generichash_blake2b(l->h, sizeof(l->h), (const uint8_t *)link_protocol_name,
				   strlen(link_protocol_name), NULL, 0);
	memcpy(l->ck, l->h, sizeof(l->ck));
	mix_hash(l, &ver, 1);
	mix_hash(l, rs, X_PK_LEN);
}

static void
sign_h(uint8_t sig[static ID_SIG_LEN], const char *label, const uint8_t h[static LINK_HASH_LEN],
       const struct id_keypair *id)
{
	uint8_t m[SIG_LABEL_MAX + LINK_HASH_LEN];
	size_t ll = strlen(label);

	memcpy(m, label, ll);
	memcpy(m + ll, h, LINK_HASH_LEN);
	id_sign(sig, m, ll + LINK_HASH_LEN, id);
}

static int
verify_h(const uint8_t sig[static ID_SIG_LEN], const char *label,
	 const uint8_t h[static LINK_HASH_LEN], const uint8_t pk[static ID_PK_LEN])
{
	uint8_t m[SIG_LABEL_MAX + LINK_HASH_LEN];
	size_t ll = strlen(label);

	memcpy(m, label, ll);
	memcpy(m + ll, h, LINK_HASH_LEN);
	return id_verify(sig, m, ll + LINK_HASH_LEN, pk) == 0 ? 0 : ERR_AUTH;
}

static void
wipe_handshake(struct link *l)
{
	sodium_memzero(l->ck, sizeof(l->ck));
	sodium_memzero(l->k, sizeof(l->k));
	sodium_memzero(l->e_sk, sizeof(l->e_sk));
	sodium_memzero(l->k_rx, sizeof(l->k_rx));
}

static struct link *
link_alloc(void)
{
	struct link *l = xcalloc(1, sizeof(*l));

	return l;
}

int
link_new_initiator(struct link **lp, const uint8_t rs[static X_PK_LEN],
		   const uint8_t expect_id[static ID_PK_LEN], const struct id_keypair *self_id)
{
	struct link *l = link_alloc();
	uint8_t payload[PAYLOAD1_LEN] = { 0 };
	int r;

	*lp = NULL;
	l->initiator = true;
	l->state = ST_I_WAIT2;
	l->self_id = self_id;
	memcpy(l->rs, rs, X_PK_LEN);
	memcpy(l->expect_id, expect_id, ID_PK_LEN);
	randombytes_buf(l->e_sk, sizeof(l->e_sk));
	crypto_scalarmult_base(l->e_pk, l->e_sk);

	/* "-> ver, e, es, {flags ‖ 7 zero bytes}" */
	hs_begin(l, rs);
	l->out[0] = LINK_VERSION;
	memcpy(l->out + 1, l->e_pk, X_PK_LEN);
	mix_hash(l, l->e_pk, X_PK_LEN);
	if ((r = mix_dh(l, l->e_sk, rs)) != 0) {
		link_free(l);
		return r;
	}
	payload[0] = self_id ? HS_FLAG_RELAY : 0;
	encrypt_and_hash(l, payload, sizeof(payload), l->out + 1 + X_PK_LEN);
	l->out_len = LINK_MSG1_LEN;
	*lp = l;
	return 0;
}

struct link *
link_new_responder(const struct x_keypair *link_kp, const struct id_keypair *self_id)
{
	struct link *l = link_alloc();

	if (BUG(!link_kp || !self_id))
		fatal("link responder without keys");
	l->state = ST_R_WAIT1;
	l->link_kp = link_kp;
	l->self_id = self_id;
	memcpy(l->rs, link_kp->pk, X_PK_LEN);
	return l;
}

void
link_free(struct link *l)
{
	if (!l)
		return;
	sodium_memzero(l, sizeof(*l));
	free(l);
}

/* Responder: "-> ver, e, es, {flags}" in; "<- e, ee, {idR, sigR, ssR}" out. */
static int
on_msg1(struct link *l, const uint8_t *m)
{
	uint8_t payload[PAYLOAD1_LEN], out[PAYLOAD23_LEN], k_ir[32], k_ri[32];
	struct rbuf rb;
	uint8_t flags;
	int r;

	if (m[0] != LINK_VERSION)
		return ERR_UNSUPPORTED;
	hs_begin(l, l->link_kp->pk);
	memcpy(l->re, m + 1, X_PK_LEN);
	mix_hash(l, l->re, X_PK_LEN);
	if ((r = mix_dh(l, l->link_kp->sk, l->re)) != 0)
		goto out;
	if ((r = decrypt_and_hash(l, m + 1 + X_PK_LEN, PAYLOAD1_LEN + AEAD_TAG, payload)) != 0)
		goto out;
	rb = rbuf_of(payload, sizeof(payload));
	flags = rbuf_u8(&rb);
	if (flags & ~HS_FLAG_RELAY)
		rbuf_fail(&rb);
	rbuf_zeros(&rb, PAYLOAD1_LEN - 1);
	if ((r = rbuf_done(&rb)) != 0)
		goto out;
	l->peer_anon = !(flags & HS_FLAG_RELAY);

	randombytes_buf(l->e_sk, sizeof(l->e_sk));
	crypto_scalarmult_base(l->e_pk, l->e_sk);
	memcpy(l->out, l->e_pk, X_PK_LEN);
	mix_hash(l, l->e_pk, X_PK_LEN);
	if ((r = mix_dh(l, l->e_sk, l->re)) != 0)
		goto out;
	split(l, k_ir, k_ri);
	memcpy(l->k_rx, k_ir, sizeof(k_ir));
	memcpy(out, l->self_id->pk, ID_PK_LEN);
	sign_h(out + ID_PK_LEN, label_resp, l->h, l->self_id);
	crypto_secretstream_xchacha20poly1305_init_push(&l->tx, out + ID_PK_LEN + ID_SIG_LEN, k_ri);
	encrypt_and_hash(l, out, sizeof(out), l->out + X_PK_LEN);
	l->out_len = LINK_MSG2_LEN;
	sodium_memzero(l->e_sk, sizeof(l->e_sk));
	l->state = ST_R_WAIT3;
out:
	sodium_memzero(payload, sizeof(payload));
	sodium_memzero(k_ir, sizeof(k_ir));
	sodium_memzero(k_ri, sizeof(k_ri));
	return r;
}

/* Initiator: "<- e, ee, {idR, sigR, ssR}" in; "-> {idI, sigI, ssI}" out. */
static int
on_msg2(struct link *l, const uint8_t *m)
{
	uint8_t in[PAYLOAD23_LEN], out[PAYLOAD23_LEN], hsig[LINK_HASH_LEN], k_ir[32], k_ri[32];
	int r;

	memcpy(l->re, m, X_PK_LEN);
	mix_hash(l, l->re, X_PK_LEN);
	if ((r = mix_dh(l, l->e_sk, l->re)) != 0)
		goto out;
	split(l, k_ir, k_ri);
	memcpy(hsig, l->h, sizeof(hsig));
	if ((r = decrypt_and_hash(l, m + X_PK_LEN, PAYLOAD23_LEN + AEAD_TAG, in)) != 0)
		goto out;
	/* The responder must be the relay the consensus names, and must have
	 * signed this session's h; failures are not told apart. */
	if (sodium_memcmp(in, l->expect_id, ID_PK_LEN) != 0 ||
	    verify_h(in + ID_PK_LEN, label_resp, hsig, in) != 0) {
		r = ERR_AUTH;
		goto out;
	}
	memcpy(l->peer_id, in, ID_PK_LEN);
	if (crypto_secretstream_xchacha20poly1305_init_pull(&l->rx, in + ID_PK_LEN + ID_SIG_LEN,
							     k_ri) != 0) {
		r = ERR_AUTH;
		goto out;
	}

	memset(out, 0, sizeof(out));
	if (l->self_id) {
		memcpy(out, l->self_id->pk, ID_PK_LEN);
		sign_h(out + ID_PK_LEN, label_init, l->h, l->self_id);
	}
	crypto_secretstream_xchacha20poly1305_init_push(&l->tx, out + ID_PK_LEN + ID_SIG_LEN, k_ir);
	encrypt_and_hash(l, out, sizeof(out), l->out);
	l->out_len = LINK_MSG3_LEN;
	l->peer_anon = false;
	l->state = ST_OPEN;
	wipe_handshake(l);
out:
	sodium_memzero(in, sizeof(in));
	sodium_memzero(k_ir, sizeof(k_ir));
	sodium_memzero(k_ri, sizeof(k_ri));
	return r;
}

/* Responder: "-> {idI, sigI, ssI}" in; zeros for idI and sigI if anonymous. */
static int
on_msg3(struct link *l, const uint8_t *m)
{
	uint8_t in[PAYLOAD23_LEN], hsig[LINK_HASH_LEN];
	int r;

	memcpy(hsig, l->h, sizeof(hsig));
	if ((r = decrypt_and_hash(l, m, LINK_MSG3_LEN, in)) != 0)
		goto out;
	if (l->peer_anon) {
		if (!sodium_is_zero(in, ID_PK_LEN + ID_SIG_LEN)) {
			r = ERR_MALFORMED;
			goto out;
		}
	} else if (verify_h(in + ID_PK_LEN, label_init, hsig, in) != 0) {
		r = ERR_AUTH;
		goto out;
	}
	memcpy(l->peer_id, in, ID_PK_LEN);
	if (crypto_secretstream_xchacha20poly1305_init_pull(&l->rx, in + ID_PK_LEN + ID_SIG_LEN,
							     l->k_rx) != 0) {
		r = ERR_AUTH;
		goto out;
	}
	l->state = ST_OPEN;
	wipe_handshake(l);
out:
	sodium_memzero(in, sizeof(in));
	return r;
}

/* "Record plaintext: type(1) ‖ flags(1) ‖ length(2, big-endian) ‖ body
 * (length bytes) ‖ zeros to 2,052 bytes; FINAL tag on CLOSE only." */
static int
on_record(struct link *l, const uint8_t *c, enum link_event *ev, struct link_frame *fr)
{
	unsigned char tag;
	struct rbuf rb;
	uint8_t type, flags;
	uint16_t len;
	const uint8_t *body;

	if (crypto_secretstream_xchacha20poly1305_pull(&l->rx, l->plain, NULL, &tag, c,
						       LINK_RECORD_LEN, NULL, 0) != 0)
		return ERR_AUTH;
	rb = rbuf_of(l->plain, sizeof(l->plain));
	type = rbuf_u8(&rb);
	flags = rbuf_u8(&rb);
	len = rbuf_u16(&rb);
	if (len > LINK_BODY_LEN)
		return ERR_MALFORMED;
	body = rbuf_view(&rb, len);
	rbuf_zeros(&rb, LINK_BODY_LEN - len);
	if (rbuf_done(&rb) != 0)
		return ERR_MALFORMED;
	if ((tag == SS_TAG_FINAL) != (type == LINK_FRAME_CLOSE) ||
	    (tag != SS_TAG_FINAL && tag != SS_TAG_MSG))
		return ERR_MALFORMED;
	if (l->ctl_len && type != LINK_FRAME_CONTROL)
		return ERR_MALFORMED;	/* control records are never interleaved */

	memset(fr, 0, sizeof(*fr));
	switch (type) {
	case LINK_FRAME_PACKET:
		if (flags || len != LINK_PACKET_LEN)
			return ERR_MALFORMED;
		break;
	case LINK_FRAME_KEEPALIVE:
		if (flags || len != 0)
			return ERR_MALFORMED;
		break;
	case LINK_FRAME_CLOSE:
		if (flags || len != 1)
			return ERR_MALFORMED;
		fr->close_reason = body[0];
		l->rx_closed = true;
		break;
	case LINK_FRAME_CONTROL:
		if (flags & ~CTL_FLAG_MORE)
			return ERR_MALFORMED;
		if ((flags & CTL_FLAG_MORE) && len != LINK_BODY_LEN)
			return ERR_MALFORMED;
		if (l->ctl_len + len > LINK_CONTROL_MAX)
			return ERR_TOO_BIG;
		if (!(flags & CTL_FLAG_MORE) && l->ctl_len == 0)
			break;	/* a one-record message: no copy */
		memcpy(l->ctl + l->ctl_len, body, len);
		l->ctl_len += len;
		if (flags & CTL_FLAG_MORE) {
			*ev = LINK_EV_NONE;
			return 0;
		}
		fr->type = LINK_FRAME_CONTROL;
		fr->data = l->ctl;
		fr->len = l->ctl_len;
		l->ctl_len = 0;
		*ev = LINK_EV_FRAME;
		return 0;
	default:
		return ERR_MALFORMED;
	}
	fr->type = type;
	fr->data = body;
	fr->len = len;
	*ev = LINK_EV_FRAME;
	return 0;
}

static size_t
need_of(const struct link *l)
{
	switch (l->state) {
	case ST_R_WAIT1:
		return LINK_MSG1_LEN;
	case ST_I_WAIT2:
		return LINK_MSG2_LEN;
	case ST_R_WAIT3:
		return LINK_MSG3_LEN;
	case ST_OPEN:
		return l->rx_closed ? 0 : LINK_RECORD_LEN;
	case ST_DEAD:
		break;
	}
	return 0;
}

size_t
link_want(const struct link *l)
{
	size_t need = need_of(l);

	return need ? need - l->in_len : 0;
}

static int
process(struct link *l, const uint8_t *m, enum link_event *ev, struct link_frame *fr)
{
	int r;

	switch (l->state) {
	case ST_R_WAIT1:
		if ((r = on_msg1(l, m)) == 0)
			*ev = LINK_EV_OUTPUT;
		return r;
	case ST_I_WAIT2:
		if ((r = on_msg2(l, m)) == 0)
			*ev = LINK_EV_ESTABLISHED;
		return r;
	case ST_R_WAIT3:
		if ((r = on_msg3(l, m)) == 0)
			*ev = LINK_EV_ESTABLISHED;
		return r;
	case ST_OPEN:
		return on_record(l, m, ev, fr);
	case ST_DEAD:
		break;
	}
	return ERR_CLOSED;
}

int
link_feed(struct link *l, const uint8_t *in, size_t len, size_t *used, enum link_event *ev,
	  struct link_frame *fr)
{
	size_t need = need_of(l), take;
	int r;

	*used = 0;
	*ev = LINK_EV_NONE;
	memset(fr, 0, sizeof(*fr));
	if (need == 0)
		return ERR_CLOSED;
	if (l->in_len == 0 && len >= need) {
		/* Fast path: a whole message in the caller's buffer, no copy. */
		*used = need;
		r = process(l, in, ev, fr);
	} else {
		take = MIN(need - l->in_len, len);
		if (take)
			memcpy(l->in + l->in_len, in, take);
		l->in_len += take;
		*used = take;
		if (l->in_len < need)
			return 0;
		l->in_len = 0;
		r = process(l, l->in, ev, fr);
	}
	if (r != 0) {
		l->state = ST_DEAD;
		l->out_len = 0;
		l->ctl_len = 0;
		wipe_handshake(l);
		*ev = LINK_EV_NONE;
		memset(fr, 0, sizeof(*fr));
	}
	return r;
}

const uint8_t *
link_output(struct link *l, size_t *len)
{
	*len = l->out_len;
	l->out_len = 0;
	return *len ? l->out : NULL;
}

static int
seal(struct link *l, uint8_t type, uint8_t flags, const uint8_t *body, size_t len,
     uint8_t out[static LINK_RECORD_LEN])
{
	uint8_t *p = l->tx_plain;

	if (l->tx_closed || l->state != ST_OPEN)
		return ERR_CLOSED;
	if (BUG(len > LINK_BODY_LEN))
		return ERR_INTERNAL;
	p[0] = type;
	p[1] = flags;
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
	if (len)
		memcpy(p + 4, body, len);
	memset(p + 4 + len, 0, LINK_BODY_LEN - len);
	crypto_secretstream_xchacha20poly1305_push(&l->tx, out, NULL, p, LINK_PLAIN_LEN, NULL, 0,
						   type == LINK_FRAME_CLOSE ? SS_TAG_FINAL :
									      SS_TAG_MSG);
	return 0;
}

int
link_send_packet(struct link *l, const uint8_t pkt[static LINK_PACKET_LEN],
		 uint8_t out[static LINK_RECORD_LEN])
{
	return seal(l, LINK_FRAME_PACKET, 0, pkt, LINK_PACKET_LEN, out);
}

int
link_send_keepalive(struct link *l, uint8_t out[static LINK_RECORD_LEN])
{
	return seal(l, LINK_FRAME_KEEPALIVE, 0, NULL, 0, out);
}

int
link_send_close(struct link *l, uint8_t reason, uint8_t out[static LINK_RECORD_LEN])
{
	int r = seal(l, LINK_FRAME_CLOSE, 0, &reason, 1, out);

	if (r == 0)
		l->tx_closed = true;
	return r;
}

size_t
link_control_records(size_t len)
{
	return len == 0 ? 1 : (len + LINK_BODY_LEN - 1) / LINK_BODY_LEN;
}

int
link_send_control(struct link *l, const uint8_t *p, size_t len, uint8_t *out, size_t cap,
		  size_t *outlen)
{
	size_t nrec = link_control_records(len), off = 0;
	int r;

	*outlen = 0;
	if (len > LINK_CONTROL_MAX || cap / LINK_RECORD_LEN < nrec)
		return ERR_TOO_BIG;
	for (size_t i = 0; i < nrec; i++) {
		size_t n = MIN(len - off, (size_t)LINK_BODY_LEN);
		bool more = i + 1 < nrec;

		if ((r = seal(l, LINK_FRAME_CONTROL, more ? CTL_FLAG_MORE : 0, p + off, n,
			      out + i * LINK_RECORD_LEN)) != 0)
			return r;
		off += n;
	}
	*outlen = nrec * LINK_RECORD_LEN;
	return 0;
}

int
link_seal_raw(struct link *l, const uint8_t plain[static LINK_PLAIN_LEN], bool final,
	      uint8_t out[static LINK_RECORD_LEN])
{
	if (l->tx_closed || l->state != ST_OPEN)
		return ERR_CLOSED;
	crypto_secretstream_xchacha20poly1305_push(&l->tx, out, NULL, plain, LINK_PLAIN_LEN, NULL,
						   0, final ? SS_TAG_FINAL : SS_TAG_MSG);
	return 0;
}

bool
link_is_established(const struct link *l)
{
	return l->state == ST_OPEN;
}

bool
link_is_initiator(const struct link *l)
{
	return l->initiator;
}

bool
link_is_dead(const struct link *l)
{
	return l->state == ST_DEAD || l->tx_closed || l->rx_closed;
}

int
link_peer_identity(const struct link *l, uint8_t id_pk[static ID_PK_LEN])
{
	memset(id_pk, 0, ID_PK_LEN);
	if (l->state != ST_OPEN)
		return ERR_CLOSED;
	if (l->peer_anon)
		return ERR_NOT_FOUND;
	memcpy(id_pk, l->peer_id, ID_PK_LEN);
	return 0;
}

bool
link_peer_is_anonymous(const struct link *l)
{
	return l->state == ST_OPEN && l->peer_anon;
}

int
link_handshake_hash(const struct link *l, uint8_t h[static LINK_HASH_LEN])
{
	memset(h, 0, LINK_HASH_LEN);
	if (l->state != ST_OPEN)
		return ERR_CLOSED;
	memcpy(h, l->h, LINK_HASH_LEN);
	return 0;
}
