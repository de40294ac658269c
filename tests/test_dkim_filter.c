/*
 * test_dkim_filter.c - filter-arc keeps a forged Authentication-Results
 * of our authserv-id out of the ARC-Authentication-Results it seals:
 * smtpd writes none, so every such field came from outside (arc.conf
 * aar-from-message defaults to no in filter-arc; yes copies it).  The
 * filter of this build tree, driven as smtpd drives it
 * (filter_driver.h), with a sealing key made at start.
 */
#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cunit_run.h"
#include "filter_driver.h"

static char	 dir[] = "/tmp/arc-test-dkim-filter.XXXXXX";
static char	 key[300];

static int
setup(void)
{
	char	 cmd[600];

	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(key, sizeof(key), "%s/seal.pem", dir);
	snprintf(cmd, sizeof(cmd), "openssl genpkey -algorithm ed25519 "
	    "-out '%s' 2>/dev/null", key);
	if (system(cmd) != 0)
		return -1;
	return chmod(key, 0600);
}

static int
teardown(void)
{
	char	 cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int
count(const char *s, const char *what)
{
	int	 n = 0;

	while ((s = strstr(s, what)) != NULL) {
		n++;
		s += strlen(what);
	}
	return n;
}

/* One message with the forged field through the filter; the number of
 * times the forged result appears in what comes back (1: only the
 * field itself, passed on), -1 on a protocol failure. */
static int
forged_copies(const char *extra)
{
	struct fdrv	 f;
	char		 conf[1024], sid[17] = "00000000000000a1";
	char		 out[65536], want[80];
	const char	*tok = "b0d45a85";
	int		 n = -1, sealed;

	snprintf(conf, sizeof(conf), "dns no\nauthserv-id mx.test\n"
	    "seal-domain seal.example\nseal-selector s1\nseal-key %s\n%s",
	    key, extra);
	CU_ASSERT_FATAL(fd_start(&f, conf, "300", NULL) == 0);
	fd_send(&f, "report|0.6|1.0|smtp-in|link-connect|%s|localhost|pass|"
	    "192.0.2.9:53718|127.0.0.1:2526", sid);
	fd_send(&f, "report|0.6|1.0|smtp-in|tx-begin|%s|%s", sid, tok);
	fd_send(&f, "filter|0.6|1.0|smtp-in|data-line|%s|%s|"
	    "Authentication-Results: mx.test; dkim=pass "
	    "header.d=bank.example", sid, tok);
	fd_send(&f, "filter|0.6|1.0|smtp-in|data-line|%s|%s|From: "
	    "a@origin.example", sid, tok);
	fd_send(&f, "filter|0.6|1.0|smtp-in|data-line|%s|%s|Subject: s",
	    sid, tok);
	fd_send(&f, "filter|0.6|1.0|smtp-in|data-line|%s|%s|", sid, tok);
	fd_send(&f, "filter|0.6|1.0|smtp-in|data-line|%s|%s|body", sid, tok);
	fd_send(&f, "filter|0.6|1.0|smtp-in|data-line|%s|%s|.", sid, tok);
	snprintf(want, sizeof(want), "filter-dataline|%s|%s|.", sid, tok);
	if (fd_until(&f, sid, want, out, sizeof(out), 20000)) {
		sealed = strstr(out, "ARC-Authentication-Results: i=1") !=
		    NULL;
		CU_ASSERT_TRUE(sealed);
		if (!sealed)
			fprintf(stderr, "\n  not sealed:\n%s\n", out);
		n = count(out, "header.d=bank.example");
	}
	fd_send(&f, "filter|0.6|1.0|smtp-in|commit|%s|%s|", sid, tok);
	fd_send(&f, "report|0.6|1.0|smtp-in|link-disconnect|%s", sid);
	(void)fd_until(&f, sid, "filter-result|", out, sizeof(out), 20000);
	CU_ASSERT_TRUE(fd_alive(&f));
	if (n < 0) {
		char *log = fd_log(&f);

		fprintf(stderr, "\n  filter log:\n%s\n", log ? log : "");
		free(log);
	}
	CU_ASSERT_EQUAL(fd_stop(&f), 0);
	fd_cleanup(&f);
	return n;
}

static void
test_forged_ar(void)
{
	/* the default: passed on, not sealed as what we saw */
	CU_ASSERT_EQUAL(forged_copies(""), 1);
	CU_ASSERT_EQUAL(forged_copies("aar-from-message no\n"), 1);
	/* the operator says an earlier filter of ours wrote it */
	CU_ASSERT_EQUAL(forged_copies("aar-from-message yes\n"), 2);
	/* authenticate: never, whatever else is said */
	CU_ASSERT_EQUAL(forged_copies("authenticate dkim\n"), 1);
}

int
main(void)
{
	static const cunit_test tests[] = {
		{ "filter-arc: forged A-R kept out of the AAR",
		    test_forged_ar },
		{ NULL, NULL }
	};

	return cunit_run("dkim-filter", setup, teardown, tests);
}
