/*
 * arc_canon_fast.c - the portable kernel of the canonicalization fast
 * path, and the choice of kernel for this CPU; see arc_canon_fast.h.
 */
#include <pthread.h>
#include <string.h>

#include "arc_canon_fast.h"

/* ---- portable C: a byte at a time into the masks ---------------------- */

#define ISA

static inline void
masks64(const unsigned char *p, uint64_t m[4])
{
	int	 i;

	m[0] = m[1] = m[2] = m[3] = 0;
	for (i = 0; i < 64; i++) {
		m[0] |= (uint64_t)(p[i] == ' ') << i;
		m[1] |= (uint64_t)(p[i] == '\t') << i;
		m[2] |= (uint64_t)(p[i] == '\r') << i;
		m[3] |= (uint64_t)(p[i] == '\n') << i;
	}
}

#define KERNEL	arc_canon_fast_generic
#include "arc_canon_kernel.h"

/* No fast path at all: the byte-wise code alone, for differential tests. */
static size_t
fast_none(int relaxed, const unsigned char *p, size_t len, unsigned char *out,
    size_t room, size_t *outlen)
{
	(void)relaxed, (void)p, (void)len, (void)out, (void)room;
	*outlen = 0;
	return 0;
}

/* ---- the choice -------------------------------------------------------- */

enum need { ANY_CPU, SSE2, AVX2, AVX512 };

static const struct {
	const char		*name;
	arc_canon_fast_fn	*fn;
	enum need		 need;
} kernels[] = {
#if defined(__x86_64__)
	/* the best first */
	{ "avx512", arc_canon_fast_avx512, AVX512 },
	{ "avx2", arc_canon_fast_avx2, AVX2 },
	{ "sse2", arc_canon_fast_sse2, SSE2 },
#endif
	{ "generic", arc_canon_fast_generic, ANY_CPU },
	{ "none", fast_none, ANY_CPU },		/* never the best */
};

static int
cpu_has(enum need need)
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	switch (need) {
	case AVX512:
		return __builtin_cpu_supports("avx512bw") &&
		    __builtin_cpu_supports("avx512vbmi2");
	case AVX2:
		return __builtin_cpu_supports("avx2");
	case SSE2:
		return __builtin_cpu_supports("sse2");
	case ANY_CPU:
		break;
	}
#endif
	return need == ANY_CPU;
}

/* The best this CPU has, found once: every body hasher asks. */
static pthread_once_t	 best_once = PTHREAD_ONCE_INIT;
static size_t		 best;

static void
find_best(void)
{
	while (!cpu_has(kernels[best].need))
		best++;		/* "generic" needs nothing: it stops there */
}

arc_canon_fast_fn *
arc_canon_fast_lookup(const char *name, const char **chosen)
{
	size_t	 i;

	if (name == NULL) {
		pthread_once(&best_once, find_best);
		i = best;
	} else {
		for (i = 0; i < sizeof(kernels) / sizeof(kernels[0]); i++)
			if (strcmp(name, kernels[i].name) == 0)
				break;
		if (i == sizeof(kernels) / sizeof(kernels[0]) ||
		    !cpu_has(kernels[i].need))
			return NULL;
	}
	if (chosen != NULL)
		*chosen = kernels[i].name;
	return kernels[i].fn;
}
