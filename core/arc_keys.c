/*
 * arc_keys.c - key lookup sources, key record parsing and the parsed-key
 * cache; see arc_keys.h.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>
#include <openssl/x509.h>

#include "arc_buf.h"
#include "arc_crypto.h"
#include "arc_keys.h"
#include "arc_tags.h"

#define NBUCKETS	1024
#define CALLBACK_TTL	300	/* caller-supplied records: seconds cached */
#define NEGATIVE_TTL	60
/* A TTL from outside (DNS) is capped before it is added to the clock:
 * no overflow with a 32-bit time_t, and no key pinned for decades. */
#define MAX_TTL		(7 * 86400)

typedef struct table_row {
	char			*qname;
	char			*txt;
	struct table_row	*next;
} table_row;

struct arc_keystore {
	arc_keyentry	*buckets[NBUCKETS];
	unsigned	 count, max_entries;
	unsigned	 min_rsa_bits, max_rsa_bits;
	time_t		 fixed_now;
	table_row	*table;			/* key table files */
	char		 empty_table[256];	/* a table file without keys */
	arc_txt_lookup_fn callback;
	void		*callback_arg;
	arc_key_backend	 backend;
	int		 has_backend;
	unsigned long long *stats;		/* ARC_STAT_*, or NULL */
};

static time_t
now(const arc_keystore *ks)
{
	return ks->fixed_now ? ks->fixed_now : time(NULL);
}

static unsigned
hash(const char *s)
{
	unsigned h = 5381;

	while (*s)
		h = h * 33 + (unsigned char)*s++;
	return h % NBUCKETS;
}

arc_keystore *
arc_keys_create(void)
{
	arc_keystore	*ks;

	if ((ks = calloc(1, sizeof(*ks))) == NULL)
		return NULL;
	ks->max_entries = 10000;
	ks->min_rsa_bits = 1024;
	ks->max_rsa_bits = 8192;
	return ks;
}

static void
entry_free(arc_keystore *ks, arc_keyentry *e)
{
	if (e->state == ARC_KEY_PENDING && ks->has_backend &&
	    ks->backend.cancel != NULL)
		ks->backend.cancel(ks->backend.ctx, e);
	EVP_MD_CTX_free(e->vctx);
	EVP_PKEY_CTX_free(e->pctx);
	EVP_PKEY_free(e->pkey);
	free(e->qname);
	free(e->error);
	free(e);
}

static void
unlink_entry(arc_keystore *ks, arc_keyentry *e)
{
	arc_keyentry	**pp;

	for (pp = &ks->buckets[hash(e->qname)]; *pp; pp = &(*pp)->hnext)
		if (*pp == e) {
			*pp = e->hnext;
			e->hnext = NULL;
			ks->count--;
			return;
		}
}

static int
is_linked(arc_keystore *ks, arc_keyentry *e)
{
	arc_keyentry	*x;

	for (x = ks->buckets[hash(e->qname)]; x; x = x->hnext)
		if (x == e)
			return 1;
	return 0;
}

void
arc_keys_free(arc_keystore *ks)
{
	table_row	*r, *rn;
	unsigned	 i;

	if (ks == NULL)
		return;
	for (i = 0; i < NBUCKETS; i++)
		while (ks->buckets[i]) {
			arc_keyentry *e = ks->buckets[i];

			ks->buckets[i] = e->hnext;
			entry_free(ks, e);
		}
	for (r = ks->table; r; r = rn) {
		rn = r->next;
		free(r->qname);
		free(r->txt);
		free(r);
	}
	if (ks->has_backend && ks->backend.free)
		ks->backend.free(ks->backend.ctx);
	free(ks);
}

void
arc_keys_set_callback(arc_keystore *ks, arc_txt_lookup_fn fn, void *arg)
{
	ks->callback = fn;
	ks->callback_arg = arg;
}

void
arc_keys_set_backend(arc_keystore *ks, const arc_key_backend *b)
{
	if (ks->has_backend && ks->backend.free)
		ks->backend.free(ks->backend.ctx);
	ks->has_backend = b != NULL;
	if (b)
		ks->backend = *b;
}

void
arc_keys_set_limits(arc_keystore *ks, unsigned max_entries,
    unsigned min_rsa_bits, unsigned max_rsa_bits)
{
	if (max_entries != 0)
		ks->max_entries = max_entries;
	ks->min_rsa_bits = min_rsa_bits;
	ks->max_rsa_bits = max_rsa_bits;
}

void
arc_keys_set_now(arc_keystore *ks, time_t t)
{
	ks->fixed_now = t;
}

void
arc_keys_set_stats(arc_keystore *ks, unsigned long long *stats)
{
	ks->stats = stats;
}

void
arc_keys_count(arc_keystore *ks, int which)
{
	/* relaxed: a counter orders nothing, and threads may share it */
	if (ks->stats != NULL && which >= 0 && which < ARC_STAT_COUNT)
		__atomic_fetch_add(&ks->stats[which], 1, __ATOMIC_RELAXED);
}

static void
lowercase(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* ---- key table files ----------------------------------------------------- */

/* The TXT value: bare text, or one or more "quoted" strings joined. */
static char *
table_value(const char *p)
{
	arc_buf	 b = { 0 };

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != '"') {
		size_t n = strlen(p);

		while (n > 0 && isspace((unsigned char)p[n - 1]))
			n--;
		arc_buf_add(&b, p, n);
		return arc_buf_steal(&b);
	}
	while (*p == '"') {
		for (p++; *p && *p != '"'; p++) {
			if (*p == '\\' && p[1])
				p++;
			arc_buf_addc(&b, *p);
		}
		if (*p != '"') {
			arc_buf_free(&b);
			return NULL;
		}
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	if (*p != '\0' && *p != '\n' && *p != '\r' && *p != '#') {
		arc_buf_free(&b);
		return NULL;
	}
	return arc_buf_steal(&b);
}

/* Zone-file style lines ("name. 3600 IN TXT ...") work too. */
static char *
skip_rr_words(char *p)
{
	for (;;) {
		char	*w = p;
		size_t	 n;

		while (*w == ' ' || *w == '\t')
			w++;
		n = strcspn(w, " \t\r\n");
		if (n == 0 || !((n == 2 && strncasecmp(w, "IN", 2) == 0) ||
		    (n == 3 && strncasecmp(w, "TXT", 3) == 0) ||
		    strspn(w, "0123456789") == n))
			return p;
		p = w + n;
	}
}

int
arc_keys_add_table(arc_keystore *ks, const char *path, char *err,
    size_t errlen)
{
	FILE		*fp;
	char		*line = NULL, *p, *name, *txt;
	size_t		 cap = 0;
	unsigned	 lineno = 0;
	table_row	*r, *before = ks->table;

	if ((fp = fopen(path, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	while (getline(&line, &cap, fp) != -1) {
		lineno++;
		for (p = line; *p == ' ' || *p == '\t'; p++)
			;
		if (*p == '#' || *p == '\n' || *p == '\r' || *p == '\0')
			continue;
		name = p;
		while (*p && !isspace((unsigned char)*p))
			p++;
		if (*p == '\0' || *p == '\n' || *p == '\r') {
			snprintf(err, errlen, "%s:%u: name without a record",
			    path, lineno);
			goto fail;
		}
		*p++ = '\0';
		if (p - name > 1 && p[-2] == '.')
			p[-2] = '\0';		/* trailing dot */
		p = skip_rr_words(p);
		if ((txt = table_value(p)) == NULL) {
			snprintf(err, errlen, "%s:%u: unterminated quoted "
			    "string", path, lineno);
			goto fail;
		}
		if ((r = calloc(1, sizeof(*r))) == NULL ||
		    (r->qname = strdup(name)) == NULL) {
			free(r);
			free(txt);
			snprintf(err, errlen, "out of memory");
			goto fail;
		}
		lowercase(r->qname);
		r->txt = txt;
		r->next = ks->table;	/* newest first: later lines win */
		ks->table = r;
	}
	free(line);
	fclose(fp);
	/* only comments: a mistake the "no key" reason should name */
	if (ks->table == before)
		snprintf(ks->empty_table, sizeof(ks->empty_table), "%s", path);
	return 0;
fail:
	free(line);
	fclose(fp);
	return -1;
}

/* ---- key records ----------------------------------------------------------- */

static void
set_error(arc_keyentry *e, const char *fmt, const char *arg)
{
	char	 buf[256];

	snprintf(buf, sizeof(buf), fmt, arg ? arg : "");
	free(e->error);
	e->error = strdup(buf);
}

void
arc_keyrec_parse(arc_keyentry *e, const char *txt, unsigned min_bits,
    unsigned max_bits)
{
	arc_tag			 tags[64];
	arc_taglist		 tl = { tags, 0, 64 };
	const arc_tag		*t;
	const char		*why;
	unsigned char		*der = NULL;
	const unsigned char	*dp;
	size_t			 derlen;

	EVP_MD_CTX_free(e->vctx);
	e->vctx = NULL;
	EVP_PKEY_CTX_free(e->pctx);
	e->pctx = NULL;
	EVP_PKEY_free(e->pkey);
	e->pkey = NULL;
	/* what the record says is set afresh: nothing stays from an earlier
	 * parse of this entry (a stale t=y or t=s changes DKIM results) */
	e->testing = e->strict = 0;
	e->bits = 0;
	e->ktype = ARC_KTYPE_RSA;
	if ((why = arc_tags_parse(&tl, txt, strlen(txt))) != NULL) {
		set_error(e, "malformed key record: %s", why);
		return;
	}
	if ((t = arc_tags_get(&tl, "v")) != NULL &&
	    (!arc_tag_eq(t, "DKIM1") || tl.tags != t)) {
		set_error(e, "key record v= is not DKIM1 as first tag", NULL);
		return;
	}
	if ((t = arc_tags_get(&tl, "h")) != NULL &&
	    !arc_tag_list_has(t, "sha256")) {
		set_error(e, "key record h= does not allow sha256", NULL);
		return;
	}
	if ((t = arc_tags_get(&tl, "s")) != NULL &&
	    !arc_tag_list_has(t, "*") && !arc_tag_list_has(t, "email")) {
		set_error(e, "key record s= excludes email", NULL);
		return;
	}
	if ((t = arc_tags_get(&tl, "t")) != NULL && arc_tag_list_has(t, "y"))
		e->testing = 1;
	if (t != NULL && arc_tag_list_has(t, "s"))
		e->strict = 1;
	e->ktype = ARC_KTYPE_RSA;
	if ((t = arc_tags_get(&tl, "k")) != NULL) {
		if (arc_tag_eq(t, "ed25519"))
			e->ktype = ARC_KTYPE_ED25519;
		else if (!arc_tag_eq(t, "rsa")) {
			char	 k[33];

			/* the value is not NUL-terminated: its length only,
			 * and what may reach a header printable */
			if (t->value_len < sizeof(k)) {
				for (size_t i = 0; i < t->value_len; i++)
					k[i] = t->value[i] > 0x20 &&
					    t->value[i] < 0x7f ? t->value[i] :
					    '?';
				k[t->value_len] = '\0';
			} else
				strcpy(k, "(long)");
			set_error(e, "unknown key type k=%s", k);
			return;
		}
	}
	if ((t = arc_tags_get(&tl, "p")) == NULL) {
		set_error(e, "key record has no p=", NULL);
		return;
	}
	if (t->value_len == 0) {
		set_error(e, "key revoked (empty p=)", NULL);
		return;
	}
	if ((der = arc_base64_decode(t->value, t->value_len, &derlen)) ==
	    NULL) {
		set_error(e, "key record p= is not base64", NULL);
		return;
	}
	dp = der;
	if (e->ktype == ARC_KTYPE_ED25519) {
		if (derlen == 32)
			e->pkey = EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519,
			    NULL, der, derlen);
	} else {
		e->pkey = d2i_PUBKEY(NULL, &dp, (long)derlen);
		if (e->pkey == NULL) {	/* some publish bare RSAPublicKey */
			dp = der;
			e->pkey = d2i_PublicKey(EVP_PKEY_RSA, NULL, &dp,
			    (long)derlen);
		}
		if (e->pkey && EVP_PKEY_get_base_id(e->pkey) != EVP_PKEY_RSA) {
			EVP_PKEY_free(e->pkey);
			e->pkey = NULL;
		}
	}
	free(der);
	ERR_clear_error();
	if (e->pkey == NULL) {
		set_error(e, "key record p= is not a valid %s public key",
		    e->ktype == ARC_KTYPE_RSA ? "RSA" : "Ed25519");
		return;
	}
	e->bits = (unsigned)EVP_PKEY_get_bits(e->pkey);
	if (e->ktype == ARC_KTYPE_RSA &&
	    (e->bits < min_bits || e->bits > max_bits)) {
		char n[32];

		snprintf(n, sizeof(n), "%u", e->bits);
		set_error(e, e->bits < min_bits ?
		    "RSA key of %s bits is too short (RFC 8301)" :
		    "RSA key of %s bits is over the configured limit", n);
		EVP_PKEY_free(e->pkey);
		e->pkey = NULL;
		return;
	}
	free(e->error);
	e->error = NULL;
}

/* ---- lookups --------------------------------------------------------------- */

static void
evict(arc_keystore *ks)
{
	time_t		 t = now(ks);
	unsigned	 i;
	int		 pass;

	/* first expired entries, then any idle one */
	for (pass = 0; pass < 2 && ks->count >= ks->max_entries; pass++)
		for (i = 0; i < NBUCKETS && ks->count >= ks->max_entries;
		    i++) {
			arc_keyentry **pp = &ks->buckets[i];

			while (*pp && ks->count >= ks->max_entries) {
				arc_keyentry *e = *pp;

				if (e->refs == 0 && e->state == ARC_KEY_DONE &&
				    (pass == 1 || e->expires <= t)) {
					*pp = e->hnext;
					ks->count--;
					entry_free(ks, e);
				} else
					pp = &e->hnext;
			}
		}
}

static void
wake(arc_keystore *ks, arc_keyentry *e)
{
	arc_keywait	*w;

	e->refs++;	/* a waiter may release its reference */
	while ((w = e->waiters) != NULL) {
		e->waiters = w->next;
		w->next = NULL;
		w->fn(w);
	}
	arc_keys_release(ks, e);
}

void
arc_keys_complete(arc_keystore *ks, arc_keyentry *e, const char *txt,
    const char *error, int temporary, arc_dnssec dnssec, unsigned ttl)
{
	e->state = ARC_KEY_DONE;
	e->dnssec = dnssec;
	e->temporary = temporary;
	e->backend_data = NULL;
	if (error)
		set_error(e, "%s", error);
	else if (txt == NULL)
		set_error(e, "no key record", NULL);
	else
		arc_keyrec_parse(e, txt, ks->min_rsa_bits, ks->max_rsa_bits);
	if (dnssec == ARC_DNSSEC_BOGUS && e->error == NULL) {
		set_error(e, "DNSSEC validation failed (bogus)", NULL);
		EVP_PKEY_free(e->pkey);
		e->pkey = NULL;
	}
	if (ttl > MAX_TTL)
		ttl = MAX_TTL;
	e->expires = now(ks) + (temporary ? 0 : (time_t)ttl);
	if (dnssec != ARC_DNSSEC_UNKNOWN)
		arc_keys_count(ks, dnssec == ARC_DNSSEC_SECURE ?
		    ARC_STAT_DNSSEC_SECURE : dnssec == ARC_DNSSEC_BOGUS ?
		    ARC_STAT_DNSSEC_BOGUS : ARC_STAT_DNSSEC_INSECURE);
	wake(ks, e);
}

static void
resolve(arc_keystore *ks, arc_keyentry *e)
{
	table_row	*r;
	char		*txt;

	for (r = ks->table; r; r = r->next)
		if (strcmp(r->qname, e->qname) == 0) {
			/* cached as long as anything (then parsed again
			 * from the table, which lives until reloaded) */
			arc_keys_complete(ks, e, r->txt, NULL, 0,
			    ARC_DNSSEC_UNKNOWN, MAX_TTL);
			return;
		}
	if (ks->callback) {
		txt = ks->callback(ks->callback_arg, e->qname);
		if (txt != NULL || !ks->has_backend) {
			arc_keys_complete(ks, e, txt, NULL, 0,
			    ARC_DNSSEC_UNKNOWN,
			    txt ? CALLBACK_TTL : NEGATIVE_TTL);
			free(txt);
			return;
		}
	}
	if (ks->has_backend) {
		arc_keys_count(ks, ARC_STAT_DNS_QUERIES);
		if (ks->backend.start(ks->backend.ctx, ks, e) != 0 &&
		    e->state == ARC_KEY_PENDING)
			arc_keys_complete(ks, e, NULL, "key lookup could not "
			    "start", 1, ARC_DNSSEC_UNKNOWN, 0);
		return;
	}
	if (ks->table == NULL && ks->empty_table[0] != '\0') {
		char	 why[320];

		snprintf(why, sizeof(why), "the key table %s is empty",
		    ks->empty_table);
		arc_keys_complete(ks, e, NULL, why, 0, ARC_DNSSEC_UNKNOWN,
		    NEGATIVE_TTL);
		return;
	}
	arc_keys_complete(ks, e, NULL, ks->table ? "no key record in the "
	    "key table" : "no key source configured", 0, ARC_DNSSEC_UNKNOWN,
	    NEGATIVE_TTL);
}

arc_keyentry *
arc_keys_get(arc_keystore *ks, const char *selector, const char *domain,
    arc_keywait *w)
{
	arc_keyentry	*e;
	char		*q;
	size_t		 n;

	n = strlen(selector) + strlen(domain) + sizeof("._domainkey.");
	if ((q = malloc(n)) == NULL)
		return NULL;
	snprintf(q, n, "%s._domainkey.%s", selector, domain);
	lowercase(q);
	for (e = ks->buckets[hash(q)]; e; e = e->hnext)
		if (strcmp(e->qname, q) == 0)
			break;
	if (e && e->state == ARC_KEY_DONE && e->expires <= now(ks)) {
		unlink_entry(ks, e);	/* stale: the holders keep theirs */
		if (e->refs == 0)
			entry_free(ks, e);
		e = NULL;
	}
	arc_keys_count(ks, ARC_STAT_KEY_LOOKUPS);
	if (e) {
		free(q);
		e->refs++;
		arc_keys_count(ks, e->state == ARC_KEY_DONE && e->error &&
		    !e->temporary ? ARC_STAT_KEY_NEGATIVE_HITS :
		    ARC_STAT_KEY_CACHE_HITS);
		if (e->state == ARC_KEY_PENDING && w) {
			w->next = e->waiters;
			e->waiters = w;
		}
		return e;
	}
	if (ks->count >= ks->max_entries)
		evict(ks);
	if ((e = calloc(1, sizeof(*e))) == NULL) {
		free(q);
		return NULL;
	}
	e->qname = q;
	e->refs = 1;
	e->hnext = ks->buckets[hash(q)];
	ks->buckets[hash(q)] = e;
	ks->count++;
	if (w) {
		w->next = NULL;
		e->waiters = w;
	}
	resolve(ks, e);
	return e;
}

void
arc_keys_unwait(arc_keyentry *e, arc_keywait *w)
{
	arc_keywait	**pp;

	for (pp = &e->waiters; *pp; pp = &(*pp)->next)
		if (*pp == w) {
			*pp = w->next;
			return;
		}
}

void
arc_keys_release(arc_keystore *ks, arc_keyentry *e)
{
	if (e == NULL || --e->refs > 0)
		return;
	if (!is_linked(ks, e))
		entry_free(ks, e);
	else if (e->state == ARC_KEY_PENDING || e->expires <= now(ks)) {
		/* nobody waits for it any more; do not keep it */
		if (e->state == ARC_KEY_DONE) {
			unlink_entry(ks, e);
			entry_free(ks, e);
		}
	}
}

int
arc_keys_fd(arc_keystore *ks)
{
	return ks->has_backend && ks->backend.fd ?
	    ks->backend.fd(ks->backend.ctx) : -1;
}

int
arc_keys_process(arc_keystore *ks)
{
	return ks->has_backend && ks->backend.process ?
	    ks->backend.process(ks->backend.ctx) : 0;
}

int
arc_keys_wait(arc_keystore *ks, int timeout_ms)
{
	return ks->has_backend && ks->backend.wait ?
	    ks->backend.wait(ks->backend.ctx, timeout_ms) : 0;
}
