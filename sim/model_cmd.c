/* `burrow-sim model CONFIG --out DIR [--seed N] [--crypto real|standin]
 * [--jobs N] [--no-plots]`: run the model for every seed (and the study
 * grid, if the config has one), then write CSVs, summary.json and plots.
 * Run time and peak memory go to DIR/timing.txt, the one output that is
 * not reproducible. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include "common/util.h"
#include "sim/model.h"

struct job {
	struct model_params p;
	uint64_t seed;
	struct model_result *out;
	int rc;
};

struct jobs {
	struct job *v;
	size_t n;
	atomic_size_t next;
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: burrow-sim model CONFIG --out DIR [--seed N] [--crypto real|standin]\n"
		   "                         [--jobs N] [--no-plots]\n"
		   "Simulate a Burrow network in one process over a virtual clock and write\n"
		   "CSV metrics, summary.json and PNG plots into DIR (see docs/simulation.md).\n");
}

static void *
worker(void *arg)
{
	struct jobs *js = arg;
	size_t i;

	while ((i = atomic_fetch_add(&js->next, 1)) < js->n) {
		struct job *j = &js->v[i];

		j->rc = model_run(&j->p, j->seed, j->out);
	}
	return NULL;
}

/* Run every job on `threads` threads; results do not depend on it. */
static void
run_jobs(struct job *v, size_t n, unsigned threads)
{
	struct jobs js = { v, n, 0 };
	pthread_t t[16];
	unsigned started = 0;

	threads = MIN(threads, 16u);
	for (unsigned k = 1; k < threads; k++) {
		if (pthread_create(&t[started], NULL, worker, &js) == 0)
			started++;
	}
	worker(&js);
	for (unsigned k = 0; k < started; k++)
		pthread_join(t[k], NULL);
}

static double
cpu_seconds(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static long
peak_rss_kib(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss;
}

int
sim_model_cmd(int argc, char **argv)
{
	const char *conf = NULL, *out = NULL, *crypto = NULL;
	uint64_t seed = 1, jobs = 1;
	bool plots = true;
	struct model_params p;
	struct model_result *runs, *study = NULL;
	struct job *jv;
	size_t njobs, nstudy;
	uint64_t t0 = mono_ns();
	uint64_t cerr = 0;
	int rc = 0;
	FILE *f;
	char *path;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(a, "--out") == 0 && i + 1 < argc) {
			out = argv[++i];
		} else if (strcmp(a, "--seed") == 0 && i + 1 < argc) {
			if (parse_u64(argv[++i], 0, UINT64_MAX / 2, &seed) != 0) {
				fprintf(stderr, "burrow-sim model: --seed: not a number: %s\n", argv[i]);
				return 2;
			}
		} else if (strcmp(a, "--jobs") == 0 && i + 1 < argc) {
			if (parse_u64(argv[++i], 1, 16, &jobs) != 0) {
				fprintf(stderr, "burrow-sim model: --jobs: 1 to 16\n");
				return 2;
			}
		} else if (strcmp(a, "--crypto") == 0 && i + 1 < argc) {
			crypto = argv[++i];
			if (strcmp(crypto, "real") != 0 && strcmp(crypto, "standin") != 0) {
				fprintf(stderr, "burrow-sim model: --crypto: real or standin\n");
				return 2;
			}
		} else if (strcmp(a, "--no-plots") == 0) {
			plots = false;
		} else if (a[0] != '-' && conf == NULL) {
			conf = a;
		} else {
			fprintf(stderr, "burrow-sim model: unexpected argument: %s\n", a);
			usage(stderr);
			return 2;
		}
	}
	if (conf == NULL || out == NULL) {
		usage(stderr);
		return 2;
	}
	model_params_default(&p);
	if (model_params_load(conf, &p) != 0)
		return 1;
	if (crypto)
		p.real_crypto = strcmp(crypto, "real") == 0;
	if (mkdir(out, 0755) != 0 && errno != EEXIST) {
		fprintf(stderr, "burrow-sim model: %s: %s\n", out, strerror(errno));
		return 1;
	}

	nstudy = (size_t)p.nstudy_delays * p.nstudy_loads * p.seeds;
	njobs = p.seeds + nstudy;
	jv = xcalloc(njobs, sizeof(*jv));
	runs = xcalloc(p.seeds, sizeof(*runs));
	if (nstudy)
		study = xcalloc(nstudy, sizeof(*study));
	for (unsigned s = 0; s < p.seeds; s++)
		jv[s] = (struct job){ p, seed + s, &runs[s], 0 };
	for (size_t i = 0; i < nstudy; i++) {
		struct job *j = &jv[p.seeds + i];
		unsigned s = (unsigned)(i % p.seeds);
		size_t cell = i / p.seeds;

		j->p = p;
		j->p.mean_hop_delay_ms = p.study_delays[cell / p.nstudy_loads];
		j->p.send_rate = p.send_rate * p.study_loads[cell % p.nstudy_loads];
		j->seed = seed + s;
		j->out = &study[i];
	}
	run_jobs(jv, njobs, (unsigned)jobs);
	for (size_t i = 0; i < njobs; i++) {
		if (jv[i].rc != 0) {
			fprintf(stderr, "burrow-sim model: run with seed %llu: %s\n",
				(unsigned long long)jv[i].seed, err_str(jv[i].rc));
			rc = 1;
		}
		cerr += jv[i].out->crypto_errors;
	}
	if (model_write_outputs(out, &p, runs, p.seeds, study, seed) != 0) {
		fprintf(stderr, "burrow-sim model: writing outputs in %s failed\n", out);
		rc = 1;
	}
	if (plots)
		model_plot(out, &p);
	if (cerr) {
		fprintf(stderr, "burrow-sim model: %llu packets failed the crypto cross-check\n",
			(unsigned long long)cerr);
		rc = 1;
	}

	path = xasprintf("%s/timing.txt", out);
	if ((f = fopen(path, "w")) != NULL) {
		fprintf(f, "# not reproducible: wall-clock and memory of this run\n");
		fprintf(f, "wall_s: %.3f\ncpu_s: %.3f\npeak_rss_kib: %ld\nruns: %zu\njobs: %llu\n"
			"crypto: %s\n", (double)(mono_ns() - t0) / 1e9, cpu_seconds(), peak_rss_kib(),
			njobs, (unsigned long long)jobs, p.real_crypto ? "real" : "standin");
		fclose(f);
	}
	free(path);
	fprintf(stderr, "burrow-sim model: %zu run(s); seed %llu: sent %llu, delivered %llu, "
		"events %llu; %.1f s wall, peak %ld KiB; outputs in %s\n", njobs,
		(unsigned long long)seed, (unsigned long long)runs[0].sent,
		(unsigned long long)runs[0].delivered, (unsigned long long)runs[0].events,
		(double)(mono_ns() - t0) / 1e9, peak_rss_kib(), out);
	for (unsigned s = 0; s < p.seeds; s++)
		model_result_clear(&runs[s]);
	for (size_t i = 0; i < nstudy; i++)
		model_result_clear(&study[i]);
	free(runs);
	free(study);
	free(jv);
	return rc;
}
