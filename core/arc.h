/*
 * arc.h - public API of the ARC core library (RFC 8617).
 *
 * Contract:
 *  - Two opaque handles.  An arc_lib holds what is shared between messages
 *    (key sources, parsed-key cache, limits); it is not thread-safe, use one
 *    per thread or lock around it.  An arc_msg holds one message's state; it
 *    borrows its arc_lib, which must outlive it.  An arc_signer may seal
 *    messages in several threads at once (configuring it may not).
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

arc_msg		*arc_msg_create(arc_lib *, unsigned flags);
void		 arc_msg_free(arc_msg *);
const char	*arc_msg_error(const arc_msg *);

/* Before arc_msg_eoh(): the signer whose body hash must be computed. */
arc_status	 arc_msg_set_signer(arc_msg *, const arc_signer *);

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

/* Authentication-Results value (without the field name):
 * "authserv-id; arc=pass (...) header.oldest-pass=0 smtp.remote-ip=IP".
 * remote_ip may be NULL.  Returns a malloc'd string, NULL on error. */
char		*arc_msg_authres(const arc_msg *, const char *authserv_id,
		    const char *remote_ip);

/* ---- sealing ----------------------------------------------------------- */

#define ARC_SEAL_NOFOLD	0x01	/* one-line fields, tags alphabetical */

typedef struct {
	int	 sealed;	/* 0: no seal added, see reason */
	const char *reason;	/* why not sealed */
	int	 instance;
	char	*aar, *ams, *as;	/* complete fields "Name: value\r\n" */
} arc_seal_result;

/* Builds the new ARC set.  The AAR is made from every
 * Authentication-Results field of authserv_id in the message, top down,
 * preceded by the values in extra_ar (fields the caller is adding, e.g.
 * its own arc= result; NULL-terminated array of values, may be NULL).
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
