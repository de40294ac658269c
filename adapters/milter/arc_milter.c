/*
 * arc_milter.c - arc-milter: ARC (RFC 8617) for Postfix and Sendmail
 * through libmilter, written against adapters/arc_adapter.h only.
 *
 *   arc-milter [-f] [-n] [-c conf] [-u user[:group]] [-P pidfile] -p socket
 *
 * This file: the libmilter callbacks and the live configuration they
 * use; start-up, signals and checks are in milter_main.c.
 *
 * Contract:
 *  - A message's session starts at its first header field, not at MAIL:
 *    Postfix tells the queue id (macro i) only from DATA on, and the id
 *    names the message in the log lines.  Recipients are kept until then.
 *  - Every message is verified and gets an Authentication-Results
 *    (arc=...); when arc.conf names a sealing identity an ARC set is
 *    sealed.  The fields are inserted at the very top of the header with
 *    smfi_insheader(ctx, 0, ...), last field first, so that the message
 *    reads ARC-Seal, ARC-Message-Signature, ARC-Authentication-Results,
 *    Authentication-Results, then what was there.
 *  - Mail is never lost: an internal error passes the message on (with
 *    an Authentication-Results saying so), or tempfails it when arc.conf
 *    says "on-error tempfail".  Only "on-fail reject" rejects, with the
 *    configured reply (550 5.7.29).
 *  - Threads: libmilter calls back from a thread per connection.  The
 *    adapter (key cache, resolver, signers) is process-wide and not
 *    thread-safe, so every arc_adapter_*, arc_session_* and arc_runtime_*
 *    call is made with adapter_lock held.  The lock is never held while
 *    talking to the MTA or while waiting for DNS (see wait_session()).
 *  - Reload (milter_reload(), from the signal thread): the new adapter is
 *    built and swapped in under the lock.  A message keeps the adapter
 *    its session was created on, so one in flight finishes with the old
 *    keys and the next uses the new; connections are never dropped.  On
 *    error the old configuration keeps running.
 *  - Per-connection state lives in smfi_setpriv(); a message's session
 *    is freed at end of message, on abort and on close.
 *  - Logs go to syslog (facility mail), to stderr with -f, or to the
 *    journal's stream with syslog level prefixes ("<6>...") when systemd
 *    started us (milter_main.c decides).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "arc_metrics_http.h"
#include "milter.h"

/* Per connection, in smfi_setpriv(). */
struct conn {
	char		 ip[INET6_ADDRSTRLEN];	/* "" if not an IP client */
	char		*helo;
	char		*mail_from;	/* envfrom: seal-select sender */
	int		 leadspc;	/* SMFIP_HDR_LEADSPC negotiated */
	unsigned long	 connid;
	unsigned	 nmsg;
	arc_session	*ss;		/* the message under way, or NULL */
	int		 skip;		/* no session: let the message pass */
	char		**rcpts;	/* until the session starts */
	size_t		 nrcpts;
	char		 id[64];	/* for log lines */
};

/*
 * One lock for the whole adapter.  A per-thread adapter would avoid it
 * but would hold one key cache and one resolver per thread; the work done
 * under the lock is CPU-bound and short (hashing, one RSA operation per
 * signature), so one shared adapter is simpler and caches better.
 */
static pthread_mutex_t	 adapter_lock = PTHREAD_MUTEX_INITIALIZER;
static arc_runtime	*rt;

/* From the current configuration: under adapter_lock. */
static int		 on_error_tempfail;
static long		 message_timeout;	/* ms */

/* Set once before any thread starts. */
static enum milter_log	 log_mode;

static pthread_mutex_t	 counter_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned long	 nconnections;	/* ever: numbers connections */
static unsigned long	 nactive;	/* between negotiate and close */

void
milter_log_to(enum milter_log m)
{
	log_mode = m;
}

void
mlog(int level, const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	/* one write per line: lines of threads never interleave */
	switch (log_mode) {
	case MLOG_JOURNAL:	/* journald reads the level from "<N>" */
		fprintf(stderr, "<%d>%s\n", level & 7, buf);
		break;
	case MLOG_STDERR:
		fprintf(stderr, "arc-milter: %s\n", buf);
		break;
	default:
		syslog(level, "%s", buf);
	}
}

/* The adapter's log lines (its level filter has already run). */
void
milter_adapter_log(void *arg, int level, const char *line)
{
	(void)arg;
	mlog(level, "%s", line);
}

static void
lock(void)
{
	pthread_mutex_lock(&adapter_lock);
}

static void
unlock(void)
{
	pthread_mutex_unlock(&adapter_lock);
}

static struct conn *
conn_get(SMFICTX *ctx)
{
	struct conn	*c = smfi_getpriv(ctx);

	if (c != NULL)
		return c;
	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	if (smfi_setpriv(ctx, c) != MI_SUCCESS) {
		free(c);
		return NULL;
	}
	pthread_mutex_lock(&counter_lock);
	c->connid = ++nconnections;
	nactive++;
	pthread_mutex_unlock(&counter_lock);
	return c;
}

static void
free_rcpts(struct conn *c)
{
	for (size_t i = 0; i < c->nrcpts; i++)
		free(c->rcpts[i]);
	free(c->rcpts);
	c->rcpts = NULL;
	c->nrcpts = 0;
}

static void
session_end(struct conn *c)
{
	if (c->ss != NULL) {
		lock();
		arc_session_free(c->ss);
		unlock();
		c->ss = NULL;
	}
	free_rcpts(c);
	c->skip = 0;
}

/* What to answer when we cannot do our job for this message. */
static sfsistat
give_up(SMFICTX *ctx, struct conn *c, const char *why)
{
	char	 qid[160], qwhy[160];
	int	 tempfail;

	lock();
	tempfail = on_error_tempfail;
	unlock();
	/* key=value as the adapter's summary lines */
	mlog(LOG_ERR, "id=%s error=internal reason=%s action=%s",
	    arc_log_value(c && c->id[0] ? c->id : "-", qid, sizeof(qid)),
	    arc_log_value(why, qwhy, sizeof(qwhy)),
	    tempfail ? "tempfail" : "pass-unchecked");
	if (c != NULL) {
		session_end(c);
		c->skip = 1;
	}
	if (tempfail) {
		smfi_setreply(ctx, "451", "4.3.0",
		    "ARC processing failed, try again later");
		return SMFIS_TEMPFAIL;
	}
	return SMFIS_ACCEPT;
}

/* Starts the message's session if none is under way.  -1: give up. */
static int
session_begin(SMFICTX *ctx, struct conn *c)
{
	arc_session_params	 p;
	const char		*qid;

	if (c->ss != NULL)
		return 0;
	if (c->skip)
		return -1;
	c->nmsg++;
	if ((qid = smfi_getsymval(ctx, "i")) != NULL && *qid != '\0')
		snprintf(c->id, sizeof(c->id), "%s", qid);
	else
		snprintf(c->id, sizeof(c->id), "c%lu.m%u", c->connid, c->nmsg);
	memset(&p, 0, sizeof(p));
	p.id = c->id;
	p.client_ip = c->ip[0] ? c->ip : NULL;
	p.helo = c->helo;
	p.mail_from = c->mail_from;
	p.seal = -1;
	lock();
	/* the current configuration: kept by the session to its end */
	if ((c->ss = arc_session_create(arc_runtime_adapter(rt), &p)) != NULL)
		for (size_t i = 0; i < c->nrcpts; i++)
			arc_session_rcpt(c->ss, c->rcpts[i]);
	unlock();
	free_rcpts(c);
	return c->ss != NULL ? 0 : -1;
}

/* ---- callbacks ----------------------------------------------------------- */

static sfsistat
cb_negotiate(SMFICTX *ctx, unsigned long f0, unsigned long f1,
    unsigned long f2, unsigned long f3, unsigned long *pf0,
    unsigned long *pf1, unsigned long *pf2, unsigned long *pf3)
{
	struct conn	*c = conn_get(ctx);

	(void)f2;
	(void)f3;
	if ((f0 & SMFIF_ADDHDRS) == 0)
		mlog(LOG_WARNING, "the MTA does not let filters add header "
		    "fields: messages are verified but nothing is added");
	*pf0 = f0 & SMFIF_ADDHDRS;
	/* exact header values (the space after the colon is the
	 * sender's); DATA stays on: Postfix sends the queue id with it */
	*pf1 = f1 & (SMFIP_HDR_LEADSPC | SMFIP_NOUNKNOWN);
	*pf2 = 0;
	*pf3 = 0;
	if (c != NULL)
		c->leadspc = (*pf1 & SMFIP_HDR_LEADSPC) != 0;
	return SMFIS_CONTINUE;
}

static sfsistat
cb_connect(SMFICTX *ctx, char *host, struct sockaddr *sa)
{
	struct conn		*c = conn_get(ctx);
	struct sockaddr_in6	*sin6;

	(void)host;
	if (c == NULL)
		return give_up(ctx, NULL, "out of memory");
	c->ip[0] = '\0';
	if (sa != NULL && sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)sa)->sin_addr,
		    c->ip, sizeof(c->ip));
	else if (sa != NULL && sa->sa_family == AF_INET6) {
		sin6 = (struct sockaddr_in6 *)(void *)sa;
		/* an IPv4 client on a dual-stack socket */
		if (IN6_IS_ADDR_V4MAPPED(&sin6->sin6_addr))
			inet_ntop(AF_INET, &sin6->sin6_addr.s6_addr[12],
			    c->ip, sizeof(c->ip));
		else
			inet_ntop(AF_INET6, &sin6->sin6_addr, c->ip,
			    sizeof(c->ip));
	}
	return SMFIS_CONTINUE;
}

static sfsistat
cb_helo(SMFICTX *ctx, char *helo)
{
	struct conn	*c = conn_get(ctx);

	if (c == NULL)
		return give_up(ctx, NULL, "out of memory");
	free(c->helo);
	c->helo = helo ? strdup(helo) : NULL;
	return SMFIS_CONTINUE;
}

static sfsistat
cb_envfrom(SMFICTX *ctx, char **argv)
{
	struct conn	*c = conn_get(ctx);

	if (c == NULL)
		return give_up(ctx, NULL, "out of memory");
	session_end(c);		/* a message the MTA did not finish */
	free(c->mail_from);
	c->mail_from = argv[0] ? strdup(argv[0]) : NULL;
	return SMFIS_CONTINUE;
}

/* "<user@domain>" -> "user@domain", as the other adapters pass it, so
 * that seal-recipients patterns may anchor on the address. */
static char *
bare_address(const char *a)
{
	size_t	 n = strlen(a);

	if (n >= 2 && a[0] == '<' && a[n - 1] == '>')
		return strndup(a + 1, n - 2);
	return strdup(a);
}

static sfsistat
cb_envrcpt(SMFICTX *ctx, char **argv)
{
	struct conn	*c = conn_get(ctx);
	char		**n, *r;

	if (c == NULL)
		return give_up(ctx, NULL, "out of memory");
	if (argv == NULL || argv[0] == NULL || c->skip)
		return SMFIS_CONTINUE;
	if ((r = bare_address(argv[0])) == NULL)
		return give_up(ctx, c, "out of memory");
	if (c->ss != NULL) {		/* not from Postfix or Sendmail */
		lock();
		arc_session_rcpt(c->ss, r);
		unlock();
		free(r);
		return SMFIS_CONTINUE;
	}
	if ((n = reallocarray(c->rcpts, c->nrcpts + 1, sizeof(*n))) == NULL) {
		free(r);
		return give_up(ctx, c, "out of memory");
	}
	c->rcpts = n;
	c->rcpts[c->nrcpts++] = r;
	return SMFIS_CONTINUE;
}

/*
 * libmilter hands the field as name and value: the value without the
 * colon, without the white space after it (unless SMFIP_HDR_LEADSPC was
 * negotiated), folded with LF or CRLF as the MTA keeps it.  The library
 * wants the field itself: "Name:" value, CRLF line ends.
 */
static char *
rebuild_field(const char *name, const char *value, int leadspc, size_t *lenp)
{
	size_t	 nl = 0, i, n;
	char	*f, *o;

	for (i = 0; value[i]; i++)
		if (value[i] == '\n')
			nl++;
	n = strlen(name) + 2 + i + nl + 1;
	if ((f = malloc(n)) == NULL)
		return NULL;
	o = f;
	memcpy(o, name, strlen(name));
	o += strlen(name);
	*o++ = ':';
	if (!leadspc)
		*o++ = ' ';
	for (i = 0; value[i]; i++) {
		if (value[i] == '\n' && (i == 0 || value[i - 1] != '\r'))
			*o++ = '\r';
		*o++ = value[i];
	}
	*o = '\0';
	*lenp = (size_t)(o - f);
	return f;
}

static sfsistat
cb_header(SMFICTX *ctx, char *name, char *value)
{
	struct conn	*c = conn_get(ctx);
	char		*f;
	size_t		 n;

	if (c == NULL || session_begin(ctx, c) != 0)
		return give_up(ctx, c, "cannot start a session");
	if ((f = rebuild_field(name, value ? value : "", c->leadspc, &n)) ==
	    NULL)
		return give_up(ctx, c, "out of memory");
	/* a failure is remembered by the session: its actions at the end
	 * of the message then pass the message on */
	lock();
	arc_session_header(c->ss, f, n);
	unlock();
	free(f);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_eoh(SMFICTX *ctx)
{
	struct conn	*c = conn_get(ctx);

	if (c == NULL || session_begin(ctx, c) != 0)
		return give_up(ctx, c, "cannot start a session");
	lock();
	arc_session_eoh(c->ss);
	unlock();
	return SMFIS_CONTINUE;
}

static sfsistat
cb_body(SMFICTX *ctx, unsigned char *p, size_t n)
{
	struct conn	*c = conn_get(ctx);

	if (c == NULL || session_begin(ctx, c) != 0)
		return give_up(ctx, c, "cannot start a session");
	lock();
	arc_session_body(c->ss, p, n);
	unlock();
	return SMFIS_CONTINUE;
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec	 t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long)(t.tv_sec - t0->tv_sec) * 1000 +
	    (t.tv_nsec - t0->tv_nsec) / 1000000;
}

/*
 * Key lookups are under way.  arc_session_wait() would do, but it would
 * hold adapter_lock, and so stop every other connection, for as long as
 * DNS takes.  Instead poll the resolvers' descriptors (the current
 * adapter's and those of adapters retired by a reload that sessions
 * still use) without the lock and take it only to process answers;
 * whichever thread processes them completes every session they were
 * for.  Past message-timeout, arc_session_finish() ends the message at
 * once (missing keys count as failed lookups).
 */
#define MAX_DNS_FDS	8

static void
wait_session(arc_session *ss)
{
	struct timespec	 t0;
	struct pollfd	 pfd[MAX_DNS_FDS];
	int		 fds[MAX_DNS_FDS];
	size_t		 n, i;
	long		 left, timeout;
	int		 r;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	lock();
	timeout = message_timeout;
	unlock();
	for (;;) {
		lock();
		n = arc_runtime_dns_fds(rt, fds, MAX_DNS_FDS);
		unlock();
		left = timeout - ms_since(&t0);
		if (n == 0 || left <= 0)
			break;
		for (i = 0; i < n; i++) {
			pfd[i].fd = fds[i];
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
		}
		/* short slices: another thread may eat our answer */
		if (poll(pfd, (nfds_t)n, left < 50 ? (int)left : 50) == -1 &&
		    errno != EINTR)
			break;
		lock();
		arc_runtime_dns_process(rt);
		r = arc_session_eom(ss);
		unlock();
		if (r == ARC_SESSION_DONE)
			return;
	}
	lock();
	arc_session_finish(ss);
	unlock();
}

/* "550 5.7.29 text" -> smfi_setreply(ctx, "550", "5.7.29", "text").
 * libmilter takes '%' as a format character: it is doubled. */
static void
set_reply(SMFICTX *ctx, const char *reply, const char *defcode,
    const char *defx)
{
	char		 code[4], xcode[32], text[256];
	const char	*p = reply ? reply : "";
	size_t		 n, o = 0;

	snprintf(code, sizeof(code), "%s", defcode);
	snprintf(xcode, sizeof(xcode), "%s", defx);
	if (strlen(p) >= 3 && (p[0] == '4' || p[0] == '5') &&
	    isdigit((unsigned char)p[1]) && isdigit((unsigned char)p[2]) &&
	    (p[3] == ' ' || p[3] == '\0')) {
		memcpy(code, p, 3);
		code[3] = '\0';
		p += 3;
		while (*p == ' ')
			p++;
		n = strspn(p, "0123456789.");
		if (n > 0 && n < sizeof(xcode) && p[0] == code[0] &&
		    (p[n] == ' ' || p[n] == '\0')) {
			memcpy(xcode, p, n);
			xcode[n] = '\0';
			p += n;
			while (*p == ' ')
				p++;
		}
	}
	for (; *p && o < sizeof(text) - 2; p++) {
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			continue;
		if (*p == '%')
			text[o++] = '%';
		text[o++] = *p;
	}
	text[o] = '\0';
	if (o == 0)
		snprintf(text, sizeof(text), "ARC validation failure");
	if (smfi_setreply(ctx, code, xcode, text) != MI_SUCCESS)
		mlog(LOG_WARNING, "smfi_setreply %s %s failed", code, xcode);
}

/* Inserts one complete CRLF field at index 0. */
static int
insert_field(SMFICTX *ctx, struct conn *c, const char *field)
{
	char	*f, *colon, *value;
	size_t	 n;
	int	 r;

	/* libmilter wants LF line ends; the MTA adds CRs itself */
	if ((f = arc_field_lines(field, 0, NULL)) == NULL)
		return -1;
	n = strlen(f);
	while (n > 0 && (f[n - 1] == '\n' || f[n - 1] == '\r'))
		f[--n] = '\0';
	if ((colon = strchr(f, ':')) == NULL) {
		free(f);
		return -1;
	}
	*colon = '\0';
	value = colon + 1;
	/* without SMFIP_HDR_LEADSPC the MTA writes "Name: " itself */
	if (!c->leadspc)
		while (*value == ' ' || *value == '\t')
			value++;
	r = smfi_insheader(ctx, 0, f, value);
	free(f);
	return r == MI_SUCCESS ? 0 : -1;
}

static sfsistat
cb_eom(SMFICTX *ctx)
{
	struct conn		*c = conn_get(ctx);
	const arc_actions	*a;
	sfsistat		 ret = SMFIS_ACCEPT;
	int			 r, i;

	if (c == NULL || session_begin(ctx, c) != 0)
		return give_up(ctx, c, "cannot start a session");
	lock();
	r = arc_session_eom(c->ss);
	unlock();
	if (r == ARC_SESSION_PENDING)
		wait_session(c->ss);
	lock();
	a = arc_session_actions(c->ss);
	unlock();
	/* the actions belong to this connection's session: no lock needed
	 * to read them, and none is held while talking to the MTA */
	if (a->reject) {
		set_reply(ctx, a->smtp_reply, "550", "5.7.29");
		ret = SMFIS_REJECT;
	} else if (a->tempfail) {
		set_reply(ctx, a->smtp_reply, "451", "4.3.0");
		ret = SMFIS_TEMPFAIL;
	} else {
		/* each insert at 0 lands above the one before: last first */
		for (i = a->nfields - 1; i >= 0; i--)
			if (insert_field(ctx, c, a->fields[i]) != 0) {
				char	 qid[160], f[40], qf[96];

				snprintf(f, sizeof(f), "%.*s", (int)strcspn(
				    a->fields[i], ":"), a->fields[i]);
				mlog(LOG_ERR, "id=%s error=insert field=%s",
				    arc_log_value(c->id, qid, sizeof(qid)),
				    arc_log_value(f, qf, sizeof(qf)));
			}
	}
	session_end(c);
	return ret;
}

static sfsistat
cb_abort(SMFICTX *ctx)
{
	struct conn	*c = smfi_getpriv(ctx);

	if (c != NULL)
		session_end(c);
	return SMFIS_CONTINUE;
}

static sfsistat
cb_close(SMFICTX *ctx)
{
	struct conn	*c = smfi_getpriv(ctx);

	if (c != NULL) {
		session_end(c);
		free(c->helo);
		free(c->mail_from);
		free(c);
		smfi_setpriv(ctx, NULL);
		pthread_mutex_lock(&counter_lock);
		nactive--;
		pthread_mutex_unlock(&counter_lock);
	}
	return SMFIS_CONTINUE;
}

struct smfiDesc milter_desc = {
	.xxfi_name = "arc-milter",
	.xxfi_version = SMFI_VERSION,
	.xxfi_flags = SMFIF_ADDHDRS,
	.xxfi_connect = cb_connect,
	.xxfi_helo = cb_helo,
	.xxfi_envfrom = cb_envfrom,
	.xxfi_envrcpt = cb_envrcpt,
	.xxfi_header = cb_header,
	.xxfi_eoh = cb_eoh,
	.xxfi_body = cb_body,
	.xxfi_eom = cb_eom,
	.xxfi_abort = cb_abort,
	.xxfi_close = cb_close,
	.xxfi_unknown = NULL,
	.xxfi_data = NULL,
	.xxfi_negotiate = cb_negotiate,
};

/* ---- the live configuration ---------------------------------------- */

/* The adapter's options the callbacks use; adapter_lock held. */
static int
take_options(const arc_conf *c, char *err, size_t errlen)
{
	const char	*v = arc_conf_get(c, "message-timeout");
	char		*end;
	long		 t;

	errno = 0;
	t = v ? strtol(v, &end, 10) : -1;
	/* arc.conf range-checks it; the bound is checked again here
	 * because milliseconds are added to clock values */
	if (v == NULL || errno || *end != '\0' || t < 1 || t > 3600000) {
		snprintf(err, errlen, "message-timeout %s out of range",
		    v ? v : "(unset)");
		return -1;
	}
	message_timeout = t;
	on_error_tempfail = strcmp(arc_conf_get(c, "on-error"),
	    "tempfail") == 0;
	return 0;
}

int
milter_start(arc_runtime *r, char *err, size_t errlen)
{
	int	 ret;

	lock();
	rt = r;
	ret = take_options(arc_runtime_conf(rt), err, errlen);
	unlock();
	return ret;
}

int
milter_reload(char *err, size_t errlen)
{
	int	 ret = -1;

	lock();
	/* the new adapter is complete before it replaces the old one */
	if (rt == NULL)
		snprintf(err, errlen, "stopping");
	else if (arc_runtime_reload(rt, err, errlen) == 0) {
		if (take_options(arc_runtime_conf(rt), err, errlen) != 0)
			mlog(LOG_WARNING, "reload: %s: keeping the earlier "
			    "timeouts", err);
		/* metrics-file, metrics-listen as the new file says */
		if (arc_metrics_start(arc_runtime_conf(rt), milter_adapter_log,
		    NULL, err, errlen) != 0)
			mlog(LOG_WARNING, "reload: %s: metrics off", err);
		ret = 0;
	}
	unlock();
	return ret;
}

unsigned
milter_generation(void)
{
	unsigned	 g;

	lock();
	g = rt ? arc_runtime_generation(rt) : 0;
	unlock();
	return g;
}

unsigned long
milter_active(void)
{
	unsigned long	 n;

	pthread_mutex_lock(&counter_lock);
	n = nactive;
	pthread_mutex_unlock(&counter_lock);
	return n;
}

void
milter_stop(void)
{
	lock();
	arc_runtime_free(rt);
	rt = NULL;
	unlock();
}
