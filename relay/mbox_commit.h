/* Group commit for the mailbox store: the event loop queues deposits and
 * acknowledgements, a writer thread applies everything queued (up to a
 * batch limit) in one transaction with one WAL sync, and each callback
 * runs on the event loop thread only after its group is durable.
 *
 * While one group is being synced the next one queues up, so under load
 * the batch grows and the fsync cost is shared; when idle a deposit is
 * committed at once (no waiting to fill a batch).
 *
 * The loop is woken through a pipe, so the event_base needs no
 * evthread_use_pthreads(). Every function here is for the event loop's
 * thread only. */
#ifndef BURROW_RELAY_MBOX_COMMIT_H
#define BURROW_RELAY_MBOX_COMMIT_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "relay/mbox_store.h"

struct event_base;
struct mbox_commit;

#define MBOX_COMMIT_MAX_BATCH 256	/* default: most ops in one transaction */
#define MBOX_COMMIT_MAX_QUEUE 8192	/* default: most ops waiting for the writer */

/* Called on the event loop thread once the op's group is on disk (or has
 * failed). For a deposit, result is 0 (stored), ERR_DUPLICATE (already
 * stored: acknowledge again), ERR_FULL (refused: quota or global cap),
 * ERR_TOO_BIG / ERR_MALFORMED (bad length) or ERR_IO (not stored). For an
 * acknowledgement, result is 0 or ERR_IO and n_deleted counts the ids
 * found. The callback may queue more ops but must not free the batcher. */
typedef void mbox_done_fn(int result, size_t n_deleted, void *arg);

/* Start a writer thread for store, reporting to base. store and base are
 * borrowed and must outlive the batcher. max_batch and max_queue of 0 take
 * the defaults above. Never returns NULL; aborts if a thread or pipe cannot
 * be made. */
struct mbox_commit *mbox_commit_new(struct mbox_store *store, struct event_base *base,
				    size_t max_batch, size_t max_queue);

/* Commit everything still queued, run every remaining callback (on the
 * calling thread, which must be the loop's), stop the writer and free
 * (NULL allowed). Must not be called from inside a callback; ops queued
 * by those last callbacks are refused with ERR_CLOSED. */
void mbox_commit_free(struct mbox_commit *c);
#define mbox_commit_free_and_null(c) do { mbox_commit_free(c); (c) = NULL; } while (0)

/* Queue one deposit (entry is copied; now is unix time). cb runs later
 * with the outcome. Returns 0 (queued), ERR_LIMIT (queue full: not queued,
 * no callback, counted; the sender will retransmit), ERR_TOO_BIG or
 * ERR_MALFORMED (bad length), ERR_CLOSED (being freed); in each of those
 * cases nothing is queued and cb never runs. */
int MUST_CHECK mbox_commit_put(struct mbox_commit *c, const uint8_t box[static MBOX_ID_LEN],
			       const uint8_t msg_id[static MBOX_MSG_ID_LEN],
			       const uint8_t *entry, size_t len, uint64_t now,
			       mbox_done_fn *cb, void *arg);

/* Queue the deletion of n message ids (copied) from box; cb may be NULL.
 * Returns 0 (queued), ERR_LIMIT (queue full, or n over MBOX_FETCH_MAX) or
 * ERR_CLOSED (being freed); on error nothing is queued and cb never runs. */
int MUST_CHECK mbox_commit_ack(struct mbox_commit *c, const uint8_t box[static MBOX_ID_LEN],
			       const uint8_t (*ids)[MBOX_MSG_ID_LEN], size_t n,
			       mbox_done_fn *cb, void *arg);

/* Ops queued or in flight whose callbacks have not yet run. */
size_t mbox_commit_pending(const struct mbox_commit *c);

/* Ops refused with ERR_LIMIT since the batcher started (for /metrics). */
uint64_t mbox_commit_queue_full(const struct mbox_commit *c);

#endif
