/* The model's discrete-event engine: a binary heap of events over a
 * virtual clock in nanoseconds; clients that send (Poisson), choose paths
 * with common/path, build packets, wait for ACKs and retransmit; links
 * with latency, jitter, loss and per-node bandwidth; mixes that hold each
 * packet for its delay; churn; and the entropy bookkeeping.
 *
 * Determinism: every random draw comes from a seeded stream ("workload",
 * "paths", "network", "churn"), drawn in event order, and ties in time
 * are broken by insertion order. Crypto draws its own randomness and
 * never touches these streams, so real and stand-in crypto give the same
 * events. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/log.h"
#include "common/util.h"
#include "sim/model_int.h"

#define NS_PER_MS 1000000.0
#define NS_PER_S 1000000000.0

enum ev_type { EV_SEND, EV_ARRIVE, EV_DEPART, EV_CLIENT, EV_TIMEOUT, EV_DOWN, EV_UP };

struct mpkt {
	uint32_t msg;
	uint8_t attempt;
	uint8_t hop;		/* index in route of the node it is at / going to */
	bool is_ack;
	uint32_t gen;		/* failure generation of the node holding it */
	struct mroute route;	/* forward route, then the ACK route */
	struct mroute ack;	/* the SURB's route, used after delivery */
	struct mdist *dist;
	uint8_t *bytes;
};

struct mmsg {
	uint32_t client, recipient;
	uint64_t t_send, t_deliver, t_ack;
	uint8_t attempts;
	bool delivered, acked, done;
	bool fl, full;
	double entropy;
	struct mroute first;
	void **secret;		/* per attempt, real crypto only */
};

struct mnode {
	bool up;
	uint32_t gen;
	uint64_t cpu_free, tx_free;
	struct mpool pool;
};

struct mclient {
	size_t guards[2];
	uint8_t nguards;
	bool has_guards;
};

struct sim {
	const struct model_params *p;
	struct mnet *net;
	struct mnode *node;
	struct mclient *cl;
	struct mmsg *msg;
	size_t nmsg, capmsg;
	struct mheap heap;
	struct path_rng_seeded st_work, st_path, st_net, st_churn;
	struct path_rng work, path, net_rng, churn;
	uint8_t link_key[crypto_shorthash_KEYBYTES];
	struct mcrypto *mc;
	struct model_result *r;
	uint64_t now;
	uint64_t send_end;	/* no sends at or after this time (UINT64_MAX: none) */
	bool sending_done;
	int fatal_err;
};

static uint64_t
ms_to_ns(double ms)
{
	return ms <= 0 ? 0 : (uint64_t)llround(ms * NS_PER_MS);
}

/* Endpoints: nodes are [0, nnodes), clients follow. */
static uint32_t
client_ep(const struct sim *s, uint32_t c)
{
	return (uint32_t)s->net->nnodes + c;
}

static double
hash_unit(const struct sim *s, uint32_t a, uint32_t b, uint8_t k)
{
	uint8_t in[9], out[crypto_shorthash_BYTES];
	uint64_t v = 0;

	for (int i = 0; i < 4; i++) {
		in[i] = (uint8_t)(a >> (8 * i));
		in[4 + i] = (uint8_t)(b >> (8 * i));
	}
	in[8] = k;
	crypto_shorthash(out, in, sizeof(in), s->link_key);
	for (int i = 0; i < 8; i++)
		v = (v << 8) | out[i];
	return ((double)(v >> 11) + 0.5) * (1.0 / 9007199254740992.0);
}

/* A link's base one-way latency: fixed per unordered pair, drawn from the
 * configured distribution by hashing the pair, so no table is needed. */
static double
link_latency_ms(const struct sim *s, uint32_t a, uint32_t b)
{
	const struct model_dist *d = &s->p->link_latency;
	uint32_t lo = MIN(a, b), hi = MAX(a, b);
	double u1, u2;

	switch (d->kind) {
	case MODEL_DIST_CONST:
		return d->a;
	case MODEL_DIST_UNIFORM:
		return d->a + (d->b - d->a) * hash_unit(s, lo, hi, 0);
	case MODEL_DIST_LOGNORMAL:
		u1 = hash_unit(s, lo, hi, 0);
		u2 = hash_unit(s, lo, hi, 1);
		return d->a * exp(d->b * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2));
	case MODEL_DIST_EXP:
		return -d->a * log(hash_unit(s, lo, hi, 0));
	}
	return d->a;
}

static void
pkt_free(struct mpkt *k)
{
	if (k == NULL)
		return;
	mdist_free(k->dist);
	free(k->bytes);
	free(k);
}

/* Put a packet on the link from endpoint `from` to `to`, ready at t. */
static void
transmit(struct sim *s, uint32_t from, uint32_t to, struct mpkt *k, uint64_t t)
{
	uint64_t done = t, arrive;

	if (from < s->net->nnodes) {
		struct mnode *n = &s->node[from];
		double tx_s = 2048.0 / (double)s->net->nodes[from].bandwidth;

		done = MAX(t, n->tx_free) + (uint64_t)llround(tx_s * NS_PER_S);
		n->tx_free = done;
	}
	if (s->p->loss > 0 && path_rng_unit(&s->net_rng) < s->p->loss) {
		s->r->lost_link++;
		pkt_free(k);
		return;
	}
	arrive = done + ms_to_ns(link_latency_ms(s, from, to));
	if (s->p->jitter_ms > 0)
		arrive += ms_to_ns(s->p->jitter_ms * path_rng_unit(&s->net_rng));
	if (to >= s->net->nnodes)
		mheap_push(&s->heap, arrive, EV_CLIENT, to - (uint32_t)s->net->nnodes, k);
	else
		mheap_push(&s->heap, arrive, EV_ARRIVE, to, k);
}

static bool
adv_now(const struct sim *s, size_t node)
{
	return s->net->adv[node] && (double)s->now / NS_PER_S >= s->net->adv_join_s;
}

static void
route_of(struct mroute *rt, const struct path *p)
{
	memset(rt, 0, sizeof(*rt));
	rt->n = (uint8_t)p->nhops;
	for (unsigned i = 0; i < p->nhops; i++) {
		rt->node[i] = (uint32_t)p->hop[i];
		rt->delay_ms[i] = (uint32_t)llround(p->delay_ms[i]);
	}
}

static void
choose_guards(struct sim *s, struct mclient *c, const struct path_selector *ps)
{
	c->has_guards = true;
	c->nguards = 0;
	if (path_select_guard(ps, s->p->weighted, NULL, 0, &s->path, &c->guards[0]) != 0)
		return;
	c->nguards = 1;
	if (path_select_guard(ps, s->p->weighted, c->guards, 1, &s->path, &c->guards[1]) == 0)
		c->nguards = 2;
}

/* Send (or resend) message mi on fresh paths. */
static void
send_attempt(struct sim *s, uint32_t mi)
{
	struct mmsg *m = &s->msg[mi];
	const struct path_selector *ps = mnet_selector_at(s->net, (double)s->now / NS_PER_S);
	struct path_opts o = { .nmix = s->p->path_length, .weighted = s->p->weighted,
			       .mean_delay_ms = s->p->mean_hop_delay_ms };
	struct path_opts ao = o;
	struct path fp, ap;
	struct mpkt *k;
	double wait_ms = s->p->ack_timeout_ms;
	uint8_t attempt = m->attempts++;
	int r;

	if (s->p->guard) {
		struct mclient *c = &s->cl[m->client];

		if (!c->has_guards)
			choose_guards(s, c, ps);
		o.nguards = c->nguards;
		memcpy(o.guards, c->guards, sizeof(c->guards));
	}
	memset(&ap, 0, sizeof(ap));
	r = path_select(ps, s->net->client_mbox[m->recipient], &o, &s->path, &fp, NULL);
	if (r == 0)
		r = path_select(ps, s->net->client_mbox[m->client], &ao, &s->path, &ap, NULL);
	k = xcalloc(1, sizeof(*k));
	k->msg = mi;
	k->attempt = attempt;
	route_of(&k->route, &fp);
	route_of(&k->ack, &ap);
	for (unsigned i = 0; i < k->route.n; i++)
		wait_ms += k->route.delay_ms[i];
	for (unsigned i = 0; i < k->ack.n; i++)
		wait_ms += k->ack.delay_ms[i];
	mheap_push(&s->heap, s->now + ms_to_ns(wait_ms), EV_TIMEOUT, mi,
		   (void *)(uintptr_t)attempt);
	if (r != 0) {
		s->r->no_path++;
		pkt_free(k);
		return;
	}
	{
		unsigned nmix = k->route.n - 1;
		bool first = adv_now(s, k->route.node[0]), last = adv_now(s, k->route.node[nmix - 1]);
		bool all = true;

		for (unsigned i = 0; i < nmix; i++)
			all = all && adv_now(s, k->route.node[i]);
		s->r->fwd_paths++;
		s->r->fl_compromised += first && last;
		s->r->full_compromised += all;
		if (attempt == 0) {
			m->fl = first && last;
			m->full = all;
			m->first = k->route;
		}
	}
	if (mcrypto_is_real(s->mc)) {
		void *sec = NULL;

		r = mcrypto_build(s->mc, &k->route, m->recipient, &k->ack, m->client,
				  ((uint64_t)mi << 8) | attempt, &k->bytes, &sec);
		if (r != 0) {
			s->r->crypto_errors++;
			pkt_free(k);
			return;
		}
		if (m->secret == NULL)
			m->secret = xcalloc(s->p->retries + 1, sizeof(*m->secret));
		m->secret[attempt] = sec;
	}
	if (s->p->entropy)
		k->dist = mdist_point(m->client);
	if (attempt > 0)
		s->r->retransmits++;
	s->r->packets++;
	transmit(s, client_ep(s, m->client), k->route.node[0], k, s->now);
}

static void
ev_send(struct sim *s)
{
	struct mmsg *m;
	double rate = s->p->send_rate * s->p->clients;
	uint64_t next;

	if (s->nmsg == s->capmsg) {
		s->capmsg = s->capmsg ? 2 * s->capmsg : 1024;
		s->msg = xrealloc(s->msg, s->capmsg * sizeof(*s->msg));
	}
	m = &s->msg[s->nmsg];
	memset(m, 0, sizeof(*m));
	m->client = (uint32_t)path_rng_below(&s->work, s->p->clients);
	m->recipient = (uint32_t)path_rng_below(&s->work, s->p->clients);
	m->t_send = s->now;
	m->entropy = -1;
	s->nmsg++;
	s->r->sent++;
	send_attempt(s, (uint32_t)(s->nmsg - 1));
	next = s->now + (uint64_t)llround(path_rng_exp(&s->work, 1.0 / rate) * NS_PER_S);
	if (s->nmsg < s->p->messages && next < s->send_end)
		mheap_push(&s->heap, next, EV_SEND, 0, NULL);
	else
		s->sending_done = true;
}

static void
finish_msg(struct sim *s, struct mmsg *m)
{
	m->done = true;
	if (m->secret) {
		for (unsigned i = 0; i <= s->p->retries; i++)
			mcrypto_secret_free(m->secret[i]);
		FREE_AND_NULL(m->secret);
	}
}

static void
ev_arrive(struct sim *s, uint32_t ni, struct mpkt *k)
{
	struct mnode *n = &s->node[ni];
	struct mmsg *m = &s->msg[k->msg];
	uint64_t done;
	bool last = k->hop + 1 == k->route.n;
	int r = 0;

	if (!n->up) {
		s->r->lost_down++;
		pkt_free(k);
		return;
	}
	done = MAX(s->now, n->cpu_free) + (uint64_t)llround(s->p->unwrap_cost_us * 1000.0);
	n->cpu_free = done;
	if (!last) {
		r = mcrypto_relay(s->mc, k->bytes, ni, k->route.node[k->hop + 1],
				  k->route.delay_ms[k->hop]);
		if (r != 0)
			goto crypto_fail;
		if (k->dist && !adv_now(s, ni))
			mpool_add(&n->pool, k->dist, s->now);
		k->gen = n->gen;
		mheap_push(&s->heap, done + ms_to_ns(k->route.delay_ms[k->hop]), EV_DEPART, ni, k);
		return;
	}
	if (k->is_ack) {
		/* At the sender's mailbox node: the sender fetches it at once. */
		/* After the message is done its secrets are gone: a late ACK is
		 * carried to the client, which ignores it. */
		if (!m->done)
			r = mcrypto_ack(s->mc, k->bytes, ni, m->secret ? m->secret[k->attempt] : NULL,
					((uint64_t)k->msg << 8) | k->attempt);
		if (r != 0)
			goto crypto_fail;
		transmit(s, ni, client_ep(s, m->client), k, done);
		return;
	}
	/* Deposit at the recipient's mailbox node, then ACK through the SURB. */
	if (!m->delivered) {
		m->delivered = true;
		m->t_deliver = done;
		s->r->delivered++;
		if (k->dist)
			m->entropy = mdist_entropy(k->dist);
	} else {
		s->r->duplicates++;
	}
	r = mcrypto_deliver(s->mc, k->bytes, ni, m->recipient,
			    ((uint64_t)k->msg << 8) | k->attempt, k->ack.node[0]);
	if (r != 0)
		goto crypto_fail;
	k->is_ack = true;
	k->route = k->ack;
	k->hop = 0;
	if (k->dist) {
		mdist_free(k->dist);
		/* An ACK's sender is its mailbox node, numbered after the clients. */
		k->dist = mdist_point((uint32_t)(s->p->clients + (ni - s->net->nrelays)));
	}
	s->r->packets++;
	transmit(s, ni, k->route.node[0], k, done);
	return;
crypto_fail:
	s->r->crypto_errors++;
	log_info(LD_SIM, "crypto check failed at node %u: %s", ni, err_str(r));
	pkt_free(k);
}

static void
ev_depart(struct sim *s, uint32_t ni, struct mpkt *k)
{
	struct mnode *n = &s->node[ni];

	if (!n->up || n->gen != k->gen) {
		s->r->lost_down++;	/* the node failed while holding it */
		pkt_free(k);
		return;
	}
	if (k->dist && !adv_now(s, ni)) {
		struct mdist *d = mpool_take(&n->pool, s->p->entropy_cap, s->now);

		mdist_free(k->dist);
		k->dist = d;
	}
	k->hop++;
	transmit(s, ni, k->route.node[k->hop], k, s->now);
}

static void
ev_client(struct sim *s, struct mpkt *k)
{
	struct mmsg *m = &s->msg[k->msg];

	if (!m->done) {
		m->acked = true;
		m->t_ack = s->now;
		s->r->acked++;
		finish_msg(s, m);
	}
	pkt_free(k);
}

static void
ev_timeout(struct sim *s, uint32_t mi, uint8_t attempt)
{
	struct mmsg *m = &s->msg[mi];

	if (m->acked || m->done || attempt + 1 != m->attempts)
		return;
	if (m->attempts <= s->p->retries) {
		send_attempt(s, mi);
		return;
	}
	s->r->expired++;
	finish_msg(s, m);
}

static void
schedule_failure(struct sim *s, uint32_t ni)
{
	double mean_s = 3600.0 / s->p->churn_per_hour;

	mheap_push(&s->heap, s->now + (uint64_t)llround(path_rng_exp(&s->churn, mean_s) * NS_PER_S),
		   EV_DOWN, ni, NULL);
}

static void
ev_down(struct sim *s, uint32_t ni)
{
	struct mnode *n = &s->node[ni];

	n->up = false;
	n->gen++;
	mpool_reset(&n->pool, s->now);
	mheap_push(&s->heap,
		   s->now + (uint64_t)llround(path_rng_exp(&s->churn, s->p->churn_down_s) * NS_PER_S),
		   EV_UP, ni, NULL);
}

static void
ev_up(struct sim *s, uint32_t ni)
{
	s->node[ni].up = true;
	if (!s->sending_done)
		schedule_failure(s, ni);
}

static void
sim_loop(struct sim *s)
{
	struct mevent e;

	while (mheap_pop(&s->heap, &e)) {
		/* Failures pending when sending stopped are void; they must not
		 * move the clock past the last real event. */
		if (e.type == EV_DOWN && s->sending_done)
			continue;
		s->now = e.t;
		s->r->events++;
		switch (e.type) {
		case EV_SEND:
			ev_send(s);
			break;
		case EV_ARRIVE:
			ev_arrive(s, e.arg, e.ptr);
			break;
		case EV_DEPART:
			ev_depart(s, e.arg, e.ptr);
			break;
		case EV_CLIENT:
			ev_client(s, e.ptr);
			break;
		case EV_TIMEOUT:
			ev_timeout(s, e.arg, (uint8_t)(uintptr_t)e.ptr);
			break;
		case EV_DOWN:
			ev_down(s, e.arg);
			break;
		case EV_UP:
			ev_up(s, e.arg);
			break;
		}
	}
}

static void
collect(struct sim *s)
{
	struct model_result *r = s->r;
	double area = 0;
	size_t honest = 0;

	r->end_s = (double)s->now / NS_PER_S;
	r->latency_ms = xcalloc(s->nmsg + 1, sizeof(double));
	r->entropy_bits = xcalloc(s->nmsg + 1, sizeof(double));
	r->msgs = xcalloc(s->nmsg + 1, sizeof(*r->msgs));
	r->nmsgs = s->nmsg;
	for (size_t i = 0; i < s->nmsg; i++) {
		const struct mmsg *m = &s->msg[i];
		struct model_msg_out *o = &r->msgs[i];

		o->client = m->client;
		o->recipient = m->recipient;
		o->t_send_s = (double)m->t_send / NS_PER_S;
		o->latency_ms = m->delivered ? (double)(m->t_deliver - m->t_send) / NS_PER_MS : -1;
		o->ack_ms = m->acked ? (double)(m->t_ack - m->t_send) / NS_PER_MS : -1;
		o->attempts = m->attempts;
		o->first_last = m->fl;
		o->full = m->full;
		o->entropy_bits = m->delivered && s->p->entropy ? m->entropy : -1;
		o->nhops = m->first.n;
		for (unsigned h = 0; h < m->first.n; h++)
			o->hops[h] = m->first.node[h];
		if (m->delivered)
			r->latency_ms[r->nlatency++] = o->latency_ms;
		if (o->entropy_bits >= 0)
			r->entropy_bits[r->nentropy++] = o->entropy_bits;
	}
	qsort(r->latency_ms, r->nlatency, sizeof(double), mstat_cmp_double);
	qsort(r->entropy_bits, r->nentropy, sizeof(double), mstat_cmp_double);
	for (size_t i = 0; i < s->net->nrelays; i++) {
		if (s->net->adv[i])
			continue;
		mpool_reset(&s->node[i].pool, s->now);	/* closes the occupancy integral */
		area += s->node[i].pool.area;
		honest++;
	}
	r->mean_pool = honest && s->now ? area / ((double)honest * (double)s->now) : 0;
}

static void
stream(struct sim *s, struct path_rng_seeded *st, struct path_rng *rng, uint64_t seed,
       const char *label)
{
	uint8_t k[32];

	model_stream_seed(k, seed, label);
	*rng = path_rng_seeded_init(st, k);
	sodium_memzero(k, sizeof(k));
}

int
model_run(const struct model_params *p, uint64_t seed, struct model_result *r)
{
	struct sim s;
	uint8_t k[32];

	memset(r, 0, sizeof(*r));
	memset(&s, 0, sizeof(s));
	s.p = p;
	s.r = r;
	s.net = mnet_new(p, seed);
	s.node = xcalloc(s.net->nnodes, sizeof(*s.node));
	s.cl = xcalloc(p->clients, sizeof(*s.cl));
	stream(&s, &s.st_work, &s.work, seed, "workload");
	stream(&s, &s.st_path, &s.path, seed, "paths");
	stream(&s, &s.st_net, &s.net_rng, seed, "network");
	stream(&s, &s.st_churn, &s.churn, seed, "churn");
	model_stream_seed(k, seed, "links");
	memcpy(s.link_key, k, sizeof(s.link_key));
	s.mc = mcrypto_new(p->real_crypto, s.net->nnodes, p->clients, s.net->nodes);
	s.send_end = p->duration_s > 0 ? (uint64_t)llround(p->duration_s * NS_PER_S) : UINT64_MAX;
	for (size_t i = 0; i < s.net->nnodes; i++)
		s.node[i].up = true;
	if (p->churn_per_hour > 0) {
		for (uint32_t i = 0; i < s.net->nrelays; i++)
			schedule_failure(&s, i);
	}
	mheap_push(&s.heap, 0, EV_SEND, 0, NULL);
	sim_loop(&s);
	collect(&s);
	model_analyse_ttfc(p, s.net, seed, r);
	model_analyse_shares(p, s.net, seed, r);

	for (size_t i = 0; i < s.nmsg; i++)
		finish_msg(&s, &s.msg[i]);
	for (size_t i = 0; i < s.net->nnodes; i++)
		mpool_clear(&s.node[i].pool);
	free(s.msg);
	free(s.node);
	free(s.cl);
	mheap_clear(&s.heap);
	mcrypto_free(s.mc);
	mnet_free(s.net);
	path_rng_seeded_clear(&s.st_work);
	path_rng_seeded_clear(&s.st_path);
	path_rng_seeded_clear(&s.st_net);
	path_rng_seeded_clear(&s.st_churn);
	return r->fwd_paths == 0 && r->sent > 0 ? ERR_NOT_FOUND : 0;
}

void
model_result_clear(struct model_result *r)
{
	free(r->latency_ms);
	free(r->entropy_bits);
	free(r->ttfc);
	free(r->msgs);
	memset(r, 0, sizeof(*r));
}
