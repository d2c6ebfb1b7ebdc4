/* burrow-sim run SCENARIO --out DIR: bring up a network, drive a load of
 * real `burrow send` processes through it while applying timed faults,
 * let recipients fetch, then write the report. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "common/util.h"
#include "sim/report.h"
#include "sim/scenario.h"
#include "sim/simnet.h"

#define MAX_INFLIGHT 24

struct child {
	pid_t pid;
	int fd;
	char *buf;
	size_t len, cap;
	int kind;		/* 0 send, 1 fetch */
	size_t idx;
};

struct party {
	char *home, *pass, *addr;
	unsigned mbox;
	char ns[32];		/* netns mode: the party's own namespace */
	char ip[64];		/* ... and its address there */
};

struct run {
	struct scenario *sc;
	struct simnet net;
	const char *out;
	struct party *senders, *recips;
	unsigned nrecips;
	struct simmsg *msgs;
	char **bodies_tag;
	struct child kids[MAX_INFLIGHT + 8];
	size_t nkids;
	uint64_t t0;
	uint64_t rng;
	bool *fetching;
	char **sources;		/* netns mode: peers connected to mailbox nodes */
	size_t nsources;
	char **deposits;	/* netns mode: deposit sources logged by mailbox nodes */
	size_t ndeposits;
};

static double
now_s(const struct run *r)
{
	return (double)(mono_ns() - r->t0) / 1e9;
}

/* A small deterministic generator so a scenario's load is repeatable. */
static double
uniform01(struct run *r)
{
	r->rng ^= r->rng << 13;
	r->rng ^= r->rng >> 7;
	r->rng ^= r->rng << 17;
	return ((double)(r->rng >> 11) + 0.5) / 9007199254740992.0;
}

static char **
client_argv(const struct run *r, const struct party *p, const char *a1, const char *a2,
	    const char *a3, const char *a4, const char *a5, const char *a6)
{
	char **argv = xcalloc(16, sizeof(char *));
	size_t n = 0;
	const char *rest[] = { a1, a2, a3, a4, a5, a6 };

	argv[n++] = xasprintf("%s/burrow", r->net.bindir);
	argv[n++] = xstrdup("--home");
	argv[n++] = xstrdup(p->home);
	argv[n++] = xstrdup("--config");
	argv[n++] = xasprintf("%s/client.conf", r->net.dir);
	for (size_t i = 0; i < ARRAY_LEN(rest) && rest[i]; i++)
		argv[n++] = xstrdup(rest[i]);
	return argv;
}

static void
argv_free(char **argv)
{
	for (size_t i = 0; argv[i]; i++)
		free(argv[i]);
	free(argv);
}

/* Start argv with body on stdin (written whole before polling: bodies are
 * bounded by the scenario) and stdout captured. */
static int
spawn(struct run *r, const char *ns, char **argv, const char *body, size_t blen, int kind,
      size_t idx)
{
	int pin[2], pout[2];
	struct child *c;
	pid_t pid;

	if (pipe2(pin, O_CLOEXEC) < 0)
		return ERR_IO;
	if (pipe2(pout, O_CLOEXEC) < 0) {
		close(pin[0]);
		close(pin[1]);
		return ERR_IO;
	}
	pid = fork();
	if (pid == 0) {
		int dn = open("/dev/null", O_WRONLY);

		if (ns && ns[0] && netns_enter(ns) < 0)
			_exit(126);
		dup2(pin[0], 0);
		dup2(pout[1], 1);
		if (dn >= 0)
			dup2(dn, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	if (pid < 0) {
		close(pin[1]);
		close(pout[0]);
		return ERR_IO;
	}
	/* The child reads stdin to the end before it does anything slow. */
	for (size_t off = 0; body && off < blen;) {
		ssize_t w = write(pin[1], body + off, blen - off);

		if (w <= 0 && errno != EINTR)
			break;
		if (w > 0)
			off += (size_t)w;
	}
	close(pin[1]);
	c = &r->kids[r->nkids++];
	memset(c, 0, sizeof(*c));
	c->pid = pid;
	c->fd = pout[0];
	c->kind = kind;
	c->idx = idx;
	c->cap = 4096;
	c->buf = xmalloc(c->cap);
	fcntl(c->fd, F_SETFL, O_NONBLOCK);
	return 0;
}

/* The body: its tag line, then filler up to the planned size. */
static void
message_body(struct run *r, size_t k, char **body, size_t *len)
{
	const char *tag = r->bodies_tag[k];
	size_t tl = strlen(tag) + 1, n = MAX(r->msgs[k].size, tl);
	char *b = xmalloc(n + 1);

	memcpy(b, tag, tl - 1);
	b[tl - 1] = '\n';
	for (size_t i = tl; i < n; i++)
		b[i] = (char)('a' + (i % 26));
	b[n] = '\0';
	*body = b;
	*len = n;
}

static void
on_send_done(struct run *r, struct child *c, int status)
{
	struct simmsg *m = &r->msgs[c->idx];
	json_t *j;

	c->buf[c->len] = '\0';
	j = json_loads(c->buf, 0, NULL);
	if (j) {
		json_t *paths = json_object_get(j, "paths");
		json_t *first = json_is_array(paths) ? json_array_get(paths, 0) : NULL;
		size_t i;
		json_t *hop;

		m->retransmissions = (unsigned)json_integer_value(json_object_get(j, "retransmissions"));
		if (json_is_array(first)) {
			m->path[0] = '\0';
			json_array_foreach(first, i, hop) {
				size_t l = strlen(m->path);

				snprintf(m->path + l, sizeof(m->path) - l, "%s%s", i ? ">" : "",
					 json_string_value(hop) ? json_string_value(hop) : "?");
			}
		}
		if (json_string_value(json_object_get(j, "error")))
			snprintf(m->error, sizeof(m->error), "%s",
				 json_string_value(json_object_get(j, "error")));
		json_decref(j);
	}
	if (status == 0) {
		m->ack_t = now_s(r);
	} else {
		m->outcome = MSG_FAILED;
		if (!m->error[0])
			snprintf(m->error, sizeof(m->error), "send exited with status %d", status);
	}
}

/* Match the recipient's exported inbox against the tags we sent. */
static void
on_fetch_done(struct run *r, struct child *c)
{
	json_t *j, *msgs, *e;
	size_t i;

	r->fetching[c->idx] = false;
	c->buf[c->len] = '\0';
	j = json_loads(c->buf, 0, NULL);
	if (!j)
		return;
	msgs = json_is_array(j) ? j : json_object_get(j, "messages");
	for (size_t k = 0; k < r->sc->messages; k++)
		if (r->msgs[k].recipient == c->idx)
			r->msgs[k].copies_seen = 0;
	json_array_foreach(msgs, i, e) {
		const char *text = json_string_value(json_object_get(e, "text"));

		if (!text)
			text = json_string_value(json_object_get(e, "body"));
		if (!text || strncmp(text, "simmsg-", 7) != 0)
			continue;
		for (size_t k = 0; k < r->sc->messages; k++) {
			struct simmsg *m = &r->msgs[k];
			size_t tl = strlen(r->bodies_tag[k]);

			if (m->recipient != c->idx || strncmp(text, r->bodies_tag[k], tl) != 0 ||
			    text[tl] != '\n')
				continue;
			m->copies_seen++;
			if (m->fetch_t < 0)
				m->fetch_t = now_s(r);
		}
	}
	json_decref(j);
}

static void
reap(struct run *r, int timeout_ms)
{
	struct pollfd p[MAX_INFLIGHT + 8];

	for (size_t i = 0; i < r->nkids; i++)
		p[i] = (struct pollfd){ r->kids[i].fd, POLLIN, 0 };
	if (r->nkids)
		poll(p, (nfds_t)r->nkids, timeout_ms);
	else
		usleep((useconds_t)timeout_ms * 1000);
	for (size_t i = 0; i < r->nkids;) {
		struct child *c = &r->kids[i];
		int status;
		ssize_t rd;

		for (;;) {
			if (c->len + 4096 > c->cap)
				c->buf = xrealloc(c->buf, c->cap *= 2);
			rd = read(c->fd, c->buf + c->len, c->cap - c->len - 1);
			if (rd <= 0)
				break;
			c->len += (size_t)rd;
		}
		if (rd == 0 && waitpid(c->pid, &status, 0) == c->pid) {
			status = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
			if (c->kind == 0)
				on_send_done(r, c, status);
			else
				on_fetch_done(r, c);
			close(c->fd);
			free(c->buf);
			r->kids[i] = r->kids[--r->nkids];
			continue;
		}
		i++;
	}
}

static struct simnode *
find_node(struct run *r, const char *name)
{
	for (size_t i = 0; i < r->net.n; i++)
		if (strcmp(r->net.nodes[i].name, name) == 0)
			return &r->net.nodes[i];
	return NULL;
}

static void
apply_event(struct run *r, const struct scen_event *ev)
{
	struct simnode *n = find_node(r, ev->node);

	if (!n)
		return;
	static const char *const names[] = { "kill", "stop", "restart", "netem", "cut", "heal",
					     "shape" };

	fprintf(stderr, "burrow-sim: t=%.1fs %s %s\n", now_s(r), names[ev->action], n->name);
	switch (ev->action) {
	case SCEN_KILL:
		n->expect_down = true;
		simnet_stop_node(n, SIGKILL, 0);
		break;
	case SCEN_STOP:
		n->expect_down = true;
		simnet_stop_node(n, SIGTERM, 5000);
		break;
	case SCEN_RESTART:
		if (!simnet_node_alive(n) && simnet_start_node(&r->net, n) < 0)
			fprintf(stderr, "burrow-sim: cannot restart %s\n", n->name);
		break;
	case SCEN_NETEM:
		if (netns_fault(&r->net, n->netns, n->host, ev->delay_ms, ev->jitter_ms,
				ev->loss_pct) < 0)
			fprintf(stderr, "burrow-sim: netem on %s failed\n", n->name);
		break;
	case SCEN_SHAPE:
		if (netns_shape(n->netns, ev->rate_kbit) < 0)
			fprintf(stderr, "burrow-sim: cannot shape %s\n", n->name);
		break;
	case SCEN_CUT:
	case SCEN_HEAL:
		if (netns_cut(n->netns, ev->action == SCEN_CUT) < 0)
			fprintf(stderr, "burrow-sim: cannot %s %s\n", names[ev->action], n->name);
		break;
	}
}

/* netns mode: note who the mailbox nodes are talking to right now. */
static void
watch_sources(struct run *r)
{
	for (size_t i = 0; i < r->net.n; i++) {
		const struct simnode *n = &r->net.nodes[i];

		if (n->role == SIMNODE_MAILBOX && n->netns[0])
			netns_peers(n->netns, n->port, &r->sources, &r->nsources);
	}
}

static int
make_party(struct run *r, struct party *p, const char *name, unsigned mbox)
{
	char *out = NULL, mb[16];
	FILE *f;
	int st;

	p->home = xasprintf("%s/clients/%s", r->out, name);
	p->pass = xasprintf("%s/clients/%s.pass", r->out, name);
	p->mbox = mbox;
	if (r->net.netns && netns_add_host(&r->net, name, p->ns, p->ip) < 0)
		return ERR_IO;
	f = fopen(p->pass, "w");
	if (!f)
		return ERR_IO;
	fchmod(fileno(f), 0600);
	fprintf(f, "sim passphrase for %s\n", name);
	fclose(f);
	snprintf(mb, sizeof(mb), "mbox%u", mbox);
	{
		char **argv = client_argv(r, p, "init", "--passphrase-file", p->pass, "--mailbox",
					  mb, NULL);

		st = simnet_run_in(p->ns[0] ? p->ns : NULL, argv, NULL, 0, &out, 120);
		argv_free(argv);
	}
	free(out);
	out = NULL;
	if (st != 0) {
		fprintf(stderr, "burrow-sim: cannot create identity %s\n", name);
		return ERR_IO;
	}
	{
		char **argv = client_argv(r, p, "address", NULL, NULL, NULL, NULL, NULL);

		st = simnet_run_in(p->ns[0] ? p->ns : NULL, argv, NULL, 0, &out, 30);
		argv_free(argv);
	}
	if (st != 0 || !out) {
		free(out);
		return ERR_IO;
	}
	out[strcspn(out, "\r\n")] = '\0';
	p->addr = out;
	return 0;
}

static void
plan_load(struct run *r)
{
	const struct scenario *sc = r->sc;
	double t = 0;

	r->msgs = xcalloc(sc->messages, sizeof(*r->msgs));
	r->bodies_tag = xcalloc(sc->messages, sizeof(char *));
	for (size_t k = 0; k < sc->messages; k++) {
		struct simmsg *m = &r->msgs[k];
		uint8_t nonce[8];

		t += -log(uniform01(r)) / sc->rate;
		m->send_t = t;
		m->ack_t = m->fetch_t = -1;
		m->sender = (unsigned)(k % sc->senders);
		m->recipient = (unsigned)(k % r->nrecips);
		switch (sc->size_dist) {
		case SIZE_CONST: m->size = sc->size_a; break;
		case SIZE_UNIFORM:
			m->size = sc->size_a + (size_t)(uniform01(r) * (sc->size_b - sc->size_a + 1));
			break;
		case SIZE_EXP:
			m->size = MIN((size_t)(-log(uniform01(r)) * sc->size_a) + 1, sc->size_b);
			break;
		}
		randombytes_buf(nonce, sizeof(nonce));
		r->bodies_tag[k] = xasprintf("simmsg-%zu-%02x%02x%02x%02x%02x%02x%02x%02x", k,
					     nonce[0], nonce[1], nonce[2], nonce[3], nonce[4],
					     nonce[5], nonce[6], nonce[7]);
	}
}

static bool
finished(struct run *r, double last_done)
{
	for (size_t k = 0; k < r->sc->messages; k++) {
		const struct simmsg *m = &r->msgs[k];

		if (m->outcome == MSG_FAILED)
			continue;
		if (m->ack_t < 0 || m->fetch_t < 0)
			return last_done >= 0 && now_s(r) - last_done > r->sc->settle_s;
	}
	return true;
}

static int
drive(struct run *r)
{
	const struct scenario *sc = r->sc;
	size_t next = 0, next_ev = 0;
	double last_fetch = -10, last_done = -1;

	r->t0 = mono_ns();
	while (now_s(r) < sc->timeout_s) {
		double t = now_s(r);

		while (next_ev < sc->nevents && sc->events[next_ev].at <= t)
			apply_event(r, &sc->events[next_ev++]);
		while (next < sc->messages && r->msgs[next].send_t <= t && r->nkids < MAX_INFLIGHT) {
			struct simmsg *m = &r->msgs[next];
			char *body;
			size_t blen;
			char **argv = client_argv(r, &r->senders[m->sender], "--json", "send",
						  r->recips[m->recipient].addr, "--wait",
						  "--passphrase-file", r->senders[m->sender].pass);

			message_body(r, next, &body, &blen);
			m->send_t = t;
			if (spawn(r, r->senders[m->sender].ns, argv, body, blen, 0, next) < 0) {
				m->outcome = MSG_FAILED;
				snprintf(m->error, sizeof(m->error), "cannot start burrow send");
			}
			free(body);
			argv_free(argv);
			next++;
		}
		if (t - last_fetch >= 1.0) {
			last_fetch = t;
			if (r->net.netns)
				watch_sources(r);
			for (unsigned i = 0; i < r->nrecips; i++) {
				char **argv;

				if (r->fetching[i] || r->nkids >= MAX_INFLIGHT + 4)
					continue;
				argv = client_argv(r, &r->recips[i], "--json", "fetch", "--export",
						   "--passphrase-file", r->recips[i].pass, NULL);
				if (spawn(r, r->recips[i].ns, argv, NULL, 0, 1, i) == 0)
					r->fetching[i] = true;
				argv_free(argv);
			}
		}
		reap(r, 100);
		if (next == sc->messages && last_done < 0) {
			bool sending = false;

			for (size_t i = 0; i < r->nkids; i++)
				sending |= r->kids[i].kind == 0;
			if (!sending)
				last_done = now_s(r);
		}
		if (next == sc->messages && finished(r, last_done))
			break;
	}
	while (next_ev < sc->nevents)
		apply_event(r, &sc->events[next_ev++]);
	while (r->nkids) {
		for (size_t i = 0; i < r->nkids; i++)
			kill(r->kids[i].pid, SIGKILL);
		reap(r, 100);
	}
	for (size_t k = 0; k < sc->messages; k++) {
		struct simmsg *m = &r->msgs[k];

		if (m->outcome == MSG_FAILED)
			continue;
		if (m->fetch_t >= 0)
			m->outcome = MSG_DELIVERED;
		else if (m->ack_t >= 0)
			m->outcome = MSG_ACKED_NOT_FETCHED;
		else
			m->outcome = k < next ? MSG_LOST : MSG_PENDING;
	}
	return 0;
}

/* netns mode: the addresses each mailbox node logged as the previous hop
 * of a deposit ("deposits arrive from peer A.B.C.D", LogDepositPeers 1). */
static void
deposit_sources(struct run *r)
{
	static const char marker[] = "deposits arrive from peer ";

	for (size_t i = 0; i < r->net.n; i++) {
		const struct simnode *n = &r->net.nodes[i];
		char line[1024];
		FILE *f;

		if (n->role != SIMNODE_MAILBOX || !(f = fopen(n->logfile, "r")))
			continue;
		while (fgets(line, sizeof(line), f)) {
			char *p = strstr(line, marker), addr[64];
			bool dup = false;

			if (!p || sscanf(p + sizeof(marker) - 1, "%63[0-9.]", addr) != 1)
				continue;
			for (size_t j = 0; j < r->ndeposits && !dup; j++)
				dup = strcmp(r->deposits[j], addr) == 0;
			if (dup)
				continue;
			r->deposits = xrealloc(r->deposits, (r->ndeposits + 1) * sizeof(char *));
			r->deposits[r->ndeposits++] = xstrdup(addr);
		}
		fclose(f);
	}
}

static int
usage(FILE *f)
{
	fprintf(f, "usage: burrow-sim run SCENARIO --out DIR\n"
		   "Run a scenario (see sim/scenarios/ and docs/simulation.md) against a fresh\n"
		   "local network of real daemons and write messages.csv, summary.json and\n"
		   "latency plots into DIR. Exits 1 if a node died unexpectedly, an expect\n"
		   "line or a require line failed.\n");
	return f == stdout ? 0 : 2;
}

int
sim_run_cmd(int argc, char **argv)
{
	const char *path = NULL, *out = NULL;
	struct run r;
	struct nodestat *stats;
	double delivery = 0, wall;
	int rc = 0, died;
	char *netdir;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			out = argv[++i];
		else if (strcmp(argv[i], "--help") == 0)
			return usage(stdout);
		else if (argv[i][0] != '-' && !path)
			path = argv[i];
		else
			return usage(stderr);
	}
	if (!path || !out)
		return usage(stderr);
	memset(&r, 0, sizeof(r));
	r.sc = scenario_load(path);
	if (r.sc->nerrors) {
		fputs(r.sc->errors, stderr);
		scenario_free(r.sc);
		return 2;
	}
	r.out = out;
	r.rng = 0x9e3779b97f4a7c15ull;
	if (mkdir(out, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "burrow-sim: cannot create %s: %s\n", out, strerror(errno));
		scenario_free(r.sc);
		return 1;
	}
	netdir = xasprintf("%s/net", out);
	if (simnet_plan(&r.net, netdir, r.sc->authorities, r.sc->relays, r.sc->mailboxes,
			r.sc->epoch, r.sc->netns) < 0)
		goto fail;
	r.net.mean_delay_ms = r.sc->mean_delay_ms;
	if (r.sc->needs_netem && !netns_has_netem(&r.net))
		fprintf(stderr, "burrow-sim: %s: no tc netem here (module sch_netem, or "
			"BURROW_SIM_NETEM=userspace); netem lines use the userspace forwarder, "
			"egress only like tc netem (docs/sim-network.md)\n", path);
	if (simnet_start(&r.net) < 0 || simnet_save(&r.net) < 0 ||
	    simnet_wait_consensus(&r.net, 30 + 4 * r.sc->epoch) < 0) {
		fprintf(stderr, "burrow-sim: the network did not come up; logs under %s\n", netdir);
		goto fail_stop;
	}
	simnet_read_fingerprints(&r.net);
	if (simnet_save(&r.net) < 0)
		goto fail_stop;
	{
		char *cl = xasprintf("%s/clients", out);

		mkdir(cl, 0700);
		free(cl);
	}
	r.nrecips = r.sc->mailboxes;
	r.senders = xcalloc(r.sc->senders, sizeof(*r.senders));
	r.recips = xcalloc(r.nrecips, sizeof(*r.recips));
	r.fetching = xcalloc(r.nrecips, sizeof(bool));
	for (unsigned i = 0; i < r.sc->senders; i++) {
		char name[32];

		snprintf(name, sizeof(name), "s%u", i);
		if (make_party(&r, &r.senders[i], name, 1 + i % r.sc->mailboxes) < 0)
			goto fail_stop;
	}
	for (unsigned i = 0; i < r.nrecips; i++) {
		char name[32];

		snprintf(name, sizeof(name), "r%u", i);
		if (make_party(&r, &r.recips[i], name, 1 + i) < 0)
			goto fail_stop;
	}
	plan_load(&r);
	fprintf(stderr, "burrow-sim: running %u messages from %u senders\n", r.sc->messages,
		r.sc->senders);
	drive(&r);
	wall = now_s(&r);
	stats = xcalloc(r.net.n, sizeof(*stats));
	for (size_t i = 0; i < r.net.n; i++)
		report_sample_node(&r.net, &r.net.nodes[i], &stats[i]);
	for (size_t i = 0; i < r.sc->nexpects; i++) {
		const struct scen_expect *ex = &r.sc->expects[i];
		struct simnode *n = find_node(&r, ex->node);

		if (n && simnet_node_alive(n) != ex->up) {
			fprintf(stderr, "burrow-sim: %s:%u: expected %s %s, it is %s\n", path,
				ex->line, ex->node, ex->up ? "up" : "down", ex->up ? "down" : "up");
			rc = 1;
		}
		if (n && !ex->up)
			n->expect_down = true;
	}
	died = simnet_stop(&r.net);
	if (died)
		rc = 1;
	{
		struct netns_obs obs = { 0 };
		char **sender_ips = xcalloc(r.sc->senders + 1, sizeof(char *));
		bool leak = false;

		for (unsigned i = 0; i < r.sc->senders; i++)
			sender_ips[i] = r.senders[i].ip;
		if (r.net.netns) {
			deposit_sources(&r);
			obs = (struct netns_obs){ r.deposits, r.ndeposits, r.sources, r.nsources,
						  sender_ips, r.sc->senders };
		}
		if (report_write(out, r.msgs, r.sc->messages, stats, r.net.n, path, wall,
				 r.net.netns ? &obs : NULL, &delivery, &leak) < 0)
			rc = 1;
		if (r.net.netns && delivery > 0 && r.ndeposits == 0) {
			fprintf(stderr, "burrow-sim: messages were delivered but no mailbox node "
				"logged a deposit source; cannot check that no sender deposited "
				"directly\n");
			rc = 1;
		}
		if (leak) {
			fprintf(stderr, "burrow-sim: a mailbox node received a deposit straight "
				"from a sender's address: see summary.json\n");
			rc = 1;
		}
		free(sender_ips);
	}
	printf("%s: %u messages, delivery %.3f; report in %s/summary.json\n", path,
	       r.sc->messages, delivery, out);
	if (r.sc->require_all_delivered && delivery < 1.0) {
		fprintf(stderr, "burrow-sim: require all-delivered failed: %.3f delivered\n",
			delivery);
		rc = 1;
	}
	if (r.sc->require_exactly_once) {
		for (size_t k = 0; k < r.sc->messages; k++) {
			if (r.msgs[k].copies_seen != 1) {
				fprintf(stderr, "burrow-sim: require exactly-once failed: message %zu "
					"seen %u times\n", k, r.msgs[k].copies_seen);
				rc = 1;
				break;
			}
		}
	}
	for (size_t i = 0; i < r.net.n; i++)
		free(stats[i].metrics);
	free(stats);
	goto out;
fail_stop:
	simnet_stop(&r.net);
fail:
	rc = 1;
out:
	for (unsigned i = 0; r.senders && i < r.sc->senders; i++) {
		free(r.senders[i].home);
		free(r.senders[i].pass);
		free(r.senders[i].addr);
	}
	for (unsigned i = 0; r.recips && i < r.nrecips; i++) {
		free(r.recips[i].home);
		free(r.recips[i].pass);
		free(r.recips[i].addr);
	}
	for (size_t k = 0; r.bodies_tag && k < r.sc->messages; k++)
		free(r.bodies_tag[k]);
	free(r.bodies_tag);
	free(r.senders);
	free(r.recips);
	free(r.fetching);
	free(r.msgs);
	for (size_t i = 0; i < r.nsources; i++)
		free(r.sources[i]);
	free(r.sources);
	for (size_t i = 0; i < r.ndeposits; i++)
		free(r.deposits[i]);
	free(r.deposits);
	simnet_clear(&r.net);
	scenario_free(r.sc);
	free(netdir);
	return rc;
}
