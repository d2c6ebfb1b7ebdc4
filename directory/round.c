/* The voting schedule: each epoch E the authorities vote for, compute and
 * co-sign the consensus for epoch E+1 (see authority.h for the timing). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/encode.h"
#include "common/http.h"
#include "common/log.h"
#include "common/util.h"
#include "directory/authority_int.h"

enum post_kind { POST_VOTE, POST_SIG, GET_VOTE };

struct post_ctx {
	struct authority *a;
	size_t peer;
	uint64_t round;
	enum post_kind kind;
};

static struct log_ratelim rl_post;

static uint64_t
retry_ms(const struct authority *a)
{
	return MAX((uint64_t)200, MIN((uint64_t)10000, a->epoch_len * 50));
}

static unsigned
post_timeout(const struct authority *a)
{
	return (unsigned)MAX((uint64_t)1, MIN((uint64_t)AUTH_HTTP_TIMEOUT, a->epoch_len / 4));
}

static void
round_reset(struct authority *a, uint64_t target)
{
	uint64_t now = auth_now_ms() / 1000;

	a->round = target;
	FREE_AND_NULL(a->my_vote);
	a->my_vote_len = 0;
	a->short_logged = false;
	a->resync = false;
	for (size_t i = 0; i < a->npeers; i++) {
		struct peer *p = &a->peers[i];

		VOTE_FREE(p->vote);
		p->vote_sent = p->sig_sent = p->vote_used = false;
		p->vote_next_ms = p->sig_next_ms = p->fetch_next_ms = 0;
		/* busy flags stay: a request still in flight clears its own */
	}
	/* a consensus loaded from disk or made before a restart stands */
	a->computed = auth_cons_find(a, target) != NULL;
	/* forget descriptors too old to be voted for again */
	for (size_t i = 0; i < a->ndescs;) {
		if (a->descs[i].r.published + a->max_age < now) {
			free(a->descs[i].text);
			a->descs[i] = a->descs[--a->ndescs];
		} else {
			i++;
		}
	}
}

static struct peer *
self_peer(struct authority *a)
{
	for (size_t i = 0; i < a->npeers; i++)
		if (a->peers[i].self)
			return &a->peers[i];
	/* authority_new always adds self */
	(void)BUG(a->npeers == 0);
	return &a->peers[0];
}

static void
make_vote(struct authority *a)
{
	const struct cons_doc *prev = auth_cons_find(a, a->round - 1);
	struct vote_item *items = xcalloc(a->ndescs ? a->ndescs : 1, sizeof(*items));
	uint64_t now = auth_now_ms() / 1000;
	struct peer *me = self_peer(a);
	size_t n = 0;
	char why[200];
	int r;

	for (size_t i = 0; i < a->ndescs; i++) {
		const struct desc *d = &a->descs[i];
		uint32_t flags = DIRDOC_FLAG_RUNNING | DIRDOC_FLAG_VALID;

		if (dirdoc_descriptor_check_time(&d->r, now, a->max_age, NULL, 0) < 0 ||
		    !dirdoc_relay_packet_key(&d->r, a->round))
			continue;
		if (d->r.roles & DIRDOC_ROLE_MAILBOX)
			flags |= DIRDOC_FLAG_MAILBOX;
		if (prev && prev->parsed && dirdoc_relay_find(prev->parsed, d->r.node_id))
			flags |= DIRDOC_FLAG_STABLE;
		items[n].desc = d->text;
		items[n].desc_len = d->len;
		items[n].node_id = d->r.node_id;
		items[n].flags = flags;
		n++;
	}
	r = vote_encode(a->round, now, items, n, a->id, &a->my_vote, &a->my_vote_len);
	free(items);
	if (r < 0) {
		log_warn(LD_DIR, "cannot encode our vote for epoch %llu: %s",
			 (unsigned long long)a->round, err_str(r));
		return;
	}
	VOTE_FREE(me->vote);
	if (BUG(vote_parse(a->my_vote, a->my_vote_len, NULL, 0, &me->vote, why, sizeof(why)) <
		0)) {
		log_warn(LD_BUG, "our own vote does not parse: %s", why);
		FREE_AND_NULL(a->my_vote);
		return;
	}
	log_info(LD_DIR, "voted for epoch %llu: %zu relays", (unsigned long long)a->round, n);
}

/* A vote fetched with GET /vote/ROUND from a peer while reconciling: kept
 * if it is that peer's valid vote for this round and we hold none. */
static void
fetched_vote(struct authority *a, struct peer *p, const char *body, size_t len)
{
	uint8_t others[DIRDOC_AUTH_MAX][32];
	struct vote *v = NULL;
	size_t n = 0;
	char why[200];

	for (size_t i = 0; i < a->npeers; i++)
		if (!a->peers[i].self)
			memcpy(others[n++], a->peers[i].pk, 32);
	if (vote_parse(body, len, (const uint8_t(*)[32])others, n, &v, why, sizeof(why)) < 0) {
		log_ratelim(&rl_post, 20, LD_DIR, "vote fetched from authority %s refused: %s",
			    p->fp, why);
		return;
	}
	if (sodium_memcmp(v->auth_pk, p->pk, ID_PK_LEN) != 0 || v->epoch != a->round || p->vote) {
		vote_free(v);
		return;
	}
	p->vote = v;
	log_notice(LD_DIR, "fetched the vote for epoch %llu of authority %s: %zu relays",
		   (unsigned long long)v->epoch, p->fp, v->nrelays);
}

static void
post_done(int err, int status, const char *body, size_t len, void *arg)
{
	struct post_ctx *ctx = arg;
	struct authority *a = ctx->a;
	struct peer *p = &a->peers[ctx->peer];
	bool vote = ctx->kind == POST_VOTE;
	bool done;

	if (ctx->kind == GET_VOTE) {
		p->fetch_busy = false;
		if (ctx->round == a->round && !err && status == 200)
			fetched_vote(a, p, body, len);
		else if (ctx->round == a->round)
			p->fetch_next_ms = auth_now_ms() + retry_ms(a);
		free(ctx);
		return;
	}
	if (vote)
		p->vote_busy = false;
	else
		p->sig_busy = false;
	if (ctx->round != a->round) {
		free(ctx);
		return;
	}
	/* a vote is done when taken; a signature also when refused for
	 * good (400, 404). 409 means the peer holds another body for this
	 * epoch: either of us may still reconcile its votes and recompute,
	 * so keep offering the signature until the epoch begins. */
	done = !err && (status == 200 || (!vote && (status == 400 || status == 404)));
	if (err)
		log_ratelim(&rl_post, 20, LD_DIR, "posting %s to authority %s: %s",
			    vote ? "vote" : "signature", p->fp, err_str(err));
	else if (status != 200)
		log_ratelim(&rl_post, 20, LD_DIR, "authority %s answered our %s with %d: %.*s",
			    p->fp, vote ? "vote" : "signature", status,
			    (int)MIN(len, (size_t)200), body);
	if (vote)
		p->vote_sent = done;
	else
		p->sig_sent = done;
	if (!done) {
		uint64_t next = auth_now_ms() + retry_ms(a);

		if (vote)
			p->vote_next_ms = next;
		else
			p->sig_next_ms = next;
	}
	free(ctx);
}

static void
post(struct authority *a, size_t i, enum post_kind kind, const char *body, size_t len)
{
	struct peer *p = &a->peers[i];
	struct post_ctx *ctx = xcalloc(1, sizeof(*ctx));
	int r;

	ctx->a = a;
	ctx->peer = i;
	ctx->round = a->round;
	ctx->kind = kind;
	r = http_request(a->base, HTTP_POST, p->host, p->port,
			 kind == POST_VOTE ? "/vote" : "/signature", body, len, post_timeout(a),
			 4096, post_done, ctx);
	if (r < 0) {
		free(ctx);
		if (kind == POST_VOTE)
			p->vote_next_ms = auth_now_ms() + retry_ms(a);
		else
			p->sig_next_ms = auth_now_ms() + retry_ms(a);
		return;
	}
	if (kind == POST_VOTE)
		p->vote_busy = true;
	else
		p->sig_busy = true;
}

static void
compute(struct authority *a)
{
	struct vote *votes[DIRDOC_AUTH_MAX];
	struct dirdoc_consensus *c = NULL;
	struct cons_doc *d;
	uint8_t sig[ID_SIG_LEN];
	size_t n = 0, len;
	char *body;
	int r;

	for (size_t i = 0; i < a->npeers; i++)
		if (a->peers[i].vote)
			votes[n++] = a->peers[i].vote;
	/* with half the votes or fewer no relay could be listed */
	if (n * 2 <= a->npeers) {
		if (!a->short_logged)
			log_notice(LD_DIR, "only %zu of %zu votes for epoch %llu so far; waiting", n,
				   a->npeers, (unsigned long long)a->round);
		a->short_logged = true;
		return;
	}
	if ((r = vote_compute(votes, n, a->npeers, a->round, a->epoch_len, &c)) < 0 ||
	    (r = dirdoc_consensus_encode_body(c, &body, &len)) < 0) {
		log_warn(LD_BUG, "cannot compute the consensus for epoch %llu: %s",
			 (unsigned long long)a->round, err_str(r));
		dirdoc_consensus_free(c);
		a->computed = true;	/* do not retry every tick */
		return;
	}
	for (size_t i = 0; i < a->npeers; i++)
		a->peers[i].vote_used = a->peers[i].vote != NULL;
	/* replaces (with its signatures) any body computed earlier this round */
	d = auth_cons_add(a, a->round, body, len);
	dirdoc_consensus_sign(sig, d->body, d->body_len, a->id);
	if (auth_cons_add_sig(a, d, a->id->pk, sig) < 0)
		log_warn(LD_DIR, "cannot store the consensus for epoch %llu",
			 (unsigned long long)a->round);
	a->computed = true;
	log_notice(LD_DIR, "consensus for epoch %llu: %zu relays from %zu of %zu votes",
		   (unsigned long long)a->round, c->nrelays, n, a->npeers);
	dirdoc_consensus_free(c);
}

static void
send_signatures(struct authority *a, uint64_t now_ms)
{
	const struct cons_doc *d = auth_cons_find(a, a->round);
	char pk[HEX_LEN(ID_PK_LEN) + 1], sig[HEX_LEN(ID_SIG_LEN) + 1], *line;
	const struct dirdoc_sig *mine = NULL;

	if (!d)
		return;
	for (size_t i = 0; i < d->nsigs; i++)
		if (sodium_memcmp(d->sigs[i].auth_pk, a->id->pk, ID_PK_LEN) == 0)
			mine = &d->sigs[i];
	if (!mine)
		return;
	hex_encode(pk, mine->auth_pk, ID_PK_LEN);
	hex_encode(sig, mine->sig, ID_SIG_LEN);
	line = xasprintf("consensus-signature %llu %s %s\n", (unsigned long long)d->epoch, pk,
			 sig);
	for (size_t i = 0; i < a->npeers; i++) {
		struct peer *p = &a->peers[i];

		if (!p->self && !p->sig_sent && !p->sig_busy && now_ms >= p->sig_next_ms)
			post(a, i, POST_SIG, line, strlen(line));
	}
	free(line);
}

static void
fetch_vote(struct authority *a, size_t i)
{
	struct peer *p = &a->peers[i];
	struct post_ctx *ctx = xcalloc(1, sizeof(*ctx));
	char path[40];

	ctx->a = a;
	ctx->peer = i;
	ctx->round = a->round;
	ctx->kind = GET_VOTE;
	snprintf(path, sizeof(path), "/vote/%llu", (unsigned long long)a->round);
	if (http_request(a->base, HTTP_GET, p->host, p->port, path, NULL, 0, post_timeout(a),
			 VOTE_MAX, post_done, ctx) < 0) {
		free(ctx);
		p->fetch_next_ms = auth_now_ms() + retry_ms(a);
		return;
	}
	p->fetch_busy = true;
}

/* A peer signed a body for this round that differs from ours. The rule
 * (docs/spec.md part 3, section 7): the consensus is a function of the
 * votes held, and votes only ever get added, so converge on the body of
 * the largest vote set. If we hold a vote our consensus did not use,
 * recompute now (dropping the old body's signatures) and offer the new
 * signature to everyone; otherwise fetch the votes we lack. */
static void
resync(struct authority *a, uint64_t now_ms)
{
	bool unused = false, used = false;

	a->resync = false;
	for (size_t i = 0; i < a->npeers; i++) {
		used |= a->peers[i].vote_used;
		unused |= a->peers[i].vote && !a->peers[i].vote_used;
	}
	/* a body loaded from disk was made before a restart from votes no
	 * longer held: leave it, it stands (section 7) */
	if (!used)
		return;
	if (unused) {
		log_notice(LD_DIR, "recomputing the consensus for epoch %llu with late votes",
			   (unsigned long long)a->round);
		a->computed = false;
		a->short_logged = false;
		for (size_t i = 0; i < a->npeers; i++)
			a->peers[i].sig_sent = false;
		return;
	}
	for (size_t i = 0; i < a->npeers; i++) {
		struct peer *p = &a->peers[i];

		if (!p->self && !p->vote && !p->fetch_busy && now_ms >= p->fetch_next_ms)
			fetch_vote(a, i);
	}
}

void
round_tick(struct authority *a)
{
	uint64_t now_ms = auth_now_ms(), len_ms = a->epoch_len * 1000;
	uint64_t pos = now_ms % len_ms, target = now_ms / len_ms + 1;

	if (target != a->round)
		round_reset(a, target);
	if (!a->my_vote && !a->computed && pos >= len_ms * AUTH_VOTE_AT / 1000 &&
	    pos < len_ms * AUTH_CONS_AT / 1000)
		make_vote(a);
	if (a->my_vote)
		for (size_t i = 0; i < a->npeers; i++) {
			struct peer *p = &a->peers[i];

			if (!p->self && !p->vote_sent && !p->vote_busy && now_ms >= p->vote_next_ms)
				post(a, i, POST_VOTE, a->my_vote, a->my_vote_len);
		}
	if (a->computed && a->resync)
		resync(a, now_ms);
	if (!a->computed && pos >= len_ms * AUTH_CONS_AT / 1000)
		compute(a);
	if (a->computed)
		send_signatures(a, now_ms);
}

int
round_on_vote(struct authority *a, const char *text, size_t len, char *why, size_t whylen)
{
	uint8_t others[DIRDOC_AUTH_MAX][32];
	struct vote *v = NULL;
	struct peer *p;
	size_t n = 0;
	char vwhy[200];

	for (size_t i = 0; i < a->npeers; i++)
		if (!a->peers[i].self)
			memcpy(others[n++], a->peers[i].pk, 32);
	if (vote_parse(text, len, (const uint8_t(*)[32])others, n, &v, vwhy, sizeof(vwhy)) < 0) {
		snprintf(why, whylen, "vote refused: %s", vwhy);
		return 400;
	}
	p = auth_peer_find(a, v->auth_pk);
	if (!p || p->self) {
		snprintf(why, whylen, "vote from a key that is not another configured authority");
		vote_free(v);
		return 400;
	}
	if (v->epoch != a->round) {
		snprintf(why, whylen, "vote for epoch %llu, but we are voting for %llu",
			 (unsigned long long)v->epoch, (unsigned long long)a->round);
		vote_free(v);
		return 400;
	}
	if (a->computed) {
		/* kept, not used: a late vote matters only if a peer's
		 * signature shows that it computed with it (resync) */
		snprintf(why, whylen, "ok: too late, consensus for epoch %llu already computed",
			 (unsigned long long)a->round);
		if (p->vote)
			vote_free(v);
		else
			p->vote = v;
		return 200;
	}
	vote_free(p->vote);
	p->vote = v;
	log_info(LD_DIR, "vote for epoch %llu from authority %s: %zu relays",
		 (unsigned long long)v->epoch, p->fp, v->nrelays);
	snprintf(why, whylen, "ok");
	return 200;
}

int
round_on_signature(struct authority *a, const char *text, size_t len, char *why, size_t whylen)
{
	struct dirdoc_lines l;
	struct cons_doc *d;
	struct peer *p;
	uint8_t pk[ID_PK_LEN], sig[ID_SIG_LEN];
	uint64_t epoch;
	char *f[3];

	dirdoc_lines_init(&l, text, len);
	if (dirdoc_line_expect(&l, "consensus-signature", NULL, 0) < 0 || l.pos != len ||
	    dirdoc_split(&l, f, 3) != 3 || dirdoc_u64(&epoch, f[0]) < 0 ||
	    dirdoc_hex32(pk, f[1]) < 0 || strlen(f[2]) != HEX_LEN(ID_SIG_LEN) ||
	    hex_decode(sig, ID_SIG_LEN, f[2]) < 0) {
		snprintf(why, whylen, "expected one line 'consensus-signature EPOCH KEY SIG'");
		return 400;
	}
	if (!(p = auth_peer_find(a, pk)) || p->self) {
		snprintf(why, whylen, "signature from a key that is not another configured authority");
		return 400;
	}
	if (!(d = auth_cons_find(a, epoch))) {
		if (epoch == a->round && !a->computed) {
			snprintf(why, whylen, "consensus for epoch %llu not computed yet",
				 (unsigned long long)epoch);
			return 503;
		}
		snprintf(why, whylen, "no consensus for epoch %llu here", (unsigned long long)epoch);
		return 404;
	}
	if (dirdoc_consensus_check_sig(sig, d->body, d->body_len, pk) < 0) {
		size_t used = 0;

		for (size_t i = 0; i < a->npeers; i++)
			used += a->peers[i].vote_used;
		if (epoch == a->round) {
			a->resync = true;
			snprintf(why, whylen,
				 "signature does not verify over our consensus for epoch %llu "
				 "(computed from %zu of %zu votes); reconciling",
				 (unsigned long long)epoch, used, a->npeers);
		} else {
			snprintf(why, whylen,
				 "signature does not verify over our consensus for epoch %llu",
				 (unsigned long long)epoch);
		}
		return 409;
	}
	if (auth_cons_add_sig(a, d, pk, sig) < 0) {
		snprintf(why, whylen, "cannot store the signature");
		return 503;
	}
	log_info(LD_DIR, "signature for epoch %llu from authority %s: %zu signatures",
		 (unsigned long long)epoch, p->fp, d->nsigs);
	snprintf(why, whylen, "ok");
	return 200;
}
