/*
 * arc_dkim.c - DKIM-Signature verification (RFC 6376, RFC 8463 Ed25519,
 * RFC 8301) in the same pass as ARC: the AMS machinery without the ARC
 * wrapper.
 *
 * Contract: at end of headers arc_dkim_prepare() parses every
 * DKIM-Signature, top down, up to limits.max_dkim_signatures, with the
 * tag-list tokenizer (arc_tags.c); a usable one gets a body hasher
 * (shared with the AMS and other signatures of the same c= and l=:
 * arc_msg_bodyhash) and a key slot (one per selector and domain), whose
 * lookup starts at once through the message's key sources, resolver and
 * cache (arc_keyslot_start: asynchronous, counted in keys_pending, so
 * arc_msg_eom() says ARC_PENDING until they are in).  arc_dkim_run()
 * checks each signature once its key is there (arc_check_signed, as for
 * the AMS) and records an RFC 8601 result with a short reason; it never
 * changes the ARC verdict.  Everything kept for output is printable
 * ASCII.  Work is bounded by the message, not by what signatures
 * claim: the signature count (the first one past it says so), the tag
 * count, one header hashing budget for all signatures (a multiple of
 * the header's size), at most DKIM_MAX_BODY_HASHERS body passes of
 * their own, and key lookups under max_key_queries with ARC's.
 *
 * Result mapping (docs/authentication.md): pass; fail (body hash or
 * signature mismatch, x= expired, l= longer than the body); neutral
 * (syntax: the tag list, v=, a=, c= unknown); policy (RFC 8301: rsa-sha1,
 * RSA key shorter than min_rsa_bits; our limits: longer than
 * max_rsa_bits, the bounds above); permerror (a required tag missing,
 * bad numbers, x= not after t=, h= without From, i= outside d=, q=
 * without dns/txt, no or unusable key record, key flags that exclude
 * the signature); temperror (the key lookup failed temporarily, out of
 * memory).
 *
 * DKIM2 later: a signature kind is a row of kinds[] (its field name and
 * the parser that fills a dsig); the body hashers, key slots, check and
 * output are kind-blind, so a DKIM2 row adds its field name, its parser
 * and, where its key record or hashes differ, a key check of its own.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arc_dkim.h"
#include "arc_internal.h"

#define REASON_MAX	120

typedef struct dsig {
	arc_hdr		 h;		/* tags, alg, canon, l, hasher */
	arc_keyslot	*slot;		/* NULL: not checked (pre result) */
	int		 ready;		/* parsed well: check at eom */
	char		*auid;		/* i= as written, or "@d" */
	char		*auid_out;	/* header.i, when it can be written */
	arc_dkim_info	 info;
	char		 reason[REASON_MAX];
} dsig;

struct arc_dkim {
	dsig		*sig;
	unsigned	 nsig;
	arc_keyslot	*slots;		/* never moved: waiters point in */
	unsigned	 nslots;
	unsigned	 nbh;		/* body hashers added for DKIM alone */
	size_t		 budget;	/* header bytes left to hash */
	int		 done;
	int		 nomem;		/* signatures there, none looked at */
};

/* A message whose DKIM state could not even be allocated: read-only,
 * already done, so nothing writes it and it is never freed. */
static struct arc_dkim nomem_dkim = { .done = 1, .nomem = 1 };

/* Body hashers DKIM may add beyond those ARC and our seal need: each
 * distinct c=/l= pair is one more full pass over the body. */
#define DKIM_MAX_BODY_HASHERS	4

typedef int	(*parse_fn)(arc_msg *, dsig *, const char *, size_t);

static int	parse_dkim1(arc_msg *, dsig *, const char *, size_t);

static const struct sig_kind {
	const char	*field;
	parse_fn	 parse;
} kinds[] = {
	{ "DKIM-Signature", parse_dkim1 },
};
#define NKINDS	(sizeof(kinds) / sizeof(kinds[0]))

static const char *const result_names[] = {
	"pass", "fail", "neutral", "policy", "temperror", "permerror"
};

const char *
arc_dkim_result_name(arc_dkim_result r)
{
	return (unsigned)r < sizeof(result_names) / sizeof(result_names[0]) ?
	    result_names[r] : "permerror";
}

/* The result and a reason fit for a header comment: printable ASCII,
 * no ';' (naive A-R parsers split on it), no parentheses or '\\'. */
static int
set_result(dsig *d, arc_dkim_result r, const char *why)
{
	size_t	 o = 0;

	d->info.result = r;
	d->ready = 0;
	for (; why && *why && o + 1 < sizeof(d->reason); why++) {
		unsigned char c = (unsigned char)*why;

		if (c < 0x20 || c > 0x7e)
			continue;
		d->reason[o++] = c == ';' ? ',' : c == '(' ? '[' : c == ')' ?
		    ']' : c == '\\' ? '/' : (char)c;
	}
	d->reason[o] = '\0';
	d->info.reason = d->reason;
	return 0;
}

/* Digits only, at most maxlen of them: the value fits a long long. */
static int
number(const arc_tag *t, size_t maxlen, long long *v)
{
	size_t	 i;

	if (t->value_len == 0 || t->value_len > maxlen)
		return 0;
	for (i = 0; i < t->value_len; i++)
		if (!isdigit((unsigned char)t->value[i]))
			return 0;
	*v = strtoll(t->value, NULL, 10);
	return 1;
}

/* An ASCII domain name (or selector, with '_'): it is written into
 * headers and used in a DNS name. */
static char *
dname_dup(const arc_tag *t, int selector)
{
	size_t	 i, lab = 0;
	char	*s;

	if (t->value_len == 0 || t->value_len > 253)
		return NULL;
	for (i = 0; i < t->value_len; i++) {
		unsigned char c = (unsigned char)t->value[i];

		if (c == '.') {
			if (lab == 0 || t->value[i - 1] == '-')
				return NULL;
			lab = 0;
			continue;
		}
		if (!(isalnum(c) || (c == '-' && lab > 0) ||
		    (c == '_' && selector)) || ++lab > 63)
			return NULL;
	}
	if (lab == 0 || t->value[i - 1] == '-' || (s = malloc(i + 1)) == NULL)
		return NULL;
	memcpy(s, t->value, i);
	s[i] = '\0';
	return s;
}

/* i= without FWS, NUL-terminated; NULL if it holds no '@' or a byte
 * outside printable ASCII. */
static char *
auid_dup(const arc_tag *t)
{
	char	*s;
	size_t	 i, o = 0;

	if ((s = malloc(t->value_len + 1)) == NULL)
		return NULL;
	for (i = 0; i < t->value_len; i++) {
		unsigned char c = (unsigned char)t->value[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c < 0x21 || c > 0x7e) {
			free(s);
			return NULL;
		}
		s[o++] = (char)c;
	}
	s[o] = '\0';
	if (strchr(s, '@') == NULL) {
		free(s);
		return NULL;
	}
	return s;
}

/* Whether dom is d or a subdomain of it (RFC 6376 §3.5 i=). */
static int
within(const char *dom, const char *d)
{
	size_t	 a = strlen(dom), b = strlen(d);

	if (a == b)
		return strcasecmp(dom, d) == 0;
	return a > b && dom[a - b - 1] == '.' &&
	    strcasecmp(dom + a - b, d) == 0;
}

/* RFC 8601 [local-part] "@" domain-name: written only when the local
 * part is empty or a dot-atom (no quoting needed) and the domain is LDH
 * labels; otherwise header.i is left out. */
static int
auid_writable(const char *s)
{
	static const char atext[] = "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~";
	const char	*at = strchr(s, '@'), *p;
	size_t		 lab;

	if (at == NULL || strchr(at + 1, '@') != NULL || strlen(s) > 255)
		return 0;
	/* dot-atom: atext runs joined by single dots */
	for (p = s, lab = 0; p < at; p++)
		if (*p == '.') {
			if (lab == 0)
				return 0;
			lab = 0;
		} else if (strchr(atext, *p) == NULL)
			return 0;
		else
			lab++;
	if (p > s && lab == 0)
		return 0;
	for (p = at + 1, lab = 0; *p; p++)
		if (*p == '.') {
			if (lab == 0)
				return 0;
			lab = 0;
		} else if (!isalnum((unsigned char)*p) && *p != '-')
			return 0;
		else
			lab++;
	return lab > 0;
}

/* RFC 6376 §3.5 and §6.1.1: a DKIM-Signature, version 1.  1 if it
 * can be checked, 0 with its result set. */
static int
parse_dkim1(arc_msg *m, dsig *d, const char *v, size_t len)
{
	arc_hdr		*h = &d->h;
	const arc_tag	*t, *tt, *tx;
	const char	*why, *at;
	long long	 tv = 0, xv = 0;
	size_t		 i, o;

	h->tl.tags = h->tags;
	h->tl.max = m->lib->limits.max_tags < ARC_MAX_TAGS_DEFAULT ?
	    m->lib->limits.max_tags : ARC_MAX_TAGS_DEFAULT;
	h->l = -1;
	if ((why = arc_tags_parse(&h->tl, v, len)) != NULL) {
		char	 r[REASON_MAX];

		snprintf(r, sizeof(r), "malformed tag list: %s", why);
		return set_result(d, ARC_DKIM_NEUTRAL, r);
	}
	/* what identifies the signature first, for the report */
	if ((t = arc_tags_get(&h->tl, "d")) != NULL)
		h->domain = dname_dup(t, 0);
	if ((t = arc_tags_get(&h->tl, "s")) != NULL)
		h->selector = dname_dup(t, 1);
	d->info.domain = h->domain;
	d->info.selector = h->selector;
	if ((t = arc_tags_get(&h->tl, "b")) != NULL)
		for (i = 0, o = 0; i < t->value_len && o < 8; i++)
			if (isalnum((unsigned char)t->value[i]) ||
			    t->value[i] == '+' || t->value[i] == '/' ||
			    t->value[i] == '=')
				d->info.b8[o++] = t->value[i];

	if ((t = arc_tags_get(&h->tl, "v")) == NULL)
		return set_result(d, ARC_DKIM_PERMERROR, "no v= tag");
	if (!arc_tag_eq(t, "1"))
		return set_result(d, ARC_DKIM_NEUTRAL, "unknown version v=");
	if ((t = arc_tags_get(&h->tl, "a")) == NULL)
		return set_result(d, ARC_DKIM_PERMERROR, "no a= tag");
	if (arc_tag_eq(t, "rsa-sha256"))
		h->alg = ARC_ALG_RSA_SHA256;
	else if (arc_tag_eq(t, "ed25519-sha256"))
		h->alg = ARC_ALG_ED25519_SHA256;
	else if (arc_tag_eq(t, "rsa-sha1"))
		return set_result(d, ARC_DKIM_POLICY,
		    "rsa-sha1 is not accepted (RFC 8301)");
	else
		return set_result(d, ARC_DKIM_NEUTRAL, "unknown algorithm a=");
	d->info.alg = h->alg;
	if ((t = arc_tags_get(&h->tl, "b")) == NULL || t->value_len == 0)
		return set_result(d, ARC_DKIM_PERMERROR, "no signature b=");
	if ((t = arc_tags_get(&h->tl, "bh")) == NULL || t->value_len == 0)
		return set_result(d, ARC_DKIM_PERMERROR, "no body hash bh=");
	if (h->domain == NULL)
		return set_result(d, ARC_DKIM_PERMERROR,
		    "missing or invalid d=");
	if (h->selector == NULL)
		return set_result(d, ARC_DKIM_PERMERROR,
		    "missing or invalid s=");
	if ((t = arc_tags_get(&h->tl, "h")) == NULL)
		return set_result(d, ARC_DKIM_PERMERROR, "no h= tag");
	if (!arc_tag_list_has(t, "from"))
		return set_result(d, ARC_DKIM_PERMERROR,
		    "h= does not include From");
	h->hcanon = h->bcanon = ARC_CANON_SIMPLE;	/* RFC 6376 default */
	if ((t = arc_tags_get(&h->tl, "c")) != NULL &&
	    !arc_tag_canon(t, &h->hcanon, &h->bcanon))
		return set_result(d, ARC_DKIM_NEUTRAL,
		    "unknown canonicalization c=");
	if ((t = arc_tags_get(&h->tl, "i")) != NULL) {
		if ((d->auid = auid_dup(t)) == NULL)
			return set_result(d, ARC_DKIM_PERMERROR,
			    "invalid i= value");
		at = strrchr(d->auid, '@');
		if (!within(at + 1, h->domain))
			return set_result(d, ARC_DKIM_PERMERROR,
			    "i= is not within d=");
	} else {
		if ((d->auid = malloc(strlen(h->domain) + 2)) == NULL)
			return set_result(d, ARC_DKIM_TEMPERROR,
			    "out of memory");
		d->auid[0] = '@';
		strcpy(d->auid + 1, h->domain);
	}
	if (auid_writable(d->auid))
		d->info.auid = d->auid_out = d->auid;
	if ((t = arc_tags_get(&h->tl, "l")) != NULL &&
	    !number(t, 15, &h->l))
		return set_result(d, ARC_DKIM_PERMERROR, "invalid l= value");
	if ((t = arc_tags_get(&h->tl, "q")) != NULL &&
	    !arc_tag_list_has(t, "dns/txt"))
		return set_result(d, ARC_DKIM_PERMERROR,
		    "q= does not offer dns/txt");
	if ((tt = arc_tags_get(&h->tl, "t")) != NULL && !number(tt, 12, &tv))
		return set_result(d, ARC_DKIM_PERMERROR, "invalid t= value");
	if ((tx = arc_tags_get(&h->tl, "x")) != NULL) {
		if (!number(tx, 12, &xv))
			return set_result(d, ARC_DKIM_PERMERROR,
			    "invalid x= value");
		/* RFC 6376 §3.5: x= MUST be greater than t= */
		if (tt != NULL && xv <= tv)
			return set_result(d, ARC_DKIM_PERMERROR,
			    "x= is not after t=");
		if (xv < (long long)arc_lib_now(m->lib))
			return set_result(d, ARC_DKIM_FAIL,
			    "signature expired x=");
	}
	d->ready = 1;
	return 1;
}

/* The key slot of d's selector and domain, shared by signatures. */
static arc_keyslot *
want_slot(arc_msg *m, struct arc_dkim *k, dsig *d)
{
	unsigned	 i;
	arc_keyslot	*s;

	for (i = 0; i < k->nslots; i++)
		if (strcasecmp(k->slots[i].selector, d->h.selector) == 0 &&
		    strcasecmp(k->slots[i].domain, d->h.domain) == 0)
			return &k->slots[i];
	/* DKIM's keys count under max-key-queries with ARC's, which
	 * were reserved first (arc_verify_prepare runs before us) */
	if (m->nkeys + k->nslots >= m->lib->limits.max_key_queries)
		return NULL;
	s = &k->slots[k->nslots];
	s->msg = m;
	if ((s->selector = strdup(d->h.selector)) == NULL ||
	    (s->domain = strdup(d->h.domain)) == NULL) {
		free(s->selector);
		s->selector = NULL;
		return NULL;
	}
	k->nslots++;
	return s;
}

/* The body hasher of d's c= and l=: one ARC, our seal or another
 * signature has, else a new one while DKIM has added fewer than
 * DKIM_MAX_BODY_HASHERS.  -1 with the result set otherwise. */
static int
want_bodyhash(arc_msg *m, struct arc_dkim *k, dsig *d)
{
	unsigned	 i;
	int		 bh;

	for (i = 0; i < m->nbh; i++)
		if (m->bh[i].mode == d->h.bcanon && m->bh[i].limit == d->h.l)
			return (int)i;
	/* our seal's relaxed hasher comes after us and is shared */
	if (k->nbh >= DKIM_MAX_BODY_HASHERS && !(m->signer != NULL &&
	    d->h.bcanon == ARC_CANON_RELAXED && d->h.l < 0)) {
		set_result(d, ARC_DKIM_POLICY, "too many distinct body "
		    "canonicalizations, not checked");
		return -1;
	}
	if ((bh = arc_msg_bodyhash(m, d->h.bcanon, d->h.l)) < 0) {
		set_result(d, ARC_DKIM_TEMPERROR, "out of memory");
		return -1;
	}
	if (!(m->signer != NULL && d->h.bcanon == ARC_CANON_RELAXED &&
	    d->h.l < 0))
		k->nbh++;
	return bh;
}

/* What DKIM may hash of the header, for all its signatures together:
 * dkim_budget_factor times the header's size (RFC 6376 lets h= name a
 * field many times, and every signature hashes its fields anew). */
static size_t
header_budget(const arc_msg *m)
{
	size_t		 h = 0;
	unsigned	 i, f = m->lib->limits.dkim_budget_factor;

	for (i = 0; i < m->nfields; i++)
		h += m->fields[i].len + 2;
	return f != 0 && h > SIZE_MAX / f ? SIZE_MAX : h * f;
}

void
arc_dkim_prepare(arc_msg *m)
{
	struct arc_dkim	*k;
	unsigned	 i, n = 0, all;
	unsigned	 max = m->lib->limits.max_dkim_signatures;
	size_t		 kind;
	char		 why[REASON_MAX];

	for (i = 0; i < m->nfields; i++)
		for (kind = 0; kind < NKINDS; kind++)
			n += arc_field_is(&m->fields[i], kinds[kind].field);
	all = n;
	/* the first one past the limit is kept, to say so (policy) */
	if (n > max)
		n = max + 1;
	if ((k = m->dkim = calloc(1, sizeof(*k))) == NULL) {
		/* an internal error, not "dkim=none" */
		m->dkim = all ? &nomem_dkim : NULL;
		return;
	}
	if (n == 0)
		return;
	k->budget = header_budget(m);
	if ((k->sig = calloc(n, sizeof(*k->sig))) == NULL ||
	    (k->slots = calloc(n, sizeof(*k->slots))) == NULL) {
		free(k->sig);
		k->sig = NULL;
		k->nomem = 1;
		return;
	}
	for (i = 0; i < m->nfields && k->nsig < n; i++)
		for (kind = 0; kind < NKINDS; kind++) {
			const arc_field	*f = &m->fields[i];
			const char	*v;
			dsig		*d;

			if (!arc_field_is(f, kinds[kind].field))
				continue;
			d = &k->sig[k->nsig++];
			d->h.field = i;
			d->h.bodyhash = d->h.key = -1;
			v = memchr(f->text, ':', f->len) + 1;
			(void)kinds[kind].parse(m, d, v, f->len -
			    (size_t)(v - f->text));
			break;
		}
	if (all > max && k->nsig == max + 1) {
		/* identified (d=, s=) but not checked: our limit */
		snprintf(why, sizeof(why), "signature limit: %u not checked "
		    "(max-dkim-signatures %u)", all - max, max);
		set_result(&k->sig[max], ARC_DKIM_POLICY, why);
	}
	arc_keys_set_limits(m->lib->keys, 0, m->lib->limits.min_rsa_bits,
	    m->lib->limits.max_rsa_bits);
	for (i = 0; i < k->nsig; i++) {
		dsig *d = &k->sig[i];

		if (!d->ready)
			continue;
		if ((d->h.bodyhash = want_bodyhash(m, k, d)) < 0)
			continue;
		if ((d->slot = want_slot(m, k, d)) == NULL) {
			if (m->nkeys + k->nslots >=
			    m->lib->limits.max_key_queries)
				set_result(d, ARC_DKIM_POLICY, "key query "
				    "limit (max-key-queries), not checked");
			else
				set_result(d, ARC_DKIM_TEMPERROR,
				    "out of memory");
			continue;
		}
		if (!d->slot->started && !m->lookups_closed)
			m->stats.key_lookups++;
		arc_keyslot_start(m, d->slot);
	}
}

/* The key record against the signature (RFC 6376 §6.1.2, RFC 8301):
 * NULL with the result set when it cannot be used. */
static arc_keyentry *
usable_key(arc_msg *m, dsig *d)
{
	arc_keyentry	*e = d->slot->entry;
	const char	*at;

	if (e == NULL) {
		set_result(d, ARC_DKIM_TEMPERROR, "key lookup timed out");
		return NULL;
	}
	d->info.dnssec = e->dnssec;
	d->info.key_bits = e->bits;
	d->info.testing = e->testing;
	if (e->error) {
		/* a key RFC 8301 refuses is our policy, not their error */
		/* and one over max-rsa-bits is our limit too */
		set_result(d, e->temporary ? ARC_DKIM_TEMPERROR :
		    e->ktype == ARC_KTYPE_RSA && e->bits > 0 &&
		    (e->bits < m->lib->limits.min_rsa_bits ||
		    e->bits > m->lib->limits.max_rsa_bits) ? ARC_DKIM_POLICY :
		    ARC_DKIM_PERMERROR, e->error);
		return NULL;
	}
	if (e->ktype != (d->h.alg == ARC_ALG_RSA_SHA256 ? ARC_KTYPE_RSA :
	    ARC_KTYPE_ED25519)) {
		set_result(d, ARC_DKIM_PERMERROR, "key type does not match a=");
		return NULL;
	}
	at = strrchr(d->auid, '@');
	if (e->strict && strcasecmp(at + 1, d->h.domain) != 0) {
		set_result(d, ARC_DKIM_PERMERROR,
		    "key t=s and i= domain is not d=");
		return NULL;
	}
	return e;
}

void
arc_dkim_run(arc_msg *m)
{
	struct arc_dkim	*k = m->dkim;
	unsigned long long hashed;
	arc_keyentry	*e;
	const char	*why;
	unsigned	 i;
	int		 r;

	if (k == NULL || k->done)
		return;
	k->done = 1;
	for (i = 0; i < k->nsig; i++) {
		dsig *d = &k->sig[i];

		if (!d->ready)
			continue;
		if ((e = usable_key(m, d)) == NULL)
			continue;
		why = NULL;
		hashed = 0;
		/* one budget for all the signatures: 0 left is not "no
		 * limit" to arc_check_signed, so it is not called then */
		r = k->budget == 0 ? -1 : arc_check_signed(m, &d->h, e,
		    k->budget, &why, &hashed);
		if (hashed > k->budget)
			hashed = k->budget;
		k->budget -= (size_t)hashed;
		m->stats.dkim_bytes += hashed;
		if (r < 0) {
			k->budget = 0;
			set_result(d, ARC_DKIM_POLICY, "over the hashing "
			    "budget, not checked");
		} else if (r == 1)
			set_result(d, ARC_DKIM_PASS, "");
		else
			set_result(d, ARC_DKIM_FAIL, why);
	}
}

void
arc_dkim_close(arc_msg *m)
{
	struct arc_dkim	*k = m->dkim;
	unsigned	 i;

	for (i = 0; k != NULL && i < k->nslots; i++) {
		arc_keyslot *s = &k->slots[i];

		if (s->entry && s->entry->state == ARC_KEY_PENDING) {
			arc_keys_unwait(s->entry, &s->wait);
			arc_keys_release(m->lib->keys, s->entry);
			s->entry = NULL;
			s->done = 1;
		}
	}
}

void
arc_dkim_free(arc_msg *m)
{
	struct arc_dkim	*k = m->dkim;
	unsigned	 i;

	if (k == NULL || k == &nomem_dkim) {
		m->dkim = NULL;
		return;
	}
	for (i = 0; i < k->nslots; i++) {
		if (k->slots[i].entry) {
			arc_keys_unwait(k->slots[i].entry, &k->slots[i].wait);
			arc_keys_release(m->lib->keys, k->slots[i].entry);
		}
		free(k->slots[i].selector);
		free(k->slots[i].domain);
	}
	for (i = 0; i < k->nsig; i++) {
		free(k->sig[i].h.domain);
		free(k->sig[i].h.selector);
		free(k->sig[i].auid);
	}
	free(k->slots);
	free(k->sig);
	free(k);
	m->dkim = NULL;
}

/* ---- results ------------------------------------------------------------- */

int
arc_msg_dkim_count(const arc_msg *m)
{
	return m->dkim && m->dkim->done ? (int)m->dkim->nsig : 0;
}

const arc_dkim_info *
arc_msg_dkim(const arc_msg *m, int i)
{
	if (i < 0 || i >= arc_msg_dkim_count(m))
		return NULL;
	return &m->dkim->sig[i].info;
}

/* An RFC 8601 pvalue: a token as it is, else a quoted-string (the
 * texts here are printable ASCII without '"' or '\\'). */
static void
add_pvalue(arc_buf *b, const char *name, const char *v)
{
	int	 q = v[strcspn(v, "()<>,;:\\\"/[]?= ")] != '\0';

	arc_buf_printf(b, q ? " %s=\"%s\"" : " %s=%s", name, v);
}

char *
arc_msg_dkim_authres(const arc_msg *m)
{
	arc_buf		 b = { 0 };
	int		 i, n = arc_msg_dkim_count(m);

	if (m->dkim && m->dkim->nomem)
		arc_buf_adds(&b, "dkim=temperror (internal error, out of "
		    "memory)");
	else if (n == 0)
		arc_buf_adds(&b, "dkim=none");
	for (i = 0; i < n; i++) {
		const arc_dkim_info *d = arc_msg_dkim(m, i);

		arc_buf_printf(&b, "%sdkim=%s", i ? "; " : "",
		    arc_dkim_result_name(d->result));
		if (d->result != ARC_DKIM_PASS && d->reason[0])
			arc_buf_printf(&b, " (%s)", d->reason);
		else if (d->testing)
			arc_buf_adds(&b, " (key in testing mode)");
		/* header.d first: where DMARC looks */
		if (d->domain)
			arc_buf_printf(&b, " header.d=%s", d->domain);
		if (d->auid)
			arc_buf_printf(&b, " header.i=%s", d->auid);
		if (d->selector)
			arc_buf_printf(&b, " header.s=%s", d->selector);
		if (d->b8[0])
			add_pvalue(&b, "header.b", d->b8);
	}
	if (b.failed) {
		arc_buf_free(&b);
		return NULL;
	}
	return arc_buf_steal(&b);
}
