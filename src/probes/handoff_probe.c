// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "probes/bpfobj.h"
#include "probes/handoff_probe.h"
#include "probes/kfeat.h"
#include "handoff.skel.h"

struct handoff_probe {
	struct bpfobj bo;
	struct handoff_bpf *skel;
	handoff_ev_fn fn;
	void *ctx;
	uint64_t short_events; /* shorter than struct handoff_ev: ABI mismatch */
};

static void skel_destroy(void *skel)
{
	handoff_bpf__destroy(skel);
}

static int ring_cb(void *ctx, void *data, size_t size)
{
	struct handoff_probe *p = ctx;

	if (size < sizeof(struct handoff_ev)) {
		p->short_events++;
		return 0;
	}
	p->fn(p->ctx, data);
	return 0;
}

int handoff_probe__open(struct handoff_probe **out, const struct kfeat *kf, handoff_ev_fn fn,
			void *ctx, char *err, size_t errsz)
{
	struct handoff_probe *p = calloc(1, sizeof(*p));
	int err_ = 0;

	*out = NULL;
	if (!p) {
		snprintf(err, errsz, "out of memory");
		return -ENOMEM;
	}
	p->fn = fn;
	p->ctx = ctx;
	p->skel = handoff_bpf__open();
	if (!p->skel) {
		err_ = -errno;
		snprintf(err, errsz, "opening the hand-off BPF object: %s", strerror(errno));
		goto cleanup;
	}
	bpfobj__init(&p->bo, p->skel, p->skel->obj, skel_destroy);
	/* One way to see hand-backs: the tracepoint, else the syscalls (bpf/handoff.bpf.c). */
	if (kf && !kf->has[KFEAT_SOCK_SEND_LENGTH]) {
		bpf_program__set_autoload(p->skel->progs.sock_send_length, false);
	} else {
		bpf_program__set_autoload(p->skel->progs.back_write, false);
		bpf_program__set_autoload(p->skel->progs.back_sendto, false);
	}
	err_ = handoff_bpf__load(p->skel);
	if (err_) {
		snprintf(err, errsz, "loading the hand-off BPF programs: %s", strerror(-err_));
		goto cleanup;
	}
	err_ = bpfobj__ring_open(&p->bo, p->skel->maps.events, ring_cb, p);
	if (err_) {
		snprintf(err, errsz, "hand-off ring buffer: %s", strerror(-err_));
		goto cleanup;
	}
	err_ = handoff_bpf__attach(p->skel);
	if (err_) {
		snprintf(err, errsz, "attaching the hand-off BPF programs: %s", strerror(-err_));
		goto cleanup;
	}
	*out = p;
	return 0;

cleanup:
	handoff_probe__close(p);
	return err_ ? err_ : -EINVAL;
}

int handoff_probe__add_proc(struct handoff_probe *p, uint32_t tgid)
{
	__u8 one = 1;

	if (bpf_map__update_elem(p->skel->maps.procs, &tgid, sizeof(tgid), &one, sizeof(one),
				 BPF_ANY))
		return -errno;
	return 0;
}

int handoff_probe__poll(struct handoff_probe *p)
{
	return bpfobj__consume(&p->bo);
}

void handoff_probe__stats(struct handoff_probe *p, uint64_t out[HANDOFF_STAT_NR])
{
	bpfobj__sum_percpu(p->skel->maps.stats, HANDOFF_STAT_NR, out);
	out[HANDOFF_STAT_DROPPED] += p->short_events;
}

void handoff_probe__run_stats(struct handoff_probe *p, uint64_t *run_ns, uint64_t *run_cnt)
{
	bpfobj__run_stats(&p->bo, run_ns, run_cnt);
}

void handoff_probe__close(struct handoff_probe *p)
{
	if (!p)
		return;
	bpfobj__free(&p->bo);
	free(p);
}
