/* Tests for common/linkio: links over real sockets with libevent. Timers
 * here are bounds (a test gives up after them), never speed thresholds. */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <sodium.h>

#include "common/err.h"
#include "common/keys.h"
#include "common/link.h"
#include "common/linkio.h"
#include "common/util.h"
#include "tests/check.h"

static struct id_keypair *id_r, *id_i;
static struct x_keypair *lk_r;

struct side {
	struct linkconn *c;
	struct event_base *base;
	struct side *peer;
	bool established, closed, pause_on_est, free_on_frame;
	int close_err;
	uint64_t target;	/* packets to send */
	uint64_t sent, got, bad_order, full;
	uint8_t peer_id[ID_PK_LEN];
	bool peer_anon;
	uint8_t h[LINK_HASH_LEN];
};

static int pending_sides;	/* sides still expecting packets */

static void
pump(struct side *s)
{
	uint8_t pkt[LINK_PACKET_LEN];

	while (s->c && s->sent < s->target) {
		int r;

		memset(pkt, (int)(s->sent & 0xff), sizeof(pkt));
		memcpy(pkt, &s->sent, sizeof(s->sent));
		r = linkconn_send_packet(s->c, pkt);
		if (r == ERR_FULL) {
			s->full++;
			return;
		}
		if (r != 0)
			return;
		s->sent++;
	}
}

static void
on_est(struct linkconn *c, void *arg)
{
	struct side *s = arg;
	const struct link *l = linkconn_link(c);

	s->established = true;
	s->peer_anon = link_peer_is_anonymous(l);
	if (link_peer_identity(l, s->peer_id) != 0)
		memset(s->peer_id, 0, sizeof(s->peer_id));
	if (link_handshake_hash(l, s->h) != 0)
		memset(s->h, 0, sizeof(s->h));
	if (s->pause_on_est)
		linkconn_pause_reading(c);
	pump(s);
}

static void
on_frame(struct linkconn *c, const struct link_frame *fr, void *arg)
{
	struct side *s = arg;
	uint64_t seq;

	if (fr->type != LINK_FRAME_PACKET || fr->len != LINK_PACKET_LEN) {
		s->bad_order++;
		return;
	}
	memcpy(&seq, fr->data, sizeof(seq));
	if (seq != s->got || fr->data[LINK_PACKET_LEN - 1] != (uint8_t)(seq & 0xff))
		s->bad_order++;
	s->got++;
	if (s->peer && s->got == s->peer->target && --pending_sides == 0)
		event_base_loopbreak(s->base);
	if (s->free_on_frame) {
		linkconn_free(c);
		s->c = NULL;
		event_base_loopbreak(s->base);
	}
}

static void
on_drain(struct linkconn *c, void *arg)
{
	pump(arg);
}

static void
on_close(struct linkconn *c, int err, void *arg)
{
	struct side *s = arg;

	s->closed = true;
	s->close_err = err;
	s->c = NULL;
	if (--pending_sides <= 0)
		event_base_loopbreak(s->base);
}

static const struct linkconn_callbacks cbs = { on_est, on_frame, on_drain, on_close };

static void
make_pair(int fds[2])
{
	CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, fds), 0);
	evutil_make_socket_nonblocking(fds[0]);
	evutil_make_socket_nonblocking(fds[1]);
}

static struct linkconn *
conn_initiator(struct event_base *base, int fd, bool anonymous, const struct linkconn_limits *lim,
	       struct side *s)
{
	struct link *l;
	struct bufferevent *bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);

	CHECK_EQ(link_new_initiator(&l, lk_r->pk, id_r->pk, anonymous ? NULL : id_i), 0);
	s->base = base;
	return linkconn_new(base, bev, l, "initiator", lim, &cbs, s);
}

static struct linkconn *
conn_responder(struct event_base *base, int fd, const struct linkconn_limits *lim, struct side *s)
{
	struct bufferevent *bev = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);

	s->base = base;
	return linkconn_new(base, bev, link_new_responder(lk_r, id_r), "responder", lim, &cbs, s);
}

/* Run the loop until something breaks it, or give up after ms. */
static void
run_for(struct event_base *base, unsigned ms)
{
	struct timeval tv = { ms / 1000, (ms % 1000) * 1000 };

	event_base_loopexit(base, &tv);
	event_base_dispatch(base);
}

static void
test_exchange_10000(void)
{
	struct event_base *base = event_base_new();
	struct linkconn_limits lim;
	struct side a = { 0 }, b = { 0 };
	int fds[2];

	linkconn_limits_default(&lim);
	lim.frames_per_sec = 0;
	make_pair(fds);
	a.target = b.target = 10000;
	a.peer = &b;
	b.peer = &a;
	a.c = conn_initiator(base, fds[0], false, &lim, &a);
	b.c = conn_responder(base, fds[1], &lim, &b);
	pending_sides = 2;
	run_for(base, 30000);
	CHECK(a.established && b.established);
	CHECK_EQ(a.sent, 10000);
	CHECK_EQ(b.sent, 10000);
	CHECK_EQ(a.got, 10000);
	CHECK_EQ(b.got, 10000);
	CHECK_EQ(a.bad_order + b.bad_order, 0);
	CHECK(!a.closed && !b.closed);
	CHECK(sodium_memcmp(a.peer_id, id_r->pk, ID_PK_LEN) == 0);
	CHECK(sodium_memcmp(b.peer_id, id_i->pk, ID_PK_LEN) == 0);
	CHECK(!a.peer_anon && !b.peer_anon);
	CHECK(sodium_memcmp(a.h, b.h, LINK_HASH_LEN) == 0);
	if (a.c) {
		struct linkconn_stats st;

		linkconn_get_stats(a.c, &st);
		CHECK_EQ(st.frames_in, 10000);
		CHECK(st.frames_out >= 10000);
	}
	/* A graceful close: the peer sees ERR_CLOSED, we see 0. */
	pending_sides = 2;
	if (a.c)
		linkconn_close(a.c, LINK_CLOSE_SHUTDOWN);
	run_for(base, 5000);
	CHECK(a.closed && b.closed);
	CHECK_EQ(a.close_err, 0);
	CHECK_EQ(b.close_err, ERR_CLOSED);
	event_base_free(base);
}

static void
test_anonymous_client(void)
{
	struct event_base *base = event_base_new();
	struct linkconn_limits lim;
	struct side a = { 0 }, b = { 0 };
	int fds[2];

	linkconn_limits_default(&lim);
	make_pair(fds);
	a.target = b.target = 50;
	a.peer = &b;
	b.peer = &a;
	a.c = conn_initiator(base, fds[0], true, &lim, &a);
	b.c = conn_responder(base, fds[1], &lim, &b);
	pending_sides = 2;
	run_for(base, 10000);
	CHECK_EQ(a.got, 50);
	CHECK_EQ(b.got, 50);
	CHECK(b.peer_anon);
	CHECK(sodium_is_zero(b.peer_id, ID_PK_LEN));
	CHECK(sodium_memcmp(a.peer_id, id_r->pk, ID_PK_LEN) == 0);
	linkconn_free(a.c);
	linkconn_free(b.c);
	event_base_free(base);
}

static void
test_backpressure(void)
{
	struct event_base *base = event_base_new();
	struct linkconn_limits lim;
	struct side a = { 0 }, b = { 0 };
	size_t stuck;
	int fds[2];

	linkconn_limits_default(&lim);
	lim.frames_per_sec = 0;
	lim.out_max = 16 * LINK_RECORD_LEN;
	lim.out_low = 4 * LINK_RECORD_LEN;
	make_pair(fds);
	a.target = 3000;
	a.peer = &b;
	b.peer = &a;
	b.pause_on_est = true;	/* b stops reading at once */
	a.c = conn_initiator(base, fds[0], false, &lim, &a);
	b.c = conn_responder(base, fds[1], &lim, &b);
	pending_sides = 1;
	run_for(base, 300);
	/* The socket and a's output filled up; b read nothing. */
	CHECK(a.established && b.established);
	CHECK_EQ(b.got, 0);
	CHECK(a.full > 0);
	CHECK(a.sent < a.target);
	CHECK(a.c && linkconn_output_len(a.c) > lim.out_low);
	CHECK(b.c && linkconn_is_paused(b.c));
	stuck = a.sent;
	run_for(base, 100);
	CHECK_EQ(a.sent, stuck);	/* still stuck: nothing grows */
	CHECK(a.c && linkconn_output_len(a.c) <= lim.out_max + LINK_RECORD_LEN);
	/* Resume: everything flows. */
	if (b.c)
		linkconn_resume_reading(b.c);
	run_for(base, 30000);
	CHECK_EQ(a.sent, a.target);
	CHECK_EQ(b.got, a.target);
	CHECK_EQ(b.bad_order, 0);
	CHECK(!a.closed && !b.closed);
	linkconn_free(a.c);
	linkconn_free(b.c);
	event_base_free(base);
}

static void
test_rate_limit(void)
{
	struct event_base *base = event_base_new();
	struct linkconn_limits lim;
	struct side a = { 0 }, b = { 0 };
	struct linkconn_stats st = { 0 };
	int fds[2];

	linkconn_limits_default(&lim);
	lim.frames_per_sec = 2000;
	lim.frames_burst = 10;
	make_pair(fds);
	a.target = 200;
	a.peer = &b;
	b.peer = &a;
	a.c = conn_initiator(base, fds[0], false, &lim, &a);
	b.c = conn_responder(base, fds[1], &lim, &b);
	pending_sides = 1;
	run_for(base, 20000);
	CHECK_EQ(b.got, 200);
	CHECK_EQ(b.bad_order, 0);
	if (b.c)
		linkconn_get_stats(b.c, &st);
	CHECK(st.rate_pauses > 0);
	CHECK(!b.closed);
	linkconn_free(a.c);
	linkconn_free(b.c);
	event_base_free(base);
}

static void
test_handshake_timeout(void)
{
	struct event_base *base = event_base_new();
	struct linkconn_limits lim;
	struct side a = { 0 }, b = { 0 };
	int fds[2], fds2[2];

	linkconn_limits_default(&lim);
	lim.handshake_ms = 200;
	/* A responder whose peer never speaks, and an initiator whose peer
	 * never answers. */
	make_pair(fds);
	make_pair(fds2);
	b.c = conn_responder(base, fds[1], &lim, &b);
	a.c = conn_initiator(base, fds2[0], false, &lim, &a);
	pending_sides = 2;
	run_for(base, 10000);
	CHECK(a.closed && b.closed);
	CHECK_EQ(a.close_err, ERR_TIMEOUT);
	CHECK_EQ(b.close_err, ERR_TIMEOUT);
	close(fds[0]);
	close(fds2[1]);
	event_base_free(base);
}

static void
test_idle_and_keepalive(void)
{
	struct event_base *base = event_base_new();
	struct linkconn_limits lim, quiet;
	struct side a = { 0 }, b = { 0 };
	struct linkconn_stats st = { 0 };
	int fds[2];

	/* With keepalives well inside the idle limit, an idle link stays up. */
	linkconn_limits_default(&lim);
	lim.keepalive_ms = 50;
	lim.idle_ms = 1000;
	make_pair(fds);
	a.c = conn_initiator(base, fds[0], false, &lim, &a);
	b.c = conn_responder(base, fds[1], &lim, &b);
	pending_sides = 1;
	run_for(base, 1500);
	CHECK(a.established && b.established);
	CHECK(!a.closed && !b.closed);
	if (a.c)
		linkconn_get_stats(a.c, &st);
	CHECK(st.keepalives_out > 0);
	linkconn_free(a.c);
	linkconn_free(b.c);

	/* A peer that sends no keepalives is closed when idle. */
	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	quiet = lim;
	quiet.keepalive_ms = 0;
	quiet.idle_ms = 0;
	lim.idle_ms = 200;
	make_pair(fds);
	a.c = conn_initiator(base, fds[0], false, &quiet, &a);
	b.c = conn_responder(base, fds[1], &lim, &b);
	pending_sides = 2;
	run_for(base, 10000);
	CHECK(b.established);
	CHECK(b.closed);
	CHECK_EQ(b.close_err, ERR_TIMEOUT);
	CHECK(a.closed);	/* it saw the socket close */
	CHECK_EQ(a.close_err, ERR_CLOSED);
	linkconn_free(a.c);
	event_base_free(base);
}

static void
test_garbage_closes(void)
{
	struct event_base *base = event_base_new();
	struct linkconn_limits lim;
	struct side b = { 0 };
	uint8_t junk[3 * LINK_RECORD_LEN];
	int fds[2];

	linkconn_limits_default(&lim);
	make_pair(fds);
	b.c = conn_responder(base, fds[1], &lim, &b);
	randombytes_buf(junk, sizeof(junk));
	junk[0] = LINK_VERSION;
	CHECK_EQ(write(fds[0], junk, sizeof(junk)), (ssize_t)sizeof(junk));
	pending_sides = 1;
	run_for(base, 10000);
	CHECK(b.closed);
	CHECK(b.close_err == ERR_AUTH || b.close_err == ERR_WEAK_KEY);
	close(fds[0]);
	event_base_free(base);
}

static void
test_free_in_callback(void)
{
	struct event_base *base = event_base_new();
	struct linkconn_limits lim;
	struct side a = { 0 }, b = { 0 };
	int fds[2];

	linkconn_limits_default(&lim);
	make_pair(fds);
	a.target = 20;
	b.free_on_frame = true;
	a.c = conn_initiator(base, fds[0], false, &lim, &a);
	b.c = conn_responder(base, fds[1], &lim, &b);
	pending_sides = 1;
	run_for(base, 10000);
	CHECK_EQ(b.got, 1);
	CHECK(b.c == NULL && !b.closed);	/* freed by the app: no on_close */
	pending_sides = 1;
	run_for(base, 10000);
	CHECK(a.closed);	/* a saw the socket go away */
	event_base_free(base);
}

int
main(int argc, char **argv)
{
	(void)argc;
	check_begin(argv[0]);
	crypto_init();
	signal(SIGPIPE, SIG_IGN);	/* as every daemon does: a closed peer is an EPIPE */
	id_r = id_keypair_new();
	id_i = id_keypair_new();
	lk_r = x_keypair_new();

	RUN(test_exchange_10000);
	RUN(test_anonymous_client);
	RUN(test_backpressure);
	RUN(test_rate_limit);
	RUN(test_handshake_timeout);
	RUN(test_idle_and_keepalive);
	RUN(test_garbage_closes);
	RUN(test_free_in_callback);

	id_keypair_free(id_r);
	id_keypair_free(id_i);
	x_keypair_free(lk_r);
	return check_end();
}
