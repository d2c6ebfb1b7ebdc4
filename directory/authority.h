/* A directory authority: accepts relay descriptors, votes each epoch,
 * computes and co-signs the consensus with the other authorities, and
 * serves it over HTTP (docs/spec.md, "Directory authorities").
 *
 * Schedule within epoch E (length L): at 0.2 L the authority signs its vote
 * for epoch E+1 and POSTs it to every other authority (retrying until each
 * accepts or the epoch ends); at 0.5 L it computes the consensus for E+1
 * from the votes it holds, signs it and POSTs its detached signature to the
 * others (again retrying). So the consensus for E+1 exists half an epoch
 * before E+1 begins. */
#ifndef BURROW_DIRECTORY_AUTHORITY_H
#define BURROW_DIRECTORY_AUTHORITY_H

#include <stdint.h>

#include "common/dirdoc.h"
#include "common/err.h"
#include "common/keys.h"

struct event_base;
struct authority;

struct authority_peer_conf {
	uint8_t pk[ID_PK_LEN];
	char host[64];
	uint16_t port;
};

struct authority_conf {
	char listen_host[64];
	uint16_t listen_port;
	uint64_t epoch_len;		/* seconds */
	uint64_t max_age;		/* descriptor lifetime, seconds */
	const char *datadir;		/* consensus-EPOCH files live here */
	struct authority_peer_conf peers[DIRDOC_AUTH_MAX];	/* may include self */
	size_t npeers;
};

/* Create an authority on base with identity id (takes ownership of id).
 * Loads stored consensuses from datadir, binds the HTTP listener and starts
 * the schedule. Returns 0 and *out, ERR_CONFIG (too many authorities),
 * ERR_IO (datadir or bind failed; logged). */
int MUST_CHECK authority_new(struct event_base *base, const struct authority_conf *conf,
			     struct id_keypair *id, struct authority **out);

/* Stop serving and free everything (NULL allowed). */
void authority_free(struct authority *a);

#endif
