/*
 * fa_msg.c - filter-arc's messages: spool, feed, verdict, replay.
 *
 * Contract: see fa_msg.h.  Calls fa_spool, fa_out, fa_log, smtpd_proto
 * and the adapter layer; the session module only as data (the session
 * owns a pointer to its message, and frees nothing of it).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arc_stats.h"
#include "fa_log.h"
#include "fa_msg.h"
#include "fa_out.h"

#define ON_FEED		1
#define ON_WAIT		2
#define ON_REPLAY	4

#define DAMAGED_REPLY	"451 4.3.0 Temporary local problem, message " \
			"damaged in filter-arc, please try again"

struct queue {
	struct fa_msg	*head, *tail;
};

static struct {
	long		 timeout;
	size_t		 n;
	size_t		 pass_replays;	/* messages holding input back */
	size_t		 hdr_total, hdr_max;	/* header bytes in the adapter */
	struct queue	 feed;		/* via fnext */
	struct fa_msg	*waiting;	/* via next */
	struct queue	 replay;	/* via next */
} q = { .timeout = 10000, .hdr_max = FA_HEADER_TOTAL };

static struct smtpd_str
S(const char *s)
{
	struct smtpd_str r = { s, strlen(s) };

	return r;
}

void
fa_msg_set_timeout(long ms)
{
	q.timeout = ms;
}

void
fa_msg_set_header_limit(size_t bytes)
{
	q.hdr_max = bytes;
}

size_t
fa_msg_header_bytes(void)
{
	return q.hdr_total;
}

/* The adapter session goes, and the header bytes it held with it. */
static void
drop_session(struct fa_msg *m)
{
	arc_session_free(m->as);
	m->as = NULL;
	q.hdr_total -= m->hdr_bytes;
	m->hdr_bytes = 0;
}

size_t
fa_msg_count(void)
{
	return q.n;
}

int
fa_msg_any_waiting(void)
{
	return q.waiting != NULL;
}

/* ---- the lists ------------------------------------------------------------ */

/* One queue implementation for both lists: the feed list links
 * through fnext, the replay list through next (a message is on the
 * replay list only when it is on no waiting list). */
static struct fa_msg **
link_of(struct fa_msg *m, int list)
{
	return list == ON_FEED ? &m->fnext : &m->next;
}

static void
queue_push(struct queue *qu, int list, struct fa_msg *m)
{
	if (m->lists & list)
		return;
	m->lists |= list;
	*link_of(m, list) = NULL;
	if (qu->tail != NULL)
		*link_of(qu->tail, list) = m;
	else
		qu->head = m;
	qu->tail = m;
}

static void
queue_remove(struct queue *qu, int list, struct fa_msg *m)
{
	struct fa_msg	**pp, *prev = NULL;

	if (!(m->lists & list))
		return;
	for (pp = &qu->head; *pp != NULL; prev = *pp, pp = link_of(*pp, list))
		if (*pp == m) {
			*pp = *link_of(m, list);
			if (qu->tail == m)
				qu->tail = prev;
			break;
		}
	*link_of(m, list) = NULL;
	m->lists &= ~list;
}

#define feed_push(m)		queue_push(&q.feed, ON_FEED, (m))
#define feed_remove(m)		queue_remove(&q.feed, ON_FEED, (m))
#define replay_push(m)		queue_push(&q.replay, ON_REPLAY, (m))
#define replay_remove(m)	queue_remove(&q.replay, ON_REPLAY, (m))

static void
wait_remove(struct fa_msg *m)
{
	struct fa_msg	**pp;

	if (!(m->lists & ON_WAIT))
		return;
	for (pp = &q.waiting; *pp != NULL; pp = &(*pp)->next)
		if (*pp == m) {
			*pp = m->next;
			break;
		}
	m->next = NULL;
	m->lists &= ~ON_WAIT;
}

/* ---- life ----------------------------------------------------------------- */

void
fa_msg_free(struct fa_msg *m)
{
	feed_remove(m);
	wait_remove(m);
	replay_remove(m);
	if (m->pass_replay)
		q.pass_replays--;
	if (m->ssn != NULL && m->ssn->msg == m)
		m->ssn->msg = NULL;
	drop_session(m);
	fa_spool_free(&m->sp);
	fa_cursor_free(&m->feed);
	fa_cursor_free(&m->replay);
	free(m->reply);
	free(m);
	q.n--;
}

static void
ready_cb(arc_session *as, void *arg)
{
	struct fa_msg	*m = arg;

	(void)as;
	m->ready = 1;
}

struct fa_msg *
fa_msg_new(struct fa_ssn *s, struct smtpd_str tok, arc_adapter *ad)
{
	struct fa_msg		*m;
	arc_session_params	 p;
	size_t			 i;

	if (tok.len > SMTPD_ID_MAX || (m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	q.n++;
	m->ssn = s;
	fa_spool_init(&m->sp);
	fa_cursor_init(&m->feed);
	fa_cursor_init(&m->replay);
	memcpy(m->tok, tok.p, tok.len);
	m->tok[tok.len] = '\0';
	snprintf(m->id, sizeof(m->id), "%s", s->msgid[0] ? s->msgid : s->id);
	memset(&p, 0, sizeof(p));
	p.id = m->id;
	p.client_ip = s->ip[0] ? s->ip : NULL;
	p.helo = s->helo;
	p.mail_from = s->mail_from;
	p.seal = -1;
	p.quiet = 1;	/* our own summary line replaces the adapter's */
	/* smtpd writes no Authentication-Results: one of our authserv-id
	 * in the message came from outside (aar-from-message, arc.conf) */
	p.no_message_ar = 1;
	m->state = FA_DATA;
	if (s->overflow) {
		fa_log(ARC_LOG_WARNING, "session=%s id=%s passed through "
		    "untouched: the session outgrew max-session-bytes or "
		    "its recipient limits", s->id, m->id);
		m->state = FA_PASS;
		arc_stats_passthrough();
	} else if (ad == NULL || (m->as = arc_session_create(ad, &p)) ==
	    NULL) {
		fa_log(ARC_LOG_WARNING, "session=%s id=%s passed on "
		    "unchanged: %s", s->id, m->id, ad ? "out of memory" :
		    "not configured");
		m->state = FA_PASS;
		arc_stats_passthrough();
	} else {
		arc_session_set_ready_cb(m->as, ready_cb, m);
		for (i = 0; i < s->nrcpt; i++)
			arc_session_rcpt(m->as, s->rcpt[i]);
	}
	s->msg = m;
	return m;
}

void
fa_msg_rcpt(struct fa_msg *m, const char *rcpt)
{
	if (m->as != NULL && m->state == FA_DATA && !m->eom)
		arc_session_rcpt(m->as, rcpt);
}

/* ---- pass-through ------------------------------------------------------ */

/* The message cannot be given back whole: refuse it at commit. */
static void
damaged(struct fa_msg *m, const char *what)
{
	fa_log(ARC_LOG_ERR, "session=%s id=%s: message damaged: %s; it is "
	    "refused with a 451 at commit (the client will retry), not "
	    "delivered damaged", m->ssn->id, m->id, what);
	free(m->reply);
	m->reply = strdup(DAMAGED_REPLY);
}

/* Internal error mid-message: nothing is added; what was kept goes
 * out through the replay queue, in slices like any replay (the output
 * limit holds), then the rest is echoed as it comes.  Until the replay
 * is done, later lines join the spool, or, if it takes no more,
 * fa_msg_dataline() holds them back. */
static void
passthru(struct fa_msg *m, const char *why)
{
	fa_log(ARC_LOG_WARNING, "session=%s id=%s passed on unchanged, not "
	    "sealed: %s", m->ssn->id, m->id, why);
	arc_stats_passthrough();
	feed_remove(m);
	fa_cursor_free(&m->feed);
	fa_cursor_free(&m->replay);
	drop_session(m);
	m->state = FA_PASS;
	m->pass_replay = 1;
	q.pass_replays++;
	replay_push(m);
}

/* ---- end of message: fields, replay, "." ------------------------------ */

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
emit_field(struct fa_msg *m, const char *text)
{
	size_t	n;

	while (*text != '\0') {
		n = strcspn(text, "\n");
		fa_out_dataline(m->ssn->id, m->tok, text, n);
		text += n + (text[n] == '\n');
	}
}

/* Writes the action fields above everything else; returns why the ARC
 * set was left out, or NULL. */
static const char *
emit_fields(struct fa_msg *m, const arc_actions *a)
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
			fa_log(ARC_LOG_WARNING, "session=%s id=%s: %.40s... "
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

/* The log line for a message whose ARC set was left out: the
 * adapter's summary with its "sealed=iN" made "sealed=no", and why, in
 * the key=value form of every adapter's lines. */
static void
log_dropped(struct fa_msg *m, const arc_actions *a, const char *why)
{
	const char	*sum = a->summary ? a->summary : "", *p, *end;
	char		 v[512];

	arc_log_value(why, v, sizeof(v));
	if ((p = strstr(sum, " sealed=i")) == NULL) {
		fa_log(ARC_LOG_INFO, "session=%s %s seal-dropped=%s",
		    m->ssn->id, sum, v);
		return;
	}
	end = p + 1 + strcspn(p + 1, " ");
	fa_log(ARC_LOG_INFO, "session=%s %.*s sealed=no%s seal-dropped=%s",
	    m->ssn->id, (int)(p - sum), sum, end, v);
}

/* The verdict is in (or given up on): fields out, replay queued, the
 * log line written. */
static void
output(struct fa_msg *m)
{
	const arc_actions	*a;
	const char		*dropped;

	a = arc_session_actions(m->as);
	dropped = emit_fields(m, a);
	if ((a->reject || a->tempfail) && (m->reply = strdup(a->smtp_reply ?
	    a->smtp_reply : "550 5.7.29 ARC validation failure")) == NULL)
		fa_log(ARC_LOG_ERR, "session=%s id=%s: out of memory, not "
		    "refused", m->ssn->id, m->id);
	if (dropped != NULL)
		log_dropped(m, a, dropped);
	else
		fa_log(a->error ? ARC_LOG_WARNING : ARC_LOG_INFO,
		    "session=%s %s%s", m->ssn->id, a->summary ? a->summary :
		    "", m->reply == NULL ? "" : a->reject ? " action=reject" :
		    " action=tempfail");
	m->state = FA_REPLAY;
	replay_push(m);
}

/* Replays up to FA_REPLAY_SLICE bytes; 1 when the whole message, "."
 * included, is out (a pass-through replay: when the kept lines are out;
 * its "." is smtpd's, echoed unless it came already). */
static int
replay_step(struct fa_msg *m)
{
	const char	*line;
	size_t		 len, done = 0;
	int		 r;
	char		 what[256];

	while (done < FA_REPLAY_SLICE && fa_out_pending() < FA_OUT_HIGH &&
	    (r = fa_cursor_line(&m->sp, &m->replay, &line, &len)) != 0) {
		if (r == -1) {
			/* the fields and some lines are out: the rest
			 * cannot follow, so this copy must not be
			 * delivered */
			snprintf(what, sizeof(what), "the temporary file "
			    "could not be read back at byte %lld of %lld: %s",
			    (long long)m->replay.pos, (long long)m->sp.len,
			    strerror(errno));
			damaged(m, what);
			break;
		}
		fa_out_dataline(m->ssn->id, m->tok, line, len);
		fa_cursor_next(&m->replay);
		done += len + 1;
	}
	/* the read buffer is not kept between slices: it is counted in
	 * the spool total, and thousands of messages may replay */
	fa_cursor_release(&m->replay);
	if (m->reply == NULL || strcmp(m->reply, DAMAGED_REPLY) != 0) {
		if (m->replay.pos < m->sp.len)
			return 0;
	}
	fa_spool_free(&m->sp);
	fa_cursor_free(&m->feed);
	fa_cursor_free(&m->replay);
	if (m->pass_replay) {
		m->pass_replay = 0;
		q.pass_replays--;
		if (!m->eom)
			return 1;	/* FA_PASS: later lines are echoed */
	}
	fa_out_dataline(m->ssn->id, m->tok, ".", 1);
	m->state = FA_COMMIT;
	return 1;
}

static void
eom(struct fa_msg *m)
{
	if (arc_session_eom(m->as) == ARC_SESSION_PENDING) {
		m->state = FA_WAIT;
		m->wait_since = fa_now_ms();
		m->lists |= ON_WAIT;
		m->next = q.waiting;
		q.waiting = m;
		return;
	}
	output(m);
}

/* Passes the message on while it is still being fed; if its "." came
 * already, the replay ends it. */
static void
give_up(struct fa_msg *m, const char *why)
{
	passthru(m, why);
}

/* Feeds up to FA_FEED_SLICE bytes; 1 when all kept lines are fed. */
static int
feed_step(struct fa_msg *m)
{
	struct smtpd_str	 u;
	const char		*line;
	size_t			 len, done = 0;
	int			 r;
	char			 why[256];

	while (done < FA_FEED_SLICE &&
	    (r = fa_cursor_line(&m->sp, &m->feed, &line, &len)) != 0) {
		if (r == -1) {
			snprintf(why, sizeof(why), "temporary file in %s "
			    "unreadable: %s", fa_spool_dir(), strerror(errno));
			give_up(m, why);
			return 1;
		}
		if (!m->in_body && len == 0)
			m->in_body = 1;
		else if (!m->in_body && len + 1 > q.hdr_max - q.hdr_total) {
			snprintf(why, sizeof(why), "the headers of all "
			    "messages in flight would hold more than %zu "
			    "bytes (-H)", q.hdr_max);
			give_up(m, why);
			return 1;
		} else if (!m->in_body) {
			m->hdr_bytes += len + 1;
			q.hdr_total += len + 1;
		}
		if (!m->feed_failed) {
			u = smtpd_unstuff((struct smtpd_str){ line, len });
			if (arc_session_feed(m->as, u.p, u.len) != 0 ||
			    arc_session_feed(m->as, "\n", 1) != 0)
				/* the adapter remembers; its actions
				 * will say so */
				m->feed_failed = 1;
		}
		fa_cursor_next(&m->feed);
		done += len + 1;
	}
	/* caught up or not, the read buffer goes until the next slice */
	fa_cursor_release(&m->feed);
	return m->feed.pos >= m->sp.len;
}

int
fa_msg_dataline(struct fa_msg *m, struct smtpd_str text)
{
	char	why[256];

	switch (m->state) {
	case FA_PASS:
		if (m->pass_replay) {
			/* behind the kept lines: kept too while the spool
			 * takes them, else held back until they are out */
			if (m->eom)
				break;
			if (smtpd_is_eom(text)) {
				m->eom = 1;
				return 0;
			}
			return fa_spool_add(&m->sp, text.p, text.len) == -1;
		}
		fa_out_dataline(m->ssn->id, m->tok, text.p, text.len);
		if (smtpd_is_eom(text))
			m->state = FA_COMMIT;
		return 0;
	case FA_DATA:
		if (m->eom)
			break;
		if (smtpd_is_eom(text)) {
			m->eom = 1;
			feed_push(m);
			return 0;
		}
		if (text.len > smtpd_dataline_max(S(m->ssn->id), S(m->tok)))
			m->longline = 1;
		if (fa_spool_add(&m->sp, text.p, text.len) == -1) {
			/* every failure is the temporary file's: memory that
			 * runs out sends the lines there */
			snprintf(why, sizeof(why), "cannot keep the message: "
			    "temporary file in %s: %s; the %lld bytes kept and "
			    "every later line passed on intact", fa_spool_dir(),
			    strerror(errno), (long long)m->sp.len);
			passthru(m, why);
			return 1;	/* this line after the kept ones */
		}
		feed_push(m);
		return 0;
	default:
		break;
	}
	fa_log(ARC_LOG_ERR, "session=%s: data-line after the end of the "
	    "message, ignored", m->ssn->id);
	return 0;
}

int
fa_msg_holding(void)
{
	return q.pass_replays > 0;
}

int
fa_msg_work(void)
{
	struct fa_msg	*m, *next, *stop;

	/* one slice each, in turn */
	for (m = q.feed.head; m != NULL; m = next) {
		next = m->fnext;
		if (!feed_step(m) || m->state != FA_DATA)
			continue;
		/* all fed: back on the list when lines come, or on to
		 * the verdict after the "." */
		feed_remove(m);
		if (m->eom)
			eom(m);
	}
	/* a slice each while the output queue takes it; the one not done
	 * goes to the back */
	stop = q.replay.tail;
	while ((m = q.replay.head) != NULL && fa_out_pending() < FA_OUT_HIGH) {
		replay_remove(m);
		if (!replay_step(m))
			replay_push(m);
		if (m == stop)
			break;
	}
	return q.feed.head != NULL || (q.replay.head != NULL &&
	    fa_out_pending() < FA_OUT_HIGH);
}

/* After DNS activity: messages whose lookups completed or took too
 * long go on. */
void
fa_msg_check_waiting(void)
{
	struct fa_msg	*m, *next, *go = NULL, *last = NULL;
	long long	 now = fa_now_ms();

	for (m = q.waiting; m != NULL; m = next) {
		next = m->next;
		if (!m->ready && now - m->wait_since < q.timeout)
			continue;
		if (m->ready) {
			m->ready = 0;
			if (arc_session_eom(m->as) == ARC_SESSION_PENDING)
				continue;
		} else {
			fa_log(ARC_LOG_WARNING, "session=%s id=%s: key "
			    "lookups unfinished after %ld ms, giving up",
			    m->ssn->id, m->id, q.timeout);
			arc_session_finish(m->as);
		}
		wait_remove(m);
		/* in the order they are found; output() uses m->next */
		m->fnext = NULL;
		if (last != NULL)
			last->fnext = m;
		else
			go = m;
		last = m;
	}
	for (m = go; m != NULL; m = next) {
		next = m->fnext;
		m->fnext = NULL;
		output(m);
	}
}
