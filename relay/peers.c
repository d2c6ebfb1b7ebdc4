/* Links: the relay's connections, each a common/linkio connection (the
 * link state machine on a bufferevent, with its handshake and idle
 * timeouts, keepalives, frame rate limit and watermarks). Incoming links
 * come from clients (anonymous) and relays (authenticated, and accepted
 * only while the consensus lists them); outgoing links are dialed by node
 * id from the consensus, reused for every packet to that node and dialed
 * again when they drop. MaxConnections bounds both. Backpressure: when a
 * next hop's output passes OUT_HIGH, or the mix asks, reading stops on
 * every link until it drains. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <sodium.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "common/dirdoc.h"
#include "common/link.h"
#include "common/linkio.h"
#include "common/log.h"
#include "common/util.h"
#include "relay/relay_int.h"

#define OUT_HIGH (256 * LINK_RECORD_LEN)	/* pause readers above this */
#define OUT_LOW (64 * LINK_RECORD_LEN)		/* resume at or below this */
#define OUT_HARD (2048 * LINK_RECORD_LEN)	/* refuse packets above this */
#define PENDING_MAX 256				/* packets held while dialing */
#define READ_AHEAD (64 * LINK_RECORD_LEN)
#define VET_MS 3000		/* how long an unknown relay waits for a fresher consensus */

struct conn {
	struct conn *next;
	struct peers *p;
	uint64_t id;
	struct linkconn *lc;
	bool outgoing, established, anon, dead, congested, has_node;
	bool vetting;		/* authenticated relay not (yet) in our consensus */
	uint64_t vet_until_ns;
	uint8_t node_id[NODE_ID_LEN];
	char fp[FINGERPRINT_LEN + 1];
	uint32_t addr;		/* the peer's IPv4 address, network order */
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
	struct event *tick;
	size_t ncongested;
	bool paused_mix;	/* the mix asked to pause input */
	bool paused;		/* reading is off on every link */
};

static struct log_ratelim rl_bad;

static void
set_reading(struct conn *c)
{
	if (c->dead)
		return;
	if (c->p->paused || c->vetting)
		linkconn_pause_reading(c->lc);
	else
		linkconn_resume_reading(c->lc);
}

static void
update_pause(struct peers *p)
{
	/* A draining node reads nothing more: it only sends what it holds. */
	bool want = p->paused_mix || p->ncongested > 0 || p->r->draining;

	if (want == p->paused)
		return;
	p->paused = want;
	if (want)
		p->r->st.input_pauses++;
	for (struct conn *c = p->conns; c; c = c->next)
		set_reading(c);
}

void
peers_pause_input(struct peers *p, bool pause)
{
	p->paused_mix = pause;
	update_pause(p);
}

bool
peers_input_paused(const struct peers *p)
{
	return p->paused;
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
check_congested(struct conn *c)
{
	if (linkconn_output_len(c->lc) > OUT_HIGH)
		set_congested(c, true);
}

/* LinkSocketBuffer: a fixed kernel buffer per link bounds what a stalled
 * peer can hold of ours, and makes backpressure reach the sender sooner. */
static void
set_sockopts(const struct peers *p, int fd)
{
	int one = 1, sz = (int)p->r->cfg.link_sockbuf;

	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (sz) {
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sz, sizeof(sz));
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &sz, sizeof(sz));
	}
}

/* Dial from the address we listen on (unless that is 0.0.0.0), so that
 * the next hop sees the address the consensus lists for us, on a host
 * with several addresses as on loopback tests with 127.0.0.x. */
static void
bind_source(const struct peers *p, int fd)
{
	struct sockaddr_in src;

	memset(&src, 0, sizeof(src));
	src.sin_family = AF_INET;
	if (inet_pton(AF_INET, p->r->cfg.listen_host, &src.sin_addr) != 1 ||
	    src.sin_addr.s_addr == htonl(INADDR_ANY))
		return;
	if (bind(fd, (struct sockaddr *)&src, sizeof(src)) != 0)
		log_info(LD_NET, "cannot dial from %s: %s", p->r->cfg.listen_host,
			 strerror(errno));
}

static const char *
peer_label(const struct conn *c)
{
	return c->has_node ? c->fp : (c->anon ? "client" : "peer");
}

/* Mark c gone: it takes no more packets and its mailbox session ends. */
static void
mark_dead(struct conn *c)
{
	struct relay *r = c->p->r;

	if (c->dead)
		return;
	c->dead = true;
	if (c->congested)
		set_congested(c, false);
	if (c->npend) {
		r->st.dropped[DROP_LINK] += c->npend;
		c->npend = 0;
	}
	FREE_AND_NULL(c->pending);
	if (r->mbox && !c->outgoing)
		mailbox_conn_closed(r->mbox, c->id);
}

static void
conn_unlink(struct conn *c)
{
	struct peers *p = c->p;

	for (struct conn **pp = &p->conns; *pp; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	p->nconns--;
}

/* Close c: send CLOSE with reason and let linkconn flush; on_close frees. */
static void
conn_close(struct conn *c, uint8_t reason, const char *why)
{
	if (c->dead)
		return;
	if (why)
		log_ratelim(&rl_bad, 30, LD_NET, "link %llu (%s%s): %s, closing",
			    (unsigned long long)c->id, c->outgoing ? "to " : "from ", peer_label(c),
			    why);
	mark_dead(c);
	linkconn_close(c->lc, reason);
}

static void
flush_pending(struct conn *c)
{
	struct relay *r = c->p->r;

	for (size_t i = 0; i < c->npend; i++)
		if (linkconn_send_packet(c->lc, c->pending[i]) != 0)
			r->st.dropped[DROP_LINK]++;
	FREE_AND_NULL(c->pending);
	c->npend = 0;
	check_congested(c);
}

/* Is the relay behind an authenticated incoming link one we accept? */
static bool
vet(struct conn *c)
{
	return relay_find_node(c->p->r, c->node_id, time_now()) != NULL;
}

static void
accept_relay(struct conn *c)
{
	c->vetting = false;
	c->p->r->st.links_in++;
	log_debug(LD_NET, "link %llu established (%s)", (unsigned long long)c->id, c->fp);
	set_reading(c);
}

static void
on_established(struct linkconn *lc, void *arg)
{
	struct conn *c = arg;
	struct relay *r = c->p->r;
	uint8_t idpk[ID_PK_LEN];

	c->established = true;
	if (link_peer_identity(linkconn_link(lc), idpk) == 0) {
		if (!c->outgoing) {
			node_id_of(c->node_id, idpk);
			key_fingerprint(c->fp, idpk, ID_PK_LEN);
		}
		c->has_node = true;
	} else {
		c->anon = true;
	}
	if (c->outgoing) {
		r->st.links_out++;
		log_debug(LD_NET, "link %llu established (%s)", (unsigned long long)c->id, c->fp);
		flush_pending(c);
		return;
	}
	if (c->anon) {
		r->st.links_in++;
		log_debug(LD_NET, "link %llu established (client)", (unsigned long long)c->id);
		return;
	}
	if (vet(c)) {
		accept_relay(c);
		return;
	}
	/* A relay our consensus does not list yet: it may have joined in a
	 * consensus we have not fetched. Hold its frames unread while a
	 * fresher one is fetched; refuse it if that does not list it either. */
	c->vetting = true;
	c->vet_until_ns = mono_ns() + VET_MS * 1000000ull;
	set_reading(c);
	relay_refresh_consensus(r);
}

static void
refuse_unknown(struct conn *c)
{
	c->p->r->st.links_refused_unknown++;
	conn_close(c, LINK_CLOSE_UNKNOWN_PEER, "relay not in the consensus");
}

void
peers_consensus_changed(struct peers *p)
{
	for (struct conn *c = p->conns; c; c = c->next)
		if (!c->dead && c->vetting && vet(c))
			accept_relay(c);
}

static void
on_frame(struct linkconn *lc, const struct link_frame *fr, void *arg)
{
	struct conn *c = arg;
	struct relay *r = c->p->r;

	if (c->dead || c->vetting)
		return;
	switch (fr->type) {
	case LINK_FRAME_PACKET:
		if (fr->len != SPHINX_PACKET_LEN) {
			r->st.links_bad++;
			conn_close(c, LINK_CLOSE_PROTOCOL, "bad packet frame");
			return;
		}
		r->st.packets_in++;
		mix_packet_in(r->mix, fr->data, c->addr);
		break;
	case LINK_FRAME_CONTROL:
		if (r->mbox && !c->outgoing)
			mailbox_control(r->mbox, c->id, fr->data, fr->len);
		break;
	default:
		break;
	}
}

static void
on_drain(struct linkconn *lc, void *arg)
{
	struct conn *c = arg;

	set_congested(c, false);
}

static void
on_close(struct linkconn *lc, int err, void *arg)
{
	struct conn *c = arg;
	struct relay *r = c->p->r;

	if (c->outgoing && !c->established)
		r->st.links_failed++;
	/* Protocol faults and handshake timeouts are the peer's doing; an
	 * idle timeout, a socket error or an orderly close are not. */
	if (err != 0 && err != ERR_CLOSED && err != ERR_IO &&
	    !(err == ERR_TIMEOUT && c->established))
		r->st.links_bad++;
	if (!c->dead && err != 0 && err != ERR_CLOSED)
		log_ratelim(&rl_bad, 30, LD_NET, "link %llu (%s%s): %s", (unsigned long long)c->id,
			    c->outgoing ? "to " : "from ", peer_label(c), err_str(err));
	mark_dead(c);
	conn_unlink(c);
	free(c);
	if (r->draining)
		relay_drain_check(r);
}

static void
limits_for(const struct peers *p, bool outgoing, struct linkconn_limits *lim)
{
	const struct relay_config *cfg = &p->r->cfg;

	linkconn_limits_default(lim);
	lim->handshake_ms = cfg->handshake_timeout_s * 1000;
	lim->idle_ms = cfg->idle_timeout_s * 1000;
	lim->keepalive_ms = MAX(lim->idle_ms / 3, 1u);
	lim->close_flush_ms = 2000;
	/* PeerRateLimit bounds what one peer may feed us; our own dials are
	 * to relays we chose. */
	lim->frames_per_sec = outgoing ? 0 : cfg->peer_rate_limit;
	lim->frames_burst = MAX(cfg->peer_rate_limit, 1u);
	lim->in_max = READ_AHEAD;
	lim->out_low = OUT_LOW;
	lim->out_max = OUT_HARD;
}

static const struct linkconn_callbacks conn_cb = {
	.on_established = on_established,
	.on_frame = on_frame,
	.on_drain = on_drain,
	.on_close = on_close,
};

static struct conn *
conn_new(struct peers *p, struct bufferevent *bev, struct link *l, bool outgoing,
	 const char *name)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	struct linkconn_limits lim;

	c->p = p;
	c->id = ++p->next_id;
	c->outgoing = outgoing;
	c->next = p->conns;
	p->conns = c;
	p->nconns++;
	limits_for(p, outgoing, &lim);
	c->lc = linkconn_new(p->r->base, bev, l, name, &lim, &conn_cb, c);
	set_reading(c);
	return c;
}

static void
on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa, int slen,
	  void *arg)
{
	struct peers *p = arg;
	struct relay *r = p->r;
	struct bufferevent *bev;
	struct conn *c;
	char name[64] = "client";

	if (r->draining || p->nconns >= r->cfg.max_connections) {
		r->st.links_failed++;
		log_ratelim(&rl_bad, 30, LD_NET, "connection limit reached, refusing a peer");
		evutil_closesocket(fd);
		return;
	}
	set_sockopts(p, fd);
	evutil_make_socket_nonblocking(fd);
	bev = bufferevent_socket_new(r->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		evutil_closesocket(fd);
		return;
	}
	snprintf(name, sizeof(name), "in %llu", (unsigned long long)(p->next_id + 1));
	c = conn_new(p, bev, link_new_responder(r->link, r->id), false, name);
	if (sa->sa_family == AF_INET && (size_t)slen >= sizeof(struct sockaddr_in))
		c->addr = ((const struct sockaddr_in *)sa)->sin_addr.s_addr;
}

static struct conn *
find_node(struct peers *p, const uint8_t node_id[static NODE_ID_LEN])
{
	struct conn *best = NULL;

	for (struct conn *c = p->conns; c; c = c->next) {
		if (c->dead || !c->has_node || c->vetting)
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
dial(struct peers *p, const struct dirdoc_relay *dr)
{
	struct relay *r = p->r;
	struct sockaddr_in sin;
	struct bufferevent *bev;
	struct link *l = NULL;
	struct conn *c;
	char name[64];
	int fd;

	if (p->nconns >= r->cfg.max_connections)
		return NULL;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(dr->port);
	if (inet_pton(AF_INET, dr->host, &sin.sin_addr) != 1)
		return NULL;
	if (link_new_initiator(&l, dr->link_pk, dr->id_pk, r->id) != 0)
		return NULL;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0)) < 0) {
		link_free(l);
		return NULL;
	}
	set_sockopts(p, fd);
	bind_source(p, fd);
	bev = bufferevent_socket_new(r->base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (bev == NULL) {
		close(fd);
		link_free(l);
		return NULL;
	}
	if (bufferevent_socket_connect(bev, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		r->st.links_failed++;
		bufferevent_free(bev);
		link_free(l);
		return NULL;
	}
	snprintf(name, sizeof(name), "to %.40s:%u", dr->host, dr->port);
	c = conn_new(p, bev, l, true, name);
	memcpy(c->node_id, dr->node_id, NODE_ID_LEN);
	c->addr = sin.sin_addr.s_addr;
	key_fingerprint(c->fp, dr->id_pk, ID_PK_LEN);
	c->has_node = true;
	log_debug(LD_NET, "dialing %s at %s:%u", c->fp, dr->host, dr->port);
	return c;
}

int
peers_send_packet(struct peers *p, const uint8_t node_id[static NODE_ID_LEN],
		  const uint8_t pkt[static SPHINX_PACKET_LEN])
{
	struct conn *c = find_node(p, node_id);
	int rc;

	if (c == NULL) {
		const struct dirdoc_relay *dr = relay_find_node(p->r, node_id, time_now());

		if (dr == NULL)
			return ERR_NOT_FOUND;
		if ((c = dial(p, dr)) == NULL)
			return ERR_CLOSED;
	}
	if (c->established) {
		rc = linkconn_send_packet(c->lc, pkt);
		if (rc == 0)
			check_congested(c);
		return rc == ERR_FULL ? ERR_FULL : rc == 0 ? 0 : ERR_CLOSED;
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

	if (c == NULL || !c->established)
		return ERR_CLOSED;
	if (linkconn_send_control(c->lc, msg, len) != 0)
		return ERR_CLOSED;
	check_congested(c);
	return 0;
}

int
peers_handshake_hash(struct peers *p, uint64_t conn, uint8_t h[static 32])
{
	struct conn *c = find_id(p, conn);

	if (c == NULL)
		return ERR_CLOSED;
	return link_handshake_hash(linkconn_link(c->lc), h);
}

/* Four times a second: refuse relays whose vetting time ran out. */
static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct peers *p = arg;
	uint64_t now = mono_ns();

	for (struct conn *c = p->conns; c; c = c->next)
		if (!c->dead && c->vetting && now >= c->vet_until_ns)
			refuse_unknown(c);
}

void
peers_apply_limits(struct peers *p)
{
	struct linkconn_limits lim;

	for (struct conn *c = p->conns; c; c = c->next) {
		if (c->dead)
			continue;
		limits_for(p, c->outgoing, &lim);
		linkconn_set_limits(c->lc, &lim);
	}
}

int
peers_new(struct peers **out, struct relay *r)
{
	struct peers *p = xcalloc(1, sizeof(*p));
	struct sockaddr_in sin;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	struct timeval tv = { 0, 250 * 1000 };

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
	while (p->conns) {
		struct conn *c = p->conns;

		p->conns = c->next;
		if (c->npend)
			p->r->st.dropped[DROP_LINK] += c->npend;
		linkconn_free(c->lc);
		free(c->pending);
		free(c);
	}
	event_free(p->tick);
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
		n += linkconn_output_len(c->lc);
	return n;
}

void
peers_counts(const struct peers *p, size_t *in, size_t *out, size_t *anon)
{
	*in = *out = *anon = 0;
	for (const struct conn *c = p->conns; c; c = c->next) {
		if (c->dead || !c->established || c->vetting)
			continue;
		if (c->anon)
			(*anon)++;
		else if (c->outgoing)
			(*out)++;
		else
			(*in)++;
	}
}
