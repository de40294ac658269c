/*
 * fa_in.h - filter-arc's input from smtpd: stdin (non-blocking) read
 * into a buffer and cut into lines for the handler.
 *
 * Contract:
 *  - fa_in_read() reads what is there and gives every complete line to
 *    the handler set by fa_in_init(); 1 at EOF or a read error (the only
 *    way the filter ends), else 0.
 *  - A handler that returns 1 cannot take its line yet: that line and
 *    all after it stay, fa_in_held() is 1 (the caller then stops polling
 *    stdin) until fa_in_resume() gives them again; during that call
 *    fa_in_redo() is 1 for the line given again.
 *  - A line longer than 4 MiB is dropped with a log line.  Without
 *    memory for a buffer nothing is read (a read of 0 bytes would look
 *    like EOF): fa_in_retry_ms() says how long until the next try.
 */
#ifndef FA_IN_H
#define FA_IN_H

#include <stddef.h>

void		fa_in_init(int (*handler)(const char *line, size_t len));
int		fa_in_read(void);
int		fa_in_held(void);
int		fa_in_redo(void);
void		fa_in_resume(void);
/* ms until stdin is to be read again; 0: now. */
long long	fa_in_retry_ms(void);
void		fa_in_free(void);

#endif
