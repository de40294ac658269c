/*
 * arc_strmap.c - string to index hash map for the signing tables.  See
 * arc_strmap.h.
 */
#include <sys/random.h>

#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arc_strmap.h"

/*
 * FNV-1a started from a per-process random seed, with a final mix: the
 * names and domains in the tables come from customers, and with a
 * public hash they could pick names that all land in one probe run
 * (loads and lookups O(n^2)).  With a secret seed they cannot aim.  Not
 * a cryptographic MAC; enough to take away the choice of collisions.
 */
static uint64_t		 seed;
static pthread_once_t	 seed_once = PTHREAD_ONCE_INIT;

static void
make_seed(void)
{
	uint64_t	 s = 0;
	struct timespec	 ts;

	if (getrandom(&s, sizeof(s), GRND_NONBLOCK) != (ssize_t)sizeof(s)) {
		/* no entropy yet (early boot): still differs per process */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		s = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 32) ^
		    ((uint64_t)getpid() << 16) ^ (uint64_t)(uintptr_t)&s;
	}
	seed = s;
}

static uint64_t
hash(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL ^ seed;

	while (n--)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	/* the low bits index the table: fold the high ones in */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

uint64_t
arc_strmap_hash(const char *k, size_t n)
{
	pthread_once(&seed_once, make_seed);
	return hash(k, n);
}

int
arc_strmap_get(const arc_strmap *m, const char *k, size_t n, uint32_t *v)
{
	size_t i;

	if (m->cap == 0)
		return 0;
	for (i = arc_strmap_hash(k, n) & (m->cap - 1); m->k[i]; i = (i + 1) &
	    (m->cap - 1))
		if (strncmp(m->k[i], k, n) == 0 && m->k[i][n] == '\0') {
			*v = m->v[i];
			return 1;
		}
	return 0;
}

int
arc_strmap_put(arc_strmap *m, const char *k, uint32_t v)
{
	size_t		 i, n = strlen(k);
	uint32_t	 old;

	if (arc_strmap_get(m, k, n, &old))
		return 1;
	if (2 * (m->n + 1) > m->cap) {
		arc_strmap nm = { 0 };

		nm.cap = m->cap ? m->cap * 2 : 64;
		if ((nm.k = calloc(nm.cap, sizeof(*nm.k))) == NULL ||
		    (nm.v = calloc(nm.cap, sizeof(*nm.v))) == NULL) {
			free(nm.k);
			return -1;
		}
		for (i = 0; i < m->cap; i++)
			if (m->k[i])
				arc_strmap_put(&nm, m->k[i], m->v[i]);
		free(m->k);
		free(m->v);
		*m = nm;
	}
	for (i = arc_strmap_hash(k, n) & (m->cap - 1); m->k[i];
	    i = (i + 1) & (m->cap - 1))
		;
	m->k[i] = k;
	m->v[i] = v;
	m->n++;
	return 0;
}

void
arc_strmap_free(arc_strmap *m)
{
	free(m->k);
	free(m->v);
}
