/*
 * canon_diff - differential check of the core's body canonicalization
 * (arc_bodyhash, core/arc_canon.c) against a plain reference.
 *
 *   canon_diff [ITERATIONS [SEED]]
 *
 * Contract: the reference below canonicalizes a whole body at once, as
 * RFC 6376 §3.4.3 and §3.4.4 say, with the core's reading of line ends
 * (CRLF or a bare LF ends a line, a bare CR is content).  Random bodies
 * go through both in random chunks, both modes, with and without an l=
 * limit, through every fast-path kernel this CPU has (arc_canon_fast.h:
 * avx512, avx2, sse2, generic); the digests must agree.  Three kinds of
 * body: an alphabet rich in WSP, CR and LF with plain stretches of up to
 * 200 bytes; text (words, doubled and trailing WSP, empty lines, CRLF or
 * LF line ends, now and then a bare CR); and CRLF lines of plain bytes
 * with a rare WSP, CR or LF (what the kernels hash in place unless one
 * of those changes it); some of each long enough to cross the hasher's
 * 16 KB stage.  Header fields, too, through
 * relaxed header canonicalization (and its 16-byte fast path) against a
 * plain reference.  Exit 0 if they all agree, 1 (with
 * the failing case printed) if not.  Written with the fast path that
 * arcbench's profile asked for (docs/performance.md); "make canon-diff"
 * runs it, as does make check.
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
make_text(unsigned char *b, size_t n)
{
	int	 lf_only = rnd(3) == 0;
	size_t	 i = 0, col = 0, k;

	while (i < n) {
		unsigned r = rnd(100);

		if (r < 4 || col > 60 + rnd(30)) {	/* line end */
			if (r < 2)			/* trailing WSP */
				b[i++] = rnd(2) ? ' ' : '\t';
			if (!lf_only && i < n)
				b[i++] = '\r';
			if (i < n)
				b[i++] = '\n';
			col = 0;
			continue;
		}
		if (r < 6)
			b[i++] = '\r';			/* bare CR */
		else if (col > 0) {			/* word gap */
			b[i++] = r < 12 ? '\t' : ' ';
			if (r < 20 && i < n)
				b[i++] = rnd(2) ? ' ' : '\t';
		}
		for (k = 1 + rnd(9); k > 0 && i < n; k--, col++)
			b[i++] = (unsigned char)('a' + rnd(26));
		col++;
	}
}

/* Long plain stretches with now and then one byte the rules care about:
 * what the hashing-in-place pass (arc_canon_fast.h) must not miss. */
static void
make_sparse(unsigned char *b, size_t n)
{
	static const char rare[] = " \t\r\n\r\n  \t";
	size_t	 i;

	for (i = 0; i < n; i++)
		b[i] = rnd(400) == 0 ? (unsigned char)rare[rnd(sizeof(rare) -
		    1)] : (unsigned char)('c' + rnd(20));
	for (i = 0; i + 1 < n; i += 60 + rnd(40)) {	/* CRLF lines */
		b[i] = '\r';
		b[i + 1] = '\n';
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

/* iters random bodies through the kernel in use; 0 if all agree */
static int
run(unsigned long iters, const char *kernel, unsigned char *body,
    unsigned char *ref, size_t maxn)
{
	unsigned char	 want[32], got[32];
	unsigned long	 it;
	size_t		 n, rn, cut, i;

	for (it = 0; it < iters; it++) {
		int		 relaxed = (int)rnd(2);
		long long	 limit = rnd(4) == 0 ? (long long)rnd(300) : -1;
		arc_bodyhash	*bh;
		unsigned int	 len;

		n = rnd(64) == 0 ? rnd((unsigned)maxn) : rnd(8) == 0 ?
		    rnd(4096) : rnd(120);
		switch (rnd(3)) {
		case 0:
			make_body(body, n);
			break;
		case 1:
			make_text(body, n);
			break;
		default:
			make_sparse(body, n);
			break;
		}
		rn = reference(relaxed, body, n, ref);
		if (limit >= 0 && (size_t)limit < rn)
			rn = (size_t)limit;
		if (EVP_Digest(ref, rn, want, &len, EVP_sha256(), NULL) != 1)
			return 2;
		if ((bh = arc_bodyhash_create(relaxed ? ARC_CANON_RELAXED :
		    ARC_CANON_SIMPLE, limit)) == NULL)
			return 2;
		for (i = 0; i < n; i += cut) {
			cut = 1 + rnd(rnd(4) == 0 ? 3 : (unsigned)n);
			if (cut > n - i)
				cut = n - i;
			if (!arc_bodyhash_update(bh, body + i, cut))
				return 2;
		}
		if (!arc_bodyhash_final(bh, got))
			return 2;
		if (memcmp(want, got, 32) != 0) {
			printf("canon_diff: case %lu differs (%s kernel, %s, "
			    "l=%lld)\n", it, kernel, relaxed ? "relaxed" :
			    "simple", limit);
			dump("body", body, n);
			reference(relaxed, body, n, ref);
			dump("reference", ref, rn);
			arc_bodyhash_free(bh);
			return 1;
		}
		arc_bodyhash_free(bh);
	}
	return 0;
}

/* Relaxed header canonicalization of f[0..n) (RFC 6376 §3.4.2, with the
 * core's reading: every CR and LF goes, a WSP run is one SP, none around
 * the colon or at the ends), plus CRLF. */
static size_t
reference_header(const char *f, size_t n, char *out)
{
	size_t	 i, o = 0, colon;
	int	 run = 0, started = 0;

	for (colon = 0; colon < n && f[colon] != ':'; colon++)
		;
	for (i = 0; i < colon; i++)
		out[o++] = (char)(f[i] >= 'A' && f[i] <= 'Z' ? f[i] + 32 :
		    f[i]);
	while (o > 0 && wsp((unsigned char)out[o - 1]))
		o--;
	out[o++] = ':';
	for (i = colon + 1; i < n; i++) {
		if (f[i] == '\r' || f[i] == '\n')
			continue;
		if (wsp((unsigned char)f[i])) {
			run = 1;
			continue;
		}
		if (run && started)
			out[o++] = ' ';
		run = 0;
		started = 1;
		out[o++] = f[i];
	}
	out[o++] = '\r';
	out[o++] = '\n';
	return o;
}

/* iters random header fields through arc_canon_header; 0 if all agree */
static int
run_headers(unsigned long iters)
{
	static const char alpha[] = "aB:  \t\t\r\n\r\n \x01";
	char		 f[600], want[700];
	unsigned long	 it;
	size_t		 n, wn, i, k;

	for (it = 0; it < iters; it++) {
		arc_buf	 got = { 0 };

		n = 0;
		for (k = 1 + rnd(12); k > 0; k--)	/* the name */
			f[n++] = (char)(rnd(2) ? 'a' + rnd(26) : 'A' + rnd(26));
		for (k = rnd(3); k > 0; k--)
			f[n++] = rnd(2) ? ' ' : '\t';
		f[n++] = ':';
		for (k = n + rnd(rnd(4) == 0 ? 500 : 80); n < k; )
			if (rnd(3) == 0)	/* a run of plain bytes */
				for (i = 1 + rnd(30); i > 0 && n < k; i--)
					f[n++] = (char)('c' + rnd(20));
			else
				f[n++] = alpha[rnd(sizeof(alpha) - 1)];
		wn = reference_header(f, n, want);
		if (!arc_canon_header(&got, f, n, ARC_CANON_RELAXED, NULL, 0,
		    1) || got.len != wn || memcmp(got.data, want, wn) != 0) {
			printf("canon_diff: header case %lu differs\n", it);
			dump("field", (const unsigned char *)f, n);
			dump("reference", (const unsigned char *)want, wn);
			dump("got", (const unsigned char *)got.data, got.len);
			arc_buf_free(&got);
			return 1;
		}
		arc_buf_free(&got);
	}
	printf("canon_diff: %lu header fields, relaxed: identical\n", iters);
	return 0;
}

int
main(int argc, char **argv)
{
	static const char *kernels[] = { "avx512", "avx2", "sse2", "generic" };
	unsigned long	 iters = argc > 1 ? strtoul(argv[1], NULL, 10) : 200000;
	unsigned char	*body, *ref;
	size_t		 k, maxn = 40000;
	int		 rc = 0;

	if (argc > 2)
		rng = strtoull(argv[2], NULL, 10) | 1;
	if ((body = malloc(maxn)) == NULL || (ref = malloc(2 * maxn + 2)) ==
	    NULL)
		return 2;
	for (k = 0; k < sizeof(kernels) / sizeof(kernels[0]) && rc == 0;
	    k++) {
		if (arc_canon_use_kernel(kernels[k], NULL) != 0) {
			printf("canon_diff: no %s on this CPU, skipped\n",
			    kernels[k]);
			continue;
		}
		if ((rc = run(iters, kernels[k], body, ref, maxn)) == 0)
			printf("canon_diff: %lu bodies, both modes, random "
			    "chunks, %s kernel: identical\n", iters,
			    kernels[k]);
	}
	arc_canon_use_kernel(NULL, NULL);
	if (rc == 0)
		rc = run_headers(iters);
	free(body);
	free(ref);
	return rc;
}
