/*
 * arc_stats_expo.c - snapshots as Prometheus text (exposition format
 * 0.0.4) and back, and snapshot arithmetic (see arc_stats.h).
 *
 * One walk over the snapshot names every metric family and every series
 * with the slot that holds its value: rendering prints them, parsing
 * looks each line's series up among them, so the two cannot disagree.
 * The sealer top list is the only part whose series are not fixed.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc_stats.h"

#define SERIES_MAX	96	/* longest fixed series name */

/* how a slot's value is written: an integer, nanoseconds as seconds, or
 * an integer already named by another series (a histogram's _count is
 * its +Inf bucket: counted once, and it must match when read) */
enum { VAL_INT = 0, VAL_NS, VAL_ALIAS };

typedef struct visit {
	void	(*family)(struct visit *, const char *name, const char *type,
		    const char *help);
	void	(*series)(struct visit *, const char *key, uint64_t *slot,
		    int ns);
} visit;

static void
one(visit *v, uint64_t *slot, int ns, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
one(visit *v, uint64_t *slot, int ns, const char *fmt, ...)
{
	char	 key[SERIES_MAX];
	va_list	 ap;

	va_start(ap, fmt);
	vsnprintf(key, sizeof(key), fmt, ap);
	va_end(ap);
	v->series(v, key, slot, ns);
}

static void
counter(visit *v, arc_stats_snap *s, const char *name, int idx,
    const char *help)
{
	v->family(v, name, "counter", help);
	one(v, &s->count[idx], 0, "%s", name);
}

static void
histogram(visit *v, const char *name, const char *label, uint64_t *cum,
    int nb, const double *bounds, uint64_t *sum, int ns)
{
	char	 le[32], lab[40];

	snprintf(lab, sizeof(lab), "%s%s", label, *label ? "," : "");
	for (int i = 0; i <= nb; i++) {
		if (i == nb)
			snprintf(le, sizeof(le), "+Inf");
		else if (bounds)
			snprintf(le, sizeof(le), "%g", bounds[i]);
		else
			snprintf(le, sizeof(le), "%d", i);
		one(v, &cum[i], 0, "%s_bucket{%sle=\"%s\"}", name, lab, le);
	}
	if (*label) {
		one(v, sum, ns, "%s_sum{%s}", name, label);
		one(v, &cum[nb], VAL_ALIAS, "%s_count{%s}", name, label);
	} else {
		one(v, sum, ns, "%s_sum", name);
		one(v, &cum[nb], VAL_ALIAS, "%s_count", name);
	}
}

static void
walk(arc_stats_snap *s, visit *v)
{
	static const char *const cv[] = { "none", "pass", "fail" };
	static const char *const kind[ARC_FAIL_NKINDS] = { "structure",
	    "body_hash", "signature", "key_missing", "key_invalid",
	    "dns_timeout", "dns_error", "limit" };
	static const char *const signers[] = { "same", "selector_differs",
	    "domain_differs" };
	static const char *const sec[] = { "secure", "insecure", "bogus" };
	static const struct { const char *name, *help; } lat[ARC_LAT_N] = {
		{ "arc_verify_seconds", "Wall time from the end of the "
		    "message to the verdict, key lookups included." },
		{ "arc_verify_cpu_seconds", "CPU time of that validation." },
		{ "arc_seal_seconds", "Wall time to build and sign a new "
		    "ARC set." },
		{ "arc_seal_cpu_seconds", "CPU time of that sealing." } };
	int	 i;
	uint64_t *c = s->count;

	v->family(v, "arc_messages_total", "counter", "Messages verified, "
	    "by the chain validation status.");
	for (i = 0; i < 3; i++)
		one(v, &c[ARC_ST_CV_NONE + i], 0,
		    "arc_messages_total{cv=\"%s\"}", cv[i]);
	counter(v, s, "arc_messages_sealed_total", ARC_ST_SEALED,
	    "Messages we added an ARC set to.");
	counter(v, s, "arc_messages_rejected_total", ARC_ST_REJECTED,
	    "Messages refused for a failed chain (on-fail reject).");
	counter(v, s, "arc_messages_tempfailed_total", ARC_ST_TEMPFAILED,
	    "Messages answered with a temporary failure.");
	counter(v, s, "arc_internal_errors_total", ARC_ST_INTERNAL_ERRORS,
	    "Messages whose processing failed inside the filter.");
	counter(v, s, "arc_passthrough_total", ARC_ST_PASSTHROUGH,
	    "Messages passed on unchecked (internal error, adapter bounds).");
	v->family(v, "arc_fail_reasons_total", "counter",
	    "Failed chains by the kind of their failure.");
	for (i = 0; i < ARC_FAIL_NKINDS; i++)
		one(v, &c[ARC_ST_FAIL_STRUCTURE + i], 0,
		    "arc_fail_reasons_total{kind=\"%s\"}", kind[i]);
	counter(v, s, "arc_seal_only_failures_total",
	    ARC_ST_SEAL_ONLY_FAILURES, "Failed chains whose newest AMS "
	    "passed: an ARC-Seal alone caught them (RFC 8617 11.3.1).");
	v->family(v, "arc_sets_total", "counter", "ARC sets seen, by "
	    "whether their AS and AMS share d= and s= (RFC 8617 11.3.2).");
	for (i = 0; i < 3; i++)
		one(v, &c[ARC_ST_SETS_SAME + i], 0,
		    "arc_sets_total{signers=\"%s\"}", signers[i]);
	counter(v, s, "arc_sealer_observations_total",
	    ARC_ST_SEALER_OBSERVATIONS, "Sealer domains counted into the "
	    "top list (once per message and domain).");
	counter(v, s, "arc_key_lookups_total", ARC_ST_NMSG +
	    ARC_STAT_KEY_LOOKUPS, "Public keys asked for.");
	counter(v, s, "arc_key_cache_hits_total", ARC_ST_NMSG +
	    ARC_STAT_KEY_CACHE_HITS, "Keys found in the cache or already "
	    "being looked up.");
	counter(v, s, "arc_key_negative_cache_hits_total", ARC_ST_NMSG +
	    ARC_STAT_KEY_NEGATIVE_HITS, "Cached answers that there is no "
	    "usable key.");
	counter(v, s, "arc_dns_queries_total", ARC_ST_NMSG +
	    ARC_STAT_DNS_QUERIES, "Key queries sent to the resolver.");
	counter(v, s, "arc_dns_timeouts_total", ARC_ST_NMSG +
	    ARC_STAT_DNS_TIMEOUTS, "Key queries that timed out.");
	counter(v, s, "arc_dns_servfails_total", ARC_ST_NMSG +
	    ARC_STAT_DNS_SERVFAILS, "Key queries answered SERVFAIL.");
	counter(v, s, "arc_dns_errors_total", ARC_ST_NMSG +
	    ARC_STAT_DNS_ERRORS, "Key queries failed otherwise (rcodes, "
	    "resolver errors).");
	v->family(v, "arc_dnssec_results_total", "counter", "Key answers "
	    "by DNSSEC state (with a trust anchor only).");
	for (i = 0; i < 3; i++)
		one(v, &c[ARC_ST_NMSG + ARC_STAT_DNSSEC_SECURE + i], 0,
		    "arc_dnssec_results_total{state=\"%s\"}", sec[i]);
	v->family(v, "arc_chain_length", "histogram", "ARC sets per "
	    "message, passing and failing chains (RFC 8617 11.3.3).");
	histogram(v, "arc_chain_length", "cv=\"pass\"", s->chain[0],
	    ARC_ST_MAXSETS + 1, NULL, &s->chain_sum[0], 0);
	histogram(v, "arc_chain_length", "cv=\"fail\"", s->chain[1],
	    ARC_ST_MAXSETS + 1, NULL, &s->chain_sum[1], 0);
	v->family(v, "arc_oldest_pass", "histogram", "header.oldest-pass of "
	    "passing chains (0: every AMS still verifies).");
	histogram(v, "arc_oldest_pass", "", s->oldest, ARC_ST_MAXSETS + 1,
	    NULL, &s->oldest_sum, 0);
	for (i = 0; i < ARC_LAT_N; i++) {
		v->family(v, lat[i].name, "histogram", lat[i].help);
		histogram(v, lat[i].name, "", s->lat[i], ARC_ST_NLAT,
		    arc_stats_lat_bounds(), &s->lat_sum_ns[i], 1);
	}
}

/* ---- arithmetic ------------------------------------------------------ */

typedef struct {
	visit		 v;
	uint64_t	*base;		/* the other snapshot's slots */
	arc_stats_snap	*self;
	int		 sub;
} arith;

static void
no_family(visit *v, const char *n, const char *t, const char *h)
{
	(void)v; (void)n; (void)t; (void)h;
}

static void
arith_series(visit *v, const char *key, uint64_t *slot, int ns)
{
	arith		*a = (arith *)v;
	/* the same slot in the other snapshot: at the same offset */
	uint64_t	*o = (uint64_t *)(void *)((char *)a->base +
	    ((char *)slot - (char *)a->self));

	(void)key;
	if (ns == VAL_ALIAS)
		return;
	if (a->sub)
		*slot = *slot >= *o ? *slot - *o : 0;
	else
		*slot += *o;
}

static void
arith_walk(arc_stats_snap *dst, const arc_stats_snap *src, int sub)
{
	arith	 a = { { no_family, arith_series }, (uint64_t *)src, dst,
	    sub };

	walk(dst, &a.v);
}

void
arc_stats_snap_add(arc_stats_snap *dst, const arc_stats_snap *src)
{
	arc_sketch	*sk;

	arith_walk(dst, src, 0);
	if (src->ntop == 0)
		return;
	/* the union, counts summed, the highest kept */
	if ((sk = arc_sketch_create(2 * ARC_ST_TOPN)) == NULL)
		return;
	for (size_t i = 0; i < dst->ntop; i++)
		(void)arc_sketch_add_item(sk, &dst->top[i]);
	for (size_t i = 0; i < src->ntop; i++)
		(void)arc_sketch_add_item(sk, &src->top[i]);
	dst->ntop = arc_sketch_top(sk, dst->top, ARC_ST_TOPN);
	arc_sketch_free(sk);
}

void
arc_stats_snap_sub(arc_stats_snap *dst, const arc_stats_snap *src)
{
	arith_walk(dst, src, 1);
}

/* ---- rendering ------------------------------------------------------- */

typedef struct {
	visit	 v;
	char	*p;
	size_t	 len, cap;
	int	 failed;
} render;

static void
put(render *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void
put(render *r, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	for (;;) {
		if (r->failed)
			return;
		va_start(ap, fmt);
		n = vsnprintf(r->p + r->len, r->cap - r->len, fmt, ap);
		va_end(ap);
		if (n < 0) {
			r->failed = 1;
			return;
		}
		if ((size_t)n < r->cap - r->len) {
			r->len += (size_t)n;
			return;
		}
		char *np = realloc(r->p, r->cap * 2 + (size_t)n);

		if (np == NULL) {
			r->failed = 1;
			return;
		}
		r->p = np;
		r->cap = r->cap * 2 + (size_t)n;
	}
}

static void
render_family(visit *v, const char *name, const char *type, const char *help)
{
	put((render *)v, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
	    type);
}

static void
render_series(visit *v, const char *key, uint64_t *slot, int ns)
{
	if (ns == VAL_NS)
		put((render *)v, "%s %llu.%09llu\n", key,
		    (unsigned long long)(*slot / 1000000000u),
		    (unsigned long long)(*slot % 1000000000u));
	else
		put((render *)v, "%s %llu\n", key, (unsigned long long)*slot);
}

char *
arc_stats_render(const arc_stats_snap *s, size_t *len)
{
	render		 r = { { render_family, render_series }, NULL, 0,
	    16384, 0 };
	arc_stats_snap	 copy = *s;	/* walk() takes slots, not values */

	if ((r.p = malloc(r.cap)) == NULL)
		return NULL;
	walk(&copy, &r.v);
	/* names are plain LDH (arc_stats.c): nothing to escape */
	render_family(&r.v, "arc_sealer_messages", "gauge", "Messages "
	    "sealed by the most frequent sealer domains (estimate, top 100).");
	for (size_t i = 0; i < s->ntop; i++)
		put(&r, "arc_sealer_messages{domain=\"%s\"} %llu\n",
		    s->top[i].name, (unsigned long long)s->top[i].count);
	render_family(&r.v, "arc_sealer_messages_overcount", "gauge",
	    "How much arc_sealer_messages may exceed the true count.");
	for (size_t i = 0; i < s->ntop; i++)
		put(&r, "arc_sealer_messages_overcount{domain=\"%s\"} %llu\n",
		    s->top[i].name, (unsigned long long)s->top[i].error);
	put(&r, "# EOF\n");
	if (r.failed) {
		free(r.p);
		return NULL;
	}
	if (len)
		*len = r.len;
	return r.p;
}

/* ---- parsing --------------------------------------------------------- */

typedef struct {
	char		 key[SERIES_MAX];
	uint64_t	*slot;
	int		 ns, seen;
} known;

typedef struct {
	visit	 v;
	known	*k;
	size_t	 n, cap;
	char	 fam[32][48];
	size_t	 nfam;
} table;

static void
table_family(visit *v, const char *name, const char *type, const char *help)
{
	table	*t = (table *)v;

	(void)type;
	(void)help;
	if (t->nfam < sizeof(t->fam) / sizeof(t->fam[0]))
		snprintf(t->fam[t->nfam++], sizeof(t->fam[0]), "%s", name);
}

static void
table_series(visit *v, const char *key, uint64_t *slot, int ns)
{
	table	*t = (table *)v;

	if (t->n == t->cap)
		return;
	snprintf(t->k[t->n].key, sizeof(t->k[0].key), "%s", key);
	t->k[t->n].slot = slot;
	t->k[t->n].ns = ns;
	t->k[t->n++].seen = 0;
}

static int
fail(char *err, size_t errlen, unsigned line, const char *why)
{
	snprintf(err, errlen, "line %u: %s", line, why);
	return -1;
}

static int
name_char(int c, int first)
{
	return isalpha(c) || c == '_' || c == ':' || (!first && isdigit(c));
}

/* metric_name ["{" labels "}"]: the end of the series, or NULL */
static const char *
scan_series(const char *p, const char *end, char *dom, size_t domlen,
    int *has_dom)
{
	const char	*q = p;

	*has_dom = 0;
	if (q >= end || !name_char((unsigned char)*q, 1))
		return NULL;
	while (q < end && name_char((unsigned char)*q, 0))
		q++;
	if (q < end && *q == '{') {
		for (q++; q < end && *q != '}'; ) {
			const char *ln = q;
			size_t	 o = 0;

			if (!isalpha((unsigned char)*q) && *q != '_')
				return NULL;
			while (q < end && (isalnum((unsigned char)*q) ||
			    *q == '_'))
				q++;
			if (end - q < 2 || q[0] != '=' || q[1] != '"')
				return NULL;
			int isdom = q - ln == 6 && memcmp(ln, "domain", 6) == 0;

			for (q += 2; q < end && *q != '"'; q++) {
				if (*q == '\\') {
					if (++q >= end || (*q != '\\' &&
					    *q != '"' && *q != 'n'))
						return NULL;
				}
				if (isdom && o + 1 < domlen)
					dom[o++] = *q;
			}
			if (q >= end)
				return NULL;
			q++;
			if (isdom) {
				dom[o] = '\0';
				*has_dom = 1;
			}
			if (q < end && *q == ',')
				q++;
		}
		if (q >= end)
			return NULL;
		q++;
	}
	return q;
}

/* A sample value: our integers, or seconds with a fraction (ns). */
static int
scan_value(const char *p, const char *end, int ns, uint64_t *out)
{
	char		 buf[64], *e;
	size_t		 n = (size_t)(end - p);
	double		 d;

	if (n == 0 || n >= sizeof(buf))
		return -1;
	memcpy(buf, p, n);
	buf[n] = '\0';
	if (strspn(buf, "0123456789") == n) {
		errno = 0;
		unsigned long long v = strtoull(buf, NULL, 10);

		if (errno != 0)
			return -1;
		if (ns && v > UINT64_MAX / 1000000000u)
			return -1;
		*out = ns ? v * 1000000000u : v;
		return 0;
	}
	d = strtod(buf, &e);
	if (*e != '\0' || !isfinite(d) || d < 0 || d >= 1.8e19 /
	    (ns ? 1e9 : 1))
		return -1;
	if (!ns && d != (double)(uint64_t)d)
		return -1;
	*out = (uint64_t)((ns ? d * 1e9 : d) + 0.5);	/* no libm */
	return 0;
}

static int
find_top(arc_stats_snap *s, const char *dom)
{
	for (size_t i = 0; i < s->ntop; i++)
		if (strcmp(s->top[i].name, dom) == 0)
			return (int)i;
	if (s->ntop == ARC_ST_TOPN || strlen(dom) > ARC_SKETCH_NAMELEN)
		return -1;
	memset(&s->top[s->ntop], 0, sizeof(s->top[0]));
	memcpy(s->top[s->ntop].name, dom, strlen(dom));	/* checked above */
	return (int)s->ntop++;
}

static int
known_family(const table *t, const char *p, size_t n)
{
	for (size_t i = 0; i < t->nfam; i++)
		if (strlen(t->fam[i]) == n && memcmp(t->fam[i], p, n) == 0)
			return 1;
	return (n == 19 && memcmp(p, "arc_sealer_messages", 19) == 0) ||
	    (n == 29 && memcmp(p, "arc_sealer_messages_overcount", 29) == 0);
}

/* "# HELP name text" / "# TYPE name type" / "# EOF" / other comments */
static int
parse_comment(const table *t, const char *p, const char *end, unsigned ln,
    int *eof, char *err, size_t errlen)
{
	const char	*q;

	if (end - p == 5 && memcmp(p, "# EOF", 5) == 0) {
		*eof = 1;
		return 0;
	}
	if (end - p < 7 || (memcmp(p, "# HELP ", 7) != 0 &&
	    memcmp(p, "# TYPE ", 7) != 0))
		return 0;		/* a plain comment */
	for (q = p + 7; q < end && name_char((unsigned char)*q, q == p + 7);
	    q++)
		;
	if (q == p + 7 || (q < end && *q != ' '))
		return fail(err, errlen, ln, "bad metric name");
	if (!known_family(t, p + 7, (size_t)(q - p - 7)))
		return fail(err, errlen, ln, "unknown metric family");
	if (p[2] == 'T') {
		size_t n = q < end ? (size_t)(end - q - 1) : 0;

		if (!((n == 7 && memcmp(q + 1, "counter", 7) == 0) ||
		    (n == 5 && memcmp(q + 1, "gauge", 5) == 0) ||
		    (n == 9 && memcmp(q + 1, "histogram", 9) == 0)))
			return fail(err, errlen, ln, "bad TYPE");
	}
	return 0;
}

static int
check_histograms(arc_stats_snap *s, char *err, size_t errlen)
{
	uint64_t	*h[2 + 1 + ARC_LAT_N];
	int		 nb[2 + 1 + ARC_LAT_N], i, j;

	h[0] = s->chain[0];
	h[1] = s->chain[1];
	h[2] = s->oldest;
	nb[0] = nb[1] = nb[2] = ARC_ST_MAXSETS + 2;
	for (i = 0; i < ARC_LAT_N; i++) {
		h[3 + i] = s->lat[i];
		nb[3 + i] = ARC_ST_NLAT + 1;
	}
	for (i = 0; i < 3 + ARC_LAT_N; i++)
		for (j = 1; j < nb[i]; j++)
			if (h[i][j] < h[i][j - 1]) {
				snprintf(err, errlen, "histogram buckets "
				    "decrease");
				return -1;
			}
	return 0;
}

int
arc_stats_parse(const char *text, size_t len, arc_stats_snap *s, char *err,
    size_t errlen)
{
	known		 k[512];
	table		 t = { { table_family, table_series }, k, 0, 512, {{0}},
	    0 };
	const char	*p = text, *end = text + len, *nl, *q, *v;
	char		 dom[ARC_SKETCH_NAMELEN + 2];
	unsigned	 ln = 0;
	size_t		 cur = 0, n, i;
	int		 eof = 0, has_dom, ti;
	uint64_t	 val;

	memset(s, 0, sizeof(*s));
	walk(s, &t.v);
	while (p < end) {
		ln++;
		if (eof)
			return fail(err, errlen, ln, "text after # EOF");
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			return fail(err, errlen, ln, "incomplete line");
		for (q = p; q < nl; q++)
			if (*q == '\0' || *q == '\r' ||
			    (unsigned char)*q < 0x20 || (unsigned char)*q > 0x7e)
				return fail(err, errlen, ln, "bad character");
		if (p == nl)
			return fail(err, errlen, ln, "empty line");
		if (*p == '#') {
			if (parse_comment(&t, p, nl, ln, &eof, err,
			    errlen) != 0)
				return -1;
			p = nl + 1;
			continue;
		}
		if ((q = scan_series(p, nl, dom, sizeof(dom), &has_dom)) ==
		    NULL || q >= nl || *q != ' ')
			return fail(err, errlen, ln, "malformed sample");
		n = (size_t)(q - p);
		v = q + 1;
		/* no timestamps: the textfile collector refuses them */
		if (memchr(v, ' ', (size_t)(nl - v)) != NULL)
			return fail(err, errlen, ln, "unexpected timestamp");
		if (has_dom && ((n > 20 && memcmp(p, "arc_sealer_messages{",
		    20) == 0) || (n > 30 && memcmp(p,
		    "arc_sealer_messages_overcount{", 30) == 0))) {
			if (scan_value(v, nl, 0, &val) != 0)
				return fail(err, errlen, ln, "bad value");
			if ((ti = find_top(s, dom)) < 0)
				return fail(err, errlen, ln, "too many "
				    "sealer domains");
			if (p[19] == '{')
				s->top[ti].count = val;
			else
				s->top[ti].error = val;
			p = nl + 1;
			continue;
		}
		/* our order first, then anywhere */
		for (i = 0; i < t.n; i++) {
			size_t j = (cur + i) % t.n;

			if (strlen(k[j].key) == n && memcmp(k[j].key, p, n) ==
			    0)
				break;
		}
		if (i == t.n)
			return fail(err, errlen, ln, "unknown series");
		i = (cur + i) % t.n;
		if (k[i].seen)
			return fail(err, errlen, ln, "duplicate series");
		if (scan_value(v, nl, k[i].ns == VAL_NS, &val) != 0)
			return fail(err, errlen, ln, "bad value");
		if (k[i].ns == VAL_ALIAS && val != *k[i].slot)
			return fail(err, errlen, ln, "_count is not the +Inf "
			    "bucket");
		*k[i].slot = val;
		k[i].seen = 1;
		cur = i + 1;
		p = nl + 1;
	}
	if (!eof) {
		snprintf(err, errlen, "incomplete: no \"# EOF\" line");
		return -1;
	}
	return check_histograms(s, err, errlen);
}
