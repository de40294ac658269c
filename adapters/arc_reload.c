/*
 * arc_reload.c - the live configuration of a process and its reloads.
 * See arc_reload.h for the contract.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "arc_reload.h"

typedef struct override {
	char		*name, *value;
	int		 is_default;	/* only where the file is silent */
	struct override	*next;
} override;

typedef struct retired {
	arc_adapter	*ad;
	struct retired	*next;
} retired;

struct arc_runtime {
	char		*path;
	arc_log_fn	 log_fn;
	void		*log_arg;
	arc_adapter	*cur;
	const arc_conf	*cur_conf;
	override	*overrides, **last_override;
	retired		*retired;
	unsigned	 generation;
};

/* A complete adapter from the file plus the recorded overrides, or NULL
 * with err set; the adapter owns the conf it was built from. */
static arc_adapter *
build(arc_runtime *rt, const arc_conf **confp, char *err, size_t errlen)
{
	arc_conf	*conf;
	arc_adapter	*ad;
	override	*o;
	char		 msg[256];

	if ((conf = arc_conf_load(rt->path, err, errlen)) == NULL)
		return NULL;
	for (o = rt->overrides; o; o = o->next)
		if (!(o->is_default && arc_conf_get(conf, o->name) != NULL) &&
		    arc_conf_set(conf, o->name, o->value, msg,
		    sizeof(msg)) != 0) {
			snprintf(err, errlen, "%s: %s", o->name, msg);
			arc_conf_free(conf);
			return NULL;
		}
	if ((ad = arc_adapter_create(conf, rt->log_fn, rt->log_arg, err,
	    errlen)) == NULL) {
		arc_conf_free(conf);
		return NULL;
	}
	arc_adapter_own_conf(ad, conf);
	*confp = conf;
	return ad;
}

/* Frees the retired adapters no session uses any more. */
static void
sweep(arc_runtime *rt)
{
	retired	**rp = &rt->retired, *r;

	while ((r = *rp) != NULL) {
		if (arc_adapter_sessions(r->ad) == 0) {
			*rp = r->next;
			arc_adapter_free(r->ad);
			free(r);
		} else
			rp = &r->next;
	}
}

arc_runtime *
arc_runtime_create(const char *path, arc_log_fn fn, void *arg, char *err,
    size_t errlen)
{
	arc_runtime	*rt;

	if ((rt = calloc(1, sizeof(*rt))) == NULL ||
	    (path && (rt->path = strdup(path)) == NULL)) {
		snprintf(err, errlen, "out of memory");
		free(rt);
		return NULL;
	}
	rt->log_fn = fn;
	rt->log_arg = arg;
	rt->last_override = &rt->overrides;
	if ((rt->cur = build(rt, &rt->cur_conf, err, errlen)) == NULL) {
		arc_runtime_free(rt);
		return NULL;
	}
	rt->generation = 1;
	return rt;
}

void
arc_runtime_free(arc_runtime *rt)
{
	override	*o, *on;
	retired		*r, *rn;

	if (rt == NULL)
		return;
	for (r = rt->retired; r; r = rn) {
		rn = r->next;
		arc_adapter_free(r->ad);
		free(r);
	}
	for (o = rt->overrides; o; o = on) {
		on = o->next;
		free(o->name);
		free(o->value);
		free(o);
	}
	arc_adapter_free(rt->cur);
	free(rt->path);
	free(rt);
}

/* Applies the override by building a fresh adapter with it, so an
 * option that only the adapter checks (a key path) fails here too. */
static int
add_override(arc_runtime *rt, const char *name, const char *value,
    int is_default, char *err, size_t errlen)
{
	override	*o;
	arc_adapter	*ad;
	const arc_conf	*conf;

	if ((o = calloc(1, sizeof(*o))) == NULL ||
	    (o->name = strdup(name)) == NULL ||
	    (o->value = strdup(value)) == NULL) {
		if (o) {
			free(o->name);
			free(o);
		}
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	o->is_default = is_default;
	*rt->last_override = o;
	if ((ad = build(rt, &conf, err, errlen)) == NULL) {
		*rt->last_override = NULL;
		free(o->name);
		free(o->value);
		free(o);
		return -1;
	}
	rt->last_override = &o->next;
	arc_adapter_free(rt->cur);
	rt->cur = ad;
	rt->cur_conf = conf;
	return 0;
}

int
arc_runtime_set(arc_runtime *rt, const char *name, const char *value,
    char *err, size_t errlen)
{
	return add_override(rt, name, value, 0, err, errlen);
}

int
arc_runtime_set_default(arc_runtime *rt, const char *name,
    const char *value, char *err, size_t errlen)
{
	return add_override(rt, name, value, 1, err, errlen);
}

arc_adapter *
arc_runtime_adapter(arc_runtime *rt)
{
	sweep(rt);
	return rt->cur;
}

const arc_conf *
arc_runtime_conf(arc_runtime *rt)
{
	return rt->cur_conf;
}

const char *
arc_runtime_path(const arc_runtime *rt)
{
	return rt->path;
}

unsigned
arc_runtime_generation(const arc_runtime *rt)
{
	return rt->generation;
}

int
arc_runtime_reload(arc_runtime *rt, char *err, size_t errlen)
{
	arc_adapter	*ad;
	const arc_conf	*conf;
	retired		*r;

	sweep(rt);
	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if ((ad = build(rt, &conf, err, errlen)) == NULL) {
		free(r);
		return -1;
	}
	r->ad = rt->cur;
	r->next = rt->retired;
	rt->retired = r;
	rt->cur = ad;
	rt->cur_conf = conf;
	rt->generation++;
	sweep(rt);
	return 0;
}

size_t
arc_runtime_dns_fds(arc_runtime *rt, int *fds, size_t max)
{
	retired	*r;
	size_t	 n = 0;
	int	 fd;

	sweep(rt);
	if (n < max && (fd = arc_adapter_dns_fd(rt->cur)) >= 0)
		fds[n++] = fd;
	for (r = rt->retired; r && n < max; r = r->next)
		if ((fd = arc_adapter_dns_fd(r->ad)) >= 0)
			fds[n++] = fd;
	return n;
}

void
arc_runtime_dns_process(arc_runtime *rt)
{
	retired	*r, *rn;

	/* a ready callback may free the last session of a retired adapter:
	 * take the next pointer first, sweep afterwards */
	arc_adapter_dns_process(rt->cur);
	for (r = rt->retired; r; r = rn) {
		rn = r->next;
		arc_adapter_dns_process(r->ad);
	}
	sweep(rt);
}
