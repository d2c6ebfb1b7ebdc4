#include "common/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"

static const uint8_t *
take(struct rbuf *r, size_t n)
{
	const uint8_t *p;

	if (r->bad || n > r->left) {
		r->bad = true;
		return NULL;
	}
	p = r->p;
	r->p += n;
	r->left -= n;
	return p;
}

uint8_t
rbuf_u8(struct rbuf *r)
{
	const uint8_t *p = take(r, 1);

	return p ? p[0] : 0;
}

uint16_t
rbuf_u16(struct rbuf *r)
{
	const uint8_t *p = take(r, 2);

	return p ? (uint16_t)(p[0] << 8 | p[1]) : 0;
}

uint32_t
rbuf_u32(struct rbuf *r)
{
	const uint8_t *p = take(r, 4);

	return p ? (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3] : 0;
}

uint64_t
rbuf_u64(struct rbuf *r)
{
	uint64_t hi = rbuf_u32(r);

	return hi << 32 | rbuf_u32(r);
}

void
rbuf_copy(struct rbuf *r, void *out, size_t n)
{
	const uint8_t *p = take(r, n);

	if (p)
		memcpy(out, p, n);
	else if (n)
		memset(out, 0, n);
}

const uint8_t *
rbuf_view(struct rbuf *r, size_t n)
{
	return take(r, n);
}

void
rbuf_zeros(struct rbuf *r, size_t n)
{
	const uint8_t *p = take(r, n);
	uint8_t acc = 0;

	if (!p)
		return;
	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	if (acc)
		r->malformed = true;
}

int
rbuf_done(const struct rbuf *r)
{
	if (r->bad)
		return ERR_TRUNCATED;
	if (r->malformed)
		return ERR_MALFORMED;
	if (r->left)
		return ERR_TRAILING;
	return 0;
}

struct wbuf
wbuf_fixed(void *p, size_t cap)
{
	struct wbuf w = { p, 0, cap, cap, false, false };

	return w;
}

struct wbuf
wbuf_dyn(size_t max)
{
	struct wbuf w = { NULL, 0, 0, max, false, true };

	return w;
}

/* Make room for n more bytes plus a NUL; false (and bad) if over max. */
static bool
room(struct wbuf *w, size_t n)
{
	size_t want;

	if (w->bad)
		return false;
	if (n > w->max - w->len) {
		w->bad = true;
		return false;
	}
	if (!w->heap)
		return true;
	want = w->len + n + 1;
	if (want > w->cap) {
		size_t cap = w->cap ? w->cap : 256;

		while (cap < want)
			cap *= 2;
		w->p = xrealloc(w->p, cap);
		w->cap = cap;
	}
	return true;
}

void
wbuf_put(struct wbuf *w, const void *p, size_t n)
{
	if (!room(w, n))
		return;
	if (n)
		memcpy(w->p + w->len, p, n);
	w->len += n;
}

void
wbuf_zeros(struct wbuf *w, size_t n)
{
	if (!room(w, n))
		return;
	memset(w->p + w->len, 0, n);
	w->len += n;
}

void
wbuf_u8(struct wbuf *w, uint8_t v)
{
	wbuf_put(w, &v, 1);
}

void
wbuf_u16(struct wbuf *w, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	wbuf_put(w, b, 2);
}

void
wbuf_u32(struct wbuf *w, uint32_t v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };

	wbuf_put(w, b, 4);
}

void
wbuf_u64(struct wbuf *w, uint64_t v)
{
	wbuf_u32(w, (uint32_t)(v >> 32));
	wbuf_u32(w, (uint32_t)v);
}

void
wbuf_printf(struct wbuf *w, const char *fmt, ...)
{
	va_list ap;
	char small[256];
	int n;

	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0) {
		w->bad = true;
		return;
	}
	if ((size_t)n < sizeof(small)) {
		wbuf_put(w, small, (size_t)n);
		return;
	}
	if (!room(w, (size_t)n))
		return;
	if (!w->heap && (size_t)n + 1 > w->cap - w->len) {
		/* fixed buffer: exact fit without NUL space */
		char *tmp = xmalloc((size_t)n + 1);

		va_start(ap, fmt);
		vsnprintf(tmp, (size_t)n + 1, fmt, ap);
		va_end(ap);
		memcpy(w->p + w->len, tmp, (size_t)n);
		free(tmp);
	} else {
		va_start(ap, fmt);
		vsnprintf((char *)w->p + w->len, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	w->len += (size_t)n;
}

int
wbuf_done(const struct wbuf *w)
{
	return w->bad ? ERR_TOO_BIG : 0;
}

char *
wbuf_take(struct wbuf *w, size_t *len)
{
	char *s;

	if (len)
		*len = 0;
	if (w->bad || !w->heap) {
		wbuf_clear(w);
		return NULL;
	}
	if (!room(w, 0)) {
		wbuf_clear(w);
		return NULL;
	}
	w->p[w->len] = '\0';
	s = (char *)w->p;
	if (len)
		*len = w->len;
	w->p = NULL;
	w->len = w->cap = 0;
	return s;
}

void
wbuf_clear(struct wbuf *w)
{
	if (w->heap)
		free(w->p);
	if (w->heap)
		w->p = NULL;
	w->len = 0;
	w->bad = false;
	if (w->heap)
		w->cap = 0;
}
