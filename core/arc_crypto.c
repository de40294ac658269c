/*
 * arc_crypto.c - signing and verifying over OpenSSL 3; see arc_crypto.h.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "arc_crypto.h"

static pthread_once_t	 sha256_once = PTHREAD_ONCE_INIT;
static EVP_MD		*sha256_fetched;

static void
fetch_sha256(void)
{
	sha256_fetched = EVP_MD_fetch(NULL, "SHA256", NULL);
	ERR_clear_error();
}

const EVP_MD *
arc_sha256(void)
{
	pthread_once(&sha256_once, fetch_sha256);
	return sha256_fetched != NULL ? sha256_fetched : EVP_sha256();
}

/* Ed25519 signs the SHA-256 digest (RFC 8463 §3); RSA hashes itself.
 * mdctx, if set, is a context to reuse for the digest. */
static int
prehash(arc_alg alg, const void **data, size_t *len, unsigned char md[32],
    EVP_MD_CTX *mdctx)
{
	unsigned int	 mdlen = 0;
	int		 ok;

	if (alg != ARC_ALG_ED25519_SHA256)
		return 1;
	if (mdctx == NULL)
		ok = EVP_Digest(*data, *len, md, &mdlen, arc_sha256(), NULL);
	else
		ok = EVP_DigestInit_ex(mdctx, arc_sha256(), NULL) == 1 &&
		    EVP_DigestUpdate(mdctx, *data, *len) == 1 &&
		    EVP_DigestFinal_ex(mdctx, md, &mdlen) == 1;
	if (ok != 1 || mdlen != 32)
		return 0;
	*data = md;
	*len = 32;
	return 1;
}

EVP_MD_CTX *
arc_crypto_prepare(EVP_PKEY *key, arc_alg alg, int sign)
{
	const EVP_MD	*md = alg == ARC_ALG_RSA_SHA256 ? arc_sha256() : NULL;
	EVP_MD_CTX	*ctx;
	int		 r;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return NULL;
	r = sign ? EVP_DigestSignInit(ctx, NULL, md, NULL, key) :
	    EVP_DigestVerifyInit(ctx, NULL, md, NULL, key);
	ERR_clear_error();
	if (r != 1) {
		EVP_MD_CTX_free(ctx);
		return NULL;
	}
	return ctx;
}

/* A copy of a prepared context for one signature; FINALISE lets
 * OpenSSL finish it in place instead of on yet another copy. */
static EVP_MD_CTX *
copy_prepared(const EVP_MD_CTX *tpl)
{
	EVP_MD_CTX	*ctx;

	if ((ctx = EVP_MD_CTX_new()) == NULL)
		return NULL;
	if (EVP_MD_CTX_copy_ex(ctx, tpl) != 1) {
		EVP_MD_CTX_free(ctx);
		ERR_clear_error();
		return NULL;
	}
	EVP_MD_CTX_set_flags(ctx, EVP_MD_CTX_FLAG_FINALISE);
	return ctx;
}

int
arc_crypto_verify_prepared(const EVP_MD_CTX *tpl, arc_alg alg,
    const void *data, size_t len, const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX	*ctx;
	unsigned char	 md[32];
	int		 r;

	if (!prehash(alg, &data, &len, md, NULL) || (ctx = copy_prepared(tpl)) ==
	    NULL)
		return -1;
	r = EVP_DigestVerify(ctx, sig, siglen, data, len);
	EVP_MD_CTX_free(ctx);
	ERR_clear_error();
	return r == 1 ? 1 : 0;
}

int
arc_crypto_sign_prepared(const EVP_MD_CTX *tpl, arc_alg alg,
    const void *data, size_t len, arc_buf *out)
{
	EVP_MD_CTX	*ctx;
	unsigned char	 md[32], sig[2048];	/* RSA up to 16384 bits */
	size_t		 siglen = sizeof(sig);
	int		 ok = 0;

	if (!prehash(alg, &data, &len, md, NULL) || (ctx = copy_prepared(tpl)) ==
	    NULL)
		return 0;
	if (EVP_DigestSign(ctx, sig, &siglen, data, len) == 1)
		ok = arc_base64_encode(out, sig, siglen);
	EVP_MD_CTX_free(ctx);
	if (ERR_peek_error() != 0)
		ERR_clear_error();
	return ok;
}

struct arc_sign_ctx {
	EVP_MD_CTX	*tpl;		/* prepared, copied for each signature */
	EVP_MD_CTX	*own;		/* Ed25519: signs in place, locked */
	EVP_MD_CTX	*md;		/* its SHA-256 for the prehash */
	pthread_mutex_t	 lock;
	arc_alg		 alg;
};

arc_sign_ctx *
arc_crypto_sign_ctx_create(EVP_PKEY *key, arc_alg alg)
{
	arc_sign_ctx	*c;

	if ((c = calloc(1, sizeof(*c))) == NULL)
		return NULL;
	c->alg = alg;
	if ((c->tpl = arc_crypto_prepare(key, alg, 1)) == NULL ||
	    pthread_mutex_init(&c->lock, NULL) != 0) {
		EVP_MD_CTX_free(c->tpl);
		free(c);
		return NULL;
	}
	/* an RSA context is finalised by its signature: copies only */
	if (alg == ARC_ALG_ED25519_SHA256 &&
	    ((c->own = arc_crypto_prepare(key, alg, 1)) == NULL ||
	    (c->md = EVP_MD_CTX_new()) == NULL)) {
		EVP_MD_CTX_free(c->own);
		c->own = NULL;
	}
	return c;
}

void
arc_crypto_sign_ctx_free(arc_sign_ctx *c)
{
	if (c == NULL)
		return;
	EVP_MD_CTX_free(c->tpl);
	EVP_MD_CTX_free(c->own);
	EVP_MD_CTX_free(c->md);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* In place, with the lock held: 1 signed, 0 failed, -1 not possible. */
static int
sign_in_place(arc_sign_ctx *c, const void *data, size_t len, arc_buf *out)
{
	unsigned char	 md[32], sig[64];
	size_t		 siglen = sizeof(sig);

	if (c->own == NULL)
		return -1;
	if (!prehash(c->alg, &data, &len, md, c->md))
		return 0;
	if (EVP_DigestSign(c->own, sig, &siglen, data, len) != 1) {
		/* an OpenSSL that refuses a second signature on one
		 * context: copies from now on */
		EVP_MD_CTX_free(c->own);
		c->own = NULL;
		ERR_clear_error();
		return -1;
	}
	return arc_base64_encode(out, sig, siglen);
}

int
arc_crypto_sign_with(arc_sign_ctx *c, const void *data, size_t len,
    arc_buf *out)
{
	int	 r = -1;

	if (c->own != NULL && pthread_mutex_trylock(&c->lock) == 0) {
		r = sign_in_place(c, data, len, out);
		pthread_mutex_unlock(&c->lock);
	}
	return r >= 0 ? r : arc_crypto_sign_prepared(c->tpl, c->alg, data,
	    len, out);
}

/* One-off signatures: a context made for the occasion. */
int
arc_crypto_verify(EVP_PKEY *key, arc_alg alg, const void *data, size_t len,
    const unsigned char *sig, size_t siglen)
{
	EVP_MD_CTX	*ctx;
	int		 r;

	/* a key OpenSSL will not verify with verifies nothing */
	if ((ctx = arc_crypto_prepare(key, alg, 0)) == NULL)
		return 0;
	r = arc_crypto_verify_prepared(ctx, alg, data, len, sig, siglen);
	EVP_MD_CTX_free(ctx);
	return r;
}

int
arc_crypto_sign(EVP_PKEY *key, arc_alg alg, const void *data, size_t len,
    arc_buf *out)
{
	EVP_MD_CTX	*ctx;
	int		 ok;

	if ((ctx = arc_crypto_prepare(key, alg, 1)) == NULL)
		return 0;
	ok = arc_crypto_sign_prepared(ctx, alg, data, len, out);
	EVP_MD_CTX_free(ctx);
	return ok;
}

EVP_PKEY *
arc_crypto_load_private(const char *pem, size_t len, arc_alg *alg,
    char *err, size_t errlen)
{
	BIO		*bio;
	EVP_PKEY	*key;

	if ((bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	key = PEM_read_bio_PrivateKey(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ERR_clear_error();
	if (key == NULL) {
		snprintf(err, errlen, "not a PEM private key");
		return NULL;
	}
	switch (EVP_PKEY_get_base_id(key)) {
	case EVP_PKEY_RSA:
		if (EVP_PKEY_get_bits(key) < 1024) {
			snprintf(err, errlen, "RSA key of %d bits: RFC 8301 "
			    "requires at least 1024", EVP_PKEY_get_bits(key));
			break;
		}
		if (EVP_PKEY_get_bits(key) > 16384) {
			snprintf(err, errlen, "RSA key of %d bits: this "
			    "library signs with up to 16384",
			    EVP_PKEY_get_bits(key));
			break;
		}
		*alg = ARC_ALG_RSA_SHA256;
		return key;
	case EVP_PKEY_ED25519:
		*alg = ARC_ALG_ED25519_SHA256;
		return key;
	default:
		snprintf(err, errlen, "key type is neither RSA nor Ed25519");
		break;
	}
	EVP_PKEY_free(key);
	return NULL;
}

static int
b64val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

unsigned char *
arc_base64_decode(const char *s, size_t len, size_t *outlen)
{
	unsigned char	*out;
	unsigned long	 acc = 0;
	size_t		 i, o = 0;
	int		 bits = 0, pad = 0, v;

	if ((out = malloc(len / 4 * 3 + 3)) == NULL)
		return NULL;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad || (v = b64val(c)) < 0)
			goto bad;	/* data after padding, or not base64 */
		acc = (acc << 6) | (unsigned)v;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out[o++] = (unsigned char)(acc >> bits);
			acc &= (1UL << bits) - 1;
		}
	}
	/* leftover bits must be zero and padding must complete a quantum */
	if (pad > 2 || (bits == 6) || (acc != 0) ||
	    (pad && (bits / 2) != pad))
		goto bad;
	*outlen = o;
	return out;
bad:
	free(out);
	return NULL;
}

int
arc_base64_encode(arc_buf *out, const unsigned char *p, size_t n)
{
	char	*o;

	/* EVP_EncodeBlock writes the NUL too, within the room made */
	if (n > 0x3fffffff || (o = arc_buf_reserve(out, 4 * ((n + 2) / 3))) ==
	    NULL)
		return 0;
	out->len += (size_t)EVP_EncodeBlock((unsigned char *)o, p, (int)n);
	return 1;
}
