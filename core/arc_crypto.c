/*
 * arc_crypto.c - signing and verifying over OpenSSL 3; see arc_crypto.h.
 */
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

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
arc_crypto_verify_md(EVP_PKEY *key, arc_alg alg, EVP_MD_CTX **edctx,
    EVP_PKEY_CTX **rsactx, const unsigned char md[32],
    const unsigned char *sig, size_t siglen)
{
	EVP_PKEY_CTX	*pc;
	EVP_MD_CTX	*ctx;
	int		 r;

	if (alg == ARC_ALG_ED25519_SHA256) {
		if (*edctx == NULL &&
		    (*edctx = arc_crypto_prepare(key, alg, 0)) == NULL)
			return 0;	/* a key OpenSSL refuses verifies nothing */
		if ((ctx = copy_prepared(*edctx)) == NULL)
			return -1;
		r = EVP_DigestVerify(ctx, sig, siglen, md, 32);
		EVP_MD_CTX_free(ctx);
		ERR_clear_error();
		return r == 1 ? 1 : 0;
	}
	/* OpenSSL 3 lets one prepared context verify again and again */
	if ((pc = *rsactx) == NULL) {
		if ((pc = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL)) == NULL)
			return -1;
		if (EVP_PKEY_verify_init(pc) != 1 ||
		    EVP_PKEY_CTX_set_rsa_padding(pc, RSA_PKCS1_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_signature_md(pc, arc_sha256()) != 1) {
			EVP_PKEY_CTX_free(pc);
			ERR_clear_error();
			return 0;
		}
		*rsactx = pc;
	}
	r = EVP_PKEY_verify(pc, sig, siglen, md, 32);
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

/*
 * OpenSSL 3's PEM_read_bio_PrivateKey() tries its decoders one after the
 * other: 0.4-0.6 ms a key, six seconds for a key table of 10 000 keys
 * (arc_signing.h).  An unencrypted PKCS#8 key (RSA or Ed25519, what
 * openssl genpkey and arctool keygen write) or a PKCS#1 RSA key is
 * decoded here directly in about 15 us; anything else (encrypted keys,
 * other labels) is left to the generic decoder.  d2i_RSAPrivateKey() is
 * deprecated in OpenSSL 3 but is its fast path, and stays in 3.x; built
 * without deprecated APIs (OPENSSL_NO_DEPRECATED_3_0), RSA keys take the
 * generic decoder.  The fast path accepts only what that decoder
 * accepts: an Ed25519 AlgorithmIdentifier has no parameters (RFC 8410
 * §3), so one with parameters goes to the decoder, which refuses it.
 */
static int
no_passphrase(char *buf, int size, int rwflag, void *arg)
{
	(void)buf;
	(void)size;
	(void)rwflag;
	(void)arg;
	return -1;
}

#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
static EVP_PKEY *
load_plain_key(BIO *bio, int *encrypted)
{
	char			*name = NULL, *hdr = NULL;
	unsigned char		*der = NULL;
	const unsigned char	*p, *kd;
	long			 len;
	int			 kl;
	PKCS8_PRIV_KEY_INFO	*p8 = NULL;
	const X509_ALGOR	*alg;
	const ASN1_OBJECT	*obj;
	int			 ptype;
#ifndef OPENSSL_NO_DEPRECATED_3_0
	RSA			*rsa = NULL;
#endif
	EVP_PKEY		*key = NULL;

	*encrypted = 0;
	if (PEM_read_bio(bio, &name, &hdr, &der, &len) != 1)
		goto done;
	/* PKCS#8 EncryptedPrivateKeyInfo, or PKCS#1 with RFC 1421's
	 * "Proc-Type: 4,ENCRYPTED" header */
	if (strcmp(name, "ENCRYPTED PRIVATE KEY") == 0 ||
	    strstr(hdr, "ENCRYPTED") != NULL) {
		*encrypted = 1;
		goto done;
	}
	if (*hdr != '\0')
		goto done;
	p = der;
	if (strcmp(name, "RSA PRIVATE KEY") == 0) {
#ifndef OPENSSL_NO_DEPRECATED_3_0
		rsa = d2i_RSAPrivateKey(NULL, &p, len);
#endif
	} else if (strcmp(name, "PRIVATE KEY") == 0 &&
	    (p8 = d2i_PKCS8_PRIV_KEY_INFO(NULL, &p, len)) != NULL &&
	    PKCS8_pkey_get0(NULL, &kd, &kl, &alg, p8) == 1) {
		X509_ALGOR_get0(&obj, &ptype, NULL, alg);
#ifndef OPENSSL_NO_DEPRECATED_3_0
		if (OBJ_obj2nid(obj) == NID_rsaEncryption)
			rsa = d2i_RSAPrivateKey(NULL, &kd, kl);
		else
#endif
		if (OBJ_obj2nid(obj) == NID_ED25519 && ptype == V_ASN1_UNDEF &&
		    kl == 34 && kd[0] == 0x04 && kd[1] == 32)
			key = EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519,
			    NULL, kd + 2, 32);
	}
#ifndef OPENSSL_NO_DEPRECATED_3_0
	if (rsa != NULL && (key = EVP_PKEY_new()) != NULL &&
	    EVP_PKEY_assign_RSA(key, rsa) == 1)
		rsa = NULL;
	else if (rsa != NULL) {
		EVP_PKEY_free(key);
		key = NULL;
	}
#endif
done:
#ifndef OPENSSL_NO_DEPRECATED_3_0
	RSA_free(rsa);
#endif
	PKCS8_PRIV_KEY_INFO_free(p8);
	if (der != NULL)
		OPENSSL_cleanse(der, (size_t)len);
	OPENSSL_free(der);
	OPENSSL_free(name);
	OPENSSL_free(hdr);
	ERR_clear_error();
	return key;
}
#pragma GCC diagnostic pop

EVP_PKEY *
arc_crypto_load_private(const char *pem, size_t len, arc_alg *alg,
    char *err, size_t errlen)
{
	BIO		*bio;
	EVP_PKEY	*key;
	int		 encrypted = 0;

	if (len > INT_MAX || (bio = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if ((key = load_plain_key(bio, &encrypted)) == NULL && !encrypted) {
		(void)BIO_reset(bio);
		/* an encrypted key fails here: never a passphrase prompt on
		 * a terminal a daemon or a reload would wait for */
		key = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL);
	}
	BIO_free(bio);
	ERR_clear_error();
	if (key == NULL) {
		/* no passphrase is ever asked for (a daemon, a reload) */
		snprintf(err, errlen, encrypted ? "encrypted private keys are "
		    "not supported: decrypt it (openssl pkey -in KEY -out "
		    "NEW)" : "not a PEM private key");
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
