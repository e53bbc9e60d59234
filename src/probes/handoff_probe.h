/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Loader of bpf/handoff.bpf.c: thread-pool hand-offs of the processes added with
 * handoff_probe__add_proc, handed to fn one struct handoff_ev at a time.
 */
#ifndef SLOPROBE_HANDOFF_PROBE_H
#define SLOPROBE_HANDOFF_PROBE_H

#include <stddef.h>
#include <stdint.h>

#include <linux/types.h>

#include "abi/handoff_ev.h"

struct handoff_probe;

struct kfeat;

typedef void (*handoff_ev_fn)(void *ctx, const struct handoff_ev *e);

/*
 * Loads and attaches; err gets one line on failure (-errno). kf: the running kernel's hooks
 * (NULL: all present); without sock_send_length, HANDOFF_EV_BACK comes from the syscalls
 * (docs/kernels.md).
 */
int handoff_probe__open(struct handoff_probe **out, const struct kfeat *kf, handoff_ev_fn fn,
			void *ctx, char *err, size_t errsz);
/* Watch this process from now on. */
int handoff_probe__add_proc(struct handoff_probe *p, uint32_t tgid);
/* Hands every waiting event to fn; the number handed, or -errno. */
int handoff_probe__poll(struct handoff_probe *p);
void handoff_probe__stats(struct handoff_probe *p, uint64_t out[HANDOFF_STAT_NR]);
void handoff_probe__run_stats(struct handoff_probe *p, uint64_t *run_ns, uint64_t *run_cnt);
/* Detaches and frees; p may be NULL. */
void handoff_probe__close(struct handoff_probe *p);

#endif
