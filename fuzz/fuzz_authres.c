/*
 * fuzz_authres.c - libFuzzer harness: the Authentication-Results
 * tokenizer (arc_authres_parse, arc_authres_has_method).
 *
 * Oracles: the authserv-id is a NUL-terminated string inside its
 * buffer; the payload lies inside the input, does not start or end with
 * whitespace or ';'; "none" is only reported for a payload that is
 * "none" give or take comments; has_method never reads outside.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arc_authres.h"

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
