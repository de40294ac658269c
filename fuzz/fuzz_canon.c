/*
 * fuzz_canon.c - libFuzzer harness: body canonicalization, every fast
 * path kernel against the byte-wise code (core/arc_canon_fast.h).
 *
 * Input: byte 0 picks the mode (bit 0) and an l= limit (bits 1-7: none
 * if 0, else that value times 37); byte 1 seeds the chunk sizes; the
 * rest is the body.  Oracle: the body hash through "none" (the byte-wise
 * code alone) equals the one through each kernel this CPU has, for the
 * same chunks, and so does the canonical length.  ASan checks that no
 * kernel reads outside the chunk it is given.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arc_canon.h"

static const char *const kernels[] = {
	"none", "generic", "sse2", "avx2", "avx512"
};

/* The digest of body through the kernel in use; 0 if it failed. */
static int
hash(int relaxed, long long limit, unsigned seed, const uint8_t *body,
    size_t n, unsigned char d[32], unsigned long long *len)
{
	arc_bodyhash	*bh;
	size_t		 i, cut;
	int		 ok = 1;

	if ((bh = arc_bodyhash_create(relaxed ? ARC_CANON_RELAXED :
	    ARC_CANON_SIMPLE, limit)) == NULL)
		return 0;
	for (i = 0; i < n && ok; i += cut) {
		seed = seed * 1103515245 + 12345;
		cut = 1 + (seed >> 16) % (seed & 1 ? 7 : n);
		if (cut > n - i)
			cut = n - i;
		ok = arc_bodyhash_update(bh, body + i, cut);
	}
	ok = ok && arc_bodyhash_final(bh, d);
	*len = arc_bodyhash_length(bh);
	arc_bodyhash_free(bh);
	return ok;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	unsigned char		 want[32], got[32];
	unsigned long long	 wlen, glen;
	long long		 limit;
	size_t			 k;
	int			 relaxed;

	if (size < 2)
		return 0;
	relaxed = data[0] & 1;
	limit = (data[0] >> 1) ? (long long)(data[0] >> 1) * 37 : -1;
	arc_canon_use_kernel("none", NULL);
	if (!hash(relaxed, limit, data[1], data + 2, size - 2, want, &wlen))
		abort();
	for (k = 1; k < sizeof(kernels) / sizeof(kernels[0]); k++) {
		if (arc_canon_use_kernel(kernels[k], NULL) != 0)
			continue;
		if (!hash(relaxed, limit, data[1], data + 2, size - 2, got,
		    &glen) || memcmp(want, got, 32) != 0 || wlen != glen)
			abort();
	}
	arc_canon_use_kernel(NULL, NULL);
	return 0;
}
