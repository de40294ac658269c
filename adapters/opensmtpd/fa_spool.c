/*
 * fa_spool.c - filter-arc's message spool: memory, then an unlinked
 * temporary file; read back through cursors.
 *
 * Contract: see fa_spool.h.  Pure I/O: no logging, no other module.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fa_spool.h"

/* Small, and counted in the memory total with the spools' memory:
 * 10 000 spilled messages must not cost 64 KB + 64 KB each. */
#define WRITE_BUF	16384
#define READ_BUF	16384

static size_t	mem_total;

const char *
fa_spool_dir(void)
{
	const char	*dir = getenv("TMPDIR");

	return dir == NULL || *dir == '\0' ? "/tmp" : dir;
}

size_t
fa_spool_mem_total(void)
{
	return mem_total;
}

void
fa_spool_init(struct fa_spool *sp)
{
	memset(sp, 0, sizeof(*sp));
	sp->fd = -1;
}

int
fa_spool_error(const struct fa_spool *sp)
{
	return sp->error;
}

static int
file_open(struct fa_spool *sp)
{
	char	path[PATH_MAX];

	if ((size_t)snprintf(path, sizeof(path), "%s/filter-arc.XXXXXX",
	    fa_spool_dir()) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if ((sp->fd = mkstemp(path)) == -1)
		return -1;
	/* a write buffer only while the total allows one: beyond, lines
	 * are written through */
	if (mem_total + WRITE_BUF <= FA_SPOOL_MEM_TOTAL &&
	    (sp->wbuf = malloc(WRITE_BUF)) != NULL)
		mem_total += WRITE_BUF;
	/* private: nobody else can open it, and it vanishes with us */
	(void)unlink(path);
	return 0;
}

/* Writes the buffer out; on a short write keeps the rest. */
static int
file_write(struct fa_spool *sp)
{
	size_t	off = 0;
	ssize_t	n;

	while (off < sp->wlen) {
		n = write(sp->fd, sp->wbuf + off, sp->wlen - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			memmove(sp->wbuf, sp->wbuf + off, sp->wlen - off);
			sp->wlen -= off;
			sp->flen += (off_t)off;
			return -1;
		}
		off += (size_t)n;
	}
	sp->flen += (off_t)sp->wlen;
	sp->wlen = 0;
	return 0;
}

/* Without a write buffer: straight to the file. */
static int
file_through(struct fa_spool *sp, const char *p, size_t n)
{
	ssize_t	w;

	while (n > 0) {
		w = write(sp->fd, p, n);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0) {
			if (w == 0)
				errno = ENOSPC;
			return -1;
		}
		sp->flen += (off_t)w;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static int
file_add(struct fa_spool *sp, const char *p, size_t n)
{
	size_t	take;

	if (sp->fd == -1 && file_open(sp) == -1)
		return -1;
	if (sp->wbuf == NULL)
		return file_through(sp, p, n);
	while (n > 0) {
		take = WRITE_BUF - sp->wlen < n ? WRITE_BUF - sp->wlen : n;
		memcpy(sp->wbuf + sp->wlen, p, take);
		sp->wlen += take;
		p += take;
		n -= take;
		if (sp->wlen == WRITE_BUF && file_write(sp) == -1)
			return -1;
	}
	return 0;
}

static int
mem_reserve(struct fa_spool *sp, size_t n)
{
	size_t	 cap;
	char	*q;

	if (sp->memlen + n <= sp->memcap)
		return 0;
	cap = sp->memcap ? sp->memcap : 4096;
	while (cap < sp->memlen + n)
		cap *= 2;
	if ((q = realloc(sp->mem, cap)) == NULL)
		return -1;
	mem_total += cap - sp->memcap;
	sp->mem = q;
	sp->memcap = cap;
	return 0;
}

int
fa_spool_add(struct fa_spool *sp, const char *text, size_t len)
{
	size_t	n = len + 1;

	if (sp->error) {
		errno = sp->error;
		return -1;
	}
	/* memory while the file is not started: the stream stays
	 * "memory, then file" */
	if (sp->fd == -1 && sp->memlen + n <= FA_SPOOL_MEM_MAX &&
	    mem_total + n <= FA_SPOOL_MEM_TOTAL && mem_reserve(sp, n) == 0) {
		memcpy(sp->mem + sp->memlen, text, len);
		sp->mem[sp->memlen + len] = '\n';
		sp->memlen += n;
		sp->len += (off_t)n;
		return 0;
	}
	if (file_add(sp, text, len) == -1 || file_add(sp, "\n", 1) == -1) {
		sp->error = errno ? errno : EIO;
		return -1;
	}
	sp->len += (off_t)n;
	return 0;
}

void
fa_spool_free(struct fa_spool *sp)
{
	mem_total -= sp->memcap;
	free(sp->mem);
	if (sp->fd != -1)
		close(sp->fd);
	if (sp->wbuf != NULL)
		mem_total -= WRITE_BUF;
	free(sp->wbuf);
	fa_spool_init(sp);
}

/* Up to n stream bytes at off (beyond the memory part): from the file,
 * then from what is still in the write buffer. */
static ssize_t
read_at(const struct fa_spool *sp, off_t off, char *dst, size_t n)
{
	off_t	foff = off - (off_t)sp->memlen, woff;
	ssize_t	r;

	if (foff < sp->flen) {
		if ((off_t)n > sp->flen - foff)
			n = (size_t)(sp->flen - foff);
		do
			r = pread(sp->fd, dst, n, foff);
		while (r == -1 && errno == EINTR);
		if (r == 0) {
			errno = EIO;	/* the file is shorter than written */
			return -1;
		}
		return r;
	}
	woff = foff - sp->flen;
	if (woff >= (off_t)sp->wlen) {
		errno = EIO;
		return -1;
	}
	if ((off_t)n > (off_t)sp->wlen - woff)
		n = (size_t)((off_t)sp->wlen - woff);
	memcpy(dst, sp->wbuf + woff, n);
	return (ssize_t)n;
}

void
fa_cursor_init(struct fa_cursor *c)
{
	memset(c, 0, sizeof(*c));
}

void
fa_cursor_free(struct fa_cursor *c)
{
	mem_total -= c->bcap;
	free(c->buf);
	fa_cursor_init(c);
}

void
fa_cursor_release(struct fa_cursor *c)
{
	off_t	pos = c->pos;
	size_t	last = c->last;

	fa_cursor_free(c);
	c->pos = pos;
	c->last = last;
}

void
fa_cursor_next(struct fa_cursor *c)
{
	c->pos += (off_t)c->last;
	c->last = 0;
}

int
fa_cursor_line(const struct fa_spool *sp, struct fa_cursor *c,
    const char **line, size_t *len)
{
	const char	*nl;
	size_t		 s, keep, want, cap;
	ssize_t		 n;
	char		*q;

	if (c->pos >= sp->len)
		return 0;
	if ((size_t)c->pos < sp->memlen) {
		/* lines never straddle memory and file */
		s = (size_t)c->pos;
		if ((nl = memchr(sp->mem + s, '\n', sp->memlen - s)) == NULL) {
			errno = EIO;
			return -1;
		}
		*line = sp->mem + s;
		*len = (size_t)(nl - (sp->mem + s));
		c->last = *len + 1;
		return 1;
	}
	for (;;) {
		if (c->pos >= c->boff && c->pos < c->boff + (off_t)c->blen) {
			s = (size_t)(c->pos - c->boff);
			if ((nl = memchr(c->buf + s, '\n', c->blen - s)) !=
			    NULL) {
				*line = c->buf + s;
				*len = (size_t)(nl - (c->buf + s));
				c->last = *len + 1;
				return 1;
			}
			keep = c->blen - s;
			memmove(c->buf, c->buf + s, keep);
		} else
			keep = 0;
		c->boff = c->pos;
		c->blen = keep;
		if (c->blen == c->bcap) {
			cap = c->bcap ? c->bcap * 2 : READ_BUF;
			if ((q = realloc(c->buf, cap)) == NULL)
				return -1;
			mem_total += cap - c->bcap;
			c->buf = q;
			c->bcap = cap;
		}
		want = c->bcap - c->blen;
		if ((off_t)want > sp->len - (c->boff + (off_t)c->blen))
			want = (size_t)(sp->len - (c->boff +
			    (off_t)c->blen));
		if (want == 0) {
			errno = EIO;	/* a kept line without its end */
			return -1;
		}
		if ((n = read_at(sp, c->boff + (off_t)c->blen,
		    c->buf + c->blen, want)) <= 0)
			return -1;
		c->blen += (size_t)n;
	}
}
