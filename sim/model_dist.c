/* The model's event heap, sender distributions and statistics helpers.
 *
 * Entropy bookkeeping (as in the Loopix and MiXiM simulators): every
 * packet carries a probability distribution over its possible senders, as
 * seen by a global passive adversary who watches every link. A packet
 * leaving a client is a point mass on that client. An honest mix with
 * exponential delays is memoryless: whenever a packet leaves, each packet
 * then inside is equally likely to be the one leaving. So with n packets
 * inside whose distributions sum to S, the leaving packet's distribution
 * is S / n, and the n - 1 left behind sum to S - S/n = S (n-1)/n. An
 * adversarial mix knows its own mapping: it passes distributions through.
 * The entropy of a delivered packet's distribution is its sender
 * anonymity in bits. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sim/model_int.h"

/* Entries below this mass are dropped: they add < 1e-10 bits each. */
#define MDIST_EPS 1e-12

void
mheap_push(struct mheap *h, uint64_t t, uint32_t type, uint32_t arg, void *ptr)
{
	struct mevent e = { t, h->seq++, type, arg, ptr };
	size_t i;

	if (h->n == h->cap) {
		h->cap = h->cap ? 2 * h->cap : 1024;
		h->v = xrealloc(h->v, h->cap * sizeof(*h->v));
	}
	i = h->n++;
	while (i > 0) {
		size_t up = (i - 1) / 2;
		const struct mevent *u = &h->v[up];

		if (u->t < e.t || (u->t == e.t && u->seq < e.seq))
			break;
		h->v[i] = *u;
		i = up;
	}
	h->v[i] = e;
}

static bool
ev_less(const struct mevent *a, const struct mevent *b)
{
	return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

bool
mheap_pop(struct mheap *h, struct mevent *out)
{
	struct mevent last;
	size_t i = 0;

	if (h->n == 0)
		return false;
	*out = h->v[0];
	last = h->v[--h->n];
	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= h->n)
			break;
		if (c + 1 < h->n && ev_less(&h->v[c + 1], &h->v[c]))
			c++;
		if (!ev_less(&h->v[c], &last))
			break;
		h->v[i] = h->v[c];
		i = c;
	}
	if (h->n > 0)
		h->v[i] = last;
	return true;
}

void
mheap_clear(struct mheap *h)
{
	free(h->v);
	memset(h, 0, sizeof(*h));
}

static struct mdist *
mdist_alloc(uint32_t n)
{
	struct mdist *d = xcalloc(1, sizeof(*d));

	d->n = n;
	d->id = xcalloc(n ? n : 1, sizeof(*d->id));
	d->p = xcalloc(n ? n : 1, sizeof(*d->p));
	return d;
}

struct mdist *
mdist_point(uint32_t id)
{
	struct mdist *d = mdist_alloc(1);

	d->id[0] = id;
	d->p[0] = 1;
	return d;
}

struct mdist *
mdist_copy(const struct mdist *s)
{
	struct mdist *d = mdist_alloc(s->n);

	memcpy(d->id, s->id, s->n * sizeof(*d->id));
	memcpy(d->p, s->p, s->n * sizeof(*d->p));
	return d;
}

void
mdist_free(struct mdist *d)
{
	if (d == NULL)
		return;
	free(d->id);
	free(d->p);
	free(d);
}

double
mdist_entropy(const struct mdist *d)
{
	double total = 0, h = 0;

	for (uint32_t i = 0; i < d->n; i++)
		total += d->p[i];
	if (!(total > 0))
		return 0;
	for (uint32_t i = 0; i < d->n; i++) {
		double q = d->p[i] / total;

		if (q > 0)
			h -= q * log2(q);
	}
	return h > 0 ? h : 0;	/* -0.0 from a point mass prints as 0 */
}

static void
pool_account(struct mpool *pool, uint64_t now)
{
	if (now > pool->last_t)
		pool->area += (double)pool->count * (double)(now - pool->last_t);
	pool->last_t = now;
}

void
mpool_add(struct mpool *pool, const struct mdist *d, uint64_t now)
{
	struct mdist *s = &pool->s;
	uint32_t n = 0, i = 0, j = 0;
	uint32_t *id = xcalloc((size_t)s->n + d->n, sizeof(*id));
	double *p = xcalloc((size_t)s->n + d->n, sizeof(*p));

	pool_account(pool, now);
	while (i < s->n || j < d->n) {
		if (j == d->n || (i < s->n && s->id[i] < d->id[j])) {
			id[n] = s->id[i];
			p[n++] = s->p[i++];
		} else if (i == s->n || d->id[j] < s->id[i]) {
			id[n] = d->id[j];
			p[n++] = d->p[j++];
		} else {
			id[n] = s->id[i];
			p[n++] = s->p[i++] + d->p[j++];
		}
	}
	free(s->id);
	free(s->p);
	s->id = id;
	s->p = p;
	s->n = n;
	pool->count++;
}

struct by_mass {
	uint32_t id;
	double p;
};

static int
cmp_mass_desc(const void *a, const void *b)
{
	const struct by_mass *x = a, *y = b;

	if (x->p != y->p)
		return x->p > y->p ? -1 : 1;
	return x->id < y->id ? -1 : x->id > y->id;
}

static int
cmp_id(const void *a, const void *b)
{
	const struct by_mass *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

struct mdist *
mpool_take(struct mpool *pool, unsigned cap, uint64_t now)
{
	struct mdist *s = &pool->s;
	struct mdist *out;
	double inv, keep, total = 0;
	uint32_t k = 0;

	if (pool->count == 0)
		return mdist_alloc(0);	/* a bug upstream; an empty answer */
	pool_account(pool, now);
	inv = 1.0 / pool->count;
	keep = (double)(pool->count - 1) * inv;
	out = mdist_alloc(s->n);
	for (uint32_t i = 0; i < s->n; i++) {
		double q = s->p[i] * inv;

		if (q >= MDIST_EPS) {
			out->id[k] = s->id[i];
			out->p[k++] = q;
			total += q;
		}
	}
	out->n = k;
	if (out->n > cap) {
		struct by_mass *v = xcalloc(out->n, sizeof(*v));

		for (uint32_t i = 0; i < out->n; i++)
			v[i] = (struct by_mass){ out->id[i], out->p[i] };
		qsort(v, out->n, sizeof(*v), cmp_mass_desc);
		qsort(v, cap, sizeof(*v), cmp_id);
		total = 0;
		for (uint32_t i = 0; i < cap; i++) {
			out->id[i] = v[i].id;
			out->p[i] = v[i].p;
			total += v[i].p;
		}
		out->n = cap;
		free(v);
	}
	for (uint32_t i = 0; i < out->n && total > 0; i++)
		out->p[i] /= total;
	/* What stays behind: S (n-1)/n, dropping negligible entries. */
	k = 0;
	for (uint32_t i = 0; i < s->n; i++) {
		double q = s->p[i] * keep;

		if (q >= MDIST_EPS) {
			s->id[k] = s->id[i];
			s->p[k++] = q;
		}
	}
	s->n = k;
	pool->count--;
	return out;
}

void
mpool_reset(struct mpool *pool, uint64_t now)
{
	pool_account(pool, now);
	pool->s.n = 0;
	pool->count = 0;
}

void
mpool_clear(struct mpool *pool)
{
	free(pool->s.id);
	free(pool->s.p);
	memset(pool, 0, sizeof(*pool));
}

int
mstat_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double
mstat_quantile(const double *v, size_t n, double q)
{
	double pos, frac;
	size_t lo;

	if (n == 0)
		return NAN;
	if (q <= 0)
		return v[0];
	if (q >= 1)
		return v[n - 1];
	pos = q * (double)(n - 1);
	lo = (size_t)pos;
	frac = pos - (double)lo;
	if (lo + 1 >= n)
		return v[n - 1];
	return v[lo] + frac * (v[lo + 1] - v[lo]);
}

double
mstat_t95(unsigned df)
{
	static const double t[] = {
		0, 12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228,
		2.201, 2.179, 2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086,
		2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042,
	};

	if (df == 0)
		return 0;
	if (df < ARRAY_LEN(t))
		return t[df];
	return df < 60 ? 2.01 : df < 120 ? 1.99 : 1.96;
}

void
mstat_mean_ci(const double *x, size_t n, double *mean, double *half)
{
	double m = 0, ss = 0;
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (isnan(x[i]))
			continue;
		m += x[i];
		k++;
	}
	if (k == 0) {
		*mean = NAN;
		*half = NAN;
		return;
	}
	m /= (double)k;
	for (size_t i = 0; i < n; i++) {
		if (!isnan(x[i]))
			ss += (x[i] - m) * (x[i] - m);
	}
	*mean = m;
	*half = k > 1 ? mstat_t95((unsigned)(k - 1)) * sqrt(ss / (double)(k - 1) / (double)k) : 0;
}
