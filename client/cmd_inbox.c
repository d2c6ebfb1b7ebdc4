/* burrow fetch, inbox, read, export. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sodium.h>

#include "client/cmd.h"
#include "client/fetch.h"
#include "client/identity.h"
#include "client/store.h"
#include "common/encode.h"
#include "common/util.h"

static void export_write(struct client *c, FILE *f, bool as_json, const struct store_in_msg *m,
			 size_t n);

static const char fetch_usage[] =
	"usage: burrow fetch [--export] [--json]\n"
	"  Pull your home mailbox: every entry is stored locally and committed\n"
	"  before the mailbox node is told to delete it. Also collects the\n"
	"  acknowledgements of your own sends. --export then prints the whole inbox\n"
	"  as 'burrow export' does (JSON with --json).\n";

int
cmd_fetch(struct client *c, int argc, char **argv)
{
	struct fetch_stats fs;
	bool export = false;
	int i, rc, r;

	if (cmd_wants_help(argc, argv, fetch_usage))
		return 0;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			c->json = true;
		else if (strcmp(argv[i], "--export") == 0)
			export = true;
		else
			return cmd_usage_error(fetch_usage, "unexpected argument '%s'", argv[i]);
	}
	if ((rc = cmd_prepare_online(c)) != 0)
		return rc;
	r = fetch_run(c, &fs);
	if (r == ERR_NOT_FOUND) {
		client_err("your home mailbox node is not in the consensus");
		return EXIT_NETWORK;
	}
	if (r == ERR_AUTH) {
		client_err("the home mailbox node refused our proof of the key");
		return EXIT_FAIL;
	}
	if (r != 0) {
		client_err("fetch failed: %s (what was stored so far is kept)", err_str(r));
		return EXIT_NETWORK;
	}
	if (export) {
		struct store_in_msg *m;
		size_t n;

		if (store_in_list(c->st, &m, &n) != 0)
			return EXIT_FAIL;
		export_write(c, stdout, c->json, m, n);
		free(m);
		fflush(stdout);
		return 0;
	}
	if (c->json) {
		json_t *o = json_object();

		json_object_set_new(o, "entries", json_integer((json_int_t)fs.entries));
		json_object_set_new(o, "fragments", json_integer((json_int_t)fs.fragments));
		json_object_set_new(o, "duplicates", json_integer((json_int_t)fs.duplicates));
		json_object_set_new(o, "completed", json_integer((json_int_t)fs.completed));
		json_object_set_new(o, "acks", json_integer((json_int_t)fs.acks));
		json_object_set_new(o, "unreadable", json_integer((json_int_t)fs.unreadable));
		cmd_json_print(o);
	} else {
		printf("fetched %zu entries: %zu new message%s complete, %zu fragments, "
		       "%zu acknowledgements%s\n", fs.entries, fs.completed,
		       fs.completed == 1 ? "" : "s", fs.fragments, fs.acks,
		       fs.duplicates ? " (duplicates ignored)" : "");
	}
	return 0;
}

/* Ids are strings in JSON: they are names to pass back to `read`. */
static json_t *
json_id(int64_t id)
{
	char buf[24];

	snprintf(buf, sizeof(buf), "%lld", (long long)id);
	return json_string(buf);
}

static const char *
state_str(const struct store_in_msg *m)
{
	switch (m->state) {
	case IN_COMPLETE:
		return "complete";
	case IN_CORRUPT:
		return "corrupt";
	default:
		return "partial";
	}
}

/* Who sent it, in words: contact name, key fingerprint, anonymous, or a
 * loud warning for a signature that does not verify. */
static char *
sender_str(struct client *c, const struct store_in_msg *m)
{
	char fp[SAFETY_HALF_STR_LEN + 1], *name;

	if (m->sig == SIG_NONE)
		return xstrdup(m->state == IN_PARTIAL ? "?" : "anonymous");
	if (m->state == IN_PARTIAL)
		return xstrdup("signed? (partial)");
	safety_half(fp, m->sender_pk);
	if (m->sig == SIG_INVALID)
		return xasprintf("FORGED signature (claims key %.11s)", fp);
	name = cmd_name_for_key(c, m->sender_pk);
	if (name) {
		char *s = xasprintf("%s (verified)", name);

		free(name);
		return s;
	}
	return xasprintf("key %.11s (verified, not a contact)", fp);
}

static json_t *
in_json(struct client *c, const struct store_in_msg *m)
{
	json_t *o = json_object();
	char fp[SAFETY_HALF_STR_LEN + 1], *name;

	json_object_set_new(o, "id", json_id(m->id));
	json_object_set_new(o, "received", json_integer((json_int_t)m->received));
	json_object_set_new(o, "size", json_integer((json_int_t)m->total_len));
	json_object_set_new(o, "state", json_string(state_str(m)));
	json_object_set_new(o, "fragments", json_integer(m->count));
	json_object_set_new(o, "fragments_received", json_integer(m->have));
	json_object_set_new(o, "read", json_boolean(m->read));
	if (m->sig == SIG_NONE) {
		json_object_set_new(o, "signature", json_string(m->state == IN_PARTIAL ? "unknown"
									      : "none"));
	} else if (m->state != IN_PARTIAL) {
		safety_half(fp, m->sender_pk);
		json_object_set_new(o, "signature",
				    json_string(m->sig == SIG_VALID ? "valid" : "invalid"));
		json_object_set_new(o, "sender_fingerprint", json_string(fp));
		name = cmd_name_for_key(c, m->sender_pk);
		if (name && m->sig == SIG_VALID)
			json_object_set_new(o, "sender", json_string(name));
		free(name);
	} else {
		json_object_set_new(o, "signature", json_string("unknown"));
	}
	return o;
}

static const char inbox_usage[] =
	"usage: burrow inbox [--json]\n"
	"  List received messages: id, time, size, sender (when signed) and state.\n"
	"  A partial message (fragments still missing) is never shown as complete.\n"
	"  Run 'burrow fetch' first to pull new messages.\n";

int
cmd_inbox(struct client *c, int argc, char **argv)
{
	struct store_in_msg *m;
	size_t n, i;
	int rc;
	json_t *arr = NULL;

	if (cmd_wants_help(argc, argv, inbox_usage))
		return 0;
	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			c->json = true;
		else
			return cmd_usage_error(inbox_usage, "unexpected argument '%s'", argv[i]);
	}
	if ((rc = cmd_prepare(c, true)) != 0)
		return rc;
	if (store_in_list(c->st, &m, &n) != 0) {
		client_err("cannot read the inbox");
		return EXIT_FAIL;
	}
	if (c->json)
		arr = json_array();
	else if (n == 0)
		printf("inbox empty (burrow fetch pulls new messages)\n");
	for (i = 0; i < n; i++) {
		char when[32], sz[32], *who;
		time_t t = (time_t)m[i].received;
		struct tm tm;

		if (arr) {
			json_array_append_new(arr, in_json(c, &m[i]));
			continue;
		}
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M", localtime_r(&t, &tm));
		cmd_size_str(sz, sizeof(sz), m[i].total_len);
		who = sender_str(c, &m[i]);
		printf("%4lld %c %s %9s  ", (long long)m[i].id, m[i].read ? ' ' : '*', when, sz);
		if (m[i].state == IN_PARTIAL)
			printf("PARTIAL %u/%u  ", m[i].have, m[i].count);
		else if (m[i].state == IN_CORRUPT)
			printf("CORRUPT  ");
		printf("%s\n", who);
		free(who);
	}
	if (arr)
		cmd_json_print(arr);
	free(m);
	return 0;
}

static int
parse_id(const char *s, int64_t *id)
{
	uint64_t v;

	if (parse_u64(s, 1, INT64_MAX, &v) != 0)
		return ERR_MALFORMED;
	*id = (int64_t)v;
	return 0;
}

static int
write_file(const char *path, const uint8_t *p, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t off = 0;

	if (fd < 0)
		return ERR_IO;
	while (off < n) {
		ssize_t k = write(fd, p + off, n - off);

		if (k <= 0) {
			close(fd);
			return ERR_IO;
		}
		off += (size_t)k;
	}
	return close(fd) == 0 ? 0 : ERR_IO;
}

static const char read_usage[] =
	"usage: burrow read ID [--out PATH] [--json]\n"
	"  Print message ID (from burrow inbox) to standard output, or write it to\n"
	"  PATH (mode 0600). A partial or corrupt message is refused. A message\n"
	"  whose signature does not verify is shown with a warning: the sender it\n"
	"  names did NOT send it.\n";

int
cmd_read(struct client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL;
	struct store_in_msg m;
	uint8_t *body = NULL;
	size_t len = 0;
	int64_t id;
	int o, r, rc;

	if (cmd_wants_help(argc, argv, read_usage))
		return 0;
	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'o')
			out = optarg;
		else if (o == 'j')
			c->json = true;
		else
			return cmd_usage_error(read_usage, "bad option");
	}
	if (optind + 1 != argc || parse_id(argv[optind], &id) != 0)
		return cmd_usage_error(read_usage, "read needs one message id (a number)");
	if ((rc = cmd_prepare(c, true)) != 0)
		return rc;
	r = store_in_get(c->st, id, &m);
	if (r == ERR_NOT_FOUND) {
		client_err("no message %lld in the inbox", (long long)id);
		return EXIT_NOT_FOUND;
	}
	if (r != 0)
		return EXIT_FAIL;
	if (m.state == IN_PARTIAL) {
		client_err("message %lld is partial: %u of %u fragments received (burrow fetch "
			   "again later)", (long long)id, m.have, m.count);
		return EXIT_INCOMPLETE;
	}
	if (m.state == IN_CORRUPT) {
		client_err("message %lld failed its integrity check and cannot be shown",
			   (long long)id);
		return EXIT_INCOMPLETE;
	}
	r = store_in_body(c->st, id, &body, &len);
	if (r != 0) {
		client_err("cannot read message %lld: %s", (long long)id, err_str(r));
		return client_exit_for(r);
	}
	if (m.sig == SIG_INVALID)
		client_err("WARNING: message %lld carries a FORGED signature: the key it names "
			   "did not sign it; treat it as anonymous", (long long)id);
	if (c->json) {
		json_t *jo = in_json(c, &m);
		char *b64 = xmalloc(sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL));

		sodium_bin2base64(b64, sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL),
				  body, len, sodium_base64_VARIANT_ORIGINAL);
		json_object_set_new(jo, "body_base64", json_string(b64));
		free(b64);
		if (out == NULL)
			cmd_json_print(jo);
		else
			json_decref(jo);
	}
	if (out) {
		if (write_file(out, body, len) != 0) {
			client_err("cannot write %s: %s", out, strerror(errno));
			free(body);
			return EXIT_FAIL;
		}
	} else if (!c->json) {
		if (fwrite(body, 1, len, stdout) != len) {
			free(body);
			return EXIT_FAIL;
		}
		fflush(stdout);
	}
	if (store_in_mark_read(c->st, id) != 0)
		client_err("cannot mark message %lld read", (long long)id);
	free(body);
	return 0;
}

/* Write the inbox m[0..n) to f, as JSON (an array; complete messages carry
 * body_base64, and "text" when the body is UTF-8) or as text blocks. */
static void
export_write(struct client *c, FILE *f, bool as_json, const struct store_in_msg *m, size_t n)
{
	json_t *arr = as_json ? json_array() : NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		uint8_t *body = NULL;
		size_t len = 0;
		bool have = m[i].state == IN_COMPLETE &&
			    store_in_body(c->st, m[i].id, &body, &len) == 0;

		if (arr) {
			json_t *jo = in_json(c, &m[i]), *text;

			if (have) {
				size_t bl = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
				char *b64 = xmalloc(bl);

				sodium_bin2base64(b64, bl, body, len, sodium_base64_VARIANT_ORIGINAL);
				json_object_set_new(jo, "body_base64", json_string(b64));
				free(b64);
				text = json_stringn((const char *)body, len);
				if (text)
					json_object_set_new(jo, "text", text);
			}
			json_array_append_new(arr, jo);
		} else {
			char *who = sender_str(c, &m[i]);

			fprintf(f, "--- message %lld, received %llu, %llu bytes, %s, from %s\n",
				(long long)m[i].id, (unsigned long long)m[i].received,
				(unsigned long long)m[i].total_len, state_str(&m[i]), who);
			free(who);
			if (have) {
				fwrite(body, 1, len, f);
				if (len && body[len - 1] != '\n')
					fputc('\n', f);
			}
		}
		free(body);
	}
	if (arr) {
		json_dumpf(arr, f, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		fputc('\n', f);
		json_decref(arr);
	}
}

static const char export_usage[] =
	"usage: burrow export [--out FILE] [--format json|text]\n"
	"  Write the whole inbox (JSON by default: metadata and, for complete\n"
	"  messages, the body in base64; text: one block per message) to FILE\n"
	"  (mode 0600) or standard output.\n";

int
cmd_export(struct client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "out", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *format = "json";
	struct store_in_msg *m;
	size_t n;
	FILE *f = stdout;
	int o, rc;

	if (cmd_wants_help(argc, argv, export_usage))
		return 0;
	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'o')
			out = optarg;
		else if (o == 'f')
			format = optarg;
		else if (o == 'j')
			format = "json";
		else
			return cmd_usage_error(export_usage, "bad option");
	}
	if (optind != argc || (strcmp(format, "json") != 0 && strcmp(format, "text") != 0))
		return cmd_usage_error(export_usage, "bad arguments");
	if ((rc = cmd_prepare(c, true)) != 0)
		return rc;
	if (store_in_list(c->st, &m, &n) != 0)
		return EXIT_FAIL;
	if (out) {
		int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

		f = fd >= 0 ? fdopen(fd, "w") : NULL;
		if (f == NULL) {
			client_err("cannot write %s: %s", out, strerror(errno));
			free(m);
			return EXIT_FAIL;
		}
	}
	export_write(c, f, strcmp(format, "json") == 0, m, n);
	free(m);
	if (f != stdout && fclose(f) != 0) {
		client_err("cannot write %s", out);
		return EXIT_FAIL;
	}
	fflush(stdout);
	return 0;
}
