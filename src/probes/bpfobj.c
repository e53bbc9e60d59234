// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>
#include <string.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "probes/bpfobj.h"

void bpfobj__sum_percpu(const struct bpf_map *map, uint32_t n, uint64_t *out)
{
	int ncpu = libbpf_num_possible_cpus();
	__u64 *vals;

	memset(out, 0, n * sizeof(*out));
	if (ncpu <= 0)
		return;
	vals = calloc(ncpu, sizeof(*vals));
	if (!vals)
		return;
	for (__u32 k = 0; k < n; k++) {
		if (bpf_map__lookup_elem(map, &k, sizeof(k), vals, sizeof(*vals) * ncpu, 0))
			continue;
		for (int c = 0; c < ncpu; c++)
			out[k] += vals[c];
	}
	free(vals);
}

void bpfobj__run_stats(const struct bpf_object *obj, uint64_t *run_ns, uint64_t *run_cnt)
{
	struct bpf_program *prog;

	*run_ns = *run_cnt = 0;
	bpf_object__for_each_program(prog, obj)
	{
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			continue;
		*run_ns += info.run_time_ns;
		*run_cnt += info.run_cnt;
	}
}
