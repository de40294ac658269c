/*
 * arc_verify.c - chain validation, RFC 8617 §5.2.
 *
 * arc_verify_prepare() runs at end of headers: it finds and parses the
 * ARC fields, checks the structure, and starts every key lookup and body
 * hash the verdict will need, all at once.  arc_verify_run() runs at end
 * of message with the keys in hand: latest AMS, older AMSs for
 * oldest-pass, then every AS from N down to 1.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arc_crypto.h"
#include "arc_internal.h"

#define MAX_H_ENTRIES	1000

static const char *const kind_name[ARC_NKINDS] = {
	"ARC-Authentication-Results", "ARC-Message-Signature", "ARC-Seal"
};
static const char *const kind_short[ARC_NKINDS] = { "AAR", "AMS", "AS" };

static int
is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static const char *
field_value(const arc_field *f, size_t *len)
{
	const char *v = memchr(f->text, ':', f->len) + 1;

	*len = f->len - (size_t)(v - f->text);
	return v;
}

/* 1*2DIGIT, 1..50; 51 stands for "a number past the limit". */
static int
parse_position(const char *p, size_t n)
{
	size_t	 i;
	int	 v = 0;

	if (n == 0)
		return 0;
	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)p[i]))
			return 0;
		if (v < 1000)
			v = v * 10 + (p[i] - '0');
	}
	if (v == 0)
		return 0;
	return v > 50 ? 51 : (n > 2 ? 0 : v);
}

/* "i=N;" at the start of an AAR (RFC 8617 §4.1.1). */
static void
parse_aar(arc_hdr *h, const char *v, size_t len)
{
	size_t	 i = 0, s;

	while (i < len && is_fws(v[i]))
		i++;
	if (i == len || v[i] != 'i') {
		h->error = "AAR does not begin with i=";
		return;
	}
	for (i++; i < len && is_fws(v[i]); i++)
		;
	if (i == len || v[i] != '=') {
		h->error = "AAR does not begin with i=";
		return;
	}
	for (i++; i < len && is_fws(v[i]); i++)
		;
	for (s = i; i < len && isdigit((unsigned char)v[i]); i++)
		;
	if ((h->instance = parse_position(v + s, i - s)) == 0) {
		h->error = "AAR has an invalid i= value";
		return;
	}
	while (i < len && is_fws(v[i]))
		i++;
	if (i == len || v[i] != ';') {
		h->instance = 0;
		h->error = "AAR i= is not followed by ';'";
	}
}

static int
tag_eq(const arc_tag *t, const char *s)
{
	return t->value_len == strlen(s) && memcmp(t->value, s, t->value_len)
	    == 0;
}

static int
all_digits(const arc_tag *t, int maxlen)
{
	size_t	 i;

	if (t->value_len == 0 || t->value_len > (size_t)maxlen)
		return 0;
	for (i = 0; i < t->value_len; i++)
		if (!isdigit((unsigned char)t->value[i]))
			return 0;
	return 1;
}

/* A domain name or selector: dot-separated labels of letters, digits,
 * hyphens (underscores allowed in selectors), UTF-8 U-labels allowed. */
static int
valid_dname(const arc_tag *t, int selector)
{
	size_t	 i, lab = 0;

	if (t->value_len == 0 || t->value_len > 253)
		return 0;
	for (i = 0; i < t->value_len; i++) {
		unsigned char c = (unsigned char)t->value[i];

		if (c == '.') {
			if (lab == 0 || t->value[i - 1] == '-')
				return 0;
			lab = 0;
			continue;
		}
		if (!(isalnum(c) || c >= 0x80 || (c == '-' && lab > 0) ||
		    (c == '_' && selector)))
			return 0;
		if (++lab > 63)
			return 0;
	}
	return lab > 0 && t->value[i - 1] != '-';
}

static char *
tag_strdup(const arc_tag *t)
{
	char	*s = malloc(t->value_len + 1);

	if (s) {
		memcpy(s, t->value, t->value_len);
		s[t->value_len] = '\0';
	}
	return s;
}

static int
hlist_has(const arc_tag *t, const char *name)
{
	size_t	 i = 0, s, e, n = strlen(name);

	while (i < t->value_len) {
		while (i < t->value_len && (is_fws(t->value[i]) ||
		    t->value[i] == ':'))
			i++;
		s = i;
		while (i < t->value_len && t->value[i] != ':' &&
		    !is_fws(t->value[i]))
			i++;
		e = i;
		if (e - s == n && strncasecmp(t->value + s, name, n) == 0)
			return 1;
	}
	return 0;
}

static int
parse_canon(const arc_tag *t, arc_canon_mode *hc, arc_canon_mode *bc)
{
	const char	*slash = memchr(t->value, '/', t->value_len);
	size_t		 hl = slash ? (size_t)(slash - t->value) : t->value_len;

	if (hl == 6 && memcmp(t->value, "simple", 6) == 0)
		*hc = ARC_CANON_SIMPLE;
	else if (hl == 7 && memcmp(t->value, "relaxed", 7) == 0)
		*hc = ARC_CANON_RELAXED;
	else
		return 0;
	*bc = ARC_CANON_SIMPLE;
	if (slash == NULL)
		return 1;
	arc_tag b = { NULL, 0, slash + 1, t->value_len - hl - 1 };

	if (tag_eq(&b, "simple"))
		return 1;
	if (tag_eq(&b, "relaxed")) {
		*bc = ARC_CANON_RELAXED;
		return 1;
	}
	return 0;
}

/* The tags common to AMS and AS, then each one's own (RFC 8617 §4.1). */
static void
parse_sig(arc_msg *m, arc_hdr *h, const char *v, size_t len)
{
	const arc_tag	*t, *ts, *tx;
	const char	*why;
	unsigned long long tv = 0, xv = 0;

	h->tl.tags = h->tags;
	h->tl.max = m->lib->limits.max_tags < ARC_MAX_TAGS_DEFAULT ?
	    m->lib->limits.max_tags : ARC_MAX_TAGS_DEFAULT;
	h->l = -1;
	if ((why = arc_tags_parse(&h->tl, v, len)) != NULL) {
		h->error = why;
		return;
	}
	if ((t = arc_tags_get(&h->tl, "i")) == NULL) {
		h->error = "no i= tag";
		return;
	}
	if (!all_digits(t, 8) ||
	    (h->instance = parse_position(t->value, t->value_len)) == 0) {
		h->error = "invalid i= value";
		return;
	}
	if ((t = arc_tags_get(&h->tl, "a")) == NULL) {
		h->error = "no a= tag";
		return;
	}
	if (tag_eq(t, "rsa-sha256"))
		h->alg = ARC_ALG_RSA_SHA256;
	else if (tag_eq(t, "ed25519-sha256"))
		h->alg = ARC_ALG_ED25519_SHA256;
	else {
		h->error = tag_eq(t, "rsa-sha1") ?
		    "rsa-sha1 is not allowed (RFC 8301)" :
		    "unknown algorithm in a=";
		return;
	}
	if ((t = arc_tags_get(&h->tl, "b")) == NULL || t->value_len == 0) {
		h->error = "no signature (b=)";
		return;
	}
	if ((t = arc_tags_get(&h->tl, "d")) == NULL || !valid_dname(t, 0)) {
		h->error = "missing or invalid d=";
		return;
	}
	if ((ts = arc_tags_get(&h->tl, "s")) == NULL || !valid_dname(ts, 1)) {
		h->error = "missing or invalid s=";
		return;
	}
	if ((h->domain = tag_strdup(t)) == NULL ||
	    (h->selector = tag_strdup(ts)) == NULL) {
		h->error = "out of memory";
		return;
	}
	if ((t = arc_tags_get(&h->tl, "t")) != NULL) {
		if (!all_digits(t, 12)) {
			h->error = "invalid t= value";
			return;
		}
		tv = strtoull(t->value, NULL, 10);
	}
	if ((tx = arc_tags_get(&h->tl, "x")) != NULL) {
		if (!all_digits(tx, 12)) {
			h->error = "invalid x= value";
			return;
		}
		xv = strtoull(tx->value, NULL, 10);
		if (t != NULL && xv < tv) {
			h->error = "x= is before t=";
			return;
		}
		if (xv < (unsigned long long)arc_lib_now(m->lib)) {
			h->error = "signature expired (x=)";
			return;
		}
	}
	if (h->kind == ARC_AS) {
		if (arc_tags_get(&h->tl, "h") != NULL) {
			h->error = "ARC-Seal must not have h= (RFC 8617 "
			    "§4.1.3)";
			return;
		}
		if ((t = arc_tags_get(&h->tl, "cv")) == NULL) {
			h->error = "no cv= tag";
			return;
		}
		h->cv = tag_eq(t, "none") ? ARC_CV_NONE : tag_eq(t, "pass") ?
		    ARC_CV_PASS : tag_eq(t, "fail") ? ARC_CV_FAIL : -1;
		if (h->cv < 0)
			h->error = "invalid cv= value";
		return;
	}
	/* AMS */
	if ((t = arc_tags_get(&h->tl, "bh")) == NULL || t->value_len == 0) {
		h->error = "no body hash (bh=)";
		return;
	}
	if ((t = arc_tags_get(&h->tl, "h")) == NULL) {
		h->error = "no h= tag";
		return;
	}
	/* The suite and dkimpy accept ARC-Message-Signature and
	 * ARC-Authentication-Results in h= (earlier drafts signed them) but
	 * never ARC-Seal, which a later sealer adds by design. */
	if (hlist_has(t, "arc-seal")) {
		h->error = "h= includes ARC-Seal (RFC 8617 §4.1.2)";
		return;
	}
	/* No c= means relaxed/relaxed for ARC: the ARC drafts made relaxed
	 * the only canonicalization, and dkimpy and the suite keep that. */
	h->hcanon = h->bcanon = ARC_CANON_RELAXED;
	if ((t = arc_tags_get(&h->tl, "c")) != NULL &&
	    !parse_canon(t, &h->hcanon, &h->bcanon)) {
		h->error = "invalid c= value";
		return;
	}
	if ((t = arc_tags_get(&h->tl, "l")) != NULL) {
		if (!all_digits(t, 15)) {
			h->error = "invalid l= value";
			return;
		}
		h->l = strtoll(t->value, NULL, 10);
	}
}

static int
add_bodyhash(arc_msg *m, arc_canon_mode mode, long long limit)
{
	unsigned	 i;
	arc_bh		*nb;

	for (i = 0; i < m->nbh; i++)
		if (m->bh[i].mode == mode && m->bh[i].limit == limit)
			return (int)i;
	if ((nb = reallocarray(m->bh, m->nbh + 1, sizeof(*nb))) == NULL)
		return -1;
	m->bh = nb;
	memset(&nb[m->nbh], 0, sizeof(*nb));
	nb[m->nbh].mode = mode;
	nb[m->nbh].limit = limit;
	if ((nb[m->nbh].h = arc_bodyhash_create(mode, limit)) == NULL)
		return -1;
	return (int)m->nbh++;
}

static void
key_ready(arc_keywait *w)
{
	arc_keyslot	*s = (arc_keyslot *)w;
	arc_msg		*m = s->msg;

	if (s->done)
		return;
	s->done = 1;
	/* only a message whose arc_msg_eom() said ARC_PENDING is told:
	 * before that, the caller is still streaming the body */
	if (--m->keys_pending == 0 && m->eom_pending && m->ready_fn != NULL)
		m->ready_fn(m, m->ready_arg);
}

/* Finds or adds the key slot for h's selector and domain. */
static int
want_key(arc_msg *m, arc_hdr *h)
{
	unsigned	 i;

	for (i = 0; i < m->nkeys; i++)
		if (strcasecmp(m->keys[i].selector, h->selector) == 0 &&
		    strcasecmp(m->keys[i].domain, h->domain) == 0)
			return (int)i;
	if (m->nkeys >= m->lib->limits.max_key_queries)
		return -2;
	m->keys[i].msg = m;
	m->keys[i].wait.fn = key_ready;
	if ((m->keys[i].selector = strdup(h->selector)) == NULL ||
	    (m->keys[i].domain = strdup(h->domain)) == NULL)
		return -1;
	m->nkeys++;
	return (int)i;
}

static void
start_lookups(arc_msg *m)
{
	unsigned	 i;

	/* the caller may have changed the RSA bounds in arc_lib_limits() */
	arc_keys_set_limits(m->lib->keys, 0, m->lib->limits.min_rsa_bits,
	    m->lib->limits.max_rsa_bits);
	/* every lookup first counts as pending, so a synchronous answer
	 * cannot drive the count below zero */
	m->keys_pending = m->nkeys;
	for (i = 0; i < m->nkeys; i++) {
		arc_keyslot *s = &m->keys[i];

		s->entry = arc_keys_get(m->lib->keys, s->selector, s->domain,
		    &s->wait);
		if (s->entry == NULL || s->entry->state == ARC_KEY_DONE) {
			if (s->entry)
				arc_keys_unwait(s->entry, &s->wait);
			if (!s->done) {
				s->done = 1;
				m->keys_pending--;
			}
		}
	}
}

static void
check_structure(arc_msg *m)
{
	int	 i, k;

	for (i = 1; i <= m->nsets; i++)
		for (k = 0; k < ARC_NKINDS; k++)
			if (m->set[i][k] == NULL) {
				arc_msg_fail(m, "set i=%d has no %s", i,
				    kind_name[k]);
				return;
			}
	for (i = 1; i <= m->nsets; i++) {
		arc_hdr *as = m->set[i][ARC_AS];

		if (as->error) {
			arc_msg_fail(m, "AS i=%d: %s", i, as->error);
			return;
		}
		if (i == 1 && as->cv != ARC_CV_NONE) {
			arc_msg_fail(m, "AS i=1 must say cv=none");
			return;
		}
		if (i > 1 && as->cv != ARC_CV_PASS) {
			arc_msg_fail(m, "AS i=%d must say cv=pass", i);
			return;
		}
	}
}

void
arc_verify_prepare(arc_msg *m)
{
	unsigned	 i, n = 0;
	int		 k, top_as = 0;

	for (i = 0; i < m->nfields; i++)
		for (k = 0; k < ARC_NKINDS; k++)
			if (arc_field_is(&m->fields[i], kind_name[k]))
				n++;
	m->cv = ARC_CV_NONE;
	if (n == 0 || m->over_limit) {
		if (m->over_limit)
			m->cv = ARC_CV_FAIL;
		return;
	}
	if ((m->arc = calloc(n, sizeof(*m->arc))) == NULL) {
		arc_msg_fail(m, "out of memory");
		return;
	}
	for (i = 0; i < m->nfields; i++)
		for (k = 0; k < ARC_NKINDS; k++) {
			arc_hdr		*h;
			const char	*v;
			size_t		 len;

			if (!arc_field_is(&m->fields[i], kind_name[k]))
				continue;
			h = &m->arc[m->narc++];
			h->kind = k;
			h->field = i;
			h->bodyhash = h->key = -1;
			v = field_value(&m->fields[i], &len);
			if (k == ARC_AAR)
				parse_aar(h, v, len);
			else
				parse_sig(m, h, v, len);
		}

	/* step 1: collect the sets; an unreadable instance breaks the chain */
	for (i = 0; i < m->narc; i++) {
		arc_hdr *h = &m->arc[i];

		if (h->instance == 0) {
			arc_msg_fail(m, "%s: %s", kind_short[h->kind],
			    h->error);
			continue;
		}
		if (h->instance > m->nsets)
			m->nsets = h->instance;
		if (h->kind == ARC_AS && h->instance > top_as)
			top_as = h->instance;
	}
	if (m->nsets > (int)m->lib->limits.max_sets || m->nsets > 50) {
		arc_msg_fail(m, "more than %u ARC sets",
		    m->lib->limits.max_sets);
		return;
	}
	/* step 2, and the sealer's §5.1 step 2 */
	for (i = 0; i < m->narc; i++)
		if (m->arc[i].kind == ARC_AS && m->arc[i].instance == top_as &&
		    m->arc[i].error == NULL && m->arc[i].cv == ARC_CV_FAIL)
			m->top_cv_fail = 1;
	if (m->top_cv_fail && top_as == m->nsets) {
		arc_msg_fail(m, "the newest ARC-Seal (i=%d) says cv=fail",
		    top_as);
		return;
	}
	if (m->cv == ARC_CV_FAIL)
		return;
	/* step 3: one of each per instance, 1..N, cv as required */
	for (i = 0; i < m->narc; i++) {
		arc_hdr *h = &m->arc[i];

		if (m->set[h->instance][h->kind] != NULL) {
			arc_msg_fail(m, "set i=%d has more than one %s",
			    h->instance, kind_name[h->kind]);
			return;
		}
		m->set[h->instance][h->kind] = h;
	}
	check_structure(m);
	if (m->cv == ARC_CV_FAIL)
		return;

	for (k = 1; k <= m->nsets; k++) {
		arc_set_info *si = &m->info[k];
		arc_hdr *as = m->set[k][ARC_AS], *ams = m->set[k][ARC_AMS];
		si->instance = k;
		si->as_domain = as->domain;
		si->as_selector = as->selector;
		si->ams_domain = ams->domain;
		si->ams_selector = ams->selector;
		si->cv = arc_cv_name((arc_cv)as->cv);
	}

	/* all keys and body hashes now, so lookups run in parallel */
	if ((m->keys = calloc((size_t)m->nsets * 2, sizeof(*m->keys))) ==
	    NULL) {
		arc_msg_fail(m, "out of memory");
		return;
	}
	for (k = m->nsets; k >= 1; k--) {
		arc_hdr *as = m->set[k][ARC_AS], *ams = m->set[k][ARC_AMS];

		if ((as->key = want_key(m, as)) == -2) {
			arc_msg_fail(m, "more than %u distinct keys to look up",
			    m->lib->limits.max_key_queries);
			return;
		}
		if (ams->error != NULL)
			continue;
		if ((ams->key = want_key(m, ams)) == -2) {
			if (k == m->nsets) {
				arc_msg_fail(m, "more than %u distinct keys "
				    "to look up",
				    m->lib->limits.max_key_queries);
				return;
			}
			ams->key = -1;	/* only oldest-pass loses it */
			continue;
		}
		ams->bodyhash = add_bodyhash(m, ams->bcanon, ams->l);
		if (ams->key == -1 || ams->bodyhash == -1) {
			arc_msg_fail(m, "out of memory");
			return;
		}
	}
	start_lookups(m);
}

/* ---- signatures ------------------------------------------------------------ */

/* The usable key entry for h, or NULL with *why set. */
static arc_keyentry *
key_for(arc_msg *m, arc_hdr *h, const char **why, arc_dnssec *dnssec)
{
	arc_keyentry	*e;
	int		 want;

	if (h->key < 0) {
		*why = "too many distinct keys to look up";
		return NULL;
	}
	if ((e = m->keys[h->key].entry) == NULL) {
		m->temperror = 1;
		*why = "key lookup timed out";
		return NULL;
	}
	*dnssec = e->dnssec;
	if (e->error) {
		if (e->temporary)
			m->temperror = 1;
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

static const arc_tag *
sig_tag(arc_hdr *h)
{
	return arc_tags_get(&h->tl, "b");
}

static int
check_signature(arc_hdr *h, arc_keyentry *key, arc_buf *data,
    const char **why)
{
	const arc_tag	*b = sig_tag(h);
	unsigned char	*sig;
	size_t		 siglen;
	int		 r;

	if ((sig = arc_base64_decode(b->value, b->value_len, &siglen)) ==
	    NULL) {
		*why = "b= is not base64";
		return 0;
	}
	if (data->failed) {
		free(sig);
		*why = "out of memory";
		return 0;
	}
	/* the key's context is set up once, for all the messages that
	 * the key cache serves it to */
	if (key->vctx == NULL)
		key->vctx = arc_crypto_prepare(key->pkey, h->alg, 0);
	r = key->vctx != NULL ? arc_crypto_verify_prepared(key->vctx, h->alg,
	    data->data, data->len, sig, siglen) : arc_crypto_verify(key->pkey,
	    h->alg, data->data, data->len, sig, siglen);
	free(sig);
	if (r != 1)
		*why = r < 0 ? "signature check failed internally" :
		    "signature did not verify";
	return r == 1;
}

/* Adds field f to data, canonicalized, leaving out its b= value if it is
 * the signature being checked. */
static void
add_field(arc_buf *data, const arc_field *f, arc_canon_mode mode,
    const arc_hdr *self)
{
	const arc_tag *b = self ? arc_tags_get(&self->tl, "b") : NULL;

	arc_canon_header(data, f->text, f->len, mode, b ? b->value : NULL,
	    b ? b->value_len : 0, self == NULL);
}

static int
name_eq(const char *a, size_t al, const char *b, size_t bl)
{
	return al == bl && strncasecmp(a, b, al) == 0;
}

/* Adds the fields an h= list names, each name taking the next instance
 * from the bottom up (RFC 6376 §5.4.2); names with no instance left add
 * nothing.  Shared by verifying and sealing.  -1 if the list is too long. */
int
arc_add_signed_fields(arc_msg *m, const char *hl, size_t len,
    arc_canon_mode mode, arc_buf *data)
{
	struct hl_name { const char *p; size_t l; } *names, few[32];
	size_t	 i, s, e, n = 0, max = 1;

	/* names are cut at colons and FWS: at most one more than those */
	for (i = 0; i < len; i++)
		if (hl[i] == ':' || is_fws(hl[i]))
			max++;
	if (max > MAX_H_ENTRIES)
		max = MAX_H_ENTRIES;
	/* the usual list fits on the stack */
	if (max <= sizeof(few) / sizeof(few[0]))
		names = few;
	else if ((names = calloc(max, sizeof(*names))) == NULL)
		return -1;
	for (i = 0; i < len; ) {
		while (i < len && (is_fws(hl[i]) || hl[i] == ':'))
			i++;
		s = i;
		while (i < len && hl[i] != ':' && !is_fws(hl[i]))
			i++;
		e = i;
		if (e == s)
			continue;
		if (n == max) {		/* only when max is MAX_H_ENTRIES */
			if (names != few)
				free(names);
			return -1;
		}
		names[n].p = hl + s;
		names[n].l = e - s;
		n++;
	}
	for (i = 0; i < n; i++) {
		unsigned used = 0, k;
		int	 fi;

		for (k = 0; k < i; k++)
			if (name_eq(names[k].p, names[k].l, names[i].p,
			    names[i].l))
				used++;
		for (fi = (int)m->nfields - 1; fi >= 0; fi--) {
			const arc_field *f = &m->fields[fi];

			if (!name_eq(f->text, f->name_len, names[i].p,
			    names[i].l))
				continue;
			if (used-- == 0) {
				add_field(data, f, mode, NULL);
				break;
			}
		}
	}
	if (names != few)
		free(names);
	return 0;
}

static int
verify_ams(arc_msg *m, arc_hdr *h, const char **why, arc_dnssec *dnssec)
{
	const arc_tag	*t = arc_tags_get(&h->tl, "h");
	arc_bh		*bh;
	unsigned char	*want;
	size_t		 wantlen;
	arc_buf		 data = { 0 };
	arc_keyentry	*key;
	int		 ok;

	if (h->error) {
		*why = h->error;
		return 0;
	}
	if ((key = key_for(m, h, why, dnssec)) == NULL)
		return 0;
	bh = &m->bh[h->bodyhash];
	if (h->l >= 0 && arc_bodyhash_length(bh->h) < (unsigned long long)h->l) {
		*why = "l= is longer than the body";
		return 0;
	}
	t = arc_tags_get(&h->tl, "bh");
	want = arc_base64_decode(t->value, t->value_len, &wantlen);
	ok = want != NULL && wantlen == 32 && memcmp(want, bh->digest, 32) == 0;
	free(want);
	if (!ok) {
		*why = "body hash did not verify";
		return 0;
	}

	t = arc_tags_get(&h->tl, "h");
	data.limit = 64 * 1024 * 1024;
	if (arc_add_signed_fields(m, t->value, t->value_len, h->hcanon,
	    &data) != 0) {
		arc_buf_free(&data);
		*why = "h= lists too many fields";
		return 0;
	}
	add_field(&data, &m->fields[h->field], h->hcanon, h);
	ok = check_signature(h, key, &data, why);
	arc_buf_free(&data);
	return ok;
}

/* The AS of set inst signs sets 1..inst-1, its AAR and AMS, then itself
 * without b=: chain holds every set canonicalized (once per message, not
 * once per AS), and its first upto bytes are what precedes the AS. */
static int
verify_as(arc_msg *m, int inst, const arc_buf *chain, size_t upto,
    const char **why, arc_dnssec *dnssec)
{
	arc_hdr		*h = m->set[inst][ARC_AS];
	arc_buf		 data = { 0 };
	arc_keyentry	*key;
	int		 ok;

	if ((key = key_for(m, h, why, dnssec)) == NULL)
		return 0;
	if (chain->failed)
		data.failed = 1;
	else
		arc_buf_add(&data, chain->data, upto);
	add_field(&data, &m->fields[h->field], ARC_CANON_RELAXED, h);
	ok = check_signature(h, key, &data, why);
	arc_buf_free(&data);
	return ok;
}

void
arc_verify_run(arc_msg *m)
{
	const char	*why = NULL;
	arc_buf		 chain = { 0 };
	size_t		 upto[51];
	int		 i, n = m->nsets;

	m->validated = 1;
	if (m->cv == ARC_CV_FAIL || m->narc == 0)
		return;
	/* step 4: the newest AMS */
	if (!verify_ams(m, m->set[n][ARC_AMS], &why, &m->info[n].ams_dnssec)) {
		m->info[n].ams_result = ARC_SIG_FAIL;
		m->info[n].ams_reason = why;
		arc_msg_fail(m, "AMS i=%d d=%s s=%s: %s", n,
		    m->info[n].ams_domain ? m->info[n].ams_domain : "?",
		    m->info[n].ams_selector ? m->info[n].ams_selector : "?",
		    why);
		return;
	}
	m->info[n].ams_result = ARC_SIG_PASS;
	/* step 5: oldest-pass; does not decide the verdict */
	m->oldest_pass = 0;
	for (i = n - 1; i >= 1; i--) {
		if (!verify_ams(m, m->set[i][ARC_AMS], &why,
		    &m->info[i].ams_dnssec)) {
			m->info[i].ams_result = ARC_SIG_FAIL;
			m->info[i].ams_reason = why;
			m->oldest_pass = i + 1;
			break;
		}
		m->info[i].ams_result = ARC_SIG_PASS;
	}
	m->temperror = 0;	/* only failures that decide count */
	/* step 6: every AS, newest first */
	for (i = 1; i <= n; i++) {
		add_field(&chain, &m->fields[m->set[i][ARC_AAR]->field],
		    ARC_CANON_RELAXED, NULL);
		add_field(&chain, &m->fields[m->set[i][ARC_AMS]->field],
		    ARC_CANON_RELAXED, NULL);
		upto[i] = chain.len;
		add_field(&chain, &m->fields[m->set[i][ARC_AS]->field],
		    ARC_CANON_RELAXED, NULL);
	}
	for (i = n; i >= 1; i--) {
		if (!verify_as(m, i, &chain, upto[i], &why,
		    &m->info[i].as_dnssec)) {
			m->info[i].as_result = ARC_SIG_FAIL;
			m->info[i].as_reason = why;
			arc_msg_fail(m, "AS i=%d d=%s s=%s: %s", i,
			    m->info[i].as_domain, m->info[i].as_selector, why);
			arc_buf_free(&chain);
			return;
		}
		m->info[i].as_result = ARC_SIG_PASS;
	}
	arc_buf_free(&chain);
	m->cv = ARC_CV_PASS;
}
