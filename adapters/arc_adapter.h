/*
 * arc_adapter.h - the MTA adapter layer: what every MTA adapter needs,
 * and nothing specific to any one MTA.
 *
 * An adapter (arctool, the Exim dlfunc module, filter-arc for OpenSMTPD,
 * arc-milter) maps its host's message lifecycle onto these calls:
 *
 *   process start:  arc_conf_load() -> arc_adapter_create()
 *   each message:   arc_session_create(params)
 *                   [arc_session_rcpt() per envelope recipient]
 *                   arc_session_header() per field, arc_session_eoh(),
 *                   arc_session_body() per chunk      (or arc_session_feed()
 *                                                      with raw text)
 *                   arc_session_eom() -> ARC_SESSION_DONE or _PENDING
 *                   (PENDING: wait on arc_adapter_dns_fd(), call
 *                    arc_adapter_dns_process(); the ready callback fires,
 *                    or block in arc_session_wait())
 *                   arc_session_actions() -> carry them out
 *                   arc_session_free()
 *   process end:    arc_adapter_free(), arc_conf_free()
 *
 * Actions an adapter must carry out, in this order of precedence:
 *   - reject set: refuse the message with smtp_reply (only when the
 *     operator asked for it, "on-fail reject");
 *   - otherwise insert fields[0..nfields-1] at the very top of the
 *     header, fields[0] topmost (ARC-Seal, ARC-Message-Signature,
 *     ARC-Authentication-Results, Authentication-Results).  Each is a
 *     complete "Name: value" field with CRLF line ends and folding;
 *     arc_field_lines() gives them in other line-end styles.
 * On an internal error the actions hold no ARC set, only an
 * Authentication-Results saying arc=fail (internal error ...), and
 * error is set: the adapter passes the message on, unless the operator
 * set "on-error tempfail" (then tempfail is set and smtp_reply is a 451).
 *
 * Ownership: arc_conf and arc_adapter are process-wide, not thread-safe:
 * sessions share their adapter (key cache, resolver), so every call on
 * one adapter and its sessions must be serialized (one mutex, as
 * arc-milter does, or one adapter per thread);
 * an arc_session is owned by the caller until arc_session_free(); the
 * strings in params are copied; the actions and everything they point
 * to live until arc_session_free().  Data given to header/body/feed may
 * be freed as soon as the call returns.
 */
#ifndef ARC_ADAPTER_H
#define ARC_ADAPTER_H

#include <stddef.h>

#include "arc.h"

typedef struct arc_conf arc_conf;
typedef struct arc_adapter arc_adapter;
typedef struct arc_session arc_session;

/* ---- configuration: arc.conf(5) ---------------------------------------- */

/* Reads the file (NULL: defaults only).  NULL on error, with err set to
 * "file:line: what is wrong". */
arc_conf	*arc_conf_load(const char *path, char *err, size_t errlen);
/* Sets one option as if it were a line "name value" of the file. */
int		 arc_conf_set(arc_conf *, const char *name, const char *value,
		    char *err, size_t errlen);
void		 arc_conf_free(arc_conf *);
/* The value of an option as text, NULL if unset (for adapters' own
 * options and for tests). */
const char	*arc_conf_get(const arc_conf *, const char *name);

/* ---- process-wide state ------------------------------------------------ */

enum { ARC_LOG_ERR = 3, ARC_LOG_WARNING = 4, ARC_LOG_INFO = 6,
    ARC_LOG_DEBUG = 7 };
typedef void	(*arc_log_fn)(void *arg, int level, const char *line);

/* Builds the key sources, DNS resolver and sealing identity the
 * configuration names.  conf must outlive the adapter. */
arc_adapter	*arc_adapter_create(const arc_conf *, arc_log_fn, void *logarg,
		    char *err, size_t errlen);
void		 arc_adapter_free(arc_adapter *);
void		 arc_adapter_log(arc_adapter *, int level, const char *fmt, ...)
		    __attribute__((format(printf, 3, 4)));
/* For event loops: the descriptor to watch for reading (-1: none). */
int		 arc_adapter_dns_fd(arc_adapter *);
void		 arc_adapter_dns_process(arc_adapter *);
arc_lib		*arc_adapter_lib(arc_adapter *);
/* The trusted sealers (arc_policy.h), for adapters that verify without
 * a session (arctool). */
typedef struct arc_policy arc_policy;
const arc_policy *arc_adapter_policy(const arc_adapter *);
/* Whether arc.conf's "authenticate" asks for DKIM (sessions then verify
 * the DKIM-Signatures and add the results to our A-R and AAR). */
int		 arc_adapter_authenticates_dkim(const arc_adapter *);
/* Whether the AAR may copy the message's Authentication-Results of our
 * authserv-id: never while we authenticate ourselves, else arc.conf's
 * aar-from-message, else host_writes_ar (1 where earlier filters of the
 * host write them, as Postfix's OpenDKIM/OpenDMARC milters do; 0 where
 * every such field came from outside).  0: seal with
 * ARC_SEAL_NO_MESSAGE_AR. */
int		 arc_adapter_aar_from_message(const arc_adapter *,
		    int host_writes_ar);
/* Reloading (arc_reload.h builds on these): the adapter takes conf and
 * frees it with itself; sessions() counts the sessions created on it
 * and not yet freed (an adapter is freed only when that is 0). */
void		 arc_adapter_own_conf(arc_adapter *, arc_conf *);
unsigned	 arc_adapter_sessions(const arc_adapter *);

/* ---- one message ----------------------------------------------------------- */

typedef struct {
	const char	*id;		/* for log lines: queue id, session */
	const char	*client_ip;	/* connecting SMTP client, or NULL */
	const char	*helo;
	const char	*mail_from;	/* envelope sender (MAIL FROM), or NULL:
					 * seal-select sender */
	const char	*authserv_id;	/* NULL: from the configuration */
	int		 seal;		/* -1: configuration decides, 0, 1 */
	/* per-message overrides of the sealing identity (Exim ACLs) */
	const char	*seal_domain, *seal_selector, *seal_key;
	const char	*seal_headers;
	/* extra Authentication-Results values (without the field name)
	 * the host adds for this message, NULL-terminated, copied */
	const char *const *authres;
	int		 quiet;		/* 1: no summary log line (the adapter
					 * logs actions.summary its own way) */
	/* 1: the host writes no Authentication-Results into the message
	 * before us (OpenSMTPD; Exim, whose results come as authres): an
	 * A-R of our authserv-id in it came from outside and is not copied
	 * into the AAR, unless arc.conf says aar-from-message yes.  0 (the
	 * milter): copied, unless authenticate or aar-from-message no. */
	int		 no_message_ar;
} arc_session_params;

arc_session	*arc_session_create(arc_adapter *, const arc_session_params *);
void		 arc_session_free(arc_session *);
void		 arc_session_rcpt(arc_session *, const char *rcpt);
int		 arc_session_header(arc_session *, const char *, size_t);
int		 arc_session_eoh(arc_session *);
int		 arc_session_body(arc_session *, const void *, size_t);
int		 arc_session_feed(arc_session *, const char *, size_t);

enum { ARC_SESSION_DONE = 0, ARC_SESSION_PENDING = 1 };
int		 arc_session_eom(arc_session *);
/* Blocking hosts: waits for key lookups up to the configured timeout. */
int		 arc_session_wait(arc_session *);
/* Never blocks: lookups still outstanding count as failed (timed out),
 * and the message is finished.  For an event loop's own deadline. */
int		 arc_session_finish(arc_session *);
typedef void	(*arc_session_ready_fn)(arc_session *, void *);
void		 arc_session_set_ready_cb(arc_session *, arc_session_ready_fn,
		    void *);
void		*arc_session_data(arc_session *);	/* adapter's own */
void		 arc_session_set_data(arc_session *, void *);

typedef struct {
	arc_cv		 cv;
	int		 oldest_pass;	/* -1 if not pass */
	int		 sealed;	/* instance sealed, 0 if none */
	int		 reject, error, tempfail;
	const char	*smtp_reply;	/* with reject or tempfail */
	const char	*authres;	/* the A-R value we added */
	const char	*reason;	/* why fail / why not sealed */
	const char	*fields[4];	/* top-down, complete, CRLF */
	int		 nfields;
	const char	*summary;	/* "cv=pass sets=2 ..." for logs */
	const char	*selection;	/* the signing table's choice:
					 * "seal=d/s match=rcpt:*@d", "seal=default
					 * match=none", ...; "" without tables */
	/* receiver policy (arc_policy.h, arc.conf trusted-sealers) */
	const char	*trusted;	/* oldest trusted sealer's d=, "" */
	int		 trusted_i;	/* its i=, 0 if none */
	int		 override;	/* a local DMARC fail may be overridden */
	const char	*policy;	/* the verdict in words, one line */
	const char	*dmarc_comment;	/* RFC 8617 §7.2.2, "" if no chain */
} arc_actions;

/* Valid after arc_session_eom() returned ARC_SESSION_DONE (or after an
 * error return, which yields pass-through actions). */
const arc_actions *arc_session_actions(arc_session *);

/* Copies a CRLF field into a malloc'd string with LF line ends (crlf 0)
 * or CRLF (crlf 1); each line prefixed by prefix (NULL: none). */
char		*arc_field_lines(const char *field, int crlf,
		    const char *prefix);

/* A value for a "key=value" log line, written into buf (len >= 4):
 * as it is if it is plain printable ASCII without space, '"', '\' or
 * '=', else in double quotes with '"' and '\' escaped by '\'; other
 * bytes become '?'.  Every adapter quotes its log values with it, so
 * one parser reads every adapter's lines.  Returns buf. */
const char	*arc_log_value(const char *v, char *buf, size_t len);

#endif
