// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>
#include <bpf/libbpf.h>

#include "probes/procfilter.h"

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
