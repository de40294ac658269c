/*
 * arc_authres.c - Authentication-Results tokenizer; see arc_authres.h.
 * Also the public reader of arc.h (arc_authres_split, arc_authres_next,
 * arc_resinfo_prop) and the AAR's scanner and writer (arc_authres_scan,
 * arc_authres_write): all read the same grammar with the same helpers.
 */
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "arc.h"
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

/* The end of the resinfo at i: the next ';' outside comments, quotes. */
static size_t
resinfo_end(const char *p, size_t i, size_t len)
{
	while (i < len && p[i] != ';') {
		if (p[i] == '"')
			i = skip_quoted(p, i, len);
		else if (p[i] == '(')
			i = skip_cfws(p, i, len);
		else
			i++;
	}
	return i;
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
		if ((i = resinfo_end(p, i, len)) >= len)
			return 0;
		i++;
	}
}

/* ---- the public reader (arc.h): resinfos and their properties ---------- */

long
arc_authres_split(const char *v, size_t len, char *id, size_t idlen)
{
	arc_authres	 ar;

	if (idlen == 0 || arc_authres_parse(&ar, v, len) != NULL)
		return -1;
	snprintf(id, idlen, "%s", ar.id);
	return (long)(ar.payload - v);
}

/* The public reader is the AAR scanner below, minus what it rejects:
 * a resinfo it cannot read whole is skipped, never half-believed. */
int
arc_authres_next(const char *p, size_t len, size_t *pos, arc_resinfo *ri)
{
	arc_ar_resinfo	 sr;
	unsigned	 k;

	while (arc_authres_scan(p, len, pos, &sr)) {
		if (sr.error != NULL)
			continue;
		memset(ri, 0, sizeof(*ri));
		ri->method = sr.method.p;
		ri->method_len = sr.method.n;
		ri->result = sr.result.p;
		ri->result_len = sr.result.n;
		for (k = 0; k < sr.nprops && k < ARC_RESINFO_MAXPROPS; k++) {
			ri->prop[k].ptype = sr.prop[k].ptype.p;
			ri->prop[k].ptype_len = sr.prop[k].ptype.n;
			ri->prop[k].property = sr.prop[k].property.p;
			ri->prop[k].property_len = sr.prop[k].property.n;
			ri->prop[k].value = sr.prop[k].value.p;
			ri->prop[k].value_len = sr.prop[k].value.n;
		}
		ri->nprops = k;
		return 1;
	}
	return 0;
}

int
arc_resinfo_prop(const arc_resinfo *ri, const char *name, char *out,
    size_t outlen)
{
	const char	*dot = strchr(name, '.'), *v;
	size_t		 tl = dot ? (size_t)(dot - name) : 0, o = 0, i, n;
	unsigned	 k;

	if (dot == NULL || outlen == 0)
		return 0;
	for (k = 0; k < ri->nprops; k++) {
		if (ri->prop[k].ptype_len != tl ||
		    strncasecmp(ri->prop[k].ptype, name, tl) != 0 ||
		    ri->prop[k].property_len != strlen(dot + 1) ||
		    strncasecmp(ri->prop[k].property, dot + 1,
		    ri->prop[k].property_len) != 0)
			continue;
		v = ri->prop[k].value;
		n = ri->prop[k].value_len;
		if (n >= 2 && v[0] == '"') {	/* the scanner checked it */
			v++;
			n -= 2;
		}
		for (i = 0; i < n; i++) {
			if (v[i] == '\\' && i + 1 < n)
				i++;
			if (o + 1 >= outlen)
				return 0;
			out[o++] = v[i];
		}
		out[o] = '\0';
		return 1;
	}
	return 0;
}

/* ---- copying results into an AAR: scanner and writer ------------------- */

static int
is_keychar(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9') || c == '-';
}

/* A bare value byte: printable, not white space nor a delimiter. */
static int
is_valuechar(unsigned char c)
{
	return c > 0x20 && c < 0x7f && strchr(";()\"\\", c) == NULL;
}

/* CFWS from i to e; each outer comment is noted for position at. */
static size_t
scan_cfws(const char *p, size_t i, size_t e, arc_ar_resinfo *ri,
    unsigned at)
{
	size_t	 s;
	int	 depth;

	for (;;) {
		while (i < e && is_fws(p[i]))
			i++;
		if (i >= e || p[i] != '(')
			return i;
		for (s = ++i, depth = 1; i < e && depth > 0; i++)
			if (p[i] == '\\' && i + 1 < e)
				i++;
			else if (p[i] == '(')
				depth++;
			else if (p[i] == ')')
				depth--;
		if (depth > 0) {
			ri->error = "unterminated comment";
			return e;
		}
		if (ri->ncomments < ARC_AR_MAXCOMMENTS) {
			ri->comment[ri->ncomments].text.p = p + s;
			ri->comment[ri->ncomments].text.n = i - 1 - s;
			ri->comment[ri->ncomments].at = at;
			ri->ncomments++;
		}
	}
}

/* A Keyword at i; 0 length if there is none or it is too long. */
static size_t
scan_key(const char *p, size_t i, size_t e, arc_ar_span *sp)
{
	size_t	 s = i;

	while (i < e && is_keychar((unsigned char)p[i]))
		i++;
	sp->p = p + s;
	sp->n = i - s <= ARC_AR_MAXNAME ? i - s : 0;
	return i;
}

static size_t
scan_value(const char *p, size_t i, size_t e, arc_ar_span *sp,
    const char **err)
{
	size_t	 s = i;

	if (i < e && p[i] == '"') {
		for (i++; i < e && p[i] != '"'; i++) {
			unsigned char c = (unsigned char)p[i];

			if (c == '\\' && i + 1 < e)
				c = (unsigned char)p[++i];
			if ((c < 0x20 || c > 0x7e) && !is_fws((char)c))
				*err = "byte not allowed in a quoted string";
		}
		if (i == e)
			*err = "unterminated quoted string";
		else
			i++;
	} else
		while (i < e && is_valuechar((unsigned char)p[i]))
			i++;
	sp->p = p + s;
	sp->n = i - s;
	if (sp->n == 0)
		*err = "property without a value";
	else if (sp->n > ARC_AR_MAXVALUE)
		*err = "value too long";
	return i;
}

static int
span_is(const arc_ar_span *sp, const char *s)
{
	return sp->n == strlen(s) && strncasecmp(sp->p, s, sp->n) == 0;
}

int
arc_authres_scan(const char *p, size_t len, size_t *pos, arc_ar_resinfo *ri)
{
	const char	*err = NULL;
	arc_ar_span	 n1, n2;
	size_t		 i = *pos, e;
	unsigned	 at = 0;

	memset(ri, 0, sizeof(*ri));
	for (;;) {			/* empty resinfos (";;") are skipped */
		if (i >= len) {
			*pos = len;
			return 0;
		}
		e = resinfo_end(p, i, len);
		if (skip_cfws(p, i, e) < e)
			break;
		i = e + 1;
	}
	*pos = e < len ? e + 1 : len;
	i = scan_cfws(p, i, e, ri, 0);
	i = scan_key(p, i, e, &ri->method);
	i = scan_cfws(p, i, e, ri, 0);
	if (ri->method.n == 0)
		err = "no method";
	else if (i < e && p[i] == '/') {
		i = scan_cfws(p, i + 1, e, ri, 0);
		ri->version.p = p + i;
		while (i < e && p[i] >= '0' && p[i] <= '9')
			i++;
		if ((ri->version.n = (size_t)(p + i - ri->version.p)) == 0 ||
		    ri->version.n > 9)
			err = "bad method version";
		i = scan_cfws(p, i, e, ri, 0);
	}
	if (err == NULL && (i == e || p[i] != '='))
		err = "no '=' after the method";
	if (err == NULL) {
		i = scan_cfws(p, i + 1, e, ri, 0);
		i = scan_key(p, i, e, &ri->result);
		if (ri->result.n == 0)
			err = "no result";
	}
	while (err == NULL && ri->error == NULL &&
	    (i = scan_cfws(p, i, e, ri, at)) < e) {
		memset(&n2, 0, sizeof(n2));
		i = scan_key(p, i, e, &n1);
		i = scan_cfws(p, i, e, ri, at);
		if (n1.n > 0 && i < e && p[i] == '.') {
			i = scan_cfws(p, i + 1, e, ri, at);
			i = scan_key(p, i, e, &n2);
			i = scan_cfws(p, i, e, ri, at);
			if (n2.n == 0)
				n1.n = 0;
		}
		if (n1.n == 0 || i == e || p[i] != '=') {
			err = "malformed property";
			break;
		}
		i = scan_cfws(p, i + 1, e, ri, at);
		if (n2.n == 0 && span_is(&n1, "reason") && ri->nprops == 0 &&
		    ri->reason.n == 0) {
			i = scan_value(p, i, e, &ri->reason, &err);
			at = 1;
			continue;
		}
		if (ri->nprops == ARC_AR_MAXPROPS) {
			err = "too many properties";
			break;
		}
		ri->prop[ri->nprops].ptype = n2.n ? n1 : (arc_ar_span){ p, 0 };
		ri->prop[ri->nprops].property = n2.n ? n2 : n1;
		i = scan_value(p, i, e, &ri->prop[ri->nprops].value, &err);
		at = 2 + ri->nprops++;
	}
	if (ri->error == NULL)
		ri->error = err;
	return 1;
}

static void
write_value(arc_buf *b, const arc_ar_span *v)
{
	char	 tmp[ARC_AR_MAXVALUE + 1];
	size_t	 i, o = 0, n = v->n;
	int	 bare = 1;

	if (n >= 2 && v->p[0] == '"') {
		for (i = 1; i + 1 < n; i++) {
			char c = v->p[i];

			if (c == '\\' && i + 2 < n)
				c = v->p[++i];
			if (c == '\r' || c == '\n')
				continue;	/* folds inside the string */
			tmp[o++] = c == '\t' ? ' ' : c;
		}
	} else {
		memcpy(tmp, v->p, n);
		o = n;
	}
	for (i = 0; i < o; i++)
		bare &= is_tokenchar((unsigned char)tmp[i]) || tmp[i] == '@';
	if (bare && o > 0) {
		arc_buf_add(b, tmp, o);
		return;
	}
	arc_buf_addc(b, '"');
	for (i = 0; i < o; i++) {
		if (tmp[i] == '"' || tmp[i] == '\\')
			arc_buf_addc(b, '\\');
		arc_buf_addc(b, tmp[i]);
	}
	arc_buf_addc(b, '"');
}

/* The comments at position at, as one cleaned comment. */
static void
write_comments(arc_buf *b, const arc_ar_resinfo *ri, unsigned at)
{
	char		 out[ARC_AR_MAXCOMMENT];
	size_t		 o = 0, i;
	unsigned	 k;
	int		 space = 0;

	for (k = 0; k < ri->ncomments; k++) {
		if (ri->comment[k].at != at)
			continue;
		space = 1;
		for (i = 0; i < ri->comment[k].text.n; i++) {
			unsigned char c = (unsigned char)ri->comment[k].text.p[i];

			if (is_fws((char)c)) {
				space = 1;
				continue;
			}
			if (c < 0x21 || c > 0x7e || strchr("()\\", c) != NULL)
				continue;
			if (space && o > 0 && o < sizeof(out))
				out[o++] = ' ';
			space = 0;
			if (o < sizeof(out))
				out[o++] = c == ';' ? ',' : (char)c;
		}
	}
	while (o > 0 && out[o - 1] == ' ')
		o--;
	if (o == 0)
		return;
	arc_buf_adds(b, " (");
	arc_buf_add(b, out, o);
	arc_buf_addc(b, ')');
}

void
arc_authres_write(arc_buf *b, const arc_ar_resinfo *ri, unsigned flags)
{
	unsigned	 k;
	int		 com = (flags & ARC_AR_COMMENTS) != 0;

	if (ri->error != NULL)
		return;
	arc_buf_add(b, ri->method.p, ri->method.n);
	if (ri->version.n) {
		arc_buf_addc(b, '/');
		arc_buf_add(b, ri->version.p, ri->version.n);
	}
	arc_buf_addc(b, '=');
	arc_buf_add(b, ri->result.p, ri->result.n);
	if (com)
		write_comments(b, ri, 0);
	if (ri->reason.n) {
		arc_buf_adds(b, " reason=");
		write_value(b, &ri->reason);
		if (com)
			write_comments(b, ri, 1);
	}
	for (k = 0; k < ri->nprops; k++) {
		if (ri->prop[k].ptype.n == 0 || ((flags & ARC_AR_NO_CHAIN) &&
		    span_is(&ri->prop[k].ptype, "arc") &&
		    span_is(&ri->prop[k].property, "chain")))
			continue;
		arc_buf_addc(b, ' ');
		arc_buf_add(b, ri->prop[k].ptype.p, ri->prop[k].ptype.n);
		arc_buf_addc(b, '.');
		arc_buf_add(b, ri->prop[k].property.p, ri->prop[k].property.n);
		arc_buf_addc(b, '=');
		write_value(b, &ri->prop[k].value);
		if (com)
			write_comments(b, ri, 2 + k);
	}
}
