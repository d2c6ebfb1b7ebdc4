/* What `burrow-sim run` measures and writes: messages.csv, summary.json
 * and latency CDF plots. */
#ifndef BURROW_SIM_REPORT_H
#define BURROW_SIM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/simnet.h"

enum msg_outcome { MSG_PENDING, MSG_DELIVERED, MSG_ACKED_NOT_FETCHED, MSG_FAILED, MSG_LOST };

struct simmsg {
	unsigned sender, recipient;
	size_t size;
	double send_t, ack_t, fetch_t;	/* seconds since the load started; <0 if never */
	unsigned copies_seen;		/* recipients' inbox entries for it */
	unsigned retransmissions;
	enum msg_outcome outcome;
	char path[256];			/* nodes of the first fragment's last path */
	char error[128];
};

struct nodestat {
	char name[32];
	bool alive;
	double cpu_s;
	long peak_rss_kb;
	char *metrics;			/* /metrics text at the end of the run */
};

/* Sample a live node's CPU and peak RSS from /proc, and its metrics. */
void report_sample_node(const struct simnet *net, const struct simnode *n, struct nodestat *st);

/* What netns mode observed about the mailbox nodes. */
struct netns_obs {
	char **deposit_sources;	/* previous hops of deposits, from the nodes' logs */
	size_t ndeposit_sources;
	char **link_peers;	/* every peer connected to a mailbox node (ss) */
	size_t nlink_peers;
	char **sender_addrs;
	size_t nsenders;
};

/* Write messages.csv, summary.json and the plots into out; obs is NULL
 * unless in netns mode. Returns 0 or ERR_IO; *delivery is set to the
 * delivered fraction and *leak to whether a sender's address was among
 * the deposit sources. */
int report_write(const char *out, const struct simmsg *msgs, size_t nmsgs,
		 const struct nodestat *nodes, size_t nnodes, const char *scenario_path,
		 double wall_s, const struct netns_obs *obs, double *delivery, bool *leak);

/* The q-quantile (0..1) of a sorted array, or -1 if empty. */
double report_quantile(const double *sorted, size_t n, double q);

#endif
