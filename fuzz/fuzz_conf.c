/*
 * fuzz_conf.c - libFuzzer harness: arc.conf and a key table, the two
 * files an operator writes, read as the adapters read them.
 *
 * Input: the arc.conf text, then optionally a NUL byte and a key table
 * (public keys, "selector._domainkey.domain TXT-value" lines).  Both are
 * written to files and loaded with arc_conf_load() and
 * arc_lib_add_keytable(); a configuration that loads is also turned into
 * an adapter (DNS forced off, so nothing leaves the machine).
 *
 * Oracles, beyond the sanitizers: an error names the file and, for a
 * line of arc.conf, "file:line:"; every error text is printable ASCII
 * (and tabs, which a quoted line may hold) on one line: it goes to logs
 * and terminals; so is every log line of an adapter built from it.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arc_adapter.h"
#include "fuzz.h"

static char	 dir[] = "/tmp/fuzz-conf.XXXXXX";
static char	 conf_path[300], table_path[300];

static void	check_quoting(const char *);

static void
no_log(void *arg, int level, const char *line)
{
	(void)arg;
	(void)level;
	check_quoting(line);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(conf_path, sizeof(conf_path), "%s/arc.conf", dir);
	snprintf(table_path, sizeof(table_path), "%s/keys", dir);
	return 0;
}

static void
put(const char *path, const uint8_t *p, size_t n)
{
	FILE	*fp = fopen(path, "w");

	if (fp == NULL || (n > 0 && fwrite(p, 1, n, fp) != n) ||
	    fclose(fp) != 0)
		abort();
}

/* Errors and log lines may quote the operator's line, which arc.conf
 * allows to hold tabs; nothing else but printable ASCII. */
static void
check_quoting(const char *text)
{
	for (const char *p = text; *p; p++)
		if (*p != '\t' && ((unsigned char)*p < 0x20 ||
		    (unsigned char)*p > 0x7e)) {
			fprintf(stderr, "byte 0x%02x in \"%s\"\n",
			    (unsigned char)*p, text);
			abort();
		}
}

static void
check_error(const char *err, const char *path)
{
	check_quoting(err);
	if (strncmp(err, path, strlen(path)) != 0 &&
	    strstr(err, "out of memory") == NULL) {
		fprintf(stderr, "error without its file: %s\n", err);
		abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t	*nul = memchr(data, '\0', size);
	size_t		 cn = nul ? (size_t)(nul - data) : size;
	arc_conf	*c;
	arc_adapter	*ad;
	arc_lib		*lib;
	char		 err[1024];

	put(conf_path, data, cn);
	if ((c = arc_conf_load(conf_path, err, sizeof(err))) == NULL)
		check_error(err, conf_path);
	else {
		/* nothing may leave the machine, whatever the file says */
		if (arc_conf_set(c, "dns", "no", err, sizeof(err)) != 0)
			abort();
		if ((ad = arc_adapter_create(c, no_log, NULL, err,
		    sizeof(err))) == NULL)
			check_quoting(err);
		arc_adapter_free(ad);
		arc_conf_free(c);
	}
	if (nul == NULL)
		return 0;
	put(table_path, nul + 1, size - cn - 1);
	if ((lib = arc_lib_create()) == NULL)
		abort();
	if (arc_lib_add_keytable(lib, table_path) != ARC_OK)
		check_error(arc_lib_error(lib), table_path);
	arc_lib_free(lib);
	return 0;
}
