// SPDX-License-Identifier: GPL-2.0-only
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <bpf/libbpf.h>

#include "abi/sockio.h"
#include "host/proc_maps.h"
#include "lib/elfcode.h"
#include "lib/textesc.h"
#include "lib/u64map.h"
#include "lib/x86code.h"
#include "probes/probed.h"
#include "probes/sockio.h"
#include "probes/tlsprobe.h"

#define SCAN_NS 1000000000ull /* new processes are looked for this often */

struct tlsprobe {
	struct tlsprobe_opts o;
	struct bpf_program *enter, *ret;
	struct probed_files files;
	struct u64map scanned; /* tgid -> proc_maps__stamp when its maps were read */
	struct u64map exes;    /* inode -> device of executables looked into */
	uint64_t next_scan;
	struct tlsprobe_stats st;
};

/* Each direction: the call, its _ex form, and their cookies (enum sockio_tls_fn). */
static const struct {
	const char *name, *ex;
	__u8 fn, fn_ex;
} dirs[] = {
	{ "SSL_read", "SSL_read_ex", SOCKIO_TLS_READ, SOCKIO_TLS_READ_EX },
	{ "SSL_write", "SSL_write_ex", SOCKIO_TLS_WRITE, SOCKIO_TLS_WRITE_EX },
};

_Static_assert(8 <= PROBED_LINKS_MAX, "an entry and a return probe of 4 functions");

/*
 * Entry and return probes of func + off (one trap at entry serves both), cookie fn. The return
 * first: a call that began between the two would otherwise leave its thread marked inside a
 * call that never returns, and its next syscalls taken for ciphertext.
 */
static int attach_at(struct tlsprobe *t, struct probed_file *f, const char *path, const char *func,
		     long off, __u8 fn)
{
	for (int ret = 1; ret >= 0; ret--) {
		LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = func, .retprobe = ret,
			    .bpf_cookie = fn);
		struct bpf_link *l;

		/* libbpf adds off to func's file offset, modulo 2^64: a callee may lie before. */
		l = bpf_program__attach_uprobe_opts(ret ? t->ret : t->enter, -1, path, (size_t)off,
						    &uo);
		if (!l)
			return -errno;
		f->links[f->nlinks++] = l;
	}
	return 0;
}

/*
 * One direction of one OpenSSL file. A uprobe costs a trap, and far more (~5x here) when the
 * kernel must single-step the instruction it replaces instead of emulating it: Debian's
 * SSL_read starts with a sub from %rsp, single-stepped. When SSL_read_ex is a thin wrapper
 * whose callee (ssl_read_internal, which SSL_read calls too, with the _ex arguments) starts
 * with an emulated push, the callee is probed instead: 2 probes, cheap ones. Else both
 * functions, past an endbr64; the _ex form may be missing (OpenSSL before 1.1.1). Sets *via
 * when the callee was probed.
 */
static int attach_dir(struct tlsprobe *t, struct probed_file *f, struct elfcode *elf,
		      const char *path, size_t d, bool *via)
{
	uint8_t code[16], callee[16];
	long rel;
	int err;

	*via = elf && !elfcode__func(elf, dirs[d].ex, code, sizeof(code)) &&
	       x86code__wrapper_call(code, sizeof(code), &rel) &&
	       !elfcode__func_at(elf, dirs[d].ex, rel, callee, sizeof(callee)) &&
	       x86code__emulated(callee, sizeof(callee));
	if (*via)
		return attach_at(t, f, path, dirs[d].ex, rel, dirs[d].fn_ex);
	for (int ex = 0; ex <= 1; ex++) {
		const char *func = ex ? dirs[d].ex : dirs[d].name;
		size_t off = 0;

		if (elf && !elfcode__func(elf, func, code, sizeof(code)))
			off = x86code__probe_offset(code, sizeof(code), 4);
		err = attach_at(t, f, path, func, off, ex ? dirs[d].fn_ex : dirs[d].fn);
		if (err == -ENOENT && ex)
			break;
		if (err)
			return err;
	}
	return 0;
}

/* Probes one OpenSSL file for every process. */
static int ssl_attach(void *loader, struct probed_file *f, const char *path, const char *shown)
{
	struct tlsprobe *t = loader;
	struct elfcode *elf = elfcode__open(path);
	bool via[2] = {};
	int err = 0;

	for (size_t d = 0; d < 2 && !err; d++)
		err = attach_dir(t, f, elf, path, d, &via[d]);
	elfcode__close(elf);
	if (err) {
		if (t->o.verbose)
			textesc__line(stderr, "tls: cannot probe %s: %s", shown, strerror(-err));
		return err;
	}
	if (t->o.verbose)
		textesc__line(stderr, "tls: probed %s (%d probes; read %s, write %s)", shown,
			      f->nlinks, via[0] ? "through its internal call" : "at its entry",
			      via[1] ? "through its internal call" : "at its entry");
	return 0;
}

static int add_file(struct tlsprobe *t, uint64_t dev, uint64_t ino, const char *path,
		    const char *fallback)
{
	uint64_t failed = t->files.failed;
	int r = probed_files__add(&t->files, dev, ino, path, fallback, ssl_attach, t);

	t->st.files_failed += t->files.failed - failed;
	return r;
}

/* libssl.so.3, libssl.so.1.1, and the renamed copies of wheels: libssl-1b2c3d4e.so.3 */
static bool is_libssl(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	return (!strncmp(base, "libssl.so", 9) || !strncmp(base, "libssl-", 7)) &&
	       strstr(base, ".so");
}

/* Whether an executable exports OpenSSL's calls itself (a static link: Node). */
static bool exports_ssl(const char *path)
{
	struct elfcode *elf = elfcode__open(path);
	uint8_t code[1];
	bool yes;

	if (!elf)
		return false;
	yes = !elfcode__func(elf, "SSL_read", code, sizeof(code)) &&
	      !elfcode__func(elf, "SSL_write", code, sizeof(code));
	elfcode__close(elf);
	return yes;
}

/* An executable not looked into yet (by inode, then device): it is now. */
static bool exe_new(struct tlsprobe *t, uint64_t dev, uint64_t ino)
{
	uint64_t *d = u64map__get(&t->exes, ino);

	if (d && *d == dev)
		return false;
	u64map__put(&t->exes, ino, dev);
	t->st.exes_checked++;
	return true;
}

/*
 * OpenSSL files of this host's own root, probed before any process maps them: short-lived
 * clients would otherwise come and go between two scans.
 */
static int system_files(struct tlsprobe *t)
{
	static const char *const libs[] = { "/usr/lib/x86_64-linux-gnu/libssl.so.3",
					    "/usr/lib64/libssl.so.3", "/usr/lib/libssl.so.3",
					    "/usr/local/lib/libssl.so.3",
					    "/usr/lib/x86_64-linux-gnu/libssl.so.1.1" };
	static const char *const exes[] = { "/usr/bin/node", "/usr/local/bin/node",
					    "/usr/bin/nodejs" };
	char real[PATH_MAX];
	int added = 0, r;
	struct stat sb;

	for (size_t i = 0; i < sizeof(libs) / sizeof(libs[0]) + sizeof(exes) / sizeof(exes[0]);
	     i++) {
		bool exe = i >= sizeof(libs) / sizeof(libs[0]);
		const char *p = exe ? exes[i - sizeof(libs) / sizeof(libs[0])] : libs[i];
		uint64_t dev;

		if (!realpath(p, real) || stat(real, &sb))
			continue;
		dev = (uint64_t)major(sb.st_dev) << 32 | minor(sb.st_dev);
		if (exe && (!exe_new(t, dev, sb.st_ino) || !exports_ssl(real)))
			continue;
		r = add_file(t, dev, sb.st_ino, real, NULL);
		if (r < 0)
			return r;
		added += r;
	}
	return added;
}

struct scan_ctx {
	struct tlsprobe *t;
	uint32_t pid;
	const char *exe; /* what /proc/PID/exe names, "" if unreadable */
	int added;
};

static int on_map(void *ctx, const struct proc_map *m)
{
	struct scan_ctx *c = ctx;
	char mf[96], root[PATH_MAX + 32];
	int r;

	if (!m->exec)
		return 0;
	if (!is_libssl(m->path)) {
		if (strcmp(m->path, c->exe) || !exe_new(c->t, m->dev, m->ino))
			return 0;
		snprintf(mf, sizeof(mf), "/proc/%u/map_files/%llx-%llx", c->pid,
			 (unsigned long long)m->start, (unsigned long long)m->end);
		if (!exports_ssl(mf))
			return 0;
	}
	/*
	 * map_files names exactly the mapped file, in whatever mount namespace the process lives,
	 * even deleted or replaced since; its root is the fallback.
	 */
	snprintf(mf, sizeof(mf), "/proc/%u/map_files/%llx-%llx", c->pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	snprintf(root, sizeof(root), "/proc/%u/root%s", c->pid, m->path);
	r = add_file(c->t, m->dev, m->ino, mf, root);
	if (r < 0)
		return r;
	c->added += r;
	return 0;
}

static int scan_proc(struct tlsprobe *t, uint32_t pid)
{
	struct scan_ctx c = { .t = t, .pid = pid, .exe = "" };
	char link[32], exe[PATH_MAX];
	ssize_t n;
	int r;

	snprintf(link, sizeof(link), "/proc/%u/exe", pid);
	n = readlink(link, exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		c.exe = exe;
	}
	t->st.scans++;
	r = proc_maps__each(NULL, pid, on_map, &c);
	if (r < 0 && r != -ENOENT && r != -EACCES)
		return r;
	return c.added;
}

static bool gone(uint64_t tgid, uint64_t stamp, void *ctx)
{
	return kill((pid_t)tgid, 0) && errno == ESRCH;
}

int tlsprobe__scan(struct tlsprobe *t)
{
	struct dirent *de;
	int added = 0, r;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		int pid = atoi(de->d_name);
		uint64_t stamp, *seen;

		if (pid <= 0 || (uint32_t)pid == t->o.self_tgid)
			continue;
		/* A process is read again only when its mappings grew or shrank. */
		stamp = proc_maps__stamp(NULL, pid);
		seen = u64map__get(&t->scanned, pid);
		if (!stamp || (seen && *seen == stamp))
			continue;
		if (procfilter_spec__match(pid, &t->o.procs)) {
			r = scan_proc(t, pid);
			if (r < 0) {
				closedir(d);
				return r;
			}
			added += r;
		}
		u64map__put(&t->scanned, pid, stamp);
	}
	closedir(d);
	u64map__remove_if(&t->scanned, gone, t);
	return added;
}

void tlsprobe__poll(struct tlsprobe *t, uint64_t now)
{
	if (now < t->next_scan)
		return;
	t->next_scan = now + SCAN_NS;
	tlsprobe__scan(t);
}

int tlsprobe__open(struct tlsprobe **out, struct sockio *s, const struct tlsprobe_opts *o,
		   char *err, size_t errsz)
{
	struct tlsprobe *t = calloc(1, sizeof(*t));
	int r;

	*out = NULL;
	if (!t) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	t->o = *o;
	if (!t->o.self_tgid)
		t->o.self_tgid = getpid();
	r = sockio__tls_progs(s, &t->enter, &t->ret);
	if (r) {
		snprintf(err, errsz, "TLS programs not loaded");
		goto fail;
	}
	r = system_files(t);
	if (r >= 0)
		r = tlsprobe__scan(t);
	if (r < 0) {
		snprintf(err, errsz, "probing OpenSSL: %s", strerror(-r));
		goto fail;
	}
	*out = t;
	return 0;

fail:
	tlsprobe__close(t);
	return r;
}

void tlsprobe__stats(const struct tlsprobe *t, struct tlsprobe_stats *out)
{
	*out = t->st;
	out->files = t->files.probed;
}

void tlsprobe__close(struct tlsprobe *t)
{
	if (!t)
		return;
	probed_files__free(&t->files);
	u64map__free(&t->scanned);
	u64map__free(&t->exes);
	free(t);
}
