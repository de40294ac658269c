/*
 * arctool - verify, seal and make keys for ARC (RFC 8617) from the shell.
 *
 *   arctool verify [options] [FILE|-]
 *   arctool seal --domain D --selector S --key PEM --authserv-id ID
 *       [options] [FILE|-]
 *   arctool keygen --domain D --selector S [--type rsa|ed25519]
 *       [--bits N] --out PEM [--force] [--format zone|bare|name]
 *   arctool testkey --domain D --selector S --key PEM [--dns-forwarder A]
 *   arctool check-config --config FILE [--user USER]
 *   arctool stats [--json] FILE...     (adapters/arc_stats_cli.c)
 *   (keygen and testkey: arctool_keys.c; check-config: arctool_check.c)
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
#include "arc_policy.h"
#include "arc_stats.h"
#include "arctool_keys.h"

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
	    "       %s seal --config FILE --authserv-id ID [--rcpt ADDR]... "
	    "[--mail-from ADDR]\n"
	    "                  [--set-only] [FILE|-]   (the signing table "
	    "chooses the key)\n"
	    "       %s keygen --domain D --selector S [--type rsa|ed25519] "
	    "[--bits N] --out PEM\n"
	    "                  [--force] [--format zone|bare|name]\n"
	    "       %s testkey --domain D --selector S --key PEM "
	    "[--dns-forwarder ADDR[@PORT]]\n"
	    "                  [--dnssec-trust-anchor FILE] [--timeout MS]\n"
	    "       %s check-config --config FILE [--user USER[:GROUP]]\n"
	    "       %s stats [--json] FILE...\n",
	    progname, progname, progname, progname, progname, progname,
	    progname);
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
	const char	*rcpt[16], *mail_from;	/* seal by the signing table */
	int		 nrcpt;
	long long	 timestamp;
	int		 bits, no_fold, set_only, no_dns, allow_readable;
	int		 dkim;		/* --dkim: authenticate dkim */
};

enum { O_KEYS = 256, O_REMOTE_IP, O_AUTHSERV, O_DOMAIN, O_SELECTOR, O_KEY,
    O_HEADERS, O_OVERSIGN, O_TIMESTAMP, O_ALGORITHM, O_NOFOLD, O_SETONLY,
    O_TYPE, O_BITS, O_OUT, O_DNSFWD, O_NODNS, O_CONF, O_READABLE,
    O_RCPT, O_MAILFROM, O_DKIM };

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
	{ "rcpt", required_argument, NULL, O_RCPT },
	{ "mail-from", required_argument, NULL, O_MAILFROM },
	{ "dkim", no_argument, NULL, O_DKIM },
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
		case O_MAILFROM:	o->mail_from = optarg; break;
		case O_DKIM:		o->dkim = 1; break;
		case O_RCPT:
			if (o->nrcpt == 16)
				die(EX_USAGE, "too many --rcpt%s", "");
			o->rcpt[o->nrcpt++] = optarg;
			break;
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
	if (o->dkim)
		set("authenticate", "dkim");
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
	char		*ar, *dc;
	int		 i, policy = arc_policy_size(arc_adapter_policy(adapter))
			    > 0;
	arc_verdict	 v;

	/* the receiver policy (arc.conf trusted-sealers), as the adapters
	 * apply it: its properties on the A-R, its lines at the end */
	arc_policy_evaluate(arc_adapter_policy(adapter), msg, authserv_id,
	    arc_conf_get(conf, "trusted-authserv-ids"), NULL, &v);
	if (!arc_authserv_id_ok(authserv_id))
		die(EX_USAGE, "invalid --authserv-id (not an RFC 2045 token of "
		    "at most 255 bytes)%s", "");
	if ((ar = arc_msg_authres(msg, authserv_id, remote_ip)) == NULL ||
	    (dc = arc_dmarc_comment(msg)) == NULL)
		die(EX_OSERR, "out of memory%s", "");
	/* first line: the result alone; then the field to add */
	printf("%s\n", strchr(ar, ';') + 2);
	printf("Authentication-Results: %s", ar);
	if (v.instance)
		printf(" policy.arc-trusted=%s policy.arc-override=%s",
		    v.domain, v.override ? "yes" : "no");
	free(ar);
	/* authenticate dkim: the DKIM results as the adapters add them,
	 * then one line per signature */
	if (arc_adapter_authenticates_dkim(adapter)) {
		if ((ar = arc_msg_dkim_authres(msg)) == NULL)
			die(EX_OSERR, "out of memory%s", "");
		printf("; %s", ar);
		free(ar);
	}
	printf("\n");
	for (i = 0; i < arc_msg_dkim_count(msg); i++) {
		const arc_dkim_info *d = arc_msg_dkim(msg, i);

		printf("dkim %d: %s d=%s s=%s%s%s\n", i + 1,
		    arc_dkim_result_name(d->result), d->domain ? d->domain :
		    "?", d->selector ? d->selector : "?", d->reason[0] ?
		    " reason: " : "", d->reason);
	}
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
	if (policy) {
		if (v.instance)
			printf("trusted: d=%s i=%d dkim=%s spf=%s dmarc=%s\n",
			    v.domain, v.instance, v.dkim[0] ? v.dkim : "-",
			    v.spf[0] ? v.spf : "-", v.dmarc[0] ? v.dmarc : "-");
		else
			printf("trusted: none\n");
		printf("override: %s (%s)\n", v.override ? "yes" : "no",
		    v.why);
	}
	printf("dmarc-comment: %s\n", dc);
	free(dc);
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
	if ((msg = arc_msg_create(lib, ARC_MSG_VERIFY |
	    (arc_adapter_authenticates_dkim(adapter) ? ARC_MSG_DKIM : 0))) ==
	    NULL)
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

/* After the new fields, the message itself, read again from where it
 * was kept (the file, or the copy of standard input). */
static void
copy_input(FILE *src)
{
	char	 buf[CHUNK];
	size_t	 n;

	if (fflush(src) != 0 || fseek(src, 0, SEEK_SET) != 0)
		die(EX_IOERR, "cannot reread the input: %s", strerror(errno));
	while ((n = fread(buf, 1, sizeof(buf), src)) > 0)
		if (fwrite(buf, 1, n, stdout) != n)
			break;
}

/*
 * seal --config without an identity: the configuration's key and
 * signing tables choose, through an adapter session as every MTA
 * adapter does (its seal-select, its seal-no-match); stderr says which
 * key sealed and why.
 */
static int
seal_by_tables(struct opts *o, int argc, char **argv)
{
	arc_session_params	 p = { 0 };
	arc_session		*ss;
	const arc_actions	*a;
	FILE			*in, *copy = NULL;
	struct stat		 st;
	char			 buf[CHUNK];
	size_t			 n;
	int			 crlf = 0, first = 1, i;

	if (o->headers || o->oversign || o->timestamp || o->algorithm ||
	    o->no_fold)
		die(EX_USAGE, "--headers, --oversign, --timestamp, --algorithm "
		    "and --no-fold need --domain, --selector and --key%s", "");
	(void)make_lib(o);
	if (arc_conf_get(conf, "seal-signing-table") == NULL)
		die(EX_USAGE, "%s names no seal-signing-table: give --domain, "
		    "--selector and --key", o->conf);
	in = open_input(argc, argv);
	if (!o->set_only && (fstat(fileno(in), &st) != 0 ||
	    !S_ISREG(st.st_mode)) && (copy = tmpfile()) == NULL)
		die(EX_CANTCREAT, "temporary file: %s", strerror(errno));
	p.id = "arctool";
	p.authserv_id = o->authserv_id;
	p.mail_from = o->mail_from;
	p.seal = 1;
	p.quiet = 1;
	if ((ss = arc_session_create(adapter, &p)) == NULL)
		die(EX_OSERR, "out of memory%s", "");
	for (i = 0; i < o->nrcpt; i++)
		arc_session_rcpt(ss, o->rcpt[i]);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0) {
		if (first) {
			char *nl = memchr(buf, '\n', n);

			crlf = nl != NULL && nl > buf && nl[-1] == '\r';
			first = 0;
		}
		if (arc_session_feed(ss, buf, n) != 0)
			break;
		if (copy && fwrite(buf, 1, n, copy) != n)
			die(EX_IOERR, "temporary file: %s", strerror(errno));
	}
	if (ferror(in))
		die(EX_IOERR, "read error: %s", strerror(errno));
	if (arc_session_eom(ss) == ARC_SESSION_PENDING)
		arc_session_wait(ss);
	a = arc_session_actions(ss);
	if (a->error)
		die(EX_SOFTWARE, "%s", a->reason ? a->reason : "internal error");
	if (a->sealed) {
		fprintf(stderr, "%s: sealed i=%d %s\n", progname, a->sealed,
		    a->selection);
		put_field(a->fields[0], crlf);
		put_field(a->fields[1], crlf);
		put_field(a->fields[2], crlf);
	} else
		fprintf(stderr, "%s: not sealed: %s %s\n", progname, a->reason ?
		    a->reason : "no key chosen", a->selection);
	if (!o->set_only)
		copy_input(copy ? copy : in);
	if (fflush(stdout) != 0 || ferror(stdout))
		die(EX_IOERR, "write error: %s", strerror(errno));
	arc_session_free(ss);
	free_lib();
	if (copy)
		fclose(copy);
	if (in != stdin)
		fclose(in);
	return 0;
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
	char		 err[256];
	struct stat	 st;
	int		 crlf = 0;
	char		*dkim_ar = NULL;
	const char	*extra[2] = { NULL, NULL };

	parse_opts(argc, argv, &o);
	if (o.conf && !o.domain && !o.selector && !o.keyfile && o.authserv_id)
		return seal_by_tables(&o, argc, argv);
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
	if ((msg = arc_msg_create(lib, ARC_MSG_VERIFY | ARC_MSG_SEAL |
	    (arc_adapter_authenticates_dkim(adapter) ? ARC_MSG_DKIM : 0))) ==
	    NULL || arc_msg_set_signer(msg, signer) != ARC_OK)
		die(EX_OSERR, "out of memory%s", "");
	feed(msg, in, copy, &crlf);
	/* authenticate dkim: our DKIM results go into the AAR, after arc */
	if (arc_adapter_authenticates_dkim(adapter)) {
		char *d = arc_msg_dkim_authres(msg);

		if (d == NULL || asprintf(&dkim_ar, "%s; %s", o.authserv_id, d)
		    < 0)
			die(EX_OSERR, "out of memory%s", "");
		free(d);
		extra[0] = dkim_ar;
	}
	/* a file's own A-R of our authserv-id is copied, as before,
	 * unless we authenticate (then it is not ours) or arc.conf says
	 * aar-from-message no */
	if (arc_msg_seal(msg, signer, o.authserv_id, extra,
	    (time_t)o.timestamp, (o.no_fold ? ARC_SEAL_NOFOLD : 0) |
	    (arc_adapter_aar_from_message(adapter, 1) ? 0 :
	    ARC_SEAL_NO_MESSAGE_AR), &res) != ARC_OK)
		die(EX_SOFTWARE, "%s", arc_msg_error(msg));
	if (!res.sealed)
		fprintf(stderr, "%s: not sealed: %s\n", progname, res.reason);
	else {
		put_field(res.as, crlf);
		put_field(res.ams, crlf);
		put_field(res.aar, crlf);
	}
	if (!o.set_only)
		copy_input(copy ? copy : in);
	if (fflush(stdout) != 0 || ferror(stdout))
		die(EX_IOERR, "write error: %s", strerror(errno));
	arc_seal_result_clear(&res);
	free(dkim_ar);
	arc_msg_free(msg);
	arc_signer_free(signer);
	free_lib();
	if (copy)
		fclose(copy);
	if (in != stdin)
		fclose(in);
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
	/* arctool_keys.c, arctool_check.c */
	if (strcmp(argv[0], "keygen") == 0)
		return arctool_keygen(argc, argv);
	if (strcmp(argv[0], "testkey") == 0)
		return arctool_testkey(argc, argv);
	if (strcmp(argv[0], "check-config") == 0)
		return arctool_check_config(argc, argv);
	if (strcmp(argv[0], "stats") == 0)	/* adapters/arc_stats_cli.c */
		return arc_stats_cli(argc, argv);
	usage();
	return EX_USAGE;
}
