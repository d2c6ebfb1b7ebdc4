/* burrow-sim: argv dispatch only. Each subcommand is a function in its
 * own file, called with argv starting at the subcommand's name. */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "common/util.h"
#include "sim/model.h"
#include "sim/simnet.h"

struct subcmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *args;
	const char *help;
};

static const struct subcmd subcmds[] = {
	{ "demo", sim_demo_cmd, "[--keep]",
	  "a local network, one anonymous drop, its path, then tear down" },
	{ "up", sim_up_cmd, "--dir DIR [OPTIONS]",
	  "start a local network of real daemons (returns after a probe drop)" },
	{ "down", sim_down_cmd, "--dir DIR", "stop the network started in DIR, by pid" },
	{ "run", sim_run_cmd, "SCENARIO --out DIR",
	  "a scenario with load and faults; report in DIR" },
	{ "model", sim_model_cmd, "CONFIG --out DIR [--seed N]",
	  "large in-process simulation over a virtual clock" },
};

static void
usage(FILE *f)
{
	fprintf(f, "usage: burrow-sim COMMAND [ARGS]\n\ncommands:\n");
	for (size_t i = 0; i < ARRAY_LEN(subcmds); i++)
		fprintf(f, "  %-6s %-28s %s\n", subcmds[i].name, subcmds[i].args, subcmds[i].help);
	fprintf(f, "\n`burrow-sim COMMAND --help` describes one command.\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	crypto_init();
	log_set_level(LOG_WARN);
	/* Children that exit early must not kill us through a pipe write. */
	signal(SIGPIPE, SIG_IGN);
	for (size_t i = 0; i < ARRAY_LEN(subcmds); i++) {
		if (strcmp(argv[1], subcmds[i].name) == 0)
			return subcmds[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "burrow-sim: unknown command: %s\n", argv[1]);
	usage(stderr);
	return 2;
}
