/* burrow-relay's node object: everything one relay holds (keys, packet
 * key schedule, consensus, links, mix queues, mailbox, metrics), so that
 * several nodes can run in one process (sim/, tests). relay_main.c only
 * parses argv and the config and drives one of these. */
#ifndef BURROW_RELAY_H
#define BURROW_RELAY_H

#include <stdbool.h>
#include <stdint.h>

#include "common/err.h"
#include "common/keys.h"
#include "relay/relay_config.h"

struct event_base;
struct relay;

/* Create a node on base from cfg (copied: the caller keeps and clears its
 * own). Creates the data directory and the identity and link keys on
 * first start, loads the packet keys, opens the mailbox store, binds the
 * listener and the metrics server, and starts the directory client.
 * Returns 0 and sets *out, or ERR_IO / ERR_PERM / ERR_CORRUPT (logged). */
int MUST_CHECK relay_new(struct relay **out, struct event_base *base,
			 const struct relay_config *cfg);

/* Stop accepting, drain the queued packets for at most the configured
 * DrainTimeout, close every link, then call event_base_loopexit. */
void relay_shutdown(struct relay *r);

/* Apply the reloadable part of a new config (log level, limits). */
void relay_reload(struct relay *r, const struct relay_config *cfg);

/* Free everything (NULL allowed). The event loop must not be running
 * inside one of the node's callbacks. */
void relay_free(struct relay *r);

/* The node's id and the bound ports (for tests). */
const uint8_t *relay_node_id(const struct relay *r);
uint16_t relay_listen_port(const struct relay *r);
uint16_t relay_metrics_port(const struct relay *r);

/* The hidden test tool: `burrow-relay testclient ...` (see relay/testclient.c
 * and docs/relay-operator.md). Returns a process exit status. */
int relay_testclient_main(int argc, char **argv);

#endif
