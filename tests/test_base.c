/* Tests for common/buf, common/encode, common/err and common/util. */
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/buf.h"
#include "common/encode.h"
#include "common/err.h"
#include "common/util.h"
#include "tests/check.h"

static void
test_rbuf_reads(void)
{
	const uint8_t in[] = { 1, 0, 2, 0, 0, 0, 3, 0xaa, 0xbb };
	struct rbuf r = rbuf_of(in, sizeof(in));
	uint8_t two[2];

	CHECK_EQ(rbuf_u8(&r), 1);
	CHECK_EQ(rbuf_u16(&r), 2);
	CHECK_EQ(rbuf_u32(&r), 3);
	rbuf_copy(&r, two, 2);
	CHECK(two[0] == 0xaa && two[1] == 0xbb);
	CHECK_EQ(rbuf_done(&r), 0);
}

static void
test_rbuf_sticky(void)
{
	const uint8_t in[] = { 1, 2, 3 };
	struct rbuf r = rbuf_of(in, sizeof(in));
	uint8_t out[4] = { 9, 9, 9, 9 };

	CHECK_EQ(rbuf_u32(&r), 0);		/* short: yields zero */
	CHECK_EQ(r.left, 3);			/* consumed nothing */
	CHECK_EQ(rbuf_u8(&r), 0);		/* sticky */
	rbuf_copy(&r, out, 4);
	CHECK(out[0] == 0 && out[3] == 0);
	CHECK(rbuf_view(&r, 1) == NULL);
	CHECK_EQ(rbuf_done(&r), ERR_TRUNCATED);
}

static void
test_rbuf_trailing_malformed(void)
{
	const uint8_t in[] = { 0, 0, 1, 7 };
	struct rbuf r = rbuf_of(in, sizeof(in));

	rbuf_zeros(&r, 2);
	CHECK_EQ(rbuf_done(&r), ERR_TRAILING);
	rbuf_zeros(&r, 1);
	CHECK_EQ(rbuf_done(&r), ERR_MALFORMED);
}

static void
test_wbuf(void)
{
	uint8_t fixed[4];
	struct wbuf w = wbuf_fixed(fixed, sizeof(fixed));
	char *s;
	size_t len;

	wbuf_u16(&w, 0x0102);
	wbuf_u16(&w, 0x0304);
	CHECK_EQ(wbuf_done(&w), 0);
	CHECK(fixed[0] == 1 && fixed[3] == 4);
	wbuf_u8(&w, 5);
	CHECK_EQ(wbuf_done(&w), ERR_TOO_BIG);

	w = wbuf_dyn(1 << 20);
	for (int i = 0; i < 100; i++)
		wbuf_printf(&w, "line %d %s\n", i, "abcdefghijklmnopqrstuvwxyz0123456789");
	s = wbuf_take(&w, &len);
	CHECK(s != NULL);
	CHECK_EQ(len, strlen(s));
	CHECK(strncmp(s, "line 0 abc", 10) == 0);
	free(s);

	w = wbuf_dyn(8);
	wbuf_printf(&w, "%s", "123456789");
	CHECK_EQ(wbuf_done(&w), ERR_TOO_BIG);
	CHECK(wbuf_take(&w, NULL) == NULL);
}

static void
test_hex(void)
{
	uint8_t in[256], out[256];
	char s[513];

	for (int i = 0; i < 256; i++)
		in[i] = (uint8_t)i;
	hex_encode(s, in, sizeof(in));
	CHECK(strncmp(s, "000102", 6) == 0);
	CHECK(strcmp(s + 506, "fdfeff") == 0);
	CHECK_EQ(hex_decode(out, sizeof(out), s), 0);
	CHECK(memcmp(in, out, sizeof(in)) == 0);
	CHECK_EQ(hex_decode(out, 2, "ABcd"), 0);
	CHECK(out[0] == 0xab && out[1] == 0xcd);
	CHECK_EQ(hex_decode(out, 2, "abc"), ERR_TRUNCATED);
	CHECK_EQ(hex_decode(out, 2, "abcd0"), ERR_TRAILING);
	CHECK_EQ(hex_decode(out, 2, "abcg"), ERR_MALFORMED);
	CHECK_EQ(hex_decode(out, 2, "ab:d"), ERR_MALFORMED);
	CHECK_EQ(hex_decode(out, 1, "G0"), ERR_MALFORMED);
}

static void
test_base32(void)
{
	/* RFC 4648 test vectors, lowercased, padding removed */
	static const char *const vec[][2] = {
		{ "f", "my" }, { "fo", "mzxq" }, { "foo", "mzxw6" }, { "foob", "mzxw6yq" },
		{ "fooba", "mzxw6ytb" }, { "foobar", "mzxw6ytboi" },
	};
	uint8_t out[32], rnd[32];
	char s[64];

	for (size_t i = 0; i < ARRAY_LEN(vec); i++) {
		size_t n = strlen(vec[i][0]);

		base32_encode(s, (const uint8_t *)vec[i][0], n);
		CHECK_STR(s, vec[i][1]);
		CHECK_EQ(base32_decode(out, n, vec[i][1]), 0);
		CHECK(memcmp(out, vec[i][0], n) == 0);
	}
	CHECK_EQ(base32_decode(out, 3, "MZXW6"), 0);
	CHECK_EQ(base32_decode(out, 3, "mzxw1"), ERR_MALFORMED);
	CHECK_EQ(base32_decode(out, 3, "mzxw"), ERR_TRUNCATED);
	CHECK_EQ(base32_decode(out, 3, "mzxw6a"), ERR_TRAILING);
	CHECK_EQ(base32_decode(out, 1, "mz"), ERR_MALFORMED);	/* non-zero tail bits */
	CHECK_EQ(base32_decode(out, 1, "m{"), ERR_MALFORMED);
	CHECK_EQ(base32_decode(out, 1, "m`"), ERR_MALFORMED);
	for (int t = 0; t < 200; t++) {
		size_t n = 1 + (size_t)randombytes_uniform(32);

		randombytes_buf(rnd, n);
		base32_encode(s, rnd, n);
		CHECK_EQ(strlen(s), BASE32_LEN(n));
		CHECK_EQ(base32_decode(out, n, s), 0);
		CHECK(memcmp(rnd, out, n) == 0);
	}
}

static void
test_parse_numbers(void)
{
	uint64_t v;
	char host[64];
	uint16_t port;

	CHECK_EQ(parse_u64("42", 0, 100, &v), 0);
	CHECK_EQ(v, 42);
	CHECK_EQ(parse_u64("101", 0, 100, &v), ERR_RANGE);
	CHECK_EQ(parse_u64("-1", 0, 100, &v), ERR_MALFORMED);
	CHECK_EQ(parse_u64("4x", 0, 100, &v), ERR_MALFORMED);
	CHECK_EQ(parse_u64("", 0, 100, &v), ERR_MALFORMED);
	CHECK_EQ(parse_u64("99999999999999999999999", 0, UINT64_MAX, &v), ERR_RANGE);
	CHECK_EQ(parse_hostport("127.0.0.1:9000", host, &port), 0);
	CHECK_STR(host, "127.0.0.1");
	CHECK_EQ(port, 9000);
	CHECK_EQ(parse_hostport("127.0.0.1:0", host, &port), ERR_RANGE);
	CHECK_EQ(parse_hostport("127.0.0.1", host, &port), ERR_MALFORMED);
	CHECK_EQ(parse_hostport("256.0.0.1:1", host, &port), ERR_MALFORMED);
	CHECK_EQ(parse_hostport("1.2.3.4x:1", host, &port), ERR_MALFORMED);
}

static void
test_err_str(void)
{
	CHECK_STR(err_str(0), "ok");
	CHECK_STR(err_str(ERR_TRUNCATED), "truncated");
	CHECK_STR(err_str(ERR_ERR_MIN), "unknown error");
	CHECK_STR(err_str(5), "unknown error");
	for (int e = 0; e > ERR_ERR_MIN; e--)
		CHECK(strcmp(err_str(e), "unknown error") != 0);
}

int
main(int argc, char **argv)
{
	check_begin(argv[0]);
	crypto_init();
	RUN(test_rbuf_reads);
	RUN(test_rbuf_sticky);
	RUN(test_rbuf_trailing_malformed);
	RUN(test_wbuf);
	RUN(test_hex);
	RUN(test_base32);
	RUN(test_parse_numbers);
	RUN(test_err_str);
	return check_end();
}
