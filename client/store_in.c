/* The inbox: fragments received, reassembled into messages in any order. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client/store.h"
#include "client/store_int.h"
#include "common/log.h"
#include "common/util.h"

/* The stored header of a message, as a fragment, for comparison. */
static int
load_header(struct store *st, const uint8_t msg_id[static MSG_ID_LEN], int64_t *id,
	    struct frag *h, int *state)
{
	sqlite3_stmt *s = store_prep(st,
		"SELECT id, total_len, count, flags, hash, sender, sig, state FROM in_msg"
		" WHERE msg_id = ?", "b", msg_id, (size_t)MSG_ID_LEN);
	int rc;

	memset(h, 0, sizeof(*h));
	if (s == NULL)
		return ERR_IO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		*id = sqlite3_column_int64(s, 0);
		memcpy(h->msg_id, msg_id, MSG_ID_LEN);
		h->total_len = (uint64_t)sqlite3_column_int64(s, 1);
		h->count = (uint32_t)sqlite3_column_int64(s, 2);
		h->flags = (uint8_t)sqlite3_column_int(s, 3);
		store_col_blob(s, 4, h->hash, MSG_HASH_LEN);
		store_col_blob(s, 5, h->sender_pk, ID_PK_LEN);
		store_col_blob(s, 6, h->sig, ID_SIG_LEN);
		*state = sqlite3_column_int(s, 7);
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? ERR_NOT_FOUND : ERR_IO;
}

/* Join the fragments in index order, check length and hash, verify the
 * signature, store the body and drop the fragments. */
static int
assemble(struct store *st, int64_t id, const struct frag *h, const uint8_t my_pk[static ID_PK_LEN])
{
	sqlite3_stmt *s = store_prep(st, "SELECT idx, data FROM in_frag WHERE msg = ? ORDER BY idx",
				     "i", id);
	uint8_t *body = xmalloc(h->total_len ? h->total_len : 1);
	uint8_t hash[MSG_HASH_LEN];
	uint64_t off = 0;
	uint32_t want = 0;
	bool ok = true;
	int rc, state, sig = SIG_NONE;

	if (s == NULL) {
		free(body);
		return ERR_IO;
	}
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		size_t n = (size_t)sqlite3_column_bytes(s, 1);

		if ((uint32_t)sqlite3_column_int64(s, 0) != want++ || n > h->total_len - off) {
			ok = false;
			break;
		}
		if (n)
			memcpy(body + off, sqlite3_column_blob(s, 1), n);
		off += n;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW) {
		free(body);
		return ERR_IO;
	}
	if (ok && (off != h->total_len || want != h->count))
		ok = false;
	if (ok) {
		msg_hash(hash, body, (size_t)h->total_len);
		ok = sodium_memcmp(hash, h->hash, MSG_HASH_LEN) == 0;
	}
	state = ok ? IN_COMPLETE : IN_CORRUPT;
	if (h->flags & FRAG_FLAG_SIGNED)
		sig = msg_verify(h->sig, h->msg_id, h->total_len, h->hash, my_pk, h->sender_pk) == 0
			      ? SIG_VALID : SIG_INVALID;
	if (!ok)
		log_info(LD_CLIENT, "inbox: message %lld fails its hash check", (long long)id);
	rc = store_step_done(st, store_prep(st,
		"UPDATE in_msg SET state = ?, sig_state = ?, body = ? WHERE id = ?", "iibi",
		(int64_t)state, (int64_t)sig, body, ok ? (size_t)h->total_len : (size_t)0, id));
	free(body);
	if (rc == 0)
		rc = store_step_done(st, store_prep(st, "DELETE FROM in_frag WHERE msg = ?", "i", id));
	return rc;
}

int
store_in_add(struct store *st, const struct frag *f, const uint8_t my_pk[static ID_PK_LEN],
	     uint64_t now, enum store_in_add *res, int64_t *idp)
{
	struct frag h;
	int64_t id = 0;
	int state = IN_PARTIAL, r;
	bool is_signed = (f->flags & FRAG_FLAG_SIGNED) != 0;

	*res = IN_ADD_DUPLICATE;
	if (idp)
		*idp = 0;
	r = load_header(st, f->msg_id, &id, &h, &state);
	if (r == ERR_NOT_FOUND) {
		r = store_step_done(st, store_prep(st,
			"INSERT INTO in_msg (msg_id, received, total_len, count, flags, hash, sender,"
			" sig) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", "biiiibbb", f->msg_id,
			(size_t)MSG_ID_LEN, (int64_t)now, (int64_t)f->total_len, (int64_t)f->count,
			(int64_t)f->flags, f->hash, (size_t)MSG_HASH_LEN,
			is_signed ? f->sender_pk : NULL, is_signed ? (size_t)ID_PK_LEN : (size_t)0,
			is_signed ? f->sig : NULL, is_signed ? (size_t)ID_SIG_LEN : (size_t)0));
		if (r != 0)
			return r == ERR_EXISTS ? ERR_IO : r;
		id = sqlite3_last_insert_rowid(st->db);
		h = *f;
		state = IN_PARTIAL;
	} else if (r != 0) {
		return r;
	} else if (!frag_same_message(&h, f)) {
		*res = IN_ADD_CONFLICT;
		if (idp)
			*idp = id;
		return 0;
	}
	if (idp)
		*idp = id;
	if (state != IN_PARTIAL)
		return 0;	/* already assembled: a late duplicate */
	r = store_step_done(st, store_prep(st, "INSERT OR IGNORE INTO in_frag VALUES (?, ?, ?)",
					   "iib", id, (int64_t)f->index, f->chunk,
					   (size_t)f->chunk_len));
	if (r != 0)
		return r;
	if (sqlite3_changes(st->db) == 0)
		return 0;
	r = store_step_done(st, store_prep(st, "UPDATE in_msg SET have = have + 1 WHERE id = ?",
					   "i", id));
	if (r != 0)
		return r;
	*res = IN_ADD_NEW;
	{
		struct store_in_msg m;

		r = store_in_get(st, id, &m);
		if (r != 0)
			return r;
		if (m.have == m.count) {
			r = assemble(st, id, &h, my_pk);
			*res = IN_ADD_COMPLETED;
		}
	}
	return r;
}

static const char in_cols[] =
	"SELECT id, msg_id, received, total_len, count, have, state, sig_state, sender, read"
	" FROM in_msg";

static void
in_from_row(sqlite3_stmt *s, void *out)
{
	struct store_in_msg *m = out;

	memset(m, 0, sizeof(*m));
	m->id = sqlite3_column_int64(s, 0);
	store_col_blob(s, 1, m->msg_id, MSG_ID_LEN);
	m->received = (uint64_t)sqlite3_column_int64(s, 2);
	m->total_len = (uint64_t)sqlite3_column_int64(s, 3);
	m->count = (uint32_t)sqlite3_column_int64(s, 4);
	m->have = (uint32_t)sqlite3_column_int64(s, 5);
	m->state = (enum store_in_state)sqlite3_column_int(s, 6);
	m->sig = (enum store_sig_state)sqlite3_column_int(s, 7);
	store_col_blob(s, 8, m->sender_pk, ID_PK_LEN);
	m->read = sqlite3_column_int(s, 9) != 0;
}

int
store_in_get(struct store *st, int64_t id, struct store_in_msg *m)
{
	char *sql = xasprintf("%s WHERE id = ?", in_cols);
	sqlite3_stmt *s = store_prep(st, sql, "i", id);

	free(sql);
	memset(m, 0, sizeof(*m));
	return store_row(s, in_from_row, m);
}

int
store_in_list(struct store *st, struct store_in_msg **out, size_t *n)
{
	char *sql = xasprintf("%s ORDER BY id", in_cols);
	sqlite3_stmt *s = store_prep(st, sql, "");
	void *arr;
	int r;

	free(sql);
	r = store_rows(s, sizeof(**out), in_from_row, NULL, &arr, n);
	*out = arr;
	return r;
}

int
store_in_body(struct store *st, int64_t id, uint8_t **body, size_t *len)
{
	sqlite3_stmt *s = store_prep(st, "SELECT state, body FROM in_msg WHERE id = ?", "i", id);
	int rc, state = IN_PARTIAL;

	*body = NULL;
	*len = 0;
	if (s == NULL)
		return ERR_IO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW) {
		state = sqlite3_column_int(s, 0);
		if (state == IN_COMPLETE)
			*body = store_col_dup(s, 1, len);
	}
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return ERR_NOT_FOUND;
	if (rc != SQLITE_ROW)
		return ERR_IO;
	return state == IN_COMPLETE ? 0 : ERR_CORRUPT;
}

int
store_in_mark_read(struct store *st, int64_t id)
{
	return store_step_done(st, store_prep(st, "UPDATE in_msg SET read = 1 WHERE id = ?", "i",
					      id));
}
