// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/u64map.h"

/* The map's first table when a put needs one. */
#define FIRST_CAP 256

uint64_t *u64map__get(const struct u64map *m, uint64_t key)
{
	size_t mask = m->cap - 1;

	if (!key)
		return m->has0 ? (uint64_t *)&m->val0 : NULL;
	if (!m->cap)
		return NULL;
	for (size_t i = u64map__mix(key) & mask;; i = (i + 1) & mask) {
		if (!m->keys[i])
			return NULL;
		if (m->keys[i] == key)
			return &m->vals[i];
	}
}

/* key (not 0, not in the map) into the first free slot of its probe run. */
static void place(struct u64map *m, uint64_t key, uint64_t val)
{
	size_t mask = m->cap - 1, i;

	for (i = u64map__mix(key) & mask; m->keys[i]; i = (i + 1) & mask)
		;
	m->keys[i] = key;
	m->vals[i] = val;
}

static int resize(struct u64map *m, size_t cap)
{
	struct u64map g = { .cap = cap };

	g.keys = calloc(g.cap, sizeof(*g.keys));
	g.vals = calloc(g.cap, sizeof(*g.vals));
	if (!g.keys || !g.vals) {
		free(g.keys);
		free(g.vals);
		return -ENOMEM;
	}
	for (size_t i = 0; i < m->cap; i++)
		if (m->keys[i])
			place(&g, m->keys[i], m->vals[i]);
	free(m->keys);
	free(m->vals);
	m->keys = g.keys;
	m->vals = g.vals;
	m->cap = g.cap;
	return 0;
}

int u64map__put(struct u64map *m, uint64_t key, uint64_t val)
{
	uint64_t *v = u64map__get(m, key);

	if (v) {
		*v = val;
		return 0;
	}
	if (!key) {
		m->has0 = true;
		m->val0 = val;
	} else {
		/* n counts key 0 too: a little early at worst, and what reserve promises. */
		if ((m->n + 1) * 2 > m->cap && resize(m, m->cap ? m->cap * 2 : FIRST_CAP))
			return -ENOMEM;
		place(m, key, val);
	}
	m->n++;
	return 0;
}

int u64map__reserve(struct u64map *m, size_t n)
{
	size_t cap = 16;

	if (n > SIZE_MAX / 4)
		return -ENOMEM;
	while (cap < 2 * n)
		cap *= 2;
	return cap > m->cap ? resize(m, cap) : 0;
}

/* Deletion with backward shift, so that lookups never need tombstones. */
static void del_at(struct u64map *m, size_t i)
{
	size_t j = i, home;

	m->keys[i] = 0;
	m->n--;
	for (;;) {
		j = (j + 1) & (m->cap - 1);
		if (!m->keys[j])
			return;
		home = u64map__mix(m->keys[j]) & (m->cap - 1);
		/* Move j into the hole unless its home lies cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			m->keys[i] = m->keys[j];
			m->vals[i] = m->vals[j];
			m->keys[j] = 0;
			i = j;
		}
	}
}

bool u64map__del(struct u64map *m, uint64_t key)
{
	uint64_t *v;

	if (!key) {
		if (!m->has0)
			return false;
		m->has0 = false;
		m->n--;
		return true;
	}
	v = u64map__get(m, key);
	if (!v)
		return false;
	del_at(m, (size_t)(v - m->vals));
	return true;
}

size_t u64map__remove_if(struct u64map *m, bool (*drop)(uint64_t key, uint64_t val, void *ctx),
			 void *ctx)
{
	size_t n = 0;

	if (m->has0 && drop(0, m->val0, ctx)) {
		m->has0 = false;
		m->n--;
		n++;
	}
	/*
	 * A backward shift may move a later entry into slot i (checked again at once) or an
	 * entry from the start of the table to the end when it wraps (checked when reached).
	 */
	for (size_t i = 0; i < m->cap; i++) {
		while (m->keys[i] && drop(m->keys[i], m->vals[i], ctx)) {
			del_at(m, i);
			n++;
		}
	}
	return n;
}

void u64map__free(struct u64map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}
