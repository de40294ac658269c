/*
 * filter_arc.c - filter-arc(8): ARC (RFC 8617) for OpenSMTPD, as a
 * proc-exec filter speaking the filter protocol (0.6, 0.7) on stdin and
 * stdout.
 *
 *   filter "arc" proc-exec "/usr/libexec/opensmtpd/filter-arc -c FILE"
 *
 * Contract:
 *  - One process serves every SMTP session: a poll(2) loop over stdin,
 *    stdout and the resolvers' descriptors.  Nothing blocks: output goes
 *    through a queue (fa_out), key lookups run in the adapter layer's
 *    asynchronous DNS, and each message gets a bounded slice of feeding
 *    and replaying per loop turn (fa_msg), so a slow domain or a costly
 *    message delays only itself.
 *  - This file: the protocol handlers, the session sweep, signals and
 *    options; input is fa_in, -n is fa_check.  Sessions are fa_ssn, messages fa_msg,
 *    their spools fa_spool; arc.conf and its reloads are arc_runtime.
 *  - Never loses mail, never takes smtpd down (smtpd exits when its
 *    filter exits: "lost processor"): an internal error passes the
 *    message on with a log line; a malformed input line is logged; no
 *    signal ends the process (SIGHUP reloads arc.conf, the others are
 *    logged and ignored, see filter-arc(8) SIGNALS).  The process exits
 *    only when stdin reaches EOF (smtpd stopping), or at start-up when
 *    the configuration is unusable (smtpd then refuses to start, which
 *    is where an operator wants to hear about it; -n finds it first).
 *  - Every number from smtpd is range-checked before use.
 *  - Logs to stderr (smtpd's log): one line per message.
 */
#include <sys/types.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arc_reload.h"
#include "arc_stats.h"
#include "fa_check.h"
#include "fa_in.h"
#include "fa_log.h"
#include "fa_msg.h"
#include "fa_out.h"
#include "fa_ssn.h"
#include "smtpd_proto.h"

#define DEFAULT_CONF	"/etc/mail/arc.conf"
#define OUT_MAX		(8 * 1024 * 1024)	/* stop reading above this */
#define TICK_MS		100
#define IDLE_DEFAULT_MS	600000LL	/* twice smtpd's default timeout */
#define SESSION_TIMEOUT_MAX	604800LL	/* s: a week */
#define MAX_DNS_FDS	16

static volatile sig_atomic_t	got_hup, got_usr1, got_usr2, got_alrm, got_term;

static struct {
	const char	*confpath;
	arc_runtime	*rt;
	int		 debug, ready, eof;
	long long	 idle_ms, last_sweep;
	char		*admd;
} g;

static arc_adapter *
adapter(void)
{
	return g.rt ? arc_runtime_adapter(g.rt) : NULL;
}

/* message-timeout of the current configuration, range-checked. */
static void
apply_conf(void)
{
	const char	*v = arc_conf_get(arc_runtime_conf(g.rt),
			    "message-timeout");
	char		*end, err[320];
	long		 t = 10000;

	if (v != NULL) {
		errno = 0;
		t = strtol(v, &end, 10);
		if (errno != 0 || *end != '\0' || t < 1 || t > 3600000) {
			fa_log(ARC_LOG_WARNING, "message-timeout %s out of "
			    "range (1..3600000 ms), using 10000", v);
			t = 10000;
		}
	}
	fa_msg_set_timeout(t);
	fa_log_set(adapter(), g.debug);
	/* metrics-file, metrics-interval (arc_stats.h): never fatal here,
	 * where an exit would take smtpd down */
	if (arc_stats_configure(arc_runtime_conf(g.rt), ARC_STATS_REPLACE,
	    err, sizeof(err)) != 0)
		fa_log(ARC_LOG_ERR, "%s", err);
}

static void
echo_dataline(const struct smtpd_line *l)
{
	char	sid[SMTPD_ID_MAX + 1], tok[SMTPD_ID_MAX + 1];

	snprintf(sid, sizeof(sid), "%.*s", (int)l->session.len, l->session.p);
	snprintf(tok, sizeof(tok), "%.*s", (int)l->token.len, l->token.p);
	fa_out_dataline(sid, tok, l->rest.p, l->rest.len);
}

/* ---- protocol handlers ------------------------------------------------------ */

/* 1 if the line must be given again later (fa_msg_dataline). */
static int
on_dataline(const struct smtpd_line *l)
{
	struct fa_ssn	*s;
	struct fa_msg	*m;

	/* a session we do not track (over the bounds, or its
	 * link-disconnect overtook these lines) passes through */
	if ((s = fa_ssn_find(l->session)) == NULL) {
		echo_dataline(l);
		return 0;
	}
	if (s->pass_tok[0] != '\0' && smtpd_eq(l->token, s->pass_tok)) {
		/* its message could not be created: all of it passes
		 * through, never a "message" started mid-body */
		echo_dataline(l);
		if (smtpd_is_eom(l->rest))
			s->pass_tok[0] = '\0';
		return 0;
	}
	s->seen = fa_now_ms();
	m = s->msg;
	if (m != NULL && m->state == FA_COMMIT) {
		/* the commit phase never came for the last one */
		fa_msg_free(m);
		m = NULL;
	}
	if (m == NULL && (m = fa_msg_new(s, l->token, adapter())) == NULL) {
		/* no memory for state: this message passes through */
		fa_log(ARC_LOG_WARNING, "session=%s passed on unchanged: out "
		    "of memory for the message", s->id);
		echo_dataline(l);
		if (!smtpd_is_eom(l->rest) && l->token.len < sizeof(s->pass_tok))
			snprintf(s->pass_tok, sizeof(s->pass_tok), "%.*s",
			    (int)l->token.len, l->token.p);
		return 0;
	}
	return fa_msg_dataline(m, l->rest);
}

static void
on_commit(const struct smtpd_line *l)
{
	struct fa_ssn	*s = fa_ssn_find(l->session);
	struct fa_msg	*m = s ? s->msg : NULL;
	char		 sid[SMTPD_ID_MAX + 1], tok[SMTPD_ID_MAX + 1];

	snprintf(sid, sizeof(sid), "%.*s", (int)l->session.len, l->session.p);
	snprintf(tok, sizeof(tok), "%.*s", (int)l->token.len, l->token.p);
	if (m != NULL && m->state != FA_COMMIT) {
		fa_log(ARC_LOG_ERR, "session=%s: commit before the end of "
		    "the message", sid);
		m = NULL;
	}
	fa_out_result(sid, tok, m ? m->reply : NULL);
	if (m != NULL)
		fa_msg_free(m);
}

static int
on_filter(const struct smtpd_line *l)
{
	char	sid[SMTPD_ID_MAX + 1], tok[SMTPD_ID_MAX + 1];

	if (smtpd_eq(l->event, "data-line"))
		return on_dataline(l);
	if (smtpd_eq(l->event, "commit")) {
		on_commit(l);
		return 0;
	}
	/* a phase we did not ask for: let it through rather than hang */
	fa_log(ARC_LOG_WARNING, "unexpected filter phase %.*s, proceeding",
	    (int)(l->event.len < 64 ? l->event.len : 64), l->event.p);
	snprintf(sid, sizeof(sid), "%.*s", (int)l->session.len, l->session.p);
	snprintf(tok, sizeof(tok), "%.*s", (int)l->token.len, l->token.p);
	fa_out_result(sid, tok, NULL);
	return 0;
}

static void
ssn_end(struct fa_ssn *s)
{
	if (s->msg != NULL)
		fa_msg_free(s->msg);
	fa_ssn_free(s);
}

static void
on_tx_end(struct fa_ssn *s)
{
	fa_ssn_clear_rcpts(s);
	fa_ssn_set_mail_from(s, (struct smtpd_str){ NULL, 0 });
	s->msgid[0] = '\0';
	s->overflow = 0;	/* the next transaction starts afresh */
	s->pass_tok[0] = '\0';
	/* a message still being received or written stays: smtpd waits
	 * for its "." */
	if (s->msg != NULL && s->msg->state == FA_COMMIT)
		fa_msg_free(s->msg);
}

static void
on_report(const struct smtpd_line *l)
{
	struct smtpd_str	 res, addr;
	struct fa_ssn		*s;
	const struct smtpd_str	*p = l->params;
	const char		*kept;

	if (!smtpd_eq(l->subsystem, "smtp-in"))
		return;
	if (smtpd_eq(l->event, "link-connect")) {
		if ((s = fa_ssn_new(l->session)) == NULL)
			return;
		if (l->nparams < 3 ||
		    smtpd_parse_addr(p[2], s->ip, sizeof(s->ip)) == -1)
			s->ip[0] = '\0';
		return;
	}
	if ((s = fa_ssn_find(l->session)) == NULL)
		return;
	s->seen = fa_now_ms();
	if (smtpd_eq(l->event, "link-disconnect"))
		ssn_end(s);
	else if (smtpd_eq(l->event, "link-identify"))
		fa_ssn_set_helo(s, l->nparams > 0 ? p[l->nparams - 1] :
		    (struct smtpd_str){ NULL, 0 });
	else if (smtpd_eq(l->event, "tx-begin")) {
		fa_ssn_clear_rcpts(s);
		fa_ssn_set_mail_from(s, (struct smtpd_str){ NULL, 0 });
		snprintf(s->msgid, sizeof(s->msgid), "%.*s",
		    l->nparams > 0 && p[0].len < sizeof(s->msgid) ?
		    (int)p[0].len : 0, l->nparams > 0 ? p[0].p : "");
	} else if (smtpd_eq(l->event, "tx-mail")) {
		if (smtpd_tx_addr(l, &res, &addr) == 0 && smtpd_eq(res, "ok"))
			fa_ssn_set_mail_from(s, addr);
		else
			fa_ssn_set_mail_from(s, (struct smtpd_str){ NULL, 0 });
	} else if (smtpd_eq(l->event, "tx-rcpt")) {
		if (smtpd_tx_addr(l, &res, &addr) == 0 &&
		    smtpd_eq(res, "ok") &&
		    (kept = fa_ssn_add_rcpt(s, addr)) != NULL &&
		    s->msg != NULL)
			fa_msg_rcpt(s->msg, kept);
	} else if (smtpd_eq(l->event, "tx-reset") ||
	    smtpd_eq(l->event, "tx-rollback"))
		on_tx_end(s);
}

static void
setup(void)
{
	char	err[512];

	/* a successful arc_runtime_set() frees the adapter fa_log uses:
	 * the new one is set at once */
	/* smtpd's admd only where arc.conf sets no authserv-id, now and
	 * after every reload */
	if (arc_conf_get(arc_runtime_conf(g.rt), "authserv-id") == NULL &&
	    g.admd != NULL) {
		if (arc_runtime_set_default(g.rt, "authserv-id", g.admd, err,
		    sizeof(err)) != 0)
			fa_log(ARC_LOG_WARNING, "admd %s not usable as "
			    "authserv-id: %s", g.admd, err);
		else
			fa_log_set(adapter(), g.debug);
	}
	if (g.debug) {
		if (arc_runtime_set(g.rt, "log-level", "debug", err,
		    sizeof(err)) != 0)
			fa_log(ARC_LOG_WARNING, "-d: %s", err);
		else
			fa_log_set(adapter(), g.debug);
	}
	apply_conf();
	fa_out_str("register|report|smtp-in|*\n");
	fa_out_str("register|filter|smtp-in|data-line\n");
	fa_out_str("register|filter|smtp-in|commit\n");
	fa_out_str("register|ready\n");
	g.ready = 1;
	fa_log(ARC_LOG_INFO, "ready, authserv-id %s",
	    arc_conf_get(arc_runtime_conf(g.rt), "authserv-id") ?
	    arc_conf_get(arc_runtime_conf(g.rt), "authserv-id") :
	    "(host name)");
}

/* smtp-session-timeout: smtpd's idle limit in seconds.  A session we
 * hear nothing about for twice as long is gone; the number is checked
 * before it is multiplied. */
static void
on_session_timeout(struct smtpd_str v)
{
	char		 buf[32], *end;
	long long	 t;

	if (v.p != NULL && v.len > 0 && v.len < sizeof(buf)) {
		memcpy(buf, v.p, v.len);
		buf[v.len] = '\0';
		errno = 0;
		t = strtoll(buf, &end, 10);
		if (errno == 0 && *end == '\0' && t >= 1 &&
		    t <= SESSION_TIMEOUT_MAX) {
			g.idle_ms = 2000 * t;
			return;
		}
	}
	fa_log(ARC_LOG_WARNING, "config|smtp-session-timeout|%.*s: not a "
	    "number of seconds in 1..%lld, ignored (sessions are forgotten "
	    "after %lld s of silence)", (int)(v.len < 40 ? v.len : 40),
	    v.p ? v.p : "", SESSION_TIMEOUT_MAX, g.idle_ms / 1000);
}

static void
on_config(const struct smtpd_line *l)
{
	if (smtpd_eq(l->key, "admd") && l->value.p != NULL) {
		free(g.admd);
		g.admd = strndup(l->value.p, l->value.len);
	} else if (smtpd_eq(l->key, "smtp-session-timeout"))
		on_session_timeout(l->value);
	else if (smtpd_eq(l->key, "ready") && !g.ready)
		setup();
}

/* A line that did not parse.  A data-line with a NUL is still a
 * data-line: smtpd itself would have seen only the part before it.
 * on_dataline() also echoes it for a session we do not track. */
static int
on_malformed(const char *line, size_t len, const char *why)
{
	struct smtpd_line	l;
	size_t			n = strnlen(line, len);

	if (!fa_in_redo())
		fa_log(ARC_LOG_ERR, "malformed line from smtpd (%s): %.*s",
		    why, (int)(len < 200 ? len : 200), line);
	if (n < len && smtpd_parse(line, n, &l) == SMTPD_FILTER &&
	    smtpd_eq(l.event, "data-line"))
		return on_dataline(&l);
	return 0;
}

/* 1 if the line must be given again later. */
static int
handle_line(const char *line, size_t len)
{
	struct smtpd_line	l;

	if (g.debug && !fa_in_redo())
		fa_log(ARC_LOG_DEBUG, "< %.*s", (int)(len < 300 ? len : 300),
		    line);
	switch (smtpd_parse(line, len, &l)) {
	case SMTPD_CONFIG:
		on_config(&l);
		return 0;
	case SMTPD_REPORT:
		on_report(&l);
		return 0;
	case SMTPD_FILTER:
		return on_filter(&l);
	default:
		return on_malformed(line, len, l.error);
	}
}

/* ---- the sweep -------------------------------------------------------------- */

static long long
sweep_interval(void)
{
	long long	i = g.idle_ms / 2;

	return i < 1000 ? 1000 : i > 60000 ? 60000 : i;
}

/* Only a session with no message is ever forgotten: one whose
 * link-disconnect we missed.  A session with a message (arriving,
 * waiting for keys, being written back, waiting for its commit) is
 * smtpd's to end: it sends link-disconnect when the client goes or
 * times out, and freeing the message earlier would lose the lines it
 * holds. */
static void
sweep_one(struct fa_ssn *s, void *arg)
{
	long long	now = *(long long *)arg;

	if (s->msg != NULL || now - s->seen < g.idle_ms)
		return;
	fa_log(ARC_LOG_DEBUG, "session=%s: idle %lld ms, forgotten", s->id,
	    now - s->seen);
	ssn_end(s);
}

static void
sweep(void)
{
	long long	now = fa_now_ms();

	if (now - g.last_sweep < sweep_interval())
		return;
	g.last_sweep = now;
	fa_ssn_foreach(sweep_one, &now);
}

/* ---- signals ---------------------------------------------------------------- */

static void
on_signal(int sig)
{
	switch (sig) {
	case SIGHUP:
		got_hup = 1;
		break;
	case SIGUSR1:
		got_usr1 = 1;
		break;
	case SIGUSR2:
		got_usr2 = 1;
		break;
	case SIGALRM:
		got_alrm = 1;
		break;
	default:
		got_term = sig;
		break;
	}
}

/* Handlers only set flags; the loop acts on them between polls, with
 * the signals blocked except inside ppoll(), so none is missed. */
static void
signals_setup(sigset_t *waitmask)
{
	static const int	 sigs[] = { SIGHUP, SIGUSR1, SIGUSR2, SIGALRM,
				     SIGTERM, SIGINT, SIGQUIT };
	struct sigaction	 sa;
	sigset_t		 block;
	size_t			 i;

	sigemptyset(&block);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&block, sigs[i]);
	sigprocmask(SIG_BLOCK, &block, waitmask);
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigdelset(waitmask, sigs[i]);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sa.sa_mask = block;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
	/* a vanished smtpd shows as a write error, a too large spool
	 * file as EFBIG: neither as a signal that ends us */
	signal(SIGPIPE, SIG_IGN);
	signal(SIGXFSZ, SIG_IGN);
}

static void
reload(void)
{
	char		err[512];
	unsigned	gen = arc_runtime_generation(g.rt);

	if (arc_runtime_reload(g.rt, err, sizeof(err)) != 0) {
		fa_log(ARC_LOG_ERR, "SIGHUP: reload of %s failed, the running "
		    "configuration (generation %u) stays in use: %s",
		    g.confpath ? g.confpath : "built-in defaults", gen, err);
		return;
	}
	apply_conf();
	fa_log(ARC_LOG_INFO, "SIGHUP: %s reloaded (generation %u); new "
	    "messages use it, %zu message(s) in flight finish with the "
	    "previous one", g.confpath ? g.confpath : "built-in defaults",
	    arc_runtime_generation(g.rt), fa_msg_count());
}

static void
status(void)
{
	fa_log(ARC_LOG_INFO, "SIGUSR1: status: sessions=%zu "
	    "session-bytes=%zu messages=%zu spool-memory=%zu "
	    "header-bytes=%zu output-queued=%zu generation=%u",
	    fa_ssn_count(), fa_ssn_bytes(), fa_msg_count(),
	    fa_spool_mem_total(), fa_msg_header_bytes(),
	    fa_out_pending(), arc_runtime_generation(g.rt));
}

static void
signals_act(void)
{
	int	sig;

	if (got_hup) {
		got_hup = 0;
		reload();
	}
	if (got_usr1) {
		got_usr1 = 0;
		status();
	}
	if (got_usr2) {
		got_usr2 = 0;
		fa_log(ARC_LOG_INFO, "SIGUSR2 ignored");
	}
	if (got_alrm) {
		/* the filter sets no alarm: one is from outside */
		got_alrm = 0;
		fa_log(ARC_LOG_INFO, "SIGALRM ignored");
	}
	if ((sig = got_term) != 0) {
		got_term = 0;
		fa_log(ARC_LOG_WARNING, "%s ignored: filter-arc ends when "
		    "smtpd closes its input, and smtpd cannot run without it "
		    "(stop smtpd instead)", sig == SIGTERM ? "SIGTERM" :
		    sig == SIGINT ? "SIGINT" : "SIGQUIT");
	}
}

/* ---- main ------------------------------------------------------------------- */

static void
usage(void)
{
	fprintf(stderr, "usage: filter-arc [-dn] [-c arc.conf] [-g group] "
	    "[-H max-header-bytes] [-M max-session-bytes] [-S max-sessions] "
	    "[-u user]\n");
	exit(64);
}

/* A positive number with an optional k, m or g suffix, at most max. */
static size_t
num_opt(int opt, const char *v, unsigned long long max)
{
	unsigned long long	 n;
	char			*end;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (*end == 'k' || *end == 'K')
		n = n > max / 1024 ? max + 1 : n * 1024, end++;
	else if (*end == 'm' || *end == 'M')
		n = n > max >> 20 ? max + 1 : n << 20, end++;
	else if (*end == 'g' || *end == 'G')
		n = n > max >> 30 ? max + 1 : n << 30, end++;
	if (errno != 0 || end == v || *end != '\0' || *v == '-' || n == 0 ||
	    n > max) {
		fprintf(stderr, "filter-arc: -%c %s: not a number in 1..%llu\n",
		    opt, v, max);
		exit(64);
	}
	return (size_t)n;
}

/* At EOF: everything freed, so leak checkers see only real leaks. */
static void
end_one(struct fa_ssn *s, void *arg)
{
	(void)arg;
	ssn_end(s);
}

static void
shutdown_all(void)
{
	fa_ssn_foreach(end_one, NULL);
	fa_log_set(NULL, g.debug);
	arc_runtime_free(g.rt);
	free(g.admd);
	fa_in_free();
	fa_out_free();
}

static void
loop(const sigset_t *waitmask)
{
	struct pollfd	pfd[2 + MAX_DNS_FDS];
	struct timespec	ts, *tsp;
	int		dnsfd[MAX_DNS_FDS], busy, dnsready;
	size_t		ndns, i;
	long long	timeout, retry;
	char		err[320];

	while (!g.eof && !fa_out_closed()) {
		signals_act();
		busy = fa_msg_work();
		if (fa_in_held() && !fa_msg_holding()) {
			/* the kept lines are out: the waiting line next */
			fa_in_resume();
			busy = 1;
		}
		retry = fa_in_retry_ms();
		ndns = arc_runtime_dns_fds(g.rt, dnsfd, MAX_DNS_FDS);
		pfd[0].fd = fa_out_pending() < OUT_MAX && !fa_in_held() &&
		    retry == 0 ? STDIN_FILENO : -1;
		pfd[0].events = POLLIN;
		pfd[1].fd = fa_out_pending() > 0 ? STDOUT_FILENO : -1;
		pfd[1].events = POLLOUT;
		for (i = 0; i < ndns; i++) {
			pfd[2 + i].fd = dnsfd[i];
			pfd[2 + i].events = POLLIN;
		}
		for (i = 0; i < 2 + ndns; i++)
			pfd[i].revents = 0;
		/* work left: just look; waiting messages: a tick, DNS
		 * timeouts are polled; sessions: the sweep */
		timeout = busy ? 0 : fa_msg_any_waiting() ? TICK_MS :
		    fa_ssn_count() > 0 ? sweep_interval() : -1;
		if (retry != 0 && (timeout < 0 || timeout > retry))
			timeout = retry;	/* input to try again */
		timeout = arc_stats_poll_ms(timeout);	/* metrics due */
		if (timeout >= 0) {
			ts.tv_sec = timeout / 1000;
			ts.tv_nsec = (timeout % 1000) * 1000000;
			tsp = &ts;
		} else
			tsp = NULL;
		if (ppoll(pfd, 2 + ndns, tsp, waitmask) == -1) {
			if (errno != EINTR)
				fa_log(ARC_LOG_ERR, "poll: %s",
				    strerror(errno));
			continue;
		}
		if (pfd[1].revents)
			fa_out_flush(0);
		if (pfd[0].revents && fa_in_read() != 0)
			g.eof = 1;
		for (dnsready = 0, i = 0; i < ndns; i++)
			dnsready |= pfd[2 + i].revents != 0;
		if (dnsready || fa_msg_any_waiting()) {
			arc_runtime_dns_process(g.rt);
			fa_msg_check_waiting();
		}
		sweep();
		if (arc_stats_tick(time(NULL), err, sizeof(err)) != 0)
			fa_log(ARC_LOG_ERR, "metrics: %s", err);
	}
}

int
main(int argc, char **argv)
{
	const char	*user = FILTER_ARC_USER, *group = NULL;
	sigset_t	 waitmask;
	char		 err[512];
	int		 ch, check = 0, fl, user_given = 0;
	size_t		 max_ssn = FA_MAX_SESSIONS;
	size_t		 max_bytes = FA_MAX_SESSION_BYTES;

	while ((ch = getopt(argc, argv, "c:dg:H:M:nS:u:")) != -1) {
		switch (ch) {
		case 'c':
			g.confpath = optarg;
			break;
		case 'd':
			g.debug = 1;
			break;
		case 'g':
			group = optarg;
			break;
		case 'H':
			fa_msg_set_header_limit(num_opt(ch, optarg,
			    1ULL << 40));
			break;
		case 'M':
			max_bytes = num_opt(ch, optarg, 1ULL << 40);
			break;
		case 'n':
			check = 1;
			break;
		case 'S':
			max_ssn = num_opt(ch, optarg, 10000000);
			break;
		case 'u':
			user = optarg;
			user_given = 1;
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (check) {
		if (g.confpath == NULL && access(DEFAULT_CONF, F_OK) == 0)
			g.confpath = DEFAULT_CONF;
		return fa_check_conf(g.confpath, user, group, user_given);
	}
	signals_setup(&waitmask);
	fa_ssn_limits(max_ssn, max_bytes);
	g.idle_ms = IDLE_DEFAULT_MS;
	g.last_sweep = fa_now_ms();
	if (g.confpath == NULL && access(DEFAULT_CONF, F_OK) == 0)
		g.confpath = DEFAULT_CONF;
	if ((g.rt = arc_runtime_create(g.confpath, fa_log_cb, NULL, err,
	    sizeof(err))) == NULL) {
		fa_print_conf_error(g.confpath, err, NULL);
		return 1;
	}
	apply_conf();
	fa_in_init(handle_line);
	/* stdin and stdout are one socket: this makes both non-blocking */
	if ((fl = fcntl(STDOUT_FILENO, F_GETFL)) != -1)
		(void)fcntl(STDOUT_FILENO, F_SETFL, fl | O_NONBLOCK);
	if ((fl = fcntl(STDIN_FILENO, F_GETFL)) != -1)
		(void)fcntl(STDIN_FILENO, F_SETFL, fl | O_NONBLOCK);
	loop(&waitmask);
	shutdown_all();
	return 0;
}
