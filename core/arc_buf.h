/*
 * arc_buf.h - growable byte buffer (internal).
 *
 * Contract: a zeroed arc_buf is empty and valid.  The data is always
 * NUL-terminated (so it can be used as a C string when it holds text).
 * Appends fail only on allocation failure or when the buffer would pass
 * its limit (0 = none); a failed buffer stays failed (ok == 0) so callers
 * may check once at the end.  arc_buf_free() releases the storage.
 */
#ifndef ARC_BUF_H
#define ARC_BUF_H

#include <stddef.h>

typedef struct {
	char	*data;
	size_t	 len, cap, limit;
	int	 failed;
} arc_buf;

int	arc_buf_add(arc_buf *, const void *, size_t);
int	arc_buf_adds(arc_buf *, const char *);
int	arc_buf_addc(arc_buf *, char);
/* Room for n more bytes: returns where they go (NULL if the buffer has
 * failed or cannot grow); the caller writes at most n bytes there, adds
 * what it wrote to len and puts the NUL after it.  Until then the
 * buffer still holds its old, terminated text ("" if it was empty). */
char	*arc_buf_reserve(arc_buf *, size_t n);
int	arc_buf_printf(arc_buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
void	arc_buf_reset(arc_buf *);
void	arc_buf_free(arc_buf *);
char	*arc_buf_steal(arc_buf *);	/* caller frees; buffer becomes empty */

#endif
