/* HTTP client requests over evhttp_connection, one connection per request,
 * freed on the loop turn after the request completes. */
#include "common/http.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "common/util.h"

struct http_call {
	http_done_fn done;
	void *arg;
	int err;	/* set by the error callback, before done runs */
	struct evhttp_connection *conn;
	struct event_base *base;
};

/* A connection is never freed inside its own callback: the reaper frees it
 * on the next turn of the loop. */
static void
reap(evutil_socket_t fd, short what, void *arg)
{
	evhttp_connection_free(arg);
}

static void
finish(struct http_call *call)
{
	static const struct timeval now = { 0, 0 };

	if (event_base_once(call->base, -1, EV_TIMEOUT, reap, call->conn, &now) != 0)
		fatal("event_base_once failed");
	free(call);
}

static void
on_error(enum evhttp_request_error e, void *arg)
{
	struct http_call *call = arg;

	switch (e) {
	case EVREQ_HTTP_TIMEOUT:
		call->err = ERR_TIMEOUT;
		break;
	case EVREQ_HTTP_DATA_TOO_LONG:
		call->err = ERR_TOO_BIG;
		break;
	default:
		call->err = ERR_IO;
		break;
	}
}

static void
on_done(struct evhttp_request *req, void *arg)
{
	struct http_call *call = arg;
	struct evbuffer *in;
	char *body;
	size_t len;
	int status = req ? evhttp_request_get_response_code(req) : 0;

	if (!req || status == 0 || call->err) {
		call->done(call->err ? call->err : ERR_IO, 0, "", 0, call->arg);
		finish(call);
		return;
	}
	in = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(in);
	body = xmalloc(len + 1);
	evbuffer_remove(in, body, len);
	body[len] = '\0';
	call->done(0, status, body, len, call->arg);
	free(body);
	finish(call);
}

int
http_request(struct event_base *base, enum http_method m, const char *host, uint16_t port,
	     const char *path, const char *body, size_t body_len, unsigned timeout_s,
	     size_t max_body, http_done_fn done, void *arg)
{
	struct evhttp_connection *conn;
	struct evhttp_request *req;
	struct http_call *call;
	struct evkeyvalq *h;
	char hostport[80];

	if (!host[0] || port == 0 || path[0] != '/')
		return ERR_MALFORMED;
	conn = evhttp_connection_base_new(base, NULL, host, port);
	if (!conn)
		return ERR_MALFORMED;
	evhttp_connection_set_timeout(conn, (int)(timeout_s ? timeout_s : 1));
	evhttp_connection_set_retries(conn, 0);
	evhttp_connection_set_max_body_size(conn, (ev_ssize_t)MIN(max_body, (size_t)INT32_MAX));
	call = xcalloc(1, sizeof(*call));
	call->done = done;
	call->arg = arg;
	call->conn = conn;
	call->base = base;
	req = evhttp_request_new(on_done, call);
	evhttp_request_set_error_cb(req, on_error);
	h = evhttp_request_get_output_headers(req);
	snprintf(hostport, sizeof(hostport), "%s:%u", host, port);
	evhttp_add_header(h, "Host", hostport);
	evhttp_add_header(h, "Connection", "close");
	if (m == HTTP_POST) {
		evhttp_add_header(h, "Content-Type", "text/plain");
		if (body_len)
			evbuffer_add(evhttp_request_get_output_buffer(req), body, body_len);
	}
	if (evhttp_make_request(conn, req, m == HTTP_POST ? EVHTTP_REQ_POST : EVHTTP_REQ_GET,
				path) != 0) {
		/* libevent has freed req, or failed it through on_done; call
		 * is left to whichever happened (a rare, tiny leak at worst) */
		evhttp_connection_free(conn);
		return ERR_IO;
	}
	return 0;
}

int
http_url_parse(const char *url, char host[static 64], uint16_t *port, char *path, size_t pathlen)
{
	const char *hp, *slash;
	char hostport[96];
	size_t n;

	host[0] = '\0';
	*port = 0;
	if (strncmp(url, "http://", 7) != 0)
		return ERR_MALFORMED;
	hp = url + 7;
	slash = strchr(hp, '/');
	n = slash ? (size_t)(slash - hp) : strlen(hp);
	if (n == 0 || n >= sizeof(hostport))
		return ERR_MALFORMED;
	memcpy(hostport, hp, n);
	hostport[n] = '\0';
	if (parse_hostport(hostport, host, port) < 0)
		return ERR_MALFORMED;
	if (snprintf(path, pathlen, "%s", slash ? slash : "/") >= (int)pathlen)
		return ERR_MALFORMED;
	return 0;
}

struct sync_result {
	bool finished;
	int err, status;
	char *body;
	size_t len;
	struct event_base *base;
};

static void
sync_done(int err, int status, const char *body, size_t len, void *arg)
{
	struct sync_result *res = arg;

	res->finished = true;
	res->err = err;
	res->status = status;
	if (!err) {
		res->body = xmalloc(len + 1);
		memcpy(res->body, body, len + 1);
		res->len = len;
	}
	event_base_loopbreak(res->base);
}

int
http_fetch_sync(const char *url, const char *post_body, size_t post_len, unsigned timeout_s,
		size_t max_body, int *status, char **body, size_t *len)
{
	struct sync_result res = { 0 };
	char host[64], path[1024];
	uint16_t port;
	int r;

	*status = 0;
	*body = NULL;
	*len = 0;
	if ((r = http_url_parse(url, host, &port, path, sizeof(path))) < 0)
		return r;
	res.base = event_base_new();
	if (!res.base)
		return ERR_IO;
	r = http_request(res.base, post_body ? HTTP_POST : HTTP_GET, host, port, path, post_body,
			 post_len, timeout_s, max_body, sync_done, &res);
	if (r == 0) {
		while (!res.finished)
			if (event_base_dispatch(res.base) < 0)
				break;
		/* one more turn lets libevent free the finished connection */
		event_base_loop(res.base, EVLOOP_NONBLOCK);
		r = res.finished ? res.err : ERR_IO;
	}
	event_base_free(res.base);
	if (r == 0) {
		*status = res.status;
		*body = res.body;
		*len = res.len;
	} else {
		free(res.body);
	}
	return r;
}
