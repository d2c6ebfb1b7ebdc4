/* Tests for sim/scenario.c: the scenario grammar and its file:line errors. */
#include <stdlib.h>
#include <string.h>

#include "common/util.h"
#include "sim/scenario.h"
#include "tests/check.h"

static struct scenario *
parse(const char *text)
{
	return scenario_parse("t.scen", text, strlen(text));
}

static void
test_good(void)
{
	struct scenario *sc = parse("# c\nnetwork authorities 3 relays 6 mailboxes 2 epoch 9\n"
				    "load senders 4 messages 50 rate 2.5 delay 20ms\n"
				    "size uniform 10 100   # trailing comment\n"
				    "at 3 kill relay2\nat 5.5 restart relay2\n"
				    "expect relay2 up\nrequire exactly-once\ntimeout 60\n");

	CHECK_EQ(sc->nerrors, 0);
	CHECK_EQ(sc->relays, 6);
	CHECK_EQ(sc->mailboxes, 2);
	CHECK_EQ(sc->epoch, 9);
	CHECK_EQ(sc->senders, 4);
	CHECK_EQ(sc->messages, 50);
	CHECK(sc->rate == 2.5);
	CHECK_EQ(sc->mean_delay_ms, 20);
	CHECK_EQ(sc->size_dist, SIZE_UNIFORM);
	CHECK_EQ(sc->nevents, 2);
	CHECK_EQ(sc->events[0].action, SCEN_KILL);
	CHECK_STR(sc->events[1].node, "relay2");
	CHECK(sc->events[1].at == 5.5);
	CHECK_EQ(sc->nexpects, 1);
	CHECK(sc->require_exactly_once);
	CHECK(!sc->netns);
	scenario_free(sc);
}

static void
test_errors_name_file_and_line(void)
{
	struct scenario *sc = parse("network relays 5\nload senders x\n\nfrobnicate 3\n"
				    "at 2 kill relay9\nat 1 explode relay1\nsize uniform 9 3\n");

	CHECK_EQ(sc->nerrors, 5);
	CHECK(sc->errors && strstr(sc->errors, "t.scen:2: senders: expected a whole number"));
	CHECK(sc->errors && strstr(sc->errors, "t.scen:4: unknown directive 'frobnicate'"));
	CHECK(sc->errors && strstr(sc->errors, "t.scen:5: no node 'relay9'"));
	CHECK(sc->errors && strstr(sc->errors, "t.scen:6: unknown action 'explode'"));
	CHECK(sc->errors && strstr(sc->errors, "t.scen:7: size: the second number"));
	scenario_free(sc);
}

static void
test_netem_marks_netns(void)
{
	struct scenario *sc = parse("at 1 netem relay1 delay 80ms jitter 2ms loss 5%\n");

	CHECK_EQ(sc->nerrors, 0);
	CHECK(sc->netns);
	CHECK_EQ(sc->events[0].delay_ms, 80);
	CHECK_EQ(sc->events[0].jitter_ms, 2);
	CHECK(sc->events[0].loss_pct == 5.0);
	scenario_free(sc);
	sc = parse("at 1 netem relay1 loss 5\n");
	CHECK_EQ(sc->nerrors, 1);
	scenario_free(sc);
}

static void
test_events_sorted_by_time(void)
{
	struct scenario *sc = parse("at 20 restart relay4\nat 10 stop auth3\nat 10 kill relay1\n"
				    "at 3 kill relay4\n");

	CHECK_EQ(sc->nerrors, 0);
	CHECK_EQ(sc->nevents, 4);
	CHECK(sc->events[0].at == 3);
	CHECK_STR(sc->events[1].node, "auth3");	/* same time: file order */
	CHECK_STR(sc->events[2].node, "relay1");
	CHECK(sc->events[3].at == 20);
	scenario_free(sc);
}

static void
test_every_prefix(void)
{
	const char *text = "network authorities 3 relays 5\nat 2 kill relay1\nexpect relay1 down\n";

	for (size_t n = 0; n <= strlen(text); n++) {
		struct scenario *sc = scenario_parse("p.scen", text, n);

		CHECK(sc != NULL);
		scenario_free(sc);
	}
}

static void
test_shipped_scenarios_parse(void)
{
	static const char *const files[] = {
		"sim/scenarios/smoke.scen", "sim/scenarios/load.scen",
		"sim/scenarios/churn.scen", "sim/scenarios/lossy.scen",
	};

	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		struct scenario *sc = scenario_load(files[i]);

		CHECK_EQ(sc->nerrors, 0);
		if (sc->nerrors)
			fprintf(stderr, "%s", sc->errors);
		scenario_free(sc);
	}
}

int
main(int argc, char **argv)
{
	check_begin(argv[0]);
	RUN(test_good);
	RUN(test_errors_name_file_and_line);
	RUN(test_netem_marks_netns);
	RUN(test_events_sorted_by_time);
	RUN(test_every_prefix);
	RUN(test_shipped_scenarios_parse);
	return check_end();
}
