/* The per-command client state: home directory, config, database. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "client/client.h"
#include "client/identity.h"
#include "client/store.h"
#include "common/config.h"
#include "common/encode.h"
#include "common/util.h"

void
client_verr(const char *fmt, va_list ap)
{
	fputs("burrow: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

void
client_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	client_verr(fmt, ap);
	va_end(ap);
}

bool
client_test_hooks(void)
{
	const char *v = getenv(CLIENT_TEST_HOOKS_VAR);

	return v != NULL && strcmp(v, CLIENT_TEST_HOOKS_VALUE) == 0;
}

char *
client_path(const struct client *c, const char *name)
{
	return xasprintf("%s/%s", c->home, name);
}

static const struct config_key client_keys[] = {
	{ "Authority", true, false },
	{ "PathLength", false, false },
	{ "MeanHopDelayMs", false, false },
	{ "AckTimeout", false, false },		/* seconds */
	{ "AckTimeoutMs", false, false },
	{ "Retries", false, false },
	{ "PollIntervalMs", false, false },
	{ "WaitTimeout", false, false },	/* seconds */
	{ "SendWindow", false, false },
	{ "Mailbox", false, false },
	{ "EnforceDistinctSubnets", false, false },
	{ "LogLevel", false, false },
	{ "DataDirectory", false, false },
};

int
client_config_load(struct client *c, bool missing_ok)
{
	struct client_config *cf = &c->cfg;
	const struct config_entry *e = NULL;
	struct config *cfg;
	struct stat sb;
	int r;

	memset(cf, 0, sizeof(*cf));
	cf->path_len = CLIENT_DEFAULT_PATH_LEN;
	cf->ack_timeout_ms = CLIENT_DEFAULT_ACK_TIMEOUT_MS;
	cf->retries = CLIENT_DEFAULT_RETRIES;
	cf->poll_ms = 500;
	cf->wait_max_ms = 300000;
	cf->send_window = 256;
	cf->distinct_subnets = true;
	if (stat(c->conf_path, &sb) != 0 && errno == ENOENT && missing_ok)
		return 0;
	cfg = config_load(c->conf_path, client_keys, ARRAY_LEN(client_keys));
	while ((e = config_next(cfg, "Authority", e)) != NULL) {
		if (cf->nauth == CLIENT_AUTH_MAX) {
			config_error(cfg, e, "Authority: at most %d", CLIENT_AUTH_MAX);
			break;
		}
		if (dirdoc_authority_parse(e->value, cf->auth_pk[cf->nauth], cf->auth_host[cf->nauth],
					   &cf->auth_port[cf->nauth]) != 0) {
			config_error(cfg, e, "Authority: expected HEXKEY HOST:PORT");
			continue;
		}
		cf->nauth++;
	}
	cf->path_len = (unsigned)config_u64(cfg, "PathLength", 1, 4, CLIENT_DEFAULT_PATH_LEN);
	cf->mean_delay_ms = config_u64(cfg, "MeanHopDelayMs", 0, 3600000, 0);
	cf->ack_timeout_ms = config_u64(cfg, "AckTimeout", 1, 86400,
					CLIENT_DEFAULT_ACK_TIMEOUT_MS / 1000) * 1000;
	cf->ack_timeout_ms = config_u64(cfg, "AckTimeoutMs", 10, 86400000, cf->ack_timeout_ms);
	cf->retries = (unsigned)config_u64(cfg, "Retries", 1, 100, CLIENT_DEFAULT_RETRIES);
	cf->poll_ms = config_u64(cfg, "PollIntervalMs", 10, 600000, 500);
	cf->wait_max_ms = config_u64(cfg, "WaitTimeout", 1, 7 * 86400, 300) * 1000;
	cf->send_window = config_u64(cfg, "SendWindow", 1, 65536, 256);
	cf->distinct_subnets = config_bool(cfg, "EnforceDistinctSubnets", true);
	snprintf(cf->mailbox, sizeof(cf->mailbox), "%s", config_str(cfg, "Mailbox", ""));
	r = config_report(cfg);
	config_free(cfg);
	return r ? ERR_CONFIG : 0;
}

int
client_open_store(struct client *c)
{
	char why[512], *db;
	int r;

	if (mkdir(c->home, 0700) != 0 && errno != EEXIST) {
		client_err("cannot create %s: %s", c->home, strerror(errno));
		return ERR_IO;
	}
	db = client_path(c, "burrow.db");
	r = store_open(&c->st, db, why, sizeof(why));
	free(db);
	if (r != 0)
		client_err("%s", why);
	return r;
}

int
client_load_public(struct client *c)
{
	char *pk = NULL, *node = NULL;
	int r;

	r = store_meta_get(c->st, "identity", &pk);
	if (r == 0)
		r = store_meta_get(c->st, "mailbox_node", &node);
	if (r == 0 && (hex_decode(c->id_pk, ID_PK_LEN, pk) != 0 ||
		       hex_decode(c->mailbox_node, NODE_ID_LEN, node) != 0))
		r = ERR_CORRUPT;
	free(pk);
	free(node);
	if (r == ERR_NOT_FOUND)
		client_err("no identity in %s: run 'burrow init' first", c->home);
	else if (r != 0)
		client_err("cannot read the identity from %s: %s", c->home, err_str(r));
	c->have_pk = r == 0;
	return r;
}

void
client_my_address(const struct client *c, struct address *a)
{
	memcpy(a->node_id, c->mailbox_node, NODE_ID_LEN);
	memcpy(a->id_pk, c->id_pk, ID_PK_LEN);
}

int
client_exit_for(int err)
{
	switch (err) {
	case 0:
		return EXIT_OK_;
	case ERR_USAGE:
		return EXIT_USAGE;
	case ERR_CONFIG:
		return EXIT_CONFIG;
	case ERR_PASSPHRASE:
	case ERR_AUTH:
		return EXIT_PASSPHRASE;
	case ERR_CHECKSUM:
		return EXIT_ADDRESS;
	case ERR_QUORUM:
	case ERR_NOT_YET_VALID:
	case ERR_BAD_SIG:
	case ERR_UNKNOWN_SIGNER:
		return EXIT_CONSENSUS;
	case ERR_EXPIRED:
	case ERR_STALE:
		return EXIT_STALE;
	case ERR_CLOSED:
	case ERR_TIMEOUT:
		return EXIT_NETWORK;
	case ERR_NOT_FOUND:
		return EXIT_NOT_FOUND;
	case ERR_CORRUPT:
		return EXIT_INCOMPLETE;
	default:
		return EXIT_FAIL;
	}
}

void
client_clear(struct client *c)
{
	STORE_FREE(c->st);
	ID_KEYPAIR_FREE(c->id);
	DIRDOC_CONSENSUS_FREE(c->cons);
	FREE_AND_NULL(c->home);
	FREE_AND_NULL(c->conf_path);
	FREE_AND_NULL(c->passphrase_file);
}

int
client_passphrase(struct client *c, bool confirm, char **out)
{
	int r = identity_read_passphrase(c->passphrase_file, confirm, out);

	if (r == 0)
		return 0;
	if (c->passphrase_file && r == ERR_IO)
		client_err("cannot read the passphrase file %s: %s", c->passphrase_file,
			   strerror(errno));
	else if (r == ERR_IO)
		client_err("no terminal to ask for the passphrase: use --passphrase-file FILE");
	else if (r == ERR_MALFORMED && confirm && !c->passphrase_file)
		client_err("the passphrases are empty or do not match");
	else if (r == ERR_MALFORMED)
		client_err("the passphrase is empty");
	else
		client_err("the passphrase is too long (at most 1024 bytes)");
	return ERR_PASSPHRASE;
}

void
client_passphrase_free(char *p)
{
	identity_passphrase_free(p);
}

int
client_unlock(struct client *c)
{
	char *pass = NULL, *path;
	int r;

	if (c->id != NULL)
		return 0;
	if (!c->have_pk && (r = client_load_public(c)) != 0)
		return r;
	r = client_passphrase(c, false, &pass);
	if (r != 0)
		return r;
	path = client_path(c, "identity.key");
	r = identity_load(path, pass, c->id_pk, &c->id);
	client_passphrase_free(pass);
	switch (r) {
	case 0:
		break;
	case ERR_PASSPHRASE:
		client_err("wrong passphrase for %s", path);
		break;
	case ERR_PERM:
		client_err("%s is readable by others: run chmod 600 %s", path, path);
		break;
	case ERR_NOT_FOUND:
		client_err("%s is missing", path);
		break;
	case ERR_CORRUPT:
		client_err("%s does not hold this home's identity", path);
		break;
	default:
		client_err("cannot read %s: %s", path, err_str(r));
		break;
	}
	free(path);
	return r;
}
