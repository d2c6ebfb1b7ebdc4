/* Network-namespace mode of burrow-sim: each node gets its own namespace
 * with one veth on a private bridge (10.233.S.0/24) that the harness
 * creates and removes. Namespaces get only that connected route: no
 * default route, so their traffic reaches only the bridge's hosts. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/util.h"
#include "sim/simnet.h"

static int
ip(const char *a1, const char *a2, const char *a3, const char *a4, const char *a5,
   const char *a6, const char *a7, const char *a8)
{
	char *argv[] = { "/usr/bin/env", "ip", (char *)a1, (char *)a2, (char *)a3, (char *)a4,
			 (char *)a5, (char *)a6, (char *)a7, (char *)a8, NULL };
	int r = simnet_run(argv, NULL, 0, NULL, 20);

	return r == 0 ? 0 : ERR_IO;
}

int
netns_setup(struct simnet *net)
{
	char path[64], cidr[32];

	if (geteuid() != 0) {
		fprintf(stderr, "burrow-sim: --netns needs root (it creates network namespaces "
			"and a bridge); run as root or leave out --netns\n");
		return ERR_PERM;
	}
	for (unsigned s = 1 + (unsigned)getpid() % 200;; s++) {
		if (s > 250)
			s = 1;
		snprintf(net->bridge, sizeof(net->bridge), "brw%u", s);
		snprintf(path, sizeof(path), "/sys/class/net/%s", net->bridge);
		if (access(path, F_OK) != 0) {
			net->subnet = s;
			break;
		}
	}
	snprintf(cidr, sizeof(cidr), "10.233.%u.1/24", net->subnet);
	if (ip("link", "add", net->bridge, "type", "bridge", NULL, NULL, NULL) < 0) {
		fprintf(stderr, "burrow-sim: cannot create bridge %s\n", net->bridge);
		return ERR_IO;
	}
	net->netns = true;
	if (ip("addr", "add", cidr, "dev", net->bridge, NULL, NULL, NULL) < 0 ||
	    ip("link", "set", net->bridge, "up", NULL, NULL, NULL, NULL) < 0)
		return ERR_IO;
	net->next_host = 10;
	return 0;
}

int
netns_add_host(struct simnet *net, const char *name, char ns[static 32], char addr[static 64])
{
	char host_if[16], ns_if[16], cidr[32];
	unsigned h = net->next_host++;

	if (h > 250)
		return ERR_LIMIT;
	snprintf(ns, 32, "brw%u-%s", net->subnet, name);
	snprintf(host_if, sizeof(host_if), "bv%uh%u", net->subnet, h);
	snprintf(ns_if, sizeof(ns_if), "bv%un%u", net->subnet, h);
	snprintf(addr, 64, "10.233.%u.%u", net->subnet, h);
	snprintf(cidr, sizeof(cidr), "%s/24", addr);
	if (ip("netns", "add", ns, NULL, NULL, NULL, NULL, NULL) < 0 ||
	    ip("link", "add", host_if, "type", "veth", "peer", "name", ns_if) < 0 ||
	    ip("link", "set", ns_if, "netns", ns, NULL, NULL, NULL) < 0 ||
	    ip("-n", ns, "link", "set", ns_if, "name", "eth0", NULL) < 0 ||
	    ip("-n", ns, "addr", "add", cidr, "dev", "eth0", NULL) < 0 ||
	    ip("-n", ns, "link", "set", "eth0", "up", NULL, NULL) < 0 ||
	    ip("-n", ns, "link", "set", "lo", "up", NULL, NULL) < 0 ||
	    ip("link", "set", host_if, "master", net->bridge, NULL, NULL, NULL) < 0 ||
	    ip("link", "set", host_if, "up", NULL, NULL, NULL, NULL) < 0) {
		fprintf(stderr, "burrow-sim: cannot set up namespace %s\n", ns);
		return ERR_IO;
	}
	return 0;
}

int
netns_enter(const char *ns)
{
	char path[96];
	int fd;

	snprintf(path, sizeof(path), "/run/netns/%s", ns);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return ERR_IO;
	if (setns(fd, CLONE_NEWNET) < 0) {
		close(fd);
		return ERR_IO;
	}
	close(fd);
	return 0;
}

int
netns_netem(const char *ns, unsigned delay_ms, unsigned jitter_ms, double loss_pct)
{
	char d[32], j[32], l[32];
	char *argv[] = { "/usr/bin/env", "ip", "netns", "exec", (char *)ns, "tc", "qdisc",
			 "replace", "dev", "eth0", "root", "netem", "delay", d, j, "loss", l,
			 NULL };

	snprintf(d, sizeof(d), "%ums", delay_ms);
	snprintf(j, sizeof(j), "%ums", jitter_ms);
	snprintf(l, sizeof(l), "%.3f%%", loss_pct);
	return simnet_run(argv, NULL, 0, NULL, 20) == 0 ? 0 : ERR_IO;
}

int
netns_shape(const char *ns, unsigned rate_kbit)
{
	char rate[32];
	char *argv[] = { "/usr/bin/env", "ip", "netns", "exec", (char *)ns, "tc", "qdisc",
			 "replace", "dev", "eth0", "root", "tbf", "rate", rate, "burst", "32kbit",
			 "latency", "500ms", NULL };

	snprintf(rate, sizeof(rate), "%ukbit", rate_kbit);
	return simnet_run(argv, NULL, 0, NULL, 20) == 0 ? 0 : ERR_IO;
}

bool
netns_has_netem(struct simnet *net)
{
	char ns[32], addr[64];
	bool ok;

	/* Try it on a throwaway host of this network's bridge. */
	if (netns_add_host(net, "netemcheck", ns, addr) < 0)
		return false;
	ok = netns_netem(ns, 1, 0, 0) == 0;
	ip("netns", "del", ns, NULL, NULL, NULL, NULL, NULL);
	return ok;
}

int
netns_cut(const char *ns, bool cut)
{
	if (!cut) {
		char *show[] = { "/usr/bin/env", "ip", "netns", "exec", (char *)ns, "tc", "qdisc",
				 "show", "dev", "eth0", NULL };
		char *del[] = { "/usr/bin/env", "ip", "netns", "exec", (char *)ns, "tc", "qdisc",
				"del", "dev", "eth0", "root", NULL };
		char *out = NULL;

		/* Remove a netem or tbf qdisc we added, if there is one. */
		if (simnet_run(show, NULL, 0, &out, 20) == 0 && out &&
		    (strstr(out, "netem") || strstr(out, "tbf")))
			simnet_run(del, NULL, 0, NULL, 20);
		free(out);
	}
	return ip("-n", ns, "link", "set", "eth0", cut ? "down" : "up", NULL, NULL);
}

void
netns_peers(const char *ns, uint16_t port, char ***list, size_t *n)
{
	char filter[48], *out = NULL, *line, *save = NULL;
	char *argv[] = { "/usr/bin/env", "ip", "netns", "exec", (char *)ns, "ss", "-Htn", "state",
			 "established", filter, NULL };

	snprintf(filter, sizeof(filter), "( sport = :%u )", port);
	if (simnet_run(argv, NULL, 0, &out, 10) != 0 || !out) {
		free(out);
		return;
	}
	for (line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char local[80], peer[80], *colon;
		bool dup = false;

		if (sscanf(line, "%*s %*s %79s %79s", local, peer) != 2)
			continue;
		if ((colon = strrchr(peer, ':')))
			*colon = '\0';
		for (size_t i = 0; i < *n && !dup; i++)
			dup = strcmp((*list)[i], peer) == 0;
		if (dup)
			continue;
		*list = xrealloc(*list, (*n + 1) * sizeof(char *));
		(*list)[(*n)++] = xstrdup(peer);
	}
	free(out);
}

void
netns_teardown(struct simnet *net)
{
	char prefix[32];
	DIR *d = opendir("/run/netns");
	struct dirent *e;

	/* Every namespace of this network, the clients' included. */
	snprintf(prefix, sizeof(prefix), "brw%u-", net->subnet);
	while (net->subnet && d && (e = readdir(d)))
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			ip("netns", "del", e->d_name, NULL, NULL, NULL, NULL, NULL);
	if (d)
		closedir(d);
	if (net->bridge[0])
		ip("link", "del", net->bridge, NULL, NULL, NULL, NULL, NULL);
	net->bridge[0] = '\0';
}
