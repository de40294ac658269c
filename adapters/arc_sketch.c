/*
 * arc_sketch.c - space-saving top-k sketch (see arc_sketch.h): k
 * monitored items, a min-heap on their counts (the one to replace is the
 * root) and an open-addressing hash from name to item, all allocated
 * once by arc_sketch_create().
 */
#include <stdlib.h>
#include <string.h>

#include "arc_sketch.h"

#define EMPTY	0xffffu

struct arc_sketch {
	unsigned	 k, n;		/* capacity, items in use */
	unsigned	 hmask;		/* hash slots - 1 (a power of two) */
	arc_sketch_item	*item;
	uint16_t	*heap;		/* item indices, min count on top */
	uint16_t	*pos;		/* item index -> heap position */
	uint16_t	*slot;		/* hash slot -> item index or EMPTY */
};

static unsigned
hash(const char *s, size_t n)
{
	uint32_t h = 2166136261u;	/* FNV-1a */

	while (n-- > 0) {
		h ^= (unsigned char)*s++;
		h *= 16777619u;
	}
	return h;
}

arc_sketch *
arc_sketch_create(unsigned k)
{
	arc_sketch	*sk;
	unsigned	 hs = 1;

	if (k == 0 || k >= EMPTY || (sk = calloc(1, sizeof(*sk))) == NULL)
		return NULL;
	while (hs < 2 * k)
		hs <<= 1;
	sk->k = k;
	sk->hmask = hs - 1;
	sk->item = calloc(k, sizeof(*sk->item));
	sk->heap = calloc(k, sizeof(*sk->heap));
	sk->pos = calloc(k, sizeof(*sk->pos));
	sk->slot = malloc(hs * sizeof(*sk->slot));
	if (sk->item == NULL || sk->heap == NULL || sk->pos == NULL ||
	    sk->slot == NULL) {
		arc_sketch_free(sk);
		return NULL;
	}
	arc_sketch_clear(sk);
	return sk;
}

void
arc_sketch_free(arc_sketch *sk)
{
	if (sk == NULL)
		return;
	free(sk->item);
	free(sk->heap);
	free(sk->pos);
	free(sk->slot);
	free(sk);
}

void
arc_sketch_clear(arc_sketch *sk)
{
	sk->n = 0;
	memset(sk->slot, 0xff, (sk->hmask + 1) * sizeof(*sk->slot));
}

size_t
arc_sketch_bytes(const arc_sketch *sk)
{
	return sizeof(*sk) + sk->k * (sizeof(*sk->item) + sizeof(*sk->heap) +
	    sizeof(*sk->pos)) + (sk->hmask + 1) * sizeof(*sk->slot);
}

/* The hash slot holding name, or the empty slot where it would go. */
static unsigned
find(const arc_sketch *sk, const char *name, size_t len)
{
	unsigned i = hash(name, len) & sk->hmask;

	for (;;) {
		uint16_t	 e = sk->slot[i];

		if (e == EMPTY || (strlen(sk->item[e].name) == len &&
		    memcmp(sk->item[e].name, name, len) == 0))
			return i;
		i = (i + 1) & sk->hmask;
	}
}

/* Linear probing: backward-shift deletion keeps every chain unbroken. */
static void
unhash(arc_sketch *sk, unsigned i)
{
	unsigned	 j = i, home;

	sk->slot[i] = EMPTY;
	for (;;) {
		j = (j + 1) & sk->hmask;
		if (sk->slot[j] == EMPTY)
			return;
		home = hash(sk->item[sk->slot[j]].name,
		    strlen(sk->item[sk->slot[j]].name)) & sk->hmask;
		/* move j into the hole unless its home lies in (i, j] */
		if ((j > i && (home <= i || home > j)) ||
		    (j < i && home <= i && home > j)) {
			sk->slot[i] = sk->slot[j];
			sk->slot[j] = EMPTY;
			i = j;
		}
	}
}

static void
swap(arc_sketch *sk, unsigned a, unsigned b)
{
	uint16_t t = sk->heap[a];

	sk->heap[a] = sk->heap[b];
	sk->heap[b] = t;
	sk->pos[sk->heap[a]] = (uint16_t)a;
	sk->pos[sk->heap[b]] = (uint16_t)b;
}

static uint64_t
cnt(const arc_sketch *sk, unsigned h)
{
	return sk->item[sk->heap[h]].count;
}

static void
sift_up(arc_sketch *sk, unsigned h)
{
	while (h > 0 && cnt(sk, (h - 1) / 2) > cnt(sk, h)) {
		swap(sk, h, (h - 1) / 2);
		h = (h - 1) / 2;
	}
}

static void
sift_down(arc_sketch *sk, unsigned h)
{
	for (;;) {
		unsigned l = 2 * h + 1, m = h;

		if (l < sk->n && cnt(sk, l) < cnt(sk, m))
			m = l;
		if (l + 1 < sk->n && cnt(sk, l + 1) < cnt(sk, m))
			m = l + 1;
		if (m == h)
			return;
		swap(sk, h, m);
		h = m;
	}
}

static int
add(arc_sketch *sk, const char *name, size_t len, uint64_t c, uint64_t err)
{
	unsigned	 s, e;
	uint64_t	 min;

	if (len > ARC_SKETCH_NAMELEN || c == 0)
		return -1;
	s = find(sk, name, len);
	if (sk->slot[s] != EMPTY) {
		e = sk->slot[s];
		sk->item[e].count += c;
		sk->item[e].error += err;
		sift_down(sk, sk->pos[e]);
		return 0;
	}
	if (sk->n < sk->k) {
		e = sk->n++;
		memcpy(sk->item[e].name, name, len);
		sk->item[e].name[len] = '\0';
		sk->item[e].count = c;
		sk->item[e].error = err;
		sk->heap[e] = (uint16_t)e;
		sk->pos[e] = (uint16_t)e;
		sk->slot[s] = (uint16_t)e;
		sift_up(sk, e);
		return 0;
	}
	/* full: the least counted item gives its place (and its count, as
	 * the new name's possible overcount) */
	e = sk->heap[0];
	min = sk->item[e].count;
	unhash(sk, find(sk, sk->item[e].name, strlen(sk->item[e].name)));
	memcpy(sk->item[e].name, name, len);
	sk->item[e].name[len] = '\0';
	sk->item[e].count = min + c;
	sk->item[e].error = min + err;
	sk->slot[find(sk, name, len)] = (uint16_t)e;
	sift_down(sk, 0);
	return 0;
}

int
arc_sketch_add(arc_sketch *sk, const char *name, size_t len)
{
	return add(sk, name, len, 1, 0);
}

int
arc_sketch_add_item(arc_sketch *sk, const arc_sketch_item *it)
{
	return add(sk, it->name, strnlen(it->name, sizeof(it->name)),
	    it->count, it->error);
}

static int
by_count(const void *a, const void *b)
{
	const arc_sketch_item *x = a, *y = b;

	if (x->count != y->count)
		return x->count > y->count ? -1 : 1;
	return strcmp(x->name, y->name);
}

size_t
arc_sketch_top(const arc_sketch *sk, arc_sketch_item *out, size_t max)
{
	arc_sketch_item	*all;
	size_t		 n = sk->n < max ? sk->n : max;

	if (n == 0)
		return 0;
	if (n == sk->n) {
		memcpy(out, sk->item, n * sizeof(*out));
		qsort(out, n, sizeof(*out), by_count);
		return n;
	}
	/* the top max of n: sort a copy (called per exposition, not per
	 * message; k items of 272 bytes) */
	if ((all = malloc(sk->n * sizeof(*all))) == NULL)
		return 0;
	memcpy(all, sk->item, sk->n * sizeof(*all));
	qsort(all, sk->n, sizeof(*all), by_count);
	memcpy(out, all, n * sizeof(*out));
	free(all);
	return n;
}
