// SPDX-License-Identifier: GPL-2.0-only
/*
 * The outbound HTTP sections of `sloprobe report`: the client's view of the traced endpoints
 * (callers on the same host, a load generator among them), the calls by destination and
 * route, and the retries per destination (calls per endpoint are in runreport_cache.c's
 * dependency lines). Its own file because these read the
 * outbound part of a run only. The tables' cells are made here for the HTML report too
 * (runhtml.c), so both show the same figures.
 */
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "analyze/runreport.h"
#include "lib/units.h"

#define CALLS_TOP 20 /* rows of the calls table; the JSON report has them all */

static double pctl(const struct hist_sparse *h, double q)
{
	return h && h->count ? hist_sparse__percentile(h, q) / 1e6 : 0;
}

/* The port of "addr:port" or "[v6]:port"; -1 when there is none. */
static int peer_port(const char *peer)
{
	const char *c = strrchr(peer, ':');
	char *end;
	long p;

	if (!c || !c[1])
		return -1;
	p = strtol(c + 1, &end, 10);
	return *end || p < 0 || p > 65535 ? -1 : (int)p;
}

static const char *dest_of(const char *host, const char *peer)
{
	return host && host[0] ? host : peer;
}

/*
 * A row of cells into t; the first nval are names from traffic (caller, destination, route),
 * shown as values of o, the others are sloprobe's own words and numbers.
 */
static void row(struct analyze_out *o, struct table *t, char (*v)[RUNREPORT_CELL], unsigned n,
		unsigned nval)
{
	char b[ANALYZE_VAL_MAX];

	for (unsigned i = 0; i < n; i++)
		table__cell(t, "%s", i < nval ? analyze__val(o, v[i], 0, b, sizeof(b)) : v[i]);
}

/* The local callers' rows of endpoint e: same port, method and route. */
static bool client_of(const struct run_out_call *c, const struct run_endpoint *e)
{
	return c->local && e->port >= 0 && peer_port(c->peer) == e->port &&
	       !strcmp(c->method, e->method) && !strcmp(c->route, e->route) && c->answered;
}

const char runreport__client_align[] = "llrrrrrrr";
const char *const runreport__client_titles[RUNREPORT_CLIENT_COLS] = {
	"Endpoint",	 "Client",	  "Calls",	"Client p50 ms", "Client p95 ms",
	"Server p50 ms", "Server p95 ms", "Gap p50 ms", "Gap p95 ms"
};
const char runreport__client_gap[] = "gap: the client's percentile minus the server's: network, "
				     "queues and the client's own time";

bool runreport__client_pair(const struct run *r, unsigned *ep, unsigned *call)
{
	for (; *ep < r->neps; (*ep)++, *call = 0)
		for (; *call < r->nouts; (*call)++)
			if (client_of(&r->outs[*call], &r->eps[*ep]))
				return true;
	return false;
}

void runreport__client_cells(const struct run_endpoint *e, const struct run_out_call *x,
			     char (*v)[RUNREPORT_CELL])
{
	double s50 = pctl(e->hist, 50), s95 = pctl(e->hist, 95);
	double c50 = pctl(x->hist, 50), c95 = pctl(x->hist, 95);

	run__endpoint_name(e, v[0], RUNREPORT_CELL);
	snprintf(v[1], RUNREPORT_CELL, "%s", x->caller);
	snprintf(v[2], RUNREPORT_CELL, "%llu", (unsigned long long)x->answered);
	units__ms(c50, v[3], RUNREPORT_CELL);
	units__ms(c95, v[4], RUNREPORT_CELL);
	units__ms(s50, v[5], RUNREPORT_CELL);
	units__ms(s95, v[6], RUNREPORT_CELL);
	units__ms(c50 - s50, v[7], RUNREPORT_CELL);
	units__ms(c95 - s95, v[8], RUNREPORT_CELL);
}

void runreport__client_view(struct analyze_out *o, const struct run *r)
{
	static const char *const head[] = { "ENDPOINT",	  "CLIENT", "CALLS",   "CLIENT P50", "P95",
					    "SERVER P50", "P95",    "GAP P50", "GAP P95" };
	char v[RUNREPORT_CLIENT_COLS][RUNREPORT_CELL];
	unsigned ep = 0, call = 0;
	struct table t;

	if (!runreport__client_pair(r, &ep, &call))
		return;
	analyze__heading(o, analyze__md(o) ? "Endpoints as their clients saw them"
					   : "Client view of endpoints (latency in ms)");
	table__init(&t, runreport__client_align, analyze__md(o) ? runreport__client_titles : head);
	for (; runreport__client_pair(r, &ep, &call); call++) {
		runreport__client_cells(&r->eps[ep], &r->outs[call], v);
		row(o, &t, v, RUNREPORT_CLIENT_COLS, 2);
	}
	analyze__table(o, &t);
	if (analyze__md(o))
		fputc('\n', o->f);
	analyze__para(o, "%s", runreport__client_gap);
}

/* "2 timeout, 1 reset" of a row's failures, "-" without any. */
static const char *failures_cell(const struct run_out_call *c, char *buf, size_t sz)
{
	size_t n = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < c->failures.n && n < sz; i++)
		if (c->failures.v[i].n)
			n += snprintf(buf + n, sz - n, "%s%llu %s", n ? ", " : "",
				      (unsigned long long)c->failures.v[i].n, c->failures.v[i].key);
	if (!buf[0])
		snprintf(buf, sz, "-");
	return buf;
}

/* ms, or "-" when there is nothing to measure (no answered call, no connect, no retry). */
static void ms_cell(bool shown, double ms, char *buf)
{
	if (shown)
		units__ms(ms, buf, RUNREPORT_CELL);
	else
		snprintf(buf, RUNREPORT_CELL, "-");
}

const char runreport__call_align[] = "lllrrrrrlrr";
const char *const runreport__call_titles[RUNREPORT_CALL_COLS] = {
	"Caller", "Destination", "Call",   "Calls",   "p50 ms",	       "p95 ms",
	"p99 ms", "5xx",	 "Failed", "Retries", "Connect p50 ms"
};

void runreport__call_cells(const struct run_out_call *x, char (*v)[RUNREPORT_CELL])
{
	snprintf(v[0], RUNREPORT_CELL, "%s", x->caller);
	snprintf(v[1], RUNREPORT_CELL, "%s%s", dest_of(x->host, x->peer), x->tls ? " (tls)" : "");
	if (x->method[0])
		snprintf(v[2], RUNREPORT_CELL, "%s %s", x->method, x->route);
	else
		snprintf(v[2], RUNREPORT_CELL, "(connect)");
	snprintf(v[3], RUNREPORT_CELL, "%llu", (unsigned long long)x->count);
	/* Only answered calls are in the histogram. */
	ms_cell(x->answered, pctl(x->hist, 50), v[4]);
	ms_cell(x->answered, pctl(x->hist, 95), v[5]);
	ms_cell(x->answered, pctl(x->hist, 99), v[6]);
	snprintf(v[7], RUNREPORT_CELL, "%llu", (unsigned long long)x->err5xx);
	failures_cell(x, v[8], RUNREPORT_CELL);
	snprintf(v[9], RUNREPORT_CELL, "%llu", (unsigned long long)x->retries);
	ms_cell(x->connect, pctl(x->connect, 50), v[10]);
}

void runreport__outbound(struct analyze_out *o, const struct run *r)
{
	static const char *const head[] = { "CALLER", "DESTINATION", "CALL",	   "COUNT",
					    "P50",    "P95",	     "P99",	   "5XX",
					    "FAILED", "RETRIES",     "CONNECT P50" };
	char v[RUNREPORT_CALL_COLS][RUNREPORT_CELL];
	struct table t;

	/* Nothing without a call: the report of an HTTP run stays as it was. */
	if (!r->nouts)
		return;
	analyze__heading(o, analyze__md(o) ? "Outbound HTTP calls"
					   : "Outbound HTTP calls (latency in ms)");
	table__init(&t, runreport__call_align, analyze__md(o) ? runreport__call_titles : head);
	for (unsigned i = 0; i < r->nouts && i < CALLS_TOP; i++) {
		runreport__call_cells(&r->outs[i], v);
		row(o, &t, v, RUNREPORT_CALL_COLS, 3);
	}
	analyze__table(o, &t);
	if (r->nouts > CALLS_TOP) {
		if (analyze__md(o))
			fputc('\n', o->f);
		analyze__para(o, "%u more rows in the JSON report", r->nouts - CALLS_TOP);
	}
}

const char runreport__retry_align[] = "llrrrrrrr";
const char *const runreport__retry_titles[RUNREPORT_RETRY_COLS] = {
	"Caller",	 "Destination",		  "Attempts",		"Failed",
	"Retries",	 "Chains that succeeded", "Chains that failed", "Backoff p50 ms",
	"Backoff max ms"
};

bool runreport__retries_shown(const struct run *r)
{
	for (unsigned i = 0; i < r->nout_dests; i++)
		if (r->out_dests[i].failed)
			return true;
	return false;
}

void runreport__retry_cells(const struct run_out_dest *d, char (*v)[RUNREPORT_CELL])
{
	snprintf(v[0], RUNREPORT_CELL, "%s", d->caller);
	snprintf(v[1], RUNREPORT_CELL, "%s", dest_of(d->host, d->peer));
	snprintf(v[2], RUNREPORT_CELL, "%llu", (unsigned long long)d->attempts);
	snprintf(v[3], RUNREPORT_CELL, "%llu", (unsigned long long)d->failed);
	snprintf(v[4], RUNREPORT_CELL, "%llu", (unsigned long long)d->retries);
	snprintf(v[5], RUNREPORT_CELL, "%llu", (unsigned long long)d->retry_success);
	snprintf(v[6], RUNREPORT_CELL, "%llu", (unsigned long long)d->retry_exhausted);
	ms_cell(d->backoff, pctl(d->backoff, 50), v[7]);
	ms_cell(d->backoff, d->backoff ? d->backoff->max / 1e6 : 0, v[8]);
}

void runreport__retries(struct analyze_out *o, const struct run *r)
{
	static const char *const head[] = { "CALLER",	 "DESTINATION", "ATTEMPTS",
					    "FAILED",	 "RETRIES",	"RETRY OK",
					    "EXHAUSTED", "BACKOFF P50", "BACKOFF MAX" };
	char v[RUNREPORT_RETRY_COLS][RUNREPORT_CELL];
	struct table t;

	if (!runreport__retries_shown(r))
		return;
	analyze__heading(o, analyze__md(o) ? "Failures and retries per destination"
					   : "Retries per destination (backoff in ms)");
	table__init(&t, runreport__retry_align, analyze__md(o) ? runreport__retry_titles : head);
	for (unsigned i = 0; i < r->nout_dests; i++) {
		if (!r->out_dests[i].failed)
			continue;
		runreport__retry_cells(&r->out_dests[i], v);
		row(o, &t, v, RUNREPORT_RETRY_COLS, 2);
	}
	analyze__table(o, &t);
}
