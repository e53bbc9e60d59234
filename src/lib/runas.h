/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Who a command runs as, and who invoked us: `record --user USER`, sudo's SUDO_UID/SUDO_GID.
 *
 * The lookups run in the parent, before anything is loaded; runas__become and
 * runas__drop_caps run in the child between fork and exec and only make system calls.
 */
#ifndef SLOPROBE_RUNAS_H
#define SLOPROBE_RUNAS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct runas {
	uid_t uid;
	gid_t gid;     /* primary group */
	gid_t *groups; /* supplementary groups, from the group database */
	size_t ngroups;
	char *name; /* NULL when the uid has no passwd entry (sudo only) */
	char *home; /* NULL likewise */
};

/*
 * spec: a user name, or a numeric uid, of the user database (passwd). Fills u with its
 * primary and supplementary groups. 0, -ENOENT no such user, -ENOMEM.
 */
int runas__lookup(struct runas *u, const char *spec);

/*
 * The user sudo runs us for, from SUDO_UID and SUDO_GID (default: the passwd entry's group),
 * when we run as root (the variables mean nothing otherwise: anyone may set them). 1 found,
 * 0 not via sudo or sudo by root, -EINVAL a variable is not a number, -ENOMEM.
 */
int runas__sudo(struct runas *u);

/*
 * In a child of root: become u (groups, gid, uid), with no capabilities (effective,
 * permitted, inheritable, ambient), no_new_privs (setuid programs do not elevate), and
 * HOME, USER and LOGNAME of u when it has a passwd entry. 0 or a negative errno; *step names
 * the call that failed.
 */
int runas__become(const struct runas *u, const char **step);

/* In a child: no capabilities and no_new_privs, same user. 0 or a negative errno, *step. */
int runas__drop_caps(const char **step);

/*
 * Our capabilities out of (on = false) or back into (true) the effective set; they stay
 * permitted. With file capabilities, the files the command line names are then opened with
 * the caller's own rights, not CAP_DAC_READ_SEARCH's. 0 or a negative errno.
 */
int runas__caps_effective(bool on);

void runas__free(struct runas *u);

#endif
