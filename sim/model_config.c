/* The model's config file: `Key value` lines through common/config, each
 * bad value reported as file:line. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/path.h"
#include "common/util.h"
#include "sim/model.h"

static const struct config_key model_keys[] = {
	{ "Relays", false, false },	{ "Mailboxes", false, false },
	{ "Clients", false, false },	{ "Messages", false, false },
	{ "Duration", false, false },	{ "PathLength", false, false },
	{ "MeanHopDelayMs", false, false }, { "Selection", false, false },
	{ "Guard", false, false },	{ "LinkLatency", false, false },
	{ "Jitter", false, false },	{ "Loss", false, false },
	{ "Bandwidth", false, false },	{ "UnwrapCostUs", false, false },
	{ "SendRate", false, false },	{ "Churn", false, false },
	{ "AdversaryShare", false, false }, { "AdversaryBy", false, false },
	{ "AdversaryJoinAt", false, false }, { "Crypto", false, false },
	{ "Seeds", false, false },	{ "AckTimeout", false, false },
	{ "Retries", false, false },	{ "Subnets", false, false },
	{ "Families", false, false },	{ "Entropy", false, false },
	{ "EntropyCap", false, false },	{ "StudyDelays", false, false },
	{ "StudyLoads", false, false },
};

void
model_params_default(struct model_params *p)
{
	memset(p, 0, sizeof(*p));
	p->relays = 100;
	p->mailboxes = 5;
	p->clients = 200;
	p->messages = 2000;
	p->duration_s = 0;
	p->path_length = PATH_DEFAULT_MIXES;
	p->mean_hop_delay_ms = 50;
	p->link_latency = (struct model_dist){ MODEL_DIST_LOGNORMAL, 20, 0.5 };
	p->jitter_ms = 2;
	p->loss = 0;
	p->bandwidth = (struct model_dist){ MODEL_DIST_LOGNORMAL, 100, 0.7 };
	p->unwrap_cost_us = 73;
	p->send_rate = 0.1;
	p->churn_per_hour = 0;
	p->churn_down_s = 60;
	p->adv_share = 0.2;
	p->adv_join_s = 0;
	p->real_crypto = false;
	p->seeds = 1;
	p->ack_timeout_ms = 2000;
	p->retries = 3;
	p->subnets = 0;
	p->entropy = true;
	p->entropy_cap = 4096;
}

/* Parse a whole number as a finite double. */
static bool
parse_num(const char *s, double *out)
{
	char *end;
	double v;

	while (*s == ' ')
		s++;
	if (*s == '\0')
		return false;
	v = strtod(s, &end);
	while (*end == ' ')
		end++;
	if (*end != '\0' || !isfinite(v))
		return false;
	*out = v;
	return true;
}

static double
get_num(struct config *cfg, const char *key, double min, double max, double def)
{
	const struct config_entry *e = config_find(cfg, key);
	double v;

	if (e == NULL)
		return def;
	if (!parse_num(e->value, &v) || v < min || v > max) {
		config_error(cfg, e, "%s: must be a number between %g and %g", key, min, max);
		return def;
	}
	return v;
}

/* Split a value into at most max numbers; return how many, or -1. */
static int
split_nums(const char *s, double *out, int max)
{
	char buf[CONFIG_MAX_LINE];
	char *save = NULL, *tok;
	int n = 0;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, " \t", &save); tok; tok = strtok_r(NULL, " \t", &save)) {
		if (n == max || !parse_num(tok, &out[n]))
			return -1;
		n++;
	}
	return n;
}

static void
get_dist(struct config *cfg, const char *key, struct model_dist *d)
{
	static const struct { const char *name; enum model_dist_kind kind; int nargs; } kinds[] = {
		{ "const", MODEL_DIST_CONST, 1 }, { "uniform", MODEL_DIST_UNIFORM, 2 },
		{ "lognormal", MODEL_DIST_LOGNORMAL, 2 }, { "exp", MODEL_DIST_EXP, 1 },
	};
	const struct config_entry *e = config_find(cfg, key);
	char name[16];
	size_t len;
	double v[3];
	int n;

	if (e == NULL)
		return;
	len = strcspn(e->value, " \t");
	if (len >= sizeof(name))
		goto bad;
	memcpy(name, e->value, len);
	name[len] = '\0';
	n = split_nums(e->value + len, v, 3);
	for (size_t i = 0; i < ARRAY_LEN(kinds); i++) {
		if (strcmp(name, kinds[i].name) != 0)
			continue;
		if (n != kinds[i].nargs || v[0] < 0 || (n == 2 && v[1] < 0) ||
		    (kinds[i].kind == MODEL_DIST_UNIFORM && v[1] < v[0]) || v[0] > 1e9)
			goto bad;
		d->kind = kinds[i].kind;
		d->a = v[0];
		d->b = n == 2 ? v[1] : 0;
		return;
	}
bad:
	config_error(cfg, e, "%s: must be `const X`, `uniform A B` (A <= B), "
		     "`lognormal MEDIAN SIGMA` or `exp MEAN`, all non-negative", key);
}

static void
get_list(struct config *cfg, const char *key, double *out, unsigned *n, double min, double max)
{
	const struct config_entry *e = config_find(cfg, key);
	int k;

	if (e == NULL)
		return;
	k = split_nums(e->value, out, MODEL_STUDY_MAX);
	for (int i = 0; i < k; i++) {
		if (out[i] < min || out[i] > max)
			k = -1;
	}
	if (k <= 0) {
		config_error(cfg, e, "%s: must be 1 to %d numbers between %g and %g", key,
			     MODEL_STUDY_MAX, min, max);
		*n = 0;
		return;
	}
	*n = (unsigned)k;
}

static int
get_choice(struct config *cfg, const char *key, const char *a, const char *b, int def)
{
	const struct config_entry *e = config_find(cfg, key);

	if (e == NULL)
		return def;
	if (strcmp(e->value, a) == 0)
		return 0;
	if (strcmp(e->value, b) == 0)
		return 1;
	config_error(cfg, e, "%s: must be %s or %s", key, a, b);
	return def;
}

int
model_params_load(const char *path, struct model_params *p)
{
	struct config *cfg = config_load(path, model_keys, ARRAY_LEN(model_keys));
	const struct config_entry *e;
	double v[2];
	int r;

	p->relays = (unsigned)config_u64(cfg, "Relays", 1, 30000, p->relays);
	p->mailboxes = (unsigned)config_u64(cfg, "Mailboxes", 1, 1000, p->mailboxes);
	p->clients = (unsigned)config_u64(cfg, "Clients", 1, 1000000, p->clients);
	p->messages = config_u64(cfg, "Messages", 1, 100000000, p->messages);
	p->duration_s = get_num(cfg, "Duration", 0, 1e7, p->duration_s);
	p->path_length = (unsigned)config_u64(cfg, "PathLength", 1, PATH_MAX_MIXES,
					      p->path_length);
	p->mean_hop_delay_ms = get_num(cfg, "MeanHopDelayMs", 0, 1e7, p->mean_hop_delay_ms);
	p->weighted = get_choice(cfg, "Selection", "uniform", "bandwidth", p->weighted) == 1;
	p->guard = config_bool(cfg, "Guard", p->guard);
	get_dist(cfg, "LinkLatency", &p->link_latency);
	p->jitter_ms = get_num(cfg, "Jitter", 0, 1e6, p->jitter_ms);
	p->loss = get_num(cfg, "Loss", 0, 1, p->loss);
	get_dist(cfg, "Bandwidth", &p->bandwidth);
	p->unwrap_cost_us = get_num(cfg, "UnwrapCostUs", 0, 1e6, p->unwrap_cost_us);
	p->send_rate = get_num(cfg, "SendRate", 1e-9, 1e6, p->send_rate);
	if ((e = config_find(cfg, "Churn")) != NULL) {
		if (split_nums(e->value, v, 2) != 2 || v[0] < 0 || v[0] > 1e6 || v[1] <= 0 ||
		    v[1] > 1e7)
			config_error(cfg, e, "Churn: must be FAILURES_PER_HOUR MEAN_DOWNTIME_S "
				     "(0..1e6 and a positive time)");
		else {
			p->churn_per_hour = v[0];
			p->churn_down_s = v[1];
		}
	}
	p->adv_share = get_num(cfg, "AdversaryShare", 0, 1, p->adv_share);
	p->adv_by_bandwidth = get_choice(cfg, "AdversaryBy", "count", "bandwidth",
					 p->adv_by_bandwidth) == 1;
	p->adv_join_s = get_num(cfg, "AdversaryJoinAt", 0, 1e7, p->adv_join_s);
	p->real_crypto = get_choice(cfg, "Crypto", "standin", "real", p->real_crypto) == 1;
	p->seeds = (unsigned)config_u64(cfg, "Seeds", 1, 100, p->seeds);
	p->ack_timeout_ms = get_num(cfg, "AckTimeout", 0, 1e7, p->ack_timeout_ms);
	p->retries = (unsigned)config_u64(cfg, "Retries", 0, 20, p->retries);
	p->subnets = (unsigned)config_u64(cfg, "Subnets", 0, 30000, p->subnets);
	if ((e = config_find(cfg, "Families")) != NULL) {
		if (split_nums(e->value, v, 2) != 2 || v[0] < 0 || v[0] != floor(v[0]) ||
		    v[1] < 2 || v[1] > 8 || v[1] != floor(v[1]))
			config_error(cfg, e, "Families: must be COUNT SIZE (SIZE 2..8)");
		else {
			p->family_count = (unsigned)v[0];
			p->family_size = (unsigned)v[1];
		}
	}
	p->entropy = config_bool(cfg, "Entropy", p->entropy);
	p->entropy_cap = (unsigned)config_u64(cfg, "EntropyCap", 16, 1000000, p->entropy_cap);
	get_list(cfg, "StudyDelays", p->study_delays, &p->nstudy_delays, 0, 1e6);
	get_list(cfg, "StudyLoads", p->study_loads, &p->nstudy_loads, 1e-6, 1e6);

	/* Cross-key checks, reported at the line that makes them fail. */
	if ((uint64_t)p->family_count * p->family_size > p->relays)
		config_error(cfg, config_find(cfg, "Families"),
			     "Families: %u families of %u need more than the %u relays",
			     p->family_count, p->family_size, p->relays);
	if (p->relays < p->path_length)
		config_error(cfg, config_find(cfg, "PathLength") ? config_find(cfg, "PathLength") :
			     config_find(cfg, "Relays"),
			     "PathLength %u needs at least that many relays (have %u)",
			     p->path_length, p->relays);
	if ((p->nstudy_delays == 0) != (p->nstudy_loads == 0))
		config_error(cfg, config_find(cfg, "StudyDelays") ?
			     config_find(cfg, "StudyDelays") : config_find(cfg, "StudyLoads"),
			     "StudyDelays and StudyLoads go together");
	r = config_report(cfg);
	config_free(cfg);
	return r;
}
