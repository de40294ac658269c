/*
 * arc_canon.h - DKIM canonicalization (RFC 6376 §3.4) for ARC.
 *
 * Contract:
 *  - arc_canon_header() appends the canonical form of one header field
 *    (raw text "Name: value", CRLF folding inside, no final line end) to
 *    out, followed by CRLF unless crlf is 0 (the signature field itself is
 *    hashed without its CRLF).  skip/skip_len, if set, is a span of the
 *    raw text left out (the b= value being verified or created).
 *  - An arc_bodyhash streams a body through one canonicalization into
 *    SHA-256, in chunks cut anywhere, LF or CRLF line ends, honouring an
 *    optional length limit (l=).  Output is staged so the digest sees
 *    large updates; a fast path (arc_canon_fast.h) takes whole blocks
 *    of 64 bytes where nothing is withheld.  create/free pair; the
 *    digest is ready after final().
 */
#ifndef ARC_CANON_H
#define ARC_CANON_H

#include <stddef.h>
#include <stdint.h>

#include "arc_buf.h"

typedef enum {
	ARC_CANON_SIMPLE = 0,
	ARC_CANON_RELAXED
} arc_canon_mode;

int	arc_canon_header(arc_buf *out, const char *field, size_t len,
	    arc_canon_mode, const char *skip, size_t skip_len, int crlf);

typedef struct arc_bodyhash arc_bodyhash;

/* limit < 0: whole body */
arc_bodyhash	*arc_bodyhash_create(arc_canon_mode, long long limit);
void		 arc_bodyhash_free(arc_bodyhash *);
int		 arc_bodyhash_update(arc_bodyhash *, const unsigned char *,
		    size_t);
/* Writes the 32-byte digest; 0 on failure. */
int		 arc_bodyhash_final(arc_bodyhash *, unsigned char out[32]);
arc_canon_mode	 arc_bodyhash_mode(const arc_bodyhash *);
long long	 arc_bodyhash_limit(const arc_bodyhash *);
/* Bytes of canonical body seen (before any limit); valid after final. */
unsigned long long arc_bodyhash_length(const arc_bodyhash *);

/* For tests and benchmarks: the fast-path kernel the hashers created
 * from now on use, by name ("avx512", "avx2", "sse2", "generic", or
 * "none": the byte-wise code alone; NULL: the best this CPU has, the
 * default).  -1 if this CPU lacks it; *chosen,
 * if set, gets the name of the kernel in use.  Not thread-safe. */
int		 arc_canon_use_kernel(const char *name, const char **chosen);

#endif
