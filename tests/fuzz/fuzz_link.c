/* Fuzz the link state machine. The first input byte picks a mode:
 *   0: arbitrary bytes to a fresh responder (the handshake parser);
 *   1: bytes to a responder that already accepted a real msg1 (msg3 parser);
 *   2: bytes to an initiator waiting for msg2;
 *   3: a real handshake, then the input as record plaintexts sealed by the
 *      peer (the frame parser, which a fuzzer cannot reach through the AEAD),
 *      each as flags ‖ n ‖ n bytes;
 *   else: a real handshake, then the input as raw record bytes.
 * The second byte sets the chunk size the bytes are fed in. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <sodium.h>

#include "common/keys.h"
#include "common/link.h"
#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct id_keypair *id_r, *id_i;
static struct x_keypair *lk_r;

static void
setup(void)
{
	if (id_r)
		return;
	crypto_init();
	id_r = id_keypair_new();
	id_i = id_keypair_new();
	lk_r = x_keypair_new();
}

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
feed(struct link *l, const uint8_t *p, size_t n, size_t chunk)
{
	enum link_event ev;
	struct link_frame fr;
	size_t off = 0, used;

	while (off < n) {
		size_t take = MIN(chunk, n - off);

		if (link_feed(l, p + off, take, &used, &ev, &fr) != 0)
			return;
		if (used == 0 || used > take)
			__builtin_trap();
		if (ev == LINK_EV_FRAME && fr.len > LINK_CONTROL_MAX)
			__builtin_trap();
		if (ev == LINK_EV_FRAME && fr.len)
			(void)fr.data[fr.len - 1];	/* bounds checked by ASan */
		off += used;
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct link *i = NULL, *r = NULL;
	uint8_t mode, chunk;

	setup();
	if (size < 2)
		return 0;
	mode = data[0];
	chunk = data[1] ? data[1] : 255;
	data += 2;
	size -= 2;

	if (mode == 0) {
		r = link_new_responder(lk_r, id_r);
		feed(r, data, size, chunk);
	} else if (mode == 1 || mode == 2) {
		if (link_new_initiator(&i, lk_r->pk, id_r->pk, (chunk & 1) ? id_i : NULL) != 0)
			__builtin_trap();
		r = link_new_responder(lk_r, id_r);
		if (pass(i, r) != 0)
			__builtin_trap();
		feed(mode == 1 ? r : i, data, size, chunk);
	} else {
		if (link_new_initiator(&i, lk_r->pk, id_r->pk, (chunk & 1) ? id_i : NULL) != 0)
			__builtin_trap();
		r = link_new_responder(lk_r, id_r);
		if (pass(i, r) || pass(r, i) || pass(i, r))
			__builtin_trap();
		if (mode == 3) {
			uint8_t plain[LINK_PLAIN_LEN], rec[LINK_RECORD_LEN];

			/* Each plaintext: flags (bit 0: FINAL tag) ‖ n ‖ the first
			 * n bytes of the plaintext, the rest zero. */
			while (size >= 2 && !link_is_dead(r)) {
				uint8_t fl = data[0];
				size_t n = MIN((size_t)data[1], size - 2);

				memset(plain, 0, sizeof(plain));
				memcpy(plain, data + 2, n);
				data += 2 + n;
				size -= 2 + n;
				if (link_seal_raw(i, plain, fl & 1, rec) != 0)
					break;
				feed(r, rec, sizeof(rec), sizeof(rec));
			}
		} else {
			feed(r, data, size, chunk);
		}
	}
	link_free(i);
	link_free(r);
	return 0;
}
