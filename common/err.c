#include "common/err.h"

static const char *const names[] = {
	[0] = "ok",
	[1] = "truncated",
	[2] = "trailing bytes",
	[3] = "malformed",
	[4] = "too big",
	[5] = "bad signature",
	[6] = "authentication failed",
	[7] = "replay",
	[8] = "wrong passphrase or corrupted key file",
	[9] = "corrupted data",
	[10] = "i/o error",
	[11] = "not found",
	[12] = "already exists",
	[13] = "configuration error",
	[14] = "internal error",
	[15] = "unsupported",
	[16] = "stale timestamp",
	[17] = "timestamp in the future",
	[18] = "expired",
	[19] = "not yet valid",
	[20] = "not enough valid signatures",
	[21] = "unknown signer",
	[22] = "full",
	[23] = "timed out",
	[24] = "closed",
	[25] = "limit reached",
	[26] = "out of range",
	[27] = "permission denied",
	[28] = "checksum mismatch",
	[29] = "duplicate",
	[30] = "weak key",
	[31] = "usage error",
};

const char *
err_str(int err)
{
	unsigned i;

	if (err > 0 || err <= ERR_ERR_MIN)
		return "unknown error";
	i = (unsigned)-err;
	return names[i] ? names[i] : "unknown error";
}
