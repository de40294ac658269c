/*
 * exim_arc.c - ARC (RFC 8617) for Exim: a ${dlfunc} module, built on the
 * adapter layer (adapters/arc_adapter.h).
 *
 *   ${dlfunc{/usr/lib/exim4/exim_arc.so}{arc_verify}{OPTION=VALUE}...}
 *   ${dlfunc{/usr/lib/exim4/exim_arc.so}{arc_seal}{OPTION=VALUE}...}
 *   ${dlfunc{/usr/lib/exim4/exim_arc.so}{arc_result}{ITEM}{OPTION=VALUE}...}
 *
 * Contract:
 *  - Meant for acl_smtp_data (the MIME, DKIM and not-SMTP ACLs work too):
 *    the header comes from Exim's header_list, deleted fields skipped; the
 *    body from the -D spool file, read with pread() through the descriptor
 *    Exim itself holds, so its lock on the file stays (closing any
 *    descriptor of that file would drop it).  The first line "<id>-D" is
 *    skipped whatever its length; LF and wire-format (CRLF) spools alike.
 *    The body is streamed in 64 KiB chunks: memory does not grow with the
 *    message.
 *  - arc_verify yields "pass", "fail" or "none", or "error" when the
 *    message could not be evaluated (a main log line says why).
 *  - arc_seal yields the fields to add with add_header, each one prefixed
 *    by ":at_start:" and given bottom-up (A-R, AAR, AMS, AS), since each
 *    :at_start: field goes above the previous one: the delivered order is
 *    AS, AMS, AAR, A-R from the top.  "" when nothing is to be added.
 *  - arc_result yields one item of the verdict, or every item as
 *    name="value" pairs for ${extract}.  Receiver policy items
 *    (docs/receiver-policy.md): trusted (the oldest trusted sealer's
 *    d=, "" if none), trusted_i, override (yes|no), policy (the verdict
 *    in words), dmarc_comment (RFC 8617 §7.2.2).
 *  - Options (any function): conf=PATH (default /etc/exim4/arc.conf; that
 *    default may be missing, then built-in defaults apply), authserv-id=,
 *    domain=, selector=, key=, headers= (the sealing identity, overriding
 *    arc.conf), authres=TEXT (Authentication-Results of this host, with or
 *    without the field name, copied into the AAR), ar=yes|no (arc_seal:
 *    whether our own Authentication-Results field is part of the yield).
 *  - One evaluation per message and set of options: later calls with the
 *    same options reuse it.  Everything is malloc'd, never Exim's store,
 *    and released when a call for another message_id comes; arc.conf and
 *    the adapter are loaded once per process and conf path.
 *  - Never DEFER or ERROR (those mean a 451 and a paniclog entry): always
 *    OK, except FAIL (451 to the client, no paniclog) from arc_verify and
 *    arc_seal after an internal error when arc.conf says on-error tempfail.
 *  - Uses nothing from Exim but what exim4 exports to dlfunc modules
 *    (checked by scripts/check-syms.sh); the symbols of the core and the
 *    adapter layer linked in are hidden by exim_arc.map.
 */
#include <sys/types.h>
#include <sys/stat.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define DLFUNC_IMPL
#include <exim4/local_scan.h>

#include "arc_adapter.h"
#include "arc_stats.h"

#define DEFAULT_CONF	"/etc/exim4/arc.conf"
#define CHUNK		65536
#define MAXAR		8	/* authres= values per call (dlfunc takes 8) */
#define MAXRUNS		4	/* evaluations kept for the current message */
#define MAXCONFS	8	/* arc.conf paths kept per process */
#define MAXINST		50	/* RFC 8617 §5.2 */

int	arc_verify(uschar **, int, uschar *[]);
int	arc_seal(uschar **, int, uschar *[]);
int	arc_result(uschar **, int, uschar *[]);

/* The options of one call; the strings belong to Exim or to ar[]. */
struct opts {
	const char	*conf, *authserv_id;
	const char	*domain, *selector, *key, *headers;
	char		*ar[MAXAR + 1];		/* normalised authres= values */
	int		 nar;
	int		 add_ar;		/* ar=: -1 unset, 0, 1 */
	const char	*item;			/* arc_result */
};

/* What an evaluation was made with: calls asking the same reuse it. */
struct key {
	char	*conf, *authserv_id, *domain, *selector, *key, *headers;
	char	*authres;			/* ar[] joined by '\n' */
	int	 seal;
};

struct run {
	struct key		 k;
	arc_session		*ss;
	const arc_actions	*act;
	char			*domains;	/* d= of each set, i=1 first */
};

struct confent {
	char		*path;
	arc_conf	*conf;
	arc_adapter	*ad;
};

static struct confent	 confs[MAXCONFS];
static int		 nconfs;
static char		*cur_msgid;
static struct run	*runs[MAXRUNS];
static int		 nruns;

/* A growing string; len < cap always, buf NUL-terminated when ok. */
struct str {
	char	*buf;
	size_t	 len, cap;
	int	 nomem;
};

static void
str_add(struct str *s, const char *p, size_t n)
{
	char	*nb;
	size_t	 ncap;

	if (s->nomem)
		return;
	if (s->len + n + 1 > s->cap) {
		ncap = s->cap ? s->cap : 256;
		while (ncap < s->len + n + 1)
			ncap *= 2;
		if ((nb = realloc(s->buf, ncap)) == NULL) {
			s->nomem = 1;
			return;
		}
		s->buf = nb;
		s->cap = ncap;
	}
	memcpy(s->buf + s->len, p, n);
	s->len += n;
	s->buf[s->len] = '\0';
}

static void
str_adds(struct str *s, const char *p)
{
	str_add(s, p, strlen(p));
}

/* One line to Exim's main log (log_write() puts the message id in front
 * by itself).  Parts of it may come from the message: no control
 * character gets through to split or garble the log. */
static void
log_line(const char *line)
{
	char	 buf[1024];
	size_t	 i;

	for (i = 0; line[i] && i < sizeof(buf) - 1; i++)
		buf[i] = (unsigned char)line[i] < 0x20 || line[i] == 0x7f ?
		    '?' : line[i];
	buf[i] = '\0';
	log_write(0, LOG_MAIN, "arc: %s", buf);
}

static void
mlog(const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	log_line(buf);
}

/* The adapter's lines (one summary per message, warnings) go to the main
 * log; debug lines only to Exim's debug output when it is on. */
static void
adapter_log(void *arg, int level, const char *line)
{
	(void)arg;
	if (level >= ARC_LOG_DEBUG) {
		if (debug_selector != 0)
			debug_printf("arc: %s\n", line);
		return;
	}
	log_line(line);
}

/* The yield is copied into Exim's store: its lifetime is then Exim's
 * business, and ours can be freed. */
static int
yield_str(uschar **yield, const char *s, int rc)
{
	*yield = string_copy((const uschar *)s);
	return rc;
}

static int
same(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a && b && strcmp(a, b) == 0);
}

static char *
dupn(const char *s)
{
	return s ? strdup(s) : NULL;
}

/* ---- options ------------------------------------------------------------ */

/* An authres= value: one or more Authentication-Results fields as
 * ${authresults} gives them (field name, LF folding), or bare values.
 * Each becomes one unfolded value without the field name. */
static int
add_authres(struct opts *o, const char *v)
{
	const char	*p = v, *e;
	char		*val, *w;
	static const char name[] = "Authentication-Results:";

	while (*p) {
		/* one field: up to a line end not followed by WSP */
		for (e = p; *e; e++)
			if (*e == '\n' && e[1] != ' ' && e[1] != '\t')
				break;
		while (*p == ' ' || *p == '\t')
			p++;
		if ((size_t)(e - p) >= sizeof(name) - 1 &&
		    strncasecmp(p, name, sizeof(name) - 1) == 0)
			p += sizeof(name) - 1;
		if ((val = malloc((size_t)(e - p) + 1)) == NULL)
			return -1;
		for (w = val; p < e; p++)
			if (*p != '\r' && *p != '\n')
				*w++ = *p;
		*w = '\0';
		for (w = val; *w == ' ' || *w == '\t'; w++)
			;
		memmove(val, w, strlen(w) + 1);
		w = val + strlen(val);
		while (w > val && (w[-1] == ' ' || w[-1] == '\t'))
			*--w = '\0';
		if (*val == '\0')
			free(val);
		else if (o->nar == MAXAR) {
			free(val);
			return -1;
		} else
			o->ar[o->nar++] = val;
		p = *e ? e + 1 : e;
	}
	return 0;
}

static void
opts_free(struct opts *o)
{
	for (int i = 0; i < o->nar; i++)
		free(o->ar[i]);
	o->nar = 0;
}

/* Parses the dlfunc arguments; item_ok: a bare first word is the item
 * (arc_result).  Returns -1 with err set on a bad argument. */
static int
opts_parse(struct opts *o, int argc, uschar *argv[], int item_ok, char *err,
    size_t errlen)
{
	const char	*a, *v;
	size_t		 n;

	memset(o, 0, sizeof(*o));
	o->add_ar = -1;
	for (int i = 0; i < argc; i++) {
		if ((a = (const char *)argv[i]) == NULL)
			continue;
		if ((v = strchr(a, '=')) == NULL) {
			if (i == 0 && item_ok && *a) {
				o->item = a;
				continue;
			}
			if (*a == '\0')
				continue;
			snprintf(err, errlen, "argument \"%.64s\" is not "
			    "name=value", a);
			return -1;
		}
		n = (size_t)(v - a);
		v++;
#define IS(s)	(n == sizeof(s) - 1 && strncasecmp(a, s, n) == 0)
		if (IS("conf"))
			o->conf = *v ? v : NULL;
		else if (IS("authserv-id") || IS("authserv_id"))
			o->authserv_id = *v ? v : NULL;
		else if (IS("domain"))
			o->domain = *v ? v : NULL;
		else if (IS("selector"))
			o->selector = *v ? v : NULL;
		else if (IS("key"))
			o->key = *v ? v : NULL;
		else if (IS("headers"))
			o->headers = *v ? v : NULL;
		else if (IS("authres")) {
			if (add_authres(o, v) != 0) {
				snprintf(err, errlen, "authres: more than %d "
				    "fields, or out of memory", MAXAR);
				return -1;
			}
		} else if (IS("ar")) {
			if (strcasecmp(v, "yes") == 0)
				o->add_ar = 1;
			else if (strcasecmp(v, "no") == 0)
				o->add_ar = 0;
			else {
				snprintf(err, errlen, "ar=%.32s: yes or no", v);
				return -1;
			}
		} else {
			snprintf(err, errlen, "unknown option \"%.*s\"",
			    (int)(n > 64 ? 64 : n), a);
			return -1;
		}
#undef IS
	}
	return 0;
}

/* ---- configuration and adapter, once per process and path --------------- */

/*
 * A configuration that could not be used is said once per process, in
 * one line naming the file, the reason and the check to run, and not
 * tried again: each dlfunc call would otherwise log it again (and read
 * the files again) for every message.  Its calls then return with err
 * empty: the caller has nothing more to log.
 */
static struct {
	char	 path[256];
}			 badconfs[MAXCONFS];
static int		 nbadconfs;

static int
conf_failed(const char *path, const char *why, char *err, size_t errlen)
{
	if (why != NULL && nbadconfs < MAXCONFS) {
		snprintf(badconfs[nbadconfs++].path, sizeof(badconfs[0].path),
		    "%s", path);
		mlog("%s unusable, no ARC in this process (messages pass "
		    "unverified and unsealed) until it is fixed and Exim "
		    "reloaded: %s; check: arctool check-config --config %s "
		    "--user <Exim's user>", path, why, path);
	} else if (why != NULL)
		mlog("%s: %s", path, why);
	if (err != NULL && errlen > 0)
		err[0] = '\0';
	return 0;
}

static struct confent *
get_conf(const char *path, char *err, size_t errlen)
{
	struct confent	*ce;
	struct stat	 st;
	const char	*load = path;
	char		 e[512];

	if (path == NULL)
		path = load = DEFAULT_CONF;
	for (int i = 0; i < nconfs; i++)
		if (strcmp(confs[i].path, path) == 0)
			return &confs[i];
	for (int i = 0; i < nbadconfs; i++)
		if (strcmp(badconfs[i].path, path) == 0) {
			conf_failed(path, NULL, err, errlen);
			return NULL;
		}
	if (nconfs == MAXCONFS) {
		snprintf(err, errlen, "more than %d arc.conf files", MAXCONFS);
		return NULL;
	}
	/* only the default may be absent: a named file must exist */
	if (strcmp(path, DEFAULT_CONF) == 0 && stat(path, &st) != 0 &&
	    errno == ENOENT)
		load = NULL;
	ce = &confs[nconfs];
	memset(ce, 0, sizeof(*ce));
	if ((ce->conf = arc_conf_load(load, e, sizeof(e))) == NULL) {
		conf_failed(path, e, err, errlen);
		return NULL;
	}
	/* Exim forks a process per connection, each would load and check
	 * every key of seal-key-table: load each on its first use instead
	 * (arc_select.h), unless arc.conf says eager.  arctool check-config
	 * checks them all. */
	if (arc_conf_get(ce->conf, "seal-key-load") == NULL &&
	    arc_conf_set(ce->conf, "seal-key-load", "lazy", e,
	    sizeof(e)) != 0) {
		conf_failed(path, e, err, errlen);
		arc_conf_free(ce->conf);
		return NULL;
	}
	if ((ce->ad = arc_adapter_create(ce->conf, adapter_log, NULL, e,
	    sizeof(e))) == NULL) {
		conf_failed(path, e, err, errlen);
		arc_conf_free(ce->conf);
		return NULL;
	}
	/* metrics-file: Exim's processes come and go, so each adds its own
	 * counts to the shared file under a lock (arc_stats.h) */
	if (arc_stats_configure(ce->conf, ARC_STATS_MERGE, e, sizeof(e)) != 0)
		mlog("%s: %s", path, e);
	if ((ce->path = strdup(path)) == NULL) {
		snprintf(err, errlen, "out of memory");
		arc_adapter_free(ce->ad);
		arc_conf_free(ce->conf);
		return NULL;
	}
	nconfs++;
	return ce;
}

/* ---- per-message state -------------------------------------------------- */

static void
key_clear(struct key *k)
{
	free(k->conf);
	free(k->authserv_id);
	free(k->domain);
	free(k->selector);
	free(k->key);
	free(k->headers);
	free(k->authres);
	memset(k, 0, sizeof(*k));
}

static int
key_equal(const struct key *a, const struct key *b)
{
	return a->seal == b->seal && same(a->conf, b->conf) &&
	    same(a->authserv_id, b->authserv_id) &&
	    same(a->domain, b->domain) && same(a->selector, b->selector) &&
	    same(a->key, b->key) && same(a->headers, b->headers) &&
	    same(a->authres, b->authres);
}

static void
run_free(struct run *r)
{
	if (r == NULL)
		return;
	arc_session_free(r->ss);
	key_clear(&r->k);
	free(r->domains);
	free(r);
}

static void
runs_clear(void)
{
	for (int i = 0; i < nruns; i++)
		run_free(runs[i]);
	nruns = 0;
}

/* A new message_id means the previous message is over: drop its state.
 * An empty id (exim -bh) is never cached. */
static void
check_message(void)
{
	const char *id = message_id ? (const char *)message_id : "";
	char	 e[256];

	if (cur_msgid && *id && strcmp(cur_msgid, id) == 0)
		return;
	(void)arc_stats_tick(time(NULL), e, sizeof(e));	/* metrics-file */
	runs_clear();
	free(cur_msgid);
	cur_msgid = *id ? strdup(id) : NULL;
}

/* The -D file's descriptor in this process: Exim's own. */
static int
spool_fd(const char *id)
{
	char		 want[128], target[PATH_MAX];
	DIR		*d;
	struct dirent	*de;
	ssize_t		 len;
	size_t		 wl;
	int		 fd = -1, dfd, flags;
	long		 n;
	char		*end;

	if (*id == '\0' || strlen(id) > 64 || strchr(id, '/') != NULL)
		return -1;
	wl = (size_t)snprintf(want, sizeof(want), "/%s-D", id);
	if ((d = opendir("/proc/self/fd")) == NULL)
		return -1;
	dfd = dirfd(d);
	while ((de = readdir(d)) != NULL) {
		errno = 0;
		n = strtol(de->d_name, &end, 10);
		if (!isdigit((unsigned char)de->d_name[0]) || *end ||
		    errno || n == dfd || n > INT_MAX)
			continue;
		len = readlinkat(dfd, de->d_name, target, sizeof(target) - 1);
		if (len <= 0)
			continue;
		target[len] = '\0';
		if ((size_t)len < wl ||
		    memcmp(target + len - wl, want, wl) != 0)
			continue;
		flags = fcntl((int)n, F_GETFL);
		if (flags != -1 && (flags & O_ACCMODE) != O_WRONLY) {
			fd = (int)n;
			break;
		}
	}
	closedir(d);	/* the directory's descriptor, not the spool file's */
	return fd;
}

/* Streams the body from the -D file, first line skipped.  0, or -1 with
 * err set. */
static int
feed_body(arc_session *ss, char *err, size_t errlen)
{
	unsigned char	*buf, *p, *nl;
	ssize_t		 n;
	size_t		 len;
	off_t		 off = 0;
	int		 fd, skip = 1, rc = 0;

	if ((fd = spool_fd(message_id ? (const char *)message_id : "")) ==
	    -1) {
		snprintf(err, errlen, "spool file %s-D is not open in this "
		    "process (call from acl_smtp_data)",
		    message_id ? (const char *)message_id : "?");
		return -1;
	}
	if ((buf = malloc(CHUNK)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (;;) {
		if ((n = pread(fd, buf, CHUNK, off)) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "spool file: %s",
			    strerror(errno));
			rc = -1;
			break;
		}
		if (n == 0)
			break;
		off += n;
		p = buf;
		len = (size_t)n;
		if (skip) {
			if ((nl = memchr(p, '\n', len)) == NULL) {
				if (off > 4096) {
					snprintf(err, errlen, "spool file: "
					    "no end to its first line");
					rc = -1;
					break;
				}
				continue;
			}
			len -= (size_t)(nl + 1 - p);
			p = nl + 1;
			skip = 0;
		}
		/* a failed session ignores the rest: stop reading too */
		if (len > 0 && arc_session_body(ss, p, len) != 0)
			break;
	}
	if (rc == 0 && skip) {
		snprintf(err, errlen, "spool file: no data line");
		rc = -1;
	}
	free(buf);
	return rc;
}

/* The i= and d= of an ARC-Seal field, or 0 if it is not one; *d is
 * malloc'd.  Tag values there never hold meaningful whitespace, so all of
 * it goes before splitting. */
static int
seal_tags(const char *text, char **d)
{
	char	*v, *t, *w, *sp = NULL;
	int	 inst = 0;

	*d = NULL;
	if (strncasecmp(text, "arc-seal", 8) != 0)
		return 0;
	for (text += 8; *text == ' ' || *text == '\t'; text++)
		;
	if (*text != ':' || (v = strdup(text + 1)) == NULL)
		return 0;
	for (t = w = v; *t; t++)
		if (!isspace((unsigned char)*t))
			*w++ = *t;
	*w = '\0';
	for (t = strtok_r(v, ";", &sp); t; t = strtok_r(NULL, ";", &sp)) {
		if (strncmp(t, "i=", 2) == 0)
			inst = atoi(t + 2);
		else if (strncmp(t, "d=", 2) == 0 && *d == NULL)
			*d = strdup(t + 2);
	}
	free(v);
	if (inst < 1 || inst > MAXINST || *d == NULL || **d == '\0') {
		free(*d);
		*d = NULL;
		return 0;
	}
	return inst;
}

/* The d= of every ARC-Seal in the header, instance 1 first, comma
 * separated: the sealers the chain names, before our own set. */
static char *
chain_domains(void)
{
	char		*dom[MAXINST + 1] = { 0 }, *d;
	struct str	 s = { 0 };
	header_line	*h;
	int		 inst;

	for (h = header_list; h; h = h->next) {
		if (h->type == '*' || h->text == NULL)
			continue;
		if ((inst = seal_tags((const char *)h->text, &d)) == 0)
			continue;
		if (dom[inst] == NULL)
			dom[inst] = d;
		else
			free(d);
	}
	for (inst = 1; inst <= MAXINST; inst++) {
		if (dom[inst] == NULL)
			continue;
		if (s.len)
			str_adds(&s, ",");
		str_adds(&s, dom[inst]);
		free(dom[inst]);
	}
	if (s.nomem) {
		free(s.buf);
		return NULL;
	}
	return s.buf ? s.buf : strdup("");
}

/* ---- one evaluation ---------------------------------------------------- */

/* Fills the key for this call.  A session seals whenever a sealing
 * identity is known (options or arc.conf), so that arc_verify and
 * arc_seal with the same options share one pass; arc.conf's "seal no"
 * holds back all but arc_seal itself. */
static int
make_key(struct key *k, const struct opts *o, const struct confent *ce,
    int sealcall)
{
	const char	*sealopt = arc_conf_get(ce->conf, "seal");
	const char	*id = o->authserv_id;
	struct str	 ar = { 0 };
	int		 identity;

	memset(k, 0, sizeof(*k));
	identity = o->domain || o->selector || o->key || o->headers ||
	    arc_conf_get(ce->conf, "seal-domain") != NULL ||
	    arc_conf_get(ce->conf, "seal-signing-table") != NULL;
	k->seal = identity && (sealcall || sealopt == NULL ||
	    strcmp(sealopt, "yes") == 0);
	/* Exim's own name for itself beats the adapter's gethostname() */
	if (id == NULL)
		id = arc_conf_get(ce->conf, "authserv-id");
	if (id == NULL)
		id = (const char *)expand_string(US"$primary_hostname");
	for (int i = 0; i < o->nar; i++) {
		if (i)
			str_adds(&ar, "\n");
		str_adds(&ar, o->ar[i]);
	}
	k->conf = strdup(ce->path);
	k->authserv_id = dupn(id && *id ? id : NULL);
	k->domain = dupn(o->domain);
	k->selector = dupn(o->selector);
	k->key = dupn(o->key);
	k->headers = dupn(o->headers);
	k->authres = ar.buf;
	if (ar.nomem || k->conf == NULL || (id && *id && !k->authserv_id) ||
	    (o->domain && !k->domain) || (o->selector && !k->selector) ||
	    (o->key && !k->key) || (o->headers && !k->headers)) {
		key_clear(k);
		return -1;
	}
	return 0;
}

/* Feeds the message to a new session and finishes it. */
static void
evaluate(struct run *r, const struct opts *o, arc_adapter *ad)
{
	arc_session_params	 p;
	const char		*ar[MAXAR + 1];
	header_line		*h;
	char			 err[256];
	int			 i, ok = 1;

	memset(&p, 0, sizeof(p));
	for (i = 0; i < o->nar; i++)
		ar[i] = o->ar[i];
	ar[i] = NULL;
	p.id = message_id && *message_id ? (const char *)message_id : NULL;
	p.client_ip = (const char *)sender_host_address;
	p.helo = (const char *)expand_string(US"$sender_helo_name");
	if (p.helo && *p.helo == '\0')
		p.helo = NULL;
	/* "" is the null sender: nothing to match */
	p.mail_from = (const char *)expand_string(US"$sender_address");
	p.authserv_id = r->k.authserv_id;
	p.seal = r->k.seal;
	p.seal_domain = r->k.domain;
	p.seal_selector = r->k.selector;
	p.seal_key = r->k.key;
	p.seal_headers = r->k.headers;
	p.authres = ar;
	/* Exim's own results come as authres= (${authresults}); one of our
	 * authserv-id in header_list came from outside (aar-from-message) */
	p.no_message_ar = 1;
	if ((r->ss = arc_session_create(ad, &p)) == NULL)
		return;
	for (i = 0; i < recipients_count; i++)
		arc_session_rcpt(r->ss,
		    (const char *)recipients_list[i].address);
	for (h = header_list; h && ok; h = h->next)
		if (h->type != '*' && h->text != NULL && h->slen > 0)
			ok = arc_session_header(r->ss, (const char *)h->text,
			    (size_t)h->slen) == 0;
	if (ok)
		ok = arc_session_eoh(r->ss) == 0;
	if (ok && feed_body(r->ss, err, sizeof(err)) != 0) {
		/* actions asked before the end: the adapter's error path */
		mlog("%s", err);
		r->act = arc_session_actions(r->ss);
		return;
	}
	if (arc_session_eom(r->ss) == ARC_SESSION_PENDING)
		arc_session_wait(r->ss);
	r->act = arc_session_actions(r->ss);
}

/* The evaluation for this call: reused when one was made with the same
 * options for this message; any: the latest one will do (arc_result). */
static struct run *
get_run(const struct opts *o, int sealcall, int any, char *err,
    size_t errlen)
{
	struct confent	*ce;
	struct run	*r;

	check_message();
	/* before DATA there is no message, and header_list may still be
	 * the last one's */
	if (cur_msgid == NULL) {
		snprintf(err, errlen, "no message yet: call from acl_smtp_data "
		    "(or the MIME, DKIM or not-SMTP ACL)");
		return NULL;
	}
	if (any && nruns > 0)
		return runs[nruns - 1];
	if ((ce = get_conf(o->conf, err, errlen)) == NULL)
		return NULL;
	if ((r = calloc(1, sizeof(*r))) == NULL ||
	    make_key(&r->k, o, ce, sealcall) != 0) {
		free(r);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	for (int i = nruns - 1; i >= 0; i--)
		if (key_equal(&runs[i]->k, &r->k)) {
			run_free(r);
			return runs[i];
		}
	evaluate(r, o, ce->ad);
	if (r->act == NULL || (r->domains = chain_domains()) == NULL) {
		run_free(r);
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (nruns == MAXRUNS) {
		run_free(runs[0]);
		memmove(runs, runs + 1, sizeof(runs[0]) * (MAXRUNS - 1));
		nruns--;
	}
	runs[nruns++] = r;
	return r;
}

static const char *
verdict(const arc_actions *a)
{
	return a->error ? "error" : arc_cv_name(a->cv);
}

/* A copy of s with CR dropped: Exim wants LF line ends. */
static char *
lf_only(const char *s)
{
	char	*out, *w;

	if (s == NULL)
		s = "";
	if ((out = malloc(strlen(s) + 1)) == NULL)
		return NULL;
	for (w = out; *s; s++)
		if (*s != '\r')
			*w++ = *s;
	*w = '\0';
	return out;
}

/* Text that may end up in a header field through the ACL: parts of it
 * come from the message, so no line break may start a field of its own
 * and no control character or 8-bit byte gets through (a space, a
 * "?").  fold: keep LF + WSP. */
static void
add_safe(struct str *s, const char *v, int fold)
{
	char	 c[2] = { 0, 0 };

	for (v = v ? v : ""; *v; v++) {
		if (*v == '\r')
			continue;
		if (*v == '\n' && fold && (v[1] == ' ' || v[1] == '\t'))
			c[0] = '\n';
		else if ((unsigned char)*v < 0x20 || (unsigned char)*v >= 0x7f)
			c[0] = (unsigned char)*v >= 0x7f ? '?' : ' ';
		else
			c[0] = *v;
		str_add(s, c, 1);
	}
}

/* ---- the dlfunc entry points ------------------------------------------ */

/*
 * arc_verify: validates the ARC chain of the message being received.
 * Yields pass, fail, none, or error.
 */
int
arc_verify(uschar **yield, int argc, uschar *argv[])
{
	struct opts	 o;
	struct run	*r;
	char		 err[1024];
	int		 rc;

	if (opts_parse(&o, argc, argv, 0, err, sizeof(err)) != 0) {
		mlog("arc_verify: %s", err);
		opts_free(&o);
		return yield_str(yield, "error", OK);
	}
	if ((r = get_run(&o, 0, 0, err, sizeof(err))) == NULL) {
		if (err[0] != '\0')
			mlog("arc_verify: %s", err);
		rc = yield_str(yield, "error", OK);
	} else if (r->act->tempfail)
		rc = yield_str(yield, r->act->smtp_reply, FAIL);
	else
		rc = yield_str(yield, verdict(r->act), OK);
	opts_free(&o);
	return rc;
}

/* Appends one field for add_header: ":at_start:" and the field with LF
 * line ends.  Every line after the first must start with WSP, or Exim
 * would take it for a field of its own. */
static int
add_field(struct str *s, const char *field)
{
	char	*f, *p;
	size_t	 n;

	if ((f = lf_only(field)) == NULL)
		return -1;
	for (p = strchr(f, '\n'); p && p[1]; p = strchr(p + 1, '\n'))
		if (p[1] != ' ' && p[1] != '\t') {
			free(f);
			return -1;
		}
	str_adds(s, ":at_start:");
	str_adds(s, f);
	n = strlen(f);
	if (n == 0 || f[n - 1] != '\n')
		str_adds(s, "\n");
	free(f);
	return 0;
}

/*
 * arc_seal: the ARC set for the message being received (and our
 * Authentication-Results unless ar=no), for add_header.
 */
int
arc_seal(uschar **yield, int argc, uschar *argv[])
{
	struct opts	 o;
	struct run	*r;
	struct str	 s = { 0 };
	const arc_actions *a;
	const char	*f;
	char		 err[1024], *ar = NULL;
	int		 i, has_ar = 0, rc;

	if (opts_parse(&o, argc, argv, 0, err, sizeof(err)) != 0) {
		mlog("arc_seal: %s", err);
		opts_free(&o);
		return yield_str(yield, "", OK);
	}
	if ((r = get_run(&o, 1, 0, err, sizeof(err))) == NULL) {
		if (err[0] != '\0')
			mlog("arc_seal: %s", err);
		opts_free(&o);
		return yield_str(yield, "", OK);
	}
	a = r->act;
	if (a->tempfail) {
		opts_free(&o);
		return yield_str(yield, a->smtp_reply, FAIL);
	}
	if (!r->k.seal)
		mlog("arc_seal: no sealing identity: give domain=, selector= "
		    "and key=, or seal-domain, seal-selector and seal-key in "
		    "arc.conf");
	/* bottom-up: each :at_start: field lands above the one before */
	for (i = a->nfields - 1; i >= 0; i--) {
		f = a->fields[i];
		if (strncasecmp(f, "Authentication-Results:", 23) == 0) {
			has_ar = 1;
			if (o.add_ar == 0)
				continue;
		}
		if (add_field(&s, f) != 0) {
			mlog("arc_seal: unusable field from the library");
			free(s.buf);
			opts_free(&o);
			return yield_str(yield, "", OK);
		}
	}
	if (o.add_ar == 1 && !has_ar && a->authres && !a->error) {
		/* asked for though arc.conf leaves it out: it goes lowest */
		struct str t = { 0 };

		if (asprintf(&ar, "Authentication-Results: %s\r\n",
		    a->authres) < 0)
			ar = NULL;
		if (ar == NULL || add_field(&t, ar) != 0)
			t.nomem = 1;
		str_adds(&t, s.buf ? s.buf : "");
		free(s.buf);
		s = t;
		free(ar);
	}
	if (s.nomem) {
		mlog("arc_seal: out of memory");
		rc = yield_str(yield, "", OK);
	} else
		rc = yield_str(yield, s.buf ? s.buf : "", OK);
	free(s.buf);
	opts_free(&o);
	return rc;
}

/* name="value" with the escapes ${extract} undoes. */
static void
add_pair(struct str *s, const char *name, const char *v)
{
	char	 c[2] = { 0, 0 };

	if (s->len)
		str_adds(s, " ");
	str_adds(s, name);
	str_adds(s, "=\"");
	for (v = v ? v : ""; *v; v++) {
		switch (*v) {
		case '\r':
			break;
		case '\n':
			str_adds(s, "\\n");
			break;
		case '\\':
			str_adds(s, "\\\\");
			break;
		case '"':
			str_adds(s, "\\\"");
			break;
		default:
			/* reasons quote the message (a d= of 8-bit bytes):
			 * what the ACL gets is printable ASCII */
			c[0] = (unsigned char)*v < 0x20 ||
			    (unsigned char)*v >= 0x7f ? '?' : *v;
			str_add(s, c, 1);
		}
	}
	str_adds(s, "\"");
}

/*
 * arc_result: an item of the verdict (cv, authres, oldest_pass, domains,
 * reason, summary, sealed, reject, smtp_reply, error), or all of them as
 * name="value" pairs.  Uses the latest evaluation of the message, or
 * makes one.
 */
int
arc_result(uschar **yield, int argc, uschar *argv[])
{
	struct opts	 o;
	struct run	*r;
	struct str	 s = { 0 };
	const arc_actions *a;
	const char	*it;
	char		 err[1024], num[32];
	int		 rc = OK;

	if (opts_parse(&o, argc, argv, 1, err, sizeof(err)) != 0) {
		mlog("arc_result: %s", err);
		opts_free(&o);
		return yield_str(yield, "", OK);
	}
	if ((r = get_run(&o, 0, 1, err, sizeof(err))) == NULL) {
		if (err[0] != '\0')
			mlog("arc_result: %s", err);
		opts_free(&o);
		return yield_str(yield, "", OK);
	}
	a = r->act;
	it = o.item ? o.item : "all";
	if (strcmp(it, "cv") == 0)
		str_adds(&s, verdict(a));
	else if (strcmp(it, "authres") == 0)
		add_safe(&s, a->authres, 1);
	else if (strcmp(it, "oldest_pass") == 0 ||
	    strcmp(it, "oldest-pass") == 0) {
		snprintf(num, sizeof(num), "%d", a->oldest_pass);
		str_adds(&s, num);
	} else if (strcmp(it, "domains") == 0)
		add_safe(&s, r->domains, 0);
	else if (strcmp(it, "reason") == 0)
		add_safe(&s, a->reason, 0);
	else if (strcmp(it, "summary") == 0)
		add_safe(&s, a->summary, 0);
	else if (strcmp(it, "sealed") == 0) {
		snprintf(num, sizeof(num), "%d", a->sealed);
		str_adds(&s, num);
	} else if (strcmp(it, "reject") == 0)
		str_adds(&s, a->reject ? "yes" : "no");
	else if (strcmp(it, "error") == 0)
		str_adds(&s, a->error ? "yes" : "no");
	else if (strcmp(it, "smtp_reply") == 0 ||
	    strcmp(it, "smtp-reply") == 0)
		add_safe(&s, a->smtp_reply, 0);
	/* receiver policy (arc_policy.h, docs/receiver-policy.md) */
	else if (strcmp(it, "trusted") == 0)
		add_safe(&s, a->trusted, 0);
	else if (strcmp(it, "trusted_i") == 0 ||
	    strcmp(it, "trusted-i") == 0) {
		snprintf(num, sizeof(num), "%d", a->trusted_i);
		str_adds(&s, num);
	} else if (strcmp(it, "override") == 0)
		str_adds(&s, a->override ? "yes" : "no");
	else if (strcmp(it, "policy") == 0)
		add_safe(&s, a->policy, 0);
	else if (strcmp(it, "dmarc_comment") == 0 ||
	    strcmp(it, "dmarc-comment") == 0)
		add_safe(&s, a->dmarc_comment, 0);
	else if (strcmp(it, "all") == 0) {
		add_pair(&s, "cv", verdict(a));
		snprintf(num, sizeof(num), "%d", a->oldest_pass);
		add_pair(&s, "oldest_pass", num);
		snprintf(num, sizeof(num), "%d", a->sealed);
		add_pair(&s, "sealed", num);
		add_pair(&s, "domains", r->domains);
		add_pair(&s, "reject", a->reject ? "yes" : "no");
		add_pair(&s, "error", a->error ? "yes" : "no");
		add_pair(&s, "reason", a->reason);
		add_pair(&s, "authres", a->authres);
		add_pair(&s, "summary", a->summary);
		add_pair(&s, "trusted", a->trusted);
		snprintf(num, sizeof(num), "%d", a->trusted_i);
		add_pair(&s, "trusted_i", num);
		add_pair(&s, "override", a->override ? "yes" : "no");
		add_pair(&s, "policy", a->policy);
		add_pair(&s, "dmarc_comment", a->dmarc_comment);
	} else {
		mlog("arc_result: unknown item \"%.64s\"", it);
	}
	if (s.nomem) {
		mlog("arc_result: out of memory");
		rc = yield_str(yield, "", OK);
	} else
		rc = yield_str(yield, s.buf ? s.buf : "", rc);
	free(s.buf);
	opts_free(&o);
	return rc;
}
