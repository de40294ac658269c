/*
 * arctool_keys.c - arctool keygen and arctool testkey.
 *
 *   arctool keygen --domain D --selector S [--type rsa|ed25519]
 *       [--bits N] --out PEM [--force] [--format zone|bare|name]
 *   arctool testkey --domain D --selector S --key PEM
 *       [--dns-forwarder ADDR[@PORT]] [--dnssec-trust-anchor FILE]
 *       [--timeout MS]
 *
 * Contract:
 *  - keygen never replaces a file unless --force: the key is created
 *    with O_CREAT|O_EXCL, mode 0600 whatever the umask (fchmod), and a
 *    missing directory or an existing file is said as such.  With --force
 *    the key goes to a new file in the same directory, renamed over the
 *    old one when complete: never a half-written key.  The record goes to
 *    stdout: "zone" a BIND line with strings of at most 255 octets,
 *    "bare" the value alone, "name" the owner name alone.
 *  - testkey fetches S._domainkey.D's TXT record (through the forwarder,
 *    else /etc/resolv.conf), and says: the record, its key type and size,
 *    its flags (t=y testing, t=s strict), the DNSSEC state (validated
 *    only with a trust anchor), and whether it is the private key's
 *    public half.  Exit 0 if it is, 1 if not (or no usable record), 75 if
 *    the lookup failed, 64 and up for usage and file errors.
 *  - The record's tags are read by a small tokenizer (tag_value()) that
 *    changes nothing; sizes come from the decoded key, never from the
 *    record's text.
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <libgen.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <unbound.h>

#include "arctool_keys.h"

struct kopts {
	const char	*domain, *selector, *type, *out, *format, *key;
	const char	*forwarder, *anchor;
	long		 bits, timeout;
	int		 force;
};

enum { K_DOMAIN = 256, K_SELECTOR, K_TYPE, K_BITS, K_OUT, K_FORCE, K_FORMAT,
    K_KEY, K_FWD, K_TA, K_TIMEOUT };

static const struct option klongopts[] = {
	{ "domain", required_argument, NULL, K_DOMAIN },
	{ "selector", required_argument, NULL, K_SELECTOR },
	{ "type", required_argument, NULL, K_TYPE },
	{ "bits", required_argument, NULL, K_BITS },
	{ "out", required_argument, NULL, K_OUT },
	{ "force", no_argument, NULL, K_FORCE },
	{ "format", required_argument, NULL, K_FORMAT },
	{ "key", required_argument, NULL, K_KEY },
	{ "dns-forwarder", required_argument, NULL, K_FWD },
	{ "dnssec-trust-anchor", required_argument, NULL, K_TA },
	{ "timeout", required_argument, NULL, K_TIMEOUT },
	{ NULL, 0, NULL, 0 }
};

static void
kdie(int code, const char *fmt, const char *a, const char *b)
{
	fprintf(stderr, "arctool: ");
	fprintf(stderr, fmt, a, b);
	fputc('\n', stderr);
	exit(code);
}

static void
kusage(void)
{
	fprintf(stderr,
	    "usage: arctool keygen --domain D --selector S "
	    "[--type rsa|ed25519] [--bits N]\n"
	    "                  --out PEM [--force] "
	    "[--format zone|bare|name]\n"
	    "       arctool testkey --domain D --selector S --key PEM\n"
	    "                  [--dns-forwarder ADDR[@PORT]] "
	    "[--dnssec-trust-anchor FILE] [--timeout MS]\n");
	exit(EX_USAGE);
}

static long
knumber(const char *s, const char *what, long min, long max)
{
	char	*end;
	long	 v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v < min || v > max) {
		char	 range[64];

		snprintf(range, sizeof(range), "%ld to %ld", min, max);
		kdie(EX_USAGE, "%s must be a number from %s", what, range);
	}
	return v;
}

static void
kparse(int argc, char **argv, struct kopts *o)
{
	int	 c;

	memset(o, 0, sizeof(*o));
	o->bits = 2048;
	o->timeout = 10000;
	o->format = "zone";
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", klongopts, NULL)) != -1) {
		switch (c) {
		case K_DOMAIN:		o->domain = optarg; break;
		case K_SELECTOR:	o->selector = optarg; break;
		case K_TYPE:		o->type = optarg; break;
		case K_OUT:		o->out = optarg; break;
		case K_FORCE:		o->force = 1; break;
		case K_FORMAT:		o->format = optarg; break;
		case K_KEY:		o->key = optarg; break;
		case K_FWD:		o->forwarder = optarg; break;
		case K_TA:		o->anchor = optarg; break;
		case K_BITS:
			o->bits = knumber(optarg, "--bits", 1024, 8192);
			break;
		case K_TIMEOUT:
			o->timeout = knumber(optarg, "--timeout", 1, 600000);
			break;
		default:
			kusage();
		}
	}
	if (optind != argc || o->domain == NULL || o->selector == NULL)
		kusage();
}

/* The public half as the p= value: SubjectPublicKeyInfo for RSA, the
 * raw 32 octets for Ed25519 (RFC 8463), base64.  malloc'd. */
static char *
public_b64(EVP_PKEY *key)
{
	unsigned char	*der = NULL, raw[32];
	size_t		 rawlen = sizeof(raw);
	int		 derlen, ed = EVP_PKEY_get_id(key) == EVP_PKEY_ED25519;
	char		*b64;

	if (ed) {
		if (!EVP_PKEY_get_raw_public_key(key, raw, &rawlen))
			return NULL;
		der = raw;
		derlen = (int)rawlen;
	} else if ((derlen = i2d_PUBKEY(key, &der)) <= 0)
		return NULL;
	if ((b64 = malloc(4 * ((size_t)derlen + 2) / 3 + 4)) != NULL)
		EVP_EncodeBlock((unsigned char *)b64, der, derlen);
	if (!ed)
		OPENSSL_free(der);
	return b64;
}

/* ---- keygen ----------------------------------------------------------- */

/* Creates path (or, with force, a temporary beside it): 0600, never an
 * existing file.  Returns the descriptor; *tmp is the temporary's name
 * (malloc'd) when there is one. */
static int
create_key_file(const char *path, int force, char **tmp)
{
	char	*copy, *dir;
	int	 fd;

	*tmp = NULL;
	if ((copy = strdup(path)) == NULL)
		kdie(EX_OSERR, "out of memory%s%s", "", "");
	dir = dirname(copy);
	if (access(dir, F_OK) != 0)
		kdie(EX_CANTCREAT, "cannot create %s: directory %s does not "
		    "exist", path, dir);
	if (force) {
		if (asprintf(tmp, "%s.XXXXXX", path) < 0)
			kdie(EX_OSERR, "out of memory%s%s", "", "");
		fd = mkostemp(*tmp, O_CLOEXEC);
	} else
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd == -1 && errno == EEXIST)
		kdie(EX_CANTCREAT, "%s exists: not overwritten (give --force to "
		    "replace it)%s", path, "");
	if (fd == -1)
		kdie(EX_CANTCREAT, "cannot create %s: %s", *tmp ? *tmp : path,
		    strerror(errno));
	/* the umask may have taken bits away, never add any: exactly 0600 */
	if (fchmod(fd, 0600) != 0)
		kdie(EX_IOERR, "%s: %s", path, strerror(errno));
	free(copy);
	return fd;
}

/* The record as a zone line: strings of at most 255 octets (RFC 1035
 * character-strings), all in one TXT record. */
static void
print_zone(const char *sel, const char *dom, const char *rec)
{
	size_t	 n = strlen(rec), i;

	printf("%s._domainkey.%s. IN TXT", sel, dom);
	for (i = 0; i < n; i += 255)
		printf(" \"%.*s\"", (int)(n - i < 255 ? n - i : 255), rec + i);
	printf("\n");
}

int
arctool_keygen(int argc, char **argv)
{
	struct kopts	 o;
	EVP_PKEY	*key;
	FILE		*fp;
	char		*b64, *rec, *tmp;
	int		 fd, ed;

	kparse(argc, argv, &o);
	if (o.out == NULL)
		kusage();
	if (strcmp(o.format, "zone") != 0 && strcmp(o.format, "bare") != 0 &&
	    strcmp(o.format, "name") != 0)
		kdie(EX_USAGE, "unknown --format %s (zone, bare or name)%s",
		    o.format, "");
	ed = o.type && strcmp(o.type, "ed25519") == 0;
	if (o.type && !ed && strcmp(o.type, "rsa") != 0)
		kdie(EX_USAGE, "unknown key type %s%s", o.type, "");
	/* before the key costs anything: is there a place for it? */
	fd = create_key_file(o.out, o.force, &tmp);
	key = ed ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519") :
	    EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)o.bits);
	if (key == NULL || (fp = fdopen(fd, "w")) == NULL) {
		unlink(tmp ? tmp : o.out);
		kdie(EX_SOFTWARE, "key generation failed%s%s", "", "");
	}
	if (!PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL) ||
	    fflush(fp) != 0 || fsync(fileno(fp)) != 0 || fclose(fp) != 0) {
		unlink(tmp ? tmp : o.out);
		kdie(EX_IOERR, "cannot write %s%s", o.out, "");
	}
	if (tmp != NULL && rename(tmp, o.out) != 0) {
		unlink(tmp);
		kdie(EX_CANTCREAT, "cannot replace %s: %s", o.out,
		    strerror(errno));
	}
	free(tmp);
	if ((b64 = public_b64(key)) == NULL ||
	    asprintf(&rec, "v=DKIM1; k=%s; p=%s", ed ? "ed25519" : "rsa",
	    b64) < 0)
		kdie(EX_SOFTWARE, "cannot export the public key%s%s", "", "");
	if (strcmp(o.format, "zone") == 0)
		print_zone(o.selector, o.domain, rec);
	else if (strcmp(o.format, "bare") == 0)
		printf("%s\n", rec);
	else
		printf("%s._domainkey.%s\n", o.selector, o.domain);
	free(rec);
	free(b64);
	EVP_PKEY_free(key);
	return 0;
}

/* ---- testkey ---------------------------------------------------------- */

/*
 * The value of tag name in a DKIM key record (RFC 6376 §3.6.1: tag-list
 * "t1=v1; t2=v2"), white space around it dropped, in buf; NULL if the
 * tag is absent.  The record is not changed.
 */
static const char *
tag_value(const char *rec, const char *name, char *buf, size_t len)
{
	const char	*p = rec, *e, *eq, *v, *ve;
	size_t		 nl = strlen(name), n;

	while (*p) {
		e = p + strcspn(p, ";");
		while (p < e && (*p == ' ' || *p == '\t' || *p == '\r' ||
		    *p == '\n'))
			p++;
		if ((eq = memchr(p, '=', (size_t)(e - p))) != NULL) {
			ve = eq;
			while (ve > p && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			if ((size_t)(ve - p) == nl && strncmp(p, name, nl) == 0) {
				v = eq + 1;
				while (v < e && (*v == ' ' || *v == '\t'))
					v++;
				ve = e;
				while (ve > v && (ve[-1] == ' ' ||
				    ve[-1] == '\t' || ve[-1] == '\r' ||
				    ve[-1] == '\n'))
					ve--;
				n = (size_t)(ve - v) < len - 1 ?
				    (size_t)(ve - v) : len - 1;
				memcpy(buf, v, n);
				buf[n] = '\0';
				return buf;
			}
		}
		p = *e ? e + 1 : e;
	}
	return NULL;
}

/* base64 without the white space a record may fold it with; malloc'd
 * bytes, *outlen their number; NULL if it is not base64. */
static unsigned char *
b64_decode(const char *s, size_t *outlen)
{
	char		*clean;
	unsigned char	*out;
	size_t		 n = 0, pad = 0;
	int		 k;

	if ((clean = malloc(strlen(s) + 1)) == NULL)
		return NULL;
	for (; *s; s++)
		if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
			clean[n++] = *s;
	clean[n] = '\0';
	if (n == 0 || n % 4 != 0 || n > 16384 ||
	    (out = malloc(n / 4 * 3 + 1)) == NULL) {
		free(clean);
		return NULL;
	}
	if ((k = EVP_DecodeBlock(out, (unsigned char *)clean, (int)n)) < 0) {
		free(clean);
		free(out);
		return NULL;
	}
	pad = (clean[n - 1] == '=') + (n > 1 && clean[n - 2] == '=');
	free(clean);
	*outlen = (size_t)k - pad;
	return out;
}

/* Joins the character-strings of one TXT rdata; NULL if malformed. */
static char *
txt_join(const unsigned char *d, size_t len)
{
	char	*out, *o;
	size_t	 i = 0, l;

	if ((out = malloc(len + 1)) == NULL)
		return NULL;
	o = out;
	while (i < len) {
		l = d[i++];
		if (l > len - i || memchr(d + i, '\0', l) != NULL) {
			free(out);
			return NULL;
		}
		memcpy(o, d + i, l);
		o += l;
		i += l;
	}
	*o = '\0';
	return out;
}

struct lookup {
	int			 done;
	int			 err;
	struct ub_result	*res;
};

static void
lookup_done(void *arg, int err, struct ub_result *res)
{
	struct lookup	*l = arg;

	l->done = 1;
	l->err = err;
	l->res = res;
}

/* The TXT records of qname, or exits 75 saying why not. */
static struct ub_result *
fetch(const struct kopts *o, const char *qname)
{
	struct ub_ctx	*ub;
	struct lookup	 l = { 0, 0, NULL };
	struct pollfd	 pfd;
	struct timespec	 t0, t;
	long		 left;
	int		 r;

	if ((ub = ub_ctx_create()) == NULL)
		kdie(EX_SOFTWARE, "cannot create a resolver%s%s", "", "");
	if (o->forwarder != NULL)
		r = ub_ctx_set_fwd(ub, o->forwarder);
	else
		r = ub_ctx_resolvconf(ub, NULL);
	if (r != 0)
		kdie(EX_USAGE, "resolver: %s%s", ub_strerror(r), "");
	if (o->anchor != NULL && (access(o->anchor, R_OK) != 0 ||
	    (r = ub_ctx_add_ta_file(ub, o->anchor)) != 0))
		kdie(EX_NOINPUT, "dnssec-trust-anchor %s: %s", o->anchor,
		    r ? ub_strerror(r) : strerror(errno));
	if ((r = ub_ctx_async(ub, 1)) != 0 ||
	    (r = ub_resolve_async(ub, qname, 16, 1, &l, lookup_done,
	    NULL)) != 0)
		kdie(EX_SOFTWARE, "resolver: %s%s", ub_strerror(r), "");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!l.done) {
		clock_gettime(CLOCK_MONOTONIC, &t);
		left = o->timeout - ((long)(t.tv_sec - t0.tv_sec) * 1000 +
		    (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0) {
			fprintf(stderr, "arctool: %s: no answer within %ld ms\n",
			    qname, o->timeout);
			exit(EX_TEMPFAIL);
		}
		pfd.fd = ub_fd(ub);
		pfd.events = POLLIN;
		if (poll(&pfd, 1, (int)(left < 100 ? left : 100)) > 0)
			ub_process(ub);
	}
	if (l.err != 0) {
		fprintf(stderr, "arctool: %s: %s\n", qname, ub_strerror(l.err));
		exit(EX_TEMPFAIL);
	}
	/* the context goes; the result stays the caller's */
	ub_ctx_delete(ub);
	return l.res;
}

/* The published key, decoded: SubjectPublicKeyInfo or (some publish it
 * so) a bare RSAPublicKey for k=rsa, 32 raw octets for k=ed25519. */
static EVP_PKEY *
published_key(const char *k, const unsigned char *der, size_t n)
{
	const unsigned char	*p = der;
	EVP_PKEY		*pk;

	if (strcmp(k, "ed25519") == 0)
		return n == 32 ? EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519,
		    NULL, der, n) : NULL;
	if ((pk = d2i_PUBKEY(NULL, &p, (long)n)) != NULL)
		return pk;
	p = der;
	return d2i_PublicKey(EVP_PKEY_RSA, NULL, &p, (long)n);
}

int
arctool_testkey(int argc, char **argv)
{
	struct kopts		 o;
	struct ub_result	*res;
	EVP_PKEY		*priv, *pub = NULL;
	FILE			*fp;
	char			*qname, *rec = NULL, *txt, k[32], t[64];
	char			 pbuf[16384];
	const char		*kv, *pv, *tv, *dnssec;
	unsigned char		*der = NULL;
	size_t			 dlen = 0;
	int			 i, nrr = 0, ndkim = 0, ok = 1;

	kparse(argc, argv, &o);
	if (o.key == NULL)
		kusage();
	if ((fp = fopen(o.key, "re")) == NULL)
		kdie(EX_NOINPUT, "%s: %s", o.key, strerror(errno));
	priv = PEM_read_PrivateKey(fp, NULL, NULL, NULL);
	fclose(fp);
	if (priv == NULL)
		kdie(EX_DATAERR, "%s: not a PEM private key%s", o.key, "");
	if (asprintf(&qname, "%s._domainkey.%s", o.selector, o.domain) < 0)
		kdie(EX_OSERR, "out of memory%s%s", "", "");
	res = fetch(&o, qname);
	printf("record: %s\n", qname);
	dnssec = o.anchor == NULL ? "not checked (no --dnssec-trust-anchor)" :
	    res->bogus ? "bogus" : res->secure ? "secure" :
	    "insecure (the zone is not signed)";
	if (res->bogus && res->why_bogus)
		printf("dnssec: bogus (%s)\n", res->why_bogus);
	else
		printf("dnssec: %s\n", dnssec);
	if (!res->havedata) {
		printf("result: no TXT record (%s)\n", res->nxdomain ?
		    "the name does not exist" : "no TXT data at the name");
		ok = 0;
		goto done;
	}
	/* the key record is the TXT record that starts with v=DKIM1, or
	 * the only one (v= is optional) */
	for (i = 0; res->data[i] != NULL; i++)
		nrr++;
	for (i = 0; res->data[i] != NULL; i++) {
		if ((txt = txt_join((unsigned char *)res->data[i],
		    (size_t)res->len[i])) == NULL)
			continue;
		if (nrr == 1 || strncmp(txt, "v=DKIM1", 7) == 0) {
			ndkim++;
			if (rec == NULL) {
				rec = txt;
				continue;
			}
		}
		free(txt);
	}
	if (rec == NULL || ndkim > 1) {
		printf("result: %s\n", rec == NULL ? "no key record among the "
		    "TXT records" : "more than one v=DKIM1 record: verifiers "
		    "fail on it");
		ok = 0;
		goto done;
	}
	printf("published: %s\n", rec);
	kv = tag_value(rec, "k", k, sizeof(k));
	if (kv == NULL)
		kv = "rsa";
	pv = tag_value(rec, "p", pbuf, sizeof(pbuf));
	tv = tag_value(rec, "t", t, sizeof(t));
	printf("flags: %s%s\n", tv ? "t=" : "none", tv ? tv : "");
	if (tv && strchr(tv, 'y'))
		printf("note: t=y: the domain is testing, verifiers may "
		    "treat failures as none\n");
	if (pv == NULL || *pv == '\0') {
		printf("result: %s\n", pv ? "the key is revoked (p= is empty)" :
		    "the record has no p= tag");
		ok = 0;
		goto done;
	}
	if ((der = b64_decode(pv, &dlen)) == NULL ||
	    (pub = published_key(kv, der, dlen)) == NULL) {
		printf("result: the p= value is not a %s public key\n", kv);
		ok = 0;
		goto done;
	}
	printf("key: %s, %d bits\n", kv, EVP_PKEY_get_bits(pub));
	if (EVP_PKEY_get_id(pub) == EVP_PKEY_RSA &&
	    EVP_PKEY_get_bits(pub) < 1024) {
		printf("note: below 1024 bits: verifiers refuse it "
		    "(RFC 8301)\n");
		ok = 0;
	}
	if (EVP_PKEY_eq(priv, pub) == 1)
		printf("match: the published key is the public half of %s\n",
		    o.key);
	else {
		printf("match: NO, the published key is not the public half "
		    "of %s\n", o.key);
		ok = 0;
	}
	printf("result: %s\n", ok ? "OK" : "not usable");
done:
	free(der);
	free(rec);
	free(qname);
	EVP_PKEY_free(pub);
	EVP_PKEY_free(priv);
	ub_resolve_free(res);
	return ok ? 0 : 1;
}
