/*
 * arc_strmap.h - a string to uint32 hash map (open addressing, linear
 * probing, FNV-1a from a per-process random seed), what the signing tables look addresses and domains
 * up in (arc_signing.c).  Private to the adapter layer.
 *
 * Contract: a zeroed arc_strmap is empty.  The map stores the key
 * pointers it is given, not copies: each key must outlive the map and
 * stay unchanged.  A key put twice keeps its first value (first match
 * wins).  Lookups take a length, so a suffix of a longer string can be
 * looked up without copying it.  Not thread-safe for writers; any
 * number of readers may look up at once.
 */
#ifndef ARC_STRMAP_H
#define ARC_STRMAP_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
	const char	**k;
	uint32_t	 *v;
	size_t		  cap, n;
} arc_strmap;

/* 1 and *v set if the n bytes at k are a key, else 0. */
int	arc_strmap_get(const arc_strmap *, const char *k, size_t n,
	    uint32_t *v);
/* 0 added, 1 already there (the first value stays), -1 out of memory. */
int	arc_strmap_put(arc_strmap *, const char *k, uint32_t v);
void	arc_strmap_free(arc_strmap *);
/* The hash the map uses: seeded once per process (getrandom), so the
 * slot of a name cannot be known outside the process. */
uint64_t arc_strmap_hash(const char *k, size_t n);

#endif
