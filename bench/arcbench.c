/*
 * arcbench - ARC sealing and verifying speed against OpenSSL's own limits
 * and against dkimpy, and peak memory of the tools; "make bench" runs it
 * (bench/run.sh), docs/performance.md explains the figures.
 *
 *   arcbench [-nq] [-t SECONDS] [-r ROUNDS] [-a rsa|ed25519|all]
 *       [-k own|same] [-M MB] [-B BUILDDIR] [-c CASE] [-P PEERCMD]
 *       [-w DIR] [-K KERNEL]
 *
 *   -t  CPU seconds each limit and case runs in all (default 2), cut
 *       into -r rounds (default 10); each slice runs at least once
 *   -a  algorithms (default all: rsa-sha256 and ed25519-sha256)
 *   -k  own: each hop of a chain seals with its own key, domain and
 *       selector (default); same: every hop with one key and identity
 *   -M  size of the large message of the memory test (default 50 MB);
 *       the small one is 1 MB.  -n skips the memory test.
 *   -B  where arctool and filter-arc are (default: arcbench's directory)
 *   -P  the peer: a command that takes "SECONDS CASEFILE ROUNDS" (run.sh
 *       passes "/usr/bin/python3 bench/dkimpy_bench.py"); none if absent
 *   -w  keep the corpus (messages, keys, key table, case file) in DIR
 *       instead of a temporary directory removed at the end
 *   -c  run only the cases whose name contains this text (for
 *       profiling: "arcbench -c 'seal 2 KB' -a rsa -n -t 5")
 *   -K  the body canonicalization kernel: avx512, avx2, sse2, generic or
 *       none (core/arc_canon_fast.h); default the best this CPU has
 *
 * Contract:
 *  - One run measures everything in this process, one thread: the limits
 *    (EVP with the very keys the cases use: RSA-2048 and Ed25519 sign
 *    and verify, SHA-256 over 1 MB buffers) and the cases, each once
 *    untimed, then in rounds: every round runs every limit and every
 *    case for -t/-r CPU seconds of this thread, and each keeps its best
 *    round.  Interleaving and best-of keep the ratios meaningful on a
 *    machine that is busy with something else; CPU time keeps other
 *    processes' time slices out.  Keys come from a txt lookup callback
 *    (parsed once, then from the library's key cache), never from DNS.
 *    Chains are built beforehand by the library itself.
 *  - Every operation is checked (sealed, cv=pass): a wrong result exits
 *    with status 1, so a quick run (bench-smoke) proves the benchmark
 *    and the library still work.  Speed is printed, never judged by the
 *    exit status.
 *  - White-box in one place: the "body canon" case drives the core's
 *    arc_bodyhash (core/arc_canon.h) directly, to isolate body hashing.
 *  - Peak memory of a child is its own VmHWM, read at its exit under
 *    ptrace (a plain wait4 ru_maxrss would also count the pages of this
 *    process it was forked from); without ptrace it falls back to
 *    ru_maxrss and says so.  filter-arc gets one SMTP session on a pipe
 *    (config handshake, connect, transaction, data-lines, "."); its
 *    VmHWM is read once the "." has come back, while it still runs.
 */
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include "arc.h"
#include "arc_canon.h"

#define MAXHOPS		50
#define NALGS		2
#define AUTHSERV	"bench.example"
#define BENCH_T		1795000000	/* t= of every signature */
#define MB		(1024 * 1024)
#define FSID		"00000000000000a1"	/* filter-arc session */
#define FTOK		"00000000000000b1"

enum kind { K_SEAL, K_VERIFY, K_VSEAL, K_BODY };

struct alg {
	const char	*name;		/* a= value */
	const char	*sel;		/* selector */
	int		 ed;
	EVP_PKEY	*key[MAXHOPS + 1];	/* 0: ours, 1..50: the hops */
	arc_signer	*signer[MAXHOPS + 1];
	char		*keyfile;	/* ours as PEM, for arctool and peer */
	char		*chain[MAXHOPS + 1];	/* n hops on the 2 KB message */
	size_t		 chainlen[MAXHOPS + 1];
	double		 sign, verify;	/* EVP limits, per second */
};

struct bcase {
	const char	*name;
	enum kind	 kind;
	struct alg	*alg;		/* NULL for K_BODY */
	const char	*msg;
	size_t		 len;
	int		 nsign, nverify;
	size_t		 hashed;	/* body bytes canonicalized, hashed */
	unsigned long long seal_hashed;	/* verify: header bytes the seals
					 * hashed (arc_msg_get_stats) */
	char		 file[PATH_MAX];	/* the message, for the peer */
	double		 rate, limit, peer;	/* peer < 0: none */
	char		 peer_note[128];
};

struct keyrec {
	char	*qname;
	char	*txt;
};

static struct {
	double		 secs;
	int		 rounds;
	int		 quiet, same_key, no_mem, algs;
	size_t		 big_mb;
	const char	*builddir, *peer, *workdir, *only, *kernel;
	char		 dir[PATH_MAX];
	int		 keep_dir;
	arc_lib		*lib;
	struct keyrec	 keys[NALGS * (MAXHOPS + 1)];
	int		 nkeys;
	double		 sha;		/* SHA-256 bytes per second */
} g;

static struct alg algs[NALGS] = {
	{ .name = "rsa-sha256", .sel = "rsa", .ed = 0 },
	{ .name = "ed25519-sha256", .sel = "ed", .ed = 1 },
};

static void
die(const char *fmt, ...)
{
	va_list	 ap;

	fprintf(stderr, "arcbench: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void
progress(const char *fmt, ...)
{
	va_list	 ap;

	if (g.quiet)
		return;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fflush(stderr);
}

static void *
xmalloc(size_t n)
{
	void	*p;

	if ((p = malloc(n)) == NULL)
		die("out of memory");
	return p;
}

static char *
xasprintf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 r;

	va_start(ap, fmt);
	r = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (r < 0)
		die("out of memory");
	return s;
}

/* CPU time of this thread: other processes taking the CPU away do not
 * count against us (cache and SMT contention still do). */
static double
cpu_now(void)
{
	struct timespec	 t;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* One measured quantity: a limit or a case.  Each runs in g.rounds
 * slices, interleaved with all the others, and keeps its best rate:
 * load from elsewhere only ever slows a slice down. */
struct meas {
	const char	*what;
	int		(*op)(void *);
	void		*arg;
	double		*rate;		/* where the best rate goes */
	double		 scale;		/* rate unit: ops times this */
};

/* Runs op for secs of CPU time (at least once); ops per CPU second.
 * The clock is read after batches that grow to about a millisecond,
 * so reading it (a system call) costs the fast operations nothing. */
static double
run_slice(const struct meas *m, double secs)
{
	double		 t0, el;
	unsigned long	 n = 0, batch = 1, i;

	t0 = cpu_now();
	for (;;) {
		for (i = 0; i < batch; i++)
			if (m->op(m->arg) != 0)
				die("%s: failed on run %lu", m->what,
				    n + i + 1);
		n += batch;
		if ((el = cpu_now() - t0) >= secs)
			break;
		if (el < 1e-3 * (double)n / (double)batch &&
		    batch < 1UL << 20)
			batch *= 2;
	}
	return (double)n / el * m->scale;
}

static void
run_all(struct meas *ms, int n)
{
	double	 r;
	int	 i, round;

	for (i = 0; i < n; i++) {
		if (ms[i].op(ms[i].arg) != 0)	/* warm-up, untimed */
			die("%s: failed on the warm-up run", ms[i].what);
		*ms[i].rate = 0;
	}
	for (round = 1; round <= g.rounds; round++) {
		progress("round %d/%d:", round, g.rounds);
		for (i = 0; i < n; i++) {
			r = run_slice(&ms[i], g.secs / g.rounds);
			if (r > *ms[i].rate)
				*ms[i].rate = r;
			progress(".");
		}
		progress("\n");
	}
}

/* ---- files -------------------------------------------------------------- */

static void
write_file(const char *path, const void *p, size_t n, mode_t mode)
{
	int	 fd;

	if ((fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, mode)) == -1)
		die("%s: %s", path, strerror(errno));
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w <= 0)
			die("%s: %s", path, strerror(errno));
		p = (const char *)p + w;
		n -= (size_t)w;
	}
	if (close(fd) != 0)
		die("%s: %s", path, strerror(errno));
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *f)
{
	(void)st;
	(void)flag;
	(void)f;
	return remove(path);
}

static void
cleanup(void)
{
	if (g.dir[0] && !g.keep_dir)
		nftw(g.dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- keys --------------------------------------------------------------- */

static char *
b64(const unsigned char *p, size_t n)
{
	char	*s = xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)s, p, (int)n);
	return s;
}

static char *
key_record(EVP_PKEY *k, int ed)
{
	unsigned char	 raw[32], *der = NULL;
	size_t		 rawlen = sizeof(raw);
	char		*p, *rec;
	int		 n;

	if (ed) {
		if (EVP_PKEY_get_raw_public_key(k, raw, &rawlen) != 1)
			die("cannot export an Ed25519 public key");
		p = b64(raw, rawlen);
	} else {
		if ((n = i2d_PUBKEY(k, &der)) <= 0)
			die("cannot export an RSA public key");
		p = b64(der, (size_t)n);
		OPENSSL_free(der);
	}
	rec = xasprintf("v=DKIM1; k=%s; p=%s", ed ? "ed25519" : "rsa", p);
	free(p);
	return rec;
}

static char *
key_pem(EVP_PKEY *k, size_t *len)
{
	BIO	*bio = BIO_new(BIO_s_mem());
	char	*data, *copy;
	long	 n;

	if (bio == NULL || PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0,
	    NULL, NULL) != 1)
		die("cannot write a PEM key");
	n = BIO_get_mem_data(bio, &data);
	copy = xmalloc((size_t)n + 1);
	memcpy(copy, data, (size_t)n);
	copy[n] = '\0';
	*len = (size_t)n;
	BIO_free(bio);
	return copy;
}

/* Where hop (0: the benchmark's own seal) signs from. */
static const char *
hop_domain(int hop, char *buf, size_t n)
{
	if (hop == 0 || g.same_key)
		snprintf(buf, n, "%s", AUTHSERV);
	else
		snprintf(buf, n, "hop%d.%s", hop, AUTHSERV);
	return buf;
}

static char *
txt_lookup(void *arg, const char *qname)
{
	int	 i;

	(void)arg;
	for (i = 0; i < g.nkeys; i++)
		if (strcasecmp(g.keys[i].qname, qname) == 0)
			return strdup(g.keys[i].txt);
	return NULL;
}

static void
make_keys(struct alg *a)
{
	char		 err[256];
	char		 dom[64];
	char		*pem;
	size_t		 pemlen;
	int		 i, n = g.same_key ? 1 : MAXHOPS + 1;

	for (i = 0; i < MAXHOPS + 1; i++) {
		if (i < n) {
			a->key[i] = a->ed ?
			    EVP_PKEY_Q_keygen(NULL, NULL, "ED25519") :
			    EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
			if (a->key[i] == NULL)
				die("%s: key generation failed", a->name);
			g.keys[g.nkeys].qname = xasprintf("%s._domainkey.%s",
			    a->sel, hop_domain(i, dom, sizeof(dom)));
			g.keys[g.nkeys++].txt = key_record(a->key[i], a->ed);
		} else {
			a->key[i] = a->key[0];
			EVP_PKEY_up_ref(a->key[0]);
		}
		pem = key_pem(a->key[i], &pemlen);
		if ((a->signer[i] = arc_signer_create_pem(hop_domain(i, dom,
		    sizeof(dom)), a->sel, pem, pemlen, err, sizeof(err))) ==
		    NULL)
			die("%s: %s", a->name, err);
		if (i == 0) {
			a->keyfile = xasprintf("%s/key-%s.pem", g.dir, a->sel);
			write_file(a->keyfile, pem, pemlen, 0600);
		}
		OPENSSL_cleanse(pem, pemlen);
		free(pem);
	}
}

static void
write_keytable(void)
{
	FILE	*fp;
	char	*path = xasprintf("%s/keys.txt", g.dir);
	int	 i;

	if ((fp = fopen(path, "w")) == NULL)
		die("%s: %s", path, strerror(errno));
	for (i = 0; i < g.nkeys; i++)
		fprintf(fp, "%s %s\n", g.keys[i].qname, g.keys[i].txt);
	if (fclose(fp) != 0)
		die("%s: %s", path, strerror(errno));
	free(path);
}

/* ---- messages ----------------------------------------------------------- */

static const char *const words[] = {
	"the", "relay", "forwards", "a", "message", "and", "seals", "it",
	"with", "ARC", "so", "that", "receivers", "can", "see", "what",
	"authentication", "said", "before", "mailing", "list", "footer",
	"was", "added", "signature", "chain", "of", "custody", "validation",
	"header", "body", "hash", "canonical", "form", "whitespace", "runs"
};

/* A plain-text message: the usual header fields and a body of about
 * body bytes in lines of up to 76 characters, some with trailing or
 * doubled white space and some empty, for relaxed canonicalization to
 * do its real work. */
static char *
make_message(size_t body, size_t *lenp)
{
	size_t		 cap = body + 4096, len, start, line = 0, wl;
	char		*m = xmalloc(cap);
	unsigned	 seed = 12345, nl = 0;
	const char	*w;

	len = (size_t)snprintf(m, cap,
	    "Received: from client.example.org (client.example.org "
	    "[192.0.2.1])\r\n\tby mx.bench.example with ESMTPS id 4Xy2Bz;\r\n"
	    "\tMon, 23 Nov 2026 08:00:00 +0000\r\n"
	    "Authentication-Results: " AUTHSERV "; spf=pass "
	    "smtp.mailfrom=alice@example.org; dkim=none\r\n"
	    "From: Alice Example <alice@example.org>\r\n"
	    "To: Bob Example <bob@bench.example>\r\n"
	    "Subject: benchmark message with a %zu byte body\r\n"
	    "Date: Mon, 23 Nov 2026 08:00:00 +0000\r\n"
	    "Message-ID: <bench-%zu@example.org>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n"
	    "\r\n", body, body);
	start = len;
	while (len - start < body) {
		seed = seed * 1103515245 + 12345;
		w = words[(seed >> 16) % (sizeof(words) / sizeof(words[0]))];
		wl = strlen(w);
		if (line > 0 && line + 1 + wl > 74) {
			if (++nl % 7 == 0)
				m[len++] = ' ';		/* trailing WSP */
			memcpy(m + len, "\r\n", 2);
			len += 2;
			if (nl % 11 == 0) {		/* empty line */
				memcpy(m + len, "\r\n", 2);
				len += 2;
			}
			line = 0;
			continue;
		}
		if (line > 0) {
			m[len++] = ' ';
			line++;
			if ((seed >> 8) % 13 == 0) {	/* doubled WSP */
				m[len++] = '\t';
				line++;
			}
		}
		memcpy(m + len, w, wl);
		len += wl;
		line += wl;
	}
	if (line > 0) {
		memcpy(m + len, "\r\n", 2);
		len += 2;
	}
	m[len] = '\0';
	*lenp = len;
	return m;
}

/* What a large message usually is: a short text part and an
 * attachment of about body bytes, base64 in 76-column lines. */
static char *
make_mime(size_t body, size_t *lenp)
{
	static const char b64c[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmn"
	    "opqrstuvwxyz0123456789+/";
	size_t		 tl, cap = body + body / 38 + 8192, len, start, k;
	char		*text = make_message(1024, &tl), *m = xmalloc(cap);
	char		*tb = strstr(text, "\r\n\r\n") + 4;
	unsigned	 seed = 424242;

	len = (size_t)snprintf(m, cap,
	    "Received: from client.example.org (client.example.org "
	    "[192.0.2.1])\r\n\tby mx.bench.example with ESMTPS id 4Xy2Bz;\r\n"
	    "\tMon, 23 Nov 2026 08:00:00 +0000\r\n"
	    "Authentication-Results: " AUTHSERV "; spf=pass "
	    "smtp.mailfrom=alice@example.org; dkim=none\r\n"
	    "From: Alice Example <alice@example.org>\r\n"
	    "To: Bob Example <bob@bench.example>\r\n"
	    "Subject: benchmark message with a %zu byte attachment\r\n"
	    "Date: Mon, 23 Nov 2026 08:00:00 +0000\r\n"
	    "Message-ID: <bench-att-%zu@example.org>\r\n"
	    "MIME-Version: 1.0\r\n"
	    "Content-Type: multipart/mixed; boundary=\"=_bench\"\r\n"
	    "\r\n"
	    "--=_bench\r\n"
	    "Content-Type: text/plain; charset=us-ascii\r\n\r\n"
	    "%s\r\n"
	    "--=_bench\r\n"
	    "Content-Type: application/octet-stream; name=\"data.bin\"\r\n"
	    "Content-Transfer-Encoding: base64\r\n"
	    "Content-Disposition: attachment; filename=\"data.bin\"\r\n"
	    "\r\n", body, body, tb);
	free(text);
	start = len;
	while (len - start < body) {
		for (k = 0; k < 76; k++) {
			seed = seed * 1103515245 + 12345;
			m[len++] = b64c[(seed >> 16) & 63];
		}
		m[len++] = '\r';
		m[len++] = '\n';
	}
	len += (size_t)snprintf(m + len, cap - len, "--=_bench--\r\n");
	*lenp = len;
	return m;
}

static size_t
body_len(const char *m, size_t len)
{
	const char	*p = memmem(m, len, "\r\n\r\n", 4);

	return p ? len - (size_t)(p + 4 - m) : 0;
}

/* Prepends a Received field and the ARC set sealed by hop (1..50) of a;
 * returns the new message.  cv is the chain's state as the hop saw it. */
static char *
seal_hop(struct alg *a, int hop, const char *msg, size_t len, size_t *outlen,
    arc_cv *cv)
{
	arc_msg		*m;
	arc_seal_result	 res;
	char		*rcvd, *out, prev[64], auth[64];
	size_t		 rl, al, sl, ml;

	/* each hop's MTA adds its Received, then seals as its own ADMD */
	hop_domain(hop, auth, sizeof(auth));
	rcvd = xasprintf("Received: from %s by %s; Mon, 23 Nov 2026 "
	    "08:%02d:00 +0000\r\n", hop > 1 ? hop_domain(hop - 1, prev,
	    sizeof(prev)) : "mx.bench.example", auth, hop % 60);
	rl = strlen(rcvd);
	if ((m = arc_msg_create(g.lib, ARC_MSG_SEAL)) == NULL ||
	    arc_msg_set_signer(m, a->signer[hop]) != ARC_OK ||
	    arc_msg_feed(m, rcvd, rl) != ARC_OK ||
	    arc_msg_feed(m, msg, len) != ARC_OK ||
	    arc_msg_eom(m) != ARC_OK)
		die("%s: building hop %d: %s", a->name, hop,
		    m ? arc_msg_error(m) : "out of memory");
	*cv = arc_msg_cv(m);
	if (arc_msg_seal(m, a->signer[hop], auth, NULL, BENCH_T, 0, &res) !=
	    ARC_OK || !res.sealed)
		die("%s: sealing hop %d: %s", a->name, hop, res.reason ?
		    res.reason : arc_msg_error(m));
	al = strlen(res.as);
	sl = strlen(res.ams);
	ml = strlen(res.aar);
	out = xmalloc(al + sl + ml + rl + len + 1);
	memcpy(out, res.as, al);
	memcpy(out + al, res.ams, sl);
	memcpy(out + al + sl, res.aar, ml);
	memcpy(out + al + sl + ml, rcvd, rl);
	memcpy(out + al + sl + ml + rl, msg, len);
	*outlen = al + sl + ml + rl + len;
	out[*outlen] = '\0';
	arc_seal_result_clear(&res);
	arc_msg_free(m);
	free(rcvd);
	return out;
}

static void
make_chains(struct alg *a, const char *msg, size_t len)
{
	const char	*cur = msg;
	size_t		 curlen = len;
	arc_cv		 cv;
	int		 hop;

	for (hop = 1; hop <= MAXHOPS; hop++) {
		a->chain[hop] = seal_hop(a, hop, cur, curlen,
		    &a->chainlen[hop], &cv);
		if (cv != (hop == 1 ? ARC_CV_NONE : ARC_CV_PASS))
			die("%s: hop %d saw cv=%s", a->name, hop,
			    arc_cv_name(cv));
		cur = a->chain[hop];
		curlen = a->chainlen[hop];
	}
}

/* ---- limits ------------------------------------------------------------- */

struct evp_arg {
	EVP_PKEY_CTX	*pctx;
	EVP_MD_CTX	*mctx;
	unsigned char	 md[32], sig[512];
	size_t		 siglen;
	const unsigned char *buf;
	size_t		 buflen;
};

static int
op_rsa_sign(void *p)
{
	struct evp_arg	*e = p;
	size_t		 n = sizeof(e->sig);

	return EVP_PKEY_sign(e->pctx, e->sig, &n, e->md, 32) == 1 ? 0 : -1;
}

static int
op_rsa_verify(void *p)
{
	struct evp_arg	*e = p;

	return EVP_PKEY_verify(e->pctx, e->sig, e->siglen, e->md, 32) == 1 ?
	    0 : -1;
}

static int
op_ed_sign(void *p)
{
	struct evp_arg	*e = p;
	size_t		 n = sizeof(e->sig);

	return EVP_DigestSign(e->mctx, e->sig, &n, e->md, 32) == 1 ? 0 : -1;
}

static int
op_ed_verify(void *p)
{
	struct evp_arg	*e = p;

	return EVP_DigestVerify(e->mctx, e->sig, e->siglen, e->md, 32) == 1 ?
	    0 : -1;
}

static int
op_sha(void *p)
{
	struct evp_arg	*e = p;
	unsigned int	 n;

	return EVP_Digest(e->buf, e->buflen, e->md, &n, EVP_sha256(), NULL)
	    == 1 ? 0 : -1;
}

/* A verifier's view of a key: the public half, parsed from DER. */
static EVP_PKEY *
public_only(EVP_PKEY *k)
{
	unsigned char		*der = NULL;
	const unsigned char	*dp;
	EVP_PKEY		*pub;
	int			 n;

	if ((n = i2d_PUBKEY(k, &der)) <= 0)
		die("cannot export a public key");
	dp = der;
	pub = d2i_PUBKEY(NULL, &dp, n);
	OPENSSL_free(der);
	if (pub == NULL)
		die("cannot parse a public key");
	return pub;
}

/* The primitives as "openssl speed" runs them: one context set up
 * once, then sign or verify a SHA-256 digest (Ed25519 signs the digest
 * itself, RFC 8463) over and over. */
static int
add_limits(struct alg *a, struct meas *ms)
{
	struct evp_arg	*s = calloc(1, sizeof(*s)), *v = calloc(1,
			    sizeof(*v));
	EVP_PKEY	*pub = public_only(a->key[0]);
	size_t		 n = sizeof(s->sig);

	if (s == NULL || v == NULL)
		die("out of memory");
	memset(s->md, 0x5a, sizeof(s->md));
	memset(v->md, 0x5a, sizeof(v->md));
	if (!a->ed) {
		if ((s->pctx = EVP_PKEY_CTX_new(a->key[0], NULL)) == NULL ||
		    EVP_PKEY_sign_init(s->pctx) != 1 ||
		    EVP_PKEY_CTX_set_rsa_padding(s->pctx, RSA_PKCS1_PADDING) !=
		    1 || EVP_PKEY_CTX_set_signature_md(s->pctx, EVP_sha256()) !=
		    1 || EVP_PKEY_sign(s->pctx, v->sig, &n, v->md, 32) != 1)
			die("RSA sign setup failed");
		if ((v->pctx = EVP_PKEY_CTX_new(pub, NULL)) == NULL ||
		    EVP_PKEY_verify_init(v->pctx) != 1 ||
		    EVP_PKEY_CTX_set_rsa_padding(v->pctx, RSA_PKCS1_PADDING) !=
		    1 || EVP_PKEY_CTX_set_signature_md(v->pctx, EVP_sha256()) !=
		    1)
			die("RSA verify setup failed");
	} else {
		if ((s->mctx = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestSignInit(s->mctx, NULL, NULL, NULL, a->key[0]) !=
		    1 || EVP_DigestSign(s->mctx, v->sig, &n, v->md, 32) != 1)
			die("Ed25519 sign setup failed");
		if ((v->mctx = EVP_MD_CTX_new()) == NULL ||
		    EVP_DigestVerifyInit(v->mctx, NULL, NULL, NULL, pub) != 1)
			die("Ed25519 verify setup failed");
	}
	v->siglen = n;
	EVP_PKEY_free(pub);
	ms[0] = (struct meas){ a->ed ? "Ed25519 sign" : "RSA sign",
	    a->ed ? op_ed_sign : op_rsa_sign, s, &a->sign, 1 };
	ms[1] = (struct meas){ a->ed ? "Ed25519 verify" : "RSA verify",
	    a->ed ? op_ed_verify : op_rsa_verify, v, &a->verify, 1 };
	return 2;
}

static void
free_limit(struct evp_arg *e)
{
	EVP_PKEY_CTX_free(e->pctx);
	EVP_MD_CTX_free(e->mctx);
	free(e);
}

/* ---- our cases ---------------------------------------------------------- */

static int
op_case(void *p)
{
	struct bcase	*c = p;
	arc_signer	*s = c->alg->signer[0];
	arc_seal_result	 res;
	arc_msg		*m;
	int		 r = 0;

	if ((m = arc_msg_create(g.lib, c->kind == K_VERIFY ? ARC_MSG_VERIFY :
	    ARC_MSG_SEAL)) == NULL)
		return -1;
	if ((c->kind != K_VERIFY && arc_msg_set_signer(m, s) != ARC_OK) ||
	    arc_msg_feed(m, c->msg, c->len) != ARC_OK ||
	    arc_msg_eom(m) != ARC_OK) {
		fprintf(stderr, "arcbench: %s: %s\n", c->name,
		    arc_msg_error(m));
		arc_msg_free(m);
		return -1;
	}
	if (c->kind == K_VERIFY)
		c->seal_hashed = arc_msg_get_stats(m)->seal_bytes;
	if (c->kind != K_SEAL && arc_msg_cv(m) != ARC_CV_PASS) {
		fprintf(stderr, "arcbench: %s: cv=%s (%s)\n", c->name,
		    arc_cv_name(arc_msg_cv(m)), arc_msg_reason(m));
		r = -1;
	}
	if (r == 0 && c->kind != K_VERIFY) {
		if (arc_msg_seal(m, s, AUTHSERV, NULL, BENCH_T, 0, &res) !=
		    ARC_OK || !res.sealed) {
			fprintf(stderr, "arcbench: %s: not sealed: %s\n",
			    c->name, res.reason ? res.reason :
			    arc_msg_error(m));
			r = -1;
		}
		arc_seal_result_clear(&res);
	}
	arc_msg_free(m);
	return r;
}

static int
op_body(void *p)
{
	struct bcase	*c = p;
	arc_bodyhash	*bh;
	unsigned char	 d[32];
	int		 ok;

	if ((bh = arc_bodyhash_create(ARC_CANON_RELAXED, -1)) == NULL)
		return -1;
	ok = arc_bodyhash_update(bh, (const unsigned char *)c->msg, c->len) &&
	    arc_bodyhash_final(bh, d);
	arc_bodyhash_free(bh);
	return ok ? 0 : -1;
}

/* ---- the peer ----------------------------------------------------------- */

static const char *
kind_word(enum kind k)
{
	return k == K_SEAL ? "seal" : k == K_VERIFY ? "verify" : "vseal";
}

static void
run_peer(struct bcase *cases, int n)
{
	char	*path = xasprintf("%s/cases.txt", g.dir), *cmd, line[512];
	FILE	*fp;
	int	 i, id;
	char	 rate[64], verdict[128];
	unsigned long iters;

	if ((fp = fopen(path, "w")) == NULL)
		die("%s: %s", path, strerror(errno));
	for (i = 0; i < n; i++) {
		struct bcase *c = &cases[i];

		if (c->kind == K_BODY)
			continue;
		fprintf(fp, "%d %s %s %s %s/keys.txt %s %s %s %s\n", i,
		    kind_word(c->kind), c->alg->name, c->file, g.dir,
		    c->alg->keyfile, c->alg->sel, AUTHSERV, AUTHSERV);
	}
	if (fclose(fp) != 0)
		die("%s: %s", path, strerror(errno));
	cmd = xasprintf("%s %.3f %s %d", g.peer, g.secs, path, g.rounds);
	progress("peer: %s\n", cmd);
	if ((fp = popen(cmd, "r")) == NULL)
		die("cannot run the peer: %s", strerror(errno));
	while (fgets(line, sizeof(line), fp) != NULL) {
		if (sscanf(line, "%d %63s %lu %127[^\n]", &id, rate, &iters,
		    verdict) != 4 || id < 0 || id >= n) {
			progress("peer: %s", line);
			continue;
		}
		if (strcmp(rate, "-") == 0)
			snprintf(cases[id].peer_note,
			    sizeof(cases[id].peer_note), "%s", verdict);
		else {
			cases[id].peer = strtod(rate, NULL);
			if (strcmp(verdict, "ok") != 0)
				snprintf(cases[id].peer_note,
				    sizeof(cases[id].peer_note), "%s",
				    verdict);
		}
		progress("peer: %s", line);
	}
	if (pclose(fp) != 0)
		progress("peer: exited with an error\n");
	free(cmd);
	free(path);
}

/* ---- memory ------------------------------------------------------------- */

static long
status_kb(pid_t pid, const char *field)
{
	char	 path[64], line[256];
	FILE	*fp;
	long	 v = -1;
	size_t	 n = strlen(field);

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, field, n) == 0 && line[n] == ':') {
			v = strtol(line + n + 1, NULL, 10);
			break;
		}
	fclose(fp);
	return v;
}

/* Runs argv (stdin from in, stdout and stderr to /dev/null); returns
 * its exit status (-1 if killed) and its peak RSS in kB in *kb;
 * *exact is 0 when that had to come from ru_maxrss. */
static int
run_child(char *const argv[], const char *in, long *kb, int *exact)
{
	struct rusage	 ru;
	pid_t		 pid;
	int		 st, fd;

	*kb = -1;
	*exact = 0;
	if ((pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		if ((fd = open(in, O_RDONLY)) == -1 || dup2(fd, 0) == -1 ||
		    (fd = open("/dev/null", O_WRONLY)) == -1 ||
		    dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
			_exit(126);
		(void)ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		execv(argv[0], argv);
		_exit(127);
	}
	for (;;) {
		if (wait4(pid, &st, 0, &ru) == -1) {
			if (errno == EINTR)
				continue;
			die("wait4: %s", strerror(errno));
		}
		if (WIFEXITED(st) || WIFSIGNALED(st))
			break;
		if (!WIFSTOPPED(st))
			continue;
		if (st >> 8 == (SIGTRAP | (PTRACE_EVENT_EXIT << 8))) {
			*kb = status_kb(pid, "VmHWM");
			*exact = *kb >= 0;
			ptrace(PTRACE_CONT, pid, NULL, NULL);
		} else if (WSTOPSIG(st) == SIGTRAP && *kb == -1 &&
		    !*exact) {
			/* the stop after execve: ask for the exit stop */
			ptrace(PTRACE_SETOPTIONS, pid, NULL,
			    (void *)(long)(PTRACE_O_TRACEEXIT |
			    PTRACE_O_EXITKILL));
			*kb = -2;
			ptrace(PTRACE_CONT, pid, NULL, NULL);
		} else
			ptrace(PTRACE_CONT, pid, NULL,
			    (void *)(long)WSTOPSIG(st));
	}
	if (!*exact)
		*kb = ru.ru_maxrss;
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* filter-arc's pipes, and what its output has shown so far. */
struct fstate {
	int	 in, out;		/* our ends */
	char	 cur[128];		/* start of the line being read */
	size_t	 curlen;
	int	 dot, sealed, eof;
};

static void
filter_read(struct fstate *f)
{
	char	 buf[65536];
	ssize_t	 n, i;
	const char *dot = "filter-dataline|" FSID "|" FTOK "|.";
	const char *seal = "filter-dataline|" FSID "|" FTOK "|ARC-Seal:";

	if ((n = read(f->out, buf, sizeof(buf))) <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			f->eof = 1;
		return;
	}
	for (i = 0; i < n; i++) {
		if (buf[i] != '\n') {
			if (f->curlen < sizeof(f->cur) - 1)
				f->cur[f->curlen++] = buf[i];
			continue;
		}
		f->cur[f->curlen] = '\0';
		if (strcmp(f->cur, dot) == 0)
			f->dot = 1;
		if (strncmp(f->cur, seal, strlen(seal)) == 0)
			f->sealed = 1;
		f->curlen = 0;
	}
}

/* Writes all of p to the filter (non-blocking) while reading what it
 * sends back, so that neither side can block the other. */
static void
filter_write(struct fstate *f, const char *p, size_t n)
{
	struct pollfd	 pfd[2];

	while (n > 0 && !f->eof) {
		pfd[0].fd = f->in;
		pfd[0].events = POLLOUT;
		pfd[1].fd = f->out;
		pfd[1].events = POLLIN;
		if (poll(pfd, 2, 10000) <= 0)
			die("filter-arc: no progress for 10 s");
		if (pfd[1].revents)
			filter_read(f);
		if (pfd[0].revents & (POLLERR | POLLHUP))
			die("filter-arc: closed its input");
		if (pfd[0].revents & POLLOUT) {
			ssize_t w = write(f->in, p, n);

			if (w < 0 && errno != EAGAIN && errno != EINTR)
				die("filter-arc: write: %s", strerror(errno));
			if (w > 0) {
				p += w;
				n -= (size_t)w;
			}
		}
	}
}

/* Feeds filter-arc one SMTP session carrying msg (its own config, a
 * connect, a transaction, the data-lines, "."), waits for the "." to
 * come back, then reads the filter's VmHWM while it is still running. */
static long
filter_peak(const char *prog, const char *conf, const char *msg,
    size_t len, int *sealed)
{
	struct fstate	 f;
	int		 pin[2], pout[2], fd, st;
	pid_t		 pid;
	char		*buf;
	size_t		 cap = 256 * 1024, bl = 0, i = 0, e;
	long		 kb;
	const char	*head =
	    "config|smtpd-version|6.8.0p2\n"
	    "config|smtp-session-timeout|300\n"
	    "config|subsystem|smtp-in\n"
	    "config|admd|" AUTHSERV "\n"
	    "config|ready\n"
	    "report|0.6|1.0|smtp-in|link-connect|" FSID "|localhost|pass|"
	    "127.0.0.1:1|127.0.0.1:25\n"
	    "report|0.6|1.0|smtp-in|tx-begin|" FSID "|0000000a\n"
	    "report|0.6|1.0|smtp-in|tx-rcpt|" FSID "|0000000a|ok|"
	    "bob@bench.example\n";
	const char	*pre = "filter|0.6|1.0|smtp-in|data-line|" FSID "|"
	    FTOK "|";

	if (pipe2(pin, O_CLOEXEC) == -1 || pipe2(pout, O_CLOEXEC) == -1)
		die("pipe: %s", strerror(errno));
	if ((pid = fork()) == -1)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		if (dup2(pin[0], 0) == -1 || dup2(pout[1], 1) == -1 ||
		    (fd = open("/dev/null", O_WRONLY)) == -1 ||
		    dup2(fd, 2) == -1)
			_exit(126);
		execl(prog, prog, "-c", conf, (char *)NULL);
		_exit(127);
	}
	close(pin[0]);
	close(pout[1]);
	memset(&f, 0, sizeof(f));
	f.in = pin[1];
	f.out = pout[0];
	fcntl(f.in, F_SETFL, fcntl(f.in, F_GETFL) | O_NONBLOCK);
	fcntl(f.out, F_SETFL, fcntl(f.out, F_GETFL) | O_NONBLOCK);
	filter_write(&f, head, strlen(head));
	buf = xmalloc(cap);
	while (i < len) {
		const char *nl = memchr(msg + i, '\n', len - i);

		e = nl ? (size_t)(nl - msg) : len;
		if (bl + strlen(pre) + (e - i) + 3 > cap) {
			filter_write(&f, buf, bl);
			bl = 0;
		}
		if (bl + strlen(pre) + (e - i) + 3 > cap)
			die("filter-arc: line too long");
		memcpy(buf + bl, pre, strlen(pre));
		bl += strlen(pre);
		if (msg[i] == '.')
			buf[bl++] = '.';	/* dot-stuffing */
		size_t ll = e - i;
		if (ll > 0 && msg[e - 1] == '\r')
			ll--;
		memcpy(buf + bl, msg + i, ll);
		bl += ll;
		buf[bl++] = '\n';
		i = nl ? e + 1 : len;
	}
	bl += (size_t)snprintf(buf + bl, cap - bl, "%s.\n", pre);
	filter_write(&f, buf, bl);
	free(buf);
	while (!f.dot && !f.eof) {
		struct pollfd pfd = { f.out, POLLIN, 0 };

		if (poll(&pfd, 1, 30000) <= 0)
			die("filter-arc: no \".\" after 30 s");
		filter_read(&f);
	}
	if (!f.dot)
		die("filter-arc: exited before the end of the message");
	kb = status_kb(pid, "VmHWM");
	close(f.in);
	while (!f.eof) {
		struct pollfd pfd = { f.out, POLLIN, 0 };

		if (poll(&pfd, 1, 30000) <= 0)
			break;
		filter_read(&f);
	}
	close(f.out);
	if (waitpid(pid, &st, 0) == -1 || !WIFEXITED(st) ||
	    WEXITSTATUS(st) != 0)
		die("filter-arc: exited abnormally");
	*sealed = f.sealed;
	return kb;
}

struct memrow {
	const char	*what;
	long		 small, big;	/* kB */
	int		 exact;
	const char	*note;
};

static void
memory_test(struct memrow *rows, int *nrows)
{
	struct alg	*a = &algs[0];
	char		*small, *big, *ssealed, *bsealed, *arctool, *filter;
	char		*fsmall, *fbig, *fss, *fbs, *conf, *kt, *text;
	size_t		 sl, bl, ssl, bsl;
	arc_cv		 cv;
	long		 kb;
	int		 exact, rc, sealed, k;
	const char	*files[2][2];
	struct stat	 st;

	if (!(g.algs & 1))
		a = &algs[1];
	progress("memory: building 1 MB and %zu MB messages\n", g.big_mb);
	small = make_mime(MB, &sl);
	big = make_mime(g.big_mb * MB, &bl);
	ssealed = seal_hop(a, 1, small, sl, &ssl, &cv);
	bsealed = seal_hop(a, 1, big, bl, &bsl, &cv);
	fsmall = xasprintf("%s/mem-small.eml", g.dir);
	fbig = xasprintf("%s/mem-big.eml", g.dir);
	fss = xasprintf("%s/mem-small-sealed.eml", g.dir);
	fbs = xasprintf("%s/mem-big-sealed.eml", g.dir);
	write_file(fsmall, small, sl, 0644);
	write_file(fbig, big, bl, 0644);
	write_file(fss, ssealed, ssl, 0644);
	write_file(fbs, bsealed, bsl, 0644);
	free(small);
	free(big);
	free(ssealed);
	free(bsealed);
	files[0][0] = fsmall;
	files[0][1] = fbig;
	files[1][0] = fss;
	files[1][1] = fbs;
	kt = xasprintf("%s/keys.txt", g.dir);
	arctool = xasprintf("%s/arctool", g.builddir);
	filter = xasprintf("%s/filter-arc", g.builddir);

	*nrows = 0;
	if (access(arctool, X_OK) != 0) {
		rows[(*nrows)++] = (struct memrow){ "arctool", -1, -1, 0,
		    "skipped: build/arctool not built" };
	} else {
		char *seal[] = { arctool, "seal", "--domain", AUTHSERV,
		    "--selector", (char *)a->sel, "--key", a->keyfile,
		    "--authserv-id", AUTHSERV, "--keys", kt, "--no-dns",
		    "--timestamp", "1795000000", NULL };
		char *ver[] = { arctool, "verify", "--keys", kt, "--no-dns",
		    NULL, NULL };

		rows[*nrows] = (struct memrow){ "arctool seal", 0, 0, 1,
		    NULL };
		for (k = 0; k < 2; k++) {
			rc = run_child(seal, files[0][k], &kb, &exact);
			if (rc != 0)
				die("arctool seal %s: exit %d", files[0][k],
				    rc);
			*(k ? &rows[*nrows].big : &rows[*nrows].small) = kb;
			rows[*nrows].exact &= exact;
		}
		(*nrows)++;
		rows[*nrows] = (struct memrow){ "arctool verify", 0, 0, 1,
		    NULL };
		for (k = 0; k < 2; k++) {
			ver[5] = (char *)files[1][k];
			rc = run_child(ver, "/dev/null", &kb, &exact);
			if (rc != 0)
				die("arctool verify %s: exit %d (not pass)",
				    files[1][k], rc);
			*(k ? &rows[*nrows].big : &rows[*nrows].small) = kb;
			rows[*nrows].exact &= exact;
		}
		(*nrows)++;
	}
	if (access(filter, X_OK) != 0) {
		rows[(*nrows)++] = (struct memrow){ "filter-arc", -1, -1, 0,
		    "skipped: build/filter-arc not built" };
	} else {
		conf = xasprintf("%s/arc.conf", g.dir);
		text = xasprintf("authserv-id %s\nseal-domain %s\n"
		    "seal-selector %s\nseal-key %s\nkey-table %s\ndns no\n"
		    "log-level err\n", AUTHSERV, AUTHSERV, a->sel, a->keyfile,
		    kt);
		write_file(conf, text, strlen(text), 0644);
		free(text);
		rows[*nrows] = (struct memrow){ "filter-arc (verify+seal)",
		    0, 0, 1, NULL };
		for (k = 0; k < 2; k++) {
			int	 fd;
			char	*m;

			if ((fd = open(files[1][k], O_RDONLY)) == -1 ||
			    fstat(fd, &st) != 0)
				die("%s: %s", files[1][k], strerror(errno));
			m = xmalloc((size_t)st.st_size + 1);
			if (read(fd, m, (size_t)st.st_size) != st.st_size)
				die("%s: short read", files[1][k]);
			close(fd);
			kb = filter_peak(filter, conf, m, (size_t)st.st_size,
			    &sealed);
			free(m);
			if (!sealed)
				die("filter-arc did not seal %s", files[1][k]);
			*(k ? &rows[*nrows].big : &rows[*nrows].small) = kb;
		}
		(*nrows)++;
		free(conf);
	}
	free(arctool);
	free(filter);
	free(kt);
	free(fsmall);
	free(fbig);
	free(fss);
	free(fbs);
}

/* ---- report ------------------------------------------------------------- */

static double
limit_of(const struct bcase *c)
{
	double	 t = (double)c->hashed / g.sha;

	if (c->alg != NULL)
		t += c->nsign / c->alg->sign + c->nverify / c->alg->verify;
	return 1.0 / t;
}

static void
cpu_name(char *buf, size_t n)
{
	FILE	*fp = fopen("/proc/cpuinfo", "r");
	char	 line[256], *p;

	snprintf(buf, n, "unknown CPU");
	if (fp == NULL)
		return;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, "model name", 10) == 0 &&
		    (p = strchr(line, ':')) != NULL) {
			p += 2;
			p[strcspn(p, "\n")] = '\0';
			snprintf(buf, n, "%s", p);
			break;
		}
	fclose(fp);
}

static const char *
verdict(double v, double goal, int at_most)
{
	return (at_most ? v <= goal : v >= goal) ? "met" : "MISSED";
}

static void
target_row(const char *what, const struct alg *a, double v, double goal,
    int at_most)
{
	char	 g2[16];

	snprintf(g2, sizeof(g2), "%s %.2f", at_most ? "<=" : ">=", goal);
	printf("%-40s %-14s %8.2f %8s  %s\n", what, a ? a->name : "-", v,
	    g2, verdict(v, goal, at_most));
}

static struct bcase *
find_case(struct bcase *cases, int n, const char *name, struct alg *a)
{
	int	 i;

	for (i = 0; i < n; i++)
		if (cases[i].alg == a && strcmp(cases[i].name, name) == 0)
			return &cases[i];
	return NULL;
}

static void
report(struct bcase *cases, int n, struct memrow *mem, int nmem)
{
	char	 cpu[128];
	int	 i, k;

	cpu_name(cpu, sizeof(cpu));
	printf("\narcbench: %s, %ld CPUs, %s\n", cpu,
	    sysconf(_SC_NPROCESSORS_ONLN), OpenSSL_version(OPENSSL_VERSION));
	arc_canon_use_kernel(g.kernel, &g.kernel);
	printf("body canonicalization: the %s kernel "
	    "(core/arc_canon_fast.h)\n", g.kernel);
	printf("rates per CPU second of one thread, best of %d rounds of "
	    "%.2f s per figure;\nchains on the 2 KB message, %s;\nkeys from "
	    "a txt-lookup callback (parsed once, cached by the library)\n\n",
	    g.rounds, g.secs / g.rounds, g.same_key ? "every hop with the same "
	    "key and identity" : "each hop with its own key, domain and "
	    "selector");

	printf("OpenSSL limits (EVP, in-process, same keys)\n");
	for (k = 0; k < NALGS; k++)
		if (g.algs & (1 << k))
			printf("  %-16s sign %10.0f/s   verify %10.0f/s\n",
			    algs[k].ed ? "Ed25519" : "RSA-2048", algs[k].sign,
			    algs[k].verify);
	printf("  %-16s %.0f MB/s (1 MB buffers)\n\n", "SHA-256",
	    g.sha / MB);

	printf("%-22s %-14s %10s %10s %7s %10s %8s\n", "case", "alg",
	    "ours/s", "limit/s", "/limit", "dkimpy/s", "/dkimpy");
	for (i = 0; i < n; i++) {
		struct bcase *c = &cases[i];
		char	 peer[32], pr[32];

		if (c->peer >= 0) {
			snprintf(peer, sizeof(peer), "%.1f", c->peer);
			snprintf(pr, sizeof(pr), "%.1f", c->rate / c->peer);
		} else {
			snprintf(peer, sizeof(peer), "-");
			snprintf(pr, sizeof(pr), "-");
		}
		if (c->kind == K_BODY)
			printf("%-22s %-14s %8.0f/s %8.0f/s %7.2f %10s %8s   "
			    "(%.0f MB/s)\n", c->name, "-", c->rate, c->limit,
			    c->rate / c->limit, peer, pr,
			    c->rate * (double)c->len / MB);
		else
			printf("%-22s %-14s %10.1f %10.1f %7.2f %10s %8s%s%s\n",
			    c->name, c->alg->name, c->rate, c->limit,
			    c->rate / c->limit, peer, pr,
			    c->peer_note[0] ? "  " : "", c->peer_note);
	}
	printf("\nlimit = 1 / (signs/sign rate + verifies/verify rate + "
	    "body bytes/SHA-256 rate)\n");
	printf("\nheader bytes the ARC-Seal checks hash per message (one "
	    "pass: linear in the chain)\n");
	for (i = 0; i < n; i++)
		if (cases[i].kind == K_VERIFY)
			printf("  %-22s %-14s %10llu\n", cases[i].name,
			    cases[i].alg->name, cases[i].seal_hashed);

	printf("\n%-40s %-14s %8s %8s  %s\n", "target", "alg", "measured",
	    "goal", "verdict");
	for (k = 0; k < NALGS; k++) {
		struct alg *a = &algs[k];
		struct bcase *s2, *s1m, *v1;
		double	 bytes, dt;
		int	 j;

		if (!(g.algs & (1 << k)))
			continue;
		s2 = find_case(cases, n, "seal 2 KB", a);
		v1 = find_case(cases, n, "verify 1 hop", a);
		if (s2 != NULL)
			target_row("seal 2 KB / (sign rate / 2)", a,
			    s2->rate / (a->sign / 2), 0.9, 0);
		if (v1 != NULL)
			target_row("verify 1 hop / limit", a,
			    v1->rate / v1->limit, 0.7, 0);
		for (j = 0; j < 2 && s2 != NULL; j++) {
			char	 what[64];

			if ((s1m = find_case(cases, n, j ? "seal 1 MB text" :
			    "seal 1 MB attachment", a)) == NULL)
				continue;
			/* the per-byte cost: the time 1 MB adds over 2 KB */
			bytes = (double)(s1m->len - s2->len);
			dt = 1.0 / s1m->rate - 1.0 / s2->rate;
			snprintf(what, sizeof(what), "seal 1 MB %s: per-byte "
			    "time / SHA's", j ? "text" : "attach");
			target_row(what, a, g.sha * dt / bytes, 1.2, 1);
			printf("  %-38s %-14s %8.2f  (2 signatures "
			    "included)\n", "whole seal, bytes/s / SHA-256's",
			    a->name, s1m->rate * (double)s1m->len / g.sha);
		}
	}
	for (i = 0; i < n; i++)
		if (cases[i].kind == K_BODY) {
			char	 what[64];

			snprintf(what, sizeof(what), "%s: time / SHA's",
			    cases[i].name);
			target_row(what, NULL, cases[i].limit / cases[i].rate,
			    1.2, 1);
		}

	if (nmem == 0)
		return;
	printf("\npeak RSS (VmHWM)             1 MB msg   %3zu MB msg  "
	    "ratio\n", g.big_mb);
	for (i = 0; i < nmem; i++) {
		if (mem[i].note) {
			printf("%-28s %s\n", mem[i].what, mem[i].note);
			continue;
		}
		printf("%-28s %7ld kB %10ld kB  %5.2f  %s%s\n", mem[i].what,
		    mem[i].small, mem[i].big,
		    (double)mem[i].big / (double)mem[i].small,
		    verdict((double)mem[i].big / (double)mem[i].small, 1.2,
		    1), mem[i].exact ? "" : " (ru_maxrss: ptrace failed)");
	}
	printf("(target: flat, the large message within 1.20x of the "
	    "small one)\n");
}

/* ---- main --------------------------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr, "usage: arcbench [-nq] [-t SECONDS] [-r ROUNDS] "
	    "[-a rsa|ed25519|all] [-k own|same]\n"
	    "                [-M MB] [-B BUILDDIR] [-c CASE] [-P PEERCMD] "
	    "[-w DIR] [-K KERNEL]\n");
	exit(64);
}

static void
add_case(struct bcase *cases, int *n, const char *name, enum kind k,
    struct alg *a, const char *msg, size_t len, int nsign, int nverify)
{
	struct bcase	*c;

	if (g.only != NULL && strstr(name, g.only) == NULL)
		return;
	c = &cases[(*n)++];
	memset(c, 0, sizeof(*c));
	c->name = name;
	c->kind = k;
	c->alg = a;
	c->msg = msg;
	c->len = len;
	c->nsign = nsign;
	c->nverify = nverify;
	c->hashed = k == K_BODY ? len : body_len(msg, len);
	c->peer = -1;
}

int
main(int argc, char **argv)
{
	static struct bcase	 cases[64];
	static struct meas	 ms[80];
	struct evp_arg		 shaarg;
	struct memrow		 mem[8];
	unsigned char		*shabuf;
	int			 nms = 0, nlim;
	char			*m2k, *m20k, *m1m, *a1m, *slash, *body;
	size_t			 l2k, l20k, l1m, la1m;
	int			 ch, n = 0, nmem = 0, i, k;

	g.secs = 2;
	g.rounds = 10;
	g.algs = 3;
	g.big_mb = 50;
	while ((ch = getopt(argc, argv, "a:B:c:k:K:M:nP:qr:t:w:")) != -1) {
		switch (ch) {
		case 'a':
			g.algs = strcmp(optarg, "rsa") == 0 ? 1 :
			    strcmp(optarg, "ed25519") == 0 ? 2 :
			    strcmp(optarg, "all") == 0 ? 3 : 0;
			if (g.algs == 0)
				usage();
			break;
		case 'B':
			g.builddir = optarg;
			break;
		case 'c':
			g.only = optarg;
			break;
		case 'k':
			if (strcmp(optarg, "same") == 0)
				g.same_key = 1;
			else if (strcmp(optarg, "own") != 0)
				usage();
			break;
		case 'K':
			if (arc_canon_use_kernel(optarg, NULL) != 0) {
				fprintf(stderr, "arcbench: no %s kernel on "
				    "this CPU\n", optarg);
				exit(64);
			}
			g.kernel = optarg;
			break;
		case 'M':
			g.big_mb = strtoul(optarg, NULL, 10);
			if (g.big_mb < 2 || g.big_mb > 4096)
				usage();
			break;
		case 'n':
			g.no_mem = 1;
			break;
		case 'P':
			g.peer = optarg;
			break;
		case 'q':
			g.quiet = 1;
			break;
		case 'r':
			g.rounds = (int)strtol(optarg, NULL, 10);
			if (g.rounds < 1 || g.rounds > 1000)
				usage();
			break;
		case 't':
			g.secs = strtod(optarg, NULL);
			if (!(g.secs > 0 && g.secs < 3600))
				usage();
			break;
		case 'w':
			g.workdir = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (g.builddir == NULL) {
		g.builddir = strdup(argv[0]);
		if ((slash = strrchr((char *)g.builddir, '/')) != NULL)
			*slash = '\0';
		else
			g.builddir = ".";
	}
	if (g.workdir) {
		if (mkdir(g.workdir, 0700) != 0 && errno != EEXIST)
			die("%s: %s", g.workdir, strerror(errno));
		if (realpath(g.workdir, g.dir) == NULL)
			die("%s: %s", g.workdir, strerror(errno));
		g.keep_dir = 1;
	} else {
		snprintf(g.dir, sizeof(g.dir), "%s/arcbench.XXXXXX",
		    getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp");
		if (mkdtemp(g.dir) == NULL)
			die("mkdtemp: %s", strerror(errno));
	}
	atexit(cleanup);

	if ((g.lib = arc_lib_create()) == NULL)
		die("out of memory");
	arc_lib_set_txt_lookup(g.lib, txt_lookup, NULL);

	progress("keys: generating (%s)\n", g.same_key ? "one per algorithm" :
	    "51 per algorithm");
	for (k = 0; k < NALGS; k++)
		if (g.algs & (1 << k))
			make_keys(&algs[k]);
	write_keytable();

	m2k = make_message(2048, &l2k);
	m20k = make_message(20 * 1024, &l20k);
	m1m = make_message(MB, &l1m);
	a1m = make_mime(MB, &la1m);
	progress("chains: building 50 hops\n");
	for (k = 0; k < NALGS; k++)
		if (g.algs & (1 << k))
			make_chains(&algs[k], m2k, l2k);

	for (k = 0; k < NALGS; k++) {
		struct alg *a = &algs[k];

		if (!(g.algs & (1 << k)))
			continue;
		add_case(cases, &n, "seal 2 KB", K_SEAL, a, m2k, l2k, 2, 0);
		add_case(cases, &n, "seal 20 KB", K_SEAL, a, m20k, l20k, 2, 0);
		add_case(cases, &n, "seal 1 MB attachment", K_SEAL, a, a1m,
		    la1m, 2, 0);
		add_case(cases, &n, "seal 1 MB text", K_SEAL, a, m1m, l1m, 2,
		    0);
		add_case(cases, &n, "verify 1 hop", K_VERIFY, a, a->chain[1],
		    a->chainlen[1], 0, 2);
		add_case(cases, &n, "verify 2 hops", K_VERIFY, a, a->chain[2],
		    a->chainlen[2], 0, 4);
		add_case(cases, &n, "verify 5 hops", K_VERIFY, a, a->chain[5],
		    a->chainlen[5], 0, 10);
		add_case(cases, &n, "verify 50 hops", K_VERIFY, a,
		    a->chain[50], a->chainlen[50], 0, 100);
		add_case(cases, &n, "verify+seal 2 hops", K_VSEAL, a,
		    a->chain[2], a->chainlen[2], 2, 4);
	}
	body = strstr(a1m, "\r\n\r\n") + 4;
	add_case(cases, &n, "body canon 1 MB attach", K_BODY, NULL, body,
	    la1m - (size_t)(body - a1m), 0, 0);
	body = strstr(m1m, "\r\n\r\n") + 4;
	add_case(cases, &n, "body canon 1 MB text", K_BODY, NULL, body,
	    l1m - (size_t)(body - m1m), 0, 0);

	/* the limits, then every case, interleaved round by round */
	memset(&shaarg, 0, sizeof(shaarg));
	shabuf = xmalloc(MB);
	memset(shabuf, 'x', MB);
	shaarg.buf = shabuf;
	shaarg.buflen = MB;
	ms[nms++] = (struct meas){ "SHA-256", op_sha, &shaarg, &g.sha, MB };
	for (k = 0; k < NALGS; k++)
		if (g.algs & (1 << k))
			nms += add_limits(&algs[k], &ms[nms]);
	nlim = nms;
	for (i = 0; i < n; i++) {
		struct bcase *c = &cases[i];

		ms[nms++] = (struct meas){ c->name, c->kind == K_BODY ?
		    op_body : op_case, c, &c->rate, 1 };
		if (c->kind != K_BODY) {
			if (snprintf(c->file, sizeof(c->file),
			    "%s/case-%d.eml", g.dir, i) >= (int)sizeof(c->file))
				die("%s: path too long", g.dir);
			write_file(c->file, c->msg, c->len, 0644);
		}
	}
	progress("measuring %d quantities, %d rounds of %.3f s each\n", nms,
	    g.rounds, g.secs / g.rounds);
	run_all(ms, nms);
	for (i = 0; i < n; i++)
		cases[i].limit = limit_of(&cases[i]);
	for (i = 1; i < nlim; i++)
		free_limit(ms[i].arg);
	free(shabuf);

	if (g.peer != NULL)
		run_peer(cases, n);
	if (!g.no_mem)
		memory_test(mem, &nmem);
	report(cases, n, mem, nmem);
	for (k = 0; k < NALGS; k++)
		for (i = 0; i <= MAXHOPS; i++) {
			arc_signer_free(algs[k].signer[i]);
			EVP_PKEY_free(algs[k].key[i]);
			free(algs[k].chain[i]);
		}
	arc_lib_free(g.lib);
	free(m2k);
	free(m20k);
	free(m1m);
	free(a1m);
	return 0;
}
