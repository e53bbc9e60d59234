// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>
#include <bpf/libbpf.h>

#include "probes/procfilter.h"
#include "host/procinfo.h"

#define CGROUP_ROOT "/sys/fs/cgroup"

bool procfilter_spec__on(const struct procfilter_spec *s)
{
	return s->npids || s->comm || s->cgroup;
}

bool procfilter_spec__match(uint32_t tgid, void *spec)
{
	const struct procfilter_spec *f = spec;
	struct procinfo pi;
	bool found = !f->npids;

	for (size_t i = 0; i < f->npids && !found; i++)
		found = f->pids[i] == tgid;
	if (!found)
		return false;
	if (!f->comm && !f->cgroup)
		return true;
	if (procinfo__read(NULL, tgid, &pi))
		return false;
	if (f->comm && strncmp(pi.comm, f->comm, sizeof(pi.comm) - 1))
		return false;
	if (f->cgroup) {
		const char *want = f->cgroup;
		size_t n;

		/* Hybrid hosts mount cgroup2 at .../unified; procinfo's paths are relative to it. */
		if (!strncmp(want, CGROUP_ROOT "/unified/", strlen(CGROUP_ROOT "/unified/")))
			want += strlen(CGROUP_ROOT "/unified");
		else if (!strncmp(want, CGROUP_ROOT, strlen(CGROUP_ROOT)))
			want += strlen(CGROUP_ROOT);
		n = strlen(want);
		while (n > 1 && want[n - 1] == '/')
			n--;
		/* The directory itself or one below it, as the kernel-side filter does. */
		if (n > 1 && (strncmp(pi.cgroup, want, n) || (pi.cgroup[n] && pi.cgroup[n] != '/')))
			return false;
	}
	return true;
}

void procfilter__init(struct procfilter *f, struct bpf_map *procs,
		      bool (*want)(uint32_t pid, void *ctx), void *ctx)
{
	memset(f, 0, sizeof(*f));
	f->procs = procs;
	f->want = want;
	f->ctx = ctx;
}

bool procfilter__wanted(struct procfilter *f, uint32_t pid)
{
	uint64_t *v;
	uint8_t verdict;
	bool want;

	if (!f->want)
		return true;
	v = u64map__get(&f->verdicts, pid);
	if (v)
		return (*v & 0xff) == PROCFILTER_TRACE;
	want = f->want(pid, f->ctx);
	verdict = want ? PROCFILTER_TRACE : PROCFILTER_IGNORE;
	/* Out of memory: asked again next time, and the BPF side keeps tracing it. */
	if (!u64map__put(&f->verdicts, pid, verdict | f->gen << 8))
		bpf_map__update_elem(f->procs, &pid, sizeof(pid), &verdict, sizeof(verdict),
				     BPF_ANY);
	return want;
}

void procfilter__scan_start(struct procfilter *f)
{
	f->gen++;
}

void procfilter__seen(struct procfilter *f, uint32_t pid)
{
	uint64_t *v = u64map__get(&f->verdicts, pid);

	if (v)
		*v = (*v & 0xff) | f->gen << 8;
}

static bool gone(uint64_t key, uint64_t val, void *ctx)
{
	struct procfilter *f = ctx;
	uint32_t pid = key;

	if (val >> 8 == f->gen)
		return false;
	bpf_map__delete_elem(f->procs, &pid, sizeof(pid), 0);
	return true;
}

void procfilter__scan_end(struct procfilter *f)
{
	u64map__remove_if(&f->verdicts, gone, f);
}

void procfilter__free(struct procfilter *f)
{
	u64map__free(&f->verdicts);
}
