/* The inside of a relay node, shared by the relay's own modules only:
 * relay.c (life cycle), pkeys.c (packet key schedule), dirclient.c,
 * peers.c (links), mix.c (unwrap workers, delays, forwarding) and
 * mailbox.c (deposits, acks, fetch). Not for other roles or common/. */
#ifndef BURROW_RELAY_INT_H
#define BURROW_RELAY_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/keys.h"
#include "common/sphinx.h"
#include "relay/relay.h"
#include "relay/relay_config.h"

struct dirdoc_consensus;
struct event;
struct event_base;
struct peers;
struct mix;
struct mailbox;
struct dirclient;
struct metrics;
struct replay_set;

/* Why a packet was dropped (labels of burrow_relay_dropped_total). */
enum relay_drop {
	DROP_REPLAY,		/* replay tag seen before under this key */
	DROP_AUTH,		/* header MAC fails under every live key: tampered or expired key */
	DROP_MALFORMED,		/* bad length, reserved bytes, ACK SURB */
	DROP_UNSUPPORTED,	/* version, command or flag */
	DROP_WEAK_KEY,		/* low-order α */
	DROP_NO_ROUTE,		/* next node not in the consensus */
	DROP_QUEUE_FULL,	/* mix queue at QueueLimit */
	DROP_NOT_MAILBOX,	/* DELIVER at a node without the mailbox role */
	DROP_LINK,		/* next hop unreachable or link closed with packets queued */
	DROP_SHUTDOWN,		/* still queued when the drain deadline passed */
	DROP_REPLAY_FULL,	/* the key's replay cache is at ReplayCacheEntries */
	DROP_NOT_MIX,		/* RELAY at a node without the mix role */
	DROP_N
};
const char *relay_drop_name(enum relay_drop d);

/* Counters for /metrics (event loop thread only). */
struct relay_stats {
	uint64_t packets_in;
	uint64_t forwarded;
	uint64_t delivered;		/* DELIVER commands handed to the mailbox */
	uint64_t dropped[DROP_N];
	uint64_t links_in, links_out, links_failed, links_bad;
	uint64_t links_refused_unknown;	/* relays not in the consensus */
	uint64_t input_pauses;		/* times reading stopped on every link */
	uint64_t held_no_route;		/* packets held for a fresher consensus */
	uint64_t held_routed;		/* ... that a fresher consensus then routed */
	uint64_t cons_refreshes;	/* refreshes asked for an unknown node */
	uint64_t acks_sent;
	uint64_t deposits_refused_full;
	uint64_t fetch_sessions, fetch_refused, fetch_slots, fetch_acked;
	uint64_t dir_uploads_ok, dir_uploads_failed, dir_fetch_ok, dir_fetch_failed;
};

/* One packet key and the replay set that lives and dies with it. */
#define RELAY_MAX_PKEYS 3
struct pkey {
	uint64_t epoch;
	struct x_keypair *kp;
	struct replay_set *replay;
	uint64_t created;	/* unix time the key was generated */
};

struct relay {
	struct relay_config cfg;
	struct event_base *base;
	struct id_keypair *id;
	struct x_keypair *link;
	uint8_t node_id[NODE_ID_LEN];
	char fp[FINGERPRINT_LEN + 1];
	char *keydir;			/* DataDirectory/keys */

	uint64_t epoch_len;		/* from the newest consensus, else EpochSeconds */
	uint64_t epoch;			/* current epoch by the clock */
	struct pkey pkeys[RELAY_MAX_PKEYS];	/* sorted by epoch, kp NULL when unused */
	uint64_t prev_grace_until;	/* previous epoch's key usable until */

	struct dirdoc_consensus *cons;	/* newest verified consensus, or NULL */
	struct dirdoc_consensus *prev_cons;	/* the one before it, or NULL */
	uint64_t prev_cons_until;	/* prev_cons still counts until (unix time) */
	struct dirclient *dir;
	struct peers *peers;
	struct mix *mix;
	struct mailbox *mbox;
	struct metrics *metrics;
	struct event *tick;

	bool draining;
	uint64_t drain_deadline_ns;
	struct relay_stats st;
};

/* ---- pkeys.c: the packet key schedule ---- */

/* Load the keys kept in keydir for epochs near now, delete older ones,
 * and make sure the current and next epochs have keys. 0 or ERR_IO. */
int MUST_CHECK pkeys_init(struct relay *r);
/* Advance to the epoch of time now: generate the next key ahead, retire
 * the previous one after the grace window (key and replay set together).
 * Returns true when the published set changed (upload a new descriptor). */
bool pkeys_tick(struct relay *r, uint64_t now);
/* The key for epoch e, or NULL. */
struct pkey *pkeys_get(struct relay *r, uint64_t e);
/* The keys a packet may be for now: current, previous during its grace
 * window, and next, in that order (next first when the clock has passed
 * into the next epoch before the tick). Returns how many were written. */
size_t pkeys_live(struct relay *r, uint64_t now, struct pkey **out, size_t max);
void pkeys_free(struct relay *r);

/* A replay set: a common/sphinx_replay cache whose tags are also logged
 * to DataDirectory/keys/replay-EPOCH.tags. add: 0 (new, remembered),
 * ERR_REPLAY (seen before) or ERR_FULL (cache at its bound: drop). */
struct replay_set *replay_set_new(size_t max_entries);
void replay_set_free(struct replay_set *s);
int MUST_CHECK replay_set_add(struct replay_set *s, const uint8_t tag[static SPHINX_REPLAY_TAG_LEN]);
size_t replay_set_count(const struct replay_set *s);

/* ---- dirclient.c ---- */

struct dirclient *dirclient_new(struct relay *r);
void dirclient_free(struct dirclient *d);
/* Upload our descriptor to every authority now (keys or address changed). */
void dirclient_upload_now(struct dirclient *d);
/* Fetch a fresh consensus now. */
void dirclient_fetch_now(struct dirclient *d);
/* Fetch the current consensus and, once the authorities have made it
 * (half-way through the epoch), the next one; at most once a second. */
void dirclient_refresh(struct dirclient *d);

/* ---- peers.c: links ---- */

/* Listen on the configured address. 0 or ERR_IO. */
int MUST_CHECK peers_new(struct peers **out, struct relay *r);
void peers_free(struct peers *p);
uint16_t peers_port(const struct peers *p);
/* Send a packet to the node with this id, dialing or reusing a link.
 * Takes nothing; pkt is copied. 0, ERR_NOT_FOUND (not in the consensus),
 * ERR_FULL (that peer's output is over its limit) or ERR_CLOSED. */
int MUST_CHECK peers_send_packet(struct peers *p, const uint8_t node_id[static NODE_ID_LEN],
				 const uint8_t pkt[static SPHINX_PACKET_LEN]);
/* Stop / restart reading from every link (backpressure). */
void peers_pause_input(struct peers *p, bool pause);
/* True while reading is stopped on every link (mix, congestion, drain). */
bool peers_input_paused(const struct peers *p);
/* A new consensus arrived: accept the relays waiting to be vetted that it
 * lists. */
void peers_consensus_changed(struct peers *p);
/* Close every link (CLOSE frame, flush what is queued). */
void peers_close_all(struct peers *p);
/* Bytes waiting in output buffers; connection counts. */
size_t peers_output_bytes(const struct peers *p);
void peers_counts(const struct peers *p, size_t *in, size_t *out, size_t *anon);
/* Send a control message on the link identified by conn (a handle the
 * control callback received). 0 or ERR_CLOSED. */
int peers_send_control(struct peers *p, uint64_t conn, const uint8_t *msg, size_t len);
/* The handshake hash of a link, for the fetch protocol. 0 or ERR_CLOSED. */
int MUST_CHECK peers_handshake_hash(struct peers *p, uint64_t conn,
				    uint8_t h[static 32]);
void peers_apply_limits(struct peers *p);

/* ---- mix.c ---- */

struct mix *mix_new(struct relay *r);
void mix_free(struct mix *m);
/* A packet arrived on a link from the IPv4 address from (network order;
 * 0 when it comes from this node itself). Called on the loop thread. */
void mix_packet_in(struct mix *m, const uint8_t pkt[static SPHINX_PACKET_LEN], uint32_t from);
/* A new consensus arrived: send the packets held for an unknown next hop
 * that it lists. */
void mix_consensus_changed(struct mix *m);
/* Packets held anywhere in the mix (worker queues, delays, unrouted). */
size_t mix_queued(const struct mix *m);
void mix_depths(const struct mix *m, size_t *workq, size_t *delayed);
/* Packets held for a consensus that lists their next hop. */
size_t mix_unrouted(const struct mix *m);
/* Send what is delayed now (drain). */
void mix_flush_delays(struct mix *m);
/* Send a locally made packet (an ACK through a SURB) to first_hop. */
void mix_send_local(struct mix *m, const uint8_t first_hop[static NODE_ID_LEN],
		    const uint8_t pkt[static SPHINX_PACKET_LEN]);

/* ---- mailbox.c ---- */

int MUST_CHECK mailbox_new(struct mailbox **out, struct relay *r);
void mailbox_free(struct mailbox *mb);
/* A DELIVER result from the mix (copied) that arrived over a link from the
 * IPv4 address from (network order, 0 if none): with LogDepositPeers on,
 * the first deposit from each address is logged. */
void mailbox_deliver(struct mailbox *mb, const struct sphinx_result *res, uint32_t from);
/* A control message from a link (fetch protocol). */
void mailbox_control(struct mailbox *mb, uint64_t conn, const uint8_t *msg, size_t len);
/* The link conn closed: forget its session. */
void mailbox_conn_closed(struct mailbox *mb, uint64_t conn);
void mailbox_render_metrics(struct mailbox *mb, struct wbuf *w);
size_t mailbox_pending(const struct mailbox *mb);
void mailbox_apply_limits(struct mailbox *mb);

/* ---- relay.c ---- */

/* A newly verified consensus (takes ownership). */
void relay_set_consensus(struct relay *r, struct dirdoc_consensus *c);
/* The relay with this node id in the newest consensus, or in the one
 * before it while that still counts (KeyGrace after the newest began);
 * NULL if neither lists it. */
const struct dirdoc_relay *relay_find_node(const struct relay *r,
					   const uint8_t node_id[static NODE_ID_LEN], uint64_t now);
/* Ask for a fresher consensus (rate limited by the directory client). */
void relay_refresh_consensus(struct relay *r);
/* Check whether a draining node can stop now. */
void relay_drain_check(struct relay *r);

#endif
