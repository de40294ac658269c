/*
 * test_stats.c - CUnit tests of the metrics (adapters/arc_stats*.c,
 * arc_sketch.c, arc_metrics_http.c): counters after real messages went
 * through the adapter layer with real keys (n sealed, k tampered, one
 * DNS timeout against a resolver that never answers, one SERVFAIL from
 * a tiny DNS responder here), the kind of every failure the core
 * reports, the exposition round trip and its strict parser, a file
 * never seen half-written by a reader process, bounded memory with
 * 1 000 000 distinct sealer domains, Exim-style merging across
 * processes (fork, flock) and the HTTP responder.
 */
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cunit_run.h"
#include "test_fixture.h"

#include "arc_adapter.h"
#include "arc_metrics_http.h"
#include "arc_sketch.h"
#include "arc_stats.h"

static char	 dir[] = "/tmp/arc-test-stats.XXXXXX";
static char	 keyfile[300], keytable[300], badkeys[300];

static const char *MSG =
    "From: Alice <alice@origin.example>\r\n"
    "To: list@list.example\r\n"
    "Subject: metrics test %d\r\n"
    "Date: Mon, 23 Nov 2026 09:00:00 +0000\r\n"
    "Message-ID: <stats-%d@origin.example>\r\n"
    "\r\n"
    "Hello, number %d.\r\n";

static int
setup(void)
{
	char	 text[600];

	if (fixture_keys(dir, keyfile, keytable, NULL) != 0)
		return -1;
	snprintf(badkeys, sizeof(badkeys), "%s/badkeys", dir);
	snprintf(text, sizeof(text), "s1._domainkey.bad.example "
	    "v=DKIM1; k=rsa; p=AAAAAAAA\n");
	return write_file(badkeys, text, 0644);
}

static int
teardown(void)
{
	return fixture_remove(dir);
}

static arc_conf *
conf_text(const char *fmt, const char *a, const char *b)
{
	char		 text[2048], path[320], err[512];
	arc_conf	*c;

	snprintf(text, sizeof(text), fmt, a ? a : "", b ? b : "");
	snprintf(path, sizeof(path), "%s/arc.conf", dir);
	if (write_file(path, text, 0644) != 0)
		return NULL;
	if ((c = arc_conf_load(path, err, sizeof(err))) == NULL)
		fprintf(stderr, "conf: %s\n", err);
	return c;
}

static void
quiet_log(void *arg, int level, const char *line)
{
	(void)arg;
	(void)level;
	(void)line;
}

static arc_adapter *
adapter(arc_conf *c)
{
	char		 err[512];
	arc_adapter	*ad = arc_adapter_create(c, quiet_log, NULL, err,
	    sizeof(err));

	if (ad == NULL)
		fprintf(stderr, "adapter: %s\n", err);
	return ad;
}

/* The message through one session; returns it with the fields the
 * actions add on top (malloc'd), and the verdict in *cv. */
static char *
hop(arc_adapter *ad, const char *msg, const char *seal_domain, arc_cv *cv)
{
	arc_session_params	 p = { 0 };
	arc_session		*ss;
	const arc_actions	*a;
	char			*out;
	size_t			 n = strlen(msg) + 1;

	p.id = "t";
	p.seal = -1;
	if (seal_domain) {
		p.seal_domain = seal_domain;
		p.seal_selector = "s1";
		p.seal_key = keyfile;
	}
	CU_ASSERT_PTR_NOT_NULL_FATAL(ss = arc_session_create(ad, &p));
	CU_ASSERT_EQUAL(arc_session_feed(ss, msg, strlen(msg)), 0);
	CU_ASSERT_EQUAL(arc_session_wait(ss), ARC_SESSION_DONE);
	a = arc_session_actions(ss);
	if (cv)
		*cv = a->cv;
	for (int i = 0; i < a->nfields; i++)
		n += strlen(a->fields[i]);
	CU_ASSERT_PTR_NOT_NULL_FATAL(out = malloc(n));
	out[0] = '\0';
	for (int i = 0; i < a->nfields; i++)
		strcat(out, a->fields[i]);
	strcat(out, msg);
	arc_session_free(ss);
	return out;
}

static char *
message(int i)
{
	char	*m;

	CU_ASSERT_FATAL(asprintf(&m, MSG, i, i, i) > 0);
	return m;
}

/* ---- DNS peers: one that never answers, one that says SERVFAIL -------- */

static int
udp_socket(int *port)
{
	struct sockaddr_in	 a = { 0 };
	socklen_t		 l = sizeof(a);
	int			 fd = socket(AF_INET, SOCK_DGRAM, 0);

	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd == -1 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &l) != 0)
		return -1;
	*port = ntohs(a.sin_port);
	return fd;
}

static volatile int	 servfail_stop;

/* Answers every query with its own question and rcode 2. */
static void *
servfail_run(void *arg)
{
	int			 fd = *(int *)arg;
	unsigned char		 b[1500];
	struct sockaddr_in	 from;
	socklen_t		 fl;
	ssize_t			 n;
	struct pollfd		 pfd = { fd, POLLIN, 0 };

	while (!servfail_stop) {
		if (poll(&pfd, 1, 100) <= 0)
			continue;
		fl = sizeof(from);
		if ((n = recvfrom(fd, b, sizeof(b), 0, (struct sockaddr *)&from,
		    &fl)) < 12)
			continue;
		b[2] = 0x81 | (b[2] & 0x01);	/* QR, RD kept */
		b[3] = 0x82;			/* RA, SERVFAIL */
		b[6] = b[7] = b[8] = b[9] = b[10] = b[11] = 0;
		(void)sendto(fd, b, (size_t)n, 0, (struct sockaddr *)&from, fl);
	}
	return NULL;
}

/* ---- counters after a run ---------------------------------------------- */

static uint64_t
d(const arc_stats_snap *a, const arc_stats_snap *b, int i)
{
	return b->count[i] - a->count[i];
}

static void
test_counts_after_run(void)
{
	enum { N = 10, K = 3 };
	arc_stats_snap	*s0 = malloc(sizeof(*s0)), *s1 = malloc(sizeof(*s1));
	arc_conf	*c1, *c2, *c3;
	arc_adapter	*a1, *a2, *a3;
	char		*m, *h1, *h2, fwd[64];
	arc_cv		 cv;
	int		 i, port, bh, pass = 0, fail = 0;
	size_t		 t;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(s1);
	CU_ASSERT_FATAL((bh = udp_socket(&port)) != -1);
	snprintf(fwd, sizeof(fwd), "127.0.0.1@%d", port);
	/* hop 1 seals as seal.example; hop 2 verifies and seals too */
	c1 = conf_text("authserv-id hop1.example\nkey-table %s\ndns no\n"
	    "seal-domain seal.example\nseal-selector s1\nseal-key %s\n",
	    keytable, keyfile);
	c2 = conf_text("authserv-id hop2.example\nkey-table %s\ndns no\n"
	    "seal-domain other.example\nseal-selector s2\nseal-key %s\n",
	    keytable, keyfile);
	/* a resolver that never answers, behind the key table */
	c3 = conf_text("authserv-id hop3.example\nkey-table %s\n"
	    "dns-forwarder %s\ndns-timeout 300\nmessage-timeout 5000\n",
	    keytable, fwd);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c1 && c2 && c3);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a1 = adapter(c1));
	CU_ASSERT_PTR_NOT_NULL_FATAL(a2 = adapter(c2));
	CU_ASSERT_PTR_NOT_NULL_FATAL(a3 = adapter(c3));

	arc_stats_take(s0);
	for (i = 0; i < N; i++) {
		m = message(i);
		h1 = hop(a1, m, NULL, &cv);
		CU_ASSERT_EQUAL(cv, ARC_CV_NONE);
		if (i < K)	/* tampered on the way: the body changed */
			*strstr(h1, "Hello,") = 'J';
		h2 = hop(a2, h1, NULL, &cv);
		pass += cv == ARC_CV_PASS;
		fail += cv == ARC_CV_FAIL;
		free(m);
		free(h1);
		free(h2);
	}
	CU_ASSERT_EQUAL(pass, N - K);
	CU_ASSERT_EQUAL(fail, K);
	/* sealed by a domain only DNS knows: the lookup times out */
	m = message(100);
	h1 = hop(a1, m, "timeout.example", NULL);
	h2 = hop(a3, h1, NULL, &cv);
	CU_ASSERT_EQUAL(cv, ARC_CV_FAIL);
	free(m);
	free(h1);
	free(h2);
	arc_stats_take(s1);

	CU_ASSERT_EQUAL(d(s0, s1, ARC_ST_CV_NONE), N + 1);
	CU_ASSERT_EQUAL(d(s0, s1, ARC_ST_CV_PASS), N - K);
	CU_ASSERT_EQUAL(d(s0, s1, ARC_ST_CV_FAIL), K + 1);
	CU_ASSERT_EQUAL(d(s0, s1, ARC_ST_FAIL_BODY_HASH), K);
	CU_ASSERT_EQUAL(d(s0, s1, ARC_ST_FAIL_DNS_TIMEOUT), 1);
	CU_ASSERT_EQUAL(d(s0, s1, ARC_ST_FAIL_SIGNATURE), 0);
	CU_ASSERT_EQUAL(d(s0, s1, ARC_ST_FAIL_STRUCTURE), 0);
	/* hop 1: N + 1; hop 2: N (a cv=fail chain is sealed as such);
	 * hop 3 holds the temporary failure back, unsealed */
	CU_ASSERT_EQUAL(d(s0, s1, ARC_ST_SEALED), 2 * N + 1);
	CU_ASSERT_EQUAL(d(s0, s1, ARC_ST_INTERNAL_ERRORS), 0);
	CU_ASSERT_EQUAL(d(s0, s1, ARC_ST_PASSTHROUGH), 0);
	/* one key per verified message; hop 2 keeps its key cached */
	CU_ASSERT_EQUAL(d(s0, s1, ARC_ST_NMSG + ARC_STAT_KEY_LOOKUPS), N + 1);
	CU_ASSERT_EQUAL(d(s0, s1, ARC_ST_NMSG + ARC_STAT_KEY_CACHE_HITS),
	    N - 1);
	CU_ASSERT_EQUAL(d(s0, s1, ARC_ST_NMSG + ARC_STAT_DNS_QUERIES), 1);
	CU_ASSERT_EQUAL(d(s0, s1, ARC_ST_NMSG + ARC_STAT_DNS_TIMEOUTS), 1);
	CU_ASSERT_EQUAL(d(s0, s1, ARC_ST_NMSG + ARC_STAT_DNS_SERVFAILS), 0);
	/* chains of one set: N - K pass, K + 1 fail */
	CU_ASSERT_EQUAL(s1->chain[0][1] - s0->chain[0][1], N - K);
	CU_ASSERT_EQUAL(s1->chain[0][0] - s0->chain[0][0], 0);
	CU_ASSERT_EQUAL(s1->chain[1][1] - s0->chain[1][1], K + 1);
	CU_ASSERT_EQUAL(s1->oldest[0] - s0->oldest[0], N - K);
	CU_ASSERT_EQUAL(d(s0, s1, ARC_ST_SETS_SAME), N + 1);
	CU_ASSERT_EQUAL(d(s0, s1, ARC_ST_SEALER_OBSERVATIONS), N + 1);
	/* every verdict timed, every seal timed */
	CU_ASSERT_EQUAL(s1->lat[ARC_LAT_VERIFY][ARC_ST_NLAT] -
	    s0->lat[ARC_LAT_VERIFY][ARC_ST_NLAT], 2 * N + 2);
	CU_ASSERT_EQUAL(s1->lat[ARC_LAT_SEAL][ARC_ST_NLAT] -
	    s0->lat[ARC_LAT_SEAL][ARC_ST_NLAT], 2 * N + 1);
	/* CPU time: a sample of them */
	CU_ASSERT(s1->lat[ARC_LAT_SEAL_CPU][ARC_ST_NLAT] -
	    s0->lat[ARC_LAT_SEAL_CPU][ARC_ST_NLAT] <= 2 * N + 1);
	/* the resolver's 300 ms, but for what passed between the end of
	 * the header (the lookup starts there) and the end of the message */
	CU_ASSERT(s1->lat_sum_ns[ARC_LAT_VERIFY] -
	    s0->lat_sum_ns[ARC_LAT_VERIFY] >= 200000000ull);
	for (t = 0; t < s1->ntop; t++)
		if (strcmp(s1->top[t].name, "seal.example") == 0)
			break;
	CU_ASSERT_FATAL(t < s1->ntop);
	CU_ASSERT(s1->top[t].count >= N);
	arc_adapter_free(a1);
	arc_adapter_free(a2);
	arc_adapter_free(a3);
	arc_conf_free(c1);
	arc_conf_free(c2);
	arc_conf_free(c3);
	close(bh);
	free(s0);
	free(s1);
}

/* ---- every kind of failure, from real failures ------------------------ */

static int
kind_of(arc_adapter *ad, const char *msg)
{
	arc_session_params	 p = { 0 };
	arc_session		*ss;
	const arc_actions	*a;
	int			 k = -1;

	p.seal = 0;
	CU_ASSERT_PTR_NOT_NULL_FATAL(ss = arc_session_create(ad, &p));
	(void)arc_session_feed(ss, msg, strlen(msg));
	(void)arc_session_wait(ss);
	a = arc_session_actions(ss);
	CU_ASSERT_EQUAL(a->cv, ARC_CV_FAIL);
	if (a->cv == ARC_CV_FAIL)
		k = arc_stats_fail_kind(a->reason);
	if (k < 0 || a->cv != ARC_CV_FAIL)
		fprintf(stderr, "\n  no failure: %s\n", a->summary);
	arc_session_free(ss);
	return k;
}

static char *
cut_field(char *m, const char *name)
{
	char	*p = strstr(m, name), *e;

	CU_ASSERT_PTR_NOT_NULL_FATAL(p);
	/* through the end of the (folded) field */
	for (e = p; (e = strstr(e, "\r\n")) != NULL && (e[2] == ' ' ||
	    e[2] == '\t'); e += 2)
		;
	CU_ASSERT_PTR_NOT_NULL_FATAL(e);
	memmove(p, e + 2, strlen(e + 2) + 1);
	return m;
}

static void
test_fail_kinds(void)
{
	arc_conf	*c1, *cv, *cl, *cs;
	arc_adapter	*a1, *av, *al, *as;
	arc_stats_snap	*s0 = malloc(sizeof(*s0)), *s1 = malloc(sizeof(*s1));
	char		*m = message(7), *h, *t, fwd[64];
	int		 fd, port;
	pthread_t	 th;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s0 && s1);
	c1 = conf_text("authserv-id hop1.example\nkey-table %s\ndns no\n"
	    "seal-domain seal.example\nseal-selector s1\nseal-key %s\n",
	    keytable, keyfile);
	cv = conf_text("authserv-id v.example\nkey-table %s\nkey-table %s\n"
	    "dns no\n", keytable, badkeys);
	cl = conf_text("authserv-id v.example\nkey-table %s\ndns no\n"
	    "max-header-fields 5\n%s", keytable, NULL);
	CU_ASSERT_FATAL((fd = udp_socket(&port)) != -1);
	snprintf(fwd, sizeof(fwd), "127.0.0.1@%d", port);
	cs = conf_text("authserv-id v.example\nkey-table %s\n"
	    "dns-forwarder %s\ndns-timeout 3000\n", keytable, fwd);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c1 && cv && cl && cs);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a1 = adapter(c1));
	CU_ASSERT_PTR_NOT_NULL_FATAL(av = adapter(cv));
	CU_ASSERT_PTR_NOT_NULL_FATAL(al = adapter(cl));
	CU_ASSERT_PTR_NOT_NULL_FATAL(as = adapter(cs));
	arc_stats_take(s0);

	h = hop(a1, m, NULL, NULL);
	t = strdup(h);
	*strstr(t, "Hello,") = 'J';
	CU_ASSERT_EQUAL(kind_of(av, t), ARC_FAIL_BODY_HASH);
	free(t);
	t = strdup(h);
	*strstr(t, "metrics test") = 'M';	/* a signed header field */
	CU_ASSERT_EQUAL(kind_of(av, t), ARC_FAIL_SIGNATURE);
	free(t);
	/* the AAR is signed by the ARC-Seal alone (RFC 8617 11.3.1) */
	t = strdup(h);
	*strstr(t, "hop1.example;") = 'H';
	CU_ASSERT_EQUAL(kind_of(av, t), ARC_FAIL_SIGNATURE);
	free(t);
	t = cut_field(strdup(h), "ARC-Message-Signature:");
	CU_ASSERT_EQUAL(kind_of(av, t), ARC_FAIL_STRUCTURE);
	free(t);
	CU_ASSERT_EQUAL(kind_of(al, h), ARC_FAIL_LIMIT);
	free(h);
	h = hop(a1, m, "missing.example", NULL);
	CU_ASSERT_EQUAL(kind_of(av, h), ARC_FAIL_KEY_MISSING);
	/* again: the cache says there is none */
	CU_ASSERT_EQUAL(kind_of(av, h), ARC_FAIL_KEY_MISSING);
	free(h);
	h = hop(a1, m, "bad.example", NULL);
	CU_ASSERT_EQUAL(kind_of(av, h), ARC_FAIL_KEY_INVALID);
	free(h);
	/* a resolver that answers SERVFAIL */
	servfail_stop = 0;
	CU_ASSERT_FATAL(pthread_create(&th, NULL, servfail_run, &fd) == 0);
	h = hop(a1, m, "servfail.example", NULL);
	CU_ASSERT_EQUAL(kind_of(as, h), ARC_FAIL_DNS_ERROR);
	free(h);
	servfail_stop = 1;
	pthread_join(th, NULL);
	close(fd);
	arc_stats_take(s1);
	CU_ASSERT_EQUAL(d(s0, s1, ARC_ST_SEAL_ONLY_FAILURES), 1);
	CU_ASSERT(d(s0, s1, ARC_ST_NMSG + ARC_STAT_DNS_SERVFAILS) >= 1);
	CU_ASSERT_EQUAL(d(s0, s1, ARC_ST_NMSG + ARC_STAT_DNS_TIMEOUTS), 0);
	CU_ASSERT_EQUAL(d(s0, s1, ARC_ST_NMSG + ARC_STAT_KEY_NEGATIVE_HITS),
	    1);
	CU_ASSERT_EQUAL(d(s0, s1, ARC_ST_FAIL_LIMIT), 1);
	/* the texts nobody produced here */
	CU_ASSERT_EQUAL(arc_stats_fail_kind("AMS i=2 d=a.example s=s: key "
	    "lookup timed out"), ARC_FAIL_DNS_TIMEOUT);
	CU_ASSERT_EQUAL(arc_stats_fail_kind("set i=2 has more than one "
	    "ARC-Seal"), ARC_FAIL_STRUCTURE);
	CU_ASSERT_EQUAL(arc_stats_fail_kind("more than 50 ARC sets"),
	    ARC_FAIL_LIMIT);
	CU_ASSERT_EQUAL(arc_stats_fail_kind("AS i=2: missing tag d="),
	    ARC_FAIL_STRUCTURE);
	CU_ASSERT_EQUAL(arc_stats_fail_kind("AS i=1 d=a.example s=s: the "
	    "key table /etc/k is empty"), ARC_FAIL_KEY_MISSING);
	CU_ASSERT_EQUAL(arc_stats_fail_kind("AS i=1 d=a.example s=s: "
	    "malformed TXT record"), ARC_FAIL_KEY_INVALID);
	CU_ASSERT_EQUAL(arc_stats_fail_kind("AMS i=1 d=a.example s=s: "
	    "DNS error: SERVFAIL"), ARC_FAIL_DNS_ERROR);
	CU_ASSERT_EQUAL(arc_stats_fail_kind("AMS i=1 d=a.example s=s: "
	    "signature did not verify"), ARC_FAIL_SIGNATURE);
	free(m);
	arc_adapter_free(a1);
	arc_adapter_free(av);
	arc_adapter_free(al);
	arc_adapter_free(as);
	arc_conf_free(c1);
	arc_conf_free(cv);
	arc_conf_free(cl);
	arc_conf_free(cs);
	free(s0);
	free(s1);
}

/* CPU time is read for one stage in ARC_ST_CPU_SAMPLE (a system call
 * each), the wall time for all. */
static void
test_cpu_sampling(void)
{
	arc_stats_snap	*s0 = malloc(sizeof(*s0)), *s1 = malloc(sizeof(*s1));
	arc_actions	 a = { 0 };
	uint64_t	 wall, cpu;
	enum { M = 2000 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(s0 && s1);
	a.error = 1;
	arc_stats_take(s0);
	for (int i = 0; i < M; i++) {
		arc_stats_span v = { 0 }, sl = { 0 };

		arc_stats_span_enter(&v);
		arc_stats_span_leave(&v);
		arc_stats_span_enter(&sl);
		arc_stats_span_enter(&sl);	/* nested: read once */
		arc_stats_span_leave(&sl);
		arc_stats_span_leave(&sl);
		CU_ASSERT_EQUAL(sl.depth, 0);
		arc_stats_message(NULL, &a, &v, &sl);
	}
	arc_stats_take(s1);
	wall = s1->lat[ARC_LAT_SEAL][ARC_ST_NLAT] -
	    s0->lat[ARC_LAT_SEAL][ARC_ST_NLAT];
	cpu = s1->lat[ARC_LAT_SEAL_CPU][ARC_ST_NLAT] -
	    s0->lat[ARC_LAT_SEAL_CPU][ARC_ST_NLAT];
	printf("\n  CPU time read for %llu of %d seal and %llu of %d verify "
	    "stages\n", (unsigned long long)cpu, M,
	    (unsigned long long)(s1->lat[ARC_LAT_VERIFY_CPU][ARC_ST_NLAT] -
	    s0->lat[ARC_LAT_VERIFY_CPU][ARC_ST_NLAT]), M);
	CU_ASSERT_EQUAL(wall, M);
	/* 250 expected (clock readings in a tight loop are correlated,
	 * 170..300 seen); outside [62, 500] only if sampling broke */
	CU_ASSERT(cpu >= M / ARC_ST_CPU_SAMPLE / 4 &&
	    cpu <= M / ARC_ST_CPU_SAMPLE * 2);
	CU_ASSERT_EQUAL(d(s0, s1, ARC_ST_INTERNAL_ERRORS), M);
	CU_ASSERT_EQUAL(d(s0, s1, ARC_ST_PASSTHROUGH), M);
	free(s0);
	free(s1);
}

/* ---- the exposition -------------------------------------------------- */

static void
fill(arc_stats_snap *s, unsigned seed, size_t ntop)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < ARC_ST_NCOUNTERS; i++)
		s->count[i] = seed * 1000u + (unsigned)i;
	for (int i = 0; i < ARC_ST_MAXSETS + 2; i++) {
		s->chain[0][i] = seed + (unsigned)i / 3;
		s->chain[1][i] = (unsigned)i;
		s->oldest[i] = 7;
	}
	for (int w = 0; w < ARC_LAT_N; w++) {
		for (int i = 0; i <= ARC_ST_NLAT; i++)
			s->lat[w][i] = (unsigned)(i * (w + 1));
		s->lat_sum_ns[w] = 1234567891ull * (unsigned)(w + 1);
	}
	s->chain_sum[0] = 99;
	s->oldest_sum = 3;
	s->ntop = ntop;
	for (size_t i = 0; i < ntop; i++) {
		snprintf(s->top[i].name, sizeof(s->top[i].name),
		    "sealer-%zu.example", i);
		s->top[i].count = 1000 - i;
		s->top[i].error = i % 3;
	}
}

static void
test_exposition(void)
{
	arc_stats_snap	*a = malloc(sizeof(*a)), *b = malloc(sizeof(*b));
	char		*text, *bad, err[200];
	size_t		 len;

	CU_ASSERT_PTR_NOT_NULL_FATAL(a && b);
	fill(a, 3, ARC_ST_TOPN);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text = arc_stats_render(a, &len));
	CU_ASSERT(len > 10 && strcmp(text + len - 6, "# EOF\n") == 0);
	CU_ASSERT_EQUAL(arc_stats_parse(text, len, b, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(memcmp(a, b, sizeof(*a)), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(text,
	    "arc_messages_total{cv=\"pass\"} 3001\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "# TYPE arc_verify_seconds "
	    "histogram\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text,
	    "arc_verify_seconds_sum 1.234567891\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text,
	    "arc_chain_length_bucket{cv=\"fail\",le=\"+Inf\"} 51\n"));
	/* every cut is refused: never half-read */
	for (size_t cut = 0; cut < len; cut += 97)
		CU_ASSERT_EQUAL(arc_stats_parse(text, cut, b, err,
		    sizeof(err)), -1);
	CU_ASSERT_EQUAL(arc_stats_parse(text, len - 1, b, err, sizeof(err)),
	    -1);
	/* the strict grammar */
	bad = strdup(text);
	*strstr(bad, " 3001\n") = '\t';
	CU_ASSERT_EQUAL(arc_stats_parse(bad, len, b, err, sizeof(err)), -1);
	free(bad);
	bad = strdup(text);
	memcpy(strstr(bad, "arc_messages_total{cv=\"pass\"}"), "arc_massages",
	    12);
	CU_ASSERT_EQUAL(arc_stats_parse(bad, len, b, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "unknown series"));
	free(bad);
	bad = strdup(text);
	*strstr(bad, "cv=\"pass\"} 3001") = 'x';
	CU_ASSERT_EQUAL(arc_stats_parse(bad, len, b, err, sizeof(err)), -1);
	free(bad);
	CU_ASSERT_EQUAL(arc_stats_parse("arc_key_lookups_total 1\n"
	    "arc_key_lookups_total 1\n# EOF\n", 56, b, err, sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "duplicate"));
	/* adding up */
	fill(b, 1, 10);
	arc_stats_snap_add(b, a);
	CU_ASSERT_EQUAL(b->count[5], 4000u + 10);
	CU_ASSERT_EQUAL(b->lat_sum_ns[0], 2 * 1234567891ull);
	CU_ASSERT_EQUAL(b->ntop, ARC_ST_TOPN);
	CU_ASSERT_STRING_EQUAL(b->top[0].name, "sealer-0.example");
	CU_ASSERT_EQUAL(b->top[0].count, 2000u);
	arc_stats_snap_sub(b, a);
	CU_ASSERT_EQUAL(b->count[5], 1005u);
	free(text);
	free(a);
	free(b);
}

/* The test of what promtool or a scraper would see: the live text. */
static void
test_exposition_names(void)
{
	arc_stats_snap	*s = malloc(sizeof(*s));
	char		*text, path[320], err[256];
	size_t		 len;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	arc_stats_take(s);
	CU_ASSERT_PTR_NOT_NULL_FATAL(text = arc_stats_render(s, &len));
	/* privacy: no sender or recipient ever in a label */
	CU_ASSERT_PTR_NULL(strstr(text, "@"));
	CU_ASSERT_PTR_NULL(strstr(text, "origin.example"));
	CU_ASSERT_PTR_NULL(strstr(text, "list@"));
	/* for tests/metrics/promtool.sh */
	snprintf(path, sizeof(path), "%s/live.prom", dir);
	CU_ASSERT_EQUAL(arc_stats_write_file(path, text, len, err,
	    sizeof(err)), 0);
	if (getenv("ARC_STATS_SAMPLE"))
		(void)arc_stats_write_file(getenv("ARC_STATS_SAMPLE"), text,
		    len, err, sizeof(err));
	free(text);
	free(s);
}

/* ---- atomic replacement: a reader never sees half a file ------------ */

static int
reader(const char *path, int rounds)
{
	arc_stats_snap	*s = malloc(sizeof(*s));
	static char	 buf[1 << 17];
	char		 err[200];
	int		 bad = 0, seen = 0;

	for (int i = 0; i < rounds; i++) {
		FILE	*fp = fopen(path, "r");
		size_t	 n;

		if (fp == NULL)
			continue;
		n = fread(buf, 1, sizeof(buf), fp);
		fclose(fp);
		seen++;
		if (arc_stats_parse(buf, n, s, err, sizeof(err)) != 0) {
			fprintf(stderr, "reader: %s\n", err);
			bad++;
		}
	}
	free(s);
	return bad ? 1 : seen > 0 ? 0 : 2;
}

static void
test_atomic_file(void)
{
	arc_stats_snap	*s = malloc(sizeof(*s));
	char		 path[320], err[256], *text;
	size_t		 len;
	pid_t		 pid;
	int		 st, i;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	snprintf(path, sizeof(path), "%s/atomic.prom", dir);
	fill(s, 0, 0);
	text = arc_stats_render(s, &len);
	CU_ASSERT_EQUAL_FATAL(arc_stats_write_file(path, text, len, err,
	    sizeof(err)), 0);
	free(text);
	if ((pid = fork()) == 0) {
		free(s);
		_exit(reader(path, 3000));
	}
	CU_ASSERT_FATAL(pid > 0);
	/* sizes change with the top list: 2 to 30 KB */
	for (i = 0; waitpid(pid, &st, WNOHANG) == 0; i++) {
		fill(s, (unsigned)i, (size_t)(i % (ARC_ST_TOPN + 1)));
		text = arc_stats_render(s, &len);
		CU_ASSERT_EQUAL(arc_stats_write_file(path, text, len, err,
		    sizeof(err)), 0);
		free(text);
	}
	CU_ASSERT(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	CU_ASSERT(i > 100);
	printf("\n  atomic: %d writes during the reader's 3000 reads\n", i);
	free(s);
}

/* ---- bounded memory: 1 000 000 distinct sealers ---------------------- */

static void
test_sketch_memory(void)
{
	arc_sketch	*sk;
	arc_sketch_item	 top[ARC_ST_TOPN];
	struct mallinfo2 m0, m1, m2;
	char		 name[64];
	size_t		 n, i;
	uint64_t	 hot[3] = { 0 };

	m0 = mallinfo2();
	CU_ASSERT_PTR_NOT_NULL_FATAL(sk = arc_sketch_create(ARC_ST_SKETCH_K));
	m1 = mallinfo2();
	for (i = 0; i < 1000000; i++) {
		n = (size_t)snprintf(name, sizeof(name), "d%07zu.example", i);
		CU_ASSERT_EQUAL(arc_sketch_add(sk, name, n), 0);
		/* three heavy hitters among them */
		if (i % 10 == 0) {
			CU_ASSERT_EQUAL(arc_sketch_add(sk, "big.example", 11),
			    0);
			hot[0]++;
		}
		if (i % 50 == 0) {
			arc_sketch_add(sk, "list.example", 12);
			hot[1]++;
		}
		if (i % 200 == 0) {
			arc_sketch_add(sk, "fwd.example", 11);
			hot[2]++;
		}
	}
	m2 = mallinfo2();
	printf("\n  sketch: %zu bytes (k=%u), heap grew %zu bytes while "
	    "creating it, %zu bytes over 1000000 domains\n",
	    arc_sketch_bytes(sk), ARC_ST_SKETCH_K, m1.uordblks - m0.uordblks,
	    m2.uordblks - m1.uordblks);
	CU_ASSERT_EQUAL(m2.uordblks, m1.uordblks);
	CU_ASSERT(arc_sketch_bytes(sk) < 400 * 1024);
	CU_ASSERT_EQUAL(arc_sketch_top(sk, top, 3), 3);
	CU_ASSERT_STRING_EQUAL(top[0].name, "big.example");
	CU_ASSERT_STRING_EQUAL(top[1].name, "list.example");
	CU_ASSERT_STRING_EQUAL(top[2].name, "fwd.example");
	for (i = 0; i < 3; i++) {
		CU_ASSERT(top[i].count >= hot[i]);
		CU_ASSERT(top[i].count - top[i].error <= hot[i]);
	}
	arc_sketch_free(sk);
}

/* ---- Exim: merged by processes that come and go ---------------------- */

static void
count_messages(arc_adapter *ad, int n)
{
	for (int i = 0; i < n; i++) {
		char *m = message(i), *h = hop(ad, m, NULL, NULL);

		free(m);
		free(h);
	}
}

static void
test_merge(void)
{
	arc_conf	*c, *none;
	arc_adapter	*ad;
	arc_stats_snap	*s = malloc(sizeof(*s));
	char		 path[320], err[256], *text = NULL;
	FILE		*fp;
	size_t		 len;
	pid_t		 pid[4];
	int		 st, i;
	uint64_t	 before;

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	snprintf(path, sizeof(path), "%s/exim.prom", dir);
	c = conf_text("authserv-id m.example\nkey-table %s\ndns no\n"
	    "metrics-file %s\nmetrics-interval 0\n", keytable, path);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ad = adapter(c));
	CU_ASSERT_EQUAL_FATAL(arc_stats_configure(c, ARC_STATS_MERGE, err,
	    sizeof(err)), 0);
	/* configuring wrote what this process counted so far */
	CU_ASSERT_PTR_NOT_NULL_FATAL(text = malloc(1 << 17));
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp = fopen(path, "r"));
	len = fread(text, 1, 1 << 17, fp);
	fclose(fp);
	CU_ASSERT_EQUAL_FATAL(arc_stats_parse(text, len, s, err, sizeof(err)),
	    0);
	before = s->count[ARC_ST_CV_NONE];
	/* counted before the fork, written by the parent only */
	count_messages(ad, 2);
	for (i = 0; i < 4; i++)
		if ((pid[i] = fork()) == 0) {
			for (int j = 0; j < 25; j++) {
				count_messages(ad, 1);
				if (arc_stats_tick(time(NULL), err,
				    sizeof(err)) != 0) {
					fprintf(stderr, "child: %s\n", err);
					_exit(1);
				}
			}
			count_messages(ad, 1);	/* written at exit */
			exit(0);
		}
	for (i = 0; i < 4; i++) {
		CU_ASSERT(waitpid(pid[i], &st, 0) == pid[i] &&
		    WIFEXITED(st) && WEXITSTATUS(st) == 0);
	}
	CU_ASSERT_EQUAL(arc_stats_flush(err, sizeof(err)), 0);
	CU_ASSERT_PTR_NOT_NULL_FATAL(fp = fopen(path, "r"));
	len = fread(text, 1, 1 << 17, fp);
	fclose(fp);
	CU_ASSERT_EQUAL(arc_stats_parse(text, len, s, err, sizeof(err)), 0);
	/* 2 + 4 * 26, nothing counted twice */
	CU_ASSERT_EQUAL(s->count[ARC_ST_CV_NONE] - before, 2 + 4 * 26);
	free(text);
	/* no more output from this process */
	none = conf_text("dns no\n%s%s", NULL, NULL);
	CU_ASSERT_EQUAL(arc_stats_configure(none, ARC_STATS_REPLACE, err,
	    sizeof(err)), 0);
	/* an unwritable place is a configuration error naming it */
	CU_ASSERT_EQUAL(arc_conf_set(c, "metrics-file", "/nonexistent/x.prom",
	    err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(arc_stats_configure(c, ARC_STATS_REPLACE, err,
	    sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "/nonexistent/x.prom"));
	CU_ASSERT_EQUAL(arc_stats_configure(none, ARC_STATS_REPLACE, err,
	    sizeof(err)), 0);
	arc_adapter_free(ad);
	arc_conf_free(c);
	arc_conf_free(none);
	free(s);
}

/* ---- HTTP ------------------------------------------------------------ */

static char *
http_get(int fd, const char *req)
{
	static char	 buf[1 << 17];
	size_t		 n = 0;
	ssize_t		 r;

	if (write(fd, req, strlen(req)) != (ssize_t)strlen(req))
		return NULL;
	while (n < sizeof(buf) - 1 && (r = read(fd, buf + n,
	    sizeof(buf) - 1 - n)) > 0)
		n += (size_t)r;
	buf[n] = '\0';
	close(fd);
	return buf;
}

static int
connect_tcp(int port)
{
	struct sockaddr_in	 a = { 0 };
	int			 fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static void
test_http(void)
{
	arc_conf	*c;
	arc_stats_snap	*s = malloc(sizeof(*s));
	char		 spec[64], err[256], *r, *body, sock[320];
	int		 port, fd, idle[10];
	struct sockaddr_un un = { 0 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	/* a free port: bind, note, close */
	CU_ASSERT_FATAL((fd = udp_socket(&port)) != -1);
	close(fd);
	snprintf(spec, sizeof(spec), "127.0.0.1:%d", port);
	c = conf_text("dns no\nmetrics-listen %s\n%s", spec, NULL);
	CU_ASSERT_PTR_NOT_NULL_FATAL(c);
	CU_ASSERT_EQUAL_FATAL(arc_metrics_start(c, quiet_log, NULL, err,
	    sizeof(err)), 0);
	/* more idle clients than it serves at once: it still answers */
	for (int i = 0; i < 10; i++)
		idle[i] = connect_tcp(port);
	usleep(200000);
	CU_ASSERT_FATAL((fd = connect_tcp(port)) != -1);
	r = http_get(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	CU_ASSERT_PTR_NOT_NULL_FATAL(r);
	if (strncmp(r, "HTTP/1.0 200 OK\r\n", 17) != 0) {
		/* the 8 slots were busy with idle clients: wait them out */
		sleep(3);
		CU_ASSERT_FATAL((fd = connect_tcp(port)) != -1);
		r = http_get(fd, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	}
	CU_ASSERT_EQUAL(strncmp(r, "HTTP/1.0 200 OK\r\n", 17), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(r, "version=0.0.4"));
	CU_ASSERT_PTR_NOT_NULL_FATAL(body = strstr(r, "\r\n\r\n"));
	body += 4;
	CU_ASSERT_EQUAL(arc_stats_parse(body, strlen(body), s, err,
	    sizeof(err)), 0);
	for (int i = 0; i < 10; i++)
		if (idle[i] != -1)
			close(idle[i]);
	CU_ASSERT_FATAL((fd = connect_tcp(port)) != -1);
	r = http_get(fd, "GET /other HTTP/1.0\r\n\r\n");
	CU_ASSERT_EQUAL(strncmp(r, "HTTP/1.0 404", 12), 0);
	CU_ASSERT_FATAL((fd = connect_tcp(port)) != -1);
	r = http_get(fd, "POST /metrics HTTP/1.0\r\n\r\n");
	CU_ASSERT_EQUAL(strncmp(r, "HTTP/1.0 405", 12), 0);
	arc_metrics_stop();
	arc_conf_free(c);

	/* a unix socket */
	snprintf(sock, sizeof(sock), "unix:%s/metrics.sock", dir);
	c = conf_text("dns no\nmetrics-listen %s\n%s", sock, NULL);
	CU_ASSERT_EQUAL_FATAL(arc_metrics_start(c, quiet_log, NULL, err,
	    sizeof(err)), 0);
	un.sun_family = AF_UNIX;
	CU_ASSERT_FATAL(strlen(sock + 5) < sizeof(un.sun_path));
	memcpy(un.sun_path, sock + 5, strlen(sock + 5) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	CU_ASSERT_FATAL(connect(fd, (struct sockaddr *)&un, sizeof(un)) == 0);
	r = http_get(fd, "GET / HTTP/1.0\r\n\r\n");
	CU_ASSERT_EQUAL(strncmp(r, "HTTP/1.0 200 OK\r\n", 17), 0);
	arc_metrics_stop();
	arc_conf_free(c);
	/* not loopback: refused */
	c = conf_text("dns no\nmetrics-listen 0.0.0.0:9999\n%s%s", NULL, NULL);
	CU_ASSERT_EQUAL(arc_metrics_start(c, quiet_log, NULL, err,
	    sizeof(err)), -1);
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "metrics-listen"));
	arc_conf_free(c);
	free(s);
}

int
main(void)
{
	static const cunit_test tests[] = {
		{ "counters after n messages, k tampered, a DNS timeout",
		    test_counts_after_run },
		{ "the kind of every failure", test_fail_kinds },
		{ "CPU time sampled, wall time always", test_cpu_sampling },
		{ "exposition round trip and strict parser", test_exposition },
		{ "live exposition: no identifiers", test_exposition_names },
		{ "the file is never half-written", test_atomic_file },
		{ "bounded memory with 1000000 sealers", test_sketch_memory },
		{ "merging across processes (Exim)", test_merge },
		{ "HTTP responder", test_http },
		{ NULL, NULL }
	};

	return cunit_run("stats", setup, teardown, tests);
}
