/* Tests for common/config. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/config.h"
#include "common/util.h"
#include "tests/check.h"

static const struct config_key known[] = {
	{ "Nickname", false, true },
	{ "Port", false, false },
	{ "Listen", false, false },
	{ "Authority", true, false },
	{ "Mailbox", false, false },
	{ "DataDir", false, false },
};

static struct config *
parse(const char *text)
{
	return config_parse("t.conf", text, strlen(text), known, ARRAY_LEN(known));
}

static void
test_good(void)
{
	struct config *cfg = parse("# a relay\n"
				   "\n"
				   "Nickname   alpha  \n"
				   "  Port 9001 # the OR port\n"
				   "\tListen\t127.0.0.1:9001\r\n"
				   "Authority aa bb  cc\n"
				   "Authority dd#notacomment\n"
				   "Mailbox yes\n"
				   "DataDir /var/lib/burrow");
	const struct config_entry *e;
	char host[64];
	uint16_t port;

	CHECK(cfg->errors == NULL);
	CHECK_EQ(cfg->nerrors, 0);
	CHECK_EQ(cfg->n, 7);
	CHECK_STR(config_str(cfg, "Nickname", NULL), "alpha");
	CHECK_EQ(config_find(cfg, "Nickname")->line, 3);
	CHECK_EQ(config_u64(cfg, "Port", 1, 65535, 0), 9001);
	CHECK_EQ(config_hostport(cfg, "Listen", host, &port), 0);
	CHECK_STR(host, "127.0.0.1");
	CHECK_EQ(port, 9001);
	CHECK(config_bool(cfg, "Mailbox", false));
	CHECK_STR(config_str(cfg, "DataDir", NULL), "/var/lib/burrow");
	e = config_next(cfg, "Authority", NULL);
	CHECK(e != NULL && strcmp(e->value, "aa bb  cc") == 0 && e->line == 6);
	e = config_next(cfg, "Authority", e);
	CHECK(e != NULL && strcmp(e->value, "dd#notacomment") == 0 && e->line == 7);
	CHECK(config_next(cfg, "Authority", e) == NULL);
	CHECK(config_find(cfg, "Authority") == e);	/* the last one */
	/* Absent keys give the default. */
	CHECK_STR(config_str(cfg, "Nope", "def"), "def");
	CHECK_EQ(config_u64(cfg, "Nope", 0, 10, 7), 7);
	CHECK(config_bool(cfg, "Nope", true));
	CHECK_EQ(config_hostport(cfg, "Nope", host, &port), ERR_NOT_FOUND);
	CHECK_EQ(config_report(cfg), 0);
	CHECK_EQ(cfg->nerrors, 0);
	config_free(cfg);
	config_free(NULL);
}

static void
test_each_error(void)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{ "Nickname a\nPort\n", "t.conf:2: Port: missing value\n" },
		{ "Nickname a\nPort   # no value\n", "t.conf:2: Port: missing value\n" },
		{ "Nickname a\nFoo 1\n", "t.conf:2: unknown key 'Foo'\n" },
		{ "Nickname a\nNickame b\n",
		  "t.conf:2: unknown key 'Nickame'; did you mean 'Nickname'?\n" },
		{ "Nickname a\nport 1\n", "t.conf:2: unknown key 'port'; did you mean 'Port'?\n" },
		{ "Nickname a\n\nNickname b\n", "t.conf:3: Nickname: repeated (first set on line 1)\n" },
		{ "Port 1\n", "t.conf: missing required key 'Nickname'\n" },
		{ "Nickname a\n9Port 1\n", "t.conf:2: bad key '9Port': keys start with a letter\n" },
		{ "Nickname a\nPo-rt 1\n", "t.conf:2: bad key 'Po-rt': keys are letters and digits\n" },
		{ "Nickname a\nPort 1\x01\n", "t.conf:2: control character 0x01 in line\n" },
		{ "Nickname a\nPort 1\x7f\n", "t.conf:2: control character 0x7f in line\n" },
		{ "Nickname a\nPort 1\rx\n", "t.conf:2: control character 0x0d in line\n" },
	};

	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct config *cfg = parse(cases[i].text);

		CHECK_STR(cfg->errors, cases[i].want);
		CHECK_EQ(cfg->nerrors, 1);
		config_free(cfg);
	}
}

static void
test_nul_and_long_lines(void)
{
	static const char with_nul[] = "Nickname a\nPort 1\0 2\nDataDir x\n";
	struct config *cfg;
	char *big;
	size_t n;

	cfg = config_parse("t.conf", with_nul, sizeof(with_nul) - 1, known, ARRAY_LEN(known));
	CHECK_STR(cfg->errors, "t.conf:2: NUL byte in line\n");
	CHECK_STR(config_str(cfg, "DataDir", NULL), "x");
	config_free(cfg);

	/* A line of exactly CONFIG_MAX_LINE bytes is fine; one more is not. */
	n = strlen("Nickname a\nDataDir ") + CONFIG_MAX_LINE + 2;
	big = xmalloc(n + 1);
	strcpy(big, "Nickname a\nDataDir ");
	memset(big + strlen(big), 'x', CONFIG_MAX_LINE - strlen("DataDir "));
	big[strlen("Nickname a\n") + CONFIG_MAX_LINE] = '\0';
	cfg = parse(big);
	CHECK_EQ(cfg->nerrors, 0);
	CHECK_EQ(strlen(config_str(cfg, "DataDir", "")), CONFIG_MAX_LINE - strlen("DataDir "));
	config_free(cfg);
	strcat(big, "y");
	cfg = parse(big);
	CHECK_STR(cfg->errors, "t.conf:2: line is longer than 4096 bytes\n");
	config_free(cfg);
	free(big);

	/* Over CONFIG_MAX_BYTES as a whole. */
	big = xmalloc(CONFIG_MAX_BYTES + 1);
	memset(big, '\n', CONFIG_MAX_BYTES + 1);
	cfg = config_parse("t.conf", big, CONFIG_MAX_BYTES + 1, known, ARRAY_LEN(known));
	CHECK_STR(cfg->errors, "t.conf: file is larger than 1048576 bytes\n");
	config_free(cfg);
	free(big);
}

static void
test_all_errors(void)
{
	struct config *cfg = parse("Foo 1\n"
				   "Port\n"
				   "Port 70000\n"
				   "Listen nowhere\n"
				   "Listen 1.2.3.4:5\n"
				   "Mailbox maybe\n"
				   "ok\n");
	char host[64];
	uint16_t port;

	CHECK_STR(cfg->errors, "t.conf:1: unknown key 'Foo'\n"
			       "t.conf:2: Port: missing value\n"
			       "t.conf:5: Listen: repeated (first set on line 4)\n"
			       "t.conf:7: unknown key 'ok'\n"
			       "t.conf: missing required key 'Nickname'\n");
	CHECK_EQ(cfg->nerrors, 5);
	/* Typed getters append their own errors. */
	CHECK_EQ(config_u64(cfg, "Port", 1, 65535, 42), 42);
	CHECK_EQ(config_hostport(cfg, "Listen", host, &port), ERR_CONFIG);
	CHECK_STR(host, "");
	CHECK_EQ(port, 0);
	CHECK(config_bool(cfg, "Mailbox", true));
	CHECK_EQ(cfg->nerrors, 8);
	CHECK(strstr(cfg->errors, "t.conf:3: Port: must be an integer between 1 and 65535\n"));
	CHECK(strstr(cfg->errors,
		     "t.conf:4: Listen: must be IPV4:PORT with a port between 1 and 65535\n"));
	CHECK(strstr(cfg->errors,
		     "t.conf:6: Mailbox: must be one of 0, 1, yes, no, true, false\n"));
	config_error(cfg, NULL, "Mailbox and Port %s", "conflict");
	CHECK(strstr(cfg->errors, "\nt.conf: Mailbox and Port conflict\n"));
	config_error(cfg, config_find(cfg, "Mailbox"), "%s: odd", "Mailbox");
	CHECK(strstr(cfg->errors, "\nt.conf:6: Mailbox: odd\n"));
	CHECK_EQ(cfg->nerrors, 10);
	fprintf(stderr, "(expected error report follows)\n");
	CHECK_EQ(config_report(cfg), ERR_CONFIG);
	config_free(cfg);
}

static void
test_bool_values(void)
{
	static const char *const t[] = { "1", "yes", "true" }, *const f[] = { "0", "no", "false" };

	for (size_t i = 0; i < 3; i++) {
		char *text = xasprintf("Nickname a\nMailbox %s\n", t[i]);
		struct config *cfg = parse(text);

		CHECK(config_bool(cfg, "Mailbox", false));
		CHECK_EQ(cfg->nerrors, 0);
		config_free(cfg);
		free(text);
		text = xasprintf("Nickname a\nMailbox %s\n", f[i]);
		cfg = parse(text);
		CHECK(!config_bool(cfg, "Mailbox", true));
		CHECK_EQ(cfg->nerrors, 0);
		config_free(cfg);
		free(text);
	}
}

static void
test_many_errors_capped(void)
{
	size_t n = 100000;
	char *text = xmalloc(n);
	struct config *cfg;

	for (size_t i = 0; i < n; i += 2) {
		text[i] = 'x';
		text[i + 1] = '\n';
	}
	cfg = config_parse("t.conf", text, n, known, ARRAY_LEN(known));
	CHECK_EQ(cfg->nerrors, 50001);	/* 50,000 lines and the missing Nickname */
	CHECK(strlen(cfg->errors) < 10000);
	CHECK(strstr(cfg->errors, "too many errors") != NULL);
	config_free(cfg);
	free(text);
}

static void
test_load(void)
{
	char dir[] = "/tmp/burrow-test-config-XXXXXX";
	const char *tmpdir = getenv("TMPDIR");
	char *d, *path, *missing;
	struct config *cfg;
	FILE *f;

	if (tmpdir && *tmpdir)
		d = xasprintf("%s/burrow-test-config-XXXXXX", tmpdir);
	else
		d = xstrdup(dir);
	CHECK(mkdtemp(d) != NULL);
	path = xasprintf("%s/relay.conf", d);
	missing = xasprintf("%s/missing.conf", d);
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		fputs("Nickname beta\nPort 0\n", f);
		fclose(f);
	}
	cfg = config_load(path, known, ARRAY_LEN(known));
	CHECK_EQ(cfg->nerrors, 0);
	CHECK_STR(config_str(cfg, "Nickname", NULL), "beta");
	CHECK_EQ(config_u64(cfg, "Port", 1, 65535, 9), 9);
	{
		char *want = xasprintf("%s:2: Port: must be an integer between 1 and 65535\n", path);

		CHECK_STR(cfg->errors, want);
		free(want);
	}
	config_free(cfg);

	cfg = config_load(missing, known, ARRAY_LEN(known));
	{
		char *want = xasprintf("%s: cannot read: No such file or directory\n", missing);

		CHECK_STR(cfg->errors, want);
		free(want);
	}
	config_free(cfg);

	cfg = config_load(d, known, ARRAY_LEN(known));
	CHECK_EQ(cfg->nerrors, 1);
	CHECK(cfg->errors && strstr(cfg->errors, "not a regular file"));
	config_free(cfg);

	/* Too big on disk. */
	f = fopen(path, "w");
	CHECK(f != NULL);
	if (f) {
		for (unsigned i = 0; i <= CONFIG_MAX_BYTES / 16; i++)
			fputs("# 16 bytes ....\n", f);
		fclose(f);
	}
	cfg = config_load(path, known, ARRAY_LEN(known));
	CHECK_EQ(cfg->nerrors, 1);
	CHECK(cfg->errors && strstr(cfg->errors, "file is larger than"));
	config_free(cfg);

	unlink(path);
	CHECK_EQ(rmdir(d), 0);
	free(path);
	free(missing);
	free(d);
}

int
main(int argc, char **argv)
{
	check_begin(argv[0]);
	RUN(test_good);
	RUN(test_each_error);
	RUN(test_nul_and_long_lines);
	RUN(test_all_errors);
	RUN(test_bool_values);
	RUN(test_many_errors_capped);
	RUN(test_load);
	return check_end();
}
