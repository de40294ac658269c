/*
 * fail_calloc.c - an LD_PRELOAD shim for test_filter_bounds: calloc()
 * of exactly FAIL_CALLOC_SIZE bytes fails FAIL_CALLOC_COUNT times (default
 * once), and realloc() to exactly FAIL_REALLOC_SIZE bytes once; every
 * other allocation is glibc's.  This is how the test makes one
 * allocation of filter-arc fail (a message's state, the input buffer)
 * and drives the real out-of-memory path; it is never linked into
 * anything.
 */
#include <errno.h>
#include <stdlib.h>

extern void	*__libc_calloc(size_t, size_t);
extern void	*__libc_realloc(void *, size_t);

static long	size = -2, left, rsize = -2;

void *
realloc(void *p, size_t sz)
{
	const char	*v;

	if (rsize == -2)
		rsize = (v = getenv("FAIL_REALLOC_SIZE")) ? atol(v) : -1;
	if (rsize > 0 && (long)sz == rsize) {
		rsize = -1;
		errno = ENOMEM;
		return NULL;
	}
	return __libc_realloc(p, sz);
}

void *
calloc(size_t n, size_t sz)
{
	const char	*v;

	if (size == -2) {
		size = (v = getenv("FAIL_CALLOC_SIZE")) ? atol(v) : -1;
		left = (v = getenv("FAIL_CALLOC_COUNT")) ? atol(v) : 1;
	}
	if (size > 0 && left > 0 && sz != 0 && n == 1 && (long)sz == size) {
		left--;
		errno = ENOMEM;
		return NULL;
	}
	return __libc_calloc(n, sz);
}
