/* Fuzz config_parse over arbitrary bytes, then the typed getters. The
 * first byte picks whether a key list is given (exercising unknown-key
 * suggestions) or any key is accepted. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/config.h"
#include "common/util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct config_key known[] = {
	{ "Nickname", false, true },
	{ "Port", false, false },
	{ "Listen", false, false },
	{ "Authority", true, false },
	{ "Mailbox", false, false },
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const struct config_key *k = known;
	size_t nk = ARRAY_LEN(known);
	const struct config_entry *e = NULL;
	struct config *cfg;
	char host[64];
	uint16_t port;
	size_t count = 0;

	if (size > 0 && data[0] == '!') {
		k = NULL;
		nk = 0;
		data++;
		size--;
	}
	cfg = config_parse("fuzz.conf", (const char *)data, size, k, nk);
	(void)config_str(cfg, "Nickname", NULL);
	(void)config_u64(cfg, "Port", 1, 65535, 0);
	(void)config_bool(cfg, "Mailbox", false);
	(void)config_hostport(cfg, "Listen", host, &port);
	while ((e = config_next(cfg, "Authority", e)) != NULL)
		count++;
	for (size_t i = 0; i < cfg->n; i++) {
		/* Invariants: keys are letters and digits, values non-empty
		 * and trimmed, lines increase. */
		const struct config_entry *x = &cfg->e[i];
		size_t vl = strlen(x->value);

		if (x->key[0] == '\0' || vl == 0 || x->value[0] == ' ' || x->value[vl - 1] == ' ' ||
		    x->value[0] == '\t' || x->value[vl - 1] == '\t')
			abort();
		if (i > 0 && x->line <= cfg->e[i - 1].line)
			abort();
	}
	if ((cfg->nerrors == 0) != (cfg->errors == NULL))
		abort();
	(void)count;
	config_free(cfg);
	return 0;
}
