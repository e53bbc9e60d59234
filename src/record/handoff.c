// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>
#include <string.h>

#include "record/handoff.h"

void handoff__init(struct handoff *h)
{
	memset(h, 0, sizeof(*h));
}

void handoff__free(struct handoff *h)
{
	for (unsigned i = 0; i < HANDOFF_PROCS; i++) {
		free(h->procs[i].reqs);
		free(h->procs[i].runs);
		free(h->procs[i].acts);
	}
	memset(h->procs, 0, sizeof(h->procs));
}

static struct handoff_proc *proc_find(struct handoff *h, uint32_t tgid)
{
	for (unsigned i = 0; i < HANDOFF_PROCS; i++)
		if (h->procs[i].tgid == tgid)
			return &h->procs[i];
	return NULL;
}

static struct handoff_proc *proc_get(struct handoff *h, uint32_t tgid)
{
	struct handoff_proc *p = proc_find(h, tgid);

	if (p || !tgid)
		return p;
	p = proc_find(h, 0);
	if (!p) {
		h->st.procs_full++;
		return NULL;
	}
	p->reqs = calloc(HANDOFF_REQS, sizeof(*p->reqs));
	p->runs = calloc(HANDOFF_RUNS, sizeof(*p->runs));
	p->acts = calloc(HANDOFF_ACTS, sizeof(*p->acts));
	if (!p->reqs || !p->runs || !p->acts) {
		free(p->reqs);
		free(p->runs);
		free(p->acts);
		memset(p, 0, sizeof(*p));
		h->st.procs_full++;
		return NULL;
	}
	p->tgid = tgid;
	p->reqs_cap = HANDOFF_REQS;
	if (h->on_proc)
		h->on_proc(h->ctx, tgid);
	return p;
}

static bool is_reader(const struct handoff_proc *p, uint32_t tid)
{
	for (unsigned i = 0; i < p->nreaders; i++)
		if (p->readers[i] == tid)
			return true;
	return false;
}

/* The newest run of tid that began at or before ts, or NULL. */
static struct handoff_run *run_at(struct handoff_proc *p, uint32_t tid, uint64_t ts)
{
	for (unsigned i = p->nruns; i-- > 0;)
		if (p->runs[i].tid == tid && p->runs[i].h_ts <= ts)
			return &p->runs[i];
	return NULL;
}

/* The newest run of tid, or NULL. */
static struct handoff_run *run_last(struct handoff_proc *p, uint32_t tid)
{
	return run_at(p, tid, UINT64_MAX);
}

/* A new run, kept in hand-off order (silent runs are found late). */
static struct handoff_run *run_add(struct handoff *h, struct handoff_proc *p, uint32_t tid,
				   uint32_t waker, uint8_t kind, uint64_t ts)
{
	unsigned i;

	if (p->nruns == HANDOFF_RUNS) {
		h->st.runs_full++;
		return NULL;
	}
	for (i = p->nruns; i > 0 && p->runs[i - 1].h_ts > ts; i--)
		p->runs[i] = p->runs[i - 1];
	p->nruns++;
	p->runs[i] = (struct handoff_run){ .tid = tid, .waker = waker, .kind = kind, .h_ts = ts };
	p->runs_seen++;
	h->st.runs++;
	if (kind == HANDOFF_RUN_SILENT)
		h->st.silent++;
	return &p->runs[i];
}

void handoff__wake(struct handoff *h, uint32_t tgid, uint32_t waker, uint32_t wakee, uint64_t ts,
		   bool new_thread)
{
	struct handoff_proc *p = proc_get(h, tgid);
	struct handoff_run *r;

	if (new_thread)
		h->st.news++;
	else
		h->st.wakes++;
	/*
	 * Hand-offs go from the thread that reads requests to one that does not. Until the
	 * first request is seen read, any thread may be the reader: candidate() checks later.
	 */
	if (!p || (p->nreaders && !is_reader(p, waker)) || is_reader(p, wakee)) {
		h->st.wakes_ignored++;
		return;
	}
	r = run_last(p, wakee);
	if (r && r->kind == HANDOFF_RUN_SILENT && r->h_ts > ts && r->state <= HANDOFF_RUN_CLOSED) {
		/* Its first query was seen before the wake that started it: the wake dates it. */
		struct handoff_run *prev = run_at(p, wakee, r->h_ts - 1);

		if (!prev || (prev->b_ts && prev->b_ts <= ts)) {
			r->kind = new_thread ? HANDOFF_RUN_NEW : HANDOFF_RUN_WAKE;
			r->waker = waker;
			r->h_ts = ts;
			h->st.silent--;
			return;
		}
	}
	/* A worker in a run waits on other things too (the thread start, app locks). */
	if (r && r->state == HANDOFF_RUN_OPEN && r->h_ts <= ts) {
		h->st.wakes_ignored++;
		return;
	}
	run_add(h, p, wakee, waker, new_thread ? HANDOFF_RUN_NEW : HANDOFF_RUN_WAKE, ts);
}

void handoff__event(struct handoff *h, const struct handoff_ev *e)
{
	if (e->kind == HANDOFF_EV_BACK)
		handoff__back(h, e->tgid, e->tid, e->ts);
	else if (e->kind == HANDOFF_EV_WAKE || e->kind == HANDOFF_EV_NEW)
		handoff__wake(h, e->tgid, e->tid, e->wakee, e->ts, e->kind == HANDOFF_EV_NEW);
}

void handoff__back(struct handoff *h, uint32_t tgid, uint32_t tid, uint64_t ts)
{
	struct handoff_proc *p = proc_find(h, tgid);
	struct handoff_run *r = p ? run_at(p, tid, ts) : NULL;

	h->st.backs++;
	if (r && r->state != HANDOFF_RUN_OPEN) {
		/*
		 * A known worker handing back with no run open was given its job without a
		 * wake-up. Its run ends here and began at its first query (dated later, when
		 * its queries are), or no later than here.
		 */
		r = run_add(h, p, tid, 0, HANDOFF_RUN_SILENT, ts);
	}
	if (!r) {
		h->st.backs_ignored++;
		return;
	}
	r->b_ts = ts;
	r->state = HANDOFF_RUN_CLOSED;
}

static struct handoff_req *req_find(struct handoff_proc *p, uint64_t seq)
{
	for (unsigned i = p->nreqs; i-- > 0;)
		if (p->reqs[i].seq == seq)
			return &p->reqs[i];
	return NULL;
}

void handoff__req_start(struct handoff *h, uint32_t tgid, uint64_t seq, uint32_t reader,
			uint64_t ts)
{
	struct handoff_proc *p = proc_get(h, tgid);
	unsigned i;

	if (!p)
		return;
	if (!is_reader(p, reader)) {
		unsigned k = 0;

		/*
		 * A thread-per-connection server has a new reader for every connection, and its
		 * threads die: the newest ones are kept, the oldest give way.
		 */
		if (p->nreaders < HANDOFF_READERS)
			p->readers[p->nreaders++] = reader;
		else
			p->readers[p->readers_next++ % HANDOFF_READERS] = reader;
		/* Woken before it was known to read requests: those were no hand-offs. */
		for (unsigned j = 0; j < p->nruns; j++)
			if (p->runs[j].tid != reader)
				p->runs[k++] = p->runs[j];
		p->nruns = k;
	}
	if (p->nreqs == p->reqs_cap) {
		struct handoff_req *more = NULL;

		if (p->reqs_cap < HANDOFF_REQS_MAX)
			more = realloc(p->reqs, 2 * p->reqs_cap * sizeof(*more));
		if (!more) {
			h->st.reqs_full++;
			return;
		}
		p->reqs = more;
		p->reqs_cap *= 2;
	}
	for (i = p->nreqs; i > 0 && p->reqs[i - 1].read_ts > ts; i--)
		p->reqs[i] = p->reqs[i - 1];
	p->nreqs++;
	p->reqs[i] = (struct handoff_req){ .seq = seq, .reader = reader, .read_ts = ts };
}

void handoff__req_answer(struct handoff *h, uint32_t tgid, uint64_t seq, uint64_t ts)
{
	struct handoff_proc *p = proc_find(h, tgid);
	struct handoff_req *q = p ? req_find(p, seq) : NULL;

	if (q && !q->resp_ts)
		q->resp_ts = ts;
}

void handoff__req_gone(struct handoff *h, uint32_t tgid, uint64_t seq)
{
	struct handoff_proc *p = proc_find(h, tgid);
	struct handoff_req *q = p ? req_find(p, seq) : NULL;

	if (q)
		q->gone = true;
}

/* The earliest its request can have been answered: after the run's work was done. */
static uint64_t run_done(const struct handoff_run *r)
{
	uint64_t t = r->h_ts > r->last_end ? r->h_ts : r->last_end;

	if (r->b_ts > HANDOFF_BACK_LATE_NS && r->b_ts - HANDOFF_BACK_LATE_NS > t)
		t = r->b_ts - HANDOFF_BACK_LATE_NS;
	return t;
}

/* q may be the request r serves: read before the hand-off by its waker, answered after. */
static bool candidate(const struct handoff_run *r, const struct handoff_req *q)
{
	return !q->taken && q->read_ts < r->h_ts && q->reader != r->tid &&
	       (!r->waker || q->reader == r->waker) && (!q->resp_ts || q->resp_ts > run_done(r));
}

/* The number of candidates of r (stopping at 2), the oldest in *first. */
static unsigned candidates(struct handoff_proc *p, const struct handoff_run *r,
			   struct handoff_req **first)
{
	unsigned n = 0;

	*first = NULL;
	for (unsigned i = 0; i < p->nreqs && n < 2; i++) {
		if (p->reqs[i].read_ts >= r->h_ts)
			break;
		if (!p->reqs[i].gone && candidate(r, &p->reqs[i]) && !n++)
			*first = &p->reqs[i];
	}
	return n;
}

/* The oldest candidate of r that no earlier run holds. */
static struct handoff_req *oldest_free(struct handoff_proc *p, const struct handoff_run *r)
{
	for (unsigned i = 0; i < p->nreqs && p->reqs[i].read_ts < r->h_ts; i++)
		if (!p->reqs[i].gone && !p->reqs[i].held && candidate(r, &p->reqs[i]))
			return &p->reqs[i];
	return NULL;
}

static void match(struct handoff_run *r, struct handoff_req *q, bool forced)
{
	r->state = HANDOFF_RUN_MATCHED;
	r->req_seq = q->seq;
	r->forced = forced;
	q->taken = true;
}

static void prune(struct handoff_proc *p, uint64_t now)
{
	unsigned k = 0;

	for (unsigned i = 0; i < p->nreqs; i++)
		if (!p->reqs[i].gone)
			p->reqs[k++] = p->reqs[i];
	p->nreqs = k;
	k = 0;
	for (unsigned i = 0; i < p->nruns; i++) {
		const struct handoff_run *r = &p->runs[i];
		bool judged = r->state >= HANDOFF_RUN_MATCHED;

		/* Open runs of threads gone for good (a pool shrinking) go after a while too. */
		if (judged ? r->b_ts + HANDOFF_KEEP_NS < now : r->h_ts + 30 * HANDOFF_KEEP_NS < now)
			continue;
		p->runs[k++] = *r;
	}
	p->nruns = k;
}

/*
 * The query comes from another ring than the wake-ups: the wake that started its run may not
 * be in yet. It is dated once that would have been seen.
 */
void handoff__activity(struct handoff *h, uint32_t tgid, uint32_t tid, uint64_t start, uint64_t end)
{
	struct handoff_proc *p = proc_find(h, tgid);

	if (!p || !p->runs_seen || is_reader(p, tid))
		return;
	if (p->nacts == HANDOFF_ACTS) {
		h->st.acts_full++;
		return;
	}
	p->acts[p->nacts++] = (struct handoff_act){ .tid = tid, .start = start, .end = end };
}

/* r's hand-off moved earlier: it moves down the list, kept in hand-off order. */
static struct handoff_run *run_resort(struct handoff_proc *p, struct handoff_run *r)
{
	struct handoff_run tmp = *r;
	unsigned i = r - p->runs;

	for (; i > 0 && p->runs[i - 1].h_ts > tmp.h_ts; i--)
		p->runs[i] = p->runs[i - 1];
	p->runs[i] = tmp;
	return &p->runs[i];
}

/*
 * The run a query of tid started at ts is in, once every event before ts is in. Without a
 * hand-off seen, the worker was given its job silently: the silent run that ends with its
 * next hand-back began no later than this query; else a silent run begins here.
 */
static struct handoff_run *run_for(struct handoff *h, struct handoff_proc *p, uint32_t tid,
				   uint64_t ts)
{
	struct handoff_run *r = run_at(p, tid, ts), *next = NULL;

	if (r && (r->state == HANDOFF_RUN_OPEN || ts < r->b_ts))
		return r;
	for (unsigned i = 0; i < p->nruns && !next; i++)
		if (p->runs[i].tid == tid && p->runs[i].h_ts > ts)
			next = &p->runs[i];
	if (next && next->kind == HANDOFF_RUN_SILENT && next->state <= HANDOFF_RUN_CLOSED) {
		next->h_ts = ts;
		return run_resort(p, next);
	}
	return run_add(h, p, tid, 0, HANDOFF_RUN_SILENT, ts);
}

static void acts_apply(struct handoff *h, struct handoff_proc *p, uint64_t now)
{
	unsigned k = 0;

	for (unsigned i = 0; i < p->nacts; i++) {
		const struct handoff_act *a = &p->acts[i];
		struct handoff_run *r;

		if (a->start + HANDOFF_SETTLE_NS > now) {
			p->acts[k++] = *a;
			continue;
		}
		r = run_for(h, p, a->tid, a->start);
		if (r && a->end > r->last_end)
			r->last_end = a->end;
	}
	p->nacts = k;
}

static void decide_proc(struct handoff *h, struct handoff_proc *p, uint64_t now)
{
	struct handoff_req *q;
	bool changed = true;

	acts_apply(h, p, now);
	while (changed) {
		changed = false;
		for (unsigned i = 0; i < p->nruns; i++) {
			struct handoff_run *r = &p->runs[i];

			if (r->state != HANDOFF_RUN_CLOSED || r->b_ts + HANDOFF_SETTLE_NS > now)
				continue;
			if (candidates(p, r, &q) == 1) {
				match(r, q, true);
				h->st.forced++;
				changed = true;
			}
		}
	}
	/*
	 * In hand-off order, each run takes the oldest request it may serve; runs not judged yet
	 * (still running, or handed back too recently) take theirs too, but only for the
	 * others' sake: they are judged later, when their own candidates are all known.
	 */
	for (unsigned i = 0; i < p->nreqs; i++)
		p->reqs[i].held = false;
	for (unsigned i = 0; i < p->nruns; i++) {
		struct handoff_run *r = &p->runs[i];
		bool ripe = r->state == HANDOFF_RUN_CLOSED && r->b_ts + HANDOFF_FIFO_NS <= now;

		if (r->state >= HANDOFF_RUN_MATCHED)
			continue;
		q = oldest_free(p, r);
		if (!ripe) {
			if (q)
				q->held = true;
			continue;
		}
		if (q) {
			match(r, q, false);
			h->st.fifo++;
		} else {
			r->state = HANDOFF_RUN_UNKNOWN;
			h->st.unknown++;
		}
	}
	prune(p, now);
}

void handoff__decide(struct handoff *h, uint64_t now)
{
	for (unsigned i = 0; i < HANDOFF_PROCS; i++)
		if (h->procs[i].tgid)
			decide_proc(h, &h->procs[i], now);
}

/* tgid's process once it has handed work off, after reading the events waiting for it. */
static struct handoff_proc *pool_find(struct handoff *h, uint32_t tgid)
{
	struct handoff_proc *p = proc_find(h, tgid);

	if (p && p->runs_seen)
		return p;
	if (h->pull)
		h->pull(h->ctx);
	p = proc_find(h, tgid);
	return p && p->runs_seen ? p : NULL;
}

bool handoff__pool(struct handoff *h, uint32_t tgid)
{
	return pool_find(h, tgid) != NULL;
}

int handoff__query(struct handoff *h, uint32_t tgid, uint32_t tid, uint64_t ts, uint64_t now,
		   uint64_t *seq)
{
	struct handoff_proc *p = pool_find(h, tgid);
	struct handoff_run *r;

	*seq = 0;
	/* Processes without hand-offs, and the loop's own queries, are not this module's. */
	if (!p || is_reader(p, tid))
		return HANDOFF_NONE;
	/* Until every event before the query is in, its run may not be known yet. */
	r = ts + HANDOFF_SETTLE_NS > now ? run_at(p, tid, ts) : run_for(h, p, tid, ts);
	if (!r)
		return ts + HANDOFF_SETTLE_NS > now ? HANDOFF_WAIT : HANDOFF_NONE;
	if (r->state == HANDOFF_RUN_MATCHED && (ts < r->b_ts)) {
		*seq = r->req_seq;
		return HANDOFF_YES;
	}
	if (r->state == HANDOFF_RUN_UNKNOWN && ts < r->b_ts)
		return HANDOFF_NONE;
	return HANDOFF_WAIT;
}
