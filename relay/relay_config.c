/* Reading burrow-relay's configuration file into struct relay_config. */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include "common/config.h"
#include "common/encode.h"
#include "common/util.h"
#include "relay/relay_config.h"

static const struct config_key relay_keys[] = {
	{ "Nickname", false, true },
	{ "Listen", false, true },
	{ "DataDirectory", false, true },
	{ "Authority", true, true },
	{ "Roles", false, false },
	{ "Contact", false, false },
	{ "Family", false, false },
	{ "Bandwidth", false, false },
	{ "MetricsListen", false, false },
	{ "LogLevel", false, false },
	{ "LogFile", false, false },
	{ "MaxHopDelayMs", false, false },
	{ "Workers", false, false },
	{ "MaxConnections", false, false },
	{ "PeerRateLimit", false, false },
	{ "HandshakeTimeout", false, false },
	{ "IdleTimeout", false, false },
	{ "QueueLimit", false, false },
	{ "KeyGrace", false, false },
	{ "EpochSeconds", false, false },
	{ "ReplayCacheEntries", false, false },
	{ "DrainTimeout", false, false },
	{ "MailboxMaxMessages", false, false },
	{ "MailboxMaxBytes", false, false },
	{ "MailboxTTL", false, false },
	{ "MailboxTimeGrain", false, false },
	{ "LinkSocketBuffer", false, false },
	{ "MailboxDiskCap", false, false },
	{ "UnroutedHoldMs", false, false },
	{ "LogDepositPeers", false, false },
};

const char *
relay_roles_str(unsigned roles)
{
	switch (roles) {
	case RELAY_ROLE_MIX:
		return "mix";
	case RELAY_ROLE_MAILBOX:
		return "mailbox";
	case RELAY_ROLE_MIX | RELAY_ROLE_MAILBOX:
		return "mix,mailbox";
	default:
		return "none";
	}
}

static bool
nickname_ok(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > RELAY_NICK_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)s[i]))
			return false;
	return true;
}

static int
parse_roles(const char *s, unsigned *out)
{
	char tmp[64];
	char *save = NULL, *tok;
	unsigned roles = 0;

	if (strlen(s) >= sizeof(tmp))
		return ERR_MALFORMED;
	strcpy(tmp, s);
	for (tok = strtok_r(tmp, ", ", &save); tok; tok = strtok_r(NULL, ", ", &save)) {
		unsigned bit;

		if (strcmp(tok, "mix") == 0)
			bit = RELAY_ROLE_MIX;
		else if (strcmp(tok, "mailbox") == 0)
			bit = RELAY_ROLE_MAILBOX;
		else
			return ERR_MALFORMED;
		if (roles & bit)
			return ERR_MALFORMED;
		roles |= bit;
	}
	if (roles == 0)
		return ERR_MALFORMED;
	*out = roles;
	return 0;
}

/* "Authority HEXPK HOST:PORT" */
static void
parse_authorities(struct relay_config *rc, struct config *cfg)
{
	const struct config_entry *e = NULL;

	while ((e = config_next(cfg, "Authority", e)) != NULL) {
		char hex[80], hp[80], extra[2];
		struct relay_authority *a;

		if (rc->nauth == RELAY_MAX_AUTHORITIES) {
			config_error(cfg, e, "Authority: at most %d authorities",
				     RELAY_MAX_AUTHORITIES);
			continue;
		}
		if (strlen(e->value) > 150 ||
		    sscanf(e->value, "%79s %79s %1s", hex, hp, extra) != 2) {
			config_error(cfg, e, "Authority: expected HEXKEY HOST:PORT");
			continue;
		}
		a = &rc->auth[rc->nauth];
		if (hex_decode(a->pk, ID_PK_LEN, hex) != 0) {
			config_error(cfg, e, "Authority: key must be %d hex digits",
				     HEX_LEN(ID_PK_LEN));
			continue;
		}
		if (parse_hostport(hp, a->host, &a->port) != 0) {
			config_error(cfg, e, "Authority: address must be IPV4:PORT");
			continue;
		}
		for (size_t i = 0; i < rc->nauth; i++) {
			if (sodium_memcmp(rc->auth[i].pk, a->pk, ID_PK_LEN) == 0) {
				config_error(cfg, e, "Authority: key listed twice");
				goto next;
			}
		}
		rc->nauth++;
next:		;
	}
}

static void
fill(struct relay_config *rc, struct config *cfg)
{
	const struct config_entry *e;
	long ncpu;

	memset(rc, 0, sizeof(*rc));
	if ((e = config_find(cfg, "Nickname")) != NULL) {
		if (!nickname_ok(e->value))
			config_error(cfg, e, "Nickname: 1 to %d letters or digits",
				     RELAY_NICK_MAX);
		else
			strcpy(rc->nickname, e->value);
	}
	(void)config_hostport(cfg, "Listen", rc->listen_host, &rc->listen_port);
	if ((e = config_find(cfg, "DataDirectory")) != NULL) {
		if (e->value[0] != '/' && e->value[0] != '.')
			config_error(cfg, e, "DataDirectory: must be a path");
		rc->datadir = xstrdup(e->value);
	}
	parse_authorities(rc, cfg);
	rc->roles = RELAY_ROLE_MIX;
	if ((e = config_find(cfg, "Roles")) != NULL && parse_roles(e->value, &rc->roles) != 0)
		config_error(cfg, e, "Roles: one of mix, mailbox, mix,mailbox");
	if ((e = config_find(cfg, "Contact")) != NULL)
		rc->contact = xstrdup(e->value);
	if ((e = config_find(cfg, "Family")) != NULL)
		rc->family = xstrdup(e->value);
	rc->bandwidth = config_u64(cfg, "Bandwidth", 1, UINT64_C(1) << 40, 1000000);
	if (config_hostport(cfg, "MetricsListen", rc->metrics_host, &rc->metrics_port) == 0)
		rc->metrics = true;
	rc->log_level = LOG_NOTICE;
	if ((e = config_find(cfg, "LogLevel")) != NULL &&
	    log_level_parse(e->value, &rc->log_level) != 0)
		config_error(cfg, e, "LogLevel: one of debug, info, notice, warn, err");
	if ((e = config_find(cfg, "LogFile")) != NULL)
		rc->log_file = xstrdup(e->value);

	ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	if (ncpu < 1)
		ncpu = 1;
	if (ncpu > 64)
		ncpu = 64;
	rc->max_hop_delay_ms = (uint32_t)config_u64(cfg, "MaxHopDelayMs", 0, 600000, 10000);
	rc->workers = (unsigned)config_u64(cfg, "Workers", 1, 64, (uint64_t)ncpu);
	rc->max_connections = (unsigned)config_u64(cfg, "MaxConnections", 1, 100000, 1024);
	rc->peer_rate_limit = (uint32_t)config_u64(cfg, "PeerRateLimit", 0, 10000000, 20000);
	rc->handshake_timeout_s = (uint32_t)config_u64(cfg, "HandshakeTimeout", 1, 600, 10);
	rc->idle_timeout_s = (uint32_t)config_u64(cfg, "IdleTimeout", 1, 86400, 300);
	rc->queue_limit = (unsigned)config_u64(cfg, "QueueLimit", 16, 10000000, 65536);
	rc->key_grace_s = (uint32_t)config_u64(cfg, "KeyGrace", 0, 86400, 60);
	rc->epoch_seconds = config_u64(cfg, "EpochSeconds", 1, 7 * 86400, 3600);
	rc->replay_entries = config_u64(cfg, "ReplayCacheEntries", 1024, UINT64_C(1) << 30,
					UINT64_C(1) << 20);
	rc->drain_timeout_s = (uint32_t)config_u64(cfg, "DrainTimeout", 0, 3600, 10);
	rc->mbox_max_messages = config_u64(cfg, "MailboxMaxMessages", 1, UINT64_C(1) << 32, 10000);
	rc->mbox_max_bytes = config_u64(cfg, "MailboxMaxBytes", 1024, UINT64_C(1) << 40,
					UINT64_C(64) << 20);
	rc->mbox_ttl_s = config_u64(cfg, "MailboxTTL", 1, UINT64_C(10) * 365 * 86400,
				    UINT64_C(7) * 86400);
	rc->link_sockbuf = (uint32_t)config_u64(cfg, "LinkSocketBuffer", 0, 64u << 20, 0);
	rc->mbox_time_grain_s = (uint32_t)config_u64(cfg, "MailboxTimeGrain", 1, 60, 60);
	rc->mbox_disk_cap = config_u64(cfg, "MailboxDiskCap", 1 << 20, UINT64_C(1) << 50,
				       UINT64_C(4) << 30);
	rc->unrouted_hold_ms = (uint32_t)config_u64(cfg, "UnroutedHoldMs", 0, 60000, 2000);
	rc->log_deposit_peers = config_bool(cfg, "LogDepositPeers", false);
}

int
relay_config_parse(struct relay_config *out, const char *path, const char *text, size_t len,
		   char **errors)
{
	struct config *cfg = config_parse(path, text, len, relay_keys, ARRAY_LEN(relay_keys));
	int r = 0;

	*errors = NULL;
	fill(out, cfg);
	if (cfg->nerrors) {
		*errors = cfg->errors ? xstrdup(cfg->errors) : xstrdup("");
		relay_config_clear(out);
		r = ERR_CONFIG;
	}
	config_free(cfg);
	return r;
}

int
relay_config_load(struct relay_config *out, const char *path)
{
	struct config *cfg = config_load(path, relay_keys, ARRAY_LEN(relay_keys));
	int r = 0;

	fill(out, cfg);
	if (config_report(cfg) != 0) {
		relay_config_clear(out);
		r = ERR_CONFIG;
	}
	config_free(cfg);
	return r;
}

void
relay_config_clear(struct relay_config *cfg)
{
	if (cfg == NULL)
		return;
	free(cfg->datadir);
	free(cfg->contact);
	free(cfg->family);
	free(cfg->log_file);
	memset(cfg, 0, sizeof(*cfg));
}
