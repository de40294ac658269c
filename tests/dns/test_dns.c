/*
 * test_dns.c - the libunbound key source (arc_dns.c) against a real
 * unbound(8), through the keystore API of arc_keys.h.
 *
 * Contract:
 *  - Starts a private unbound with run-unbound.sh (path from
 *    $ARC_UNBOUND_SCRIPT, else next to this source file) on a free
 *    loopback port, in a fresh directory /tmp/arc-dns-*, and stops it at
 *    the end.  Key records are made from an RSA key generated here.
 *  - Exits 77 (skip) if unbound is not installed, 1 if any test failed
 *    or the resolver could not start, else 0.  The DNSSEC test needs
 *    ldnsutils and the TLS test a libunbound with TLS (Debian's has
 *    none); each says "skipped" and passes without them.
 *    $ARC_TEST_KEEP=1 keeps the directory (unbound.conf, unbound.log).
 *  - Each test uses its own keystore and backend, so libunbound's cache
 *    and server statistics do not leak from one test into the next.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "../cunit_run.h"
#include <openssl/evp.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "arc_dns.h"
#include "arc_keys.h"

#define TIMEOUT_MS	1000	/* the backend's per-query timeout here */
#define NEG_TTL		42
#define REC_TTL		300

static char		 dir[] = "/tmp/arc-dns-XXXXXX";
static char		 script[1024];
static int		 port;
static int		 started;
static int		 signed_zone;	/* ldnsutils signed signed.example */
static EVP_PKEY		*key;
static char		*keyrec;	/* "v=DKIM1; k=rsa; p=..." */

typedef struct {
	arc_keywait	w;		/* first: the callback casts back */
	int		calls;
} waiter;

static void
waiter_fn(arc_keywait *w)
{
	((waiter *)w)->calls++;
}

static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- fixture ----------------------------------------------------------- */

static int
port_free(int type, int p)
{
	struct sockaddr_in	sin;
	int			s, ok;

	if ((s = socket(AF_INET, type, 0)) == -1)
		return 0;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((unsigned short)p);
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = bind(s, (struct sockaddr *)&sin, sizeof(sin)) == 0;
	close(s);
	return ok;
}

/* A port free for unbound, port + 1 free for the slow zone, port + 2
 * for DNS-over-TLS. */
static int
pick_port(void)
{
	int	p, i;

	srand((unsigned)getpid() ^ (unsigned)time(NULL));
	for (i = 0; i < 200; i++) {
		p = 20000 + rand() % 40000;
		if (port_free(SOCK_DGRAM, p) && port_free(SOCK_STREAM, p) &&
		    port_free(SOCK_DGRAM, p + 1) &&
		    port_free(SOCK_STREAM, p + 2))
			return p;
	}
	return -1;
}

static char *
b64_pubkey(EVP_PKEY *pk)
{
	unsigned char	*der = NULL, *out;
	int		 n;

	if ((n = i2d_PUBKEY(pk, &der)) <= 0)
		return NULL;
	if ((out = malloc(((size_t)n + 2) / 3 * 4 + 1)) != NULL)
		EVP_EncodeBlock(out, der, n);
	OPENSSL_free(der);
	return (char *)out;
}

/* One local-data TXT RR whose value is cut into strings of chunk bytes. */
static void
txt_rr(FILE *f, const char *name, const char *value, size_t chunk)
{
	size_t	len = strlen(value), off, n;

	fprintf(f, "\tlocal-data: '%s. %d IN TXT", name, REC_TTL);
	for (off = 0; off < len; off += n) {
		n = len - off < chunk ? len - off : chunk;
		fprintf(f, " \"%.*s\"", (int)n, value + off);
	}
	fprintf(f, "'\n");
}

/* Where a 255-byte cut falls inside "k=rsa": joined with any separator
 * the key type would no longer parse. */
static char *
long_record(void)
{
	static const char	 head[] = "v=DKIM1; n=";
	char			*r;
	size_t			 pad = 255 - 3 - (sizeof(head) - 1) - 2, n;

	n = sizeof(head) - 1 + pad + strlen("; k=rsa; p=") +
	    strlen(keyrec) + 1;
	if ((r = malloc(n)) == NULL)
		return NULL;
	snprintf(r, n, "%s%*s; k=rsa; p=%s", head, (int)pad, "",
	    strstr(keyrec, "p=") + 2);
	memset(r + sizeof(head) - 1, 'x', pad);
	return r;
}

static int
write_keys(void)
{
	char	 path[sizeof(dir) + 32], *lr;
	FILE	*f;

	snprintf(path, sizeof(path), "%s/keys.conf", dir);
	if ((f = fopen(path, "w")) == NULL || (lr = long_record()) == NULL)
		return -1;
	if (strncmp(lr + 252, "k=r", 3) != 0 || strlen(lr) <= 2 * 255) {
		fprintf(stderr, "long record is not cut as intended\n");
		free(lr);
		fclose(f);
		return -1;
	}
	txt_rr(f, "sel._domainkey.good.example", keyrec, 255);
	txt_rr(f, "sel2._domainkey.good.example", keyrec, 255);
	txt_rr(f, "sel3._domainkey.good.example", keyrec, 255);
	txt_rr(f, "sel._domainkey.long.example", lr, 255);
	/* Two TXT RRs; only the second is a key. */
	txt_rr(f, "sel._domainkey.multi.example", "hello=world; not a key",
	    255);
	txt_rr(f, "sel._domainkey.multi.example", keyrec, 200);
	free(lr);
	return fclose(f) == 0 ? 0 : -1;
}

/* The system() status of run-unbound.sh CMD. */
static int
unbound_ctl(const char *cmd)
{
	char	buf[2048];

	snprintf(buf, sizeof(buf), "'%s' %s '%s' %d", script, cmd, dir, port);
	return system(buf);
}

/* One TXT line of a zone file, value cut into strings of 255 bytes. */
static void
zone_txt(FILE *f, const char *owner, const char *value)
{
	size_t	len = strlen(value), off, n;

	fprintf(f, "%s IN TXT", owner);
	for (off = 0; off < len; off += n) {
		n = len - off < 255 ? len - off : 255;
		fprintf(f, " \"%.*s\"", (int)n, value + off);
	}
	fprintf(f, "\n");
}

/* Zone signed.example. for the DNSSEC test; the sign command of the
 * script makes the "n=original" record bogus. */
static int
write_signed(void)
{
	char	 path[sizeof(dir) + 32], *tampered;
	size_t	 n;
	FILE	*f;
	int	 st;

	snprintf(path, sizeof(path), "%s/signed.in", dir);
	n = strlen(keyrec) + 32;
	if ((f = fopen(path, "w")) == NULL || (tampered = malloc(n)) == NULL)
		return -1;
	snprintf(tampered, n, "v=DKIM1; n=original; %s", keyrec + 9);
	fprintf(f, "$ORIGIN signed.example.\n$TTL %d\n"
	    "@ IN SOA ns hostmaster 1 3600 600 86400 %d\n"
	    "@ IN NS ns\nns IN A 127.0.0.1\n", REC_TTL, REC_TTL);
	zone_txt(f, "sel._domainkey", keyrec);
	zone_txt(f, "sel._domainkey.tampered", tampered);
	free(tampered);
	if (fclose(f) != 0)
		return -1;
	st = unbound_ctl("sign");
	if (WIFEXITED(st) && WEXITSTATUS(st) == 3) {
		printf("ldnsutils not installed: DNSSEC test skipped\n");
		return 0;
	}
	if (st != 0)
		return -1;
	signed_zone = 1;
	return 0;
}

static int
suite_init(void)
{
	char	*b64;
	size_t	 n;

	if ((key = EVP_RSA_gen(2048)) == NULL ||
	    (b64 = b64_pubkey(key)) == NULL)
		return -1;
	n = strlen(b64) + 32;
	if ((keyrec = malloc(n)) == NULL)
		return -1;
	snprintf(keyrec, n, "v=DKIM1; k=rsa; p=%s", b64);
	free(b64);
	if (mkdtemp(dir) == NULL || (port = pick_port()) == -1 ||
	    write_keys() == -1 || write_signed() == -1)
		return -1;
	if (unbound_ctl("start") != 0)
		return -1;
	started = 1;
	return 0;
}

static int
suite_clean(void)
{
	char	buf[sizeof(dir) + 32];
	char	*keep = getenv("ARC_TEST_KEEP");

	if (started)
		unbound_ctl("stop");
	if (keep != NULL && *keep == '1')
		fprintf(stderr, "\nkept %s\n", dir);
	else {
		snprintf(buf, sizeof(buf), "rm -rf '%s'", dir);
		if (system(buf) != 0)
			return -1;
	}
	EVP_PKEY_free(key);
	free(keyrec);
	return 0;
}

/* ---- helpers ------------------------------------------------------------- */

/* A keystore resolving through our unbound; ta: trust anchor or NULL. */
static arc_keystore *
new_store_ta(const char *ta)
{
	arc_keystore	*ks;
	arc_key_backend	 b;
	arc_dns_options	 o;
	char		 fwd[64], err[256];

	snprintf(fwd, sizeof(fwd), "127.0.0.1@%d", port);
	memset(&o, 0, sizeof(o));
	o.forwarder = fwd;
	o.trust_anchor = ta;
	o.query_timeout_ms = TIMEOUT_MS;
	o.neg_ttl = NEG_TTL;
	if ((ks = arc_keys_create()) == NULL)
		return NULL;
	if (arc_dns_backend_create(&b, &o, err, sizeof(err)) == -1) {
		fprintf(stderr, "backend: %s\n", err);
		arc_keys_free(ks);
		return NULL;
	}
	arc_keys_set_backend(ks, &b);
	return ks;
}

static arc_keystore *
new_store(void)
{
	return new_store_ta(NULL);
}

/* Looks a key up and waits (at most 10 s) for the answer. */
static arc_keyentry *
lookup(arc_keystore *ks, const char *sel, const char *dom)
{
	arc_keyentry	*e;
	waiter		 w = { { NULL, waiter_fn }, 0 };
	long long	 end = now_ms() + 10000;

	if ((e = arc_keys_get(ks, sel, dom, &w.w)) == NULL)
		return NULL;
	while (e->state == ARC_KEY_PENDING && now_ms() < end)
		if (arc_keys_wait(ks, 200) == -1)
			break;
	if (e->state == ARC_KEY_PENDING) {
		arc_keys_unwait(e, &w.w);
		return e;
	}
	/* The waiter fires once, and only for an entry that was pending. */
	CU_ASSERT(w.calls <= 1);
	return e;
}

/* Queries unbound logged for qname (log-queries: one line each). */
static int
queries_for(const char *qname)
{
	char	 path[sizeof(dir) + 32], pat[512], *line = NULL;
	size_t	 cap = 0;
	FILE	*f;
	int	 n = 0;

	snprintf(path, sizeof(path), "%s/unbound.log", dir);
	snprintf(pat, sizeof(pat), " %s. TXT IN", qname);
	if ((f = fopen(path, "r")) == NULL)
		return -1;
	while (getline(&line, &cap, f) != -1)
		if (strcasestr(line, pat) != NULL)
			n++;
	free(line);
	fclose(f);
	return n;
}

static int
has(const char *s, const char *sub)
{
	return s != NULL && strcasestr(s, sub) != NULL;
}

/* Says what the error was when it is not the expected one. */
static int
err_has(const arc_keyentry *e, const char *sub)
{
	if (has(e->error, sub))
		return 1;
	fprintf(stderr, "\n    %s: error \"%s\", expected \"%s\"\n",
	    e->qname, e->error ? e->error : "(none)", sub);
	return 0;
}

static void
check_key(arc_keyentry *e, arc_dnssec sec)
{
	long	ttl;

	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(e->state, ARC_KEY_DONE);
	CU_ASSERT_PTR_NULL(e->error);
	if (e->error != NULL)
		fprintf(stderr, "\n%s: %s\n", e->qname, e->error);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e->pkey);
	CU_ASSERT_EQUAL(EVP_PKEY_eq(e->pkey, key), 1);
	CU_ASSERT_EQUAL(e->ktype, ARC_KTYPE_RSA);
	CU_ASSERT_EQUAL(e->bits, 2048);
	CU_ASSERT_EQUAL(e->temporary, 0);
	CU_ASSERT_EQUAL(e->dnssec, sec);
	ttl = (long)(e->expires - time(NULL));
	CU_ASSERT(ttl > REC_TTL - 10 && ttl <= REC_TTL);
}

static void
check_good(arc_keyentry *e)
{
	check_key(e, ARC_DNSSEC_UNKNOWN);
}

/* ---- tests ----------------------------------------------------------------- */

static void
test_pass(void)
{
	arc_keystore	*ks = new_store();
	arc_keyentry	*e;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ks);
	e = lookup(ks, "sel", "good.example");
	check_good(e);
	arc_keys_release(ks, e);
	/* Names are case-insensitive and stored lower case. */
	e = lookup(ks, "SEL", "Good.Example");
	check_good(e);
	CU_ASSERT_STRING_EQUAL(e->qname, "sel._domainkey.good.example");
	arc_keys_release(ks, e);
	arc_keys_free(ks);
}

static void
test_missing(void)
{
	arc_keystore	*ks = new_store();
	arc_keyentry	*e;
	long		 ttl;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ks);
	e = lookup(ks, "sel", "missing.example");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(e->state, ARC_KEY_DONE);
	CU_ASSERT_PTR_NULL(e->pkey);
	CU_ASSERT(err_has(e, "no key record (NXDOMAIN)"));
	CU_ASSERT_EQUAL(e->temporary, 0);
	ttl = (long)(e->expires - time(NULL));
	CU_ASSERT(ttl > NEG_TTL - 10 && ttl <= NEG_TTL);
	arc_keys_release(ks, e);

	e = lookup(ks, "sel", "nodata.example");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_PTR_NULL(e->pkey);
	CU_ASSERT(err_has(e, "no key record (no TXT)"));
	CU_ASSERT_EQUAL(e->temporary, 0);
	arc_keys_release(ks, e);

	/* A 64-byte label is no DNS name; libunbound says so. */
	e = lookup(ks, "s234567890123456789012345678901234567890123456789012"
	    "345678901234", "good.example");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(e->state, ARC_KEY_DONE);
	CU_ASSERT(err_has(e, "invalid key name"));
	CU_ASSERT_EQUAL(e->temporary, 0);
	arc_keys_release(ks, e);
	arc_keys_free(ks);
}

static void
test_revoked(void)
{
	arc_keystore	*ks = new_store();
	arc_keyentry	*e;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ks);
	e = lookup(ks, "sel", "revoked.example");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(e->state, ARC_KEY_DONE);
	CU_ASSERT_PTR_NULL(e->pkey);
	CU_ASSERT(err_has(e, "revoked"));
	CU_ASSERT_EQUAL(e->temporary, 0);
	arc_keys_release(ks, e);

	e = lookup(ks, "sel", "junk.example");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_PTR_NULL(e->pkey);
	CU_ASSERT(err_has(e, "base64"));
	arc_keys_release(ks, e);
	arc_keys_free(ks);
}

static void
test_multistring(void)
{
	arc_keystore	*ks = new_store();
	arc_keyentry	*e;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ks);
	/* Three 255-byte strings, one cut inside "k=rsa". */
	e = lookup(ks, "sel", "long.example");
	check_good(e);
	arc_keys_release(ks, e);
	/* Two TXT RRs: the one starting with v=DKIM1 is used. */
	e = lookup(ks, "sel", "multi.example");
	check_good(e);
	arc_keys_release(ks, e);
	arc_keys_free(ks);
}

static void
test_timeout(void)
{
	arc_keystore	*ks = new_store();
	arc_keyentry	*slow, *good;
	waiter		 ws = { { NULL, waiter_fn }, 0 };
	waiter		 wg = { { NULL, waiter_fn }, 0 };
	struct pollfd	 pfd;
	long long	 t0, tgood = -1, tslow = -1, end;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ks);
	pfd.fd = arc_keys_fd(ks);
	pfd.events = POLLIN;
	CU_ASSERT_FATAL(pfd.fd >= 0);

	t0 = now_ms();
	slow = arc_keys_get(ks, "sel", "slow.example", &ws.w);
	good = arc_keys_get(ks, "sel2", "good.example", &wg.w);
	CU_ASSERT_PTR_NOT_NULL_FATAL(slow);
	CU_ASSERT_PTR_NOT_NULL_FATAL(good);
	CU_ASSERT_EQUAL(slow->state, ARC_KEY_PENDING);
	CU_ASSERT_EQUAL(good->state, ARC_KEY_PENDING);

	/* Drive it the way an event loop would: poll the fd, process. */
	end = t0 + 5 * TIMEOUT_MS;
	while ((ws.calls == 0 || wg.calls == 0) && now_ms() < end) {
		(void)poll(&pfd, 1, 50);
		CU_ASSERT(arc_keys_process(ks) == 0);
		if (wg.calls > 0 && tgood < 0)
			tgood = now_ms() - t0;
		if (ws.calls > 0 && tslow < 0)
			tslow = now_ms() - t0;
	}
	CU_ASSERT_EQUAL(wg.calls, 1);
	CU_ASSERT_EQUAL(ws.calls, 1);
	/* The good key did not wait for the slow one. */
	CU_ASSERT(tgood >= 0 && tgood < TIMEOUT_MS / 2);
	check_good(good);
	/* The slow one gave up at the timeout, not before, not much after. */
	CU_ASSERT(tslow >= TIMEOUT_MS && tslow < TIMEOUT_MS + 500);
	CU_ASSERT_EQUAL(slow->state, ARC_KEY_DONE);
	CU_ASSERT_PTR_NULL(slow->pkey);
	CU_ASSERT(err_has(slow, "timeout"));
	CU_ASSERT_EQUAL(slow->temporary, 1);
	printf("\n    good after %lld ms, slow: \"%s\" after %lld "
	    "ms ", tgood, slow->error ? slow->error : "", tslow);
	arc_keys_release(ks, slow);
	arc_keys_release(ks, good);

	/* wait() enforces the timeout too, and returns when all is done. */
	t0 = now_ms();
	slow = arc_keys_get(ks, "sel", "slow.example", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(slow);
	CU_ASSERT_EQUAL(slow->state, ARC_KEY_PENDING);
	CU_ASSERT_EQUAL(arc_keys_wait(ks, 5 * TIMEOUT_MS), 0);
	tslow = now_ms() - t0;
	CU_ASSERT(tslow >= TIMEOUT_MS && tslow < TIMEOUT_MS + 500);
	CU_ASSERT(err_has(slow, "timeout"));
	arc_keys_release(ks, slow);

	/* wait() with a shorter timeout returns with the query pending. */
	slow = arc_keys_get(ks, "sel", "slow.example", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(slow);
	CU_ASSERT_EQUAL(arc_keys_wait(ks, 100), 1);
	CU_ASSERT_EQUAL(slow->state, ARC_KEY_PENDING);
	arc_keys_release(ks, slow);
	/* Freed while pending: the query is cancelled. */
	arc_keys_free(ks);
}

static void
test_cancel(void)
{
	arc_keystore	*ks = new_store();
	arc_keyentry	*e;
	waiter		 w = { { NULL, waiter_fn }, 0 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(ks);
	/* A waiter removed before the answer is never called. */
	e = arc_keys_get(ks, "sel", "slow.example", &w.w);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	arc_keys_unwait(e, &w.w);
	CU_ASSERT_EQUAL(arc_keys_wait(ks, 2 * TIMEOUT_MS), 0);
	CU_ASSERT_EQUAL(w.calls, 0);
	CU_ASSERT(err_has(e, "timeout"));
	arc_keys_release(ks, e);
	/* An entry nobody holds is freed after a while; the pending
	 * query must be cancelled, not answered into freed memory. */
	e = arc_keys_get(ks, "sel2", "good.example", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	arc_keys_release(ks, e);
	arc_keys_free(ks);
}

static void
test_cache(void)
{
	arc_keystore	*ks = new_store();
	arc_keyentry	*e;
	const char	*qn = "sel3._domainkey.good.example";
	const char	*nx = "sel._domainkey.cached-nx.example";
	int		 before, nbefore;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ks);
	before = queries_for(qn);
	nbefore = queries_for(nx);
	CU_ASSERT_FATAL(before >= 0 && nbefore >= 0);

	e = lookup(ks, "sel3", "good.example");
	check_good(e);
	arc_keys_release(ks, e);
	CU_ASSERT_EQUAL(queries_for(qn), before + 1);

	/* Same name again: from the cache, no query, done at once. */
	e = arc_keys_get(ks, "sel3", "good.example", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(e->state, ARC_KEY_DONE);
	check_good(e);
	arc_keys_release(ks, e);
	CU_ASSERT_EQUAL(queries_for(qn), before + 1);

	/* Negative answers are cached as well. */
	e = lookup(ks, "sel", "cached-nx.example");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT(err_has(e, "NXDOMAIN"));
	arc_keys_release(ks, e);
	e = arc_keys_get(ks, "sel", "cached-nx.example", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(e->state, ARC_KEY_DONE);
	CU_ASSERT(err_has(e, "NXDOMAIN"));
	arc_keys_release(ks, e);
	CU_ASSERT_EQUAL(queries_for(nx), nbefore + 1);
	arc_keys_free(ks);
}

static void
dnssec_checks(const char *ta)
{
	arc_keystore	*ks = new_store_ta(ta);
	arc_keyentry	*e;

	CU_ASSERT_PTR_NOT_NULL_FATAL(ks);
	e = lookup(ks, "sel", "signed.example");
	check_key(e, ARC_DNSSEC_SECURE);
	arc_keys_release(ks, e);

	/* Signed data changed after signing. */
	e = lookup(ks, "sel", "tampered.signed.example");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(e->state, ARC_KEY_DONE);
	CU_ASSERT_PTR_NULL(e->pkey);
	CU_ASSERT(err_has(e, "DNSSEC bogus: "));
	CU_ASSERT_EQUAL(e->dnssec, ARC_DNSSEC_BOGUS);
	CU_ASSERT_EQUAL(e->temporary, 1);
	printf("\n    %s ", e->error ? e->error : "");
	arc_keys_release(ks, e);

	/* Proven absent (NSEC). */
	e = lookup(ks, "sel", "missing.signed.example");
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT(err_has(e, "no key record (NXDOMAIN)"));
	CU_ASSERT_EQUAL(e->dnssec, ARC_DNSSEC_SECURE);
	CU_ASSERT_EQUAL(e->temporary, 0);
	arc_keys_release(ks, e);

	/* Outside the anchor's zone: validated as insecure. */
	e = lookup(ks, "sel", "good.example");
	check_key(e, ARC_DNSSEC_INSECURE);
	arc_keys_release(ks, e);
	arc_keys_free(ks);
}

static void
test_dnssec(void)
{
	char	ta[sizeof(dir) + 32], autr[sizeof(dir) + 48], buf[256];
	FILE	*in, *out;
	size_t	n;

	if (!signed_zone) {
		printf("skipped (no ldns-signzone) ");
		return;
	}
	snprintf(ta, sizeof(ta), "%s/ta.ds", dir);
	dnssec_checks(ta);

	/* "auto:" tracks the anchor (RFC 5011) in a file of its own. */
	snprintf(autr, sizeof(autr), "%s/ta-auto.ds", dir);
	in = fopen(ta, "r");
	out = fopen(autr, "w");
	CU_ASSERT_FATAL(in != NULL && out != NULL);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		fwrite(buf, 1, n, out);
	fclose(in);
	CU_ASSERT_FATAL(fclose(out) == 0);
	snprintf(buf, sizeof(buf), "auto:%s", autr);
	dnssec_checks(buf);
}

static int	tls_unsupported;

/* One lookup over TLS to unbound's port + 2. */
static arc_keyentry *
tls_lookup(arc_keystore **ksp, const char *name, const char *ca)
{
	arc_key_backend	 b;
	arc_dns_options	 o;
	char		 fwd[128], err[256];

	snprintf(fwd, sizeof(fwd), "127.0.0.1@%d%s%s", port + 2,
	    name ? "#" : "", name ? name : "");
	memset(&o, 0, sizeof(o));
	o.forwarder = fwd;
	o.tls = 1;
	o.tls_ca = ca;
	o.query_timeout_ms = TIMEOUT_MS;
	if ((*ksp = arc_keys_create()) == NULL)
		return NULL;
	if (arc_dns_backend_create(&b, &o, err, sizeof(err)) == -1) {
		if (has(err, "cannot do DNS-over-TLS")) {
			tls_unsupported = 1;
			printf("skipped: %s ", err);
		} else
			fprintf(stderr, "backend: %s\n", err);
		return NULL;
	}
	arc_keys_set_backend(*ksp, &b);
	return lookup(*ksp, "sel", "good.example");
}

static void
test_tls(void)
{
	arc_keystore	*ks;
	arc_keyentry	*e;
	char		 ca[sizeof(dir) + 32];

	snprintf(ca, sizeof(ca), "%s/tls.pem", dir);
	if (access(ca, R_OK) != 0) {
		printf("skipped (no openssl to make a certificate) ");
		return;
	}
	/* Authenticated by name against the given CA. */
	e = tls_lookup(&ks, "dns.example", ca);
	if (e == NULL && tls_unsupported) {
		arc_keys_free(ks);
		return;
	}
	check_good(e);
	arc_keys_release(ks, e);
	arc_keys_free(ks);

	/* Chain checked even without a name. */
	e = tls_lookup(&ks, NULL, ca);
	check_good(e);
	arc_keys_release(ks, e);
	arc_keys_free(ks);

	/* Wrong name, or a CA that did not issue it: no answer. */
	e = tls_lookup(&ks, "other.example", ca);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(e->state, ARC_KEY_DONE);
	CU_ASSERT_PTR_NULL(e->pkey);
	CU_ASSERT_EQUAL(e->temporary, 1);
	printf("\n    wrong name: %s ", e->error ? e->error : "");
	arc_keys_release(ks, e);
	arc_keys_free(ks);

	e = tls_lookup(&ks, "dns.example", NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	CU_ASSERT_EQUAL(e->state, ARC_KEY_DONE);
	CU_ASSERT_PTR_NULL(e->pkey);
	CU_ASSERT_EQUAL(e->temporary, 1);
	printf("\n    system CAs: %s ", e->error ? e->error : "");
	arc_keys_release(ks, e);
	arc_keys_free(ks);
}

static void
test_options(void)
{
	arc_key_backend	 b;
	arc_dns_options	 o;
	char		 err[256], path[sizeof(dir) + 32];
	FILE		*f;

	memset(&o, 0, sizeof(o));
	o.tls = 1;
	CU_ASSERT_EQUAL(arc_dns_backend_create(&b, &o, err, sizeof(err)), -1);
	CU_ASSERT(has(err, "dns-tls needs dns-forwarder"));

	memset(&o, 0, sizeof(o));
	o.forwarder = "not-an-address";
	CU_ASSERT_EQUAL(arc_dns_backend_create(&b, &o, err, sizeof(err)), -1);
	CU_ASSERT(has(err, "dns-forwarder"));

	o.forwarder = " , ";
	CU_ASSERT_EQUAL(arc_dns_backend_create(&b, &o, err, sizeof(err)), -1);
	CU_ASSERT(has(err, "no address"));

	snprintf(path, sizeof(path), "%s/no-such-anchor", dir);
	o.forwarder = "127.0.0.1";
	o.trust_anchor = path;
	CU_ASSERT_EQUAL(arc_dns_backend_create(&b, &o, err, sizeof(err)), -1);
	CU_ASSERT(has(err, "dnssec-trust-anchor"));

	/* An anchor file that is no anchor: refused at creation. */
	snprintf(path, sizeof(path), "%s/bad-anchor", dir);
	CU_ASSERT_FATAL((f = fopen(path, "w")) != NULL);
	fprintf(f, "this is not a DS record\n");
	fclose(f);
	CU_ASSERT_EQUAL(arc_dns_backend_create(&b, &o, err, sizeof(err)), -1);
	CU_ASSERT(has(err, "rejects"));

	/* Several forwarders: accepted (nothing is sent here). */
	memset(&o, 0, sizeof(o));
	o.forwarder = "127.0.0.1@5353, ::1";
	CU_ASSERT_EQUAL_FATAL(arc_dns_backend_create(&b, &o, err,
	    sizeof(err)), 0);
	CU_ASSERT(b.fd(b.ctx) >= 0);
	b.free(b.ctx);

	/* Defaults: /etc/resolv.conf. */
	if (access("/etc/resolv.conf", R_OK) == 0) {
		CU_ASSERT_EQUAL_FATAL(arc_dns_backend_create(&b, NULL, err,
		    sizeof(err)), 0);
		b.free(b.ctx);
	}
}

int
main(void)
{
	static const cunit_test tests[] = {
		{ "options", test_options },
		{ "pass", test_pass },
		{ "missing", test_missing },
		{ "revoked", test_revoked },
		{ "multistring", test_multistring },
		{ "dnssec", test_dnssec },
		{ "tls", test_tls },
		{ "cache", test_cache },
		{ "timeout", test_timeout },
		{ "cancel", test_cancel },
		{ NULL, NULL }
	};
	const char	*env = getenv("ARC_UNBOUND_SCRIPT");
	const char	*slash;

	if (system("command -v unbound >/dev/null 2>&1 || "
	    "test -x /usr/sbin/unbound") != 0) {
		fprintf(stderr, "test_dns: unbound not installed, skipped\n");
		return 77;
	}
	if (env != NULL)
		snprintf(script, sizeof(script), "%s", env);
	else if ((slash = strrchr(__FILE__, '/')) != NULL)
		snprintf(script, sizeof(script), "%.*s/run-unbound.sh",
		    (int)(slash - __FILE__), __FILE__);
	else
		snprintf(script, sizeof(script), "./run-unbound.sh");

	return cunit_run("dns", suite_init, suite_clean, tests);
}
