/*
 * fuzz_smtpd.c - libFuzzer harness: the OpenSMTPD filter protocol line
 * parser and formatters (adapters/opensmtpd/smtpd_proto.h).
 *
 * Oracles: every piece of a parsed line lies inside the line; a
 * malformed line says why; session and token echo back through the
 * formatters, whose output is one line ending in its only '\n', with
 * the length they return; addresses come back NUL-terminated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "opensmtpd/smtpd_proto.h"

static const char	*base;
static size_t		 baselen;

static void
inside(struct smtpd_str s)
{
	if (s.p == NULL)
		return;
	if (s.p < base || s.len > baselen || s.p + s.len > base + baselen)
		abort();
}

static void
one_line(const char *buf, size_t size, int r)
{
	if (r < 0)
		return;
	if ((size_t)r < size) {
		if (strlen(buf) != (size_t)r || r == 0 || buf[r - 1] != '\n' ||
		    memchr(buf, '\n', (size_t)r - 1) != NULL)
			abort();
	} else if (strlen(buf) != size - 1)
		abort();		/* truncated, still terminated */
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct smtpd_line	 l;
	struct smtpd_str	 res, addr, u;
	enum smtpd_type		 t;
	char			 buf[SMTPD_LINE_MAX + 64], small[24], *text;
	size_t			 i;
	int			 r;

	base = (const char *)data;
	baselen = size;
	memset(&l, 0xa5, sizeof(l));
	t = smtpd_parse(base, size, &l);
	if (t != l.type)
		abort();
	if (t == SMTPD_MALFORMED) {
		if (l.error == NULL || strlen(l.error) == 0)
			abort();
		return 0;
	}
	if (t == SMTPD_CONFIG) {
		inside(l.key);
		inside(l.value);
		return 0;
	}
	inside(l.version);
	inside(l.time);
	inside(l.subsystem);
	inside(l.event);
	inside(l.session);
	inside(l.token);
	inside(l.rest);
	if (l.nparams > SMTPD_MAX_PARAMS)
		abort();
	for (i = 0; i < l.nparams; i++) {
		inside(l.params[i]);
		r = smtpd_parse_addr(l.params[i], buf, sizeof(buf));
		if (r == 0 && strlen(buf) >= sizeof(buf))
			abort();
		r = smtpd_parse_addr(l.params[i], small, sizeof(small));
		if (r == 0 && strlen(small) >= sizeof(small))
			abort();
	}
	if (smtpd_tx_addr(&l, &res, &addr) == 0) {
		inside(res);
		inside(addr);
	}
	u = smtpd_unstuff(l.rest);
	inside(u);
	(void)smtpd_is_eom(l.rest);
	(void)smtpd_eq(l.event, "data-line");
	if (t != SMTPD_FILTER)
		return 0;
	(void)smtpd_dataline_max(l.session, l.token);
	r = smtpd_fmt_proceed(buf, sizeof(buf), l.session, l.token);
	if (r < 0)
		abort();		/* a parsed filter line has good ids */
	one_line(buf, sizeof(buf), r);
	r = smtpd_fmt_proceed(small, sizeof(small), l.session, l.token);
	one_line(small, sizeof(small), r);
	if ((text = strndup(u.p ? u.p : "", u.len)) == NULL)
		abort();
	r = smtpd_fmt_reject(buf, sizeof(buf), l.session, l.token, text);
	one_line(buf, sizeof(buf), r);
	r = smtpd_fmt_dataline(buf, sizeof(buf), l.session, l.token, u.p,
	    u.len);
	one_line(buf, sizeof(buf), r);
	r = smtpd_fmt_dataline(small, sizeof(small), l.session, l.token, u.p,
	    u.len);
	one_line(small, sizeof(small), r);
	free(text);
	return 0;
}
