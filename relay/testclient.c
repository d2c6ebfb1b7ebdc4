/* `burrow-relay testclient`: a hidden tool for the end-to-end tests and
 * benchmarks, built on common/ only. It is not a client: it trusts the
 * consensus of one authority without checking signatures and keeps
 * nothing. Blocking sockets, one link at a time.
 *
 *   testclient send DIRURL HOPS [--count N] [--dup] [--tamper] [--save FILE]
 *                   [--owner SEEDHEX] [--ack-owner SEEDHEX] [--msgid HEX]
 *                   [--delay MS] [--next-epoch]
 *   testclient inject DIRURL NICK FILE [--repeat N] [--sndbuf BYTES]
 *                   [--metrics-port P --expect N [--metric NAME]]
 *   testclient raw DIRURL NICK garbage|truncated|oversize|silent|unknown-relay
 *   testclient fetch DIRURL NICK SEEDHEX [--ack] [--wrong-key] [--replay]
 *                   [--no-auth] [--malformed] [--rounds N] [--cut]
 *   testclient keygen          (prints a fresh identity seed in hex)
 *   testclient unwrap-rate N   (in-process unwrap rate, one thread)
 *
 * send prints "sent N" and "epoch E", the epoch of the packet keys it used
 * (the current one by the clock, or the next with --next-epoch).
 *
 * send --to-nowhere appends a hop no consensus lists, so the last named
 * node unwraps and then drops the packet (no_route): the benchmark's way
 * of measuring one relay without a second one competing for the CPU.
 *
 * HOPS is a comma-separated list of nicknames; the last one delivers. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <sodium.h>

#include "common/dirdoc.h"
#include "common/encode.h"
#include "common/fetchproto.h"
#include "common/http.h"
#include "common/link.h"
#include "common/sphinx.h"
#include "common/util.h"
#include "relay/relay.h"

static struct dirdoc_consensus *
get_consensus(const char *dirurl)
{
	char *url = xasprintf("%s/consensus", dirurl), *body = NULL, why[160];
	struct dirdoc_consensus *c = NULL;
	size_t len = 0;
	int status = 0;

	if (http_fetch_sync(url, NULL, 0, 10, DIRDOC_CONS_MAX, &status, &body, &len) != 0 ||
	    status != 200 || dirdoc_consensus_parse(body, len, &c, why, sizeof(why)) != 0) {
		fprintf(stderr, "testclient: no consensus from %s (http %d)\n", url, status);
		c = NULL;
	}
	free(body);
	free(url);
	return c;
}

static const struct dirdoc_relay *
by_nick(const struct dirdoc_consensus *c, const char *nick)
{
	for (size_t i = 0; i < c->nrelays; i++)
		if (strcmp(c->relays[i].nickname, nick) == 0)
			return &c->relays[i];
	fprintf(stderr, "testclient: %s is not in the consensus\n", nick);
	return NULL;
}

static int tc_sndbuf;	/* inject --sndbuf: SO_SNDBUF of the link, 0 = kernel's */

static int
tc_connect(const char *host, uint16_t port)
{
	struct sockaddr_in sin;
	struct timeval tv = { 20, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	if (fd >= 0 && tc_sndbuf > 0)
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &tc_sndbuf, sizeof(tc_sndbuf));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons(port);
	if (fd < 0 || inet_pton(AF_INET, host, &sin.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&sin, sizeof(sin)) != 0) {
		fprintf(stderr, "testclient: cannot connect to %s:%u\n", host, port);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	return fd;
}

static int
write_all(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;

	while (n) {
		ssize_t w = write(fd, b, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		b += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
read_all(int fd, void *p, size_t n)
{
	uint8_t *b = p;

	while (n) {
		ssize_t r = read(fd, b, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		b += r;
		n -= (size_t)r;
	}
	return 0;
}

static void
send_output(int fd, struct link *l)
{
	size_t n;
	const uint8_t *o = link_output(l, &n);

	if (o && n)
		(void)write_all(fd, o, n);
}

/* Read until an event other than NONE. */
static int
pump(int fd, struct link *l, enum link_event *ev, struct link_frame *fr)
{
	static uint8_t buf[LINK_RECORD_LEN];

	for (;;) {
		size_t want = link_want(l), used = 0;
		int rc;

		if (want == 0 || want > sizeof(buf))
			return ERR_CLOSED;
		if (read_all(fd, buf, want) != 0)
			return ERR_CLOSED;
		if ((rc = link_feed(l, buf, want, &used, ev, fr)) != 0)
			return rc;
		if (*ev != LINK_EV_NONE)
			return 0;
	}
}

static struct link *
open_link_as(const struct dirdoc_relay *dr, int *fdp, const struct id_keypair *self)
{
	struct link *l = NULL;
	enum link_event ev;
	struct link_frame fr;
	int fd;

	*fdp = -1;
	if ((fd = tc_connect(dr->host, dr->port)) < 0)
		return NULL;
	if (link_new_initiator(&l, dr->link_pk, dr->id_pk, self) != 0) {
		close(fd);
		return NULL;
	}
	send_output(fd, l);
	while (!link_is_established(l)) {
		if (pump(fd, l, &ev, &fr) != 0) {
			fprintf(stderr, "testclient: handshake with %s failed\n", dr->nickname);
			link_free(l);
			close(fd);
			return NULL;
		}
		send_output(fd, l);
	}
	*fdp = fd;
	return l;
}

static struct link *
open_link(const struct dirdoc_relay *dr, int *fdp)
{
	return open_link_as(dr, fdp, NULL);
}

static void
close_link(int fd, struct link *l)
{
	uint8_t rec[LINK_RECORD_LEN], tmp[4096];

	if (link_send_close(l, LINK_CLOSE_NORMAL, rec) == 0)
		(void)write_all(fd, rec, sizeof(rec));
	shutdown(fd, SHUT_WR);
	while (read(fd, tmp, sizeof(tmp)) > 0)	/* until the node closes too */
		;
	close(fd);
	link_free(l);
}

static uint64_t send_t0;	/* when the first packet was written */

static int
send_packets(const struct dirdoc_relay *first, const uint8_t *pkts, size_t n, unsigned repeat)
{
	uint8_t rec[LINK_RECORD_LEN];
	struct link *l;
	int fd;

	if ((l = open_link(first, &fd)) == NULL)
		return 1;
	send_t0 = mono_ns();
	for (size_t i = 0; i < n; i++)
		for (unsigned k = 0; k < repeat; k++)
			if (link_send_packet(l, pkts + i * SPHINX_PACKET_LEN, rec) != 0 ||
			    write_all(fd, rec, sizeof(rec)) != 0) {
				fprintf(stderr, "testclient: send failed\n");
				close(fd);
				link_free(l);
				return 1;
			}
	close_link(fd, l);
	return 0;
}

static int
seed_key(struct id_keypair **kp, const char *hex)
{
	uint8_t seed[ID_SEED_LEN];

	if (hex_decode(seed, sizeof(seed), hex) != 0) {
		fprintf(stderr, "testclient: a seed is %d hex digits\n", HEX_LEN(ID_SEED_LEN));
		return -1;
	}
	*kp = id_keypair_from_seed(seed);
	sodium_memzero(seed, sizeof(seed));
	return 0;
}

static int
fill_hop(struct sphinx_hop *h, const struct dirdoc_relay *dr, uint64_t e, uint32_t delay)
{
	const uint8_t *pk = dirdoc_relay_packet_key(dr, e);

	if (pk == NULL) {
		fprintf(stderr, "testclient: %s has no key for epoch %llu\n", dr->nickname,
			(unsigned long long)e);
		return -1;
	}
	memcpy(h->node_pk, pk, SPHINX_KEY_LEN);
	memcpy(h->node_id, dr->node_id, SPHINX_ID_LEN);
	h->delay_ms = delay;
	return 0;
}

static void
dest_for(struct sphinx_dest *d, const struct id_keypair *owner)
{
	struct x_keypair *x = id_keypair_to_x(owner);

	fetch_box_id(d->mailbox_id, owner->pk);
	memcpy(d->recipient_pk, x->pk, SPHINX_KEY_LEN);
	x_keypair_free(x);
}

static int
cmd_send(struct dirdoc_consensus *c, int argc, char **argv)
{
	const struct dirdoc_relay *hops[SPHINX_MAX_HOPS];
	struct sphinx_hop sh[SPHINX_MAX_HOPS];
	struct id_keypair *owner = NULL, *ack_owner = NULL;
	struct sphinx_surb surb;
	struct sphinx_surb_secret sec;
	struct sphinx_dest dest;
	const char *save = NULL, *msgid = NULL;
	unsigned count = 1, repeat = 1, delay = 0;
	bool tamper = false, next_epoch = false, nowhere = false;
	char tmp[256], *save_ptr = NULL, *tok;
	size_t nh = 0;
	uint64_t e;
	uint8_t *pkts;
	int rc = 1;

	if (argc < 2)
		return 2;
	snprintf(tmp, sizeof(tmp), "%s", argv[1]);
	for (tok = strtok_r(tmp, ",", &save_ptr); tok; tok = strtok_r(NULL, ",", &save_ptr)) {
		if (nh == SPHINX_MAX_HOPS || (hops[nh] = by_nick(c, tok)) == NULL)
			return 1;
		nh++;
	}
	for (int i = 2; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";

		if (strcmp(a, "--count") == 0)
			count = (unsigned)atoi(v), i++;
		else if (strcmp(a, "--dup") == 0)
			repeat = 2;
		else if (strcmp(a, "--tamper") == 0)
			tamper = true;
		else if (strcmp(a, "--save") == 0)
			save = v, i++;
		else if (strcmp(a, "--owner") == 0) {
			if (seed_key(&owner, v) != 0)
				return 2;
			i++;
		} else if (strcmp(a, "--ack-owner") == 0) {
			if (seed_key(&ack_owner, v) != 0)
				return 2;
			i++;
		} else if (strcmp(a, "--msgid") == 0)
			msgid = v, i++;
		else if (strcmp(a, "--delay") == 0)
			delay = (unsigned)atoi(v), i++;
		else if (strcmp(a, "--next-epoch") == 0)
			next_epoch = true;
		else if (strcmp(a, "--to-nowhere") == 0)
			nowhere = true;
		else
			return 2;
	}
	if (count == 0 || count > 1000000)
		return 2;
	if (owner == NULL)
		owner = id_keypair_new();
	e = dirdoc_epoch_of(time_now(), c->epoch_len) + (next_epoch ? 1 : 0);
	for (size_t i = 0; i < nh; i++)
		if (fill_hop(&sh[i], hops[i], e, delay) != 0)
			goto out;
	if (nowhere && nh < SPHINX_MAX_HOPS) {	/* a next hop no consensus lists */
		struct x_keypair *x = x_keypair_new();

		memcpy(sh[nh].node_pk, x->pk, SPHINX_KEY_LEN);
		randombytes_buf(sh[nh].node_id, SPHINX_ID_LEN);
		sh[nh].delay_ms = 0;
		x_keypair_free(x);
		nh++;
	}
	if (ack_owner) {	/* the ACK comes back to ack_owner's mailbox at the last node */
		struct sphinx_hop ah;
		struct sphinx_dest ad;

		memset(&ad, 0, sizeof(ad));
		dest_for(&ad, ack_owner);
		randombytes_buf(ad.msg_id, sizeof(ad.msg_id));
		if (fill_hop(&ah, hops[nh - 1], e, 0) != 0 ||
		    sphinx_surb_create(&surb, &sec, &ah, 1, &ad) != 0)
			goto out;
		sphinx_surb_secret_clear(&sec);
	}
	pkts = xmalloc((size_t)count * SPHINX_PACKET_LEN);
	memset(&dest, 0, sizeof(dest));
	dest_for(&dest, owner);
	for (unsigned k = 0; k < count; k++) {
		uint8_t msg[64];
		uint8_t *p = pkts + (size_t)k * SPHINX_PACKET_LEN;

		if (msgid == NULL || hex_decode(dest.msg_id, SPHINX_MSG_ID_LEN, msgid) != 0)
			randombytes_buf(dest.msg_id, SPHINX_MSG_ID_LEN);
		snprintf((char *)msg, sizeof(msg), "test message %u", k);
		if (sphinx_create(p, sh, nh, &dest, ack_owner ? &surb : NULL, msg,
				  strlen((char *)msg)) != 0) {
			free(pkts);
			goto out;
		}
		if (tamper)
			p[100] ^= 0x40;	/* in the routing info: the first MAC fails */
	}
	if (save) {
		FILE *f = fopen(save, "wb");

		rc = f && fwrite(pkts, SPHINX_PACKET_LEN, count, f) == count ? 0 : 1;
		if (f)
			fclose(f);
	} else {
		rc = send_packets(hops[0], pkts, count, repeat);
	}
	free(pkts);
	if (rc == 0) {
		printf("sent %u\n", save ? 0 : count * repeat);
		printf("epoch %llu\n", (unsigned long long)e);	/* the packet keys used */
	}
out:
	id_keypair_free(owner);
	id_keypair_free(ack_owner);
	return rc;
}

/* Read one sample's value from a node's /metrics, or -1. */
static long long
read_metric(unsigned port, const char *name)
{
	char *url = xasprintf("http://127.0.0.1:%u/metrics", port), *body = NULL, *p;
	long long v = -1;
	size_t len, nl = strlen(name);
	int status = 0;

	if (http_fetch_sync(url, NULL, 0, 5, 1 << 20, &status, &body, &len) == 0 && status == 200)
		for (p = body; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
			if (strncmp(p, name, nl) == 0 && p[nl] == ' ') {
				v = atoll(p + nl + 1);
				break;
			}
	free(body);
	free(url);
	return v;
}

static int
cmd_inject(struct dirdoc_consensus *c, int argc, char **argv)
{
	const struct dirdoc_relay *dr;
	unsigned repeat = 1, mport = 0;
	long long expect = 0;
	const char *metric = "burrow_relay_packets_dropped_total{reason=\"no_route\"}";
	uint8_t *pkts;
	size_t n = 0, cap = 64;
	FILE *f;
	int rc;

	if (argc < 3 || (dr = by_nick(c, argv[1])) == NULL)
		return 2;
	for (int i = 3; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--repeat") == 0)
			repeat = (unsigned)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--metrics-port") == 0)
			mport = (unsigned)atoi(argv[i + 1]);
		else if (strcmp(argv[i], "--expect") == 0)
			expect = atoll(argv[i + 1]);
		else if (strcmp(argv[i], "--metric") == 0)
			metric = argv[i + 1];
		else if (strcmp(argv[i], "--sndbuf") == 0)
			tc_sndbuf = atoi(argv[i + 1]);
	}
	if ((f = fopen(argv[2], "rb")) == NULL)
		return 1;
	pkts = xmalloc(cap * SPHINX_PACKET_LEN);
	for (;;) {
		if (n == cap)
			pkts = xrealloc(pkts, (cap *= 2) * SPHINX_PACKET_LEN);
		if (fread(pkts + n * SPHINX_PACKET_LEN, SPHINX_PACKET_LEN, 1, f) != 1)
			break;
		n++;
	}
	fclose(f);
	rc = send_packets(dr, pkts, n, repeat);
	if (rc == 0)
		printf("sent %zu\n", n * repeat);
	if (rc == 0 && mport) {	/* wait until the node has processed them */
		uint64_t end = mono_ns() + 60000000000ull;

		while (read_metric(mport, metric) < expect && mono_ns() < end)
			usleep(5000);
		printf("elapsed %.6f\n", (double)(mono_ns() - send_t0) / 1e9);
	}
	free(pkts);
	return rc;
}

/* Wait until the node closes the connection: 0 if it did within limit_s. */
static int
wait_closed(int fd, int limit_s)
{
	uint8_t tmp[4096];
	uint64_t end = mono_ns() + (uint64_t)limit_s * 1000000000ull;

	while (mono_ns() < end) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		ssize_t r;

		if (poll(&pfd, 1, 200) <= 0)
			continue;
		r = read(fd, tmp, sizeof(tmp));
		if (r == 0 || (r < 0 && errno != EINTR && errno != EAGAIN))
			return 0;
	}
	return 1;
}

static int
cmd_raw(struct dirdoc_consensus *c, int argc, char **argv)
{
	const struct dirdoc_relay *dr;
	const char *how;
	struct link *l = NULL;
	int fd, rc;

	if (argc < 3 || (dr = by_nick(c, argv[1])) == NULL)
		return 2;
	how = argv[2];
	if (strcmp(how, "unknown-relay") == 0) {
		/* An authenticated relay no consensus lists: expect CLOSE with
		 * reason UNKNOWN_PEER. */
		struct id_keypair *self = id_keypair_new();
		enum link_event ev;
		struct link_frame fr;
		bool refused = false;

		if ((l = open_link_as(dr, &fd, self)) == NULL) {
			id_keypair_free(self);
			return 1;
		}
		while (pump(fd, l, &ev, &fr) == 0)
			if (ev == LINK_EV_FRAME && fr.type == LINK_FRAME_CLOSE) {
				refused = fr.close_reason == LINK_CLOSE_UNKNOWN_PEER;
				break;
			}
		printf("%s\n", refused ? "refused" : "not refused");
		close(fd);
		link_free(l);
		id_keypair_free(self);
		return refused ? 0 : 1;
	}
	if (strcmp(how, "oversize") == 0) {
		uint8_t plain[LINK_PLAIN_LEN], rec[LINK_RECORD_LEN];

		if ((l = open_link(dr, &fd)) == NULL)
			return 1;
		/* A packet frame whose length field says more than a record holds. */
		memset(plain, 0, sizeof(plain));
		plain[0] = LINK_FRAME_PACKET;
		plain[2] = 0xff;
		plain[3] = 0xff;
		if (link_seal_raw(l, plain, false, rec) != 0 || write_all(fd, rec, sizeof(rec)) != 0)
			return 1;
	} else {
		if ((fd = tc_connect(dr->host, dr->port)) < 0)
			return 1;
		if (strcmp(how, "garbage") == 0) {
			uint8_t junk[4096];

			randombytes_buf(junk, sizeof(junk));
			(void)write_all(fd, junk, sizeof(junk));
		} else if (strcmp(how, "truncated") == 0) {
			size_t n;
			const uint8_t *o;

			if (link_new_initiator(&l, dr->link_pk, dr->id_pk, NULL) != 0)
				return 1;
			o = link_output(l, &n);
			(void)write_all(fd, o, n / 2);
		} else if (strcmp(how, "silent") != 0) {
			close(fd);
			return 2;
		}
	}
	rc = wait_closed(fd, 30);
	printf("%s\n", rc == 0 ? "closed" : "still open");
	close(fd);
	link_free(l);
	return rc;
}

static int
send_ctl(int fd, struct link *l, const uint8_t *m, size_t n)
{
	uint8_t out[LINK_CONTROL_RECORDS * LINK_RECORD_LEN + LINK_RECORD_LEN];
	size_t olen = 0;

	if (link_send_control(l, m, n, out, sizeof(out), &olen) != 0)
		return -1;
	return write_all(fd, out, olen);
}

static int
recv_ctl(int fd, struct link *l, struct link_frame *fr)
{
	enum link_event ev;

	do {
		if (pump(fd, l, &ev, fr) != 0)
			return -1;
	} while (ev != LINK_EV_FRAME || fr->type == LINK_FRAME_KEEPALIVE);
	return fr->type == LINK_FRAME_CONTROL ? 0 : -1;
}

static int
cmd_fetch(struct dirdoc_consensus *c, int argc, char **argv)
{
	const struct dirdoc_relay *dr;
	struct id_keypair *owner = NULL, *signer = NULL;
	bool ack = false, wrong = false, replay = false, noauth = false, malformed = false;
	bool cut = false;
	unsigned rounds = 1000;
	uint8_t m[FETCH_MSG_MAX], ch[FETCH_CHALLENGE_LEN], h[LINK_HASH_LEN], sig[ID_SIG_LEN];
	uint8_t authmsg[FETCH_AUTH_LEN];
	static struct fetch_slot slot;
	struct link_frame fr;
	struct link *l;
	size_t fetched = 0, acked = 0;
	int fd, rc = 1;

	if (argc < 3 || (dr = by_nick(c, argv[1])) == NULL || seed_key(&owner, argv[2]) != 0)
		return 2;
	for (int i = 3; i < argc; i++) {
		if (strcmp(argv[i], "--ack") == 0)
			ack = true;
		else if (strcmp(argv[i], "--wrong-key") == 0)
			wrong = true;
		else if (strcmp(argv[i], "--replay") == 0)
			replay = true;
		else if (strcmp(argv[i], "--no-auth") == 0)
			noauth = true;
		else if (strcmp(argv[i], "--malformed") == 0)
			malformed = true;
		else if (strcmp(argv[i], "--cut") == 0)
			cut = true;
		else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc)
			rounds = (unsigned)atoi(argv[++i]);
	}
	if ((l = open_link(dr, &fd)) == NULL)
		goto out;
	if (malformed) {
		m[0] = FETCH_T_HELLO;
		m[1] = FETCH_VERSION;
		m[2] = 7;	/* one byte too many */
		(void)send_ctl(fd, l, m, 3);
		goto expect_refuse;
	}
	if (!noauth) {
		(void)send_ctl(fd, l, m, fetch_hello_encode(m));
		if (recv_ctl(fd, l, &fr) != 0 || fetch_challenge_parse(ch, fr.data, fr.len) != 0)
			goto out;
		if (link_handshake_hash(l, h) != 0)
			goto out;
		signer = wrong ? id_keypair_new() : owner;
		fetch_auth_sign(sig, signer, dr->node_id, h, ch);
		fetch_auth_encode(authmsg, owner->pk, sig);
		(void)send_ctl(fd, l, authmsg, FETCH_AUTH_LEN);
		if (replay)	/* the same proof again: the challenge is spent */
			(void)send_ctl(fd, l, authmsg, FETCH_AUTH_LEN);
	}
	for (unsigned round = 0; round < rounds; round++) {
		struct fetch_ack a;
		bool more = false;

		memset(&a, 0, sizeof(a));
		(void)send_ctl(fd, l, m, fetch_fetch_encode(m));
		for (unsigned i = 0; i < FETCH_BATCH; i++) {
			if (recv_ctl(fd, l, &fr) != 0)
				goto out;
			if (fetch_msg_type(fr.data, fr.len) == FETCH_T_REFUSE)
				goto refused;
			if (fetch_slot_parse(&slot, fr.data, fr.len) != 0)
				goto out;
			if (slot.flags & FETCH_SLOT_PRESENT) {
				char hex[HEX_LEN(FETCH_MSG_ID_LEN) + 1];

				hex_encode(hex, slot.msg_id, FETCH_MSG_ID_LEN);
				printf("msg %s %u\n", hex, slot.len);
				memcpy(a.ids[a.n++], slot.msg_id, FETCH_MSG_ID_LEN);
				fetched++;
			}
			if (slot.flags & FETCH_SLOT_MORE)
				more = true;
		}
		if (cut) {	/* drop the link before acknowledging */
			close(fd);
			link_free(l);
			printf("fetched %zu\nacked 0\n", fetched);
			id_keypair_free(owner);
			if (signer && signer != owner)
				id_keypair_free(signer);
			return 0;
		}
		if (ack && a.n) {
			uint8_t k;

			(void)send_ctl(fd, l, m, fetch_ack_encode(m, &a));
			if (recv_ctl(fd, l, &fr) != 0 || fetch_acked_parse(&k, fr.data, fr.len) != 0)
				goto out;
			acked += k;
		}
		if (!more)
			break;
	}
	printf("fetched %zu\nacked %zu\n", fetched, acked);
	rc = 0;
	goto done;
expect_refuse:
	if (recv_ctl(fd, l, &fr) != 0 || fetch_refuse_parse(fr.data, fr.len) != 0)
		goto out;
refused:
	printf("refused\n");
	rc = 0;
done:
	close_link(fd, l);
	l = NULL;
out:
	if (l) {
		close(fd);
		link_free(l);
	}
	id_keypair_free(owner);
	if (signer && signer != owner)
		id_keypair_free(signer);
	return rc;
}

/* In-process unwrap rate on one thread: packets/s, for the benchmark. */
static int
cmd_unwrap_rate(unsigned n)
{
	struct x_keypair *a = x_keypair_new(), *b = x_keypair_new();
	struct sphinx_hop h[2];
	struct sphinx_dest d;
	struct sphinx_result *res = xmalloc(sizeof(*res));
	uint8_t *pkts = xmalloc((size_t)n * SPHINX_PACKET_LEN);
	uint64_t t0;

	memset(h, 0, sizeof(h));
	memset(&d, 0, sizeof(d));
	memcpy(h[0].node_pk, a->pk, 32);
	memcpy(h[1].node_pk, b->pk, 32);
	randombytes_buf(h[1].node_id, 32);
	memcpy(d.recipient_pk, b->pk, 32);
	for (unsigned i = 0; i < n; i++)
		if (sphinx_create(pkts + (size_t)i * SPHINX_PACKET_LEN, h, 2, &d, NULL,
				  (const uint8_t *)"x", 1) != 0)
			return 1;
	t0 = mono_ns();
	for (unsigned i = 0; i < n; i++)
		if (sphinx_unwrap(res, pkts + (size_t)i * SPHINX_PACKET_LEN, SPHINX_PACKET_LEN,
				  a->sk, a->pk) != 0)
			return 1;
	printf("%.0f\n", (double)n * 1e9 / (double)(mono_ns() - t0));
	free(pkts);
	free(res);
	x_keypair_free(a);
	x_keypair_free(b);
	return 0;
}

int
relay_testclient_main(int argc, char **argv)
{
	struct dirdoc_consensus *c;
	int rc;

	crypto_init();
	if (argc >= 2 && strcmp(argv[1], "keygen") == 0) {
		uint8_t seed[ID_SEED_LEN];
		char hex[HEX_LEN(ID_SEED_LEN) + 1];

		randombytes_buf(seed, sizeof(seed));
		hex_encode(hex, seed, sizeof(seed));
		printf("%s\n", hex);
		return 0;
	}
	if (argc >= 3 && strcmp(argv[1], "unwrap-rate") == 0)
		return cmd_unwrap_rate((unsigned)atoi(argv[2]));
	if (argc < 3) {
		fprintf(stderr, "usage: burrow-relay testclient send|inject|raw|fetch DIRURL ...\n");
		return 2;
	}
	if ((c = get_consensus(argv[2])) == NULL)
		return 1;
	argv[2] = argv[1];	/* shift: the command sees (cmd, args...) */
	if (strcmp(argv[1], "send") == 0)
		rc = cmd_send(c, argc - 2, argv + 2);
	else if (strcmp(argv[1], "inject") == 0)
		rc = cmd_inject(c, argc - 2, argv + 2);
	else if (strcmp(argv[1], "raw") == 0)
		rc = cmd_raw(c, argc - 2, argv + 2);
	else if (strcmp(argv[1], "fetch") == 0)
		rc = cmd_fetch(c, argc - 2, argv + 2);
	else
		rc = 2;
	dirdoc_consensus_free(c);
	return rc;
}
