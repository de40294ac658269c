/*
 * fuzz_session.c - libFuzzer harness: a whole message through the
 * adapter layer with sealing on (arc_session_*), as every MTA adapter
 * drives it: envelope recipients, host Authentication-Results, a
 * per-message list of fields to sign, the client address, then the
 * message fed in two chunks.
 *
 * Input: an optional first line "#!rcpts|seal-headers|ar1|ar2|ip"
 * (rcpts comma separated; empty parts are unset), then the message.
 *
 * Oracles, beyond the sanitizers:
 *  - no call fails, and the session never stays pending (keys come from
 *    a synchronous callback);
 *  - every field the actions insert is a well-formed header field of
 *    printable ASCII (fuzz_fields.h), and the log summary and any SMTP
 *    reply are printable text on one line;
 *  - a sealed message (our fields on top) verifies as pass when the
 *    chain we saw was none or pass, as fail when it was fail.
 */
#include <sys/stat.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arc_adapter.h"
#include "fuzz.h"
#include "fuzz_fields.h"

static arc_conf	*conf;

static void
no_log(void *arg, int level, const char *line)
{
	(void)arg;
	(void)level;
	fuzz_check_text(line);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char	 dir[] = "/tmp/fuzz-session.XXXXXX";
	char		 key[300], err[512];
	FILE		*fp;

	(void)argc;
	(void)argv;
	snprintf(key, sizeof(key), "%s/key.pem", mkdtemp(dir));
	if ((fp = fopen(key, "w")) == NULL || fputs(FUZZ_SEAL_PEM, fp) < 0 ||
	    fclose(fp) != 0 || chmod(key, 0600) != 0)
		abort();
	if ((conf = arc_conf_load(NULL, err, sizeof(err))) == NULL ||
	    arc_conf_set(conf, "authserv-id", FUZZ_AUTHSERV_ID, err,
	    sizeof(err)) != 0 ||
	    arc_conf_set(conf, "dns", "no", err, sizeof(err)) != 0 ||
	    arc_conf_set(conf, "seal", "yes", err, sizeof(err)) != 0 ||
	    arc_conf_set(conf, "seal-domain", FUZZ_SEAL_DOMAIN, err,
	    sizeof(err)) != 0 ||
	    arc_conf_set(conf, "seal-selector", FUZZ_SEAL_SELECTOR, err,
	    sizeof(err)) != 0 ||
	    arc_conf_set(conf, "seal-key", key, err, sizeof(err)) != 0 ||
	    arc_conf_set(conf, "log-level", "debug", err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_session: %s\n", err);
		abort();
	}
	return 0;
}

/* Splits the control line at '|' into at most n parts (NULL: empty). */
static void
split_control(char *line, char **part, int n)
{
	int	 i;

	for (i = 0; i < n; i++) {
		char *bar = line ? strchr(line, '|') : NULL;

		if (bar)
			*bar = '\0';
		part[i] = line && *line ? line : NULL;
		line = bar ? bar + 1 : NULL;
	}
}

static void
verify_sealed(const arc_actions *a, const char *msg, size_t n, arc_cv cv)
{
	arc_lib	*lib = fuzz_lib();
	arc_msg	*m;
	size_t	 hl = 0, off = 0;
	char	*text;
	int	 i;

	for (i = 0; i < a->nfields; i++)
		hl += strlen(a->fields[i]);
	if ((text = malloc(hl + n + 1)) == NULL)
		abort();
	for (i = 0; i < a->nfields; i++) {
		memcpy(text + off, a->fields[i], strlen(a->fields[i]));
		off += strlen(a->fields[i]);
	}
	memcpy(text + off, msg, n);
	arc_lib_limits(lib)->max_header_fields = 1000000;
	arc_lib_limits(lib)->max_field_bytes = 16 * 1024 * 1024;
	if ((m = arc_msg_create(lib, ARC_MSG_VERIFY)) == NULL ||
	    arc_msg_feed(m, text, off + n) != ARC_OK ||
	    arc_msg_eom(m) != ARC_OK)
		abort();
	if (arc_msg_cv(m) != (cv == ARC_CV_FAIL ? ARC_CV_FAIL : ARC_CV_PASS)) {
		fprintf(stderr, "sealed with cv=%s, verified as %s (%s)\n",
		    arc_cv_name(cv), arc_cv_name(arc_msg_cv(m)),
		    arc_msg_reason(m));
		abort();
	}
	arc_msg_free(m);
	arc_lib_free(lib);
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "ARC-Seal:",
	    "ARC-Message-Signature:", "ARC-Authentication-Results:",
	    "Authentication-Results:" };
	arc_session_params	 p = { 0 };
	const arc_actions	*a;
	arc_adapter		*ad;
	arc_session		*ss;
	const char		*msg = (const char *)data, *nl, *authres[3];
	char			*control = NULL, *part[5], *r, *next, err[512];
	size_t			 n = size, cut;
	int			 i, first = 0, nar = 0;

	if (n >= 2 && memcmp(msg, "#!", 2) == 0 &&
	    (nl = memchr(msg, '\n', n)) != NULL) {
		control = strndup(msg + 2, (size_t)(nl - msg - 2));
		n -= (size_t)(nl + 1 - msg);
		msg = nl + 1;
	}
	split_control(control, part, 5);
	if ((ad = arc_adapter_create(conf, no_log, NULL, err,
	    sizeof(err))) == NULL) {
		fprintf(stderr, "fuzz_session: %s\n", err);
		abort();
	}
	arc_lib_set_txt_lookup(arc_adapter_lib(ad), fuzz_txt_lookup, NULL);
	arc_lib_set_now(arc_adapter_lib(ad), FUZZ_NOW);
	for (i = 2; i < 4; i++)
		if (part[i])
			authres[nar++] = part[i];
	authres[nar] = NULL;
	p.id = "fuzz";
	p.seal = -1;
	p.seal_headers = part[1];
	p.authres = authres;
	p.client_ip = part[4];
	if ((ss = arc_session_create(ad, &p)) == NULL)
		abort();
	for (r = part[0]; r; r = next) {
		if ((next = strchr(r, ',')) != NULL)
			*next++ = '\0';
		arc_session_rcpt(ss, r);
	}
	cut = n * 7 / 13;
	arc_session_feed(ss, msg, cut);
	arc_session_feed(ss, msg + cut, n - cut);
	if (arc_session_eom(ss) != ARC_SESSION_DONE)
		abort();
	a = arc_session_actions(ss);
	for (i = 0; i < a->nfields; i++) {
		while (first < 4 && strncmp(a->fields[i], names[first],
		    strlen(names[first])) != 0)
			first++;
		if (first == 4) {
			fprintf(stderr, "unexpected field: %s\n",
			    a->fields[i]);
			abort();
		}
		fuzz_check_field(a->fields[i], names[first]);
	}
	fuzz_check_text(a->summary);
	if (a->smtp_reply)
		fuzz_check_text(a->smtp_reply);
	if (a->sealed && !a->error && (n == 0 || (msg[0] != ' ' &&
	    msg[0] != '\t')))
		verify_sealed(a, msg, n, a->cv);
	arc_session_free(ss);
	arc_adapter_free(ad);
	free(control);
	return 0;
}
