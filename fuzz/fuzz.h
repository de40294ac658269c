/*
 * fuzz.h - what the libFuzzer harnesses share: the fixed keys and the
 * key source that answers every name.
 *
 * Contract: header-only, static inline, no state of its own.  The RSA
 * key is the ValiMail test suite's "dummy._domainkey.example.org" public
 * key (MIT licence, Copyright 2017 ValiMail Inc.), so seeds taken from
 * the suite reach signature checks; the Ed25519 key is a throwaway made
 * for fuzzing and signs nothing but fuzz inputs.  fuzz_lib() makes an
 * arc_lib whose callback answers FUZZ_SEAL_QNAME with the Ed25519 key
 * and any other name with the suite's key, with a fixed clock.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "arc.h"

#define FUZZ_SUITE_KEY \
	"v=DKIM1; k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDkHlOQoB" \
	"TzWRiGs5V6NpP3idY6Wk08a5qhdR6wy5bdOKb2jLQiY/J16JYi0Qvx/byYzCNb3W" \
	"91y3FutACDfzwQ/BC/e/8uBsCR+yz1Lxj+PL6lHvqMKrM3rG4hstT5QjvHO9Pzox" \
	"ZyVYLzBfO2EeC3Ip3G+2kryOTIKT+l/K4w3QIDAQAB"

#define FUZZ_SEAL_DOMAIN	"fuzz.example"
#define FUZZ_SEAL_SELECTOR	"fz"
#define FUZZ_SEAL_QNAME		"fz._domainkey.fuzz.example"
#define FUZZ_SEAL_PEM	"-----BEGIN PRIVATE KEY-----\n" \
	"MC4CAQAwBQYDK2VwBCIEINZWPFKvx1KKjYIOsR8SvWtdWb7zQcEBlQpn+pHfRVSb\n" \
	"-----END PRIVATE KEY-----\n"
#define FUZZ_SEAL_KEY	"v=DKIM1; k=ed25519; " \
	"p=/PrHdagMGdV7Fq1XpIrslnuGs18wjK75D9Z5blIj2Jw="

/* The suite's authserv-id: seeds carry Authentication-Results of it,
 * so sealing copies them into the AAR. */
#define FUZZ_AUTHSERV_ID	"lists.example.org"

/* 2023-11-14: after the suite's t= values, before any x= it uses. */
#define FUZZ_NOW	1700000000

static inline char *
fuzz_txt_lookup(void *arg, const char *qname)
{
	(void)arg;
	return strdup(strcmp(qname, FUZZ_SEAL_QNAME) == 0 ? FUZZ_SEAL_KEY :
	    FUZZ_SUITE_KEY);
}

static inline arc_lib *
fuzz_lib(void)
{
	arc_lib	*lib = arc_lib_create();

	if (lib == NULL)
		abort();
	arc_lib_set_txt_lookup(lib, fuzz_txt_lookup, NULL);
	arc_lib_set_now(lib, FUZZ_NOW);
	return lib;
}

#endif
