/*
 * arc_dns.h - asynchronous key lookups over DNS with libunbound (internal).
 *
 * Contract:
 *  - arc_dns_backend_create() fills an arc_key_backend (see arc_keys.h)
 *    whose ctx owns one libunbound context in asynchronous mode.  The
 *    background worker is a thread started by the first query, so create
 *    the backend before fork() if you like, but query only after it.
 *  - start() queries TXT/IN for e->qname and never blocks; the result
 *    reaches the keystore through arc_keys_complete() from process() or
 *    wait(), never from start() itself.  A query older than the timeout
 *    completes as a temporary error and is cancelled in libunbound.
 *  - Answers: the strings of one TXT record joined without separators
 *    (the first record starting with "v=DKIM1", else the first record);
 *    NXDOMAIN and NODATA are permanent "no key record" errors cached for
 *    neg_ttl; SERVFAIL, other rcodes, resolver failures, timeouts and
 *    DNSSEC-bogus answers are temporary errors.
 *  - DNSSEC state: UNKNOWN without a trust anchor, else SECURE, INSECURE
 *    or BOGUS as libunbound validated it.
 *  - wait() returns the number of lookups still outstanding (0: all done)
 *    or -1 if the resolver failed; fd() is libunbound's result pipe.
 *  - Not thread-safe: one backend per keystore, used from one thread.
 */
#ifndef ARC_DNS_H
#define ARC_DNS_H

#include <stddef.h>

#include "arc_keys.h"

typedef struct {
	/* "addr[@port][#tls-name]", several separated by space or comma;
	 * NULL: the nameservers in /etc/resolv.conf. */
	const char	*forwarder;
	int		 tls;		/* DNS-over-TLS to the forwarders */
	/* PEM CAs the forwarders' certificates must chain to; NULL: the
	 * system store.  The certificate is always verified. */
	const char	*tls_ca;
	/* DS/DNSKEY file enabling DNSSEC validation; "auto:FILE" tracks
	 * the anchor with RFC 5011 (FILE must be writable).  NULL: none. */
	const char	*trust_anchor;
	int		 query_timeout_ms;	/* <= 0: 5000 */
	unsigned	 neg_ttl;		/* seconds; 0: 60 */
} arc_dns_options;

/* opts may be NULL (all defaults).  Returns 0, or -1 with err set. */
int	arc_dns_backend_create(arc_key_backend *out,
	    const arc_dns_options *opts, char *err, size_t errlen);

#endif
