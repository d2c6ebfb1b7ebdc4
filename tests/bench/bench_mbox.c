/* Benchmark of the mailbox store: durable deposits per second with grouped
 * commits (relay/mbox_commit, as the relay runs it) against one commit per
 * deposit, in the same run on the same disk, and fetch throughput.
 *
 * The database lives under $BUILD/bench-tmp (not /tmp, which may be tmpfs
 * where fsync costs nothing); the filesystem type is printed as a comment. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

#include <event2/event.h>
#include <sodium.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "relay/mbox_commit.h"
#include "relay/mbox_store.h"

#define ENTRY_LEN 1710
#define NBOXES 64
#define NOW 1700000000ull
#define SINGLE_MAX 20000
#define GROUPED_MAX 60000
#define INFLIGHT 1024		/* deposits waiting for their ack, as from many links */
#define RUN_NS 2000000000ull
#define FETCH_BOXES 8
#define FETCH_PER_BOX 2500
#define FETCH_BATCH 32

static char dir[512];
static uint8_t entry[ENTRY_LEN];
static uint8_t boxes[NBOXES][MBOX_ID_LEN];

static const char *
fs_name(const char *path)
{
	struct statfs sf;

	if (statfs(path, &sf) < 0)
		return "unknown";
	switch ((unsigned long)sf.f_type) {
	case 0xEF53: return "ext4";
	case 0x01021994: return "tmpfs";
	case 0x58465342: return "xfs";
	case 0x9123683E: return "btrfs";
	case 0x794c7630: return "overlayfs";
	case 0x6969: return "nfs";
	case 0x2011BAB0: return "exfat";
	case 0xF2F52010: return "f2fs";
	case 0x65735546: return "fuse";
	default: return "other";
	}
}

static struct mbox_store *
fresh_store(const char *name)
{
	struct mbox_store *s = NULL;
	char path[700];
	int r;

	snprintf(path, sizeof(path), "%s/%s.db", dir, name);
	if ((r = mbox_store_open(&s, path, NULL)) < 0)
		fatal("bench: cannot open %s: %s", path, err_str(r));
	return s;
}

static void
msg_id(uint8_t id[MBOX_MSG_ID_LEN], uint64_t n)
{
	memset(id, 0, MBOX_MSG_ID_LEN);
	for (int i = 0; i < 8; i++)
		id[i] = (uint8_t)(n >> (8 * i));
}

static double
bench_single(void)
{
	struct mbox_store *s = fresh_store("single");
	uint64_t t0 = mono_ns(), n = 0;
	double rate;

	while (n < SINGLE_MAX && mono_ns() - t0 < RUN_NS) {
		uint8_t id[MBOX_MSG_ID_LEN];

		msg_id(id, n);
		if (mbox_store_put(s, boxes[n % NBOXES], id, entry, ENTRY_LEN, NOW) != 0)
			fatal("bench: put failed");
		n++;
	}
	rate = (double)n / ((double)(mono_ns() - t0) / 1e9);
	mbox_store_free(s);
	return rate;
}

struct grouped {
	struct mbox_commit *c;
	uint64_t sent, done, failed;
};

static void
on_done(int result, size_t n_deleted, void *arg)
{
	struct grouped *g = arg;

	g->done++;
	if (result != 0)
		g->failed++;
}

static void
send_one(struct grouped *g)
{
	uint8_t id[MBOX_MSG_ID_LEN];

	msg_id(id, g->sent);
	if (mbox_commit_put(g->c, boxes[g->sent % NBOXES], id, entry, ENTRY_LEN, NOW, on_done,
			    g) != 0)
		fatal("bench: queue refused a deposit");
	g->sent++;
}

static double
bench_grouped(double *mean_batch)
{
	struct mbox_store *s = fresh_store("grouped");
	struct event_base *base = event_base_new();
	struct grouped g = { 0 };
	struct mbox_stats st;
	uint64_t t0, end;
	double rate;

	g.c = mbox_commit_new(s, base, 0, 0);
	t0 = mono_ns();
	end = GROUPED_MAX;
	while (g.sent < INFLIGHT)
		send_one(&g);
	while (g.done < end) {
		event_base_loop(base, EVLOOP_ONCE);
		/* Refill as acknowledgements come back, as a busy relay would. */
		if (mono_ns() - t0 >= RUN_NS && end > g.sent)
			end = g.sent;
		while (g.sent < end && g.sent - g.done < INFLIGHT)
			send_one(&g);
	}
	rate = (double)g.done / ((double)(mono_ns() - t0) / 1e9);
	if (g.failed)
		fatal("bench: %llu grouped deposits failed", (unsigned long long)g.failed);
	mbox_commit_free(g.c);
	mbox_store_stats(s, &st);
	*mean_batch = st.commits ? (double)st.ops_committed / (double)st.commits : 0;
	event_base_free(base);
	mbox_store_free(s);
	return rate;
}

static void
bench_fetch(double *fetch_rate, double *drain_rate)
{
	struct mbox_store *s = fresh_store("fetch");
	struct mbox_op *ops = xcalloc(FETCH_PER_BOX, sizeof(*ops));
	uint8_t (*ids)[MBOX_MSG_ID_LEN] = xcalloc(FETCH_PER_BOX, MBOX_MSG_ID_LEN);
	struct mbox_item items[FETCH_BATCH];
	uint64_t t0, fetched = 0, rounds = 0;

	for (int b = 0; b < FETCH_BOXES; b++) {
		for (int i = 0; i < FETCH_PER_BOX; i++) {
			msg_id(ids[i], (uint64_t)b * FETCH_PER_BOX + (uint64_t)i);
			ops[i] = (struct mbox_op){ .kind = MBOX_OP_PUT, .box = boxes[b],
						   .msg_id = ids[i], .entry = entry,
						   .len = ENTRY_LEN };
		}
		if (mbox_store_apply(s, ops, FETCH_PER_BOX, NOW) < 0)
			fatal("bench: fill failed");
	}

	/* Fetch every mailbox in batches, without acknowledging, until at
	 * least the run time has passed. */
	t0 = mono_ns();
	do {
		for (int b = 0; b < FETCH_BOXES; b++) {
			uint64_t after = 0;
			size_t n;

			do {
				if (mbox_store_fetch(s, boxes[b], after, FETCH_BATCH, items, &n) < 0)
					fatal("bench: fetch failed");
				if (n)
					after = items[n - 1].seq;
				fetched += n;
				mbox_items_clear(items, n);
			} while (n == FETCH_BATCH);
		}
		rounds++;
	} while (mono_ns() - t0 < RUN_NS / 2 && rounds < 50);
	*fetch_rate = (double)fetched / ((double)(mono_ns() - t0) / 1e9);

	/* Fetch then acknowledge each batch (one commit per batch), draining. */
	fetched = 0;
	t0 = mono_ns();
	for (int b = 0; b < FETCH_BOXES; b++) {
		size_t n, del;

		do {
			if (mbox_store_fetch(s, boxes[b], 0, FETCH_BATCH, items, &n) < 0)
				fatal("bench: fetch failed");
			for (size_t i = 0; i < n; i++)
				memcpy(ids[i], items[i].msg_id, MBOX_MSG_ID_LEN);
			mbox_items_clear(items, n);
			if (mbox_store_ack(s, boxes[b], (const uint8_t (*)[MBOX_MSG_ID_LEN])ids, n,
					   &del) < 0 || del != n)
				fatal("bench: ack failed");
			fetched += n;
		} while (n == FETCH_BATCH);
	}
	*drain_rate = (double)fetched / ((double)(mono_ns() - t0) / 1e9);
	free(ops);
	free(ids);
	mbox_store_free(s);
}

static void
rm_dir(void)
{
	static const char *const names[] = { "single", "grouped", "fetch" };
	static const char *const sfx[] = { ".db", ".db-wal", ".db-shm" };
	char p[800];

	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		for (size_t j = 0; j < ARRAY_LEN(sfx); j++) {
			snprintf(p, sizeof(p), "%s/%s%s", dir, names[i], sfx[j]);
			unlink(p);
		}
	rmdir(dir);
}

int
main(void)
{
	const char *build = getenv("BUILD");
	char parent[400];
	double single, grouped, batch, fetch, drain;

	crypto_init();
	snprintf(parent, sizeof(parent), "%s/bench-tmp", build && *build ? build : "build");
	if (mkdir(parent, 0700) < 0 && errno != EEXIST)
		fatal("bench: mkdir %s: %s", parent, strerror(errno));
	snprintf(dir, sizeof(dir), "%s/mbox.XXXXXX", parent);
	if (!mkdtemp(dir))
		fatal("bench: mkdtemp: %s", strerror(errno));
	randombytes_buf(entry, sizeof(entry));
	randombytes_buf(boxes, sizeof(boxes));

	printf("# mbox store on %s (%s), %d-byte entries, WAL synchronous=FULL\n", dir,
	       fs_name(dir), ENTRY_LEN);
	single = bench_single();
	grouped = bench_grouped(&batch);
	bench_fetch(&fetch, &drain);
	printf("mbox_deposits_per_s_one_commit_each: %.0f\n", single);
	printf("mbox_deposits_per_s_grouped: %.0f\n", grouped);
	printf("mbox_grouped_vs_single: %.2f\n", grouped / single);
	printf("mbox_grouped_mean_batch: %.1f\n", batch);
	printf("mbox_fetch_msgs_per_s: %.0f\n", fetch);
	printf("mbox_fetch_ack_msgs_per_s: %.0f\n", drain);
	rm_dir();
	return 0;
}
