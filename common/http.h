/* A small HTTP/1.1 client over libevent's evhttp, for fetching the
 * consensus and uploading descriptors, votes and signatures. Hosts are
 * IPv4 dotted quads (no DNS); URLs are "http://HOST:PORT/PATH". */
#ifndef BURROW_HTTP_H
#define BURROW_HTTP_H

#include <stddef.h>
#include <stdint.h>

#include "common/err.h"

struct event_base;

enum http_method { HTTP_GET, HTTP_POST };

/* Called exactly once per request, from the event loop. On a response, err
 * is 0 and status is the HTTP status (any, including 4xx) with its body
 * (NUL-terminated, borrowed for the call only). Otherwise err is
 * ERR_TIMEOUT, ERR_TOO_BIG (body over max_body) or ERR_IO (refused,
 * reset, bad response), status is 0 and body is "". */
typedef void (*http_done_fn)(int err, int status, const char *body, size_t len, void *arg);

/* Start a request; body may be NULL for GET. The whole exchange (connect,
 * send, receive) must fit in timeout_s seconds. Returns 0 (done will be
 * called), ERR_MALFORMED for a bad host or path, or ERR_IO if libevent
 * refuses the request at once (done is then not called). */
int MUST_CHECK http_request(struct event_base *base, enum http_method m, const char *host,
			    uint16_t port, const char *path, const char *body, size_t body_len,
			    unsigned timeout_s, size_t max_body, http_done_fn done, void *arg);

/* Split "http://HOST:PORT/PATH" (PATH may be empty, meaning "/"):
 * 0 or ERR_MALFORMED. */
int MUST_CHECK http_url_parse(const char *url, char host[static 64], uint16_t *port, char *path,
			      size_t pathlen);

/* GET or POST (post_body non-NULL) a URL with its own event loop, blocking
 * up to timeout_s seconds. On 0, *status is the HTTP status and *body a
 * NUL-terminated heap copy of the response (*len bytes) owned by the caller.
 * Returns 0, ERR_MALFORMED (bad URL), ERR_TIMEOUT, ERR_TOO_BIG or ERR_IO. */
int MUST_CHECK http_fetch_sync(const char *url, const char *post_body, size_t post_len,
			       unsigned timeout_s, size_t max_body, int *status, char **body,
			       size_t *len);

#endif
