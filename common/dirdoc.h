/* Directory documents: relay descriptors and consensuses, as strict
 * line-based "keyword args" text (format in docs/spec.md, "Directory").
 *
 * Every document is a sequence of lines ending in '\n', printable ASCII
 * only, in one exact order; unknown, missing, repeated or misplaced
 * keywords are refused. Keys are lowercase hex. Signatures cover the
 * document's bytes from its first byte up to and including the '\n' before
 * its first signature line (descriptors: Ed25519 over those bytes;
 * consensus: Ed25519 over their BLAKE2b-512); the first line names the
 * document type, so a signature on one type never verifies as another. */
#ifndef BURROW_DIRDOC_H
#define BURROW_DIRDOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/keys.h"

#define DIRDOC_NICK_MAX 19		/* nickname: 1..19 of [A-Za-z0-9] */
#define DIRDOC_FAMILY_MAX 8		/* node ids in a family line */
#define DIRDOC_TEXT_MAX 128		/* contact and software: printable ASCII */
#define DIRDOC_LINE_MAX 1024		/* bytes in one line, '\n' excluded */
#define DIRDOC_DESC_MAX 4096		/* bytes in a whole descriptor */
#define DIRDOC_CONS_MAX_RELAYS 65536
#define DIRDOC_CONS_MAX ((size_t)48 << 20)	/* bytes in a consensus */
#define DIRDOC_AUTH_MAX 16		/* authorities (and signatures) */
#define DIRDOC_MAX_SKEW 60		/* seconds a published time may be ahead */
#define DIRDOC_EPOCH_LEN_MAX (7 * 86400)
#define DIRDOC_VALID_EPOCHS 3		/* valid-until = valid-after + 3 epochs */

enum dirdoc_role {
	DIRDOC_ROLE_MIX = 1u << 0,
	DIRDOC_ROLE_MAILBOX = 1u << 1,
};

/* Flags the authorities assign; only consensus relays carry them. */
enum dirdoc_flag {
	DIRDOC_FLAG_RUNNING = 1u << 0,	/* uploaded a fresh descriptor */
	DIRDOC_FLAG_VALID = 1u << 1,	/* descriptor verified and accepted */
	DIRDOC_FLAG_MAILBOX = 1u << 2,	/* serves mailboxes */
	DIRDOC_FLAG_STABLE = 1u << 3,	/* was in the previous consensus too */
};
#define DIRDOC_FLAGS_ALL 0xfu

/* One relay: parsed from a descriptor (contact, software, published set)
 * or from a consensus (flags set; contact and software empty). */
struct dirdoc_relay {
	char nickname[DIRDOC_NICK_MAX + 1];
	uint8_t id_pk[ID_PK_LEN];
	uint8_t node_id[NODE_ID_LEN];	/* node_id_of(id_pk) */
	uint8_t link_pk[X_PK_LEN];
	uint64_t key_epoch[2];		/* key_epoch[1] == key_epoch[0] + 1 */
	uint8_t packet_pk[2][X_PK_LEN];
	char host[64];
	uint16_t port;
	uint32_t roles;			/* DIRDOC_ROLE_* */
	uint32_t flags;			/* DIRDOC_FLAG_* */
	uint64_t bandwidth;		/* bytes per second the relay offers */
	size_t nfamily;
	uint8_t family[DIRDOC_FAMILY_MAX][NODE_ID_LEN];
	char contact[DIRDOC_TEXT_MAX + 1];
	char software[DIRDOC_TEXT_MAX + 1];
	uint64_t published;
	uint8_t sig[ID_SIG_LEN];	/* descriptor signature (descriptors only) */
};

struct dirdoc_sig {
	uint8_t auth_pk[ID_PK_LEN];
	uint8_t sig[ID_SIG_LEN];
};

struct dirdoc_consensus {
	uint64_t epoch, epoch_len;
	uint64_t valid_after, fresh_until, valid_until;
	size_t nrelays;
	struct dirdoc_relay *relays;	/* sorted by node_id, no duplicates */
	size_t nsigs;
	struct dirdoc_sig sigs[DIRDOC_AUTH_MAX];	/* sorted by auth_pk */
	size_t body_len;	/* bytes the signatures cover */
};

/* --- epochs ---------------------------------------------------------- */

/* The epoch containing time t: floor(t / epoch_len); epoch_len ≥ 1. */
uint64_t dirdoc_epoch_of(uint64_t t, uint64_t epoch_len);
/* The window of the consensus for epoch e: valid-after e*len, fresh-until
 * (e+1)*len, valid-until (e+DIRDOC_VALID_EPOCHS)*len. */
void dirdoc_epoch_window(uint64_t e, uint64_t epoch_len, uint64_t *valid_after,
			 uint64_t *fresh_until, uint64_t *valid_until);

/* --- descriptors ----------------------------------------------------- */

/* Encode r's descriptor fields (nickname .. published; node_id, flags and
 * sig are ignored) and sign with kp, whose public key replaces r's id_pk.
 * On success *out is a NUL-terminated heap string of *len bytes owned by the
 * caller. Returns 0, ERR_MALFORMED if a field is out of its domain (bad
 * nickname, text, roles, key epochs, address), or ERR_TOO_BIG. */
int MUST_CHECK dirdoc_descriptor_encode(const struct dirdoc_relay *r, const struct id_keypair *kp,
					char **out, size_t *len);

/* Parse a descriptor and check its signature. Returns 0, ERR_TOO_BIG,
 * ERR_TRUNCATED, ERR_MALFORMED (a field, a keyword, the order, a duplicate,
 * an unknown role) or ERR_BAD_SIG; *why (if non-NULL) gets one line. The
 * time is not checked: see dirdoc_descriptor_check_time. */
int MUST_CHECK dirdoc_descriptor_parse(const char *text, size_t len, struct dirdoc_relay *out,
				       char *why, size_t whylen);

/* Refuse a published time older than max_age seconds before now
 * (ERR_STALE) or more than DIRDOC_MAX_SKEW after it (ERR_FUTURE); else 0. */
int MUST_CHECK dirdoc_descriptor_check_time(const struct dirdoc_relay *r, uint64_t now,
					    uint64_t max_age, char *why, size_t whylen);

/* --- consensus ------------------------------------------------------- */

struct dirdoc_consensus *dirdoc_consensus_new(size_t nrelays);
void dirdoc_consensus_free(struct dirdoc_consensus *c);
#define DIRDOC_CONSENSUS_FREE(p) do { dirdoc_consensus_free(p); (p) = NULL; } while (0)

/* Sort c->relays by node_id (computing node_id from id_pk first). */
void dirdoc_consensus_sort(struct dirdoc_consensus *c);

/* Encode the signed body of c (everything up to "directory-footer\n").
 * Relays must be sorted with distinct node ids. *out is a NUL-terminated
 * heap string owned by the caller. Returns 0, ERR_MALFORMED or ERR_TOO_BIG. */
int MUST_CHECK dirdoc_consensus_encode_body(const struct dirdoc_consensus *c, char **out,
					    size_t *len);

/* Sign a consensus body with an authority key: Ed25519 over the 64-byte
 * BLAKE2b-512 of the body (personalization "burrow-consensus"). */
void dirdoc_consensus_sign(uint8_t sig[static ID_SIG_LEN], const char *body, size_t body_len,
			   const struct id_keypair *kp);
/* Check one authority's signature over a consensus body: 0 or ERR_BAD_SIG. */
int MUST_CHECK dirdoc_consensus_check_sig(const uint8_t sig[static ID_SIG_LEN], const char *body,
					  size_t body_len, const uint8_t pk[static ID_PK_LEN]);

/* Build the full text: body, then one signature line per entry of sigs in
 * ascending auth_pk order (duplicates dropped), then "end". *out is a
 * NUL-terminated heap string owned by the caller. Returns 0 or ERR_TOO_BIG. */
int MUST_CHECK dirdoc_consensus_assemble(const char *body, size_t body_len,
					 const struct dirdoc_sig *sigs, size_t nsigs,
					 char **out, size_t *len);

/* Parse a consensus without checking signatures or time: for authorities
 * (which check signatures one by one) and tools. On success *out is a new
 * consensus owned by the caller. Returns 0, ERR_TOO_BIG, ERR_TRUNCATED or
 * ERR_MALFORMED, with one line in why. */
int MUST_CHECK dirdoc_consensus_parse(const char *text, size_t len,
				      struct dirdoc_consensus **out, char *why, size_t whylen);

/* Parse and verify a consensus against the pinned authority keys. Every
 * signature line must be from a pinned key (else ERR_UNKNOWN_SIGNER) and
 * must verify (else ERR_BAD_SIG); more than half of the nauth pinned keys
 * must have signed (else ERR_QUORUM); now must lie in [valid-after,
 * valid-until) (else ERR_NOT_YET_VALID or ERR_EXPIRED). Parse errors as
 * dirdoc_consensus_parse. On success *out (if out is non-NULL) is the parsed
 * consensus owned by the caller; on error it is NULL and why says what is
 * wrong in words. */
int MUST_CHECK dirdoc_consensus_verify(const char *text, size_t len, const uint8_t (*auth_pks)[32],
				       size_t nauth, uint64_t now, struct dirdoc_consensus **out,
				       char *why, size_t whylen);

/* The relay with this node id, or NULL (binary search). */
const struct dirdoc_relay *dirdoc_relay_find(const struct dirdoc_consensus *c,
					     const uint8_t node_id[static NODE_ID_LEN]);
/* The relay's packet key for epoch e, or NULL if it published none. */
const uint8_t *dirdoc_relay_packet_key(const struct dirdoc_relay *r, uint64_t e);

/* --- helpers shared with the authority's vote format ------------------ */

/* Parse an "Authority" config value "HEXPK HOST:PORT": 0 or ERR_MALFORMED. */
int MUST_CHECK dirdoc_authority_parse(const char *value, uint8_t pk[static ID_PK_LEN],
				      char host[static 64], uint16_t *port);

/* A cursor over document lines. dirdoc_line_next returns 0 and sets
 * kw/args (NUL-terminated copies in the cursor, args "" when absent), or
 * ERR_TRUNCATED at end of input or on a line without '\n', ERR_TOO_BIG for
 * a line over DIRDOC_LINE_MAX, ERR_MALFORMED for a byte outside printable
 * ASCII, a bad keyword or a space out of place. */
struct dirdoc_lines {
	const char *text;
	size_t len, pos;
	size_t line_start;	/* offset of the line just read */
	unsigned lineno;
	char buf[DIRDOC_LINE_MAX + 1];
	const char *kw, *args;
};
void dirdoc_lines_init(struct dirdoc_lines *l, const char *text, size_t len);
int MUST_CHECK dirdoc_line_next(struct dirdoc_lines *l);
/* Read the next line and require keyword kw: 0, a dirdoc_line_next error,
 * or ERR_MALFORMED. */
int MUST_CHECK dirdoc_line_expect(struct dirdoc_lines *l, const char *kw, char *why,
				  size_t whylen);
/* Split args at single spaces into at most max fields (pointers into the
 * cursor's buffer): the field count, or -1 if more than max or a field is
 * empty. */
int dirdoc_split(struct dirdoc_lines *l, char **fields, int max);

/* Parse a 64-hex-digit key or a decimal u64 field: 0 or ERR_MALFORMED. */
int MUST_CHECK dirdoc_hex32(uint8_t out[static 32], const char *s);
int MUST_CHECK dirdoc_u64(uint64_t *out, const char *s);

/* Encode / parse flag words ("Running Valid Mailbox Stable", canonical
 * order). parse: 0 or ERR_MALFORMED. */
void dirdoc_flags_str(char *out, size_t outlen, uint32_t flags);
int MUST_CHECK dirdoc_flags_parse(struct dirdoc_lines *l, uint32_t *flags);

#endif
