/*
 * fuzz_policy.c - libFuzzer harness: the receiver policy
 * (adapters/arc_policy.c) on a whole message: the chain verified with
 * the suite's key for every name, the verdict for a list that trusts
 * the suite's sealers (example.org, *.example.org), with the input's
 * first line as the host's own Authentication-Results too, and the
 * RFC 8617 §7.2.2 comment; the input as a trusted-sealers list as well
 * (without "file:", which would read whatever file the input names).
 *
 * Oracles, beyond the sanitizers: every string of the verdict is
 * printable ASCII inside its buffer; override only for a passing chain
 * with a trusted sealer that explains the failure, that sealer within
 * the chain; the comment starts "arc=", is printable ASCII and no longer
 * than its bound (64 + 540 bytes a set + 64).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "arc_policy.h"
#include "fuzz.h"

static arc_lib		*lib;
static arc_policy	*policy;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	 err[256];

	(void)argc;
	(void)argv;
	lib = fuzz_lib();
	if ((policy = arc_policy_create("example.org *.example.org",
	    NULL, err, sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_policy: %s\n", err);
		abort();
	}
	return 0;
}

static void
printable(const char *s, size_t cap)
{
	size_t	 i;

	for (i = 0; i < cap && s[i]; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			abort();
	if (i == cap)
		abort();	/* not terminated inside its buffer */
}

static void
check(const arc_msg *m, const arc_verdict *v)
{
	printable(v->domain, sizeof(v->domain));
	printable(v->dkim, sizeof(v->dkim));
	printable(v->spf, sizeof(v->spf));
	printable(v->dmarc, sizeof(v->dmarc));
	printable(v->from_domain, sizeof(v->from_domain));
	printable(v->local_dmarc, sizeof(v->local_dmarc));
	printable(v->why, sizeof(v->why));
	if (v->override && (!v->chain_pass || v->instance == 0 ||
	    !v->explains))
		abort();
	if (v->instance < 0 || v->instance > arc_msg_nsets(m) ||
	    (v->instance > 0 && !arc_policy_trusts(policy, v->domain)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data;
	char		 line[512], *c, *list;
	const char	*host[] = { line, NULL };
	arc_verdict	 v;
	arc_msg		*m;
	arc_policy	*lp;
	size_t		 n, nsets;

	if ((m = arc_msg_create(lib, ARC_MSG_VERIFY)) == NULL)
		abort();
	if (arc_msg_feed(m, p, size) != ARC_OK)
		abort();
	if (arc_msg_eom(m) == ARC_PENDING && arc_msg_wait(m, 0) != ARC_OK)
		abort();
	for (n = 0; n < size && p[n] != '\r' && p[n] != '\n' && p[n]; n++)
		;
	snprintf(line, sizeof(line), "%.*s", (int)(n < 500 ? n : 500), p);

	arc_policy_evaluate(policy, m, FUZZ_AUTHSERV_ID, "mx.example.net",
	    NULL, &v);
	check(m, &v);
	arc_policy_evaluate(policy, m, FUZZ_AUTHSERV_ID, NULL, host, &v);
	check(m, &v);
	if ((c = arc_dmarc_comment(m)) == NULL)
		abort();
	nsets = (size_t)arc_msg_nsets(m);
	printable(c, 64 + nsets * 540 + 64);
	if (strncmp(c, "arc=", 4) != 0)
		abort();
	free(c);
	arc_msg_free(m);

	/* the input as a list: an error or a policy, never a crash */
	if (size < 4096 && memmem(p, size, "file:", 5) == NULL &&
	    (list = strndup(p, size)) != NULL) {
		char err[256];

		if ((lp = arc_policy_create(list, NULL, err, sizeof(err))) !=
		    NULL) {
			(void)arc_policy_trusts(lp, "a.example.org");
			(void)arc_policy_trusts(lp, list);
			arc_policy_free(lp);
		} else
			printable(err, sizeof(err));
		free(list);
	}
	return 0;
}
