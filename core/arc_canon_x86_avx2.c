/*
 * arc_canon_x86_avx2.c - the canonicalization fast path with AVX2: two
 * 32-byte compares per mask; see arc_canon_fast.h.  Chosen at run time
 * (arc_canon_fast_lookup), so the rest of the library stays baseline.
 */
#include "arc_canon_fast.h"

#if defined(__x86_64__)
#include <string.h>

#include <immintrin.h>

#define ISA	__attribute__((target("avx2")))

static inline ISA uint64_t
eq32(__m256i v, char c)
{
	return (uint32_t)_mm256_movemask_epi8(_mm256_cmpeq_epi8(v,
	    _mm256_set1_epi8(c)));
}

static inline ISA void
masks64(const unsigned char *p, uint64_t m[4])
{
	const __m256i	 sp = _mm256_set1_epi8(' ');
	int		 i;

	m[0] = m[1] = m[2] = m[3] = 0;
	for (i = 0; i < 2; i++) {
		__m256i	 v = _mm256_loadu_si256((const __m256i *)(p + 32 * i));

		/* no byte up to ' ' (base64, a long word): no mask to make */
		if (_mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(v,
		    sp), v)) == 0)
			continue;
		m[0] |= eq32(v, ' ') << (32 * i);
		m[1] |= eq32(v, '\t') << (32 * i);
		m[2] |= eq32(v, '\r') << (32 * i);
		m[3] |= eq32(v, '\n') << (32 * i);
	}
}

#define KERNEL	arc_canon_fast_avx2
#include "arc_canon_kernel.h"

#else
typedef int arc_canon_x86_avx2_unused;
#endif
