// SPDX-License-Identifier: GPL-2.0-only
/*
 * The loader's tcp section: listeners' drops per port, retransmits and resets per peer, their
 * timeline and the host's netstat deltas (docs/saturation.md). The timeline's counts must add
 * up to no more than the rows' totals: both are the same kernel counts.
 */
#include <stdio.h>
#include <string.h>
#include <json-c/json.h>

#include "run/run_load.h"
#include "run/run_priv.h"
#include "run/runfile.h"

static int get_port(struct ld *l, json_object *o, const char *w, uint16_t *port)
{
	uint64_t v;
	int err = ld__get_u64(l, o, w, "port", REQ, &v);

	if (err)
		return err;
	if (v > 65535)
		return ld__fail(l, w, "port", "%llu is not a port", (unsigned long long)v);
	*port = (uint16_t)v;
	return 0;
}

static int get_counts(struct ld *l, json_object *o, const char *w, uint64_t *n)
{
	int err = 0;

	for (int k = 0; k < RUN_TCP_KIND_NR && !err; k++)
		err = ld__get_u64(l, o, w, run_tcp_names[k], REQ, &n[k]);
	return err;
}

/* The array k of the section, its rows allocated in the run's arena. */
static int get_rows(struct ld *l, json_object *t, const char *k, size_t size, void **rows,
		    unsigned *n, json_object **a)
{
	int err = ld__get(l, t, "tcp", k, T_ARR, REQ, a);

	if (err)
		return err;
	*n = (unsigned)json_object_array_length(*a);
	*rows = run__alloc(l->r, (*n ? *n : 1) * size);
	return *rows ? 0 : ld__nomem(l);
}

static int load_listeners(struct ld *l, json_object *t, struct run_tcp *rt)
{
	json_object *a;
	char w[W_MAX];
	int err = get_rows(l, t, "listeners", sizeof(*rt->listeners), (void **)&rt->listeners,
			   &rt->nlisteners, &a);

	for (unsigned i = 0; !err && i < rt->nlisteners; i++) {
		json_object *o = json_object_array_get_idx(a, i);
		struct run_tcp_listener *x = &rt->listeners[i];

		ld__wpath(w, "tcp.listeners[%u]", i);
		if (!json_object_is_type(o, json_type_object))
			return ld__fail(l, w, NULL, "must be an object");
		if ((err = get_port(l, o, w, &x->port)) ||
		    (err = ld__get_u64(l, o, w, "sockets", REQ, &x->sockets)) ||
		    (err = ld__get_u64(l, o, w, "drops", REQ, &x->drops)) ||
		    (err = ld__get_u64(l, o, w, "accept_queue_max", REQ, &x->accept_queue_max)) ||
		    (err = ld__get_u64(l, o, w, "backlog", REQ, &x->backlog)))
			return err;
		if (!x->sockets)
			return ld__fail(l, w, "sockets", "a port listens on one socket at least");
	}
	return err;
}

static int load_peers(struct ld *l, json_object *t, struct run_tcp *rt)
{
	json_object *a;
	char w[W_MAX];
	int err = get_rows(l, t, "peers", sizeof(*rt->peers), (void **)&rt->peers, &rt->npeers, &a);

	for (unsigned i = 0; !err && i < rt->npeers; i++) {
		json_object *o = json_object_array_get_idx(a, i);
		struct run_tcp_peer *p = &rt->peers[i];
		const char *role;

		ld__wpath(w, "tcp.peers[%u]", i);
		if (!json_object_is_type(o, json_type_object))
			return ld__fail(l, w, NULL, "must be an object");
		if ((err = ld__get_str(l, o, w, "role", REQ, &role)) ||
		    (err = get_port(l, o, w, &p->port)) ||
		    (err = ld__get_str(l, o, w, "peer", REQ, &p->peer)) ||
		    (err = get_counts(l, o, w, p->n)))
			return err;
		if (strcmp(role, "server") && strcmp(role, "client"))
			return ld__fail(l, w, "role", "must be \"server\" or \"client\"");
		p->server = !strcmp(role, "server");
	}
	return err;
}

static int load_points(struct ld *l, json_object *t, struct run_tcp *rt)
{
	json_object *a;
	char w[W_MAX];
	double last = 0;
	int err = get_rows(l, t, "timeline", sizeof(*rt->points), (void **)&rt->points,
			   &rt->npoints, &a);

	for (unsigned i = 0; !err && i < rt->npoints; i++) {
		json_object *o = json_object_array_get_idx(a, i);
		struct run_tcp_point *p = &rt->points[i];

		ld__wpath(w, "tcp.timeline[%u]", i);
		if (!json_object_is_type(o, json_type_object))
			return ld__fail(l, w, NULL, "must be an object");
		if ((err = ld__get_pos(l, o, w, "t", REQ, &p->t)) ||
		    (err = ld__get_u64(l, o, w, "drops", REQ, &p->drops)) ||
		    (err = get_counts(l, o, w, p->n)))
			return err;
		if (p->t < last)
			return ld__fail(l, w, "t", "goes back in time");
		last = p->t;
	}
	return err;
}

/* The timeline's sums can not exceed the totals they are parts of. */
static int check_sums(struct ld *l, const struct run_tcp *rt)
{
	unsigned __int128 tl[RUN_TCP_KIND_NR + 1] = { 0 }, tot[RUN_TCP_KIND_NR + 1] = { 0 };

	for (unsigned i = 0; i < rt->npoints; i++) {
		tl[RUN_TCP_KIND_NR] += rt->points[i].drops;
		for (int k = 0; k < RUN_TCP_KIND_NR; k++)
			tl[k] += rt->points[i].n[k];
	}
	for (unsigned i = 0; i < rt->npeers; i++)
		for (int k = 0; k < RUN_TCP_KIND_NR; k++)
			tot[k] += rt->peers[i].n[k];
	for (int k = 0; k < RUN_TCP_KIND_NR; k++)
		if (tl[k] > tot[k])
			return ld__fail(l, "tcp", "timeline", "counts more %s than the peers",
					run_tcp_names[k]);
	return 0;
}

int ld__load_tcp(struct ld *l, json_object *root)
{
	struct run_tcp *rt = &l->r->tcp;
	json_object *t, *h;
	int err = ld__get(l, root, "", "tcp", T_OBJ, 0, &t);

	if (err || !t)
		return err;
	l->r->has_tcp = true;
	if ((err = load_listeners(l, t, rt)) || (err = load_peers(l, t, rt)) ||
	    (err = load_points(l, t, rt)) ||
	    (err = ld__get(l, t, "tcp", "host", T_OBJ, NULLOK, &h)))
		return err;
	if (h) {
		rt->has_host = true;
		if ((err = ld__get_u64(l, h, "tcp.host", "listen_overflows", REQ,
				       &rt->host_overflows)) ||
		    (err = ld__get_u64(l, h, "tcp.host", "listen_drops", REQ, &rt->host_drops)))
			return err;
	}
	if ((err = ld__get_u64(l, t, "tcp", "peers_lost", REQ, &rt->peers_lost)) ||
	    (err = ld__get_u64(l, t, "tcp", "listeners_lost", REQ, &rt->listeners_lost)) ||
	    (err = ld__get_u64(l, t, "tcp", "reads_failed", REQ, &rt->reads_failed)))
		return err;
	return check_sums(l, rt);
}
