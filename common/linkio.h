/* A link over a libevent bufferevent: the glue between common/link's state
 * machine and a socket, with the limits every connection carries (handshake
 * timeout, idle timeout with keepalives, output cap, a per-peer frame rate)
 * and watermarks for backpressure.
 *
 * One struct linkconn per peer. Callbacks run from the event loop; a
 * callback may call linkconn_free() or linkconn_close() on its own
 * connection: the object is then released once the callback returns.
 *
 * The process must ignore SIGPIPE: a peer that vanished is an EPIPE. */
#ifndef BURROW_LINKIO_H
#define BURROW_LINKIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/link.h"

struct event_base;
struct bufferevent;
struct linkconn;

/* Every limit of one connection; 0 turns a timer or the rate limit off. */
struct linkconn_limits {
	uint32_t handshake_ms;	/* the handshake must finish within this */
	uint32_t idle_ms;	/* close when nothing arrives for this long */
	uint32_t keepalive_ms;	/* send a KEEPALIVE when nothing was sent for this long */
	uint32_t close_flush_ms;	/* how long a closing link may drain its output */
	uint32_t frames_per_sec;	/* records read per second, token bucket refill */
	uint32_t frames_burst;	/* bucket depth (at least 1) */
	size_t in_max;		/* bytes read ahead from the socket (at least one record) */
	size_t out_low;		/* on_drain fires once output falls to this */
	size_t out_max;		/* sends fail with ERR_FULL while output is above this */
};

/* Fill lim with the defaults: handshake 10 s, idle 180 s, keepalive 60 s,
 * close flush 2 s, 2,000 frames/s with a burst of 200, 8 records read
 * ahead, low mark 16 records, cap 256 records. */
void linkconn_limits_default(struct linkconn_limits *lim);

struct linkconn_callbacks {
	/* The handshake completed: linkconn_link() tells who the peer is. */
	void (*on_established)(struct linkconn *c, void *arg);
	/* A PACKET or CONTROL frame; fr->data is valid during the call only.
	 * KEEPALIVE and CLOSE frames are handled inside. */
	void (*on_frame)(struct linkconn *c, const struct link_frame *fr, void *arg);
	/* Output fell to out_low (optional): resume feeding this peer. */
	void (*on_drain)(struct linkconn *c, void *arg);
	/* The connection is over: err is 0 after linkconn_close(), ERR_CLOSED
	 * when the peer closed (CLOSE frame or EOF), ERR_TIMEOUT, ERR_IO, or
	 * the link_feed() error that closed it. Called exactly once, unless
	 * the application frees the connection first; the connection is freed
	 * right after it returns. */
	void (*on_close)(struct linkconn *c, int err, void *arg);
};

/* Counters for metrics and tests. */
struct linkconn_stats {
	uint64_t frames_in, frames_out;	/* records after the handshake */
	uint64_t bytes_in, bytes_out;
	uint64_t rate_pauses;		/* times the frame rate limit paused reading */
	uint64_t keepalives_out;
};

/* Run link over bev. Takes ownership of bev (freed with the connection;
 * create it with BEV_OPT_CLOSE_ON_FREE to close the socket too) and of
 * link, whose pending handshake output is queued at once. name labels log
 * lines (copied; say an address, never a key). lim and cb are copied.
 * Never returns NULL. */
struct linkconn *linkconn_new(struct event_base *base, struct bufferevent *bev, struct link *link,
			      const char *name, const struct linkconn_limits *lim,
			      const struct linkconn_callbacks *cb, void *arg);

/* Replace the limits of a live connection (lim is copied): the new frame
 * rate, watermarks and timers apply from now on; the frame bucket keeps
 * its tokens, capped at the new burst. */
void linkconn_set_limits(struct linkconn *c, const struct linkconn_limits *lim);

/* Free at once without calling on_close (NULL allowed). From inside one of
 * this connection's callbacks the release is deferred until it returns. */
void linkconn_free(struct linkconn *c);

/* Queue one frame. Return 0; ERR_CLOSED if the handshake has not finished
 * or the connection is closing; ERR_FULL if output is above out_max (the
 * frame is not queued); ERR_TOO_BIG for a control message over
 * LINK_CONTROL_MAX. */
int MUST_CHECK linkconn_send_packet(struct linkconn *c, const uint8_t pkt[static LINK_PACKET_LEN]);
int MUST_CHECK linkconn_send_control(struct linkconn *c, const uint8_t *p, size_t len);

/* Send CLOSE with reason (if the handshake finished), stop reading, and
 * end the connection once output drains or close_flush_ms passes; on_close
 * then runs with err 0. Calling it again does nothing. */
void linkconn_close(struct linkconn *c, uint8_t reason);

/* Stop / restart reading from the peer (backpressure: the peer's frames
 * wait in its socket). Timers keep running; a paused peer is not idle. */
void linkconn_pause_reading(struct linkconn *c);
void linkconn_resume_reading(struct linkconn *c);
bool linkconn_is_paused(const struct linkconn *c);

/* Bytes queued for the peer and not yet written to the socket. */
size_t linkconn_output_len(const struct linkconn *c);
bool linkconn_is_established(const struct linkconn *c);
/* The link, for link_peer_identity() and link_handshake_hash(). */
const struct link *linkconn_link(const struct linkconn *c);
const char *linkconn_name(const struct linkconn *c);
void linkconn_get_stats(const struct linkconn *c, struct linkconn_stats *st);

#endif
