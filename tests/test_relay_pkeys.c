/* Tests for relay/pkeys.c: the packet key schedule (ahead generation,
 * grace window, destruction of key and replay set together) and replay
 * sets that survive a restart. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "common/util.h"
#include "relay/relay_int.h"
#include "tests/check.h"

#define EPOCH_LEN 1000

static char tmpl[] = "/tmp/burrow-pkeys.XXXXXX";

static void
node_init(struct relay *r, const char *dir)
{
	memset(r, 0, sizeof(*r));
	r->keydir = xstrdup(dir);
	r->epoch_len = EPOCH_LEN;
	r->cfg.key_grace_s = 30;
	r->cfg.replay_entries = 4096;
}

static bool
file_exists(const char *dir, const char *kind, uint64_t e)
{
	char *p = xasprintf("%s/%s-%llu.%s", dir, kind, (unsigned long long)e,
			    strcmp(kind, "packet") == 0 ? "key" : "tags");
	struct stat sb;
	bool ok = stat(p, &sb) == 0;

	if (ok && strcmp(kind, "packet") == 0)
		CHECK_EQ(sb.st_mode & 0777, 0600);
	free(p);
	return ok;
}

static void
test_schedule(void)
{
	struct relay r;
	struct pkey *live[RELAY_MAX_PKEYS];
	uint64_t now = time_now(), e, next_start;
	uint8_t pk_next[X_PK_LEN];

	node_init(&r, tmpl);
	CHECK_EQ(pkeys_init(&r), 0);
	e = r.epoch;
	CHECK(pkeys_get(&r, e) != NULL);
	CHECK(pkeys_get(&r, e + 1) != NULL);
	CHECK(file_exists(tmpl, "packet", e));
	CHECK(file_exists(tmpl, "packet", e + 1));
	CHECK_EQ(pkeys_live(&r, now, live, RELAY_MAX_PKEYS), 2);
	memcpy(pk_next, pkeys_get(&r, e + 1)->kp->pk, X_PK_LEN);

	/* The next epoch begins: its key is the one published ahead; the key
	 * after it is generated; the old one lives only through the grace. */
	next_start = (e + 1) * EPOCH_LEN;
	CHECK(pkeys_tick(&r, next_start + 1));
	CHECK_EQ(r.epoch, e + 1);
	CHECK(sodium_memcmp(pkeys_get(&r, e + 1)->kp->pk, pk_next, X_PK_LEN) == 0);
	CHECK(pkeys_get(&r, e + 2) != NULL);
	CHECK_EQ(pkeys_live(&r, next_start + 1, live, RELAY_MAX_PKEYS), 3);
	CHECK_EQ(live[0]->epoch, e + 1);	/* current, previous, next */
	CHECK_EQ(live[1]->epoch, e);
	CHECK_EQ(live[2]->epoch, e + 2);
	CHECK(!pkeys_tick(&r, next_start + 29));
	CHECK(pkeys_get(&r, e) != NULL);
	CHECK(!pkeys_tick(&r, next_start + 30));
	CHECK(pkeys_get(&r, e) == NULL);		/* key and replay set gone */
	CHECK(!file_exists(tmpl, "packet", e));
	CHECK(!file_exists(tmpl, "replay", e));
	CHECK_EQ(pkeys_live(&r, next_start + 31, live, RELAY_MAX_PKEYS), 2);
	CHECK_EQ(live[0]->epoch, e + 1);
	CHECK_EQ(live[1]->epoch, e + 2);
	/* The clock is in the next epoch before the tick: that key first. */
	CHECK_EQ(pkeys_live(&r, (e + 2) * EPOCH_LEN, live, RELAY_MAX_PKEYS), 2);
	CHECK_EQ(live[0]->epoch, e + 2);
	CHECK_EQ(live[1]->epoch, e + 1);
	pkeys_free(&r);
	free(r.keydir);
}

static void
test_replay_survives_restart(void)
{
	struct relay r;
	uint8_t tag[SPHINX_REPLAY_TAG_LEN], other[SPHINX_REPLAY_TAG_LEN];
	uint8_t pk[X_PK_LEN];
	struct pkey *k;

	randombytes_buf(tag, sizeof(tag));
	randombytes_buf(other, sizeof(other));
	node_init(&r, tmpl);
	CHECK_EQ(pkeys_init(&r), 0);
	k = pkeys_get(&r, r.epoch);
	CHECK_EQ(replay_set_add(k->replay, tag), 0);
	CHECK_EQ(replay_set_add(k->replay, tag), ERR_REPLAY);
	memcpy(pk, k->kp->pk, X_PK_LEN);
	(void)pkeys_tick(&r, time_now());	/* writes the tag log */
	pkeys_free(&r);
	free(r.keydir);

	node_init(&r, tmpl);
	CHECK_EQ(pkeys_init(&r), 0);
	k = pkeys_get(&r, r.epoch);
	CHECK(k != NULL);
	if (k) {
		CHECK(sodium_memcmp(k->kp->pk, pk, X_PK_LEN) == 0);	/* same key */
		CHECK_EQ(replay_set_add(k->replay, tag), ERR_REPLAY);	/* still a replay */
		CHECK_EQ(replay_set_add(k->replay, other), 0);
		CHECK_EQ(replay_set_count(k->replay), 2);
	}
	pkeys_free(&r);
	free(r.keydir);
}

static void
test_replay_full(void)
{
	struct replay_set *s = replay_set_new(1024);
	uint8_t tag[SPHINX_REPLAY_TAG_LEN];
	int rc = 0;
	size_t i;

	for (i = 0; i < 5000 && rc == 0; i++) {
		randombytes_buf(tag, sizeof(tag));
		rc = replay_set_add(s, tag);
	}
	CHECK_EQ(rc, ERR_FULL);		/* refuses rather than forgets */
	replay_set_free(s);
}

int
main(int argc, char **argv)
{
	char *cmd;
	int rc;

	check_begin(argv[0]);
	crypto_init();
	if (mkdtemp(tmpl) == NULL)
		return 1;
	RUN(test_schedule);
	RUN(test_replay_survives_restart);
	RUN(test_replay_full);
	rc = check_end();
	cmd = xasprintf("rm -rf '%s'", tmpl);
	if (system(cmd) != 0)
		rc = 1;
	free(cmd);
	return rc;
}
