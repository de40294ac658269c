/*
 * test_dkim_limits.c - the bounds and edges of DKIM verification
 * (core/arc_dkim.c) and of the AAR it feeds, beside test_dkim.c's
 * peer fixtures.
 *
 * Contract:
 *  - Uses the fixtures of tests/dkim/gen.py (dkimpy-signed messages, a
 *    key table, fresh keys), made at start in a temporary directory.
 *  - Work is checked by counting (arc_msg_get_stats()' dkim_bytes, key
 *    lookups, the results), never by timing.
 *  - Forged Authentication-Results of our authserv-id never reach the
 *    AAR when we authenticate, or when the host writes none of its own
 *    (ARC_SEAL_NO_MESSAGE_AR; arc.conf aar-from-message): core and
 *    adapter session.
 *  - Allocation failures are injected by replacing calloc() in this
 *    program (not under ASan or valgrind, whose allocators own it).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cunit_run.h"
#include "test_fixture.h"

#include "arc.h"
#include "arc_adapter.h"
#include "arc_keys.h"

static char	 dir[] = "/tmp/arc-test-dkimlim.XXXXXX";
static char	 keytable[300], sealkey[300];

/* ---- calloc failure injection -------------------------------------------- */

#if defined(__SANITIZE_ADDRESS__)
#define CAN_FAIL_CALLOC	0
static int	 calloc_fail_at;	/* unused */
#else
#define CAN_FAIL_CALLOC	1
static int	 calloc_fail_at;	/* 0: off; n: the n-th call fails */

/* On malloc(), so that valgrind, which replaces malloc and free, sees
 * every block. */
void *
calloc(size_t n, size_t size)
{
	void	*p;

	if (calloc_fail_at > 0 && --calloc_fail_at == 0)
		return NULL;
	if (size != 0 && n > SIZE_MAX / size)
		return NULL;
	if ((p = malloc(n * size != 0 ? n * size : 1)) != NULL)
		memset(p, 0, n * size);
	return p;
}
#endif

/* ---- fixtures ------------------------------------------------------------ */

static char *
fixture(const char *name)
{
	char	 path[400];
	size_t	 len;
	char	*t;

	snprintf(path, sizeof(path), "%s/%s.eml", dir, name);
	t = slurp(path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	return t;
}

static int
init(void)
{
	char	 cmd[512];

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(keytable, sizeof(keytable), "%s/keytable", dir);
	snprintf(sealkey, sizeof(sealkey), "%s/r1024.pem", dir);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 tests/dkim/gen.py %s",
	    dir);
	if (system(cmd) != 0)
		return 1;
	return chmod(sealkey, 0600) != 0;
}

static int
clean(void)
{
	char	 cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) != 0;
}

static arc_lib *
make_lib(void)
{
	arc_lib	*lib = arc_lib_create();

	CU_ASSERT_PTR_NOT_NULL_FATAL(lib);
	CU_ASSERT_EQUAL_FATAL(arc_lib_add_keytable(lib, keytable), ARC_OK);
	return lib;
}

static arc_msg *
verify(arc_lib *lib, const char *text, unsigned flags)
{
	arc_msg		*m = arc_msg_create(lib, flags);
	arc_status	 r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(arc_msg_feed(m, text, strlen(text)), ARC_OK);
	if ((r = arc_msg_eom(m)) == ARC_PENDING)
		r = arc_msg_wait(m, 5000);
	CU_ASSERT_EQUAL(r, ARC_OK);
	return m;
}

/* The bh= value of the first DKIM-Signature in text, malloc'd. */
static char *
bh_of(const char *text)
{
	const char	*p = strstr(text, " bh=");
	size_t		 n;
	char		*s;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p += 4;
	n = strcspn(p, ";");
	CU_ASSERT_FATAL((s = strndup(p, n)) != NULL);
	return s;
}

static int
count_reason(const arc_msg *m, arc_dkim_result r, const char *why)
{
	int	 i, n = 0;

	for (i = 0; i < arc_msg_dkim_count(m); i++)
		if (arc_msg_dkim(m, i)->result == r &&
		    strstr(arc_msg_dkim(m, i)->reason, why) != NULL)
			n++;
	return n;
}

/* ---- header hashing budget ----------------------------------------------- */

#define NX	100		/* X: fields of XLEN bytes */
#define XLEN	1000
#define NFORGED	10

/* The genuine signature on top, then NFORGED attacker signatures with
 * the real bh= (public) and h= naming the NX big fields each: every
 * one gets past the body hash to hash the whole header anew. */
static char *
heavy_message(size_t *header_bytes)
{
	char	*text = fixture("rsa-relaxed-simple"), *bh = bh_of(text);
	char	*out, *hl, *p;
	size_t	 cap, i, j;

	cap = strlen(text) + NX * (XLEN + 8) + NFORGED * (NX * 2 + 300);
	CU_ASSERT_FATAL((out = malloc(cap)) != NULL);
	CU_ASSERT_FATAL((hl = malloc(NX * 2 + 8)) != NULL);
	strcpy(hl, "from");
	for (i = 0; i < NX; i++)
		strcat(hl, ":x");
	p = out;
	/* the genuine field first: it is the top one of the fixture */
	i = strstr(text, "\r\nFrom:") - text + 2;
	memcpy(p, text, i);
	p += i;
	for (j = 0; j < NFORGED; j++)
		p += sprintf(p, "DKIM-Signature: v=1; a=rsa-sha256; "
		    "c=relaxed/simple; d=example.org; s=r1024; h=%s; bh=%s; "
		    "b=AAAA\r\n", hl, bh);
	for (j = 0; j < NX; j++) {
		p += sprintf(p, "X: ");
		memset(p, 'a', XLEN);
		p += XLEN;
		p += sprintf(p, "\r\n");
	}
	strcpy(p, text + i);
	*header_bytes = (size_t)(strstr(out, "\r\n\r\n") - out) + 2;
	free(hl);
	free(bh);
	free(text);
	return out;
}

static void
t_hash_budget(void)
{
	arc_lib			*lib = make_lib();
	arc_msg			*m;
	const arc_msg_stats	*st;
	size_t			 hb;
	char			*text = heavy_message(&hb);

	arc_lib_limits(lib)->max_dkim_signatures = NFORGED + 1;
	m = verify(lib, text, ARC_MSG_DKIM);
	st = arc_msg_get_stats(m);
	CU_ASSERT_EQUAL_FATAL(arc_msg_dkim_count(m), NFORGED + 1);
	CU_ASSERT_EQUAL(arc_msg_dkim(m, 0)->result, ARC_DKIM_PASS);
	/* one budget for all of them: twice the header (default) */
	if (st->dkim_bytes > 2 * hb)
		fprintf(stderr, "DKIM hashed %llu header bytes of %zu\n",
		    st->dkim_bytes, hb);
	CU_ASSERT(st->dkim_bytes <= 2 * hb);
	CU_ASSERT(st->dkim_bytes >= hb);	/* it did work up to it */
	/* the rest: our policy, said so */
	CU_ASSERT(count_reason(m, ARC_DKIM_POLICY, "hashing budget") >=
	    NFORGED - 2);
	CU_ASSERT(count_reason(m, ARC_DKIM_FAIL, "") +
	    count_reason(m, ARC_DKIM_POLICY, "hashing budget") == NFORGED);
	arc_msg_free(m);

	/* a larger factor lets them all be hashed: the counter counts */
	arc_lib_limits(lib)->dkim_budget_factor = 100;
	m = verify(lib, text, ARC_MSG_DKIM);
	st = arc_msg_get_stats(m);
	CU_ASSERT(st->dkim_bytes >= NFORGED * (size_t)NX * XLEN);
	CU_ASSERT_EQUAL(count_reason(m, ARC_DKIM_POLICY, "budget"), 0);
	CU_ASSERT_EQUAL(count_reason(m, ARC_DKIM_FAIL, ""), NFORGED);
	arc_msg_free(m);

	/* factor 0: nothing is hashed, every signature says why */
	arc_lib_limits(lib)->dkim_budget_factor = 0;
	m = verify(lib, text, ARC_MSG_DKIM);
	CU_ASSERT_EQUAL(arc_msg_get_stats(m)->dkim_bytes, 0);
	CU_ASSERT_EQUAL(count_reason(m, ARC_DKIM_POLICY, "hashing budget"),
	    NFORGED + 1);
	arc_msg_free(m);
	free(text);
	arc_lib_free(lib);
}

/* ---- body hashers, key queries ------------------------------------------- */

static char *
signatures(const char *text, int n, const char *fmt)
{
	char	*bh = bh_of(text), *out, *p;
	int	 i;

	CU_ASSERT_FATAL((out = malloc(strlen(text) + (size_t)n * 400)) !=
	    NULL);
	p = out;
	for (i = 0; i < n; i++) {
		p += sprintf(p, "DKIM-Signature: v=1; a=rsa-sha256; "
		    "d=example.org; h=from; bh=%s; b=AAAA; ", bh);
		p += sprintf(p, fmt, i + 1);
		p += sprintf(p, "\r\n");
	}
	strcpy(p, text);
	free(bh);
	return out;
}

static void
t_body_hashers(void)
{
	arc_lib		*lib = make_lib();
	char		*text = fixture("rsa-relaxed-simple"), *msg;
	arc_msg		*m;
	int		 i;

	/* each l= a body hasher of its own: four, then policy */
	msg = signatures(text, 6, "s=r1024; c=relaxed/simple; l=%d");
	m = verify(lib, msg, ARC_MSG_DKIM);
	CU_ASSERT_EQUAL_FATAL(arc_msg_dkim_count(m), 7);
	for (i = 0; i < 4; i++)
		CU_ASSERT_EQUAL(arc_msg_dkim(m, i)->result, ARC_DKIM_FAIL);
	CU_ASSERT_EQUAL(count_reason(m, ARC_DKIM_POLICY, "body "
	    "canonicalizations"), 3);	/* l=5, l=6 and the genuine one */
	arc_msg_free(m);
	free(msg);

	/* the same c= and l= share one: no limit hit */
	msg = signatures(text, 6, "s=r1024; c=relaxed/simple; l=7; "
	    "i=u%d@example.org");
	m = verify(lib, msg, ARC_MSG_DKIM);
	CU_ASSERT_EQUAL(count_reason(m, ARC_DKIM_POLICY, "canonicaliz"), 0);
	arc_msg_free(m);
	free(msg);
	free(text);
	arc_lib_free(lib);
}

static void
t_key_queries(void)
{
	arc_lib		*lib = make_lib();
	char		*text = fixture("rsa-relaxed-simple"), *msg;
	arc_msg		*m;

	/* six selectors, six keys: max-key-queries 3 stops at three */
	msg = signatures(text, 6, "s=sel%d");
	arc_lib_limits(lib)->max_key_queries = 3;
	m = verify(lib, msg, ARC_MSG_DKIM);
	CU_ASSERT_EQUAL_FATAL(arc_msg_dkim_count(m), 7);
	CU_ASSERT_EQUAL(arc_msg_get_stats(m)->key_lookups, 3);
	CU_ASSERT_EQUAL(count_reason(m, ARC_DKIM_POLICY, "key query limit"),
	    4);
	arc_msg_free(m);
	arc_lib_limits(lib)->max_key_queries = 64;
	m = verify(lib, msg, ARC_MSG_DKIM);
	CU_ASSERT_EQUAL(arc_msg_get_stats(m)->key_lookups, 7);
	CU_ASSERT_EQUAL(count_reason(m, ARC_DKIM_POLICY, "key query"), 0);
	arc_msg_free(m);
	free(msg);
	free(text);
	arc_lib_free(lib);
}

/* ---- results at the edges ------------------------------------------------ */

static void
t_edges(void)
{
	arc_lib		*lib = make_lib();
	char		*text, *msg;
	arc_msg		*m;

	/* RFC 6376 §3.5: x= MUST be greater than t= */
	arc_lib_set_now(lib, 100);
	CU_ASSERT_FATAL(asprintf(&msg, "DKIM-Signature: v=1; a=rsa-sha256; "
	    "d=example.org; s=r1024; h=from; bh=AA; b=AA; t=200; x=200\r\n"
	    "From: a@example.org\r\n\r\nbody\r\n") > 0);
	m = verify(lib, msg, ARC_MSG_DKIM);
	CU_ASSERT_EQUAL(arc_msg_dkim(m, 0)->result, ARC_DKIM_PERMERROR);
	arc_msg_free(m);
	free(msg);
	arc_lib_set_now(lib, 0);

	/* an RSA key over max-rsa-bits is our limit: policy */
	text = fixture("rsa-relaxed-simple");
	arc_lib_limits(lib)->min_rsa_bits = 512;
	arc_lib_limits(lib)->max_rsa_bits = 800;
	m = verify(lib, text, ARC_MSG_DKIM);
	CU_ASSERT_EQUAL(arc_msg_dkim(m, 0)->result, ARC_DKIM_POLICY);
	CU_ASSERT_PTR_NOT_NULL(strstr(arc_msg_dkim(m, 0)->reason,
	    "configured limit"));
	arc_msg_free(m);
	free(text);
	arc_lib_free(lib);
}

/* Out of memory with signatures present is an error, not "none". */
static void
t_nomem(void)
{
	arc_lib		*lib;
	arc_msg		*m;
	char		*text, *ar;
	int		 at;

	void		*probe;

	if (!CAN_FAIL_CALLOC) {
		fprintf(stderr, "(calloc injection skipped under ASan) ");
		return;
	}
	/* valgrind replaces calloc even here: then it cannot fail */
	calloc_fail_at = 1;
	if ((probe = calloc(1, 1)) != NULL) {
		calloc_fail_at = 0;
		free(probe);
		fprintf(stderr, "(calloc injection not possible here) ");
		return;
	}
	lib = make_lib();
	text = fixture("multiple");
	for (at = 1; at <= 3; at++) {
		char	*body;

		const char *f, *e;

		m = arc_msg_create(lib, ARC_MSG_DKIM);
		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		body = strstr(text, "\r\n\r\n");
		/* the header fields, then fail the at-th calloc of eoh */
		for (f = text; f < body + 2; f = e) {
			for (e = f; (e = strstr(e, "\r\n")) != NULL &&
			    (e[2] == ' ' || e[2] == '\t'); e += 2)
				;
			e += 2;
			CU_ASSERT_EQUAL(arc_msg_header(m, f, (size_t)(e - f)),
			    ARC_OK);
		}
		calloc_fail_at = at;
		CU_ASSERT_EQUAL(arc_msg_eoh(m), ARC_OK);
		calloc_fail_at = 0;
		CU_ASSERT_EQUAL(arc_msg_body(m, (const unsigned char *)body +
		    4, strlen(body + 4)), ARC_OK);
		if (arc_msg_eom(m) == ARC_PENDING)
			arc_msg_wait(m, 5000);
		ar = arc_msg_dkim_authres(m);
		CU_ASSERT_PTR_NOT_NULL_FATAL(ar);
		if (at <= 3 && strncmp(ar, "dkim=temperror", 14) != 0)
			fprintf(stderr, "calloc %d failed: %s\n", at, ar);
		CU_ASSERT_EQUAL(strncmp(ar, "dkim=temperror", 14), 0);
		CU_ASSERT_PTR_NULL(strstr(ar, "dkim=none"));
		free(ar);
		arc_msg_free(m);
	}
	free(text);
	arc_lib_free(lib);
}

/* ---- key records re-parsed ----------------------------------------------- */

static void
t_keyrec(void)
{
	arc_keyentry	 e;
	char		*kt, *p, *rec;
	size_t		 len;

	/* the r1024 record of the key table, unquoted */
	CU_ASSERT_PTR_NOT_NULL_FATAL(kt = slurp(keytable, &len));
	p = strstr(kt, "\nr1024._domainkey.example.org \"");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	p = strchr(p, '"') + 1;
	CU_ASSERT_FATAL((rec = strndup(p, strcspn(p, "\""))) != NULL);
	p = strstr(rec, "p=");
	CU_ASSERT_PTR_NOT_NULL_FATAL(p);

	memset(&e, 0, sizeof(e));
	{
		char *flagged;

		CU_ASSERT_FATAL(asprintf(&flagged, "v=DKIM1; t=y:s; %s", p) >
		    0);
		arc_keyrec_parse(&e, flagged, 1024, 8192);
		free(flagged);
	}
	CU_ASSERT_PTR_NULL(e.error);
	CU_ASSERT_TRUE(e.testing);
	CU_ASSERT_TRUE(e.strict);
	/* the same entry, a record without flags: none stays */
	arc_keyrec_parse(&e, p, 1024, 8192);
	CU_ASSERT_PTR_NULL(e.error);
	CU_ASSERT_FALSE(e.testing);
	CU_ASSERT_FALSE(e.strict);
	/* the error names k= by its value's length only */
	arc_keyrec_parse(&e, "k=abc; p=SECRETVALUE", 1024, 8192);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e.error);
	CU_ASSERT_STRING_EQUAL(e.error, "unknown key type k=abc");
	arc_keyrec_parse(&e, "k=a\r\n\tb; p=x", 1024, 8192);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e.error);
	CU_ASSERT_PTR_NULL(strpbrk(e.error, "\r\n\t"));
	free(e.error);
	EVP_PKEY_free(e.pkey);
	EVP_MD_CTX_free(e.vctx);
	EVP_PKEY_CTX_free(e.pctx);
	free(rec);
	free(kt);
}

/* ---- forged Authentication-Results and the AAR --------------------------- */

#define FORGED	"Authentication-Results: mx.test.example; dkim=pass " \
		"header.d=bank.example\r\n"

static char *
with_forged(void)
{
	char	*text = fixture("rsa-relaxed-simple"), *m;

	CU_ASSERT_FATAL(asprintf(&m, "%s%s", FORGED, text) > 0);
	free(text);
	return m;
}

static void
t_aar_core(void)
{
	arc_lib		*lib = make_lib();
	arc_signer	*s;
	arc_msg		*m;
	arc_seal_result	 res;
	char		 err[256], *text = with_forged(), *d, *ar;
	const char	*extra[2];
	unsigned	 flags;

	s = arc_signer_create("seal.example", "s1", sealkey, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	for (flags = 0; flags <= ARC_SEAL_NO_MESSAGE_AR; flags +=
	    ARC_SEAL_NO_MESSAGE_AR) {
		m = arc_msg_create(lib, ARC_MSG_VERIFY | ARC_MSG_SEAL |
		    ARC_MSG_DKIM);
		CU_ASSERT_PTR_NOT_NULL_FATAL(m);
		CU_ASSERT_EQUAL(arc_msg_set_signer(m, s), ARC_OK);
		CU_ASSERT_EQUAL(arc_msg_feed(m, text, strlen(text)), ARC_OK);
		CU_ASSERT_EQUAL(arc_msg_eom(m), ARC_OK);
		d = arc_msg_dkim_authres(m);
		CU_ASSERT_FATAL(asprintf(&ar, "mx.test.example; %s", d) > 0);
		extra[0] = ar;
		extra[1] = NULL;
		CU_ASSERT_EQUAL(arc_msg_seal(m, s, "mx.test.example", extra, 0,
		    flags, &res), ARC_OK);
		CU_ASSERT_TRUE_FATAL(res.sealed);
		CU_ASSERT_PTR_NOT_NULL(strstr(res.aar,
		    "dkim=pass header.d=example.org"));
		/* without the flag: the milter's case (an earlier milter
		 * wrote it) */
		CU_ASSERT_EQUAL(strstr(res.aar, "bank.example") == NULL,
		    (flags & ARC_SEAL_NO_MESSAGE_AR) != 0);
		arc_seal_result_clear(&res);
		free(ar);
		free(d);
		arc_msg_free(m);
	}
	arc_signer_free(s);
	free(text);
	arc_lib_free(lib);
}

/* The AAR the adapter layer seals for a message carrying a forged A-R
 * of our authserv-id, under conf lines extra and params no_message_ar;
 * NULL if the configuration is refused (err). */
static char *
session_aar(const char *extra, int no_message_ar, char *err, size_t errlen)
{
	char			 path[400], text[2048];
	arc_conf		*c;
	arc_adapter		*ad;
	arc_session		*ss;
	arc_session_params	 p;
	const arc_actions	*a;
	char			*msg = with_forged(), *aar = NULL;
	FILE			*f;
	int			 i;

	snprintf(path, sizeof(path), "%s/arc.conf", dir);
	snprintf(text, sizeof(text), "authserv-id mx.test.example\n"
	    "key-table %s\ndns no\nseal-domain seal.example\n"
	    "seal-selector s1\nseal-key %s\nlog-level err\n%s", keytable,
	    sealkey, extra);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f = fopen(path, "w"));
	fputs(text, f);
	fclose(f);
	if ((c = arc_conf_load(path, err, errlen)) == NULL) {
		free(msg);
		return NULL;
	}
	if ((ad = arc_adapter_create(c, NULL, NULL, err, errlen)) == NULL) {
		arc_conf_free(c);
		free(msg);
		return NULL;
	}
	memset(&p, 0, sizeof(p));
	p.seal = 1;
	p.no_message_ar = no_message_ar;
	CU_ASSERT_PTR_NOT_NULL_FATAL(ss = arc_session_create(ad, &p));
	CU_ASSERT_EQUAL(arc_session_feed(ss, msg, strlen(msg)), 0);
	CU_ASSERT_EQUAL(arc_session_wait(ss), ARC_SESSION_DONE);
	a = arc_session_actions(ss);
	for (i = 0; i < a->nfields; i++)
		if (strncmp(a->fields[i], "ARC-Authentication-Results:", 27)
		    == 0)
			aar = strdup(a->fields[i]);
	CU_ASSERT_PTR_NOT_NULL(aar);
	arc_session_free(ss);
	arc_adapter_free(ad);
	arc_conf_free(c);
	free(msg);
	return aar;
}

static void
t_aar_session(void)
{
	static const struct {
		const char	*conf;
		int		 no_message_ar, copied, ours;
	} cases[] = {
		/* authenticate: never copied, whatever the host */
		{ "authenticate dkim\n", 0, 0, 1 },
		{ "authenticate dkim\n", 1, 0, 1 },
		{ "authenticate dkim\naar-from-message no\n", 0, 0, 1 },
		/* no authenticate: the adapter's choice, then arc.conf */
		{ "", 0, 1, 0 },			/* arc-milter */
		{ "", 1, 0, 0 },			/* filter-arc, Exim */
		{ "aar-from-message no\n", 0, 0, 0 },
		{ "aar-from-message yes\n", 1, 1, 0 },
	};
	char	 err[512], *aar;
	size_t	 i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		aar = session_aar(cases[i].conf, cases[i].no_message_ar, err,
		    sizeof(err));
		if (aar == NULL)
			fprintf(stderr, "case %zu: %s\n", i, err);
		CU_ASSERT_PTR_NOT_NULL_FATAL(aar);
		if ((strstr(aar, "bank.example") != NULL) != cases[i].copied)
			fprintf(stderr, "case %zu: %s\n", i, aar);
		CU_ASSERT_EQUAL(strstr(aar, "bank.example") != NULL,
		    cases[i].copied);
		CU_ASSERT_EQUAL(strstr(aar, "header.d=example.org") != NULL,
		    cases[i].ours);
		free(aar);
	}
	/* asking for both is a mistake, said with file:line */
	aar = session_aar("authenticate dkim\naar-from-message yes\n", 0,
	    err, sizeof(err));
	CU_ASSERT_PTR_NULL(aar);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "arc.conf:9: aar-from-message"));
	free(aar);
}

int
main(void)
{
	static const cunit_test tests[] = {
		{ "one header hashing budget for all signatures",
		    t_hash_budget },
		{ "at most four DKIM body hashers", t_body_hashers },
		{ "DKIM key lookups under max-key-queries", t_key_queries },
		{ "x= equal to t=, RSA over max-rsa-bits", t_edges },
		{ "out of memory is temperror, not none", t_nomem },
		{ "key record re-parsed, k= in errors", t_keyrec },
		{ "forged A-R kept out of the AAR (core)", t_aar_core },
		{ "forged A-R kept out of the AAR (session)", t_aar_session },
		{ NULL, NULL }
	};

	return cunit_run("dkim-limits", init, clean, tests);
}
