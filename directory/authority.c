/* The authority's state: descriptor store, stored consensuses (in memory
 * and in DataDirectory), and the HTTP API. The voting schedule is in
 * round.c. */
#include "directory/authority_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include <sodium.h>

#include "common/encode.h"
#include "common/log.h"
#include "common/util.h"

static struct log_ratelim rl_desc;

uint64_t
auth_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

struct peer *
auth_peer_find(struct authority *a, const uint8_t pk[static 32])
{
	for (size_t i = 0; i < a->npeers; i++)
		if (sodium_memcmp(a->peers[i].pk, pk, ID_PK_LEN) == 0)
			return &a->peers[i];
	return NULL;
}

/* --- stored consensuses ---------------------------------------------- */

struct cons_doc *
auth_cons_find(struct authority *a, uint64_t epoch)
{
	for (size_t i = 0; i < AUTH_KEEP_CONS; i++)
		if (a->cons[i].epoch == epoch && a->cons[i].body)
			return &a->cons[i];
	return NULL;
}

static char *
cons_path(const struct authority *a, uint64_t epoch)
{
	return xasprintf("%s/consensus-%llu", a->datadir, (unsigned long long)epoch);
}

static void
cons_doc_clear(struct authority *a, struct cons_doc *d, bool unlink_file)
{
	if (unlink_file && d->body) {
		char *p = cons_path(a, d->epoch);

		unlink(p);
		free(p);
	}
	free(d->body);
	free(d->text);
	dirdoc_consensus_free(d->parsed);
	memset(d, 0, sizeof(*d));
}

static int
write_file(const char *path, const char *data, size_t len)
{
	char *tmp = xasprintf("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0644), r = ERR_IO;
	size_t off = 0;

	if (fd < 0)
		goto out;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	if (off == len && fsync(fd) == 0 && close(fd) == 0) {
		fd = -1;
		r = rename(tmp, path) == 0 ? 0 : ERR_IO;
	}
out:
	if (fd >= 0)
		close(fd);
	if (r < 0) {
		log_warn(LD_DIR, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
	}
	free(tmp);
	return r;
}

static int
cons_store(struct authority *a, struct cons_doc *d)
{
	char *text, *path;
	size_t len;
	int r;

	if ((r = dirdoc_consensus_assemble(d->body, d->body_len, d->sigs, d->nsigs, &text,
					   &len)) < 0)
		return r;
	free(d->text);
	d->text = text;
	d->text_len = len;
	path = cons_path(a, d->epoch);
	r = write_file(path, text, len);
	free(path);
	return r;
}

struct cons_doc *
auth_cons_add(struct authority *a, uint64_t epoch, char *body, size_t body_len)
{
	struct cons_doc *d = NULL;
	char why[160];

	/* one document per epoch: a recomputed body replaces the old one and
	 * drops its signatures, which were made over the old bytes */
	if (!(d = auth_cons_find(a, epoch))) {
		for (size_t i = 0; i < AUTH_KEEP_CONS; i++) {
			if (!a->cons[i].body) {
				d = &a->cons[i];
				break;
			}
			if (!d || a->cons[i].epoch < d->epoch)
				d = &a->cons[i];
		}
	}
	for (size_t i = 0; i < AUTH_KEEP_CONS; i++)
		if (&a->cons[i] != d && a->cons[i].body && a->cons[i].epoch == epoch)
			cons_doc_clear(a, &a->cons[i], false);
	cons_doc_clear(a, d, d->epoch != epoch);
	d->epoch = epoch;
	d->body = body;
	d->body_len = body_len;
	/* parse the body + "end" for lookups (Stable flags, GET handlers) */
	{
		char *t = NULL;
		size_t tl;

		if (dirdoc_consensus_assemble(body, body_len, NULL, 0, &t, &tl) == 0 &&
		    dirdoc_consensus_parse(t, tl, &d->parsed, why, sizeof(why)) < 0)
			log_warn(LD_BUG, "our own consensus does not parse: %s", why);
		free(t);
	}
	return d;
}

int
auth_cons_add_sig(struct authority *a, struct cons_doc *d, const uint8_t pk[static 32],
		  const uint8_t sig[static 64])
{
	/* the invariant every reader relies on: each signature stored with a
	 * body verifies over exactly that body */
	if (dirdoc_consensus_check_sig(sig, d->body, d->body_len, pk) < 0)
		return ERR_BAD_SIG;
	for (size_t i = 0; i < d->nsigs; i++)
		if (sodium_memcmp(d->sigs[i].auth_pk, pk, ID_PK_LEN) == 0)
			return cons_store(a, d);	/* already have it: keep the first */
	if (d->nsigs == DIRDOC_AUTH_MAX)
		return ERR_FULL;
	memcpy(d->sigs[d->nsigs].auth_pk, pk, ID_PK_LEN);
	memcpy(d->sigs[d->nsigs].sig, sig, ID_SIG_LEN);
	d->nsigs++;
	return cons_store(a, d);
}

static int
read_file(const char *path, size_t max, char **out, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	*out = NULL;
	*len = 0;
	if (!f)
		return ERR_IO;
	buf = xmalloc(max + 1);
	n = fread(buf, 1, max + 1, f);
	fclose(f);
	if (n > max) {
		free(buf);
		return ERR_TOO_BIG;
	}
	buf[n] = '\0';
	*out = buf;
	*len = n;
	return 0;
}

/* Load the consensuses stored in datadir, keeping the valid signatures of
 * configured authorities. */
static void
cons_load(struct authority *a)
{
	DIR *dir = opendir(a->datadir);
	struct dirent *de;

	if (!dir)
		return;
	while ((de = readdir(dir)) != NULL) {
		struct dirdoc_consensus *c = NULL;
		struct cons_doc *d;
		char *path, *text, *body, why[160];
		uint64_t epoch;
		size_t len;

		if (strncmp(de->d_name, "consensus-", 10) != 0 ||
		    dirdoc_u64(&epoch, de->d_name + 10) < 0)
			continue;
		path = xasprintf("%s/%s", a->datadir, de->d_name);
		if (read_file(path, DIRDOC_CONS_MAX, &text, &len) < 0 ||
		    dirdoc_consensus_parse(text, len, &c, why, sizeof(why)) < 0 ||
		    c->epoch != epoch || c->epoch_len != a->epoch_len) {
			log_notice(LD_DIR, "ignoring stored %s", path);
			free(path);
			free(text);
			dirdoc_consensus_free(c);
			continue;
		}
		free(path);
		body = xmalloc(c->body_len + 1);
		memcpy(body, text, c->body_len);
		body[c->body_len] = '\0';
		d = auth_cons_add(a, epoch, body, c->body_len);
		for (size_t i = 0; i < c->nsigs; i++)
			if (auth_peer_find(a, c->sigs[i].auth_pk) &&
			    dirdoc_consensus_check_sig(c->sigs[i].sig, d->body, d->body_len,
						       c->sigs[i].auth_pk) == 0)
				(void)auth_cons_add_sig(a, d, c->sigs[i].auth_pk, c->sigs[i].sig);
		if (!d->text)
			(void)cons_store(a, d);
		log_info(LD_DIR, "loaded consensus for epoch %llu with %zu signatures",
			 (unsigned long long)epoch, d->nsigs);
		dirdoc_consensus_free(c);
		free(text);
	}
	closedir(dir);
}

/* --- descriptors ------------------------------------------------------- */

static struct desc *
desc_find(struct authority *a, const uint8_t node_id[static NODE_ID_LEN])
{
	for (size_t i = 0; i < a->ndescs; i++)
		if (sodium_memcmp(a->descs[i].r.node_id, node_id, NODE_ID_LEN) == 0)
			return &a->descs[i];
	return NULL;
}

/* POST /descriptor: an HTTP status, with why set. */
static int
on_descriptor(struct authority *a, const char *text, size_t len, char *why, size_t whylen)
{
	struct dirdoc_relay r;
	struct desc *d;
	uint64_t now = auth_now_ms() / 1000, e = dirdoc_epoch_of(now, a->epoch_len);

	if (len > DIRDOC_DESC_MAX) {
		snprintf(why, whylen, "descriptor is %zu bytes, over the %d-byte limit", len,
			 DIRDOC_DESC_MAX);
		return 400;
	}
	if (dirdoc_descriptor_parse(text, len, &r, why, whylen) < 0 ||
	    dirdoc_descriptor_check_time(&r, now, a->max_age, why, whylen) < 0)
		return 400;
	/* "packet keys for the current and the next epoch": near enough to
	 * the epochs being voted for to be of use */
	if (r.key_epoch[0] + 1 < e || r.key_epoch[0] > e + 2) {
		snprintf(why, whylen, "packet keys for epochs %llu and %llu, but this is epoch %llu",
			 (unsigned long long)r.key_epoch[0], (unsigned long long)r.key_epoch[1],
			 (unsigned long long)e);
		return 400;
	}
	/* the same identity replaces its older descriptor; nicknames are
	 * labels, not unique */
	if ((d = desc_find(a, r.node_id)) != NULL) {
		if (d->r.published >= r.published) {
			snprintf(why, whylen, "ok: already have a descriptor at least as new");
			return 200;
		}
		free(d->text);
	} else {
		if (a->ndescs >= AUTH_MAX_DESCS) {
			snprintf(why, whylen, "descriptor store full");
			return 503;
		}
		if (a->ndescs == a->cap) {
			a->cap = a->cap ? a->cap * 2 : 64;
			a->descs = xrealloc(a->descs, a->cap * sizeof(*a->descs));
		}
		d = &a->descs[a->ndescs++];
	}
	d->r = r;
	d->text = xmalloc(len + 1);
	memcpy(d->text, text, len);
	d->text[len] = '\0';
	d->len = len;
	snprintf(why, whylen, "ok");
	return 200;
}

/* --- HTTP server ------------------------------------------------------- */

static void
reply(struct evhttp_request *req, int code, const char *body, size_t len)
{
	struct evbuffer *b = evbuffer_new();
	const char *phrase = code == 200 ? "OK" : code == 400 ? "Bad Request" :
			     code == 404 ? "Not Found" : code == 405 ? "Method Not Allowed" :
			     code == 409 ? "Conflict" :
			     code == 503 ? "Service Unavailable" : "Error";

	if (!b)
		fatal("evbuffer_new failed");
	evbuffer_add(b, body, len);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
			  "text/plain; charset=us-ascii");
	evhttp_send_reply(req, code, phrase, b);
	evbuffer_free(b);
}

static void
reply_line(struct evhttp_request *req, int code, const char *line)
{
	char buf[320];
	int n = snprintf(buf, sizeof(buf), "%s\n", line);

	reply(req, code, buf, (size_t)MIN(n, (int)sizeof(buf) - 1));
}

static const struct cons_doc *
cons_current(struct authority *a, uint64_t now)
{
	const struct cons_doc *best = NULL;

	for (size_t i = 0; i < AUTH_KEEP_CONS; i++) {
		const struct cons_doc *d = &a->cons[i];
		uint64_t va, fu, vu;

		if (!d->body || !d->text)
			continue;
		dirdoc_epoch_window(d->epoch, a->epoch_len, &va, &fu, &vu);
		if (va <= now && now < vu && (!best || d->epoch > best->epoch))
			best = d;
	}
	return best;
}

static void
on_get(struct authority *a, struct evhttp_request *req, const char *path)
{
	const struct cons_doc *d;
	char line[128];
	uint64_t e;

	if (strcmp(path, "/consensus") == 0) {
		if (!(d = cons_current(a, auth_now_ms() / 1000)))
			reply_line(req, 404, "no current consensus");
		else
			reply(req, 200, d->text, d->text_len);
	} else if (strncmp(path, "/consensus/", 11) == 0) {
		if (dirdoc_u64(&e, path + 11) < 0)
			reply_line(req, 400, "bad epoch number");
		else if (!(d = auth_cons_find(a, e)) || !d->text)
			reply_line(req, 404, "no consensus for that epoch");
		else
			reply(req, 200, d->text, d->text_len);
	} else if (strcmp(path, "/keys") == 0) {
		char hex[HEX_LEN(ID_PK_LEN) + 1];

		hex_encode(hex, a->id->pk, ID_PK_LEN);
		snprintf(line, sizeof(line), "authority %s", hex);
		reply_line(req, 200, line);
	} else if (strcmp(path, "/vote") == 0) {
		if (!a->my_vote)
			reply_line(req, 404, "no vote this epoch yet");
		else
			reply(req, 200, a->my_vote, a->my_vote_len);
	} else if (strncmp(path, "/vote/", 6) == 0) {
		if (dirdoc_u64(&e, path + 6) < 0)
			reply_line(req, 400, "bad epoch number");
		else if (!a->my_vote || e != a->round)
			reply_line(req, 404, "no vote for that epoch");
		else
			reply(req, 200, a->my_vote, a->my_vote_len);
	} else {
		reply_line(req, 404, "unknown path; try /consensus");
	}
}

static void
on_request(struct evhttp_request *req, void *arg)
{
	struct authority *a = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
	struct evbuffer *in;
	char why[320], *body;
	size_t len;
	int code;

	if (!path) {
		reply_line(req, 400, "bad request line");
		return;
	}
	if (cmd == EVHTTP_REQ_GET || cmd == EVHTTP_REQ_HEAD) {
		on_get(a, req, path);
		return;
	}
	if (cmd != EVHTTP_REQ_POST) {
		reply_line(req, 405, "only GET and POST");
		return;
	}
	in = evhttp_request_get_input_buffer(req);
	len = evbuffer_get_length(in);
	body = (char *)evbuffer_pullup(in, -1);
	if (!body)
		body = "";
	snprintf(why, sizeof(why), "unknown path");
	if (strcmp(path, "/descriptor") == 0)
		code = on_descriptor(a, body, len, why, sizeof(why));
	else if (strcmp(path, "/vote") == 0)
		code = round_on_vote(a, body, len, why, sizeof(why));
	else if (strcmp(path, "/signature") == 0)
		code = round_on_signature(a, body, len, why, sizeof(why));
	else
		code = 404;
	if (code != 200)
		log_ratelim(&rl_desc, 30, LD_DIR, "POST %s refused (%d): %s", path, code, why);
	reply_line(req, code, why);
}

static void
on_timer(evutil_socket_t fd, short what, void *arg)
{
	round_tick(arg);
}

int
authority_new(struct event_base *base, const struct authority_conf *conf, struct id_keypair *id,
	      struct authority **out)
{
	struct authority *a;
	struct timeval tv;
	uint64_t tick_ms;
	bool self_listed = false;

	*out = NULL;
	a = xcalloc(1, sizeof(*a));
	a->base = base;
	a->id = id;
	a->epoch_len = conf->epoch_len;
	a->max_age = conf->max_age;
	a->datadir = xstrdup(conf->datadir);
	key_fingerprint(a->fp, id->pk, ID_PK_LEN);
	for (size_t i = 0; i < conf->npeers; i++) {
		struct peer *p;

		if (auth_peer_find(a, conf->peers[i].pk))
			continue;	/* listed twice: once is enough */
		if (a->npeers == DIRDOC_AUTH_MAX)
			goto too_many;
		p = &a->peers[a->npeers++];
		memcpy(p->pk, conf->peers[i].pk, ID_PK_LEN);
		memcpy(p->host, conf->peers[i].host, sizeof(p->host));
		p->port = conf->peers[i].port;
		key_fingerprint(p->fp, p->pk, ID_PK_LEN);
		if (sodium_memcmp(p->pk, id->pk, ID_PK_LEN) == 0)
			p->self = self_listed = true;
	}
	if (!self_listed) {
		struct peer *p;

		if (a->npeers == DIRDOC_AUTH_MAX)
			goto too_many;
		p = &a->peers[a->npeers++];
		memcpy(p->pk, id->pk, ID_PK_LEN);
		memcpy(p->fp, a->fp, sizeof(p->fp));
		p->self = true;
	}
	if (mkdir(a->datadir, 0700) < 0 && errno != EEXIST) {
		log_err(LD_DIR, "cannot create %s: %s", a->datadir, strerror(errno));
		authority_free(a);
		return ERR_IO;
	}
	cons_load(a);
	a->http = evhttp_new(base);
	if (!a->http)
		fatal("evhttp_new failed");
	evhttp_set_max_body_size(a->http, (ev_ssize_t)VOTE_MAX);
	evhttp_set_max_headers_size(a->http, 8192);
	evhttp_set_timeout(a->http, AUTH_HTTP_TIMEOUT);
	evhttp_set_allowed_methods(a->http, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD | EVHTTP_REQ_POST);
	evhttp_set_gencb(a->http, on_request, a);
	if (evhttp_bind_socket(a->http, conf->listen_host, conf->listen_port) != 0) {
		log_err(LD_DIR, "cannot listen on %s:%u: %s", conf->listen_host, conf->listen_port,
			strerror(errno));
		authority_free(a);
		return ERR_IO;
	}
	log_notice(LD_DIR, "authority %s listening on %s:%u, %zu authorities, epoch %llu s",
		   a->fp, conf->listen_host, conf->listen_port, a->npeers,
		   (unsigned long long)a->epoch_len);
	/* tick often enough to hit the schedule within 2.5% of an epoch */
	tick_ms = MAX((uint64_t)50, MIN((uint64_t)1000, a->epoch_len * 25));
	tv.tv_sec = (time_t)(tick_ms / 1000);
	tv.tv_usec = (suseconds_t)(tick_ms % 1000) * 1000;
	a->timer = event_new(base, -1, EV_PERSIST, on_timer, a);
	if (!a->timer || event_add(a->timer, &tv) != 0)
		fatal("cannot start the authority timer");
	round_tick(a);
	*out = a;
	return 0;
too_many:
	log_err(LD_CONFIG, "more than %d authorities configured", DIRDOC_AUTH_MAX);
	authority_free(a);
	return ERR_CONFIG;
}

void
authority_free(struct authority *a)
{
	if (!a)
		return;
	if (a->timer)
		event_free(a->timer);
	if (a->http)
		evhttp_free(a->http);
	for (size_t i = 0; i < a->npeers; i++)
		vote_free(a->peers[i].vote);
	for (size_t i = 0; i < a->ndescs; i++)
		free(a->descs[i].text);
	free(a->descs);
	for (size_t i = 0; i < AUTH_KEEP_CONS; i++)
		cons_doc_clear(a, &a->cons[i], false);
	free(a->my_vote);
	free(a->datadir);
	id_keypair_free(a->id);
	free(a);
}
