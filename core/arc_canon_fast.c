/*
 * arc_canon_fast.c - the portable kernel of the canonicalization fast
 * path, and the choice of kernel for this CPU; see arc_canon_fast.h.
 */
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

static const struct {
	const char		*name;
	arc_canon_fast_fn	*fn;
} kernels[] = {
#if defined(__x86_64__)
	/* the best first */
	{ "avx512", arc_canon_fast_avx512 },
	{ "avx2", arc_canon_fast_avx2 },
	{ "sse2", arc_canon_fast_sse2 },
#endif
	{ "generic", arc_canon_fast_generic },
	{ "none", fast_none },		/* never the best */
};

static int
cpu_has(const char *name)
{
#if defined(__x86_64__)
	__builtin_cpu_init();
	if (strcmp(name, "avx512") == 0)
		return __builtin_cpu_supports("avx512bw") &&
		    __builtin_cpu_supports("avx512vbmi2");
	if (strcmp(name, "avx2") == 0)
		return __builtin_cpu_supports("avx2");
	if (strcmp(name, "sse2") == 0)
		return __builtin_cpu_supports("sse2");
#endif
	return strcmp(name, "generic") == 0 || strcmp(name, "none") == 0;
}

arc_canon_fast_fn *
arc_canon_fast_lookup(const char *name, const char **chosen)
{
	size_t	 i;

	for (i = 0; i < sizeof(kernels) / sizeof(kernels[0]); i++) {
		if (name != NULL && strcmp(name, kernels[i].name) != 0)
			continue;
		if (!cpu_has(kernels[i].name))
			continue;
		if (chosen != NULL)
			*chosen = kernels[i].name;
		return kernels[i].fn;
	}
	return NULL;
}
