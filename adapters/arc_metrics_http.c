/*
 * arc_metrics_http.c - the metrics thread: file ticks and a tiny,
 * bounded HTTP responder for the exposition (see arc_metrics_http.h).
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "arc_metrics_http.h"
#include "arc_stats.h"

#define MAXCLIENTS	8
#define REQMAX		4096
#define CLIENT_MS	2000

typedef struct {
	int		 fd;		/* -1: free */
	long long	 deadline;
	char		 req[REQMAX];
	size_t		 reqlen;
	char		*resp;		/* being written */
	size_t		 resplen, off;
} client;

static struct {
	pthread_t	 thread;
	int		 running, inited;
	int		 lfd;		/* listener, -1: none */
	int		 wake[2];	/* stop pipe */
	arc_log_fn	 log_fn;
	void		*log_arg;
	client		 c[MAXCLIENTS];
} mt = { .lfd = -1, .wake = { -1, -1 } };

static long long
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
mlog(int level, const char *fmt, const char *arg)
{
	char	 buf[512];

	if (mt.log_fn == NULL)
		return;
	snprintf(buf, sizeof(buf), fmt, arg);
	mt.log_fn(mt.log_arg, level, buf);
}

/* ---- listening ---------------------------------------------------------- */

static int
listen_on(const char *spec, char *err, size_t errlen)
{
	struct sockaddr_storage	 ss;
	socklen_t		 sl;
	char			 host[64];
	const char		*colon;
	long			 port;
	int			 fd, one = 1;
	struct stat		 st;

	memset(&ss, 0, sizeof(ss));
	if (strncmp(spec, "unix:", 5) == 0) {
		struct sockaddr_un *un = (struct sockaddr_un *)&ss;
		const char *path = spec + 5;

		if (path[0] != '/' || strlen(path) >= sizeof(un->sun_path)) {
			snprintf(err, errlen, "metrics-listen %s: needs an "
			    "absolute path under %zu bytes", spec,
			    sizeof(un->sun_path));
			return -1;
		}
		un->sun_family = AF_UNIX;
		memcpy(un->sun_path, path, strlen(path) + 1);
		sl = sizeof(*un);
		if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
			unlink(path);
	} else {
		if ((colon = strrchr(spec, ':')) == NULL ||
		    (size_t)(colon - spec) >= sizeof(host) ||
		    strspn(colon + 1, "0123456789") != strlen(colon + 1) ||
		    colon[1] == '\0' || strlen(colon + 1) > 5 ||
		    (port = strtol(colon + 1, NULL, 10)) < 1 || port > 65535) {
			snprintf(err, errlen, "metrics-listen %s: not "
			    "ADDRESS:PORT or unix:/path", spec);
			return -1;
		}
		memcpy(host, spec, (size_t)(colon - spec));
		host[colon - spec] = '\0';
		if (strcmp(host, "localhost") == 0 ||
		    strcmp(host, "127.0.0.1") == 0) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;

			in->sin_family = AF_INET;
			in->sin_port = htons((uint16_t)port);
			in->sin_addr.s_addr = htonl(INADDR_LOOPBACK);
			sl = sizeof(*in);
		} else if (strcmp(host, "[::1]") == 0) {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

			in6->sin6_family = AF_INET6;
			in6->sin6_port = htons((uint16_t)port);
			in6->sin6_addr = in6addr_loopback;
			sl = sizeof(*in6);
		} else {
			snprintf(err, errlen, "metrics-listen %s: only "
			    "127.0.0.1, [::1], localhost or unix:/path",
			    spec);
			return -1;
		}
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		goto fail;
	if (ss.ss_family != AF_UNIX)
		(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one,
		    sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 16) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		goto fail;
	}
	return fd;
fail:
	snprintf(err, errlen, "metrics-listen %s: %s", spec, strerror(errno));
	return -1;
}

/* ---- clients ----------------------------------------------------------- */

static void
client_close(client *c)
{
	if (c->fd != -1)
		close(c->fd);
	free(c->resp);
	memset(c, 0, sizeof(*c));
	c->fd = -1;
}

static void
respond(client *c)
{
	const char	*status = "200 OK", *ctype =
	    "text/plain; version=0.0.4; charset=utf-8";
	char		*body = NULL, *hdr;
	size_t		 blen = 0;
	int		 get = strncmp(c->req, "GET ", 4) == 0;

	if (get && (strncmp(c->req + 4, "/metrics ", 9) == 0 ||
	    strncmp(c->req + 4, "/ ", 2) == 0)) {
		arc_stats_snap *s = malloc(sizeof(*s));

		if (s != NULL) {
			arc_stats_take(s);
			body = arc_stats_render(s, &blen);
			free(s);
		}
		if (body == NULL)
			status = "503 Service Unavailable";
	} else
		status = get ? "404 Not Found" : "405 Method Not Allowed";
	if (body == NULL) {
		ctype = "text/plain";
		body = strdup(status);
		blen = body ? strlen(body) : 0;
	}
	if (asprintf(&hdr, "HTTP/1.0 %s\r\nContent-Type: %s\r\n"
	    "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, ctype,
	    blen) < 0 || (c->resp = malloc(strlen(hdr) + blen)) == NULL) {
		free(body);
		client_close(c);
		return;
	}
	c->resplen = strlen(hdr) + blen;
	memcpy(c->resp, hdr, strlen(hdr));
	if (body)
		memcpy(c->resp + strlen(hdr), body, blen);
	free(hdr);
	free(body);
	c->off = 0;
}

static void
client_io(client *c)
{
	ssize_t	 n;

	if (c->resp == NULL) {
		n = read(c->fd, c->req + c->reqlen, REQMAX - 1 - c->reqlen);
		if (n <= 0) {
			if (n == 0 || (errno != EAGAIN && errno != EINTR))
				client_close(c);
			return;
		}
		c->reqlen += (size_t)n;
		c->req[c->reqlen] = '\0';
		if (strstr(c->req, "\r\n\r\n") || strstr(c->req, "\n\n"))
			respond(c);
		else if (c->reqlen >= REQMAX - 1)
			client_close(c);	/* too long: no answer */
		if (c->fd == -1 || c->resp == NULL)
			return;
	}
	while (c->off < c->resplen) {
		n = send(c->fd, c->resp + c->off, c->resplen - c->off,
		    MSG_NOSIGNAL);
		if (n < 0) {
			if (errno != EAGAIN && errno != EINTR)
				client_close(c);
			return;
		}
		c->off += (size_t)n;
	}
	client_close(c);
}

static void
accept_all(void)
{
	int	 fd, i;

	while ((fd = accept4(mt.lfd, NULL, NULL, SOCK_NONBLOCK |
	    SOCK_CLOEXEC)) != -1) {
		for (i = 0; i < MAXCLIENTS && mt.c[i].fd != -1; i++)
			;
		if (i == MAXCLIENTS) {
			close(fd);	/* bounded: busy */
			continue;
		}
		mt.c[i].fd = fd;
		mt.c[i].deadline = now_ms() + CLIENT_MS;
	}
}

/* ---- the thread ---------------------------------------------------------- */

static void *
run(void *arg)
{
	struct pollfd	 pfd[2 + MAXCLIENTS];
	int		 map[2 + MAXCLIENTS], n, i, failing = 0;
	char		 err[320];
	long long	 t;

	(void)arg;
	for (;;) {
		n = 0;
		pfd[n].fd = mt.wake[0];
		pfd[n++].events = POLLIN;
		if (mt.lfd != -1) {
			pfd[n].fd = mt.lfd;
			pfd[n++].events = POLLIN;
		}
		for (i = 0; i < MAXCLIENTS; i++)
			if (mt.c[i].fd != -1) {
				map[n] = i;
				pfd[n].fd = mt.c[i].fd;
				pfd[n++].events = mt.c[i].resp ? POLLOUT :
				    POLLIN;
			}
		(void)poll(pfd, (nfds_t)n, 1000);
		if (pfd[0].revents)
			break;
		if (arc_stats_tick(time(NULL), err, sizeof(err)) != 0) {
			if (!failing)
				mlog(ARC_LOG_ERR, "metrics: %s", err);
			failing = 1;
		} else if (failing) {
			mlog(ARC_LOG_INFO, "metrics: %s written again",
			    "the file is");
			failing = 0;
		}
		for (i = 1 + (mt.lfd != -1); i < n; i++)
			if (pfd[i].revents)
				client_io(&mt.c[map[i]]);
		if (mt.lfd != -1 && pfd[1].revents)
			accept_all();
		t = now_ms();
		for (i = 0; i < MAXCLIENTS; i++)
			if (mt.c[i].fd != -1 && t > mt.c[i].deadline)
				client_close(&mt.c[i]);
	}
	return NULL;
}

void
arc_metrics_stop(void)
{
	if (mt.running) {
		if (write(mt.wake[1], "x", 1) < 0) { /* full: already woken */ }
		pthread_join(mt.thread, NULL);
		mt.running = 0;
	}
	for (int i = 0; mt.inited && i < MAXCLIENTS; i++)
		if (mt.c[i].fd != -1)
			client_close(&mt.c[i]);
	if (mt.lfd != -1)
		close(mt.lfd);
	mt.lfd = -1;
	for (int i = 0; i < 2; i++) {
		if (mt.wake[i] != -1)
			close(mt.wake[i]);
		mt.wake[i] = -1;
	}
}

int
arc_metrics_start(const arc_conf *conf, arc_log_fn fn, void *logarg,
    char *err, size_t errlen)
{
	const char	*listen = arc_conf_get(conf, "metrics-listen");
	sigset_t	 all, old;
	int		 r;

	arc_metrics_stop();
	mt.log_fn = fn;
	mt.log_arg = logarg;
	for (int i = 0; i < MAXCLIENTS; i++) {
		memset(&mt.c[i], 0, sizeof(mt.c[i]));
		mt.c[i].fd = -1;
	}
	mt.inited = 1;
	if (arc_stats_configure(conf, ARC_STATS_REPLACE, err, errlen) != 0)
		return -1;
	if (listen == NULL && arc_conf_get(conf, "metrics-file") == NULL)
		return 0;		/* nothing to do: no thread */
	if (listen != NULL && (mt.lfd = listen_on(listen, err, errlen)) == -1)
		return -1;
	if (pipe2(mt.wake, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "metrics thread: %s", strerror(errno));
		arc_metrics_stop();
		return -1;
	}
	/* signals are the daemon's business (libmilter's signal thread) */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = pthread_create(&mt.thread, NULL, run, NULL);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != 0) {
		snprintf(err, errlen, "metrics thread: %s", strerror(r));
		arc_metrics_stop();
		return -1;
	}
	mt.running = 1;
	return 0;
}
