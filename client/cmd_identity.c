/* burrow init, address, fingerprint. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sodium.h>

#include "client/cmd.h"
#include "client/identity.h"
#include "client/netdir.h"
#include "client/store.h"
#include "common/encode.h"
#include "common/path.h"
#include "common/util.h"

static const char init_usage[] =
	"usage: burrow init [--mailbox NICK|NODEID] [--json]\n"
	"  Create a new identity in the home directory: an Ed25519 key sealed with a\n"
	"  passphrase (asked twice on the terminal, or read from --passphrase-file),\n"
	"  and a home mailbox node chosen at random from the verified consensus, or\n"
	"  the one named with --mailbox. Prints your address.\n";

static void
print_address(struct client *c, const char *nick)
{
	struct address a;
	char s[ADDRESS_STR_LEN + 1], hex[HEX_LEN(NODE_ID_LEN) + 1];
	char half[SAFETY_HALF_STR_LEN + 1];

	client_my_address(c, &a);
	address_encode(s, &a);
	hex_encode(hex, c->mailbox_node, NODE_ID_LEN);
	safety_half(half, c->id_pk);
	if (c->json) {
		json_t *o = json_object();

		json_object_set_new(o, "address", json_string(s));
		json_object_set_new(o, "mailbox_node", json_string(hex));
		if (nick)
			json_object_set_new(o, "mailbox_nickname", json_string(nick));
		json_object_set_new(o, "fingerprint", json_string(half));
		cmd_json_print(o);
	} else {
		printf("%s\n", s);
	}
}

int
cmd_init(struct client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mailbox", required_argument, NULL, 'm' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *mailbox = NULL;
	char *pass = NULL, *path = NULL, *existing = NULL, hex[HEX_LEN(32) + 1];
	struct id_keypair *kp = NULL;
	size_t idx = 0;
	int o, r, rc = EXIT_FAIL;

	if (cmd_wants_help(argc, argv, init_usage))
		return 0;
	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (o == 'm')
			mailbox = optarg;
		else if (o == 'j')
			c->json = true;
		else
			return cmd_usage_error(init_usage, "bad option");
	}
	if (optind != argc)
		return cmd_usage_error(init_usage, "unexpected argument '%s'", argv[optind]);
	if ((rc = cmd_prepare(c, false)) != 0)
		return rc;
	rc = EXIT_FAIL;
	if (store_meta_get(c->st, "identity", &existing) == 0) {
		client_err("%s already holds an identity (address: burrow address)", c->home);
		free(existing);
		return EXIT_FAIL;
	}
	if (!mailbox && c->cfg.mailbox[0])
		mailbox = c->cfg.mailbox;
	r = client_consensus(c);
	if (r != 0)
		return client_exit_for(r);
	if (mailbox) {
		r = netdir_find(c->cons, mailbox, &idx);
		if (r == ERR_DUPLICATE) {
			client_err("more than one relay is called '%s': name it by node id", mailbox);
			return EXIT_USAGE;
		}
		if (r != 0) {
			client_err("no relay '%s' in the consensus", mailbox);
			return EXIT_NOT_FOUND;
		}
		if (!(c->cons->relays[idx].flags & DIRDOC_FLAG_MAILBOX)) {
			client_err("relay '%s' does not serve mailboxes", mailbox);
			return EXIT_USAGE;
		}
	} else {
		size_t i, n = 0;

		for (i = 0; i < c->cons->nrelays; i++)
			if (c->cons->relays[i].flags & DIRDOC_FLAG_MAILBOX)
				n++;
		if (n == 0) {
			client_err("no relay in the consensus serves mailboxes");
			return EXIT_CONSENSUS;
		}
		n = randombytes_uniform((uint32_t)n);
		for (i = 0; i < c->cons->nrelays; i++)
			if ((c->cons->relays[i].flags & DIRDOC_FLAG_MAILBOX) && n-- == 0)
				idx = i;
	}
	if (client_passphrase(c, true, &pass) != 0)
		return EXIT_PASSPHRASE;
	path = client_path(c, "identity.key");
	if (client_test_hooks())
		client_err("warning: %s is set: the key file is sealed with a weak KDF, "
			   "for tests only", CLIENT_TEST_HOOKS_VAR);
	r = identity_create(path, pass, &kp);
	client_passphrase_free(pass);
	if (r == ERR_EXISTS) {
		client_err("%s exists: refusing to overwrite an identity", path);
		goto out;
	}
	if (r != 0) {
		client_err("cannot write %s: %s", path, err_str(r));
		goto out;
	}
	memcpy(c->id_pk, kp->pk, ID_PK_LEN);
	memcpy(c->mailbox_node, c->cons->relays[idx].node_id, NODE_ID_LEN);
	c->have_pk = true;
	hex_encode(hex, c->id_pk, ID_PK_LEN);
	r = store_meta_set(c->st, "identity", hex);
	hex_encode(hex, c->mailbox_node, NODE_ID_LEN);
	if (r == 0)
		r = store_meta_set(c->st, "mailbox_node", hex);
	if (r == 0)
		r = store_meta_set(c->st, "mailbox_nickname", c->cons->relays[idx].nickname);
	if (r != 0) {
		client_err("cannot record the identity: %s", err_str(r));
		goto out;
	}
	if (!c->json)
		fprintf(stderr, "identity created in %s; home mailbox node %s\nyour address:\n",
			c->home, c->cons->relays[idx].nickname);
	print_address(c, c->cons->relays[idx].nickname);
	rc = 0;
out:
	ID_KEYPAIR_FREE(kp);
	free(path);
	return rc;
}

static const char address_usage[] =
	"usage: burrow address [--json]\n"
	"  Print your address: give it to people who should be able to write to you.\n";

int
cmd_address(struct client *c, int argc, char **argv)
{
	char *nick = NULL;
	int rc;

	if (cmd_wants_help(argc, argv, address_usage))
		return 0;
	if (argc == 2 && strcmp(argv[1], "--json") == 0)
		c->json = true;
	else if (argc != 1)
		return cmd_usage_error(address_usage, "unexpected argument '%s'", argv[1]);
	if ((rc = cmd_prepare(c, true)) != 0)
		return rc;
	if (store_meta_get(c->st, "mailbox_nickname", &nick) != 0)
		nick = NULL;
	print_address(c, nick);
	free(nick);
	return 0;
}

static const char fp_usage[] =
	"usage: burrow fingerprint [NAME|ADDRESS] [--json]\n"
	"  Alone: print your own key's fingerprint (30 digits).\n"
	"  With a contact or an address: print the 60-digit safety number you and\n"
	"  they both see; compare it out of band (in person, by phone). If it\n"
	"  matches, nobody swapped the address you were given.\n";

int
cmd_fingerprint(struct client *c, int argc, char **argv)
{
	const char *who = NULL;
	struct address a;
	char *label = NULL, hex[FINGERPRINT_LEN + 1];
	int i, rc;

	if (cmd_wants_help(argc, argv, fp_usage))
		return 0;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			c->json = true;
		else if (argv[i][0] == '-' || who)
			return cmd_usage_error(fp_usage, "unexpected argument '%s'", argv[i]);
		else
			who = argv[i];
	}
	if ((rc = cmd_prepare(c, true)) != 0)
		return rc;
	if (who == NULL) {
		char half[SAFETY_HALF_STR_LEN + 1];

		safety_half(half, c->id_pk);
		key_fingerprint(hex, c->id_pk, ID_PK_LEN);
		if (c->json) {
			json_t *o = json_object();

			json_object_set_new(o, "fingerprint", json_string(half));
			json_object_set_new(o, "key_id", json_string(hex));
			cmd_json_print(o);
		} else {
			printf("%s\n", half);
		}
		return 0;
	}
	if ((rc = cmd_resolve(c, who, &a, &label)) != 0)
		return rc;
	{
		char sn[SAFETY_STR_LEN + 1];

		safety_number(sn, c->id_pk, a.id_pk);
		if (c->json) {
			json_t *o = json_object();

			json_object_set_new(o, "with", json_string(label));
			json_object_set_new(o, "safety_number", json_string(sn));
			cmd_json_print(o);
		} else {
			printf("safety number with %s:\n%.35s\n%s\n", label, sn, sn + 36);
		}
	}
	free(label);
	return 0;
}
