/* Internals shared by dirdoc.c (cursor, fields, descriptors) and
 * dirdoc_consensus.c: the relay lines both document types carry. Not for
 * use outside common/dirdoc*.c. */
#ifndef BURROW_DIRDOC_INT_H
#define BURROW_DIRDOC_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/dirdoc.h"

/* In a function with `int r`, `struct dirdoc_lines *l`, why and whylen:
 * read the next line as keyword kw, or return the error; return
 * ERR_MALFORMED with a reason. */
#define EXPECT(kw) do { if ((r = dirdoc_line_expect(l, (kw), why, whylen)) < 0) return r; } while (0)
#define BAD(...) do { dirdoc_say(why, whylen, __VA_ARGS__); return ERR_MALFORMED; } while (0)

extern const char *const dirdoc_role_names[2];

/* snprintf into why when why is non-NULL. */
__attribute__((format(printf, 3, 4)))
void dirdoc_say(char *why, size_t whylen, const char *fmt, ...);

/* 128 lowercase hex digits: 0 or ERR_MALFORMED. */
int dirdoc_hex64(uint8_t out[static 64], const char *s);
bool dirdoc_nick_ok(const char *s);
/* "A.B.C.D:PORT" in its one canonical spelling: 0 or ERR_MALFORMED. */
int dirdoc_addr_parse(const char *s, char host[static 64], uint16_t *port);
/* The fields an encoder is about to write are all in their domains. */
bool dirdoc_relay_ok(const struct dirdoc_relay *r);
void dirdoc_words_str(char *out, size_t outlen, const char *const *names, size_t nnames,
		      uint32_t bits);

void dirdoc_put_hex(struct wbuf *w, const uint8_t *p, size_t n);
/* "link-key", then the two "packet-key" lines. */
void dirdoc_put_keys(struct wbuf *w, const struct dirdoc_relay *r);
void dirdoc_put_family(struct wbuf *w, const struct dirdoc_relay *r);

/* Line readers: 0, or a dirdoc_line_next error / ERR_MALFORMED with why. */
int dirdoc_get_keys(struct dirdoc_lines *l, struct dirdoc_relay *out, char *why, size_t whylen);
int dirdoc_get_family(struct dirdoc_lines *l, struct dirdoc_relay *out, char *why, size_t whylen);
int dirdoc_get_roles(struct dirdoc_lines *l, struct dirdoc_relay *out, char *why, size_t whylen);
int dirdoc_get_u64(struct dirdoc_lines *l, const char *kw, uint64_t *v, char *why,
		   size_t whylen);

#endif
