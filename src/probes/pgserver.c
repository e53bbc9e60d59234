// SPDX-License-Identifier: GPL-2.0-only
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "probes/bpfobj.h"
#include "probes/pgserver.h"
#include "pgserver.skel.h"
#include "probes/probed.h"
#include "probes/procfilter.h"
#include "lib/textesc.h"

#define PGSERVER_USDTS 3

struct pgserver {
	struct bpfobj bo;
	struct pgserver_bpf *skel;
	struct bpf_link *exit_link;
	db_exec_fn emit;
	void *ctx;
	struct pgserver_opts o;
	struct probed_files bins; /* postgres binaries */
	struct procfilter procs;
	struct pgserver_stats st;
};

static void skel_destroy(void *skel)
{
	pgserver_bpf__destroy(skel);
}

static int ring_cb(void *ctx, void *data, size_t size)
{
	struct pgserver *p = ctx;
	const struct pgserver_ev *e = data;
	struct db_exec x = { .path = DB_PATH_USDT, .rows = -1 };

	if (size < PGSERVER_EV_HDR || e->type != PGSERVER_EV_QUERY ||
	    PGSERVER_EV_HDR + e->text_len > size) {
		p->st.bad_events++;
		return 0;
	}
	if (!procfilter__wanted(&p->procs, e->pid)) {
		p->st.ignored++;
		return 0;
	}
	x.tgid = x.tid = e->pid;
	x.ts_start = e->ts_start;
	x.ts_end = e->ts_end;
	if (!(e->flags & PGSERVER_F_READ_FAULT)) {
		x.text = e->text;
		x.text_len = e->text_len;
	}
	if (e->flags & PGSERVER_F_ERROR)
		x.flags |= DB_EXEC_ERROR;
	else if (e->flags & PGSERVER_F_EXITED)
		x.flags |= DB_EXEC_ABORTED;
	if (e->flags & PGSERVER_F_END_UNKNOWN)
		x.flags |= DB_EXEC_APPROX;
	if (e->flags & PGSERVER_F_TRUNCATED)
		x.flags |= DB_EXEC_TRUNCATED;
	p->st.queries++;
	p->emit(&x, p->ctx);
	return 0;
}

_Static_assert(PGSERVER_USDTS <= PROBED_LINKS_MAX, "a probe per USDT");

static int pgbin_attach(void *loader, struct probed_file *b, const char *path, const char *shown)
{
	struct pgserver *p = loader;
	static const char *const names[PGSERVER_USDTS] = { "query__start", "query__done",
							   "transaction__abort" };
	struct bpf_program *progs[PGSERVER_USDTS] = { p->skel->progs.query_start,
						      p->skel->progs.query_done,
						      p->skel->progs.transaction_abort };
	int err = 0;

	for (int i = 0; i < PGSERVER_USDTS; i++) {
		struct bpf_link *l;

		l = bpf_program__attach_usdt(progs[i], -1, path, "postgresql", names[i], NULL);
		if (!l) {
			err = -errno;
			/* Without transaction__abort, failed queries still end, later. */
			if (i == 2)
				continue;
			goto fail;
		}
		b->links[b->nlinks++] = l;
	}
	if (!p->exit_link) {
		p->exit_link = bpf_program__attach(p->skel->progs.sched_process_exit);
		if (!p->exit_link) {
			err = -errno;
			goto fail;
		}
	}
	if (p->o.verbose)
		textesc__line(stderr, "pgserver: probed %s (%d probes)", shown, b->nlinks);
	return 0;

fail:
	if (p->o.verbose)
		textesc__line(stderr, "pgserver: cannot probe %s: %s", shown, strerror(-err));
	return err;
}

static bool is_postgres(const char *exe)
{
	const char *base = strrchr(exe, '/');

	base = base ? base + 1 : exe;
	return !strncmp(base, "postgres", 8) && (!base[8] || !strcmp(base + 8, " (deleted)"));
}

/* Process pid runs a postgres binary: probe it unless done. Returns 1 if newly probed. */
static int pgbin_found(struct pgserver *p, int pid, const char *exe)
{
	char path[64], root[PATH_MAX + 64];
	struct stat sb;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	if (stat(path, &sb))
		return 0;
	/* /proc/PID/exe names the running binary in any mount namespace, even if replaced. */
	snprintf(root, sizeof(root), "/proc/%d/root%s", pid, exe);
	return probed_files__add(&p->bins, sb.st_dev, sb.st_ino, path, root, pgbin_attach, p);
}

int pgserver__scan(struct pgserver *p)
{
	char path[64], exe[PATH_MAX];
	struct dirent *de;
	int added = 0, r;
	ssize_t n;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return -errno;
	procfilter__scan_start(&p->procs);
	while ((de = readdir(d))) {
		int pid = atoi(de->d_name);

		if (pid <= 0)
			continue;
		procfilter__seen(&p->procs, pid);
		snprintf(path, sizeof(path), "/proc/%d/exe", pid);
		n = readlink(path, exe, sizeof(exe) - 1);
		if (n <= 0)
			continue;
		exe[n] = '\0';
		if (!is_postgres(exe))
			continue;
		r = pgbin_found(p, pid, exe);
		if (r < 0) {
			closedir(d);
			return r;
		}
		added += r;
	}
	closedir(d);
	procfilter__scan_end(&p->procs);
	return added;
}

int pgserver__open(struct pgserver **out, const struct pgserver_opts *o, db_exec_fn emit, void *ctx,
		   char *err, size_t errsz)
{
	struct pgserver *p = calloc(1, sizeof(*p));
	unsigned rb_bytes;
	int e;

	*out = NULL;
	if (!p) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	p->o = *o;
	p->emit = emit;
	p->ctx = ctx;
	p->skel = pgserver_bpf__open();
	if (!p->skel) {
		e = -errno;
		snprintf(err, errsz, "opening BPF object: %s", strerror(-e));
		goto cleanup;
	}
	bpfobj__init(&p->bo, p->skel, p->skel->obj, skel_destroy);
	procfilter__init(&p->procs, p->skel->maps.procs, o->want_pid, o->want_ctx);
	if (o->text_max)
		p->skel->rodata->targ_text_max =
			o->text_max < PGSERVER_TEXT_MAX - 1 ? o->text_max : PGSERVER_TEXT_MAX - 1;
	p->skel->rodata->filter_procs = o->want_pid != NULL;
	rb_bytes =
		bpfobj__ring_size(p->skel->maps.events, o->ringbuf_bytes, PGSERVER_RINGBUF_DEFAULT);
	p->skel->rodata->targ_wakeup_bytes = rb_bytes / 4;
	e = pgserver_bpf__load(p->skel);
	if (e) {
		snprintf(err, errsz, "loading BPF programs: %s", strerror(-e));
		goto cleanup;
	}
	e = bpfobj__ring_open(&p->bo, p->skel->maps.events, ring_cb, p);
	if (e) {
		snprintf(err, errsz, "ring buffer: %s", strerror(-e));
		goto cleanup;
	}
	*out = p;
	return 0;

cleanup:
	pgserver__close(p);
	return e ? e : -EINVAL;
}

int pgserver__consume(struct pgserver *p)
{
	return bpfobj__consume(&p->bo);
}

int pgserver__epoll_fd(struct pgserver *p)
{
	return bpfobj__epoll_fd(&p->bo);
}

void pgserver__stats(struct pgserver *p, struct pgserver_stats *out)
{
	*out = p->st;
	out->files = p->bins.probed;
	out->files_failed = p->bins.failed;
	bpfobj__sum_percpu(p->skel->maps.stats, PGSERVER_STAT_NR, out->bpf);
}

void pgserver__run_stats(struct pgserver *p, uint64_t *run_ns, uint64_t *run_cnt)
{
	bpfobj__run_stats(&p->bo, run_ns, run_cnt);
}

void pgserver__close(struct pgserver *p)
{
	if (!p)
		return;
	probed_files__free(&p->bins);
	bpf_link__destroy(p->exit_link);
	bpfobj__free(&p->bo);
	procfilter__free(&p->procs);
	free(p);
}

int pgserver__client_addr(uint32_t pid, char *out, size_t outsz)
{
	char path[64], buf[512], *s, *lp, *rp;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%u/cmdline", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -ENOENT;
	buf[n] = '\0';
	for (ssize_t i = 0; i < n; i++)
		if (!buf[i])
			buf[i] = ' ';
	if (strncmp(buf, "postgres: ", 10))
		return -ENOENT;
	if (strstr(buf, " [local]")) {
		snprintf(out, outsz, "local");
		return 0;
	}
	/* "postgres: USER DB HOST(PORT) STATUS": the host is the word before "(". */
	for (s = buf + 10; (lp = strchr(s, '(')); s = lp + 1) {
		char *host = lp;
		unsigned long port;
		char *end;

		while (host > buf && host[-1] != ' ')
			host--;
		rp = strchr(lp, ')');
		if (!rp || host == lp)
			continue;
		port = strtoul(lp + 1, &end, 10);
		if (end != rp || !port || port > 65535)
			continue;
		*lp = '\0';
		if (strchr(host, ':'))
			snprintf(out, outsz, "[%s]:%lu", host, port);
		else
			snprintf(out, outsz, "%s:%lu", host, port);
		return 0;
	}
	return -ENOENT;
}
