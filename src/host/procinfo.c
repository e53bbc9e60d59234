// SPDX-License-Identifier: GPL-2.0-only
/*
 * One process's facts from /proc/PID: the cgroup and stat parsers and the reader that holds
 * the process directory while it reads both. Its own file because the callers that look up one
 * process (the tracker, the DB probes) need nothing else of procfs.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "host/container.h"
#include "host/procfs.h"
#include "host/procinfo.h"
#include "host/scan.h"

struct cg_line {
	const char *ctl, *path;
	size_t ctllen, pathlen;
	bool v2;
};

static bool cg_line_parse(const char *l, size_t n, struct cg_line *cl)
{
	const char *end = l + n, *c1, *c2;

	c1 = memchr(l, ':', n);
	if (!c1 || c1 == l)
		return false;
	for (const char *q = l; q < c1; q++)
		if (!is_digit(*q))
			return false;
	/* Paths may contain ':' (containerd's "slice:prefix:id"), controllers never do. */
	c2 = memchr(c1 + 1, ':', end - c1 - 1);
	if (!c2 || c2 + 1 >= end || c2[1] != '/')
		return false;
	cl->ctl = c1 + 1;
	cl->ctllen = c2 - cl->ctl;
	cl->path = c2 + 1;
	cl->pathlen = end - cl->path;
	cl->v2 = c1 - l == 1 && l[0] == '0' && !cl->ctllen;
	/* The kernel marks a removed v2 cgroup still referenced by a zombie; the path is intact. */
	if (cl->v2 && has_suffix(cl->path, cl->pathlen, " (deleted)") && cl->pathlen > 10)
		cl->pathlen -= 10;
	return true;
}

static bool ctl_has(const char *ctl, size_t n, const char *name)
{
	const char *p = ctl, *end = ctl + n;

	while (p < end) {
		const char *comma = memchr(p, ',', end - p), *e = comma ? comma : end;

		if (mem_eq(p, e - p, name))
			return true;
		p = comma ? comma + 1 : end;
	}
	return false;
}

/* Calls fn for each parsable line; stops early when fn returns true. */
static bool cg_each(const char *buf, size_t len, bool (*fn)(const struct cg_line *, void *),
		    void *arg)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', end - p), *e = nl ? nl : end;
		struct cg_line cl;

		if (cg_line_parse(p, e - p, &cl) && fn(&cl, arg))
			return true;
		p = nl ? nl + 1 : end;
	}
	return false;
}

struct cg_pick {
	struct cg_line v2, pref, first;
	bool has_v2, has_pref, has_first;
};

static bool cg_pick_fn(const struct cg_line *cl, void *arg)
{
	struct cg_pick *pk = arg;

	if (!pk->has_first) {
		pk->first = *cl;
		pk->has_first = true;
	}
	if (cl->v2 && !pk->has_v2) {
		pk->v2 = *cl;
		pk->has_v2 = true;
	}
	if (!cl->v2 && !pk->has_pref &&
	    (ctl_has(cl->ctl, cl->ctllen, "pids") || ctl_has(cl->ctl, cl->ctllen, "memory") ||
	     ctl_has(cl->ctl, cl->ctllen, "name=systemd"))) {
		pk->pref = *cl;
		pk->has_pref = true;
	}
	return false;
}

struct cg_find {
	char id[PROCINFO_ID_MAX];
	char runtime[16];
};

static bool cg_find_fn(const struct cg_line *cl, void *arg)
{
	struct cg_find *f = arg;

	return procinfo__container_of(cl->path, cl->pathlen, f->id, f->runtime) == 1;
}

int procinfo__parse_cgroup(const char *buf, size_t len, struct procinfo *pi)
{
	struct cg_pick pk = { 0 };
	struct cg_find f;
	const struct cg_line *cl;
	size_t n;

	if (!buf || !pi)
		return -EINVAL;
	cg_each(buf, len, cg_pick_fn, &pk);
	if (!pk.has_first)
		return -EINVAL;
	cl = pk.has_v2 ? &pk.v2 : pk.has_pref ? &pk.pref : &pk.first;
	/*
	 * Hybrid hosts leave the v2 path at "/" when the runtime only manages v1 hierarchies, so
	 * any line naming a container beats none.
	 */
	if (procinfo__container_of(cl->path, cl->pathlen, f.id, f.runtime) != 1 &&
	    !cg_each(buf, len, cg_find_fn, &f)) {
		f.id[0] = '\0';
		f.runtime[0] = '\0';
	}
	n = cl->pathlen < PROCINFO_CGROUP_MAX ? cl->pathlen : PROCINFO_CGROUP_MAX - 1;
	memcpy(pi->cgroup, cl->path, n);
	pi->cgroup[n] = '\0';
	memcpy(pi->container, f.id, sizeof(pi->container));
	memcpy(pi->runtime, f.runtime, sizeof(pi->runtime));
	return 0;
}

/* Next space-separated stat field; the kernel separates them by exactly one space. */
static bool stat_field(const char **p, const char *end, const char **tok, size_t *n)
{
	const char *q = *p;

	if (q >= end || *q != ' ')
		return false;
	*tok = ++q;
	while (q < end && !is_space(*q))
		q++;
	*n = q - *tok;
	*p = q;
	return *n > 0;
}

int procinfo__parse_stat(const char *buf, size_t len, struct procinfo *pi)
{
	const char *end = buf + len, *sp, *open, *close, *p, *tok;
	uint64_t pid, ppid, start;
	size_t n, commlen;

	if (!buf || !pi)
		return -EINVAL;
	sp = memchr(buf, ' ', len);
	if (!sp || !parse_dec(buf, sp - buf, UINT32_MAX, &pid) || end - sp < 2 || sp[1] != '(')
		return -EINVAL;
	open = sp + 2;
	/* comm is free text, but every field after it is numeric or a state letter */
	close = memrchr(open, ')', end - open);
	if (!close)
		return -EINVAL;
	p = close + 1;
	if (!stat_field(&p, end, &tok, &n) || n != 1) /* 3: state */
		return -EINVAL;
	if (!stat_field(&p, end, &tok, &n) || !parse_dec(tok, n, UINT32_MAX, &ppid)) /* 4 */
		return -EINVAL;
	for (int field = 5; field < 22; field++)
		if (!stat_field(&p, end, &tok, &n))
			return -EINVAL;
	if (!stat_field(&p, end, &tok, &n) || !parse_dec(tok, n, UINT64_MAX, &start)) /* 22 */
		return -EINVAL;

	commlen = close - open;
	if (commlen > sizeof(pi->comm) - 1)
		commlen = sizeof(pi->comm) - 1;
	pi->pid = (uint32_t)pid;
	pi->ppid = (uint32_t)ppid;
	memcpy(pi->comm, open, commlen);
	pi->comm[commlen] = '\0';
	pi->start_ticks = start;
	return 0;
}

int procinfo__read(const char *procroot, uint32_t pid, struct procinfo *pi)
{
	struct procinfo r = { 0 };
	char name[16], *buf = NULL;
	size_t len;
	int procfd, pidfd = -1, err;
	struct stat st;

	if (!pi)
		return -EINVAL;
	procfd = procfs__open_root(procroot);
	if (procfd < 0)
		return procfd;
	snprintf(name, sizeof(name), "%u", pid);
	/*
	 * Hold the process directory: once it is open, a pid reused by another process cannot
	 * slip in between reading stat and cgroup.
	 */
	pidfd = openat(procfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (pidfd < 0) {
		err = -errno;
		goto cleanup;
	}
	err = procfs__read_at(pidfd, "stat", &buf, &len);
	if (err)
		goto cleanup;
	err = procinfo__parse_stat(buf, len, &r);
	if (err)
		goto cleanup;
	free(buf);
	buf = NULL;
	err = procfs__read_at(pidfd, "cgroup", &buf, &len);
	if (err == -ENOENT && !fstatat(pidfd, "stat", &st, 0)) {
		/* No cgroup file while the process is still there: a kernel without cgroups. */
		err = 0;
	} else if (!err && len) {
		err = procinfo__parse_cgroup(buf, len, &r);
	}
	if (err)
		goto cleanup;
	*pi = r;
cleanup:
	/* A task reaped after we opened its directory reads as ESRCH. */
	if (err == -ESRCH)
		err = -ENOENT;
	free(buf);
	if (pidfd >= 0)
		close(pidfd);
	close(procfd);
	return err;
}

bool procinfo__exists(const char *procroot, uint32_t pid)
{
	char path[4096];
	struct stat st;
	int n;

	if (!pid)
		return false;
	n = snprintf(path, sizeof(path), "%s/%u", procroot ? procroot : "/proc", pid);
	if (n < 0 || (size_t)n >= sizeof(path))
		return false;
	return !stat(path, &st) && S_ISDIR(st.st_mode);
}
