// SPDX-License-Identifier: GPL-2.0-only
/*
 * What `sloprobe report` shows of the exemplars (requests kept whole): per endpoint, one line
 * per request, slowest first, saying what it did ("21 queries (20 x q3a1f0c2d N+1 run 640 ms),
 * 1 cache miss"). The HTML draws the same requests as waterfalls (runhtml_exemplars.c); the
 * summary of one request is shared with it.
 */
#include <stdio.h>
#include <string.h>

#include "analyze/analyze.h"
#include "analyze/runreport.h"
#include "lib/units.h"

void runreport__exemplar_sum(const struct run_exemplar *e, struct runreport_exsum *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned i = 0; i < e->nspans; i++) {
		const struct run_span *sp = &e->spans[i];
		unsigned j = i + 1;
		double end;

		s->n[sp->kind]++;
		s->errors += sp->error;
		if (sp->kind == RUN_SPAN_CACHE && sp->hit == 0)
			s->misses++;
		if (sp->kind != RUN_SPAN_QUERY)
			continue;
		/* A run: the same query back to back (spans are in the order they started). */
		end = sp->start_ms + sp->duration_ms;
		while (j < e->nspans && e->spans[j].kind == RUN_SPAN_QUERY &&
		       !strcmp(e->spans[j].query_id, sp->query_id)) {
			double x = e->spans[j].start_ms + e->spans[j].duration_ms;

			end = x > end ? x : end;
			j++;
		}
		if (j - i > s->run_n) {
			s->run_n = j - i;
			s->run_first = i;
			s->run_ms = end - sp->start_ms;
		}
	}
}

/* "21 queries (20 x q3a1f0c2d N+1 run 640.0 ms), 1 cache miss, 2 outbound calls". */
void runreport__exemplar_line(const struct run_exemplar *e, char *buf, size_t sz)
{
	static const char *const what[RUN_SPAN_NR] = { "quer", "cache call", "outbound call" };
	struct runreport_exsum s;
	char ms[32];
	size_t n = 0;

	runreport__exemplar_sum(e, &s);
	buf[0] = '\0';
	for (int k = 0; k < RUN_SPAN_NR && n < sz; k++) {
		if (!s.n[k])
			continue;
		n += snprintf(buf + n, sz - n, "%s%u %s%s", n ? ", " : "", s.n[k], what[k],
			      k ? (s.n[k] == 1 ? "" : "s") : (s.n[k] == 1 ? "y" : "ies"));
		if (k == RUN_SPAN_QUERY && s.run_n >= RUNREPORT_RUN_MIN && n < sz)
			n += snprintf(buf + n, sz - n, " (%u x q%.8s N+1 run %s ms)", s.run_n,
				      e->spans[s.run_first].query_id,
				      units__ms(s.run_ms, ms, sizeof(ms)));
	}
	if (s.misses && n < sz)
		n += snprintf(buf + n, sz - n, "%s%u cache miss%s", n ? ", " : "", s.misses,
			      s.misses == 1 ? "" : "es");
	if (s.errors && n < sz)
		n += snprintf(buf + n, sz - n, "%s%u failed", n ? ", " : "", s.errors);
	if (e->spans_cut && n < sz)
		n += snprintf(buf + n, sz - n, "%s%llu not kept", n ? ", " : "",
			      (unsigned long long)e->spans_cut);
	if (!n)
		snprintf(buf, sz, "nothing traced inside");
}

void runreport__exemplars(struct analyze_out *o, const struct run *r)
{
	char v[ANALYZE_VAL_MAX], w[ANALYZE_VAL_MAX], s[ANALYZE_VAL_MAX], line[512], ms[32];
	int last = -1;

	if (!r->nexemplars)
		return;
	analyze__heading(o, "Slowest requests, whole (exemplars)");
	for (unsigned i = 0; i < r->nexemplars; i++) {
		const struct run_exemplar *e = &r->exemplars[i];

		if (e->ep != last) {
			fprintf(o->f, "%s%s on %s\n", analyze__md(o) ? "- " : "  ",
				analyze__val(o, run__endpoint_name(&r->eps[e->ep], w, sizeof(w)), 0,
					     v, sizeof(v)),
				analyze__val(o, e->service, 0, s, sizeof(s)));
			last = e->ep;
		}
		runreport__exemplar_line(e, line, sizeof(line));
		fprintf(o->f, "%s%-7s %9s ms  status %u  at %.3f s  %s (%s)\n",
			analyze__md(o) ? "  - " : "    ", e->pick,
			units__ms(e->latency_ms, ms, sizeof(ms)), e->status, e->t_s, line,
			e->attribution);
	}
}
