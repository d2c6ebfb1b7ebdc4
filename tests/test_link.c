/* Tests for common/link: the link handshake and record layer. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/err.h"
#include "common/keys.h"
#include "common/link.h"
#include "common/util.h"
#include "tests/check.h"

static struct id_keypair *id_a, *id_b, *id_c;
static struct x_keypair *lk_a, *lk_b;

/* One connection: initiator i (relay id_c, or anonymous) towards
 * responder r (relay A: lk_a, id_a). */
struct pair {
	struct link *i, *r;
};

static void
pair_new(struct pair *p, bool anonymous)
{
	int rc = link_new_initiator(&p->i, lk_a->pk, id_a->pk, anonymous ? NULL : id_c);

	CHECK_EQ(rc, 0);
	p->r = link_new_responder(lk_a, id_a);
}

static void
pair_free(struct pair *p)
{
	LINK_FREE(p->i);
	LINK_FREE(p->r);
}

/* Feed all of buf (in chunks of at most chunk bytes) into l; stop at the
 * first error. The last event and frame are returned. */
static int
feed_all(struct link *l, const uint8_t *buf, size_t len, size_t chunk, enum link_event *ev,
	 struct link_frame *fr)
{
	size_t off = 0;

	*ev = LINK_EV_NONE;
	while (off < len) {
		size_t n = MIN(chunk, len - off), used;
		int r = link_feed(l, buf + off, n, &used, ev, fr);

		if (r != 0)
			return r;
		if (used == 0)
			return ERR_INTERNAL;
		off += used;
	}
	return 0;
}

/* Move the pending output of from into to. */
static int
pass(struct link *from, struct link *to, enum link_event *ev)
{
	struct link_frame fr;
	size_t len;
	const uint8_t *p = link_output(from, &len);

	if (!p)
		return ERR_INTERNAL;
	return feed_all(to, p, len, len, ev, &fr);
}

static int
handshake(struct pair *p)
{
	enum link_event ev;
	int r;

	if ((r = pass(p->i, p->r, &ev)) != 0)
		return r;
	if (ev != LINK_EV_OUTPUT)
		return ERR_INTERNAL;
	if ((r = pass(p->r, p->i, &ev)) != 0)
		return r;
	if (ev != LINK_EV_ESTABLISHED)
		return ERR_INTERNAL;
	if ((r = pass(p->i, p->r, &ev)) != 0)
		return r;
	return ev == LINK_EV_ESTABLISHED ? 0 : ERR_INTERNAL;
}

static void
test_handshake_relay(void)
{
	struct pair p;
	uint8_t id[ID_PK_LEN], h1[LINK_HASH_LEN], h2[LINK_HASH_LEN];

	pair_new(&p, false);
	CHECK(!link_is_established(p.i));
	CHECK_EQ(link_peer_identity(p.i, id), ERR_CLOSED);
	CHECK_EQ(link_handshake_hash(p.i, h1), ERR_CLOSED);
	CHECK_EQ(handshake(&p), 0);
	CHECK(link_is_established(p.i) && link_is_established(p.r));
	CHECK(link_is_initiator(p.i) && !link_is_initiator(p.r));
	CHECK(!link_peer_is_anonymous(p.i) && !link_peer_is_anonymous(p.r));
	CHECK_EQ(link_peer_identity(p.i, id), 0);
	CHECK(sodium_memcmp(id, id_a->pk, ID_PK_LEN) == 0);
	CHECK_EQ(link_peer_identity(p.r, id), 0);
	CHECK(sodium_memcmp(id, id_c->pk, ID_PK_LEN) == 0);
	CHECK_EQ(link_handshake_hash(p.i, h1), 0);
	CHECK_EQ(link_handshake_hash(p.r, h2), 0);
	CHECK(sodium_memcmp(h1, h2, LINK_HASH_LEN) == 0);
	CHECK(!sodium_is_zero(h1, LINK_HASH_LEN));
	pair_free(&p);

	/* A second session has a different h. */
	pair_new(&p, false);
	CHECK_EQ(handshake(&p), 0);
	CHECK_EQ(link_handshake_hash(p.r, h2), 0);
	CHECK(sodium_memcmp(h1, h2, LINK_HASH_LEN) != 0);
	pair_free(&p);
}

static void
test_handshake_client(void)
{
	struct pair p;
	uint8_t id[ID_PK_LEN], h1[LINK_HASH_LEN], h2[LINK_HASH_LEN];
	size_t len;
	const uint8_t *m1;

	pair_new(&p, true);
	/* msg1 carries no long-term key of the client: only its version,
	 * a fresh ephemeral key and ciphertext. */
	m1 = link_output(p.i, &len);
	CHECK_EQ(len, LINK_MSG1_LEN);
	CHECK_EQ(m1[0], LINK_VERSION);
	{
		enum link_event ev;
		struct link_frame fr;
		size_t used;

		CHECK_EQ(link_feed(p.r, m1, len, &used, &ev, &fr), 0);
		CHECK_EQ(ev, LINK_EV_OUTPUT);
		CHECK_EQ(pass(p.r, p.i, &ev), 0);
		CHECK_EQ(pass(p.i, p.r, &ev), 0);
		CHECK_EQ(ev, LINK_EV_ESTABLISHED);
	}
	CHECK(link_peer_is_anonymous(p.r));
	CHECK(!link_peer_is_anonymous(p.i));
	CHECK_EQ(link_peer_identity(p.r, id), ERR_NOT_FOUND);
	CHECK(sodium_is_zero(id, ID_PK_LEN));
	CHECK_EQ(link_peer_identity(p.i, id), 0);
	CHECK(sodium_memcmp(id, id_a->pk, ID_PK_LEN) == 0);
	CHECK_EQ(link_handshake_hash(p.i, h1), 0);
	CHECK_EQ(link_handshake_hash(p.r, h2), 0);
	CHECK(sodium_memcmp(h1, h2, LINK_HASH_LEN) == 0);
	pair_free(&p);
}

static void
test_wrong_responder_key(void)
{
	struct link *i, *r;
	enum link_event ev;

	/* The initiator believes A's link key is lk_b's. */
	CHECK_EQ(link_new_initiator(&i, lk_b->pk, id_a->pk, id_c), 0);
	r = link_new_responder(lk_a, id_a);
	CHECK_EQ(pass(i, r, &ev), ERR_AUTH);
	CHECK(link_is_dead(r));
	CHECK_EQ(pass(i, r, &ev), ERR_INTERNAL);	/* output was taken once */
	link_free(i);
	link_free(r);
}

static void
test_wrong_identity(void)
{
	struct link *i, *r;
	enum link_event ev;
	uint8_t id[ID_PK_LEN];

	/* Reaches B (B's link key) while expecting identity A. */
	CHECK_EQ(link_new_initiator(&i, lk_b->pk, id_a->pk, id_c), 0);
	r = link_new_responder(lk_b, id_b);
	CHECK_EQ(pass(i, r, &ev), 0);
	CHECK_EQ(pass(r, i, &ev), ERR_AUTH);
	CHECK(!link_is_established(i));
	CHECK_EQ(link_peer_identity(i, id), ERR_CLOSED);
	link_free(i);
	link_free(r);

	/* Responder B signs with identity A's key pair but is not A: the
	 * initiator expecting B's identity refuses. */
	CHECK_EQ(link_new_initiator(&i, lk_b->pk, id_b->pk, NULL), 0);
	r = link_new_responder(lk_b, id_a);
	CHECK_EQ(pass(i, r, &ev), 0);
	CHECK_EQ(pass(r, i, &ev), ERR_AUTH);
	link_free(i);
	link_free(r);
}

/* A key pair that claims one identity while holding another's secret. */
static struct id_keypair *
forged(const struct id_keypair *claimed, const struct id_keypair *real)
{
	struct id_keypair *f = id_keypair_new();

	memcpy(f->pk, claimed->pk, ID_PK_LEN);
	memcpy(f->sk, real->sk, ID_SK_LEN);
	return f;
}

static void
test_impersonation(void)
{
	struct id_keypair *f;
	struct link *i, *r;
	enum link_event ev;

	/* Relay C claims to be relay B: its signature does not verify. */
	f = forged(id_b, id_c);
	CHECK_EQ(link_new_initiator(&i, lk_a->pk, id_a->pk, f), 0);
	r = link_new_responder(lk_a, id_a);
	CHECK_EQ(pass(i, r, &ev), 0);
	CHECK_EQ(pass(r, i, &ev), 0);
	CHECK_EQ(pass(i, r, &ev), ERR_AUTH);
	CHECK(!link_is_established(r));
	link_free(i);
	link_free(r);
	id_keypair_free(f);

	/* A responder holding A's link key claims A's identity without its
	 * identity secret. */
	f = forged(id_a, id_b);
	CHECK_EQ(link_new_initiator(&i, lk_a->pk, id_a->pk, NULL), 0);
	r = link_new_responder(lk_a, f);
	CHECK_EQ(pass(i, r, &ev), 0);
	CHECK_EQ(pass(r, i, &ev), ERR_AUTH);
	CHECK(!link_is_established(i));
	link_free(i);
	link_free(r);
	id_keypair_free(f);
}

static void
test_weak_keys(void)
{
	static const uint8_t zero[X_PK_LEN];
	struct link *i, *r;
	enum link_event ev;
	struct link_frame fr;
	uint8_t m1[LINK_MSG1_LEN];
	const uint8_t *p;
	size_t len, used;

	CHECK_EQ(link_new_initiator(&i, zero, id_a->pk, NULL), ERR_WEAK_KEY);
	CHECK(i == NULL);

	CHECK_EQ(link_new_initiator(&i, lk_a->pk, id_a->pk, NULL), 0);
	p = link_output(i, &len);
	memcpy(m1, p, sizeof(m1));
	memset(m1 + 1, 0, X_PK_LEN);
	r = link_new_responder(lk_a, id_a);
	CHECK_EQ(link_feed(r, m1, sizeof(m1), &used, &ev, &fr), ERR_WEAK_KEY);
	CHECK_EQ(link_feed(r, m1, sizeof(m1), &used, &ev, &fr), ERR_CLOSED);
	CHECK_EQ(link_want(r), 0);
	link_free(i);
	link_free(r);
}

/* Run the handshake to message `which` (1..3), flip `mask` at byte pos,
 * and deliver it: the receiver must fail. */
static int
tamper_one(int which, size_t pos, uint8_t mask, bool anonymous)
{
	struct pair p;
	struct link *from, *to;
	enum link_event ev;
	struct link_frame fr;
	uint8_t m[LINK_MSG2_LEN];
	const uint8_t *o;
	size_t len;
	int r = 0;

	pair_new(&p, anonymous);
	if (which >= 2 && pass(p.i, p.r, &ev) != 0)
		r = ERR_INTERNAL;
	if (which >= 3 && pass(p.r, p.i, &ev) != 0)
		r = ERR_INTERNAL;
	from = which == 2 ? p.r : p.i;
	to = which == 2 ? p.i : p.r;
	o = link_output(from, &len);
	if (r == 0 && o && pos < len) {
		memcpy(m, o, len);
		m[pos] ^= mask;
		r = feed_all(to, m, len, len, &ev, &fr);
		if (r == 0)
			r = 1;	/* accepted: a failure of the test */
		else if (!link_is_dead(to) || link_is_established(to))
			r = 1;
	} else if (r == 0) {
		r = ERR_INTERNAL;
	}
	pair_free(&p);
	return r;
}

static void
test_tamper_handshake(void)
{
	static const size_t lens[] = { LINK_MSG1_LEN, LINK_MSG2_LEN, LINK_MSG3_LEN };
	static const uint8_t masks[] = { 0x01, 0x80 };
	int accepted = 0, internal = 0;

	for (int w = 1; w <= 3; w++)
		for (size_t pos = 0; pos < lens[w - 1]; pos++)
			for (size_t k = 0; k < ARRAY_LEN(masks); k++)
				for (int anon = 0; anon < 2; anon++) {
					int r = tamper_one(w, pos, masks[k], anon);

					accepted += r == 1;
					internal += r == ERR_INTERNAL;
				}
	CHECK_EQ(accepted, 0);
	CHECK_EQ(internal, 0);
}

static void
test_truncated_handshake(void)
{
	static const size_t lens[] = { LINK_MSG1_LEN, LINK_MSG2_LEN, LINK_MSG3_LEN };

	for (int w = 1; w <= 3; w++) {
		for (size_t k = 0; k < lens[w - 1]; k++) {
			struct pair p;
			struct link *from, *to;
			enum link_event ev;
			struct link_frame fr;
			uint8_t m[LINK_MSG2_LEN];
			const uint8_t *o;
			size_t len, used, olen;

			pair_new(&p, w == 3 && (k & 1));
			if (w >= 2)
				CHECK_EQ(pass(p.i, p.r, &ev), 0);
			if (w >= 3)
				CHECK_EQ(pass(p.r, p.i, &ev), 0);
			from = w == 2 ? p.r : p.i;
			to = w == 2 ? p.i : p.r;
			o = link_output(from, &len);
			CHECK_EQ(len, lens[w - 1]);
			memcpy(m, o, len);
			/* A prefix is consumed and waits for more. */
			CHECK_EQ(link_feed(to, m, k, &used, &ev, &fr), 0);
			CHECK_EQ(used, k);
			CHECK_EQ(ev, LINK_EV_NONE);
			CHECK_EQ(link_want(to), len - k);
			CHECK(link_output(to, &olen) == NULL);
			CHECK(!link_is_dead(to));
			/* The rest completes it. */
			CHECK_EQ(feed_all(to, m + k, len - k, len, &ev, &fr), 0);
			CHECK(ev == (w == 1 ? LINK_EV_OUTPUT : LINK_EV_ESTABLISHED));
			pair_free(&p);
		}
	}
}

static void
test_handshake_bytewise(void)
{
	struct pair p;
	enum link_event ev;
	struct link_frame fr;
	size_t len;
	const uint8_t *o;

	pair_new(&p, false);
	o = link_output(p.i, &len);
	CHECK_EQ(feed_all(p.r, o, len, 1, &ev, &fr), 0);
	CHECK_EQ(ev, LINK_EV_OUTPUT);
	o = link_output(p.r, &len);
	CHECK_EQ(feed_all(p.i, o, len, 1, &ev, &fr), 0);
	CHECK_EQ(ev, LINK_EV_ESTABLISHED);
	o = link_output(p.i, &len);
	CHECK_EQ(feed_all(p.r, o, len, 1, &ev, &fr), 0);
	CHECK_EQ(ev, LINK_EV_ESTABLISHED);
	pair_free(&p);
}

/* Deliver a control message of len bytes from a to b in chunk-sized
 * pieces and check it arrives whole. */
static void
control_roundtrip(struct link *a, struct link *b, size_t len, size_t chunk)
{
	static uint8_t msg[LINK_CONTROL_MAX], wire[LINK_CONTROL_RECORDS * LINK_RECORD_LEN];
	enum link_event ev = LINK_EV_NONE;
	struct link_frame fr;
	size_t wlen, off = 0, frames = 0;

	randombytes_buf(msg, len);
	CHECK_EQ(link_send_control(a, msg, len, wire, sizeof(wire), &wlen), 0);
	CHECK_EQ(wlen, link_control_records(len) * LINK_RECORD_LEN);
	while (off < wlen) {
		size_t used;
		int r = link_feed(b, wire + off, MIN(chunk, wlen - off), &used, &ev, &fr);

		CHECK_EQ(r, 0);
		if (r != 0)
			return;
		off += used;
		if (ev == LINK_EV_FRAME) {
			frames++;
			CHECK_EQ(fr.type, LINK_FRAME_CONTROL);
			CHECK_EQ(fr.len, len);
			CHECK(len == 0 || memcmp(fr.data, msg, len) == 0);
			CHECK_EQ(off, wlen);
		}
	}
	CHECK_EQ(frames, 1);
}

static void
test_frames_roundtrip(void)
{
	static const size_t sizes[] = { 0, 1, 2, 31, 32, 100, 1710, 2047, 2048, 2049, 4095,
					4096, 4097, 6000, 6144, 8191, 8192 };
	static const size_t chunks[] = { 1, 7, 1000, LINK_RECORD_LEN, 100000 };
	uint8_t pkt[LINK_PACKET_LEN], rec[LINK_RECORD_LEN];
	struct pair p;
	enum link_event ev;
	struct link_frame fr, fr2;

	for (int anon = 0; anon < 2; anon++) {
		pair_new(&p, anon);
		CHECK_EQ(handshake(&p), 0);
		for (int dir = 0; dir < 2; dir++) {
			struct link *a = dir ? p.r : p.i, *b = dir ? p.i : p.r;

			for (size_t s = 0; s < ARRAY_LEN(sizes); s++)
				control_roundtrip(a, b, sizes[s], chunks[s % ARRAY_LEN(chunks)]);
			for (int n = 0; n < 50; n++) {
				randombytes_buf(pkt, sizeof(pkt));
				CHECK_EQ(link_send_packet(a, pkt, rec), 0);
				CHECK_EQ(feed_all(b, rec, sizeof(rec), chunks[n % ARRAY_LEN(chunks)],
						  &ev, &fr), 0);
				CHECK_EQ(ev, LINK_EV_FRAME);
				CHECK_EQ(fr.type, LINK_FRAME_PACKET);
				CHECK_EQ(fr.len, LINK_PACKET_LEN);
				CHECK(memcmp(fr.data, pkt, sizeof(pkt)) == 0);
				/* Sending does not disturb the frame just received,
				 * which can be echoed straight from the link. */
				CHECK_EQ(link_send_keepalive(b, rec), 0);
				CHECK(memcmp(fr.data, pkt, sizeof(pkt)) == 0);
				CHECK_EQ(feed_all(a, rec, sizeof(rec), sizeof(rec), &ev, &fr2), 0);
				CHECK_EQ(fr2.type, LINK_FRAME_KEEPALIVE);
				CHECK_EQ(link_send_packet(b, fr.data, rec), 0);
				CHECK(memcmp(fr.data, pkt, sizeof(pkt)) == 0);
				CHECK_EQ(feed_all(a, rec, sizeof(rec), sizeof(rec), &ev, &fr), 0);
				CHECK(ev == LINK_EV_FRAME && fr.type == LINK_FRAME_PACKET);
				CHECK(memcmp(fr.data, pkt, sizeof(pkt)) == 0);
			}
			CHECK_EQ(link_send_keepalive(a, rec), 0);
			CHECK_EQ(feed_all(b, rec, sizeof(rec), 500, &ev, &fr), 0);
			CHECK_EQ(ev, LINK_EV_FRAME);
			CHECK_EQ(fr.type, LINK_FRAME_KEEPALIVE);
			CHECK_EQ(fr.len, 0);
		}
		pair_free(&p);
	}
}

static void
test_many_records_one_buffer(void)
{
	enum { N = 20 };
	static uint8_t wire[N * LINK_RECORD_LEN];
	uint8_t pkt[LINK_PACKET_LEN];
	struct pair p;
	enum link_event ev;
	struct link_frame fr;
	size_t off = 0, got = 0;

	pair_new(&p, false);
	CHECK_EQ(handshake(&p), 0);
	for (int n = 0; n < N; n++) {
		memset(pkt, n, sizeof(pkt));
		CHECK_EQ(link_send_packet(p.r, pkt, wire + n * LINK_RECORD_LEN), 0);
	}
	/* One call per record: link_feed stops at each record's end. */
	while (off < sizeof(wire)) {
		size_t used;

		CHECK_EQ(link_feed(p.i, wire + off, sizeof(wire) - off, &used, &ev, &fr), 0);
		CHECK_EQ(used, LINK_RECORD_LEN);
		CHECK_EQ(ev, LINK_EV_FRAME);
		CHECK_EQ(fr.data[0], got);
		got++;
		off += used;
	}
	CHECK_EQ(got, N);
	pair_free(&p);
}

static void
test_record_bitflip(void)
{
	uint8_t pkt[LINK_PACKET_LEN], rec[LINK_RECORD_LEN];
	int accepted = 0;

	randombytes_buf(pkt, sizeof(pkt));
	for (size_t pos = 0; pos < LINK_RECORD_LEN; pos += 3) {
		struct pair p;
		enum link_event ev;
		struct link_frame fr;

		pair_new(&p, pos & 1);
		CHECK_EQ(handshake(&p), 0);
		CHECK_EQ(link_send_packet(p.i, pkt, rec), 0);
		rec[pos] ^= (uint8_t)(1u << (pos % 8));
		if (feed_all(p.r, rec, sizeof(rec), sizeof(rec), &ev, &fr) != ERR_AUTH)
			accepted++;
		CHECK(link_is_dead(p.r));
		pair_free(&p);
	}
	CHECK_EQ(accepted, 0);
}

static void
test_replay_reorder(void)
{
	uint8_t pkt[LINK_PACKET_LEN], r1[LINK_RECORD_LEN], r2[LINK_RECORD_LEN];
	struct pair p;
	enum link_event ev;
	struct link_frame fr;

	randombytes_buf(pkt, sizeof(pkt));
	/* Replay. */
	pair_new(&p, false);
	CHECK_EQ(handshake(&p), 0);
	CHECK_EQ(link_send_packet(p.i, pkt, r1), 0);
	CHECK_EQ(feed_all(p.r, r1, sizeof(r1), sizeof(r1), &ev, &fr), 0);
	CHECK_EQ(feed_all(p.r, r1, sizeof(r1), sizeof(r1), &ev, &fr), ERR_AUTH);
	pair_free(&p);
	/* Reorder (and, the same thing, a dropped record). */
	pair_new(&p, true);
	CHECK_EQ(handshake(&p), 0);
	CHECK_EQ(link_send_packet(p.r, pkt, r1), 0);
	CHECK_EQ(link_send_keepalive(p.r, r2), 0);
	CHECK_EQ(feed_all(p.i, r2, sizeof(r2), sizeof(r2), &ev, &fr), ERR_AUTH);
	CHECK_EQ(feed_all(p.i, r1, sizeof(r1), sizeof(r1), &ev, &fr), ERR_CLOSED);
	pair_free(&p);
	/* A record from another session with the same peers. */
	{
		struct pair q;

		pair_new(&p, false);
		pair_new(&q, false);
		CHECK_EQ(handshake(&p), 0);
		CHECK_EQ(handshake(&q), 0);
		CHECK_EQ(link_send_packet(p.i, pkt, r1), 0);
		CHECK_EQ(feed_all(q.r, r1, sizeof(r1), sizeof(r1), &ev, &fr), ERR_AUTH);
		pair_free(&p);
		pair_free(&q);
	}
	/* A record reflected back to its sender. */
	pair_new(&p, false);
	CHECK_EQ(handshake(&p), 0);
	CHECK_EQ(link_send_packet(p.i, pkt, r1), 0);
	CHECK_EQ(feed_all(p.i, r1, sizeof(r1), sizeof(r1), &ev, &fr), ERR_AUTH);
	pair_free(&p);
}

static void
test_garbage(void)
{
	static uint8_t junk[3 * LINK_RECORD_LEN];
	struct pair p;
	enum link_event ev;
	struct link_frame fr;

	for (int n = 0; n < 50; n++) {
		struct link *r = link_new_responder(lk_a, id_a);

		randombytes_buf(junk, sizeof(junk));
		CHECK(feed_all(r, junk, sizeof(junk), 1 + (size_t)n * 13, &ev, &fr) < 0);
		CHECK(link_is_dead(r));
		link_free(r);
	}
	memset(junk, 0, sizeof(junk));
	{
		struct link *r = link_new_responder(lk_a, id_a);

		CHECK(feed_all(r, junk, sizeof(junk), sizeof(junk), &ev, &fr) < 0);
		link_free(r);
	}
	/* Garbage instead of msg2, instead of msg3, and after the handshake. */
	for (int w = 2; w <= 4; w++) {
		pair_new(&p, false);
		randombytes_buf(junk, sizeof(junk));
		if (w >= 3)
			CHECK_EQ(pass(p.i, p.r, &ev), 0);
		if (w == 2) {
			size_t l;

			(void)link_output(p.i, &l);
			CHECK_EQ(feed_all(p.i, junk, sizeof(junk), 64, &ev, &fr), ERR_AUTH);
		} else if (w == 3) {
			CHECK_EQ(pass(p.r, p.i, &ev), 0);
			CHECK_EQ(feed_all(p.r, junk, sizeof(junk), 64, &ev, &fr), ERR_AUTH);
		} else {
			CHECK_EQ(pass(p.r, p.i, &ev), 0);
			CHECK_EQ(pass(p.i, p.r, &ev), 0);
			CHECK_EQ(feed_all(p.r, junk, sizeof(junk), 64, &ev, &fr), ERR_AUTH);
			CHECK_EQ(feed_all(p.i, junk, sizeof(junk), 64, &ev, &fr), ERR_AUTH);
		}
		pair_free(&p);
	}
}

/* Seal a hand-made plaintext from a to b and return b's verdict. */
static int
raw_verdict(struct link *a, struct link *b, uint8_t type, uint8_t flags, uint16_t len,
	    uint8_t fill, bool final, struct link_frame *fr)
{
	uint8_t plain[LINK_PLAIN_LEN] = { 0 }, rec[LINK_RECORD_LEN];
	enum link_event ev;
	int r;

	plain[0] = type;
	plain[1] = flags;
	plain[2] = (uint8_t)(len >> 8);
	plain[3] = (uint8_t)len;
	memset(plain + 4, fill, MIN((size_t)len, (size_t)LINK_BODY_LEN));
	if ((r = link_seal_raw(a, plain, final, rec)) != 0)
		return ERR_INTERNAL;
	r = feed_all(b, rec, sizeof(rec), sizeof(rec), &ev, fr);
	if (r == 0 && ev == LINK_EV_NONE)
		return 1;	/* accepted, more expected */
	return r;
}

static void
test_malformed_records(void)
{
	struct {
		uint8_t type, flags;
		uint16_t len;
		bool final;
		int want;
	} cases[] = {
		{ 0, 0, 0, false, ERR_MALFORMED },
		{ 5, 0, 0, false, ERR_MALFORMED },
		{ 255, 0, 100, false, ERR_MALFORMED },
		{ LINK_FRAME_PACKET, 0, 2047, false, ERR_MALFORMED },
		{ LINK_FRAME_PACKET, 0, 2049, false, ERR_MALFORMED },	/* oversized length */
		{ LINK_FRAME_PACKET, 0, 0xffff, false, ERR_MALFORMED },
		{ LINK_FRAME_PACKET, 1, 2048, false, ERR_MALFORMED },
		{ LINK_FRAME_PACKET, 0, 2048, true, ERR_MALFORMED },	/* FINAL on a packet */
		{ LINK_FRAME_KEEPALIVE, 0, 1, false, ERR_MALFORMED },
		{ LINK_FRAME_KEEPALIVE, 2, 0, false, ERR_MALFORMED },
		{ LINK_FRAME_CLOSE, 0, 1, false, ERR_MALFORMED },	/* CLOSE without FINAL */
		{ LINK_FRAME_CLOSE, 0, 2, true, ERR_MALFORMED },
		{ LINK_FRAME_CONTROL, 1, 100, false, ERR_MALFORMED },	/* short fragment */
		{ LINK_FRAME_CONTROL, 2, 100, false, ERR_MALFORMED },	/* unknown flag */
		{ LINK_FRAME_CONTROL, 0, 2049, false, ERR_MALFORMED },
		{ LINK_FRAME_CONTROL, 0, 10, true, ERR_MALFORMED },
		{ LINK_FRAME_PACKET, 0, 2048, false, 0 },
		{ LINK_FRAME_CONTROL, 0, 2048, false, 0 },
	};
	struct link_frame fr;

	for (size_t c = 0; c < ARRAY_LEN(cases); c++) {
		struct pair p;

		pair_new(&p, c & 1);
		CHECK_EQ(handshake(&p), 0);
		CHECK_EQ(raw_verdict(p.i, p.r, cases[c].type, cases[c].flags, cases[c].len, 0xa5,
				     cases[c].final, &fr), cases[c].want);
		pair_free(&p);
	}

	/* Non-zero padding after the body. */
	{
		struct pair p;
		uint8_t plain[LINK_PLAIN_LEN] = { LINK_FRAME_KEEPALIVE, 0, 0, 0 };
		uint8_t rec[LINK_RECORD_LEN];
		enum link_event ev;

		plain[LINK_PLAIN_LEN - 1] = 1;
		pair_new(&p, false);
		CHECK_EQ(handshake(&p), 0);
		CHECK_EQ(link_seal_raw(p.r, plain, false, rec), 0);
		CHECK_EQ(feed_all(p.i, rec, sizeof(rec), sizeof(rec), &ev, &fr), ERR_MALFORMED);
		pair_free(&p);
	}

	/* A control message over LINK_CONTROL_MAX, and one interrupted by a
	 * packet. */
	{
		struct pair p;
		int n;

		pair_new(&p, false);
		CHECK_EQ(handshake(&p), 0);
		for (n = 0; n < LINK_CONTROL_RECORDS; n++)
			CHECK_EQ(raw_verdict(p.i, p.r, LINK_FRAME_CONTROL, 1, LINK_BODY_LEN, 1,
					     false, &fr), 1);
		/* Exactly the maximum, closed by an empty final record: fine. */
		CHECK_EQ(raw_verdict(p.i, p.r, LINK_FRAME_CONTROL, 0, 0, 0, false, &fr), 0);
		CHECK_EQ(fr.len, LINK_CONTROL_MAX);
		for (n = 0; n < LINK_CONTROL_RECORDS; n++)
			CHECK_EQ(raw_verdict(p.i, p.r, LINK_FRAME_CONTROL, 1, LINK_BODY_LEN, 1,
					     false, &fr), 1);
		CHECK_EQ(raw_verdict(p.i, p.r, LINK_FRAME_CONTROL, 0, 1, 1, false, &fr),
			 ERR_TOO_BIG);
		pair_free(&p);

		pair_new(&p, false);
		CHECK_EQ(handshake(&p), 0);
		CHECK_EQ(raw_verdict(p.i, p.r, LINK_FRAME_CONTROL, 1, LINK_BODY_LEN, 1, false,
				     &fr), 1);
		CHECK_EQ(raw_verdict(p.i, p.r, LINK_FRAME_PACKET, 0, LINK_PACKET_LEN, 1, false,
				     &fr), ERR_MALFORMED);
		pair_free(&p);
	}
}

static void
test_close_and_limits(void)
{
	uint8_t rec[LINK_RECORD_LEN], pkt[LINK_PACKET_LEN] = { 0 };
	static uint8_t big[LINK_CONTROL_MAX + 1], wire[5 * LINK_RECORD_LEN];
	struct pair p;
	enum link_event ev;
	struct link_frame fr;
	size_t wlen, used;

	pair_new(&p, false);
	/* Nothing can be sent before the handshake completes. */
	CHECK_EQ(link_send_packet(p.i, pkt, rec), ERR_CLOSED);
	CHECK_EQ(link_send_keepalive(p.r, rec), ERR_CLOSED);
	CHECK_EQ(link_send_control(p.i, big, 1, wire, sizeof(wire), &wlen), ERR_CLOSED);
	CHECK_EQ(handshake(&p), 0);
	CHECK_EQ(link_send_control(p.i, big, sizeof(big), wire, sizeof(wire), &wlen), ERR_TOO_BIG);
	CHECK_EQ(wlen, 0);
	CHECK_EQ(link_send_control(p.i, big, 2049, wire, LINK_RECORD_LEN, &wlen), ERR_TOO_BIG);
	CHECK_EQ(link_control_records(0), 1);
	CHECK_EQ(link_control_records(2048), 1);
	CHECK_EQ(link_control_records(2049), 2);
	CHECK_EQ(link_control_records(LINK_CONTROL_MAX), LINK_CONTROL_RECORDS);

	CHECK_EQ(link_send_close(p.i, LINK_CLOSE_SHUTDOWN, rec), 0);
	CHECK(link_is_dead(p.i));
	CHECK_EQ(link_send_packet(p.i, pkt, rec + 0), ERR_CLOSED);
	{
		uint8_t crec[LINK_RECORD_LEN];

		CHECK_EQ(link_send_close(p.i, 0, crec), ERR_CLOSED);
	}
	CHECK_EQ(feed_all(p.r, rec, sizeof(rec), 100, &ev, &fr), 0);
	CHECK_EQ(ev, LINK_EV_FRAME);
	CHECK_EQ(fr.type, LINK_FRAME_CLOSE);
	CHECK_EQ(fr.close_reason, LINK_CLOSE_SHUTDOWN);
	CHECK(link_is_dead(p.r));
	CHECK_EQ(link_want(p.r), 0);
	CHECK_EQ(link_feed(p.r, rec, sizeof(rec), &used, &ev, &fr), ERR_CLOSED);
	/* The peer may still answer with its own CLOSE. */
	CHECK_EQ(link_send_close(p.r, LINK_CLOSE_NORMAL, rec), 0);
	CHECK_EQ(feed_all(p.i, rec, sizeof(rec), sizeof(rec), &ev, &fr), 0);
	CHECK_EQ(fr.type, LINK_FRAME_CLOSE);
	CHECK_EQ(fr.close_reason, LINK_CLOSE_NORMAL);
	pair_free(&p);
}

int
main(int argc, char **argv)
{
	(void)argc;
	check_begin(argv[0]);
	crypto_init();
	id_a = id_keypair_new();
	id_b = id_keypair_new();
	id_c = id_keypair_new();
	lk_a = x_keypair_new();
	lk_b = x_keypair_new();

	RUN(test_handshake_relay);
	RUN(test_handshake_client);
	RUN(test_wrong_responder_key);
	RUN(test_wrong_identity);
	RUN(test_impersonation);
	RUN(test_weak_keys);
	RUN(test_tamper_handshake);
	RUN(test_truncated_handshake);
	RUN(test_handshake_bytewise);
	RUN(test_frames_roundtrip);
	RUN(test_many_records_one_buffer);
	RUN(test_record_bitflip);
	RUN(test_replay_reorder);
	RUN(test_garbage);
	RUN(test_malformed_records);
	RUN(test_close_and_limits);

	id_keypair_free(id_a);
	id_keypair_free(id_b);
	id_keypair_free(id_c);
	x_keypair_free(lk_a);
	x_keypair_free(lk_b);
	return check_end();
}
