/* Sphinx packets: fixed 2,048-byte onion packets over up to 5 node hops,
 * the last of which is a mailbox node; the recipient's X25519 mailbox key
 * is a hidden hop after it. Single-use reply blocks (SURBs) carry replies
 * and ACKs. The byte-level format is docs/spec.md part 1.
 *
 * Roles:
 *   sender     sphinx_create()            -> send pkt to hops[0].node_id
 *   relay      sphinx_unwrap()            -> RELAY: forward pkt; DELIVER: store deposit
 *   recipient  sphinx_deposit_id(), sphinx_open() / sphinx_surb_open()
 *   SURB       sphinx_surb_create() (creator), sphinx_surb_reply() (replier) */
#ifndef BURROW_SPHINX_H
#define BURROW_SPHINX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define SPHINX_VERSION 0x0100		/* the 2-byte AD, MACed at every hop */
#define SPHINX_AD_LEN 2
#define SPHINX_ALPHA_LEN 32		/* X25519 group element */
#define SPHINX_MAX_HOPS 5		/* node hops (the recipient hop is extra) */
#define SPHINX_SLOT_LEN 64
#define SPHINX_BETA_LEN (SPHINX_MAX_HOPS * SPHINX_SLOT_LEN)	/* 320 */
#define SPHINX_MAC_LEN 16
#define SPHINX_HEADER_LEN (SPHINX_AD_LEN + SPHINX_ALPHA_LEN + SPHINX_BETA_LEN + SPHINX_MAC_LEN)
#define SPHINX_PACKET_LEN 2048
#define SPHINX_PAYLOAD_LEN (SPHINX_PACKET_LEN - SPHINX_HEADER_LEN)	/* 1678 */
#define SPHINX_ZERO_TAG_LEN 16
#define SPHINX_KEY_LEN 32		/* X25519 public and secret keys */
#define SPHINX_ID_LEN 32		/* node id, mailbox id */
#define SPHINX_MSG_ID_LEN 16		/* dedup id shown to the mailbox node */
#define SPHINX_REPLAY_TAG_LEN 16
#define SPHINX_DEPOSIT_ID_LEN 16

/* A SURB: first-hop id ‖ header ‖ payload key. */
#define SPHINX_SURB_LEN (SPHINX_ID_LEN + SPHINX_HEADER_LEN + SPHINX_KEY_LEN)	/* 434 */
/* The ACK layer the mailbox node reads: zero tag ‖ SURB. */
#define SPHINX_ACK_LAYER_LEN (SPHINX_ZERO_TAG_LEN + SPHINX_SURB_LEN)		/* 450 */

/* Usable message bytes for the recipient (forward packets and SURB replies),
 * and for forward packets that carry an ACK SURB. */
#define SPHINX_MSG_LEN (SPHINX_PAYLOAD_LEN - SPHINX_ZERO_TAG_LEN)		/* 1662 */
#define SPHINX_MSG_ACK_LEN (SPHINX_MSG_LEN - SPHINX_ACK_LAYER_LEN)		/* 1212 */

/* A deposit entry, as the mailbox node stores it: α' ‖ body. */
#define SPHINX_DEPOSIT_LEN (SPHINX_ALPHA_LEN + SPHINX_PAYLOAD_LEN)		/* 1710 */
#define SPHINX_DEPOSIT_ACK_LEN (SPHINX_DEPOSIT_LEN - SPHINX_ACK_LAYER_LEN)	/* 1260 */

/* An encoded SURB secret is 49 + 32 * nhops bytes. */
#define SPHINX_SURB_SECRET_MAX_LEN (SPHINX_DEPOSIT_ID_LEN + SPHINX_KEY_LEN + 1 + \
				    SPHINX_MAX_HOPS * SPHINX_KEY_LEN)		/* 209 */

enum sphinx_cmd {
	SPHINX_CMD_RELAY = 1,
	SPHINX_CMD_DELIVER = 2,
};

#define SPHINX_DELIVER_F_ACK 0x01	/* DELIVER flag: the ACK layer is present */

/* One node hop of a path. delay_ms is the mixing delay the node is asked
 * to hold the packet for (ignored for the last hop, which delivers). */
struct sphinx_hop {
	uint8_t node_pk[SPHINX_KEY_LEN];	/* the node's packet key for the epoch */
	uint8_t node_id[SPHINX_ID_LEN];
	uint32_t delay_ms;
};

/* Where the packet ends: a mailbox on the last hop, sealed to its owner. */
struct sphinx_dest {
	uint8_t mailbox_id[SPHINX_ID_LEN];
	uint8_t recipient_pk[SPHINX_KEY_LEN];	/* the mailbox owner's X25519 key */
	uint8_t msg_id[SPHINX_MSG_ID_LEN];	/* dedup id the mailbox node sees */
};

/* What a SURB creator hands out (encoded as SPHINX_SURB_LEN bytes). */
struct sphinx_surb {
	uint8_t first_hop[SPHINX_ID_LEN];
	uint8_t header[SPHINX_HEADER_LEN];
	uint8_t key[SPHINX_KEY_LEN];
};

/* What the SURB creator keeps to recognise and open the reply. Secret:
 * wipe with sphinx_surb_secret_clear(). */
struct sphinx_surb_secret {
	uint8_t id[SPHINX_DEPOSIT_ID_LEN];	/* sphinx_deposit_id() of the reply */
	uint8_t key[SPHINX_KEY_LEN];
	uint8_t nhops;
	uint8_t hop_master[SPHINX_MAX_HOPS][SPHINX_KEY_LEN];
};

/* What a node learns from one packet. */
struct sphinx_result {
	enum sphinx_cmd cmd;
	uint8_t replay_tag[SPHINX_REPLAY_TAG_LEN];
	/* RELAY: forward the rewritten packet to next_id after delay_ms. */
	uint8_t next_id[SPHINX_ID_LEN];
	uint32_t delay_ms;
	/* DELIVER: store deposit[0..deposit_len) in mailbox_id, once per msg_id;
	 * if has_ack, send an ACK through the ack SURB after the store commits. */
	uint8_t mailbox_id[SPHINX_ID_LEN];
	uint8_t msg_id[SPHINX_MSG_ID_LEN];
	bool has_ack;
	struct sphinx_surb ack;
	size_t deposit_len;	/* SPHINX_DEPOSIT_LEN or SPHINX_DEPOSIT_ACK_LEN */
	uint8_t deposit[SPHINX_DEPOSIT_LEN];
};

/* A parsed deposit entry: views into the caller's bytes. */
struct sphinx_deposit {
	const uint8_t *alpha;
	const uint8_t *body;
	size_t body_len;	/* SPHINX_PAYLOAD_LEN, or less the ACK layer */
};

/* ---- sender ---- */

/* Build a forward packet over hops[0..nhops) to dest, carrying msg (at most
 * SPHINX_MSG_LEN bytes, or SPHINX_MSG_ACK_LEN with an ack SURB; zero-padded
 * to that size: put your own length framing inside). ack (NULL for none)
 * is a SURB the mailbox node reads to acknowledge the deposit. Send pkt to
 * hops[0].node_id. Return 0, ERR_RANGE (nhops not 1..5), ERR_TOO_BIG (msg),
 * or ERR_WEAK_KEY (a hop or recipient key is a low-order point). */
int MUST_CHECK sphinx_create(uint8_t pkt[static SPHINX_PACKET_LEN],
			     const struct sphinx_hop *hops, size_t nhops,
			     const struct sphinx_dest *dest, const struct sphinx_surb *ack,
			     const uint8_t *msg, size_t msg_len);

/* ---- relay ---- */

/* Process one packet at a node holding the packet key (sk, pk), in place.
 * Checks, in order: length, version, DH (ERR_WEAK_KEY), header MAC
 * (ERR_AUTH), routing slot, and for DELIVER with an ACK the mailbox layer
 * (ERR_AUTH). On success pkt holds the packet for the next hop (RELAY) and
 * out says what to do. The replay check is the caller's: look out->replay_tag
 * up in the key's replay cache and drop the packet if it was seen.
 * Return 0, ERR_TRUNCATED / ERR_TRAILING (len not SPHINX_PACKET_LEN),
 * ERR_UNSUPPORTED (version, command or flag), ERR_WEAK_KEY, ERR_AUTH,
 * ERR_MALFORMED (reserved bytes not zero, or a bad ACK SURB). After
 * ERR_UNSUPPORTED for the version, ERR_WEAK_KEY and ERR_AUTH, pkt is
 * untouched (so a relay may retry with its previous epoch key); after
 * other errors its contents are unspecified. */
int MUST_CHECK sphinx_unwrap(struct sphinx_result *out, uint8_t *pkt, size_t len,
			     const uint8_t sk[static SPHINX_KEY_LEN],
			     const uint8_t pk[static SPHINX_KEY_LEN]);

/* ---- recipient ---- */

/* Split a deposit entry (SPHINX_DEPOSIT_LEN or SPHINX_DEPOSIT_ACK_LEN
 * bytes) into views. Return 0, ERR_TRUNCATED or ERR_TRAILING. */
int MUST_CHECK sphinx_deposit_parse(struct sphinx_deposit *d, const uint8_t *entry, size_t len);

/* Compute a deposit's id, BLAKE2b-128 of its α: a SURB creator looks it up
 * in its table of secrets. Return 0, ERR_TRUNCATED or ERR_TRAILING. */
int MUST_CHECK sphinx_deposit_id(uint8_t id[static SPHINX_DEPOSIT_ID_LEN],
				 const uint8_t *entry, size_t len);

/* Open a forward deposit with the mailbox key (sk, pk). Write the whole
 * padded message to msg_out (room for SPHINX_MSG_LEN bytes) and its size
 * (SPHINX_MSG_LEN, or SPHINX_MSG_ACK_LEN for a packet that carried an ACK)
 * to *msg_len. Return 0, ERR_TRUNCATED / ERR_TRAILING (entry length),
 * ERR_WEAK_KEY or ERR_AUTH (not for this key, or tampered); on error
 * msg_out is zeroed and *msg_len is 0. */
int MUST_CHECK sphinx_open(uint8_t msg_out[static SPHINX_MSG_LEN], size_t *msg_len,
			   const uint8_t *entry, size_t entry_len,
			   const uint8_t sk[static SPHINX_KEY_LEN],
			   const uint8_t pk[static SPHINX_KEY_LEN]);

/* ---- SURBs ---- */

/* Build a SURB over hops[0..nhops) to the creator's own mailbox dest, and
 * the secret to keep. Return 0, ERR_RANGE or ERR_WEAK_KEY. */
int MUST_CHECK sphinx_surb_create(struct sphinx_surb *surb, struct sphinx_surb_secret *sec,
				  const struct sphinx_hop *hops, size_t nhops,
				  const struct sphinx_dest *dest);

/* Build the reply packet for a SURB carrying msg (≤ SPHINX_MSG_LEN bytes,
 * zero-padded) and write where to send it. Return 0 or ERR_TOO_BIG. */
int MUST_CHECK sphinx_surb_reply(uint8_t pkt[static SPHINX_PACKET_LEN],
				 uint8_t first_hop[static SPHINX_ID_LEN],
				 const struct sphinx_surb *surb, const uint8_t *msg, size_t len);

/* Open a reply deposit with its secret: msg_out gets SPHINX_MSG_LEN bytes.
 * Return 0, ERR_TRUNCATED / ERR_TRAILING (entry length) or ERR_AUTH (not
 * this SURB's reply, or tampered); on error msg_out is zeroed, *msg_len 0. */
int MUST_CHECK sphinx_surb_open(uint8_t msg_out[static SPHINX_MSG_LEN], size_t *msg_len,
				const uint8_t *entry, size_t entry_len,
				const struct sphinx_surb_secret *sec);

/* Wipe a SURB secret. */
void sphinx_surb_secret_clear(struct sphinx_surb_secret *sec);

/* SURB wire form: first_hop ‖ header ‖ key. encode never fails. parse:
 * 0, ERR_TRUNCATED, ERR_TRAILING or ERR_UNSUPPORTED (header version). */
void sphinx_surb_encode(uint8_t out[static SPHINX_SURB_LEN], const struct sphinx_surb *surb);
int MUST_CHECK sphinx_surb_parse(struct sphinx_surb *surb, const uint8_t *in, size_t len);

/* SURB secret storage form: id ‖ key ‖ nhops (1 byte) ‖ masters; encode
 * writes 49 + 32 * nhops bytes (≤ SPHINX_SURB_SECRET_MAX_LEN) and returns
 * that size. parse: 0, ERR_TRUNCATED, ERR_TRAILING or ERR_RANGE (nhops). */
size_t sphinx_surb_secret_encode(uint8_t out[static SPHINX_SURB_SECRET_MAX_LEN],
				 const struct sphinx_surb_secret *sec);
int MUST_CHECK sphinx_surb_secret_parse(struct sphinx_surb_secret *sec, const uint8_t *in,
					size_t len);

/* ---- tests only: never call these outside tests/ and fuzz harnesses ----
 * Deterministic variants drawing every random byte from a ChaCha20 stream
 * keyed by seed (known-answer vectors). sphinx_test_create_slots builds a
 * packet whose hop i finds the plaintext slot slots[i] (bytes 38..54 of
 * slots[0..nhops-1) are overwritten with the next hop's MAC) and whose
 * last node finds payload[0..SPHINX_PAYLOAD_LEN) once it has peeled its
 * own payload layer (no recipient layer is added). */
int MUST_CHECK sphinx_create_det(uint8_t pkt[static SPHINX_PACKET_LEN],
				 const struct sphinx_hop *hops, size_t nhops,
				 const struct sphinx_dest *dest, const struct sphinx_surb *ack,
				 const uint8_t *msg, size_t msg_len, const uint8_t seed[static 32]);
int MUST_CHECK sphinx_surb_create_det(struct sphinx_surb *surb, struct sphinx_surb_secret *sec,
				      const struct sphinx_hop *hops, size_t nhops,
				      const struct sphinx_dest *dest, const uint8_t seed[static 32]);
int MUST_CHECK sphinx_test_create_slots(uint8_t pkt[static SPHINX_PACKET_LEN],
					const struct sphinx_hop *hops, size_t nhops,
					const uint8_t recipient_pk[static SPHINX_KEY_LEN],
					const uint8_t slots[][SPHINX_SLOT_LEN],
					const uint8_t payload[static SPHINX_PAYLOAD_LEN],
					const uint8_t seed[static 32]);

#endif
