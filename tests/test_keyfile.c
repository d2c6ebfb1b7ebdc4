/* Tests for common/keyfile. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "common/keyfile.h"
#include "common/util.h"
#include "tests/check.h"

static char *dir;

static char *
tpath(const char *name)
{
	return xasprintf("%s/%s", dir, name);
}

static size_t
slurp(const char *path, uint8_t *buf, size_t cap)
{
	int fd = open(path, O_RDONLY);
	ssize_t r;

	if (fd < 0)
		return 0;
	r = read(fd, buf, cap);
	close(fd);
	return r > 0 ? (size_t)r : 0;
}

static void
put(const char *path, const uint8_t *buf, size_t n, mode_t mode)
{
	int fd;

	unlink(path);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL, mode);
	CHECK(fd >= 0);
	if (fd < 0)
		return;
	CHECK_EQ(write(fd, buf, n), (long long)n);
	CHECK_EQ(fchmod(fd, mode), 0);
	close(fd);
}

static bool
all_zero(const uint8_t *p, size_t n)
{
	uint8_t acc = 0;

	for (size_t i = 0; i < n; i++)
		acc |= p[i];
	return acc == 0;
}

/* Only the key files the test wrote remain: no temporaries. */
static void
check_no_temp_files(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	CHECK(d != NULL);
	while (d && (de = readdir(d)) != NULL)
		CHECK(strstr(de->d_name, ".tmp") == NULL);
	if (d)
		closedir(d);
}

static void
test_round_trip(void)
{
	char *path = tpath("id.key");
	uint8_t secret[32], got[32];
	struct stat st;

	randombytes_buf(secret, sizeof(secret));
	/* Plain. */
	CHECK_EQ(keyfile_write(path, KEYFILE_ED25519_SEED, secret, 32, NULL), 0);
	CHECK_EQ(stat(path, &st), 0);
	CHECK_EQ(st.st_mode & 0777, 0600);
	CHECK_EQ(keyfile_is_sealed(path), 0);
	CHECK_EQ(keyfile_read(path, KEYFILE_ED25519_SEED, got, 32, NULL), 0);
	CHECK(sodium_memcmp(secret, got, 32) == 0);
	/* A passphrase given for a plain file is not needed and not checked. */
	CHECK_EQ(keyfile_read(path, KEYFILE_ED25519_SEED, got, 32, "pw"), 0);
	CHECK(sodium_memcmp(secret, got, 32) == 0);

	/* Sealed, overwriting the plain file. */
	CHECK_EQ(keyfile_write(path, KEYFILE_ED25519_SEED, secret, 32, "correct horse"), 0);
	CHECK_EQ(stat(path, &st), 0);
	CHECK_EQ(st.st_mode & 0777, 0600);
	CHECK_EQ(keyfile_is_sealed(path), 1);
	memset(got, 0xaa, sizeof(got));
	CHECK_EQ(keyfile_read(path, KEYFILE_ED25519_SEED, got, 32, "correct horse"), 0);
	CHECK(sodium_memcmp(secret, got, 32) == 0);
	memset(got, 0xaa, sizeof(got));
	CHECK_EQ(keyfile_read(path, KEYFILE_ED25519_SEED, got, 32, "correct horsf"), ERR_PASSPHRASE);
	CHECK(all_zero(got, 32));
	memset(got, 0xaa, sizeof(got));
	CHECK_EQ(keyfile_read(path, KEYFILE_ED25519_SEED, got, 32, ""), ERR_PASSPHRASE);
	CHECK(all_zero(got, 32));
	memset(got, 0xaa, sizeof(got));
	CHECK_EQ(keyfile_read(path, KEYFILE_ED25519_SEED, got, 32, NULL), ERR_AUTH);
	CHECK(all_zero(got, 32));
	/* Another kind, or another length, is refused. */
	CHECK_EQ(keyfile_read(path, KEYFILE_X25519, got, 32, "correct horse"), ERR_UNSUPPORTED);
	CHECK_EQ(keyfile_read(path, KEYFILE_ED25519_SEED, got, 31, "correct horse"),
		 ERR_MALFORMED);

	/* Other sizes and the other kind; an empty passphrase seals too. */
	for (size_t len = 1; len <= KEYFILE_SECRET_MAX; len += 21) {
		uint8_t s[KEYFILE_SECRET_MAX], g[KEYFILE_SECRET_MAX];

		randombytes_buf(s, len);
		CHECK_EQ(keyfile_write(path, KEYFILE_X25519, s, len, ""), 0);
		CHECK_EQ(keyfile_read(path, KEYFILE_X25519, g, len, ""), 0);
		CHECK(sodium_memcmp(s, g, len) == 0);
		CHECK_EQ(keyfile_write(path, KEYFILE_X25519, s, len, NULL), 0);
		CHECK_EQ(keyfile_read(path, KEYFILE_X25519, g, len, NULL), 0);
		CHECK(sodium_memcmp(s, g, len) == 0);
	}
	check_no_temp_files();
	unlink(path);
	free(path);
}

static void
test_default_cost(void)
{
	/* The interactive cost is stored in the file, so a reader in cheap
	 * mode still opens it. */
	char *path = tpath("interactive.key");
	uint8_t secret[32], got[32], buf[KEYFILE_MAX_LEN];
	size_t n;

	randombytes_buf(secret, sizeof(secret));
	keyfile_set_cost_for_tests(0);
	CHECK_EQ(keyfile_write(path, KEYFILE_X25519, secret, 32, "pw"), 0);
	keyfile_set_cost_for_tests(1);
	CHECK_EQ(keyfile_read(path, KEYFILE_X25519, got, 32, "pw"), 0);
	CHECK(sodium_memcmp(secret, got, 32) == 0);
	n = slurp(path, buf, sizeof(buf));
	CHECK_EQ(n, 65 + 32 + 16);
	/* opslimit at offset 13, memlimit at 17, big-endian */
	CHECK_EQ(buf[16], crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE);
	CHECK_EQ(buf[22], (crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE >> 16) & 0xff);
	unlink(path);
	free(path);
}

/* Every prefix and every single-bit change of a valid file is refused, and
 * the output is left zeroed. */
static void
check_damage(const uint8_t *file, size_t n, const char *passphrase, size_t len)
{
	uint8_t buf[KEYFILE_MAX_LEN + 1], got[KEYFILE_SECRET_MAX];
	unsigned accepted = 0, nonzero = 0;
	int rc;

	CHECK_EQ(keyfile_parse(file, n, KEYFILE_X25519, got, len, passphrase), 0);
	for (size_t k = 0; k < n; k++) {
		memset(got, 0xaa, sizeof(got));
		rc = keyfile_parse(file, k, KEYFILE_X25519, got, len, passphrase);
		if (rc == 0)
			accepted++;
		if (!all_zero(got, len))
			nonzero++;
		if (k >= 12 && rc != ERR_TRUNCATED)
			fprintf(stderr, "  prefix %zu: %s\n", k, err_str(rc));
	}
	CHECK_EQ(accepted, 0);
	CHECK_EQ(nonzero, 0);
	for (size_t bit = 0; bit < n * 8; bit++) {
		memcpy(buf, file, n);
		buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
		memset(got, 0xaa, sizeof(got));
		rc = keyfile_parse(buf, n, KEYFILE_X25519, got, len, passphrase);
		if (rc == 0) {
			accepted++;
			fprintf(stderr, "  bit %zu accepted\n", bit);
		}
		if (!all_zero(got, len))
			nonzero++;
	}
	CHECK_EQ(accepted, 0);
	CHECK_EQ(nonzero, 0);
	/* A trailing byte. */
	memcpy(buf, file, n);
	buf[n] = 0;
	CHECK_EQ(keyfile_parse(buf, n + 1, KEYFILE_X25519, got, len, passphrase), ERR_TRAILING);
}

static void
test_damage_plain(void)
{
	char *path = tpath("plain.key");
	uint8_t secret[32], file[KEYFILE_MAX_LEN], got[32];
	size_t n;

	randombytes_buf(secret, sizeof(secret));
	CHECK_EQ(keyfile_write(path, KEYFILE_X25519, secret, 32, NULL), 0);
	n = slurp(path, file, sizeof(file));
	CHECK_EQ(n, 12 + 32 + 32);
	check_damage(file, n, NULL, 32);
	/* A flipped secret byte is reported as corruption. */
	file[20] ^= 1;
	CHECK_EQ(keyfile_parse(file, n, KEYFILE_X25519, got, 32, NULL), ERR_CORRUPT);
	unlink(path);
	free(path);
}

static void
test_damage_sealed(void)
{
	char *path = tpath("sealed.key");
	uint8_t secret[32], file[KEYFILE_MAX_LEN], got[32];
	size_t n;

	randombytes_buf(secret, sizeof(secret));
	CHECK_EQ(keyfile_write(path, KEYFILE_X25519, secret, 32, "pw"), 0);
	n = slurp(path, file, sizeof(file));
	CHECK_EQ(n, 65 + 32 + 16);
	check_damage(file, n, "pw", 32);
	/* A flipped salt, nonce or ciphertext byte reads as a wrong passphrase. */
	for (size_t off = 25; off < n; off += 13) {
		file[off] ^= 0x40;
		CHECK_EQ(keyfile_parse(file, n, KEYFILE_X25519, got, 32, "pw"), ERR_PASSPHRASE);
		file[off] ^= 0x40;
	}
	unlink(path);
	free(path);
}

static void
test_file_checks(void)
{
	char *path = tpath("perm.key"), *link = tpath("link.key"), *missing = tpath("none.key");
	char *big = tpath("big.key");
	uint8_t secret[32], file[KEYFILE_MAX_LEN + 1], got[32];
	size_t n;

	randombytes_buf(secret, sizeof(secret));
	CHECK_EQ(keyfile_write(path, KEYFILE_X25519, secret, 32, NULL), 0);
	n = slurp(path, file, sizeof(file));

	CHECK_EQ(keyfile_read(missing, KEYFILE_X25519, got, 32, NULL), ERR_NOT_FOUND);
	CHECK_EQ(keyfile_is_sealed(missing), ERR_NOT_FOUND);

	CHECK_EQ(chmod(path, 0644), 0);
	memset(got, 0xaa, sizeof(got));
	CHECK_EQ(keyfile_read(path, KEYFILE_X25519, got, 32, NULL), ERR_PERM);
	CHECK(all_zero(got, 32));
	CHECK_EQ(keyfile_is_sealed(path), ERR_PERM);
	CHECK_EQ(chmod(path, 0640), 0);
	CHECK_EQ(keyfile_read(path, KEYFILE_X25519, got, 32, NULL), ERR_PERM);
	CHECK_EQ(chmod(path, 0604), 0);
	CHECK_EQ(keyfile_read(path, KEYFILE_X25519, got, 32, NULL), ERR_PERM);
	CHECK_EQ(chmod(path, 0400), 0);
	CHECK_EQ(keyfile_read(path, KEYFILE_X25519, got, 32, NULL), 0);
	CHECK(sodium_memcmp(got, secret, 32) == 0);
	CHECK_EQ(chmod(path, 0600), 0);

	/* Symbolic links are refused. */
	CHECK_EQ(symlink(path, link), 0);
	CHECK_EQ(keyfile_read(link, KEYFILE_X25519, got, 32, NULL), ERR_PERM);
	unlink(link);

	/* A directory is refused. */
	CHECK_EQ(keyfile_read(dir, KEYFILE_X25519, got, 32, NULL), ERR_PERM);

	/* Over KEYFILE_MAX_LEN. */
	memset(file + n, 0, sizeof(file) - n);
	put(big, file, KEYFILE_MAX_LEN + 1, 0600);
	CHECK_EQ(keyfile_read(big, KEYFILE_X25519, got, 32, NULL), ERR_TOO_BIG);
	CHECK_EQ(keyfile_parse(file, KEYFILE_MAX_LEN + 1, KEYFILE_X25519, got, 32, NULL),
		 ERR_TOO_BIG);
	/* Exactly KEYFILE_MAX_LEN is read and then has trailing bytes. */
	put(big, file, KEYFILE_MAX_LEN, 0600);
	CHECK_EQ(keyfile_read(big, KEYFILE_X25519, got, 32, NULL), ERR_TRAILING);

	/* Writing into a directory that does not exist fails cleanly. */
	{
		char *bad = xasprintf("%s/nodir/x.key", dir);

		CHECK_EQ(keyfile_write(bad, KEYFILE_X25519, secret, 32, NULL), ERR_IO);
		free(bad);
	}
	check_no_temp_files();
	unlink(big);
	unlink(path);
	free(path);
	free(link);
	free(missing);
	free(big);
}

static void
test_header_fields(void)
{
	uint8_t file[KEYFILE_MAX_LEN], got[32], secret[32];
	char *path = tpath("hdr.key");
	size_t n;

	randombytes_buf(secret, sizeof(secret));
	CHECK_EQ(keyfile_write(path, KEYFILE_ED25519_SEED, secret, 32, NULL), 0);
	n = slurp(path, file, sizeof(file));
	CHECK(memcmp(file, "BRWKEY1\n", 8) == 0);
	CHECK_EQ(file[8], 1);
	CHECK_EQ(file[9], KEYFILE_ED25519_SEED);
	CHECK_EQ(file[10], 0);
	CHECK_EQ(file[11], 32);
	CHECK(memcmp(file + 12, secret, 32) == 0);
	/* Each header field has its own code. */
	file[0] ^= 1;
	CHECK_EQ(keyfile_parse(file, n, KEYFILE_ED25519_SEED, got, 32, NULL), ERR_MALFORMED);
	file[0] ^= 1;
	file[8] = 2;
	CHECK_EQ(keyfile_parse(file, n, KEYFILE_ED25519_SEED, got, 32, NULL), ERR_UNSUPPORTED);
	file[8] = 1;
	file[9] = 3;
	CHECK_EQ(keyfile_parse(file, n, KEYFILE_ED25519_SEED, got, 32, NULL), ERR_UNSUPPORTED);
	file[9] = KEYFILE_ED25519_SEED;
	file[10] = 2;
	CHECK_EQ(keyfile_parse(file, n, KEYFILE_ED25519_SEED, got, 32, NULL), ERR_UNSUPPORTED);
	file[10] = 0;
	file[11] = 0;
	CHECK_EQ(keyfile_parse(file, n, KEYFILE_ED25519_SEED, got, 0, NULL), ERR_MALFORMED);
	file[11] = 32;
	CHECK_EQ(keyfile_parse(file, n, KEYFILE_ED25519_SEED, got, 32, NULL), 0);
	unlink(path);
	free(path);
}

int
main(int argc, char **argv)
{
	const char *tmp = getenv("TMPDIR");

	check_begin(argv[0]);
	crypto_init();
	keyfile_set_cost_for_tests(1);
	dir = xasprintf("%s/burrow-test-keyfile-XXXXXX", tmp && *tmp ? tmp : "/tmp");
	if (mkdtemp(dir) == NULL) {
		perror("mkdtemp");
		return 1;
	}
	RUN(test_round_trip);
	RUN(test_default_cost);
	RUN(test_damage_plain);
	RUN(test_damage_sealed);
	RUN(test_file_checks);
	RUN(test_header_fields);
	if (rmdir(dir) != 0)
		perror("rmdir");
	free(dir);
	return check_end();
}
