// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "record/tcpsat.h"

static void *grow(void *p, unsigned n, unsigned *cap, size_t size)
{
	unsigned c;
	void *q;

	if (n < *cap)
		return p;
	c = *cap ? 2 * *cap : 16;
	q = realloc(p, (size_t)c * size);
	if (q)
		*cap = c;
	return q;
}

static bool same(const struct tcpsat_peer *p, const struct sockio_tcp_key *k)
{
	return p->port == k->port && p->server == k->server && p->family == k->family &&
	       !memcmp(p->addr, k->addr, sizeof(p->addr));
}

static uint64_t key_hash(const struct sockio_tcp_key *k)
{
	uint64_t a, b;

	memcpy(&a, k->addr, 8);
	memcpy(&b, k->addr + 8, 8);
	return u64map__mix(a ^
			   u64map__mix(b ^ ((uint64_t)k->port << 16 | k->server << 8 | k->family)));
}

/* The row of k, or npeers: by its hash, else (a collision, rare) by a walk. */
static unsigned peer_find(const struct tcpsat *t, const struct sockio_tcp_key *k, uint64_t h)
{
	uint64_t *ix = u64map__get(&t->peer_ix, h);
	unsigned i;

	if (ix && same(&t->peers[*ix], k))
		return (unsigned)*ix;
	if (!ix)
		return t->npeers;
	for (i = 0; i < t->npeers && !same(&t->peers[i], k); i++)
		;
	return i;
}

void tcpsat__peer(struct tcpsat *t, const struct sockio_tcp_key *k, uint64_t n)
{
	struct tcpsat_peer *p, *np;
	uint64_t h = key_hash(k);
	unsigned i;

	if (k->kind >= SOCKIO_TCP_KIND_ALL)
		return;
	i = peer_find(t, k, h);
	if (i == t->npeers) {
		/* The map holds at most SOCKIO_TCP_PEERS_MAX keys: no more rows than that. */
		np = grow(t->peers, t->npeers, &t->cap_peers, sizeof(*np));
		if (!np)
			return;
		t->peers = np;
		/* A hash already taken keeps its row: the other is found by the walk. */
		if (!u64map__get(&t->peer_ix, h) && u64map__put(&t->peer_ix, h, t->npeers))
			return;
		p = &t->peers[t->npeers++];
		memset(p, 0, sizeof(*p));
		memcpy(p->addr, k->addr, sizeof(p->addr));
		p->port = k->port;
		p->family = k->family;
		p->server = k->server;
	}
	t->peers[i].n[k->kind] = n;
}

void tcpsat__listener(struct tcpsat *t, const struct sockdiag_listener *l)
{
	struct tcpsat_listener *x, *nx;
	uint64_t *ix = u64map__get(&t->ls_ix, l->inode);
	unsigned i = ix ? (unsigned)*ix : t->nls;

	if (i == t->nls) {
		nx = t->nls < TCPSAT_LISTENERS_MAX ? grow(t->ls, t->nls, &t->cap_ls, sizeof(*nx))
						   : NULL;
		if (nx)
			t->ls = nx;
		if (!nx || u64map__put(&t->ls_ix, l->inode, t->nls)) {
			t->listeners_lost++;
			return;
		}
		x = &t->ls[t->nls++];
		memset(x, 0, sizeof(*x));
		x->inode = l->inode;
		x->port = l->port;
		x->family = l->family;
		memcpy(x->addr, l->addr, sizeof(x->addr));
		x->base = t->started ? 0 : l->drops;
	}
	x = &t->ls[i];
	if (l->drops >= x->base)
		x->drops = l->drops - x->base;
	if (l->queued > x->queued_max)
		x->queued_max = l->queued;
	x->backlog = l->backlog;
}

void tcpsat__start(struct tcpsat *t)
{
	t->started = true;
}

uint64_t tcpsat__port_double(const struct tcpsat *t, uint16_t port)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < t->npeers; i++)
		if (t->peers[i].server && t->peers[i].port == port)
			n += t->peers[i].n[SOCKIO_TCP_ACK_OVERFLOW];
	return n;
}

uint64_t tcpsat__drops(const struct tcpsat *t)
{
	uint64_t n = 0, dup;

	for (unsigned i = 0; i < t->nls; i++)
		n += t->ls[i].drops;
	/* A drop counted twice was counted once at least: never below zero. */
	dup = tcpsat__total(t, SOCKIO_TCP_ACK_OVERFLOW);
	return n > dup ? n - dup : 0;
}

uint64_t tcpsat__total(const struct tcpsat *t, enum sockio_tcp_kind k)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < t->npeers; i++)
		n += t->peers[i].n[k];
	return n;
}

void tcpsat__roll(struct tcpsat *t, double t_s)
{
	struct tcpsat_point *p, *np;
	uint64_t d = tcpsat__drops(t);

	np = grow(t->points, t->npoints, &t->cap_points, sizeof(*np));
	if (!np) {
		t->points_lost++;
		return;
	}
	t->points = np;
	p = &t->points[t->npoints++];
	p->t = t_s;
	/*
	 * Listeners are kept when they close, with their last drops; but the double counts and
	 * the drops are two reads, which a drop between them can put one apart for an interval.
	 */
	p->drops = d > t->last_drops ? d - t->last_drops : 0;
	t->last_drops = d > t->last_drops ? d : t->last_drops;
	for (int k = 0; k < SOCKIO_TCP_KIND_NR; k++) {
		uint64_t n = tcpsat__total(t, k);

		p->n[k] = n - t->last_n[k];
		t->last_n[k] = n;
	}
}

bool tcpsat__pending(const struct tcpsat *t)
{
	if (tcpsat__drops(t) > t->last_drops)
		return true;
	for (int k = 0; k < SOCKIO_TCP_KIND_NR; k++)
		if (tcpsat__total(t, k) != t->last_n[k])
			return true;
	return false;
}

void tcpsat__free(struct tcpsat *t)
{
	free(t->peers);
	free(t->ls);
	u64map__free(&t->peer_ix);
	u64map__free(&t->ls_ix);
	free(t->points);
	memset(t, 0, sizeof(*t));
}
