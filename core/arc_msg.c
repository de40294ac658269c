/*
 * arc_msg.c - the per-message handle: streaming intake (fields, end of
 * headers, body chunks, end of message), key-lookup waiting, results.
 * Chain validation lives in arc_verify.c, sealing in arc_seal.c.
 */
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "arc_dkim.h"
#include "arc_internal.h"

arc_msg *
arc_msg_create(arc_lib *lib, unsigned flags)
{
	arc_msg	*m;

	if ((m = calloc(1, sizeof(*m))) == NULL)
		return NULL;
	m->lib = lib;
	m->flags = flags;
	if (flags & ARC_MSG_SEAL)
		m->flags |= ARC_MSG_VERIFY;	/* cv comes from our check */
	m->seal_bh = -1;
	m->oldest_pass = -1;
	m->feed_bol = 1;
	m->pending.limit = lib->limits.max_field_bytes + 2;
	return m;
}

/* Header text goes into blocks that never move: one allocation for a
 * usual header instead of one per field, all freed with the message. */
struct arc_textblock {
	struct arc_textblock	*next;
	size_t			 used, cap;
	char			 data[];
};

#define TEXTBLOCK_SIZE	4096

static char *
text_alloc(arc_msg *m, size_t n)
{
	struct arc_textblock	*b = m->text;
	size_t			 cap;

	if (b == NULL || b->cap - b->used < n) {
		cap = n > TEXTBLOCK_SIZE ? n : TEXTBLOCK_SIZE;
		if ((b = malloc(sizeof(*b) + cap)) == NULL)
			return NULL;
		b->used = 0;
		b->cap = cap;
		b->next = m->text;
		m->text = b;
	}
	b->used += n;
	return b->data + b->used - n;
}

void
arc_msg_free(arc_msg *m)
{
	unsigned	 i;

	if (m == NULL)
		return;
	for (i = 0; i < m->nkeys; i++) {
		if (m->keys[i].entry) {
			arc_keys_unwait(m->keys[i].entry, &m->keys[i].wait);
			arc_keys_release(m->lib->keys, m->keys[i].entry);
		}
		free(m->keys[i].selector);
		free(m->keys[i].domain);
	}
	free(m->keys);
	arc_dkim_free(m);
	free(m->seal_md);
	for (i = 0; i < m->nbh; i++)
		arc_bodyhash_free(m->bh[i].h);
	free(m->bh);
	for (i = 0; i < m->narc; i++) {
		free(m->arc[i].domain);
		free(m->arc[i].selector);
	}
	free(m->arc);
	while (m->text != NULL) {
		struct arc_textblock *next = m->text->next;

		free(m->text);
		m->text = next;
	}
	free(m->fields);
	arc_buf_free(&m->pending);
	arc_buf_free(&m->reason);
	free(m);
}

const char *
arc_msg_error(const arc_msg *m)
{
	return m->error;
}

static arc_status
misuse(arc_msg *m, const char *what)
{
	snprintf(m->error, sizeof(m->error), "%s", what);
	return ARC_ERR_STATE;
}

arc_status
arc_msg_set_signer(arc_msg *m, const arc_signer *s)
{
	if (m->state != ST_HEADERS)
		return misuse(m, "signer must be set before end of headers");
	m->signer = s;
	m->flags |= ARC_MSG_SEAL | ARC_MSG_VERIFY;
	return ARC_OK;
}

void
arc_msg_set_eoh_cb(arc_msg *m, arc_eoh_fn fn, void *arg)
{
	m->eoh_fn = fn;
	m->eoh_arg = arg;
}

const char *
arc_msg_field_value(const arc_msg *m, const char *name, size_t *len)
{
	for (unsigned i = 0; i < m->nfields; i++) {
		const arc_field *f = &m->fields[i];

		if (arc_field_is(f, name)) {
			size_t v = f->name_len;

			while (v < f->len && f->text[v] != ':')
				v++;
			v += v < f->len;
			*len = f->len - v;
			return f->text + v;
		}
	}
	return NULL;
}

const char *
arc_msg_field_next(const arc_msg *m, const char *name, unsigned *pos,
    size_t *len)
{
	for (unsigned i = *pos; i < m->nfields; i++) {
		const arc_field	*f = &m->fields[i];
		size_t		 v = f->name_len;

		if (!arc_field_is(f, name))
			continue;
		while (v < f->len && f->text[v] != ':')
			v++;
		v += v < f->len;
		*len = f->len - v;
		*pos = i + 1;
		return f->text + v;
	}
	*pos = m->nfields;
	return NULL;
}

void
arc_msg_set_ready_cb(arc_msg *m, arc_ready_fn fn, void *arg)
{
	m->ready_fn = fn;
	m->ready_arg = arg;
}

/* ---- header fields --------------------------------------------------------- */

static void
over_limit(arc_msg *m, const char *what)
{
	if (!m->over_limit) {
		m->over_limit = 1;
		arc_msg_fail(m, "%s", what);
	}
}

arc_status
arc_msg_header(arc_msg *m, const char *p, size_t len)
{
	arc_field	*f;
	const char	*nl;
	char		*text;
	size_t		 i, o, e, extra;

	if (m->state != ST_HEADERS)
		return misuse(m, "header field after end of headers");
	while (len > 0 && (p[len - 1] == '\n' || p[len - 1] == '\r'))
		len--;
	if (len == 0)
		return ARC_OK;
	if (m->nfields >= m->lib->limits.max_header_fields) {
		over_limit(m, "too many header fields");
		return ARC_OK;
	}
	if (len > m->lib->limits.max_field_bytes) {
		over_limit(m, "header field over the size limit");
		return ARC_OK;
	}
	if (m->nfields == m->capfields) {
		unsigned  cap = m->capfields ? m->capfields * 2 : 32;
		arc_field *nf = reallocarray(m->fields, cap, sizeof(*nf));

		if (nf == NULL)
			return ARC_ERR_NOMEM;
		m->fields = nf;
		m->capfields = cap;
	}
	/* line ends inside the field become CRLF, as canonicalization
	 * needs: a bare LF gets a CR.  Sized first, copied line by line */
	for (i = 0, extra = 0; (nl = memchr(p + i, '\n', len - i)) != NULL;
	    i = (size_t)(nl - p) + 1)
		if (nl == p || nl[-1] != '\r')
			extra++;
	if ((text = text_alloc(m, len + extra + 1)) == NULL)
		return ARC_ERR_NOMEM;
	for (i = 0, o = 0; i < len; i = e) {
		nl = memchr(p + i, '\n', len - i);
		e = nl != NULL ? (size_t)(nl - p) : len;
		memcpy(text + o, p + i, e - i);
		o += e - i;
		if (nl != NULL) {
			if (nl == p || nl[-1] != '\r')
				text[o++] = '\r';
			text[o++] = '\n';
			e++;
		}
	}
	text[o] = '\0';
	f = &m->fields[m->nfields];
	f->len = o;
	f->text = text;
	for (i = 0; i < f->len && f->text[i] != ':'; i++)
		;
	if (i == f->len)		/* no colon: not a header field */
		return ARC_OK;
	while (i > 0 && (f->text[i - 1] == ' ' || f->text[i - 1] == '\t'))
		i--;
	f->name_len = i;
	m->nfields++;
	return ARC_OK;
}

static arc_status
flush_pending(arc_msg *m)
{
	arc_status	 r = ARC_OK;

	if (m->pending.failed)
		over_limit(m, "header field over the size limit");
	else if (m->pending.len)
		r = arc_msg_header(m, m->pending.data, m->pending.len);
	arc_buf_reset(&m->pending);
	return r;
}

arc_status
arc_msg_feed(arc_msg *m, const char *p, size_t n)
{
	size_t		 i = 0;
	const char	*nl;
	arc_status	 r;

	m->feed_mode = 1;
	if (m->state == ST_BODY)
		return arc_msg_body(m, (const unsigned char *)p, n);
	if (m->state != ST_HEADERS)
		return misuse(m, "message data after end of message");
	while (i < n) {
		if (m->feed_bol) {
			char c = p[i];

			if (m->feed_cr) {	/* a line began with CR */
				m->feed_cr = 0;
				if (c == '\n') {
					i++;
					goto eoh;
				}
				if ((r = flush_pending(m)) != ARC_OK)
					return r;
				arc_buf_addc(&m->pending, '\r');
				m->feed_bol = 0;
				continue;
			}
			if (c == '\n') {
				i++;
				goto eoh;
			}
			if (c == '\r') {
				if (i + 1 == n) {
					m->feed_cr = 1;
					return ARC_OK;
				}
				if (p[i + 1] == '\n') {
					i += 2;
					goto eoh;
				}
			}
			if (c != ' ' && c != '\t' &&
			    (r = flush_pending(m)) != ARC_OK)
				return r;
			m->feed_bol = 0;
		}
		nl = memchr(p + i, '\n', n - i);
		size_t end = nl ? (size_t)(nl - p) + 1 : n;

		arc_buf_add(&m->pending, p + i, end - i);
		i = end;
		if (nl)
			m->feed_bol = 1;
	}
	return ARC_OK;
eoh:
	if ((r = flush_pending(m)) != ARC_OK || (r = arc_msg_eoh(m)) != ARC_OK)
		return r;
	return i < n ? arc_msg_body(m, (const unsigned char *)p + i, n - i) :
	    ARC_OK;
}

/* ---- end of headers, body -------------------------------------------------- */

arc_status
arc_msg_eoh(arc_msg *m)
{
	if (m->state != ST_HEADERS)
		return misuse(m, "end of headers given twice");
	if (m->eoh_fn) {		/* once: it may set the signer */
		arc_eoh_fn fn = m->eoh_fn;

		m->eoh_fn = NULL;
		fn(m, m->eoh_arg);
	}
	m->state = ST_BODY;
	if (m->flags & ARC_MSG_VERIFY)
		arc_verify_prepare(m);
	if (m->flags & ARC_MSG_DKIM)
		arc_dkim_prepare(m);
	if (m->signer) {
		unsigned i;

		for (i = 0; i < m->nbh; i++)
			if (m->bh[i].mode == ARC_CANON_RELAXED &&
			    m->bh[i].limit < 0)
				break;
		if (i == m->nbh) {
			arc_bh *nb = reallocarray(m->bh, m->nbh + 1,
			    sizeof(*nb));

			if (nb == NULL)
				return ARC_ERR_NOMEM;
			m->bh = nb;
			memset(&nb[i], 0, sizeof(*nb));
			nb[i].mode = ARC_CANON_RELAXED;
			nb[i].limit = -1;
			if ((nb[i].h = arc_bodyhash_create(ARC_CANON_RELAXED,
			    -1)) == NULL)
				return ARC_ERR_NOMEM;
			m->nbh++;
		}
		m->seal_bh = (int)i;
	}
	return ARC_OK;
}

arc_status
arc_msg_body(arc_msg *m, const unsigned char *p, size_t n)
{
	unsigned	 i;

	if (m->state != ST_BODY)
		return misuse(m, "body data outside the body");
	for (i = 0; i < m->nbh; i++)
		if (!arc_bodyhash_update(m->bh[i].h, p, n))
			return ARC_ERR_CRYPTO;
	return ARC_OK;
}

arc_status
arc_msg_eom(arc_msg *m)
{
	unsigned	 i;
	arc_status	 r;

	if (m->state == ST_DONE)
		return ARC_OK;
	if (m->state == ST_HEADERS) {
		/* a message that is all header (or nothing at all) */
		if ((r = flush_pending(m)) != ARC_OK ||
		    (r = arc_msg_eoh(m)) != ARC_OK)
			return r;
	}
	for (i = 0; i < m->nbh; i++)
		if (!m->bh[i].done) {
			if (!arc_bodyhash_final(m->bh[i].h, m->bh[i].digest))
				return ARC_ERR_CRYPTO;
			m->bh[i].done = 1;
		}
	if (m->keys_pending > 0) {
		m->eom_pending = 1;
		return ARC_PENDING;
	}
	m->eom_pending = 0;
	/* validation looks keys up in stages: it may want more */
	if ((m->flags & ARC_MSG_VERIFY) && !arc_verify_run(m)) {
		m->eom_pending = 1;
		return ARC_PENDING;
	}
	arc_dkim_run(m);	/* its keys were all asked for at eoh */
	m->state = ST_DONE;
	return ARC_OK;
}

static long
ms_since(const struct timespec *t0)
{
	struct timespec	 t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (t.tv_sec - t0->tv_sec) * 1000 +
	    (t.tv_nsec - t0->tv_nsec) / 1000000;
}

arc_status
arc_msg_wait(arc_msg *m, int timeout_ms)
{
	struct timespec	 t0;
	arc_status	 r;
	unsigned	 i;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while ((r = arc_msg_eom(m)) == ARC_PENDING) {
		long left = timeout_ms - ms_since(&t0);

		if (left <= 0)
			break;
		arc_keys_wait(m->lib->keys, (int)left);
		arc_keys_process(m->lib->keys);
	}
	if (r != ARC_PENDING)
		return r;
	/* out of time: what is still missing counts as a failed lookup */
	for (i = 0; i < m->nkeys; i++) {
		arc_keyslot *s = &m->keys[i];

		if (s->entry && s->entry->state == ARC_KEY_PENDING) {
			arc_keys_unwait(s->entry, &s->wait);
			arc_keys_release(m->lib->keys, s->entry);
			s->entry = NULL;
			s->done = 1;
		}
	}
	arc_dkim_close(m);
	m->keys_pending = 0;
	m->lookups_closed = 1;	/* and so does every key not yet asked for */
	return arc_msg_eom(m);
}

int
arc_lib_dns_fd(arc_lib *lib)
{
	return arc_keys_fd(lib->keys);
}

arc_status
arc_lib_dns_process(arc_lib *lib)
{
	return arc_keys_process(lib->keys) < 0 ? ARC_ERR_IO : ARC_OK;
}

/* ---- results ----------------------------------------------------------------- */

arc_cv
arc_msg_cv(const arc_msg *m)
{
	return m->cv;
}

int
arc_msg_oldest_pass(const arc_msg *m)
{
	return m->cv == ARC_CV_PASS ? m->oldest_pass : -1;
}

const char *
arc_msg_reason(const arc_msg *m)
{
	return m->reason.data ? m->reason.data : "";
}

int
arc_msg_nsets(const arc_msg *m)
{
	return m->nsets;
}

const arc_set_info *
arc_msg_set(const arc_msg *m, int instance)
{
	if (instance < 1 || instance > m->nsets || instance > 50)
		return NULL;
	return &m->info[instance];
}

int
arc_msg_temperror(const arc_msg *m)
{
	return m->cv == ARC_CV_FAIL && m->temperror;
}

int
arc_msg_oldest_pass_skipped(const arc_msg *m)
{
	return m->cv == ARC_CV_PASS && m->oldest_skipped;
}

const arc_msg_stats *
arc_msg_get_stats(const arc_msg *m)
{
	return &m->stats;
}

/* Text inside an RFC 5322 comment: parentheses and backslashes quoted,
 * ';' made ',' (naive A-R parsers split on it), control and 8-bit bytes
 * dropped (everything we write is printable ASCII); at most max bytes of
 * the input. */
static void
add_comment_text(arc_buf *b, const char *s, size_t max)
{
	for (; *s && max > 0; s++, max--) {
		if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
			continue;
		if (*s == '(' || *s == ')' || *s == '\\')
			arc_buf_addc(b, '\\');
		arc_buf_addc(b, *s == ';' ? ',' : *s);
	}
}

static int
ldh_name(const char *s)
{
	size_t	 n = strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-_");

	return n > 0 && s[n] == '\0';
}

/* OpenARC's arc.chain (FinalReceiver): one domain per set, newest first,
 * the AMS d= as OpenARC writes it, and the AS d= after it where that
 * differs; OpenDMARC overrides a DMARC failure only when it trusts
 * every one.  Left out rather than cut: OpenDMARC keeps 255 bytes of a
 * value, and a cut list could name another domain. */
static void
add_arc_chain(const arc_msg *m, arc_buf *b)
{
	char		 v[256];
	size_t		 o = 0, n;
	int		 i, k;

	for (i = m->nsets; i >= 1; i--)
		for (k = 0; k < 2; k++) {
			const char *d = k == 0 ? m->info[i].ams_domain :
			    m->info[i].as_domain;

			if (k == 1 && d != NULL && m->info[i].ams_domain &&
			    strcasecmp(d, m->info[i].ams_domain) == 0)
				continue;
			if (d == NULL || !ldh_name(d))
				return;
			n = strlen(d);
			if (o + (o > 0) + n >= sizeof(v))
				return;
			if (o > 0)
				v[o++] = ':';
			memcpy(v + o, d, n);
			o += n;
		}
	if (o == 0)
		return;
	v[o] = '\0';
	/* ':' is not a token character: a list is a quoted-string */
	arc_buf_printf(b, strchr(v, ':') ? " arc.chain=\"%s\"" :
	    " arc.chain=%s", v);
}

void
arc_result_text(const arc_msg *m, arc_buf *b, const char *remote_ip,
    unsigned flags)
{
	arc_buf_adds(b, "arc=");
	arc_buf_adds(b, arc_cv_name(m->cv));
	if (m->cv == ARC_CV_PASS) {
		/* the newest sealer only: the comment stays short whatever
		 * the chain's length (arc.chain has them all) */
		arc_buf_printf(b, " (i=%d d=", m->nsets);
		add_comment_text(b, m->info[m->nsets].as_domain ?
		    m->info[m->nsets].as_domain : "?", 253);
		arc_buf_addc(b, ')');
	} else if (m->cv == ARC_CV_FAIL) {
		arc_buf_adds(b, " (");
		if (m->temperror)
			arc_buf_adds(b, "temperror: ");
		add_comment_text(b, arc_msg_reason(m), 400);
		arc_buf_addc(b, ')');
	}
	if (m->cv == ARC_CV_PASS && m->oldest_pass >= 0)
		arc_buf_printf(b, " header.oldest-pass=%d", m->oldest_pass);
	else if (m->cv == ARC_CV_PASS && m->oldest_skipped)
		arc_buf_printf(b, " (oldest-pass not computed: %s)",
		    m->oldest_why ? m->oldest_why : "over budget");
	/* an address only: nothing else may reach the header; an IPv6
	 * one is not a token (RFC 8601 pvalue), so it is quoted */
	if (remote_ip && *remote_ip && strlen(remote_ip) < 64 &&
	    strspn(remote_ip, "0123456789abcdefABCDEF.:") == strlen(remote_ip))
		arc_buf_printf(b, strchr(remote_ip, ':') ?
		    " smtp.remote-ip=\"%s\"" : " smtp.remote-ip=%s", remote_ip);
	if (m->cv == ARC_CV_PASS && !(flags & ARC_AUTHRES_NO_CHAIN))
		add_arc_chain(m, b);
}

int
arc_authserv_id_ok(const char *s)
{
	size_t	 n;

	if (s == NULL)
		return 0;
	for (n = 0; s[n]; n++)
		if ((unsigned char)s[n] <= 0x20 || (unsigned char)s[n] >= 0x7f
		    || strchr("()<>@,;:\\\"/[]?=", s[n]) != NULL)
			return 0;
	return n > 0 && n <= 255;
}

char *
arc_msg_authres_flags(const arc_msg *m, const char *authserv_id,
    const char *remote_ip, unsigned flags)
{
	arc_buf	 b = { 0 };

	if (!arc_authserv_id_ok(authserv_id))
		return NULL;
	arc_buf_printf(&b, "%s; ", authserv_id);
	arc_result_text(m, &b, remote_ip, flags);
	return arc_buf_steal(&b);
}

char *
arc_msg_authres(const arc_msg *m, const char *authserv_id,
    const char *remote_ip)
{
	return arc_msg_authres_flags(m, authserv_id, remote_ip, 0);
}
