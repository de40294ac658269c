/*
 * fuzz_message.c - libFuzzer harness: a whole message verified and
 * sealed (arc_msg_feed, arc_msg_eom, arc_msg_seal with a fixed Ed25519
 * key), then the sealed message verified again.
 *
 * Oracles, beyond the sanitizers:
 *  - no call fails on hostile input;
 *  - a seal is refused only when the newest ARC-Seal says cv=fail or
 *    the chain already has 50 sets;
 *  - each new field is one complete header field: it ends in CRLF, and
 *    every other line end is CRLF followed by whitespace (folding), so
 *    nothing from the input can end the field early or start another;
 *  - the message with the new set on top verifies as pass when the
 *    sealer saw none or pass, as fail when it saw fail.  Inputs that
 *    start with whitespace are skipped for this one: their first line
 *    would continue our AAR, which is the input's doing.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"
#include "fuzz.h"

static arc_signer	*signer;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	 err[256];

	(void)argc;
	(void)argv;
	if ((signer = arc_signer_create_pem(FUZZ_SEAL_DOMAIN,
	    FUZZ_SEAL_SELECTOR, FUZZ_SEAL_PEM, strlen(FUZZ_SEAL_PEM), err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_message: %s\n", err);
		abort();
	}
	return 0;
}

static void
check_field(const char *f, const char *name)
{
	size_t	 n = strlen(f), i, col;

	if (n < 2 || f[n - 2] != '\r' || f[n - 1] != '\n' ||
	    strncmp(f, name, strlen(name)) != 0)
		abort();
	for (i = 0; i + 2 < n; i++) {
		if (f[i] == '\r' && (f[i + 1] != '\n' ||
		    (f[i + 2] != ' ' && f[i + 2] != '\t')))
			abort();
		if (f[i] == '\n' && (i == 0 || f[i - 1] != '\r'))
			abort();
	}
	/* printable ASCII but for folds; lines within 998 octets */
	for (i = 0, col = 0; i < n; i++) {
		unsigned char c = (unsigned char)f[i];

		if (c == '\r' || c == '\n') {
			col = 0;
			continue;
		}
		if ((c < 0x20 && c != '\t') || c > 0x7e || ++col > 998)
			abort();
	}
}

/* The DKIM results (ARC_MSG_DKIM) are header text: printable ASCII,
 * reasons without ';', within the signature limit (10, and one more
 * that says "signature limit"). */
static void
check_dkim(const arc_msg *m)
{
	char	*ar = arc_msg_dkim_authres(m);
	int	 i, n = arc_msg_dkim_count(m);

	if (ar == NULL || n < 0 || n > 11)
		abort();
	for (const char *c = ar; *c; c++)
		if ((unsigned char)*c < 0x20 || (unsigned char)*c > 0x7e)
			abort();
	for (i = 0; i < n; i++)
		if (strchr(arc_msg_dkim(m, i)->reason, ';') != NULL)
			abort();
	free(ar);
}

static arc_msg *
feed(arc_lib *lib, unsigned flags, const char *p, size_t n)
{
	arc_msg	*m;

	if ((m = arc_msg_create(lib, flags)) == NULL)
		abort();
	if ((flags & ARC_MSG_SEAL) && arc_msg_set_signer(m, signer) != ARC_OK)
		abort();
	if (arc_msg_feed(m, p, n) != ARC_OK || arc_msg_eom(m) != ARC_OK)
		abort();
	return m;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const extra[] = {
	    "lists.example.org; arc=pass smtp.remote-ip=192.0.2.1", NULL };
	const char	*p = (const char *)data;
	arc_lib		*lib = fuzz_lib();
	arc_msg		*m, *v;
	arc_seal_result	 res;
	arc_cv		 cv, cv2;
	char		*sealed;
	size_t		 hl;
	unsigned	 flags = (size & 1) ? ARC_SEAL_NOFOLD : 0;

	/* our three fields must never be what crosses a limit */
	arc_lib_limits(lib)->max_header_fields = 1000000;
	arc_lib_limits(lib)->max_field_bytes = 16 * 1024 * 1024;
	m = feed(lib, ARC_MSG_SEAL | ARC_MSG_DKIM, p, size);
	cv = arc_msg_cv(m);
	check_dkim(m);
	if (arc_msg_seal(m, signer, FUZZ_AUTHSERV_ID, (size & 2) ? extra :
	    NULL, FUZZ_NOW, flags, &res) != ARC_OK) {
		fprintf(stderr, "seal: %s\n", arc_msg_error(m));
		abort();
	}
	if (!res.sealed) {
		if (res.reason == NULL || (cv != ARC_CV_FAIL &&
		    arc_msg_nsets(m) < 50))
			abort();
		goto done;
	}
	check_field(res.as, "ARC-Seal:");
	check_field(res.ams, "ARC-Message-Signature:");
	check_field(res.aar, "ARC-Authentication-Results:");
	if (size > 0 && (p[0] == ' ' || p[0] == '\t'))
		goto done;
	hl = strlen(res.as) + strlen(res.ams) + strlen(res.aar);
	if ((sealed = malloc(hl + size + 1)) == NULL)
		abort();
	snprintf(sealed, hl + 1, "%s%s%s", res.as, res.ams, res.aar);
	memcpy(sealed + hl, p, size);
	v = feed(lib, ARC_MSG_VERIFY, sealed, hl + size);
	cv2 = arc_msg_cv(v);
	if (cv2 != (cv == ARC_CV_FAIL ? ARC_CV_FAIL : ARC_CV_PASS) ||
	    (cv2 == ARC_CV_PASS && arc_msg_nsets(v) != res.instance)) {
		fprintf(stderr, "sealed with cv=%s, verified as %s (%s)\n",
		    arc_cv_name(cv), arc_cv_name(cv2), arc_msg_reason(v));
		abort();
	}
	arc_msg_free(v);
	free(sealed);
done:
	arc_seal_result_clear(&res);
	arc_msg_free(m);
	arc_lib_free(lib);
	return 0;
}
