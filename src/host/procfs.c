// SPDX-License-Identifier: GPL-2.0-only
/*
 * Access to a procfs root that the readers of src/host/ share: opening it, reading whole files
 * under it, walking its process directories, and growing the arrays the walks fill. Its own
 * file because procinfo.c, proc_net.c and proc_tree.c all use it.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/procfs.h"
#include "host/scan.h"

/* Whole file; procfs reports size 0, so read until EOF. */
int procfs__read_at(int dirfd, const char *path, char **out, size_t *outlen)
{
	size_t len = 0, cap = 4096;
	char *buf, *tmp;
	int fd, err;

	fd = openat(dirfd, path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	buf = malloc(cap);
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		ssize_t r;

		if (len == cap) {
			tmp = realloc(buf, cap * 2);
			if (!tmp) {
				err = -ENOMEM;
				goto fail;
			}
			buf = tmp;
			cap *= 2;
		}
		r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			goto fail;
		}
		if (!r)
			break;
		len += (size_t)r;
	}
	close(fd);
	*out = buf;
	*outlen = len;
	return 0;
fail:
	close(fd);
	free(buf);
	return err;
}

int procfs__open_root(const char *procroot)
{
	int fd = open(procroot ? procroot : "/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* Directory names of processes: decimal, no leading zero, non-zero. */
bool procfs__pid_of_name(const char *name, uint32_t *pid)
{
	uint64_t v;

	if (name[0] == '0' || !parse_dec(name, strlen(name), UINT32_MAX, &v))
		return false;
	*pid = (uint32_t)v;
	return true;
}

/* Room for element n; returns the possibly moved array, or NULL with arr still valid. */
void *procfs__room_for(void *arr, size_t n, size_t *cap, size_t size)
{
	size_t ncap;
	void *p;

	if (n < *cap)
		return arr;
	ncap = *cap ? *cap * 2 : 16;
	p = reallocarray(arr, ncap, size);
	if (p)
		*cap = ncap;
	return p;
}

/* A fresh stream over procroot's entries; procfd stays usable for openat(). */
DIR *procfs__open_dir(int procfd, int *err)
{
	int fd = openat(procfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d;

	if (fd < 0) {
		*err = -errno;
		return NULL;
	}
	d = fdopendir(fd);
	if (!d) {
		*err = -errno;
		close(fd);
	}
	return d;
}
