/*
 * arc_canon_x86_sse2.c - the canonicalization fast path with SSE2, which
 * every x86-64 has: four 16-byte compares per mask; see arc_canon_fast.h.
 */
#include "arc_canon_fast.h"

#if defined(__x86_64__)
#include <string.h>

#include <emmintrin.h>

#define ISA	__attribute__((target("sse2")))

static inline ISA uint64_t
eq16(__m128i v, char c)
{
	return (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v,
	    _mm_set1_epi8(c)));
}

static inline ISA void
masks64(const unsigned char *p, uint64_t m[4])
{
	const __m128i	 sp = _mm_set1_epi8(' ');
	int		 i;

	m[0] = m[1] = m[2] = m[3] = 0;
	for (i = 0; i < 4; i++) {
		__m128i	 v = _mm_loadu_si128((const __m128i *)(p + 16 * i));

		/* no byte up to ' ' (base64, a long word): no mask to make */
		if (_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(v, sp), v)) ==
		    0)
			continue;
		m[0] |= eq16(v, ' ') << (16 * i);
		m[1] |= eq16(v, '\t') << (16 * i);
		m[2] |= eq16(v, '\r') << (16 * i);
		m[3] |= eq16(v, '\n') << (16 * i);
	}
}

#define KERNEL	arc_canon_fast_sse2
#include "arc_canon_kernel.h"

#else
typedef int arc_canon_x86_sse2_unused;
#endif
