/* Tests for relay/mbox_store and relay/mbox_commit. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>
#include <sqlite3.h>

#include "common/err.h"
#include "common/util.h"
#include "relay/mbox_commit.h"
#include "relay/mbox_store.h"
#include "tests/check.h"

#define T0 1700000040ull	/* a minute boundary */
#define ENTRY_LEN 1710

static char dir[512];
static char dbpath[600];
static int dbn;

/* A fresh database path for each test, under the build directory (not
 * /tmp, which may be tmpfs). */
static const char *
fresh_db(void)
{
	snprintf(dbpath, sizeof(dbpath), "%s/m%d.db", dir, dbn++);
	return dbpath;
}

static void
rm_db(const char *path)
{
	char p[700];

	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
}

static struct mbox_store *
open_db(const char *path, const struct mbox_limits *lim)
{
	struct mbox_store *s = NULL;
	int r = mbox_store_open(&s, path, lim);

	CHECK_EQ(r, 0);
	if (!s) {
		fprintf(stderr, "  cannot open %s: %s\n", path, err_str(r));
		exit(1);
	}
	return s;
}

static void
mk_box(uint8_t box[MBOX_ID_LEN], uint8_t tag)
{
	memset(box, tag, MBOX_ID_LEN);
}

static void
mk_id(uint8_t id[MBOX_MSG_ID_LEN], unsigned n)
{
	memset(id, 0xa5, MBOX_MSG_ID_LEN);
	id[0] = (uint8_t)(n >> 24);
	id[1] = (uint8_t)(n >> 16);
	id[2] = (uint8_t)(n >> 8);
	id[3] = (uint8_t)n;
}

static void
mk_entry(uint8_t *e, size_t len, unsigned n)
{
	for (size_t i = 0; i < len; i++)
		e[i] = (uint8_t)(n * 31 + i);
}

static int
put_n(struct mbox_store *s, const uint8_t box[MBOX_ID_LEN], unsigned n, size_t len,
      uint64_t now)
{
	uint8_t id[MBOX_MSG_ID_LEN], e[ENTRY_LEN];

	mk_id(id, n);
	mk_entry(e, len, n);
	return mbox_store_put(s, box, id, e, len, now);
}

static uint64_t
count_of(struct mbox_store *s, const uint8_t box[MBOX_ID_LEN])
{
	uint64_t msgs = 0, bytes = 0;

	CHECK_EQ(mbox_store_count(s, box, &msgs, &bytes), 0);
	return msgs;
}

static void
test_put_fetch_ack_gone(void)
{
	const char *path = fresh_db();
	struct mbox_store *s = open_db(path, NULL);
	uint8_t box[MBOX_ID_LEN], e[ENTRY_LEN], ids[3][MBOX_MSG_ID_LEN];
	struct mbox_item items[8];
	struct mbox_stats st;
	uint64_t msgs, bytes;
	size_t n = 99, del = 99;

	mk_box(box, 1);
	for (unsigned i = 0; i < 3; i++)
		CHECK_EQ(put_n(s, box, i, ENTRY_LEN, T0 + 17), 0);
	CHECK_EQ(mbox_store_count(s, box, &msgs, &bytes), 0);
	CHECK_EQ(msgs, 3);
	CHECK_EQ(bytes, 3 * ENTRY_LEN);

	CHECK_EQ(mbox_store_fetch(s, box, 0, 8, items, &n), 0);
	CHECK_EQ(n, 3);
	for (unsigned i = 0; i < n; i++) {
		uint8_t id[MBOX_MSG_ID_LEN];

		mk_id(id, i);
		mk_entry(e, ENTRY_LEN, i);
		CHECK(sodium_memcmp(items[i].msg_id, id, sizeof(id)) == 0);
		CHECK_EQ(items[i].len, ENTRY_LEN);
		CHECK(items[i].entry && sodium_memcmp(items[i].entry, e, ENTRY_LEN) == 0);
		/* Arrival time is kept only to the minute. */
		CHECK_EQ(items[i].received, T0);
		if (i)
			CHECK(items[i].seq > items[i - 1].seq);
		memcpy(ids[i], items[i].msg_id, MBOX_MSG_ID_LEN);
	}
	mbox_items_clear(items, n);

	CHECK_EQ(mbox_store_ack(s, box, (const uint8_t (*)[MBOX_MSG_ID_LEN])ids, 3, &del), 0);
	CHECK_EQ(del, 3);
	CHECK_EQ(mbox_store_fetch(s, box, 0, 8, items, &n), 0);
	CHECK_EQ(n, 0);
	CHECK_EQ(count_of(s, box), 0);
	mbox_store_stats(s, &st);
	CHECK_EQ(st.stored, 3);
	CHECK_EQ(st.acked, 3);
	CHECK_EQ(st.msgs, 0);
	CHECK_EQ(st.bytes, 0);
	CHECK_EQ(mbox_store_check(s), 0);
	mbox_store_free(s);
	rm_db(path);
}

static void
test_duplicate_stored_once(void)
{
	const char *path = fresh_db();
	struct mbox_store *s = open_db(path, NULL);
	uint8_t a[MBOX_ID_LEN], b[MBOX_ID_LEN];
	struct mbox_stats st;

	mk_box(a, 1);
	mk_box(b, 2);
	CHECK_EQ(put_n(s, a, 7, 100, T0), 0);
	CHECK_EQ(put_n(s, a, 7, 100, T0 + 5), ERR_DUPLICATE);
	CHECK_EQ(put_n(s, a, 7, 50, T0 + 9), ERR_DUPLICATE);
	CHECK_EQ(count_of(s, a), 1);
	/* Message ids are scoped to their mailbox. */
	CHECK_EQ(put_n(s, b, 7, 100, T0), 0);
	CHECK_EQ(count_of(s, b), 1);
	mbox_store_stats(s, &st);
	CHECK_EQ(st.stored, 2);
	CHECK_EQ(st.duplicates, 2);
	mbox_store_free(s);
	rm_db(path);
}

static void
test_ack_scoped_to_box(void)
{
	const char *path = fresh_db();
	struct mbox_store *s = open_db(path, NULL);
	uint8_t a[MBOX_ID_LEN], b[MBOX_ID_LEN], ids[2][MBOX_MSG_ID_LEN];
	size_t del = 99;

	mk_box(a, 1);
	mk_box(b, 2);
	CHECK_EQ(put_n(s, a, 1, 10, T0), 0);
	CHECK_EQ(put_n(s, a, 2, 10, T0), 0);
	mk_id(ids[0], 1);
	mk_id(ids[1], 2);
	/* Another mailbox's ids delete nothing. */
	CHECK_EQ(mbox_store_ack(s, b, (const uint8_t (*)[MBOX_MSG_ID_LEN])ids, 2, &del), 0);
	CHECK_EQ(del, 0);
	/* Unknown ids delete nothing. */
	mk_id(ids[0], 77);
	mk_id(ids[1], 78);
	CHECK_EQ(mbox_store_ack(s, a, (const uint8_t (*)[MBOX_MSG_ID_LEN])ids, 2, &del), 0);
	CHECK_EQ(del, 0);
	CHECK_EQ(count_of(s, a), 2);
	/* A mix deletes only what is there. */
	mk_id(ids[0], 2);
	CHECK_EQ(mbox_store_ack(s, a, (const uint8_t (*)[MBOX_MSG_ID_LEN])ids, 2, &del), 0);
	CHECK_EQ(del, 1);
	CHECK_EQ(count_of(s, a), 1);
	mbox_store_free(s);
	rm_db(path);
}

static void
test_quota_msgs(void)
{
	const char *path = fresh_db();
	struct mbox_limits lim = mbox_limits_default();
	struct mbox_store *s;
	uint8_t a[MBOX_ID_LEN], b[MBOX_ID_LEN], id[1][MBOX_MSG_ID_LEN];
	struct mbox_item items[4];
	struct mbox_stats st;
	size_t n;

	lim.max_msgs_per_box = 3;
	s = open_db(path, &lim);
	mk_box(a, 1);
	mk_box(b, 2);
	for (unsigned i = 0; i < 3; i++)
		CHECK_EQ(put_n(s, a, i, 10, T0), 0);
	CHECK_EQ(put_n(s, a, 3, 10, T0), ERR_FULL);
	CHECK_EQ(put_n(s, a, 4, 10, T0), ERR_FULL);
	/* A retransmission into a full mailbox is still re-acknowledged. */
	CHECK_EQ(put_n(s, a, 1, 10, T0), ERR_DUPLICATE);
	/* The old ones are kept, not dropped. */
	CHECK_EQ(mbox_store_fetch(s, a, 0, 4, items, &n), 0);
	CHECK_EQ(n, 3);
	mk_id(id[0], 0);
	CHECK(n > 0 && sodium_memcmp(items[0].msg_id, id[0], MBOX_MSG_ID_LEN) == 0);
	mbox_items_clear(items, n);
	/* Other mailboxes are unaffected. */
	CHECK_EQ(put_n(s, b, 3, 10, T0), 0);
	/* Room again after an acknowledgement. */
	CHECK_EQ(mbox_store_ack(s, a, (const uint8_t (*)[MBOX_MSG_ID_LEN])id, 1, NULL), 0);
	CHECK_EQ(put_n(s, a, 3, 10, T0), 0);
	mbox_store_stats(s, &st);
	CHECK_EQ(st.refused_full_box, 2);
	CHECK_EQ(st.refused_disk_cap, 0);
	mbox_store_free(s);
	rm_db(path);
}

static void
test_quota_bytes(void)
{
	const char *path = fresh_db();
	struct mbox_limits lim = mbox_limits_default();
	struct mbox_store *s;
	uint8_t a[MBOX_ID_LEN];
	struct mbox_stats st;
	uint64_t msgs, bytes;

	lim.max_bytes_per_box = 2500;
	s = open_db(path, &lim);
	mk_box(a, 1);
	CHECK_EQ(put_n(s, a, 0, 1000, T0), 0);
	CHECK_EQ(put_n(s, a, 1, 1000, T0), 0);
	CHECK_EQ(put_n(s, a, 2, 1000, T0), ERR_FULL);
	CHECK_EQ(put_n(s, a, 3, 500, T0), 0);		/* exactly at the quota */
	CHECK_EQ(put_n(s, a, 4, 1, T0), ERR_FULL);
	CHECK_EQ(mbox_store_count(s, a, &msgs, &bytes), 0);
	CHECK_EQ(msgs, 3);
	CHECK_EQ(bytes, 2500);
	mbox_store_stats(s, &st);
	CHECK_EQ(st.refused_full_box, 2);
	mbox_store_free(s);
	rm_db(path);
}

static void
test_global_cap(void)
{
	const char *path = fresh_db();
	struct mbox_limits lim = mbox_limits_default();
	struct mbox_store *s;
	uint8_t box[MBOX_ID_LEN];
	struct mbox_stats st;

	lim.max_total_bytes = 3000;
	s = open_db(path, &lim);
	for (unsigned i = 0; i < 3; i++) {
		mk_box(box, (uint8_t)(10 + i));
		CHECK_EQ(put_n(s, box, i, 1000, T0), 0);
	}
	mk_box(box, 20);
	CHECK_EQ(put_n(s, box, 9, 1000, T0), ERR_FULL);
	CHECK_EQ(count_of(s, box), 0);
	mbox_store_stats(s, &st);
	CHECK_EQ(st.refused_disk_cap, 1);
	CHECK_EQ(st.refused_full_box, 0);
	CHECK_EQ(st.bytes, 3000);
	CHECK_EQ(st.msgs, 3);
	/* The cap is kept across a reopen (it is computed from the file). */
	mbox_store_free(s);
	s = open_db(path, &lim);
	CHECK_EQ(put_n(s, box, 9, 1, T0), ERR_FULL);
	mbox_store_stats(s, &st);
	CHECK_EQ(st.bytes, 3000);
	mbox_store_free(s);
	rm_db(path);
}

static void
test_ttl_expiry(void)
{
	const char *path = fresh_db();
	struct mbox_limits lim = mbox_limits_default();
	struct mbox_store *s;
	uint8_t box[MBOX_ID_LEN];
	struct mbox_item items[4];
	struct mbox_stats st;
	uint64_t removed = 99;
	size_t n;

	lim.ttl_seconds = 3600;
	s = open_db(path, &lim);
	mk_box(box, 1);
	CHECK_EQ(put_n(s, box, 1, 10, T0 + 59), 0);		/* stored as T0 */
	CHECK_EQ(put_n(s, box, 2, 10, T0 + 1800), 0);
	/* Kept at least the TTL, counted from the real arrival time. */
	CHECK_EQ(mbox_store_expire(s, T0 + 59 + 3600, &removed), 0);
	CHECK_EQ(removed, 0);
	CHECK_EQ(mbox_store_expire(s, T0 + 60 + 3600, &removed), 0);
	CHECK_EQ(removed, 1);
	CHECK_EQ(mbox_store_fetch(s, box, 0, 4, items, &n), 0);
	CHECK_EQ(n, 1);
	if (n == 1)
		CHECK_EQ(items[0].msg_id[3], 2);
	mbox_items_clear(items, n);
	mbox_store_stats(s, &st);
	CHECK_EQ(st.expired, 1);
	/* TTL 0 never expires. */
	lim.ttl_seconds = 0;
	mbox_store_set_limits(s, &lim);
	CHECK_EQ(mbox_store_expire(s, T0 + 100 * 86400, &removed), 0);
	CHECK_EQ(removed, 0);
	CHECK_EQ(count_of(s, box), 1);
	mbox_store_free(s);
	rm_db(path);
}

static void
test_expire_many(void)
{
	const char *path = fresh_db();
	struct mbox_limits lim = mbox_limits_default();
	struct mbox_store *s;
	struct mbox_op *ops = xcalloc(3000, sizeof(*ops));
	uint8_t box[MBOX_ID_LEN], (*ids)[MBOX_MSG_ID_LEN] = xcalloc(3000, MBOX_MSG_ID_LEN);
	uint8_t e[8] = { 1 };
	uint64_t removed = 0;

	lim.ttl_seconds = 60;
	s = open_db(path, &lim);
	mk_box(box, 3);
	for (unsigned i = 0; i < 3000; i++) {
		mk_id(ids[i], i);
		ops[i] = (struct mbox_op){ .kind = MBOX_OP_PUT, .box = box, .msg_id = ids[i],
					   .entry = e, .len = sizeof(e) };
	}
	CHECK_EQ(mbox_store_apply(s, ops, 3000, T0), 0);
	CHECK_EQ(put_n(s, box, 5000, 8, T0 + 600), 0);
	/* More than one delete chunk. */
	CHECK_EQ(mbox_store_expire(s, T0 + 300, &removed), 0);
	CHECK_EQ(removed, 3000);
	CHECK_EQ(count_of(s, box), 1);
	mbox_store_free(s);
	free(ops);
	free(ids);
	rm_db(path);
}

static void
test_fetch_without_ack_survives_reopen(void)
{
	const char *path = fresh_db();
	struct mbox_store *s = open_db(path, NULL);
	uint8_t box[MBOX_ID_LEN], e[ENTRY_LEN];
	struct mbox_item items[8];
	uint64_t last = 0;
	size_t n, total = 0;

	mk_box(box, 4);
	for (unsigned i = 0; i < 5; i++)
		CHECK_EQ(put_n(s, box, i, ENTRY_LEN, T0), 0);
	/* Fetch in batches of two with a cursor, acknowledging nothing. */
	do {
		CHECK_EQ(mbox_store_fetch(s, box, last, 2, items, &n), 0);
		for (size_t i = 0; i < n; i++) {
			CHECK_EQ(items[i].msg_id[3], total + i);
			last = items[i].seq;
		}
		total += n;
		mbox_items_clear(items, n);
	} while (n == 2);
	CHECK_EQ(total, 5);
	mbox_store_free(s);

	s = open_db(path, NULL);
	CHECK_EQ(mbox_store_fetch(s, box, 0, 8, items, &n), 0);
	CHECK_EQ(n, 5);
	for (size_t i = 0; i < n; i++) {
		mk_entry(e, ENTRY_LEN, (unsigned)i);
		CHECK(items[i].len == ENTRY_LEN &&
		      sodium_memcmp(items[i].entry, e, ENTRY_LEN) == 0);
	}
	mbox_items_clear(items, n);
	CHECK_EQ(mbox_store_fetch(s, box, 0, MBOX_FETCH_MAX + 1, items, &n), ERR_RANGE);
	CHECK_EQ(mbox_store_check(s), 0);
	mbox_store_free(s);
	rm_db(path);
}

static void
test_seq_never_reused(void)
{
	const char *path = fresh_db();
	struct mbox_store *s = open_db(path, NULL);
	uint8_t box[MBOX_ID_LEN], id[1][MBOX_MSG_ID_LEN];
	struct mbox_item items[4];
	uint64_t seq_b = 0;
	size_t n;

	mk_box(box, 5);
	CHECK_EQ(put_n(s, box, 1, 10, T0), 0);
	CHECK_EQ(put_n(s, box, 2, 10, T0), 0);
	CHECK_EQ(mbox_store_fetch(s, box, 0, 4, items, &n), 0);
	CHECK_EQ(n, 2);
	if (n == 2)
		seq_b = items[1].seq;
	mbox_items_clear(items, n);
	mk_id(id[0], 2);
	CHECK_EQ(mbox_store_ack(s, box, (const uint8_t (*)[MBOX_MSG_ID_LEN])id, 1, NULL), 0);
	mbox_store_free(s);
	s = open_db(path, NULL);
	CHECK_EQ(put_n(s, box, 3, 10, T0), 0);
	/* A cursor past b still sees the new message. */
	CHECK_EQ(mbox_store_fetch(s, box, seq_b, 4, items, &n), 0);
	CHECK_EQ(n, 1);
	if (n == 1)
		CHECK(items[0].seq > seq_b && items[0].msg_id[3] == 3);
	mbox_items_clear(items, n);
	mbox_store_free(s);
	rm_db(path);
}

static void
test_bad_lengths(void)
{
	const char *path = fresh_db();
	struct mbox_store *s = open_db(path, NULL);
	uint8_t box[MBOX_ID_LEN], id[MBOX_MSG_ID_LEN];
	uint8_t *big = xcalloc(1, MBOX_ENTRY_MAX + 1);
	struct mbox_op ops[2];

	mk_box(box, 6);
	mk_id(id, 1);
	CHECK_EQ(mbox_store_put(s, box, id, big, 0, T0), ERR_MALFORMED);
	CHECK_EQ(mbox_store_put(s, box, id, big, MBOX_ENTRY_MAX + 1, T0), ERR_TOO_BIG);
	CHECK_EQ(mbox_store_put(s, box, id, big, MBOX_ENTRY_MAX, T0), 0);
	/* In a group a bad op fails alone. */
	memset(ops, 0, sizeof(ops));
	ops[0] = (struct mbox_op){ .kind = MBOX_OP_PUT, .box = box, .msg_id = id, .entry = big,
				   .len = MBOX_ENTRY_MAX + 1 };
	mk_id(id, 2);
	ops[1] = (struct mbox_op){ .kind = MBOX_OP_PUT, .box = box, .msg_id = id, .entry = big,
				   .len = 5 };
	CHECK_EQ(mbox_store_apply(s, ops, 2, T0), 0);
	CHECK_EQ(ops[0].result, ERR_TOO_BIG);
	CHECK_EQ(ops[1].result, 0);
	CHECK_EQ(count_of(s, box), 2);
	free(big);
	mbox_store_free(s);
	rm_db(path);
}

static void
test_group_sees_itself(void)
{
	const char *path = fresh_db();
	struct mbox_limits lim = mbox_limits_default();
	struct mbox_store *s;
	uint8_t box[MBOX_ID_LEN], id[3][MBOX_MSG_ID_LEN], e[4] = { 1, 2, 3, 4 };
	struct mbox_op ops[4];
	struct mbox_stats st;

	lim.max_msgs_per_box = 2;
	s = open_db(path, &lim);
	mk_box(box, 7);
	for (unsigned i = 0; i < 3; i++)
		mk_id(id[i], i);
	memset(ops, 0, sizeof(ops));
	for (unsigned i = 0; i < 4; i++) {
		ops[i].kind = MBOX_OP_PUT;
		ops[i].box = box;
		ops[i].entry = e;
		ops[i].len = sizeof(e);
	}
	ops[0].msg_id = id[0];
	ops[1].msg_id = id[0];	/* duplicate of an op in the same group */
	ops[2].msg_id = id[1];
	ops[3].msg_id = id[2];	/* over the quota counted within the group */
	CHECK_EQ(mbox_store_apply(s, ops, 4, T0), 0);
	CHECK_EQ(ops[0].result, 0);
	CHECK_EQ(ops[1].result, ERR_DUPLICATE);
	CHECK_EQ(ops[2].result, 0);
	CHECK_EQ(ops[3].result, ERR_FULL);
	mbox_store_stats(s, &st);
	CHECK_EQ(st.commits, 1);
	CHECK_EQ(st.ops_committed, 4);
	CHECK_EQ(st.max_batch, 4);
	mbox_store_free(s);
	rm_db(path);
}

struct async_ctx {
	int results[400];
	size_t deleted[400];
	int calls[400];
	int done;
};

struct async_arg {
	struct async_ctx *ctx;
	int i;
};

static void
async_done(int result, size_t n_deleted, void *arg)
{
	struct async_arg *a = arg;

	a->ctx->results[a->i] = result;
	a->ctx->deleted[a->i] = n_deleted;
	a->ctx->calls[a->i]++;
	a->ctx->done++;
}

static void
test_async_grouped(void)
{
	const char *path = fresh_db();
	struct mbox_store *s = open_db(path, NULL);
	struct event_base *base = event_base_new();
	struct mbox_commit *c = mbox_commit_new(s, base, 16, 1000);
	static struct async_ctx ctx;
	static struct async_arg args[400];
	uint8_t box[MBOX_ID_LEN], id[MBOX_MSG_ID_LEN], e[ENTRY_LEN], ids[2][MBOX_MSG_ID_LEN];
	struct mbox_stats st;
	const int n = 300;

	memset(&ctx, 0, sizeof(ctx));
	mk_box(box, 8);
	for (int i = 0; i <= n + 1; i++) {
		args[i].ctx = &ctx;
		args[i].i = i;
	}
	for (int i = 0; i < n; i++) {
		mk_id(id, (unsigned)i);
		mk_entry(e, ENTRY_LEN, (unsigned)i);
		CHECK_EQ(mbox_commit_put(c, box, id, e, ENTRY_LEN, T0, async_done, &args[i]), 0);
	}
	/* A retransmission queued behind its original. */
	mk_id(id, 5);
	CHECK_EQ(mbox_commit_put(c, box, id, e, ENTRY_LEN, T0, async_done, &args[n]), 0);
	CHECK_EQ(mbox_commit_put(c, box, id, e, 0, T0, async_done, &args[n]), ERR_MALFORMED);
	/* An acknowledgement queued in the same stream. */
	mk_id(ids[0], 0);
	mk_id(ids[1], 999);
	CHECK_EQ(mbox_commit_ack(c, box, (const uint8_t (*)[MBOX_MSG_ID_LEN])ids, 2, async_done,
				 &args[n + 1]), 0);
	CHECK_EQ(mbox_commit_pending(c), n + 2);
	while (ctx.done < n + 2)
		event_base_loop(base, EVLOOP_ONCE);
	CHECK_EQ(mbox_commit_pending(c), 0);
	for (int i = 0; i < n; i++) {
		CHECK_EQ(ctx.calls[i], 1);
		CHECK_EQ(ctx.results[i], 0);
	}
	CHECK_EQ(ctx.results[n], ERR_DUPLICATE);
	CHECK_EQ(ctx.results[n + 1], 0);
	CHECK_EQ(ctx.deleted[n + 1], 1);
	mbox_store_stats(s, &st);
	CHECK_EQ(st.stored, n);
	CHECK(st.commits >= (uint64_t)(n + 2 + 15) / 16);
	CHECK(st.commits < (uint64_t)n);
	CHECK(st.max_batch <= 16);

	/* Queue bound: over max_queue is refused and counted. */
	mbox_commit_free(c);
	c = mbox_commit_new(s, base, 4, 2);
	mk_id(id, 1000);
	CHECK_EQ(mbox_commit_put(c, box, id, e, 10, T0, NULL, NULL), 0);
	mk_id(id, 1001);
	CHECK_EQ(mbox_commit_put(c, box, id, e, 10, T0, NULL, NULL), 0);
	mk_id(id, 1002);
	CHECK_EQ(mbox_commit_put(c, box, id, e, 10, T0, NULL, NULL), ERR_LIMIT);
	CHECK_EQ(mbox_commit_queue_full(c), 1);
	/* Freeing commits what is queued. */
	mbox_commit_free(c);
	event_base_free(base);
	mbox_store_free(s);

	/* Every acknowledged deposit is still there after a reopen. */
	s = open_db(path, NULL);
	CHECK_EQ(count_of(s, box), n - 1 + 2);
	CHECK_EQ(mbox_store_check(s), 0);
	mbox_store_free(s);
	rm_db(path);
}

struct requeue {
	struct mbox_commit *c;
	int result, again;
};

static void
requeue_done(int result, size_t n_deleted, void *arg)
{
	struct requeue *q = arg;
	uint8_t box[MBOX_ID_LEN], id[MBOX_MSG_ID_LEN], e[1] = { 1 };

	q->result = result;
	mk_box(box, 10);
	mk_id(id, 2);
	q->again = mbox_commit_put(q->c, box, id, e, 1, T0, NULL, NULL);
}

/* A callback run by mbox_commit_free cannot queue more work. */
static void
test_commit_free_refuses_new(void)
{
	const char *path = fresh_db();
	struct mbox_store *s = open_db(path, NULL);
	struct event_base *base = event_base_new();
	struct requeue q = { .result = 99, .again = 99 };
	uint8_t box[MBOX_ID_LEN], id[MBOX_MSG_ID_LEN], e[1] = { 1 };

	q.c = mbox_commit_new(s, base, 0, 0);
	mk_box(box, 10);
	mk_id(id, 1);
	CHECK_EQ(mbox_commit_put(q.c, box, id, e, 1, T0, requeue_done, &q), 0);
	mbox_commit_free(q.c);
	CHECK_EQ(q.result, 0);
	CHECK_EQ(q.again, ERR_CLOSED);
	CHECK_EQ(count_of(s, box), 1);
	event_base_free(base);
	mbox_store_free(s);
	rm_db(path);
}

static void
test_not_a_database(void)
{
	const char *path = fresh_db();
	struct mbox_store *s = NULL;
	char text[4096];
	FILE *f;

	memset(text, 'x', sizeof(text));
	f = fopen(path, "wb");
	CHECK(f != NULL);
	if (!f)
		return;
	fwrite(text, 1, sizeof(text), f);
	fclose(f);
	CHECK_EQ(mbox_store_open(&s, path, NULL), ERR_CORRUPT);
	CHECK(s == NULL);
	rm_db(path);

	/* A truncated header is also refused. */
	f = fopen(path, "wb");
	if (f) {
		fwrite("SQLite format 3", 1, 16, f);
		fclose(f);
	}
	CHECK_EQ(mbox_store_open(&s, path, NULL), ERR_CORRUPT);
	rm_db(path);

	/* A directory that does not exist. */
	snprintf(text, sizeof(text), "%s/no/such/dir/m.db", dir);
	CHECK_EQ(mbox_store_open(&s, text, NULL), ERR_IO);
	CHECK(s == NULL);
}

static void
test_foreign_database(void)
{
	const char *path = fresh_db();
	struct mbox_store *s = open_db(path, NULL);
	struct stat sb;

	/* Our file is private to the node. */
	CHECK_EQ(stat(path, &sb), 0);
	CHECK_EQ(sb.st_mode & 0777, 0600);
	mbox_store_free(s);
	rm_db(path);

	/* An SQLite database that is not ours. */
	{
		sqlite3 *db = NULL;

		CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
		CHECK_EQ(sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
		CHECK_EQ(mbox_store_open(&s, path, NULL), ERR_CORRUPT);
		rm_db(path);
		/* One from a newer Burrow. */
		CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
		CHECK_EQ(sqlite3_exec(db, "PRAGMA user_version = 9", NULL, NULL, NULL), SQLITE_OK);
		sqlite3_close(db);
		CHECK_EQ(mbox_store_open(&s, path, NULL), ERR_UNSUPPORTED);
		rm_db(path);
	}
}

/* A writer killed with SIGKILL loses nothing it had acknowledged. */
static void
test_killed_writer(void)
{
	const char *path = fresh_db();
	uint8_t box[MBOX_ID_LEN];
	struct mbox_store *s;
	int fds[2];
	pid_t pid;
	unsigned acked = 0, got;
	ssize_t r;

	mk_box(box, 9);
	CHECK_EQ(pipe(fds), 0);
	pid = fork();
	if (pid == 0) {
		close(fds[0]);
		s = open_db(path, NULL);
		for (unsigned i = 0;; i++) {
			if (put_n(s, box, i, ENTRY_LEN, T0) != 0)
				_exit(2);
			if (write(fds[1], &i, sizeof(i)) != sizeof(i))
				_exit(3);
		}
	}
	CHECK(pid > 0);
	close(fds[1]);
	while (acked < 40 && read(fds[0], &got, sizeof(got)) == sizeof(got))
		acked++;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	while ((r = read(fds[0], &got, sizeof(got))) == sizeof(got))
		acked++;
	close(fds[0]);
	CHECK(acked >= 40);

	s = open_db(path, NULL);
	CHECK_EQ(mbox_store_check(s), 0);
	for (unsigned i = 0; i < acked; i++) {
		uint8_t id[MBOX_MSG_ID_LEN], e[ENTRY_LEN];

		mk_id(id, i);
		mk_entry(e, ENTRY_LEN, i);
		/* Present: a second deposit is a duplicate. */
		CHECK_EQ(mbox_store_put(s, box, id, e, ENTRY_LEN, T0), ERR_DUPLICATE);
	}
	CHECK(count_of(s, box) >= acked);
	CHECK(count_of(s, box) <= acked + 1);
	mbox_store_free(s);
	rm_db(path);
}

int
main(int argc, char **argv)
{
	const char *build = getenv("BUILD");
	char parent[400];

	check_begin(argv[0]);
	crypto_init();
	snprintf(parent, sizeof(parent), "%s/test-tmp", build && *build ? build : "build");
	if (mkdir(parent, 0700) < 0 && errno != EEXIST)
		snprintf(parent, sizeof(parent), "%s", getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
	snprintf(dir, sizeof(dir), "%s/mbox.XXXXXX", parent);
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_put_fetch_ack_gone);
	RUN(test_duplicate_stored_once);
	RUN(test_ack_scoped_to_box);
	RUN(test_quota_msgs);
	RUN(test_quota_bytes);
	RUN(test_global_cap);
	RUN(test_ttl_expiry);
	RUN(test_expire_many);
	RUN(test_fetch_without_ack_survives_reopen);
	RUN(test_seq_never_reused);
	RUN(test_bad_lengths);
	RUN(test_group_sees_itself);
	RUN(test_async_grouped);
	RUN(test_commit_free_refuses_new);
	RUN(test_not_a_database);
	RUN(test_foreign_database);
	RUN(test_killed_writer);
	rmdir(dir);
	return check_end();
}
