/* The simulated network's shape: relays and mailbox nodes with addresses,
 * families and bandwidth; the adversary's relays; each client's mailbox. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/util.h"
#include "sim/model_int.h"

/* Mailbox nodes sit in /16s of their own, above any relay's. */
#define MBOX_NET_BASE 40000u

void
model_stream_seed(uint8_t out[static 32], uint64_t seed, const char *label)
{
	crypto_generichash_state st;
	uint8_t s[8];

	for (int i = 0; i < 8; i++)
		s[i] = (uint8_t)(seed >> (8 * i));
	crypto_generichash_init(&st, (const uint8_t *)"burrow-sim model", 16, 32);
	crypto_generichash_update(&st, s, sizeof(s));
	crypto_generichash_update(&st, (const uint8_t *)label, strlen(label));
	crypto_generichash_final(&st, out, 32);
}

double
model_dist_draw(const struct model_dist *d, const struct path_rng *rng)
{
	double u1, u2;

	switch (d->kind) {
	case MODEL_DIST_CONST:
		return d->a;
	case MODEL_DIST_UNIFORM:
		return d->a + (d->b - d->a) * path_rng_unit(rng);
	case MODEL_DIST_LOGNORMAL:
		u1 = path_rng_unit(rng);
		u2 = path_rng_unit(rng);
		return d->a * exp(d->b * sqrt(-2 * log(u1)) * cos(2 * M_PI * u2));
	case MODEL_DIST_EXP:
		return path_rng_exp(rng, d->a);
	}
	return d->a;
}

double
mnet_mark_adversary(const struct path_node *nodes, size_t nrelays, double share,
		    bool by_bandwidth, const struct path_rng *rng, bool *adv)
{
	size_t *order = xcalloc(nrelays ? nrelays : 1, sizeof(*order));
	double total = 0, acc = 0;
	size_t k = 0;

	for (size_t i = 0; i < nrelays; i++) {
		order[i] = i;
		adv[i] = false;
		total += (double)nodes[i].bandwidth;
	}
	for (size_t i = nrelays; i > 1; i--) {
		size_t j = path_rng_below(rng, i);
		size_t t = order[i - 1];

		order[i - 1] = order[j];
		order[j] = t;
	}
	if (!by_bandwidth) {
		k = (size_t)llround(share * (double)nrelays);
		for (size_t i = 0; i < k; i++)
			adv[order[i]] = true;
		free(order);
		return nrelays ? (double)k / (double)nrelays : 0;
	}
	for (size_t i = 0; i < nrelays && acc < share * total; i++) {
		adv[order[i]] = true;
		acc += (double)nodes[order[i]].bandwidth;
	}
	free(order);
	return total > 0 ? acc / total : 0;
}

struct mnet *
mnet_new(const struct model_params *p, uint64_t seed)
{
	struct mnet *net = xcalloc(1, sizeof(*net));
	struct path_rng_seeded st;
	uint8_t s[32];
	struct path_rng rng;
	double bw_all = 0, bw_adv = 0;

	model_stream_seed(s, seed, "topology");
	rng = path_rng_seeded_init(&st, s);
	net->nrelays = p->relays;
	net->nmbox = p->mailboxes;
	net->nnodes = p->relays + p->mailboxes;
	net->nclients = p->clients;
	net->adv_join_s = p->adv_join_s;
	net->nodes = xcalloc(net->nnodes, sizeof(*net->nodes));
	net->adv = xcalloc(net->nnodes, sizeof(*net->adv));
	for (size_t i = 0; i < net->nnodes; i++) {
		struct path_node *n = &net->nodes[i];
		bool relay = i < net->nrelays;
		uint32_t sub;
		double mbit = model_dist_draw(&p->bandwidth, &rng);

		rng.bytes(rng.ctx, n->node_id, sizeof(n->node_id));
		if (!relay)
			sub = MBOX_NET_BASE + (uint32_t)(i - net->nrelays);
		else if (p->subnets)
			sub = 1 + (uint32_t)path_rng_below(&rng, p->subnets);
		else
			sub = 1 + (uint32_t)i;
		n->ipv4 = (sub << 16) | (uint32_t)path_rng_below(&rng, 65536);
		n->flags = relay ? PATH_MIX | PATH_GUARD : PATH_MAILBOX;
		/* At least 1 kbit/s, so a transmission always ends. */
		n->bandwidth = (uint64_t)llround(MAX(mbit, 0.001) * 125000.0);
		snprintf(n->nickname, sizeof(n->nickname), "%c%zu", relay ? 'r' : 'm',
			 relay ? i : i - net->nrelays);
	}
	for (unsigned f = 0; f < p->family_count; f++) {
		for (unsigned a = 0; a < p->family_size; a++) {
			struct path_node *n = &net->nodes[f * p->family_size + a];
			size_t len = 0;

			for (unsigned b = 0; b < p->family_size; b++) {
				if (a == b)
					continue;
				len += (size_t)snprintf(n->family + len, sizeof(n->family) - len,
							"%sr%u", len ? "," : "",
							f * p->family_size + b);
			}
		}
	}
	mnet_mark_adversary(net->nodes, net->nrelays, p->adv_share, p->adv_by_bandwidth, &rng,
			    net->adv);
	for (size_t i = 0; i < net->nrelays; i++) {
		bw_all += (double)net->nodes[i].bandwidth;
		if (net->adv[i])
			bw_adv += (double)net->nodes[i].bandwidth;
	}
	net->adv_bw_share = bw_all > 0 ? bw_adv / bw_all : 0;
	net->ps_all = path_selector_new(net->nodes, net->nnodes);
	if (p->adv_join_s > 0) {
		net->honest = xcalloc(net->nnodes, sizeof(*net->honest));
		memcpy(net->honest, net->nodes, net->nnodes * sizeof(*net->honest));
		for (size_t i = 0; i < net->nrelays; i++) {
			if (net->adv[i])
				net->honest[i].flags &= ~(uint32_t)(PATH_MIX | PATH_GUARD);
		}
		net->ps_honest = path_selector_new(net->honest, net->nnodes);
	}
	net->client_mbox = xcalloc(net->nclients, sizeof(*net->client_mbox));
	for (size_t c = 0; c < net->nclients; c++)
		net->client_mbox[c] = (uint32_t)(net->nrelays + path_rng_below(&rng, net->nmbox));
	path_rng_seeded_clear(&st);
	return net;
}

void
mnet_free(struct mnet *net)
{
	if (net == NULL)
		return;
	path_selector_free(net->ps_all);
	path_selector_free(net->ps_honest);
	free(net->nodes);
	free(net->honest);
	free(net->adv);
	free(net->client_mbox);
	free(net);
}

const struct path_selector *
mnet_selector_at(const struct mnet *net, double t_s)
{
	if (net->ps_honest && t_s < net->adv_join_s)
		return net->ps_honest;
	return net->ps_all;
}
