/*
 * arc_session.c - one message through the adapter layer: streaming it
 * to the core, choosing the sealing identity at end of headers, the
 * verdict turned into actions (reject, tempfail, fields to insert) and
 * the log line.  See arc_adapter.h for the contract.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "arc_adapter_int.h"
#include "arc_policy.h"
#include "arc_select.h"
#include "arc_signing.h"
#include "arc_stats.h"

/* ---- sessions ----------------------------------------------------------- */

struct arc_session {
	arc_adapter		*ad;
	arc_msg			*msg;
	const arc_signer	*signer;
	char			*id, *client_ip, *authserv_id;
	char			**host_ar;
	int			 seal;		/* -1: policy */
	int			 rcpt_match;	/* seal-recipients matched */
	int			 done, failed, quiet;
	int			 no_message_ar;	/* params: host writes none */
	char			 error[256];
	const char		*no_seal;	/* why the identity is unusable */
	arc_session_ready_fn	 ready_fn;
	void			*ready_arg;
	void			*data;
	arc_seal_result		 seal_res;
	char			*authres_field, *authres, *summary;
	arc_verdict		 verdict;	/* receiver policy */
	char			*dmarc_comment;	/* RFC 8617 §7.2.2 */
	arc_actions		 act;
	arc_stats_span		 vspan, sspan;	/* verify, seal: metrics */
	/* the signing table's choice (seal-select keys, in their order) */
	int			 tables;	/* choose at end of headers */
	arc_select_state	 sst;
	char			 selection[400];	/* "seal=... match=..." */
};

static void
session_error(arc_session *ss, const char *what)
{
	if (!ss->failed) {
		ss->failed = 1;
		snprintf(ss->error, sizeof(ss->error), "%s", what);
		/* it goes into an A-R comment: printable ASCII, balanced */
		for (char *p = ss->error; *p; p++)
			if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7e)
				*p = '?';
			else if (*p == '(' || *p == ')')
				*p = *p == '(' ? '[' : ']';
			else if (*p == '\\' || *p == ';')
				*p = *p == ';' ? ',' : '/';
	}
}

static void
msg_ready(arc_msg *m, void *arg)
{
	arc_session	*ss = arg;

	(void)m;
	if (ss->ready_fn)
		ss->ready_fn(ss, ss->ready_arg);
}

static char *
dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* End of headers: the signing tables choose (arc_select.h).  The body
 * hash needs the signer, so this is the last moment to choose it. */
static void
select_signer(arc_msg *m, void *arg)
{
	arc_session		*ss = arg;
	arc_adapter		*ad = ss->ad;
	const arc_signing_match	*mt = NULL;
	char			 q[300], err[512];
	int			 k;

	if ((k = arc_select_message(ad->select, &ss->sst, m, &mt)) >= 0) {
		ss->signer = arc_select_signer(ad->select, mt, err,
		    sizeof(err));
		snprintf(ss->selection, sizeof(ss->selection), " seal=%s/%s "
		    "match=%s:%s%s", mt->key->domain, mt->key->selector,
		    arc_signing_select_name(k),
		    arc_log_value(mt->pattern, q, sizeof(q)), ss->signer ?
		    "" : " key=unusable");
		/* lazy loading: the key fails at its first use; this costs
		 * the seal, never the message */
		if (ss->signer == NULL) {
			ss->no_seal = "sealing key unusable";
			arc_adapter_log(ad, ARC_LOG_ERR, "id=%s: %s", ss->id,
			    err);
		}
	} else if (ad->signer && strcmp(arc_conf_get(ad->conf,
	    "seal-no-match"), "default") == 0) {
		ss->signer = ad->signer;
		snprintf(ss->selection, sizeof(ss->selection),
		    " seal=default match=none");
	} else {
		ss->signer = NULL;
		snprintf(ss->selection, sizeof(ss->selection),
		    " seal=none match=none");
	}
	if (ss->signer && arc_msg_set_signer(m, ss->signer) != ARC_OK)
		session_error(ss, arc_msg_error(m));
}

arc_session *
arc_session_create(arc_adapter *ad, const arc_session_params *p)
{
	arc_session		*ss;
	arc_session_params	 none = { 0 };
	char			 err[256];
	size_t			 n = 0;

	if (p == NULL) {
		p = &none;
		none.seal = -1;
	}
	if ((ss = calloc(1, sizeof(*ss))) == NULL)
		return NULL;
	ss->ad = ad;
	ad->nsessions++;
	ss->seal = p->seal;
	ss->quiet = p->quiet;
	ss->no_message_ar = p->no_message_ar;
	ss->rcpt_match = ad->seal_rcpt_re == NULL;
	ss->id = dup_or_null(p->id ? p->id : "-");
	ss->client_ip = dup_or_null(p->client_ip);
	/* a host's per-message id that cannot be written: ours instead */
	ss->authserv_id = dup_or_null(p->authserv_id &&
	    arc_authserv_id_ok(p->authserv_id) ? p->authserv_id :
	    ad->authserv_id);
	while (p->authres && p->authres[n])
		n++;
	ss->host_ar = calloc(n + 1, sizeof(char *));
	for (size_t i = 0; ss->host_ar && i < n; i++)
		ss->host_ar[i] = dup_or_null(p->authres[i]);
	if (ss->id == NULL || ss->authserv_id == NULL || ss->host_ar == NULL ||
	    (p->client_ip && ss->client_ip == NULL)) {
		arc_session_free(ss);
		return NULL;
	}
	ss->signer = ad->signer;
	if (p->seal_domain || p->seal_selector || p->seal_key ||
	    p->seal_headers) {
		const arc_conf *c = ad->conf;
		const char *d = p->seal_domain ? p->seal_domain :
		    arc_conf_get(c, "seal-domain");
		const char *s = p->seal_selector ? p->seal_selector :
		    arc_conf_get(c, "seal-selector");
		const char *k = p->seal_key ? p->seal_key :
		    arc_conf_get(c, "seal-key");

		/* an unusable identity costs the seal, not the verdict; the
		 * details (paths) go to the log, never into the message */
		ss->signer = NULL;
		if (d == NULL || s == NULL || k == NULL)
			ss->no_seal = "sealing identity incomplete";
		else if ((ss->signer = arc_adapter_override_signer(ad, d, s, k,
		    p->seal_headers, err, sizeof(err))) == NULL) {
			ss->no_seal = "sealing key unusable";
			arc_adapter_log(ad, ARC_LOG_ERR, "id=%s: %s", ss->id,
			    err);
		}
	}
	if ((ss->msg = arc_msg_create(ad->lib, ARC_MSG_VERIFY |
	    (ad->auth_dkim ? ARC_MSG_DKIM : 0))) == NULL) {
		arc_session_free(ss);
		return NULL;
	}
	arc_msg_set_ready_cb(ss->msg, msg_ready, ss);
	/* the signing table chooses unless the host named an identity or
	 * wants no seal */
	if (ad->select && p->seal != 0 && !(p->seal_domain ||
	    p->seal_selector || p->seal_key || p->seal_headers)) {
		ss->tables = 1;
		ss->signer = NULL;
		arc_msg_set_eoh_cb(ss->msg, select_signer, ss);
		arc_select_envelope(ad->select, &ss->sst, ARC_SELECT_SENDER,
		    p->mail_from);
	} else if (ad->select && p->seal != 0)
		snprintf(ss->selection, sizeof(ss->selection),
		    " seal=override match=none");
	if (ss->signer && arc_msg_set_signer(ss->msg, ss->signer) != ARC_OK)
		session_error(ss, arc_msg_error(ss->msg));
	return ss;
}

void
arc_session_free(arc_session *ss)
{
	if (ss == NULL)
		return;
	ss->ad->nsessions--;
	arc_msg_free(ss->msg);
	arc_seal_result_clear(&ss->seal_res);
	for (size_t i = 0; ss->host_ar && ss->host_ar[i]; i++)
		free(ss->host_ar[i]);
	free(ss->host_ar);
	free(ss->id);
	free(ss->client_ip);
	free(ss->authserv_id);
	free(ss->authres_field);
	free(ss->authres);
	free(ss->summary);
	free(ss->dmarc_comment);
	free(ss);
}

void
arc_session_rcpt(arc_session *ss, const char *rcpt)
{
	pcre2_match_data	*md;

	if (ss->tables)
		arc_select_envelope(ss->ad->select, &ss->sst, ARC_SELECT_RCPT,
		    rcpt);
	if (ss->ad->seal_rcpt_re == NULL || ss->rcpt_match || rcpt == NULL)
		return;
	if ((md = pcre2_match_data_create_from_pattern(ss->ad->seal_rcpt_re,
	    NULL)) == NULL)
		return;
	if (pcre2_match(ss->ad->seal_rcpt_re, (PCRE2_SPTR)rcpt,
	    PCRE2_ZERO_TERMINATED, 0, 0, md, NULL) >= 0)
		ss->rcpt_match = 1;
	pcre2_match_data_free(md);
}

/* Once an internal error happened the rest of the message is ignored:
 * the message will be passed on as it is. */
static int
check(arc_session *ss, arc_status r)
{
	if (r != ARC_OK && r != ARC_PENDING)
		session_error(ss, arc_msg_error(ss->msg));
	return ss->failed ? -1 : 0;
}

int
arc_session_header(arc_session *ss, const char *f, size_t n)
{
	return ss->failed ? -1 : check(ss, arc_msg_header(ss->msg, f, n));
}

int
arc_session_eoh(arc_session *ss)
{
	return ss->failed ? -1 : check(ss, arc_msg_eoh(ss->msg));
}

int
arc_session_body(arc_session *ss, const void *p, size_t n)
{
	return ss->failed ? -1 : check(ss, arc_msg_body(ss->msg, p, n));
}

int
arc_session_feed(arc_session *ss, const char *p, size_t n)
{
	return ss->failed ? -1 : check(ss, arc_msg_feed(ss->msg, p, n));
}

void
arc_session_set_ready_cb(arc_session *ss, arc_session_ready_fn fn, void *arg)
{
	ss->ready_fn = fn;
	ss->ready_arg = arg;
}

void *
arc_session_data(arc_session *ss)
{
	return ss->data;
}

void
arc_session_set_data(arc_session *ss, void *data)
{
	ss->data = data;
}

static int
want_seal(arc_session *ss)
{
	const char *v;

	if (ss->signer == NULL)
		return 0;
	if (ss->seal >= 0)
		return ss->seal;
	v = arc_conf_get(ss->ad->conf, "seal");
	return (v == NULL || strcmp(v, "yes") == 0) && ss->rcpt_match;
}

/*
 * One line per message for the logs: key=value pairs, always the same
 * keys in the same order (sealers= only when there are any, error= and
 * reason= only when set), every value through arc_log_value().
 */
static void
build_summary(arc_session *ss)
{
	arc_actions	*a = &ss->act;
	char		 doms[512] = "", sealed[16] = "no";
	char		 qid[300], qdoms[600], qreason[600];
	int		 i, n, k;
	size_t		 off = 0;

	n = ss->failed ? 0 : arc_msg_nsets(ss->msg);
	/* the sealers as far as the chain was read (not past a break);
	 * a domain that does not fit is left out whole */
	for (i = n; i >= 1; i--) {
		const arc_set_info *si = arc_msg_set(ss->msg, i);

		if (si == NULL || si->as_domain == NULL)
			continue;
		k = snprintf(doms + off, sizeof(doms) - off, "%s%s",
		    off == 0 ? "" : ",", si->as_domain);
		if (k < 0 || (size_t)k >= sizeof(doms) - off) {
			doms[off] = '\0';
			break;
		}
		off += (size_t)k;
	}
	if (a->sealed)
		snprintf(sealed, sizeof(sealed), "i%d", a->sealed);
	if (asprintf(&ss->summary, "id=%s cv=%s%s%s oldest-pass=%d sealed=%s"
	    "%s%s%s%s", arc_log_value(ss->id, qid, sizeof(qid)),
	    arc_cv_name(a->cv), off ? " sealers=" : "",
	    off ? arc_log_value(doms, qdoms, sizeof(qdoms)) : "",
	    a->oldest_pass, sealed, ss->selection,
	    ss->failed ? " error=internal" : "",
	    a->reason ? " reason=" : "", a->reason ?
	    arc_log_value(a->reason, qreason, sizeof(qreason)) : "") < 0)
		ss->summary = NULL;
}

/*
 * A log value: as it is when it is a non-empty run of printable ASCII
 * without space, '"', '\\' or '='; otherwise double-quoted with '"' and
 * '\\' escaped by '\\'.  Other bytes (controls, 8-bit) become '?': a
 * log line is one line of ASCII whatever the message held.  Truncated
 * to len (a quoted value keeps its closing quote).
 */
const char *
arc_log_value(const char *v, char *buf, size_t len)
{
	const unsigned char	*p;
	size_t			 o = 0;
	int			 quote = *v == '\0';

	if (len < 4) {
		if (len > 0)
			buf[0] = '\0';
		return buf;
	}
	for (p = (const unsigned char *)v; *p && !quote; p++)
		if (*p <= ' ' || *p >= 0x7f || *p == '"' || *p == '\\' ||
		    *p == '=')
			quote = 1;
	if (quote)
		buf[o++] = '"';
	for (p = (const unsigned char *)v; *p; p++) {
		int	 esc = *p == '"' || *p == '\\';

		/* room for this byte, its escape and the closing quote */
		if (o + (size_t)esc + 1 + (size_t)quote >= len)
			break;
		if (esc)
			buf[o++] = '\\';
		buf[o++] = *p < ' ' || *p >= 0x7f ? '?' : (char)*p;
	}
	if (quote)
		buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/*
 * The receiver policy (arc_policy.h): the verdict, the §7.2.2 comment,
 * and, when a trusted sealer is in a passing chain, two policy.*
 * properties on our arc result (docs/receiver-policy.md says why
 * properties rather than a comment).
 */
static void
apply_policy(arc_session *ss)
{
	arc_verdict	*v = &ss->verdict;
	char		*ar;

	arc_policy_evaluate(ss->ad->policy, ss->msg, ss->authserv_id,
	    arc_conf_get(ss->ad->conf, "trusted-authserv-ids"),
	    (const char *const *)ss->host_ar, v);
	if (arc_msg_cv(ss->msg) != ARC_CV_NONE)
		ss->dmarc_comment = arc_dmarc_comment(ss->msg);
	if (ss->authres == NULL || v->instance == 0)
		return;
	if (asprintf(&ar, "%s policy.arc-trusted=%s policy.arc-override=%s",
	    ss->authres, v->domain, v->override ? "yes" : "no") < 0)
		return;
	free(ss->authres);
	ss->authres = ar;
}

/* The policy's keys at the end of the log line: trusted= trusted-i=
 * override= when trusted-sealers is set, dmarc-comment= for a chain. */
static void
add_policy_keys(arc_session *ss)
{
	const arc_actions	*a = &ss->act;
	char			 qd[300], *qc = NULL, *line;
	size_t			 n;

	if (ss->summary == NULL || (arc_policy_size(ss->ad->policy) == 0 &&
	    a->dmarc_comment[0] == '\0'))
		return;
	n = strlen(a->dmarc_comment) * 2 + 3;
	if (a->dmarc_comment[0] && (qc = malloc(n)) == NULL)
		return;
	if (qc)
		arc_log_value(a->dmarc_comment, qc, n);
	if (arc_policy_size(ss->ad->policy) == 0)
		n = (size_t)asprintf(&line, "%s dmarc-comment=%s", ss->summary,
		    qc);
	else
		n = (size_t)asprintf(&line, "%s trusted=%s trusted-i=%d "
		    "override=%s%s%s", ss->summary, arc_log_value(a->trusted,
		    qd, sizeof(qd)), a->trusted_i, a->override ? "yes" : "no",
		    qc ? " dmarc-comment=" : "", qc ? qc : "");
	free(qc);
	if (n == (size_t)-1)
		return;
	free(ss->summary);
	ss->summary = line;
}

/* authenticate dkim: our DKIM results follow the arc result in our A-R
 * (after the policy's properties, which belong to arc), and so lead
 * the AAR of our seal. */
static void
add_dkim(arc_session *ss)
{
	char	*d, *ar;

	if (!ss->ad->auth_dkim || ss->authres == NULL ||
	    (d = arc_msg_dkim_authres(ss->msg)) == NULL)
		return;
	if (asprintf(&ar, "%s; %s", ss->authres, d) >= 0) {
		free(ss->authres);
		ss->authres = ar;
	}
	free(d);
}

/* The verdict, turned into what the adapter must do. */
static void
make_actions(arc_session *ss)
{
	arc_actions	*a = &ss->act;
	const char	*extra[66];
	size_t		 n = 0, i;
	arc_status	 r;
	const arc_conf	*c = ss->ad->conf;
	int		 hold = 0;	/* temperror: no seal */

	memset(a, 0, sizeof(*a));
	a->oldest_pass = -1;
	if (ss->failed) {
		a->cv = ARC_CV_FAIL;
		a->error = 1;
		a->reason = ss->error;
		if (asprintf(&ss->authres, "%s; arc=fail (internal error: %s)",
		    ss->authserv_id, ss->error) < 0)
			ss->authres = NULL;
		if (strcmp(arc_conf_get(c, "on-error"), "tempfail") == 0) {
			a->tempfail = 1;
			a->smtp_reply = "451 4.3.0 ARC processing failed, "
			    "try again later";
		}
	} else {
		a->cv = arc_msg_cv(ss->msg);
		a->oldest_pass = arc_msg_oldest_pass(ss->msg);
		if (a->cv == ARC_CV_FAIL)
			a->reason = arc_msg_reason(ss->msg);
		ss->authres = arc_msg_authres_flags(ss->msg, ss->authserv_id,
		    ss->client_ip, arc_conf_yes(c, "authres-arc-chain") ? 0 :
		    ARC_AUTHRES_NO_CHAIN);
		apply_policy(ss);
		add_dkim(ss);
		if ((hold = arc_msg_temperror(ss->msg)) != 0) {
			/* a fail for want of keys (DNS down) is never sealed
			 * as cv=fail, which would end the chain for good, nor
			 * rejected: passed on unsealed or retried (RFC 8617
			 * §5.2.1 and our choice: docs/robustness.md) */
			if (strcmp(arc_conf_get(c, "on-error"), "tempfail") ==
			    0 || strcmp(arc_conf_get(c, "on-fail"), "reject") ==
			    0) {
				a->tempfail = 1;
				a->smtp_reply = "451 4.4.3 ARC key lookup failed "
				    "temporarily, try again later";
			}
		} else if (a->cv == ARC_CV_FAIL &&
		    strcmp(arc_conf_get(c, "on-fail"), "reject") == 0) {
			a->reject = 1;
			a->smtp_reply = arc_conf_get(c, "reject-reply");
		}
	}
	a->authres = ss->authres;
	if (!a->error && !a->reject && !hold && want_seal(ss)) {
		/* our A-R sits on top, so it leads the AAR */
		if (ss->authres && arc_conf_yes(c, "add-authentication-results"))
			extra[n++] = ss->authres;
		for (i = 0; ss->host_ar[i] && n < 65; i++)
			extra[n++] = ss->host_ar[i];
		extra[n] = NULL;
		arc_stats_span_enter(&ss->sspan);
		r = arc_msg_seal(ss->msg, ss->signer, ss->authserv_id, extra, 0,
		    (arc_conf_yes(c, "aar-comments") ? ARC_SEAL_AAR_COMMENTS : 0) |
		    (arc_adapter_aar_from_message(ss->ad, !ss->no_message_ar) ?
		    0 : ARC_SEAL_NO_MESSAGE_AR), &ss->seal_res);
		arc_stats_span_leave(&ss->sspan);
		if (r != ARC_OK) {
			arc_adapter_log(ss->ad, ARC_LOG_ERR, "id=%s seal: %s",
			    ss->id, arc_msg_error(ss->msg));
			a->reason = "internal error while sealing";
		} else if (ss->seal_res.sealed) {
			a->sealed = ss->seal_res.instance;
			a->fields[a->nfields++] = ss->seal_res.as;
			a->fields[a->nfields++] = ss->seal_res.ams;
			a->fields[a->nfields++] = ss->seal_res.aar;
		} else if (a->reason == NULL)
			a->reason = ss->seal_res.reason;
	} else if (!a->error && !a->reject && !hold && ss->no_seal &&
	    ss->seal != 0) {
		if (a->reason == NULL)
			a->reason = ss->no_seal;
		/* an operator who asked for retries rather than unsealed
		 * mail gets them for a broken identity too */
		if (strcmp(arc_conf_get(c, "on-error"), "tempfail") == 0) {
			a->tempfail = 1;
			a->smtp_reply = "451 4.3.0 ARC sealing key unusable, "
			    "try again later";
		}
	}
	if (ss->authres && !a->reject && (a->error ||
	    arc_conf_yes(c, "add-authentication-results"))) {
		char *f;

		if (asprintf(&f, "Authentication-Results: %s\r\n",
		    ss->authres) >= 0) {
			ss->authres_field = arc_fold_field(f, 0);
			free(f);
		}
		if (ss->authres_field)
			a->fields[a->nfields++] = ss->authres_field;
	}
	a->trusted = ss->verdict.domain;
	a->trusted_i = ss->verdict.instance;
	a->override = ss->verdict.override;
	a->policy = ss->verdict.why[0] ? ss->verdict.why : "not evaluated";
	a->dmarc_comment = ss->dmarc_comment ? ss->dmarc_comment : "";
	build_summary(ss);
	add_policy_keys(ss);
	a->summary = ss->summary ? ss->summary : "";
	a->selection = ss->selection + (ss->selection[0] == ' ');
	arc_stats_message(ss->failed ? NULL : ss->msg, a, &ss->vspan,
	    &ss->sspan);
	if (!ss->quiet)
		arc_adapter_log(ss->ad, a->error ? ARC_LOG_WARNING :
		    ARC_LOG_INFO, "%s", a->summary);
}

int
arc_session_eom(arc_session *ss)
{
	arc_status	 r;

	if (ss->done)
		return ARC_SESSION_DONE;
	if (!ss->failed) {
		arc_stats_span_enter(&ss->vspan);
		r = arc_msg_eom(ss->msg);
		arc_stats_span_leave(&ss->vspan);
		if (r == ARC_PENDING)
			return ARC_SESSION_PENDING;
		check(ss, r);
	}
	ss->done = 1;
	make_actions(ss);
	return ARC_SESSION_DONE;
}

int
arc_session_wait(arc_session *ss)
{
	if (!ss->done && !ss->failed) {
		arc_stats_span_enter(&ss->vspan);
		check(ss, arc_msg_wait(ss->msg,
		    (int)arc_conf_num(ss->ad->conf, "message-timeout")));
		arc_stats_span_leave(&ss->vspan);
	}
	return arc_session_eom(ss);
}

int
arc_session_finish(arc_session *ss)
{
	if (!ss->done && !ss->failed) {
		arc_stats_span_enter(&ss->vspan);
		check(ss, arc_msg_wait(ss->msg, 0));
		arc_stats_span_leave(&ss->vspan);
	}
	return arc_session_eom(ss);
}

const arc_actions *
arc_session_actions(arc_session *ss)
{
	if (!ss->done) {
		/* asked early, or after an error: pass-through actions */
		session_error(ss, "message incomplete");
		arc_session_eom(ss);
	}
	return &ss->act;
}

char *
arc_field_lines(const char *f, int crlf, const char *prefix)
{
	size_t	 plen = prefix ? strlen(prefix) : 0, n = 0, i;
	char	*out, *o;

	for (i = 0; f[i]; i++)
		if (f[i] == '\n')
			n++;
	if ((out = malloc(strlen(f) + n * (plen + 1) + plen + 2)) == NULL)
		return NULL;
	o = out;
	if (plen) {
		memcpy(o, prefix, plen);
		o += plen;
	}
	for (i = 0; f[i]; i++) {
		if (f[i] == '\r')
			continue;
		if (f[i] == '\n') {
			if (crlf)
				*o++ = '\r';
			*o++ = '\n';
			if (plen && f[i + 1]) {
				memcpy(o, prefix, plen);
				o += plen;
			}
			continue;
		}
		*o++ = f[i];
	}
	*o = '\0';
	return out;
}
