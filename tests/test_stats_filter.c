/*
 * test_stats_filter.c - filter-arc's metrics file: the filter of this
 * build tree, driven over a socketpair as smtpd drives it
 * (filter_driver.h), writes the counts of the messages it saw from its
 * event loop while it runs (metrics-interval 0) and again at exit, and
 * counts a message it passes on unchecked (over its bounds).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cunit_run.h"
#include "filter_driver.h"

#include "arc_stats.h"

static char	 dir[] = "/tmp/arc-test-stats-filter.XXXXXX";
static char	 prom[300];

static int
setup(void)
{
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(prom, sizeof(prom), "%s/arc.prom", dir);
	return 0;
}

static int
teardown(void)
{
	char	 cmd[400];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* One count in the file, -1 if it is missing or does not parse. */
static long long
file_count(int which)
{
	static char	 buf[1 << 17];
	arc_stats_snap	*s = malloc(sizeof(*s));
	FILE		*fp = fopen(prom, "r");
	char		 err[200];
	size_t		 n;
	long long	 r = -1;

	if (fp != NULL && s != NULL) {
		n = fread(buf, 1, sizeof(buf), fp);
		if (arc_stats_parse(buf, n, s, err, sizeof(err)) == 0)
			r = (long long)s->count[which];
		else
			fprintf(stderr, "\n  %s: %s\n", prom, err);
	}
	if (fp != NULL)
		fclose(fp);
	free(s);
	return r;
}

static int
one_message(struct fdrv *f, int i)
{
	char	 sid[17], out[16384], want[80];
	const char *tok = "a0d45a85";

	snprintf(sid, sizeof(sid), "%016x", 0x1000 + i);
	fd_send(f, "report|0.6|1.0|smtp-in|link-connect|%s|localhost|pass|"
	    "192.0.2.9:53718|127.0.0.1:2526", sid);
	fd_send(f, "report|0.6|1.0|smtp-in|tx-begin|%s|%s", sid, tok);
	fd_send(f, "filter|0.6|1.0|smtp-in|data-line|%s|%s|From: "
	    "a@origin.example", sid, tok);
	fd_send(f, "filter|0.6|1.0|smtp-in|data-line|%s|%s|Subject: %d", sid,
	    tok, i);
	fd_send(f, "filter|0.6|1.0|smtp-in|data-line|%s|%s|", sid, tok);
	fd_send(f, "filter|0.6|1.0|smtp-in|data-line|%s|%s|body", sid, tok);
	fd_send(f, "filter|0.6|1.0|smtp-in|data-line|%s|%s|.", sid, tok);
	snprintf(want, sizeof(want), "filter-dataline|%s|%s|.", sid, tok);
	if (!fd_until(f, sid, want, out, sizeof(out), 20000))
		return 0;
	fd_send(f, "filter|0.6|1.0|smtp-in|commit|%s|%s|", sid, tok);
	fd_send(f, "report|0.6|1.0|smtp-in|link-disconnect|%s", sid);
	return fd_until(f, sid, "filter-result|", out, sizeof(out), 20000);
}

static void
test_filter_metrics(void)
{
	struct fdrv	 f;
	char		 conf[512];
	long long	 n = -1;
	int		 i;

	snprintf(conf, sizeof(conf), "dns no\nauthserv-id mx.test\n"
	    "metrics-file %s\nmetrics-interval 0\n", prom);
	CU_ASSERT_FATAL(fd_start(&f, conf, "300", NULL) == 0);
	/* written at start */
	for (i = 0; i < 100 && (n = file_count(ARC_ST_CV_NONE)) < 0; i++)
		usleep(20000);
	CU_ASSERT_EQUAL(n, 0);
	for (i = 0; i < 3; i++)
		CU_ASSERT(one_message(&f, i));
	/* from the event loop, while it runs */
	for (i = 0; i < 250 && (n = file_count(ARC_ST_CV_NONE)) != 3; i++)
		usleep(20000);
	CU_ASSERT_EQUAL(n, 3);
	CU_ASSERT(fd_alive(&f));
	CU_ASSERT_EQUAL(fd_stop(&f), 0);
	if (n != 3) {
		char *log = fd_log(&f);

		fprintf(stderr, "\n  filter log:\n%s\n", log ? log : "");
		free(log);
	}
	CU_ASSERT_EQUAL(file_count(ARC_ST_CV_NONE), 3);
	fd_cleanup(&f);
}

/* A session over its recipient limit: its message passes through
 * untouched, and arc_passthrough_total says so. */
static void
test_filter_passthrough(void)
{
	struct fdrv	 f;
	char		 conf[512], out[16384];
	const char	*sid = "0000000000002000", *tok = "b1d45a85";
	long long	 n = -1;
	int		 i;

	snprintf(conf, sizeof(conf), "dns no\nauthserv-id mx.test\n"
	    "metrics-file %s\nmetrics-interval 0\n", prom);
	CU_ASSERT_FATAL(fd_start(&f, conf, "300", NULL) == 0);
	fd_send(&f, "report|0.6|1.0|smtp-in|link-connect|%s|localhost|pass|"
	    "192.0.2.9:53718|127.0.0.1:2526", sid);
	fd_send(&f, "report|0.6|1.0|smtp-in|tx-begin|%s|%s", sid, tok);
	for (i = 0; i < 1001; i++)
		fd_send(&f, "report|0.6|1.0|smtp-in|tx-rcpt|%s|%s|ok|"
		    "r%d@dest.example", sid, tok, i);
	fd_send(&f, "filter|0.6|1.0|smtp-in|data-line|%s|%s|From: "
	    "a@origin.example", sid, tok);
	fd_send(&f, "filter|0.6|1.0|smtp-in|data-line|%s|%s|", sid, tok);
	fd_send(&f, "filter|0.6|1.0|smtp-in|data-line|%s|%s|.", sid, tok);
	CU_ASSERT(fd_until(&f, sid, "filter-dataline|0000000000002000|"
	    "b1d45a85|.", out, sizeof(out), 20000));
	for (i = 0; i < 250 && (n = file_count(ARC_ST_PASSTHROUGH)) != 1;
	    i++)
		usleep(20000);
	CU_ASSERT_EQUAL(n, 1);
	CU_ASSERT_EQUAL(file_count(ARC_ST_CV_NONE), 0);
	CU_ASSERT_EQUAL(fd_stop(&f), 0);
	fd_cleanup(&f);
}

int
main(void)
{
	static const cunit_test tests[] = {
		{ "filter-arc writes its counts", test_filter_metrics },
		{ "filter-arc counts what it passes through",
		    test_filter_passthrough },
		{ NULL, NULL }
	};

	return cunit_run("stats-filter", setup, teardown, tests);
}
