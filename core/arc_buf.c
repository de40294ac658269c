/*
 * arc_buf.c - growable byte buffer; see arc_buf.h.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc_buf.h"

static int
grow(arc_buf *b, size_t need)
{
	size_t	 cap;
	char	*p;

	if (b->failed)
		return 0;
	if (need > ((size_t)-1) / 2 - b->len ||
	    (b->limit != 0 && b->len + need > b->limit)) {
		b->failed = 1;
		return 0;
	}
	if (b->len + need + 1 <= b->cap)
		return 1;
	cap = b->cap ? b->cap : 64;
	while (cap < b->len + need + 1)
		cap *= 2;
	if ((p = realloc(b->data, cap)) == NULL) {
		b->failed = 1;
		return 0;
	}
	b->data = p;
	b->cap = cap;
	/* a reserve on an empty buffer leaves it a valid empty string:
	 * the contract says data is always terminated */
	b->data[b->len] = '\0';
	return 1;
}

int
arc_buf_add(arc_buf *b, const void *p, size_t n)
{
	if (!grow(b, n))
		return 0;
	if (n)
		memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 1;
}

char *
arc_buf_reserve(arc_buf *b, size_t n)
{
	return grow(b, n) ? b->data + b->len : NULL;
}

int
arc_buf_adds(arc_buf *b, const char *s)
{
	return arc_buf_add(b, s, strlen(s));
}

int
arc_buf_addc(arc_buf *b, char c)
{
	return arc_buf_add(b, &c, 1);
}

int
arc_buf_printf(arc_buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || !grow(b, (size_t)n))
		return 0;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
	return 1;
}

void
arc_buf_reset(arc_buf *b)
{
	b->len = 0;
	b->failed = 0;
	if (b->data)
		b->data[0] = '\0';
}

void
arc_buf_free(arc_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = 0;
}

char *
arc_buf_steal(arc_buf *b)
{
	char	*p;

	if (b->failed) {
		arc_buf_free(b);
		return NULL;
	}
	if (b->data == NULL && !arc_buf_add(b, "", 0))
		return NULL;
	p = b->data;
	b->data = NULL;
	b->len = b->cap = 0;
	return p;
}
