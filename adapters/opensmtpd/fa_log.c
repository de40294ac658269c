/*
 * fa_log.c - filter-arc's log lines and clock.
 *
 * Contract: see fa_log.h.  No other filter-arc module is called.
 */
#include <stdarg.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "fa_log.h"

static arc_adapter	*log_ad;
static int		 log_debug;

void
fa_log_cb(void *arg, int level, const char *line)
{
	char	 buf[2048];
	size_t	 n, i;

	(void)arg;
	n = (size_t)snprintf(buf, sizeof(buf) - 1, "%s%s",
	    level <= ARC_LOG_ERR ? "error: " : level == ARC_LOG_WARNING ?
	    "warning: " : "", line);
	if (n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	for (i = 0; i < n; i++)		/* one record, one line */
		if (buf[i] == '\n' || buf[i] == '\r')
			buf[i] = ' ';
	buf[n++] = '\n';
	(void)!write(STDERR_FILENO, buf, n);
}

void
fa_log_set(arc_adapter *ad, int debug)
{
	log_ad = ad;
	log_debug = debug;
}

int
fa_log_debug(void)
{
	return log_debug;
}

void
fa_log(int level, const char *fmt, ...)
{
	char	buf[1536];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (log_ad != NULL)
		arc_adapter_log(log_ad, level, "%s", buf);
	else if (level <= ARC_LOG_INFO || log_debug)
		fa_log_cb(NULL, level, buf);
}

long long
fa_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}
