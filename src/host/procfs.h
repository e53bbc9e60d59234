/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Access to a procfs root shared by the readers of src/host/ (procinfo.c, proc_net.c,
 * proc_tree.c); not for use outside the folder.
 */
#ifndef SLOPROBE_PROCFS_H
#define SLOPROBE_PROCFS_H

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* procroot ("/proc" when NULL) as a directory fd, or -errno. */
int procfs__open_root(const char *procroot);

/*
 * The whole of path under dirfd in a malloc'd buffer (not NUL-terminated); procfs reports size
 * 0, so it reads until EOF. 0 or -errno.
 */
int procfs__read_at(int dirfd, const char *path, char **out, size_t *outlen);

/* A fresh stream over procroot's entries; procfd stays usable for openat(). NULL sets *err. */
DIR *procfs__open_dir(int procfd, int *err);

/* Directory names of processes: decimal, no leading zero, non-zero. */
bool procfs__pid_of_name(const char *name, uint32_t *pid);

/* Room for element n; returns the possibly moved array, or NULL with arr still valid. */
void *procfs__room_for(void *arr, size_t n, size_t *cap, size_t size);

#endif
