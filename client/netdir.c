/* The client's view of the network: the consensus, fetched, verified
 * against the pinned authorities, cached in the home directory. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "client/client.h"
#include "client/net.h"
#include "client/netdir.h"
#include "common/encode.h"
#include "common/log.h"
#include "common/util.h"

#define HTTP_TIMEOUT_MS 10000
#define FETCH_ROUNDS 3

void
netdir_path_nodes(const struct dirdoc_consensus *c, bool distinct_subnets, struct path_node **out)
{
	struct path_node *n = xcalloc(c->nrelays ? c->nrelays : 1, sizeof(*n));
	size_t i, j;

	for (i = 0; i < c->nrelays; i++) {
		const struct dirdoc_relay *r = &c->relays[i];
		struct in_addr a;
		uint32_t good = DIRDOC_FLAG_RUNNING | DIRDOC_FLAG_VALID;
		size_t pos = 0;

		memcpy(n[i].node_id, r->node_id, 32);
		if (inet_pton(AF_INET, r->host, &a) == 1)
			n[i].ipv4 = ntohl(a.s_addr);
		/* The /16 rule guards against one operator or network holding
		 * several hops. Loopback (127/8) only appears in a network run
		 * on one machine for testing, where it means nothing: give each
		 * such node a /16 of its own, as when the rule is turned off. */
		if (!distinct_subnets || (n[i].ipv4 >> 24) == 127)
			n[i].ipv4 = (uint32_t)((i + 1) << 16);
		snprintf(n[i].nickname, sizeof(n[i].nickname), "%s", r->nickname);
		if ((r->flags & good) == good && (r->roles & DIRDOC_ROLE_MIX))
			n[i].flags |= PATH_MIX;
		if ((r->flags & good) == good && (r->flags & DIRDOC_FLAG_MAILBOX))
			n[i].flags |= PATH_MAILBOX;
		n[i].bandwidth = r->bandwidth;
		for (j = 0; j < r->nfamily; j++) {
			const struct dirdoc_relay *f = dirdoc_relay_find(c, r->family[j]);
			int k;

			if (f == NULL)
				continue;
			k = snprintf(n[i].family + pos, sizeof(n[i].family) - pos, "%s%s",
				     pos ? "," : "", f->nickname);
			if (k < 0 || (size_t)k >= sizeof(n[i].family) - pos) {
				n[i].family[pos] = '\0';
				break;
			}
			pos += (size_t)k;
		}
	}
	*out = n;
}

int
netdir_index(const struct dirdoc_consensus *c, const uint8_t id[static 32], size_t *idx)
{
	const struct dirdoc_relay *r = dirdoc_relay_find(c, id);

	if (r == NULL)
		return ERR_NOT_FOUND;
	*idx = (size_t)(r - c->relays);
	return 0;
}

int
netdir_find(const struct dirdoc_consensus *c, const char *name, size_t *idx)
{
	uint8_t id[32];
	size_t i, found = 0;

	if (strlen(name) == 64 && hex_decode(id, sizeof(id), name) == 0)
		return netdir_index(c, id, idx);
	for (i = 0; i < c->nrelays; i++) {
		if (strcasecmp(c->relays[i].nickname, name) == 0) {
			*idx = i;
			found++;
		}
	}
	if (found == 0)
		return ERR_NOT_FOUND;
	return found == 1 ? 0 : ERR_DUPLICATE;
}

static int
write_cache(const char *path, const char *text, size_t len)
{
	char *tmp = xasprintf("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int r = 0;

	if (fd < 0 || write(fd, text, len) != (ssize_t)len || fsync(fd) != 0)
		r = ERR_IO;
	if (fd >= 0)
		close(fd);
	if (r == 0 && rename(tmp, path) != 0)
		r = ERR_IO;
	if (r != 0)
		unlink(tmp);
	free(tmp);
	return r;
}

static char *
read_cache(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;

	if (f == NULL)
		return NULL;
	buf = xmalloc(DIRDOC_CONS_MAX + 1);
	n = fread(buf, 1, DIRDOC_CONS_MAX + 1, f);
	fclose(f);
	if (n == 0 || n > DIRDOC_CONS_MAX) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

int
client_consensus(struct client *c)
{
	struct client_config *cf = &c->cfg;
	struct dirdoc_consensus *cached = NULL;
	char why[256] = "", lastwhy[256] = "", *path, *text;
	size_t len, i, start;
	unsigned round;
	uint64_t now = time_now();
	int r, last = ERR_IO;

	if (c->cons != NULL && now < c->cons->fresh_until)
		return 0;
	/* Long runs (send --wait) move on to the next consensus: packet keys
	 * rotate with the epochs. */
	DIRDOC_CONSENSUS_FREE(c->cons);
	c->cons_from_cache = false;
	if (cf->nauth == 0) {
		client_err("no Authority lines in %s: the client cannot check a consensus",
			   c->conf_path);
		return ERR_CONFIG;
	}
	path = client_path(c, "consensus");
	text = read_cache(path, &len);
	if (text != NULL) {
		r = dirdoc_consensus_verify(text, len, (const uint8_t (*)[32])cf->auth_pk, cf->nauth,
					    now, &cached, why, sizeof(why));
		free(text);
		if (r == 0 && now < cached->fresh_until) {
			c->cons = cached;
			c->cons_from_cache = true;
			free(path);
			return 0;
		}
		/* A cached document that no longer verifies (typically: past
		 * its valid-until) is the verdict to report if no authority
		 * answers. */
		if (r != 0) {
			last = r;
			snprintf(lastwhy, sizeof(lastwhy), "the cached consensus: %s", why);
		}
	}
	/* Ask the authorities in a random order, so that clients spread; if
	 * none has a good one, try again a little later: authorities that are
	 * just finishing an epoch's round may briefly serve a document whose
	 * signatures are still being gathered. */
	for (round = 0; round < FETCH_ROUNDS; round++) {
		if (round > 0)
			sleep(1);
		now = time_now();
		start = randombytes_uniform((uint32_t)cf->nauth);
		for (i = 0; i < cf->nauth; i++) {
			size_t a = (start + i) % cf->nauth;
			struct dirdoc_consensus *cons = NULL;

			r = net_http_get(cf->auth_host[a], cf->auth_port[a], "/consensus",
					 DIRDOC_CONS_MAX, HTTP_TIMEOUT_MS, &text, &len);
			if (r != 0) {
				log_info(LD_DIR, "consensus from %s:%u: %s", cf->auth_host[a],
					 cf->auth_port[a], err_str(r));
				if (last == ERR_IO)
					snprintf(lastwhy, sizeof(lastwhy), "authority %s:%u: %s",
						 cf->auth_host[a], cf->auth_port[a], err_str(r));
				continue;
			}
			r = dirdoc_consensus_verify(text, len, (const uint8_t (*)[32])cf->auth_pk,
						    cf->nauth, now, &cons, why, sizeof(why));
			if (r == 0) {
				if (write_cache(path, text, len) != 0)
					log_info(LD_DIR, "cannot cache the consensus in %s", path);
				free(text);
				dirdoc_consensus_free(cached);
				c->cons = cons;
				free(path);
				return 0;
			}
			log_info(LD_DIR, "consensus from %s:%u: %s", cf->auth_host[a],
				 cf->auth_port[a], why);
			free(text);
			last = r;
			snprintf(lastwhy, sizeof(lastwhy), "%s", why);
		}
		if (cached != NULL)
			break;
	}
	free(path);
	if (cached != NULL) {
		/* Past fresh-until but still valid: better than nothing. */
		c->cons = cached;
		c->cons_from_cache = true;
		return 0;
	}
	client_err("no usable consensus: %s", lastwhy[0] ? lastwhy : err_str(last));
	if (last == ERR_QUORUM)
		client_err("the consensus is under-signed: fewer than half of the %zu pinned "
			   "authorities signed it", cf->nauth);
	else if (last == ERR_EXPIRED)
		client_err("the consensus is stale (past its valid-until time): check this "
			   "computer's clock, and that the authorities are reachable and current");
	return last == ERR_IO ? ERR_CLOSED : last;
}
