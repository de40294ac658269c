/*
 * arc_adapter_int.h - what the adapter layer's own files share and no
 * adapter may use: the adapter's structure and the helpers arc_conf.c
 * and arc_adapter.c give arc_session.c.  Not installed (PRIVATE_HDR).
 *
 * Files: arc_conf.c (arc.conf), arc_adapter.c (the process-wide
 * adapter: key sources, resolver, identities, logging), arc_session.c
 * (one message: verdict, seal, actions, log line).  Calls go
 * arc_session -> arc_adapter -> arc_conf, never back.
 */
#ifndef ARC_ADAPTER_INT_H
#define ARC_ADAPTER_INT_H

#ifndef PCRE2_CODE_UNIT_WIDTH
#define PCRE2_CODE_UNIT_WIDTH 8
#endif
#include <pcre2.h>

#include "arc_adapter.h"
#include "arc_policy.h"
#include "arc_select.h"

/* Signers made for per-message overrides, kept: parsing a key costs more
 * than a signature. */
typedef struct signer_cache {
	char			*domain, *selector, *key, *headers;
	arc_signer		*signer;
	struct signer_cache	*next;
} signer_cache;

struct arc_adapter {
	const arc_conf	*conf;
	arc_lib		*lib;
	arc_signer	*signer;	/* from the configuration, or NULL */
	signer_cache	*signers;
	unsigned	 nsigners;
	pcre2_code	*seal_rcpt_re;
	arc_select	*select;	/* seal-key-table, -signing-table */
	arc_policy	*policy;	/* trusted-sealers (arc_policy.h) */
	arc_log_fn	 log_fn;
	void		*log_arg;
	int		 log_level;
	char		 authserv_id[256];
	int		 auth_dkim;	/* authenticate dkim (or all) */
	unsigned	 nsessions;	/* alive sessions borrowing it */
	arc_conf	*owned_conf;	/* freed with the adapter */
};

/* arc_conf.c: a yes/no option, a number option (range-checked when it
 * was set), and "file:line: " where the file set the option ("" if it
 * did not), for errors about what the option names. */
int		 arc_conf_yes(const arc_conf *, const char *name);
long		 arc_conf_num(const arc_conf *, const char *name);
const char	*arc_conf_where(const arc_conf *, const char *name, char *buf,
		    size_t len);

/* arc_adapter.c: the signer for a per-message identity, made once and
 * kept; NULL with err set. */
arc_signer	*arc_adapter_override_signer(arc_adapter *, const char *domain,
		    const char *selector, const char *key, const char *headers,
		    char *err, size_t errlen);

#endif
