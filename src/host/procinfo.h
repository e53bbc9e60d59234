/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Process, container and listening-socket facts from procfs.
 *
 * The parsers (procinfo__container_of, __parse_cgroup, __parse_stat, __parse_tcp_line) are pure
 * functions over (pointer, length) input that need not be NUL-terminated. The readers take a
 * procfs root ("/proc" when NULL) so tests can point them at a fixture tree.
 */
#ifndef SLOPROBE_PROCINFO_H
#define SLOPROBE_PROCINFO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PROCINFO_CGROUP_MAX 256
#define PROCINFO_ID_MAX	    72

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

struct procinfo_sock {
	uint8_t family;	   /* 2 = AF_INET or 10 = AF_INET6 */
	uint8_t state;	   /* TCP state number as in /proc/net/tcp (0x0A = LISTEN) */
	uint8_t laddr[16]; /* network byte order; IPv4 in the first 4 bytes */
	uint8_t raddr[16];
	uint16_t lport, rport; /* host order */
	uint64_t inode;
};

/*
 * One line of /proc/net/tcp or tcp6. The kernel prints addresses as hex of the in-memory u32
 * words (little-endian words on x86: "0100007F:1F90" is 127.0.0.1:8080; tcp6 addresses are four
 * such words). A trailing newline is allowed. Returns 1 for a socket line, 0 for the header
 * line, -EINVAL for garbage (including an empty line) or bad args.
 */
int procinfo__parse_tcp_line(const char *line, size_t len, bool v6, struct procinfo_sock *s);

struct procinfo_listener {
	uint16_t port;
	uint8_t family;
	uint8_t laddr[16];
	/* one entry per (socket, pid): a socket shared by several workers yields several entries */
	uint32_t pid;
	char comm[16];
};

/*
 * Every TCP listening socket of procroot/net/tcp and tcp6 (a missing tcp6 is skipped) with the
 * processes holding it, found through procroot/[0-9]+/fd/ links to "socket:[inode]". Sockets
 * whose owner cannot be found (or whose fds we may not read) come with pid 0 and comm "".
 * Sorted by port, family, address, pid. Caller frees *out (NULL when *n is 0). 0 or -errno.
 */
int procinfo__listeners(const char *procroot, struct procinfo_listener **out, size_t *n);

/*
 * pid and all its descendant processes (by ppid from procroot/[0-9]+/stat; threads are not
 * listed). out[0] is pid, the rest ascend. Caller frees *out. 0, -ENOENT if pid is not a
 * listed process, -errno.
 */
/*
 * Processes holding an established TCP connection to one of rports (e.g. database clients
 * whose pooled connections predate the trace), each once, in /proc order. Caller frees *out.
 */
int procinfo__clients_of(const char *procroot, const uint16_t *rports, size_t nrports,
			 uint32_t **out, size_t *n);
int procinfo__descendants(const char *procroot, uint32_t pid, uint32_t **out, size_t *n);

#endif
