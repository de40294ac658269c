/*
 * fa_out.c - filter-arc's output queue.
 *
 * Contract: see fa_out.h.  Calls only fa_log and smtpd_proto.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fa_log.h"
#include "fa_out.h"
#include "smtpd_proto.h"

static struct {
	char	*buf;
	size_t	 off, len, cap;
	int	 closed;
} o;

static struct smtpd_str
S(const char *s)
{
	struct smtpd_str r = { s, strlen(s) };

	return r;
}

size_t
fa_out_pending(void)
{
	return o.len;
}

int
fa_out_closed(void)
{
	return o.closed;
}

static void
wait_writable(void)
{
	struct pollfd	pfd = { STDOUT_FILENO, POLLOUT, 0 };

	(void)poll(&pfd, 1, 1000);
}

/* Writes what stdout takes; blocking: waits until it took all. */
void
fa_out_flush(int blocking)
{
	ssize_t	n;

	while (o.len > 0 && !o.closed) {
		n = write(STDOUT_FILENO, o.buf + o.off, o.len);
		if (n > 0) {
			o.off += (size_t)n;
			o.len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!blocking)
				break;
			wait_writable();
			continue;
		}
		/* smtpd went away: nothing left to deliver to */
		fa_log(ARC_LOG_ERR, "write to smtpd: %s", strerror(errno));
		o.closed = 1;
	}
	if (o.len == 0)
		o.off = 0;
}

/* Room for n more bytes at o.buf + o.off + o.len; 0 or -1. */
static int
reserve(size_t n)
{
	size_t	 cap;
	char	*p;

	if (o.off > 0 && o.off + o.len + n > o.cap) {
		memmove(o.buf, o.buf + o.off, o.len);
		o.off = 0;
	}
	if (o.len + n <= o.cap)
		return 0;
	cap = o.cap ? o.cap : 65536;
	while (cap < o.len + n)
		cap *= 2;
	if ((p = realloc(o.buf, cap)) == NULL)
		return -1;
	o.buf = p;
	o.cap = cap;
	return 0;
}

static void
put(const char *p, size_t n)
{
	ssize_t	w;

	if (n == 0)
		return;
	if (reserve(n) == 0) {
		memcpy(o.buf + o.off + o.len, p, n);
		o.len += n;
		return;
	}
	fa_out_flush(1);
	while (n > 0 && !o.closed) {
		w = write(STDOUT_FILENO, p, n);
		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w == -1 && errno != EINTR && errno != EAGAIN &&
		    errno != EWOULDBLOCK)
			o.closed = 1;
		else if (w == -1 && errno != EINTR)
			wait_writable();
	}
}

void
fa_out_str(const char *s)
{
	if (fa_log_debug())
		fa_log(ARC_LOG_DEBUG, "> %.*s", (int)strcspn(s, "\n"), s);
	put(s, strlen(s));
}

void
fa_out_dataline(const char *sid, const char *tok, const char *text,
    size_t len)
{
	size_t	need = 32 + 2 * SMTPD_ID_MAX + len;
	int	n;

	if (o.closed)
		return;
	if (reserve(need) == -1) {
		/* no memory: the same line in pieces, written through */
		put("filter-dataline|", 16);
		put(sid, strlen(sid));
		put("|", 1);
		put(tok, strlen(tok));
		put("|", 1);
		put(text, len);
		put("\n", 1);
		return;
	}
	n = smtpd_fmt_dataline(o.buf + o.off + o.len, need, S(sid), S(tok),
	    text, len);
	if (n < 0 || (size_t)n >= need) {
		/* cannot happen (ids are checked, text holds no newline),
		 * but a malformed line would make smtpd exit */
		fa_log(ARC_LOG_ERR, "session=%s: unwritable data-line "
		    "dropped", sid);
		return;
	}
	o.len += (size_t)n;
}

void
fa_out_result(const char *sid, const char *tok, const char *reply)
{
	char	buf[1024];
	int	n;

	if (reply == NULL)
		n = smtpd_fmt_proceed(buf, sizeof(buf), S(sid), S(tok));
	else
		n = smtpd_fmt_reject(buf, sizeof(buf), S(sid), S(tok), reply);
	if (n < 0 || (size_t)n >= sizeof(buf)) {
		/* a reply too long for us: a shorter refusal still refuses */
		n = smtpd_fmt_reject(buf, sizeof(buf), S(sid), S(tok),
		    reply != NULL && reply[0] == '4' ? NULL :
		    "550 5.7.29 ARC validation failure");
	}
	if (n > 0 && (size_t)n < sizeof(buf))
		fa_out_str(buf);
}

void
fa_out_free(void)
{
	free(o.buf);
	memset(&o, 0, sizeof(o));
}
