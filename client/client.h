/* The client's shared state for one command: home directory, config,
 * database, identity, consensus. One struct per invocation, created by
 * client_main.c and passed to each cmd_*.c. */
#ifndef BURROW_CLIENT_CLIENT_H
#define BURROW_CLIENT_CLIENT_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client/address.h"
#include "common/dirdoc.h"
#include "common/err.h"
#include "common/keys.h"

/* Exit codes: distinct per kind of failure so scripts can tell them apart
 * (documented in docs/user-guide.md). */
enum client_exit {
	EXIT_OK_ = 0,
	EXIT_FAIL = 1,		/* anything not listed below */
	EXIT_USAGE = 2,		/* bad command line */
	EXIT_CONFIG = 3,	/* bad or missing config, no home/identity */
	EXIT_PASSPHRASE = 4,	/* wrong passphrase, or none available */
	EXIT_ADDRESS = 5,	/* bad address (checksum, format) */
	EXIT_CONTACT = 6,	/* unknown contact */
	EXIT_CONSENSUS = 7,	/* no valid consensus: under-signed, bad signature */
	EXIT_NETWORK = 8,	/* could not reach relays or the mailbox node */
	EXIT_SEND_FAILED = 9,	/* fragments ran out of tries */
	EXIT_NOT_FOUND = 10,	/* no such message */
	EXIT_INCOMPLETE = 11,	/* a message is partial or failed its hash check */
	EXIT_TIMEOUT = 12,	/* --wait gave up before every ack arrived */
	EXIT_STALE = 13,	/* the only consensus at hand is past its valid-until */
};

#define CLIENT_DEFAULT_PATH_LEN 3
#define CLIENT_DEFAULT_ACK_TIMEOUT_MS 10000
#define CLIENT_DEFAULT_RETRIES 5
#define CLIENT_AUTH_MAX DIRDOC_AUTH_MAX

struct client_config {
	size_t nauth;
	uint8_t auth_pk[CLIENT_AUTH_MAX][ID_PK_LEN];
	char auth_host[CLIENT_AUTH_MAX][64];
	uint16_t auth_port[CLIENT_AUTH_MAX];
	unsigned path_len;		/* mix hops, 1..4 */
	uint64_t mean_delay_ms;		/* mean per-hop mixing delay, 0 allowed */
	uint64_t ack_timeout_ms;	/* base wait for an ack, before path delays */
	unsigned retries;		/* sends of one fragment before it fails */
	uint64_t poll_ms;		/* pause between mailbox polls while waiting */
	uint64_t wait_max_ms;		/* --wait gives up after this */
	uint64_t send_window;		/* packets in flight at once */
	bool distinct_subnets;		/* no two hops in one /16 (default on) */
	char mailbox[128];		/* default mailbox node for init (nick or id) */
};

struct client {
	char *home;
	char *conf_path;
	char *passphrase_file;
	bool json;
	bool quiet;
	struct client_config cfg;
	struct store *st;
	/* The identity's public half, readable without the passphrase. */
	bool have_pk;
	uint8_t id_pk[ID_PK_LEN];
	uint8_t mailbox_node[NODE_ID_LEN];
	/* Loaded on demand. */
	struct id_keypair *id;
	struct dirdoc_consensus *cons;
	bool cons_from_cache;
	/* Test hook (send --test-forge-signature): corrupt the signature of
	 * the next signed message. Only set when client_test_hooks(). */
	bool test_forge_signature;
};

/* Test hooks weaken Burrow on purpose (a cheap key-file KDF, forged
 * signatures) so that end-to-end tests run fast and can check that
 * forgeries are caught. They are honoured only when the environment holds
 * CLIENT_TEST_HOOKS_VAR set to exactly CLIENT_TEST_HOOKS_VALUE, so that no
 * stray variable turns them on (docs/spec.md part 6, "Test hooks"). */
#define CLIENT_TEST_HOOKS_VAR "BURROW_TEST_HOOKS"
#define CLIENT_TEST_HOOKS_VALUE "unsafe-for-tests-only"
bool client_test_hooks(void);

/* Paths inside the home directory (heap strings). */
char *client_path(const struct client *c, const char *name);

/* Load the config at c->conf_path into c->cfg (defaults when the file is
 * missing and missing_ok). Errors are printed. Returns 0 or ERR_CONFIG. */
int MUST_CHECK client_config_load(struct client *c, bool missing_ok);

/* Create the home directory (0700) if needed and open the database.
 * Returns 0 or ERR_IO (printed). */
int MUST_CHECK client_open_store(struct client *c);

/* Load the public identity and home mailbox node from the database:
 * 0, or ERR_NOT_FOUND (printed: run burrow init). */
int MUST_CHECK client_load_public(struct client *c);

/* Read the passphrase (--passphrase-file, else the terminal with echo
 * off; twice when confirm) into a sodium_malloc buffer the caller frees
 * with client_passphrase_free. Returns 0 or ERR_PASSPHRASE (printed). */
int MUST_CHECK client_passphrase(struct client *c, bool confirm, char **out);
void client_passphrase_free(char *p);

/* Unseal the identity key into c->id: 0, ERR_PASSPHRASE, ERR_PERM,
 * ERR_NOT_FOUND, or another key file error (printed). */
int MUST_CHECK client_unlock(struct client *c);

/* This identity's address. */
void client_my_address(const struct client *c, struct address *a);

/* Get a verified consensus into c->cons: a cached one still fresh, else
 * fetched from the pinned authorities. Returns 0, or ERR_QUORUM /
 * ERR_EXPIRED / ERR_NOT_YET_VALID / ERR_BAD_SIG / ERR_UNKNOWN_SIGNER /
 * ERR_IO (each printed with the reason). */
int MUST_CHECK client_consensus(struct client *c);

/* Map an ERR_* to an exit code. */
int client_exit_for(int err);

/* Release everything. */
void client_clear(struct client *c);

/* Print an error line "burrow: ..." to stderr. */
__attribute__((format(printf, 1, 2))) void client_err(const char *fmt, ...);
__attribute__((format(printf, 1, 0))) void client_verr(const char *fmt, va_list ap);

#endif
