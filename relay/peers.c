/* Links: the relay's connections, each a common/link state machine on a
 * libevent bufferevent. Incoming links come from clients (anonymous) and
 * relays (authenticated); outgoing links are dialed by node id from the
 * consensus, reused for every packet to that node and dialed again when
 * they drop. Limits: handshake timeout, idle timeout, maximum connections,
 * a per-peer read rate; a peer that breaks the protocol is closed and
 * logged at info. Backpressure: when a next hop's output buffer passes its
 * high mark, reading stops on every link until it drains. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <sodium.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "common/dirdoc.h"
#include "common/link.h"
#include "common/log.h"
#include "common/util.h"
#include "relay/relay_int.h"

#define OUT_HIGH (256 * LINK_RECORD_LEN)	/* pause readers above this */
#define OUT_LOW (64 * LINK_RECORD_LEN)		/* resume below this */
#define OUT_HARD (2048 * LINK_RECORD_LEN)	/* refuse packets above this */
#define PENDING_MAX 256				/* packets held while dialing */
#define READ_HIGH (64 * LINK_RECORD_LEN)

struct conn {
	struct conn *next;
	struct peers *p;
	uint64_t id;
	struct bufferevent *bev;
	struct link *link;
	bool outgoing, established, anon, dead, congested, has_node;
	uint8_t node_id[NODE_ID_LEN];
	char fp[FINGERPRINT_LEN + 1];
	uint64_t started_ns, last_rx_ns, last_tx_ns;
	uint8_t (*pending)[SPHINX_PACKET_LEN];
	size_t npend;
};

struct peers {
	struct relay *r;
	struct evconnlistener *lis;
	uint16_t port;
	struct conn *conns;
	size_t nconns;
	uint64_t next_id;
	struct event *tick, *reaper;
	struct ev_token_bucket_cfg *rate;
	size_t ncongested;
	bool paused_mix;	/* the mix asked to pause input */
	bool paused;		/* reading is off on every link */
};

static struct log_ratelim rl_bad;

static void conn_close(struct conn *c, uint8_t reason, const char *why);

static void
update_pause(struct peers *p)
{
	/* A draining node reads nothing more: it only sends what it holds. */
	bool want = p->paused_mix || p->ncongested > 0 || p->r->draining;

	if (want == p->paused)
		return;
	p->paused = want;
	for (struct conn *c = p->conns; c; c = c->next) {
		if (c->dead)
			continue;
		if (want)
			bufferevent_disable(c->bev, EV_READ);
		else {
			c->last_rx_ns = mono_ns();
			bufferevent_enable(c->bev, EV_READ);
		}
	}
}

void
peers_pause_input(struct peers *p, bool pause)
{
	p->paused_mix = pause;
	update_pause(p);
}

static void
set_congested(struct conn *c, bool on)
{
	if (c->congested == on)
		return;
	c->congested = on;
	if (on)
		c->p->ncongested++;
	else
		c->p->ncongested--;
	update_pause(c->p);
}

static void
out_write(struct conn *c, const void *data, size_t len)
{
	if (c->dead)
		return;
	bufferevent_write(c->bev, data, len);
	c->last_tx_ns = mono_ns();
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > OUT_HIGH)
		set_congested(c, true);
}

static void
send_record_packet(struct conn *c, const uint8_t *pkt)
{
	uint8_t rec[LINK_RECORD_LEN];

	if (link_send_packet(c->link, pkt, rec) == 0)
		out_write(c, rec, sizeof(rec));
}

static void
flush_pending(struct conn *c)
{
	for (size_t i = 0; i < c->npend; i++)
		send_record_packet(c, c->pending[i]);
	FREE_AND_NULL(c->pending);
	c->npend = 0;
}

static void
conn_free(struct conn *c)
{
	struct peers *p = c->p;

	for (struct conn **pp = &p->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	p->nconns--;
	if (c->congested)
		set_congested(c, false);
	if (c->npend)
		p->r->st.dropped[DROP_LINK] += c->npend;
	free(c->pending);
	bufferevent_free(c->bev);
	link_free(c->link);
	free(c);
}

static void
reap(evutil_socket_t fd, short what, void *arg)
{
	struct peers *p = arg;
	struct conn *c = p->conns, *next;

	for (; c; c = next) {
		next = c->next;
		if (c->dead)
			conn_free(c);
	}
}

static void
conn_close(struct conn *c, uint8_t reason, const char *why)
{
	struct relay *r = c->p->r;

	if (c->dead)
		return;
	if (c->established && reason != LINK_CLOSE_PROTOCOL) {
		uint8_t rec[LINK_RECORD_LEN];

		if (link_send_close(c->link, reason, rec) == 0)
			bufferevent_write(c->bev, rec, sizeof(rec));
	}
	if (why)
		log_ratelim(&rl_bad, 30, LD_NET, "link %llu (%s%s): %s, closing",
			    (unsigned long long)c->id, c->outgoing ? "to " : "from ",
			    c->has_node ? c->fp : (c->anon ? "client" : "peer"), why);
	if (r->mbox && !c->outgoing)
		mailbox_conn_closed(r->mbox, c->id);
	c->dead = true;
	bufferevent_disable(c->bev, EV_READ);
	event_active(c->p->reaper, EV_TIMEOUT, 0);
}

static void
send_hs_output(struct conn *c)
{
	size_t len;
	const uint8_t *o = link_output(c->link, &len);

	if (o && len)
		out_write(c, o, len);
}

static void
established(struct conn *c)
{
	uint8_t idpk[ID_PK_LEN];
	struct relay *r = c->p->r;

	c->established = true;
	if (link_peer_identity(c->link, idpk) == 0) {
		node_id_of(c->node_id, idpk);
		key_fingerprint(c->fp, idpk, ID_PK_LEN);
		c->has_node = true;
	} else {
		c->anon = true;
	}
	if (c->outgoing)
		r->st.links_out++;
	else
		r->st.links_in++;
	log_debug(LD_NET, "link %llu established (%s)", (unsigned long long)c->id,
		  c->anon ? "client" : c->fp);
	if (c->outgoing)
		flush_pending(c);
}

static void
on_frame(struct conn *c, const struct link_frame *fr)
{
	struct relay *r = c->p->r;

	switch (fr->type) {
	case LINK_FRAME_PACKET:
		if (fr->len != SPHINX_PACKET_LEN) {
			conn_close(c, LINK_CLOSE_PROTOCOL, "bad packet frame");
			return;
		}
		r->st.packets_in++;
		mix_packet_in(r->mix, fr->data);
		break;
	case LINK_FRAME_CONTROL:
		if (r->mbox && !c->outgoing)
			mailbox_control(r->mbox, c->id, fr->data, fr->len);
		break;
	case LINK_FRAME_KEEPALIVE:
		break;
	case LINK_FRAME_CLOSE:
		conn_close(c, LINK_CLOSE_NORMAL, NULL);
		break;
	}
}

static void
on_read(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;
	struct evbuffer *in = bufferevent_get_input(bev);

	c->last_rx_ns = mono_ns();
	while (!c->dead && evbuffer_get_length(in) > 0) {
		size_t len = evbuffer_get_length(in), used = 0;
		const uint8_t *data;
		enum link_event ev;
		struct link_frame fr;
		int rc;

		if (len > LINK_RECORD_LEN)
			len = LINK_RECORD_LEN;
		data = evbuffer_pullup(in, (ev_ssize_t)len);
		rc = link_feed(c->link, data, len, &used, &ev, &fr);
		if (rc != 0) {
			c->p->r->st.links_bad++;
			conn_close(c, LINK_CLOSE_PROTOCOL, err_str(rc));
			return;
		}
		switch (ev) {
		case LINK_EV_OUTPUT:
			send_hs_output(c);
			break;
		case LINK_EV_ESTABLISHED:
			send_hs_output(c);
			established(c);
			break;
		case LINK_EV_FRAME:
			on_frame(c, &fr);
			break;
		case LINK_EV_NONE:
			break;
		}
		evbuffer_drain(in, used);
		if (used == 0 && ev == LINK_EV_NONE)
			break;
	}
}

static void
on_write(struct bufferevent *bev, void *arg)
{
	struct conn *c = arg;

	if (evbuffer_get_length(bufferevent_get_output(bev)) <= OUT_LOW)
		set_congested(c, false);
	if (c->p->r->draining)
		relay_drain_check(c->p->r);
}

static void
on_event(struct bufferevent *bev, short what, void *arg)
{
	struct conn *c = arg;

	if (what & BEV_EVENT_CONNECTED) {
		int one = 1;

		setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		send_hs_output(c);
		return;
	}
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) {
		if (c->outgoing && !c->established)
			c->p->r->st.links_failed++;
		conn_close(c, LINK_CLOSE_NORMAL, c->established ? NULL : "closed during handshake");
	}
}

static struct conn *
conn_new(struct peers *p, struct bufferevent *bev, struct link *l, bool outgoing)
{
	struct conn *c = xcalloc(1, sizeof(*c));

	c->p = p;
	c->id = ++p->next_id;
	c->bev = bev;
	c->link = l;
	c->outgoing = outgoing;
	c->started_ns = c->last_rx_ns = c->last_tx_ns = mono_ns();
	c->next = p->conns;
	p->conns = c;
	p->nconns++;
	bufferevent_setcb(bev, on_read, on_write, on_event, c);
	bufferevent_setwatermark(bev, EV_READ, 0, READ_HIGH);
	bufferevent_setwatermark(bev, EV_WRITE, OUT_LOW, 0);
	if (!outgoing && p->rate)
		bufferevent_set_rate_limit(bev, p->rate);
	if (!p->paused)
		bufferevent_enable(bev, EV_READ | EV_WRITE);
	else
		bufferevent_enable(bev, EV_WRITE);
	return c;
}

static void
on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa, int slen,
	  void *arg)
{
	struct peers *p = arg;
	struct relay *r = p->r;
	struct bufferevent *bev;
	int one = 1;

	if (r->draining || p->nconns >= r->cfg.max_connections) {
		r->st.links_failed++;
		log_ratelim(&rl_bad, 30, LD_NET, "connection limit reached, refusing a peer");
		evutil_closesocket(fd);
		return;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	bev = bufferevent_socket_new(r->base, fd, BEV_OPT_CLOSE_ON_FREE);
	conn_new(p, bev, link_new_responder(r->link, r->id), false);
}

static struct conn *
find_node(struct peers *p, const uint8_t node_id[static NODE_ID_LEN])
{
	struct conn *best = NULL;

	for (struct conn *c = p->conns; c; c = c->next) {
		if (c->dead || !c->has_node)
			continue;
		if (sodium_memcmp(c->node_id, node_id, NODE_ID_LEN) != 0)
			continue;
		if (c->established)
			return c;
		if (c->outgoing)
			best = c;
	}
	return best;
}

static struct conn *
dial(struct peers *p, const uint8_t node_id[static NODE_ID_LEN])
{
	struct relay *r = p->r;
	const struct dirdoc_relay *dr;
	struct sockaddr_in sin;
	struct bufferevent *bev;
	struct link *l = NULL;
	struct conn *c;

	if (r->cons == NULL || (dr = dirdoc_relay_find(r->cons, node_id)) == NULL)
		return NULL;
	if (p->nconns >= r->cfg.max_connections)
		return NULL;
	if (link_new_initiator(&l, dr->link_pk, dr->id_pk, r->id) != 0)
		return NULL;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(dr->port);
	if (inet_pton(AF_INET, dr->host, &sin.sin_addr) != 1) {
		link_free(l);
		return NULL;
	}
	bev = bufferevent_socket_new(r->base, -1, BEV_OPT_CLOSE_ON_FREE);
	c = conn_new(p, bev, l, true);
	memcpy(c->node_id, node_id, NODE_ID_LEN);
	key_fingerprint(c->fp, dr->id_pk, ID_PK_LEN);
	c->has_node = true;
	if (bufferevent_socket_connect(bev, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		r->st.links_failed++;
		conn_close(c, LINK_CLOSE_NORMAL, NULL);
		return NULL;
	}
	log_debug(LD_NET, "dialing %s at %s:%u", c->fp, dr->host, dr->port);
	return c;
}

int
peers_send_packet(struct peers *p, const uint8_t node_id[static NODE_ID_LEN],
		  const uint8_t pkt[static SPHINX_PACKET_LEN])
{
	struct conn *c = find_node(p, node_id);

	if (c == NULL && (c = dial(p, node_id)) == NULL)
		return p->r->cons && dirdoc_relay_find(p->r->cons, node_id) ? ERR_CLOSED
								       : ERR_NOT_FOUND;
	if (evbuffer_get_length(bufferevent_get_output(c->bev)) > OUT_HARD)
		return ERR_FULL;
	if (c->established) {
		send_record_packet(c, pkt);
		return 0;
	}
	if (c->npend >= PENDING_MAX)
		return ERR_FULL;
	if (c->pending == NULL)
		c->pending = xmalloc(PENDING_MAX * SPHINX_PACKET_LEN);
	memcpy(c->pending[c->npend++], pkt, SPHINX_PACKET_LEN);
	return 0;
}

static struct conn *
find_id(struct peers *p, uint64_t id)
{
	for (struct conn *c = p->conns; c; c = c->next)
		if (c->id == id && !c->dead)
			return c;
	return NULL;
}

int
peers_send_control(struct peers *p, uint64_t conn, const uint8_t *msg, size_t len)
{
	struct conn *c = find_id(p, conn);
	uint8_t out[LINK_CONTROL_RECORDS * LINK_RECORD_LEN + LINK_RECORD_LEN];
	size_t olen = 0;

	if (c == NULL || !c->established)
		return ERR_CLOSED;
	if (link_send_control(c->link, msg, len, out, sizeof(out), &olen) != 0)
		return ERR_CLOSED;
	out_write(c, out, olen);
	return 0;
}

int
peers_handshake_hash(struct peers *p, uint64_t conn, uint8_t h[static 32])
{
	struct conn *c = find_id(p, conn);

	if (c == NULL)
		return ERR_CLOSED;
	return link_handshake_hash(c->link, h);
}

/* Once a second: handshake and idle timeouts, keepalives. */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct peers *p = arg;
	struct relay *r = p->r;
	uint64_t now = mono_ns();
	uint64_t hs = (uint64_t)r->cfg.handshake_timeout_s * 1000000000ull;
	uint64_t idle = (uint64_t)r->cfg.idle_timeout_s * 1000000000ull;

	for (struct conn *c = p->conns; c; c = c->next) {
		if (c->dead)
			continue;
		if (!c->established) {
			if (now - c->started_ns > hs) {
				r->st.links_bad++;
				conn_close(c, LINK_CLOSE_PROTOCOL, "handshake timeout");
			}
			continue;
		}
		if (!p->paused && now - c->last_rx_ns > idle) {
			conn_close(c, LINK_CLOSE_IDLE, "idle timeout");
			continue;
		}
		if (c->outgoing && now - c->last_tx_ns > idle / 3) {
			uint8_t rec[LINK_RECORD_LEN];

			if (link_send_keepalive(c->link, rec) == 0)
				out_write(c, rec, sizeof(rec));
		}
	}
}

void
peers_apply_limits(struct peers *p)
{
	struct relay *r = p->r;

	if (p->rate) {
		ev_token_bucket_cfg_free(p->rate);
		p->rate = NULL;
	}
	if (r->cfg.peer_rate_limit) {
		size_t rate = (size_t)r->cfg.peer_rate_limit * LINK_RECORD_LEN;

		if (rate > 0x7fffffff)
			rate = 0x7fffffff;
		p->rate = ev_token_bucket_cfg_new(rate, rate, EV_RATE_LIMIT_MAX, EV_RATE_LIMIT_MAX,
						  NULL);
	}
	for (struct conn *c = p->conns; c; c = c->next)
		if (!c->outgoing && !c->dead)
			bufferevent_set_rate_limit(c->bev, p->rate);
}

int
peers_new(struct peers **out, struct relay *r)
{
	struct peers *p = xcalloc(1, sizeof(*p));
	struct sockaddr_in sin;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct timeval tv = { 1, 0 };

	*out = NULL;
	p->r = r;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(r->cfg.listen_port);
	if (inet_pton(AF_INET, r->cfg.listen_host, &sin.sin_addr) != 1) {
		free(p);
		return ERR_CONFIG;
	}
	p->lis = evconnlistener_new_bind(r->base, on_accept, p,
					 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 128,
					 (struct sockaddr *)&sin, sizeof(sin));
	if (p->lis == NULL) {
		log_err(LD_NET, "cannot listen on %s:%u: %s", r->cfg.listen_host,
			r->cfg.listen_port, strerror(errno));
		free(p);
		return ERR_IO;
	}
	if (getsockname(evconnlistener_get_fd(p->lis), (struct sockaddr *)&ss, &sl) == 0)
		p->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	p->tick = event_new(r->base, -1, EV_PERSIST, on_tick, p);
	event_add(p->tick, &tv);
	p->reaper = event_new(r->base, -1, 0, reap, p);
	peers_apply_limits(p);
	*out = p;
	return 0;
}

void
peers_close_all(struct peers *p)
{
	if (p->lis) {
		evconnlistener_free(p->lis);
		p->lis = NULL;
	}
	for (struct conn *c = p->conns; c; c = c->next)
		conn_close(c, LINK_CLOSE_SHUTDOWN, NULL);
}

void
peers_free(struct peers *p)
{
	if (p == NULL)
		return;
	if (p->lis)
		evconnlistener_free(p->lis);
	while (p->conns)
		conn_free(p->conns);
	event_free(p->tick);
	event_free(p->reaper);
	if (p->rate)
		ev_token_bucket_cfg_free(p->rate);
	free(p);
}

uint16_t
peers_port(const struct peers *p)
{
	return p->port;
}

size_t
peers_output_bytes(const struct peers *p)
{
	size_t n = 0;

	for (const struct conn *c = p->conns; c; c = c->next)
		if (!c->dead)
			n += evbuffer_get_length(bufferevent_get_output(c->bev));
	return n;
}

void
peers_counts(const struct peers *p, size_t *in, size_t *out, size_t *anon)
{
	*in = *out = *anon = 0;
	for (const struct conn *c = p->conns; c; c = c->next) {
		if (c->dead || !c->established)
			continue;
		if (c->anon)
			(*anon)++;
		else if (c->outgoing)
			(*out)++;
		else
			(*in)++;
	}
}
