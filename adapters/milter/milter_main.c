/*
 * milter_main.c - arc-milter's start-up, signals and configuration check.
 *
 *   arc-milter [-f] [-c conf] [-u user[:group]] [-P pidfile] -p socket
 *   arc-milter -n [-c conf] [-u user[:group]]
 *
 * Contract:
 *  - -n checks the configuration as the user the milter will run as
 *    (-u; as root without -u: root, and it says so): every key and table
 *    is opened as that user (arc_check.h), exit 0 if usable, 1 with
 *    "file:line: reason" if not.
 *  - Start-up: privileges are dropped (-u) first, then arc.conf, key
 *    tables and keys are read as that user, as every reload will read
 *    them, then the socket is opened.
 *  - Logs: -f, or started by systemd with stderr on the journal
 *    (JOURNAL_STREAM names fd 2): stderr, with "<N>" level prefixes for
 *    the journal; otherwise syslog (facility mail).
 *  - Signals.  libmilter 8.17 (libmilter/signal.c, mi_signal_thread)
 *    blocks SIGHUP, SIGTERM and SIGINT and sigwait()s for them in a
 *    thread of its own, stopping the milter on any of the three; it has
 *    no hook to change that.  SIGHUP must reload instead (systemctl
 *    reload), so:
 *      HUP, USR1   reload arc.conf, key tables and sealing keys (a bad
 *                  configuration keeps the old one running, logged);
 *      USR2        logs one status line;
 *      TERM, INT   libmilter stops: no new connections, smfi_main()
 *                  returns, open ones get 5 s;
 *      PIPE        ignored (a client gone mid-reply).
 *    All of them are blocked in every thread before any thread starts;
 *    our signal thread sigwaitinfo()s for HUP, USR1 and USR2, and
 *    libmilter's call to sigwait() lands in the sigwait() below, which
 *    takes those three out of its set.  Thus the two threads never
 *    compete for a signal.
 *  - Descriptors are close-on-exec: ours are opened so, and after the
 *    start, after each reload and once a second every descriptor above 2
 *    is marked FD_CLOEXEC (libunbound's pipes and the sockets its threads
 *    open per query come without it; libmilter sets it on its own).
 */
#include <sys/stat.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "arc_check.h"
#include "arc_metrics_http.h"
#include "milter.h"

#define DEFAULT_CONF	"/etc/arc.conf"

static int	 foreground;

static void
usage(void)
{
	fprintf(stderr, "usage: arc-milter [-f] [-c conf] [-u user[:group]] "
	    "[-P pidfile] -p socket\n"
	    "       arc-milter -n [-c conf] [-u user[:group]]\n"
	    "  socket: unix:/path, local:/path, inet:port@host, "
	    "inet6:port@host\n");
	exit(64);
}

static void
fatal(const char *fmt, const char *arg)
{
	char	 buf[1024];

	snprintf(buf, sizeof(buf), fmt, arg);
	mlog(LOG_ERR, "%s", buf);
	if (!foreground)
		fprintf(stderr, "arc-milter: %s\n", buf);
	exit(1);
}

/*
 * libmilter's signal thread calls sigwait(); a definition in the program
 * comes before libc's in the dynamic linker's search, so its call lands
 * here.  The signals our own thread takes are removed from its set.
 */
int
sigwait(const sigset_t *restrict set, int *restrict sig)
{
	sigset_t	 s = *set;
	int		 r;

	sigdelset(&s, SIGHUP);
	sigdelset(&s, SIGUSR1);
	sigdelset(&s, SIGUSR2);
	do
		r = sigwaitinfo(&s, NULL);
	while (r == -1 && errno == EINTR);
	if (r == -1)
		return errno;
	*sig = r;
	return 0;
}

/* Marks every open descriptor above 2 close-on-exec (those that
 * libraries open without). */
static void
cloexec_all(void)
{
	DIR		*d;
	struct dirent	*e;
	int		 fd, fl;

	if ((d = opendir("/proc/self/fd")) == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if ((fd = atoi(e->d_name)) <= 2 || fd == dirfd(d))
			continue;
		if ((fl = fcntl(fd, F_GETFD)) != -1 && !(fl & FD_CLOEXEC))
			(void)fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
	}
	closedir(d);
}

static sigset_t	 our_signals;

static const char *
signame(int sig)
{
	return sig == SIGHUP ? "SIGHUP" : sig == SIGUSR1 ? "SIGUSR1" :
	    sig == SIGUSR2 ? "SIGUSR2" : "signal";
}

static void *
signal_thread(void *arg)
{
	struct timespec	 second = { 1, 0 };
	char		 err[1024];
	int		 sig;

	(void)arg;
	for (;;) {
		/* libunbound's threads open sockets without close-on-exec:
		 * once a second they are marked */
		if ((sig = sigtimedwait(&our_signals, NULL, &second)) == -1) {
			if (errno == EAGAIN)
				cloexec_all();
			continue;
		}
		if (sig == SIGUSR2) {
			mlog(LOG_INFO, "status: connections=%lu generation=%u",
			    milter_active(), milter_generation());
			continue;
		}
		if (milter_reload(err, sizeof(err)) == 0) {
			cloexec_all();
			mlog(LOG_INFO, "reload (%s): configuration reloaded, "
			    "generation=%u", signame(sig), milter_generation());
		} else
			mlog(LOG_ERR, "reload (%s) failed, the running "
			    "configuration stays: %s", signame(sig), err);
	}
	return NULL;
}

/* Is fd 2 the stream systemd's JOURNAL_STREAM ("dev:inode") names? */
static int
stderr_is_journal(void)
{
	const char		*v = getenv("JOURNAL_STREAM");
	struct stat		 st;
	unsigned long long	 dev, ino;

	if (v == NULL || sscanf(v, "%llu:%llu", &dev, &ino) != 2 ||
	    fstat(2, &st) != 0)
		return 0;
	return (unsigned long long)st.st_dev == dev &&
	    (unsigned long long)st.st_ino == ino;
}

static void
remove_socket(const char *spec)
{
	const char	*path = NULL;

	if (strncmp(spec, "unix:", 5) == 0)
		path = spec + 5;
	else if (strncmp(spec, "local:", 6) == 0)
		path = spec + 6;
	else if (spec[0] == '/')
		path = spec;
	if (path != NULL)
		unlink(path);
}

/* Waits up to ms for every connection to close; 1 if they did. */
static int
connections_done(int ms)
{
	struct timespec	 t = { 0, 50 * 1000000L };
	unsigned long	 n;

	for (;;) {
		if ((n = milter_active()) == 0)
			return 1;
		if (ms <= 0) {
			mlog(LOG_WARNING, "%lu connection(s) still open at "
			    "exit", n);
			return 0;
		}
		nanosleep(&t, NULL);
		ms -= 50;
	}
}

/* -n: exit 0 if the configuration is usable by user, 1 if not. */
static int
check_only(const char *confpath, const char *user)
{
	char	 msg[1024], who[256];
	int	 r;

	r = arc_check_config(confpath, user, msg, sizeof(msg), who,
	    sizeof(who));
	if (r == 0)
		printf("arc-milter: %s (checked as %s)\n", msg, who);
	else
		fprintf(stderr, "arc-milter: %s (checked as %s)\n", msg, who);
	if (user == NULL && geteuid() == 0)
		fprintf(stderr, "arc-milter: note: checked as root; give -u "
		    "with the user the milter runs as to check what that "
		    "user can read\n");
	return r == 0 ? 0 : 1;
}

int
main(int argc, char **argv)
{
	const char	*confpath = NULL, *sock = NULL, *user = NULL;
	const char	*pidfile = NULL;
	char		 err[1024], *pidpath = NULL;
	struct stat	 st;
	sigset_t	 all;
	pthread_t	 tid;
	arc_runtime	*rt;
	FILE		*fp;
	int		 ch, r, journal, check = 0, fd;

	while ((ch = getopt(argc, argv, "c:fnp:P:u:h")) != -1) {
		switch (ch) {
		case 'c':
			confpath = optarg;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'p':
			sock = optarg;
			break;
		case 'P':
			pidfile = optarg;
			break;
		case 'u':
			user = optarg;
			break;
		default:
			usage();
		}
	}
	if (optind != argc || (sock == NULL && !check))
		usage();
	/* without -c, /etc/arc.conf if there is one, else the defaults */
	if (confpath == NULL && stat(DEFAULT_CONF, &st) == 0)
		confpath = DEFAULT_CONF;
	if (check)
		return check_only(confpath, user);

	journal = stderr_is_journal();
	if (journal)
		milter_log_to(MLOG_JOURNAL);
	else if (foreground)
		milter_log_to(MLOG_STDERR);
	else {
		milter_log_to(MLOG_SYSLOG);
		openlog("arc-milter", LOG_PID, LOG_MAIL);
	}

	/* before any thread: every thread inherits the mask */
	sigemptyset(&our_signals);
	sigaddset(&our_signals, SIGHUP);
	sigaddset(&our_signals, SIGUSR1);
	sigaddset(&our_signals, SIGUSR2);
	all = our_signals;
	sigaddset(&all, SIGTERM);
	sigaddset(&all, SIGINT);
	if (pthread_sigmask(SIG_BLOCK, &all, NULL) != 0)
		fatal("cannot block signals%s", "");
	signal(SIGPIPE, SIG_IGN);

	/* daemon() moves to /: a relative pid file stays where it was meant */
	if (pidfile != NULL && pidfile[0] != '/') {
		char	 cwd[4096];

		if (getcwd(cwd, sizeof(cwd)) == NULL ||
		    asprintf(&pidpath, "%s/%s", cwd, pidfile) < 0)
			fatal("%s: cannot make the path absolute", pidfile);
		pidfile = pidpath;
	}
	if (user != NULL && arc_become(user, err, sizeof(err)) != 0)
		fatal("%s", err);
	/* as the user the milter runs as, as every reload will */
	if ((rt = arc_runtime_create(confpath, milter_adapter_log, NULL, err,
	    sizeof(err))) == NULL)
		fatal("%s", err);
	if (milter_start(rt, err, sizeof(err)) != 0)
		fatal("%s", err);

	/* group members (the MTA) may connect to a unix socket */
	umask(007);
	if (smfi_setconn((char *)sock) != MI_SUCCESS)
		fatal("bad socket %s", sock);
	if (smfi_register(milter_desc) != MI_SUCCESS)
		fatal("smfi_register failed%s", "");
	/* 1: a socket left by an earlier run is removed */
	if (smfi_opensocket(1) != MI_SUCCESS)
		fatal("cannot open the socket %s", sock);
	/* the journal's stream stays our stderr when we detach */
	if (!foreground && daemon(0, journal) != 0)
		fatal("daemon: %s", strerror(errno));
	if (!foreground && journal && (fd = open("/dev/null",
	    O_RDWR | O_CLOEXEC)) != -1) {
		dup2(fd, 0);
		dup2(fd, 1);
		close(fd);
	}
	if (pidfile != NULL) {
		if ((fd = open(pidfile, O_WRONLY | O_CREAT | O_TRUNC |
		    O_CLOEXEC, 0644)) == -1 || (fp = fdopen(fd, "w")) == NULL)
			fatal("%s: cannot write", pidfile);
		fprintf(fp, "%ld\n", (long)getpid());
		fclose(fp);
	}
	cloexec_all();
	/* after daemon(): threads do not survive a fork.  Metrics:
	 * metrics-file, metrics-listen (arc_metrics_http.h) */
	if (arc_metrics_start(arc_runtime_conf(rt), milter_adapter_log, NULL,
	    err, sizeof(err)) != 0)
		fatal("%s", err);
	if ((r = pthread_create(&tid, NULL, signal_thread, NULL)) != 0)
		fatal("cannot start the signal thread: %s", strerror(r));
	pthread_detach(tid);
	mlog(LOG_INFO, "listening on %s%s%s", sock,
	    confpath ? ", configuration " : "", confpath ? confpath : "");

	r = smfi_main();

	mlog(LOG_INFO, "stopping");
	remove_socket(sock);
	if (pidfile != NULL)
		unlink(pidfile);
	/* libmilter does not wait for its connection threads: give them
	 * 5 s to finish, and free nothing a late one could still use */
	if (connections_done(5000))
		milter_stop();
	free(pidpath);
	return r == MI_SUCCESS ? 0 : 1;
}
