/*
 * test_verify_hostile.c - chain validation against chains made to cost:
 * the work per message bounded by its size (issue 12, defect 4), key
 * lookups in stages (RFC 8617 §9.2), a DNS outage that must not end a
 * chain for good, the seals hashed in one pass (issue 16) and numbers
 * from outside that must not overflow.
 *
 * Contract:
 *  - Keys are generated here (Ed25519, and RSA where it matters); the
 *    public halves are served from a key table file or from a counting
 *    txt-lookup callback.  The DNS outage is a real libunbound pointed
 *    at a UDP socket on 127.0.0.1 that never answers.
 *  - The attack chain of issue 12 (50 sets, each AMS over 845 fields of
 *    64 KB) is built here with the library's canonicalization and
 *    OpenSSL: Ed25519 signs the SHA-256 of what it covers (RFC 8463), so
 *    the 845 fields are hashed once for all 50 AMSs.  No timing is
 *    judged: the assertions are on the bytes the library says it hashed
 *    and on the A-R text.
 *  - "test_verify_hostile --write-attack FILE KEYTABLE" writes the
 *    attack message and its key table, for timing arctool by hand.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cunit_run.h"
#include "test_fixture.h"

#include "arc.h"
#include "arc_adapter.h"
#include "arc_buf.h"
#include "arc_canon.h"
#include "arc_crypto.h"
#include "arc_keys.h"
#include "arc_tags.h"

static char	 dir[] = "/tmp/arc-test-hostile.XXXXXX";
static char	 keyfile[300], keytable[300];
static EVP_PKEY	*ed, *ed2;	/* the attacker's, a forger's */

static const char BODY[] = "Hello.\r\n";
static const char BASE[] =
    "From: Alice <alice@origin.example>\r\n"
    "To: bob@list.example\r\n"
    "Subject: hostile chains\r\n"
    "Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n"
    "Message-ID: <hostile-1@origin.example>\r\n"
    "\r\n"
    "Hello.\r\n";

/* ---- keys -------------------------------------------------------------- */

static char *
pub_record(EVP_PKEY *k)
{
	unsigned char	 raw[32];
	size_t		 n = sizeof(raw);
	char		 b64[64], *r;

	if (EVP_PKEY_get_raw_public_key(k, raw, &n) != 1 || n != 32)
		return NULL;
	EVP_EncodeBlock((unsigned char *)b64, raw, (int)n);
	if (asprintf(&r, "v=DKIM1; k=ed25519; p=%s", b64) < 0)
		return NULL;
	return r;
}

static arc_signer *
signer_for(EVP_PKEY *k, const char *domain, const char *selector)
{
	BIO		*bio = BIO_new(BIO_s_mem());
	char		*pem, err[256];
	long		 n;
	arc_signer	*s = NULL;

	if (bio != NULL && PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0,
	    NULL, NULL)) {
		n = BIO_get_mem_data(bio, &pem);
		s = arc_signer_create_pem(domain, selector, pem, (size_t)n,
		    err, sizeof(err));
	}
	BIO_free(bio);
	return s;
}

/* A key source that counts its queries: every qname ending in
 * "._domainkey.dN.example" or "...att.example" gets ed's record, except
 * the one named in forged_qname, which gets ed2's. */
typedef struct {
	unsigned	 calls;
	const char	*forged_qname;
	char		*rec, *rec2;
} ring;

static char *
ring_lookup(void *arg, const char *qname)
{
	ring	*r = arg;

	r->calls++;
	if (r->forged_qname && strcmp(qname, r->forged_qname) == 0)
		return strdup(r->rec2);
	return strdup(r->rec);
}

static arc_lib *
lib_with(ring *r, const char *forged)
{
	arc_lib	*lib = arc_lib_create();

	memset(r, 0, sizeof(*r));
	r->rec = pub_record(ed);
	r->rec2 = pub_record(ed2);
	r->forged_qname = forged;
	if (lib)
		arc_lib_set_txt_lookup(lib, ring_lookup, r);
	return lib;
}

static void
ring_free(ring *r)
{
	free(r->rec);
	free(r->rec2);
}

/* ---- chains made by the library ---------------------------------------- */

/* Seals text once as d=domain s=s with key k; NULL if not sealed. */
static char *
seal_once(arc_lib *lib, EVP_PKEY *k, const char *domain, const char *text)
{
	arc_signer	*s = signer_for(k, domain, "s");
	arc_msg		*m = arc_msg_create(lib, ARC_MSG_SEAL);
	arc_seal_result	 res;
	char		*out = NULL;

	memset(&res, 0, sizeof(res));
	if (s != NULL && m != NULL && arc_msg_set_signer(m, s) == ARC_OK &&
	    arc_msg_feed(m, text, strlen(text)) == ARC_OK &&
	    arc_msg_eom(m) == ARC_OK && arc_msg_seal(m, s, "mx.test", NULL,
	    1700000000, ARC_SEAL_NOFOLD, &res) == ARC_OK && res.sealed &&
	    asprintf(&out, "%s%s%s%s", res.as, res.ams, res.aar, text) < 0)
		out = NULL;
	arc_seal_result_clear(&res);
	arc_msg_free(m);
	arc_signer_free(s);
	return out;
}

/* n hops, hop i sealed by d<i>.example (distinct: true) or all by
 * d1.example; hop forged_at signed with ed2 under its own name. */
static char *
chain(int n, int distinct, int forged_at)
{
	ring	 r;
	char	 dom[64], q[128], *t = strdup(BASE), *u;
	arc_lib	*lib;
	int	 i;

	snprintf(q, sizeof(q), "s._domainkey.d%d.example", forged_at);
	/* the sealers' own view: the forged key is what they look up */
	lib = lib_with(&r, forged_at ? q : NULL);
	for (i = 1; i <= n && t != NULL; i++) {
		snprintf(dom, sizeof(dom), "d%d.example", distinct ? i : 1);
		u = seal_once(lib, i == forged_at ? ed2 : ed, dom, t);
		free(t);
		t = u;
	}
	arc_lib_free(lib);
	ring_free(&r);
	return t;
}

typedef struct {
	arc_cv		 cv;
	int		 oldest, skipped, temperror, pending;
	arc_msg_stats	 st;
	char		 reason[512];
	char		*ar;
} verdict;

/* Verifies text; pending: how often arc_msg_eom() said ARC_PENDING. */
static verdict
verify(arc_lib *lib, const char *text, size_t len)
{
	verdict	 v;
	arc_msg	*m = arc_msg_create(lib, ARC_MSG_VERIFY);
	arc_status r;

	memset(&v, 0, sizeof(v));
	v.cv = (arc_cv)-1;
	if (m == NULL || arc_msg_feed(m, text, len) != ARC_OK)
		goto out;
	while ((r = arc_msg_eom(m)) == ARC_PENDING && v.pending < 100) {
		v.pending++;
		arc_msg_wait(m, 5000);
	}
	if (r != ARC_OK)
		goto out;
	v.cv = arc_msg_cv(m);
	v.oldest = arc_msg_oldest_pass(m);
	v.skipped = arc_msg_oldest_pass_skipped(m);
	v.temperror = arc_msg_temperror(m);
	v.st = *arc_msg_get_stats(m);
	snprintf(v.reason, sizeof(v.reason), "%s", arc_msg_reason(m));
	v.ar = arc_msg_authres(m, "mx.test", NULL);
out:
	arc_msg_free(m);
	return v;
}

#define HAS(s, sub)	((s) != NULL && strstr((s), (sub)) != NULL)

/* ---- the attack chain of issue 12, built by hand ----------------------- */

static void
canon(arc_buf *b, const char *field, int crlf)
{
	arc_canon_header(b, field, strlen(field), ARC_CANON_RELAXED, NULL, 0,
	    crlf);
}

static int
sign_md(EVP_PKEY *k, const unsigned char md[32], arc_buf *out)
{
	EVP_MD_CTX	*c = EVP_MD_CTX_new();
	unsigned char	 sig[64];
	size_t		 n = sizeof(sig);
	int		 ok;

	ok = c != NULL && EVP_DigestSignInit(c, NULL, NULL, NULL, k) == 1 &&
	    EVP_DigestSign(c, sig, &n, md, 32) == 1 &&
	    arc_base64_encode(out, sig, n);
	EVP_MD_CTX_free(c);
	return ok;
}

static void
sha(const arc_buf *b, const EVP_MD_CTX *prefix, unsigned char md[32])
{
	EVP_MD_CTX	*c = EVP_MD_CTX_new();

	if (prefix)
		EVP_MD_CTX_copy_ex(c, prefix);
	else
		EVP_DigestInit_ex(c, EVP_sha256(), NULL);
	EVP_DigestUpdate(c, b->data, b->len);
	EVP_DigestFinal_ex(c, md, NULL);
	EVP_MD_CTX_free(c);
}

/* nsets sets by d=att.example s=a, each AMS over nfields fields of
 * flen bytes ("X-F: aaa..."); tamper: one byte of AAR i=1 changed
 * after signing.  The message is in the returned buffer. */
static arc_buf
attack(int nsets, int nfields, size_t flen, int tamper)
{
	arc_buf		 msg = { 0 }, sets = { 0 }, chainc = { 0 };
	arc_buf		 t = { 0 }, hl = { 0 }, xf = { 0 };
	char		*aar[51], *ams[51], *as[51], *p;
	unsigned char	 md[32];
	EVP_MD_CTX	*prefix = EVP_MD_CTX_new();
	arc_bodyhash	*bh = arc_bodyhash_create(ARC_CANON_RELAXED, -1);
	int		 i, j;

	arc_buf_adds(&xf, "X-F: ");
	while (xf.len < flen)
		arc_buf_addc(&xf, 'a');
	/* the fields every AMS signs, hashed once */
	EVP_DigestInit_ex(prefix, EVP_sha256(), NULL);
	canon(&t, xf.data, 1);
	for (j = 0; j < nfields; j++) {
		EVP_DigestUpdate(prefix, t.data, t.len);
		arc_buf_adds(&hl, j ? ":x-f" : "x-f");
	}
	arc_bodyhash_update(bh, (const unsigned char *)BODY, strlen(BODY));
	arc_bodyhash_final(bh, md);
	arc_bodyhash_free(bh);
	arc_buf_reset(&t);
	arc_base64_encode(&t, md, 32);
	p = arc_buf_steal(&t);
	for (i = 1; i <= nsets; i++) {
		arc_buf f = { 0 };

		arc_buf_printf(&f, "ARC-Authentication-Results: i=%d; "
		    "att.example; arc=%s", i, i == 1 ? "none" : "pass");
		aar[i] = arc_buf_steal(&f);
		arc_buf_printf(&f, "ARC-Message-Signature: i=%d; "
		    "a=ed25519-sha256; c=relaxed/relaxed; d=att.example; s=a; "
		    "t=1700000000; h=%s; bh=%s; b=", i, hl.data, p);
		arc_buf_reset(&t);
		canon(&t, f.data, 0);
		sha(&t, prefix, md);
		sign_md(ed, md, &f);
		ams[i] = arc_buf_steal(&f);
		/* the AS: the chain below, this set's AAR and AMS, itself */
		canon(&chainc, aar[i], 1);
		canon(&chainc, ams[i], 1);
		arc_buf_printf(&f, "ARC-Seal: i=%d; a=ed25519-sha256; cv=%s; "
		    "d=att.example; s=a; t=1700000000; b=", i,
		    i == 1 ? "none" : "pass");
		arc_buf_reset(&t);
		arc_buf_add(&t, chainc.data, chainc.len);
		canon(&t, f.data, 0);
		sha(&t, NULL, md);
		sign_md(ed, md, &f);
		as[i] = arc_buf_steal(&f);
		canon(&chainc, as[i], 1);
	}
	if (tamper)
		aar[1][strlen(aar[1]) - 1] = 'x';	/* arc=none -> nonx */
	for (i = nsets; i >= 1; i--) {
		arc_buf_printf(&sets, "%s\r\n%s\r\n%s\r\n", as[i], ams[i],
		    aar[i]);
		free(aar[i]);
		free(ams[i]);
		free(as[i]);
	}
	arc_buf_add(&msg, sets.data, sets.len);
	for (j = 0; j < nfields; j++)
		arc_buf_printf(&msg, "%s\r\n", xf.data);
	arc_buf_printf(&msg, "From: mallory@att.example\r\n\r\n%s", BODY);
	free(p);
	arc_buf_free(&sets);
	arc_buf_free(&chainc);
	arc_buf_free(&t);
	arc_buf_free(&hl);
	arc_buf_free(&xf);
	EVP_MD_CTX_free(prefix);
	return msg;
}

static size_t
header_bytes(const arc_buf *m)
{
	const char *e = strstr(m->data, "\r\n\r\n");

	return e ? (size_t)(e - m->data) + 2 : m->len;
}

/* Issue 12 defect 4: the chain passes (the attacker signed it well), the
 * newest AMS is hashed once, oldest-pass stops at its budget and the A-R
 * says so.  Before: every older AMS, 50 x 54 MB. */
static void
test_attack_budget(void)
{
	arc_lib		*lib = arc_lib_create();
	arc_buf		 m;
	verdict		 v;
	size_t		 h;

	CU_ASSERT_PTR_NOT_NULL_FATAL(lib);
	CU_ASSERT_FATAL(arc_lib_add_keytable(lib, keytable) == ARC_OK);
	m = attack(50, 845, 65500, 0);
	h = header_bytes(&m);
	CU_ASSERT(h > 845 * 65500);
	v = verify(lib, m.data, m.len);
	CU_ASSERT_EQUAL(v.cv, ARC_CV_PASS);
	CU_ASSERT_EQUAL(v.oldest, -1);
	CU_ASSERT_EQUAL(v.skipped, 1);
	CU_ASSERT(HAS(v.ar, "arc=pass"));
	CU_ASSERT(HAS(v.ar, "(oldest-pass not computed: over budget)"));
	CU_ASSERT(!HAS(v.ar, "header.oldest-pass"));
	/* the newest AMS: its 845 fields once; oldest-pass: within 2 x h */
	CU_ASSERT(v.st.ams_bytes > 845ULL * 65500 && v.st.ams_bytes < h);
	CU_ASSERT(v.st.oldest_pass_bytes <= 2 * h);
	CU_ASSERT(v.st.oldest_pass_bytes >= h);		/* it did try */
	/* the seals: about the ARC fields once each, never the 54 MB */
	CU_ASSERT(v.st.seal_bytes < h / 100);
	printf("\n    header %zu bytes: newest AMS %llu, oldest-pass %llu, "
	    "seals %llu bytes hashed ", h, v.st.ams_bytes,
	    v.st.oldest_pass_bytes, v.st.seal_bytes);
	free(v.ar);
	arc_buf_free(&m);
	arc_lib_free(lib);
}

/* A failing chain never gets to oldest-pass: the seals come first. */
static void
test_attack_fail_first(void)
{
	arc_lib		*lib = arc_lib_create();
	arc_buf		 m;
	verdict		 v;

	CU_ASSERT_PTR_NOT_NULL_FATAL(lib);
	CU_ASSERT_FATAL(arc_lib_add_keytable(lib, keytable) == ARC_OK);
	m = attack(50, 100, 4000, 1);
	v = verify(lib, m.data, m.len);
	CU_ASSERT_EQUAL(v.cv, ARC_CV_FAIL);
	CU_ASSERT(HAS(v.reason, "AS i=50"));
	CU_ASSERT_EQUAL(v.st.oldest_pass_bytes, 0);
	CU_ASSERT(v.st.ams_bytes > 100 * 4000);
	CU_ASSERT(v.st.ams_bytes < 2 * 100 * 4000);
	free(v.ar);
	arc_buf_free(&m);
	/* and the good one of the same shape computes oldest-pass in full
	 * when the budget allows it (a factor of 60 here) */
	arc_lib_limits(lib)->oldest_pass_factor = 60;
	m = attack(50, 100, 4000, 0);
	v = verify(lib, m.data, m.len);
	CU_ASSERT_EQUAL(v.cv, ARC_CV_PASS);
	CU_ASSERT_EQUAL(v.oldest, 0);
	CU_ASSERT_EQUAL(v.skipped, 0);
	CU_ASSERT(HAS(v.ar, "header.oldest-pass=0"));
	CU_ASSERT(v.st.oldest_pass_bytes > 49ULL * 100 * 4000);
	free(v.ar);
	arc_buf_free(&m);
	arc_lib_free(lib);
}

/* The budget on an ordinary chain: the default leaves oldest-pass to it;
 * a cap or a factor of 0 turns it off, and the A-R says so. */
static void
test_budget_options(void)
{
	ring	 r;
	arc_lib	*lib = lib_with(&r, NULL);
	char	*t = chain(5, 1, 0);
	verdict	 v;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(arc_lib_limits(lib)->oldest_pass_factor, 2);
	CU_ASSERT_EQUAL(arc_lib_limits(lib)->max_oldest_pass_bytes, 0);
	v = verify(lib, t, strlen(t));
	CU_ASSERT_EQUAL(v.cv, ARC_CV_PASS);
	CU_ASSERT_EQUAL(v.oldest, 0);
	CU_ASSERT_EQUAL(v.skipped, 0);
	CU_ASSERT(v.st.oldest_pass_bytes > 0);
	free(v.ar);
	arc_lib_limits(lib)->max_oldest_pass_bytes = 100;
	v = verify(lib, t, strlen(t));
	CU_ASSERT_EQUAL(v.cv, ARC_CV_PASS);
	CU_ASSERT_EQUAL(v.oldest, -1);
	CU_ASSERT_EQUAL(v.skipped, 1);
	CU_ASSERT(v.st.oldest_pass_bytes <= 100);
	CU_ASSERT(HAS(v.ar, "oldest-pass not computed"));
	free(v.ar);
	arc_lib_limits(lib)->max_oldest_pass_bytes = 0;
	arc_lib_limits(lib)->oldest_pass_factor = 0;
	v = verify(lib, t, strlen(t));
	CU_ASSERT_EQUAL(v.skipped, 1);
	CU_ASSERT_EQUAL(v.st.oldest_pass_bytes, 0);
	free(v.ar);
	free(t);
	arc_lib_free(lib);
	ring_free(&r);
}

/* ---- staged key lookups ------------------------------------------------ */

/* 50 sealers, the seal of i=49 forged: the newest set's key, then i=49's,
 * and no more (before: all 50). */
static void
test_staged_forged(void)
{
	ring	 r;
	arc_lib	*lib = lib_with(&r, NULL);
	char	*t = chain(50, 1, 49);
	verdict	 v;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	v = verify(lib, t, strlen(t));
	CU_ASSERT_EQUAL(v.cv, ARC_CV_FAIL);
	CU_ASSERT(HAS(v.reason, "AS i=49 d=d49.example"));
	CU_ASSERT(r.calls <= 3);
	CU_ASSERT(v.st.key_lookups <= 3);
	CU_ASSERT_EQUAL(v.temperror, 0);
	printf("\n    forged i=49 of 50: %u key queries ", r.calls);
	free(v.ar);
	free(t);
	arc_lib_free(lib);
	ring_free(&r);
}

/* A good chain of 5 sealers: each key once; again with the keys cached:
 * no query and no ARC_PENDING, i.e. no round trip. */
static void
test_staged_cached(void)
{
	ring	 r;
	arc_lib	*lib = lib_with(&r, NULL);
	char	*t = chain(5, 1, 0);
	verdict	 v;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	v = verify(lib, t, strlen(t));
	CU_ASSERT_EQUAL(v.cv, ARC_CV_PASS);
	CU_ASSERT_EQUAL(v.oldest, 0);
	CU_ASSERT_EQUAL(r.calls, 5);
	CU_ASSERT_EQUAL(v.pending, 0);
	free(v.ar);
	r.calls = 0;
	v = verify(lib, t, strlen(t));
	CU_ASSERT_EQUAL(v.cv, ARC_CV_PASS);
	CU_ASSERT_EQUAL(r.calls, 0);
	CU_ASSERT_EQUAL(v.pending, 0);
	free(v.ar);
	free(t);
	arc_lib_free(lib);
	ring_free(&r);
}

/* ---- the seals in one pass --------------------------------------------- */

/* The bytes hashed for the seals are those of the ARC fields, each
 * once (the AS twice: with and without b=), however long the chain:
 * before, every AS hashed the whole chain below it again. */
static void
test_seal_hash_linear(void)
{
	ring	 r;
	arc_lib	*lib = lib_with(&r, NULL);
	char	*t5 = chain(5, 0, 0), *t50 = chain(50, 0, 0);
	verdict	 v5, v50;
	size_t	 base = strstr(BASE, "\r\n\r\n") - BASE, a5, a50;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t5);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t50);
	a5 = (size_t)(strstr(t5, "\r\n\r\n") - t5) - base;
	a50 = (size_t)(strstr(t50, "\r\n\r\n") - t50) - base;
	v5 = verify(lib, t5, strlen(t5));
	v50 = verify(lib, t50, strlen(t50));
	CU_ASSERT_EQUAL(v5.cv, ARC_CV_PASS);
	CU_ASSERT_EQUAL(v50.cv, ARC_CV_PASS);
	printf("\n    ARC fields / seal bytes hashed: 5 hops %zu / %llu, "
	    "50 hops %zu / %llu ", a5, v5.st.seal_bytes, a50,
	    v50.st.seal_bytes);
	CU_ASSERT(v5.st.seal_bytes >= a5 && v5.st.seal_bytes < 2 * a5);
	CU_ASSERT(v50.st.seal_bytes >= a50 && v50.st.seal_bytes < 2 * a50);
	free(v5.ar);
	free(v50.ar);
	free(t5);
	free(t50);
	arc_lib_free(lib);
	ring_free(&r);
}

/* 30 sets whose AMSs each claim another l=: the body is hashed a few
 * times, not once per set (review r3: 50 distinct l= over a 50 MB body
 * cost 1.8 s), and oldest-pass, which alone needs them, is given up. */
static void
test_body_hashers_bounded(void)
{
	ring	 r;
	arc_lib	*lib = lib_with(&r, NULL);
	char	*t = malloc(30 * 600 + sizeof(BASE)), *o = t;
	verdict	 v;
	int	 i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	for (i = 30; i >= 1; i--)
		o += sprintf(o, "ARC-Seal: i=%d; a=rsa-sha256; d=a%d.example; "
		    "s=s; cv=%s; b=AAAA\r\nARC-Message-Signature: i=%d; "
		    "a=rsa-sha256; c=relaxed/relaxed; d=a%d.example; s=s; "
		    "l=%d; h=from; bh=AAAA; b=AAAA\r\n"
		    "ARC-Authentication-Results: i=%d; mx.a%d.example; "
		    "arc=none\r\n", i, i, i == 1 ? "none" : "pass", i, i,
		    i, i, i);
	strcpy(o, BASE);
	v = verify(lib, t, strlen(t));
	CU_ASSERT_EQUAL(v.cv, ARC_CV_FAIL);
	printf("\n    body hashers for 30 distinct l=: %u ",
	    v.st.body_hashers);
	CU_ASSERT(v.st.body_hashers >= 1 && v.st.body_hashers <= 4);
	free(v.ar);
	free(t);
	arc_lib_free(lib);
	ring_free(&r);
}

/* ---- a DNS outage ------------------------------------------------------ */

static void
no_log(void *arg, int level, const char *line)
{
	(void)arg;
	(void)level;
	(void)line;
}

/* A UDP socket on 127.0.0.1 that never answers: a blackholed resolver. */
static int
silent_resolver(int *port)
{
	struct sockaddr_in	 sa;
	socklen_t		 sl = sizeof(sa);
	int			 fd = socket(AF_INET, SOCK_DGRAM, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&sa, &sl) != 0) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	*port = ntohs(sa.sin_port);
	return fd;
}

static const arc_actions *
run_session(arc_adapter *ad, const char *msg, arc_session **ssp)
{
	arc_session_params	 p;

	memset(&p, 0, sizeof(p));
	p.id = "T1";
	p.seal = -1;
	*ssp = arc_session_create(ad, &p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(*ssp);
	CU_ASSERT_EQUAL(arc_session_feed(*ssp, msg, strlen(msg)), 0);
	CU_ASSERT_EQUAL(arc_session_wait(*ssp), ARC_SESSION_DONE);
	return arc_session_actions(*ssp);
}

/* With the resolver down, a chain that would pass is not sealed cv=fail
 * (which ends it for good): passed on unsealed with the temperror in our
 * A-R, or 451 with on-error tempfail. */
static void
test_dns_outage(void)
{
	char		 text[2048], err[512], path[400];
	arc_conf	*c;
	arc_adapter	*ad;
	arc_session	*ss;
	const arc_actions *a;
	ring		 r;
	arc_lib		*lib = lib_with(&r, NULL);
	char		*t;
	int		 fd, port = 0, pass;

	/* sealed once by a domain no key table knows: DNS must answer */
	t = seal_once(lib, ed, "dns-only.example", BASE);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	fd = silent_resolver(&port);
	CU_ASSERT_FATAL(fd >= 0);
	snprintf(path, sizeof(path), "%s/arc.conf", dir);
	for (pass = 0; pass < 2; pass++) {
		snprintf(text, sizeof(text), "authserv-id mx.test.example\n"
		    "key-table %s\ndns yes\ndns-forwarder 127.0.0.1@%d\n"
		    "dns-timeout 300\nmessage-timeout 5000\n"
		    "seal-domain seal.example\nseal-selector s1\nseal-key %s\n"
		    "%s", keytable, port, keyfile,
		    pass ? "on-error tempfail\n" : "");
		CU_ASSERT_FATAL(write_file(path, text, 0644) == 0);
		c = arc_conf_load(path, err, sizeof(err));
		CU_ASSERT_PTR_NOT_NULL_FATAL(c);
		ad = arc_adapter_create(c, no_log, NULL, err, sizeof(err));
		CU_ASSERT_PTR_NOT_NULL_FATAL(ad);
		a = run_session(ad, t, &ss);
		CU_ASSERT_EQUAL(a->cv, ARC_CV_FAIL);
		CU_ASSERT_EQUAL(a->sealed, 0);
		CU_ASSERT_FALSE(a->reject);
		CU_ASSERT(HAS(a->authres, "arc=fail (temperror:"));
		if (pass == 0) {
			CU_ASSERT_FALSE(a->tempfail);
			CU_ASSERT_EQUAL(a->nfields, 1);
			CU_ASSERT(a->nfields >= 1 && strncmp(a->fields[0],
			    "Authentication-Results: ", 24) == 0);
		} else {
			CU_ASSERT_TRUE(a->tempfail);
			CU_ASSERT(a->smtp_reply != NULL &&
			    strncmp(a->smtp_reply, "451 ", 4) == 0);
		}
		/* a body that no key can save fails for good, DNS down
		 * or not: no temperror (review r3: it was one) */
		if (pass == 0) {
			char	*bad = strdup(t), *b = strstr(bad, "Hello.");

			CU_ASSERT_PTR_NOT_NULL_FATAL(b);
			b[0] = 'J';
			arc_session_free(ss);
			a = run_session(ad, bad, &ss);
			CU_ASSERT_EQUAL(a->cv, ARC_CV_FAIL);
			CU_ASSERT(HAS(a->authres, "body hash did not verify"));
			CU_ASSERT(!HAS(a->authres, "temperror"));
			CU_ASSERT_EQUAL(a->sealed, 2);
			free(bad);
		}
		arc_session_free(ss);
		arc_adapter_free(ad);
		arc_conf_free(c);
	}
	/* a permanent failure is no temperror: sealed cv=fail as before */
	snprintf(text, sizeof(text), "authserv-id mx.test.example\n"
	    "key-table %s\ndns no\nseal-domain seal.example\n"
	    "seal-selector s1\nseal-key %s\n", keytable, keyfile);
	CU_ASSERT_FATAL(write_file(path, text, 0644) == 0);
	c = arc_conf_load(path, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	ad = arc_adapter_create(c, no_log, NULL, err, sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(ad);
	a = run_session(ad, t, &ss);
	CU_ASSERT_EQUAL(a->cv, ARC_CV_FAIL);
	CU_ASSERT_EQUAL(a->sealed, 2);
	CU_ASSERT(!HAS(a->authres, "temperror"));
	arc_session_free(ss);
	arc_adapter_free(ad);
	arc_conf_free(c);
	close(fd);
	free(t);
	arc_lib_free(lib);
	ring_free(&r);
}

/* ---- the same over a real unbound, event-loop style -------------------- */

static int
port_free(int type, int p)
{
	struct sockaddr_in	 sa;
	int			 fd = socket(AF_INET, type, 0), ok;

	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sa.sin_port = htons((unsigned short)p);
	ok = fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	if (fd >= 0)
		close(fd);
	return ok;
}

static void
count_ready(arc_msg *m, void *arg)
{
	(void)m;
	(*(int *)arg)++;
}

/* Verifies as an event loop does: arc_msg_eom(), and on ARC_PENDING the
 * resolver's descriptor, arc_lib_dns_process() and the ready callback.
 * *rounds: how often it had to wait. */
static verdict
verify_async(arc_lib *lib, const char *text, int *rounds)
{
	verdict		 v;
	arc_msg		*m = arc_msg_create(lib, ARC_MSG_VERIFY);
	struct pollfd	 pfd;
	int		 ready = 0, seen, spins;
	arc_status	 r;

	memset(&v, 0, sizeof(v));
	v.cv = (arc_cv)-1;
	*rounds = 0;
	if (m == NULL)
		return v;
	arc_msg_set_ready_cb(m, count_ready, &ready);
	if (arc_msg_feed(m, text, strlen(text)) != ARC_OK)
		goto out;
	while ((r = arc_msg_eom(m)) == ARC_PENDING && *rounds < 60) {
		(*rounds)++;
		seen = ready;
		for (spins = 0; ready == seen && spins < 100; spins++) {
			pfd.fd = arc_lib_dns_fd(lib);
			pfd.events = POLLIN;
			(void)poll(&pfd, 1, 50);
			arc_lib_dns_process(lib);
		}
		CU_ASSERT_EQUAL(ready, seen + 1);	/* told once a stage */
	}
	if (r != ARC_OK)
		goto out;
	v.cv = arc_msg_cv(m);
	v.oldest = arc_msg_oldest_pass(m);
	snprintf(v.reason, sizeof(v.reason), "%s", arc_msg_reason(m));
	v.st = *arc_msg_get_stats(m);
out:
	arc_msg_free(m);
	return v;
}

static int
txt_queries(const char *udir)
{
	char	 path[400], line[512];
	FILE	*fp;
	int	 n = 0;

	snprintf(path, sizeof(path), "%s/unbound.log", udir);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strstr(line, "TXT IN") != NULL)
			n++;
	fclose(fp);
	return n;
}

/* Staged lookups through libunbound and a real unbound: a good chain of
 * 5 sealers passes in a few stages, each ending in one ready callback,
 * with one query per key, and none again once cached; a chain of 50
 * whose i=49 seal is forged sends at most 3 queries. */
static void
test_async_unbound(void)
{
	char		 udir[] = "/tmp/arc-test-hostile-dns.XXXXXX";
	char		 cmd[1200], path[400], fwd[64], *rec, *t;
	const char	*script = getenv("ARC_UNBOUND_SCRIPT");
	arc_dns_config	 dc;
	arc_lib		*lib;
	FILE		*fp = NULL;
	verdict		 v;
	int		 port = -1, i, rounds, q0;

	if (system("command -v unbound >/dev/null 2>&1 || "
	    "test -x /usr/sbin/unbound") != 0) {
		printf("skipped (no unbound) ");
		return;
	}
	if (script == NULL)
		script = "tests/dns/run-unbound.sh";
	srand((unsigned)getpid() ^ (unsigned)time(NULL));
	for (i = 0; i < 200 && port < 0; i++) {
		int p = 20000 + rand() % 40000;

		if (port_free(SOCK_DGRAM, p) && port_free(SOCK_STREAM, p) &&
		    port_free(SOCK_DGRAM, p + 1) &&
		    port_free(SOCK_STREAM, p + 2))
			port = p;
	}
	CU_ASSERT_FATAL(port > 0 && mkdtemp(udir) != NULL);
	rec = pub_record(ed);
	snprintf(path, sizeof(path), "%s/keys.conf", udir);
	CU_ASSERT_FATAL(rec != NULL && (fp = fopen(path, "w")) != NULL);
	for (i = 1; i <= 50; i++)
		fprintf(fp, "local-data: 's._domainkey.d%d.example 300 IN TXT "
		    "\"%s\"'\n", i, rec);
	fclose(fp);
	free(rec);
	snprintf(cmd, sizeof(cmd), "sh '%s' start '%s' %d >/dev/null", script,
	    udir, port);
	CU_ASSERT_FATAL(system(cmd) == 0);
	snprintf(fwd, sizeof(fwd), "127.0.0.1@%d", port);
	memset(&dc, 0, sizeof(dc));
	dc.forwarder = fwd;
	dc.timeout_ms = 3000;
	CU_ASSERT_FATAL((lib = arc_lib_create()) != NULL);
	CU_ASSERT_FATAL(arc_lib_use_dns(lib, &dc) == ARC_OK);

	t = chain(5, 1, 0);
	CU_ASSERT_FATAL(t != NULL);
	q0 = txt_queries(udir);
	v = verify_async(lib, t, &rounds);
	CU_ASSERT_EQUAL(v.cv, ARC_CV_PASS);
	CU_ASSERT_EQUAL(v.oldest, 0);
	CU_ASSERT_EQUAL(txt_queries(udir) - q0, 5);
	/* the keys of set 5 and AS 4, then AS 3 and 2, then AS 1 */
	CU_ASSERT(rounds >= 1 && rounds <= 3);
	printf("\n    5 sealers over DNS: %d stages, %d queries; ", rounds,
	    txt_queries(udir) - q0);
	v = verify_async(lib, t, &rounds);
	CU_ASSERT_EQUAL(v.cv, ARC_CV_PASS);
	CU_ASSERT_EQUAL(rounds, 0);		/* cached: no round trip */
	free(t);

	t = chain(50, 1, 49);
	CU_ASSERT_FATAL(t != NULL);
	arc_lib_free(lib);		/* a fresh cache */
	CU_ASSERT_FATAL((lib = arc_lib_create()) != NULL);
	CU_ASSERT_FATAL(arc_lib_use_dns(lib, &dc) == ARC_OK);
	q0 = txt_queries(udir);
	v = verify_async(lib, t, &rounds);
	CU_ASSERT_EQUAL(v.cv, ARC_CV_FAIL);
	CU_ASSERT(HAS(v.reason, "AS i=49"));
	CU_ASSERT(txt_queries(udir) - q0 <= 3);
	printf("forged i=49 of 50: %d queries ", txt_queries(udir) - q0);
	free(t);
	arc_lib_free(lib);
	snprintf(cmd, sizeof(cmd), "sh '%s' stop '%s'; rm -rf '%s'", script,
	    udir, udir);
	(void)system(cmd);
}

/* ---- numbers from outside ---------------------------------------------- */

/* A key source (the backend interface DNS uses) answering at once with
 * the largest TTL a resolver can hand over. */
static int
huge_ttl_start(void *ctx, arc_keystore *ks, arc_keyentry *e)
{
	arc_keys_complete(ks, e, ctx, NULL, 0, ARC_DNSSEC_UNKNOWN,
	    0xffffffffU);
	return 0;
}

/* A TTL is capped before it meets the clock: a week at most (before:
 * now + 2^32 - 1, which overflows a 32-bit time_t). */
static void
test_ttl_capped(void)
{
	arc_keystore	*ks = arc_keys_create();
	arc_key_backend	 b;
	arc_keyentry	*e;
	char		*rec = pub_record(ed);
	time_t		 t0 = 1700000000;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ks);
	memset(&b, 0, sizeof(b));
	b.start = huge_ttl_start;
	b.ctx = rec;
	arc_keys_set_backend(ks, &b);
	arc_keys_set_now(ks, t0);
	e = arc_keys_get(ks, "s", "ttl.example", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(e->state, ARC_KEY_DONE);
	CU_ASSERT_PTR_NOT_NULL(e->pkey);
	CU_ASSERT(e->expires > t0 && e->expires <= t0 + 7 * 86400);
	arc_keys_release(ks, e);
	arc_keys_free(ks);
	free(rec);
}

/* ---- set-up ------------------------------------------------------------ */

static int
write_keytable(const char *path, EVP_PKEY *k)
{
	char	*rec = pub_record(k), line[256];
	FILE	*fp;
	int	 ok;

	if (rec == NULL || (fp = fopen(path, "a")) == NULL) {
		free(rec);
		return -1;
	}
	snprintf(line, sizeof(line), "a._domainkey.att.example %s\n", rec);
	ok = fputs(line, fp) >= 0;
	free(rec);
	return fclose(fp) == 0 && ok ? 0 : -1;
}

static int
setup(void)
{
	if (fixture_keys(dir, keyfile, keytable, NULL) != 0)
		return -1;
	return write_keytable(keytable, ed);
}

static int
teardown(void)
{
	return fixture_remove(dir);
}

int
main(int argc, char **argv)
{
	static const cunit_test tests[] = {
		{ "attack of issue 12: oldest-pass under budget",
		    test_attack_budget },
		{ "failing chain: seals before older AMSs",
		    test_attack_fail_first },
		{ "oldest-pass budget options", test_budget_options },
		{ "staged lookups: forged i=49 of 50", test_staged_forged },
		{ "staged lookups: cached keys, no round trip",
		    test_staged_cached },
		{ "seal hashing linear in the chain", test_seal_hash_linear },
		{ "body hashed a bounded number of times",
		    test_body_hashers_bounded },
		{ "DNS outage: no cv=fail seal", test_dns_outage },
		{ "key TTL capped", test_ttl_capped },
		{ "staged lookups over a real unbound", test_async_unbound },
		{ NULL, NULL }
	};
	int	 r;

	ed = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	ed2 = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (ed == NULL || ed2 == NULL)
		return 1;
	if (argc == 4 && strcmp(argv[1], "--write-attack") == 0) {
		arc_buf	 m = attack(50, 845, 65500, 0);
		FILE	*fp = fopen(argv[2], "w");

		unlink(argv[3]);
		r = fp == NULL || fwrite(m.data, 1, m.len, fp) != m.len ||
		    fclose(fp) != 0 || write_keytable(argv[3], ed) != 0;
		arc_buf_free(&m);
		return r;
	}
	r = cunit_run("verify_hostile", setup, teardown, tests);
	EVP_PKEY_free(ed);
	EVP_PKEY_free(ed2);
	return r;
}
