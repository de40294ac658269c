/*
 * arc_reload.h - a process's live configuration: the adapter built from
 * arc.conf, swapped for a new one on reload, and the retired ones kept
 * until their last session is freed.
 *
 * Contract:
 *  - arc_runtime_create() loads the file (NULL: defaults only) and builds
 *    the first adapter; arc_runtime_set() records an override (a line
 *    "name value" that wins over the file) and applies it at once and on
 *    every later reload; arc_runtime_set_default() the same, but only
 *    for a file that does not set the option (re-checked on every
 *    reload).  Overrides must come before sessions exist.
 *  - New sessions are created on arc_runtime_adapter().  A session keeps
 *    the adapter it was created on: a message in flight during a reload
 *    finishes with the old keys, the next one uses the new.
 *  - arc_runtime_reload() re-reads the file and builds a complete new
 *    adapter (keys, tables, resolver).  On any error the old adapter
 *    stays in use and err says why ("file:line: ..."); nothing changes.
 *    It is not async-signal-safe: a signal handler sets a flag, the main
 *    loop calls it.
 *  - Retired adapters are freed as soon as their last session is gone,
 *    checked by every call here; event loops wait on all the DNS
 *    descriptors arc_runtime_dns_fds() gives.
 *  - Not thread-safe: serialize calls with the adapter's own lock.
 */
#ifndef ARC_RELOAD_H
#define ARC_RELOAD_H

#include <stddef.h>

#include "arc_adapter.h"

typedef struct arc_runtime arc_runtime;

arc_runtime	*arc_runtime_create(const char *conf_path, arc_log_fn,
		    void *logarg, char *err, size_t errlen);
void		 arc_runtime_free(arc_runtime *);
int		 arc_runtime_set(arc_runtime *, const char *name,
		    const char *value, char *err, size_t errlen);
int		 arc_runtime_set_default(arc_runtime *, const char *name,
		    const char *value, char *err, size_t errlen);
arc_adapter	*arc_runtime_adapter(arc_runtime *);
const arc_conf	*arc_runtime_conf(arc_runtime *);
const char	*arc_runtime_path(const arc_runtime *);
int		 arc_runtime_reload(arc_runtime *, char *err, size_t errlen);
size_t		 arc_runtime_dns_fds(arc_runtime *, int *fds, size_t max);
void		 arc_runtime_dns_process(arc_runtime *);
/* 1 after create, +1 for each reload that took effect */
unsigned	 arc_runtime_generation(const arc_runtime *);

#endif
