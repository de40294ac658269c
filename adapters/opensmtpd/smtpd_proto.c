/*
 * smtpd_proto.c - parse and format OpenSMTPD filter protocol lines.
 *
 * Contract: see smtpd_proto.h.  Pure functions over the caller's
 * memory: nothing allocated, nothing global, no I/O.
 */
#include <arpa/inet.h>

#include <string.h>
#include <strings.h>

#include "smtpd_proto.h"

static const struct smtpd_str none = { NULL, 0 };

/* Splits the next '|'-separated field off *cur (length *left).  Returns
 * 0 and the field, or -1 when nothing is left. */
static int
next_field(const char **cur, size_t *left, struct smtpd_str *out)
{
	const char	*bar;

	if (*cur == NULL)
		return -1;
	out->p = *cur;
	bar = memchr(*cur, '|', *left);
	if (bar == NULL) {
		out->len = *left;
		*cur = NULL;
		*left = 0;
		return 0;
	}
	out->len = (size_t)(bar - *cur);
	*left -= out->len + 1;
	*cur = bar + 1;
	return 0;
}

static int
is_id(struct smtpd_str s)
{
	size_t	i;

	if (s.len == 0 || s.len > SMTPD_ID_MAX)
		return 0;
	for (i = 0; i < s.len; i++)
		if (strchr("0123456789abcdefABCDEF", s.p[i]) == NULL ||
		    s.p[i] == '\0')
			return 0;
	return 1;
}

static enum smtpd_type
malformed(struct smtpd_line *l, const char *why)
{
	l->type = SMTPD_MALFORMED;
	l->error = why;
	return SMTPD_MALFORMED;
}

/* Splits rest into params: at most SMTPD_MAX_PARAMS, the last one
 * keeping any further '|'. */
static void
split_params(struct smtpd_line *l)
{
	const char	*cur = l->rest.p;
	size_t		 left = l->rest.len;

	l->nparams = 0;
	while (cur != NULL && l->nparams < SMTPD_MAX_PARAMS - 1)
		next_field(&cur, &left, &l->params[l->nparams++]);
	if (cur != NULL) {
		l->params[l->nparams].p = cur;
		l->params[l->nparams++].len = left;
	}
}

static enum smtpd_type
parse_config(const char *cur, size_t left, struct smtpd_line *l)
{
	if (next_field(&cur, &left, &l->key) == -1 || l->key.len == 0)
		return malformed(l, "config line without a key");
	if (cur != NULL) {
		l->value.p = cur;
		l->value.len = left;
	}
	l->type = SMTPD_CONFIG;
	return SMTPD_CONFIG;
}

/* report and filter share their head: VERSION|TIME|SUBSYSTEM|EVENT|
 * SESSION; a filter line has a TOKEN after it. */
static enum smtpd_type
parse_event(const char *cur, size_t left, struct smtpd_line *l,
    enum smtpd_type type)
{
	struct smtpd_str	last;

	if (next_field(&cur, &left, &l->version) == -1 ||
	    next_field(&cur, &left, &l->time) == -1 ||
	    next_field(&cur, &left, &l->subsystem) == -1 ||
	    next_field(&cur, &left, &l->event) == -1 ||
	    next_field(&cur, &left, &l->session) == -1)
		return malformed(l, "too few fields");
	if (l->version.len == 0 || l->event.len == 0)
		return malformed(l, "empty version or event");
	if (!is_id(l->session))
		return malformed(l, "session id is not hex");
	if (type == SMTPD_FILTER) {
		if (next_field(&cur, &left, &l->token) == -1)
			return malformed(l, "filter line without a token");
		if (!is_id(l->token))
			return malformed(l, "token is not hex");
	}
	if (cur == NULL) {
		/* No '|' after the last id: no parameters, an empty rest
		 * (a data-line is then the empty line). */
		last = type == SMTPD_FILTER ? l->token : l->session;
		l->rest.p = last.p + last.len;
		l->rest.len = 0;
	} else {
		l->rest.p = cur;
		l->rest.len = left;
		split_params(l);
	}
	l->type = type;
	return type;
}

enum smtpd_type
smtpd_parse(const char *line, size_t len, struct smtpd_line *l)
{
	const char		*cur = line;
	size_t			 left = len;
	struct smtpd_str	 kind;
	size_t			 i;

	memset(l, 0, sizeof(*l));
	l->key = l->value = l->version = l->time = l->subsystem = none;
	l->event = l->session = l->token = l->rest = none;
	if (line == NULL)
		return malformed(l, "no line");
	if (memchr(line, '\0', len) != NULL)
		return malformed(l, "NUL byte in line");
	for (i = 0; i < SMTPD_MAX_PARAMS; i++)
		l->params[i] = none;
	if (next_field(&cur, &left, &kind) == -1 || cur == NULL)
		return malformed(l, "no '|' in line");
	if (smtpd_eq(kind, "config"))
		return parse_config(cur, left, l);
	if (smtpd_eq(kind, "report"))
		return parse_event(cur, left, l, SMTPD_REPORT);
	if (smtpd_eq(kind, "filter"))
		return parse_event(cur, left, l, SMTPD_FILTER);
	return malformed(l, "unknown line type");
}

int
smtpd_eq(struct smtpd_str s, const char *lit)
{
	size_t	n = strlen(lit);

	return s.p != NULL && s.len == n && memcmp(s.p, lit, n) == 0;
}

struct smtpd_str
smtpd_unstuff(struct smtpd_str s)
{
	if (s.p != NULL && s.len > 0 && s.p[0] == '.') {
		s.p++;
		s.len--;
	}
	return s;
}

int
smtpd_is_eom(struct smtpd_str s)
{
	return smtpd_eq(s, ".");
}

size_t
smtpd_dataline_max(struct smtpd_str session, struct smtpd_str token)
{
	size_t	fixed;

	/* "filter-dataline|" SESSION "|" TOKEN "|", and the NUL */
	fixed = strlen("filter-dataline|") + session.len + 1 + token.len + 1;
	if (fixed >= SMTPD_LINE_MAX - 1)
		return 0;
	return SMTPD_LINE_MAX - 1 - fixed;
}

static int
all_digits(const char *p, size_t len)
{
	size_t	i;

	if (len == 0)
		return 0;
	for (i = 0; i < len; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

int
smtpd_parse_addr(struct smtpd_str src, char *buf, size_t size)
{
	const char	*p = src.p, *end, *colon;
	size_t		 len = src.len;
	unsigned char	 bin[16];

	if (p == NULL || size == 0)
		return -1;
	if (len > 0 && p[0] == '[') {
		if ((end = memchr(p, ']', len)) == NULL)
			return -1;
		p++;
		len = (size_t)(end - p);
	} else if ((colon = memrchr(p, ':', len)) != NULL &&
	    memchr(p, ':', len) == colon &&
	    all_digits(colon + 1, len - (size_t)(colon - p) - 1))
		len = (size_t)(colon - p);	/* one ':' and a port */
	if (len > 5 && strncasecmp(p, "IPv6:", 5) == 0) {
		p += 5;
		len -= 5;
	}
	if (len == 0 || len >= size)
		return -1;
	memcpy(buf, p, len);
	buf[len] = '\0';
	if (inet_pton(AF_INET, buf, bin) == 1 ||
	    inet_pton(AF_INET6, buf, bin) == 1)
		return 0;
	buf[0] = '\0';
	return -1;
}

static int
is_result(struct smtpd_str s)
{
	return smtpd_eq(s, "ok") || smtpd_eq(s, "permfail") ||
	    smtpd_eq(s, "tempfail");
}

int
smtpd_tx_addr(const struct smtpd_line *l, struct smtpd_str *result,
    struct smtpd_str *addr)
{
	if (l->type != SMTPD_REPORT || l->nparams != 3)
		return -1;
	if (is_result(l->params[1])) {
		*result = l->params[1];
		*addr = l->params[2];
		return 0;
	}
	if (is_result(l->params[2])) {
		*result = l->params[2];
		*addr = l->params[1];
		return 0;
	}
	return -1;
}

/* A bounded string builder: counts what the whole line needs even when
 * buf is too small, like snprintf. */
struct out {
	char	*buf;
	size_t	 size, len;
};

static void
put(struct out *o, const char *p, size_t n)
{
	if (n == 0)
		return;
	if (o->len < o->size) {
		size_t room = o->size - o->len;

		memcpy(o->buf + o->len, p, n < room ? n : room);
	}
	o->len += n;
}

static void
put_str(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Writes the NUL (truncating if needed) and returns the full length. */
static int
finish(struct out *o)
{
	if (o->size > 0)
		o->buf[o->len < o->size ? o->len : o->size - 1] = '\0';
	return o->len > (size_t)0x7fffffff ? -1 : (int)o->len;
}

static int
head(struct out *o, const char *kind, struct smtpd_str session,
    struct smtpd_str token)
{
	if (!is_id(session) || !is_id(token))
		return -1;
	put_str(o, kind);
	put(o, session.p, session.len);
	put(o, "|", 1);
	put(o, token.p, token.len);
	put(o, "|", 1);
	return 0;
}

int
smtpd_fmt_proceed(char *buf, size_t size, struct smtpd_str session,
    struct smtpd_str token)
{
	struct out	o = { buf, size, 0 };

	if (head(&o, "filter-result|", session, token) == -1)
		return -1;
	put_str(&o, "proceed\n");
	return finish(&o);
}

int
smtpd_fmt_reject(char *buf, size_t size, struct smtpd_str session,
    struct smtpd_str token, const char *reply)
{
	struct out	o = { buf, size, 0 };
	const char	*p;

	if (head(&o, "filter-result|", session, token) == -1)
		return -1;
	put_str(&o, "reject|");
	if (reply == NULL || *reply == '\0')
		reply = "451 4.3.0 Temporary failure";
	for (p = reply; *p != '\0'; p++)
		put(&o, (*p == '\r' || *p == '\n') ? " " : p, 1);
	put(&o, "\n", 1);
	return finish(&o);
}

int
smtpd_fmt_dataline(char *buf, size_t size, struct smtpd_str session,
    struct smtpd_str token, const char *text, size_t len)
{
	struct out	o = { buf, size, 0 };

	if (len > 0 && (text == NULL || memchr(text, '\n', len) != NULL ||
	    memchr(text, '\0', len) != NULL))
		return -1;
	if (head(&o, "filter-dataline|", session, token) == -1)
		return -1;
	put(&o, text, len);
	put(&o, "\n", 1);
	return finish(&o);
}
