/* A replay cache for Sphinx replay tags: a bounded hash set of 16-byte
 * tags, one per packet key epoch. Lookups and inserts are O(1) expected;
 * bucket positions come from SipHash (crypto_shorthash) under a random
 * key, so senders cannot aim tags at one bucket. Entries are never evicted:
 * when the bound is reached the cache refuses new tags (ERR_FULL), because
 * forgetting a tag would let that packet be replayed. Clear it, or free it,
 * when the packet key it serves is destroyed. */
#ifndef BURROW_SPHINX_REPLAY_H
#define BURROW_SPHINX_REPLAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/err.h"
#include "common/sphinx.h"

#define SPHINX_REPLAY_MAX_ENTRIES ((size_t)1 << 30)

struct sphinx_replay;

/* Make an empty cache holding at most max_entries tags (1 ..
 * SPHINX_REPLAY_MAX_ENTRIES; larger values are clamped). It allocates
 * 32 to 64 bytes per entry up front. Never returns NULL. */
struct sphinx_replay *sphinx_replay_new(size_t max_entries);
/* Free the cache (NULL allowed). */
void sphinx_replay_free(struct sphinx_replay *rc);
#define SPHINX_REPLAY_FREE(p) do { sphinx_replay_free(p); (p) = NULL; } while (0)

/* Remember tag. Return 0 if it was new (now stored), ERR_REPLAY if it was
 * already there, ERR_FULL if it is new but the cache is at its bound (the
 * packet must be dropped). */
int MUST_CHECK sphinx_replay_add(struct sphinx_replay *rc,
				 const uint8_t tag[static SPHINX_REPLAY_TAG_LEN]);
/* Report whether tag is stored. */
bool sphinx_replay_has(const struct sphinx_replay *rc,
		       const uint8_t tag[static SPHINX_REPLAY_TAG_LEN]);
/* Number of stored tags, and the bound. */
size_t sphinx_replay_count(const struct sphinx_replay *rc);
size_t sphinx_replay_max(const struct sphinx_replay *rc);
/* Forget every tag and pick a new hash key (a new packet key epoch). */
void sphinx_replay_clear(struct sphinx_replay *rc);

#endif
