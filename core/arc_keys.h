/*
 * arc_keys.h - public-key lookup and cache (internal to the core).
 *
 * Contract:
 *  - An arc_keystore maps "selector._domainkey.domain" to a parsed key
 *    (arc_keyentry).  Entries are cached with a TTL, bounded in number,
 *    and shared between messages by reference count.
 *  - Sources, in order: key table files, the caller's TXT callback, then
 *    an optional asynchronous backend (DNS, arc_dns.c).  Synchronous
 *    sources complete inside arc_keys_get(); a backend completes later
 *    through arc_keys_complete(), which wakes every waiter.
 *  - arc_keys_get() returns a referenced entry (release with
 *    arc_keys_release()).  If the entry is still pending and w is given,
 *    w->fn(w) is called once when it completes, unless arc_keys_unwait()
 *    removed w first.  Callers never see partially filled entries.
 */
#ifndef ARC_KEYS_H
#define ARC_KEYS_H

#include <time.h>

#include <openssl/evp.h>

#include "arc.h"

typedef struct arc_keystore arc_keystore;
typedef struct arc_keyentry arc_keyentry;

typedef struct arc_keywait {
	struct arc_keywait	*next;
	void			(*fn)(struct arc_keywait *);
} arc_keywait;

enum { ARC_KEY_PENDING = 0, ARC_KEY_DONE };

enum { ARC_KTYPE_RSA = 1, ARC_KTYPE_ED25519 };

struct arc_keyentry {
	char		*qname;		/* lower case */
	int		 state;
	EVP_PKEY	*pkey;		/* NULL if error is set */
	/* made lazily by the verifier (arc_sigcheck.c) and used in place:
	 * shared, unlocked state, safe only while one thread uses the lib
	 * (arc-milter's global lock); see arc.h's thread contract */
	EVP_MD_CTX	*vctx;		/* verifier's, prepared on first use */
	EVP_PKEY_CTX	*pctx;		/* RSA over a digest, the same */
	int		 ktype;
	unsigned	 bits;
	int		 testing;	/* t=y */
	int		 strict;	/* t=s: i= domain must be d= (DKIM) */
	char		*error;		/* why there is no usable key */
	int		 temporary;	/* timeout, SERVFAIL: not cached long */
	arc_dnssec	 dnssec;
	time_t		 expires;
	unsigned	 refs;
	arc_keywait	*waiters;
	void		*backend_data;	/* the backend's per-query state */
	arc_keyentry	*hnext;		/* hash chain */
};

/* An asynchronous source (DNS).  start() begins a query for e->qname and
 * returns 0, or -1 after setting nothing (the entry then fails with
 * "lookup could not start").  It may complete synchronously.  cancel()
 * is called for an entry freed while pending. */
typedef struct {
	int	(*start)(void *ctx, arc_keystore *, arc_keyentry *);
	void	(*cancel)(void *ctx, arc_keyentry *);
	int	(*fd)(void *ctx);
	int	(*process)(void *ctx);			/* non-blocking */
	int	(*wait)(void *ctx, int timeout_ms);	/* blocks */
	void	(*free)(void *ctx);
	void	*ctx;
} arc_key_backend;

arc_keystore	*arc_keys_create(void);
void		 arc_keys_free(arc_keystore *);
int		 arc_keys_add_table(arc_keystore *, const char *path,
		    char *err, size_t errlen);
void		 arc_keys_set_callback(arc_keystore *, arc_txt_lookup_fn,
		    void *);
/* Takes ownership of the backend's ctx (freed with b->free). */
void		 arc_keys_set_backend(arc_keystore *, const arc_key_backend *);
/* max_entries 0 keeps the current cache bound.  The RSA bounds apply
 * to records parsed from then on (cached keys keep their verdict). */
void		 arc_keys_set_limits(arc_keystore *, unsigned max_entries,
		    unsigned min_rsa_bits, unsigned max_rsa_bits);
void		 arc_keys_set_now(arc_keystore *, time_t);
/* Counters (ARC_STAT_*, arc.h) to add to, or NULL; backends count
 * their own events (timeouts, SERVFAILs) with arc_keys_count(). */
void		 arc_keys_set_stats(arc_keystore *, unsigned long long *);
void		 arc_keys_count(arc_keystore *, int which);

arc_keyentry	*arc_keys_get(arc_keystore *, const char *selector,
		    const char *domain, arc_keywait *w);
void		 arc_keys_unwait(arc_keyentry *, arc_keywait *);
void		 arc_keys_release(arc_keystore *, arc_keyentry *);

/* For backends: the TXT strings joined (txt, NULL for no record),
 * or an error text; ttl in seconds. */
void		 arc_keys_complete(arc_keystore *, arc_keyentry *,
		    const char *txt, const char *error, int temporary,
		    arc_dnssec, unsigned ttl);

int		 arc_keys_fd(arc_keystore *);		/* -1: none */
int		 arc_keys_process(arc_keystore *);
int		 arc_keys_wait(arc_keystore *, int timeout_ms);

/* Parses a DKIM key record (RFC 6376 §3.6.1, RFC 8463) into e; sets
 * e->error on any problem.  Exposed for tests and fuzzing. */
void		 arc_keyrec_parse(arc_keyentry *e, const char *txt,
		    unsigned min_rsa_bits, unsigned max_rsa_bits);

#endif
