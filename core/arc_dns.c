/*
 * arc_dns.c - asynchronous key lookups over DNS with libunbound; see
 * arc_dns.h.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <unbound.h>

#include "arc_buf.h"
#include "arc_dns.h"

#define RR_TYPE_A		1
#define RR_TYPE_TXT		16
#define RR_CLASS_IN		1
#define DEF_TIMEOUT_MS		5000
#define DEF_NEG_TTL		60
#define DOT_PORT		"853"
/* Debian's bundle; used only if libunbound lacks tls-system-cert. */
#define CA_BUNDLE		"/etc/ssl/certs/ca-certificates.crt"

struct dns_query;

typedef struct {
	struct ub_ctx		*ub;
	int			 timeout_ms;
	unsigned		 neg_ttl;
	int			 validating;	/* a trust anchor is set */
	/* Outstanding queries, oldest first: all share one timeout, so
	 * only the head can be the next to expire. */
	struct dns_query	*head, *tail;
	int			 n;
} dns_ctx;

struct dns_query {
	struct dns_query	*prev, *next;
	dns_ctx			*dc;
	arc_keystore		*ks;
	arc_keyentry		*e;
	int			 id;
	long long		 started;	/* ms, monotonic */
};

static long long
now_ms(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return 0;
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
q_link(dns_ctx *dc, struct dns_query *q)
{
	q->next = NULL;
	q->prev = dc->tail;
	if (dc->tail != NULL)
		dc->tail->next = q;
	else
		dc->head = q;
	dc->tail = q;
	dc->n++;
}

/* Detaches q from its entry and the list and frees it. */
static void
q_drop(dns_ctx *dc, struct dns_query *q)
{
	if (q->prev != NULL)
		q->prev->next = q->next;
	else
		dc->head = q->next;
	if (q->next != NULL)
		q->next->prev = q->prev;
	else
		dc->tail = q->prev;
	dc->n--;
	q->e->backend_data = NULL;
	free(q);
}

static const char *
rcode_name(int rcode, char *buf, size_t len)
{
	static const char *const names[] = {
		"NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP",
		"REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH",
		"NOTZONE"
	};

	if (rcode >= 0 && (size_t)rcode < sizeof(names) / sizeof(names[0]))
		return names[rcode];
	snprintf(buf, len, "rcode %d", rcode);
	return buf;
}

/*
 * Joins the character-strings of one TXT rdata.  Returns 0, or -1 if
 * the rdata is malformed or holds a NUL: the keystore takes a C string,
 * and a NUL would silently cut the record short.
 */
static int
txt_join(arc_buf *b, const unsigned char *p, size_t len)
{
	size_t	n;

	arc_buf_reset(b);
	while (len > 0) {
		n = *p++;
		len--;
		if (n > len || memchr(p, '\0', n) != NULL)
			return -1;
		arc_buf_add(b, p, n);
		p += n;
		len -= n;
	}
	arc_buf_add(b, "", 0);		/* an empty record is still text */
	return b->failed ? -1 : 0;
}

static arc_dnssec
dnssec_state(const dns_ctx *dc, const struct ub_result *r)
{
	if (r->bogus)
		return ARC_DNSSEC_BOGUS;
	if (!dc->validating)
		return ARC_DNSSEC_UNKNOWN;
	return r->secure ? ARC_DNSSEC_SECURE : ARC_DNSSEC_INSECURE;
}

/* Turns a libunbound result into one arc_keys_complete() call. */
static void
dns_finish(dns_ctx *dc, arc_keystore *ks, arc_keyentry *e, int err,
    const struct ub_result *r)
{
	arc_buf		 b = { 0 }, first = { 0 };
	arc_dnssec	 sec;
	char		 msg[256], rc[32];
	const char	*txt = NULL;
	unsigned	 ttl;
	int		 i, bad = 0;

	if (err == UB_SYNTAX) {
		arc_keys_complete(ks, e, NULL, "invalid key name", 0,
		    ARC_DNSSEC_UNKNOWN, dc->neg_ttl);
		return;
	}
	if (err != 0 || r == NULL) {
		snprintf(msg, sizeof(msg), "DNS resolver error: %s",
		    ub_strerror(err));
		arc_keys_count(ks, ARC_STAT_DNS_ERRORS);
		arc_keys_complete(ks, e, NULL, msg, 1, ARC_DNSSEC_UNKNOWN, 0);
		return;
	}
	sec = dnssec_state(dc, r);
	if (r->bogus) {
		/* Temporary, as for a stub behind a validating resolver
		 * (it sees SERVFAIL); the TTL of bogus data means nothing. */
		snprintf(msg, sizeof(msg), "DNSSEC bogus: %s",
		    r->why_bogus ? r->why_bogus : "validation failed");
		arc_keys_complete(ks, e, NULL, msg, 1, sec, 0);
		return;
	}
	if (r->rcode == 3 || r->nxdomain) {
		arc_keys_complete(ks, e, NULL, "no key record (NXDOMAIN)", 0,
		    sec, dc->neg_ttl);
		return;
	}
	if (r->rcode != 0) {
		arc_keys_count(ks, r->rcode == 2 ? ARC_STAT_DNS_SERVFAILS :
		    ARC_STAT_DNS_ERRORS);
		snprintf(msg, sizeof(msg), "DNS error: %s",
		    rcode_name(r->rcode, rc, sizeof(rc)));
		arc_keys_complete(ks, e, NULL, msg, 1, sec, 0);
		return;
	}
	if (!r->havedata || r->data == NULL || r->data[0] == NULL) {
		arc_keys_complete(ks, e, NULL, "no key record (no TXT)", 0,
		    sec, dc->neg_ttl);
		return;
	}

	/* RFC 6376 leaves several TXT records undefined; prefer the one
	 * that says it is a key, as other verifiers do. */
	for (i = 0; r->data[i] != NULL; i++) {
		if (txt_join(&b, (const unsigned char *)r->data[i],
		    r->len[i] < 0 ? 0 : (size_t)r->len[i]) == -1) {
			if (i == 0)
				bad = 1;
			continue;
		}
		if (strncmp(b.data, "v=DKIM1", 7) == 0) {
			txt = b.data;
			break;
		}
		if (i == 0) {
			first = b;
			memset(&b, 0, sizeof(b));
		}
	}
	if (txt == NULL && !bad)
		txt = first.data;
	ttl = r->ttl < 0 ? 0 : (unsigned)r->ttl;
	if (txt != NULL)
		arc_keys_complete(ks, e, txt, NULL, 0, sec, ttl);
	else
		arc_keys_complete(ks, e, NULL, "malformed TXT record", 0,
		    sec, ttl);
	arc_buf_free(&b);
	arc_buf_free(&first);
}

static void
dns_callback(void *arg, int err, struct ub_result *r)
{
	struct dns_query	*q = arg;
	dns_ctx			*dc = q->dc;
	arc_keystore		*ks = q->ks;
	arc_keyentry		*e = q->e;

	/* Unhook first: completing may start or cancel other queries. */
	q_drop(dc, q);
	dns_finish(dc, ks, e, err, r);
	ub_resolve_free(r);
}

static int
dns_start(void *ctx, arc_keystore *ks, arc_keyentry *e)
{
	dns_ctx			*dc = ctx;
	struct dns_query	*q;

	if ((q = calloc(1, sizeof(*q))) == NULL)
		return -1;
	q->dc = dc;
	q->ks = ks;
	q->e = e;
	q->started = now_ms();
	/* Never calls back from here: answers come through the pipe. */
	if (ub_resolve_async(dc->ub, e->qname, RR_TYPE_TXT, RR_CLASS_IN, q,
	    dns_callback, &q->id) != 0) {
		free(q);
		return -1;
	}
	q_link(dc, q);
	e->backend_data = q;
	return 0;
}

static void
dns_cancel(void *ctx, arc_keyentry *e)
{
	struct dns_query	*q = e->backend_data;

	(void)ctx;
	if (q == NULL)
		return;
	/* Its callback will not run; the worker may still finish it. */
	(void)ub_cancel(q->dc->ub, q->id);
	q_drop(q->dc, q);
}

static int
dns_fd(void *ctx)
{
	dns_ctx	*dc = ctx;

	return ub_fd(dc->ub);
}

/* Completes the queries past their deadline. */
static void
dns_expire(dns_ctx *dc)
{
	struct dns_query	*q;
	arc_keystore		*ks;
	arc_keyentry		*e;
	long long		 now = now_ms();
	char			 msg[64];

	/* Re-read the head each time: completion may change the list. */
	while ((q = dc->head) != NULL &&
	    now - q->started >= dc->timeout_ms) {
		ks = q->ks;
		e = q->e;
		(void)ub_cancel(dc->ub, q->id);
		q_drop(dc, q);
		snprintf(msg, sizeof(msg), "DNS timeout after %d ms",
		    dc->timeout_ms);
		arc_keys_count(ks, ARC_STAT_DNS_TIMEOUTS);
		arc_keys_complete(ks, e, NULL, msg, 1, ARC_DNSSEC_UNKNOWN, 0);
	}
}

static int
dns_process(void *ctx)
{
	dns_ctx	*dc = ctx;
	int	 rv = 0;

	/* Reads only what is in the pipe; does not block. */
	if (ub_process(dc->ub) != 0)
		rv = -1;
	dns_expire(dc);
	return rv;
}

static int
dns_wait(void *ctx, int timeout_ms)
{
	dns_ctx		*dc = ctx;
	struct pollfd	 pfd;
	long long	 now, deadline, left;

	deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;
	pfd.fd = ub_fd(dc->ub);
	pfd.events = POLLIN;
	for (;;) {
		if (dns_process(dc) == -1)
			return -1;
		if (dc->n == 0)
			return 0;
		now = now_ms();
		if (deadline >= 0 && now >= deadline)
			return dc->n;
		/* Wake up for the oldest query's deadline as well. */
		left = dc->head->started + dc->timeout_ms - now;
		if (deadline >= 0 && deadline - now < left)
			left = deadline - now;
		if (left < 0)
			left = 0;
		if (poll(&pfd, 1, (int)left + 1) == -1 && errno != EINTR)
			return -1;
	}
}

static void
dns_free(void *ctx)
{
	dns_ctx	*dc = ctx;

	if (dc == NULL)
		return;
	/* Kills outstanding queries without calling back. */
	ub_ctx_delete(dc->ub);
	while (dc->head != NULL)
		q_drop(dc, dc->head);
	free(dc);
}

/* Adds each forwarder of a space/comma separated list. */
static int
set_forwarders(struct ub_ctx *ub, const char *list, int tls, char *err,
    size_t errlen)
{
	char		 addr[512];
	const char	*p = list;
	size_t		 n;
	int		 r, count = 0;

	for (;;) {
		p += strspn(p, " \t,");
		if (*p == '\0')
			break;
		n = strcspn(p, " \t,");
		if (n >= sizeof(addr) - sizeof("@" DOT_PORT)) {
			snprintf(err, errlen, "dns-forwarder: address too "
			    "long");
			return -1;
		}
		memcpy(addr, p, n);
		addr[n] = '\0';
		p += n;
		/* Unbound's default port is 53 even over TLS. */
		if (tls && strchr(addr, '@') == NULL) {
			char	*hash = strchr(addr, '#'), name[512];

			snprintf(name, sizeof(name), "%s", hash ? hash : "");
			if (hash != NULL)
				*hash = '\0';
			n = strlen(addr);
			snprintf(addr + n, sizeof(addr) - n, "@%.8s%.490s",
			    DOT_PORT, name);
		}
		if ((r = ub_ctx_set_fwd(ub, addr)) != 0) {
			snprintf(err, errlen, "dns-forwarder %s: %s", addr,
			    ub_strerror(r));
			return -1;
		}
		count++;
	}
	if (count == 0) {
		snprintf(err, errlen, "dns-forwarder: no address");
		return -1;
	}
	return 0;
}

static int
setup(dns_ctx *dc, const arc_dns_options *o, char *err, size_t errlen)
{
	struct ub_result	*res;
	FILE			*f;
	const char		*ta;
	int			 r, autr;

	if ((r = ub_ctx_async(dc->ub, 1)) != 0) {
		snprintf(err, errlen, "libunbound: %s", ub_strerror(r));
		return -1;
	}
	if (o->forwarder != NULL) {
		if (set_forwarders(dc->ub, o->forwarder, o->tls, err,
		    errlen) == -1)
			return -1;
	} else if (o->tls) {
		snprintf(err, errlen, "dns-tls needs dns-forwarder");
		return -1;
	} else if ((r = ub_ctx_resolvconf(dc->ub, NULL)) != 0) {
		snprintf(err, errlen, "/etc/resolv.conf: %s",
		    ub_strerror(r));
		return -1;
	}
	if (o->tls) {
		if ((r = ub_ctx_set_tls(dc->ub, 1)) != 0) {
			snprintf(err, errlen, "dns-tls: %s", ub_strerror(r));
			return -1;
		}
		/* With CAs loaded libunbound verifies the chain, and the
		 * name too for "addr@853#name" forwarders. */
		if (o->tls_ca != NULL) {
			if ((f = fopen(o->tls_ca, "re")) == NULL) {
				snprintf(err, errlen, "dns-tls-ca %s: %s",
				    o->tls_ca, strerror(errno));
				return -1;
			}
			fclose(f);
			r = ub_ctx_set_option(dc->ub, "tls-cert-bundle:",
			    o->tls_ca);
		} else if (ub_ctx_set_option(dc->ub, "tls-system-cert:",
		    "yes") != 0)
			r = ub_ctx_set_option(dc->ub, "tls-cert-bundle:",
			    CA_BUNDLE);
		else
			r = 0;
		if (r != 0) {
			snprintf(err, errlen, "dns-tls: %s", ub_strerror(r));
			return -1;
		}
	}
	if (o->trust_anchor != NULL) {
		autr = strncmp(o->trust_anchor, "auto:", 5) == 0;
		ta = autr ? o->trust_anchor + 5 : o->trust_anchor;
		/* libunbound reads the file only at the first query; fail
		 * at startup instead of on every lookup. */
		if ((f = fopen(ta, autr ? "r+e" : "re")) == NULL) {
			snprintf(err, errlen, "dnssec-trust-anchor %s: %s", ta,
			    strerror(errno));
			return -1;
		}
		fclose(f);
		r = autr ? ub_ctx_add_ta_autr(dc->ub, ta) :
		    ub_ctx_add_ta_file(dc->ub, ta);
		if (r != 0) {
			snprintf(err, errlen, "dnssec-trust-anchor %s: %s", ta,
			    ub_strerror(r));
			return -1;
		}
		dc->validating = 1;
	}

	/* Settle the configuration now, in this thread and without the
	 * network (libunbound answers localhost itself): a bad anchor
	 * file or a libunbound without TLS (Debian's is built with nettle)
	 * then fails at startup rather than on every lookup. */
	if ((r = ub_resolve(dc->ub, "localhost.", RR_TYPE_A, RR_CLASS_IN,
	    &res)) != 0) {
		if (o->tls && r == UB_INITFAIL)
			snprintf(err, errlen, "dns-tls: this libunbound "
			    "cannot do DNS-over-TLS (built without OpenSSL?)");
		else
			snprintf(err, errlen, "libunbound rejects the DNS "
			    "settings: %s", ub_strerror(r));
		return -1;
	}
	ub_resolve_free(res);
	return 0;
}

int
arc_dns_backend_create(arc_key_backend *out, const arc_dns_options *opts,
    char *err, size_t errlen)
{
	static const arc_dns_options	 defaults;
	const arc_dns_options		*o = opts ? opts : &defaults;
	dns_ctx				*dc;

	if (out == NULL) {
		snprintf(err, errlen, "no backend to fill");
		return -1;
	}
	if ((dc = calloc(1, sizeof(*dc))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	dc->timeout_ms = o->query_timeout_ms > 0 ? o->query_timeout_ms :
	    DEF_TIMEOUT_MS;
	dc->neg_ttl = o->neg_ttl > 0 ? o->neg_ttl : DEF_NEG_TTL;
	if ((dc->ub = ub_ctx_create()) == NULL) {
		snprintf(err, errlen, "libunbound: cannot create context");
		free(dc);
		return -1;
	}
	if (setup(dc, o, err, errlen) == -1) {
		dns_free(dc);
		return -1;
	}
	memset(out, 0, sizeof(*out));
	out->start = dns_start;
	out->cancel = dns_cancel;
	out->fd = dns_fd;
	out->process = dns_process;
	out->wait = dns_wait;
	out->free = dns_free;
	out->ctx = dc;
	return 0;
}
