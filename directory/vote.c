/* Votes: encode, parse, and the consensus computed from a set of them. */
#include "directory/vote.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/buf.h"
#include "common/encode.h"
#include "common/util.h"

__attribute__((format(printf, 3, 4))) static void
say(char *why, size_t whylen, const char *fmt, ...)
{
	va_list ap;

	if (!why || !whylen)
		return;
	va_start(ap, fmt);
	vsnprintf(why, whylen, fmt, ap);
	va_end(ap);
}

static int
item_cmp(const void *a, const void *b)
{
	return memcmp(((const struct vote_item *)a)->node_id, ((const struct vote_item *)b)->node_id,
		      NODE_ID_LEN);
}

int
vote_encode(uint64_t epoch, uint64_t published, struct vote_item *items, size_t n,
	    const struct id_keypair *kp, char **out, size_t *len)
{
	struct wbuf w = wbuf_dyn(VOTE_MAX);
	char hex[HEX_LEN(ID_SIG_LEN) + 1], flags[64];
	uint8_t sig[ID_SIG_LEN];

	*out = NULL;
	*len = 0;
	qsort(items, n, sizeof(*items), item_cmp);
	for (size_t i = 1; i < n; i++)
		if (item_cmp(&items[i - 1], &items[i]) == 0)
			return ERR_DUPLICATE;
	hex_encode(hex, kp->pk, ID_PK_LEN);
	wbuf_printf(&w, "burrow-vote 1\nepoch %llu\nauthority %s\npublished %llu\n",
		    (unsigned long long)epoch, hex, (unsigned long long)published);
	for (size_t i = 0; i < n; i++) {
		dirdoc_flags_str(flags, sizeof(flags), items[i].flags);
		wbuf_printf(&w, "vote-relay%s%s\n", flags[0] ? " " : "", flags);
		wbuf_put(&w, items[i].desc, items[i].desc_len);
	}
	wbuf_printf(&w, "vote-footer\n");
	if (wbuf_done(&w) < 0) {
		wbuf_clear(&w);
		return ERR_TOO_BIG;
	}
	id_sign(sig, w.p, w.len, kp);
	hex_encode(hex, sig, ID_SIG_LEN);
	wbuf_printf(&w, "vote-signature %s\n", hex);
	if (wbuf_done(&w) < 0) {
		wbuf_clear(&w);
		return ERR_TOO_BIG;
	}
	*out = wbuf_take(&w, len);
	return 0;
}

void
vote_free(struct vote *v)
{
	if (!v)
		return;
	free(v->relays);
	free(v);
}

/* The span of the VOTE_DESC_LINES lines starting at l->pos, or 0. */
static size_t
desc_span(const struct dirdoc_lines *l)
{
	size_t pos = l->pos;

	for (int i = 0; i < VOTE_DESC_LINES; i++) {
		size_t left = l->len - pos;
		const char *nl = memchr(l->text + pos, '\n', left);

		if (!nl)
			return 0;
		pos = (size_t)(nl - l->text) + 1;
		if (pos - l->pos > DIRDOC_DESC_MAX)
			return 0;
	}
	return pos - l->pos;
}

#define EXPECT(kw) do { if ((r = dirdoc_line_expect(l, (kw), why, whylen)) < 0) goto out; } while (0)
#define BAD(code, ...) do { say(why, whylen, __VA_ARGS__); r = (code); goto out; } while (0)

/* The vote signature is checked before the relays are parsed, so that a
 * stranger cannot make an authority verify thousands of descriptors: find
 * the last line, which must be the vote-signature. */
static int
check_signature(const char *text, size_t len, const uint8_t pk[static ID_PK_LEN], char *why,
		size_t whylen)
{
	static const char kw[] = "vote-signature ";
	uint8_t sig[ID_SIG_LEN];
	char hex[HEX_LEN(ID_SIG_LEN) + 1];
	size_t start = len - 1;

	if (len < 2 || text[len - 1] != '\n') {
		say(why, whylen, "vote does not end with a complete line");
		return ERR_TRUNCATED;
	}
	while (start > 0 && text[start - 1] != '\n')
		start--;
	if (len - 1 - start != sizeof(kw) - 1 + HEX_LEN(ID_SIG_LEN) ||
	    memcmp(text + start, kw, sizeof(kw) - 1) != 0) {
		say(why, whylen, "vote does not end with its 'vote-signature' line");
		return ERR_TRUNCATED;
	}
	memcpy(hex, text + start + sizeof(kw) - 1, HEX_LEN(ID_SIG_LEN));
	hex[HEX_LEN(ID_SIG_LEN)] = '\0';
	if (hex_decode(sig, ID_SIG_LEN, hex) < 0) {
		say(why, whylen, "bad vote signature");
		return ERR_MALFORMED;
	}
	if (id_verify(sig, (const uint8_t *)text, start, pk) < 0) {
		say(why, whylen, "vote signature does not verify");
		return ERR_BAD_SIG;
	}
	return 0;
}

static bool
allowed_key(const uint8_t pk[static ID_PK_LEN], const uint8_t (*allowed)[32], size_t nallowed)
{
	for (size_t i = 0; i < nallowed; i++)
		if (sodium_memcmp(pk, allowed[i], ID_PK_LEN) == 0)
			return true;
	return false;
}

static int
parse_lines(struct dirdoc_lines *l, struct vote *v, const uint8_t (*allowed)[32],
	    size_t nallowed, char *why, size_t whylen)
{
	size_t cap = 0;
	char dwhy[160];
	int r;

	EXPECT("burrow-vote");
	if (strcmp(l->args, "1") != 0)
		BAD(ERR_UNSUPPORTED, "unsupported vote version");
	EXPECT("epoch");
	if (dirdoc_u64(&v->epoch, l->args) < 0)
		BAD(ERR_MALFORMED, "line %u: bad epoch", l->lineno);
	EXPECT("authority");
	if (dirdoc_hex32(v->auth_pk, l->args) < 0)
		BAD(ERR_MALFORMED, "line %u: bad authority key", l->lineno);
	EXPECT("published");
	if (dirdoc_u64(&v->published, l->args) < 0)
		BAD(ERR_MALFORMED, "line %u: bad published time", l->lineno);
	if (allowed && !allowed_key(v->auth_pk, allowed, nallowed))
		BAD(ERR_UNKNOWN_SIGNER, "vote from a key that is not a configured authority");
	if ((r = check_signature(l->text, l->len, v->auth_pk, why, whylen)) < 0)
		goto out;
	for (;;) {
		struct dirdoc_relay *rel;
		uint32_t flags;
		size_t span;

		if ((r = dirdoc_line_next(l)) < 0)
			BAD(r, "vote ends before 'vote-footer'");
		if (strcmp(l->kw, "vote-footer") == 0 && l->args[0] == '\0')
			break;
		if (strcmp(l->kw, "vote-relay") != 0 || dirdoc_flags_parse(l, &flags) < 0)
			BAD(ERR_MALFORMED, "line %u: expected 'vote-relay FLAGS'", l->lineno);
		if (v->nrelays == DIRDOC_CONS_MAX_RELAYS)
			BAD(ERR_TOO_BIG, "too many relays in vote");
		if (!(span = desc_span(l)))
			BAD(ERR_TRUNCATED, "line %u: incomplete descriptor", l->lineno);
		if (v->nrelays == cap) {
			cap = cap ? cap * 2 : 64;
			v->relays = xrealloc(v->relays, cap * sizeof(*v->relays));
		}
		rel = &v->relays[v->nrelays];
		if ((r = dirdoc_descriptor_parse(l->text + l->pos, span, rel, dwhy,
						 sizeof(dwhy))) < 0)
			BAD(r, "line %u: descriptor: %s", l->lineno + 1, dwhy);
		if (!dirdoc_relay_packet_key(rel, v->epoch))
			BAD(ERR_MALFORMED, "line %u: relay has no packet key for epoch %llu",
			    l->lineno + 1, (unsigned long long)v->epoch);
		if (v->nrelays &&
		    memcmp(v->relays[v->nrelays - 1].node_id, rel->node_id, NODE_ID_LEN) >= 0)
			BAD(ERR_MALFORMED, "line %u: relays not in ascending node id order",
			    l->lineno + 1);
		rel->flags = flags;
		v->nrelays++;
		l->pos += span;
		l->lineno += VOTE_DESC_LINES;
	}
	/* check_signature verified the last line over everything before it */
	EXPECT("vote-signature");
	if (l->pos != l->len)
		BAD(ERR_MALFORMED, "data after the vote signature");
	r = 0;
out:
	return r;
}

int
vote_parse(const char *text, size_t len, const uint8_t (*allowed)[32], size_t nallowed,
	   struct vote **out, char *why, size_t whylen)
{
	struct dirdoc_lines *l;
	struct vote *v;
	int r;

	*out = NULL;
	if (len > VOTE_MAX) {
		say(why, whylen, "vote over %zu bytes", VOTE_MAX);
		return ERR_TOO_BIG;
	}
	l = xmalloc(sizeof(*l));
	v = xcalloc(1, sizeof(*v));
	dirdoc_lines_init(l, text, len);
	r = parse_lines(l, v, allowed, nallowed, why, whylen);
	free(l);
	if (r < 0) {
		vote_free(v);
		return r;
	}
	*out = v;
	return 0;
}

/* --- the consensus rule ------------------------------------------------ */

/* By node id; then the preferred descriptor first: newest published, then
 * smaller signature bytes, so every authority picks the same one. */
static int
entry_cmp(const void *a, const void *b)
{
	const struct dirdoc_relay *x = *(const struct dirdoc_relay *const *)a;
	const struct dirdoc_relay *y = *(const struct dirdoc_relay *const *)b;
	int d = memcmp(x->node_id, y->node_id, NODE_ID_LEN);

	if (d)
		return d;
	if (x->published != y->published)
		return x->published > y->published ? -1 : 1;
	return memcmp(x->sig, y->sig, ID_SIG_LEN);
}

int
vote_compute(struct vote *const *votes, size_t nvotes, size_t nauth, uint64_t epoch,
	     uint64_t epoch_len, struct dirdoc_consensus **out)
{
	const struct dirdoc_relay **all;
	struct dirdoc_consensus *c;
	size_t total = 0, k = 0, n = 0;

	*out = NULL;
	for (size_t i = 0; i < nvotes; i++) {
		if (votes[i]->epoch != epoch)
			return ERR_MALFORMED;
		total += votes[i]->nrelays;
	}
	all = xcalloc(total ? total : 1, sizeof(*all));
	for (size_t i = 0; i < nvotes; i++)
		for (size_t j = 0; j < votes[i]->nrelays; j++)
			all[k++] = &votes[i]->relays[j];
	qsort(all, total, sizeof(*all), entry_cmp);
	c = dirdoc_consensus_new(total);
	c->epoch = epoch;
	c->epoch_len = epoch_len;
	dirdoc_epoch_window(epoch, epoch_len, &c->valid_after, &c->fresh_until, &c->valid_until);
	for (size_t i = 0; i < total;) {
		size_t j = i, listed;
		struct dirdoc_relay *r;

		while (j < total && memcmp(all[j]->node_id, all[i]->node_id, NODE_ID_LEN) == 0)
			j++;
		listed = j - i;	/* a vote lists a node at most once */
		if (listed * 2 > nauth && n < DIRDOC_CONS_MAX_RELAYS) {
			r = &c->relays[n++];
			*r = *all[i];
			r->flags = 0;
			for (uint32_t bit = 1; bit & DIRDOC_FLAGS_ALL; bit <<= 1) {
				size_t set = 0;

				for (size_t m = i; m < j; m++)
					set += (all[m]->flags & bit) != 0;
				if (set * 2 > listed)
					r->flags |= bit;
			}
			/* the consensus carries no contact, software or time */
			r->contact[0] = r->software[0] = '\0';
			r->published = 0;
			memset(r->sig, 0, sizeof(r->sig));
		}
		i = j;
	}
	c->nrelays = n;
	free(all);
	*out = c;
	return 0;
}
