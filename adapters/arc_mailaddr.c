/*
 * arc_mailaddr.c - From, List-Id and envelope addresses, reduced to
 * what a signing table is matched on.  See arc_mailaddr.h.
 */
#include <ctype.h>
#include <string.h>

#include "arc_mailaddr.h"

static int
fail(char *out, size_t outlen)
{
	if (outlen > 0)
		out[0] = '\0';
	return -1;
}

static int
domain_char(int c)
{
	return isalnum(c) || c == '-' || c == '.' || c == '_';
}

/* Index just past a comment that starts at p[i] == '(' (nested, with
 * quoted pairs), or n if it never ends. */
static size_t
skip_comment(const char *p, size_t n, size_t i)
{
	unsigned depth = 0;

	for (; i < n; i++) {
		if (p[i] == '\\')
			i++;
		else if (p[i] == '(')
			depth++;
		else if (p[i] == ')' && --depth == 0)
			return i + 1;
	}
	return n;
}

/* Index just past a quoted string that starts at p[i] == '"'. */
static size_t
skip_quoted(const char *p, size_t n, size_t i)
{
	for (i++; i < n; i++) {
		if (p[i] == '\\')
			i++;
		else if (p[i] == '"')
			return i + 1;
	}
	return n;
}

/* An addr-spec with CFWS around its parts: comments and white space
 * dropped, quoted local parts kept as written, the rest lower-cased. */
static int
addr_spec(const char *p, size_t n, char *out, size_t outlen)
{
	size_t	 i = 0, o = 0, at = 0, e;
	int	 nat = 0;

	if (outlen == 0)	/* not even room for the "" of a failure */
		return -1;
	while (i < n) {
		unsigned char c = (unsigned char)p[i];

		if (c == '(') {
			i = skip_comment(p, n, i);
			continue;
		}
		if (c == ' ' || c == '\t' || c == '\r' || c == '\n') {
			i++;
			continue;
		}
		if (c == '"') {
			if (nat)	/* quotes belong to the local part */
				return fail(out, outlen);
			e = skip_quoted(p, n, i);
			for (; i < e; i++) {
				if ((unsigned char)p[i] < 0x20 ||
				    (unsigned char)p[i] > 0x7e ||
				    o + 1 >= outlen)
					return fail(out, outlen);
				out[o++] = p[i];
			}
			continue;
		}
		if (c <= 0x20 || c > 0x7e || o + 1 >= outlen)
			return fail(out, outlen);
		if (c == '@') {
			nat++;
			at = o;
		} else if (nat && !domain_char(c))
			return fail(out, outlen);
		out[o++] = (char)tolower(c);
		i++;
	}
	out[o] = '\0';
	if (nat != 1 || at == 0 || at + 1 == o || out[at + 1] == '.' ||
	    out[o - 1] == '.')
		return fail(out, outlen);
	return 0;
}

int
arc_mailaddr_from(const char *p, size_t n, char *out, size_t outlen)
{
	size_t	 i = 0, start = 0, s, e;

	while (i < n) {
		switch (p[i]) {
		case '"':
			i = skip_quoted(p, n, i);
			continue;
		case '(':
			i = skip_comment(p, n, i);
			continue;
		case ':':	/* group syntax: the display name ends here */
			start = i + 1;
			break;
		case ',':
		case ';':
			return addr_spec(p + start, i - start, out, outlen);
		case '<':
			s = i + 1;
			for (e = s; e < n && p[e] != '>'; )
				e = p[e] == '"' ? skip_quoted(p, n, e) : e + 1;
			if (e >= n)
				return fail(out, outlen);
			/* obsolete source route "@a,@b:" before the address */
			for (i = s; i < e && (p[i] == ' ' || p[i] == '\t'); i++)
				;
			if (i < e && p[i] == '@') {
				while (i < e && p[i] != ':')
					i++;
				if (i == e)
					return fail(out, outlen);
				s = i + 1;
			}
			return addr_spec(p + s, e - s, out, outlen);
		}
		i++;
	}
	return addr_spec(p + start, n - start, out, outlen);
}

int
arc_mailaddr_list_id(const char *p, size_t n, char *out, size_t outlen)
{
	size_t	 i = 0, o = 0;

	while (i < n && p[i] != '<')
		i = p[i] == '"' ? skip_quoted(p, n, i) :
		    p[i] == '(' ? skip_comment(p, n, i) : i + 1;
	if (i >= n)
		return fail(out, outlen);
	for (i++; i < n && p[i] != '>'; i++) {
		unsigned char c = (unsigned char)p[i];

		if (!domain_char(c) || o + 1 >= outlen)
			return fail(out, outlen);
		out[o++] = (char)tolower(c);
	}
	if (i >= n || o == 0 || out[0] == '.' || out[o - 1] == '.' ||
	    memchr(out, '.', o) == NULL)
		return fail(out, outlen);
	out[o] = '\0';
	return 0;
}

int
arc_mailaddr_envelope(const char *a, char *out, size_t outlen)
{
	size_t	 n;

	if (a == NULL)
		return fail(out, outlen);
	while (*a == ' ' || *a == '\t')
		a++;
	if (*a == '<') {
		const char *e = strchr(a + 1, '>');

		if (e == NULL)
			return fail(out, outlen);
		return arc_mailaddr_from(a, (size_t)(e - a) + 1, out, outlen);
	}
	/* no brackets: up to the first white space (ESMTP parameters) */
	n = strcspn(a, " \t\r\n");
	return addr_spec(a, n, out, outlen);
}
