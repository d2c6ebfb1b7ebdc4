/* The client database: opening, schema, settings and contacts. The outbox
 * and inbox live in store_out.c and store_in.c. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "client/store.h"
#include "client/store_int.h"
#include "common/log.h"
#include "common/util.h"

#define SCHEMA_VERSION 1

static const char schema[] =
	"CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
	"CREATE TABLE IF NOT EXISTS contacts (name TEXT PRIMARY KEY COLLATE NOCASE,"
	" address TEXT NOT NULL, added INTEGER NOT NULL);"
	"CREATE TABLE IF NOT EXISTS out_msg (id INTEGER PRIMARY KEY, msg_id BLOB UNIQUE NOT NULL,"
	" rcpt TEXT NOT NULL, label TEXT NOT NULL, created INTEGER NOT NULL,"
	" total_len INTEGER NOT NULL, count INTEGER NOT NULL, signed INTEGER NOT NULL,"
	" state INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE IF NOT EXISTS out_frag (msg INTEGER NOT NULL REFERENCES out_msg(id)"
	" ON DELETE CASCADE, idx INTEGER NOT NULL, deposit_id BLOB UNIQUE NOT NULL,"
	" body BLOB NOT NULL, tries INTEGER NOT NULL DEFAULT 0, state INTEGER NOT NULL DEFAULT 0,"
	" deadline INTEGER NOT NULL DEFAULT 0, PRIMARY KEY (msg, idx));"
	/* Indexes that answer the hot queries without reading fragment
	 * bodies: what is due (store_out_due) and each message's counts
	 * (store_out_get/list), whatever the size of the outbox. */
	"DROP INDEX IF EXISTS out_frag_due;"
	"CREATE INDEX IF NOT EXISTS out_frag_todo ON out_frag (state, deadline, msg, idx);"
	"CREATE INDEX IF NOT EXISTS out_frag_count ON out_frag (msg, state, tries);"
	"CREATE TABLE IF NOT EXISTS out_surb (surb_id BLOB PRIMARY KEY, msg INTEGER NOT NULL,"
	" idx INTEGER NOT NULL, key BLOB NOT NULL, created INTEGER NOT NULL);"
	"CREATE INDEX IF NOT EXISTS out_surb_frag ON out_surb (msg, idx);"
	"CREATE TABLE IF NOT EXISTS in_msg (id INTEGER PRIMARY KEY, msg_id BLOB UNIQUE NOT NULL,"
	" received INTEGER NOT NULL, total_len INTEGER NOT NULL, count INTEGER NOT NULL,"
	" have INTEGER NOT NULL DEFAULT 0, flags INTEGER NOT NULL, hash BLOB NOT NULL,"
	" sender BLOB, sig BLOB, state INTEGER NOT NULL DEFAULT 0,"
	" sig_state INTEGER NOT NULL DEFAULT 0, read INTEGER NOT NULL DEFAULT 0, body BLOB);"
	"CREATE TABLE IF NOT EXISTS in_frag (msg INTEGER NOT NULL, idx INTEGER NOT NULL,"
	" data BLOB NOT NULL, PRIMARY KEY (msg, idx));";

int
store_exec(struct store *st, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(st->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		log_info(LD_CLIENT, "database: %s", msg ? msg : "error");
		sqlite3_free(msg);
		return ERR_IO;
	}
	return 0;
}

/* Prepare sql and bind arguments described by types: 'i' int64, 't' text,
 * 'b' blob (pointer, size_t length). NULL on failure (logged). */
sqlite3_stmt *
store_prep(struct store *st, const char *sql, const char *types, ...)
{
	sqlite3_stmt *s = NULL;
	va_list ap;
	int i, rc = SQLITE_OK;

	if (sqlite3_prepare_v2(st->db, sql, -1, &s, NULL) != SQLITE_OK) {
		log_info(LD_CLIENT, "database: %s", sqlite3_errmsg(st->db));
		return NULL;
	}
	va_start(ap, types);
	for (i = 0; types[i] && rc == SQLITE_OK; i++) {
		if (types[i] == 'i') {
			rc = sqlite3_bind_int64(s, i + 1, va_arg(ap, int64_t));
		} else if (types[i] == 't') {
			rc = sqlite3_bind_text(s, i + 1, va_arg(ap, const char *), -1, SQLITE_TRANSIENT);
		} else {
			const void *p = va_arg(ap, const void *);
			size_t n = va_arg(ap, size_t);

			rc = sqlite3_bind_blob64(s, i + 1, p ? p : "", n, SQLITE_TRANSIENT);
		}
	}
	va_end(ap);
	if (rc != SQLITE_OK) {
		log_info(LD_CLIENT, "database: %s", sqlite3_errmsg(st->db));
		sqlite3_finalize(s);
		return NULL;
	}
	return s;
}

int
store_step_done(struct store *st, sqlite3_stmt *s)
{
	int rc;

	if (s == NULL)
		return ERR_IO;
	rc = sqlite3_step(s);
	sqlite3_finalize(s);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc == SQLITE_CONSTRAINT)
		return ERR_EXISTS;
	log_info(LD_CLIENT, "database: %s", sqlite3_errmsg(st->db));
	return ERR_IO;
}

bool
store_col_blob(sqlite3_stmt *s, int col, void *out, size_t len)
{
	const void *p = sqlite3_column_blob(s, col);

	if (p == NULL || (size_t)sqlite3_column_bytes(s, col) != len) {
		memset(out, 0, len);
		return false;
	}
	memcpy(out, p, len);
	return true;
}

uint8_t *
store_col_dup(sqlite3_stmt *s, int col, size_t *len)
{
	const void *p = sqlite3_column_blob(s, col);
	size_t n = (size_t)sqlite3_column_bytes(s, col);
	uint8_t *out = xmalloc(n ? n : 1);

	if (n)
		memcpy(out, p, n);
	*len = n;
	return out;
}

char *
store_col_str(sqlite3_stmt *s, int col)
{
	const unsigned char *t = sqlite3_column_text(s, col);

	return xstrdup(t ? (const char *)t : "");
}

int
store_open(struct store **out, const char *path, char *why, size_t whylen)
{
	struct store *st = xcalloc(1, sizeof(*st));
	char *v = NULL;
	uint64_t ver;
	int r;

	*out = NULL;
	if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		snprintf(why, whylen, "cannot open %s: %s", path,
			 st->db ? sqlite3_errmsg(st->db) : "out of memory");
		store_free(st);
		return ERR_IO;
	}
	sqlite3_busy_timeout(st->db, 10000);
	if (store_exec(st, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
			   "PRAGMA foreign_keys=ON;") != 0 ||
	    store_exec(st, "BEGIN IMMEDIATE") != 0) {
		snprintf(why, whylen, "cannot use %s: %s", path, sqlite3_errmsg(st->db));
		store_free(st);
		return ERR_IO;
	}
	if (store_exec(st, schema) != 0) {
		snprintf(why, whylen, "cannot create the tables in %s: %s", path,
			 sqlite3_errmsg(st->db));
		store_exec(st, "ROLLBACK");
		store_free(st);
		return ERR_IO;
	}
	r = store_meta_get(st, "schema", &v);
	if (r == ERR_NOT_FOUND) {
		char num[16];

		snprintf(num, sizeof(num), "%d", SCHEMA_VERSION);
		r = store_meta_set(st, "schema", num);
	} else if (r == 0 && (parse_u64(v, 1, UINT32_MAX, &ver) != 0 || ver > SCHEMA_VERSION)) {
		snprintf(why, whylen, "%s was written by a newer burrow (schema %s)", path, v);
		r = ERR_UNSUPPORTED;
	}
	free(v);
	if (r == 0)
		r = store_exec(st, "COMMIT");
	if (r != 0) {
		if (r == ERR_IO)
			snprintf(why, whylen, "cannot set up %s: %s", path, sqlite3_errmsg(st->db));
		store_exec(st, "ROLLBACK");
		store_free(st);
		return r;
	}
	*out = st;
	return 0;
}

void
store_free(struct store *st)
{
	if (st == NULL)
		return;
	sqlite3_close(st->db);
	free(st);
}

int
store_begin(struct store *st)
{
	return store_exec(st, "BEGIN IMMEDIATE");
}

int
store_commit(struct store *st)
{
	return store_exec(st, "COMMIT");
}

void
store_rollback(struct store *st)
{
	if (!sqlite3_get_autocommit(st->db))
		(void)store_exec(st, "ROLLBACK");
}

int
store_row(sqlite3_stmt *s, store_row_fn *fn, void *out)
{
	int rc;

	if (s == NULL)
		return ERR_IO;
	rc = sqlite3_step(s);
	if (rc == SQLITE_ROW)
		fn(s, out);
	sqlite3_finalize(s);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? ERR_NOT_FOUND : ERR_IO;
}

int
store_rows(sqlite3_stmt *s, size_t size, store_row_fn *fn, store_rows_free_fn *release,
	   void **out, size_t *n)
{
	uint8_t *arr = NULL;
	size_t cnt = 0, cap = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (s == NULL)
		return ERR_IO;
	while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			arr = xrealloc(arr, cap * size);
		}
		fn(s, arr + cnt * size);
		cnt++;
	}
	sqlite3_finalize(s);
	if (rc != SQLITE_DONE) {
		if (release != NULL)
			release(arr, cnt);
		else
			free(arr);
		return ERR_IO;
	}
	*out = arr;
	*n = cnt;
	return 0;
}

/* A text column 0 as a heap string (char **out). */
static void
str_row(sqlite3_stmt *s, void *out)
{
	*(char **)out = store_col_str(s, 0);
}

static int
lookup_str(struct store *st, const char *sql, const char *arg, char **out)
{
	*out = NULL;
	return store_row(store_prep(st, sql, "t", arg), str_row, out);
}

int
store_meta_set(struct store *st, const char *key, const char *value)
{
	return store_step_done(st, store_prep(st, "INSERT OR REPLACE INTO meta VALUES (?, ?)",
					      "tt", key, value));
}

int
store_meta_get(struct store *st, const char *key, char **value)
{
	return lookup_str(st, "SELECT value FROM meta WHERE key = ?", key, value);
}

bool
store_contact_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > STORE_NAME_MAX || strncasecmp(name, "brw1", 4) == 0)
		return false;
	for (i = 0; i < n; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '_' || c == '.' || c == '-'))
			return false;
	}
	return true;
}

int
store_contact_add(struct store *st, const char *name, const char *address)
{
	if (!store_contact_name_ok(name))
		return ERR_MALFORMED;
	return store_step_done(st, store_prep(st, "INSERT INTO contacts VALUES (?, ?, ?)", "tti",
					      name, address, (int64_t)time_now()));
}

int
store_contact_remove(struct store *st, const char *name)
{
	int r = store_step_done(st, store_prep(st, "DELETE FROM contacts WHERE name = ?", "t",
					       name));

	if (r == 0 && sqlite3_changes(st->db) == 0)
		return ERR_NOT_FOUND;
	return r;
}

int
store_contact_get(struct store *st, const char *name, char **address)
{
	return lookup_str(st, "SELECT address FROM contacts WHERE name = ?", name, address);
}

int
store_contact_by_address(struct store *st, const char *address, char **name)
{
	return lookup_str(st, "SELECT name FROM contacts WHERE address = ? ORDER BY name LIMIT 1",
			  address, name);
}

static void
contact_row(sqlite3_stmt *s, void *out)
{
	struct store_contact *c = out;

	memset(c, 0, sizeof(*c));
	snprintf(c->name, sizeof(c->name), "%s", (const char *)sqlite3_column_text(s, 0));
	c->address = store_col_str(s, 1);
	c->added = (uint64_t)sqlite3_column_int64(s, 2);
}

static void
contacts_release(void *arr, size_t n)
{
	store_contacts_free(arr, n);
}

int
store_contact_list(struct store *st, struct store_contact **out, size_t *n)
{
	void *arr;
	int r = store_rows(store_prep(st, "SELECT name, address, added FROM contacts ORDER BY name",
				      ""), sizeof(**out), contact_row, contacts_release, &arr, n);

	*out = arr;
	return r;
}

void
store_contacts_free(struct store_contact *c, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(c[i].address);
	free(c);
}
