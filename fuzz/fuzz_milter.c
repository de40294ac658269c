/*
 * fuzz_milter.c - libFuzzer harness: arc-milter's callbacks
 * (adapters/milter/arc_milter.c) given what libmilter hands them, with
 * libmilter's few functions played by this file: connect, HELO, MAIL
 * and RCPT arguments, each header field as libmilter splits it (name,
 * value with or without its leading space), end of headers, body
 * chunks, end of message, close.
 *
 * Input: an optional first line "#!helo|mail-from|rcpt,rcpt|L" (L:
 * negotiate SMFIP_HDR_LEADSPC), then the message.
 *
 * Oracles, beyond the sanitizers: every callback returns a libmilter
 * status; every field inserted has a name that is a field-name and a
 * value of printable ASCII and tabs whose line breaks (LF, as libmilter
 * wants them) are followed by white space, lines of at most 998
 * octets; an SMTP reply set is printable text.
 */
#include <sys/socket.h>
#include <sys/stat.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libmilter/mfapi.h>

#include "fuzz.h"
#include "fuzz_fields.h"
#include "milter/milter.h"

/* ---- what libmilter would provide -------------------------------------- */

struct smfi_str {
	void	*priv;
};

void *
smfi_getpriv(SMFICTX *ctx)
{
	return ctx->priv;
}

int
smfi_setpriv(SMFICTX *ctx, void *p)
{
	ctx->priv = p;
	return MI_SUCCESS;
}

char *
smfi_getsymval(SMFICTX *ctx, char *sym)
{
	(void)ctx;
	return strcmp(sym, "i") == 0 ? "4FuzzQ1d" : NULL;
}

int
smfi_insheader(SMFICTX *ctx, int idx, char *name, char *value)
{
	size_t	 line = 0;

	(void)ctx;
	(void)idx;
	if (*name == '\0' || strcspn(name, ": \t\r\n") != strlen(name)) {
		fprintf(stderr, "bad field name \"%s\"\n", name);
		abort();
	}
	fuzz_check_text(name);
	for (const char *v = value; *v; v++) {
		if (*v == '\n') {
			if (v[1] != ' ' && v[1] != '\t') {
				fprintf(stderr, "unfolded line in %s\n", name);
				abort();
			}
			line = 0;
			continue;
		}
		if (((unsigned char)*v < 0x20 && *v != '\t') ||
		    (unsigned char)*v > 0x7e) {
			fprintf(stderr, "byte 0x%02x in %s\n",
			    (unsigned char)*v, name);
			abort();
		}
		if (++line > 998) {
			fprintf(stderr, "line over 998 octets in %s\n", name);
			abort();
		}
	}
	return MI_SUCCESS;
}

int
smfi_setreply(SMFICTX *ctx, char *rcode, char *xcode, char *message)
{
	(void)ctx;
	fuzz_check_text(rcode ? rcode : "");
	fuzz_check_text(xcode ? xcode : "");
	fuzz_check_text(message ? message : "");
	return MI_SUCCESS;
}

/* ---- the harness ------------------------------------------------------- */

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static char	 dir[] = "/tmp/fuzz-milter.XXXXXX";
	char		 key[300], table[300], conf[300], text[1024], err[512];
	arc_runtime	*rt;
	FILE		*fp;

	(void)argc;
	(void)argv;
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(key, sizeof(key), "%s/key.pem", dir);
	snprintf(table, sizeof(table), "%s/keys", dir);
	snprintf(conf, sizeof(conf), "%s/arc.conf", dir);
	if ((fp = fopen(key, "w")) == NULL || fputs(FUZZ_SEAL_PEM, fp) < 0 ||
	    fclose(fp) != 0 || chmod(key, 0600) != 0)
		abort();
	if ((fp = fopen(table, "w")) == NULL ||
	    fprintf(fp, "%s %s\ndummy._domainkey.example.org %s\n",
	    FUZZ_SEAL_QNAME, FUZZ_SEAL_KEY, FUZZ_SUITE_KEY) < 0 ||
	    fclose(fp) != 0)
		abort();
	snprintf(text, sizeof(text), "authserv-id %s\nkey-table %s\ndns no\n"
	    "seal yes\nseal-domain %s\nseal-selector %s\nseal-key %s\n"
	    "log-level err\n", FUZZ_AUTHSERV_ID, table, FUZZ_SEAL_DOMAIN,
	    FUZZ_SEAL_SELECTOR, key);
	if ((fp = fopen(conf, "w")) == NULL || fputs(text, fp) < 0 ||
	    fclose(fp) != 0)
		abort();
	milter_log_to(MLOG_STDERR);
	if ((rt = arc_runtime_create(conf, milter_adapter_log, NULL, err,
	    sizeof(err))) == NULL || milter_start(rt, err, sizeof(err)) != 0) {
		fprintf(stderr, "fuzz_milter: %s\n", err);
		abort();
	}
	return 0;
}

static void
status(sfsistat r)
{
	if (r != SMFIS_CONTINUE && r != SMFIS_ACCEPT && r != SMFIS_REJECT &&
	    r != SMFIS_TEMPFAIL && r != SMFIS_DISCARD) {
		fprintf(stderr, "callback returned %d\n", (int)r);
		abort();
	}
}

/* One header field as libmilter splits it: the name up to the colon,
 * the value after it (its leading white space only with LEADSPC),
 * folding kept, without the final line end. */
static void
header(SMFICTX *ctx, const char *p, size_t n, int leadspc)
{
	const char	*colon = memchr(p, ':', n), *v, *end = p + n;
	char		*name, *value;

	if (colon == NULL || colon == p)
		return;		/* libmilter never hands such a line */
	while (end > colon + 1 && (end[-1] == '\n' || end[-1] == '\r'))
		end--;
	v = colon + 1;
	if (!leadspc)
		while (v < end && (*v == ' ' || *v == '\t'))
			v++;
	if ((name = strndup(p, (size_t)(colon - p))) == NULL ||
	    (value = strndup(v, (size_t)(end - v))) == NULL)
		abort();
	status(milter_desc.xxfi_header(ctx, name, value));
	free(name);
	free(value);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	SMFICTX			 ctx = { NULL };
	struct sockaddr_in	 sin;
	const char		*p = (const char *)data, *end = p + size, *e;
	char			*control = NULL, *part[4], *r, *next, *argv[2];
	unsigned long		 f0, f1, f2, f3;
	size_t			 cut;
	int			 i, leadspc;

	if (size >= 2 && memcmp(p, "#!", 2) == 0 &&
	    (e = memchr(p, '\n', size)) != NULL) {
		control = strndup(p + 2, (size_t)(e - p - 2));
		p = e + 1;
	}
	r = control;
	for (i = 0; i < 4; i++) {
		next = r ? strchr(r, '|') : NULL;
		if (next)
			*next++ = '\0';
		part[i] = r;
		r = next;
	}
	leadspc = part[3] && strchr(part[3], 'L') != NULL;
	status(milter_desc.xxfi_negotiate(&ctx, SMFIF_ADDHDRS,
	    leadspc ? SMFIP_HDR_LEADSPC : 0, 0, 0, &f0, &f1, &f2, &f3));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.7", &sin.sin_addr);
	status(milter_desc.xxfi_connect(&ctx, "client.example",
	    (struct sockaddr *)&sin));
	status(milter_desc.xxfi_helo(&ctx, part[0] ? part[0] :
	    "client.example"));
	argv[0] = part[1] ? part[1] : "<a@origin.example>";
	argv[1] = NULL;
	status(milter_desc.xxfi_envfrom(&ctx, argv));
	for (r = part[2] ? part[2] : "<b@list.example>"; r; r = next) {
		if ((next = strchr(r, ',')) != NULL)
			*next++ = '\0';
		argv[0] = r;
		status(milter_desc.xxfi_envrcpt(&ctx, argv));
	}
	/* the header: fields up to the blank line, as the MTA splits them */
	while (p < end && *p != '\n' && !(*p == '\r' && p + 1 < end &&
	    p[1] == '\n')) {
		for (e = p; e < end; e++)
			if (*e == '\n' && (e + 1 == end ||
			    (e[1] != ' ' && e[1] != '\t'))) {
				e++;
				break;
			}
		header(&ctx, p, (size_t)(e - p), leadspc);
		p = e;
	}
	if (p < end && *p == '\r')
		p++;
	if (p < end)
		p++;
	status(milter_desc.xxfi_eoh(&ctx));
	cut = (size_t)(end - p) * 7 / 13;
	if (cut > 0)
		status(milter_desc.xxfi_body(&ctx, (unsigned char *)p, cut));
	if (end - p - (ptrdiff_t)cut > 0)
		status(milter_desc.xxfi_body(&ctx, (unsigned char *)p + cut,
		    (size_t)(end - p) - cut));
	status(milter_desc.xxfi_eom(&ctx));
	status(milter_desc.xxfi_close(&ctx));
	free(control);
	return 0;
}
