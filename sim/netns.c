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
#include "sim/impair.h"
#include "sim/simnet.h"

/* What netns_has_netem found: -1 not asked (use tc netem), 0 no, 1 yes. */
static int netem_state = -1;

/* Userspace impairments in force (kernels without netem), by namespace. */
struct fault {
	char ns[32];
	char bridge[16];
	char host_if[16];	/* the node's veth end, taken off the bridge */
	char in_if[16];		/* forwarder side of the extra pair */
	char br_if[16];		/* bridge side of the extra pair */
	struct impair *im;
};
static struct fault *faults;
static size_t nfaults;

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
	const char *force = getenv("BURROW_SIM_NETEM");
	bool ok;

	if (force && strcmp(force, "userspace") == 0) {
		netem_state = 0;
		return false;
	}
	/* Try it on a throwaway host of this network's bridge. */
	ns[0] = '\0';
	ok = netns_add_host(net, "netemcheck", ns, addr) == 0 && netns_netem(ns, 1, 0, 0) == 0;
	if (ns[0])
		ip("netns", "del", ns, NULL, NULL, NULL, NULL, NULL);
	netem_state = ok;
	return ok;
}

static void
sysctl_write(const char *path, const char *value)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return;
	if (write(fd, value, strlen(value)) < 0) {
		/* best effort: only keeps stray IPv6 chatter off the link */
	}
	close(fd);
}

static void
ipv6_off(const char *ifname)
{
	char path[96];

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", ifname);
	sysctl_write(path, "1");
}

/* Give the bridge a fixed MAC address: a bridge without one takes the
 * lowest of its ports', and changing its ports would change it under the
 * namespaces' ARP caches. */
static void
pin_bridge_mac(const char *bridge)
{
	char path[64], mac[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/net/%s/address", bridge);
	if (!(f = fopen(path, "r")))
		return;
	if (fgets(mac, sizeof(mac), f))
		mac[strcspn(mac, "\n")] = '\0';
	fclose(f);
	if (mac[0])
		ip("link", "set", bridge, "address", mac, NULL, NULL, NULL);
}

static struct fault *
fault_find(const char *ns)
{
	for (size_t i = 0; i < nfaults; i++)
		if (strcmp(faults[i].ns, ns) == 0)
			return &faults[i];
	return NULL;
}

/* Stop a userspace impairment, put the node's veth back on the bridge and
 * delete the extra pair; report what the forwarder did. */
static void
fault_remove(struct fault *f)
{
	struct impair_stats st;
	const char *name = strchr(f->ns, '-');

	impair_stats(f->im, &st);
	impair_free(f->im);
	fprintf(stderr, "burrow-sim: %s: userspace impairment removed: %llu frames out, %llu lost, "
		"%llu in, %llu dropped on a full queue, %llu send errors\n", name ? name + 1 : f->ns,
		(unsigned long long)st.out_frames, (unsigned long long)st.out_lost,
		(unsigned long long)st.in_frames, (unsigned long long)st.dropped_full,
		(unsigned long long)st.send_errors);
	ip("link", "set", f->host_if, "master", f->bridge, NULL, NULL, NULL);
	ip("link", "set", f->host_if, "arp", "on", NULL, NULL, NULL);
	ip("link", "del", f->in_if, NULL, NULL, NULL, NULL, NULL);
	*f = faults[--nfaults];
	if (nfaults == 0) {
		free(faults);
		faults = NULL;
	}
}

static int
fault_add(struct simnet *net, const char *ns, const char *addr, unsigned delay_ms,
	  unsigned jitter_ms, double loss_pct)
{
	struct fault f;
	const char *dot = strrchr(addr, '.');
	uint64_t h;
	int rc;

	if (!dot || parse_u64(dot + 1, 1, 254, &h) < 0)
		return ERR_MALFORMED;
	memset(&f, 0, sizeof(f));
	snprintf(f.ns, sizeof(f.ns), "%s", ns);
	snprintf(f.bridge, sizeof(f.bridge), "%s", net->bridge);
	snprintf(f.host_if, sizeof(f.host_if), "bv%uh%u", net->subnet, (unsigned)h);
	snprintf(f.in_if, sizeof(f.in_if), "bv%ui%u", net->subnet, (unsigned)h);
	snprintf(f.br_if, sizeof(f.br_if), "bv%uj%u", net->subnet, (unsigned)h);
	pin_bridge_mac(net->bridge);
	if (ip("link", "add", f.in_if, "type", "veth", "peer", "name", f.br_if) < 0)
		return ERR_IO;
	ipv6_off(f.in_if);
	ipv6_off(f.br_if);
	if (ip("link", "set", f.in_if, "arp", "off", "up", NULL, NULL) < 0 ||
	    ip("link", "set", f.br_if, "master", net->bridge, "up", NULL, NULL) < 0 ||
	    ip("link", "set", f.host_if, "arp", "off", NULL, NULL, NULL) < 0) {
		ip("link", "del", f.in_if, NULL, NULL, NULL, NULL, NULL);
		return ERR_IO;
	}
	rc = impair_new(&f.im, f.host_if, f.in_if, delay_ms, jitter_ms, loss_pct);
	if (rc < 0) {
		ip("link", "set", f.host_if, "arp", "on", NULL, NULL, NULL);
		ip("link", "del", f.in_if, NULL, NULL, NULL, NULL, NULL);
		return rc;
	}
	faults = xrealloc(faults, (nfaults + 1) * sizeof(*faults));
	faults[nfaults++] = f;
	/* Only now take the node off the bridge: the forwarder is its way on. */
	if (ip("link", "set", f.host_if, "nomaster", NULL, NULL, NULL, NULL) < 0) {
		fault_remove(&faults[nfaults - 1]);
		return ERR_IO;
	}
	return 0;
}

int
netns_fault(struct simnet *net, const char *ns, const char *addr, unsigned delay_ms,
	    unsigned jitter_ms, double loss_pct)
{
	struct fault *f;

	if (netem_state != 0)
		return netns_netem(ns, delay_ms, jitter_ms, loss_pct);
	if ((f = fault_find(ns))) {
		impair_set(f->im, delay_ms, jitter_ms, loss_pct);
		return 0;
	}
	return fault_add(net, ns, addr, delay_ms, jitter_ms, loss_pct);
}

void
netns_unfault(const char *ns)
{
	struct fault *f = fault_find(ns);

	if (f)
		fault_remove(f);
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

		/* Remove a userspace impairment, and a netem or tbf qdisc we
		 * added, if there is one. */
		netns_unfault(ns);
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

	/* Userspace impairments first: their threads and extra veths. */
	while (nfaults)
		fault_remove(&faults[nfaults - 1]);
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
