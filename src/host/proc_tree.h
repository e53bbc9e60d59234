/* SPDX-License-Identifier: GPL-2.0-only */
/* The process tree under a procfs root ("/proc" when NULL). */
#ifndef SLOPROBE_PROC_TREE_H
#define SLOPROBE_PROC_TREE_H

#include <stddef.h>
#include <stdint.h>

/*
 * pid and all its descendant processes (by ppid from procroot/[0-9]+/stat; threads are not
 * listed). out[0] is pid, the rest ascend. Caller frees *out. 0, -ENOENT if pid is not a
 * listed process, -errno.
 */
int procinfo__descendants(const char *procroot, uint32_t pid, uint32_t **out, size_t *n);

#endif
