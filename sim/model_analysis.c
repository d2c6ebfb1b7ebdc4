/* Analyses that need only path draws, run with the same common/path code
 * as the simulation itself:
 *
 * - Time and number of messages to each client's first compromise (its
 *   first message whose first and last mix are both adversarial), over
 *   the run's own send schedule, once with a fresh entry per path and once
 *   with fixed entry relays per client (chosen at the client's first
 *   message, as TorPS does for guards). Both policies are drawn from
 *   streams of their own, so the comparison holds whatever Guard says.
 * - The first-and-last and full-path compromise rates against the
 *   adversary's share of relays (by count or bandwidth), to set beside
 *   the analytic share^2 and share^k for uniform selection. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sim/model_int.h"

/* Paths drawn per adversary share. */
#define SHARE_DRAWS 20000

static struct path_rng
stream(struct path_rng_seeded *st, uint64_t seed, const char *label)
{
	uint8_t k[32];

	model_stream_seed(k, seed, label);
	return path_rng_seeded_init(st, k);
}

static void
path_flags(const struct path *p, const bool *adv, bool *fl, bool *full)
{
	unsigned nmix = p->nhops - 1;

	*fl = adv[p->hop[0]] && adv[p->hop[nmix - 1]];
	*full = true;
	for (unsigned i = 0; i < nmix; i++)
		*full = *full && adv[p->hop[i]];
}

void
model_analyse_ttfc(const struct model_params *p, const struct mnet *net, uint64_t seed,
		   struct model_result *r)
{
	r->nclients = net->nclients;
	r->ttfc = xcalloc(net->nclients, sizeof(*r->ttfc));
	for (size_t c = 0; c < net->nclients; c++) {
		r->ttfc[c].t_s[0] = r->ttfc[c].t_s[1] = -1;
	}
	for (int v = 0; v < 2; v++) {
		struct path_rng_seeded st;
		struct path_rng rng = stream(&st, seed, v ? "ttfc-guard" : "ttfc-free");
		uint32_t *count = xcalloc(net->nclients, sizeof(*count));
		size_t (*guards)[2] = xcalloc(net->nclients, sizeof(*guards));
		uint8_t *nguards = xcalloc(net->nclients, 1);
		bool *chosen = xcalloc(net->nclients, sizeof(*chosen));

		for (size_t i = 0; i < r->nmsgs; i++) {
			const struct model_msg_out *m = &r->msgs[i];
			const struct path_selector *ps = mnet_selector_at(net, m->t_send_s);
			struct path_opts o = { .nmix = p->path_length, .weighted = p->weighted };
			struct model_ttfc *t = &r->ttfc[m->client];
			struct path path;
			bool fl, full;

			if (v == 1) {
				if (!chosen[m->client]) {
					chosen[m->client] = true;
					if (path_select_guard(ps, p->weighted, NULL, 0, &rng,
							      &guards[m->client][0]) == 0) {
						nguards[m->client] = 1;
						if (path_select_guard(ps, p->weighted,
								      guards[m->client], 1, &rng,
								      &guards[m->client][1]) == 0)
							nguards[m->client] = 2;
					}
				}
				o.nguards = nguards[m->client];
				memcpy(o.guards, guards[m->client], sizeof(guards[0]));
			}
			count[m->client]++;
			if (path_select(ps, net->client_mbox[m->recipient], &o, &rng, &path, NULL))
				continue;
			if (t->t_s[v] >= 0)
				continue;
			path_flags(&path, net->adv, &fl, &full);
			if (fl && m->t_send_s >= net->adv_join_s) {
				t->t_s[v] = m->t_send_s;
				t->msgs[v] = count[m->client];
			}
		}
		free(count);
		free(guards);
		free(nguards);
		free(chosen);
		path_rng_seeded_clear(&st);
	}
}

void
model_analyse_shares(const struct model_params *p, const struct mnet *net, uint64_t seed,
		     struct model_result *r)
{
	struct path_rng_seeded st;
	struct path_rng rng = stream(&st, seed, "shares");
	bool *adv = xcalloc(net->nnodes, sizeof(*adv));
	struct path_opts o = { .nmix = p->path_length, .weighted = p->weighted };

	for (int i = 0; i < MODEL_SHARES; i++) {
		double share = 0.05 * (i + 1);

		r->share[i] = share;
		r->share_actual[i] = mnet_mark_adversary(net->nodes, net->nrelays, share,
							 p->adv_by_bandwidth, &rng, adv);
		for (int d = 0; d < SHARE_DRAWS; d++) {
			size_t mbox = net->nrelays + path_rng_below(&rng, net->nmbox);
			struct path path;
			bool fl, full;

			if (path_select(net->ps_all, mbox, &o, &rng, &path, NULL) != 0)
				continue;
			path_flags(&path, adv, &fl, &full);
			r->share_paths[i]++;
			r->share_fl[i] += fl;
			r->share_full[i] += full;
		}
	}
	free(adv);
	path_rng_seeded_clear(&st);
}
