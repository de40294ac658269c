/*
 * arc_sketch.h - the most frequent names of an unbounded stream in
 * bounded memory: a space-saving sketch (Metwally, Agrawal, El Abbadi,
 * "Efficient computation of frequent and top-k elements in data
 * streams", 2005), for the sealer domains of the metrics.
 *
 * Contract:
 *  - arc_sketch_create(k) monitors at most k names (k in 1..65535); all
 *    its memory is allocated there, once: adding names never allocates,
 *    whatever their number (arc_sketch_bytes() says how much it holds).
 *  - arc_sketch_add(name) counts one occurrence; names longer than
 *    ARC_SKETCH_NAMELEN bytes are refused (return -1).  Matching is
 *    exact (bytes): callers normalize first (lower case).
 *  - Guarantees of the algorithm: a name's count is never below its
 *    true count and exceeds it by at most its error (the count of the
 *    name it replaced); every name seen more than total/k times is
 *    monitored.
 *  - arc_sketch_top() copies up to max entries, highest count first
 *    (ties by name), into the caller's array.
 *  - Not thread-safe: callers lock around it (arc_stats.c does).
 */
#ifndef ARC_SKETCH_H
#define ARC_SKETCH_H

#include <stddef.h>
#include <stdint.h>

#define ARC_SKETCH_NAMELEN	253	/* a domain name's longest text */

typedef struct arc_sketch arc_sketch;

typedef struct {
	char		name[ARC_SKETCH_NAMELEN + 1];
	uint64_t	count;		/* estimate, >= the true count */
	uint64_t	error;		/* count - error <= true count */
} arc_sketch_item;

arc_sketch	*arc_sketch_create(unsigned k);
void		 arc_sketch_free(arc_sketch *);
int		 arc_sketch_add(arc_sketch *, const char *name, size_t len);
/* Adds an item with its count and error as they are (merging). */
int		 arc_sketch_add_item(arc_sketch *, const arc_sketch_item *);
void		 arc_sketch_clear(arc_sketch *);
size_t		 arc_sketch_top(const arc_sketch *, arc_sketch_item *,
		    size_t max);
size_t		 arc_sketch_bytes(const arc_sketch *);

#endif
