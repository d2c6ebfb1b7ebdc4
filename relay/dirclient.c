/* The relay's directory life: sign and upload the descriptor (with the
 * current and next epoch's packet keys) to every pinned authority each
 * epoch, and fetch and verify the consensus (more than half of the pinned
 * authorities must have signed it) so that links can be dialed by node id.
 * The consensus for epoch E+1 is fetched as soon as the authorities make
 * it, half-way through E (docs/spec.md part 3 section 7), so that a
 * relay knows the relays of E+1 before any client builds a path from it. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "common/dirdoc.h"
#include "common/encode.h"
#include "common/log.h"
#include "common/util.h"
#include "relay/relay_int.h"

#define DIR_HTTP_TIMEOUT 5

struct dirclient;

#define REFRESH_MIN_NS 1000000000ull	/* refreshes asked for at most once a second */

struct dirreq {
	struct dirclient *d;
	size_t idx;
	bool busy;
	uint64_t want_epoch;	/* GET /consensus/EPOCH, or 0 for GET /consensus */
};

struct dirclient {
	struct relay *r;
	struct evhttp_connection *conn[RELAY_MAX_AUTHORITIES];
	struct dirreq up[RELAY_MAX_AUTHORITIES];
	struct dirreq get[RELAY_MAX_AUTHORITIES];
	struct dirreq getnext[RELAY_MAX_AUTHORITIES];
	struct event *timer;
	uint64_t refreshed_ns;		/* mono time of the last refresh asked for */
	uint64_t uploaded_at;		/* time of the last upload round */
	uint64_t uploaded_epoch;	/* key epoch that round published */
	uint64_t fetched_at;
	size_t next_auth;
};

static struct evhttp_connection *
conn_for(struct dirclient *d, size_t i)
{
	const struct relay_authority *a = &d->r->cfg.auth[i];

	if (d->conn[i] == NULL) {
		d->conn[i] = evhttp_connection_base_new(d->r->base, NULL, a->host, a->port);
		evhttp_connection_set_timeout(d->conn[i], DIR_HTTP_TIMEOUT);
		evhttp_connection_set_max_body_size(d->conn[i], (ev_ssize_t)DIRDOC_CONS_MAX);
		evhttp_connection_set_retries(d->conn[i], 0);
	}
	return d->conn[i];
}

/* Family: node ids in hex separated by commas or spaces (bad ones were
 * refused by --check-config's caller; here they are skipped). */
static void
fill_family(struct dirdoc_relay *dr, const char *family)
{
	char tmp[1024], *save = NULL, *tok;

	if (family == NULL || strlen(family) >= sizeof(tmp))
		return;
	strcpy(tmp, family);
	for (tok = strtok_r(tmp, ", ", &save); tok && dr->nfamily < DIRDOC_FAMILY_MAX;
	     tok = strtok_r(NULL, ", ", &save))
		if (hex_decode(dr->family[dr->nfamily], NODE_ID_LEN, tok) == 0)
			dr->nfamily++;
}

static int
build_descriptor(struct relay *r, char **text, size_t *len)
{
	struct dirdoc_relay *dr = xcalloc(1, sizeof(*dr));
	struct pkey *k0 = pkeys_get(r, r->epoch), *k1 = pkeys_get(r, r->epoch + 1);
	int rc;

	if (k0 == NULL || k1 == NULL) {
		free(dr);
		return ERR_INTERNAL;
	}
	strcpy(dr->nickname, r->cfg.nickname);
	memcpy(dr->id_pk, r->id->pk, ID_PK_LEN);
	memcpy(dr->link_pk, r->link->pk, X_PK_LEN);
	dr->key_epoch[0] = r->epoch;
	dr->key_epoch[1] = r->epoch + 1;
	memcpy(dr->packet_pk[0], k0->kp->pk, X_PK_LEN);
	memcpy(dr->packet_pk[1], k1->kp->pk, X_PK_LEN);
	strcpy(dr->host, r->cfg.listen_host);
	dr->port = peers_port(r->peers);
	dr->roles = ((r->cfg.roles & RELAY_ROLE_MIX) ? DIRDOC_ROLE_MIX : 0) |
		    ((r->cfg.roles & RELAY_ROLE_MAILBOX) ? DIRDOC_ROLE_MAILBOX : 0);
	dr->bandwidth = r->cfg.bandwidth;
	fill_family(dr, r->cfg.family);
	if (r->cfg.contact)
		snprintf(dr->contact, sizeof(dr->contact), "%s", r->cfg.contact);
	snprintf(dr->software, sizeof(dr->software), "burrow-relay 0.1");
	dr->published = time_now();
	rc = dirdoc_descriptor_encode(dr, r->id, text, len);
	free(dr);
	return rc;
}

static void
on_upload(struct evhttp_request *req, void *arg)
{
	struct dirreq *q = arg;
	struct relay *r = q->d->r;
	int code = req ? evhttp_request_get_response_code(req) : 0;

	q->busy = false;
	if (code == 200) {
		r->st.dir_uploads_ok++;
		log_info(LD_DIR, "descriptor accepted by authority %zu", q->idx);
	} else {
		r->st.dir_uploads_failed++;
		log_info(LD_DIR, "descriptor upload to authority %zu failed (http %d)", q->idx,
			 code);
	}
}

void
dirclient_upload_now(struct dirclient *d)
{
	struct relay *r = d->r;
	char *text = NULL;
	size_t len = 0;
	int rc;

	/* The clock has entered the next epoch but the key schedule has not
	 * moved yet (it ticks once a second, at its own phase): a descriptor
	 * made now would publish the last epoch's keys with this second's
	 * time, and the authorities would then keep it and ignore the right
	 * one, uploaded by the tick within the same second, as not newer:
	 * then the consensus for the next epoch, voted before the next upload,
	 * leaves this relay out, epoch after epoch while the phases hold. */
	if (r->epoch_len && time_now() / r->epoch_len != r->epoch)
		return;
	if ((rc = build_descriptor(r, &text, &len)) != 0) {
		log_err(LD_DIR, "cannot build descriptor: %s", err_str(rc));
		return;
	}
	for (size_t i = 0; i < r->cfg.nauth; i++) {
		struct evhttp_request *req;
		char hostport[80];

		if (d->up[i].busy)
			continue;
		req = evhttp_request_new(on_upload, &d->up[i]);
		snprintf(hostport, sizeof(hostport), "%s:%u", r->cfg.auth[i].host,
			 r->cfg.auth[i].port);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Host", hostport);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
				  "text/plain");
		evbuffer_add(evhttp_request_get_output_buffer(req), text, len);
		d->up[i].busy = true;
		if (evhttp_make_request(conn_for(d, i), req, EVHTTP_REQ_POST, "/descriptor") != 0)
			d->up[i].busy = false;
	}
	free(text);
	d->uploaded_at = time_now();
	d->uploaded_epoch = r->epoch;
}

static void
on_consensus(struct evhttp_request *req, void *arg)
{
	struct dirreq *q = arg;
	struct dirclient *d = q->d;
	struct relay *r = d->r;
	uint8_t pks[RELAY_MAX_AUTHORITIES][32];
	struct dirdoc_consensus *c = NULL;
	struct evbuffer *in;
	char why[160] = "";
	uint64_t now;
	size_t len;
	char *text;
	int rc;

	q->busy = false;
	if (q->want_epoch && req && evhttp_request_get_response_code(req) == 404)
		return;	/* not made yet: asked again on the next tick */
	if (req == NULL || evhttp_request_get_response_code(req) != 200) {
		r->st.dir_fetch_failed++;
		log_info(LD_DIR, "consensus fetch from authority %zu failed (http %d)", q->idx,
			 req ? evhttp_request_get_response_code(req) : 0);
		return;
	}
	in = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(in);
	if (len == 0 || len > DIRDOC_CONS_MAX) {
		r->st.dir_fetch_failed++;
		return;
	}
	text = xmalloc(len + 1);
	evbuffer_remove(in, text, len);
	text[len] = '\0';
	for (size_t i = 0; i < r->cfg.nauth; i++)
		memcpy(pks[i], r->cfg.auth[i].pk, 32);
	/* The next epoch's consensus is checked as of the moment it begins:
	 * its signatures and quorum count all the same. */
	now = time_now();
	if (q->want_epoch)
		now = MAX(now, q->want_epoch * r->epoch_len);
	rc = dirdoc_consensus_verify(text, len, (const uint8_t(*)[32])pks, r->cfg.nauth, now, &c,
				     why, sizeof(why));
	free(text);
	if (rc == 0 && q->want_epoch && c->epoch != q->want_epoch) {
		dirdoc_consensus_free(c);
		rc = ERR_MALFORMED;
		snprintf(why, sizeof(why), "not the epoch asked for");
	}
	if (rc != 0) {
		r->st.dir_fetch_failed++;
		log_info(LD_DIR, "consensus from authority %zu refused: %s (%s)", q->idx,
			 err_str(rc), why);
		return;
	}
	r->st.dir_fetch_ok++;
	if (!q->want_epoch)
		d->fetched_at = time_now();
	relay_set_consensus(r, c);
}

/* GET /consensus (epoch 0) or /consensus/EPOCH from the next authority in
 * turn. */
static void
fetch(struct dirclient *d, uint64_t epoch)
{
	struct relay *r = d->r;
	size_t i = d->next_auth++ % r->cfg.nauth;
	struct dirreq *q = epoch ? &d->getnext[i] : &d->get[i];
	struct evhttp_request *req;
	char hostport[80], path[48];

	if (q->busy)
		return;
	q->want_epoch = epoch;
	req = evhttp_request_new(on_consensus, q);
	snprintf(hostport, sizeof(hostport), "%s:%u", r->cfg.auth[i].host, r->cfg.auth[i].port);
	if (epoch)
		snprintf(path, sizeof(path), "/consensus/%" PRIu64, epoch);
	else
		snprintf(path, sizeof(path), "/consensus");
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host", hostport);
	q->busy = true;
	if (evhttp_make_request(conn_for(d, i), req, EVHTTP_REQ_GET, path) != 0)
		q->busy = false;
}

void
dirclient_fetch_now(struct dirclient *d)
{
	fetch(d, 0);
}

/* Has half of the current epoch passed, so that the authorities made the
 * consensus for the next one? */
static bool
next_is_due(const struct relay *r, uint64_t now)
{
	uint64_t start = r->epoch * r->epoch_len;

	return now >= start && (now - start) * 2 >= r->epoch_len;
}

void
dirclient_refresh(struct dirclient *d)
{
	struct relay *r = d->r;
	uint64_t now = mono_ns();

	if (d->refreshed_ns && now - d->refreshed_ns < REFRESH_MIN_NS)
		return;
	d->refreshed_ns = now;
	r->st.cons_refreshes++;
	fetch(d, 0);
	if (next_is_due(r, time_now()))
		fetch(d, r->epoch + 1);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct dirclient *d = arg;
	struct relay *r = d->r;
	uint64_t now = time_now();
	uint64_t half = r->epoch_len / 2 ? r->epoch_len / 2 : 1;
	uint64_t quarter = r->epoch_len / 4 ? r->epoch_len / 4 : 1;
	const struct dirdoc_consensus *c = r->cons;

	if (r->draining)
		return;
	if (d->uploaded_epoch != r->epoch || now >= d->uploaded_at + half)
		dirclient_upload_now(d);
	/* Fetch when we have none, when ours is not for this epoch, or
	 * every quarter epoch to pick up relays that joined. */
	if (c == NULL || c->epoch < r->epoch || now >= d->fetched_at + quarter)
		dirclient_fetch_now(d);
	/* The next epoch's consensus, once made; every tick until we hold it
	 * (its signatures arrive over a few seconds after it is computed). */
	if ((c == NULL || c->epoch <= r->epoch) && next_is_due(r, now))
		fetch(d, r->epoch + 1);
}

struct dirclient *
dirclient_new(struct relay *r)
{
	struct dirclient *d = xcalloc(1, sizeof(*d));
	struct timeval tv = { 1, 0 };

	d->r = r;
	for (size_t i = 0; i < RELAY_MAX_AUTHORITIES; i++) {
		d->up[i].d = d->get[i].d = d->getnext[i].d = d;
		d->up[i].idx = d->get[i].idx = d->getnext[i].idx = i;
	}
	d->next_auth = (size_t)randombytes_uniform((uint32_t)r->cfg.nauth);
	d->timer = event_new(r->base, -1, EV_PERSIST, on_timer, d);
	event_add(d->timer, &tv);
	dirclient_upload_now(d);
	dirclient_fetch_now(d);
	return d;
}

void
dirclient_free(struct dirclient *d)
{
	if (d == NULL)
		return;
	event_free(d->timer);
	for (size_t i = 0; i < RELAY_MAX_AUTHORITIES; i++)
		if (d->conn[i])
			evhttp_connection_free(d->conn[i]);
	free(d);
}
