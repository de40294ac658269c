/*
 * test_policy.c - CUnit tests of the receiver policy (adapters/arc_policy.c):
 * trusted-sealer lists (domains, wildcards, files, errors with
 * file:line), the oldest trusted sealer and what its AAR recorded,
 * dmarc=pass against dkim=pass for the From domain, our own dmarc
 * result present or absent, the RFC 8617 §7.2.2 comment (exact text),
 * and the same verdict through an adapter session (A-R properties, log
 * keys).  Chains are sealed here by the core with a fresh key that a
 * key table publishes for every sealer domain.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cunit_run.h"
#include "test_fixture.h"

#include "arc_adapter.h"
#include "arc_policy.h"

static char	 dir[] = "/tmp/arc-test-policy.XXXXXX";
static char	 keyfile[300], keytable[300], table[300];
static arc_lib	*lib;

static const char *NOFROM =
    "From: undisclosed-recipients:;\r\n"
    "To: list@d1.example\r\n"
    "Subject: policy test\r\n"
    "Message-ID: <policy-nofrom@origin.example>\r\n"
    "\r\n"
    "Hello.\r\n";

static const char *BASE =
    "From: Alice <alice@origin.example>\r\n"
    "To: list@d1.example\r\n"
    "Subject: policy test\r\n"
    "Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n"
    "Message-ID: <policy-1@origin.example>\r\n"
    "\r\n"
    "Hello.\r\n";

/* fixture_keys() writes the key; this table publishes it for every
 * d=/s= the tests seal with. */
static int
setup(void)
{
	static const char *const names[] = { "s3._domainkey.d1.example",
	    "s2._domainkey.d2.example", "s1._domainkey.d3.example",
	    "s1._domainkey.lists.example.org", "s1._domainkey.example.org" };
	char		 line[1200], *text;
	FILE		*fp;
	size_t		 i, n;

	if (fixture_keys(dir, keyfile, keytable, NULL) != 0)
		return -1;
	/* the key table's first record: reuse its p= for every name */
	if ((fp = fopen(keytable, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) && line[0] == '#')
		;
	fclose(fp);
	if ((text = strchr(line, ' ')) == NULL)
		return -1;
	snprintf(table, sizeof(table), "%s/all-keys", dir);
	if ((fp = fopen(table, "w")) == NULL)
		return -1;
	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		fprintf(fp, "%s%s", names[i], text);
	n = (size_t)ftell(fp);
	fclose(fp);
	if (n == 0 || (lib = arc_lib_create()) == NULL ||
	    arc_lib_add_keytable(lib, table) != ARC_OK)
		return -1;
	return 0;
}

static int
teardown(void)
{
	arc_lib_free(lib);
	return fixture_remove(dir);
}

static arc_msg *
verify(const char *text)
{
	arc_msg	*m = arc_msg_create(lib, ARC_MSG_VERIFY);

	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT(arc_msg_feed(m, text, strlen(text)) == ARC_OK);
	CU_ASSERT(arc_msg_wait(m, 1000) == ARC_OK);
	return m;
}

/* text with a new ARC set by domain/selector on top, whose AAR holds
 * the results ar ("authserv-id; ..."); the caller frees it. */
static char *
seal(const char *text, const char *domain, const char *selector,
    const char *ar)
{
	const char	*extra[2] = { ar, NULL };
	char		 err[256], id[256], *out;
	arc_signer	*s;
	arc_msg		*m;
	arc_seal_result	 res;

	snprintf(id, sizeof(id), "%.*s", (int)strcspn(ar, "; "), ar);
	s = arc_signer_create(domain, selector, keyfile, err, sizeof(err));
	CU_ASSERT_FATAL(s != NULL);
	m = arc_msg_create(lib, ARC_MSG_VERIFY);
	CU_ASSERT_FATAL(m != NULL);
	CU_ASSERT(arc_msg_set_signer(m, s) == ARC_OK);
	CU_ASSERT(arc_msg_feed(m, text, strlen(text)) == ARC_OK);
	CU_ASSERT(arc_msg_wait(m, 1000) == ARC_OK);
	memset(&res, 0, sizeof(res));
	CU_ASSERT_FATAL(arc_msg_seal(m, s, id, extra, 0, ARC_SEAL_NOFOLD,
	    &res) == ARC_OK);
	CU_ASSERT_FATAL(res.sealed);
	CU_ASSERT_FATAL(asprintf(&out, "%s%s%s%s", res.as, res.ams, res.aar,
	    text) > 0);
	arc_seal_result_clear(&res);
	arc_msg_free(m);
	arc_signer_free(s);
	return out;
}

static void
evaluate(const char *spec, const char *text, const char *const *host_ar,
    arc_verdict *v)
{
	char		 err[256];
	arc_policy	*p = arc_policy_create(spec, NULL, err, sizeof(err));
	arc_msg		*m;

	CU_ASSERT_FATAL(p != NULL);
	m = verify(text);
	arc_policy_evaluate(p, m, "mx.us.example", "mx2.us.example", host_ar,
	    v);
	arc_msg_free(m);
	arc_policy_free(p);
}

#define AR1 "mx.d1.example; arc=none smtp.remote-ip=2001:DB8::1A; " \
	    "dkim=pass header.d=origin.example header.s=o1; " \
	    "spf=fail smtp.mailfrom=origin.example; " \
	    "dmarc=pass header.from=origin.example"
#define AR2 "mx.d2.example; arc=pass smtp.remote-ip=192.0.2.7; " \
	    "dkim=fail header.d=origin.example; spf=pass " \
	    "smtp.mailfrom=d1.example; dmarc=fail header.from=origin.example"

static char *
two_hops(void)
{
	char	*h1 = seal(BASE, "d1.example", "s3", AR1);
	char	*h2 = seal(h1, "d2.example", "s2", AR2);

	free(h1);
	return h2;
}

static void
test_lists(void)
{
	char		 err[512], path[300];
	arc_policy	*p;

	p = arc_policy_create("d1.example, *.example.org\nD3.Example.",
	    NULL, err, sizeof(err));
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL(arc_policy_size(p), 3);
	CU_ASSERT(arc_policy_trusts(p, "d1.example"));
	CU_ASSERT(arc_policy_trusts(p, "D1.EXAMPLE."));
	CU_ASSERT(arc_policy_trusts(p, "d3.example"));
	CU_ASSERT(arc_policy_trusts(p, "lists.example.org"));
	CU_ASSERT(arc_policy_trusts(p, "a.b.example.org"));
	CU_ASSERT(!arc_policy_trusts(p, "example.org"));
	CU_ASSERT(!arc_policy_trusts(p, "badexample.org"));
	CU_ASSERT(!arc_policy_trusts(p, "x.d1.example"));
	CU_ASSERT(!arc_policy_trusts(p, "d2.example"));
	CU_ASSERT(!arc_policy_trusts(p, ""));
	CU_ASSERT(!arc_policy_trusts(p, "d1..example"));
	arc_policy_free(p);

	snprintf(path, sizeof(path), "%s/sealers", dir);
	CU_ASSERT_FATAL(write_file(path, "# list servers we trust\n"
	    "d2.example   # the big one\n\n*.lists.example\n", 0644) == 0);
	snprintf(err, sizeof(err), "file:%s d1.example", path);
	p = arc_policy_create(err, NULL, err, sizeof(err));
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT_EQUAL(arc_policy_size(p), 3);
	CU_ASSERT(arc_policy_trusts(p, "d2.example"));
	CU_ASSERT(arc_policy_trusts(p, "x.lists.example"));
	CU_ASSERT(arc_policy_trusts(p, "d1.example"));
	CU_ASSERT(!arc_policy_trusts(p, "lists.example"));
	arc_policy_free(p);

	/* errors name the file and line */
	CU_ASSERT_FATAL(write_file(path, "d2.example\nbad_@domain\n", 0644) ==
	    0);
	snprintf(err, sizeof(err), "file:%s", path);
	CU_ASSERT(arc_policy_create(err, NULL, err, sizeof(err)) == NULL);
	CU_ASSERT(strstr(err, "sealers:2:") != NULL);
	CU_ASSERT(strstr(err, "bad_@domain") != NULL);
	CU_ASSERT_FATAL(write_file(path, "file:/etc/hosts\n", 0644) == 0);
	snprintf(err, sizeof(err), "file:%s", path);
	CU_ASSERT(arc_policy_create(err, NULL, err, sizeof(err)) == NULL);
	CU_ASSERT(strstr(err, "sealers:1: trusted-sealers: file: inside") !=
	    NULL);
	CU_ASSERT(arc_policy_create("file:/nonexistent/x", NULL, err,
	    sizeof(err)) == NULL);
	CU_ASSERT(strstr(err, "/nonexistent/x") != NULL);
	/* what the error quotes is printable (fuzz_policy found it raw) */
	CU_ASSERT(arc_policy_create("bad\001\033[2Jentry", NULL, err,
	    sizeof(err)) == NULL);
	CU_ASSERT(strstr(err, "\"bad??[2Jentry\"") != NULL);
	CU_ASSERT(arc_policy_create("*.", NULL, err, sizeof(err)) == NULL);
	CU_ASSERT(arc_policy_create("a.*.example", NULL, err, sizeof(err)) == NULL);
	p = arc_policy_create(NULL, NULL, err, sizeof(err));
	CU_ASSERT_FATAL(p != NULL);
	CU_ASSERT(!arc_policy_trusts(p, "d1.example"));
	arc_policy_free(p);
}

static void
test_trusted_oldest(void)
{
	char		*t = two_hops();
	arc_verdict	 v;

	/* untrusted chain: nothing to say */
	evaluate("other.example", t, NULL, &v);
	CU_ASSERT(v.chain_pass);
	CU_ASSERT_EQUAL(v.instance, 0);
	CU_ASSERT(!v.override);
	CU_ASSERT_STRING_EQUAL(v.why, "no trusted sealer in the chain");

	/* both trusted: the oldest (i=1) speaks, with its dmarc=pass */
	evaluate("d2.example d1.example", t, NULL, &v);
	CU_ASSERT_EQUAL(v.instance, 1);
	CU_ASSERT_STRING_EQUAL(v.domain, "d1.example");
	CU_ASSERT_STRING_EQUAL(v.dkim, "pass");
	CU_ASSERT_STRING_EQUAL(v.spf, "fail");
	CU_ASSERT_STRING_EQUAL(v.dmarc, "pass");
	CU_ASSERT_STRING_EQUAL(v.from_domain, "origin.example");
	CU_ASSERT_STRING_EQUAL(v.local_dmarc, "");
	CU_ASSERT(v.explains);
	CU_ASSERT(v.override);
	CU_ASSERT_STRING_EQUAL(v.why, "trusted sealer d1.example at i=1 "
	    "recorded dmarc=pass; local dmarc=unknown: may be overridden");

	/* only the newer one trusted: it saw the failure */
	evaluate("d2.example", t, NULL, &v);
	CU_ASSERT_EQUAL(v.instance, 2);
	CU_ASSERT_STRING_EQUAL(v.dmarc, "fail");
	CU_ASSERT_STRING_EQUAL(v.dkim, "fail");
	CU_ASSERT_STRING_EQUAL(v.spf, "pass");
	CU_ASSERT(!v.explains);
	CU_ASSERT(!v.override);

	/* a tampered chain overrides nothing */
	{
		char *bad = strdup(t), *b = strstr(bad, "Hello.");

		CU_ASSERT_FATAL(b != NULL);
		b[0] = 'J';
		evaluate("d1.example d2.example", bad, NULL, &v);
		CU_ASSERT(!v.chain_pass);
		CU_ASSERT_EQUAL(v.instance, 0);
		CU_ASSERT(!v.override);
		CU_ASSERT_STRING_EQUAL(v.why, "ARC chain failed");
		free(bad);
	}
	free(t);
}

static void
test_dkim_for_from(void)
{
	char		*t;
	arc_verdict	 v;

	/* no dmarc result, but a dkim pass for the From domain */
	t = seal(BASE, "d1.example", "s3", "mx.d1.example; "
	    "dkim=pass header.i=@origin.example header.s=o1");
	evaluate("d1.example", t, NULL, &v);
	CU_ASSERT_STRING_EQUAL(v.dkim, "pass");
	CU_ASSERT_STRING_EQUAL(v.dmarc, "");
	CU_ASSERT(v.explains);
	CU_ASSERT(v.override);
	CU_ASSERT(strstr(v.why, "recorded dkim=pass") != NULL);
	free(t);

	/* a dkim pass for another domain explains nothing */
	t = seal(BASE, "d1.example", "s3", "mx.d1.example; "
	    "dkim=fail header.d=origin.example; dkim=pass header.d=d1.example");
	evaluate("d1.example", t, NULL, &v);
	CU_ASSERT_STRING_EQUAL(v.dkim, "pass");
	CU_ASSERT(!v.explains);
	CU_ASSERT(!v.override);
	CU_ASSERT_STRING_EQUAL(v.why, "trusted sealer d1.example at i=1 "
	    "recorded no dmarc or dkim pass for origin.example");
	free(t);

	/* a dmarc pass names the From it passed: none named, or a message
	 * without a From domain, explains nothing (review r4) */
	t = seal(BASE, "d1.example", "s3", "mx.d1.example; dmarc=pass");
	evaluate("d1.example", t, NULL, &v);
	CU_ASSERT(!v.explains);
	CU_ASSERT(!v.override);
	free(t);
	t = seal(NOFROM, "d1.example", "s3", "mx.d1.example; arc=none; "
	    "dmarc=pass header.from=victim.example; dkim=pass "
	    "header.d=victim.example");
	evaluate("d1.example", t, NULL, &v);
	CU_ASSERT(v.chain_pass);
	CU_ASSERT_STRING_EQUAL(v.from_domain, "");
	CU_ASSERT(!v.explains);
	CU_ASSERT(!v.override);
	CU_ASSERT(strstr(v.why, "no From domain") != NULL);
	free(t);

	/* Microsoft's shape: a version after the authserv-id, comments,
	 * a property without a ptype */
	t = seal(BASE, "d1.example", "s3", "mx.d1.example 1; spf=pass "
	    "(sender IP is 192.0.2.1) smtp.mailfrom=origin.example; dkim=pass "
	    "(signature was verified) header.d=origin.example; dmarc=pass "
	    "action=none header.from=origin.example; compauth=pass "
	    "reason=100");
	evaluate("d1.example", t, NULL, &v);
	CU_ASSERT_STRING_EQUAL(v.spf, "pass");
	CU_ASSERT_STRING_EQUAL(v.dkim, "pass");
	CU_ASSERT_STRING_EQUAL(v.dmarc, "pass");
	CU_ASSERT(v.override);
	free(t);

	/* nor does a dmarc pass for another From */
	t = seal(BASE, "d1.example", "s3", "mx.d1.example; "
	    "dmarc=pass header.from=elsewhere.example");
	evaluate("d1.example", t, NULL, &v);
	CU_ASSERT_STRING_EQUAL(v.dmarc, "");
	CU_ASSERT(!v.override);
	free(t);
}

static void
test_local_dmarc(void)
{
	char		*t = two_hops(), *m;
	arc_verdict	 v;
	const char	*host_pass[] = { "mx2.us.example; dmarc=pass "
	    "header.from=origin.example", NULL };
	const char	*host_fail[] = { "mx.us.example; spf=fail; dmarc=fail "
	    "(p=reject) header.from=origin.example", NULL };

	/* ours said fail: override */
	CU_ASSERT_FATAL(asprintf(&m, "Authentication-Results: mx.us.example;"
	    " dmarc=fail header.from=origin.example\r\n%s", t) > 0);
	evaluate("d1.example", m, NULL, &v);
	CU_ASSERT_STRING_EQUAL(v.local_dmarc, "fail");
	CU_ASSERT(v.override);
	CU_ASSERT_STRING_EQUAL(v.why, "trusted sealer d1.example at i=1 "
	    "recorded dmarc=pass; local dmarc=fail: may be overridden");
	free(m);

	/* ours said pass: nothing to override */
	CU_ASSERT_FATAL(asprintf(&m, "Authentication-Results: MX.US.EXAMPLE "
	    "1; dmarc=pass header.from=origin.example\r\n%s", t) > 0);
	evaluate("d1.example", m, NULL, &v);
	CU_ASSERT_STRING_EQUAL(v.local_dmarc, "pass");
	CU_ASSERT(v.explains);
	CU_ASSERT(!v.override);
	CU_ASSERT(strstr(v.why, "nothing to override") != NULL);
	free(m);

	/* another ADMD's result is not ours */
	CU_ASSERT_FATAL(asprintf(&m, "Authentication-Results: mx.evil.example;"
	    " dmarc=pass\r\n%s", t) > 0);
	evaluate("d1.example", m, NULL, &v);
	CU_ASSERT_STRING_EQUAL(v.local_dmarc, "");
	CU_ASSERT(v.override);
	free(m);

	/* the host's own A-R (trusted id), and it wins over the message's */
	evaluate("d1.example", t, host_pass, &v);
	CU_ASSERT_STRING_EQUAL(v.local_dmarc, "pass");
	CU_ASSERT(!v.override);
	CU_ASSERT_FATAL(asprintf(&m, "Authentication-Results: mx.us.example;"
	    " dmarc=pass\r\n%s", t) > 0);
	evaluate("d1.example", m, host_fail, &v);
	CU_ASSERT_STRING_EQUAL(v.local_dmarc, "fail");
	CU_ASSERT(v.override);
	free(m);
	free(t);
}

static void
test_comment(void)
{
	char	*t = two_hops(), *c, *h1;
	arc_msg	*m;

	/* RFC 8617 §7.2.2's own example, byte for byte */
	m = verify(t);
	c = arc_dmarc_comment(m);
	CU_ASSERT_STRING_EQUAL(c, "arc=pass as[2].d=d2.example as[2].s=s2 "
	    "as[1].d=d1.example as[1].s=s3 remote-ip[1]=2001:DB8::1A");
	free(c);
	arc_msg_free(m);
	free(t);

	/* no smtp.remote-ip: the iprev address; a bad address: none */
	h1 = seal(BASE, "d1.example", "s3", "mx.d1.example; "
	    "iprev=pass policy.iprev=192.0.2.1; spf=pass");
	m = verify(h1);
	c = arc_dmarc_comment(m);
	CU_ASSERT_STRING_EQUAL(c, "arc=pass as[1].d=d1.example as[1].s=s3 "
	    "remote-ip[1]=192.0.2.1");
	free(c);
	arc_msg_free(m);
	free(h1);
	h1 = seal(BASE, "d1.example", "s3", "mx.d1.example; "
	    "arc=none smtp.remote-ip=\"1.2.3.4 evil\"; "
	    "x=y smtp.client-ip=unknown");
	m = verify(h1);
	c = arc_dmarc_comment(m);
	CU_ASSERT_STRING_EQUAL(c, "arc=pass as[1].d=d1.example as[1].s=s3");
	free(c);
	arc_msg_free(m);
	free(h1);

	/* IPv6 is quoted in our own A-R (':' is not a token character) */
	h1 = seal(BASE, "d1.example", "s3", "mx.d1.example; "
	    "arc=none smtp.remote-ip=\"2001:db8::25\"");
	m = verify(h1);
	c = arc_dmarc_comment(m);
	CU_ASSERT_STRING_EQUAL(c, "arc=pass as[1].d=d1.example as[1].s=s3 "
	    "remote-ip[1]=2001:db8::25");
	free(c);
	arc_msg_free(m);
	free(h1);

	m = verify(BASE);
	c = arc_dmarc_comment(m);
	CU_ASSERT_STRING_EQUAL(c, "arc=none");
	free(c);
	arc_msg_free(m);
}

/* Every byte value in what the host and the message hand us: whatever
 * the verdict keeps is printable ASCII without spaces. */
static void
test_hostile_bytes(void)
{
	char		*t = two_hops(), ar[128], *m;
	const char	*host[] = { ar, NULL };
	arc_verdict	 v;
	int		 b;
	size_t		 i;

	for (b = 1; b < 256; b++) {
		snprintf(ar, sizeof(ar), "mx.us.example; dmarc=fa%cil "
		    "header.from=origin.example", b);
		CU_ASSERT_FATAL(asprintf(&m, "From: x <a@origin.examp%cle>\r\n"
		    "%s", b == '\n' ? ' ' : b, t) > 0);
		evaluate("d1.example", m, host, &v);
		for (i = 0; v.local_dmarc[i]; i++)
			CU_ASSERT(v.local_dmarc[i] > ' ' && v.local_dmarc[i] < 0x7f);
		for (i = 0; v.why[i]; i++)
			CU_ASSERT(v.why[i] >= ' ' && v.why[i] < 0x7f);
		for (i = 0; v.from_domain[i]; i++)
			CU_ASSERT(v.from_domain[i] > ' ' &&
			    v.from_domain[i] < 0x7f);
		free(m);
	}
	free(t);
}

static int	 nlog;
static char	 last_log[2048];

static void
keep_log(void *arg, int level, const char *line)
{
	(void)arg;
	(void)level;
	nlog++;
	snprintf(last_log, sizeof(last_log), "%s", line);
}

/* The verdict through a session: actions, A-R properties, log keys. */
static void
test_session(void)
{
	char			 path[300], text[1024], err[512], *t;
	arc_conf		*c;
	arc_adapter		*ad;
	arc_session		*ss;
	const arc_actions	*a;

	t = two_hops();
	snprintf(path, sizeof(path), "%s/arc.conf", dir);
	snprintf(text, sizeof(text), "authserv-id mx.us.example\n"
	    "key-table %s\ndns no\ntrusted-sealers d1.example\n"
	    "trusted-sealers *.example.org\n", table);
	CU_ASSERT_FATAL(write_file(path, text, 0644) == 0);
	c = arc_conf_load(path, err, sizeof(err));
	CU_ASSERT_FATAL(c != NULL);
	ad = arc_adapter_create(c, keep_log, NULL, err, sizeof(err));
	CU_ASSERT_FATAL(ad != NULL);
	CU_ASSERT(arc_policy_trusts(arc_adapter_policy(ad), "a.example.org"));
	ss = arc_session_create(ad, NULL);
	CU_ASSERT_FATAL(ss != NULL);
	CU_ASSERT(arc_session_feed(ss, t, strlen(t)) == 0);
	CU_ASSERT(arc_session_wait(ss) == ARC_SESSION_DONE);
	a = arc_session_actions(ss);
	CU_ASSERT_EQUAL(a->cv, ARC_CV_PASS);
	CU_ASSERT_STRING_EQUAL(a->trusted, "d1.example");
	CU_ASSERT_EQUAL(a->trusted_i, 1);
	CU_ASSERT(a->override);
	CU_ASSERT(strstr(a->authres, " policy.arc-trusted=d1.example "
	    "policy.arc-override=yes") != NULL);
	CU_ASSERT_STRING_EQUAL(a->dmarc_comment, "arc=pass as[2].d=d2.example "
	    "as[2].s=s2 as[1].d=d1.example as[1].s=s3 "
	    "remote-ip[1]=2001:DB8::1A");
	CU_ASSERT(strstr(a->summary, " trusted=d1.example trusted-i=1 "
	    "override=yes dmarc-comment=\"arc=pass as[2].d=d2.example") !=
	    NULL);
	CU_ASSERT(strstr(last_log, "override=yes") != NULL);
	arc_session_free(ss);

	/* a bad list is an error at creation, naming the option */
	CU_ASSERT(arc_conf_set(c, "trusted-sealers", "not a domain!", err,
	    sizeof(err)) == 0);
	CU_ASSERT(arc_adapter_create(c, keep_log, NULL, err, sizeof(err)) ==
	    NULL);
	CU_ASSERT(strstr(err, "trusted-sealers") != NULL);
	arc_adapter_free(ad);
	arc_conf_free(c);

	/* no trusted-sealers: no policy keys, no properties; the comment
	 * is still logged */
	snprintf(text, sizeof(text), "authserv-id mx.us.example\n"
	    "key-table %s\ndns no\n", table);
	CU_ASSERT_FATAL(write_file(path, text, 0644) == 0);
	c = arc_conf_load(path, err, sizeof(err));
	CU_ASSERT_FATAL(c != NULL);
	ad = arc_adapter_create(c, keep_log, NULL, err, sizeof(err));
	CU_ASSERT_FATAL(ad != NULL);
	ss = arc_session_create(ad, NULL);
	CU_ASSERT(arc_session_feed(ss, t, strlen(t)) == 0);
	CU_ASSERT(arc_session_wait(ss) == ARC_SESSION_DONE);
	a = arc_session_actions(ss);
	CU_ASSERT_STRING_EQUAL(a->trusted, "");
	CU_ASSERT(!a->override);
	CU_ASSERT(strstr(a->authres, "policy.arc") == NULL);
	CU_ASSERT(strstr(a->summary, "trusted=") == NULL);
	CU_ASSERT(strstr(a->summary, " dmarc-comment=\"arc=pass ") != NULL);
	arc_session_free(ss);
	arc_adapter_free(ad);
	arc_conf_free(c);
	free(t);
}

int
main(void)
{
	static const cunit_test tests[] = {
		{ "lists", test_lists },
		{ "trusted_oldest", test_trusted_oldest },
		{ "dkim_for_from", test_dkim_for_from },
		{ "local_dmarc", test_local_dmarc },
		{ "comment", test_comment },
		{ "hostile_bytes", test_hostile_bytes },
		{ "session", test_session },
		{ NULL, NULL }
	};

	return cunit_run("policy", setup, teardown, tests);
}
