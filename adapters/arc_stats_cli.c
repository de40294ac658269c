/*
 * arc_stats_cli.c - "arctool stats [--json] FILE...": reads metrics
 * files (arc_stats_parse(), strict), adds them up (a fleet's files, or
 * one process's) and prints a summary for people or JSON for scripts.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc_stats.h"

static int
load(const char *path, arc_stats_snap *s)
{
	FILE	*fp;
	char	*buf = NULL, err[160];
	size_t	 len = 0, cap = 0, n;

	if ((fp = fopen(path, "r")) == NULL) {
		fprintf(stderr, "arctool stats: %s: %s\n", path,
		    strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			char *nb = cap > (1u << 26) ? NULL :
			    realloc(buf, cap = cap ? 2 * cap : 65536);

			if (nb == NULL) {
				fprintf(stderr, "arctool stats: %s: too large "
				    "or out of memory\n", path);
				free(buf);
				fclose(fp);
				return -1;
			}
			buf = nb;
		}
		if ((n = fread(buf + len, 1, cap - len, fp)) == 0)
			break;
		len += n;
	}
	fclose(fp);
	if (arc_stats_parse(buf ? buf : "", len, s, err, sizeof(err)) != 0) {
		fprintf(stderr, "arctool stats: %s: %s\n", path, err);
		free(buf);
		return -1;
	}
	free(buf);
	return 0;
}

static const char *const kinds[ARC_FAIL_NKINDS] = { "structure",
    "body_hash", "signature", "key_missing", "key_invalid", "dns_timeout",
    "dns_error", "limit" };
static const char *const lat_names[ARC_LAT_N] = { "verify", "verify_cpu",
    "seal", "seal_cpu" };

/* The bucket bound below which q of the values lie (cumulative h). */
static int
quantile(const uint64_t *h, int nb, double q)
{
	uint64_t	 want = (uint64_t)((double)h[nb] * q + 0.999999);

	for (int i = 0; i <= nb; i++)
		if (h[i] >= want && want > 0)
			return i;
	return -1;
}

static double
pct(uint64_t a, uint64_t b)
{
	return b ? 100.0 * (double)a / (double)b : 0;
}

/* "1:30 2:5 ..." for the non-empty lengths of a cumulative histogram */
static void
print_dist(const char *what, const uint64_t *h, uint64_t sum)
{
	uint64_t	 prev = 0;
	int		 max = -1;

	printf("%-22s", what);
	if (h[ARC_ST_MAXSETS + 1] == 0) {
		printf(" -\n");
		return;
	}
	for (int i = 0; i <= ARC_ST_MAXSETS; i++) {
		if (h[i] > prev) {
			printf(" %d:%llu", i, (unsigned long long)(h[i] - prev));
			max = i;
		}
		prev = h[i];
	}
	printf("  (mean %.2f, max %d)\n", (double)sum /
	    (double)h[ARC_ST_MAXSETS + 1], max);
}

static void
print_lat(const arc_stats_snap *s, int w)
{
	const uint64_t	*h = s->lat[w];
	uint64_t	 n = h[ARC_ST_NLAT];
	int		 p;

	printf("%-22s", lat_names[w]);
	if (n == 0) {
		printf(" -\n");
		return;
	}
	printf(" n=%llu mean=%.3f ms", (unsigned long long)n,
	    (double)s->lat_sum_ns[w] / (double)n / 1e6);
	for (int k = 0; k < 3; k++) {
		static const double qs[] = { 0.5, 0.9, 0.99 };
		static const char *const qn[] = { "p50", "p90", "p99" };

		p = quantile(h, ARC_ST_NLAT, qs[k]);
		if (p < ARC_ST_NLAT)
			printf(" %s<=%g ms", qn[k],
			    arc_stats_lat_bounds()[p] * 1000);
		else
			printf(" %s>%g ms", qn[k],
			    arc_stats_lat_bounds()[ARC_ST_NLAT - 1] * 1000);
	}
	printf("\n");
}

static void
summary(const arc_stats_snap *s, int nfiles)
{
	const uint64_t	*c = s->count, *l = s->count + ARC_ST_NMSG;
	uint64_t	 msgs = c[ARC_ST_CV_NONE] + c[ARC_ST_CV_PASS] +
	    c[ARC_ST_CV_FAIL];

	printf("files                  %d\n", nfiles);
	printf("messages               %llu verified: pass %llu (%.1f%%), "
	    "fail %llu (%.1f%%), none %llu\n", (unsigned long long)msgs,
	    (unsigned long long)c[ARC_ST_CV_PASS],
	    pct(c[ARC_ST_CV_PASS], msgs),
	    (unsigned long long)c[ARC_ST_CV_FAIL],
	    pct(c[ARC_ST_CV_FAIL], msgs),
	    (unsigned long long)c[ARC_ST_CV_NONE]);
	printf("actions                sealed %llu, rejected %llu, "
	    "tempfailed %llu\n", (unsigned long long)c[ARC_ST_SEALED],
	    (unsigned long long)c[ARC_ST_REJECTED],
	    (unsigned long long)c[ARC_ST_TEMPFAILED]);
	printf("internal errors        %llu, passed through %llu\n",
	    (unsigned long long)c[ARC_ST_INTERNAL_ERRORS],
	    (unsigned long long)c[ARC_ST_PASSTHROUGH]);
	printf("failures by kind      ");
	for (int i = 0; i < ARC_FAIL_NKINDS; i++)
		if (c[ARC_ST_FAIL_STRUCTURE + i])
			printf(" %s %llu", kinds[i],
			    (unsigned long long)c[ARC_ST_FAIL_STRUCTURE + i]);
	printf("%s\n", c[ARC_ST_CV_FAIL] ? "" : " -");
	printf("seal-only failures     %llu (an AS failed, the newest AMS "
	    "passed)\n", (unsigned long long)c[ARC_ST_SEAL_ONLY_FAILURES]);
	printf("sets                   same d=/s= %llu, selector differs "
	    "%llu, domain differs %llu\n",
	    (unsigned long long)c[ARC_ST_SETS_SAME],
	    (unsigned long long)c[ARC_ST_SETS_SELECTOR_DIFFERS],
	    (unsigned long long)c[ARC_ST_SETS_DOMAIN_DIFFERS]);
	print_dist("chain length (pass)", s->chain[0], s->chain_sum[0]);
	print_dist("chain length (fail)", s->chain[1], s->chain_sum[1]);
	print_dist("oldest-pass", s->oldest, s->oldest_sum);
	printf("keys                   lookups %llu, cache hits %llu "
	    "(%.1f%%), negative hits %llu\n",
	    (unsigned long long)l[ARC_STAT_KEY_LOOKUPS],
	    (unsigned long long)l[ARC_STAT_KEY_CACHE_HITS],
	    pct(l[ARC_STAT_KEY_CACHE_HITS], l[ARC_STAT_KEY_LOOKUPS]),
	    (unsigned long long)l[ARC_STAT_KEY_NEGATIVE_HITS]);
	printf("dns                    queries %llu (%.2f per message), "
	    "timeouts %llu, SERVFAIL %llu, other errors %llu\n",
	    (unsigned long long)l[ARC_STAT_DNS_QUERIES],
	    msgs ? (double)l[ARC_STAT_DNS_QUERIES] / (double)msgs : 0.0,
	    (unsigned long long)l[ARC_STAT_DNS_TIMEOUTS],
	    (unsigned long long)l[ARC_STAT_DNS_SERVFAILS],
	    (unsigned long long)l[ARC_STAT_DNS_ERRORS]);
	printf("dnssec                 secure %llu, insecure %llu, bogus "
	    "%llu\n", (unsigned long long)l[ARC_STAT_DNSSEC_SECURE],
	    (unsigned long long)l[ARC_STAT_DNSSEC_INSECURE],
	    (unsigned long long)l[ARC_STAT_DNSSEC_BOGUS]);
	for (int w = 0; w < ARC_LAT_N; w++)
		print_lat(s, w);
	printf("top sealers            %zu shown of %llu observations\n",
	    s->ntop, (unsigned long long)c[ARC_ST_SEALER_OBSERVATIONS]);
	for (size_t i = 0; i < s->ntop; i++)
		printf("  %10llu  %s%s\n", (unsigned long long)s->top[i].count,
		    s->top[i].name, s->top[i].error ? " (estimate)" : "");
}

static void
json_hist(const char *name, const uint64_t *h, int nb, const double *bounds,
    uint64_t sum, int ns, const char *sep)
{
	printf("  \"%s\": {\"buckets\": [", name);
	for (int i = 0; i < nb; i++) {
		if (bounds)
			printf("%s[%g, %llu]", i ? ", " : "", bounds[i],
			    (unsigned long long)h[i]);
		else
			printf("%s[%d, %llu]", i ? ", " : "", i,
			    (unsigned long long)h[i]);
	}
	printf("], \"count\": %llu, \"sum\": ", (unsigned long long)h[nb]);
	if (ns)
		printf("%.9f}%s\n", (double)sum / 1e9, sep);
	else
		printf("%llu}%s\n", (unsigned long long)sum, sep);
}

static void
json(const arc_stats_snap *s, int nfiles)
{
	static const char *const cn[ARC_ST_NMSG] = { "cv_none", "cv_pass",
	    "cv_fail", "sealed", "rejected", "tempfailed", "internal_errors",
	    "passthrough", "fail_structure", "fail_body_hash",
	    "fail_signature", "fail_key_missing", "fail_key_invalid",
	    "fail_dns_timeout", "fail_dns_error", "fail_limit",
	    "seal_only_failures", "sets_same", "sets_selector_differs",
	    "sets_domain_differs", "sealer_observations" };
	static const char *const ln[ARC_STAT_COUNT] = { "key_lookups",
	    "key_cache_hits", "key_negative_hits", "dns_queries",
	    "dns_timeouts", "dns_servfails", "dns_errors", "dnssec_secure",
	    "dnssec_insecure", "dnssec_bogus" };

	printf("{\n  \"files\": %d,\n  \"counters\": {", nfiles);
	for (int i = 0; i < ARC_ST_NCOUNTERS; i++)
		printf("%s\"%s\": %llu", i ? ", " : "", i < ARC_ST_NMSG ?
		    cn[i] : ln[i - ARC_ST_NMSG],
		    (unsigned long long)s->count[i]);
	printf("},\n");
	json_hist("chain_length_pass", s->chain[0], ARC_ST_MAXSETS + 1, NULL,
	    s->chain_sum[0], 0, ",");
	json_hist("chain_length_fail", s->chain[1], ARC_ST_MAXSETS + 1, NULL,
	    s->chain_sum[1], 0, ",");
	json_hist("oldest_pass", s->oldest, ARC_ST_MAXSETS + 1, NULL,
	    s->oldest_sum, 0, ",");
	for (int w = 0; w < ARC_LAT_N; w++) {
		char name[32];

		snprintf(name, sizeof(name), "%s_seconds", lat_names[w]);
		json_hist(name, s->lat[w], ARC_ST_NLAT, arc_stats_lat_bounds(),
		    s->lat_sum_ns[w], 1, ",");
	}
	/* names are plain LDH (arc_stats.c): no JSON escaping needed */
	printf("  \"top_sealers\": [");
	for (size_t i = 0; i < s->ntop; i++)
		printf("%s\n    {\"domain\": \"%s\", \"count\": %llu, "
		    "\"overcount\": %llu}", i ? "," : "", s->top[i].name,
		    (unsigned long long)s->top[i].count,
		    (unsigned long long)s->top[i].error);
	printf("%s]\n}\n", s->ntop ? "\n  " : "");
}

int
arc_stats_cli(int argc, char **argv)
{
	arc_stats_snap	*all, *one;
	int		 js = 0, i = 1, n = 0;

	if (argc > 1 && strcmp(argv[1], "--json") == 0) {
		js = 1;
		i++;
	}
	if (i >= argc || argv[i][0] == '-') {
		fprintf(stderr, "usage: arctool stats [--json] FILE...\n");
		return 64;
	}
	if ((all = calloc(2, sizeof(*all))) == NULL) {
		fprintf(stderr, "arctool stats: out of memory\n");
		return 70;
	}
	one = all + 1;
	for (; i < argc; i++, n++) {
		if (load(argv[i], one) != 0) {
			free(all);
			return 66;
		}
		arc_stats_snap_add(all, one);
	}
	if (js)
		json(all, n);
	else
		summary(all, n);
	free(all);
	return 0;
}
