/*
 * fuzz_keyrec.c - libFuzzer harness: DKIM key records (RFC 6376
 * §3.6.1, RFC 8463) through arc_keyrec_parse, as a TXT record from DNS
 * or a key table would reach it.
 *
 * Oracles: exactly one of a key and an error comes out; a key is RSA
 * within the size bounds or Ed25519; parsing the same entry again (as a
 * cache refresh does) leaks nothing and gives the same outcome.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "arc_keys.h"

static void
parse(arc_keyentry *e, const char *txt)
{
	arc_keyrec_parse(e, txt, 1024, 8192);
	if ((e->pkey == NULL) == (e->error == NULL))
		abort();
	if (e->pkey != NULL) {
		int id = EVP_PKEY_get_base_id(e->pkey);

		if (!(e->ktype == ARC_KTYPE_RSA && id == EVP_PKEY_RSA &&
		    e->bits >= 1024 && e->bits <= 8192) &&
		    !(e->ktype == ARC_KTYPE_ED25519 && id == EVP_PKEY_ED25519))
			abort();
	} else if (strlen(e->error) == 0)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	arc_keyentry	 e;
	char		*txt;
	int		 had_key;

	/* a TXT record reaches the parser as a C string */
	if ((txt = malloc(size + 1)) == NULL)
		return 0;
	memcpy(txt, data, size);
	txt[size] = '\0';
	memset(&e, 0, sizeof(e));
	parse(&e, txt);
	had_key = e.pkey != NULL;
	parse(&e, txt);
	if ((e.pkey != NULL) != had_key)
		abort();
	EVP_PKEY_free(e.pkey);
	free(e.error);
	free(txt);
	return 0;
}
