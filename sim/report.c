#include "sim/report.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "common/util.h"

static const char *const outcome_names[] = {
	"pending", "delivered", "acked-not-fetched", "failed", "lost"
};

void
report_sample_node(const struct simnet *net, const struct simnode *n, struct nodestat *st)
{
	char path[64], buf[4096];
	FILE *f;

	memset(st, 0, sizeof(*st));
	snprintf(st->name, sizeof(st->name), "%s", n->name);
	st->alive = simnet_node_alive(n);
	st->peak_rss_kb = -1;
	if (!st->alive)
		return;
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)n->pid);
	if ((f = fopen(path, "r"))) {
		if (fgets(buf, sizeof(buf), f)) {
			char *rp = strrchr(buf, ')');
			unsigned long ut = 0, stt = 0;

			/* fields after the command: state(3) ... utime(14) stime(15) */
			if (rp && sscanf(rp + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu",
					 &ut, &stt) == 2)
				st->cpu_s = (double)(ut + stt) / (double)sysconf(_SC_CLK_TCK);
		}
		fclose(f);
	}
	snprintf(path, sizeof(path), "/proc/%d/status", (int)n->pid);
	if ((f = fopen(path, "r"))) {
		while (fgets(buf, sizeof(buf), f))
			if (sscanf(buf, "VmHWM: %ld kB", &st->peak_rss_kb) == 1)
				break;
		fclose(f);
	}
	if (n->role != SIMNODE_AUTHORITY && n->metrics_port &&
	    simnet_http_get(n->host, n->metrics_port, "/metrics", &st->metrics, 3000) != 200) {
		free(st->metrics);
		st->metrics = NULL;
	}
	(void)net;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

double
report_quantile(const double *sorted, size_t n, double q)
{
	size_t i;

	if (n == 0)
		return -1;
	i = (size_t)ceil(q * (double)n);
	if (i > 0)
		i--;
	return sorted[MIN(i, n - 1)];
}

/* Sum every metric whose name contains "drop" over all nodes. */
static json_t *
drops_by_reason(const struct nodestat *nodes, size_t nnodes)
{
	json_t *o = json_object();

	for (size_t i = 0; i < nnodes; i++) {
		const char *p = nodes[i].metrics;

		while (p && *p) {
			const char *nl = strchr(p, '\n');
			size_t len = nl ? (size_t)(nl - p) : strlen(p);
			char line[512], name[400];
			double v;

			if (len < sizeof(line) && *p != '#') {
				memcpy(line, p, len);
				line[len] = '\0';
				if (sscanf(line, "%399s %lf", name, &v) == 2 &&
				    (strstr(name, "drop") || strstr(name, "refuse"))) {
					json_t *cur = json_object_get(o, name);
					double t = (cur ? json_real_value(cur) : 0) + v;

					json_object_set_new(o, name, json_real(t));
				}
			}
			p = nl ? nl + 1 : NULL;
		}
	}
	return o;
}

static void
write_cdf(FILE *f, const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%.4f %.5f\n", v[i], (double)(i + 1) / (double)n);
}

static void
plot(const char *out, const char *name, const char *title, const char *data)
{
	char *gp = xasprintf("%s/%s.gp", out, name);
	FILE *f = fopen(gp, "w");
	pid_t pid;

	if (!f) {
		free(gp);
		return;
	}
	fprintf(f, "set terminal pngcairo size 800,500 noenhanced\n"
		   "set output '%s/%s.png'\nset title '%s'\nset xlabel 'seconds'\n"
		   "set ylabel 'fraction of messages'\nset yrange [0:1]\nset grid\nset key off\n"
		   "plot '%s' using 1:2 with steps lw 2\n", out, name, title, data);
	fclose(f);
	pid = fork();
	if (pid == 0) {
		int dn = open("/dev/null", 1);

		if (dn >= 0) {
			dup2(dn, 1);
			dup2(dn, 2);
		}
		execlp("gnuplot", "gnuplot", gp, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, NULL, 0);
	free(gp);
}

int
report_write(const char *out, const struct simmsg *msgs, size_t nmsgs,
	     const struct nodestat *nodes, size_t nnodes, const char *scenario_path,
	     double wall_s, const struct netns_obs *obs, double *delivery, bool *leak)
{
	double *ack = xcalloc(nmsgs + 1, sizeof(double)), *fetch = xcalloc(nmsgs + 1, sizeof(double));
	size_t nack = 0, nfetch = 0, delivered = 0, dups = 0, retrans = 0, failed = 0;
	double relay_cpu = 0;
	json_t *root = json_object(), *lat = json_object(), *pernode = json_object();
	char *path;
	FILE *f;
	int r = 0;

	path = xasprintf("%s/messages.csv", out);
	f = fopen(path, "w");
	free(path);
	if (!f) {
		r = ERR_IO;
		goto done;
	}
	fprintf(f, "id,sender,recipient,size,send_time,ack_time,fetch_time,copies,"
		   "retransmissions,path,outcome,error\n");
	for (size_t i = 0; i < nmsgs; i++) {
		const struct simmsg *m = &msgs[i];

		fprintf(f, "%zu,s%u,r%u,%zu,%.4f,", i, m->sender, m->recipient, m->size, m->send_t);
		if (m->ack_t >= 0)
			fprintf(f, "%.4f", m->ack_t);
		fputc(',', f);
		if (m->fetch_t >= 0)
			fprintf(f, "%.4f", m->fetch_t);
		fprintf(f, ",%u,%u,%s,%s,\"%s\"\n", m->copies_seen, m->retransmissions, m->path,
			outcome_names[m->outcome], m->error);
		if (m->ack_t >= 0)
			ack[nack++] = m->ack_t - m->send_t;
		if (m->fetch_t >= 0)
			fetch[nfetch++] = m->fetch_t - m->send_t;
		if (m->outcome == MSG_DELIVERED)
			delivered++;
		if (m->outcome == MSG_FAILED)
			failed++;
		if (m->copies_seen > 1)
			dups += m->copies_seen - 1;
		retrans += m->retransmissions;
	}
	fclose(f);
	qsort(ack, nack, sizeof(double), cmp_double);
	qsort(fetch, nfetch, sizeof(double), cmp_double);
	*delivery = nmsgs ? (double)delivered / (double)nmsgs : 0;

	json_object_set_new(root, "scenario", json_string(scenario_path));
	json_object_set_new(root, "messages", json_integer((json_int_t)nmsgs));
	json_object_set_new(root, "delivered", json_integer((json_int_t)delivered));
	json_object_set_new(root, "failed", json_integer((json_int_t)failed));
	json_object_set_new(root, "delivery_ratio", json_real(*delivery));
	json_object_set_new(root, "duplicates_seen_by_recipients", json_integer((json_int_t)dups));
	json_object_set_new(root, "retransmissions", json_integer((json_int_t)retrans));
	json_object_set_new(root, "wall_seconds", json_real(wall_s));
	{
		json_t *a = json_object(), *b = json_object();

		json_object_set_new(a, "p50", json_real(report_quantile(ack, nack, 0.5)));
		json_object_set_new(a, "p90", json_real(report_quantile(ack, nack, 0.9)));
		json_object_set_new(a, "p99", json_real(report_quantile(ack, nack, 0.99)));
		json_object_set_new(a, "n", json_integer((json_int_t)nack));
		json_object_set_new(b, "p50", json_real(report_quantile(fetch, nfetch, 0.5)));
		json_object_set_new(b, "p90", json_real(report_quantile(fetch, nfetch, 0.9)));
		json_object_set_new(b, "p99", json_real(report_quantile(fetch, nfetch, 0.99)));
		json_object_set_new(b, "n", json_integer((json_int_t)nfetch));
		json_object_set_new(lat, "send_to_ack_s", a);
		json_object_set_new(lat, "send_to_fetch_s", b);
	}
	json_object_set_new(root, "latency", lat);
	json_object_set_new(root, "drops_by_reason", drops_by_reason(nodes, nnodes));
	for (size_t i = 0; i < nnodes; i++) {
		json_t *o = json_object();

		json_object_set_new(o, "alive_at_end", json_boolean(nodes[i].alive));
		json_object_set_new(o, "cpu_seconds", json_real(nodes[i].cpu_s));
		json_object_set_new(o, "peak_rss_kb", json_integer(nodes[i].peak_rss_kb));
		json_object_set_new(pernode, nodes[i].name, o);
		if (strncmp(nodes[i].name, "auth", 4) != 0)
			relay_cpu += nodes[i].cpu_s;
	}
	json_object_set_new(root, "nodes", pernode);
	/* Every delivered message crossed its relays and one mailbox node;
	 * path length 3 + 1 is the default the harness configures. */
	json_object_set_new(root, "cpu_seconds_per_message_per_hop",
			    json_real(delivered ? relay_cpu / ((double)delivered * 4.0) : 0));
	json_object_set_new(root, "cpu_note",
			    json_string("CPU of relays and mailbox nodes over the whole run "
					"(including idle work and directory traffic), divided by "
					"delivered messages x 4 hops; processes restarted during the "
					"run count only their last life"));
	*leak = false;
	if (obs) {
		json_t *src = json_array(), *peers = json_array(), *snd = json_array();

		for (size_t i = 0; i < obs->ndeposit_sources; i++) {
			json_array_append_new(src, json_string(obs->deposit_sources[i]));
			for (size_t j = 0; j < obs->nsenders; j++)
				if (strcmp(obs->deposit_sources[i], obs->sender_addrs[j]) == 0)
					*leak = true;
		}
		for (size_t i = 0; i < obs->nlink_peers; i++)
			json_array_append_new(peers, json_string(obs->link_peers[i]));
		for (size_t j = 0; j < obs->nsenders; j++)
			json_array_append_new(snd, json_string(obs->sender_addrs[j]));
		json_object_set_new(root, "mailbox_deposit_sources", src);
		json_object_set_new(root, "mailbox_link_peers", peers);
		json_object_set_new(root, "sender_addresses", snd);
		json_object_set_new(root, "sender_address_seen_by_mailbox", json_boolean(*leak));
		json_object_set_new(root, "netns_note",
				    json_string("deposit sources are the previous hops of DELIVER "
						"packets as each mailbox node logged them "
						"(LogDepositPeers 1); link peers are every address "
						"connected to a mailbox node's link port, sampled each "
						"second, and include senders fetching their own "
						"acknowledgements from their home mailbox"));
	}
	path = xasprintf("%s/summary.json", out);
	if (json_dump_file(root, path, JSON_INDENT(2) | JSON_SORT_KEYS) != 0)
		r = ERR_IO;
	free(path);

	path = xasprintf("%s/latency_ack.dat", out);
	if ((f = fopen(path, "w"))) {
		write_cdf(f, ack, nack);
		fclose(f);
		if (nack)
			plot(out, "cdf_send_to_ack", "send to acknowledgement", path);
	}
	free(path);
	path = xasprintf("%s/latency_fetch.dat", out);
	if ((f = fopen(path, "w"))) {
		write_cdf(f, fetch, nfetch);
		fclose(f);
		if (nfetch)
			plot(out, "cdf_send_to_fetch", "send to fetch by the recipient", path);
	}
	free(path);
done:
	json_decref(root);
	free(ack);
	free(fetch);
	return r;
}
