/* The relay node's life cycle: keys on first start, the modules, the
 * once-a-second tick (epoch change, key retirement), /metrics, reload and
 * the drain on shutdown. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include <event2/event.h>

#include "common/dirdoc.h"
#include "common/keyfile.h"
#include "common/log.h"
#include "common/util.h"
#include "relay/metrics.h"
#include "relay/relay_int.h"

static const char *const drop_names[DROP_N] = {
	[DROP_REPLAY] = "replay",
	[DROP_AUTH] = "auth",
	[DROP_MALFORMED] = "malformed",
	[DROP_UNSUPPORTED] = "unsupported",
	[DROP_WEAK_KEY] = "weak_key",
	[DROP_NO_ROUTE] = "no_route",
	[DROP_QUEUE_FULL] = "queue_full",
	[DROP_NOT_MAILBOX] = "not_mailbox",
	[DROP_LINK] = "link",
	[DROP_SHUTDOWN] = "shutdown",
	[DROP_REPLAY_FULL] = "replay_cache_full",
	[DROP_NOT_MIX] = "not_mix",
};

const char *
relay_drop_name(enum relay_drop d)
{
	return (unsigned)d < DROP_N ? drop_names[d] : "unknown";
}

static int
make_dir(const char *path)
{
	if (mkdir(path, 0700) != 0 && errno != EEXIST) {
		log_err(LD_GENERAL, "cannot create %s: %s", path, strerror(errno));
		return ERR_IO;
	}
	return 0;
}

/* Identity (Ed25519 seed) and link (X25519) keys: created on first start,
 * unsealed (a relay restarts unattended), 0600. */
static int
load_keys(struct relay *r)
{
	uint8_t sec[32];
	char *p;
	int rc;

	p = xasprintf("%s/identity.key", r->keydir);
	rc = keyfile_read(p, KEYFILE_ED25519_SEED, sec, sizeof(sec), NULL);
	if (rc == ERR_NOT_FOUND) {
		randombytes_buf(sec, sizeof(sec));
		if ((rc = keyfile_write(p, KEYFILE_ED25519_SEED, sec, sizeof(sec), NULL)) == 0)
			log_notice(LD_GENERAL, "created identity key %s", p);
	}
	if (rc != 0) {
		log_err(LD_GENERAL, "identity key %s: %s", p, err_str(rc));
		goto out;
	}
	r->id = id_keypair_from_seed(sec);
	free(p);
	p = xasprintf("%s/link.key", r->keydir);
	rc = keyfile_read(p, KEYFILE_X25519, sec, sizeof(sec), NULL);
	if (rc == ERR_NOT_FOUND) {
		randombytes_buf(sec, sizeof(sec));
		if ((rc = keyfile_write(p, KEYFILE_X25519, sec, sizeof(sec), NULL)) == 0)
			log_notice(LD_GENERAL, "created link key %s", p);
	}
	if (rc != 0) {
		log_err(LD_GENERAL, "link key %s: %s", p, err_str(rc));
		goto out;
	}
	r->link = x_keypair_from_secret(sec);
out:
	sodium_memzero(sec, sizeof(sec));
	free(p);
	return rc;
}

/* Relays in the newest consensus plus those only the previous one lists
 * while it still counts. */
static size_t
known_relays(const struct relay *r, uint64_t now)
{
	size_t n = r->cons ? r->cons->nrelays : 0;

	if (r->cons && r->prev_cons && now < r->prev_cons_until)
		for (size_t i = 0; i < r->prev_cons->nrelays; i++)
			if (dirdoc_relay_find(r->cons, r->prev_cons->relays[i].node_id) == NULL)
				n++;
	return n;
}

static void
render(struct wbuf *w, void *arg)
{
	struct relay *r = arg;
	const struct relay_stats *s = &r->st;
	size_t workq = 0, delayed = 0, in, out, anon;
	struct pkey *k = pkeys_get(r, r->epoch);
	uint64_t now = time_now();

	metrics_counter(w, "burrow_relay_packets_in_total", "Packets received on links.",
			s->packets_in);
	metrics_counter(w, "burrow_relay_packets_forwarded_total",
			"Packets sent to their next hop.", s->forwarded);
	metrics_counter(w, "burrow_relay_packets_delivered_total",
			"DELIVER packets handed to the mailbox.", s->delivered);
	wbuf_printf(w, "# HELP burrow_relay_packets_dropped_total Packets dropped, by reason.\n"
		       "# TYPE burrow_relay_packets_dropped_total counter\n");
	for (int i = 0; i < DROP_N; i++)
		metrics_labeled(w, "burrow_relay_packets_dropped_total", "reason", drop_names[i],
				s->dropped[i]);
	if (r->mix)
		mix_depths(r->mix, &workq, &delayed);
	metrics_gauge(w, "burrow_relay_queue_unwrap", "Packets waiting for or in a worker.",
		      workq);
	metrics_gauge(w, "burrow_relay_queue_delayed", "Packets held for their hop delay.",
		      delayed);
	metrics_gauge(w, "burrow_relay_queue_output_bytes", "Bytes waiting in link buffers.",
		      r->peers ? peers_output_bytes(r->peers) : 0);
	peers_counts(r->peers, &in, &out, &anon);
	wbuf_printf(w, "# HELP burrow_relay_links Established links.\n"
		       "# TYPE burrow_relay_links gauge\n");
	metrics_labeled(w, "burrow_relay_links", "kind", "relay_in", in);
	metrics_labeled(w, "burrow_relay_links", "kind", "relay_out", out);
	metrics_labeled(w, "burrow_relay_links", "kind", "client", anon);
	metrics_counter(w, "burrow_relay_links_bad_total",
			"Links closed for a protocol fault or handshake timeout.", s->links_bad);
	metrics_counter(w, "burrow_relay_links_failed_total",
			"Dials that failed and connections refused at the limit.",
			s->links_failed);
	wbuf_printf(w, "# HELP burrow_relay_links_refused_total Links refused, by reason.\n"
		       "# TYPE burrow_relay_links_refused_total counter\n");
	metrics_labeled(w, "burrow_relay_links_refused_total", "reason", "unknown_relay",
			s->links_refused_unknown);
	metrics_gauge(w, "burrow_relay_input_paused",
		      "1 while reading is stopped on every link (backpressure or drain).",
		      r->peers && peers_input_paused(r->peers));
	metrics_counter(w, "burrow_relay_input_pauses_total",
			"Times reading stopped on every link.", s->input_pauses);
	metrics_gauge(w, "burrow_relay_queue_unrouted",
		      "Packets held for a consensus that lists their next hop.",
		      r->mix ? mix_unrouted(r->mix) : 0);
	metrics_counter(w, "burrow_relay_unrouted_held_total",
			"Packets whose next hop was unknown, held for a fresher consensus.",
			s->held_no_route);
	metrics_counter(w, "burrow_relay_unrouted_sent_total",
			"Held packets sent once a fresher consensus listed their next hop.",
			s->held_routed);
	metrics_counter(w, "burrow_relay_consensus_refreshes_total",
			"Consensus fetches asked for an unknown relay.", s->cons_refreshes);
	metrics_gauge(w, "burrow_relay_epoch", "Current epoch.", r->epoch);
	metrics_gauge(w, "burrow_relay_consensus_epoch", "Epoch of the newest consensus.",
		      r->cons ? r->cons->epoch : 0);
	metrics_gauge(w, "burrow_relay_consensus_relays",
		      "Relays known: the newest consensus and, during the grace window, the one "
		      "before it.", known_relays(r, now));
	metrics_gauge(w, "burrow_relay_packet_key_age_seconds",
		      "Age of the current epoch's packet key.",
		      k && now > k->created ? now - k->created : 0);
	metrics_gauge(w, "burrow_relay_replay_tags", "Tags in the current key's replay set.",
		      k ? replay_set_count(k->replay) : 0);
	metrics_counter(w, "burrow_relay_dir_uploads_total", "Descriptor uploads accepted.",
			s->dir_uploads_ok);
	metrics_counter(w, "burrow_relay_dir_upload_failures_total", "Descriptor uploads failed.",
			s->dir_uploads_failed);
	metrics_counter(w, "burrow_relay_dir_fetches_total", "Consensus fetches verified.",
			s->dir_fetch_ok);
	metrics_counter(w, "burrow_relay_dir_fetch_failures_total",
			"Consensus fetches failed or refused.", s->dir_fetch_failed);
	if (r->mbox)
		mailbox_render_metrics(r->mbox, w);
}

void
relay_set_consensus(struct relay *r, struct dirdoc_consensus *c)
{
	uint64_t now = time_now();

	if (r->cons && c->epoch < r->cons->epoch) {
		/* An older one can still stand in as the previous consensus. */
		if (r->prev_cons == NULL || c->epoch > r->prev_cons->epoch) {
			dirdoc_consensus_free(r->prev_cons);
			r->prev_cons = c;
			r->prev_cons_until = MAX(r->cons->valid_after, now) + r->cfg.key_grace_s;
			if (r->peers)
				peers_consensus_changed(r->peers);
			if (r->mix)
				mix_consensus_changed(r->mix);
		} else {
			dirdoc_consensus_free(c);
		}
		return;
	}
	if (r->cons == NULL || c->epoch != r->cons->epoch)
		log_notice(LD_DIR, "consensus for epoch %" PRIu64 " with %zu relays", c->epoch,
			   c->nrelays);
	if (c->epoch_len && c->epoch_len != r->epoch_len) {
		log_notice(LD_DIR, "epoch length is %" PRIu64 " s", c->epoch_len);
		r->epoch_len = c->epoch_len;
	}
	if (r->cons && c->epoch > r->cons->epoch) {
		/* The relays of the consensus being replaced stay known for
		 * KeyGrace after the new one begins: packets built from it
		 * are still on their way. */
		dirdoc_consensus_free(r->prev_cons);
		r->prev_cons = r->cons;
		r->prev_cons_until = MAX(c->valid_after, now) + r->cfg.key_grace_s;
	} else {
		dirdoc_consensus_free(r->cons);
	}
	r->cons = c;
	if (r->peers)
		peers_consensus_changed(r->peers);
	if (r->mix)
		mix_consensus_changed(r->mix);
}

const struct dirdoc_relay *
relay_find_node(const struct relay *r, const uint8_t node_id[static NODE_ID_LEN], uint64_t now)
{
	const struct dirdoc_relay *dr = NULL;

	if (r->cons)
		dr = dirdoc_relay_find(r->cons, node_id);
	if (dr == NULL && r->prev_cons && now < r->prev_cons_until)
		dr = dirdoc_relay_find(r->prev_cons, node_id);
	return dr;
}

void
relay_refresh_consensus(struct relay *r)
{
	if (r->dir && !r->draining)
		dirclient_refresh(r->dir);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct relay *r = arg;

	if (pkeys_tick(r, time_now()) && r->dir && !r->draining)
		dirclient_upload_now(r->dir);
	if (r->draining)
		relay_drain_check(r);
}

int
relay_new(struct relay **out, struct event_base *base, const struct relay_config *cfg)
{
	struct relay *r = xcalloc(1, sizeof(*r));
	struct timeval tv = { 0, 100 * 1000 };
	int rc;

	*out = NULL;
	r->base = base;
	r->cfg = *cfg;
	r->cfg.datadir = xstrdup(cfg->datadir);
	r->cfg.contact = cfg->contact ? xstrdup(cfg->contact) : NULL;
	r->cfg.family = cfg->family ? xstrdup(cfg->family) : NULL;
	r->cfg.log_file = cfg->log_file ? xstrdup(cfg->log_file) : NULL;
	r->epoch_len = cfg->epoch_seconds ? cfg->epoch_seconds : 3600;
	r->keydir = xasprintf("%s/keys", cfg->datadir);
	if ((rc = make_dir(cfg->datadir)) != 0 || (rc = make_dir(r->keydir)) != 0 ||
	    (rc = load_keys(r)) != 0 || (rc = pkeys_init(r)) != 0)
		goto fail;
	node_id_of(r->node_id, r->id->pk);
	key_fingerprint(r->fp, r->id->pk, ID_PK_LEN);
	if ((rc = peers_new(&r->peers, r)) != 0)
		goto fail;
	r->mix = mix_new(r);
	if ((cfg->roles & RELAY_ROLE_MAILBOX) && (rc = mailbox_new(&r->mbox, r)) != 0)
		goto fail;
	if (cfg->metrics && (rc = metrics_new(&r->metrics, base, cfg->metrics_host,
					      cfg->metrics_port, render, r)) != 0)
		goto fail;
	r->tick = event_new(base, -1, EV_PERSIST, on_tick, r);
	event_add(r->tick, &tv);
	r->dir = dirclient_new(r);
	log_notice(LD_GENERAL, "relay %s (%s) up on %s:%u, roles %s", r->cfg.nickname, r->fp,
		   cfg->listen_host, peers_port(r->peers), relay_roles_str(cfg->roles));
	*out = r;
	return 0;
fail:
	relay_free(r);
	return rc;
}

void
relay_drain_check(struct relay *r)
{
	bool empty = mix_queued(r->mix) == 0 && peers_output_bytes(r->peers) == 0 &&
		     (r->mbox == NULL || mailbox_pending(r->mbox) == 0);

	if (!empty && mono_ns() < r->drain_deadline_ns)
		return;
	if (!empty) {
		size_t w, d;

		mix_depths(r->mix, &w, &d);
		w += mix_unrouted(r->mix);
		r->st.dropped[DROP_SHUTDOWN] += w + d;
		log_notice(LD_GENERAL, "drain deadline passed with %zu packets queued", w + d);
	} else {
		log_notice(LD_GENERAL, "drained, exiting");
	}
	peers_close_all(r->peers);
	event_base_loopexit(r->base, NULL);
}

void
relay_shutdown(struct relay *r)
{
	if (r->draining)
		return;
	r->draining = true;
	r->drain_deadline_ns = mono_ns() + (uint64_t)r->cfg.drain_timeout_s * 1000000000ull;
	log_notice(LD_GENERAL, "shutting down: draining for at most %u s",
		   r->cfg.drain_timeout_s);
	/* Stop reading; delays are cut short: a packet held now would
	 * outlive the node. */
	peers_pause_input(r->peers, true);
	mix_flush_delays(r->mix);
	relay_drain_check(r);
}

void
relay_reload(struct relay *r, const struct relay_config *cfg)
{
	r->cfg.log_level = cfg->log_level;
	log_set_level(cfg->log_level);
	r->cfg.max_hop_delay_ms = cfg->max_hop_delay_ms;
	r->cfg.max_connections = cfg->max_connections;
	r->cfg.peer_rate_limit = cfg->peer_rate_limit;
	r->cfg.handshake_timeout_s = cfg->handshake_timeout_s;
	r->cfg.idle_timeout_s = cfg->idle_timeout_s;
	r->cfg.queue_limit = cfg->queue_limit;
	r->cfg.key_grace_s = cfg->key_grace_s;
	r->cfg.drain_timeout_s = cfg->drain_timeout_s;
	r->cfg.link_sockbuf = cfg->link_sockbuf;
	r->cfg.mbox_max_messages = cfg->mbox_max_messages;
	r->cfg.mbox_max_bytes = cfg->mbox_max_bytes;
	r->cfg.mbox_ttl_s = cfg->mbox_ttl_s;
	r->cfg.mbox_time_grain_s = cfg->mbox_time_grain_s;
	r->cfg.mbox_disk_cap = cfg->mbox_disk_cap;
	r->cfg.unrouted_hold_ms = cfg->unrouted_hold_ms;
	r->cfg.log_deposit_peers = cfg->log_deposit_peers;
	peers_apply_limits(r->peers);
	if (r->mbox)
		mailbox_apply_limits(r->mbox);
	log_notice(LD_GENERAL, "configuration reloaded");
}

void
relay_free(struct relay *r)
{
	if (r == NULL)
		return;
	r->draining = false;	/* callbacks run while freeing must not drain-check */
	dirclient_free(r->dir);
	if (r->tick)
		event_free(r->tick);
	metrics_free(r->metrics);
	mailbox_free(r->mbox);
	mix_free(r->mix);
	peers_free(r->peers);
	pkeys_free(r);
	dirdoc_consensus_free(r->cons);
	dirdoc_consensus_free(r->prev_cons);
	ID_KEYPAIR_FREE(r->id);
	X_KEYPAIR_FREE(r->link);
	free(r->keydir);
	relay_config_clear(&r->cfg);
	free(r);
}

const uint8_t *
relay_node_id(const struct relay *r)
{
	return r->node_id;
}

uint16_t
relay_listen_port(const struct relay *r)
{
	return peers_port(r->peers);
}

uint16_t
relay_metrics_port(const struct relay *r)
{
	return r->metrics ? metrics_port(r->metrics) : 0;
}
