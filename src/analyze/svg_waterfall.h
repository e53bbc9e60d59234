/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * A waterfall: one request on a time axis from its start to its end, its own bar on top and
 * one bar per thing it did below (a query, a Redis command, an outbound call), coloured by
 * kind, each with its label on the left and its details in a tooltip (<title>). Fits 680 px
 * (viewBox, width 100 %): labels are cut to WF_LABEL characters of a monospace font, so
 * nothing overflows. Self-contained SVG, well-formed XML.
 */
#ifndef SLOPROBE_SVG_WATERFALL_H
#define SLOPROBE_SVG_WATERFALL_H

#include <stdio.h>

#define WF_LABEL 52 /* label characters shown */

enum wf_kind { WF_QUERY, WF_CACHE, WF_HTTP, WF_KIND_NR };

/* How sure its attribution is: solid (exact, thread), lighter (handoff), faint (shared). */
enum wf_shade { WF_SOLID, WF_HANDOFF, WF_SHARED };

struct wf_bar {
	const char *label;  /* cut to WF_LABEL */
	const char *detail; /* the tooltip, whole */
	double start_ms, dur_ms;
	int kind;  /* enum wf_kind */
	int shade; /* enum wf_shade */
	int group; /* > 1: the first of a run of this many identical bars ("20x" drawn beside) */
};

/*
 * The waterfall of a request of total_ms with n bars; title is the chart's accessible name,
 * top its own bar's label.
 */
void svg__waterfall(FILE *f, const char *title, const char *top, double total_ms,
		    const struct wf_bar *bars, unsigned n);

#endif
