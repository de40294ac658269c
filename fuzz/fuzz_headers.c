/*
 * fuzz_headers.c - libFuzzer harness: the header-block parser and chain
 * validation (arc_msg_feed of arbitrary bytes, then arc_msg_eom, verify
 * mode; every key name answers with a fixed valid key, see fuzz.h).
 *
 * Oracles, beyond the sanitizers: no call fails on hostile input; the
 * verdict, reason, set count and oldest-pass are the same whether the
 * bytes come in one piece or in small chunks; every string the results
 * expose is readable; the Authentication-Results value holds no line
 * end or control character.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "fuzz.h"

typedef struct {
	arc_cv	 cv;
	int	 nsets, oldest;
	char	 reason[512];
} outcome;

static void
touch(const char *s)
{
	if (s != NULL && strlen(s) > 100000)
		abort();
}

static outcome
run(const uint8_t *data, size_t size, size_t chunk)
{
	arc_lib			*lib = fuzz_lib();
	arc_msg			*m;
	const arc_set_info	*si;
	outcome			 o;
	size_t			 i, n;
	char			*ar;
	int			 k;

	memset(&o, 0, sizeof(o));
	if ((m = arc_msg_create(lib, ARC_MSG_VERIFY)) == NULL)
		abort();
	for (i = 0; i < size; i += n) {
		n = size - i < chunk ? size - i : chunk;
		if (arc_msg_feed(m, (const char *)data + i, n) != ARC_OK)
			abort();
	}
	if (arc_msg_eom(m) != ARC_OK)
		abort();
	o.cv = arc_msg_cv(m);
	o.nsets = arc_msg_nsets(m);
	o.oldest = arc_msg_oldest_pass(m);
	snprintf(o.reason, sizeof(o.reason), "%s", arc_msg_reason(m));
	if (o.cv == ARC_CV_FAIL && o.reason[0] == '\0')
		abort();		/* a failure always says why */
	for (k = 1; k <= o.nsets; k++)
		if ((si = arc_msg_set(m, k)) != NULL) {
			touch(si->as_domain);
			touch(si->as_selector);
			touch(si->ams_domain);
			touch(si->ams_selector);
			touch(si->cv);
			touch(si->as_reason);
			touch(si->ams_reason);
		}
	if ((ar = arc_msg_authres(m, "mx.fuzz.example", "192.0.2.1")) == NULL)
		abort();
	for (i = 0; ar[i]; i++)
		if ((unsigned char)ar[i] < 0x20 || ar[i] == 0x7f)
			abort();
	free(ar);
	arc_msg_free(m);
	arc_lib_free(lib);
	return o;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	outcome	 a, b;
	size_t	 chunk = 1, i;

	a = run(data, size, size ? size : 1);
	/* a chunk size that depends on the input: 1 to 64 */
	for (i = 0; i < size; i++)
		chunk = chunk * 31 + data[i];
	chunk = 1 + chunk % 64;
	b = run(data, size, chunk);
	if (a.cv != b.cv || a.nsets != b.nsets || a.oldest != b.oldest ||
	    strcmp(a.reason, b.reason) != 0) {
		fprintf(stderr, "chunking changed the verdict: %s (%s) / "
		    "chunk %zu: %s (%s)\n", arc_cv_name(a.cv), a.reason,
		    chunk, arc_cv_name(b.cv), b.reason);
		abort();
	}
	return 0;
}
