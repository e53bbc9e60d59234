// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "probes/bpfobj.h"
#include "lib/textesc.h"

void bpfobj__init(struct bpfobj *b, void *skel, struct bpf_object *obj, void (*destroy)(void *))
{
	b->skel = skel;
	b->obj = obj;
	b->destroy = destroy;
	b->rb = NULL;
}

unsigned bpfobj__ring_bytes(unsigned budget, unsigned dflt)
{
	long page = sysconf(_SC_PAGESIZE);
	unsigned size = 1;

	if (!budget)
		budget = dflt;
	if (page <= 0)
		page = 4096;
	while (size <= budget / 2)
		size *= 2;
	return size < (unsigned long)page ? (unsigned)page : size;
}

unsigned bpfobj__ring_size(struct bpf_map *events, unsigned budget, unsigned dflt)
{
	unsigned size = bpfobj__ring_bytes(budget, dflt);

	bpf_map__set_max_entries(events, size);
	return size;
}

int bpfobj__ring_open(struct bpfobj *b, struct bpf_map *events, bpfobj_event_fn fn, void *ctx)
{
	b->rb = ring_buffer__new(bpf_map__fd(events), fn, ctx, NULL);
	return b->rb ? 0 : -errno;
}

int bpfobj__poll(struct bpfobj *b, int timeout_ms)
{
	int n = ring_buffer__poll(b->rb, timeout_ms);

	if (n < 0 && n != -EINTR)
		return n;
	/* Producers skip wake-ups for small batches: always drain after the wait. */
	return bpfobj__consume(b);
}

int bpfobj__consume(struct bpfobj *b)
{
	int n = ring_buffer__consume(b->rb);

	return n == -EINTR ? 0 : n;
}

int bpfobj__epoll_fd(struct bpfobj *b)
{
	return ring_buffer__epoll_fd(b->rb);
}

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

void bpfobj__run_stats(const struct bpfobj *b, uint64_t *run_ns, uint64_t *run_cnt)
{
	struct bpf_program *prog;

	*run_ns = *run_cnt = 0;
	bpf_object__for_each_program(prog, b->obj)
	{
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			continue;
		*run_ns += info.run_time_ns;
		*run_cnt += info.run_cnt;
	}
}

int bpfobj__prog_ids(const struct bpfobj *b, uint32_t *ids, int max)
{
	struct bpf_program *prog;
	int n = 0;

	bpf_object__for_each_program(prog, b->obj)
	{
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (n == max)
			break;
		if (bpf_obj_get_info_by_fd(bpf_program__fd(prog), &info, &len))
			continue;
		ids[n++] = info.id;
	}
	return n;
}

void bpfobj__free(struct bpfobj *b)
{
	ring_buffer__free(b->rb);
	b->rb = NULL;
	if (b->skel && b->destroy)
		b->destroy(b->skel);
	b->skel = NULL;
	b->obj = NULL;
}

static bool verbose;
static char last_error[256];

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	va_list copy;
	char *msg;

	if (level == LIBBPF_WARN) {
		size_t n;

		va_copy(copy, args);
		vsnprintf(last_error, sizeof(last_error), fmt, copy);
		va_end(copy);
		n = strlen(last_error);
		while (n && last_error[n - 1] == '\n')
			last_error[--n] = '\0';
	}
	if (!verbose)
		return 0;
	/* Messages may name traced programs' files: escaped, their own line breaks kept. */
	if (vasprintf(&msg, fmt, args) < 0)
		return -ENOMEM;
	for (char *p = msg, *nl; *p; p = nl + 1) {
		nl = strchrnul(p, '\n');
		textesc__write(stderr, p, nl - p);
		if (!*nl)
			break;
		putc('\n', stderr);
	}
	free(msg);
	return 0;
}

void bpfobj__set_verbose(bool v)
{
	verbose = v;
	libbpf_set_print(libbpf_print);
}

const char *bpfobj__last_libbpf_error(void)
{
	return last_error;
}

void bpfobj__why(char *err, size_t errsz, const char *what, int e)
{
	snprintf(err, errsz, "%s: %s%s%s", what, strerror(-e), last_error[0] ? ": " : "",
		 last_error);
}
