/*
 * signing_bench.c - many sealing identities at scale (issue 15,
 * docs/performance.md): an adapter built from a key table of 10 000
 * keys (half RSA-2048, half Ed25519, each in its own file) and a
 * signing table of 100 000 lines, then selections per second for exact,
 * domain, wildcard and regex-or-miss addresses, against a linear
 * first-match scan of the same lines (what a refile: table costs).
 *
 *   signing_bench [-k keys] [-l lines] [-n selections]
 *
 * Figures are printed, never judged: make bench-signing (part of make
 * bench) runs it.
 */
#include <sys/stat.h>

#include <fnmatch.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "arc_adapter.h"
#include "arc_signing.h"

static double
now(void)
{
	struct timespec	 t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static char *
pem_of(const char *type, size_t *len)
{
	EVP_PKEY	*k = strcmp(type, "RSA") == 0 ?
	    EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048) :
	    EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	BIO		*b = BIO_new(BIO_s_mem());
	char		*p, *out;

	if (k == NULL || b == NULL ||
	    !PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL))
		exit(1);
	*len = (size_t)BIO_get_mem_data(b, &p);
	if ((out = malloc(*len)) == NULL)
		exit(1);
	memcpy(out, p, *len);
	BIO_free(b);
	EVP_PKEY_free(k);
	return out;
}

static void
spill(const char *path, const char *p, size_t n, mode_t mode)
{
	FILE	*fp = fopen(path, "w");

	if (fp == NULL || fwrite(p, 1, n, fp) != n || fclose(fp) != 0 ||
	    chmod(path, mode) != 0) {
		perror(path);
		exit(1);
	}
}

/* The line patterns, kept for the linear scan. */
static char	**pat;
static int	 *isre;

static unsigned
linear(unsigned nlines, const char *addr)
{
	for (unsigned i = 0; i < nlines; i++)
		if (!isre[i] && fnmatch(pat[i], addr, FNM_CASEFOLD) == 0)
			return i + 1;
	return 0;
}

int
main(int argc, char **argv)
{
	unsigned	 nkeys = 10000, nlines = 100000, nsel = 1000000, i;
	char		 dir[] = "/tmp/arc-signing-bench.XXXXXX", path[300];
	char		 err[512], addr[128], *rsa, *ed;
	size_t		 rlen, elen;
	FILE		*kt, *st;
	arc_conf	*c;
	arc_adapter	*ad;
	arc_signing	*sg;
	double		 t0, t1, tl;
	int		 ch;

	while ((ch = getopt(argc, argv, "k:l:n:")) != -1)
		switch (ch) {
		case 'k': nkeys = (unsigned)atoi(optarg); break;
		case 'l': nlines = (unsigned)atoi(optarg); break;
		case 'n': nsel = (unsigned)atoi(optarg); break;
		default:
			fprintf(stderr, "usage: signing_bench [-k keys] "
			    "[-l lines] [-n selections]\n");
			return 2;
		}
	if (nkeys < 10 || nlines < nkeys || mkdtemp(dir) == NULL)
		return 2;
	rsa = pem_of("RSA", &rlen);
	ed = pem_of("ED25519", &elen);
	snprintf(path, sizeof(path), "%s/KeyTable", dir);
	kt = fopen(path, "w");
	snprintf(path, sizeof(path), "%s/SigningTable", dir);
	st = fopen(path, "w");
	if (kt == NULL || st == NULL || (pat = calloc(nlines,
	    sizeof(*pat))) == NULL || (isre = calloc(nlines,
	    sizeof(*isre))) == NULL)
		return 1;
	for (i = 0; i < nkeys; i++) {
		snprintf(path, sizeof(path), "%s/k%u.pem", dir, i);
		spill(path, i % 2 ? ed : rsa, i % 2 ? elen : rlen, 0600);
		fprintf(kt, "k%u d%u.example:s%u:%s\n", i, i, i % 3, path);
	}
	/* 40% exact addresses, 30% domains, 30% wildcards, 8 regexes last */
	for (i = 0; i < nlines; i++) {
		unsigned k = i % nkeys;
		char	 p[128];

		if (i >= nlines - 8)
			snprintf(p, sizeof(p), "/^list-%u-.*@lists\\.d%u\\."
			    "example$/", i, k);
		else if (i % 10 < 4)
			snprintf(p, sizeof(p), "user%u@d%u.example", i, k);
		else if (i % 10 < 7)
			snprintf(p, sizeof(p), "*@d%u.example", i);
		else
			snprintf(p, sizeof(p), "*.sub%u.d%u.example", i, k);
		fprintf(st, "%s k%u\n", p, k);
		isre[i] = p[0] == '/';
		if ((pat[i] = strdup(p)) == NULL)
			return 1;
	}
	if (fclose(kt) != 0 || fclose(st) != 0)
		return 1;

	/* the tables alone, then the whole adapter with every key */
	snprintf(path, sizeof(path), "%s/KeyTable", dir);
	snprintf(addr, sizeof(addr), "%s/SigningTable", dir);
	t0 = now();
	if ((sg = arc_signing_load(path, addr, err, sizeof(err))) == NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	t1 = now();
	printf("tables: %u key-table entries, %u signing-table lines "
	    "parsed in %.3f s\n", nkeys, nlines, t1 - t0);
	c = arc_conf_load(NULL, err, sizeof(err));
	if (c == NULL || arc_conf_set(c, "dns", "no", err, sizeof(err)) ||
	    arc_conf_set(c, "seal-key-table", path, err, sizeof(err)) ||
	    arc_conf_set(c, "seal-signing-table", addr, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	t0 = now();
	if ((ad = arc_adapter_create(c, NULL, NULL, err, sizeof(err))) ==
	    NULL) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	t1 = now();
	printf("adapter: tables and %u keys (%u RSA-2048, %u Ed25519) "
	    "loaded and checked in %.3f s (%.1f us a key, %ld CPUs)\n",
	    nkeys, (nkeys + 1) / 2, nkeys / 2, t1 - t0, (t1 - t0) * 1e6 /
	    nkeys, sysconf(_SC_NPROCESSORS_ONLN));
	/* the same keys through OpenSSL's generic decoder, one thread */
	{
		double	 tk = now();

		for (i = 0; i < 400; i++) {
			BIO *b = BIO_new_mem_buf(i % 2 ? ed : rsa, (int)(i % 2 ?
			    elen : rlen));
			EVP_PKEY_free(PEM_read_bio_PrivateKey(b, NULL, NULL,
			    NULL));
			BIO_free(b);
		}
		tk = (now() - tk) / 400;
		printf("  OpenSSL PEM_read_bio_PrivateKey alone: %.1f us a "
		    "key; the whole load is %.1fx faster than that decoder "
		    "on one CPU\n", tk * 1e6, tk / ((t1 - t0) / nkeys));
	}

	/* selections: each kind of line, and misses through the regexes */
	{
		static const char *kinds[] = { "exact", "domain", "wildcard",
		    "miss+regex" };
		arc_signing_match	 m;
		unsigned		 hits = 0;

		for (int kind = 0; kind < 4; kind++) {
			unsigned n = kind == 3 ? nsel / 10 : nsel;

			t0 = now();
			for (i = 0; i < n; i++) {
				unsigned l = (i * 7919u) % (nlines - 20);

				l -= l % 10;	/* an exact line */
				if (kind == 0)
					snprintf(addr, sizeof(addr),
					    "user%u@d%u.example", l, l % nkeys);
				else if (kind == 1)
					snprintf(addr, sizeof(addr),
					    "x@d%u.example", l + 5);
				else if (kind == 2)
					snprintf(addr, sizeof(addr),
					    "x@a.b.sub%u.d%u.example", l + 8,
					    (l + 8) % nkeys);
				else
					snprintf(addr, sizeof(addr),
					    "nobody@nowhere%u.example", i);
				hits += (unsigned)arc_signing_select(sg, addr,
				    &m);
			}
			t1 = now();
			/* a linear first-match scan of the same lines */
			{
				unsigned ln = 200, lh = 0;

				tl = now();
				for (i = 0; i < ln; i++)
					lh += linear(nlines, addr) > 0;
				tl = (now() - tl) / ln;
				(void)lh;
			}
			printf("select %-10s %8.0f ns  (%.2e/s); linear scan "
			    "of %u lines %.0f us: %.0fx\n", kinds[kind],
			    (t1 - t0) * 1e9 / n, n / (t1 - t0), nlines,
			    tl * 1e6, tl / ((t1 - t0) / n));
		}
		if (hits != 3 * nsel)
			fprintf(stderr, "signing_bench: %u hits, want %u\n",
			    hits, 3 * nsel);
	}
	arc_adapter_free(ad);
	arc_conf_free(c);
	arc_signing_free(sg);
	for (i = 0; i < nlines; i++)
		free(pat[i]);
	free(pat);
	free(isre);
	free(rsa);
	free(ed);
	snprintf(path, sizeof(path), "rm -rf '%s'", dir);
	return system(path) == 0 ? 0 : 1;
}
