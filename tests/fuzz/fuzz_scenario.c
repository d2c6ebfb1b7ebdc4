/* libFuzzer harness: burrow-sim's scenario parser (sim/scenario.c). */
#include <stdint.h>

#include "sim/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	scenario_free(scenario_parse("fuzz.scen", (const char *)data, size));
	return 0;
}
