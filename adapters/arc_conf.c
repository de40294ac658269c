/*
 * arc_conf.c - arc.conf(5): the option table with defaults and ranges,
 * reading the file (errors say file:line), and the values.  See
 * arc_adapter.h for the contract.
 */
#include <sys/stat.h>

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <unistd.h>

#include "arc_adapter_int.h"

/* ---- arc.conf ------------------------------------------------------------ */

/* Every option, its default, and whether it may be given more than once
 * (values then accumulate, separated by '\n').  A "num" option's value
 * lies in [min, max] (both 0: 0 to 999999999), so that whatever reads it
 * may compute with it (a timeout in ms plus a clock) without overflow. */
/* entries without a range (not "num") leave min and max out */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
static const struct option_def {
	const char	*name;
	const char	*def;
	int		 multi;
	const char	*check;		/* "bool", "num", or a '|' list */
	long long	 min, max;	/* "num" */
} options[] = {
	{ "authserv-id", NULL, 0, NULL },
	{ "trusted-authserv-ids", NULL, 0, NULL },
	{ "trusted-sealers", NULL, 1, NULL },
	{ "key-table", NULL, 1, NULL },
	{ "dns", "yes", 0, "bool" },
	{ "dns-forwarder", NULL, 0, NULL },
	{ "dns-tls", "no", 0, "bool" },
	{ "dns-tls-ca", NULL, 0, NULL },
	{ "dnssec-trust-anchor", NULL, 0, NULL },
	{ "dns-timeout", "5000", 0, "num", 1, 300000 },
	{ "dns-negative-ttl", "60", 0, "num", 0, 86400 },
	{ "message-timeout", "10000", 0, "num", 1, 3600000 },
	{ "verify", "yes", 0, "bool" },
	{ "seal", NULL, 0, "bool" },
	{ "seal-domain", NULL, 0, NULL },
	{ "seal-selector", NULL, 0, NULL },
	{ "seal-key", NULL, 0, NULL },
	{ "seal-headers", NULL, 0, NULL },
	{ "oversign-headers", "from:to:cc:subject:date:message-id:reply-to", 0,
	    NULL },
	{ "seal-recipients", NULL, 0, NULL },
	{ "seal-key-table", NULL, 0, NULL },
	{ "seal-signing-table", NULL, 0, NULL },
	{ "seal-select", "list-id,rcpt,sender", 0, NULL },
	{ "seal-no-match", "default", 0, "default|none" },
	{ "seal-key-load", NULL, 0, "eager|lazy" },	/* unset: eager */
	{ "allow-world-readable-key", "no", 0, "bool" },
	{ "on-fail", "accept", 0, "accept|reject" },
	{ "reject-reply", "550 5.7.29 ARC validation failure", 0, NULL },
	{ "on-error", "pass", 0, "pass|tempfail" },
	{ "add-authentication-results", "yes", 0, "bool" },
	{ "aar-comments", "no", 0, "bool" },
	/* unset: the adapter's choice (arc_session_params.no_message_ar) */
	{ "aar-from-message", NULL, 0, "bool" },
	{ "authres-arc-chain", "yes", 0, "bool" },
	{ "log-level", "info", 0, "err|warning|info|debug" },
	{ "max-sets", "50", 0, "num", 1, 50 },
	{ "max-header-fields", "1000", 0, "num", 1, 100000 },
	{ "max-field-bytes", "65536", 0, "num", 1024, 16777216 },
	{ "max-tags", "64", 0, "num", 1, 1000 },
	{ "max-key-queries", "64", 0, "num", 1, 1000 },
	{ "min-rsa-bits", "1024", 0, "num", 512, 16384 },
	{ "max-rsa-bits", "8192", 0, "num", 1024, 16384 },
	{ "oldest-pass-factor", "2", 0, "num", 0, 1000 },
	{ "max-oldest-pass-bytes", "0", 0, "num", 0, 999999999 },
	{ "authenticate", "none", 0, NULL },	/* list: authenticate_parse */
	{ "max-dkim-signatures", "10", 0, "num", 0, 100 },
	{ "dkim-budget-factor", "2", 0, "num", 0, 1000 },
	{ "metrics-file", NULL, 0, NULL },	/* arc_stats.h */
	{ "metrics-interval", "15", 0, "num", 0, 86400 },
	{ "metrics-listen", NULL, 0, NULL },
	{ NULL, NULL, 0, NULL }
};
#pragma GCC diagnostic pop
#define NOPTIONS (sizeof(options) / sizeof(options[0]) - 1)

struct arc_conf {
	char	*value[NOPTIONS];	/* NULL: default */
	unsigned line[NOPTIONS];	/* where the file set it, 0: not */
	char	*path;			/* the file, NULL: none */
};

static int
option_index(const char *name)
{
	for (size_t i = 0; i < NOPTIONS; i++)
		if (strcmp(options[i].name, name) == 0)
			return (int)i;
	return -1;
}

static int
valid_value(const struct option_def *o, const char *v)
{
	const char	*p;
	size_t		 n = strlen(v);

	if (o->check == NULL)
		return 1;
	if (strcmp(o->check, "bool") == 0)
		return strcmp(v, "yes") == 0 || strcmp(v, "no") == 0;
	if (strcmp(o->check, "num") == 0) {
		long long	 x;

		if (n == 0 || n > 9 || strspn(v, "0123456789") != n)
			return 0;
		x = strtoll(v, NULL, 10);
		return (o->min == 0 && o->max == 0) ||
		    (x >= o->min && x <= o->max);
	}
	for (p = o->check; *p; ) {
		size_t l = strcspn(p, "|");

		if (l == n && strncmp(p, v, n) == 0)
			return 1;
		p += l + (p[l] == '|');
	}
	return 0;
}

int
arc_conf_set(arc_conf *c, const char *name, const char *value, char *err,
    size_t errlen)
{
	int	 i = option_index(name);
	char	*nv;

	if (i < 0) {
		snprintf(err, errlen, "unknown option \"%s\"", name);
		return -1;
	}
	if (!valid_value(&options[i], value)) {
		const struct option_def *o = &options[i];

		if (strcmp(o->check, "num") == 0 && (o->min || o->max))
			snprintf(err, errlen, "invalid value \"%s\" for %s (a "
			    "number from %lld to %lld)", value, name, o->min,
			    o->max);
		else
			snprintf(err, errlen, "invalid value \"%s\" for %s "
			    "(%s)", value, name, strcmp(o->check, "num") == 0 ?
			    "a number" : strcmp(o->check, "bool") == 0 ?
			    "yes or no" : o->check);
		return -1;
	}
	if (options[i].multi && c->value[i] != NULL) {
		if (asprintf(&nv, "%s\n%s", c->value[i], value) < 0)
			nv = NULL;
	} else
		nv = strdup(value);
	if (nv == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	free(c->value[i]);
	c->value[i] = nv;
	return 0;
}

const char *
arc_conf_get(const arc_conf *c, const char *name)
{
	int	 i = option_index(name);

	if (i < 0)
		return NULL;
	return c->value[i] ? c->value[i] : options[i].def;
}

int
arc_conf_yes(const arc_conf *c, const char *name)
{
	const char *v = arc_conf_get(c, name);

	return v != NULL && strcmp(v, "yes") == 0;
}

long
arc_conf_num(const arc_conf *c, const char *name)
{
	const char *v = arc_conf_get(c, name);

	return v ? strtol(v, NULL, 10) : 0;
}

void
arc_conf_free(arc_conf *c)
{
	if (c == NULL)
		return;
	for (size_t i = 0; i < NOPTIONS; i++)
		free(c->value[i]);
	free(c->path);
	free(c);
}

/* "file:line: " where the file set the option, "" if it did not: for
 * errors about what the option names (a key the user cannot read). */
const char *
arc_conf_where(const arc_conf *c, const char *name, char *buf, size_t len)
{
	int	 i = option_index(name);

	buf[0] = '\0';
	if (i >= 0 && c->path != NULL && c->line[i] > 0)
		snprintf(buf, len, "%s:%u: ", c->path, c->line[i]);
	return buf;
}

/* The first byte of a line that is not printable ASCII or a tab (NUL
 * included; the line end is fine), or -1: values end up in logs and
 * error messages, and domains, selectors and paths here are ASCII. */
static int
bad_byte(const char *s, size_t n)
{
	while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
		n--;
	for (size_t i = 0; i < n; i++)
		if (((unsigned char)s[i] < 0x20 && s[i] != '\t') ||
		    (unsigned char)s[i] > 0x7e)
			return (unsigned char)s[i];
	return -1;
}

arc_conf *
arc_conf_load(const char *path, char *err, size_t errlen)
{
	arc_conf	*c;
	FILE		*fp;
	char		*line = NULL, *p, *name, *v, msg[256];
	size_t		 cap = 0, n;
	ssize_t		 ll;
	unsigned	 lineno = 0;
	int		 bad;

	if ((c = calloc(1, sizeof(*c))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (path == NULL)
		return c;
	if ((fp = fopen(path, "re")) == NULL ||
	    (c->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		if (fp)
			fclose(fp);
		arc_conf_free(c);
		return NULL;
	}
	while ((ll = getline(&line, &cap, fp)) != -1) {
		lineno++;
		if ((bad = bad_byte(line, (size_t)ll)) >= 0) {
			snprintf(err, errlen, "%s:%u: byte 0x%02x: arc.conf "
			    "takes printable ASCII and tabs", path, lineno, bad);
			goto fail;
		}
		for (p = line; isspace((unsigned char)*p); p++)
			;
		if (*p == '#' || *p == '\0')
			continue;
		name = p;
		while (*p && !isspace((unsigned char)*p) && *p != '=')
			p++;
		if (*p)
			*p++ = '\0';
		while (isspace((unsigned char)*p) || *p == '=')
			p++;
		v = p;
		n = strlen(v);
		while (n > 0 && isspace((unsigned char)v[n - 1]))
			v[--n] = '\0';
		if (n >= 2 && v[0] == '"' && v[n - 1] == '"') {
			v[n - 1] = '\0';
			v++;
		}
		if (*v == '\0') {
			snprintf(err, errlen, "%s:%u: %s has no value", path,
			    lineno, name);
			goto fail;
		}
		if (arc_conf_set(c, name, v, msg, sizeof(msg)) != 0) {
			snprintf(err, errlen, "%s:%u: %s", path, lineno, msg);
			goto fail;
		}
		c->line[option_index(name)] = lineno;
	}
	free(line);
	fclose(fp);
	return c;
fail:
	free(line);
	fclose(fp);
	arc_conf_free(c);
	return NULL;
}
