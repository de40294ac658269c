/*
 * arc_signing.c - key table and signing table (OpenDKIM formats), and
 * the per-message choice of a sealing key.  See arc_signing.h.
 *
 * Selection keeps three hash maps from lower-case text to the index of
 * the first signing-table line that wrote it: exact addresses, domains
 * (*@d and d) and wildcard parents (*.d).  A message's address is looked
 * up in each (the wildcard map once per parent domain), the smallest
 * index wins; regex and glob lines are tried in file order only while
 * their index is below that, so "first match wins" holds for every line.
 * Globs are matched by a wildcard matcher of our own (glob_match: no
 * backtracking, at most len(pattern) * len(address) steps); pcre2, with
 * its match limit, only runs for /regex/ lines.
 */
#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include "arc_signing.h"
#include "arc_strmap.h"

#define NONE		UINT32_MAX
#define MAX_LINES	10000000u	/* per table */
#define MAX_FILE	(512u << 20)
#define MATCH_LIMIT	100000u		/* pcre2 steps per regex and address */
#define MAX_GLOB	1024u		/* bytes of a glob pattern */
#define MAX_LOADERS	8		/* threads parsing keys */

enum { R_ADDR, R_DOMAIN, R_SUB, R_ANY, R_REGEX, R_GLOB };

/* pub first: a pointer to it is a pointer to the entry (C11 6.7.2.1) */
typedef struct {
	arc_signing_key	 pub;
	char		*name, *domain, *selector, *path;
	arc_signer	*signer;
	char		*error;		/* lazy loading: why it failed */
	int		 tried;		/* lazy loading: made or failed */
} key_ent;

typedef struct {
	char		*pattern;	/* as written */
	char		*norm;		/* map key: address or domain */
	pcre2_code	*re;		/* R_REGEX */
	uint32_t	 key;
	unsigned	 line;
	int		 kind;
} rule_ent;

struct arc_signing {
	char		*kt_name, *st_name;
	key_ent		*keys;
	size_t		 nkeys, capkeys;
	rule_ent	*rules;
	size_t		 nrules, caprules;
	arc_strmap	 key_by_name, key_by_id, addr, dom, sub;
	uint32_t	 any;		/* first "*" line, NONE */
	uint32_t	*regex;		/* regex and glob rules, file order */
	size_t		 nregex, capregex;
	pcre2_match_context *mctx;
	pthread_mutex_t	 lazy_mu;	/* arc_signing_signer() */
};

/* ---- tokens --------------------------------------------------------------- */

static void
lower(char *s)
{
	for (; *s; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* A DNS name as a domain or selector: labels of letters, digits, '-'
 * and '_', 1..63 bytes, 253 at most. */
static int
valid_dns(const char *s)
{
	size_t	 label = 0, n = 0;

	for (; *s; s++, n++) {
		if (*s == '.') {
			if (label == 0)
				return 0;
			label = 0;
			continue;
		}
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return 0;
		if (++label > 63)
			return 0;
	}
	return n > 0 && n <= 253 && label > 0;
}

/* Splits a line into at most max white-space separated fields, '#' at
 * the start of a field beginning a comment; returns the field count
 * (max + 1 if there are more). */
static size_t
fields(char *line, char **f, size_t max)
{
	size_t	 n = 0;
	char	*p = line;

	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (*p == '\0' || *p == '#')
			return n;
		if (n == max)
			return max + 1;
		f[n++] = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		if (*p)
			*p++ = '\0';
	}
}

static char *
ndup(const char *s, size_t n)
{
	char *d = malloc(n + 1);

	if (d) {
		memcpy(d, s, n);
		d[n] = '\0';
	}
	return d;
}

/* ---- key table ------------------------------------------------------------ */

static int
key_line(arc_signing *sg, char *line, unsigned lineno, char *err,
    size_t errlen)
{
	char		*f[2], *d, *s, *p, *id = NULL;
	size_t		 n = fields(line, f, 2);
	key_ent		*k;
	uint32_t	 prev;

	if (n == 0)
		return 0;
	if (n != 2) {
		snprintf(err, errlen, "%s:%u: expected \"name "
		    "domain:selector:keyfile\"", sg->kt_name, lineno);
		return -1;
	}
	d = f[1];
	if ((s = strchr(d, ':')) == NULL || (p = strchr(s + 1, ':')) ==
	    NULL) {
		snprintf(err, errlen, "%s:%u: %s: the value must be "
		    "domain:selector:keyfile", sg->kt_name, lineno, f[0]);
		return -1;
	}
	*s++ = '\0';
	*p++ = '\0';
	if (strcmp(d, "%") == 0) {
		snprintf(err, errlen, "%s:%u: %s: domain \"%%\" (the signing "
		    "domain of the message) is not supported: ARC seals as "
		    "the handling domain, name it", sg->kt_name, lineno, f[0]);
		return -1;
	}
	if (!valid_dns(d) || !valid_dns(s)) {
		snprintf(err, errlen, "%s:%u: %s: invalid %s \"%s\"",
		    sg->kt_name, lineno, f[0], valid_dns(d) ? "selector" :
		    "domain", valid_dns(d) ? s : d);
		return -1;
	}
	if (*p == '\0') {
		snprintf(err, errlen, "%s:%u: %s: no key file", sg->kt_name,
		    lineno, f[0]);
		return -1;
	}
	lower(d);
	lower(s);
	if (arc_strmap_get(&sg->key_by_name, f[0], strlen(f[0]), &prev)) {
		snprintf(err, errlen, "%s:%u: key name \"%s\" already given "
		    "at line %u", sg->kt_name, lineno, f[0],
		    sg->keys[prev].pub.line);
		return -1;
	}
	if (sg->nkeys == sg->capkeys) {
		size_t	 cap = sg->capkeys ? sg->capkeys * 2 : 16;
		key_ent	*nk = reallocarray(sg->keys, cap, sizeof(*nk));

		if (nk == NULL)
			goto nomem;
		sg->keys = nk;
		sg->capkeys = cap;
	}
	k = &sg->keys[sg->nkeys];
	memset(k, 0, sizeof(*k));
	k->pub.line = lineno;
	if ((k->name = strdup(f[0])) == NULL || (k->domain = strdup(d)) ==
	    NULL || (k->selector = strdup(s)) == NULL ||
	    (k->path = strdup(p)) == NULL || asprintf(&id, "%s:%s", d, s) < 0)
		goto nomem_k;
	/* one DNS record, one key: a second key there could never verify */
	if (arc_strmap_get(&sg->key_by_id, id, strlen(id), &prev)) {
		snprintf(err, errlen, "%s:%u: %s: %s._domainkey.%s already "
		    "has key \"%s\" (line %u)", sg->kt_name, lineno, f[0], s,
		    d, sg->keys[prev].name, sg->keys[prev].pub.line);
		free(id);
		goto fail_k;
	}
	k->pub.name = k->name;
	k->pub.domain = k->domain;
	k->pub.selector = k->selector;
	k->pub.path = k->path;
	sg->nkeys++;
	/* the maps point at the entries' own strings, not into the array */
	if (arc_strmap_put(&sg->key_by_name, k->name, (uint32_t)(sg->nkeys - 1)) < 0
	    || arc_strmap_put(&sg->key_by_id, id, (uint32_t)(sg->nkeys - 1)) < 0) {
		free(id);
		goto nomem;
	}
	return 0;
nomem_k:
	free(id);
	snprintf(err, errlen, "out of memory");
fail_k:
	free(k->name);
	free(k->domain);
	free(k->selector);
	free(k->path);
	return -1;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* ---- signing table -------------------------------------------------------- */

/*
 * '*' globs other than the hashed forms: does the whole of s match g,
 * '*' standing for any run of bytes, case ignored?  The two-pointer
 * matcher: on a mismatch only the last '*' is resumed, one byte further
 * along s (whatever an earlier '*' matched, a later one could take over),
 * so it costs at most strlen(g) * strlen(s) steps and never backtracks
 * further; a pcre2 ".*a.*b.*" regex backtracks exponentially in the
 * number of stars.
 */
static int
glob_match(const char *g, const char *s)
{
	const char	*star = NULL, *resume = NULL;

	while (*s) {
		if (*g == '*') {
			star = ++g;
			resume = s;
		} else if (*g && tolower((unsigned char)*g) ==
		    tolower((unsigned char)*s)) {
			g++;
			s++;
		} else if (star) {
			g = star;
			s = ++resume;
		} else
			return 0;
	}
	while (*g == '*')
		g++;
	return *g == '\0';
}

/* What kind of line a pattern is, and its map key in *norm. */
static int
classify(const char *pat, char **norm, char **regex)
{
	const char	*at = strchr(pat, '@'), *dom = at ? at + 1 : pat;
	size_t		 n = strlen(pat);

	*norm = *regex = NULL;
	if (n >= 3 && pat[0] == '/' && pat[n - 1] == '/') {
		*regex = ndup(pat + 1, n - 2);
		return R_REGEX;
	}
	if (strcmp(pat, "*") == 0)
		return R_ANY;
	if (pat[0] == '/' || (at && strchr(dom, '@')) || (at && at == pat))
		return -1;
	/* a domain without a wildcard of its own must be a domain */
	if (strncmp(dom, "*.", 2) == 0)
		dom += 2;
	if (!strchr(dom, '*') && !valid_dns(dom))
		return -1;
	dom = at ? at + 1 : pat;
	if (at && at - pat == 1 && pat[0] == '*') {	/* *@... */
		if (strncmp(dom, "*.", 2) == 0 && valid_dns(dom + 2)) {
			*norm = strdup(dom + 2);
			return R_SUB;
		}
		if (valid_dns(dom)) {
			*norm = strdup(dom);
			return R_DOMAIN;
		}
	} else if (at && at > pat && !memchr(pat, '*', n) && valid_dns(dom)) {
		*norm = strdup(pat);
		return R_ADDR;
	} else if (!at) {
		if (strncmp(pat, "*.", 2) == 0 && valid_dns(pat + 2)) {
			*norm = strdup(pat + 2);
			return R_SUB;
		}
		if (valid_dns(pat)) {
			*norm = strdup(pat);
			return R_DOMAIN;
		}
	}
	if (!strchr(pat, '*') || n > MAX_GLOB)
		return -1;
	return R_GLOB;
}

static int
rule_line(arc_signing *sg, char *line, unsigned lineno, char *err,
    size_t errlen)
{
	char		*f[2], *norm, *regex;
	size_t		 n = fields(line, f, 2);
	uint32_t	 key, idx;
	rule_ent	*r;
	arc_strmap	*m;
	int		 kind, ec;
	PCRE2_SIZE	 eo;

	if (n == 0)
		return 0;
	if (n != 2) {
		snprintf(err, errlen, "%s:%u: expected \"pattern keyname\"%s",
		    sg->st_name, lineno, n > 2 ? " (one key per line: ARC "
		    "seals once per hop)" : "");
		return -1;
	}
	if (strchr(f[1], ',')) {
		snprintf(err, errlen, "%s:%u: \"%s\" names several keys: ARC "
		    "seals once per hop, give one key name", sg->st_name,
		    lineno, f[1]);
		return -1;
	}
	if (!arc_strmap_get(&sg->key_by_name, f[1], strlen(f[1]), &key)) {
		snprintf(err, errlen, "%s:%u: key \"%s\" is not in the key "
		    "table %s", sg->st_name, lineno, f[1], sg->kt_name);
		return -1;
	}
	for (const char *p = f[0]; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p > 0x7e) {
			snprintf(err, errlen, "%s:%u: the pattern holds a "
			    "byte that is not printable ASCII", sg->st_name,
			    lineno);
			return -1;
		}
	if (f[0][0] != '/')
		lower(f[0]);
	if ((kind = classify(f[0], &norm, &regex)) < 0) {
		snprintf(err, errlen, "%s:%u: \"%s\" is neither an address, a "
		    "domain, a '*' wildcard nor a /regex/", sg->st_name,
		    lineno, f[0]);
		return -1;
	}
	if (sg->nrules == sg->caprules) {
		size_t	  cap = sg->caprules ? sg->caprules * 2 : 64;
		rule_ent *nr = reallocarray(sg->rules, cap, sizeof(*nr));

		if (nr == NULL)
			goto nomem;
		sg->rules = nr;
		sg->caprules = cap;
	}
	idx = (uint32_t)sg->nrules;
	r = &sg->rules[idx];
	memset(r, 0, sizeof(*r));
	r->kind = kind;
	r->key = key;
	r->line = lineno;
	r->norm = norm;
	if ((r->pattern = strdup(f[0])) == NULL)
		goto nomem;
	if (kind == R_REGEX || kind == R_GLOB) {
		if (kind == R_REGEX && regex == NULL)
			goto nomem_r;
		if (kind == R_REGEX)
			r->re = pcre2_compile((PCRE2_SPTR)regex,
			    PCRE2_ZERO_TERMINATED, PCRE2_CASELESS, &ec, &eo,
			    NULL);
		free(regex);
		regex = NULL;
		if (kind == R_REGEX && r->re == NULL) {
			PCRE2_UCHAR msg[128];

			pcre2_get_error_message(ec, msg, sizeof(msg));
			snprintf(err, errlen, "%s:%u: %s: %s at offset %zu",
			    sg->st_name, lineno, f[0], msg, (size_t)eo);
			free(r->pattern);
			return -1;
		}
		if (sg->nregex == sg->capregex) {
			size_t	  cap = sg->capregex ? sg->capregex * 2 : 16;
			uint32_t *nx = reallocarray(sg->regex, cap,
			    sizeof(*nx));

			if (nx == NULL)
				goto nomem_r;
			sg->regex = nx;
			sg->capregex = cap;
		}
		sg->regex[sg->nregex++] = idx;
		sg->nrules++;
		return 0;
	}
	if (kind != R_ANY && norm == NULL)
		goto nomem_r;
	sg->nrules++;
	if (kind == R_ANY) {
		if (sg->any == NONE)
			sg->any = idx;
		return 0;
	}
	m = kind == R_ADDR ? &sg->addr : kind == R_DOMAIN ? &sg->dom :
	    &sg->sub;
	if (arc_strmap_put(m, norm, idx) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	return 0;
nomem_r:
	free(r->pattern);
	pcre2_code_free(r->re);
	free(norm);
	snprintf(err, errlen, "out of memory");
	return -1;
nomem:
	free(norm);
	free(regex);
	snprintf(err, errlen, "out of memory");
	return -1;
}

/* ---- loading -------------------------------------------------------------- */

typedef int (*line_fn)(arc_signing *, char *, unsigned, char *, size_t);

static int
each_line(arc_signing *sg, const char *name, const char *t, size_t len,
    line_fn fn, char *err, size_t errlen)
{
	size_t		 i = 0, e;
	unsigned	 lineno = 0;
	char		*line;
	int		 r;

	while (i < len) {
		const char *nl = memchr(t + i, '\n', len - i);

		e = nl ? (size_t)(nl - t) : len;
		if (++lineno > MAX_LINES) {
			snprintf(err, errlen, "%s:%u: more than %u lines",
			    name, lineno, MAX_LINES);
			return -1;
		}
		if (memchr(t + i, '\0', e - i)) {
			snprintf(err, errlen, "%s:%u: NUL byte", name, lineno);
			return -1;
		}
		if ((line = ndup(t + i, e - i)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		r = fn(sg, line, lineno, err, errlen);
		free(line);
		if (r != 0)
			return -1;
		i = e + 1;
	}
	return 0;
}

arc_signing *
arc_signing_parse(const char *ktn, const char *kt, size_t ktlen,
    const char *stn, const char *st, size_t stlen, char *err, size_t errlen)
{
	arc_signing	*sg;

	if ((sg = calloc(1, sizeof(*sg))) == NULL ||
	    (sg->kt_name = strdup(ktn ? ktn : "key-table")) == NULL ||
	    (sg->st_name = strdup(stn ? stn : "signing-table")) == NULL ||
	    (sg->mctx = pcre2_match_context_create(NULL)) == NULL) {
		snprintf(err, errlen, "out of memory");
		arc_signing_free(sg);
		return NULL;
	}
	sg->any = NONE;
	pthread_mutex_init(&sg->lazy_mu, NULL);
	pcre2_set_match_limit(sg->mctx, MATCH_LIMIT);
	if (each_line(sg, sg->kt_name, kt, ktlen, key_line, err, errlen) != 0)
		goto fail;
	if (sg->nkeys == 0) {
		snprintf(err, errlen, "%s: no key in the key table", sg->kt_name);
		goto fail;
	}
	if (each_line(sg, sg->st_name, st, stlen, rule_line, err, errlen) != 0)
		goto fail;
	if (sg->nrules == 0) {
		snprintf(err, errlen, "%s: the signing table is empty",
		    sg->st_name);
		goto fail;
	}
	return sg;
fail:
	arc_signing_free(sg);
	return NULL;
}

static char *
read_file(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE	*fp;
	char	*buf = NULL, *nb;
	size_t	 cap = 0, n = 0, r;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	do {
		if (n == cap) {
			cap = cap ? cap * 2 : 65536;
			if (cap > MAX_FILE || (nb = realloc(buf, cap)) ==
			    NULL) {
				snprintf(err, errlen, "%s: %s", path, cap >
				    MAX_FILE ? "too large" : "out of memory");
				free(buf);
				fclose(fp);
				return NULL;
			}
			buf = nb;
		}
		r = fread(buf + n, 1, cap - n, fp);
		n += r;
	} while (r > 0);
	if (ferror(fp)) {
		snprintf(err, errlen, "%s: read error", path);
		free(buf);
		buf = NULL;
	}
	fclose(fp);
	*len = n;
	return buf;
}

arc_signing *
arc_signing_load(const char *ktp, const char *stp, char *err, size_t errlen)
{
	char		*kt, *st;
	size_t		 ktlen, stlen;
	arc_signing	*sg;

	if ((kt = read_file(ktp, &ktlen, err, errlen)) == NULL)
		return NULL;
	if ((st = read_file(stp, &stlen, err, errlen)) == NULL) {
		free(kt);
		return NULL;
	}
	sg = arc_signing_parse(ktp, kt, ktlen, stp, st, stlen, err, errlen);
	free(kt);
	free(st);
	return sg;
}

/* One loader thread's share of the keys: every nth from first. */
struct loader {
	arc_signing		*sg;
	arc_signing_key_fn	 fn;
	void			*arg;
	size_t			 first, step;
	size_t			 failed;	/* index of its first failure */
	char			 msg[512];
};

static void *
load_share(void *v)
{
	struct loader	*l = v;

	l->failed = SIZE_MAX;
	for (size_t i = l->first; i < l->sg->nkeys; i += l->step) {
		key_ent *k = &l->sg->keys[i];

		if (k->signer == NULL && (k->signer = l->fn(l->arg, k->domain,
		    k->selector, k->path, l->msg, sizeof(l->msg))) == NULL) {
			l->failed = i;
			break;
		}
		k->pub.signer = k->signer;
		k->tried = 1;
	}
	return NULL;
}

/*
 * Parsing a private key costs 15-100 us (RSA-2048, Ed25519 with its
 * public half): a key table of 10 000 keys is spread over the CPUs, one
 * thread each, all joined before this returns.  The error reported is
 * that of the first failing line, as a single thread would find it.
 * The loaders start with every signal blocked: a host's handler (Exim's
 * SIGTERM and SIGALRM, filter-arc's SIGHUP) must run on its own thread,
 * never on one of ours.
 */
int
arc_signing_load_keys(arc_signing *sg, arc_signing_key_fn fn, void *arg,
    char *err, size_t errlen)
{
	struct loader	 l[MAX_LOADERS];
	pthread_t	 tid[MAX_LOADERS];
	long		 ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	size_t		 n = 1, i, bad = 0;
	int		 started[MAX_LOADERS] = { 0 };
	sigset_t	 all, old;

	if (sg->nkeys >= 256 && ncpu > 1)
		n = ncpu > MAX_LOADERS ? MAX_LOADERS : (size_t)ncpu;
	sigfillset(&all);
	if (n > 1)
		pthread_sigmask(SIG_SETMASK, &all, &old);
	for (i = 0; i < n; i++) {
		l[i] = (struct loader){ sg, fn, arg, i, n, SIZE_MAX, "" };
		if (i > 0)
			started[i] = pthread_create(&tid[i], NULL, load_share,
			    &l[i]) == 0;
	}
	if (n > 1)
		pthread_sigmask(SIG_SETMASK, &old, NULL);
	/* threads that did not start: their share is loaded here */
	for (i = 0; i < n; i++)
		if (i == 0 || !started[i])
			load_share(&l[i]);
	for (i = 1; i < n; i++)
		if (started[i])
			pthread_join(tid[i], NULL);
	for (i = 1; i < n; i++)
		if (l[i].failed < l[bad].failed)
			bad = i;
	if (l[bad].failed != SIZE_MAX) {
		key_ent *k = &sg->keys[l[bad].failed];

		snprintf(err, errlen, "%s:%u: %s: %s", sg->kt_name,
		    k->pub.line, k->name, l[bad].msg);
		return -1;
	}
	return 0;
}

const arc_signer *
arc_signing_signer(arc_signing *sg, const arc_signing_key *pk,
    arc_signing_key_fn fn, void *arg, char *err, size_t errlen)
{
	/* pk is the first member of its entry (arc_signing_key_at, select) */
	key_ent			*k = (key_ent *)(void *)(uintptr_t)pk;
	const arc_signer	*s;
	char			 msg[512];

	pthread_mutex_lock(&sg->lazy_mu);
	if (!k->tried) {
		/* made under the lock: two threads never parse one key */
		if ((k->signer = fn(arg, k->domain, k->selector, k->path, msg,
		    sizeof(msg))) == NULL && asprintf(&k->error,
		    "%s:%u: %s: %s", sg->kt_name, k->pub.line, k->name,
		    msg) < 0)
			k->error = NULL;
		k->pub.signer = k->signer;
		k->tried = 1;
	}
	if ((s = k->signer) == NULL)
		snprintf(err, errlen, "%s", k->error ? k->error :
		    "out of memory");
	pthread_mutex_unlock(&sg->lazy_mu);
	return s;
}

/* ---- selection ------------------------------------------------------------ */

static void
best(const arc_strmap *m, const char *k, size_t n, uint32_t *b)
{
	uint32_t v;

	if (arc_strmap_get(m, k, n, &v) && v < *b)
		*b = v;
}

int
arc_signing_select(const arc_signing *sg, const char *addr,
    arc_signing_match *out)
{
	const char		*at, *dom, *p;
	uint32_t		 b = NONE;
	pcre2_match_data	*md = NULL;

	if (sg == NULL || addr == NULL || *addr == '\0')
		return 0;
	at = strrchr(addr, '@');
	dom = at ? at + 1 : addr;
	if (at && at > addr)
		best(&sg->addr, addr, strlen(addr), &b);
	best(&sg->dom, dom, strlen(dom), &b);
	for (p = strchr(dom, '.'); p; p = strchr(p + 1, '.'))
		best(&sg->sub, p + 1, strlen(p + 1), &b);
	if (sg->any < b)
		b = sg->any;
	for (size_t i = 0; i < sg->nregex && sg->regex[i] < b; i++) {
		const rule_ent *r = &sg->rules[sg->regex[i]];
		int hit;

		if (r->kind == R_GLOB)
			hit = glob_match(r->pattern, addr);
		else {
			if (md == NULL && (md = pcre2_match_data_create(1,
			    NULL)) == NULL)
				break;
			hit = pcre2_match(r->re, (PCRE2_SPTR)addr,
			    PCRE2_ZERO_TERMINATED, 0, 0, md, sg->mctx) >= 0;
		}
		if (hit) {
			b = sg->regex[i];
			break;
		}
	}
	pcre2_match_data_free(md);
	if (b == NONE)
		return 0;
	out->key = &sg->keys[sg->rules[b].key].pub;
	out->pattern = sg->rules[b].pattern;
	out->line = sg->rules[b].line;
	return 1;
}

static const char *const select_names[ARC_SELECT_MAX] = {
	"from", "rcpt", "sender", "list-id"
};

int
arc_signing_parse_select(const char *list, int *keys, char *err,
    size_t errlen)
{
	int	 n = 0, k, seen[ARC_SELECT_MAX] = { 0 };
	size_t	 l;

	while (*list) {
		if (*list == ',' || *list == ' ' || *list == '\t') {
			list++;
			continue;
		}
		l = strcspn(list, ", \t");
		for (k = 0; k < ARC_SELECT_MAX; k++)
			if (strlen(select_names[k]) == l &&
			    strncmp(select_names[k], list, l) == 0)
				break;
		if (k == ARC_SELECT_MAX || seen[k]) {
			snprintf(err, errlen, "seal-select: %s \"%.*s\" (a list "
			    "of from, rcpt, sender, list-id)", k ==
			    ARC_SELECT_MAX ? "unknown" : "repeated", (int)l,
			    list);
			return -1;
		}
		seen[k] = 1;
		keys[n++] = k;
		list += l;
	}
	if (n == 0) {
		snprintf(err, errlen, "seal-select: empty");
		return -1;
	}
	return n;
}

const char *
arc_signing_select_name(int k)
{
	return k >= 0 && k < ARC_SELECT_MAX ? select_names[k] : "?";
}

size_t
arc_signing_nkeys(const arc_signing *sg)
{
	return sg->nkeys;
}

size_t
arc_signing_nrules(const arc_signing *sg)
{
	return sg->nrules;
}

const arc_signing_key *
arc_signing_key_at(const arc_signing *sg, size_t i)
{
	return i < sg->nkeys ? &sg->keys[i].pub : NULL;
}

const char *
arc_signing_file(const arc_signing *sg)
{
	return sg->st_name;
}

void
arc_signing_free(arc_signing *sg)
{
	if (sg == NULL)
		return;
	for (size_t i = 0; i < sg->nkeys; i++) {
		arc_signer_free(sg->keys[i].signer);
		free(sg->keys[i].name);
		free(sg->keys[i].domain);
		free(sg->keys[i].selector);
		free(sg->keys[i].path);
		free(sg->keys[i].error);
	}
	for (size_t i = 0; i < sg->nrules; i++) {
		free(sg->rules[i].pattern);
		free(sg->rules[i].norm);
		pcre2_code_free(sg->rules[i].re);
	}
	/* key_by_id's keys are its own strings */
	for (size_t i = 0; i < sg->key_by_id.cap; i++)
		free((char *)sg->key_by_id.k[i]);
	arc_strmap_free(&sg->key_by_name);
	arc_strmap_free(&sg->key_by_id);
	arc_strmap_free(&sg->addr);
	arc_strmap_free(&sg->dom);
	arc_strmap_free(&sg->sub);
	free(sg->keys);
	free(sg->rules);
	free(sg->regex);
	if (sg->mctx != NULL)	/* the lock was made with it */
		pthread_mutex_destroy(&sg->lazy_mu);
	pcre2_match_context_free(sg->mctx);
	free(sg->kt_name);
	free(sg->st_name);
	free(sg);
}
