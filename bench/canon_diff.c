/*
 * canon_diff - differential check of the core's body canonicalization
 * (arc_bodyhash, core/arc_canon.c) against a plain reference.
 *
 *   canon_diff [ITERATIONS [SEED]]
 *
 * Contract: the reference below canonicalizes a whole body at once, as
 * RFC 6376 §3.4.3 and §3.4.4 say, with the core's reading of line ends
 * (CRLF or a bare LF ends a line, a bare CR is content).  Random bodies
 * over an alphabet rich in WSP, CR and LF, with long plain stretches
 * for the 16-byte fast path, go through both in random chunks, both
 * modes, with and without an l= limit; the digests and lengths must
 * agree.  Exit 0 if they all do, 1 (with the failing case printed) if
 * not.  Written with the fast path that arcbench's profile asked for
 * (docs/performance.md); "make canon-diff" runs it, as does make check.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "arc_canon.h"

static unsigned long long rng = 88172645463325252ULL;

static unsigned
rnd(unsigned n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (unsigned)(rng % n);
}

static int
wsp(unsigned char c)
{
	return c == ' ' || c == '\t';
}

/* The canonical body of in[0..n) into out (room for 2n + 2 bytes). */
static size_t
reference(int relaxed, const unsigned char *in, size_t n, unsigned char *out)
{
	size_t	 i = 0, j, end, o = 0, start, keep = 0;
	int	 run;

	while (i < n) {
		for (j = i; j < n && in[j] != '\n'; j++)
			;
		end = j;
		if (j < n && end > i && in[end - 1] == '\r')
			end--;
		start = o;
		if (!relaxed) {
			memcpy(out + o, in + i, end - i);
			o += end - i;
		} else {
			for (run = 0; i < end; i++) {
				if (wsp(in[i])) {
					run = 1;
					continue;
				}
				if (run)
					out[o++] = ' ';
				run = 0;
				out[o++] = in[i];
			}
		}
		out[o++] = '\r';
		out[o++] = '\n';
		if (o - 2 > start)
			keep = o;	/* after the last non-empty line */
		i = j < n ? j + 1 : n;
	}
	o = keep;
	if (!relaxed && o == 0) {
		out[o++] = '\r';
		out[o++] = '\n';
	}
	return o;
}

static void
make_body(unsigned char *b, size_t n)
{
	static const char alpha[] = "ab  \t\r\n\r\n";
	size_t	 i = 0, k;

	while (i < n) {
		if (rnd(4) == 0) {	/* a plain stretch, maybe long */
			k = 1 + rnd(rnd(8) == 0 ? 200 : 40);
			while (k-- > 0 && i < n)
				b[i++] = (unsigned char)('c' + rnd(20));
		} else
			b[i++] = (unsigned char)alpha[rnd(sizeof(alpha) - 1)];
	}
}

static void
dump(const char *what, const unsigned char *p, size_t n)
{
	size_t	 i;

	printf("%s (%zu bytes): \"", what, n);
	for (i = 0; i < n; i++)
		printf(p[i] == '\r' ? "\\r" : p[i] == '\n' ? "\\n" :
		    p[i] == '\t' ? "\\t" : "%c", p[i]);
	printf("\"\n");
}

int
main(int argc, char **argv)
{
	unsigned long	 iters = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
	unsigned char	*body, *ref, want[32], got[32];
	unsigned long	 it;
	size_t		 n, rn, cut, i, maxn = 4096;

	if (argc > 2)
		rng = strtoull(argv[2], NULL, 10) | 1;
	if ((body = malloc(maxn)) == NULL || (ref = malloc(2 * maxn + 2)) ==
	    NULL)
		return 2;
	for (it = 0; it < iters; it++) {
		int		 relaxed = (int)rnd(2);
		long long	 limit = rnd(4) == 0 ? (long long)rnd(300) : -1;
		arc_bodyhash	*bh;
		unsigned int	 len;

		n = rnd(8) == 0 ? rnd((unsigned)maxn) : rnd(120);
		make_body(body, n);
		rn = reference(relaxed, body, n, ref);
		if (limit >= 0 && (size_t)limit < rn)
			rn = (size_t)limit;
		if (EVP_Digest(ref, rn, want, &len, EVP_sha256(), NULL) != 1)
			return 2;
		if ((bh = arc_bodyhash_create(relaxed ? ARC_CANON_RELAXED :
		    ARC_CANON_SIMPLE, limit)) == NULL)
			return 2;
		for (i = 0; i < n; i += cut) {
			cut = 1 + rnd(rnd(2) ? 3 : (unsigned)n);
			if (cut > n - i)
				cut = n - i;
			if (!arc_bodyhash_update(bh, body + i, cut))
				return 2;
		}
		if (!arc_bodyhash_final(bh, got))
			return 2;
		if (memcmp(want, got, 32) != 0) {
			printf("canon_diff: case %lu differs (%s, l=%lld)\n",
			    it, relaxed ? "relaxed" : "simple", limit);
			dump("body", body, n);
			reference(relaxed, body, n, ref);
			dump("reference", ref, rn);
			arc_bodyhash_free(bh);
			return 1;
		}
		arc_bodyhash_free(bh);
	}
	printf("canon_diff: %lu bodies, both modes, random chunks: "
	    "identical\n", iters);
	free(body);
	free(ref);
	return 0;
}
