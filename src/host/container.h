/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which container one cgroup path names. A pure parser over (pointer, length) input that need
 * not be NUL-terminated.
 */
#ifndef SLOPROBE_CONTAINER_H
#define SLOPROBE_CONTAINER_H

#include <stddef.h>

#define PROCINFO_ID_MAX 72

/*
 * Container id from one cgroup path. Ids are 64 lowercase hex digits unless stated; the last
 * match along the path wins, so a nested container reports the innermost one.
 *
 *   /docker/<id>, docker-<id>.scope                        -> "docker"
 *   cri-containerd-<id>.scope, ...slice:cri-containerd:<id> -> "containerd"
 *   crio-<id>.scope (crio-conmon-<id>.scope is not a container) -> "cri-o"
 *   libpod-<id>.scope, libpod-<id> (not libpod-conmon-)     -> "podman"
 *   <id> below a kubepods* segment (cgroupfs driver)        -> "kubepods"
 *   /lxc/<name>, /lxc.payload/<name>, /lxc.payload.<name>   -> "lxc", id = name
 *     (name: [A-Za-z0-9_.-]{1,64}; lxc.monitor.<name> is not a container)
 *   any other <id> segment (a hand-made cgroup)             -> "cgroup"
 *
 * Returns 1 and fills id and runtime when found; 0 (both set to "") if not a container path;
 * -EINVAL on bad args.
 */
int procinfo__container_of(const char *path, size_t len, char id[PROCINFO_ID_MAX],
			   char runtime[16]);

#endif
