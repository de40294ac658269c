/*
 * arc_canon_x86_avx512.c - the canonicalization fast path with AVX-512
 * (BW for the byte compares into mask registers, VBMI2 for compacting a
 * block in one instruction); see arc_canon_fast.h.  Chosen at run time
 * (arc_canon_fast_lookup), so the rest of the library stays baseline.
 */
#include "arc_canon_fast.h"

#if defined(__x86_64__)
#include <string.h>

#include <immintrin.h>

#define ISA	__attribute__((target( \
	    "avx512f,avx512bw,avx512vbmi2,popcnt")))

struct block {
	uint64_t	 sp, tab, cr, lf;
	__m512i		 v;
};

static inline ISA void
classify(const unsigned char *p, size_t len, int relaxed, struct block *b)
{
	__mmask64	 valid = len == 64 ? ~0ULL : (1ULL << len) - 1;
	__m512i		 v = _mm512_maskz_loadu_epi8(valid, p);

	b->sp = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8(' '));
	b->tab = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\t'));
	b->cr = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\r'));
	b->lf = _mm512_cmpeq_epi8_mask(v, _mm512_set1_epi8('\n'));
	if (relaxed)
		v = _mm512_mask_mov_epi8(v, b->tab, _mm512_set1_epi8(' '));
	b->v = v;
}

#define OWN_COMPACT
static inline ISA unsigned char *
compact(unsigned char *o, const struct block *b, uint64_t keep)
{
	_mm512_storeu_si512(o, _mm512_maskz_compress_epi8(keep, b->v));
	return o + __builtin_popcountll(keep);
}

#define KERNEL	arc_canon_fast_avx512
#include "arc_canon_kernel.h"

#else
typedef int arc_canon_x86_avx512_unused;
#endif
