#include "common/sphinx_replay.h"

#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/util.h"

/* Open addressing with linear probing at a load factor of at most 1/2.
 * A slot is empty when its used bit is clear; nothing is ever deleted, so
 * probing stops at the first empty slot. */
struct sphinx_replay {
	size_t max, count, mask;
	uint8_t key[crypto_shorthash_KEYBYTES];
	uint8_t (*tags)[SPHINX_REPLAY_TAG_LEN];
	uint8_t *used;	/* one bit per slot */
};

static size_t
bucket(const struct sphinx_replay *rc, const uint8_t *tag)
{
	uint8_t h[crypto_shorthash_BYTES];
	uint64_t v = 0;

	crypto_shorthash(h, tag, SPHINX_REPLAY_TAG_LEN, rc->key);
	for (size_t i = 0; i < sizeof(h); i++)
		v |= (uint64_t)h[i] << (8 * i);
	return (size_t)v & rc->mask;
}

static bool
is_used(const struct sphinx_replay *rc, size_t i)
{
	return (rc->used[i / 8] >> (i % 8)) & 1;
}

/* Find tag's slot, or the empty slot where it would go. */
static size_t
find(const struct sphinx_replay *rc, const uint8_t *tag, bool *found)
{
	size_t i = bucket(rc, tag);

	while (is_used(rc, i)) {
		if (crypto_verify_16(rc->tags[i], tag) == 0) {
			*found = true;
			return i;
		}
		i = (i + 1) & rc->mask;
	}
	*found = false;
	return i;
}

struct sphinx_replay *
sphinx_replay_new(size_t max_entries)
{
	struct sphinx_replay *rc = xcalloc(1, sizeof(*rc));
	size_t cap = 16;

	if (max_entries < 1)
		max_entries = 1;
	if (max_entries > SPHINX_REPLAY_MAX_ENTRIES)
		max_entries = SPHINX_REPLAY_MAX_ENTRIES;
	while (cap < 2 * max_entries)
		cap *= 2;
	rc->max = max_entries;
	rc->mask = cap - 1;
	rc->tags = xcalloc(cap, SPHINX_REPLAY_TAG_LEN);
	rc->used = xcalloc(cap / 8, 1);
	crypto_shorthash_keygen(rc->key);
	return rc;
}

void
sphinx_replay_free(struct sphinx_replay *rc)
{
	if (!rc)
		return;
	free(rc->tags);
	free(rc->used);
	sodium_memzero(rc->key, sizeof(rc->key));
	free(rc);
}

int
sphinx_replay_add(struct sphinx_replay *rc, const uint8_t tag[static SPHINX_REPLAY_TAG_LEN])
{
	bool found;
	size_t i = find(rc, tag, &found);

	if (found)
		return ERR_REPLAY;
	if (rc->count >= rc->max)
		return ERR_FULL;
	memcpy(rc->tags[i], tag, SPHINX_REPLAY_TAG_LEN);
	rc->used[i / 8] |= (uint8_t)(1u << (i % 8));
	rc->count++;
	return 0;
}

bool
sphinx_replay_has(const struct sphinx_replay *rc, const uint8_t tag[static SPHINX_REPLAY_TAG_LEN])
{
	bool found;

	(void)find(rc, tag, &found);
	return found;
}

size_t
sphinx_replay_count(const struct sphinx_replay *rc)
{
	return rc->count;
}

size_t
sphinx_replay_max(const struct sphinx_replay *rc)
{
	return rc->max;
}

void
sphinx_replay_clear(struct sphinx_replay *rc)
{
	memset(rc->tags, 0, (rc->mask + 1) * SPHINX_REPLAY_TAG_LEN);
	memset(rc->used, 0, (rc->mask + 1) / 8);
	rc->count = 0;
	crypto_shorthash_keygen(rc->key);
}
