/* A tiny evhttp server for GET /metrics in the Prometheus text format.
 * The text is produced on each request by a callback the node supplies,
 * so the server holds no counters of its own. */
#ifndef BURROW_RELAY_METRICS_H
#define BURROW_RELAY_METRICS_H

#include <stdint.h>

#include "common/buf.h"
#include "common/err.h"

struct event_base;
struct metrics;

/* Append the exposition text to w. */
typedef void metrics_render_fn(struct wbuf *w, void *arg);

/* Listen on host:port (port 0 picks one; see metrics_port). Returns 0 and
 * sets *out, or ERR_IO if the address cannot be bound. */
int MUST_CHECK metrics_new(struct metrics **out, struct event_base *base, const char *host,
			   uint16_t port, metrics_render_fn *render, void *arg);
void metrics_free(struct metrics *m);
uint16_t metrics_port(const struct metrics *m);

/* Helpers for render callbacks: one "# TYPE" line then the sample. */
void metrics_counter(struct wbuf *w, const char *name, const char *help, uint64_t v);
void metrics_gauge(struct wbuf *w, const char *name, const char *help, uint64_t v);
/* A sample with one label (no TYPE line): name{label="value"} v */
void metrics_labeled(struct wbuf *w, const char *name, const char *label, const char *value,
		     uint64_t v);

#endif
