/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The files a process has mapped, from /proc/PID/maps: the libraries and executables the
 * uprobe loaders look for, by device and inode (one file, whatever path or mount namespace
 * names it). The line parser is pure over (pointer, length); the reader takes a procfs root
 * ("/proc" when NULL) so tests can point it at a fixture tree.
 */
#ifndef SLOPROBE_PROC_MAPS_H
#define SLOPROBE_PROC_MAPS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct proc_map {
	uint64_t start, end;
	uint64_t dev; /* major << 32 | minor */
	uint64_t ino;
	bool exec;	  /* mapped executable: where code to probe is */
	const char *path; /* into the parsed line, path_len bytes, not NUL-terminated */
	size_t path_len;
};

/*
 * One maps line, "start-end perms offset major:minor inode path" (no newline needed). 0 for a
 * mapping of a file (an inode and an absolute path); -ENOENT for one of no file (anonymous,
 * [heap], [vdso]); -EINVAL if the line does not parse.
 */
int proc_maps__parse_line(const char *p, size_t n, struct proc_map *m);

/*
 * fn(ctx, m) for each mapping of a file by pid, in address order, m->path NUL-terminated here;
 * stops at a non-zero return of fn and returns it. 0, or -errno (-ENOENT: the process is gone).
 */
int proc_maps__each(const char *procroot, uint32_t pid,
		    int (*fn)(void *ctx, const struct proc_map *m), void *ctx);

/*
 * A value that changes when pid maps or unmaps memory, or is another process: its start time
 * and virtual size from /proc/PID/stat, mixed. 0 if it cannot be read (gone).
 */
uint64_t proc_maps__stamp(const char *procroot, uint32_t pid);

#endif
