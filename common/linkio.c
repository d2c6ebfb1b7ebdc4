/* A link over a libevent bufferevent (common/linkio.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

#include "common/link.h"
#include "common/linkio.h"
#include "common/log.h"
#include "common/util.h"

#define MS_NS 1000000ull

struct linkconn {
	struct event_base *base;
	struct bufferevent *bev;
	struct link *link;
	char name[64];
	struct linkconn_limits lim;
	struct linkconn_callbacks cb;
	void *arg;

	struct event *tick;	/* handshake, idle, keepalive and flush deadlines */
	struct event *kick;	/* run the input loop on the next turn */
	struct event *reap;	/* call on_close and free, outside any callback */
	struct event *rate_ev;	/* wake up when the frame bucket has a token */

	uint64_t t_start, t_rx, t_tx, t_close;	/* mono_ns */
	uint64_t tokens_milli;	/* frame tokens, in thousandths */
	uint64_t t_refill;

	bool established;
	bool app_paused, rate_paused;
	bool closing;		/* linkconn_close: draining output */
	bool dead;		/* reap scheduled */
	bool freed;		/* linkconn_free called inside a callback */
	bool on_close_done;
	int close_err;
	int depth;		/* callbacks of ours on the stack */
	struct linkconn_stats st;
};

static struct log_ratelim rl_peer;

void
linkconn_limits_default(struct linkconn_limits *lim)
{
	memset(lim, 0, sizeof(*lim));
	lim->handshake_ms = 10000;
	lim->idle_ms = 180000;
	lim->keepalive_ms = 60000;
	lim->close_flush_ms = 2000;
	lim->frames_per_sec = 2000;
	lim->frames_burst = 200;
	lim->in_max = 8 * LINK_RECORD_LEN;
	lim->out_low = 16 * LINK_RECORD_LEN;
	lim->out_max = 256 * LINK_RECORD_LEN;
}

static void destroy(struct linkconn *c);
static void schedule_tick(struct linkconn *c);

static void
update_reading(struct linkconn *c)
{
	if (c->dead || c->closing || c->app_paused || c->rate_paused)
		bufferevent_disable(c->bev, EV_READ);
	else
		bufferevent_enable(c->bev, EV_READ);
}

/* End the connection: reading and writing stop now, on_close runs on the
 * next turn of the loop. */
static void
terminate(struct linkconn *c, int err)
{
	if (c->dead)
		return;
	c->dead = true;
	c->close_err = err;
	bufferevent_disable(c->bev, EV_READ | EV_WRITE);
	event_active(c->reap, 0, 0);
}

/* A peer's fault: log at info, rate limited, and close. */
static void
peer_fault(struct linkconn *c, int err)
{
	log_ratelim(&rl_peer, 30, LD_NET, "link %s: %s, closing", c->name, err_str(err));
	terminate(c, err);
}

static void
enter(struct linkconn *c)
{
	c->depth++;
}

/* Leave a callback; return true if the connection is gone. */
static bool
leave(struct linkconn *c)
{
	if (--c->depth == 0 && c->freed) {
		destroy(c);
		return true;
	}
	return c->freed;
}

static void
flush_handshake(struct linkconn *c)
{
	size_t len;
	const uint8_t *p = link_output(c->link, &len);

	if (p) {
		evbuffer_add(bufferevent_get_output(c->bev), p, len);
		c->st.bytes_out += len;
		c->t_tx = mono_ns();
	}
}

/* Take a frame token; false when the bucket is empty. */
static bool
take_token(struct linkconn *c)
{
	uint64_t now, cap, add;

	if (c->lim.frames_per_sec == 0)
		return true;
	now = mono_ns();
	cap = (uint64_t)MAX(c->lim.frames_burst, 1u) * 1000;
	add = (now - c->t_refill) * c->lim.frames_per_sec / MS_NS;	/* thousandths */
	if (add) {
		c->tokens_milli = MIN(cap, c->tokens_milli + add);
		c->t_refill = now;
	}
	if (c->tokens_milli < 1000)
		return false;
	c->tokens_milli -= 1000;
	return true;
}

static void
rate_pause(struct linkconn *c)
{
	uint64_t missing = 1000 - c->tokens_milli;
	uint64_t wait_us = missing * 1000000ull / ((uint64_t)c->lim.frames_per_sec * 1000) + 1;
	struct timeval tv = { (time_t)(wait_us / 1000000), (suseconds_t)(wait_us % 1000000) };

	c->rate_paused = true;
	c->st.rate_pauses++;
	update_reading(c);
	evtimer_add(c->rate_ev, &tv);
}

static void
handle_frame(struct linkconn *c, const struct link_frame *fr)
{
	switch (fr->type) {
	case LINK_FRAME_KEEPALIVE:
		break;
	case LINK_FRAME_CLOSE:
		log_debug(LD_NET, "link %s: peer closed (reason %u)", c->name, fr->close_reason);
		terminate(c, ERR_CLOSED);
		break;
	case LINK_FRAME_PACKET:
	case LINK_FRAME_CONTROL:
		if (c->cb.on_frame)
			c->cb.on_frame(c, fr, c->arg);
		break;
	}
}

/* Feed whole messages from the input buffer while reading is allowed. */
static void
process_input(struct linkconn *c)
{
	struct evbuffer *in = bufferevent_get_input(c->bev);

	enter(c);
	while (!c->dead && !c->closing && !c->freed && !c->app_paused && !c->rate_paused) {
		size_t want = link_want(c->link), used;
		enum link_event ev;
		struct link_frame fr;
		const uint8_t *p;
		int r;

		if (want == 0 || evbuffer_get_length(in) < want)
			break;
		if (c->established && !take_token(c)) {
			rate_pause(c);
			break;
		}
		p = evbuffer_pullup(in, (ssize_t)want);
		r = link_feed(c->link, p, want, &used, &ev, &fr);
		if (r != 0) {
			peer_fault(c, r);
			break;
		}
		evbuffer_drain(in, used);
		c->st.bytes_in += used;
		c->t_rx = mono_ns();
		switch (ev) {
		case LINK_EV_NONE:
			break;
		case LINK_EV_OUTPUT:
			flush_handshake(c);
			break;
		case LINK_EV_ESTABLISHED:
			flush_handshake(c);
			c->established = true;
			c->t_refill = c->t_rx;
			c->tokens_milli = (uint64_t)MAX(c->lim.frames_burst, 1u) * 1000;
			schedule_tick(c);
			if (c->cb.on_established)
				c->cb.on_established(c, c->arg);
			break;
		case LINK_EV_FRAME:
			c->st.frames_in++;
			handle_frame(c, &fr);
			break;
		}
	}
	leave(c);
}

static void
read_cb(struct bufferevent *bev, void *arg)
{
	process_input(arg);
}

static void
write_cb(struct bufferevent *bev, void *arg)
{
	struct linkconn *c = arg;

	if (c->dead)
		return;
	if (c->closing) {
		if (evbuffer_get_length(bufferevent_get_output(bev)) == 0)
			terminate(c, 0);
		return;
	}
	if (c->cb.on_drain) {
		enter(c);
		c->cb.on_drain(c, c->arg);
		leave(c);
	}
}

static void
event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct linkconn *c = arg;

	if (what & BEV_EVENT_CONNECTED)
		return;
	if (c->dead)
		return;
	if (what & BEV_EVENT_EOF) {
		if (!c->established && !c->closing)
			log_ratelim(&rl_peer, 30, LD_NET, "link %s: closed during handshake", c->name);
		else
			log_debug(LD_NET, "link %s: connection closed by peer", c->name);
		terminate(c, c->closing ? 0 : ERR_CLOSED);
	} else if (what & BEV_EVENT_ERROR) {
		log_ratelim(&rl_peer, 30, LD_NET, "link %s: socket error, closing", c->name);
		terminate(c, c->closing ? 0 : ERR_IO);
	}
}

static void
kick_cb(evutil_socket_t fd, short what, void *arg)
{
	process_input(arg);
}

static void
rate_cb(evutil_socket_t fd, short what, void *arg)
{
	struct linkconn *c = arg;

	c->rate_paused = false;
	update_reading(c);
	process_input(c);
}

static void
reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct linkconn *c = arg;

	if (!c->on_close_done && c->cb.on_close) {
		c->on_close_done = true;
		enter(c);
		c->cb.on_close(c, c->close_err, c->arg);
		c->depth--;
	}
	destroy(c);
}

static uint64_t
deadline_min(uint64_t a, uint64_t b)
{
	return a == 0 ? b : b == 0 ? a : MIN(a, b);
}

static void
schedule_tick(struct linkconn *c)
{
	uint64_t next = 0, now = mono_ns(), d;
	struct timeval tv;

	if (c->dead)
		return;
	if (c->closing) {
		next = c->t_close + (uint64_t)c->lim.close_flush_ms * MS_NS;
	} else {
		if (!c->established && c->lim.handshake_ms)
			next = deadline_min(next, c->t_start + c->lim.handshake_ms * MS_NS);
		if (c->lim.idle_ms)
			next = deadline_min(next, c->t_rx + c->lim.idle_ms * MS_NS);
		if (c->established && c->lim.keepalive_ms)
			next = deadline_min(next, c->t_tx + c->lim.keepalive_ms * MS_NS);
	}
	if (next == 0)
		return;
	d = next > now ? next - now : 0;
	tv.tv_sec = (time_t)(d / 1000000000ull);
	tv.tv_usec = (suseconds_t)(d % 1000000000ull / 1000 + 1);
	evtimer_add(c->tick, &tv);
}

static int
queue_keepalive(struct linkconn *c)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct evbuffer_iovec v;
	int r;

	if (evbuffer_reserve_space(out, LINK_RECORD_LEN, &v, 1) < 1 || v.iov_len < LINK_RECORD_LEN)
		return ERR_INTERNAL;
	if ((r = link_send_keepalive(c->link, v.iov_base)) != 0)
		return r;
	v.iov_len = LINK_RECORD_LEN;
	evbuffer_commit_space(out, &v, 1);
	c->st.frames_out++;
	c->st.keepalives_out++;
	c->st.bytes_out += LINK_RECORD_LEN;
	c->t_tx = mono_ns();
	return 0;
}

static void
tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct linkconn *c = arg;
	uint64_t now = mono_ns();

	if (c->dead)
		return;
	if (c->closing) {
		if (now >= c->t_close + (uint64_t)c->lim.close_flush_ms * MS_NS) {
			terminate(c, 0);
			return;
		}
	} else {
		/* A peer we stopped reading is not idle: its bytes wait on us. */
		if (c->app_paused || c->rate_paused)
			c->t_rx = now;
		if (!c->established && c->lim.handshake_ms &&
		    now >= c->t_start + c->lim.handshake_ms * MS_NS) {
			peer_fault(c, ERR_TIMEOUT);
			return;
		}
		if (c->lim.idle_ms && now >= c->t_rx + c->lim.idle_ms * MS_NS) {
			peer_fault(c, ERR_TIMEOUT);
			return;
		}
		if (c->established && c->lim.keepalive_ms &&
		    now >= c->t_tx + c->lim.keepalive_ms * MS_NS &&
		    linkconn_output_len(c) <= c->lim.out_max)
			(void)queue_keepalive(c);
	}
	schedule_tick(c);
}

struct linkconn *
linkconn_new(struct event_base *base, struct bufferevent *bev, struct link *link, const char *name,
	     const struct linkconn_limits *lim, const struct linkconn_callbacks *cb, void *arg)
{
	struct linkconn *c = xcalloc(1, sizeof(*c));

	c->base = base;
	c->bev = bev;
	c->link = link;
	snprintf(c->name, sizeof(c->name), "%s", name ? name : "?");
	c->lim = *lim;
	c->lim.in_max = MAX(c->lim.in_max, (size_t)LINK_RECORD_LEN);
	c->cb = *cb;
	c->arg = arg;
	c->tick = evtimer_new(base, tick_cb, c);
	c->kick = event_new(base, -1, 0, kick_cb, c);
	c->reap = event_new(base, -1, 0, reap_cb, c);
	c->rate_ev = evtimer_new(base, rate_cb, c);
	if (!c->tick || !c->kick || !c->reap || !c->rate_ev)
		fatal("out of memory for link events");
	c->t_start = c->t_rx = c->t_tx = mono_ns();

	bufferevent_setcb(bev, read_cb, write_cb, event_cb, c);
	bufferevent_setwatermark(bev, EV_READ, 0, c->lim.in_max);
	bufferevent_setwatermark(bev, EV_WRITE, c->lim.out_low, 0);
	flush_handshake(c);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
	schedule_tick(c);
	return c;
}

void
linkconn_set_limits(struct linkconn *c, const struct linkconn_limits *lim)
{
	c->lim = *lim;
	c->lim.in_max = MAX(c->lim.in_max, (size_t)LINK_RECORD_LEN);
	c->tokens_milli = MIN(c->tokens_milli, (uint64_t)MAX(c->lim.frames_burst, 1u) * 1000);
	bufferevent_setwatermark(c->bev, EV_READ, 0, c->lim.in_max);
	if (!c->closing)
		bufferevent_setwatermark(c->bev, EV_WRITE, c->lim.out_low, 0);
	if (c->dead)
		return;
	if (c->rate_paused && c->lim.frames_per_sec == 0) {
		evtimer_del(c->rate_ev);
		c->rate_paused = false;
		update_reading(c);
		event_active(c->kick, 0, 0);
	}
	evtimer_del(c->tick);
	schedule_tick(c);
}

static void
destroy(struct linkconn *c)
{
	event_free(c->tick);
	event_free(c->kick);
	event_free(c->reap);
	event_free(c->rate_ev);
	bufferevent_free(c->bev);
	link_free(c->link);
	free(c);
}

void
linkconn_free(struct linkconn *c)
{
	if (!c)
		return;
	if (c->depth > 0) {
		c->freed = true;
		c->on_close_done = true;
		bufferevent_disable(c->bev, EV_READ | EV_WRITE);
		return;
	}
	destroy(c);
}

static int
can_send(const struct linkconn *c)
{
	if (c->dead || c->closing || c->freed || !c->established)
		return ERR_CLOSED;
	if (linkconn_output_len(c) > c->lim.out_max)
		return ERR_FULL;
	return 0;
}

int
linkconn_send_packet(struct linkconn *c, const uint8_t pkt[static LINK_PACKET_LEN])
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct evbuffer_iovec v;
	int r;

	if ((r = can_send(c)) != 0)
		return r;
	if (evbuffer_reserve_space(out, LINK_RECORD_LEN, &v, 1) < 1 || v.iov_len < LINK_RECORD_LEN)
		return ERR_INTERNAL;
	if ((r = link_send_packet(c->link, pkt, v.iov_base)) != 0)
		return r;
	v.iov_len = LINK_RECORD_LEN;
	evbuffer_commit_space(out, &v, 1);
	c->st.frames_out++;
	c->st.bytes_out += LINK_RECORD_LEN;
	c->t_tx = mono_ns();
	return 0;
}

int
linkconn_send_control(struct linkconn *c, const uint8_t *p, size_t len)
{
	struct evbuffer *out = bufferevent_get_output(c->bev);
	struct evbuffer_iovec v;
	size_t need, wlen;
	int r;

	if (len > LINK_CONTROL_MAX)
		return ERR_TOO_BIG;
	if ((r = can_send(c)) != 0)
		return r;
	need = link_control_records(len) * LINK_RECORD_LEN;
	if (evbuffer_reserve_space(out, (ssize_t)need, &v, 1) < 1 || v.iov_len < need)
		return ERR_INTERNAL;
	if ((r = link_send_control(c->link, p, len, v.iov_base, need, &wlen)) != 0)
		return r;
	v.iov_len = wlen;
	evbuffer_commit_space(out, &v, 1);
	c->st.frames_out += wlen / LINK_RECORD_LEN;
	c->st.bytes_out += wlen;
	c->t_tx = mono_ns();
	return 0;
}

void
linkconn_close(struct linkconn *c, uint8_t reason)
{
	if (c->dead || c->closing || c->freed)
		return;
	if (c->established) {
		uint8_t rec[LINK_RECORD_LEN];

		if (link_send_close(c->link, reason, rec) == 0) {
			evbuffer_add(bufferevent_get_output(c->bev), rec, sizeof(rec));
			c->st.frames_out++;
			c->st.bytes_out += sizeof(rec);
		}
	}
	c->closing = true;
	c->t_close = mono_ns();
	update_reading(c);
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) == 0) {
		terminate(c, 0);
		return;
	}
	/* The write callback fires when output is empty. */
	bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
	evtimer_del(c->tick);
	schedule_tick(c);
}

void
linkconn_pause_reading(struct linkconn *c)
{
	c->app_paused = true;
	update_reading(c);
}

void
linkconn_resume_reading(struct linkconn *c)
{
	if (!c->app_paused)
		return;
	c->app_paused = false;
	update_reading(c);
	/* Records already buffered get no new read event: kick the loop. */
	if (!c->dead)
		event_active(c->kick, 0, 0);
}

bool
linkconn_is_paused(const struct linkconn *c)
{
	return c->app_paused;
}

size_t
linkconn_output_len(const struct linkconn *c)
{
	return evbuffer_get_length(bufferevent_get_output(c->bev));
}

bool
linkconn_is_established(const struct linkconn *c)
{
	return c->established;
}

const struct link *
linkconn_link(const struct linkconn *c)
{
	return c->link;
}

const char *
linkconn_name(const struct linkconn *c)
{
	return c->name;
}

void
linkconn_get_stats(const struct linkconn *c, struct linkconn_stats *st)
{
	*st = c->st;
}
