/* Tests for relay/relay_config: defaults, every key, errors as file:line. */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "relay/relay_config.h"
#include "tests/check.h"

#define AUTH1 "Authority 0101010101010101010101010101010101010101010101010101010101010101 127.0.0.1:9001\n"
#define AUTH2 "Authority 0202020202020202020202020202020202020202020202020202020202020202 127.0.0.1:9002\n"
#define BASE "Nickname Relay1\nListen 127.0.0.1:9301\nDataDirectory /tmp/x\n" AUTH1 AUTH2

static int
parse(struct relay_config *rc, const char *text, char **errs)
{
	return relay_config_parse(rc, "t.conf", text, strlen(text), errs);
}

static void
test_defaults(void)
{
	struct relay_config rc;
	char *errs = NULL;

	CHECK_EQ(parse(&rc, BASE, &errs), 0);
	CHECK(errs == NULL);
	CHECK_STR(rc.nickname, "Relay1");
	CHECK_EQ(rc.listen_port, 9301);
	CHECK_EQ(rc.nauth, 2);
	CHECK_EQ(rc.auth[1].pk[0], 2);
	CHECK_EQ(rc.auth[1].port, 9002);
	CHECK_EQ(rc.roles, RELAY_ROLE_MIX);
	CHECK(!rc.metrics);
	CHECK(rc.workers >= 1);
	CHECK_EQ(rc.handshake_timeout_s, 10);
	CHECK_EQ(rc.queue_limit, 65536);
	CHECK_EQ(rc.unrouted_hold_ms, 2000);
	CHECK(!rc.log_deposit_peers);
	CHECK_EQ(rc.mbox_time_grain_s, 60);
	CHECK_EQ(rc.link_sockbuf, 0);
	relay_config_clear(&rc);
}

static void
test_all_keys(void)
{
	struct relay_config rc;
	char *errs = NULL;
	const char *text = BASE "Roles mix,mailbox\nContact a@b.c\nFamily abc\nBandwidth 5000\n"
		"MetricsListen 127.0.0.1:9309\nLogLevel info\nLogFile /tmp/l\nMaxHopDelayMs 50\n"
		"Workers 2\nMaxConnections 10\nPeerRateLimit 0\nHandshakeTimeout 2\n"
		"IdleTimeout 9\nQueueLimit 100\nKeyGrace 1\nEpochSeconds 4\nDrainTimeout 3\n"
		"MailboxMaxMessages 7\nMailboxMaxBytes 4096\nMailboxTTL 60\nMailboxDiskCap 2000000\n"
		"MailboxTimeGrain 1\nLinkSocketBuffer 65536\nReplayCacheEntries 4096\n"
		"UnroutedHoldMs 0\nLogDepositPeers 1\n";

	CHECK_EQ(parse(&rc, text, &errs), 0);
	if (errs)
		fprintf(stderr, "%s", errs);
	CHECK_EQ(rc.roles, RELAY_ROLE_MIX | RELAY_ROLE_MAILBOX);
	CHECK_STR(rc.contact, "a@b.c");
	CHECK(rc.metrics);
	CHECK_EQ(rc.metrics_port, 9309);
	CHECK_EQ(rc.max_hop_delay_ms, 50);
	CHECK_EQ(rc.workers, 2);
	CHECK_EQ(rc.peer_rate_limit, 0);
	CHECK_EQ(rc.epoch_seconds, 4);
	CHECK_EQ(rc.mbox_max_messages, 7);
	CHECK_EQ(rc.mbox_disk_cap, 2000000);
	CHECK_EQ(rc.mbox_time_grain_s, 1);
	CHECK_EQ(rc.link_sockbuf, 65536);
	CHECK_EQ(rc.replay_entries, 4096);
	CHECK_EQ(rc.key_grace_s, 1);
	CHECK_EQ(rc.unrouted_hold_ms, 0);
	CHECK(rc.log_deposit_peers);
	CHECK_STR(relay_roles_str(rc.roles), "mix,mailbox");
	relay_config_clear(&rc);
}

static void
test_errors(void)
{
	struct relay_config rc;
	char *errs = NULL;
	const char *text = "Nickname bad-name\nListen nowhere\nDataDirectory /d\n"
		"Authority 0101 127.0.0.1:1\nRoles mix,exit\nWorkers 0\nBogus 1\n" AUTH1 AUTH1;

	CHECK_EQ(parse(&rc, text, &errs), ERR_CONFIG);
	CHECK(errs != NULL);
	if (errs) {
		CHECK(strstr(errs, "t.conf:1:") != NULL);	/* nickname */
		CHECK(strstr(errs, "t.conf:2:") != NULL);	/* listen */
		CHECK(strstr(errs, "t.conf:4:") != NULL);	/* short key */
		CHECK(strstr(errs, "t.conf:5:") != NULL);	/* unknown role */
		CHECK(strstr(errs, "t.conf:6:") != NULL);	/* workers range */
		CHECK(strstr(errs, "t.conf:7:") != NULL);	/* unknown key */
		CHECK(strstr(errs, "t.conf:9:") != NULL);	/* authority twice */
	}
	free(errs);
	CHECK_EQ(parse(&rc, "Nickname x\n", &errs), ERR_CONFIG);	/* required keys */
	free(errs);
}

int
main(int argc, char **argv)
{
	check_begin(argv[0]);
	crypto_init();
	RUN(test_defaults);
	RUN(test_all_keys);
	RUN(test_errors);
	return check_end();
}
