/*
 * arc_field.c - helpers on a message's stored header fields and its
 * failure record, shared by intake (arc_msg.c), validation
 * (arc_verify.c) and sealing (arc_seal.c).
 *
 * Contract: these call nothing of the modules above them, so calls go
 * one way (arc_msg -> arc_verify -> arc_field, arc_seal -> both) and no
 * two files call each other.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arc_internal.h"

#define MAX_H_ENTRIES	1000

static int
is_fws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int
arc_field_is(const arc_field *f, const char *name)
{
	return f->name_len == strlen(name) &&
	    strncasecmp(f->text, name, f->name_len) == 0;
}

/* The chain fails; the first reason given is the cause and stays. */
void
arc_msg_fail(arc_msg *m, const char *fmt, ...)
{
	va_list	 ap;
	char	 buf[512];

	m->cv = ARC_CV_FAIL;
	if (m->reason.len)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	arc_buf_adds(&m->reason, buf);
}

/* Adds field f to data, canonicalized, leaving out its b= value if it is
 * the signature being checked. */
void
arc_field_canon(arc_buf *data, const arc_field *f, arc_canon_mode mode,
    const arc_hdr *self)
{
	const arc_tag *b = self ? arc_tags_get(&self->tl, "b") : NULL;

	arc_canon_header(data, f->text, f->len, mode, b ? b->value : NULL,
	    b ? b->value_len : 0, self == NULL);
}

static int
name_eq(const char *a, size_t al, const char *b, size_t bl)
{
	return al == bl && strncasecmp(a, b, al) == 0;
}

/* Adds the fields an h= list names, each name taking the next instance
 * from the bottom up (RFC 6376 §5.4.2); names with no instance left add
 * nothing.  Shared by verifying and sealing.  -1 if the list is too long. */
int
arc_add_signed_fields(arc_msg *m, const char *hl, size_t len,
    arc_canon_mode mode, arc_buf *data)
{
	struct hl_name { const char *p; size_t l; } *names, few[32];
	size_t	 i, s, e, n = 0, max = 1;

	/* names are cut at colons and FWS: at most one more than those */
	for (i = 0; i < len; i++)
		if (hl[i] == ':' || is_fws(hl[i]))
			max++;
	if (max > MAX_H_ENTRIES)
		max = MAX_H_ENTRIES;
	/* the usual list fits on the stack */
	if (max <= sizeof(few) / sizeof(few[0]))
		names = few;
	else if ((names = calloc(max, sizeof(*names))) == NULL)
		return -1;
	for (i = 0; i < len; ) {
		while (i < len && (is_fws(hl[i]) || hl[i] == ':'))
			i++;
		s = i;
		while (i < len && hl[i] != ':' && !is_fws(hl[i]))
			i++;
		e = i;
		if (e == s)
			continue;
		if (n == max) {		/* only when max is MAX_H_ENTRIES */
			if (names != few)
				free(names);
			return -1;
		}
		names[n].p = hl + s;
		names[n].l = e - s;
		n++;
	}
	for (i = 0; i < n && !data->failed; i++) {
		unsigned used = 0, k;
		int	 fi;

		for (k = 0; k < i; k++)
			if (name_eq(names[k].p, names[k].l, names[i].p,
			    names[i].l))
				used++;
		for (fi = (int)m->nfields - 1; fi >= 0; fi--) {
			const arc_field *f = &m->fields[fi];

			if (!name_eq(f->text, f->name_len, names[i].p,
			    names[i].l))
				continue;
			if (used-- == 0) {
				arc_field_canon(data, f, mode, NULL);
				break;
			}
		}
	}
	if (names != few)
		free(names);
	return 0;
}

/* ---- body hashers and key slots, shared by the AMS and DKIM ------------ */

int
arc_msg_bodyhash(arc_msg *m, arc_canon_mode mode, long long limit)
{
	unsigned	 i;
	arc_bh		*nb;

	for (i = 0; i < m->nbh; i++)
		if (m->bh[i].mode == mode && m->bh[i].limit == limit)
			return (int)i;
	if ((nb = reallocarray(m->bh, m->nbh + 1, sizeof(*nb))) == NULL)
		return -1;
	m->bh = nb;
	memset(&nb[m->nbh], 0, sizeof(*nb));
	nb[m->nbh].mode = mode;
	nb[m->nbh].limit = limit;
	if ((nb[m->nbh].h = arc_bodyhash_create(mode, limit)) == NULL)
		return -1;
	m->stats.body_hashers = m->nbh + 1;
	return (int)m->nbh++;
}

void
arc_keyslot_ready(arc_keywait *w)
{
	arc_keyslot	*s = (arc_keyslot *)w;
	arc_msg		*m = s->msg;

	if (s->done)
		return;
	s->done = 1;
	/* only a message whose arc_msg_eom() said ARC_PENDING is told:
	 * before that, the caller is still streaming the body */
	if (--m->keys_pending == 0 && m->eom_pending && m->ready_fn != NULL)
		m->ready_fn(m, m->ready_arg);
}

/* A lookup the source answers at once completes here; the caller makes
 * sure eom_pending is clear, so no ready callback runs from inside. */
void
arc_keyslot_start(arc_msg *m, arc_keyslot *s)
{
	if (s->started)
		return;
	s->started = 1;
	if (m->lookups_closed) {	/* out of time: counts as timed out */
		s->done = 1;
		return;
	}
	m->keys_pending++;	/* first: a synchronous answer ends it */
	s->wait.fn = arc_keyslot_ready;
	s->entry = arc_keys_get(m->lib->keys, s->selector, s->domain,
	    &s->wait);
	if (s->entry == NULL || s->entry->state == ARC_KEY_DONE) {
		if (s->entry)
			arc_keys_unwait(s->entry, &s->wait);
		if (!s->done) {
			s->done = 1;
			m->keys_pending--;
		}
	}
}
