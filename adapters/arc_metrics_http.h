/*
 * arc_metrics_http.h - a metrics thread for multi-threaded daemons
 * (arc-milter): writes the metrics file at its interval and serves the
 * Prometheus exposition (arc_stats.h) over HTTP on metrics-listen.
 *
 * Contract:
 *  - arc_metrics_start() configures arc_stats output (ARC_STATS_REPLACE)
 *    from conf, binds metrics-listen if set and starts one thread; it
 *    fails, with err naming the option, if the file cannot be written or
 *    the address cannot be bound.  Called again (reload) it stops the
 *    old thread first; unchanged addresses are bound again.
 *  - metrics-listen is "127.0.0.1:PORT", "[::1]:PORT", "localhost:PORT"
 *    or "unix:/path" (a stale socket there is replaced).  Only loopback
 *    addresses and unix sockets: metrics are not for the Internet.
 *  - The responder is non-blocking and bounded: at most 8 clients at
 *    once (more are closed at once), 4 KB of request and 2 s per client;
 *    "GET /metrics" (or "/") gets the exposition, anything else 404/405.
 *    It reads no request body and keeps no connection alive.
 *  - Errors while running (a failed write) are logged through fn once
 *    each time the state changes, never fatal.
 */
#ifndef ARC_METRICS_HTTP_H
#define ARC_METRICS_HTTP_H

#include <stddef.h>

#include "arc_adapter.h"

int	arc_metrics_start(const arc_conf *, arc_log_fn fn, void *logarg,
	    char *err, size_t errlen);
void	arc_metrics_stop(void);

#endif
