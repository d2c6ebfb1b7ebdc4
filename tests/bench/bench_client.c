/* Client packet build rate: one fragment packet (sphinx_create over N mix
 * relays + the mailbox node) plus its ACK SURB (sphinx_surb_create over N
 * mixes + the sender's mailbox node), as `burrow send` builds per packet,
 * for 3- and 4-relay paths, against the X25519 rate in the same run. */
#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "client/fragment.h"
#include "common/sphinx.h"
#include "common/util.h"

static double
secs_since(uint64_t t0)
{
	return (double)(mono_ns() - t0) / 1e9;
}

static void
make_hops(struct sphinx_hop *hops, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t sk[32];

		randombytes_buf(sk, sizeof(sk));
		crypto_scalarmult_base(hops[i].node_pk, sk);
		randombytes_buf(hops[i].node_id, sizeof(hops[i].node_id));
		hops[i].delay_ms = 0;
	}
}

/* Packets per second for an nmix-relay path (nmix + 1 node hops). */
static double
build_rate(size_t nmix, double min_secs)
{
	struct sphinx_hop hops[SPHINX_MAX_HOPS], back[SPHINX_MAX_HOPS];
	struct sphinx_dest dest, mine;
	struct sphinx_surb surb;
	struct sphinx_surb_secret sec;
	uint8_t pkt[SPHINX_PACKET_LEN], msg[SPHINX_MSG_ACK_LEN], rsk[32];
	uint64_t t0;
	size_t n = 0;

	make_hops(hops, nmix + 1);
	make_hops(back, nmix + 1);
	memset(&dest, 0, sizeof(dest));
	memset(&mine, 0, sizeof(mine));
	randombytes_buf(rsk, sizeof(rsk));
	crypto_scalarmult_base(dest.recipient_pk, rsk);
	crypto_scalarmult_base(mine.recipient_pk, rsk);
	randombytes_buf(msg, sizeof(msg));
	t0 = mono_ns();
	do {
		if (sphinx_surb_create(&surb, &sec, back, nmix + 1, &mine) != 0 ||
		    sphinx_create(pkt, hops, nmix + 1, &dest, &surb, msg, sizeof(msg)) != 0) {
			fprintf(stderr, "bench_client: packet build failed\n");
			return 0;
		}
		sphinx_surb_secret_clear(&sec);
		n++;
	} while (secs_since(t0) < min_secs);
	return (double)n / secs_since(t0);
}

static double
x25519_rate(double min_secs)
{
	uint8_t sk[32], pk[32], out[32];
	uint64_t t0;
	size_t n = 0;

	randombytes_buf(sk, sizeof(sk));
	crypto_scalarmult_base(pk, sk);
	t0 = mono_ns();
	do {
		if (crypto_scalarmult(out, sk, pk) != 0)
			return 0;
		pk[0] ^= out[0] & 1;
		n++;
	} while (secs_since(t0) < min_secs);
	return (double)n / secs_since(t0);
}

int
main(void)
{
	double x, r3, r4, chunk = (double)frag_chunk_len(SPHINX_MSG_ACK_LEN, false);

	crypto_init();
	x = x25519_rate(1.0);
	r3 = build_rate(3, 1.5);
	r4 = build_rate(4, 1.5);
	printf("client_x25519_per_s: %.0f\n", x);
	printf("client_packet_build_3relay_per_s: %.0f\n", r3);
	printf("client_packet_build_4relay_per_s: %.0f\n", r4);
	printf("client_packet_build_3relay_x25519_equiv: %.1f\n", x / r3);
	printf("client_packet_build_4relay_x25519_equiv: %.1f\n", x / r4);
	printf("client_send_cpu_mib_per_s_3relay: %.2f\n", r3 * chunk / 1048576.0);
	printf("client_send_cpu_mib_per_s_4relay: %.2f\n", r4 * chunk / 1048576.0);
	return 0;
}
