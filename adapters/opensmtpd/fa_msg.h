/*
 * fa_msg.h - filter-arc's messages: one per session at a time, from its
 * first data-line to its commit.
 *
 * Contract:
 *  - Data-lines are kept in the message's spool as received and fed,
 *    un-dot-stuffed, to the adapter layer by fa_msg_work() in slices of
 *    at most FA_FEED_SLICE bytes per message and loop turn, round-robin
 *    over all messages with unfed lines: one costly message cannot hold
 *    the loop for more than a slice of its work while others wait (the
 *    verdict itself, arc_session_eom(), is one call; the core bounds its
 *    cost by the message's size).
 *  - At the final "." (and once everything is fed) the verdict is taken;
 *    key lookups make it wait (fa_msg_check_waiting after DNS activity,
 *    message-timeout at most).  Then the action fields go out first (they
 *    land above smtpd's Received), the kept lines are replayed, again
 *    round-robin in slices of FA_REPLAY_SLICE bytes while the output
 *    queue is below FA_OUT_HIGH, and "." ends the message.
 *  - The adapter layer keeps each message's header fields until its
 *    verdict (up to its max-header-fields and max-field-bytes).  All
 *    messages together may hold FA_HEADER_TOTAL header bytes (or what
 *    fa_msg_set_header_limit() sets); a message that would go beyond is
 *    passed on unchanged, unsealed, with a log line.
 *  - smtpd cuts filter-dataline lines at 1997 characters: a message with
 *    a longer line is not sealed, a field of ours with a longer line is
 *    left out (the whole ARC set, if it is an ARC field).
 *  - Failures never lose mail: when the spool cannot keep a line (no
 *    memory, no temporary file, ENOSPC), the -H bound is reached or the
 *    temporary file cannot be read, everything kept goes out through
 *    the replay queue (in slices, within FA_OUT_HIGH), later lines are
 *    kept behind them (or, when the spool takes no more, wait in the
 *    input) and are then echoed, nothing added ("passed on unchanged", with
 *    the cause).  Only when kept lines cannot be read back is the
 *    message damaged; then it is refused at commit with a 451, so the
 *    client retries, and the log says which lines were lost.
 */
#ifndef FA_MSG_H
#define FA_MSG_H

#include "arc_adapter.h"
#include "fa_spool.h"
#include "fa_ssn.h"

#define FA_FEED_SLICE	(128 * 1024)
#define FA_REPLAY_SLICE	(64 * 1024)
#define FA_OUT_HIGH	(256 * 1024)
#define FA_HEADER_TOTAL	(256UL * 1024 * 1024)	/* all messages' headers */

enum fa_mstate {
	FA_DATA,	/* receiving data-lines */
	FA_WAIT,	/* "." seen and fed, key lookups under way */
	FA_REPLAY,	/* writing fields and kept lines */
	FA_COMMIT,	/* "." sent, waiting for the commit phase */
	FA_PASS		/* echoing lines as they come, nothing added */
};

struct fa_msg {
	struct fa_ssn	*ssn;
	char		 tok[SMTPD_ID_MAX + 1];
	char		 id[64];	/* for log lines */
	enum fa_mstate	 state;
	arc_session	*as;
	int		 eom;		/* "." received */
	int		 feed_failed, longline, ready, lists;
	int		 in_body;	/* the feed passed the empty line */
	int		 pass_replay;	/* FA_PASS, kept lines still going out */
	size_t		 hdr_bytes;	/* header bytes fed */
	long long	 wait_since;
	struct fa_spool	 sp;
	struct fa_cursor feed, replay;
	char		*reply;		/* the refusal to give at commit */
	struct fa_msg	*next;		/* waiting or replay list */
	struct fa_msg	*fnext;		/* feed list */
};

void		 fa_msg_set_timeout(long ms);
void		 fa_msg_set_header_limit(size_t bytes);
/* A new message for session s on adapter ad (NULL: pass through). */
struct fa_msg	*fa_msg_new(struct fa_ssn *, struct smtpd_str tok,
		    arc_adapter *);
void		 fa_msg_free(struct fa_msg *);
void		 fa_msg_rcpt(struct fa_msg *, const char *);
/* One data-line, "." included: 0 when taken, 1 when it must be given
 * again later (the kept lines of a message passed on go out first). */
int		 fa_msg_dataline(struct fa_msg *, struct smtpd_str text);
/* 1 while a message passed on is writing out its kept lines: input
 * then waits (its next line may be one that has to follow them). */
int		 fa_msg_holding(void);
/* Feeds and replays one slice of each message; 1 if work is left. */
int		 fa_msg_work(void);
int		 fa_msg_any_waiting(void);
void		 fa_msg_check_waiting(void);
/* Messages alive, and their header bytes (for the status line). */
size_t		 fa_msg_count(void);
size_t		 fa_msg_header_bytes(void);

#endif
