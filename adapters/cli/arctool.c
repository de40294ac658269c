/*
 * arctool - verify, seal and make keys for ARC (RFC 8617) from the shell.
 *
 *   arctool verify [options] [FILE|-]
 *   arctool seal --domain D --selector S --key PEM --authserv-id ID
 *       [options] [FILE|-]
 *   arctool keygen --domain D --selector S [--type rsa|ed25519]
 *       [--bits N] --out PEM
 *
 * Exit codes: verify 0 pass, 1 fail, 2 none; seal and keygen 0 done;
 * 64 and up (sysexits.h) for usage, input and internal errors.  The
 * message is streamed: memory stays flat whatever its size (seal keeps a
 * copy in a temporary file when reading a pipe, to print it after).
 */
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sysexits.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "arc.h"
#include "arc_adapter.h"

#define CHUNK	65536
#define DEFAULT_OVERSIGN "from:to:cc:subject:date:message-id:reply-to"

static const char *progname = "arctool";

static void
usage(void)
{
	fprintf(stderr,
	    "usage: %s verify [--keys FILE] [--remote-ip IP] "
	    "[--authserv-id ID]\n"
	    "                  [--config FILE] [--dns-forwarder ADDR[@PORT]] "
	    "[--no-dns] [FILE|-]\n"
	    "       %s seal --domain D --selector S --key PEM "
	    "--authserv-id ID\n"
	    "                  [--keys FILE] [--headers h1:h2:...] "
	    "[--oversign h1:...]\n"
	    "                  [--timestamp T] [--algorithm "
	    "rsa-sha256|ed25519-sha256]\n"
	    "                  [--no-fold] [--set-only] "
	    "[--allow-world-readable-key] [FILE|-]\n"
	    "       %s keygen --domain D --selector S [--type rsa|ed25519] "
	    "[--bits N] --out PEM\n", progname, progname, progname);
	exit(EX_USAGE);
}

static void
die(int code, const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", progname);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	exit(code);
}

struct opts {
	const char	*keys[16];
	int		 nkeys;
	const char	*remote_ip, *authserv_id, *domain, *selector;
	const char	*keyfile, *headers, *oversign, *algorithm, *type;
	const char	*out, *dns_forwarder, *conf;
	long long	 timestamp;
	int		 bits, no_fold, set_only, no_dns, allow_readable;
};

enum { O_KEYS = 256, O_REMOTE_IP, O_AUTHSERV, O_DOMAIN, O_SELECTOR, O_KEY,
    O_HEADERS, O_OVERSIGN, O_TIMESTAMP, O_ALGORITHM, O_NOFOLD, O_SETONLY,
    O_TYPE, O_BITS, O_OUT, O_DNSFWD, O_NODNS, O_CONF, O_READABLE };

static const struct option longopts[] = {
	{ "keys", required_argument, NULL, O_KEYS },
	{ "remote-ip", required_argument, NULL, O_REMOTE_IP },
	{ "authserv-id", required_argument, NULL, O_AUTHSERV },
	{ "domain", required_argument, NULL, O_DOMAIN },
	{ "selector", required_argument, NULL, O_SELECTOR },
	{ "key", required_argument, NULL, O_KEY },
	{ "headers", required_argument, NULL, O_HEADERS },
	{ "oversign", required_argument, NULL, O_OVERSIGN },
	{ "timestamp", required_argument, NULL, O_TIMESTAMP },
	{ "algorithm", required_argument, NULL, O_ALGORITHM },
	{ "no-fold", no_argument, NULL, O_NOFOLD },
	{ "set-only", no_argument, NULL, O_SETONLY },
	{ "type", required_argument, NULL, O_TYPE },
	{ "bits", required_argument, NULL, O_BITS },
	{ "out", required_argument, NULL, O_OUT },
	{ "dns-forwarder", required_argument, NULL, O_DNSFWD },
	{ "no-dns", no_argument, NULL, O_NODNS },
	{ "config", required_argument, NULL, O_CONF },
	{ "allow-world-readable-key", no_argument, NULL, O_READABLE },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 }
};

static long long
number(const char *s, const char *what)
{
	char		*end;
	long long	 v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *s == '\0' || *end != '\0' || v < 0)
		die(EX_USAGE, "invalid %s", what);
	return v;
}

static void
parse_opts(int argc, char **argv, struct opts *o)
{
	int	 c;

	memset(o, 0, sizeof(*o));
	o->bits = 2048;
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case O_KEYS:
			if (o->nkeys == 16)
				die(EX_USAGE, "too many --keys%s", "");
			o->keys[o->nkeys++] = optarg;
			break;
		case O_REMOTE_IP:	o->remote_ip = optarg; break;
		case O_AUTHSERV:	o->authserv_id = optarg; break;
		case O_DOMAIN:		o->domain = optarg; break;
		case O_SELECTOR:	o->selector = optarg; break;
		case O_KEY:		o->keyfile = optarg; break;
		case O_HEADERS:		o->headers = optarg; break;
		case O_OVERSIGN:	o->oversign = optarg; break;
		case O_ALGORITHM:	o->algorithm = optarg; break;
		case O_TYPE:		o->type = optarg; break;
		case O_OUT:		o->out = optarg; break;
		case O_DNSFWD:		o->dns_forwarder = optarg; break;
		case O_NODNS:		o->no_dns = 1; break;
		case O_CONF:		o->conf = optarg; break;
		case O_READABLE:	o->allow_readable = 1; break;
		case O_NOFOLD:		o->no_fold = 1; break;
		case O_SETONLY:		o->set_only = 1; break;
		case O_TIMESTAMP:
			o->timestamp = number(optarg, "--timestamp");
			break;
		case O_BITS:
			o->bits = (int)number(optarg, "--bits");
			break;
		default:
			usage();
		}
	}
}

static arc_conf		*conf;
static arc_adapter	*adapter;

static void
set(const char *name, const char *value)
{
	char	 err[256];

	if (value && arc_conf_set(conf, name, value, err, sizeof(err)) != 0)
		die(EX_USAGE, "%s", err);
}

/* Key sources come from the adapter layer, as in every adapter: an
 * optional arc.conf, then the command line on top of it. */
static arc_lib *
make_lib(const struct opts *o)
{
	char	 err[512];
	int	 i;

	if ((conf = arc_conf_load(o->conf, err, sizeof(err))) == NULL)
		die(EX_CONFIG, "%s", err);
	for (i = 0; i < o->nkeys; i++)
		set("key-table", o->keys[i]);
	set("dns-forwarder", o->dns_forwarder);
	if (o->no_dns)
		set("dns", "no");
	set("log-level", "err");
	if ((adapter = arc_adapter_create(conf, NULL, NULL, err,
	    sizeof(err))) == NULL)
		die(EX_CONFIG, "%s", err);
	return arc_adapter_lib(adapter);
}

static void
free_lib(void)
{
	arc_adapter_free(adapter);
	arc_conf_free(conf);
}

static FILE *
open_input(int argc, char **argv)
{
	FILE	*fp;

	if (optind < argc - 1)
		usage();
	if (optind == argc || strcmp(argv[optind], "-") == 0)
		return stdin;
	if ((fp = fopen(argv[optind], "rb")) == NULL)
		die(EX_NOINPUT, "%s", argv[optind]);
	return fp;
}

/* Streams the input into msg; copies it to copy if given.  Notes
 * whether the first line ends in CRLF. */
static void
feed(arc_msg *msg, FILE *in, FILE *copy, int *crlf)
{
	char	 buf[CHUNK];
	size_t	 n;
	int	 first = 1;

	while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
		if (first) {
			char *nl = memchr(buf, '\n', n);

			*crlf = nl != NULL && nl > buf && nl[-1] == '\r';
			first = 0;
		}
		if (arc_msg_feed(msg, buf, n) != ARC_OK)
			die(EX_SOFTWARE, "%s", arc_msg_error(msg));
		if (copy && fwrite(buf, 1, n, copy) != n)
			die(EX_IOERR, "temporary file: %s", strerror(errno));
	}
	if (ferror(in))
		die(EX_IOERR, "read error: %s", strerror(errno));
	if (arc_msg_wait(msg, 10000) != ARC_OK)
		die(EX_SOFTWARE, "%s", arc_msg_error(msg));
}

static const char *
sig_name(arc_sig_result r)
{
	return r == ARC_SIG_PASS ? "pass" : r == ARC_SIG_FAIL ? "fail" :
	    "not checked";
}

static const char *
dnssec_name(arc_dnssec d)
{
	static const char *const n[] = { "", " [dnssec: insecure]",
	    " [dnssec: secure]", " [dnssec: bogus]" };

	return n[d];
}

/* One signature of a set: "  AS  d=... s=...: pass", why it failed,
 * and the DNSSEC state of its key when known. */
static void
print_sig(const char *kind, const char *d, const char *sel,
    arc_sig_result r, const char *why, arc_dnssec dnssec)
{
	printf("  %s d=%s s=%s: %s", kind, d ? d : "?", sel ? sel : "?",
	    sig_name(r));
	if (why != NULL)
		printf(" (%s)", why);
	printf("\n");
	if (dnssec)
		printf("      %s\n", dnssec_name(dnssec) + 2);
}

static void
report(arc_msg *msg, const char *authserv_id, const char *remote_ip)
{
	char	*ar;
	int	 i;

	if ((ar = arc_msg_authres(msg, authserv_id, remote_ip)) == NULL)
		die(EX_OSERR, "out of memory%s", "");
	/* first line: the result alone; then the field to add */
	printf("%s\n", strchr(ar, ';') + 2);
	printf("Authentication-Results: %s\n", ar);
	free(ar);
	for (i = arc_msg_nsets(msg); i >= 1; i--) {
		const arc_set_info *si = arc_msg_set(msg, i);

		if (si == NULL || si->instance == 0)
			continue;
		printf("set i=%d cv=%s\n", i, si->cv ? si->cv : "?");
		print_sig("AS ", si->as_domain, si->as_selector,
		    si->as_result, si->as_reason, si->as_dnssec);
		print_sig("AMS", si->ams_domain, si->ams_selector,
		    si->ams_result, si->ams_reason, si->ams_dnssec);
	}
	if (arc_msg_cv(msg) == ARC_CV_FAIL)
		printf("reason: %s\n", arc_msg_reason(msg));
}

static const char *
default_authserv_id(const struct opts *o)
{
	static char	 host[256];

	if (o->authserv_id)
		return o->authserv_id;
	if (gethostname(host, sizeof(host) - 1) != 0 || host[0] == '\0')
		return "localhost";
	return host;
}

static int
cmd_verify(int argc, char **argv)
{
	struct opts	 o;
	arc_lib		*lib;
	arc_msg		*msg;
	FILE		*in;
	int		 crlf = 0, rc;

	parse_opts(argc, argv, &o);
	lib = make_lib(&o);
	in = open_input(argc, argv);
	if ((msg = arc_msg_create(lib, ARC_MSG_VERIFY)) == NULL)
		die(EX_OSERR, "out of memory%s", "");
	feed(msg, in, NULL, &crlf);
	report(msg, default_authserv_id(&o), o.remote_ip);
	rc = arc_msg_cv(msg) == ARC_CV_PASS ? 0 :
	    arc_msg_cv(msg) == ARC_CV_FAIL ? 1 : 2;
	arc_msg_free(msg);
	free_lib();
	if (in != stdin)
		fclose(in);
	return rc;
}

/* Writes a CRLF-terminated field in the input's line-end style. */
static void
put_field(const char *f, int crlf)
{
	for (; *f; f++) {
		if (*f == '\r' && !crlf && f[1] == '\n')
			continue;
		putchar(*f);
	}
}

static int
cmd_seal(int argc, char **argv)
{
	struct opts	 o;
	arc_lib		*lib;
	arc_msg		*msg;
	arc_signer	*signer;
	arc_seal_result	 res;
	FILE		*in, *copy = NULL;
	char		 err[256], buf[CHUNK];
	struct stat	 st;
	size_t		 n;
	int		 crlf = 0;

	parse_opts(argc, argv, &o);
	if (!o.domain || !o.selector || !o.keyfile || !o.authserv_id)
		usage();
	lib = make_lib(&o);
	/* as in every adapter: a key anyone can read is no secret */
	if (!o.allow_readable && stat(o.keyfile, &st) == 0 &&
	    (st.st_mode & S_IROTH))
		die(EX_NOPERM, "%s is readable by everyone: chmod o-r it, or "
		    "give --allow-world-readable-key", o.keyfile);
	if ((signer = arc_signer_create(o.domain, o.selector, o.keyfile, err,
	    sizeof(err))) == NULL)
		die(EX_DATAERR, "%s", err);
	if (o.algorithm && strcmp(o.algorithm, arc_signer_alg(signer) ==
	    ARC_ALG_RSA_SHA256 ? "rsa-sha256" : "ed25519-sha256") != 0)
		die(EX_USAGE, "--algorithm %s does not match the key", o.algorithm);
	if ((o.headers || o.oversign) && arc_signer_set_headers(signer,
	    o.headers, o.oversign ? o.oversign : DEFAULT_OVERSIGN) != ARC_OK)
		die(EX_OSERR, "out of memory%s", "");
	in = open_input(argc, argv);
	/* a pipe cannot be read twice: keep a copy to print afterwards */
	if (!o.set_only && (fstat(fileno(in), &st) != 0 ||
	    !S_ISREG(st.st_mode)) && (copy = tmpfile()) == NULL)
		die(EX_CANTCREAT, "temporary file: %s", strerror(errno));
	if ((msg = arc_msg_create(lib, ARC_MSG_VERIFY | ARC_MSG_SEAL)) ==
	    NULL || arc_msg_set_signer(msg, signer) != ARC_OK)
		die(EX_OSERR, "out of memory%s", "");
	feed(msg, in, copy, &crlf);
	if (arc_msg_seal(msg, signer, o.authserv_id, NULL,
	    (time_t)o.timestamp, o.no_fold ? ARC_SEAL_NOFOLD : 0, &res) !=
	    ARC_OK)
		die(EX_SOFTWARE, "%s", arc_msg_error(msg));
	if (!res.sealed)
		fprintf(stderr, "%s: not sealed: %s\n", progname, res.reason);
	else {
		put_field(res.as, crlf);
		put_field(res.ams, crlf);
		put_field(res.aar, crlf);
	}
	if (!o.set_only) {
		FILE *src = copy ? copy : in;

		if (fflush(src) != 0 || fseek(src, 0, SEEK_SET) != 0)
			die(EX_IOERR, "cannot reread the input: %s",
			    strerror(errno));
		while ((n = fread(buf, 1, sizeof(buf), src)) > 0)
			if (fwrite(buf, 1, n, stdout) != n)
				break;
	}
	if (fflush(stdout) != 0 || ferror(stdout))
		die(EX_IOERR, "write error: %s", strerror(errno));
	arc_seal_result_clear(&res);
	arc_msg_free(msg);
	arc_signer_free(signer);
	free_lib();
	if (copy)
		fclose(copy);
	if (in != stdin)
		fclose(in);
	return 0;
}

/* Prints the record as zone-file strings of at most 255 octets. */
static void
print_record(const char *sel, const char *dom, const char *rec)
{
	size_t	 n = strlen(rec), i;

	printf("%s._domainkey.%s. IN TXT", sel, dom);
	for (i = 0; i < n; i += 255)
		printf(" \"%.*s\"", (int)(n - i < 255 ? n - i : 255), rec + i);
	printf("\n");
}

static int
cmd_keygen(int argc, char **argv)
{
	struct opts	 o;
	EVP_PKEY	*key = NULL;
	unsigned char	*der = NULL, raw[32];
	size_t		 rawlen = sizeof(raw);
	int		 derlen, fd, ed;
	FILE		*fp;
	char		*b64, *rec;

	parse_opts(argc, argv, &o);
	if (!o.domain || !o.selector || !o.out || optind != argc)
		usage();
	ed = o.type && strcmp(o.type, "ed25519") == 0;
	if (o.type && !ed && strcmp(o.type, "rsa") != 0)
		die(EX_USAGE, "unknown key type %s", o.type);
	if (!ed && (o.bits < 1024 || o.bits > 8192))
		die(EX_USAGE, "RSA keys must have 1024 to 8192 bits%s", "");
	key = ed ? EVP_PKEY_Q_keygen(NULL, NULL, "ED25519") :
	    EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)o.bits);
	if (key == NULL)
		die(EX_SOFTWARE, "key generation failed%s", "");
	/* 0600 from the start: the key is never readable by others */
	if ((fd = open(o.out, O_WRONLY | O_CREAT | O_TRUNC, 0600)) == -1 ||
	    fchmod(fd, 0600) != 0 || (fp = fdopen(fd, "w")) == NULL)
		die(EX_CANTCREAT, "%s", o.out);
	if (!PEM_write_PrivateKey(fp, key, NULL, NULL, 0, NULL, NULL) ||
	    fclose(fp) != 0)
		die(EX_IOERR, "cannot write %s", o.out);
	if (ed) {
		if (!EVP_PKEY_get_raw_public_key(key, raw, &rawlen))
			die(EX_SOFTWARE, "cannot export the public key%s", "");
		der = raw;
		derlen = (int)rawlen;
	} else if ((derlen = i2d_PUBKEY(key, &der)) <= 0)
		die(EX_SOFTWARE, "cannot export the public key%s", "");
	if ((b64 = malloc(4 * ((size_t)derlen + 2) / 3 + 4)) == NULL)
		die(EX_OSERR, "out of memory%s", "");
	EVP_EncodeBlock((unsigned char *)b64, der, derlen);
	if (asprintf(&rec, "v=DKIM1; k=%s; p=%s", ed ? "ed25519" : "rsa",
	    b64) < 0)
		die(EX_OSERR, "out of memory%s", "");
	print_record(o.selector, o.domain, rec);
	free(rec);
	free(b64);
	if (!ed)
		OPENSSL_free(der);
	EVP_PKEY_free(key);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc < 2)
		usage();
	argc--;
	argv++;
	optind = 1;
	if (strcmp(argv[0], "verify") == 0)
		return cmd_verify(argc, argv);
	if (strcmp(argv[0], "seal") == 0)
		return cmd_seal(argc, argv);
	if (strcmp(argv[0], "keygen") == 0)
		return cmd_keygen(argc, argv);
	usage();
	return EX_USAGE;
}
