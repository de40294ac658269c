/*
 * test_reload.c - CUnit tests of the live configuration (adapters/
 * arc_reload.c): a reload swaps in new keys for new messages while a
 * message in flight finishes with the old ones, a broken file keeps the
 * old configuration running, overrides survive reloads, and a retired
 * adapter is freed once its last session is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cunit_run.h"
#include "test_fixture.h"

#include "arc_reload.h"

static char	 dir[] = "/tmp/arc-test-reload.XXXXXX";
static char	 keyfile[300], keytable[300], confpath[320];

static const char *MSG =
    "From: Alice <alice@origin.example>\r\n"
    "To: bob@list.example\r\n"
    "Subject: reload test\r\n"
    "Message-ID: <reload-1@origin.example>\r\n"
    "\r\n"
    "Hello.\r\n";

static int
setup(void)
{
	if (fixture_keys(dir, keyfile, keytable, NULL) != 0)
		return -1;
	snprintf(confpath, sizeof(confpath), "%s/arc.conf", dir);
	return 0;
}

static int
teardown(void)
{
	return fixture_remove(dir);
}

static void
quiet_log(void *arg, int level, const char *line)
{
	(void)arg;
	(void)level;
	(void)line;
}

/* Writes arc.conf sealing as domain/selector (the fixture's key table
 * knows seal.example/s1 and other.example/s2, both the same key). */
static void
write_conf(const char *domain, const char *selector, const char *extra)
{
	char	 text[1500];

	snprintf(text, sizeof(text), "authserv-id mx.test.example\n"
	    "key-table %s\ndns no\nseal yes\nseal-domain %s\n"
	    "seal-selector %s\nseal-key %s\n%s", keytable, domain, selector,
	    keyfile, extra ? extra : "");
	CU_ASSERT_FATAL(write_file(confpath, text, 0644) == 0);
}

static arc_session *
start(arc_runtime *rt)
{
	arc_session	*ss = arc_session_create(arc_runtime_adapter(rt), NULL);

	CU_ASSERT_FATAL(ss != NULL);
	CU_ASSERT(arc_session_feed(ss, MSG, strlen(MSG)) == 0);
	return ss;
}

/* The d= and s= of the ARC-Seal the session's actions insert. */
static void
check_sealed_by(arc_session *ss, const char *d, const char *s)
{
	const arc_actions	*a;
	char			 want[100];

	CU_ASSERT(arc_session_eom(ss) == ARC_SESSION_DONE);
	a = arc_session_actions(ss);
	CU_ASSERT_FATAL(a != NULL && a->nfields >= 1);
	CU_ASSERT(a->sealed == 1);
	CU_ASSERT(strncmp(a->fields[0], "ARC-Seal:", 9) == 0);
	snprintf(want, sizeof(want), "d=%s;", d);
	CU_ASSERT(strstr(a->fields[0], want) != NULL);
	snprintf(want, sizeof(want), "s=%s;", s);
	CU_ASSERT(strstr(a->fields[0], want) != NULL);
}

static void
test_reload_swaps_keys(void)
{
	arc_runtime	*rt;
	arc_session	*old, *cur;
	arc_adapter	*first;
	char		 err[512];

	write_conf("seal.example", "s1", NULL);
	rt = arc_runtime_create(confpath, quiet_log, NULL, err, sizeof(err));
	CU_ASSERT_FATAL(rt != NULL);
	CU_ASSERT(arc_runtime_generation(rt) == 1);
	first = arc_runtime_adapter(rt);
	old = start(rt);			/* in flight across the reload */

	write_conf("other.example", "s2", NULL);
	CU_ASSERT_FATAL(arc_runtime_reload(rt, err, sizeof(err)) == 0);
	CU_ASSERT(arc_runtime_generation(rt) == 2);
	CU_ASSERT(arc_runtime_adapter(rt) != first);
	/* the first adapter is retired, not freed: a session uses it */
	CU_ASSERT(arc_adapter_sessions(first) == 1);

	cur = start(rt);
	check_sealed_by(cur, "other.example", "s2");
	check_sealed_by(old, "seal.example", "s1");
	arc_session_free(old);
	arc_session_free(cur);
	/* valgrind/ASan see the retired adapter freed here or at the end */
	CU_ASSERT(arc_runtime_adapter(rt) != NULL);
	arc_runtime_free(rt);
}

static void
test_bad_reload_keeps_old(void)
{
	arc_runtime	*rt;
	arc_adapter	*ad;
	arc_session	*ss;
	char		 err[512], want[400];

	write_conf("seal.example", "s1", NULL);
	rt = arc_runtime_create(confpath, quiet_log, NULL, err, sizeof(err));
	CU_ASSERT_FATAL(rt != NULL);
	ad = arc_runtime_adapter(rt);

	/* a syntax error: the message names file and line */
	write_conf("seal.example", "s1", "no-such-option 1\n");
	CU_ASSERT(arc_runtime_reload(rt, err, sizeof(err)) == -1);
	snprintf(want, sizeof(want), "%s:8:", confpath);
	CU_ASSERT(strncmp(err, want, strlen(want)) == 0);
	CU_ASSERT(arc_runtime_adapter(rt) == ad);
	CU_ASSERT(arc_runtime_generation(rt) == 1);

	/* a key that cannot be read: refused as a whole */
	write_conf("seal.example", "s1", "seal-key /nonexistent/key.pem\n");
	CU_ASSERT(arc_runtime_reload(rt, err, sizeof(err)) == -1);
	CU_ASSERT(strstr(err, "/nonexistent/key.pem") != NULL);
	CU_ASSERT(arc_runtime_adapter(rt) == ad);

	ss = start(rt);
	check_sealed_by(ss, "seal.example", "s1");
	arc_session_free(ss);
	arc_runtime_free(rt);
}

static void
test_overrides_survive_reload(void)
{
	arc_runtime	*rt;
	arc_session	*ss;
	char		 err[512];

	write_conf("seal.example", "s1", NULL);
	rt = arc_runtime_create(confpath, quiet_log, NULL, err, sizeof(err));
	CU_ASSERT_FATAL(rt != NULL);
	CU_ASSERT(arc_runtime_set(rt, "seal-domain", "other.example", err,
	    sizeof(err)) == 0);
	CU_ASSERT(arc_runtime_set(rt, "seal-selector", "s2", err,
	    sizeof(err)) == 0);
	/* a bad override is refused and not recorded */
	CU_ASSERT(arc_runtime_set(rt, "on-fail", "maybe", err,
	    sizeof(err)) == -1);
	CU_ASSERT(strstr(arc_conf_get(arc_runtime_conf(rt), "seal-domain"),
	    "other.example") != NULL);

	write_conf("seal.example", "s1", "log-level debug\n");
	CU_ASSERT_FATAL(arc_runtime_reload(rt, err, sizeof(err)) == 0);
	CU_ASSERT(strcmp(arc_conf_get(arc_runtime_conf(rt), "log-level"),
	    "debug") == 0);
	ss = start(rt);
	check_sealed_by(ss, "other.example", "s2");
	arc_session_free(ss);
	arc_runtime_free(rt);
}

static void
test_missing_file(void)
{
	char	 err[512];

	CU_ASSERT(arc_runtime_create("/nonexistent/arc.conf", quiet_log,
	    NULL, err, sizeof(err)) == NULL);
	CU_ASSERT(strstr(err, "/nonexistent/arc.conf") != NULL);
}

int
main(void)
{
	static const cunit_test tests[] = {
		{ "reload swaps keys, in-flight message keeps old",
		    test_reload_swaps_keys },
		{ "bad reload keeps the old configuration",
		    test_bad_reload_keeps_old },
		{ "overrides survive reloads", test_overrides_survive_reload },
		{ "missing file", test_missing_file },
		{ NULL, NULL }
	};

	return cunit_run("reload", setup, teardown, tests);
}
