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

#include "bpfobj.h"
#include "pgserver.h"
#include "pgserver.skel.h"

#define PGSERVER_USDTS 3

struct pgbin {
	uint64_t dev, ino;
	bool failed;
	int nlinks;
	struct bpf_link *links[PGSERVER_USDTS];
};

/* A backend's verdict, kept while the process lives. */
struct verdict {
	uint32_t pid;
	uint8_t want;
	uint64_t gen;
};

struct pgserver {
	struct pgserver_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link *exit_link;
	db_exec_fn emit;
	void *ctx;
	struct pgserver_opts o;
	struct pgbin *bins;
	size_t nbins, bins_cap;
	struct verdict *verdicts; /* sorted by pid */
	size_t nverdicts, verdicts_cap;
	uint64_t gen;
	struct pgserver_stats st;
};

static struct verdict *verdict__find(struct pgserver *p, uint32_t pid, size_t *at)
{
	size_t lo = 0, hi = p->nverdicts;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (p->verdicts[mid].pid < pid)
			lo = mid + 1;
		else
			hi = mid;
	}
	*at = lo;
	return lo < p->nverdicts && p->verdicts[lo].pid == pid ? &p->verdicts[lo] : NULL;
}

static bool proc__wanted(struct pgserver *p, uint32_t pid)
{
	struct verdict *v;
	size_t at;
	__u8 val;
	bool want;

	if (!p->o.want_pid)
		return true;
	v = verdict__find(p, pid, &at);
	if (v)
		return v->want;
	want = p->o.want_pid(pid, p->o.want_ctx);
	val = want ? PGSERVER_PROC_TRACE : PGSERVER_PROC_IGNORE;
	bpf_map__update_elem(p->skel->maps.procs, &pid, sizeof(pid), &val, sizeof(val), BPF_ANY);
	if (p->nverdicts == p->verdicts_cap) {
		size_t cap = p->verdicts_cap ? p->verdicts_cap * 2 : 64;
		struct verdict *nv = realloc(p->verdicts, cap * sizeof(*nv));

		if (!nv)
			return want;
		p->verdicts = nv;
		p->verdicts_cap = cap;
	}
	memmove(&p->verdicts[at + 1], &p->verdicts[at], (p->nverdicts - at) * sizeof(*v));
	p->verdicts[at] = (struct verdict){ .pid = pid, .want = want, .gen = p->gen };
	p->nverdicts++;
	return want;
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
	if (!proc__wanted(p, e->pid)) {
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

static int pgbin__attach(struct pgserver *p, struct pgbin *b, const char *path)
{
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
			goto cleanup;
		}
		b->links[b->nlinks++] = l;
	}
	if (!p->exit_link) {
		p->exit_link = bpf_program__attach(p->skel->progs.sched_process_exit);
		if (!p->exit_link) {
			err = -errno;
			goto cleanup;
		}
	}
	if (p->o.verbose)
		fprintf(stderr, "pgserver: probed %s (%d probes)\n", path, b->nlinks);
	return 0;

cleanup:
	if (p->o.verbose)
		fprintf(stderr, "pgserver: cannot probe %s: %s\n", path, strerror(-err));
	while (b->nlinks)
		bpf_link__destroy(b->links[--b->nlinks]);
	return err;
}

static bool is_postgres(const char *exe)
{
	const char *base = strrchr(exe, '/');

	base = base ? base + 1 : exe;
	return !strncmp(base, "postgres", 8) && (!base[8] || !strcmp(base + 8, " (deleted)"));
}

/* Process pid runs a postgres binary: probe it unless done. Returns 1 if newly probed. */
static int pgbin__found(struct pgserver *p, int pid, const char *exe)
{
	char path[PATH_MAX + 64];
	struct stat sb;
	struct pgbin *b;

	snprintf(path, sizeof(path), "/proc/%d/exe", pid);
	if (stat(path, &sb))
		return 0;
	for (size_t i = 0; i < p->nbins; i++)
		if (p->bins[i].dev == sb.st_dev && p->bins[i].ino == sb.st_ino)
			return 0;
	if (p->nbins == p->bins_cap) {
		size_t cap = p->bins_cap ? p->bins_cap * 2 : 4;
		struct pgbin *nb = realloc(p->bins, cap * sizeof(*nb));

		if (!nb)
			return -ENOMEM;
		p->bins = nb;
		p->bins_cap = cap;
	}
	b = &p->bins[p->nbins++];
	memset(b, 0, sizeof(*b));
	b->dev = sb.st_dev;
	b->ino = sb.st_ino;
	/* /proc/PID/exe names the running binary in any mount namespace, even if replaced. */
	if (!pgbin__attach(p, b, path)) {
		p->st.files++;
		return 1;
	}
	snprintf(path, sizeof(path), "/proc/%d/root%s", pid, exe);
	if (!pgbin__attach(p, b, path)) {
		p->st.files++;
		return 1;
	}
	b->failed = true;
	p->st.files_failed++;
	return 0;
}

int pgserver__scan(struct pgserver *p)
{
	char path[64], exe[PATH_MAX];
	struct dirent *de;
	size_t keep = 0, at;
	int added = 0, r;
	ssize_t n;
	DIR *d;

	d = opendir("/proc");
	if (!d)
		return -errno;
	p->gen++;
	while ((de = readdir(d))) {
		int pid = atoi(de->d_name);
		struct verdict *v;

		if (pid <= 0)
			continue;
		v = verdict__find(p, pid, &at);
		if (v)
			v->gen = p->gen;
		snprintf(path, sizeof(path), "/proc/%d/exe", pid);
		n = readlink(path, exe, sizeof(exe) - 1);
		if (n <= 0)
			continue;
		exe[n] = '\0';
		if (!is_postgres(exe))
			continue;
		r = pgbin__found(p, pid, exe);
		if (r < 0) {
			closedir(d);
			return r;
		}
		added += r;
	}
	closedir(d);
	/* Backends gone since the last scan: their pids may come back as other processes. */
	for (size_t i = 0; i < p->nverdicts; i++) {
		if (p->verdicts[i].gen == p->gen) {
			p->verdicts[keep++] = p->verdicts[i];
			continue;
		}
		bpf_map__delete_elem(p->skel->maps.procs, &p->verdicts[i].pid, sizeof(__u32), 0);
	}
	p->nverdicts = keep;
	return added;
}

struct pgserver *pgserver__open(const struct pgserver_opts *o, db_exec_fn emit, void *ctx,
				char *err, size_t errsz)
{
	struct pgserver *p = calloc(1, sizeof(*p));
	unsigned rb_bytes;
	int e;

	if (!p) {
		snprintf(err, errsz, "out of memory");
		return NULL;
	}
	p->o = *o;
	p->emit = emit;
	p->ctx = ctx;
	p->skel = pgserver_bpf__open();
	if (!p->skel) {
		e = errno;
		snprintf(err, errsz, "opening BPF object: %s", strerror(e));
		goto cleanup;
	}
	if (o->text_max)
		p->skel->rodata->targ_text_max =
			o->text_max < PGSERVER_TEXT_MAX - 1 ? o->text_max : PGSERVER_TEXT_MAX - 1;
	p->skel->rodata->filter_procs = o->want_pid != NULL;
	rb_bytes = o->ringbuf_bytes ? o->ringbuf_bytes : PGSERVER_RINGBUF_DEFAULT;
	p->skel->rodata->targ_wakeup_bytes = rb_bytes / 4;
	bpf_map__set_max_entries(p->skel->maps.events, rb_bytes);
	e = pgserver_bpf__load(p->skel);
	if (e) {
		snprintf(err, errsz, "loading BPF programs: %s", strerror(-e));
		goto cleanup;
	}
	p->rb = ring_buffer__new(bpf_map__fd(p->skel->maps.events), ring_cb, p, NULL);
	if (!p->rb) {
		e = errno;
		snprintf(err, errsz, "ring buffer: %s", strerror(e));
		goto cleanup;
	}
	return p;

cleanup:
	pgserver__free(p);
	return NULL;
}

int pgserver__consume(struct pgserver *p)
{
	int n = ring_buffer__consume(p->rb);

	return n == -EINTR ? 0 : n;
}

int pgserver__epoll_fd(struct pgserver *p)
{
	return ring_buffer__epoll_fd(p->rb);
}

void pgserver__stats(struct pgserver *p, struct pgserver_stats *out)
{
	*out = p->st;
	bpfobj__sum_percpu(p->skel->maps.stats, PGSERVER_STAT_NR, out->bpf);
}

void pgserver__run_stats(struct pgserver *p, uint64_t *run_ns, uint64_t *run_cnt)
{
	bpfobj__run_stats(p->skel->obj, run_ns, run_cnt);
}

void pgserver__free(struct pgserver *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->nbins; i++)
		while (p->bins[i].nlinks)
			bpf_link__destroy(p->bins[i].links[--p->bins[i].nlinks]);
	free(p->bins);
	bpf_link__destroy(p->exit_link);
	ring_buffer__free(p->rb);
	pgserver_bpf__destroy(p->skel);
	free(p->verdicts);
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
