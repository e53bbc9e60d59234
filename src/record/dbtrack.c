// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "record/dbtrack.h"
#include "proto/sqlnorm.h"

static const char *const conf_names[DBREQ_CONF_NR] = { "exact", "thread", "shared", "handoff" };

static struct dbreq_closing *closing_at(struct dbtrack *t, unsigned i)
{
	return &t->closing[(t->head_i + i) % DBTRACK_CLOSING];
}

void dbtrack__init(struct dbtrack *t, struct dbagg *db)
{
	memset(t, 0, sizeof(*t));
	t->db = db;
	t->head.next = t->head.prev = &t->head;
	t->conns.next = t->conns.prev = &t->conns;
}

void dbtrack__free(struct dbtrack *t)
{
	for (unsigned i = 0; t->closing && i < t->nclosing; i++)
		exemplar_spans__free(&closing_at(t, i)->r.sp);
	free(t->vconns);
	free(t->closing);
	free(t->parked);
	if (t->ex)
		exemplars__free(t->ex);
	free(t->ex);
	t->ex = NULL;
	t->vconns = NULL;
	t->closing = NULL;
	t->parked = NULL;
	t->nvconns = t->nclosing = t->nparked = 0;
}

int dbtrack__exemplars(struct dbtrack *t)
{
	if (!t->ex) {
		t->ex = malloc(sizeof(*t->ex));
		if (!t->ex)
			return -ENOMEM;
		exemplars__init(t->ex);
	}
	return 0;
}

static int defer_window(struct dbtrack *t, uint64_t defer_ns)
{
	if (defer_ns && !t->closing) {
		t->closing = calloc(DBTRACK_CLOSING, sizeof(*t->closing));
		if (!t->closing)
			return -ENOMEM;
	}
	if (defer_ns > t->defer_ns)
		t->defer_ns = defer_ns;
	return 0;
}

int dbtrack__set_defer(struct dbtrack *t, uint64_t defer_ns)
{
	t->defer_all = defer_ns > 0;
	return defer_window(t, defer_ns);
}

int dbtrack__set_handoff(struct dbtrack *t, struct handoff *ho)
{
	int err;

	if (!t->parked) {
		t->parked = calloc(DBTRACK_PARKED, sizeof(*t->parked));
		if (!t->parked)
			return -ENOMEM;
	}
	/* Only the requests of processes that hand work to a pool wait: see dbtrack__req_end. */
	err = defer_window(t, DBTRACK_HANDOFF_DEFER_NS);
	if (err)
		return err;
	t->ho = ho;
	return 0;
}

static void now_at(struct dbtrack *t, uint64_t ts)
{
	if (ts > t->now)
		t->now = ts;
}

void dbtrack__handoff_event(struct dbtrack *t, const struct handoff_ev *e)
{
	if (!t->ho)
		return;
	now_at(t, e->ts);
	handoff__event(t->ho, e);
}

static void req_reset(struct dbreq *r)
{
	struct dbreq *prev = r->prev, *next = r->next;

	memset(r, 0, sizeof(*r));
	r->prev = prev;
	r->next = next;
}

void dbtrack__req_start(struct dbtrack *t, struct dbreq *r, uint32_t tgid, uint32_t tid,
			uint64_t ts)
{
	if (r->open)
		return; /* pipelined: the oldest request keeps the accumulator */
	exemplar_spans__free(&r->sp);
	req_reset(r);
	r->open = true;
	r->tgid = tgid;
	r->tid = tid;
	r->ts = ts;
	r->seq = ++t->seq;
	r->next = &t->head;
	r->prev = t->head.prev;
	t->head.prev->next = r;
	t->head.prev = r;
	now_at(t, ts);
	if (t->ho)
		handoff__req_start(t->ho, tgid, r->seq, tid, ts);
}

void dbtrack__req_responding(struct dbtrack *t, struct dbreq *r, uint64_t ts)
{
	if (r->open && !r->resp_ts) {
		r->resp_ts = ts;
		if (t->ho)
			handoff__req_answer(t->ho, r->tgid, r->seq, ts);
	}
}

/* A query that started at ts can belong to r. */
static bool req_covers(const struct dbreq *r, uint32_t tgid, uint64_t ts)
{
	return r->tgid == tgid && r->ts <= ts && (!r->resp_ts || ts < r->resp_ts);
}

static void req_unlink(struct dbreq *r)
{
	if (!r->open)
		return;
	r->prev->next = r->next;
	r->next->prev = r->prev;
	r->prev = r->next = NULL;
	r->open = false;
}

void dbtrack__req_drop(struct dbtrack *t, struct dbreq *r)
{
	if (r->open && t->ho)
		handoff__req_gone(t->ho, r->tgid, r->seq);
	req_unlink(r);
	exemplar_spans__free(&r->sp);
}

void dbtrack__req_answer(struct dbreq *r, uint64_t start, uint64_t end, unsigned status)
{
	r->ex_start = start;
	r->ex_end = end;
	r->ex_status = (uint16_t)status;
}

/* What r did, for its exemplar (exemplars on). */
static void req_span(struct dbtrack *t, struct dbreq *r, const struct exemplar_span *sp)
{
	if (t->ex)
		exemplars__span(t->ex, &r->sp, sp);
}

/* The request with this sequence number, in flight or ended but still open to queries. */
static struct dbreq *req_by_seq(struct dbtrack *t, uint64_t seq)
{
	if (!seq)
		return NULL;
	for (struct dbreq *q = t->head.next; q != &t->head; q = q->next)
		if (q->seq == seq)
			return q;
	for (unsigned i = t->nclosing; i-- > 0;)
		if (closing_at(t, i)->r.seq == seq)
			return &closing_at(t, i)->r;
	return NULL;
}

/*
 * Requests of tgid that a query started at ts can belong to: in flight, or ended but still
 * waiting for late queries. A request that ended before ts cannot be one; the waiting ones are
 * in the order their ends were read, which is their order give or take ORDER_SLACK_NS, so the
 * scan (newest first) stops at the first that ended that long before ts.
 */
#define ORDER_SLACK_NS 50000000ull
static unsigned req_candidates(struct dbtrack *t, uint32_t tgid, uint64_t ts, struct dbreq **out)
{
	unsigned n = 0;

	for (struct dbreq *r = t->head.next; r != &t->head && n < DBTRACK_COVER_MAX; r = r->next)
		if (req_covers(r, tgid, ts))
			out[n++] = r;
	for (unsigned i = t->nclosing; i-- > 0 && n < DBTRACK_COVER_MAX;) {
		struct dbreq_closing *cl = closing_at(t, i);

		if (cl->end_ts + ORDER_SLACK_NS < ts)
			break;
		if (req_covers(&cl->r, tgid, ts))
			out[n++] = &cl->r;
	}
	if (n == DBTRACK_COVER_MAX)
		t->st.cover_cut++; /* maybe more: the share of each is then too large */
	return n;
}

static void req_add(struct dbtrack *t, struct dbreq *r, uint64_t qid, double share, uint64_t ts,
		    uint64_t lat, int conf, uint64_t raw)
{
	unsigned i;

	req_span(t, r,
		 &(struct exemplar_span){ .start = ts, .dur = lat, .ref = qid,
					  .kind = EXEMPLAR_QUERY, .conf = (uint8_t)conf });
	r->queries += share;
	r->db_ns += share * lat;
	r->conf_mask |= 1u << conf;
	for (i = 0; i < r->ntop && r->top[i].query_id != qid; i++)
		;
	if (i < r->ntop || r->ntop < DBREQ_TOP) {
		if (i == r->ntop) {
			r->top[i].query_id = qid;
			r->ntop++;
		}
		r->top[i].n += share;
		r->top[i].ns += share * lat;
	} else {
		r->top_other++;
	}
	if (conf != DBREQ_SHARED && raw && r->nraw < DBREQ_RAW) {
		r->raw[r->nraw] = raw;
		r->raw_qid[r->nraw++] = qid;
	} else if (conf != DBREQ_SHARED && raw) {
		r->raw_cut++;
	}
}

static void req_add_run(struct dbreq *r, const struct dbconn *c, bool shared)
{
	struct dbreq_run *run;

	if (r->nruns == DBREQ_RUNS) {
		r->runs_cut++;
		return;
	}
	run = &r->runs[r->nruns++];
	run->query_id = c->run_qid;
	run->source_id = c->run_src;
	run->n = c->run_n;
	run->total_ns = c->run_total;
	run->span_ns = c->run_last_end - c->run_first_ts;
	run->shared = shared;
}

static bool run_candidate(const struct dbtrack *t, const struct dbconn *c)
{
	return c->run_n >= t->db->o.nplus1_min && c->run_src && c->run_src != c->run_qid;
}

/*
 * The run on c ended: hand it to the request it ran in (r, or found by its number when the
 * caller does not have it), or to all it may have run in.
 */
static void run_close(struct dbtrack *t, struct dbconn *c, struct dbreq *r)
{
	struct dbreq *cand[DBTRACK_COVER_MAX];
	unsigned n, k = 0;

	if (!run_candidate(t, c))
		goto out;
	if (!r)
		r = req_by_seq(t, c->run_req_seq);
	if (r) {
		req_add_run(r, c, false);
		goto out;
	}
	n = c->run_req_seq ? 0 : req_candidates(t, c->tgid, c->run_first_ts, cand);
	for (unsigned i = 0; i < n; i++) {
		/*
		 * The request a run serves spans it whole; a request that answered before the
		 * run ended (a quick health check in flight at its start) was not waiting on it.
		 */
		if (cand[i]->resp_ts && cand[i]->resp_ts < c->run_last_end)
			continue;
		req_add_run(cand[i], c, true);
		k++;
	}
	/* Credited to a request that ended while it ran: not outside. */
	if (!k && !c->run_credited && c->run_total >= t->db->o.nplus1_total_ns)
		dbagg__flag(t->db, DBAGG_FLAG_N_PLUS_ONE, c->run_qid, "", c->run_first_ts,
			    "%u consecutive executions on one connection, %.1f ms in all, outside "
			    "any traced request",
			    c->run_n, c->run_total / 1e6);
out:
	c->run_n = 0;
	c->run_req_seq = 0;
	c->run_credited = false;
}

static void run_add(struct dbtrack *t, struct dbconn *c, uint64_t qid, const struct db_exec *x,
		    uint64_t lat, struct dbreq *single)
{
	if (c->run_n && qid == c->run_qid && x->ts_start >= c->run_last_end &&
	    x->ts_start - c->run_last_end <= t->db->o.nplus1_gap_ns) {
		c->run_n++;
		c->run_total += lat;
		c->run_last_end = x->ts_end;
		return;
	}
	if (c->run_n)
		run_close(t, c, NULL);
	c->run_src = c->run_qid;
	c->run_qid = qid;
	c->run_n = 1;
	c->run_total = lat;
	c->run_first_ts = x->ts_start;
	c->run_last_end = x->ts_end;
	c->run_req_seq = single ? single->seq : 0;
	c->run_credited = false;
}

static void tx_track(struct dbtrack *t, struct dbconn *c, const struct dbagg_fp *f,
		     const struct db_exec *x)
{
	uint64_t span;

	if (f->verb == SQL_VERB_BEGIN) {
		c->tx_start = x->ts_start;
		return;
	}
	if (!c->tx_start || (f->verb != SQL_VERB_COMMIT && f->verb != SQL_VERB_ROLLBACK))
		return;
	span = x->ts_end - c->tx_start;
	if (span >= t->db->o.long_tx_ns)
		dbagg__flag(t->db, DBAGG_FLAG_LONG_TX, 0, "", c->tx_start,
			    "%s held a transaction open on %s for %.1f ms (BEGIN .. %s)", c->client,
			    c->server, span / 1e6,
			    f->verb == SQL_VERB_COMMIT ? "COMMIT" : "ROLLBACK");
	c->tx_start = 0;
}

static void conn_link(struct dbtrack *t, struct dbconn *c, uint32_t tgid, uint64_t conn_id,
		      const char *client, const char *server, uint64_t ts)
{
	memset(c, 0, sizeof(*c));
	c->next = &t->conns;
	c->prev = t->conns.prev;
	t->conns.prev->next = c;
	t->conns.prev = c;
	c->tgid = tgid;
	c->conn_id = conn_id;
	c->opened_ts = ts;
	snprintf(c->client, sizeof(c->client), "%s", client);
	snprintf(c->server, sizeof(c->server), "%s", server);
}

static void conn_unlink(struct dbconn *c)
{
	c->prev->next = c->next;
	c->next->prev = c->prev;
	c->prev = c->next = NULL;
}

/* The stand-in connection of a PGconn: N+1 runs and transactions need one. */
static struct dbconn *vconn_get(struct dbtrack *t, const struct db_exec *x, const char *client)
{
	struct dbconn *c, *oldest = NULL;
	char server[64];

	if (!t->vconns) {
		t->vconns = calloc(DBTRACK_VCONNS, sizeof(*t->vconns));
		if (!t->vconns)
			return NULL;
	}
	for (unsigned i = 0; i < t->nvconns; i++) {
		c = &t->vconns[i];
		if (c->tgid == x->tgid && c->conn_id == x->conn_id)
			return c;
		if (!oldest || c->run_last_end < oldest->run_last_end)
			oldest = c;
	}
	if (t->nvconns < DBTRACK_VCONNS) {
		c = &t->vconns[t->nvconns++];
	} else {
		c = oldest;
		if (c->run_n)
			run_close(t, c, NULL);
		conn_unlink(c);
	}
	snprintf(server, sizeof(server), "PGconn %#llx", (unsigned long long)x->conn_id);
	conn_link(t, c, x->tgid, x->conn_id, client ? client : "", server, x->ts_start);
	return c;
}

/* A parked query or call, decided: added to the n requests in to, 1/n each. */
static void parked_add(struct dbtrack *t, const struct dbtrack_parked *p, struct dbreq **to,
		       unsigned n, int conf)
{
	if (p->dep != DBTRACK_QUERY) {
		dbtrack__deps_add(t, p->dep, &p->call, to, n, conf);
		if (p->call.ticket && t->on_decided)
			t->on_decided(t->on_decided_ctx, p->dep, p->call.ticket,
				      n == 1 && conf != DBREQ_SHARED ? to[0]->seq : 0);
		return;
	}
	for (unsigned i = 0; i < n; i++)
		req_add(t, to[i], p->query_id, 1.0 / n, p->ts, p->lat, conf, n == 1 ? p->raw : 0);
	t->st.attributed[conf]++;
}

/* A parked query or call shared equally among its candidates still open to it. */
static void parked_share(struct dbtrack *t, const struct dbtrack_parked *p)
{
	struct dbreq *alive[DBTRACK_PARK_CAND];
	unsigned n = 0;

	for (unsigned i = 0; i < p->ncand; i++)
		if ((alive[n] = req_by_seq(t, p->cand[i])))
			n++;
	if (n) {
		parked_add(t, p, alive, n, DBREQ_SHARED);
	} else if (p->dep == DBTRACK_QUERY) {
		t->st.outside++;
	} else {
		t->st.dep_outside[p->dep]++;
		if (p->call.ticket && t->on_decided)
			t->on_decided(t->on_decided_ctx, p->dep, p->call.ticket, 0);
	}
}

/* Waits for the hand-off of the worker to be decided; false: no room. */
static bool park(struct dbtrack *t, const struct dbtrack_parked *p, struct dbreq **cand,
		 unsigned n)
{
	struct dbtrack_parked *q;

	if (n > DBTRACK_PARK_CAND || t->nparked == DBTRACK_PARKED) {
		t->st.handoff_parked_full++;
		return false;
	}
	q = &t->parked[t->nparked++];
	*q = *p;
	q->ncand = n;
	for (unsigned i = 0; i < n; i++)
		q->cand[i] = cand[i]->seq;
	return true;
}

bool dbtrack__park(struct dbtrack *t, int dep, const struct dbtrack_call *c, struct dbreq **cand,
		   unsigned n)
{
	const struct dbtrack_parked p = {
		.dep = dep, .tgid = c->tgid, .tid = c->tid, .ts = c->ts_start, .call = *c
	};

	return park(t, &p, cand, n);
}

/*
 * Attributes the waiting queries whose hand-off is decided. Those still undecided are shared
 * when they started before force_before, or may serve the request numbered force_seq (0:
 * none): a request they may serve is about to be finalized. A request covering a query that
 * started at ts ends after ts, so it is finalized after ts + defer_ns.
 */
static void parked_resolve(struct dbtrack *t, uint64_t force_seq, uint64_t force_before)
{
	unsigned k = 0;

	for (unsigned i = 0; i < t->nparked; i++) {
		struct dbtrack_parked *p = &t->parked[i];
		struct dbreq *r = NULL;
		bool force = p->ts < force_before;
		uint64_t seq;
		int v;

		v = handoff__query(t->ho, p->tgid, p->tid, p->ts, t->now, &seq);
		if (v == HANDOFF_YES)
			r = req_by_seq(t, seq);
		if (r) {
			parked_add(t, p, &r, 1, DBREQ_HANDOFF);
			continue;
		}
		for (unsigned j = 0; force_seq && j < p->ncand && !force; j++)
			force = p->cand[j] == force_seq;
		if (v == HANDOFF_WAIT && !force) {
			t->parked[k++] = *p;
			continue;
		}
		if (v == HANDOFF_WAIT)
			t->st.handoff_undecided++;
		parked_share(t, p);
	}
	t->nparked = k;
}

/*
 * Among the n requests a call of tgid/tid that ran start..end can serve, the one it serves
 * (*single) and how sure that is; DBTRACK_WAIT when the hand-off that decides it is not known
 * yet, and shared (*single NULL) otherwise (also when n is 0: outside requests).
 */
static int choose(struct dbtrack *t, uint32_t tgid, uint32_t tid, uint64_t start, uint64_t end,
		  struct dbreq **cand, unsigned n, struct dbreq **single)
{
	struct dbreq *by_tid = NULL;
	unsigned ntid = 0;
	int v = HANDOFF_NONE;
	uint64_t seq;

	for (unsigned i = 0; i < n; i++) {
		if (cand[i]->tid == tid) {
			ntid++;
			by_tid = cand[i];
		}
	}
	if (t->ho)
		handoff__activity(t->ho, tgid, tid, start, end);
	if (n > 1 && ntid != 1 && t->ho)
		v = handoff__query(t->ho, tgid, tid, start, t->now, &seq);
	*single = NULL;
	if (!n)
		return DBREQ_SHARED;
	if (n == 1) {
		*single = cand[0];
		return DBREQ_EXACT;
	}
	if (ntid == 1) {
		*single = by_tid;
		return DBREQ_THREAD;
	}
	if (v == HANDOFF_YES && (*single = req_by_seq(t, seq)))
		return DBREQ_HANDOFF;
	return v == HANDOFF_WAIT ? DBTRACK_WAIT : DBREQ_SHARED;
}

unsigned dbtrack__decide(struct dbtrack *t, uint32_t tgid, uint32_t tid, uint64_t start,
			 uint64_t end, struct dbreq **out, int *conf)
{
	struct dbreq *cand[DBTRACK_COVER_MAX], *single;
	unsigned n;

	now_at(t, end);
	n = req_candidates(t, tgid, start, cand);
	*conf = choose(t, tgid, tid, start, end, cand, n, &single);
	if (!n)
		return 0;
	if (single) {
		out[0] = single;
		return 1;
	}
	if (*conf != DBTRACK_WAIT)
		*conf = DBREQ_SHARED;
	memcpy(out, cand, n * sizeof(*cand));
	return n;
}

void dbtrack__exec(struct dbtrack *t, struct dbconn *c, const struct db_exec *x, struct dbagg_fp *f,
		   uint64_t raw, const char *client)
{
	struct dbreq *cand[DBTRACK_COVER_MAX], *single = NULL;
	uint64_t lat = db_exec__latency(x);
	int conf = DBREQ_EXACT;
	unsigned n;

	now_at(t, x->ts_end);
	if (!c && x->conn_id)
		c = vconn_get(t, x, client);
	/* Only reads are cache candidates: BEGIN twice in a request is not redundant. */
	if (f->verb != SQL_VERB_SELECT && f->verb != SQL_VERB_WITH)
		raw = 0;
	n = req_candidates(t, x->tgid, x->ts_start, cand);
	for (unsigned i = 0; i < n; i++)
		cand[i]->window_queries++;
	/* Every query is a worker's activity, inside requests or not (handoff.c). */
	conf = choose(t, x->tgid, x->tid, x->ts_start, x->ts_end, cand, n, &single);
	if (!n)
		t->st.outside++;
	if (conf == DBTRACK_WAIT &&
	    park(t,
		 &(struct dbtrack_parked){ .dep = DBTRACK_QUERY, .tgid = x->tgid, .tid = x->tid,
					   .ts = x->ts_start, .query_id = f->query_id, .lat = lat,
					   .raw = raw },
		 cand, n)) {
		n = 0; /* counted when decided */
	} else if (n && !single) {
		conf = DBREQ_SHARED;
		for (unsigned i = 0; i < n; i++)
			req_add(t, cand[i], f->query_id, 1.0 / n, x->ts_start, lat, conf, 0);
	}
	if (single)
		req_add(t, single, f->query_id, 1.0, x->ts_start, lat, conf, raw);
	if (n)
		t->st.attributed[conf]++;
	if (!c)
		return;
	c->queries++;
	if (!f->truncated)
		run_add(t, c, f->query_id, x, lat, single);
	tx_track(t, c, f, x);
}

/* Shortened fingerprint for evidence strings. */
static const char *fp_short(const struct dbtrack *t, uint64_t qid, char *buf, size_t sz)
{
	const struct dbagg_fp *f = dbagg__find(t->db, qid);

	snprintf(buf, sz, "%.60s%s", f ? f->text : "?", f && strlen(f->text) > 60 ? "..." : "");
	return buf;
}

static void req_check(struct dbtrack *t, struct dbreq *r, const struct agg_endpoint *ep,
		      uint64_t latency_ns)
{
	const struct dbagg_opts *o = &t->db->o;
	char src[80], endpoint[AGG_METHOD_MAX + AGG_ROUTE_MAX + 2];

	if (!r->nruns && r->nraw < 2)
		return; /* nothing to flag: the name is not needed */
	snprintf(endpoint, sizeof(endpoint), "%s %s", ep->method, ep->route);
	for (unsigned i = 0; i < r->nruns; i++) {
		const struct dbreq_run *run = &r->runs[i];
		/*
		 * A loop of round trips costs the request its whole span, not only the
		 * database's part of it: the client's work and the wire between the queries
		 * go away with the loop when the N queries become one.
		 */
		double share = latency_ns ? 100.0 * run->span_ns / latency_ns : 0;
		struct dbagg_flag *fl;

		if (run->total_ns < o->nplus1_total_ns && share < o->nplus1_share_pct)
			continue;
		fl = dbagg__flag(t->db, DBAGG_FLAG_N_PLUS_ONE, run->query_id, endpoint, r->ts,
				 "after \"%s\", %u consecutive executions on one connection, "
				 "%.2f ms in the database over %.2f ms = %.0f %% of a %.2f ms "
				 "request (attribution: %s)",
				 fp_short(t, run->source_id, src, sizeof(src)), run->n,
				 run->total_ns / 1e6, run->span_ns / 1e6, share, latency_ns / 1e6,
				 run->shared ? "shared" : "exact");
		if (fl && run->shared)
			fl->shared++;
	}
	for (unsigned i = 0; i < r->nraw; i++) {
		unsigned same = 1;
		bool first = true;

		for (unsigned j = 0; j < r->nraw; j++) {
			if (j != i && r->raw[j] == r->raw[i]) {
				same++;
				first = first && j > i;
			}
		}
		if (same > 1 && first)
			dbagg__flag(t->db, DBAGG_FLAG_REDUNDANT, r->raw_qid[i], endpoint, r->ts,
				    "the same query with the same parameters ran %u times in one "
				    "request: a cache candidate",
				    same);
	}
}

/*
 * Shares are estimates: a request cannot have spent longer in the database than it lasted, nor
 * sent more queries than its process started while it was in flight.
 */
static void req_bound(struct dbtrack *t, struct dbreq *r, uint64_t latency_ns)
{
	double k = 1.0;

	if (r->queries > r->window_queries + 1e-9)
		k = r->window_queries / r->queries;
	if (latency_ns && r->db_ns * k > latency_ns)
		k = latency_ns / r->db_ns;
	if (k >= 1.0)
		return;
	t->st.bound_clipped++;
	r->queries *= k;
	r->db_ns *= k;
	for (unsigned i = 0; i < r->ntop; i++) {
		r->top[i].n *= k;
		r->top[i].ns *= k;
	}
}

/* The request, whole, offered to its endpoint's exemplars; its spans are handed over. */
static void req_exemplar(struct dbtrack *t, struct dbreq *r, struct agg_endpoint *ep)
{
	struct exemplar e = {
		.seq = r->seq,
		.start = r->ex_start ? r->ex_start : r->ts,
		.tgid = r->tgid,
		.tid = r->tid,
		.status = r->ex_status,
		.conf = (uint8_t)dbtrack__req_conf(r),
		.sp = r->sp,
	};

	r->sp = NULL;
	if (!t->ex || !r->ex_end) {
		exemplar_spans__free(&e.sp);
		return;
	}
	e.lat = r->ex_end > e.start ? r->ex_end - e.start : 0;
	exemplars__offer(t->ex, &ep->ex, &e);
}

/* The request's wait for late queries is over: close its runs, add it to ep (NULL: none). */
static void req_finalize(struct dbtrack *t, struct dbreq *r, struct agg_endpoint *ep,
			 uint64_t latency_ns)
{
	t->st.raw_cut += r->raw_cut;
	/*
	 * Runs still going on the connections this request used end with it; a shared run
	 * (not known to be this request's) is credited to it as far as it got, and goes on.
	 */
	for (struct dbconn *c = t->conns.next; c != &t->conns; c = c->next) {
		if (!c->run_n || c->tgid != r->tgid)
			continue;
		if (c->run_req_seq == r->seq)
			run_close(t, c, r);
		else if (!c->run_req_seq && c->run_first_ts >= r->ts &&
			 c->run_last_end <= r->resp_ts && run_candidate(t, c)) {
			req_add_run(r, c, true);
			c->run_credited = true;
		}
	}
	/* After the loop: a run it hands to a request whose runs are full is cut too. */
	t->st.runs_cut += r->runs_cut;
	if (t->ho)
		handoff__req_gone(t->ho, r->tgid, r->seq);
	if (!ep) {
		exemplar_spans__free(&r->sp);
		return;
	}
	req_exemplar(t, r, ep);
	dbtrack__deps_finalize(t, r, ep, latency_ns);
	if (t->db_off)
		return;
	req_bound(t, r, latency_ns);
	agg__add_db(ep, r->queries, r->db_ns, dbtrack__req_conf(r), r->top, r->ntop);
	req_check(t, r, ep, latency_ns);
}

/* resolve: the waiting queries were not forced for this request's end (the list is full). */
static void closing_pop(struct dbtrack *t, bool resolve)
{
	struct dbreq_closing *cl = closing_at(t, 0);

	if (t->ho && resolve)
		parked_resolve(t, cl->r.seq, 0);
	req_finalize(t, &cl->r, cl->ep, cl->latency_ns);
	t->head_i = (t->head_i + 1) % DBTRACK_CLOSING;
	t->nclosing--;
}

void dbtrack__tick(struct dbtrack *t, uint64_t now_ns)
{
	if (t->ho) {
		/* At the end, every run is as decided as it will be after the last event. */
		now_at(t, now_ns ? now_ns : t->now + HANDOFF_FIFO_NS);
		handoff__decide(t->ho, t->now);
		parked_resolve(t, 0,
			       !now_ns		      ? UINT64_MAX
			       : now_ns > t->defer_ns ? now_ns - t->defer_ns + 1
						      : 0);
	}
	while (t->nclosing && (!now_ns || closing_at(t, 0)->end_ts + t->defer_ns <= now_ns))
		closing_pop(t, false);
}

void dbtrack__req_end(struct dbtrack *t, struct dbreq *r, struct agg_endpoint *ep,
		      uint64_t latency_ns, uint64_t ts)
{
	struct dbreq_closing *cl;

	if (!r->open)
		return;
	dbtrack__req_responding(t, r, ts);
	req_unlink(r);
	now_at(t, ts);
	/*
	 * Wait for late queries only where they can come: paths with a ring of their own, or
	 * pool workers whose runs are decided later. A server that hands nothing off (nginx at
	 * 30 000 requests/s) would otherwise copy every request into the waiting list.
	 */
	if (!t->defer_ns || (!t->defer_all && !(t->ho && handoff__pool(t->ho, r->tgid)))) {
		req_finalize(t, r, ep, latency_ns);
		return;
	}
	if (t->nclosing == DBTRACK_CLOSING) {
		t->st.closed_early++;
		closing_pop(t, true);
	}
	cl = closing_at(t, t->nclosing++);
	cl->r = *r;
	cl->r.prev = cl->r.next = NULL;
	r->sp = NULL; /* the waiting copy owns the spans */
	cl->ep = ep;
	cl->latency_ns = latency_ns;
	cl->end_ts = ts;
}

void dbtrack__conn_open(struct dbtrack *t, struct dbconn *c, uint32_t tgid, uint64_t conn_id,
			const char *client, const char *server, uint64_t ts)
{
	conn_link(t, c, tgid, conn_id, client, server, ts);
	dbagg__conn_open(t->db, client, server, ts);
}

void dbtrack__conn_close(struct dbtrack *t, struct dbconn *c, uint64_t ts)
{
	if (c->run_n)
		run_close(t, c, NULL);
	conn_unlink(c);
	dbagg__conn_close(t->db, c->client, c->server, ts - c->opened_ts, c->queries, ts);
}

const char *dbtrack__conf_name(int conf)
{
	return conf >= 0 && conf < DBREQ_CONF_NR ? conf_names[conf] : "?";
}

int dbtrack__req_conf(const struct dbreq *r)
{
	if (r->conf_mask & (1u << DBREQ_SHARED))
		return DBREQ_SHARED;
	if (r->conf_mask & (1u << DBREQ_HANDOFF))
		return DBREQ_HANDOFF;
	if (r->conf_mask & (1u << DBREQ_THREAD))
		return DBREQ_THREAD;
	return DBREQ_EXACT;
}

/* Requests of the endpoint named "METHOD route" whose DB work was added up, all services. */
static uint64_t endpoint_requests(const struct agg *a, const char *name)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < a->neps; i++) {
		const struct agg_endpoint *e = a->eps[i];
		size_t ml = strlen(e->method);

		if (!strncmp(name, e->method, ml) && name[ml] == ' ' &&
		    !strcmp(name + ml + 1, e->route))
			n += e->db_reqs;
	}
	return n;
}

void dbtrack__finish(struct dbtrack *t, const struct agg *a)
{
	struct dbagg *db = t->db;
	unsigned k = 0;

	/* Support of each N+1 flag that rests on shared attribution only. */
	for (unsigned i = 0; i < db->nflags; i++) {
		struct dbagg_flag *fl = &db->flags[i];
		uint64_t reqs;

		if (fl->kind != DBAGG_FLAG_N_PLUS_ONE || !fl->endpoint[0] ||
		    fl->shared < fl->occurrences)
			continue;
		reqs = endpoint_requests(a, fl->endpoint);
		fl->support = reqs ? fmin(1.0, (double)fl->occurrences / reqs) : 0;
		fl->weak = fl->support < DBTRACK_NPLUS1_SUPPORT;
	}
	/*
	 * A weak flag is the shadow of a run on requests that merely overlapped it: drop it when
	 * the same fingerprint has a flag that is not weak, or a weak one with more support.
	 */
	for (unsigned i = 0; i < db->nflags; i++) {
		struct dbagg_flag *fl = &db->flags[i];
		bool shadow = false;

		for (unsigned j = 0; fl->weak && j < db->nflags && !shadow; j++) {
			const struct dbagg_flag *o = &db->flags[j];

			shadow = j != i && o->kind == DBAGG_FLAG_N_PLUS_ONE &&
				 o->query_id == fl->query_id && o->endpoint[0] &&
				 (!o->weak || o->support > fl->support ||
				  (o->support == fl->support && j < i));
		}
		if (shadow) {
			db->flags_overlap++;
			continue;
		}
		db->flags[k++] = *fl;
	}
	db->nflags = k;
}
