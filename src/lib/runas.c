// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "lib/runas.h"

static int parse_id(const char *s, unsigned long *out)
{
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*out = strtoul(s, &end, 10);
	/* (uid_t)-1 means "unchanged" to the set*id calls: never a user. */
	if (errno || *end || *out >= (uid_t)-1)
		return -EINVAL;
	return 0;
}

static int fill_groups(struct runas *u)
{
	int n = 32;

	for (;;) {
		gid_t *g = realloc(u->groups, n * sizeof(*g));
		int want = n;

		if (!g)
			return -ENOMEM;
		u->groups = g;
		if (getgrouplist(u->name, u->gid, g, &want) >= 0) {
			u->ngroups = want;
			return 0;
		}
		if (want <= n)
			want = n * 2;
		if (want > 65536)
			return -E2BIG;
		n = want;
	}
}

static int from_passwd(struct runas *u, const struct passwd *pw, gid_t gid)
{
	u->uid = pw->pw_uid;
	u->gid = gid;
	u->name = strdup(pw->pw_name);
	u->home = strdup(pw->pw_dir);
	if (!u->name || !u->home)
		return -ENOMEM;
	return fill_groups(u);
}

int runas__lookup(struct runas *u, const char *spec)
{
	struct passwd *pw;
	unsigned long id;
	int err;

	memset(u, 0, sizeof(*u));
	errno = 0;
	pw = parse_id(spec, &id) ? getpwnam(spec) : getpwuid(id);
	if (!pw)
		return errno == ENOMEM ? -ENOMEM : -ENOENT;
	err = from_passwd(u, pw, pw->pw_gid);
	if (err)
		runas__free(u);
	return err;
}

int runas__sudo(struct runas *u)
{
	const char *su = getenv("SUDO_UID"), *sg = getenv("SUDO_GID");
	unsigned long uid, gid;
	struct passwd *pw;
	int err;

	memset(u, 0, sizeof(*u));
	if (!su || getuid() || geteuid())
		return 0;
	if (parse_id(su, &uid) || (sg && parse_id(sg, &gid)))
		return -EINVAL;
	if (!uid)
		return 0;
	pw = getpwuid(uid);
	if (!sg) {
		if (!pw)
			return -EINVAL;
		gid = pw->pw_gid;
	}
	if (pw)
		err = from_passwd(u, pw, gid);
	else {
		/* A uid without a name (a container's user): no supplementary groups. */
		u->uid = uid;
		u->gid = gid;
		err = 0;
	}
	if (err) {
		runas__free(u);
		return err;
	}
	return 1;
}

static int caps_clear(const char **step)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	*step = "capset";
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	/* Ambient capabilities would survive exec; EINVAL: a kernel without them (< 4.3). */
	*step = "prctl(PR_CAP_AMBIENT)";
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		return -errno;
	*step = "prctl(PR_SET_NO_NEW_PRIVS)";
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	return 0;
}

int runas__become(const struct runas *u, const char **step)
{
	uid_t r, e, s;

	*step = "setgroups";
	if (setgroups(u->ngroups, u->groups))
		return -errno;
	*step = "setgid";
	if (setresgid(u->gid, u->gid, u->gid))
		return -errno;
	*step = "setuid";
	if (setresuid(u->uid, u->uid, u->uid))
		return -errno;
	if (getresuid(&r, &e, &s) || r != u->uid || e != u->uid || s != u->uid)
		return -EPERM;
	if (u->name) {
		*step = "setenv";
		if (setenv("HOME", u->home, 1) || setenv("USER", u->name, 1) ||
		    setenv("LOGNAME", u->name, 1))
			return -errno;
	}
	return caps_clear(step);
}

int runas__drop_caps(const char **step)
{
	return caps_clear(step);
}

int runas__caps_effective(bool on)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3 };
	struct __user_cap_data_struct data[2] = {};

	if (syscall(SYS_capget, &hdr, data))
		return -errno;
	for (int i = 0; i < 2; i++)
		data[i].effective = on ? data[i].permitted : 0;
	if (syscall(SYS_capset, &hdr, data))
		return -errno;
	return 0;
}

void runas__free(struct runas *u)
{
	free(u->groups);
	free(u->name);
	free(u->home);
	memset(u, 0, sizeof(*u));
}
