/* GET /metrics over evhttp. */
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "common/log.h"
#include "common/util.h"
#include "relay/metrics.h"

struct metrics {
	struct evhttp *http;
	struct evhttp_bound_socket *sock;
	metrics_render_fn *render;
	void *arg;
	uint16_t port;
};

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	struct evbuffer *out;
	struct wbuf w;
	char *text;
	size_t len;

	if (evhttp_request_get_command(req) != EVHTTP_REQ_GET) {
		evhttp_send_error(req, 405, "only GET");
		return;
	}
	w = wbuf_dyn(16u << 20);
	m->render(&w, m->arg);
	text = wbuf_take(&w, &len);
	if (text == NULL) {
		evhttp_send_error(req, 500, "metrics too large");
		return;
	}
	out = evbuffer_new();
	evbuffer_add(out, text, len);
	free(text);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; version=0.0.4");
	evhttp_send_reply(req, 200, "OK", out);
	evbuffer_free(out);
}

static void
on_other(struct evhttp_request *req, void *arg)
{
	evhttp_send_error(req, 404, "try /metrics");
}

int
metrics_new(struct metrics **out, struct event_base *base, const char *host, uint16_t port,
	    metrics_render_fn *render, void *arg)
{
	struct metrics *m = xcalloc(1, sizeof(*m));
	evutil_socket_t fd;
	struct sockaddr_storage ss;
	ev_socklen_t sl = sizeof(ss);

	*out = NULL;
	m->render = render;
	m->arg = arg;
	m->http = evhttp_new(base);
	evhttp_set_allowed_methods(m->http, EVHTTP_REQ_GET);
	evhttp_set_timeout(m->http, 10);
	evhttp_set_max_headers_size(m->http, 8192);
	evhttp_set_max_body_size(m->http, 0);
	evhttp_set_cb(m->http, "/metrics", on_request, m);
	evhttp_set_gencb(m->http, on_other, m);
	m->sock = evhttp_bind_socket_with_handle(m->http, host, port);
	if (m->sock == NULL) {
		log_err(LD_HTTP, "metrics: cannot listen on %s:%u", host, port);
		evhttp_free(m->http);
		free(m);
		return ERR_IO;
	}
	fd = evhttp_bound_socket_get_fd(m->sock);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == 0 && ss.ss_family == AF_INET)
		m->port = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	*out = m;
	return 0;
}

void
metrics_free(struct metrics *m)
{
	if (m == NULL)
		return;
	evhttp_free(m->http);
	free(m);
}

uint16_t
metrics_port(const struct metrics *m)
{
	return m->port;
}

void
metrics_counter(struct wbuf *w, const char *name, const char *help, uint64_t v)
{
	wbuf_printf(w, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help, name, name,
		    (unsigned long long)v);
}

void
metrics_gauge(struct wbuf *w, const char *name, const char *help, uint64_t v)
{
	wbuf_printf(w, "# HELP %s %s\n# TYPE %s gauge\n%s %llu\n", name, help, name, name,
		    (unsigned long long)v);
}

void
metrics_labeled(struct wbuf *w, const char *name, const char *label, const char *value,
		uint64_t v)
{
	wbuf_printf(w, "%s{%s=\"%s\"} %llu\n", name, label, value, (unsigned long long)v);
}
