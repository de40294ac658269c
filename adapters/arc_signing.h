/*
 * arc_signing.h - many sealing identities on one host: a key table and
 * a signing table in OpenDKIM's formats, and the choice of the key that
 * seals a message.
 *
 * Key table, one key per line ('#' starts a comment, blank lines are
 * ignored):
 *	name  domain:selector:/path/to/key.pem
 * Signing table, "pattern name" per line, name a key-table name; the
 * FIRST line that matches wins, as in OpenDKIM's refile: tables:
 *	user@example.org	exactly that address
 *	*@example.org		any address at example.org
 *	example.org		the same (OpenDKIM's plain-file form)
 *	*.example.org		any address at a subdomain of example.org
 *				(*@*.example.org is the same)
 *	*			anything
 *	/regex/			pcre2, case-insensitive, against the
 *				whole "local@domain" (or the domain alone)
 *	a*b@*.org ...		any other '*' glob over the whole address,
 *				'*' matching any run of characters (a
 *				linear wildcard matcher, not a regex)
 * Addresses and domains match without regard to case.  One line names
 * one key: an ARC set is one seal per hop (RFC 8617 §4.2), so there is
 * no OpenDKIM MultipleSignatures; a domain may have several keys in the
 * key table (rsa and ed25519, old and new selector), each line of the
 * signing table picks one of them.
 *
 * Contract:
 *  - arc_signing_parse()/arc_signing_load() check every line; any bad
 *    line fails the whole load with err "file:line: why".  Nothing is
 *    loaded from a key file until arc_signing_load_keys(), which makes
 *    every key's signer (all of them, used or not) through the caller's
 *    function and fails with "keytable:line: name: why" (the first bad
 *    line).  For large tables it calls the function from one thread per
 *    CPU at once, all joined before it returns: the function must be
 *    thread-safe (the adapter's is: it only reads its configuration).
 *  - Lazy loading instead: without arc_signing_load_keys(),
 *    arc_signing_signer() makes a key's signer on its first use and keeps
 *    it (or its failure, "keytable:line: name: why") as long as the
 *    tables live; thread-safe.  After load_keys it returns the signer
 *    made there.
 *  - arc_signing_select() costs one hash lookup for the exact address,
 *    one for the domain and one per parent domain, then, for each regex
 *    or glob line that comes before the best hashed match (none when
 *    they come last), one pcre2 match under a match limit (regex) or one
 *    wildcard match of at most len(pattern) * len(addr) steps (glob).
 *    It does not change the tables: any number of callers may select at
 *    once.
 *  - The arc_signing owns its strings, regexes and signers; the match
 *    points into it and lives as long as it does.
 */
#ifndef ARC_SIGNING_H
#define ARC_SIGNING_H

#include <stddef.h>

#include "arc.h"

typedef struct arc_signing arc_signing;

typedef struct {
	const char		*name, *domain, *selector, *path;
	const arc_signer	*signer;	/* NULL before it is made */
	unsigned		 line;		/* in the key table */
} arc_signing_key;

typedef struct {
	const arc_signing_key	*key;
	const char		*pattern;	/* as written in the table */
	unsigned		 line;		/* in the signing table */
} arc_signing_match;

/* Tables held in memory; the names are used in error messages. */
arc_signing	*arc_signing_parse(const char *keytable_name, const char *kt,
		    size_t ktlen, const char *signtable_name, const char *st,
		    size_t stlen, char *err, size_t errlen);
arc_signing	*arc_signing_load(const char *keytable_path,
		    const char *signtable_path, char *err, size_t errlen);

/* Makes the signer of one key; NULL with err set when it is unusable. */
typedef arc_signer *(*arc_signing_key_fn)(void *arg, const char *domain,
		    const char *selector, const char *path, char *err,
		    size_t errlen);
int		 arc_signing_load_keys(arc_signing *, arc_signing_key_fn,
		    void *arg, char *err, size_t errlen);
/* The signer of a key of these tables, made through fn on first use;
 * NULL with err set (the same err every time) when it is unusable. */
const arc_signer *arc_signing_signer(arc_signing *, const arc_signing_key *,
		    arc_signing_key_fn, void *arg, char *err, size_t errlen);

/* addr: "local@domain" or a bare domain, lower case (arc_mailaddr.h).
 * 1 and *m set on a match, 0 if no line matches. */
int		 arc_signing_select(const arc_signing *, const char *addr,
		    arc_signing_match *m);

/* What a message is matched on (arc.conf seal-select), tried in the
 * order the list gives. */
enum { ARC_SELECT_FROM = 0, ARC_SELECT_RCPT, ARC_SELECT_SENDER,
    ARC_SELECT_LIST_ID, ARC_SELECT_MAX };
/* "list-id,rcpt,sender" (commas or spaces) into keys[]; the count, or
 * -1 with err set for an unknown or repeated name. */
int		 arc_signing_parse_select(const char *list, int *keys,
		    char *err, size_t errlen);
const char	*arc_signing_select_name(int key);

size_t		 arc_signing_nkeys(const arc_signing *);
size_t		 arc_signing_nrules(const arc_signing *);
const arc_signing_key *arc_signing_key_at(const arc_signing *, size_t);
const char	*arc_signing_file(const arc_signing *);	/* signing table */
void		 arc_signing_free(arc_signing *);

#endif
