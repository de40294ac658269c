/*
 * fa_check.c - filter-arc -n, as the runtime user.
 *
 * Contract: see fa_check.h.  Calls arc_runtime only.
 */
#include <sys/types.h>

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "arc_reload.h"
#include "fa_check.h"
#include "fa_log.h"

/* 1 if err already starts with the configuration file's name. */
static int
prefixed(const char *path, const char *err)
{
	return path != NULL && strncmp(err, path, strlen(path)) == 0;
}

void
fa_print_conf_error(const char *path, const char *err, const char *as)
{
	fprintf(stderr, "filter-arc: %s%s%s%s%s%s\n", prefixed(path, err) ?
	    "" : path ? path : "built-in defaults", prefixed(path, err) ?
	    "" : ": ", err, as ? " (checked as " : "", as ? as : "",
	    as ? ")" : "");
}

/* -n: the configuration as the filter would use it, opened as the
 * user smtpd runs the filter as ("user" of proc-exec, default
 * FILTER_ARC_USER; its group, or "group"; no supplementary groups, as
 * smtpd does), then exit. */
int
fa_check_conf(const char *path, const char *user, const char *group,
    int user_given)
{
	struct passwd	*pw;
	struct group	*gr;
	arc_runtime	*rt;
	char		 err[512], as[200];
	gid_t		 gid;

	if (geteuid() == 0) {
		if ((pw = getpwnam(user)) == NULL) {
			fprintf(stderr, "filter-arc: -n: no user %s (smtpd "
			    "runs filters as the \"user\" of proc-exec, "
			    "default %s; give it with -u)\n", user,
			    FILTER_ARC_USER);
			return 1;
		}
		gid = pw->pw_gid;
		if (group != NULL) {
			if ((gr = getgrnam(group)) == NULL) {
				fprintf(stderr, "filter-arc: -n: no group "
				    "%s\n", group);
				return 1;
			}
			gid = gr->gr_gid;
		}
		if (setgroups(1, &gid) != 0 || setresgid(gid, gid, gid) != 0 ||
		    setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) != 0) {
			fprintf(stderr, "filter-arc: -n: cannot become user "
			    "%s: %s\n", user, strerror(errno));
			return 1;
		}
		gr = getgrgid(gid);
		snprintf(as, sizeof(as), "user %s, group %s", user,
		    gr ? gr->gr_name : "?");
	} else {
		pw = getpwuid(geteuid());
		snprintf(as, sizeof(as), "user %s", pw ? pw->pw_name : "?");
		if (user_given && (pw == NULL || strcmp(pw->pw_name,
		    user) != 0))
			fprintf(stderr, "filter-arc: warning: not root, so "
			    "checked as %s, not as user %s\n", as, user);
	}
	if ((rt = arc_runtime_create(path, fa_log_cb, NULL, err,
	    sizeof(err))) == NULL) {
		fa_print_conf_error(path, err, as);
		return 1;
	}
	arc_runtime_free(rt);
	fprintf(stderr, "filter-arc: %s: configuration OK (checked as %s)\n",
	    path ? path : "built-in defaults", as);
	return 0;
}

