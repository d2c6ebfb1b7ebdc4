#include "sim/simnet.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "common/encode.h"
#include "common/keyfile.h"
#include "common/keys.h"
#include "common/log.h"
#include "common/util.h"

static const char *const role_names[] = { "authority", "relay", "mailbox" };

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

char *
simnet_bindir(void)
{
	char path[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);
	char *slash;

	if (n <= 0)
		return xstrdup(".");
	path[n] = '\0';
	slash = strrchr(path, '/');
	if (slash)
		*slash = '\0';
	return xstrdup(path);
}

uint16_t
simnet_free_port(void)
{
	/* Below Linux's ephemeral range (32768 and up), so no outgoing
	 * connection can take the port between this check and the bind. */
	for (int tries = 0; tries < 200; tries++) {
		uint16_t port = (uint16_t)(20000 + randombytes_uniform(12768));
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
		int fd = socket(AF_INET, SOCK_STREAM, 0), ok;

		if (fd < 0)
			return 0;
		sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
		ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
		close(fd);
		if (ok)
			return port;
	}
	return 0;
}

/* Ports handed out in this process, so two nodes never get the same one
 * even though each probe socket is closed before the daemons bind. */
static uint16_t
fresh_port(struct simnet *net)
{
	for (int tries = 0; tries < 100; tries++) {
		uint16_t p = simnet_free_port();
		bool used = p == 0;

		for (size_t i = 0; i < net->n && !used; i++)
			used = net->nodes[i].port == p || net->nodes[i].metrics_port == p;
		if (!used)
			return p;
	}
	return 0;
}

static int
write_file(const char *path, const char *text, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
	size_t len = strlen(text), off = 0;

	if (fd < 0)
		return ERR_IO;
	while (off < len) {
		ssize_t w = write(fd, text + off, len - off);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			close(fd);
			return ERR_IO;
		}
		off += (size_t)w;
	}
	return close(fd) == 0 ? 0 : ERR_IO;
}

static int
make_dir(const char *path)
{
	if (mkdir(path, 0700) == 0 || errno == EEXIST)
		return 0;
	fprintf(stderr, "burrow-sim: cannot create %s: %s\n", path, strerror(errno));
	return ERR_IO;
}

static struct simnode *
add_node(struct simnet *net, enum simnode_role role, const char *prefix, unsigned i)
{
	struct simnode *n;

	net->nodes = xrealloc(net->nodes, (net->n + 1) * sizeof(*net->nodes));
	n = &net->nodes[net->n++];
	memset(n, 0, sizeof(*n));
	n->role = role;
	snprintf(n->name, sizeof(n->name), "%s%u", prefix, i);
	snprintf(n->host, sizeof(n->host), "127.0.0.1");
	n->datadir = xasprintf("%s/%s", net->dir, n->name);
	n->conf = xasprintf("%s/%s/%s.conf", net->dir, n->name, n->name);
	n->logfile = xasprintf("%s/%s/log", net->dir, n->name);
	return n;
}

/* The Authority lines every node and client pins. */
static char *
authority_lines(const struct simnet *net)
{
	char *s = xstrdup(""), *t;
	char hex[65];

	for (size_t i = 0; i < net->n; i++) {
		const struct simnode *a = &net->nodes[i];

		if (a->role != SIMNODE_AUTHORITY)
			continue;
		hex_encode(hex, a->id_pk, 32);
		t = xasprintf("%sAuthority %s %s:%u\n", s, hex, a->host, a->port);
		free(s);
		s = t;
	}
	return s;
}

static int
write_authority_key(struct simnode *a)
{
	struct id_keypair *kp = id_keypair_new();
	uint8_t seed[ID_SEED_LEN];
	char *path = xasprintf("%s/identity.key", a->datadir);
	int r;

	crypto_sign_ed25519_sk_to_seed(seed, kp->sk);
	r = keyfile_write(path, KEYFILE_ED25519_SEED, seed, sizeof(seed), NULL);
	sodium_memzero(seed, sizeof(seed));
	memcpy(a->id_pk, kp->pk, ID_PK_LEN);
	key_fingerprint(a->fingerprint, kp->pk, ID_PK_LEN);
	id_keypair_free(kp);
	if (r < 0)
		fprintf(stderr, "burrow-sim: cannot write %s: %s\n", path, err_str(r));
	free(path);
	return r;
}

int
simnet_plan(struct simnet *net, const char *dir, unsigned nauth, unsigned nrelay, unsigned nmbox,
	    unsigned epoch_seconds, bool netns)
{
	char *auths, *text;
	int r;

	memset(net, 0, sizeof(*net));
	net->dir = xstrdup(dir);
	net->bindir = simnet_bindir();
	net->nauth = nauth;
	net->nrelay = nrelay;
	net->nmbox = nmbox;
	net->epoch_seconds = epoch_seconds;
	if ((r = make_dir(dir)) < 0)
		return r;
	if (netns && (r = netns_setup(net)) < 0)
		return r;
	for (unsigned i = 1; i <= nauth; i++)
		add_node(net, SIMNODE_AUTHORITY, "auth", i);
	for (unsigned i = 1; i <= nrelay; i++)
		add_node(net, SIMNODE_RELAY, "relay", i);
	for (unsigned i = 1; i <= nmbox; i++)
		add_node(net, SIMNODE_MAILBOX, "mbox", i);
	for (size_t i = 0; i < net->n; i++) {
		struct simnode *n = &net->nodes[i];

		if ((r = make_dir(n->datadir)) < 0)
			return r;
		if (net->netns) {
			/* Its own address: fixed ports are free in its namespace. */
			if ((r = netns_add_host(net, n->name, n->netns, n->host)) < 0)
				return r;
			n->port = n->role == SIMNODE_AUTHORITY ? 8080 : 9000;
			n->metrics_port = n->role == SIMNODE_AUTHORITY ? 0 : 9100;
		} else {
			if (!(n->port = fresh_port(net)))
				return ERR_IO;
			if (n->role != SIMNODE_AUTHORITY && !(n->metrics_port = fresh_port(net)))
				return ERR_IO;
		}
		if (n->role == SIMNODE_AUTHORITY && (r = write_authority_key(n)) < 0)
			return r;
	}
	auths = authority_lines(net);
	for (size_t i = 0; i < net->n; i++) {
		struct simnode *n = &net->nodes[i];

		if (n->role == SIMNODE_AUTHORITY)
			text = xasprintf("# authority %s, written by burrow-sim\n"
					 "IdentityKeyFile %s/identity.key\n"
					 "Listen %s:%u\n%s"
					 "EpochSeconds %u\nDataDirectory %s\n"
					 "LogLevel info\n",
					 n->name, n->datadir, n->host, n->port, auths,
					 epoch_seconds, n->datadir);
		else
			text = xasprintf("# %s %s, written by burrow-sim\n"
					 "Nickname %s\nListen %s:%u\nDataDirectory %s\n%s"
					 "Roles %s\nMetricsListen %s:%u\n"
					 "Contact sim@localhost\nLogLevel info\n%s",
					 role_names[n->role], n->name, n->name, n->host, n->port,
					 n->datadir, auths,
					 n->role == SIMNODE_MAILBOX ? "mailbox" : "mix", n->host,
					 n->metrics_port,
					 net->netns && n->role == SIMNODE_MAILBOX ?
					 "# the harness reads deposit sources from this log\n"
					 "LogDepositPeers 1\n" : "");
		r = write_file(n->conf, text, 0600);
		free(text);
		if (r < 0) {
			free(auths);
			fprintf(stderr, "burrow-sim: cannot write %s\n", n->conf);
			return r;
		}
	}
	free(auths);
	return 0;
}

int
simnet_start_node(struct simnet *net, struct simnode *n)
{
	const char *prog = n->role == SIMNODE_AUTHORITY ? "burrow-dir" : "burrow-relay";
	char *path = xasprintf("%s/%s", net->bindir, prog);
	pid_t pid;

	pid = fork();
	if (pid < 0) {
		free(path);
		return ERR_IO;
	}
	if (pid == 0) {
		int in = open("/dev/null", O_RDONLY);
		int out = open(n->logfile, O_WRONLY | O_CREAT | O_APPEND, 0600);

		setsid();
		if (n->netns[0] && netns_enter(n->netns) < 0) {
			fprintf(stderr, "burrow-sim: cannot enter namespace %s\n", n->netns);
			_exit(126);
		}
		if (in >= 0)
			dup2(in, 0);
		if (out >= 0) {
			dup2(out, 1);
			dup2(out, 2);
		}
		execl(path, prog, "--config", n->conf, (char *)NULL);
		fprintf(stderr, "burrow-sim: cannot run %s: %s\n", path, strerror(errno));
		_exit(127);
	}
	free(path);
	n->pid = pid;
	n->expect_down = false;
	return 0;
}

int
simnet_start(struct simnet *net)
{
	int r;

	/* Authorities first, so relays find them on their first upload. */
	for (int pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < net->n; i++) {
			struct simnode *n = &net->nodes[i];

			if ((n->role == SIMNODE_AUTHORITY) != (pass == 0) || n->pid > 0)
				continue;
			if ((r = simnet_start_node(net, n)) < 0)
				return r;
		}
		if (pass == 0)
			sleep_ms(300);
	}
	return 0;
}

int
simnet_http_get(const char *host, uint16_t port, const char *path, char **body,
		unsigned timeout_ms)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	uint64_t deadline = mono_ns() + (uint64_t)timeout_ms * 1000000u;
	size_t len = 0, cap = 4096;
	char *buf, req[512], *hdr_end;
	int fd, status = -1, n;

	*body = NULL;
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
		return -1;
	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -1;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 && errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	n = snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: %s:%u\r\n\r\n", path, host, port);
	buf = xmalloc(cap);
	for (size_t sent = 0; sent < (size_t)n;) {
		struct pollfd p = { fd, POLLOUT, 0 };
		uint64_t now = mono_ns();
		ssize_t w;

		if (now >= deadline || poll(&p, 1, (int)((deadline - now) / 1000000u) + 1) <= 0)
			goto out;
		w = send(fd, req + sent, (size_t)n - sent, MSG_NOSIGNAL);
		if (w < 0 && errno != EAGAIN && errno != EINTR)
			goto out;
		if (w > 0)
			sent += (size_t)w;
	}
	for (;;) {
		struct pollfd p = { fd, POLLIN, 0 };
		uint64_t now = mono_ns();
		ssize_t rd;

		if (now >= deadline || poll(&p, 1, (int)((deadline - now) / 1000000u) + 1) <= 0)
			goto out;
		if (len + 4096 + 1 > cap) {
			if (cap >= (64u << 20))
				goto out;
			cap *= 2;
			buf = xrealloc(buf, cap);
		}
		rd = recv(fd, buf + len, cap - len - 1, 0);
		if (rd == 0)
			break;
		if (rd < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			goto out;
		}
		len += (size_t)rd;
	}
	buf[len] = '\0';
	if (sscanf(buf, "HTTP/%*d.%*d %d", &status) != 1 || !(hdr_end = strstr(buf, "\r\n\r\n"))) {
		status = -1;
		goto out;
	}
	*body = xstrdup(hdr_end + 4);
out:
	free(buf);
	close(fd);
	return status;
}

int
simnet_wait_consensus(struct simnet *net, unsigned timeout_s)
{
	uint64_t deadline = mono_ns() + (uint64_t)timeout_s * 1000000000u;

	while (mono_ns() < deadline) {
		bool all = true;

		for (size_t i = 0; i < net->n && all; i++) {
			struct simnode *a = &net->nodes[i];
			char *body = NULL;

			if (a->role != SIMNODE_AUTHORITY || a->expect_down)
				continue;
			if (simnet_http_get(a->host, a->port, "/consensus", &body, 2000) != 200) {
				all = false;
			} else {
				for (size_t j = 0; j < net->n && all; j++) {
					const struct simnode *r = &net->nodes[j];
					char want[64];

					if (r->role == SIMNODE_AUTHORITY || r->expect_down)
						continue;
					snprintf(want, sizeof(want), " %s ", r->name);
					all = strstr(body, want) != NULL;
				}
			}
			free(body);
		}
		if (all)
			return 0;
		for (size_t i = 0; i < net->n; i++) {
			if (net->nodes[i].pid > 0 && !net->nodes[i].expect_down &&
			    !simnet_node_alive(&net->nodes[i])) {
				fprintf(stderr, "burrow-sim: %s exited during start-up; see %s\n",
					net->nodes[i].name, net->nodes[i].logfile);
				return ERR_CLOSED;
			}
		}
		sleep_ms(250);
	}
	return ERR_TIMEOUT;
}

void
simnet_read_fingerprints(struct simnet *net)
{
	for (size_t i = 0; i < net->n; i++) {
		struct simnode *n = &net->nodes[i];
		uint8_t seed[ID_SEED_LEN];
		struct id_keypair *kp;
		char *path;

		if (n->role == SIMNODE_AUTHORITY || n->fingerprint[0])
			continue;
		path = xasprintf("%s/keys/identity.key", n->datadir);
		if (keyfile_read(path, KEYFILE_ED25519_SEED, seed, sizeof(seed), NULL) == 0) {
			kp = id_keypair_from_seed(seed);
			memcpy(n->id_pk, kp->pk, ID_PK_LEN);
			key_fingerprint(n->fingerprint, kp->pk, ID_PK_LEN);
			id_keypair_free(kp);
		}
		sodium_memzero(seed, sizeof(seed));
		free(path);
	}
}

int
simnet_save(const struct simnet *net)
{
	json_t *root = json_object(), *nodes = json_array();
	char *path, *auths, *text;
	char hex[65];
	int r = 0;

	json_object_set_new(root, "dir", json_string(net->dir));
	json_object_set_new(root, "epoch_seconds", json_integer(net->epoch_seconds));
	json_object_set_new(root, "mean_delay_ms", json_integer(net->mean_delay_ms));
	json_object_set_new(root, "stopped", json_boolean(net->stopped));
	if (net->netns) {
		json_object_set_new(root, "bridge", json_string(net->bridge));
		json_object_set_new(root, "subnet", json_integer(net->subnet));
	}
	for (size_t i = 0; i < net->n; i++) {
		const struct simnode *n = &net->nodes[i];
		json_t *o = json_object();
		char *url;

		hex_encode(hex, n->id_pk, 32);
		json_object_set_new(o, "name", json_string(n->name));
		json_object_set_new(o, "role", json_string(role_names[n->role]));
		json_object_set_new(o, "pid", json_integer(n->pid));
		json_object_set_new(o, "host", json_string(n->host));
		json_object_set_new(o, "port", json_integer(n->port));
		if (n->role == SIMNODE_AUTHORITY) {
			url = xasprintf("http://%s:%u/consensus", n->host, n->port);
			json_object_set_new(o, "consensus_url", json_string(url));
		} else {
			url = xasprintf("http://%s:%u/metrics", n->host, n->metrics_port);
			json_object_set_new(o, "metrics_port", json_integer(n->metrics_port));
			json_object_set_new(o, "metrics_url", json_string(url));
		}
		free(url);
		json_object_set_new(o, "fingerprint", json_string(n->fingerprint));
		json_object_set_new(o, "identity", json_string(hex));
		json_object_set_new(o, "config", json_string(n->conf));
		json_object_set_new(o, "datadir", json_string(n->datadir));
		json_object_set_new(o, "log", json_string(n->logfile));
		json_object_set_new(o, "expect_down", json_boolean(n->expect_down));
		if (n->netns[0])
			json_object_set_new(o, "netns", json_string(n->netns));
		json_array_append_new(nodes, o);
	}
	json_object_set_new(root, "nodes", nodes);
	path = xasprintf("%s/network.json", net->dir);
	if (json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS) != 0)
		r = ERR_IO;
	json_decref(root);
	free(path);
	if (r < 0)
		return r;
	auths = authority_lines(net);
	text = xasprintf("# client configuration for the network in %s, written by burrow-sim\n"
			 "# use: burrow --home HOME --config %s/client.conf COMMAND\n"
			 "%sPathLength 3\nMeanHopDelayMs %u\n%s",
			 net->dir, net->dir, auths, net->mean_delay_ms,
			 net->netns ? "# every node shares the bridge's /16, so the rule that no two\n"
				      "# hops share a /16 would leave no path on this test network\n"
				      "EnforceDistinctSubnets 0\n" : "");
	path = xasprintf("%s/client.conf", net->dir);
	r = write_file(path, text, 0644);
	free(path);
	free(text);
	free(auths);
	return r;
}

static const char *
jstr(json_t *o, const char *k)
{
	const char *s = json_string_value(json_object_get(o, k));

	return s ? s : "";
}

int
simnet_load(struct simnet *net, const char *dir)
{
	char *path = xasprintf("%s/network.json", dir);
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr), *nodes;
	size_t i;
	json_t *o;

	memset(net, 0, sizeof(*net));
	if (!root) {
		int r = access(path, F_OK) == 0 ? ERR_MALFORMED : ERR_NOT_FOUND;

		fprintf(stderr, "burrow-sim: cannot read %s: %s\n", path, jerr.text);
		free(path);
		return r;
	}
	free(path);
	net->dir = xstrdup(dir);
	net->bindir = simnet_bindir();
	net->epoch_seconds = (unsigned)json_integer_value(json_object_get(root, "epoch_seconds"));
	net->mean_delay_ms = (unsigned)json_integer_value(json_object_get(root, "mean_delay_ms"));
	net->stopped = json_is_true(json_object_get(root, "stopped"));
	if (json_string_value(json_object_get(root, "bridge"))) {
		net->netns = true;
		snprintf(net->bridge, sizeof(net->bridge), "%s", jstr(root, "bridge"));
		net->subnet = (unsigned)json_integer_value(json_object_get(root, "subnet"));
	}
	nodes = json_object_get(root, "nodes");
	if (!json_is_array(nodes)) {
		json_decref(root);
		return ERR_MALFORMED;
	}
	json_array_foreach(nodes, i, o) {
		const char *role = jstr(o, "role");
		enum simnode_role rl = strcmp(role, "authority") == 0 ? SIMNODE_AUTHORITY :
				       strcmp(role, "mailbox") == 0 ? SIMNODE_MAILBOX : SIMNODE_RELAY;
		struct simnode *n = add_node(net, rl, "", 0);

		snprintf(n->name, sizeof(n->name), "%s", jstr(o, "name"));
		n->pid = (pid_t)json_integer_value(json_object_get(o, "pid"));
		snprintf(n->host, sizeof(n->host), "%s", jstr(o, "host"));
		n->port = (uint16_t)json_integer_value(json_object_get(o, "port"));
		n->metrics_port = (uint16_t)json_integer_value(json_object_get(o, "metrics_port"));
		snprintf(n->fingerprint, sizeof(n->fingerprint), "%s", jstr(o, "fingerprint"));
		if (hex_decode(n->id_pk, 32, jstr(o, "identity")) < 0)
			memset(n->id_pk, 0, 32);
		n->expect_down = json_is_true(json_object_get(o, "expect_down"));
		snprintf(n->netns, sizeof(n->netns), "%s", jstr(o, "netns"));
		free(n->conf);
		free(n->datadir);
		free(n->logfile);
		n->conf = xstrdup(jstr(o, "config"));
		n->datadir = xstrdup(jstr(o, "datadir"));
		n->logfile = xstrdup(jstr(o, "log"));
		if (rl == SIMNODE_AUTHORITY)
			net->nauth++;
		else if (rl == SIMNODE_MAILBOX)
			net->nmbox++;
		else
			net->nrelay++;
	}
	json_decref(root);
	return 0;
}

bool
simnet_node_alive(const struct simnode *n)
{
	char path[64], buf[512];
	ssize_t len;
	int fd, status;

	if (n->pid <= 0)
		return false;
	/* Reap it if it is our child and has exited. */
	if (waitpid(n->pid, &status, WNOHANG) == n->pid)
		return false;
	if (kill(n->pid, 0) < 0)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)n->pid);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return false;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return false;
	buf[len] = '\0';
	{
		char *rp = strrchr(buf, ')');

		if (!rp || rp[1] == '\0' || rp[2] == 'Z' || rp[2] == 'X')
			return false;
	}
	/* Guard against pid reuse: the command must be one of ours. */
	return strstr(buf, "(burrow-") != NULL;
}

void
simnet_stop_node(struct simnode *n, int sig, unsigned grace_ms)
{
	unsigned waited = 0;

	if (!simnet_node_alive(n))
		return;
	kill(n->pid, sig);
	while (waited < grace_ms && simnet_node_alive(n)) {
		sleep_ms(50);
		waited += 50;
	}
	if (simnet_node_alive(n)) {
		kill(n->pid, SIGKILL);
		for (waited = 0; waited < 2000 && simnet_node_alive(n); waited += 20)
			sleep_ms(20);
	}
}

int
simnet_stop(struct simnet *net)
{
	int died = 0;

	for (size_t i = 0; i < net->n; i++) {
		struct simnode *n = &net->nodes[i];

		if (n->pid <= 0)
			continue;
		if (!simnet_node_alive(n)) {
			if (!n->expect_down) {
				fprintf(stderr, "burrow-sim: %s (pid %d) had died unexpectedly; see %s\n",
					n->name, (int)n->pid, n->logfile);
				died++;
			}
			continue;
		}
	}
	/* Relays first so that they do not log authorities going away. */
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < net->n; i++)
			if ((net->nodes[i].role == SIMNODE_AUTHORITY) == (pass == 1))
				simnet_stop_node(&net->nodes[i], SIGTERM, 5000);
	if (net->netns)
		netns_teardown(net);
	return died;
}

int
simnet_run(char *const argv[], const char *in, size_t in_len, char **out, unsigned timeout_s)
{
	return simnet_run_in(NULL, argv, in, in_len, out, timeout_s);
}

int
simnet_run_in(const char *ns, char *const argv[], const char *in, size_t in_len, char **out,
	      unsigned timeout_s)
{
	int pin[2] = { -1, -1 }, pout[2] = { -1, -1 }, perr[2] = { -1, -1 };
	uint64_t deadline = mono_ns() + (uint64_t)timeout_s * 1000000000u;
	size_t len = 0, cap = 4096, off = 0, elen = 0;
	char *buf = NULL, ebuf[4096];
	int status = -1;
	pid_t pid;

	if (out)
		*out = NULL;
	if (pipe2(pin, O_CLOEXEC) < 0 || pipe2(pout, O_CLOEXEC) < 0 || pipe2(perr, O_CLOEXEC) < 0)
		goto fail;
	pid = fork();
	if (pid < 0)
		goto fail;
	if (pid == 0) {
		if (ns && netns_enter(ns) < 0) {
			fprintf(stderr, "burrow-sim: cannot enter namespace %s\n", ns);
			_exit(126);
		}
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		dup2(perr[1], 2);
		execv(argv[0], argv);
		fprintf(stderr, "burrow-sim: cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	close(perr[1]);
	pin[0] = pout[1] = perr[1] = -1;
	fcntl(perr[0], F_SETFL, O_NONBLOCK);
	if (!in || in_len == 0) {
		close(pin[1]);
		pin[1] = -1;
	} else {
		fcntl(pin[1], F_SETFL, O_NONBLOCK);
	}
	buf = xmalloc(cap);
	for (;;) {
		struct pollfd p[3] = { { pout[0], POLLIN, 0 }, { perr[0], POLLIN, 0 },
				       { pin[1], POLLOUT, 0 } };
		uint64_t now = mono_ns();
		int np = pin[1] >= 0 ? 3 : 2;

		if (now >= deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, NULL, 0);
			fprintf(stderr, "burrow-sim: %s timed out after %us\n", argv[0], timeout_s);
			status = -1;
			goto done;
		}
		if (poll(p, (nfds_t)np, 200) < 0 && errno != EINTR)
			break;
		if (p[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			char junk[512];
			ssize_t rd = read(perr[0], elen < sizeof(ebuf) - 1 ? ebuf + elen : junk,
					  elen < sizeof(ebuf) - 1 ? sizeof(ebuf) - 1 - elen : sizeof(junk));

			if (rd > 0 && elen < sizeof(ebuf) - 1)
				elen += (size_t)rd;
		}
		if (np == 3 && (p[2].revents & (POLLOUT | POLLERR | POLLHUP))) {
			ssize_t w = write(pin[1], in + off, in_len - off);

			if (w > 0)
				off += (size_t)w;
			if ((w < 0 && errno != EAGAIN) || off == in_len) {
				close(pin[1]);
				pin[1] = -1;
			}
		}
		if (p[0].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t rd;

			if (len + 4096 > cap)
				buf = xrealloc(buf, cap *= 2);
			rd = read(pout[0], buf + len, cap - len - 1);
			if (rd == 0)
				break;
			if (rd > 0)
				len += (size_t)rd;
		}
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
	/* Keep quiet on success; on failure show what the program said. */
	for (ssize_t rd; elen < sizeof(ebuf) - 1 &&
	     (rd = read(perr[0], ebuf + elen, sizeof(ebuf) - 1 - elen)) > 0;)
		elen += (size_t)rd;
	if (status != 0 && elen) {
		ebuf[elen] = '\0';
		fprintf(stderr, "%s", ebuf);
	}
done:
	buf[len] = '\0';
	if (out)
		*out = buf;
	else
		free(buf);
	buf = NULL;
fail:
	free(buf);
	for (int i = 0; i < 2; i++) {
		if (pin[i] >= 0)
			close(pin[i]);
		if (pout[i] >= 0)
			close(pout[i]);
		if (perr[i] >= 0)
			close(perr[i]);
	}
	return status;
}

void
simnet_clear(struct simnet *net)
{
	for (size_t i = 0; i < net->n; i++) {
		free(net->nodes[i].conf);
		free(net->nodes[i].datadir);
		free(net->nodes[i].logfile);
	}
	free(net->nodes);
	free(net->dir);
	free(net->bindir);
	memset(net, 0, sizeof(*net));
}
