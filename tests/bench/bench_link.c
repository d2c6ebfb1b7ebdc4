/* Benchmark of common/link in one process: handshakes per second, and the
 * record layer against raw crypto_secretstream on messages of the same
 * size, measured in the same run. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/keys.h"
#include "common/link.h"
#include "common/util.h"

#define RUN_NS 700000000ull	/* each measurement runs about 0.7 s */

static struct id_keypair *id_r, *id_i;
static struct x_keypair *lk_r;

static int
pass(struct link *from, struct link *to)
{
	enum link_event ev;
	struct link_frame fr;
	size_t len, used;
	const uint8_t *p = link_output(from, &len);

	if (!p)
		return -1;
	return link_feed(to, p, len, &used, &ev, &fr);
}

static void
pair_open(struct link **i, struct link **r, bool anonymous)
{
	if (link_new_initiator(i, lk_r->pk, id_r->pk, anonymous ? NULL : id_i) != 0)
		fatal("initiator");
	*r = link_new_responder(lk_r, id_r);
	if (pass(*i, *r) || pass(*r, *i) || pass(*i, *r))
		fatal("handshake failed");
}

static double
handshakes_per_sec(bool anonymous)
{
	uint64_t t0 = mono_ns(), n = 0, t;

	do {
		struct link *i, *r;

		pair_open(&i, &r, anonymous);
		link_free(i);
		link_free(r);
		n++;
	} while ((t = mono_ns()) - t0 < RUN_NS);
	return (double)n * 1e9 / (double)(t - t0);
}

static double
raw_push_per_sec(void)
{
	crypto_secretstream_xchacha20poly1305_state st;
	uint8_t key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	uint8_t hdr[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
	static uint8_t m[LINK_PLAIN_LEN], c[LINK_RECORD_LEN];
	uint64_t t0, n = 0, t;

	crypto_secretstream_xchacha20poly1305_keygen(key);
	crypto_secretstream_xchacha20poly1305_init_push(&st, hdr, key);
	randombytes_buf(m, sizeof(m));
	t0 = mono_ns();
	do {
		for (int k = 0; k < 64; k++) {
			m[0] = (uint8_t)k;
			crypto_secretstream_xchacha20poly1305_push(&st, c, NULL, m, sizeof(m), NULL, 0,
								   0);
		}
		n += 64;
	} while ((t = mono_ns()) - t0 < RUN_NS);
	return (double)n * 1e9 / (double)(t - t0);
}

static double
raw_roundtrip_per_sec(void)
{
	crypto_secretstream_xchacha20poly1305_state tx, rx;
	uint8_t key[crypto_secretstream_xchacha20poly1305_KEYBYTES];
	uint8_t hdr[crypto_secretstream_xchacha20poly1305_HEADERBYTES];
	static uint8_t m[LINK_PLAIN_LEN], c[LINK_RECORD_LEN];
	unsigned char tag;
	uint64_t t0, n = 0, t;

	crypto_secretstream_xchacha20poly1305_keygen(key);
	crypto_secretstream_xchacha20poly1305_init_push(&tx, hdr, key);
	crypto_secretstream_xchacha20poly1305_init_pull(&rx, hdr, key);
	randombytes_buf(m, sizeof(m));
	t0 = mono_ns();
	do {
		for (int k = 0; k < 64; k++) {
			crypto_secretstream_xchacha20poly1305_push(&tx, c, NULL, m, sizeof(m), NULL, 0,
								   0);
			if (crypto_secretstream_xchacha20poly1305_pull(&rx, m, NULL, &tag, c,
								       sizeof(c), NULL, 0) != 0)
				fatal("pull failed");
		}
		n += 64;
	} while ((t = mono_ns()) - t0 < RUN_NS);
	return (double)n * 1e9 / (double)(t - t0);
}

static double
link_seal_per_sec(void)
{
	struct link *i, *r;
	static uint8_t pkt[LINK_PACKET_LEN], c[LINK_RECORD_LEN];
	uint64_t t0, n = 0, t;

	pair_open(&i, &r, false);
	randombytes_buf(pkt, sizeof(pkt));
	t0 = mono_ns();
	do {
		for (int k = 0; k < 64; k++) {
			pkt[0] = (uint8_t)k;
			if (link_send_packet(i, pkt, c) != 0)
				fatal("send failed");
		}
		n += 64;
	} while ((t = mono_ns()) - t0 < RUN_NS);
	link_free(i);
	link_free(r);
	return (double)n * 1e9 / (double)(t - t0);
}

static double
link_roundtrip_per_sec(void)
{
	struct link *i, *r;
	static uint8_t pkt[LINK_PACKET_LEN], c[LINK_RECORD_LEN];
	enum link_event ev;
	struct link_frame fr;
	size_t used;
	uint64_t t0, n = 0, t;

	pair_open(&i, &r, false);
	randombytes_buf(pkt, sizeof(pkt));
	t0 = mono_ns();
	do {
		for (int k = 0; k < 64; k++) {
			if (link_send_packet(i, pkt, c) != 0 ||
			    link_feed(r, c, sizeof(c), &used, &ev, &fr) != 0 || ev != LINK_EV_FRAME)
				fatal("record round trip failed");
		}
		n += 64;
	} while ((t = mono_ns()) - t0 < RUN_NS);
	link_free(i);
	link_free(r);
	return (double)n * 1e9 / (double)(t - t0);
}

int
main(void)
{
	double hs, hs_anon, raw, seal, raw_rt, rt;

	crypto_init();
	id_r = id_keypair_new();
	id_i = id_keypair_new();
	lk_r = x_keypair_new();

	hs = handshakes_per_sec(false);
	hs_anon = handshakes_per_sec(true);
	raw = raw_push_per_sec();
	seal = link_seal_per_sec();
	raw_rt = raw_roundtrip_per_sec();
	rt = link_roundtrip_per_sec();

	printf("link_handshakes_per_sec_relay: %.0f\n", hs);
	printf("link_handshakes_per_sec_anonymous: %.0f\n", hs_anon);
	printf("secretstream_push_per_sec: %.0f\n", raw);
	printf("link_records_sealed_per_sec: %.0f\n", seal);
	printf("link_record_mbytes_per_sec: %.1f\n", seal * LINK_PACKET_LEN / 1e6);
	printf("link_record_vs_secretstream: %.3f\n", seal / raw);
	printf("secretstream_push_pull_per_sec: %.0f\n", raw_rt);
	printf("link_records_sealed_and_opened_per_sec: %.0f\n", rt);
	printf("link_roundtrip_vs_secretstream: %.3f\n", rt / raw_rt);

	id_keypair_free(id_r);
	id_keypair_free(id_i);
	x_keypair_free(lk_r);
	return 0;
}
