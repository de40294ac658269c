/*
 * arc_canon.c - header and body canonicalization; see arc_canon.h.
 */
#include <stdlib.h>
#include <string.h>

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

int
arc_canon_header(arc_buf *out, const char *f, size_t len,
    arc_canon_mode mode, const char *skip, size_t skip_len, int crlf)
{
	const char	*skip_end = skip ? skip + skip_len : NULL;
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

	/* relaxed: lower-case name, no WSP around the colon */
	for (colon = 0; colon < len && f[colon] != ':'; colon++)
		;
	i = colon;
	while (i > 0 && is_wsp(f[i - 1]))
		i--;
	for (size_t k = 0; k < i; k++)
		arc_buf_addc(out, lower(f[k]));
	arc_buf_addc(out, ':');

	/* value: unfold, WSP runs to one SP, no leading or trailing WSP */
	for (i = colon + 1; i < len; i++) {
		const char *p = f + i;

		if (skip && p >= skip && p < skip_end)
			continue;
		if (*p == '\r' || *p == '\n')
			continue;
		if (is_wsp(*p)) {
			wsp = 1;
			continue;
		}
		if (wsp && started)
			arc_buf_addc(out, ' ');
		wsp = 0;
		started = 1;
		arc_buf_addc(out, *p);
	}
	if (crlf)
		arc_buf_add(out, "\r\n", 2);
	return !out->failed;
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

int
arc_bodyhash_update(arc_bodyhash *bh, const unsigned char *p, size_t n)
{
	size_t	 i = 0, run;

	while (i < n) {
		unsigned char c = p[i];

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
