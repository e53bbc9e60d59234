// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "lib/u64map.h"

/* The map's first table when a put needs one. */
#define FIRST_CAP 256

/* The slot of key (not 0), or the empty slot that ends its probe run. cap > 0. */
static struct u64map_slot *probe(const struct u64map *m, uint64_t key)
{
	size_t mask = m->cap - 1, i = u64map__mix(key) & mask;

	while (m->slots[i].key && m->slots[i].key != key)
		i = (i + 1) & mask;
	return &m->slots[i];
}

uint64_t *u64map__get(const struct u64map *m, uint64_t key)
{
	struct u64map_slot *s;

	if (!key)
		return m->has0 ? (uint64_t *)&m->val0 : NULL;
	if (!m->cap)
		return NULL;
	s = probe(m, key);
	return s->key ? &s->val : NULL;
}

static int resize(struct u64map *m, size_t cap)
{
	struct u64map g = { .cap = cap };

	g.slots = calloc(g.cap, sizeof(*g.slots));
	if (!g.slots)
		return -ENOMEM;
	for (size_t i = 0; i < m->cap; i++)
		if (m->slots[i].key)
			*probe(&g, m->slots[i].key) = m->slots[i];
	free(m->slots);
	m->slots = g.slots;
	m->cap = g.cap;
	return 0;
}

int u64map__put(struct u64map *m, uint64_t key, uint64_t val)
{
	struct u64map_slot *s;

	if (!key) {
		m->n += !m->has0;
		m->has0 = true;
		m->val0 = val;
		return 0;
	}
	s = m->cap ? probe(m, key) : NULL;
	if (s && s->key) {
		s->val = val;
		return 0;
	}
	/* n counts key 0 too: a little early at worst, and what reserve promises. */
	if ((m->n + 1) * 2 > m->cap) {
		if (resize(m, m->cap ? m->cap * 2 : FIRST_CAP))
			return -ENOMEM;
		s = probe(m, key);
	}
	s->key = key;
	s->val = val;
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

	m->slots[i].key = 0;
	m->n--;
	for (;;) {
		j = (j + 1) & (m->cap - 1);
		if (!m->slots[j].key)
			return;
		home = u64map__mix(m->slots[j].key) & (m->cap - 1);
		/* Move j into the hole unless its home lies cyclically in (i, j]. */
		if ((j > i && (home <= i || home > j)) || (j < i && home <= i && home > j)) {
			m->slots[i] = m->slots[j];
			m->slots[j].key = 0;
			i = j;
		}
	}
}

bool u64map__del(struct u64map *m, uint64_t key)
{
	struct u64map_slot *s;

	if (!key) {
		if (!m->has0)
			return false;
		m->has0 = false;
		m->n--;
		return true;
	}
	if (!m->cap)
		return false;
	s = probe(m, key);
	if (!s->key)
		return false;
	del_at(m, (size_t)(s - m->slots));
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
		while (m->slots[i].key && drop(m->slots[i].key, m->slots[i].val, ctx)) {
			del_at(m, i);
			n++;
		}
	}
	return n;
}

void u64map__free(struct u64map *m)
{
	free(m->slots);
	memset(m, 0, sizeof(*m));
}
