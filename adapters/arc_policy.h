/*
 * arc_policy.h - acting on ARC at the receiver: trusted sealers, the
 * DMARC local-policy override of RFC 8617 §7.2.1, and the report data
 * of §7.2.2.
 *
 * Contract:
 *  - An arc_policy is the operator's list of trusted sealers
 *    (arc.conf "trusted-sealers"): domains, "*.example.org" (any
 *    subdomain of example.org, not example.org itself) and
 *    "file:/path" (one entry a line, '#' comments, no nested file:).
 *    arc_policy_create() parses it once (errors name file:line); it is
 *    read-only afterwards, so sessions and threads may share it.
 *    Lookups cost O(labels * log n).
 *  - arc_policy_evaluate() reads a message after arc_msg_eom(): for a
 *    passing chain, the oldest trusted sealer (lowest i=, the hop
 *    closest to the author) and what its ARC-Authentication-Results
 *    recorded for dkim, spf and dmarc; the message's From domain; our
 *    own ADMD's dmarc= result, from the message's Authentication-Results
 *    of authserv_id (or a trusted id) and from host_ar.  A verdict is
 *    "override": the chain passed, a trusted sealer recorded dmarc=pass
 *    (for the From domain when it names one) or dkim=pass for the From
 *    domain, and our own dmarc result says fail or is absent.  Nothing
 *    is allocated; every string in the verdict is printable ASCII.
 *  - arc_dmarc_comment() formats the DMARC report comment of §7.2.2,
 *    "arc=pass as[2].d=D as[2].s=S ... remote-ip[1]=IP", malloc'd.
 *    remote-ip[1] is smtp.remote-ip of set 1's AAR, else the client
 *    address it recorded as policy.iprev or smtp.client-ip; left out
 *    when none is an address.
 *  - arc_policy_free(NULL) is a no-op.
 */
#ifndef ARC_POLICY_H
#define ARC_POLICY_H

#include <stddef.h>

#include "arc.h"

typedef struct arc_policy arc_policy;

/* spec: entries separated by white space, commas or newlines (NULL or
 * "": trusts no one); where names it in errors ("arc.conf:12", NULL:
 * "arc.conf").  NULL on error, err says "file:line: why". */
arc_policy	*arc_policy_create(const char *spec, const char *where,
		    char *err, size_t errlen);
void		 arc_policy_free(arc_policy *);
/* 1 if domain (any case, a final dot ignored) is a trusted sealer. */
int		 arc_policy_trusts(const arc_policy *, const char *domain);
size_t		 arc_policy_size(const arc_policy *);

typedef struct {
	int	 chain_pass;		/* cv=pass */
	int	 instance;		/* oldest trusted sealer's i=, 0: none */
	char	 domain[254];		/* its d= */
	/* what its AAR recorded ("" absent): pass wins over other results */
	char	 dkim[16], spf[16], dmarc[16];
	char	 from_domain[254];	/* the message's From domain, "" */
	char	 local_dmarc[16];	/* our ADMD's dmarc= result, "" */
	int	 explains;		/* sealer's dmarc/dkim pass fits From */
	int	 override;		/* a local DMARC failure may be
					 * overridden */
	char	 why[640];		/* one line for logs and reports */
} arc_verdict;

/* trusted_ids: our ADMD's other authserv-ids (comma or colon list, NULL
 * none); host_ar: A-R values the host adds (NULL-terminated, may be
 * NULL).  Sets every field of v. */
void		 arc_policy_evaluate(const arc_policy *, const arc_msg *,
		    const char *authserv_id, const char *trusted_ids,
		    const char *const *host_ar, arc_verdict *v);

char		*arc_dmarc_comment(const arc_msg *);

#endif
