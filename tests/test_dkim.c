/*
 * test_dkim.c - DKIM verification in the core (ARC_MSG_DKIM; RFC 6376,
 * RFC 8463, RFC 8301) against real peers.
 *
 * Contract:
 *  - The fixtures are made at start with fresh keys by tests/dkim/gen.py
 *    (messages signed by dkimpy and by Mail::DKIM, a key table, and the
 *    verdicts of both peers); each message must get exactly the results
 *    the expect file names, and our pass/no-pass must agree with both
 *    peers except where the file says why a peer differs (RFC 8301,
 *    key flags dkimpy ignores, ed25519 this Mail::DKIM lacks).
 *  - The temporary key failure is a real libunbound asking a UDP socket
 *    on 127.0.0.1 that never answers (arc_msg_eom() says ARC_PENDING).
 *  - Hostile DKIM-Signatures are written here: their results are never
 *    pass and every reason is printable ASCII without ';'.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cunit_run.h"
#include "test_fixture.h"

#include "arc.h"

static char	 dir[] = "/tmp/arc-test-dkim.XXXXXX";
static char	 keytable[300];
static int	 dns_fd = -1, dns_port;

static int
init(void)
{
	char			 cmd[512];
	struct sockaddr_in	 sa;
	socklen_t		 sl = sizeof(sa);

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(keytable, sizeof(keytable), "%s/keytable", dir);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 tests/dkim/gen.py %s",
	    dir);
	if (system(cmd) != 0)
		return 1;
	/* a resolver that never answers */
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((dns_fd = socket(AF_INET, SOCK_DGRAM, 0)) < 0 ||
	    bind(dns_fd, (struct sockaddr *)&sa, sizeof(sa)) != 0 ||
	    getsockname(dns_fd, (struct sockaddr *)&sa, &sl) != 0)
		return 1;
	dns_port = ntohs(sa.sin_port);
	return 0;
}

static int
clean(void)
{
	char	 cmd[512];

	if (dns_fd >= 0)
		close(dns_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd) != 0;
}

static arc_lib *
make_lib(int dns)
{
	arc_lib		*lib = arc_lib_create();
	char		 fw[64];
	arc_dns_config	 c;

	CU_ASSERT_PTR_NOT_NULL_FATAL(lib);
	CU_ASSERT_EQUAL(arc_lib_add_keytable(lib, keytable), ARC_OK);
	if (dns) {
		memset(&c, 0, sizeof(c));
		snprintf(fw, sizeof(fw), "127.0.0.1@%d", dns_port);
		c.forwarder = fw;
		c.timeout_ms = 300;
		CU_ASSERT_EQUAL(arc_lib_use_dns(lib, &c), ARC_OK);
	}
	return lib;
}

/* Feeds text; *pending gets whether eom first said ARC_PENDING. */
static arc_msg *
verify(arc_lib *lib, const char *text, size_t len, unsigned flags,
    int *pending)
{
	arc_msg		*m = arc_msg_create(lib, flags);
	arc_status	 r;

	CU_ASSERT_PTR_NOT_NULL_FATAL(m);
	CU_ASSERT_EQUAL(arc_msg_feed(m, text, len), ARC_OK);
	r = arc_msg_eom(m);
	if (pending)
		*pending = r == ARC_PENDING;
	if (r == ARC_PENDING)
		r = arc_msg_wait(m, 5000);
	CU_ASSERT_EQUAL(r, ARC_OK);
	return m;
}

static void
results_of(const arc_msg *m, char *out, size_t len)
{
	int	 i, n = arc_msg_dkim_count(m);
	size_t	 o = 0;

	out[0] = '\0';
	for (i = 0; i < n && o < len; i++)
		o += (size_t)snprintf(out + o, len - o, "%s%s", i ? "," : "",
		    arc_dkim_result_name(arc_msg_dkim(m, i)->result));
	if (n == 0)
		snprintf(out, len, "-");
}

/* Ours against a peer's list, pass against not pass. */
static int
agrees(const char *ours, const char *peer)
{
	char	 a[256], b[256], *sa, *sb, *x, *y;

	snprintf(a, sizeof(a), "%s", ours);
	snprintf(b, sizeof(b), "%s", peer);
	x = strtok_r(a, ",", &sa);
	y = strtok_r(b, ",", &sb);
	while (x && y) {
		if ((strcmp(x, "pass") == 0) != (strcmp(y, "pass") == 0))
			return 0;
		x = strtok_r(NULL, ",", &sa);
		y = strtok_r(NULL, ",", &sb);
	}
	return x == NULL && y == NULL;
}

static void
t_fixtures(void)
{
	char	 path[400], line[512], name[128], want[128], dkimpy[128];
	char	 mdkim[128], flags[128], got[256];
	FILE	*f;
	int	 n = 0, pending;

	snprintf(path, sizeof(path), "%s/expect", dir);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f = fopen(path, "r"));
	while (fgets(line, sizeof(line), f)) {
		arc_lib	*lib;
		arc_msg	*m;
		char	*text;
		size_t	 len;
		int	 dns;

		if (sscanf(line, "%127s %127s %127s %127s %127s", name, want,
		    dkimpy, mdkim, flags) != 5)
			continue;
		snprintf(path, sizeof(path), "%s/%s.eml", dir, name);
		CU_ASSERT_PTR_NOT_NULL_FATAL(text = slurp(path, &len));
		dns = strstr(flags, "dns") != NULL;
		lib = make_lib(dns);
		m = verify(lib, text, len, ARC_MSG_VERIFY | ARC_MSG_DKIM,
		    &pending);
		results_of(m, got, sizeof(got));
		if (strcmp(got, want) != 0)
			fprintf(stderr, "%s: got %s, want %s (%s)\n", name, got,
			    want, arc_msg_dkim_count(m) ?
			    arc_msg_dkim(m, 0)->reason : "");
		CU_ASSERT_STRING_EQUAL(got, want);
		if (dns)	/* the lookup was asynchronous */
			CU_ASSERT_TRUE(pending);
		if (strstr(flags, "weak") == NULL) {
			if (strstr(flags, "dkimpy-lax") == NULL &&
			    !agrees(got, dkimpy)) {
				fprintf(stderr, "%s: dkimpy says %s\n", name,
				    dkimpy);
				CU_FAIL("dkimpy disagrees");
			}
			if (strstr(flags, "mdkim-noed") == NULL &&
			    !agrees(got, mdkim)) {
				fprintf(stderr, "%s: Mail::DKIM says %s\n",
				    name, mdkim);
				CU_FAIL("Mail::DKIM disagrees");
			}
		}
		/* the ARC verdict is untouched by DKIM */
		CU_ASSERT_EQUAL(arc_msg_cv(m), ARC_CV_NONE);
		arc_msg_free(m);
		arc_lib_free(lib);
		free(text);
		n++;
	}
	fclose(f);
	CU_ASSERT(n >= 30);
}

static arc_msg *
fixture(arc_lib *lib, const char *name, unsigned flags, char **text)
{
	char	 path[400];
	size_t	 len;

	snprintf(path, sizeof(path), "%s/%s.eml", dir, name);
	*text = slurp(path, &len);
	CU_ASSERT_PTR_NOT_NULL_FATAL(*text);
	return verify(lib, *text, len, flags, NULL);
}

static int
header_text_ok(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			return 0;
	return 1;
}

static void
t_authres_text(void)
{
	arc_lib			*lib = make_lib(0);
	char			*text, *ar, want[200];
	const char		*b;
	arc_msg			*m;
	const arc_dkim_info	*d;

	m = fixture(lib, "rsa-relaxed-simple", ARC_MSG_DKIM, &text);
	CU_ASSERT_EQUAL_FATAL(arc_msg_dkim_count(m), 1);
	d = arc_msg_dkim(m, 0);
	CU_ASSERT_STRING_EQUAL(d->domain, "example.org");
	CU_ASSERT_STRING_EQUAL(d->auid, "@example.org");
	CU_ASSERT_STRING_EQUAL(d->selector, "r1024");
	CU_ASSERT_EQUAL(d->key_bits, 1024);
	CU_ASSERT_EQUAL(d->alg, ARC_ALG_RSA_SHA256);
	/* the first 8 characters of b= as written */
	b = strstr(text, " b=");
	CU_ASSERT_PTR_NOT_NULL_FATAL(b);
	b += 3;
	while (*b == ' ' || *b == '\r' || *b == '\n' || *b == '\t')
		b++;
	CU_ASSERT_EQUAL(strncmp(d->b8, b, 8), 0);
	snprintf(want, sizeof(want), "dkim=pass header.d=example.org "
	    "header.i=@example.org header.s=r1024 header.b=%s%.8s%s",
	    strpbrk(d->b8, "/=") ? "\"" : "", d->b8,
	    strpbrk(d->b8, "/=") ? "\"" : "");
	ar = arc_msg_dkim_authres(m);
	CU_ASSERT_STRING_EQUAL(ar, want);
	free(ar);
	arc_msg_free(m);
	free(text);

	m = fixture(lib, "multiple-one-bad", ARC_MSG_DKIM, &text);
	ar = arc_msg_dkim_authres(m);
	CU_ASSERT_PTR_NOT_NULL_FATAL(ar);
	CU_ASSERT_EQUAL(strncmp(ar, "dkim=pass header.d=example.org", 30), 0);
	CU_ASSERT_PTR_NOT_NULL(strstr(ar, "; dkim=fail (signature did not "
	    "verify) header.d=example.org header.i=@example.org "
	    "header.s=wrong header.b="));
	CU_ASSERT_TRUE(header_text_ok(ar));
	free(ar);
	arc_msg_free(m);
	free(text);

	m = fixture(lib, "unsigned", ARC_MSG_DKIM, &text);
	CU_ASSERT_EQUAL(arc_msg_dkim_count(m), 0);
	ar = arc_msg_dkim_authres(m);
	CU_ASSERT_STRING_EQUAL(ar, "dkim=none");
	free(ar);
	arc_msg_free(m);
	free(text);

	/* without ARC_MSG_DKIM nothing is looked at */
	m = fixture(lib, "rsa-relaxed-simple", ARC_MSG_VERIFY, &text);
	CU_ASSERT_EQUAL(arc_msg_dkim_count(m), 0);
	CU_ASSERT_PTR_NULL(arc_msg_dkim(m, 0));
	arc_msg_free(m);
	free(text);

	m = fixture(lib, "testing-key", ARC_MSG_DKIM, &text);
	CU_ASSERT_TRUE(arc_msg_dkim(m, 0)->testing);
	ar = arc_msg_dkim_authres(m);
	CU_ASSERT_EQUAL(strncmp(ar, "dkim=pass (key in testing mode) ", 32),
	    0);
	free(ar);
	arc_msg_free(m);
	free(text);
	arc_lib_free(lib);
}

static void
t_limit(void)
{
	arc_lib		*lib = make_lib(0);
	arc_msg		*m;
	char		*text;

	/* the first one past the limit says so (policy), identified */
	arc_lib_limits(lib)->max_dkim_signatures = 1;
	m = fixture(lib, "multiple-one-bad", ARC_MSG_DKIM, &text);
	CU_ASSERT_EQUAL_FATAL(arc_msg_dkim_count(m), 2);
	CU_ASSERT_EQUAL(arc_msg_dkim(m, 0)->result, ARC_DKIM_PASS);
	CU_ASSERT_EQUAL(arc_msg_dkim(m, 1)->result, ARC_DKIM_POLICY);
	CU_ASSERT_PTR_NOT_NULL(strstr(arc_msg_dkim(m, 1)->reason,
	    "signature limit: 1 not checked"));
	CU_ASSERT_STRING_EQUAL(arc_msg_dkim(m, 1)->domain, "example.org");
	CU_ASSERT_PTR_NULL(arc_msg_dkim(m, 2));
	arc_msg_free(m);
	free(text);
	arc_lib_limits(lib)->max_dkim_signatures = 0;
	m = fixture(lib, "multiple-one-bad", ARC_MSG_DKIM, &text);
	CU_ASSERT_EQUAL_FATAL(arc_msg_dkim_count(m), 1);
	CU_ASSERT_EQUAL(arc_msg_dkim(m, 0)->result, ARC_DKIM_POLICY);
	CU_ASSERT_PTR_NOT_NULL(strstr(arc_msg_dkim(m, 0)->reason,
	    "signature limit: 2 not checked"));
	arc_msg_free(m);
	free(text);
	arc_lib_free(lib);
}

/* Signatures an attacker writes: never pass, reasons fit for a header,
 * numbers range-checked. */
static void
t_hostile(void)
{
	static const struct {
		const char	*sig;
		arc_dkim_result	 want;
	} cases[] = {
		{ "v=1; a=rsa-sha256; d=example.org; s=r1024; h=from; bh=AA; "
		    "b=AA; l=99999999999999999999", ARC_DKIM_PERMERROR },
		{ "v=1; a=rsa-sha256; d=example.org; s=r1024; h=from; bh=AA; "
		    "b=AA; x=9999999999999", ARC_DKIM_PERMERROR },
		{ "v=1; a=rsa-sha256; d=example.org; s=r1024; h=from; bh=AA; "
		    "b=AA; t=200; x=100", ARC_DKIM_PERMERROR },
		{ "v=1; a=rsa-sha256; d=example.org; s=r1024; h=from; bh=AA; "
		    "b=AA; x=100", ARC_DKIM_FAIL },
		{ "v=1; a=rsa-sha256; d=ex\xc3\xa4mple.org; s=r1024; h=from; "
		    "bh=AA; b=AA", ARC_DKIM_PERMERROR },
		{ "v=1; a=rsa-sha256; d=example.org; s=r1024; h=from; bh=AA",
		    ARC_DKIM_PERMERROR },
		{ "v=1; a=rsa-sha256; d=example.org; s=r1024; h=from; b=AA",
		    ARC_DKIM_PERMERROR },
		{ "v=1; a=rsa-sha256; s=r1024; h=from; bh=AA; b=AA",
		    ARC_DKIM_PERMERROR },
		{ "a=rsa-sha256; d=example.org; s=r1024; h=from; bh=AA; b=AA",
		    ARC_DKIM_PERMERROR },
		{ "v=1; a=rsa-sha256; d=example.org; s=r1024; h=from; bh=AA; "
		    "b=AA; q=dns/other", ARC_DKIM_PERMERROR },
		{ "v=1; a=rsa-sha256; d=example.org; s=r1024; h=from; bh=AA; "
		    "b=AA; i=nobody", ARC_DKIM_PERMERROR },
		{ "v=1; a=rsa-sha256; d=example.org; s=r1024; h=from; bh=AA; "
		    "b=AA; i=a@badexample.org", ARC_DKIM_PERMERROR },
		{ "v=1; a=rsa-sha256; d=example.org; s=r1024; h=from; bh=AA; "
		    "b=AA; c=fancy", ARC_DKIM_NEUTRAL },
		{ "v=1; a=rsa-sha256;; d=example.org", ARC_DKIM_NEUTRAL },
		{ "v=1; a=rsa-sha256; d=example.org; s=r1024; h=from; bh=AA; "
		    "b=\x01\x1b(;)", ARC_DKIM_NEUTRAL },
		{ "v=1; a=rsa-sha256; d=example.org; s=r1024; h=from; bh=AA; "
		    "b=AA!!", ARC_DKIM_FAIL },
		{ "v=1; a=rsa-sha256; d=example.org; s=r1024; h=from; bh=AA; "
		    "b=AA; l=5000", ARC_DKIM_FAIL },
	};
	static const struct {
		const char	*i;
		int		 ok;
	} auids[] = {
		{ "a.b@mail.example.org", 1 },
		{ "@example.org", 1 },
		{ ".a@example.org", 0 },
		{ "a..b@example.org", 0 },
		{ "a.@example.org", 0 },
		{ "a@x!y.example.org", 0 },
		{ "a@x..example.org", 0 },
	};
	arc_lib		*lib = make_lib(0);
	size_t		 i;

	arc_lib_set_now(lib, 1000);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char		*text, *ar;
		arc_msg		*m;
		const arc_dkim_info *d;

		CU_ASSERT_FATAL(asprintf(&text, "DKIM-Signature: %s\r\n"
		    "From: a@example.org\r\n\r\nbody\r\n", cases[i].sig) > 0);
		m = verify(lib, text, strlen(text), ARC_MSG_DKIM, NULL);
		CU_ASSERT_EQUAL_FATAL(arc_msg_dkim_count(m), 1);
		d = arc_msg_dkim(m, 0);
		if (d->result != cases[i].want)
			fprintf(stderr, "case %zu: %s (%s)\n", i,
			    arc_dkim_result_name(d->result), d->reason);
		CU_ASSERT_EQUAL(d->result, cases[i].want);
		CU_ASSERT_TRUE(header_text_ok(d->reason));
		CU_ASSERT_PTR_NULL(strchr(d->reason, ';'));
		CU_ASSERT_TRUE(d->domain == NULL || header_text_ok(d->domain));
		ar = arc_msg_dkim_authres(m);
		CU_ASSERT_PTR_NOT_NULL_FATAL(ar);
		CU_ASSERT_TRUE(header_text_ok(ar));
		free(ar);
		arc_msg_free(m);
		free(text);
	}
	/* header.i only as [dot-atom] "@" LDH domain: a strict RFC 8601
	 * parser must be able to read every A-R we write */
	for (i = 0; i < sizeof(auids) / sizeof(auids[0]); i++) {
		char		*text, *ar;
		arc_msg		*m;
		const arc_dkim_info *d;

		CU_ASSERT_FATAL(asprintf(&text, "DKIM-Signature: v=1; "
		    "a=rsa-sha256; d=example.org; s=r1024; h=from; bh=AA; "
		    "b=AA; i=%s\r\nFrom: a@example.org\r\n\r\nbody\r\n",
		    auids[i].i) > 0);
		m = verify(lib, text, strlen(text), ARC_MSG_DKIM, NULL);
		CU_ASSERT_EQUAL_FATAL(arc_msg_dkim_count(m), 1);
		d = arc_msg_dkim(m, 0);
		ar = arc_msg_dkim_authres(m);
		CU_ASSERT_PTR_NOT_NULL_FATAL(ar);
		if (auids[i].ok) {
			CU_ASSERT_PTR_NOT_NULL(d->auid);
			CU_ASSERT_PTR_NOT_NULL(strstr(ar, " header.i="));
		} else {
			if (d->auid != NULL)
				fprintf(stderr, "i=%s written as header.i\n",
				    auids[i].i);
			CU_ASSERT_PTR_NULL(d->auid);
			CU_ASSERT_PTR_NULL(strstr(ar, " header.i="));
		}
		free(ar);
		arc_msg_free(m);
		free(text);
	}
	arc_lib_free(lib);
}

int
main(void)
{
	static const cunit_test tests[] = {
		{ "dkimpy and Mail::DKIM fixtures", t_fixtures },
		{ "result text and fields", t_authres_text },
		{ "max_dkim_signatures", t_limit },
		{ "hostile signatures", t_hostile },
		{ NULL, NULL }
	};

	return cunit_run("dkim", init, clean, tests);
}
