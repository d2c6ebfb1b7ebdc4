/* Userspace link impairment for burrow-sim's network-namespace mode, for
 * kernels without tc netem: a thread moves Ethernet frames between two
 * host-side interfaces with AF_PACKET sockets, holding each frame that
 * leaves the node for delay ± jitter and dropping it with probability
 * loss. Frames towards the node pass at once, so the effect is the same
 * as tc netem on the node's eth0 (egress only). Root only. */
#ifndef BURROW_SIM_IMPAIR_H
#define BURROW_SIM_IMPAIR_H

#include <stdint.h>

#include "common/err.h"

/* Per direction: at most this many frames, or bytes, held at once; a frame
 * over either bound is dropped and counted in dropped_full. */
#define IMPAIR_QUEUE_FRAMES 8192
#define IMPAIR_QUEUE_BYTES (32u << 20)

struct impair;

struct impair_stats {
	uint64_t out_frames;	/* node -> network: forwarded after the delay */
	uint64_t out_lost;	/* node -> network: dropped by the loss setting */
	uint64_t in_frames;	/* network -> node: forwarded at once */
	uint64_t dropped_full;	/* either way: queue full */
	uint64_t send_errors;	/* either way: send failed (link down) */
};

/* Start forwarding between node_if (the node's veth end, no longer on the
 * bridge) and net_if (a veth end whose peer is on the bridge), both already
 * existing and up. Delay is uniform in [delay - jitter, delay + jitter]
 * (at least 0); with jitter 0 frames keep their order. Returns 0 with *out
 * set, ERR_PERM (not root), ERR_NOT_FOUND (no such interface) or ERR_IO. */
int MUST_CHECK impair_new(struct impair **out, const char *node_if, const char *net_if,
			  unsigned delay_ms, unsigned jitter_ms, double loss_pct);
/* Replace the settings of a running forwarder; frames already held keep
 * their release time. */
void impair_set(struct impair *im, unsigned delay_ms, unsigned jitter_ms, double loss_pct);
/* Counters so far (consistent enough for a report; read without a lock). */
void impair_stats(const struct impair *im, struct impair_stats *st);
/* Stop the thread, discard held frames, close the sockets. NULL is fine. */
void impair_free(struct impair *im);

#endif
