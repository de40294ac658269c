/*
 * fuzz_exim.c - libFuzzer harness: the Exim dlfunc module
 * (adapters/exim/exim_arc.c) given what Exim hands it: the header as
 * Exim's header_list (fields, deleted ones marked), the body in a spool
 * -D file held open, and ${dlfunc} arguments.
 *
 * Input: an optional first line "#!arg|arg|..." (extra dlfunc arguments
 * for each call, e.g. "headers=from:to", "ar=no", "authres=..."; the
 * first one is also the arc_result item), then the message.
 *
 * Oracles, beyond the sanitizers: arc_verify yields a known word or an
 * SMTP reply; arc_seal yields only ":at_start:" fields that Exim's
 * add_header takes as whole fields (LF line ends, continuation lines
 * starting with white space, printable ASCII, lines of at most 998
 * octets); arc_result's yields are printable text on one line.
 */
#include <sys/stat.h>

#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define DLFUNC_IMPL
#include <exim4/local_scan.h>

#include "exim_host.h"
#include "fuzz.h"

int	arc_verify(uschar **, int, uschar *[]);
int	arc_seal(uschar **, int, uschar *[]);
int	arc_result(uschar **, int, uschar *[]);

static char	 dir[] = "/tmp/fuzz-exim.XXXXXX";
static char	 conf_arg[340], spool[300];
static unsigned	 nmsg;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char	 path[300], text[2048];
	FILE	*fp;

	(void)argc;
	(void)argv;
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/input", dir);
	mkdir(path, 0700);
	snprintf(path, sizeof(path), "%s/key.pem", dir);
	if ((fp = fopen(path, "w")) == NULL || fputs(FUZZ_SEAL_PEM, fp) < 0 ||
	    fclose(fp) != 0 || chmod(path, 0600) != 0)
		abort();
	snprintf(text, sizeof(text), "%s/keys", dir);
	if ((fp = fopen(text, "w")) == NULL ||
	    fprintf(fp, "%s %s\ndummy._domainkey.example.org %s\n",
	    FUZZ_SEAL_QNAME, FUZZ_SEAL_KEY, FUZZ_SUITE_KEY) < 0 ||
	    fclose(fp) != 0)
		abort();
	snprintf(text, sizeof(text), "authserv-id %s\nkey-table %s/keys\n"
	    "dns no\nseal-domain %s\nseal-selector %s\nseal-key %s\n",
	    FUZZ_AUTHSERV_ID, dir, FUZZ_SEAL_DOMAIN, FUZZ_SEAL_SELECTOR, path);
	snprintf(path, sizeof(path), "%s/arc.conf", dir);
	if ((fp = fopen(path, "w")) == NULL || fputs(text, fp) < 0 ||
	    fclose(fp) != 0)
		abort();
	snprintf(conf_arg, sizeof(conf_arg), "conf=%s", path);
	snprintf(spool, sizeof(spool), "%s/input/1fuzz-000000-00-D", dir);
	return 0;
}

static void
free_headers(void)
{
	header_line	*h, *n;

	for (h = header_list; h; h = n) {
		n = h->next;
		free(h->text);
		free(h);
	}
	header_list = header_last = NULL;
}

/* Exim's header_list: fields up to the blank line, LF or CRLF kept as
 * the input has them; a field whose name starts with 'x-d' is marked
 * deleted.  Returns where the body starts. */
static const char *
receive_header(const char *p, const char *end)
{
	const char	*e;

	while (p < end && *p != '\n' && !(*p == '\r' && p + 1 < end &&
	    p[1] == '\n')) {
		header_line *h;

		for (e = p; e < end; e++)
			if (*e == '\n' && (e + 1 == end ||
			    (e[1] != ' ' && e[1] != '\t'))) {
				e++;
				break;
			}
		if ((h = calloc(1, sizeof(*h))) == NULL ||
		    (h->text = (uschar *)strndup(p, (size_t)(e - p))) == NULL)
			abort();
		h->slen = (int)strlen((char *)h->text);
		/* the terminated copy: the input itself may end here */
		h->type = strncasecmp((char *)h->text, "x-d", 3) == 0 ? '*' :
		    ' ';
		if (header_last)
			header_last->next = h;
		else
			header_list = h;
		header_last = h;
		p = e;
	}
	if (p < end && *p == '\r')
		p++;
	return p < end ? p + 1 : p;
}

/* Printable ASCII; a yield that may go into a header as it is may also
 * fold (LF, then white space). */
static void
check_line_text(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] == '\n' && i + 1 < n && (s[i + 1] == ' ' ||
		    s[i + 1] == '\t'))
			continue;
		else if ((unsigned char)s[i] < 0x20 && s[i] != '\t') {
			fprintf(stderr, "control byte in a yield: %s\n", s);
			abort();
		} else if ((unsigned char)s[i] > 0x7e) {
			fprintf(stderr, "8-bit byte in a yield: %s\n", s);
			abort();
		}
}

/* ":at_start:Name: value\n\tmore\n" ... */
static void
check_seal_yield(const char *y)
{
	const char	*p = y, *nl;

	while (*p) {
		if (strncmp(p, ":at_start:", 10) != 0) {
			fprintf(stderr, "not an add_header line: %s\n", p);
			abort();
		}
		p += 10;
		do {
			if ((nl = strchr(p, '\n')) == NULL ||
			    nl - p > 998) {
				fprintf(stderr, "bad field line: %s\n", p);
				abort();
			}
			check_line_text(p, (size_t)(nl - p));
			p = nl + 1;
		} while (*p == ' ' || *p == '\t');
	}
}

static const char *
call(exim_dlfunc_t *fn, int *rc, int argc, uschar **argv)
{
	uschar	*yield = NULL;

	*rc = fn(&yield, argc, argv);
	return yield ? (const char *)yield : "";
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char	*p = (const char *)data, *end = p + size, *body, *y;
	char		*control = NULL, *a, *bar, idbuf[64];
	uschar		*argv[10];
	int		 argc = 1, rc, fd;
	FILE		*fp;

	argv[0] = (uschar *)conf_arg;
	if (size >= 2 && memcmp(p, "#!", 2) == 0) {
		const char *nl = memchr(p, '\n', size);

		if (nl != NULL) {
			control = strndup(p + 2, (size_t)(nl - p - 2));
			p = nl + 1;
		}
	}
	for (a = control; a && argc < 9; a = bar) {
		if ((bar = strchr(a, '|')) != NULL)
			*bar++ = '\0';
		argv[argc++] = (uschar *)a;
	}
	argv[argc] = NULL;
	body = receive_header(p, end);
	/* a new message id each time: the module keeps one per message */
	snprintf(idbuf, sizeof(idbuf), "1fuzz-%06u-00", nmsg++ % 1000000);
	snprintf(spool, sizeof(spool), "%s/input/%s-D", dir, idbuf);
	if ((fp = fopen(spool, "w")) == NULL)
		abort();
	fprintf(fp, "%s-D\n", idbuf);
	fwrite(body, 1, (size_t)(end - body), fp);
	if (fclose(fp) != 0 || (fd = open(spool, O_RDWR)) == -1)
		abort();
	message_id = (uschar *)idbuf;
	sender_host_address = (uschar *)"192.0.2.7";

	y = call(arc_verify, &rc, argc, argv);
	if (rc == OK && strcmp(y, "pass") != 0 && strcmp(y, "fail") != 0 &&
	    strcmp(y, "none") != 0 && strcmp(y, "error") != 0) {
		fprintf(stderr, "arc_verify yielded \"%s\"\n", y);
		abort();
	}
	check_line_text(y, strlen(y));
	y = call(arc_seal, &rc, argc, argv);
	if (rc == OK)
		check_seal_yield(y);
	else
		check_line_text(y, strlen(y));
	/* the first extra argument doubles as arc_result's item */
	if (argc > 1) {
		uschar *ra[10];

		ra[0] = argv[1];
		ra[1] = argv[0];
		for (int i = 2; i < argc; i++)
			ra[i] = argv[i];
		y = call(arc_result, &rc, argc, ra);
		check_line_text(y, strlen(y));
	}
	y = call(arc_result, &rc, 1, argv);
	check_line_text(y, strlen(y));

	close(fd);
	unlink(spool);
	free_headers();
	exim_host_free();
	exim_logbuf[0] = '\0';
	free(control);
	return 0;
}
