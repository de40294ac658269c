/*
 * test_smtpd_proto.c - CUnit tests of the OpenSMTPD filter protocol
 * parser and formatters (adapters/opensmtpd/smtpd_proto.[ch]).
 *
 * Contract: one test per line type and helper; the lines are the ones
 * OpenSMTPD 6.8.0p2 (protocol 0.6) was seen to write, plus their 0.7
 * and 0.5 forms and malformed variants.  Exit status is non-zero if any
 * test failed.
 */
#include <stdio.h>
#include <string.h>

#include "cunit_run.h"

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
		{ NULL, NULL }
	};

	return cunit_run("smtpd_proto", NULL, NULL, tests);
}
