/* burrow-dir: argv and the config file; the work is in dirtool.c. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/dirdoc.h"
#include "common/log.h"
#include "common/util.h"
#include "directory/dirtool.h"

static const char usage[] =
	"usage: burrow-dir --config FILE          run a directory authority\n"
	"       burrow-dir keygen --out FILE      write a new identity key\n"
	"       burrow-dir verify --config CONF CONSENSUS\n"
	"                                         verify a consensus file\n"
	"       burrow-dir COMMAND --help         help on one command\n"
	"\n"
	"The config file has 'Key value' lines (see burrow-dir.conf.sample):\n"
	"IdentityKeyFile, Listen, Authority (repeated), EpochSeconds,\n"
	"DescriptorMaxAge, DataDirectory, LogLevel, LogFile.\n"
	"HTTP API: GET /consensus, /consensus/EPOCH, /keys, /vote;\n"
	"POST /descriptor, /vote, /signature.\n";

static const char usage_keygen[] =
	"usage: burrow-dir keygen --out FILE [--force]\n"
	"\n"
	"Write a new Ed25519 identity key to FILE (mode 0600) and print its public\n"
	"key in hex, for the Authority lines of every node's config. The file is not\n"
	"sealed with a passphrase: authorities start unattended, so protect the file.\n";

static const char usage_verify[] =
	"usage: burrow-dir verify --config CONF [--at UNIXTIME] CONSENSUS\n"
	"\n"
	"Verify the consensus in file CONSENSUS ('-' for stdin) against the\n"
	"'Authority HEX_PUBKEY IPV4:PORT' lines of CONF (a client, relay or\n"
	"authority config): every signature from a pinned key and valid, more than\n"
	"half of the pinned keys signing, and the time inside its validity window.\n"
	"Exits 0 and prints a summary, or exits 1 and prints why it is refused.\n";

static const char usage_testdesc[] =
	"usage: burrow-dir testdesc --seed N --address IPV4:PORT [--nickname NAME]\n"
	"         [--epoch-seconds L] [--published-offset SECONDS] [--key-epoch E]\n"
	"         [--roles mix|mailbox|mix,mailbox] [--bad-sig]\n"
	"\n"
	"For testing only: print a signed descriptor of a synthetic relay whose keys\n"
	"derive from N (not secret). Keys are for epochs E and E+1 (default: the next\n"
	"epoch and the one after).\n";

static const char usage_http[] =
	"usage: burrow-dir http-get URL | burrow-dir http-post URL FILE\n"
	"\n"
	"For testing: fetch URL (or POST FILE, '-' for stdin) and print the body.\n"
	"Exits 0 for a 2xx status, 3 for another status, 1 if the request failed.\n";

static const struct config_key keys[] = {
	{ "IdentityKeyFile", false, true },
	{ "Listen", false, true },
	{ "Authority", true, false },
	{ "EpochSeconds", false, false },
	{ "DescriptorMaxAge", false, false },
	{ "DataDirectory", false, true },
	{ "LogLevel", false, false },
	{ "LogFile", false, false },
};

static bool
is_help(const char *s)
{
	return strcmp(s, "-h") == 0 || strcmp(s, "--help") == 0;
}

static int
bad_usage(const char *msg, const char *text)
{
	fprintf(stderr, "burrow-dir: %s\n%s", msg, text);
	return 2;
}

static int
cmd_run(const char *path)
{
	struct authority_conf conf;
	const struct config_entry *e = NULL;
	struct config *cfg = config_load(path, keys, ARRAY_LEN(keys));
	enum log_level level = LOG_NOTICE;
	const char *s;
	char *keyfile = NULL;
	int rc = 1;

	memset(&conf, 0, sizeof(conf));
	(void)config_hostport(cfg, "Listen", conf.listen_host, &conf.listen_port);
	conf.epoch_len = config_u64(cfg, "EpochSeconds", 2, DIRDOC_EPOCH_LEN_MAX, 3600);
	conf.max_age = config_u64(cfg, "DescriptorMaxAge", 1, 30 * 86400, 2 * conf.epoch_len);
	conf.datadir = config_str(cfg, "DataDirectory", NULL);
	s = config_str(cfg, "IdentityKeyFile", NULL);
	keyfile = s ? xstrdup(s) : NULL;
	while ((e = config_next(cfg, "Authority", e)) != NULL) {
		struct authority_peer_conf *p = &conf.peers[conf.npeers];

		if (conf.npeers == DIRDOC_AUTH_MAX) {
			config_error(cfg, e, "more than %d authorities", DIRDOC_AUTH_MAX);
			break;
		}
		if (dirdoc_authority_parse(e->value, p->pk, p->host, &p->port) < 0)
			config_error(cfg, e, "Authority: expected HEX_PUBKEY IPV4:PORT");
		else
			conf.npeers++;
	}
	if ((e = config_find(cfg, "LogLevel")) && log_level_parse(e->value, &level) < 0)
		config_error(cfg, e, "LogLevel: expected debug, info, notice, warn or err");
	if (config_report(cfg) < 0)
		goto out;
	log_set_level(level);
	if ((s = config_str(cfg, "LogFile", NULL)) && log_open(s) < 0) {
		fprintf(stderr, "burrow-dir: cannot open log file %s\n", s);
		goto out;
	}
	rc = dirtool_run(&conf, keyfile);
out:
	free(keyfile);
	config_free(cfg);
	return rc;
}

static int
cmd_testdesc(int argc, char **argv)
{
	struct testdesc_opts o = { .epoch_len = 3600, .roles = DIRDOC_ROLE_MIX };
	uint64_t v;
	bool have_seed = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;

		if (is_help(a)) {
			fputs(usage_testdesc, stdout);
			return 0;
		} else if (strcmp(a, "--bad-sig") == 0) {
			o.bad_sig = true;
			continue;
		} else if (!next) {
			return bad_usage("missing value", usage_testdesc);
		}
		i++;
		if (strcmp(a, "--seed") == 0 && parse_u64(next, 0, 1u << 30, &v) == 0) {
			o.seed = (unsigned)v;
			have_seed = true;
		} else if (strcmp(a, "--address") == 0) {
			o.address = next;
		} else if (strcmp(a, "--nickname") == 0) {
			o.nickname = next;
		} else if (strcmp(a, "--epoch-seconds") == 0 &&
			   parse_u64(next, 1, DIRDOC_EPOCH_LEN_MAX, &v) == 0) {
			o.epoch_len = v;
		} else if (strcmp(a, "--key-epoch") == 0 && parse_u64(next, 1, 1ull << 40, &v) == 0) {
			o.key_epoch = v;
		} else if (strcmp(a, "--published-offset") == 0) {
			char *end;
			long long off = strtoll(next, &end, 10);

			if (*end || end == next)
				return bad_usage("bad --published-offset", usage_testdesc);
			o.published_offset = off;
		} else if (strcmp(a, "--roles") == 0) {
			o.roles = strcmp(next, "mix") == 0 ? DIRDOC_ROLE_MIX :
				  strcmp(next, "mailbox") == 0 ? DIRDOC_ROLE_MAILBOX :
				  strcmp(next, "mix,mailbox") == 0 ?
				  DIRDOC_ROLE_MIX | DIRDOC_ROLE_MAILBOX : 0;
			if (!o.roles)
				return bad_usage("bad --roles", usage_testdesc);
		} else {
			return bad_usage("bad argument", usage_testdesc);
		}
	}
	if (!have_seed || !o.address)
		return bad_usage("--seed and --address are required", usage_testdesc);
	return dirtool_testdesc(&o);
}

int
main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "";

	crypto_init();
	if (strcmp(cmd, "keygen") == 0) {
		const char *out = NULL;
		bool force = false;

		for (int i = 2; i < argc; i++) {
			if (is_help(argv[i])) {
				fputs(usage_keygen, stdout);
				return 0;
			} else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
				out = argv[++i];
			} else if (strcmp(argv[i], "--force") == 0) {
				force = true;
			} else {
				return bad_usage("bad argument", usage_keygen);
			}
		}
		if (!out)
			return bad_usage("--out FILE is required", usage_keygen);
		return dirtool_keygen(out, force);
	}
	if (strcmp(cmd, "verify") == 0) {
		const char *conf = NULL, *file = NULL;
		uint64_t at = time_now();

		for (int i = 2; i < argc; i++) {
			if (is_help(argv[i])) {
				fputs(usage_verify, stdout);
				return 0;
			} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
				conf = argv[++i];
			} else if (strcmp(argv[i], "--at") == 0 && i + 1 < argc) {
				if (parse_u64(argv[++i], 0, UINT64_MAX, &at) < 0)
					return bad_usage("bad --at time", usage_verify);
			} else if (!file && (argv[i][0] != '-' || strcmp(argv[i], "-") == 0)) {
				file = argv[i];
			} else {
				return bad_usage("bad argument", usage_verify);
			}
		}
		if (!conf || !file)
			return bad_usage("--config CONF and a consensus file are required",
					 usage_verify);
		return dirtool_verify(conf, file, at);
	}
	if (strcmp(cmd, "testdesc") == 0)
		return cmd_testdesc(argc - 1, argv + 1);
	if (strcmp(cmd, "http-get") == 0 || strcmp(cmd, "http-post") == 0) {
		bool post = cmd[5] == 'p';

		if (argc > 2 && is_help(argv[2])) {
			fputs(usage_http, stdout);
			return 0;
		}
		if (argc != (post ? 4 : 3))
			return bad_usage("bad arguments", usage_http);
		return dirtool_http(argv[2], post ? argv[3] : NULL);
	}
	if (argc == 2 && is_help(cmd)) {
		fputs(usage, stdout);
		return 0;
	}
	if (argc == 3 && (strcmp(cmd, "--config") == 0 || strcmp(cmd, "-f") == 0))
		return cmd_run(argv[2]);
	return bad_usage(argc < 2 ? "no command" : "bad arguments", usage);
}
