/* `burrow-sim model`: a large in-process discrete-event simulation of a
 * Burrow network over a virtual clock. Relays, mailbox nodes and clients
 * are objects in one process; packets are built, unwrapped and delivered
 * with common/sphinx (or a cost-free stand-in); paths come from
 * common/path. docs/simulation.md describes the model and its limits. */
#ifndef BURROW_SIM_MODEL_H
#define BURROW_SIM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

#define MODEL_STUDY_MAX 16
#define MODEL_SHARES 10		/* adversary shares swept: 0.05 .. 0.50 */
#define MODEL_CDF_POINTS 101	/* quantiles 0.00 .. 1.00 */

enum model_dist_kind { MODEL_DIST_CONST, MODEL_DIST_UNIFORM, MODEL_DIST_LOGNORMAL, MODEL_DIST_EXP };

/* A distribution over non-negative reals: const X; uniform A B;
 * lognormal MEDIAN SIGMA; exp MEAN. */
struct model_dist {
	enum model_dist_kind kind;
	double a, b;
};

struct model_params {
	unsigned relays, mailboxes, clients;
	uint64_t messages;		/* stop sending after this many */
	double duration_s;		/* or after this much virtual time (0: no limit) */
	unsigned path_length;		/* mix hops, 1..PATH_MAX_MIXES */
	double mean_hop_delay_ms;
	bool weighted;			/* bandwidth-weighted path selection */
	bool guard;			/* fixed entry relays per client */
	struct model_dist link_latency;	/* one-way base latency per link, ms */
	double jitter_ms;		/* per packet, uniform in [0, jitter] */
	double loss;			/* per packet per link */
	struct model_dist bandwidth;	/* per relay, Mbit/s */
	double unwrap_cost_us;		/* virtual CPU per packet at a node */
	double send_rate;		/* messages/s per client (Poisson) */
	double churn_per_hour;		/* failures per relay-hour while up */
	double churn_down_s;		/* mean downtime */
	double adv_share;
	bool adv_by_bandwidth;
	double adv_join_s;		/* adversary relays join the directory then */
	bool real_crypto;
	unsigned seeds;
	double ack_timeout_ms;		/* slack added to the path's own delays */
	unsigned retries;
	unsigned subnets;		/* relays spread over this many /16s (0: one each) */
	unsigned family_count, family_size;
	bool entropy;			/* sender-entropy bookkeeping */
	unsigned entropy_cap;		/* most senders kept per distribution */
	double study_delays[MODEL_STUDY_MAX];
	unsigned nstudy_delays;
	double study_loads[MODEL_STUDY_MAX];
	unsigned nstudy_loads;
};

/* Per-client first compromise (first and last mix both adversarial), for
 * the two entry policies; t_s < 0 and msgs == 0 when never compromised. */
struct model_ttfc {
	double t_s[2];		/* [0] no fixed entry, [1] fixed entry */
	uint32_t msgs[2];
};

/* One message as the output's messages.csv shows it. */
struct model_msg_out {
	uint32_t client, recipient;
	double t_send_s;
	double latency_ms;	/* first delivery; < 0 if never delivered */
	double ack_ms;		/* ack received; < 0 if never */
	uint8_t attempts;
	uint8_t first_last;	/* first attempt's first and last mix adversarial */
	uint8_t full;		/* every mix adversarial */
	double entropy_bits;	/* of the first delivered packet; < 0 if none */
	uint32_t hops[5];	/* first attempt's path (node indices) */
	uint8_t nhops;
};

struct model_result {
	uint64_t sent, delivered, acked, expired, duplicates;
	uint64_t packets, retransmits, lost_link, lost_down, crypto_errors, no_path;
	uint64_t fwd_paths, fl_compromised, full_compromised;
	uint64_t events;
	double end_s;
	double *latency_ms;	/* per delivered message, sorted */
	size_t nlatency;
	double *entropy_bits;	/* per delivered forward packet, sorted */
	size_t nentropy;
	double mean_pool;	/* time-averaged messages per honest pool */
	struct model_ttfc *ttfc;	/* per client */
	size_t nclients;
	/* Compromise against share (path draws only, same path code). */
	double share[MODEL_SHARES];
	uint64_t share_paths[MODEL_SHARES];
	uint64_t share_fl[MODEL_SHARES], share_full[MODEL_SHARES];
	double share_actual[MODEL_SHARES];	/* realised adversary share */
	struct model_msg_out *msgs;	/* per message, in send order */
	size_t nmsgs;
};

/* Defaults for every key (a small network, stand-in crypto). */
void model_params_default(struct model_params *p);

/* Load a config file over the defaults. Every bad line is written to
 * stderr as file:line. Return 0 or ERR_CONFIG. */
int MUST_CHECK model_params_load(const char *path, struct model_params *p);

/* Run one simulation with this seed, filling r (free with
 * model_result_clear). Return 0, ERR_NOT_FOUND (no valid path could ever
 * exist in this network) or ERR_INTERNAL (a crypto cross-check failed). */
int MUST_CHECK model_run(const struct model_params *p, uint64_t seed, struct model_result *r);
void model_result_clear(struct model_result *r);

/* Write every output for runs[0..nruns) (one per seed) of p into dir, and
 * the study grid (study[d * nloads + l] holds nruns results) when the
 * config has one. Return 0 or ERR_IO. */
int MUST_CHECK model_write_outputs(const char *dir, const struct model_params *p,
				   const struct model_result *runs, size_t nruns,
				   const struct model_result *study, uint64_t seed);

/* Render the plots in dir with gnuplot; a missing gnuplot is a note on
 * stderr, never an error. Return 0 always. */
int model_plot(const char *dir, const struct model_params *p);

/* `burrow-sim model CONFIG --out DIR [--seed N] [--crypto real|standin]`:
 * return a process exit status. */
int sim_model_cmd(int argc, char **argv);

#endif
