/* burrow-sim up, down and demo: a local network of real daemons. */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "common/encode.h"
#include "common/util.h"
#include "sim/simnet.h"

/* Run `burrow --home HOME --config DIR/client.conf ARGS...`; returns the
 * exit status (or -1) and the output in *out. */
static int
client(const struct simnet *net, const char *home, const char *in, char **out, unsigned timeout_s,
       const char *a1, const char *a2, const char *a3, const char *a4, const char *a5)
{
	char *prog = xasprintf("%s/burrow", net->bindir);
	char *conf = xasprintf("%s/client.conf", net->dir);
	char *argv[] = { prog, "--home", (char *)home, "--config", conf, (char *)a1, (char *)a2,
			 (char *)a3, (char *)a4, (char *)a5, NULL };
	int r = simnet_run_in(net->probe_ns[0] ? net->probe_ns : NULL, argv, in,
			      in ? strlen(in) : 0, out, timeout_s);

	free(prog);
	free(conf);
	return r;
}

static void
trim(char *s)
{
	size_t n = strlen(s);

	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' '))
		s[--n] = '\0';
}

/* Create an identity in home with its passphrase in passfile; return its
 * address (caller frees) or NULL. */
static char *
make_identity(const struct simnet *net, const char *home, const char *passfile, const char *pass)
{
	char *out = NULL, *addr = NULL;
	FILE *f;
	int r;

	f = fopen(passfile, "w");
	if (!f)
		return NULL;
	fchmod(fileno(f), 0600);
	fprintf(f, "%s\n", pass);
	fclose(f);
	r = client(net, home, NULL, &out, 60, "init", "--passphrase-file", passfile, NULL, NULL);
	free(out);
	out = NULL;
	if (r != 0) {
		fprintf(stderr, "burrow-sim: burrow init failed for %s (exit %d)\n", home, r);
		return NULL;
	}
	r = client(net, home, NULL, &out, 30, "address", NULL, NULL, NULL, NULL);
	if (r == 0 && out) {
		trim(out);
		addr = xstrdup(out);
	}
	free(out);
	return addr;
}

/* Fetch into home and return the text of the newest message containing
 * needle (caller frees), or NULL. */
static char *
fetch_message(const struct simnet *net, const char *home, const char *passfile, const char *needle,
	      unsigned timeout_s)
{
	uint64_t deadline = mono_ns() + (uint64_t)timeout_s * 1000000000u;

	while (mono_ns() < deadline) {
		char *out = NULL;
		json_t *root, *msgs, *m;
		size_t i;

		client(net, home, NULL, &out, 60, "fetch", "--passphrase-file", passfile, NULL, NULL);
		free(out);
		out = NULL;
		if (client(net, home, NULL, &out, 30, "--json", "inbox", NULL, NULL, NULL) == 0 &&
		    (root = json_loads(out, 0, NULL))) {
			msgs = json_is_array(root) ? root : json_object_get(root, "messages");
			json_array_foreach(msgs, i, m) {
				const char *id = json_string_value(json_object_get(m, "id"));
				char *text = NULL;

				if (!id)
					continue;
				if (client(net, home, NULL, &text, 30, "read", (char *)id,
					   "--passphrase-file", passfile, NULL) == 0 &&
				    text && strstr(text, needle)) {
					json_decref(root);
					free(out);
					return text;
				}
				free(text);
			}
			json_decref(root);
		}
		free(out);
		sleep(1);
	}
	return NULL;
}

int
simnet_probe(struct simnet *net, unsigned timeout_s)
{
	char *home = xasprintf("%s/probe", net->dir);
	char *pass = xasprintf("%s/probe.pass", net->dir);
	char *addr = NULL, *out = NULL, *got = NULL, nonce[33], msg[96];
	uint8_t rnd[16];
	int r = ERR_IO;

	if (net->netns && !net->probe_ns[0]) {
		char ip[64];

		if (netns_add_host(net, "probe", net->probe_ns, ip) < 0)
			goto out;
	}
	addr = make_identity(net, home, pass, "burrow-sim probe passphrase");
	if (!addr)
		goto out;
	randombytes_buf(rnd, sizeof(rnd));
	hex_encode(nonce, rnd, sizeof(rnd));
	snprintf(msg, sizeof(msg), "burrow-sim probe %s\n", nonce);
	if (client(net, home, msg, &out, timeout_s, "send", addr, "--wait", "--passphrase-file",
		   pass) != 0) {
		fprintf(stderr, "burrow-sim: probe send was not acknowledged\n");
		goto out;
	}
	got = fetch_message(net, home, pass, nonce, timeout_s);
	r = got ? 0 : ERR_NOT_FOUND;
	if (!got)
		fprintf(stderr, "burrow-sim: probe message did not arrive\n");
out:
	free(got);
	free(out);
	free(addr);
	free(home);
	free(pass);
	return r;
}

static void
up_usage(FILE *f)
{
	fprintf(f,
		"usage: burrow-sim up --dir DIR [--authorities N] [--relays N] [--mailboxes N]\n"
		"                     [--epoch SECONDS] [--delay MS] [--no-probe] [--netns]\n"
		"Start a local network of real burrow-dir and burrow-relay processes on loopback\n"
		"and return once a real drop through it has been fetched back. Leaves\n"
		"DIR/network.json and DIR/client.conf; stop it with `burrow-sim down --dir DIR`.\n"
		"  --authorities N  directory authorities (default 3)\n"
		"  --relays N       mix relays (default 5, at least 3)\n"
		"  --mailboxes N    mailbox nodes (default 1)\n"
		"  --epoch SECONDS  epoch length (default 8)\n"
		"  --delay MS       mean per-hop mixing delay in client.conf (default 0)\n"
		"  --no-probe       return when the consensus lists every node\n"
		"  --netns          (root) each node in its own network namespace on a private\n"
		"                   bridge; the probe client gets one too; `down` removes them\n");
}

struct up_opts {
	const char *dir;
	unsigned nauth, nrelay, nmbox, epoch, delay;
	bool probe;
	bool netns;
};

static int
parse_count(const char *opt, const char *s, unsigned min, unsigned max, unsigned *out)
{
	uint64_t v;

	if (parse_u64(s, min, max, &v) < 0) {
		fprintf(stderr, "burrow-sim: %s: expected a number from %u to %u, got '%s'\n", opt,
			min, max, s);
		return ERR_USAGE;
	}
	*out = (unsigned)v;
	return 0;
}

static int
up_parse(int argc, char **argv, struct up_opts *o)
{
	static const struct option longopts[] = {
		{ "dir", required_argument, NULL, 'd' },
		{ "authorities", required_argument, NULL, 'a' },
		{ "relays", required_argument, NULL, 'r' },
		{ "mailboxes", required_argument, NULL, 'm' },
		{ "epoch", required_argument, NULL, 'e' },
		{ "delay", required_argument, NULL, 'D' },
		{ "no-probe", no_argument, NULL, 'n' },
		{ "netns", no_argument, NULL, 'N' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct up_opts){ NULL, 3, 5, 1, 8, 0, true, false };
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		int r = 0;

		switch (c) {
		case 'd': o->dir = optarg; break;
		case 'a': r = parse_count("--authorities", optarg, 1, 9, &o->nauth); break;
		case 'r': r = parse_count("--relays", optarg, 3, 200, &o->nrelay); break;
		case 'm': r = parse_count("--mailboxes", optarg, 1, 50, &o->nmbox); break;
		case 'e': r = parse_count("--epoch", optarg, 4, 86400, &o->epoch); break;
		case 'D': r = parse_count("--delay", optarg, 0, 60000, &o->delay); break;
		case 'n': o->probe = false; break;
		case 'N': o->netns = true; break;
		case 'h': up_usage(stdout); exit(0);
		default: up_usage(stderr); return ERR_USAGE;
		}
		if (r < 0)
			return r;
	}
	if (optind != argc) {
		fprintf(stderr, "burrow-sim: unexpected argument '%s'\n", argv[optind]);
		return ERR_USAGE;
	}
	if (!o->dir) {
		fprintf(stderr, "burrow-sim: up needs --dir DIR\n");
		up_usage(stderr);
		return ERR_USAGE;
	}
	return 0;
}

/* Bring the network up; on failure stop what was started. */
static int
up_run(struct simnet *net, const struct up_opts *o)
{
	int r;

	if ((r = simnet_plan(net, o->dir, o->nauth, o->nrelay, o->nmbox, o->epoch, o->netns)) < 0)
		return r;
	net->mean_delay_ms = o->delay;
	if ((r = simnet_start(net)) < 0 || (r = simnet_save(net)) < 0)
		goto fail;
	fprintf(stderr, "burrow-sim: started %zu nodes in %s; waiting for the consensus\n", net->n,
		o->dir);
	if ((r = simnet_wait_consensus(net, 20 + 4 * o->epoch)) < 0) {
		fprintf(stderr, "burrow-sim: no consensus listing every node: %s\n", err_str(r));
		goto fail;
	}
	simnet_read_fingerprints(net);
	if ((r = simnet_save(net)) < 0)
		goto fail;
	if (o->probe) {
		fprintf(stderr, "burrow-sim: consensus ready; sending a probe drop\n");
		if ((r = simnet_probe(net, 60 + 2 * o->epoch)) < 0)
			goto fail;
	}
	return 0;
fail:
	simnet_stop(net);
	return r;
}

int
sim_up_cmd(int argc, char **argv)
{
	struct up_opts o;
	struct simnet net;
	int r;

	if (up_parse(argc, argv, &o) < 0)
		return 2;
	r = up_run(&net, &o);
	if (r == 0)
		printf("network up in %s: %u authorities, %u relays, %u mailbox nodes\n"
		       "client config: %s/client.conf\nstop it with: burrow-sim down --dir %s\n",
		       o.dir, o.nauth, o.nrelay, o.nmbox, o.dir, o.dir);
	simnet_clear(&net);
	return r == 0 ? 0 : 1;
}

int
sim_down_cmd(int argc, char **argv)
{
	struct simnet net;
	const char *dir = NULL;
	int died;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
			dir = argv[++i];
		} else if (strcmp(argv[i], "--help") == 0) {
			printf("usage: burrow-sim down --dir DIR\n"
			       "Stop every process `burrow-sim up` started in DIR, by pid, and\n"
			       "report any that had died unexpectedly (exit status 1 then).\n");
			return 0;
		} else {
			fprintf(stderr, "burrow-sim: down: unexpected argument '%s'\n", argv[i]);
			return 2;
		}
	}
	if (!dir) {
		fprintf(stderr, "burrow-sim: down needs --dir DIR\n");
		return 2;
	}
	if (simnet_load(&net, dir) < 0)
		return 1;
	if (net.stopped) {
		printf("network in %s was already stopped\n", dir);
		simnet_clear(&net);
		return 0;
	}
	died = simnet_stop(&net);
	net.stopped = true;
	if (simnet_save(&net) < 0)
		fprintf(stderr, "burrow-sim: cannot update %s/network.json\n", dir);
	printf("network in %s stopped%s\n", dir, died ? " (some nodes had died: see above)" : "");
	simnet_clear(&net);
	return died ? 1 : 0;
}
