/* A local network of real Burrow daemons: plan it (names, ports, keys,
 * config files), start every process, wait until it carries a real drop,
 * describe it in DIR/network.json and DIR/client.conf, and stop it. */
#ifndef BURROW_SIM_SIMNET_H
#define BURROW_SIM_SIMNET_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "common/err.h"

enum simnode_role { SIMNODE_AUTHORITY, SIMNODE_RELAY, SIMNODE_MAILBOX };

struct simnode {
	char name[32];
	enum simnode_role role;
	pid_t pid;
	char host[64];
	uint16_t port;		/* HTTP for authorities, link port for relays */
	uint16_t metrics_port;	/* relays only */
	char fingerprint[17];
	uint8_t id_pk[32];
	char *conf, *datadir, *logfile;
	bool expect_down;	/* stopped on purpose by a scenario */
	char netns[32];		/* network namespace, or empty for loopback */
};

struct simnet {
	char *dir;
	char *bindir;
	unsigned nauth, nrelay, nmbox;
	unsigned epoch_seconds;
	unsigned mean_delay_ms;
	struct simnode *nodes;
	size_t n;
	bool netns;		/* each node in its own namespace on a bridge */
	char bridge[16];
	unsigned subnet;	/* 10.233.SUBNET.0/24 */
	unsigned next_host;
	char probe_ns[32];	/* netns mode: the probe client's namespace */
	bool stopped;		/* `down` has run */
};

/* Directory that holds the running burrow-sim binary (its siblings are
 * burrow-dir, burrow-relay and burrow). Never NULL; caller frees. */
char *simnet_bindir(void);

/* Fill net for dir with the given sizes, choose free loopback ports, write
 * authority keys and every node's config. 0 or an ERR_* (reported). */
int MUST_CHECK simnet_plan(struct simnet *net, const char *dir, unsigned nauth, unsigned nrelay,
			   unsigned nmbox, unsigned epoch_seconds, bool netns);
/* Start every node that is not running. 0 or ERR_IO. */
int MUST_CHECK simnet_start(struct simnet *net);
/* Start one node (again): 0 or ERR_IO. */
int MUST_CHECK simnet_start_node(struct simnet *net, struct simnode *node);
/* Wait until every authority serves a consensus listing every relay and
 * mailbox node: 0 or ERR_TIMEOUT. */
int MUST_CHECK simnet_wait_consensus(struct simnet *net, unsigned timeout_s);
/* Read each relay's identity key to fill its fingerprint. */
void simnet_read_fingerprints(struct simnet *net);
/* Write DIR/network.json and DIR/client.conf. 0 or ERR_IO. */
int MUST_CHECK simnet_save(const struct simnet *net);
/* Read DIR/network.json. 0, ERR_NOT_FOUND or ERR_MALFORMED. */
int MUST_CHECK simnet_load(struct simnet *net, const char *dir);
/* True if node's process is alive (and is still the program we started). */
bool simnet_node_alive(const struct simnode *node);
/* Stop one node: SIGTERM, then SIGKILL after grace_ms. */
void simnet_stop_node(struct simnode *node, int sig, unsigned grace_ms);
/* Stop every node by pid; returns how many had died unexpectedly (each
 * reported on stderr). */
int simnet_stop(struct simnet *net);
/* Run a program with argv, stdin from in (may be NULL), stdout captured
 * into *out (may be NULL), within timeout_s. Returns its exit status, or
 * -1 if it could not run or timed out. */
int simnet_run(char *const argv[], const char *in, size_t in_len, char **out, unsigned timeout_s);
/* The same, with the child inside network namespace ns (NULL: none). */
int simnet_run_in(const char *ns, char *const argv[], const char *in, size_t in_len, char **out,
		  unsigned timeout_s);
/* A real drop through the network: a probe identity sends to itself,
 * waits for the acknowledgement, fetches and compares. 0 or ERR_*. */
int MUST_CHECK simnet_probe(struct simnet *net, unsigned timeout_s);
void simnet_clear(struct simnet *net);

/* Free loopback TCP port (bound once and released). 0 on failure. */
uint16_t simnet_free_port(void);
/* Simple blocking HTTP GET of http://host:port/path within timeout_ms:
 * returns the status code and the body in *body (caller frees), or -1. */
int simnet_http_get(const char *host, uint16_t port, const char *path, char **body,
		    unsigned timeout_ms);

int sim_up_cmd(int argc, char **argv);
int sim_down_cmd(int argc, char **argv);
int sim_demo_cmd(int argc, char **argv);
int sim_run_cmd(int argc, char **argv);

/* Network-namespace mode (root only; sim/netns.c). */
/* Create the bridge 10.233.S.1/24 for this network: 0, ERR_PERM or ERR_IO. */
int MUST_CHECK netns_setup(struct simnet *net);
/* Create namespace brwS-NAME with one veth on the bridge; write its name
 * into ns and its address into addr. 0 or ERR_IO. */
int MUST_CHECK netns_add_host(struct simnet *net, const char *name, char ns[static 32],
			      char addr[static 64]);
/* In a child process: move into namespace ns. 0 or ERR_IO. */
int netns_enter(const char *ns);
/* Apply tc netem (delay and jitter in ms, loss in %) to a host's link,
 * cut it off or bring it back. 0 or ERR_IO. */
int netns_netem(const char *ns, unsigned delay_ms, unsigned jitter_ms, double loss_pct);
int netns_cut(const char *ns, bool cut);
/* Limit a host's outgoing rate with tbf: 0 or ERR_IO. */
int netns_shape(const char *ns, unsigned rate_kbit);
/* True if this kernel has tc netem (module sch_netem). */
bool netns_has_netem(struct simnet *net);
/* Add the peer addresses of established TCP connections to local port
 * inside ns to *list (no duplicates). */
void netns_peers(const char *ns, uint16_t port, char ***list, size_t *n);
/* Delete every namespace and the bridge of this network. */
void netns_teardown(struct simnet *net);
/* Latency, jitter (ms) and loss (%) on frames leaving host ns (address
 * addr): tc netem in ns where the kernel has it; otherwise (netns_has_netem
 * said no, or BURROW_SIM_NETEM=userspace) the node's host-side veth is
 * taken off the bridge and joined to it through a forwarder thread in this
 * process (sim/impair.h). Applying it again replaces the settings;
 * netns_teardown stops and deletes every such forwarder and its veths. 0,
 * ERR_MALFORMED (addr), ERR_PERM, ERR_NOT_FOUND or ERR_IO. */
int MUST_CHECK netns_fault(struct simnet *net, const char *ns, const char *addr,
			   unsigned delay_ms, unsigned jitter_ms, double loss_pct);
/* Undo a userspace impairment of ns, if any (netns_cut(ns, false) does it
 * too). */
void netns_unfault(const char *ns);

#endif
