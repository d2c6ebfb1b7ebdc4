/* Path selection: distinct mix relays, no shared /16 or family, uniform
 * or bandwidth-weighted, optional fixed entry, exponential delays. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <sodium.h>

#include "common/path.h"
#include "common/util.h"

/* Rejection draws before falling back to an exhaustive scan: with few
 * conflicts a draw is accepted at once; the scan bounds the worst case. */
#define PATH_REJECT_TRIES 64
/* Bandwidths are clamped so a sum over 2^23 nodes cannot overflow. */
#define PATH_BW_CLAMP (UINT64_C(1) << 40)

struct path_selector {
	const struct path_node *nodes;
	size_t n;
	size_t *mix;		/* indices of PATH_MIX nodes */
	uint64_t *cum;		/* cum[i] = sum of clamped bandwidth of mix[0..i] */
	size_t nmix;
};

static void
rng_default_bytes(void *ctx, void *buf, size_t n)
{
	(void)ctx;
	randombytes_buf(buf, n);
}

struct path_rng
path_rng_default(void)
{
	struct path_rng r = { rng_default_bytes, NULL };

	return r;
}

static void
seeded_refill(struct path_rng_seeded *s)
{
	static const uint8_t nonce[crypto_stream_chacha20_NONCEBYTES];

	memset(s->buf, 0, sizeof(s->buf));
	crypto_stream_chacha20_xor_ic(s->buf, s->buf, sizeof(s->buf), nonce, s->block, s->key);
	s->block += sizeof(s->buf) / 64;
	s->pos = 0;
}

static void
rng_seeded_bytes(void *ctx, void *buf, size_t n)
{
	struct path_rng_seeded *s = ctx;
	uint8_t *out = buf;

	while (n > 0) {
		size_t take;

		if (s->pos == sizeof(s->buf))
			seeded_refill(s);
		take = MIN(n, sizeof(s->buf) - s->pos);
		memcpy(out, s->buf + s->pos, take);
		s->pos += take;
		out += take;
		n -= take;
	}
}

struct path_rng
path_rng_seeded_init(struct path_rng_seeded *s, const uint8_t seed[static 32])
{
	struct path_rng r = { rng_seeded_bytes, s };

	memcpy(s->key, seed, sizeof(s->key));
	s->block = 0;
	s->pos = sizeof(s->buf);
	return r;
}

void
path_rng_seeded_clear(struct path_rng_seeded *s)
{
	sodium_memzero(s, sizeof(*s));
}

uint64_t
path_rng_u64(const struct path_rng *rng)
{
	uint8_t b[8];
	uint64_t v = 0;

	rng->bytes(rng->ctx, b, sizeof(b));
	for (int i = 0; i < 8; i++)
		v = (v << 8) | b[i];
	return v;
}

uint64_t
path_rng_below(const struct path_rng *rng, uint64_t n)
{
	/* Reject the top partial range so every residue is equally likely. */
	uint64_t limit, v;

	if (n <= 1)
		return 0;
	limit = UINT64_MAX - (UINT64_MAX % n);
	do
		v = path_rng_u64(rng);
	while (v >= limit);
	return v % n;
}

double
path_rng_unit(const struct path_rng *rng)
{
	return ((double)(path_rng_u64(rng) >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

double
path_rng_exp(const struct path_rng *rng, double mean)
{
	if (!(mean > 0))
		return 0;
	return -mean * log(path_rng_unit(rng));
}

/* Does family list `list` name `nick` (comma-separated, spaces ignored)? */
static bool
family_names(const char *list, const char *nick)
{
	size_t nlen = strlen(nick);
	const char *p = list;

	if (nlen == 0)
		return false;
	while (*p) {
		const char *start, *end;

		while (*p == ' ' || *p == ',')
			p++;
		start = p;
		while (*p && *p != ',')
			p++;
		end = p;
		while (end > start && end[-1] == ' ')
			end--;
		if ((size_t)(end - start) == nlen && strncasecmp(start, nick, nlen) == 0)
			return true;
	}
	return false;
}

static bool
nick_set(const struct path_node *n)
{
	return memchr(n->nickname, '\0', sizeof(n->nickname)) != NULL && n->nickname[0] != '\0';
}

bool
path_nodes_related(const struct path_node *a, const struct path_node *b)
{
	if ((a->ipv4 >> 16) == (b->ipv4 >> 16))
		return true;
	if (!nick_set(a) || !nick_set(b))
		return false;
	if (memchr(a->family, '\0', sizeof(a->family)) == NULL ||
	    memchr(b->family, '\0', sizeof(b->family)) == NULL)
		return false;
	return family_names(a->family, b->nickname) && family_names(b->family, a->nickname);
}

struct path_selector *
path_selector_new(const struct path_node *nodes, size_t n)
{
	struct path_selector *ps = xcalloc(1, sizeof(*ps));
	uint64_t sum = 0;

	ps->nodes = nodes;
	ps->n = n;
	ps->mix = xcalloc(n ? n : 1, sizeof(*ps->mix));
	ps->cum = xcalloc(n ? n : 1, sizeof(*ps->cum));
	for (size_t i = 0; i < n; i++) {
		if (!(nodes[i].flags & PATH_MIX))
			continue;
		sum += MIN(nodes[i].bandwidth, PATH_BW_CLAMP);
		ps->mix[ps->nmix] = i;
		ps->cum[ps->nmix] = sum;
		ps->nmix++;
	}
	return ps;
}

void
path_selector_free(struct path_selector *ps)
{
	if (ps == NULL)
		return;
	free(ps->mix);
	free(ps->cum);
	free(ps);
}

/* May node idx join a path already holding chosen[0..nchosen)? */
static bool
eligible(const struct path_selector *ps, size_t idx, const size_t *chosen, size_t nchosen)
{
	const struct path_node *c = &ps->nodes[idx];

	if (!(c->flags & PATH_MIX))
		return false;
	for (size_t i = 0; i < nchosen; i++) {
		if (chosen[i] == idx || path_nodes_related(c, &ps->nodes[chosen[i]]))
			return false;
	}
	return true;
}

static uint64_t
mix_weight(const struct path_selector *ps, size_t k)
{
	return ps->cum[k] - (k ? ps->cum[k - 1] : 0);
}

/* One draw from the unconstrained table: a position in ps->mix. */
static size_t
table_draw(const struct path_selector *ps, bool weighted, const struct path_rng *rng)
{
	uint64_t x;
	size_t lo = 0, hi = ps->nmix - 1;

	if (!weighted)
		return path_rng_below(rng, ps->nmix);
	x = path_rng_below(rng, ps->cum[ps->nmix - 1]);
	while (lo < hi) {	/* first k with cum[k] > x */
		size_t mid = lo + (hi - lo) / 2;

		if (ps->cum[mid] > x)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Draw one node among the eligible mixes, from exactly the uniform or
 * weighted distribution restricted to them; need_flag further restricts. */
static int
draw_one(const struct path_selector *ps, bool weighted, uint32_t need_flag,
	 const size_t *chosen, size_t nchosen, const struct path_rng *rng, size_t *out)
{
	uint64_t total = 0, x;

	if (ps->nmix == 0 || (weighted && ps->cum[ps->nmix - 1] == 0))
		return ERR_NOT_FOUND;
	for (int t = 0; t < PATH_REJECT_TRIES; t++) {
		size_t idx = ps->mix[table_draw(ps, weighted, rng)];

		if ((ps->nodes[idx].flags & need_flag) == need_flag &&
		    eligible(ps, idx, chosen, nchosen)) {
			*out = idx;
			return 0;
		}
	}
	/* Exhaustive fallback: sum the eligible weight, then draw in it. */
	for (size_t k = 0; k < ps->nmix; k++) {
		size_t idx = ps->mix[k];

		if ((ps->nodes[idx].flags & need_flag) == need_flag &&
		    eligible(ps, idx, chosen, nchosen))
			total += weighted ? mix_weight(ps, k) : 1;
	}
	if (total == 0)
		return ERR_NOT_FOUND;
	x = path_rng_below(rng, total);
	for (size_t k = 0; k < ps->nmix; k++) {
		size_t idx = ps->mix[k];
		uint64_t w;

		if ((ps->nodes[idx].flags & need_flag) != need_flag ||
		    !eligible(ps, idx, chosen, nchosen))
			continue;
		w = weighted ? mix_weight(ps, k) : 1;
		if (x < w) {
			*out = idx;
			return 0;
		}
		x -= w;
	}
	return ERR_INTERNAL;	/* unreachable: x < total */
}

void
path_draw_delays(struct path *p, double mean_delay_ms, const struct path_rng *rng)
{
	for (unsigned i = 0; i < p->nhops; i++)
		p->delay_ms[i] = i + 1 < p->nhops ? path_rng_exp(rng, mean_delay_ms) : 0;
}

int
path_select(const struct path_selector *ps, size_t mailbox, const struct path_opts *opts,
	    const struct path_rng *rng, struct path *out, const char **why)
{
	/* chosen[0] is the mailbox, so every mix is checked against it too. */
	size_t chosen[PATH_MAX_HOPS];
	size_t nchosen = 0;
	unsigned nmix = opts->nmix ? opts->nmix : PATH_DEFAULT_MIXES;
	const char *dummy;
	int r;

	if (why == NULL)
		why = &dummy;
	*why = NULL;
	memset(out, 0, sizeof(*out));
	if (nmix > PATH_MAX_MIXES || mailbox >= ps->n || opts->nguards > PATH_MAX_GUARDS) {
		*why = "path options out of range";
		return ERR_RANGE;
	}
	if (!(ps->nodes[mailbox].flags & PATH_MAILBOX)) {
		*why = "the chosen node is not a mailbox node";
		return ERR_NOT_FOUND;
	}
	chosen[nchosen++] = mailbox;
	if (opts->nguards > 0) {
		for (unsigned g = 0; g < opts->nguards; g++) {
			size_t gi = opts->guards[g];

			if (gi < ps->n && gi != mailbox && eligible(ps, gi, chosen, nchosen)) {
				chosen[nchosen++] = gi;
				break;
			}
		}
		if (nchosen == 1) {
			*why = "no guard is usable with this mailbox (same /16 or family, or not a mix)";
			return ERR_NOT_FOUND;
		}
	}
	while (nchosen < nmix + 1) {
		size_t idx;

		r = draw_one(ps, opts->weighted, 0, chosen, nchosen, rng, &idx);
		if (r != 0) {
			*why = opts->weighted ?
				"too few mix relays with bandwidth outside the path's /16s and families" :
				"too few mix relays outside the path's /16s and families";
			return r;
		}
		chosen[nchosen++] = idx;
	}
	out->nhops = nmix + 1;
	for (unsigned i = 0; i < nmix; i++)
		out->hop[i] = chosen[i + 1];
	out->hop[nmix] = mailbox;
	path_draw_delays(out, opts->mean_delay_ms, rng);
	return 0;
}

int
path_select_guard(const struct path_selector *ps, bool weighted, const size_t *avoid,
		  size_t navoid, const struct path_rng *rng, size_t *out)
{
	*out = 0;
	return draw_one(ps, weighted, PATH_GUARD, avoid, navoid, rng, out);
}

int
path_choose(const struct path_node *nodes, size_t n, size_t mailbox,
	    const struct path_opts *opts, const struct path_rng *rng, struct path *out,
	    const char **why)
{
	struct path_selector *ps = path_selector_new(nodes, n);
	int r = path_select(ps, mailbox, opts, rng, out, why);

	path_selector_free(ps);
	return r;
}
