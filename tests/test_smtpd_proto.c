/*
 * test_smtpd_proto.c - CUnit tests of the OpenSMTPD filter protocol
 * parser and formatters (adapters/opensmtpd/smtpd_proto.[ch]), and of
 * filter-arc itself driven with synthetic protocol lines.
 *
 * Contract: one test per line type and helper; the lines are the ones
 * OpenSMTPD 6.8.0p2 (protocol 0.6) was seen to write, plus their 0.7
 * and 0.5 forms and malformed variants; the message spool's contract
 * (fa_spool.h) directly.  Then the filter-arc of the
 * same build tree (filter_driver.h; under ASan+UBSan in build/asan)
 * over a socketpair: numbers from smtpd range-checked and the idle
 * sweep never freeing a message in progress, signals, the session
 * bounds under a flood (peak RSS printed) and the bound on header bytes
 * in flight.  TEST_ONLY=word runs the tests whose name holds it.  Exit
 * status is non-zero if any test failed.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cunit_run.h"
#include "filter_driver.h"

#include <sys/resource.h>

#include "opensmtpd/fa_spool.h"
#include "opensmtpd/smtpd_proto.h"

#define SID	"b0e882333723df98"
#define TOK	"a939b4dabe0bfdf4"

static struct smtpd_str
S(const char *s)
{
	struct smtpd_str r = { s, strlen(s) };

	return r;
}

static int
str_is(struct smtpd_str s, const char *want)
{
	if (want == NULL)
		return s.p == NULL;
	return s.p != NULL && s.len == strlen(want) &&
	    memcmp(s.p, want, s.len) == 0;
}

static enum smtpd_type
parse(const char *line, struct smtpd_line *l)
{
	return smtpd_parse(line, strlen(line), l);
}

static void
test_config(void)
{
	struct smtpd_line	l;

	CU_ASSERT_EQUAL(parse("config|smtpd-version|6.8.0p2", &l),
	    SMTPD_CONFIG);
	CU_ASSERT(str_is(l.key, "smtpd-version"));
	CU_ASSERT(str_is(l.value, "6.8.0p2"));
	CU_ASSERT_EQUAL(parse("config|admd|mx.example.org", &l),
	    SMTPD_CONFIG);
	CU_ASSERT(str_is(l.key, "admd"));
	CU_ASSERT(str_is(l.value, "mx.example.org"));
	CU_ASSERT_EQUAL(parse("config|ready", &l), SMTPD_CONFIG);
	CU_ASSERT(str_is(l.key, "ready"));
	CU_ASSERT(str_is(l.value, NULL));
	/* a value keeps its own bars */
	CU_ASSERT_EQUAL(parse("config|x|a|b", &l), SMTPD_CONFIG);
	CU_ASSERT(str_is(l.value, "a|b"));
	CU_ASSERT_EQUAL(parse("config|protocol|0.7", &l), SMTPD_CONFIG);
	CU_ASSERT_EQUAL(parse("config|", &l), SMTPD_MALFORMED);
	CU_ASSERT_PTR_NOT_NULL(l.error);
	CU_ASSERT_EQUAL(parse("config", &l), SMTPD_MALFORMED);
}

static void
test_report(void)
{
	struct smtpd_line	l;

	CU_ASSERT_EQUAL(parse("report|0.6|1795381998.570136|smtp-in|"
	    "link-connect|" SID "|localhost|pass|127.0.0.1:53718|"
	    "127.0.0.1:2526", &l), SMTPD_REPORT);
	CU_ASSERT(str_is(l.version, "0.6"));
	CU_ASSERT(str_is(l.time, "1795381998.570136"));
	CU_ASSERT(str_is(l.subsystem, "smtp-in"));
	CU_ASSERT(str_is(l.event, "link-connect"));
	CU_ASSERT(str_is(l.session, SID));
	CU_ASSERT(str_is(l.token, NULL));
	CU_ASSERT_EQUAL(l.nparams, 4);
	CU_ASSERT(str_is(l.params[0], "localhost"));
	CU_ASSERT(str_is(l.params[1], "pass"));
	CU_ASSERT(str_is(l.params[2], "127.0.0.1:53718"));
	CU_ASSERT(str_is(l.params[3], "127.0.0.1:2526"));
	CU_ASSERT(str_is(l.rest,
	    "localhost|pass|127.0.0.1:53718|127.0.0.1:2526"));

	/* no parameters at all */
	CU_ASSERT_EQUAL(parse("report|0.6|1.2|smtp-in|link-disconnect|" SID,
	    &l), SMTPD_REPORT);
	CU_ASSERT_EQUAL(l.nparams, 0);
	CU_ASSERT_EQUAL(l.rest.len, 0);

	/* 0.7 and unknown versions parse alike */
	CU_ASSERT_EQUAL(parse("report|0.7|1.2|smtp-in|link-identify|" SID
	    "|EHLO|client.example", &l), SMTPD_REPORT);
	CU_ASSERT(str_is(l.version, "0.7"));
	CU_ASSERT_EQUAL(l.nparams, 2);
	CU_ASSERT(str_is(l.params[1], "client.example"));
	CU_ASSERT_EQUAL(parse("report|9.9|1.2|smtp-in|tx-begin|" SID
	    "|a0d45a85", &l), SMTPD_REPORT);
	CU_ASSERT(str_is(l.params[0], "a0d45a85"));

	/* more parameters than slots: the last one keeps the rest */
	CU_ASSERT_EQUAL(parse("report|0.6|1|smtp-in|x|" SID
	    "|1|2|3|4|5|6|7|8|9|10", &l), SMTPD_REPORT);
	CU_ASSERT_EQUAL(l.nparams, SMTPD_MAX_PARAMS);
	CU_ASSERT(str_is(l.params[SMTPD_MAX_PARAMS - 1], "8|9|10"));

	CU_ASSERT_EQUAL(parse("report|0.6|1|smtp-in|link-disconnect", &l),
	    SMTPD_MALFORMED);
	CU_ASSERT_EQUAL(parse("report|0.6|1|smtp-in|x|nothex", &l),
	    SMTPD_MALFORMED);
	CU_ASSERT_EQUAL(parse("report|0.6|1|smtp-in|x|"
	    "0123456789abcdef0", &l), SMTPD_MALFORMED);	/* 17 digits */
	CU_ASSERT_EQUAL(parse("report|0.6|1|smtp-in|x|", &l),
	    SMTPD_MALFORMED);
	CU_ASSERT_EQUAL(parse("report||1|smtp-in|x|" SID, &l),
	    SMTPD_MALFORMED);
}

static void
test_filter(void)
{
	struct smtpd_line	l;

	CU_ASSERT_EQUAL(parse("filter|0.6|1795381998.570181|smtp-in|connect|"
	    SID "|" TOK "|localhost|127.0.0.1", &l), SMTPD_FILTER);
	CU_ASSERT(str_is(l.event, "connect"));
	CU_ASSERT(str_is(l.session, SID));
	CU_ASSERT(str_is(l.token, TOK));
	CU_ASSERT_EQUAL(l.nparams, 2);
	CU_ASSERT(str_is(l.params[1], "127.0.0.1"));

	/* commit and data end in an empty parameter */
	CU_ASSERT_EQUAL(parse("filter|0.6|1.5|smtp-in|commit|" SID "|" TOK
	    "|", &l), SMTPD_FILTER);
	CU_ASSERT(str_is(l.event, "commit"));
	CU_ASSERT_EQUAL(l.nparams, 1);
	CU_ASSERT(str_is(l.rest, ""));
	/* ...or none at all */
	CU_ASSERT_EQUAL(parse("filter|0.7|1.5|smtp-in|commit|" SID "|" TOK,
	    &l), SMTPD_FILTER);
	CU_ASSERT_EQUAL(l.nparams, 0);
	CU_ASSERT_PTR_NOT_NULL(l.rest.p);
	CU_ASSERT_EQUAL(l.rest.len, 0);

	CU_ASSERT_EQUAL(parse("filter|0.6|1|smtp-in|commit|" SID, &l),
	    SMTPD_MALFORMED);
	CU_ASSERT_EQUAL(parse("filter|0.6|1|smtp-in|commit|" SID "|zz|",
	    &l), SMTPD_MALFORMED);
	CU_ASSERT_EQUAL(parse("filter|0.6|1|smtp-in|commit|" SID "||", &l),
	    SMTPD_MALFORMED);
}

static void
test_dataline(void)
{
	struct smtpd_line	l;
	struct smtpd_str	t;

	CU_ASSERT_EQUAL(parse("filter|0.6|1.5|smtp-in|data-line|" SID "|"
	    TOK "|Received: from client.example (localhost [127.0.0.1])",
	    &l), SMTPD_FILTER);
	CU_ASSERT(str_is(l.event, "data-line"));
	CU_ASSERT(str_is(l.rest,
	    "Received: from client.example (localhost [127.0.0.1])"));

	/* the text may hold bars: rest keeps them */
	CU_ASSERT_EQUAL(parse("filter|0.6|1|smtp-in|data-line|" SID "|" TOK
	    "|a|b||c|", &l), SMTPD_FILTER);
	CU_ASSERT(str_is(l.rest, "a|b||c|"));

	/* the empty line between header and body */
	CU_ASSERT_EQUAL(parse("filter|0.6|1|smtp-in|data-line|" SID "|" TOK
	    "|", &l), SMTPD_FILTER);
	CU_ASSERT(str_is(l.rest, ""));

	/* dot-stuffing and the end of data */
	CU_ASSERT_EQUAL(parse("filter|0.6|1|smtp-in|data-line|" SID "|" TOK
	    "|..dotline", &l), SMTPD_FILTER);
	CU_ASSERT(!smtpd_is_eom(l.rest));
	t = smtpd_unstuff(l.rest);
	CU_ASSERT(str_is(t, ".dotline"));
	CU_ASSERT(str_is(smtpd_unstuff(S("plain")), "plain"));
	CU_ASSERT(str_is(smtpd_unstuff(S("..")), "."));
	CU_ASSERT(str_is(smtpd_unstuff(S("")), ""));
	CU_ASSERT_EQUAL(parse("filter|0.6|1|smtp-in|data-line|" SID "|" TOK
	    "|.", &l), SMTPD_FILTER);
	CU_ASSERT(smtpd_is_eom(l.rest));
	CU_ASSERT(!smtpd_is_eom(S("..")));
	CU_ASSERT(!smtpd_is_eom(S("")));

	/* a NUL inside is refused, not cut short */
	CU_ASSERT_EQUAL(smtpd_parse("filter|0.6|1|smtp-in|data-line|" SID "|"
	    TOK "|a\0b", strlen("filter|0.6|1|smtp-in|data-line|" SID "|"
	    TOK "|a") + 2, &l), SMTPD_MALFORMED);
}

static void
test_malformed(void)
{
	struct smtpd_line	l;

	CU_ASSERT_EQUAL(parse("", &l), SMTPD_MALFORMED);
	CU_ASSERT_EQUAL(parse("garbage", &l), SMTPD_MALFORMED);
	CU_ASSERT_EQUAL(parse("hello|world", &l), SMTPD_MALFORMED);
	CU_ASSERT_PTR_NOT_NULL(l.error);
	CU_ASSERT_EQUAL(smtpd_parse(NULL, 0, &l), SMTPD_MALFORMED);
	CU_ASSERT_EQUAL(parse("|||||||", &l), SMTPD_MALFORMED);
	CU_ASSERT_EQUAL(parse("filter|0.6", &l), SMTPD_MALFORMED);
	CU_ASSERT_EQUAL(parse("report|0.6|", &l), SMTPD_MALFORMED);
	/* the parser only reads what it is given: no NUL needed */
	CU_ASSERT_EQUAL(smtpd_parse("config|readyXXXX", 12, &l),
	    SMTPD_CONFIG);
	CU_ASSERT(str_is(l.key, "ready"));
}

static void
test_tx_addr(void)
{
	struct smtpd_line	l;
	struct smtpd_str	res, addr;

	parse("report|0.6|1|smtp-in|tx-rcpt|" SID "|a0d45a85|ok|"
	    "rcpt@test.example", &l);
	CU_ASSERT_EQUAL(smtpd_tx_addr(&l, &res, &addr), 0);
	CU_ASSERT(str_is(res, "ok"));
	CU_ASSERT(str_is(addr, "rcpt@test.example"));
	/* 0.5 order */
	parse("report|0.5|1|smtp-in|tx-rcpt|" SID "|a0d45a85|"
	    "rcpt@test.example|permfail", &l);
	CU_ASSERT_EQUAL(smtpd_tx_addr(&l, &res, &addr), 0);
	CU_ASSERT(str_is(res, "permfail"));
	CU_ASSERT(str_is(addr, "rcpt@test.example"));
	parse("report|0.6|1|smtp-in|tx-rcpt|" SID "|a0d45a85|x|y", &l);
	CU_ASSERT_EQUAL(smtpd_tx_addr(&l, &res, &addr), -1);
	parse("report|0.6|1|smtp-in|tx-rcpt|" SID "|a0d45a85", &l);
	CU_ASSERT_EQUAL(smtpd_tx_addr(&l, &res, &addr), -1);
}

static void
test_addr(void)
{
	char	buf[64];

	CU_ASSERT_EQUAL(smtpd_parse_addr(S("127.0.0.1:53718"), buf,
	    sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "127.0.0.1");
	CU_ASSERT_EQUAL(smtpd_parse_addr(S("[2001:db8::1]:25"), buf,
	    sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "2001:db8::1");
	CU_ASSERT_EQUAL(smtpd_parse_addr(S("[IPv6:2001:db8::2]:25"), buf,
	    sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "2001:db8::2");
	CU_ASSERT_EQUAL(smtpd_parse_addr(S("::1"), buf, sizeof(buf)), 0);
	CU_ASSERT_STRING_EQUAL(buf, "::1");
	CU_ASSERT_EQUAL(smtpd_parse_addr(S("192.0.2.7"), buf, sizeof(buf)),
	    0);
	CU_ASSERT_STRING_EQUAL(buf, "192.0.2.7");
	CU_ASSERT_EQUAL(smtpd_parse_addr(S("unix:/var/run/smtpd.sock"), buf,
	    sizeof(buf)), -1);
	CU_ASSERT_EQUAL(smtpd_parse_addr(S("local"), buf, sizeof(buf)), -1);
	CU_ASSERT_EQUAL(smtpd_parse_addr(S("[::1"), buf, sizeof(buf)), -1);
	CU_ASSERT_EQUAL(smtpd_parse_addr(S(""), buf, sizeof(buf)), -1);
	CU_ASSERT_EQUAL(smtpd_parse_addr(S("1.2.3.4:80"), buf, 4), -1);
}

static void
test_fmt(void)
{
	char	buf[256];
	int	n;

	n = smtpd_fmt_proceed(buf, sizeof(buf), S(SID), S(TOK));
	CU_ASSERT_STRING_EQUAL(buf, "filter-result|" SID "|" TOK
	    "|proceed\n");
	CU_ASSERT_EQUAL(n, (int)strlen(buf));

	n = smtpd_fmt_reject(buf, sizeof(buf), S(SID), S(TOK),
	    "550 5.7.29 ARC validation failure");
	CU_ASSERT_STRING_EQUAL(buf, "filter-result|" SID "|" TOK
	    "|reject|550 5.7.29 ARC validation failure\n");
	CU_ASSERT_EQUAL(n, (int)strlen(buf));
	smtpd_fmt_reject(buf, sizeof(buf), S(SID), S(TOK), "550 a\r\nb");
	CU_ASSERT_STRING_EQUAL(buf, "filter-result|" SID "|" TOK
	    "|reject|550 a  b\n");
	smtpd_fmt_reject(buf, sizeof(buf), S(SID), S(TOK), NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(buf, "|reject|451 "));

	n = smtpd_fmt_dataline(buf, sizeof(buf), S(SID), S(TOK), "..dot", 5);
	CU_ASSERT_STRING_EQUAL(buf, "filter-dataline|" SID "|" TOK
	    "|..dot\n");
	CU_ASSERT_EQUAL(n, (int)strlen(buf));
	n = smtpd_fmt_dataline(buf, sizeof(buf), S(SID), S(TOK), "", 0);
	CU_ASSERT_STRING_EQUAL(buf, "filter-dataline|" SID "|" TOK "|\n");
	CU_ASSERT_EQUAL(smtpd_fmt_dataline(buf, sizeof(buf), S(SID), S(TOK),
	    "a\nb", 3), -1);
	CU_ASSERT_EQUAL(smtpd_fmt_dataline(buf, sizeof(buf), S("xyz"),
	    S(TOK), "a", 1), -1);
	CU_ASSERT_EQUAL(smtpd_fmt_proceed(buf, sizeof(buf), S(SID), S("")),
	    -1);

	/* too small a buffer: the needed length, a NUL-terminated prefix */
	n = smtpd_fmt_dataline(buf, 10, S(SID), S(TOK), "abc", 3);
	CU_ASSERT_EQUAL(n, (int)strlen("filter-dataline|" SID "|" TOK
	    "|abc\n"));
	CU_ASSERT_EQUAL(strlen(buf), 9);
	CU_ASSERT_EQUAL(smtpd_fmt_proceed(NULL, 0, S(SID), S(TOK)),
	    (int)strlen("filter-result|" SID "|" TOK "|proceed\n"));
}

static void
test_dataline_max(void)
{
	/* 2047 - strlen("filter-dataline|") - 16 - 1 - 16 - 1, as seen
	 * live with smtpd 6.8.0p2 */
	CU_ASSERT_EQUAL(smtpd_dataline_max(S(SID), S(TOK)), 1997);
	CU_ASSERT_EQUAL(smtpd_dataline_max(S("1"), S("2")), 2027);
}


/* ---- the spool (adapters/opensmtpd/fa_spool.c) ------------------------ */

/* Line i of the spool test: lengths 0 to ~3000, some over 1997. */
static size_t
spool_line(char *buf, size_t size, unsigned i)
{
	size_t	n = (i * 7919u) % 3001, k;

	if (n >= size)
		n = size - 1;
	for (k = 0; k < n; k++)
		buf[k] = (char)('a' + (i + k) % 26);
	if (n > 0)
		buf[0] = i % 5 == 0 ? '.' : buf[0];
	buf[n] = '\0';
	return n;
}

/* Reads the whole stream back through c, checking it is lines 0..n-1. */
static int
spool_check(struct fa_spool *sp, struct fa_cursor *c, unsigned from,
    unsigned n)
{
	char		 want[4096];
	const char	*line;
	size_t		 len, wl;
	unsigned	 i = from;
	int		 r;

	while ((r = fa_cursor_line(sp, c, &line, &len)) == 1) {
		wl = spool_line(want, sizeof(want), i);
		if (i >= n || len != wl || memcmp(line, want, len) != 0)
			return 0;
		fa_cursor_next(c);
		i++;
	}
	return r == 0 && i == n;
}

/* Memory then file, two cursors at different places, and a write that
 * fails (EFBIG from RLIMIT_FSIZE, as ENOSPC would): the failed line is
 * not part of the spool, every line before it reads back whole. */
static void
test_spool(void)
{
	struct fa_spool		 sp;
	struct fa_cursor	 a, b;
	struct rlimit		 rl, old;
	char			 text[4096];
	const char		*line;
	size_t			 len;
	unsigned		 i, n = 0, half;
	void			(*oldsig)(int);

	fa_spool_init(&sp);
	fa_cursor_init(&a);
	fa_cursor_init(&b);
	/* 1500 lines of up to 3000 bytes: about 2.2 MB, beyond memory */
	for (i = 0; i < 1500; i++) {
		len = spool_line(text, sizeof(text), i);
		CU_ASSERT_EQUAL_FATAL(fa_spool_add(&sp, text, len), 0);
		n++;
		if (i == 700) {		/* a cursor part-way, mid-stream */
			half = 0;
			while (half < 300 && fa_cursor_line(&sp, &b, &line,
			    &len) == 1) {
				fa_cursor_next(&b);
				half++;
			}
			CU_ASSERT_EQUAL(half, 300);
		}
	}
	CU_ASSERT(sp.fd != -1);			/* the file is in use */
	CU_ASSERT(spool_check(&sp, &a, 0, n));
	CU_ASSERT(spool_check(&sp, &b, 300, n));
	/* the file may grow by 100 KB more, then writes fail */
	oldsig = signal(SIGXFSZ, SIG_IGN);
	getrlimit(RLIMIT_FSIZE, &old);
	rl = old;
	rl.rlim_cur = (rlim_t)(sp.flen + 100000);
	CU_ASSERT_FATAL(setrlimit(RLIMIT_FSIZE, &rl) == 0);
	for (i = 1500; i < 5000; i++) {
		len = spool_line(text, sizeof(text), i);
		if (fa_spool_add(&sp, text, len) != 0)
			break;
		n++;
	}
	setrlimit(RLIMIT_FSIZE, &old);
	signal(SIGXFSZ, oldsig);
	CU_ASSERT(i < 5000);
	CU_ASSERT_EQUAL(fa_spool_error(&sp), EFBIG);
	/* refused from now on, and what was kept reads back whole */
	CU_ASSERT_EQUAL(fa_spool_add(&sp, "x", 1), -1);
	fa_cursor_free(&a);
	fa_cursor_init(&a);
	CU_ASSERT(spool_check(&sp, &a, 0, n));
	CU_ASSERT(spool_check(&sp, &b, 1500, n));	/* b went on from 1500 */
	fa_cursor_free(&a);
	fa_cursor_free(&b);
	fa_spool_free(&sp);
	CU_ASSERT_EQUAL(fa_spool_mem_total(), 0);
}

/* ---- filter-arc itself ------------------------------------------------ */

#define NLINES	20

static const char *conf_plain = "dns no\n";

static void
msg_line(char *buf, size_t size, int i)
{
	if (i == 0)
		snprintf(buf, size, "Received: from client.example");
	else if (i == 1)
		snprintf(buf, size, "From: a@origin.example");
	else if (i == 2)
		snprintf(buf, size, "Subject: line test");
	else if (i == 3)
		buf[0] = '\0';
	else
		snprintf(buf, size, "body line %d", i);
}

static void
send_lines(struct fdrv *f, const char *sid, const char *tok, int from,
    int to)
{
	char	text[64];
	int	i;

	for (i = from; i < to; i++) {
		msg_line(text, sizeof(text), i);
		fd_send(f, "filter|0.6|1.0|smtp-in|data-line|%s|%s|%s", sid,
		    tok, text);
	}
	if (to == NLINES)
		fd_send(f, "filter|0.6|1.0|smtp-in|data-line|%s|%s|.", sid,
		    tok);
}

/* The message written back: every line sent, in order, at the end;
 * the first line written back goes to *first. */
static int
got_whole(const char *out, const char *sid, const char *tok, char *first,
    size_t fsize)
{
	char		 prefix[64], want[128], text[64];
	const char	*p, *e;
	int		 i, n = 0, k;
	const char	*lines[4096];

	snprintf(prefix, sizeof(prefix), "filter-dataline|%s|%s|", sid, tok);
	for (p = out; *p && n < 4096; p = e + 1) {
		if ((e = strchr(p, '\n')) == NULL)
			break;
		if (strncmp(p, prefix, strlen(prefix)) == 0)
			lines[n++] = p + strlen(prefix);
	}
	if (first != NULL) {
		first[0] = '\0';
		if (n > 0)
			snprintf(first, fsize, "%.*s", (int)strcspn(lines[0],
			    "\n"), lines[0]);
	}
	if (n < NLINES + 1)
		return 0;
	for (i = 0; i <= NLINES; i++) {
		k = n - (NLINES + 1) + i;
		if (i == NLINES)
			snprintf(want, sizeof(want), ".");
		else {
			msg_line(text, sizeof(text), i);
			snprintf(want, sizeof(want), "%s", text);
		}
		if (strncmp(lines[k], want, strlen(want)) != 0 ||
		    lines[k][strlen(want)] != '\n')
			return 0;
	}
	return 1;
}

/* One whole message; its first line written back in first. */
static int
run_msg(struct fdrv *f, const char *sid, const char *tok, char *first,
    size_t fsize)
{
	char	out[65536], want[64];

	fd_session(f, sid);
	send_lines(f, sid, tok, 0, NLINES);
	snprintf(want, sizeof(want), "filter-dataline|%s|%s|.", sid, tok);
	if (!fd_until(f, sid, want, out, sizeof(out), 20000))
		return 0;
	fd_send(f, "filter|0.6|1.0|smtp-in|commit|%s|%s|", sid, tok);
	fd_send(f, "report|0.6|1.0|smtp-in|link-disconnect|%s", sid);
	return got_whole(out, sid, tok, first, fsize) &&
	    fd_until(f, sid, "filter-result|", out, sizeof(out), 20000) &&
	    strstr(out, "|proceed") != NULL;
}

static int
count(const char *hay, const char *needle)
{
	int	n = 0;

	for (; hay != NULL && (hay = strstr(hay, needle)) != NULL; hay++)
		n++;
	return n;
}

/* Defect: smtp-session-timeout|<huge> overflowed 2000LL * t, the idle
 * limit wrapped negative and the sweep freed a message still arriving:
 * its first lines never came back. */
static void
test_filter_session_timeout(void)
{
	static const char *bad[] = { "9223372036854775807",
	    "9223372036854776", "4611686018427387904", "-5", "0", "12abc",
	    "", "99999999999999999999999", NULL };
	struct fdrv	 f;
	char		 out[65536], first[256], *log;
	int		 i;

	CU_ASSERT_FATAL(fd_start(&f, conf_plain, "9223372036854775",
	    NULL) == 0);
	for (i = 0; bad[i] != NULL; i++)
		fd_send(&f, "config|smtp-session-timeout|%s", bad[i]);
	/* half a message, a pause longer than any sweep, the rest */
	fd_session(&f, "00000000000000a1");
	send_lines(&f, "00000000000000a1", "00000000000000b1", 0, NLINES / 2);
	usleep(2500 * 1000);
	send_lines(&f, "00000000000000a1", "00000000000000b1", NLINES / 2,
	    NLINES);
	CU_ASSERT(fd_until(&f, "00000000000000a1",
	    "filter-dataline|00000000000000a1|00000000000000b1|.", out,
	    sizeof(out), 20000));
	CU_ASSERT(got_whole(out, "00000000000000a1", "00000000000000b1",
	    first, sizeof(first)));
	CU_ASSERT(strncmp(first, "Authentication-Results: mx.test;", 32) ==
	    0);
	CU_ASSERT(fd_alive(&f));
	CU_ASSERT_EQUAL(fd_stop(&f), 0);
	log = fd_log(&f);
	/* the first value and every bad one: refused, said so */
	CU_ASSERT_EQUAL(count(log, "smtp-session-timeout|"), 1 + i);
	CU_ASSERT(count(log, "runtime error") == 0);
	free(log);
	fd_cleanup(&f);
}

/* The sweep forgets only sessions with nothing pending: a message
 * arriving slowly over several sweeps comes back whole, an idle
 * session without one is forgotten (its later mail passes through). */
static void
test_filter_sweep(void)
{
	struct fdrv	 f;
	char		 out[65536], first[256];

	/* 1 s: idle limit 2 s, a sweep every second */
	CU_ASSERT_FATAL(fd_start(&f, conf_plain, "1", NULL) == 0);
	fd_session(&f, "00000000000000a2");
	send_lines(&f, "00000000000000a2", "00000000000000b2", 0, NLINES / 2);
	fd_session(&f, "00000000000000a3");	/* idle, no message */
	usleep(3500 * 1000);
	send_lines(&f, "00000000000000a2", "00000000000000b2", NLINES / 2,
	    NLINES);
	CU_ASSERT(fd_until(&f, "00000000000000a2",
	    "filter-dataline|00000000000000a2|00000000000000b2|.", out,
	    sizeof(out), 20000));
	CU_ASSERT(got_whole(out, "00000000000000a2", "00000000000000b2",
	    first, sizeof(first)));
	CU_ASSERT(strncmp(first, "Authentication-Results: mx.test;", 32) ==
	    0);
	send_lines(&f, "00000000000000a3", "00000000000000b3", 0, NLINES);
	CU_ASSERT(fd_until(&f, "00000000000000a3",
	    "filter-dataline|00000000000000a3|00000000000000b3|.", out,
	    sizeof(out), 20000));
	CU_ASSERT(got_whole(out, "00000000000000a3", "00000000000000b3",
	    first, sizeof(first)));
	CU_ASSERT_STRING_EQUAL(first, "Received: from client.example");
	CU_ASSERT_EQUAL(fd_stop(&f), 0);
	fd_cleanup(&f);
}

static int
wait_log(struct fdrv *f, const char *what, int n)
{
	long long	 end = fd_ms() + 10000;
	char		*log;
	int		 c;

	do {
		log = fd_log(f);
		c = count(log, what);
		free(log);
		if (c >= n)
			return 1;
		usleep(20000);
	} while (fd_ms() < end);
	return 0;
}

/* No signal an operator may send ends the filter (smtpd would exit
 * with it); SIGHUP reloads: a bad file keeps the old configuration, a
 * good one serves new messages while one in flight keeps the old. */
static void
test_filter_signals(void)
{
	static const int sigs[] = { SIGUSR1, SIGUSR2, SIGPIPE, SIGTERM,
	    SIGINT, SIGQUIT, SIGHUP };
	struct fdrv	 f;
	char		 out[65536], first[256], *log;
	size_t		 i;

	CU_ASSERT_FATAL(fd_start(&f, "dns no\nauthserv-id one.test\n", "300",
	    NULL) == 0);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		CU_ASSERT(kill(f.pid, sigs[i]) == 0);
		usleep(100 * 1000);
		CU_ASSERT(fd_alive(&f));
	}
	CU_ASSERT(wait_log(&f, "reloaded (generation 2)", 1));
	CU_ASSERT(run_msg(&f, "00000000000000c1", "00000000000000d1", first,
	    sizeof(first)));
	CU_ASSERT(strncmp(first, "Authentication-Results: one.test;", 33) ==
	    0);
	/* a broken file: refused, the old one stays */
	fd_write_conf(&f, "dns no\nauthserv-id two.test\nno-such-option 1\n");
	kill(f.pid, SIGHUP);
	CU_ASSERT(wait_log(&f, "failed, the running configuration", 1));
	CU_ASSERT(run_msg(&f, "00000000000000c2", "00000000000000d2", first,
	    sizeof(first)));
	CU_ASSERT(strncmp(first, "Authentication-Results: one.test;", 33) ==
	    0);
	/* a good one while a message is half in: that one finishes with
	 * the old configuration, the next uses the new */
	fd_session(&f, "00000000000000c3");
	send_lines(&f, "00000000000000c3", "00000000000000d3", 0, NLINES / 2);
	fd_write_conf(&f, "dns no\nauthserv-id three.test\n");
	usleep(100 * 1000);
	kill(f.pid, SIGHUP);
	CU_ASSERT(wait_log(&f, "reloaded (generation 3)", 1));
	send_lines(&f, "00000000000000c3", "00000000000000d3", NLINES / 2,
	    NLINES);
	CU_ASSERT(fd_until(&f, "00000000000000c3",
	    "filter-dataline|00000000000000c3|00000000000000d3|.", out,
	    sizeof(out), 20000));
	CU_ASSERT(got_whole(out, "00000000000000c3", "00000000000000d3",
	    first, sizeof(first)));
	CU_ASSERT(strncmp(first, "Authentication-Results: one.test;", 33) ==
	    0);
	CU_ASSERT(run_msg(&f, "00000000000000c4", "00000000000000d4", first,
	    sizeof(first)));
	CU_ASSERT(strncmp(first, "Authentication-Results: three.test;", 35)
	    == 0);
	CU_ASSERT(fd_alive(&f));
	CU_ASSERT_EQUAL(fd_stop(&f), 0);
	log = fd_log(&f);
	CU_ASSERT(strstr(log, "SIGUSR1: status: sessions=") != NULL);
	CU_ASSERT(strstr(log, "SIGUSR2 ignored") != NULL);
	CU_ASSERT(strstr(log, "SIGTERM ignored") != NULL);
	CU_ASSERT(strstr(log, "SIGINT ignored") != NULL);
	CU_ASSERT(strstr(log, "no-such-option") != NULL);
	free(log);
	fd_cleanup(&f);
}

/* Writes n sessions' link-connect and a 1000-byte HELO (or their
 * link-disconnect), in big writes. */
static int
flood(struct fdrv *f, int n, int disconnect)
{
	static char	 buf[1 << 20];
	char		 helo[1001];
	size_t		 len = 0;
	int		 i, k;
	ssize_t		 w;
	size_t		 off;

	memset(helo, 'h', 1000);
	helo[1000] = '\0';
	for (i = 0; i <= n; i++) {
		if (i == n || len > sizeof(buf) - 2400) {
			for (off = 0; off < len; off += (size_t)w)
				if ((w = write(f->fd, buf + off, len - off))
				    <= 0)
					return -1;
			len = 0;
			if (i == n)
				break;
		}
		if (disconnect)
			k = snprintf(buf + len, sizeof(buf) - len,
			    "report|0.6|1.0|smtp-in|link-disconnect|%016x\n",
			    i + 1);
		else
			k = snprintf(buf + len, sizeof(buf) - len,
			    "report|0.6|1.0|smtp-in|link-connect|%016x|"
			    "localhost|pass|192.0.2.9:5371|127.0.0.1:25\n"
			    "report|0.6|1.0|smtp-in|link-identify|%016x|"
			    "EHLO|%s\n", i + 1, i + 1, helo);
		len += (size_t)k;
	}
	return 0;
}

/* A flood of sessions: memory stays bounded, sessions beyond the bound
 * pass through untouched with a log line, never an exit; once the
 * flood is gone, new sessions are handled again. */
static void
test_filter_flood(void)
{
	const int	 n = 200000;
	struct fdrv	 f;
	char		 first[256], *log;
	long		 hwm;

	CU_ASSERT_FATAL(fd_start(&f, conf_plain, "300", NULL) == 0);
	CU_ASSERT(flood(&f, n, 0) == 0);
	CU_ASSERT(run_msg(&f, "00000000fffffff1", "00000000000000e1", first,
	    sizeof(first)));
	CU_ASSERT_STRING_EQUAL(first, "Received: from client.example");
	hwm = fd_vm_kb(f.pid, "VmHWM:");
	printf("\n    flood: %d sessions with 1000-byte HELOs, filter-arc "
	    "peak RSS %ld kB ", n, hwm);
	/* 241 MB before the bound; 10000 sessions fit in a few MB (an
	 * ASan build's own overhead included) */
	CU_ASSERT(hwm > 0 && hwm < 96 * 1024);
	CU_ASSERT(fd_alive(&f));
	CU_ASSERT(flood(&f, n, 1) == 0);
	CU_ASSERT(run_msg(&f, "00000000fffffff2", "00000000000000e2", first,
	    sizeof(first)));
	CU_ASSERT(strncmp(first, "Authentication-Results: mx.test;", 32) ==
	    0);
	CU_ASSERT_EQUAL(fd_stop(&f), 0);
	log = fd_log(&f);
	CU_ASSERT(strstr(log, "not tracked, its mail passes through "
	    "untouched: 10000 sessions (max 10000)") != NULL);
	free(log);
	fd_cleanup(&f);

	/* the memory bound: -M 64k holds about 250 sessions */
	{
		static const char *args[] = { "-M", "64k", NULL };

		CU_ASSERT_FATAL(fd_start(&f, conf_plain, "300", args) == 0);
		CU_ASSERT(flood(&f, 1000, 0) == 0);
		CU_ASSERT(run_msg(&f, "00000000fffffff3", "00000000000000e3",
		    first, sizeof(first)));
		CU_ASSERT_STRING_EQUAL(first, "Received: from client.example");
		CU_ASSERT_EQUAL(fd_stop(&f), 0);
		log = fd_log(&f);
		CU_ASSERT(strstr(log, "(max 65536)") != NULL);
		free(log);
		fd_cleanup(&f);
	}
}

/* The header fields all messages in flight hold in the adapter layer
 * are bounded (-H): a message beyond passes on unchanged, and the next
 * one is handled again. */
static void
test_filter_header_bound(void)
{
	static const char *args[] = { "-H", "64k", NULL };
	struct fdrv	 f;
	char		 out[262144], first[256], big[1001], *log;
	const char	*sid = "00000000000000f1", *tok = "00000000000000f2";
	int		 i;

	CU_ASSERT_FATAL(fd_start(&f, conf_plain, "300", args) == 0);
	memset(big, 'b', 990);
	big[990] = '\0';
	fd_session(&f, sid);
	fd_send(&f, "filter|0.6|1.0|smtp-in|data-line|%s|%s|Received: x",
	    sid, tok);
	for (i = 0; i < 100; i++)
		fd_send(&f, "filter|0.6|1.0|smtp-in|data-line|%s|%s|X-Big-%03d:"
		    " %s", sid, tok, i, big);
	fd_send(&f, "filter|0.6|1.0|smtp-in|data-line|%s|%s|", sid, tok);
	fd_send(&f, "filter|0.6|1.0|smtp-in|data-line|%s|%s|body", sid, tok);
	fd_send(&f, "filter|0.6|1.0|smtp-in|data-line|%s|%s|.", sid, tok);
	CU_ASSERT(fd_until(&f, sid, "filter-dataline|00000000000000f1|"
	    "00000000000000f2|.", out, sizeof(out), 20000));
	CU_ASSERT(strncmp(out, "filter-dataline|00000000000000f1|"
	    "00000000000000f2|Received: x\n", strlen("filter-dataline|"
	    "00000000000000f1|00000000000000f2|Received: x\n")) == 0);
	CU_ASSERT_EQUAL(count(out, "\n"), 104);
	fd_send(&f, "filter|0.6|1.0|smtp-in|commit|%s|%s|", sid, tok);
	CU_ASSERT(fd_until(&f, sid, "filter-result|", out, sizeof(out),
	    20000) && strstr(out, "|proceed") != NULL);
	fd_send(&f, "report|0.6|1.0|smtp-in|link-disconnect|%s", sid);
	CU_ASSERT(run_msg(&f, "00000000000000f3", "00000000000000f4", first,
	    sizeof(first)));
	CU_ASSERT(strncmp(first, "Authentication-Results: mx.test;", 32) ==
	    0);
	CU_ASSERT_EQUAL(fd_stop(&f), 0);
	log = fd_log(&f);
	CU_ASSERT(strstr(log, "more than 65536 bytes (-H)") != NULL);
	free(log);
	fd_cleanup(&f);
}

/* A data-line with a NUL is malformed but still a line of the message:
 * its part before the NUL comes back, in a tracked session and in one
 * that is not (over the bounds, or no link-connect seen), whose lines
 * pass through untouched.  It used to be dropped in the latter. */
static void
test_filter_nul_untracked(void)
{
	static const char line[] = "filter|0.6|1.0|smtp-in|data-line|"
	    "00000000000000a5|00000000000000b5|ab\0cd\n";
	struct fdrv	 f;
	char		 out[4096];

	CU_ASSERT_FATAL(fd_start(&f, conf_plain, "300", NULL) == 0);
	fd_send(&f, "filter|0.6|1.0|smtp-in|data-line|00000000000000a5|"
	    "00000000000000b5|Subject: untracked");
	CU_ASSERT(write(f.fd, line, sizeof(line) - 1) ==
	    (ssize_t)(sizeof(line) - 1));
	fd_send(&f, "filter|0.6|1.0|smtp-in|data-line|00000000000000a5|"
	    "00000000000000b5|.");
	CU_ASSERT(fd_until(&f, "00000000000000a5",
	    "filter-dataline|00000000000000a5|00000000000000b5|.", out,
	    sizeof(out), 20000));
	CU_ASSERT_STRING_EQUAL(out,
	    "filter-dataline|00000000000000a5|00000000000000b5|"
	    "Subject: untracked\n"
	    "filter-dataline|00000000000000a5|00000000000000b5|ab\n"
	    "filter-dataline|00000000000000a5|00000000000000b5|.\n");
	CU_ASSERT(fd_alive(&f));
	CU_ASSERT_EQUAL(fd_stop(&f), 0);
	fd_cleanup(&f);
}

int
main(void)
{
	static const cunit_test tests[] = {
		{ "config", test_config },
		{ "report", test_report },
		{ "filter", test_filter },
		{ "data-line", test_dataline },
		{ "malformed", test_malformed },
		{ "tx-addr", test_tx_addr },
		{ "link-connect address", test_addr },
		{ "formatters", test_fmt },
		{ "dataline max", test_dataline_max },
		{ "spool: whole lines, cursors, write failure", test_spool },
		{ "filter: smtp-session-timeout range", test_filter_session_timeout },
		{ "filter: sweep keeps messages", test_filter_sweep },
		{ "filter: signals and reload", test_filter_signals },
		{ "filter: session flood bounded", test_filter_flood },
		{ "filter: header bytes bounded", test_filter_header_bound },
		{ "filter: NUL line of an untracked session",
		    test_filter_nul_untracked },
		{ NULL, NULL }
	};
	static cunit_test	 some[sizeof(tests) / sizeof(tests[0])];
	const char		*only = getenv("TEST_ONLY");
	size_t			 i, n = 0;

	/* TEST_ONLY=word: the tests whose name holds it */
	if (only == NULL)
		return cunit_run("smtpd_proto", NULL, NULL, tests);
	for (i = 0; tests[i].name != NULL; i++)
		if (strstr(tests[i].name, only) != NULL)
			some[n++] = tests[i];
	some[n].name = NULL;
	some[n].fn = NULL;
	return cunit_run("smtpd_proto", NULL, NULL, some);
}
