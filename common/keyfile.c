/* Key files: one secret per file, plain with a checksum or sealed under a
 * passphrase. Byte layout in docs/spec.md part 7. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "common/buf.h"
#include "common/encode.h"
#include "common/keyfile.h"
#include "common/util.h"

/* "A key file starts with the 8 bytes BRWKEY1\n, then version 1." */
static const uint8_t magic[8] = { 'B', 'R', 'W', 'K', 'E', 'Y', '1', '\n' };
#define KEYFILE_VERSION 1
#define FLAG_SEALED 0x01
#define HEADER_LEN 12		/* magic, version, kind, flags, secret length */
#define CHECKSUM_LEN 32
#define SALT_LEN crypto_pwhash_argon2id_SALTBYTES
#define NONCE_LEN crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_LEN crypto_aead_xchacha20poly1305_ietf_ABYTES
#define KEY_LEN crypto_aead_xchacha20poly1305_ietf_KEYBYTES
/* Sealed header: HEADER_LEN, alg, opslimit u32, memlimit u64, salt, nonce. */
#define SEALED_AD_LEN (HEADER_LEN + 1 + 4 + 8 + SALT_LEN + NONCE_LEN)

/* Bounds on the stored cost, so that a crafted file cannot make a reader
 * spend minutes or gigabytes: at most OPSLIMIT_SENSITIVE passes over at
 * most MEMLIMIT_MODERATE (256 MiB). Fuzzing builds accept only small
 * memory so that each input runs quickly. */
#define OPS_MIN crypto_pwhash_argon2id_OPSLIMIT_MIN
#define OPS_MAX crypto_pwhash_argon2id_OPSLIMIT_SENSITIVE
#define MEM_MIN crypto_pwhash_argon2id_MEMLIMIT_MIN
#ifdef BURROW_FUZZ
#define MEM_MAX (1u << 20)
#else
#define MEM_MAX crypto_pwhash_argon2id_MEMLIMIT_MODERATE
#endif

static const char checksum_personal[crypto_generichash_blake2b_PERSONALBYTES + 1] =
	"burrow-keyfile01";

static int cheap_cost;

void
keyfile_set_cost_for_tests(int cheap)
{
	cheap_cost = cheap;
}

static bool
kind_is_known(unsigned kind)
{
	return kind == KEYFILE_ED25519_SEED || kind == KEYFILE_X25519;
}

static void
checksum(uint8_t out[static CHECKSUM_LEN], const uint8_t *p, size_t n)
{
	crypto_generichash_blake2b_salt_personal(out, CHECKSUM_LEN, p, n, NULL, 0, NULL,
						 (const uint8_t *)checksum_personal);
}

/* Derive the sealing key; 0 or ERR_IO (Argon2 could not get its memory). */
static int
derive_key(uint8_t key[static KEY_LEN], const char *passphrase, const uint8_t *salt,
	   uint32_t ops, uint64_t mem)
{
	if (crypto_pwhash(key, KEY_LEN, passphrase, strlen(passphrase), salt, ops, (size_t)mem,
			  crypto_pwhash_ALG_ARGON2ID13) != 0) {
		sodium_memzero(key, KEY_LEN);
		errno = ENOMEM;
		return ERR_IO;
	}
	return 0;
}

/* Encode the file into out (KEYFILE_MAX_LEN bytes); sets *outlen. */
static int
encode(uint8_t *out, size_t *outlen, enum keyfile_kind kind, const uint8_t *secret, size_t len,
       const char *passphrase)
{
	struct wbuf w = wbuf_fixed(out, KEYFILE_MAX_LEN);
	uint8_t key[KEY_LEN], salt[SALT_LEN], nonce[NONCE_LEN], sum[CHECKSUM_LEN];
	uint8_t ct[KEYFILE_SECRET_MAX + TAG_LEN];
	uint32_t ops = cheap_cost ? crypto_pwhash_argon2id_OPSLIMIT_MIN
				  : crypto_pwhash_argon2id_OPSLIMIT_INTERACTIVE;
	uint64_t mem = cheap_cost ? crypto_pwhash_argon2id_MEMLIMIT_MIN
				  : crypto_pwhash_argon2id_MEMLIMIT_INTERACTIVE;
	unsigned long long clen;
	int rc;

	wbuf_put(&w, magic, sizeof(magic));
	wbuf_u8(&w, KEYFILE_VERSION);
	wbuf_u8(&w, (uint8_t)kind);
	wbuf_u8(&w, passphrase ? FLAG_SEALED : 0);
	wbuf_u8(&w, (uint8_t)len);
	if (passphrase == NULL) {
		wbuf_put(&w, secret, len);
		if ((rc = wbuf_done(&w)) != 0)
			goto out;
		checksum(sum, out, w.len);
		wbuf_put(&w, sum, sizeof(sum));
	} else {
		randombytes_buf(salt, sizeof(salt));
		randombytes_buf(nonce, sizeof(nonce));
		wbuf_u8(&w, crypto_pwhash_ALG_ARGON2ID13);
		wbuf_u32(&w, ops);
		wbuf_u64(&w, mem);
		wbuf_put(&w, salt, sizeof(salt));
		wbuf_put(&w, nonce, sizeof(nonce));
		if ((rc = wbuf_done(&w)) != 0 || (rc = derive_key(key, passphrase, salt, ops, mem)) != 0)
			goto out;
		if (BUG(w.len != SEALED_AD_LEN || len > KEYFILE_SECRET_MAX)) {
			rc = ERR_INTERNAL;
			goto out;
		}
		/* The associated data is every byte written so far. */
		crypto_aead_xchacha20poly1305_ietf_encrypt(ct, &clen, secret, len, out, w.len,
							   NULL, nonce, key);
		wbuf_put(&w, ct, (size_t)clen);
	}
	rc = wbuf_done(&w);
	*outlen = w.len;
out:
	sodium_memzero(key, sizeof(key));
	return rc;
}

static int
write_all(int fd, const uint8_t *p, size_t n)
{
	while (n > 0) {
		ssize_t r = write(fd, p, n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return ERR_IO;
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

/* fsync the directory holding path so that the rename is durable. */
static int
sync_dir(const char *path)
{
	char *copy = xstrdup(path);
	int fd, rc = 0;

	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = ERR_IO;
	} else {
		/* Some file systems cannot fsync a directory; that is not ours to fix. */
		if (fsync(fd) != 0 && errno != EINVAL)
			rc = ERR_IO;
		close(fd);
	}
	free(copy);
	return rc;
}

int
keyfile_write(const char *path, enum keyfile_kind kind, const uint8_t *secret, size_t len,
	      const char *passphrase)
{
	uint8_t buf[KEYFILE_MAX_LEN], rnd[8];
	char rnd_hex[2 * sizeof(rnd) + 1];
	char *tmp = NULL;
	size_t n = 0;
	int fd = -1, rc, saved;

	if (BUG(!kind_is_known(kind) || len == 0 || len > KEYFILE_SECRET_MAX))
		return ERR_INTERNAL;
	if ((rc = encode(buf, &n, kind, secret, len, passphrase)) != 0)
		goto out;
	randombytes_buf(rnd, sizeof(rnd));
	hex_encode(rnd_hex, rnd, sizeof(rnd));
	tmp = xasprintf("%s.tmp-%s", path, rnd_hex);
	/* "Key files are written 0600 via a temporary file and rename()." */
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = ERR_IO;
		goto out;
	}
	if (fchmod(fd, 0600) != 0 || write_all(fd, buf, n) != 0 || fsync(fd) != 0) {
		rc = ERR_IO;
		goto out;
	}
	if (close(fd) != 0) {
		fd = -1;
		rc = ERR_IO;
		goto out;
	}
	fd = -1;
	if (rename(tmp, path) != 0) {
		rc = ERR_IO;
		goto out;
	}
	FREE_AND_NULL(tmp);
	rc = sync_dir(path);
out:
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (tmp != NULL) {
		unlink(tmp);
		free(tmp);
	}
	sodium_memzero(buf, sizeof(buf));
	errno = saved;
	return rc;
}

int
keyfile_parse(const uint8_t *data, size_t n, enum keyfile_kind kind, uint8_t *secret, size_t len,
	      const char *passphrase)
{
	struct rbuf r = rbuf_of(data, n);
	const uint8_t *m, *salt, *nonce, *ct, *sum;
	uint8_t key[KEY_LEN], want[CHECKSUM_LEN];
	unsigned version, fkind, flags, slen, alg;
	uint32_t ops;
	uint64_t mem;
	int rc;

	if (len)
		memset(secret, 0, len);
	sodium_memzero(key, sizeof(key));
	if (n > KEYFILE_MAX_LEN)
		return ERR_TOO_BIG;
	m = rbuf_view(&r, sizeof(magic));
	version = rbuf_u8(&r);
	fkind = rbuf_u8(&r);
	flags = rbuf_u8(&r);
	slen = rbuf_u8(&r);
	if (m == NULL || r.bad)
		return ERR_TRUNCATED;
	if (sodium_memcmp(m, magic, sizeof(magic)) != 0)
		return ERR_MALFORMED;
	if (version != KEYFILE_VERSION || (flags & ~FLAG_SEALED) != 0 || !kind_is_known(fkind))
		return ERR_UNSUPPORTED;
	if (fkind != (unsigned)kind)
		return ERR_UNSUPPORTED;
	if (slen == 0 || slen > KEYFILE_SECRET_MAX || slen != len)
		return ERR_MALFORMED;

	if (!(flags & FLAG_SEALED)) {
		/* "Plain: the secret, then BLAKE2b-256 of everything before." */
		rbuf_view(&r, slen);
		sum = rbuf_view(&r, CHECKSUM_LEN);
		if ((rc = rbuf_done(&r)) != 0)
			return rc;
		checksum(want, data, HEADER_LEN + slen);
		rc = crypto_verify_32(want, sum) == 0 ? 0 : ERR_CORRUPT;
		if (rc == 0)
			memcpy(secret, data + HEADER_LEN, slen);
		sodium_memzero(want, sizeof(want));
		return rc;
	}

	alg = rbuf_u8(&r);
	ops = rbuf_u32(&r);
	mem = rbuf_u64(&r);
	salt = rbuf_view(&r, SALT_LEN);
	nonce = rbuf_view(&r, NONCE_LEN);
	ct = rbuf_view(&r, slen + TAG_LEN);
	if ((rc = rbuf_done(&r)) != 0)
		return rc;
	if (alg != crypto_pwhash_ALG_ARGON2ID13)
		return ERR_UNSUPPORTED;
	if (ops < OPS_MIN || ops > OPS_MAX || mem < MEM_MIN || mem > MEM_MAX)
		return ERR_MALFORMED;
	if (passphrase == NULL)
		return ERR_AUTH;
	if ((rc = derive_key(key, passphrase, salt, ops, mem)) != 0)
		goto out;
	/* The whole header up to the nonce is authenticated as associated
	 * data, so no field can be changed without the tag failing. */
	if (crypto_aead_xchacha20poly1305_ietf_decrypt(secret, NULL, NULL, ct, slen + TAG_LEN,
						       data, SEALED_AD_LEN, nonce, key) != 0) {
		memset(secret, 0, len);
		rc = ERR_PASSPHRASE;
	}
out:
	sodium_memzero(key, sizeof(key));
	return rc;
}

/* Read the whole file into buf after checking its type and mode. */
static int
read_file(const char *path, uint8_t buf[static KEYFILE_MAX_LEN + 1], size_t *n)
{
	struct stat st;
	int fd, rc = 0;

	*n = 0;
	/* Symbolic links are refused: the mode check must be on the file
	 * itself, and a link could point a daemon at another user's file. */
	fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		if (errno == ENOENT)
			return ERR_NOT_FOUND;
		if (errno == ELOOP || errno == EACCES)
			return ERR_PERM;
		return ERR_IO;
	}
	if (fstat(fd, &st) != 0) {
		rc = ERR_IO;
		goto out;
	}
	if (!S_ISREG(st.st_mode) || (st.st_mode & 077) != 0) {
		rc = ERR_PERM;
		goto out;
	}
	for (;;) {
		ssize_t r = read(fd, buf + *n, KEYFILE_MAX_LEN + 1 - *n);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			rc = ERR_IO;
			goto out;
		}
		if (r == 0)
			break;
		*n += (size_t)r;
		if (*n > KEYFILE_MAX_LEN) {
			rc = ERR_TOO_BIG;
			goto out;
		}
	}
out:
	close(fd);
	return rc;
}

int
keyfile_read(const char *path, enum keyfile_kind kind, uint8_t *secret, size_t len,
	     const char *passphrase)
{
	uint8_t buf[KEYFILE_MAX_LEN + 1];
	size_t n;
	int rc;

	if (len)
		memset(secret, 0, len);
	rc = read_file(path, buf, &n);
	if (rc == 0)
		rc = keyfile_parse(buf, n, kind, secret, len, passphrase);
	sodium_memzero(buf, sizeof(buf));
	return rc;
}

int
keyfile_is_sealed(const char *path)
{
	uint8_t buf[KEYFILE_MAX_LEN + 1];
	size_t n;
	int rc;

	rc = read_file(path, buf, &n);
	if (rc == 0) {
		if (n < HEADER_LEN)
			rc = ERR_TRUNCATED;
		else if (sodium_memcmp(buf, magic, sizeof(magic)) != 0)
			rc = ERR_MALFORMED;
		else if (buf[8] != KEYFILE_VERSION || (buf[10] & ~FLAG_SEALED) != 0)
			rc = ERR_UNSUPPORTED;
		else
			rc = (buf[10] & FLAG_SEALED) ? 1 : 0;
	}
	sodium_memzero(buf, sizeof(buf));
	return rc;
}
