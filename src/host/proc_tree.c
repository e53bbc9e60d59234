// SPDX-License-Identifier: GPL-2.0-only
/*
 * The process tree: a process and its descendants, by ppid from every /proc/PID/stat. Its own
 * file because it walks all of procfs for one question that no other reader asks.
 */
#include <dirent.h>
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "host/proc_tree.h"
#include "host/procfs.h"
#include "host/procinfo.h"

struct pp {
	uint32_t pid, ppid;
};

static int cmp_pp(const void *a, const void *b)
{
	const struct pp *x = a, *y = b;

	if (x->ppid != y->ppid)
		return x->ppid < y->ppid ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

int procinfo__descendants(const char *procroot, uint32_t pid, uint32_t **out, size_t *n)
{
	struct pp *procs = NULL;
	uint32_t *res = NULL, *tmpu;
	size_t nprocs = 0, pcap = 0, nres = 0, rcap = 0;
	bool found = false;
	struct dirent *de;
	DIR *d = NULL;
	int procfd, err = 0;

	if (!out || !n)
		return -EINVAL;
	procfd = procfs__open_root(procroot);
	if (procfd < 0)
		return procfd;
	d = procfs__open_dir(procfd, &err);
	if (!d)
		goto cleanup;
	for (errno = 0; (de = readdir(d)); errno = 0) {
		struct procinfo pi;
		struct pp *tmp;
		char path[32], *buf;
		size_t len;
		uint32_t p;
		int r;

		if (!procfs__pid_of_name(de->d_name, &p))
			continue;
		snprintf(path, sizeof(path), "%u/stat", p);
		/* Processes that exit while we walk are simply not there. */
		if (procfs__read_at(procfd, path, &buf, &len))
			continue;
		r = procinfo__parse_stat(buf, len, &pi);
		free(buf);
		if (r)
			continue;
		tmp = procfs__room_for(procs, nprocs, &pcap, sizeof(*procs));
		if (!tmp) {
			err = -ENOMEM;
			goto cleanup;
		}
		procs = tmp;
		/* The directory name, not the stat field, keeps entries unique. */
		procs[nprocs++] = (struct pp){ .pid = p, .ppid = pi.ppid };
		found |= p == pid;
	}
	if (errno) {
		err = -errno;
		goto cleanup;
	}
	if (!found) {
		err = -ENOENT;
		goto cleanup;
	}
	if (nprocs)
		qsort(procs, nprocs, sizeof(*procs), cmp_pp);

	res = malloc(sizeof(*res));
	if (!res) {
		err = -ENOMEM;
		goto cleanup;
	}
	rcap = 1;
	res[nres++] = pid;
	/* Breadth first; res doubles as the queue. */
	for (size_t q = 0; q < nres; q++) {
		size_t lo = 0, hi = nprocs;

		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (procs[mid].ppid < res[q])
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < nprocs && procs[lo].ppid == res[q]; lo++) {
			/* Only a forged tree has a cycle back to the root; do not loop on it. */
			if (procs[lo].pid == pid)
				continue;
			tmpu = procfs__room_for(res, nres, &rcap, sizeof(*res));
			if (!tmpu) {
				err = -ENOMEM;
				goto cleanup;
			}
			res = tmpu;
			res[nres++] = procs[lo].pid;
		}
	}
	qsort(res + 1, nres - 1, sizeof(*res), cmp_u32);
cleanup:
	if (d)
		closedir(d);
	close(procfd);
	free(procs);
	if (err) {
		free(res);
	} else {
		*out = res;
		*n = nres;
	}
	return err;
}
