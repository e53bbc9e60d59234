// SPDX-License-Identifier: GPL-2.0-only
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "host/proc_maps.h"
#include "probes/bpfobj.h"
#include "probes/pgclient.h"
#include "pgclient.skel.h"
#include "probes/probed.h"
#include "probes/procfilter.h"
#include "lib/elfcode.h"
#include "lib/textesc.h"
#include "lib/x86code.h"
#include "lib/u64map.h"

struct stmt {
	struct stmt *next;
	uint32_t tgid;
	uint64_t conn;
	bool truncated;
	char *name;
	char *text;
	size_t text_len;
};

#define STMT_BUCKETS 4096

struct pgclient {
	struct bpfobj bo;
	struct pgclient_bpf *skel;
	db_exec_fn emit;
	void *ctx;
	struct pgclient_opts o;
	struct probed_files files; /* libpq files */
	struct procfilter procs;
	struct u64map scanned; /* tgid -> hash of what /proc/PID/stat said when maps was read */
	bool scanned_system;
	struct stmt *stmts[STMT_BUCKETS];
	size_t nstmts;
	struct pgclient_stats st;
};

static size_t stmt_bucket(uint32_t tgid, uint64_t conn, const char *name)
{
	uint64_t h = u64map__mix(((uint64_t)tgid << 32) ^ conn);

	for (const char *s = name; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return u64map__mix(h) & (STMT_BUCKETS - 1);
}

static struct stmt *stmt_get(struct pgclient *p, uint32_t tgid, uint64_t conn, const char *name)
{
	struct stmt *s = p->stmts[stmt_bucket(tgid, conn, name)];

	for (; s; s = s->next)
		if (s->tgid == tgid && s->conn == conn && !strcmp(s->name, name))
			return s;
	return NULL;
}

static void stmt_put(struct pgclient *p, uint32_t tgid, uint64_t conn, const char *name,
		     const char *text, size_t len, bool truncated)
{
	struct stmt *s = stmt_get(p, tgid, conn, name), **b;
	char *t;

	if (!s) {
		if (p->nstmts >= PGCLIENT_STMTS_MAX) {
			p->st.stmts_full++;
			return;
		}
		s = calloc(1, sizeof(*s));
		if (!s || !(s->name = strdup(name))) {
			free(s);
			p->st.stmts_full++;
			return;
		}
		s->tgid = tgid;
		s->conn = conn;
		b = &p->stmts[stmt_bucket(tgid, conn, name)];
		s->next = *b;
		*b = s;
		p->nstmts++;
	}
	t = malloc(len + 1);
	if (!t) {
		p->st.stmts_full++;
		return;
	}
	memcpy(t, text, len);
	t[len] = '\0';
	free(s->text);
	s->text = t;
	s->text_len = len;
	s->truncated = truncated;
}

/* Forget the statements of one connection (conn != 0) or of a whole process. */
static void stmt_forget(struct pgclient *p, uint32_t tgid, uint64_t conn)
{
	for (size_t i = 0; i < STMT_BUCKETS; i++) {
		struct stmt **pp = &p->stmts[i], *s;

		while ((s = *pp)) {
			if (s->tgid == tgid && (!conn || s->conn == conn)) {
				*pp = s->next;
				free(s->name);
				free(s->text);
				free(s);
				p->nstmts--;
			} else {
				pp = &s->next;
			}
		}
	}
}

/* Rows from a command tag: "SELECT 23", "INSERT 0 5", "UPDATE 3"; -1 for tags without. */
static int64_t tag_rows(const char *tag)
{
	static const char *const verbs[] = { "SELECT", "INSERT", "UPDATE", "DELETE",
					     "MERGE",  "FETCH",	 "MOVE",   "COPY" };
	const char *sp = strchr(tag, ' '), *num;
	bool known = false;
	int64_t n = 0;

	if (!sp)
		return -1;
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++)
		if ((size_t)(sp - tag) == strlen(verbs[i]) && !strncmp(tag, verbs[i], sp - tag))
			known = true;
	num = strrchr(tag, ' ') + 1;
	if (!known || !*num)
		return -1;
	for (; *num; num++) {
		if (!isdigit((unsigned char)*num) || n > INT64_MAX / 10 - 10)
			return -1;
		n = n * 10 + (*num - '0');
	}
	return n;
}

static bool fn_is_prepare(__u8 fn)
{
	return fn == PGCLIENT_FN_PREPARE || fn == PGCLIENT_FN_SEND_PREPARE;
}

static bool fn_is_prepared(__u8 fn)
{
	return fn == PGCLIENT_FN_EXEC_PREPARED || fn == PGCLIENT_FN_SEND_QUERY_PREPARED;
}

static int query_event(struct pgclient *p, const struct pgclient_ev *e, size_t size)
{
	struct db_exec x = {
		.path = DB_PATH_LIBPQ,
		.tgid = e->tgid,
		.tid = e->tid,
		.conn_id = e->conn,
		.ts_start = e->ts_start,
		.ts_end = e->ts_end,
		.rows = -1,
	};
	char name[PGCLIENT_NAME_MAX], cmd[PGCLIENT_CMD_MAX];
	bool failed = e->flags & (PGCLIENT_F_ERROR | PGCLIENT_F_NO_RESULT);
	struct stmt *s;

	if (size < PGCLIENT_EV_HDR || PGCLIENT_EV_HDR + e->text_len > size ||
	    e->name_len >= sizeof(name)) {
		p->st.bad_events++;
		return 0;
	}
	if (!procfilter__wanted(&p->procs, e->tgid)) {
		p->st.ignored++;
		return 0;
	}
	memcpy(name, e->name, e->name_len);
	name[e->name_len] = '\0';
	if (fn_is_prepare(e->fn) && !failed) {
		stmt_put(p, e->tgid, e->conn, name, e->text, e->text_len,
			 e->flags & PGCLIENT_F_TRUNCATED);
		p->st.prepares++;
		return 0;
	}
	if (failed)
		x.flags |= DB_EXEC_ERROR;
	if (e->flags & PGCLIENT_F_TRUNCATED)
		x.flags |= DB_EXEC_TRUNCATED;
	if (e->flags & PGCLIENT_F_DISCARDED)
		x.flags |= DB_EXEC_ABORTED;
	if (fn_is_prepared(e->fn)) {
		x.flags |= DB_EXEC_PREPARED;
		/* An unreadable name is not the unnamed statement "". */
		s = e->flags & PGCLIENT_F_READ_FAULT ? NULL : stmt_get(p, e->tgid, e->conn, name);
		if (s) {
			x.text = s->text;
			x.text_len = s->text_len;
			if (s->truncated)
				x.flags |= DB_EXEC_TRUNCATED;
		} else {
			x.stmt_name = e->flags & PGCLIENT_F_READ_FAULT ? NULL : name;
			x.flags |= DB_EXEC_UNKNOWN_STMT;
			p->st.unknown_stmt++;
		}
	} else if (!(e->flags & PGCLIENT_F_READ_FAULT)) {
		x.text = e->text;
		x.text_len = e->text_len;
	}
	if (e->flags & PGCLIENT_F_ERROR)
		memcpy(x.sqlstate, e->sqlstate, 5);
	if (!failed && e->cmd[0]) {
		memcpy(cmd, e->cmd, sizeof(cmd));
		cmd[sizeof(cmd) - 1] = '\0';
		x.rows = tag_rows(cmd);
	}
	p->st.queries++;
	p->emit(&x, p->ctx);
	return 0;
}

static void skel_destroy(void *skel)
{
	pgclient_bpf__destroy(skel);
}

static int ring_cb(void *ctx, void *data, size_t size)
{
	struct pgclient *p = ctx;
	const struct pgclient_close_ev *c = data;

	if (size < sizeof(__u32)) {
		p->st.bad_events++;
		return 0;
	}
	switch (*(__u32 *)data) {
	case PGCLIENT_EV_QUERY:
		return query_event(p, data, size);
	case PGCLIENT_EV_CLOSE:
		if (size < sizeof(*c)) {
			p->st.bad_events++;
			return 0;
		}
		stmt_forget(p, c->tgid, c->conn);
		return 0;
	}
	p->st.bad_events++;
	return 0;
}

/* The functions probed, with how many of their arguments the entry program reads. */
static const struct {
	const char *func;
	int nargs;
	bool ret;
} funcs[] = {
	{ "PQexec", 2, true },	      { "PQexecParams", 2, true },
	{ "PQprepare", 3, true },     { "PQexecPrepared", 2, true },
	{ "PQsendQuery", 2, true },   { "PQsendQueryParams", 2, true },
	{ "PQsendPrepare", 3, true }, { "PQsendQueryPrepared", 2, true },
	{ "PQgetResult", 1, true },   { "PQfinish", 1, false },
};

#define NFUNCS (sizeof(funcs) / sizeof(funcs[0]))

/*
 * Where this build's PGresult keeps resultStatus, cmdStatus and errFields, read off the
 * code of PQresultStatus (mov (%rdi+N),%eax), PQcmdStatus (lea) and PQresultErrorField
 * (mov (%rdi+N),%rax). Layouts are stable since PostgreSQL 8.4 (40, 44, 168), but reading
 * them costs nothing and a wrong guess would turn every result into an error. Also sets
 * the probe offset of each function.
 */
static uint64_t pqfile_inspect(const char *path, size_t offs[NFUNCS])
{
	struct elfcode *elf = elfcode__open(path);
	long st = -1, cmd = -1, ef = -1;
	uint8_t code[32];

	memset(offs, 0, NFUNCS * sizeof(offs[0]));
	if (elf) {
		if (!elfcode__func(elf, "PQresultStatus", code, sizeof(code)))
			st = x86code__rdi_disp(code, sizeof(code), 0, 0x8b);
		if (!elfcode__func(elf, "PQcmdStatus", code, sizeof(code)))
			cmd = x86code__rdi_disp(code, sizeof(code), 0x48, 0x8d);
		if (!elfcode__func(elf, "PQresultErrorField", code, sizeof(code)))
			ef = x86code__rdi_disp(code, sizeof(code), 0x48, 0x8b);
		for (size_t i = 0; i < NFUNCS; i++)
			if (!elfcode__func(elf, funcs[i].func, code, 16))
				offs[i] = x86code__probe_offset(code, 16, funcs[i].nargs);
		elfcode__close(elf);
	}
	if (st <= 0 || st >= 0x1000 || st % 4)
		return 0;
	if (cmd != st + 4)
		cmd = 0;
	if (ef <= 0 || ef >= 0x1000 || ef % 8)
		ef = 0;
	return PGCLIENT_COOKIE(st, cmd, ef);
}

static struct bpf_program *func_prog(struct pgclient_bpf *skel, size_t i)
{
	struct bpf_program *progs[NFUNCS] = {
		skel->progs.pq_exec,	     skel->progs.pq_exec_params,
		skel->progs.pq_prepare,	     skel->progs.pq_exec_prepared,
		skel->progs.pq_send_query,   skel->progs.pq_send_query_params,
		skel->progs.pq_send_prepare, skel->progs.pq_send_query_prepared,
		skel->progs.pq_getresult,    skel->progs.pq_finish
	};

	return progs[i];
}

_Static_assert(2 * NFUNCS <= PROBED_LINKS_MAX, "a probe per entry and return");

/* Probe one libpq file for every process. Returns 0, or a negative errno (file unusable). */
static int pqfile_attach(void *loader, struct probed_file *f, const char *path, const char *shown)
{
	struct pgclient *p = loader;
	size_t offs[NFUNCS], moved = 0;
	uint64_t cookie = pqfile_inspect(path, offs);
	int err = 0, missing = 0;

	for (size_t i = 0; i < NFUNCS; i++) {
		for (int ret = 0; ret <= funcs[i].ret; ret++) {
			LIBBPF_OPTS(bpf_uprobe_opts, uo, .func_name = funcs[i].func,
				    .retprobe = ret, .bpf_cookie = cookie);
			struct bpf_program *prog =
				ret ? p->skel->progs.pq_call_ret : func_prog(p->skel, i);
			struct bpf_link *l;

			l = bpf_program__attach_uprobe_opts(prog, -1, path, offs[i], &uo);
			if (!l) {
				err = -errno;
				/* A libpq without one of the calls (very old): the rest works. */
				if (err == -ENOENT || err == -ESRCH) {
					missing++;
					break;
				}
				goto fail;
			}
			f->links[f->nlinks++] = l;
		}
		moved += offs[i] != 0;
	}
	if (!f->nlinks) {
		err = -ENOENT;
		goto fail;
	}
	if (!cookie)
		p->st.files_no_layout++;
	if (p->o.verbose)
		textesc__line(stderr,
			      "pgclient: probed %s (%d probes, %zu past their first "
			      "instruction%s%s)",
			      shown, f->nlinks, moved, missing ? ", some functions missing" : "",
			      cookie ? "" : ", result layout unknown: no error detection");
	return 0;

fail:
	if (p->o.verbose)
		textesc__line(stderr, "pgclient: cannot probe %s: %s", shown, strerror(-err));
	return err;
}

static bool is_libpq(const char *path)
{
	const char *base = strrchr(path, '/');

	base = base ? base + 1 : path;
	/* libpq.so.5.15, and wheels' renamed copies: libpq-9b4b5b8a.so.5.16 */
	return (!strncmp(base, "libpq.so", 8) || !strncmp(base, "libpq-", 6)) &&
	       strstr(base, ".so");
}

/*
 * The system's libpq, probed before any process maps it: short-lived clients (psql, cron
 * jobs) would otherwise come and go between two scans.
 */
static int pqfile_system(struct pgclient *p)
{
	static const char *const dirs[] = { "/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib",
					    "/usr/local/lib", "/usr/local/pgsql/lib" };
	char path[PATH_MAX], real[PATH_MAX];
	int added = 0, r;
	struct stat sb;

	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		snprintf(path, sizeof(path), "%s/libpq.so.5", dirs[i]);
		if (!realpath(path, real) || stat(real, &sb))
			continue;
		r = probed_files__add(&p->files,
				      (uint64_t)major(sb.st_dev) << 32 | minor(sb.st_dev),
				      sb.st_ino, real, NULL, pqfile_attach, p);
		if (r < 0)
			return r;
		added += r;
	}
	return added;
}

struct scan_ctx {
	struct pgclient *p;
	int pid;
	int added;
};

static int on_map(void *ctx, const struct proc_map *m)
{
	struct scan_ctx *c = ctx;
	char mf[96], root[PATH_MAX + 32];
	int r;

	if (!is_libpq(m->path) || !procfilter__wanted(&c->p->procs, c->pid))
		return 0;
	/*
	 * map_files names exactly the mapped file, whatever mount namespace the process lives in,
	 * even if deleted or replaced since; its root is the fallback.
	 */
	snprintf(mf, sizeof(mf), "/proc/%d/map_files/%llx-%llx", c->pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	snprintf(root, sizeof(root), "/proc/%d/root%s", c->pid, m->path);
	r = probed_files__add(&c->p->files, m->dev, m->ino, mf, root, pqfile_attach, c->p);
	if (r < 0)
		return r;
	c->added += r;
	return 0;
}

static int proc_scan_maps(struct pgclient *p, int pid)
{
	struct scan_ctx c = { .p = p, .pid = pid };
	int r = proc_maps__each(NULL, pid, on_map, &c);

	/* Gone, or not ours to read: nothing to probe. */
	if (r < 0 && r != -ENOENT && r != -EACCES && r != -ESRCH)
		return r;
	return c.added;
}

/* A process gone since it was scanned: forget its statements, and what its maps said. */
static bool scanned_gone(uint64_t tgid, uint64_t stamp, void *ctx)
{
	struct pgclient *p = ctx;

	if (!kill((pid_t)tgid, 0) || errno != ESRCH)
		return false;
	if (p->nstmts)
		stmt_forget(p, tgid, 0);
	return true;
}

int pgclient__scan(struct pgclient *p)
{
	struct dirent *de;
	int added = 0, r;
	DIR *d;

	if (!p->scanned_system) {
		r = pqfile_system(p);
		if (r < 0)
			return r;
		added += r;
		p->scanned_system = true;
	}
	d = opendir("/proc");
	if (!d)
		return -errno;
	procfilter__scan_start(&p->procs);
	while ((de = readdir(d))) {
		int pid = atoi(de->d_name);
		uint64_t stamp, *seen;

		if (pid <= 0 || (uint32_t)pid == p->o.self_tgid)
			continue;
		procfilter__seen(&p->procs, pid);
		/* Read the maps of a process again only when its mappings grew or shrank. */
		stamp = proc_maps__stamp(NULL, pid);
		seen = u64map__get(&p->scanned, pid);
		if (!stamp || (seen && *seen == stamp))
			continue;
		r = proc_scan_maps(p, pid);
		if (r < 0) {
			closedir(d);
			return r;
		}
		added += r;
		u64map__put(&p->scanned, pid, stamp);
	}
	closedir(d);
	procfilter__scan_end(&p->procs);
	u64map__remove_if(&p->scanned, scanned_gone, p);
	return added;
}

int pgclient__open(struct pgclient **out, const struct pgclient_opts *o, db_exec_fn emit, void *ctx,
		   char *err, size_t errsz)
{
	struct pgclient *p = calloc(1, sizeof(*p));
	unsigned rb_bytes;
	int e;

	*out = NULL;
	if (!p) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	p->o = *o;
	if (!p->o.self_tgid)
		p->o.self_tgid = getpid();
	p->emit = emit;
	p->ctx = ctx;
	p->skel = pgclient_bpf__open();
	if (!p->skel) {
		e = -errno;
		snprintf(err, errsz, "opening BPF object: %s", strerror(-e));
		goto cleanup;
	}
	bpfobj__init(&p->bo, p->skel, p->skel->obj, skel_destroy);
	procfilter__init(&p->procs, p->skel->maps.procs, o->want_pid, o->want_ctx);
	p->skel->rodata->targ_self_tgid = p->o.self_tgid;
	if (o->text_max)
		p->skel->rodata->targ_text_max =
			o->text_max < PGCLIENT_TEXT_MAX - 1 ? o->text_max : PGCLIENT_TEXT_MAX - 1;
	p->skel->rodata->filter_procs = o->want_pid != NULL;
	rb_bytes =
		bpfobj__ring_size(p->skel->maps.events, o->ringbuf_bytes, PGCLIENT_RINGBUF_DEFAULT);
	/* Wake the reader when a quarter of the ring is waiting; it also drains on a timer. */
	p->skel->rodata->targ_wakeup_bytes = rb_bytes / 4;
	e = pgclient_bpf__load(p->skel);
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
	pgclient__close(p);
	return e ? e : -EINVAL;
}

int pgclient__consume(struct pgclient *p)
{
	return bpfobj__consume(&p->bo);
}

int pgclient__epoll_fd(struct pgclient *p)
{
	return bpfobj__epoll_fd(&p->bo);
}

void pgclient__stats(struct pgclient *p, struct pgclient_stats *out)
{
	*out = p->st;
	out->files = p->files.probed;
	out->files_failed = p->files.failed;
	bpfobj__sum_percpu(p->skel->maps.stats, PGCLIENT_STAT_NR, out->bpf);
}

void pgclient__run_stats(struct pgclient *p, uint64_t *run_ns, uint64_t *run_cnt)
{
	bpfobj__run_stats(&p->bo, run_ns, run_cnt);
}

void pgclient__close(struct pgclient *p)
{
	if (!p)
		return;
	probed_files__free(&p->files);
	bpfobj__free(&p->bo);
	for (size_t i = 0; i < STMT_BUCKETS; i++) {
		while (p->stmts[i]) {
			struct stmt *s = p->stmts[i];

			p->stmts[i] = s->next;
			free(s->name);
			free(s->text);
			free(s);
		}
	}
	procfilter__free(&p->procs);
	u64map__free(&p->scanned);
	free(p);
}
