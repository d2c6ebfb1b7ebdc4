/* Identities: the sealed identity key, passphrases and safety numbers. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "client/identity.h"
#include "common/keyfile.h"
#include "common/util.h"

#define PASS_MAX 1024
#define SAFETY_ITER 1024

static const char safety_personal[crypto_generichash_blake2b_PERSONALBYTES + 1] =
	"burrow-safety-01";

/* "A short safety number" (as in Signal): per key, a BLAKE2b-512 chain
 * of SAFETY_ITER rounds over version ‖ key ‖ previous, of which 30 bytes
 * become 6 groups of 5 decimal digits (each 5-byte chunk mod 100000). The
 * iteration makes a search for a colliding key costlier. */
void
safety_half(char out[static SAFETY_HALF_STR_LEN + 1], const uint8_t pk[static ID_PK_LEN])
{
	uint8_t h[64], in[1 + ID_PK_LEN + 64];
	size_t i, pos = 0;

	memset(h, 0, sizeof(h));
	for (i = 0; i < SAFETY_ITER; i++) {
		in[0] = 1;
		memcpy(in + 1, pk, ID_PK_LEN);
		memcpy(in + 1 + ID_PK_LEN, h, sizeof(h));
		crypto_generichash_blake2b_salt_personal(h, sizeof(h), in, sizeof(in), NULL, 0,
							 NULL, (const uint8_t *)safety_personal);
	}
	for (i = 0; i < 6; i++) {
		uint64_t v = 0;
		size_t j;

		for (j = 0; j < 5; j++)
			v = (v << 8) | h[i * 5 + j];
		pos += (size_t)snprintf(out + pos, SAFETY_HALF_STR_LEN + 1 - pos, "%s%05llu",
					i ? " " : "", (unsigned long long)(v % 100000));
	}
}

void
safety_number(char out[static SAFETY_STR_LEN + 1], const uint8_t a[static ID_PK_LEN],
	      const uint8_t b[static ID_PK_LEN])
{
	char ha[SAFETY_HALF_STR_LEN + 1], hb[SAFETY_HALF_STR_LEN + 1];
	/* Order by the keys' bytes: not secret, so a plain compare is fine,
	 * but sodium_compare keeps the rule "no memcmp on key bytes". */
	bool a_first = sodium_compare(a, b, ID_PK_LEN) <= 0;

	safety_half(ha, a);
	safety_half(hb, b);
	snprintf(out, SAFETY_STR_LEN + 1, "%s %s", a_first ? ha : hb, a_first ? hb : ha);
}

int
identity_create(const char *path, const char *passphrase, struct id_keypair **out)
{
	uint8_t seed[ID_SEED_LEN];
	struct stat sb;
	int r;

	*out = NULL;
	if (stat(path, &sb) == 0)
		return ERR_EXISTS;
	randombytes_buf(seed, sizeof(seed));
	r = keyfile_write(path, KEYFILE_ED25519_SEED, seed, sizeof(seed), passphrase);
	if (r == 0)
		*out = id_keypair_from_seed(seed);
	sodium_memzero(seed, sizeof(seed));
	return r;
}

int
identity_load(const char *path, const char *passphrase, const uint8_t expect_pk[static ID_PK_LEN],
	      struct id_keypair **out)
{
	uint8_t seed[ID_SEED_LEN];
	struct id_keypair *kp;
	int r;

	*out = NULL;
	r = keyfile_read(path, KEYFILE_ED25519_SEED, seed, sizeof(seed), passphrase);
	if (r != 0)
		return r;
	kp = id_keypair_from_seed(seed);
	sodium_memzero(seed, sizeof(seed));
	if (sodium_memcmp(kp->pk, expect_pk, ID_PK_LEN) != 0) {
		id_keypair_free(kp);
		return ERR_CORRUPT;
	}
	*out = kp;
	return 0;
}

void
identity_passphrase_free(char *p)
{
	if (p != NULL)
		sodium_free(p);
}

static char *
pass_alloc(void)
{
	char *p = sodium_malloc(PASS_MAX + 2);

	if (p == NULL)
		fatal("sodium_malloc failed");
	memset(p, 0, PASS_MAX + 2);
	return p;
}

/* Read one line from fd into p (at most PASS_MAX bytes, newline dropped). */
static int
read_line(int fd, char *p)
{
	size_t n = 0;
	char ch;

	for (;;) {
		ssize_t k = read(fd, &ch, 1);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0 || ch == '\n')
			break;
		if (n == PASS_MAX)
			return ERR_TOO_BIG;
		p[n++] = ch;
	}
	if (n > 0 && p[n - 1] == '\r')
		n--;
	p[n] = '\0';
	return 0;
}

static int
prompt(int fd, const char *what, char *p)
{
	struct termios old, quiet;
	bool echo_off = tcgetattr(fd, &old) == 0;
	int r;

	if (write(fd, what, strlen(what)) < 0)
		return ERR_IO;
	if (echo_off) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)(ECHO | ECHONL);
		quiet.c_lflag |= ICANON;
		(void)tcsetattr(fd, TCSAFLUSH, &quiet);
	}
	r = read_line(fd, p);
	if (echo_off)
		(void)tcsetattr(fd, TCSAFLUSH, &old);
	if (write(fd, "\n", 1) < 0)
		r = ERR_IO;
	return r;
}

int
identity_read_passphrase(const char *path, bool confirm, char **out)
{
	char *p = pass_alloc(), *q = NULL;
	int fd, r;

	*out = NULL;
	if (path != NULL) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			identity_passphrase_free(p);
			return ERR_IO;
		}
		r = read_line(fd, p);
		close(fd);
	} else {
		fd = open("/dev/tty", O_RDWR | O_CLOEXEC | O_NOCTTY);
		if (fd < 0) {
			identity_passphrase_free(p);
			return ERR_IO;
		}
		r = prompt(fd, confirm ? "New passphrase: " : "Passphrase: ", p);
		if (r == 0 && confirm) {
			q = pass_alloc();
			r = prompt(fd, "Repeat passphrase: ", q);
			if (r == 0 && (strlen(p) != strlen(q) ||
				       sodium_memcmp(p, q, strlen(p)) != 0))
				r = ERR_MALFORMED;
			identity_passphrase_free(q);
		}
		close(fd);
	}
	if (r == 0 && p[0] == '\0')
		r = ERR_MALFORMED;
	if (r != 0) {
		identity_passphrase_free(p);
		return r;
	}
	*out = p;
	return 0;
}
