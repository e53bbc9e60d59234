// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/random.h>

#include "proto/route.h"

/*
 * Limiter: one open-addressing table of 64-bit keys. A value's key is a hash of its parent's
 * key and the value's bytes, and that key is also the key of the position below it, so one
 * entry serves as "value seen at the parent" and as "position with its own child count".
 */
#define LIMITER_MAX_PROBE 64
#define LIMITER_ROOT_TAG  0x73636f7065ull /* "scope": never a parent key in practice */

struct limiter_entry {
	uint64_t key;	 /* 0: empty */
	uint32_t nchild; /* distinct literal values seen below */
	uint32_t collapsed;
};

struct route_limiter {
	struct limiter_entry *tab;
	size_t mask;
	size_t used;
	size_t max_tracked;
	unsigned max_distinct;
	uint64_t k[2];
	uint64_t ncollapsed;
	uint64_t nuntracked;
};

#define ROTL64(x, b) (((x) << (b)) | ((x) >> (64 - (b))))

static void sip_round(uint64_t v[4])
{
	v[0] += v[1];
	v[1] = ROTL64(v[1], 13);
	v[1] ^= v[0];
	v[0] = ROTL64(v[0], 32);
	v[2] += v[3];
	v[3] = ROTL64(v[3], 16);
	v[3] ^= v[2];
	v[0] += v[3];
	v[3] = ROTL64(v[3], 21);
	v[3] ^= v[0];
	v[2] += v[1];
	v[1] = ROTL64(v[1], 17);
	v[1] ^= v[2];
	v[2] = ROTL64(v[2], 32);
}

static void sip_block(uint64_t v[4], uint64_t m)
{
	v[3] ^= m;
	sip_round(v);
	sip_round(v);
	v[0] ^= m;
}

/* SipHash-2-4 of the message le64(first) || p[0..n); keyed so crafted paths cannot collide. */
uint64_t route__siphash(const uint64_t k[2], uint64_t first, const char *p, size_t n)
{
	uint64_t v[4] = {
		0x736f6d6570736575ull ^ k[0],
		0x646f72616e646f6dull ^ k[1],
		0x6c7967656e657261ull ^ k[0],
		0x7465646279746573ull ^ k[1],
	};
	uint64_t m;
	size_t i, j;

	sip_block(v, first);
	for (i = 0; i + 8 <= n; i += 8) {
		for (m = 0, j = 0; j < 8; j++)
			m |= (uint64_t)(unsigned char)p[i + j] << (8 * j);
		sip_block(v, m);
	}
	m = (uint64_t)(n + 8) << 56;
	for (j = 0; i + j < n; j++)
		m |= (uint64_t)(unsigned char)p[i + j] << (8 * j);
	sip_block(v, m);
	v[2] ^= 0xff;
	for (j = 0; j < 4; j++)
		sip_round(v);
	m = v[0] ^ v[1] ^ v[2] ^ v[3];
	return m ? m : 1;
}

struct route_limiter *route_limiter__new(unsigned max_distinct, unsigned max_tracked)
{
	struct route_limiter *l;
	size_t cap = 8;

	if (!max_distinct)
		max_distinct = ROUTE_LIMIT_DISTINCT;
	if (!max_tracked)
		max_tracked = ROUTE_LIMIT_TRACKED;
	/* Load stays under 2/3, so probe runs stay short and LIMITER_MAX_PROBE is rarely hit. */
	while (cap < (size_t)max_tracked + max_tracked / 2)
		cap *= 2;
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->tab = calloc(cap, sizeof(*l->tab));
	if (!l->tab) {
		free(l);
		return NULL;
	}
	l->mask = cap - 1;
	l->max_tracked = max_tracked;
	l->max_distinct = max_distinct;
	if (getrandom(l->k, sizeof(l->k), GRND_NONBLOCK) != sizeof(l->k)) {
		struct timespec ts;

		/* Without entropy the table still works; it is only easier to attack. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		l->k[0] = (uint64_t)ts.tv_nsec ^ (uint64_t)(uintptr_t)l;
		l->k[1] = (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)l->tab;
	}
	return l;
}

void route_limiter__free(struct route_limiter *l)
{
	if (!l)
		return;
	free(l->tab);
	free(l);
}

uint64_t route_limiter__collapsed(const struct route_limiter *l)
{
	return l ? l->ncollapsed : 0;
}

uint64_t route_limiter__untracked(const struct route_limiter *l)
{
	return l ? l->nuntracked : 0;
}

/* NULL when absent and either !insert or there is no room (table full or probe run too long). */
static struct limiter_entry *limiter_get(struct route_limiter *l, uint64_t key, bool insert)
{
	size_t i = key & l->mask;

	for (unsigned probe = 0; probe < LIMITER_MAX_PROBE && probe <= l->mask; probe++) {
		struct limiter_entry *e = &l->tab[(i + probe) & l->mask];

		if (e->key == key)
			return e;
		if (e->key)
			continue;
		if (!insert || l->used >= l->max_tracked)
			return NULL;
		e->key = key;
		l->used++;
		return e;
	}
	return NULL;
}

static bool is_placeholder(const char *p, size_t n)
{
	return n >= 2 && p[0] == '{' && p[n - 1] == '}';
}

/*
 * Puts "{*}" in place of route[at..at+n) and returns the new length. If the route would no
 * longer fit in sz, whole segments are dropped from its end first; if even that is not enough,
 * the route is cut before the segment and 0 is returned.
 */
static size_t replace_segment(char *route, size_t len, size_t sz, size_t at, size_t n)
{
	while (len - n + 3 >= sz && len > at + n) {
		char *slash = strrchr(route + at + n, '/');

		*slash = '\0';
		len = slash - route;
	}
	if (len - n + 3 < sz) {
		memmove(route + at + 3, route + at + n, len - at - n + 1);
		memcpy(route + at, "{*}", 3);
		return len - n + 3;
	}
	route[at > 1 ? at - 1 : 1] = '\0';
	return 0;
}

int route_limiter__apply(struct route_limiter *l, const char *scope, char *route, size_t sz)
{
	struct limiter_entry *node;
	uint64_t key;
	size_t len, at = 1;
	int changed = 0;

	if (!route || !sz)
		return -EINVAL;
	len = strnlen(route, sz);
	if (len == sz)
		return -EINVAL;
	if (!l || route[0] != '/')
		return 0;
	if (!scope)
		scope = "";
	key = route__siphash(l->k, LIMITER_ROOT_TAG, scope, strlen(scope));
	node = limiter_get(l, key, true);
	for (;;) {
		char *seg = route + at;
		char *slash = strchr(seg, '/');
		size_t n = slash ? (size_t)(slash - seg) : len - at;
		bool collapse = false, last = !slash;
		struct limiter_entry *child = NULL;
		uint64_t ckey = 0;

		if (is_placeholder(seg, n)) {
			ckey = route__siphash(l->k, key, seg, n);
			if (!last)
				child = limiter_get(l, ckey, true);
		} else if (!node) {
			collapse = true;
			l->nuntracked++;
		} else if (node->collapsed) {
			collapse = true;
		} else {
			ckey = route__siphash(l->k, key, seg, n);
			child = limiter_get(l, ckey, false);
			if (child) {
				/* seen before: keep */
			} else if (node->nchild >= l->max_distinct) {
				node->collapsed = 1;
				l->ncollapsed++;
				collapse = true;
			} else if ((child = limiter_get(l, ckey, true))) {
				node->nchild++;
			} else {
				collapse = true;
				l->nuntracked++;
			}
		}
		if (collapse) {
			changed = 1;
			len = replace_segment(route, len, sz, at, n);
			if (!len)
				break;
			n = 3;
			last = !route[at + n];
			ckey = route__siphash(l->k, key, "{*}", 3);
			if (!last)
				child = limiter_get(l, ckey, true);
		}
		if (last)
			break;
		key = ckey;
		node = child;
		at += n + 1;
	}
	return changed;
}
