/*
 * test_exim_arc.c - CUnit tests of the Exim dlfunc module
 * (adapters/exim/exim_arc.c) without Exim: this file provides the few
 * Exim symbols the module uses (header_list, message_id, log_write, ...)
 * and a spool -D file held open as Exim holds it, then calls arc_verify,
 * arc_seal and arc_result as ${dlfunc} would.  Sealed output is put
 * together as Exim would deliver it and validated with the core library.
 * Meant to run under ASan+UBSan too (make asan-check); the e2e test with
 * a real Exim is tests/e2e/exim.sh.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#define DLFUNC_IMPL
#include <exim4/local_scan.h>

#include "arc.h"
#include "cunit_run.h"
#include "exim_host.h"
#include "test_fixture.h"

int	arc_verify(uschar **, int, uschar *[]);
int	arc_seal(uschar **, int, uschar *[]);
int	arc_result(uschar **, int, uschar *[]);

/* ---- what Exim would provide: tests/exim_host.h ------------------------ */

/* ---- fixtures ------------------------------------------------------------ */

static char	 dir[] = "/tmp/arc-test-exim.XXXXXX";
static char	 keyfile[300], keytable[300], conf[300], conf_tf[300];
static int	 spoolfd = -1;
static char	*body_text;		/* the current message's body */
static char	 idbuf[64];		/* the current message_id */
static char	 C[320];		/* "conf=<conf>" */
static char	 C_TF[320];		/* the same, on-error tempfail */

static const char *MSG =
    "From: Alice <alice@origin.example>\n"
    "To: bob@list.example\n"
    "Subject: exim module test\n"
    "Date: Mon, 23 Nov 2026 09:00:00 +0000\n"
    "Message-ID: <exim-1@origin.example>\n"
    "\n"
    "Hello.\n"
    ".a line with a dot\n"
    "\n"
    "this body line is signed.\n";

static int
setup(void)
{
	char	 text[2048], path[300];

	if (fixture_keys(dir, keyfile, keytable, NULL) != 0)
		return -1;
	snprintf(conf, sizeof(conf), "%s/arc.conf", dir);
	snprintf(conf_tf, sizeof(conf_tf), "%s/arc-tempfail.conf", dir);
	snprintf(C, sizeof(C), "conf=%s", conf);
	snprintf(C_TF, sizeof(C_TF), "conf=%s", conf_tf);
	snprintf(path, sizeof(path), "%s/input", dir);
	mkdir(path, 0750);
	snprintf(text, sizeof(text), "authserv-id mx.test.example\n"
	    "key-table %s\ndns no\nseal-domain seal.example\n"
	    "seal-selector s1\nseal-key %s\n", keytable, keyfile);
	if (write_file(conf, text, 0644) != 0)
		return -1;
	strcat(text, "on-error tempfail\n");
	return write_file(conf_tf, text, 0644);
}

static void
free_headers(void)
{
	header_line *h, *n;

	for (h = header_list; h; h = n) {
		n = h->next;
		free(h->text);
		free(h);
	}
	header_list = header_last = NULL;
}

static int
teardown(void)
{
	free_headers();
	free(body_text);
	body_text = NULL;
	if (spoolfd != -1)
		close(spoolfd);
	exim_host_free();
	return fixture_remove(dir);
}

static void
add_header(const char *text, size_t n, int type)
{
	header_line *h = calloc(1, sizeof(*h));

	h->text = (uschar *)strndup(text, n);
	h->slen = (int)n;
	h->type = type;
	if (header_last)
		header_last->next = h;
	else
		header_list = h;
	header_last = h;
}

/*
 * "Receives" msg (LF text) as Exim would: a Received field first, the
 * header in header_list, the body in <dir>/input/<id>-D after its id
 * line, LF or CRLF, held open.  Fields named in deleted[] get type '*'.
 */
static void
receive(const char *id, const char *msg, int crlf, const char *deleted)
{
	const char	*p, *e, *body;
	char		 path[300], rcvd[256];
	FILE		*fp;
	int		 fd;

	free_headers();
	snprintf(rcvd, sizeof(rcvd), "Received: from client.example "
	    "([192.0.2.7])\n\tby mx.test.example with esmtp (Exim 4.96)\n"
	    "\tid %s\n\tfor bob@list.example;\n"
	    "\tMon, 23 Nov 2026 09:00:01 +0000\n", id);
	add_header(rcvd, strlen(rcvd), 'P');
	for (p = msg; *p && *p != '\n'; p = e) {
		/* one field: up to a line end not followed by WSP */
		for (e = p; *e; e++)
			if (*e == '\n' && e[1] != ' ' && e[1] != '\t') {
				e++;
				break;
			}
		add_header(p, (size_t)(e - p), deleted &&
		    strncasecmp(p, deleted, strlen(deleted)) == 0 ? '*' : ' ');
	}
	body = *p == '\n' ? p + 1 : p;
	free(body_text);
	body_text = strdup(body);
	if (spoolfd != -1)
		close(spoolfd);
	snprintf(path, sizeof(path), "%s/input/%s-D", dir, id);
	fp = fopen(path, "w");
	CU_ASSERT_FATAL(fp != NULL);
	fprintf(fp, "%s-D\n", id);
	for (p = body; *p; p++) {
		if (*p == '\n' && crlf)
			fputc('\r', fp);
		fputc(*p, fp);
	}
	fclose(fp);
	fd = open(path, O_RDWR);
	CU_ASSERT_FATAL(fd != -1);
	spoolfd = fd;
	snprintf(idbuf, sizeof(idbuf), "%s", id);
	message_id = (uschar *)idbuf;
	sender_host_address = (uschar *)"192.0.2.7";
}

/* Calls fn with the NULL-terminated arguments; *rc gets its status. */
static const char *
call(exim_dlfunc_t *fn, int *rc, ...)
{
	va_list	 ap;
	uschar	*argv[8], *yield = NULL;
	int	 argc = 0, r;
	char	*a;

	va_start(ap, rc);
	while ((a = va_arg(ap, char *)) != NULL && argc < 8)
		argv[argc++] = (uschar *)a;
	va_end(ap);
	r = fn(&yield, argc, argv);
	if (rc)
		*rc = r;
	return yield ? (const char *)yield : "(null)";
}

/*
 * The message as Exim delivers it after add_header with the seal's
 * yield: each ":at_start:" field on top, later ones higher.  Malloc'd.
 */
static char *
delivered(const char *yield)
{
	const char	*f[8], *p, *e;
	char		*out;
	size_t		 cap = strlen(yield) + strlen(body_text) + 8192;
	int		 n = 0;
	header_line	*h;

	for (p = yield; *p && n < 8; p = e) {
		CU_ASSERT(strncmp(p, ":at_start:", 10) == 0);
		f[n++] = p + 10;
		for (e = p + 1; *e; e++)
			if (e[-1] == '\n' && e[0] == ':')
				break;
	}
	out = calloc(1, cap);
	while (n-- > 0) {
		e = strstr(f[n], "\n:at_start:");
		strncat(out, f[n], e ? (size_t)(e - f[n] + 1) : strlen(f[n]));
	}
	for (h = header_list; h; h = h->next)
		if (h->type != '*')
			strcat(out, (char *)h->text);
	strcat(out, "\n");
	strcat(out, body_text);
	return out;
}

/* The chain's validation result for a whole message text. */
static arc_cv
validate(const char *msg)
{
	arc_lib	*lib = arc_lib_create();
	arc_msg	*m;
	arc_cv	 cv = ARC_CV_NONE;

	CU_ASSERT_FATAL(lib != NULL);
	CU_ASSERT(arc_lib_add_keytable(lib, keytable) == ARC_OK);
	m = arc_msg_create(lib, ARC_MSG_VERIFY);
	CU_ASSERT(arc_msg_feed(m, msg, strlen(msg)) == ARC_OK);
	if (arc_msg_eom(m) == ARC_OK)
		cv = arc_msg_cv(m);
	else
		CU_FAIL("arc_msg_eom");
	if (cv == ARC_CV_FAIL)
		fprintf(stderr, "\n  validate: %s\n", arc_msg_reason(m));
	arc_msg_free(m);
	arc_lib_free(lib);
	return cv;
}

static int
count(const char *hay, const char *needle)
{
	int	 n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

/* ---- tests ------------------------------------------------------------- */

static void
test_plain_seal(void)
{
	const char	*y;
	char		*m, *f1;
	int		 rc;

	exim_logbuf[0] = '\0';
	receive("1xTEST-00001-01", MSG, 0, NULL);
	y = call(arc_verify, &rc, C, NULL);
	CU_ASSERT_EQUAL(rc, OK);
	CU_ASSERT_STRING_EQUAL(y, "none");
	y = call(arc_seal, &rc, C, NULL);
	CU_ASSERT_EQUAL(rc, OK);
	/* bottom-up: A-R first, ARC-Seal last */
	CU_ASSERT(strncmp(y, ":at_start:Authentication-Results: "
	    "mx.test.example; arc=none", 50) == 0);
	f1 = strstr(y, "\n:at_start:ARC-Seal: ");
	CU_ASSERT_PTR_NOT_NULL(f1);
	CU_ASSERT_PTR_NOT_NULL(strstr(y,
	    "\n:at_start:ARC-Message-Signature: "));
	CU_ASSERT_PTR_NOT_NULL(strstr(y,
	    "\n:at_start:ARC-Authentication-Results: i=1;"));
	CU_ASSERT_PTR_NULL(strchr(y, '\r'));
	CU_ASSERT_EQUAL(count(y, ":at_start:"), 4);
	m = delivered(y);
	CU_ASSERT(strncmp(m, "ARC-Seal: i=1;", 14) == 0);
	CU_ASSERT_EQUAL(validate(m), ARC_CV_PASS);
	free(m);
	/* verify and seal shared one evaluation: one summary line */
	CU_ASSERT_EQUAL(count(exim_logbuf, "arc: id=1xTEST-00001-01 "), 1);
	CU_ASSERT_STRING_EQUAL(call(arc_result, NULL, "cv", NULL), "none");
	CU_ASSERT_STRING_EQUAL(call(arc_result, NULL, "sealed", NULL), "1");
	CU_ASSERT_STRING_EQUAL(call(arc_result, NULL, "oldest_pass", NULL),
	    "-1");
	CU_ASSERT_STRING_EQUAL(call(arc_result, NULL, "error", NULL), "no");
	CU_ASSERT_STRING_EQUAL(call(arc_result, NULL, "domains", NULL), "");
	y = call(arc_result, NULL, NULL);
	CU_ASSERT(strncmp(y, "cv=\"none\" oldest_pass=\"-1\" sealed=\"1\" "
	    "domains=\"\" reject=\"no\" error=\"no\"", 70) == 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(y, " authres=\"mx.test.example; "
	    "arc=none"));
	CU_ASSERT_EQUAL(count(exim_logbuf, "arc: id=1xTEST-00001-01 "), 1);
	/* an unknown item: logged, empty */
	CU_ASSERT_STRING_EQUAL(call(arc_result, &rc, "bogus", NULL), "");
	CU_ASSERT_EQUAL(rc, OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(exim_logbuf, "unknown item"));
}

/* A chain sealed here, then one more hop; LF and CRLF spools. */
static void
test_chain(void)
{
	const char	*y;
	char		*hop1, *hop2, *m, *t;
	int		 rc;

	receive("1xTEST-00002-01", MSG, 0, NULL);
	y = call(arc_seal, &rc, C, NULL);
	hop1 = delivered(y);
	for (int crlf = 0; crlf <= 1; crlf++) {
		receive(crlf ? "1xTEST-00002-03" : "1xTEST-00002-02", hop1,
		    crlf, NULL);
		y = call(arc_verify, &rc, C, "authserv-id=mx2.test.example",
		    NULL);
		CU_ASSERT_STRING_EQUAL(y, "pass");
		y = call(arc_seal, &rc, C, "authserv-id=mx2.test.example",
		    "domain=other.example", "selector=s2", NULL);
		CU_ASSERT_PTR_NOT_NULL(strstr(y, "ARC-Seal: i=2;"));
		CU_ASSERT_PTR_NOT_NULL(strstr(y, "d=other.example"));
		CU_ASSERT_PTR_NOT_NULL(strstr(y, "cv=pass"));
		hop2 = delivered(y);
		CU_ASSERT_EQUAL(validate(hop2), ARC_CV_PASS);
		CU_ASSERT_STRING_EQUAL(call(arc_result, NULL, "domains", NULL),
		    "seal.example");
		CU_ASSERT_STRING_EQUAL(call(arc_result, NULL, "oldest_pass",
		    NULL), "0");
		free(hop2);
	}
	/* tampered body: fail, and a cv=fail seal */
	m = strdup(hop1);
	t = strstr(m, "this body line is signed.");
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	t[5] = 'B';
	receive("1xTEST-00002-04", m, 0, NULL);
	CU_ASSERT_STRING_EQUAL(call(arc_verify, &rc, C, NULL), "fail");
	y = call(arc_seal, &rc, C, NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(y, "cv=fail"));
	CU_ASSERT_PTR_NOT_NULL(strstr(y, "Authentication-Results: "
	    "mx.test.example; arc=fail"));
	CU_ASSERT(strlen(call(arc_result, NULL, "reason", NULL)) > 0);
	free(m);
	free(hop1);
}

/* A broken arc.conf (or one naming a key that cannot be read) is said
 * in one line per process, not in one per dlfunc call (issue 13); the
 * messages pass, unsealed. */
static void
test_conf_once(void)
{
	char		 bad[sizeof(dir) + 32], cbad[sizeof(bad) + 8], id[32];
	char		 nokey[sizeof(dir) + 32], cnokey[sizeof(nokey) + 8];
	const char	*y;
	FILE		*f;
	int		 rc;

	snprintf(bad, sizeof(bad), "%s/bad.conf", dir);
	snprintf(nokey, sizeof(nokey), "%s/nokey.conf", dir);
	CU_ASSERT_FATAL((f = fopen(bad, "w")) != NULL);
	fprintf(f, "dns no\ndns-timeout 0\n");
	fclose(f);
	CU_ASSERT_FATAL((f = fopen(nokey, "w")) != NULL);
	fprintf(f, "dns no\nseal-domain s.example\nseal-selector s\n"
	    "seal-key %s/missing.pem\n", dir);
	fclose(f);
	snprintf(cbad, sizeof(cbad), "conf=%s", bad);
	snprintf(cnokey, sizeof(cnokey), "conf=%s", nokey);
	exim_logbuf[0] = '\0';
	for (int i = 0; i < 5; i++) {
		snprintf(id, sizeof(id), "1xTEST-00009-%02d", i);
		receive(id, MSG, 0, NULL);
		CU_ASSERT_STRING_EQUAL(call(arc_verify, &rc, cbad, NULL),
		    "error");
		CU_ASSERT_STRING_EQUAL(call(arc_seal, &rc, cbad, NULL), "");
		CU_ASSERT_EQUAL(rc, OK);
		CU_ASSERT_STRING_EQUAL(call(arc_verify, &rc, cnokey, NULL),
		    "error");
		y = call(arc_seal, &rc, cnokey, NULL);
		CU_ASSERT_STRING_EQUAL(y, "");
		CU_ASSERT_EQUAL(rc, OK);
		call(arc_result, &rc, "cv", cbad, NULL);
	}
	if (count(exim_logbuf, "\n") != 2)
		printf("\n%s", exim_logbuf);
	/* one line each, with file:line, the reason and the check */
	CU_ASSERT_EQUAL(count(exim_logbuf, "\n"), 2);
	CU_ASSERT_EQUAL(count(exim_logbuf, "bad.conf:2: invalid value \"0\" for "
	    "dns-timeout"), 1);
	CU_ASSERT_EQUAL(count(exim_logbuf, "nokey.conf:4: seal-key "), 1);
	CU_ASSERT_EQUAL(count(exim_logbuf, "missing.pem: No such file"), 1);
	CU_ASSERT_EQUAL(count(exim_logbuf, "arctool check-config --config "), 2);
}

static void
test_errors(void)
{
	const char	*y;
	int		 rc;

	/* before DATA: no message id */
	exim_logbuf[0] = '\0';
	receive("1xTEST-00003-01", MSG, 0, NULL);
	message_id = (uschar *)"";
	CU_ASSERT_STRING_EQUAL(call(arc_verify, &rc, C, NULL), "error");
	CU_ASSERT_EQUAL(rc, OK);
	CU_ASSERT_STRING_EQUAL(call(arc_seal, &rc, C, NULL), "");
	CU_ASSERT_EQUAL(rc, OK);
	CU_ASSERT_STRING_EQUAL(call(arc_result, &rc, "cv", NULL), "");
	CU_ASSERT_PTR_NOT_NULL(strstr(exim_logbuf, "no message yet"));
	message_id = NULL;
	CU_ASSERT_STRING_EQUAL(call(arc_verify, &rc, C, NULL), "error");

	/* the spool file not open in this process */
	receive("1xTEST-00003-02", MSG, 0, NULL);
	close(spoolfd);
	spoolfd = -1;
	CU_ASSERT_STRING_EQUAL(call(arc_verify, &rc, C, NULL), "error");
	CU_ASSERT_EQUAL(rc, OK);
	CU_ASSERT_PTR_NOT_NULL(strstr(exim_logbuf, "is not open in this process"));
	/* the adapter's error path: an A-R saying so, no seal */
	y = call(arc_seal, &rc, C, NULL);
	CU_ASSERT_EQUAL(rc, OK);
	CU_ASSERT(strncmp(y, ":at_start:Authentication-Results: "
	    "mx.test.example; arc=fail (internal", 60) == 0);
	CU_ASSERT_PTR_NULL(strstr(y, "ARC-Seal"));
	CU_ASSERT_STRING_EQUAL(call(arc_result, NULL, "error", NULL), "yes");

	/* bad options */
	receive("1xTEST-00003-03", MSG, 0, NULL);
	CU_ASSERT_STRING_EQUAL(call(arc_verify, &rc, C, "bogus=1", NULL),
	    "error");
	CU_ASSERT_STRING_EQUAL(call(arc_verify, &rc, C, "noequals", NULL),
	    "error");
	CU_ASSERT_STRING_EQUAL(call(arc_seal, &rc, C, "ar=maybe", NULL), "");
	CU_ASSERT_STRING_EQUAL(call(arc_verify, &rc, "conf=/nonexistent/arc",
	    NULL), "error");
	CU_ASSERT_PTR_NOT_NULL(strstr(exim_logbuf, "/nonexistent/arc"));

	/* an unusable sealing key costs the seal, not the verdict: the A-R
	 * tells the true result and no file path; the log says why */
	y = call(arc_seal, &rc, C, "key=/nonexistent/key.pem", NULL);
	CU_ASSERT_EQUAL(rc, OK);
	CU_ASSERT_PTR_NULL(strstr(y, "ARC-Seal"));
	CU_ASSERT_PTR_NOT_NULL(strstr(y, "arc=none"));
	CU_ASSERT_PTR_NULL(strstr(y, "nonexistent"));
	CU_ASSERT_PTR_NOT_NULL(strstr(exim_logbuf, "/nonexistent/key.pem"));
	CU_ASSERT_STRING_EQUAL(call(arc_verify, &rc, C, NULL), "none");
	/* with on-error tempfail: FAIL, the 451 as the message */
	y = call(arc_seal, &rc, C_TF, "key=/nonexistent/key.pem", NULL);
	CU_ASSERT_EQUAL(rc, FAIL);
	CU_ASSERT(strncmp(y, "451 ", 4) == 0);
}

static void
test_options(void)
{
	const char	*y;
	char		*m, *aar;
	int		 rc;

	/* authres=: a whole ${authresults} field, and a bare value */
	receive("1xTEST-00004-01", MSG, 0, NULL);
	y = call(arc_seal, &rc, C,
	    "authres=Authentication-Results: mx.test.example;\n"
	    "\tspf=pass smtp.mailfrom=origin.example;\n"
	    "\tiprev=pass smtp.remote-ip=192.0.2.7",
	    "authres=mx.test.example; x-test=pass", NULL);
	aar = strstr(y, "ARC-Authentication-Results:");
	CU_ASSERT_PTR_NOT_NULL_FATAL(aar);
	CU_ASSERT_PTR_NOT_NULL(strstr(aar, "spf=pass"));
	CU_ASSERT_PTR_NOT_NULL(strstr(aar, "x-test=pass"));
	m = delivered(y);
	CU_ASSERT_EQUAL(validate(m), ARC_CV_PASS);
	free(m);

	/* ar=no: no Authentication-Results in the yield */
	y = call(arc_seal, &rc, C, "ar=no", NULL);
	CU_ASSERT_PTR_NULL(strstr(y, "\nAuthentication-Results"));
	CU_ASSERT(strncmp(y, ":at_start:ARC-Authentication-Results:", 37)
	    == 0);
	CU_ASSERT_EQUAL(count(y, ":at_start:"), 3);

	/* a forged A-R of our authserv-id stays out of the AAR: Exim's
	 * results come as authres=, so the module copies none from the
	 * message (aar-from-message defaults to no here); with
	 * aar-from-message yes it goes in unless Exim marked it deleted
	 * (remove_header in an earlier ACL) */
	m = malloc(strlen(MSG) + 128);
	strcpy(m, "Authentication-Results: mx.test.example; dkim=pass "
	    "header.d=forged.example\n");
	strcat(m, MSG);
	receive("1xTEST-00004-02", m, 0, NULL);
	y = call(arc_seal, &rc, C, NULL);
	CU_ASSERT_PTR_NULL(strstr(y, "forged.example"));
	CU_ASSERT_PTR_NOT_NULL(strstr(y, "ARC-Authentication-Results: i=1"));
	{
		char	 path[300], cy[320], t[2048];

		/* setup()'s configuration, aar-from-message yes */
		snprintf(path, sizeof(path), "%s/arc-aarmsg.conf", dir);
		snprintf(t, sizeof(t), "authserv-id mx.test.example\n"
		    "key-table %s\ndns no\nseal-domain seal.example\n"
		    "seal-selector s1\nseal-key %s\naar-from-message yes\n",
		    keytable, keyfile);
		CU_ASSERT_EQUAL_FATAL(write_file(path, t, 0644), 0);
		snprintf(cy, sizeof(cy), "conf=%s", path);
		receive("1xTEST-00004-05", m, 0, NULL);
		y = call(arc_seal, &rc, cy, NULL);
		CU_ASSERT_PTR_NOT_NULL(strstr(y, "header.d=forged.example"));
		receive("1xTEST-00004-03", m, 0, "Authentication-Results:");
		y = call(arc_seal, &rc, cy, NULL);
		CU_ASSERT_PTR_NULL(strstr(y, "forged.example"));
	}
	free(m);

	/* a hostile d=: no line break reaches the ACL */
	m = malloc(strlen(MSG) + 256);
	strcpy(m, "ARC-Seal: i=1; cv=none; d=evil.example\n"
	    "\tX-Injected: yes; s=x; b=AAAA\n");
	strcat(m, MSG);
	receive("1xTEST-00004-04", m, 0, NULL);
	CU_ASSERT_STRING_EQUAL(call(arc_verify, &rc, C, NULL), "fail");
	y = call(arc_result, NULL, "domains", NULL);
	CU_ASSERT_PTR_NULL(strchr(y, '\n'));
	y = call(arc_result, NULL, "reason", NULL);
	CU_ASSERT_PTR_NULL(strchr(y, '\n'));
	y = call(arc_result, NULL, NULL);
	CU_ASSERT_PTR_NULL(strchr(y, '\n'));
	free(m);
}

/* Many messages in one process: state is replaced, never mixed up. */
static void
test_many(void)
{
	char		 id[32];
	const char	*y;
	int		 rc;

	for (int i = 0; i < 30; i++) {
		snprintf(id, sizeof(id), "1xTEST-00005-%02d", i);
		receive(id, MSG, i % 2, NULL);
		CU_ASSERT_STRING_EQUAL(call(arc_verify, &rc, C, NULL), "none");
		y = call(arc_seal, &rc, C, NULL);
		CU_ASSERT_PTR_NOT_NULL(strstr(y, "ARC-Seal: i=1;"));
		/* five different option sets: more than the module keeps */
		for (int j = 0; j < 5; j++) {
			char aid[64];

			snprintf(aid, sizeof(aid),
			    "authserv-id=m%d.example", j);
			y = call(arc_seal, &rc, C, aid, NULL);
			CU_ASSERT_PTR_NOT_NULL(strstr(y, aid + 12));
		}
	}
}

/* Issue 12: a message with none of the fields the AMS signs was sealed
 * with an h= read from an unterminated buffer (heap bytes in the header,
 * an ASan abort); now h=from, printable, and the chain verifies. */
static void
test_no_signed_field(void)
{
	const char	*y, *p;
	char		*m;
	int		 rc;

	receive("1xTEST-00009-01", "X-Only: y\n\nbody\n", 0, NULL);
	y = call(arc_seal, &rc, C, NULL);
	CU_ASSERT_EQUAL(rc, OK);
	CU_ASSERT_EQUAL(count(y, ":at_start:"), 4);
	CU_ASSERT_PTR_NOT_NULL(strstr(y, " h=from;"));
	for (p = y; *p; p++)
		CU_ASSERT((*p >= 0x20 && *p < 0x7f) || *p == '\n' ||
		    *p == '\t');
	m = delivered(y);
	CU_ASSERT_EQUAL(validate(m), ARC_CV_PASS);
	free(m);
}

/* Receiver policy items: trusted, trusted_i, override, policy and the
 * RFC 8617 §7.2.2 comment, with and without our own dmarc result. */
static void
test_policy_items(void)
{
	const char	*y;
	char		*hop1, text[2048], path[300], cp[320];
	int		 rc;

	snprintf(path, sizeof(path), "%s/arc-policy.conf", dir);
	snprintf(text, sizeof(text), "authserv-id mx.test.example\n"
	    "key-table %s\ndns no\ntrusted-sealers seal.example\n", keytable);
	CU_ASSERT_FATAL(write_file(path, text, 0644) == 0);
	snprintf(cp, sizeof(cp), "conf=%s", path);

	/* hop 1 (seal.example) saw the author's DMARC pass */
	receive("1xTEST-00007-01", MSG, 0, NULL);
	y = call(arc_seal, &rc, C, "authres=mx.test.example; dkim=pass "
	    "header.d=origin.example; dmarc=pass header.from=origin.example",
	    NULL);
	hop1 = delivered(y);

	receive("1xTEST-00007-02", hop1, 0, NULL);
	CU_ASSERT_STRING_EQUAL(call(arc_verify, &rc, cp,
	    "authserv-id=mx2.test.example", NULL), "pass");
	CU_ASSERT_STRING_EQUAL(call(arc_result, NULL, "trusted", cp,
	    "authserv-id=mx2.test.example", NULL), "seal.example");
	CU_ASSERT_STRING_EQUAL(call(arc_result, NULL, "trusted_i", cp,
	    "authserv-id=mx2.test.example", NULL), "1");
	CU_ASSERT_STRING_EQUAL(call(arc_result, NULL, "override", cp,
	    "authserv-id=mx2.test.example", NULL), "yes");
	CU_ASSERT_STRING_EQUAL(call(arc_result, NULL, "policy", cp,
	    "authserv-id=mx2.test.example", NULL), "trusted sealer "
	    "seal.example at i=1 recorded dmarc=pass; local dmarc=unknown: "
	    "may be overridden");
	CU_ASSERT_STRING_EQUAL(call(arc_result, NULL, "dmarc-comment", cp,
	    "authserv-id=mx2.test.example", NULL), "arc=pass "
	    "as[1].d=seal.example as[1].s=s1 remote-ip[1]=192.0.2.7");
	y = call(arc_result, NULL, cp, "authserv-id=mx2.test.example", NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(y, " trusted=\"seal.example\" "
	    "trusted_i=\"1\" override=\"yes\" policy=\"trusted sealer"));
	CU_ASSERT_PTR_NOT_NULL(strstr(y, " dmarc_comment=\"arc=pass "));
	y = call(arc_result, NULL, "authres", cp,
	    "authserv-id=mx2.test.example", NULL);
	CU_ASSERT_PTR_NOT_NULL(strstr(y, "policy.arc-trusted=seal.example "
	    "policy.arc-override=yes"));

	/* our own DMARC said pass (the ACL hands it over): no override */
	receive("1xTEST-00007-03", hop1, 0, NULL);
	CU_ASSERT_STRING_EQUAL(call(arc_result, NULL, "override", cp,
	    "authserv-id=mx2.test.example", "authres=mx2.test.example; "
	    "dmarc=pass header.from=origin.example", NULL), "no");
	CU_ASSERT_STRING_EQUAL(call(arc_result, NULL, "trusted", cp,
	    "authserv-id=mx2.test.example", "authres=mx2.test.example; "
	    "dmarc=pass header.from=origin.example", NULL), "seal.example");
	/* ... and said fail: override */
	receive("1xTEST-00007-04", hop1, 0, NULL);
	CU_ASSERT_STRING_EQUAL(call(arc_result, NULL, "override", cp,
	    "authserv-id=mx2.test.example", "authres=mx2.test.example; "
	    "dmarc=fail header.from=origin.example", NULL), "yes");

	/* no trusted-sealers: nothing trusted, the comment all the same */
	receive("1xTEST-00007-05", hop1, 0, NULL);
	CU_ASSERT_STRING_EQUAL(call(arc_result, NULL, "trusted", C,
	    "authserv-id=mx2.test.example", NULL), "");
	CU_ASSERT_STRING_EQUAL(call(arc_result, NULL, "override", C,
	    "authserv-id=mx2.test.example", NULL), "no");
	CU_ASSERT_STRING_EQUAL(call(arc_result, NULL, "dmarc_comment", C,
	    "authserv-id=mx2.test.example", NULL), "arc=pass "
	    "as[1].d=seal.example as[1].s=s1 remote-ip[1]=192.0.2.7");
	free(hop1);
}

int
main(void)
{
	static const cunit_test tests[] = {
		{ "no_signed_field", test_no_signed_field },
		{ "plain_seal", test_plain_seal },
		{ "chain", test_chain },
		{ "errors", test_errors },
		{ "conf_once", test_conf_once },
		{ "options", test_options },
		{ "many", test_many },
		{ "policy_items", test_policy_items },
		{ NULL, NULL }
	};

	return cunit_run("exim_arc", setup, teardown, tests);
}
