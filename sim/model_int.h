/* Internals of the model simulation shared between sim/model_*.c: the
 * event heap, sender distributions for entropy bookkeeping, the crypto
 * layer (real Sphinx or stand-in), and small statistics helpers. */
#ifndef BURROW_SIM_MODEL_INT_H
#define BURROW_SIM_MODEL_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/path.h"
#include "sim/model.h"

/* ---- event heap over a virtual clock (ns); ties broken by insertion ---- */

struct mevent {
	uint64_t t;
	uint64_t seq;
	uint32_t type;
	uint32_t arg;
	void *ptr;
};

struct mheap {
	struct mevent *v;
	size_t n, cap;
	uint64_t seq;
};

void mheap_push(struct mheap *h, uint64_t t, uint32_t type, uint32_t arg, void *ptr);
/* Pop the earliest event into *out: true, or false when empty. */
bool mheap_pop(struct mheap *h, struct mevent *out);
void mheap_clear(struct mheap *h);

/* ---- sender distributions (entropy bookkeeping) ----
 * A distribution is a sparse vector over sender ids, sorted by id. A pool
 * is the sum of the distributions of the messages now inside an honest
 * mix, with their count. */

struct mdist {
	uint32_t n;
	uint32_t *id;
	double *p;
};

struct mpool {
	struct mdist s;
	uint32_t count;
	/* Time-weighted occupancy, for the mean pool size. */
	uint64_t last_t;
	double area;
};

struct mdist *mdist_point(uint32_t id);
struct mdist *mdist_copy(const struct mdist *d);
void mdist_free(struct mdist *d);
/* Shannon entropy in bits of d, normalised by its total mass. */
double mdist_entropy(const struct mdist *d);
/* A message enters the pool: S += d (d is borrowed). */
void mpool_add(struct mpool *pool, const struct mdist *d, uint64_t now);
/* A message leaves: return S / count (at most cap entries, largest kept,
 * renormalised) and set S *= (count - 1) / count. */
struct mdist *mpool_take(struct mpool *pool, unsigned cap, uint64_t now);
/* The node failed: its pool is gone. */
void mpool_reset(struct mpool *pool, uint64_t now);
void mpool_clear(struct mpool *pool);

/* ---- crypto: real common/sphinx, or a stand-in that does nothing ----
 * Crypto randomness comes from randombytes_buf, never from the
 * simulation's RNGs, so both modes see identical events. */

struct mcrypto;

/* Keys for nnodes nodes (node ids given) and nclients clients. */
struct mcrypto *mcrypto_new(bool real, size_t nnodes, size_t nclients,
			    const struct path_node *nodes);
void mcrypto_free(struct mcrypto *mc);
bool mcrypto_is_real(const struct mcrypto *mc);

/* A route: node indices, with the delay each node is asked to hold for. */
struct mroute {
	uint8_t n;
	uint32_t node[PATH_MAX_HOPS];
	uint32_t delay_ms[PATH_MAX_HOPS];
};

/* Build a forward packet over fwd (last hop: the recipient's mailbox node)
 * for client `recipient`, carrying an ACK SURB over ack (last hop: the
 * sender's mailbox node) for client `sender`. On success *pkt (NULL in
 * stand-in mode) and *secret (kept by the sender) are set. */
int MUST_CHECK mcrypto_build(struct mcrypto *mc, const struct mroute *fwd, uint32_t recipient,
			     const struct mroute *ack, uint32_t sender, uint64_t tag,
			     uint8_t **pkt, void **secret);
/* Unwrap at a mix: the packet must say RELAY to expect_next after
 * expect_delay_ms. 0, or ERR_AUTH / ERR_INTERNAL on mismatch. */
int MUST_CHECK mcrypto_relay(struct mcrypto *mc, uint8_t *pkt, uint32_t node,
			     uint32_t expect_next, uint32_t expect_delay_ms);
/* Unwrap a forward packet at its mailbox node, open it as the recipient,
 * check the tag, and turn pkt into the ACK through the SURB, whose first
 * hop must be expect_first. */
int MUST_CHECK mcrypto_deliver(struct mcrypto *mc, uint8_t *pkt, uint32_t node,
			       uint32_t recipient, uint64_t tag, uint32_t expect_first);
/* Unwrap an ACK at the sender's mailbox node and open it with secret. */
int MUST_CHECK mcrypto_ack(struct mcrypto *mc, uint8_t *pkt, uint32_t node, void *secret,
			   uint64_t tag);
void mcrypto_secret_free(void *secret);

/* ---- statistics ---- */

/* Value at quantile q of sorted v[0..n) (linear interpolation). */
double mstat_quantile(const double *v, size_t n, double q);
/* Two-sided 95% Student t quantile for df degrees of freedom. */
double mstat_t95(unsigned df);
/* Mean and 95% half-width over x[0..n). */
void mstat_mean_ci(const double *x, size_t n, double *mean, double *half);
int mstat_cmp_double(const void *a, const void *b);

/* ---- the simulated network's fixed shape ----
 * Nodes [0, relays) are mix relays, [relays, relays + mailboxes) are
 * mailbox nodes. Clients are numbered separately. */

struct mnet {
	size_t nrelays, nmbox, nnodes, nclients;
	struct path_node *nodes;	/* the directory once the adversary has joined */
	struct path_node *honest;	/* the directory before it joins */
	struct path_selector *ps_all, *ps_honest;
	bool *adv;			/* per node */
	double adv_bw_share;		/* realised share of mix bandwidth */
	uint32_t *client_mbox;		/* per client: its mailbox node */
	double adv_join_s;
};

/* Derive a 32-byte stream seed from the run seed and a label. */
void model_stream_seed(uint8_t out[static 32], uint64_t seed, const char *label);

/* Build the network for p from the "topology" stream of seed. */
struct mnet *mnet_new(const struct model_params *p, uint64_t seed);
void mnet_free(struct mnet *net);
/* The selector clients use at virtual time t (seconds). */
const struct path_selector *mnet_selector_at(const struct mnet *net, double t_s);
/* Mark relays adversarial until their count (or bandwidth) reaches share:
 * relays are taken in a random order drawn from rng. Returns the realised
 * share. adv has nodes entries; only relays are marked. */
double mnet_mark_adversary(const struct path_node *nodes, size_t nrelays, double share,
			   bool by_bandwidth, const struct path_rng *rng, bool *adv);
/* Draw one value from a distribution. */
double model_dist_draw(const struct model_dist *d, const struct path_rng *rng);

/* ---- analyses that only draw paths (cheap, same path code) ---- */

/* Time and number of messages to each client's first compromise, with
 * and without fixed entry relays, over the run's own send schedule. */
void model_analyse_ttfc(const struct model_params *p, const struct mnet *net, uint64_t seed,
			struct model_result *r);
/* First-and-last and full-path compromise against adversary share. */
void model_analyse_shares(const struct model_params *p, const struct mnet *net, uint64_t seed,
			  struct model_result *r);

#endif
