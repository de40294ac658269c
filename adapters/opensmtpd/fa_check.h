/*
 * fa_check.h - filter-arc -n: the configuration checked as the user
 * smtpd runs the filter as.
 *
 * Contract: run as root, fa_check_conf() becomes user (with group, or
 * the user's primary group, and no supplementary groups: what smtpd's
 * proc-exec does with "user" and "group") for good, then builds the
 * whole configuration (arc.conf, keys, tables) as the filter would,
 * prints "configuration OK" or the error with its file:line on stderr
 * and returns the exit status (0 or 1).  Run as anyone else, it checks
 * as that user and warns when user_given names another.  For the -n of
 * a process that is about to exit: it drops privileges irrevocably.
 */
#ifndef FA_CHECK_H
#define FA_CHECK_H

#ifndef FILTER_ARC_USER
#define FILTER_ARC_USER	"opensmtpd"	/* Debian's SMTPD_USER */
#endif

int	fa_check_conf(const char *path, const char *user, const char *group,
	    int user_given);
/* "filter-arc: FILE: ERR" (FILE left out when err starts with it),
 * with " (checked as AS)" when as is set. */
void	fa_print_conf_error(const char *path, const char *err,
	    const char *as);

#endif
