/*
 * arc_adapter.c - the process-wide adapter: key sources, the resolver,
 * sealing identities (arc.conf's, the signing tables', per-message
 * overrides), the trusted-sealer policy and logging.  See arc_adapter.h
 * for the contract.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "arc_adapter_int.h"
#include "arc_policy.h"
#include "arc_select.h"
#include "arc_signing.h"
#include "arc_stats.h"

/* ---- the adapter ----------------------------------------------------------- */


static void
stderr_log(void *arg, int level, const char *line)
{
	(void)arg;
	(void)level;
	fprintf(stderr, "%s\n", line);
}

void
arc_adapter_log(arc_adapter *ad, int level, const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[1024];

	if (level > ad->log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	ad->log_fn(ad->log_arg, level, buf);
}

static int
log_level(const char *v)
{
	if (strcmp(v, "err") == 0)
		return ARC_LOG_ERR;
	if (strcmp(v, "warning") == 0)
		return ARC_LOG_WARNING;
	if (strcmp(v, "debug") == 0)
		return ARC_LOG_DEBUG;
	return ARC_LOG_INFO;
}

/* RFC 8617 §9 and issue 7: a sealing key others can read is refused. */
static int
key_private_enough(const arc_conf *c, const char *path, char *err,
    size_t errlen)
{
	struct stat	 st;

	if (stat(path, &st) != 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return 0;
	}
	if ((st.st_mode & S_IROTH) && !arc_conf_yes(c, "allow-world-readable-key")) {
		snprintf(err, errlen, "%s is readable by everyone: chmod o-r "
		    "it, or set allow-world-readable-key yes", path);
		return 0;
	}
	return 1;
}

/* Puts "file:line: " of option name in front of err. */
static void
where_err(const arc_conf *c, const char *name, char *err, size_t errlen)
{
	char	 w[300], *e;

	if (*arc_conf_where(c, name, w, sizeof(w)) == '\0' ||
	    (e = strdup(err)) == NULL)
		return;
	snprintf(err, errlen, "%s%s %s", w, name, e);
	free(e);
}

static arc_signer *
make_signer(arc_adapter *ad, const char *domain, const char *selector,
    const char *key, const char *headers, char *err, size_t errlen)
{
	arc_signer	*s;
	arc_status	 r = ARC_OK;

	if (!key_private_enough(ad->conf, key, err, errlen))
		return NULL;
	if ((s = arc_signer_create(domain, selector, key, err, errlen)) ==
	    NULL)
		return NULL;
	if ((r = arc_signer_set_headers(s, headers ? headers :
	    arc_conf_get(ad->conf, "seal-headers"),
	    arc_conf_get(ad->conf, "oversign-headers"))) != ARC_OK ||
	    arc_signer_set_trusted_ids(s,
	    arc_conf_get(ad->conf, "trusted-authserv-ids")) != ARC_OK) {
		/* names go into h=: a ';', a space or a control byte in one
		 * would break the signature field */
		snprintf(err, errlen, r == ARC_ERR_ARG ? "seal-headers or "
		    "oversign-headers: a name that is not a header field name "
		    "(printable ASCII, no ';' or white space, at most 200 "
		    "bytes)" : "out of memory");
		arc_signer_free(s);
		return NULL;
	}
	return s;
}

static int
setup_keys(arc_adapter *ad, char *err, size_t errlen)
{
	const char	*tables = arc_conf_get(ad->conf, "key-table");
	arc_dns_config	 dc = { 0 };

	while (tables && *tables) {
		size_t	 n = strcspn(tables, "\n");
		char	*path = strndup(tables, n);

		if (path == NULL || arc_lib_add_keytable(ad->lib, path) !=
		    ARC_OK) {
			char	 w[300];

			snprintf(err, errlen, "%skey-table: %s",
			    arc_conf_where(ad->conf, "key-table", w, sizeof(w)),
			    path ? arc_lib_error(ad->lib) : "out of memory");
			free(path);
			return -1;
		}
		free(path);
		tables += n + (tables[n] == '\n');
	}
	if (!arc_conf_yes(ad->conf, "dns"))
		return 0;
	dc.forwarder = arc_conf_get(ad->conf, "dns-forwarder");
	dc.tls = arc_conf_yes(ad->conf, "dns-tls");
	dc.tls_ca = arc_conf_get(ad->conf, "dns-tls-ca");
	dc.trust_anchor = arc_conf_get(ad->conf, "dnssec-trust-anchor");
	dc.timeout_ms = (int)arc_conf_num(ad->conf, "dns-timeout");
	dc.negative_ttl = (unsigned)arc_conf_num(ad->conf, "dns-negative-ttl");
	if (arc_lib_use_dns(ad->lib, &dc) != ARC_OK) {
		snprintf(err, errlen, "dns: %s", arc_lib_error(ad->lib));
		return -1;
	}
	return 0;
}

static arc_signer *
table_signer(void *arg, const char *domain, const char *selector,
    const char *key, char *err, size_t errlen)
{
	return make_signer(arg, domain, selector, key, NULL, err, errlen);
}

/* Many sealing identities (arc_select.h): both tables, and every key
 * loaded and checked now unless seal-key-load is lazy. */
static int
setup_signing(arc_adapter *ad, char *err, size_t errlen)
{
	const char		*lz = arc_conf_get(ad->conf, "seal-key-load");
	char			 wk[300], ws[300];
	arc_select_params	 p = {
		arc_conf_get(ad->conf, "seal-key-table"),
		arc_conf_get(ad->conf, "seal-signing-table"),
		arc_conf_get(ad->conf, "seal-select"),
		arc_conf_where(ad->conf, "seal-key-table", wk, sizeof(wk)),
		arc_conf_where(ad->conf, "seal-signing-table", ws, sizeof(ws)),
		lz != NULL && strcmp(lz, "lazy") == 0, table_signer, ad
	};

	return arc_select_create(&p, &ad->select, err, errlen);
}

/* "authenticate": a list (spaces or commas) of none, dkim, spf, dmarc,
 * all.  spf and dmarc are reserved names (issue 17): accepted, said
 * at start-up to be not implemented yet.  -1 with err for a bad word. */
static int
authenticate_parse(arc_adapter *ad, char *err, size_t errlen)
{
	const char	*v = arc_conf_get(ad->conf, "authenticate"), *p;
	char		 w[300];
	size_t		 n;
	int		 later = 0;

	for (p = v ? v : ""; *p; p += n) {
		p += strspn(p, " \t,");
		if ((n = strcspn(p, " \t,")) == 0)
			break;
		if (n == 4 && strncmp(p, "dkim", 4) == 0)
			ad->auth_dkim = 1;
		else if (n == 3 && strncmp(p, "all", 3) == 0)
			ad->auth_dkim = later = 1;
		else if ((n == 3 && strncmp(p, "spf", 3) == 0) ||
		    (n == 5 && strncmp(p, "dmarc", 5) == 0))
			later = 1;
		else if (!(n == 4 && strncmp(p, "none", 4) == 0)) {
			snprintf(err, errlen, "%sauthenticate: unknown method "
			    "\"%.*s\" (none, dkim, spf, dmarc, all)",
			    arc_conf_where(ad->conf, "authenticate", w, sizeof(w)),
			    (int)(n < 32 ? n : 32), p);
			return -1;
		}
	}
	if (later)
		arc_adapter_log(ad, ARC_LOG_WARNING, "authenticate: spf and "
		    "dmarc are not implemented yet, only dkim is computed");
	return 0;
}

arc_adapter *
arc_adapter_create(const arc_conf *conf, arc_log_fn fn, void *arg,
    char *err, size_t errlen)
{
	arc_adapter	*ad;
	arc_limits	*l;
	const char	*d, *s, *k, *re, *seal;
	int		 ec;
	PCRE2_SIZE	 eo;

	if ((ad = calloc(1, sizeof(*ad))) == NULL ||
	    (ad->lib = arc_lib_create()) == NULL) {
		snprintf(err, errlen, "out of memory");
		free(ad);
		return NULL;
	}
	ad->conf = conf;
	arc_stats_attach(ad->lib);	/* process-wide: outlive reloads */
	ad->log_fn = fn ? fn : stderr_log;
	ad->log_arg = arg;
	ad->log_level = log_level(arc_conf_get(conf, "log-level"));
	l = arc_lib_limits(ad->lib);
	l->max_sets = (unsigned)arc_conf_num(conf, "max-sets");
	l->max_header_fields = (unsigned)arc_conf_num(conf, "max-header-fields");
	l->max_field_bytes = (size_t)arc_conf_num(conf, "max-field-bytes");
	l->max_tags = (unsigned)arc_conf_num(conf, "max-tags");
	l->max_key_queries = (unsigned)arc_conf_num(conf, "max-key-queries");
	l->min_rsa_bits = (unsigned)arc_conf_num(conf, "min-rsa-bits");
	l->max_rsa_bits = (unsigned)arc_conf_num(conf, "max-rsa-bits");
	l->oldest_pass_factor = (unsigned)arc_conf_num(conf, "oldest-pass-factor");
	l->max_oldest_pass_bytes = (size_t)arc_conf_num(conf,
	    "max-oldest-pass-bytes");
	l->max_dkim_signatures = (unsigned)arc_conf_num(conf,
	    "max-dkim-signatures");
	l->dkim_budget_factor = (unsigned)arc_conf_num(conf, "dkim-budget-factor");
	if (authenticate_parse(ad, err, errlen) != 0)
		goto fail;
	if (ad->auth_dkim && arc_conf_get(conf, "aar-from-message") &&
	    arc_conf_yes(conf, "aar-from-message")) {
		char	 w[300];

		/* a forged dkim=pass would sit beside ours in the AAR */
		snprintf(err, errlen, "%saar-from-message yes cannot be used "
		    "with authenticate: the message's Authentication-Results "
		    "of our authserv-id are not ours",
		    arc_conf_where(conf, "aar-from-message", w, sizeof(w)));
		goto fail;
	}
	if (l->max_sets > 50)
		l->max_sets = 50;
	if (l->min_rsa_bits > l->max_rsa_bits) {
		char	 w[300];

		snprintf(err, errlen, "%smin-rsa-bits %u is above max-rsa-bits "
		    "%u", arc_conf_where(conf, "min-rsa-bits", w, sizeof(w)),
		    l->min_rsa_bits, l->max_rsa_bits);
		goto fail;
	}
	if (arc_conf_get(conf, "authserv-id"))
		snprintf(ad->authserv_id, sizeof(ad->authserv_id), "%s",
		    arc_conf_get(conf, "authserv-id"));
	else if (gethostname(ad->authserv_id, sizeof(ad->authserv_id) - 1)
	    != 0 || !arc_authserv_id_ok(ad->authserv_id))
		strcpy(ad->authserv_id, "localhost");
	if (!arc_authserv_id_ok(ad->authserv_id)) {
		char	 w[300];

		/* it is written into every A-R and AAR */
		snprintf(err, errlen, "%sauthserv-id \"%s\" is not a token "
		    "(RFC 2045) of at most 255 bytes", arc_conf_where(conf,
		    "authserv-id", w, sizeof(w)), ad->authserv_id);
		goto fail;
	}
	if (setup_keys(ad, err, errlen) != 0)
		goto fail;
	/* built here, so a reload (a new adapter) re-reads its files */
	{
		char	 w[300];
		size_t	 wl = strlen(arc_conf_where(conf, "trusted-sealers", w,
		    sizeof(w)));

		w[wl > 2 ? wl - 2 : 0] = '\0';	/* "file:line" */
		if ((ad->policy = arc_policy_create(arc_conf_get(conf,
		    "trusted-sealers"), wl > 2 ? w : NULL, err, errlen)) ==
		    NULL)
			goto fail;
	}

	d = arc_conf_get(conf, "seal-domain");
	s = arc_conf_get(conf, "seal-selector");
	k = arc_conf_get(conf, "seal-key");
	seal = arc_conf_get(conf, "seal");
	if ((d || s || k) && !(d && s && k)) {
		snprintf(err, errlen, "sealing needs all of seal-domain, "
		    "seal-selector and seal-key");
		goto fail;
	}
	if (seal && strcmp(seal, "yes") == 0 && !d &&
	    !arc_conf_get(conf, "seal-signing-table")) {
		snprintf(err, errlen, "seal yes needs seal-domain, "
		    "seal-selector and seal-key");
		goto fail;
	}
	if (d && (ad->signer = make_signer(ad, d, s, k, NULL, err, errlen)) ==
	    NULL) {
		where_err(conf, "seal-key", err, errlen);
		goto fail;
	}
	if ((re = arc_conf_get(conf, "seal-recipients")) != NULL &&
	    (ad->seal_rcpt_re = pcre2_compile((PCRE2_SPTR)re,
	    PCRE2_ZERO_TERMINATED, PCRE2_CASELESS, &ec, &eo, NULL)) == NULL) {
		PCRE2_UCHAR msg[128];

		pcre2_get_error_message(ec, msg, sizeof(msg));
		snprintf(err, errlen, "seal-recipients: %s at offset %zu", msg,
		    (size_t)eo);
		goto fail;
	}
	if (setup_signing(ad, err, errlen) != 0)
		goto fail;
	return ad;
fail:
	arc_adapter_free(ad);
	return NULL;
}

void
arc_adapter_free(arc_adapter *ad)
{
	signer_cache	*c, *n;

	if (ad == NULL)
		return;
	for (c = ad->signers; c; c = n) {
		n = c->next;
		arc_signer_free(c->signer);
		free(c->domain);
		free(c->selector);
		free(c->key);
		free(c->headers);
		free(c);
	}
	arc_signer_free(ad->signer);
	pcre2_code_free(ad->seal_rcpt_re);
	arc_select_free(ad->select);
	arc_policy_free(ad->policy);
	arc_lib_free(ad->lib);
	arc_conf_free(ad->owned_conf);
	free(ad);
}

void
arc_adapter_own_conf(arc_adapter *ad, arc_conf *conf)
{
	ad->owned_conf = conf;
}

unsigned
arc_adapter_sessions(const arc_adapter *ad)
{
	return ad->nsessions;
}

int
arc_adapter_dns_fd(arc_adapter *ad)
{
	return arc_lib_dns_fd(ad->lib);
}

void
arc_adapter_dns_process(arc_adapter *ad)
{
	if (arc_lib_dns_process(ad->lib) != ARC_OK)
		arc_adapter_log(ad, ARC_LOG_WARNING, "DNS resolver error");
}

arc_lib *
arc_adapter_lib(arc_adapter *ad)
{
	return ad->lib;
}

const arc_policy *
arc_adapter_policy(const arc_adapter *ad)
{
	return ad->policy;
}

int
arc_adapter_authenticates_dkim(const arc_adapter *ad)
{
	return ad->auth_dkim;
}

int
arc_adapter_aar_from_message(const arc_adapter *ad, int host_writes_ar)
{
	if (ad->auth_dkim)
		return 0;
	if (arc_conf_get(ad->conf, "aar-from-message"))
		return arc_conf_yes(ad->conf, "aar-from-message");
	return host_writes_ar;
}

static int
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* The signer for an override identity, made once and kept (at most 64). */
arc_signer *
arc_adapter_override_signer(arc_adapter *ad, const char *d, const char *s, const char *k,
    const char *h, char *err, size_t errlen)
{
	signer_cache	*c;

	for (c = ad->signers; c; c = c->next)
		if (same(c->domain, d) && same(c->selector, s) &&
		    same(c->key, k) && same(c->headers, h))
			return c->signer;
	if (ad->nsigners >= 64) {
		snprintf(err, errlen, "more than 64 sealing identities");
		return NULL;
	}
	if ((c = calloc(1, sizeof(*c))) == NULL ||
	    (c->domain = strdup(d)) == NULL ||
	    (c->selector = strdup(s)) == NULL ||
	    (c->key = strdup(k)) == NULL ||
	    (h && (c->headers = strdup(h)) == NULL) ||
	    (c->signer = make_signer(ad, d, s, k, h, err, errlen)) == NULL) {
		if (c) {
			free(c->domain);
			free(c->selector);
			free(c->key);
			free(c->headers);
			free(c);
		}
		return NULL;
	}
	c->next = ad->signers;
	ad->signers = c;
	ad->nsigners++;
	return c->signer;
}
