// SPDX-License-Identifier: GPL-2.0-only
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "host/procinfo.h"

#define ID_HEX_LEN	64
#define LXC_NAME_MAX	64
#define TCP_ESTABLISHED 0x01
#define TCP_LISTEN	0x0A

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

/* Runtimes print ids in lowercase; an uppercase run is something else. */
static bool is_lhex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

static int hex_val(unsigned char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool is_space(unsigned char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool mem_eq(const char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	return n == l && !memcmp(p, lit, l);
}

static bool has_prefix(const char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	return n >= l && !memcmp(p, lit, l);
}

static bool has_suffix(const char *p, size_t n, const char *lit)
{
	size_t l = strlen(lit);

	return n >= l && !memcmp(p + n - l, lit, l);
}

static bool is_id64(const char *p, size_t n)
{
	if (n != ID_HEX_LEN)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_lhex(p[i]))
			return false;
	return true;
}

static bool is_lxc_name(const char *p, size_t n)
{
	if (!n || n > LXC_NAME_MAX)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = p[i];

		if (!is_digit(c) && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') &&
		    c != '_' && c != '.' && c != '-')
			return false;
	}
	return true;
}

/* Whole token must be decimal and fit in max. */
static bool parse_dec(const char *p, size_t n, uint64_t max, uint64_t *v)
{
	uint64_t x = 0;

	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (!is_digit(p[i]))
			return false;
		d = p[i] - '0';
		if (x > (max - d) / 10)
			return false;
		x = x * 10 + d;
	}
	*v = x;
	return true;
}

static bool parse_hex(const char *p, size_t n, uint64_t *v)
{
	uint64_t x = 0;

	if (!n || n > 16)
		return false;
	for (size_t i = 0; i < n; i++) {
		int d = hex_val(p[i]);

		if (d < 0)
			return false;
		x = x << 4 | (unsigned)d;
	}
	*v = x;
	return true;
}

static const struct {
	const char *prefix;
	const char *runtime;
} scope_prefixes[] = {
	/* conmon scopes (crio-conmon-, libpod-conmon-) fail the id check, as they should */
	{ "docker-", "docker" },
	{ "cri-containerd-", "containerd" },
	{ "crio-", "cri-o" },
	{ "libpod-", "podman" },
};

/* Runtime named by one path segment, or NULL; prev is the parent segment (NULL at the top). */
static const char *match_segment(const char *prev, size_t prevlen, const char *s, size_t n,
				 bool under_kubepods, const char **id, size_t *idlen)
{
	static const char cri_sep[] = ":cri-containerd:";
	const size_t cri_sep_len = sizeof(cri_sep) - 1;

	if (has_suffix(s, n, ".scope")) {
		size_t m = n - strlen(".scope");

		for (size_t i = 0; i < sizeof(scope_prefixes) / sizeof(scope_prefixes[0]); i++) {
			size_t pl = strlen(scope_prefixes[i].prefix);

			if (m == pl + ID_HEX_LEN && has_prefix(s, n, scope_prefixes[i].prefix) &&
			    is_id64(s + pl, ID_HEX_LEN)) {
				*id = s + pl;
				*idlen = ID_HEX_LEN;
				return scope_prefixes[i].runtime;
			}
		}
	}
	/* podman with the cgroupfs manager: /libpod_parent/libpod-<id> */
	if (has_prefix(s, n, "libpod-") && is_id64(s + 7, n - 7)) {
		*id = s + 7;
		*idlen = ID_HEX_LEN;
		return "podman";
	}
	/*
	 * containerd's systemd cgroupsPath "<slice>:cri-containerd:<id>" shows up verbatim in the
	 * v1 hierarchies systemd does not manage.
	 */
	if (n > cri_sep_len + ID_HEX_LEN &&
	    !memcmp(s + n - ID_HEX_LEN - cri_sep_len, cri_sep, cri_sep_len) &&
	    is_id64(s + n - ID_HEX_LEN, ID_HEX_LEN)) {
		*id = s + n - ID_HEX_LEN;
		*idlen = ID_HEX_LEN;
		return "containerd";
	}
	if (prev && (mem_eq(prev, prevlen, "lxc") || mem_eq(prev, prevlen, "lxc.payload")) &&
	    is_lxc_name(s, n)) {
		*id = s;
		*idlen = n;
		return "lxc";
	}
	if (has_prefix(s, n, "lxc.payload.") && is_lxc_name(s + 12, n - 12)) {
		*id = s + 12;
		*idlen = n - 12;
		return "lxc";
	}
	if (is_id64(s, n)) {
		*id = s;
		*idlen = n;
		if (prev && mem_eq(prev, prevlen, "docker"))
			return "docker";
		return under_kubepods ? "kubepods" : "cgroup";
	}
	return NULL;
}

int procinfo__container_of(const char *path, size_t len, char id[PROCINFO_ID_MAX], char runtime[16])
{
	const char *p, *end, *prev = NULL, *found = NULL, *rt = NULL;
	size_t prevlen = 0, foundlen = 0;
	bool kube = false;

	if (!path || !id || !runtime)
		return -EINVAL;
	id[0] = '\0';
	runtime[0] = '\0';
	for (p = path, end = path + len; p < end;) {
		const char *seg = p, *slash = memchr(p, '/', end - p), *sid, *srt;
		size_t n = (slash ? slash : end) - seg, sidlen;

		p = slash ? slash + 1 : end;
		if (!n)
			continue;
		/* Keep going: the innermost (last) match names the container the task runs in. */
		srt = match_segment(prev, prevlen, seg, n, kube, &sid, &sidlen);
		if (srt) {
			rt = srt;
			found = sid;
			foundlen = sidlen;
		}
		if (mem_eq(seg, n, "kubepods") || has_prefix(seg, n, "kubepods.") ||
		    has_prefix(seg, n, "kubepods-"))
			kube = true;
		prev = seg;
		prevlen = n;
	}
	if (!rt)
		return 0;
	memcpy(id, found, foundlen);
	id[foundlen] = '\0';
	snprintf(runtime, 16, "%s", rt);
	return 1;
}

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

/* Whole file; procfs reports size 0, so read until EOF. */
static int read_at(int dirfd, const char *path, char **out, size_t *outlen)
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

static int open_root(const char *procroot)
{
	int fd = open(procroot ? procroot : "/proc", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* Directory names of processes: decimal, no leading zero, non-zero. */
static bool pid_of_name(const char *name, uint32_t *pid)
{
	uint64_t v;

	if (name[0] == '0' || !parse_dec(name, strlen(name), UINT32_MAX, &v))
		return false;
	*pid = (uint32_t)v;
	return true;
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
	procfd = open_root(procroot);
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
	err = read_at(pidfd, "stat", &buf, &len);
	if (err)
		goto cleanup;
	err = procinfo__parse_stat(buf, len, &r);
	if (err)
		goto cleanup;
	free(buf);
	buf = NULL;
	err = read_at(pidfd, "cgroup", &buf, &len);
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

/* Room for element n; returns the possibly moved array, or NULL with arr still valid. */
static void *room_for(void *arr, size_t n, size_t *cap, size_t size)
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
static DIR *open_dir(int procfd, int *err)
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
		int err = read_at(procfd, files[f], &buf, &len);

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
				tmp = room_for(*socks, *nsocks, cap, sizeof(**socks));
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
		tmp = room_for(*owners, *nowners, cap, sizeof(**owners));
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
		if (!read_at(procfd, path, &buf, &len)) {
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
	d = open_dir(procfd, &err);
	if (!d)
		return err;
	for (errno = 0; (de = readdir(d)); errno = 0) {
		uint32_t pid;

		if (!pid_of_name(de->d_name, &pid))
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
	procfd = open_root(procroot);
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
	procfd = open_root(procroot);
	if (procfd < 0)
		return procfd;
	d = open_dir(procfd, &err);
	if (!d)
		goto cleanup;
	for (errno = 0; (de = readdir(d)); errno = 0) {
		struct procinfo pi;
		struct pp *tmp;
		char path[32], *buf;
		size_t len;
		uint32_t p;
		int r;

		if (!pid_of_name(de->d_name, &p))
			continue;
		snprintf(path, sizeof(path), "%u/stat", p);
		/* Processes that exit while we walk are simply not there. */
		if (read_at(procfd, path, &buf, &len))
			continue;
		r = procinfo__parse_stat(buf, len, &pi);
		free(buf);
		if (r)
			continue;
		tmp = room_for(procs, nprocs, &pcap, sizeof(*procs));
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
			tmpu = room_for(res, nres, &rcap, sizeof(*res));
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
	procfd = open_root(procroot);
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
