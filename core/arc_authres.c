/*
 * arc_authres.c - Authentication-Results tokenizer; see arc_authres.h.
 */
#include <string.h>
#include <strings.h>

#include "arc_authres.h"

static int
is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Skips CFWS; comments nest and may hold quoted-pairs.  An unterminated
 * comment runs to the end. */
static size_t
skip_cfws(const char *p, size_t i, size_t len)
{
	int	 depth = 0;

	for (; i < len; i++) {
		if (depth > 0) {
			if (p[i] == '\\' && i + 1 < len)
				i++;
			else if (p[i] == '(')
				depth++;
			else if (p[i] == ')')
				depth--;
		} else if (p[i] == '(')
			depth++;
		else if (!is_fws(p[i]))
			break;
	}
	return i;
}

/* RFC 2045 token: printable ASCII but tspecials, space and controls. */
static int
is_tokenchar(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr("()<>@,;:\\\"/[]?=", c) == NULL;
}

/* Moves past a quoted string, or to the end if it is not closed. */
static size_t
skip_quoted(const char *p, size_t i, size_t len)
{
	for (i++; i < len && p[i] != '"'; i++)
		if (p[i] == '\\' && i + 1 < len)
			i++;
	return i < len ? i + 1 : len;
}

const char *
arc_authres_parse(arc_authres *ar, const char *p, size_t len)
{
	size_t	 i, o = 0, e;

	memset(ar, 0, sizeof(*ar));
	i = skip_cfws(p, 0, len);
	if (i < len && p[i] == '"') {
		for (i++; i < len && p[i] != '"'; i++) {
			if (p[i] == '\\' && i + 1 < len)
				i++;
			if (p[i] == '\0')	/* it would end the id early */
				return "NUL in the authserv-id";
			if (o + 1 < sizeof(ar->id))
				ar->id[o++] = p[i];
		}
		if (i == len)
			return "unterminated quoted authserv-id";
		i++;
	} else {
		/* UTF-8 is allowed in an authserv-id (RFC 8601 §2.2) */
		while (i < len && (is_tokenchar((unsigned char)p[i]) ||
		    (unsigned char)p[i] >= 0x80)) {
			if (o + 1 < sizeof(ar->id))
				ar->id[o++] = p[i];
			i++;
		}
	}
	ar->id[o] = '\0';
	if (o == 0)
		return "no authserv-id";
	i = skip_cfws(p, i, len);
	while (i < len && p[i] >= '0' && p[i] <= '9')	/* authres-version */
		i++;
	i = skip_cfws(p, i, len);
	if (i == len)
		return "no results after the authserv-id";
	if (p[i] != ';')
		return "authserv-id not followed by ';'";
	i++;
	while (i < len && is_fws(p[i]))
		i++;
	e = len;
	while (e > i && (is_fws(p[e - 1]) || p[e - 1] == ';'))
		e--;
	ar->payload = p + i;
	ar->payload_len = e - i;
	i = skip_cfws(p, i, e);
	ar->none = e - i == 4 && strncasecmp(p + i, "none", 4) == 0;
	return NULL;
}

int
arc_authres_has_method(const char *p, size_t len, const char *method)
{
	size_t	 ml = strlen(method), i = 0, s;

	for (;;) {
		i = skip_cfws(p, i, len);
		s = i;
		while (i < len && is_tokenchar((unsigned char)p[i]))
			i++;
		if (i - s == ml && strncasecmp(p + s, method, ml) == 0) {
			size_t j = skip_cfws(p, i, len);

			if (j < len && p[j] == '=')
				return 1;
		}
		/* on to the next ';' outside comments and quotes */
		while (i < len && p[i] != ';') {
			if (p[i] == '"')
				i = skip_quoted(p, i, len);
			else if (p[i] == '(')
				i = skip_cfws(p, i, len);
			else
				i++;
		}
		if (i >= len)
			return 0;
		i++;
	}
}
