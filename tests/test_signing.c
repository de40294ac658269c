/*
 * test_signing.c - CUnit tests of many sealing identities: the key table
 * and signing table parsers (every bad line an error with file:line),
 * the selection order (first match wins across hashed, wildcard and
 * regex lines), the From / List-Id / envelope tokenizers, the choice an
 * adapter session makes for each seal-select key (each sealed message
 * verified by a second session), and a reload that adds a domain.
 * Real keys are generated here; their public halves are served from a
 * key table file.
 */
#include <sys/stat.h>

#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cunit_run.h"
#include "test_fixture.h"

#include "arc_adapter.h"
#include "arc_mailaddr.h"
#include "arc_reload.h"
#include "arc_signing.h"

static char	 dir[] = "/tmp/arc-test-signing.XXXXXX";
static char	 path_kt[300], path_st[300], path_pub[300], path_conf[300];

static const char *const DOMS[] = { "one.example", "two.example",
    "three.example", "four.example" };

/* ---- fixture ------------------------------------------------------------ */

/* write_file(), fixture_keys(), fixture_remove(): test_fixture.h */

static char *
path_in(const char *name)
{
	static char	 p[8][300];
	static int	 i;

	i = (i + 1) % 8;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

/* A key file and its DNS record value for the public key table. */
static int
make_key(const char *file, const char *type, char *rec, size_t reclen)
{
	EVP_PKEY	*k;
	unsigned char	*der = NULL, raw[32];
	char		 b64[1024];
	size_t		 rl = sizeof(raw);
	FILE		*fp;
	BIO		*bio;
	int		 n, ok;

	if (strncmp(type, "rsa", 3) == 0)
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	else
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (k == NULL || (fp = fopen(file, "w")) == NULL)
		return -1;
	fclose(fp);
	if ((bio = BIO_new_file(file, "w")) == NULL)
		return -1;
	/* "rsa1": PKCS#1 ("BEGIN RSA PRIVATE KEY"), as openssl genrsa
	 * -traditional writes; the others PKCS#8 */
	ok = strcmp(type, "rsa1") == 0 ? PEM_write_bio_PrivateKey_traditional(
	    bio, k, NULL, NULL, 0, NULL, NULL) : PEM_write_bio_PrivateKey(bio,
	    k, NULL, NULL, 0, NULL, NULL);
	if (BIO_free(bio) != 1 || !ok || chmod(file, 0600) != 0)
		return -1;
	if (strncmp(type, "rsa", 3) == 0) {
		if ((n = i2d_PUBKEY(k, &der)) <= 0 || n > 700)
			return -1;
		EVP_EncodeBlock((unsigned char *)b64, der, n);
		OPENSSL_free(der);
	} else {
		if (EVP_PKEY_get_raw_public_key(k, raw, &rl) != 1)
			return -1;
		EVP_EncodeBlock((unsigned char *)b64, raw, (int)rl);
	}
	EVP_PKEY_free(k);
	snprintf(rec, reclen, "v=DKIM1; k=%s; p=%s", strncmp(type, "rsa", 3) ?
	    type : "rsa", b64);
	return 0;
}

static const char *ST_BASE =
    "# which key seals what\n"
    "*@one.example\tone\n"
    "*.two.example\ttwo-ed\n"
    "two.example\ttwo\n"
    "\n"
    "/^list-.*@three\\.example$/ three\n"
    "*@three.example three\n";

static int
setup(void)
{
	char	 kt[4096] = "", pub[8192] = "", rec[1200], line[1500];
	char	 conf[2048], kf[300], pt[300];
	int	 i;

	/* the directory (and a key this file does not use) */
	if (fixture_keys(dir, kf, pt, NULL) != 0)
		return -1;
	for (i = 0; i < 4; i++) {
		const char *f = path_in(DOMS[i]);

		/* three.example's key in PKCS#1, the others PKCS#8 */
		if (make_key(f, i == 2 ? "rsa1" : "rsa", rec, sizeof(rec)) != 0)
			return -1;
		/* name "one" for one.example ... */
		snprintf(line, sizeof(line), "%.*s %s:s1:%s\n",
		    (int)strcspn(DOMS[i], "."), DOMS[i], DOMS[i], f);
		if (i < 3)
			strcat(kt, line);
		snprintf(line, sizeof(line), "s1._domainkey.%s %s\n", DOMS[i],
		    rec);
		strcat(pub, line);
	}
	if (make_key(path_in("two-ed.pem"), "ed25519", rec, sizeof(rec)) != 0)
		return -1;
	snprintf(line, sizeof(line), "two-ed two.example:ed:%s\n",
	    path_in("two-ed.pem"));
	strcat(kt, line);
	snprintf(line, sizeof(line), "ed._domainkey.two.example %s\n", rec);
	strcat(pub, line);
	snprintf(path_kt, sizeof(path_kt), "%s/KeyTable", dir);
	snprintf(path_st, sizeof(path_st), "%s/SigningTable", dir);
	snprintf(path_pub, sizeof(path_pub), "%s/public", dir);
	snprintf(path_conf, sizeof(path_conf), "%s/arc.conf", dir);
	snprintf(conf, sizeof(conf), "dns no\nkey-table %s\n"
	    "seal-key-table %s\nseal-signing-table %s\n"
	    "authserv-id mx.test.example\n", path_pub, path_kt, path_st);
	return write_file(path_kt, kt, 0644) || write_file(path_st, ST_BASE,
	    0644) || write_file(path_pub, pub, 0644) || write_file(path_conf,
	    conf, 0644) ? -1 : 0;
}

static int
teardown(void)
{
	return fixture_remove(dir);
}

/* ---- parsers ------------------------------------------------------------ */

static void
expect_error(const char *kt, const char *st, const char *want)
{
	char		 err[512] = "";
	arc_signing	*sg;

	sg = arc_signing_parse("kt", kt, strlen(kt), "st", st, strlen(st),
	    err, sizeof(err));
	CU_ASSERT_PTR_NULL(sg);
	if (strstr(err, want) == NULL)
		fprintf(stderr, "\n  want \"%s\", got \"%s\"\n", want, err);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, want));
	arc_signing_free(sg);
}

static void
test_keytable_errors(void)
{
	static const struct { const char *kt, *want; } c[] = {
		{ "k1\n", "kt:1: expected \"name domain:selector:keyfile\"" },
		{ "# c\nk1 a.example:s:/k extra\n", "kt:2: expected" },
		{ "k1 a.example\n", "kt:1: k1: the value must be domain:"
		    "selector:keyfile" },
		{ "k1 a.example:s\n", "kt:1: k1: the value must be" },
		{ "k1 %:s:/k\n", "kt:1: k1: domain \"%\"" },
		{ "\n\nk1 a..example:s:/k\n", "kt:3: k1: invalid domain "
		    "\"a..example\"" },
		{ "k1 a.example:s/x:/k\n", "kt:1: k1: invalid selector" },
		{ "k1 a.example::/k\n", "kt:1: k1: invalid selector" },
		{ "k1 a.example:s:\n", "kt:1: k1: no key file" },
		{ "k1 a.example:s:/k\n# c\nk1 b.example:s:/l\n",
		    "kt:3: key name \"k1\" already given at line 1" },
		{ "k1 a.example:s:/k\nk2 A.example:S:/l\n", "kt:2: k2: "
		    "s._domainkey.a.example already has key \"k1\" (line 1)" },
		{ "# only a comment\n\n", "kt: no key in the key table" },
		{ "k1 a.exa\001mple:s:/k\n", "kt:1: k1: invalid domain" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		expect_error(c[i].kt, "* k1\n", c[i].want);
	/* a NUL byte ends no line early: it is an error of its line */
	expect_error("k1 a.example:s:/k\nk2 b.exa\0mple:s:/l\n", "", "");
	{
		char		 err[256];
		const char	 t[] = "k1 a.example:s:/k\nk2 b\0c:s:/l\n";
		arc_signing	*sg = arc_signing_parse("kt", t, sizeof(t) - 1,
		    "st", "* k1\n", 5, err, sizeof(err));

		CU_ASSERT_PTR_NULL(sg);
		CU_ASSERT_STRING_EQUAL(err, "kt:2: NUL byte");
	}
}

static void
test_signtable_errors(void)
{
	static const char *kt = "k1 a.example:s:/k\nk2 b.example:s:/l\n";
	static const struct { const char *st, *want; } c[] = {
		{ "*@a.example\n", "st:1: expected \"pattern keyname\"" },
		{ "#\n*@a.example k1 k2\n", "st:2: expected \"pattern "
		    "keyname\" (one key per line" },
		{ "*@a.example k1,k2\n", "st:1: \"k1,k2\" names several keys" },
		{ "\n\n\n*@a.example nokey\n", "st:4: key \"nokey\" is not in "
		    "the key table kt" },
		{ "/ab(/ k1\n", "st:1: /ab(/: missing closing parenthesis at "
		    "offset 3" },
		{ "a@@b.example k1\n", "st:1: \"a@@b.example\" is neither" },
		{ "*@bad..example k1\n", "st:1: \"*@bad..example\" is neither" },
		{ "bad..example k1\n", "st:1: \"bad..example\" is neither" },
		{ "*.bad_-..x k1\n", "st:1: \"*.bad_-..x\" is neither" },
		{ "@a.example k1\n", "st:1: \"@a.example\" is neither" },
		{ "/ k1\n", "st:1: \"/\" is neither" },
		{ "user@ k1\n", "st:1: \"user@\" is neither" },
		{ "a\001b.example k1\n", "st:1: the pattern holds a byte" },
		{ "caf\303\251.example k1\n", "st:1: the pattern holds a byte" },
		{ "# nothing\n", "st: the signing table is empty" },
	};

	for (size_t i = 0; i < sizeof(c) / sizeof(c[0]); i++)
		expect_error(kt, c[i].st, c[i].want);
}

/* ---- selection ---------------------------------------------------------- */

static arc_signing *
tables(const char *st)
{
	static const char *kt = "k1 a.example:s:/k1\nk2 a.example:t:/k2\n"
	    "k3 b.example:s:/k3\nk4 c.example:s:/k4\n";
	char		 err[256];
	arc_signing	*sg = arc_signing_parse("kt", kt, strlen(kt), "st", st,
	    strlen(st), err, sizeof(err));

	if (sg == NULL)
		fprintf(stderr, "\n  %s\n", err);
	return sg;
}

/* The signing-table line that addr selects, 0 if none. */
static unsigned
line_of(const arc_signing *sg, const char *addr, const char *key)
{
	arc_signing_match	 m;

	if (!arc_signing_select(sg, addr, &m))
		return 0;
	if (key && strcmp(m.key->name, key) != 0) {
		fprintf(stderr, "\n  %s: key %s, want %s\n", addr, m.key->name,
		    key);
		return 9999;
	}
	return m.line;
}

static void
test_select_order(void)
{
	arc_signing *sg = tables(
	    "user@one.example k1\n"		/* 1 */
	    "*@one.example k2\n"		/* 2 */
	    "*.one.example k3\n"		/* 3 */
	    "one.example k4\n"			/* 4: same as 2, never wins */
	    "/^admin@/ k4\n"			/* 5 */
	    "*@*.deep.one.example k1\n"		/* 6: 3 is first */
	    "*@*.two.example k1\n"		/* 7 */
	    "*\tk4\n"				/* 8 */
	    "a*z@three.example k1\n");		/* 9: after "*": never */

	CU_ASSERT_PTR_NOT_NULL_FATAL(sg);
	CU_ASSERT_EQUAL(arc_signing_nrules(sg), 9);
	CU_ASSERT_EQUAL(arc_signing_nkeys(sg), 4);
	CU_ASSERT_EQUAL(line_of(sg, "user@one.example", "k1"), 1);
	CU_ASSERT_EQUAL(line_of(sg, "other@one.example", "k2"), 2);
	CU_ASSERT_EQUAL(line_of(sg, "x@sub.one.example", "k3"), 3);
	CU_ASSERT_EQUAL(line_of(sg, "x@a.deep.one.example", "k3"), 3);
	/* a hashed line before the regex wins over it */
	CU_ASSERT_EQUAL(line_of(sg, "admin@one.example", "k2"), 2);
	CU_ASSERT_EQUAL(line_of(sg, "admin@else.example", "k4"), 5);
	CU_ASSERT_EQUAL(line_of(sg, "x@b.two.example", "k1"), 7);
	/* *.two.example is no match for two.example itself */
	CU_ASSERT_EQUAL(line_of(sg, "x@two.example", "k4"), 8);
	CU_ASSERT_EQUAL(line_of(sg, "abz@three.example", "k4"), 8);
	/* a bare domain (a List-Id) */
	CU_ASSERT_EQUAL(line_of(sg, "sub.one.example", "k3"), 3);
	CU_ASSERT_EQUAL(line_of(sg, "one.example", "k2"), 2);
	CU_ASSERT_EQUAL(line_of(sg, "", NULL), 0);
	arc_signing_free(sg);

	/* a regex line before a hashed one is tried first */
	sg = tables("/^info@/ k1\n*@one.example k2\na*z@three.example k3\n"
	    "*.four.example k4\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(sg);
	CU_ASSERT_EQUAL(line_of(sg, "info@one.example", "k1"), 1);
	CU_ASSERT_EQUAL(line_of(sg, "x@one.example", "k2"), 2);
	CU_ASSERT_EQUAL(line_of(sg, "info@else.example", "k1"), 1);
	CU_ASSERT_EQUAL(line_of(sg, "nobody@else.example", NULL), 0);
	/* globs: '*' spans anything, anchored at both ends */
	CU_ASSERT_EQUAL(line_of(sg, "abcz@three.example", "k3"), 3);
	CU_ASSERT_EQUAL(line_of(sg, "az@three.example", "k3"), 3);
	CU_ASSERT_EQUAL(line_of(sg, "abz@three.example.org", NULL), 0);
	CU_ASSERT_EQUAL(line_of(sg, "xabz@three.example", NULL), 0);
	CU_ASSERT_EQUAL(line_of(sg, "u@four.example", NULL), 0);
	CU_ASSERT_EQUAL(line_of(sg, "u@x.y.four.example", "k4"), 4);
	/* the '.' of a glob is no regex wildcard */
	CU_ASSERT_EQUAL(line_of(sg, "az@threeXexample", NULL), 0);
	arc_signing_free(sg);

	/* patterns are matched without regard to case */
	sg = tables("User@One.Example k1\n*@TWO.example k2\n/^BIG@/ k3\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(sg);
	CU_ASSERT_EQUAL(line_of(sg, "user@one.example", "k1"), 1);
	CU_ASSERT_EQUAL(line_of(sg, "x@two.example", "k2"), 2);
	CU_ASSERT_EQUAL(line_of(sg, "big@x.example", "k3"), 3);
	arc_signing_free(sg);
}

static void
test_select_keys(void)
{
	int	 k[ARC_SELECT_MAX];
	char	 err[200];

	CU_ASSERT_EQUAL(arc_signing_parse_select("list-id,rcpt, sender", k,
	    err, sizeof(err)), 3);
	CU_ASSERT_EQUAL(k[0], ARC_SELECT_LIST_ID);
	CU_ASSERT_EQUAL(k[1], ARC_SELECT_RCPT);
	CU_ASSERT_EQUAL(k[2], ARC_SELECT_SENDER);
	CU_ASSERT_EQUAL(arc_signing_parse_select("from", k, err,
	    sizeof(err)), 1);
	CU_ASSERT_EQUAL(arc_signing_parse_select("from,subject", k, err,
	    sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown \"subject\""));
	CU_ASSERT_EQUAL(arc_signing_parse_select("rcpt,rcpt", k, err,
	    sizeof(err)), -1);
	CU_ASSERT_EQUAL(arc_signing_parse_select(" ,", k, err,
	    sizeof(err)), -1);
}

static void
test_mailaddr(void)
{
	static const struct { const char *in, *want; } from[] = {
		{ " \"Doe, John\" <John.Doe@Example.ORG>", "john.doe@example.org" },
		{ " john@example.org (John Doe)", "john@example.org" },
		{ " (c) john (x) @ (y) example.org", "john@example.org" },
		{ " =?utf-8?q?J=C3=B6rg?= <j@d.example>,\r\n x@y.example",
		    "j@d.example" },
		{ " a@b.example, c@d.example", "a@b.example" },
		{ " Group: a@b.example, c@d.example;", "a@b.example" },
		{ " <@route.example,@r2.example:u@d.example>", "u@d.example" },
		{ " \"quoted local\"@d.example", "\"quoted local\"@d.example" },
		{ " Name\r\n <folded@d.example>", "folded@d.example" },
		{ " no address", NULL },
		{ " a@b@c.example", NULL },
		{ " <unterminated@d.example", NULL },
		{ " user@", NULL },
		{ " @d.example", NULL },
		{ " u@d.example.", NULL },
		{ " u@d\\x.example", NULL },
		{ " j\303\266rg@d.example", NULL },
		{ "", NULL },
	};
	char	 out[64];

	for (size_t i = 0; i < sizeof(from) / sizeof(from[0]); i++) {
		int r = arc_mailaddr_from(from[i].in, strlen(from[i].in), out,
		    sizeof(out));

		if (from[i].want == NULL) {
			CU_ASSERT_EQUAL(r, -1);
			CU_ASSERT_STRING_EQUAL(out, "");
		} else {
			CU_ASSERT_EQUAL(r, 0);
			if (strcmp(out, from[i].want) != 0)
				fprintf(stderr, "\n  %s -> %s\n", from[i].in,
				    out);
			CU_ASSERT_STRING_EQUAL(out, from[i].want);
		}
	}
	/* too long for out: no match, never a cut address */
	CU_ASSERT_EQUAL(arc_mailaddr_from("averyveryverylonglocalpart@"
	    "averyveryverylongdomainname.example", 63, out, 32), -1);
	CU_ASSERT_EQUAL(arc_mailaddr_list_id(" My list <My-List.Example.ORG>",
	    30, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "my-list.example.org");
	CU_ASSERT_EQUAL(arc_mailaddr_list_id(" \"<x>\" (<y>) <l.example>",
	    24, out, sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "l.example");
	CU_ASSERT_EQUAL(arc_mailaddr_list_id(" nobrackets.example", 19, out,
	    sizeof(out)), -1);
	CU_ASSERT_EQUAL(arc_mailaddr_list_id(" <nodot>", 8, out,
	    sizeof(out)), -1);
	CU_ASSERT_EQUAL(arc_mailaddr_list_id(" <a b.example>", 14, out,
	    sizeof(out)), -1);
	CU_ASSERT_EQUAL(arc_mailaddr_envelope("<U@D.example>", out,
	    sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "u@d.example");
	CU_ASSERT_EQUAL(arc_mailaddr_envelope("u@d.example SIZE=100", out,
	    sizeof(out)), 0);
	CU_ASSERT_STRING_EQUAL(out, "u@d.example");
	CU_ASSERT_EQUAL(arc_mailaddr_envelope("<>", out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(arc_mailaddr_envelope("", out, sizeof(out)), -1);
	CU_ASSERT_EQUAL(arc_mailaddr_envelope(NULL, out, sizeof(out)), -1);
}

/* ---- sessions ----------------------------------------------------------- */

static char	 logged[2048];

static void
log_capture(void *arg, int level, const char *line)
{
	(void)arg;
	(void)level;
	snprintf(logged, sizeof(logged), "%s", line);
}

static arc_conf *
conf_with(const char *extra)
{
	char		 text[4096], path[300], err[512];
	FILE		*fp;
	arc_conf	*c;

	snprintf(path, sizeof(path), "%s/extra.conf", dir);
	fp = fopen(path, "r");
	snprintf(text, sizeof(text), "dns no\nkey-table %s\n"
	    "seal-key-table %s\nseal-signing-table %s\n"
	    "authserv-id mx.test.example\n%s", path_pub, path_kt, path_st,
	    extra);
	if (fp)
		fclose(fp);
	if (write_file(path, text, 0644) != 0)
		return NULL;
	if ((c = arc_conf_load(path, err, sizeof(err))) == NULL)
		fprintf(stderr, "\n  %s\n", err);
	return c;
}

static const char *MSG_FMT =
    "From: Author <author@%s>\r\n"
    "To: list@lists.example\r\n"
    "%s"
    "Subject: many domains\r\n"
    "Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n"
    "Message-ID: <m@origin.example>\r\n"
    "\r\n"
    "Hello.\r\n";

struct sealed {
	int	 sealed;
	char	 d[64], s[64];	/* of the AMS */
	char	 summary[2048];
	int	 verified;	/* cv=pass through a second session */
};

static void
tag(const char *f, const char *t, char *out, size_t len)
{
	const char	*p = f;
	size_t		 tl = strlen(t);

	out[0] = '\0';
	while ((p = strstr(p, t)) != NULL) {
		if (p == f || p[-1] == ' ' || p[-1] == ';' || p[-1] == '\t') {
			p += tl;
			snprintf(out, len, "%.*s", (int)strcspn(p, ";\r\n "),
			    p);
			return;
		}
		p += tl;
	}
}

/* Seals msg through a session (header by header, or fed raw), then
 * verifies the result through a verify-only session of the same
 * adapter. */
static void
run(arc_adapter *ad, const arc_session_params *pp, const char *const *rcpt,
    const char *msg, int raw, struct sealed *out)
{
	arc_session_params	 p = *pp;
	arc_session		*ss;
	const arc_actions	*a;
	char			*full;
	size_t			 n = 0;
	const char		*h, *e;

	memset(out, 0, sizeof(*out));
	p.quiet = 0;
	ss = arc_session_create(ad, &p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ss);
	for (; rcpt && *rcpt; rcpt++)
		arc_session_rcpt(ss, *rcpt);
	if (raw)
		arc_session_feed(ss, msg, strlen(msg));
	else {
		for (h = msg; *h != '\r'; h = e) {
			for (e = h; !(e[0] == '\r' && e[2] != ' ' &&
			    e[2] != '\t'); e++)
				;
			e += 2;
			arc_session_header(ss, h, (size_t)(e - h));
		}
		arc_session_eoh(ss);
		arc_session_body(ss, h + 2, strlen(h + 2));
	}
	CU_ASSERT_EQUAL(arc_session_eom(ss), ARC_SESSION_DONE);
	a = arc_session_actions(ss);
	snprintf(out->summary, sizeof(out->summary), "%s", logged);
	out->sealed = a->sealed;
	if (a->sealed) {
		tag(a->fields[1], "d=", out->d, sizeof(out->d));
		tag(a->fields[1], "s=", out->s, sizeof(out->s));
	}
	for (int i = 0; i < a->nfields; i++)
		n += strlen(a->fields[i]);
	full = malloc(n + strlen(msg) + 1);
	CU_ASSERT_PTR_NOT_NULL_FATAL(full);
	full[0] = '\0';
	for (int i = 0; i < a->nfields; i++)
		strcat(full, a->fields[i]);
	strcat(full, msg);
	arc_session_free(ss);
	if (out->sealed) {
		arc_session_params vp = { 0 };

		vp.seal = 0;
		vp.quiet = 1;
		ss = arc_session_create(ad, &vp);
		arc_session_feed(ss, full, strlen(full));
		arc_session_eom(ss);
		out->verified = arc_session_actions(ss)->cv == ARC_CV_PASS;
		arc_session_free(ss);
	}
	free(full);
}

static void
test_session_select(void)
{
	arc_conf		*c = conf_with("");
	arc_adapter		*ad;
	arc_session_params	 p = { 0 };
	char			 m[1024], err[512];
	struct sealed		 r;
	const char		*rc2[] = { "<Bob@Two.Example>", NULL };
	const char		*rc3[] = { "x@nowhere.example",
	    "list-news@three.example", NULL };

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	ad = arc_adapter_create(c, log_capture, NULL, err, sizeof(err));
	if (ad == NULL)
		fprintf(stderr, "\n  %s\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ad);
	p.seal = -1;

	/* default seal-select list-id,rcpt,sender: the recipient's domain */
	snprintf(m, sizeof(m), MSG_FMT, "origin.example", "");
	run(ad, &p, rc2, m, 0, &r);
	CU_ASSERT_EQUAL(r.sealed, 1);
	CU_ASSERT_STRING_EQUAL(r.d, "two.example");
	CU_ASSERT_STRING_EQUAL(r.s, "s1");
	CU_ASSERT(r.verified);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.summary,
	    " seal=two.example/s1 match=rcpt:two.example"));
	/* the first recipient that matches; a regex line */
	run(ad, &p, rc3, m, 1, &r);
	CU_ASSERT_STRING_EQUAL(r.d, "three.example");
	CU_ASSERT(r.verified);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.summary, "match=rcpt:"
	    "\"/^list-.*@three\\\\.example$/\""));
	/* List-Id first: a list's own copies seal as the list's domain */
	snprintf(m, sizeof(m), MSG_FMT, "origin.example",
	    "List-Id: News <news.lists.two.example>\r\n");
	run(ad, &p, rc3, m, 1, &r);
	CU_ASSERT_STRING_EQUAL(r.d, "two.example");
	CU_ASSERT_STRING_EQUAL(r.s, "ed");
	CU_ASSERT(r.verified);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.summary,
	    " seal=two.example/ed match=list-id:*.two.example"));
	/* the envelope sender when nothing else matches */
	snprintf(m, sizeof(m), MSG_FMT, "origin.example", "");
	p.mail_from = "<bounces@one.example>";
	run(ad, &p, NULL, m, 0, &r);
	CU_ASSERT_STRING_EQUAL(r.d, "one.example");
	CU_ASSERT(r.verified);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.summary, "match=sender:*@one.example"));
	p.mail_from = NULL;
	/* no match, no default identity: not sealed, and the log says so */
	run(ad, &p, NULL, m, 0, &r);
	CU_ASSERT_EQUAL(r.sealed, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.summary, "seal=none match=none"));
	/* the host's own identity (an Exim ACL option) wins */
	p.seal_domain = "four.example";
	p.seal_selector = "s1";
	p.seal_key = path_in("four.example");
	run(ad, &p, rc2, m, 0, &r);
	CU_ASSERT_STRING_EQUAL(r.d, "four.example");
	CU_ASSERT(r.verified);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.summary, "seal=override"));
	memset(&p, 0, sizeof(p));
	p.seal = -1;
	arc_adapter_free(ad);
	arc_conf_free(c);

	/* seal-select from, and the default identity on no match */
	snprintf(err, sizeof(err), "seal-select from\nseal-domain four.example"
	    "\nseal-selector s1\nseal-key %s\n", path_in("four.example"));
	c = conf_with(err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	ad = arc_adapter_create(c, log_capture, NULL, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(ad);
	snprintf(m, sizeof(m), MSG_FMT, "sub.two.example", "");
	run(ad, &p, rc2, m, 1, &r);
	CU_ASSERT_STRING_EQUAL(r.d, "two.example");
	CU_ASSERT_STRING_EQUAL(r.s, "ed");
	CU_ASSERT(r.verified);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.summary, "match=from:*.two.example"));
	snprintf(m, sizeof(m), MSG_FMT, "ONE.example", "");
	run(ad, &p, rc2, m, 0, &r);
	CU_ASSERT_STRING_EQUAL(r.d, "one.example");
	snprintf(m, sizeof(m), MSG_FMT, "elsewhere.example", "");
	run(ad, &p, rc2, m, 0, &r);
	CU_ASSERT_STRING_EQUAL(r.d, "four.example");
	CU_ASSERT(r.verified);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.summary, "seal=default match=none"));
	arc_adapter_free(ad);
	arc_conf_free(c);

	/* seal-no-match none: no seal, even with a default identity */
	snprintf(err, sizeof(err), "seal-select from\nseal-no-match none\n"
	    "seal-domain four.example\nseal-selector s1\nseal-key %s\n",
	    path_in("four.example"));
	c = conf_with(err);
	ad = arc_adapter_create(c, log_capture, NULL, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(ad);
	run(ad, &p, rc2, m, 0, &r);
	CU_ASSERT_EQUAL(r.sealed, 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.summary, "seal=none match=none"));
	arc_adapter_free(ad);
	arc_conf_free(c);
}

static void
test_adapter_errors(void)
{
	char		 err[512], kt[600], text[1200];
	arc_conf	*c;
	arc_adapter	*ad;

	/* a key that cannot be used: the adapter is not made at all */
	snprintf(kt, sizeof(kt), "%s/BadKeyTable", dir);
	snprintf(text, sizeof(text), "one one.example:s1:%s\n"
	    "gone gone.example:s1:%s/missing.pem\n", path_in("one.example"),
	    dir);
	CU_ASSERT_EQUAL_FATAL(write_file(kt, text, 0644), 0);
	/* the usual signing table names keys this table lacks */
	snprintf(text, sizeof(text), "seal-key-table %s\n", kt);
	c = conf_with(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NULL(ad = arc_adapter_create(c, log_capture, NULL, err,
	    sizeof(err)));
	snprintf(text, sizeof(text), "%s:3: key \"two-ed\" is not in the key "
	    "table %s", path_st, kt);
	CU_ASSERT_STRING_EQUAL(err, text);
	arc_conf_free(c);
	CU_ASSERT_EQUAL_FATAL(write_file(path_in("OneTable"), "* one\n",
	    0644), 0);
	snprintf(text, sizeof(text), "seal-key-table %s\nseal-signing-table "
	    "%s\n", kt, path_in("OneTable"));
	c = conf_with(text);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NULL(ad = arc_adapter_create(c, log_capture, NULL, err,
	    sizeof(err)));
	snprintf(text, sizeof(text), "%s:2: gone: %s/missing.pem: No such "
	    "file", kt, dir);
	if (strstr(err, text) == NULL)
		fprintf(stderr, "\n  want \"%s\", got \"%s\"\n", text, err);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, text));
	arc_conf_free(c);
	/* a key anyone may read */
	chmod(path_in("one.example"), 0644);
	c = conf_with("");
	CU_ASSERT_PTR_NULL(ad = arc_adapter_create(c, log_capture, NULL, err,
	    sizeof(err)));
	snprintf(text, sizeof(text), "%s:1: one: %s is readable by everyone",
	    path_kt, path_in("one.example"));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, text));
	chmod(path_in("one.example"), 0600);
	arc_conf_free(c);
	/* the tables go together */
	snprintf(text, sizeof(text), "dns no\nseal-key-table %s\n", path_kt);
	CU_ASSERT_EQUAL_FATAL(write_file(path_in("half.conf"), text, 0644), 0);
	c = arc_conf_load(path_in("half.conf"), err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NULL(arc_adapter_create(c, log_capture, NULL, err,
	    sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "half.conf:2: seal-key-table needs "
	    "seal-signing-table as well"));
	arc_conf_free(c);
	/* seal-select */
	c = conf_with("seal-select from,envelope\n");
	CU_ASSERT_PTR_NULL(arc_adapter_create(c, log_capture, NULL, err,
	    sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "seal-select: unknown "
	    "\"envelope\""));
	arc_conf_free(c);
}

static arc_signer *
fail_some(void *arg, const char *d, const char *s, const char *path,
    char *err, size_t errlen)
{
	(void)arg;
	if (strcmp(d, "d200.example") == 0 || strcmp(d, "d250.example") == 0 ||
	    strcmp(d, "d299.example") == 0) {
		snprintf(err, errlen, "refused");
		return NULL;
	}
	return arc_signer_create(d, s, path, err, errlen);
}

/* Loader threads must not take the host's signals: counts the keys
 * made on a thread other than the caller's, and those of them made with
 * a host signal unblocked. */
static pthread_t	 loader_caller;
static unsigned		 loaded_elsewhere, loaded_unmasked;
static pthread_mutex_t	 loaded_lock = PTHREAD_MUTEX_INITIALIZER;

static arc_signer *
masked_key(void *arg, const char *d, const char *s, const char *path,
    char *err, size_t errlen)
{
	sigset_t	 cur;

	(void)arg;
	if (!pthread_equal(pthread_self(), loader_caller) &&
	    pthread_sigmask(SIG_BLOCK, NULL, &cur) == 0) {
		pthread_mutex_lock(&loaded_lock);
		loaded_elsewhere++;
		if (!sigismember(&cur, SIGTERM) || !sigismember(&cur, SIGHUP) ||
		    !sigismember(&cur, SIGALRM) || !sigismember(&cur, SIGCHLD))
			loaded_unmasked++;
		pthread_mutex_unlock(&loaded_lock);
	}
	return arc_signer_create(d, s, path, err, errlen);
}

/* Many keys load on several threads: the first bad line is reported,
 * and every key made before is freed with the tables. */
static void
test_load_keys_threads(void)
{
	char		*kt = malloc(300 * 400), err[512];
	size_t		 o = 0;
	arc_signing	*sg;

	CU_ASSERT_PTR_NOT_NULL_FATAL(kt);
	for (int i = 0; i < 300; i++)
		o += (size_t)snprintf(kt + o, 300 * 400 - o, "k%d d%d.example:"
		    "s:%s\n", i, i, path_in("one.example"));
	sg = arc_signing_parse("kt", kt, o, "st", "* k1\n", 5, err,
	    sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(sg);
	CU_ASSERT_EQUAL(arc_signing_load_keys(sg, fail_some, NULL, err,
	    sizeof(err)), -1);
	CU_ASSERT_STRING_EQUAL(err, "kt:201: k200: refused");
	arc_signing_free(sg);
	/* and all of them when none fails */
	o = 0;
	for (int i = 0; i < 300; i++)
		o += (size_t)snprintf(kt + o, 300 * 400 - o, "k%d e%d.example:"
		    "s:%s\n", i, i, path_in("one.example"));
	sg = arc_signing_parse("kt", kt, o, "st", "* k1\n", 5, err,
	    sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(sg);
	CU_ASSERT_EQUAL(arc_signing_load_keys(sg, fail_some, NULL, err,
	    sizeof(err)), 0);
	for (size_t i = 0; i < arc_signing_nkeys(sg); i++)
		CU_ASSERT_PTR_NOT_NULL(arc_signing_key_at(sg, i)->signer);
	arc_signing_free(sg);
	/* the loaders run with every signal blocked, and the caller's mask
	 * is as it was */
	{
		sigset_t	 none, after;

		sigemptyset(&none);
		pthread_sigmask(SIG_SETMASK, &none, NULL);
		loader_caller = pthread_self();
		sg = arc_signing_parse("kt", kt, o, "st", "* k1\n", 5, err,
		    sizeof(err));
		CU_ASSERT_PTR_NOT_NULL_FATAL(sg);
		CU_ASSERT_EQUAL(arc_signing_load_keys(sg, masked_key, NULL, err,
		    sizeof(err)), 0);
		arc_signing_free(sg);
		if (sysconf(_SC_NPROCESSORS_ONLN) > 1)
			CU_ASSERT(loaded_elsewhere > 0);
		CU_ASSERT_EQUAL(loaded_unmasked, 0);
		CU_ASSERT_EQUAL(pthread_sigmask(SIG_BLOCK, NULL, &after), 0);
		CU_ASSERT_FALSE(sigismember(&after, SIGTERM));
	}
	free(kt);
}

/* A reload that adds a domain: new sessions seal with it, a session
 * made before the reload finishes with the tables it started with; a
 * broken table keeps the running ones. */
static void
test_reload(void)
{
	arc_runtime		*rt;
	arc_adapter		*old;
	arc_session_params	 p = { 0 };
	arc_session		*inflight;
	char			 err[512], kt[4096], line[600], m[1024];
	const char		*rc4[] = { "u@four.example", NULL };
	struct sealed		 r;
	FILE			*fp;
	size_t			 n;

	rt = arc_runtime_create(path_conf, log_capture, NULL, err,
	    sizeof(err));
	if (rt == NULL)
		fprintf(stderr, "\n  %s\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(rt);
	p.seal = -1;
	snprintf(m, sizeof(m), MSG_FMT, "origin.example", "");
	run(arc_runtime_adapter(rt), &p, rc4, m, 0, &r);
	CU_ASSERT_EQUAL(r.sealed, 0);
	old = arc_runtime_adapter(rt);
	inflight = arc_session_create(old, &p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(inflight);
	arc_session_rcpt(inflight, "u@four.example");

	/* four.example joins both tables */
	fp = fopen(path_kt, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp);
	n = fread(kt, 1, sizeof(kt) - 1, fp);
	kt[n] = '\0';
	fclose(fp);
	snprintf(line, sizeof(line), "four four.example:s1:%s\n",
	    path_in("four.example"));
	strcat(kt, line);
	CU_ASSERT_EQUAL(write_file(path_kt, kt, 0644), 0);
	/* first a signing table with a bad line: nothing changes */
	snprintf(line, sizeof(line), "%s*@four.example fuor\n", ST_BASE);
	CU_ASSERT_EQUAL(write_file(path_st, line, 0644), 0);
	CU_ASSERT_EQUAL(arc_runtime_reload(rt, err, sizeof(err)), -1);
	snprintf(line, sizeof(line), "%s:8: key \"fuor\" is not in the key "
	    "table", path_st);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, line));
	CU_ASSERT_EQUAL(arc_runtime_generation(rt), 1);
	CU_ASSERT_PTR_EQUAL(arc_runtime_adapter(rt), old);
	snprintf(line, sizeof(line), "%s*@four.example four\n", ST_BASE);
	CU_ASSERT_EQUAL(write_file(path_st, line, 0644), 0);
	CU_ASSERT_EQUAL(arc_runtime_reload(rt, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(arc_runtime_generation(rt), 2);
	run(arc_runtime_adapter(rt), &p, rc4, m, 1, &r);
	CU_ASSERT_EQUAL(r.sealed, 1);
	CU_ASSERT_STRING_EQUAL(r.d, "four.example");
	CU_ASSERT(r.verified);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.summary, "match=rcpt:*@four.example"));
	/* the message in flight keeps the old tables: no match there */
	arc_session_feed(inflight, m, strlen(m));
	CU_ASSERT_EQUAL(arc_session_eom(inflight), ARC_SESSION_DONE);
	CU_ASSERT_EQUAL(arc_session_actions(inflight)->sealed, 0);
	CU_ASSERT_STRING_EQUAL(arc_session_actions(inflight)->selection,
	    "seal=none match=none");
	arc_session_free(inflight);
	arc_runtime_free(rt);
	/* back to the tables the other tests use */
	CU_ASSERT_EQUAL(write_file(path_st, ST_BASE, 0644), 0);
}

int
main(void)
{
	static const cunit_test tests[] = {
		{ "keytable_errors", test_keytable_errors },
		{ "signtable_errors", test_signtable_errors },
		{ "select_order", test_select_order },
		{ "select_keys", test_select_keys },
		{ "mailaddr", test_mailaddr },
		{ "session_select", test_session_select },
		{ "adapter_errors", test_adapter_errors },
		{ "load_keys_threads", test_load_keys_threads },
		{ "reload", test_reload },
		{ NULL, NULL }
	};

	return cunit_run("signing", setup, teardown, tests);
}
