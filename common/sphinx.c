/* Sphinx packets; the format and its reasons are docs/spec.md part 1. */
#include "common/sphinx.h"

#include <string.h>

#include <sodium.h>

#include "common/buf.h"
#include "common/lioness.h"
#include "common/util.h"

/* spec §4: "master = H_"burrow-sphx-mk01"(s ‖ α ‖ Y, 32)",
 * "k_mac = KDF(master, 1, 32, "burrowsx")" and so on for ids 2..6. */
static const uint8_t master_personal[16] = "burrow-sphx-mk01";
static const uint8_t depid_personal[16] = "burrow-sphx-did1";
static const char kdf_ctx[crypto_kdf_CONTEXTBYTES] = "burrowsx";
/* SURB payload keys come from the random SURB key under their own context. */
static const char kdf_ctx_surb[crypto_kdf_CONTEXTBYTES] = "burrowsr";

enum kdf_id {
	KDF_MAC = 1,		/* 32: header MAC key */
	KDF_HDR = 2,		/* 32: header stream key */
	KDF_BLIND = 3,		/* 32: blinding factor */
	KDF_TAG = 4,		/* 16: replay tag */
	KDF_LION_A = 5,		/* 64: LIONESS k1 ‖ k2 */
	KDF_LION_B = 6,		/* 64: LIONESS k3 ‖ k4 */
};

#define MACED_LEN (SPHINX_AD_LEN + SPHINX_ALPHA_LEN + SPHINX_BETA_LEN)	/* 354 */
#define OFF_ALPHA SPHINX_AD_LEN
#define OFF_BETA (OFF_ALPHA + SPHINX_ALPHA_LEN)
#define OFF_MAC (OFF_BETA + SPHINX_BETA_LEN)
#define STREAM_LEN (SPHINX_BETA_LEN + SPHINX_SLOT_LEN)			/* 384 */

/* Routing slot fields (64 bytes; see the spec's slot tables). */
#define RELAY_RESERVED 10	/* cmd 1, flags 1, delay 4, next id 32, next MAC 16 */
#define DELIVER_RESERVED 14	/* cmd 1, flags 1, mailbox id 32, msg id 16 */
#define SLOT_OFF_NEXT_MAC 38

static const uint8_t zero_nonce[crypto_stream_chacha20_NONCEBYTES];

/* ---- randomness: libsodium's RNG, or a seeded ChaCha20 stream (tests) ---- */

struct rng {
	const uint8_t *seed;	/* NULL: randombytes_buf */
	uint64_t n;
};

static void
rng_fill(struct rng *g, void *out, size_t len)
{
	uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];

	if (!len)
		return;
	if (!g->seed) {
		randombytes_buf(out, len);
		return;
	}
	for (size_t i = 0; i < sizeof(nonce); i++)
		nonce[i] = (uint8_t)(g->n >> (8 * i));
	g->n++;
	crypto_stream_chacha20(out, len, nonce, g->seed);
}

/* ---- key schedule ---- */

static void
kdf(uint8_t *out, size_t len, enum kdf_id id, const uint8_t master[static 32])
{
	if (crypto_kdf_derive_from_key(out, len, id, kdf_ctx, master) != 0)
		fatal("crypto_kdf_derive_from_key failed");
}

static void
master_of(uint8_t master[static 32], const uint8_t s[static 32], const uint8_t alpha[static 32],
	  const uint8_t pk[static 32])
{
	uint8_t in[96];

	memcpy(in, s, 32);
	memcpy(in + 32, alpha, 32);
	memcpy(in + 64, pk, 32);
	crypto_generichash_blake2b_salt_personal(master, 32, in, sizeof(in), NULL, 0, NULL,
						 master_personal);
	sodium_memzero(in, sizeof(in));
}

static void
lioness_key(uint8_t key[static LIONESS_KEY_LEN], const uint8_t master[static 32])
{
	kdf(key, 64, KDF_LION_A, master);
	kdf(key + 64, 64, KDF_LION_B, master);
}

static void
surb_lioness_key(uint8_t key[static LIONESS_KEY_LEN], const uint8_t k[static 32])
{
	if (crypto_kdf_derive_from_key(key, 64, KDF_LION_A, kdf_ctx_surb, k) != 0 ||
	    crypto_kdf_derive_from_key(key + 64, 64, KDF_LION_B, kdf_ctx_surb, k) != 0)
		fatal("crypto_kdf_derive_from_key failed");
}

static void
header_mac(uint8_t mac[static SPHINX_MAC_LEN], const uint8_t maced[static MACED_LEN],
	   const uint8_t master[static 32])
{
	uint8_t k[32];

	kdf(k, sizeof(k), KDF_MAC, master);
	crypto_generichash(mac, SPHINX_MAC_LEN, maced, MACED_LEN, k, sizeof(k));
	sodium_memzero(k, sizeof(k));
}

static void
xor_into(uint8_t *dst, const uint8_t *src, size_t n)
{
	for (size_t i = 0; i < n; i++)
		dst[i] ^= src[i];
}

/* ---- building headers (sender, SURB creator) ---- */

/* Secrets of one path while it is built; wiped by path_clear. Hop n (n =
 * number of node hops) is the recipient. */
struct path {
	size_t n;
	uint8_t x[32];
	uint8_t alpha[SPHINX_MAX_HOPS + 1][32];
	uint8_t blind[SPHINX_MAX_HOPS][32];
	uint8_t master[SPHINX_MAX_HOPS + 1][32];
	uint8_t stream[SPHINX_MAX_HOPS][STREAM_LEN];
};

static void
path_clear(struct path *p)
{
	sodium_memzero(p, sizeof(*p));
}

/* spec §4: "s_i = X25519(b_{i-1}, … X25519(b_0, X25519(x, Y_i)))",
 * "α_{i+1} = X25519(b_i, α_i)" */
static int
path_keys(struct path *p, const struct sphinx_hop *hops, size_t n,
	  const uint8_t recipient_pk[static 32], struct rng *g)
{
	uint8_t s[32], t[32];
	int r = 0;

	p->n = n;
	rng_fill(g, p->x, sizeof(p->x));
	if (crypto_scalarmult_base(p->alpha[0], p->x) != 0) {
		r = ERR_INTERNAL;
		goto out;
	}
	for (size_t i = 0; i <= n; i++) {
		const uint8_t *pk = i < n ? hops[i].node_pk : recipient_pk;
		uint8_t khdr[32];

		if (crypto_scalarmult(s, p->x, pk) != 0) {
			r = ERR_WEAK_KEY;
			goto out;
		}
		for (size_t j = 0; j < i; j++) {
			if (crypto_scalarmult(t, p->blind[j], s) != 0) {
				r = ERR_WEAK_KEY;
				goto out;
			}
			memcpy(s, t, sizeof(s));
		}
		master_of(p->master[i], s, p->alpha[i], pk);
		if (i == n)
			break;
		kdf(p->blind[i], 32, KDF_BLIND, p->master[i]);
		if (crypto_scalarmult(p->alpha[i + 1], p->blind[i], p->alpha[i]) != 0) {
			r = ERR_WEAK_KEY;
			goto out;
		}
		kdf(khdr, sizeof(khdr), KDF_HDR, p->master[i]);
		crypto_stream_chacha20(p->stream[i], STREAM_LEN, zero_nonce, khdr);
		sodium_memzero(khdr, sizeof(khdr));
	}
out:
	sodium_memzero(s, sizeof(s));
	sodium_memzero(t, sizeof(t));
	return r;
}

/* Build AD ‖ α_0 ‖ β_0 ‖ γ_0 from the plaintext slots (n of them). */
static void
build_header(uint8_t hdr[static SPHINX_HEADER_LEN], const struct path *p,
	     const uint8_t slots_in[][SPHINX_SLOT_LEN], struct rng *g)
{
	uint8_t maced[MACED_LEN], filler[SPHINX_BETA_LEN], slot[SPHINX_SLOT_LEN];
	uint8_t mac[SPHINX_MAC_LEN];
	uint8_t *beta = maced + OFF_BETA;
	size_t n = p->n, flen = 0, head;

	/* spec: "φ_0 is empty; φ_i = (φ_{i-1} ‖ 0^64) ⊕ S_{i-1}[384 - 64i .. 384)" */
	for (size_t i = 1; i < n; i++) {
		memset(filler + flen, 0, SPHINX_SLOT_LEN);
		flen += SPHINX_SLOT_LEN;
		xor_into(filler, p->stream[i - 1] + STREAM_LEN - flen, flen);
	}
	maced[0] = SPHINX_VERSION >> 8;
	maced[1] = SPHINX_VERSION & 0xff;

	/* spec: "β_{n-1} = ((slot_{n-1} ‖ random) ⊕ S_{n-1}[0 .. 320 - 64(n-1))) ‖ φ_{n-1}" */
	head = SPHINX_BETA_LEN - flen;
	memcpy(beta, slots_in[n - 1], SPHINX_SLOT_LEN);
	rng_fill(g, beta + SPHINX_SLOT_LEN, head - SPHINX_SLOT_LEN);
	xor_into(beta, p->stream[n - 1], head);
	memcpy(beta + head, filler, flen);
	memcpy(maced + OFF_ALPHA, p->alpha[n - 1], 32);
	header_mac(mac, maced, p->master[n - 1]);

	/* spec: "β_i = (slot_i ‖ β_{i+1}[0 .. 256)) ⊕ S_i[0 .. 320)" */
	for (size_t i = n - 1; i-- > 0;) {
		memcpy(slot, slots_in[i], SPHINX_SLOT_LEN);
		memcpy(slot + SLOT_OFF_NEXT_MAC, mac, SPHINX_MAC_LEN);
		memmove(beta + SPHINX_SLOT_LEN, beta, SPHINX_BETA_LEN - SPHINX_SLOT_LEN);
		memcpy(beta, slot, SPHINX_SLOT_LEN);
		xor_into(beta, p->stream[i], SPHINX_BETA_LEN);
		memcpy(maced + OFF_ALPHA, p->alpha[i], 32);
		header_mac(mac, maced, p->master[i]);
	}
	memcpy(hdr, maced, MACED_LEN);
	memcpy(hdr + OFF_MAC, mac, SPHINX_MAC_LEN);
	sodium_memzero(filler, sizeof(filler));
	sodium_memzero(slot, sizeof(slot));
}

static void
put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* The plaintext slots of a path: RELAY to hops[i+1], then DELIVER. */
static void
encode_slots(uint8_t slots[][SPHINX_SLOT_LEN], const struct sphinx_hop *hops, size_t n,
	     const struct sphinx_dest *dest, bool ack)
{
	memset(slots, 0, n * SPHINX_SLOT_LEN);
	for (size_t i = 0; i + 1 < n; i++) {
		slots[i][0] = SPHINX_CMD_RELAY;
		put_u32(slots[i] + 2, hops[i].delay_ms);
		memcpy(slots[i] + 6, hops[i + 1].node_id, SPHINX_ID_LEN);
	}
	slots[n - 1][0] = SPHINX_CMD_DELIVER;
	slots[n - 1][1] = ack ? SPHINX_DELIVER_F_ACK : 0;
	memcpy(slots[n - 1] + 2, dest->mailbox_id, SPHINX_ID_LEN);
	memcpy(slots[n - 1] + 34, dest->msg_id, SPHINX_MSG_ID_LEN);
}

/* Wrap the last node's view of the payload in the node hops' layers. */
static int
wrap_payload(uint8_t pl[static SPHINX_PAYLOAD_LEN], const struct path *p)
{
	uint8_t k[LIONESS_KEY_LEN];
	int r = 0;

	for (size_t i = p->n; i-- > 0 && r == 0;) {
		lioness_key(k, p->master[i]);
		r = lioness_encrypt(pl, SPHINX_PAYLOAD_LEN, k);
	}
	sodium_memzero(k, sizeof(k));
	return r;
}

static int
create(uint8_t pkt[static SPHINX_PACKET_LEN], const struct sphinx_hop *hops, size_t nhops,
       const struct sphinx_dest *dest, const struct sphinx_surb *ack, const uint8_t *msg,
       size_t msg_len, struct rng *g)
{
	uint8_t slots[SPHINX_MAX_HOPS][SPHINX_SLOT_LEN], k[LIONESS_KEY_LEN];
	uint8_t *pl = pkt + SPHINX_HEADER_LEN, *inner = pl;
	size_t inner_len = SPHINX_PAYLOAD_LEN;
	struct path p;
	int r;

	if (nhops < 1 || nhops > SPHINX_MAX_HOPS)
		return ERR_RANGE;
	if (msg_len > (ack ? SPHINX_MSG_ACK_LEN : SPHINX_MSG_LEN) || (msg_len && !msg))
		return ERR_TOO_BIG;
	r = path_keys(&p, hops, nhops, dest->recipient_pk, g);
	if (r)
		goto out;
	encode_slots(slots, hops, nhops, dest, ack != NULL);
	build_header(pkt, &p, (const uint8_t (*)[SPHINX_SLOT_LEN])slots, g);

	/* spec §8: "δ_n = LIONESS_{k_lion,R}(0^16 ‖ msg ‖ 0-pad)", or with an
	 * ACK "δ_n = 0^16 ‖ SURB_ack (434) ‖ LIONESS_{k_lion,R}(0^16 ‖ msg ‖ 0-pad)" */
	if (ack) {
		memset(pl, 0, SPHINX_ZERO_TAG_LEN);
		sphinx_surb_encode(pl + SPHINX_ZERO_TAG_LEN, ack);
		inner = pl + SPHINX_ACK_LAYER_LEN;
		inner_len -= SPHINX_ACK_LAYER_LEN;
	}
	memset(inner, 0, inner_len);
	if (msg_len)
		memcpy(inner + SPHINX_ZERO_TAG_LEN, msg, msg_len);
	lioness_key(k, p.master[nhops]);
	r = lioness_encrypt(inner, inner_len, k);
	if (r == 0)
		r = wrap_payload(pl, &p);
out:
	if (r)
		sodium_memzero(pkt, SPHINX_PACKET_LEN);
	path_clear(&p);
	sodium_memzero(k, sizeof(k));
	sodium_memzero(slots, sizeof(slots));
	return r;
}

int
sphinx_create(uint8_t pkt[static SPHINX_PACKET_LEN], const struct sphinx_hop *hops, size_t nhops,
	      const struct sphinx_dest *dest, const struct sphinx_surb *ack, const uint8_t *msg,
	      size_t msg_len)
{
	struct rng g = { NULL, 0 };

	return create(pkt, hops, nhops, dest, ack, msg, msg_len, &g);
}

int
sphinx_create_det(uint8_t pkt[static SPHINX_PACKET_LEN], const struct sphinx_hop *hops,
		  size_t nhops, const struct sphinx_dest *dest, const struct sphinx_surb *ack,
		  const uint8_t *msg, size_t msg_len, const uint8_t seed[static 32])
{
	struct rng g = { seed, 0 };

	return create(pkt, hops, nhops, dest, ack, msg, msg_len, &g);
}

int
sphinx_test_create_slots(uint8_t pkt[static SPHINX_PACKET_LEN], const struct sphinx_hop *hops,
			 size_t nhops, const uint8_t recipient_pk[static SPHINX_KEY_LEN],
			 const uint8_t slots[][SPHINX_SLOT_LEN],
			 const uint8_t payload[static SPHINX_PAYLOAD_LEN],
			 const uint8_t seed[static 32])
{
	struct rng g = { seed, 0 };
	struct path p;
	int r;

	if (nhops < 1 || nhops > SPHINX_MAX_HOPS)
		return ERR_RANGE;
	r = path_keys(&p, hops, nhops, recipient_pk, &g);
	if (r == 0) {
		build_header(pkt, &p, slots, &g);
		memcpy(pkt + SPHINX_HEADER_LEN, payload, SPHINX_PAYLOAD_LEN);
		r = wrap_payload(pkt + SPHINX_HEADER_LEN, &p);
	}
	path_clear(&p);
	return r;
}

/* ---- relay ---- */

static int
parse_slot(struct sphinx_result *out, const uint8_t slot[static SPHINX_SLOT_LEN])
{
	struct rbuf r = rbuf_of(slot, SPHINX_SLOT_LEN);
	uint8_t cmd = rbuf_u8(&r), flags = rbuf_u8(&r);

	/* spec: "unknown commands, unknown flags and non-zero reserved bytes: drop" */
	switch (cmd) {
	case SPHINX_CMD_RELAY:
		if (flags != 0)
			return ERR_UNSUPPORTED;
		out->cmd = SPHINX_CMD_RELAY;
		out->delay_ms = rbuf_u32(&r);
		rbuf_copy(&r, out->next_id, SPHINX_ID_LEN);
		(void)rbuf_view(&r, SPHINX_MAC_LEN);	/* next γ, used by the caller */
		rbuf_zeros(&r, RELAY_RESERVED);
		break;
	case SPHINX_CMD_DELIVER:
		if (flags & ~SPHINX_DELIVER_F_ACK)
			return ERR_UNSUPPORTED;
		out->cmd = SPHINX_CMD_DELIVER;
		out->has_ack = (flags & SPHINX_DELIVER_F_ACK) != 0;
		rbuf_copy(&r, out->mailbox_id, SPHINX_ID_LEN);
		rbuf_copy(&r, out->msg_id, SPHINX_MSG_ID_LEN);
		rbuf_zeros(&r, DELIVER_RESERVED);
		break;
	default:
		return ERR_UNSUPPORTED;
	}
	return rbuf_done(&r);
}

int
sphinx_unwrap(struct sphinx_result *out, uint8_t *pkt, size_t len,
	      const uint8_t sk[static SPHINX_KEY_LEN], const uint8_t pk[static SPHINX_KEY_LEN])
{
	uint8_t s[32], master[32], k[32], mac[SPHINX_MAC_LEN], b[STREAM_LEN];
	uint8_t alpha2[32], lk[LIONESS_KEY_LEN];
	uint8_t *alpha = pkt + OFF_ALPHA, *pl = pkt + SPHINX_HEADER_LEN;
	int r;

	out->cmd = 0;
	out->has_ack = false;
	out->deposit_len = 0;
	if (len < SPHINX_PACKET_LEN)
		return ERR_TRUNCATED;
	if (len > SPHINX_PACKET_LEN)
		return ERR_TRAILING;
	if (pkt[0] != SPHINX_VERSION >> 8 || pkt[1] != (SPHINX_VERSION & 0xff))
		return ERR_UNSUPPORTED;

	/* spec §7: "s = X25519(y, α); all-zero → drop (ERR_WEAK_KEY)" */
	if (crypto_scalarmult(s, sk, alpha) != 0) {
		r = ERR_WEAK_KEY;
		goto out;
	}
	master_of(master, s, alpha, pk);
	/* spec: "the MAC is checked before anything else is done with the packet" */
	header_mac(mac, pkt, master);
	if (crypto_verify_16(mac, pkt + OFF_MAC) != 0) {
		r = ERR_AUTH;
		goto out;
	}
	kdf(out->replay_tag, SPHINX_REPLAY_TAG_LEN, KDF_TAG, master);

	/* spec: "B = (β ‖ 0^64) ⊕ ChaCha20(k_hdr, 384); the slot is B[0..64)" */
	kdf(k, sizeof(k), KDF_HDR, master);
	memcpy(b, pkt + OFF_BETA, SPHINX_BETA_LEN);
	memset(b + SPHINX_BETA_LEN, 0, SPHINX_SLOT_LEN);
	crypto_stream_chacha20_xor(b, b, STREAM_LEN, zero_nonce, k);
	r = parse_slot(out, b);
	if (r)
		goto out;

	kdf(k, sizeof(k), KDF_BLIND, master);
	if (crypto_scalarmult(alpha2, k, alpha) != 0) {
		r = ERR_WEAK_KEY;
		goto out;
	}
	lioness_key(lk, master);
	r = lioness_decrypt(pl, SPHINX_PAYLOAD_LEN, lk);
	if (r)
		goto out;

	if (out->cmd == SPHINX_CMD_RELAY) {
		memcpy(alpha, alpha2, 32);
		memcpy(pkt + OFF_BETA, b + SPHINX_SLOT_LEN, SPHINX_BETA_LEN);
		memcpy(pkt + OFF_MAC, b + SLOT_OFF_NEXT_MAC, SPHINX_MAC_LEN);
		goto out;
	}
	/* DELIVER. spec: "with the ACK flag the last node checks the zero tag,
	 * reads the SURB, and stores α' ‖ the rest" */
	memcpy(out->deposit, alpha2, 32);
	if (out->has_ack) {
		if (!sodium_is_zero(pl, SPHINX_ZERO_TAG_LEN)) {
			r = ERR_AUTH;
			goto out;
		}
		if (sphinx_surb_parse(&out->ack, pl + SPHINX_ZERO_TAG_LEN, SPHINX_SURB_LEN) != 0) {
			r = ERR_MALFORMED;
			goto out;
		}
		pl += SPHINX_ACK_LAYER_LEN;
		out->deposit_len = SPHINX_DEPOSIT_ACK_LEN;
	} else {
		out->deposit_len = SPHINX_DEPOSIT_LEN;
	}
	memcpy(out->deposit + 32, pl, out->deposit_len - 32);
out:
	if (r) {
		out->cmd = 0;
		out->has_ack = false;
		out->deposit_len = 0;
		memset(out->replay_tag, 0, sizeof(out->replay_tag));
	}
	sodium_memzero(s, sizeof(s));
	sodium_memzero(master, sizeof(master));
	sodium_memzero(k, sizeof(k));
	sodium_memzero(b, sizeof(b));
	sodium_memzero(lk, sizeof(lk));
	return r;
}

/* ---- recipient ---- */

int
sphinx_deposit_parse(struct sphinx_deposit *d, const uint8_t *entry, size_t len)
{
	d->alpha = d->body = NULL;
	d->body_len = 0;
	if (len > SPHINX_DEPOSIT_LEN)
		return ERR_TRAILING;
	if (len != SPHINX_DEPOSIT_LEN && len != SPHINX_DEPOSIT_ACK_LEN)
		return ERR_TRUNCATED;
	d->alpha = entry;
	d->body = entry + SPHINX_ALPHA_LEN;
	d->body_len = len - SPHINX_ALPHA_LEN;
	return 0;
}

int
sphinx_deposit_id(uint8_t id[static SPHINX_DEPOSIT_ID_LEN], const uint8_t *entry, size_t len)
{
	struct sphinx_deposit d;
	int r = sphinx_deposit_parse(&d, entry, len);

	memset(id, 0, SPHINX_DEPOSIT_ID_LEN);
	if (r)
		return r;
	crypto_generichash_blake2b_salt_personal(id, SPHINX_DEPOSIT_ID_LEN, d.alpha,
						 SPHINX_ALPHA_LEN, NULL, 0, NULL, depid_personal);
	return 0;
}

/* Check the zero tag of a decrypted block and copy out what follows it. */
static int
take_msg(uint8_t *msg_out, size_t *msg_len, const uint8_t *block, size_t block_len)
{
	if (!sodium_is_zero(block, SPHINX_ZERO_TAG_LEN))
		return ERR_AUTH;
	*msg_len = block_len - SPHINX_ZERO_TAG_LEN;
	memcpy(msg_out, block + SPHINX_ZERO_TAG_LEN, *msg_len);
	return 0;
}

int
sphinx_open(uint8_t msg_out[static SPHINX_MSG_LEN], size_t *msg_len, const uint8_t *entry,
	    size_t entry_len, const uint8_t sk[static SPHINX_KEY_LEN],
	    const uint8_t pk[static SPHINX_KEY_LEN])
{
	uint8_t s[32], master[32], lk[LIONESS_KEY_LEN], body[SPHINX_PAYLOAD_LEN];
	struct sphinx_deposit d;
	int r;

	*msg_len = 0;
	memset(msg_out, 0, SPHINX_MSG_LEN);
	r = sphinx_deposit_parse(&d, entry, entry_len);
	if (r)
		return r;
	/* spec §9: "the hidden hop: s = X25519(x_R, α_n)" */
	if (crypto_scalarmult(s, sk, d.alpha) != 0) {
		r = ERR_WEAK_KEY;
		goto out;
	}
	master_of(master, s, d.alpha, pk);
	lioness_key(lk, master);
	memcpy(body, d.body, d.body_len);
	r = lioness_decrypt(body, d.body_len, lk);
	if (r == 0)
		r = take_msg(msg_out, msg_len, body, d.body_len);
out:
	if (r) {
		*msg_len = 0;
		sodium_memzero(msg_out, SPHINX_MSG_LEN);
	}
	sodium_memzero(s, sizeof(s));
	sodium_memzero(master, sizeof(master));
	sodium_memzero(lk, sizeof(lk));
	sodium_memzero(body, sizeof(body));
	return r;
}

/* ---- SURBs ---- */

static int
surb_create(struct sphinx_surb *surb, struct sphinx_surb_secret *sec,
	    const struct sphinx_hop *hops, size_t nhops, const struct sphinx_dest *dest,
	    struct rng *g)
{
	uint8_t slots[SPHINX_MAX_HOPS][SPHINX_SLOT_LEN];
	struct path p;
	int r;

	memset(surb, 0, sizeof(*surb));
	sphinx_surb_secret_clear(sec);
	if (nhops < 1 || nhops > SPHINX_MAX_HOPS)
		return ERR_RANGE;
	r = path_keys(&p, hops, nhops, dest->recipient_pk, g);
	if (r)
		goto out;
	encode_slots(slots, hops, nhops, dest, false);
	build_header(surb->header, &p, (const uint8_t (*)[SPHINX_SLOT_LEN])slots, g);
	memcpy(surb->first_hop, hops[0].node_id, SPHINX_ID_LEN);
	rng_fill(g, surb->key, sizeof(surb->key));

	crypto_generichash_blake2b_salt_personal(sec->id, SPHINX_DEPOSIT_ID_LEN, p.alpha[nhops],
						 SPHINX_ALPHA_LEN, NULL, 0, NULL, depid_personal);
	memcpy(sec->key, surb->key, sizeof(sec->key));
	sec->nhops = (uint8_t)nhops;
	for (size_t i = 0; i < nhops; i++)
		memcpy(sec->hop_master[i], p.master[i], 32);
out:
	if (r) {
		memset(surb, 0, sizeof(*surb));
		sphinx_surb_secret_clear(sec);
	}
	path_clear(&p);
	sodium_memzero(slots, sizeof(slots));
	return r;
}

int
sphinx_surb_create(struct sphinx_surb *surb, struct sphinx_surb_secret *sec,
		   const struct sphinx_hop *hops, size_t nhops, const struct sphinx_dest *dest)
{
	struct rng g = { NULL, 0 };

	return surb_create(surb, sec, hops, nhops, dest, &g);
}

int
sphinx_surb_create_det(struct sphinx_surb *surb, struct sphinx_surb_secret *sec,
		       const struct sphinx_hop *hops, size_t nhops,
		       const struct sphinx_dest *dest, const uint8_t seed[static 32])
{
	struct rng g = { seed, 0 };

	return surb_create(surb, sec, hops, nhops, dest, &g);
}

int
sphinx_surb_reply(uint8_t pkt[static SPHINX_PACKET_LEN], uint8_t first_hop[static SPHINX_ID_LEN],
		  const struct sphinx_surb *surb, const uint8_t *msg, size_t len)
{
	uint8_t lk[LIONESS_KEY_LEN], *pl = pkt + SPHINX_HEADER_LEN;
	int r;

	if (len > SPHINX_MSG_LEN || (len && !msg))
		return ERR_TOO_BIG;
	/* spec §10.2: "pkt = header ‖ LIONESS_K(0^16 ‖ msg ‖ 0-pad)" */
	memcpy(pkt, surb->header, SPHINX_HEADER_LEN);
	memset(pl, 0, SPHINX_PAYLOAD_LEN);
	if (len)
		memcpy(pl + SPHINX_ZERO_TAG_LEN, msg, len);
	surb_lioness_key(lk, surb->key);
	r = lioness_encrypt(pl, SPHINX_PAYLOAD_LEN, lk);
	sodium_memzero(lk, sizeof(lk));
	if (r) {
		sodium_memzero(pkt, SPHINX_PACKET_LEN);
		return r;
	}
	memcpy(first_hop, surb->first_hop, SPHINX_ID_LEN);
	return 0;
}

int
sphinx_surb_open(uint8_t msg_out[static SPHINX_MSG_LEN], size_t *msg_len, const uint8_t *entry,
		 size_t entry_len, const struct sphinx_surb_secret *sec)
{
	uint8_t id[SPHINX_DEPOSIT_ID_LEN], lk[LIONESS_KEY_LEN], body[SPHINX_PAYLOAD_LEN];
	int r;

	*msg_len = 0;
	memset(msg_out, 0, SPHINX_MSG_LEN);
	r = sphinx_deposit_id(id, entry, entry_len);
	if (r)
		return r;
	if (entry_len != SPHINX_DEPOSIT_LEN || sec->nhops < 1 || sec->nhops > SPHINX_MAX_HOPS ||
	    sodium_memcmp(id, sec->id, sizeof(id)) != 0)
		return ERR_AUTH;
	/* spec §10.3: "undo the nodes' decryptions, last node first, then remove
	 * the replier's layer" */
	memcpy(body, entry + SPHINX_ALPHA_LEN, SPHINX_PAYLOAD_LEN);
	for (size_t i = sec->nhops; i-- > 0 && r == 0;) {
		lioness_key(lk, sec->hop_master[i]);
		r = lioness_encrypt(body, SPHINX_PAYLOAD_LEN, lk);
	}
	if (r == 0) {
		surb_lioness_key(lk, sec->key);
		r = lioness_decrypt(body, SPHINX_PAYLOAD_LEN, lk);
	}
	if (r == 0)
		r = take_msg(msg_out, msg_len, body, SPHINX_PAYLOAD_LEN);
	if (r) {
		*msg_len = 0;
		sodium_memzero(msg_out, SPHINX_MSG_LEN);
	}
	sodium_memzero(lk, sizeof(lk));
	sodium_memzero(body, sizeof(body));
	return r;
}

void
sphinx_surb_secret_clear(struct sphinx_surb_secret *sec)
{
	sodium_memzero(sec, sizeof(*sec));
}

void
sphinx_surb_encode(uint8_t out[static SPHINX_SURB_LEN], const struct sphinx_surb *surb)
{
	memcpy(out, surb->first_hop, SPHINX_ID_LEN);
	memcpy(out + SPHINX_ID_LEN, surb->header, SPHINX_HEADER_LEN);
	memcpy(out + SPHINX_ID_LEN + SPHINX_HEADER_LEN, surb->key, SPHINX_KEY_LEN);
}

int
sphinx_surb_parse(struct sphinx_surb *surb, const uint8_t *in, size_t len)
{
	struct rbuf r = rbuf_of(in, len);
	int err;

	rbuf_copy(&r, surb->first_hop, SPHINX_ID_LEN);
	rbuf_copy(&r, surb->header, SPHINX_HEADER_LEN);
	rbuf_copy(&r, surb->key, SPHINX_KEY_LEN);
	err = rbuf_done(&r);
	if (err == 0 && (surb->header[0] != SPHINX_VERSION >> 8 ||
			 surb->header[1] != (SPHINX_VERSION & 0xff)))
		err = ERR_UNSUPPORTED;
	if (err)
		sodium_memzero(surb, sizeof(*surb));
	return err;
}

size_t
sphinx_surb_secret_encode(uint8_t out[static SPHINX_SURB_SECRET_MAX_LEN],
			  const struct sphinx_surb_secret *sec)
{
	struct wbuf w = wbuf_fixed(out, SPHINX_SURB_SECRET_MAX_LEN);
	size_t n = MIN(sec->nhops, SPHINX_MAX_HOPS);

	wbuf_put(&w, sec->id, sizeof(sec->id));
	wbuf_put(&w, sec->key, sizeof(sec->key));
	wbuf_u8(&w, (uint8_t)n);
	for (size_t i = 0; i < n; i++)
		wbuf_put(&w, sec->hop_master[i], SPHINX_KEY_LEN);
	return w.len;
}

int
sphinx_surb_secret_parse(struct sphinx_surb_secret *sec, const uint8_t *in, size_t len)
{
	struct rbuf r = rbuf_of(in, len);
	int err;

	sphinx_surb_secret_clear(sec);
	rbuf_copy(&r, sec->id, sizeof(sec->id));
	rbuf_copy(&r, sec->key, sizeof(sec->key));
	sec->nhops = rbuf_u8(&r);
	if (!r.bad && (sec->nhops < 1 || sec->nhops > SPHINX_MAX_HOPS)) {
		err = ERR_RANGE;
		goto out;
	}
	for (size_t i = 0; i < sec->nhops; i++)
		rbuf_copy(&r, sec->hop_master[i], SPHINX_KEY_LEN);
	err = rbuf_done(&r);
out:
	if (err)
		sphinx_surb_secret_clear(sec);
	return err;
}
