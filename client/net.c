/* Blocking link connections and an HTTP GET over libevent's evhttp. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "client/net.h"
#include "common/log.h"
#include "common/util.h"

struct net_conn {
	int fd;
	struct link *l;
	uint8_t rec[LINK_RECORD_LEN * (LINK_CONTROL_RECORDS + 1)];
	char name[DIRDOC_NICK_MAX + 1];
};

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t k = send(fd, p, n, MSG_NOSIGNAL);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return ERR_IO;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* Read up to n bytes, waiting at most until deadline (mono ns). */
static int
read_some(int fd, uint8_t *p, size_t n, uint64_t deadline, size_t *got)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t k;

	*got = 0;
	for (;;) {
		uint64_t now = mono_ns();
		int ms, pr;

		if (now >= deadline)
			return ERR_TIMEOUT;
		ms = (int)MIN((deadline - now) / 1000000 + 1, 60000u);
		pr = poll(&pfd, 1, ms);
		if (pr < 0 && errno == EINTR)
			continue;
		if (pr < 0)
			return ERR_IO;
		if (pr == 0)
			continue;
		k = recv(fd, p, n, 0);
		if (k < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (k < 0)
			return ERR_IO;
		if (k == 0)
			return ERR_CLOSED;
		*got = (size_t)k;
		return 0;
	}
}

/* Feed the link until one event other than NONE; *ev and *fr as link_feed. */
static int
next_event(struct net_conn *nc, uint64_t deadline, enum link_event *ev, struct link_frame *fr)
{
	for (;;) {
		size_t want = link_want(nc->l), got, used;
		int r;

		if (want == 0)
			return ERR_CLOSED;
		if (want > sizeof(nc->rec))
			want = sizeof(nc->rec);
		r = read_some(nc->fd, nc->rec, want, deadline, &got);
		if (r != 0)
			return r;
		r = link_feed(nc->l, nc->rec, got, &used, ev, fr);
		if (r != 0)
			return r;
		if (BUG(used != got))
			return ERR_INTERNAL;
		if (*ev != LINK_EV_NONE)
			return 0;
	}
}

static int
flush_output(struct net_conn *nc)
{
	size_t n;
	const uint8_t *p = link_output(nc->l, &n);

	return p && n ? write_all(nc->fd, p, n) : 0;
}

int
net_connect(struct net_conn **out, const struct dirdoc_relay *r, uint64_t timeout_ms)
{
	struct net_conn *nc = xcalloc(1, sizeof(*nc));
	struct sockaddr_in sa;
	uint64_t deadline = mono_ns() + timeout_ms * 1000000;
	int one = 1, rc;

	*out = NULL;
	snprintf(nc->name, sizeof(nc->name), "%s", r->nickname);
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons(r->port);
	if (inet_pton(AF_INET, r->host, &sa.sin_addr) != 1) {
		free(nc);
		return ERR_MALFORMED;
	}
	nc->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (nc->fd < 0) {
		free(nc);
		return ERR_IO;
	}
	(void)setsockopt(nc->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(nc->fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		log_info(LD_NET, "connect to %s (%s:%u): %s", r->nickname, r->host, r->port,
			 strerror(errno));
		close(nc->fd);
		free(nc);
		return ERR_IO;
	}
	rc = link_new_initiator(&nc->l, r->link_pk, r->id_pk, NULL);
	if (rc == 0)
		rc = flush_output(nc);
	while (rc == 0 && !link_is_established(nc->l)) {
		enum link_event ev;
		struct link_frame fr;

		rc = next_event(nc, deadline, &ev, &fr);
		if (rc == 0)
			rc = flush_output(nc);
	}
	if (rc == 0)
		rc = flush_output(nc);
	if (rc != 0) {
		log_info(LD_NET, "link to %s: %s", r->nickname, err_str(rc));
		link_free(nc->l);
		close(nc->fd);
		free(nc);
		return rc;
	}
	*out = nc;
	return 0;
}

void
net_close(struct net_conn *nc)
{
	uint8_t rec[LINK_RECORD_LEN];

	if (nc == NULL)
		return;
	if (link_is_established(nc->l) && !link_is_dead(nc->l) &&
	    link_send_close(nc->l, LINK_CLOSE_NORMAL, rec) == 0)
		(void)write_all(nc->fd, rec, sizeof(rec));
	shutdown(nc->fd, SHUT_WR);
	close(nc->fd);
	link_free(nc->l);
	free(nc);
}

int
net_handshake_hash(const struct net_conn *nc, uint8_t h[static LINK_HASH_LEN])
{
	return link_handshake_hash(nc->l, h);
}

int
net_send_packet(struct net_conn *nc, const uint8_t pkt[static LINK_PACKET_LEN])
{
	uint8_t rec[LINK_RECORD_LEN];
	int r = link_send_packet(nc->l, pkt, rec);

	return r ? r : write_all(nc->fd, rec, sizeof(rec));
}

int
net_send_control(struct net_conn *nc, const uint8_t *p, size_t len)
{
	size_t n;
	int r = link_send_control(nc->l, p, len, nc->rec, sizeof(nc->rec), &n);

	return r ? r : write_all(nc->fd, nc->rec, n);
}

int
net_recv_control(struct net_conn *nc, uint8_t *buf, size_t cap, size_t *len, uint64_t timeout_ms)
{
	uint64_t deadline = mono_ns() + timeout_ms * 1000000;

	*len = 0;
	for (;;) {
		enum link_event ev;
		struct link_frame fr;
		int r = next_event(nc, deadline, &ev, &fr);

		if (r != 0)
			return r;
		if (ev != LINK_EV_FRAME)
			continue;
		if (fr.type == LINK_FRAME_CLOSE)
			return ERR_CLOSED;
		if (fr.type != LINK_FRAME_CONTROL)
			continue;
		if (fr.len > cap)
			return ERR_TOO_BIG;
		memcpy(buf, fr.data, fr.len);
		*len = fr.len;
		return 0;
	}
}

struct http_get {
	struct event_base *base;
	size_t max;
	int status;
	int err;
	char *body;
	size_t len;
};

static void
http_done(struct evhttp_request *req, void *arg)
{
	struct http_get *g = arg;
	struct evbuffer *in;
	size_t n;

	event_base_loopbreak(g->base);
	if (req == NULL) {
		g->err = ERR_IO;
		return;
	}
	g->status = evhttp_request_get_response_code(req);
	if (g->status == 0) {
		g->err = ERR_IO;
		return;
	}
	if (g->status != 200) {
		g->err = ERR_NOT_FOUND;
		return;
	}
	in = evhttp_request_get_input_buffer(req);
	n = evbuffer_get_length(in);
	if (n > g->max) {
		g->err = ERR_TOO_BIG;
		return;
	}
	g->body = xmalloc(n + 1);
	evbuffer_remove(in, g->body, n);
	g->body[n] = '\0';
	g->len = n;
	g->err = 0;
}

int
net_http_get(const char *host, uint16_t port, const char *path, size_t max, uint64_t timeout_ms,
	     char **body, size_t *len)
{
	struct http_get g = { .max = max, .err = ERR_TIMEOUT };
	struct evhttp_connection *conn;
	struct evhttp_request *req;
	struct timeval tv = { (time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000 };

	*body = NULL;
	*len = 0;
	g.base = event_base_new();
	if (g.base == NULL)
		fatal("event_base_new failed");
	conn = evhttp_connection_base_new(g.base, NULL, host, port);
	if (conn == NULL) {
		event_base_free(g.base);
		return ERR_IO;
	}
	evhttp_connection_set_timeout_tv(conn, &tv);
	evhttp_connection_set_retries(conn, 0);
	req = evhttp_request_new(http_done, &g);
	evhttp_connection_set_max_body_size(conn, (ev_ssize_t)max);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host", host);
	if (evhttp_make_request(conn, req, EVHTTP_REQ_GET, path) != 0) {
		evhttp_connection_free(conn);
		event_base_free(g.base);
		return ERR_IO;
	}
	event_base_loopexit(g.base, &tv);
	event_base_dispatch(g.base);
	evhttp_connection_free(conn);
	event_base_free(g.base);
	if (g.err == 0) {
		*body = g.body;
		*len = g.len;
	} else {
		free(g.body);
	}
	return g.err;
}
