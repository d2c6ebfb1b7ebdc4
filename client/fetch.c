/* Fetching the home mailbox (protocol in common/fetchproto.h). */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "client/fetch.h"
#include "client/fragment.h"
#include "client/net.h"
#include "client/netdir.h"
#include "client/store.h"
#include "common/fetchproto.h"
#include "common/log.h"
#include "common/sphinx.h"
#include "common/util.h"

#define FETCH_TIMEOUT_MS 15000
#define FETCH_MAX_ROUNDS 100000

/* Take one entry: an ACK for one of our fragments (a SURB reply we can
 * open), or a fragment sealed to our mailbox key. Anything else is
 * counted and dropped: it can never become readable. */
static int
take_entry(struct client *c, const struct x_keypair *xk, const struct fetch_slot *s,
	   struct fetch_stats *stats)
{
	uint8_t did[SPHINX_DEPOSIT_ID_LEN], msg[SPHINX_MSG_LEN], *key = NULL;
	size_t msg_len = 0, key_len = 0;
	int64_t out_msg;
	uint32_t out_idx;
	struct frag f;
	enum store_in_add res;
	int r;

	if (sphinx_deposit_id(did, s->entry, s->len) == 0 &&
	    store_out_surb(c->st, did, &key, &key_len, &out_msg, &out_idx) == 0) {
		struct sphinx_surb_secret sec;
		bool newly = false;

		r = sphinx_surb_secret_parse(&sec, key, key_len);
		sodium_memzero(key, key_len);
		free(key);
		if (r == 0)
			r = sphinx_surb_open(msg, &msg_len, s->entry, s->len, &sec);
		sphinx_surb_secret_clear(&sec);
		if (r != 0) {
			stats->unreadable++;
			return 0;
		}
		r = store_out_acked(c->st, out_msg, out_idx, &newly);
		if (r == 0 && newly)
			stats->acks++;
		return r;
	}
	r = sphinx_open(msg, &msg_len, s->entry, s->len, xk->sk, xk->pk);
	if (r == 0)
		r = frag_parse(&f, msg, msg_len);
	if (r != 0) {
		log_info(LD_CLIENT, "fetch: dropping an entry that does not open: %s", err_str(r));
		stats->unreadable++;
		sodium_memzero(msg, sizeof(msg));
		return 0;
	}
	r = store_in_add(c->st, &f, c->id_pk, time_now(), &res, NULL);
	sodium_memzero(msg, sizeof(msg));
	if (r != 0)
		return r;
	switch (res) {
	case IN_ADD_NEW:
		stats->fragments++;
		break;
	case IN_ADD_COMPLETED:
		stats->fragments++;
		stats->completed++;
		break;
	case IN_ADD_DUPLICATE:
		stats->duplicates++;
		break;
	case IN_ADD_CONFLICT:
		stats->unreadable++;
		break;
	}
	return 0;
}

static int
expect(struct net_conn *nc, uint8_t *buf, size_t *len)
{
	int r = net_recv_control(nc, buf, LINK_CONTROL_MAX, len, FETCH_TIMEOUT_MS);

	if (r == 0 && fetch_msg_type(buf, *len) == FETCH_T_REFUSE)
		return ERR_AUTH;
	return r;
}

int
fetch_run(struct client *c, struct fetch_stats *stats)
{
	static uint8_t buf[LINK_CONTROL_MAX];
	uint8_t out[FETCH_MSG_MAX], challenge[FETCH_CHALLENGE_LEN], hh[LINK_HASH_LEN];
	uint8_t sig[ID_SIG_LEN];
	const struct dirdoc_relay *node;
	struct net_conn *nc = NULL;
	struct x_keypair *xk = NULL;
	struct fetch_slot *slots = NULL;
	size_t len, idx, rounds;
	int r;

	memset(stats, 0, sizeof(*stats));
	if (BUG(c->id == NULL))
		return ERR_INTERNAL;
	r = client_consensus(c);
	if (r != 0)
		return r;
	if (netdir_index(c->cons, c->mailbox_node, &idx) != 0)
		return ERR_NOT_FOUND;
	node = &c->cons->relays[idx];
	r = net_connect(&nc, node, FETCH_TIMEOUT_MS);
	if (r != 0)
		return r;
	r = net_send_control(nc, out, fetch_hello_encode(out));
	if (r == 0)
		r = expect(nc, buf, &len);
	if (r == 0)
		r = fetch_challenge_parse(challenge, buf, len);
	if (r == 0)
		r = net_handshake_hash(nc, hh);
	if (r != 0)
		goto out;
	fetch_auth_sign(sig, c->id, node->node_id, hh, challenge);
	r = net_send_control(nc, out, fetch_auth_encode(out, c->id->pk, sig));
	if (r != 0)
		goto out;
	xk = id_keypair_to_x(c->id);
	slots = xcalloc(FETCH_BATCH, sizeof(*slots));
	for (rounds = 0; rounds < FETCH_MAX_ROUNDS; rounds++) {
		struct fetch_ack ack;
		bool more = false;
		size_t i;
		uint8_t n;

		r = net_send_control(nc, out, fetch_fetch_encode(out));
		for (i = 0; r == 0 && i < FETCH_BATCH; i++) {
			r = expect(nc, buf, &len);
			if (r == 0)
				r = fetch_slot_parse(&slots[i], buf, len);
			if (r == 0 && slots[i].index != i)
				r = ERR_MALFORMED;
		}
		if (r != 0)
			goto out;
		/* Store, commit, THEN acknowledge to the node. */
		memset(&ack, 0, sizeof(ack));
		r = store_begin(c->st);
		for (i = 0; r == 0 && i < FETCH_BATCH; i++) {
			if (!(slots[i].flags & FETCH_SLOT_PRESENT))
				continue;
			stats->entries++;
			r = take_entry(c, xk, &slots[i], stats);
			memcpy(ack.ids[ack.n++], slots[i].msg_id, FETCH_MSG_ID_LEN);
		}
		if (r == 0)
			r = store_commit(c->st);
		if (r != 0) {
			store_rollback(c->st);
			goto out;
		}
		more = (slots[FETCH_BATCH - 1].flags & FETCH_SLOT_MORE) != 0;
		if (ack.n == 0)
			break;
		r = net_send_control(nc, out, fetch_ack_encode(out, &ack));
		if (r == 0)
			r = expect(nc, buf, &len);
		if (r == 0)
			r = fetch_acked_parse(&n, buf, len);
		if (r != 0)
			goto out;
		if (!more)
			break;
	}
out:
	if (r != 0)
		log_info(LD_CLIENT, "fetch from %s: %s", node->nickname, err_str(r));
	free(slots);
	X_KEYPAIR_FREE(xk);
	net_close(nc);
	return r;
}
