/*
 * arc_lib.c - the library handle and the signer (our sealing identity).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc_crypto.h"
#include "arc_dns.h"
#include "arc_internal.h"

arc_lib *
arc_lib_create(void)
{
	arc_lib	*lib;

	if ((lib = calloc(1, sizeof(*lib))) == NULL)
		return NULL;
	if ((lib->keys = arc_keys_create()) == NULL) {
		free(lib);
		return NULL;
	}
	lib->limits.max_sets = 50;
	lib->limits.max_header_fields = 1000;
	lib->limits.max_field_bytes = 64 * 1024;
	lib->limits.max_tags = ARC_MAX_TAGS_DEFAULT;
	lib->limits.max_key_queries = 64;
	lib->limits.min_rsa_bits = 1024;
	lib->limits.max_dkim_signatures = 10;
	lib->limits.max_rsa_bits = 8192;
	lib->limits.oldest_pass_factor = 2;
	lib->limits.dkim_budget_factor = 2;
	return lib;
}

void
arc_lib_free(arc_lib *lib)
{
	if (lib == NULL)
		return;
	arc_keys_free(lib->keys);
	free(lib);
}

const char *
arc_lib_error(const arc_lib *lib)
{
	return lib->error;
}

arc_limits *
arc_lib_limits(arc_lib *lib)
{
	return &lib->limits;
}

arc_status
arc_lib_add_keytable(arc_lib *lib, const char *path)
{
	if (arc_keys_add_table(lib->keys, path, lib->error,
	    sizeof(lib->error)) != 0)
		return ARC_ERR_IO;
	return ARC_OK;
}

arc_status
arc_lib_use_dns(arc_lib *lib, const arc_dns_config *c)
{
	arc_dns_options	 o = { 0 };
	arc_key_backend	 b;

	if (c) {
		o.forwarder = c->forwarder;
		o.tls = c->tls;
		o.tls_ca = c->tls_ca;
		o.trust_anchor = c->trust_anchor;
		o.query_timeout_ms = c->timeout_ms;
		o.neg_ttl = c->negative_ttl;
	}
	if (arc_dns_backend_create(&b, &o, lib->error, sizeof(lib->error)) !=
	    0)
		return ARC_ERR_ARG;
	arc_keys_set_backend(lib->keys, &b);
	return ARC_OK;
}

void
arc_lib_set_txt_lookup(arc_lib *lib, arc_txt_lookup_fn fn, void *arg)
{
	arc_keys_set_callback(lib->keys, fn, arg);
}

void
arc_lib_set_now(arc_lib *lib, time_t t)
{
	lib->fixed_now = t;
	arc_keys_set_now(lib->keys, t);
}

void
arc_lib_set_stats(arc_lib *lib, unsigned long long *counters)
{
	arc_keys_set_stats(lib->keys, counters);
}

time_t
arc_lib_now(const arc_lib *lib)
{
	return lib->fixed_now ? lib->fixed_now : time(NULL);
}

/* ---- signer ------------------------------------------------------------ */

/* RFC 8617 §4.1.2: ARC fields and Authentication-Results are never
 * signed by an AMS; dropping them here keeps every caller honest. */
static int
never_signed(const char *name, size_t n)
{
	static const char *const banned[] = { "arc-seal",
	    "arc-message-signature", "arc-authentication-results",
	    "authentication-results", NULL };

	for (int i = 0; banned[i]; i++)
		if (strlen(banned[i]) == n && strncasecmp(banned[i], name,
		    n) == 0)
			return 1;
	return 0;
}

int
arc_list_has(const char *list, const char *name, size_t n)
{
	const char	*p = list;

	while (p != NULL && *p) {
		size_t l = strcspn(p, ":");

		if (l == n && strncasecmp(p, name, n) == 0)
			return 1;
		p += l;
		if (*p == ':')
			p++;
	}
	return 0;
}

/* Normalizes a colon list: lower case, no spaces, no empty, banned or
 * repeated names ("from:from" is one name; oversigning is its own list). */
static char *
clean_list(const char *s)
{
	arc_buf	 b = { 0 };
	size_t	 i = 0, st, e;

	while (s[i]) {
		while (s[i] == ':' || isspace((unsigned char)s[i]))
			i++;
		st = i;
		while (s[i] && s[i] != ':')
			i++;
		e = i;
		while (e > st && isspace((unsigned char)s[e - 1]))
			e--;
		if (e == st || never_signed(s + st, e - st) ||
		    arc_list_has(b.data, s + st, e - st))
			continue;
		if (b.len)
			arc_buf_addc(&b, ':');
		for (size_t k = st; k < e; k++)
			arc_buf_addc(&b, (char)tolower((unsigned char)s[k]));
	}
	return arc_buf_steal(&b);
}

/* Names that h= can carry: field names (RFC 5322 ftext) without ';',
 * which would end the tag, and short enough for a line; white space
 * only around the colons. */
static int
valid_hlist(const char *l)
{
	size_t	 i = 0, st;

	for (;;) {
		while (l[i] == ' ' || l[i] == '\t')
			i++;
		for (st = i; l[i] > 0x20 && l[i] < 0x7f && l[i] != ':' &&
		    l[i] != ';'; i++)
			;
		if (i - st > 200)
			return 0;
		while (l[i] == ' ' || l[i] == '\t')
			i++;
		if (l[i] == '\0')
			return 1;
		if (l[i] != ':')
			return 0;
		i++;
	}
}

arc_status
arc_signer_set_headers(arc_signer *s, const char *headers,
    const char *oversign)
{
	char		*h, *o, *p;
	arc_hname	*hn;
	size_t		 n = 0;

	if (headers == NULL)
		headers = "from:to:cc:subject:date:message-id:reply-to:"
		    "in-reply-to:references:mime-version:content-type:"
		    "content-transfer-encoding:content-disposition:"
		    "dkim-signature:list-id:list-help:list-unsubscribe:"
		    "list-post:list-owner:list-archive:sender";
	if (!valid_hlist(headers) || (oversign && !valid_hlist(oversign)))
		return ARC_ERR_ARG;
	if ((h = clean_list(headers)) == NULL ||
	    (o = clean_list(oversign ? oversign : "")) == NULL) {
		free(h);
		return ARC_ERR_NOMEM;
	}
	for (p = h; *p; p++)
		n += *p == ':';
	if ((hn = calloc(n + 1, sizeof(*hn))) == NULL) {
		free(h);
		free(o);
		return ARC_ERR_NOMEM;
	}
	/* split once here rather than at each seal */
	for (p = h, n = 0; *p; n++) {
		hn[n].name = p;
		hn[n].len = strcspn(p, ":");
		hn[n].oversign = arc_list_has(o, p, hn[n].len);
		p += hn[n].len;
		if (*p == ':')
			p++;
	}
	free(s->headers);
	free(s->oversign);
	free(s->hnames);
	s->headers = h;
	s->oversign = o;
	s->hnames = hn;
	s->nhnames = n;
	return ARC_OK;
}

/* A d= or s= we write: ASCII letters, digits, '.', '-', '_' (what goes
 * into a header is printable ASCII), at most a DNS name's 253 bytes. */
static int
valid_name(const char *s)
{
	size_t	 n = strlen(s);

	if (n == 0 || n > 253)
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '.' && *s != '-' &&
		    *s != '_')
			return 0;
	return 1;
}

arc_signer *
arc_signer_create_pem(const char *domain, const char *selector,
    const char *pem, size_t pemlen, char *err, size_t errlen)
{
	arc_signer	*s;

	if (!valid_name(domain) || !valid_name(selector)) {
		snprintf(err, errlen, "invalid signing domain or selector");
		return NULL;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->domain = strdup(domain)) == NULL ||
	    (s->selector = strdup(selector)) == NULL) {
		snprintf(err, errlen, "out of memory");
		arc_signer_free(s);
		return NULL;
	}
	if ((s->key = arc_crypto_load_private(pem, pemlen, &s->alg, err,
	    errlen)) == NULL) {
		arc_signer_free(s);
		return NULL;
	}
	/* NULL is not fatal: signing then sets a context up each time */
	s->sign_ctx = arc_crypto_sign_ctx_create(s->key, s->alg);
	if (arc_signer_set_headers(s, NULL,
	    "from:to:cc:subject:date:message-id:reply-to") != ARC_OK) {
		snprintf(err, errlen, "out of memory");
		arc_signer_free(s);
		return NULL;
	}
	return s;
}

arc_signer *
arc_signer_create(const char *domain, const char *selector,
    const char *keyfile, char *err, size_t errlen)
{
	FILE		*fp;
	char		 pem[64 * 1024];
	size_t		 n;
	arc_signer	*s;

	if ((fp = fopen(keyfile, "re")) == NULL) {
		snprintf(err, errlen, "%s: %s", keyfile, strerror(errno));
		return NULL;
	}
	n = fread(pem, 1, sizeof(pem), fp);
	fclose(fp);
	if (n == sizeof(pem)) {
		snprintf(err, errlen, "%s: too large for a key", keyfile);
		return NULL;
	}
	s = arc_signer_create_pem(domain, selector, pem, n, err, errlen);
	/* the key file's bytes should not linger on the stack */
	OPENSSL_cleanse(pem, sizeof(pem));
	return s;
}

void
arc_signer_free(arc_signer *s)
{
	if (s == NULL)
		return;
	arc_crypto_sign_ctx_free(s->sign_ctx);
	EVP_PKEY_free(s->key);
	free(s->domain);
	free(s->selector);
	free(s->headers);
	free(s->oversign);
	free(s->hnames);
	free(s->trusted_ids);
	free(s);
}

arc_status
arc_signer_set_trusted_ids(arc_signer *s, const char *ids)
{
	char	*copy, *p, *l;

	if ((copy = strdup(ids ? ids : "")) == NULL)
		return ARC_ERR_NOMEM;
	for (p = copy; *p; p++)
		if (*p == ',')
			*p = ':';
	l = clean_list(copy);
	free(copy);
	if (l == NULL)
		return ARC_ERR_NOMEM;
	free(s->trusted_ids);
	s->trusted_ids = l;
	return ARC_OK;
}

arc_alg
arc_signer_alg(const arc_signer *s)
{
	return s->alg;
}

const char *
arc_cv_name(arc_cv cv)
{
	switch (cv) {
	case ARC_CV_PASS:
		return "pass";
	case ARC_CV_FAIL:
		return "fail";
	default:
		return "none";
	}
}
