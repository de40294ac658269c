/*
 * arc_tags.c - DKIM tag-list tokenizer; see arc_tags.h.
 */
#include <stdlib.h>
#include <string.h>

#include "arc_tags.h"

static int
is_wsp(char c)
{
	return c == ' ' || c == '\t';
}

/* FWS inside a header value is WSP with CRLF before it; a header value
 * cannot hold a line end not followed by WSP, and key records (TXT, key
 * table files) may carry bare line ends where they were pasted, so any
 * CR or LF counts as folding whitespace here. */
static size_t
skip_fws(const char *p, size_t i, size_t len)
{
	while (i < len && (is_wsp(p[i]) || p[i] == '\r' || p[i] == '\n'))
		i++;
	return i;
}

static int
is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
is_namechar(unsigned char c)
{
	return is_alpha(c) || (c >= '0' && c <= '9') || c == '_';
}

/* VALCHAR is %x21-3A / %x3C-7E; RFC 6376 §3.2 plus RFC 8616 (EAI)
 * allow UTF-8 there too, so octets >= 0x80 are accepted. */
static int
is_valchar(unsigned char c)
{
	return (c >= 0x21 && c <= 0x7e && c != ';') || c >= 0x80;
}

const char *
arc_tags_parse(arc_taglist *tl, const char *p, size_t len)
{
	size_t	 i = 0, ns, nl, vs, ve;
	unsigned k;

	tl->n = 0;
	for (;;) {
		i = skip_fws(p, i, len);
		if (i == len)
			return NULL;		/* empty list or trailing ';' */
		if (!is_alpha((unsigned char)p[i]))
			return p[i] == ';' ? "empty tag-spec (';;')" :
			    "tag name must start with a letter";
		ns = i;
		while (i < len && is_namechar((unsigned char)p[i]))
			i++;
		nl = i - ns;
		i = skip_fws(p, i, len);
		if (i == len || p[i] != '=')
			return "tag without '='";
		i = skip_fws(p, i + 1, len);
		vs = ve = i;
		while (i < len && p[i] != ';') {
			if (is_valchar((unsigned char)p[i])) {
				i++;
				ve = i;
			} else {
				size_t j = skip_fws(p, i, len);

				if (j == i)
					return "invalid character in tag value";
				i = j;
			}
		}
		for (k = 0; k < tl->n; k++)
			if (tl->tags[k].name_len == nl &&
			    memcmp(tl->tags[k].name, p + ns, nl) == 0)
				return "duplicate tag";
		if (tl->n == tl->max)
			return "too many tags";
		tl->tags[tl->n].name = p + ns;
		tl->tags[tl->n].name_len = nl;
		tl->tags[tl->n].value = p + vs;
		tl->tags[tl->n].value_len = ve - vs;
		tl->n++;
		if (i == len)
			return NULL;
		i++;			/* the ';' */
	}
}

const arc_tag *
arc_tags_get(const arc_taglist *tl, const char *name)
{
	size_t	 nl = strlen(name);
	unsigned k;

	for (k = 0; k < tl->n; k++)
		if (tl->tags[k].name_len == nl &&
		    memcmp(tl->tags[k].name, name, nl) == 0)
			return &tl->tags[k];
	return NULL;
}

char *
arc_tags_value_nows(const arc_tag *t)
{
	char	*s;
	size_t	 i, o = 0;

	if ((s = malloc(t->value_len + 1)) == NULL)
		return NULL;
	for (i = 0; i < t->value_len; i++) {
		char c = t->value[i];

		if (c != ' ' && c != '\t' && c != '\r' && c != '\n')
			s[o++] = c;
	}
	s[o] = '\0';
	return s;
}
