/*
 * fa_out.h - filter-arc's output queue: the lines written back to smtpd.
 *
 * Contract:
 *  - stdout is non-blocking; lines are queued and written when stdout
 *    takes them (fa_out_flush from the event loop).  Queuing never
 *    fails: without memory the bytes are written through, blocking,
 *    which is slow but loses nothing.
 *  - Every line written is well formed (smtpd exits on a malformed one):
 *    ids are checked by the smtpd_proto formatters and a line that
 *    cannot be formatted is dropped with a log line.
 *  - After a write error (smtpd gone) fa_out_closed() is 1 and further
 *    output is discarded.
 */
#ifndef FA_OUT_H
#define FA_OUT_H

#include <stddef.h>

size_t	fa_out_pending(void);	/* bytes queued */
int	fa_out_closed(void);
void	fa_out_flush(int blocking);
void	fa_out_str(const char *);
void	fa_out_dataline(const char *sid, const char *tok, const char *text,
	    size_t len);
/* proceed (reply NULL) or reject with reply */
void	fa_out_result(const char *sid, const char *tok, const char *reply);
void	fa_out_free(void);

#endif
