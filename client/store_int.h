/* Internals shared by client/store*.c: not for other modules. */
#ifndef BURROW_CLIENT_STORE_INT_H
#define BURROW_CLIENT_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <sqlite3.h>

struct store {
	sqlite3 *db;
};

/* Run SQL with no results: 0 or ERR_IO (logged). */
int store_exec(struct store *st, const char *sql);
/* Prepare and bind ('i' int64_t, 't' text, 'b' pointer + size_t): the
 * statement, or NULL (logged). */
sqlite3_stmt *store_prep(struct store *st, const char *sql, const char *types, ...);
/* Step a statement that returns no rows and finalize it (NULL allowed):
 * 0, ERR_EXISTS (a constraint) or ERR_IO. */
int store_step_done(struct store *st, sqlite3_stmt *s);
/* Copy a blob column of exactly len bytes: false (out zeroed) otherwise. */
bool store_col_blob(sqlite3_stmt *s, int col, void *out, size_t len);
/* A heap copy of a blob column. */
uint8_t *store_col_dup(sqlite3_stmt *s, int col, size_t *len);
/* A heap copy of a text column ("" for NULL). */
char *store_col_str(sqlite3_stmt *s, int col);

#endif
