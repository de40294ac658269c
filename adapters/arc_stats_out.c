/*
 * arc_stats_out.c - the metrics file: written atomically at an interval,
 * either as this process's totals (ARC_STATS_REPLACE) or merged into the
 * totals of every process sharing it (ARC_STATS_MERGE), see arc_stats.h.
 *
 * Why merging for Exim: its processes live for one SMTP connection or
 * one delivery, so per-process files would pile up by the thousand (and
 * a reused pid would overwrite a dead process's counts).  One file that
 * each process adds its own new counts to, under an flock(2) on a lock
 * file beside it, stays one always-complete exposition that the textfile
 * collector and arctool stats read as it is; the lock is held for one
 * read-parse-render-rename of a file of some 30 KB.  The lock file is
 * separate because rename(2) replaces the metrics file's inode.
 */
#include <sys/file.h>
#include <sys/stat.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arc_stats.h"

static pthread_mutex_t	 out_lock = PTHREAD_MUTEX_INITIALIZER;
static struct {
	char		*path;
	int		 mode;
	long		 interval;
	time_t		 last;
	int		 hooked;	/* atexit and pthread_atfork done */
	uint64_t	 written;	/* events() at the last write */
	arc_stats_snap	 base;		/* MERGE: what is already written */
} out;

int
arc_stats_write_file(const char *path, const char *text, size_t len,
    char *err, size_t errlen)
{
	char	*tmp;
	int	 fd;
	size_t	 off = 0;
	ssize_t	 n;

	/* the same directory, so rename() is atomic; not "*.prom", so the
	 * textfile collector never reads it half-written */
	if (asprintf(&tmp, "%s.tmp.XXXXXX", path) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((fd = mkostemp(tmp, O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", tmp, strerror(errno));
		free(tmp);
		return -1;
	}
	if (fchmod(fd, 0644) != 0)
		goto fail;
	while (off < len) {
		if ((n = write(fd, text + off, len - off)) < 0) {
			if (errno == EINTR)
				continue;
			goto fail;
		}
		off += (size_t)n;
	}
	if (close(fd) != 0) {
		fd = -1;
		goto fail;
	}
	fd = -1;
	if (rename(tmp, path) != 0)
		goto fail;
	free(tmp);
	return 0;
fail:
	snprintf(err, errlen, "%s: %s", fd == -1 ? path : tmp,
	    strerror(errno));
	if (fd != -1)
		close(fd);
	unlink(tmp);
	free(tmp);
	return -1;
}

static int
write_snap(const arc_stats_snap *s, char *err, size_t errlen)
{
	char	*text;
	size_t	 len;
	int	 r;

	if ((text = arc_stats_render(s, &len)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	r = arc_stats_write_file(out.path, text, len, err, errlen);
	free(text);
	return r;
}

/* The file as it is (zero if absent); never overwrite what we cannot
 * read: its counts would be lost. */
static int
read_snap(const char *path, arc_stats_snap *s, char *err, size_t errlen)
{
	FILE	*fp;
	char	*buf = NULL, e[128];
	size_t	 cap = 0, len = 0, n;

	memset(s, 0, sizeof(*s));
	if ((fp = fopen(path, "re")) == NULL) {
		if (errno == ENOENT)
			return 0;
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return -1;
	}
	for (;;) {
		if (len == cap) {
			char *nb = cap > (1u << 24) ? NULL :
			    realloc(buf, cap = cap ? 2 * cap : 65536);

			if (nb == NULL) {
				snprintf(err, errlen, "%s: too large", path);
				free(buf);
				fclose(fp);
				return -1;
			}
			buf = nb;
		}
		if ((n = fread(buf + len, 1, cap - len, fp)) == 0)
			break;
		len += n;
	}
	fclose(fp);
	if (len == 0) {
		free(buf);
		return 0;
	}
	if (arc_stats_parse(buf, len, s, e, sizeof(e)) != 0) {
		snprintf(err, errlen, "%s: %s (not overwritten)", path, e);
		free(buf);
		return -1;
	}
	free(buf);
	return 0;
}

static int
lock_file(const char *path, char *err, size_t errlen)
{
	char		*lp;
	int		 fd;
	struct timespec	 ts = { 0, 10 * 1000 * 1000 };

	if (asprintf(&lp, "%s.lock", path) < 0) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((fd = open(lp, O_RDWR | O_CREAT | O_CLOEXEC, 0644)) == -1) {
		snprintf(err, errlen, "%s: %s", lp, strerror(errno));
		free(lp);
		return -1;
	}
	/* bounded: a process stuck holding it costs metrics, never mail */
	for (int i = 0; flock(fd, LOCK_EX | LOCK_NB) != 0; i++) {
		if ((errno != EWOULDBLOCK && errno != EINTR) || i >= 200) {
			snprintf(err, errlen, "%s: %s", lp, errno ==
			    EWOULDBLOCK ? "still locked after 2 s" :
			    strerror(errno));
			close(fd);
			free(lp);
			return -1;
		}
		nanosleep(&ts, NULL);
	}
	free(lp);
	return fd;
}

/* A cheap "anything new": messages and key lookups. */
static uint64_t
events(void)
{
	arc_stats_snap_counts_t c;

	arc_stats_counts(c);
	return c[ARC_ST_CV_NONE] + c[ARC_ST_CV_PASS] + c[ARC_ST_CV_FAIL] +
	    c[ARC_ST_INTERNAL_ERRORS] + c[ARC_ST_PASSTHROUGH] +
	    c[ARC_ST_NMSG + ARC_STAT_KEY_LOOKUPS];
}

long long
arc_stats_poll_ms(long long timeout)
{
	long long	 due;

	pthread_mutex_lock(&out_lock);
	if (out.path == NULL || events() == out.written) {
		pthread_mutex_unlock(&out_lock);
		return timeout;
	}
	due = ((long long)out.last + out.interval - (long long)time(NULL)) *
	    1000;
	pthread_mutex_unlock(&out_lock);
	if (due < 0)
		due = 0;
	return timeout < 0 || due < timeout ? due : timeout;
}

/* Every message and key lookup moves a counter. */
static int
nothing_new(const arc_stats_snap *s)
{
	for (int i = 0; i < ARC_ST_NCOUNTERS; i++)
		if (s->count[i] != 0)
			return 0;
	return s->ntop == 0;
}

static int
flush_locked(int force, char *err, size_t errlen)
{
	arc_stats_snap	*now, *file;
	int		 fd, r = -1;

	if (out.path == NULL)
		return 0;
	if ((now = malloc(2 * sizeof(*now))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	file = now + 1;
	out.written = events();
	arc_stats_take(now);
	out.last = time(NULL);
	if (out.mode == ARC_STATS_REPLACE) {
		r = write_snap(now, err, errlen);
		free(now);
		return r;
	}
	*file = *now;
	arc_stats_snap_sub(file, &out.base);	/* file: the new counts */
	if (!force && nothing_new(file)) {
		free(now);
		return 0;
	}
	{
		arc_stats_snap	*delta = malloc(sizeof(*delta));

		if (delta == NULL || (fd = lock_file(out.path, err, errlen)) ==
		    -1) {
			if (delta == NULL)
				snprintf(err, errlen, "out of memory");
			free(delta);
			free(now);
			return -1;
		}
		*delta = *file;
		if (read_snap(out.path, file, err, errlen) == 0) {
			arc_stats_snap_add(file, delta);
			if ((r = write_snap(file, err, errlen)) == 0) {
				out.base = *now;
				out.base.ntop = 0;
				arc_stats_sketch_clear();
			}
		}
		close(fd);		/* unlocks */
		free(delta);
	}
	free(now);
	return r;
}

int
arc_stats_flush(char *err, size_t errlen)
{
	int	 r;

	pthread_mutex_lock(&out_lock);
	r = flush_locked(1, err, errlen);
	pthread_mutex_unlock(&out_lock);
	return r;
}

int
arc_stats_tick(time_t now, char *err, size_t errlen)
{
	int	 r = 0;

	pthread_mutex_lock(&out_lock);
	if (out.path != NULL && (now - out.last >= out.interval ||
	    now < out.last))
		r = flush_locked(0, err, errlen);
	pthread_mutex_unlock(&out_lock);
	return r;
}

static void
at_exit(void)
{
	char	 err[256];

	pthread_mutex_lock(&out_lock);
	(void)flush_locked(0, err, sizeof(err));
	pthread_mutex_unlock(&out_lock);
}

/* A fork()ed child (Exim's delivery processes) inherits counts that its
 * parent will write: it starts from them.  Exim is single-threaded, so
 * no lock can be held by a thread that did not come along. */
static void
at_fork_child(void)
{
	if (out.mode == ARC_STATS_MERGE) {
		arc_stats_take(&out.base);
		out.base.ntop = 0;
		arc_stats_sketch_clear();
	}
}

int
arc_stats_configure(const arc_conf *c, int mode, char *err, size_t errlen)
{
	const char	*path = arc_conf_get(c, "metrics-file");
	const char	*iv = arc_conf_get(c, "metrics-interval");
	long		 interval = iv ? strtol(iv, NULL, 10) : 15;
	char		*p = NULL, e[256];
	int		 r;

	if (interval < 0 || interval > 86400) {
		snprintf(err, errlen, "metrics-interval %ld: not in 0..86400",
		    interval);
		return -1;
	}
	if (path != NULL && path[0] != '/') {
		snprintf(err, errlen, "metrics-file %s: not an absolute path",
		    path);
		return -1;
	}
	if (path != NULL && (p = strdup(path)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	pthread_mutex_lock(&out_lock);
	if (!out.hooked && p != NULL) {
		out.hooked = 1;
		atexit(at_exit);
		pthread_atfork(NULL, NULL, at_fork_child);
	}
	free(out.path);
	out.path = p;
	out.mode = mode;
	out.interval = interval;
	/* written at once: a directory we cannot write to is a start-up
	 * error with its name, not a silent gap in the graphs.  MERGE
	 * (a process per connection) rewrites an existing file only when
	 * it has something to add; checking the directory suffices. */
	if (p != NULL && mode == ARC_STATS_MERGE && access(p, F_OK) == 0) {
		char	*dir = strdup(p), *slash = dir ? strrchr(dir, '/') :
		    NULL;

		if (slash != NULL)
			*(slash == dir ? slash + 1 : slash) = '\0';
		r = dir == NULL ? -1 : access(dir, W_OK);
		snprintf(e, sizeof(e), "%s: %s", dir ? dir : p,
		    dir ? strerror(errno) : "out of memory");
		free(dir);
	} else
		r = flush_locked(1, e, sizeof(e));
	pthread_mutex_unlock(&out_lock);
	if (r != 0)
		snprintf(err, errlen, "metrics-file %s", e);
	return r;
}
