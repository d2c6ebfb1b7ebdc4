/* The mailbox role over the network: DELIVER packets become deposits in
 * the store through grouped commits (relay/mbox_commit.h); only after a
 * deposit's group is durable is its ACK sent through the sender's ACK SURB
 * (again for a retransmitted message id). Owners fetch over a link with
 * the protocol of common/fetchproto.h; a message is deleted only when its
 * owner acknowledges it. */
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <sodium.h>

#include <event2/event.h>

#include "common/fetchproto.h"
#include "common/log.h"
#include "common/util.h"
#include "relay/mbox_commit.h"
#include "relay/mbox_store.h"
#include "relay/metrics.h"
#include "relay/relay_int.h"

/* The ACK a mailbox node sends through a SURB: "burrow-ack1" ‖ msg id. */
#define ACK_MAGIC "burrow-ack1"

struct sess {
	struct sess *next;
	uint64_t conn;
	bool have_challenge, authed;
	uint8_t challenge[FETCH_CHALLENGE_LEN];
	uint8_t box[MBOX_ID_LEN];
	uint64_t after;
};

struct mailbox {
	struct relay *r;
	struct mbox_store *store;
	struct mbox_commit *commit;
	struct sess *sess;
	struct event *expire;
	uint64_t deposits, dup, refused_full, refused_queue, io_errors, acks_sent, ack_fail;
	uint64_t fetch_ok, fetch_refused, slots_sent, acked;
	uint32_t *dep_peers;		/* LogDepositPeers: addresses logged so far */
	size_t ndep_peers;
};

/* LogDepositPeers remembers at most this many addresses. */
#define DEP_PEERS_MAX 4096

struct put_ctx {
	struct mailbox *mb;
	bool has_ack;
	uint8_t msg_id[SPHINX_MSG_ID_LEN];
	struct sphinx_surb surb;
};

struct ack_ctx {
	struct mailbox *mb;
	uint64_t conn;
};

static void
send_ack(struct mailbox *mb, struct put_ctx *p)
{
	uint8_t pkt[SPHINX_PACKET_LEN], first[SPHINX_ID_LEN];
	uint8_t msg[sizeof(ACK_MAGIC) - 1 + SPHINX_MSG_ID_LEN];

	memcpy(msg, ACK_MAGIC, sizeof(ACK_MAGIC) - 1);
	memcpy(msg + sizeof(ACK_MAGIC) - 1, p->msg_id, SPHINX_MSG_ID_LEN);
	if (sphinx_surb_reply(pkt, first, &p->surb, msg, sizeof(msg)) != 0) {
		mb->ack_fail++;
		return;
	}
	mb->acks_sent++;
	mb->r->st.acks_sent++;
	mix_send_local(mb->r->mix, first, pkt);
}

static void
on_put(int result, size_t n_deleted, void *arg)
{
	struct put_ctx *p = arg;
	struct mailbox *mb = p->mb;

	switch (result) {
	case 0:
		mb->deposits++;
		break;
	case ERR_DUPLICATE:
		mb->dup++;
		break;
	case ERR_FULL:
		mb->refused_full++;
		mb->r->st.deposits_refused_full++;
		break;
	default:
		mb->io_errors++;
		break;
	}
	if ((result == 0 || result == ERR_DUPLICATE) && p->has_ack)
		send_ack(mb, p);
	sodium_memzero(p, sizeof(*p));
	free(p);
	if (mb->r->draining)
		relay_drain_check(mb->r);
}

/* LogDepositPeers: "deposits arrive from peer A.B.C.D" once per address,
 * so that a test harness can show that every deposit came from a relay and
 * none straight from a sender. */
static void
note_peer(struct mailbox *mb, uint32_t from)
{
	char a[INET_ADDRSTRLEN];
	struct in_addr in;

	if (!mb->r->cfg.log_deposit_peers || from == 0)
		return;
	for (size_t i = 0; i < mb->ndep_peers; i++)
		if (mb->dep_peers[i] == from)
			return;
	if (mb->ndep_peers == DEP_PEERS_MAX)
		return;
	if (mb->dep_peers == NULL)
		mb->dep_peers = xcalloc(DEP_PEERS_MAX, sizeof(*mb->dep_peers));
	mb->dep_peers[mb->ndep_peers++] = from;
	in.s_addr = from;
	if (inet_ntop(AF_INET, &in, a, sizeof(a)) != NULL)
		log_notice(LD_MBOX, "deposits arrive from peer %s", a);
}

void
mailbox_deliver(struct mailbox *mb, const struct sphinx_result *res, uint32_t from)
{
	struct put_ctx *p = xcalloc(1, sizeof(*p));
	int rc;

	note_peer(mb, from);

	p->mb = mb;
	p->has_ack = res->has_ack;
	memcpy(p->msg_id, res->msg_id, SPHINX_MSG_ID_LEN);
	if (res->has_ack)
		p->surb = res->ack;
	rc = mbox_commit_put(mb->commit, res->mailbox_id, res->msg_id, res->deposit,
			     res->deposit_len, time_now(), on_put, p);
	if (rc != 0) {
		mb->refused_queue++;
		free(p);
	}
}

/* ---- fetch sessions ---- */

static struct sess *
sess_get(struct mailbox *mb, uint64_t conn, bool create)
{
	struct sess *s;

	for (s = mb->sess; s; s = s->next)
		if (s->conn == conn)
			return s;
	if (!create)
		return NULL;
	s = xcalloc(1, sizeof(*s));
	s->conn = conn;
	s->next = mb->sess;
	mb->sess = s;
	return s;
}

void
mailbox_conn_closed(struct mailbox *mb, uint64_t conn)
{
	for (struct sess **pp = &mb->sess; *pp; pp = &(*pp)->next) {
		if ((*pp)->conn == conn) {
			struct sess *s = *pp;

			*pp = s->next;
			sodium_memzero(s, sizeof(*s));
			free(s);
			return;
		}
	}
}

static void
refuse(struct mailbox *mb, struct sess *s)
{
	uint8_t m[FETCH_REFUSE_LEN];

	s->authed = false;
	s->have_challenge = false;
	sodium_memzero(s->challenge, sizeof(s->challenge));
	mb->fetch_refused++;
	mb->r->st.fetch_refused++;
	(void)peers_send_control(mb->r->peers, s->conn, m, fetch_refuse_encode(m));
}

static void
do_hello(struct mailbox *mb, struct sess *s, const uint8_t *msg, size_t len)
{
	uint8_t m[FETCH_CHALLENGE_MSG_LEN];

	if (fetch_hello_parse(msg, len) != 0) {
		refuse(mb, s);
		return;
	}
	s->authed = false;
	randombytes_buf(s->challenge, sizeof(s->challenge));
	s->have_challenge = true;
	(void)peers_send_control(mb->r->peers, s->conn, m, fetch_challenge_encode(m, s->challenge));
}

static void
do_auth(struct mailbox *mb, struct sess *s, const uint8_t *msg, size_t len)
{
	uint8_t idpk[ID_PK_LEN], sig[ID_SIG_LEN], h[FETCH_HASH_LEN];
	bool ok;

	if (!s->have_challenge || fetch_auth_parse(idpk, sig, msg, len) != 0 ||
	    peers_handshake_hash(mb->r->peers, s->conn, h) != 0) {
		refuse(mb, s);
		return;
	}
	ok = fetch_auth_verify(sig, idpk, mb->r->node_id, h, s->challenge) == 0;
	/* The challenge is single use, whatever the outcome. */
	s->have_challenge = false;
	sodium_memzero(s->challenge, sizeof(s->challenge));
	if (!ok) {
		refuse(mb, s);
		return;
	}
	s->authed = true;
	s->after = 0;
	fetch_box_id(s->box, idpk);
	mb->fetch_ok++;
	mb->r->st.fetch_sessions++;
}

static void
do_fetch(struct mailbox *mb, struct sess *s, const uint8_t *msg, size_t len)
{
	struct mbox_item items[FETCH_BATCH + 1];
	static struct fetch_slot slot;
	uint8_t m[FETCH_SLOT_LEN];
	size_t n = 0;

	if (!s->authed || fetch_fetch_parse(msg, len) != 0) {
		refuse(mb, s);
		return;
	}
	memset(items, 0, sizeof(items));
	if (mbox_store_fetch(mb->store, s->box, s->after, FETCH_BATCH + 1, items, &n) != 0)
		n = 0;
	for (unsigned i = 0; i < FETCH_BATCH; i++) {
		memset(&slot, 0, sizeof(slot));
		slot.index = (uint8_t)i;
		if (i < n && items[i].len <= FETCH_ENTRY_MAX) {
			slot.flags = FETCH_SLOT_PRESENT;
			memcpy(slot.msg_id, items[i].msg_id, FETCH_MSG_ID_LEN);
			slot.received = items[i].received;
			slot.len = (uint16_t)items[i].len;
			memcpy(slot.entry, items[i].entry, items[i].len);
			s->after = items[i].seq;
			mb->slots_sent++;
		}
		if (i == FETCH_BATCH - 1 && n > FETCH_BATCH)
			slot.flags |= FETCH_SLOT_MORE;
		(void)peers_send_control(mb->r->peers, s->conn, m, fetch_slot_encode(m, &slot));
	}
	sodium_memzero(&slot, sizeof(slot));
	mbox_items_clear(items, n);
}

static void
on_acked(int result, size_t n_deleted, void *arg)
{
	struct ack_ctx *a = arg;
	uint8_t m[FETCH_ACKED_LEN];

	if (result == 0) {
		a->mb->acked += n_deleted;
		(void)peers_send_control(a->mb->r->peers, a->conn, m,
					 fetch_acked_encode(m, (uint8_t)n_deleted));
	}
	free(a);
}

static void
do_ack(struct mailbox *mb, struct sess *s, const uint8_t *msg, size_t len)
{
	struct fetch_ack ack;
	struct ack_ctx *a;

	if (!s->authed || fetch_ack_parse(&ack, msg, len) != 0) {
		refuse(mb, s);
		return;
	}
	a = xmalloc(sizeof(*a));
	a->mb = mb;
	a->conn = s->conn;
	if (mbox_commit_ack(mb->commit, s->box, (const uint8_t(*)[MBOX_MSG_ID_LEN])ack.ids, ack.n,
			    on_acked, a) != 0) {
		free(a);
		refuse(mb, s);
	}
}

void
mailbox_control(struct mailbox *mb, uint64_t conn, const uint8_t *msg, size_t len)
{
	struct sess *s = sess_get(mb, conn, true);

	switch (fetch_msg_type(msg, len)) {
	case FETCH_T_HELLO:
		do_hello(mb, s, msg, len);
		break;
	case FETCH_T_AUTH:
		do_auth(mb, s, msg, len);
		break;
	case FETCH_T_FETCH:
		do_fetch(mb, s, msg, len);
		break;
	case FETCH_T_ACK:
		do_ack(mb, s, msg, len);
		break;
	default:
		refuse(mb, s);
		break;
	}
}

/* ---- limits, expiry, metrics ---- */

static struct mbox_limits
limits_of(const struct relay_config *c)
{
	struct mbox_limits l = mbox_limits_default();

	l.max_msgs_per_box = (uint32_t)MIN(c->mbox_max_messages, UINT32_MAX);
	l.max_bytes_per_box = c->mbox_max_bytes;
	l.ttl_seconds = c->mbox_ttl_s;
	l.time_grain = c->mbox_time_grain_s;
	l.max_total_bytes = c->mbox_disk_cap;
	return l;
}

/* Sweep often enough that a message outlives its TTL by at most about
 * half the shorter of the TTL and the time grain (and never more than
 * 30 s late): a message can only expire once a grain has passed. */
static void
arm_expiry(struct mailbox *mb)
{
	const struct relay_config *c = &mb->r->cfg;
	uint64_t grain = c->mbox_time_grain_s ? c->mbox_time_grain_s : MBOX_TIME_GRAIN;
	uint64_t s = MIN(MIN(c->mbox_ttl_s ? c->mbox_ttl_s : grain, grain) / 2,
			 MBOX_TIME_GRAIN / 2);
	struct timeval tv = { (time_t)MAX(s, 1), 0 };

	event_del(mb->expire);
	event_add(mb->expire, &tv);
}

void
mailbox_apply_limits(struct mailbox *mb)
{
	struct mbox_limits l = limits_of(&mb->r->cfg);

	mbox_store_set_limits(mb->store, &l);
	arm_expiry(mb);
}

static void
on_expire(evutil_socket_t fd, short what, void *arg)
{
	struct mailbox *mb = arg;
	uint64_t removed = 0;

	if (mbox_store_expire(mb->store, time_now(), &removed) != 0)
		mb->io_errors++;
	else if (removed)
		log_info(LD_MBOX, "expired %llu messages", (unsigned long long)removed);
}

int
mailbox_new(struct mailbox **out, struct relay *r)
{
	struct mailbox *mb = xcalloc(1, sizeof(*mb));
	struct mbox_limits l = limits_of(&r->cfg);
	char *path = xasprintf("%s/mailbox.db", r->cfg.datadir);
	int rc;

	*out = NULL;
	mb->r = r;
	rc = mbox_store_open(&mb->store, path, &l);
	free(path);
	if (rc != 0) {
		free(mb);
		return rc;
	}
	mb->commit = mbox_commit_new(mb->store, r->base, 0, 0);
	mb->expire = event_new(r->base, -1, EV_PERSIST, on_expire, mb);
	arm_expiry(mb);
	*out = mb;
	return 0;
}

void
mailbox_free(struct mailbox *mb)
{
	if (mb == NULL)
		return;
	mbox_commit_free(mb->commit);
	mbox_store_free(mb->store);
	event_free(mb->expire);
	free(mb->dep_peers);
	while (mb->sess)
		mailbox_conn_closed(mb, mb->sess->conn);
	free(mb);
}

size_t
mailbox_pending(const struct mailbox *mb)
{
	return mbox_commit_pending(mb->commit);
}

void
mailbox_render_metrics(struct mailbox *mb, struct wbuf *w)
{
	struct mbox_stats st;

	mbox_store_stats(mb->store, &st);
	metrics_counter(w, "burrow_mailbox_deposits_total", "Deposits stored durably.",
			mb->deposits);
	metrics_counter(w, "burrow_mailbox_duplicates_total",
			"Deposits of a message id already stored (acknowledged again).", mb->dup);
	wbuf_printf(w, "# HELP burrow_mailbox_refused_total Deposits refused, by reason.\n"
		       "# TYPE burrow_mailbox_refused_total counter\n");
	metrics_labeled(w, "burrow_mailbox_refused_total", "reason", "mailbox_full",
			st.refused_full_box);
	metrics_labeled(w, "burrow_mailbox_refused_total", "reason", "disk_cap",
			st.refused_disk_cap);
	metrics_labeled(w, "burrow_mailbox_refused_total", "reason", "queue_full",
			mb->refused_queue);
	metrics_labeled(w, "burrow_mailbox_refused_total", "reason", "io", mb->io_errors);
	metrics_counter(w, "burrow_mailbox_acks_sent_total", "ACKs sent through SURBs.",
			mb->acks_sent);
	metrics_counter(w, "burrow_mailbox_fetch_sessions_total", "Owners that proved their key.",
			mb->fetch_ok);
	metrics_counter(w, "burrow_mailbox_fetch_refused_total", "Fetch requests refused.",
			mb->fetch_refused);
	metrics_counter(w, "burrow_mailbox_fetched_total", "Messages handed to owners.",
			mb->slots_sent);
	metrics_counter(w, "burrow_mailbox_acked_total", "Messages deleted on the owner's ACK.",
			mb->acked);
	metrics_counter(w, "burrow_mailbox_expired_total", "Messages removed by TTL.", st.expired);
	metrics_counter(w, "burrow_mailbox_commits_total", "Grouped write transactions.",
			st.commits);
	metrics_gauge(w, "burrow_mailbox_messages", "Messages stored.", st.msgs);
	metrics_gauge(w, "burrow_mailbox_bytes", "Entry bytes stored.", st.bytes);
	metrics_gauge(w, "burrow_mailbox_commit_pending", "Deposits and ACKs waiting for a commit.",
		      mbox_commit_pending(mb->commit));
}
