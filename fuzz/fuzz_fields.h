/*
 * fuzz_fields.h - the oracle the adapter-level harnesses share: a field
 * we write into a message is one complete, well-formed header field.
 *
 * Contract: header-only, static inline, no state.  fuzz_check_field() aborts
 * unless f starts with name, holds only printable ASCII (0x20-0x7e) and
 * tabs besides line ends, every CRLF but the last is followed by white
 * space (folding), no line is longer than 998 octets (RFC 5322 §2.1.1)
 * and it ends in CRLF.  fuzz_check_text() aborts unless s is printable
 * ASCII on one line (log lines, smtp replies).
 */
#ifndef FUZZ_FIELDS_H
#define FUZZ_FIELDS_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static inline void
fuzz_check_field(const char *f, const char *name)
{
	size_t	 n = strlen(f), i, line = 0;

	if (n < 2 || f[n - 2] != '\r' || f[n - 1] != '\n' ||
	    strncmp(f, name, strlen(name)) != 0) {
		fprintf(stderr, "not a %s field: %s\n", name, f);
		abort();
	}
	for (i = 0; i < n; i++) {
		unsigned char	 c = (unsigned char)f[i];

		if (c == '\r') {
			if (f[i + 1] != '\n' || (i + 2 < n &&
			    f[i + 2] != ' ' && f[i + 2] != '\t')) {
				fprintf(stderr, "bad line end at %zu: %s\n",
				    i, f);
				abort();
			}
			i++;
			line = 0;
			continue;
		}
		if ((c < 0x20 && c != '\t') || c > 0x7e) {
			fprintf(stderr, "byte 0x%02x at %zu: %s\n", c, i, f);
			abort();
		}
		if (++line > 998) {
			fprintf(stderr, "line over 998 octets: %s\n", f);
			abort();
		}
	}
}

static inline void
fuzz_check_text(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e) {
			fprintf(stderr, "byte 0x%02x in text\n",
			    (unsigned char)*s);
			abort();
		}
}

#endif
