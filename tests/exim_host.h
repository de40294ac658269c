/*
 * exim_host.h - the few Exim symbols the dlfunc module (adapters/exim/
 * exim_arc.c) uses, for programs that run the module without Exim: its
 * unit test and its fuzz harness.
 *
 * Contract: header-only, included once per program after
 * <exim4/local_scan.h> with DLFUNC_IMPL defined.  Globals as Exim has
 * them (header_list, message_id, ...), log_write() appending each line
 * to exim_logbuf, expand_string() knowing $primary_hostname and
 * $sender_helo_name, and string_copy_function() keeping its copies like
 * a store pool; exim_host_free() releases them.
 */
#ifndef EXIM_HOST_H
#define EXIM_HOST_H

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned int	 debug_selector;
header_line	*header_list, *header_last;
uschar		*message_id;
uschar		*sender_host_address;
int		 recipients_count;
recipient_item	*recipients_list;

static char	 exim_logbuf[65536];	/* everything logged, one a line */

void
log_write(unsigned int sel, int flags, const char *fmt, ...)
{
	va_list	 ap;
	size_t	 n = strlen(exim_logbuf);

	(void)sel;
	(void)flags;
	va_start(ap, fmt);
	if (n < sizeof(exim_logbuf) - 2) {
		vsnprintf(exim_logbuf + n, sizeof(exim_logbuf) - n - 1, fmt,
		    ap);
		strcat(exim_logbuf, "\n");
	}
	va_end(ap);
}

void
debug_printf(const char *fmt, ...)
{
	(void)fmt;
}

uschar *
expand_string(uschar *s)
{
	if (strcmp((char *)s, "$primary_hostname") == 0)
		return (uschar *)"mx.test.example";
	if (strcmp((char *)s, "$sender_helo_name") == 0)
		return (uschar *)"client.example";
	return NULL;
}

/* Exim's store: kept until the end, like a store pool */
static char	*exim_copies[256];
static int	 exim_ncopies;

uschar *
string_copy_function(const uschar *s)
{
	char *c = strdup((const char *)s);

	if (exim_ncopies == 256) {
		free(exim_copies[0]);
		memmove(exim_copies, exim_copies + 1,
		    sizeof(exim_copies[0]) * 255);
		exim_ncopies--;
	}
	exim_copies[exim_ncopies++] = c;
	return (uschar *)c;
}

static void
exim_host_free(void)
{
	for (int i = 0; i < exim_ncopies; i++)
		free(exim_copies[i]);
	exim_ncopies = 0;
}

#endif
