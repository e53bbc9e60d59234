/* SPDX-License-Identifier: GPL-2.0-only */
/* What every loader reads back from its BPF object: counters and the programs' run time. */
#ifndef SLOPROBE_BPFOBJ_H
#define SLOPROBE_BPFOBJ_H

#include <stdint.h>

struct bpf_map;
struct bpf_object;

/* out[k] = the sum over CPUs of slot k of a per-CPU array of __u64, for k < n (0 if unreadable). */
void bpfobj__sum_percpu(const struct bpf_map *map, uint32_t n, uint64_t *out);
/* Sum of run_time_ns and run_cnt over the object's programs (kernel.bpf_stats_enabled). */
void bpfobj__run_stats(const struct bpf_object *obj, uint64_t *run_ns, uint64_t *run_cnt);

#endif
