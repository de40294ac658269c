/*
 * arc_sigcheck.c - one ARC signature against its key: the AMS over the
 * fields its h= names, the AS over the chain below it (RFC 8617 §5.2
 * steps 4 to 6), with the chain hashed once for all the seals.
 *
 * Contract: the caller (arc_verify.c) decides the order and has the key
 * slots ready; these functions hash, look at the key entry and check,
 * and say why a signature failed and whether the cause is temporary.
 * They call down only (arc_field.c, arc_crypto.c).
 */
#include <stdlib.h>
#include <string.h>

#include "arc_crypto.h"
#include "arc_internal.h"

/* The usable key entry for h, or NULL with *why set and *temp telling
 * whether the failure is temporary (timeout, SERVFAIL). */
static arc_keyentry *
key_for(arc_msg *m, arc_hdr *h, const char **why, arc_dnssec *dnssec,
    int *temp)
{
	arc_keyentry	*e;
	int		 want;

	*temp = 0;
	if (h->key < 0) {
		*why = "too many distinct keys to look up";
		return NULL;
	}
	if ((e = m->keys[h->key].entry) == NULL) {
		*temp = 1;
		*why = "key lookup timed out";
		return NULL;
	}
	*dnssec = e->dnssec;
	if (e->error) {
		*temp = e->temporary;
		*why = e->error;
		return NULL;
	}
	want = h->alg == ARC_ALG_RSA_SHA256 ? ARC_KTYPE_RSA : ARC_KTYPE_ED25519;
	if (e->ktype != want) {
		*why = "key type does not match a=";
		return NULL;
	}
	return e;
}

/* Checks h's b= over md, the SHA-256 of what it signs. */
static int
check_signature(arc_hdr *h, arc_keyentry *key, const unsigned char md[32],
    const char **why)
{
	const arc_tag	*b = arc_tags_get(&h->tl, "b");
	unsigned char	*sig;
	size_t		 siglen;
	int		 r;

	if ((sig = arc_base64_decode(b->value, b->value_len, &siglen)) ==
	    NULL) {
		*why = "b= is not base64";
		return 0;
	}
	/* what is prepared for the key is kept with it, for all the
	 * messages that the key cache serves it to.  NOT THREAD-SAFE: the
	 * contexts are made lazily and used in place, so two threads
	 * verifying with one cached key would share them; safe today only
	 * because every adapter serializes calls on one arc_lib
	 * (arc-milter's global lock).  Threaded verification needs a
	 * context per thread (or a lock per entry) first. */
	r = arc_crypto_verify_md(key->pkey, h->alg, &key->vctx, &key->pctx,
	    md, sig, siglen);
	free(sig);
	if (r != 1)
		*why = r < 0 ? "signature check failed internally" :
		    "signature did not verify";
	return r == 1;
}

/* The body hash h claims against the body: needs no key, so a body
 * that does not match fails before any lookup can make it a temporary
 * error.  1 if it matches. */
static int
check_body(arc_msg *m, arc_hdr *h, const char **why)
{
	const arc_tag	*t;
	arc_bh		*bh;
	unsigned char	*want;
	size_t		 wantlen;
	int		 ok;

	bh = &m->bh[h->bodyhash];
	if (h->l >= 0 && arc_bodyhash_length(bh->h) < (unsigned long long)h->l) {
		*why = "l= is longer than the body";
		return 0;
	}
	t = arc_tags_get(&h->tl, "bh");
	want = arc_base64_decode(t->value, t->value_len, &wantlen);
	ok = want != NULL && wantlen == 32 && memcmp(want, bh->digest, 32) == 0;
	free(want);
	if (!ok)
		*why = "body hash did not verify";
	return ok;
}

static int	check_fields(arc_msg *, arc_hdr *, arc_keyentry *, size_t,
		    const char **, unsigned long long *);

/* 1 pass, 0 fail (*why, *temp), -1 over limit: the fields h signs came
 * to more than limit canonicalized bytes (0: no limit).  *hashed gets
 * the bytes hashed.  What fails without a key (syntax, body hash) fails
 * before the key is asked for: *temp only when the key decided. */
int
arc_check_ams(arc_msg *m, arc_hdr *h, size_t limit, const char **why,
    arc_dnssec *dnssec, int *temp, unsigned long long *hashed)
{
	arc_keyentry	*key;

	*temp = 0;
	if (h->error) {
		*why = h->error;
		return 0;
	}
	if (h->key < 0) {	/* no slot: a limit, and no body hash either */
		*why = "too many distinct keys to look up";
		return 0;
	}
	if (!check_body(m, h, why))
		return 0;
	if ((key = key_for(m, h, why, dnssec, temp)) == NULL)
		return 0;
	return check_fields(m, h, key, limit, why, hashed);
}

/* The body hash, then b= over the fields h= names and h itself, with a
 * key the caller found usable (a DKIM-Signature in arc_dkim.c).  The
 * same returns as arc_check_ams(). */
int
arc_check_signed(arc_msg *m, arc_hdr *h, arc_keyentry *key, size_t limit,
    const char **why, unsigned long long *hashed)
{
	if (!check_body(m, h, why))
		return 0;
	return check_fields(m, h, key, limit, why, hashed);
}

/* b= over the fields h= names and h itself. */
static int
check_fields(arc_msg *m, arc_hdr *h, arc_keyentry *key, size_t limit,
    const char **why, unsigned long long *hashed)
{
	const arc_tag	*t;
	unsigned char	 md[32];
	unsigned int	 mdlen = 0;
	arc_buf		 data = { 0 };
	int		 ok;

	t = arc_tags_get(&h->tl, "h");
	data.limit = limit;
	if (arc_add_signed_fields(m, t->value, t->value_len, h->hcanon,
	    &data) != 0) {
		arc_buf_free(&data);
		*why = "h= lists too many fields";
		return 0;
	}
	arc_field_canon(&data, &m->fields[h->field], h->hcanon, h);
	if (data.failed) {
		arc_buf_free(&data);
		*why = "out of memory";
		return limit != 0 ? -1 : 0;
	}
	*hashed = data.len;
	ok = EVP_Digest(data.data, data.len, md, &mdlen, arc_sha256(), NULL)
	    == 1 && mdlen == 32;
	arc_buf_free(&data);
	if (!ok) {
		*why = "signature check failed internally";
		return 0;
	}
	return check_signature(h, key, md, why);
}

/* What every AS signs (RFC 8617 §5.1.1): the sets below it, its own AAR
 * and AMS, then itself without b= and without the final CRLF.  One
 * running SHA-256 goes over the chain from i=1 up; at each set it is
 * copied and the copy finished with that set's AS, so the hashing is
 * linear in the chain, whatever the hop count.  0 on failure. */
int
arc_seal_digests(arc_msg *m)
{
	EVP_MD_CTX	*run, *c;
	arc_buf		 t = { 0 };
	unsigned int	 mdlen;
	int		 i, k, ok;

	if ((m->seal_md = calloc((size_t)m->nsets + 1, 32)) == NULL)
		return 0;
	run = EVP_MD_CTX_new();
	c = EVP_MD_CTX_new();
	ok = run != NULL && c != NULL &&
	    EVP_DigestInit_ex(run, arc_sha256(), NULL) == 1;
	for (i = 1; ok && i <= m->nsets; i++) {
		arc_hdr *as = m->set[i][ARC_AS];

		arc_buf_reset(&t);
		for (k = ARC_AAR; k <= ARC_AMS; k++)
			arc_field_canon(&t, &m->fields[m->set[i][k]->field],
			    ARC_CANON_RELAXED, NULL);
		ok = !t.failed && EVP_DigestUpdate(run, t.data, t.len) == 1 &&
		    EVP_MD_CTX_copy_ex(c, run) == 1;
		m->stats.seal_bytes += t.len;
		arc_buf_reset(&t);
		arc_field_canon(&t, &m->fields[as->field], ARC_CANON_RELAXED,
		    as);
		mdlen = 0;
		ok = ok && !t.failed && EVP_DigestUpdate(c, t.data, t.len) ==
		    1 && EVP_DigestFinal_ex(c, m->seal_md[i], &mdlen) == 1 &&
		    mdlen == 32;
		m->stats.seal_bytes += t.len;
		if (i == m->nsets)
			break;
		arc_buf_reset(&t);
		arc_field_canon(&t, &m->fields[as->field], ARC_CANON_RELAXED,
		    NULL);
		ok = ok && !t.failed && EVP_DigestUpdate(run, t.data, t.len) ==
		    1;
		m->stats.seal_bytes += t.len;
	}
	EVP_MD_CTX_free(run);
	EVP_MD_CTX_free(c);
	arc_buf_free(&t);
	return ok;
}

int
arc_check_as(arc_msg *m, int inst, const char **why, arc_dnssec *dnssec,
    int *temp)
{
	arc_hdr		*h = m->set[inst][ARC_AS];
	arc_keyentry	*key;

	if ((key = key_for(m, h, why, dnssec, temp)) == NULL)
		return 0;
	return check_signature(h, key, m->seal_md[inst], why);
}
