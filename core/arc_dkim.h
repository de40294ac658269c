/*
 * arc_dkim.h - DKIM verification inside a message (internal to the core).
 *
 * Contract: arc_msg.c calls arc_dkim_prepare() at end of headers (when
 * the message was created with ARC_MSG_DKIM), arc_dkim_run() at end of
 * message once no key lookup is pending, arc_dkim_close() when
 * arc_msg_wait() runs out of time, and arc_dkim_free() with the message.
 * arc_dkim.c calls down only (arc_field.c, arc_sigcheck.c, arc_keys.c).
 */
#ifndef ARC_DKIM_H
#define ARC_DKIM_H

struct arc_msg;

void	arc_dkim_prepare(struct arc_msg *);
void	arc_dkim_run(struct arc_msg *);
void	arc_dkim_close(struct arc_msg *);
void	arc_dkim_free(struct arc_msg *);

#endif
