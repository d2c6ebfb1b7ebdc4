/* Tests for common/path: constraints over many draws, bounds, errors,
 * weighting, guards and the delay distribution. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/path.h"
#include "common/util.h"
#include "tests/check.h"

static const uint8_t seed1[32] = { 1 };

static void
node_init(struct path_node *n, unsigned i, uint32_t ip, uint32_t flags, uint64_t bw)
{
	memset(n, 0, sizeof(*n));
	n->node_id[0] = (uint8_t)i;
	n->node_id[1] = (uint8_t)(i >> 8);
	n->ipv4 = ip;
	n->flags = flags;
	n->bandwidth = bw;
	snprintf(n->nickname, sizeof(n->nickname), "n%u", i);
}

/* 40 mixes: pairs 2k/2k+1 share a /16 for k < 5; nodes 20..25 form one
 * mutual family; node 30 names 31 but 31 does not name 30. Nodes 40..44
 * are mailboxes, 44 sharing a /16 with mix 0. */
static struct path_node *
make_net(size_t *n)
{
	struct path_node *v = xcalloc(45, sizeof(*v));

	for (unsigned i = 0; i < 40; i++) {
		uint32_t net = i < 10 ? i / 2 : 100 + i;

		node_init(&v[i], i, (net << 16) | (i + 1), PATH_MIX | PATH_GUARD, 1000 + i);
	}
	for (unsigned i = 20; i < 26; i++)
		strcpy(v[i].family, "n20,n21, n22,N23,n24,n25");
	strcpy(v[30].family, "n31");
	for (unsigned i = 40; i < 45; i++)
		node_init(&v[i], i, ((200u + i) << 16) | 7, PATH_MAILBOX, 1000);
	v[44].ipv4 = (0u << 16) | 99;	/* same /16 as mixes 0 and 1 */
	*n = 45;
	return v;
}

static void
test_constraints_many_draws(void)
{
	size_t n;
	struct path_node *v = make_net(&n);
	struct path_selector *ps = path_selector_new(v, n);
	struct path_rng_seeded st;
	struct path_rng rng = path_rng_seeded_init(&st, seed1);
	unsigned bad = 0, fam_pairs = 0, one_sided = 0;

	for (int d = 0; d < 20000; d++) {
		struct path_opts o = { .nmix = 1 + d % 4, .weighted = d % 3 == 0 };
		struct path p;
		size_t mbox = 40 + d % 5;

		if (path_select(ps, mbox, &o, &rng, &p, NULL) != 0) {
			bad++;
			continue;
		}
		if (p.nhops != o.nmix + 1 || p.hop[p.nhops - 1] != mbox)
			bad++;
		for (unsigned i = 0; i < p.nhops; i++) {
			if (i + 1 < p.nhops && !(v[p.hop[i]].flags & PATH_MIX))
				bad++;
			for (unsigned j = i + 1; j < p.nhops; j++) {
				const struct path_node *a = &v[p.hop[i]], *b = &v[p.hop[j]];

				if (p.hop[i] == p.hop[j] || (a->ipv4 >> 16) == (b->ipv4 >> 16))
					bad++;
				if (p.hop[i] >= 20 && p.hop[i] < 26 && p.hop[j] >= 20 && p.hop[j] < 26)
					fam_pairs++;
				if ((p.hop[i] == 30 && p.hop[j] == 31) ||
				    (p.hop[i] == 31 && p.hop[j] == 30))
					one_sided++;
			}
		}
	}
	CHECK_EQ(bad, 0);
	CHECK_EQ(fam_pairs, 0);
	CHECK(one_sided > 0);	/* a one-sided family claim relates nobody */
	path_selector_free(ps);
	free(v);
}

static void
test_related_symmetric(void)
{
	struct path_node a, b;

	node_init(&a, 1, 0x01020304, PATH_MIX, 1);
	node_init(&b, 2, 0x05060708, PATH_MIX, 1);
	CHECK(!path_nodes_related(&a, &b));
	strcpy(a.family, "n2");
	CHECK(!path_nodes_related(&a, &b));
	CHECK(!path_nodes_related(&b, &a));
	strcpy(b.family, "x, N1 ,y");
	CHECK(path_nodes_related(&a, &b));
	CHECK(path_nodes_related(&b, &a));
	b.family[0] = '\0';
	b.ipv4 = 0x0102ffff;
	CHECK(path_nodes_related(&a, &b));
}

static void
test_length_bounds(void)
{
	size_t n;
	struct path_node *v = make_net(&n);
	struct path_rng_seeded st;
	struct path_rng rng = path_rng_seeded_init(&st, seed1);
	struct path p;
	struct path_opts o = { 0 };
	const char *why = NULL;

	CHECK_EQ(path_choose(v, n, 40, &o, &rng, &p, &why), 0);
	CHECK_EQ(p.nhops, PATH_DEFAULT_MIXES + 1);
	o.nmix = PATH_MAX_MIXES;
	CHECK_EQ(path_choose(v, n, 40, &o, &rng, &p, &why), 0);
	CHECK_EQ(p.nhops, PATH_MAX_HOPS);
	o.nmix = PATH_MAX_MIXES + 1;
	CHECK_EQ(path_choose(v, n, 40, &o, &rng, &p, &why), ERR_RANGE);
	CHECK(why != NULL);
	o.nmix = 3;
	CHECK_EQ(path_choose(v, n, n, &o, &rng, &p, &why), ERR_RANGE);
	CHECK_EQ(path_choose(v, n, 0, &o, &rng, &p, &why), ERR_NOT_FOUND);	/* not a mailbox */
	free(v);
}

static void
test_impossible(void)
{
	struct path_node v[6];
	struct path_rng_seeded st;
	struct path_rng rng = path_rng_seeded_init(&st, seed1);
	struct path_opts o = { .nmix = 3 };
	struct path p;
	const char *why = NULL;

	/* Five mixes in two /16s: at most two can share a path. */
	for (unsigned i = 0; i < 5; i++)
		node_init(&v[i], i, ((i % 2) << 16) | i, PATH_MIX, 10);
	node_init(&v[5], 5, (9u << 16) | 1, PATH_MAILBOX, 10);
	CHECK_EQ(path_choose(v, 6, 5, &o, &rng, &p, &why), ERR_NOT_FOUND);
	CHECK(why != NULL && strstr(why, "/16") != NULL);
	o.nmix = 2;
	CHECK_EQ(path_choose(v, 6, 5, &o, &rng, &p, &why), 0);
	/* Weighted with no bandwidth anywhere. */
	for (unsigned i = 0; i < 5; i++)
		v[i].bandwidth = 0;
	o.weighted = true;
	CHECK_EQ(path_choose(v, 6, 5, &o, &rng, &p, &why), ERR_NOT_FOUND);
	/* Empty node list of mixes. */
	CHECK_EQ(path_choose(&v[5], 1, 0, &o, &rng, &p, &why), ERR_NOT_FOUND);
}

static void
test_uniform_and_weighted(void)
{
	struct path_node v[21];
	struct path_rng_seeded st;
	struct path_rng rng = path_rng_seeded_init(&st, seed1);
	struct path_selector *ps;
	unsigned cnt[21] = { 0 };
	const unsigned draws = 40000;
	unsigned bad = 0;

	for (unsigned i = 0; i < 20; i++)
		node_init(&v[i], i, (i << 16) | 1, PATH_MIX, i < 10 ? 100 : 300);
	node_init(&v[20], 20, (99u << 16) | 1, PATH_MAILBOX, 1);
	v[19].bandwidth = 0;
	ps = path_selector_new(v, 21);
	/* Uniform single-hop paths: each mix about draws/20. */
	for (unsigned d = 0; d < draws; d++) {
		struct path_opts o = { .nmix = 1 };
		struct path p;

		if (path_select(ps, 20, &o, &rng, &p, NULL) != 0)
			bad++;
		else
			cnt[p.hop[0]]++;
	}
	for (unsigned i = 0; i < 20; i++) {
		double e = draws / 20.0, sd = sqrt(e * (1 - 1 / 20.0));

		CHECK(fabs(cnt[i] - e) < 5 * sd);
	}
	/* Weighted: node 19 (no bandwidth) never; 300-nodes thrice 100-nodes. */
	memset(cnt, 0, sizeof(cnt));
	for (unsigned d = 0; d < draws; d++) {
		struct path_opts o = { .nmix = 1, .weighted = true };
		struct path p;

		if (path_select(ps, 20, &o, &rng, &p, NULL) != 0)
			bad++;
		else
			cnt[p.hop[0]]++;
	}
	CHECK_EQ(cnt[19], 0);
	{
		double total = 10 * 100 + 9 * 300;
		double e_lo = draws * 100 / total, e_hi = draws * 300 / total;

		for (unsigned i = 0; i < 19; i++) {
			double e = i < 10 ? e_lo : e_hi;

			CHECK(fabs(cnt[i] - e) < 5 * sqrt(e));
		}
	}
	CHECK_EQ(bad, 0);
	path_selector_free(ps);
}

static void
test_guard(void)
{
	size_t n;
	struct path_node *v = make_net(&n);
	struct path_selector *ps = path_selector_new(v, n);
	struct path_rng_seeded st;
	struct path_rng rng = path_rng_seeded_init(&st, seed1);
	struct path p;
	struct path_opts o = { .nmix = 3, .nguards = 2, .guards = { 0, 7 } };
	const char *why;
	size_t g;
	unsigned bad = 0;

	for (int d = 0; d < 500; d++) {
		CHECK_EQ(path_select(ps, 40, &o, &rng, &p, NULL), 0);
		if (p.hop[0] != 0)
			bad++;
		/* Mailbox 44 shares mix 0's /16: the second guard is used. */
		CHECK_EQ(path_select(ps, 44, &o, &rng, &p, NULL), 0);
		if (p.hop[0] != 7)
			bad++;
	}
	CHECK_EQ(bad, 0);
	o.nguards = 1;
	CHECK_EQ(path_select(ps, 44, &o, &rng, &p, &why), ERR_NOT_FOUND);
	CHECK(why != NULL && strstr(why, "guard") != NULL);
	o.guards[0] = 40;	/* a mailbox is no guard */
	CHECK_EQ(path_select(ps, 41, &o, &rng, &p, &why), ERR_NOT_FOUND);
	{
		size_t avoid[1] = { 44 };

		for (int d = 0; d < 200; d++) {
			CHECK_EQ(path_select_guard(ps, false, avoid, 1, &rng, &g), 0);
			CHECK(g < 40 && (v[g].ipv4 >> 16) != 0);
		}
	}
	path_selector_free(ps);
	free(v);
}

static void
test_delays(void)
{
	size_t n;
	struct path_node *v = make_net(&n);
	struct path_selector *ps = path_selector_new(v, n);
	struct path_rng_seeded st;
	struct path_rng rng = path_rng_seeded_init(&st, seed1);
	struct path p;
	struct path_opts o = { .nmix = 4, .mean_delay_ms = 50 };
	double sum = 0, sumsq = 0;
	unsigned cnt = 0, neg = 0, bad = 0;

	for (int d = 0; d < 25000; d++) {
		CHECK_EQ(path_select(ps, 41, &o, &rng, &p, NULL), 0);
		for (unsigned i = 0; i + 1 < p.nhops; i++) {
			sum += p.delay_ms[i];
			sumsq += p.delay_ms[i] * p.delay_ms[i];
			neg += p.delay_ms[i] < 0;
			cnt++;
		}
		bad += p.delay_ms[p.nhops - 1] != 0;
	}
	/* Exponential: sd equals the mean; 5 sigma on the sample mean. */
	CHECK(fabs(sum / cnt - 50) < 5 * 50 / sqrt(cnt));
	/* Second moment of an exponential is 2 mean^2. */
	CHECK(fabs(sumsq / cnt / (2 * 50 * 50) - 1) < 0.05);
	CHECK_EQ(neg, 0);
	CHECK_EQ(bad, 0);
	o.mean_delay_ms = 0;
	for (int d = 0; d < 100; d++) {
		CHECK_EQ(path_select(ps, 41, &o, &rng, &p, NULL), 0);
		for (unsigned i = 0; i < p.nhops; i++)
			bad += p.delay_ms[i] != 0;
	}
	CHECK_EQ(bad, 0);
	path_selector_free(ps);
	free(v);
}

static void
test_rng(void)
{
	struct path_rng_seeded a, b;
	struct path_rng ra = path_rng_seeded_init(&a, seed1);
	struct path_rng rb = path_rng_seeded_init(&b, seed1);
	struct path_rng rd = path_rng_default();
	uint8_t x[300], y[300];

	ra.bytes(ra.ctx, x, 7);
	ra.bytes(ra.ctx, x + 7, sizeof(x) - 7);
	rb.bytes(rb.ctx, y, sizeof(y));
	CHECK(memcmp(x, y, sizeof(x)) == 0);	/* chunking does not matter */
	for (int i = 0; i < 1000; i++) {
		CHECK(path_rng_below(&ra, 7) < 7);
		double u = path_rng_unit(&rd);

		CHECK(u > 0 && u < 1);
	}
	CHECK_EQ(path_rng_below(&ra, 1), 0);
	path_rng_seeded_clear(&a);
	path_rng_seeded_clear(&b);
}

int
main(int argc, char **argv)
{
	(void)argc;
	check_begin(argv[0]);
	crypto_init();
	RUN(test_constraints_many_draws);
	RUN(test_related_symmetric);
	RUN(test_length_bounds);
	RUN(test_impossible);
	RUN(test_uniform_and_weighted);
	RUN(test_guard);
	RUN(test_delays);
	RUN(test_rng);
	return check_end();
}
