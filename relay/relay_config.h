/* The relay's configuration: the `Key value` file read once at start and
 * again (for the reloadable parts) on SIGHUP. Keys and defaults are listed
 * in relay/burrow-relay.conf.sample and docs/relay-operator.md. */
#ifndef BURROW_RELAY_CONFIG_H
#define BURROW_RELAY_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/keys.h"
#include "common/log.h"

#define RELAY_NICK_MAX 19
#define RELAY_MAX_AUTHORITIES 16

enum relay_role {
	RELAY_ROLE_MIX = 1,
	RELAY_ROLE_MAILBOX = 2,
};

struct relay_authority {
	uint8_t pk[ID_PK_LEN];
	char host[64];
	uint16_t port;
};

struct relay_config {
	char nickname[RELAY_NICK_MAX + 1];
	char listen_host[64];
	uint16_t listen_port;
	char *datadir;
	struct relay_authority auth[RELAY_MAX_AUTHORITIES];
	size_t nauth;
	unsigned roles;			/* RELAY_ROLE_* bits */
	char *contact;			/* NULL when absent */
	char *family;			/* NULL when absent */
	uint64_t bandwidth;		/* advertised, bytes/s */
	bool metrics;			/* MetricsListen given */
	char metrics_host[64];
	uint16_t metrics_port;
	enum log_level log_level;
	char *log_file;			/* NULL: stderr */

	/* Limits (reloadable on SIGHUP unless noted). */
	uint32_t max_hop_delay_ms;
	unsigned workers;		/* not reloadable */
	unsigned max_connections;
	uint32_t peer_rate_limit;	/* frames per second per peer, 0 = none */
	uint32_t handshake_timeout_s;
	uint32_t idle_timeout_s;
	unsigned queue_limit;		/* packets waiting in the mix, all stages */
	uint32_t key_grace_s;
	uint64_t epoch_seconds;		/* until a consensus says otherwise */
	uint64_t replay_entries;	/* replay tags held per packet key (not reloadable) */
	uint32_t drain_timeout_s;
	uint32_t link_sockbuf;		/* SO_SNDBUF/SO_RCVBUF of links, 0 = kernel's */
	uint32_t unrouted_hold_ms;	/* hold for an unknown next hop, 0 = drop at once */

	/* Mailbox role. */
	uint64_t mbox_max_messages;
	uint64_t mbox_max_bytes;
	uint64_t mbox_ttl_s;
	uint32_t mbox_time_grain_s;	/* arrival rounding; 60 unless testing */
	uint64_t mbox_disk_cap;
	bool log_deposit_peers;		/* log each new previous-hop address of deposits */
};

/* Load and validate the file at path. Returns 0 with *out filled (free
 * with relay_config_clear), or ERR_CONFIG after writing every problem to
 * stderr as "file:line: what is wrong". */
int MUST_CHECK relay_config_load(struct relay_config *out, const char *path);

/* Fill cfg from text (for tests); errors are returned in *errors (caller
 * frees) instead of printed. 0 or ERR_CONFIG. */
int MUST_CHECK relay_config_parse(struct relay_config *out, const char *path, const char *text,
				  size_t len, char **errors);

/* Free what the config owns (NULL allowed) and zero it. */
void relay_config_clear(struct relay_config *cfg);

/* Render roles as "mix", "mailbox" or "mix,mailbox" (static string). */
const char *relay_roles_str(unsigned roles);

#endif
