/* burrow-dir commands: run, keygen, verify, and the testing helpers. */
#include "directory/dirtool.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>

#include <sodium.h>

#include "common/dirdoc.h"
#include "common/encode.h"
#include "common/http.h"
#include "common/keyfile.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/util.h"

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct event_base *base = arg;

	if (sig == SIGHUP) {
		if (log_reopen() != 0)
			log_warn(LD_GENERAL, "cannot reopen the log file");
		return;
	}
	log_notice(LD_DIR, "signal %d: stopping", (int)sig);
	event_base_loopexit(base, NULL);
}

int
dirtool_run(const struct authority_conf *conf, const char *keyfile)
{
	const int signums[3] = { SIGTERM, SIGINT, SIGHUP };
	struct event *sigs[3];
	struct event_base *base;
	struct authority *a = NULL;
	struct id_keypair *id;
	uint8_t seed[ID_SEED_LEN];
	int r;

	/* authorities run unattended, so their key file is not sealed */
	if ((r = keyfile_read(keyfile, KEYFILE_ED25519_SEED, seed, sizeof(seed), NULL)) < 0) {
		fprintf(stderr, "burrow-dir: %s: %s\n", keyfile, err_str(r));
		return 1;
	}
	id = id_keypair_from_seed(seed);
	sodium_memzero(seed, sizeof(seed));
	signal(SIGPIPE, SIG_IGN);
	if (!(base = event_base_new()))
		fatal("event_base_new failed");
	if (authority_new(base, conf, id, &a) < 0) {
		event_base_free(base);
		return 1;
	}
	for (int i = 0; i < 3; i++) {
		sigs[i] = evsignal_new(base, signums[i], on_signal, base);
		if (!sigs[i] || event_add(sigs[i], NULL) != 0)
			fatal("cannot catch signal %d", signums[i]);
	}
	event_base_dispatch(base);
	authority_free(a);
	for (int i = 0; i < 3; i++)
		event_free(sigs[i]);
	event_base_free(base);
	return 0;
}

int
dirtool_keygen(const char *path, bool force)
{
	uint8_t seed[ID_SEED_LEN];
	struct id_keypair *kp;
	char hex[HEX_LEN(ID_PK_LEN) + 1];
	int r;

	if (!force && access(path, F_OK) == 0) {
		fprintf(stderr, "burrow-dir: %s exists; use --force to replace it\n", path);
		return 1;
	}
	randombytes_buf(seed, sizeof(seed));
	kp = id_keypair_from_seed(seed);
	r = keyfile_write(path, KEYFILE_ED25519_SEED, seed, sizeof(seed), NULL);
	sodium_memzero(seed, sizeof(seed));
	if (r < 0) {
		fprintf(stderr, "burrow-dir: cannot write %s: %s\n", path, err_str(r));
		id_keypair_free(kp);
		return 1;
	}
	hex_encode(hex, kp->pk, ID_PK_LEN);
	printf("%s\n", hex);
	id_keypair_free(kp);
	return 0;
}

static int
slurp(const char *path, size_t max, char **out, size_t *len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	size_t n = 0, cap = 65536;
	char *buf;

	*out = NULL;
	*len = 0;
	if (!f)
		return ERR_IO;
	buf = xmalloc(cap + 1);
	for (;;) {
		size_t got;

		if (n == cap) {
			if (cap > max)
				break;
			cap *= 2;
			buf = xrealloc(buf, cap + 1);
		}
		got = fread(buf + n, 1, cap - n, f);
		if (got == 0)
			break;
		n += got;
	}
	if (f != stdin)
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

/* Read the Authority lines of any Burrow config file (client, relay or
 * authority); other keys are left to their own programs. */
static int
load_authorities(const char *path, uint8_t (*pks)[32], size_t *n)
{
	char *text, *line, *save = NULL;
	size_t len;
	unsigned lineno = 0;
	int bad = 0;

	*n = 0;
	if (slurp(path, 1 << 20, &text, &len) < 0) {
		fprintf(stderr, "burrow-dir: cannot read %s: %s\n", path, strerror(errno));
		return ERR_IO;
	}
	for (line = text; line; line = save) {
		char host[64];
		uint16_t port;
		char *nl = strchr(line, '\n');

		save = nl ? nl + 1 : NULL;
		if (nl)
			*nl = '\0';
		lineno++;
		while (*line == ' ' || *line == '\t')
			line++;
		if (strncmp(line, "Authority", 9) != 0 || (line[9] != ' ' && line[9] != '\t'))
			continue;
		line += 10;
		while (*line == ' ' || *line == '\t')
			line++;
		for (char *e = line + strlen(line); e > line && (e[-1] == ' ' || e[-1] == '\t' ||
								  e[-1] == '\r');)
			*--e = '\0';
		if (*n == DIRDOC_AUTH_MAX) {
			fprintf(stderr, "%s:%u: more than %d authorities\n", path, lineno,
				DIRDOC_AUTH_MAX);
			bad = 1;
			break;
		}
		if (dirdoc_authority_parse(line, pks[*n], host, &port) < 0) {
			fprintf(stderr, "%s:%u: Authority: expected HEX_PUBKEY IPV4:PORT\n", path,
				lineno);
			bad = 1;
			continue;
		}
		(*n)++;
	}
	free(text);
	if (!bad && *n == 0) {
		fprintf(stderr, "%s: no Authority lines\n", path);
		bad = 1;
	}
	return bad ? ERR_CONFIG : 0;
}

int
dirtool_verify(const char *conf_path, const char *file, uint64_t now)
{
	uint8_t pks[DIRDOC_AUTH_MAX][32];
	struct dirdoc_consensus *c = NULL;
	size_t npks, len;
	char *text, why[256];
	int r;

	if (load_authorities(conf_path, pks, &npks) < 0)
		return 2;
	if ((r = slurp(file, DIRDOC_CONS_MAX, &text, &len)) < 0) {
		fprintf(stderr, "burrow-dir: cannot read %s: %s\n", file, err_str(r));
		return 2;
	}
	r = dirdoc_consensus_verify(text, len, (const uint8_t(*)[32])pks, npks, now, &c, why,
				    sizeof(why));
	free(text);
	if (r < 0) {
		printf("refused (%s): %s\n", err_str(r), why);
		return 1;
	}
	printf("%s\n", why);
	dirdoc_consensus_free(c);
	return 0;
}

int
dirtool_testdesc(const struct testdesc_opts *o)
{
	uint8_t seed[ID_SEED_LEN], h[32];
	struct dirdoc_relay r;
	struct id_keypair *kp;
	uint64_t now = time_now();
	char *text;
	size_t len;
	int rc;

	memset(&r, 0, sizeof(r));
	/* keys derived from the seed number: deterministic, for tests only */
	memset(seed, 0, sizeof(seed));
	snprintf((char *)seed, sizeof(seed), "burrow-testdesc-%u", o->seed);
	crypto_generichash(h, sizeof(h), seed, sizeof(seed), NULL, 0);
	kp = id_keypair_from_seed(h);
	snprintf(r.nickname, sizeof(r.nickname), "%s", o->nickname ? o->nickname : "");
	if (!o->nickname)
		snprintf(r.nickname, sizeof(r.nickname), "test%u", o->seed);
	if (parse_hostport(o->address, r.host, &r.port) < 0) {
		fprintf(stderr, "burrow-dir: bad --address %s\n", o->address);
		id_keypair_free(kp);
		return 2;
	}
	r.key_epoch[0] = o->key_epoch ? o->key_epoch : dirdoc_epoch_of(now, o->epoch_len) + 1;
	r.key_epoch[1] = r.key_epoch[0] + 1;
	crypto_generichash(r.link_pk, 32, h, sizeof(h), (const uint8_t *)"link", 4);
	crypto_generichash(r.packet_pk[0], 32, h, sizeof(h), (const uint8_t *)"pkt0", 4);
	crypto_generichash(r.packet_pk[1], 32, h, sizeof(h), (const uint8_t *)"pkt1", 4);
	r.roles = o->roles;
	r.bandwidth = 1000000;
	snprintf(r.contact, sizeof(r.contact), "test relay %u", o->seed);
	snprintf(r.software, sizeof(r.software), "burrow-dir testdesc");
	r.published = (uint64_t)((int64_t)now + o->published_offset);
	rc = dirdoc_descriptor_encode(&r, kp, &text, &len);
	id_keypair_free(kp);
	sodium_memzero(h, sizeof(h));
	if (rc < 0) {
		fprintf(stderr, "burrow-dir: cannot encode: %s\n", err_str(rc));
		return 1;
	}
	if (o->bad_sig) {
		char *s = strstr(text, "\nsignature ") + 11;

		*s = *s == '0' ? '1' : '0';
	}
	fwrite(text, 1, len, stdout);
	free(text);
	return 0;
}

int
dirtool_http(const char *url, const char *post_path)
{
	char *body = NULL, *resp;
	size_t blen = 0, rlen;
	int status, r;

	if (post_path && slurp(post_path, DIRDOC_CONS_MAX, &body, &blen) < 0) {
		fprintf(stderr, "burrow-dir: cannot read %s\n", post_path);
		return 1;
	}
	r = http_fetch_sync(url, post_path ? (body ? body : "") : NULL, blen, 10,
			    DIRDOC_CONS_MAX, &status, &resp, &rlen);
	free(body);
	if (r < 0) {
		fprintf(stderr, "burrow-dir: %s: %s\n", url, err_str(r));
		return 1;
	}
	fwrite(resp, 1, rlen, stdout);
	free(resp);
	if (status < 200 || status > 299) {
		fprintf(stderr, "burrow-dir: %s: HTTP %d\n", url, status);
		return 3;
	}
	return 0;
}
