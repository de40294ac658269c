/*
 * arc_adapter.c - the MTA adapter layer: arc.conf, the process-wide
 * adapter (key sources, resolver, sealing identity, policy, logging) and
 * per-message sessions that turn a verdict into actions.  See
 * arc_adapter.h for the contract.
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

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "arc_adapter.h"

/* ---- arc.conf ------------------------------------------------------------ */

/* Every option, its default, and whether it may be given more than once
 * (values then accumulate, separated by '\n'). */
static const struct option_def {
	const char	*name;
	const char	*def;
	int		 multi;
	const char	*check;		/* "bool", "num", or a '|' list */
} options[] = {
	{ "authserv-id", NULL, 0, NULL },
	{ "trusted-authserv-ids", NULL, 0, NULL },
	{ "key-table", NULL, 1, NULL },
	{ "dns", "yes", 0, "bool" },
	{ "dns-forwarder", NULL, 0, NULL },
	{ "dns-tls", "no", 0, "bool" },
	{ "dns-tls-ca", NULL, 0, NULL },
	{ "dnssec-trust-anchor", NULL, 0, NULL },
	{ "dns-timeout", "5000", 0, "num" },
	{ "dns-negative-ttl", "60", 0, "num" },
	{ "message-timeout", "10000", 0, "num" },
	{ "verify", "yes", 0, "bool" },
	{ "seal", NULL, 0, "bool" },
	{ "seal-domain", NULL, 0, NULL },
	{ "seal-selector", NULL, 0, NULL },
	{ "seal-key", NULL, 0, NULL },
	{ "seal-headers", NULL, 0, NULL },
	{ "oversign-headers", "from:to:cc:subject:date:message-id:reply-to", 0,
	    NULL },
	{ "seal-recipients", NULL, 0, NULL },
	{ "allow-world-readable-key", "no", 0, "bool" },
	{ "on-fail", "accept", 0, "accept|reject" },
	{ "reject-reply", "550 5.7.29 ARC validation failure", 0, NULL },
	{ "on-error", "pass", 0, "pass|tempfail" },
	{ "add-authentication-results", "yes", 0, "bool" },
	{ "log-level", "info", 0, "err|warning|info|debug" },
	{ "max-sets", "50", 0, "num" },
	{ "max-header-fields", "1000", 0, "num" },
	{ "max-field-bytes", "65536", 0, "num" },
	{ "max-tags", "64", 0, "num" },
	{ "max-key-queries", "64", 0, "num" },
	{ "min-rsa-bits", "1024", 0, "num" },
	{ "max-rsa-bits", "8192", 0, "num" },
	{ NULL, NULL, 0, NULL }
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]) - 1)

struct arc_conf {
	char	*value[NOPTIONS];	/* NULL: default */
};

static int
option_index(const char *name)
{
	for (size_t i = 0; i < NOPTIONS; i++)
		if (strcmp(options[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int
valid_value(const struct option_def *o, const char *v)
{
	const char	*p;
	size_t		 n = strlen(v);

	if (o->check == NULL)
		return 1;
	if (strcmp(o->check, "bool") == 0)
		return strcmp(v, "yes") == 0 || strcmp(v, "no") == 0;
	if (strcmp(o->check, "num") == 0)
		return n > 0 && n < 10 && strspn(v, "0123456789") == n;
	for (p = o->check; *p; ) {
		size_t l = strcspn(p, "|");

		if (l == n && strncmp(p, v, n) == 0)
			return 1;
		p += l + (p[l] == '|');
	}
	return 0;
}

int
arc_conf_set(arc_conf *c, const char *name, const char *value, char *err,
    size_t errlen)
{
	int	 i = option_index(name);
	char	*nv;

	if (i < 0) {
		snprintf(err, errlen, "unknown option \"%s\"", name);
		return -1;
	}
	if (!valid_value(&options[i], value)) {
		snprintf(err, errlen, "invalid value \"%s\" for %s (%s)", value,
		    name, strcmp(options[i].check, "num") == 0 ? "a number" :
		    strcmp(options[i].check, "bool") == 0 ? "yes or no" :
		    options[i].check);
		return -1;
	}
	if (options[i].multi && c->value[i] != NULL) {
		if (asprintf(&nv, "%s\n%s", c->value[i], value) < 0)
			nv = NULL;
	} else
		nv = strdup(value);
	if (nv == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	free(c->value[i]);
	c->value[i] = nv;
	return 0;
}

const char *
arc_conf_get(const arc_conf *c, const char *name)
{
	int	 i = option_index(name);

	if (i < 0)
		return NULL;
	return c->value[i] ? c->value[i] : options[i].def;
}

static int
conf_yes(const arc_conf *c, const char *name)
{
	const char *v = arc_conf_get(c, name);

	return v != NULL && strcmp(v, "yes") == 0;
}

static long
conf_num(const arc_conf *c, const char *name)
{
	const char *v = arc_conf_get(c, name);

	return v ? strtol(v, NULL, 10) : 0;
}

void
arc_conf_free(arc_conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < NOPTIONS; i++)
		free(c->value[i]);
	free(c);
}

arc_conf *
arc_conf_load(const char *path, char *err, size_t errlen)
{
	arc_conf	*c;
	FILE		*fp;
	char		*line = NULL, *p, *name, *v, msg[256];
	size_t		 cap = 0, n;
	unsigned	 lineno = 0;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (path == NULL)
		return c;
	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		arc_conf_free(c);
		return NULL;
	}
	while (getline(&line, &cap, fp) != -1) {
		lineno++;
		for (p = line; isspace((unsigned char)*p); p++)
			;
		if (*p == '#' || *p == '\0')
			continue;
		name = p;
		while (*p && !isspace((unsigned char)*p) && *p != '=')
			p++;
		if (*p)
			*p++ = '\0';
		while (isspace((unsigned char)*p) || *p == '=')
			p++;
		v = p;
		n = strlen(v);
		while (n > 0 && isspace((unsigned char)v[n - 1]))
			v[--n] = '\0';
		if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
			v[n - 1] = '\0';
			v++;
		}
		if (*v == '\0') {
			snprintf(err, errlen, "%s:%u: %s has no value", path,
			    lineno, name);
			goto fail;
		}
		if (arc_conf_set(c, name, v, msg, sizeof(msg)) != 0) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, msg);
			goto fail;
		}
	}
	free(line);
	fclose(fp);
	return c;
fail:
	free(line);
	fclose(fp);
	arc_conf_free(c);
	return NULL;
}

/* ---- the adapter ----------------------------------------------------------- */

/* Signers made for per-message overrides, kept: parsing a key costs more
 * than a signature. */
typedef struct signer_cache {
	char			*domain, *selector, *key, *headers;
	arc_signer		*signer;
	struct signer_cache	*next;
} signer_cache;

struct arc_adapter {
	const arc_conf	*conf;
	arc_lib		*lib;
	arc_signer	*signer;	/* from the configuration, or NULL */
	signer_cache	*signers;
	unsigned	 nsigners;
	pcre2_code	*seal_rcpt_re;
	arc_log_fn	 log_fn;
	void		*log_arg;
	int		 log_level;
	char		 authserv_id[256];
	unsigned	 nsessions;	/* alive sessions borrowing it */
	arc_conf	*owned_conf;	/* freed with the adapter */
};

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
	if ((st.st_mode & S_IROTH) && !conf_yes(c, "allow-world-readable-key")) {
		snprintf(err, errlen, "%s is readable by everyone: chmod o-r "
		    "it, or set allow-world-readable-key yes", path);
		return 0;
	}
	return 1;
}

static arc_signer *
make_signer(arc_adapter *ad, const char *domain, const char *selector,
    const char *key, const char *headers, char *err, size_t errlen)
{
	arc_signer	*s;

	if (!key_private_enough(ad->conf, key, err, errlen))
		return NULL;
	if ((s = arc_signer_create(domain, selector, key, err, errlen)) ==
	    NULL)
		return NULL;
	if (arc_signer_set_headers(s, headers ? headers :
	    arc_conf_get(ad->conf, "seal-headers"),
	    arc_conf_get(ad->conf, "oversign-headers")) != ARC_OK ||
	    arc_signer_set_trusted_ids(s,
	    arc_conf_get(ad->conf, "trusted-authserv-ids")) != ARC_OK) {
		snprintf(err, errlen, "out of memory");
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
			snprintf(err, errlen, "key-table: %s", path ?
			    arc_lib_error(ad->lib) : "out of memory");
			free(path);
			return -1;
		}
		free(path);
		tables += n + (tables[n] == '\n');
	}
	if (!conf_yes(ad->conf, "dns"))
		return 0;
	dc.forwarder = arc_conf_get(ad->conf, "dns-forwarder");
	dc.tls = conf_yes(ad->conf, "dns-tls");
	dc.tls_ca = arc_conf_get(ad->conf, "dns-tls-ca");
	dc.trust_anchor = arc_conf_get(ad->conf, "dnssec-trust-anchor");
	dc.timeout_ms = (int)conf_num(ad->conf, "dns-timeout");
	dc.negative_ttl = (unsigned)conf_num(ad->conf, "dns-negative-ttl");
	if (arc_lib_use_dns(ad->lib, &dc) != ARC_OK) {
		snprintf(err, errlen, "dns: %s", arc_lib_error(ad->lib));
		return -1;
	}
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
	ad->log_fn = fn ? fn : stderr_log;
	ad->log_arg = arg;
	ad->log_level = log_level(arc_conf_get(conf, "log-level"));
	l = arc_lib_limits(ad->lib);
	l->max_sets = (unsigned)conf_num(conf, "max-sets");
	l->max_header_fields = (unsigned)conf_num(conf, "max-header-fields");
	l->max_field_bytes = (size_t)conf_num(conf, "max-field-bytes");
	l->max_tags = (unsigned)conf_num(conf, "max-tags");
	l->max_key_queries = (unsigned)conf_num(conf, "max-key-queries");
	l->min_rsa_bits = (unsigned)conf_num(conf, "min-rsa-bits");
	l->max_rsa_bits = (unsigned)conf_num(conf, "max-rsa-bits");
	if (l->max_sets > 50)
		l->max_sets = 50;
	if (arc_conf_get(conf, "authserv-id"))
		snprintf(ad->authserv_id, sizeof(ad->authserv_id), "%s",
		    arc_conf_get(conf, "authserv-id"));
	else if (gethostname(ad->authserv_id, sizeof(ad->authserv_id) - 1)
	    != 0 || ad->authserv_id[0] == '\0')
		strcpy(ad->authserv_id, "localhost");
	if (setup_keys(ad, err, errlen) != 0)
		goto fail;

	d = arc_conf_get(conf, "seal-domain");
	s = arc_conf_get(conf, "seal-selector");
	k = arc_conf_get(conf, "seal-key");
	seal = arc_conf_get(conf, "seal");
	if ((d || s || k) && !(d && s && k)) {
		snprintf(err, errlen, "sealing needs all of seal-domain, "
		    "seal-selector and seal-key");
		goto fail;
	}
	if (seal && strcmp(seal, "yes") == 0 && !d) {
		snprintf(err, errlen, "seal yes needs seal-domain, "
		    "seal-selector and seal-key");
		goto fail;
	}
	if (d && (ad->signer = make_signer(ad, d, s, k, NULL, err, errlen)) ==
	    NULL)
		goto fail;
	if ((re = arc_conf_get(conf, "seal-recipients")) != NULL &&
	    (ad->seal_rcpt_re = pcre2_compile((PCRE2_SPTR)re,
	    PCRE2_ZERO_TERMINATED, PCRE2_CASELESS, &ec, &eo, NULL)) == NULL) {
		PCRE2_UCHAR msg[128];

		pcre2_get_error_message(ec, msg, sizeof(msg));
		snprintf(err, errlen, "seal-recipients: %s at offset %zu", msg,
		    (size_t)eo);
		goto fail;
	}
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

static int
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

/* The signer for an override identity, made once and kept (at most 64). */
static arc_signer *
override_signer(arc_adapter *ad, const char *d, const char *s, const char *k,
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

/* ---- sessions ----------------------------------------------------------- */

struct arc_session {
	arc_adapter		*ad;
	arc_msg			*msg;
	const arc_signer	*signer;
	char			*id, *client_ip, *authserv_id;
	char			**host_ar;
	int			 seal;		/* -1: policy */
	int			 rcpt_match;	/* seal-recipients matched */
	int			 done, failed, quiet;
	char			 error[256];
	const char		*no_seal;	/* why the identity is unusable */
	arc_session_ready_fn	 ready_fn;
	void			*ready_arg;
	void			*data;
	arc_seal_result		 seal_res;
	char			*authres_field, *authres, *summary;
	arc_actions		 act;
};

static void
session_error(arc_session *ss, const char *what)
{
	if (!ss->failed) {
		ss->failed = 1;
		snprintf(ss->error, sizeof(ss->error), "%s", what);
	}
}

static void
msg_ready(arc_msg *m, void *arg)
{
	arc_session	*ss = arg;

	(void)m;
	if (ss->ready_fn)
		ss->ready_fn(ss, ss->ready_arg);
}

static char *
dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

arc_session *
arc_session_create(arc_adapter *ad, const arc_session_params *p)
{
	arc_session		*ss;
	arc_session_params	 none = { 0 };
	char			 err[256];
	size_t			 n = 0;

	if (p == NULL) {
		p = &none;
		none.seal = -1;
	}
	if ((ss = calloc(1, sizeof(*ss))) == NULL)
		return NULL;
	ss->ad = ad;
	ad->nsessions++;
	ss->seal = p->seal;
	ss->quiet = p->quiet;
	ss->rcpt_match = ad->seal_rcpt_re == NULL;
	ss->id = dup_or_null(p->id ? p->id : "-");
	ss->client_ip = dup_or_null(p->client_ip);
	ss->authserv_id = dup_or_null(p->authserv_id ? p->authserv_id :
	    ad->authserv_id);
	while (p->authres && p->authres[n])
		n++;
	ss->host_ar = calloc(n + 1, sizeof(char *));
	for (size_t i = 0; ss->host_ar && i < n; i++)
		ss->host_ar[i] = dup_or_null(p->authres[i]);
	if (ss->id == NULL || ss->authserv_id == NULL || ss->host_ar == NULL ||
	    (p->client_ip && ss->client_ip == NULL)) {
		arc_session_free(ss);
		return NULL;
	}
	ss->signer = ad->signer;
	if (p->seal_domain || p->seal_selector || p->seal_key ||
	    p->seal_headers) {
		const arc_conf *c = ad->conf;
		const char *d = p->seal_domain ? p->seal_domain :
		    arc_conf_get(c, "seal-domain");
		const char *s = p->seal_selector ? p->seal_selector :
		    arc_conf_get(c, "seal-selector");
		const char *k = p->seal_key ? p->seal_key :
		    arc_conf_get(c, "seal-key");

		/* an unusable identity costs the seal, not the verdict; the
		 * details (paths) go to the log, never into the message */
		ss->signer = NULL;
		if (d == NULL || s == NULL || k == NULL)
			ss->no_seal = "sealing identity incomplete";
		else if ((ss->signer = override_signer(ad, d, s, k,
		    p->seal_headers, err, sizeof(err))) == NULL) {
			ss->no_seal = "sealing key unusable";
			arc_adapter_log(ad, ARC_LOG_ERR, "id=%s: %s", ss->id,
			    err);
		}
	}
	if ((ss->msg = arc_msg_create(ad->lib, ARC_MSG_VERIFY)) == NULL) {
		arc_session_free(ss);
		return NULL;
	}
	arc_msg_set_ready_cb(ss->msg, msg_ready, ss);
	if (ss->signer && arc_msg_set_signer(ss->msg, ss->signer) != ARC_OK)
		session_error(ss, arc_msg_error(ss->msg));
	return ss;
}

void
arc_session_free(arc_session *ss)
{
	if (ss == NULL)
		return;
	ss->ad->nsessions--;
	arc_msg_free(ss->msg);
	arc_seal_result_clear(&ss->seal_res);
	for (size_t i = 0; ss->host_ar && ss->host_ar[i]; i++)
		free(ss->host_ar[i]);
	free(ss->host_ar);
	free(ss->id);
	free(ss->client_ip);
	free(ss->authserv_id);
	free(ss->authres_field);
	free(ss->authres);
	free(ss->summary);
	free(ss);
}

void
arc_session_rcpt(arc_session *ss, const char *rcpt)
{
	pcre2_match_data	*md;

	if (ss->ad->seal_rcpt_re == NULL || ss->rcpt_match || rcpt == NULL)
		return;
	if ((md = pcre2_match_data_create_from_pattern(ss->ad->seal_rcpt_re,
	    NULL)) == NULL)
		return;
	if (pcre2_match(ss->ad->seal_rcpt_re, (PCRE2_SPTR)rcpt,
	    PCRE2_ZERO_TERMINATED, 0, 0, md, NULL) >= 0)
		ss->rcpt_match = 1;
	pcre2_match_data_free(md);
}

/* Once an internal error happened the rest of the message is ignored:
 * the message will be passed on as it is. */
static int
check(arc_session *ss, arc_status r)
{
	if (r != ARC_OK && r != ARC_PENDING)
		session_error(ss, arc_msg_error(ss->msg));
	return ss->failed ? -1 : 0;
}

int
arc_session_header(arc_session *ss, const char *f, size_t n)
{
	return ss->failed ? -1 : check(ss, arc_msg_header(ss->msg, f, n));
}

int
arc_session_eoh(arc_session *ss)
{
	return ss->failed ? -1 : check(ss, arc_msg_eoh(ss->msg));
}

int
arc_session_body(arc_session *ss, const void *p, size_t n)
{
	return ss->failed ? -1 : check(ss, arc_msg_body(ss->msg, p, n));
}

int
arc_session_feed(arc_session *ss, const char *p, size_t n)
{
	return ss->failed ? -1 : check(ss, arc_msg_feed(ss->msg, p, n));
}

void
arc_session_set_ready_cb(arc_session *ss, arc_session_ready_fn fn, void *arg)
{
	ss->ready_fn = fn;
	ss->ready_arg = arg;
}

void *
arc_session_data(arc_session *ss)
{
	return ss->data;
}

void
arc_session_set_data(arc_session *ss, void *data)
{
	ss->data = data;
}

static int
want_seal(arc_session *ss)
{
	const char *v;

	if (ss->signer == NULL)
		return 0;
	if (ss->seal >= 0)
		return ss->seal;
	v = arc_conf_get(ss->ad->conf, "seal");
	return (v == NULL || strcmp(v, "yes") == 0) && ss->rcpt_match;
}

/* One line per message for the logs. */
static void
build_summary(arc_session *ss)
{
	arc_actions	*a = &ss->act;
	char		 doms[512] = "", sealed[32] = "not-sealed";
	int		 i, n;
	size_t		 off = 0;

	n = ss->failed ? 0 : arc_msg_nsets(ss->msg);
	/* the sealers as far as the chain was read (not past a break) */
	for (i = n; i >= 1 && off < sizeof(doms) - 1; i--) {
		const arc_set_info *si = arc_msg_set(ss->msg, i);

		if (si == NULL || si->as_domain == NULL)
			continue;
		off += (size_t)snprintf(doms + off, sizeof(doms) - off, "%s%s",
		    off == 0 ? " sealers=" : ",", si->as_domain);
	}
	if (a->sealed)
		snprintf(sealed, sizeof(sealed), "sealed=i%d", a->sealed);
	if (asprintf(&ss->summary, "id=%s cv=%s%s%s oldest-pass=%d %s%s%s",
	    ss->id, arc_cv_name(a->cv), doms, ss->failed ? " internal-error" :
	    "", a->oldest_pass, sealed, a->reason ? " reason=" : "",
	    a->reason ? a->reason : "") < 0)
		ss->summary = NULL;
}

/* The verdict, turned into what the adapter must do. */
static void
make_actions(arc_session *ss)
{
	arc_actions	*a = &ss->act;
	const char	*extra[66];
	size_t		 n = 0, i;
	arc_status	 r;
	const arc_conf	*c = ss->ad->conf;

	memset(a, 0, sizeof(*a));
	a->oldest_pass = -1;
	if (ss->failed) {
		a->cv = ARC_CV_FAIL;
		a->error = 1;
		a->reason = ss->error;
		if (asprintf(&ss->authres, "%s; arc=fail (internal error: %s)",
		    ss->authserv_id, ss->error) < 0)
			ss->authres = NULL;
		if (strcmp(arc_conf_get(c, "on-error"), "tempfail") == 0) {
			a->tempfail = 1;
			a->smtp_reply = "451 4.3.0 ARC processing failed, "
			    "try again later";
		}
	} else {
		a->cv = arc_msg_cv(ss->msg);
		a->oldest_pass = arc_msg_oldest_pass(ss->msg);
		if (a->cv == ARC_CV_FAIL)
			a->reason = arc_msg_reason(ss->msg);
		ss->authres = arc_msg_authres(ss->msg, ss->authserv_id,
		    ss->client_ip);
		if (a->cv == ARC_CV_FAIL &&
		    strcmp(arc_conf_get(c, "on-fail"), "reject") == 0) {
			a->reject = 1;
			a->smtp_reply = arc_conf_get(c, "reject-reply");
		}
	}
	a->authres = ss->authres;
	if (!a->error && !a->reject && want_seal(ss)) {
		/* our A-R sits on top, so it leads the AAR */
		if (ss->authres && conf_yes(c, "add-authentication-results"))
			extra[n++] = ss->authres;
		for (i = 0; ss->host_ar[i] && n < 65; i++)
			extra[n++] = ss->host_ar[i];
		extra[n] = NULL;
		r = arc_msg_seal(ss->msg, ss->signer, ss->authserv_id, extra, 0,
		    0, &ss->seal_res);
		if (r != ARC_OK) {
			arc_adapter_log(ss->ad, ARC_LOG_ERR, "id=%s seal: %s",
			    ss->id, arc_msg_error(ss->msg));
			a->reason = "internal error while sealing";
		} else if (ss->seal_res.sealed) {
			a->sealed = ss->seal_res.instance;
			a->fields[a->nfields++] = ss->seal_res.as;
			a->fields[a->nfields++] = ss->seal_res.ams;
			a->fields[a->nfields++] = ss->seal_res.aar;
		} else if (a->reason == NULL)
			a->reason = ss->seal_res.reason;
	} else if (!a->error && !a->reject && ss->no_seal && ss->seal != 0) {
		if (a->reason == NULL)
			a->reason = ss->no_seal;
		/* an operator who asked for retries rather than unsealed
		 * mail gets them for a broken identity too */
		if (strcmp(arc_conf_get(c, "on-error"), "tempfail") == 0) {
			a->tempfail = 1;
			a->smtp_reply = "451 4.3.0 ARC sealing key unusable, "
			    "try again later";
		}
	}
	if (ss->authres && !a->reject && (a->error ||
	    conf_yes(c, "add-authentication-results"))) {
		char *f;

		if (asprintf(&f, "Authentication-Results: %s\r\n",
		    ss->authres) >= 0) {
			ss->authres_field = arc_fold_field(f, 0);
			free(f);
		}
		if (ss->authres_field)
			a->fields[a->nfields++] = ss->authres_field;
	}
	build_summary(ss);
	a->summary = ss->summary ? ss->summary : "";
	if (!ss->quiet)
		arc_adapter_log(ss->ad, a->error ? ARC_LOG_WARNING :
		    ARC_LOG_INFO, "%s", a->summary);
}

int
arc_session_eom(arc_session *ss)
{
	arc_status	 r;

	if (ss->done)
		return ARC_SESSION_DONE;
	if (!ss->failed) {
		r = arc_msg_eom(ss->msg);
		if (r == ARC_PENDING)
			return ARC_SESSION_PENDING;
		check(ss, r);
	}
	ss->done = 1;
	make_actions(ss);
	return ARC_SESSION_DONE;
}

int
arc_session_wait(arc_session *ss)
{
	if (!ss->done && !ss->failed)
		check(ss, arc_msg_wait(ss->msg,
		    (int)conf_num(ss->ad->conf, "message-timeout")));
	return arc_session_eom(ss);
}

int
arc_session_finish(arc_session *ss)
{
	if (!ss->done && !ss->failed)
		check(ss, arc_msg_wait(ss->msg, 0));
	return arc_session_eom(ss);
}

const arc_actions *
arc_session_actions(arc_session *ss)
{
	if (!ss->done) {
		/* asked early, or after an error: pass-through actions */
		session_error(ss, "message incomplete");
		arc_session_eom(ss);
	}
	return &ss->act;
}

char *
arc_field_lines(const char *f, int crlf, const char *prefix)
{
	size_t	 plen = prefix ? strlen(prefix) : 0, n = 0, i;
	char	*out, *o;

	for (i = 0; f[i]; i++)
		if (f[i] == '\n')
			n++;
	if ((out = malloc(strlen(f) + n * (plen + 1) + plen + 2)) == NULL)
		return NULL;
	o = out;
	if (plen) {
		memcpy(o, prefix, plen);
		o += plen;
	}
	for (i = 0; f[i]; i++) {
		if (f[i] == '\r')
			continue;
		if (f[i] == '\n') {
			if (crlf)
				*o++ = '\r';
			*o++ = '\n';
			if (plen && f[i + 1]) {
				memcpy(o, prefix, plen);
				o += plen;
			}
			continue;
		}
		*o++ = f[i];
	}
	*o = '\0';
	return out;
}
