/*
 * arc_crypto.h - the narrow signing interface over OpenSSL 3.
 *
 * Contract: everything cryptographic in the library goes through these
 * functions.  Data passed in is the canonicalized header text; the
 * functions hash it themselves (RSA-SHA256: PKCS#1 v1.5 over SHA-256;
 * Ed25519-SHA256, RFC 8463: PureEdDSA over the SHA-256 digest).
 * Base64 helpers are strict: invalid characters make decoding fail,
 * whitespace (FWS) is skipped.
 */
#ifndef ARC_CRYPTO_H
#define ARC_CRYPTO_H

#include <stddef.h>

#include <openssl/evp.h>

#include "arc.h"
#include "arc_buf.h"

/* 1 valid, 0 invalid signature, -1 internal error */
int	arc_crypto_verify(EVP_PKEY *, arc_alg, const void *data, size_t len,
	    const unsigned char *sig, size_t siglen);
/* Appends the base64 signature to out; 0 on failure. */
int	arc_crypto_sign(EVP_PKEY *, arc_alg, const void *data, size_t len,
	    arc_buf *out);
/* The same from a context prepared once per key: setting one up costs
 * OpenSSL 3 more than hashing a small message, copying one costs
 * little.  A prepared context is only read (copied) by the calls. */
EVP_MD_CTX *arc_crypto_prepare(EVP_PKEY *, arc_alg, int sign);
int	arc_crypto_verify_prepared(const EVP_MD_CTX *, arc_alg,
	    const void *data, size_t len, const unsigned char *sig,
	    size_t siglen);
int	arc_crypto_sign_prepared(const EVP_MD_CTX *, arc_alg,
	    const void *data, size_t len, arc_buf *out);
/* Verifies sig over a SHA-256 digest the caller computed (a running
 * hash over the chain, copied at each set): RSA PKCS#1 v1.5 over that
 * digest, Ed25519 over the digest itself (RFC 8463).  *edctx and
 * *rsactx cache what is prepared for the key between calls (set up on
 * first use; the caller frees them).  1 valid, 0 invalid, -1 internal. */
int	arc_crypto_verify_md(EVP_PKEY *, arc_alg, EVP_MD_CTX **edctx,
	    EVP_PKEY_CTX **rsactx, const unsigned char md[32],
	    const unsigned char *sig, size_t siglen);
/* SHA-256, fetched from the provider once per process: EVP_sha256()
 * would be looked up again at each use (a lock and a hash table). */
const EVP_MD *arc_sha256(void);
/* A signer's context: prepared once, and for Ed25519 also used in place
 * by one thread at a time (no copy, and a SHA-256 context kept for the
 * prehash); a thread that finds it busy signs on a copy.  create/free
 * pair; sign_with is safe from any thread. */
typedef struct arc_sign_ctx arc_sign_ctx;
arc_sign_ctx *arc_crypto_sign_ctx_create(EVP_PKEY *, arc_alg);
void	arc_crypto_sign_ctx_free(arc_sign_ctx *);
int	arc_crypto_sign_with(arc_sign_ctx *, const void *data, size_t len,
	    arc_buf *out);
/* Loads a PEM private key; sets *alg from its type. */
EVP_PKEY *arc_crypto_load_private(const char *pem, size_t len, arc_alg *alg,
	    char *err, size_t errlen);

/* Decodes base64 into a malloc'd buffer; NULL on bad input. */
unsigned char *arc_base64_decode(const char *, size_t, size_t *outlen);
int	arc_base64_encode(arc_buf *, const unsigned char *, size_t);

#endif
