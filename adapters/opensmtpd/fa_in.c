/*
 * fa_in.c - filter-arc's input from smtpd.
 *
 * Contract: see fa_in.h.  Calls only fa_log.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fa_in.h"
#include "fa_log.h"

#define IN_LINE_MAX	(4 * 1024 * 1024)	/* longer lines are dropped */
#define TICK_MS		100

static struct {
	int		(*fn)(const char *, size_t);
	char		*in;
	size_t		 inlen, incap;
	int		 in_skip;
	int		 held;		/* a line waits (fn returned 1) */
	int		 redo;		/* it is being given again */
	long long	 in_retry;	/* no input buffer: read again then */
} in;

static void	process(void);

void
fa_in_init(int (*fn)(const char *, size_t))
{
	in.fn = fn;
}

int
fa_in_held(void)
{
	return in.held;
}

int
fa_in_redo(void)
{
	return in.redo;
}

void
fa_in_resume(void)
{
	if (!in.held)
		return;
	in.held = 0;
	in.redo = 1;
	process();
	in.redo = 0;
}

long long
fa_in_retry_ms(void)
{
	long long	now;

	if (in.in_retry == 0)
		return 0;
	if ((now = fa_now_ms()) >= in.in_retry) {
		in.in_retry = 0;
		return 0;
	}
	return in.in_retry - now;
}

void
fa_in_free(void)
{
	free(in.in);
	memset(&in, 0, sizeof(in));
}

/* The complete lines read, until one has to wait (in.held): a message
 * passed on is writing out its kept lines first. */
static void
process(void)
{
	char	*nl, *p;
	size_t	 off = 0;

	while (!in.held &&
	    (nl = memchr(in.in + off, '\n', in.inlen - off)) != NULL) {
		if (!in.in_skip && in.fn(in.in + off,
		    (size_t)(nl - (in.in + off)))) {
			in.held = 1;
			break;
		}
		in.redo = 0;
		in.in_skip = 0;
		off = (size_t)(nl - in.in) + 1;
	}
	memmove(in.in, in.in + off, in.inlen - off);
	in.inlen -= off;
	if (in.held)
		return;
	if (in.inlen > IN_LINE_MAX) {
		fa_log(ARC_LOG_ERR, "input line longer than %d bytes dropped",
		    IN_LINE_MAX);
		in.inlen = 0;
		in.in_skip = 1;
	}
	/* keep the buffer from staying huge after one long line */
	if (in.inlen < 65536 && in.incap > 4 * 131072 &&
	    (p = realloc(in.in, 131072)) != NULL) {
		in.in = p;
		in.incap = 131072;
	}
}

int
fa_in_read(void)
{
	char	*p;
	size_t	 cap;
	ssize_t	 n;

	if (in.incap - in.inlen < 65536) {
		cap = in.incap ? in.incap * 2 : 131072;
		if ((p = realloc(in.in, cap)) == NULL) {
			if (in.incap > 0 && in.incap - in.inlen == 0) {
				/* cannot grow and full: this line is lost */
				fa_log(ARC_LOG_ERR, "input line dropped: out "
				    "of memory");
				in.inlen = 0;
				in.in_skip = 1;
			}
		} else {
			in.in = p;
			in.incap = cap;
		}
	}
	if (in.incap - in.inlen == 0) {
		/* no buffer at all: a read of 0 bytes would look like EOF,
		 * and an exit takes smtpd down; try again in a tick */
		fa_log(ARC_LOG_ERR, "no memory for input, reading again in "
		    "%d ms", TICK_MS);
		in.in_retry = fa_now_ms() + TICK_MS;
		return 0;
	}
	n = read(STDIN_FILENO, in.in + in.inlen, in.incap - in.inlen);
	if (n == 0)
		return 1;
	if (n == -1) {
		if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
			fa_log(ARC_LOG_ERR, "read from smtpd: %s",
			    strerror(errno));
			return 1;
		}
		return 0;
	}
	in.inlen += (size_t)n;
	process();
	return 0;
}

