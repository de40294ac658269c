/*
 * arc_internal.h - structures shared by the core's modules (not API).
 *
 * Ownership: an arc_msg owns its header copies, parsed ARC fields, body
 * hashers and key references; it borrows its arc_lib and its signer.
 */
#ifndef ARC_INTERNAL_H
#define ARC_INTERNAL_H

#include <openssl/evp.h>

#include "arc.h"
#include "arc_buf.h"
#include "arc_canon.h"
#include "arc_crypto.h"
#include "arc_keys.h"
#include "arc_tags.h"

#define ARC_MAX_TAGS_DEFAULT	64

struct arc_lib {
	arc_keystore	*keys;
	arc_limits	 limits;
	time_t		 fixed_now;
	char		 error[256];
};

/* A name to sign, pointing into arc_signer.headers. */
typedef struct {
	const char	*name;
	size_t		 len;
	int		 oversign;	/* also in arc_signer.oversign */
} arc_hname;

struct arc_signer {
	char		*domain, *selector;
	EVP_PKEY	*key;
	arc_sign_ctx	*sign_ctx;	/* prepared once (arc_crypto.h) */
	arc_alg		 alg;
	char		*headers;	/* colon list, lower case, no repeats */
	char		*oversign;
	arc_hname	*hnames;	/* headers, split once for sealing */
	size_t		 nhnames;
	char		*trusted_ids;	/* colon list, lower case */
};

/* One stored header field: raw text with CRLF folding, no final CRLF. */
typedef struct {
	char	*text;
	size_t	 len;
	size_t	 name_len;	/* up to the colon, trailing WSP excluded */
} arc_field;

enum { ARC_AAR = 0, ARC_AMS, ARC_AS, ARC_NKINDS };

/* One parsed ARC header field. */
typedef struct {
	int		 kind;
	unsigned	 field;		/* index into msg->fields */
	int		 instance;	/* 0 if unusable */
	const char	*error;		/* syntax problem, NULL if none */
	arc_taglist	 tl;		/* AMS, AS: tags into the field text */
	arc_tag		 tags[ARC_MAX_TAGS_DEFAULT];
	/* decoded for AMS and AS once the syntax is known good */
	arc_alg		 alg;
	char		*domain, *selector;
	arc_canon_mode	 hcanon, bcanon;
	long long	 l;		/* -1: whole body */
	int		 bodyhash;	/* index into msg->bh, AMS only */
	int		 key;		/* index into msg->keyslots */
	int		 cv;		/* AS: ARC_CV_*, -1 if invalid */
} arc_hdr;

typedef struct {
	arc_canon_mode	 mode;
	long long	 limit;
	arc_bodyhash	*h;
	unsigned char	 digest[32];
	int		 done;
} arc_bh;

struct arc_msg;

typedef struct {
	arc_keywait	 wait;		/* first: container-of by cast */
	struct arc_msg	*msg;
	arc_keyentry	*entry;		/* NULL: lookup timed out */
	int		 done;
	int		 started;	/* arc_keys_get() was called */
	char		*selector, *domain;
} arc_keyslot;

enum { ST_HEADERS = 0, ST_BODY, ST_DONE };

struct arc_msg {
	arc_lib		*lib;
	unsigned	 flags;
	int		 state;
	const arc_signer *signer;
	char		 error[256];

	arc_field	*fields;
	unsigned	 nfields, capfields;
	struct arc_textblock *text;	/* where the fields' text is kept */

	/* arc_msg_feed() state */
	arc_buf		 pending;	/* the field being assembled */
	int		 feed_cr;	/* last chunk ended in CR */
	int		 feed_bol;	/* at the start of a line */
	int		 feed_mode;	/* 1 once arc_msg_feed was used */

	arc_hdr		*arc;
	unsigned	 narc;
	int		 nsets;		/* highest instance seen */
	arc_hdr		*set[51][ARC_NKINDS];	/* by instance, if valid */

	arc_bh		*bh;
	unsigned	 nbh;
	int		 seal_bh;	/* index of our seal's hasher, -1 */

	arc_keyslot	*keys;
	unsigned	 nkeys, keys_pending;
	arc_ready_fn	 ready_fn;
	int		 eom_pending;	/* eom returned ARC_PENDING */
	void		*ready_arg;
	arc_eoh_fn	 eoh_fn;	/* at the end of the header block */
	void		*eoh_arg;
	int		 over_limit;	/* a limit was hit; reason says which */

	/* results */
	int		 validated;
	arc_cv		 cv;
	int		 oldest_pass;
	int		 top_cv_fail;	/* newest AS says cv=fail */
	int		 temperror;	/* the deciding failure is temporary */
	arc_buf		 reason;
	arc_set_info	 info[51];

	/* arc_verify_run()'s progress: it resumes where keys were missing */
	int		 vstep;		/* VSTEP_* in arc_verify.c */
	int		 next_as;	/* the next AS to check, newest first */
	int		 batch;		/* keys the next lookup stage starts */
	int		 lookups_closed;	/* out of time: start no more */
	int		 oldest_skipped;	/* oldest-pass not computed */
	const char	*oldest_why;	/* why: "over budget", ... */
	unsigned char	 (*seal_md)[32];	/* by instance: what each AS signs */
	arc_msg_stats	 stats;
	struct arc_dkim	*dkim;		/* ARC_MSG_DKIM: arc_dkim.c */
};

/* arc_verify.c */
void	arc_verify_prepare(struct arc_msg *);	/* at eoh */
/* At eom: 1 when the verdict is complete, 0 when it started key
 * lookups it needs (keys_pending > 0): call it again once they are in. */
int	arc_verify_run(struct arc_msg *);
/* flags: ARC_AUTHRES_* (arc.h) */
void	arc_result_text(const struct arc_msg *, arc_buf *,
	    const char *remote_ip, unsigned flags);
time_t	arc_lib_now(const arc_lib *);
/* Whether the colon list (NULL: empty) names name (n bytes, any case). */
int	arc_list_has(const char *list, const char *name, size_t n);

/* arc_field.c: below intake, validation and sealing, calling none */
int	arc_field_is(const arc_field *, const char *name);
void	arc_msg_fail(struct arc_msg *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Appends f canonicalized (with CRLF), or, if self is f's parsed
 * signature, without its b= value and final CRLF. */
void	arc_field_canon(arc_buf *, const arc_field *f, arc_canon_mode,
	    const arc_hdr *self);
/* The fields an h= list names, canonicalized, each name taking the next
 * instance from the bottom up; stops once data has failed.  -1 if the
 * list is too long. */
int	arc_add_signed_fields(struct arc_msg *, const char *hlist, size_t len,
	    arc_canon_mode, arc_buf *data);

/* arc_field.c, for the AMS and DKIM alike: the index of the body
 * hasher of mode and limit in msg->bh, shared (-1: out of memory); a
 * key slot's lookup started (counted in keys_pending) and the waiter
 * that ends it. */
int	arc_msg_bodyhash(struct arc_msg *, arc_canon_mode, long long limit);
void	arc_keyslot_start(struct arc_msg *, arc_keyslot *);
void	arc_keyslot_ready(arc_keywait *);

/* arc_sigcheck.c: one signature against its key (arc_verify.c decides
 * the order).  AMS: 1 pass, 0 fail, -1 over limit (canonicalized bytes,
 * 0: none), *hashed the bytes hashed.  AS: 1 pass, 0 fail, after
 * arc_seal_digests() hashed the chain once for all the seals (0: out of
 * memory).  *temp: the failure is temporary (a key lookup). */
int	arc_check_ams(struct arc_msg *, arc_hdr *, size_t limit,
	    const char **why, arc_dnssec *, int *temp,
	    unsigned long long *hashed);
/* The part after the key: body hash, then b=, with a usable key. */
int	arc_check_signed(struct arc_msg *, arc_hdr *, arc_keyentry *,
	    size_t limit, const char **why, unsigned long long *hashed);
int	arc_seal_digests(struct arc_msg *);
int	arc_check_as(struct arc_msg *, int inst, const char **why,
	    arc_dnssec *, int *temp);

#endif
