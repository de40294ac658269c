/*
 * arc_mailaddr.h - the addresses a message is matched on when it chooses
 * its sealing identity (arc_signing.h): the first mailbox of a From
 * field, the list-id of a List-Id field (RFC 2919) and an envelope
 * address as an MTA hands it over.
 *
 * Contract: small, side-effect-free tokenizers.  Input is untrusted text
 * of the given length (not NUL-terminated, CRLF folding allowed); the
 * result is written NUL-terminated into out (outlen bytes), in lower
 * case: "local@domain" for addresses, "list-label.namespace" for a
 * list-id.  Comments, folding white space and quoting outside the
 * local part are removed; a local part keeps its quotes.  Each returns
 * 0, or -1 when the input holds no usable address or it does not fit
 * (out is then "").  Work is linear in the input length.
 */
#ifndef ARC_MAILADDR_H
#define ARC_MAILADDR_H

#include <stddef.h>

/* RFC 5322 From: the addr-spec of the first mailbox (name-addr or
 * addr-spec, source route dropped). */
int	arc_mailaddr_from(const char *value, size_t len, char *out,
	    size_t outlen);
/* RFC 2919 List-Id: the dot-atom between the angle brackets. */
int	arc_mailaddr_list_id(const char *value, size_t len, char *out,
	    size_t outlen);
/* An envelope address ("<a@b>", "a@b", with or without ESMTP
 * parameters after the closing bracket); the null sender "<>" is -1. */
int	arc_mailaddr_envelope(const char *addr, char *out, size_t outlen);

#endif
