/* Sphinx packet costs against X25519 measured in the same run.
 *   x25519_per_s                      crypto_scalarmult rate (the baseline)
 *   sphinx_unwrap_per_s               full relay step on a 2,048-byte packet
 *   sphinx_unwrap_vs_2x25519          unwrap rate / (X25519 rate / 2): 1.0 would
 *                                     mean the symmetric part costs nothing
 *   sphinx_create_5hop_per_s          sender: 5 node hops + the recipient hop
 *   sphinx_create_5hop_cost_in_x25519 create time / one X25519 time
 *   recipient_open_per_s              sphinx_open of a deposit
 *   lioness_1678_per_s                one LIONESS pass over a payload
 * Each figure is the best of 3 repeats of about 0.4 s. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/lioness.h"
#include "common/sphinx.h"
#include "common/util.h"

#define REPEATS 3
#define TARGET_NS 400000000ull

static uint8_t sk[6][32], pk[6][32];
static struct sphinx_hop hops[5];
static struct sphinx_dest dest;
static uint8_t ref[SPHINX_PACKET_LEN], work[SPHINX_PACKET_LEN];
static uint8_t deposit[SPHINX_DEPOSIT_LEN];
static struct sphinx_result res;
static volatile uint8_t sink;

static void
op_x25519(void)
{
	uint8_t out[32];

	if (crypto_scalarmult(out, sk[0], pk[1]) != 0)
		abort();
	sink ^= out[0];
}

static void
op_unwrap(void)
{
	memcpy(work, ref, sizeof(work));
	if (sphinx_unwrap(&res, work, sizeof(work), sk[0], pk[0]) != 0)
		abort();
	sink ^= res.replay_tag[0];
}

static void
op_create(void)
{
	static const uint8_t msg[100];

	if (sphinx_create(work, hops, 5, &dest, NULL, msg, sizeof(msg)) != 0)
		abort();
	sink ^= work[10];
}

static void
op_open(void)
{
	static uint8_t out[SPHINX_MSG_LEN];
	size_t len;

	if (sphinx_open(out, &len, deposit, sizeof(deposit), sk[5], pk[5]) != 0)
		abort();
	sink ^= out[0];
}

static void
op_lioness(void)
{
	static const uint8_t key[LIONESS_KEY_LEN];

	if (lioness_decrypt(work + SPHINX_HEADER_LEN, SPHINX_PAYLOAD_LEN, key) != 0)
		abort();
}

/* Operations per second: best of REPEATS runs of about TARGET_NS each. */
static double
rate(void (*op)(void))
{
	double best = 0;
	uint64_t n = 1;

	/* Calibrate to about 1/20 of the target. */
	for (;;) {
		uint64_t t0 = mono_ns();

		for (uint64_t i = 0; i < n; i++)
			op();
		if (mono_ns() - t0 > TARGET_NS / 20)
			break;
		n *= 2;
	}
	n *= 20;
	for (int r = 0; r < REPEATS; r++) {
		uint64_t t0 = mono_ns(), dt;
		double v;

		for (uint64_t i = 0; i < n; i++)
			op();
		dt = mono_ns() - t0;
		v = (double)n * 1e9 / (double)(dt ? dt : 1);
		if (v > best)
			best = v;
	}
	return best;
}

int
main(void)
{
	double x, unwrap, create, open, lion;

	crypto_init();
	for (int i = 0; i < 6; i++) {
		randombytes_buf(sk[i], 32);
		if (crypto_scalarmult_base(pk[i], sk[i]) != 0)
			abort();
	}
	for (int i = 0; i < 5; i++) {
		memcpy(hops[i].node_pk, pk[i], 32);
		randombytes_buf(hops[i].node_id, 32);
		hops[i].delay_ms = 100;
	}
	randombytes_buf(dest.mailbox_id, sizeof(dest.mailbox_id));
	randombytes_buf(dest.msg_id, sizeof(dest.msg_id));
	memcpy(dest.recipient_pk, pk[5], 32);
	if (sphinx_create(ref, hops, 5, &dest, NULL, (const uint8_t *)"bench", 5) != 0)
		abort();
	/* A deposit: a 1-hop packet to node 0, delivered. */
	if (sphinx_create(work, hops, 1, &dest, NULL, (const uint8_t *)"bench", 5) != 0 ||
	    sphinx_unwrap(&res, work, sizeof(work), sk[0], pk[0]) != 0 ||
	    res.deposit_len != sizeof(deposit))
		abort();
	memcpy(deposit, res.deposit, sizeof(deposit));

	x = rate(op_x25519);
	unwrap = rate(op_unwrap);
	create = rate(op_create);
	open = rate(op_open);
	lion = rate(op_lioness);
	printf("x25519_per_s: %.0f\n", x);
	printf("sphinx_unwrap_per_s: %.0f\n", unwrap);
	printf("sphinx_unwrap_vs_2x25519: %.3f\n", unwrap / (x / 2));
	printf("sphinx_create_5hop_per_s: %.0f\n", create);
	printf("sphinx_create_5hop_cost_in_x25519: %.1f\n", x / create);
	printf("recipient_open_per_s: %.0f\n", open);
	printf("lioness_1678_per_s: %.0f\n", lion);
	return 0;
}
