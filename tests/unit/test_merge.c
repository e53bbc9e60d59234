// SPDX-License-Identifier: GPL-2.0-only
/*
 * merge__runs on runs built in memory, field by field: the rules of docs/analyze.md (merge) that
 * the report fixtures of test_runfile.c cannot show, because their inputs agree on them.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "analyze/merge.h"
#include "run/runfile.h"

/* n calls of ms milliseconds each, as a histogram owned by r. */
static struct hist_sparse *calls(struct run *r, unsigned n, unsigned ms)
{
	struct hist *h = malloc(sizeof(*h));
	struct hist_sparse *s;

	assert_non_null(h);
	hist__init(h);
	for (unsigned i = 0; i < n; i++)
		hist__add(h, ms * 1000000ull);
	s = run__hist(r, h);
	free(h);
	assert_non_null(s);
	return s;
}

/* n1 calls of ms1 milliseconds and n2 of ms2, as one histogram owned by r. */
static struct hist_sparse *calls2(struct run *r, unsigned n1, unsigned ms1, unsigned n2,
				  unsigned ms2)
{
	struct hist *h = malloc(sizeof(*h));
	struct hist_sparse *s;

	assert_non_null(h);
	hist__init(h);
	for (unsigned i = 0; i < n1 + n2; i++)
		hist__add(h, (i < n1 ? ms1 : ms2) * 1000000ull);
	s = run__hist(r, h);
	free(h);
	assert_non_null(s);
	return s;
}

/* A host's report of the same 10 s, with room for neps endpoints and ndbqs queries. */
static void input(struct run *r, const char *host, unsigned neps, unsigned ndbqs)
{
	assert_int_equal(run__init(r), 0);
	r->hostname = host;
	r->kernel = "6.1.0";
	r->start = "2026-11-30T10:00:00.000Z";
	r->end = "2026-11-30T10:00:10.000Z";
	r->start_ms = 1796032800000ll;
	r->end_ms = r->start_ms + 10000;
	r->duration_s = 10;
	r->eps = run__alloc(r, (neps + 1) * sizeof(*r->eps));
	r->dbqs = run__alloc(r, (ndbqs + 1) * sizeof(*r->dbqs));
	assert_true(r->eps && r->dbqs);
	r->has_db = ndbqs > 0;
}

/* The next endpoint of r: GET route of service app, count requests of 1 ms, no port known. */
static struct run_endpoint *endpoint(struct run *r, const char *route, uint64_t count)
{
	struct run_endpoint *e = &r->eps[r->neps++];

	e->service = "app";
	e->method = "GET";
	e->route = route;
	e->port = -1;
	e->count = count;
	e->hist = calls(r, count, 1);
	return e;
}

/* The next query of r: count calls of ms each, measured on the wire. */
static struct run_dbq *query(struct run *r, const char *id, const char *text, unsigned count,
			     unsigned ms)
{
	struct run_dbq *q = &r->dbqs[r->ndbqs++];

	q->system = "postgresql";
	q->query_id = id;
	q->query = text;
	q->count = count;
	q->main_path = "wire";
	q->hist = calls(r, count, ms);
	return q;
}

static uint64_t *list(struct run *r, const uint64_t *v, unsigned n)
{
	uint64_t *p = run__alloc(r, (n + 1) * sizeof(*p));

	assert_non_null(p);
	memcpy(p, v, n * sizeof(*p));
	return p;
}

static void merge2(struct run *m, const struct run *a, const struct run *b,
		   struct merge_notes *notes)
{
	const struct run *in[2] = { a, b };
	char err[RUNFILE_ERR_MAX];

	if (merge__runs(m, in, 2, notes, err, sizeof(err)))
		fail_msg("merge: %s", err);
}

/* An endpoint's pids are the union of its inputs', sorted, each once: 100, 200, 300. */
static void test_merge_pids_sorted_union(void **state)
{
	static const uint64_t pa[] = { 200, 300 }, pb[] = { 100, 200 };
	struct run a, b, m;
	struct merge_notes notes;
	struct run_endpoint *e;

	input(&a, "web1", 1, 0);
	input(&b, "web2", 1, 0);
	e = endpoint(&a, "/items", 10);
	e->pids = list(&a, pa, 2);
	e->npids = 2;
	e = endpoint(&b, "/items", 10);
	e->pids = list(&b, pb, 2);
	e->npids = 2;
	merge2(&m, &a, &b, &notes);
	assert_int_equal(m.neps, 1);
	assert_int_equal(m.eps[0].npids, 3);
	assert_int_equal(m.eps[0].pids[0], 100);
	assert_int_equal(m.eps[0].pids[1], 200);
	assert_int_equal(m.eps[0].pids[2], 300);
	run__free(&m);
	run__free(&a);
	run__free(&b);
}

/*
 * comm, container and cgroup: each the distinct values of the inputs in order, comma-joined,
 * none taken for another; the port and runtime are the first an input knows.
 */
static void test_merge_process_fields(void **state)
{
	struct run a, b, c, m;
	const struct run *in[3] = { &a, &b, &c };
	struct merge_notes notes;
	char err[RUNFILE_ERR_MAX];
	struct run_endpoint *e;

	input(&a, "web1", 1, 0);
	input(&b, "web2", 1, 0);
	input(&c, "web3", 1, 0);
	e = endpoint(&a, "/items", 10);
	e->comm = "app";
	e->container = "c1";
	e->cgroup = "/kubepods/a";
	e = endpoint(&b, "/items", 10);
	e->comm = "app";
	e->container = "c2";
	e->cgroup = "/kubepods/b";
	e->port = 8080;
	e->runtime = "go";
	e = endpoint(&c, "/items", 10);
	e->comm = "worker";
	e->container = "c1";
	e->cgroup = "/kubepods/a";
	e->port = 8080;
	e->runtime = "jvm";
	assert_int_equal(merge__runs(&m, in, 3, &notes, err, sizeof(err)), 0);
	assert_int_equal(m.neps, 1);
	assert_int_equal(m.eps[0].count, 30);
	assert_string_equal(m.eps[0].comm, "app,worker");
	assert_string_equal(m.eps[0].container, "c1,c2");
	assert_string_equal(m.eps[0].cgroup, "/kubepods/a,/kubepods/b");
	assert_int_equal(m.eps[0].port, 8080); /* the first input did not know it */
	assert_string_equal(m.eps[0].runtime, "go");
	run__free(&m);
	/* known nowhere: still unknown */
	a.eps[0].container = a.eps[0].cgroup = NULL;
	c.eps[0].container = c.eps[0].cgroup = NULL;
	b.eps[0].container = b.eps[0].cgroup = NULL;
	b.eps[0].port = c.eps[0].port = -1;
	assert_int_equal(merge__runs(&m, in, 3, &notes, err, sizeof(err)), 0);
	assert_null(m.eps[0].container);
	assert_null(m.eps[0].cgroup);
	assert_int_equal(m.eps[0].port, -1);
	run__free(&m);
	run__free(&a);
	run__free(&b);
	run__free(&c);
}

/*
 * Filters: pid and port lists joined (sorted, each once); comm and cgroup kept where all
 * filtered inputs agree, else null; the merged report was filtered when an input was.
 */
static void test_merge_filters(void **state)
{
	static const uint64_t pids_a[] = { 7 }, pids_b[] = { 3, 7 }, pids_c[] = { 3, 5, 7 },
			      ports_a[] = { 8080, 9090 }, ports_b[] = { 80, 8080 };
	struct run a, b, m;
	struct merge_notes notes;

	input(&a, "web1", 0, 0);
	input(&b, "web2", 0, 0);
	merge2(&m, &a, &b, &notes);
	assert_false(m.has_filters); /* neither was filtered */
	assert_int_equal(m.nfilter_pids, 0);
	run__free(&m);

	a.has_filters = b.has_filters = true;
	a.filter_comm = b.filter_comm = "app";
	a.filter_cgroup = "/kubepods/a";
	b.filter_cgroup = "/kubepods/b";
	a.filter_pids = list(&a, pids_a, 1);
	a.nfilter_pids = 1;
	b.filter_pids = list(&b, pids_b, 2);
	b.nfilter_pids = 2;
	a.filter_ports = list(&a, ports_a, 2);
	a.nfilter_ports = 2;
	b.filter_ports = list(&b, ports_b, 2);
	b.nfilter_ports = 2;
	merge2(&m, &a, &b, &notes);
	assert_true(m.has_filters);
	assert_string_equal(m.filter_comm, "app");
	assert_null(m.filter_cgroup); /* /kubepods/a and /kubepods/b */
	assert_int_equal(m.nfilter_pids, 2);
	assert_int_equal(m.filter_pids[0], 3);
	assert_int_equal(m.filter_pids[1], 7);
	assert_int_equal(m.nfilter_ports, 3);
	assert_int_equal(m.filter_ports[0], 80);
	assert_int_equal(m.filter_ports[1], 8080);
	assert_int_equal(m.filter_ports[2], 9090);
	run__free(&m);
	/* only the second one filtered: its filters */
	a.has_filters = false;
	merge2(&m, &a, &b, &notes);
	assert_true(m.has_filters);
	assert_string_equal(m.filter_cgroup, "/kubepods/b");
	assert_int_equal(m.nfilter_pids, 2);
	run__free(&m);
	/* only the first one filtered, on more pids than 16 bytes hold: all of them */
	a.has_filters = true;
	b.has_filters = false;
	a.filter_pids = list(&a, pids_c, 3);
	a.nfilter_pids = 3;
	merge2(&m, &a, &b, &notes);
	assert_int_equal(m.nfilter_pids, 3);
	assert_int_equal(m.filter_pids[0], 3);
	assert_int_equal(m.filter_pids[1], 5);
	assert_int_equal(m.filter_pids[2], 7);
	assert_int_equal(m.nfilter_ports, 2);
	assert_int_equal(m.filter_ports[1], 9090);
	run__free(&m);
	run__free(&a);
	run__free(&b);
}

/*
 * BPF run time (the database probes' apart) is the sum over the inputs, and only when each
 * measured it: a partial sum would understate it. Statistics were enabled only if they were in
 * every input.
 */
static void test_merge_bpf_run_time(void **state)
{
	struct run a, b, m;
	struct merge_notes notes;

	input(&a, "web1", 0, 0);
	input(&b, "web2", 0, 0);
	a.has_bpf = b.has_bpf = true;
	a.bpf_stats = b.bpf_stats = true;
	a.has_bpf_run = b.has_bpf_run = true;
	a.bpf_run_ns = 1000000;
	a.bpf_run_cnt = 100;
	b.bpf_run_ns = 3000000;
	b.bpf_run_cnt = 300;
	a.has_bpf_db_run = b.has_bpf_db_run = true;
	a.bpf_db_run_ns = 20000;
	a.bpf_db_run_cnt = 2;
	b.bpf_db_run_ns = 50000;
	b.bpf_db_run_cnt = 5;
	merge2(&m, &a, &b, &notes);
	assert_true(m.has_bpf);
	assert_true(m.bpf_stats);
	assert_true(m.has_bpf_run);
	assert_int_equal(m.bpf_run_ns, 4000000);
	assert_int_equal(m.bpf_run_cnt, 400);
	assert_true(m.has_bpf_db_run);
	assert_int_equal(m.bpf_db_run_ns, 70000);
	assert_int_equal(m.bpf_db_run_cnt, 7);
	run__free(&m);
	/* the second ran without statistics */
	b.bpf_stats = b.has_bpf_run = false;
	b.bpf_run_ns = b.bpf_run_cnt = 0;
	merge2(&m, &a, &b, &notes);
	assert_true(m.has_bpf);
	assert_false(m.bpf_stats);
	assert_false(m.has_bpf_run);
	assert_false(m.has_bpf_db_run);
	run__free(&m);
	run__free(&a);
	run__free(&b);
}

/* No input: refused with a message, not an empty report. */
static void test_merge_nothing(void **state)
{
	const struct run *in[1] = { NULL };
	struct merge_notes notes;
	char err[RUNFILE_ERR_MAX] = "";
	struct run m;

	assert_int_equal(merge__runs(&m, in, 0, &notes, err, sizeof(err)), -EINVAL);
	assert_string_equal(err, "nothing to merge");
}

/*
 * Hotspots are recomputed on the merged queries, each list in its own order, largest first:
 * A 1000 calls of 1 ms (1000 ms in all), B 30 of 20 ms (600 ms), C 100 of 5 ms (500 ms).
 */
static void test_merge_hotspot_orders(void **state)
{
	struct run a, b, m;
	struct merge_notes notes;

	input(&a, "web1", 0, 2);
	input(&b, "web2", 0, 2);
	query(&a, "000000000000000a", "select a", 500, 1);
	query(&a, "000000000000000b", "select b", 30, 20);
	query(&b, "000000000000000c", "select c", 100, 5);
	query(&b, "000000000000000a", "select a", 500, 1);
	merge2(&m, &a, &b, &notes);
	assert_int_equal(m.ndbqs, 3);
	assert_string_equal(m.dbqs[0].query, "select a");
	assert_int_equal(m.dbqs[0].count, 1000);
	assert_string_equal(m.dbqs[1].query, "select b");
	assert_string_equal(m.dbqs[2].query, "select c");
	assert_int_equal(m.hot_total.n, 3);
	assert_string_equal(m.hot_total.v[0], "000000000000000a");
	assert_string_equal(m.hot_total.v[1], "000000000000000b");
	assert_string_equal(m.hot_total.v[2], "000000000000000c");
	assert_int_equal(m.hot_p95.n, 3);
	assert_string_equal(m.hot_p95.v[0], "000000000000000b");
	assert_string_equal(m.hot_p95.v[1], "000000000000000c");
	assert_string_equal(m.hot_p95.v[2], "000000000000000a");
	assert_int_equal(m.hot_count.n, 3);
	assert_string_equal(m.hot_count.v[0], "000000000000000a");
	assert_string_equal(m.hot_count.v[1], "000000000000000c");
	assert_string_equal(m.hot_count.v[2], "000000000000000b");
	run__free(&m);
	run__free(&a);
	run__free(&b);
}

/* Each hotspot list holds the top 10 of 11 queries: the one of 1 call is left out. */
static void test_merge_hotspots_top_ten(void **state)
{
	static const char *const ids[11] = {
		"0000000000000001", "0000000000000002", "0000000000000003", "0000000000000004",
		"0000000000000005", "0000000000000006", "0000000000000007", "0000000000000008",
		"0000000000000009", "000000000000000a", "000000000000000b",
	};
	struct run a, b, m;
	struct merge_notes notes;

	input(&a, "web1", 0, 11);
	input(&b, "web2", 0, 0);
	for (unsigned i = 0; i < 11; i++)
		query(&a, ids[i], ids[i], i + 1, i + 1); /* i + 1 calls of i + 1 ms */
	merge2(&m, &a, &b, &notes);
	assert_int_equal(m.ndbqs, 11);
	assert_int_equal(m.hot_total.n, 10);
	assert_int_equal(m.hot_p95.n, 10);
	assert_int_equal(m.hot_count.n, 10);
	assert_string_equal(m.hot_count.v[0], "000000000000000b");
	assert_string_equal(m.hot_count.v[9], "0000000000000002");
	assert_string_equal(m.hot_p95.v[9], "0000000000000002");
	assert_string_equal(m.hot_total.v[9], "0000000000000002");
	run__free(&m);
	run__free(&a);
	run__free(&b);
}

/* Endpoints by requests, most first; equal counts by service, method, then route. */
static void test_merge_endpoint_order(void **state)
{
	struct run a, b, m;
	struct merge_notes notes;

	input(&a, "web1", 2, 0);
	input(&b, "web2", 2, 0);
	endpoint(&a, "/b", 20);
	endpoint(&a, "/c", 5);
	endpoint(&b, "/a", 20);
	endpoint(&b, "/c", 6);
	merge2(&m, &a, &b, &notes);
	assert_int_equal(m.neps, 3);
	assert_string_equal(m.eps[0].route, "/a");
	assert_string_equal(m.eps[1].route, "/b");
	assert_string_equal(m.eps[2].route, "/c");
	assert_int_equal(m.eps[2].count, 11);
	run__free(&m);
	run__free(&a);
	run__free(&b);
}

/* Events and drops add up across hosts: nothing lost on one host is hidden by the merge. */
static void test_merge_events_add_up(void **state)
{
	struct run a, b, m;
	struct merge_notes notes;

	input(&a, "web1", 0, 0);
	input(&b, "web2", 0, 0);
	a.events_total = 100;
	a.events_dropped = 3;
	b.events_total = 50;
	b.events_dropped = 1;
	merge2(&m, &a, &b, &notes);
	assert_int_equal(m.events_total, 150);
	assert_int_equal(m.events_dropped, 4);
	run__free(&m);
	run__free(&a);
	run__free(&b);
}

/* The next flag of r: an N+1 of query q on GET /items, first seen at `at`. */
static struct run_flag *flag(struct run *r, const char *at, uint64_t occurrences)
{
	struct run_flag *f;

	if (!r->flags)
		r->flags = run__alloc(r, 4 * sizeof(*r->flags));
	assert_non_null(r->flags);
	f = &r->flags[r->nflags++];
	f->kind = "n_plus_one";
	f->query_id = "000000000000000a";
	f->query = "select a";
	f->endpoint = "GET /items";
	f->evidence = "6 in a row";
	f->occurrences = occurrences;
	f->at = at;
	f->t_s = 99; /* relative to its own run: the merge counts again from the merged start */
	f->support = NAN;
	return f;
}

/*
 * A flag seen by two runs is one flag: occurrences added, first seen at the earlier of the two
 * times, and t_s counted from the merged window's start (web1's, 10:00:00).
 */
static void test_merge_flag_first_seen(void **state)
{
	struct run a, b, m;
	struct merge_notes notes;

	input(&a, "web1", 0, 1);
	input(&b, "web2", 0, 1);
	b.start = "2026-11-30T10:00:01.000Z";
	b.start_ms += 1000;
	query(&a, "000000000000000a", "select a", 10, 1);
	query(&b, "000000000000000a", "select a", 10, 1);
	flag(&a, "2026-11-30T10:00:05.000Z", 2);
	flag(&b, "2026-11-30T10:00:02.500Z", 3);
	merge2(&m, &a, &b, &notes);
	assert_int_equal(m.nflags, 1);
	assert_int_equal(m.flags[0].occurrences, 5);
	assert_string_equal(m.flags[0].at, "2026-11-30T10:00:02.500Z");
	assert_true(m.flags[0].t_s == 2.5);
	run__free(&m);

	/* The later run's flag does not move a first sight that came earlier. */
	a.flags[0].at = "2026-11-30T10:00:01.250Z";
	merge2(&m, &a, &b, &notes);
	assert_string_equal(m.flags[0].at, "2026-11-30T10:00:01.250Z");
	assert_true(m.flags[0].t_s == 1.25);
	run__free(&m);

	/* The same instant written with fewer digits: the first input's text stays. */
	b.flags[0].at = "2026-11-30T10:00:01.25Z";
	merge2(&m, &a, &b, &notes);
	assert_string_equal(m.flags[0].at, "2026-11-30T10:00:01.250Z");
	run__free(&m);

	/* A flag without a time (older reports) has none in the merge either. */
	a.flags[0].at = NULL;
	b.flags[0].at = NULL;
	merge2(&m, &a, &b, &notes);
	assert_null(m.flags[0].at);
	assert_true(isnan(m.flags[0].t_s));
	run__free(&m);
	run__free(&a);
	run__free(&b);
}

/* The next endpoint's database work: requests with queries, attributed by handoff. */
static void ep_db(struct run_endpoint *e, uint64_t requests, uint64_t handoff, double share)
{
	e->has_db = true;
	e->db.requests = requests;
	e->db.queries_per_request = 1;
	e->db.queries_per_request_max = 1;
	e->db.db_time_ms_per_request = 0.5;
	e->db.attr_exact = requests - handoff;
	e->db.attr_thread = 2 * handoff;
	e->db.attr_shared = 3 * handoff;
	e->db.attr_handoff = handoff;
	e->db.db_time_share = share;
}

/*
 * Attribution by hand-off adds up like the other rules. The DB share of an endpoint seen by two
 * runs is left to the writer (of the merged mean); one seen by one run keeps its own. A query's
 * share of all DB time always changes with the merge.
 */
static void test_merge_db_attribution_and_shares(void **state)
{
	struct run a, b, m;
	struct merge_notes notes;

	input(&a, "web1", 2, 1);
	input(&b, "web2", 1, 1);
	ep_db(endpoint(&a, "/items", 10), 10, 3, 0.25);
	ep_db(endpoint(&a, "/only-a", 4), 4, 1, 0.125);
	ep_db(endpoint(&b, "/items", 10), 10, 4, 0.5);
	query(&a, "000000000000000a", "select a", 10, 1)->time_share = 1;
	query(&b, "000000000000000a", "select a", 10, 1)->time_share = 1;
	merge2(&m, &a, &b, &notes);
	assert_int_equal(m.neps, 2);
	assert_string_equal(m.eps[0].route, "/items");
	assert_int_equal(m.eps[0].db.attr_handoff, 7);
	assert_int_equal(m.eps[0].db.attr_exact, 13);
	assert_int_equal(m.eps[0].db.attr_thread, 14);
	assert_int_equal(m.eps[0].db.attr_shared, 21);
	assert_true(isnan(m.eps[0].db.db_time_share));
	assert_string_equal(m.eps[1].route, "/only-a");
	assert_int_equal(m.eps[1].db.attr_handoff, 1);
	assert_true(m.eps[1].db.db_time_share == 0.125);
	assert_true(isnan(m.dbqs[0].time_share));
	run__free(&m);
	run__free(&a);
	run__free(&b);
}

/* First-byte percentiles have no histogram: kept from one run, dropped (and said) from two. */
static void test_merge_first_byte(void **state)
{
	struct run a, b, m;
	struct merge_notes notes = { 0 };
	struct run_dbq *q;

	input(&a, "web1", 0, 2);
	input(&b, "web2", 0, 1);
	q = query(&a, "000000000000000a", "select a", 10, 1);
	q->has_first_byte = true;
	q->first_byte.p50 = 0.5;
	q = query(&a, "000000000000000b", "select b", 5, 1);
	q->has_first_byte = true;
	q->first_byte.p50 = 0.25;
	q = query(&b, "000000000000000a", "select a", 10, 1);
	q->has_first_byte = true;
	merge2(&m, &a, &b, &notes);
	assert_int_equal(m.ndbqs, 2);
	assert_string_equal(m.dbqs[0].query, "select a");
	assert_false(m.dbqs[0].has_first_byte);
	assert_string_equal(m.dbqs[1].query, "select b");
	assert_true(m.dbqs[1].has_first_byte);
	assert_true(m.dbqs[1].first_byte.p50 == 0.25);
	assert_int_equal(notes.first_byte, 1);
	run__free(&m);
	run__free(&a);
	run__free(&b);
}

/*
 * Start and end are the earliest and latest input's, as that input wrote them: of two inputs
 * starting and ending at the same instants (written with fewer digits), the first one's text.
 */
static void test_merge_window_text_of_first(void **state)
{
	struct run a, b, m;
	struct merge_notes notes;

	input(&a, "web1", 0, 0);
	input(&b, "web2", 0, 0);
	b.start = "2026-11-30T10:00:00Z";
	b.end = "2026-11-30T10:00:10Z";
	merge2(&m, &a, &b, &notes);
	assert_string_equal(m.start, "2026-11-30T10:00:00.000Z");
	assert_string_equal(m.end, "2026-11-30T10:00:10.000Z");
	run__free(&m);
	merge2(&m, &b, &a, &notes);
	assert_string_equal(m.start, "2026-11-30T10:00:00Z");
	assert_string_equal(m.end, "2026-11-30T10:00:10Z");
	run__free(&m);
	run__free(&a);
	run__free(&b);
}

/* Rates are per second of the merged window, also when it is shorter than one: 10 in 0.5 s. */
static void test_merge_rates_under_a_second(void **state)
{
	struct run a, b, m;
	struct merge_notes notes;

	input(&a, "web1", 1, 1);
	input(&b, "web2", 1, 1);
	a.duration_s = b.duration_s = 0.5;
	a.end_ms = b.end_ms = a.start_ms + 500;
	endpoint(&a, "/items", 4);
	endpoint(&b, "/items", 6);
	query(&a, "000000000000000a", "select a", 3, 1);
	query(&b, "000000000000000a", "select a", 2, 1);
	merge2(&m, &a, &b, &notes);
	assert_true(m.duration_s == 0.5);
	assert_true(m.eps[0].rate_per_s == 20);
	assert_true(m.dbqs[0].rate_per_s == 10);
	run__free(&m);
	run__free(&a);
	run__free(&b);
}

/*
 * Equal request counts order by service, then method, then route: the method decides before the
 * route (GET /b before POST /a), the service before the method (api POST before app GET).
 */
static void test_merge_endpoint_order_method_service(void **state)
{
	struct run a, b, m;
	struct merge_notes notes;

	input(&a, "web1", 2, 0);
	input(&b, "web2", 0, 0);
	endpoint(&a, "/a", 20)->method = "POST";
	endpoint(&a, "/b", 20);
	merge2(&m, &a, &b, &notes);
	assert_int_equal(m.neps, 2);
	assert_string_equal(m.eps[0].route, "/b");
	assert_string_equal(m.eps[1].route, "/a");
	run__free(&m);
	run__free(&a);

	input(&a, "web1", 2, 0);
	endpoint(&a, "/a", 20);
	endpoint(&a, "/b", 20)->service = "api";
	a.eps[1].method = "POST";
	merge2(&m, &a, &b, &notes);
	assert_int_equal(m.neps, 2);
	assert_string_equal(m.eps[0].service, "api");
	assert_string_equal(m.eps[1].service, "app");
	run__free(&m);
	run__free(&a);
	run__free(&b);
}

/*
 * A top query of an endpoint whose inputs had no request with queries weighs nothing: 0 per
 * request, not 0 / 0.
 */
static void test_merge_top_query_without_requests(void **state)
{
	struct run a, b, m;
	struct merge_notes notes;
	struct run_endpoint *e[2];
	struct run *in[2] = { &a, &b };

	input(&a, "web1", 1, 0);
	input(&b, "web2", 1, 0);
	for (int k = 0; k < 2; k++) {
		e[k] = endpoint(in[k], "/items", 10);
		ep_db(e[k], 0, 0, 0);
		e[k]->db.top = run__alloc(in[k], 2 * sizeof(*e[k]->db.top));
		assert_non_null(e[k]->db.top);
		e[k]->db.top[0] = (struct run_top_query){ "000000000000000a", "select a", 1, 2 };
		e[k]->db.ntop = 1;
	}
	merge2(&m, &a, &b, &notes);
	assert_int_equal(m.eps[0].db.ntop, 1);
	assert_true(m.eps[0].db.top[0].per_request == 0);
	assert_true(m.eps[0].db.top[0].ms_per_request == 0);
	run__free(&m);
	run__free(&a);
	run__free(&b);
}

/*
 * A query's main path is the best any input measured it on (wire, libpq, usdt, then none), and
 * inputs that disagree are counted: one without a path (an older report) and one by USDT.
 */
static void test_merge_main_path_rank(void **state)
{
	struct run a, b, m;
	struct merge_notes notes;

	input(&a, "web1", 0, 1);
	input(&b, "web2", 0, 1);
	query(&a, "000000000000000a", "select a", 10, 1)->main_path = NULL;
	query(&b, "000000000000000a", "select a", 10, 1)->main_path = "usdt";
	merge2(&m, &a, &b, &notes);
	assert_string_equal(m.dbqs[0].main_path, "usdt");
	assert_int_equal(notes.mixed_paths, 1);
	run__free(&m);
	/* a path this version does not know ranks with none */
	a.dbqs[0].main_path = "ebpf";
	b.dbqs[0].main_path = NULL;
	merge2(&m, &a, &b, &notes);
	assert_string_equal(m.dbqs[0].main_path, "ebpf");
	assert_int_equal(notes.mixed_paths, 0);
	run__free(&m);
	run__free(&a);
	run__free(&b);
}

/* Rows add up over the inputs that counted them; the merged query has rows if any input had. */
static void test_merge_rows(void **state)
{
	struct run a, b, m;
	struct merge_notes notes;
	struct run_dbq *q;

	input(&a, "web1", 0, 1);
	input(&b, "web2", 0, 1);
	q = query(&a, "000000000000000a", "select a", 10, 1);
	q->has_rows = true;
	q->rows = 40;
	query(&b, "000000000000000a", "select a", 10, 1)->rows = 7; /* null in b's report */
	merge2(&m, &a, &b, &notes);
	assert_true(m.dbqs[0].has_rows);
	assert_int_equal(m.dbqs[0].rows, 40);
	run__free(&m);
	b.dbqs[0].has_rows = true;
	merge2(&m, &a, &b, &notes);
	assert_true(m.dbqs[0].has_rows);
	assert_int_equal(m.dbqs[0].rows, 47);
	run__free(&m);
	a.dbqs[0].has_rows = b.dbqs[0].has_rows = false;
	merge2(&m, &a, &b, &notes);
	assert_false(m.dbqs[0].has_rows);
	assert_int_equal(m.dbqs[0].rows, 0);
	run__free(&m);
	run__free(&a);
	run__free(&b);
}

/* The paths wire (main), libpq and usdt of a query, 10 calls each, 1 ms at the median. */
static void three_paths(struct run *r, struct run_dbq *q)
{
	static const char *const names[3] = { "wire", "libpq", "usdt" };

	q->paths = run__alloc(r, 3 * sizeof(*q->paths));
	assert_non_null(q->paths);
	for (unsigned k = 0; k < 3; k++)
		q->paths[k] = (struct run_db_path){ .path = names[k], .count = 10, .lat.p50 = 1 };
	q->npaths = 3;
}

/*
 * Paths seen by two inputs add their counts; the main path gets the merged histogram's
 * percentiles, each secondary one (no histogram) is left out and counted: both of them, side by
 * side.
 */
static void test_merge_secondary_paths_dropped(void **state)
{
	struct run a, b, m;
	struct merge_notes notes;

	input(&a, "web1", 0, 1);
	input(&b, "web2", 0, 1);
	three_paths(&a, query(&a, "000000000000000a", "select a", 10, 1));
	three_paths(&b, query(&b, "000000000000000a", "select a", 10, 1));
	merge2(&m, &a, &b, &notes);
	assert_int_equal(m.dbqs[0].npaths, 1);
	assert_string_equal(m.dbqs[0].paths[0].path, "wire");
	assert_int_equal(m.dbqs[0].paths[0].count, 20);
	assert_false(isnan(m.dbqs[0].paths[0].lat.p50));
	assert_int_equal(notes.paths, 2);
	run__free(&m);
	/* the main path after the secondary ones moves up to the first place */
	for (int k = 0; k < 2; k++) {
		struct run_db_path *p = (k ? &b : &a)->dbqs[0].paths;
		struct run_db_path wire = p[0];

		p[0] = p[2];
		p[2] = wire;
	}
	merge2(&m, &a, &b, &notes);
	assert_int_equal(m.dbqs[0].npaths, 1);
	assert_string_equal(m.dbqs[0].paths[0].path, "wire");
	assert_int_equal(notes.paths, 2);
	run__free(&m);
	run__free(&a);
	run__free(&b);
}

/*
 * The p95 hotspots order by the 95th percentile itself, not a neighbour: A is 94 calls of 1 ms
 * and 6 of 100 ms (p94 1 ms, p95 100 ms, 694 ms in all), B 100 of 5 ms (500 ms), C 100 of 10 ms
 * (1000 ms). A comes first against either, whichever the order of total time puts first.
 */
static void test_merge_hot_p95_is_p95(void **state)
{
	static const unsigned ms[2] = { 5, 10 };
	struct run a, b, m;
	struct merge_notes notes;

	for (int k = 0; k < 2; k++) {
		input(&a, "web1", 0, 2);
		input(&b, "web2", 0, 0);
		query(&a, "000000000000000a", "select a", 100, 1)->hist = calls2(&a, 94, 1, 6, 100);
		query(&a, "000000000000000b", "select b", 100, ms[k]);
		merge2(&m, &a, &b, &notes);
		assert_string_equal(m.hot_total.v[0], k ? "000000000000000b" : "000000000000000a");
		assert_int_equal(m.hot_p95.n, 2);
		assert_string_equal(m.hot_p95.v[0], "000000000000000a");
		assert_string_equal(m.hot_p95.v[1], "000000000000000b");
		run__free(&m);
		run__free(&a);
		run__free(&b);
	}
}

/*
 * A port is unknown only when negative: 0, as an input has it, is kept. TTFB, server and wait
 * percentiles have no histogram: any one of them, merged from two inputs, is dropped and said.
 */
static void test_merge_port_zero_and_server_time(void **state)
{
	struct run a, b, m;
	struct merge_notes notes;

	input(&a, "web1", 1, 0);
	input(&b, "web2", 1, 0);
	endpoint(&a, "/items", 10)->port = 0;
	endpoint(&b, "/items", 10)->port = 8080;
	a.eps[0].has_server = true;
	merge2(&m, &a, &b, &notes);
	assert_int_equal(m.eps[0].port, 0);
	assert_false(m.eps[0].has_server);
	assert_int_equal(notes.ttfb, 1);
	run__free(&m);
	a.eps[0].has_server = false;
	a.eps[0].has_wait = true;
	merge2(&m, &a, &b, &notes);
	assert_false(m.eps[0].has_wait);
	assert_int_equal(notes.ttfb, 1);
	run__free(&m);
	run__free(&a);
	run__free(&b);
}

/*
 * Host names are joined with commas, each once, whatever their length: 7 + 1 + 8 characters
 * and the terminator fill one 16-byte allocation and one byte more.
 */
static void test_merge_hostnames_joined(void **state)
{
	struct run a, b, m;
	struct merge_notes notes;

	input(&a, "abcdefg", 0, 0);
	input(&b, "hijklmno", 0, 0);
	merge2(&m, &a, &b, &notes);
	assert_string_equal(m.hostname, "abcdefg,hijklmno");
	assert_string_equal(m.kernel, "6.1.0");
	run__free(&m);
	/* The same host twice is named once. */
	b.hostname = "abcdefg";
	merge2(&m, &a, &b, &notes);
	assert_string_equal(m.hostname, "abcdefg");
	run__free(&m);
	run__free(&a);
	run__free(&b);
}

/*
 * What the runs' kernels lacked (docs/kernels.md), each hook once in order of first appearance;
 * none lacked: no list (a report without the key, as before).
 */
static void test_merge_kernel_lacks_union(void **state)
{
	const char *a_lacks[] = { "sk_data_ready", "sock_recv_length" };
	const char *b_lacks[] = { "sock_recv_length", "tcp_send_reset_nosock" };
	struct run a, b, m;
	struct merge_notes notes;

	(void)state;
	input(&a, "a", 0, 0);
	input(&b, "b", 0, 0);
	merge2(&m, &a, &b, &notes);
	assert_int_equal(m.kernel_lacks.n, 0);
	assert_null(m.kernel_lacks.v);
	run__free(&m);
	b.kernel_lacks.v = b_lacks;
	b.kernel_lacks.n = 2;
	merge2(&m, &a, &b, &notes);
	assert_int_equal(m.kernel_lacks.n, 2);
	assert_string_equal(m.kernel_lacks.v[0], "sock_recv_length");
	assert_string_equal(m.kernel_lacks.v[1], "tcp_send_reset_nosock");
	run__free(&m);
	a.kernel_lacks.v = a_lacks;
	a.kernel_lacks.n = 2;
	merge2(&m, &a, &b, &notes);
	assert_int_equal(m.kernel_lacks.n, 3);
	assert_string_equal(m.kernel_lacks.v[0], "sk_data_ready");
	assert_string_equal(m.kernel_lacks.v[1], "sock_recv_length");
	assert_string_equal(m.kernel_lacks.v[2], "tcp_send_reset_nosock");
	/* Copied into the merged run's arena, not pointing into its inputs'. */
	assert_ptr_not_equal(m.kernel_lacks.v[0], a_lacks[0]);
	run__free(&m);
	run__free(&a);
	run__free(&b);
}

/* Counters of each object merge with their own kind: http_parser's are not the connections'. */
static void test_merge_counter_objects_apart(void **state)
{
	static const char *const keys[] = { "requests", "opened" };
	struct run a, b, m;
	struct merge_notes notes;
	struct run *in[2] = { &a, &b };

	input(&a, "web1", 0, 0);
	input(&b, "web2", 0, 0);
	for (int k = 0; k < 2; k++) {
		struct run *r = in[k];

		r->http_parser.v = run__alloc(r, 2 * sizeof(*r->http_parser.v));
		r->connections.v = run__alloc(r, 2 * sizeof(*r->connections.v));
		assert_true(r->http_parser.v && r->connections.v);
		r->http_parser.v[0] = (struct run_count){ keys[0], 5 + k };
		r->http_parser.n = 1;
		r->connections.v[0] = (struct run_count){ keys[1], 2 };
		r->connections.n = 1;
	}
	merge2(&m, &a, &b, &notes);
	assert_int_equal(m.http_parser.n, 1);
	assert_int_equal(run__count(&m.http_parser, "requests"), 11);
	assert_int_equal(run__count(&m.http_parser, "opened"), 0);
	assert_int_equal(run__count(&m.connections, "opened"), 4);
	run__free(&m);
	run__free(&a);
	run__free(&b);
}

/* The command is kept only when every run ran the same one and it ended the same way. */
static void test_merge_command_kept_only_when_the_same(void **state)
{
	static const char *argv1[] = { "wrk", "-d10s" }, *argv2[] = { "wrk", "-d10s", "-c8" };
	struct run a, b, m;
	struct merge_notes notes;

	input(&a, "web1", 0, 0);
	input(&b, "web2", 0, 0);
	a.has_command = b.has_command = true;
	a.argv = b.argv = argv1;
	a.argc = b.argc = 2;
	merge2(&m, &a, &b, &notes);
	assert_true(m.has_command);
	assert_int_equal(m.argc, 2);
	run__free(&m);
	/* Same arguments, another exit status: not the same run of the load test. */
	b.exit_status = 1;
	merge2(&m, &a, &b, &notes);
	assert_false(m.has_command);
	run__free(&m);
	/* Same exit status, one more argument. */
	b.exit_status = 0;
	b.argv = argv2;
	b.argc = 3;
	merge2(&m, &a, &b, &notes);
	assert_false(m.has_command);
	run__free(&m);
	run__free(&a);
	run__free(&b);
}

static void dep(struct run_endpoint *e, int kind, uint64_t requests, uint64_t with, double cpr,
		double max, double ms, double errors, double hits, double misses, uint64_t repeat)
{
	struct run_ep_dep *d = &e->dep[kind];

	e->has_dep[kind] = true;
	d->requests = requests;
	d->with = with;
	d->calls_per_request = cpr;
	d->max_calls = max;
	d->ms_per_request = ms;
	d->errors = errors;
	d->hits = hits;
	d->misses = misses;
	d->hit_ratio = hits + misses ? hits / (hits + misses) : NAN;
	d->repeat = repeat;
}

/*
 * Cache and outbound calls per request: weighted by requests, the hit ratio from the hits; one
 * input's figures as they are. A cache section is not merged, and merge says so.
 */
static void test_merge_dependencies(void **state)
{
	struct run a, b, m;
	struct merge_notes notes;
	const struct run_ep_dep *d;

	input(&a, "web1", 2, 0);
	input(&b, "web2", 2, 0);
	dep(endpoint(&a, "/items", 10), RUN_DEP_CACHE, 10, 8, 2, 3, 0.5, 1, 15, 5, 1);
	dep(&a.eps[0], RUN_DEP_OUTBOUND, 10, 1, 0.1, 1, 20, 1, 0, 0, 0);
	dep(endpoint(&b, "/items", 30), RUN_DEP_CACHE, 30, 30, 1, 5, 0.1, 2, 30, 0, 0);
	dep(endpoint(&a, "/a", 5), RUN_DEP_CACHE, 5, 5, 1, 1, 0.2, 0, 7, 2, 0);
	a.eps[1].dep[RUN_DEP_CACHE].hit_ratio = 0.7777; /* as the file had it */
	endpoint(&b, "/b", 5);
	b.has_cache = true;
	merge2(&m, &a, &b, &notes);
	assert_true(notes.cache);
	assert_false(m.has_cache);
	assert_int_equal(m.neps, 3);
	assert_string_equal(m.eps[0].route, "/items");
	d = &m.eps[0].dep[RUN_DEP_CACHE];
	assert_true(m.eps[0].has_dep[RUN_DEP_CACHE]);
	assert_int_equal(d->requests, 40);
	assert_int_equal(d->with, 38);
	assert_true(d->calls_per_request == 1.25);
	assert_true(d->max_calls == 5);
	assert_true(fabs(d->ms_per_request - 0.2) < 1e-12);
	assert_true(d->errors == 3);
	assert_true(d->hits == 45 && d->misses == 5);
	assert_true(d->hit_ratio == 0.9);
	assert_int_equal(d->repeat, 1);
	/* Outbound calls were followed by one input: its requests only. */
	d = &m.eps[0].dep[RUN_DEP_OUTBOUND];
	assert_true(m.eps[0].has_dep[RUN_DEP_OUTBOUND]);
	assert_int_equal(d->requests, 10);
	assert_int_equal(d->with, 1);
	assert_true(fabs(d->calls_per_request - 0.1) < 1e-12);
	assert_true(d->ms_per_request == 20 && d->errors == 1 && d->max_calls == 1);
	assert_true(isnan(d->hit_ratio));
	for (unsigned i = 1; i < 3; i++) {
		const struct run_endpoint *e = &m.eps[i];

		if (!strcmp(e->route, "/a")) {
			assert_true(e->has_dep[RUN_DEP_CACHE]);
			assert_true(e->dep[RUN_DEP_CACHE].hit_ratio == 0.7777);
		} else {
			assert_false(e->has_dep[RUN_DEP_CACHE] || e->has_dep[RUN_DEP_OUTBOUND]);
		}
	}
	run__free(&m);
	/* Requests without any read: no ratio; no requests at all: nothing per request. */
	a.eps[0].dep[RUN_DEP_CACHE].hits = a.eps[0].dep[RUN_DEP_CACHE].misses = 0;
	b.eps[0].dep[RUN_DEP_CACHE].hits = 0;
	a.eps[0].dep[RUN_DEP_OUTBOUND].requests = 0;
	b.has_cache = false;
	merge2(&m, &a, &b, &notes);
	assert_false(notes.cache);
	assert_true(isnan(m.eps[0].dep[RUN_DEP_CACHE].hit_ratio));
	assert_true(m.eps[0].dep[RUN_DEP_OUTBOUND].calls_per_request == 0);
	assert_true(m.eps[0].dep[RUN_DEP_OUTBOUND].ms_per_request == 0);
	run__free(&m);
	run__free(&a);
	run__free(&b);
}

/* The tcp section of r: listeners and peers from the arrays given, two timeline points. */
static void tcp(struct run *r, const struct run_tcp_listener *l, unsigned nl,
		const struct run_tcp_peer *p, unsigned np)
{
	struct run_tcp *t = &r->tcp;

	r->has_tcp = true;
	t->listeners = run__alloc(r, (nl + 1) * sizeof(*l));
	t->peers = run__alloc(r, (np + 1) * sizeof(*p));
	t->points = run__alloc(r, 2 * sizeof(*t->points));
	assert_true(t->listeners && t->peers && t->points);
	memcpy(t->listeners, l, nl * sizeof(*l));
	memcpy(t->peers, p, np * sizeof(*p));
	t->nlisteners = nl;
	t->npeers = np;
	t->points[0].t = 1;
	t->points[1].t = 2;
	t->npoints = 2;
}

static void test_merge_tcp(void **state)
{
	const struct run_tcp_listener la[] = { { .port = 8080,
						 .sockets = 1,
						 .drops = 40,
						 .accept_queue_max = 129,
						 .backlog = 128 },
					       { .port = 5432, .sockets = 2, .backlog = 244 } };
	const struct run_tcp_listener lb[] = {
		{ .port = 8080, .sockets = 2, .drops = 9, .accept_queue_max = 12, .backlog = 511 }
	};
	const struct run_tcp_peer pa[] = {
		{ .server = true, .port = 8080, .peer = "127.0.0.1", .n = { 3, 1, 0, 2 } },
		{ .server = false, .port = 9000, .peer = "127.0.0.2", .n = { 1, 0, 0, 0 } }
	};
	const struct run_tcp_peer pb[] = {
		{ .server = true, .port = 8080, .peer = "127.0.0.1", .n = { 4, 0, 5, 0 } },
		/* the same port and address as a client: another row */
		{ .server = false, .port = 8080, .peer = "127.0.0.1", .n = { 0, 0, 0, 1 } }
	};
	struct run a, b, c, m;
	struct merge_notes notes;
	const struct run_tcp *t;

	input(&a, "web1", 1, 0);
	input(&b, "web2", 1, 0);
	input(&c, "web3", 1, 0);
	tcp(&a, la, 2, pa, 2);
	a.tcp.has_host = true;
	a.tcp.host_overflows = 40;
	a.tcp.peers_lost = 1;
	tcp(&b, lb, 1, pb, 2);
	b.tcp.reads_failed = 2;
	merge2(&m, &a, &b, &notes);
	assert_true(notes.timeline); /* the section's timeline is not merged */
	t = &m.tcp;
	assert_true(m.has_tcp);
	assert_int_equal(t->npoints, 0);
	/* listeners by port; drops added, the largest queue and backlog kept */
	assert_int_equal(t->nlisteners, 2);
	assert_int_equal(t->listeners[0].port, 5432);
	assert_int_equal(t->listeners[1].port, 8080);
	assert_int_equal(t->listeners[1].drops, 49);
	assert_int_equal(t->listeners[1].sockets, 2);
	assert_int_equal(t->listeners[1].accept_queue_max, 129);
	assert_int_equal(t->listeners[1].backlog, 511);
	/* peers joined on (role, port, address), the busiest first */
	assert_int_equal(t->npeers, 3);
	assert_true(t->peers[0].server && t->peers[0].port == 8080);
	assert_int_equal(t->peers[0].n[RUN_TCP_RETRANS], 7);
	assert_int_equal(t->peers[0].n[RUN_TCP_SYN_RETRANS], 1);
	assert_int_equal(t->peers[0].n[RUN_TCP_RST_SENT], 5);
	assert_int_equal(t->peers[0].n[RUN_TCP_RST_RECV], 2);
	assert_true(!t->peers[1].server && t->peers[1].port == 8080); /* 1, ties: by port */
	assert_true(!t->peers[2].server && t->peers[2].port == 9000);
	assert_true(t->has_host && t->host_overflows == 40);
	assert_true(t->peers_lost == 1 && t->reads_failed == 2);
	run__free(&m);
	/* a run without the section adds nothing; none with it: no section */
	merge2(&m, &a, &c, &notes);
	assert_true(m.has_tcp && m.tcp.nlisteners == 2 && m.tcp.npeers == 2);
	run__free(&m);
	b.has_tcp = false;
	merge2(&m, &c, &b, &notes);
	assert_false(m.has_tcp);
	assert_false(notes.timeline);
	run__free(&m);
	run__free(&a);
	run__free(&b);
	run__free(&c);
}

/* An exemplar of r's endpoint 0 of lat ms, picked as pick, at t_s, with one query span. */
static void exemplar(struct run *r, const char *pick, double lat, double t_s)
{
	struct run_exemplar *e = &r->exemplars[r->nexemplars++];

	e->service = r->eps[0].service;
	e->method = r->eps[0].method;
	e->route = r->eps[0].route;
	e->pick = pick;
	e->latency_ms = lat;
	e->t_s = t_s;
	e->status = 200;
	e->attribution = "exact";
	e->spans = run__alloc(r, sizeof(*e->spans));
	assert_non_null(e->spans);
	e->spans[0] = (struct run_span){ .kind = RUN_SPAN_QUERY, .start_ms = 1, .duration_ms = 2,
					 .attribution = "exact", .query_id = "0123456789abcdef" };
	e->nspans = 1;
}

/*
 * Merged exemplars: the 5 slowest of both inputs, slowest first (equal ones in the inputs'
 * order), times moved to the merged start; the typical ones nearest the merged p50 and p95;
 * counters added up.
 */
static void test_merge_exemplars(void **state)
{
	static const double la[] = { 90, 70, 50, 30, 10 }, lb[] = { 80, 70, 60, 5, 4 };
	struct run a, b, m;
	struct merge_notes notes;
	struct run_count ca = { "offered", 10 }, cb = { "offered", 7 };

	input(&a, "web1", 1, 0);
	input(&b, "web2", 1, 0);
	b.start_ms += 2000;
	endpoint(&a, "/x", 10);
	endpoint(&b, "/x", 10);
	b.eps[0].hist = calls2(&b, 9, 3, 1, 80); /* with a's 10 of 1 ms: p50 1 ms, p95 3 ms */
	a.has_exemplars = b.has_exemplars = true;
	a.exemplars = run__alloc(&a, 8 * sizeof(*a.exemplars));
	b.exemplars = run__alloc(&b, 8 * sizeof(*b.exemplars));
	assert_true(a.exemplars && b.exemplars);
	for (int i = 0; i < 5; i++) {
		exemplar(&a, "slowest", la[i], 1 + i);
		exemplar(&b, "slowest", lb[i], 1 + i);
	}
	exemplar(&a, "p50", 1, 7);
	exemplar(&b, "p50", 2.9, 8);
	exemplar(&b, "p95", 40, 9);
	a.exemplar_stats = (struct run_counts){ &ca, 1 };
	b.exemplar_stats = (struct run_counts){ &cb, 1 };
	merge2(&m, &a, &b, &notes);
	assert_true(m.has_exemplars);
	assert_int_equal(m.nexemplars, 7);
	{
		static const double want[] = { 90, 80, 70, 70, 60 };

		for (int i = 0; i < 5; i++) {
			assert_string_equal(m.exemplars[i].pick, "slowest");
			assert_true(m.exemplars[i].latency_ms == want[i]);
			assert_int_equal(m.exemplars[i].ep, 0);
			assert_int_equal(m.exemplars[i].nspans, 1);
			assert_string_equal(m.exemplars[i].spans[0].query_id, "0123456789abcdef");
		}
	}
	/* The 70 ms of a (t 2 s) before b's (t 2 s + 2 s: b started 2 s later). */
	assert_true(m.exemplars[2].t_s == 2 && m.exemplars[3].t_s == 4);
	assert_true(m.exemplars[1].t_s == 3);
	assert_string_equal(m.exemplars[5].pick, "p50");
	assert_true(m.exemplars[5].latency_ms == 1);
	assert_true(m.exemplars[5].t_s == 7);
	assert_string_equal(m.exemplars[6].pick, "p95");
	assert_true(m.exemplars[6].latency_ms == 2.9); /* nearer 3 ms than b's p95 of 40 */
	assert_int_equal(run__count(&m.exemplar_stats, "offered"), 17);
	run__free(&m);
	/* Inputs without exemplars: none. */
	a.has_exemplars = b.has_exemplars = false;
	merge2(&m, &a, &b, &notes);
	assert_false(m.has_exemplars);
	run__free(&m);
	run__free(&a);
	run__free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_merge_exemplars),
		cmocka_unit_test(test_merge_pids_sorted_union),
		cmocka_unit_test(test_merge_process_fields),
		cmocka_unit_test(test_merge_filters),
		cmocka_unit_test(test_merge_bpf_run_time),
		cmocka_unit_test(test_merge_nothing),
		cmocka_unit_test(test_merge_hotspot_orders),
		cmocka_unit_test(test_merge_hotspots_top_ten),
		cmocka_unit_test(test_merge_endpoint_order),
		cmocka_unit_test(test_merge_events_add_up),
		cmocka_unit_test(test_merge_flag_first_seen),
		cmocka_unit_test(test_merge_db_attribution_and_shares),
		cmocka_unit_test(test_merge_first_byte),
		cmocka_unit_test(test_merge_hostnames_joined),
		cmocka_unit_test(test_merge_kernel_lacks_union),
		cmocka_unit_test(test_merge_counter_objects_apart),
		cmocka_unit_test(test_merge_command_kept_only_when_the_same),
		cmocka_unit_test(test_merge_dependencies),
		cmocka_unit_test(test_merge_tcp),
		cmocka_unit_test(test_merge_window_text_of_first),
		cmocka_unit_test(test_merge_rates_under_a_second),
		cmocka_unit_test(test_merge_endpoint_order_method_service),
		cmocka_unit_test(test_merge_top_query_without_requests),
		cmocka_unit_test(test_merge_main_path_rank),
		cmocka_unit_test(test_merge_rows),
		cmocka_unit_test(test_merge_secondary_paths_dropped),
		cmocka_unit_test(test_merge_hot_p95_is_p95),
		cmocka_unit_test(test_merge_port_zero_and_server_time),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
