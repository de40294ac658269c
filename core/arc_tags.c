/*
 * arc_tags.c - DKIM tag-list tokenizer; see arc_tags.h.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* Inside a value (the tokenizer refused other control bytes). */
static int
is_fws_char(char c)
{
	return is_wsp(c) || c == '\r' || c == '\n';
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

/* ---- values: one copy for the AMS, the AS, DKIM and key records --------- */

int
arc_tag_eq(const arc_tag *t, const char *s)
{
	return t->value_len == strlen(s) && memcmp(t->value, s, t->value_len)
	    == 0;
}

int
arc_tag_list_has(const arc_tag *t, const char *word)
{
	size_t	 i = 0, s, n = strlen(word);

	while (i < t->value_len) {
		while (i < t->value_len && (t->value[i] == ':' ||
		    is_fws_char(t->value[i])))
			i++;
		s = i;
		while (i < t->value_len && t->value[i] != ':' &&
		    !is_fws_char(t->value[i]))
			i++;
		if (i - s == n && strncasecmp(t->value + s, word, n) == 0)
			return 1;
	}
	return 0;
}

int
arc_tag_canon(const arc_tag *t, arc_canon_mode *hc, arc_canon_mode *bc)
{
	const char	*slash = memchr(t->value, '/', t->value_len);
	size_t		 hl = slash ? (size_t)(slash - t->value) : t->value_len;
	size_t		 bl = slash ? t->value_len - hl - 1 : 0;

	if (hl == 6 && memcmp(t->value, "simple", 6) == 0)
		*hc = ARC_CANON_SIMPLE;
	else if (hl == 7 && memcmp(t->value, "relaxed", 7) == 0)
		*hc = ARC_CANON_RELAXED;
	else
		return 0;
	*bc = ARC_CANON_SIMPLE;	/* RFC 6376 §3.5: body defaults to simple */
	if (slash == NULL || (bl == 6 && memcmp(slash + 1, "simple", 6) == 0))
		return 1;
	if (bl == 7 && memcmp(slash + 1, "relaxed", 7) == 0) {
		*bc = ARC_CANON_RELAXED;
		return 1;
	}
	return 0;
}
