/*
 * test_select.c - CUnit tests of what a review of the signing tables
 * found: glob lines matched in linear time (and right where pcre2 hit
 * its match limit), the cap on envelope recipients tried, lazy key
 * loading (exim_arc.so) against eager loading (daemons, check-config),
 * the seeded hash of the table maps, the out buffer of the address
 * tokenizers, and the private-key decoder's refusals (RFC 8410 Ed25519
 * parameters, encrypted keys).  test_signing.c has the rest.
 */
#include <sys/stat.h>
#include <sys/wait.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "cunit_run.h"
#include "test_fixture.h"

#include "arc_adapter.h"
#include "arc_check.h"
#include "arc_mailaddr.h"
#include "arc_signing.h"
#include "arc_strmap.h"

static char	 dir[] = "/tmp/arc-test-select.XXXXXX";
static char	 keyfile[300], pubtable[300], path_kt[300], path_st[300];
static char	 path_conf[300];
static const char *self;	/* argv[0]: /proc/self/exe is valgrind there */

static char *
path_in(const char *name)
{
	static char	 p[4][300];
	static int	 i;

	i = (i + 1) % 4;
	snprintf(p[i], sizeof(p[i]), "%s/%s", dir, name);
	return p[i];
}

/* seal.example's key is good; broken.example's file is no key */
static int
setup(void)
{
	char	 kt[1024];

	if (fixture_keys(dir, keyfile, pubtable, NULL) != 0)
		return -1;
	snprintf(path_kt, sizeof(path_kt), "%s/KeyTable", dir);
	snprintf(path_st, sizeof(path_st), "%s/SigningTable", dir);
	snprintf(kt, sizeof(kt), "seal seal.example:s1:%s\n"
	    "broken broken.example:s1:%s\n", keyfile, path_in("broken.pem"));
	return write_file(path_kt, kt, 0644) || write_file(path_st,
	    "*@seal.example seal\n*@broken.example broken\n", 0644) ||
	    write_file(path_in("broken.pem"), "not a key\n", 0600) ? -1 : 0;
}

static int
teardown(void)
{
	return fixture_remove(dir);
}

/* ---- globs -------------------------------------------------------------- */

static arc_signing *
tables(const char *st)
{
	static const char *kt = "k1 a.example:s:/k1\nk2 b.example:s:/k2\n";
	char		 err[256];
	arc_signing	*sg = arc_signing_parse("kt", kt, strlen(kt), "st", st,
	    strlen(st), err, sizeof(err));

	if (sg == NULL)
		fprintf(stderr, "\n  %s\n", err);
	return sg;
}

static unsigned
line_of(const arc_signing *sg, const char *addr)
{
	arc_signing_match	 m;

	return arc_signing_select(sg, addr, &m) ? m.line : 0;
}

static void
test_glob_linear(void)
{
	char		 st[8192] = "", line[64], addr[600];
	arc_signing	*sg;
	int		 i;

	/* "aaaac" + 400 'a' + "@x.org": a regex ".*a.*a.*a.*c.*" gives up
	 * at pcre2's match limit, the wildcard matcher finds the match */
	sg = tables("*a*a*a*c*@x.org k1\n*@x.org k2\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(sg);
	snprintf(addr, sizeof(addr), "aaaac%0400d@x.org", 0);
	memset(addr + 5, 'a', 400);
	CU_ASSERT_EQUAL(line_of(sg, addr), 1);
	addr[4] = 'a';		/* no 'c' left: the next line */
	CU_ASSERT_EQUAL(line_of(sg, addr), 2);
	arc_signing_free(sg);

	/* the review's table: 100 lines a*b*c*dN@*.org, a 490-byte address
	 * that only the last one matches */
	for (i = 0; i < 100; i++) {
		snprintf(line, sizeof(line), "a*b*c*d%d@*.org k1\n", i);
		strcat(st, line);
	}
	strcat(st, "* k2\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(sg = tables(st));
	memset(addr, 'a', 240);
	memset(addr + 240, 'b', 120);
	memset(addr + 360, 'c', 110);
	snprintf(addr + 470, sizeof(addr) - 470, "d99@sub.ex.org");
	CU_ASSERT_EQUAL(strlen(addr), 484);
	CU_ASSERT_EQUAL(line_of(sg, addr), 100);
	addr[469] = 'x';	/* "...cxd99@": still a*b*c*d99 */
	CU_ASSERT_EQUAL(line_of(sg, addr), 100);
	addr[360] = 'x';
	memset(addr + 360, 'x', 110);	/* no 'c': only "*" */
	CU_ASSERT_EQUAL(line_of(sg, addr), 101);
	arc_signing_free(sg);

	/* stars at either end, runs of stars, case */
	sg = tables("**x**@b.example k1\nA*@*.ORG k2\n*z k1\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(sg);
	CU_ASSERT_EQUAL(line_of(sg, "x@b.example"), 1);
	CU_ASSERT_EQUAL(line_of(sg, "uxv@b.example"), 1);
	CU_ASSERT_EQUAL(line_of(sg, "uv@b.example"), 0);
	CU_ASSERT_EQUAL(line_of(sg, "abc@d.org"), 2);
	CU_ASSERT_EQUAL(line_of(sg, "abc@org"), 0);
	CU_ASSERT_EQUAL(line_of(sg, "lists.biz"), 3);
	arc_signing_free(sg);
}

/* ---- sessions ----------------------------------------------------------- */

static char	 logged[4096];

static void
log_capture(void *arg, int level, const char *line)
{
	(void)arg;
	(void)level;
	if (strlen(logged) + strlen(line) + 2 < sizeof(logged)) {
		strcat(logged, line);
		strcat(logged, "\n");
	}
}

static arc_conf *
conf_with(const char *extra)
{
	char		 text[2048], err[512];
	arc_conf	*c;

	snprintf(path_conf, sizeof(path_conf), "%s/arc.conf", dir);
	snprintf(text, sizeof(text), "dns no\nkey-table %s\n"
	    "seal-key-table %s\nseal-signing-table %s\nseal-select rcpt\n"
	    "authserv-id mx.test.example\n%s", pubtable, path_kt, path_st,
	    extra);
	if (write_file(path_conf, text, 0644) != 0)
		return NULL;
	if ((c = arc_conf_load(path_conf, err, sizeof(err))) == NULL)
		fprintf(stderr, "\n  %s\n", err);
	return c;
}

static const char *MSG =
    "From: a@origin.example\r\nTo: b@elsewhere.example\r\n"
    "Subject: s\r\nDate: Mon, 23 Nov 2026 09:00:00 +0000\r\n"
    "Message-ID: <m@origin.example>\r\n\r\nHello.\r\n";

/* Recipients rcpt[0..n), the last one rcpt; the actions' copy. */
static int
deliver(arc_adapter *ad, unsigned n, const char *last, arc_actions *out)
{
	arc_session_params	 p = { 0 };
	arc_session		*ss;
	int			 r;

	p.seal = -1;
	if ((ss = arc_session_create(ad, &p)) == NULL)
		return -1;
	for (unsigned i = 1; i < n; i++)
		arc_session_rcpt(ss, "<x@nowhere.example>");
	arc_session_rcpt(ss, last);
	arc_session_feed(ss, MSG, strlen(MSG));
	r = arc_session_eom(ss);
	*out = *arc_session_actions(ss);
	/* strings die with the session: keep what the tests look at */
	out->reason = out->reason && strcmp(out->reason, "sealing key "
	    "unusable") == 0 ? "sealing key unusable" : out->reason ? "?" :
	    NULL;
	out->selection = NULL;
	arc_session_free(ss);
	return r == ARC_SESSION_DONE ? 0 : -1;
}

static void
test_rcpt_cap(void)
{
	arc_conf	*c = conf_with("seal-key-load lazy\n");
	arc_adapter	*ad;
	arc_actions	 a;
	char		 err[512];

	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	ad = arc_adapter_create(c, log_capture, NULL, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(ad);
	CU_ASSERT_EQUAL(deliver(ad, 1, "<u@seal.example>", &a), 0);
	CU_ASSERT_EQUAL(a.sealed, 1);
	/* the 16th recipient is still tried, the 17th is not */
	CU_ASSERT_EQUAL(deliver(ad, 16, "<u@seal.example>", &a), 0);
	CU_ASSERT_EQUAL(a.sealed, 1);
	CU_ASSERT_EQUAL(deliver(ad, 17, "<u@seal.example>", &a), 0);
	CU_ASSERT_EQUAL(a.sealed, 0);
	CU_ASSERT_EQUAL(a.error, 0);
	arc_adapter_free(ad);
	arc_conf_free(c);
}

static void
test_key_load_modes(void)
{
	arc_conf	*c = conf_with("");
	arc_adapter	*ad;
	arc_actions	 a;
	char		 err[512], msg[512], who[200];

	/* eager (the default): the broken key fails the whole load */
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	ad = arc_adapter_create(c, log_capture, NULL, err, sizeof(err));
	CU_ASSERT_PTR_NULL(ad);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "KeyTable:2: broken: "));
	arc_conf_free(c);

	/* lazy: the tables load, each key at its first use */
	c = conf_with("seal-key-load lazy\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	ad = arc_adapter_create(c, log_capture, NULL, err, sizeof(err));
	if (ad == NULL)
		fprintf(stderr, "\n  %s\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ad);
	CU_ASSERT_EQUAL(deliver(ad, 1, "<u@seal.example>", &a), 0);
	CU_ASSERT_EQUAL(a.sealed, 1);
	/* the broken key costs the seal, not the message, and says why */
	logged[0] = '\0';
	CU_ASSERT_EQUAL(deliver(ad, 1, "<u@broken.example>", &a), 0);
	CU_ASSERT_EQUAL(a.sealed, 0);
	CU_ASSERT_EQUAL(a.error, 0);
	CU_ASSERT_EQUAL(a.tempfail, 0);
	CU_ASSERT_EQUAL(a.reject, 0);
	CU_ASSERT_STRING_EQUAL(a.reason, "sealing key unusable");
	CU_ASSERT_PTR_NOT_NULL(strstr(logged, "KeyTable:2: broken: "));
	CU_ASSERT_PTR_NOT_NULL(strstr(logged, "seal=broken.example/s1 "
	    "match=rcpt:*@broken.example key=unusable"));
	/* again: the same answer, and the good key still seals */
	CU_ASSERT_EQUAL(deliver(ad, 1, "<v@broken.example>", &a), 0);
	CU_ASSERT_EQUAL(a.sealed, 0);
	CU_ASSERT_EQUAL(deliver(ad, 1, "<v@seal.example>", &a), 0);
	CU_ASSERT_EQUAL(a.sealed, 1);
	arc_adapter_free(ad);
	arc_conf_free(c);

	/* check-config loads every key whatever seal-key-load says */
	c = conf_with("seal-key-load lazy\n");
	arc_conf_free(c);
	CU_ASSERT_EQUAL(arc_check_config(path_conf, NULL, msg, sizeof(msg),
	    who, sizeof(who)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(msg, "KeyTable:2: broken: "));
}

static unsigned	 made;

static arc_signer *
count_key(void *arg, const char *d, const char *s, const char *path,
    char *err, size_t errlen)
{
	(void)arg;
	made++;
	if (strcmp(d, "b.example") == 0) {
		snprintf(err, errlen, "no such key %s", path);
		return NULL;
	}
	return arc_signer_create(d, s, keyfile, err, errlen);
}

static void
test_lazy_signer(void)
{
	arc_signing		*sg;
	const arc_signing_key	*k1, *k2;
	const arc_signer	*s;
	char			 err[256];

	sg = tables("*@a.example k1\n*@b.example k2\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(sg);
	k1 = arc_signing_key_at(sg, 0);
	k2 = arc_signing_key_at(sg, 1);
	CU_ASSERT_PTR_NULL(k1->signer);
	made = 0;
	s = arc_signing_signer(sg, k1, count_key, NULL, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(s);
	CU_ASSERT_PTR_EQUAL(k1->signer, s);
	CU_ASSERT_PTR_EQUAL(arc_signing_signer(sg, k1, count_key, NULL, err,
	    sizeof(err)), s);
	CU_ASSERT_EQUAL(made, 1);
	/* a failure is kept: one parse, the same reason every time */
	CU_ASSERT_PTR_NULL(arc_signing_signer(sg, k2, count_key, NULL, err,
	    sizeof(err)));
	CU_ASSERT_STRING_EQUAL(err, "kt:2: k2: no such key /k2");
	err[0] = '\0';
	CU_ASSERT_PTR_NULL(arc_signing_signer(sg, k2, count_key, NULL, err,
	    sizeof(err)));
	CU_ASSERT_STRING_EQUAL(err, "kt:2: k2: no such key /k2");
	CU_ASSERT_EQUAL(made, 2);
	arc_signing_free(sg);
}

/* ---- small pieces ------------------------------------------------------- */

static void
test_strmap_seed(void)
{
	char		 cmd[400], buf[64] = "";
	FILE		*fp;
	uint64_t	 mine = arc_strmap_hash("example.org", 11), theirs;
	arc_strmap	 m = { 0 };
	uint32_t	 v;

	/* another process, another seed */
	snprintf(cmd, sizeof(cmd), "ARC_TEST_HASH=1 '%s'", self);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp = popen(cmd, "r"));
	CU_ASSERT_PTR_NOT_NULL(fgets(buf, sizeof(buf), fp));
	pclose(fp);
	theirs = strtoull(buf, NULL, 16);
	CU_ASSERT(theirs != 0 && theirs != mine);
	/* the map still finds what it holds, suffixes by length */
	CU_ASSERT_EQUAL(arc_strmap_put(&m, "example.org", 7), 0);
	CU_ASSERT_EQUAL(arc_strmap_put(&m, "org", 8), 0);
	CU_ASSERT(arc_strmap_get(&m, "a.example.org" + 2, 11, &v) && v == 7);
	CU_ASSERT(arc_strmap_get(&m, "orgx", 3, &v) && v == 8);
	CU_ASSERT(!arc_strmap_get(&m, "example.or", 10, &v));
	arc_strmap_free(&m);
}

static void
test_mailaddr_outlen(void)
{
	char	 canary[2] = "X";

	/* no room at all: nothing is written, not even the "" */
	CU_ASSERT_EQUAL(arc_mailaddr_from("", 0, canary, 0), -1);
	CU_ASSERT_EQUAL(arc_mailaddr_envelope("", canary, 0), -1);
	CU_ASSERT_EQUAL(arc_mailaddr_envelope("a@b.example", canary, 0), -1);
	CU_ASSERT_EQUAL(arc_mailaddr_list_id("<a.b>", 5, canary, 0), -1);
	CU_ASSERT_EQUAL(canary[0], 'X');
	CU_ASSERT_EQUAL(arc_mailaddr_envelope("a@b.example", canary, 1), -1);
	CU_ASSERT_EQUAL(canary[0], '\0');
}

/* PEM text of der under label, into out. */
static void
pem_of(const char *label, const unsigned char *der, int n, char *out,
    size_t len)
{
	char	 b64[200];

	EVP_EncodeBlock((unsigned char *)b64, der, n);
	snprintf(out, len, "-----BEGIN %s-----\n%s\n-----END %s-----\n",
	    label, b64, label);
}

static void
test_key_decode(void)
{
	/* RFC 8410 §7's example key; the second with NULL parameters */
	static const unsigned char plain[] = { 0x30, 0x2e, 0x02, 0x01, 0x00,
	    0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20 };
	static const unsigned char params[] = { 0x30, 0x30, 0x02, 0x01, 0x00,
	    0x30, 0x07, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x05, 0x00, 0x04, 0x22,
	    0x04, 0x20 };
	unsigned char	 der[64];
	char		 pem[400], err[256], *enc;
	arc_signer	*s;
	EVP_PKEY	*k;
	BIO		*bio;
	long		 n;

	memcpy(der, plain, sizeof(plain));
	memset(der + sizeof(plain), 0x42, 32);
	pem_of("PRIVATE KEY", der, (int)sizeof(plain) + 32, pem, sizeof(pem));
	s = arc_signer_create_pem("a.example", "s", pem, strlen(pem), err,
	    sizeof(err));
	CU_ASSERT_PTR_NOT_NULL(s);
	arc_signer_free(s);
	memcpy(der, params, sizeof(params));
	memset(der + sizeof(params), 0x42, 32);
	pem_of("PRIVATE KEY", der, (int)sizeof(params) + 32, pem, sizeof(pem));
	/* OpenSSL's own decoder refuses it: so must we */
	bio = BIO_new_mem_buf(pem, -1);
	k = PEM_read_bio_PrivateKey(bio, NULL, NULL, (void *)"");
	CU_ASSERT_PTR_NULL(k);
	EVP_PKEY_free(k);
	BIO_free(bio);
	CU_ASSERT_PTR_NULL(arc_signer_create_pem("a.example", "s", pem,
	    strlen(pem), err, sizeof(err)));

	/* encrypted keys, PKCS#8 and PKCS#1 ("Proc-Type: 4,ENCRYPTED") */
	k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024);
	CU_ASSERT_PTR_NOT_NULL_FATAL(k);
	for (int trad = 0; trad < 2; trad++) {
		bio = BIO_new(BIO_s_mem());
		CU_ASSERT_FATAL((trad ? PEM_write_bio_PrivateKey_traditional(
		    bio, k, EVP_aes_128_cbc(), (unsigned char *)"pw", 2, NULL,
		    NULL) : PEM_write_bio_PrivateKey(bio, k, EVP_aes_128_cbc(),
		    (unsigned char *)"pw", 2, NULL, NULL)) == 1);
		n = BIO_get_mem_data(bio, &enc);
		err[0] = '\0';
		CU_ASSERT_PTR_NULL(arc_signer_create_pem("a.example", "s", enc,
		    (size_t)n, err, sizeof(err)));
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "encrypted private keys "
		    "are not supported"));
		BIO_free(bio);
	}
	EVP_PKEY_free(k);
	/* garbage still says what it is not */
	CU_ASSERT_PTR_NULL(arc_signer_create_pem("a.example", "s", "junk", 4,
	    err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not a PEM private key"));
}

int
main(int argc, char **argv)
{
	static const cunit_test tests[] = {
		{ "glob_linear", test_glob_linear },
		{ "rcpt_cap", test_rcpt_cap },
		{ "key_load_modes", test_key_load_modes },
		{ "lazy_signer", test_lazy_signer },
		{ "strmap_seed", test_strmap_seed },
		{ "mailaddr_outlen", test_mailaddr_outlen },
		{ "key_decode", test_key_decode },
		{ NULL, NULL }
	};

	(void)argc;
	self = argv[0];
	/* test_strmap_seed's other process */
	if (getenv("ARC_TEST_HASH") != NULL) {
		printf("%llx\n", (unsigned long long)arc_strmap_hash(
		    "example.org", 11));
		return 0;
	}
	return cunit_run("select", setup, teardown, tests);
}
