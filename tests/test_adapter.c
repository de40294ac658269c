/*
 * test_adapter.c - CUnit tests of the adapter layer (adapters/arc_adapter.c):
 * arc.conf parsing and errors, the actions a session yields (field order,
 * A-R, seal, reject, pass-through on internal errors), the recipient
 * pattern, per-message sealing identities and the key-permission check.
 * Keys are generated here; public keys are served from a key table file.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cunit_run.h"
#include "test_fixture.h"

#include "arc_adapter.h"

static char	 dir[] = "/tmp/arc-test-adapter.XXXXXX";
static char	 keyfile[300], keytable[300], pubkeyfile[300];

static const char *MSG =
    "From: Alice <alice@origin.example>\r\n"
    "To: bob@list.example\r\n"
    "Subject: adapter test\r\n"
    "Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n"
    "Message-ID: <adapter-1@origin.example>\r\n"
    "Authentication-Results: mx.test.example; spf=pass "
    "smtp.mailfrom=origin.example\r\n"
    "Authentication-Results: other.example; dkim=fail\r\n"
    "\r\n"
    "Hello.\r\n";

static int
setup(void)
{
	if (fixture_keys(dir, keyfile, keytable, "open.pem") != 0)
		return -1;
	/* the same key, but readable by everyone */
	snprintf(pubkeyfile, sizeof(pubkeyfile), "%s/open.pem", dir);
	return 0;
}

static int
teardown(void)
{
	return fixture_remove(dir);
}

/* A configuration from lines of text; NULL on error (err filled). */
static arc_conf *
conf_from(const char *text, char *err, size_t errlen)
{
	char	 path[300];

	snprintf(path, sizeof(path), "%s/arc.conf", dir);
	CU_ASSERT_FATAL(write_file(path, text, 0644) == 0);
	return arc_conf_load(path, err, errlen);
}

static arc_conf *
seal_conf(const char *extra)
{
	char		 text[2048], err[512];
	arc_conf	*c;

	snprintf(text, sizeof(text), "authserv-id mx.test.example\n"
	    "key-table %s\ndns no\nseal-domain seal.example\n"
	    "seal-selector s1\nseal-key %s\nlog-level info\n%s", keytable,
	    keyfile, extra ? extra : "");
	c = conf_from(text, err, sizeof(err));
	if (c == NULL)
		fprintf(stderr, "conf: %s\n", err);
	return c;
}

/* Runs MSG (or msg) through a session; returns the actions. */
static const arc_actions *
run(arc_session *ss, const char *msg)
{
	CU_ASSERT_EQUAL(arc_session_feed(ss, msg, strlen(msg)), 0);
	CU_ASSERT_EQUAL(arc_session_wait(ss), ARC_SESSION_DONE);
	return arc_session_actions(ss);
}

static void
test_conf_errors(void)
{
	char		 err[512];
	arc_conf	*c;

	c = conf_from("no-such-option 1\n", err, sizeof(err));
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ":1: unknown option"));
	c = conf_from("# comment\n\ndns maybe\n", err, sizeof(err));
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ":3: invalid value \"maybe\""));
	c = conf_from("on-fail bounce\n", err, sizeof(err));
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "accept|reject"));
	c = conf_from("dns-timeout 5s\n", err, sizeof(err));
	CU_ASSERT_PTR_NULL(c);
	c = conf_from("authserv-id\n", err, sizeof(err));
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "has no value"));
	/* control bytes would reach logs and errors (found by fuzz_conf) */
	c = conf_from("dns no\nseal-key /k\x1d\x1b[2J.pem\n", err, sizeof(err));
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ":2: byte 0x1d: arc.conf takes"));
	/* nor 8-bit ones, which an error would echo (found by fuzz_conf) */
	c = conf_from("\x86seal yes\n", err, sizeof(err));
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, ":1: byte 0x86: arc.conf takes"));
	c = arc_conf_load("/nonexistent/arc.conf", err, sizeof(err));
	CU_ASSERT_PTR_NULL(c);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "No such file"));
}

/* Every "num" option is range-checked where it is read, so that no
 * reader computes with a number it has not checked (issue 13). */
static void
test_conf_ranges(void)
{
	static const struct { const char *line, *want; } bad[] = {
		{ "dns-timeout 0\n", "dns-timeout (a number from 1 to 300000)" },
		{ "dns-timeout 300001\n", "(a number from 1 to 300000)" },
		{ "message-timeout 999999999\n", "from 1 to 3600000" },
		{ "message-timeout 0\n", "from 1 to 3600000" },
		{ "max-sets 51\n", "from 1 to 50" },
		{ "max-header-fields 0\n", "from 1 to 100000" },
		{ "max-field-bytes 10\n", "from 1024 to 16777216" },
		{ "min-rsa-bits 100\n", "from 512 to 16384" },
		{ "dns-negative-ttl 86401\n", "from 0 to 86400" },
		{ "dns-timeout 99999999999\n", "invalid value" },
		{ "dns-timeout -1\n", "invalid value" },
	};
	char		 err[512];
	arc_conf	*c;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		c = conf_from(bad[i].line, err, sizeof(err));
		CU_ASSERT_PTR_NULL(c);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, ":1: "));
		CU_ASSERT_PTR_NOT_NULL(strstr(err, bad[i].want));
		arc_conf_free(c);
	}
	c = conf_from("dns-timeout 300000\nmessage-timeout 1\n"
	    "dns-negative-ttl 0\nmax-sets 50\n", err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(c);
	arc_conf_free(c);
}

/* One quoting for every log value: plain, quoted, escaped, cleaned. */
static void
test_log_value(void)
{
	char	 b[64], small[8];

	CU_ASSERT_STRING_EQUAL(arc_log_value("QID123", b, sizeof(b)),
	    "QID123");
	CU_ASSERT_STRING_EQUAL(arc_log_value("body hash did not verify", b,
	    sizeof(b)), "\"body hash did not verify\"");
	CU_ASSERT_STRING_EQUAL(arc_log_value("", b, sizeof(b)), "\"\"");
	CU_ASSERT_STRING_EQUAL(arc_log_value("a=b", b, sizeof(b)),
	    "\"a=b\"");
	CU_ASSERT_STRING_EQUAL(arc_log_value("say \"hi\" \\ x", b,
	    sizeof(b)), "\"say \\\"hi\\\" \\\\ x\"");
	CU_ASSERT_STRING_EQUAL(arc_log_value("a\nb\x1b\xc2\xa7", b,
	    sizeof(b)), "\"a?b???\"");
	/* truncated, still closed */
	CU_ASSERT_STRING_EQUAL(arc_log_value("a b c d e f", small,
	    sizeof(small)), "\"a b c\"");
	CU_ASSERT_STRING_EQUAL(arc_log_value("\"\"\"\"", small,
	    sizeof(small)), "\"\\\"\\\"\"");
}

static void
test_conf_values(void)
{
	char		 err[512];
	arc_conf	*c;

	c = conf_from("authserv-id = \"mx.example.org\"\n"
	    "key-table /a\nkey-table /b\n", err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_STRING_EQUAL(arc_conf_get(c, "authserv-id"),
	    "mx.example.org");
	CU_ASSERT_STRING_EQUAL(arc_conf_get(c, "key-table"), "/a\n/b");
	CU_ASSERT_STRING_EQUAL(arc_conf_get(c, "on-fail"), "accept");
	CU_ASSERT_PTR_NULL(arc_conf_get(c, "seal-domain"));
	CU_ASSERT_PTR_NULL(arc_conf_get(c, "bogus"));
	CU_ASSERT_EQUAL(arc_conf_set(c, "on-fail", "reject", err,
	    sizeof(err)), 0);
	CU_ASSERT_STRING_EQUAL(arc_conf_get(c, "on-fail"), "reject");
	arc_conf_free(c);
}

static void
test_adapter_errors(void)
{
	char		 err[512], text[1024];
	arc_conf	*c;
	arc_adapter	*ad;

	/* half a sealing identity */
	c = conf_from("dns no\nseal-domain a.example\n", err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	ad = arc_adapter_create(c, NULL, NULL, err, sizeof(err));
	CU_ASSERT_PTR_NULL(ad);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "all of seal-domain"));
	arc_conf_free(c);
	/* a key everyone can read */
	snprintf(text, sizeof(text), "dns no\nseal-domain a.example\n"
	    "seal-selector s\nseal-key %s\n", pubkeyfile);
	c = conf_from(text, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	ad = arc_adapter_create(c, NULL, NULL, err, sizeof(err));
	CU_ASSERT_PTR_NULL(ad);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "readable by everyone"));
	/* ... unless the operator says so */
	CU_ASSERT_EQUAL(arc_conf_set(c, "allow-world-readable-key", "yes",
	    err, sizeof(err)), 0);
	ad = arc_adapter_create(c, NULL, NULL, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(ad);
	arc_adapter_free(ad);
	arc_conf_free(c);
	/* a bad pattern */
	c = conf_from("dns no\nseal-recipients (unclosed\n", err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	ad = arc_adapter_create(c, NULL, NULL, err, sizeof(err));
	CU_ASSERT_PTR_NULL(ad);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "seal-recipients"));
	arc_conf_free(c);
	/* a missing key table */
	c = conf_from("dns no\nkey-table /nonexistent/keys\n", err,
	    sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	ad = arc_adapter_create(c, NULL, NULL, err, sizeof(err));
	CU_ASSERT_PTR_NULL(ad);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "key-table"));
	arc_conf_free(c);
}

static int	 logged;
static char	 last_log[1024];

static void
log_capture(void *arg, int level, const char *line)
{
	(void)arg;
	(void)level;
	logged++;
	snprintf(last_log, sizeof(last_log), "%s", line);
}

/* Plain message: A-R arc=none, a seal i=1 on top in the right order,
 * the AAR made of our A-R first, then the message's own of our id. */
static void
test_seal_actions(void)
{
	arc_conf		*c = seal_conf(NULL);
	arc_adapter		*ad;
	arc_session		*ss, *ss2;
	arc_session_params	 p = { 0 };
	const arc_actions	*a;
	char			 err[512], *sealed;
	size_t			 n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	ad = arc_adapter_create(c, log_capture, NULL, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(ad);
	p.id = "Q1";
	p.client_ip = "192.0.2.7";
	p.seal = -1;
	ss = arc_session_create(ad, &p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ss);
	a = run(ss, MSG);
	CU_ASSERT_EQUAL(a->cv, ARC_CV_NONE);
	CU_ASSERT_EQUAL(a->sealed, 1);
	CU_ASSERT_FALSE(a->error || a->reject || a->tempfail);
	CU_ASSERT_EQUAL_FATAL(a->nfields, 4);
	CU_ASSERT_EQUAL(strncmp(a->fields[0], "ARC-Seal: i=1;", 14), 0);
	CU_ASSERT_EQUAL(strncmp(a->fields[1], "ARC-Message-Signature: i=1;",
	    27), 0);
	CU_ASSERT_EQUAL(strncmp(a->fields[2],
	    "ARC-Authentication-Results: i=1; mx.test.example;", 49), 0);
	CU_ASSERT_EQUAL(strncmp(a->fields[3], "Authentication-Results: "
	    "mx.test.example; arc=none smtp.remote-ip=192.0.2.7", 74), 0);
	/* our result leads the AAR, the message's own of our id follows,
	 * the foreign one is left out */
	CU_ASSERT_PTR_NOT_NULL(strstr(a->fields[2], "arc=none"));
	CU_ASSERT_PTR_NOT_NULL(strstr(a->fields[2], "spf=pass"));
	CU_ASSERT_PTR_NULL(strstr(a->fields[2], "dkim=fail"));
	CU_ASSERT(strstr(a->fields[2], "arc=none") <
	    strstr(a->fields[2], "spf=pass"));
	CU_ASSERT_STRING_EQUAL(a->authres,
	    "mx.test.example; arc=none smtp.remote-ip=192.0.2.7");
	CU_ASSERT_PTR_NOT_NULL(strstr(last_log, "id=Q1 cv=none"));
	CU_ASSERT_PTR_NOT_NULL(strstr(last_log, "sealed=i1"));

	/* the sealed message verifies pass at the next hop and gets i=2 */
	n = strlen(a->fields[0]) + strlen(a->fields[1]) +
	    strlen(a->fields[2]) + strlen(a->fields[3]) + strlen(MSG) + 1;
	sealed = malloc(n);
	snprintf(sealed, n, "%s%s%s%s%s", a->fields[0], a->fields[1],
	    a->fields[2], a->fields[3], MSG);
	p.id = "Q2";
	ss2 = arc_session_create(ad, &p);
	a = run(ss2, sealed);
	CU_ASSERT_EQUAL(a->cv, ARC_CV_PASS);
	CU_ASSERT_EQUAL(a->oldest_pass, 0);
	CU_ASSERT_EQUAL(a->sealed, 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(a->authres, "arc=pass (i=1 "
	    "d=seal.example) header.oldest-pass=0"));
	arc_session_free(ss2);
	free(sealed);
	arc_session_free(ss);
	arc_adapter_free(ad);
	arc_conf_free(c);
}

/* A broken chain: fail, the §5.1.2 seal; with on-fail reject, a 5.7.29
 * rejection and nothing added. */
static void
test_fail_and_reject(void)
{
	static const char *broken =
	    "ARC-Seal: i=1; a=rsa-sha256; d=seal.example; s=s1; cv=none; "
	    "b=AAAA\r\n"
	    "ARC-Message-Signature: i=1; a=rsa-sha256; d=seal.example; "
	    "s=s1; h=from; bh=AAAA; b=AAAA\r\n"
	    "ARC-Authentication-Results: i=1; x.example; none\r\n"
	    "From: a@b.example\r\n\r\nbody\r\n";
	arc_conf		*c = seal_conf(NULL);
	arc_adapter		*ad;
	arc_session		*ss;
	const arc_actions	*a;
	char			 err[512];

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	ad = arc_adapter_create(c, log_capture, NULL, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(ad);
	ss = arc_session_create(ad, NULL);
	a = run(ss, broken);
	CU_ASSERT_EQUAL(a->cv, ARC_CV_FAIL);
	CU_ASSERT_EQUAL(a->sealed, 2);
	CU_ASSERT_FALSE(a->reject);
	CU_ASSERT_PTR_NOT_NULL(strstr(a->fields[0], "cv=fail"));
	CU_ASSERT_PTR_NOT_NULL(strstr(a->authres, "arc=fail ("));
	arc_session_free(ss);
	arc_adapter_free(ad);

	CU_ASSERT_EQUAL(arc_conf_set(c, "on-fail", "reject", err, sizeof(err)),
	    0);
	ad = arc_adapter_create(c, log_capture, NULL, err, sizeof(err));
	ss = arc_session_create(ad, NULL);
	a = run(ss, broken);
	CU_ASSERT_TRUE(a->reject);
	CU_ASSERT_STRING_EQUAL(a->smtp_reply,
	    "550 5.7.29 ARC validation failure");
	CU_ASSERT_EQUAL(a->nfields, 0);
	arc_session_free(ss);
	/* a passing message is not rejected */
	ss = arc_session_create(ad, NULL);
	a = run(ss, MSG);
	CU_ASSERT_FALSE(a->reject);
	arc_session_free(ss);
	arc_adapter_free(ad);
	arc_conf_free(c);
}

/* Internal error: pass the message on, A-R says so, no seal; with
 * on-error tempfail, a 451. */
static void
test_internal_error(void)
{
	arc_conf		*c = seal_conf(NULL);
	arc_adapter		*ad;
	arc_session		*ss;
	const arc_actions	*a;
	char			 err[512];

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	ad = arc_adapter_create(c, log_capture, NULL, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(ad);
	ss = arc_session_create(ad, NULL);
	/* body before end of headers is misuse: an internal error */
	CU_ASSERT_EQUAL(arc_session_body(ss, "x", 1), -1);
	a = arc_session_actions(ss);
	CU_ASSERT_TRUE(a->error);
	CU_ASSERT_FALSE(a->tempfail);
	CU_ASSERT_EQUAL(a->sealed, 0);
	CU_ASSERT_EQUAL_FATAL(a->nfields, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(a->fields[0], "arc=fail (internal "
	    "error:"));
	CU_ASSERT_PTR_NOT_NULL(strstr(last_log, " error=internal"));
	arc_session_free(ss);
	arc_adapter_free(ad);

	CU_ASSERT_EQUAL(arc_conf_set(c, "on-error", "tempfail", err,
	    sizeof(err)), 0);
	ad = arc_adapter_create(c, log_capture, NULL, err, sizeof(err));
	ss = arc_session_create(ad, NULL);
	arc_session_body(ss, "x", 1);
	a = arc_session_actions(ss);
	CU_ASSERT_TRUE(a->tempfail);
	CU_ASSERT_EQUAL(strncmp(a->smtp_reply, "451 4.3.0", 9), 0);
	arc_session_free(ss);
	arc_adapter_free(ad);
	arc_conf_free(c);
}

/* seal-recipients: only a matching recipient gets a seal; explicit seal
 * overrides; per-message identities. */
static void
test_policy(void)
{
	arc_conf		*c = seal_conf("seal-recipients "
	    "@list\\.example$\n");
	arc_adapter		*ad;
	arc_session		*ss;
	arc_session_params	 p = { 0 };
	const arc_actions	*a;
	char			 err[512];

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	ad = arc_adapter_create(c, log_capture, NULL, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(ad);
	p.seal = -1;
	ss = arc_session_create(ad, &p);
	arc_session_rcpt(ss, "carol@elsewhere.example");
	a = run(ss, MSG);
	CU_ASSERT_EQUAL(a->sealed, 0);
	CU_ASSERT_EQUAL(a->nfields, 1);
	arc_session_free(ss);

	ss = arc_session_create(ad, &p);
	arc_session_rcpt(ss, "carol@elsewhere.example");
	arc_session_rcpt(ss, "BOB@LIST.EXAMPLE");
	a = run(ss, MSG);
	CU_ASSERT_EQUAL(a->sealed, 1);
	arc_session_free(ss);

	p.seal = 0;
	ss = arc_session_create(ad, &p);
	arc_session_rcpt(ss, "bob@list.example");
	a = run(ss, MSG);
	CU_ASSERT_EQUAL(a->sealed, 0);
	arc_session_free(ss);

	/* a per-message identity (Exim ACL arguments) */
	p.seal = 1;
	p.seal_domain = "other.example";
	p.seal_selector = "s2";
	ss = arc_session_create(ad, &p);
	a = run(ss, MSG);
	CU_ASSERT_EQUAL(a->sealed, 1);
	CU_ASSERT_PTR_NOT_NULL(strstr(a->fields[0], "d=other.example"));
	arc_session_free(ss);
	/* a broken override costs the seal, not the verdict, and the
	 * key's path stays out of the message (it goes to the log) */
	p.seal_key = "/nonexistent/key.pem";
	logged = 0;
	ss = arc_session_create(ad, &p);
	a = run(ss, MSG);
	CU_ASSERT_FALSE(a->error);
	CU_ASSERT_EQUAL(a->cv, ARC_CV_NONE);
	CU_ASSERT_EQUAL(a->sealed, 0);
	CU_ASSERT_EQUAL_FATAL(a->nfields, 1);
	CU_ASSERT_PTR_NULL(strstr(a->fields[0], "nonexistent"));
	CU_ASSERT_STRING_EQUAL(a->reason, "sealing key unusable");
	CU_ASSERT_TRUE(logged >= 2);
	CU_ASSERT_PTR_NOT_NULL(strstr(last_log,
	    "reason=\"sealing key unusable\""));
	CU_ASSERT_FALSE(a->tempfail);
	arc_session_free(ss);
	arc_adapter_free(ad);
	arc_conf_free(c);
}

static void
test_field_lines(void)
{
	char	*s;

	s = arc_field_lines("A: b\r\n\tc\r\n", 0, NULL);
	CU_ASSERT_STRING_EQUAL(s, "A: b\n\tc\n");
	free(s);
	s = arc_field_lines("A: b\r\n\tc\r\n", 1, ":at_start:");
	CU_ASSERT_STRING_EQUAL(s, ":at_start:A: b\r\n:at_start:\tc\r\n");
	free(s);
}

int
main(void)
{
	static const cunit_test tests[] = {
		{ "conf_errors", test_conf_errors },
		{ "conf_values", test_conf_values },
		{ "conf_ranges", test_conf_ranges },
		{ "log_value", test_log_value },
		{ "adapter_errors", test_adapter_errors },
		{ "seal_actions", test_seal_actions },
		{ "fail_and_reject", test_fail_and_reject },
		{ "internal_error", test_internal_error },
		{ "policy", test_policy },
		{ "field_lines", test_field_lines },
		{ NULL, NULL }
	};

	return cunit_run("adapter", setup, teardown, tests);
}
