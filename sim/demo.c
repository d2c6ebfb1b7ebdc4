/* burrow-sim demo: the README's main job. A small network of real
 * daemons, two identities, one anonymous drop, fetched and printed, with
 * the path it took and what each node on it could see. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "common/sphinx.h"
#include "common/util.h"
#include "sim/simnet.h"

static int
burrow(const struct simnet *net, const char *home, const char *in, char **out, unsigned timeout_s,
       const char *a1, const char *a2, const char *a3, const char *a4, const char *a5,
       const char *a6)
{
	char *prog = xasprintf("%s/burrow", net->bindir);
	char *conf = xasprintf("%s/client.conf", net->dir);
	char *argv[] = { prog, "--home", (char *)home, "--config", conf, (char *)a1, (char *)a2,
			 (char *)a3, (char *)a4, (char *)a5, (char *)a6, NULL };
	int r = simnet_run(argv, in, in ? strlen(in) : 0, out, timeout_s);

	free(prog);
	free(conf);
	return r;
}

static char *
identity(const struct simnet *net, const char *name, char **home, char **pass)
{
	char *out = NULL;
	FILE *f;

	*home = xasprintf("%s/%s", net->dir, name);
	*pass = xasprintf("%s/%s.pass", net->dir, name);
	if (!(f = fopen(*pass, "w")))
		return NULL;
	fchmod(fileno(f), 0600);
	fprintf(f, "demo passphrase of %s\n", name);
	fclose(f);
	if (burrow(net, *home, NULL, &out, 120, "init", "--passphrase-file", *pass, NULL, NULL,
		   NULL) != 0) {
		fprintf(stderr, "demo: burrow init failed for %s:\n%s\n", name, out ? out : "");
		free(out);
		return NULL;
	}
	free(out);
	out = NULL;
	if (burrow(net, *home, NULL, &out, 30, "address", NULL, NULL, NULL, NULL, NULL) != 0) {
		free(out);
		return NULL;
	}
	out[strcspn(out, "\r\n")] = '\0';
	return out;
}

static const struct simnode *
node_named(const struct simnet *net, const char *name)
{
	for (size_t i = 0; i < net->n; i++)
		if (strcmp(net->nodes[i].name, name) == 0)
			return &net->nodes[i];
	return NULL;
}

static void
explain_path(const struct simnet *net, json_t *path)
{
	size_t n = json_array_size(path);

	printf("\nThe packet crossed, in order:\n");
	for (size_t i = 0; i < n; i++) {
		const char *name = json_string_value(json_array_get(path, i));
		const char *prev = i ? json_string_value(json_array_get(path, i - 1)) : NULL;
		const char *next = i + 1 < n ? json_string_value(json_array_get(path, i + 1)) : NULL;
		const struct simnode *node = name ? node_named(net, name) : NULL;

		if (!name)
			continue;
		printf("  %u. %-8s %s:%u  fingerprint %s\n", (unsigned)(i + 1), name,
		       node ? node->host : "?", node ? node->port : 0,
		       node ? node->fingerprint : "?");
		if (i == 0)
			printf("       saw: a link from alice's address (anonymous: no key), "
			       "a 2,048-byte packet, the next hop %s\n", next ? next : "?");
		else if (next)
			printf("       saw: the previous hop %s, a 2,048-byte packet, the next hop %s\n",
			       prev, next);
		else
			printf("       saw: the previous hop %s and a deposit for one mailbox id: "
			       "%u bytes sealed to bob\n", prev, (unsigned)SPHINX_DEPOSIT_ACK_LEN);
		if (!next)
			printf("       did not see: alice's address, who wrote it, the text\n");
		else if (i == 0)
			printf("       did not see: the recipient, the mailbox, the text\n");
		else
			printf("       did not see: the sender, the recipient, the text\n");
	}
}

static int
demo_body(struct simnet *net)
{
	char *ahome = NULL, *apass = NULL, *bhome = NULL, *bpass = NULL;
	char *alice = NULL, *bob = NULL, *out = NULL;
	const char *text = "Hello Bob. This note reached you through three relays; none of them\n"
			   "knows that it came from me, and your mailbox node cannot read it.\n";
	json_t *j = NULL, *paths;
	int r = 1;

	printf("== two identities: alice (the source) and bob (the newsroom)\n");
	alice = identity(net, "alice", &ahome, &apass);
	bob = identity(net, "bob", &bhome, &bpass);
	if (!alice || !bob)
		goto out;
	printf("alice's address: %s\nbob's address:   %s\n", alice, bob);

	printf("\n== alice drops a message for bob, anonymously (unsigned)\n");
	if (burrow(net, ahome, text, &out, 120, "--json", "send", bob, "--wait",
		   "--passphrase-file", apass) != 0) {
		fprintf(stderr, "demo: send failed:\n%s\n", out ? out : "");
		goto out;
	}
	j = json_loads(out, 0, NULL);
	paths = j ? json_object_get(j, "paths") : NULL;
	printf("acknowledged by bob's mailbox node, through a reply block alice made\n");
	if (json_is_array(paths) && json_array_size(paths) > 0)
		explain_path(net, json_array_get(paths, 0));
	free(out);
	out = NULL;

	printf("\n== bob fetches his mailbox and reads\n");
	if (burrow(net, bhome, NULL, &out, 120, "fetch", "--passphrase-file", bpass, NULL, NULL,
		   NULL) != 0) {
		fprintf(stderr, "demo: fetch failed:\n%s\n", out ? out : "");
		goto out;
	}
	free(out);
	out = NULL;
	if (burrow(net, bhome, NULL, &out, 30, "inbox", NULL, NULL, NULL, NULL, NULL) == 0)
		printf("%s", out);
	free(out);
	out = NULL;
	if (burrow(net, bhome, NULL, &out, 30, "read", "1", "--passphrase-file", bpass, NULL,
		   NULL) != 0 || !strstr(out, "Hello Bob")) {
		fprintf(stderr, "demo: bob could not read the message:\n%s\n", out ? out : "");
		goto out;
	}
	printf("---- message 1 ----\n%s-------------------\n", out);
	printf("\nbob sees no sender: alice did not sign. Had she used `burrow send --sign`,\n"
	       "bob would see her verified identity instead.\n");
	r = 0;
out:
	json_decref(j);
	free(out);
	free(alice);
	free(bob);
	free(ahome);
	free(apass);
	free(bhome);
	free(bpass);
	return r;
}

int
sim_demo_cmd(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR");
	char *dir;
	struct simnet net;
	int r, died;
	bool keep = false;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--keep") == 0) {
			keep = true;
		} else if (strcmp(argv[i], "--help") == 0) {
			printf("usage: burrow-sim demo [--keep]\n"
			       "Bring up a network of 3 authorities, 5 relays and 1 mailbox node on\n"
			       "loopback, drop a message anonymously from alice to bob, fetch and\n"
			       "print it, show its path, and tear the network down. --keep leaves\n"
			       "the network's directory (configs, keys, logs) in place.\n");
			return 0;
		} else {
			fprintf(stderr, "burrow-sim: demo: unexpected argument '%s'\n", argv[i]);
			return 2;
		}
	}
	dir = xasprintf("%s/burrow-demo.XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(dir)) {
		fprintf(stderr, "burrow-sim: cannot create a temporary directory: %s\n",
			strerror(errno));
		free(dir);
		return 1;
	}
	printf("== starting 3 directory authorities, 5 relays and 1 mailbox node in %s\n", dir);
	fflush(stdout);
	if ((r = simnet_plan(&net, dir, 3, 5, 1, 8, false)) < 0 || (r = simnet_start(&net)) < 0 ||
	    (r = simnet_save(&net)) < 0) {
		fprintf(stderr, "demo: cannot start the network: %s\n", err_str(r));
		simnet_stop(&net);
		simnet_clear(&net);
		free(dir);
		return 1;
	}
	if ((r = simnet_wait_consensus(&net, 60)) < 0) {
		fprintf(stderr, "demo: the authorities did not agree on a consensus: %s (logs in %s)\n",
			err_str(r), dir);
		keep = true;
	} else {
		simnet_read_fingerprints(&net);
		if ((r = simnet_save(&net)) == 0) {
			printf("consensus signed by 3 of 3 authorities lists every node\n\n");
			fflush(stdout);
			r = demo_body(&net) == 0 ? 0 : ERR_INTERNAL;
		}
		if (r < 0)
			keep = true;
	}
	printf("\n== stopping the network\n");
	died = simnet_stop(&net);
	if (died)
		r = ERR_CLOSED;
	if (keep) {
		printf("kept %s (configs, keys, logs)\n", dir);
	} else {
		char *argv_rm[] = { "/bin/rm", "-rf", dir, NULL };

		simnet_run(argv_rm, NULL, 0, NULL, 30);
	}
	printf(r == 0 ? "demo finished: the message arrived anonymously\n" : "demo FAILED\n");
	simnet_clear(&net);
	free(dir);
	return r == 0 ? 0 : 1;
}
