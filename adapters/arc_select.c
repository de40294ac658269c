/*
 * arc_select.c - the signing tables chosen from per message.  See
 * arc_select.h for the contract.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc_mailaddr.h"
#include "arc_select.h"

struct arc_select {
	arc_signing		*signing;
	int			 select[ARC_SELECT_MAX], nselect;
	arc_signing_key_fn	 key_fn;
	void			*key_arg;
};

int
arc_select_create(const arc_select_params *p, arc_select **out, char *err,
    size_t errlen)
{
	arc_select	*sl;

	*out = NULL;
	if (p->key_table == NULL && p->signing_table == NULL)
		return 0;
	if (p->key_table == NULL || p->signing_table == NULL) {
		snprintf(err, errlen, "%s%s needs %s as well",
		    p->key_table ? p->key_table_where : p->signing_table_where,
		    p->key_table ? "seal-key-table" : "seal-signing-table",
		    p->key_table ? "seal-signing-table" : "seal-key-table");
		return -1;
	}
	if ((sl = calloc(1, sizeof(*sl))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	sl->key_fn = p->key_fn;
	sl->key_arg = p->key_arg;
	if ((sl->nselect = arc_signing_parse_select(p->select, sl->select, err,
	    errlen)) < 0 || (sl->signing = arc_signing_load(p->key_table,
	    p->signing_table, err, errlen)) == NULL ||
	    (!p->lazy && arc_signing_load_keys(sl->signing, p->key_fn,
	    p->key_arg, err, errlen) != 0)) {
		arc_select_free(sl);
		return -1;
	}
	*out = sl;
	return 0;
}

void
arc_select_free(arc_select *sl)
{
	if (sl == NULL)
		return;
	arc_signing_free(sl->signing);
	free(sl);
}

void
arc_select_envelope(const arc_select *sl, arc_select_state *st, int key,
    const char *addr)
{
	char	 a[512];

	if (sl == NULL || st->have[key])
		return;
	if (key == ARC_SELECT_RCPT && st->nrcpt++ >= ARC_SELECT_MAX_RCPT)
		return;
	if (arc_mailaddr_envelope(addr, a, sizeof(a)) == 0)
		st->have[key] = arc_signing_select(sl->signing, a,
		    &st->sel[key]);
}

/* End of headers: From and List-Id are read now, the envelope matches
 * were made as the envelope came. */
int
arc_select_message(const arc_select *sl, arc_select_state *st, arc_msg *m,
    const arc_signing_match **mt)
{
	const char	*v;
	char		 a[512];
	size_t		 n;
	int		 i, k;

	for (i = 0; sl != NULL && i < sl->nselect; i++) {
		k = sl->select[i];
		if ((k == ARC_SELECT_FROM || k == ARC_SELECT_LIST_ID) &&
		    (v = arc_msg_field_value(m, k == ARC_SELECT_FROM ? "from" :
		    "list-id", &n)) != NULL && (k == ARC_SELECT_FROM ?
		    arc_mailaddr_from(v, n, a, sizeof(a)) :
		    arc_mailaddr_list_id(v, n, a, sizeof(a))) == 0)
			st->have[k] = arc_signing_select(sl->signing, a,
			    &st->sel[k]);
		if (st->have[k]) {
			*mt = &st->sel[k];
			return k;
		}
	}
	return -1;
}

const arc_signer *
arc_select_signer(arc_select *sl, const arc_signing_match *mt, char *err,
    size_t errlen)
{
	return arc_signing_signer(sl->signing, mt->key, sl->key_fn,
	    sl->key_arg, err, errlen);
}

const arc_signing *
arc_select_tables(const arc_select *sl)
{
	return sl ? sl->signing : NULL;
}
