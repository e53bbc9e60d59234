/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the loaders share around their skeletons: the events ring (its size, its reader, its
 * epoll fd), counters and the programs' run time read back, libbpf's log, and the close order.
 * A loader embeds a struct bpfobj and keeps only its programs, settings, attach logic and the
 * decoding of its events.
 */
#ifndef SLOPROBE_BPFOBJ_H
#define SLOPROBE_BPFOBJ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bpf_map;
struct bpf_object;
struct ring_buffer;

typedef int (*bpfobj_event_fn)(void *ctx, void *data, size_t size);

struct bpfobj {
	void *skel; /* NULL until opened */
	struct bpf_object *obj;
	void (*destroy)(void *skel); /* the skeleton's __destroy */
	struct ring_buffer *rb;	     /* the events ring's reader, once loaded */
};

/* Takes an opened skeleton, its object and its __destroy, freed by bpfobj__free(). */
void bpfobj__init(struct bpfobj *b, void *skel, struct bpf_object *obj, void (*destroy)(void *));

/*
 * The size of a ring buffer for a byte budget (0: dflt): the largest power of two not above
 * it, at least a page, as the kernel wants. Sets it on the events map before the load and
 * returns it.
 */
unsigned bpfobj__ring_size(struct bpf_map *events, unsigned budget, unsigned dflt);
unsigned bpfobj__ring_bytes(unsigned budget, unsigned dflt);
/* The reader of the loaded events map: fn(ctx, ...) per record. 0 or -errno. */
int bpfobj__ring_open(struct bpfobj *b, struct bpf_map *events, bpfobj_event_fn fn, void *ctx);
/*
 * Waits up to timeout_ms for a wake-up, then drains: producers skip wake-ups for small
 * batches. Returns the records handed out or -errno; a signal is not an error.
 */
int bpfobj__poll(struct bpfobj *b, int timeout_ms);
/* Drains without waiting; the records handed out or -errno (a signal is not an error). */
int bpfobj__consume(struct bpfobj *b);
/* Readable when the ring has crossed its wake-up threshold. */
int bpfobj__epoll_fd(struct bpfobj *b);

/* out[k] = the sum over CPUs of slot k of a per-CPU array of __u64, for k < n (0 if unreadable). */
void bpfobj__sum_percpu(const struct bpf_map *map, uint32_t n, uint64_t *out);
/* Sum of run_time_ns and run_cnt over the object's programs (kernel.bpf_stats_enabled). */
void bpfobj__run_stats(const struct bpfobj *b, uint64_t *run_ns, uint64_t *run_cnt);
/* The loaded programs' ids, at most max of them; how many. */
int bpfobj__prog_ids(const struct bpfobj *b, uint32_t *ids, int max);

/* The ring's reader first (it maps the ring's fd), then the object. Links the loader made
 * outside the skeleton go before this. Safe on a zeroed or already freed bpfobj. */
void bpfobj__free(struct bpfobj *b);

/*
 * libbpf's log, process-wide: shown (escaped) on stderr if verbose, else only its last warning
 * is kept, for the loaders' messages.
 */
void bpfobj__set_verbose(bool verbose);
const char *bpfobj__last_libbpf_error(void);
/* "what: strerror(-e)", then ": " and libbpf's last warning if it gave one. */
void bpfobj__why(char *err, size_t errsz, const char *what, int e);

#endif
