/* Helpers shared by the commands. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "client/cmd.h"
#include "client/store.h"
#include "common/util.h"

bool
cmd_wants_help(int argc, char **argv, const char *usage)
{
	int i;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--") == 0)
			break;
		if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			fputs(usage, stdout);
			return true;
		}
	}
	return false;
}

int
cmd_usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	client_verr(fmt, ap);
	va_end(ap);
	fputs(usage, stderr);
	return EXIT_USAGE;
}

int
cmd_prepare(struct client *c, bool need_identity)
{
	if (client_config_load(c, true) != 0)
		return EXIT_CONFIG;
	if (client_open_store(c) != 0)
		return EXIT_FAIL;
	if (need_identity && client_load_public(c) != 0)
		return EXIT_CONFIG;
	return 0;
}

int
cmd_prepare_online(struct client *c)
{
	int rc = cmd_prepare(c, true), r;

	if (rc != 0)
		return rc;
	if (client_unlock(c) != 0)
		return EXIT_PASSPHRASE;
	r = client_consensus(c);
	return r == 0 ? 0 : client_exit_for(r);
}

int
cmd_resolve(struct client *c, const char *to, struct address *a, char **label)
{
	char *addr = NULL;
	int pos, r;

	*label = NULL;
	if (strncasecmp(to, "brw1", 4) == 0) {
		r = address_parse(a, to, &pos);
		if (r != 0) {
			if (r == ERR_MALFORMED && pos >= 0)
				client_err("%s (bad character at position %d)", address_err_str(r),
					   pos + 1);
			else
				client_err("%s", address_err_str(r));
			return EXIT_ADDRESS;
		}
		if (store_contact_by_address(c->st, to, label) != 0)
			*label = xstrdup(to);
		return 0;
	}
	r = store_contact_get(c->st, to, &addr);
	if (r == ERR_NOT_FOUND) {
		client_err("unknown contact '%s': add it with 'burrow contacts add %s ADDRESS', or "
			   "give an address (brw1...)", to, to);
		return EXIT_CONTACT;
	}
	if (r != 0) {
		client_err("cannot read contacts: %s", err_str(r));
		return EXIT_FAIL;
	}
	r = address_parse(a, addr, NULL);
	free(addr);
	if (r != 0) {
		client_err("contact '%s' holds a bad address: %s", to, address_err_str(r));
		return EXIT_ADDRESS;
	}
	*label = xstrdup(to);
	return 0;
}

char *
cmd_name_for_key(struct client *c, const uint8_t pk[static ID_PK_LEN])
{
	struct store_contact *list;
	size_t n, i;
	char *name = NULL;

	if (store_contact_list(c->st, &list, &n) != 0)
		return NULL;
	for (i = 0; i < n && name == NULL; i++) {
		struct address a;

		if (address_parse(&a, list[i].address, NULL) == 0 &&
		    sodium_memcmp(a.id_pk, pk, ID_PK_LEN) == 0)
			name = xstrdup(list[i].name);
	}
	store_contacts_free(list, n);
	return name;
}

int
cmd_read_input(const char *path, size_t max, uint8_t **out, size_t *len)
{
	FILE *f = path ? fopen(path, "rb") : stdin;
	uint8_t *buf = NULL;
	size_t n = 0, cap = 0;

	*out = NULL;
	*len = 0;
	if (f == NULL) {
		client_err("cannot open %s: %s", path, strerror(errno));
		return EXIT_FAIL;
	}
	for (;;) {
		size_t k;

		if (n == cap) {
			if (cap > max) {
				client_err("the message is over the %zu MiB limit", max >> 20);
				free(buf);
				if (path)
					fclose(f);
				return EXIT_FAIL;
			}
			cap = cap ? cap * 2 : 65536;
			buf = xrealloc(buf, cap);
		}
		k = fread(buf + n, 1, cap - n, f);
		n += k;
		if (k == 0)
			break;
	}
	if (ferror(f)) {
		client_err("cannot read %s: %s", path ? path : "standard input", strerror(errno));
		free(buf);
		if (path)
			fclose(f);
		return EXIT_FAIL;
	}
	if (path)
		fclose(f);
	if (n > max) {
		client_err("the message is over the %zu MiB limit", max >> 20);
		free(buf);
		return EXIT_FAIL;
	}
	*out = buf;
	*len = n;
	return 0;
}

void
cmd_size_str(char *out, size_t outlen, uint64_t n)
{
	if (n < 1024)
		snprintf(out, outlen, "%llu B", (unsigned long long)n);
	else if (n < 1024 * 1024)
		snprintf(out, outlen, "%.1f KiB", (double)n / 1024);
	else
		snprintf(out, outlen, "%.1f MiB", (double)n / (1024 * 1024));
}

void
cmd_json_print(json_t *v)
{
	json_dumpf(v, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	fputc('\n', stdout);
	json_decref(v);
}
