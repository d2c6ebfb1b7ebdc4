/* The client's network: one blocking link connection per relay it talks
 * to (a command-line client waits for each step anyway), and an HTTP GET
 * for the consensus. */
#ifndef BURROW_CLIENT_NET_H
#define BURROW_CLIENT_NET_H

#include <stddef.h>
#include <stdint.h>

#include "common/dirdoc.h"
#include "common/err.h"
#include "common/link.h"

struct net_conn;

/* Connect to relay r over TCP and run the link handshake as an anonymous
 * initiator that expects r's link key and identity. Returns 0 and *out;
 * ERR_IO (connect failed), ERR_TIMEOUT, ERR_AUTH (not the expected relay),
 * ERR_CLOSED, or another link error. */
int MUST_CHECK net_connect(struct net_conn **out, const struct dirdoc_relay *r,
			   uint64_t timeout_ms);
/* Send CLOSE (best effort) and free (NULL allowed). */
void net_close(struct net_conn *nc);
#define NET_CLOSE(p) do { net_close(p); (p) = NULL; } while (0)

/* Send one packet / one control message: 0, ERR_IO or ERR_CLOSED. */
int MUST_CHECK net_send_packet(struct net_conn *nc, const uint8_t pkt[static LINK_PACKET_LEN]);
int MUST_CHECK net_send_control(struct net_conn *nc, const uint8_t *p, size_t len);
/* Wait for the next control message (keepalives skipped; packets
 * dropped): 0 with *len bytes copied into buf (cap ≥ LINK_CONTROL_MAX);
 * ERR_TIMEOUT, ERR_CLOSED (the relay closed), ERR_IO or a link error. */
int MUST_CHECK net_recv_control(struct net_conn *nc, uint8_t *buf, size_t cap, size_t *len,
				uint64_t timeout_ms);

/* The link's handshake hash (channel binding): 0 or ERR_CLOSED. */
int MUST_CHECK net_handshake_hash(const struct net_conn *nc, uint8_t h[static LINK_HASH_LEN]);

/* GET http://host:port/path with a body of at most max bytes: 0 and
 * *body (heap, NUL-terminated) / *len; ERR_IO, ERR_TIMEOUT, ERR_TOO_BIG,
 * or ERR_NOT_FOUND (a status other than 200). */
int MUST_CHECK net_http_get(const char *host, uint16_t port, const char *path, size_t max,
			    uint64_t timeout_ms, char **body, size_t *len);

#endif
