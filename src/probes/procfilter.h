/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Which processes a BPF object serves: the caller's want() is asked once per process, the
 * answer is kept and mirrored into the object's `procs` map so that its programs drop the
 * events of ignored processes, and forgotten once the process is gone (its pid may come back
 * as another process).
 */
#ifndef SLOPROBE_PROCFILTER_USER_H
#define SLOPROBE_PROCFILTER_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/u64map.h"
/* By path: this header has the same name, and its directory is searched first. */
#include "abi/procfilter.h"

struct bpf_map;

/*
 * Which processes a recording follows, from -p (the trees as found at the start), --comm and
 * --cgroup: every one given must match, none given lets every process through. sockio's BPF
 * programs judge it in the kernel (bpf/sockio/proc.bpf.h); the uprobe loaders ask
 * procfilter_spec__match() through a struct procfilter.
 */
struct procfilter_spec {
	const uint32_t *pids;
	size_t npids;
	const char *comm;
	const char *cgroup; /* a cgroup v2 directory, /sys/fs/cgroup/... */
};

/* Whether the spec filters at all. */
bool procfilter_spec__on(const struct procfilter_spec *s);
/* A want() for procfilter__init, spec a struct procfilter_spec: reads /proc/PID (false if gone). */
bool procfilter_spec__match(uint32_t tgid, void *spec);

struct procfilter {
	bool (*want)(uint32_t pid, void *ctx); /* NULL: every process */
	void *ctx;
	struct bpf_map *procs;
	struct u64map verdicts; /* pid -> enum procfilter_verdict | scan generation << 8 */
	uint64_t gen;
};

void procfilter__init(struct procfilter *f, struct bpf_map *procs,
		      bool (*want)(uint32_t pid, void *ctx), void *ctx);
bool procfilter__wanted(struct procfilter *f, uint32_t pid);
/*
 * A scan of /proc: procfilter__seen() for each pid found between __scan_start() and
 * __scan_end(), which forgets the verdicts of the processes not seen.
 */
void procfilter__scan_start(struct procfilter *f);
void procfilter__seen(struct procfilter *f, uint32_t pid);
void procfilter__scan_end(struct procfilter *f);
void procfilter__free(struct procfilter *f);

#endif
