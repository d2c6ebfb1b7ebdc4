/* The outbox: messages being sent, fragment by fragment. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client/store.h"
#include "client/store_int.h"
#include "common/util.h"

int
store_out_add(struct store *st, const uint8_t msg_id[static MSG_ID_LEN], const char *to,
	      const char *label, uint64_t total_len, uint32_t count, bool is_signed, int64_t *id)
{
	int r = store_step_done(st, store_prep(st,
		"INSERT INTO out_msg (msg_id, rcpt, label, created, total_len, count, signed)"
		" VALUES (?, ?, ?, ?, ?, ?, ?)", "bttiiii", msg_id, (size_t)MSG_ID_LEN, to, label,
		(int64_t)time_now(), (int64_t)total_len, (int64_t)count, (int64_t)is_signed));

	*id = r == 0 ? sqlite3_last_insert_rowid(st->db) : 0;
	return r;
}

int
store_out_add_frag(struct store *st, int64_t id, uint32_t index, const uint8_t *body, size_t len)
{
	uint8_t dep[STORE_DEPOSIT_ID_LEN];

	randombytes_buf(dep, sizeof(dep));
	return store_step_done(st, store_prep(st,
		"INSERT INTO out_frag (msg, idx, deposit_id, body) VALUES (?, ?, ?, ?)", "iibb", id,
		(int64_t)index, dep, sizeof(dep), body, len));
}

static void
frag_from_row(sqlite3_stmt *s, void *out)
{
	struct store_out_frag *f = out;

	memset(f, 0, sizeof(*f));
	f->msg = sqlite3_column_int64(s, 0);
	f->index = (uint32_t)sqlite3_column_int64(s, 1);
	store_col_blob(s, 2, f->deposit_id, sizeof(f->deposit_id));
	f->body = store_col_dup(s, 3, &f->body_len);
	f->tries = (uint32_t)sqlite3_column_int64(s, 4);
	f->state = (enum store_frag_state)sqlite3_column_int(s, 5);
	f->deadline_ms = (uint64_t)sqlite3_column_int64(s, 6);
}

static void
frags_release(void *arr, size_t n)
{
	store_out_frags_free(arr, n);
}

int
store_out_due(struct store *st, int64_t msg, uint64_t now_ms, size_t max,
	      struct store_out_frag **out, size_t *n)
{
	/* Choose the rows from the index alone (out_frag_todo), then read
	 * just those bodies: sorting whole rows would read every body due. */
	sqlite3_stmt *s = store_prep(st,
		"SELECT msg, idx, deposit_id, body, tries, state, deadline FROM out_frag"
		" WHERE rowid IN (SELECT f.rowid FROM out_frag f JOIN out_msg m ON m.id = f.msg"
		"  WHERE m.state = 0 AND (? = 0 OR f.msg = ?)"
		"  AND (f.state = 0 OR (f.state = 1 AND f.deadline <= ?))"
		"  ORDER BY f.msg, f.idx LIMIT ?)"
		" ORDER BY msg, idx", "iiii", msg, msg, (int64_t)now_ms, (int64_t)max);
	void *arr;
	int r = store_rows(s, sizeof(**out), frag_from_row, frags_release, &arr, n);

	*out = arr;
	return r;
}

void
store_out_frags_free(struct store_out_frag *f, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(f[i].body);
	free(f);
}

int
store_out_sent(struct store *st, int64_t msg, uint32_t index, uint64_t deadline_ms,
	       const uint8_t surb_id[static STORE_SURB_ID_LEN], const uint8_t *surb_key,
	       size_t surb_key_len)
{
	int r = store_step_done(st, store_prep(st,
		"UPDATE out_frag SET tries = tries + 1, state = 1, deadline = ?"
		" WHERE msg = ? AND idx = ? AND state IN (0, 1)", "iii", (int64_t)deadline_ms, msg,
		(int64_t)index));

	if (r == 0 && sqlite3_changes(st->db) == 0)
		return ERR_NOT_FOUND;
	if (r == 0 && surb_key != NULL)
		r = store_step_done(st, store_prep(st,
			"INSERT OR REPLACE INTO out_surb VALUES (?, ?, ?, ?, ?)", "biibi", surb_id,
			(size_t)STORE_SURB_ID_LEN, msg, (int64_t)index, surb_key, surb_key_len,
			(int64_t)time_now()));
	return r;
}

int
store_out_surb(struct store *st, const uint8_t surb_id[static STORE_SURB_ID_LEN], uint8_t **key,
	       size_t *key_len, int64_t *msg, uint32_t *index)
{
	sqlite3_stmt *s = store_prep(st, "SELECT key, msg, idx FROM out_surb WHERE surb_id = ?",
				     "b", surb_id, (size_t)STORE_SURB_ID_LEN);
	int rc;

	*key = NULL;
	*key_len = 0;
	if (s == NULL)
		return ERR_IO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*key = store_col_dup(s, 0, key_len);
		*msg = sqlite3_column_int64(s, 1);
		*index = (uint32_t)sqlite3_column_int64(s, 2);
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? ERR_NOT_FOUND : ERR_IO;
}

/* Settle a message: delivered once every fragment is acked, failed once
 * any fragment failed. */
static int
settle(struct store *st, int64_t msg)
{
	return store_step_done(st, store_prep(st,
		"UPDATE out_msg SET state = CASE"
		" WHEN EXISTS (SELECT 1 FROM out_frag WHERE msg = ?1 AND state = 3) THEN 2"
		" WHEN NOT EXISTS (SELECT 1 FROM out_frag WHERE msg = ?1 AND state <> 2)"
		"  AND (SELECT COUNT(*) FROM out_frag WHERE msg = ?1) = count THEN 1"
		" ELSE state END WHERE id = ?1", "i", msg));
}

int
store_out_acked(struct store *st, int64_t msg, uint32_t index, bool *newly)
{
	int r = store_step_done(st, store_prep(st,
		"UPDATE out_frag SET state = 2 WHERE msg = ? AND idx = ? AND state <> 2", "ii", msg,
		(int64_t)index));

	*newly = r == 0 && sqlite3_changes(st->db) > 0;
	if (r == 0)
		r = store_step_done(st, store_prep(st,
			"DELETE FROM out_surb WHERE msg = ? AND idx = ?", "ii", msg, (int64_t)index));
	if (r == 0 && *newly)
		r = settle(st, msg);
	return r;
}

int
store_out_failed(struct store *st, int64_t msg, uint32_t index)
{
	int r = store_step_done(st, store_prep(st,
		"UPDATE out_frag SET state = 3 WHERE msg = ? AND idx = ? AND state <> 2", "ii", msg,
		(int64_t)index));

	if (r == 0)
		r = settle(st, msg);
	return r;
}

static const char out_cols[] =
	"SELECT id, msg_id, rcpt, label, created, total_len, count, signed, state,"
	" (SELECT COUNT(*) FROM out_frag WHERE msg = out_msg.id AND state = 2),"
	" (SELECT COUNT(*) FROM out_frag WHERE msg = out_msg.id AND state = 1),"
	" (SELECT COUNT(*) FROM out_frag WHERE msg = out_msg.id AND state = 0),"
	" (SELECT COUNT(*) FROM out_frag WHERE msg = out_msg.id AND state = 3),"
	" (SELECT COALESCE(SUM(tries), 0) FROM out_frag WHERE msg = out_msg.id) FROM out_msg";

static void
msg_from_row(sqlite3_stmt *s, void *out)
{
	struct store_out_msg *m = out;

	memset(m, 0, sizeof(*m));
	m->id = sqlite3_column_int64(s, 0);
	store_col_blob(s, 1, m->msg_id, sizeof(m->msg_id));
	m->to = store_col_str(s, 2);
	m->label = store_col_str(s, 3);
	m->created = (uint64_t)sqlite3_column_int64(s, 4);
	m->total_len = (uint64_t)sqlite3_column_int64(s, 5);
	m->count = (uint32_t)sqlite3_column_int64(s, 6);
	m->is_signed = sqlite3_column_int(s, 7) != 0;
	m->state = (enum store_out_state)sqlite3_column_int(s, 8);
	m->acked = (uint32_t)sqlite3_column_int64(s, 9);
	m->sent = (uint32_t)sqlite3_column_int64(s, 10);
	m->pending = (uint32_t)sqlite3_column_int64(s, 11);
	m->failed = (uint32_t)sqlite3_column_int64(s, 12);
	m->sends = (uint64_t)sqlite3_column_int64(s, 13);
}

int
store_out_get(struct store *st, int64_t id, struct store_out_msg *m)
{
	char *sql = xasprintf("%s WHERE id = ?", out_cols);
	sqlite3_stmt *s = store_prep(st, sql, "i", id);

	free(sql);
	memset(m, 0, sizeof(*m));
	return store_row(s, msg_from_row, m);
}

static void
msgs_release(void *arr, size_t n)
{
	store_out_msgs_free(arr, n);
}

int
store_out_list(struct store *st, struct store_out_msg **out, size_t *n)
{
	char *sql = xasprintf("%s ORDER BY id DESC", out_cols);
	sqlite3_stmt *s = store_prep(st, sql, "");
	void *arr;
	int r;

	free(sql);
	r = store_rows(s, sizeof(**out), msg_from_row, msgs_release, &arr, n);
	*out = arr;
	return r;
}

void
store_out_msg_clear(struct store_out_msg *m)
{
	FREE_AND_NULL(m->to);
	FREE_AND_NULL(m->label);
}

void
store_out_msgs_free(struct store_out_msg *m, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		store_out_msg_clear(&m[i]);
	free(m);
}

static void
idx_row(sqlite3_stmt *s, void *out)
{
	*(uint32_t *)out = (uint32_t)sqlite3_column_int64(s, 0);
}

int
store_out_failed_list(struct store *st, int64_t id, uint32_t **idx, size_t *n)
{
	sqlite3_stmt *s = store_prep(st,
		"SELECT idx FROM out_frag WHERE msg = ? AND state = 3 ORDER BY idx", "i", id);
	void *arr;
	int r = store_rows(s, sizeof(**idx), idx_row, NULL, &arr, n);

	*idx = arr;
	return r;
}
