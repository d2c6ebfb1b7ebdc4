/* Tests for sim/model*: the event heap, entropy bookkeeping, determinism
 * of whole runs, the compromise rate against its binomial bound, entropy
 * against load and delay, config errors as file:line, and real against
 * stand-in crypto. */
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "common/util.h"
#include "sim/model.h"
#include "sim/model_int.h"
#include "tests/check.h"

static char tmpdir[] = "/tmp/burrow-test-model.XXXXXX";

static char *
write_conf(const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
	return path;
}

/* A small network: quick, with loss and churn to exercise retransmission. */
static void
small_params(struct model_params *p)
{
	model_params_default(p);
	p->relays = 60;
	p->mailboxes = 4;
	p->clients = 100;
	p->messages = 1500;
	p->send_rate = 1;
	p->mean_hop_delay_ms = 20;
	p->ack_timeout_ms = 500;
}

static void
test_heap_order(void)
{
	struct mheap h = { 0 };
	struct mevent e;
	uint64_t last_t = 0, last_seq = 0;
	unsigned n = 0, bad = 0;

	for (unsigned i = 0; i < 5000; i++)
		mheap_push(&h, (i * 7919u) % 1000, 0, i, NULL);
	while (mheap_pop(&h, &e)) {
		if (n && (e.t < last_t || (e.t == last_t && e.seq < last_seq)))
			bad++;
		last_t = e.t;
		last_seq = e.seq;
		n++;
	}
	CHECK_EQ(n, 5000);
	CHECK_EQ(bad, 0);
	mheap_clear(&h);
}

static void
test_pool_math(void)
{
	struct mpool pool = { 0 };
	struct mdist *a = mdist_point(1), *b = mdist_point(2), *c = mdist_point(3);
	struct mdist *o1, *o2, *o3;

	/* One packet alone: it leaves with its own distribution, 0 bits. */
	mpool_add(&pool, a, 0);
	o1 = mpool_take(&pool, 100, 1);
	CHECK(fabs(mdist_entropy(o1)) < 1e-12);
	CHECK_EQ(pool.count, 0);
	/* Two in the pool: the first out is 1/2-1/2 (1 bit); then a third
	 * joins: the pool holds {1/2,1/2} + {c} and the next out is
	 * (1/4, 1/4, 1/2): 1.5 bits. */
	mpool_add(&pool, a, 2);
	mpool_add(&pool, b, 3);
	o2 = mpool_take(&pool, 100, 4);
	CHECK(fabs(mdist_entropy(o2) - 1.0) < 1e-12);
	mpool_add(&pool, c, 5);
	o3 = mpool_take(&pool, 100, 6);
	CHECK(fabs(mdist_entropy(o3) - 1.5) < 1e-12);
	mdist_free(o1);
	mdist_free(o2);
	mdist_free(o3);
	mdist_free(a);
	mdist_free(b);
	mdist_free(c);
	mpool_clear(&pool);
}

/* BLAKE2b over every CSV and JSON output, in a fixed order. */
static void
hash_outputs(const char *dir, uint8_t h[32])
{
	static const char *const files[] = {
		"compromise.csv", "delivery.csv", "entropy_cdf.csv", "first_compromise.csv",
		"first_compromise_msgs.csv", "latency_cdf.csv", "messages.csv", "summary.json",
	};
	crypto_generichash_state st;

	crypto_generichash_init(&st, NULL, 0, 32);
	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		char *path = xasprintf("%s/%s", dir, files[i]);
		FILE *f = fopen(path, "rb");
		uint8_t buf[4096];
		size_t n;

		crypto_generichash_update(&st, (const uint8_t *)files[i], strlen(files[i]) + 1);
		if (f == NULL) {
			crypto_generichash_update(&st, (const uint8_t *)"missing", 7);
		} else {
			while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
				crypto_generichash_update(&st, buf, n);
			fclose(f);
		}
		free(path);
	}
	crypto_generichash_final(&st, h, 32);
}

static int
run_cmd(const char *conf, const char *out, const char *seed)
{
	char *argv[] = { "model", (char *)conf, "--out", (char *)out, "--seed", (char *)seed,
			 "--no-plots", NULL };

	return sim_model_cmd(7, argv);
}

static void
test_determinism(void)
{
	char *conf = write_conf("det.conf",
				"Relays 60\nMailboxes 4\nClients 100\nMessages 1500\n"
				"SendRate 1\nMeanHopDelayMs 20\nLoss 0.01\nChurn 20 5\n"
				"AckTimeout 500\nSeeds 2\nGuard yes\nSelection bandwidth\n");
	char *d1 = xasprintf("%s/out1", tmpdir), *d2 = xasprintf("%s/out2", tmpdir),
	     *d3 = xasprintf("%s/out3", tmpdir);
	uint8_t h1[32], h2[32], h3[32];

	CHECK_EQ(run_cmd(conf, d1, "7"), 0);
	CHECK_EQ(run_cmd(conf, d2, "7"), 0);
	CHECK_EQ(run_cmd(conf, d3, "8"), 0);
	hash_outputs(d1, h1);
	hash_outputs(d2, h2);
	hash_outputs(d3, h3);
	CHECK(memcmp(h1, h2, 32) == 0);
	CHECK(memcmp(h1, h3, 32) != 0);
	free(conf);
	free(d1);
	free(d2);
	free(d3);
}

static void
test_loss_and_churn_retransmit(void)
{
	struct model_params p;
	struct model_result r;

	small_params(&p);
	p.loss = 0.02;
	p.churn_per_hour = 30;
	p.churn_down_s = 5;
	CHECK_EQ(model_run(&p, 3, &r), 0);
	CHECK(r.retransmits > 0);
	CHECK(r.lost_link > 0);
	CHECK(r.delivered <= r.sent);
	/* Four tries over a lossy network still deliver nearly everything. */
	CHECK((double)r.delivered / (double)r.sent > 0.97);
	CHECK_EQ(r.crypto_errors, 0);
	model_result_clear(&r);
}

static void
test_compromise_bound(void)
{
	struct model_params p;
	struct model_result r;
	double rate, sigma;

	small_params(&p);
	p.relays = 500;
	p.messages = 6000;
	p.adv_share = 0.2;
	p.weighted = false;
	p.guard = false;
	p.entropy = false;
	CHECK_EQ(model_run(&p, 11, &r), 0);
	CHECK(r.fwd_paths >= 6000);
	rate = (double)r.fl_compromised / (double)r.fwd_paths;
	/* Binomial: 5 sigma around share^2 for this many paths. Drawing
	 * without replacement from 500 relays shifts the mean by 1.6e-4 only. */
	sigma = sqrt(0.04 * 0.96 / (double)r.fwd_paths);
	CHECK(fabs(rate - 0.04) < 5 * sigma);
	sigma = sqrt(0.008 * 0.992 / (double)r.fwd_paths);
	CHECK(fabs((double)r.full_compromised / (double)r.fwd_paths - 0.008) < 5 * sigma);
	/* The share sweep agrees at 0.2 too (index 3). */
	sigma = sqrt(0.04 * 0.96 / (double)r.share_paths[3]);
	CHECK(fabs((double)r.share_fl[3] / (double)r.share_paths[3] - 0.04) < 5 * sigma);
	model_result_clear(&r);
}

static double
mean_entropy(const struct model_params *p, uint64_t seed)
{
	struct model_result r;
	double s = 0;

	if (model_run(p, seed, &r) != 0)
		return NAN;
	for (size_t i = 0; i < r.nentropy; i++)
		s += r.entropy_bits[i];
	s = r.nentropy ? s / (double)r.nentropy : NAN;
	model_result_clear(&r);
	return s;
}

static void
test_entropy(void)
{
	struct model_params p;
	struct model_result r;
	double lo_delay, hi_delay, lo_load, hi_load;
	double max = 0;

	/* One message in flight at a time: every delivered message is seen
	 * alone in every pool, so its sender is known: 0 bits. */
	small_params(&p);
	p.clients = 20;
	p.messages = 100;
	p.send_rate = 0.001;	/* a message every 50 s; each takes < 2 s */
	CHECK_EQ(model_run(&p, 5, &r), 0);
	CHECK_EQ(r.nentropy, 100);
	for (size_t i = 0; i < r.nentropy; i++)
		max = MAX(max, r.entropy_bits[i]);
	CHECK(max == 0);
	model_result_clear(&r);

	/* Grows with delay at fixed load, and with load at fixed delay. */
	small_params(&p);
	p.relays = 30;
	p.messages = 1500;
	p.mean_hop_delay_ms = 10;
	lo_delay = mean_entropy(&p, 5);
	p.mean_hop_delay_ms = 200;
	hi_delay = mean_entropy(&p, 5);
	CHECK(hi_delay > lo_delay + 0.5);
	p.mean_hop_delay_ms = 50;
	p.send_rate = 0.5;
	lo_load = mean_entropy(&p, 5);
	p.send_rate = 4;
	hi_load = mean_entropy(&p, 5);
	CHECK(hi_load > lo_load + 0.5);
	if (check_failed_now)
		fprintf(stderr, "  entropy: delay 10 %.3f, 200 %.3f; load 0.5 %.3f, 4 %.3f\n",
			lo_delay, hi_delay, lo_load, hi_load);
}

/* Run model_params_load with stderr captured into buf. */
static int
load_captured(const char *path, struct model_params *p, char *buf, size_t len)
{
	char *cap = xasprintf("%s/stderr.txt", tmpdir);
	int saved = dup(2), fd = open(cap, O_WRONLY | O_CREAT | O_TRUNC, 0600), r;
	FILE *f;
	size_t n = 0;

	fflush(stderr);
	dup2(fd, 2);
	close(fd);
	r = model_params_load(path, p);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	buf[0] = '\0';
	if ((f = fopen(cap, "r")) != NULL) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	free(cap);
	return r;
}

static void
test_config_errors(void)
{
	char *path = write_conf("bad.conf",
				"# a comment\nRelays 100\nLinkLatency gaussian 3\nLoss 2\n"
				"Families 3 20\nRelayz 4\n");
	char *good = write_conf("good.conf", "Relays 50\nLinkLatency uniform 5 10\n"
					     "Churn 1 30\nStudyDelays 0 10 20\nStudyLoads 1 2\n");
	char buf[4096], *want;
	struct model_params p;

	model_params_default(&p);
	CHECK_EQ(load_captured(path, &p, buf, sizeof(buf)), ERR_CONFIG);
	want = xasprintf("%s:3:", path);
	CHECK(strstr(buf, want) != NULL);
	free(want);
	want = xasprintf("%s:4:", path);
	CHECK(strstr(buf, want) != NULL);
	free(want);
	want = xasprintf("%s:5:", path);
	CHECK(strstr(buf, want) != NULL);
	free(want);
	want = xasprintf("%s:6:", path);
	CHECK(strstr(buf, want) != NULL);
	free(want);
	model_params_default(&p);
	CHECK_EQ(load_captured(good, &p, buf, sizeof(buf)), 0);
	CHECK_EQ(p.relays, 50);
	CHECK(p.link_latency.kind == MODEL_DIST_UNIFORM && p.link_latency.b == 10);
	CHECK_EQ(p.nstudy_delays, 3);
	CHECK_EQ(p.nstudy_loads, 2);
	free(path);
	free(good);
}

static void
test_real_vs_standin(void)
{
	struct model_params p;
	struct model_result a, b;
	unsigned diff = 0;

	small_params(&p);
	p.relays = 30;
	p.clients = 40;
	p.messages = 300;
	p.loss = 0.01;
	p.real_crypto = false;
	CHECK_EQ(model_run(&p, 9, &a), 0);
	p.real_crypto = true;
	CHECK_EQ(model_run(&p, 9, &b), 0);
	CHECK_EQ(b.crypto_errors, 0);
	CHECK_EQ(a.nmsgs, b.nmsgs);
	CHECK_EQ(a.delivered, b.delivered);
	CHECK_EQ(a.packets, b.packets);
	for (size_t i = 0; i < a.nmsgs && i < b.nmsgs; i++) {
		const struct model_msg_out *x = &a.msgs[i], *y = &b.msgs[i];

		diff += x->latency_ms != y->latency_ms || x->ack_ms != y->ack_ms ||
			x->attempts != y->attempts || x->nhops != y->nhops ||
			memcmp(x->hops, y->hops, sizeof(x->hops)) != 0 ||
			x->entropy_bits != y->entropy_bits;
	}
	CHECK_EQ(diff, 0);
	CHECK(b.acked > 0);
	model_result_clear(&a);
	model_result_clear(&b);
}

static void
cleanup(void)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);

	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	free(cmd);
}

int
main(int argc, char **argv)
{
	(void)argc;
	check_begin(argv[0]);
	crypto_init();
	if (mkdtemp(tmpdir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_heap_order);
	RUN(test_pool_math);
	RUN(test_determinism);
	RUN(test_loss_and_churn_retransmit);
	RUN(test_compromise_bound);
	RUN(test_entropy);
	RUN(test_config_errors);
	RUN(test_real_vs_standin);
	cleanup();
	return check_end();
}
