/* burrow contacts add|list|remove. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client/cmd.h"
#include "client/identity.h"
#include "client/store.h"
#include "common/util.h"

static const char contacts_usage[] =
	"usage: burrow contacts add NAME ADDRESS\n"
	"       burrow contacts list [--json]\n"
	"       burrow contacts remove NAME\n"
	"  Names are 1-64 letters, digits, '_', '.' or '-'. Use a name wherever an\n"
	"  address is expected (send, fingerprint).\n";

static int
contacts_add(struct client *c, const char *name, const char *addr)
{
	struct address a;
	char canon[ADDRESS_STR_LEN + 1];
	int pos, r;

	if (!store_contact_name_ok(name)) {
		client_err("bad contact name '%s': use 1-64 letters, digits, '_', '.' or '-', "
			   "not starting with brw1", name);
		return EXIT_USAGE;
	}
	r = address_parse(&a, addr, &pos);
	if (r != 0) {
		if (r == ERR_MALFORMED && pos >= 0)
			client_err("%s (bad character at position %d)", address_err_str(r), pos + 1);
		else
			client_err("%s", address_err_str(r));
		return EXIT_ADDRESS;
	}
	address_encode(canon, &a);
	r = store_contact_add(c->st, name, canon);
	if (r == ERR_EXISTS) {
		client_err("a contact called '%s' exists already", name);
		return EXIT_FAIL;
	}
	if (r != 0) {
		client_err("cannot add the contact: %s", err_str(r));
		return EXIT_FAIL;
	}
	if (!c->json)
		printf("added %s\n", name);
	return 0;
}

static int
contacts_list(struct client *c)
{
	struct store_contact *list;
	size_t n, i;
	json_t *arr = c->json ? json_array() : NULL;

	if (store_contact_list(c->st, &list, &n) != 0) {
		client_err("cannot read contacts");
		json_decref(arr);
		return EXIT_FAIL;
	}
	for (i = 0; i < n; i++) {
		struct address a;
		char half[SAFETY_HALF_STR_LEN + 1] = "?";

		if (address_parse(&a, list[i].address, NULL) == 0)
			safety_half(half, a.id_pk);
		if (arr) {
			json_t *o = json_object();

			json_object_set_new(o, "name", json_string(list[i].name));
			json_object_set_new(o, "address", json_string(list[i].address));
			json_object_set_new(o, "fingerprint", json_string(half));
			json_object_set_new(o, "added", json_integer((json_int_t)list[i].added));
			json_array_append_new(arr, o);
		} else {
			printf("%-16s %s\n", list[i].name, list[i].address);
		}
	}
	if (arr)
		cmd_json_print(arr);
	else if (n == 0)
		printf("no contacts (add one with: burrow contacts add NAME ADDRESS)\n");
	store_contacts_free(list, n);
	return 0;
}

int
cmd_contacts(struct client *c, int argc, char **argv)
{
	char *args[3];
	int i, n = 0, rc;

	if (cmd_wants_help(argc, argv, contacts_usage))
		return 0;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			c->json = true;
		else if (n < 3)
			args[n++] = argv[i];
		else
			return cmd_usage_error(contacts_usage, "too many arguments");
	}
	if (n == 0)
		return cmd_usage_error(contacts_usage, "missing subcommand");
	if ((rc = cmd_prepare(c, false)) != 0)
		return rc;
	if (strcmp(args[0], "add") == 0) {
		if (n != 3)
			return cmd_usage_error(contacts_usage, "contacts add needs NAME ADDRESS");
		return contacts_add(c, args[1], args[2]);
	}
	if (strcmp(args[0], "list") == 0) {
		if (n != 1)
			return cmd_usage_error(contacts_usage, "contacts list takes no argument");
		return contacts_list(c);
	}
	if (strcmp(args[0], "remove") == 0) {
		int r;

		if (n != 2)
			return cmd_usage_error(contacts_usage, "contacts remove needs NAME");
		r = store_contact_remove(c->st, args[1]);
		if (r == ERR_NOT_FOUND) {
			client_err("unknown contact '%s'", args[1]);
			return EXIT_CONTACT;
		}
		return r ? EXIT_FAIL : 0;
	}
	return cmd_usage_error(contacts_usage, "unknown subcommand '%s'", args[0]);
}
