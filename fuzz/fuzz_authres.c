/*
 * fuzz_authres.c - libFuzzer harness: the Authentication-Results
 * tokenizer (arc_authres_parse, arc_authres_has_method).
 *
 * Oracles: the authserv-id is a NUL-terminated string inside its
 * buffer; the payload lies inside the input, does not start or end with
 * whitespace or ';'; "none" is only reported for a payload that is
 * "none" give or take comments; has_method never reads outside.
 * The AAR's cleaner (arc_authres_scan, arc_authres_write) on the
 * whole input as a payload, with and without comments: every span lies
 * inside the input, what is written is printable ASCII without CR or
 * LF, and it scans back without error to itself.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arc_authres.h"
#include "arc_buf.h"

/* Each good resinfo written, checked and scanned back to itself. */
static void
clean(const char *p, size_t size, unsigned flags)
{
	arc_ar_resinfo	 ri, ri2;
	arc_buf		 b = { 0 }, b2 = { 0 };
	size_t		 pos = 0, last = 0, i, pos2;

	while (arc_authres_scan(p, size, &pos, &ri)) {
		if (pos <= last && size > 0)
			abort();	/* no progress */
		last = pos;
		if (ri.method.p < p || ri.method.p + ri.method.n > p + size)
			abort();
		if (ri.error != NULL)
			continue;
		arc_buf_reset(&b);
		arc_authres_write(&b, &ri, flags);
		if (b.failed || b.len == 0)
			abort();
		for (i = 0; i < b.len; i++)
			if ((unsigned char)b.data[i] < 0x20 ||
			    (unsigned char)b.data[i] > 0x7e)
				abort();
		pos2 = 0;
		if (!arc_authres_scan(b.data, b.len, &pos2, &ri2) ||
		    ri2.error != NULL || pos2 != b.len)
			abort();
		arc_buf_reset(&b2);
		arc_authres_write(&b2, &ri2, flags);
		if (b2.len != b.len || memcmp(b2.data, b.data, b.len) != 0)
			abort();
	}
	arc_buf_free(&b);
	arc_buf_free(&b2);
}

static const char *const methods[] = { "arc", "dkim", "spf", "dmarc",
    "none", "", NULL };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data;
	arc_authres	 ar;
	int		 i;
	volatile int	 sink = 0;

	for (i = 0; methods[i]; i++)
		sink += arc_authres_has_method(p, size, methods[i]);
	clean(p, size, 0);
	clean(p, size, ARC_AR_COMMENTS | ARC_AR_NO_CHAIN);
	if (arc_authres_parse(&ar, p, size) != NULL)
		return 0;
	if (memchr(ar.id, '\0', sizeof(ar.id)) == NULL || ar.id[0] == '\0')
		abort();
	if (ar.payload == NULL || ar.payload < p ||
	    ar.payload + ar.payload_len > p + size)
		abort();
	if (ar.payload_len > 0) {
		char f = ar.payload[0], l = ar.payload[ar.payload_len - 1];

		if (f == ' ' || f == '\t' || f == '\r' || f == '\n' ||
		    l == ' ' || l == '\t' || l == '\r' || l == '\n' ||
		    l == ';')
			abort();
	}
	if (ar.none && (ar.payload_len < 4 || strncasecmp(ar.payload +
	    ar.payload_len - 4, "none", 4) != 0))
		abort();
	for (i = 0; methods[i]; i++)
		sink += arc_authres_has_method(ar.payload, ar.payload_len,
		    methods[i]);
	(void)sink;
	return 0;
}
