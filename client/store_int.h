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

/* Reads the current row of s into out (one element). */
typedef void store_row_fn(sqlite3_stmt *s, void *out);
/* Frees n elements read by a store_row_fn, and the array. */
typedef void store_rows_free_fn(void *arr, size_t n);

/* Step s (NULL allowed; finalized here) to its first row and read it with
 * fn into out: 0, ERR_NOT_FOUND (no row) or ERR_IO. */
int store_row(sqlite3_stmt *s, store_row_fn *fn, void *out);
/* Step s (NULL allowed; finalized here) through every row, reading each
 * with fn into a heap array of elements of size bytes: 0 with *out and *n
 * (NULL and 0 when no row), or ERR_IO (what was read freed with release,
 * or free() when release is NULL). */
int store_rows(sqlite3_stmt *s, size_t size, store_row_fn *fn, store_rows_free_fn *release,
	       void **out, size_t *n);

#endif
