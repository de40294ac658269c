/*
 * filter_driver.h - runs filter-arc as smtpd does (stdin and stdout on
 * one socketpair, stderr to a log file) for the protocol tests of
 * the filter-driving tests.  Header-only, static inline, included once.
 *
 * Contract: fd_start() writes DIR/arc.conf from conf, starts the filter
 * (FILTER_ARC in the environment, else FILTER_ARC_PATH, the build tree's
 * own) with "-c DIR/arc.conf" and the extra arguments, sends the
 * handshake with the given smtp-session-timeout value, and reads the
 * four register lines; 0 or -1.  fd_line() reads one output line
 * (without "\n") within timeout_ms; fd_until() the lines of one session
 * up to the first one starting with want, keeping other lines for later.
 * fd_stop() closes stdin and waits for the exit status (-1: killed
 * after 20 s, or no status); fd_alive() says whether it still runs
 * (and keeps the status of one that ended for fd_stop()).  fd_log()
 * reads the log.  fd_session() sends a session's link-connect,
 * link-identify, tx-begin and tx-rcpt; fd_vm_kb() reads a VmXXX: field
 * of /proc/PID/status.  Nothing here asserts: callers do.
 */
#ifndef FILTER_DRIVER_H
#define FILTER_DRIVER_H

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef FILTER_ARC_PATH
#define FILTER_ARC_PATH	"build/filter-arc"
#endif

struct fdrv {
	pid_t	 pid;
	int	 fd;
	char	 dir[64], log[128], conf[128];
	char	 in[1 << 16];
	size_t	 inlen;
	char	*pend;		/* lines kept for later, "\n"-joined */
	size_t	 pendlen;
	int	 status, reaped;	/* fd_alive() found it gone */
};

static inline long long
fd_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline int
fd_write_conf(struct fdrv *f, const char *conf)
{
	FILE	*fp;

	if ((fp = fopen(f->conf, "w")) == NULL)
		return -1;
	fputs(conf, fp);
	return fclose(fp);
}

static inline int
fd_send(struct fdrv *f, const char *fmt, ...)
{
	char	 buf[8192];
	va_list	 ap;
	int	 n;
	size_t	 off = 0;
	ssize_t	 w;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(buf) - 1)
		return -1;
	buf[n++] = '\n';
	while (off < (size_t)n) {
		w = write(f->fd, buf + off, (size_t)n - off);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += (size_t)w;
	}
	return 0;
}

/* One line into line (size bytes); 1, 0 on timeout or EOF. */
static inline int
fd_line(struct fdrv *f, char *line, size_t size, int timeout_ms)
{
	long long	 end = fd_ms() + timeout_ms;
	struct pollfd	 pfd;
	char		*nl;
	size_t		 n;
	ssize_t		 r;

	for (;;) {
		if ((nl = memchr(f->in, '\n', f->inlen)) != NULL) {
			n = (size_t)(nl - f->in);
			snprintf(line, size, "%.*s", (int)n, f->in);
			memmove(f->in, nl + 1, f->inlen - n - 1);
			f->inlen -= n + 1;
			return 1;
		}
		if (f->inlen == sizeof(f->in))
			f->inlen = 0;	/* an overlong line: dropped */
		pfd.fd = f->fd;
		pfd.events = POLLIN;
		if (fd_ms() >= end || poll(&pfd, 1, (int)(end - fd_ms())) <= 0)
			return 0;
		r = read(f->fd, f->in + f->inlen, sizeof(f->in) - f->inlen);
		if (r <= 0)
			return 0;
		f->inlen += (size_t)r;
	}
}

static inline int
fd_start(struct fdrv *f, const char *conf, const char *timeout,
    const char *const *args)
{
	const char	*path = getenv("FILTER_ARC") ? getenv("FILTER_ARC") :
			    FILTER_ARC_PATH;
	const char	*argv[16];
	char		 line[512];
	int		 sv[2], logfd, i, n = 0;

	memset(f, 0, sizeof(*f));
	f->pid = -1;
	f->fd = -1;
	snprintf(f->dir, sizeof(f->dir), "/tmp/test_smtpd_proto.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->log, sizeof(f->log), "%s/filter.log", f->dir);
	snprintf(f->conf, sizeof(f->conf), "%s/arc.conf", f->dir);
	if (fd_write_conf(f, conf) != 0)
		return -1;
	if ((logfd = open(f->log, O_WRONLY | O_CREAT | O_TRUNC, 0644)) == -1 ||
	    socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == -1)
		return -1;
	argv[n++] = path;
	argv[n++] = "-c";
	argv[n++] = f->conf;
	for (i = 0; args != NULL && args[i] != NULL && n < 15; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if ((f->pid = fork()) == -1)
		return -1;
	if (f->pid == 0) {
		dup2(sv[1], 0);
		dup2(sv[1], 1);
		dup2(logfd, 2);
		close(sv[0]);
		close(sv[1]);
		close(logfd);
		execv(path, (char *const *)argv);
		_exit(127);
	}
	close(sv[1]);
	close(logfd);
	f->fd = sv[0];
	if (fd_send(f, "config|smtpd-version|6.8.0p2") != 0 ||
	    fd_send(f, "config|smtp-session-timeout|%s", timeout) != 0 ||
	    fd_send(f, "config|subsystem|smtp-in") != 0 ||
	    fd_send(f, "config|admd|mx.test") != 0 ||
	    fd_send(f, "config|ready") != 0)
		return -1;
	for (i = 0; i < 4; i++)
		if (!fd_line(f, line, sizeof(line), 20000) ||
		    strncmp(line, "register|", 9) != 0)
			return -1;
	return 0;
}

/* Lines of session sid up to the first that starts with want, written
 * into out ("\n"-joined, at most size); 1 if found. */
static inline int
fd_until(struct fdrv *f, const char *sid, const char *want, char *out,
    size_t size, int timeout_ms)
{
	char	 line[4096], mine[40], *p, *q;
	size_t	 used = 0, n;
	int	 found = 0;

	snprintf(mine, sizeof(mine), "|%s|", sid);
	out[0] = '\0';
	/* the kept lines first */
	p = f->pend;
	while (p != NULL && p < f->pend + f->pendlen && !found) {
		q = memchr(p, '\n', f->pend + f->pendlen - p);
		n = (size_t)(q - p);
		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		if (strstr(line, mine) != NULL) {
			memmove(p, q + 1, f->pend + f->pendlen - q - 1);
			f->pendlen -= n + 1;
			used += snprintf(out + used, used < size ? size - used :
			    0, "%s\n", line);
			if (used >= size)
				used = size - 1;
			found = strncmp(line, want, strlen(want)) == 0;
		} else
			p = q + 1;
	}
	while (!found && fd_line(f, line, sizeof(line), timeout_ms)) {
		if (strstr(line, mine) == NULL) {
			n = strlen(line);
			if ((p = realloc(f->pend, f->pendlen + n + 1)) == NULL)
				return 0;
			f->pend = p;
			memcpy(f->pend + f->pendlen, line, n);
			f->pend[f->pendlen + n] = '\n';
			f->pendlen += n + 1;
			continue;
		}
		used += snprintf(out + used, used < size ? size - used : 0,
		    "%s\n", line);
		if (used >= size)
			used = size - 1;
		found = strncmp(line, want, strlen(want)) == 0;
	}
	return found;
}

static inline int
fd_alive(struct fdrv *f)
{
	pid_t	r;

	if (f->pid <= 0 || f->reaped)
		return 0;
	if ((r = waitpid(f->pid, &f->status, WNOHANG)) == f->pid)
		f->reaped = 1;	/* fd_stop() gives its status */
	return r == 0;
}

static inline int
fd_stop(struct fdrv *f)
{
	long long	end = fd_ms() + 20000;
	int		st;
	pid_t		r;

	if (f->fd != -1)
		shutdown(f->fd, SHUT_WR);
	if (f->reaped) {
		r = f->pid;
		st = f->status;
	} else
		while ((r = waitpid(f->pid, &st, WNOHANG)) == 0 &&
		    fd_ms() < end)
			usleep(10000);
	if (r == -1)
		st = -1;	/* not our child (any more): no status */
	else if (r == 0) {
		kill(f->pid, SIGKILL);
		waitpid(f->pid, &st, 0);
		st = -1;
	}
	if (f->fd != -1)
		close(f->fd);
	free(f->pend);
	f->pend = NULL;
	return st == -1 ? -1 : WIFEXITED(st) ? WEXITSTATUS(st) :
	    128 + WTERMSIG(st);
}

static inline void
fd_session(struct fdrv *f, const char *sid)
{
	fd_send(f, "report|0.6|1.0|smtp-in|link-connect|%s|localhost|pass|"
	    "192.0.2.9:53718|127.0.0.1:2526", sid);
	fd_send(f, "report|0.6|1.0|smtp-in|link-identify|%s|EHLO|"
	    "client.example", sid);
	fd_send(f, "report|0.6|1.0|smtp-in|tx-begin|%s|a0d45a85", sid);
	fd_send(f, "report|0.6|1.0|smtp-in|tx-rcpt|%s|a0d45a85|ok|"
	    "rcpt@dest.example", sid);
}

static inline long
fd_vm_kb(pid_t pid, const char *field)
{
	char	 path[64], line[256];
	FILE	*fp;
	long	 kb = -1;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fp = fopen(path, "r")) == NULL)
		return -1;
	while (fgets(line, sizeof(line), fp) != NULL)
		if (strncmp(line, field, strlen(field)) == 0)
			kb = strtol(line + strlen(field) + 1, NULL, 10);
	fclose(fp);
	return kb;
}

/* The log, NUL-terminated, malloc'd (NULL on error). */
static inline char *
fd_log(struct fdrv *f)
{
	FILE	*fp = fopen(f->log, "r");
	char	*buf;
	long	 n;

	if (fp == NULL)
		return NULL;
	fseek(fp, 0, SEEK_END);
	n = ftell(fp);
	rewind(fp);
	if (n < 0 || (buf = malloc((size_t)n + 1)) == NULL) {
		fclose(fp);
		return NULL;
	}
	n = (long)fread(buf, 1, (size_t)n, fp);
	buf[n] = '\0';
	fclose(fp);
	return buf;
}

static inline void
fd_cleanup(struct fdrv *f)
{
	char	cmd[160];

	if (getenv("KEEP") != NULL) {
		fprintf(stderr, "kept %s\n", f->dir);
		return;
	}
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", f->dir);
	(void)!system(cmd);
}

#endif
