/* The client's view of the network: the verified consensus turned into
 * path-selection nodes, and lookups of relays by nickname or node id. */
#ifndef BURROW_CLIENT_NETDIR_H
#define BURROW_CLIENT_NETDIR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/dirdoc.h"
#include "common/err.h"
#include "common/path.h"

/* Build path nodes for every relay of c (same order as c->relays): mix
 * relays flagged Running and Valid get PATH_MIX, Mailbox relays
 * PATH_MAILBOX; family node ids become nicknames (path.h's rule). With
 * distinct_subnets false, and always for loopback (127/8) addresses, each
 * node counts as its own /16. The caller frees *out. */
void netdir_path_nodes(const struct dirdoc_consensus *c, bool distinct_subnets,
		       struct path_node **out);

/* Find a mailbox relay by nickname (case-insensitive) or 64-hex node id:
 * 0 and *idx, ERR_NOT_FOUND, or ERR_DUPLICATE (nickname not unique). */
int MUST_CHECK netdir_find(const struct dirdoc_consensus *c, const char *name, size_t *idx);

/* Index of the relay with this node id, or ERR_NOT_FOUND. */
int MUST_CHECK netdir_index(const struct dirdoc_consensus *c, const uint8_t id[static 32],
			    size_t *idx);

#endif
