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

#include "arc_buf.h"

typedef struct {
	char		 id[256];
	const char	*payload;
	size_t		 payload_len;
	int		 none;
} arc_authres;

const char	*arc_authres_parse(arc_authres *, const char *, size_t);
int		 arc_authres_has_method(const char *payload, size_t len,
		    const char *method);

/*
 * Copying results into an ARC-Authentication-Results: arc_authres_scan()
 * reads the resinfo at *pos of a payload (RFC 8601 §2.2) into spans of
 * the caller's text and moves *pos past it and its ';'; 0 when no
 * resinfo is left.  Method, result, ptype and property are Keywords
 * (letters, digits, '-'; at most ARC_AR_MAXNAME bytes); a value is a
 * quoted-string (quotes included) or a run of printable ASCII without
 * white space, ';', '(', ')', '"' or '\' (at most ARC_AR_MAXVALUE
 * bytes).  A property without a ptype (Microsoft's "action=none") has an
 * empty ptype.  Comments are noted by where they stand: after the
 * methodspec (at 0), the reason (1) or property k (2 + k).  A resinfo
 * that breaks the grammar, or holds a byte outside printable ASCII other
 * than folding white space outside its comments, has error set (a
 * static text) and should be dropped whole: we cannot know what it said.
 *
 * arc_authres_write() appends a good resinfo in one normal form:
 * "method[/v]=result[ (c)][ reason=v][ ptype.property=v[ (c)]]...",
 * single spaces, values quoted when they are not tokens, properties
 * without a ptype left out, and, with ARC_AR_COMMENTS, its comments
 * cleaned (printable ASCII, no parentheses, backslash or ';', at most
 * ARC_AR_MAXCOMMENT bytes each); ARC_AR_NO_CHAIN leaves "arc.chain"
 * out.  What it writes is printable ASCII that arc_authres_scan() reads
 * back the same.
 */
#define ARC_AR_MAXPROPS		16
#define ARC_AR_MAXCOMMENTS	8
#define ARC_AR_MAXNAME		64
#define ARC_AR_MAXVALUE		512
#define ARC_AR_MAXCOMMENT	128

#define ARC_AR_COMMENTS		0x01
#define ARC_AR_NO_CHAIN		0x02

typedef struct {
	const char	*p;
	size_t		 n;
} arc_ar_span;

typedef struct {
	arc_ar_span	 method, version, result, reason;
	struct {
		arc_ar_span	 ptype, property, value;
	}		 prop[ARC_AR_MAXPROPS];
	unsigned	 nprops;
	struct {
		arc_ar_span	 text;	/* inside the outer parentheses */
		unsigned	 at;
	}		 comment[ARC_AR_MAXCOMMENTS];
	unsigned	 ncomments;
	const char	*error;
} arc_ar_resinfo;

int		 arc_authres_scan(const char *payload, size_t len, size_t *pos,
		    arc_ar_resinfo *);
void		 arc_authres_write(arc_buf *, const arc_ar_resinfo *,
		    unsigned flags);

#endif
