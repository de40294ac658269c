/*
 * arc_verify.c - chain validation, RFC 8617 §5.2.
 *
 * arc_verify_prepare() runs at end of headers: it finds and parses the
 * ARC fields, checks the structure, sets up every body hash and key slot
 * (the limits hold for the whole chain) and starts the lookups of the
 * newest set's keys.  arc_verify_run() runs at end of message and may
 * run again: the newest AMS, every AS from N down to 1, then, for a
 * passing chain only and within a budget, the older AMSs for
 * oldest-pass.  It looks keys up as each step needs them, in stages
 * (RFC 8617 §9.2), and returns 0 while a stage is under way.  The
 * signatures themselves are checked in arc_sigcheck.c.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arc_crypto.h"
#include "arc_internal.h"

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
	if (arc_tag_eq(t, "rsa-sha256"))
		h->alg = ARC_ALG_RSA_SHA256;
	else if (arc_tag_eq(t, "ed25519-sha256"))
		h->alg = ARC_ALG_ED25519_SHA256;
	else {
		h->error = arc_tag_eq(t, "rsa-sha1") ?
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
			    "section 4.1.3)";
			return;
		}
		if ((t = arc_tags_get(&h->tl, "cv")) == NULL) {
			h->error = "no cv= tag";
			return;
		}
		h->cv = arc_tag_eq(t, "none") ? ARC_CV_NONE :
		    arc_tag_eq(t, "pass") ? ARC_CV_PASS :
		    arc_tag_eq(t, "fail") ? ARC_CV_FAIL : -1;
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
	if (arc_tag_list_has(t, "arc-seal")) {
		h->error = "h= includes ARC-Seal (RFC 8617 section 4.1.2)";
		return;
	}
	/* No c= means relaxed/relaxed for ARC: the ARC drafts made relaxed
	 * the only canonicalization, and dkimpy and the suite keep that. */
	h->hcanon = h->bcanon = ARC_CANON_RELAXED;
	if ((t = arc_tags_get(&h->tl, "c")) != NULL &&
	    !arc_tag_canon(t, &h->hcanon, &h->bcanon)) {
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

/* Body hashers and key lookups: arc_field.c, shared with DKIM. */
static int
add_bodyhash(arc_msg *m, arc_canon_mode mode, long long limit)
{
	return arc_msg_bodyhash(m, mode, limit);
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
	m->keys[i].wait.fn = arc_keyslot_ready;
	if ((m->keys[i].selector = strdup(h->selector)) == NULL ||
	    (m->keys[i].domain = strdup(h->domain)) == NULL)
		return -1;
	m->nkeys++;
	return (int)i;
}

/* Starts the lookup of key slot i unless it has been; a lookup the
 * source answers at once completes here.  The caller makes sure
 * eom_pending is clear, so no ready callback runs from inside. */
static void
start_slot(arc_msg *m, int i)
{
	if (i < 0 || m->keys[i].started)
		return;
	if (!m->lookups_closed)		/* closed: counts as timed out */
		m->stats.key_lookups++;
	arc_keyslot_start(m, &m->keys[i]);
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

/* Passes over the body an older AMS may add (with the newest AMS's and
 * our seal's): more distinct c=/l= values leave oldest-pass uncomputed. */
#define OLDER_AMS_HASHERS	4

static int
has_bodyhash(const arc_msg *m, arc_canon_mode mode, long long limit)
{
	for (unsigned i = 0; i < m->nbh; i++)
		if (m->bh[i].mode == mode && m->bh[i].limit == limit)
			return 1;
	return 0;
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
		const char *v;
		size_t len;

		si->instance = k;
		si->as_domain = as->domain;
		si->as_selector = as->selector;
		si->ams_domain = ams->domain;
		si->ams_selector = ams->selector;
		si->cv = arc_cv_name((arc_cv)as->cv);
		/* parse_aar() found "i=N;": the results follow its ';' */
		v = field_value(&m->fields[m->set[k][ARC_AAR]->field], &len);
		si->aar = (const char *)memchr(v, ';', len) + 1;
	}

	/* every key slot and body hash now: the limits hold for the whole
	 * chain before any lookup, and body hashes need the whole body */
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
		/* an older AMS matters only to oldest-pass: it may share a
		 * pass over the body, or add one while there are few, but a
		 * chain of distinct l= values must not make the body be
		 * hashed once per set (oldest-pass is then not computed) */
		if (k < m->nsets && !has_bodyhash(m, ams->bcanon, ams->l) &&
		    m->nbh >= OLDER_AMS_HASHERS) {
			ams->key = -1;
			continue;
		}
		ams->bodyhash = add_bodyhash(m, ams->bcanon, ams->l);
		if (ams->key == -1 || ams->bodyhash == -1) {
			arc_msg_fail(m, "out of memory");
			return;
		}
	}
	/* the caller may have changed the RSA bounds in arc_lib_limits() */
	arc_keys_set_limits(m->lib->keys, 0, m->lib->limits.min_rsa_bits,
	    m->lib->limits.max_rsa_bits);
	/* lookups in stages (RFC 8617 §9.2): now the newest set's keys and
	 * the seal below it (one more round trip saved, one query more at
	 * worst), the rest as the verdict gets to it (arc_verify_run) */
	start_slot(m, m->set[m->nsets][ARC_AMS]->key);
	start_slot(m, m->set[m->nsets][ARC_AS]->key);
	if (m->nsets > 1)
		start_slot(m, m->set[m->nsets - 1][ARC_AS]->key);
	m->next_as = m->nsets;
	m->batch = 2;
}

/* The key slots of the next stage: the AS (or, for oldest-pass, AMS)
 * slots of sets from..1 in a batch that doubles each stage, so a
 * forged chain costs few lookups and a long good one few round
 * trips.  1 if the slot of set from is ready. */
static int
need_key(arc_msg *m, int from, int kind)
{
	int	 i, n = 0;
	int	 slot = m->set[from][kind]->key;

	if (slot < 0 || m->keys[slot].done)
		return 1;
	if (!m->keys[slot].started) {
		for (i = from; i >= 1 && n < m->batch; i--)
			if (m->set[i][kind]->key >= 0 &&
			    !m->keys[m->set[i][kind]->key].started) {
				start_slot(m, m->set[i][kind]->key);
				n++;
			}
		if (m->batch < 64)
			m->batch *= 2;
	}
	return m->keys[slot].done;
}

/* The budget of oldest-pass: a multiple of the header's size, capped. */
static size_t
oldest_budget(const arc_msg *m)
{
	const arc_limits *l = &m->lib->limits;
	size_t		 h = 0, b;
	unsigned	 i;

	for (i = 0; i < m->nfields; i++)
		h += m->fields[i].len + 2;
	b = l->oldest_pass_factor != 0 && h > SIZE_MAX / l->oldest_pass_factor
	    ? SIZE_MAX : h * l->oldest_pass_factor;
	if (l->max_oldest_pass_bytes != 0 && b > l->max_oldest_pass_bytes)
		b = l->max_oldest_pass_bytes;
	return b;
}

enum { VSTEP_AMS = 0, VSTEP_SEALS, VSTEP_OLDEST, VSTEP_DONE };

/* Step 5 (oldest-pass), for a passing chain only, within its budget.
 * 0 while it waits for a key. */
static int
oldest_pass(arc_msg *m)
{
	const char	*why;
	unsigned long long hashed;
	size_t		 budget = oldest_budget(m), left;
	int		 i, temp, r;

	for (i = m->next_as; i >= 1; i = --m->next_as) {
		if (m->stats.oldest_pass_bytes >= budget) {
			m->oldest_skipped = 1;
			m->oldest_why = "over budget";
			break;
		}
		if (!need_key(m, i, ARC_AMS))
			return 0;
		left = budget - (size_t)m->stats.oldest_pass_bytes;
		hashed = 0;
		r = arc_check_ams(m, m->set[i][ARC_AMS], left, &why,
		    &m->info[i].ams_dnssec, &temp, &hashed);
		m->stats.oldest_pass_bytes += hashed;
		if (r < 0) {
			m->oldest_skipped = 1;
			m->oldest_why = "over budget";
			break;
		}
		/* no key (a limit, a timeout) says nothing of the AMS:
		 * oldest-pass is then not known, never a made-up value */
		if (r == 0 && (temp || m->set[i][ARC_AMS]->key < 0)) {
			m->oldest_skipped = 1;
			m->oldest_why = temp ? "key lookup failed" :
			    "over the key or body-hash limits";
			break;
		}
		if (r == 0) {
			m->info[i].ams_result = ARC_SIG_FAIL;
			m->info[i].ams_reason = why;
			m->oldest_pass = i + 1;
			return 1;
		}
		m->info[i].ams_result = ARC_SIG_PASS;
	}
	m->oldest_pass = m->oldest_skipped ? -1 : 0;
	return 1;
}

/* RFC 8617 §5.2 steps 4 to 7, in the order that bounds the work: the
 * newest AMS, then every AS newest first (they decide the verdict and
 * cost one signature each), and only for a passing chain the older
 * AMSs for oldest-pass.  Keys are looked up as each step needs them;
 * 0 means some are under way and the run resumes here. */
int
arc_verify_run(arc_msg *m)
{
	const char	*why = NULL;
	int		 i, n = m->nsets, temp;

	if (m->vstep == VSTEP_DONE)
		return 1;
	if (m->cv == ARC_CV_FAIL || m->narc == 0) {
		m->vstep = VSTEP_DONE;
		m->validated = 1;
		return 1;
	}
	if (m->vstep == VSTEP_AMS) {
		/* step 4: the newest AMS */
		if (!need_key(m, n, ARC_AMS) || !need_key(m, n, ARC_AS))
			return 0;
		if (arc_check_ams(m, m->set[n][ARC_AMS], 0, &why,
		    &m->info[n].ams_dnssec, &temp, &m->stats.ams_bytes) != 1) {
			m->info[n].ams_result = ARC_SIG_FAIL;
			m->info[n].ams_reason = why;
			m->temperror = temp;
			arc_msg_fail(m, "AMS i=%d d=%s s=%s: %s", n,
			    m->info[n].ams_domain ? m->info[n].ams_domain :
			    "?", m->info[n].ams_selector ?
			    m->info[n].ams_selector : "?", why);
			goto done;
		}
		m->info[n].ams_result = ARC_SIG_PASS;
		if (!arc_seal_digests(m)) {
			arc_msg_fail(m, "out of memory");
			goto done;
		}
		m->vstep = VSTEP_SEALS;
		m->batch = 2;
	}
	if (m->vstep == VSTEP_SEALS) {
		/* step 6: every AS, newest first */
		for (i = m->next_as; i >= 1; i = --m->next_as) {
			if (!need_key(m, i, ARC_AS))
				return 0;
			if (!arc_check_as(m, i, &why, &m->info[i].as_dnssec,
			    &temp)) {
				m->info[i].as_result = ARC_SIG_FAIL;
				m->info[i].as_reason = why;
				m->temperror = temp;
				arc_msg_fail(m, "AS i=%d d=%s s=%s: %s", i,
				    m->info[i].as_domain,
				    m->info[i].as_selector, why);
				goto done;
			}
			m->info[i].as_result = ARC_SIG_PASS;
		}
		m->cv = ARC_CV_PASS;	/* step 7 */
		m->vstep = VSTEP_OLDEST;
		m->next_as = n - 1;
		m->batch = 1;
	}
	if (m->vstep == VSTEP_OLDEST && !oldest_pass(m))
		return 0;
done:
	m->vstep = VSTEP_DONE;
	m->validated = 1;
	return 1;
}
