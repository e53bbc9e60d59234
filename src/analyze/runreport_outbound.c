// SPDX-License-Identifier: GPL-2.0-only
/*
 * The outbound HTTP sections of `sloprobe report`: the client's view of the traced endpoints
 * (callers on the same host, a load generator among them), the calls by destination and
 * route, and the retries per destination (calls per endpoint are in runreport_cache.c's
 * dependency lines). Its own file because these read the
 * outbound part of a run only.
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

/* The local callers' rows of endpoint e: same port, method and route. */
static bool client_of(const struct run_out_call *c, const struct run_endpoint *e)
{
	return c->local && e->port >= 0 && peer_port(c->peer) == e->port &&
	       !strcmp(c->method, e->method) && !strcmp(c->route, e->route) && c->answered;
}

void runreport__client_view(struct analyze_out *o, const struct run *r)
{
	static const char *const head[] = { "ENDPOINT",	  "CLIENT", "CALLS",   "CLIENT P50", "P95",
					    "SERVER P50", "P95",    "GAP P50", "GAP P95" };
	static const char *const mdhead[] = { "Endpoint",      "Client",	"Calls",
					      "Client p50 ms", "Client p95 ms", "Server p50 ms",
					      "Server p95 ms", "Gap p50 ms",	"Gap p95 ms" };
	char a[48], b[ANALYZE_VAL_MAX], c[ANALYZE_VAL_MAX];
	struct table t;
	bool any = false;

	for (unsigned i = 0; i < r->neps && !any; i++)
		for (unsigned k = 0; k < r->nouts && !any; k++)
			any = client_of(&r->outs[k], &r->eps[i]);
	if (!any)
		return;
	analyze__heading(o, analyze__md(o) ? "Endpoints as their clients saw them"
					   : "Client view of endpoints (latency in ms)");
	table__init(&t, "llrrrrrrr", analyze__md(o) ? mdhead : head);
	for (unsigned i = 0; i < r->neps; i++) {
		const struct run_endpoint *e = &r->eps[i];
		double s50 = pctl(e->hist, 50), s95 = pctl(e->hist, 95);

		for (unsigned k = 0; k < r->nouts; k++) {
			const struct run_out_call *x = &r->outs[k];
			double c50, c95;

			if (!client_of(x, e))
				continue;
			c50 = pctl(x->hist, 50);
			c95 = pctl(x->hist, 95);
			table__cell(&t, "%s",
				    analyze__val(o, run__endpoint_name(e, c, sizeof(c)), 0, b,
						 sizeof(b)));
			table__cell(&t, "%s", analyze__val(o, x->caller, 0, b, sizeof(b)));
			table__cell(&t, "%llu", (unsigned long long)x->answered);
			table__cell(&t, "%s", units__ms(c50, a, sizeof(a)));
			table__cell(&t, "%s", units__ms(c95, a, sizeof(a)));
			table__cell(&t, "%s", units__ms(s50, a, sizeof(a)));
			table__cell(&t, "%s", units__ms(s95, a, sizeof(a)));
			table__cell(&t, "%s", units__ms(c50 - s50, a, sizeof(a)));
			table__cell(&t, "%s", units__ms(c95 - s95, a, sizeof(a)));
		}
	}
	analyze__table(o, &t);
	if (analyze__md(o))
		fputc('\n', o->f);
	analyze__para(o, "gap: the client's percentile minus the server's: network, queues and "
			 "the client's own time");
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

void runreport__outbound(struct analyze_out *o, const struct run *r)
{
	static const char *const head[] = { "CALLER", "DESTINATION", "CALL",	   "COUNT",
					    "P50",    "P95",	     "P99",	   "5XX",
					    "FAILED", "RETRIES",     "CONNECT P50" };
	static const char *const mdhead[] = { "Caller", "Destination", "Call",		"Calls",
					      "p50 ms", "p95 ms",      "p99 ms",	"5xx",
					      "Failed", "Retries",     "Connect p50 ms" };
	char a[48], b[ANALYZE_VAL_MAX], c[ANALYZE_VAL_MAX], f[160];
	struct table t;

	/* Nothing without a call: the report of an HTTP run stays as it was. */
	if (!r->nouts)
		return;
	analyze__heading(o, analyze__md(o) ? "Outbound HTTP calls"
					   : "Outbound HTTP calls (latency in ms)");
	table__init(&t, "lllrrrrrlrr", analyze__md(o) ? mdhead : head);
	for (unsigned i = 0; i < r->nouts && i < CALLS_TOP; i++) {
		const struct run_out_call *x = &r->outs[i];

		table__cell(&t, "%s", analyze__val(o, x->caller, 0, b, sizeof(b)));
		snprintf(c, sizeof(c), "%s%s", dest_of(x->host, x->peer), x->tls ? " (tls)" : "");
		table__cell(&t, "%s", analyze__val(o, c, 0, b, sizeof(b)));
		if (x->method[0])
			snprintf(c, sizeof(c), "%s %s", x->method, x->route);
		else
			snprintf(c, sizeof(c), "(connect)");
		table__cell(&t, "%s", analyze__val(o, c, 0, b, sizeof(b)));
		table__cell(&t, "%llu", (unsigned long long)x->count);
		if (x->answered) {
			table__cell(&t, "%s", units__ms(pctl(x->hist, 50), a, sizeof(a)));
			table__cell(&t, "%s", units__ms(pctl(x->hist, 95), a, sizeof(a)));
			table__cell(&t, "%s", units__ms(pctl(x->hist, 99), a, sizeof(a)));
		} else {
			table__cell(&t, "-");
			table__cell(&t, "-");
			table__cell(&t, "-");
		}
		table__cell(&t, "%llu", (unsigned long long)x->err5xx);
		table__cell(&t, "%s", failures_cell(x, f, sizeof(f)));
		table__cell(&t, "%llu", (unsigned long long)x->retries);
		if (x->connect)
			table__cell(&t, "%s", units__ms(pctl(x->connect, 50), a, sizeof(a)));
		else
			table__cell(&t, "-");
	}
	analyze__table(o, &t);
	if (r->nouts > CALLS_TOP) {
		if (analyze__md(o))
			fputc('\n', o->f);
		analyze__para(o, "%u more rows in the JSON report", r->nouts - CALLS_TOP);
	}
}

void runreport__retries(struct analyze_out *o, const struct run *r)
{
	static const char *const head[] = { "CALLER",	 "DESTINATION", "ATTEMPTS",
					    "FAILED",	 "RETRIES",	"RETRY OK",
					    "EXHAUSTED", "BACKOFF P50", "BACKOFF MAX" };
	static const char *const mdhead[] = {
		"Caller",	 "Destination",		  "Attempts",		"Failed",
		"Retries",	 "Chains that succeeded", "Chains that failed", "Backoff p50 ms",
		"Backoff max ms"
	};
	char a[48], b[ANALYZE_VAL_MAX];
	struct table t;
	unsigned n = 0;

	for (unsigned i = 0; i < r->nout_dests; i++)
		n += r->out_dests[i].failed > 0;
	if (!n)
		return;
	analyze__heading(o, analyze__md(o) ? "Failures and retries per destination"
					   : "Retries per destination (backoff in ms)");
	table__init(&t, "llrrrrrrr", analyze__md(o) ? mdhead : head);
	for (unsigned i = 0; i < r->nout_dests; i++) {
		const struct run_out_dest *d = &r->out_dests[i];

		if (!d->failed)
			continue;
		table__cell(&t, "%s", analyze__val(o, d->caller, 0, b, sizeof(b)));
		table__cell(&t, "%s", analyze__val(o, dest_of(d->host, d->peer), 0, b, sizeof(b)));
		table__cell(&t, "%llu", (unsigned long long)d->attempts);
		table__cell(&t, "%llu", (unsigned long long)d->failed);
		table__cell(&t, "%llu", (unsigned long long)d->retries);
		table__cell(&t, "%llu", (unsigned long long)d->retry_success);
		table__cell(&t, "%llu", (unsigned long long)d->retry_exhausted);
		if (d->backoff) {
			table__cell(&t, "%s", units__ms(pctl(d->backoff, 50), a, sizeof(a)));
			table__cell(&t, "%s", units__ms(d->backoff->max / 1e6, a, sizeof(a)));
		} else {
			table__cell(&t, "-");
			table__cell(&t, "-");
		}
	}
	analyze__table(o, &t);
}
