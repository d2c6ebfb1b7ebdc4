/* The model's outputs: a CSV for every metric, summary.json with the
 * headline figures, and (model_plot.c) PNG plots. Nothing here depends on
 * wall-clock time, so the same seed gives byte-identical files. Across
 * seeds, each CDF point is the mean of the per-seed values at that point
 * with a 95% Student t interval (as tornettools draws its bands). */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "common/util.h"
#include "sim/model_int.h"

#define TTFC_POINTS 101

static FILE *
open_out(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);
	FILE *f = fopen(path, "w");

	if (f == NULL)
		log_err(LD_SIM, "cannot write %s: %s", path, strerror(errno));
	free(path);
	return f;
}

static int
close_out(FILE *f)
{
	int bad = ferror(f);

	return fclose(f) != 0 || bad ? ERR_IO : 0;
}

/* Wilson score interval for k successes in n trials, 95%. */
static void
wilson(uint64_t k, uint64_t n, double *lo, double *hi)
{
	const double z = 1.959964;
	double p, den, c, h;

	if (n == 0) {
		*lo = *hi = NAN;
		return;
	}
	p = (double)k / (double)n;
	den = 1 + z * z / (double)n;
	c = (p + z * z / (2.0 * (double)n)) / den;
	h = z / den * sqrt(p * (1 - p) / (double)n + z * z / (4.0 * (double)n * (double)n));
	*lo = MAX(0, c - h);
	*hi = MIN(1, c + h);
}

/* Mean and 95% half-width over seeds of the value at quantile q. */
static void
quantile_band(const struct model_result *runs, size_t nruns, bool entropy, double q,
	      double *mean, double *half)
{
	double *v = xcalloc(nruns, sizeof(double));

	for (size_t s = 0; s < nruns; s++) {
		v[s] = entropy ? mstat_quantile(runs[s].entropy_bits, runs[s].nentropy, q) :
				 mstat_quantile(runs[s].latency_ms, runs[s].nlatency, q);
	}
	mstat_mean_ci(v, nruns, mean, half);
	free(v);
}

static int
write_cdf(const char *dir, const char *name, const char *unit,
	  const struct model_result *runs, size_t nruns, bool entropy)
{
	FILE *f = open_out(dir, name);

	if (f == NULL)
		return ERR_IO;
	fprintf(f, "quantile,%s_mean,%s_lo95,%s_hi95\n", unit, unit, unit);
	for (int i = 0; i < MODEL_CDF_POINTS; i++) {
		double q = i / (double)(MODEL_CDF_POINTS - 1), m, h;

		quantile_band(runs, nruns, entropy, q, &m, &h);
		if (isnan(m))
			continue;
		fprintf(f, "%.2f,%.6g,%.6g,%.6g\n", q, m, m - h, m + h);
	}
	return close_out(f);
}

static int
write_delivery(const char *dir, const struct model_result *runs, size_t nruns, uint64_t seed)
{
	FILE *f = open_out(dir, "delivery.csv");

	if (f == NULL)
		return ERR_IO;
	fprintf(f, "seed,sent,delivered,acked,expired,duplicates,packets,retransmits,"
		"lost_link,lost_down,no_path,crypto_errors,delivery_ratio,events,end_s,"
		"mean_pool\n");
	for (size_t s = 0; s < nruns; s++) {
		const struct model_result *r = &runs[s];

		fprintf(f, "%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%llu,%.6f,"
			"%llu,%.6f,%.6g\n",
			(unsigned long long)(seed + s), (unsigned long long)r->sent,
			(unsigned long long)r->delivered, (unsigned long long)r->acked,
			(unsigned long long)r->expired, (unsigned long long)r->duplicates,
			(unsigned long long)r->packets, (unsigned long long)r->retransmits,
			(unsigned long long)r->lost_link, (unsigned long long)r->lost_down,
			(unsigned long long)r->no_path, (unsigned long long)r->crypto_errors,
			r->sent ? (double)r->delivered / (double)r->sent : 0,
			(unsigned long long)r->events, r->end_s, r->mean_pool);
	}
	return close_out(f);
}

static int
write_compromise(const char *dir, const struct model_params *p,
		 const struct model_result *runs, size_t nruns)
{
	FILE *f = open_out(dir, "compromise.csv");

	if (f == NULL)
		return ERR_IO;
	fprintf(f, "share,share_realised,paths,first_last,first_last_lo95,first_last_hi95,"
		"first_last_analytic,full,full_lo95,full_hi95,full_analytic\n");
	for (int i = 0; i < MODEL_SHARES; i++) {
		uint64_t n = 0, fl = 0, full = 0;
		double real = 0, fl_lo, fl_hi, fu_lo, fu_hi;

		for (size_t s = 0; s < nruns; s++) {
			n += runs[s].share_paths[i];
			fl += runs[s].share_fl[i];
			full += runs[s].share_full[i];
			real += runs[s].share_actual[i];
		}
		real /= (double)nruns;
		wilson(fl, n, &fl_lo, &fl_hi);
		wilson(full, n, &fu_lo, &fu_hi);
		fprintf(f, "%.2f,%.6f,%llu,%.6f,%.6f,%.6f,%.6f,%.6g,%.6g,%.6g,%.6g\n",
			runs[0].share[i], real, (unsigned long long)n,
			n ? (double)fl / (double)n : 0, fl_lo, fl_hi, real * real,
			n ? (double)full / (double)n : 0, fu_lo, fu_hi,
			pow(real, (double)p->path_length));
	}
	return close_out(f);
}

/* Fraction of clients first compromised by each point of a grid. */
static double
ttfc_frac(const struct model_result *r, int variant, bool by_msgs, double x)
{
	size_t k = 0;

	for (size_t c = 0; c < r->nclients; c++) {
		const struct model_ttfc *t = &r->ttfc[c];

		if (t->t_s[variant] < 0)
			continue;
		if (by_msgs ? t->msgs[variant] <= x : t->t_s[variant] <= x)
			k++;
	}
	return r->nclients ? (double)k / (double)r->nclients : 0;
}

static int
write_ttfc(const char *dir, const struct model_result *runs, size_t nruns, bool by_msgs)
{
	FILE *f = open_out(dir, by_msgs ? "first_compromise_msgs.csv" : "first_compromise.csv");
	double xmax = 0, *v = xcalloc(nruns, sizeof(double));

	if (f == NULL) {
		free(v);
		return ERR_IO;
	}
	for (size_t s = 0; s < nruns; s++) {
		if (by_msgs) {
			for (size_t c = 0; c < runs[s].nclients; c++)
				for (int g = 0; g < 2; g++)
					xmax = MAX(xmax, (double)runs[s].ttfc[c].msgs[g]);
		} else {
			for (size_t i = 0; i < runs[s].nmsgs; i++)
				xmax = MAX(xmax, runs[s].msgs[i].t_send_s);
		}
	}
	fprintf(f, "%s,free_mean,free_lo95,free_hi95,guard_mean,guard_lo95,guard_hi95\n",
		by_msgs ? "messages" : "time_s");
	for (int i = 0; i < TTFC_POINTS; i++) {
		double x = xmax * i / (TTFC_POINTS - 1);

		if (by_msgs)
			x = ceil(x);
		fprintf(f, by_msgs ? "%.0f" : "%.6g", x);
		for (int g = 0; g < 2; g++) {
			double m, h;

			for (size_t s = 0; s < nruns; s++)
				v[s] = ttfc_frac(&runs[s], g, by_msgs, x);
			mstat_mean_ci(v, nruns, &m, &h);
			fprintf(f, ",%.6f,%.6f,%.6f", m, m - h, m + h);
		}
		fputc('\n', f);
	}
	free(v);
	return close_out(f);
}

static int
write_messages(const char *dir, const struct model_result *r)
{
	FILE *f = open_out(dir, "messages.csv");

	if (f == NULL)
		return ERR_IO;
	fprintf(f, "id,client,recipient,t_send_s,latency_ms,ack_ms,attempts,first_last,full,"
		"entropy_bits,path\n");
	for (size_t i = 0; i < r->nmsgs; i++) {
		const struct model_msg_out *m = &r->msgs[i];

		fprintf(f, "%zu,%u,%u,%.6f,%.3f,%.3f,%u,%u,%u,%.4f,", i, m->client, m->recipient,
			m->t_send_s, m->latency_ms, m->ack_ms, m->attempts, m->first_last, m->full,
			m->entropy_bits);
		for (unsigned h = 0; h < m->nhops; h++)
			fprintf(f, "%s%u", h ? "-" : "", m->hops[h]);
		fputc('\n', f);
	}
	return close_out(f);
}

static double
mean_of(const struct model_result *runs, size_t nruns, double (*get)(const struct model_result *),
	double *half)
{
	double *v = xcalloc(nruns, sizeof(double)), m, h;

	for (size_t s = 0; s < nruns; s++)
		v[s] = get(&runs[s]);
	mstat_mean_ci(v, nruns, &m, &h);
	free(v);
	if (half)
		*half = h;
	return m;
}

static double
get_ratio(const struct model_result *r)
{
	return r->sent ? (double)r->delivered / (double)r->sent : 0;
}

static double
get_p50(const struct model_result *r)
{
	return mstat_quantile(r->latency_ms, r->nlatency, 0.5);
}

static double
get_p90(const struct model_result *r)
{
	return mstat_quantile(r->latency_ms, r->nlatency, 0.9);
}

static double
get_p99(const struct model_result *r)
{
	return mstat_quantile(r->latency_ms, r->nlatency, 0.99);
}

static double
get_entropy_mean(const struct model_result *r)
{
	double s = 0;

	for (size_t i = 0; i < r->nentropy; i++)
		s += r->entropy_bits[i];
	return r->nentropy ? s / (double)r->nentropy : NAN;
}

static double
get_pool(const struct model_result *r)
{
	return r->mean_pool;
}

static json_t *
num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *
band(double m, double h)
{
	json_t *o = json_object();

	json_object_set_new(o, "mean", num(m));
	json_object_set_new(o, "ci95", num(h));
	return o;
}

static int
write_study(const char *dir, const struct model_params *p, const struct model_result *study,
	    size_t nruns, json_t *sum)
{
	FILE *f = open_out(dir, "study.csv");
	json_t *arr = json_array();

	if (f == NULL)
		return ERR_IO;
	fprintf(f, "delay_ms,load,send_rate,entropy_mean,entropy_ci95,latency_p50_ms,"
		"latency_p50_ci95,delivery_ratio,mean_pool\n");
	/* Load-major, so each load's rows are contiguous for plotting. */
	for (unsigned l = 0; l < p->nstudy_loads; l++) {
		for (unsigned d = 0; d < p->nstudy_delays; d++) {
			const struct model_result *r = &study[(d * p->nstudy_loads + l) * nruns];
			double eh, lh;
			double em = mean_of(r, nruns, get_entropy_mean, &eh);
			double lm = mean_of(r, nruns, get_p50, &lh);
			double dr = mean_of(r, nruns, get_ratio, NULL);
			double pool = mean_of(r, nruns, get_pool, NULL);
			json_t *o = json_object();

			fprintf(f, "%g,%g,%.6g,%.6g,%.6g,%.6g,%.6g,%.6f,%.6g\n", p->study_delays[d],
				p->study_loads[l], p->send_rate * p->study_loads[l], em, eh, lm, lh,
				dr, pool);
			json_object_set_new(o, "delay_ms", json_real(p->study_delays[d]));
			json_object_set_new(o, "load", json_real(p->study_loads[l]));
			json_object_set_new(o, "entropy_bits", band(em, eh));
			json_object_set_new(o, "latency_p50_ms", band(lm, lh));
			json_object_set_new(o, "mean_pool", num(pool));
			json_array_append_new(arr, o);
		}
	}
	json_object_set_new(sum, "study", arr);
	return close_out(f);
}

static int
write_summary(const char *dir, const struct model_params *p, const struct model_result *runs,
	      size_t nruns, const struct model_result *study, uint64_t seed)
{
	json_t *sum = json_object(), *cfg = json_object(), *lat = json_object(),
	       *cmp = json_object(), *tt = json_object(), *cnt = json_object();
	uint64_t paths = 0, fl = 0, full = 0, lost_link = 0, lost_down = 0, dup = 0, retx = 0,
		 cerr = 0, sent = 0, deliv = 0, nop = 0;
	double h, lo, hi, share_real = 0, m;
	char *path;
	int r = 0;

	json_object_set_new(cfg, "relays", json_integer(p->relays));
	json_object_set_new(cfg, "mailboxes", json_integer(p->mailboxes));
	json_object_set_new(cfg, "clients", json_integer(p->clients));
	json_object_set_new(cfg, "messages", json_integer((json_int_t)p->messages));
	json_object_set_new(cfg, "path_length", json_integer(p->path_length));
	json_object_set_new(cfg, "mean_hop_delay_ms", json_real(p->mean_hop_delay_ms));
	json_object_set_new(cfg, "selection", json_string(p->weighted ? "bandwidth" : "uniform"));
	json_object_set_new(cfg, "guard", json_boolean(p->guard));
	json_object_set_new(cfg, "adversary_share", json_real(p->adv_share));
	json_object_set_new(cfg, "adversary_by",
			    json_string(p->adv_by_bandwidth ? "bandwidth" : "count"));
	json_object_set_new(cfg, "crypto", json_string(p->real_crypto ? "real" : "standin"));
	json_object_set_new(cfg, "seed", json_integer((json_int_t)seed));
	json_object_set_new(cfg, "seeds", json_integer((json_int_t)nruns));
	json_object_set_new(sum, "config", cfg);

	for (size_t s = 0; s < nruns; s++) {
		paths += runs[s].fwd_paths;
		fl += runs[s].fl_compromised;
		full += runs[s].full_compromised;
		lost_link += runs[s].lost_link;
		lost_down += runs[s].lost_down;
		dup += runs[s].duplicates;
		retx += runs[s].retransmits;
		cerr += runs[s].crypto_errors;
		sent += runs[s].sent;
		deliv += runs[s].delivered;
		nop += runs[s].no_path;
	}
	json_object_set_new(cnt, "sent", json_integer((json_int_t)sent));
	json_object_set_new(cnt, "delivered", json_integer((json_int_t)deliv));
	json_object_set_new(cnt, "retransmissions", json_integer((json_int_t)retx));
	json_object_set_new(cnt, "duplicates", json_integer((json_int_t)dup));
	json_object_set_new(cnt, "lost_on_links", json_integer((json_int_t)lost_link));
	json_object_set_new(cnt, "lost_at_failed_nodes", json_integer((json_int_t)lost_down));
	json_object_set_new(cnt, "no_path", json_integer((json_int_t)nop));
	json_object_set_new(cnt, "crypto_errors", json_integer((json_int_t)cerr));
	json_object_set_new(sum, "counts", cnt);
	m = mean_of(runs, nruns, get_ratio, &h);
	json_object_set_new(sum, "delivery_ratio", band(m, h));
	m = mean_of(runs, nruns, get_p50, &h);
	json_object_set_new(lat, "p50", band(m, h));
	m = mean_of(runs, nruns, get_p90, &h);
	json_object_set_new(lat, "p90", band(m, h));
	m = mean_of(runs, nruns, get_p99, &h);
	json_object_set_new(lat, "p99", band(m, h));
	json_object_set_new(sum, "latency_ms", lat);
	m = mean_of(runs, nruns, get_entropy_mean, &h);
	json_object_set_new(sum, "entropy_bits_mean", band(m, h));
	m = mean_of(runs, nruns, get_pool, &h);
	json_object_set_new(sum, "mean_pool", band(m, h));

	/* The simulated messages' own paths at the configured share. */
	share_real = p->adv_share;
	json_object_set_new(cmp, "paths", json_integer((json_int_t)paths));
	json_object_set_new(cmp, "first_last", num(paths ? (double)fl / (double)paths : NAN));
	wilson(fl, paths, &lo, &hi);
	json_object_set_new(cmp, "first_last_lo95", num(lo));
	json_object_set_new(cmp, "first_last_hi95", num(hi));
	json_object_set_new(cmp, "first_last_analytic", json_real(share_real * share_real));
	json_object_set_new(cmp, "full", num(paths ? (double)full / (double)paths : NAN));
	wilson(full, paths, &lo, &hi);
	json_object_set_new(cmp, "full_lo95", num(lo));
	json_object_set_new(cmp, "full_hi95", num(hi));
	json_object_set_new(cmp, "full_analytic", json_real(pow(share_real, p->path_length)));
	json_object_set_new(sum, "compromise", cmp);

	for (int g = 0; g < 2; g++) {
		double *v = xcalloc(nruns, sizeof(double));

		for (size_t s = 0; s < nruns; s++)
			v[s] = ttfc_frac(&runs[s], g, false, INFINITY);
		mstat_mean_ci(v, nruns, &m, &h);
		json_object_set_new(tt, g ? "clients_compromised_guard" :
					    "clients_compromised_free", band(m, h));
		free(v);
	}
	json_object_set_new(sum, "first_compromise", tt);
	if (study && p->nstudy_delays)
		r = write_study(dir, p, study, nruns, sum);

	path = xasprintf("%s/summary.json", dir);
	if (json_dump_file(sum, path, JSON_INDENT(2) | JSON_SORT_KEYS | JSON_REAL_PRECISION(8)) != 0)
		r = ERR_IO;
	free(path);
	json_decref(sum);
	return r;
}

int
model_write_outputs(const char *dir, const struct model_params *p,
		    const struct model_result *runs, size_t nruns,
		    const struct model_result *study, uint64_t seed)
{
	int r = 0;

	r |= write_delivery(dir, runs, nruns, seed);
	r |= write_cdf(dir, "latency_cdf.csv", "latency_ms", runs, nruns, false);
	if (p->entropy)
		r |= write_cdf(dir, "entropy_cdf.csv", "entropy_bits", runs, nruns, true);
	r |= write_compromise(dir, p, runs, nruns);
	r |= write_ttfc(dir, runs, nruns, false);
	r |= write_ttfc(dir, runs, nruns, true);
	r |= write_messages(dir, &runs[0]);
	r |= write_summary(dir, p, runs, nruns, study, seed);
	return r ? ERR_IO : 0;
}
