/*
 * arc_authres.h - Authentication-Results tokenizer (RFC 8601), no side
 * effects beyond the output structure.
 *
 * Contract: arc_authres_parse() reads one field value (after the colon)
 * and finds the authserv-id (comments skipped, quoted-string unquoted,
 * copied into out->id, truncated to fit) and the span of the result
 * payload after the first ';' (out->payload, pointing into the caller's
 * text, leading whitespace and trailing ';'/whitespace trimmed).  A
 * payload of just "none" is reported as none = 1.  Returns NULL on
 * success or a static reason.  arc_authres_has_method() says whether a
 * payload holds a resinfo with the given method (case-insensitive).
 */
#ifndef ARC_AUTHRES_H
#define ARC_AUTHRES_H

#include <stddef.h>

typedef struct {
	char		 id[256];
	const char	*payload;
	size_t		 payload_len;
	int		 none;
} arc_authres;

const char	*arc_authres_parse(arc_authres *, const char *, size_t);
int		 arc_authres_has_method(const char *payload, size_t len,
		    const char *method);

#endif
