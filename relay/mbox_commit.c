/* Group commit: a writer thread drains a queue of mailbox ops into
 * mbox_store_apply() and hands finished ops back to the event loop through
 * a pipe. See relay/mbox_commit.h. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include "common/err.h"
#include "common/log.h"
#include "common/util.h"
#include "relay/mbox_commit.h"

struct pending {
	struct pending *next;
	struct mbox_op op;		/* points into the fields below */
	uint8_t box[MBOX_ID_LEN];
	uint8_t msg_id[MBOX_MSG_ID_LEN];
	uint8_t *entry;			/* PUT: owned copy */
	uint8_t (*ids)[MBOX_MSG_ID_LEN];	/* ACK: owned copy */
	uint64_t now;
	mbox_done_fn *cb;
	void *arg;
};

struct mbox_commit {
	struct mbox_store *store;
	size_t max_batch, max_queue;
	pthread_t thread;
	int wake_r, wake_w;		/* writer → loop */
	struct event *wake_ev;

	pthread_mutex_t mu;		/* the lists and stopping */
	pthread_cond_t cv;
	struct pending *queue, **queue_tail;
	struct pending *done, **done_tail;
	bool stopping;

	/* Loop thread only. */
	bool closing;			/* in mbox_commit_free: refuse new ops */
	size_t pending;
	uint64_t queue_full;
};

static void
pending_free(struct pending *p)
{
	free(p->entry);
	free(p->ids);
	free(p);
}

static void
wake_loop(struct mbox_commit *c)
{
	ssize_t n;

	/* A full pipe already holds a wake-up: EAGAIN is fine. */
	do {
		n = write(c->wake_w, "", 1);
	} while (n < 0 && errno == EINTR);
}

static void *
writer_main(void *varg)
{
	struct mbox_commit *c = varg;
	struct mbox_op *ops = xcalloc(c->max_batch, sizeof(*ops));
	struct pending **batch = xcalloc(c->max_batch, sizeof(*batch));

	for (;;) {
		struct pending *first, *last = NULL;
		uint64_t now = 0;
		size_t n = 0;

		pthread_mutex_lock(&c->mu);
		while (!c->queue && !c->stopping)
			pthread_cond_wait(&c->cv, &c->mu);
		if (!c->queue) {
			pthread_mutex_unlock(&c->mu);
			break;
		}
		/* Take whatever queued while the last group was syncing. */
		first = c->queue;
		while (c->queue && n < c->max_batch) {
			last = c->queue;
			batch[n++] = last;
			c->queue = last->next;
		}
		last->next = NULL;
		if (!c->queue)
			c->queue_tail = &c->queue;
		pthread_mutex_unlock(&c->mu);

		for (size_t i = 0; i < n; i++) {
			ops[i] = batch[i]->op;
			now = MAX(now, batch[i]->now);
		}
		/* On failure every result is ERR_IO: nothing of the group is
		 * stored and no deposit of it is acknowledged. */
		if (mbox_store_apply(c->store, ops, n, now) < 0)
			log_info(LD_MBOX, "mailbox commit: group of %zu failed", n);
		for (size_t i = 0; i < n; i++)
			batch[i]->op = ops[i];

		pthread_mutex_lock(&c->mu);
		*c->done_tail = first;
		c->done_tail = &last->next;
		pthread_mutex_unlock(&c->mu);
		wake_loop(c);
	}
	free(ops);
	free(batch);
	return NULL;
}

/* Run the callbacks of every finished op, in queue order. */
static void
deliver(struct mbox_commit *c)
{
	struct pending *p, *next;

	pthread_mutex_lock(&c->mu);
	p = c->done;
	c->done = NULL;
	c->done_tail = &c->done;
	pthread_mutex_unlock(&c->mu);
	for (; p; p = next) {
		next = p->next;
		c->pending--;
		if (p->cb)
			p->cb(p->op.result, p->op.n_deleted, p->arg);
		pending_free(p);
	}
}

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct mbox_commit *c = arg;
	char buf[64];

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	deliver(c);
}

struct mbox_commit *
mbox_commit_new(struct mbox_store *store, struct event_base *base, size_t max_batch,
		size_t max_queue)
{
	struct mbox_commit *c = xcalloc(1, sizeof(*c));
	int fds[2];

	c->store = store;
	c->max_batch = max_batch ? max_batch : MBOX_COMMIT_MAX_BATCH;
	c->max_queue = max_queue ? max_queue : MBOX_COMMIT_MAX_QUEUE;
	c->queue_tail = &c->queue;
	c->done_tail = &c->done;
	if (pipe2(fds, O_NONBLOCK | O_CLOEXEC) < 0)
		fatal("mailbox commit: pipe: %s", strerror(errno));
	c->wake_r = fds[0];
	c->wake_w = fds[1];
	c->wake_ev = event_new(base, c->wake_r, EV_READ | EV_PERSIST, on_wake, c);
	if (!c->wake_ev || event_add(c->wake_ev, NULL) < 0)
		fatal("mailbox commit: cannot add wake-up event");
	pthread_mutex_init(&c->mu, NULL);
	pthread_cond_init(&c->cv, NULL);
	if (pthread_create(&c->thread, NULL, writer_main, c) != 0)
		fatal("mailbox commit: cannot start writer thread");
	return c;
}

void
mbox_commit_free(struct mbox_commit *c)
{
	if (!c)
		return;
	c->closing = true;
	pthread_mutex_lock(&c->mu);
	c->stopping = true;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	/* The writer commits everything queued before it exits. */
	pthread_join(c->thread, NULL);
	deliver(c);
	event_free(c->wake_ev);
	close(c->wake_r);
	close(c->wake_w);
	pthread_cond_destroy(&c->cv);
	pthread_mutex_destroy(&c->mu);
	free(c);
}

static int
enqueue(struct mbox_commit *c, struct pending *p)
{
	if (c->closing) {
		pending_free(p);
		return ERR_CLOSED;
	}
	if (c->pending >= c->max_queue) {
		c->queue_full++;
		pending_free(p);
		return ERR_LIMIT;
	}
	c->pending++;
	pthread_mutex_lock(&c->mu);
	*c->queue_tail = p;
	c->queue_tail = &p->next;
	pthread_cond_signal(&c->cv);
	pthread_mutex_unlock(&c->mu);
	return 0;
}

int
mbox_commit_put(struct mbox_commit *c, const uint8_t box[static MBOX_ID_LEN],
		const uint8_t msg_id[static MBOX_MSG_ID_LEN], const uint8_t *entry, size_t len,
		uint64_t now, mbox_done_fn *cb, void *arg)
{
	struct pending *p;

	if (len == 0)
		return ERR_MALFORMED;
	if (len > MBOX_ENTRY_MAX)
		return ERR_TOO_BIG;
	if (c->closing)
		return ERR_CLOSED;
	if (c->pending >= c->max_queue) {
		c->queue_full++;
		return ERR_LIMIT;
	}
	p = xcalloc(1, sizeof(*p));
	memcpy(p->box, box, MBOX_ID_LEN);
	memcpy(p->msg_id, msg_id, MBOX_MSG_ID_LEN);
	p->entry = xmalloc(len);
	memcpy(p->entry, entry, len);
	p->now = now;
	p->cb = cb;
	p->arg = arg;
	p->op.kind = MBOX_OP_PUT;
	p->op.box = p->box;
	p->op.msg_id = p->msg_id;
	p->op.entry = p->entry;
	p->op.len = len;
	return enqueue(c, p);
}

int
mbox_commit_ack(struct mbox_commit *c, const uint8_t box[static MBOX_ID_LEN],
		const uint8_t (*ids)[MBOX_MSG_ID_LEN], size_t n, mbox_done_fn *cb, void *arg)
{
	struct pending *p;

	if (n > MBOX_FETCH_MAX)
		return ERR_LIMIT;
	p = xcalloc(1, sizeof(*p));
	memcpy(p->box, box, MBOX_ID_LEN);
	if (n) {
		p->ids = xcalloc(n, MBOX_MSG_ID_LEN);
		memcpy(p->ids, ids, n * MBOX_MSG_ID_LEN);
	}
	p->cb = cb;
	p->arg = arg;
	p->op.kind = MBOX_OP_ACK;
	p->op.box = p->box;
	p->op.ids = (const uint8_t (*)[MBOX_MSG_ID_LEN])p->ids;
	p->op.n_ids = n;
	return enqueue(c, p);
}

size_t
mbox_commit_pending(const struct mbox_commit *c)
{
	return c->pending;
}

uint64_t
mbox_commit_queue_full(const struct mbox_commit *c)
{
	return c->queue_full;
}
