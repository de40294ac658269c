/*
 * arc_canon.c - header and body canonicalization; see arc_canon.h.
 */
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <openssl/evp.h>

#include "arc_canon.h"

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

static char
lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
}

/* Relaxed value bytes [s, e) to o: no CR or LF, a WSP run becomes one SP
 * before the next content, none at the start; *wsp and *started carry
 * that across pieces.  Returns the new end of o. */
static char *
relax_value(char *o, const char *s, const char *e, int *wsp, int *started)
{
	int	 w = *wsp, st = *started;

	for (; s < e; s++) {
		char	 c = *s;

		if (c == '\r' || c == '\n')
			continue;
		if (c == ' ' || c == '\t') {
			w = 1;
			continue;
		}
		if (w && st)
			*o++ = ' ';
		w = 0;
		st = 1;
		*o++ = c;
	}
	*wsp = w;
	*started = st;
	return o;
}

int
arc_canon_header(arc_buf *out, const char *f, size_t len,
    arc_canon_mode mode, const char *skip, size_t skip_len, int crlf)
{
	const char	*skip_end = skip ? skip + skip_len : NULL;
	char		*o, *start;
	size_t		 i, colon;
	int		 wsp = 0, started = 0;

	if (mode == ARC_CANON_SIMPLE) {
		if (skip == NULL)
			arc_buf_add(out, f, len);
		else {
			arc_buf_add(out, f, (size_t)(skip - f));
			arc_buf_add(out, skip_end, (size_t)(f + len - skip_end));
		}
		if (crlf)
			arc_buf_add(out, "\r\n", 2);
		return !out->failed;
	}

	/* relaxed: lower-case name, no WSP around the colon; the result is
	 * never longer than the field plus ':' and CRLF, so it is written
	 * straight into room made once */
	if ((o = start = arc_buf_reserve(out, len + 3)) == NULL)
		return 0;
	for (colon = 0; colon < len && f[colon] != ':'; colon++)
		;
	i = colon;
	while (i > 0 && is_wsp(f[i - 1]))
		i--;
	for (size_t k = 0; k < i; k++)
		*o++ = lower(f[k]);
	*o++ = ':';

	/* value: unfold, WSP runs to one SP, no leading or trailing WSP;
	 * the skipped span (a b= value) leaves no trace */
	if (colon < len) {
		const char *v = f + colon + 1, *e = f + len;

		if (skip == NULL)
			o = relax_value(o, v, e, &wsp, &started);
		else {
			o = relax_value(o, v, skip < v ? v : skip > e ? e :
			    skip, &wsp, &started);
			o = relax_value(o, skip_end < v ? v : skip_end > e ? e :
			    skip_end, e, &wsp, &started);
		}
	}
	if (crlf) {
		*o++ = '\r';
		*o++ = '\n';
	}
	out->len += (size_t)(o - start);
	out->data[out->len] = '\0';
	return 1;
}

/* ---- body ------------------------------------------------------------- */

#define STAGE_SIZE	8192

struct arc_bodyhash {
	arc_canon_mode	 mode;
	long long	 limit;		/* < 0: none */
	unsigned long long emitted;	/* canonical bytes produced */
	unsigned long	 pending_crlf;	/* empty lines withheld */
	int		 pending_wsp;	/* relaxed: WSP run withheld */
	int		 cr_held;	/* chunk ended in CR */
	int		 line_content;	/* current line has content */
	int		 failed;
	EVP_MD_CTX	*md;
	size_t		 staged;
	unsigned char	 stage[STAGE_SIZE];
};

arc_bodyhash *
arc_bodyhash_create(arc_canon_mode mode, long long limit)
{
	arc_bodyhash	*bh;

	if ((bh = calloc(1, sizeof(*bh))) == NULL)
		return NULL;
	bh->mode = mode;
	bh->limit = limit;
	if ((bh->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(bh->md, EVP_sha256(), NULL) != 1) {
		arc_bodyhash_free(bh);
		return NULL;
	}
	return bh;
}

void
arc_bodyhash_free(arc_bodyhash *bh)
{
	if (bh == NULL)
		return;
	EVP_MD_CTX_free(bh->md);
	free(bh);
}

static void
flush_stage(arc_bodyhash *bh)
{
	if (bh->staged && EVP_DigestUpdate(bh->md, bh->stage, bh->staged) != 1)
		bh->failed = 1;
	bh->staged = 0;
}

static void
emit(arc_bodyhash *bh, const unsigned char *p, size_t n)
{
	size_t	 take = n;

	if (bh->limit >= 0) {
		unsigned long long room = (unsigned long long)bh->limit >
		    bh->emitted ? (unsigned long long)bh->limit - bh->emitted : 0;

		if (take > room)
			take = (size_t)room;
	}
	bh->emitted += n;
	if (take == 0)
		return;
	if (take >= STAGE_SIZE) {
		flush_stage(bh);
		if (EVP_DigestUpdate(bh->md, p, take) != 1)
			bh->failed = 1;
		return;
	}
	if (bh->staged + take > STAGE_SIZE)
		flush_stage(bh);
	memcpy(bh->stage + bh->staged, p, take);
	bh->staged += take;
}

/* Content is about to be emitted: release the withheld line ends and WSP. */
static void
before_content(arc_bodyhash *bh)
{
	while (bh->pending_crlf > 0) {
		emit(bh, (const unsigned char *)"\r\n", 2);
		bh->pending_crlf--;
	}
	if (bh->pending_wsp) {
		emit(bh, (const unsigned char *)" ", 1);
		bh->pending_wsp = 0;
	}
	bh->line_content = 1;
}

static void
end_line(arc_bodyhash *bh)
{
	bh->pending_wsp = 0;
	bh->pending_crlf++;
	bh->line_content = 0;
}

/* Bytes that are plain content in both modes. */
static int
plain(unsigned char c)
{
	return c != '\r' && c != '\n' && c != ' ' && c != '\t';
}

/*
 * The fast path.  With nothing withheld (no CR, line end or WSP run
 * pending), a stretch of input that ends on plain content comes out of
 * canonicalization unchanged, unless it holds a byte the mode rewrites:
 * a bare CR or LF (both modes), a tab, or a space followed by WSP, CR
 * or LF (relaxed).  Line ends and empty lines inside such a stretch are
 * emitted as they are, because content follows them.  bad() says
 * whether p[k] is such a byte; clean_span() returns the length of the
 * longest stretch at p, 16 bytes at a time where SSE2 is available
 * (a block with no byte up to ' ', as in base64, costs one compare).
 */
static int
bad(int relaxed, const unsigned char *p, size_t n, size_t k)
{
	unsigned char	 c = p[k];
	int		 next = k + 1 < n ? p[k + 1] : -1;

	if (c == '\n')
		return k == 0 || p[k - 1] != '\r';
	if (c == '\r')
		return next != '\n';
	if (!relaxed)
		return 0;
	return c == '\t' || (c == ' ' && (next == -1 || !plain(next)));
}

static size_t
clean_span(int relaxed, const unsigned char *p, size_t n)
{
	size_t	 k;

	if (n == 0 || bad(relaxed, p, n, 0))
		return 0;
	k = 1;
#ifdef __SSE2__
	{
		const __m128i	 sp = _mm_set1_epi8(' ');
		const __m128i	 tab = _mm_set1_epi8('\t');
		const __m128i	 cr = _mm_set1_epi8('\r');
		const __m128i	 lf = _mm_set1_epi8('\n');
		__m128i		 v, nx, pv, nlf, b;
		int		 mask;

		/* each block needs the byte before it and the one after */
		for (; k + 17 <= n; k += 16) {
			v = _mm_loadu_si128((const __m128i *)(p + k));
			/* no byte <= ' ' (no WSP, CR, LF): nothing to check */
			if (_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(v,
			    sp), v)) == 0)
				continue;
			nx = _mm_loadu_si128((const __m128i *)(p + k + 1));
			pv = _mm_loadu_si128((const __m128i *)(p + k - 1));
			nlf = _mm_cmpeq_epi8(nx, lf);
			b = _mm_or_si128(
			    _mm_andnot_si128(nlf, _mm_cmpeq_epi8(v, cr)),
			    _mm_andnot_si128(_mm_cmpeq_epi8(pv, cr),
			    _mm_cmpeq_epi8(v, lf)));
			if (relaxed) {
				__m128i nwsp = _mm_or_si128(_mm_or_si128(
				    _mm_cmpeq_epi8(nx, sp),
				    _mm_cmpeq_epi8(nx, tab)), _mm_or_si128(
				    _mm_cmpeq_epi8(nx, cr), nlf));

				b = _mm_or_si128(b, _mm_or_si128(
				    _mm_cmpeq_epi8(v, tab), _mm_and_si128(
				    _mm_cmpeq_epi8(v, sp), nwsp)));
			}
			if ((mask = _mm_movemask_epi8(b)) != 0) {
				k += (size_t)__builtin_ctz((unsigned)mask);
				goto found;
			}
		}
	}
#endif
	for (; k < n; k++)
		if (bad(relaxed, p, n, k))
			break;
#ifdef __SSE2__
found:
#endif
	while (k > 0 && !plain(p[k - 1]))
		k--;
	return k;
}

int
arc_bodyhash_update(arc_bodyhash *bh, const unsigned char *p, size_t n)
{
	size_t	 i = 0, run;

	while (i < n) {
		unsigned char c = p[i];

		if (!bh->cr_held && bh->pending_crlf == 0 && !bh->pending_wsp &&
		    (run = clean_span(bh->mode == ARC_CANON_RELAXED, p + i,
		    n - i)) > 0) {
			emit(bh, p + i, run);
			bh->line_content = 1;
			i += run;
			/* relaxed stops most often at a WSP run between
			 * words: one SP for it, and on from the content */
			for (run = i; bh->mode == ARC_CANON_RELAXED &&
			    run < n && (p[run] == ' ' || p[run] == '\t'); run++)
				;
			if (run > i && run < n && plain(p[run])) {
				emit(bh, (const unsigned char *)" ", 1);
				i = run;
			}
			continue;
		}
		if (bh->cr_held) {
			bh->cr_held = 0;
			if (c == '\n') {
				end_line(bh);
				i++;
				continue;
			}
			before_content(bh);	/* a bare CR is content */
			emit(bh, (const unsigned char *)"\r", 1);
		}
		if (plain(c)) {
			for (run = i + 1; run < n && plain(p[run]); run++)
				;
			before_content(bh);
			emit(bh, p + i, run - i);
			i = run;
			continue;
		}
		i++;
		if (c == '\r')
			bh->cr_held = 1;
		else if (c == '\n')
			end_line(bh);
		else if (bh->mode == ARC_CANON_RELAXED)
			bh->pending_wsp = 1;
		else {
			before_content(bh);
			emit(bh, &c, 1);
		}
	}
	return !bh->failed;
}

int
arc_bodyhash_final(arc_bodyhash *bh, unsigned char out[32])
{
	unsigned int	 len = 0;

	if (bh->cr_held) {		/* body ends in a bare CR */
		bh->cr_held = 0;
		before_content(bh);
		emit(bh, (const unsigned char *)"\r", 1);
	}
	if (bh->line_content) {		/* last line had no line end */
		bh->pending_crlf = 0;
		emit(bh, (const unsigned char *)"\r\n", 2);
	} else if (bh->emitted > 0 || bh->mode == ARC_CANON_SIMPLE)
		emit(bh, (const unsigned char *)"\r\n", 2);
	flush_stage(bh);
	if (bh->failed || EVP_DigestFinal_ex(bh->md, out, &len) != 1 ||
	    len != 32)
		return 0;
	return 1;
}

arc_canon_mode
arc_bodyhash_mode(const arc_bodyhash *bh)
{
	return bh->mode;
}

long long
arc_bodyhash_limit(const arc_bodyhash *bh)
{
	return bh->limit;
}

unsigned long long
arc_bodyhash_length(const arc_bodyhash *bh)
{
	return bh->emitted;
}
