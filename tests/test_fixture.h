/*
 * test_fixture.h - the files the adapter tests share: a temporary
 * directory with a fresh RSA sealing key and a key table naming its
 * public half.  Header-only, included once by each test program.
 *
 * Contract: fixture_keys() makes dir (a mkdtemp template), writes
 * dir/key.pem (mode 0600) and, if open_name is set, the same key
 * readable by everyone as dir/open_name, and dir/keys: a key table with
 * s1._domainkey.seal.example and s2._domainkey.other.example, both the
 * key's public half.  The paths go to keyfile and keytable (each with
 * room for 300 bytes).  0 on success, -1 on any failure.
 * fixture_remove() deletes dir and all in it.  slurp() reads a whole
 * file into a terminated malloc'd string (NULL if it cannot), its length
 * into *len.  All static inline: a program may use only some.
 */
#ifndef TEST_FIXTURE_H
#define TEST_FIXTURE_H

#include <sys/stat.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

static inline int
write_file(const char *path, const char *text, mode_t mode)
{
	FILE	*fp = fopen(path, "w");

	if (fp == NULL)
		return -1;
	fputs(text, fp);
	if (fclose(fp) != 0 || chmod(path, mode) != 0)
		return -1;
	return 0;
}

static inline int
write_key(const char *path, EVP_PKEY *k, mode_t mode)
{
	FILE	*fp = fopen(path, "w");
	int	 ok;

	if (fp == NULL)
		return -1;
	ok = PEM_write_PrivateKey(fp, k, NULL, NULL, 0, NULL, NULL);
	if (fclose(fp) != 0 || !ok || chmod(path, mode) != 0)
		return -1;
	return 0;
}

static inline int
fixture_keys(char *dir, char keyfile[300], char keytable[300],
    const char *open_name)
{
	EVP_PKEY	*k;
	unsigned char	*der = NULL;
	char		 b64[1024], text[2400], open_copy[300];
	int		 n, r = -1;

	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(keyfile, 300, "%s/key.pem", dir);
	snprintf(keytable, 300, "%s/keys", dir);
	snprintf(open_copy, sizeof(open_copy), "%s/%s", dir,
	    open_name ? open_name : "");
	if ((k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)1024)) == NULL)
		return -1;
	if (write_key(keyfile, k, 0600) == 0 && (open_name == NULL ||
	    write_key(open_copy, k, 0644) == 0) &&
	    (n = i2d_PUBKEY(k, &der)) > 0 && n < 700) {
		EVP_EncodeBlock((unsigned char *)b64, der, n);
		snprintf(text, sizeof(text), "# test keys\n"
		    "s1._domainkey.seal.example v=DKIM1; k=rsa; p=%s\n"
		    "s2._domainkey.other.example v=DKIM1; k=rsa; p=%s\n",
		    b64, b64);
		r = write_file(keytable, text, 0644);
	}
	OPENSSL_free(der);
	EVP_PKEY_free(k);
	return r;
}

static inline int
fixture_remove(const char *dir)
{
	char	 cmd[512];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static inline char *
slurp(const char *path, size_t *len)
{
	FILE	*f = fopen(path, "rb");
	char	*p = NULL;
	long	 n;

	*len = 0;
	if (f == NULL)
		return NULL;
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 &&
	    fseek(f, 0, SEEK_SET) == 0 && (p = malloc((size_t)n + 1)) != NULL) {
		*len = fread(p, 1, (size_t)n, f);
		p[*len] = '\0';
	}
	fclose(f);
	return p;
}

#endif
