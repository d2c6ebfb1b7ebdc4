/* Tests for client/store: settings, contacts, outbox states and
 * persistence across a reopen. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "client/store.h"
#include "common/util.h"
#include "tests/check.h"

static struct store *
open_at(const char *path)
{
	struct store *st = NULL;
	char why[256];

	CHECK_EQ(store_open(&st, path, why, sizeof(why)), 0);
	return st;
}

static void
test_meta_and_contacts(void)
{
	struct store *st = open_at(":memory:");
	struct store_contact *c;
	char *v = NULL;
	size_t n;

	CHECK_EQ(store_meta_get(st, "x", &v), ERR_NOT_FOUND);
	CHECK_EQ(store_meta_set(st, "x", "1"), 0);
	CHECK_EQ(store_meta_set(st, "x", "2"), 0);
	CHECK_EQ(store_meta_get(st, "x", &v), 0);
	CHECK_STR(v, "2");
	free(v);
	CHECK_EQ(store_contact_add(st, "bob", "brw1bob"), 0);
	CHECK_EQ(store_contact_add(st, "alice", "brw1alice"), 0);
	CHECK_EQ(store_contact_add(st, "Bob", "brw1other"), ERR_EXISTS);	/* case-insensitive */
	CHECK_EQ(store_contact_add(st, "bad name", "x"), ERR_MALFORMED);
	CHECK_EQ(store_contact_add(st, "brw1x", "x"), ERR_MALFORMED);
	CHECK_EQ(store_contact_get(st, "BOB", &v), 0);
	CHECK_STR(v, "brw1bob");
	free(v);
	CHECK_EQ(store_contact_by_address(st, "brw1alice", &v), 0);
	CHECK_STR(v, "alice");
	free(v);
	CHECK_EQ(store_contact_get(st, "carol", &v), ERR_NOT_FOUND);
	CHECK_EQ(store_contact_list(st, &c, &n), 0);
	CHECK_EQ(n, 2);
	CHECK_STR(c[0].name, "alice");
	store_contacts_free(c, n);
	CHECK_EQ(store_contact_remove(st, "alice"), 0);
	CHECK_EQ(store_contact_remove(st, "alice"), ERR_NOT_FOUND);
	store_free(st);
}

static int64_t
queue(struct store *st, uint32_t count)
{
	uint8_t mid[MSG_ID_LEN], body[64];
	int64_t id = 0;
	uint32_t i;

	randombytes_buf(mid, sizeof(mid));
	CHECK_EQ(store_out_add(st, mid, "brw1to", "bob", count * 10u, count, false, &id), 0);
	for (i = 0; i < count; i++) {
		memset(body, (int)i, sizeof(body));
		CHECK_EQ(store_out_add_frag(st, id, i, body, sizeof(body)), 0);
	}
	CHECK_EQ(store_out_add_frag(st, id, 0, body, sizeof(body)), ERR_EXISTS);
	return id;
}

/* The due query picks from the index, then reads bodies: oldest message
 * first, fragments in order, at most max, due sends before their deadline
 * excluded, acked ones never. */
static void
test_outbox_due_order_and_limit(void)
{
	struct store *st = open_at(":memory:");
	struct store_out_frag *f;
	struct store_out_msg m;
	uint8_t sid[STORE_SURB_ID_LEN], key[8] = { 0 };
	int64_t a = queue(st, 5), b = queue(st, 4);
	size_t n;
	bool newly;

	memset(sid, 7, sizeof(sid));
	CHECK_EQ(store_out_sent(st, a, 0, 9000, sid, key, sizeof(key)), 0);
	CHECK_EQ(store_out_acked(st, a, 0, &newly), 0);
	CHECK_EQ(store_out_sent(st, a, 1, 9000, sid, key, sizeof(key)), 0);
	CHECK_EQ(store_out_due(st, 0, 1000, 5, &f, &n), 0);
	CHECK_EQ(n, 5);
	CHECK_EQ(f[0].msg, a);
	CHECK_EQ(f[0].index, 2);
	CHECK_EQ(f[2].index, 4);
	CHECK_EQ(f[3].msg, b);
	CHECK_EQ(f[3].index, 0);
	CHECK_EQ(f[4].index, 1);
	CHECK_EQ(f[4].body[0], 1);
	store_out_frags_free(f, n);
	/* past its deadline, fragment 1 of a is due again, in order */
	CHECK_EQ(store_out_due(st, a, 9000, 100, &f, &n), 0);
	CHECK_EQ(n, 4);
	CHECK_EQ(f[0].index, 1);
	CHECK_EQ(f[0].tries, 1);
	store_out_frags_free(f, n);
	CHECK_EQ(store_out_get(st, a, &m), 0);
	CHECK_EQ(m.acked, 1);
	CHECK_EQ(m.sent, 1);
	CHECK_EQ(m.pending, 3);
	CHECK_EQ(m.sends, 2);
	store_out_msg_clear(&m);
	store_free(st);
}

static void
test_outbox_states(void)
{
	struct store *st = open_at(":memory:");
	struct store_out_frag *f;
	struct store_out_msg m;
	uint8_t sid[STORE_SURB_ID_LEN], key[80], *k;
	size_t n, klen;
	int64_t id = queue(st, 3), msg;
	uint32_t idx, i;
	bool newly;

	CHECK_EQ(store_out_due(st, 0, 1000, 100, &f, &n), 0);
	CHECK_EQ(n, 3);
	CHECK_EQ(f[2].index, 2);
	CHECK_EQ(f[2].body_len, 64);
	CHECK_EQ(f[2].body[0], 2);
	store_out_frags_free(f, n);
	for (i = 0; i < 3; i++) {
		memset(sid, (int)i + 1, sizeof(sid));
		randombytes_buf(key, sizeof(key));
		CHECK_EQ(store_out_sent(st, id, i, 5000, sid, key, sizeof(key)), 0);
	}
	/* nothing due before the deadline; all due after */
	CHECK_EQ(store_out_due(st, 0, 4999, 100, &f, &n), 0);
	CHECK_EQ(n, 0);
	store_out_frags_free(f, n);
	CHECK_EQ(store_out_due(st, id, 5000, 100, &f, &n), 0);
	CHECK_EQ(n, 3);
	CHECK_EQ(f[0].tries, 1);
	CHECK_EQ(f[0].state, FRAG_SENT);
	store_out_frags_free(f, n);
	/* an ack found through its SURB id */
	memset(sid, 2, sizeof(sid));
	CHECK_EQ(store_out_surb(st, sid, &k, &klen, &msg, &idx), 0);
	CHECK_EQ(klen, sizeof(key));
	CHECK_EQ(msg, id);
	CHECK_EQ(idx, 1);
	free(k);
	CHECK_EQ(store_out_acked(st, id, 1, &newly), 0);
	CHECK(newly);
	CHECK_EQ(store_out_acked(st, id, 1, &newly), 0);	/* duplicate ack */
	CHECK(!newly);
	CHECK_EQ(store_out_surb(st, sid, &k, &klen, &msg, &idx), ERR_NOT_FOUND);
	CHECK_EQ(store_out_get(st, id, &m), 0);
	CHECK_EQ(m.state, OUT_SENDING);
	CHECK_EQ(m.acked, 1);
	CHECK_EQ(m.sent, 2);
	store_out_msg_clear(&m);
	CHECK_EQ(store_out_acked(st, id, 0, &newly), 0);
	CHECK_EQ(store_out_acked(st, id, 2, &newly), 0);
	CHECK_EQ(store_out_get(st, id, &m), 0);
	CHECK_EQ(m.state, OUT_DELIVERED);
	store_out_msg_clear(&m);
	/* delivered messages have nothing due */
	CHECK_EQ(store_out_due(st, 0, 99999, 100, &f, &n), 0);
	CHECK_EQ(n, 0);
	store_out_frags_free(f, n);
	store_free(st);
}

static void
test_outbox_failure(void)
{
	struct store *st = open_at(":memory:");
	struct store_out_msg m;
	uint32_t *idx;
	size_t n;
	int64_t id = queue(st, 4);
	bool newly;

	CHECK_EQ(store_out_acked(st, id, 0, &newly), 0);
	CHECK_EQ(store_out_failed(st, id, 2), 0);
	CHECK_EQ(store_out_failed(st, id, 0), 0);	/* acked stays acked */
	CHECK_EQ(store_out_get(st, id, &m), 0);
	CHECK_EQ(m.state, OUT_FAILED);
	CHECK_EQ(m.failed, 1);
	CHECK_EQ(m.acked, 1);
	store_out_msg_clear(&m);
	CHECK_EQ(store_out_failed_list(st, id, &idx, &n), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(idx[0], 2);
	free(idx);
	store_free(st);
}

/* Survives a reopen (an interrupted send resumes): file-backed, WAL. */
static void
test_persistence(void)
{
	char dir[] = "/tmp/burrow-store-XXXXXX", *path, *wal;
	struct store *st;
	struct store_out_frag *f;
	struct store_out_msg *list;
	size_t n;
	int64_t id;

	CHECK(mkdtemp(dir) != NULL);
	path = xasprintf("%s/burrow.db", dir);
	wal = xasprintf("%s/burrow.db-wal", dir);
	st = open_at(path);
	id = queue(st, 5);
	CHECK(access(wal, F_OK) == 0);
	store_free(st);
	st = open_at(path);
	CHECK_EQ(store_out_list(st, &list, &n), 0);
	CHECK_EQ(n, 1);
	CHECK_EQ(list[0].id, id);
	CHECK_EQ(list[0].pending, 5);
	store_out_msgs_free(list, n);
	CHECK_EQ(store_out_due(st, 0, 1, 100, &f, &n), 0);
	CHECK_EQ(n, 5);
	store_out_frags_free(f, n);
	/* a rolled-back transaction leaves nothing */
	CHECK_EQ(store_begin(st), 0);
	CHECK_EQ(store_meta_set(st, "k", "v"), 0);
	store_rollback(st);
	{
		char *v = NULL;

		CHECK_EQ(store_meta_get(st, "k", &v), ERR_NOT_FOUND);
	}
	store_free(st);
	unlink(path);
	unlink(wal);
	free(wal);
	wal = xasprintf("%s/burrow.db-shm", dir);
	unlink(wal);
	rmdir(dir);
	free(wal);
	free(path);
}

static void
test_newer_schema_refused(void)
{
	char dir[] = "/tmp/burrow-store-XXXXXX", *path, why[256];
	struct store *st;

	CHECK(mkdtemp(dir) != NULL);
	path = xasprintf("%s/burrow.db", dir);
	st = open_at(path);
	CHECK_EQ(store_meta_set(st, "schema", "99"), 0);
	store_free(st);
	st = NULL;
	CHECK_EQ(store_open(&st, path, why, sizeof(why)), ERR_UNSUPPORTED);
	CHECK(st == NULL);
	CHECK(strstr(why, "newer") != NULL);
	{
		char *cmd = xasprintf("rm -rf %s", dir);

		CHECK_EQ(system(cmd), 0);
		free(cmd);
	}
	free(path);
}

int
main(int argc, char **argv)
{
	(void)argc;
	check_begin(argv[0]);
	crypto_init();
	RUN(test_meta_and_contacts);
	RUN(test_outbox_states);
	RUN(test_outbox_due_order_and_limit);
	RUN(test_outbox_failure);
	RUN(test_persistence);
	RUN(test_newer_schema_refused);
	return check_end();
}
