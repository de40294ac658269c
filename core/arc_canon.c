/*
 * arc_canon.c - header and body canonicalization; see arc_canon.h.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include <openssl/evp.h>

#include "arc_canon.h"
#include "arc_canon_fast.h"
#include "arc_crypto.h"

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

#ifdef __SSE2__
/* Whether the 16 bytes at s hold no tab, CR or LF, and no space followed
 * by white space or a line end (s[16] is read): once content has
 * started, relaxed canonicalization leaves such a block as it is. */
static int
clean16(const char *s)
{
	const __m128i	 v = _mm_loadu_si128((const __m128i *)s);
	const __m128i	 nx = _mm_loadu_si128((const __m128i *)(s + 1));
	const __m128i	 sp = _mm_set1_epi8(' ');
	__m128i		 gap, bad;

	/* no byte up to ' ' at all: the usual case in a word */
	if (_mm_movemask_epi8(_mm_cmpeq_epi8(_mm_min_epu8(v, sp), v)) == 0)
		return 1;
	gap = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(nx, sp),
	    _mm_cmpeq_epi8(nx, _mm_set1_epi8('\t'))), _mm_or_si128(
	    _mm_cmpeq_epi8(nx, _mm_set1_epi8('\r')),
	    _mm_cmpeq_epi8(nx, _mm_set1_epi8('\n'))));
	bad = _mm_or_si128(_mm_or_si128(_mm_cmpeq_epi8(v,
	    _mm_set1_epi8('\t')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\r'))),
	    _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')),
	    _mm_and_si128(_mm_cmpeq_epi8(v, sp), gap)));
	return _mm_movemask_epi8(bad) == 0;
}
#endif

/* Relaxed value bytes [s, e) to o: no CR or LF, a WSP run becomes one SP
 * before the next content, none at the start; *wsp and *started carry
 * that across pieces.  Returns the new end of o. */
static char *
relax_value(char *o, const char *s, const char *e, int *wsp, int *started)
{
	int	 w = *wsp, st = *started;

	while (s < e) {
		unsigned char c;

#ifdef __SSE2__
		while (st && !w && e - s > 16 && clean16(s)) {
			memcpy(o, s, 16);
			o += 16;
			s += 16;
		}
		if (s == e)
			break;
#endif
		c = (unsigned char)*s;
		if (c > ' ' || (c != ' ' && c != '\t' && c != '\r' &&
		    c != '\n')) {
			/* content: a run of it is copied as it is */
			if (w && st)
				*o++ = ' ';
			w = 0;
			st = 1;
			do
				*o++ = *s++;
			while (s < e && (unsigned char)*s > ' ');
			continue;
		}
		if (c == ' ' || c == '\t')
			w = 1;
		s++;
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

/* The stage collects canonical bytes so SHA-256 sees large updates.  The
 * fast path writes into it directly, given at least FAST_MIN_ROOM; it
 * stops 64 bytes short of the room it is given (up to FAST_SLACK past
 * STAGE_SIZE), which its vector stores may use. */
#define STAGE_SIZE	16384
#define FAST_MIN_ROOM	4096
#define FAST_SLACK	256
#define DIRECT_MIN	1024	/* shorter: the copy is cheaper than a call */

static arc_canon_fast_fn	*kernel_forced;	/* arc_canon_use_kernel() */

struct arc_bodyhash {
	arc_canon_mode	 mode;
	long long	 limit;		/* < 0: none */
	unsigned long long emitted;	/* canonical bytes produced */
	unsigned long	 pending_crlf;	/* empty lines withheld */
	int		 pending_wsp;	/* relaxed: WSP run withheld */
	int		 cr_held;	/* chunk ended in CR */
	int		 line_content;	/* current line has content */
	int		 failed;
	arc_canon_fast_fn *fast;
	EVP_MD_CTX	*md;
	size_t		 staged;
	unsigned char	 stage[STAGE_SIZE + FAST_SLACK];
};

int
arc_canon_use_kernel(const char *name, const char **chosen)
{
	arc_canon_fast_fn *fn;

	if ((fn = arc_canon_fast_lookup(name, chosen)) == NULL)
		return -1;
	kernel_forced = name != NULL ? fn : NULL;
	return 0;
}

arc_bodyhash *
arc_bodyhash_create(arc_canon_mode mode, long long limit)
{
	arc_bodyhash	*bh;

	/* not calloc: the stage needs no zeroing */
	if ((bh = malloc(sizeof(*bh))) == NULL)
		return NULL;
	memset(bh, 0, offsetof(arc_bodyhash, stage));
	bh->mode = mode;
	bh->limit = limit;
	bh->fast = kernel_forced != NULL ? kernel_forced :
	    arc_canon_fast_lookup(NULL, NULL);
	if ((bh->md = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestInit_ex(bh->md, arc_sha256(), NULL) != 1) {
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

/* n more canonical bytes: how many of them l= lets into the hash. */
static size_t
count_out(arc_bodyhash *bh, size_t n)
{
	size_t	 take = n;

	if (bh->limit >= 0) {
		unsigned long long room = (unsigned long long)bh->limit >
		    bh->emitted ? (unsigned long long)bh->limit - bh->emitted : 0;

		if (take > room)
			take = (size_t)room;
	}
	bh->emitted += n;
	return take;
}

/* n canonical bytes are at the end of the stage. */
static void
staged_more(arc_bodyhash *bh, size_t n)
{
	bh->staged += count_out(bh, n);
}

static void
emit(arc_bodyhash *bh, const unsigned char *p, size_t n)
{
	while (n > 0) {
		size_t	 part;

		if (bh->staged >= STAGE_SIZE)
			flush_stage(bh);
		part = STAGE_SIZE - bh->staged < n ? STAGE_SIZE - bh->staged :
		    n;
		memcpy(bh->stage + bh->staged, p, part);
		staged_more(bh, part);
		p += part;
		n -= part;
	}
}

/* n bytes of input that are their own canonical form: hashed in place
 * (what l= allows of them), after what is staged. */
static void
emit_direct(arc_bodyhash *bh, const unsigned char *p, size_t n)
{
	size_t	 take = count_out(bh, n);

	if (take == 0)
		return;
	flush_stage(bh);
	if (EVP_DigestUpdate(bh->md, p, take) != 1)
		bh->failed = 1;
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
 * While nothing is withheld, the fast path (arc_canon_fast.h) takes the
 * body 64 bytes at a time, up to the last content byte it can decide;
 * the byte-wise code below takes the rest: what is withheld at a chunk's
 * end, and the bytes up to the next content after it.
 */
int
arc_bodyhash_update(arc_bodyhash *bh, const unsigned char *p, size_t n)
{
	size_t	 i = 0, run, out;

	while (i < n) {
		unsigned char c = p[i];

		if (!bh->cr_held && bh->pending_crlf == 0 && !bh->pending_wsp) {
			int relaxed = bh->mode == ARC_CANON_RELAXED;

			/* input that canonicalization leaves as it is (an
			 * attachment, mostly) is hashed where it lies */
			run = bh->fast(relaxed, p + i, n - i, NULL, 0, &out);
			if (run >= DIRECT_MIN) {
				emit_direct(bh, p + i, run);
				bh->line_content = 1;
				i += run;
				continue;
			}
			if (STAGE_SIZE - bh->staged < FAST_MIN_ROOM)
				flush_stage(bh);
			run = bh->fast(relaxed, p + i, n - i, bh->stage +
			    bh->staged, STAGE_SIZE + FAST_SLACK - bh->staged,
			    &out);
			if (run > 0) {
				staged_more(bh, out);
				bh->line_content = 1;
				i += run;
				continue;
			}
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
