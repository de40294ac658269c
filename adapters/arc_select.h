/*
 * arc_select.h - which key of the signing tables (arc_signing.h) seals a
 * message: the seal-key-table and seal-signing-table of arc.conf, the
 * seal-select list of what a message is matched on, and the per-message
 * state of that choice.  Private to the adapter layer (arc_adapter.c).
 *
 * Contract:
 *  - arc_select_create() takes plain values (the arc.conf options and
 *    where the file set them) and the function that makes a key's signer;
 *    it never calls back into the adapter otherwise.  No tables named:
 *    0 and *out NULL.  A bad table line or, when loading eagerly, a key
 *    that cannot be used: -1 and err "file:line: why".
 *  - Eager (daemons, arctool check-config): every key is made at
 *    create.  Lazy (exim_arc.so, whose processes live for a connection):
 *    the tables are parsed and checked at create, a key's signer is made
 *    on its first use and kept for the process; one that fails then
 *    gives NULL and err, every time, and costs that message its seal
 *    only.
 *  - Per message, an arc_select_state (zeroed at start) collects the
 *    matches: arc_select_envelope() for the envelope sender and for
 *    each recipient (at most ARC_SELECT_MAX_RCPT recipients are tried:
 *    selection runs at every RCPT, its cost must not grow with what a
 *    client sends), arc_select_message() at the end of headers reads
 *    From and List-Id and returns the first seal-select key that
 *    matched.  Selection reads the tables only: any number of threads
 *    may select at once.
 */
#ifndef ARC_SELECT_H
#define ARC_SELECT_H

#include <stddef.h>

#include "arc.h"
#include "arc_signing.h"

#define ARC_SELECT_MAX_RCPT	16	/* envelope recipients tried */

typedef struct arc_select arc_select;

typedef struct {
	const char	*key_table, *signing_table;	/* NULL: not set */
	const char	*select;		/* seal-select */
	/* "file:line: " where arc.conf set the tables, or "" */
	const char	*key_table_where, *signing_table_where;
	int		 lazy;			/* seal-key-load lazy */
	arc_signing_key_fn key_fn;		/* makes a key's signer */
	void		*key_arg;
} arc_select_params;

typedef struct {
	int			 have[ARC_SELECT_MAX];
	arc_signing_match	 sel[ARC_SELECT_MAX];
	unsigned		 nrcpt;		/* recipients tried */
} arc_select_state;

int		 arc_select_create(const arc_select_params *, arc_select **out,
		    char *err, size_t errlen);
void		 arc_select_free(arc_select *);
/* key: ARC_SELECT_SENDER or ARC_SELECT_RCPT; addr as the MTA gave it */
void		 arc_select_envelope(const arc_select *, arc_select_state *,
		    int key, const char *addr);
/* The seal-select key whose match chooses (*m set), or -1: none. */
int		 arc_select_message(const arc_select *, arc_select_state *,
		    arc_msg *, const arc_signing_match **m);
/* The signer of a match: made now when loading lazily; NULL with err. */
const arc_signer *arc_select_signer(arc_select *, const arc_signing_match *,
		    char *err, size_t errlen);
const arc_signing *arc_select_tables(const arc_select *);

#endif
