/* burrow send, flush, status. */
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
#include "client/netdir.h"
#include "client/send.h"
#include "client/store.h"
#include "common/encode.h"
#include "common/util.h"

static const char *const out_state_name[] = { "sending", "delivered", "failed" };

static const char *
out_state_str(enum store_out_state s)
{
	return (unsigned)s < ARRAY_LEN(out_state_name) ? out_state_name[s] : "?";
}

/* Messages still sending (msg > 0: just that one). */
static size_t
still_sending(struct client *c, int64_t msg)
{
	struct store_out_msg *m;
	size_t n, i, k = 0;

	if (store_out_list(c->st, &m, &n) != 0)
		return 0;
	for (i = 0; i < n; i++)
		if (m[i].state == OUT_SENDING && (msg <= 0 || m[i].id == msg))
			k++;
	store_out_msgs_free(m, n);
	return k;
}

static void
ack_bar(struct client *c, int64_t msg)
{
	struct store_out_msg m;
	char bar[41];
	size_t fill, i;

	if (store_out_get(c->st, msg, &m) != 0)
		return;
	fill = m.count ? (size_t)m.acked * 40 / m.count : 40;
	for (i = 0; i < 40; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[40] = '\0';
	fprintf(stderr, "\r[%s] %u/%u acknowledged", bar, m.acked, m.count);
	if (m.state != OUT_SENDING)
		fputc('\n', stderr);
	fflush(stderr);
	store_out_msg_clear(&m);
}

/* Send what is due; with wait, keep fetching acknowledgements and
 * resending until nothing (or msg) is still sending, or the wait times
 * out. The pause between rounds is taken only when the last round sent
 * less than a window: while a large message still has fragments due, the
 * next round starts at once (acks are collected between windows).
 * Returns 0, or an exit code (printed). */
static int
deliver(struct client *c, int64_t msg, bool wait, bool progress, struct send_stats *first)
{
	struct send_stats ss;
	struct fetch_stats fs;
	uint64_t deadline = mono_ns() + c->cfg.wait_max_ms * 1000000;
	size_t window = wait ? c->cfg.send_window : 0;
	int r;

	r = send_pump(c, 0, window, progress && !wait, &ss);
	if (first)
		*first = ss;
	if (r != 0 && r != ERR_CLOSED)
		return client_exit_for(r);
	if (r == ERR_CLOSED && !wait) {
		client_err("no relay reachable: the message waits in the outbox (burrow flush)");
		return EXIT_NETWORK;
	}
	while (wait && still_sending(c, msg) > 0) {
		if (mono_ns() > deadline) {
			if (progress && msg > 0)
				fputc('\n', stderr);
			client_err("gave up waiting after %llu s: the outbox keeps the message "
				   "(burrow flush --wait)", (unsigned long long)(c->cfg.wait_max_ms / 1000));
			return EXIT_TIMEOUT;
		}
		if (r != 0 || ss.sent + ss.failed < window)
			usleep((useconds_t)(c->cfg.poll_ms * 1000));
		r = fetch_run(c, &fs);
		if (r == ERR_AUTH) {
			client_err("the home mailbox node refused our proof of the key");
			return EXIT_FAIL;
		}
		r = send_pump(c, 0, window, false, &ss);
		if (r != 0 && r != ERR_CLOSED)
			return client_exit_for(r);
		if (progress && msg > 0)
			ack_bar(c, msg);
	}
	return 0;
}

static json_t *
out_json(const struct store_out_msg *m)
{
	json_t *o = json_object();

	{
		char buf[24];

		snprintf(buf, sizeof(buf), "%lld", (long long)m->id);
		json_object_set_new(o, "id", json_string(buf));
	}
	json_object_set_new(o, "to", json_string(m->label));
	json_object_set_new(o, "address", json_string(m->to));
	json_object_set_new(o, "size", json_integer((json_int_t)m->total_len));
	json_object_set_new(o, "signed", json_boolean(m->is_signed));
	json_object_set_new(o, "state", json_string(out_state_str(m->state)));
	json_object_set_new(o, "fragments", json_integer(m->count));
	json_object_set_new(o, "acked", json_integer(m->acked));
	json_object_set_new(o, "in_flight", json_integer(m->sent));
	json_object_set_new(o, "pending", json_integer(m->pending));
	json_object_set_new(o, "failed", json_integer(m->failed));
	json_object_set_new(o, "packets_sent", json_integer((json_int_t)m->sends));
	json_object_set_new(o, "created", json_integer((json_int_t)m->created));
	return o;
}

static void
out_line(const struct store_out_msg *m)
{
	char sz[32];

	cmd_size_str(sz, sizeof(sz), m->total_len);
	printf("%4lld  %-9s %-20.20s %9s  %u/%u acked", (long long)m->id, out_state_str(m->state),
	       m->label, sz, m->acked, m->count);
	if (m->failed)
		printf(", %u failed", m->failed);
	printf("\n");
}

static const char send_usage[] =
	"usage: burrow send TO [--file PATH] [--sign] [--wait] [--json]\n"
	"  Send a message to TO (an address or a contact name): the text on standard\n"
	"  input, or the file PATH (up to 128 MiB). Anonymous unless --sign, which\n"
	"  adds your identity and a signature the recipient verifies. Each packet\n"
	"  takes a fresh path and carries a reply block for its acknowledgement;\n"
	"  --wait returns only when every fragment is acknowledged (or failed).\n"
	"  Without --wait, run 'burrow flush' later to collect acknowledgements and\n"
	"  resend what was lost.\n";

int
cmd_send(struct client *c, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "file", required_argument, NULL, 'f' },
		{ "sign", no_argument, NULL, 's' },
		{ "wait", no_argument, NULL, 'w' },
		{ "json", no_argument, NULL, 'j' },
		/* Hidden: a test hook, refused unless client_test_hooks(). */
		{ "test-forge-signature", no_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	const char *file = NULL, *to;
	bool sign = false, wait = false, progress;
	struct address a;
	struct store_out_msg m;
	struct send_stats first;
	char *label = NULL;
	uint8_t *msg = NULL;
	size_t len = 0;
	int64_t id = 0;
	int o, r, rc;

	memset(&first, 0, sizeof(first));
	if (cmd_wants_help(argc, argv, send_usage))
		return 0;
	optind = 0;
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'f': file = optarg; break;
		case 's': sign = true; break;
		case 'w': wait = true; break;
		case 'j': c->json = true; break;
		case 'F':
			if (!client_test_hooks())
				return cmd_usage_error(send_usage, "bad option");
			c->test_forge_signature = true;
			break;
		default: return cmd_usage_error(send_usage, "bad option");
		}
	}
	if (optind + 1 != argc)
		return cmd_usage_error(send_usage, "send needs exactly one recipient");
	to = argv[optind];
	if ((rc = cmd_prepare(c, true)) != 0)
		return rc;
	if ((rc = cmd_resolve(c, to, &a, &label)) != 0)
		return rc;
	rc = EXIT_FAIL;
	if (file == NULL && isatty(0) && !c->json)
		fprintf(stderr, "type the message, then Ctrl-D:\n");
	if ((rc = cmd_read_input(file, MSG_MAX_LEN, &msg, &len)) != 0)
		goto out;
	if ((sign || wait) && client_unlock(c) != 0) {
		rc = EXIT_PASSPHRASE;
		goto out;
	}
	r = client_consensus(c);
	if (r != 0) {
		rc = client_exit_for(r);
		goto out;
	}
	r = send_queue(c, &a, label, msg, len, sign, &id);
	if (r != 0) {
		client_err("cannot queue the message: %s", err_str(r));
		goto out;
	}
	progress = isatty(2) && !c->json && frag_count_for(len, SEND_FRAG_SPACE, sign) > 1;
	rc = deliver(c, id, wait, progress, &first);
	if (store_out_get(c->st, id, &m) == 0) {
		if (m.state == OUT_FAILED) {
			send_report_failed(c, id);
			if (rc == 0)
				rc = EXIT_SEND_FAILED;
		}
		if (c->json) {
			json_t *jo = out_json(&m), *paths = json_array(), *p1 = json_array();
			uint64_t tried = m.count - m.pending;
			unsigned i;

			for (i = 0; i < first.first_nhops; i++)
				json_array_append_new(p1, json_string(first.first_path[i]));
			json_array_append_new(paths, p1);
			json_object_set_new(jo, "paths", paths);
			json_object_set_new(jo, "retransmissions",
					    json_integer((json_int_t)(m.sends > tried ? m.sends - tried
										      : 0)));
			if (m.state == OUT_FAILED)
				json_object_set_new(jo, "error", json_string("fragments ran out of tries"));
			else if (rc == EXIT_TIMEOUT)
				json_object_set_new(jo, "error", json_string("gave up waiting for acks"));
			cmd_json_print(jo);
		} else if (m.state == OUT_DELIVERED)
			printf("message %lld to %s delivered (%u packets acknowledged, %llu sent)\n",
			       (long long)id, label, m.count, (unsigned long long)m.sends);
		else if (m.state == OUT_SENDING && rc == 0)
			printf("message %lld to %s sent in %u packets; run 'burrow flush' to collect "
			       "acknowledgements\n", (long long)id, label, m.count);
		store_out_msg_clear(&m);
	}
out:
	if (msg)
		sodium_memzero(msg, len);
	free(msg);
	free(label);
	return rc;
}

static const char flush_usage[] =
	"usage: burrow flush [--wait] [--json]\n"
	"  Resume interrupted sends: collect acknowledgements from your mailbox,\n"
	"  resend fragments whose acknowledgement is overdue (over a new path), and\n"
	"  send what was never sent. --wait keeps going until nothing is left.\n";

int
cmd_flush(struct client *c, int argc, char **argv)
{
	struct fetch_stats fs;
	struct store_out_msg *m;
	size_t n, i;
	bool wait = false;
	int rc, r, failed = 0;

	if (cmd_wants_help(argc, argv, flush_usage))
		return 0;
	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--wait") == 0)
			wait = true;
		else if (strcmp(argv[i], "--json") == 0)
			c->json = true;
		else
			return cmd_usage_error(flush_usage, "unexpected argument '%s'", argv[i]);
	}
	if ((rc = cmd_prepare_online(c)) != 0)
		return rc;
	r = fetch_run(c, &fs);
	if (r != 0)
		client_err("could not fetch acknowledgements: %s", err_str(r));
	rc = deliver(c, 0, wait, false, NULL);
	if (store_out_list(c->st, &m, &n) != 0)
		return EXIT_FAIL;
	json_t *arr = c->json ? json_array() : NULL;
	for (i = 0; i < n; i++) {
		if (m[i].state == OUT_FAILED) {
			send_report_failed(c, m[i].id);
			failed++;
		}
		if (arr)
			json_array_append_new(arr, out_json(&m[i]));
		else if (m[i].state == OUT_SENDING || m[i].state == OUT_FAILED)
			out_line(&m[i]);
	}
	if (arr)
		cmd_json_print(arr);
	else if (still_sending(c, 0) == 0 && failed == 0)
		printf("outbox: everything delivered\n");
	store_out_msgs_free(m, n);
	if (rc == 0 && failed)
		rc = EXIT_SEND_FAILED;
	return rc;
}

static const char status_usage[] =
	"usage: burrow status [--json]\n"
	"  Show the consensus in use (age, signatures), your home mailbox node and\n"
	"  the messages in the outbox with their state.\n";

int
cmd_status(struct client *c, int argc, char **argv)
{
	struct store_out_msg *m = NULL;
	size_t n = 0, i, idx;
	char hex[HEX_LEN(NODE_ID_LEN) + 1];
	uint64_t now = time_now();
	int rc, r;
	json_t *o = NULL, *co = NULL, *arr = NULL;
	bool in_cons = false;

	if (cmd_wants_help(argc, argv, status_usage))
		return 0;
	for (i = 1; i < (size_t)argc; i++) {
		if (strcmp(argv[i], "--json") == 0)
			c->json = true;
		else
			return cmd_usage_error(status_usage, "unexpected argument '%s'", argv[i]);
	}
	if ((rc = cmd_prepare(c, true)) != 0)
		return rc;
	r = client_consensus(c);
	if (c->json) {
		o = json_object();
		co = json_object();
		arr = json_array();
	}
	if (r == 0) {
		const struct dirdoc_consensus *k = c->cons;
		size_t mb = 0, mix = 0;

		for (i = 0; i < k->nrelays; i++) {
			if (k->relays[i].flags & DIRDOC_FLAG_MAILBOX)
				mb++;
			if (k->relays[i].roles & DIRDOC_ROLE_MIX)
				mix++;
		}
		in_cons = netdir_index(k, c->mailbox_node, &idx) == 0;
		if (co) {
			json_object_set_new(co, "valid", json_true());
			json_object_set_new(co, "epoch", json_integer((json_int_t)k->epoch));
			json_object_set_new(co, "valid_after", json_integer((json_int_t)k->valid_after));
			json_object_set_new(co, "fresh_until", json_integer((json_int_t)k->fresh_until));
			json_object_set_new(co, "valid_until", json_integer((json_int_t)k->valid_until));
			json_object_set_new(co, "age_seconds",
					    json_integer((json_int_t)(now - k->valid_after)));
			json_object_set_new(co, "signatures", json_integer((json_int_t)k->nsigs));
			json_object_set_new(co, "authorities", json_integer((json_int_t)c->cfg.nauth));
			json_object_set_new(co, "relays", json_integer((json_int_t)k->nrelays));
			json_object_set_new(co, "mix_relays", json_integer((json_int_t)mix));
			json_object_set_new(co, "mailbox_nodes", json_integer((json_int_t)mb));
			json_object_set_new(co, "cached", json_boolean(c->cons_from_cache));
		} else {
			printf("consensus: epoch %llu, %llu s old (valid until %llu s from now), "
			       "signed by %zu of %zu pinned authorities%s\n",
			       (unsigned long long)k->epoch,
			       (unsigned long long)(now - k->valid_after),
			       (unsigned long long)(k->valid_until - now), k->nsigs, c->cfg.nauth,
			       now >= k->fresh_until ? " (past fresh-until)" : "");
			printf("network: %zu relays, %zu mix, %zu mailbox nodes\n", k->nrelays, mix, mb);
		}
	} else if (co) {
		json_object_set_new(co, "valid", json_false());
	} else {
		printf("consensus: none usable (see above)\n");
	}
	hex_encode(hex, c->mailbox_node, NODE_ID_LEN);
	if (o) {
		json_t *mo = json_object();

		json_object_set_new(mo, "node_id", json_string(hex));
		if (in_cons)
			json_object_set_new(mo, "nickname",
					    json_string(c->cons->relays[idx].nickname));
		json_object_set_new(mo, "in_consensus", json_boolean(in_cons));
		json_object_set_new(o, "consensus", co);
		json_object_set_new(o, "mailbox", mo);
	} else {
		printf("home mailbox node: %s %s%s\n", in_cons ? c->cons->relays[idx].nickname : "",
		       hex, in_cons ? "" : " (NOT in the consensus)");
	}
	if (store_out_list(c->st, &m, &n) == 0) {
		size_t counts[3] = { 0, 0, 0 };

		for (i = 0; i < n; i++) {
			if ((unsigned)m[i].state < 3)
				counts[m[i].state]++;
			if (arr)
				json_array_append_new(arr, out_json(&m[i]));
		}
		if (!o) {
			printf("outbox: %zu sending, %zu delivered, %zu failed\n", counts[0],
			       counts[1], counts[2]);
			for (i = 0; i < n; i++)
				out_line(&m[i]);
		}
		store_out_msgs_free(m, n);
	}
	if (o) {
		json_object_set_new(o, "outbox", arr);
		cmd_json_print(o);
	}
	return r == 0 ? 0 : client_exit_for(r);
}
