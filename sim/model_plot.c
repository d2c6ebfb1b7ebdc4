/* PNG plots of the model's CSVs, drawn by gnuplot from scripts this file
 * writes beside them (plots.gp), so the plots can be redrawn or restyled
 * by hand. A missing gnuplot is a note, never a failure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/log.h"
#include "common/util.h"
#include "sim/model_int.h"

static const char plot_head[] =
	"# Drawn by burrow-sim model; run `gnuplot plots.gp` in this folder.\n"
	"set terminal pngcairo size 900,600 font 'sans,11'\n"
	"set datafile separator ','\n"
	"set key autotitle columnhead\n"
	"set grid\n"
	"set key left top\n";

static void
write_script(FILE *f, const struct model_params *p)
{
	fputs(plot_head, f);
	fputs("\nset output 'latency_cdf.png'\n"
	      "set title 'End-to-end latency (first delivery), mean and 95% band over seeds'\n"
	      "set xlabel 'latency (ms)'\nset ylabel 'fraction of delivered messages'\n"
	      "set logscale x\nset key right bottom\n"
	      "plot 'latency_cdf.csv' using 3:1 with lines lc rgb '#999999' title '95% band', "
	      "'' using 4:1 with lines lc rgb '#999999' notitle, "
	      "'' using 2:1 with lines lw 2 lc rgb '#1f77b4' title 'mean'\n"
	      "unset logscale x\n", f);
	if (p->entropy)
		fputs("\nset output 'entropy_cdf.png'\n"
		      "set title 'Sender anonymity of delivered messages (global passive adversary)'\n"
		      "set xlabel 'entropy (bits)'\nset ylabel 'fraction of delivered messages'\n"
		      "set key left top\n"
		      "plot 'entropy_cdf.csv' using 3:1 with lines lc rgb '#999999' title '95% band', "
		      "'' using 4:1 with lines lc rgb '#999999' notitle, "
		      "'' using 2:1 with lines lw 2 lc rgb '#2ca02c' title 'mean'\n", f);
	fputs("\nset output 'compromise.png'\n"
	      "set title 'Path compromise against adversary share'\n"
	      "set xlabel 'adversary share of relays'\nset ylabel 'fraction of paths'\n"
	      "set logscale y\nset key left top\nset xrange [0:0.55]\n"
	      "plot 'compromise.csv' using 2:4:5:6 with yerrorbars pt 7 lc rgb '#d62728' "
	      "title 'first and last mix (measured)', "
	      "'' using 2:7 with lines lc rgb '#d62728' title 'share^2 (analytic)', "
	      "'' using 2:8:9:10 with yerrorbars pt 5 lc rgb '#1f77b4' "
	      "title 'every mix (measured)', "
	      "'' using 2:11 with lines lc rgb '#1f77b4' title 'share^k (analytic)'\n"
	      "unset logscale y\nset autoscale x\n", f);
	fputs("\nset output 'first_compromise.png'\n"
	      "set title 'Clients whose first and last mix were both adversarial, by time'\n"
	      "set xlabel 'virtual time (s)'\nset ylabel 'fraction of clients compromised'\n"
	      "set key left top\n"
	      "plot 'first_compromise.csv' using 1:2 with lines lw 2 lc rgb '#d62728' "
	      "title 'fresh entry per path', "
	      "'' using 1:3 with lines lc rgb '#e8a0a0' notitle, "
	      "'' using 1:4 with lines lc rgb '#e8a0a0' notitle, "
	      "'' using 1:5 with lines lw 2 lc rgb '#1f77b4' title 'fixed entry relays', "
	      "'' using 1:6 with lines lc rgb '#a0c0e8' notitle, "
	      "'' using 1:7 with lines lc rgb '#a0c0e8' notitle\n", f);
	fputs("\nset output 'first_compromise_msgs.png'\n"
	      "set title 'Clients compromised within N messages'\n"
	      "set xlabel 'messages sent by the client'\n"
	      "set ylabel 'fraction of clients compromised'\n"
	      "plot 'first_compromise_msgs.csv' using 1:2 with lines lw 2 lc rgb '#d62728' "
	      "title 'fresh entry per path', "
	      "'' using 1:5 with lines lw 2 lc rgb '#1f77b4' title 'fixed entry relays'\n", f);
	if (p->nstudy_delays == 0)
		return;
	for (int which = 0; which < 2; which++) {
		fprintf(f, "\nset output '%s'\n", which ? "study_latency.png" : "study_entropy.png");
		fprintf(f, "set title '%s against mean per-hop delay'\n",
			which ? "Median end-to-end latency" : "Mean sender entropy");
		fprintf(f, "set xlabel 'mean per-hop delay (ms)'\nset ylabel '%s'\n",
			which ? "median latency (ms)" : "entropy (bits)");
		fputs("set key left top\nplot ", f);
		for (unsigned l = 0; l < p->nstudy_loads; l++) {
			double load = p->study_loads[l];

			fprintf(f, "%s'study.csv' using 1:($2==%g ? $%d : NaN):($2==%g ? $%d : NaN) "
				"with yerrorlines title 'load x%g'",
				l ? ", " : "", load, which ? 6 : 4, load, which ? 7 : 5, load);
		}
		fputc('\n', f);
	}
}

int
model_plot(const char *dir, const struct model_params *p)
{
	char *path = xasprintf("%s/plots.gp", dir);
	FILE *f = fopen(path, "w");
	pid_t pid;
	int status;

	if (f == NULL) {
		log_notice(LD_SIM, "plots skipped: cannot write %s: %s", path, strerror(errno));
		free(path);
		return 0;
	}
	write_script(f, p);
	fclose(f);
	free(path);
	pid = fork();
	if (pid < 0) {
		log_notice(LD_SIM, "plots skipped: fork: %s", strerror(errno));
		return 0;
	}
	if (pid == 0) {
		if (chdir(dir) != 0)
			_exit(126);
		execlp("gnuplot", "gnuplot", "plots.gp", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
			fprintf(stderr, "note: gnuplot not found; CSVs written, plots skipped "
				"(install gnuplot and run `gnuplot plots.gp` in %s)\n", dir);
		else
			fprintf(stderr, "note: gnuplot failed; CSVs written, plots may be "
				"missing\n");
	}
	return 0;
}
