/* The mix: packets from links are unwrapped on worker threads (the two
 * X25519 operations per packet dominate), then back on the event loop the
 * replay tag is checked against the key's replay set, the per-hop delay
 * the sender chose (capped by MaxHopDelayMs) is honoured with a timer, and
 * the packet is forwarded to the next node by id, or handed to the mailbox
 * for DELIVER. A packet whose next hop no consensus we hold lists waits a
 * little (UnroutedHoldMs, at most UNROUTED_MAX packets) while a fresher
 * consensus is fetched: a relay that just joined is in the sender's view
 * before it is in ours. Everything the mix holds is bounded by QueueLimit;
 * above it reading stops on every link until the queue is half empty. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sodium.h>

#include <event2/event.h>
#include <event2/event_struct.h>

#include "common/log.h"
#include "common/sphinx.h"
#include "common/util.h"
#include "relay/relay_int.h"

struct job {
	struct job *next;
	uint8_t pkt[SPHINX_PACKET_LEN];
	size_t nkeys;
	uint64_t epoch[RELAY_MAX_PKEYS];
	uint8_t sk[RELAY_MAX_PKEYS][X_SK_LEN];
	uint8_t pk[RELAY_MAX_PKEYS][X_PK_LEN];
	int rc;
	size_t used_key;
	uint32_t from;		/* previous hop's IPv4 address, 0 if local */
	struct sphinx_result res;
};

struct delayed {
	struct delayed *next, *prev;
	struct mix *m;
	struct event ev;
	uint8_t next_id[NODE_ID_LEN];
	uint8_t pkt[SPHINX_PACKET_LEN];
};

#define UNROUTED_MAX 256

struct unrouted {
	struct unrouted *next;
	uint64_t deadline_ns;
	uint8_t next_id[NODE_ID_LEN];
	uint8_t pkt[SPHINX_PACKET_LEN];
};

struct mix {
	struct relay *r;
	pthread_t *threads;
	unsigned nthreads;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct job *inq, **inq_tail;	/* to the workers */
	struct job *outq, **outq_tail;	/* back to the loop */
	bool stop;
	int wake[2];
	struct event *wake_ev;
	size_t inflight;		/* jobs in either queue or in a worker */
	size_t ndelayed;
	struct delayed *delayed;
	bool paused;
	struct job *freelist;		/* loop thread only */
	struct unrouted *unrouted, **unrouted_tail;	/* oldest first */
	size_t nunrouted;
	struct event *unrouted_ev;
};

static void
push(struct job **head, struct job ***tail, struct job *j)
{
	j->next = NULL;
	**tail = j;
	*tail = &j->next;
}

static struct job *
pop(struct job **head, struct job ***tail)
{
	struct job *j = *head;

	if (j) {
		*head = j->next;
		if (*head == NULL)
			*tail = head;
	}
	return j;
}

static void
unwrap(struct job *j)
{
	j->rc = ERR_AUTH;
	for (size_t i = 0; i < j->nkeys; i++) {
		j->rc = sphinx_unwrap(&j->res, j->pkt, SPHINX_PACKET_LEN, j->sk[i], j->pk[i]);
		j->used_key = i;
		if (j->rc != ERR_AUTH)
			break;	/* success, or a failure no other key changes */
	}
	sodium_memzero(j->sk, sizeof(j->sk));
}

static void *
worker(void *arg)
{
	struct mix *m = arg;

	for (;;) {
		struct job *j;
		bool was_empty;

		pthread_mutex_lock(&m->mu);
		while (!m->stop && m->inq == NULL)
			pthread_cond_wait(&m->cv, &m->mu);
		if (m->stop && m->inq == NULL) {
			pthread_mutex_unlock(&m->mu);
			return NULL;
		}
		j = pop(&m->inq, &m->inq_tail);
		pthread_mutex_unlock(&m->mu);

		unwrap(j);

		pthread_mutex_lock(&m->mu);
		was_empty = m->outq == NULL;
		push(&m->outq, &m->outq_tail, j);
		pthread_mutex_unlock(&m->mu);
		if (was_empty) {
			uint8_t b = 1;

			while (write(m->wake[1], &b, 1) < 0 && errno == EINTR)
				;
		}
	}
}

static void
update_backpressure(struct mix *m)
{
	size_t q = mix_queued(m);
	size_t lim = m->r->cfg.queue_limit;

	if (!m->paused && q >= lim) {
		m->paused = true;
		peers_pause_input(m->r->peers, true);
	} else if (m->paused && q < lim / 2) {
		m->paused = false;
		peers_pause_input(m->r->peers, false);
	}
}

static void
drop(struct mix *m, enum relay_drop why)
{
	m->r->st.dropped[why]++;
	log_debug(LD_MIX, "packet dropped: %s", relay_drop_name(why));
}

static void
arm_unrouted(struct mix *m)
{
	uint64_t now = mono_ns(), d;
	struct timeval tv;

	if (m->unrouted == NULL) {
		event_del(m->unrouted_ev);
		return;
	}
	d = m->unrouted->deadline_ns > now ? m->unrouted->deadline_ns - now : 0;
	tv.tv_sec = (time_t)(d / 1000000000ull);
	tv.tv_usec = (suseconds_t)(d % 1000000000ull / 1000 + 1);
	event_add(m->unrouted_ev, &tv);
}

/* "When a packet's next hop is unknown, ask for a fresher consensus and
 * hold the packet for a short bounded time before dropping it as
 * no_route" (docs/spec.md part 4). */
static void
hold_unrouted(struct mix *m, const uint8_t next_id[static NODE_ID_LEN], const uint8_t *pkt)
{
	struct relay *r = m->r;
	struct unrouted *u;

	relay_refresh_consensus(r);
	if (r->cfg.unrouted_hold_ms == 0 || m->nunrouted >= UNROUTED_MAX || r->draining) {
		drop(m, DROP_NO_ROUTE);
		return;
	}
	u = xmalloc(sizeof(*u));
	u->next = NULL;
	u->deadline_ns = mono_ns() + r->cfg.unrouted_hold_ms * 1000000ull;
	memcpy(u->next_id, next_id, NODE_ID_LEN);
	memcpy(u->pkt, pkt, SPHINX_PACKET_LEN);
	*m->unrouted_tail = u;
	m->unrouted_tail = &u->next;
	if (m->nunrouted++ == 0)
		arm_unrouted(m);
	r->st.held_no_route++;
}

static void
forward(struct mix *m, const uint8_t next_id[static NODE_ID_LEN], const uint8_t *pkt)
{
	struct relay *r = m->r;
	int rc;

	if (sodium_memcmp(next_id, r->node_id, NODE_ID_LEN) == 0) {
		mix_packet_in(m, pkt, 0);	/* a path through us twice */
		return;
	}
	rc = peers_send_packet(r->peers, next_id, pkt);
	if (rc == 0)
		r->st.forwarded++;
	else if (rc == ERR_NOT_FOUND)
		hold_unrouted(m, next_id, pkt);
	else
		drop(m, DROP_LINK);
}

/* Walk the held packets: send those a consensus now lists, drop those
 * past their deadline (or all of them when flush is set). */
static void
retry_unrouted(struct mix *m, bool flush)
{
	struct relay *r = m->r;
	struct unrouted **pp = &m->unrouted, *u;
	uint64_t now = mono_ns();

	while ((u = *pp) != NULL) {
		int rc = ERR_NOT_FOUND;

		if (!flush && relay_find_node(r, u->next_id, time_now()) != NULL)
			rc = peers_send_packet(r->peers, u->next_id, u->pkt);
		if (rc == ERR_NOT_FOUND && !flush && now < u->deadline_ns) {
			pp = &u->next;
			continue;
		}
		if (rc == 0) {
			r->st.forwarded++;
			r->st.held_routed++;
		} else {
			drop(m, rc == ERR_NOT_FOUND ? DROP_NO_ROUTE : DROP_LINK);
		}
		*pp = u->next;
		m->nunrouted--;
		sodium_memzero(u->pkt, sizeof(u->pkt));
		free(u);
	}
	m->unrouted_tail = pp;
	arm_unrouted(m);
}

static void
on_unrouted(evutil_socket_t fd, short what, void *arg)
{
	struct mix *m = arg;

	retry_unrouted(m, false);
	update_backpressure(m);
	if (m->r->draining)
		relay_drain_check(m->r);
}

void
mix_consensus_changed(struct mix *m)
{
	if (m->nunrouted)
		on_unrouted(-1, 0, m);
}

size_t
mix_unrouted(const struct mix *m)
{
	return m->nunrouted;
}

static void
on_delay(evutil_socket_t fd, short what, void *arg)
{
	struct delayed *d = arg;
	struct mix *m = d->m;

	if (d->prev)
		d->prev->next = d->next;
	else
		m->delayed = d->next;
	if (d->next)
		d->next->prev = d->prev;
	m->ndelayed--;
	forward(m, d->next_id, d->pkt);
	sodium_memzero(d->pkt, sizeof(d->pkt));
	free(d);
	update_backpressure(m);
	if (m->r->draining)
		relay_drain_check(m->r);
}

static void
finish(struct mix *m, struct job *j)
{
	struct relay *r = m->r;
	struct pkey *k;
	uint32_t delay;
	int rc;

	switch (j->rc) {
	case 0:
		break;
	case ERR_AUTH:
		drop(m, DROP_AUTH);
		return;
	case ERR_WEAK_KEY:
		drop(m, DROP_WEAK_KEY);
		return;
	case ERR_UNSUPPORTED:
		drop(m, DROP_UNSUPPORTED);
		return;
	default:
		drop(m, DROP_MALFORMED);
		return;
	}
	/* The key may have been retired while the packet was in a worker. */
	k = pkeys_get(r, j->epoch[j->used_key]);
	if (k == NULL) {
		drop(m, DROP_AUTH);
		return;
	}
	rc = replay_set_add(k->replay, j->res.replay_tag);
	if (rc != 0) {
		drop(m, rc == ERR_REPLAY ? DROP_REPLAY : DROP_REPLAY_FULL);
		return;
	}
	if (j->res.cmd == SPHINX_CMD_DELIVER) {
		if (r->mbox == NULL) {
			drop(m, DROP_NOT_MAILBOX);
			return;
		}
		r->st.delivered++;
		mailbox_deliver(r->mbox, &j->res, j->from);
		return;
	}
	if (!(r->cfg.roles & RELAY_ROLE_MIX)) {	/* a mailbox-only node is always last */
		drop(m, DROP_NOT_MIX);
		return;
	}
	delay = MIN(j->res.delay_ms, r->cfg.max_hop_delay_ms);
	if (delay == 0 || r->draining) {
		forward(m, j->res.next_id, j->pkt);
		return;
	}
	struct delayed *d = xmalloc(sizeof(*d));
	struct timeval tv = { delay / 1000, (delay % 1000) * 1000 };

	d->m = m;
	memcpy(d->next_id, j->res.next_id, NODE_ID_LEN);
	memcpy(d->pkt, j->pkt, SPHINX_PACKET_LEN);
	d->prev = NULL;
	d->next = m->delayed;
	if (m->delayed)
		m->delayed->prev = d;
	m->delayed = d;
	m->ndelayed++;
	event_assign(&d->ev, r->base, -1, 0, on_delay, d);
	event_add(&d->ev, &tv);
}

static void
on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct mix *m = arg;
	uint8_t buf[256];
	struct job *list, *j;

	while (read(fd, buf, sizeof(buf)) > 0)
		;
	pthread_mutex_lock(&m->mu);
	list = m->outq;
	m->outq = NULL;
	m->outq_tail = &m->outq;
	pthread_mutex_unlock(&m->mu);
	while ((j = list) != NULL) {
		list = j->next;
		m->inflight--;
		finish(m, j);
		sodium_memzero(&j->res, sizeof(j->res));
		j->next = m->freelist;
		m->freelist = j;
	}
	update_backpressure(m);
	if (m->r->draining)
		relay_drain_check(m->r);
}

void
mix_packet_in(struct mix *m, const uint8_t pkt[static SPHINX_PACKET_LEN], uint32_t from)
{
	struct relay *r = m->r;
	struct pkey *keys[RELAY_MAX_PKEYS];
	struct job *j;
	size_t n;

	if (mix_queued(m) >= (size_t)r->cfg.queue_limit * 2) {
		drop(m, DROP_QUEUE_FULL);
		return;
	}
	n = pkeys_live(r, time_now(), keys, RELAY_MAX_PKEYS);
	if (n == 0) {
		drop(m, DROP_AUTH);
		return;
	}
	if ((j = m->freelist) != NULL)
		m->freelist = j->next;
	else
		j = xmalloc(sizeof(*j));
	memcpy(j->pkt, pkt, SPHINX_PACKET_LEN);
	j->from = from;
	j->nkeys = n;
	for (size_t i = 0; i < n; i++) {
		j->epoch[i] = keys[i]->epoch;
		memcpy(j->sk[i], keys[i]->kp->sk, X_SK_LEN);
		memcpy(j->pk[i], keys[i]->kp->pk, X_PK_LEN);
	}
	m->inflight++;
	pthread_mutex_lock(&m->mu);
	push(&m->inq, &m->inq_tail, j);
	pthread_cond_signal(&m->cv);
	pthread_mutex_unlock(&m->mu);
	update_backpressure(m);
}

void
mix_send_local(struct mix *m, const uint8_t first_hop[static NODE_ID_LEN],
	       const uint8_t pkt[static SPHINX_PACKET_LEN])
{
	forward(m, first_hop, pkt);
}

size_t
mix_queued(const struct mix *m)
{
	return m->inflight + m->ndelayed + m->nunrouted;
}

void
mix_depths(const struct mix *m, size_t *workq, size_t *delayed)
{
	*workq = m->inflight;
	*delayed = m->ndelayed;
}

void
mix_flush_delays(struct mix *m)
{
	while (m->delayed) {
		struct delayed *d = m->delayed;

		event_del(&d->ev);
		on_delay(-1, 0, d);
	}
}

struct mix *
mix_new(struct relay *r)
{
	struct mix *m = xcalloc(1, sizeof(*m));

	m->r = r;
	m->inq_tail = &m->inq;
	m->outq_tail = &m->outq;
	m->unrouted_tail = &m->unrouted;
	m->unrouted_ev = evtimer_new(r->base, on_unrouted, m);
	pthread_mutex_init(&m->mu, NULL);
	pthread_cond_init(&m->cv, NULL);
	if (pipe2(m->wake, O_NONBLOCK | O_CLOEXEC) != 0)
		fatal("pipe: %s", strerror(errno));
	m->wake_ev = event_new(r->base, m->wake[0], EV_READ | EV_PERSIST, on_wake, m);
	event_add(m->wake_ev, NULL);
	m->nthreads = r->cfg.workers ? r->cfg.workers : 1;
	m->threads = xcalloc(m->nthreads, sizeof(*m->threads));
	for (unsigned i = 0; i < m->nthreads; i++)
		if (pthread_create(&m->threads[i], NULL, worker, m) != 0)
			fatal("pthread_create failed");
	return m;
}

void
mix_free(struct mix *m)
{
	struct job *j;

	if (m == NULL)
		return;
	pthread_mutex_lock(&m->mu);
	m->stop = true;
	pthread_cond_broadcast(&m->cv);
	pthread_mutex_unlock(&m->mu);
	for (unsigned i = 0; i < m->nthreads; i++)
		pthread_join(m->threads[i], NULL);
	while ((j = pop(&m->outq, &m->outq_tail)) != NULL) {
		sodium_memzero(j, sizeof(*j));
		free(j);
	}
	while ((j = m->freelist) != NULL) {
		m->freelist = j->next;
		free(j);
	}
	while (m->delayed) {
		struct delayed *d = m->delayed;

		m->delayed = d->next;
		event_del(&d->ev);
		free(d);
	}
	while (m->unrouted) {
		struct unrouted *u = m->unrouted;

		m->unrouted = u->next;
		sodium_memzero(u->pkt, sizeof(u->pkt));
		free(u);
	}
	event_free(m->unrouted_ev);
	event_free(m->wake_ev);
	close(m->wake[0]);
	close(m->wake[1]);
	pthread_mutex_destroy(&m->mu);
	pthread_cond_destroy(&m->cv);
	free(m->threads);
	free(m);
}
