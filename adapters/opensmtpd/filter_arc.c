/*
 * filter_arc.c - filter-arc(8): ARC (RFC 8617) for OpenSMTPD, as a
 * proc-exec filter speaking the filter protocol (0.6, 0.7) on stdin and
 * stdout.
 *
 *   filter "arc" proc-exec "/usr/libexec/opensmtpd/filter-arc -c FILE"
 *
 * Contract:
 *  - One process serves every SMTP session: a poll(2) loop over stdin,
 *    stdout and the resolver's descriptor.  Nothing blocks: output goes
 *    through a queue written when stdout is writable; key lookups run in
 *    the adapter layer's asynchronous DNS, so a slow domain delays only
 *    the messages that need it.
 *  - Per message: the data-lines (smtpd's own Received first) are fed
 *    un-dot-stuffed to the adapter layer and kept as received, in memory
 *    up to SPOOL_MEM_MAX (SPOOL_MEM_TOTAL for all messages together),
 *    beyond that in an unlinked temporary file.  At the final "." the
 *    verdict is awaited; then the fields of the actions are written
 *    first (they land above Received), the kept lines replayed, and "."
 *    sent.  Replay pauses while the output queue is full, so memory
 *    stays bounded whatever the message size.
 *  - smtpd cuts filter-dataline lines at 1997 characters (for 16-digit
 *    ids).  A message with a longer line is not sealed (the body
 *    delivered would not be the one signed); a field of ours with a
 *    longer line is left out (the whole ARC set, if it is an ARC field).
 *  - With "on-fail reject" (or "on-error tempfail") in arc.conf, the
 *    refusal is given at the commit phase, after all lines were echoed.
 *  - Never loses mail, never takes smtpd down: an internal error (the
 *    adapter's, memory, temporary file) passes the message on unchanged
 *    with a log line; a malformed input line is logged (a data-line we
 *    can still attribute is passed on); every line we write is well
 *    formed.  The process exits only when stdin reaches EOF, or at
 *    start-up when the configuration is unusable (smtpd then refuses to
 *    start, which is where an operator wants to hear about it).
 *  - Logs to stderr (smtpd's log): one line per message, session and
 *    the adapter's summary (cv, sealers, oldest-pass, seal or why not).
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "arc_adapter.h"
#include "smtpd_proto.h"

#define DEFAULT_CONF	"/etc/mail/arc.conf"
#define SPOOL_MEM_MAX	(1024 * 1024)		/* per message */
#define SPOOL_MEM_TOTAL	(64 * 1024 * 1024)	/* all messages */
#define FILE_BUF	65536
#define OUT_HIGH	(256 * 1024)	/* replay pauses above this */
#define OUT_MAX		(8 * 1024 * 1024)	/* stop reading above this */
#define IN_LINE_MAX	(4 * 1024 * 1024)	/* longer lines are dropped */
#define NBUCKETS	1024
#define TICK_MS		100
#define SWEEP_MS	60000	/* how often idle sessions are looked for */

enum mstate {
	M_DATA,		/* receiving data-lines */
	M_WAIT,		/* "." seen, key lookups under way */
	M_REPLAY,	/* writing fields and kept lines */
	M_COMMIT,	/* "." sent, waiting for the commit phase */
	M_PASS		/* echoing lines as they come, nothing added */
};

struct ssn;

struct msg {
	struct ssn	*ssn;
	char		 tok[SMTPD_ID_MAX + 1];
	char		 id[64];	/* for log lines */
	enum mstate	 state;
	arc_session	*as;
	int		 feed_failed, longline, ready, waiting;
	long long	 wait_since;
	/* spool: mem first, then the file */
	char		*mem;
	size_t		 memlen, memcap;
	int		 fd;
	off_t		 flen;
	char		*wbuf;
	size_t		 wlen;
	/* replay cursor */
	size_t		 moff;
	off_t		 foff;
	char		*rbuf;
	size_t		 rlen, rcap;
	/* the refusal to give at commit, if any */
	char		*reply;
	struct msg	*next;		/* waiting or replay list */
};

struct ssn {
	char		 id[SMTPD_ID_MAX + 1];
	char		 ip[64];
	char		*helo;
	char		 msgid[32];
	char		**rcpt;
	size_t		 nrcpt;
	struct msg	*msg;
	long long	 seen;		/* last line about it, ms */
	struct ssn	*next;
};

static struct {
	const char	*confpath;
	arc_conf	*conf;
	arc_adapter	*ad;
	int		 debug, ready;
	long		 msg_timeout;
	long long	 idle_ms, last_sweep;
	char		*admd;
	struct ssn	*bucket[NBUCKETS];
	size_t		 nssn;
	/* input */
	char		*in;
	size_t		 inlen, incap;
	int		 in_skip, eof;
	/* output */
	char		*out;
	size_t		 outoff, outlen, outcap;
	size_t		 memtotal;
	struct msg	*waiting;
	struct msg	*replay, *replay_tail;
} g;

static void	 out_flush(int);

/* ---- logging ------------------------------------------------------------ */

static void
log_cb(void *arg, int level, const char *line)
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

static void __attribute__((format(printf, 2, 3)))
logmsg(int level, const char *fmt, ...)
{
	char	buf[1536];
	va_list	ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (g.ad != NULL)
		arc_adapter_log(g.ad, level, "%s", buf);
	else if (level <= ARC_LOG_INFO || g.debug)
		log_cb(NULL, level, buf);
}

static long long
now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct smtpd_str
S(const char *s)
{
	struct smtpd_str r = { s, strlen(s) };

	return r;
}

/* ---- output queue ---------------------------------------------------------- */

/* Writes what stdout takes; blocking, waits for it to take all. */
static void
out_flush(int blocking)
{
	struct pollfd	pfd = { STDOUT_FILENO, POLLOUT, 0 };
	ssize_t		n;

	while (g.outlen > 0 && !g.eof) {
		n = write(STDOUT_FILENO, g.out + g.outoff, g.outlen);
		if (n > 0) {
			g.outoff += (size_t)n;
			g.outlen -= (size_t)n;
			continue;
		}
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			if (!blocking)
				break;
			(void)poll(&pfd, 1, 1000);
			continue;
		}
		/* smtpd went away: nothing left to deliver to */
		logmsg(ARC_LOG_ERR, "write to smtpd: %s", strerror(errno));
		g.eof = 1;
	}
	if (g.outlen == 0)
		g.outoff = 0;
}

/* Room for n more bytes at g.out + g.outoff + g.outlen; 0 or -1. */
static int
out_reserve(size_t n)
{
	size_t	 cap;
	char	*p;

	if (g.outoff > 0 && g.outoff + g.outlen + n > g.outcap) {
		memmove(g.out, g.out + g.outoff, g.outlen);
		g.outoff = 0;
	}
	if (g.outlen + n <= g.outcap)
		return 0;
	cap = g.outcap ? g.outcap : 65536;
	while (cap < g.outlen + n)
		cap *= 2;
	if ((p = realloc(g.out, cap)) == NULL)
		return -1;
	g.out = p;
	g.outcap = cap;
	return 0;
}

/* Queues bytes; never fails: without memory it writes them out
 * blocking, which is slow but loses nothing. */
static void
out_put(const char *p, size_t n)
{
	if (n == 0)
		return;
	if (out_reserve(n) == 0) {
		memcpy(g.out + g.outoff + g.outlen, p, n);
		g.outlen += n;
		return;
	}
	out_flush(1);
	while (n > 0 && !g.eof) {
		ssize_t w = write(STDOUT_FILENO, p, n);

		if (w > 0) {
			p += w;
			n -= (size_t)w;
		} else if (w == -1 && errno != EINTR && errno != EAGAIN &&
		    errno != EWOULDBLOCK)
			g.eof = 1;
		else if (w == -1 && errno != EINTR) {
			struct pollfd pfd = { STDOUT_FILENO, POLLOUT, 0 };

			(void)poll(&pfd, 1, 1000);
		}
	}
}

static void
out_str(const char *s)
{
	if (g.debug)
		logmsg(ARC_LOG_DEBUG, "> %.*s", (int)strcspn(s, "\n"), s);
	out_put(s, strlen(s));
}

static void
out_dataline(const char *sid, const char *tok, const char *text, size_t len)
{
	size_t	need = 32 + 2 * SMTPD_ID_MAX + len;
	int	n;

	if (out_reserve(need) == -1) {
		/* no memory: the same line in pieces, written through */
		out_put("filter-dataline|", 16);
		out_put(sid, strlen(sid));
		out_put("|", 1);
		out_put(tok, strlen(tok));
		out_put("|", 1);
		out_put(text, len);
		out_put("\n", 1);
		return;
	}
	n = smtpd_fmt_dataline(g.out + g.outoff + g.outlen, need, S(sid),
	    S(tok), text, len);
	if (n < 0 || (size_t)n >= need) {
		/* cannot happen (ids are checked, text holds no newline),
		 * but a malformed line would make smtpd exit */
		logmsg(ARC_LOG_ERR, "session=%s: unwritable data-line dropped",
		    sid);
		return;
	}
	g.outlen += (size_t)n;
}

static void
out_result(const char *sid, const char *tok, const char *reply)
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
		out_str(buf);
}

/* ---- sessions ----------------------------------------------------------- */

static unsigned
hash(const char *s)
{
	unsigned	h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % NBUCKETS;
}

static struct ssn *
ssn_find(struct smtpd_str id)
{
	char		 key[SMTPD_ID_MAX + 1];
	struct ssn	*s;

	memcpy(key, id.p, id.len);	/* the parser bounds id.len */
	key[id.len] = '\0';
	for (s = g.bucket[hash(key)]; s != NULL; s = s->next)
		if (strcmp(s->id, key) == 0)
			return s;
	return NULL;
}

static struct ssn *
ssn_get(struct smtpd_str id)
{
	struct ssn	*s;
	unsigned	 h;

	if ((s = ssn_find(id)) != NULL) {
		s->seen = now_ms();
		return s;
	}
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		logmsg(ARC_LOG_ERR, "session %.*s: out of memory",
		    (int)id.len, id.p);
		return NULL;
	}
	memcpy(s->id, id.p, id.len);
	s->id[id.len] = '\0';
	s->seen = now_ms();
	h = hash(s->id);
	s->next = g.bucket[h];
	g.bucket[h] = s;
	g.nssn++;
	return s;
}

static void
ssn_clear_rcpts(struct ssn *s)
{
	size_t	i;

	for (i = 0; i < s->nrcpt; i++)
		free(s->rcpt[i]);
	free(s->rcpt);
	s->rcpt = NULL;
	s->nrcpt = 0;
}

static void
ssn_add_rcpt(struct ssn *s, struct smtpd_str addr)
{
	char	**r, *a;

	if (s->nrcpt >= 10000)	/* smtpd allows far fewer */
		return;
	if ((a = strndup(addr.p, addr.len)) == NULL ||
	    (r = realloc(s->rcpt, (s->nrcpt + 1) * sizeof(*r))) == NULL) {
		free(a);
		logmsg(ARC_LOG_WARNING, "session %s: recipient not kept: "
		    "out of memory", s->id);
		return;
	}
	r[s->nrcpt++] = a;
	s->rcpt = r;
	if (s->msg != NULL && s->msg->as != NULL && s->msg->state == M_DATA)
		arc_session_rcpt(s->msg->as, a);
}

static void	msg_free(struct msg *);

static void
ssn_free(struct ssn *s)
{
	struct ssn	**pp;

	for (pp = &g.bucket[hash(s->id)]; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			g.nssn--;
			break;
		}
	if (s->msg != NULL)
		msg_free(s->msg);
	ssn_clear_rcpts(s);
	free(s->helo);
	free(s);
}

/* ---- the spool ------------------------------------------------------------- */

static int
spool_open(struct msg *m)
{
	const char	*dir = getenv("TMPDIR");
	char		 path[PATH_MAX];

	if (dir == NULL || *dir == '\0')
		dir = "/tmp";
	if ((size_t)snprintf(path, sizeof(path), "%s/filter-arc.XXXXXX",
	    dir) >= sizeof(path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	if (m->wbuf == NULL && (m->wbuf = malloc(FILE_BUF)) == NULL)
		return -1;
	if ((m->fd = mkstemp(path)) == -1)
		return -1;
	/* private: nobody else can open it, and it vanishes with us */
	(void)unlink(path);
	return 0;
}

static int
spool_write(struct msg *m)
{
	size_t	off = 0;
	ssize_t	n;

	while (off < m->wlen) {
		n = write(m->fd, m->wbuf + off, m->wlen - off);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0) {
			if (n == 0)
				errno = ENOSPC;
			/* keep what was not written for the pass-through */
			memmove(m->wbuf, m->wbuf + off, m->wlen - off);
			m->wlen -= off;
			m->flen += (off_t)off;
			return -1;
		}
		off += (size_t)n;
	}
	m->flen += (off_t)m->wlen;
	m->wlen = 0;
	return 0;
}

static int
spool_file_add(struct msg *m, const char *p, size_t n)
{
	size_t	take;

	if (m->fd == -1 && spool_open(m) == -1)
		return -1;
	while (n > 0) {
		take = FILE_BUF - m->wlen < n ? FILE_BUF - m->wlen : n;
		memcpy(m->wbuf + m->wlen, p, take);
		m->wlen += take;
		p += take;
		n -= take;
		if (m->wlen == FILE_BUF && spool_write(m) == -1)
			return -1;
	}
	return 0;
}

static int
spool_mem_add(struct msg *m, const char *p, size_t n)
{
	size_t	 cap;
	char	*q;

	if (n == 0)
		return 0;
	if (m->memlen + n > m->memcap) {
		cap = m->memcap ? m->memcap : 4096;
		while (cap < m->memlen + n)
			cap *= 2;
		if ((q = realloc(m->mem, cap)) == NULL)
			return -1;
		g.memtotal += cap - m->memcap;
		m->mem = q;
		m->memcap = cap;
	}
	memcpy(m->mem + m->memlen, p, n);
	m->memlen += n;
	return 0;
}

/* Keeps one line as received, with its "\n". */
static int
spool_add(struct msg *m, struct smtpd_str text)
{
	size_t	n = text.len + 1;

	if (m->fd == -1 && m->memlen + n <= SPOOL_MEM_MAX &&
	    g.memtotal + n <= SPOOL_MEM_TOTAL &&
	    spool_mem_add(m, text.p, text.len) == 0) {
		if (spool_mem_add(m, "\n", 1) == 0)
			return 0;
		m->memlen -= text.len;	/* undo half a line */
	}
	if (spool_file_add(m, text.p, text.len) == -1 ||
	    spool_file_add(m, "\n", 1) == -1)
		return -1;
	return 0;
}

static void
spool_free(struct msg *m)
{
	g.memtotal -= m->memcap;
	free(m->mem);
	m->mem = NULL;
	m->memlen = m->memcap = m->moff = 0;
	if (m->fd != -1)
		close(m->fd);
	m->fd = -1;
	m->flen = m->foff = 0;
	free(m->wbuf);
	m->wbuf = NULL;
	m->wlen = 0;
	free(m->rbuf);
	m->rbuf = NULL;
	m->rlen = m->rcap = 0;
}

/* The next kept line from the file, without its "\n"; 1, 0 at the end,
 * -1 on a read error. */
static int
spool_file_line(struct msg *m, const char **line, size_t *len)
{
	char	*nl, *q;
	size_t	 used;
	ssize_t	 n;

	for (;;) {
		if (m->rcap > 0 && m->rlen > 0 && (nl = memchr(m->rbuf, '\n',
		    m->rlen)) != NULL) {
			*line = m->rbuf;
			*len = (size_t)(nl - m->rbuf);
			return 1;
		}
		if (m->foff >= m->flen)
			return 0;
		if (m->rlen == m->rcap) {
			used = m->rcap ? m->rcap * 2 : FILE_BUF;
			if ((q = realloc(m->rbuf, used)) == NULL)
				return -1;
			m->rbuf = q;
			m->rcap = used;
		}
		n = pread(m->fd, m->rbuf + m->rlen, m->rcap - m->rlen,
		    m->foff);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		m->rlen += (size_t)n;
		m->foff += n;
	}
}

static int
rbuf_append(struct msg *m, const char *p, size_t n)
{
	char	*q;

	if (m->rlen + n > m->rcap) {
		if ((q = realloc(m->rbuf, m->rlen + n)) == NULL)
			return -1;
		m->rbuf = q;
		m->rcap = m->rlen + n;
	}
	if (n > 0)
		memcpy(m->rbuf + m->rlen, p, n);
	m->rlen += n;
	return 0;
}

/* Drops the line spool_file_line() returned. */
static void
spool_file_next(struct msg *m, size_t len)
{
	memmove(m->rbuf, m->rbuf + len + 1, m->rlen - len - 1);
	m->rlen -= len + 1;
}

/* ---- messages --------------------------------------------------------------- */

static void
list_remove(struct msg **head, struct msg *m)
{
	struct msg	**pp;

	for (pp = head; *pp != NULL; pp = &(*pp)->next)
		if (*pp == m) {
			*pp = m->next;
			m->next = NULL;
			return;
		}
}

static void
msg_free(struct msg *m)
{
	if (m->waiting) {
		list_remove(&g.waiting, m);
		m->waiting = 0;
	}
	if (m->state == M_REPLAY) {
		struct msg *p;

		list_remove(&g.replay, m);
		for (g.replay_tail = p = g.replay; p != NULL; p = p->next)
			g.replay_tail = p;
	}
	if (m->ssn != NULL && m->ssn->msg == m)
		m->ssn->msg = NULL;
	arc_session_free(m->as);
	spool_free(m);
	free(m->reply);
	free(m);
}

static void
ready_cb(arc_session *as, void *arg)
{
	struct msg	*m = arg;

	(void)as;
	m->ready = 1;
}

static struct msg *
msg_new(struct ssn *s, struct smtpd_str tok)
{
	struct msg		*m;
	arc_session_params	 p;
	size_t			 i;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->ssn = s;
	m->fd = -1;
	memcpy(m->tok, tok.p, tok.len);
	m->tok[tok.len] = '\0';
	snprintf(m->id, sizeof(m->id), "%s", s->msgid[0] ? s->msgid : s->id);
	memset(&p, 0, sizeof(p));
	p.id = m->id;
	p.client_ip = s->ip[0] ? s->ip : NULL;
	p.helo = s->helo;
	p.seal = -1;
	p.quiet = 1;	/* our own summary line replaces the adapter's */
	m->state = M_DATA;
	if (g.ad == NULL || (m->as = arc_session_create(g.ad, &p)) == NULL) {
		logmsg(ARC_LOG_WARNING, "session=%s id=%s passed on unchanged: "
		    "%s", s->id, m->id, g.ad ? "out of memory" :
		    "not configured");
		m->state = M_PASS;
	} else {
		arc_session_set_ready_cb(m->as, ready_cb, m);
		for (i = 0; i < s->nrcpt; i++)
			arc_session_rcpt(m->as, s->rcpt[i]);
	}
	s->msg = m;
	return m;
}

/* Internal error mid-message: everything kept so far goes out now,
 * the rest is echoed as it comes, nothing is added. */
static void
msg_passthru(struct msg *m, const char *why)
{
	const char	*line;
	size_t		 len, off;
	char		*nl;
	int		 r;

	logmsg(ARC_LOG_WARNING, "session=%s id=%s passed on unchanged: %s",
	    m->ssn->id, m->id, why);
	for (off = 0; off < m->memlen; off += len + 1) {
		nl = memchr(m->mem + off, '\n', m->memlen - off);
		len = (size_t)(nl - (m->mem + off));
		out_dataline(m->ssn->id, m->tok, m->mem + off, len);
	}
	if (m->fd != -1) {
		while ((r = spool_file_line(m, &line, &len)) == 1) {
			out_dataline(m->ssn->id, m->tok, line, len);
			spool_file_next(m, len);
		}
		/* the part the file never got may finish its last line */
		if (r == 0 && rbuf_append(m, m->wbuf, m->wlen) == 0) {
			m->wlen = 0;
			while (spool_file_line(m, &line, &len) == 1) {
				out_dataline(m->ssn->id, m->tok, line, len);
				spool_file_next(m, len);
			}
		}
		if (r == -1 || m->rlen > 0 || m->wlen > 0)
			logmsg(ARC_LOG_ERR, "session=%s id=%s: temporary file "
			    "unreadable, message damaged", m->ssn->id, m->id);
	}
	spool_free(m);
	arc_session_free(m->as);
	m->as = NULL;
	m->state = M_PASS;
}

/* ---- end of message: fields, replay, "." ---------------------------------- */

static int
is_arc_field(const char *f)
{
	return strncasecmp(f, "ARC-", 4) == 0;
}

/* 1 if every line of the LF field text fits what smtpd passes back. */
static int
lines_fit(const char *text, size_t max)
{
	size_t	n;

	while (*text != '\0') {
		n = strcspn(text, "\n");
		if (n > max)
			return 0;
		text += n + (text[n] == '\n');
	}
	return 1;
}

static void
emit_field(struct msg *m, const char *text)
{
	size_t	n;

	while (*text != '\0') {
		n = strcspn(text, "\n");
		out_dataline(m->ssn->id, m->tok, text, n);
		text += n + (text[n] == '\n');
	}
}

/* Writes the action fields above everything else; returns why the ARC
 * set was left out, or NULL. */
static const char *
emit_fields(struct msg *m, const arc_actions *a)
{
	char		*text[4] = { NULL, NULL, NULL, NULL };
	const char	*drop_arc = NULL;
	size_t		 max = smtpd_dataline_max(S(m->ssn->id), S(m->tok));
	int		 i, n = a->nfields < 4 ? a->nfields : 4, has_arc = 0;

	for (i = 0; i < n; i++) {
		if (a->fields[i] == NULL)
			continue;
		has_arc |= is_arc_field(a->fields[i]);
		text[i] = arc_field_lines(a->fields[i], 0, NULL);
		if (text[i] == NULL || !lines_fit(text[i], max)) {
			logmsg(ARC_LOG_WARNING, "session=%s id=%s: %.40s... "
			    "left out: %s", m->ssn->id, m->id, a->fields[i],
			    text[i] ? "a line longer than smtpd passes back" :
			    "out of memory");
			free(text[i]);
			text[i] = NULL;
			if (is_arc_field(a->fields[i]))
				drop_arc = "an ARC field could not be written";
		}
	}
	if (has_arc && m->longline)
		drop_arc = "a line longer than smtpd passes back whole";
	for (i = 0; i < n; i++) {
		if (text[i] != NULL && !(drop_arc && is_arc_field(text[i])))
			emit_field(m, text[i]);
		free(text[i]);
	}
	return has_arc ? drop_arc : NULL;
}

static void
replay_queue(struct msg *m)
{
	m->next = NULL;
	if (g.replay_tail != NULL)
		g.replay_tail->next = m;
	else
		g.replay = m;
	g.replay_tail = m;
}

/* The log line for a message whose ARC set was left out: the
 * adapter's summary with "sealed=iN" made "not-sealed", and why. */
static void
log_dropped(struct msg *m, const arc_actions *a, const char *why)
{
	const char	*sum = a->summary ? a->summary : "", *p, *end;

	if ((p = strstr(sum, " sealed=i")) == NULL) {
		logmsg(ARC_LOG_INFO, "session=%s %s not-sealed=\"%s\"",
		    m->ssn->id, sum, why);
		return;
	}
	end = p + 1 + strcspn(p + 1, " ");
	logmsg(ARC_LOG_INFO, "session=%s %.*s not-sealed%s reason=\"%s\"",
	    m->ssn->id, (int)(p - sum), sum, end, why);
}

/* The verdict is in (or given up on): fields out, replay queued, the
 * log line written. */
static void
msg_output(struct msg *m)
{
	const arc_actions	*a;
	const char		*dropped;

	a = arc_session_actions(m->as);
	dropped = emit_fields(m, a);
	if ((a->reject || a->tempfail) && (m->reply = strdup(a->smtp_reply ?
	    a->smtp_reply : "550 5.7.29 ARC validation failure")) == NULL)
		logmsg(ARC_LOG_ERR, "session=%s id=%s: out of memory, not "
		    "refused", m->ssn->id, m->id);
	if (dropped != NULL)
		log_dropped(m, a, dropped);
	else
		logmsg(a->error ? ARC_LOG_WARNING : ARC_LOG_INFO,
		    "session=%s %s%s", m->ssn->id, a->summary ? a->summary : "",
		    m->reply == NULL ? "" : a->reject ? " action=reject" :
		    " action=tempfail");
	m->state = M_REPLAY;
	replay_queue(m);
}

/* Replays kept lines until the output queue is full; 1 when the whole
 * message, "." included, is out. */
static int
replay_step(struct msg *m)
{
	const char	*line;
	size_t		 len;
	char		*nl;
	int		 r;

	while (g.outlen < OUT_HIGH && m->moff < m->memlen) {
		nl = memchr(m->mem + m->moff, '\n', m->memlen - m->moff);
		len = (size_t)(nl - (m->mem + m->moff));
		out_dataline(m->ssn->id, m->tok, m->mem + m->moff, len);
		m->moff += len + 1;
	}
	while (g.outlen < OUT_HIGH && m->fd != -1 &&
	    (r = spool_file_line(m, &line, &len)) != 0) {
		if (r == -1) {
			/* nothing better to do than end the message */
			logmsg(ARC_LOG_ERR, "session=%s id=%s: temporary file "
			    "unreadable: %s, message damaged", m->ssn->id,
			    m->id, strerror(errno));
			break;
		}
		out_dataline(m->ssn->id, m->tok, line, len);
		spool_file_next(m, len);
	}
	if (g.outlen >= OUT_HIGH)
		return 0;
	out_dataline(m->ssn->id, m->tok, ".", 1);
	spool_free(m);
	m->state = M_COMMIT;
	return 1;
}

static void
replay_pump(void)
{
	struct msg	*m;

	while (g.replay != NULL && g.outlen < OUT_HIGH) {
		m = g.replay;
		if (!replay_step(m))
			break;
		g.replay = m->next;
		if (g.replay == NULL)
			g.replay_tail = NULL;
		m->next = NULL;
	}
}

static void
msg_eom(struct msg *m)
{
	int	r;

	if (m->fd != -1 && m->wlen > 0 && spool_write(m) == -1) {
		char why[128];

		snprintf(why, sizeof(why), "temporary file: %s",
		    strerror(errno));
		msg_passthru(m, why);
		out_dataline(m->ssn->id, m->tok, ".", 1);
		m->state = M_COMMIT;
		return;
	}
	r = arc_session_eom(m->as);
	if (r == ARC_SESSION_PENDING) {
		m->state = M_WAIT;
		m->wait_since = now_ms();
		m->waiting = 1;
		m->next = g.waiting;
		g.waiting = m;
		return;
	}
	msg_output(m);
}

/* After DNS activity: messages whose lookups completed or took too
 * long go on. */
static void
check_waiting(void)
{
	struct msg	*m, *next, *go = NULL;
	long long	 now = now_ms();
	int		 r;

	for (m = g.waiting; m != NULL; m = next) {
		next = m->next;
		if (!m->ready && now - m->wait_since < g.msg_timeout)
			continue;
		if (m->ready) {
			m->ready = 0;
			r = arc_session_eom(m->as);
			if (r == ARC_SESSION_PENDING)
				continue;
		} else {
			logmsg(ARC_LOG_WARNING, "session=%s id=%s: key "
			    "lookups unfinished after %ld ms, giving up",
			    m->ssn->id, m->id, g.msg_timeout);
			arc_session_finish(m->as);
		}
		list_remove(&g.waiting, m);
		m->waiting = 0;
		m->next = go;
		go = m;
	}
	/* in arrival order of their verdicts; msg_output uses m->next */
	for (m = go; m != NULL; m = next) {
		next = m->next;
		msg_output(m);
	}
}

static void
dns_tick(void)
{
	if (g.ad == NULL)
		return;
	arc_adapter_dns_process(g.ad);
	check_waiting();
}

/* ---- protocol handlers ------------------------------------------------------ */

static void
msg_line(struct msg *m, struct smtpd_str text)
{
	struct smtpd_str	u;
	char			why[128];

	if (text.len > smtpd_dataline_max(S(m->ssn->id), S(m->tok)))
		m->longline = 1;
	if (spool_add(m, text) == -1) {
		snprintf(why, sizeof(why), "cannot keep the message: %s",
		    strerror(errno));
		msg_passthru(m, why);
		out_dataline(m->ssn->id, m->tok, text.p, text.len);
		return;
	}
	if (m->feed_failed)
		return;
	u = smtpd_unstuff(text);
	if (arc_session_feed(m->as, u.p, u.len) != 0 ||
	    arc_session_feed(m->as, "\n", 1) != 0) {
		/* the adapter remembers; its actions will say so */
		m->feed_failed = 1;
	}
}

static void
on_dataline(const struct smtpd_line *l)
{
	struct ssn	*s;
	struct msg	*m;
	char		 sid[SMTPD_ID_MAX + 1], tok[SMTPD_ID_MAX + 1];

	if ((s = ssn_get(l->session)) == NULL)
		goto echo;
	m = s->msg;
	if (m != NULL && m->state == M_COMMIT) {
		/* the commit phase never came for the last one */
		msg_free(m);
		m = NULL;
	}
	if (m == NULL && (m = msg_new(s, l->token)) == NULL)
		goto echo;
	switch (m->state) {
	case M_PASS:
		out_dataline(s->id, m->tok, l->rest.p, l->rest.len);
		if (smtpd_is_eom(l->rest))
			m->state = M_COMMIT;
		return;
	case M_DATA:
		if (smtpd_is_eom(l->rest))
			msg_eom(m);
		else
			msg_line(m, l->rest);
		return;
	default:
		logmsg(ARC_LOG_ERR, "session=%s: data-line after the end of "
		    "the message, ignored", s->id);
		return;
	}
echo:
	/* no memory for state: pass the line on as it came */
	snprintf(sid, sizeof(sid), "%.*s", (int)l->session.len, l->session.p);
	snprintf(tok, sizeof(tok), "%.*s", (int)l->token.len, l->token.p);
	out_dataline(sid, tok, l->rest.p, l->rest.len);
}

static void
on_commit(const struct smtpd_line *l)
{
	struct ssn	*s = ssn_find(l->session);
	struct msg	*m = s ? s->msg : NULL;
	char		 sid[SMTPD_ID_MAX + 1], tok[SMTPD_ID_MAX + 1];

	snprintf(sid, sizeof(sid), "%.*s", (int)l->session.len, l->session.p);
	snprintf(tok, sizeof(tok), "%.*s", (int)l->token.len, l->token.p);
	if (m != NULL && m->state != M_COMMIT) {
		logmsg(ARC_LOG_ERR, "session=%s: commit before the end of the "
		    "message", sid);
		m = NULL;
	}
	out_result(sid, tok, m ? m->reply : NULL);
	if (m != NULL)
		msg_free(m);
}

static void
on_filter(const struct smtpd_line *l)
{
	char	sid[SMTPD_ID_MAX + 1], tok[SMTPD_ID_MAX + 1];

	if (smtpd_eq(l->event, "data-line")) {
		on_dataline(l);
		return;
	}
	if (smtpd_eq(l->event, "commit")) {
		on_commit(l);
		return;
	}
	/* a phase we did not ask for: let it through rather than hang */
	logmsg(ARC_LOG_WARNING, "unexpected filter phase %.*s, proceeding",
	    (int)l->event.len, l->event.p);
	snprintf(sid, sizeof(sid), "%.*s", (int)l->session.len, l->session.p);
	snprintf(tok, sizeof(tok), "%.*s", (int)l->token.len, l->token.p);
	out_result(sid, tok, NULL);
}

static void
on_tx_end(struct ssn *s)
{
	ssn_clear_rcpts(s);
	s->msgid[0] = '\0';
	/* a message still being received or written stays: smtpd waits
	 * for its "." */
	if (s->msg != NULL && s->msg->state == M_COMMIT)
		msg_free(s->msg);
}

static void
on_report(const struct smtpd_line *l)
{
	struct smtpd_str	 res, addr;
	struct ssn		*s;
	const struct smtpd_str	*p = l->params;

	if (!smtpd_eq(l->subsystem, "smtp-in"))
		return;
	if (smtpd_eq(l->event, "link-disconnect")) {
		if ((s = ssn_find(l->session)) != NULL)
			ssn_free(s);
		return;
	}
	if (!smtpd_eq(l->event, "link-connect") &&
	    !smtpd_eq(l->event, "link-identify") &&
	    !smtpd_eq(l->event, "tx-begin") && !smtpd_eq(l->event, "tx-rcpt") &&
	    !smtpd_eq(l->event, "tx-reset") &&
	    !smtpd_eq(l->event, "tx-rollback"))
		return;
	if ((s = ssn_get(l->session)) == NULL)
		return;
	if (smtpd_eq(l->event, "link-connect")) {
		if (l->nparams < 3 ||
		    smtpd_parse_addr(p[2], s->ip, sizeof(s->ip)) == -1)
			s->ip[0] = '\0';
	} else if (smtpd_eq(l->event, "link-identify")) {
		free(s->helo);
		s->helo = l->nparams > 0 ? strndup(p[l->nparams - 1].p,
		    p[l->nparams - 1].len) : NULL;
	} else if (smtpd_eq(l->event, "tx-begin")) {
		ssn_clear_rcpts(s);
		snprintf(s->msgid, sizeof(s->msgid), "%.*s",
		    l->nparams > 0 ? (int)p[0].len : 0,
		    l->nparams > 0 ? p[0].p : "");
	} else if (smtpd_eq(l->event, "tx-rcpt")) {
		if (smtpd_tx_addr(l, &res, &addr) == 0 && smtpd_eq(res, "ok"))
			ssn_add_rcpt(s, addr);
	} else
		on_tx_end(s);
}

static void
setup(void)
{
	char	err[512];

	if (arc_conf_get(g.conf, "authserv-id") == NULL && g.admd != NULL &&
	    arc_conf_set(g.conf, "authserv-id", g.admd, err,
	    sizeof(err)) != 0)
		logmsg(ARC_LOG_WARNING, "admd %s not usable as authserv-id: "
		    "%s", g.admd, err);
	if (g.debug)
		(void)arc_conf_set(g.conf, "log-level", "debug", err,
		    sizeof(err));
	if ((g.ad = arc_adapter_create(g.conf, log_cb, NULL, err,
	    sizeof(err))) == NULL) {
		logmsg(ARC_LOG_ERR, "%s: %s", g.confpath ? g.confpath :
		    "built-in defaults", err);
		exit(1);
	}
	out_str("register|report|smtp-in|*\n");
	out_str("register|filter|smtp-in|data-line\n");
	out_str("register|filter|smtp-in|commit\n");
	out_str("register|ready\n");
	g.ready = 1;
	logmsg(ARC_LOG_INFO, "ready, authserv-id %s",
	    arc_conf_get(g.conf, "authserv-id") ?
	    arc_conf_get(g.conf, "authserv-id") : "(host name)");
}

static void
on_config(const struct smtpd_line *l)
{
	char	buf[32];
	long	t;

	if (smtpd_eq(l->key, "admd") && l->value.p != NULL) {
		free(g.admd);
		g.admd = strndup(l->value.p, l->value.len);
	} else if (smtpd_eq(l->key, "smtp-session-timeout") &&
	    l->value.p != NULL && l->value.len < sizeof(buf)) {
		snprintf(buf, sizeof(buf), "%.*s", (int)l->value.len,
		    l->value.p);
		if ((t = strtol(buf, NULL, 10)) > 0)
			g.idle_ms = 2000LL * t;
	} else if (smtpd_eq(l->key, "ready") && !g.ready)
		setup();
}

/* A line that did not parse.  A data-line with a NUL is still a
 * data-line: smtpd itself would have seen only the part before it. */
static void
on_malformed(const char *line, size_t len, const char *why)
{
	struct smtpd_line	l;
	size_t			n = strnlen(line, len);

	logmsg(ARC_LOG_ERR, "malformed line from smtpd (%s): %.*s", why,
	    (int)(len < 200 ? len : 200), line);
	if (n < len && smtpd_parse(line, n, &l) == SMTPD_FILTER &&
	    smtpd_eq(l.event, "data-line") && ssn_find(l.session) != NULL)
		on_dataline(&l);
}

static void
handle_line(const char *line, size_t len)
{
	struct smtpd_line	l;

	if (g.debug)
		logmsg(ARC_LOG_DEBUG, "< %.*s", (int)(len < 300 ? len : 300),
		    line);
	switch (smtpd_parse(line, len, &l)) {
	case SMTPD_CONFIG:
		on_config(&l);
		break;
	case SMTPD_REPORT:
		on_report(&l);
		break;
	case SMTPD_FILTER:
		on_filter(&l);
		break;
	default:
		on_malformed(line, len, l.error);
		break;
	}
}

/* ---- input ------------------------------------------------------------------ */

static void
read_input(void)
{
	char	*nl, *p;
	size_t	 off = 0, cap;
	ssize_t	 n;

	if (g.incap - g.inlen < 65536) {
		cap = g.incap ? g.incap * 2 : 131072;
		if ((p = realloc(g.in, cap)) == NULL) {
			if (g.incap - g.inlen == 0) {
				/* cannot grow and full: this line is lost */
				logmsg(ARC_LOG_ERR, "input line dropped: out "
				    "of memory");
				g.inlen = 0;
				g.in_skip = 1;
			}
		} else {
			g.in = p;
			g.incap = cap;
		}
	}
	n = read(STDIN_FILENO, g.in + g.inlen, g.incap - g.inlen);
	if (n == 0) {
		g.eof = 1;
		return;
	}
	if (n == -1) {
		if (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK) {
			logmsg(ARC_LOG_ERR, "read from smtpd: %s",
			    strerror(errno));
			g.eof = 1;
		}
		return;
	}
	g.inlen += (size_t)n;
	while ((nl = memchr(g.in + off, '\n', g.inlen - off)) != NULL) {
		if (!g.in_skip)
			handle_line(g.in + off, (size_t)(nl - (g.in + off)));
		g.in_skip = 0;
		off = (size_t)(nl - g.in) + 1;
	}
	memmove(g.in, g.in + off, g.inlen - off);
	g.inlen -= off;
	if (g.inlen > IN_LINE_MAX) {
		logmsg(ARC_LOG_ERR, "input line longer than %d bytes dropped",
		    IN_LINE_MAX);
		g.inlen = 0;
		g.in_skip = 1;
	}
	/* keep the buffer from staying huge after one long line */
	if (g.inlen < 65536 && g.incap > 4 * 131072 &&
	    (p = realloc(g.in, 131072)) != NULL) {
		g.in = p;
		g.incap = 131072;
	}
}

/* A session smtpd stopped talking about long ago is gone (its
 * link-disconnect can overtake late data-lines, which would otherwise
 * start a session that never ends). */
static void
sweep(void)
{
	struct ssn	*s, *next;
	long long	 now = now_ms();
	size_t		 i;

	if (now - g.last_sweep < SWEEP_MS)
		return;
	g.last_sweep = now;
	for (i = 0; i < NBUCKETS; i++)
		for (s = g.bucket[i]; s != NULL; s = next) {
			next = s->next;
			if (now - s->seen < g.idle_ms || (s->msg != NULL &&
			    (s->msg->state == M_WAIT ||
			    s->msg->state == M_REPLAY)))
				continue;
			logmsg(ARC_LOG_DEBUG, "session=%s: idle, forgotten",
			    s->id);
			ssn_free(s);
		}
}

/* ---- main ------------------------------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr, "usage: filter-arc [-dn] [-c arc.conf]\n");
	exit(64);
}

static void
load_conf(void)
{
	char	err[512];

	if (g.confpath == NULL && access(DEFAULT_CONF, F_OK) == 0)
		g.confpath = DEFAULT_CONF;
	if ((g.conf = arc_conf_load(g.confpath, err, sizeof(err))) == NULL) {
		fprintf(stderr, "filter-arc: %s\n", err);
		exit(1);
	}
	g.msg_timeout = arc_conf_get(g.conf, "message-timeout") ?
	    strtol(arc_conf_get(g.conf, "message-timeout"), NULL, 10) : 10000;
	if (g.msg_timeout <= 0)
		g.msg_timeout = 10000;
	g.idle_ms = 600000;	/* twice smtpd's default session timeout */
	g.last_sweep = now_ms();
}

/* -n: the configuration as the filter would use it, then exit. */
static int
check_conf(void)
{
	char		 err[512];
	arc_adapter	*ad;

	if ((ad = arc_adapter_create(g.conf, log_cb, NULL, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "filter-arc: %s: %s\n", g.confpath ?
		    g.confpath : "built-in defaults", err);
		return 1;
	}
	arc_adapter_free(ad);
	fprintf(stderr, "filter-arc: configuration OK\n");
	return 0;
}

/* At EOF: everything freed, so leak checkers see only real leaks. */
static void
shutdown_all(void)
{
	struct ssn	*s, *next;
	size_t		 i;

	for (i = 0; i < NBUCKETS; i++)
		for (s = g.bucket[i]; s != NULL; s = next) {
			next = s->next;
			ssn_free(s);
		}
	arc_adapter_free(g.ad);
	arc_conf_free(g.conf);
	free(g.admd);
	free(g.in);
	free(g.out);
}

static void
loop(void)
{
	struct pollfd	pfd[3];
	int		dnsfd, n, timeout;

	while (!g.eof) {
		replay_pump();
		dnsfd = g.ad ? arc_adapter_dns_fd(g.ad) : -1;
		pfd[0].fd = g.outlen < OUT_MAX ? STDIN_FILENO : -1;
		pfd[0].events = POLLIN;
		pfd[1].fd = g.outlen > 0 ? STDOUT_FILENO : -1;
		pfd[1].events = POLLOUT;
		pfd[2].fd = dnsfd;
		pfd[2].events = POLLIN;
		pfd[0].revents = pfd[1].revents = pfd[2].revents = 0;
		/* a tick while anything waits: DNS timeouts are polled */
		timeout = g.waiting != NULL ? TICK_MS : g.nssn > 0 ?
		    SWEEP_MS : -1;
		n = poll(pfd, 3, timeout);
		if (n == -1) {
			if (errno != EINTR)
				logmsg(ARC_LOG_ERR, "poll: %s", strerror(errno));
			continue;
		}
		if (pfd[1].revents)
			out_flush(0);
		if (pfd[0].revents)
			read_input();
		if (pfd[2].revents || g.waiting != NULL)
			dns_tick();
		sweep();
	}
}

int
main(int argc, char **argv)
{
	int	ch, check = 0, fl;

	while ((ch = getopt(argc, argv, "c:dn")) != -1) {
		switch (ch) {
		case 'c':
			g.confpath = optarg;
			break;
		case 'd':
			g.debug = 1;
			break;
		case 'n':
			check = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	load_conf();
	if (check)
		return check_conf();
	/* a vanished smtpd shows as a write error, not a signal */
	signal(SIGPIPE, SIG_IGN);
	/* stdin and stdout are one socket: this makes both non-blocking */
	if ((fl = fcntl(STDOUT_FILENO, F_GETFL)) != -1)
		(void)fcntl(STDOUT_FILENO, F_SETFL, fl | O_NONBLOCK);
	if ((fl = fcntl(STDIN_FILENO, F_GETFL)) != -1)
		(void)fcntl(STDIN_FILENO, F_SETFL, fl | O_NONBLOCK);
	loop();
	shutdown_all();
	return 0;
}
