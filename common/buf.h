/* Bounds-checked reading and writing of wire bytes.
 *
 * A reader's failure is sticky: once a read runs past the end, `bad` is
 * set, that read consumes nothing, and every later read yields zeros, so a
 * parser reads every field and checks once with rbuf_done(). Multi-byte
 * integers are big-endian. */
#ifndef BURROW_BUF_H
#define BURROW_BUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct rbuf {
	const uint8_t *p;
	size_t left;
	bool bad;	/* a read ran short: the input is truncated */
	bool malformed;	/* a caller flagged a field with a forbidden value */
};

static inline struct rbuf
rbuf_of(const void *p, size_t len)
{
	struct rbuf r = { (const uint8_t *)p, len, false, false };

	return r;
}

uint8_t rbuf_u8(struct rbuf *r);
uint16_t rbuf_u16(struct rbuf *r);
uint32_t rbuf_u32(struct rbuf *r);
uint64_t rbuf_u64(struct rbuf *r);
/* Copy n bytes to out; on a short read, zero out and mark the reader bad. */
void rbuf_copy(struct rbuf *r, void *out, size_t n);
/* Return a pointer to the next n bytes and skip them, or NULL if short. */
const uint8_t *rbuf_view(struct rbuf *r, size_t n);
/* Skip n bytes that must all be zero; non-zero marks the reader malformed. */
void rbuf_zeros(struct rbuf *r, size_t n);
/* Mark the input malformed (a field's value is out of its domain). */
static inline void rbuf_fail(struct rbuf *r) { r->malformed = true; }
/* Return ERR_TRUNCATED if a read ran short, ERR_MALFORMED if flagged,
 * ERR_TRAILING if bytes remain, else 0. */
int MUST_CHECK rbuf_done(const struct rbuf *r);

/* A writer over a fixed buffer (wbuf_fixed) or a growing heap buffer
 * (wbuf_dyn, capped at max bytes). Overflow is sticky like the reader's. */
struct wbuf {
	uint8_t *p;
	size_t len, cap, max;
	bool bad;
	bool heap;
};

struct wbuf wbuf_fixed(void *p, size_t cap);
struct wbuf wbuf_dyn(size_t max);
void wbuf_u8(struct wbuf *w, uint8_t v);
void wbuf_u16(struct wbuf *w, uint16_t v);
void wbuf_u32(struct wbuf *w, uint32_t v);
void wbuf_u64(struct wbuf *w, uint64_t v);
void wbuf_put(struct wbuf *w, const void *p, size_t n);
void wbuf_zeros(struct wbuf *w, size_t n);
/* Append formatted text (no terminating NUL counted in len). */
__attribute__((format(printf, 2, 3))) void wbuf_printf(struct wbuf *w, const char *fmt, ...);
/* Return ERR_TOO_BIG if anything failed to fit, else 0. */
int MUST_CHECK wbuf_done(const struct wbuf *w);
/* Return the heap buffer NUL-terminated and owned by the caller; the
 * writer is emptied. NULL if the writer overflowed (the buffer is freed). */
char *wbuf_take(struct wbuf *w, size_t *len);
/* Free a heap writer's buffer; fixed writers are only reset. */
void wbuf_clear(struct wbuf *w);

#endif
