/*
 * arc_seal.c - adding an ARC set, RFC 8617 §5.1.
 *
 * The three fields are built as text with an empty b= value, signed over
 * exactly that text, and only then is the signature put in, so what is
 * signed is byte for byte what a verifier will blank out and hash.
 * Folded output keeps lines under 78 columns where the content allows;
 * the unfolded form lists tags alphabetically on one line (the test
 * suite's form) unless that line would pass 980 octets.  The AAR's
 * results are rewritten, never copied (add_results()).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "arc_authres.h"
#include "arc_crypto.h"
#include "arc_internal.h"

#define FOLD_AT	78
/* Unfolded output still folds before a line would pass this many
 * octets: RFC 5322 §2.1.1 allows 998 (long h= lists, 8192-bit b=). */
#define LINE_MAX_OCTETS	980

/* A field under construction: text, and where the b= value goes. */
typedef struct {
	arc_buf	 b;
	size_t	 col;		/* column of the current line */
	size_t	 sig_at;	/* offset just after "b=" */
	int	 fold;
} field_writer;

static void
fw_start(field_writer *w, const char *name, int fold)
{
	memset(w, 0, sizeof(*w));
	w->fold = fold;
	arc_buf_reserve(&w->b, 512);	/* a whole AMS or AS, mostly */
	arc_buf_adds(&w->b, name);
	arc_buf_addc(&w->b, ':');
	w->col = w->b.len;
}

/* Room for one piece of n bytes: a space or, if it would not fit, a fold. */
static void
fw_space(field_writer *w, size_t n)
{
	if (w->fold && w->col + 1 + n > FOLD_AT && w->col > 1) {
		arc_buf_add(&w->b, "\r\n\t", 3);
		w->col = 8;
	} else if (!w->fold && w->col + 1 + n > LINE_MAX_OCTETS &&
	    w->col > 1) {
		arc_buf_add(&w->b, "\r\n\t", 3);
		w->col = 1;
	} else {
		arc_buf_addc(&w->b, ' ');
		w->col++;
	}
}

/* Adds one piece, preceded by a space or a fold. */
static void
fw_piece(field_writer *w, const char *s, size_t n)
{
	fw_space(w, n);
	arc_buf_add(&w->b, s, n);
	w->col += n;
}

/* "tag=val;" as one piece. */
static void
fw_tag(field_writer *w, const char *tag, const char *val)
{
	size_t	 tl = strlen(tag), vl = strlen(val);
	char	*o;

	fw_space(w, tl + vl + 2);
	if ((o = arc_buf_reserve(&w->b, tl + vl + 2)) == NULL)
		return;
	memcpy(o, tag, tl);
	o[tl] = '=';
	memcpy(o + tl + 1, val, vl);
	o[tl + 1 + vl] = ';';
	o[tl + vl + 2] = '\0';
	w->b.len += tl + vl + 2;
	w->col += tl + vl + 2;
}

/* h= may fold after any colon. */
static void
fw_hlist(field_writer *w, const char *h)
{
	const char	*p = h;
	size_t		 n;

	fw_piece(w, "h=", 2);
	while (*p) {
		n = strcspn(p, ":");
		if (p[n] == ':')
			n++;
		if (w->fold ? w->col + n + 1 > FOLD_AT :
		    w->col + n + 1 > LINE_MAX_OCTETS) {
			arc_buf_adds(&w->b, "\r\n\t");
			w->col = w->fold ? 8 : 1;
		}
		arc_buf_add(&w->b, p, n);
		w->col += n;
		p += n;
	}
	arc_buf_addc(&w->b, ';');
	w->col++;
}

/* "b=" and remember where the value goes; last = no ';' after it. */
static void
fw_sig(field_writer *w, int last)
{
	fw_piece(w, "b=", 2);
	w->sig_at = w->b.len;
	if (!last)
		arc_buf_addc(&w->b, ';');
}

/* Puts the signature in; folded in 72-column pieces after the first. */
static char *
fw_finish(field_writer *w, const char *sig)
{
	arc_buf	 out = { 0 };
	size_t	 n = strlen(sig), i = 0, room, col = w->col;

	/* the field, the signature and a fold for each 64 bytes of it */
	arc_buf_reserve(&out, w->b.len + n + 3 * (n / 64 + 1) + 2);
	arc_buf_add(&out, w->b.data, w->sig_at);
	if (!w->fold) {
		/* one line, unless the signature (8192-bit RSA: 1366
		 * bytes) would make it too long: then FWS inside b= */
		size_t	 c0 = w->sig_at, tail;

		while (c0 > 0 && w->b.data[c0 - 1] != '\n')
			c0--;
		c0 = w->sig_at - c0;
		tail = strcspn(w->b.data + w->sig_at, "\r");
		room = c0 < LINE_MAX_OCTETS ? LINE_MAX_OCTETS - c0 : 0;
		while (i < n && n - i + tail > room) {
			/* a fold inside the value, never after it: trailing
			 * FWS is not part of what a verifier blanks */
			size_t k = room < n - i - 1 ? room : n - i - 1;

			arc_buf_add(&out, sig + i, k);
			i += k;
			arc_buf_adds(&out, "\r\n\t");
			room = LINE_MAX_OCTETS - 1;
		}
		arc_buf_add(&out, sig + i, n - i);
	} else {
		/* the column at sig_at, when b= is the field's last tag */
		while (i < n) {
			room = col < FOLD_AT ? FOLD_AT - col : 0;
			if (room < 8) {
				arc_buf_adds(&out, "\r\n\t");
				col = 8;
				continue;
			}
			if (room > n - i)
				room = n - i;
			arc_buf_add(&out, sig + i, room);
			i += room;
			col += room;
		}
	}
	arc_buf_adds(&out, w->b.data + w->sig_at);
	arc_buf_adds(&out, "\r\n");
	if (w->b.failed)
		out.failed = 1;
	arc_buf_free(&w->b);
	return arc_buf_steal(&out);
}

/* The tags of an AMS or AS; those NULL are left out. */
typedef struct {
	char		 i[24], t[24];
	const char	*a, *bh, *c, *cv, *d, *h, *s;
} seal_tags;

/* Decimal, without the cost of printf (a seal writes four numbers). */
static void
fmt_num(char buf[24], long long v)
{
	char			 tmp[24];
	unsigned long long	 u = v < 0 ? 0ULL - (unsigned long long)v :
				    (unsigned long long)v;
	size_t			 n = 0, k = 0;

	do {
		tmp[n++] = (char)('0' + u % 10);
		u /= 10;
	} while (u > 0);
	if (v < 0)
		buf[k++] = '-';
	while (n > 0)
		buf[k++] = tmp[--n];
	buf[k] = '\0';
}

static void
fw_tags(field_writer *w, const seal_tags *st)
{
	if (w->fold) {
		/* the usual order: i= first, b= last */
		fw_tag(w, "i", st->i);
		fw_tag(w, "a", st->a);
		if (st->c != NULL)
			fw_tag(w, "c", st->c);
		fw_tag(w, "d", st->d);
		fw_tag(w, "s", st->s);
		fw_tag(w, "t", st->t);
		if (st->h != NULL)
			fw_hlist(w, st->h);
		if (st->bh != NULL)
			fw_tag(w, "bh", st->bh);
		if (st->cv != NULL)
			fw_tag(w, "cv", st->cv);
		fw_sig(w, 1);
		return;
	}
	/* alphabetical on one line, as the test suite lists them */
	fw_tag(w, "a", st->a);
	fw_sig(w, 0);
	if (st->bh != NULL)
		fw_tag(w, "bh", st->bh);
	if (st->c != NULL)
		fw_tag(w, "c", st->c);
	if (st->cv != NULL)
		fw_tag(w, "cv", st->cv);
	fw_tag(w, "d", st->d);
	if (st->h != NULL)
		fw_hlist(w, st->h);
	fw_tag(w, "i", st->i);
	fw_tag(w, "s", st->s);
	fw_piece(w, "t=", 2);
	arc_buf_adds(&w->b, st->t);
}

static void
common_tags(seal_tags *st, const arc_signer *s, int inst, time_t t)
{
	memset(st, 0, sizeof(*st));
	fmt_num(st->i, inst);
	fmt_num(st->t, (long long)t);
	st->a = s->alg == ARC_ALG_ED25519_SHA256 ? "ed25519-sha256" :
	    "rsa-sha256";
	st->d = s->domain;
	st->s = s->selector;
}

/* ---- AAR ---------------------------------------------------------------- */

/* Adds the results of an A-R payload, each rewritten in one clean form
 * (arc_authres_write()): nothing of the input reaches the AAR but the
 * names, results and values the grammar allows, so no control or 8-bit
 * byte, no line end and no stray ';' can; a resinfo that breaks the
 * grammar is left out whole.  Comments only if asked for (Microsoft 365
 * fails AARs whose comments hold a ';', OpenARC 1.3 drops them), and
 * never the final-receiver hint arc.chain. */
static void
add_results(arc_buf *b, const char *p, size_t n, unsigned arflags, int fold,
    int *count, int *has_arc)
{
	arc_ar_resinfo	 ri;
	size_t		 pos = 0;

	while (arc_authres_scan(p, n, &pos, &ri))
		if (ri.error == NULL) {
			if ((*count)++ > 0)
				arc_buf_adds(b, fold ? ";\r\n\t" : "; ");
			arc_authres_write(b, &ri, arflags);
			*has_arc |= ri.method.n == 3 &&
			    strncasecmp(ri.method.p, "arc", 3) == 0;
		}
}

/* Ours, or one of the ADMD's other authserv-ids the operator trusts. */
static int
our_id(const arc_signer *s, const char *want, const char *id)
{
	return strcasecmp(want, id) == 0 ||
	    arc_list_has(s->trusted_ids, id, strlen(id));
}

static char *
build_aar(arc_msg *m, const arc_signer *s, int inst, const char *id,
    const char *const *extra, int fold, unsigned flags)
{
	arc_buf		 pieces = { 0 }, out = { 0 }, own = { 0 };
	arc_authres	 ar;
	char		 num[24];
	int		 count = 0, has_arc = 0;
	unsigned	 i, arf = ARC_AR_NO_CHAIN;

	if (flags & ARC_SEAL_AAR_COMMENTS)
		arf |= ARC_AR_COMMENTS;
	/* what the caller adds sits on top, so it comes first; an A-R
	 * without an authserv-id, or another one's, is never copied */
	for (i = 0; extra && extra[i]; i++)
		if (arc_authres_parse(&ar, extra[i], strlen(extra[i])) ==
		    NULL && our_id(s, id, ar.id) && !ar.none)
			add_results(&pieces, ar.payload, ar.payload_len, arf,
			    fold, &count, &has_arc);
	for (i = 0; i < m->nfields; i++) {
		const arc_field	*f = &m->fields[i];
		const char	*v;

		if (!arc_field_is(f, "Authentication-Results"))
			continue;
		v = memchr(f->text, ':', f->len) + 1;
		if (arc_authres_parse(&ar, v, f->len - (size_t)(v - f->text))
		    != NULL || !our_id(s, id, ar.id) || ar.none)
			continue;
		/* ours from the message came from outside: a forgery */
		if ((flags & ARC_SEAL_NO_MESSAGE_AR) &&
		    strcasecmp(ar.id, id) == 0)
			continue;
		add_results(&pieces, ar.payload, ar.payload_len, arf, fold,
		    &count, &has_arc);
	}
	fmt_num(num, inst);
	arc_buf_reserve(&out, 256 + pieces.len);
	arc_buf_adds(&out, "ARC-Authentication-Results: i=");
	arc_buf_adds(&out, num);
	arc_buf_adds(&out, "; ");
	arc_buf_adds(&out, id);
	arc_buf_adds(&out, fold ? ";\r\n\t" : "; ");
	if (!has_arc) {
		/* our verdict, through the same cleaner as the rest */
		int n = 0, dummy = 0;

		arc_result_text(m, &own, NULL, ARC_AUTHRES_NO_CHAIN);
		add_results(&out, own.data ? own.data : "", own.len, arf, fold,
		    &n, &dummy);
		if (own.failed)
			out.failed = 1;
		arc_buf_free(&own);
		if (count)
			arc_buf_adds(&out, fold ? ";\r\n\t" : "; ");
	}
	arc_buf_add(&out, pieces.data, pieces.len);
	arc_buf_adds(&out, "\r\n");
	if (pieces.failed)
		out.failed = 1;
	arc_buf_free(&pieces);
	if (!out.failed) {
		/* unfolded output too is folded before a line gets too
		 * long (each piece is at most ARC_AR_MAXVALUE and a name) */
		char *folded = arc_fold_field(out.data, fold ? 0 :
		    LINE_MAX_OCTETS);

		arc_buf_free(&out);
		return folded;
	}
	return arc_buf_steal(&out);
}

/* ---- AMS ---------------------------------------------------------------- */

static unsigned
count_fields(const arc_msg *m, const char *name, size_t n)
{
	unsigned	 c = 0, i;

	/* name is lower case: the first byte weeds out most fields */
	for (i = 0; i < m->nfields; i++)
		if (m->fields[i].name_len == n && (m->fields[i].text[0] |
		    0x20) == (name[0] | 0x20) &&
		    strncasecmp(m->fields[i].text, name, n) == 0)
			c++;
	return c;
}

/* Every instance of each configured name, and the oversigned ones once
 * more (only names present: an absent one would break the signature of a
 * message whose MTA adds, say, Date: after us).  The signer's list holds
 * each name once (clean_list() in arc_lib.c).  A message with none of
 * them still gets a well-formed h= (RFC 6376 §3.5 wants at least one
 * name): "from", which RFC 6376 §5.4 says must be signed; a name of no
 * field adds nothing to the hash (§5.4.2) and makes a From added later
 * break the signature, as it should. */
static char *
signed_names(const arc_msg *m, const arc_signer *s)
{
	arc_buf		 b = { 0 };
	size_t		 i;

	arc_buf_reserve(&b, strlen(s->headers) + 64);
	for (i = 0; i < s->nhnames; i++) {
		const arc_hname	*h = &s->hnames[i];
		unsigned	 c = count_fields(m, h->name, h->len);

		if (c > 0 && h->oversign)
			c++;
		while (c-- > 0) {
			if (b.len)
				arc_buf_addc(&b, ':');
			arc_buf_add(&b, h->name, h->len);
		}
	}
	if (b.len == 0)
		arc_buf_adds(&b, "from");
	return arc_buf_steal(&b);
}

static int
sign_field(arc_msg *m, const arc_signer *s, arc_buf *data,
    field_writer *w, char **out)
{
	arc_buf	 sig = { 0 };
	int	 ok;

	/* the field itself is hashed last, b= empty, without its CRLF */
	arc_canon_header(data, w->b.data, w->b.len, ARC_CANON_RELAXED, NULL,
	    0, 0);
	/* the writer is ours to free on every path (fw_finish takes it) */
	if (data->failed || w->b.failed) {
		arc_buf_free(&w->b);
		snprintf(m->error, sizeof(m->error), "out of memory");
		return ARC_ERR_NOMEM;
	}
	ok = s->sign_ctx != NULL ? arc_crypto_sign_with(s->sign_ctx,
	    data->data, data->len, &sig) : arc_crypto_sign(s->key,
	    s->alg, data->data, data->len, &sig);
	if (!ok) {
		arc_buf_free(&sig);
		arc_buf_free(&w->b);
		snprintf(m->error, sizeof(m->error), "signing failed");
		return ARC_ERR_CRYPTO;
	}
	*out = fw_finish(w, sig.data);
	arc_buf_free(&sig);
	return *out ? ARC_OK : ARC_ERR_NOMEM;
}

static arc_status
build_ams(arc_msg *m, const arc_signer *s, int inst, time_t t, int fold,
    char **out)
{
	field_writer	 w;
	seal_tags	 st;
	arc_buf		 data = { 0 }, bh = { 0 };
	char		*names;
	arc_status	 r;

	if ((names = signed_names(m, s)) == NULL)
		return ARC_ERR_NOMEM;
	arc_base64_encode(&bh, m->bh[m->seal_bh].digest, 32);
	common_tags(&st, s, inst, t);
	st.c = "relaxed/relaxed";
	st.h = names;
	st.bh = bh.data ? bh.data : "";
	fw_start(&w, "ARC-Message-Signature", fold);
	fw_tags(&w, &st);
	data.limit = 64 * 1024 * 1024;
	arc_buf_reserve(&data, 4096);	/* the usual signed fields */
	if (arc_add_signed_fields(m, names, strlen(names), ARC_CANON_RELAXED,
	    &data) != 0) {
		r = ARC_ERR_LIMIT;
		snprintf(m->error, sizeof(m->error), "too many fields to sign");
		arc_buf_free(&w.b);
	} else
		r = sign_field(m, s, &data, &w, out);
	free(names);
	arc_buf_free(&bh);
	arc_buf_free(&data);
	return r;
}

/* ---- AS ------------------------------------------------------------------ */

static void
add_canon(arc_buf *data, const char *field)
{
	size_t	 n = strlen(field);

	while (n > 0 && (field[n - 1] == '\n' || field[n - 1] == '\r'))
		n--;
	arc_canon_header(data, field, n, ARC_CANON_RELAXED, NULL, 0, 1);
}

static arc_status
build_as(arc_msg *m, const arc_signer *s, int inst, time_t t, int fold,
    const char *aar, const char *ams, char **out)
{
	field_writer	 w;
	seal_tags	 st;
	arc_buf		 data = { 0 };
	int		 i, k;
	arc_status	 r;

	common_tags(&st, s, inst, t);
	st.cv = arc_cv_name(m->cv);
	fw_start(&w, "ARC-Seal", fold);
	fw_tags(&w, &st);
	arc_buf_reserve(&data, 2048 + (m->cv == ARC_CV_PASS ? 1536 *
	    (size_t)m->nsets : 0));
	/* §5.1.1 all sets in order; §5.1.2 only ours when the chain failed */
	if (m->cv == ARC_CV_PASS)
		for (i = 1; i <= m->nsets; i++)
			for (k = 0; k < ARC_NKINDS; k++) {
				const arc_field *f =
				    &m->fields[m->set[i][k]->field];

				arc_canon_header(&data, f->text, f->len,
				    ARC_CANON_RELAXED, NULL, 0, 1);
			}
	add_canon(&data, aar);
	add_canon(&data, ams);
	r = sign_field(m, s, &data, &w, out);
	arc_buf_free(&data);
	return r;
}

static arc_status
misuse_seal(arc_msg *m)
{
	snprintf(m->error, sizeof(m->error), "seal: the message is not "
	    "complete (arc_msg_eom() has not returned ARC_OK)");
	return ARC_ERR_STATE;
}

arc_status
arc_msg_seal(arc_msg *m, const arc_signer *s, const char *authserv_id,
    const char *const *extra_ar, time_t t, unsigned flags,
    arc_seal_result *res)
{
	int		 fold = !(flags & ARC_SEAL_NOFOLD), inst;
	arc_status	 r;

	memset(res, 0, sizeof(*res));
	if (m->state != ST_DONE || !m->validated)
		return misuse_seal(m);
	if (s == NULL || s != m->signer || m->seal_bh < 0) {
		snprintf(m->error, sizeof(m->error), "seal: the signer must "
		    "be set with arc_msg_set_signer() before end of headers");
		return ARC_ERR_ARG;
	}
	if (!arc_authserv_id_ok(authserv_id)) {
		snprintf(m->error, sizeof(m->error), "seal: invalid "
		    "authserv-id");
		return ARC_ERR_ARG;
	}
	if (m->over_limit) {
		/* fields were dropped: we would sign a message we did not see */
		res->reason = "the message is over the configured limits";
		return ARC_OK;
	}
	if (m->top_cv_fail) {
		res->reason = "the newest ARC-Seal says cv=fail: the chain "
		    "ends there (RFC 8617 section 5.1 step 2)";
		return ARC_OK;
	}
	if (m->nsets >= 50) {
		res->reason = "the chain already has 50 sets";
		return ARC_OK;
	}
	inst = m->nsets + 1;
	if (t == 0)
		t = arc_lib_now(m->lib);
	if ((res->aar = build_aar(m, s, inst, authserv_id, extra_ar, fold,
	    flags)) == NULL) {
		snprintf(m->error, sizeof(m->error), "out of memory");
		return ARC_ERR_NOMEM;
	}
	if ((r = build_ams(m, s, inst, t, fold, &res->ams)) != ARC_OK ||
	    (r = build_as(m, s, inst, t, fold, res->aar, res->ams, &res->as))
	    != ARC_OK) {
		arc_seal_result_clear(res);
		return r;
	}
	res->sealed = 1;
	res->instance = inst;
	return ARC_OK;
}

void
arc_seal_result_clear(arc_seal_result *res)
{
	free(res->aar);
	free(res->ams);
	free(res->as);
	memset(res, 0, sizeof(*res));
}
