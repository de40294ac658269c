/*
 * arc_policy.c - trusted sealers, the DMARC override verdict and the
 * §7.2.2 report comment; see arc_policy.h for the contract.
 *
 * Everything read here comes from the message: the AAR of a trusted
 * sealer is covered by a seal that verified, but the From field and the
 * Authentication-Results are not; values are copied only through
 * token() and safe_copy(), so no byte a sender chose reaches a log line
 * or a header unless it is printable and harmless there.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arc_mailaddr.h"
#include "arc_policy.h"

struct arc_policy {
	char	**v;		/* sorted, lower case; "*.x" for wildcards */
	size_t	  n, cap;
};

/* ---- the trusted-sealer list ------------------------------------------- */

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lower-cases a domain into out (a final dot dropped); 0 if it is not a
 * plausible domain: LDH labels (and '_'), 1..63 bytes, 253 in all. */
static int
norm_domain(const char *d, size_t n, char *out, size_t outlen)
{
	size_t	 i, label = 0;

	if (n > 0 && d[n - 1] == '.')
		n--;
	if (n == 0 || n > 253 || n >= outlen)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)d[i];

		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if (isalnum(c) || c == '-' || c == '_') {
			if (++label > 63)
				return 0;
		} else
			return 0;
		out[i] = (char)tolower(c);
	}
	out[n] = '\0';
	return label > 0;
}

static int
add_entry(arc_policy *p, const char *s, size_t n, const char *where,
    char *err, size_t errlen)
{
	char	 buf[260], shown[81];
	size_t	 w = n > 2 && s[0] == '*' && s[1] == '.' ? 2 : 0, i;

	if (!norm_domain(s + w, n - w, buf + w, sizeof(buf) - w)) {
		/* the entry as printable ASCII: errors reach logs, ttys */
		for (i = 0; i < n && i < sizeof(shown) - 1; i++)
			shown[i] = (unsigned char)s[i] < 0x20 ||
			    (unsigned char)s[i] > 0x7e ? '?' : s[i];
		shown[i] = '\0';
		snprintf(err, errlen, "%s: trusted-sealers: \"%s\" is not a "
		    "domain or *.domain", where, shown);
		return -1;
	}
	if (w)
		memcpy(buf, "*.", 2);
	if (p->n == p->cap) {
		size_t	 cap = p->cap ? p->cap * 2 : 16;
		char	**nv = realloc(p->v, cap * sizeof(*nv));

		if (nv == NULL)
			goto nomem;
		p->v = nv;
		p->cap = cap;
	}
	if ((p->v[p->n] = strdup(buf)) == NULL)
		goto nomem;
	p->n++;
	return 0;
nomem:
	snprintf(err, errlen, "out of memory");
	return -1;
}

static int add_list(arc_policy *, const char *, const char *, int, char *,
    size_t);

static int
add_file(arc_policy *p, const char *path, char *err, size_t errlen)
{
	FILE		*fp;
	char		*line = NULL, where[320];
	size_t		 cap = 0;
	unsigned	 lineno = 0;
	int		 r = 0;

	if ((fp = fopen(path, "r")) == NULL) {
		snprintf(err, errlen, "trusted-sealers: %s: %s", path,
		    strerror(errno));
		return -1;
	}
	while (r == 0 && getline(&line, &cap, fp) != -1) {
		lineno++;
		line[strcspn(line, "#")] = '\0';
		snprintf(where, sizeof(where), "%s:%u", path, lineno);
		r = add_list(p, line, where, 0, err, errlen);
	}
	free(line);
	fclose(fp);
	return r;
}

static int
add_list(arc_policy *p, const char *s, const char *where, int files,
    char *err, size_t errlen)
{
	const char	*sep = " \t\r\n,";

	for (s += strspn(s, sep); *s; s += strspn(s, sep)) {
		size_t	 n = strcspn(s, sep);

		if (n > 5 && strncmp(s, "file:", 5) == 0) {
			char	*path;
			int	 r;

			if (!files) {
				snprintf(err, errlen, "%s: trusted-sealers: "
				    "file: inside a file", where);
				return -1;
			}
			if ((path = strndup(s + 5, n - 5)) == NULL) {
				snprintf(err, errlen, "out of memory");
				return -1;
			}
			r = add_file(p, path, err, errlen);
			free(path);
			if (r != 0)
				return -1;
		} else if (add_entry(p, s, n, where, err, errlen) != 0)
			return -1;
		s += n;
	}
	return 0;
}

arc_policy *
arc_policy_create(const char *spec, const char *where, char *err,
    size_t errlen)
{
	arc_policy	*p;

	if ((p = calloc(1, sizeof(*p))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (spec && add_list(p, spec, where ? where : "arc.conf", 1, err,
	    errlen) != 0) {
		arc_policy_free(p);
		return NULL;
	}
	if (p->n)
		qsort(p->v, p->n, sizeof(*p->v), cmp_str);
	return p;
}

void
arc_policy_free(arc_policy *p)
{
	if (p == NULL)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
	free(p);
}

size_t
arc_policy_size(const arc_policy *p)
{
	return p ? p->n : 0;
}

static int
has(const arc_policy *p, const char *key)
{
	return bsearch(&key, p->v, p->n, sizeof(*p->v), cmp_str) != NULL;
}

int
arc_policy_trusts(const arc_policy *p, const char *domain)
{
	char	 d[256], w[258];
	size_t	 i;

	if (p == NULL || p->n == 0 || domain == NULL ||
	    !norm_domain(domain, strlen(domain), d, sizeof(d)))
		return 0;
	if (has(p, d))
		return 1;
	for (i = 0; d[i]; i++)
		if (d[i] == '.') {
			snprintf(w, sizeof(w), "*.%s", d + i + 1);
			if (has(p, w))
				return 1;
		}
	return 0;
}

/* ---- reading the message ------------------------------------------------ */

/* A result token into out: the tokenizer only yields token characters,
 * so bounding the length is all that is left. */
static void
token(char *out, size_t outlen, const char *s, size_t n)
{
	if (n >= outlen)
		n = outlen - 1;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)s[i]);
	out[n] = '\0';
}

static int
is(const char *s, size_t n, const char *lit)
{
	return n == strlen(lit) && strncasecmp(s, lit, n) == 0;
}

/* Whether id is ours: authserv_id, or one of the comma/colon list. */
static int
our_id(const char *id, const char *authserv_id, const char *trusted)
{
	size_t	 n = strlen(id);

	if (authserv_id && strcasecmp(id, authserv_id) == 0)
		return 1;
	while (trusted && *trusted) {
		size_t l = strcspn(trusted, ",: \t");

		if (l == n && l > 0 && strncasecmp(trusted, id, n) == 0)
			return 1;
		trusted += l;
		trusted += strspn(trusted, ",: \t");
	}
	return 0;
}

/* The domain of the From field's first mailbox, "" if none. */
static void
from_domain(const char *v, size_t len, char *out, size_t outlen)
{
	char		 addr[512];
	const char	*at;

	out[0] = '\0';
	if (arc_mailaddr_from(v, len, addr, sizeof(addr)) != 0 ||
	    (at = strrchr(addr, '@')) == NULL ||
	    !norm_domain(at + 1, strlen(at + 1), out, outlen))
		out[0] = '\0';
}

/* Our own dmarc= result from one A-R value, if it is ours and has one. */
static void
local_dmarc(arc_verdict *vd, const char *v, size_t len,
    const char *authserv_id, const char *trusted)
{
	char		 id[256];
	long		 off;
	size_t		 pos;
	arc_resinfo	 ri;

	if (vd->local_dmarc[0] || (off = arc_authres_split(v, len, id,
	    sizeof(id))) < 0 || !our_id(id, authserv_id, trusted))
		return;
	for (pos = (size_t)off; arc_authres_next(v, len, &pos, &ri); )
		if (is(ri.method, ri.method_len, "dmarc")) {
			token(vd->local_dmarc, sizeof(vd->local_dmarc),
			    ri.result, ri.result_len);
			return;
		}
}

/* A result field: the first result seen, replaced by a later "pass". */
static void
note(char *field, size_t n, const arc_resinfo *ri)
{
	if (field[0] == '\0' || (strcmp(field, "pass") != 0 &&
	    is(ri->result, ri->result_len, "pass")))
		token(field, n, ri->result, ri->result_len);
}

/* What the trusted sealer's AAR recorded. */
static void
read_aar(arc_verdict *vd, const char *aar)
{
	char		 id[256], val[256], d[256];
	long		 off;
	size_t		 pos, len = strlen(aar);
	arc_resinfo	 ri;
	int		 pass;

	if ((off = arc_authres_split(aar, len, id, sizeof(id))) < 0)
		return;
	for (pos = (size_t)off; arc_authres_next(aar, len, &pos, &ri); ) {
		pass = is(ri.result, ri.result_len, "pass");
		if (is(ri.method, ri.method_len, "spf"))
			note(vd->spf, sizeof(vd->spf), &ri);
		else if (is(ri.method, ri.method_len, "dkim")) {
			note(vd->dkim, sizeof(vd->dkim), &ri);
			/* header.d, else the domain of header.i */
			if (pass && vd->from_domain[0] &&
			    ((arc_resinfo_prop(&ri, "header.d", val,
			    sizeof(val)) && norm_domain(val, strlen(val), d,
			    sizeof(d))) || (arc_resinfo_prop(&ri, "header.i",
			    val, sizeof(val)) && strchr(val, '@') &&
			    norm_domain(strchr(val, '@') + 1,
			    strlen(strchr(val, '@') + 1), d, sizeof(d)))) &&
			    strcmp(d, vd->from_domain) == 0)
				vd->explains = 1;
		} else if (is(ri.method, ri.method_len, "dmarc")) {
			/* a pass explains only the From it names, and it must
			 * name ours: a pass for another From, or for none, or
			 * a message without a From domain, explains nothing */
			if (pass && (vd->from_domain[0] == '\0' ||
			    !arc_resinfo_prop(&ri, "header.from", val,
			    sizeof(val)) || !norm_domain(val, strlen(val), d,
			    sizeof(d)) || strcmp(d, vd->from_domain) != 0))
				continue;
			note(vd->dmarc, sizeof(vd->dmarc), &ri);
			if (pass)
				vd->explains = 1;
		}
	}
}

void
arc_policy_evaluate(const arc_policy *p, const arc_msg *m,
    const char *authserv_id, const char *trusted_ids,
    const char *const *host_ar, arc_verdict *vd)
{
	const char	*v;
	size_t		 len;
	unsigned	 pos = 0;
	int		 i, n = arc_msg_nsets(m);

	memset(vd, 0, sizeof(*vd));
	vd->chain_pass = arc_msg_cv(m) == ARC_CV_PASS;
	if ((v = arc_msg_field_value(m, "From", &len)) != NULL)
		from_domain(v, len, vd->from_domain, sizeof(vd->from_domain));
	/* the host's own results are the newest, then the message's */
	for (i = 0; host_ar && host_ar[i]; i++)
		local_dmarc(vd, host_ar[i], strlen(host_ar[i]), authserv_id,
		    trusted_ids);
	while ((v = arc_msg_field_next(m, "Authentication-Results", &pos,
	    &len)) != NULL)
		local_dmarc(vd, v, len, authserv_id, trusted_ids);

	if (!vd->chain_pass) {
		snprintf(vd->why, sizeof(vd->why), "%s", arc_msg_cv(m) ==
		    ARC_CV_NONE ? "no ARC chain" : "ARC chain failed");
		return;
	}
	for (i = 1; i <= n && vd->instance == 0; i++) {
		const arc_set_info *si = arc_msg_set(m, i);

		if (si && si->as_domain && si->aar &&
		    arc_policy_trusts(p, si->as_domain) &&
		    norm_domain(si->as_domain, strlen(si->as_domain),
		    vd->domain, sizeof(vd->domain))) {
			vd->instance = i;
			read_aar(vd, si->aar);
		}
	}
	if (vd->instance == 0) {
		snprintf(vd->why, sizeof(vd->why), "no trusted sealer in the "
		    "chain");
		return;
	}
	if (!vd->explains && vd->from_domain[0] == '\0')
		snprintf(vd->why, sizeof(vd->why), "trusted sealer %s at i=%d: "
		    "the message has no From domain to align with", vd->domain,
		    vd->instance);
	else if (!vd->explains)
		snprintf(vd->why, sizeof(vd->why), "trusted sealer %s at i=%d "
		    "recorded no dmarc or dkim pass for %s", vd->domain,
		    vd->instance, vd->from_domain[0] ? vd->from_domain :
		    "the From domain");
	else if (vd->local_dmarc[0] && strcmp(vd->local_dmarc, "fail") != 0)
		snprintf(vd->why, sizeof(vd->why), "trusted sealer %s at i=%d "
		    "recorded a pass; local dmarc=%s: nothing to override",
		    vd->domain, vd->instance, vd->local_dmarc);
	else {
		vd->override = 1;
		snprintf(vd->why, sizeof(vd->why), "trusted sealer %s at i=%d "
		    "recorded %s=pass; local dmarc=%s: may be overridden",
		    vd->domain, vd->instance, strcmp(vd->dmarc, "pass") == 0 ?
		    "dmarc" : "dkim", vd->local_dmarc[0] ? vd->local_dmarc :
		    "unknown");
	}
}

/* ---- RFC 8617 §7.2.2 --------------------------------------------------- */

/* A d= or s= value for the comment: what a domain or selector may hold,
 * anything else as '?', at most 253 bytes. */
static size_t
safe_copy(char *o, const char *s)
{
	size_t	 i;

	for (i = 0; s && s[i] && i < 253; i++)
		o[i] = isalnum((unsigned char)s[i]) || strchr("._-", s[i]) ?
		    s[i] : '?';
	return i;
}

/* The client address set 1's AAR recorded, into ip; 0 if none. */
static int
first_ip(const char *aar, char *ip, size_t iplen)
{
	static const char *const props[] = { "smtp.remote-ip", "policy.iprev",
	    "smtp.client-ip" };
	char		 id[256];
	long		 off;
	size_t		 pos, len = strlen(aar), n;
	arc_resinfo	 ri;

	if ((off = arc_authres_split(aar, len, id, sizeof(id))) < 0)
		return 0;
	for (size_t k = 0; k < sizeof(props) / sizeof(props[0]); k++)
		for (pos = (size_t)off; arc_authres_next(aar, len, &pos,
		    &ri); )
			if (arc_resinfo_prop(&ri, props[k], ip, iplen) &&
			    (n = strlen(ip)) >= 2 && strspn(ip,
			    "0123456789abcdefABCDEF.:") == n &&
			    strpbrk(ip, ".:") != NULL)
				return 1;
	return 0;
}

char *
arc_dmarc_comment(const arc_msg *m)
{
	const arc_set_info	*si;
	int			 i, n = arc_msg_nsets(m);
	char			*out, *o, ip[64];

	if (n < 0 || n > 50)
		n = 0;
	if ((out = malloc(64 + (size_t)n * 540 + sizeof(ip))) == NULL)
		return NULL;
	o = out + sprintf(out, "arc=%s", arc_cv_name(arc_msg_cv(m)));
	for (i = n; i >= 1; i--) {
		if ((si = arc_msg_set(m, i)) == NULL || si->instance == 0)
			continue;
		o += sprintf(o, " as[%d].d=", i);
		o += safe_copy(o, si->as_domain);
		o += sprintf(o, " as[%d].s=", i);
		o += safe_copy(o, si->as_selector);
	}
	if ((si = arc_msg_set(m, 1)) != NULL && si->instance && si->aar &&
	    first_ip(si->aar, ip, sizeof(ip)))
		o += sprintf(o, " remote-ip[1]=%s", ip);
	*o = '\0';
	return out;
}
