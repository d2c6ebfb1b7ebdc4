/* The mailbox store: deposits kept in SQLite (WAL, synchronous=FULL) until
 * their owner fetches and acknowledges them. No networking here; see
 * relay/mbox_commit.h for the grouped, asynchronous writer the event loop
 * uses, and docs/spec.md part 5 for the schema and the durability
 * argument.
 *
 * Each row holds only a mailbox id, a message id, the entry (ciphertext
 * only the recipient opens), its size and the minute it arrived.
 *
 * Thread safety: every function may be called from any thread; writes
 * are serialized on one connection, fetch and count read through a second
 * connection so they never wait for a commit's fsync. */
#ifndef BURROW_RELAY_MBOX_STORE_H
#define BURROW_RELAY_MBOX_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define MBOX_ID_LEN 32		/* a mailbox id */
#define MBOX_MSG_ID_LEN 16	/* a message (fragment) id */
#define MBOX_ENTRY_MAX 65536	/* sanity bound on one stored entry */
#define MBOX_TIME_GRAIN 60	/* arrival times are stored rounded down to this */
#define MBOX_FETCH_MAX 1024	/* most items one fetch returns */

/* Limits; 0 in any field means "no limit" (ttl 0: never expire). */
struct mbox_limits {
	uint32_t max_msgs_per_box;
	uint64_t max_bytes_per_box;	/* sum of entry sizes in one mailbox */
	uint64_t ttl_seconds;		/* kept at least this long, at most a grain more */
	uint64_t max_total_bytes;	/* sum of entry sizes in the whole store */
	uint32_t time_grain;		/* arrival rounding in seconds; 0: MBOX_TIME_GRAIN
					 * (tests use 1 to make expiry quick) */
};

/* Defaults: 10000 messages and 32 MiB per mailbox, 14 days, 2 GiB in all. */
struct mbox_limits mbox_limits_default(void);

/* Counters for /metrics, since the store was opened (gauges: msgs, bytes). */
struct mbox_stats {
	uint64_t stored;		/* deposits committed */
	uint64_t duplicates;		/* deposits of an id already stored */
	uint64_t refused_full_box;	/* refused: mailbox quota (messages or bytes) */
	uint64_t refused_disk_cap;	/* refused: global cap */
	uint64_t expired;		/* removed by TTL */
	uint64_t acked;			/* removed by the owner's acknowledgement */
	uint64_t commits;		/* write transactions committed (each one WAL sync) */
	uint64_t ops_committed;		/* puts and acks carried by those commits */
	uint64_t max_batch;		/* most ops in one commit */
	uint64_t io_errors;		/* transactions that failed and rolled back */
	uint64_t msgs;			/* gauge: messages stored now */
	uint64_t bytes;			/* gauge: entry bytes stored now */
};

/* One message handed out by a fetch; entry is heap memory owned by the item. */
struct mbox_item {
	uint64_t seq;			/* stable, increasing, never reused */
	uint8_t msg_id[MBOX_MSG_ID_LEN];
	uint64_t received;		/* unix time rounded down to MBOX_TIME_GRAIN */
	uint8_t *entry;
	size_t len;
};

/* One operation of a grouped write (see mbox_store_apply). Pointers are
 * borrowed for the duration of the call. */
enum mbox_op_kind { MBOX_OP_PUT, MBOX_OP_ACK };
struct mbox_op {
	enum mbox_op_kind kind;
	const uint8_t *box;		/* MBOX_ID_LEN bytes */
	/* MBOX_OP_PUT */
	const uint8_t *msg_id;		/* MBOX_MSG_ID_LEN bytes */
	const uint8_t *entry;
	size_t len;
	/* MBOX_OP_ACK: message ids to delete from box */
	const uint8_t (*ids)[MBOX_MSG_ID_LEN];
	size_t n_ids;
	/* out */
	int result;	/* PUT: 0, ERR_DUPLICATE, ERR_FULL, ERR_TOO_BIG, ERR_MALFORMED;
			 * ACK: 0; ERR_IO for every op of a failed group */
	size_t n_deleted;	/* ACK: how many ids were found and deleted */
};

struct mbox_store;

/* Open or create the store at path (the file is created 0600). lim is
 * copied; NULL means mbox_limits_default(). Returns 0 and sets *out, or
 * ERR_CORRUPT (not a Burrow mailbox database, or damaged), ERR_UNSUPPORTED
 * (a newer schema version), ERR_IO (cannot open or create). Logs why. */
int MUST_CHECK mbox_store_open(struct mbox_store **out, const char *path,
			       const struct mbox_limits *lim);
/* Close the store (NULL allowed). Everything committed is on disk. */
void mbox_store_free(struct mbox_store *s);
#define mbox_store_free_and_null(s) do { mbox_store_free(s); (s) = NULL; } while (0)

/* Replace the limits; they apply to later deposits and expiries. */
void mbox_store_set_limits(struct mbox_store *s, const struct mbox_limits *lim);

/* Store one deposit in its own transaction, durable when this returns 0.
 * now is unix time. Returns 0 (stored), ERR_DUPLICATE (msg_id is already
 * stored in box: re-acknowledge it), ERR_FULL (mailbox quota or global
 * cap: refused and counted, nothing old dropped), ERR_TOO_BIG (len over
 * MBOX_ENTRY_MAX), ERR_MALFORMED (len 0) or ERR_IO. */
int MUST_CHECK mbox_store_put(struct mbox_store *s, const uint8_t box[static MBOX_ID_LEN],
			      const uint8_t msg_id[static MBOX_MSG_ID_LEN],
			      const uint8_t *entry, size_t len, uint64_t now);

/* Apply n operations in one transaction with one commit (group commit):
 * each op's result is set as if applied alone, in order, so later ops see
 * earlier ones. Returns 0 when the group is durable, or ERR_IO when the
 * group rolled back (then every op's result is ERR_IO and nothing of it
 * is stored). */
int MUST_CHECK mbox_store_apply(struct mbox_store *s, struct mbox_op *ops, size_t n,
				uint64_t now);

/* Read up to max (at most MBOX_FETCH_MAX) of box's oldest messages with
 * seq > after, oldest first, deleting nothing. Sets *n; each item's entry
 * must be released with mbox_items_clear. Returns 0 (also when box is
 * empty or unknown: *n = 0), ERR_RANGE (max over MBOX_FETCH_MAX) or ERR_IO. */
int MUST_CHECK mbox_store_fetch(struct mbox_store *s, const uint8_t box[static MBOX_ID_LEN],
				uint64_t after, size_t max, struct mbox_item *items,
				size_t *n);
/* Free the entries of n fetched items (wiped first) and zero the items. */
void mbox_items_clear(struct mbox_item *items, size_t n);

/* Delete the messages of box named by ids, in one durable transaction.
 * An id not stored in box (unknown, or another mailbox's) deletes nothing.
 * Sets *deleted (may be NULL). Returns 0 or ERR_IO. */
int MUST_CHECK mbox_store_ack(struct mbox_store *s, const uint8_t box[static MBOX_ID_LEN],
			      const uint8_t (*ids)[MBOX_MSG_ID_LEN], size_t n,
			      size_t *deleted);

/* How many messages and entry bytes box holds (0, 0 when unknown).
 * Returns 0 or ERR_IO. */
int MUST_CHECK mbox_store_count(struct mbox_store *s, const uint8_t box[static MBOX_ID_LEN],
				uint64_t *msgs, uint64_t *bytes);

/* Delete every message older than the TTL at unix time now (nothing when
 * the TTL is 0). Sets *removed (may be NULL). Returns 0 or ERR_IO. */
int MUST_CHECK mbox_store_expire(struct mbox_store *s, uint64_t now, uint64_t *removed);

/* Run PRAGMA integrity_check: 0 (ok), ERR_CORRUPT (logged) or ERR_IO. */
int MUST_CHECK mbox_store_check(struct mbox_store *s);

/* Copy the counters and gauges. */
void mbox_store_stats(struct mbox_store *s, struct mbox_stats *out);

#endif
