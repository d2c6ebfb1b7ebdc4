/* Sending: fragment, wrap with an ACK SURB over a fresh path, retransmit. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "client/fragment.h"
#include "client/net.h"
#include "client/netdir.h"
#include "client/send.h"
#include "client/store.h"
#include "common/fetchproto.h"
#include "common/log.h"
#include "common/path.h"
#include "common/sphinx.h"
#include "common/util.h"

#define CONNECT_TIMEOUT_MS 5000

/* Wall clock in milliseconds: deadlines outlive the process. */
static uint64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}
#define BATCH 512

int
send_queue(struct client *c, const struct address *to, const char *label, const uint8_t *msg,
	   size_t len, bool is_signed, int64_t *id)
{
	char addr[ADDRESS_STR_LEN + 1];
	uint8_t body[SEND_FRAG_SPACE];
	size_t chunk = frag_chunk_len(SEND_FRAG_SPACE, is_signed);
	struct frag f;
	uint32_t i;
	int r;

	*id = 0;
	if (len > MSG_MAX_LEN)
		return ERR_TOO_BIG;
	if (BUG(is_signed && c->id == NULL))
		return ERR_INTERNAL;
	memset(&f, 0, sizeof(f));
	f.flags = is_signed ? FRAG_FLAG_SIGNED : 0;
	randombytes_buf(f.msg_id, MSG_ID_LEN);
	f.total_len = len;
	f.count = frag_count_for(len, SEND_FRAG_SPACE, is_signed);
	msg_hash(f.hash, msg, len);
	if (is_signed) {
		memcpy(f.sender_pk, c->id->pk, ID_PK_LEN);
		msg_sign(f.sig, f.msg_id, len, f.hash, to->id_pk, c->id);
		if (c->test_forge_signature && client_test_hooks())
			f.sig[0] ^= 1;	/* tests only: a forged signature */
	}
	address_encode(addr, to);
	r = store_begin(c->st);
	if (r != 0)
		return r;
	r = store_out_add(c->st, f.msg_id, addr, label, len, f.count, is_signed, id);
	for (i = 0; r == 0 && i < f.count; i++) {
		size_t off = (size_t)i * chunk;

		f.index = i;
		f.chunk = msg + off;
		f.chunk_len = (uint16_t)MIN(chunk, len - off);
		r = frag_encode(body, sizeof(body), &f);
		if (r == 0)
			r = store_out_add_frag(c->st, *id, i, body, sizeof(body));
	}
	if (r == 0)
		r = store_commit(c->st);
	if (r != 0) {
		store_rollback(c->st);
		*id = 0;
	}
	return r;
}

/* Everything one pump needs about the network. */
struct pump {
	struct client *c;
	struct dirdoc_consensus *cons;
	struct path_node *nodes;
	struct path_selector *ps;
	uint64_t epoch;
	size_t my_box;			/* index of my mailbox node */
	uint8_t my_box_id[FETCH_BOX_ID_LEN];
	uint8_t my_xpk[X_PK_LEN];
	struct net_conn **conn;		/* by relay index */
	bool *dead;			/* relay unreachable this run */
	size_t nunreachable;
};

static void
pump_clear(struct pump *p)
{
	size_t i;

	if (p->conn != NULL)
		for (i = 0; i < p->cons->nrelays; i++)
			net_close(p->conn[i]);
	free(p->conn);
	free(p->dead);
	path_selector_free(p->ps);
	free(p->nodes);
}

static void
pump_reselect(struct pump *p)
{
	path_selector_free(p->ps);
	p->ps = path_selector_new(p->nodes, p->cons->nrelays);
}

static int
pump_init(struct pump *p, struct client *c)
{
	size_t i;
	int r;

	memset(p, 0, sizeof(*p));
	p->c = c;
	r = client_consensus(c);
	if (r != 0)
		return r;
	p->cons = c->cons;
	p->epoch = dirdoc_epoch_of(time_now(), p->cons->epoch_len);
	netdir_path_nodes(p->cons, c->cfg.distinct_subnets, &p->nodes);
	/* A relay without a packet key for this epoch cannot be a hop. */
	for (i = 0; i < p->cons->nrelays; i++)
		if (dirdoc_relay_packet_key(&p->cons->relays[i], p->epoch) == NULL)
			p->nodes[i].flags = 0;
	p->ps = path_selector_new(p->nodes, p->cons->nrelays);
	p->conn = xcalloc(p->cons->nrelays + 1, sizeof(*p->conn));
	p->dead = xcalloc(p->cons->nrelays + 1, sizeof(*p->dead));
	if (netdir_index(p->cons, c->mailbox_node, &p->my_box) != 0) {
		client_err("your home mailbox node is not in the consensus: cannot receive "
			   "acknowledgements");
		return ERR_NOT_FOUND;
	}
	fetch_box_id(p->my_box_id, c->id_pk);
	if (id_pk_to_x(p->my_xpk, c->id_pk) != 0)
		return ERR_WEAK_KEY;
	return 0;
}

static void
hops_of(const struct pump *p, const struct path *path, struct sphinx_hop *hops)
{
	unsigned i;

	for (i = 0; i < path->nhops; i++) {
		const struct dirdoc_relay *r = &p->cons->relays[path->hop[i]];

		memcpy(hops[i].node_pk, dirdoc_relay_packet_key(r, p->epoch), SPHINX_KEY_LEN);
		memcpy(hops[i].node_id, r->node_id, SPHINX_ID_LEN);
		hops[i].delay_ms = (uint32_t)MIN(path->delay_ms[i] + 0.5, 3600000.0);
	}
}

static double
path_delay_sum(const struct path *path)
{
	double s = 0;
	unsigned i;

	for (i = 0; i < path->nhops; i++)
		s += path->delay_ms[i];
	return s;
}

static int
choose(struct pump *p, size_t box, struct path *out)
{
	struct path_opts o;
	struct path_rng rng = path_rng_default();
	const char *why = NULL;
	int r;

	memset(&o, 0, sizeof(o));
	o.nmix = p->c->cfg.path_len;
	o.mean_delay_ms = (double)p->c->cfg.mean_delay_ms;
	r = path_select(p->ps, box, &o, &rng, out, &why);
	if (r != 0)
		log_info(LD_CLIENT, "no path: %s", why ? why : err_str(r));
	return r;
}

/* Connection to the first hop, opened on first use; an unreachable relay
 * is dropped from path selection for the rest of this run. */
static int
first_hop(struct pump *p, size_t idx, struct net_conn **out)
{
	int r;

	if (p->conn[idx] != NULL) {
		*out = p->conn[idx];
		return 0;
	}
	r = net_connect(&p->conn[idx], &p->cons->relays[idx], CONNECT_TIMEOUT_MS);
	if (r != 0) {
		log_info(LD_CLIENT, "relay %s unreachable: %s", p->cons->relays[idx].nickname,
			 err_str(r));
		p->dead[idx] = true;
		p->nodes[idx].flags &= ~(uint32_t)PATH_MIX;
		p->nunreachable++;
		pump_reselect(p);
		return r;
	}
	*out = p->conn[idx];
	return 0;
}

/* The recipient's side of every packet of one message (the mailbox id
 * and X25519 key are the same for all its fragments): 0 or ERR_WEAK_KEY. */
static int
dest_for(struct sphinx_dest *dest, const struct address *to)
{
	memset(dest, 0, sizeof(*dest));
	fetch_box_id(dest->mailbox_id, to->id_pk);
	return id_pk_to_x(dest->recipient_pk, to->id_pk);
}

/* Build and send one fragment to rcpt (dest_for, msg_id filled here); on
 * success record the send. */
static int
send_one(struct pump *p, const struct store_out_frag *f, size_t rcpt_box,
	 const struct sphinx_dest *rcpt, struct send_stats *stats)
{
	struct path fwd, back;
	struct sphinx_hop hops[PATH_MAX_HOPS], bhops[PATH_MAX_HOPS];
	struct sphinx_dest dest, mine;
	struct sphinx_surb surb;
	struct sphinx_surb_secret sec;
	uint8_t pkt[SPHINX_PACKET_LEN], secbuf[SPHINX_SURB_SECRET_MAX_LEN];
	struct net_conn *nc;
	size_t seclen;
	uint64_t deadline;
	int r, attempt;

	for (attempt = 0; attempt < 8; attempt++) {
		r = choose(p, rcpt_box, &fwd);
		if (r != 0)
			return r;
		r = first_hop(p, fwd.hop[0], &nc);
		if (r == 0)
			break;
	}
	if (r != 0)
		return ERR_CLOSED;
	r = choose(p, p->my_box, &back);
	if (r != 0)
		return r;
	hops_of(p, &fwd, hops);
	hops_of(p, &back, bhops);
	memset(&mine, 0, sizeof(mine));
	memcpy(mine.mailbox_id, p->my_box_id, SPHINX_ID_LEN);
	memcpy(mine.recipient_pk, p->my_xpk, SPHINX_KEY_LEN);
	randombytes_buf(mine.msg_id, SPHINX_MSG_ID_LEN);
	r = sphinx_surb_create(&surb, &sec, bhops, back.nhops, &mine);
	if (r != 0)
		goto out;
	dest = *rcpt;
	memcpy(dest.msg_id, f->deposit_id, SPHINX_MSG_ID_LEN);
	r = sphinx_create(pkt, hops, fwd.nhops, &dest, &surb, f->body, f->body_len);
	if (r != 0)
		goto out;
	/* "Unacknowledged fragments are resent over a new path after a
	 * timeout derived from the path's delays": the base timeout plus
	 * three times the mean-free delays drawn for both paths. */
	deadline = wall_ms() + p->c->cfg.ack_timeout_ms +
		   (uint64_t)(3 * (path_delay_sum(&fwd) + path_delay_sum(&back)));
	seclen = sphinx_surb_secret_encode(secbuf, &sec);
	/* Record before sending: an ack must find its SURB even if it
	 * arrives before this call returns. */
	r = store_out_sent(p->c->st, f->msg, f->index, deadline, sec.id, secbuf, seclen);
	if (r != 0)
		goto out;
	r = net_send_packet(nc, pkt);
	if (r != 0) {
		log_info(LD_CLIENT, "send to %s failed: %s", p->cons->relays[fwd.hop[0]].nickname,
			 err_str(r));
		NET_CLOSE(p->conn[fwd.hop[0]]);
		/* The fragment stays "sent" with a deadline: it is resent on
		 * a new path when the deadline passes. */
		r = 0;
	} else if (stats->first_nhops == 0) {
		unsigned i;

		for (i = 0; i < fwd.nhops; i++)
			snprintf(stats->first_path[i], sizeof(stats->first_path[i]), "%s",
				 p->cons->relays[fwd.hop[i]].nickname);
		stats->first_nhops = fwd.nhops;
	}
out:
	sphinx_surb_secret_clear(&sec);
	sodium_memzero(secbuf, sizeof(secbuf));
	return r;
}

static void
progress_bar(size_t done, size_t total)
{
	char bar[41];
	size_t fill = total ? done * 40 / total : 40, i;

	for (i = 0; i < 40; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[40] = '\0';
	fprintf(stderr, "\r[%s] %zu/%zu packets", bar, done, total);
	if (done == total)
		fputc('\n', stderr);
	fflush(stderr);
}

int
send_pump(struct client *c, int64_t msg, size_t max, bool progress, struct send_stats *stats)
{
	struct pump p;
	struct store_out_frag *due = NULL;
	size_t n = 0, i, total = 0;
	/* Due as of the start: a fragment sent by this call is not sent
	 * again by it, however short the ack timeout. */
	uint64_t now_ms = wall_ms();
	int64_t cur_msg = -1;
	size_t cur_box = 0;
	struct address cur_to;
	struct sphinx_dest cur_dest;
	bool cur_ok = false;
	int r;

	memset(stats, 0, sizeof(*stats));
	r = pump_init(&p, c);
	if (r != 0) {
		pump_clear(&p);
		return r;
	}
	for (;;) {
		size_t want = max ? MIN(max - total, (size_t)BATCH) : BATCH;

		if (max && total >= max)
			break;
		r = store_out_due(c->st, msg, now_ms, want, &due, &n);
		if (r != 0 || n == 0)
			break;
		r = store_begin(c->st);
		if (r != 0)
			break;
		for (i = 0; i < n && r == 0; i++) {
			struct store_out_frag *f = &due[i];

			if (f->msg != cur_msg) {
				struct store_out_msg m;

				cur_msg = f->msg;
				cur_ok = false;
				if (store_out_get(c->st, f->msg, &m) == 0 &&
				    address_parse(&cur_to, m.to, NULL) == 0 &&
				    netdir_index(p.cons, cur_to.node_id, &cur_box) == 0 &&
				    dest_for(&cur_dest, &cur_to) == 0)
					cur_ok = true;
				else
					client_err("message %lld to %s: the recipient's mailbox node "
						   "is not in the consensus", (long long)f->msg,
						   m.label ? m.label : "?");
				store_out_msg_clear(&m);
			}
			if (f->tries >= c->cfg.retries || !cur_ok) {
				r = store_out_failed(c->st, f->msg, f->index);
				stats->failed++;
				continue;
			}
			r = send_one(&p, f, cur_box, &cur_dest, stats);
			if (r == 0) {
				stats->sent++;
				if (f->tries > 0)
					stats->resent++;
			}
		}
		if (r == 0)
			r = store_commit(c->st);
		else
			store_rollback(c->st);
		total += n;
		store_out_frags_free(due, n);
		due = NULL;
		if (progress && msg > 0) {
			struct store_out_msg m;

			if (store_out_get(c->st, msg, &m) == 0)
				progress_bar(m.count - m.pending, m.count);
			store_out_msg_clear(&m);
		}
		if (r != 0)
			break;
	}
	stats->unreachable = p.nunreachable;
	pump_clear(&p);
	return r;
}

void
send_report_failed(struct client *c, int64_t id)
{
	struct store_out_msg m;
	uint32_t *idx = NULL;
	size_t n = 0, i;

	if (store_out_get(c->st, id, &m) != 0)
		return;
	if (store_out_failed_list(c->st, id, &idx, &n) == 0 && n > 0) {
		fprintf(stderr, "burrow: message %lld to %s failed: %zu of %u fragments not "
			"acknowledged after %u tries (fragments", (long long)id, m.label, n, m.count,
			c->cfg.retries);
		for (i = 0; i < n && i < 20; i++)
			fprintf(stderr, " %u", idx[i]);
		fprintf(stderr, "%s)\n", n > 20 ? " ..." : "");
	}
	free(idx);
	store_out_msg_clear(&m);
}
