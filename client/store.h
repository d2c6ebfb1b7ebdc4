/* The client's local database (SQLite, WAL, in the home directory):
 * settings, contacts, the outbox (messages being sent, fragment by
 * fragment, with their state) and the inbox (fragments received,
 * reassembled into messages). Schema in docs/spec.md part 6. */
#ifndef BURROW_CLIENT_STORE_H
#define BURROW_CLIENT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/fragment.h"
#include "common/err.h"
#include "common/keys.h"

#define STORE_DEPOSIT_ID_LEN 16
#define STORE_SURB_ID_LEN 16
#define STORE_NAME_MAX 64

struct store;

/* Open or create the database at path (":memory:" for tests) and bring its
 * schema up to date. Returns 0, ERR_IO (cannot open; *why says why) or
 * ERR_UNSUPPORTED (written by a newer burrow). */
int MUST_CHECK store_open(struct store **out, const char *path, char *why, size_t whylen);
void store_free(struct store *st);
#define STORE_FREE(p) do { store_free(p); (p) = NULL; } while (0)

/* Transactions (nesting not allowed): 0 or ERR_IO. */
int MUST_CHECK store_begin(struct store *st);
int MUST_CHECK store_commit(struct store *st);
void store_rollback(struct store *st);

/* --- settings ------------------------------------------------------- */

/* Set / get a setting. get: 0 and *value (heap, caller frees) or
 * ERR_NOT_FOUND; both may return ERR_IO. */
int MUST_CHECK store_meta_set(struct store *st, const char *key, const char *value);
int MUST_CHECK store_meta_get(struct store *st, const char *key, char **value);

/* --- contacts ------------------------------------------------------- */

struct store_contact {
	char name[STORE_NAME_MAX + 1];
	char *address;
	uint64_t added;
};

/* A contact name: 1..64 of [A-Za-z0-9_.-], not starting with "brw1". */
bool store_contact_name_ok(const char *name);
/* Add a contact: 0, ERR_MALFORMED (bad name), ERR_EXISTS or ERR_IO. */
int MUST_CHECK store_contact_add(struct store *st, const char *name, const char *address);
/* Remove: 0, ERR_NOT_FOUND or ERR_IO. */
int MUST_CHECK store_contact_remove(struct store *st, const char *name);
/* Look up: 0 and *address (heap), ERR_NOT_FOUND or ERR_IO. */
int MUST_CHECK store_contact_get(struct store *st, const char *name, char **address);
/* The name of the contact with this address: 0 and *name (heap) or
 * ERR_NOT_FOUND. */
int MUST_CHECK store_contact_by_address(struct store *st, const char *address, char **name);
/* All contacts sorted by name: *out (free with store_contacts_free). */
int MUST_CHECK store_contact_list(struct store *st, struct store_contact **out, size_t *n);
void store_contacts_free(struct store_contact *c, size_t n);

/* --- outbox --------------------------------------------------------- */

enum store_out_state {
	OUT_SENDING = 0,	/* some fragment not yet acknowledged */
	OUT_DELIVERED = 1,	/* every fragment acknowledged */
	OUT_FAILED = 2,		/* a fragment ran out of tries */
};

enum store_frag_state {
	FRAG_PENDING = 0,	/* never sent, or due for a resend */
	FRAG_SENT = 1,		/* sent, waiting for its acknowledgement */
	FRAG_ACKED = 2,
	FRAG_FAILED = 3,
};

struct store_out_msg {
	int64_t id;
	uint8_t msg_id[MSG_ID_LEN];
	char *to;		/* the recipient's address */
	char *label;		/* what the user typed: a contact name or the address */
	uint64_t created;
	uint64_t total_len;
	uint32_t count;
	bool is_signed;
	enum store_out_state state;
	uint32_t acked, sent, pending, failed;	/* fragments in each state */
	uint64_t sends;		/* packets sent for it, retransmissions included */
};

struct store_out_frag {
	int64_t msg;
	uint32_t index;
	uint8_t deposit_id[STORE_DEPOSIT_ID_LEN];
	uint8_t *body;		/* the encoded fragment (heap) */
	size_t body_len;
	uint32_t tries;
	enum store_frag_state state;
	uint64_t deadline_ms;	/* wall clock: resend after this */
};

/* Add a message to the outbox with no fragments yet: 0 and *id, or
 * ERR_EXISTS (same message id) or ERR_IO. */
int MUST_CHECK store_out_add(struct store *st, const uint8_t msg_id[static MSG_ID_LEN],
			     const char *to, const char *label, uint64_t total_len, uint32_t count,
			     bool is_signed, int64_t *id);
/* Add fragment index of message id, pending, with a fresh random deposit
 * id: 0, ERR_EXISTS or ERR_IO. */
int MUST_CHECK store_out_add_frag(struct store *st, int64_t id, uint32_t index,
				  const uint8_t *body, size_t len);
/* Fragments of unfinished messages that are due: pending, or sent with a
 * deadline ≤ now_ms; oldest message first, at most max. *out (free with
 * store_out_frags_free). msg restricts to one message when > 0. */
int MUST_CHECK store_out_due(struct store *st, int64_t msg, uint64_t now_ms, size_t max,
			     struct store_out_frag **out, size_t *n);
void store_out_frags_free(struct store_out_frag *f, size_t n);
/* Record a (re)send of a fragment: tries + 1, state sent, the deadline,
 * and the SURB whose reply acknowledges it (id and the opaque key the
 * sender needs to read the reply): 0, ERR_NOT_FOUND or ERR_IO. */
int MUST_CHECK store_out_sent(struct store *st, int64_t msg, uint32_t index, uint64_t deadline_ms,
			      const uint8_t surb_id[static STORE_SURB_ID_LEN], const uint8_t *surb_key,
			      size_t surb_key_len);
/* Look up an outstanding SURB: 0 with *key (heap) and the fragment it
 * belongs to, or ERR_NOT_FOUND. */
int MUST_CHECK store_out_surb(struct store *st, const uint8_t surb_id[static STORE_SURB_ID_LEN],
			      uint8_t **key, size_t *key_len, int64_t *msg, uint32_t *index);
/* Mark a fragment acknowledged (idempotent), settle its message's state
 * and forget its SURBs: 0 or ERR_NOT_FOUND or ERR_IO. *newly is true when
 * this ack was the first for the fragment. */
int MUST_CHECK store_out_acked(struct store *st, int64_t msg, uint32_t index, bool *newly);
/* Mark a fragment failed (out of tries) and its message failed. */
int MUST_CHECK store_out_failed(struct store *st, int64_t msg, uint32_t index);
/* One message / all messages, newest first (free with
 * store_out_msgs_free). get: 0 or ERR_NOT_FOUND. */
int MUST_CHECK store_out_get(struct store *st, int64_t id, struct store_out_msg *m);
int MUST_CHECK store_out_list(struct store *st, struct store_out_msg **out, size_t *n);
void store_out_msg_clear(struct store_out_msg *m);
void store_out_msgs_free(struct store_out_msg *m, size_t n);
/* Indices of the failed fragments of a message (heap array). */
int MUST_CHECK store_out_failed_list(struct store *st, int64_t id, uint32_t **idx, size_t *n);

/* --- inbox ---------------------------------------------------------- */

enum store_in_state {
	IN_PARTIAL = 0,		/* some fragments still missing */
	IN_COMPLETE = 1,	/* all fragments, hash checked */
	IN_CORRUPT = 2,		/* all fragments, but the hash does not match */
};

enum store_sig_state {
	SIG_NONE = 0,		/* anonymous */
	SIG_VALID = 1,		/* signed, signature verified */
	SIG_INVALID = 2,	/* signed, signature does NOT verify: forged */
};

enum store_in_add {
	IN_ADD_NEW = 0,		/* a new fragment stored */
	IN_ADD_DUPLICATE = 1,	/* already had it: ignored */
	IN_ADD_COMPLETED = 2,	/* a new fragment that completed its message */
	IN_ADD_CONFLICT = 3,	/* disagrees with the message's other fragments: dropped */
};

struct store_in_msg {
	int64_t id;
	uint8_t msg_id[MSG_ID_LEN];
	uint64_t received;	/* first fragment's arrival */
	uint64_t total_len;
	uint32_t count, have;
	enum store_in_state state;
	enum store_sig_state sig;
	uint8_t sender_pk[ID_PK_LEN];
	bool read;
};

/* Store one parsed fragment addressed to my_pk (the recipient identity the
 * signature must name). When it completes its message, the message is
 * assembled, checked against its hash and signature, and its fragments
 * dropped. *res says what happened; *id (if non-NULL) is the message's
 * row. Returns 0 or ERR_IO. Call inside a transaction for speed. */
int MUST_CHECK store_in_add(struct store *st, const struct frag *f,
			    const uint8_t my_pk[static ID_PK_LEN], uint64_t now,
			    enum store_in_add *res, int64_t *id);
/* One message / all messages oldest first. get: 0 or ERR_NOT_FOUND. */
int MUST_CHECK store_in_get(struct store *st, int64_t id, struct store_in_msg *m);
int MUST_CHECK store_in_list(struct store *st, struct store_in_msg **out, size_t *n);
/* A complete message's body (heap, *len bytes): 0, ERR_NOT_FOUND, or
 * ERR_CORRUPT for a message that is partial or failed its hash. */
int MUST_CHECK store_in_body(struct store *st, int64_t id, uint8_t **body, size_t *len);
int MUST_CHECK store_in_mark_read(struct store *st, int64_t id);

#endif
