// SPDX-License-Identifier: GPL-2.0-only
/*
 * merge's tcp section: what the kernel saw about saturation, over several runs. Counts add up
 * per listening port and per (role, port, peer); the largest accept queue and backlog seen are
 * kept. The per-interval timeline is not merged: its intervals belong to one run each (the
 * endpoints' timelines are not merged either).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/merge_priv.h"
#include "run/runfile.h"

static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

static uint64_t peer_total(const struct run_tcp_peer *p)
{
	uint64_t s = 0;

	for (int k = 0; k < RUN_TCP_KIND_NR; k++)
		s += p->n[k];
	return s;
}

static int cmp_listeners(const void *pa, const void *pb)
{
	const struct run_tcp_listener *a = pa, *b = pb;

	return (a->port > b->port) - (a->port < b->port);
}

/* The busiest peers first, then by role, port and address: the order does not depend on input. */
static int cmp_peers(const void *pa, const void *pb)
{
	const struct run_tcp_peer *a = pa, *b = pb;
	uint64_t x = peer_total(a), y = peer_total(b);

	if (x != y)
		return x < y ? 1 : -1;
	if (a->server != b->server)
		return a->server ? -1 : 1;
	if (a->port != b->port)
		return a->port < b->port ? -1 : 1;
	return strcmp(a->peer, b->peer);
}

static struct run_tcp_listener *find_listener(struct run_tcp *t, uint16_t port)
{
	for (unsigned i = 0; i < t->nlisteners; i++)
		if (t->listeners[i].port == port)
			return &t->listeners[i];
	return NULL;
}

static struct run_tcp_peer *find_peer(struct run_tcp *t, const struct run_tcp_peer *p)
{
	for (unsigned i = 0; i < t->npeers; i++) {
		struct run_tcp_peer *q = &t->peers[i];

		if (q->server == p->server && q->port == p->port && !strcmp(q->peer, p->peer))
			return q;
	}
	return NULL;
}

/*
 * Linear lookups: a run holds a few listeners and at most the recorder's peer table
 * (docs/saturation.md), so n inputs cost n x peers^2 compares at worst, done once.
 */
int merge__tcp(struct run *out, const struct run *const *in, unsigned n)
{
	struct run_tcp *t = &out->tcp;
	unsigned nl = 0, np = 0;

	for (unsigned i = 0; i < n; i++) {
		if (!in[i]->has_tcp)
			continue;
		out->has_tcp = true;
		nl += in[i]->tcp.nlisteners;
		np += in[i]->tcp.npeers;
	}
	if (!out->has_tcp)
		return 0;
	t->listeners = run__alloc(out, (nl ? nl : 1) * sizeof(*t->listeners));
	t->peers = run__alloc(out, (np ? np : 1) * sizeof(*t->peers));
	if (!t->listeners || !t->peers)
		return -ENOMEM;
	for (unsigned i = 0; i < n; i++) {
		const struct run_tcp *x = &in[i]->tcp;

		if (!in[i]->has_tcp)
			continue;
		for (unsigned j = 0; j < x->nlisteners; j++) {
			const struct run_tcp_listener *l = &x->listeners[j];
			struct run_tcp_listener *m = find_listener(t, l->port);

			if (!m) {
				t->listeners[t->nlisteners++] = *l;
				continue;
			}
			m->sockets = max_u64(m->sockets, l->sockets);
			m->drops += l->drops;
			m->accept_queue_max = max_u64(m->accept_queue_max, l->accept_queue_max);
			m->backlog = max_u64(m->backlog, l->backlog);
		}
		for (unsigned j = 0; j < x->npeers; j++) {
			const struct run_tcp_peer *p = &x->peers[j];
			struct run_tcp_peer *m = find_peer(t, p);

			if (!m) {
				t->peers[t->npeers++] = *p;
				continue;
			}
			for (int k = 0; k < RUN_TCP_KIND_NR; k++)
				m->n[k] += p->n[k];
		}
		t->has_host |= x->has_host;
		t->host_overflows += x->host_overflows;
		t->host_drops += x->host_drops;
		t->peers_lost += x->peers_lost;
		t->listeners_lost += x->listeners_lost;
		t->reads_failed += x->reads_failed;
	}
	qsort(t->listeners, t->nlisteners, sizeof(*t->listeners), cmp_listeners);
	qsort(t->peers, t->npeers, sizeof(*t->peers), cmp_peers);
	t->points = NULL;
	t->npoints = 0;
	return 0;
}
