/*
 * fa_ssn.c - filter-arc's session table, bounded in count and memory.
 *
 * Contract: see fa_ssn.h.  Calls only fa_log.
 */
#include <stdlib.h>
#include <string.h>

#include "fa_log.h"
#include "fa_ssn.h"

#define NBUCKETS	4096

static struct {
	struct fa_ssn	*bucket[NBUCKETS];
	size_t		 n, bytes;
	size_t		 max_n, max_bytes;
	long long	 last_refusal;	/* ms, for the log line */
	unsigned long	 refused;	/* since the last log line */
} t = { .max_n = FA_MAX_SESSIONS, .max_bytes = FA_MAX_SESSION_BYTES };

void
fa_ssn_limits(size_t max_sessions, size_t max_bytes)
{
	t.max_n = max_sessions;
	t.max_bytes = max_bytes;
}

size_t
fa_ssn_count(void)
{
	return t.n;
}

size_t
fa_ssn_bytes(void)
{
	return t.bytes;
}

static unsigned
hash(const char *s, size_t len)
{
	unsigned	h = 2166136261u;
	size_t		i;

	for (i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h % NBUCKETS;
}

struct fa_ssn *
fa_ssn_find(struct smtpd_str id)
{
	struct fa_ssn	*s;

	if (id.len > SMTPD_ID_MAX)	/* the parser never gives one */
		return NULL;
	for (s = t.bucket[hash(id.p, id.len)]; s != NULL; s = s->next)
		if (strlen(s->id) == id.len && memcmp(s->id, id.p,
		    id.len) == 0)
			return s;
	return NULL;
}

/* 1 if n more bytes fit the bound. */
static int
fits(size_t n)
{
	return t.bytes <= t.max_bytes && n <= t.max_bytes - t.bytes;
}

struct fa_ssn *
fa_ssn_new(struct smtpd_str id)
{
	struct fa_ssn	*s;
	unsigned	 h;
	long long	 now;

	if (id.len > SMTPD_ID_MAX)
		return NULL;
	if ((s = fa_ssn_find(id)) != NULL)
		return s;	/* a repeated link-connect: the same one */
	if (t.n >= t.max_n || !fits(sizeof(*s)) ||
	    (s = calloc(1, sizeof(*s))) == NULL) {
		now = fa_now_ms();
		t.refused++;
		if (now - t.last_refusal >= 1000) {
			fa_log(ARC_LOG_WARNING, "session=%.*s not tracked, "
			    "its mail passes through untouched: %zu "
			    "sessions (max %zu), %zu bytes (max %zu)%s; %lu "
			    "such session(s) since the last line",
			    (int)id.len, id.p, t.n, t.max_n, t.bytes,
			    t.max_bytes, t.n < t.max_n && fits(sizeof(*s)) ?
			    ", out of memory" : "", t.refused);
			t.last_refusal = now;
			t.refused = 0;
		}
		return NULL;
	}
	memcpy(s->id, id.p, id.len);
	s->id[id.len] = '\0';
	s->seen = fa_now_ms();
	s->bytes = sizeof(*s);
	t.bytes += s->bytes;
	h = hash(s->id, id.len);
	s->next = t.bucket[h];
	t.bucket[h] = s;
	t.n++;
	return s;
}

void
fa_ssn_clear_rcpts(struct fa_ssn *s)
{
	size_t	i, n = 0;

	for (i = 0; i < s->nrcpt; i++) {
		n += strlen(s->rcpt[i]) + 1 + sizeof(char *);
		free(s->rcpt[i]);
	}
	free(s->rcpt);
	s->rcpt = NULL;
	s->nrcpt = 0;
	s->bytes -= n;
	t.bytes -= n;
}

/* Replaces the string in *slot, counted in the session's bytes.  A
 * value longer than max is not kept; it marks the session overflow if
 * long_overflows, as running into the bound or out of memory does. */
static void
set_str(struct fa_ssn *s, char **slot, struct smtpd_str v, size_t max,
    int long_overflows)
{
	size_t	old = *slot ? strlen(*slot) + 1 : 0;

	free(*slot);
	*slot = NULL;
	s->bytes -= old;
	t.bytes -= old;
	if (v.p == NULL || v.len == 0)
		return;
	if (v.len > max) {
		if (long_overflows)
			s->overflow = 1;
		return;
	}
	if (!fits(v.len + 1) || (*slot = strndup(v.p, v.len)) == NULL) {
		s->overflow = 1;
		return;
	}
	s->bytes += v.len + 1;
	t.bytes += v.len + 1;
}

void
fa_ssn_set_helo(struct fa_ssn *s, struct smtpd_str name)
{
	/* a longer HELO is no host name: not kept, not put in the A-R */
	set_str(s, &s->helo, name, FA_HELO_MAX, 0);
}

void
fa_ssn_set_mail_from(struct fa_ssn *s, struct smtpd_str addr)
{
	set_str(s, &s->mail_from, addr, FA_RCPT_MAX, 1);
}

const char *
fa_ssn_add_rcpt(struct fa_ssn *s, struct smtpd_str addr)
{
	char	**r, *a;
	size_t	  n = addr.len + 1 + sizeof(char *);

	if (s->nrcpt >= FA_RCPTS_MAX || addr.len > FA_RCPT_MAX) {
		/* more or longer than smtpd itself takes */
		s->overflow = 1;
		return NULL;
	}
	if (!fits(n)) {
		s->overflow = 1;
		return NULL;
	}
	if ((a = strndup(addr.p, addr.len)) == NULL ||
	    (r = realloc(s->rcpt, (s->nrcpt + 1) * sizeof(*r))) == NULL) {
		free(a);
		fa_log(ARC_LOG_WARNING, "session=%s: recipient not kept: out "
		    "of memory", s->id);
		s->overflow = 1;
		return NULL;
	}
	r[s->nrcpt++] = a;
	s->rcpt = r;
	s->bytes += n;
	t.bytes += n;
	return a;
}

void
fa_ssn_free(struct fa_ssn *s)
{
	struct fa_ssn	**pp;

	for (pp = &t.bucket[hash(s->id, strlen(s->id))]; *pp != NULL;
	    pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			t.n--;
			break;
		}
	fa_ssn_clear_rcpts(s);
	fa_ssn_set_helo(s, (struct smtpd_str){ NULL, 0 });
	fa_ssn_set_mail_from(s, (struct smtpd_str){ NULL, 0 });
	t.bytes -= s->bytes;
	free(s);
}

void
fa_ssn_foreach(void (*fn)(struct fa_ssn *, void *), void *arg)
{
	struct fa_ssn	*s, *next;
	size_t		 i;

	for (i = 0; i < NBUCKETS; i++)
		for (s = t.bucket[i]; s != NULL; s = next) {
			next = s->next;
			fn(s, arg);
		}
}
