/* The model's packet layer: real common/sphinx packets, or a stand-in
 * that costs nothing. In real mode every packet is built by the sender,
 * unwrapped by every node on its path, opened by its recipient, and its
 * ACK travels back through the SURB it carried; each step is checked
 * against the route the simulator itself chose. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/sphinx.h"
#include "common/util.h"
#include "sim/model_int.h"

#define TAG_LEN 16

struct mkey {
	uint8_t pk[SPHINX_KEY_LEN];
	uint8_t sk[SPHINX_KEY_LEN];
};

struct mcrypto {
	bool real;
	size_t nnodes, nclients;
	const struct path_node *nodes;
	struct mkey *node_key;
	struct mkey *client_key;
	struct sphinx_result res;	/* scratch: large */
};

struct mcrypto *
mcrypto_new(bool real, size_t nnodes, size_t nclients, const struct path_node *nodes)
{
	struct mcrypto *mc = xcalloc(1, sizeof(*mc));

	mc->real = real;
	mc->nnodes = nnodes;
	mc->nclients = nclients;
	mc->nodes = nodes;
	if (!real)
		return mc;
	mc->node_key = xcalloc(nnodes, sizeof(*mc->node_key));
	mc->client_key = xcalloc(nclients, sizeof(*mc->client_key));
	for (size_t i = 0; i < nnodes; i++)
		crypto_box_keypair(mc->node_key[i].pk, mc->node_key[i].sk);
	for (size_t i = 0; i < nclients; i++)
		crypto_box_keypair(mc->client_key[i].pk, mc->client_key[i].sk);
	return mc;
}

void
mcrypto_free(struct mcrypto *mc)
{
	if (mc == NULL)
		return;
	if (mc->node_key) {
		sodium_memzero(mc->node_key, mc->nnodes * sizeof(*mc->node_key));
		free(mc->node_key);
	}
	if (mc->client_key) {
		sodium_memzero(mc->client_key, mc->nclients * sizeof(*mc->client_key));
		free(mc->client_key);
	}
	sodium_memzero(&mc->res, sizeof(mc->res));
	free(mc);
}

bool
mcrypto_is_real(const struct mcrypto *mc)
{
	return mc->real;
}

/* A client's mailbox id: a hash of its index (the simulation's naming). */
static void
mailbox_id(uint8_t out[static SPHINX_ID_LEN], uint32_t client)
{
	uint8_t in[8] = { 'm', 'b', 'o', 'x' };

	in[4] = (uint8_t)(client >> 24);
	in[5] = (uint8_t)(client >> 16);
	in[6] = (uint8_t)(client >> 8);
	in[7] = (uint8_t)client;
	crypto_generichash(out, SPHINX_ID_LEN, in, sizeof(in), NULL, 0);
}

static void
make_tag(uint8_t out[static TAG_LEN], uint64_t tag, uint8_t kind)
{
	memset(out, 0, TAG_LEN);
	for (int i = 0; i < 8; i++)
		out[i] = (uint8_t)(tag >> (56 - 8 * i));
	out[8] = kind;
}

static void
hops_of(const struct mcrypto *mc, const struct mroute *r, struct sphinx_hop *h)
{
	for (unsigned i = 0; i < r->n; i++) {
		memcpy(h[i].node_pk, mc->node_key[r->node[i]].pk, SPHINX_KEY_LEN);
		memcpy(h[i].node_id, mc->nodes[r->node[i]].node_id, SPHINX_ID_LEN);
		h[i].delay_ms = r->delay_ms[i];
	}
}

int
mcrypto_build(struct mcrypto *mc, const struct mroute *fwd, uint32_t recipient,
	      const struct mroute *ack, uint32_t sender, uint64_t tag, uint8_t **pkt,
	      void **secret)
{
	struct sphinx_hop fh[SPHINX_MAX_HOPS], ah[SPHINX_MAX_HOPS];
	struct sphinx_dest fd, ad;
	struct sphinx_surb surb;
	struct sphinx_surb_secret *sec;
	uint8_t msg[TAG_LEN];
	int r;

	*pkt = NULL;
	*secret = NULL;
	if (!mc->real)
		return 0;
	if (BUG(fwd->n == 0 || fwd->n > SPHINX_MAX_HOPS || ack->n == 0 ||
		ack->n > SPHINX_MAX_HOPS || recipient >= mc->nclients || sender >= mc->nclients))
		return ERR_INTERNAL;
	hops_of(mc, fwd, fh);
	hops_of(mc, ack, ah);
	memset(&fd, 0, sizeof(fd));
	memset(&ad, 0, sizeof(ad));
	mailbox_id(fd.mailbox_id, recipient);
	memcpy(fd.recipient_pk, mc->client_key[recipient].pk, SPHINX_KEY_LEN);
	make_tag(fd.msg_id, tag, 'F');
	mailbox_id(ad.mailbox_id, sender);
	memcpy(ad.recipient_pk, mc->client_key[sender].pk, SPHINX_KEY_LEN);
	make_tag(ad.msg_id, tag, 'A');
	sec = xcalloc(1, sizeof(*sec));
	r = sphinx_surb_create(&surb, sec, ah, ack->n, &ad);
	if (r != 0)
		goto fail;
	*pkt = xmalloc(SPHINX_PACKET_LEN);
	make_tag(msg, tag, 'M');
	r = sphinx_create(*pkt, fh, fwd->n, &fd, &surb, msg, sizeof(msg));
	sodium_memzero(&surb, sizeof(surb));
	if (r != 0)
		goto fail;
	*secret = sec;
	return 0;
fail:
	FREE_AND_NULL(*pkt);
	mcrypto_secret_free(sec);
	return r;
}

static int
unwrap(struct mcrypto *mc, uint8_t *pkt, uint32_t node)
{
	if (BUG(pkt == NULL || node >= mc->nnodes))
		return ERR_INTERNAL;
	return sphinx_unwrap(&mc->res, pkt, SPHINX_PACKET_LEN, mc->node_key[node].sk,
			     mc->node_key[node].pk);
}

int
mcrypto_relay(struct mcrypto *mc, uint8_t *pkt, uint32_t node, uint32_t expect_next,
	      uint32_t expect_delay_ms)
{
	int r;

	if (!mc->real)
		return 0;
	if ((r = unwrap(mc, pkt, node)) != 0)
		return r;
	if (mc->res.cmd != SPHINX_CMD_RELAY || expect_next >= mc->nnodes ||
	    sodium_memcmp(mc->res.next_id, mc->nodes[expect_next].node_id, SPHINX_ID_LEN) != 0 ||
	    mc->res.delay_ms != expect_delay_ms)
		return ERR_INTERNAL;
	return 0;
}

int
mcrypto_deliver(struct mcrypto *mc, uint8_t *pkt, uint32_t node, uint32_t recipient,
		uint64_t tag, uint32_t expect_first)
{
	uint8_t want[SPHINX_ID_LEN], first[SPHINX_ID_LEN], msg[SPHINX_MSG_LEN], t[TAG_LEN];
	size_t len = 0;
	int r;

	if (!mc->real)
		return 0;
	if ((r = unwrap(mc, pkt, node)) != 0)
		return r;
	mailbox_id(want, recipient);
	make_tag(t, tag, 'F');
	if (mc->res.cmd != SPHINX_CMD_DELIVER || !mc->res.has_ack ||
	    sodium_memcmp(mc->res.mailbox_id, want, SPHINX_ID_LEN) != 0 ||
	    sodium_memcmp(mc->res.msg_id, t, TAG_LEN) != 0)
		return ERR_INTERNAL;
	r = sphinx_open(msg, &len, mc->res.deposit, mc->res.deposit_len,
			mc->client_key[recipient].sk, mc->client_key[recipient].pk);
	if (r != 0)
		return r;
	make_tag(t, tag, 'M');
	if (len < TAG_LEN || sodium_memcmp(msg, t, TAG_LEN) != 0)
		return ERR_INTERNAL;
	make_tag(t, tag, 'K');
	r = sphinx_surb_reply(pkt, first, &mc->res.ack, t, sizeof(t));
	if (r != 0)
		return r;
	if (expect_first >= mc->nnodes ||
	    sodium_memcmp(first, mc->nodes[expect_first].node_id, SPHINX_ID_LEN) != 0)
		return ERR_INTERNAL;
	return 0;
}

int
mcrypto_ack(struct mcrypto *mc, uint8_t *pkt, uint32_t node, void *secret, uint64_t tag)
{
	uint8_t msg[SPHINX_MSG_LEN], t[TAG_LEN];
	size_t len = 0;
	int r;

	if (!mc->real)
		return 0;
	if (BUG(secret == NULL))
		return ERR_INTERNAL;
	if ((r = unwrap(mc, pkt, node)) != 0)
		return r;
	if (mc->res.cmd != SPHINX_CMD_DELIVER)
		return ERR_INTERNAL;
	r = sphinx_surb_open(msg, &len, mc->res.deposit, mc->res.deposit_len, secret);
	if (r != 0)
		return r;
	make_tag(t, tag, 'K');
	if (len < TAG_LEN || sodium_memcmp(msg, t, TAG_LEN) != 0)
		return ERR_INTERNAL;
	return 0;
}

void
mcrypto_secret_free(void *secret)
{
	if (secret == NULL)
		return;
	sphinx_surb_secret_clear(secret);
	free(secret);
}
