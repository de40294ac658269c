/*
 * arc_canon_fast.h - the fast path of body canonicalization, for
 * arc_canon.c: a body taken 64 bytes at a time, classified with vector
 * compares into one bit per byte, and compacted.  One kernel per
 * instruction set (arc_canon_fast.c: portable C; arc_canon_x86_*.c:
 * SSE2, AVX2, AVX-512), all built from arc_canon_kernel.h.
 *
 * Contract of a kernel, n = kernel(relaxed, p, len, out, room, &outlen):
 *  - Called only while the body hasher withholds nothing (no CR, empty
 *    line or WSP run pending): so an LF at p[0] is a bare LF.
 *  - It reads p[0 .. len), canonicalizes at most p[0 .. len - 2) (every
 *    byte it decides has two bytes of look-ahead), and returns n: the
 *    input up to and including the last byte after which nothing is
 *    withheld, that is, content (0 if there is none, which includes
 *    len < 3).  The canonical form of p[0 .. n) is out[0 .. outlen);
 *    bytes of out past outlen may have been written, never past room.
 *  - With out NULL (room ignored) it only checks: it stops before the
 *    first block whose canonical form differs from it, and returns n as
 *    above for what came before, with outlen n: that much of p may be
 *    hashed as it is, with no copy.
 *  - The reading of the body is the byte-wise code's: CRLF and a bare LF
 *    end a line (a bare LF becomes CRLF), a bare CR is content; relaxed,
 *    a WSP run becomes one SP, and goes entirely before a line end.
 *  - Pure: no allocation, no state, safe from any thread.
 */
#ifndef ARC_CANON_FAST_H
#define ARC_CANON_FAST_H

#include <stddef.h>
#include <stdint.h>

typedef size_t arc_canon_fast_fn(int relaxed, const unsigned char *p,
    size_t len, unsigned char *out, size_t room, size_t *outlen);

arc_canon_fast_fn	arc_canon_fast_generic;
#if defined(__x86_64__)
arc_canon_fast_fn	arc_canon_fast_sse2;
arc_canon_fast_fn	arc_canon_fast_avx2;
arc_canon_fast_fn	arc_canon_fast_avx512;
#endif

/* The kernel by name, NULL if unknown or this CPU lacks it; name NULL:
 * the best this CPU has.  "none" is a kernel that never takes anything.  *chosen, if set, gets the kernel's name. */
arc_canon_fast_fn	*arc_canon_fast_lookup(const char *name,
			    const char **chosen);

#endif
