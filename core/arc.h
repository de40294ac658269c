/*
 * arc.h - public API of the ARC core library (RFC 8617).
 *
 * Contract:
 *  - Two opaque handles.  An arc_lib holds what is shared between messages
 *    (key sources, parsed-key cache, limits); it is not thread-safe, use one
 *    per thread or lock around it.  An arc_msg holds one message's state; it
 *    borrows its arc_lib, which must outlive it.  An arc_signer may seal
 *    messages in several threads at once (configuring it may not).
 *    Verifying mutates the lib's key cache (entries keep lazily made
 *    OpenSSL verify contexts, core/arc_sigcheck.c): one thread per lib.
 *  - A message is streamed: arc_msg_header() once per header field (name,
 *    colon, value, folding kept, with or without the final line end),
 *    arc_msg_eoh(), arc_msg_body() any number of times with any chunking,
 *    arc_msg_eom() (which ends the header block itself if arc_msg_eoh()
 *    never came).  LF and CRLF line ends are both accepted; the library
 *    canonicalizes on CRLF as RFC 6376 requires.
 *  - Every call returns an arc_status; ARC_OK or a failure whose text
 *    arc_msg_error() / arc_lib_error() explains.  Hostile input never makes
 *    a call fail: it makes the chain "fail" with a reason.  A call fails
 *    only for misuse, resource exhaustion or an unusable key of our own.
 *  - arc_msg_eom() may return ARC_PENDING while key lookups are under way
 *    (asynchronous key sources, see arc_keys.h).  Drive the lookups with
 *    arc_lib_dns_fd()/arc_lib_dns_process() (or arc_msg_wait()) and call
 *    arc_msg_eom() again; it is idempotent once done.
 *  - Strings returned by the library belong to the handle they came from
 *    and stay valid until that handle is freed, unless said otherwise.
 */
#ifndef ARC_H
#define ARC_H

#include <stddef.h>
#include <time.h>

typedef struct arc_lib arc_lib;
typedef struct arc_msg arc_msg;
typedef struct arc_signer arc_signer;

typedef enum {
	ARC_OK = 0,
	ARC_PENDING,		/* key lookups outstanding: call again later */
	ARC_ERR_NOMEM,
	ARC_ERR_STATE,		/* call out of order */
	ARC_ERR_ARG,		/* bad argument from the caller */
	ARC_ERR_KEY,		/* our own signing key is unusable */
	ARC_ERR_CRYPTO,		/* OpenSSL failed where it should not */
	ARC_ERR_IO,
	ARC_ERR_LIMIT		/* a configured limit was exceeded */
} arc_status;

typedef enum {
	ARC_CV_NONE = 0,
	ARC_CV_PASS,
	ARC_CV_FAIL
} arc_cv;

typedef enum {
	ARC_ALG_RSA_SHA256 = 0,
	ARC_ALG_ED25519_SHA256
} arc_alg;

/* Per-signature verdict inside the per-set report. */
typedef enum {
	ARC_SIG_UNTESTED = 0,	/* not needed to reach the verdict */
	ARC_SIG_PASS,
	ARC_SIG_FAIL
} arc_sig_result;

/* DNSSEC state of the key record a signature was checked with. */
typedef enum {
	ARC_DNSSEC_UNKNOWN = 0,	/* key table, caller, or no validation */
	ARC_DNSSEC_INSECURE,
	ARC_DNSSEC_SECURE,
	ARC_DNSSEC_BOGUS
} arc_dnssec;

/* One ARC set as the validator saw it. */
typedef struct {
	int		instance;
	const char	*as_domain, *as_selector;	/* NULL if absent */
	const char	*ams_domain, *ams_selector;
	const char	*cv;			/* the set's cv= value as written */
	arc_sig_result	 as_result, ams_result;
	arc_dnssec	 as_dnssec, ams_dnssec;
	const char	*as_reason, *ams_reason;	/* why a signature failed */
	/* the set's ARC-Authentication-Results after "i=N;": the sealer's
	 * authserv-id and results as written (folding kept); NULL unless
	 * the chain's structure was good */
	const char	*aar;
} arc_set_info;

/* Library-wide limits; arc_lib_create() sets safe defaults. */
typedef struct {
	unsigned	max_sets;		/* RFC 8617 §5.2: 50 */
	unsigned	max_header_fields;	/* fields per message */
	size_t		max_field_bytes;	/* bytes per header field */
	unsigned	max_tags;		/* tags per tag-list */
	unsigned	max_key_queries;	/* distinct keys per message */
	unsigned	min_rsa_bits;		/* RFC 8301: 1024 */
	unsigned	max_rsa_bits;
	/* oldest-pass (RFC 8617 §5.2 step 5) hashes older AMSs only for a
	 * passing chain and within a budget of canonicalized header bytes:
	 * oldest_pass_factor times the message's header size, and at most
	 * max_oldest_pass_bytes (0: no cap).  Over it, oldest-pass is not
	 * computed (arc_msg_oldest_pass() -1, the A-R says why). */
	unsigned	oldest_pass_factor;	/* default 2 */
	size_t		max_oldest_pass_bytes;	/* default 0 */
	/* DKIM-Signatures verified per message (ARC_MSG_DKIM), top down;
	 * the first one past it gets dkim=policy ("signature limit"), the
	 * rest are not looked at.  Default 10.  Their key lookups count
	 * under max_key_queries, after ARC's. */
	unsigned	max_dkim_signatures;
	/* The canonicalized header bytes all DKIM signatures of a message
	 * may hash together: dkim_budget_factor times the header's size
	 * (default 2); a signature past it gets dkim=policy ("hashing
	 * budget"). */
	unsigned	dkim_budget_factor;
} arc_limits;

/* ---- library ------------------------------------------------------- */

arc_lib		*arc_lib_create(void);
void		 arc_lib_free(arc_lib *);
const char	*arc_lib_error(const arc_lib *);
arc_limits	*arc_lib_limits(arc_lib *);

/* Key table file: "selector._domainkey.domain  TXT-value" per line, '#'
 * comments, TXT value may be split in quoted strings.  Consulted before
 * any other source; may be called more than once (later files win). */
arc_status	 arc_lib_add_keytable(arc_lib *, const char *path);

/* A caller-supplied key source, consulted after the key table.  The
 * callback returns the TXT record (joined strings) for "sel._domainkey.dom"
 * into a malloc'd string, or NULL for "no such record". */
typedef char	*(*arc_txt_lookup_fn)(void *arg, const char *qname);
void		 arc_lib_set_txt_lookup(arc_lib *, arc_txt_lookup_fn, void *);

/* Public keys from DNS through libunbound, asynchronous and cached,
 * consulted after the key table and the callback.  All fields may be
 * 0/NULL for defaults (system resolver, no DNSSEC, 5 s per query). */
typedef struct {
	const char	*forwarder;	/* "127.0.0.1@5353", "9.9.9.9#dns.quad9.net" */
	int		 tls;		/* DNS-over-TLS to the forwarder */
	const char	*tls_ca;	/* CA file for DoT; NULL: system store */
	const char	*trust_anchor;	/* DNSSEC anchor file; NULL: none */
	int		 timeout_ms;	/* per query */
	unsigned	 negative_ttl;	/* seconds a "no record" is cached */
} arc_dns_config;
arc_status	 arc_lib_use_dns(arc_lib *, const arc_dns_config *);

/* Asynchronous key lookups (DNS): the descriptor to wait on for
 * reading (-1 if no asynchronous source is set) and the call that
 * handles what arrived; it never blocks. */
int		 arc_lib_dns_fd(arc_lib *);
arc_status	 arc_lib_dns_process(arc_lib *);

/* Fixed "now" for x=/t= checks (0 = use the clock); tests use it. */
void		 arc_lib_set_now(arc_lib *, time_t);

/* Key and DNS counters (RFC 8617 §11.3.3, for metrics).  The caller owns
 * an array of ARC_STAT_COUNT counters and may point several libs (one
 * per thread, or the old and new one across a reload) at the same array:
 * the library only adds to it, with relaxed atomic increments
 * (__atomic_load_n reads them).  NULL (the default): nothing counted. */
enum {
	ARC_STAT_KEY_LOOKUPS = 0,	/* keys asked for by messages */
	ARC_STAT_KEY_CACHE_HITS,	/* answered from the cache (or joined
					 * a lookup already under way) */
	ARC_STAT_KEY_NEGATIVE_HITS,	/* cached "no usable key" answers */
	ARC_STAT_DNS_QUERIES,		/* queries sent to the resolver */
	ARC_STAT_DNS_TIMEOUTS,
	ARC_STAT_DNS_SERVFAILS,
	ARC_STAT_DNS_ERRORS,		/* other rcodes, resolver errors */
	ARC_STAT_DNSSEC_SECURE,
	ARC_STAT_DNSSEC_INSECURE,
	ARC_STAT_DNSSEC_BOGUS,
	ARC_STAT_COUNT
};
void		 arc_lib_set_stats(arc_lib *, unsigned long long *counters);

/* ---- signer: our sealing identity ------------------------------------ */

/* Loads a PEM private key (RSA >= 1024 bits or Ed25519).  A new signer
 * signs a default list of fields and oversigns
 * from:to:cc:subject:date:message-id:reply-to.  set_headers: headers is
 * a colon-separated list of field names to sign (NULL: the default
 * list), oversign those signed once more than present when present
 * (NULL or "": none).  ARC fields and Authentication-Results are
 * dropped from both lists (RFC 8617 §4.1.2). */
arc_signer	*arc_signer_create(const char *domain, const char *selector,
		    const char *keyfile, char *err, size_t errlen);
arc_signer	*arc_signer_create_pem(const char *domain, const char *selector,
		    const char *pem, size_t pemlen, char *err, size_t errlen);
void		 arc_signer_free(arc_signer *);
arc_status	 arc_signer_set_headers(arc_signer *, const char *headers,
		    const char *oversign);
arc_alg		 arc_signer_alg(const arc_signer *);
/* Other authserv-ids (comma or colon separated) of our ADMD whose
 * Authentication-Results are copied into the AAR along with ours. */
arc_status	 arc_signer_set_trusted_ids(arc_signer *, const char *ids);

/* ---- message --------------------------------------------------------- */

/* flags for arc_msg_create */
#define ARC_MSG_VERIFY	0x01	/* validate the chain */
#define ARC_MSG_SEAL	0x02	/* prepare a seal (needs arc_msg_set_signer) */
#define ARC_MSG_DKIM	0x04	/* also verify the DKIM-Signatures (RFC 6376) */

arc_msg		*arc_msg_create(arc_lib *, unsigned flags);
void		 arc_msg_free(arc_msg *);
const char	*arc_msg_error(const arc_msg *);

/* Before arc_msg_eoh(): the signer whose body hash must be computed. */
arc_status	 arc_msg_set_signer(arc_msg *, const arc_signer *);

/* Called once when the header block ends (arc_msg_eoh(), the blank line
 * in arc_msg_feed(), or arc_msg_eom() without either), before the body
 * hashes are set up: the callback may read fields with
 * arc_msg_field_value() and still choose the signer with
 * arc_msg_set_signer() (a per-message sealing identity). */
typedef void	(*arc_eoh_fn)(arc_msg *, void *arg);
void		 arc_msg_set_eoh_cb(arc_msg *, arc_eoh_fn, void *);
/* The value of the topmost header field named name (after the colon,
 * folding kept, CRLF inside, no final CRLF), or NULL if there is none. */
const char	*arc_msg_field_value(const arc_msg *, const char *name,
		    size_t *len);
/* Every field named name, top down: the value of the first one at or
 * after index *pos (start at 0), *pos moved past it; NULL when none is
 * left.  The same form as arc_msg_field_value(). */
const char	*arc_msg_field_next(const arc_msg *, const char *name,
		    unsigned *pos, size_t *len);

arc_status	 arc_msg_header(arc_msg *, const char *field, size_t len);

/* Convenience for callers holding raw message text: feed it in chunks of
 * any size (LF or CRLF); the library splits header fields, calls
 * arc_msg_eoh() at the blank line and streams the rest as body.  Do not
 * mix with arc_msg_header()/arc_msg_eoh() on one message.  Still call
 * arc_msg_eom() at the end (it completes the header block if the
 * message had no body). */
arc_status	 arc_msg_feed(arc_msg *, const char *, size_t);
arc_status	 arc_msg_eoh(arc_msg *);
arc_status	 arc_msg_body(arc_msg *, const unsigned char *, size_t);
arc_status	 arc_msg_eom(arc_msg *);

/* Called once when the last pending key lookup of the message completes
 * (from inside arc_lib_dns_process()); the callback may call
 * arc_msg_eom() or free the message. */
typedef void	(*arc_ready_fn)(arc_msg *, void *arg);
void		 arc_msg_set_ready_cb(arc_msg *, arc_ready_fn, void *);

/* Blocks until the message's key lookups finish (or timeout_ms passes),
 * then finishes arc_msg_eom().  For simple callers. */
arc_status	 arc_msg_wait(arc_msg *, int timeout_ms);

/* ---- results (after arc_msg_eom() returned ARC_OK) ----------------- */

arc_cv		 arc_msg_cv(const arc_msg *);
const char	*arc_cv_name(arc_cv);
int		 arc_msg_oldest_pass(const arc_msg *);	/* -1 if n/a */
const char	*arc_msg_reason(const arc_msg *);	/* why fail, or "" */
int		 arc_msg_nsets(const arc_msg *);
const arc_set_info *arc_msg_set(const arc_msg *, int instance);
/* 1 if the verdict is fail only because a key lookup failed temporarily
 * (timeout, SERVFAIL): retrying later may give another verdict. */
int		 arc_msg_temperror(const arc_msg *);
/* 1 if the chain passed but oldest-pass was not computed: over its
 * budget, or an older AMS's key or body hash was over a limit or its
 * lookup failed. */
int		 arc_msg_oldest_pass_skipped(const arc_msg *);

/* The work validation did, for tests and benchmarks: canonicalized
 * header bytes hashed for the ARC-Seals, for the newest AMS and for
 * oldest-pass, the key lookups started, and the passes over the body
 * (one per distinct c=/l= of what is checked or sealed). */
typedef struct {
	unsigned long long	 seal_bytes, ams_bytes, oldest_pass_bytes;
	unsigned		 key_lookups;	/* ARC's and DKIM's */
	unsigned long long	 dkim_bytes;	/* header bytes, all DKIM sigs */
	unsigned		 body_hashers;
} arc_msg_stats;
const arc_msg_stats *arc_msg_get_stats(const arc_msg *);

/* Authentication-Results value (without the field name):
 * "authserv-id; arc=pass (...) header.oldest-pass=0 smtp.remote-ip=IP".
 * remote_ip may be NULL.  Returns a malloc'd string, NULL on error. */
char		*arc_msg_authres(const arc_msg *, const char *authserv_id,
		    const char *remote_ip);
/* The same with flags.  By default a passing chain's result carries
 * OpenARC's arc.chain property, the sealers' domains newest first
 * (arc.chain=d3:d2:d1, quoted when more than one), which OpenDMARC's
 * ARC override reads; ARC_AUTHRES_NO_CHAIN leaves it out.  It is left
 * out too when a domain is not plain LDH or the list is over 255
 * bytes (OpenDMARC cuts values there).  The comment stays short:
 * "(i=N d=newest sealer)".  NULL also for an authserv-id that is not an
 * RFC 2045 token of at most 255 bytes. */
#define ARC_AUTHRES_NO_CHAIN	0x01
char		*arc_msg_authres_flags(const arc_msg *, const char *authserv_id,
		    const char *remote_ip, unsigned flags);
/* Whether s can be written as an authserv-id: 1..255 bytes of RFC 2045
 * token characters. */
int		 arc_authserv_id_ok(const char *s);

/* ---- DKIM (ARC_MSG_DKIM; RFC 6376, RFC 8463, RFC 8301) ------------------ */

/* RFC 8601 §2.7.1 results; docs/authentication.md says which failure
 * gives which (RFC 8301's rsa-sha1 and short RSA keys: policy). */
typedef enum {
	ARC_DKIM_PASS = 0,
	ARC_DKIM_FAIL,
	ARC_DKIM_NEUTRAL,
	ARC_DKIM_POLICY,
	ARC_DKIM_TEMPERROR,
	ARC_DKIM_PERMERROR
} arc_dkim_result;

/* One DKIM-Signature as verified, in the message's order (top down).
 * Strings are printable ASCII (what the signature held otherwise is
 * left out: NULL); reason is short, without ';', "" on pass. */
typedef struct {
	arc_dkim_result	 result;
	const char	*domain, *auid, *selector;	/* d= i= s=, or NULL */
	char		 b8[9];		/* first 8 characters of b= */
	const char	*reason;
	arc_alg		 alg;		/* when a= was one we verify */
	int		 testing;	/* key record t=y */
	arc_dnssec	 dnssec;
	unsigned	 key_bits;	/* 0: unknown */
} arc_dkim_info;

const char	*arc_dkim_result_name(arc_dkim_result);
/* After arc_msg_eom(): the DKIM-Signatures looked at (at most
 * max_dkim_signatures, and one more, dkim=policy "signature limit",
 * when there were more), and the i-th of them (0-based), NULL if none. */
int		 arc_msg_dkim_count(const arc_msg *);
const arc_dkim_info *arc_msg_dkim(const arc_msg *, int i);
/* The RFC 8601 resinfos, "dkim=pass header.d=... header.i=...
 * header.s=... header.b=...", each failure's reason in a comment,
 * joined by "; " ("dkim=none" without a signature, "dkim=temperror
 * (internal error ...)" when memory ran out), to follow an
 * "authserv-id; " or another resinfo.  malloc'd, NULL on error. */
char		*arc_msg_dkim_authres(const arc_msg *);

/* ---- reading Authentication-Results (RFC 8601) ------------------------ */

/* One resinfo, "method=result [reason=...] ptype.property=value ...":
 * spans into the caller's text (a quoted value keeps its quotes). */
#define ARC_RESINFO_MAXPROPS	16
typedef struct {
	const char	*method, *result;
	size_t		 method_len, result_len;
	unsigned	 nprops;
	struct {
		const char	*ptype, *property, *value;
		size_t		 ptype_len, property_len, value_len;
	}		 prop[ARC_RESINFO_MAXPROPS];
} arc_resinfo;

/* Splits an Authentication-Results value (after the colon), or an
 * ARC-Authentication-Results value after its "i=N;", into the
 * authserv-id (copied into id, NUL-terminated, truncated to idlen) and
 * the offset of the results after its ';'.  -1: no authserv-id. */
long		 arc_authres_split(const char *value, size_t len, char *id,
		    size_t idlen);
/* The next readable resinfo of results text from *pos (start at the
 * offset arc_authres_split() gave): 1, *pos moved past it; 0 at the
 * end.  Comments are skipped; a resinfo that breaks RFC 8601's grammar
 * or holds bytes outside printable ASCII is skipped whole. */
int		 arc_authres_next(const char *text, size_t len, size_t *pos,
		    arc_resinfo *);
/* The value of property name ("header.from", "smtp.remote-ip") of a
 * resinfo, unquoted into out: 1 if present and shorter than outlen. */
int		 arc_resinfo_prop(const arc_resinfo *, const char *name,
		    char *out, size_t outlen);

/* ---- sealing ----------------------------------------------------------- */

#define ARC_SEAL_NOFOLD	0x01	/* one-line fields, tags alphabetical */
/* Keep the comments of the copied results in the AAR, cleaned (no ';',
 * parentheses or bytes outside printable ASCII).  Without it the AAR
 * holds none: Microsoft 365 fails AARs whose comments hold a ';'. */
#define ARC_SEAL_AAR_COMMENTS	0x02
/* Copy no Authentication-Results of authserv_id itself from the
 * message: only extra_ar (what we and the host computed) and the
 * message's fields of the signer's other trusted authserv-ids.  For
 * hosts that write no A-R of their own before us, where every field of
 * our authserv-id in the message came from outside (a forgery, RFC
 * 8601 §5), and whenever we compute the results (authenticate). */
#define ARC_SEAL_NO_MESSAGE_AR	0x04

typedef struct {
	int	 sealed;	/* 0: no seal added, see reason */
	const char *reason;	/* why not sealed */
	int	 instance;
	char	*aar, *ams, *as;	/* complete fields "Name: value\r\n" */
} arc_seal_result;

/* Builds the new ARC set.  The AAR is made from every
 * Authentication-Results field of authserv_id in the message, top down
 * (none with ARC_SEAL_NO_MESSAGE_AR), preceded by the values in extra_ar (fields the caller is adding, e.g.
 * its own arc= result; NULL-terminated array of values, may be NULL).
 * Results are not copied as text: each is read with the RFC 8601
 * grammar and written back in one form (printable ASCII; a result that
 * breaks the grammar is left out; no comments without
 * ARC_SEAL_AAR_COMMENTS; no arc.chain): docs/authres.md.  A message
 * with none of the signer's fields is signed with h=from.  Every line
 * stays within 998 octets, folded or not.
 * t is the signature timestamp (0 = now).  The strings in res are
 * malloc'd; release them with arc_seal_result_clear(). */
arc_status	 arc_msg_seal(arc_msg *, const arc_signer *,
		    const char *authserv_id, const char *const *extra_ar,
		    time_t t, unsigned flags, arc_seal_result *res);
void		 arc_seal_result_clear(arc_seal_result *);

/* Folds a complete "Name: value\r\n" field at existing white space so
 * lines stay within width columns where possible (0: 78).  Safe after
 * signing with relaxed canonicalization.  Returns a malloc'd string. */
char		*arc_fold_field(const char *field, unsigned width);

#endif
