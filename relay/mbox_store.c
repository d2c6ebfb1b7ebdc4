/* The mailbox store on SQLite. See relay/mbox_store.h and
 * docs/spec.md part 5.
 *
 * Two connections to one file: `w` does every write under wmu, `r` serves
 * fetch and count under rmu. In WAL mode a reader never waits for a writer,
 * so a fetch on the event loop does not stall behind a commit's fsync. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>
#include <sqlite3.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "relay/mbox_store.h"

#define SCHEMA_VERSION 1
#define BUSY_TIMEOUT_MS 5000
#define EXPIRE_CHUNK 1024

/* "DELIVER ... is stored for its mailbox id in SQLite (WAL mode, synchronous
 * writes)": the only columns are what delivery needs. */
static const char schema_sql[] =
	"CREATE TABLE msg ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" box BLOB NOT NULL CHECK (length(box) = 32),"
	" msg_id BLOB NOT NULL CHECK (length(msg_id) = 16),"
	" received INTEGER NOT NULL,"
	" size INTEGER NOT NULL,"
	" entry BLOB NOT NULL,"
	" UNIQUE (box, msg_id));"
	"CREATE INDEX msg_box ON msg (box);"
	"CREATE INDEX msg_received ON msg (received);"
	"CREATE TABLE boxstat ("
	" box BLOB PRIMARY KEY, msgs INTEGER NOT NULL, bytes INTEGER NOT NULL) WITHOUT ROWID;"
	"CREATE TABLE total ("
	" k INTEGER PRIMARY KEY CHECK (k = 0), msgs INTEGER NOT NULL, bytes INTEGER NOT NULL);"
	"INSERT INTO total VALUES (0, 0, 0);"
	"CREATE TRIGGER msg_ins AFTER INSERT ON msg BEGIN"
	" INSERT INTO boxstat (box, msgs, bytes) VALUES (NEW.box, 1, NEW.size)"
	"  ON CONFLICT (box) DO UPDATE SET msgs = msgs + 1, bytes = bytes + excluded.bytes;"
	" UPDATE total SET msgs = msgs + 1, bytes = bytes + NEW.size WHERE k = 0;"
	" END;"
	"CREATE TRIGGER msg_del AFTER DELETE ON msg BEGIN"
	" UPDATE boxstat SET msgs = msgs - 1, bytes = bytes - OLD.size WHERE box = OLD.box;"
	" DELETE FROM boxstat WHERE box = OLD.box AND msgs <= 0;"
	" UPDATE total SET msgs = msgs - 1, bytes = bytes - OLD.size WHERE k = 0;"
	" END;"
	"PRAGMA user_version = 1;";

enum wstmt {
	W_BEGIN, W_COMMIT, W_ROLLBACK, W_DUP, W_BOXSTAT, W_TOTAL, W_INSERT, W_DELETE,
	W_EXPIRE, W_N
};
static const char *const wsql[W_N] = {
	[W_BEGIN] = "BEGIN IMMEDIATE",
	[W_COMMIT] = "COMMIT",
	[W_ROLLBACK] = "ROLLBACK",
	[W_DUP] = "SELECT 1 FROM msg WHERE box = ?1 AND msg_id = ?2",
	[W_BOXSTAT] = "SELECT msgs, bytes FROM boxstat WHERE box = ?1",
	[W_TOTAL] = "SELECT msgs, bytes FROM total WHERE k = 0",
	[W_INSERT] = "INSERT INTO msg (box, msg_id, received, size, entry)"
		     " VALUES (?1, ?2, ?3, ?4, ?5)",
	[W_DELETE] = "DELETE FROM msg WHERE box = ?1 AND msg_id = ?2",
	[W_EXPIRE] = "DELETE FROM msg WHERE id IN"
		     " (SELECT id FROM msg WHERE received <= ?1 ORDER BY received LIMIT ?2)",
};

enum rstmt { R_FETCH, R_COUNT, R_N };
static const char *const rsql[R_N] = {
	[R_FETCH] = "SELECT id, msg_id, received, entry FROM msg"
		    " WHERE box = ?1 AND id > ?2 ORDER BY id LIMIT ?3",
	[R_COUNT] = "SELECT msgs, bytes FROM boxstat WHERE box = ?1",
};

struct mbox_store {
	char *path;
	pthread_mutex_t wmu;		/* w, ws, lim */
	sqlite3 *w;
	sqlite3_stmt *ws[W_N];
	struct mbox_limits lim;
	pthread_mutex_t rmu;		/* r, rs */
	sqlite3 *r;
	sqlite3_stmt *rs[R_N];
	pthread_mutex_t smu;		/* stats */
	struct mbox_stats stats;
	bool opening;			/* single-threaded, in mbox_store_open */
	char why[200];			/* the last failure while opening */
};

/* Outcome counts of one transaction, added to the stats only if it commits. */
struct delta {
	uint64_t stored, duplicates, full_box, disk_cap, expired, acked, ops;
};

struct mbox_limits
mbox_limits_default(void)
{
	struct mbox_limits l = {
		.max_msgs_per_box = 10000,
		.max_bytes_per_box = 32ull << 20,
		.ttl_seconds = 14 * 86400,
		.max_total_bytes = 2ull << 30,
	};

	return l;
}

static int
sql_err(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB ? ERR_CORRUPT : ERR_IO;
}

/* Log a failure at info; while opening, also keep it for the one warning
 * mbox_store_open gives the operator. */
__attribute__((format(printf, 2, 3))) static void
note(struct mbox_store *s, const char *fmt, ...)
{
	char line[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	log_info(LD_MBOX, "mailbox store %s: %s", s->path, line);
	if (s->opening)
		memcpy(s->why, line, sizeof(s->why));
}

static void
log_sql(struct mbox_store *s, sqlite3 *db, const char *what)
{
	note(s, "%s: %s", what, sqlite3_errmsg(db));
}

/* Run a statement that returns no rows we need; 0 or an ERR_*. */
static int
step_done(sqlite3_stmt *st)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : sql_err(rc);
}

static int
exec(struct mbox_store *s, sqlite3 *db, const char *sql)
{
	int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);

	if (rc != SQLITE_OK) {
		log_sql(s, db, sql);
		return sql_err(rc);
	}
	return 0;
}

/* Read one integer from a single-row query. */
static int
query_i64(struct mbox_store *s, sqlite3 *db, const char *sql, int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);

	*out = 0;
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*out = sqlite3_column_int64(st, 0);
			rc = SQLITE_OK;
		}
	}
	if (rc != SQLITE_OK && rc != SQLITE_DONE)
		log_sql(s, db, sql);
	sqlite3_finalize(st);
	return rc == SQLITE_OK || rc == SQLITE_DONE ? 0 : sql_err(rc);
}

static int
open_conn(struct mbox_store *s, sqlite3 **db)
{
	int rc = sqlite3_open_v2(s->path, db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL);

	if (rc != SQLITE_OK) {
		note(s, "%s", *db ? sqlite3_errmsg(*db) : sqlite3_errstr(rc));
		return sql_err(rc);
	}
	sqlite3_extended_result_codes(*db, 0);
	sqlite3_busy_timeout(*db, BUSY_TIMEOUT_MS);
	return 0;
}

/* Create the schema in a new file, or check that an existing one is ours. */
static int
setup_schema(struct mbox_store *s)
{
	int64_t version, ntables;
	int r;

	if ((r = query_i64(s, s->w, "PRAGMA user_version", &version)) < 0)
		return r;
	if (version > SCHEMA_VERSION) {
		note(s, "schema version %lld is newer than %d", (long long)version,
		     SCHEMA_VERSION);
		return ERR_UNSUPPORTED;
	}
	if (version == SCHEMA_VERSION)
		return 0;
	if ((r = query_i64(s, s->w, "SELECT count(*) FROM sqlite_master", &ntables)) < 0)
		return r;
	if (ntables != 0) {
		note(s, "an SQLite database, but not a mailbox store");
		return ERR_CORRUPT;
	}
	if ((r = exec(s, s->w, "BEGIN IMMEDIATE")) < 0)
		return r;
	if ((r = exec(s, s->w, schema_sql)) < 0 || (r = exec(s, s->w, "COMMIT")) < 0) {
		(void)exec(s, s->w, "ROLLBACK");
		return r;
	}
	return 0;
}

static int
prepare_all(struct mbox_store *s, sqlite3 *db, const char *const *sql, sqlite3_stmt **st,
	    size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = sqlite3_prepare_v3(db, sql[i], -1, SQLITE_PREPARE_PERSISTENT, &st[i],
					    NULL);
		if (rc != SQLITE_OK) {
			/* A file with our version number but not our tables. */
			log_sql(s, db, "schema does not match");
			return ERR_CORRUPT;
		}
	}
	return 0;
}

static void
refresh_gauges(struct mbox_store *s)
{
	sqlite3_stmt *st = s->ws[W_TOTAL];
	uint64_t msgs = 0, bytes = 0;

	if (sqlite3_step(st) == SQLITE_ROW) {
		msgs = (uint64_t)sqlite3_column_int64(st, 0);
		bytes = (uint64_t)sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	pthread_mutex_lock(&s->smu);
	s->stats.msgs = msgs;
	s->stats.bytes = bytes;
	pthread_mutex_unlock(&s->smu);
}

static int
store_init(struct mbox_store *s)
{
	char mode[16] = "";
	sqlite3_stmt *st = NULL;
	int fd, r, rc;

	/* The two connections are used from the writer thread and the loop,
	 * each under its own mutex: SQLite must be built thread-safe. */
	if (!sqlite3_threadsafe()) {
		note(s, "SQLite was built without thread support");
		return ERR_UNSUPPORTED;
	}
	/* Create the file ourselves so it, and the -wal and -shm files SQLite
	 * gives the same mode, are 0600. */
	fd = open(s->path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		note(s, "%s", strerror(errno));
		return ERR_IO;
	}
	close(fd);
	if ((r = open_conn(s, &s->w)) < 0)
		return r;
	/* The first statement reads the header: a file that is not a database
	 * fails here with SQLITE_NOTADB. */
	rc = sqlite3_prepare_v2(s->w, "PRAGMA journal_mode = WAL", -1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *m = sqlite3_column_text(st, 0);

		snprintf(mode, sizeof(mode), "%s", m ? (const char *)m : "");
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_OK) {
		log_sql(s, s->w, "cannot read database");
		return sql_err(rc);
	}
	if (strcmp(mode, "wal") != 0) {
		note(s, "cannot enter WAL mode (%s)", mode);
		return ERR_IO;
	}
	/* synchronous=FULL in WAL mode syncs the WAL on every commit: a
	 * committed transaction survives power loss. secure_delete overwrites
	 * acknowledged entries instead of leaving them in free pages. */
	if ((r = exec(s, s->w, "PRAGMA synchronous = FULL")) < 0 ||
	    (r = exec(s, s->w, "PRAGMA secure_delete = ON")) < 0 ||
	    (r = setup_schema(s)) < 0 ||
	    (r = prepare_all(s, s->w, wsql, s->ws, W_N)) < 0)
		return r;
	if ((r = open_conn(s, &s->r)) < 0 ||
	    (r = exec(s, s->r, "PRAGMA query_only = ON")) < 0 ||
	    (r = prepare_all(s, s->r, rsql, s->rs, R_N)) < 0)
		return r;
	refresh_gauges(s);
	return 0;
}

int
mbox_store_open(struct mbox_store **out, const char *path, const struct mbox_limits *lim)
{
	struct mbox_store *s = xcalloc(1, sizeof(*s));
	int r;

	*out = NULL;
	s->path = xstrdup(path);
	s->lim = lim ? *lim : mbox_limits_default();
	pthread_mutex_init(&s->wmu, NULL);
	pthread_mutex_init(&s->rmu, NULL);
	pthread_mutex_init(&s->smu, NULL);
	s->opening = true;
	r = store_init(s);
	s->opening = false;
	if (r < 0) {
		log_warn(LD_MBOX, "mailbox store %s: cannot open (%s): %s", path, err_str(r),
			 s->why[0] ? s->why : "no detail");
		mbox_store_free(s);
		return r;
	}
	*out = s;
	return 0;
}

void
mbox_store_free(struct mbox_store *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < W_N; i++)
		sqlite3_finalize(s->ws[i]);
	for (size_t i = 0; i < R_N; i++)
		sqlite3_finalize(s->rs[i]);
	/* Close the reader first: the last connection to close checkpoints
	 * the WAL into the database and removes it. */
	if (s->r)
		sqlite3_close(s->r);
	if (s->w)
		sqlite3_close(s->w);
	pthread_mutex_destroy(&s->wmu);
	pthread_mutex_destroy(&s->rmu);
	pthread_mutex_destroy(&s->smu);
	free(s->path);
	free(s);
}

void
mbox_store_set_limits(struct mbox_store *s, const struct mbox_limits *lim)
{
	pthread_mutex_lock(&s->wmu);
	s->lim = *lim;
	pthread_mutex_unlock(&s->wmu);
}

/* Read (msgs, bytes) from a one-row statement already bound; 0, 0 if no row. */
static int
read_pair(sqlite3_stmt *st, uint64_t *a, uint64_t *b)
{
	int rc = sqlite3_step(st);

	*a = *b = 0;
	if (rc == SQLITE_ROW) {
		*a = (uint64_t)sqlite3_column_int64(st, 0);
		*b = (uint64_t)sqlite3_column_int64(st, 1);
		rc = SQLITE_DONE;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : sql_err(rc);
}

/* One deposit inside an open transaction. Returns the op's outcome, or
 * ERR_IO / ERR_CORRUPT, which abort the group. */
static int
put_one(struct mbox_store *s, const struct mbox_op *op, uint64_t received, struct delta *d,
	bool *fatal_err)
{
	sqlite3_stmt *st;
	uint64_t msgs, bytes, tmsgs, tbytes;
	int r, rc;

	*fatal_err = false;
	if (op->len == 0)
		return ERR_MALFORMED;
	if (op->len > MBOX_ENTRY_MAX)
		return ERR_TOO_BIG;

	/* A retransmission is re-acknowledged even when the mailbox is full,
	 * so the duplicate check comes before the quota. */
	st = s->ws[W_DUP];
	sqlite3_bind_blob(st, 1, op->box, MBOX_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, op->msg_id, MBOX_MSG_ID_LEN, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc == SQLITE_ROW) {
		d->duplicates++;
		return ERR_DUPLICATE;
	}
	if (rc != SQLITE_DONE)
		goto fail;

	/* "a full mailbox refuses new deposits with a counted reason instead
	 * of dropping old ones" */
	st = s->ws[W_BOXSTAT];
	sqlite3_bind_blob(st, 1, op->box, MBOX_ID_LEN, SQLITE_STATIC);
	r = read_pair(st, &msgs, &bytes);
	sqlite3_clear_bindings(st);
	if (r < 0 || (r = read_pair(s->ws[W_TOTAL], &tmsgs, &tbytes)) < 0) {
		rc = r == ERR_CORRUPT ? SQLITE_CORRUPT : SQLITE_IOERR;
		goto fail;
	}
	if ((s->lim.max_msgs_per_box && msgs + 1 > s->lim.max_msgs_per_box) ||
	    (s->lim.max_bytes_per_box && bytes + op->len > s->lim.max_bytes_per_box)) {
		d->full_box++;
		return ERR_FULL;
	}
	if (s->lim.max_total_bytes && tbytes + op->len > s->lim.max_total_bytes) {
		d->disk_cap++;
		return ERR_FULL;
	}

	st = s->ws[W_INSERT];
	sqlite3_bind_blob(st, 1, op->box, MBOX_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_blob(st, 2, op->msg_id, MBOX_MSG_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)received);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)op->len);
	sqlite3_bind_blob(st, 5, op->entry, (int)op->len, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	if (rc != SQLITE_DONE)
		goto fail;
	d->stored++;
	return 0;
fail:
	log_sql(s, s->w, "deposit");
	*fatal_err = true;
	return sql_err(rc);
}

static int
ack_one(struct mbox_store *s, struct mbox_op *op, struct delta *d, bool *fatal_err)
{
	sqlite3_stmt *st = s->ws[W_DELETE];

	*fatal_err = false;
	op->n_deleted = 0;
	for (size_t i = 0; i < op->n_ids; i++) {
		int rc;

		sqlite3_bind_blob(st, 1, op->box, MBOX_ID_LEN, SQLITE_STATIC);
		sqlite3_bind_blob(st, 2, op->ids[i], MBOX_MSG_ID_LEN, SQLITE_STATIC);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
		if (rc != SQLITE_DONE) {
			log_sql(s, s->w, "acknowledge");
			*fatal_err = true;
			return sql_err(rc);
		}
		op->n_deleted += (size_t)sqlite3_changes(s->w);
	}
	d->acked += op->n_deleted;
	return 0;
}

/* Commit the open transaction, or roll it back; counts the outcome.
 * Called with wmu held. */
static int
finish_txn(struct mbox_store *s, bool ok, const struct delta *d)
{
	if (ok && step_done(s->ws[W_COMMIT]) < 0) {
		log_sql(s, s->w, "commit");
		ok = false;
	}
	if (!ok) {
		/* After some errors SQLite has already rolled back; harmless. */
		(void)step_done(s->ws[W_ROLLBACK]);
	}
	pthread_mutex_lock(&s->smu);
	if (ok) {
		s->stats.stored += d->stored;
		s->stats.duplicates += d->duplicates;
		s->stats.refused_full_box += d->full_box;
		s->stats.refused_disk_cap += d->disk_cap;
		s->stats.expired += d->expired;
		s->stats.acked += d->acked;
		s->stats.commits++;
		s->stats.ops_committed += d->ops;
		s->stats.max_batch = MAX(s->stats.max_batch, d->ops);
	} else {
		s->stats.io_errors++;
	}
	pthread_mutex_unlock(&s->smu);
	refresh_gauges(s);
	return ok ? 0 : ERR_IO;
}

static uint64_t
grain_of(const struct mbox_limits *lim)
{
	return lim->time_grain ? lim->time_grain : MBOX_TIME_GRAIN;
}

int
mbox_store_apply(struct mbox_store *s, struct mbox_op *ops, size_t n, uint64_t now)
{
	uint64_t received;
	struct delta d = { 0 };
	bool ok = true, fatal_err = false;
	int r;

	pthread_mutex_lock(&s->wmu);
	received = now - now % grain_of(&s->lim);
	if (step_done(s->ws[W_BEGIN]) < 0) {
		log_sql(s, s->w, "begin");
		for (size_t i = 0; i < n; i++)
			ops[i].result = ERR_IO;
		pthread_mutex_lock(&s->smu);
		s->stats.io_errors++;
		pthread_mutex_unlock(&s->smu);
		pthread_mutex_unlock(&s->wmu);
		return ERR_IO;
	}
	for (size_t i = 0; i < n && ok; i++) {
		struct mbox_op *op = &ops[i];

		if (op->kind == MBOX_OP_PUT)
			op->result = put_one(s, op, received, &d, &fatal_err);
		else if (op->kind == MBOX_OP_ACK)
			op->result = ack_one(s, op, &d, &fatal_err);
		else if (BUG(true))
			op->result = ERR_INTERNAL;
		ok = !fatal_err;
	}
	d.ops = n;
	r = finish_txn(s, ok, &d);
	pthread_mutex_unlock(&s->wmu);
	if (r < 0) {
		for (size_t i = 0; i < n; i++)
			ops[i].result = ERR_IO;
	}
	return r;
}

int
mbox_store_put(struct mbox_store *s, const uint8_t box[static MBOX_ID_LEN],
	       const uint8_t msg_id[static MBOX_MSG_ID_LEN], const uint8_t *entry, size_t len,
	       uint64_t now)
{
	struct mbox_op op = {
		.kind = MBOX_OP_PUT, .box = box, .msg_id = msg_id, .entry = entry, .len = len,
	};

	/* Refuse bad lengths without a transaction. */
	if (len == 0)
		return ERR_MALFORMED;
	if (len > MBOX_ENTRY_MAX)
		return ERR_TOO_BIG;
	if (mbox_store_apply(s, &op, 1, now) < 0)
		return ERR_IO;
	return op.result;
}

int
mbox_store_ack(struct mbox_store *s, const uint8_t box[static MBOX_ID_LEN],
	       const uint8_t (*ids)[MBOX_MSG_ID_LEN], size_t n, size_t *deleted)
{
	struct mbox_op op = { .kind = MBOX_OP_ACK, .box = box, .ids = ids, .n_ids = n };
	int r;

	if (deleted)
		*deleted = 0;
	if (n == 0)
		return 0;
	if ((r = mbox_store_apply(s, &op, 1, 0)) < 0)
		return r;
	if (deleted)
		*deleted = op.n_deleted;
	return op.result;
}

int
mbox_store_expire(struct mbox_store *s, uint64_t now, uint64_t *removed)
{
	uint64_t ttl, grain, cutoff, total = 0;
	int r = 0;

	if (removed)
		*removed = 0;
	pthread_mutex_lock(&s->wmu);
	ttl = s->lim.ttl_seconds;
	grain = grain_of(&s->lim);
	pthread_mutex_unlock(&s->wmu);
	/* A message stored as minute m arrived before m + GRAIN: it has been
	 * kept at least ttl once m + GRAIN + ttl <= now. */
	if (ttl == 0 || now < ttl + grain)
		return 0;
	cutoff = now - ttl - grain;

	/* Delete in chunks, each its own transaction, so deposits are not
	 * held up behind one long delete. */
	for (;;) {
		sqlite3_stmt *st;
		struct delta d = { 0 };
		int rc;

		pthread_mutex_lock(&s->wmu);
		if (step_done(s->ws[W_BEGIN]) < 0) {
			log_sql(s, s->w, "begin");
			pthread_mutex_unlock(&s->wmu);
			r = ERR_IO;
			break;
		}
		st = s->ws[W_EXPIRE];
		sqlite3_bind_int64(st, 1, (sqlite3_int64)cutoff);
		sqlite3_bind_int(st, 2, EXPIRE_CHUNK);
		rc = sqlite3_step(st);
		sqlite3_reset(st);
		if (rc == SQLITE_DONE)
			d.expired = (uint64_t)sqlite3_changes(s->w);
		else
			log_sql(s, s->w, "expire");
		r = finish_txn(s, rc == SQLITE_DONE, &d);
		pthread_mutex_unlock(&s->wmu);
		if (r < 0)
			break;
		total += d.expired;
		if (d.expired < EXPIRE_CHUNK)
			break;
	}
	if (total)
		log_info(LD_MBOX, "mailbox store: expired %llu messages",
			 (unsigned long long)total);
	if (removed)
		*removed = total;
	return r;
}

void
mbox_items_clear(struct mbox_item *items, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (items[i].entry) {
			sodium_memzero(items[i].entry, items[i].len);
			free(items[i].entry);
		}
		memset(&items[i], 0, sizeof(items[i]));
	}
}

int
mbox_store_fetch(struct mbox_store *s, const uint8_t box[static MBOX_ID_LEN], uint64_t after,
		 size_t max, struct mbox_item *items, size_t *n)
{
	sqlite3_stmt *st = s->rs[R_FETCH];
	size_t got = 0;
	int rc = SQLITE_DONE, r = 0;

	*n = 0;
	if (max > MBOX_FETCH_MAX)
		return ERR_RANGE;
	if (max == 0)
		return 0;
	if (after > INT64_MAX)
		return 0;
	pthread_mutex_lock(&s->rmu);
	sqlite3_bind_blob(st, 1, box, MBOX_ID_LEN, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)after);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)max);
	while (got < max && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct mbox_item *it = &items[got];
		const void *id = sqlite3_column_blob(st, 1);
		int idlen = sqlite3_column_bytes(st, 1);
		const void *e = sqlite3_column_blob(st, 3);
		int elen = sqlite3_column_bytes(st, 3);

		/* Our own file, but bound what we copy all the same. */
		if (!id || idlen != MBOX_MSG_ID_LEN || !e || elen <= 0 || elen > MBOX_ENTRY_MAX) {
			log_info(LD_MBOX, "mailbox store %s: malformed row", s->path);
			r = ERR_CORRUPT;
			break;
		}
		memset(it, 0, sizeof(*it));
		it->seq = (uint64_t)sqlite3_column_int64(st, 0);
		memcpy(it->msg_id, id, MBOX_MSG_ID_LEN);
		it->received = (uint64_t)sqlite3_column_int64(st, 2);
		it->len = (size_t)elen;
		it->entry = xmalloc(it->len);
		memcpy(it->entry, e, it->len);
		got++;
	}
	if (r == 0 && got < max && rc != SQLITE_DONE) {
		log_sql(s, s->r, "fetch");
		r = sql_err(rc);
	}
	/* Reset ends the read transaction so checkpoints are not held back. */
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	pthread_mutex_unlock(&s->rmu);
	if (r < 0) {
		mbox_items_clear(items, got);
		return r;
	}
	*n = got;
	return 0;
}

int
mbox_store_count(struct mbox_store *s, const uint8_t box[static MBOX_ID_LEN], uint64_t *msgs,
		 uint64_t *bytes)
{
	sqlite3_stmt *st = s->rs[R_COUNT];
	int r;

	pthread_mutex_lock(&s->rmu);
	sqlite3_bind_blob(st, 1, box, MBOX_ID_LEN, SQLITE_STATIC);
	r = read_pair(st, msgs, bytes);
	sqlite3_clear_bindings(st);
	pthread_mutex_unlock(&s->rmu);
	return r < 0 ? ERR_IO : 0;
}

int
mbox_store_check(struct mbox_store *s)
{
	sqlite3_stmt *st = NULL;
	int rc, r = 0;
	bool first = true;

	pthread_mutex_lock(&s->wmu);
	rc = sqlite3_prepare_v2(s->w, "PRAGMA integrity_check", -1, &st, NULL);
	while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *t = sqlite3_column_text(st, 0);

		if (first && t && strcmp((const char *)t, "ok") == 0) {
			rc = SQLITE_OK;
			first = false;
			continue;
		}
		log_info(LD_MBOX, "mailbox store %s: integrity: %s", s->path,
			 t ? (const char *)t : "?");
		r = ERR_CORRUPT;
		first = false;
		rc = SQLITE_OK;
	}
	if (rc != SQLITE_DONE && rc != SQLITE_OK) {
		log_sql(s, s->w, "integrity check");
		r = sql_err(rc);
	}
	sqlite3_finalize(st);
	pthread_mutex_unlock(&s->wmu);
	return r;
}

void
mbox_store_stats(struct mbox_store *s, struct mbox_stats *out)
{
	pthread_mutex_lock(&s->smu);
	*out = s->stats;
	pthread_mutex_unlock(&s->smu);
}
