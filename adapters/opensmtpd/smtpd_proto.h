/*
 * smtpd_proto.h - the OpenSMTPD filter protocol (smtpd-filters(7),
 * versions 0.6 and 0.7): parsing the lines smtpd writes to a filter and
 * formatting the lines a filter writes back.
 *
 * Contract:
 *  - No side effects, no allocation: the parser fills a struct of
 *    pointer+length pieces that point into the caller's line, which must
 *    outlive them; the formatters write into a caller buffer and return
 *    the length the whole line needs, like snprintf(3).
 *  - A line is given without its "\n".  Lines are parsed by position,
 *    whatever the version string says, so later versions with the same
 *    shape work:
 *      config|KEY[|VALUE]
 *      report|VERSION|TIME|SUBSYSTEM|EVENT|SESSION[|PARAM...]
 *      filter|VERSION|TIME|SUBSYSTEM|PHASE|SESSION|TOKEN[|PARAM...]
 *    Session ids and tokens must be 1 to SMTPD_ID_MAX hex digits: smtpd
 *    reads them back with strtoull(, 16) and dies on anything else, so
 *    a line whose ids we could not echo safely is malformed.
 *  - rest is everything after the session (report) or token (filter),
 *    unsplit: a data-line's text may itself hold '|'.  params splits rest
 *    on '|' into at most SMTPD_MAX_PARAMS pieces, the last one holding
 *    whatever remains.
 *  - Output lines must not hold '\n' (it would end the line early and
 *    the remainder would be a malformed line that makes smtpd exit); the
 *    formatters refuse such data, and turn CR/LF in reject replies into
 *    spaces.
 */
#ifndef SMTPD_PROTO_H
#define SMTPD_PROTO_H

#include <stddef.h>

/* smtpd copies each response line into a LINE_MAX (2048) buffer with
 * strlcpy, so a filter-dataline longer than 2047 bytes is cut short. */
#define SMTPD_LINE_MAX		2048
#define SMTPD_ID_MAX		16	/* hex digits of a session id/token */
#define SMTPD_MAX_PARAMS	8

struct smtpd_str {
	const char	*p;	/* NULL when absent */
	size_t		 len;
};

enum smtpd_type {
	SMTPD_MALFORMED = 0,
	SMTPD_CONFIG,
	SMTPD_REPORT,
	SMTPD_FILTER
};

struct smtpd_line {
	enum smtpd_type	 type;
	/* config */
	struct smtpd_str key, value;
	/* report and filter */
	struct smtpd_str version, time, subsystem;
	struct smtpd_str event;		/* report event or filter phase */
	struct smtpd_str session, token;	/* token: filter only */
	struct smtpd_str rest;
	struct smtpd_str params[SMTPD_MAX_PARAMS];
	size_t		 nparams;
	const char	*error;		/* why SMTPD_MALFORMED */
};

/* Parses one line; returns its type (SMTPD_MALFORMED with error set if
 * it is none of the three shapes). */
enum smtpd_type	smtpd_parse(const char *line, size_t len, struct smtpd_line *);

/* 1 if s equals the NUL-terminated string lit, else 0. */
int		smtpd_eq(struct smtpd_str s, const char *lit);

/* The text of a data-line with the SMTP dot-stuffing removed, and
 * whether a data-line is the final "." that ends the message. */
struct smtpd_str smtpd_unstuff(struct smtpd_str);
int		smtpd_is_eom(struct smtpd_str);

/* The longest data-line text smtpd passes back whole for this session
 * and token (1997 for the usual 16-digit ids). */
size_t		smtpd_dataline_max(struct smtpd_str session,
		    struct smtpd_str token);

/* The client address of a link-connect source: "1.2.3.4:port",
 * "[2001:db8::1]:port" (with or without "IPv6:" inside the brackets),
 * or a bare address.  Writes the address as a string; returns 0, or -1
 * if it is not an IP address (e.g. "unix:/path", "local"). */
int		smtpd_parse_addr(struct smtpd_str src, char *buf, size_t size);

/* tx-mail/tx-rcpt parameters: MSGID|RESULT|ADDRESS in 0.6 and 0.7,
 * MSGID|ADDRESS|RESULT in 0.5.  Finds both; returns 0, or -1 if the
 * parameters do not have that shape. */
int		smtpd_tx_addr(const struct smtpd_line *,
		    struct smtpd_str *result, struct smtpd_str *addr);

/* "filter-result|SESSION|TOKEN|proceed\n" */
int		smtpd_fmt_proceed(char *buf, size_t size,
		    struct smtpd_str session, struct smtpd_str token);
/* "filter-result|SESSION|TOKEN|reject|REPLY\n"; CR/LF in reply become
 * spaces, an empty reply becomes a generic 451. */
int		smtpd_fmt_reject(char *buf, size_t size,
		    struct smtpd_str session, struct smtpd_str token,
		    const char *reply);
/* "filter-dataline|SESSION|TOKEN|TEXT\n"; -1 if text holds '\n'. */
int		smtpd_fmt_dataline(char *buf, size_t size,
		    struct smtpd_str session, struct smtpd_str token,
		    const char *text, size_t len);

#endif
