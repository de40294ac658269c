/*
 * test_core.c - unit tests of the ARC core, one CUnit suite per module.
 *
 * Contract:
 *  - Suites: tags (tag-list tokenizer), canon_header, canon_body (digests
 *    computed independently with python3 hashlib over hand-canonicalized
 *    text; each is hardcoded with the input it stands for), base64,
 *    authres (the Authentication-Results tokenizer), keys (key records),
 *    intake (arc_msg_feed and arc_msg_header), seal (round trips),
 *    authres_out (the Authentication-Results we write) and limits.
 *  - Keys are made in the test (EVP_PKEY_Q_keygen); no file, no network.
 *    Public keys of 8192 and 8193 bits are built from a chosen modulus
 *    instead: parsing a key record needs no primes, and generating them
 *    takes seconds (minutes under valgrind).
 *  - Every test asserts an outcome that a wrong implementation changes.
 *    Exit status is non-zero if any assertion failed.  Optional
 *    arguments select suites by name.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/Basic.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "arc.h"
#include "arc_authres.h"
#include "arc_buf.h"
#include "arc_canon.h"
#include "arc_crypto.h"
#include "arc_keys.h"
#include "arc_tags.h"

/* ---- helpers ----------------------------------------------------------- */

/* An assertion with a formatted message (CUnit copies the text). */
static void
check(int ok, int line, const char *fmt, ...)
{
	static char	 buf[4096];
	va_list		 ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	CU_assertImplementation(ok ? CU_TRUE : CU_FALSE, (unsigned)line, buf,
	    __FILE__, "", CU_FALSE);
}

#define CHECK_STR(a, b) do {						\
	const char *a_ = (a), *b_ = (b);				\
	check(a_ != NULL && strcmp(a_, b_) == 0, __LINE__,		\
	    "\"%s\" == \"%s\"", a_ ? a_ : "(null)", b_);		\
} while (0)

#define CHECK_HAS(a, b) do {						\
	const char *a_ = (a), *b_ = (b);				\
	check(a_ != NULL && strstr(a_, b_) != NULL, __LINE__,		\
	    "\"%s\" contains \"%s\"", a_ ? a_ : "(null)", b_);	\
} while (0)

#define CHECK_INT(a, b) do {						\
	long long a_ = (long long)(a), b_ = (long long)(b);		\
	check(a_ == b_, __LINE__, "%s == %s: %lld != %lld", #a, #b,	\
	    a_, b_);							\
} while (0)

static char *
xstrdup(const char *s)
{
	char	*p = strdup(s);

	if (p == NULL) {
		perror("strdup");
		exit(1);
	}
	return p;
}

static char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0) {
		perror("vasprintf");
		exit(1);
	}
	return s;
}

/* Replaces the first occurrence of from in s (which must be there). */
static char *
replace(const char *s, const char *from, const char *to)
{
	const char	*p = strstr(s, from);

	if (p == NULL)
		return xstrdup(s);
	return xasprintf("%.*s%s%s", (int)(p - s), s, to, p + strlen(from));
}

/* The text with every CRLF turned into LF. */
static char *
to_lf(const char *s)
{
	char	*o = xstrdup(s), *d = o;

	for (; *s; s++)
		if (!(s[0] == '\r' && s[1] == '\n'))
			*d++ = *s;
	*d = '\0';
	return o;
}

/* The text with every bare LF turned into CRLF. */
static char *
to_crlf(const char *s)
{
	arc_buf	 b = { 0 };

	for (const char *p = s; *p; p++) {
		if (*p == '\n' && (p == s || p[-1] != '\r'))
			arc_buf_addc(&b, '\r');
		arc_buf_addc(&b, *p);
	}
	return arc_buf_steal(&b);
}

/* ---- keys -------------------------------------------------------------- */

static EVP_PKEY	*rsa_key, *ed_key;	/* made once, in main() */

static EVP_PKEY *
gen_rsa(unsigned bits)
{
	return EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)bits);
}

/* An RSA public key whose modulus has exactly bits bits (not a product
 * of two primes: good for parsing, useless for signatures). */
static EVP_PKEY *
fake_rsa_pub(unsigned bits)
{
	BIGNUM		*n = BN_new(), *e = BN_new();
	OSSL_PARAM_BLD	*bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM	*params = NULL;
	EVP_PKEY_CTX	*ctx;
	EVP_PKEY	*pk = NULL;
	unsigned	 i;

	ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
	if (n == NULL || e == NULL || bld == NULL || ctx == NULL)
		goto done;
	BN_set_bit(n, (int)bits - 1);
	for (i = 0; i < bits - 1; i += 3)
		BN_set_bit(n, (int)i);
	BN_set_word(e, 65537);
	if (!OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) ||
	    !OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e) ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pk, EVP_PKEY_PUBLIC_KEY, params) != 1)
		pk = NULL;
done:
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	BN_free(n);
	BN_free(e);
	return pk;
}

/* The base64 public key: SPKI DER, bare RSAPublicKey DER (form 1), or
 * the raw 32 bytes of an Ed25519 key. */
static char *
pub_b64(EVP_PKEY *k, int bare)
{
	unsigned char	*der = NULL, raw[64];
	size_t		 rawlen = sizeof(raw);
	int		 n;
	arc_buf		 b = { 0 };

	if (EVP_PKEY_get_base_id(k) == EVP_PKEY_ED25519 && !bare) {
		if (EVP_PKEY_get_raw_public_key(k, raw, &rawlen) != 1)
			return NULL;
		arc_base64_encode(&b, raw, rawlen);
		return arc_buf_steal(&b);
	}
	n = bare ? i2d_PublicKey(k, &der) : i2d_PUBKEY(k, &der);
	if (n <= 0)
		return NULL;
	arc_base64_encode(&b, der, (size_t)n);
	OPENSSL_free(der);
	return arc_buf_steal(&b);
}

/* "v=DKIM1; k=...; p=..." for k. */
static char *
key_record(EVP_PKEY *k)
{
	char	*p = pub_b64(k, 0), *r;

	r = xasprintf("v=DKIM1; k=%s; p=%s",
	    EVP_PKEY_get_base_id(k) == EVP_PKEY_ED25519 ? "ed25519" : "rsa",
	    p ? p : "");
	free(p);
	return r;
}

static arc_signer *
make_signer(EVP_PKEY *k, const char *domain, const char *selector)
{
	BIO		*bio = BIO_new(BIO_s_mem());
	char		*pem, err[256];
	long		 n;
	arc_signer	*s;

	if (bio == NULL || !PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0,
	    NULL, NULL))
		return NULL;
	n = BIO_get_mem_data(bio, &pem);
	s = arc_signer_create_pem(domain, selector, pem, (size_t)n, err,
	    sizeof(err));
	if (s == NULL)
		fprintf(stderr, "make_signer: %s\n", err);
	BIO_free(bio);
	return s;
}

/* The key source of the tests: exact names, or one answer for any. */
#define MAXREC	16
typedef struct {
	char		*qname[MAXREC], *txt[MAXREC];
	int		 n;
	char		*any;
	unsigned	 calls;
} keyring;

static char *
ring_lookup(void *arg, const char *qname)
{
	keyring	*r = arg;
	int	 i;

	r->calls++;
	for (i = 0; i < r->n; i++)
		if (strcmp(r->qname[i], qname) == 0)
			return xstrdup(r->txt[i]);
	return r->any ? xstrdup(r->any) : NULL;
}

/* Takes ownership of txt. */
static void
ring_add(keyring *r, const char *qname, char *txt)
{
	if (r->n == MAXREC) {
		fprintf(stderr, "keyring full\n");
		exit(1);
	}
	r->qname[r->n] = xstrdup(qname);
	r->txt[r->n++] = txt;
}

static void
ring_clear(keyring *r)
{
	int	 i;

	for (i = 0; i < r->n; i++) {
		free(r->qname[i]);
		free(r->txt[i]);
	}
	free(r->any);
	memset(r, 0, sizeof(*r));
}

/* The usual test setting: rsa_key as sel._domainkey.a.example, ed_key
 * as ed._domainkey.b.example. */
static arc_lib *
make_lib(keyring *r)
{
	arc_lib	*lib = arc_lib_create();

	memset(r, 0, sizeof(*r));
	ring_add(r, "sel._domainkey.a.example", key_record(rsa_key));
	ring_add(r, "ed._domainkey.b.example", key_record(ed_key));
	if (lib)
		arc_lib_set_txt_lookup(lib, ring_lookup, r);
	return lib;
}

/* ---- messages ---------------------------------------------------------- */

static const char MSG[] =
    "From: Alice <alice@a.example>\r\n"
    "To: Bob <bob@b.example>\r\n"
    "Subject: hello\r\n"
    "Date: Thu, 14 Jan 2015 15:00:01 -0800\r\n"
    "Message-ID: <1@a.example>\r\n"
    "Authentication-Results: mx.test; spf=pass smtp.mailfrom=a.example\r\n"
    "\r\n"
    "Hi Bob,\r\n"
    "this is the body.\r\n";

typedef struct {
	arc_cv	 cv;
	int	 nsets, oldest;
	char	 reason[512];
	char	*ar;		/* arc_msg_authres(), malloc'd */
} verdict;

/* Verifies text fed in chunks of chunk bytes (0: one piece). */
static verdict
verify_chunked(arc_lib *lib, const char *text, size_t len, size_t chunk,
    const char *remote_ip)
{
	verdict	 v;
	arc_msg	*m;
	size_t	 i, n;

	memset(&v, 0, sizeof(v));
	v.cv = (arc_cv)-1;
	if ((m = arc_msg_create(lib, ARC_MSG_VERIFY)) == NULL)
		return v;
	if (chunk == 0)
		chunk = len ? len : 1;
	for (i = 0; i < len; i += n) {
		n = len - i < chunk ? len - i : chunk;
		if (arc_msg_feed(m, text + i, n) != ARC_OK)
			goto out;
	}
	if (arc_msg_eom(m) != ARC_OK)
		goto out;
	v.cv = arc_msg_cv(m);
	v.nsets = arc_msg_nsets(m);
	v.oldest = arc_msg_oldest_pass(m);
	snprintf(v.reason, sizeof(v.reason), "%s", arc_msg_reason(m));
	v.ar = arc_msg_authres(m, "mx.test", remote_ip);
out:
	arc_msg_free(m);
	return v;
}

static verdict
verify(arc_lib *lib, const char *text)
{
	return verify_chunked(lib, text, strlen(text), 0, NULL);
}

static const char *
cvs(arc_cv cv)
{
	return (int)cv < 0 ? "(error)" : arc_cv_name(cv);
}

#define CHECK_CV(v, want) do {						\
	verdict *v_ = &(v);						\
	check(v_->cv == (want), __LINE__, "cv %s, want %s (%s)",	\
	    cvs(v_->cv), cvs(want), v_->reason);			\
} while (0)

/* Seals text with s; returns the sealed message (set on top) or NULL if
 * no set was added (*why says why).  *cv: the sealer's verdict. */
static char *
seal(arc_lib *lib, arc_signer *s, const char *text, arc_cv *cv,
    const char **why, char **as_out)
{
	arc_msg		*m;
	arc_seal_result	 res;
	char		*out = NULL;

	if (why)
		*why = NULL;
	if ((m = arc_msg_create(lib, ARC_MSG_SEAL)) == NULL ||
	    arc_msg_set_signer(m, s) != ARC_OK ||
	    arc_msg_feed(m, text, strlen(text)) != ARC_OK ||
	    arc_msg_eom(m) != ARC_OK ||
	    arc_msg_seal(m, s, "mx.test", NULL, 1700000000, 0, &res) !=
	    ARC_OK) {
		fprintf(stderr, "seal: %s\n", m ? arc_msg_error(m) : "nomem");
		arc_msg_free(m);
		return NULL;
	}
	if (cv)
		*cv = arc_msg_cv(m);
	if (res.sealed) {
		out = xasprintf("%s%s%s%s", res.as, res.ams, res.aar, text);
		if (as_out)
			*as_out = xstrdup(res.as);
	} else if (why)
		*why = res.reason;
	arc_seal_result_clear(&res);
	arc_msg_free(m);
	return out;
}

/* ---- suite: tags ------------------------------------------------------- */

static const char *
parse_tags(arc_taglist *tl, arc_tag *tags, unsigned max, const char *s)
{
	tl->tags = tags;
	tl->n = 0;
	tl->max = max;
	return arc_tags_parse(tl, s, strlen(s));
}

static int
tag_value_is(const arc_taglist *tl, const char *name, const char *want)
{
	const arc_tag *t = arc_tags_get(tl, name);

	return t != NULL && t->value_len == strlen(want) &&
	    memcmp(t->value, want, t->value_len) == 0;
}

static void
test_tags_valid(void)
{
	arc_tag		 tags[8];
	arc_taglist	 tl;

	CU_ASSERT_PTR_NULL(parse_tags(&tl, tags, 8, "a=1; bh=xyz; c=r/s"));
	CHECK_INT(tl.n, 3);
	CU_ASSERT(tag_value_is(&tl, "a", "1"));
	CU_ASSERT(tag_value_is(&tl, "bh", "xyz"));
	CU_ASSERT(tag_value_is(&tl, "c", "r/s"));
	CU_ASSERT_PTR_NULL(arc_tags_get(&tl, "d"));
	/* tag names are case-sensitive: A and a are two tags */
	CU_ASSERT_PTR_NULL(parse_tags(&tl, tags, 8, "a=1; A=2"));
	CHECK_INT(tl.n, 2);
	CU_ASSERT(tag_value_is(&tl, "A", "2"));
	/* an empty value is allowed */
	CU_ASSERT_PTR_NULL(parse_tags(&tl, tags, 8, "p=; v=DKIM1"));
	CU_ASSERT(tag_value_is(&tl, "p", ""));
	/* empty lists */
	CU_ASSERT_PTR_NULL(parse_tags(&tl, tags, 8, ""));
	CHECK_INT(tl.n, 0);
	CU_ASSERT_PTR_NULL(parse_tags(&tl, tags, 8, " \r\n\t"));
	CHECK_INT(tl.n, 0);
	/* offsets point into the source */
	{
		const char *s = "i=1; b=abc; d=x";

		CU_ASSERT_PTR_NULL(parse_tags(&tl, tags, 8, s));
		CU_ASSERT(arc_tags_get(&tl, "b")->value == s + 7);
	}
}

static void
test_tags_trailing_semicolon(void)
{
	arc_tag		 tags[8];
	arc_taglist	 tl;

	CU_ASSERT_PTR_NULL(parse_tags(&tl, tags, 8, "a=1; b=2;"));
	CHECK_INT(tl.n, 2);
	CU_ASSERT_PTR_NULL(parse_tags(&tl, tags, 8, "a=1; b=2; \r\n "));
	CHECK_INT(tl.n, 2);
	CU_ASSERT(tag_value_is(&tl, "b", "2"));
}

static void
test_tags_fws(void)
{
	arc_tag		 tags[8];
	arc_taglist	 tl;
	char		*nows;

	CU_ASSERT_PTR_NULL(parse_tags(&tl, tags, 8,
	    " \t a \r\n\t= \t1 ;\r\n b\t=\r\n 2 \r\n\t3 ; c = x\r\n y \r\n"));
	CHECK_INT(tl.n, 3);
	CU_ASSERT(tag_value_is(&tl, "a", "1"));
	/* inner folding whitespace stays, outer is trimmed */
	CU_ASSERT(tag_value_is(&tl, "b", "2 \r\n\t3"));
	CU_ASSERT(tag_value_is(&tl, "c", "x\r\n y"));
	nows = arc_tags_value_nows(arc_tags_get(&tl, "b"));
	CHECK_STR(nows, "23");
	free(nows);
}

static void
test_tags_empty_spec(void)
{
	arc_tag		 tags[8];
	arc_taglist	 tl;

	CHECK_HAS(parse_tags(&tl, tags, 8, "a=1;;b=2"), ";;");
	CHECK_HAS(parse_tags(&tl, tags, 8, "a=1; ; b=2"), ";;");
	CHECK_HAS(parse_tags(&tl, tags, 8, ";a=1"), ";;");
	CHECK_HAS(parse_tags(&tl, tags, 8, "a=1;;"), ";;");
}

static void
test_tags_bad_names(void)
{
	arc_tag		 tags[8];
	arc_taglist	 tl;

	CU_ASSERT_PTR_NOT_NULL(parse_tags(&tl, tags, 8, "1a=2"));
	CU_ASSERT_PTR_NOT_NULL(parse_tags(&tl, tags, 8, "_a=2"));
	CU_ASSERT_PTR_NOT_NULL(parse_tags(&tl, tags, 8, "a-b=2"));
	CU_ASSERT_PTR_NOT_NULL(parse_tags(&tl, tags, 8, "=2"));
	CU_ASSERT_PTR_NOT_NULL(parse_tags(&tl, tags, 8, "a b=2"));
	CHECK_HAS(parse_tags(&tl, tags, 8, "a=1; b"), "'='");
	CHECK_HAS(parse_tags(&tl, tags, 8, "a"), "'='");
	CU_ASSERT_PTR_NOT_NULL(parse_tags(&tl, tags, 8, "\xc3\xa4=1"));
	/* but a name may hold digits and '_' after the first letter */
	CU_ASSERT_PTR_NULL(parse_tags(&tl, tags, 8, "a_1=2"));
}

static void
test_tags_duplicates(void)
{
	arc_tag		 tags[8];
	arc_taglist	 tl;

	CHECK_HAS(parse_tags(&tl, tags, 8, "a=1; a=2"), "duplicate");
	CHECK_HAS(parse_tags(&tl, tags, 8, "cv=none; b=x; cv=none"),
	    "duplicate");
}

static void
test_tags_too_many(void)
{
	arc_tag		 tags[4];
	arc_taglist	 tl;

	CU_ASSERT_PTR_NULL(parse_tags(&tl, tags, 3, "a=1; b=2; c=3"));
	CHECK_INT(tl.n, 3);
	CHECK_HAS(parse_tags(&tl, tags, 3, "a=1; b=2; c=3; d=4"), "too many");
	CU_ASSERT(tl.n <= 3);
}

static void
test_tags_8bit(void)
{
	arc_tag		 tags[8];
	arc_taglist	 tl;
	const char	 nul[] = "a=b\0c; d=e";

	/* UTF-8 in values is accepted (RFC 8616) */
	CU_ASSERT_PTR_NULL(parse_tags(&tl, tags, 8,
	    "d=b\xc3\xbc" "cher.example; s=\xe2\x82\xac"));
	CU_ASSERT(tag_value_is(&tl, "d", "b\xc3\xbc" "cher.example"));
	CU_ASSERT(tag_value_is(&tl, "s", "\xe2\x82\xac"));
	/* control characters are not */
	CHECK_HAS(parse_tags(&tl, tags, 8, "a=b\001c"), "invalid character");
	CHECK_HAS(parse_tags(&tl, tags, 8, "a=b\177c"), "invalid character");
	tl.tags = tags;
	tl.max = 8;
	CHECK_HAS(arc_tags_parse(&tl, nul, sizeof(nul) - 1),
	    "invalid character");
}

/* ---- suite: canon_header ----------------------------------------------- */

static char *
canon_h(const char *f, arc_canon_mode mode, const char *skip, int crlf)
{
	arc_buf		 b = { 0 };
	const char	*sp = skip ? strstr(f, skip) : NULL;

	arc_canon_header(&b, f, strlen(f), mode, sp, sp ? strlen(skip) : 0,
	    crlf);
	if (b.data == NULL)
		return xstrdup("");
	return arc_buf_steal(&b);
}

#define CHECK_CANON(f, mode, skip, crlf, want) do {			\
	char *c_ = canon_h(f, mode, skip, crlf);			\
	CHECK_STR(c_, want);						\
	free(c_);							\
} while (0)

static void
test_canon_header_simple(void)
{
	CHECK_CANON("SubJect :  Hi  There \r\n\tyou", ARC_CANON_SIMPLE,
	    NULL, 1, "SubJect :  Hi  There \r\n\tyou\r\n");
	CHECK_CANON("X: y", ARC_CANON_SIMPLE, NULL, 0, "X: y");
	CHECK_CANON("ARC-Seal: i=1; b=abc; d=x", ARC_CANON_SIMPLE, "abc", 1,
	    "ARC-Seal: i=1; b=; d=x\r\n");
}

static void
test_canon_header_relaxed(void)
{
	/* the name in lower case */
	CHECK_CANON("SubJECT: Hi", ARC_CANON_RELAXED, NULL, 1,
	    "subject:Hi\r\n");
	/* unfolding */
	CHECK_CANON("Subject: a\r\n\tb\r\n c", ARC_CANON_RELAXED, NULL, 1,
	    "subject:a b c\r\n");
	/* WSP runs become one SP; none at the ends */
	CHECK_CANON("Subject: \t a \t\t b  \t", ARC_CANON_RELAXED, NULL, 1,
	    "subject:a b\r\n");
	/* WSP around the colon */
	CHECK_CANON("Subject \t :\t x", ARC_CANON_RELAXED, NULL, 1,
	    "subject:x\r\n");
	/* an empty value */
	CHECK_CANON("X-Empty:  \r\n ", ARC_CANON_RELAXED, NULL, 1,
	    "x-empty:\r\n");
	/* the value keeps its case */
	CHECK_CANON("To: Bob <BOB@B.Example>", ARC_CANON_RELAXED, NULL, 0,
	    "to:Bob <BOB@B.Example>");
	/* the skip span (a b= value) is left out */
	CHECK_CANON("ARC-Seal: i=1; b=ab\r\n\tcd; cv=none", ARC_CANON_RELAXED,
	    "ab\r\n\tcd", 0, "arc-seal:i=1; b=; cv=none");
}

/* ---- suite: canon_body ------------------------------------------------- */

/* Digest of body through mode (limit l), fed in chunk-byte pieces. */
static char *
body_digest(const char *body, size_t len, arc_canon_mode mode, long long l,
    size_t chunk, unsigned long long *canon_len)
{
	arc_bodyhash	*h = arc_bodyhash_create(mode, l);
	unsigned char	 d[32];
	arc_buf		 b = { 0 };
	size_t		 i, n;

	if (h == NULL)
		return xstrdup("(create failed)");
	if (chunk == 0)
		chunk = len ? len : 1;
	for (i = 0; i < len; i += n) {
		n = len - i < chunk ? len - i : chunk;
		arc_bodyhash_update(h, (const unsigned char *)body + i, n);
	}
	if (!arc_bodyhash_final(h, d)) {
		arc_bodyhash_free(h);
		return xstrdup("(final failed)");
	}
	if (canon_len)
		*canon_len = arc_bodyhash_length(h);
	arc_bodyhash_free(h);
	arc_base64_encode(&b, d, 32);
	return arc_buf_steal(&b);
}

/* Checks the digest whole, byte by byte, and in 3-byte chunks. */
static void
check_body(int line, const char *body, arc_canon_mode mode, long long l,
    const char *want)
{
	static const size_t chunks[] = { 0, 1, 2, 3, 7 };
	size_t	 i;

	for (i = 0; i < sizeof(chunks) / sizeof(chunks[0]); i++) {
		char *d = body_digest(body, strlen(body), mode, l, chunks[i],
		    NULL);

		check(strcmp(d, want) == 0, line, "%s body, chunk %zu: %s, "
		    "want %s", mode == ARC_CANON_SIMPLE ? "simple" : "relaxed",
		    chunks[i], d, want);
		free(d);
	}
}

#define S	ARC_CANON_SIMPLE
#define R	ARC_CANON_RELAXED
/* sha256("\r\n") */
#define H_CRLF		"frcCV1k9oG9oKj3dpUqdJg1PxRT2RSN/XKdLCPjaYaY="
/* sha256("") */
#define H_EMPTY		"47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
/* sha256("abc\r\n") */
#define H_ABC_CRLF	"VSuraGTHp7aaUC7RhUuSRcDhow8AiqoLKB2mJYX9sCU="
/* sha256(" a  b \t\r\n\r\nc\r\n") */
#define H_SIMPLE_WS	"4eXZi9UgKh4Obes4AMgQk7qcKZ+fkis4idGXyD48Dnc="
/* sha256(" a b\r\n\r\nc\r\n") */
#define H_RELAXED_WS	"LXmMBGb07aGq+JXv4g8cA0Sb/v+C3J//iKyIX+pOPp8="
/* sha256("a\rb\r\n") */
#define H_BARE_CR	"LyKRrVaOri6zT8fJNyWWbX0dJvvNQVCly5aCYrYNasE="
/* sha256("a\r\r\n") */
#define H_CR_END	"mwPeYrgux0+KQmbIfBf9AZEK0RF5OSvfLSvZgGdx73g="
/* sha256("a\r\nb\r\n") */
#define H_A_B		"WAVb3Mc3h+uIx4028LSTnpxdwcOtF+JcyFpoM88aDKs="
/* sha256("abc") */
#define H_ABC		"ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0="
/* sha256("ab") */
#define H_AB		"+44g/C5MPySMYMOb1lLzwTRymLuXe4tNWQO4UFViBgM="
/* sha256(" \r\n") */
#define H_SP_CRLF	"a99mtb8qROZYvqLuhmlasVCgbmAL9nzVzOJFrVSWLGE="

static void
test_body_empty(void)
{
	check_body(__LINE__, "", S, -1, H_CRLF);
	check_body(__LINE__, "", R, -1, H_EMPTY);
	/* only empty lines: the same */
	check_body(__LINE__, "\r\n\r\n\r\n", S, -1, H_CRLF);
	check_body(__LINE__, "\r\n\r\n\r\n", R, -1, H_EMPTY);
	/* relaxed: lines of only WSP are empty lines */
	check_body(__LINE__, " \r\n\t \r\n", R, -1, H_EMPTY);
}

static void
test_body_trailing_lines(void)
{
	check_body(__LINE__, "abc\r\n\r\n\r\n", S, -1, H_ABC_CRLF);
	check_body(__LINE__, "abc\r\n\r\n\r\n", R, -1, H_ABC_CRLF);
	check_body(__LINE__, " a  b \t\r\n\r\nc\r\n\r\n", S, -1, H_SIMPLE_WS);
	check_body(__LINE__, " a  b \t\r\n\r\nc\r\n\r\n", R, -1,
	    H_RELAXED_WS);
	/* simple keeps a line of spaces, relaxed empties it */
	check_body(__LINE__, " \r\n", S, -1, H_SP_CRLF);
	check_body(__LINE__, " \r\n", R, -1, H_EMPTY);
}

static void
test_body_no_final_newline(void)
{
	check_body(__LINE__, "abc", S, -1, H_ABC_CRLF);
	check_body(__LINE__, "abc", R, -1, H_ABC_CRLF);
	check_body(__LINE__, "abc \t", R, -1, H_ABC_CRLF);
	check_body(__LINE__, "a\r\nb", S, -1, H_A_B);
}

static void
test_body_bare_cr(void)
{
	/* a CR not before LF is content in both modes */
	check_body(__LINE__, "a\rb\r\n", S, -1, H_BARE_CR);
	check_body(__LINE__, "a\rb\r\n", R, -1, H_BARE_CR);
	check_body(__LINE__, "a\rb\n", R, -1, H_BARE_CR);
	/* at the very end: content, then the missing line end */
	check_body(__LINE__, "a\r", S, -1, H_CR_END);
	check_body(__LINE__, "a\r", R, -1, H_CR_END);
}

static void
test_body_lf(void)
{
	check_body(__LINE__, " a  b \t\n\nc\n\n\n", S, -1, H_SIMPLE_WS);
	check_body(__LINE__, " a  b \t\n\nc\n\n\n", R, -1, H_RELAXED_WS);
	check_body(__LINE__, "a\nb\n", S, -1, H_A_B);
	/* mixed line ends */
	check_body(__LINE__, "a\nb\r\n\n", R, -1, H_A_B);
}

static void
test_body_chunks(void)
{
	static const char body[] =
	    "Hi  there,\r\n \r\nline\twith\t tabs \r\n\r\nend\rx\r\n\r\n";
	char	*whole, *piece;
	size_t	 c;
	int	 mode;

	for (mode = S; mode <= R; mode++) {
		whole = body_digest(body, sizeof(body) - 1,
		    (arc_canon_mode)mode, -1, 0, NULL);
		for (c = 1; c < sizeof(body); c++) {
			piece = body_digest(body, sizeof(body) - 1,
			    (arc_canon_mode)mode, -1, c, NULL);
			check(strcmp(whole, piece) == 0, __LINE__,
			    "mode %d chunk %zu: %s != %s", mode, c, piece,
			    whole);
			free(piece);
		}
		free(whole);
	}
}

static void
test_body_limit(void)
{
	unsigned long long len = 0;
	char	*d;

	check_body(__LINE__, "abc\r\n", S, 0, H_EMPTY);
	check_body(__LINE__, "abc\r\n", R, 3, H_ABC);
	check_body(__LINE__, "abcdef\r\n", S, 2, H_AB);
	/* a limit beyond the body: the whole body */
	check_body(__LINE__, "abc\r\n", S, 1000, H_ABC_CRLF);
	/* the limit counts canonical bytes: "abc  \r\n" relaxed is "abc\r\n" */
	check_body(__LINE__, "abc  \r\n\r\n", R, 5, H_ABC_CRLF);
	/* the length seen is the whole canonical body, not the limit */
	d = body_digest("abcdef\r\n", 8, S, 2, 1, &len);
	CHECK_STR(d, H_AB);
	CHECK_INT(len, 8);
	free(d);
	d = body_digest("", 0, R, -1, 0, &len);
	CHECK_INT(len, 0);
	free(d);
}

/* ---- suite: base64 ------------------------------------------------------- */

static int
b64_is(const char *in, const char *want, size_t wantlen)
{
	size_t		 n = 99;
	unsigned char	*p = arc_base64_decode(in, strlen(in), &n);
	int		 ok;

	ok = p != NULL && n == wantlen && memcmp(p, want, n) == 0;
	free(p);
	return ok;
}

static int
b64_bad(const char *in)
{
	size_t		 n;
	unsigned char	*p = arc_base64_decode(in, strlen(in), &n);

	free(p);
	return p == NULL;
}

static void
test_b64_valid(void)
{
	arc_buf	 b = { 0 };

	CU_ASSERT(b64_is("YWJj", "abc", 3));
	CU_ASSERT(b64_is("YWI=", "ab", 2));
	CU_ASSERT(b64_is("YQ==", "a", 1));
	CU_ASSERT(b64_is("", "", 0));
	CU_ASSERT(b64_is("AP8=", "\0\377", 2));
	/* padding may be left out */
	CU_ASSERT(b64_is("YWI", "ab", 2));
	CU_ASSERT(b64_is("YQ", "a", 1));
	/* encoding round trip */
	arc_base64_encode(&b, (const unsigned char *)"hello!?", 7);
	CHECK_STR(b.data, "aGVsbG8hPw==");
	CU_ASSERT(b64_is(b.data, "hello!?", 7));
	arc_buf_free(&b);
}

static void
test_b64_whitespace(void)
{
	CU_ASSERT(b64_is(" Y W\r\n\tJj ", "abc", 3));
	CU_ASSERT(b64_is("YQ\r\n =\t=", "a", 1));
}

static void
test_b64_bad(void)
{
	CU_ASSERT(b64_bad("YW*j"));
	CU_ASSERT(b64_bad("YWJj!"));
	CU_ASSERT(b64_bad("YW-j"));	/* base64url is not base64 */
	CU_ASSERT(b64_bad("YQ==YQ=="));	/* data after padding */
	CU_ASSERT(b64_bad("YQ==="));	/* too much padding */
	CU_ASSERT(b64_bad("YQ="));	/* padding short of a quantum */
	CU_ASSERT(b64_bad("YWJ=="));
	CU_ASSERT(b64_bad("Y"));	/* 6 bits are no byte */
	CU_ASSERT(b64_bad("YWJjZ"));
	CU_ASSERT(b64_bad("="));
	/* a NUL byte inside */
	{
		size_t		 n;
		unsigned char	*p = arc_base64_decode("YW\0j", 4, &n);

		CU_ASSERT_PTR_NULL(p);
		free(p);
	}
}

static void
test_b64_trailing_bits(void)
{
	/* "YQ==" holds 0x61 and four zero bits; "YR==" has them non-zero */
	CU_ASSERT(b64_bad("YR=="));
	CU_ASSERT(b64_bad("YWK="));
	CU_ASSERT(b64_bad("YWJ"));
	CU_ASSERT(b64_is("YWI=", "ab", 2));
}

/* ---- suite: authres ---------------------------------------------------- */

static int
payload_is(const arc_authres *ar, const char *want)
{
	return ar->payload != NULL && ar->payload_len == strlen(want) &&
	    memcmp(ar->payload, want, ar->payload_len) == 0;
}

static void
test_ar_basic(void)
{
	arc_authres	 ar;

	const char	*s =
	    " mx.example.org; spf=pass smtp.mailfrom=a@b.example; ";

	CU_ASSERT_PTR_NULL(arc_authres_parse(&ar, s, strlen(s)));
	CHECK_STR(ar.id, "mx.example.org");
	CU_ASSERT(payload_is(&ar, "spf=pass smtp.mailfrom=a@b.example"));
	CHECK_INT(ar.none, 0);
}

static void
test_ar_comments(void)
{
	arc_authres	 ar;
	const char	*s = "(c1) mx.example (c2 (nested \\) x)) ;\r\n\t"
	    "dkim=pass (good (sig)) header.d=a.example";

	CU_ASSERT_PTR_NULL(arc_authres_parse(&ar, s, strlen(s)));
	CHECK_STR(ar.id, "mx.example");
	CU_ASSERT(payload_is(&ar, "dkim=pass (good (sig)) header.d=a.example"));
}

static void
test_ar_quoted(void)
{
	arc_authres	 ar;
	const char	*s = "\"mx \\\"one\\\"\"; none";

	CU_ASSERT_PTR_NULL(arc_authres_parse(&ar, s, strlen(s)));
	CHECK_STR(ar.id, "mx \"one\"");
	CHECK_INT(ar.none, 1);
	s = "\"mx.example; none";
	CHECK_HAS(arc_authres_parse(&ar, s, strlen(s)), "unterminated");
	/* a NUL inside the quotes, plain or quoted-pair (fuzz_authres) */
	CHECK_HAS(arc_authres_parse(&ar, "\"\0\"; o ", 7), "NUL");
	CHECK_HAS(arc_authres_parse(&ar, "\"mx\\\0\"; none", 12), "NUL");
}

static void
test_ar_version(void)
{
	arc_authres	 ar;
	const char	*s = "mx.example 1; arc=pass";

	CU_ASSERT_PTR_NULL(arc_authres_parse(&ar, s, strlen(s)));
	CHECK_STR(ar.id, "mx.example");
	CU_ASSERT(payload_is(&ar, "arc=pass"));
	s = "mx.example (v) 1 (one); arc=pass";
	CU_ASSERT_PTR_NULL(arc_authres_parse(&ar, s, strlen(s)));
	CHECK_STR(ar.id, "mx.example");
	CU_ASSERT(payload_is(&ar, "arc=pass"));
}

static void
test_ar_none(void)
{
	arc_authres	 ar;
	const char	*s;

	s = "mx.example; none";
	CU_ASSERT_PTR_NULL(arc_authres_parse(&ar, s, strlen(s)));
	CHECK_INT(ar.none, 1);
	s = "mx.example;  NONE ;\r\n";
	CU_ASSERT_PTR_NULL(arc_authres_parse(&ar, s, strlen(s)));
	CHECK_INT(ar.none, 1);
	s = "mx.example; (nothing to say) none";
	CU_ASSERT_PTR_NULL(arc_authres_parse(&ar, s, strlen(s)));
	CHECK_INT(ar.none, 1);
	s = "mx.example; none=pass";
	CU_ASSERT_PTR_NULL(arc_authres_parse(&ar, s, strlen(s)));
	CHECK_INT(ar.none, 0);
}

static void
test_ar_errors(void)
{
	arc_authres	 ar;

	CHECK_HAS(arc_authres_parse(&ar, "", 0), "no authserv-id");
	CHECK_HAS(arc_authres_parse(&ar, " (only a comment) ", 18),
	    "no authserv-id");
	CHECK_HAS(arc_authres_parse(&ar, "mx.example", 10), "no results");
	CHECK_HAS(arc_authres_parse(&ar, "mx.example spf=pass", 19),
	    "not followed by ';'");
}

static void
test_ar_has_method(void)
{
	const char	*p;

	p = "spf=pass smtp.mailfrom=x; ARC = pass (i=1); dkim=none";
	CU_ASSERT(arc_authres_has_method(p, strlen(p), "arc"));
	CU_ASSERT(arc_authres_has_method(p, strlen(p), "dkim"));
	CU_ASSERT(arc_authres_has_method(p, strlen(p), "spf"));
	CU_ASSERT(!arc_authres_has_method(p, strlen(p), "dmarc"));
	/* not inside comments or quoted strings, not as a property */
	p = "spf=pass (arc=pass) smtp.mailfrom=\"a; arc=pass\"";
	CU_ASSERT(!arc_authres_has_method(p, strlen(p), "arc"));
	p = "spf=pass smtp.arc=x";
	CU_ASSERT(!arc_authres_has_method(p, strlen(p), "arc"));
	p = "arcx=pass";
	CU_ASSERT(!arc_authres_has_method(p, strlen(p), "arc"));
}

/* ---- suite: keys ------------------------------------------------------- */

typedef struct {
	char		*error;
	int		 ok, ktype, testing;
	unsigned	 bits;
} keyres;

static keyres
parse_key(const char *txt, unsigned min, unsigned max)
{
	arc_keyentry	 e;
	keyres		 r;

	memset(&e, 0, sizeof(e));
	memset(&r, 0, sizeof(r));
	arc_keyrec_parse(&e, txt, min, max);
	r.ok = e.pkey != NULL && e.error == NULL;
	r.ktype = e.ktype;
	r.bits = e.bits;
	r.testing = e.testing;
	r.error = e.error;	/* caller frees */
	EVP_PKEY_free(e.pkey);
	return r;
}

#define CHECK_KEY_OK(txt, type, nbits) do {				\
	keyres r_ = parse_key(txt, 1024, 8192);				\
	check(r_.ok && r_.ktype == (type) &&				\
	    ((nbits) == 0 || r_.bits == (nbits)),			\
	    __LINE__, "key ok: %s, type %d bits %u",			\
	    r_.error ? r_.error : "no error", r_.ktype, r_.bits);	\
	free(r_.error);							\
} while (0)

#define CHECK_KEY_BAD(txt, min, max, why) do {				\
	keyres r_ = parse_key(txt, min, max);				\
	check(!r_.ok && r_.error && strstr(r_.error, why), __LINE__,	\
	    "key refused with \"%s\": got %s", why,			\
	    r_.error ? r_.error : "no error");				\
	free(r_.error);							\
} while (0)

static void
test_key_rsa(void)
{
	char	*spki = pub_b64(rsa_key, 0), *bare = pub_b64(rsa_key, 1);
	char	*t;

	t = xasprintf("v=DKIM1; k=rsa; p=%s", spki);
	CHECK_KEY_OK(t, ARC_KTYPE_RSA, 1024);
	free(t);
	/* k= defaults to rsa; p= may be folded */
	t = xasprintf("p=%.20s\r\n %s; t=y:s", spki, spki + 20);
	CHECK_KEY_OK(t, ARC_KTYPE_RSA, 1024);
	{
		keyres r = parse_key(t, 1024, 8192);

		CHECK_INT(r.testing, 1);
		free(r.error);
	}
	free(t);
	/* a bare RSAPublicKey, as some publish */
	t = xasprintf("v=DKIM1; k=rsa; p=%s", bare);
	CHECK_KEY_OK(t, ARC_KTYPE_RSA, 1024);
	free(t);
	/* an Ed25519 key is no RSA key */
	free(spki);
	spki = pub_b64(ed_key, 0);
	t = xasprintf("v=DKIM1; k=rsa; p=%s", spki);
	CHECK_KEY_BAD(t, 1024, 8192, "not a valid RSA");
	free(t);
	free(spki);
	free(bare);
}

static void
test_key_ed25519(void)
{
	char		*raw = pub_b64(ed_key, 0), *t;
	unsigned char	*der = NULL;
	int		 n;
	arc_buf		 b = { 0 };

	t = xasprintf("v=DKIM1; k=ed25519; p=%s", raw);
	CHECK_KEY_OK(t, ARC_KTYPE_ED25519, 0);
	free(t);
	/* 31 bytes, or the SPKI form, are not an RFC 8463 key */
	t = xasprintf("v=DKIM1; k=ed25519; p=%s",
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==");
	CHECK_KEY_BAD(t, 1024, 8192, "not a valid Ed25519");
	free(t);
	n = i2d_PUBKEY(ed_key, &der);
	CU_ASSERT_FATAL(n > 0);
	arc_base64_encode(&b, der, (size_t)n);
	OPENSSL_free(der);
	t = xasprintf("v=DKIM1; k=ed25519; p=%s", b.data);
	CHECK_KEY_BAD(t, 1024, 8192, "not a valid Ed25519");
	free(t);
	arc_buf_free(&b);
	free(raw);
}

static void
test_key_record_tags(void)
{
	char	*p = pub_b64(rsa_key, 0), *t;

	CHECK_KEY_BAD("v=DKIM1; k=rsa; p=", 1024, 8192, "revoked");
	CHECK_KEY_BAD("v=DKIM1; k=rsa; p= \r\n ", 1024, 8192, "revoked");
	CHECK_KEY_BAD("v=DKIM1; k=rsa", 1024, 8192, "no p=");
	CHECK_KEY_BAD("v=DKIM1; k=rsa; p=!!!!", 1024, 8192, "not base64");
	CHECK_KEY_BAD("v=DKIM1; k=rsa; p=QUJD", 1024, 8192, "not a valid");
	CHECK_KEY_BAD("v=DKIM1; p", 1024, 8192, "malformed");
	CHECK_KEY_BAD("v=DKIM1;; p=QUJD", 1024, 8192, "malformed");
	CHECK_KEY_BAD("", 1024, 8192, "no p=");
#define ONE(fmt, why) do {						\
	t = xasprintf(fmt, p);						\
	CHECK_KEY_BAD(t, 1024, 8192, why);				\
	free(t);							\
} while (0)
	ONE("k=rsa; v=DKIM1; p=%s", "v=");		/* v= not first */
	ONE("v=DKIM2; k=rsa; p=%s", "v=");
	ONE("v=dkim1; k=rsa; p=%s", "v=");
	ONE("v=DKIM1; h=sha1; p=%s", "h=");
	ONE("v=DKIM1; s=tlsrpt; p=%s", "s=");
	ONE("v=DKIM1; k=dsa; p=%s", "unknown key type");
#undef ONE
	/* what is allowed */
	t = xasprintf("v=DKIM1; h=sha1:sha256; s=email:tlsrpt; p=%s", p);
	CHECK_KEY_OK(t, ARC_KTYPE_RSA, 1024);
	free(t);
	t = xasprintf("v=DKIM1; s=*; n=note; x_future=1; p=%s", p);
	CHECK_KEY_OK(t, ARC_KTYPE_RSA, 1024);
	free(t);
	free(p);
}

/* An RSA record for k, checked against the default limits. */
static keyres
rsa_bits_result(EVP_PKEY *k, unsigned min, unsigned max)
{
	char	*p = pub_b64(k, 0), *t;
	keyres	 r;

	t = xasprintf("v=DKIM1; k=rsa; p=%s", p ? p : "");
	r = parse_key(t, min, max);
	free(t);
	free(p);
	return r;
}

static void
test_key_rsa_sizes(void)
{
	static const struct {
		unsigned bits;
		int	 fake, ok;
		const char *why;
	} c[] = {
		{ 512, 0, 0, "512 bits is too short" },
		{ 1023, 0, 0, "1023 bits is too short" },
		{ 1024, 0, 1, NULL },
		{ 2048, 0, 1, NULL },
		{ 8192, 1, 1, NULL },
		{ 8193, 1, 0, "8193 bits is over the configured limit" },
		{ 16384, 1, 0, "over the configured limit" },
	};
	size_t	 i;

	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		EVP_PKEY *k = c[i].bits == 1024 ? rsa_key : c[i].fake ?
		    fake_rsa_pub(c[i].bits) : gen_rsa(c[i].bits);
		keyres	 r;

		check(k != NULL, __LINE__, "make a %u-bit key", c[i].bits);
		if (k == NULL)
			continue;
		r = rsa_bits_result(k, 1024, 8192);
		check(r.ok == c[i].ok && (c[i].ok || (r.error &&
		    strstr(r.error, c[i].why))) && (!r.ok ||
		    r.bits == c[i].bits), __LINE__, "%u bits: %s",
		    c[i].bits, r.error ? r.error : "accepted");
		free(r.error);
		if (k != rsa_key)
			EVP_PKEY_free(k);
	}
}

/* ---- suite: intake ----------------------------------------------------- */

static void
test_intake_chunks(void)
{
	keyring	 r;
	arc_lib	*lib = make_lib(&r);
	arc_signer *s = make_signer(ed_key, "b.example", "ed");
	char	*sealed, *bad;
	size_t	 len, c;
	verdict	 v;

	CU_ASSERT_FATAL(lib != NULL && s != NULL);
	sealed = seal(lib, s, MSG, NULL, NULL, NULL);
	CU_ASSERT_FATAL(sealed != NULL);
	len = strlen(sealed);
	for (c = 1; c <= len; c++) {
		v = verify_chunked(lib, sealed, len, c, NULL);
		check(v.cv == ARC_CV_PASS && v.nsets == 1, __LINE__,
		    "chunk %zu: %s (%s)", c, cvs(v.cv), v.reason);
		free(v.ar);
		if (v.cv != ARC_CV_PASS)
			break;
	}
	/* a failing message fails the same way in every chunking */
	bad = replace(sealed, "this is the body", "this is the bodY");
	v = verify(lib, bad);
	CHECK_CV(v, ARC_CV_FAIL);
	CHECK_HAS(v.reason, "body hash did not verify");
	free(v.ar);
	for (c = 1; c <= len; c += 7) {
		verdict w = verify_chunked(lib, bad, strlen(bad), c, NULL);

		check(w.cv == ARC_CV_FAIL && strcmp(w.reason, v.reason) == 0,
		    __LINE__, "chunk %zu: %s (%s)", c, cvs(w.cv), w.reason);
		free(w.ar);
	}
	free(bad);
	free(sealed);
	arc_signer_free(s);
	arc_lib_free(lib);
	ring_clear(&r);
}

static void
test_intake_lf(void)
{
	keyring	 r;
	arc_lib	*lib = make_lib(&r);
	arc_signer *s = make_signer(rsa_key, "a.example", "sel");
	char	*sealed, *lf, *lfmsg, *sealed_lf, *crlf;
	verdict	 v;
	size_t	 c;

	CU_ASSERT_FATAL(lib != NULL && s != NULL);
	/* sealed with CRLF, verified with LF */
	sealed = seal(lib, s, MSG, NULL, NULL, NULL);
	CU_ASSERT_FATAL(sealed != NULL);
	lf = to_lf(sealed);
	CU_ASSERT(strchr(lf, '\r') == NULL);
	v = verify(lib, lf);
	CHECK_CV(v, ARC_CV_PASS);
	free(v.ar);
	for (c = 1; c < 40; c++) {
		v = verify_chunked(lib, lf, strlen(lf), c, NULL);
		CHECK_CV(v, ARC_CV_PASS);
		free(v.ar);
	}
	/* sealed with LF, verified with CRLF */
	lfmsg = to_lf(MSG);
	sealed_lf = seal(lib, s, lfmsg, NULL, NULL, NULL);
	CU_ASSERT_FATAL(sealed_lf != NULL);
	crlf = to_crlf(sealed_lf);
	v = verify(lib, crlf);
	CHECK_CV(v, ARC_CV_PASS);
	free(v.ar);
	v = verify(lib, sealed_lf);
	CHECK_CV(v, ARC_CV_PASS);
	free(v.ar);
	free(crlf);
	free(sealed_lf);
	free(lfmsg);
	free(lf);
	free(sealed);
	arc_signer_free(s);
	arc_lib_free(lib);
	ring_clear(&r);
}

static void
test_intake_header_only(void)
{
	static const char *const msgs[] = {
		"From: a@a.example\r\nSubject: no body\r\n",
		"From: a@a.example\r\nSubject: no body",	/* no CRLF */
		"From: a@a.example\r\nSubject: no body\r\n\r\n",
		"From: a@a.example\nSubject: no body\n",
	};
	keyring	 r;
	arc_lib	*lib = make_lib(&r);
	arc_signer *s = make_signer(rsa_key, "a.example", "sel");
	size_t	 i;

	CU_ASSERT_FATAL(lib != NULL && s != NULL);
	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++) {
		char	*sealed;
		verdict	 v = verify(lib, msgs[i]);

		CHECK_CV(v, ARC_CV_NONE);
		free(v.ar);
		sealed = seal(lib, s, msgs[i], NULL, NULL, NULL);
		check(sealed != NULL, __LINE__, "sealed message %zu", i);
		if (sealed == NULL)
			continue;
		v = verify(lib, sealed);
		check(v.cv == ARC_CV_PASS, __LINE__, "message %zu: %s (%s)",
		    i, cvs(v.cv), v.reason);
		free(v.ar);
		free(sealed);
	}
	arc_signer_free(s);
	arc_lib_free(lib);
	ring_clear(&r);
}

static void
test_intake_empty(void)
{
	keyring	 r;
	arc_lib	*lib = make_lib(&r);
	verdict	 v;
	arc_msg	*m;

	CU_ASSERT_FATAL(lib != NULL);
	v = verify(lib, "");
	CHECK_CV(v, ARC_CV_NONE);
	CHECK_STR(v.ar, "mx.test; arc=none");
	free(v.ar);
	v = verify(lib, "\r\n");
	CHECK_CV(v, ARC_CV_NONE);
	free(v.ar);
	v = verify(lib, "\r\nbody only\r\n");
	CHECK_CV(v, ARC_CV_NONE);
	free(v.ar);
	/* eom alone, and eom twice */
	CU_ASSERT_FATAL((m = arc_msg_create(lib, ARC_MSG_VERIFY)) != NULL);
	CHECK_INT(arc_msg_eom(m), ARC_OK);
	CHECK_INT(arc_msg_eom(m), ARC_OK);
	CHECK_INT(arc_msg_cv(m), ARC_CV_NONE);
	CHECK_INT(arc_msg_feed(m, "x", 1), ARC_ERR_STATE);
	arc_msg_free(m);
	arc_lib_free(lib);
	ring_clear(&r);
}

/* arc_msg_header() with and without line ends gives what feed gives. */
static void
test_intake_header_api(void)
{
	keyring	 r;
	arc_lib	*lib = make_lib(&r);
	arc_signer *s = make_signer(rsa_key, "a.example", "sel");
	char	*sealed, *p, *line, *body;
	arc_msg	*m;
	int	 keep_crlf;

	CU_ASSERT_FATAL(lib != NULL && s != NULL);
	sealed = seal(lib, s, MSG, NULL, NULL, NULL);
	CU_ASSERT_FATAL(sealed != NULL);
	body = strstr(sealed, "\r\n\r\n");
	CU_ASSERT_FATAL(body != NULL);
	for (keep_crlf = 0; keep_crlf <= 1; keep_crlf++) {
		CU_ASSERT_FATAL((m = arc_msg_create(lib, ARC_MSG_VERIFY)) !=
		    NULL);
		/* one call per field, folded lines kept together */
		for (p = sealed; p < body + 2; ) {
			const char *e = p;

			do {
				e = strstr(e, "\r\n") + 2;
			} while (*e == ' ' || *e == '\t');
			line = xasprintf("%.*s", (int)(e - p -
			    (keep_crlf ? 0 : 2)), p);
			CHECK_INT(arc_msg_header(m, line, strlen(line)),
			    ARC_OK);
			free(line);
			p = (char *)e;
		}
		CHECK_INT(arc_msg_eoh(m), ARC_OK);
		CHECK_INT(arc_msg_body(m, (const unsigned char *)body + 4,
		    strlen(body + 4)), ARC_OK);
		CHECK_INT(arc_msg_eom(m), ARC_OK);
		check(arc_msg_cv(m) == ARC_CV_PASS, __LINE__, "%s",
		    arc_msg_reason(m));
		/* order is enforced */
		CHECK_INT(arc_msg_header(m, "X: y", 4), ARC_ERR_STATE);
		arc_msg_free(m);
	}
	free(sealed);
	arc_signer_free(s);
	arc_lib_free(lib);
	ring_clear(&r);
}

/* ---- suite: seal ------------------------------------------------------- */

static void
test_seal_roundtrip(void)
{
	keyring	 r;
	arc_lib	*lib = make_lib(&r);
	arc_signer *rs = make_signer(rsa_key, "a.example", "sel");
	arc_signer *es = make_signer(ed_key, "b.example", "ed");
	char	*one, *two, *as = NULL;
	arc_cv	 cv;
	verdict	 v;

	CU_ASSERT_FATAL(lib != NULL && rs != NULL && es != NULL);
	CHECK_INT(arc_signer_alg(rs), ARC_ALG_RSA_SHA256);
	CHECK_INT(arc_signer_alg(es), ARC_ALG_ED25519_SHA256);
	/* rsa, i=1 */
	one = seal(lib, rs, MSG, &cv, NULL, &as);
	CU_ASSERT_FATAL(one != NULL);
	CHECK_INT(cv, ARC_CV_NONE);
	CHECK_HAS(as, "cv=none");
	CHECK_HAS(as, "a=rsa-sha256");
	free(as);
	v = verify(lib, one);
	CHECK_CV(v, ARC_CV_PASS);
	CHECK_INT(v.nsets, 1);
	CHECK_INT(v.oldest, 0);
	free(v.ar);
	/* ed25519 on top, i=2 */
	two = seal(lib, es, one, &cv, NULL, &as);
	CU_ASSERT_FATAL(two != NULL);
	CHECK_INT(cv, ARC_CV_PASS);
	CHECK_HAS(as, "i=2;");
	CHECK_HAS(as, "cv=pass");
	CHECK_HAS(as, "a=ed25519-sha256");
	free(as);
	v = verify(lib, two);
	CHECK_CV(v, ARC_CV_PASS);
	CHECK_INT(v.nsets, 2);
	CHECK_INT(v.oldest, 0);
	free(v.ar);
	/* ed25519 alone */
	free(one);
	one = seal(lib, es, MSG, NULL, NULL, NULL);
	CU_ASSERT_FATAL(one != NULL);
	v = verify(lib, one);
	CHECK_CV(v, ARC_CV_PASS);
	free(v.ar);
	/* without the key the chain does not verify */
	ring_clear(&r);
	v = verify(lib, two);
	CHECK_CV(v, ARC_CV_PASS);	/* still cached from before */
	free(v.ar);
	{
		keyring	 r2 = { 0 };
		arc_lib	*lib2 = arc_lib_create();

		arc_lib_set_txt_lookup(lib2, ring_lookup, &r2);
		v = verify(lib2, two);
		CHECK_CV(v, ARC_CV_FAIL);
		CHECK_HAS(v.reason, "no key record");
		free(v.ar);
		arc_lib_free(lib2);
	}
	free(one);
	free(two);
	arc_signer_free(rs);
	arc_signer_free(es);
	arc_lib_free(lib);
}

static void
test_seal_tamper(void)
{
	keyring	 r;
	arc_lib	*lib = make_lib(&r);
	arc_signer *rs = make_signer(rsa_key, "a.example", "sel");
	arc_signer *es = make_signer(ed_key, "b.example", "ed");
	char	*one, *two, *t;
	verdict	 v;

	CU_ASSERT_FATAL(lib != NULL && rs != NULL && es != NULL);
	one = seal(lib, rs, MSG, NULL, NULL, NULL);
	CU_ASSERT_FATAL(one != NULL);
	two = seal(lib, es, one, NULL, NULL, NULL);
	CU_ASSERT_FATAL(two != NULL);
	/* a body byte */
	t = replace(two, "Hi Bob", "Hi Rob");
	v = verify(lib, t);
	CHECK_CV(v, ARC_CV_FAIL);
	CHECK_HAS(v.reason, "AMS i=2");
	CHECK_HAS(v.reason, "body hash did not verify");
	free(v.ar);
	free(t);
	/* a body line added at the end */
	t = xasprintf("%sP.S.\r\n", two);
	v = verify(lib, t);
	CHECK_CV(v, ARC_CV_FAIL);
	free(v.ar);
	free(t);
	/* a signed header */
	t = replace(two, "Subject: hello", "Subject: hellO");
	v = verify(lib, t);
	CHECK_CV(v, ARC_CV_FAIL);
	CHECK_HAS(v.reason, "signature did not verify");
	free(v.ar);
	free(t);
	/* the newest seal removed */
	t = xstrdup(strstr(two, "ARC-Message-Signature: i=2"));
	v = verify(lib, t);
	CHECK_CV(v, ARC_CV_FAIL);
	CHECK_HAS(v.reason, "set i=2 has no ARC-Seal");
	free(v.ar);
	free(t);
	/* the older AAR changed: the seals break */
	t = replace(two, "i=1; mx.test;", "i=1; mx.evil;");
	CU_ASSERT(strcmp(t, two) != 0);
	v = verify(lib, t);
	CHECK_CV(v, ARC_CV_FAIL);
	CHECK_HAS(v.reason, "AS i=");
	free(v.ar);
	free(t);
	/* the cv= of the newest seal changed */
	t = replace(two, "cv=pass", "cv=none");
	v = verify(lib, t);
	CHECK_CV(v, ARC_CV_FAIL);
	free(v.ar);
	free(t);
	/* untouched, it passes */
	v = verify(lib, two);
	CHECK_CV(v, ARC_CV_PASS);
	free(v.ar);
	free(one);
	free(two);
	arc_signer_free(rs);
	arc_signer_free(es);
	arc_lib_free(lib);
	ring_clear(&r);
}

static void
test_seal_over_fail(void)
{
	keyring	 r;
	arc_lib	*lib = make_lib(&r);
	arc_signer *rs = make_signer(rsa_key, "a.example", "sel");
	arc_signer *es = make_signer(ed_key, "b.example", "ed");
	char	*one, *bad, *two, *three, *as = NULL;
	const char *why;
	arc_cv	 cv;
	verdict	 v;

	CU_ASSERT_FATAL(lib != NULL && rs != NULL && es != NULL);
	one = seal(lib, rs, MSG, NULL, NULL, NULL);
	CU_ASSERT_FATAL(one != NULL);
	bad = replace(one, "Hi Bob", "Hi Rob");
	/* the chain is broken: the seal records cv=fail (§5.1.2) */
	two = seal(lib, es, bad, &cv, NULL, &as);
	CU_ASSERT_FATAL(two != NULL);
	CHECK_INT(cv, ARC_CV_FAIL);
	CHECK_HAS(as, "cv=fail");
	free(as);
	v = verify(lib, two);
	CHECK_CV(v, ARC_CV_FAIL);
	CHECK_HAS(v.reason, "cv=fail");
	free(v.ar);
	/* and nobody seals on top of cv=fail */
	three = seal(lib, rs, two, &cv, &why, NULL);
	CU_ASSERT_PTR_NULL(three);
	CU_ASSERT_PTR_NOT_NULL(why);
	CHECK_HAS(why, "cv=fail");
	free(three);
	free(two);
	free(bad);
	free(one);
	arc_signer_free(rs);
	arc_signer_free(es);
	arc_lib_free(lib);
	ring_clear(&r);
}

static void
test_seal_50(void)
{
	keyring	 r;
	arc_lib	*lib = make_lib(&r);
	arc_signer *es = make_signer(ed_key, "b.example", "ed");
	char	*m = xstrdup(MSG), *n;
	const char *why = NULL;
	int	 i;
	verdict	 v;

	CU_ASSERT_FATAL(lib != NULL && es != NULL);
	for (i = 1; i <= 50; i++) {
		n = seal(lib, es, m, NULL, NULL, NULL);
		check(n != NULL, __LINE__, "seal %d", i);
		if (n == NULL)
			break;
		free(m);
		m = n;
	}
	v = verify(lib, m);
	CHECK_CV(v, ARC_CV_PASS);
	CHECK_INT(v.nsets, 50);
	/* the comment names the newest sealer only: bounded */
	CHECK_HAS(v.ar, "arc=pass (i=50 d=b.example) ");
	free(v.ar);
	/* the 51st set is refused */
	n = seal(lib, es, m, NULL, &why, NULL);
	CU_ASSERT_PTR_NULL(n);
	CHECK_HAS(why, "50 sets");
	free(n);
	free(m);
	arc_signer_free(es);
	arc_lib_free(lib);
	ring_clear(&r);
}

/* t= and x=: digits only, x= not before t=, x= not in the past. */
static void
test_seal_expiry(void)
{
	static const struct {
		const char *tx, *why;
	} c[] = {
		{ "t=1700000000; x=1700000100;", "signature expired (x=)" },
		{ "t=1700000000; x=-1;", "invalid x= value" },
		{ "t=-1;", "invalid t= value" },
		{ "t=1234567890123;", "invalid t= value" },
		{ "t=1700000000; x=99999999999999999999;", "invalid x= value" },
		{ "t=1800000000; x=1799999999;", "x= is before t=" },
	};
	keyring	 r;
	arc_lib	*lib = make_lib(&r);
	arc_signer *rs = make_signer(rsa_key, "a.example", "sel");
	char	*one, *t;
	size_t	 i;
	verdict	 v;

	CU_ASSERT_FATAL(lib != NULL && rs != NULL);
	one = seal(lib, rs, MSG, NULL, NULL, NULL);
	CU_ASSERT_FATAL(one != NULL);
	CU_ASSERT_FATAL(strstr(one, "t=1700000000;") != NULL);
	arc_lib_set_now(lib, 1700000200);
	for (i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		t = replace(one, "t=1700000000;", c[i].tx);
		v = verify(lib, t);
		CHECK_CV(v, ARC_CV_FAIL);
		CHECK_HAS(v.reason, c[i].why);
		free(v.ar);
		free(t);
	}
	/* before x= it is not expired (the signature then fails: x= was
	 * added after signing) */
	arc_lib_set_now(lib, 1700000050);
	t = replace(one, "t=1700000000;", c[0].tx);
	v = verify(lib, t);
	CHECK_CV(v, ARC_CV_FAIL);
	check(strstr(v.reason, "expired") == NULL, __LINE__, "%s", v.reason);
	free(v.ar);
	free(t);
	free(one);
	arc_signer_free(rs);
	arc_lib_free(lib);
	ring_clear(&r);
}

/* Authentication-Results fields with a NUL, a bare CR, a bare LF (and a
 * caller's string with a CRLF that is no fold) are copied into the AAR
 * without ending it early or starting a field (found by fuzz_message). */
/* One signer sealing in four threads at once: an Ed25519 signer's
 * context is used in place by one thread and copied by the others, an
 * RSA signer's copied by all; every seal must verify. */
struct seal_thread {
	arc_signer	*signer;
	int		 runs, passed;
};

static void *
seal_thread_main(void *arg)
{
	struct seal_thread	*t = arg;
	keyring			 r;
	arc_lib			*lib = make_lib(&r);
	int			 i;

	for (i = 0; i < t->runs && lib != NULL; i++) {
		char	*one = seal(lib, t->signer, MSG, NULL, NULL, NULL);
		verdict	 v;

		if (one == NULL)
			continue;
		v = verify(lib, one);
		t->passed += v.cv == ARC_CV_PASS;
		free(v.ar);
		free(one);
	}
	arc_lib_free(lib);
	ring_clear(&r);
	return NULL;
}

static void
test_seal_threads(void)
{
	arc_signer		*s[2] = { make_signer(ed_key, "b.example", "ed"),
				    make_signer(rsa_key, "a.example", "sel") };
	struct seal_thread	 t[2][4];
	pthread_t		 id[2][4];
	int			 k, i;

	CU_ASSERT_FATAL(s[0] != NULL && s[1] != NULL);
	for (k = 0; k < 2; k++)
		for (i = 0; i < 4; i++) {
			t[k][i].signer = s[k];
			t[k][i].runs = k == 0 ? 60 : 8;
			t[k][i].passed = 0;
			CU_ASSERT_FATAL(pthread_create(&id[k][i], NULL,
			    seal_thread_main, &t[k][i]) == 0);
		}
	for (k = 0; k < 2; k++)
		for (i = 0; i < 4; i++) {
			pthread_join(id[k][i], NULL);
			CHECK_INT(t[k][i].passed, t[k][i].runs);
		}
	arc_signer_free(s[0]);
	arc_signer_free(s[1]);
}

static void
test_seal_hostile_ar(void)
{
	static const char ar1[] = "Authentication-Results: mx.test; "
	    "spf=pass\0x smtp.mailfrom=a.example";
	static const char *const fields[] = {
		"Authentication-Results: mx.test; dkim=pass\r"
		    "header.d=a.example",
		"Authentication-Results: mx.test; dmarc=pass\n\t"
		    "policy.x=1\nX: y",
		"From: a@a.example",
		"Subject: hostile",
	};
	static const char *const extra[] = {
		"mx.test; arc=none\r\nX-Injected: yes", NULL };
	keyring		 r;
	arc_lib		*lib = make_lib(&r);
	arc_signer	*rs = make_signer(rsa_key, "a.example", "sel");
	arc_seal_result	 res;
	arc_msg		*m, *v;
	size_t		 i, k;
	int		 nofold;

	CU_ASSERT_FATAL(lib != NULL && rs != NULL);
	for (nofold = 0; nofold <= 1; nofold++) {
		CU_ASSERT_FATAL((m = arc_msg_create(lib, ARC_MSG_SEAL)) !=
		    NULL);
		CU_ASSERT_FATAL(arc_msg_set_signer(m, rs) == ARC_OK);
		CHECK_INT(arc_msg_header(m, ar1, sizeof(ar1) - 1), ARC_OK);
		for (k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
			CHECK_INT(arc_msg_header(m, fields[k],
			    strlen(fields[k])), ARC_OK);
		CHECK_INT(arc_msg_eoh(m), ARC_OK);
		CHECK_INT(arc_msg_eom(m), ARC_OK);
		CHECK_INT(arc_msg_seal(m, rs, "mx.test", extra, 1700000000,
		    nofold ? ARC_SEAL_NOFOLD : 0, &res), ARC_OK);
		CU_ASSERT_FATAL(res.sealed);
		/* one field: CRLF at the end, any other only before WSP */
		{
			const char *a = res.aar;
			size_t	 n = strlen(a);

			check(n > 2 && strcmp(a + n - 2, "\r\n") == 0,
			    __LINE__, "AAR ends in CRLF: %s", a);
			for (i = 0; i + 2 < n; i++)
				check(!(a[i] == '\n' && a[i + 1] != ' ' &&
				    a[i + 1] != '\t') && !(a[i] == '\r' &&
				    a[i + 1] != '\n') && !(a[i] == '\n' &&
				    (i == 0 || a[i - 1] != '\r')), __LINE__,
				    "line end at %zu of the AAR: %s", i, a);
			/* a resinfo with a NUL or a line end before a
			 * new field is dropped whole (joining its pieces
			 * would change what it says); a bare CR is white
			 * space between two tokens */
			CHECK_HAS(a, "arc=none");
			CHECK_HAS(a, "dkim=pass header.d=a.example");
			check(strstr(a, "spf=") == NULL && strstr(a,
			    "dmarc=") == NULL && strstr(a, "Injected") ==
			    NULL, __LINE__, "hostile resinfos dropped: %s", a);
		}
		/* and the message with it verifies */
		CU_ASSERT_FATAL((v = arc_msg_create(lib, ARC_MSG_VERIFY)) !=
		    NULL);
		CHECK_INT(arc_msg_header(v, res.as, strlen(res.as)), ARC_OK);
		CHECK_INT(arc_msg_header(v, res.ams, strlen(res.ams)), ARC_OK);
		CHECK_INT(arc_msg_header(v, res.aar, strlen(res.aar)), ARC_OK);
		CHECK_INT(arc_msg_header(v, ar1, sizeof(ar1) - 1), ARC_OK);
		for (k = 0; k < sizeof(fields) / sizeof(fields[0]); k++)
			CHECK_INT(arc_msg_header(v, fields[k],
			    strlen(fields[k])), ARC_OK);
		CHECK_INT(arc_msg_eom(v), ARC_OK);
		check(arc_msg_cv(v) == ARC_CV_PASS, __LINE__, "nofold %d: %s",
		    nofold, arc_msg_reason(v));
		arc_msg_free(v);
		arc_seal_result_clear(&res);
		arc_msg_free(m);
	}
	arc_signer_free(rs);
	arc_lib_free(lib);
	ring_clear(&r);
}

/* ---- suite: authres_out ------------------------------------------------ */

static void
test_out_pass(void)
{
	keyring	 r;
	arc_lib	*lib = make_lib(&r);
	arc_signer *rs = make_signer(rsa_key, "a.example", "sel");
	arc_signer *es = make_signer(ed_key, "b.example", "ed");
	char	*one, *two, *t;
	verdict	 v;

	CU_ASSERT_FATAL(lib != NULL && rs != NULL && es != NULL);
	one = seal(lib, rs, MSG, NULL, NULL, NULL);
	CU_ASSERT_FATAL(one != NULL);
	v = verify_chunked(lib, one, strlen(one), 0, "192.0.2.1");
	CHECK_STR(v.ar, "mx.test; arc=pass (i=1 d=a.example) "
	    "header.oldest-pass=0 smtp.remote-ip=192.0.2.1 "
	    "arc.chain=a.example");
	free(v.ar);
	/* the second hop signs only From: a later Subject change breaks
	 * only the first AMS, so the oldest passing one is i=2 */
	CU_ASSERT_FATAL(arc_signer_set_headers(es, "from", "") == ARC_OK);
	two = seal(lib, es, one, NULL, NULL, NULL);
	CU_ASSERT_FATAL(two != NULL);
	v = verify_chunked(lib, two, strlen(two), 0, "2001:db8::25");
	CHECK_STR(v.ar, "mx.test; arc=pass (i=2 d=b.example) "
	    "header.oldest-pass=0 smtp.remote-ip=\"2001:db8::25\" "
	    "arc.chain=\"b.example:a.example\"");
	free(v.ar);
	t = replace(two, "Subject: hello", "Subject: changed");
	v = verify_chunked(lib, t, strlen(t), 0, NULL);
	CHECK_CV(v, ARC_CV_PASS);
	CHECK_INT(v.oldest, 2);
	CHECK_STR(v.ar, "mx.test; arc=pass (i=2 d=b.example) "
	    "header.oldest-pass=2 arc.chain=\"b.example:a.example\"");
	free(v.ar);
	free(t);
	free(one);
	free(two);
	arc_signer_free(rs);
	arc_signer_free(es);
	arc_lib_free(lib);
	ring_clear(&r);
}

static void
test_out_remote_ip(void)
{
	static const char *const junk[] = {
		"192.0.2.1; dkim=pass", "192.0.2.1 (x)", "192.0.2.1\r\nX: y",
		"evil.example", "[192.0.2.1]",
	};
	keyring	 r;
	arc_lib	*lib = make_lib(&r);
	size_t	 i;

	CU_ASSERT_FATAL(lib != NULL);
	for (i = 0; i < sizeof(junk) / sizeof(junk[0]); i++) {
		verdict v = verify_chunked(lib, MSG, strlen(MSG), 0, junk[i]);

		CHECK_STR(v.ar, "mx.test; arc=none");
		free(v.ar);
	}
	{
		verdict v = verify_chunked(lib, MSG, strlen(MSG), 0,
		    "192.0.2.1");

		CHECK_STR(v.ar, "mx.test; arc=none smtp.remote-ip=192.0.2.1");
		free(v.ar);
	}
	arc_lib_free(lib);
	ring_clear(&r);
}

static void
test_out_fail(void)
{
	keyring	 r;
	arc_lib	*lib = make_lib(&r);
	arc_signer *rs = make_signer(rsa_key, "a.example", "sel");
	char	*one, *t;
	verdict	 v;

	CU_ASSERT_FATAL(lib != NULL && rs != NULL);
	one = seal(lib, rs, MSG, NULL, NULL, NULL);
	CU_ASSERT_FATAL(one != NULL);
	t = replace(one, "Hi Bob", "Hi (Bob)");
	v = verify_chunked(lib, t, strlen(t), 0, "192.0.2.1");
	CHECK_STR(v.ar, "mx.test; arc=fail (AMS i=1 d=a.example s=sel: "
	    "body hash did not verify) smtp.remote-ip=192.0.2.1");
	free(v.ar);
	free(t);
	/* parentheses in a reason are quoted in the comment */
	t = replace(one, "a=rsa-sha256", "a=rsa-sha1");
	v = verify(lib, t);
	CHECK_STR(v.ar, "mx.test; arc=fail (AS i=1: rsa-sha1 is not allowed "
	    "\\(RFC 8301\\))");
	free(v.ar);
	free(t);
	free(one);
	arc_signer_free(rs);
	arc_lib_free(lib);
	ring_clear(&r);
}

/* ---- suite: limits ----------------------------------------------------- */

/* A chain of n sets whose AS of set i uses selector "as<i>" and whose
 * AMS uses "ams<i>", with signatures that do not verify: enough to test
 * what is refused before any signature is checked. */
static char *
fake_chain(int n, int distinct)
{
	arc_buf	 b = { 0 };
	int	 i;

	for (i = n; i >= 1; i--) {
		arc_buf_printf(&b, "ARC-Seal: i=%d; a=rsa-sha256; cv=%s; "
		    "d=a.example; s=%s%d; b=AAAA\r\n", i, i == 1 ? "none" :
		    "pass", distinct ? "as" : "sel", distinct ? i : 0);
		arc_buf_printf(&b, "ARC-Message-Signature: i=%d; "
		    "a=rsa-sha256; d=a.example; s=%s%d; h=from; bh=AAAA; "
		    "b=AAAA\r\n", i, distinct ? "ams" : "sel",
		    distinct ? i : 0);
		arc_buf_printf(&b, "ARC-Authentication-Results: i=%d; "
		    "mx.test; arc=none\r\n", i);
	}
	arc_buf_adds(&b, "From: a@a.example\r\n\r\nbody\r\n");
	return arc_buf_steal(&b);
}

static void
test_limit_sets(void)
{
	keyring	 r;
	arc_lib	*lib = make_lib(&r);
	char	*t;
	verdict	 v;

	CU_ASSERT_FATAL(lib != NULL);
	r.any = key_record(rsa_key);
	CHECK_INT(arc_lib_limits(lib)->max_sets, 50);
	/* 50 sets get to the signatures, 51 do not */
	t = fake_chain(50, 0);
	v = verify(lib, t);
	CHECK_CV(v, ARC_CV_FAIL);
	CHECK_HAS(v.reason, "AMS i=50");
	free(v.ar);
	free(t);
	t = fake_chain(51, 0);
	r.calls = 0;
	v = verify(lib, t);
	CHECK_CV(v, ARC_CV_FAIL);
	CHECK_STR(v.reason, "more than 50 ARC sets");
	CHECK_INT(r.calls, 0);		/* no key was looked up */
	free(v.ar);
	free(t);
	/* a huge instance number is over the limit too */
	t = xstrdup("ARC-Seal: i=99999999; a=rsa-sha256; cv=none; "
	    "d=a.example; s=sel; b=AAAA\r\n\r\n");
	v = verify(lib, t);
	CHECK_CV(v, ARC_CV_FAIL);
	CHECK_STR(v.reason, "more than 50 ARC sets");
	free(v.ar);
	free(t);
	/* a lower configured limit */
	arc_lib_limits(lib)->max_sets = 3;
	t = fake_chain(4, 0);
	v = verify(lib, t);
	CHECK_CV(v, ARC_CV_FAIL);
	CHECK_STR(v.reason, "more than 3 ARC sets");
	free(v.ar);
	free(t);
	arc_lib_free(lib);
	ring_clear(&r);
}

static void
test_limit_header_fields(void)
{
	keyring	 r;
	arc_lib	*lib = make_lib(&r);
	arc_buf	 b = { 0 };
	verdict	 v;
	int	 i;

	CU_ASSERT_FATAL(lib != NULL);
	CHECK_INT(arc_lib_limits(lib)->max_header_fields, 1000);
	for (i = 0; i < 1000; i++)
		arc_buf_printf(&b, "X-F%d: v\r\n", i);
	v = verify(lib, b.data);
	CHECK_CV(v, ARC_CV_NONE);
	free(v.ar);
	arc_buf_adds(&b, "X-One-Too-Many: v\r\n\r\nbody\r\n");
	v = verify(lib, b.data);
	CHECK_CV(v, ARC_CV_FAIL);
	CHECK_STR(v.reason, "too many header fields");
	CHECK_STR(v.ar, "mx.test; arc=fail (too many header fields)");
	free(v.ar);
	arc_buf_free(&b);
	/* configured lower */
	arc_lib_limits(lib)->max_header_fields = 3;
	v = verify(lib, "A: 1\r\nB: 2\r\nC: 3\r\n\r\n");
	CHECK_CV(v, ARC_CV_NONE);
	free(v.ar);
	v = verify(lib, "A: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n");
	CHECK_CV(v, ARC_CV_FAIL);
	CHECK_STR(v.reason, "too many header fields");
	free(v.ar);
	arc_lib_free(lib);
	ring_clear(&r);
}

static void
test_limit_field_bytes(void)
{
	keyring	 r;
	arc_lib	*lib = make_lib(&r);
	size_t	 max, n;
	char	*big;
	verdict	 v;
	arc_msg	*m;

	CU_ASSERT_FATAL(lib != NULL);
	max = arc_lib_limits(lib)->max_field_bytes;
	CHECK_INT(max, 65536);
	/* exactly the limit (without the line end) is fine */
	big = malloc(max + 64);
	CU_ASSERT_FATAL(big != NULL);
	memcpy(big, "X-Big: ", 7);
	memset(big + 7, 'a', max - 7);
	strcpy(big + max, "\r\n\r\nbody\r\n");
	v = verify(lib, big);
	CHECK_CV(v, ARC_CV_NONE);
	free(v.ar);
	/* one more byte is not, in any chunking */
	memset(big + 7, 'a', max - 6);
	strcpy(big + max + 1, "\r\n\r\nbody\r\n");
	for (n = 0; n < 3; n++) {
		v = verify_chunked(lib, big, strlen(big),
		    n == 0 ? 0 : n == 1 ? 1000 : 65535, NULL);
		CHECK_CV(v, ARC_CV_FAIL);
		CHECK_STR(v.reason, "header field over the size limit");
		free(v.ar);
	}
	/* folded continuation lines count in the same field */
	memcpy(big + 30000, "\r\n ", 3);
	v = verify(lib, big);
	CHECK_CV(v, ARC_CV_FAIL);
	free(v.ar);
	/* through arc_msg_header() as well */
	CU_ASSERT_FATAL((m = arc_msg_create(lib, ARC_MSG_VERIFY)) != NULL);
	CHECK_INT(arc_msg_header(m, big, max + 1), ARC_OK);
	CHECK_INT(arc_msg_eom(m), ARC_OK);
	CHECK_INT(arc_msg_cv(m), ARC_CV_FAIL);
	CHECK_STR(arc_msg_reason(m), "header field over the size limit");
	arc_msg_free(m);
	free(big);
	arc_lib_free(lib);
	ring_clear(&r);
}

static void
test_limit_key_queries(void)
{
	keyring	 r;
	arc_lib	*lib = make_lib(&r);
	char	*t;
	verdict	 v;

	CU_ASSERT_FATAL(lib != NULL);
	r.any = key_record(rsa_key);
	CHECK_INT(arc_lib_limits(lib)->max_key_queries, 64);
	/* 32 sets with two keys each: 64 keys, at the limit; looked up
	 * in stages, so the failing newest AMS costs the first stage's
	 * three (its set's two and AS i=31's) */
	t = fake_chain(32, 1);
	r.calls = 0;
	v = verify(lib, t);
	CHECK_CV(v, ARC_CV_FAIL);
	CHECK_HAS(v.reason, "AMS i=32");
	CHECK_INT(r.calls, 3);
	free(v.ar);
	free(t);
	/* 33 sets: over it, and no more lookups than the limit */
	t = fake_chain(33, 1);
	r.calls = 0;
	v = verify(lib, t);
	CHECK_CV(v, ARC_CV_FAIL);
	CHECK_STR(v.reason, "more than 64 distinct keys to look up");
	CU_ASSERT(r.calls <= 64);
	free(v.ar);
	free(t);
	/* configured lower: AS i=2, AMS i=2, then AS i=1 is one too many */
	arc_lib_limits(lib)->max_key_queries = 2;
	t = fake_chain(2, 1);
	v = verify(lib, t);
	CHECK_CV(v, ARC_CV_FAIL);
	CHECK_STR(v.reason, "more than 2 distinct keys to look up");
	free(v.ar);
	free(t);
	arc_lib_free(lib);
	ring_clear(&r);
}

static void
test_limit_tags(void)
{
	keyring	 r;
	arc_lib	*lib = make_lib(&r);
	arc_signer *rs = make_signer(rsa_key, "a.example", "sel");
	char	*one, *t;
	verdict	 v;

	CU_ASSERT_FATAL(lib != NULL && rs != NULL);
	one = seal(lib, rs, MSG, NULL, NULL, NULL);
	CU_ASSERT_FATAL(one != NULL);
	/* the AMS has 9 tags, the AS 7 */
	arc_lib_limits(lib)->max_tags = 8;
	v = verify(lib, one);
	CHECK_CV(v, ARC_CV_FAIL);
	CHECK_STR(v.reason, "AMS: too many tags");
	free(v.ar);
	arc_lib_limits(lib)->max_tags = 9;
	v = verify(lib, one);
	CHECK_CV(v, ARC_CV_PASS);
	free(v.ar);
	/* the default (64) with 65 tags */
	arc_lib_limits(lib)->max_tags = 64;
	{
		arc_buf	 b = { 0 };
		int	 i;

		for (i = 0; i < 58; i++)
			arc_buf_printf(&b, "x%d=1; ", i);
		t = replace(one, "ARC-Seal: ", b.data);
		arc_buf_free(&b);
	}
	free(one);
	one = xasprintf("ARC-Seal: %s", t);
	free(t);
	v = verify(lib, one);
	CHECK_CV(v, ARC_CV_FAIL);
	CHECK_STR(v.reason, "AS: too many tags");
	free(v.ar);
	free(one);
	arc_signer_free(rs);
	arc_lib_free(lib);
	ring_clear(&r);
}

/* min-rsa-bits and max-rsa-bits reach the key parser. */
static void
test_limit_rsa_bits(void)
{
	keyring	 r;
	arc_lib	*lib = make_lib(&r);
	arc_signer *rs = make_signer(rsa_key, "a.example", "sel");
	char	*one;
	verdict	 v;

	CU_ASSERT_FATAL(lib != NULL && rs != NULL);
	one = seal(lib, rs, MSG, NULL, NULL, NULL);
	CU_ASSERT_FATAL(one != NULL);
	arc_lib_free(lib);
	ring_clear(&r);

	lib = make_lib(&r);
	arc_lib_limits(lib)->min_rsa_bits = 2048;
	v = verify(lib, one);
	CHECK_CV(v, ARC_CV_FAIL);
	CHECK_HAS(v.reason, "RSA key of 1024 bits is too short");
	free(v.ar);
	arc_lib_free(lib);
	ring_clear(&r);

	lib = make_lib(&r);
	arc_lib_limits(lib)->max_rsa_bits = 1000;
	arc_lib_limits(lib)->min_rsa_bits = 512;
	v = verify(lib, one);
	CHECK_CV(v, ARC_CV_FAIL);
	CHECK_HAS(v.reason, "RSA key of 1024 bits is over the configured "
	    "limit");
	free(v.ar);
	arc_lib_free(lib);
	ring_clear(&r);

	lib = make_lib(&r);
	v = verify(lib, one);
	CHECK_CV(v, ARC_CV_PASS);
	free(v.ar);
	free(one);
	arc_signer_free(rs);
	arc_lib_free(lib);
	ring_clear(&r);
}

/* ---- main -------------------------------------------------------------- */

typedef struct {
	const char	*name;
	CU_TestFunc	 fn;
} tdef;

static const tdef t_tags[] = {
	{ "valid lists", test_tags_valid },
	{ "trailing semicolon", test_tags_trailing_semicolon },
	{ "FWS everywhere", test_tags_fws },
	{ "empty tag-spec rejected", test_tags_empty_spec },
	{ "bad tag names", test_tags_bad_names },
	{ "duplicate tags", test_tags_duplicates },
	{ "too many tags", test_tags_too_many },
	{ "8-bit values", test_tags_8bit },
	{ NULL, NULL }
};
static const tdef t_canon_header[] = {
	{ "simple", test_canon_header_simple },
	{ "relaxed", test_canon_header_relaxed },
	{ NULL, NULL }
};
static const tdef t_canon_body[] = {
	{ "empty body", test_body_empty },
	{ "trailing empty lines", test_body_trailing_lines },
	{ "no final newline", test_body_no_final_newline },
	{ "bare CR", test_body_bare_cr },
	{ "LF equals CRLF", test_body_lf },
	{ "every chunking", test_body_chunks },
	{ "l= limit", test_body_limit },
	{ NULL, NULL }
};
static const tdef t_base64[] = {
	{ "valid", test_b64_valid },
	{ "whitespace", test_b64_whitespace },
	{ "garbage and padding", test_b64_bad },
	{ "non-zero trailing bits", test_b64_trailing_bits },
	{ NULL, NULL }
};
static const tdef t_authres[] = {
	{ "basic", test_ar_basic },
	{ "comments", test_ar_comments },
	{ "quoted authserv-id", test_ar_quoted },
	{ "version", test_ar_version },
	{ "none", test_ar_none },
	{ "errors", test_ar_errors },
	{ "has_method", test_ar_has_method },
	{ NULL, NULL }
};
static const tdef t_keys[] = {
	{ "rsa SPKI and RSAPublicKey", test_key_rsa },
	{ "ed25519", test_key_ed25519 },
	{ "record tags", test_key_record_tags },
	{ "rsa sizes", test_key_rsa_sizes },
	{ NULL, NULL }
};
static const tdef t_intake[] = {
	{ "every chunk size", test_intake_chunks },
	{ "LF and CRLF", test_intake_lf },
	{ "header-only message", test_intake_header_only },
	{ "empty message", test_intake_empty },
	{ "arc_msg_header API", test_intake_header_api },
	{ NULL, NULL }
};
static const tdef t_seal[] = {
	{ "rsa and ed25519 round trip", test_seal_roundtrip },
	{ "tampering", test_seal_tamper },
	{ "over cv=fail", test_seal_over_fail },
	{ "50 sets, no 51st", test_seal_50 },
	{ "t= and x=", test_seal_expiry },
	{ "hostile Authentication-Results", test_seal_hostile_ar },
	{ "one signer, several threads", test_seal_threads },
	{ NULL, NULL }
};
static const tdef t_out[] = {
	{ "pass and oldest-pass", test_out_pass },
	{ "remote ip", test_out_remote_ip },
	{ "fail", test_out_fail },
	{ NULL, NULL }
};
static const tdef t_limits[] = {
	{ "max-sets", test_limit_sets },
	{ "max-header-fields", test_limit_header_fields },
	{ "max-field-bytes", test_limit_field_bytes },
	{ "max-key-queries", test_limit_key_queries },
	{ "max-tags", test_limit_tags },
	{ "min-rsa-bits and max-rsa-bits", test_limit_rsa_bits },
	{ NULL, NULL }
};

static const struct {
	const char	*name;
	const tdef	*tests;
} suites[] = {
	{ "tags", t_tags },
	{ "canon_header", t_canon_header },
	{ "canon_body", t_canon_body },
	{ "base64", t_base64 },
	{ "authres", t_authres },
	{ "keys", t_keys },
	{ "intake", t_intake },
	{ "seal", t_seal },
	{ "authres_out", t_out },
	{ "limits", t_limits },
};

static int
wanted(const char *name, int argc, char **argv)
{
	int	 i;

	if (argc < 2)
		return 1;
	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], name) == 0)
			return 1;
	return 0;
}

int
main(int argc, char **argv)
{
	CU_pSuite	 s;
	size_t		 i;
	const tdef	*t;
	int		 failed;

	rsa_key = gen_rsa(1024);
	ed_key = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (rsa_key == NULL || ed_key == NULL) {
		fprintf(stderr, "test_core: key generation failed\n");
		return 1;
	}
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	for (i = 0; i < sizeof(suites) / sizeof(suites[0]); i++) {
		if (!wanted(suites[i].name, argc, argv))
			continue;
		if ((s = CU_add_suite(suites[i].name, NULL, NULL)) == NULL)
			return 1;
		for (t = suites[i].tests; t->name; t++)
			if (CU_add_test(s, t->name, t->fn) == NULL)
				return 1;
	}
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	failed = CU_get_number_of_tests_failed() != 0 ||
	    CU_get_number_of_failures() != 0;
	CU_cleanup_registry();
	EVP_PKEY_free(rsa_key);
	EVP_PKEY_free(ed_key);
	return failed ? 1 : 0;
}
