/*
 * fuzz_tables.c - libFuzzer harness: the OpenDKIM-format key table and
 * signing table (adapters/arc_signing.c) and the address tokenizers a
 * message is matched with (adapters/arc_mailaddr.c).
 *
 * Input: key table, a NUL byte, signing table, a NUL byte, then text
 * used as a From value, a List-Id value and an envelope address (any
 * part may be missing).  No key file is ever opened: the parser alone.
 *
 * Oracles: a table is made or an error "kt:N: ..." / "st:N: ..." / "kt:"
 * / "st:" (or "out of memory") comes out, never both, never neither;
 * an address the tokenizers give is NUL-terminated inside its buffer,
 * printable ASCII, lower case outside quotes, with one '@' (From and
 * envelope); selecting it twice gives the same line, a line the table
 * has, and a key with a name, a domain and a selector.
 */
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arc_mailaddr.h"
#include "arc_signing.h"

static void
check_error(const char *err)
{
	if (strncmp(err, "out of memory", 13) == 0)
		return;
	if (strncmp(err, "kt:", 3) != 0 && strncmp(err, "st:", 3) != 0)
		abort();
	/* "kt:N: why" or "kt: why" */
	if (err[3] != ' ' && !(isdigit((unsigned char)err[3]) &&
	    strchr(err + 3, ':') != NULL))
		abort();
}

static void
check_addr(const char *a, size_t cap, int want_at)
{
	size_t	 n = strnlen(a, cap), ats = 0;
	int	 quoted = 0;

	if (n == cap || n == 0)
		abort();
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)a[i];

		if (c <= 0x20 && !quoted)
			abort();
		if (c < 0x20 || c > 0x7e)
			abort();
		if (quoted && c == '\\') {	/* a quoted pair */
			i++;
			continue;
		}
		if (c == '"')
			quoted = !quoted;
		else if (c == '@' && !quoted)
			ats++;
		else if (!quoted && isupper(c))
			abort();
	}
	if (want_at && ats != 1)
		abort();
}

static void
select_twice(const arc_signing *sg, const char *a)
{
	arc_signing_match	 m1, m2;
	int			 r1 = arc_signing_select(sg, a, &m1);
	int			 r2 = arc_signing_select(sg, a, &m2);

	if (r1 != r2)
		abort();
	if (!r1)
		return;
	if (m1.line != m2.line || m1.key != m2.key || m1.line == 0 ||
	    m1.key == NULL || m1.key->name[0] == '\0' ||
	    m1.key->domain[0] == '\0' || m1.key->selector[0] == '\0' ||
	    m1.key->signer != NULL || m1.pattern == NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data, *end = p + size, *st, *rest;
	size_t		 ktlen, stlen, restlen;
	char		 err[512], a[320];
	arc_signing	*sg;

	st = memchr(p, '\0', size);
	ktlen = st ? (size_t)(st - p) : size;
	st = st ? st + 1 : end;
	rest = memchr(st, '\0', (size_t)(end - st));
	stlen = rest ? (size_t)(rest - st) : (size_t)(end - st);
	rest = rest ? rest + 1 : end;
	restlen = (size_t)(end - rest);

	err[0] = '\0';
	sg = arc_signing_parse("kt", p, ktlen, "st", st, stlen, err,
	    sizeof(err));
	if ((sg == NULL) == (err[0] == '\0'))
		abort();
	if (sg == NULL)
		check_error(err);
	else if (arc_signing_nkeys(sg) == 0 || arc_signing_nrules(sg) == 0)
		abort();

	if (arc_mailaddr_from(rest, restlen, a, sizeof(a)) == 0) {
		check_addr(a, sizeof(a), 1);
		select_twice(sg, a);
	} else if (a[0] != '\0')
		abort();
	if (arc_mailaddr_list_id(rest, restlen, a, sizeof(a)) == 0) {
		check_addr(a, sizeof(a), 0);
		select_twice(sg, a);
	} else if (a[0] != '\0')
		abort();
	{
		char *z = malloc(restlen + 1);

		if (z != NULL) {
			memcpy(z, rest, restlen);
			z[restlen] = '\0';
			if (arc_mailaddr_envelope(z, a, sizeof(a)) == 0) {
				check_addr(a, sizeof(a), 1);
				select_twice(sg, a);
			} else if (a[0] != '\0')
				abort();
			free(z);
		}
	}
	/* the raw text too, as an address the MTA might hand over */
	if (sg != NULL && restlen < sizeof(a)) {
		memcpy(a, rest, restlen);
		a[restlen] = '\0';
		select_twice(sg, a);
	}
	arc_signing_free(sg);
	return 0;
}
