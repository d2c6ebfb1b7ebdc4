/* One error space for all of Burrow: fallible functions return 0 or a
 * negative ERR_* value; err_str() names it in one lowercase phrase. */
#ifndef BURROW_ERR_H
#define BURROW_ERR_H

#define MUST_CHECK __attribute__((warn_unused_result))

enum burrow_err {
	ERR_OK = 0,
	ERR_TRUNCATED = -1,	/* input ended before the structure did */
	ERR_TRAILING = -2,	/* bytes left over after the structure */
	ERR_MALFORMED = -3,	/* a field has a value the format forbids */
	ERR_TOO_BIG = -4,	/* input or field over its size limit */
	ERR_BAD_SIG = -5,	/* signature does not verify */
	ERR_AUTH = -6,		/* authentication failed (never says which check) */
	ERR_REPLAY = -7,	/* seen before */
	ERR_PASSPHRASE = -8,	/* wrong passphrase, or file corrupted */
	ERR_CORRUPT = -9,	/* stored data fails its integrity check */
	ERR_IO = -10,		/* system call failed; errno tells more */
	ERR_NOT_FOUND = -11,
	ERR_EXISTS = -12,
	ERR_CONFIG = -13,	/* configuration error (already reported) */
	ERR_INTERNAL = -14,	/* our own bug, logged by BUG() */
	ERR_UNSUPPORTED = -15,	/* unknown version, command or algorithm */
	ERR_STALE = -16,	/* timestamp too far in the past */
	ERR_FUTURE = -17,	/* timestamp too far in the future */
	ERR_EXPIRED = -18,	/* validity window has ended */
	ERR_NOT_YET_VALID = -19,
	ERR_QUORUM = -20,	/* not enough valid signatures */
	ERR_UNKNOWN_SIGNER = -21,
	ERR_FULL = -22,		/* quota or queue full */
	ERR_TIMEOUT = -23,
	ERR_CLOSED = -24,	/* peer or stream closed */
	ERR_LIMIT = -25,	/* rate or connection limit */
	ERR_RANGE = -26,	/* number out of range */
	ERR_PERM = -27,		/* permissions too open or not allowed */
	ERR_CHECKSUM = -28,	/* checksum mismatch (typo in an address) */
	ERR_DUPLICATE = -29,
	ERR_WEAK_KEY = -30,	/* low-order or all-zero group element */
	ERR_USAGE = -31,	/* bad command-line use */
	ERR_ERR_MIN = -32
};

/* Return a static lowercase phrase for an ERR_* code (or "unknown error"). */
const char *err_str(int err);

#endif
