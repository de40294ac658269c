/*
 * arc_fold.c - folding header fields below 78 columns (RFC 5322 §2.2.3).
 *
 * Folds only at white space that is already there, outside quoted
 * strings (a quoted-pair is one escaped byte, in a quoted string or a
 * comment), by putting CRLF before it: relaxed canonicalization turns
 * such a fold back into the same single space, so folding a field after
 * it was signed with relaxed canonicalization keeps the signature good.
 * Existing folds are kept.  A line with no white space to fold at stays
 * long (RFC 5322 allows up to 998).
 */
#include <stdlib.h>
#include <string.h>

#include "arc.h"

char *
arc_fold_field(const char *f, unsigned width)
{
	size_t	 col = 0, i, n = strlen(f), nws = 0, last_ws = 0, o = 0;
	size_t	 line_start = 0;	/* offset in out of the current line */
	int	 quoted = 0, have_ws = 0, too_long = 0, depth = 0, esc = 0;
	char	*out;

	if (width < 20)
		width = 78;
	/* each fold puts CRLF before a white-space byte: one allocation;
	 * and if no line is too long, nothing to do but copy */
	for (i = 0; i < n; i++) {
		nws += f[i] == ' ' || f[i] == '\t';
		col = f[i] == '\n' ? 0 : f[i] == '\r' ? col : col + 1;
		too_long |= col > width;
	}
	if ((out = malloc(n + 2 * nws + 1)) == NULL)
		return NULL;
	if (!too_long) {
		memcpy(out, f, n + 1);
		return out;
	}
	col = 0;
	for (i = 0; i < n; i++) {
		char	c = f[i];
		int	lit;		/* the byte of a quoted-pair */

		if (c == '\r' && i + 1 < n && f[i + 1] == '\n') {
			out[o++] = '\r';
			out[o++] = '\n';
			i++;
			col = 0;
			line_start = o;
			have_ws = 0;
			esc = 0;
			continue;
		}
		/* a quoted-pair escapes one byte ("a\\" ends its string);
		 * a '"' in a comment opens no string */
		if ((lit = esc) != 0)
			esc = 0;
		else if (c == '\\' && (quoted || depth > 0))
			esc = 1;
		else if (c == '"' && depth == 0)
			quoted = !quoted;
		else if (c == '(' && !quoted)
			depth++;
		else if (c == ')' && !quoted && depth > 0)
			depth--;
		if ((c == ' ' || c == '\t') && !quoted && !lit && col > 0 &&
		    o > line_start && out[o - 1] != ' ' && out[o - 1] != '\t' &&
		    out[o - 1] != ':') {
			last_ws = o;
			have_ws = 1;
		}
		out[o++] = c;
		col++;
		if (col > width && have_ws) {
			/* break the line at the last white space seen */
			size_t tail = o - last_ws;

			memmove(out + last_ws + 2, out + last_ws, tail);
			memcpy(out + last_ws, "\r\n", 2);
			o += 2;
			line_start = last_ws + 2;
			col = tail;
			have_ws = 0;
		}
	}
	out[o] = '\0';
	return out;
}
