/* A very small unit-test runner: each test is a function; CHECK records a
 * failure with file:line and carries on; RUN prints one PASS or FAIL line
 * per test, which tests/run counts. */
#ifndef BURROW_TESTS_CHECK_H
#define BURROW_TESTS_CHECK_H

#include <stdio.h>
#include <string.h>

static int check_failed_now;
static int check_passed, check_failed;
static const char *check_prog = "test";

#define CHECK(cond) do { \
	if (!(cond)) { \
		if (check_failed_now < 5) \
			fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		check_failed_now++; \
	} \
} while (0)

#define CHECK_EQ(a, b) do { \
	long long check_a_ = (long long)(a), check_b_ = (long long)(b); \
	if (check_a_ != check_b_) { \
		if (check_failed_now < 5) \
			fprintf(stderr, "  %s:%d: %s == %lld, expected %s == %lld\n", __FILE__, \
				__LINE__, #a, check_a_, #b, check_b_); \
		check_failed_now++; \
	} \
} while (0)

#define CHECK_STR(a, b) do { \
	const char *check_a_ = (a), *check_b_ = (b); \
	if (!check_a_ || !check_b_ || strcmp(check_a_, check_b_) != 0) { \
		if (check_failed_now < 5) \
			fprintf(stderr, "  %s:%d: %s is \"%s\", expected \"%s\"\n", __FILE__, \
				__LINE__, #a, check_a_ ? check_a_ : "(null)", \
				check_b_ ? check_b_ : "(null)"); \
		check_failed_now++; \
	} \
} while (0)

#define RUN(fn) do { \
	check_failed_now = 0; \
	fn(); \
	if (check_failed_now) { \
		check_failed++; \
		printf("FAIL %s/%s\n", check_prog, #fn); \
	} else { \
		check_passed++; \
		printf("PASS %s/%s\n", check_prog, #fn); \
	} \
	fflush(stdout); \
} while (0)

static inline void
check_begin(const char *prog)
{
	const char *slash = strrchr(prog, '/');

	check_prog = slash ? slash + 1 : prog;
	setvbuf(stdout, NULL, _IOLBF, 0);
}

static inline int
check_end(void)
{
	return check_failed ? 1 : 0;
}

#endif
