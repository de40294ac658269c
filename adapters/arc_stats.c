/*
 * arc_stats.c - recording: the process-wide counters, histograms and
 * sealer sketch, what one message adds to them, and snapshots of them
 * (see arc_stats.h).  Rendering and parsing are in arc_stats_expo.c,
 * the file output in arc_stats_out.c.
 */
#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "arc_stats.h"

static const double lat_bounds[ARC_ST_NLAT] = {
	0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1, 2.5, 5, 10
};

const double *
arc_stats_lat_bounds(void)
{
	return lat_bounds;
}

/* Non-cumulative here (one increment per value); arc_stats_take()
 * accumulates.  Every access is a relaxed __atomic operation. */
static struct {
	uint64_t	count[ARC_ST_NCOUNTERS];
	uint64_t	chain[2][ARC_ST_MAXSETS + 1], chain_sum[2];
	uint64_t	oldest[ARC_ST_MAXSETS + 1], oldest_sum;
	uint64_t	lat[ARC_LAT_N][ARC_ST_NLAT + 1], lat_sum_ns[ARC_LAT_N];
} live;

static pthread_mutex_t	 sk_lock = PTHREAD_MUTEX_INITIALIZER;
static arc_sketch	*sk;		/* made on first use, kept */
static int		 sk_failed;

static void
inc(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static uint64_t
get(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

void
arc_stats_attach(arc_lib *lib)
{
	arc_lib_set_stats(lib, (unsigned long long *)&live.count[ARC_ST_NMSG]);
}

void
arc_stats_passthrough(void)
{
	inc(&live.count[ARC_ST_PASSTHROUGH], 1);
}

/* ---- spans ------------------------------------------------------------- */

static long long
ns_between(const struct timespec *a, const struct timespec *b)
{
	return (long long)(b->tv_sec - a->tv_sec) * 1000000000LL +
	    (b->tv_nsec - a->tv_nsec);
}

void
arc_stats_span_enter(arc_stats_span *s)
{
	if (!s->used) {
		clock_gettime(CLOCK_MONOTONIC, &s->wall0);
		s->used = 1;
		/* one in ARC_ST_CPU_SAMPLE, by a hash of the clock's
		 * nanoseconds: no counter that a fixed pattern of stages
		 * (verify, seal, verify, ...) could always hit the same way,
		 * and no shared state */
		s->cpu = ((uint32_t)s->wall0.tv_nsec * 2654435761u) >> 16 &
		    (ARC_ST_CPU_SAMPLE - 1) ? 0 : 1;
	}
	if (s->depth++ == 0 && s->cpu)
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &s->cpu0);
}

void
arc_stats_span_leave(arc_stats_span *s)
{
	struct timespec	 now;
	long long	 d;

	if (!s->used || s->depth <= 0 || --s->depth > 0)
		return;
	if (s->cpu) {
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
		if ((d = ns_between(&s->cpu0, &now)) > 0)
			s->cpu_ns += d;
	}
	clock_gettime(CLOCK_MONOTONIC, &s->wall1);
}

static void
lat_add(int which, long long ns)
{
	int	 i;

	if (ns < 0)
		ns = 0;
	for (i = 0; i < ARC_ST_NLAT; i++)
		if ((double)ns <= lat_bounds[i] * 1e9)
			break;
	inc(&live.lat[which][i], 1);
	inc(&live.lat_sum_ns[which], (uint64_t)ns);
}

static void
span_add(const arc_stats_span *s, int wall, int cpu)
{
	if (s == NULL || !s->used)
		return;
	lat_add(wall, ns_between(&s->wall0, &s->wall1));
	if (s->cpu)
		lat_add(cpu, s->cpu_ns);
}

/* ---- the verdict ----------------------------------------------------- */

static int
has(const char *s, const char *what)
{
	return strstr(s, what) != NULL;
}

/* "AMS i=N d=" or "AS i=N d=": a signature was checked and failed */
static int
signature_reason(const char *r)
{
	if (strncmp(r, "AMS i=", 6) == 0)
		r += 6;
	else if (strncmp(r, "AS i=", 5) == 0)
		r += 5;
	else
		return 0;
	if (!isdigit((unsigned char)*r))
		return 0;
	while (isdigit((unsigned char)*r))
		r++;
	return strncmp(r, " d=", 3) == 0;
}

/* The core's reasons are fixed texts (core/arc_verify.c, arc_msg.c, the
 * key record parser in arc_keys.c and the resolver's in arc_dns.c);
 * tests/test_stats.c checks this mapping on real failures of each kind,
 * so a reworded reason fails a test rather than moving a count. */
int
arc_stats_fail_kind(const char *r)
{
	if (r == NULL)
		return ARC_FAIL_STRUCTURE;
	if (has(r, "distinct keys") || has(r, "too many") ||
	    has(r, "size limit") || (has(r, "more than") &&
	    has(r, "ARC sets")))
		return ARC_FAIL_LIMIT;
	if (has(r, "timed out") || has(r, "DNS timeout"))
		return ARC_FAIL_DNS_TIMEOUT;
	if (has(r, "DNS error") || has(r, "DNS resolver error") ||
	    has(r, "DNSSEC") || has(r, "could not start"))
		return ARC_FAIL_DNS_ERROR;
	if (has(r, "body hash") || has(r, "l= is longer"))
		return ARC_FAIL_BODY_HASH;
	if (has(r, "no key record") || has(r, "key revoked") ||
	    has(r, "no key source") || has(r, "key table") ||
	    has(r, "invalid key name"))
		return ARC_FAIL_KEY_MISSING;
	if (has(r, "key record") || has(r, "TXT record") ||
	    has(r, "RSA key of") || has(r, "key type"))
		return ARC_FAIL_KEY_INVALID;
	if (signature_reason(r))
		return ARC_FAIL_SIGNATURE;
	return ARC_FAIL_STRUCTURE;
}

/* A sealer's d= as a label value: a plain LDH name in lower case
 * (underscores too), else NULL. */
static size_t
sealer_name(const char *d, char *out)
{
	size_t	 n = 0;

	for (; *d; d++) {
		unsigned char c = (unsigned char)*d;

		if (n >= ARC_SKETCH_NAMELEN || !(isalnum(c) || c == '.' ||
		    c == '-' || c == '_'))
			return 0;
		out[n++] = (char)tolower(c);
	}
	out[n] = '\0';
	return n;
}

static void
count_sealers(const arc_msg *m, int n)
{
	char	 names[ARC_ST_MAXSETS][ARC_SKETCH_NAMELEN + 1];
	size_t	 len[ARC_ST_MAXSETS];
	int	 k = 0, i, j;

	for (i = n; i >= 1 && k < ARC_ST_MAXSETS; i--) {
		const arc_set_info *si = arc_msg_set(m, i);

		if (si == NULL || si->as_domain == NULL)
			continue;
		if ((len[k] = sealer_name(si->as_domain, names[k])) == 0)
			len[k] = (size_t)snprintf(names[k], sizeof(names[k]),
			    "invalid");
		for (j = 0; j < k; j++)	/* once per message */
			if (len[j] == len[k] && memcmp(names[j], names[k],
			    len[k]) == 0)
				break;
		if (j == k)
			k++;
	}
	if (k == 0)
		return;
	inc(&live.count[ARC_ST_SEALER_OBSERVATIONS], (uint64_t)k);
	pthread_mutex_lock(&sk_lock);
	if (sk == NULL && !sk_failed && (sk = arc_sketch_create(
	    ARC_ST_SKETCH_K)) == NULL)
		sk_failed = 1;
	for (i = 0; sk && i < k; i++)
		(void)arc_sketch_add(sk, names[i], len[i]);
	pthread_mutex_unlock(&sk_lock);
}

/* The shape of the chain: §11.3.1 and §11.3.2 questions. */
static void
count_sets(const arc_msg *m, int n, arc_cv cv)
{
	const arc_set_info	*top = arc_msg_set(m, n);
	int			 as_failed = 0;

	for (int i = 1; i <= n; i++) {
		const arc_set_info *si = arc_msg_set(m, i);

		if (si == NULL || si->as_domain == NULL ||
		    si->ams_domain == NULL)
			continue;
		if (si->as_result == ARC_SIG_FAIL)
			as_failed = 1;
		if (strcasecmp(si->as_domain, si->ams_domain) != 0)
			inc(&live.count[ARC_ST_SETS_DOMAIN_DIFFERS], 1);
		else if (si->as_selector == NULL || si->ams_selector == NULL ||
		    strcasecmp(si->as_selector, si->ams_selector) != 0)
			inc(&live.count[ARC_ST_SETS_SELECTOR_DIFFERS], 1);
		else
			inc(&live.count[ARC_ST_SETS_SAME], 1);
	}
	if (cv == ARC_CV_FAIL && as_failed && top != NULL &&
	    top->ams_result == ARC_SIG_PASS)
		inc(&live.count[ARC_ST_SEAL_ONLY_FAILURES], 1);
}

void
arc_stats_message(const arc_msg *m, const arc_actions *a,
    const arc_stats_span *verify, const arc_stats_span *seal)
{
	int	 n;

	if (a->error || m == NULL) {
		inc(&live.count[ARC_ST_INTERNAL_ERRORS], 1);
		if (!a->tempfail)
			inc(&live.count[ARC_ST_PASSTHROUGH], 1);
	} else {
		inc(&live.count[a->cv == ARC_CV_PASS ? ARC_ST_CV_PASS :
		    a->cv == ARC_CV_FAIL ? ARC_ST_CV_FAIL : ARC_ST_CV_NONE], 1);
		if (a->tempfail)
			inc(&live.count[ARC_ST_TEMPFAILED], 1);
	}
	if (a->sealed)
		inc(&live.count[ARC_ST_SEALED], 1);
	if (a->reject)
		inc(&live.count[ARC_ST_REJECTED], 1);
	span_add(verify, ARC_LAT_VERIFY, ARC_LAT_VERIFY_CPU);
	span_add(seal, ARC_LAT_SEAL, ARC_LAT_SEAL_CPU);
	if (a->error || m == NULL || a->cv == ARC_CV_NONE)
		return;
	if (a->cv == ARC_CV_FAIL)
		inc(&live.count[ARC_ST_FAIL_STRUCTURE +
		    arc_stats_fail_kind(arc_msg_reason(m))], 1);
	if ((n = arc_msg_nsets(m)) < 0)
		n = 0;
	if (n > ARC_ST_MAXSETS)
		n = ARC_ST_MAXSETS;
	inc(&live.chain[a->cv == ARC_CV_PASS ? 0 : 1][n], 1);
	inc(&live.chain_sum[a->cv == ARC_CV_PASS ? 0 : 1], (uint64_t)n);
	if (a->cv == ARC_CV_PASS && a->oldest_pass >= 0 &&
	    a->oldest_pass <= ARC_ST_MAXSETS) {
		inc(&live.oldest[a->oldest_pass], 1);
		inc(&live.oldest_sum, (uint64_t)a->oldest_pass);
	}
	count_sets(m, n, a->cv);
	count_sealers(m, n);
}

/* ---- snapshots ---------------------------------------------------------- */

static void
cumulate(uint64_t *out, const uint64_t *in, size_t n)
{
	uint64_t	 t = 0;

	for (size_t i = 0; i < n; i++)
		out[i] = (t += get(&in[i]));
}

void
arc_stats_counts(arc_stats_snap_counts_t c)
{
	for (int i = 0; i < ARC_ST_NCOUNTERS; i++)
		c[i] = get(&live.count[i]);
}

void
arc_stats_take(arc_stats_snap *s)
{
	int	 i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < ARC_ST_NCOUNTERS; i++)
		s->count[i] = get(&live.count[i]);
	for (i = 0; i < 2; i++) {
		cumulate(s->chain[i], live.chain[i], ARC_ST_MAXSETS + 1);
		s->chain[i][ARC_ST_MAXSETS + 1] = s->chain[i][ARC_ST_MAXSETS];
		s->chain_sum[i] = get(&live.chain_sum[i]);
	}
	cumulate(s->oldest, live.oldest, ARC_ST_MAXSETS + 1);
	s->oldest[ARC_ST_MAXSETS + 1] = s->oldest[ARC_ST_MAXSETS];
	s->oldest_sum = get(&live.oldest_sum);
	for (i = 0; i < ARC_LAT_N; i++) {
		cumulate(s->lat[i], live.lat[i], ARC_ST_NLAT + 1);
		s->lat_sum_ns[i] = get(&live.lat_sum_ns[i]);
	}
	pthread_mutex_lock(&sk_lock);
	if (sk != NULL)
		s->ntop = arc_sketch_top(sk, s->top, ARC_ST_TOPN);
	pthread_mutex_unlock(&sk_lock);
}

void
arc_stats_sketch_clear(void)
{
	pthread_mutex_lock(&sk_lock);
	if (sk != NULL)
		arc_sketch_clear(sk);
	pthread_mutex_unlock(&sk_lock);
}
