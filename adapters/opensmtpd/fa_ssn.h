/*
 * fa_ssn.h - filter-arc's SMTP sessions: what smtpd reported about each
 * (client address, HELO, envelope recipients) and its message, if any.
 *
 * Contract:
 *  - A session exists from its link-connect to its link-disconnect.
 *    fa_ssn_new() refuses a session (NULL, with a log line at most once
 *    a second) when max-sessions sessions exist or their memory reached
 *    max-session-bytes: such a session is not tracked and its messages
 *    pass through untouched.  Memory counted: the session itself, its
 *    HELO, envelope sender and recipients (each bounded: HELO
 *    FA_HELO_MAX, an address FA_RCPT_MAX bytes, FA_RCPTS_MAX
 *    recipients).  A session
 *    that would grow beyond the bound later is marked overflow: its
 *    next message passes through untouched too.
 *  - The message is the caller's: fa_ssn_free() requires msg == NULL
 *    (the caller frees it first), so this module never calls into the
 *    message module.
 */
#ifndef FA_SSN_H
#define FA_SSN_H

#include <stddef.h>

#include "smtpd_proto.h"

#define FA_HELO_MAX		255	/* RFC 5321 domain, address literal */
#define FA_RCPT_MAX		512
#define FA_RCPTS_MAX		1000
#define FA_MAX_SESSIONS		10000
#define FA_MAX_SESSION_BYTES	(32UL * 1024 * 1024)

struct fa_msg;

struct fa_ssn {
	char		 id[SMTPD_ID_MAX + 1];
	char		 ip[64];
	char		*helo;
	char		*mail_from;	/* tx-mail: seal-select sender */
	char		 msgid[32];
	char		**rcpt;
	size_t		 nrcpt;
	size_t		 bytes;		/* counted against the bound */
	int		 overflow;	/* grew beyond it: pass through */
	char		 pass_tok[SMTPD_ID_MAX + 1];	/* message passing
					 * through: no state for it */
	struct fa_msg	*msg;
	long long	 seen;		/* last line about it, ms */
	struct fa_ssn	*next;
};

void		 fa_ssn_limits(size_t max_sessions, size_t max_bytes);
struct fa_ssn	*fa_ssn_find(struct smtpd_str id);
struct fa_ssn	*fa_ssn_new(struct smtpd_str id);
void		 fa_ssn_free(struct fa_ssn *);
void		 fa_ssn_set_helo(struct fa_ssn *, struct smtpd_str);
/* The envelope sender (NULL/empty: none, the null sender <>). */
void		 fa_ssn_set_mail_from(struct fa_ssn *, struct smtpd_str);
/* The kept copy, or NULL (not kept: too long, too many, no memory). */
const char	*fa_ssn_add_rcpt(struct fa_ssn *, struct smtpd_str);
void		 fa_ssn_clear_rcpts(struct fa_ssn *);
size_t		 fa_ssn_count(void);
size_t		 fa_ssn_bytes(void);
/* Calls fn on every session; fn may free the one it is given. */
void		 fa_ssn_foreach(void (*fn)(struct fa_ssn *, void *), void *);

#endif
