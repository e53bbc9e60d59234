// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/u64map.h"

uint64_t *u64map__get(const struct u64map *m, uint64_t key)
{
	if (!m->cap)
		return NULL;
	for (size_t i = u64map__mix(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->keys[i])
			return NULL;
		if (m->keys[i] == key)
			return &m->vals[i];
	}
}

int u64map__put(struct u64map *m, uint64_t key, uint64_t val)
{
	uint64_t *v = u64map__get(m, key);
	size_t i;

	if (v) {
		*v = val;
		return 0;
	}
	if ((m->n + 1) * 2 > m->cap) {
		struct u64map g = { .cap = m->cap ? m->cap * 2 : 256 };

		g.keys = calloc(g.cap, sizeof(*g.keys));
		g.vals = calloc(g.cap, sizeof(*g.vals));
		if (!g.keys || !g.vals) {
			free(g.keys);
			free(g.vals);
			return -ENOMEM;
		}
		for (i = 0; i < m->cap; i++)
			if (m->keys[i])
				u64map__put(&g, m->keys[i], m->vals[i]);
		free(m->keys);
		free(m->vals);
		*m = g;
	}
	for (i = u64map__mix(key) & (m->cap - 1); m->keys[i]; i = (i + 1) & (m->cap - 1))
		;
	m->keys[i] = key;
	m->vals[i] = val;
	m->n++;
	return 0;
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

size_t u64map__remove_if(struct u64map *m, bool (*drop)(uint64_t key, uint64_t val, void *ctx),
			 void *ctx)
{
	size_t n = 0;

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
