/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * One process's facts from /proc/PID/{stat,cgroup}.
 *
 * The parsers (procinfo__parse_cgroup, __parse_stat) are pure functions over (pointer, length)
 * input that need not be NUL-terminated. The readers take a procfs root ("/proc" when NULL) so
 * tests can point them at a fixture tree. Sockets are in host/proc_net.h, the process tree in
 * host/proc_tree.h, the container grammar in host/container.h.
 */
#ifndef SLOPROBE_PROCINFO_H
#define SLOPROBE_PROCINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "host/container.h"

#define PROCINFO_CGROUP_MAX 256

struct procinfo {
	uint32_t pid;
	uint32_t ppid;
	char comm[16]; /* from /proc/PID/stat, NUL-terminated */
	/*
	 * The cgroup v2 path (the "0::" line), e.g. "/system.slice/docker-<id>.scope"; with only
	 * v1 lines, the path of the first line whose controllers include "pids", "memory" or
	 * "name=systemd", else of the first line. Longer paths are truncated.
	 */
	char cgroup[PROCINFO_CGROUP_MAX];
	char container[PROCINFO_ID_MAX]; /* full container id or "" */
	/* "docker", "containerd", "cri-o", "podman", "kubepods", "lxc", "cgroup" or "" */
	char runtime[16];
	uint64_t start_ticks; /* stat field 22, clock ticks after boot */
};

/*
 * Parse /proc/PID/cgroup contents (lines "hierarchy-ID:controllers:path"). Fills cgroup,
 * container and runtime. The container comes from the chosen cgroup path or, failing that, from
 * the first other line that names one (hybrid hosts often leave the v2 path at "/"). A trailing
 * " (deleted)" (v2 cgroup removed under a zombie) is dropped. 0, or -EINVAL when no line parses
 * (pi is then left untouched).
 */
int procinfo__parse_cgroup(const char *buf, size_t len, struct procinfo *pi);

/*
 * Parse /proc/PID/stat contents: "pid (comm) state ppid ...". comm may contain spaces and ')':
 * it ends at the LAST ')'. Fills pid, comm (truncated to 15 bytes), ppid and start_ticks.
 * 0, or -EINVAL (pi is then left untouched).
 */
int procinfo__parse_stat(const char *buf, size_t len, struct procinfo *pi);

/*
 * Read /proc/PID/{stat,cgroup} under procroot ("/proc" when NULL); all fields are set. A missing
 * or empty cgroup file (kernel without cgroups) leaves cgroup, container and runtime "".
 * 0, -ENOENT if the process is gone, other -errno.
 */
int procinfo__read(const char *procroot, uint32_t pid, struct procinfo *pi);
bool procinfo__exists(const char *procroot, uint32_t pid);

#endif
