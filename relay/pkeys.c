/* The packet key schedule: one X25519 packet key per epoch, generated an
 * epoch ahead so the descriptor can publish it, kept in
 * DataDirectory/keys/packet-EPOCH.key (0600, unsealed) so a restart keeps
 * the keys the consensus lists, and destroyed together with its replay
 * set once the grace window after its epoch has passed.
 *
 * Replay sets are also kept on disk, as DataDirectory/keys/replay-EPOCH.tags
 * (16-byte tags appended as packets are accepted, written out every
 * tick, 100 ms, without fsync), and loaded again on start, so that a
 * process restart does not reopen the window for replays under a kept
 * key. A machine crash may lose the last tick's tags. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "common/keyfile.h"
#include "common/log.h"
#include "common/sphinx_replay.h"
#include "common/util.h"
#include "relay/relay_int.h"

/* ---- replay sets: common/sphinx_replay plus an append-only tag log ---- */

struct replay_set {
	struct sphinx_replay *c;
	int fd;			/* append log, -1 when none */
	uint8_t *pend;		/* tags not yet written to the log */
	size_t npend, pendcap;
};

struct replay_set *
replay_set_new(size_t max_entries)
{
	struct replay_set *s = xcalloc(1, sizeof(*s));

	s->c = sphinx_replay_new(max_entries);
	s->fd = -1;
	return s;
}

static void
replay_flush(struct replay_set *s)
{
	size_t off = 0;

	if (s->fd < 0 || s->npend == 0)
		return;
	while (off < s->npend * SPHINX_REPLAY_TAG_LEN) {
		ssize_t w = write(s->fd, s->pend + off, s->npend * SPHINX_REPLAY_TAG_LEN - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			log_warn(LD_MIX, "replay log write failed: %s", strerror(errno));
			break;
		}
		off += (size_t)w;
	}
	s->npend = 0;
}

void
replay_set_free(struct replay_set *s)
{
	if (s == NULL)
		return;
	replay_flush(s);
	if (s->fd >= 0)
		close(s->fd);
	sphinx_replay_free(s->c);
	free(s->pend);
	free(s);
}

int
replay_set_add(struct replay_set *s, const uint8_t tag[static SPHINX_REPLAY_TAG_LEN])
{
	int rc = sphinx_replay_add(s->c, tag);

	if (rc != 0)
		return rc;
	if (s->fd >= 0) {
		if (s->npend == s->pendcap) {
			s->pendcap = s->pendcap ? s->pendcap * 2 : 256;
			s->pend = xrealloc(s->pend, s->pendcap * SPHINX_REPLAY_TAG_LEN);
		}
		memcpy(s->pend + s->npend * SPHINX_REPLAY_TAG_LEN, tag, SPHINX_REPLAY_TAG_LEN);
		s->npend++;
	}
	return 0;
}

size_t
replay_set_count(const struct replay_set *s)
{
	return sphinx_replay_count(s->c);
}

/* Load a tag log (ignoring a torn last record) and keep it open for appends. */
static void
replay_attach(struct replay_set *s, const char *path)
{
	uint8_t tag[SPHINX_REPLAY_TAG_LEN];
	int fd = open(path, O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
	off_t good = 0;

	if (fd < 0) {
		log_warn(LD_MIX, "cannot open %s: %s", path, strerror(errno));
		return;
	}
	for (;;) {
		ssize_t n = read(fd, tag, sizeof(tag));

		if (n != (ssize_t)sizeof(tag))
			break;
		if (sphinx_replay_add(s->c, tag) == ERR_FULL)
			break;
		good += (off_t)sizeof(tag);
	}
	if (ftruncate(fd, good) != 0)
		log_warn(LD_MIX, "cannot trim %s: %s", path, strerror(errno));
	s->fd = fd;
}

/* ---- the key schedule ---- */

static char *
key_path(const struct relay *r, uint64_t e)
{
	return xasprintf("%s/packet-%" PRIu64 ".key", r->keydir, e);
}

static char *
tags_path(const struct relay *r, uint64_t e)
{
	return xasprintf("%s/replay-%" PRIu64 ".tags", r->keydir, e);
}

static void
pkey_clear(struct relay *r, struct pkey *k, bool delete_files)
{
	if (k->kp == NULL)
		return;
	if (delete_files) {
		char *kp = key_path(r, k->epoch), *tp = tags_path(r, k->epoch);

		unlink(kp);
		unlink(tp);
		free(kp);
		free(tp);
		log_info(LD_MIX, "packet key for epoch %" PRIu64 " destroyed", k->epoch);
	}
	X_KEYPAIR_FREE(k->kp);
	replay_set_free(k->replay);
	memset(k, 0, sizeof(*k));
}

static struct pkey *
free_slot(struct relay *r)
{
	for (size_t i = 0; i < RELAY_MAX_PKEYS; i++)
		if (r->pkeys[i].kp == NULL)
			return &r->pkeys[i];
	return NULL;
}

struct pkey *
pkeys_get(struct relay *r, uint64_t e)
{
	for (size_t i = 0; i < RELAY_MAX_PKEYS; i++)
		if (r->pkeys[i].kp != NULL && r->pkeys[i].epoch == e)
			return &r->pkeys[i];
	return NULL;
}

static int
load_or_make(struct relay *r, uint64_t e)
{
	uint8_t sk[X_SK_LEN];
	struct pkey *k;
	char *path, *tp;
	struct stat sb;
	int rc;

	if (pkeys_get(r, e) != NULL)
		return 0;
	if ((k = free_slot(r)) == NULL)
		return ERR_INTERNAL;
	path = key_path(r, e);
	rc = keyfile_read(path, KEYFILE_X25519, sk, sizeof(sk), NULL);
	if (rc == ERR_NOT_FOUND) {
		k->kp = x_keypair_new();
		rc = keyfile_write(path, KEYFILE_X25519, k->kp->sk, X_SK_LEN, NULL);
		if (rc != 0) {
			log_err(LD_MIX, "cannot write %s: %s", path, err_str(rc));
			X_KEYPAIR_FREE(k->kp);
			goto out;
		}
		k->created = time_now();
		log_info(LD_MIX, "packet key for epoch %" PRIu64 " generated", e);
	} else if (rc == 0) {
		k->kp = x_keypair_from_secret(sk);
		k->created = stat(path, &sb) == 0 ? (uint64_t)sb.st_mtime : time_now();
	} else {
		log_err(LD_MIX, "cannot read %s: %s", path, err_str(rc));
		goto out;
	}
	k->epoch = e;
	k->replay = replay_set_new((size_t)r->cfg.replay_entries);
	tp = tags_path(r, e);
	replay_attach(k->replay, tp);
	free(tp);
out:
	sodium_memzero(sk, sizeof(sk));
	free(path);
	return rc;
}

/* Remove key and tag files of epochs outside [lo, hi]. */
static void
sweep_dir(struct relay *r, uint64_t lo, uint64_t hi)
{
	DIR *d = opendir(r->keydir);
	struct dirent *de;

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		unsigned long long e;
		char kind[16], tail[8];

		if (sscanf(de->d_name, "%15[a-z]-%llu.%7s", kind, &e, tail) != 3)
			continue;
		if (strcmp(kind, "packet") != 0 && strcmp(kind, "replay") != 0)
			continue;
		if (e >= lo && e <= hi)
			continue;
		if (pkeys_get(r, e) != NULL)
			continue;
		char *p = xasprintf("%s/%s", r->keydir, de->d_name);
		unlink(p);
		free(p);
	}
	closedir(d);
}

int
pkeys_init(struct relay *r)
{
	uint64_t now = time_now();
	int rc;

	r->epoch = now / r->epoch_len;
	/* The previous epoch's key is kept only if we are inside its grace. */
	if (r->epoch > 0 && now - r->epoch * r->epoch_len < r->cfg.key_grace_s) {
		char *p = key_path(r, r->epoch - 1);

		if (access(p, F_OK) == 0 && load_or_make(r, r->epoch - 1) == 0)
			r->prev_grace_until = r->epoch * r->epoch_len + r->cfg.key_grace_s;
		free(p);
	}
	if ((rc = load_or_make(r, r->epoch)) != 0 || (rc = load_or_make(r, r->epoch + 1)) != 0)
		return rc;
	sweep_dir(r, r->epoch ? r->epoch - 1 : 0, r->epoch + 1);
	return 0;
}

bool
pkeys_tick(struct relay *r, uint64_t now)
{
	uint64_t e = now / r->epoch_len;
	bool changed = false;

	for (size_t i = 0; i < RELAY_MAX_PKEYS; i++)
		if (r->pkeys[i].replay)
			replay_flush(r->pkeys[i].replay);
	if (e != r->epoch) {
		/* Anything older than the new previous epoch goes now. */
		for (size_t i = 0; i < RELAY_MAX_PKEYS; i++)
			if (r->pkeys[i].kp && r->pkeys[i].epoch + 1 < e)
				pkey_clear(r, &r->pkeys[i], true);
		r->prev_grace_until = e * r->epoch_len + r->cfg.key_grace_s;
		r->epoch = e;
		if (load_or_make(r, e) != 0 || load_or_make(r, e + 1) != 0)
			log_err(LD_MIX, "cannot prepare packet keys for epoch %" PRIu64, e);
		log_notice(LD_MIX, "epoch %" PRIu64 " begins", e);
		changed = true;
	}
	if (now >= r->prev_grace_until && e > 0) {
		struct pkey *k = pkeys_get(r, e - 1);

		if (k)
			pkey_clear(r, k, true);
	}
	return changed;
}

size_t
pkeys_live(struct relay *r, uint64_t now, struct pkey **out, size_t max)
{
	size_t n = 0;
	struct pkey *k;

	/* Each key tried and failed costs an X25519: the previous key (packets
	 * still on their way just after an epoch change) comes before the
	 * next one (senders building ahead near the end of an epoch). Until
	 * the tick notices that the clock has entered the next epoch, the
	 * next key is the current one by the clock: it goes first. */
	bool ahead = r->epoch_len && now / r->epoch_len > r->epoch;

	if (ahead && n < max && (k = pkeys_get(r, r->epoch + 1)) != NULL)
		out[n++] = k;
	if (n < max && (k = pkeys_get(r, r->epoch)) != NULL)
		out[n++] = k;
	if (n < max && r->epoch > 0 && now < r->prev_grace_until &&
	    (k = pkeys_get(r, r->epoch - 1)) != NULL)
		out[n++] = k;
	if (!ahead && n < max && (k = pkeys_get(r, r->epoch + 1)) != NULL)
		out[n++] = k;
	return n;
}

void
pkeys_free(struct relay *r)
{
	for (size_t i = 0; i < RELAY_MAX_PKEYS; i++)
		pkey_clear(r, &r->pkeys[i], false);
}
