/* Directory documents: the consensus (docs/spec.md, "Directory"). */
#include "common/dirdoc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/buf.h"
#include "common/dirdoc_int.h"
#include "common/encode.h"
#include "common/util.h"

/* A consensus relay block is at least this many bytes, so relay-count
 * cannot make the parser allocate more than the text could describe. */
#define CONS_RELAY_MIN_BYTES 300

/* --- consensus ------------------------------------------------------- */

struct dirdoc_consensus *
dirdoc_consensus_new(size_t nrelays)
{
	struct dirdoc_consensus *c = xcalloc(1, sizeof(*c));

	c->nrelays = nrelays;
	c->relays = xcalloc(nrelays ? nrelays : 1, sizeof(*c->relays));
	return c;
}

void
dirdoc_consensus_free(struct dirdoc_consensus *c)
{
	if (!c)
		return;
	free(c->relays);
	free(c);
}

static int
relay_cmp(const void *a, const void *b)
{
	const struct dirdoc_relay *x = a, *y = b;

	return memcmp(x->node_id, y->node_id, NODE_ID_LEN);
}

void
dirdoc_consensus_sort(struct dirdoc_consensus *c)
{
	for (size_t i = 0; i < c->nrelays; i++)
		node_id_of(c->relays[i].node_id, c->relays[i].id_pk);
	qsort(c->relays, c->nrelays, sizeof(*c->relays), relay_cmp);
}

int
dirdoc_consensus_encode_body(const struct dirdoc_consensus *c, char **out, size_t *len)
{
	struct wbuf w = wbuf_dyn(DIRDOC_CONS_MAX);
	uint64_t va, fu, vu;
	char words[64];

	*out = NULL;
	*len = 0;
	if (c->epoch_len == 0 || c->epoch_len > DIRDOC_EPOCH_LEN_MAX ||
	    c->epoch > UINT64_MAX / c->epoch_len - DIRDOC_VALID_EPOCHS ||
	    c->nrelays > DIRDOC_CONS_MAX_RELAYS)
		return ERR_MALFORMED;
	dirdoc_epoch_window(c->epoch, c->epoch_len, &va, &fu, &vu);
	if (c->valid_after != va || c->fresh_until != fu || c->valid_until != vu)
		return ERR_MALFORMED;
	wbuf_printf(&w, "burrow-consensus 1\nepoch %llu\nepoch-seconds %llu\nvalid-after %llu\n"
		    "fresh-until %llu\nvalid-until %llu\nrelay-count %zu\n",
		    (unsigned long long)c->epoch, (unsigned long long)c->epoch_len,
		    (unsigned long long)va, (unsigned long long)fu, (unsigned long long)vu,
		    c->nrelays);
	for (size_t i = 0; i < c->nrelays; i++) {
		const struct dirdoc_relay *r = &c->relays[i];

		if (!dirdoc_relay_ok(r) || !dirdoc_relay_packet_key(r, c->epoch) ||
		    (i && memcmp(c->relays[i - 1].node_id, r->node_id, NODE_ID_LEN) >= 0)) {
			wbuf_clear(&w);
			return ERR_MALFORMED;
		}
		wbuf_printf(&w, "relay %s ", r->nickname);
		dirdoc_put_hex(&w, r->id_pk, ID_PK_LEN);
		wbuf_printf(&w, " %s:%u\n", r->host, r->port);
		dirdoc_put_keys(&w, r);
		dirdoc_words_str(words, sizeof(words), dirdoc_role_names, ARRAY_LEN(dirdoc_role_names), r->roles);
		wbuf_printf(&w, "roles %s\nflags", words);
		dirdoc_flags_str(words, sizeof(words), r->flags);
		wbuf_printf(&w, "%s%s\nbandwidth %llu\n", words[0] ? " " : "", words,
			    (unsigned long long)r->bandwidth);
		dirdoc_put_family(&w, r);
	}
	wbuf_printf(&w, "directory-footer\n");
	if (wbuf_done(&w) < 0) {
		wbuf_clear(&w);
		return ERR_TOO_BIG;
	}
	*out = wbuf_take(&w, len);
	return 0;
}

/* "Authorities sign BLAKE2b-512 of the body, personalized, rather than the
 * body itself": each of several signatures over a multi-megabyte body then
 * costs one 64-byte Ed25519 operation after a single hash. */
static void
cons_digest(uint8_t d[static 64], const char *body, size_t body_len)
{
	static const uint8_t personal[crypto_generichash_blake2b_PERSONALBYTES] = {
		'b', 'u', 'r', 'r', 'o', 'w', '-', 'c', 'o', 'n', 's', 'e', 'n', 's', 'u', 's'
	};

	crypto_generichash_blake2b_salt_personal(d, 64, (const uint8_t *)body, body_len, NULL, 0,
						 NULL, personal);
}

void
dirdoc_consensus_sign(uint8_t sig[static ID_SIG_LEN], const char *body, size_t body_len,
		      const struct id_keypair *kp)
{
	uint8_t d[64];

	cons_digest(d, body, body_len);
	id_sign(sig, d, sizeof(d), kp);
}

int
dirdoc_consensus_check_sig(const uint8_t sig[static ID_SIG_LEN], const char *body, size_t body_len,
			   const uint8_t pk[static ID_PK_LEN])
{
	uint8_t d[64];

	cons_digest(d, body, body_len);
	return id_verify(sig, d, sizeof(d), pk) == 0 ? 0 : ERR_BAD_SIG;
}

static int
sig_cmp(const void *a, const void *b)
{
	return memcmp(((const struct dirdoc_sig *)a)->auth_pk,
		      ((const struct dirdoc_sig *)b)->auth_pk, ID_PK_LEN);
}

int
dirdoc_consensus_assemble(const char *body, size_t body_len, const struct dirdoc_sig *sigs,
			  size_t nsigs, char **out, size_t *len)
{
	struct dirdoc_sig sorted[DIRDOC_AUTH_MAX];
	struct wbuf w = wbuf_dyn(DIRDOC_CONS_MAX);

	*out = NULL;
	*len = 0;
	if (nsigs > DIRDOC_AUTH_MAX)
		return ERR_TOO_BIG;
	if (nsigs)
		memcpy(sorted, sigs, nsigs * sizeof(*sigs));
	qsort(sorted, nsigs, sizeof(*sorted), sig_cmp);
	wbuf_put(&w, body, body_len);
	for (size_t i = 0; i < nsigs; i++) {
		if (i && sig_cmp(&sorted[i - 1], &sorted[i]) == 0)
			continue;
		wbuf_printf(&w, "directory-signature ");
		dirdoc_put_hex(&w, sorted[i].auth_pk, ID_PK_LEN);
		wbuf_put(&w, " ", 1);
		dirdoc_put_hex(&w, sorted[i].sig, ID_SIG_LEN);
		wbuf_put(&w, "\n", 1);
	}
	wbuf_printf(&w, "end\n");
	if (wbuf_done(&w) < 0) {
		wbuf_clear(&w);
		return ERR_TOO_BIG;
	}
	*out = wbuf_take(&w, len);
	return 0;
}

static int
cons_header(struct dirdoc_lines *l, struct dirdoc_consensus *h, uint64_t *count, char *why,
	    size_t whylen)
{
	uint64_t va, fu, vu;
	int r;

	EXPECT("burrow-consensus");
	if (strcmp(l->args, "1") != 0) {
		dirdoc_say(why, whylen, "unsupported consensus version '%.16s'", l->args);
		return ERR_UNSUPPORTED;
	}
	if ((r = dirdoc_get_u64(l, "epoch", &h->epoch, why, whylen)) < 0 ||
	    (r = dirdoc_get_u64(l, "epoch-seconds", &h->epoch_len, why, whylen)) < 0 ||
	    (r = dirdoc_get_u64(l, "valid-after", &h->valid_after, why, whylen)) < 0 ||
	    (r = dirdoc_get_u64(l, "fresh-until", &h->fresh_until, why, whylen)) < 0 ||
	    (r = dirdoc_get_u64(l, "valid-until", &h->valid_until, why, whylen)) < 0 ||
	    (r = dirdoc_get_u64(l, "relay-count", count, why, whylen)) < 0)
		return r;
	if (h->epoch_len == 0 || h->epoch_len > DIRDOC_EPOCH_LEN_MAX ||
	    h->epoch > UINT64_MAX / h->epoch_len - DIRDOC_VALID_EPOCHS)
		BAD("epoch-seconds or epoch out of range");
	dirdoc_epoch_window(h->epoch, h->epoch_len, &va, &fu, &vu);
	if (h->valid_after != va || h->fresh_until != fu || h->valid_until != vu)
		BAD("valid-after, fresh-until or valid-until does not match the epoch");
	if (*count > DIRDOC_CONS_MAX_RELAYS || *count > l->len / CONS_RELAY_MIN_BYTES)
		BAD("relay-count %llu too large for the document", (unsigned long long)*count);
	return 0;
}

static int
cons_relay(struct dirdoc_lines *l, uint64_t epoch, struct dirdoc_relay *out, char *why,
	   size_t whylen)
{
	char *f[3];
	int r;

	EXPECT("relay");
	if (dirdoc_split(l, f, 3) != 3 || !dirdoc_nick_ok(f[0]) || dirdoc_hex32(out->id_pk, f[1]) < 0 ||
	    dirdoc_addr_parse(f[2], out->host, &out->port) < 0)
		BAD("line %u: relay is not 'NICKNAME IDENTITY IPV4:PORT'", l->lineno);
	snprintf(out->nickname, sizeof(out->nickname), "%s", f[0]);
	node_id_of(out->node_id, out->id_pk);
	if ((r = dirdoc_get_keys(l, out, why, whylen)) < 0 || (r = dirdoc_get_roles(l, out, why, whylen)) < 0)
		return r;
	EXPECT("flags");
	if (dirdoc_flags_parse(l, &out->flags) < 0)
		BAD("line %u: unknown, repeated or misordered flag", l->lineno);
	if ((r = dirdoc_get_u64(l, "bandwidth", &out->bandwidth, why, whylen)) < 0 ||
	    (r = dirdoc_get_family(l, out, why, whylen)) < 0)
		return r;
	if (!dirdoc_relay_packet_key(out, epoch))
		BAD("line %u: relay has no packet key for epoch %llu", l->lineno,
		    (unsigned long long)epoch);
	return 0;
}

static int
cons_parse(struct dirdoc_lines *l, struct dirdoc_consensus **out, char *why, size_t whylen)
{
	struct dirdoc_consensus h = { 0 }, *c = NULL;
	uint64_t count;
	char *f[2];
	int r;

	if ((r = cons_header(l, &h, &count, why, whylen)) < 0)
		return r;
	c = dirdoc_consensus_new((size_t)count);
	h.relays = c->relays;
	h.nrelays = c->nrelays;
	*c = h;
	for (size_t i = 0; i < c->nrelays; i++) {
		if ((r = cons_relay(l, c->epoch, &c->relays[i], why, whylen)) < 0)
			goto fail;
		if (i && memcmp(c->relays[i - 1].node_id, c->relays[i].node_id, NODE_ID_LEN) >= 0) {
			dirdoc_say(why, whylen, "line %u: relays not in ascending node id order",
			    l->lineno);
			r = ERR_MALFORMED;
			goto fail;
		}
	}
	if ((r = dirdoc_line_expect(l, "directory-footer", why, whylen)) < 0)
		goto fail;
	if (l->args[0]) {
		dirdoc_say(why, whylen, "line %u: directory-footer takes no arguments", l->lineno);
		r = ERR_MALFORMED;
		goto fail;
	}
	c->body_len = l->pos;
	for (;;) {
		struct dirdoc_sig *s;

		if ((r = dirdoc_line_next(l)) < 0) {
			dirdoc_say(why, whylen, "document ends before its 'end' line");
			goto fail;
		}
		if (strcmp(l->kw, "end") == 0 && l->args[0] == '\0')
			break;
		if (strcmp(l->kw, "directory-signature") != 0 || c->nsigs == DIRDOC_AUTH_MAX) {
			dirdoc_say(why, whylen, "line %u: expected 'directory-signature' or 'end'",
			    l->lineno);
			r = ERR_MALFORMED;
			goto fail;
		}
		s = &c->sigs[c->nsigs];
		if (dirdoc_split(l, f, 2) != 2 || dirdoc_hex32(s->auth_pk, f[0]) < 0 ||
		    dirdoc_hex64(s->sig, f[1]) < 0) {
			dirdoc_say(why, whylen, "line %u: directory-signature is not 'KEY SIGNATURE'",
			    l->lineno);
			r = ERR_MALFORMED;
			goto fail;
		}
		if (c->nsigs && sig_cmp(&c->sigs[c->nsigs - 1], s) >= 0) {
			dirdoc_say(why, whylen, "line %u: signatures repeated or not sorted by key",
			    l->lineno);
			r = ERR_MALFORMED;
			goto fail;
		}
		c->nsigs++;
	}
	if (l->pos != l->len) {
		dirdoc_say(why, whylen, "data after the 'end' line");
		r = ERR_MALFORMED;
		goto fail;
	}
	*out = c;
	return 0;
fail:
	dirdoc_consensus_free(c);
	return r;
}

int
dirdoc_consensus_parse(const char *text, size_t len, struct dirdoc_consensus **out, char *why,
		       size_t whylen)
{
	struct dirdoc_lines *l;
	int r;

	*out = NULL;
	dirdoc_say(why, whylen, "ok");
	if (len > DIRDOC_CONS_MAX) {
		dirdoc_say(why, whylen, "consensus is %zu bytes, over the limit", len);
		return ERR_TOO_BIG;
	}
	l = xmalloc(sizeof(*l));
	dirdoc_lines_init(l, text, len);
	r = cons_parse(l, out, why, whylen);
	free(l);
	return r;
}

static bool
pinned(const uint8_t pk[static ID_PK_LEN], const uint8_t (*auth_pks)[32], size_t nauth)
{
	for (size_t i = 0; i < nauth; i++)
		if (sodium_memcmp(pk, auth_pks[i], ID_PK_LEN) == 0)
			return true;
	return false;
}

int
dirdoc_consensus_verify(const char *text, size_t len, const uint8_t (*auth_pks)[32], size_t nauth,
			uint64_t now, struct dirdoc_consensus **out, char *why, size_t whylen)
{
	struct dirdoc_consensus *c = NULL;
	char fp[FINGERPRINT_LEN + 1];
	uint8_t digest[64];
	int r;

	if (out)
		*out = NULL;
	if ((r = dirdoc_consensus_parse(text, len, &c, why, whylen)) < 0)
		return r;
	cons_digest(digest, text, c->body_len);
	/* Every signature present must be from a pinned key and valid: the
	 * authorities only ever append verified signatures from their own
	 * set, so anything else means tampering or a mismatched pin list. */
	for (size_t i = 0; i < c->nsigs; i++) {
		key_fingerprint(fp, c->sigs[i].auth_pk, ID_PK_LEN);
		if (!pinned(c->sigs[i].auth_pk, auth_pks, nauth)) {
			dirdoc_say(why, whylen, "signature by %s, which is not a pinned authority", fp);
			r = ERR_UNKNOWN_SIGNER;
			goto fail;
		}
		if (id_verify(c->sigs[i].sig, digest, sizeof(digest), c->sigs[i].auth_pk) < 0) {
			dirdoc_say(why, whylen, "signature by authority %s does not verify", fp);
			r = ERR_BAD_SIG;
			goto fail;
		}
	}
	/* "more than half of the pinned authorities" */
	if (nauth == 0 || c->nsigs * 2 <= nauth) {
		dirdoc_say(why, whylen, "%zu of %zu pinned authorities signed; more than half needed",
		    c->nsigs, nauth);
		r = ERR_QUORUM;
		goto fail;
	}
	if (now < c->valid_after) {
		dirdoc_say(why, whylen, "not valid until %llu (now %llu)",
		    (unsigned long long)c->valid_after, (unsigned long long)now);
		r = ERR_NOT_YET_VALID;
		goto fail;
	}
	if (now >= c->valid_until) {
		dirdoc_say(why, whylen, "expired at %llu (now %llu)", (unsigned long long)c->valid_until,
		    (unsigned long long)now);
		r = ERR_EXPIRED;
		goto fail;
	}
	dirdoc_say(why, whylen, "ok: epoch %llu, %zu relays, %zu of %zu signatures",
	    (unsigned long long)c->epoch, c->nrelays, c->nsigs, nauth);
	if (out)
		*out = c;
	else
		dirdoc_consensus_free(c);
	return 0;
fail:
	dirdoc_consensus_free(c);
	return r;
}

const struct dirdoc_relay *
dirdoc_relay_find(const struct dirdoc_consensus *c, const uint8_t node_id[static NODE_ID_LEN])
{
	size_t lo = 0, hi = c->nrelays;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int d = memcmp(node_id, c->relays[mid].node_id, NODE_ID_LEN);

		if (d == 0)
			return &c->relays[mid];
		if (d < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

const uint8_t *
dirdoc_relay_packet_key(const struct dirdoc_relay *r, uint64_t e)
{
	for (int i = 0; i < 2; i++)
		if (r->key_epoch[i] == e)
			return r->packet_pk[i];
	return NULL;
}
