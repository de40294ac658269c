/*
 * arc_check.h - run as, and check a configuration as, the user an adapter
 * runs as: the check an operator runs must open what the adapter opens,
 * with the rights it will have.
 *
 * Contract:
 *  - arc_become("user[:group]"): as root, setgid (the group, else the
 *    user's own), initgroups (the user's supplementary groups), setuid;
 *    the order matters and every step is checked.  Not root: succeeds
 *    only if the process already is that user (and group), so that a
 *    check never pretends to be someone it is not.  -1 with err.
 *  - arc_check_config(path, user, ...): loads path and builds the adapter
 *    from it (every key, key table and trust anchor it names is opened)
 *    as that user: when root and user is given, in a forked child that
 *    became the user (this process stays root); otherwise in this
 *    process, as whoever runs it.  0: usable; -1: not, with msg
 *    "file:line: reason".  Either way who= says who it was checked as
 *    ("user postfix (uid 107, gid 113)").  Call it before any thread
 *    exists (it forks).
 */
#ifndef ARC_CHECK_H
#define ARC_CHECK_H

#include <stddef.h>

int	 arc_become(const char *spec, char *err, size_t errlen);
int	 arc_check_config(const char *path, const char *user, char *msg,
	    size_t msglen, char *who, size_t wholen);

#endif
