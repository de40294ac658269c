/*
 * fa_log.h - filter-arc's log lines and clock.
 *
 * Contract: every line goes to stderr, which smtpd copies into its own
 * log; one record is one line (CR/LF inside become spaces).  Once an
 * adapter is set (fa_log_set), lines go through it, so its log-level
 * applies; before that, info and above (everything with debug).  The
 * adapter is not owned: the caller sets a new one after every reload.
 */
#ifndef FA_LOG_H
#define FA_LOG_H

#include "arc_adapter.h"

/* The arc_log_fn given to the adapter layer. */
void		fa_log_cb(void *arg, int level, const char *line);
void		fa_log_set(arc_adapter *, int debug);
void		fa_log(int level, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
int		fa_log_debug(void);
/* Monotonic milliseconds. */
long long	fa_now_ms(void);

#endif
