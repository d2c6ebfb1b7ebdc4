/* burrow-relay: argv, the config file, signals, one node, one event loop. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "common/log.h"
#include "common/util.h"
#include "relay/relay.h"
#include "relay/relay_config.h"

static const char usage[] =
	"usage: burrow-relay [-f FILE] [--check-config]\n"
	"\n"
	"Run a Burrow relay (mix and/or mailbox) configured by FILE\n"
	"(default /etc/burrow/burrow-relay.conf; see burrow-relay.conf.sample).\n"
	"\n"
	"  -f, --config FILE   the configuration file\n"
	"  --check-config      validate the configuration and exit (0 if good)\n"
	"  -h, --help          this text\n"
	"\n"
	"Signals: SIGTERM/SIGINT drain queued packets (DrainTimeout) and exit;\n"
	"SIGHUP reopens the log file and reloads LogLevel and the limits.\n";

struct main_state {
	struct relay *relay;
	const char *path;
};

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct main_state *st = arg;
	struct relay_config cfg;

	if (sig == SIGHUP) {
		if (log_reopen() != 0)
			log_warn(LD_GENERAL, "cannot reopen the log file");
		if (relay_config_load(&cfg, st->path) != 0) {
			log_warn(LD_CONFIG, "%s has errors; keeping the running configuration",
				 st->path);
			return;
		}
		relay_reload(st->relay, &cfg);
		relay_config_clear(&cfg);
		return;
	}
	relay_shutdown(st->relay);
}

int
main(int argc, char **argv)
{
	const char *path = "/etc/burrow/burrow-relay.conf";
	struct event *sigs[4];
	const int signums[4] = { SIGTERM, SIGINT, SIGHUP, 0 };
	struct main_state st = { NULL, NULL };
	struct relay_config cfg;
	struct event_base *base;
	bool check = false;
	int rc;

	if (argc > 1 && strcmp(argv[1], "testclient") == 0)
		return relay_testclient_main(argc - 1, argv + 1);
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if ((strcmp(argv[i], "-f") == 0 || strcmp(argv[i], "--config") == 0) &&
			   i + 1 < argc) {
			path = argv[++i];
		} else if (strcmp(argv[i], "--check-config") == 0) {
			check = true;
		} else {
			fprintf(stderr, "burrow-relay: unknown argument %s\n%s", argv[i], usage);
			return 2;
		}
	}
	crypto_init();
	if (relay_config_load(&cfg, path) != 0)
		return 1;
	if (check) {
		printf("%s: configuration ok\n", path);
		relay_config_clear(&cfg);
		return 0;
	}
	log_set_level(cfg.log_level);
	log_set_ident(cfg.nickname);
	if (cfg.log_file && log_open(cfg.log_file) != 0) {
		fprintf(stderr, "burrow-relay: cannot open log file %s\n", cfg.log_file);
		relay_config_clear(&cfg);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);
	base = event_base_new();
	if (base == NULL)
		fatal("event_base_new failed");
	rc = relay_new(&st.relay, base, &cfg);
	relay_config_clear(&cfg);
	if (rc != 0) {
		event_base_free(base);
		return 1;
	}
	st.path = path;
	for (int i = 0; signums[i]; i++) {
		sigs[i] = evsignal_new(base, signums[i], on_signal, &st);
		event_add(sigs[i], NULL);
	}
	event_base_dispatch(base);
	for (int i = 0; signums[i]; i++)
		event_free(sigs[i]);
	relay_free(st.relay);
	event_base_free(base);
	return 0;
}
