// SPDX-License-Identifier: GPL-2.0-only
/*
 * TCP sockets and the processes holding them: the /proc/net/tcp line parser, then a scan of
 * every process's fds for the sockets it selects (listeners, or connections to given ports).
 * Its own file because the socket-to-process join is a job of its own, apart from one
 * process's facts and the process tree.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "host/proc_net.h"
#include "host/procfs.h"
#include "host/procinfo.h"
#include "host/scan.h"

#define TCP_ESTABLISHED 0x01
#define TCP_LISTEN	0x0A

/* "hex:hex" as in tx_queue:rx_queue and tr:tm->when */
static bool is_hex_pair(const char *p, size_t n)
{
	const char *c = memchr(p, ':', n);
	uint64_t v;

	return c && parse_hex(p, c - p, &v) && parse_hex(c + 1, p + n - c - 1, &v);
}

static bool parse_addr(const char *p, size_t n, bool v6, uint8_t addr[16], uint16_t *port)
{
	size_t words = v6 ? 4 : 1;
	uint64_t v;

	if (n != words * 8 + 5 || p[words * 8] != ':')
		return false;
	for (size_t i = 0; i < words; i++) {
		uint32_t w;

		if (!parse_hex(p + i * 8, 8, &v))
			return false;
		/*
		 * The kernel printed each in-memory word as a host integer; storing the integer
		 * back yields the original (network order) bytes whatever the endianness.
		 */
		w = (uint32_t)v;
		memcpy(addr + i * 4, &w, sizeof(w));
	}
	if (!parse_hex(p + words * 8 + 1, 4, &v))
		return false;
	*port = (uint16_t)v;
	return true;
}

int procinfo__parse_tcp_line(const char *line, size_t len, bool v6, struct procinfo_sock *s)
{
	enum {
		T_SL,
		T_LOCAL,
		T_REMOTE,
		T_ST,
		T_QUEUE,
		T_TIMER,
		T_RETR,
		T_UID,
		T_TIMEOUT,
		T_INODE,
		T_N
	};
	const char *tok[T_N], *p, *end;
	size_t tn[T_N], ntok = 0;
	struct procinfo_sock r = { 0 };
	uint64_t v;

	if (!line || !s)
		return -EINVAL;
	for (p = line, end = line + len; p < end && ntok < T_N;) {
		while (p < end && is_space(*p))
			p++;
		if (p == end)
			break;
		tok[ntok] = p;
		while (p < end && !is_space(*p))
			p++;
		tn[ntok] = p - tok[ntok];
		ntok++;
	}
	if (ntok && mem_eq(tok[T_SL], tn[T_SL], "sl"))
		return 0;
	if (ntok < T_N)
		return -EINVAL;
	if (tn[T_SL] < 2 || tok[T_SL][tn[T_SL] - 1] != ':' ||
	    !parse_dec(tok[T_SL], tn[T_SL] - 1, UINT64_MAX, &v))
		return -EINVAL;
	if (!parse_addr(tok[T_LOCAL], tn[T_LOCAL], v6, r.laddr, &r.lport) ||
	    !parse_addr(tok[T_REMOTE], tn[T_REMOTE], v6, r.raddr, &r.rport))
		return -EINVAL;
	if (tn[T_ST] != 2 || !parse_hex(tok[T_ST], 2, &v))
		return -EINVAL;
	r.state = (uint8_t)v;
	if (!is_hex_pair(tok[T_QUEUE], tn[T_QUEUE]) || !is_hex_pair(tok[T_TIMER], tn[T_TIMER]) ||
	    !parse_hex(tok[T_RETR], tn[T_RETR], &v) ||
	    !parse_dec(tok[T_UID], tn[T_UID], UINT32_MAX, &v))
		return -EINVAL;
	/* probes_out is printed with %d */
	if (tn[T_TIMEOUT] > 1 && tok[T_TIMEOUT][0] == '-') {
		if (!parse_dec(tok[T_TIMEOUT] + 1, tn[T_TIMEOUT] - 1, UINT32_MAX, &v))
			return -EINVAL;
	} else if (!parse_dec(tok[T_TIMEOUT], tn[T_TIMEOUT], UINT32_MAX, &v)) {
		return -EINVAL;
	}
	if (!parse_dec(tok[T_INODE], tn[T_INODE], UINT64_MAX, &r.inode))
		return -EINVAL;
	r.family = v6 ? 10 : 2;
	*s = r;
	return 1;
}

struct lsock {
	uint64_t inode;
	struct procinfo_listener l;
};

struct lowner {
	size_t sock; /* index into the inode-sorted socket array */
	uint32_t pid;
	char comm[16];
};

static int cmp_lsock_inode(const void *a, const void *b)
{
	const struct lsock *x = a, *y = b;

	return x->inode < y->inode ? -1 : x->inode > y->inode;
}

static int cmp_lowner(const void *a, const void *b)
{
	const struct lowner *x = a, *y = b;

	if (x->sock != y->sock)
		return x->sock < y->sock ? -1 : 1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int cmp_listener(const void *a, const void *b)
{
	const struct procinfo_listener *x = a, *y = b;
	int c;

	if (x->port != y->port)
		return x->port < y->port ? -1 : 1;
	if (x->family != y->family)
		return x->family < y->family ? -1 : 1;
	c = memcmp(x->laddr, y->laddr, sizeof(x->laddr));
	if (c)
		return c;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static bool port_in(uint16_t port, const uint16_t *ports, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (ports[i] == port)
			return true;
	return false;
}

/* Listening sockets, or with nrports, established connections to one of rports. */
static int collect_socks(int procfd, const uint16_t *rports, size_t nrports, struct lsock **socks,
			 size_t *nsocks, size_t *cap)
{
	static const char *const files[] = { "net/tcp", "net/tcp6" };
	int missing = 0;

	for (size_t f = 0; f < 2; f++) {
		const char *p, *end;
		char *buf;
		size_t len;
		int err = procfs__read_at(procfd, files[f], &buf, &len);

		/* tcp6 is absent when IPv6 is disabled */
		if (err == -ENOENT) {
			missing++;
			continue;
		}
		if (err)
			return err;
		for (p = buf, end = buf + len; p < end;) {
			const char *nl = memchr(p, '\n', end - p), *e = nl ? nl : end;
			struct procinfo_sock s;
			struct lsock *ls, *tmp;

			if (procinfo__parse_tcp_line(p, e - p, f == 1, &s) == 1 &&
			    (nrports ? s.state == TCP_ESTABLISHED &&
					       port_in(s.rport, rports, nrports)
				     : s.state == TCP_LISTEN)) {
				tmp = procfs__room_for(*socks, *nsocks, cap, sizeof(**socks));
				if (!tmp) {
					free(buf);
					return -ENOMEM;
				}
				*socks = tmp;
				ls = &(*socks)[(*nsocks)++];
				memset(ls, 0, sizeof(*ls));
				ls->inode = s.inode;
				ls->l.port = s.lport;
				ls->l.family = s.family;
				memcpy(ls->l.laddr, s.laddr, sizeof(ls->l.laddr));
			}
			p = nl ? nl + 1 : end;
		}
		free(buf);
	}
	return missing == 2 ? -ENOENT : 0;
}

/* "socket:[12345]" -> 12345 */
static bool socket_inode(const char *link, size_t n, uint64_t *inode)
{
	return has_prefix(link, n, "socket:[") && n > 9 && link[n - 1] == ']' &&
	       parse_dec(link + 8, n - 9, UINT64_MAX, inode);
}

/* Appends an owner for every fd of pid that refers to one of socks. */
static int scan_fds(int procfd, uint32_t pid, const struct lsock *socks, size_t nsocks,
		    struct lowner **owners, size_t *nowners, size_t *cap)
{
	char path[32], link[64];
	size_t first = *nowners;
	struct dirent *de;
	DIR *d;
	int fd;

	snprintf(path, sizeof(path), "%u/fd", pid);
	fd = openat(procfd, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	/* Gone, or not ours to look at without root: the socket keeps pid 0. */
	if (fd < 0)
		return 0;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return 0;
	}
	while ((de = readdir(d))) {
		struct lsock key, *hit;
		struct lowner *o, *tmp;
		ssize_t n;

		n = readlinkat(dirfd(d), de->d_name, link, sizeof(link));
		if (n <= 0 || (size_t)n == sizeof(link) || !socket_inode(link, n, &key.inode) ||
		    !key.inode)
			continue;
		hit = bsearch(&key, socks, nsocks, sizeof(*socks), cmp_lsock_inode);
		if (!hit)
			continue;
		tmp = procfs__room_for(*owners, *nowners, cap, sizeof(**owners));
		if (!tmp) {
			closedir(d);
			return -ENOMEM;
		}
		*owners = tmp;
		o = &(*owners)[(*nowners)++];
		memset(o, 0, sizeof(*o));
		o->sock = hit - socks;
		o->pid = pid;
	}
	closedir(d);

	if (*nowners > first) {
		struct procinfo pi;
		char *buf;
		size_t len;

		snprintf(path, sizeof(path), "%u/stat", pid);
		if (!procfs__read_at(procfd, path, &buf, &len)) {
			if (!procinfo__parse_stat(buf, len, &pi))
				for (size_t i = first; i < *nowners; i++)
					memcpy((*owners)[i].comm, pi.comm, sizeof(pi.comm));
			free(buf);
		}
	}
	return 0;
}

/*
 * The sockets collect_socks() selects, sorted by inode, and every (socket, pid) that holds
 * one, in /proc order. The caller frees both arrays, also on error.
 */
static int find_owners(int procfd, const uint16_t *rports, size_t nrports, struct lsock **socks,
		       size_t *nsocks, struct lowner **owners, size_t *nowners)
{
	size_t scap = 0, ocap = 0;
	struct dirent *de;
	DIR *d;
	int err;

	err = collect_socks(procfd, rports, nrports, socks, nsocks, &scap);
	if (err || !*nsocks)
		return err;
	qsort(*socks, *nsocks, sizeof(**socks), cmp_lsock_inode);
	d = procfs__open_dir(procfd, &err);
	if (!d)
		return err;
	for (errno = 0; (de = readdir(d)); errno = 0) {
		uint32_t pid;

		if (!procfs__pid_of_name(de->d_name, &pid))
			continue;
		err = scan_fds(procfd, pid, *socks, *nsocks, owners, nowners, &ocap);
		if (err)
			break;
	}
	if (!err && errno)
		err = -errno;
	closedir(d);
	return err;
}

int procinfo__listeners(const char *procroot, struct procinfo_listener **out, size_t *n)
{
	struct lsock *socks = NULL;
	struct lowner *owners = NULL;
	struct procinfo_listener *res = NULL;
	size_t nsocks = 0, nowners = 0, nres = 0;
	int procfd, err;

	if (!out || !n)
		return -EINVAL;
	procfd = procfs__open_root(procroot);
	if (procfd < 0)
		return procfd;
	err = find_owners(procfd, NULL, 0, &socks, &nsocks, &owners, &nowners);
	if (err || !nsocks)
		goto cleanup;

	/* The same socket behind several fds of one process (dup, fork) is one holder. */
	if (nowners)
		qsort(owners, nowners, sizeof(*owners), cmp_lowner);
	res = calloc(nsocks + nowners, sizeof(*res));
	if (!res) {
		err = -ENOMEM;
		goto cleanup;
	}
	for (size_t i = 0, j = 0; i < nsocks; i++) {
		bool owned = false;

		for (; j < nowners && owners[j].sock == i; j++) {
			if (owned && owners[j].pid == owners[j - 1].pid)
				continue;
			res[nres] = socks[i].l;
			res[nres].pid = owners[j].pid;
			memcpy(res[nres].comm, owners[j].comm, sizeof(res[nres].comm));
			nres++;
			owned = true;
		}
		if (!owned)
			res[nres++] = socks[i].l;
	}
	qsort(res, nres, sizeof(*res), cmp_listener);
cleanup:
	close(procfd);
	free(socks);
	free(owners);
	if (err || !nres) {
		free(res);
		res = NULL;
		nres = 0;
	}
	if (!err) {
		*out = res;
		*n = nres;
	}
	return err;
}

int procinfo__clients_of(const char *procroot, const uint16_t *rports, size_t nrports,
			 uint32_t **out, size_t *n)
{
	struct lsock *socks = NULL;
	struct lowner *owners = NULL;
	size_t nsocks = 0, nowners = 0, npids = 0;
	uint32_t *pids = NULL;
	int procfd, err;

	if (!out || !n || !nrports)
		return -EINVAL;
	*out = NULL;
	*n = 0;
	procfd = procfs__open_root(procroot);
	if (procfd < 0)
		return procfd;
	err = find_owners(procfd, rports, nrports, &socks, &nsocks, &owners, &nowners);
	/* Owners come in /proc order, a process's fds together: one entry per process. */
	if (!err && nowners && !(pids = malloc(nowners * sizeof(*pids))))
		err = -ENOMEM;
	for (size_t i = 0; !err && i < nowners; i++)
		if (!npids || pids[npids - 1] != owners[i].pid)
			pids[npids++] = owners[i].pid;
	close(procfd);
	free(socks);
	free(owners);
	if (err) {
		free(pids);
		return err;
	}
	*out = pids;
	*n = npids;
	return 0;
}
