/*
 * arc_fold.c - folding header fields below 78 columns (RFC 5322 §2.2.3).
 *
 * Folds only at white space that is already there, outside quoted
 * strings, by putting CRLF before it: relaxed canonicalization turns
 * such a fold back into the same single space, so folding a field after
 * it was signed with relaxed canonicalization keeps the signature good.
 * Existing folds are kept.  A line with no white space to fold at stays
 * long (RFC 5322 allows up to 998).
 */
#include <string.h>

#include "arc.h"
#include "arc_buf.h"

char *
arc_fold_field(const char *f, unsigned width)
{
	arc_buf	 out = { 0 };
	size_t	 col = 0, i, n = strlen(f), last_ws = 0;
	size_t	 line_start = 0;	/* offset in out of the current line */
	int	 quoted = 0, have_ws = 0;

	if (width < 20)
		width = 78;
	for (i = 0; i < n; i++) {
		char c = f[i];

		if (c == '\r' && i + 1 < n && f[i + 1] == '\n') {
			arc_buf_add(&out, "\r\n", 2);
			i++;
			col = 0;
			line_start = out.len;
			have_ws = 0;
			continue;
		}
		if (c == '"' && (i == 0 || f[i - 1] != '\\'))
			quoted = !quoted;
		if ((c == ' ' || c == '\t') && !quoted && col > 0 &&
		    out.len > line_start && out.data[out.len - 1] != ' ' &&
		    out.data[out.len - 1] != '\t' && out.data[out.len - 1] != ':') {
			last_ws = out.len;
			have_ws = 1;
		}
		arc_buf_addc(&out, c);
		col++;
		if (col > width && have_ws && !out.failed) {
			/* break the line at the last white space seen */
			size_t tail = out.len - last_ws;

			arc_buf_add(&out, "\r\n", 2);	/* make room */
			memmove(out.data + last_ws + 2, out.data + last_ws,
			    tail);
			memcpy(out.data + last_ws, "\r\n", 2);
			line_start = last_ws + 2;
			col = tail;
			have_ws = 0;
		}
	}
	return arc_buf_steal(&out);
}
