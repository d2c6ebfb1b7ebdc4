/* Path selection, shared by the client and the simulator.
 *
 * A path is N distinct mix relays (default 3, at most 4) followed by the
 * recipient's mailbox node. No two nodes on a path (the mailbox included)
 * may share an IPv4 /16 or a family.
 *
 * Family, defined symmetrically: nodes A and B are in one family when A's
 * family list names B's nickname AND B's family list names A's nickname
 * (Tor's mutual MyFamily rule). A one-sided claim relates nobody, so a
 * relay cannot push an honest relay off paths by naming it. Nicknames are
 * compared case-insensitively; an empty nickname is never matched.
 *
 * Selection at each position is uniform over the eligible mix relays, or
 * weighted by advertised bandwidth (option). "Eligible" means: flagged
 * PATH_MIX, not the mailbox, not already on the path, and related (same
 * /16 or family) to no node already chosen nor to the mailbox. The draw is
 * exactly that conditional distribution; it is implemented by rejection
 * sampling over a precomputed table with an exhaustive fallback, so a
 * path costs O(log n) expected time, not O(n).
 *
 * Per-hop mixing delays are exponential with a configurable mean (0 gives
 * no delay). All randomness comes from an injectable RNG: the default
 * reads randombytes_buf; a seeded ChaCha20 keystream serves the
 * simulator and tests. */
#ifndef BURROW_PATH_H
#define BURROW_PATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define PATH_MAX_MIXES 4
#define PATH_DEFAULT_MIXES 3
#define PATH_MAX_HOPS (PATH_MAX_MIXES + 1)
#define PATH_MAX_GUARDS 3
#define PATH_NICK_MAX 20

enum path_node_flag {
	PATH_MIX = 1u << 0,	/* may be a mix hop */
	PATH_MAILBOX = 1u << 1,	/* hosts mailboxes */
	PATH_GUARD = 1u << 2,	/* suitable as a fixed entry */
};

struct path_node {
	uint8_t node_id[32];
	uint32_t ipv4;			/* host byte order; the /16 is ipv4 >> 16 */
	char family[64];		/* comma-separated nicknames, or empty */
	uint32_t flags;			/* PATH_* */
	uint64_t bandwidth;		/* bytes/s, for weighted selection */
	char nickname[PATH_NICK_MAX];	/* this node's own name, for family */
};

/* Injectable randomness: bytes() fills buf with n random bytes. */
struct path_rng {
	void (*bytes)(void *ctx, void *buf, size_t n);
	void *ctx;
};

/* Deterministic RNG state: a ChaCha20 keystream under a 32-byte seed. */
struct path_rng_seeded {
	uint8_t key[32];
	uint64_t block;		/* next 64-byte keystream block */
	uint8_t buf[256];
	size_t pos;
};

/* The default RNG (randombytes_buf). */
struct path_rng path_rng_default(void);
/* Initialise s from seed and return an RNG reading it; s must outlive it. */
struct path_rng path_rng_seeded_init(struct path_rng_seeded *s, const uint8_t seed[static 32]);
/* Wipe a seeded RNG state. */
void path_rng_seeded_clear(struct path_rng_seeded *s);

/* Helpers on any RNG: 64 random bits; a uniform integer in [0, n) with no
 * modulo bias (n > 0); a double uniform in (0, 1); an exponential variate
 * with the given mean (0 when mean <= 0). */
uint64_t path_rng_u64(const struct path_rng *rng);
uint64_t path_rng_below(const struct path_rng *rng, uint64_t n);
double path_rng_unit(const struct path_rng *rng);
double path_rng_exp(const struct path_rng *rng, double mean);

struct path_opts {
	unsigned nmix;			/* mix hops, 1..PATH_MAX_MIXES; 0 means default */
	bool weighted;			/* bandwidth-weighted instead of uniform */
	size_t guards[PATH_MAX_GUARDS];	/* fixed entry candidates (node indices) */
	unsigned nguards;		/* 0: no fixed entry; else the first usable one */
	double mean_delay_ms;		/* mean per-hop mixing delay; 0 for none */
};

struct path {
	unsigned nhops;				/* nmix + 1 */
	size_t hop[PATH_MAX_HOPS];		/* node indices; the last is the mailbox */
	double delay_ms[PATH_MAX_HOPS];		/* mixing delay at each hop (mailbox: 0) */
};

/* Precomputed candidate tables over a node array (borrowed: it must
 * outlive the selector and not change). */
struct path_selector;

/* Build a selector over nodes[0..n). Never returns NULL. */
struct path_selector *path_selector_new(const struct path_node *nodes, size_t n);
void path_selector_free(struct path_selector *ps);

/* True when a and b may not share a path: same /16 or same family. */
bool path_nodes_related(const struct path_node *a, const struct path_node *b);

/* Choose a path ending at nodes[mailbox]. On success fill out and return 0.
 * Returns ERR_RANGE if opts are out of bounds (nmix > PATH_MAX_MIXES,
 * mailbox index out of range, too many guards), ERR_NOT_FOUND if no valid
 * path exists (the mailbox lacks PATH_MAILBOX, no usable guard, or too few
 * eligible mix relays); *why, if non-NULL, then points to a static phrase
 * saying which. */
int MUST_CHECK path_select(const struct path_selector *ps, size_t mailbox,
			   const struct path_opts *opts, const struct path_rng *rng,
			   struct path *out, const char **why);

/* Draw only the per-hop delays of an existing path (p->nhops set): used
 * for reply paths. The last hop gets 0. */
void path_draw_delays(struct path *p, double mean_delay_ms, const struct path_rng *rng);

/* Choose one mix relay to serve as a guard, uniform or weighted, not
 * related to any of avoid[0..navoid): 0 and *out, or ERR_NOT_FOUND. */
int MUST_CHECK path_select_guard(const struct path_selector *ps, bool weighted,
				 const size_t *avoid, size_t navoid,
				 const struct path_rng *rng, size_t *out);

/* One-shot form: build a selector, select, free it. */
int MUST_CHECK path_choose(const struct path_node *nodes, size_t n, size_t mailbox,
			   const struct path_opts *opts, const struct path_rng *rng,
			   struct path *out, const char **why);

#endif
