/* burrow: the client program. argv and process-wide setup only; each
 * command lives in client/cmd_*.c. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client/client.h"
#include "client/cmd.h"
#include "common/keyfile.h"
#include "common/log.h"
#include "common/util.h"

static const char usage[] =
	"usage: burrow [--home DIR] [--config FILE] [--passphrase-file FILE]\n"
	"              [--log-level LEVEL] COMMAND [ARGS] [--json]\n"
	"\n"
	"commands:\n"
	"  init [--mailbox NICK|NODEID]   create your identity and choose a home mailbox\n"
	"  address                        print your address\n"
	"  fingerprint [NAME|ADDRESS]     your key's fingerprint, or the safety number\n"
	"  contacts add NAME ADDRESS      remember an address under a name\n"
	"  contacts list | remove NAME\n"
	"  send TO [--file PATH] [--sign] [--wait]\n"
	"                                 drop a message (stdin or a file) anonymously\n"
	"  flush [--wait]                 resume interrupted sends, collect acknowledgements\n"
	"  fetch                          pull your mailbox into the local inbox\n"
	"  inbox                          list received messages\n"
	"  read ID [--out PATH]           show one message\n"
	"  export [--out FILE] [--format json|text]\n"
	"  status                         consensus, home mailbox node, outbox\n"
	"\n"
	"HOME defaults to ~/.burrow; FILE to HOME/burrow.conf. 'burrow COMMAND --help'\n"
	"explains each command; see docs/user-guide.md.\n";

struct command {
	const char *name;
	int (*fn)(struct client *c, int argc, char **argv);
};

static const struct command commands[] = {
	{ "init", cmd_init },
	{ "address", cmd_address },
	{ "fingerprint", cmd_fingerprint },
	{ "contacts", cmd_contacts },
	{ "send", cmd_send },
	{ "flush", cmd_flush },
	{ "status", cmd_status },
	{ "fetch", cmd_fetch },
	{ "inbox", cmd_inbox },
	{ "read", cmd_read },
	{ "export", cmd_export },
};

/* Take a global option with a value out of argv wherever it appears. */
static int
take_opt(int *argc, char **argv, const char *name, char **out)
{
	int i;

	for (i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			return 0;
		if (strcmp(argv[i], name) != 0)
			continue;
		if (i + 1 >= *argc) {
			fprintf(stderr, "burrow: %s needs a value\n", name);
			return -1;
		}
		free(*out);
		*out = xstrdup(argv[i + 1]);
		memmove(&argv[i], &argv[i + 2], (size_t)(*argc - i - 2) * sizeof(*argv));
		*argc -= 2;
		argv[*argc] = NULL;
		i--;
	}
	return 0;
}

/* Take a flag out of argv wherever it appears; true if it was there. */
static bool
take_flag(int *argc, char **argv, const char *name)
{
	bool seen = false;
	int i;

	for (i = 1; i < *argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], name) != 0)
			continue;
		memmove(&argv[i], &argv[i + 1], (size_t)(*argc - i - 1) * sizeof(*argv));
		(*argc)--;
		argv[*argc] = NULL;
		seen = true;
		i--;
	}
	return seen;
}

int
main(int argc, char **argv)
{
	struct client c;
	char *level = NULL;
	enum log_level lv;
	const char *home;
	size_t i;
	int rc;

	memset(&c, 0, sizeof(c));
	crypto_init();
	log_set_level(LOG_WARN);
	if (client_test_hooks())
		keyfile_set_cost_for_tests(1);	/* tests only: fast key files */
	if (take_opt(&argc, argv, "--home", &c.home) != 0 ||
	    take_opt(&argc, argv, "--config", &c.conf_path) != 0 ||
	    take_opt(&argc, argv, "--passphrase-file", &c.passphrase_file) != 0 ||
	    take_opt(&argc, argv, "--log-level", &level) != 0)
		return EXIT_USAGE;
	c.json = take_flag(&argc, argv, "--json");
	if (level != NULL) {
		if (log_level_parse(level, &lv) != 0) {
			fprintf(stderr, "burrow: bad log level '%s'\n", level);
			return EXIT_USAGE;
		}
		log_set_level(lv);
		free(level);
	}
	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage, argc < 2 ? stderr : stdout);
		client_clear(&c);
		return argc < 2 ? EXIT_USAGE : 0;
	}
	if (c.home == NULL) {
		home = getenv("BURROW_HOME");
		if (home != NULL)
			c.home = xstrdup(home);
		else if ((home = getenv("HOME")) != NULL)
			c.home = xasprintf("%s/.burrow", home);
		else
			c.home = xstrdup(".burrow");
	}
	if (c.conf_path == NULL)
		c.conf_path = xasprintf("%s/burrow.conf", c.home);
	for (i = 0; i < ARRAY_LEN(commands); i++) {
		if (strcmp(argv[1], commands[i].name) == 0) {
			rc = commands[i].fn(&c, argc - 1, argv + 1);
			client_clear(&c);
			return rc;
		}
	}
	fprintf(stderr, "burrow: unknown command '%s'\n%s", argv[1], usage);
	client_clear(&c);
	return EXIT_USAGE;
}
