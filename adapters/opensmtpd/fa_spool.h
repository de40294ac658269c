/*
 * fa_spool.h - filter-arc's message spool: the data-lines of one
 * message as received (dot-stuffed), kept until they are passed back.
 *
 * Contract:
 *  - A spool is a byte stream of complete lines, each ending in "\n":
 *    first in memory (FA_SPOOL_MEM_MAX per message, FA_SPOOL_MEM_TOTAL
 *    for all spools of the process), beyond that in an unlinked
 *    temporary file in $TMPDIR (default /tmp), written through a 16 KB
 *    buffer while the total leaves room for one, else line by line.
 *    The total counts everything spools and cursors hold: memory
 *    parts, write buffers, cursor read buffers (16 KB, more for a
 *    longer line; a cursor drops its buffer on fa_cursor_release()).  Only whole lines count: fa_spool_add() either keeps the
 *    whole line or, on failure, nothing of it (what may have reached the
 *    file is beyond the stream's end and never read back).
 *  - After the first failure (no memory, no temporary file, a short
 *    write such as ENOSPC) the spool keeps what it had and refuses
 *    every later line: fa_spool_error() is the errno.  What was kept
 *    can still be read back whole: nothing kept is lost by a failure.
 *  - Cursors read the stream line by line, independently of each other
 *    and of later additions (one feeds the verifier, one replays).  A
 *    line returned stays valid until the next call on that cursor or
 *    the next fa_spool_add().  A read error is -1 with errno: the lines
 *    from there on cannot be given back.
 *  - Neither logs nor calls other filter-arc modules.
 */
#ifndef FA_SPOOL_H
#define FA_SPOOL_H

#include <sys/types.h>

#include <stddef.h>

#define FA_SPOOL_MEM_MAX	(1024 * 1024)
#define FA_SPOOL_MEM_TOTAL	(64 * 1024 * 1024)

struct fa_spool {
	char	*mem;
	size_t	 memlen, memcap;
	int	 fd;		/* -1: no file yet */
	off_t	 flen;		/* bytes written to the file */
	char	*wbuf;		/* file bytes not written yet */
	size_t	 wlen;
	off_t	 len;		/* the stream: complete lines only */
	int	 error;		/* errno of the failure, 0 */
};

struct fa_cursor {
	off_t	 pos;		/* of the next line in the stream */
	size_t	 last;		/* length + 1 of the line returned */
	off_t	 boff;		/* stream offset of buf[0] */
	char	*buf;
	size_t	 blen, bcap;
};

void	fa_spool_init(struct fa_spool *);
int	fa_spool_add(struct fa_spool *, const char *text, size_t len);
int	fa_spool_error(const struct fa_spool *);
void	fa_spool_free(struct fa_spool *);
/* The directory temporary files go to (for log lines). */
const char *fa_spool_dir(void);
/* Memory held by all spools and cursors of the process. */
size_t	fa_spool_mem_total(void);

void	fa_cursor_init(struct fa_cursor *);
/* 1 and the next line (without "\n"), 0 at the end, -1 on error. */
int	fa_cursor_line(const struct fa_spool *, struct fa_cursor *,
	    const char **line, size_t *len);
/* Steps past the line fa_cursor_line() returned. */
void	fa_cursor_next(struct fa_cursor *);
void	fa_cursor_free(struct fa_cursor *);
/* Frees the read buffer, keeps the place (the line returned is gone). */
void	fa_cursor_release(struct fa_cursor *);

#endif
