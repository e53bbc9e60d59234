/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A hash map from u64 to u64: open addressing, linear probing, at most half full. Key 0 marks
 * an empty slot, so its entry is kept beside the table (has0, val0): every key can be stored.
 */
#ifndef SLOPROBE_U64MAP_H
#define SLOPROBE_U64MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A key beside its value: a lookup reads one cache line. */
struct u64map_slot {
	uint64_t key, val;
};

struct u64map {
	struct u64map_slot *slots;
	size_t cap, n; /* cap: 0 or a power of two; n counts key 0 too */
	bool has0;
	uint64_t val0;
};

/* A 64-bit mixer (murmur3's finalizer): the map's hash, also good for bucketing elsewhere. */
static inline uint64_t u64map__mix(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	return x ^ (x >> 33);
}

/* The value of key, or NULL; valid until the next put, del or remove_if. */
uint64_t *u64map__get(const struct u64map *m, uint64_t key);
/* Adds or replaces; -ENOMEM (the map is unchanged). */
int u64map__put(struct u64map *m, uint64_t key, uint64_t val);
/*
 * Room for n keys in all: puts up to n allocate nothing, so they cannot fail. 0 or -ENOMEM
 * (the map is unchanged).
 */
int u64map__reserve(struct u64map *m, size_t n);
/* Removes key; false when it was not there. Never allocates. */
bool u64map__del(struct u64map *m, uint64_t key);
/* Removes the entries for which drop() says so; returns how many. */
size_t u64map__remove_if(struct u64map *m, bool (*drop)(uint64_t key, uint64_t val, void *ctx),
			 void *ctx);
void u64map__free(struct u64map *m);

#endif
