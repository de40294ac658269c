/*
 * arc_check.c - becoming the runtime user, and checking a configuration
 * as that user.  See arc_check.h for the contract.
 */
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "arc_check.h"
#include "arc_reload.h"

int
arc_become(const char *spec, char *err, size_t errlen)
{
	char		*user, *group;
	struct passwd	*pw;
	struct group	*gr;
	gid_t		 gid;
	int		 ret = -1;

	if ((user = strdup(spec)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((group = strchr(user, ':')) != NULL)
		*group++ = '\0';
	errno = 0;
	if ((pw = getpwnam(user)) == NULL) {
		snprintf(err, errlen, "no such user: %s", user);
		goto done;
	}
	gid = pw->pw_gid;
	if (group != NULL) {
		if ((gr = getgrnam(group)) == NULL) {
			snprintf(err, errlen, "no such group: %s", group);
			goto done;
		}
		gid = gr->gr_gid;
	}
	if (geteuid() != 0) {
		if (pw->pw_uid != geteuid() || gid != getegid()) {
			snprintf(err, errlen, "cannot become %s: only root can "
			    "(running as uid %ld)", spec, (long)geteuid());
			goto done;
		}
		ret = 0;
		goto done;
	}
	/* group first: after setuid() there is no right left to change it */
	if (setgid(gid) != 0 || initgroups(pw->pw_name, gid) != 0 ||
	    setuid(pw->pw_uid) != 0) {
		snprintf(err, errlen, "cannot become %s: %s", spec,
		    strerror(errno));
		goto done;
	}
	ret = 0;
done:
	free(user);
	return ret;
}

static void
describe_self(char *who, size_t wholen)
{
	struct passwd	*pw = getpwuid(geteuid());

	snprintf(who, wholen, "user %s (uid %ld, gid %ld)",
	    pw ? pw->pw_name : "?", (long)geteuid(), (long)getegid());
}

/* Warnings the adapter logs while it is built: to stderr, as they are. */
static void
check_log(void *arg, int level, const char *line)
{
	(void)arg;
	(void)level;
	fprintf(stderr, "%s\n", line);
}

/* Builds what the adapter builds; 0 or -1 with msg. */
static int
check_here(const char *path, char *msg, size_t msglen)
{
	arc_runtime	*rt;
	const char	*lz;

	if ((rt = arc_runtime_create(path, check_log, NULL, msg, msglen)) ==
	    NULL)
		return -1;
	/* a check loads every key, however the process loads them
	 * (seal-key-load lazy: exim_arc.so by default) */
	lz = arc_conf_get(arc_runtime_conf(rt), "seal-key-load");
	if (lz != NULL && strcmp(lz, "lazy") == 0 && arc_runtime_set(rt,
	    "seal-key-load", "eager", msg, msglen) != 0) {
		arc_runtime_free(rt);
		return -1;
	}
	arc_runtime_free(rt);
	snprintf(msg, msglen, "%s: OK", path ? path : "(defaults)");
	return 0;
}

int
arc_check_config(const char *path, const char *user, char *msg,
    size_t msglen, char *who, size_t wholen)
{
	char	 buf[1024];
	int	 p[2], status, r;
	size_t	 n = 0;
	ssize_t	 k;
	pid_t	 pid;

	describe_self(who, wholen);
	if (user == NULL || geteuid() != 0) {
		if (user != NULL && arc_become(user, msg, msglen) != 0)
			return -1;
		return check_here(path, msg, msglen);
	}
	if (pipe2(p, O_CLOEXEC) != 0) {
		snprintf(msg, msglen, "pipe: %s", strerror(errno));
		return -1;
	}
	fflush(NULL);
	if ((pid = fork()) == -1) {
		snprintf(msg, msglen, "fork: %s", strerror(errno));
		close(p[0]);
		close(p[1]);
		return -1;
	}
	if (pid == 0) {
		close(p[0]);
		if (arc_become(user, buf, sizeof(buf)) != 0)
			r = -1;
		else {
			describe_self(who, wholen);
			r = check_here(path, buf, sizeof(buf));
		}
		/* line 1: who, line 2: the verdict */
		dprintf(p[1], "%s\n%s", who, buf);
		_exit(r == 0 ? 0 : 1);
	}
	close(p[1]);
	while (n < sizeof(buf) - 1 && (k = read(p[0], buf + n,
	    sizeof(buf) - 1 - n)) != 0) {
		if (k < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		n += (size_t)k;
	}
	buf[n] = '\0';
	close(p[0]);
	while (waitpid(pid, &status, 0) == -1)
		if (errno != EINTR) {
			snprintf(msg, msglen, "waitpid: %s", strerror(errno));
			return -1;
		}
	if (strchr(buf, '\n') != NULL) {
		*strchr(buf, '\n') = '\0';
		snprintf(who, wholen, "%s", buf);
		snprintf(msg, msglen, "%s", buf + strlen(buf) + 1);
	} else
		snprintf(msg, msglen, "the check as %s stopped early", user);
	if (WIFSIGNALED(status)) {
		snprintf(msg, msglen, "the check as %s died of signal %d",
		    user, WTERMSIG(status));
		return -1;
	}
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}
