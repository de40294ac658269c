/*
 * milter.h - what arc-milter's files share: the libmilter callbacks and
 * live configuration (arc_milter.c), start-up, signals and checks
 * (milter_main.c).
 *
 * Contract:
 *  - milter_start() hands the live configuration to the callbacks before
 *    smfi_main(); milter_reload() swaps in a new one under the adapter
 *    lock, from the signal thread, and never stops the old one on error.
 *  - mlog() may be called from any thread; where it writes is chosen
 *    once, before any thread starts, by milter_log_to().
 */
#ifndef MILTER_H
#define MILTER_H

#include <libmilter/mfapi.h>

#include "arc_reload.h"

enum milter_log { MLOG_SYSLOG, MLOG_STDERR, MLOG_JOURNAL };

void	 milter_log_to(enum milter_log);
void	 mlog(int level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* the adapter layer's log callback */
void	 milter_adapter_log(void *arg, int level, const char *line);

extern struct smfiDesc	 milter_desc;

/* Takes the runtime; -1 (with err) if its options are unusable. */
int		 milter_start(arc_runtime *, char *err, size_t errlen);
/* 0: the new configuration runs; -1: the old one still does, err says
 * why. */
int		 milter_reload(char *err, size_t errlen);
unsigned long	 milter_active(void);	/* open connections */
unsigned	 milter_generation(void);
/* After smfi_main() returned and every connection is gone. */
void		 milter_stop(void);

#endif
