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
	int		 over_limit;	/* a limit was hit; reason says which */

	/* results */
	int		 validated;
	arc_cv		 cv;
	int		 oldest_pass;
	int		 top_cv_fail;	/* newest AS says cv=fail */
	int		 temperror;	/* a key lookup failed temporarily */
	arc_buf		 reason;
	arc_set_info	 info[51];
};

/* arc_verify.c */
void	arc_verify_prepare(struct arc_msg *);	/* at eoh */
void	arc_verify_run(struct arc_msg *);	/* at eom, keys ready */
int	arc_field_is(const arc_field *, const char *name);
int	arc_add_signed_fields(struct arc_msg *, const char *hlist, size_t len,
	    arc_canon_mode, arc_buf *data);
void	arc_result_text(const struct arc_msg *, arc_buf *,
	    const char *remote_ip);
time_t	arc_lib_now(const arc_lib *);
/* Whether the colon list (NULL: empty) names name (n bytes, any case). */
int	arc_list_has(const char *list, const char *name, size_t n);
void	arc_msg_fail(struct arc_msg *, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#endif
