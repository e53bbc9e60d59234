// SPDX-License-Identifier: GPL-2.0-only
/*
 * The HTML report's exemplars: per endpoint (id "exemplars-<its index in http>") each request
 * kept whole (id "exemplar-<its index in exemplars>"), a line saying what it did and its
 * waterfall (svg_waterfall.c), so that an N+1 is seen as its 20 bars.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/analyze.h"
#include "analyze/html.h"
#include "analyze/runreport.h"
#include "analyze/svg_waterfall.h"
#include "lib/units.h"

#define WF_ENDPOINTS 50 /* endpoints whose exemplars are drawn; the others get their lines */
#define TEXT_MAX     1200

static int shade_of(const char *attribution)
{
	if (!strcmp(attribution, "shared"))
		return WF_SHARED;
	return strcmp(attribution, "handoff") ? WF_SOLID : WF_HANDOFF;
}

/* The bar of one span: its label and its tooltip, in the caller's buffers. */
static void span_bar(const struct run *r, const struct run_span *sp, struct wf_bar *b, char *lbl,
		     char *detail)
{
	const struct run_dbq *q;
	char at[32], dur[32], st[16];

	units__ms_label(sp->start_ms, at, sizeof(at));
	units__ms_label(sp->duration_ms, dur, sizeof(dur));
	b->start_ms = sp->start_ms;
	b->dur_ms = sp->duration_ms;
	b->shade = shade_of(sp->attribution);
	switch (sp->kind) {
	case RUN_SPAN_QUERY:
		b->kind = WF_QUERY;
		q = run__find_query(r, sp->query_id);
		snprintf(lbl, TEXT_MAX, "%s", q && q->query ? q->query : sp->query_id);
		snprintf(detail, TEXT_MAX, "query %s, %s at +%s (%s): %s", sp->query_id, dur, at,
			 sp->attribution, q && q->query ? q->query : "(not in the db table)");
		break;
	case RUN_SPAN_CACHE:
		b->kind = WF_CACHE;
		snprintf(lbl, TEXT_MAX, "%s %s%s%s", sp->verb ? sp->verb : "?",
			 sp->key ? sp->key : "?",
			 sp->hit == 0	? " (miss)"
			 : sp->hit == 1 ? " (hit)"
					: "",
			 sp->error ? " error" : "");
		snprintf(detail, TEXT_MAX, "Redis %s %s, %s at +%s (%s)", sp->verb ? sp->verb : "?",
			 sp->key ? sp->key : "?", dur, at, sp->attribution);
		break;
	default:
		b->kind = WF_HTTP;
		if (sp->status)
			snprintf(st, sizeof(st), " %u", sp->status);
		else
			snprintf(st, sizeof(st), " no answer");
		snprintf(lbl, TEXT_MAX, "%s %s%s%s%s", sp->method, sp->destination, sp->route, st,
			 sp->error ? " failed" : "");
		snprintf(detail, TEXT_MAX, "outbound %s %s%s%s, %s at +%s (%s)", sp->method,
			 sp->destination, sp->route, st, dur, at, sp->attribution);
		break;
	}
}

static int waterfall(FILE *f, const struct run *r, const struct run_exemplar *e)
{
	struct wf_bar *b = calloc(e->nspans + 1, sizeof(*b));
	char *text = malloc((size_t)(e->nspans + 1) * 2 * TEXT_MAX);
	char title[1200], top[400], ep[300], lat[32];
	int err = 0;

	if (!b || !text) {
		err = -ENOMEM;
		goto out;
	}
	for (unsigned i = 0; i < e->nspans; i++) {
		char *lbl = text + (size_t)i * 2 * TEXT_MAX;

		span_bar(r, &e->spans[i], &b[i], lbl, lbl + TEXT_MAX);
		b[i].label = lbl;
		b[i].detail = lbl + TEXT_MAX;
	}
	/* Runs of one query back to back: their first bar says how many (all are drawn). */
	for (unsigned i = 0; i < e->nspans;) {
		unsigned j = i + 1;

		while (e->spans[i].kind == RUN_SPAN_QUERY && j < e->nspans &&
		       e->spans[j].kind == RUN_SPAN_QUERY &&
		       !strcmp(e->spans[j].query_id, e->spans[i].query_id))
			j++;
		if (j - i >= RUNREPORT_RUN_MIN)
			b[i].group = (int)(j - i);
		i = j;
	}
	run__endpoint_name(&r->eps[e->ep], ep, sizeof(ep));
	units__ms_label(e->latency_ms, lat, sizeof(lat));
	snprintf(top, sizeof(top), "%s %s, status %u", ep, lat, e->status);
	snprintf(title, sizeof(title), "%s on %s: %s (%s), status %u, %u spans", ep, e->service,
		 lat, e->pick, e->status, e->nspans);
	html__figure_begin(f);
	svg__waterfall(f, title, top, e->latency_ms, b, e->nspans);
	html__figure_end(f, NULL);
out:
	free(b);
	free(text);
	return err;
}

int runhtml__exemplars(FILE *f, const struct run *r)
{
	char name[300], id[32], line[600], lat[32], p[800];
	unsigned neps = 0;
	int last = -1, err = 0;

	if (!r->nexemplars)
		return 0;
	html__section_begin(f, 2, "Slowest requests, whole", "exemplars");
	html__p(f, "muted",
		"Per endpoint its slowest requests and typical ones (near p50 and p95), each on "
		"its own time axis: one bar per query, Redis command (red) and outbound call "
		"(green); queries blue. Faint bars are shared among requests in flight, lighter "
		"ones followed through a thread-pool hand-off (docs/exemplars.md).");
	for (unsigned i = 0; i < r->nexemplars && !err; i++) {
		const struct run_exemplar *e = &r->exemplars[i];

		if (e->ep != last) {
			if (last >= 0)
				html__section_end(f);
			snprintf(id, sizeof(id), "exemplars-%d", e->ep);
			snprintf(name, sizeof(name), "%s on %s",
				 run__endpoint_name(&r->eps[e->ep], line, sizeof(line)),
				 e->service);
			html__section_begin(f, 3, name, id);
			last = e->ep;
			neps++;
		}
		runreport__exemplar_line(e, line, sizeof(line));
		snprintf(p, sizeof(p), "%s: %s ms, status %u, at %.3f s: %s (attribution %s)",
			 e->pick, units__ms(e->latency_ms, lat, sizeof(lat)), e->status, e->t_s,
			 line, e->attribution);
		fprintf(f, "<div id=\"exemplar-%u\">\n", i);
		html__p(f, NULL, p);
		if (neps <= WF_ENDPOINTS)
			err = waterfall(f, r, e);
		fputs("</div>\n", f);
	}
	if (last >= 0)
		html__section_end(f);
	if (neps > WF_ENDPOINTS)
		html__p(f, "muted", "waterfalls for the first 50 endpoints only");
	html__section_end(f);
	return err;
}
