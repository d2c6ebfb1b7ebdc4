/* burrow-dir's commands behind dir_main.c's argument parsing: running an
 * authority, keygen, verify, and hidden helpers for tests. Each returns a
 * process exit status. */
#ifndef BURROW_DIRECTORY_DIRTOOL_H
#define BURROW_DIRECTORY_DIRTOOL_H

#include <stdbool.h>
#include <stdint.h>

#include "directory/authority.h"

/* Load the identity key, run the authority until SIGTERM/SIGINT (SIGHUP
 * reopens the log file). 0 after a clean stop, 1 on a startup failure. */
int dirtool_run(const struct authority_conf *conf, const char *keyfile);

/* Write a fresh unsealed Ed25519 identity key to path (refusing to
 * overwrite unless force) and print its public key in hex. */
int dirtool_keygen(const char *path, bool force);

/* Verify a consensus file ("-" for stdin) against the Authority lines of a
 * config file at time now. Prints "ok: ..." and returns 0, or prints why
 * and returns 1 (2 for unreadable files). */
int dirtool_verify(const char *conf_path, const char *file, uint64_t now);

struct testdesc_opts {
	unsigned seed;			/* identity and keys derived from it */
	const char *nickname;		/* default "test<seed>" */
	const char *address;		/* IPV4:PORT */
	uint64_t epoch_len;
	int64_t published_offset;	/* seconds added to now */
	uint64_t key_epoch;		/* 0: the next epoch */
	uint32_t roles;
	bool bad_sig;
};

/* Print a descriptor for a synthetic relay (testing only). */
int dirtool_testdesc(const struct testdesc_opts *o);

/* GET url (or POST the file at post_path, "-" for stdin) and print the body.
 * 0 for a 2xx status, 3 for another status, 1 for a transport failure. */
int dirtool_http(const char *url, const char *post_path);

#endif
