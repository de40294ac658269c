/*
 * test_headers_out.c - what we write into header fields (issues 12, 14).
 *
 * Contract:
 *  - Every field the core and the adapter layer write (ARC-Seal,
 *    ARC-Message-Signature, ARC-Authentication-Results,
 *    Authentication-Results) is checked by check_field(): printable
 *    ASCII, CRLF only as a fold before white space or at the very end,
 *    lines of at most 998 octets; the AAR and A-R are read back with our
 *    own tokenizers (arc_authres_parse(), arc_authres_scan()) and must be
 *    well formed, the AMS and AS with arc_tags_parse().
 *  - Cases: a message with none of the fields the AMS signs (issue 12
 *    defect 1: h= was read from an unterminated buffer), every byte value
 *    0..255 in a copied Authentication-Results (defect 5), comments in
 *    the AAR (none by default, cleaned with ARC_SEAL_AAR_COMMENTS or
 *    "aar-comments yes"), the real-world A-R shapes (version after the
 *    authserv-id, no authserv-id, arc.chain), the arc= comment and
 *    arc.chain of our A-R (bounded, OpenARC's order, "authres-arc-chain
 *    no"), reasons in ASCII.
 *  - Keys are made here (RSA-1024, EVP_PKEY_Q_keygen); public keys come
 *    from a callback (core) or a key table file (adapter).  No network.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cunit_run.h"
#include "test_fixture.h"

#include "arc.h"
#include "arc_adapter.h"
#include "arc_authres.h"
#include "arc_buf.h"
#include "arc_tags.h"

static EVP_PKEY	*key;
static char	*pem, *record;
static char	 dir[] = "/tmp/arc-test-headers.XXXXXX";
static char	 keyfile[300], keytable[300];

/* ---- helpers ----------------------------------------------------------- */

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

static char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		abort();
	return s;
}

/* The same record for every selector and domain. */
static char *
any_key(void *arg, const char *qname)
{
	(void)arg;
	(void)qname;
	return strdup(record);
}

static arc_lib *
make_lib(void)
{
	arc_lib	*lib = arc_lib_create();

	if (lib != NULL)
		arc_lib_set_txt_lookup(lib, any_key, NULL);
	return lib;
}

static arc_signer *
make_signer(const char *domain)
{
	char		 err[256];
	arc_signer	*s;

	s = arc_signer_create_pem(domain, "sel", pem, strlen(pem), err,
	    sizeof(err));
	if (s == NULL)
		fprintf(stderr, "signer: %s\n", err);
	return s;
}

/* The value of a complete field "Name: value\r\n", unfolded (CRLF
 * removed), malloc'd. */
static char *
unfold_value(const char *f)
{
	const char	*v = strchr(f, ':');
	char		*o, *d;

	if (v == NULL)
		return strdup("");
	o = d = strdup(v + 1);
	for (v = o; *v; v++)
		if (*v != '\r' && *v != '\n')
			*d++ = *v;
	*d = '\0';
	return o;
}

/* Printable ASCII, folds only before white space, one final CRLF, lines
 * of at most 998 octets, and the name it should have. */
static int
field_ok(const char *f, const char *name, char *why, size_t whylen)
{
	size_t	 i, n = strlen(f), col = 0;

	why[0] = '\0';
	if (strncasecmp(f, name, strlen(name)) != 0 ||
	    f[strlen(name)] != ':') {
		snprintf(why, whylen, "not a %s field", name);
		return 0;
	}
	if (n < 2 || f[n - 2] != '\r' || f[n - 1] != '\n') {
		snprintf(why, whylen, "does not end in CRLF");
		return 0;
	}
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)f[i];

		if (c == '\r') {
			if (f[i + 1] != '\n' || (i + 2 < n && f[i + 2] != ' ' &&
			    f[i + 2] != '\t')) {
				snprintf(why, whylen, "CR at %zu not a fold", i);
				return 0;
			}
			i++;
			col = 0;
			continue;
		}
		if ((c < 0x20 && c != '\t') || c > 0x7e) {
			snprintf(why, whylen, "byte 0x%02x at %zu", c, i);
			return 0;
		}
		if (++col > 998) {
			snprintf(why, whylen, "line over 998 octets");
			return 0;
		}
	}
	return 1;
}

/* An A-R value ("id; results") read back: every resinfo well formed and
 * written back the same.  Returns the number of resinfos, -1 if bad. */
static int
results_ok(const char *v, const char *want_id, char *why, size_t whylen)
{
	arc_authres	 ar;
	arc_ar_resinfo	 ri;
	const char	*e;
	size_t		 pos = 0;
	int		 n = 0;

	why[0] = '\0';
	if ((e = arc_authres_parse(&ar, v, strlen(v))) != NULL) {
		snprintf(why, whylen, "A-R: %s", e);
		return -1;
	}
	if (strcmp(ar.id, want_id) != 0) {
		snprintf(why, whylen, "authserv-id %s", ar.id);
		return -1;
	}
	if (ar.none)
		return 0;
	while (arc_authres_scan(ar.payload, ar.payload_len, &pos, &ri)) {
		arc_buf	 b = { 0 };
		size_t	 s = (size_t)(ri.method.p - ar.payload), l;

		if (ri.error != NULL) {
			snprintf(why, whylen, "resinfo %d: %s", n, ri.error);
			return -1;
		}
		arc_authres_write(&b, &ri, ARC_AR_COMMENTS);
		/* what we wrote reads back to itself */
		l = pos - s;
		while (l > 0 && (ar.payload[s + l - 1] == ';' ||
		    ar.payload[s + l - 1] == ' '))
			l--;
		if (b.data == NULL || strlen(b.data) != l ||
		    strncmp(b.data, ar.payload + s, l) != 0) {
			snprintf(why, whylen, "resinfo %d not in normal form: "
			    "%.*s / %s", n, (int)l, ar.payload + s,
			    b.data ? b.data : "");
			arc_buf_free(&b);
			return -1;
		}
		arc_buf_free(&b);
		n++;
	}
	return n;
}

/* An AAR field read back; its number of results, -1 if bad. */
static int
aar_ok(const char *f, int inst, char *why, size_t whylen)
{
	char	*v, pfx[32];
	int	 n = -1;

	if (!field_ok(f, "ARC-Authentication-Results", why, whylen))
		return -1;
	v = unfold_value(f);
	snprintf(pfx, sizeof(pfx), " i=%d; ", inst);
	if (strncmp(v, pfx, strlen(pfx)) != 0)
		snprintf(why, whylen, "does not begin with i=%d", inst);
	else
		n = results_ok(v + strlen(pfx) - 1, "mx.test", why, whylen);
	free(v);
	return n;
}

static int
tags_ok(const char *f, const char *name, char *why, size_t whylen)
{
	arc_tag		 tags[32];
	arc_taglist	 tl = { tags, 0, 32 };
	char		*v;
	const char	*e;

	if (!field_ok(f, name, why, whylen))
		return 0;
	v = unfold_value(f);
	e = arc_tags_parse(&tl, v, strlen(v));
	if (e != NULL)
		snprintf(why, whylen, "%s: %s", name, e);
	free(v);
	return e == NULL;
}

#define CHECK_SET(res) do {						\
	char why_[512] = "";						\
	check(tags_ok((res).as, "ARC-Seal", why_, sizeof(why_)),	\
	    __LINE__, "AS: %s: %s", why_, (res).as);			\
	check(tags_ok((res).ams, "ARC-Message-Signature", why_,		\
	    sizeof(why_)), __LINE__, "AMS: %s: %s", why_, (res).ams);	\
	check(aar_ok((res).aar, (res).instance, why_, sizeof(why_)) >=	\
	    0, __LINE__, "AAR: %s: %s", why_, (res).aar);		\
} while (0)

typedef struct {
	arc_seal_result	 res;
	arc_cv		 cv;
	char		*sealed;	/* the set on top of the message */
	size_t		 sealed_len;
} sealing;

/* Seals text as domain with the extra A-R values and flags. */
static int
seal_n(arc_lib *lib, const char *domain, const char *text, size_t len,
    const char *const *extra, unsigned flags, sealing *out)
{
	arc_signer	*s = make_signer(domain);
	arc_msg		*m;
	int		 ok = 0;

	memset(out, 0, sizeof(*out));
	if (s == NULL || (m = arc_msg_create(lib, ARC_MSG_SEAL)) == NULL) {
		arc_signer_free(s);
		return 0;
	}
	if (arc_msg_set_signer(m, s) == ARC_OK &&
	    arc_msg_feed(m, text, len) == ARC_OK &&
	    arc_msg_eom(m) == ARC_OK &&
	    arc_msg_seal(m, s, "mx.test", extra, 1700000000, flags,
	    &out->res) == ARC_OK) {
		ok = 1;
		out->cv = arc_msg_cv(m);
		if (out->res.sealed) {
			size_t h = strlen(out->res.as) + strlen(out->res.ams) +
			    strlen(out->res.aar);

			out->sealed = malloc(h + len + 1);
			snprintf(out->sealed, h + 1, "%s%s%s", out->res.as,
			    out->res.ams, out->res.aar);
			memcpy(out->sealed + h, text, len);
			out->sealed[h + len] = '\0';
			out->sealed_len = h + len;
		}
	} else
		fprintf(stderr, "seal: %s\n", arc_msg_error(m));
	arc_msg_free(m);
	arc_signer_free(s);
	return ok;
}

static int
seal(arc_lib *lib, const char *domain, const char *text,
    const char *const *extra, unsigned flags, sealing *out)
{
	return seal_n(lib, domain, text, strlen(text), extra, flags, out);
}

static void
sealing_clear(sealing *sl)
{
	arc_seal_result_clear(&sl->res);
	free(sl->sealed);
	memset(sl, 0, sizeof(*sl));
}

/* The verdict on text and its A-R value (malloc'd into *ar if asked). */
static arc_cv
verify_n(arc_lib *lib, const char *text, size_t len, unsigned arflags,
    char **ar, char *reason, size_t rlen)
{
	arc_msg	*m = arc_msg_create(lib, ARC_MSG_VERIFY);
	arc_cv	 cv = (arc_cv)-1;

	if (ar)
		*ar = NULL;
	if (m == NULL)
		return cv;
	if (arc_msg_feed(m, text, len) == ARC_OK &&
	    arc_msg_eom(m) == ARC_OK) {
		cv = arc_msg_cv(m);
		if (reason)
			snprintf(reason, rlen, "%s", arc_msg_reason(m));
		if (ar)
			*ar = arc_msg_authres_flags(m, "mx.test", "192.0.2.1",
			    arflags);
	}
	arc_msg_free(m);
	return cv;
}

static arc_cv
verify(arc_lib *lib, const char *text, unsigned arflags, char **ar,
    char *reason, size_t rlen)
{
	return verify_n(lib, text, strlen(text), arflags, ar, reason, rlen);
}

static const char MSG[] =
    "From: Alice <alice@a.example>\r\n"
    "To: bob@b.example\r\n"
    "Subject: hello\r\n"
    "Date: Thu, 14 Jan 2015 15:00:01 -0800\r\n"
    "\r\n"
    "Hi Bob,\r\n";

/* ---- issue 12 defect 1: no field the AMS signs --------------------------- */

static void
test_buf_reserve_empty(void)
{
	arc_buf	 b = { 0 };
	char	*s;

	/* reserved, nothing written: still the empty string */
	CU_ASSERT_PTR_NOT_NULL_FATAL(arc_buf_reserve(&b, 100));
	CU_ASSERT_EQUAL(b.data[0], '\0');
	s = arc_buf_steal(&b);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_STRING_EQUAL(s, "");
	free(s);
}

static void
test_no_signed_field(void)
{
	static const char *const msgs[] = {
		"X-Only: y\r\n\r\nbody\r\n",
		"X-Only: y\r\nX-Other: z\r\n",		/* no body either */
		"\r\nbody only\r\n",
		"",
	};
	arc_lib		*lib = make_lib();
	sealing		 sl;
	char		 reason[512];
	unsigned	 i, nofold;

	CU_ASSERT_PTR_NOT_NULL_FATAL(lib);
	for (i = 0; i < sizeof(msgs) / sizeof(msgs[0]); i++)
		for (nofold = 0; nofold < 2; nofold++) {
			CU_ASSERT_FATAL(seal(lib, "a.example", msgs[i], NULL,
			    nofold ? ARC_SEAL_NOFOLD : 0, &sl));
			check(sl.res.sealed, __LINE__, "msg %u sealed", i);
			if (!sl.res.sealed)
				continue;
			CHECK_SET(sl.res);
			/* a well-formed h= naming From, which is not there */
			check(strstr(sl.res.ams, " h=from;") != NULL,
			    __LINE__, "msg %u h=from: %s", i, sl.res.ams);
			check(verify(lib, sl.sealed, 0, NULL, reason,
			    sizeof(reason)) == ARC_CV_PASS, __LINE__,
			    "msg %u verifies: %s", i, reason);
			sealing_clear(&sl);
		}
	arc_lib_free(lib);
}

/* ---- issue 12 defect 5: every byte value in a copied A-R ----------------- */

static void
test_every_byte(void)
{
	/* the byte (at '@') goes into a comment, a value, a quoted
	 * string, a method, between two resinfos, an open comment */
	static const char *const shapes[] = {
		"mx.test; spf=pass (sender @ ok) smtp.mailfrom=a.example",
		"mx.test; spf=pass smtp.mailfrom=a@.example",
		"mx.test; dkim=pass reason=\"x@y\" header.d=a.example",
		"mx.test; dk@im=pass header.d=a.example",
		"mx.test; dkim=pass header.d=a.example;@ spf=fail",
		"mx.test; dkim=pass header.d=a.example (@",
	};
	arc_lib		*lib = make_lib();
	unsigned	 c, k, f, bad = 0;
	sealing		 sl;
	char		 reason[512], why[512];

	CU_ASSERT_PTR_NOT_NULL_FATAL(lib);
	for (c = 0; c < 256; c++)
		for (k = 0; k < sizeof(shapes) / sizeof(shapes[0]); k++)
			for (f = 0; f < 2; f++) {
				const char	*extra[2] = { NULL, NULL };
				const char	*at = strchr(shapes[k], '@');
				char		 ar[200], text[600];
				size_t		 pl = (size_t)(at - shapes[k]), n;

				/* the A-R with the byte, as a field of the
				 * message (NUL too: it is fed with its
				 * length) and, for f, from the host too */
				memcpy(ar, shapes[k], pl);
				ar[pl] = (char)c;
				snprintf(ar + pl + 1, sizeof(ar) - pl - 1, "%s",
				    at + 1);
				n = (size_t)snprintf(text, sizeof(text),
				    "Authentication-Results: %s\r\n%s",
				    ar + 0, MSG);
				if (c == 0) {	/* snprintf stopped at it */
					size_t tl = strlen(shapes[k]);

					n = (size_t)snprintf(text, sizeof(text),
					    "Authentication-Results: ");
					memcpy(text + n, shapes[k], tl);
					text[n + pl] = '\0';
					n += tl;
					n += (size_t)snprintf(text + n,
					    sizeof(text) - n, "\r\n%s", MSG);
				}
				extra[0] = ar;
				CU_ASSERT_FATAL(seal_n(lib, "a.example", text, n,
				    f ? extra : NULL, f ? ARC_SEAL_AAR_COMMENTS
				    : 0, &sl));
				if (!sl.res.sealed) {
					if (bad++ < 10)
						check(0, __LINE__, "byte %u shape "
						    "%u not sealed", c, k);
					sealing_clear(&sl);
					continue;
				}
				if ((aar_ok(sl.res.aar, 1, why, sizeof(why)) <
				    0 || !tags_ok(sl.res.ams,
				    "ARC-Message-Signature", why, sizeof(why)) ||
				    !tags_ok(sl.res.as, "ARC-Seal", why,
				    sizeof(why))) && bad++ < 10)
					check(0, __LINE__, "byte %u shape %u: "
					    "%s: %s", c, k, why, sl.res.aar);
				if (verify_n(lib, sl.sealed, sl.sealed_len, 0,
				    NULL, reason, sizeof(reason)) !=
				    ARC_CV_PASS && bad++ < 10)
					check(0, __LINE__, "byte %u shape %u: %s",
					    c, k, reason);
				sealing_clear(&sl);
			}
	CU_ASSERT_EQUAL(bad, 0);
	arc_lib_free(lib);
}

/* A byte that is not printable drops the resinfo it is in, not more;
 * in a comment it is dropped itself. */
static void
test_bad_byte_drops_resinfo(void)
{
	static const char text[] =
	    "Authentication-Results: mx.test; spf=pass smtp.mailfrom=a\x01"
	    "b.example; dkim=pass (key\x1b[31m ok) header.d=a.example;"
	    " dmarc=p\xc3\xa4ss header.from=a.example\r\n";
	arc_lib	*lib = make_lib();
	sealing	 sl;
	char	*t = xasprintf("%s%s", text, MSG), *v;

	CU_ASSERT_FATAL(lib != NULL && seal(lib, "a.example", t, NULL,
	    ARC_SEAL_AAR_COMMENTS | ARC_SEAL_NOFOLD, &sl));
	CU_ASSERT_FATAL(sl.res.sealed);
	v = unfold_value(sl.res.aar);
	check(strcmp(v, " i=1; mx.test; arc=none; dkim=pass (key[31m ok) "
	    "header.d=a.example") == 0, __LINE__, "%s", v);
	free(v);
	sealing_clear(&sl);
	free(t);
	arc_lib_free(lib);
}

static void
test_reasons_ascii(void)
{
	arc_lib	*lib = make_lib();
	sealing	 sl;
	char	*t, *ar, reason[512];
	size_t	 i;

	CU_ASSERT_FATAL(lib != NULL && seal(lib, "a.example", MSG, NULL, 0,
	    &sl));
	/* an AS with h= and an AMS naming ARC-Seal: the reasons that
	 * said "§" */
	{
		char *p = strstr(sl.sealed, "cv=none;");

		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		t = xasprintf("%.*sh=a; %s", (int)(p - sl.sealed), sl.sealed,
		    p);
	}
	CU_ASSERT_EQUAL(verify(lib, t, 0, &ar, reason, sizeof(reason)),
	    ARC_CV_FAIL);
	check(strstr(reason, "section 4.1.3") != NULL, __LINE__, "%s", reason);
	for (i = 0; reason[i]; i++)
		CU_ASSERT((unsigned char)reason[i] < 0x80);
	for (i = 0; ar && ar[i]; i++)
		CU_ASSERT((unsigned char)ar[i] < 0x7f &&
		    (unsigned char)ar[i] >= 0x20);
	free(ar);
	free(t);
	sealing_clear(&sl);
	arc_lib_free(lib);
}

/* ---- issue 14: comments, real-world shapes ------------------------------ */

static char *
aar_of(const char *ar_value, unsigned flags)
{
	arc_lib	*lib = make_lib();
	sealing	 sl;
	char	*t, *v = NULL, why[512];

	t = ar_value ? xasprintf("Authentication-Results: %s\r\n%s",
	    ar_value, MSG) : xasprintf("%s", MSG);
	if (lib != NULL && seal(lib, "a.example", t, NULL,
	    flags | ARC_SEAL_NOFOLD, &sl) && sl.res.sealed) {
		check(aar_ok(sl.res.aar, 1, why, sizeof(why)) >= 0, __LINE__,
		    "%s: %s", why, sl.res.aar);
		v = unfold_value(sl.res.aar);
	}
	sealing_clear(&sl);
	free(t);
	arc_lib_free(lib);
	return v != NULL ? v : strdup("(not sealed)");
}

#define CHECK_AAR(ar, flags, want) do {					\
	char *v_ = aar_of((ar), (flags));				\
	check(strcmp(v_, (want)) == 0, __LINE__, "AAR \"%s\", want \"%s\"", \
	    v_, (want));						\
	free(v_);							\
} while (0)

static void
test_aar_comments(void)
{
	static const char ms[] = "mx.test; dkim=pass (2048-bit key; "
	    "unprotected) header.d=a.example header.i=@a.example (x)";

	/* default: no comment at all */
	CHECK_AAR(ms, 0, " i=1; mx.test; arc=none; dkim=pass "
	    "header.d=a.example header.i=@a.example");
	/* kept: no ';' inside, balanced */
	CHECK_AAR(ms, ARC_SEAL_AAR_COMMENTS, " i=1; mx.test; arc=none; "
	    "dkim=pass (2048-bit key, unprotected) header.d=a.example "
	    "header.i=@a.example (x)");
	CHECK_AAR("mx.test; spf=pass (a (nested) \\) comment) "
	    "smtp.mailfrom=a.example", ARC_SEAL_AAR_COMMENTS,
	    " i=1; mx.test; arc=none; spf=pass (a nested comment) "
	    "smtp.mailfrom=a.example");
	/* the ValiMail suite's shape is kept as it is */
	CHECK_AAR("mx.test; arc=none;\r\n  spf=pass smtp.mfrom=jqd@d1.example;"
	    "\r\n  dkim=pass (1024-bit key) header.i=@d1.example;\r\n"
	    "  dmarc=pass", ARC_SEAL_AAR_COMMENTS, " i=1; mx.test; arc=none; "
	    "spf=pass smtp.mfrom=jqd@d1.example; dkim=pass (1024-bit key) "
	    "header.i=@d1.example; dmarc=pass");
}

static void
test_aar_shapes(void)
{
	/* Microsoft: a version after the authserv-id; "action=none" has
	 * no ptype and is left out */
	CHECK_AAR("mx.test 1; spf=pass smtp.mailfrom=a.example; dmarc=pass "
	    "action=none header.from=a.example; compauth=pass reason=100", 0,
	    " i=1; mx.test; arc=none; spf=pass smtp.mailfrom=a.example; "
	    "dmarc=pass header.from=a.example; compauth=pass reason=100");
	/* no authserv-id: ignored, never copied */
	CHECK_AAR("spf=pass (sender IP is 192.0.2.1) smtp.mailfrom=a.example;"
	    " dkim=pass header.d=a.example", 0, " i=1; mx.test; arc=none");
	CHECK_AAR("; spf=pass smtp.mailfrom=a.example", 0,
	    " i=1; mx.test; arc=none");
	/* arc.chain: the result is copied, the final-receiver hint not */
	CHECK_AAR("mx.test; arc=pass header.oldest-pass=0 "
	    "arc.chain=\"b.example:a.example\"", 0,
	    " i=1; mx.test; arc=pass header.oldest-pass=0");
	/* values that are not tokens come out quoted; method versions */
	CHECK_AAR("mx.test; iprev=pass policy.iprev=2001:db8::1; "
	    "dkim/1=pass header.b=ab+/cd==", 0, " i=1; mx.test; arc=none; "
	    "iprev=pass policy.iprev=\"2001:db8::1\"; dkim/1=pass "
	    "header.b=\"ab+/cd==\"");
	/* broken resinfos go, good ones beside them stay */
	CHECK_AAR("mx.test; spf=; dkim=pass header.d=a.example; none; "
	    "x=y z; dmarc=pass header.from=\"unterminated", 0,
	    " i=1; mx.test; arc=none; dkim=pass header.d=a.example");
	CHECK_AAR("mx.test; none", 0, " i=1; mx.test; arc=none");
}

/* ---- issue 14: our Authentication-Results ------------------------------- */

/* A chain of n hops sealed by the domains d<n>.example ... d1.example,
 * each with our A-R on top as the adapters do. */
static char *
chain(arc_lib *lib, int n, const char *suffix, char **last_aar)
{
	char	*text = xasprintf("%s", MSG), *ar, dom[300];
	sealing	 sl;
	int	 i;

	for (i = 1; i <= n; i++) {
		const char *extra[2] = { NULL, NULL };

		if (verify(lib, text, 0, &ar, NULL, 0) != (i == 1 ?
		    ARC_CV_NONE : ARC_CV_PASS)) {
			free(ar);
			free(text);
			return NULL;
		}
		extra[0] = ar;
		snprintf(dom, sizeof(dom), "d%d%s", i, suffix);
		if (!seal(lib, dom, text, extra, 0, &sl) || !sl.res.sealed) {
			free(ar);
			free(text);
			return NULL;
		}
		free(text);
		text = sl.sealed;
		sl.sealed = NULL;
		if (last_aar != NULL && i == n)
			*last_aar = strdup(sl.res.aar);
		sealing_clear(&sl);
		free(ar);
	}
	return text;
}

static void
test_authres_arc_chain(void)
{
	arc_lib	*lib = make_lib();
	char	*t, *ar;

	CU_ASSERT_PTR_NOT_NULL_FATAL(lib);
	t = chain(lib, 1, ".example", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(verify(lib, t, 0, &ar, NULL, 0), ARC_CV_PASS);
	check(ar && strcmp(ar, "mx.test; arc=pass (i=1 d=d1.example) "
	    "header.oldest-pass=0 smtp.remote-ip=192.0.2.1 "
	    "arc.chain=d1.example") == 0, __LINE__, "%s", ar);
	free(ar);
	free(t);
	/* OpenARC's order: newest first; quoted, ':' is no token char */
	t = chain(lib, 3, ".example", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(verify(lib, t, 0, &ar, NULL, 0), ARC_CV_PASS);
	check(ar && strcmp(ar, "mx.test; arc=pass (i=3 d=d3.example) "
	    "header.oldest-pass=0 smtp.remote-ip=192.0.2.1 "
	    "arc.chain=\"d3.example:d2.example:d1.example\"") == 0,
	    __LINE__, "%s", ar);
	free(ar);
	/* turned off */
	CU_ASSERT_EQUAL(verify(lib, t, ARC_AUTHRES_NO_CHAIN, &ar, NULL, 0),
	    ARC_CV_PASS);
	check(ar && strstr(ar, "arc.chain") == NULL, __LINE__, "%s", ar);
	free(ar);
	free(t);
	arc_lib_free(lib);
}

static void
test_authres_bounded(void)
{
	/* 50 hops of 60-byte domains: the list is over 255 bytes, so it
	 * is left out; the comment names the newest sealer only */
	static const char longsuffix[] = ".a-rather-long-domain-name-for-the-"
	    "list.example";
	arc_lib	*lib = make_lib();
	char	*t, *ar, *aar = NULL, why[512];

	CU_ASSERT_PTR_NOT_NULL_FATAL(lib);
	t = chain(lib, 50, longsuffix, &aar);
	CU_ASSERT_PTR_NOT_NULL_FATAL(t);
	CU_ASSERT_EQUAL(verify(lib, t, 0, &ar, NULL, 0), ARC_CV_PASS);
	check(ar && strstr(ar, "arc.chain") == NULL && strlen(ar) < 200,
	    __LINE__, "%s", ar ? ar : "");
	check(ar && strncmp(ar, "mx.test; arc=pass (i=50 d=d50.a-rather",
	    37) == 0, __LINE__, "%s", ar ? ar : "");
	/* the AAR of hop 50 copied the A-R of hop 49: no comment, no
	 * list, so short whatever the chain's length */
	CU_ASSERT_PTR_NOT_NULL_FATAL(aar);
	check(strlen(aar) < 200 && strchr(aar, '(') == NULL, __LINE__, "%s",
	    aar);
	check(aar_ok(aar, 50, why, sizeof(why)) >= 0, __LINE__, "%s", why);
	free(aar);
	free(ar);
	free(t);
	arc_lib_free(lib);
}

static void
test_authres_text(void)
{
	arc_lib	*lib = make_lib();
	arc_msg	*m;
	char	*ar;

	CU_ASSERT_PTR_NOT_NULL_FATAL(lib);
	CU_ASSERT_PTR_NOT_NULL_FATAL(m = arc_msg_create(lib, ARC_MSG_VERIFY));
	CU_ASSERT_EQUAL(arc_msg_feed(m, MSG, strlen(MSG)), ARC_OK);
	CU_ASSERT_EQUAL(arc_msg_eom(m), ARC_OK);
	/* IPv6 is not a token: quoted (RFC 8601 pvalue) */
	ar = arc_msg_authres(m, "mx.test", "2001:db8::1");
	CU_ASSERT_STRING_EQUAL(ar, "mx.test; arc=none "
	    "smtp.remote-ip=\"2001:db8::1\"");
	free(ar);
	/* an authserv-id that cannot be written gives nothing */
	CU_ASSERT_PTR_NULL(arc_msg_authres(m, "mx\x01test", NULL));
	CU_ASSERT_PTR_NULL(arc_msg_authres(m, "mx;test", NULL));
	CU_ASSERT_PTR_NULL(arc_msg_authres(m, "m\xc3\xa4x", NULL));
	CU_ASSERT_PTR_NULL(arc_msg_authres(m, "", NULL));
	CU_ASSERT(arc_authserv_id_ok("mx.example.org"));
	arc_msg_free(m);
	arc_lib_free(lib);
}

/* Lines within 998 octets, folded or not: a 4096-bit signature and an
 * h= of 300 names in unfolded output, an A-R value of 500 bytes. */
/* The verdict on the set res on top of text, with k's public key. */
static arc_cv
verify_with(EVP_PKEY *k, const arc_seal_result *res, const char *text,
    char *reason, size_t rlen)
{
	arc_lib		*l2 = arc_lib_create();
	unsigned char	*der = NULL;
	int		 dl = i2d_PUBKEY(k, &der);
	char		*b64 = malloc(4 * ((size_t)dl + 2) / 3 + 4);
	char		*all, *saved = record;
	arc_cv		 cv;

	if (l2 == NULL || dl <= 0 || b64 == NULL)
		abort();
	EVP_EncodeBlock((unsigned char *)b64, der, dl);
	record = xasprintf("v=DKIM1; k=rsa; p=%s", b64);
	arc_lib_set_txt_lookup(l2, any_key, NULL);
	all = xasprintf("%s%s%s%s", res->as, res->ams, res->aar, text);
	cv = verify(l2, all, 0, NULL, reason, rlen);
	arc_lib_free(l2);
	free(all);
	free(record);
	record = saved;
	free(b64);
	OPENSSL_free(der);
	return cv;
}

static void
test_long_lines(void)
{
	EVP_PKEY	*k4 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
	BIO		*bio = BIO_new(BIO_s_mem());
	arc_buf		 names = { 0 }, text = { 0 };
	arc_seal_result	 res;
	arc_signer	*s;
	arc_lib		*lib = arc_lib_create();
	arc_msg		*m;
	char		*pm, err[256], why[512], big[501], reason[512];
	long		 n;
	int		 i, nofold;

	CU_ASSERT_FATAL(k4 != NULL && bio != NULL && lib != NULL &&
	    PEM_write_bio_PrivateKey(bio, k4, NULL, NULL, 0, NULL, NULL));
	n = BIO_get_mem_data(bio, &pm);
	s = arc_signer_create_pem("a.example", "big", pm, (size_t)n, err,
	    sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	memset(big, 'v', 500);
	big[500] = '\0';
	arc_buf_printf(&text, "Authentication-Results: mx.test; spf=pass "
	    "smtp.mailfrom=%s\r\n", big);
	for (i = 0; i < 300; i++) {
		arc_buf_printf(&names, "%sx-field-number-%d", i ? ":" : "", i);
		arc_buf_printf(&text, "X-Field-Number-%d: v\r\n", i);
	}
	arc_buf_adds(&text, MSG);
	CU_ASSERT_FATAL(arc_signer_set_headers(s, names.data, NULL) == ARC_OK);
	for (nofold = 0; nofold < 2; nofold++) {
		CU_ASSERT_FATAL((m = arc_msg_create(lib, ARC_MSG_SEAL)) != NULL);
		CU_ASSERT_FATAL(arc_msg_set_signer(m, s) == ARC_OK &&
		    arc_msg_feed(m, text.data, text.len) == ARC_OK &&
		    arc_msg_eom(m) == ARC_OK);
		CU_ASSERT_FATAL(arc_msg_seal(m, s, "mx.test", NULL, 1700000000,
		    nofold ? ARC_SEAL_NOFOLD : 0, &res) == ARC_OK &&
		    res.sealed);
		check(tags_ok(res.as, "ARC-Seal", why, sizeof(why)), __LINE__,
		    "nofold %d AS: %s", nofold, why);
		check(tags_ok(res.ams, "ARC-Message-Signature", why,
		    sizeof(why)), __LINE__, "nofold %d AMS: %s", nofold, why);
		check(aar_ok(res.aar, 1, why, sizeof(why)) == 2, __LINE__,
		    "nofold %d AAR: %s", nofold, why);
		/* and it verifies (the key from a record of the 4096 key) */
		check(verify_with(k4, &res, text.data, reason, sizeof(reason))
		    == ARC_CV_PASS, __LINE__, "nofold %d: %s", nofold, reason);
		arc_seal_result_clear(&res);
		arc_msg_free(m);
	}
	arc_signer_free(s);
	arc_lib_free(lib);
	arc_buf_free(&names);
	arc_buf_free(&text);
	BIO_free(bio);
	EVP_PKEY_free(k4);
}

/* The longest line of a field, CRLF not counted. */
static size_t
longest_line(const char *f)
{
	size_t	col = 0, max = 0;

	for (; *f; f++)
		if (*f == '\n')
			col = 0;
		else if (*f != '\r' && ++col > max)
			max = col;
	return max;
}

/* A quoted value that ends in an escaped backslash ("a\\") closes its
 * string: the folder used to take that '"' for an escaped one, think
 * the rest of the field quoted and fold no more (a 1700-byte line). A
 * '"' inside a comment opens no string either. */
static void
test_fold_after_backslash(void)
{
	arc_lib		*lib = make_lib();
	arc_buf		 text = { 0 }, f = { 0 };
	sealing		 sl;
	char		 v[61], why[512], reason[512], *folded;
	int		 k, nofold;

	CU_ASSERT_PTR_NOT_NULL_FATAL(lib);
	memset(v, 'v', 60);
	v[60] = '\0';
	arc_buf_adds(&text, "Authentication-Results: mx.test; dkim=pass "
	    "reason=\"a\\\\\"");
	for (k = 0; k < 15; k++)
		arc_buf_printf(&text, " header.x%d=%s", k, v);
	for (k = 0; k < 30; k++)
		arc_buf_printf(&text, "; spf=pass smtp.mailfrom=%s", v);
	arc_buf_printf(&text, "\r\n%s", MSG);
	for (nofold = 0; nofold < 2; nofold++) {
		CU_ASSERT_FATAL(seal(lib, "a.example", text.data, NULL,
		    nofold ? ARC_SEAL_NOFOLD : 0, &sl) && sl.res.sealed);
		CHECK_SET(sl.res);
		check(aar_ok(sl.res.aar, 1, why, sizeof(why)) == 32, __LINE__,
		    "nofold %d: %s: %s", nofold, why, sl.res.aar);
		check(longest_line(sl.res.aar) <= (nofold ? 980u : 78u),
		    __LINE__, "nofold %d: a line of %zu octets: %s", nofold,
		    longest_line(sl.res.aar), sl.res.aar);
		check(verify(lib, sl.sealed, 0, NULL, reason, sizeof(reason))
		    == ARC_CV_PASS, __LINE__, "nofold %d: %s", nofold, reason);
		sealing_clear(&sl);
	}
	/* the folder alone: a lone '"' in a comment */
	arc_buf_adds(&f, "Authentication-Results: mx.test; arc=fail (a \" b)");
	for (k = 0; k < 10; k++)
		arc_buf_printf(&f, " smtp.x%d=%s", k, v);
	arc_buf_adds(&f, "\r\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(folded = arc_fold_field(f.data, 0));
	check(longest_line(folded) <= 78, __LINE__, "a line of %zu: %s",
	    longest_line(folded), folded);
	free(folded);
	arc_buf_free(&f);
	arc_buf_free(&text);
	arc_lib_free(lib);
}

/* Unfolded output with a 4096-bit signature (684 bytes) and a 247-byte
 * d=: the ARC-Seal's one line would pass 980 octets, so b= itself is
 * folded (fw_finish()); the set stays well formed and verifies. */
static void
test_fold_inside_b(void)
{
	EVP_PKEY	*k4 = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
	BIO		*bio = BIO_new(BIO_s_mem());
	arc_lib		*lib = arc_lib_create();
	arc_seal_result	 res;
	arc_signer	*s;
	arc_msg		*m;
	char		*pm, err[256], dom[300], reason[512];
	long		 n;

	CU_ASSERT_FATAL(k4 != NULL && bio != NULL && lib != NULL &&
	    PEM_write_bio_PrivateKey(bio, k4, NULL, NULL, 0, NULL, NULL));
	n = BIO_get_mem_data(bio, &pm);
	memset(dom, 'a', 243);
	dom[60] = dom[121] = dom[182] = '.';
	memcpy(dom + 243, ".ex", 4);
	CU_ASSERT_EQUAL(strlen(dom), 246);
	s = arc_signer_create_pem(dom, "big", pm, (size_t)n, err,
	    sizeof(err));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_FATAL((m = arc_msg_create(lib, ARC_MSG_SEAL)) != NULL);
	CU_ASSERT_FATAL(arc_msg_set_signer(m, s) == ARC_OK &&
	    arc_msg_feed(m, MSG, strlen(MSG)) == ARC_OK &&
	    arc_msg_eom(m) == ARC_OK);
	CU_ASSERT_FATAL(arc_msg_seal(m, s, "mx.test", NULL, 1700000000,
	    ARC_SEAL_NOFOLD, &res) == ARC_OK && res.sealed);
	CHECK_SET(res);
	/* the seal needed the fold: without it, one line of 1000 */
	check(strstr(res.as, "\r\n\t") != NULL && longest_line(res.as) <=
	    980, __LINE__, "AS: %s", res.as);
	check(longest_line(res.ams) <= 980, __LINE__, "AMS: %s", res.ams);
	check(verify_with(k4, &res, MSG, reason, sizeof(reason)) ==
	    ARC_CV_PASS, __LINE__, "%s", reason);
	arc_seal_result_clear(&res);
	arc_msg_free(m);
	arc_signer_free(s);
	arc_lib_free(lib);
	BIO_free(bio);
	EVP_PKEY_free(k4);
}

/* What goes into d=, s= and h= of our signatures: printable ASCII that
 * the tag-list grammar allows. */
static void
test_signer_names(void)
{
	char		 err[256];
	arc_signer	*s;

	CU_ASSERT_PTR_NULL(arc_signer_create_pem("ex\xc3\xa4mple.org", "sel",
	    pem, strlen(pem), err, sizeof(err)));
	CU_ASSERT_PTR_NULL(arc_signer_create_pem("a.example", "s;el", pem,
	    strlen(pem), err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL_FATAL(s = make_signer("a.example"));
	CU_ASSERT_EQUAL(arc_signer_set_headers(s, "from;x", NULL),
	    ARC_ERR_ARG);
	CU_ASSERT_EQUAL(arc_signer_set_headers(s, "from:x y", NULL),
	    ARC_ERR_ARG);
	CU_ASSERT_EQUAL(arc_signer_set_headers(s, "from:x\x01", NULL),
	    ARC_ERR_ARG);
	CU_ASSERT_EQUAL(arc_signer_set_headers(s, "from", "to;cc"),
	    ARC_ERR_ARG);
	CU_ASSERT_EQUAL(arc_signer_set_headers(s, " from : to :x-a.b ",
	    "to"), ARC_OK);
	arc_signer_free(s);
}

/* ---- the adapter layer: aar-comments, authres-arc-chain ----------------- */

static const arc_actions *
run_session(arc_adapter *ad, const char *text, arc_session **ssp)
{
	arc_session_params	 p;
	arc_session		*ss;

	memset(&p, 0, sizeof(p));
	p.id = "t";
	p.client_ip = "192.0.2.9";
	p.seal = 1;
	*ssp = ss = arc_session_create(ad, &p);
	if (ss == NULL || arc_session_feed(ss, text, strlen(text)) != 0)
		return NULL;
	if (arc_session_eom(ss) == ARC_SESSION_PENDING &&
	    arc_session_wait(ss) != ARC_SESSION_DONE)
		return NULL;
	return arc_session_actions(ss);
}

static arc_adapter *
adapter(const char *opt1, const char *v1, arc_conf **cp)
{
	char		 err[512];
	arc_conf	*c = arc_conf_load(NULL, err, sizeof(err));
	arc_adapter	*ad;

	*cp = c;
	if (c == NULL || arc_conf_set(c, "authserv-id", "mx.test", err,
	    sizeof(err)) != 0 || arc_conf_set(c, "key-table", keytable, err,
	    sizeof(err)) != 0 || arc_conf_set(c, "dns", "no", err,
	    sizeof(err)) != 0 || arc_conf_set(c, "seal-domain", "seal.example",
	    err, sizeof(err)) != 0 || arc_conf_set(c, "seal-selector", "s1",
	    err, sizeof(err)) != 0 || arc_conf_set(c, "seal-key", keyfile, err,
	    sizeof(err)) != 0 || arc_conf_set(c, "log-level", "err", err,
	    sizeof(err)) != 0 || (opt1 && arc_conf_set(c, opt1, v1, err,
	    sizeof(err)) != 0)) {
		fprintf(stderr, "conf: %s\n", err);
		return NULL;
	}
	if ((ad = arc_adapter_create(c, NULL, NULL, err, sizeof(err))) == NULL)
		fprintf(stderr, "adapter: %s\n", err);
	return ad;
}

static void
check_actions(const arc_actions *a, int line)
{
	static const char *const names[] = { "ARC-Seal",
	    "ARC-Message-Signature", "ARC-Authentication-Results",
	    "Authentication-Results" };
	char	 why[512];
	int	 i;

	check(a != NULL && a->nfields == 4, line, "4 fields");
	for (i = 0; a && i < a->nfields && i < 4; i++)
		check(field_ok(a->fields[i], names[i], why, sizeof(why)),
		    line, "%s: %s", why, a->fields[i]);
}

static void
test_adapter_options(void)
{
	static const char text[] =
	    "Authentication-Results: mx.test; dkim=pass (2048-bit key; "
	    "unprotected) header.d=a.example\r\n"
	    "X-Only: y\r\n\r\nbody\r\n";
	arc_conf		*c;
	arc_adapter		*ad;
	arc_session		*ss, *ss2;
	const arc_actions	*a;
	char			*sealed, *v;
	int			 i;

	/* defaults: no comments in the AAR, arc.chain in the A-R; and the
	 * message with no signed field gets h=from */
	CU_ASSERT_PTR_NOT_NULL_FATAL(ad = adapter(NULL, NULL, &c));
	a = run_session(ad, text, &ss);
	check_actions(a, __LINE__);
	CU_ASSERT_FATAL(a != NULL && a->nfields == 4);
	CU_ASSERT(strstr(a->fields[1], " h=from;") != NULL);
	CU_ASSERT(strchr(a->fields[2], '(') == NULL);
	CU_ASSERT(strstr(a->fields[2], "dkim=pass header.d=a.example") !=
	    NULL);
	/* the next hop: arc.chain names the sealer */
	sealed = xasprintf("%s%s%s%s%s", a->fields[0], a->fields[1],
	    a->fields[2], a->fields[3], text);
	a = run_session(ad, sealed, &ss2);
	CU_ASSERT_FATAL(a != NULL && a->cv == ARC_CV_PASS);
	check_actions(a, __LINE__);
	v = unfold_value(a->fields[3]);
	check(strstr(v, " arc.chain=seal.example") != NULL, __LINE__, "%s", v);
	free(v);
	arc_session_free(ss2);
	arc_session_free(ss);
	arc_adapter_free(ad);
	arc_conf_free(c);

	/* aar-comments yes: kept, cleaned */
	CU_ASSERT_PTR_NOT_NULL_FATAL(ad = adapter("aar-comments", "yes", &c));
	a = run_session(ad, text, &ss);
	check_actions(a, __LINE__);
	CU_ASSERT_FATAL(a != NULL && a->nfields == 4);
	v = unfold_value(a->fields[2]);
	check(strstr(v, "dkim=pass (2048-bit key, unprotected) "
	    "header.d=a.example") != NULL, __LINE__, "%s", v);
	free(v);
	arc_session_free(ss);
	arc_adapter_free(ad);
	arc_conf_free(c);

	/* authres-arc-chain no */
	CU_ASSERT_PTR_NOT_NULL_FATAL(ad = adapter("authres-arc-chain", "no",
	    &c));
	a = run_session(ad, sealed, &ss);
	CU_ASSERT_FATAL(a != NULL && a->cv == ARC_CV_PASS);
	check_actions(a, __LINE__);
	for (i = 0; i < a->nfields; i++)
		CU_ASSERT(strstr(a->fields[i], "arc.chain") == NULL);
	arc_session_free(ss);
	arc_adapter_free(ad);
	arc_conf_free(c);
	free(sealed);

	/* an authserv-id that cannot be written is an error at start */
	{
		char		 err[512];
		arc_conf	*bc = arc_conf_load(NULL, err, sizeof(err));

		CU_ASSERT_FATAL(bc != NULL && arc_conf_set(bc, "authserv-id",
		    "mx;evil", err, sizeof(err)) == 0);
		CU_ASSERT_PTR_NULL(arc_adapter_create(bc, NULL, NULL, err,
		    sizeof(err)));
		check(strstr(err, "authserv-id") != NULL, __LINE__, "%s", err);
		arc_conf_free(bc);
	}
}

/* ---- main -------------------------------------------------------------- */

static int
setup(void)
{
	BIO		*bio;
	unsigned char	*der = NULL;
	char		*b64, *pm;
	long		 n;
	int		 dl;

	if (fixture_keys(dir, keyfile, keytable, NULL) != 0)
		return -1;
	if ((key = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024)) ==
	    NULL || (bio = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_PrivateKey(bio, key, NULL, NULL, 0, NULL, NULL))
		return -1;
	n = BIO_get_mem_data(bio, &pm);
	pem = strndup(pm, (size_t)n);
	BIO_free(bio);
	if ((dl = i2d_PUBKEY(key, &der)) <= 0 ||
	    (b64 = malloc(4 * ((size_t)dl + 2) / 3 + 4)) == NULL)
		return -1;
	EVP_EncodeBlock((unsigned char *)b64, der, dl);
	record = xasprintf("v=DKIM1; k=rsa; p=%s", b64);
	free(b64);
	OPENSSL_free(der);
	return pem != NULL ? 0 : -1;
}

static int
teardown(void)
{
	EVP_PKEY_free(key);
	free(pem);
	free(record);
	return fixture_remove(dir);
}

int
main(void)
{
	static const cunit_test tests[] = {
		{ "buf_reserve_empty", test_buf_reserve_empty },
		{ "no_signed_field", test_no_signed_field },
		{ "every_byte", test_every_byte },
		{ "bad_byte_drops_resinfo", test_bad_byte_drops_resinfo },
		{ "reasons_ascii", test_reasons_ascii },
		{ "aar_comments", test_aar_comments },
		{ "aar_shapes", test_aar_shapes },
		{ "authres_arc_chain", test_authres_arc_chain },
		{ "authres_bounded", test_authres_bounded },
		{ "authres_text", test_authres_text },
		{ "signer_names", test_signer_names },
		{ "long_lines", test_long_lines },
		{ "fold_after_backslash", test_fold_after_backslash },
		{ "fold_inside_b", test_fold_inside_b },
		{ "adapter_options", test_adapter_options },
		{ NULL, NULL }
	};

	return cunit_run("headers_out", setup, teardown, tests);
}
