/*
 * test_key_nodep.c - private keys through core/arc_crypto.c built with
 * OPENSSL_NO_DEPRECATED (mk/signing.mk): without d2i_RSAPrivateKey()'s
 * fast path, RSA keys in PKCS#1 and PKCS#8 still load through the
 * generic decoder, Ed25519 through the direct one, and each signer is
 * made.  Before the guard the file did not build that way.
 */
#include <stdio.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>

#include "cunit_run.h"

#include "arc.h"

static int
loads(const char *type, int traditional)
{
	EVP_PKEY	*k = EVP_PKEY_Q_keygen(NULL, NULL, type, (size_t)1024);
	BIO		*bio = BIO_new(BIO_s_mem());
	char		*pem, err[256];
	long		 n;
	arc_signer	*s = NULL;
	int		 ok;

	if (k == NULL || bio == NULL)
		return 0;
	if (strcmp(type, "ED25519") == 0) {
		EVP_PKEY_free(k);
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	}
	if (k != NULL && (traditional ?
	    PEM_write_bio_PrivateKey_traditional(bio, k, NULL, NULL, 0, NULL,
	    NULL) : PEM_write_bio_PrivateKey(bio, k, NULL, NULL, 0, NULL,
	    NULL)) == 1 && (n = BIO_get_mem_data(bio, &pem)) > 0 &&
	    (s = arc_signer_create_pem("a.example", "s", pem, (size_t)n, err,
	    sizeof(err))) == NULL)
		fprintf(stderr, "\n  %s: %s\n", type, err);
	ok = s != NULL;
	arc_signer_free(s);
	BIO_free(bio);
	EVP_PKEY_free(k);
	return ok;
}

static void
test_nodep_keys(void)
{
	CU_ASSERT(loads("RSA", 0));
	CU_ASSERT(loads("RSA", 1));
	CU_ASSERT(loads("ED25519", 0));
}

int
main(void)
{
	static const cunit_test tests[] = {
		{ "nodep_keys", test_nodep_keys },
		{ NULL, NULL }
	};

	return cunit_run("key_nodep", NULL, NULL, tests);
}
